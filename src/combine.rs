//! Combining reference stores: many inputs' references into one store, concatenated along
//! existing or new dimensions (kerchunk's `MultiZarrToZarr`, checked).
//!
//! This module owns the combine semantics: coordinate values per input ([`CoordRule`]),
//! ordering inputs by them, checking that what must agree does, and mapping each input's
//! chunks to their place in the combined chunk grid. It reads coordinate values (through
//! [`crate::read`]) and, when asked to inline small chunks, those chunks' bytes; no other
//! data. Formats are `refs`' business.
//!
//! Memory: a [`Combiner`] takes the inputs one at a time and keeps of each only its
//! coordinate values and its arrays' metadata and chunk manifests, sharing the metadata and
//! manifests equal to the previous input's (the same variables, the same inline coordinates):
//! about 8 KB for an input of four variables of 48 chunks, so 10,000 inputs of 1.92 million
//! references combine in well under 200 MB.
//!
//! Rules (see the README's "Combine"):
//! - inputs are ordered by their coordinate values along the concat dimensions (in the order
//!   the dimensions are given), never by argument order;
//! - along an existing dimension an input may hold several steps; every input but the last
//!   along it must hold a whole number of chunks (Zarr V2 chunk grids are regular);
//! - variables named identical, and those without a concat dimension when every concat
//!   dimension exists in the inputs, are taken once and must be identical in every input
//!   that has them (metadata and references, or values for small arrays); with a new
//!   dimension the other variables are stacked along it (as kerchunk does);
//! - dtype, codecs, chunk shape, fill value, `scale_factor`, `add_offset` and the sizes of the
//!   other dimensions must agree: a mismatch is an error naming both inputs;
//! - two inputs at one coordinate position are an error; a position no input fills reads as
//!   the fill value (a warning says how many);
//! - attributes: the first input's win; keys whose values differ are named in a warning. The
//!   root attribute [`RECIPE_ATTR`] records the options, for appends.

pub mod cftime;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::read::Dataset;
use crate::refs::{ArrayMeta, ArrayRefs, Attrs, ChunkManifest, ChunkRef, RefStore};

use self::cftime::{Encoded, TimeUnits};

/// Where the coordinate values of an input along a concat dimension come from.
#[derive(Debug, Clone)]
pub enum CoordRule {
    /// The values of the variable named like the dimension (the default).
    Data,
    /// The values of a CF time variable, decoded with each input's own units and calendar and
    /// encoded again in one set of units.
    CfTime(String),
    /// The first capture group (or the whole match) of a regular expression on the input's
    /// name or url: one value per input. (This and the other per-input rules below give way
    /// to the data of an input that already has the coordinate, such as a store appended to.)
    Regex(regex::Regex),
    /// A global attribute of the input: one value per input.
    Attr(String),
    /// The input's position among the arguments: one value per input.
    Position,
    /// The given values, one per input in argument order.
    List(Vec<Value>),
}

impl CoordRule {
    /// Parses `data`, `cf:VAR`, `regex:PATTERN`, `attr:NAME`, `position` or `list:a,b,c`.
    ///
    /// # Errors
    /// An unknown rule or an invalid regular expression.
    pub fn parse(text: &str) -> Result<Self> {
        let bad =
            |reason: String| Error::InvalidArgument(format!("coordinate rule {text:?}: {reason}"));
        Ok(match text.split_once(':') {
            None if text == "data" => Self::Data,
            None if text == "position" => Self::Position,
            Some(("cf", var)) if !var.is_empty() => Self::CfTime(var.to_owned()),
            Some(("regex", re)) => {
                Self::Regex(regex::Regex::new(re).map_err(|e| bad(e.to_string()))?)
            }
            Some(("attr", name)) if !name.is_empty() => Self::Attr(name.to_owned()),
            Some(("list", items)) => Self::List(
                items
                    .split(',')
                    .map(|s| serde_json::from_str(s).unwrap_or_else(|_| Value::from(s)))
                    .collect(),
            ),
            _ => {
                return Err(bad(
                    "expected data, cf:VAR, regex:PATTERN, attr:NAME, position or list:a,b,..."
                        .into(),
                ))
            }
        })
    }
}

impl std::fmt::Display for CoordRule {
    /// The rule as [`CoordRule::parse`] reads it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Data => f.write_str("data"),
            Self::CfTime(var) => write!(f, "cf:{var}"),
            Self::Regex(re) => write!(f, "regex:{}", re.as_str()),
            Self::Attr(name) => write!(f, "attr:{name}"),
            Self::Position => f.write_str("position"),
            Self::List(items) => {
                let items: Vec<String> = items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect();
                write!(f, "list:{}", items.join(","))
            }
        }
    }
}

/// The root attribute in which a combined store records the options that made it, so that
/// appending to it needs none.
pub const RECIPE_ATTR: &str = "chunkref_combine";

/// How to combine.
#[derive(Debug, Clone, Default)]
pub struct CombineOptions {
    /// Dimensions to concatenate along, outermost first (existing or new).
    pub concat: Vec<String>,
    /// Coordinate rules by dimension; a dimension without one uses [`CoordRule::Data`].
    pub coords: BTreeMap<String, CoordRule>,
    /// Variables to take once (checked identical) even if they have a concat dimension.
    pub identical: Vec<String>,
    /// Chunks referenced with at most this many bytes are read and stored inline in the
    /// combined store (`None`: references stay as the inputs have them). The combined
    /// coordinates of the concat dimensions are inline whatever this says.
    pub inline_threshold: Option<u64>,
}

