//! Keeps the pipeline crate's shape: modules depend on each other one way
//! (no cycle among the top-level modules of `src/`), and no source file
//! grows past [`MAX_LINES`].
//!
//! A module is a top-level file `src/x.rs` or folder `src/x/`; a dependency
//! is any mention of `crate::y` (or `use crate::{y, ..}`) in its files. A
//! module's own tests (`#[cfg(test)]` sections at the end of a file) count
//! too: a test that needs a module above it is a smell worth seeing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines a source file of the crate may have.
const MAX_LINES: usize = 600;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The top-level module a file of `src/` belongs to (`None` for the crate
/// root and the binary in `src/bin/`, whose `crate::` is its own).
fn module_of(file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src_dir()).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "bin").then_some(name)
}

/// The top-level modules `text` mentions as `crate::name`, including the
/// names inside `use crate::{a, b::c}`.
fn mentions(text: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            // A brace list: the first segment of every item at depth 0.
            let mut depth = 0;
            let mut item = String::new();
            for c in list.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.insert(first_segment(&item));
        } else {
            out.insert(first_segment(rest));
        }
    }
    out.retain(|m| modules.contains(m));
    out
}

/// The identifier a path starts with (`b` of `b::c`).
fn first_segment(path: &str) -> String {
    path.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// Module -> the modules it depends on.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(&src_dir());
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some(m) = module_of(f) else { continue };
        let text = std::fs::read_to_string(f).unwrap();
        let deps = g.entry(m.clone()).or_default();
        deps.extend(mentions(&text, &modules));
        deps.remove(&m);
    }
    g
}

/// A cycle through `start`, if there is one, as the list of its modules.
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = stack.iter().position(|s| s == m) {
            let mut c = stack[i..].to_vec();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        stack.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(g, d, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        if let Some(c) = visit(g, m, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn modules_depend_on_each_other_one_way() {
    let g = graph();
    assert!(g.len() > 10, "expected the crate's modules, found {g:?}");
    if let Some(cycle) = find_cycle(&g) {
        panic!("import cycle: {}", cycle.join(" -> "));
    }
    // No module reaches into the orchestration.
    for (m, deps) in &g {
        assert!(
            !deps.contains("run"),
            "{m} imports run: move what it needs out of run"
        );
    }
}

#[test]
fn no_source_file_is_too_long() {
    for f in rust_files(&src_dir()) {
        let n = std::fs::read_to_string(&f).unwrap().lines().count();
        assert!(
            n <= MAX_LINES,
            "{} has {n} lines, more than {MAX_LINES}: split it by stage",
            f.display()
        );
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let mods: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    assert_eq!(
        mentions("use crate::{a::X, b};\nlet _ = crate::c::f();", &mods),
        mods
    );
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string()].into()),
        ("b".to_string(), ["c".to_string()].into()),
        ("c".to_string(), ["a".to_string()].into()),
    ]
    .into();
    assert_eq!(find_cycle(&g).unwrap().len(), 4);
    let mut dag = g.clone();
    dag.get_mut("c").unwrap().clear();
    assert_eq!(find_cycle(&dag), None);
}
