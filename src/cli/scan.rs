//! `chunkref scan`: files and directories in, one reference store per file out.

// The doc comments of clap structs here are --help text, printed as written: no Markdown.
#![allow(clippy::doc_markdown)]

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use chunkref::refs::{self, StoreStats};
use chunkref::scan::{self, ScanOptions};
use serde::{Deserialize, Serialize};

use super::workers::{self, Job};

/// Scan NetCDF4/HDF5, NetCDF3 and GRIB files into kerchunk reference stores (JSON, version 1).
///
/// Each input file gives one store that records, for every variable, its Zarr metadata and
/// where each chunk lies (file url, byte offset, length) with the codecs that decode it.
/// Directories are searched recursively. Files are scanned in parallel by worker processes, so
/// a file that crashes or hangs the HDF5 library fails alone: the others go on. The format is told from the first bytes.
///
/// Examples:
///
///   chunkref scan era5_20200101.nc -o era5.json
///
///   chunkref scan era5_20200101.nc -o -            (the store on stdout)
///
///   chunkref scan data/ more/*.nc -o refs/ -j 8 --include '*.nc'
///
///   chunkref scan data/ -o refs/ --url-prefix /data/=s3://bucket/era5/
///
///   chunkref scan data/ -o refs/ --shard 3/10      (the 3rd of 10 independent jobs, e.g. a
///                                                   SLURM array task; combine their stores)
///
///   find data -name '*.nc' | chunkref scan --files-from - -o refs/
///
/// Exit status: 0 when every file was scanned, 1 when some failed (each is reported on stderr
/// as chunkref: PATH: reason), 2 for usage errors.
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
#[allow(clippy::struct_excessive_bools)] // independent command-line switches
pub(crate) struct ScanArgs {
    /// Files and directories to scan (directories recursively).
    #[arg(required_unless_present = "files_from", value_name = "INPUT")]
    inputs: Vec<PathBuf>,

    /// Also scan the files and directories listed in FILE, one per line (- for stdin).
    #[arg(long, value_name = "FILE")]
    files_from: Option<PathBuf>,

    /// Scan only share K of N (1 <= K <= N): every Nth file of the sorted list of inputs,
    /// starting with the Kth. N independent jobs with K = 1..N scan every file exactly once,
    /// and combining all their stores gives what one run would.
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    shard: Option<(usize, usize)>,

    /// Where to write: a FILE for a single input, a DIR/ for many (one <file name>.json each), or - for stdout.
    ///
    /// With one input file and a path that is not an existing directory and does not end in
    /// '/', the store is written to that file. Otherwise the path is a directory (created if
    /// needed) and each input gives <DIR>/<file name>.json. Files are written to a temporary
    /// name and renamed, so a crash never leaves a half-written store.
    #[arg(short, long, value_name = "PATH")]
    output: PathBuf,

    /// Number of worker processes (default: the number of cores).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,

    /// Only scan files under directories whose path matches this glob (repeatable), e.g. '*.nc'.
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,

    /// Skip files under directories whose path matches this glob (repeatable), e.g. '*_tmp.nc'.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,

    /// Inline chunks of at most this many bytes in the store instead of referencing them.
    #[arg(long, value_name = "BYTES", default_value_t = scan::DEFAULT_INLINE_THRESHOLD)]
    inline_threshold: u64,

    /// Rewrite data urls that start with OLD to start with NEW (OLD may be a plain path).
    #[arg(long, value_name = "OLD=NEW", value_parser = parse_prefix)]
    url_prefix: Option<(String, String)>,

    /// GRIB: when FILE.idx (a wgrib2/NOAA index) lies beside a GRIB file, take message
    /// offsets, variables, levels and steps from it and read the sections of one message per
    /// variable only. Each kind of line is checked against the message it was read with; a
    /// kind that disagrees has all its messages read.
    #[arg(long)]
    grib_idx: bool,

    /// Give up on a file after this many seconds (its worker is stopped; the run goes on).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    timeout: u64,

