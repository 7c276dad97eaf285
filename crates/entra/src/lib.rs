//! Microsoft Entra ID: sign-in (OAuth 2.0 public client), Microsoft Graph reads, and the checks the
//! wizard makes on the tenant — roles, licence, directory synchronisation. No GUI code.

#![allow(clippy::result_large_err)]

pub(crate) use writeback_base::{diagnose, netstats, platform, secrets};

pub mod aadsts;
pub mod auth;
pub mod check;
pub mod clouds;
pub mod graph;
pub mod licence;

use crate::diagnose::{Diagnose, Exit};

/// Everything that can go wrong with the tenant. Each variant keeps Entra's or Graph's own
/// diagnostic: the AADSTS code and text, or Graph's error code, message and request-id.
#[derive(Debug, thiserror::Error)]
pub enum EntraError {
    /// Entra refused a sign-in or token request.
    #[error("Microsoft Entra ID refused the sign-in: {words} ({error}{}: {description})", code.map(|c| format!(", AADSTS{c}")).unwrap_or_default())]
    Aadsts {
        /// The OAuth error (`invalid_grant`, …).
        error: String,
        /// The AADSTS code.
        code: Option<u32>,
        /// The first line of Entra's description.
        description: String,
        /// In plain words.
        words: String,
        /// What to do.
        remedy: String,
    },
    /// Graph answered with an error.
    #[error("Microsoft Graph answered {status} {code}: {message} (request-id {request_id}, {date})")]
    Graph {
        /// HTTP status.
        status: u16,
        /// Graph's error code (`Authorization_RequestDenied`, …).
        code: String,
        /// Graph's message.
        message: String,
        /// The request-id, for Microsoft support.
        request_id: String,
        /// The date Graph gave.
        date: String,
    },
    /// Still throttled or unavailable when the deadline ran out.
    #[error(
        "Microsoft Graph was still answering {status} after {attempts} attempts over {waited_secs} s (last request-id {request_id})"
    )]
    Throttled {
        /// The last status (429, 503, 504).
        status: u16,
        /// How many requests were sent.
        attempts: u32,
        /// How long was waited in all.
        waited_secs: u64,
        /// The last request-id.
        request_id: String,
    },
    /// The network failed.
    #[error("cannot reach {url}: {detail}")]
    Http {
        url: String,
        /// The library's message.
        detail: String,
    },
    /// An answer that is not what Entra or Graph send.
    #[error("unexpected answer from {url}: {detail}")]
    BadResponse {
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// No token and no way to sign in.
    #[error(
        "no Microsoft Graph token: {env_var} is not set, no saved sign-in was found, and there is no terminal to sign in on"
    )]
    NoToken {
        /// The variable that would supply it.
        env_var: &'static str,
    },
    /// The sign-in through the browser failed.
    #[error("the browser sign-in failed: {detail}")]
    Browser {
        /// What happened.
        detail: String,
    },
    /// Cancelled by the user.
    #[error("the sign-in was cancelled")]
    Cancelled,
    /// The OS keyring failed.
    #[error(transparent)]
    Secret(#[from] crate::secrets::SecretError),
}

impl Diagnose for EntraError {
    fn code(&self) -> &'static str {
        match self {
            EntraError::Aadsts { .. } => "ENTRA-SIGNIN",
            EntraError::Graph { .. } => "ENTRA-GRAPH",
            EntraError::Throttled { .. } => "ENTRA-THROTTLED",
            EntraError::Http { .. } => "ENTRA-NETWORK",
            EntraError::BadResponse { .. } => "ENTRA-RESPONSE",
            EntraError::NoToken { .. } => "ENTRA-NO-TOKEN",
            EntraError::Browser { .. } => "ENTRA-BROWSER",
            EntraError::Cancelled => "ENTRA-CANCELLED",
            EntraError::Secret(e) => e.code(),
        }
    }
    fn remedy(&self) -> String {
        match self {
            EntraError::Aadsts { remedy, .. } => remedy.clone(),
            EntraError::Graph { status: 401, .. } => "Sign in again (the token expired or was revoked).".into(),
            EntraError::Graph { status: 403, .. } => {
                "The signed-in account or the app lacks a permission: sign in as a Global Administrator or Hybrid Identity Administrator, and check the app's consent (docs/entra.md).".into()
            }
            EntraError::Graph { .. } => "Try again; if it persists, give the request-id above to Microsoft support.".into(),
            EntraError::Throttled { .. } => "Microsoft Graph is busy for this tenant: wait a few minutes and try again.".into(),
            EntraError::Http { .. } => "Check this server's internet access, proxy and firewall for the sign-in and Graph hosts of your cloud (docs/entra.md).".into(),
            EntraError::BadResponse { .. } => "Check --cloud and --lab-url; a proxy may be answering instead of Microsoft.".into(),
            EntraError::NoToken { env_var } => format!("Run on a terminal to sign in with a device code, or set {env_var} to a Graph access token (for example from `az account get-access-token --resource-type ms-graph`)."),
            EntraError::Browser { .. } => "Use the device code sign-in instead.".into(),
            EntraError::Cancelled => "Sign in again when ready.".into(),
            EntraError::Secret(e) => e.remedy(),
        }
    }
    fn exit(&self) -> Exit {
        match self {
            EntraError::NoToken { .. } => Exit::Usage,
            EntraError::Secret(e) => e.exit(),
            _ => Exit::Failed,
        }
    }
}

/// Builds an [`EntraError::Aadsts`] from Entra's error JSON.
pub fn aadsts_error(body: &serde_json::Value) -> EntraError {
    let error = body["error"].as_str().unwrap_or("unknown_error").to_string();
    let full = body["error_description"].as_str().unwrap_or("").to_string();
    let code = body["error_codes"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(|c| c.as_u64())
        .map(|c| c as u32)
        .or_else(|| aadsts::code_of(&full));
    let (words, remedy) =
        code.and_then(aadsts::describe).map(|(w, r)| (w.to_string(), r.to_string())).unwrap_or_else(|| {
            (
                "the request was refused".into(),
                "Read Entra's message above; docs/entra.md lists the usual causes.".into(),
            )
        });
    EntraError::Aadsts { error, code, description: aadsts::first_line(&full).to_string(), words, remedy }
}
