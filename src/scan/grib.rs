//! The GRIB scanner (editions 1 and 2): messages grouped into variables as cfgrib groups them.
//!
//! Each field is one chunk: the byte range of its message, decoded by the `grib` codec with
//! kerchunk's configuration (`{"id": "grib", "var": NAME, "dtype": "float32"}`), so Python with
//! kerchunk installed reads the store too. Only the metadata sections of each message are read.
//!
//! **Grouping** (cfgrib's): fields with the same parameter (`cfVarName`, e.g. `t2m`), type of
//! level and step type form one variable, with dimensions `number`, `time`, `step`, the level
//! type (e.g. `isobaricInhPa`) — each only when it takes more than one value, else a scalar
//! coordinate — then `latitude`, `longitude`. `valid_time` is `time + step`.
//!
//! **Fields that do not fill one hypercube** (the documented rule; each case is a warning
//! naming the message, never a silent loss):
//! - a position of the hypercube no field fills reads as NaN (the fill value);
//! - two fields at the same position: the first in the file is kept;
//! - variables whose shared coordinates (`time`, `step`, the grid, ...) disagree, or whose
//!   names collide, go to separate groups (`/<typeOfLevel>` or `/<typeOfLevel>_<stepType>`)
//!   where cfgrib would need `filter_by_keys`: the root group holds the first consistent set.
//!
//! A GRIB2 message holding several fields shares one byte range, and kerchunk's codec decodes
//! the first field of a range only: the first field references the message, each other field
//! is stored inline as a single-field message rebuilt from its sections.
//!
//! Grids: regular lat/lon and regular Gaussian. A field on another grid is skipped with a
//! warning naming it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use super::{file_url, ScanOptions, ScanOutput};
use crate::error::{Error, Result};
use crate::grib::names::{self, ParamInfo};
use crate::grib::sections::{Field, Grid, GridKind, StepType};
use crate::grib::{self as format, ByteSource, FileSource};
use crate::refs::{fill_value_float, ArrayMeta, ArrayRefs, Attrs, ChunkManifest, RefStore};

/// The codec id of kerchunk's GRIB codec.
pub const CODEC_ID: &str = "grib";

/// Scans one GRIB file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read, [`Error::Scan`] naming the message and byte
/// offset when a message is truncated or corrupt.
pub fn scan(path: &Path, options: &ScanOptions) -> Result<ScanOutput> {
    let src = FileSource::open(path).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    let url = match &options.url {
        Some(u) => u.clone(),
        None => file_url(path)?,
    };
    let idx_path = std::path::PathBuf::from(format!("{}.idx", path.display()));
    if options.grib_idx && idx_path.is_file() {
        let text = std::fs::read_to_string(&idx_path).map_err(|source| Error::Io {
            path: idx_path.clone(),
            source,
        })?;
        let mut warnings = Vec::new();
        let fields = idx_fields(&src, &text, &mut warnings).map_err(|reason| Error::Scan {
            path: idx_path.clone(),
            variable: None,
            reason,
        })?;
        return build_store(&src, path, &url, options, fields, warnings);
    }
    scan_source(&src, path, &url, options)
}

/// Scans GRIB bytes held in memory, as [`scan`] scans a file (the fuzz targets use it).
///
/// # Errors
/// [`Error::Scan`] when a message is truncated or corrupt.
pub fn scan_bytes(bytes: &[u8], name: &str, options: &ScanOptions) -> Result<ScanOutput> {
    let url = options.url.as_deref().unwrap_or(name);
    scan_source(bytes, Path::new(name), url, options)
}

fn scan_source(
    src: &(impl ByteSource + ?Sized),
    path: &Path,
    url: &str,
    options: &ScanOptions,
) -> Result<ScanOutput> {
    let scan_error = |e: format::FieldError| Error::Scan {
        path: path.to_owned(),
        variable: None,
        reason: e.to_string(),
    };
    let list = format::find_messages(src).map_err(scan_error)?;
    if list.messages.is_empty() {
        return Err(Error::Scan {
            path: path.to_owned(),
            variable: None,
            reason: "no GRIB message in the file".into(),
        });
    }
    let warnings: Vec<String> = list
        .garbage
        .iter()
        .map(|g| {
            let place = if g.before_message < list.messages.len() {
                format!("before message {}", g.before_message + 1)
            } else {
                "after the last message: a truncated file?".to_owned()
            };
            format!(
                "skipped {} bytes at byte {} that are not a GRIB message ({place})",
                g.length, g.offset
            )
        })
        .collect();
    let mut fields = Vec::new();
    for &span in &list.messages {
        fields.extend(format::parse_message(src, span).map_err(scan_error)?);
    }
    build_store(src, path, url, options, fields, warnings)
}

