//! `config export|import`.

use std::path::Path;

use super::ConfigCommand;
use super::output::{Outcome, Output};
use crate::config::Settings;
use crate::session::Error;

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
        ConfigCommand::Import { file } => {
            // Parse (and so validate) before touching the current settings.
            let settings = Settings::load_existing(&file)?;
            settings.save(config_path)?;
            out.result(&serde_json::json!({ "imported": file, "to": config_path }), || {
                format!("Imported {} into {}.", file.display(), config_path.display())
            });
        }
    }
    Ok(Outcome::OK)
}
