//! Command-line definitions (clap derive) and dispatch to one module per command.
//!
//! The structs here are a plain mirror of what was typed; each command module turns them into
//! library options once, before any work starts.

// The doc comments of clap structs here are --help text, printed as written: no Markdown.
#![allow(clippy::doc_markdown)]

mod build;
mod combine;
mod convert;
mod get;
mod info;
mod scan;
mod workers;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Turn NetCDF4/HDF5, NetCDF3 and GRIB archives into virtual Zarr datasets (kerchunk reference stores).
///
/// chunkref records where every chunk of every variable lies in your files (url, offset,
/// length, codecs) without copying any data. Python opens the result with fsspec + xarray;
/// Rust with chunkref::open.
///
/// Examples:
///
///   chunkref scan era5_20200101.nc -o era5.json     one file, one store
///
///   chunkref scan data/ -o refs/                    every file under data/, in parallel
///
///   chunkref combine refs/*.json --concat time --coord time=cf:time -o all.json
///                                                   many stores into one, along time
///
///   chunkref convert all.json all.parq              kerchunk JSON to Parquet (and back)
///
///   chunkref info era5.json                         what a store holds, like ncdump -h
///
///   chunkref get era5.json t2m --slice 0,::10,::10  values, read through the references
#[derive(Debug, Parser)]
#[command(
    name = "chunkref",
    version,
    about,
    long_about,
    max_term_width = 100,
    verbatim_doc_comment
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Scan(scan::ScanArgs),
    Combine(combine::CombineArgs),
    Build(build::BuildArgs),
    Convert(convert::ConvertArgs),
    Info(info::InfoArgs),
    Get(get::GetArgs),
    /// Internal: scan files named on stdin for a parent chunkref scan (one per line).
    #[command(hide = true, name = "__scan-worker")]
    Worker(workers::WorkerArgs),
}

/// Runs the command line and returns the exit status.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Scan(args) => scan::run(&args),
        Command::Combine(args) => combine::run(&args),
        Command::Build(args) => build::run(&args),
        Command::Convert(args) => convert::run(&args),
        Command::Info(args) => info::run(&args),
        Command::Get(args) => get::run(&args),
        Command::Worker(args) => workers::serve(&args),
    }
}

/// A progress bar on stderr for `len` steps of `doing` (drawn only on a terminal).
pub(crate) fn progress_bar(
    len: u64,
    hidden: bool,
    doing: &str,
    unit: &str,
) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let template = format!(
        "{{spinner}} {doing} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{per_sec}}  eta {{eta}}"
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(&template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
