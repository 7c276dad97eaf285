//! `config export|import`.

use std::path::Path;

use super::ConfigCommand;
use super::output::{Outcome, Output};
use crate::config::Settings;
use crate::session::Error;

/// Asks on the terminal; no terminal is no.
fn confirm(question: &str) -> bool {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

/// Runs one `config` command against the settings file at `config_path`.
pub fn run(command: ConfigCommand, config_path: &Path, out: Output) -> Result<Outcome, Error> {
    match command {
        ConfigCommand::Export { file, connection } => {
            let settings = Settings::load(config_path)?.overlay(&connection.overlay());
            settings.save(&file)?;
            out.result(&serde_json::json!({ "exported": file, "from": config_path }), || {
                format!("Exported the settings to {}.", file.display())
            });
        }
        ConfigCommand::Import { file, yes } => {
            let preview = crate::config::preview_import(&file, config_path)?;
            let changes = preview.changes.clone();
            if !changes.is_empty() {
                let mut text = format!("Importing {} changes these settings:\n", file.display());
                for c in &changes {
                    let show = |v: &Option<String>| v.as_deref().map(super::output::shown).unwrap_or("(none)".into());
                    text.push_str(&format!("  {}: {} → {}\n", c.key, show(&c.ours), show(&c.theirs)));
                }
                if preview.changes_pin() {
                    text.push_str(
                        "The file pins another DC certificate: check its fingerprint on the DC before taking it.\n",
                    );
                }
                out.note(text.trim_end());
                if !yes && !confirm("Import them? [y/N] ") {
                    return Err(Error::Usage {
                        message: format!(
                            "importing {} changes connection settings, and it was not confirmed",
                            file.display()
                        ),
                        remedy: "Check the changes listed, then import with --yes (or on a terminal, answer y).".into(),
                    });
                }
            }
            crate::config::apply_import(preview, config_path, true)?;
            out.result(&serde_json::json!({ "imported": file, "to": config_path, "changes": changes }), || {
                format!("Imported {} into {}.", file.display(), config_path.display())
            });
        }
    }
    Ok(Outcome::OK)
}
