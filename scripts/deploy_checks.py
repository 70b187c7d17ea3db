#!/usr/bin/env python3
"""Static checks of the deployment files that have no registry-installable tool:

  deploy_checks.py compose FILE        structure of a compose file (when `docker compose` is absent)
  deploy_checks.py render OVERLAY      kustomize an overlay (when `kubectl` is absent), to stdout
  deploy_checks.py jenkinsfile FILE    structure of a declarative Jenkinsfile, and what it holds
  deploy_checks.py policies FILE       what an operator needs of rendered Kubernetes manifests
  deploy_checks.py workflows DIR       GitHub workflows: pinned actions, release after CI, permissions

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
    with open(path) as f:
        text = f.read()
    for secret in re.findall(r"\$\{(\w*PASSWORD\w*|\w*SECRET\w*)(:?-)", text):
        fail(f"{path}: ${{{secret[0]}}} falls back to a default; require it (`:?`)")
    for name, service in services.items():
        for port in service.get("ports") or []:
            published = str(port)
            if published.count(":") < 2 and published.split(":")[-1] != "8080":
                fail(f"{name}: port {published} is published on every interface; bind it to 127.0.0.1")
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
            for container in pod.get("containers", []) + pod.get("initContainers", []):
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
    if not re.search(r"^\s*agent\s+none\b", text, flags=re.M):
        fail(f"{path}: the pipeline holds an agent (an executor) for its whole run, approval included")
    if re.search(r"-p\s+(127\.0\.0\.1:)?\d+:\d+", text):
        fail(f"{path}: a fixed host port: two builds on one agent collide")
    for client in ("postgresql-client", "mariadb-client"):
        if client not in text:
            fail(f"{path}: ./scripts/test needs {client}, which nothing installs")
    print(f"{path}: declarative pipeline with stages {', '.join(stages)}")


def pod_specs(documents):
    for doc in documents:
        spec = doc.get("spec", {})
        pod = spec.get("template", {}).get("spec")
        if pod:
            yield doc, pod


def check_policies(path):
    documents = load_documents(path)
    by_kind = {}
    for doc in documents:
        by_kind.setdefault(doc["kind"], []).append(doc)
    scaled = {hpa["spec"]["scaleTargetRef"]["name"] for hpa in by_kind.get("HorizontalPodAutoscaler", [])}
    config = {}
    for map_ in by_kind.get("ConfigMap", []):
        config.update(map_.get("data") or {})
    for doc, pod in pod_specs(documents):
        name, kind = doc["metadata"]["name"], doc["kind"]
        if kind == "Deployment" and name in scaled and "replicas" in doc["spec"]:
            fail(f"{path}: {name} sets replicas while an autoscaler owns them")
        containers = pod.get("containers", []) + pod.get("initContainers", [])
        for container in containers:
            image = container["image"]
            tag = image.split("@")[0].rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else "latest"
            pinned = "@sha256:" in image or tag.startswith("sha-")
            if not pinned and container.get("imagePullPolicy") != "Always":
                fail(f"{path}: {name}/{container['name']} runs the moving tag {tag!r} without imagePullPolicy: Always")
        for container in pod.get("containers", []):
            probe = (container.get("livenessProbe") or {}).get("httpGet") or {}
            if probe.get("path") == "/metrics":
                fail(f"{path}: {name} probes liveness on /metrics, which wants a token once one is set")
            readiness = container.get("readinessProbe")
            if readiness and readiness.get("failureThreshold", 3) < 2:
                fail(f"{path}: {name} turns unready on one slow probe")
            args = container.get("args") or []
            if kind == "Deployment" and ("serve" in args or "worker" in args):
                if config.get("QUIRE_MIGRATE_ON_START") != "false":
                    fail(f"{path}: {name} migrates on start beside the migration Job")
                if not any("await-schema" in (c.get("args") or []) for c in pod.get("initContainers", [])):
                    fail(f"{path}: {name} does not wait for the migration Job")
        if kind == "Deployment" and not pod.get("topologySpreadConstraints"):
            fail(f"{path}: {name} does not spread its replicas over nodes and zones")
    for pdb in by_kind.get("PodDisruptionBudget", []):
        if "minAvailable" in pdb["spec"]:
            fail(f"{path}: {pdb['metadata']['name']} uses minAvailable, which stops meaning much as the autoscaler adds pods; use maxUnavailable")
    for policy in by_kind.get("NetworkPolicy", []):
        for rule in policy["spec"].get("egress", []):
            ports = {p.get("port") for p in rule.get("ports", [])}
            if not rule.get("to"):
                fail(f"{path}: egress to ports {sorted(ports)} goes anywhere (no `to:`)")
            for peer in rule["to"]:
                block = peer.get("ipBlock")
                if block and block["cidr"] in ("0.0.0.0/0", "::/0") and not any(
                    cidr.startswith("169.254.") for cidr in block.get("except", [])
                ):
                    fail(f"{path}: egress to {sorted(ports)} reaches the metadata service 169.254.169.254")
    print(f"{path}: autoscaling, probes, migrations, spread, disruption budget, egress and images as an operator needs")


def check_workflows(directory):
    workflows = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith((".yml", ".yaml")):
            with open(os.path.join(directory, name)) as f:
                text = f.read()
            workflows[name] = (text, yaml.safe_load(text))
    for name, (text, doc) in workflows.items():
        for action in re.findall(r"uses:\s*([^\s#]+)", text):
            if not action.startswith("./") and not re.search(r"@[0-9a-f]{40}$", action):
                fail(f"{name}: {action} is pinned by a tag, not a commit")
        for job_name, job in (doc.get("jobs") or {}).items():
            granted = job.get("permissions") or {}
            if granted.get("security-events") == "write" and "upload-sarif" not in text:
                fail(f"{name}: job {job_name} asks for security-events: write and uploads no SARIF")
    release = workflows.get("release.yml")
    if release:
        triggers = release[1].get(True) or release[1].get("on") or {}
        if "workflow_run" not in triggers or "push" in triggers:
            fail("release.yml: runs beside CI instead of after it (on: workflow_run)")
    print(f"{directory}: {len(workflows)} workflows, actions pinned by commit, release after CI")


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
    elif command == "policies":
        check_policies(argument)
    elif command == "workflows":
        check_workflows(argument)
    else:
        fail(__doc__)
