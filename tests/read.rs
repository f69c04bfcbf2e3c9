//! Reading reference stores built in memory over small binary files written by the tests:
//! exact values for every dtype path, codecs, missing and inline chunks, CF decoding, and
//! errors (never silent fill) for files or ranges that cannot be read.

#![allow(clippy::float_cmp)]
// values must be exactly equal, not close

// One-dimensional selections are one-element slices of ranges (`&[0..6]`), which is the API.
#![allow(clippy::single_range_in_vec_init)]

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chunkref::read::DynArray;
use chunkref::refs::{json, ArrayMeta, ArrayRefs, Attrs, ChunkManifest, RefStore};
use chunkref::{Dataset, Error};
use flate2::write::ZlibEncoder;
use ndarray::{arr0, arr1, arr2, ArrayD};
use serde_json::{json, Value};

/// A data file being written: chunks are appended after some junk and their offsets noted.
struct DataFile {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl DataFile {
    fn new(dir: &Path, name: &str) -> Self {
        // Junk first, so that offset 0 is never a valid chunk by accident.
        Self {
            path: dir.join(name),
            bytes: vec![0xAB; 17],
        }
    }

    /// Appends `chunk` (plus a junk byte after it) and returns its (offset, length).
    fn push(&mut self, chunk: &[u8]) -> (u64, u64) {
        let offset = self.bytes.len() as u64;
        self.bytes.extend_from_slice(chunk);
        self.bytes.push(0xCD);
        (offset, chunk.len() as u64)
    }

    fn write(&self) -> String {
        std::fs::File::create(&self.path)
            .unwrap()
            .write_all(&self.bytes)
            .unwrap();
        self.path.to_str().unwrap().to_owned()
    }
}

fn meta(shape: &[u64], chunks: &[u64], dtype: &str, fill: Value, filters: Vec<Value>) -> ArrayMeta {
    ArrayMeta {
        shape: shape.to_vec(),
        chunks: chunks.to_vec(),
        dtype: dtype.into(),
        fill_value: fill,
        filters,
        compressor: None,
        dimensions: (0..shape.len()).map(|i| format!("d{i}")).collect(),
        attrs: Attrs::new(),
    }
}

/// Adds array `name` whose chunk `n` is `refs[n]`: `Some((url, offset, length))` or missing.
fn add_array(store: &mut RefStore, name: &str, meta: ArrayMeta, refs: &[Option<(&str, u64, u64)>]) {
    let grid = meta.grid();
    let mut chunks = ChunkManifest::new(&grid).unwrap();
    for (n, r) in refs.iter().enumerate() {
        if let Some((url, offset, length)) = r {
            let u = store.intern_url(url);
            chunks.set_range(n, u, *offset, *length);
        }
    }
    store.arrays.insert(name.into(), ArrayRefs { meta, chunks });
}

fn be_i16(values: &[i16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_be_bytes()).collect()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut enc = ZlibEncoder::new(Vec::new(), flate2::Compression::new(4));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// numcodecs/HDF5 shuffle: byte `b` of every element, for each `b` in turn.
fn shuffle(data: &[u8], size: usize) -> Vec<u8> {
    let n = data.len() / size;
    (0..size)
        .flat_map(|b| (0..n).map(move |i| data[i * size + b]))
        .collect()
}

/// HDF5's Fletcher-32, written independently of the crate (plain modular sums; the test
/// inputs never give a sum of 0 mod 65535, where HDF5 may write 0xffff instead of 0).
fn fletcher32(data: &[u8]) -> [u8; 4] {
    let (mut a, mut b) = (0u32, 0u32);
    for pair in data.chunks(2) {
        let word = u32::from(pair[0]) << 8 | pair.get(1).copied().map_or(0, u32::from);
        a = (a + word) % 65535;
        b = (b + a) % 65535;
    }
    (b << 16 | a).to_le_bytes()
}

fn with_checksum(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    out.extend_from_slice(&fletcher32(data));
    out
}

/// `>i2`, shape [5, 4], chunks [2, 3]: a 3 x 2 grid with edge chunks stored full size.
fn big_endian_grid(dir: &Path) -> (Dataset, ArrayD<i16>) {
    let expected = ArrayD::from_shape_fn(vec![5, 4], |ix| (ix[0] * 100 + ix[1]) as i16 - 250);
    let mut file = DataFile::new(dir, "be.bin");
    let mut placed = Vec::new();
    for ci in 0..3 {
        for cj in 0..2 {
            let block: Vec<i16> = (0..2)
                .flat_map(|i| (0..3).map(move |j| (ci * 2 + i, cj * 3 + j)))
                .map(|(i, j)| {
                    if i < 5 && j < 4 {
                        expected[[i, j]]
                    } else {
                        7777
                    }
                })
                .collect();
            placed.push(file.push(&be_i16(&block)));
        }
    }
    let url = file.write();
    let refs: Vec<_> = placed
        .iter()
        .map(|&(o, l)| Some((url.as_str(), o, l)))
        .collect();
    let mut store = RefStore::new();
    add_array(
        &mut store,
        "v",
        meta(&[5, 4], &[2, 3], ">i2", json!(-1), vec![]),
        &refs,
    );
    (Dataset::from_store(store), expected)
}

#[test]
fn big_endian_chunks_read_as_native_values() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, expected) = big_endian_grid(dir.path());
    let v = ds.variable("v").unwrap();
    assert_eq!(v.read_all::<i16>().unwrap(), expected);
    let block = v.read::<i16>(&[1..4, 2..4]).unwrap();
    assert_eq!(
        block,
        expected
            .slice(ndarray::s![1..4, 2..4])
            .to_owned()
            .into_dyn()
    );
    assert_eq!(
        v.read::<i16>(&[4..5, 3..4]).unwrap(),
        arr2(&[[expected[[4, 3]]]]).into_dyn()
    );
    assert_eq!(v.read::<i16>(&[2..2, 0..4]).unwrap().shape(), &[0, 4]);
    match v.read_dyn(&[0..5, 0..4]).unwrap() {
        DynArray::I16(a) => assert_eq!(a, expected),
        other => panic!("expected I16, got {other:?}"),
    }
    assert!(
        matches!(v.read::<f32>(&[0..1, 0..1]), Err(Error::Read { .. })),
        "wrong element type"
    );
}

