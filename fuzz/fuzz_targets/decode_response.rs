//! Response decoding of every operation: `[op][status hi][status lo][n][n bytes of
//! headers, `name: value` lines][body]`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [op, hi, lo, n, rest @ ..] = data else {
        return;
    };
    let (headers, body) = rest.split_at(usize::from(*n).min(rest.len()));
    let status = u16::from_be_bytes([*hi, *lo]);
    geopera::fuzzing::decode_response(*op, status, &String::from_utf8_lossy(headers), body);
});
