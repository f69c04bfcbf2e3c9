//! Tests of the GRIB scanner and codec on the ecCodes-made fixtures (values against ecCodes
//! are compared by `tests/interop/test_grib.py`, which has ecCodes): every fixture scans and
//! reads back through `chunkref::open` with the shapes cfgrib gives; the `.idx` fast path
//! gives the same store; bad input (every truncation, a length past the end, garbage between
//! messages, an unknown template, seeded corruption) gives errors naming the message and
//! byte offset, never a panic.

mod common;

use chunkref::grib::decode::first_field_values;
use chunkref::scan::{grib, scan_file, ScanOptions};
use common::{fixture, no_inline, scan_and_open};

const FIXTURES: [&str; 17] = [
    "grib1_sfc.grib1",
    "grib2_bitmap.grib2",
    "grib2_ensemble_accum.grib2",
    "grib2_gaussian.grib2",
    "grib2_multifield.grib2",
    "grib2_packing_ccsds.grib2",
    "grib2_packing_complex.grib2",
    "grib2_packing_complex_sd1.grib2",
    "grib2_packing_complex_sd2.grib2",
    "grib2_packing_constant.grib2",
    "grib2_packing_ieee32.grib2",
    "grib2_packing_ieee64.grib2",
    "grib2_packing_jpeg.grib2",
    "grib2_packing_png.grib2",
    "grib2_packing_simple.grib2",
    "grib2_pl.grib2",
    "grib2_ragged.grib2",
];

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

fn options() -> ScanOptions {
    ScanOptions {
        url: Some("file:///fixture.grib".into()),
        ..ScanOptions::default()
    }
}

#[test]
fn every_fixture_reads_back_with_cfgrib_shapes() {
    // (fixture, variable, shape) as cfgrib gives them (see fixtures/README.md).
    let cases = [
        ("grib2_pl.grib2", "t", vec![2, 3, 17, 25]),
        ("grib2_pl.grib2", "u", vec![2, 3, 17, 25]),
        ("grib2_packing_ccsds.grib2", "t2m", vec![2, 37, 72]),
        ("grib2_bitmap.grib2", "sst", vec![7, 37, 72]),
        ("grib2_gaussian.grib2", "t", vec![2, 32, 64]),
        ("grib2_ensemble_accum.grib2", "tp", vec![3, 2, 19, 36]),
        ("grib2_multifield.grib2", "v10", vec![19, 36]),
        ("grib2_ragged.grib2", "t", vec![2, 2, 19, 36]),
    ];
    for (name, var, shape) in cases {
        for opts in [ScanOptions::default(), no_inline()] {
            let (_, ds, _dir) = scan_and_open(&fixture(name), &opts);
            let v = ds.variable(var).unwrap();
            let values = v.read_all::<f32>().unwrap();
            assert_eq!(values.shape(), &shape[..], "{name} {var}");
            let finite = values.iter().filter(|x| x.is_finite()).count();
            assert!(finite > 0, "{name} {var}: no finite value");
        }
    }
    for name in FIXTURES {
        scan_file(&fixture(name), &ScanOptions::default()).unwrap();
    }
}

#[test]
fn bitmap_points_are_nan_and_holes_read_as_nan() {
    let (_, ds, _dir) = scan_and_open(&fixture("grib2_bitmap.grib2"), &ScanOptions::default());
    let sst = ds.variable("sst").unwrap().read_all::<f32>().unwrap();
    // 719 land points of 2,664 are missing in every message (fixtures/README.md).
    let step0 = sst.index_axis(ndarray::Axis(0), 0);
    assert_eq!(step0.iter().filter(|x| x.is_nan()).count(), 719);
    // The ragged fixture has no (6 h, 850 hPa) field: that slab is all NaN, the others none.
    let (out, ds, _dir) = scan_and_open(&fixture("grib2_ragged.grib2"), &ScanOptions::default());
    let t = ds.variable("t").unwrap().read_all::<f32>().unwrap();
    let nan_slabs: Vec<(usize, usize)> = (0..2)
        .flat_map(|s| (0..2).map(move |l| (s, l)))
        .filter(|&(s, l)| {
            t.slice(ndarray::s![s, l, .., ..])
                .iter()
                .all(|x| x.is_nan())
        })
        .collect();
    assert_eq!(nan_slabs, [(1, 1)]);
    let w = out.warnings.join("\n");
    assert!(
        w.contains("message 4 at byte 4641 repeats the field of message 1"),
        "{w}"
    );
    assert!(w.contains("1 of 4"), "{w}");
}

#[test]
fn idx_sidecar_gives_the_same_store() {
    let path = fixture("grib2_pl.grib2");
    let plain = scan_file(&path, &ScanOptions::default()).unwrap();
    let with_idx = ScanOptions {
        grib_idx: true,
        ..ScanOptions::default()
    };
    let fast = scan_file(&path, &with_idx).unwrap();
    assert_eq!(
        chunkref::refs::json::to_json(&plain.store),
        chunkref::refs::json::to_json(&fast.store)
    );
    assert!(
        fast.warnings.iter().any(|w| w.contains("4 of 12 messages")),
        "{:?}",
        fast.warnings
    );
}

