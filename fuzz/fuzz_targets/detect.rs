//! Fuzzes format detection from a file's first bytes: never a panic, whatever the bytes.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = chunkref::scan::detect::detect_bytes(data);
});
