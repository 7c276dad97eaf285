//! Where results go: one JSON document on stdout with `--json`, else human text on stdout.
//! Errors and progress always go to stderr in JSON mode, so stdout stays parseable.

use serde::Serialize;
use std::io::Write;

use crate::diagnose::{ErrorReport, Exit};

/// Text from outside (a DN, a display name, a message from the DC or Graph) as it may be shown
/// on a terminal: every control character escaped, so an escape sequence in an OU's name can
/// neither move the cursor nor rewrite what the person is asked to confirm.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A whole human-readable document: control characters other than its own line breaks and tabs
/// escaped (the last guard; values are escaped with [`shown`] where they are put in).
pub fn terminal_safe(text: &str) -> String {
    text.split('\n').map(|l| l.split('\t').map(shown).collect::<Vec<_>>().join("\t")).collect::<Vec<_>>().join("\n")
}

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
            terminal_safe(&human())
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
        let _ = writeln!(std::io::stderr().lock(), "{}", terminal_safe(&report.human()));
    }

    /// A line of progress or notice: stderr, so it never mixes with a JSON result.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{}", terminal_safe(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_from_outside_never_reach_the_terminal() {
        let ou = "OU=Sales\u{1b}[2K\u{1b}[1A\rApply 0 changes? ,DC=x";
        let s = shown(ou);
        assert!(!s.chars().any(char::is_control), "{s:?}");
        assert!(s.contains("\\u{1b}[2K") && s.contains("\\r"), "{s}");
        let doc = terminal_safe(&format!("1. Grant on {ou}\n\tnext line"));
        assert_eq!(doc.lines().count(), 2, "our own line breaks stay: {doc}");
        assert!(!doc.contains('\u{1b}') && !doc.contains('\r'), "{doc:?}");
    }
}
