//! Where results go: one JSON document on stdout with `--json`, else human text on stdout.
//! Errors and progress always go to stderr in JSON mode, so stdout stays parseable.

use serde::Serialize;
use std::io::Write;

use crate::diagnose::{ErrorReport, Exit};

/// The output mode of one run.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// `--json` was given.
    pub json: bool,
}

/// What a command produced: its exit code (0 or 3 for yes/no answers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The exit code.
    pub exit: Exit,
}

impl Outcome {
    /// Exit 0.
    pub const OK: Outcome = Outcome { exit: Exit::Ok };
}

impl Output {
    /// Prints the result: `value` as JSON, or `human` as text.
    pub fn result<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) {
        let mut out = std::io::stdout().lock();
        let text = if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(t) => t,
                Err(e) => format!("{{\"error\": {{\"code\": \"CLI-JSON\", \"message\": \"{e}\"}}}}"),
            }
        } else {
            human()
        };
        // A closed stdout (e.g. `| head`) is not worth a panic.
        let _ = writeln!(out, "{text}");
    }

    /// Prints an error: the JSON document `{"error": {...}}` on stdout in JSON mode, and the
    /// human text on stderr in both modes.
    pub fn error(&self, report: &ErrorReport) {
        if self.json {
            let doc = serde_json::json!({ "error": report });
            let _ = writeln!(std::io::stdout().lock(), "{doc:#}");
        }
        let _ = writeln!(std::io::stderr().lock(), "{}", report.human());
    }

    /// A line of progress or notice: stderr, so it never mixes with a JSON result.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }
}