#[test]
fn ranges_outside_the_shape_are_invalid_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, _) = big_endian_grid(dir.path());
    let v = ds.variable("/v").unwrap();
    for ranges in [
        vec![0..6, 0..4],
        vec![0..5],
        vec![Range { start: 3, end: 2 }, 0..1],
    ] {
        let err = v.read::<i16>(&ranges).unwrap_err();
        assert!(
            matches!(err, Error::InvalidArgument(_)),
            "{ranges:?}: {err}"
        );
        let text = err.to_string();
        assert!(text.contains('v') && text.contains("[5, 4]"), "{text}");
    }
}

#[test]
fn shuffled_zlib_chunks_decode_in_hdf5_pipeline_order() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "z.bin");
    let values: Vec<f32> = (0..40).map(|i| i as f32 * 0.25 - 3.0).collect();
    let mut refs = Vec::new();
    for chunk in values.chunks(8) {
        let raw: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        refs.push(file.push(&zlib(&shuffle(&raw, 4))));
    }
    let url = file.write();
    let mut refs: Vec<_> = refs
        .iter()
        .map(|&(o, l)| Some((url.as_str(), o, l)))
        .collect();
    refs[3] = None; // never written: reads as the fill value
    let filters = vec![
        json!({"id":"shuffle","elementsize":4}),
        json!({"id":"zlib","level":4}),
    ];
    let mut store = RefStore::new();
    add_array(
        &mut store,
        "t",
        meta(&[40], &[8], "<f4", json!("NaN"), filters),
        &refs,
    );
    let v = Dataset::from_store(store).variable("t").unwrap();
    let got = v.read_all::<f32>().unwrap();
    for (i, (g, e)) in got.iter().zip(&values).enumerate() {
        if (24..32).contains(&i) {
            assert!(
                g.is_nan(),
                "element {i} of a missing chunk is the fill value"
            );
        } else {
            assert_eq!(g, e, "element {i}");
        }
    }
    assert_eq!(
        v.read::<f32>(&[9..11]).unwrap(),
        arr1(&values[9..11]).into_dyn()
    );
}

