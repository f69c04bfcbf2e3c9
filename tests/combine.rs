//! Property tests of `chunkref::combine` on synthetic stores: any order of the inputs and any
//! split of them into a first combine and later appends give byte-identical stores; what must
//! agree is checked. (Values against xarray: `tests/interop/test_combine.py`.)

use chunkref::combine::{combine, CombineOptions, Combiner, CoordRule, Input};
use chunkref::refs::{json, ArrayMeta, ArrayRefs, Attrs, ChunkManifest, RefStore};
use serde_json::{json as j, Value};

/// A daily input: `time` (2 steps, "hours since <day>"), `lat` (3), `t(time, lat)` referenced
/// in `file:///data/<name>.nc` (and `member` in its name, for the ensemble case).
fn daily(name: &str, day: u32) -> Input {
    let mut store = RefStore::new();
    let url = store.intern_url(&format!("file:///data/{name}.nc"));
    let inline = |shape: Vec<u64>, dtype: &str, dims: &[&str], bytes: Vec<u8>, attrs: Attrs| {
        let meta = ArrayMeta {
            chunks: shape.clone(),
            shape,
            dtype: dtype.into(),
            fill_value: Value::Null,
            filters: vec![],
            compressor: None,
            dimensions: dims.iter().map(|d| (*d).to_owned()).collect(),
            attrs,
        };
        let mut chunks = ChunkManifest::new(&meta.grid()).unwrap();
        chunks.set_inline(0, bytes);
        ArrayRefs { meta, chunks }
    };
    let mut time_attrs = Attrs::new();
    time_attrs.insert(
        "units".into(),
        j!(format!("hours since 2020-01-{day:02} 00:00:00")),
    );
    time_attrs.insert("calendar".into(), j!("standard"));
    let hours: Vec<u8> = [0.0f64, 12.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    store.arrays.insert(
        "time".into(),
        inline(vec![2], "<f8", &["time"], hours, time_attrs),
    );
    let lats: Vec<u8> = [-10.0f64, 0.0, 10.0]
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    store.arrays.insert(
        "lat".into(),
        inline(vec![3], "<f8", &["lat"], lats, Attrs::new()),
    );
    let meta = ArrayMeta {
        shape: vec![2, 3],
        chunks: vec![1, 3],
        dtype: "<f4".into(),
        fill_value: j!("NaN"),
        filters: vec![j!({"id": "zlib", "level": 4})],
        compressor: None,
        dimensions: vec!["time".into(), "lat".into()],
        attrs: Attrs::new(),
    };
    let mut chunks = ChunkManifest::new(&meta.grid()).unwrap();
    chunks.set_range(0, url, 100, 40);
    chunks.set_range(1, url, 140, 44);
    store.arrays.insert("t".into(), ArrayRefs { meta, chunks });
    store.groups.insert(String::new(), Attrs::new());
    Input {
        name: format!("refs/{name}.json"),
        store,
    }
}

/// A change made to an input's array metadata.
type MetaChange = fn(&mut ArrayMeta);

fn time_options() -> CombineOptions {
    CombineOptions::along(["time"]).coord("time", CoordRule::CfTime("time".into()))
}

fn bytes(inputs: &[Input], options: &CombineOptions) -> Vec<u8> {
    json::to_json(&combine(inputs, options).unwrap().store)
}

/// Combines `parts[0]`, then appends each later part to the result, as `--append-to` does.
fn in_steps(parts: &[Vec<Input>], options: &CombineOptions) -> Vec<u8> {
    let mut store = combine(&parts[0], options).unwrap().store;
    for part in &parts[1..] {
        let existing = json::from_json(&json::to_json(&store), "existing.json").unwrap();
        let mut inputs = vec![Input {
            name: "existing.json".into(),
            store: existing,
        }];
        inputs.extend(part.iter().cloned());
        store = combine(&inputs, options).unwrap().store;
    }
    json::to_json(&store)
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.next(i + 1));
        }
    }
}

#[test]
fn any_order_and_any_split_into_appends_give_the_same_bytes() {
    let all: Vec<Input> = (1..=7).map(|d| daily(&format!("day{d}"), d)).collect();
    let options = time_options();
    let want = bytes(&all, &options);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..25 {
        // Appends add later days (an append never goes back in time): split the days in
        // order at random points, each part shuffled.
        let mut parts: Vec<Vec<Input>> = vec![Vec::new()];
        for input in &all {
            if !parts.last().unwrap().is_empty() && rng.next(3) == 0 {
                parts.push(Vec::new());
            }
            parts.last_mut().unwrap().push(input.clone());
        }
        for part in &mut parts {
            rng.shuffle(part);
        }
        let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
        let got = in_steps(&parts, &options);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "split {sizes:?}"
        );
    }
}

/// `store` written as kerchunk Parquet (record size `record_size`) and read back.
fn through_parquet(store: &RefStore, record_size: usize) -> RefStore {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.parq");
    chunkref::refs::parquet::write(store, &path, record_size).unwrap();
    chunkref::refs::parquet::read(&path, "store.parq").unwrap()
}

