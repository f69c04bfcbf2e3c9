//! Differential tests of the `NetCDF3` scanner: every variable of every nc3 fixture, read
//! through a store chunkref wrote, equals what netCDF-C (the `netcdf` crate) reads from the
//! file itself, bit for bit; dimensions and every attribute agree. Then bad input: every
//! truncation of every header, and garbage counts, are errors naming the file, never panics.
//! (The comparisons with netCDF-C need the `hdf5` feature, which builds it; the rest does not.)

#![allow(clippy::float_cmp)] // values must be exactly equal, not close

mod common;

#[cfg(feature = "hdf5")]
use std::path::Path;

#[cfg(feature = "hdf5")]
use common::{assert_same_shape_and_dims, native_bytes, read_whole, scan_and_open};
use common::{fixture, no_inline, serial};

#[cfg(feature = "hdf5")]
use chunkref::refs::float_attr;
use chunkref::refs::ChunkRef;
use chunkref::scan::{scan_file, ScanOptions};
use serde_json::Value;

/// Every nc3 fixture but the streaming one, which netCDF-C cannot read (it takes numrecs
/// 0xFFFFFFFF literally); that one is compared with the file it was patched from.
const FIXTURES: [&str; 4] = [
    "nc3_classic.nc",
    "nc3_64bit_offset.nc",
    "nc3_cdf5.nc",
    "nc3_one_record_var.nc",
];

/// An attribute as netCDF-C reads it, in the JSON form the scanner writes.
#[cfg(feature = "hdf5")]
fn netcdf_attr(value: netcdf::AttributeValue) -> Value {
    use netcdf::AttributeValue as A;
    fn list<T>(v: Vec<T>, f: impl Fn(T) -> Value) -> Value {
        Value::Array(v.into_iter().map(f).collect())
    }
    match value {
        A::Uchar(x) => x.into(),
        A::Schar(x) => x.into(),
        A::Ushort(x) => x.into(),
        A::Short(x) => x.into(),
        A::Uint(x) => x.into(),
        A::Int(x) => x.into(),
        A::Ulonglong(x) => x.into(),
        A::Longlong(x) => x.into(),
        A::Float(x) => float_attr(f64::from(x)),
        A::Double(x) => float_attr(x),
        A::Str(s) => s.into(),
        A::Uchars(v) => list(v, Value::from),
        A::Schars(v) => list(v, Value::from),
        A::Ushorts(v) => list(v, Value::from),
        A::Shorts(v) => list(v, Value::from),
        A::Uints(v) => list(v, Value::from),
        A::Ints(v) => list(v, Value::from),
        A::Ulonglongs(v) => list(v, Value::from),
        A::Longlongs(v) => list(v, Value::from),
        A::Floats(v) => list(v, |x| float_attr(f64::from(x))),
        A::Doubles(v) => list(v, float_attr),
        A::Strs(v) => list(v, Value::from),
    }
}

#[cfg(feature = "hdf5")]
fn netcdf_attrs<'a>(attrs: impl Iterator<Item = netcdf::Attribute<'a>>) -> chunkref::refs::Attrs {
    attrs
        .map(|a| (a.name().to_owned(), netcdf_attr(a.value().unwrap())))
        .collect()
}

/// Compares every variable of the store of `scanned` with netCDF-C's read of `source`;
/// returns how many variables were compared.
#[cfg(feature = "hdf5")]
fn compare_with_netcdf(scanned: &Path, source: &Path, options: &ScanOptions) -> usize {
    let (out, ds, _dir) = scan_and_open(scanned, options);
    let file = netcdf::open(source).unwrap();
    let name = source.display();
    assert_eq!(
        out.store.groups[""],
        netcdf_attrs(file.attributes()),
        "{name}: global attributes"
    );
    let mut ours_names = ds.variables();
    ours_names.sort();
    let mut theirs_names: Vec<String> = file.variables().map(|v| v.name()).collect();
    theirs_names.sort();
    assert_eq!(ours_names, theirs_names, "{name}: variables");
    let mut compared = 0;
    for path in ds.variables() {
        let ours = ds.variable(&path).unwrap();
        let theirs = file.variable(&path).unwrap();
        assert_same_shape_and_dims(&format!("{name}:{path}"), &ours, &theirs);
        assert_eq!(
            ours.attrs(),
            &netcdf_attrs(theirs.attributes()),
            "{name}:{path}: attributes"
        );
        let values = read_whole(&ours);
        let raw = theirs
            .get_raw_values(..)
            .unwrap_or_else(|e| panic!("netCDF read {path}: {e}"));
        assert_eq!(
            native_bytes(&values, 1),
            raw,
            "{name}:{path}: values differ from netCDF-C"
        );
        compared += 1;
    }
    compared
}