#[test]
fn a_compressor_in_its_v2_place_also_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "c.bin");
    let raw: Vec<u8> = (0..6i32).flat_map(|v| (v * 1000).to_le_bytes()).collect();
    let (o, l) = file.push(&zlib(&shuffle(&raw, 4)));
    let url = file.write();
    let mut m = meta(
        &[6],
        &[6],
        "<i4",
        json!(0),
        vec![json!({"id":"shuffle","elementsize":4})],
    );
    m.compressor = Some(json!({"id":"zlib","level":1}));
    let mut store = RefStore::new();
    add_array(&mut store, "c", m, &[Some((&url, o, l))]);
    let v = Dataset::from_store(store).variable("c").unwrap();
    assert_eq!(
        v.read_all::<i32>().unwrap(),
        arr1(&[0, 1000, 2000, 3000, 4000, 5000]).into_dyn()
    );
}

#[test]
fn inline_and_missing_chunks() {
    let mut store = RefStore::new();
    let mut chunks = ChunkManifest::new(&[3]).unwrap();
    chunks.set_inline(0, vec![1, 0, 2, 0]);
    chunks.set_inline(2, vec![5, 0, 6, 0]);
    store.arrays.insert(
        "x".into(),
        ArrayRefs {
            meta: meta(&[6], &[2], "<u2", json!(9), vec![]),
            chunks,
        },
    );
    let v = Dataset::from_store(store).variable("x").unwrap();
    assert_eq!(
        v.read_all::<u16>().unwrap(),
        arr1(&[1u16, 2, 9, 9, 5, 6]).into_dyn()
    );
}

#[test]
fn scalars_read_with_no_ranges() {
    let mut store = RefStore::new();
    let mut chunks = ChunkManifest::new(&[]).unwrap();
    chunks.set_inline(0, 2.5f64.to_le_bytes().to_vec());
    store.arrays.insert(
        "s".into(),
        ArrayRefs {
            meta: meta(&[], &[], "<f8", json!(0.0), vec![]),
            chunks,
        },
    );
    let v = Dataset::from_store(store).variable("s").unwrap();
    assert_eq!(v.read::<f64>(&[]).unwrap(), arr0(2.5).into_dyn());
    assert_eq!(v.read_decoded(&[]).unwrap(), arr0(2.5).into_dyn());
}

#[test]
fn unreadable_references_are_errors_never_fill() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "short.bin");
    let (o, _) = file.push(&be_i16(&[1, 2]));
    let url = file.write();
    let gone = dir.path().join("gone.nc");
    let gone = gone.to_str().unwrap();
    let mut store = RefStore::new();
    add_array(
        &mut store,
        "past_eof",
        meta(&[2], &[2], ">i2", json!(0), vec![]),
        &[Some((&url, o, 400))],
    );
    add_array(
        &mut store,
        "gone",
        meta(&[2], &[2], ">i2", json!(0), vec![]),
        &[Some((gone, 0, 4))],
    );
    let zlib_filters = vec![json!({"id":"zlib","level":1})];
    let refs = [Some((gone, 0, 4)), Some((gone, 10, 4))];
    add_array(
        &mut store,
        "gone_many",
        meta(&[4], &[2], ">i2", json!(0), zlib_filters),
        &refs,
    );
    let ds = Dataset::from_store(store);
    for (name, needle) in [
        ("past_eof", "short.bin"),
        ("gone", "gone.nc"),
        ("gone_many", "gone.nc"),
    ] {
        let err = ds.variable(name).unwrap().read_all::<i16>().unwrap_err();
        assert!(matches!(err, Error::Fetch { .. }), "{name}: {err}");
        assert!(err.to_string().contains(needle), "{name}: {err}");
    }
}

