//! The house rules of docs/architecture.md that the compiler cannot see. Who may reach whom is
//! the crates' dependency lists (a front that names a subsystem does not compile); these tests
//! pin those lists, find import loops inside a crate, and check what the Windows release carries,
//! where time is read, that the engine index stays an index and that the pages keep their words
//! in one place. `cargo test --test it architecture` runs just these.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push((p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}

/// Every source file of the product: each crate's and the binary's.
fn sources() -> Vec<(PathBuf, String)> {
    let mut out = rust_files(&root().join("src"));
    for c in crates() {
        out.extend(rust_files(&root().join("crates").join(c).join("src")));
    }
    out
}

fn crates() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// The workspace crates a manifest depends on (normal dependencies, any target).
fn internal_deps(manifest: &Path) -> BTreeSet<String> {
    let doc: toml::Value = toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    let mut tables = vec![doc.get("dependencies").cloned()];
    if let Some(targets) = doc.get("target").and_then(|t| t.as_table()) {
        tables.extend(targets.values().map(|t| t.get("dependencies").cloned()));
    }
    tables
        .into_iter()
        .flatten()
        .flat_map(|t| t.as_table().unwrap().keys().cloned().collect::<Vec<_>>())
        .filter(|k| k.starts_with("writeback-"))
        .collect()
}

#[test]
fn the_crates_stand_on_each_other_as_the_layers_say() {
    let allowed: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("base", &[][..]),
        ("ad", &["writeback-base"][..]),
        ("entra", &["writeback-base"][..]),
        ("sync", &["writeback-base"][..]),
        ("core", &["writeback-base", "writeback-ad", "writeback-entra", "writeback-sync"][..]),
        ("lab", &["writeback-base", "writeback-ad"][..]),
        // The fronts: the session (core) and the floor, nothing past them.
        ("gui", &["writeback-base", "writeback-core"][..]),
    ]);
    for c in crates() {
        let deps = internal_deps(&root().join("crates").join(&c).join("Cargo.toml"));
        let ok: BTreeSet<String> = allowed[c.as_str()].iter().map(|s| s.to_string()).collect();
        assert!(deps.is_subset(&ok), "crates/{c} depends on {:?}, beyond {ok:?}", deps.difference(&ok));
    }
    // The binary: the CLI over the session, the wizard, and the lab beside them.
    let bin = internal_deps(&root().join("Cargo.toml"));
    let ok: BTreeSet<String> =
        ["writeback-base", "writeback-core", "writeback-gui", "writeback-lab"].iter().map(|s| s.to_string()).collect();
    assert!(bin.is_subset(&ok), "the binary depends on {:?}", bin.difference(&ok));
    // The session never calls the lab, and the wizard never the CLI: not even by name.
    for (path, text) in sources() {
        let rel = path.strip_prefix(root()).unwrap().to_string_lossy().to_string();
        if rel.starts_with("crates/core") {
            assert!(!text.contains("writeback_lab"), "{rel} names the lab");
        }
        if !rel.starts_with("crates/gui") {
            assert!(!text.contains("egui::") && !text.contains("eframe::"), "{rel} draws");
        }
    }
}

/// The Windows release (`scripts/windows.sh`: the wizard, no lab) holds no simulator.
#[test]
fn the_windows_release_carries_no_simulator() {
    let out = std::process::Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["tree", "--locked", "--offline", "-e", "normal", "--prefix", "none", "--target"])
        .args(["x86_64-pc-windows-gnu", "-p", "writeback-wizard", "--no-default-features", "--features", "gui"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: BTreeSet<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(names.contains("writeback-gui") && names.contains("eframe"), "the wizard is in: {names:?}");
    for banned in ["writeback-lab", "axum", "rsa", "jsonwebtoken", "rcgen"] {
        assert!(!names.contains(banned), "the Windows release holds {banned}");
    }
}

/// A module of a crate, from its file (`crates/core/src/engine/apply.rs` → `engine::apply`).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap();
    let mut parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().to_string()).collect();
    let last = parts.pop().unwrap();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" && stem != "main" {
        parts.push(stem.to_string());
    }
    parts
}

