//! Graph's answers: an error body of any shape becomes a Graph error with a bounded message and a
//! remedy, and any JSON given as /subscribedSkus gives a licence verdict or a named error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use writeback_entra::{EntraError, graph, licence};
use writeback_base::diagnose::ErrorReport;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let json: Option<serde_json::Value> = serde_json::from_slice(data).ok();
    let err = graph::error_from_body(403, json.as_ref(), &text, "header-request-id".into());
    let EntraError::Graph { message, request_id, .. } = &err else { panic!("not a Graph error: {err}") };
    assert!(message.chars().count() <= 500);
    assert!(!request_id.is_empty());
    assert!(!ErrorReport::from_error(&err).remedy.is_empty());
    if let Some(v) = json {
        let items = match v.get("value") {
            Some(list) => list.clone(),
            None => serde_json::Value::Array(vec![v]),
        };
        if let Ok(verdict) = licence::verdict_from_json(&items) {
            assert!(verdict.eligible || !verdict.reason.is_empty(), "a refusal says why");
        }
    }
});