/// The store of `fields`: grouped, named and referenced.
fn build_store(
    src: &(impl ByteSource + ?Sized),
    path: &Path,
    url: &str,
    options: &ScanOptions,
    fields: Vec<Field>,
    mut warnings: Vec<String>,
) -> Result<ScanOutput> {
    let described = describe(fields, &mut warnings);
    let mut store = RefStore::new();
    let url_index = store.intern_url(url);
    let datasets = group(described, &mut warnings);
    let paths = group_paths(&datasets);
    for (dataset, group_path) in datasets.iter().zip(&paths) {
        write_dataset(
            &mut store,
            group_path,
            dataset,
            src,
            url_index,
            options,
            &mut warnings,
        )
        .map_err(|reason| Error::Scan {
            path: path.to_owned(),
            variable: None,
            reason,
        })?;
    }
    if datasets.len() > 1 {
        let shown: Vec<&str> = paths
            .iter()
            .map(|p| if p.is_empty() { "/" } else { p })
            .collect();
        warnings.push(format!(
            "the variables do not share one set of coordinates: {} groups written ({})",
            datasets.len(),
            shown.join(", ")
        ));
    }
    store.add_parent_groups();
    Ok(ScanOutput { store, warnings })
}

/// The fields of a file from its `.idx` sidecar: the sections of the first message of each
/// (variable, level kind, forecast kind) are read, and the other messages of that kind take
/// their metadata from it with the level, step and reference time their index line states.
/// A kind whose first message disagrees with its line, or whose lines chunkref cannot read,
/// has every message's sections read; so does a message with several fields.
fn idx_fields(
    src: &(impl ByteSource + ?Sized),
    text: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<Field>, String> {
    let entries = format::idx::parse(text)?;
    let mut offsets: Vec<u64> = entries.iter().map(|e| e.offset).collect();
    offsets.dedup();
    let mut templates: BTreeMap<(String, String, String), Option<Field>> = BTreeMap::new();
    let mut fields = Vec::new();
    let mut read_headers = 0usize;
    for (index, &offset) in offsets.iter().enumerate() {
        let lines: Vec<&format::idx::IdxEntry> =
            entries.iter().filter(|e| e.offset == offset).collect();
        let end = offsets.get(index + 1).copied().unwrap_or_else(|| src.len());
        let entry = lines[0];
        let key = (
            entry.var.clone(),
            strip_digits(&entry.level),
            strip_digits(&entry.forecast),
        );
        let from_template = (lines.len() == 1)
            .then(|| templates.get(&key).cloned().flatten())
            .flatten()
            .and_then(|t| idx_field(&t, entry, index, end));
        if let Some(mut f) = from_template {
            // One small read per message: the index must point at a message that fits.
            f.span = indicator_at(src, f.span, end).map_err(|e| {
                format!(
                    "line {}: {e} (the index does not match the file)",
                    entry.line
                )
            })?;
            fields.push(f);
            continue;
        }
        let span = format::message_at(src, offset, index).map_err(|e| {
            format!(
                "line {}: {e} (the index does not match the file)",
                entry.line
            )
        })?;
        let parsed =
            format::parse_message(src, span).map_err(|e| format!("line {}: {e}", entry.line))?;
        read_headers += 1;
        if lines.len() == 1 && !templates.contains_key(&key) {
            // Trust this kind's lines only if they restate what this message's sections say.
            let trusted = idx_field(&parsed[0], entry, index, end)
                .is_some_and(|f| same_coordinates(&f, &parsed[0]));
            templates.insert(key, trusted.then(|| parsed[0].clone()));
        }
        fields.extend(parsed);
    }
    warnings.push(format!(
        "used the .idx sidecar: read the sections of {read_headers} of {} messages",
        offsets.len()
    ));
    Ok(fields)
}

/// The span of the message an index line points at, read from its indicator section: it must
/// start at `span.offset`, be of `span`'s edition and end by `end` (the next line's offset).
fn indicator_at(
    src: &(impl ByteSource + ?Sized),
    span: format::MessageSpan,
    end: u64,
) -> Result<format::MessageSpan, String> {
    let head = src
        .read_at(span.offset, 16)
        .filter(|h| h.starts_with(b"GRIB") && h[7] == span.edition)
        .ok_or_else(|| format!("no GRIB{} message at byte {}", span.edition, span.offset))?;
    let length = format::message::stated_length(&head).unwrap_or_default();
    if span.offset.saturating_add(length) > end {
        return Err(format!(
            "the message at byte {} is {length} bytes long and runs past byte {end}",
            span.offset
        ));
    }
    Ok(format::MessageSpan { length, ..span })
}

/// `text` with its digits removed: lines of one kind differ only in their numbers.
fn strip_digits(text: &str) -> String {
    text.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// The field an index line describes, from the field `template` of the same kind.
fn idx_field(
    template: &Field,
    entry: &format::idx::IdxEntry,
    index: usize,
    end: u64,
) -> Option<Field> {
    let mut f = template.clone();
    let level = format::idx::level_value(&entry.level)?;
    let (start, stop, kind) = format::idx::forecast(&entry.forecast)?;
    let date = entry.date.as_bytes();
    if date.len() != 10 || !date.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let num = |r: std::ops::Range<usize>| entry.date[r].parse::<u32>().ok();
    f.reference_time = format::sections::DateTime {
        year: num(0..4)? as i32,
        month: num(4..6)? as u8,
        day: num(6..8)? as u8,
        hour: num(8..10)? as u8,
        minute: 0,
        second: 0,
    };
    if level.is_some() {
        f.level.first = level;
    }
    f.step = format::sections::Step {
        start,
        end: stop,
        kind,
    };
    f.span = format::MessageSpan {
        index,
        offset: entry.offset,
        length: end.checked_sub(entry.offset)?,
        edition: template.span.edition,
    };
    Some(f)
}

/// Whether two fields have the same coordinates (time, step, level).
fn same_coordinates(a: &Field, b: &Field) -> bool {
    a.reference_time == b.reference_time && a.step == b.step && a.level == b.level
}

/// A field with the names ecCodes gives it.
#[derive(Debug, Clone)]
struct Described {
    field: Field,
    grid: Grid,
    var_name: String,
    info: Option<ParamInfo>,
    level_type: String,
    level: f64,
}

/// Names each field; fields chunkref cannot lay out are dropped with a warning.
fn describe(fields: Vec<Field>, warnings: &mut Vec<String>) -> Vec<Described> {
    let mut unknown_params = BTreeMap::new();
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        let at = field_place(&field);
        let grid = match &field.grid {
            Ok(g) if g.scanning & 0x30 == 0 => *g,
            Ok(g) => {
                warnings.push(format!("{at}: skipped: scanning mode {:#04x} (columns first or alternating rows) is not supported", g.scanning));
                continue;
            }
            Err(what) => {
                warnings.push(format!("{at}: skipped: {what} is not supported (regular lat/lon and regular Gaussian grids are)"));
                continue;
            }
        };
        let info = names::param_info(&field);
        let var_name = info.map_or_else(
            || names::unknown_param_name(field.param),
            |i| i.cf_var_name.to_owned(),
        );
        if info.is_none() {
            unknown_params.entry(var_name.clone()).or_insert(at);
        }
        let (level_type, level) = names::type_of_level(field.span.edition, &field.level)
            .map_or_else(
                || {
                    (
                        format!("level_type_{}", field.level.code),
                        field.level.first.unwrap_or(0.0),
                    )
                },
                |(name, value)| (name.to_owned(), value),
            );
        out.push(Described {
            field,
            grid,
            var_name,
            info,
            level_type,
            level,
        });
    }
    for (name, at) in unknown_params {
        warnings.push(format!(
            "{at}: parameter not in chunkref's table: named {name}"
        ));
    }
    out
}

/// "message N at byte X" (and the field, in a multi-field message).
fn field_place(field: &Field) -> String {
    let mut s = format!(
        "message {} at byte {}",
        field.span.index + 1,
        field.span.offset
    );
    if field.index > 0 {
        let _ = write!(s, " (field {})", field.index + 1);
    }
    s
}

/// The values one variable takes along its non-grid coordinates, and its fields.
#[derive(Debug, Clone)]
struct Variable {
    name: String,
    info: Option<ParamInfo>,
    level_type: String,
    step_type: StepType,
    grid: Grid,
    numbers: Vec<i64>,
    times: Vec<i64>,
    steps: Vec<i64>,
    levels: Vec<f64>,
    /// Fields at each hypercube position, in C order over (number, time, step, level).
    slots: Vec<Option<usize>>,
    fields: Vec<Described>,
    has_number: bool,
}

fn sorted_unique<T: PartialOrd + Copy>(mut v: Vec<T>) -> Vec<T> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    v.dedup_by(|a, b| a == b);
    v
}

