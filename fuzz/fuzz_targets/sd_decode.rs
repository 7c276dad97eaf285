//! Any bytes: decoding never panics, and whatever decodes encodes back to the same bytes. Its
//! SDDL rendering parses, and renders again to the same text.
#![no_main]

use writeback_ad::sd;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(decoded) = sd::SecurityDescriptor::decode(data) else { return };
    assert_eq!(decoded.encode(), data, "encode(decode(x)) must be x");
    let ctx = sd::SidContext::single(sd::Sid::new(5, vec![21, 1, 2, 3]));
    let text = decoded.to_sddl(&ctx);
    if let Ok(parsed) = sd::SecurityDescriptor::from_sddl(&text, &ctx) {
        assert_eq!(parsed.to_sddl(&ctx), text, "rendering is stable");
    }
});
