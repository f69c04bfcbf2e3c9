//! `chunkref build`: scan files and combine their references in one go.

// The doc comments of clap structs here are --help text, printed as written: no Markdown.
#![allow(clippy::doc_markdown)]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chunkref::combine::Input;
use chunkref::scan::{self, ScanOptions};
use rayon::prelude::*;

use super::combine::{finish, CombineFlags};

/// Scan files and combine their references into one store, in one go (scan, then combine).
///
/// INPUTs are files, directories (searched recursively) or quoted glob patterns, which
/// chunkref expands itself so that thousands of files do not overflow the command line.
/// Every input must scan: a file that fails stops the build with its error, and nothing is
/// written. The combine flags are those of chunkref combine.
///
/// Examples:
///
///   chunkref build 'data/tas_*.nc' --concat time --coord time=cf:time -o tas.json
///
///   chunkref build 'new/tas_*.nc' --append-to tas.json --concat time --coord time=cf:time
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct BuildArgs {
    /// Files, directories or quoted glob patterns ('data/*.nc').
    #[arg(required = true, value_name = "INPUT")]
    inputs: Vec<String>,

    /// Inline chunks of at most this many bytes in the store instead of referencing them.
    #[arg(long, value_name = "BYTES", default_value_t = scan::DEFAULT_INLINE_THRESHOLD)]
    inline_threshold: u64,

    /// GRIB: use FILE.idx sidecars (see chunkref scan --help).
    #[arg(long)]
    grib_idx: bool,

    #[command(flatten)]
    flags: CombineFlags,
}

pub(crate) fn run(args: &BuildArgs) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for input in &args.inputs {
        files.extend(expand(input)?);
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        bail!("no files match {:?}", args.inputs);
    }
    let options = ScanOptions {
        inline_threshold: args.inline_threshold,
        grib_idx: args.grib_idx,
        ..ScanOptions::default()
    };
    let scanned: Vec<anyhow::Result<Input>> = files
        .par_iter()
        .map(|path| {
            let out = scan::scan_file(path, &options)?;
            for w in &out.warnings {
                eprintln!("chunkref: {}: warning: {w}", path.display());
            }
            Ok(Input {
                name: path.to_string_lossy().into_owned(),
                store: out.store,
            })
        })
        .collect();
    let mut inputs = Vec::with_capacity(scanned.len());
    let mut failed = 0;
    for result in scanned {
        match result {
            Ok(input) => inputs.push(input),
            Err(e) => {
                eprintln!("chunkref: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        bail!(
            "{failed} of {} files could not be scanned; nothing written",
            files.len()
        );
    }
    finish(&args.flags, None, [Ok(inputs)])
}

/// The files an input names: itself, the files under a directory, or a glob's matches.
fn expand(input: &str) -> anyhow::Result<Vec<PathBuf>> {
    let path = Path::new(input);
    if !input.contains(['*', '?', '[', '{']) {
        if path.is_dir() {
            let mut out = Vec::new();
            for entry in walkdir::WalkDir::new(path).follow_links(true) {
                let entry = entry.with_context(|| format!("{input}: cannot list"))?;
                if entry.file_type().is_file()
                    && entry.path().extension().is_none_or(|e| e != "idx")
                {
                    out.push(entry.into_path());
                }
            }
            return Ok(out);
        }
        return Ok(vec![path.to_owned()]);
    }
    let glob = globset::GlobBuilder::new(input)
        .literal_separator(true)
        .build()
        .with_context(|| format!("invalid glob {input:?}"))?
        .compile_matcher();
    // Walk from the longest directory prefix without glob characters.
    let root: PathBuf = path
        .components()
        .take_while(|c| {
            !c.as_os_str()
                .to_string_lossy()
                .contains(['*', '?', '[', '{'])
        })
        .collect();
    let root = if root.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        root
    };
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(&root).follow_links(true) {
        let entry = entry.with_context(|| format!("{}: cannot list", root.display()))?;
        let p = entry.path();
        let relative = p.strip_prefix("./").unwrap_or(p);
        if entry.file_type().is_file() && (glob.is_match(p) || glob.is_match(relative)) {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}