impl Variable {
    fn build(fields: Vec<Described>, warnings: &mut Vec<String>) -> Self {
        let first = &fields[0];
        let numbers = sorted_unique(fields.iter().map(|f| f.field.number.unwrap_or(0)).collect());
        let times = sorted_unique(
            fields
                .iter()
                .map(|f| f.field.reference_time.unix_seconds())
                .collect(),
        );
        let steps = sorted_unique(fields.iter().map(|f| f.field.step.end).collect());
        let mut levels = sorted_unique(fields.iter().map(|f| f.level).collect());
        if first.level_type.starts_with("isobaric") {
            levels.reverse(); // cfgrib stores pressure decreasing
        }
        let mut var = Self {
            name: first.var_name.clone(),
            info: first.info,
            level_type: first.level_type.clone(),
            step_type: first.field.step.kind,
            grid: first.grid,
            has_number: fields.iter().any(|f| f.field.number.is_some()),
            slots: vec![None; numbers.len() * times.len() * steps.len() * levels.len()],
            numbers,
            times,
            steps,
            levels,
            fields,
        };
        var.place(warnings);
        var
    }

    /// Puts each field in its hypercube slot; reports duplicates and holes.
    fn place(&mut self, warnings: &mut Vec<String>) {
        let pos = |v: &[i64], x: i64| v.iter().position(|&y| y == x).unwrap_or(0);
        for (i, d) in self.fields.iter().enumerate() {
            let f = &d.field;
            let n = pos(&self.numbers, f.number.unwrap_or(0));
            let t = pos(&self.times, f.reference_time.unix_seconds());
            let s = pos(&self.steps, f.step.end);
            let l = self
                .levels
                .iter()
                .position(|y| y.total_cmp(&d.level).is_eq())
                .unwrap_or(0);
            let slot = ((n * self.times.len() + t) * self.steps.len() + s) * self.levels.len() + l;
            match self.slots[slot] {
                None => self.slots[slot] = Some(i),
                Some(kept) => warnings.push(format!(
                    "{}: {} repeats the field of {} (same time, step, level and member): the first is kept",
                    self.name,
                    field_place(f),
                    field_place(&self.fields[kept].field)
                )),
            }
        }
        let holes = self.slots.iter().filter(|s| s.is_none()).count();
        if holes > 0 {
            warnings.push(format!(
                "{}: {holes} of {} (number, time, step, {}) positions have no message; they read as NaN",
                self.name,
                self.slots.len(),
                self.level_type
            ));
        }
    }