impl CombineOptions {
    /// Options concatenating along `dims`.
    #[must_use]
    pub fn along<S: Into<String>>(dims: impl IntoIterator<Item = S>) -> Self {
        Self {
            concat: dims.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    /// Sets the coordinate rule of `dim`.
    #[must_use]
    pub fn coord(mut self, dim: &str, rule: CoordRule) -> Self {
        self.coords.insert(dim.to_owned(), rule);
        self
    }

    /// Names variables to take once, checked identical.
    #[must_use]
    pub fn identical<S: Into<String>>(mut self, vars: impl IntoIterator<Item = S>) -> Self {
        self.identical.extend(vars.into_iter().map(Into::into));
        self
    }

    /// Whether the array at `path` is named in [`Self::identical`] (by path or by name).
    fn names_identical(&self, path: &str) -> bool {
        let leaf = path.rsplit('/').next().unwrap_or(path);
        self.identical.iter().any(|v| v == path || v == leaf)
    }

    /// Stores chunks of at most `bytes` inline, reading them from the files referenced.
    #[must_use]
    pub fn inline_threshold(mut self, bytes: u64) -> Self {
        self.inline_threshold = Some(bytes);
        self
    }

    /// The options as recorded in a combined store's [`RECIPE_ATTR`] attribute.
    #[must_use]
    pub fn recipe(&self) -> Value {
        let coords: serde_json::Map<String, Value> = self
            .coords
            .iter()
            .map(|(dim, rule)| (dim.clone(), Value::from(rule.to_string())))
            .collect();
        let mut recipe = json!({
            "concat": self.concat,
            "coords": coords,
            "identical": self.identical,
        });
        if let Some(t) = self.inline_threshold {
            recipe["inline_threshold"] = json!(t);
        }
        recipe
    }

    /// The options a combined store records in its [`RECIPE_ATTR`] attribute, if it has one.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when the attribute is there but not a recipe.
    pub fn recorded_in(store: &RefStore) -> Result<Option<Self>> {
        let Some(recipe) = store.groups.get("").and_then(|a| a.get(RECIPE_ATTR)) else {
            return Ok(None);
        };
        let bad = || {
            combine_error(format!(
                "the store's {RECIPE_ATTR} attribute is not a combine recipe: {recipe}"
            ))
        };
        let names = |key: &str| -> Result<Vec<String>> {
            recipe
                .get(key)
                .and_then(Value::as_array)
                .ok_or_else(bad)?
                .iter()
                .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
                .collect()
        };
        let mut coords = BTreeMap::new();
        for (dim, rule) in recipe
            .get("coords")
            .and_then(Value::as_object)
            .ok_or_else(bad)?
        {
            coords.insert(
                dim.clone(),
                CoordRule::parse(rule.as_str().ok_or_else(bad)?)?,
            );
        }
        Ok(Some(Self {
            concat: names("concat")?,
            coords,
            identical: names("identical")?,
            inline_threshold: recipe.get("inline_threshold").and_then(Value::as_u64),
        }))
    }
}

/// One store to combine, with the name (path or url) errors and regex rules use.
#[derive(Debug, Clone)]
pub struct Input {
    /// The input's name.
    pub name: String,
    /// Its references.
    pub store: RefStore,
}

/// The combined store, and what the combine noticed.
#[derive(Debug, Clone)]
pub struct CombineOutput {
    /// The combined store.
    pub store: RefStore,
    /// Differing attributes, unfilled positions.
    pub warnings: Vec<String>,
}

/// A coordinate value: an instant (CF time), a number or a label.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum Coord {
    Time(i64),
    Num(f64),
    Text(String),
}

/// An input's CF time units and calendar.
type InputUnits = (TimeUnits, Option<String>);

/// The coordinate values of every input along one concat dimension.
struct DimCoords {
    dim: String,
    /// The array its combined values are written to (the dimension's name, or the CF time
    /// variable's).
    array_name: String,
    /// Per input: its values (one for a new dimension).
    values: Vec<Vec<Coord>>,
    /// Whether some input has the dimension (else it is new).
    exists: bool,
    /// Sorted union of the values.
    global: Vec<Coord>,
    /// Per input: where its values start in `global`.
    start: Vec<usize>,
    /// The time units of the first input, for CF time.
    time_units: Option<(TimeUnits, Option<String>)>,
}

fn combine_error(reason: String) -> Error {
    Error::InvalidArgument(reason)
}

/// Combines `inputs` into one store (a [`Combiner`] fed every input in turn).
///
/// # Errors
/// [`Error::InvalidArgument`] naming the inputs concerned when coordinates cannot be found,
/// overlap, or break the chunk grid, or when inputs disagree on what must agree.
pub fn combine(inputs: &[Input], options: &CombineOptions) -> Result<CombineOutput> {
    let mut combiner = Combiner::new(options.clone());
    for input in inputs {
        combiner.add(input)?;
    }
    combiner.finish()
}

/// Combines inputs given one at a time, keeping of each only what the combined store needs:
/// its coordinate values, metadata and chunk manifests, shared with earlier inputs where
/// equal. Memory grows with the references, not with copies of the inputs: feed it stores as
/// they are read and drop them once added.
///
/// ```no_run
/// # fn main() -> chunkref::Result<()> {
/// use chunkref::combine::{CombineOptions, Combiner, CoordRule, Input};
/// let options = CombineOptions::along(["time"]).coord("time", CoordRule::CfTime("time".into()));
/// let mut combiner = Combiner::new(options);
/// for path in ["refs/day1.json", "refs/day2.json"] {
///     let store = chunkref::refs::read(path)?;
///     combiner.add(&Input { name: path.into(), store })?;
/// }
/// let combined = combiner.finish()?;
/// let format = chunkref::refs::Format::Parquet { record_size: 100_000 };
/// chunkref::refs::write(&combined.store, "combined.parq".as_ref(), format)?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Combiner {
    options: CombineOptions,
    parts: Vec<Part>,
    /// Every input's urls; the parts' manifests index this table.
    urls: RefStore,
    /// The latest version of each array, which the next input's is shared with when equal.
    latest: BTreeMap<String, PartArray>,
    /// The first version of each array that may be taken once, to check the others against.
    reference: BTreeMap<String, Reference>,
    latest_groups: Option<Arc<BTreeMap<String, Attrs>>>,
}

/// What the combine keeps of one input.
#[derive(Debug)]
struct Part {
    name: String,
    groups: Arc<BTreeMap<String, Attrs>>,
    arrays: BTreeMap<String, PartArray>,
    /// Per concat dimension: the input's values along it, and its CF time units.
    coords: Vec<(Vec<Coord>, Option<InputUnits>)>,
}

/// One input's version of an array.
#[derive(Debug, Clone)]
struct PartArray {
    meta: Arc<ArrayMeta>,
    /// Url indices into the combiner's url table.
    chunks: Arc<ChunkManifest>,
    /// For an array that may be taken once: whether it holds the first input's references,
    /// or failing that the first input's values.
    matches_reference: bool,
}