    /// Print a JSON summary on stdout (files, variables, chunks, bytes, failures, seconds).
    #[arg(long)]
    json: bool,

    /// Do not show a progress bar (it is only shown when stderr is a terminal anyway).
    #[arg(long)]
    no_progress: bool,

    /// Do not print warnings about skipped variables or attributes.
    #[arg(short, long)]
    quiet: bool,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok((k, n)),
        _ => Err(format!("expected K/N with 1 <= K <= N, got {s:?}")),
    }
}

fn parse_prefix(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .filter(|(a, _)| !a.is_empty())
        .ok_or_else(|| format!("expected OLD=NEW, got {s:?}"))
}

/// The result of scanning one file, as a worker reports it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct FileReport {
    pub(crate) input: PathBuf,
    pub(crate) output: Option<PathBuf>,
    pub(crate) error: Option<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) variables: usize,
    pub(crate) chunks: u64,
    pub(crate) bytes: u64,
}

/// Where a store goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum Destination {
    File(PathBuf),
    Stdout,
}

/// Scan options as workers receive them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WorkerOptions {
    pub(crate) inline_threshold: u64,
    pub(crate) url_prefix: Option<(String, String)>,
    #[serde(default)]
    pub(crate) grib_idx: bool,
}

impl WorkerOptions {
    fn scan_options(&self) -> ScanOptions {
        ScanOptions {
            inline_threshold: self.inline_threshold,
            url_prefix: self.url_prefix.clone(),
            grib_idx: self.grib_idx,
            ..ScanOptions::default()
        }
    }
}

/// Scans one file and writes its store: the one piece of work both the in-process path and
/// the workers do.
pub(crate) fn scan_one(input: &Path, dest: &Destination, options: &WorkerOptions) -> FileReport {
    let mut report = FileReport {
        input: input.to_owned(),
        ..FileReport::default()
    };
    let result = scan::scan_file(input, &options.scan_options()).and_then(|out| {
        let StoreStats {
            variables,
            chunks,
            bytes,
            ..
        } = out.store.stats();
        (report.variables, report.chunks, report.bytes) = (variables, chunks, bytes);
        report.warnings = out.warnings;
        match dest {
            Destination::File(path) => {
                report.output = Some(path.clone());
                refs::json::write(&out.store, path)
            }
            Destination::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout
                    .write_all(&refs::json::to_json(&out.store))
                    .and_then(|()| stdout.write_all(b"\n"))
                    .map_err(|source| chunkref::Error::Io {
                        path: "<stdout>".into(),
                        source,
                    })
            }
        }
    });
    if let Err(e) = result {
        report.error = Some(strip_path(&e.to_string(), input));
    }
    report
}

/// Error messages of the library start with the path; the CLI prints it once itself.
fn strip_path(message: &str, path: &Path) -> String {
    let p = format!("{}: ", path.display());
    message.strip_prefix(&p).unwrap_or(message).to_owned()
}

/// Every file to scan: explicit files as given, directories walked (sorted, filtered by globs).
fn collect_inputs(args: &ScanArgs) -> anyhow::Result<(Vec<PathBuf>, Vec<FileReport>)> {
    let globs = |patterns: &[String]| -> anyhow::Result<Option<globset::GlobSet>> {
        if patterns.is_empty() {
            return Ok(None);
        }
        let mut set = globset::GlobSetBuilder::new();
        for p in patterns {
            set.add(globset::Glob::new(p).with_context(|| format!("invalid glob {p:?}"))?);
        }
        Ok(Some(set.build()?))
    };
    let include = globs(&args.include)?;
    let exclude = globs(&args.exclude)?;
    let keep = |p: &Path| {
        let name = p.file_name().map_or(p, Path::new);
        let matches = |set: &globset::GlobSet| set.is_match(p) || set.is_match(name);
        include.as_ref().is_none_or(matches) && !exclude.as_ref().is_some_and(matches)
    };
    let mut files = Vec::new();
    let mut failures = Vec::new();
    let mut inputs = args.inputs.clone();
    if let Some(list) = &args.files_from {
        let text = if list == Path::new("-") {
            std::io::read_to_string(std::io::stdin())
                .context("cannot read the file list from stdin")?
        } else {
            std::fs::read_to_string(list)
                .with_context(|| format!("{}: cannot read the file list", list.display()))?
        };
        inputs.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(PathBuf::from),
        );
    }
    for input in &inputs {
        if !input.is_dir() {
            files.push(input.clone());
            continue;
        }
        let mut found: Vec<PathBuf> = Vec::new();
        for entry in walkdir::WalkDir::new(input).follow_links(true) {
            match entry {
                Ok(e) if e.file_type().is_file() && keep(e.path()) && !is_sidecar(e.path()) => {
                    found.push(e.into_path());
                }
                Ok(_) => {}
                Err(e) => failures.push(FileReport {
                    input: e.path().unwrap_or(input).to_owned(),
                    error: Some(e.to_string()),
                    ..FileReport::default()
                }),
            }
        }
        found.sort();
        files.extend(found);
    }
    Ok((files, failures))
}