#[test]
fn fletcher32_chunks_of_odd_length_verify_and_strip() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "f.bin");
    let a = file.push(&with_checksum(&[1, 2, 3, 4, 5, 6, 7]));
    let b = file.push(&with_checksum(&[8, 9, 10, 11, 12, 13, 14]));
    let mut bad = with_checksum(&[1, 2, 3, 4, 5, 6, 7]);
    bad[2] ^= 1;
    let c = file.push(&bad);
    let compressed = zlib(&[42u8; 7]);
    let d = file.push(&with_checksum(&compressed));
    let url = file.write();
    let f32_filter = || vec![json!({"id":"fletcher32"})];
    let mut store = RefStore::new();
    let refs = [
        Some((url.as_str(), a.0, a.1)),
        Some((url.as_str(), b.0, b.1)),
    ];
    add_array(
        &mut store,
        "ok",
        meta(&[14], &[7], "|u1", json!(0), f32_filter()),
        &refs,
    );
    add_array(
        &mut store,
        "bad",
        meta(&[7], &[7], "|u1", json!(0), f32_filter()),
        &[Some((&url, c.0, c.1))],
    );
    let filters = vec![json!({"id":"zlib","level":4}), json!({"id":"fletcher32"})];
    add_array(
        &mut store,
        "zf",
        meta(&[7], &[7], "|u1", json!(0), filters),
        &[Some((&url, d.0, d.1))],
    );
    let ds = Dataset::from_store(store);
    let ok = ds.variable("ok").unwrap().read_all::<u8>().unwrap();
    assert_eq!(ok, arr1(&(1..=14).collect::<Vec<u8>>()).into_dyn());
    let err = ds.variable("bad").unwrap().read_all::<u8>().unwrap_err();
    assert!(err.to_string().contains("checksum"), "{err}");
    assert_eq!(
        ds.variable("zf").unwrap().read_all::<u8>().unwrap(),
        arr1(&[42u8; 7]).into_dyn()
    );
}

#[test]
fn cf_decoding_masks_then_scales() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "cf.bin");
    let (o, l) = file.push(&be_i16(&[100, -32767, 0, 5]));
    let url = file.write();
    let mut m = meta(&[6], &[4], ">i2", json!(-32767), vec![]);
    let attrs = json!({"_FillValue": -32767, "missing_value": [5], "scale_factor": 0.5, "add_offset": 273.0});
    m.attrs = attrs.as_object().unwrap().clone();
    let mut store = RefStore::new();
    add_array(&mut store, "t", m, &[Some((&url, o, l)), None]);
    let got = Dataset::from_store(store)
        .variable("t")
        .unwrap()
        .read_decoded(&[0..6])
        .unwrap();
    assert_eq!(got[0], 323.0);
    assert_eq!(got[2], 273.0);
    for i in [1, 3, 4, 5] {
        assert!(
            got[i].is_nan(),
            "element {i} is fill or missing: {}",
            got[i]
        );
    }
}

