//! `chunkref convert`: a reference store from kerchunk JSON to Parquet or back; and the store
//! reading and writing that `combine` and `build` share.

// The doc comments of clap structs here are --help text, printed as written: no Markdown.
#![allow(clippy::doc_markdown)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chunkref::refs::{self, parquet, RefStore};

/// A store's serialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// kerchunk JSON (version 1), one file.
    Json,
    /// kerchunk Parquet (fsspec's layout), a directory.
    Parquet,
}

impl Format {
    /// The format asked for, or the one the output path implies: Parquet for a name ending in
    /// `.parq`/`.parquet`, JSON otherwise.
    pub(crate) fn for_output(asked: Option<Format>, path: &Path) -> Format {
        asked.unwrap_or(if parquet::is_parquet_name(path) {
            Format::Parquet
        } else {
            Format::Json
        })
    }
}

/// Reads a store: a directory is a Parquet store, a file a JSON store.
pub(crate) fn load(path: &Path) -> anyhow::Result<RefStore> {
    Ok(chunkref::refs::read(&path.to_string_lossy())?)
}

/// Writes a store atomically in `format` (`record_size` references per Parquet file).
pub(crate) fn save(
    store: &RefStore,
    path: &Path,
    format: Format,
    record_size: usize,
) -> anyhow::Result<()> {
    let format = match format {
        Format::Json => refs::Format::Json,
        Format::Parquet => refs::Format::Parquet { record_size },
    };
    Ok(refs::write(store, path, format)?)
}

/// Convert a reference store between kerchunk JSON and kerchunk Parquet.
///
/// The references are unchanged: converting JSON to Parquet and back gives the same JSON
/// bytes as chunkref wrote. The output is replaced atomically.
///
/// Examples:
///
///   chunkref convert ens.json ens.parq                  JSON to Parquet (by the name)
///
///   chunkref convert ens.parq ens.json                  and back
///
///   chunkref convert ens.json refs --format parquet --record-size 10000
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct ConvertArgs {
    /// The store to read: a JSON file or a Parquet store directory.
    #[arg(value_name = "IN")]
    input: PathBuf,

    /// The store to write.
    #[arg(value_name = "OUT")]
    output: PathBuf,

    /// Output format [default: parquet if OUT ends in .parq or .parquet, else json].
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Parquet: chunk references per file.
    #[arg(long, value_name = "N", default_value_t = parquet::DEFAULT_RECORD_SIZE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    record_size: usize,
}

pub(crate) fn run(args: &ConvertArgs) -> anyhow::Result<ExitCode> {
    let store = load(&args.input)?;
    let format = Format::for_output(args.format, &args.output);
    save(&store, &args.output, format, args.record_size)?;
    Ok(ExitCode::SUCCESS)
}