/// A GRIB index sidecar (`X.idx` beside `X`): part of its GRIB file, not an input of its own.
fn is_sidecar(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "idx") && path.with_extension("").is_file()
}

/// Pairs each input with its destination, refusing two inputs that would write one store.
fn plan(files: Vec<PathBuf>, output: &Path) -> anyhow::Result<(Vec<Job>, Vec<FileReport>)> {
    if output == Path::new("-") {
        if files.len() != 1 {
            bail!(
                "-o - writes one store to stdout; give exactly one input file (got {})",
                files.len()
            );
        }
        return Ok((
            files
                .into_iter()
                .map(|input| Job {
                    input,
                    dest: Destination::Stdout,
                })
                .collect(),
            vec![],
        ));
    }
    let as_dir = files.len() != 1 || output.is_dir() || output.to_string_lossy().ends_with('/');
    if !as_dir {
        return Ok((
            files
                .into_iter()
                .map(|input| Job {
                    input,
                    dest: Destination::File(output.to_owned()),
                })
                .collect(),
            vec![],
        ));
    }
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create output directory {}", output.display()))?;
    let mut seen = HashSet::new();
    let mut jobs = Vec::new();
    let mut failures = Vec::new();
    for input in files {
        let name = input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dest = output.join(format!("{name}.json"));
        if !seen.insert(dest.clone()) {
            failures.push(FileReport {
                error: Some(format!(
                    "another input is also named {name:?}; its store would overwrite {}",
                    dest.display()
                )),
                input,
                ..FileReport::default()
            });
            continue;
        }
        jobs.push(Job {
            input,
            dest: Destination::File(dest),
        });
    }
    Ok((jobs, failures))
}

#[derive(Serialize)]
struct Summary<'a> {
    files: usize,
    succeeded: usize,
    failed: usize,
    variables: usize,
    chunks: u64,
    bytes: u64,
    seconds: f64,
    failures: Vec<Failure<'a>>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct Failure<'a> {
    path: &'a Path,
    error: &'a str,
}