#[test]
fn batches_of_any_size_and_parquet_inputs_give_the_same_bytes() {
    // More days than fit in one month: the streaming combiner sees metadata and coordinates
    // shared across batches, and inputs read from Parquet as well as JSON.
    let all: Vec<Input> = (1..=28).map(|d| daily(&format!("day{d}"), d)).collect();
    let options = time_options();
    let want = bytes(&all, &options);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..12 {
        let mut inputs: Vec<Input> = all.clone();
        rng.shuffle(&mut inputs);
        for input in &mut inputs {
            if rng.next(3) == 0 {
                input.store = through_parquet(&input.store, 1 + rng.next(4));
            }
        }
        let mut combiner = Combiner::new(options.clone());
        let mut rest = &inputs[..];
        let mut sizes = Vec::new();
        while !rest.is_empty() {
            let n = (1 + rng.next(9)).min(rest.len());
            combiner.add_all(&rest[..n]).unwrap();
            sizes.push(n);
            rest = &rest[n..];
        }
        assert_eq!(combiner.len(), all.len());
        let got = json::to_json(&combiner.finish().unwrap().store);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "round {round}, batches {sizes:?}"
        );
    }
}

#[test]
fn ensemble_members_in_any_split_give_the_same_bytes() {
    let all: Vec<Input> = (1..=4)
        .map(|m| daily(&format!("tas_member{m:02}"), 1))
        .collect();
    let options = CombineOptions::along(["member"])
        .coord("member", CoordRule::parse(r"regex:member(\d+)").unwrap())
        .identical(["lat", "time"]);
    let want = bytes(&all, &options);
    for split in 1..4 {
        let parts = vec![all[..split].to_vec(), all[split..].to_vec()];
        assert_eq!(in_steps(&parts, &options), want, "split at {split}");
    }
    let store = json::from_json(&want, "ens.json").unwrap();
    let t = &store.arrays["t"].meta;
    assert_eq!(t.dimensions, ["member", "time", "lat"]);
    assert_eq!(t.shape, [4, 2, 3]);
}

#[test]
fn cf_time_is_reencoded_in_the_first_inputs_units() {
    let inputs = vec![daily("day3", 3), daily("day1", 1), daily("day2", 2)];
    let out = combine(&inputs, &time_options()).unwrap().store;
    let time = &out.arrays["time"];
    assert_eq!(
        time.meta.attrs["units"],
        j!("hours since 2020-01-01 00:00:00")
    );
    assert_eq!(time.meta.dtype, "<i8");
    let ds = chunkref::Dataset::from_store(out);
    let values = ds.variable("time").unwrap().read_all::<i64>().unwrap();
    assert_eq!(
        values.iter().copied().collect::<Vec<_>>(),
        [0, 12, 24, 36, 48, 60]
    );
    // Day 1's chunks come first: chunk 0.0 of t is day1's first.
    let t = ds.store().arrays["t"].clone();
    let first = ds.store().chunk_ref(&t, 0);
    assert!(format!("{first:?}").contains("day1.nc"), "{first:?}");
}

#[test]
fn mismatches_name_both_inputs() {
    let a = daily("a", 1);
    let mut b = daily("b", 2);
    b.store.arrays.get_mut("t").unwrap().meta.dtype = "<f8".into();
    let err = combine(&[a.clone(), b], &time_options())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("refs/a.json") && err.contains("refs/b.json") && err.contains("dtype"),
        "{err}"
    );
    let mut c = daily("c", 2);
    c.store
        .arrays
        .get_mut("lat")
        .unwrap()
        .chunks
        .set_inline(0, vec![0; 24]);
    let err = combine(&[a.clone(), c], &time_options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("lat") && err.contains("differ"), "{err}");
    let err = combine(&[a.clone(), daily("a_again", 1)], &time_options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("overlapping"), "{err}");
    // Each thing that must agree, changed in the second day's `t`: an error naming it and
    // both inputs, whichever order the inputs come in.
    let changes: [(&str, MetaChange); 7] = [
        ("dtype", |m| m.dtype = "<i4".into()),
        ("filters", |m| {
            m.filters = vec![j!({"id": "zlib", "level": 9})];
        }),
        ("chunk shape", |m| m.chunks = vec![1, 1]),
        ("fill value", |m| m.fill_value = j!(-9999.0)),
        ("scale_factor", |m| {
            m.attrs.insert("scale_factor".into(), j!(0.5));
        }),
        ("add_offset", |m| {
            m.attrs.insert("add_offset".into(), j!(273.15));
        }),
        ("the size of lat", |m| m.shape = vec![2, 4]),
    ];
    for (what, change) in changes {
        let mut d = daily("d", 2);
        change(&mut d.store.arrays.get_mut("t").unwrap().meta);
        for inputs in [[a.clone(), d.clone()], [d.clone(), a.clone()]] {
            let err = combine(&inputs, &time_options()).unwrap_err().to_string();
            assert!(
                err.contains(what) && err.contains("refs/a.json") && err.contains("refs/d.json"),
                "{what}: {err}"
            );
        }
    }
}
