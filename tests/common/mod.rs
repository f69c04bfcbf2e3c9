//! Helpers shared by the differential tests (`scan_hdf5.rs`, `scan_netcdf3.rs`).

#![allow(dead_code)] // each test crate uses its own share of these

use std::path::{Path, PathBuf};

use chunkref::read::DynArray;
use chunkref::scan::{scan_file, ScanOptions, ScanOutput};

/// Serialises the tests of a file. HDF5 shares one open file between every handle of a
/// process: when a scan (or the `hdf5` crate) opens and closes a fixture that netCDF-C holds
/// open in another test thread, netCDF-C's cached dataset ids go stale and it crashes in
/// `nc4_get_var_meta` (seen here as SIGSEGV). One file, one user at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Holds the one-at-a-time lock for the rest of the test.
pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The path of a committed fixture.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Scan options that reference every chunk (nothing inlined).
pub(crate) fn no_inline() -> ScanOptions {
    ScanOptions {
        inline_threshold: 0,
        ..ScanOptions::default()
    }
}

/// Scans a file, writes the store to a temporary file and opens it again.
pub(crate) fn scan_and_open(
    path: &Path,
    options: &ScanOptions,
) -> (ScanOutput, chunkref::Dataset, tempfile::TempDir) {
    let out = scan_file(path, options).unwrap_or_else(|e| panic!("scan {}: {e}", path.display()));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.json");
    chunkref::refs::json::write(&out.store, &store).unwrap();
    let ds = chunkref::open(store.to_str().unwrap()).unwrap();
    (out, ds, dir)
}

/// The native-endian bytes of numeric values, or fixed strings padded to `item_size` bytes.
pub(crate) fn native_bytes(values: &DynArray, item_size: usize) -> Vec<u8> {
    match values {
        DynArray::I8(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::U8(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::I16(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::U16(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::I32(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::U32(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::I64(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::U64(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::F32(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::F64(a) => a.iter().flat_map(|x| x.to_ne_bytes()).collect(),
        DynArray::Bool(a) => a.iter().map(|&x| u8::from(x)).collect(),
        DynArray::Bytes(a) => a
            .iter()
            .flat_map(|s| {
                let mut s = s.clone();
                s.resize(item_size, 0);
                s
            })
            .collect(),
        DynArray::String(_) => panic!("strings have no fixed-size bytes"),
    }
}

/// Every variable read whole in the type its dtype gives.
pub(crate) fn read_whole(var: &chunkref::Variable) -> DynArray {
    let whole: Vec<std::ops::Range<u64>> = var.shape().iter().map(|&n| 0..n).collect();
    var.read_dyn(&whole)
        .unwrap_or_else(|e| panic!("{}: {e}", var.name()))
}

/// Asserts that a variable read through chunkref has netCDF-C's shape and dimension names.
#[cfg(feature = "hdf5")]
pub(crate) fn assert_same_shape_and_dims(
    label: &str,
    ours: &chunkref::Variable,
    theirs: &netcdf::Variable<'_>,
) {
    let shape: Vec<u64> = theirs.dimensions().iter().map(|d| d.len() as u64).collect();
    assert_eq!(ours.shape(), shape.as_slice(), "{label}: shape");
    let dims: Vec<String> = theirs
        .dimensions()
        .iter()
        .map(netcdf::Dimension::name)
        .collect();
    assert_eq!(ours.dims(), dims.as_slice(), "{label}: dimension names");
}