#[cfg(feature = "hdf5")]
#[test]
fn every_fixture_matches_netcdf() {
    let _serial = serial();
    for options in [ScanOptions::default(), no_inline()] {
        for name in FIXTURES {
            let path = fixture(name);
            assert!(compare_with_netcdf(&path, &path, &options) >= 2, "{name}");
        }
    }
}

/// numrecs = 0xFFFFFFFF (a file being written): the records are counted from the file size,
/// and the store equals the one of the file before it was patched, byte range for byte range.
#[test]
fn streaming_numrecs_come_from_the_file_size() {
    let _serial = serial();
    #[cfg(feature = "hdf5")]
    for options in [ScanOptions::default(), no_inline()] {
        let n = compare_with_netcdf(
            &fixture("nc3_streaming.nc"),
            &fixture("nc3_64bit_offset.nc"),
            &options,
        );
        assert!(n >= 7);
    }
    let options = ScanOptions {
        url: Some("file:///x.nc".into()),
        ..no_inline()
    };
    let streaming = scan_file(&fixture("nc3_streaming.nc"), &options).unwrap();
    let source = scan_file(&fixture("nc3_64bit_offset.nc"), &options).unwrap();
    assert_eq!(streaming.store, source.store);
}

#[test]
fn chunks_follow_the_record_layout() {
    let _serial = serial();
    let out = scan_file(&fixture("nc3_64bit_offset.nc"), &no_inline()).unwrap();
    let store = &out.store;
    let range = |var: &str, n: usize| match store.chunk_ref(&store.arrays[var], n) {
        ChunkRef::Range { offset, length, .. } => (offset, length),
        other => panic!("{var}/{n}: {other:?}"),
    };
    // record variables a (6 B), b (16 B), c (3 B), d (4 B), e (1 B), time (4 B):
    // padded 8 + 16 + 4 + 4 + 4 + 4 = 40 bytes a record
    for var in ["a", "b", "c", "d", "e", "time"] {
        let meta = &store.arrays[var].meta;
        assert_eq!(meta.shape[0], 5, "{var}");
        assert_eq!(meta.chunks[0], 1, "{var}");
        let (first, len) = range(var, 0);
        assert_eq!(
            len,
            meta.chunks.iter().product::<u64>() * meta.item_size().unwrap() as u64
        );
        for n in 1..5 {
            assert_eq!(range(var, n), (first + 40 * n as u64, len), "{var}/{n}");
        }
    }
    // a fixed variable: one chunk of exactly its size
    let x = &store.arrays["x"];
    assert_eq!((x.meta.chunks.clone(), range("x", 0).1), (vec![3], 12));

    let out = scan_file(&fixture("nc3_one_record_var.nc"), &no_inline()).unwrap();
    let store = &out.store;
    let (first, len) = range_of(store, "obs", 0);
    assert_eq!(len, 6);
    for n in 1..5 {
        assert_eq!(
            range_of(store, "obs", n),
            (first + 6 * n as u64, 6),
            "unpadded records"
        );
    }
}

fn range_of(store: &chunkref::refs::RefStore, var: &str, n: usize) -> (u64, u64) {
    match store.chunk_ref(&store.arrays[var], n) {
        ChunkRef::Range { offset, length, .. } => (offset, length),
        other => panic!("{var}/{n}: {other:?}"),
    }
}

#[test]
fn dtypes_and_fill_values() {
    let _serial = serial();
    let out = scan_file(&fixture("nc3_classic.nc"), &ScanOptions::default()).unwrap();
    let meta = |v: &str| out.store.arrays[v].meta.clone();
    assert_eq!(meta("temp").dtype, ">f4");
    assert_eq!(meta("temp").fill_value, serde_json::json!(-999.0));
    assert_eq!(meta("count").fill_value, serde_json::json!(-1));
    assert_eq!(meta("elevation").fill_value, Value::Null);
    assert_eq!(meta("precip").fill_value, Value::Null);
    assert_eq!(meta("byte_var").dtype, "|i1");
    assert_eq!(meta("station_name").dtype, "|S1");
    assert_eq!(meta("station_name").dimensions, ["station", "strlen"]);
    assert_eq!(meta("scalar_double").shape, Vec::<u64>::new());
    let out = scan_file(&fixture("nc3_64bit_offset.nc"), &ScanOptions::default()).unwrap();
    assert_eq!(out.store.arrays["b"].meta.fill_value, Value::from("NaN"));
    let out = scan_file(&fixture("nc3_cdf5.nc"), &ScanOptions::default()).unwrap();
    let dtypes: Vec<&str> = ["u1_var", "u2_var", "u4_var", "i8_var", "u8_var"]
        .iter()
        .map(|v| out.store.arrays[*v].meta.dtype.as_str())
        .collect();
    assert_eq!(dtypes, ["|u1", ">u2", ">u4", ">i8", ">u8"]);
    assert_eq!(
        out.store.arrays["u2_filled"].meta.fill_value,
        Value::from(65535)
    );
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
}

