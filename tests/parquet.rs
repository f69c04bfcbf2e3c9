//! kerchunk Parquet stores: JSON -> Parquet -> JSON gives the same bytes, for fixture scans
//! and for a store with every kind of reference (range, whole file, inline, missing, scalar,
//! nested group, several urls), with a record size small enough for many files per array;
//! and `chunkref::open` reads a Parquet store as it reads the JSON one.

use std::path::Path;

use chunkref::refs::{json, parquet, ArrayMeta, ArrayRefs, Attrs, ChunkManifest, RefStore};
use chunkref::scan::{scan_file, ScanOptions};
use serde_json::Value;

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Writes `store` as JSON and as Parquet, reads the Parquet store back and checks it writes
/// the same JSON; then that both open to the same values.
fn round_trip(store: &RefStore, record_size: usize) {
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("store.json");
    json::write(store, &json_path).unwrap();
    let original = std::fs::read(&json_path).unwrap();
    let from_json = json::from_json(&original, "store.json").unwrap();

    let pq = dir.path().join("store.parq");
    parquet::write(&from_json, &pq, record_size).unwrap();
    let back = parquet::read(&pq, "store.parq").unwrap();
    assert_eq!(
        String::from_utf8(json::to_json(&back)).unwrap(),
        String::from_utf8(original.clone()).unwrap()
    );

    // Writing again replaces the store in place, and leaves nothing beside it.
    parquet::write(&back, &pq, record_size + 1).unwrap();
    assert_eq!(
        json::to_json(&parquet::read(&pq, "again").unwrap()),
        original
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    let a = chunkref::open(json_path.to_str().unwrap()).unwrap();
    let b = chunkref::open(pq.to_str().unwrap()).unwrap();
    assert_eq!(a.variables(), b.variables());
    for name in a.variables() {
        let (va, vb) = (a.variable(&name).unwrap(), b.variable(&name).unwrap());
        let full: Vec<_> = va.shape().iter().map(|&n| 0..n).collect();
        match (va.read_dyn(&full), vb.read_dyn(&full)) {
            // (as text: NaN == NaN)
            (Ok(x), Ok(y)) => assert_eq!(format!("{x:?}"), format!("{y:?}"), "{name}"),
            (Err(x), Err(y)) => assert_eq!(x.to_string(), y.to_string()),
            (x, y) => panic!("{name}: {x:?} vs {y:?}"),
        }
    }
}

#[test]
fn netcdf3_scan_round_trips() {
    let options = ScanOptions {
        inline_threshold: 100,
        ..ScanOptions::default()
    };
    let out = scan_file(&fixture("nc3_classic.nc"), &options).unwrap();
    assert!(out.store.stats().inline_chunks > 0, "some chunks inline");
    round_trip(&out.store, 3);
    round_trip(&out.store, parquet::DEFAULT_RECORD_SIZE);
}

#[cfg(feature = "hdf5")]
#[test]
fn netcdf4_scan_round_trips() {
    let out = scan_file(&fixture("era5_small.nc"), &ScanOptions::default()).unwrap();
    round_trip(&out.store, 3);
}

fn meta(shape: &[u64], chunks: &[u64]) -> ArrayMeta {
    ArrayMeta {
        shape: shape.to_vec(),
        chunks: chunks.to_vec(),
        dtype: "<i2".into(),
        fill_value: Value::from(-1),
        filters: vec![],
        compressor: None,
        dimensions: (0..shape.len()).map(|i| format!("d{i}")).collect(),
        attrs: Attrs::new(),
    }
}

#[test]
fn every_kind_of_reference_round_trips() {
    let mut store = RefStore::new();
    let a = store.intern_url("file:///data/a.bin");
    let b = store.intern_url("relative/b.bin");
    let mut chunks = ChunkManifest::new(&[3, 4]).unwrap();
    for n in 0..12 {
        match n % 4 {
            0 => chunks.set_range(n, if n % 8 == 0 { a } else { b }, 100 + n as u64, 7),
            1 => chunks.set_inline(n, vec![n as u8, 0]),
            2 => chunks.set_whole(n, b),
            _ => {} // missing
        }
    }
    store.arrays.insert(
        "grp/sub/v".into(),
        ArrayRefs {
            meta: meta(&[6, 8], &[2, 2]),
            chunks,
        },
    );
    let mut scalar = ChunkManifest::new(&[]).unwrap();
    scalar.set_inline(0, vec![5, 0]);
    store.arrays.insert(
        "s".into(),
        ArrayRefs {
            meta: meta(&[], &[]),
            chunks: scalar,
        },
    );
    store.arrays.insert(
        "empty".into(),
        ArrayRefs {
            meta: meta(&[0], &[4]),
            chunks: ChunkManifest::new(&[0]).unwrap(),
        },
    );
    let mut attrs = Attrs::new();
    attrs.insert("nan".into(), chunkref::refs::float_attr(f64::NAN));
    store.groups.insert("grp".into(), attrs);
    store.add_parent_groups();
    store.renumber_urls();
    for record_size in [1, 3, 5, 100] {
        let dir = tempfile::tempdir().unwrap();
        let pq = dir.path().join("s.parquet");
        parquet::write(&store, &pq, record_size).unwrap();
        assert_eq!(parquet::read(&pq, "s").unwrap(), store);
        let files = std::fs::read_dir(pq.join("grp/sub/v")).unwrap().count();
        assert_eq!(files, 12usize.div_ceil(record_size));
        let meta = std::fs::read_to_string(pq.join(".zmetadata")).unwrap();
        assert!(meta.contains(&format!("\"record_size\":{record_size}")));
        assert!(meta.contains("\"nan\":NaN"), "{meta}");
    }
}

#[test]
fn bad_stores_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("bad.parq");
    std::fs::create_dir(&pq).unwrap();
    assert!(parquet::read(&pq, "bad").is_err(), "no .zmetadata");
    std::fs::write(pq.join(".zmetadata"), r#"{"metadata":{}}"#).unwrap();
    let err = parquet::read(&pq, "bad").unwrap_err().to_string();
    assert!(err.contains("record_size"), "{err}");
    let escape = r#"{"record_size":1,"metadata":{"../x/.zarray":{"chunks":[1],"compressor":null,"dtype":"<i2","fill_value":0,"filters":null,"order":"C","shape":[1],"zarr_format":2}}}"#;
    std::fs::write(pq.join(".zmetadata"), escape).unwrap();
    let err = parquet::read(&pq, "bad").unwrap_err().to_string();
    assert!(err.contains("leaves the store"), "{err}");
    assert!(parquet::write(&RefStore::new(), &pq, 0).is_err());
}
