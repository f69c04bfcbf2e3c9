//! Tests of the `chunkref` binary: what a person or a CI job sees.

#![allow(clippy::float_cmp)] // values must be exactly equal, not close

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs chunkref with `args` in `dir`, printing everything when an expectation fails.
fn chunkref(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_chunkref"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    eprintln!(
        "$ chunkref {}\n(exit {:?})\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        out.status.code(),
        String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(3000)
            .collect::<String>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn scan_one_file_writes_a_deterministic_v1_store() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("era5_small.nc");
    let out = chunkref(dir.path(), &["scan", path_str(&src), "-o", "era5.json"]);
    assert!(out.status.success());
    let first = std::fs::read(dir.path().join("era5.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&first).unwrap();
    assert_eq!(doc["version"], 1);
    let url = doc["templates"]["a"].as_str().unwrap();
    assert_eq!(url, url::Url::from_file_path(&src).unwrap().as_str());
    let zmeta: serde_json::Value =
        serde_json::from_str(doc["refs"][".zmetadata"].as_str().unwrap()).unwrap();
    assert!(
        zmeta["metadata"]["t2m/.zarray"].is_object(),
        "consolidated metadata lists t2m"
    );
    assert!(
        chunkref(dir.path(), &["scan", path_str(&src), "-o", "again.json"])
            .status
            .success()
    );
    assert_eq!(
        first,
        std::fs::read(dir.path().join("again.json")).unwrap(),
        "same input, same bytes"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files left: {leftovers:?}");
}

#[test]
fn scan_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = chunkref(
        dir.path(),
        &["scan", path_str(&fixture("packed.nc")), "-o", "-"],
    );
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["refs"]["t2m_packed/.zarray"].is_string(),
        "{}",
        stdout(&out)
    );
}

fn write_bad_inputs(dir: &Path) -> Vec<PathBuf> {
    let good = std::fs::read(fixture("era5_small.nc")).unwrap();
    let mut bad = vec![];
    let mut put = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        bad.push(p);
    };
    put("empty.nc", b"");
    put("text.nc", b"this is not a netCDF file\n");
    put("ncdump.cdl", b"netcdf x {\ndimensions:\n x = 1 ;\n}\n");
    for cut in [8, 100, 1000, 4096, good.len() / 2, good.len() - 100] {
        put(&format!("truncated_{cut}.nc"), &good[..cut]);
    }
    bad
}

#[test]
fn bad_files_fail_alone_with_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(fixture("era5_small.nc"), data.join("good.nc")).unwrap();
    std::fs::copy(fixture("groups.nc"), data.join("good2.nc")).unwrap();
    let bad = write_bad_inputs(&data);
    let out = chunkref(
        dir.path(),
        &[
            "scan",
            "data",
            "missing.nc",
            "-o",
            "refs/",
            "--json",
            "-j",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "some inputs failed");
    let err = stderr(&out);
    for b in &bad {
        let name = b.file_name().unwrap().to_string_lossy();
        assert!(
            err.lines()
                .any(|l| l.starts_with("chunkref: ") && l.contains(&*name)),
            "no error names {name}"
        );
        assert!(
            !dir.path()
                .join("refs")
                .join(format!("{name}.json"))
                .exists(),
            "{name} left a store"
        );
    }
    assert!(
        err.contains("chunkref: missing.nc: "),
        "the missing file is named"
    );
    assert!(err.contains("empty file"));
    assert!(!err.contains("panicked"), "no panic");
    assert!(
        dir.path().join("refs/good.nc.json").exists()
            && dir.path().join("refs/good2.nc.json").exists()
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["succeeded"], 2);
    assert_eq!(summary["failed"].as_u64().unwrap() as usize, bad.len() + 1);
    assert!(summary["chunks"].as_u64().unwrap() > 0 && summary["variables"].as_u64().unwrap() > 0);
}

#[test]
fn truncated_files_name_the_problem_in_process() {
    let dir = tempfile::tempdir().unwrap();
    for b in write_bad_inputs(dir.path()) {
        let out = chunkref(dir.path(), &["scan", path_str(&b), "-o", "x.json"]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("chunkref: {}: ", b.display())),
            "{err}"
        );
        assert!(!err.contains("panicked"));
        assert!(!dir.path().join("x.json").exists());
    }
}

#[test]
fn a_hanging_input_times_out_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stuck.nc");
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let out = chunkref(
        dir.path(),
        &[
            "scan",
            path_str(&fifo),
            path_str(&fixture("era5_small.nc")),
            "-o",
            "refs/",
            "--timeout",
            "2",
            "-j",
            "1",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("stuck.nc: gave up after 2 s"));
    assert!(dir.path().join("refs/era5_small.nc.json").exists());
}