pub(crate) fn run(args: &ScanArgs) -> anyhow::Result<ExitCode> {
    let start = Instant::now();
    let (mut files, mut reports) = collect_inputs(args)?;
    if let Some((k, n)) = args.shard {
        // Sorted and deduplicated so that every job sees the same list, whatever order its
        // inputs were given in.
        files.sort();
        files.dedup();
        let total = files.len();
        files = files.into_iter().skip(k - 1).step_by(n).collect();
        if files.is_empty() && reports.is_empty() && total > 0 {
            eprintln!("chunkref: shard {k}/{n}: no files in this share ({total} files in all)");
            return Ok(ExitCode::SUCCESS);
        }
    }
    if files.is_empty() && reports.is_empty() {
        bail!(
            "no files to scan under {:?} (check --include/--exclude)",
            args.inputs
        );
    }
    let (jobs, failures) = plan(files, &args.output)?;
    reports.extend(failures);
    let options = WorkerOptions {
        inline_threshold: args.inline_threshold,
        url_prefix: args.url_prefix.clone(),
        grib_idx: args.grib_idx,
    };
    let n_jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let progress = super::progress_bar(
        jobs.len() as u64,
        args.no_progress || jobs.len() < 2,
        "scanning",
        "files",
    );
    let report = |r: &FileReport| {
        progress.inc(1);
        if let Some(e) = &r.error {
            progress.suspend(|| eprintln!("chunkref: {}: {e}", r.input.display()));
        } else if !args.quiet {
            for w in &r.warnings {
                progress.suspend(|| eprintln!("chunkref: {}: warning: {w}", r.input.display()));
            }
        }
    };
    for r in &reports {
        report(r);
    }
    if jobs.len() <= 1 {
        for job in &jobs {
            let r = scan_one(&job.input, &job.dest, &options);
            report(&r);
            reports.push(r);
        }
    } else {
        let done = workers::run_pool(
            jobs,
            n_jobs,
            &options,
            Duration::from_secs(args.timeout),
            &report,
        )?;
        reports.extend(done);
    }
    progress.finish_and_clear();
    let failed = reports.iter().filter(|r| r.error.is_some()).count();
    if args.json {
        print_summary(&reports, failed, start.elapsed().as_secs_f64())?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_summary(reports: &[FileReport], failed: usize, seconds: f64) -> anyhow::Result<()> {
    let ok = reports.iter().filter(|r| r.error.is_none());
    let summary = Summary {
        files: reports.len(),
        succeeded: reports.len() - failed,
        failed,
        variables: ok.clone().map(|r| r.variables).sum(),
        chunks: ok.clone().map(|r| r.chunks).sum(),
        bytes: ok.clone().map(|r| r.bytes).sum(),
        seconds,
        failures: reports
            .iter()
            .filter_map(|r| {
                r.error.as_deref().map(|error| Failure {
                    path: &r.input,
                    error,
                })
            })
            .collect(),
        warnings: ok
            .flat_map(|r| {
                r.warnings
                    .iter()
                    .map(|w| format!("{}: {w}", r.input.display()))
            })
            .collect(),
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &summary)?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> ScanArgs {
        let cli = crate::cli::Cli::try_parse_from(args).unwrap();
        match cli.command {
            crate::cli::Command::Scan(a) => a,
            other => panic!("parsed {other:?}"),
        }
    }

    #[test]
    fn flags_parse_with_their_defaults() {
        let a = parse(&["chunkref", "scan", "a.nc", "-o", "out/"]);
        assert_eq!(a.inline_threshold, 500);
        assert_eq!(a.timeout, 600);
        assert!(a.jobs.is_none());
        let a = parse(&[
            "chunkref",
            "scan",
            "d",
            "-o",
            "o",
            "-j",
            "3",
            "--include",
            "*.nc",
            "--url-prefix",
            "/d/=s3://b/",
        ]);
        assert_eq!(a.jobs, Some(3));
        assert_eq!(a.include, vec!["*.nc"]);
        assert_eq!(a.url_prefix, Some(("/d/".into(), "s3://b/".into())));
        assert!(crate::cli::Cli::try_parse_from([
            "chunkref",
            "scan",
            "a",
            "-o",
            "o",
            "--url-prefix",
            "nope"
        ])
        .is_err());
    }

    #[test]
    fn single_file_goes_to_file_many_to_dir() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.json");
        let (jobs, _) = plan(vec!["a.nc".into()], &out).unwrap();
        assert!(matches!(&jobs[0].dest, Destination::File(p) if p == &out));
        let outdir = dir.path().join("refs");
        let (jobs, fails) = plan(
            vec!["d1/a.nc".into(), "d2/a.nc".into(), "b.nc".into()],
            &outdir,
        )
        .unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(
            fails.len(),
            1,
            "two inputs named a.nc would write one store"
        );
        assert!(matches!(&jobs[1].dest, Destination::File(p) if p == &outdir.join("b.nc.json")));
    }
}