#[test]
fn strings_fixed_and_variable_length() {
    let mut store = RefStore::new();
    let mut fixed = ChunkManifest::new(&[2]).unwrap();
    fixed.set_inline(0, b"ab\0xyz".to_vec());
    store.arrays.insert(
        "s".into(),
        ArrayRefs {
            meta: meta(&[3], &[2], "|S3", json!(""), vec![]),
            chunks: fixed,
        },
    );
    // numcodecs vlen-utf8: item count, then (length, bytes) per item, all u32 little-endian.
    let mut vlen = Vec::new();
    vlen.extend_from_slice(&2u32.to_le_bytes());
    for item in ["héllo", ""] {
        vlen.extend_from_slice(&(item.len() as u32).to_le_bytes());
        vlen.extend_from_slice(item.as_bytes());
    }
    let mut chunks = ChunkManifest::new(&[1]).unwrap();
    chunks.set_inline(0, vlen);
    let m = meta(
        &[2],
        &[2],
        "|O",
        Value::Null,
        vec![json!({"id":"vlen-utf8"})],
    );
    store
        .arrays
        .insert("o".into(), ArrayRefs { meta: m, chunks });
    let ds = Dataset::from_store(store);
    match ds.variable("s").unwrap().read_dyn(&[0..3]).unwrap() {
        DynArray::Bytes(a) => assert_eq!(
            a,
            arr1(&[b"ab".to_vec(), b"xyz".to_vec(), vec![]]).into_dyn()
        ),
        other => panic!("expected Bytes, got {other:?}"),
    }
    match ds.variable("o").unwrap().read_dyn(&[0..2]).unwrap() {
        DynArray::String(a) => assert_eq!(a, arr1(&["héllo".to_owned(), String::new()]).into_dyn()),
        other => panic!("expected String, got {other:?}"),
    }
    assert!(matches!(
        ds.variable("o").unwrap().read_decoded(&[0..2]),
        Err(Error::Read { .. })
    ));
}

#[test]
fn many_compressed_chunks_read_in_parallel_equal_the_source() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "many.bin");
    let (rows, cols, crow, ccol) = (64u64, 50u64, 4u64, 10u64);
    let value = |i: u64, j: u64| (i * 1000 + j) as f64 / 7.0;
    let mut refs = Vec::new();
    for ci in 0..rows / crow {
        for cj in 0..cols / ccol {
            let raw: Vec<u8> = (0..crow)
                .flat_map(|i| (0..ccol).map(move |j| value(ci * crow + i, cj * ccol + j)))
                .flat_map(f64::to_be_bytes)
                .collect();
            refs.push(file.push(&zlib(&raw)));
        }
    }
    let url = file.write();
    let refs: Vec<_> = refs
        .iter()
        .map(|&(o, l)| Some((url.as_str(), o, l)))
        .collect();
    let filters = vec![json!({"id":"zlib","level":4})];
    let mut store = RefStore::new();
    add_array(
        &mut store,
        "g/m",
        meta(&[rows, cols], &[crow, ccol], ">f8", json!(0), filters),
        &refs,
    );
    let v = Dataset::from_store(store).variable("g/m").unwrap();
    let all = v.read_all::<f64>().unwrap();
    assert_eq!(
        all,
        ArrayD::from_shape_fn(vec![rows as usize, cols as usize], |ix| value(
            ix[0] as u64,
            ix[1] as u64
        ))
    );
    let block = v.read::<f64>(&[3..37, 15..16]).unwrap();
    assert_eq!(block.shape(), &[34, 1]);
    assert_eq!(block[[0, 0]], value(3, 15));
}

/// Writes `store` as kerchunk JSON into `dir` and returns the path.
fn save(store: &RefStore, dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, json::to_json(store)).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn open_reads_json_stores_by_path_and_file_url() {
    let dir = tempfile::tempdir().unwrap();
    let (ds, expected) = big_endian_grid(dir.path());
    let path = save(ds.store(), dir.path(), "refs.json");
    let url = url::Url::from_file_path(&path).unwrap().to_string();
    for location in [path.as_str(), url.as_str()] {
        let opened = chunkref::open(location).unwrap();
        assert_eq!(opened.variables(), vec!["v".to_owned()]);
        assert_eq!(opened.groups(), vec![String::new()]);
        let v = opened.variable("v").unwrap();
        assert_eq!(
            (v.name(), v.shape(), v.dims()),
            ("v", &[5u64, 4][..], &["d0".to_owned(), "d1".to_owned()][..])
        );
        assert_eq!(v.read_all::<i16>().unwrap(), expected);
    }
    let err = chunkref::open(&path).unwrap().variable("w").unwrap_err();
    assert!(
        matches!(err, Error::NoSuchVariable { .. }) && err.to_string().contains("variables: v"),
        "{err}"
    );
    assert!(matches!(
        chunkref::open(dir.path().join("none.json").to_str().unwrap()),
        Err(Error::Fetch { .. })
    ));
    assert!(matches!(
        chunkref::open(dir.path().to_str().unwrap()),
        Err(Error::Store { .. })
    ));
}