#[test]
fn idx_that_does_not_match_is_an_error_or_a_full_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pl.grib2");
    std::fs::copy(fixture("grib2_pl.grib2"), &path).unwrap();
    let idx = std::fs::read_to_string(fixture("grib2_pl.grib2.idx")).unwrap();
    let opts = ScanOptions {
        grib_idx: true,
        ..ScanOptions::default()
    };
    // Offsets shifted by one byte: no message there.
    let shifted: String = idx.replace(":1029:", ":1030:");
    std::fs::write(dir.path().join("pl.grib2.idx"), shifted).unwrap();
    let err = scan_file(&path, &opts).unwrap_err().to_string();
    assert!(
        err.contains("pl.grib2.idx") && err.contains("line 2") && err.contains("does not match"),
        "{err}"
    );
    // Levels that disagree with the messages: those kinds are read in full, values stay right.
    let wrong_levels = idx.replace("1000 mb", "925 mb");
    std::fs::write(dir.path().join("pl.grib2.idx"), wrong_levels).unwrap();
    let out = scan_file(&path, &opts).unwrap();
    let plain = scan_file(&path, &ScanOptions::default()).unwrap();
    let urls = |s: &chunkref::refs::RefStore| {
        String::from_utf8(chunkref::refs::json::to_json(s))
            .unwrap()
            .replace(path.to_str().unwrap(), "")
    };
    assert_eq!(urls(&out.store), urls(&plain.store));
}

#[test]
fn truncation_at_every_byte_is_an_error_naming_the_message() {
    for name in [
        "grib2_pl.grib2",
        "grib1_sfc.grib1",
        "grib2_multifield.grib2",
    ] {
        let data = bytes(name);
        grib::scan_bytes(&data, name, &options()).unwrap();
        let ends: Vec<u64> = chunkref::grib::find_messages(&data[..])
            .unwrap()
            .messages
            .iter()
            .map(|m| m.offset + m.length)
            .collect();
        for cut in 1..data.len() {
            let result = grib::scan_bytes(&data[..cut], name, &options());
            let last_end = ends
                .iter()
                .copied()
                .filter(|&e| e <= cut as u64)
                .max()
                .unwrap_or(0);
            if last_end > 0 && (1..4).contains(&(cut as u64 - last_end)) {
                // Fewer than 4 bytes of a next message: no `GRIB` to find, trailing bytes.
                let out = result.unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
                assert!(
                    out.warnings
                        .iter()
                        .any(|w| w.contains("after the last message")),
                    "{name} cut at {cut}: {:?}",
                    out.warnings
                );
                continue;
            }
            if ends.contains(&(cut as u64)) {
                assert!(
                    result.is_ok(),
                    "{name} cut at a message end {cut}: {result:?}"
                );
                continue;
            }
            let err = result
                .expect_err(&format!("{name} cut at {cut}"))
                .to_string();
            if cut < 4 {
                assert!(
                    err.contains("no GRIB message"),
                    "{name} cut at {cut}: {err}"
                );
                continue;
            }
            assert!(
                err.contains(name) && err.contains("message ") && err.contains("at byte"),
                "{name} cut at {cut}: {err}"
            );
        }
    }
}

#[test]
fn length_past_the_end_garbage_and_unknown_templates() {
    let data = bytes("grib2_pl.grib2");
    let first = chunkref::grib::find_messages(&data[..]).unwrap().messages[1];
    // Message 2 says it is a megabyte long.
    let mut long = data.clone();
    let at = first.offset as usize + 8;
    long[at..at + 8].copy_from_slice(&(1u64 << 20).to_be_bytes());
    let err = grib::scan_bytes(&long, "long.grib2", &options())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("message 2 at byte 1029") && err.contains("1048576 bytes long"),
        "{err}"
    );
    // Garbage between messages 1 and 2: a warning, every field kept.
    let mut messy = data[..first.offset as usize].to_vec();
    messy.extend_from_slice(b"not grib at all\n");
    messy.extend_from_slice(&data[first.offset as usize..]);
    let out = grib::scan_bytes(&messy, "messy.grib2", &options()).unwrap();
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("skipped 16 bytes at byte 1029") && w.contains("before message 2")),
        "{:?}",
        out.warnings
    );
    let clean = grib::scan_bytes(&data, "messy.grib2", &options()).unwrap();
    assert_eq!(out.store.stats().chunks, clean.store.stats().chunks);
    // Product definition template 4.99 in message 1.
    let mut odd = data.clone();
    let sec4 = section_offset(&odd, 0, 4);
    odd[sec4 + 7..sec4 + 9].copy_from_slice(&99u16.to_be_bytes());
    let err = grib::scan_bytes(&odd, "odd.grib2", &options())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("message 1 at byte") && err.contains("template 4.99"),
        "{err}"
    );
    // Grid definition template 3.90 (space view): skipped with a warning naming it.
    let mut grid = data.clone();
    let sec3 = section_offset(&grid, 0, 3);
    grid[sec3 + 12..sec3 + 14].copy_from_slice(&90u16.to_be_bytes());
    let out = grib::scan_bytes(&grid, "grid.grib2", &options()).unwrap();
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("message 1 at byte 0: skipped: grid definition template 3.90")),
        "{:?}",
        out.warnings
    );
    // Not GRIB at all.
    let err = grib::scan_bytes(b"GRIX", "x.grib2", &options())
        .unwrap_err()
        .to_string();
    assert!(err.contains("no GRIB message"), "{err}");
}

/// The offset of section `number` of the GRIB2 message at `message` (0-based offset).
fn section_offset(data: &[u8], message: usize, number: u8) -> usize {
    let mut at = message + 16;
    loop {
        let len = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        if data[at + 4] == number {
            return at;
        }
        at += len;
    }
}

#[test]
fn seeded_corruption_never_panics() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for name in FIXTURES {
        let data = bytes(name);
        for _ in 0..60 {
            let mut bad = data.clone();
            for _ in 0..=(next() % 4) {
                let at = (next() % bad.len() as u64) as usize;
                bad[at] = next() as u8;
            }
            let _ = grib::scan_bytes(&bad, name, &options());
            let _ = first_field_values(&bad);
        }
    }
}
