//! Unpacking the messages of `testdata/` (written by `make_testdata.py` with ecCodes) and
//! comparing with ecCodes' values bit for bit as `f32`; corrupt and unsupported input.

use std::path::PathBuf;

use super::{apply_bitmap, unpack_grib1, unpack_grib2, UnpackError};

/// ecCodes' default missingValue, which the `.f64` files hold at missing points.
const ECCODES_MISSING: f64 = 9999.0;

fn testdata(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "src/grib/unpack/testdata", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn expected_values(case: &str) -> Vec<f64> {
    testdata(&format!("{case}.f64"))
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().unwrap()))
        .collect()
}

fn be(bytes: &[u8]) -> usize {
    bytes.iter().fold(0, |v, &b| (v << 8) | usize::from(b))
}

/// The sections of a GRIB2 message this module needs (test-only splitter).
struct Grib2<'a> {
    points: usize,
    sec5: &'a [u8],
    /// Section 6 when it holds a bitmap (indicator 0).
    bitmap: Option<&'a [u8]>,
    sec7: &'a [u8],
}

/// Splits a GRIB2 message: after the 16-byte indicator, sections are a 4-byte length and
/// a 1-byte number, up to "7777".
fn split_grib2(message: &[u8]) -> Grib2<'_> {
    assert_eq!(&message[..4], b"GRIB");
    assert_eq!(message[7], 2);
    let mut sections: [&[u8]; 8] = [&[]; 8];
    let mut at = 16;
    while &message[at..at + 4] != b"7777" {
        let len = be(&message[at..at + 4]);
        sections[usize::from(message[at + 4])] = &message[at..at + len];
        at += len;
    }
    let sec6 = sections[6];
    Grib2 {
        points: be(&sections[3][6..10]),
        sec5: sections[5],
        bitmap: (sec6[5] == 0).then(|| &sec6[6..]),
        sec7: sections[7],
    }
}

/// The sections of a GRIB1 message this module needs (test-only splitter).
struct Grib1<'a> {
    decimal_scale: i16,
    points: usize,
    bitmap: Option<&'a [u8]>,
    bds: &'a [u8],
}

/// Splits a GRIB1 message: after the 8-byte indicator come the PDS, the GDS and BMS when
/// PDS octet 8 flags them, and the BDS, each starting with a 3-byte length.
fn split_grib1(message: &[u8]) -> Grib1<'_> {
    assert_eq!(&message[..4], b"GRIB");
    assert_eq!(message[7], 1);
    let mut at = 8;
    let mut take = || {
        let len = be(&message[at..at + 3]);
        let section = &message[at..at + len];
        at += len;
        section
    };
    let pds = take();
    let gds = (pds[7] & 0x80 != 0)
        .then(&mut take)
        .expect("test messages have a GDS");
    let bms = (pds[7] & 0x40 != 0).then(&mut take);
    let bds = take();
    let d = u16::from_be_bytes([pds[26], pds[27]]);
    let magnitude = (d & 0x7FFF) as i16;
    Grib1 {
        decimal_scale: if d & 0x8000 == 0 {
            magnitude
        } else {
            -magnitude
        },
        // A regular latitude/longitude grid: Ni (octets 7-8) x Nj (9-10).
        points: be(&gds[6..8]) * be(&gds[8..10]),
        bitmap: bms.map(|bms| &bms[6..]),
        bds,
    }
}

fn unpack_grib2_case(case: &str) -> Vec<f64> {
    let message = testdata(&format!("{case}.grib"));
    let m = split_grib2(&message);
    let values = unpack_grib2(m.sec5, m.sec7).unwrap_or_else(|e| panic!("{case}: {e}"));
    match m.bitmap {
        Some(bitmap) => apply_bitmap(&values, bitmap, m.points).unwrap(),
        None => values,
    }
}

fn unpack_grib1_case(case: &str) -> Vec<f64> {
    let message = testdata(&format!("{case}.grib"));
    let m = split_grib1(&message);
    let count = match m.bitmap {
        Some(bitmap) => super::set_bits(bitmap, m.points),
        None => m.points,
    };
    let values =
        unpack_grib1(m.bds, m.decimal_scale, count).unwrap_or_else(|e| panic!("{case}: {e}"));
    match m.bitmap {
        Some(bitmap) => apply_bitmap(&values, bitmap, m.points).unwrap(),
        None => values,
    }
}

/// Compares with ecCodes: NaN where ecCodes gives its missingValue, the same `f32` bits
/// elsewhere. Returns the number of points compared.
fn assert_matches_eccodes(case: &str, ours: &[f64]) -> usize {
    let expected = expected_values(case);
    assert_eq!(ours.len(), expected.len(), "{case}: number of values");
    for (i, (&got, &want)) in ours.iter().zip(&expected).enumerate() {
        if want == ECCODES_MISSING {
            assert!(
                got.is_nan(),
                "{case}[{i}]: ecCodes says missing, we say {got}"
            );
        } else {
            assert_eq!(
                (got as f32).to_bits(),
                (want as f32).to_bits(),
                "{case}[{i}]: {got} (ours) != {want} (ecCodes)"
            );
        }
    }
    expected.len()
}

