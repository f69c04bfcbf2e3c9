//! `chunkref combine`: many reference stores into one, concatenated along dimensions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use chunkref::combine::{CombineOptions, Combiner, CoordRule, Input};
use rayon::prelude::*;

use super::convert::{load, save, Format};

/// What to do when an appended input is already in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OnDuplicate {
    /// Stop with an error naming the input; nothing is written.
    Error,
    /// Leave the input out, with a warning.
    Skip,
}

/// Combine reference stores into one consolidated store, concatenated along dimensions.
///
/// Inputs are ordered by their coordinate values along the concat dimensions, never by the
/// order they are given in. Everything that must agree (dtype, codecs, chunk shape, fill
/// value, scale_factor, add_offset, the sizes of other dimensions) is checked; a mismatch is
/// an error naming both inputs, and nothing is written.
///
/// Coordinate rules (--coord DIM=RULE):
///   data            the values of the variable named DIM (the default)
///   cf:VAR          CF time: each input decoded with its own units and calendar, all encoded
///                   in the first input's units (integers where exact)
///   regex:PATTERN   the first group of PATTERN matched on the input's path (one value each)
///   attr:NAME       a global attribute of each input
///   position        the input's position among the arguments
///   list:a,b,c      the given values, one per input in argument order
///
/// Examples:
///
///   chunkref combine refs/era5_*.json --concat time --coord time=cf:time -o era5.json
///
///   chunkref combine refs/tas_*.json --concat member,time --coord 'member=regex:member(\d+)' \
///       --coord time=cf:time --identical lat,lon -o ens.json
///
///   chunkref combine refs/era5_202002*.json --append-to era5.json    # its options recorded in it
///
///   chunkref combine refs/tas_*.json --concat time --coord time=cf:time -o tas.parq
///
///   chunkref combine refs/t2m.json refs/d2m.json --merge -o surface.json

#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct CombineArgs {
    /// Reference stores to combine (kerchunk JSON files or Parquet store directories).
    #[arg(required = true, value_name = "STORE")]
    inputs: Vec<PathBuf>,

    /// Store chunks referenced with at most this many bytes inline in the combined store,
    /// read from the files they are in [default: references stay as the inputs have them].
    /// (`build` inlines while scanning, with its own --inline-threshold.)
    #[arg(long, value_name = "BYTES")]
    inline_threshold: Option<u64>,

    #[command(flatten)]
    flags: CombineFlags,
}

/// How to combine and where to write: shared by `combine` and `build`.
#[derive(Debug, clap::Args)]
pub(crate) struct CombineFlags {
    /// Dimensions to concatenate along, outermost first, comma separated (existing or new).
    #[arg(long, value_name = "DIMS", value_delimiter = ',')]
    concat: Vec<String>,

    /// Merge inputs that hold different variables of one grid (no concatenation): a variable
    /// in several inputs is taken once and must be identical in all.
    #[arg(long, conflicts_with = "concat")]
    merge: bool,

    /// Where a concat dimension's coordinate values come from: DIM=RULE (repeatable).
    #[arg(long, value_name = "DIM=RULE")]
    coord: Vec<String>,

    /// Variables to take once from the first input, checked identical in all (comma separated).
    #[arg(long, value_name = "VARS", value_delimiter = ',')]
    identical: Vec<String>,

    /// The combined store (kerchunk JSON v1, or Parquet: see --format); with --append-to, the
    /// appended store by default.
    #[arg(
        short,
        long,
        value_name = "PATH",
        required_unless_present = "append_to"
    )]
    output: Option<PathBuf>,

    /// Add the inputs to this combined store (replaced atomically): the result is the store
    /// combining everything at once would give. Without --concat or --merge, the options the
    /// store records (its chunkref_combine attribute) are used.
    #[arg(long, value_name = "STORE")]
    append_to: Option<PathBuf>,

    /// With --append-to: what to do with an input whose coordinates the store already holds.
    #[arg(long, value_enum, default_value_t = OnDuplicate::Error)]
    on_duplicate: OnDuplicate,

    /// Output format [default: parquet if the output ends in .parq or .parquet or is an
    /// existing directory, else json].
    #[arg(long, value_enum)]
    format: Option<Format>,

    /// Parquet output: chunk references per file.
    #[arg(long, value_name = "N", default_value_t = chunkref::refs::parquet::DEFAULT_RECORD_SIZE,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    record_size: usize,

    /// Do not print warnings.
    #[arg(short, long)]
    quiet: bool,
}

