//! Fuzzes the kerchunk JSON store parser: a store is untrusted input, so any bytes must give a
//! store or an error, never a panic, a hang or a huge allocation.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(store) = chunkref::refs::json::from_json(data, "fuzz.json") {
        // What parsed must serialise again.
        let _ = chunkref::refs::json::to_json(&store);
    }
});