    /// The coordinates this variable needs: (name, values, is a dimension).
    fn coords(&self) -> Vec<Coord> {
        let mut out = Vec::new();
        if self.has_number {
            out.push(Coord::ints("number", &self.numbers));
        }
        out.push(Coord::ints("time", &self.times));
        out.push(Coord::floats(
            "step",
            &self
                .steps
                .iter()
                .map(|&s| s as f64 / 3600.0)
                .collect::<Vec<_>>(),
        ));
        out.push(Coord::floats(&self.level_type, &self.levels));
        out
    }
}

/// A coordinate's values: integers (time, number) or floats.
#[derive(Debug, Clone, PartialEq)]
struct Coord {
    name: String,
    ints: Option<Vec<i64>>,
    floats: Vec<f64>,
}

impl Coord {
    fn ints(name: &str, v: &[i64]) -> Self {
        Self {
            name: name.to_owned(),
            ints: Some(v.to_vec()),
            floats: v.iter().map(|&x| x as f64).collect(),
        }
    }

    fn floats(name: &str, v: &[f64]) -> Self {
        Self {
            name: name.to_owned(),
            ints: None,
            floats: v.to_vec(),
        }
    }

    fn len(&self) -> usize {
        self.floats.len()
    }

    fn is_dim(&self) -> bool {
        self.len() > 1
    }
}

