//! Redaction of URL queries and tokens in free text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    geopera::fuzzing::redact_text(&String::from_utf8_lossy(data));
});
