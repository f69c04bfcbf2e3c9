//! Differential tests of the HDF5/NetCDF4 scanner: every variable of every fixture, read
//! through a store chunkref wrote, equals what netCDF-C (the `netcdf` crate) or the HDF5
//! library (`hdf5-metno`) read from the file itself. Exact, bit for bit (NaN included).

use std::path::{Path, PathBuf};

use chunkref::read::DynArray;
use chunkref::scan::{scan_file, ScanOptions, ScanOutput};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Scans a fixture, writes the store to a temporary file and opens it again.
fn scan_and_open(name: &str, options: &ScanOptions) -> (ScanOutput, chunkref::Dataset, tempfile::TempDir) {
    let out = scan_file(&fixture(name), options).unwrap_or_else(|e| panic!("scan {name}: {e}"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.json"));
    chunkref::refs::json::write(&out.store, &path).unwrap();
    let ds = chunkref::open(path.to_str().unwrap()).unwrap();
    (out, ds, dir)
}

/// The native-endian bytes of numeric values, or the padded bytes of fixed strings.
fn native_bytes(values: &DynArray, item_size: usize) -> Vec<u8> {
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

/// Variable `path` (`grp/sub/var`) of a netCDF file, through netCDF-C.
fn netcdf_variable<'f>(file: &'f netcdf::File, path: &str) -> netcdf::Variable<'f> {
    file.variable(path).unwrap_or_else(|| panic!("netCDF has no variable {path}"))
}

/// Compares every variable of a netCDF fixture with netCDF-C; returns how many were compared.
fn compare_with_netcdf(name: &str) -> usize {
    let (_, ds, _dir) = scan_and_open(name, &ScanOptions::default());
    let file = netcdf::open(fixture(name)).unwrap();
    let mut compared = 0;
    for path in ds.variables() {
        let ours = ds.variable(&path).unwrap();
        let theirs = netcdf_variable(&file, &path);
        let whole: Vec<std::ops::Range<u64>> = ours.shape().iter().map(|&n| 0..n).collect();
        let values = ours.read_dyn(&whole).unwrap_or_else(|e| panic!("{name}:{path}: {e}"));
        let expected_shape: Vec<u64> = theirs.dimensions().iter().map(|d| d.len() as u64).collect();
        assert_eq!(ours.shape(), expected_shape.as_slice(), "{name}:{path}: shape");
        let dims: Vec<String> = theirs.dimensions().iter().map(|d| d.name()).collect();
        assert_eq!(ours.dims(), dims.as_slice(), "{name}:{path}: dimension names");
        if let DynArray::String(strings) = &values {
            for (i, s) in strings.iter().enumerate() {
                assert_eq!(s, &theirs.get_string(i).unwrap(), "{name}:{path}[{i}]");
            }
        } else {
            let item = ours.meta().item_size().unwrap_or(1);
            let raw = theirs.get_raw_values(..).unwrap_or_else(|e| panic!("netCDF read {path}: {e}"));
            assert_eq!(native_bytes(&values, item), raw, "{name}:{path}: values differ from netCDF-C");
        }
        compared += 1;
    }
    compared
}

#[test]
fn era5_small_matches_netcdf() {
    assert!(compare_with_netcdf("era5_small.nc") >= 4);
}

#[test]
fn groups_match_netcdf() {
    assert!(compare_with_netcdf("groups.nc") >= 5);
}

#[test]
fn every_type_matches_netcdf() {
    assert!(compare_with_netcdf("types.nc") >= 20);
}

#[test]
fn packed_matches_netcdf() {
    assert!(compare_with_netcdf("packed.nc") >= 3);
}

#[test]
fn unlimited_with_unwritten_chunks_matches_netcdf() {
    assert!(compare_with_netcdf("unlimited.nc") >= 3);
}