/// The first input's version of an array that may be taken once.
#[derive(Debug)]
struct Reference {
    chunks: Arc<ChunkManifest>,
    /// The array alone (its urls with it), to read its values should another input's
    /// references differ.
    store: RefStore,
    /// Its values once read, or why they could not be.
    values: Option<std::result::Result<Vec<f64>, String>>,
}

impl Combiner {
    /// A combiner with no inputs yet.
    #[must_use]
    pub fn new(options: CombineOptions) -> Self {
        Self {
            options,
            parts: Vec::new(),
            urls: RefStore::new(),
            latest: BTreeMap::new(),
            reference: BTreeMap::new(),
            latest_groups: None,
        }
    }

    /// The number of inputs added.
    #[must_use]
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    /// Whether no input was added.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Adds an input: reads its coordinate values, and keeps its metadata and references.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the input when its coordinates cannot be found.
    pub fn add(&mut self, input: &Input) -> Result<()> {
        self.add_all(std::slice::from_ref(input))
    }

    /// Adds inputs in order, reading their coordinate values on all cores.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming an input whose coordinates cannot be found; no input
    /// is added then.
    pub fn add_all(&mut self, inputs: &[Input]) -> Result<()> {
        let base = self.parts.len();
        // On all cores: coordinates, and metadata equal to the latest version's (most are).
        let prepared: Vec<_> = inputs
            .par_iter()
            .enumerate()
            .map(|(k, input)| {
                let metas: Vec<Option<Arc<ArrayMeta>>> = input
                    .store
                    .arrays
                    .iter()
                    .map(|(name, array)| {
                        self.latest
                            .get(name)
                            .filter(|l| *l.meta == array.meta)
                            .map(|l| Arc::clone(&l.meta))
                    })
                    .collect();
                self.coords_of(input, base + k).map(|c| (c, metas))
            })
            .collect::<Result<_>>()?;
        for (input, (coords, metas)) in inputs.iter().zip(prepared) {
            let url_map: Vec<u32> = input
                .store
                .urls()
                .iter()
                .map(|u| self.urls.intern_url(u))
                .collect();
            let mut arrays = BTreeMap::new();
            for ((name, array), meta) in input.store.arrays.iter().zip(metas) {
                let part = self.share(name, input, array, meta, &url_map);
                arrays.insert(name.clone(), part);
            }
            let groups = match &self.latest_groups {
                Some(g) if **g == input.store.groups => Arc::clone(g),
                _ => Arc::new(input.store.groups.clone()),
            };
            self.latest_groups = Some(Arc::clone(&groups));
            self.parts.push(Part {
                name: input.name.clone(),
                groups,
                arrays,
                coords,
            });
        }
        Ok(())
    }

    /// Whether `input` is already part of the input added `k`-th (a store made by an earlier
    /// combine): every coordinate value it has along the concat dimensions is one that input
    /// has.
    ///
    /// # Errors
    /// As [`Combiner::add`], when the coordinates of `input` cannot be found.
    pub fn holds(&self, k: usize, input: &Input) -> Result<bool> {
        let Some(part) = self.parts.get(k) else {
            return Ok(false);
        };
        if self.options.concat.is_empty() {
            return Ok(false);
        }
        let new = self.coords_of(input, self.parts.len())?;
        Ok(new
            .iter()
            .zip(&part.coords)
            .all(|((new, _), (have, _))| new.iter().all(|v| have.contains(v))))
    }

    /// The input's values along every concat dimension.
    fn coords_of(
        &self,
        input: &Input,
        position: usize,
    ) -> Result<Vec<(Vec<Coord>, Option<InputUnits>)>> {
        self.options
            .concat
            .iter()
            .map(|dim| {
                let rule = self.options.coords.get(dim).unwrap_or(&CoordRule::Data);
                let mut units = None;
                input_coords(input, position, dim, rule, &mut units)
                    .map(|v| (v, units))
                    .map_err(|reason| {
                        combine_error(format!("{}: coordinate {dim}: {reason}", input.name))
                    })
            })
            .collect()
    }

    /// The input's version of array `name`, sharing metadata and references with the latest
    /// version when equal (`shared`: the latest version's metadata, when found equal already).
    fn share(
        &mut self,
        name: &str,
        input: &Input,
        array: &ArrayRefs,
        shared: Option<Arc<ArrayMeta>>,
        url_map: &[u32],
    ) -> PartArray {
        let mut chunks = array.chunks.clone();
        chunks.remap_urls(url_map);
        let latest = self.latest.get(name);
        let meta = match (shared, latest) {
            (Some(meta), _) => meta,
            (None, Some(l)) if *l.meta == array.meta => Arc::clone(&l.meta),
            _ => Arc::new(array.meta.clone()),
        };
        let chunks = match latest {
            Some(l) if *l.chunks == chunks => Arc::clone(&l.chunks),
            _ => Arc::new(chunks),
        };
        let matches_reference = self.matches_reference(name, input, &meta, &chunks);
        let part = PartArray {
            meta,
            chunks,
            matches_reference,
        };
        match self.latest.get_mut(name) {
            Some(latest) => latest.clone_from(&part),
            None => {
                self.latest.insert(name.to_owned(), part.clone());
            }
        }
        part
    }

