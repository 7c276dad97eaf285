//! The apply journal: a damaged or torn file gives records or a named error, never a panic; the
//! records read are written back as lines that read the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use writeback_core::engine::journal;

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = journal::parse(data) {
        let mut text = Vec::new();
        for r in &records {
            text.extend(serde_json::to_vec(r).expect("a record serialises"));
            text.push(b'\n');
        }
        let back = journal::parse(&text).expect("our own lines parse");
        assert_eq!(back.len(), records.len());
        assert_eq!(serde_json::to_value(&back).unwrap(), serde_json::to_value(&records).unwrap());
    }
});
