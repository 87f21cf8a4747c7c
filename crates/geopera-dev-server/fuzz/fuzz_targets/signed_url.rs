//! Signed-URL verification: `[now: 8 bytes BE][flags]` then `path \n query \n content type`
//! (no content type header when bit 0 of flags is set).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((now, rest)) = data.split_first_chunk::<8>() else {
        return;
    };
    let [flags, text @ ..] = rest else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    let mut parts = text.splitn(3, '\n');
    let path = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let content_type = parts.next().filter(|_| flags & 1 == 0);
    geopera_dev_server::fuzzing::dev_verify(query, path, content_type, u64::from_be_bytes(*now));
});
