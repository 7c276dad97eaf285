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
            // A pinned certificate is trust: another machine's pin replaces ours only when asked.
            let theirs = crate::config::Settings::load_existing(&file)?.ad_fingerprint;
            let ours = Settings::load(config_path)?.ad_fingerprint;
            if let (Some(theirs), Some(ours)) = (&theirs, &ours)
                && !crate::config::same_pin(ours, theirs)
                && !yes
                && !confirm(&format!(
                    "{} pins another certificate for the DC ({theirs}) than this machine trusts ({ours}). Take it? [y/N] ",
                    file.display()
                ))
            {
                return Err(Error::Usage {
                    message: format!("{} pins another DC certificate than this machine's settings", file.display()),
                    remedy: "Check the new fingerprint against the DC's certificate, then import with --yes (or on a terminal, answer y)."
                        .into(),
                });
            }
            crate::config::import(&file, config_path, true)?;
            out.result(&serde_json::json!({ "imported": file, "to": config_path }), || {
                format!("Imported {} into {}.", file.display(), config_path.display())
            });
        }
    }
    Ok(Outcome::OK)
}