#[test]
fn include_and_exclude_filter_directory_walks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(fixture("era5_small.nc"), data.join("a.nc")).unwrap();
    std::fs::copy(fixture("layouts.h5"), data.join("b.h5")).unwrap();
    std::fs::write(data.join("notes.txt"), "x").unwrap();
    let out = chunkref(
        dir.path(),
        &[
            "scan",
            "data",
            "-o",
            "refs/",
            "--include",
            "*.nc",
            "--include",
            "*.h5",
            "--exclude",
            "b.*",
            "-q",
        ],
    );
    assert!(out.status.success());
    let names: Vec<String> = std::fs::read_dir(dir.path().join("refs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["a.nc.json"]);
}

#[test]
fn info_describes_like_ncdump() {
    let dir = tempfile::tempdir().unwrap();
    assert!(chunkref(
        dir.path(),
        &["scan", path_str(&fixture("groups.nc")), "-o", "g.json"]
    )
    .status
    .success());
    let out = chunkref(dir.path(), &["info", "g.json"]);
    assert!(out.status.success());
    let text = stdout(&out);
    for expected in [
        "group: / {",
        "group: forecast {",
        "group: surface {",
        "lat = ",
        "float t2m(time, lat, lon)",
        ":units = ",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

/// Values `get` prints equal what netCDF-C reads.
#[test]
fn get_prints_netcdf_values() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("era5_small.nc");
    assert!(chunkref(
        dir.path(),
        &[
            "scan",
            path_str(&src),
            "-o",
            "e.json",
            "--inline-threshold",
            "0"
        ]
    )
    .status
    .success());
    let nc = netcdf::open(&src).unwrap();
    let t2m: Vec<f32> = nc
        .variable("t2m")
        .unwrap()
        .get_values((1, 0..19, 3))
        .unwrap();

    let out = chunkref(
        dir.path(),
        &[
            "get", "e.json", "t2m", "--slice", "1,:,3", "--format", "json",
        ],
    );
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["shape"], serde_json::json!([1, 19, 1]));
    // Printed as the shortest decimal of each float32, which reads back as the same float32.
    let got: Vec<f32> = doc["data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_f64().unwrap() as f32)
        .collect();
    assert_eq!(got, t2m);

    let out = chunkref(
        dir.path(),
        &[
            "get", "e.json", "t2m", "--slice", "1,:,3", "--format", "csv",
        ],
    );
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time,lat,lon,t2m"));
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&row[..3], ["1", "0", "3"]);
    assert_eq!(row[3].parse::<f32>().unwrap(), t2m[0]);

    let out = chunkref(
        dir.path(),
        &[
            "get",
            "e.json",
            "t2m",
            "--slice",
            "1,::10,3:5",
            "--format",
            "npy",
        ],
    );
    assert!(out.stdout.starts_with(b"\x93NUMPY"));

    let out = chunkref(dir.path(), &["get", "e.json", "lat", "--slice", "0:3"]);
    let lat: Vec<f32> = nc.variable("lat").unwrap().get_values(0..3).unwrap();
    let printed: Vec<f32> = stdout(&out)
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(printed, lat);
}

#[test]
fn get_decodes_packed_values_like_cf() {
    let dir = tempfile::tempdir().unwrap();
    let src = fixture("packed.nc");
    assert!(
        chunkref(dir.path(), &["scan", path_str(&src), "-o", "p.json"])
            .status
            .success()
    );
    let nc = netcdf::open(&src).unwrap();
    let var = nc.variable("t2m_packed").unwrap();
    let raw: Vec<i16> = var.get_values(..).unwrap();
    let attr = |n: &str| -> f64 {
        match var.attribute_value(n).unwrap().unwrap() {
            netcdf::AttributeValue::Float(x) => f64::from(x),
            netcdf::AttributeValue::Double(x) => x,
            netcdf::AttributeValue::Short(x) => f64::from(x),
            other => panic!("{n}: {other:?}"),
        }
    };
    let (scale, offset, fill, missing) = (
        attr("scale_factor"),
        attr("add_offset"),
        attr("_FillValue"),
        attr("missing_value"),
    );
    let out = chunkref(
        dir.path(),
        &[
            "get",
            "p.json",
            "t2m_packed",
            "--decode",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let flat: Vec<serde_json::Value> = flatten(&doc["data"]);
    assert_eq!(flat.len(), raw.len());
    let mut masked = 0;
    for (got, &r) in flat.iter().zip(&raw) {
        if f64::from(r) == fill || f64::from(r) == missing {
            assert_eq!(got, "NaN");
            masked += 1;
        } else {
            let want = f64::from(r) * scale + offset;
            assert!(
                (got.as_f64().unwrap() - want).abs() <= want.abs() * 1e-12,
                "{got} vs {want}"
            );
        }
    }
    assert_eq!(
        masked, 4,
        "the fixture masks two _FillValue and two missing_value points"
    );
}

fn flatten(v: &serde_json::Value) -> Vec<serde_json::Value> {
    match v {
        serde_json::Value::Array(items) => items.iter().flat_map(flatten).collect(),
        other => vec![other.clone()],
    }
}

#[test]
fn usage_errors_exit_2_and_unknown_variables_are_named() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(chunkref(dir.path(), &["scan"]).status.code(), Some(2));
    assert_eq!(
        chunkref(dir.path(), &["get", "x.json", "v", "--format", "xml"])
            .status
            .code(),
        Some(2)
    );
    assert!(chunkref(
        dir.path(),
        &["scan", path_str(&fixture("era5_small.nc")), "-o", "e.json"]
    )
    .status
    .success());
    let out = chunkref(dir.path(), &["get", "e.json", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nope") && stderr(&out).contains("t2m"),
        "lists the variables"
    );
    let out = chunkref(dir.path(), &["info", "missing.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("chunkref: ") && stderr(&out).contains("missing.json"));
}

#[test]
fn help_teaches() {
    let dir = tempfile::tempdir().unwrap();
    let out = chunkref(dir.path(), &["scan", "--help"]);
    let text = stdout(&out);
    for expected in [
        "Examples:",
        "--output",
        "--jobs",
        "--include",
        "--json",
        "Exit status",
    ] {
        assert!(text.contains(expected), "scan --help lacks {expected}");
    }
    for (command, expected) in [
        ("combine", "Coordinate rules"),
        ("combine", "Examples:"),
        ("combine", "--append-to"),
        ("combine", "--merge"),
        ("build", "Examples:"),
        ("convert", "Parquet"),
    ] {
        let text = stdout(&chunkref(dir.path(), &[command, "--help"]));
        assert!(
            text.contains(expected),
            "{command} --help lacks {expected}:\n{text}"
        );
    }
}

/// Every fixture cut at 40 places, scanned by worker processes: each file fails alone with an
/// error naming it; nothing panics, crashes or hangs, and no store is left behind.
#[test]
fn files_truncated_anywhere_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let mut names = vec![];
    for fixture_name in ["era5_small.nc", "layouts.h5", "chunk_index.h5"] {
        let bytes = std::fs::read(fixture(fixture_name)).unwrap();
        for k in 1..40 {
            let cut = bytes.len() * k / 40;
            let name = format!("{fixture_name}.{cut}");
            std::fs::write(data.join(&name), &bytes[..cut]).unwrap();
            names.push(name);
        }
    }
    let out = chunkref(
        dir.path(),
        &[
            "scan",
            "data",
            "-o",
            "refs/",
            "-j",
            "2",
            "--timeout",
            "60",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["failed"].as_u64().unwrap() as usize, names.len());
    let err = stderr(&out);
    assert!(
        !err.contains("panicked") && !err.contains("crashed") && !err.contains("gave up"),
        "{err}"
    );
    for name in &names {
        assert!(
            err.contains(&format!("data/{name}: ")),
            "no error names {name}"
        );
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("refs")).unwrap().count(),
        0
    );
}

#[test]
fn grib_directories_skip_idx_sidecars_and_scan_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(fixture("grib2_pl.grib2"), data.join("pl.grib2")).unwrap();
    std::fs::copy(fixture("grib2_pl.grib2.idx"), data.join("pl.grib2.idx")).unwrap();
    std::fs::copy(fixture("grib1_sfc.grib1"), data.join("sfc.grib1")).unwrap();
    let out = chunkref(dir.path(), &["scan", "data", "-o", "refs/", "--grib-idx"]);
    assert!(out.status.success());
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("refs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["pl.grib2.json", "sfc.grib1.json"]);
    let err = stderr(&out);
    assert!(
        err.contains("read the sections of 4 of 12 messages"),
        "{err}"
    );
    // The GRIB1 file holds variables on two sets of steps: a group for the second.
    assert!(
        err.contains("2 groups written (/, surface_instant)"),
        "{err}"
    );
    // `get` reads through the grib codec (values against ecCodes: tests/interop/test_grib.py).
    let got = chunkref(
        dir.path(),
        &[
            "get",
            "refs/pl.grib2.json",
            "t",
            "--slice",
            "0,0,0,0:3",
            "--format",
            "json",
        ],
    );
    assert!(got.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(
        doc["dimensions"],
        serde_json::json!(["step", "isobaricInhPa", "latitude", "longitude"])
    );
    assert_eq!(doc["shape"], serde_json::json!([1, 1, 1, 3]));
}
