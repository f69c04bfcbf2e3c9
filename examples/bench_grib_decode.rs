//! GRIB decode benchmark: scans one GRIB file into a kerchunk JSON store, opens the store with
//! `chunkref::open` and reads a whole variable with `Variable::read_all::<f32>()` (byte range
//! fetch + the `grib` codec + assembly), best of N runs, on a rayon pool of 1, 2, ... threads.
//!
//! ```sh
//! cargo run --release --example bench_grib_decode -- bench-corpus/grib/decode/grid_ccsds.grib2 \
//!     [--var t2m] [--runs 10] [--threads 1] [--store /tmp/x.json] [--dump /tmp/x.f32]
//! ```
//!
//! Without `--var` the variable with the most elements is read (the data variable of a
//! one-message file). Prints a human-readable line per run on stderr and one JSON object per
//! thread count on stdout: `{"tool":"chunkref","threads":1,"seconds":..,"median_seconds":..,
//! "mb_per_s":..,"mb":..,"checksum":..,"nan_count":..,"bits_sum":..,"runs":..}`. `seconds` is
//! the best run, `mb` the decoded float32 output (1 MB = 1e6 bytes), `checksum` the f64 sum of
//! the non-NaN values (numpy's nansum), `bits_sum` the wrapping sum of their bit patterns.
//! `--dump FILE` writes the values of the last read as raw little-endian float32, for an
//! element-by-element comparison with another decoder. `scripts/bench.sh` runs this through
//! `benches/bench_grib.py`, next to ecCodes.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The allocator the `chunkref` binary uses (see `src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use chunkref::scan::{scan_file, ScanOptions};

struct Args {
    file: PathBuf,
    var: Option<String>,
    runs: usize,
    threads: Vec<usize>,
    store: Option<PathBuf>,
    dump: Option<PathBuf>,
}

const USAGE: &str =
    "usage: bench_grib_decode FILE [--var V] [--runs N] [--threads 1,2] [--store OUT.json] [--dump OUT.f32]";

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut file = None;
    let mut var = None;
    let mut runs = 10;
    let mut threads = vec![1];
    let mut store = None;
    let mut dump = None;
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--var" => var = Some(value()?),
            "--runs" => runs = value()?.parse()?,
            "--threads" => {
                threads = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--store" => store = Some(PathBuf::from(value()?)),
            "--dump" => dump = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            s if s.starts_with('-') => bail!("unknown option {s}"),
            _ => file = Some(PathBuf::from(a)),
        }
    }
    Ok(Args {
        file: file.context(USAGE)?,
        var,
        runs: runs.max(1),
        threads,
        store,
        dump,
    })
}

fn main() -> Result<()> {
    let args = parse_args()?;

    // Scan the file into a store on disk, then open it as a user would.
    let t = Instant::now();
    let out = scan_file(&args.file, &ScanOptions::default())
        .with_context(|| format!("scanning {}", args.file.display()))?;
    for w in &out.warnings {
        eprintln!("bench_grib_decode: scan warning: {w}");
    }
    let store_path = args.store.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("chunkref-bench-grib-{}.json", std::process::id()))
    });
    chunkref::refs::json::write(&out.store, &store_path)?;
    let scan_s = t.elapsed().as_secs_f64();
    let ds = chunkref::open(store_path.to_string_lossy())?;
    let name = match &args.var {
        Some(v) => v.clone(),
        None => ds
            .variables()
            .into_iter()
            .filter_map(|v| ds.variable(&v).ok())
            .max_by_key(|v| v.shape().iter().product::<u64>())
            .map(|v| v.name().to_owned())
            .context("the store has no variables")?,
    };
    let var = ds.variable(&name)?;
    let shape = var.shape().to_vec();
    let n: u64 = shape.iter().product();
    let mb = (n * 4) as f64 / 1e6;
    eprintln!(
        "bench_grib_decode: {} {name} shape {shape:?} ({mb:.1} MB decoded f32), chunks {:?}, \
         scanned in {scan_s:.3} s",
        args.file.display(),
        var.meta().chunks,
    );

    let mut last = None;
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("building the rayon pool")?;
        let mut times = Vec::with_capacity(args.runs);
        let (mut checksum, mut bits_sum, mut nan_count) = (0.0_f64, 0_u64, 0_u64);
        for run in 0..args.runs {
            let t0 = Instant::now();
            let a = pool.install(|| var.read_all::<f32>())?;
            let secs = t0.elapsed().as_secs_f64();
            if a.len() as u64 != n {
                bail!("read {} values, expected {n}", a.len());
            }
            // Checksums outside the timed part: numpy's nansum(dtype=float64) and the exact
            // wrapping sum of the bit patterns of the non-NaN values.
            checksum = a
                .iter()
                .filter(|v| !v.is_nan())
                .map(|&v| f64::from(v))
                .sum();
            nan_count = a.iter().filter(|v| v.is_nan()).count() as u64;
            bits_sum = a
                .iter()
                .filter(|v| !v.is_nan())
                .fold(0_u64, |acc, &v| acc.wrapping_add(u64::from(v.to_bits())));
            eprintln!(
                "  threads {threads} run {run}: {secs:.4} s, {:.0} MB/s",
                mb / secs
            );
            times.push(secs);
            last = Some(a);
        }
        times.sort_by(f64::total_cmp);
        let best = times[0];
        let median = times[times.len() / 2];
        println!(
            "{}",
            serde_json::json!({
                "tool": "chunkref",
                "var": name,
                "threads": threads,
                "seconds": best,
                "median_seconds": median,
                "mb_per_s": mb / best,
                "mb": mb,
                "values": n,
                "checksum": checksum,
                "nan_count": nan_count,
                "bits_sum": bits_sum,
                "runs": args.runs,
                "scan_seconds": scan_s,
            })
        );
    }
    if let (Some(path), Some(a)) = (&args.dump, last) {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        for v in &a {
            f.write_all(&v.to_le_bytes())?;
        }
        f.flush()?;
    }
    if args.store.is_none() {
        let _ = std::fs::remove_file(&store_path);
    }
    Ok(())
}