/// Variables that share one set of coordinates: a group of the store.
#[derive(Debug, Clone, Default)]
struct Dataset {
    variables: Vec<Variable>,
    coords: BTreeMap<String, Coord>,
    grid: Option<Grid>,
}

impl Dataset {
    fn accepts(&self, var: &Variable) -> bool {
        if self.variables.iter().any(|v| v.name == var.name) {
            return false;
        }
        if self.grid.is_some_and(|g| g != var.grid) {
            return false;
        }
        let valid = valid_times(var);
        if self.coords.get("valid_time").is_some_and(|c| c != &valid) {
            return false;
        }
        var.coords()
            .iter()
            .all(|c| self.coords.get(&c.name).is_none_or(|have| have == c))
    }

    fn add(&mut self, var: Variable) {
        for c in var.coords() {
            self.coords.insert(c.name.clone(), c);
        }
        self.coords.insert("valid_time".into(), valid_times(&var));
        self.grid = Some(var.grid);
        self.variables.push(var);
    }

    /// The names of the arrays this dataset writes.
    fn array_names(&self) -> impl Iterator<Item = &str> {
        self.variables
            .iter()
            .map(|v| v.name.as_str())
            .chain(self.coords.keys().map(String::as_str))
            .chain(["latitude", "longitude"])
    }

    /// The group name of this dataset: the first of `<level type>`, `<level type>_<step
    /// type>`, `<level type>_<step type>_<k>` that is not in `taken` and is no array name of
    /// `root`.
    fn group_name(&self, root: &Dataset, taken: &[String]) -> String {
        let v = &self.variables[0];
        let base = v.level_type.clone();
        let step = v.step_type.name();
        let used =
            |name: &str| root.array_names().any(|a| a == name) || taken.iter().any(|t| t == name);
        [base.clone(), format!("{base}_{step}")]
            .into_iter()
            .chain((2..=taken.len() + 3).map(|k| format!("{base}_{step}_{k}")))
            .find(|c| !used(c))
            .unwrap_or(base)
    }
}

/// The group path of each dataset: the root (`""`) for the first, then names chosen in order.
fn group_paths(datasets: &[Dataset]) -> Vec<String> {
    let mut paths: Vec<String> = Vec::with_capacity(datasets.len());
    for (i, d) in datasets.iter().enumerate() {
        let path = if i == 0 {
            String::new()
        } else {
            d.group_name(&datasets[0], &paths[1..])
        };
        paths.push(path);
    }
    paths
}

/// `valid_time = time + step`, over the (time, step) positions.
fn valid_times(var: &Variable) -> Coord {
    let values: Vec<i64> = var
        .times
        .iter()
        .flat_map(|&t| var.steps.iter().map(move |&s| t + s))
        .collect();
    Coord::ints("valid_time", &values)
}

/// Groups fields into variables, and variables into datasets.
fn group(fields: Vec<Described>, warnings: &mut Vec<String>) -> Vec<Dataset> {
    let mut by_key: BTreeMap<(String, String, StepType), Vec<Described>> = BTreeMap::new();
    let mut order = Vec::new();
    for d in fields {
        let key = (d.var_name.clone(), d.level_type.clone(), d.field.step.kind);
        if !by_key.contains_key(&key) {
            order.push(key.clone());
        }
        by_key.entry(key).or_default().push(d);
    }
    let mut datasets: Vec<Dataset> = Vec::new();
    for key in order {
        let fields = by_key.remove(&key).unwrap_or_default();
        let mut same_grid: Vec<Vec<Described>> = Vec::new();
        for d in fields {
            match same_grid.iter_mut().find(|g| g[0].grid == d.grid) {
                Some(g) => g.push(d),
                None => same_grid.push(vec![d]),
            }
        }
        for fields in same_grid {
            let var = Variable::build(fields, warnings);
            if let Some(d) = datasets.iter_mut().find(|d| d.accepts(&var)) {
                d.add(var);
            } else {
                let mut d = Dataset::default();
                d.add(var);
                datasets.push(d);
            }
        }
    }
    datasets
}

