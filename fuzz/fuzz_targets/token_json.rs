//! The sign-in endpoint's answers: a token response, a device-code response, or an error of any
//! shape — read as oauth2 reads them, then as we turn them into tokens or an AADSTS error in words.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2::StandardDeviceAuthorizationResponse;
use oauth2::basic::BasicTokenResponse;
use writeback_entra::auth;
use writeback_base::diagnose::ErrorReport;

fuzz_target!(|data: &[u8]| {
    let err = auth::token_error_from_body(data, "https://login.microsoftonline.com/organizations/oauth2/v2.0/token");
    let report = ErrorReport::from_error(&err);
    assert!(!report.remedy.is_empty() && !report.code.is_empty());
    if let Ok(t) = serde_json::from_slice::<BasicTokenResponse>(data) {
        let tokens = auth::tokens(&t);
        // A token is a secret: it never shows in the debug text.
        assert_eq!(format!("{:?}", tokens.access), "Secret([redacted])");
    }
    if let Ok(d) = serde_json::from_slice::<StandardDeviceAuthorizationResponse>(data) {
        let _ = (d.user_code().secret().len(), d.verification_uri().as_str(), d.expires_in());
    }
});
