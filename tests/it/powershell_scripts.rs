//! Every PowerShell script the sync-engine backends generate, parsed with a real PowerShell
//! grammar (tree-sitter-powershell): no error node, and each cmdlet call uses only the parameters
//! docs/sync-engines.md lists for it, with its source.

use std::collections::BTreeMap;

use writeback_sync::adsync::AdSync;
use writeback_sync::cloudsync::CloudSync;

/// The documented table: cmdlet → parameters, read from docs/sync-engines.md.
fn documented() -> BTreeMap<String, Vec<String>> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/sync-engines.md")).unwrap();
    let section = doc.split("## Cmdlets and parameters used").nth(1).unwrap().split("\n## ").next().unwrap();
    let mut table = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Cmdlet") && !l.starts_with("|---"))
    {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let (cmdlet, params, source) = (cells[1], cells[2], cells[3]);
        assert!(!source.is_empty(), "{cmdlet} has no source");
        let params = params.split(',').map(str::trim).filter(|p| p.starts_with('-')).map(str::to_lowercase).collect();
        table.insert(cmdlet.to_lowercase(), params);
    }
    table
}

/// Each command in `script`: its name and the parameters it passes.
fn commands(script: &str) -> Vec<(String, Vec<String>)> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    let tree = parser.parse(script, None).unwrap();
    let root = tree.root_node();
    assert!(!root.has_error(), "the script does not parse:\n{script}\n{}", root.to_sexp());
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.kind() == "command" {
            let name = node.child_by_field_name("command_name").unwrap().utf8_text(script.as_bytes()).unwrap();
            let mut params = Vec::new();
            if let Some(elements) = node.child_by_field_name("command_elements") {
                let mut cursor = elements.walk();
                for e in elements.named_children(&mut cursor).filter(|e| e.kind() == "command_parameter") {
                    params.push(e.utf8_text(script.as_bytes()).unwrap().trim_end_matches(':').to_lowercase());
                }
            }
            out.push((name.to_lowercase(), params));
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    out
}

#[test]
fn every_generated_script_parses_and_calls_only_documented_parameters() {
    let table = documented();
    let scripts = [
        ("adsync state", AdSync::state_script()),
        ("adsync on", AdSync::set_script(true)),
        ("adsync off", AdSync::set_script(false)),
        ("adsync sync", AdSync::sync_script()),
        ("adsync events", AdSync::events_script()),
        ("cloudsync state", CloudSync::state_script()),
        ("cloudsync on", CloudSync::set_script(true)),
        ("cloudsync off", CloudSync::set_script(false)),
    ];
    let mut used = std::collections::BTreeSet::new();
    for (what, script) in &scripts {
        let calls = commands(script);
        assert!(!calls.is_empty(), "{what}: no command found");
        for (name, params) in calls {
            let allowed = table.get(&name).unwrap_or_else(|| panic!("{what}: {name} is not in docs/sync-engines.md"));
            for p in &params {
                assert!(allowed.contains(p), "{what}: {name} {p} is not a documented parameter ({allowed:?})");
            }
            used.insert(name);
        }
    }
    // The table names nothing the scripts do not use (it is the list of what is used).
    let unused: Vec<&String> = table.keys().filter(|k| !used.contains(*k)).collect();
    assert!(unused.is_empty(), "documented but unused: {unused:?}");
    // And the checker itself catches a wrong parameter and a broken script.
    let wrong = commands("Set-ADSyncAADPasswordResetConfiguration -Connector x -Enabled $true");
    assert!(!table["set-adsyncaadpasswordresetconfiguration"].contains(&wrong[0].1[1]));
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&tree_sitter_powershell::LANGUAGE.into()).unwrap();
    assert!(parser.parse("$x = @{ a = ", None).unwrap().root_node().has_error());
}
