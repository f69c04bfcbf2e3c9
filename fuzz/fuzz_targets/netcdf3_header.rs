//! Fuzzes the `NetCDF3` scanner (header parser, record layout, chunk manifest) on a whole
//! file held in memory: any input must give a store or an error, never a panic, a hang or a
//! huge allocation.

#![no_main]

use chunkref::scan::{netcdf3, ScanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Inputs that are not NetCDF3 end at the magic; give the parser a valid one instead, so
    // every input exercises the header. The first byte picks the version (CDF-1, -2 or -5).
    let Some((&v, rest)) = data.split_first() else {
        return;
    };
    let mut file = b"CDF".to_vec();
    file.push([1, 2, 5][usize::from(v % 3)]);
    file.extend_from_slice(rest);
    let options = ScanOptions {
        url: Some("file:///fuzz.nc".into()),
        ..ScanOptions::default()
    };
    if let Ok(out) = netcdf3::scan_bytes(&file, "fuzz.nc", &options) {
        // A store the scanner made must serialise and parse back.
        let json = chunkref::refs::json::to_json(&out.store);
        chunkref::refs::json::from_json(&json, "fuzz.json").expect("a scanned store reparses");
    }
});