fn check_grib2(cases: &[&str]) {
    for case in cases {
        assert_matches_eccodes(case, &unpack_grib2_case(case));
    }
}

#[test]
fn simple_packing_matches_eccodes() {
    check_grib2(&[
        "g2_simple_5",
        "g2_simple_12",
        "g2_simple_16",
        "g2_simple_24",
        "g2_simple_dec2",
        "g2_simple_dec6",
        "g2_simple_decm1",
        "g2_simple_negative",
        "g2_simple_bitmap",
        "g2_simple_const",
    ]);
}

#[test]
fn complex_packing_matches_eccodes() {
    check_grib2(&[
        "g2_complex",
        "g2_complex_bitmap",
        "g2_complex_missing1",
        "g2_complex_missing2",
        "g2_complex_const",
    ]);
}

#[test]
fn complex_packing_with_spatial_differencing_matches_eccodes() {
    for order in 1..=2 {
        for variant in ["", "_dec", "_missing", "_bitmap"] {
            let case = format!("g2_complex_sd{order}{variant}");
            assert_matches_eccodes(&case, &unpack_grib2_case(&case));
        }
    }
}

#[test]
fn ieee_packing_matches_eccodes() {
    check_grib2(&["g2_ieee32", "g2_ieee64"]);
}

#[test]
fn jpeg2000_packing_matches_eccodes() {
    check_grib2(&[
        "g2_jpeg_12",
        "g2_jpeg_24",
        "g2_jpeg_bitmap",
        "g2_jpeg_const",
    ]);
}

/// The lossy (9/7) transform is computed in floating point by `OpenJPEG` and hayro alike, in
/// different orders of operations: bit-identical on this field, not guaranteed in general.
#[test]
fn jpeg2000_lossy_packing_matches_eccodes() {
    check_grib2(&["g2_jpeg_lossy"]);
}

/// Beyond 24 bits hayro's `f32` samples lose the low bits: within 2^(bits-22) packing
/// steps of ecCodes, as `jpeg2000.rs` documents.
#[test]
fn jpeg2000_packing_beyond_24_bits_is_within_tolerance() {
    let case = "g2_jpeg_28";
    let message = testdata(&format!("{case}.grib"));
    let m = split_grib2(&message);
    let binary = super::scale::sign_magnitude16(u16::from_be_bytes([m.sec5[15], m.sec5[16]]));
    let decimal = super::scale::sign_magnitude16(u16::from_be_bytes([m.sec5[17], m.sec5[18]]));
    let step = 2f64.powi(binary as i32) * 10f64.powi(-decimal as i32);
    let tolerance = 2f64.powi(i32::from(m.sec5[19]) - 22) * step;
    let ours = unpack_grib2(m.sec5, m.sec7).unwrap();
    let expected = expected_values(case);
    assert_eq!(ours.len(), expected.len());
    let worst = ours
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(
        worst <= tolerance,
        "{case}: off by {worst}, tolerance {tolerance}"
    );
}

#[test]
fn png_packing_matches_eccodes() {
    check_grib2(&["g2_png_8", "g2_png_12", "g2_png_24", "g2_png_bitmap"]);
}

#[test]
fn ccsds_packing_matches_eccodes() {
    check_grib2(&[
        "g2_ccsds_8",
        "g2_ccsds_12",
        "g2_ccsds_24",
        "g2_ccsds_bitmap",
        "g2_ccsds_const",
    ]);
}

#[test]
fn grib1_simple_packing_matches_eccodes() {
    for case in [
        "g1_simple_12",
        "g1_simple_dec2",
        "g1_simple_decm1",
        "g1_simple_negative",
        "g1_simple_bitmap",
        "g1_simple_const",
    ] {
        assert_matches_eccodes(case, &unpack_grib1_case(case));
    }
}

/// Every GRIB2 test message.
const GRIB2_CASES: &[&str] = &[
    "g2_simple_5",
    "g2_simple_12",
    "g2_simple_bitmap",
    "g2_simple_const",
    "g2_complex",
    "g2_complex_missing2",
    "g2_complex_const",
    "g2_complex_sd1_missing",
    "g2_complex_sd2",
    "g2_ieee32",
    "g2_ieee64",
    "g2_jpeg_12",
    "g2_jpeg_const",
    "g2_png_12",
    "g2_png_24",
    "g2_ccsds_12",
    "g2_ccsds_24",
    "g2_ccsds_const",
];

