//! `Range` header parsing: `[object length: 8 bytes BE][header]`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((len, header)) = data.split_first_chunk::<8>() else {
        return;
    };
    geopera_dev_server::fuzzing::dev_range(&String::from_utf8_lossy(header), u64::from_be_bytes(*len));
});
