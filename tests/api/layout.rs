//! The source layout ARCHITECTURE.md promises: no module imports one that imports it back.
//! Files are the nodes, `crate::…` and `super::…` paths (and `use crate::x;` then `x::…`) the
//! edges; a module naming its own ancestor is not an import (the ancestor declares it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

fn modules(dir: &Path, prefix: &Module, out: &mut BTreeMap<Module, String>) {
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let mut inner = prefix.clone();
            inner.push(name);
            modules(&path, &inner, out);
        } else if path.extension().is_some_and(|extension| extension == "rs")
            && !(prefix.is_empty() && name == "main")
        {
            // `main.rs` is the binary: a crate of its own over the library.
            let mut module = prefix.clone();
            if !["mod", "lib"].contains(&name.as_str()) {
                module.push(name);
            }
            out.insert(module, std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &[char], at: &mut usize) -> Option<String> {
    let start = *at;
    while *at < text.len() && (text[*at].is_alphanumeric() || text[*at] == '_') {
        *at += 1;
    }
    (*at > start).then(|| text[start..*at].iter().collect())
}

fn skip_space(text: &[char], at: &mut usize) {
    while *at < text.len() && text[*at].is_whitespace() {
        *at += 1;
    }
}

/// Every path a use tree starting at `at` names (`a::b`, `a::{b, c::{d}}`), each from `base`.
fn use_tree(text: &[char], at: &mut usize, base: Module, out: &mut Vec<Module>) {
    let mut path = base;
    loop {
        skip_space(text, at);
        if text.get(*at) == Some(&'{') {
            *at += 1;
            loop {
                skip_space(text, at);
                match text.get(*at) {
                    Some('}') | None => break,
                    Some(',') => *at += 1,
                    _ => {
                        let before = *at;
                        use_tree(text, at, path.clone(), out);
                        if *at == before {
                            *at += 1;
                        }
                    }
                }
            }
            *at += 1;
            return;
        }
        let Some(name) = identifier(text, at) else {
            out.push(path);
            return;
        };
        if name != "self" {
            path.push(name);
        }
        if text[*at..].starts_with(&[':', ':']) {
            *at += 2;
        } else {
            out.push(path);
            return;
        }
    }
}

/// The modules `module`'s code names, as full paths from the crate root.
fn references(module: &Module, code: &str) -> Vec<Module> {
    let text: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    while at < text.len() {
        let preceded = at > 0 && (text[at - 1].is_alphanumeric() || text[at - 1] == '_');
        let mut base = if !preceded && text[at..].starts_with(&['c', 'r', 'a', 't', 'e', ':', ':'])
        {
            at += 7;
            Some(Vec::new())
        } else {
            None
        };
        if base.is_none()
            && !preceded
            && text[at..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':'])
        {
            let mut parent = module.clone();
            while text[at..].starts_with(&['s', 'u', 'p', 'e', 'r', ':', ':']) {
                at += 7;
                parent.pop();
            }
            base = Some(parent);
        }
        match base {
            Some(base) => use_tree(&text, &mut at, base, &mut out),
            None => at += 1,
        }
    }
    out
}

fn longest_module(files: &BTreeMap<Module, String>, path: &Module) -> Option<Module> {
    (0..=path.len())
        .rev()
        .map(|length| path[..length].to_vec())
        .find(|prefix| files.contains_key(prefix))
}

fn import_graph(files: &BTreeMap<Module, String>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut graph = BTreeMap::new();
    for (module, text) in files {
        let code = code(text);
        let mut paths = references(module, &code);
        // `use crate::x;` then `x::y::z`: the alias names deeper modules.
        let aliases: Vec<Module> = paths
            .iter()
            .filter(|path| files.contains_key(*path) && !path.is_empty())
            .cloned()
            .collect();
        for alias in aliases {
            let name = alias.last().unwrap();
            let pattern = format!("{name}::");
            for (offset, _) in code.match_indices(&pattern) {
                let before = code[..offset].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let text: Vec<char> = code[offset + pattern.len()..].chars().take(200).collect();
                use_tree(&text, &mut 0, alias.clone(), &mut paths);
            }
        }
        let targets = paths
            .iter()
            .filter_map(|path| longest_module(files, path))
            .filter(|target| !module.starts_with(target))
            .collect();
        graph.insert(module.clone(), targets);
    }
    graph
}

/// Tarjan's strongly connected components with more than one module.
fn cycles(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Vec<Vec<Module>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit<'a>(walk: &mut Walk<'a>, node: &'a Module) {
        let number = walk.index.len();
        walk.index.insert(node, number);
        walk.low.insert(node, number);
        walk.stack.push(node);
        for next in &walk.graph[node] {
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.low[next].min(walk.low[node]);
                walk.low.insert(node, low);
            } else if walk.stack.contains(&next) {
                let low = walk.index[next].min(walk.low[node]);
                walk.low.insert(node, low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let at = walk
                .stack
                .iter()
                .rposition(|member| *member == node)
                .unwrap();
            let component: Vec<Module> = walk.stack.drain(at..).cloned().collect();
            if component.len() > 1 {
                walk.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

#[test]
fn no_module_imports_one_that_imports_it() {
    let mut files = BTreeMap::new();
    modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &Vec::new(),
        &mut files,
    );
    let found = cycles(&import_graph(&files));
    let named: Vec<Vec<String>> = found
        .iter()
        .map(|component| component.iter().map(|module| module.join("::")).collect())
        .collect();
    assert!(named.is_empty(), "import cycles: {named:?}");
}

#[test]
fn a_cycle_between_two_modules_is_found() {
    let mut files = BTreeMap::new();
    files.insert(vec![], "mod a; mod b;".to_string());
    files.insert(
        vec!["a".into()],
        "use crate::{b::{self, Thing}};".to_string(),
    );
    files.insert(vec!["b".into()], "fn f() { super::a::g() }".to_string());
    files.insert(
        vec!["c".into()],
        "use crate::a; fn f() { a::g() }".to_string(),
    );
    let found = cycles(&import_graph(&files));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 2);
}
