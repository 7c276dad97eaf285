//! The wizard's own failures: no display, no window, no runtime, a file it could not save, a
//! page used before its connection. Each names its cause and what to do (docs/troubleshooting.md).

use std::path::PathBuf;

use writeback_core::types::{Diagnose, Exit};

/// Why the wizard could not do what was asked of it.
#[derive(Debug, thiserror::Error)]
pub enum GuiError {
    /// Neither an X11 nor a Wayland display (Linux).
    #[error("there is no display to open the wizard on (neither DISPLAY nor WAYLAND_DISPLAY is set)")]
    NoDisplay,
    /// eframe could not open the window.
    #[error("the wizard window could not be opened: {detail}")]
    Window { detail: String },
    /// The engine's runtime could not start.
    #[error("cannot start the wizard's engine runtime: {detail}")]
    Runtime { detail: String },
    /// A page asked for work that needs the directory before connecting.
    #[error("the wizard is not connected to a domain controller")]
    NotConnected,
    /// "Save log…" with no log file.
    #[error("there is no log file at {} (it could not be opened when the wizard started)", path.display())]
    NoLog { path: PathBuf },
    /// A file could not be saved where the person chose.
    #[error("cannot copy the log {} to {}: {detail}", from.display(), to.display())]
    Save { from: PathBuf, to: PathBuf, detail: String },
    /// The browser could not be started for a page.
    #[error("the browser could not be opened on {url}: {detail}")]
    Browser { url: String, detail: String },
    /// The settings or a connection failed before the first page.
    #[error(transparent)]
    Session(#[from] writeback_core::session::Error),
}

impl Diagnose for GuiError {
    fn code(&self) -> &'static str {
        match self {
            GuiError::NoDisplay => "GUI-NO-DISPLAY",
            GuiError::Window { .. } => "GUI-WINDOW",
            GuiError::Runtime { .. } => "GUI-RUNTIME",
            GuiError::NotConnected => "GUI-NOT-CONNECTED",
            GuiError::NoLog { .. } => "GUI-NO-LOG",
            GuiError::Save { .. } => "GUI-SAVE",
            GuiError::Browser { .. } => "GUI-BROWSER",
            GuiError::Session(e) => e.code(),
        }
    }
    fn remedy(&self) -> String {
        match self {
            GuiError::NoDisplay => "Run it in a desktop session, or use the commands instead (see --help; `lab up` starts the lab headless).".into(),
            GuiError::Window { .. } => "Check the display (DISPLAY / WAYLAND_DISPLAY) and OpenGL drivers (Mesa), or use the commands instead (see --help).".into(),
            GuiError::Runtime { .. } => "Check the process limits (threads, memory).".into(),
            GuiError::Browser { url, .. } => format!("Open {url} in a browser yourself (copy it from here)."),
            GuiError::NotConnected => "Go back to \"Connect your directories\" and connect.".into(),
            GuiError::NoLog { .. } => "Start the wizard from a terminal with -v to see the log there, or set WRITEBACK_LOG_DIR to a folder you can write to.".into(),
            GuiError::Save { .. } => "Choose a folder you can write to.".into(),
            GuiError::Session(e) => e.remedy(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            GuiError::NoDisplay | GuiError::Window { .. } | GuiError::Runtime { .. } => Exit::Usage,
            GuiError::Session(e) => e.exit(),
            _ => Exit::Failed,
        }
    }
}

impl From<writeback_core::config::ConfigError> for GuiError {
    fn from(e: writeback_core::config::ConfigError) -> Self {
        GuiError::Session(e.into())
    }
}