/// Import loops between the sibling modules of one crate (`engine::apply` ↔ `engine::grants`),
/// which a crate boundary cannot show: each file's `super::x` and `crate::a::x` naming another
/// file of the same folder is an edge.
#[test]
fn no_import_loop_runs_between_sibling_modules() {
    let mut dirs = vec![root().join("src")];
    dirs.extend(crates().into_iter().map(|c| root().join("crates").join(c).join("src")));
    for src in dirs {
        let files = rust_files(&src);
        let modules: BTreeSet<Vec<String>> = files.iter().map(|(p, _)| module_of(&src, p)).collect();
        let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for (path, text) in &files {
            let from = module_of(&src, path);
            let parent: Vec<String> = from[..from.len().saturating_sub(1)].to_vec();
            let mut names = Vec::new();
            for (i, _) in text.match_indices("super::") {
                let name: String =
                    text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                let mut m = parent.clone();
                m.push(name);
                names.push(m);
            }
            for (i, _) in text.match_indices("crate::") {
                let rest: String =
                    text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':').collect();
                let path: Vec<String> = rest.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
                // The longest prefix that is a module of this crate.
                if let Some(m) = (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|m| modules.contains(m)) {
                    names.push(m);
                }
            }
            for m in names {
                let sibling = m.len() == from.len() && m[..m.len() - 1] == from[..from.len() - 1] && m != from;
                if sibling && modules.contains(&m) {
                    graph.entry(from.clone()).or_default().insert(m);
                }
            }
        }
        fn visit(
            node: &Vec<String>,
            graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
            path: &mut Vec<Vec<String>>,
            done: &mut BTreeSet<Vec<String>>,
            src: &Path,
        ) {
            if let Some(at) = path.iter().position(|n| n == node) {
                let cycle: Vec<String> = path[at..].iter().map(|m| m.join("::")).collect();
                panic!("import loop in {}: {} → {}", src.display(), cycle.join(" → "), node.join("::"));
            }
            if !done.insert(node.clone()) {
                return;
            }
            path.push(node.clone());
            for next in graph.get(node).into_iter().flatten() {
                visit(next, graph, path, done, src);
            }
            path.pop();
        }
        let mut done = BTreeSet::new();
        for node in graph.keys() {
            visit(node, &graph, &mut Vec::new(), &mut done, &src);
        }
    }
}

#[test]
fn time_is_read_only_through_the_clock() {
    for (path, text) in sources() {
        if path.ends_with("crates/base/src/clock.rs") {
            continue;
        }
        assert!(!text.contains("SystemTime::now"), "{} reads the system time", path.display());
    }
}

#[test]
fn the_engine_index_is_an_index() {
    let engine = root().join("crates/core/src/engine");
    let index = std::fs::read_to_string(engine.join("mod.rs")).unwrap();
    assert!(index.lines().count() < 120, "engine/mod.rs has {} lines", index.lines().count());
    assert!(!index.contains("fn "), "engine/mod.rs defines functions");
    // SDDL is rendered for people and files, never parsed back to decide what to do.
    for (path, text) in rust_files(&engine.join("apply")) {
        assert!(!text.contains("sddl::parse") && !text.contains("from_sddl"), "{} parses SDDL", path.display());
    }
}

/// Every user-facing string of a page is in its `words` module: outside it, a page's code holds
/// only identifiers ("connector", "start-sync") and layouts of placeholders ("{}. {}").
#[test]
fn every_page_keeps_its_words_in_one_place() {
    let pages = root().join("crates/gui/src/pages");
    let mut stray = Vec::new();
    let mut pages_seen = 0;
    for entry in std::fs::read_dir(&pages).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // The words module ends at the first line that is a lone closing brace; tests are code
        // that may say what they check.
        let text = text.split("#[cfg(test)]").next().unwrap().to_string();
        let code = match text.find("pub mod words {") {
            Some(start) => {
                let end = start + text[start..].find("\n}\n").expect("the words module closes");
                pages_seen += 1;
                format!("{}{}", &text[..start], &text[end..])
            }
            None => text.clone(),
        };
        for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for lit in literals(line) {
                let bare = without_placeholders(&lit);
                let prose = bare.chars().any(|c| c.is_alphabetic())
                    && (bare.contains(' ') || bare.chars().any(|c| c.is_uppercase()));
                if prose {
                    stray.push(format!("{}: {}", path.file_name().unwrap().to_string_lossy(), line.trim()));
                }
            }
        }
    }
    assert!(pages_seen >= 10, "every page and the shared module have words: {pages_seen}");
    assert!(stray.is_empty(), "words outside a page's words module:\n{}", stray.join("\n"));
}

/// The string literals of one line of Rust (escapes kept as written; char literals skipped).
fn literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            // A char literal such as '"' holds no string.
            let rest: String = chars.clone().take(3).collect();
            if rest.starts_with("\"'") || rest.starts_with("\\\"") {
                chars.nth(if rest.starts_with('\\') { 2 } else { 1 });
            }
            continue;
        }
        if c != '"' {
            continue;
        }
        let mut lit = String::new();
        while let Some(d) = chars.next() {
            match d {
                '\\' => {
                    lit.push(d);
                    if let Some(e) = chars.next() {
                        lit.push(e);
                    }
                }
                '"' => break,
                _ => lit.push(d),
            }
        }
        out.push(lit);
    }
    out
}

/// A format string without its `{…}` placeholders.
fn without_placeholders(s: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in s.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}
