//! Any text: parsing never panics; what parses encodes to bytes that decode to the same
//! descriptor, and renders to SDDL that parses to the same descriptor.
#![no_main]

use writeback_ad::sd;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let ctx = sd::SidContext::single(sd::Sid::new(5, vec![21, 1, 2, 3]));
    let Ok(parsed) = sd::SecurityDescriptor::from_sddl(text, &ctx) else { return };
    let bytes = parsed.encode();
    let decoded = sd::SecurityDescriptor::decode(&bytes).expect("our own bytes decode");
    assert!(decoded.same_content(&parsed), "binary round trip");
    let rendered = parsed.to_sddl(&ctx);
    let again = sd::SecurityDescriptor::from_sddl(&rendered, &ctx).expect("our own SDDL parses");
    assert!(again.same_content(&parsed), "SDDL round trip: {text:?} -> {rendered:?}");
});
