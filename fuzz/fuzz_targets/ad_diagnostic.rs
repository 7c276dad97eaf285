//! Any text a DC (or something pretending to be one) sends as its diagnostic: finding the
//! sub-code never panics, the sub-code is lowercase hex that follows "data " in the text, and
//! words exist only for the sub-codes we document.
#![no_main]

use writeback_ad::diag;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(code) = diag::diagnostic_subcode(&text) {
        assert!(!code.is_empty() && code.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert!(text.to_ascii_lowercase().contains(&format!("data {code}")), "{text:?} -> {code}");
        if let Some((words, remedy)) = diag::bind_subcode_words(&code) {
            assert!(!words.is_empty() && !remedy.is_empty());
            assert!(["525", "52e", "530", "531", "532", "533", "701", "773", "775"].contains(&code.as_str()), "{code}");
        }
    }
});
