//! The settings file: whatever bytes it holds, parsing ends in settings or a clear error, never a
//! panic; and what this build reads, it writes back and reads again to the same text.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use writeback_core::config::Settings;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("settings.toml");
    if let Ok(settings) = Settings::parse(text, path) {
        let written = settings.to_toml().expect("settings that parsed serialise");
        let back = Settings::parse(&written, path).expect("our own output parses");
        assert_eq!(back.to_toml().expect("serialises"), written, "a round trip changes nothing");
    }
});