/// Writes one dataset's coordinates and variables into `store` under `group`.
fn write_dataset(
    store: &mut RefStore,
    group: &str,
    dataset: &Dataset,
    src: &(impl ByteSource + ?Sized),
    url_index: u32,
    options: &ScanOptions,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let first = &dataset.variables[0];
    let prefix = if group.is_empty() {
        String::new()
    } else {
        format!("{group}/")
    };
    store
        .groups
        .insert(group.to_owned(), global_attrs(&first.fields[0].field));
    let grid = first.grid;
    let lats = format::grid::latitudes(&grid)?;
    let lons = format::grid::longitudes(&grid);
    let mut lat_attrs = coord_attrs("latitude");
    if lats.first() > lats.last() {
        lat_attrs.insert("stored_direction".into(), json!("decreasing"));
    }
    insert_inline(
        store,
        &format!("{prefix}latitude"),
        &["latitude"],
        &Coord::floats("latitude", &lats),
        lat_attrs,
    )?;
    insert_inline(
        store,
        &format!("{prefix}longitude"),
        &["longitude"],
        &Coord::floats("longitude", &lons),
        coord_attrs("longitude"),
    )?;
    for c in dataset.coords.values() {
        if c.name == "valid_time" {
            continue;
        }
        let dims: Vec<&str> = if c.is_dim() {
            vec![c.name.as_str()]
        } else {
            vec![]
        };
        insert_inline(
            store,
            &format!("{prefix}{}", c.name),
            &dims,
            c,
            coord_attrs(&c.name),
        )?;
    }
    let valid = &dataset.coords["valid_time"];
    let mut valid_dims = Vec::new();
    for name in ["time", "step"] {
        if dataset.coords[name].is_dim() {
            valid_dims.push(name);
        }
    }
    insert_inline(
        store,
        &format!("{prefix}valid_time"),
        &valid_dims,
        valid,
        coord_attrs("valid_time"),
    )?;
    for var in &dataset.variables {
        let (meta, chunks) = variable_refs(var, dataset, src, url_index, options, warnings)?;
        store
            .arrays
            .insert(format!("{prefix}{}", var.name), ArrayRefs { meta, chunks });
    }
    Ok(())
}

/// The array and chunk references of one variable.
fn variable_refs(
    var: &Variable,
    dataset: &Dataset,
    src: &(impl ByteSource + ?Sized),
    url_index: u32,
    options: &ScanOptions,
    warnings: &mut Vec<String>,
) -> Result<(ArrayMeta, ChunkManifest), String> {
    let coords = var.coords();
    let mut dims: Vec<String> = coords
        .iter()
        .filter(|c| c.is_dim())
        .map(|c| c.name.clone())
        .collect();
    let mut shape: Vec<u64> = coords
        .iter()
        .filter(|c| c.is_dim())
        .map(|c| c.len() as u64)
        .collect();
    let mut chunk_shape = vec![1u64; shape.len()];
    dims.extend(["latitude".to_owned(), "longitude".to_owned()]);
    shape.extend([u64::from(var.grid.nj), u64::from(var.grid.ni)]);
    chunk_shape.extend([u64::from(var.grid.nj), u64::from(var.grid.ni)]);
    let mut scalar_coords: Vec<&str> = coords
        .iter()
        .filter(|c| !c.is_dim())
        .map(|c| c.name.as_str())
        .collect();
    scalar_coords.push("valid_time");
    let _ = dataset;
    let meta = ArrayMeta {
        shape,
        chunks: chunk_shape,
        dtype: "<f4".into(),
        fill_value: fill_value_float(f64::NAN),
        filters: vec![json!({"id": CODEC_ID, "var": var.name, "dtype": "float32"})],
        compressor: None,
        dimensions: dims,
        attrs: data_attrs(var, &scalar_coords),
    };
    let mut chunks = ChunkManifest::new(&meta.grid())?;
    // Hypercube slots map one-to-one onto chunks: squeezed dimensions have one value.
    for (n, slot) in var.slots.iter().enumerate() {
        let Some(i) = slot else {
            chunks.set_missing(n);
            continue;
        };
        let f = &var.fields[*i].field;
        let span = f.span;
        if f.index == 0 && span.length > options.inline_threshold {
            chunks.set_range(n, url_index, span.offset, span.length);
        } else {
            let bytes = standalone_message(src, f)?;
            if f.index > 0 {
                warnings.push(format!(
                    "{}: {} shares its message with other fields; stored inline as a {}-byte single-field message",
                    var.name,
                    field_place(f),
                    bytes.len()
                ));
            }
            chunks.set_inline(n, bytes);
        }
    }
    Ok((meta, chunks))
}

