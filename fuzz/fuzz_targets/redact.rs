//! Redaction of secrets in free text: the fuzzer's text as it is, and with a secret
//! planted in it in a shape the first bytes pick.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    geopera::fuzzing::redact_text(&String::from_utf8_lossy(data));
    let (plan, context) = data.split_at(data.len().min(16));
    geopera::fuzzing::redact_planted(plan, &String::from_utf8_lossy(context));
});