pub(crate) fn run(args: &CombineArgs) -> anyhow::Result<ExitCode> {
    // Parsing is most of the work for thousands of inputs: a batch at a time on all cores,
    // each batch added (and dropped) before the next is read, so memory holds one batch of
    // parsed stores besides what the combine keeps.
    let progress = super::progress_bar(
        args.inputs.len() as u64,
        args.flags.quiet || args.inputs.len() < 2 * BATCH,
        "reading",
        "stores",
    );
    let batches = args.inputs.chunks(BATCH).map(|batch| {
        let read = batch.par_iter().map(|p| read_store(p)).collect();
        progress.inc(batch.len() as u64);
        if Some(progress.position()) == progress.length() {
            progress.finish_and_clear(); // before the combine's warnings are printed
        }
        read
    });
    let result = finish(&args.flags, args.inline_threshold, batches);
    progress.finish_and_clear();
    result
}

/// Stores read at once.
const BATCH: usize = 64;

fn read_store(path: &Path) -> anyhow::Result<Input> {
    let name = path.to_string_lossy().into_owned();
    let store = load(path)?;
    Ok(Input { name, store })
}

/// The combine options the flags give.
fn options_from(
    flags: &CombineFlags,
    inline_threshold: Option<u64>,
) -> anyhow::Result<CombineOptions> {
    let mut coords = BTreeMap::new();
    for spec in &flags.coord {
        let (dim, rule) = spec
            .split_once('=')
            .with_context(|| format!("--coord {spec:?}: expected DIM=RULE"))?;
        coords.insert(dim.to_owned(), CoordRule::parse(rule)?);
    }
    Ok(CombineOptions {
        concat: flags.concat.clone(),
        coords,
        identical: flags.identical.clone(),
        inline_threshold,
    })
}

/// Combines the batches of inputs (after the store appended to, if any) and writes the
/// result.
pub(crate) fn finish(
    flags: &CombineFlags,
    inline_threshold: Option<u64>,
    batches: impl IntoIterator<Item = anyhow::Result<Vec<Input>>>,
) -> anyhow::Result<ExitCode> {
    // The store appended to is the first input (its parsed form dropped once added).
    let existing = flags
        .append_to
        .as_ref()
        .map(|p| read_store(p))
        .transpose()?;
    let options = match &existing {
        Some(e) if flags.concat.is_empty() && !flags.merge => {
            let mut recorded = CombineOptions::recorded_in(&e.store)?.with_context(|| {
                format!(
                    "{}: the store does not record how it was combined: give --concat (and --coord) or --merge",
                    e.name
                )
            })?;
            recorded.inline_threshold = inline_threshold.or(recorded.inline_threshold);
            recorded
        }
        None if flags.concat.is_empty() && !flags.merge => anyhow::bail!(
            "nothing to concatenate along: give --concat DIMS (with --coord DIM=RULE), or --merge for inputs holding different variables of one grid"
        ),
        _ => options_from(flags, inline_threshold)?,
    };
    let mut combiner = Combiner::new(options);
    let existing = match existing {
        Some(store) => {
            combiner.add(&store)?;
            Some(store.name)
        }
        None => None,
    };
    for batch in batches {
        let mut batch = batch?;
        if let Some(existing) = &existing {
            let mut kept = Vec::with_capacity(batch.len());
            for input in batch {
                if !combiner.holds(0, &input)? {
                    kept.push(input);
                    continue;
                }
                let what = format!(
                    "{}: its coordinates are already in {}",
                    input.name, existing
                );
                if flags.on_duplicate == OnDuplicate::Skip {
                    eprintln!("chunkref: warning: {what}; skipped");
                    continue;
                }
                anyhow::bail!("{what} (--on-duplicate skip leaves such inputs out)");
            }
            batch = kept;
        }
        combiner.add_all(&batch)?;
        batch.into_par_iter().for_each(drop);
    }
    let inputs = combiner.len();
    let out = combiner.finish()?;
    if !flags.quiet {
        for w in &out.warnings {
            eprintln!("chunkref: warning: {w}");
        }
    }
    let target = flags
        .output
        .as_ref()
        .or(flags.append_to.as_ref())
        .context("no output: give -o PATH")?;
    let format = if flags.format.is_none() && target.is_dir() {
        Format::Parquet
    } else {
        Format::for_output(flags.format, target)
    };
    save(&out.store, target, format, flags.record_size)?;
    if !flags.quiet {
        let stats = out.store.stats();
        let what = if existing.is_some() {
            format!("{} inputs appended to", inputs - 1)
        } else {
            format!("{inputs} inputs combined into")
        };
        eprintln!(
            "chunkref: {what} {}: {} variables, {} chunks ({} inline, {} referenced in {} files; {} in all)",
            target.display(),
            stats.variables,
            stats.chunks,
            stats.inline_chunks,
            stats.chunks - stats.inline_chunks,
            out.store.urls().len(),
            super::info::human_bytes(stats.bytes),
        );
    }
    Ok(ExitCode::SUCCESS)
}
