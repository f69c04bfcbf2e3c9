//! Fuzzes the GRIB scanner (message finder, section parsers of editions 1 and 2, grouping)
//! and the `grib` codec's decoding on bytes held in memory: any input must give a store or an
//! error, never a panic, a hang or a huge allocation.

#![no_main]

use chunkref::scan::{grib, ScanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ScanOptions {
        url: Some("file:///fuzz.grib".into()),
        ..ScanOptions::default()
    };
    if let Ok(out) = grib::scan_bytes(data, "fuzz.grib", &options) {
        let json = chunkref::refs::json::to_json(&out.store);
        chunkref::refs::json::from_json(&json, "fuzz.json").expect("a scanned store reparses");
    }
    // The codec's path: the first field of the bytes, unpacked.
    let _ = chunkref::grib::decode::first_field_values(data);
});
