//! Differential tests of the HDF5/NetCDF4 scanner: every variable of every fixture, read
//! through a store chunkref wrote, equals what netCDF-C (the `netcdf` crate) or the HDF5
//! library (`hdf5-metno`) read from the file itself. Exact, bit for bit (NaN included).

#![allow(clippy::float_cmp)] // values must be exactly equal, not close

mod common;

use common::{
    assert_same_shape_and_dims, fixture, native_bytes, read_whole, scan_and_open, serial,
};

use chunkref::read::DynArray;
use chunkref::scan::{scan_file, ScanOptions};

/// Variable `path` (`grp/sub/var`) of a netCDF file, through netCDF-C.
fn netcdf_variable<'f>(file: &'f netcdf::File, path: &str) -> netcdf::Variable<'f> {
    file.variable(path)
        .unwrap_or_else(|| panic!("netCDF has no variable {path}"))
}

/// Compares every variable of a netCDF fixture with netCDF-C; returns how many were compared.
fn compare_with_netcdf(name: &str, options: &ScanOptions) -> usize {
    let (_, ds, _dir) = scan_and_open(&fixture(name), options);
    let file = netcdf::open(fixture(name)).unwrap();
    let mut compared = 0;
    for path in ds.variables() {
        let ours = ds.variable(&path).unwrap();
        let theirs = netcdf_variable(&file, &path);
        let values = read_whole(&ours);
        assert_same_shape_and_dims(&format!("{name}:{path}"), &ours, &theirs);
        if let DynArray::String(strings) = &values {
            for (i, s) in strings.iter().enumerate() {
                assert_eq!(s, &theirs.get_string(i).unwrap(), "{name}:{path}[{i}]");
            }
        } else {
            let item = ours.meta().item_size().unwrap_or(1);
            let raw = theirs
                .get_raw_values(..)
                .unwrap_or_else(|e| panic!("netCDF read {path}: {e}"));
            assert_eq!(
                native_bytes(&values, item),
                raw,
                "{name}:{path}: values differ from netCDF-C"
            );
        }
        compared += 1;
    }
    compared
}

#[test]
fn era5_small_matches_netcdf() {
    let _serial = serial();
    assert!(compare_with_netcdf("era5_small.nc", &ScanOptions::default()) >= 4);
}

#[test]
fn groups_match_netcdf() {
    let _serial = serial();
    assert!(compare_with_netcdf("groups.nc", &ScanOptions::default()) >= 5);
}

#[test]
fn every_type_matches_netcdf() {
    let _serial = serial();
    assert!(compare_with_netcdf("types.nc", &ScanOptions::default()) >= 20);
}

#[test]
fn packed_matches_netcdf() {
    let _serial = serial();
    assert!(compare_with_netcdf("packed.nc", &ScanOptions::default()) >= 3);
}

#[test]
fn unlimited_with_unwritten_chunks_matches_netcdf() {
    let _serial = serial();
    assert!(compare_with_netcdf("unlimited.nc", &ScanOptions::default()) >= 3);
}

/// Scans with `inline_threshold` 0, so every chunk is a byte-range reference into the file.
#[test]
fn every_fixture_matches_with_all_chunks_referenced() {
    let _serial = serial();
    let options = ScanOptions {
        inline_threshold: 0,
        ..ScanOptions::default()
    };
    for name in [
        "era5_small.nc",
        "groups.nc",
        "types.nc",
        "packed.nc",
        "unlimited.nc",
    ] {
        assert!(compare_with_netcdf(name, &options) > 0);
        let stats = scan_file(&fixture(name), &options).unwrap().store.stats();
        assert!(
            stats.chunks > stats.inline_chunks,
            "{name}: ranges were referenced"
        );
    }
}