    /// For an array that may be taken once (no concat dimension, or named identical):
    /// whether this version holds the first version's references or values. The first
    /// version becomes the reference.
    fn matches_reference(
        &mut self,
        name: &str,
        input: &Input,
        meta: &ArrayMeta,
        chunks: &Arc<ChunkManifest>,
    ) -> bool {
        let may_be_identical = self.options.names_identical(name)
            || !meta
                .dimensions
                .iter()
                .any(|d| self.options.concat.contains(d));
        if !may_be_identical {
            return true;
        }
        let Some(reference) = self.reference.get_mut(name) else {
            self.reference.insert(
                name.to_owned(),
                Reference {
                    chunks: Arc::clone(chunks),
                    store: input.store.only_array(name).unwrap_or_default(),
                    values: None,
                },
            );
            return true;
        };
        if Arc::ptr_eq(&reference.chunks, chunks) || *reference.chunks == **chunks {
            return true;
        }
        // Different references may still hold the same values (a coordinate in every file).
        let bytes = meta.shape.iter().product::<u64>() * meta.item_size().unwrap_or(8) as u64;
        if bytes > MAX_COMPARED_BYTES {
            return false;
        }
        let first = reference
            .values
            .get_or_insert_with(|| read_values(&reference.store, name));
        match (first, read_values(&input.store, name)) {
            (Ok(x), Ok(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(&y)
                        .all(|(p, q)| p.total_cmp(q).is_eq() || (p.is_nan() && q.is_nan()))
            }
            _ => false,
        }
    }

    /// Combines the inputs added.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] naming the inputs concerned when coordinates overlap or
    /// break the chunk grid, or when inputs disagree on what must agree.
    pub fn finish(mut self) -> Result<CombineOutput> {
        if self.parts.is_empty() {
            return Err(combine_error("nothing to combine: no inputs".into()));
        }
        let options = std::mem::take(&mut self.options);
        let parts = &mut self.parts;
        let mut dims = Vec::new();
        for (k, dim) in options.concat.iter().enumerate() {
            let rule = options.coords.get(dim).unwrap_or(&CoordRule::Data);
            dims.push(dim_coords(parts, k, dim, rule)?);
        }
        let parts = &self.parts;
        // Inputs in coordinate order.
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by_cached_key(|&i| dims.iter().map(|d| d.start[i]).collect::<Vec<_>>());
        check_overlaps(parts, &dims, &order)?;
        // The parts' url indices are the combiner's url table's, which the output starts from;
        // they are renumbered by first use at the end, so the store is the same whatever order
        // the inputs came in.
        let mut out = std::mem::take(&mut self.urls);
        let urls: Vec<u32> = (0..out.urls().len() as u32).collect();
        let mut warnings = Vec::new();
        merge_groups(parts, &order, &mut out, &mut warnings);
        let names: BTreeSet<&String> = parts.iter().flat_map(|p| p.arrays.keys()).collect();
        let coord_names: BTreeSet<&str> = dims.iter().map(|d| d.dim.as_str()).collect();
        let written: BTreeSet<String> = dims.iter().map(|d| d.array_name.clone()).collect();
        let has_new_dim = dims.iter().any(|d| !d.exists);
        for name in names {
            if written.contains(name) {
                continue; // written from the combined coordinate values below
            }
            let having: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| parts[i].arrays.contains_key(name))
                .collect();
            let first = &parts[having[0]].arrays[name];
            let named_identical = options.names_identical(name);
            let has_concat_dim = first
                .meta
                .dimensions
                .iter()
                .any(|d| coord_names.contains(d.as_str()));
            // Taken once: named identical, or without a concat dimension while every concat
            // dimension already exists (`lat` in a time concat). With a new dimension, the
            // others are stacked along it, as kerchunk does (name them identical to take them
            // once): a rule that does not depend on the values keeps appends equal to one
            // combine.
            let array = if named_identical || (!has_concat_dim && !has_new_dim) {
                identical_array(name, parts, &having, &urls)?
            } else {
                concat_array(name, parts, &having, &dims, &urls, &mut warnings)?
            };
            out.arrays.insert(name.clone(), array);
        }
        for d in &dims {
            out.arrays
                .insert(d.array_name.clone(), coord_array(d, parts, &order)?);
        }
        if let Some(threshold) = options.inline_threshold {
            inline_small_chunks(&mut out, threshold)?;
        }
        out.groups
            .entry(String::new())
            .or_default()
            .insert(RECIPE_ATTR.into(), options.recipe());
        out.add_parent_groups();
        out.renumber_urls();
        Ok(CombineOutput {
            store: out,
            warnings,
        })
    }
}

