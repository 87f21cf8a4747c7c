//! The dev server's operation requests: `[op + 8 * content type][JSON body]`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [op, body @ ..] = data else {
        return;
    };
    geopera_dev_server::fuzzing::dev_validate(*op, body);
});
