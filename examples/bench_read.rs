//! Read benchmark: scans one NetCDF4/HDF5 file into a kerchunk JSON store, then reads a whole
//! variable through the store with `Variable::read_all::<f32>()`, best of N runs, on a rayon
//! pool of 1, 2, ... threads (every parallel step of a read — prefetch, range fetches and zarrs'
//! chunk decoding — runs on the current rayon pool, so `pool.install` bounds it).
//!
//! ```sh
//! cargo run --release --example bench_read -- bench-corpus/read/big.nc \
//!     [--var t2m] [--runs 3] [--threads 1,2] [--store /tmp/big.json]
//! ```
//!
//! Prints a human-readable table on stderr and one JSON object per thread count on stdout:
//! `{"tool":"chunkref","threads":1,"seconds":..,"mb_per_s":..,"cpu_per_real":..,"checksum":..,
//! "bits_sum":..}`. `cpu_per_real` is the process's user+system CPU time over wall time during
//! the best run: about 1.0 means one core was busy. `checksum` is the f64 sum of the values and
//! `bits_sum` the exact sum of their bit patterns, for comparison with another reader.
//! `scripts/bench.sh` runs this through `benches/bench_read.py`, next to netCDF4-python.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The allocator the `chunkref` binary uses (see `src/main.rs`): glibc's returns chunk-sized
/// buffers to the kernel after each chunk and faults them in again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use chunkref::scan::{scan_file, ScanOptions};

struct Args {
    file: PathBuf,
    var: String,
    runs: usize,
    threads: Vec<usize>,
    store: Option<PathBuf>,
}

fn parse_args() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut file = None;
    let mut var = "t2m".to_owned();
    let mut runs = 3;
    let mut threads = vec![1, 2];
    let mut store = None;
    while let Some(a) = it.next() {
        let mut value = || it.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--var" => var = value()?,
            "--runs" => runs = value()?.parse()?,
            "--threads" => {
                threads = value()?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--store" => store = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("usage: bench_read FILE [--var V] [--runs N] [--threads 1,2] [--store OUT.json]");
                std::process::exit(0);
            }
            s if s.starts_with('-') => bail!("unknown option {s}"),
            _ => file = Some(PathBuf::from(a)),
        }
    }
    Ok(Args {
        file: file.context("usage: bench_read FILE [--var V] [--runs N] [--threads 1,2]")?,
        var,
        runs: runs.max(1),
        threads,
        store,
    })
}

/// User + system CPU seconds used by this process so far.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes into the struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage struct.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &raw mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn main() -> Result<()> {
    let args = parse_args()?;

    // Scan the file into a store on disk, then open it as a user would.
    let t = Instant::now();
    let out = scan_file(&args.file, &ScanOptions::default())
        .with_context(|| format!("scanning {}", args.file.display()))?;
    let store_path = args.store.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("chunkref-bench-read-{}.json", std::process::id()))
    });
    chunkref::refs::json::write(&out.store, &store_path)?;
    let scan_s = t.elapsed().as_secs_f64();
    let ds = chunkref::open(store_path.to_string_lossy())?;
    let var = ds.variable(&args.var)?;
    let shape = var.shape().to_vec();
    let n: u64 = shape.iter().product();
    let mb = (n * 4) as f64 / 1e6;
    eprintln!(
        "bench_read: {} {} shape {:?} ({:.1} MB decoded f32), chunks {:?}, scanned in {:.3} s",
        args.file.display(),
        args.var,
        shape,
        mb,
        var.meta().chunks,
        scan_s
    );

    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("building the rayon pool")?;
        let mut best = f64::INFINITY;
        let mut best_cpu = 0.0;
        let mut checksum = 0.0_f64;
        let mut bits_sum = 0_u64;
        for run in 0..args.runs {
            let (c0, t0) = (cpu_seconds(), Instant::now());
            let a = pool.install(|| var.read_all::<f32>())?;
            let secs = t0.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - c0;
            if a.len() as u64 != n {
                bail!("read {} values, expected {n}", a.len());
            }
            // Checksum outside the timed part, in f64 as numpy's sum(dtype=float64) does.
            checksum = a.iter().map(|&v| f64::from(v)).sum();
            // Exact: the sum of the values' bit patterns (wrapping), as numpy's
            // a.view(np.uint32).sum(dtype=np.uint64) gives it.
            bits_sum = a
                .iter()
                .fold(0_u64, |acc, &v| acc.wrapping_add(u64::from(v.to_bits())));
            eprintln!(
                "  threads {threads} run {run}: {secs:.3} s, {:.0} MB/s, cpu/real {:.2}",
                mb / secs,
                cpu / secs
            );
            if secs < best {
                best = secs;
                best_cpu = cpu / secs;
            }
            drop(a);
        }
        println!(
            "{}",
            serde_json::json!({
                "tool": "chunkref",
                "threads": threads,
                "seconds": best,
                "mb_per_s": mb / best,
                "mb": mb,
                "cpu_per_real": best_cpu,
                "checksum": checksum,
                "bits_sum": bits_sum,
                "runs": args.runs,
            })
        );
    }
    if args.store.is_none() {
        let _ = std::fs::remove_file(&store_path);
    }
    Ok(())
}