/// Replaces every range reference of at most `threshold` bytes by the bytes it refers to,
/// read from the referenced files (the ranges of one file in one call, files on all cores).
fn inline_small_chunks(store: &mut RefStore, threshold: u64) -> Result<()> {
    /// A chunk to inline: its array, its number, its byte range in the file.
    type Wanted<'a> = (&'a str, usize, std::ops::Range<u64>);
    let mut wanted: BTreeMap<&str, Vec<Wanted<'_>>> = BTreeMap::new();
    for (path, array) in &store.arrays {
        for n in 0..array.chunks.len() {
            if let ChunkRef::Range {
                url,
                offset,
                length,
            } = store.chunk_ref(array, n)
            {
                if length <= threshold {
                    wanted
                        .entry(url)
                        .or_default()
                        .push((path, n, offset..offset + length));
                }
            }
        }
    }
    let fetched: Vec<(String, usize, bytes::Bytes)> = wanted
        .par_iter()
        .map(|(url, chunks)| {
            let ranges: Vec<_> = chunks.iter().map(|(_, _, r)| r.clone()).collect();
            let bytes = crate::io::read_ranges(url, &ranges)?;
            Ok(chunks
                .iter()
                .zip(bytes)
                .map(|((path, n, _), b)| ((*path).to_owned(), *n, b))
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    for (path, n, bytes) in fetched {
        if let Some(array) = store.arrays.get_mut(&path) {
            array.chunks.set_inline(n, bytes.to_vec());
        }
    }
    Ok(())
}

/// The coordinate values of every part along `dim`, the `k`-th concat dimension (taken out
/// of the parts).
fn dim_coords(parts: &mut [Part], k: usize, dim: &str, rule: &CoordRule) -> Result<DimCoords> {
    let exists = parts.iter().any(|p| {
        p.arrays
            .values()
            .any(|a| a.meta.dimensions.iter().any(|d| d == dim))
    });
    let (values, mut units): (Vec<_>, Vec<_>) = parts
        .iter_mut()
        .map(|p| std::mem::take(&mut p.coords[k]))
        .unzip();
    let mut global: Vec<Coord> = values.iter().flatten().cloned().collect();
    global.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    global.dedup();
    let mut start = Vec::with_capacity(parts.len());
    for (k, v) in values.iter().enumerate() {
        // `global` is sorted: a binary search keeps 10,000 inputs fast.
        let p = v.first().map_or(0, |first| {
            global
                .binary_search_by(|g| g.partial_cmp(first).unwrap_or(std::cmp::Ordering::Less))
                .unwrap_or_else(|i| i)
        });
        if global.get(p..p + v.len()) != Some(&v[..]) {
            return Err(combine_error(format!(
                "{}: its values along {dim} interleave with another input's or are not increasing",
                parts[k].name
            )));
        }
        start.push(p);
    }
    // CF time is encoded in the units of the input that comes first.
    let time_units = (0..parts.len())
        .min_by_key(|&k| start[k])
        .and_then(|k| units[k].take());
    let array_name = match rule {
        CoordRule::CfTime(var) => var.clone(),
        _ => dim.to_owned(),
    };
    Ok(DimCoords {
        dim: dim.to_owned(),
        array_name,
        values,
        exists,
        global,
        start,
        time_units,
    })
}

/// One input's values along `dim` under `rule`.
fn input_coords(
    input: &Input,
    position: usize,
    dim: &str,
    rule: &CoordRule,
    time_units: &mut Option<(TimeUnits, Option<String>)>,
) -> std::result::Result<Vec<Coord>, String> {
    // An input that already has the coordinate (a store made by an earlier combine) gives
    // its values, whatever rule made them.
    let has_coord = input
        .store
        .arrays
        .get(dim)
        .is_some_and(|a| a.meta.dimensions == [dim]);
    let rule = match rule {
        CoordRule::Regex(_) | CoordRule::Attr(_) | CoordRule::Position | CoordRule::List(_)
            if has_coord =>
        {
            &CoordRule::Data
        }
        other => other,
    };
    match rule {
        CoordRule::Data => Ok(read_values(&input.store, dim)?
            .into_iter()
            .map(Coord::Num)
            .collect()),
        CoordRule::CfTime(var) => {
            let array = input
                .store
                .arrays
                .get(var)
                .ok_or_else(|| format!("no variable {var}"))?;
            let text = |k: &str| {
                array
                    .meta
                    .attrs
                    .get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let units = text("units").ok_or_else(|| format!("{var} has no units attribute"))?;
            let calendar = text("calendar");
            let parsed = TimeUnits::parse(&units, calendar.as_deref())?;
            let instants = read_values(&input.store, var)?
                .into_iter()
                .map(|v| parsed.decode(v).map(Coord::Time))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            *time_units = Some((parsed, calendar));
            Ok(instants)
        }
        CoordRule::Regex(re) => {
            let caps = re
                .captures(&input.name)
                .ok_or_else(|| format!("{re} does not match the name"))?;
            let text = caps
                .get(1)
                .or_else(|| caps.get(0))
                .map_or("", |m| m.as_str());
            Ok(vec![label(text)])
        }
        CoordRule::Attr(name) => {
            let v = input
                .store
                .groups
                .get("")
                .and_then(|a| a.get(name))
                .ok_or_else(|| format!("no global attribute {name}"))?;
            Ok(vec![value_coord(v)])
        }
        CoordRule::Position => Ok(vec![Coord::Num(position as f64)]),
        CoordRule::List(items) => items
            .get(position)
            .map(|v| vec![value_coord(v)])
            .ok_or_else(|| format!("the list has {} values for more inputs", items.len())),
    }
    .and_then(|v| {
        let _ = dim;
        if v.is_empty() {
            Err("no values".into())
        } else {
            Ok(v)
        }
    })
}

/// A label as a number when it reads as one.
fn label(text: &str) -> Coord {
    text.parse::<f64>()
        .map_or_else(|_| Coord::Text(text.to_owned()), Coord::Num)
}

fn value_coord(v: &Value) -> Coord {
    match v {
        Value::Number(n) => Coord::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => label(s),
        other => Coord::Text(other.to_string()),
    }
}

/// The values of variable `var` of an input, as f64 (read through the reader: inline or
/// referenced).
fn read_values(store: &RefStore, var: &str) -> std::result::Result<Vec<f64>, String> {
    if let Some(values) = inline_values(store, var) {
        return Ok(values);
    }
    let one = store
        .only_array(var)
        .ok_or_else(|| format!("no variable {var}"))?;
    let ds = Dataset::from_store(one);
    let v = ds.variable(var).map_err(|e| e.to_string())?;
    let unsigned = v.meta().dtype.contains('u');
    let full: Vec<std::ops::Range<u64>> = v.shape().iter().map(|&n| 0..n).collect();
    let values = v
        .read_dyn(&full)
        .map_err(|e| e.to_string())?
        .to_f64(unsigned)
        .ok_or_else(|| format!("{var} is not numeric"))?;
    Ok(values.iter().copied().collect())
}

/// The values of an uncompressed array held in one inline chunk (coordinates usually are),
/// decoded here without building a Zarr array: `None` for anything else.
fn inline_values(store: &RefStore, var: &str) -> Option<Vec<f64>> {
    let array = store.arrays.get(var)?;
    let meta = &array.meta;
    if !meta.filters.is_empty()
        || meta.compressor.is_some()
        || meta.chunks != meta.shape
        || array.chunks.len() != 1
    {
        return None;
    }
    let ChunkRef::Inline(bytes) = store.chunk_ref(array, 0) else {
        return None;
    };
    let dtype = meta.dtype.as_bytes();
    let (little, kind, size) = (*dtype.first()? != b'>', *dtype.get(1)?, meta.item_size()?);
    let count = usize::try_from(meta.shape.iter().product::<u64>()).ok()?;
    if !matches!(size, 1 | 2 | 4 | 8) || bytes.len() != count * size {
        return None;
    }
    bytes
        .chunks_exact(size)
        .map(|c| {
            let mut w = [0u8; 8];
            let bits = if little {
                w[..size].copy_from_slice(c);
                u64::from_le_bytes(w)
            } else {
                w[8 - size..].copy_from_slice(c);
                u64::from_be_bytes(w)
            };
            let shift = 64 - 8 * size as u32;
            Some(match (kind, size) {
                (b'f', 8) => f64::from_bits(bits),
                (b'f', 4) => f64::from(f32::from_bits(bits as u32)),
                (b'i', _) => (((bits << shift) as i64) >> shift) as f64,
                (b'u', _) => bits as f64,
                _ => return None,
            })
        })
        .collect()
}

/// Errors when two inputs claim one coordinate position.
fn check_overlaps(parts: &[Part], dims: &[DimCoords], order: &[usize]) -> Result<()> {
    if dims.is_empty() {
        return Ok(()); // a merge: inputs hold different variables of one grid
    }
    // A cell of the combined coordinate grid by its C-order number.
    let mut seen: HashMap<usize, usize> = HashMap::new();
    for &i in order {
        let mut cells = vec![0usize];
        for d in dims {
            cells = cells
                .into_iter()
                .flat_map(|c| {
                    (0..d.values[i].len()).map(move |j| c * d.global.len() + d.start[i] + j)
                })
                .collect();
        }
        for cell in cells {
            if let Some(other) = seen.insert(cell, i) {
                let mut rest = cell;
                let mut at = Vec::new();
                for d in dims.iter().rev() {
                    at.push(format!(
                        "{}={}",
                        d.dim,
                        show(&d.global[rest % d.global.len()])
                    ));
                    rest /= d.global.len();
                }
                at.reverse();
                return Err(combine_error(format!(
                    "{} and {} both hold {}: duplicate or overlapping coordinate values",
                    parts[other].name,
                    parts[i].name,
                    at.join(", ")
                )));
            }
        }
    }
    Ok(())
}

fn show(c: &Coord) -> String {
    match c {
        Coord::Time(ns) => format!("{ns} ns since 1970"),
        Coord::Num(x) => x.to_string(),
        Coord::Text(s) => s.clone(),
    }
}

/// Group attributes: the first input's, differing values named in a warning.
fn merge_groups(parts: &[Part], order: &[usize], out: &mut RefStore, warnings: &mut Vec<String>) {
    let mut merged: Option<&Arc<BTreeMap<String, Attrs>>> = None;
    for &i in order {
        // Inputs sharing the groups of one merged before add nothing.
        if merged.is_some_and(|m| Arc::ptr_eq(m, &parts[i].groups)) {
            continue;
        }
        merged = Some(&parts[i].groups);
        for (path, attrs) in parts[i].groups.iter() {
            let have = out.groups.entry(path.clone()).or_default();
            for (k, v) in attrs {
                match have.get(k) {
                    None => {
                        have.insert(k.clone(), v.clone());
                    }
                    Some(first) if first != v => warnings.push(format!(
                        "group /{path}: attribute {k} differs in {} ({v}); the first input's ({first}) is kept",
                        parts[i].name
                    )),
                    Some(_) => {}
                }
            }
        }
    }
}

/// What must agree between two inputs' versions of one array.
fn agreement(
    name: &str,
    a: (&str, &ArrayMeta),
    b: (&str, &ArrayMeta),
    concat: &BTreeSet<&str>,
) -> Result<()> {
    let (an, am) = a;
    let (bn, bm) = b;
    let differ = |what: &str, x: String, y: String| -> Result<()> {
        if x == y {
            Ok(())
        } else {
            Err(combine_error(format!(
                "{name}: {an} and {bn} differ in {what}: {x} vs {y}"
            )))
        }
    };
    // JSON values compare as values (key order does not matter), and print when they differ.
    let differ_json = |what: &str, x: &Value, y: &Value| -> Result<()> {
        if x == y {
            Ok(())
        } else {
            differ(what, x.to_string(), y.to_string())
        }
    };
    differ("dtype", am.dtype.clone(), bm.dtype.clone())?;
    differ_json("filters", &json!(am.filters), &json!(bm.filters))?;
    differ_json("compressor", &json!(am.compressor), &json!(bm.compressor))?;
    differ_json("fill value", &am.fill_value, &bm.fill_value)?;
    differ(
        "dimensions",
        am.dimensions.join(","),
        bm.dimensions.join(","),
    )?;
    differ(
        "chunk shape",
        format!("{:?}", am.chunks),
        format!("{:?}", bm.chunks),
    )?;
    for key in [
        "scale_factor",
        "add_offset",
        "_FillValue",
        "missing_value",
        "units",
    ] {
        let none = Value::Null;
        differ_json(
            key,
            am.attrs.get(key).unwrap_or(&none),
            bm.attrs.get(key).unwrap_or(&none),
        )?;
    }
    for (k, (x, y)) in am.shape.iter().zip(&bm.shape).enumerate() {
        if !concat.contains(am.dimensions[k].as_str()) {
            differ(
                &format!("the size of {}", am.dimensions[k]),
                x.to_string(),
                y.to_string(),
            )?;
        }
    }
    Ok(())
}

/// An array taken once: the first input's, checked identical in the others.
fn identical_array(
    name: &str,
    parts: &[Part],
    having: &[usize],
    urls: &[u32],
) -> Result<ArrayRefs> {
    let first = having[0];
    let a = &parts[first].arrays[name];
    for &i in &having[1..] {
        let b = &parts[i].arrays[name];
        if !Arc::ptr_eq(&a.meta, &b.meta) {
            agreement(
                name,
                (&parts[first].name, &a.meta),
                (&parts[i].name, &b.meta),
                &BTreeSet::new(),
            )?;
        }
        if Arc::ptr_eq(&a.chunks, &b.chunks) {
            continue;
        }
        let same_shape = a.meta.shape == b.meta.shape;
        let differing = (0..a.chunks.len())
            .find(|&n| !same_shape || !a.chunks.same_chunk(n, urls, &b.chunks, n, urls));
        // Different references may still hold the same values (a coordinate in every file):
        // both hold the first input's values, then.
        let differing = differing.filter(|_| !(a.matches_reference && b.matches_reference));
        if let Some(n) = differing {
            return Err(combine_error(format!(
                "{name}: taken once (it has no concat dimension, or was named identical) but {} and {} differ (chunk {}); name a concat dimension it has, or leave it out of --identical",
                parts[first].name,
                parts[i].name,
                a.chunks.key(n)
            )));
        }
    }
    let mut chunks = ChunkManifest::new(a.chunks.grid()).map_err(combine_error)?;
    for n in 0..a.chunks.len() {
        chunks.copy_chunk(n, &a.chunks, n, urls);
    }
    Ok(ArrayRefs {
        meta: (*a.meta).clone(),
        chunks,
    })
}

/// Arrays at most this large (decoded) are compared by value when their references differ.
const MAX_COMPARED_BYTES: u64 = 16 << 20;

/// An array concatenated along the concat dimensions.
///
/// Its dimensions are the concat dimensions no input's version has (prepended, in concat
/// order, with chunks of 1), then the first input's. An input whose version lacks a concat
/// dimension that others have (a store made by an earlier combine holds `member`, a new file
/// does not) counts as one step along it.
fn concat_array(
    name: &str,
    parts: &[Part],
    having: &[usize],
    dims: &[DimCoords],
    urls: &[u32],
    warnings: &mut Vec<String>,
) -> Result<ArrayRefs> {
    let first = having[0];
    let base = &parts[first].arrays[name].meta;
    let in_some: BTreeSet<&str> = having
        .iter()
        .flat_map(|&i| {
            parts[i].arrays[name]
                .meta
                .dimensions
                .iter()
                .map(String::as_str)
        })
        .collect();
    let out_dims: Vec<String> = dims
        .iter()
        .filter(|d| !in_some.contains(d.dim.as_str()))
        .map(|d| d.dim.clone())
        .chain(base.dimensions.iter().cloned())
        .collect();
    let concat: BTreeSet<&str> = dims.iter().map(|d| d.dim.as_str()).collect();
    let expanded_base = expand(name, &parts[first].name, base, &out_dims, &concat)?;
    let mut meta = expanded_base.clone();
    for (k, dim) in out_dims.iter().enumerate() {
        if let Some(d) = dims.iter().find(|d| &d.dim == dim) {
            meta.shape[k] = d.global.len() as u64;
        }
    }
    let mut chunks = ChunkManifest::new(&meta.grid()).map_err(combine_error)?;
    for &i in having {
        let b = &parts[i].arrays[name];
        // Inputs sharing the first one's metadata agree with it.
        let expanded = if Arc::ptr_eq(base, &b.meta) {
            std::borrow::Cow::Borrowed(&expanded_base)
        } else {
            let expanded = expand(name, &parts[i].name, &b.meta, &out_dims, &concat)?;
            agreement(
                name,
                (&parts[first].name, &expanded_base),
                (&parts[i].name, &expanded),
                &concat,
            )?;
            std::borrow::Cow::Owned(expanded)
        };
        let offset = chunk_offsets(name, &parts[i].name, &expanded, dims, i)?;
        let present: Vec<bool> = out_dims
            .iter()
            .map(|d| b.meta.dimensions.contains(d))
            .collect();
        let mut out_pos = vec![0; out_dims.len()];
        let grid = b.chunks.grid();
        let mut pos = vec![0u64; grid.len()];
        for n in 0..b.chunks.len() {
            let mut from = pos.iter();
            for ((p, o), &has) in out_pos.iter_mut().zip(&offset).zip(&present) {
                *p = o + if has {
                    from.next().copied().unwrap_or(0)
                } else {
                    0
                };
            }
            let Some(m) = chunks.linear(&out_pos) else {
                return Err(combine_error(format!(
                    "{name}: {}: chunk {} falls outside the combined grid",
                    parts[i].name,
                    b.chunks.key(n)
                )));
            };
            chunks.copy_chunk(m, &b.chunks, n, urls);
            // The next position in the input's grid (C order: the last dimension fastest).
            for d in (0..pos.len()).rev() {
                pos[d] += 1;
                if pos[d] < grid[d] {
                    break;
                }
                pos[d] = 0;
            }
        }
    }
    let missing = parts.len() - having.len();
    if missing > 0 {
        warnings.push(format!(
            "{name}: {missing} of {} inputs do not have it; their part reads as the fill value",
            parts.len()
        ));
    }
    Ok(ArrayRefs { meta, chunks })
}

/// An input's version of an array over `out_dims`: a concat dimension it lacks is one step
/// (chunk 1); any other difference in dimensions is an error.
fn expand(
    name: &str,
    input: &str,
    meta: &ArrayMeta,
    out_dims: &[String],
    concat: &BTreeSet<&str>,
) -> Result<ArrayMeta> {
    let kept: Vec<&String> = out_dims
        .iter()
        .filter(|d| meta.dimensions.contains(d))
        .collect();
    let lacking_ok = out_dims
        .iter()
        .all(|d| meta.dimensions.contains(d) || concat.contains(d.as_str()));
    if kept.len() != meta.dimensions.len()
        || !kept.iter().zip(&meta.dimensions).all(|(a, b)| *a == b)
        || !lacking_ok
    {
        return Err(combine_error(format!(
            "{name}: {input} has dimensions ({}) where the combined array has ({})",
            meta.dimensions.join(", "),
            out_dims.join(", ")
        )));
    }
    let mut out = meta.clone();
    out.dimensions = out_dims.to_vec();
    out.shape.clear();
    out.chunks.clear();
    for d in out_dims {
        let (size, chunk) = meta
            .dimensions
            .iter()
            .position(|x| x == d)
            .map_or((1, 1), |k| (meta.shape[k], meta.chunks[k]));
        out.shape.push(size);
        out.chunks.push(chunk);
    }
    Ok(out)
}

/// Where input `i`'s chunk grid starts in the combined grid, per output dimension; checks
/// that its block along each concat dimension sits on chunk boundaries.
fn chunk_offsets(
    name: &str,
    input: &str,
    expanded: &ArrayMeta,
    dims: &[DimCoords],
    i: usize,
) -> Result<Vec<u64>> {
    let mut offset = Vec::with_capacity(expanded.dimensions.len());
    for (k, dim) in expanded.dimensions.iter().enumerate() {
        let Some(d) = dims.iter().find(|d| &d.dim == dim) else {
            offset.push(0);
            continue;
        };
        let chunk = expanded.chunks[k].max(1);
        let (start, len) = (d.start[i] as u64, expanded.shape[k]);
        if len != d.values[i].len() as u64 {
            return Err(combine_error(format!(
                "{name}: {input}: {len} steps along {dim} but {} coordinate values",
                d.values[i].len()
            )));
        }
        let end = start + len;
        if start % chunk != 0 || (end % chunk != 0 && end != d.global.len() as u64) {
            return Err(combine_error(format!(
                "{name}: {input} holds {len} steps along {dim} starting at step {start}, with chunks of {chunk}: a partial chunk would fall inside the combined array, which a Zarr V2 chunk grid cannot express. Rechunk the inputs to a whole number of chunks along {dim} (every input but the last), or combine with chunks of 1 along {dim}"
            )));
        }
        offset.push(start / chunk);
    }
    Ok(offset)
}

/// The combined coordinate array of a concat dimension (stored inline).
fn coord_array(d: &DimCoords, parts: &[Part], order: &[usize]) -> Result<ArrayRefs> {
    let source = order
        .iter()
        .find_map(|&i| parts[i].arrays.get(&d.array_name))
        .map(|a| (*a.meta).clone());
    let mut attrs = source.as_ref().map(|m| m.attrs.clone()).unwrap_or_default();
    let (dtype, bytes): (String, Vec<u8>) = if let Some((units, calendar)) = &d.time_units {
        let instants: Vec<i64> = d
            .global
            .iter()
            .map(|c| if let Coord::Time(t) = c { *t } else { 0 })
            .collect();
        let (dtype, bytes, units_text) = match cftime::encode(&instants, units) {
            Encoded::Ints(v, u) => ("<i8", v.iter().flat_map(|x| x.to_le_bytes()).collect(), u),
            Encoded::Floats(v, u) => ("<f8", v.iter().flat_map(|x| x.to_le_bytes()).collect(), u),
        };
        attrs.insert("units".into(), json!(units_text));
        if let Some(c) = calendar {
            attrs.insert("calendar".into(), json!(c));
        }
        (dtype.to_owned(), bytes)
    } else if d.global.iter().all(|c| matches!(c, Coord::Num(_))) {
        let nums: Vec<f64> = d
            .global
            .iter()
            .map(|c| if let Coord::Num(x) = c { *x } else { 0.0 })
            .collect();
        let float_source = source.as_ref().is_some_and(|m| m.dtype.contains('f'));
        if !float_source && nums.iter().all(|x| x.fract() == 0.0) {
            (
                "<i8".into(),
                nums.iter()
                    .flat_map(|&x| (x as i64).to_le_bytes())
                    .collect(),
            )
        } else if source.as_ref().is_some_and(|m| m.dtype == "<f4") {
            (
                "<f4".into(),
                nums.iter()
                    .flat_map(|&x| (x as f32).to_le_bytes())
                    .collect(),
            )
        } else {
            (
                "<f8".into(),
                nums.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        }
    } else {
        let texts: Vec<String> = d.global.iter().map(show).collect();
        let width = texts
            .iter()
            .map(|t| t.chars().count())
            .max()
            .unwrap_or(1)
            .max(1);
        let mut bytes = Vec::new();
        for t in &texts {
            let mut chars: Vec<u32> = t.chars().map(u32::from).collect();
            chars.resize(width, 0);
            bytes.extend(chars.iter().flat_map(|c| c.to_le_bytes()));
        }
        (format!("<U{width}"), bytes)
    };
    let n = d.global.len() as u64;
    ArrayRefs::inline(vec![n], &dtype, vec![d.dim.clone()], attrs, bytes).map_err(combine_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_array(dtype: &str, bytes: Vec<u8>, n: u64) -> Input {
        let mut store = RefStore::new();
        let meta = ArrayMeta {
            shape: vec![n],
            chunks: vec![n],
            dtype: dtype.into(),
            fill_value: Value::Null,
            filters: vec![],
            compressor: None,
            dimensions: vec!["x".into()],
            attrs: crate::refs::Attrs::new(),
        };
        let mut chunks = ChunkManifest::new(&meta.grid()).unwrap();
        chunks.set_inline(0, bytes);
        store.arrays.insert("x".into(), ArrayRefs { meta, chunks });
        Input {
            name: "in".into(),
            store,
        }
    }

    #[test]
    fn the_recipe_a_store_records_reads_back_as_the_options() {
        let options = CombineOptions::along(["member", "time"])
            .coord("member", CoordRule::parse(r"regex:member(\d+)_").unwrap())
            .coord("time", CoordRule::parse("cf:time").unwrap())
            .coord("x", CoordRule::parse("list:a,2,b").unwrap())
            .coord("y", CoordRule::parse("attr:run").unwrap())
            .coord("z", CoordRule::parse("position").unwrap())
            .identical(["lat"])
            .inline_threshold(300);
        let mut store = RefStore::new();
        store
            .groups
            .get_mut("")
            .unwrap()
            .insert(RECIPE_ATTR.into(), options.recipe());
        let back = CombineOptions::recorded_in(&store).unwrap().unwrap();
        assert_eq!(back.recipe(), options.recipe());
        assert_eq!(back.coords["member"].to_string(), r"regex:member(\d+)_");
        assert_eq!(back.coords["x"].to_string(), "list:a,2,b");
        assert_eq!(back.inline_threshold, Some(300));
        assert!(CombineOptions::recorded_in(&RefStore::new())
            .unwrap()
            .is_none());
        store
            .groups
            .get_mut("")
            .unwrap()
            .insert(RECIPE_ATTR.into(), json!("not a recipe"));
        assert!(CombineOptions::recorded_in(&store).is_err());
    }

    #[test]
    fn inline_coordinates_decode_like_the_reader() {
        let cases: [(&str, Vec<u8>, Vec<f64>); 5] = [
            (
                ">i4",
                [-2i32, 7].iter().flat_map(|x| x.to_be_bytes()).collect(),
                vec![-2.0, 7.0],
            ),
            (
                "<i2",
                [-300i16, 5].iter().flat_map(|x| x.to_le_bytes()).collect(),
                vec![-300.0, 5.0],
            ),
            (
                "<u2",
                [65_535u16, 1]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect(),
                vec![65_535.0, 1.0],
            ),
            (
                ">f4",
                [1.5f32, -0.25]
                    .iter()
                    .flat_map(|x| x.to_be_bytes())
                    .collect(),
                vec![1.5, -0.25],
            ),
            (
                "<f8",
                [1e300f64, 3.0]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect(),
                vec![1e300, 3.0],
            ),
        ];
        for (dtype, bytes, want) in cases {
            let input = one_array(dtype, bytes, 2);
            assert_eq!(
                inline_values(&input.store, "x"),
                Some(want.clone()),
                "{dtype}"
            );
            // The same values through the Zarr reader.
            let one = input.store.only_array("x").unwrap();
            let ds = Dataset::from_store(one);
            let v = ds.variable("x").unwrap();
            let full = v.shape().iter().map(|&n| 0..n).collect::<Vec<_>>();
            let read = v
                .read_dyn(&full)
                .unwrap()
                .to_f64(dtype.contains('u'))
                .unwrap();
            assert_eq!(
                read.iter().copied().collect::<Vec<_>>(),
                want,
                "{dtype} via zarrs"
            );
        }
    }
}