/// Truncating either section anywhere gives a result or an error, never a panic; for the
/// uncompressed packings, a shortened section 7 is always an error that says what is short.
#[test]
fn truncated_sections_never_panic() {
    for case in GRIB2_CASES {
        let message = testdata(&format!("{case}.grib"));
        let m = split_grib2(&message);
        for len in 0..m.sec5.len() {
            let _ = unpack_grib2(&m.sec5[..len], m.sec7);
        }
        let uncompressed =
            ["simple", "ieee"].iter().any(|p| case.contains(p)) && !case.contains("const");
        for len in 0..m.sec7.len() {
            let result = unpack_grib2(m.sec5, &m.sec7[..len]);
            if uncompressed {
                assert!(
                    matches!(result, Err(UnpackError::Corrupt(_))),
                    "{case} cut at {len}"
                );
            }
        }
    }
    let message = testdata("g1_simple_12.grib");
    let m = split_grib1(&message);
    for len in 0..m.bds.len() {
        assert!(
            unpack_grib1(&m.bds[..len], m.decimal_scale, m.points).is_err(),
            "cut at {len}"
        );
    }
}

/// A deterministic generator for the corruption test (xorshift64*).
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random bytes written over sections 5 and 7 of every message: no panic, whatever the
/// result (tests build with overflow checks, so this also catches arithmetic overflow).
#[test]
fn corrupted_sections_never_panic() {
    let mut noise = Noise(0x1234_5678_9ABC_DEF1);
    for case in GRIB2_CASES {
        let message = testdata(&format!("{case}.grib"));
        let m = split_grib2(&message);
        // A constant field's values are its count (octets 6-9) copies of R: a corrupt count
        // allocates up to MAX_UNBACKED_VALUES (tested elsewhere), too slow to repeat here.
        let first = if case.ends_with("const") { 9 } else { 5 };
        for _ in 0..300 {
            let mut sec5 = m.sec5.to_vec();
            let mut sec7 = m.sec7.to_vec();
            for _ in 0..=noise.below(3) {
                // Mostly section 5's descriptors (past the header), sometimes section 7.
                let (target, from) = if noise.below(3) > 0 {
                    (&mut sec5, first)
                } else {
                    (&mut sec7, 5)
                };
                if target.len() > from {
                    let at = from + noise.below(target.len() - from);
                    target[at] = noise.next() as u8;
                }
            }
            let _ = unpack_grib2(&sec5, &sec7);
        }
    }
    let message = testdata("g1_simple_12.grib");
    let m = split_grib1(&message);
    for _ in 0..2000 {
        let mut bds = m.bds.to_vec();
        let at = noise.below(11);
        bds[at] = noise.next() as u8;
        let _ = unpack_grib1(&bds, noise.next() as i16, noise.below(1000));
    }
}

/// A copy of `case`'s section 5 with the octets from `first` (1-based) replaced.
fn patched_sec5(case: &str, first: usize, bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let message = testdata(&format!("{case}.grib"));
    let m = split_grib2(&message);
    let mut sec5 = m.sec5.to_vec();
    sec5[first - 1..first - 1 + bytes.len()].copy_from_slice(bytes);
    (sec5, m.sec7.to_vec())
}

fn corrupt_message(result: Result<Vec<f64>, UnpackError>) -> String {
    match result {
        Err(UnpackError::Corrupt(message)) => message,
        other => panic!("expected a corrupt-data error, got {other:?}"),
    }
}

#[test]
fn absurd_counts_are_refused_before_allocating() {
    // Simple packing: the count must fit in section 7.
    let (sec5, sec7) = patched_sec5("g2_simple_12", 6, &[0xFF; 4]);
    let message = corrupt_message(unpack_grib2(&sec5, &sec7));
    assert_eq!(
        message,
        "section 7 holds 576 bytes, 4294967295 values of 12 bits need 6442450943"
    );
    let (sec5, sec7) = patched_sec5("g2_simple_12", 6, &[0, 0, 1, 0xF0]);
    let message = corrupt_message(unpack_grib2(&sec5, &sec7));
    assert_eq!(
        message,
        "section 7 holds 576 bytes, 496 values of 12 bits need 744"
    );
    // Constant fields and compressed codestreams: bounded by MAX_UNBACKED_VALUES.
    for case in [
        "g2_simple_const",
        "g2_complex_const",
        "g2_jpeg_12",
        "g2_png_12",
        "g2_ccsds_12",
    ] {
        let (sec5, sec7) = patched_sec5(case, 6, &[0xFF; 4]);
        let message = corrupt_message(unpack_grib2(&sec5, &sec7));
        assert!(
            message.contains("without data to back them"),
            "{case}: {message}"
        );
    }
    // Complex packing: the groups must hold no more than the count.
    let (sec5, sec7) = patched_sec5("g2_complex", 43, &[0x7F, 0xFF, 0xFF, 0xFF]);
    let message = corrupt_message(unpack_grib2(&sec5, &sec7));
    assert!(
        message.contains("more than the 384 of section 5"),
        "{message}"
    );
    let (sec5, sec7) = patched_sec5("g2_complex", 32, &[0, 0, 0x10, 0]);
    assert_eq!(
        corrupt_message(unpack_grib2(&sec5, &sec7)),
        "4096 groups for 384 values"
    );
    // GRIB1.
    let message = testdata("g1_simple_12.grib");
    let m = split_grib1(&message);
    let error = corrupt_message(unpack_grib1(m.bds, 0, 100_000));
    assert_eq!(
        error,
        "the binary data section holds 577 data bytes (8 bits unused), 100000 values of 12 bits \
         need 1200000 bits"
    );
}