/// The native-endian bytes HDF5 itself reads for a dataset (filters applied by HDF5).
fn hdf5_native_bytes(file: &hdf5::File, path: &str) -> Vec<u8> {
    use hdf5_sys::{h5d, h5p, h5s, h5t};
    let ds = file
        .dataset(path)
        .unwrap_or_else(|e| panic!("HDF5 has no dataset {path}: {e}"));
    hdf5::sync::sync(|| unsafe {
        let ftype = h5d::H5Dget_type(ds.id());
        let ntype = h5t::H5Tget_native_type(ftype, h5t::H5T_direction_t::H5T_DIR_ASCEND);
        let size = h5t::H5Tget_size(ntype);
        let mut buf = vec![0u8; ds.size() * size];
        if !buf.is_empty() {
            let status = h5d::H5Dread(
                ds.id(),
                ntype,
                h5s::H5S_ALL,
                h5s::H5S_ALL,
                h5p::H5P_DEFAULT,
                buf.as_mut_ptr().cast(),
            );
            assert!(status >= 0, "HDF5 cannot read {path}");
        }
        h5t::H5Tclose(ntype);
        h5t::H5Tclose(ftype);
        buf
    })
}

/// Compares every dataset chunkref kept from a plain HDF5 fixture with the HDF5 library's read.
fn compare_with_hdf5(name: &str, options: &ScanOptions) -> Vec<String> {
    let (_, ds, _dir) = scan_and_open(&fixture(name), options);
    let file = hdf5::File::open(fixture(name)).unwrap();
    let mut compared = Vec::new();
    for path in ds.variables() {
        let ours = ds.variable(&path).unwrap();
        let values = read_whole(&ours);
        if let DynArray::String(strings) = &values {
            let theirs = file
                .dataset(&path)
                .unwrap()
                .read_raw::<hdf5::types::VarLenUnicode>()
                .unwrap();
            let theirs: Vec<&str> = theirs
                .iter()
                .map(hdf5::types::VarLenUnicode::as_str)
                .collect();
            let ours: Vec<&str> = strings.iter().map(String::as_str).collect();
            assert_eq!(ours, theirs, "{name}:{path}");
        } else {
            let item = ours.meta().item_size().unwrap_or(1);
            assert_eq!(
                native_bytes(&values, item),
                hdf5_native_bytes(&file, &path),
                "{name}:{path}: values differ from HDF5"
            );
        }
        compared.push(path);
    }
    compared
}

#[test]
fn layouts_match_hdf5() {
    let _serial = serial();
    for threshold in [0, 500] {
        let options = ScanOptions {
            inline_threshold: threshold,
            ..ScanOptions::default()
        };
        let compared = compare_with_hdf5("layouts.h5", &options);
        for expected in [
            "compact",
            "contiguous",
            "contiguous_unwritten",
            "fletcher32_deflate",
            "no_scales",
            "fixed_string",
            "vlen_string",
            "filter_mask",
            "partial_unfiltered",
            "scaleoffset_int",
            "scaleoffset_float",
            "with_scale",
        ] {
            assert!(
                compared.iter().any(|c| c == expected),
                "{expected} was not scanned (threshold {threshold})"
            );
        }
    }
}

#[test]
fn every_chunk_index_type_matches_hdf5() {
    let _serial = serial();
    let options = ScanOptions {
        inline_threshold: 0,
        ..ScanOptions::default()
    };
    let compared = compare_with_hdf5("chunk_index.h5", &options);
    assert_eq!(compared.len(), 6, "{compared:?}");
}

#[test]
fn unsupported_datasets_are_skipped_by_name() {
    let _serial = serial();
    let out = scan_file(&fixture("layouts.h5"), &ScanOptions::default()).unwrap();
    for skipped in [
        "compound",
        "enum_data",
        "vlen_int",
        "opaque_data",
        "obj_refs",
        "lzf_data",
    ] {
        assert!(
            !out.store.arrays.contains_key(skipped),
            "{skipped} should be skipped"
        );
        assert!(
            out.warnings
                .iter()
                .any(|w| w.contains(&format!("variable {skipped} "))),
            "no warning names {skipped}: {:?}",
            out.warnings
        );
    }
    assert!(
        out.warnings.iter().any(|w| w.contains("lzf")),
        "the lzf warning names the filter"
    );
}

#[test]
fn masked_chunks_are_inlined_not_referenced() {
    let _serial = serial();
    let out = scan_file(
        &fixture("layouts.h5"),
        &ScanOptions {
            inline_threshold: 0,
            ..ScanOptions::default()
        },
    )
    .unwrap();
    let store = &out.store;
    for (name, masked) in [("filter_mask", 1), ("partial_unfiltered", 2)] {
        let array = &store.arrays[name];
        let r = store.chunk_ref(array, masked);
        assert!(
            matches!(r, chunkref::refs::ChunkRef::Inline(_)),
            "{name} chunk {masked}: {r:?}"
        );
        assert!(
            matches!(
                store.chunk_ref(array, 0),
                chunkref::refs::ChunkRef::Range { .. }
            ),
            "{name} chunk 0 is a plain reference"
        );
    }
}