/// The bytes of a message holding only `field`: the message itself for a field that is
/// first in its message, else sections 0, 1, (2), 3–7 of the field and `7777`.
fn standalone_message(src: &(impl ByteSource + ?Sized), field: &Field) -> Result<Vec<u8>, String> {
    let span = field.span;
    let read = |offset: u64, length: u64| {
        src.read_at(span.offset + offset, length).ok_or_else(|| {
            format!(
                "message {} at byte {}: cannot read {length} bytes",
                span.index + 1,
                span.offset + offset
            )
        })
    };
    if field.index == 0 {
        return read(0, span.length);
    }
    let mut out = read(0, 16)?;
    for (number, section) in field.data.standalone.iter().enumerate() {
        let Some((at, len)) = *section else { continue };
        let mut bytes = read(at, len)?;
        if number == 5 && bytes.get(5) == Some(&254) {
            bytes[5] = 0; // "the previous bitmap": it is this one now
        }
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(b"7777");
    let total = out.len() as u64;
    out[8..16].copy_from_slice(&total.to_be_bytes());
    Ok(out)
}

/// Stores a small coordinate array inline (one chunk).
fn insert_inline(
    store: &mut RefStore,
    path: &str,
    dims: &[&str],
    coord: &Coord,
    attrs: Attrs,
) -> Result<(), String> {
    let (dtype, bytes): (&str, Vec<u8>) = match &coord.ints {
        Some(v) => ("<i8", v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        None => (
            "<f8",
            coord.floats.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
    };
    let shape: Vec<u64> = if dims.is_empty() {
        vec![]
    } else {
        vec![coord.len() as u64]
    };
    let one = if dims.is_empty() {
        &bytes[..8.min(bytes.len())]
    } else {
        &bytes[..]
    };
    let dims = dims.iter().map(|d| (*d).to_owned()).collect();
    let array = ArrayRefs::inline(shape, dtype, dims, attrs, one.to_vec())?;
    store.arrays.insert(path.to_owned(), array);
    Ok(())
}

/// cfgrib's attributes of a coordinate.
fn coord_attrs(name: &str) -> Attrs {
    let pairs: &[(&str, &str)] = match name {
        "latitude" => &[
            ("units", "degrees_north"),
            ("standard_name", "latitude"),
            ("long_name", "latitude"),
        ],
        "longitude" => &[
            ("units", "degrees_east"),
            ("standard_name", "longitude"),
            ("long_name", "longitude"),
        ],
        "number" => &[
            ("units", "1"),
            ("standard_name", "realization"),
            ("long_name", "ensemble member numerical id"),
        ],
        "step" => &[
            ("units", "hours"),
            ("standard_name", "forecast_period"),
            ("long_name", "time since forecast_reference_time"),
            ("dtype", "timedelta64[ns]"),
        ],
        "time" => &[
            ("units", "seconds since 1970-01-01T00:00:00"),
            ("calendar", "proleptic_gregorian"),
            ("standard_name", "forecast_reference_time"),
            ("long_name", "initial time of forecast"),
        ],
        "valid_time" => &[
            ("units", "seconds since 1970-01-01T00:00:00"),
            ("calendar", "proleptic_gregorian"),
            ("standard_name", "time"),
            ("long_name", "time"),
        ],
        "isobaricInhPa" => &[
            ("units", "hPa"),
            ("positive", "down"),
            ("stored_direction", "decreasing"),
            ("standard_name", "air_pressure"),
            ("long_name", "pressure"),
        ],
        "isobaricInPa" => &[
            ("units", "Pa"),
            ("positive", "down"),
            ("stored_direction", "decreasing"),
            ("standard_name", "air_pressure"),
            ("long_name", "pressure"),
        ],
        "heightAboveGround" => &[
            ("units", "m"),
            ("positive", "up"),
            ("long_name", "height above the surface"),
            ("standard_name", "height"),
        ],
        "depthBelowLand" | "depthBelowLandLayer" => &[
            ("units", "m"),
            ("positive", "down"),
            ("long_name", "soil depth"),
            ("standard_name", "depth"),
        ],
        "hybrid" => &[
            ("units", "1"),
            ("positive", "down"),
            ("long_name", "hybrid level"),
            (
                "standard_name",
                "atmosphere_hybrid_sigma_pressure_coordinate",
            ),
        ],
        _ => &[],
    };
    let mut attrs: Attrs = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    if attrs.is_empty() {
        attrs.insert(
            "long_name".into(),
            json!(format!("original GRIB coordinate for key: level({name})")),
        );
        attrs.insert("units".into(), json!("1"));
    }
    attrs
}

/// cfgrib's global attributes.
fn global_attrs(field: &Field) -> Attrs {
    let mut attrs = Attrs::new();
    attrs.insert("GRIB_edition".into(), json!(field.span.edition));
    if let Some((abbrev, description)) = names::centre(field.centre) {
        attrs.insert("GRIB_centre".into(), json!(abbrev));
        attrs.insert("GRIB_centreDescription".into(), json!(description));
        attrs.insert("institution".into(), json!(description));
    } else {
        attrs.insert("GRIB_centre".into(), json!(field.centre.to_string()));
    }
    attrs.insert("GRIB_subCentre".into(), json!(field.subcentre));
    attrs.insert("Conventions".into(), json!("CF-1.7"));
    attrs
}

/// cfgrib's attributes of a data variable.
fn data_attrs(var: &Variable, scalar_coords: &[&str]) -> Attrs {
    let g = &var.grid;
    let mut a = Attrs::new();
    let mut put = |k: &str, v: Value| {
        a.insert(k.to_owned(), v);
    };
    if let Some(info) = var.info {
        put("GRIB_paramId", json!(info.param_id));
        put("GRIB_shortName", json!(info.short_name));
        put("GRIB_name", json!(info.name));
        put("GRIB_units", json!(info.units));
        put("GRIB_cfName", json!(info.cf_name));
        put("GRIB_cfVarName", json!(info.cf_var_name));
        put("long_name", json!(info.name));
        put("units", json!(info.units));
        put("standard_name", json!(info.cf_name));
    }
    let f = &var.fields[0].field;
    put("GRIB_typeOfLevel", json!(var.level_type));
    put("GRIB_stepType", json!(var.step_type.name()));
    put("GRIB_stepUnits", json!(1));
    put("GRIB_NV", json!(f.nv));
    // ecCodes' default, which cfgrib reports; the codec gives NaN at missing points.
    put("GRIB_missingValue", json!(f64::from(f32::MAX)));
    if let Some(n) = f.ensemble_size.or_else(|| f.number.map(|_| 0)) {
        put("GRIB_totalNumber", json!(n));
    }
    put(
        "GRIB_numberOfPoints",
        json!(u64::from(g.ni) * u64::from(g.nj)),
    );
    let (grid_type, description) = match (g.kind, f.span.edition) {
        (GridKind::RegularLatLon, 1) => ("regular_ll", "Latitude/Longitude Grid"),
        (GridKind::RegularLatLon, _) => ("regular_ll", "Latitude/longitude"),
        (GridKind::RegularGaussian { .. }, 1) => ("regular_gg", "Gaussian Latitude/Longitude Grid"),
        (GridKind::RegularGaussian { .. }, _) => ("regular_gg", "Gaussian latitude/longitude"),
    };
    put("GRIB_gridType", json!(grid_type));
    put("GRIB_gridDefinitionDescription", json!(description));
    match g.kind {
        GridKind::RegularLatLon => {
            put("GRIB_Nx", json!(g.ni));
            put("GRIB_Ny", json!(g.nj));
        }
        GridKind::RegularGaussian { n } => {
            put("GRIB_N", json!(n));
            put("GRIB_Ni", json!(g.ni));
            put("GRIB_Nj", json!(g.nj));
        }
    }
    put("GRIB_iScansNegatively", json!(i64::from(g.i_negative())));
    put("GRIB_jScansPositively", json!(i64::from(g.j_positive())));
    put(
        "GRIB_jPointsAreConsecutive",
        json!(i64::from(g.scanning & 0x20 != 0)),
    );
    put("GRIB_latitudeOfFirstGridPointInDegrees", json!(g.lat1));
    put("GRIB_longitudeOfFirstGridPointInDegrees", json!(g.lon1));
    put("GRIB_latitudeOfLastGridPointInDegrees", json!(g.lat2));
    put("GRIB_longitudeOfLastGridPointInDegrees", json!(g.lon2));
    if let Some(di) = g.di {
        put("GRIB_iDirectionIncrementInDegrees", json!(di));
    }
    if let Some(dj) = g.dj {
        put("GRIB_jDirectionIncrementInDegrees", json!(dj));
    }
    put("coordinates", json!(scalar_coords.join(" ")));
    a
}