#[test]
fn v0_stores_with_relative_urls_resolve_against_the_store() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let mut file = DataFile::new(&dir.path().join("data"), "r.bin");
    let (o, l) = file.push(&be_i16(&[-5, 6]));
    file.write();
    let v0 = json!({
        ".zgroup": "{\"zarr_format\":2}",
        "r/.zarray": json::zarray(&meta(&[2], &[2], ">i2", json!(0), vec![])).to_string(),
        "r/.zattrs": "{\"_ARRAY_DIMENSIONS\":[\"x\"],\"units\":\"K\"}",
        "r/0": ["data/r.bin", o, l],
    });
    let path = dir.path().join("v0.json");
    std::fs::write(&path, v0.to_string()).unwrap();
    let v = chunkref::open(path.to_str().unwrap())
        .unwrap()
        .variable("r")
        .unwrap();
    assert_eq!(v.attrs()["units"], "K");
    assert_eq!(v.dims(), &["x".to_owned()]);
    assert_eq!(v.read_all::<i16>().unwrap(), arr1(&[-5i16, 6]).into_dyn());
}

#[test]
fn reads_do_not_touch_chunks_outside_the_selection() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "lazy.bin");
    let (o, l) = file.push(&zlib(&be_i16(&[1, 2])));
    let url = file.write();
    let gone = dir.path().join("gone.bin");
    let filters = vec![json!({"id":"zlib","level":1})];
    let refs = [
        Some((url.as_str(), o, l)),
        Some((gone.to_str().unwrap(), 0, 9)),
        Some((url.as_str(), o, l)),
    ];
    let mut store = RefStore::new();
    add_array(
        &mut store,
        "z",
        meta(&[6], &[2], ">i2", json!(0), filters),
        &refs,
    );
    let v = Dataset::from_store(store).variable("z").unwrap();
    assert_eq!(v.read::<i16>(&[0..2]).unwrap(), arr1(&[1i16, 2]).into_dyn());
    assert_eq!(v.read::<i16>(&[4..6]).unwrap(), arr1(&[1i16, 2]).into_dyn());
    assert!(
        v.read::<i16>(&[1..5]).is_err(),
        "the selection touches the missing file"
    );
}

#[test]
fn datasets_and_variables_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Dataset>();
    assert_send_sync::<chunkref::Variable>();
}

#[test]
fn error_messages_name_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = DataFile::new(dir.path(), "e.bin");
    let (o, _) = file.push(&[1, 2, 3]);
    let url = file.write();
    let mut store = RefStore::new();
    add_array(
        &mut store,
        "eof",
        meta(&[7], &[7], "|u1", json!(0), vec![]),
        &[Some((&url, o, 1000))],
    );
    let lz4 = vec![json!({"id":"lz4"})];
    add_array(
        &mut store,
        "codec",
        meta(&[7], &[7], "|u1", json!(0), lz4),
        &[Some((&url, o, 3))],
    );
    let gone = dir.path().join("gone.nc");
    add_array(
        &mut store,
        "gone",
        meta(&[7], &[7], "|u1", json!(0), vec![]),
        &[Some((gone.to_str().unwrap(), 5, 7))],
    );
    let ds = Dataset::from_store(store);
    let message = |name: &str| {
        ds.variable(name)
            .unwrap()
            .read_all::<u8>()
            .unwrap_err()
            .to_string()
    };
    let eof = message("eof");
    assert!(
        eof.contains(
            "e.bin: chunk eof/0: bytes 17..1017 reach past the end of the file (21 bytes)"
        ),
        "{eof}"
    );
    let codec = message("codec");
    assert!(
        codec.starts_with("codec: ") && codec.contains("lz4"),
        "{codec}"
    );
    let gone = message("gone");
    assert!(
        gone.contains("gone.nc: chunk gone/0: reading bytes 5..12: no such file"),
        "{gone}"
    );
}