/// Where the header of an nc3 file ends: the smallest `begin` of its variables.
fn header_len(bytes: &[u8]) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("h.nc");
    std::fs::write(&path, bytes).unwrap();
    let out = scan_file(&path, &no_inline()).unwrap();
    out.store
        .arrays
        .values()
        .filter_map(|a| {
            (0..a.chunks.len()).find_map(|n| match out.store.chunk_ref(a, n) {
                ChunkRef::Range { offset, .. } => Some(offset as usize),
                _ => None,
            })
        })
        .min()
        .unwrap()
}

/// A fixture cut at every byte of its header, and at a few points in its data, fails to scan
/// with an error naming the file (and no panic).
#[test]
fn every_truncation_is_an_error_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    for name in FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let header = header_len(&bytes);
        // (the last 3 bytes may be record padding, which no variable needs)
        let data_cuts = [
            header + 1,
            usize::midpoint(header, bytes.len()),
            bytes.len() - 4,
        ];
        let path = tmp.path().join(name);
        for end in (0..header).chain(data_cuts) {
            std::fs::write(&path, &bytes[..end]).unwrap();
            let err = match scan_file(&path, &ScanOptions::default()) {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{name} cut at {end} scanned"),
            };
            assert!(
                err.contains(&path.display().to_string()),
                "{name} cut at {end}: {err}"
            );
            if end >= 4 {
                assert!(err.contains("byte"), "{name} cut at {end}: {err}");
            }
        }
    }
}

/// Counts far beyond the file's size are refused at once, naming the offset.
#[test]
fn garbage_counts_fail_fast() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("nc3_classic.nc")).unwrap();
    let path = tmp.path().join("garbage.nc");
    // the dimension count follows the magic, numrecs and the dimension tag
    for (at, value) in [
        (12usize, 0xFFFF_FFF0u32),
        (12, 0x7FFF_FFFF),
        (16, 0xFFFF_FFF0),
    ] {
        let mut b = bytes.clone();
        b[at..at + 4].copy_from_slice(&value.to_be_bytes());
        std::fs::write(&path, &b).unwrap();
        let start = std::time::Instant::now();
        let err = scan_file(&path, &ScanOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("at byte"), "{err}");
        assert!(start.elapsed().as_secs() < 2, "took {:?}", start.elapsed());
    }
    // a begin pointing past the end of the file
    let mut b = bytes.clone();
    b[4..8].copy_from_slice(&0x00FF_FFFFu32.to_be_bytes()); // 16 million records
    std::fs::write(&path, &b).unwrap();
    let err = scan_file(&path, &ScanOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("past the end of the file"), "{err}");
}

/// `url_prefix` applies to nc3 stores as to HDF5 ones.
#[test]
fn url_prefix_rewrites_nc3_urls() {
    let dir = fixture("").display().to_string();
    let options = ScanOptions {
        url_prefix: Some((dir, "s3://bucket/".into())),
        ..no_inline()
    };
    let out = scan_file(&fixture("nc3_classic.nc"), &options).unwrap();
    assert_eq!(out.store.urls(), ["s3://bucket/nc3_classic.nc"]);
}

/// Random corruptions of every header (a seeded xorshift, so failures reproduce): each scan
/// ends, quickly, in a store or an error naming the file; never a panic.
#[test]
fn corrupted_headers_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let start = std::time::Instant::now();
    for name in FIXTURES {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let header = header_len(&bytes);
        let path = tmp.path().join(name);
        for _ in 0..300 {
            let mut b = bytes.clone();
            for _ in 0..=next() % 3 {
                let at = 4 + (next() as usize) % (header - 4);
                let word = match next() % 4 {
                    0 => 0xFFFF_FFFF,
                    1 => 0x7FFF_FFFF,
                    2 => next() as u32 & 0xFF,
                    _ => next() as u32,
                };
                let end = (at + 4).min(b.len());
                b[at..end].copy_from_slice(&word.to_be_bytes()[..end - at]);
            }
            std::fs::write(&path, &b).unwrap();
            if let Err(e) = scan_file(&path, &ScanOptions::default()) {
                assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            }
        }
    }
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

/// A variable whose data would begin inside the header is a corrupt header, named as such.
#[test]
fn data_inside_the_header_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("nc3_one_record_var.nc")).unwrap();
    let header = header_len(&bytes);
    // the last 4 header bytes are the begin of the last variable (`obs`, classic: 4 bytes)
    let mut b = bytes.clone();
    b[header - 4..header].copy_from_slice(&8u32.to_be_bytes());
    let path = tmp.path().join("inside.nc");
    std::fs::write(&path, &b).unwrap();
    let err = scan_file(&path, &ScanOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("variable obs: its data begins at byte 8, inside the header"),
        "{err}"
    );
}
