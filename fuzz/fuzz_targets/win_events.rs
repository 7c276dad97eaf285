//! The sync server's events as Get-WinEvent prints them (ConvertTo-Json of Id, ProviderName,
//! TimeCreated, LevelDisplayName, Message): any input is a list of events or a named refusal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match writeback_core::session::parse_events(&text) {
        Ok(events) => {
            for e in events {
                let _ = (e.id, e.provider_name.len(), e.message.len());
            }
        }
        Err(why) => assert!(!why.is_empty()),
    }
});