#[test]
fn complex_packing_without_groups_is_constant() {
    let (sec5, sec7) = patched_sec5("g2_complex", 32, &[0; 4]);
    let values = unpack_grib2(&sec5, &sec7).unwrap();
    let reference = f64::from(f32::from_be_bytes(sec5[11..15].try_into().unwrap()));
    assert_eq!(values, vec![reference; 384]);
}

#[test]
fn unsupported_packings_say_which() {
    for (template, name) in [
        (1u8, "5.1 (matrix"),
        (50, "5.50 (spectral"),
        (61, "5.61"),
        (200, "5.200"),
    ] {
        let (sec5, sec7) = patched_sec5("g2_simple_12", 10, &[0, template]);
        match unpack_grib2(&sec5, &sec7) {
            Err(UnpackError::Unsupported(message)) => assert!(message.contains(name), "{message}"),
            other => panic!("template {template}: {other:?}"),
        }
    }
    let (sec5, sec7) = patched_sec5("g2_ieee32", 12, &[3]);
    assert!(matches!(
        unpack_grib2(&sec5, &sec7),
        Err(UnpackError::Unsupported(_))
    ));
    let (sec5, sec7) = patched_sec5("g2_complex_sd2", 48, &[3]);
    assert!(matches!(
        unpack_grib2(&sec5, &sec7),
        Err(UnpackError::Unsupported(_))
    ));
    // Sections swapped.
    let message = testdata("g2_simple_12.grib");
    let m = split_grib2(&message);
    assert_eq!(
        unpack_grib2(m.sec7, m.sec5),
        Err(UnpackError::Corrupt(
            "expected section 5, found a section numbered 7".into()
        ))
    );
    // GRIB1 packings other than grid-point simple packing.
    let message = message_g1();
    let m = split_grib1(&message);
    for (flags, what) in [
        (0x80, "spherical"),
        (0x40, "second-order"),
        (0x10, "additional flags"),
    ] {
        let mut bds = m.bds.to_vec();
        bds[3] |= flags;
        match unpack_grib1(&bds, 0, m.points) {
            Err(UnpackError::Unsupported(message)) => assert!(message.contains(what), "{message}"),
            other => panic!("flags {flags:#x}: {other:?}"),
        }
    }
}

fn message_g1() -> Vec<u8> {
    testdata("g1_simple_12.grib")
}

#[test]
fn grib1_dummy_field_is_all_missing() {
    let message = message_g1();
    let m = split_grib1(&message);
    let mut bds = m.bds.to_vec();
    bds[4..6].copy_from_slice(&[0xFF, 0xFF]);
    let values = unpack_grib1(&bds, 0, 10).unwrap();
    assert!(values.len() == 10 && values.iter().all(|v| v.is_nan()));
}

#[test]
fn bitmaps_spread_values_and_check_counts() {
    let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0];
    // 8 present, then 0b1010_1111 of which 3 points are in the grid: 11 points, 10 values.
    let spread = apply_bitmap(&values, &[0xFF, 0b1010_1111], 11).unwrap();
    let shown: Vec<String> = spread.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        ["1", "2", "3", "4", "5", "6", "7", "8", "9", "NaN", "10"]
    );
    let spread = apply_bitmap(&[], &[0x00, 0x00], 16).unwrap();
    assert!(spread.len() == 16 && spread.iter().all(|v| v.is_nan()));
    assert_eq!(
        apply_bitmap(&values, &[0xFF], 10),
        Err(UnpackError::Corrupt(
            "the bitmap holds 1 bytes, 10 points need 2".into()
        ))
    );
    assert_eq!(apply_bitmap(&values, &[0xFF, 0xFF], 10).unwrap(), values);
    assert_eq!(
        apply_bitmap(&values[..3], &[0xFF, 0xFF], 10),
        Err(UnpackError::Corrupt(
            "the bitmap sets 10 of 10 points, but 3 values were unpacked".into()
        ))
    );
}
