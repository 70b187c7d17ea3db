#!/usr/bin/env python3
"""Static checks of the deployment files that have no registry-installable tool:

  deploy_checks.py compose FILE        structure of a compose file (when `docker compose` is absent)
  deploy_checks.py render OVERLAY      kustomize an overlay (when `kubectl` is absent), to stdout
  deploy_checks.py jenkinsfile FILE    structure of a declarative Jenkinsfile

`render` understands what deploy/k8s uses: resources (files and directories), namespace,
labels, images and JSON 6902 patches with a kind/name target.
"""
import copy
import os
import re
import sys

import yaml


def fail(message):
    print(f"deploy_checks: {message}", file=sys.stderr)
    sys.exit(1)


def check_compose(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    services = doc.get("services") or fail("no services")
    for needed in ("api", "worker", "postgres", "redis", "migrate"):
        if needed not in services:
            fail(f"{path}: no `{needed}` service")
    for name, service in services.items():
        if "image" not in service and "build" not in service:
            fail(f"{name}: neither image nor build")
        for dependency, condition in (service.get("depends_on") or {}).items():
            if dependency not in services:
                fail(f"{name} depends on unknown service {dependency}")
            wanted = condition.get("condition")
            if wanted not in ("service_started", "service_healthy", "service_completed_successfully"):
                fail(f"{name}: depends_on {dependency} has condition {wanted!r}")
            if wanted == "service_healthy" and not services[dependency].get("healthcheck"):
                fail(f"{name} waits for {dependency} to be healthy, which has no health check")
    if services["api"].get("healthcheck", {}).get("disable"):
        fail("the api has no health check")
    print(f"{path}: {len(services)} services, dependencies and health checks consistent")


def load_documents(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def patch_json6902(doc, operations):
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1]
        key = int(last) if isinstance(parent, list) else last
        if op["op"] in ("replace", "add"):
            if op["op"] == "replace" and (key not in parent if isinstance(parent, dict) else key >= len(parent)):
                fail(f"replace of a missing path {op['path']}")
            parent[key] = op["value"]
        elif op["op"] == "remove":
            del parent[key]
        else:
            fail(f"unsupported patch op {op['op']}")


def render(directory):
    with open(os.path.join(directory, "kustomization.yaml")) as f:
        kustomization = yaml.safe_load(f)
    documents = []
    for resource in kustomization.get("resources", []):
        path = os.path.join(directory, resource)
        documents += render(path) if os.path.isdir(path) else load_documents(path)
    for entry in kustomization.get("labels", []):
        for doc in documents:
            doc.setdefault("metadata", {}).setdefault("labels", {}).update(entry["pairs"])
    for image in kustomization.get("images", []):
        for doc in documents:
            spec = doc.get("spec", {})
            pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get("template", {}).get("spec") or {}
            for container in pod.get("containers", []):
                if container["image"].split(":")[0] in (image["name"], image.get("newName")):
                    container["image"] = f"{image.get('newName', image['name'])}:{image.get('newTag', 'latest')}"
    for patch in kustomization.get("patches", []):
        target = patch["target"]
        matched = [d for d in documents if d["kind"] == target["kind"] and d["metadata"]["name"] == target["name"]]
        if not matched:
            fail(f"{directory}: the patch target {target} matches nothing")
        for doc in matched:
            patch_json6902(doc, yaml.safe_load(patch["patch"]))
    if "namespace" in kustomization:
        for doc in documents:
            doc["metadata"]["namespace"] = kustomization["namespace"]
    return documents


def check_jenkinsfile(path):
    with open(path) as f:
        text = f.read()
    # Braces must balance outside strings and comments.
    stripped = re.sub(r"'''.*?'''|\"\"\".*?\"\"\"", "", text, flags=re.S)
    stripped = re.sub(r"//[^\n]*|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"", "", stripped)
    depth = 0
    for char in stripped:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            fail(f"{path}: a `}}` closes nothing")
    if depth:
        fail(f"{path}: {depth} unclosed `{{`")
    if not re.search(r"^pipeline\s*\{", text, flags=re.M):
        fail(f"{path}: not a declarative pipeline")
    for needed in (r"\bagent\b", r"\bstages\s*\{"):
        if not re.search(needed, text):
            fail(f"{path}: no {needed}")
    stages = re.findall(r"stage\('([^']+)'\)", text)
    for needed in ("Lint", "Test", "Licences and advisories", "Deployment files", "Image", "Deploy"):
        if needed not in stages:
            fail(f"{path}: no stage {needed!r}")
    print(f"{path}: declarative pipeline with stages {', '.join(stages)}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        fail(__doc__)
    command, argument = sys.argv[1:]
    if command == "compose":
        check_compose(argument)
    elif command == "render":
        yaml.safe_dump_all(copy.deepcopy(render(argument)), sys.stdout, sort_keys=False)
    elif command == "jenkinsfile":
        check_jenkinsfile(argument)
    else:
        fail(__doc__)
