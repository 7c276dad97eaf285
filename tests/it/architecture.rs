//! The house rules of docs/architecture.md, read off the source: who may import whom, that no
//! import loop runs between the top-level modules, where time is read, and that the engine index
//! stays an index. `cargo test --test it architecture` runs just these.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources() -> Vec<(PathBuf, String)> {
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
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// The top-level module a file belongs to (`src/ad/conn.rs` → `ad`, `src/clock.rs` → `clock`).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("src")).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Top-level module → the top-level modules it names with `crate::`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in sources() {
        let from = module_of(&path);
        if from == "lib" || from == "main" {
            continue;
        }
        let entry = graph.entry(from.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let name: String = text[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() && name != from {
                entry.insert(name);
            }
        }
    }
    graph
}

#[test]
fn no_import_loop_runs_between_the_top_level_modules() {
    let graph = imports();
    // Depth-first search for a back edge; the loop found is printed whole.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(at) = path.iter().position(|n| *n == node) {
            panic!("import loop: {} → {node}", path[at..].join(" → "));
        }
        if !done.insert(node) {
            return;
        }
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new(), &mut done);
    }
    // The floor imports nothing above it.
    for floor in ["diagnose", "clock", "platform", "version", "fsutil", "netstats"] {
        let up: Vec<&String> = graph.get(floor).into_iter().flatten().collect();
        assert!(up.is_empty(), "{floor} is the floor, yet imports {up:?}");
    }
}

#[test]
fn the_fronts_stand_on_the_session_and_never_on_each_other() {
    let graph = imports();
    assert!(!graph["gui"].contains("cli"), "gui imports cli");
    for engine in ["ad", "entra", "sync_engine", "engine", "session", "config", "secrets"] {
        let up: Vec<&String> = graph[engine].iter().filter(|m| ["cli", "gui"].contains(&m.as_str())).collect();
        assert!(up.is_empty(), "{engine} imports the fronts {up:?}");
    }
    for (path, text) in sources() {
        let m = module_of(&path);
        if m != "gui" {
            assert!(!text.contains("egui::") && !text.contains("eframe::"), "{} draws", path.display());
        }
        if m == "cli" {
            for (i, _) in text.match_indices("crate::gui::") {
                let item: String = text[i + 12..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                assert!(["run", "Options"].contains(&item.as_str()), "{} uses gui::{item}", path.display());
            }
        }
    }
}

#[test]
fn time_is_read_only_through_the_clock() {
    for (path, text) in sources() {
        if path.ends_with("src/clock.rs") {
            continue;
        }
        assert!(!text.contains("SystemTime::now"), "{} reads the system time", path.display());
    }
}

#[test]
fn the_engine_index_is_an_index() {
    let index = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/mod.rs")).unwrap();
    assert!(index.lines().count() < 120, "engine/mod.rs has {} lines", index.lines().count());
    assert!(!index.contains("fn "), "engine/mod.rs defines functions");
    // SDDL is rendered for people and files, never parsed back to decide what to do.
    let apply = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine/apply.rs")).unwrap();
    assert!(!apply.contains("sddl::parse") && !apply.contains("from_sddl"), "apply.rs parses SDDL");
}

/// Every user-facing string of a page is in its `words` module: outside it, a page's code holds
/// only identifiers ("connector", "start-sync") and layouts of placeholders ("{}. {}").
#[test]
fn every_page_keeps_its_words_in_one_place() {
    let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gui/pages");
    let mut stray = Vec::new();
    let mut pages_seen = 0;
    for entry in std::fs::read_dir(&pages).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // The words module ends at the first line that is a lone closing brace.
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