/// With `_FillValue`, never-written chunks are missing keys and read as `fill_value`.
#[test]
fn unwritten_chunks_are_missing_keys() {
    let _serial = serial();
    let options = ScanOptions {
        inline_threshold: 0,
        ..ScanOptions::default()
    };
    let out = scan_file(&fixture("unlimited.nc"), &options).unwrap();
    let obs = &out.store.arrays["obs"];
    let present = (0..obs.chunks.len())
        .filter(|&n| !obs.chunks.is_missing(n))
        .count();
    assert_eq!((obs.chunks.len(), present), (8, 4));
    assert_eq!(obs.meta.fill_value, serde_json::json!(-999.0));
}

/// Without `_FillValue`, `fill_value` is null (xarray masks nothing, as with the file), and
/// never-written chunks are inlined holding HDF5's fill value, so they read as the file does.
#[test]
fn unwritten_chunks_without_fill_attribute_hold_the_hdf5_fill() {
    let _serial = serial();
    let options = ScanOptions {
        inline_threshold: 0,
        ..ScanOptions::default()
    };
    let out = scan_file(&fixture("chunk_index.h5"), &options).unwrap();
    let array = &out.store.arrays["extensible_sparse"];
    assert_eq!(array.meta.fill_value, serde_json::Value::Null);
    let refs: Vec<_> = (0..array.chunks.len())
        .map(|n| out.store.chunk_ref(array, n))
        .collect();
    let ranges = refs
        .iter()
        .filter(|r| matches!(r, chunkref::refs::ChunkRef::Range { .. }))
        .count();
    let inline: Vec<_> = refs
        .iter()
        .filter(|r| matches!(r, chunkref::refs::ChunkRef::Inline(_)))
        .collect();
    assert_eq!((refs.len(), ranges, inline.len()), (9, 2, 7));
    assert!(
        inline.windows(2).all(|w| w[0] == w[1]),
        "one shared fill chunk"
    );
    let out = scan_file(&fixture("unlimited.nc"), &options).unwrap();
    let counts = &out.store.arrays["counts"];
    assert_eq!(counts.meta.fill_value, serde_json::Value::Null);
    assert!(!counts.meta.attrs.contains_key("_FillValue"));
    assert!((0..counts.chunks.len()).all(|n| !counts.chunks.is_missing(n)));
}

#[test]
fn dimension_names_come_from_scales_or_are_phony() {
    let _serial = serial();
    let out = scan_file(&fixture("layouts.h5"), &ScanOptions::default()).unwrap();
    let dims = |v: &str| out.store.arrays[v].meta.dimensions.clone();
    assert_eq!(dims("with_scale")[0], "x");
    assert!(dims("with_scale")[1].starts_with("phony_dim_"));
    let ns = dims("no_scales");
    assert!(
        ns.iter().all(|d| d.starts_with("phony_dim_")) && ns[0] != ns[1],
        "{ns:?}"
    );
    let out = scan_file(&fixture("era5_small.nc"), &ScanOptions::default()).unwrap();
    assert_eq!(
        out.store.arrays["t2m"].meta.dimensions,
        ["time", "lat", "lon"]
    );
}

/// A chunk grid far larger than what is written (here 2^26 slots, one chunk written) is not
/// held as a dense manifest: the variable is skipped with a warning, the file still scans.
#[test]
fn very_sparse_grids_are_skipped_by_name() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.h5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let sparse = file
            .new_dataset::<f32>()
            .shape([1usize << 26])
            .chunk([1])
            .create("sparse")
            .unwrap();
        sparse.write_slice(&[1.5f32], 7..8).unwrap();
        file.new_dataset::<i32>()
            .shape([4])
            .create("small")
            .unwrap()
            .write(&[1, 2, 3, 4])
            .unwrap();
    }
    let out = scan_file(&path, &ScanOptions::default()).unwrap();
    assert!(out.store.arrays.contains_key("small"));
    assert!(!out.store.arrays.contains_key("sparse"));
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("variable sparse skipped") && w.contains("too sparse")),
        "{:?}",
        out.warnings
    );
}
