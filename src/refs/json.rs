//! kerchunk JSON reference stores: write version 1, read versions 0 and 1.
//!
//! Writing is deterministic: keys sorted, compact separators, templates named in url order,
//! so the same store always gives the same bytes. Reading treats the store as untrusted: only
//! plain `{{name}}` templates are substituted and only integer `gen` ranges expanded; nothing
//! is ever evaluated.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Write;

use base64::Engine as _;
use serde_json::{json, Value};

use super::model::{ArrayMeta, ArrayRefs, Attrs, ChunkManifest, ChunkRef, RefStore, NON_FINITE};
use crate::error::{Error, Result};

mod raw;

use raw::RawValue;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The most references the `gen` entries of a store may generate, all together: a store is
/// untrusted input, and a few bytes of `gen` could otherwise ask for 10^14 keys.
const MAX_GEN_KEYS: usize = 10_000_000;

/// The `.zarray` document of an array.
#[must_use]
pub fn zarray(meta: &ArrayMeta) -> Value {
    json!({
        "chunks": meta.chunks,
        "compressor": meta.compressor,
        "dtype": meta.dtype,
        "fill_value": meta.fill_value,
        "filters": if meta.filters.is_empty() { Value::Null } else { Value::from(meta.filters.clone()) },
        "order": "C",
        "shape": meta.shape,
        "zarr_format": 2,
    })
}

/// The `.zattrs` document of an array: its attributes plus `_ARRAY_DIMENSIONS`.
#[must_use]
pub fn zattrs(meta: &ArrayMeta) -> Value {
    let mut attrs = meta.attrs.clone();
    attrs.insert("_ARRAY_DIMENSIONS".into(), json!(meta.dimensions));
    Value::Object(attrs)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Every metadata document of the store by key (`.zgroup`, `grp/.zattrs`, `v/.zarray`, ...).
#[must_use]
pub fn metadata(store: &RefStore) -> BTreeMap<String, Value> {
    let mut docs = BTreeMap::new();
    for (path, attrs) in &store.groups {
        docs.insert(join(path, ".zgroup"), json!({"zarr_format": 2}));
        docs.insert(join(path, ".zattrs"), Value::Object(attrs.clone()));
    }
    for (path, array) in &store.arrays {
        docs.insert(join(path, ".zarray"), zarray(&array.meta));
        docs.insert(join(path, ".zattrs"), zattrs(&array.meta));
    }
    docs
}

/// Template names in url-table order: `a`, `b`, ..., `z`, `ba`, `bb`, ...
fn template_name(mut i: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'a' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A JSON value serialised with every object's keys sorted, whatever order it was built in.
struct Sorted<'a>(&'a Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap as _, SerializeSeq as _};
        match self.0 {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                let mut m = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    m.serialize_entry(k, &Sorted(v))?;
                }
                m.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Sorted(v))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

/// The compact, key-sorted text of a metadata document, with non-finite float attributes as
/// the bare `NaN`/`Infinity`/`-Infinity` tokens Python's `json` reads as floats.
#[must_use]
pub fn doc_text(doc: &Value) -> String {
    let text = serde_json::to_string(&Sorted(doc)).unwrap_or_default();
    if !text.contains(NON_FINITE) {
        return text;
    }
    let mut out = text;
    for token in ["NaN", "Infinity", "-Infinity"] {
        out = out.replace(&format!("{{\"{NON_FINITE}\":\"{token}\"}}"), token);
    }
    out
}

/// Parses a metadata document, accepting the bare `NaN`/`Infinity`/`-Infinity` tokens
/// zarr-python writes (as non-finite float markers, see [`crate::refs::float_attr`]).
///
/// # Errors
/// Returns the parser's error when the text is not JSON even with those tokens.
pub fn parse_doc(text: &str) -> std::result::Result<Value, serde_json::Error> {
    serde_json::from_str(text).or_else(|err| {
        let marked = mark_non_finite(text);
        if marked == text {
            Err(err)
        } else {
            serde_json::from_str(&marked)
        }
    })
}

/// Replaces bare `NaN`, `Infinity` and `-Infinity` tokens outside strings by markers.
fn mark_non_finite(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            in_string = escaped || c != '"';
            escaped = !escaped && c == '\\';
        } else if c == '"' {
            in_string = true;
        } else if let Some(token) = ["NaN", "Infinity", "-Infinity"]
            .into_iter()
            .find(|t| rest.starts_with(t))
        {
            let _ = write!(out, "{{\"{NON_FINITE}\":\"{token}\"}}");
            rest = &rest[token.len()..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// One run of `refs` entries in key order: a metadata document, or every chunk key of one
/// array (they sort together: a chunk key is digits after `path/`, and nothing else starts so).
enum Block<'a> {
    Doc(String, String),
    Chunks(&'a str, &'a ArrayRefs),
}

impl Block<'_> {
    /// The key the block starts with, by which blocks are ordered (`0` sorts first of all
    /// chunk indices).
    fn first_key(&self) -> String {
        match self {
            Block::Doc(key, _) => key.clone(),
            Block::Chunks(path, array) => {
                let zeros = vec!["0"; array.chunks.grid().len().max(1)];
                format!("{path}/{}", zeros.join("."))
            }
        }
    }
}

/// Per dimension, the chunk indices `0..g` in the order their decimal text sorts in
/// (`0, 1, 10, 11, 2, ...`): iterating the grid with them gives the chunk keys sorted as
/// strings, which is the order of kerchunk's keys, without making and sorting the keys.
fn string_order(grid: &[u64]) -> Vec<Vec<u64>> {
    grid.iter().map(|&g| decimal_order(g)).collect()
}

/// `0..n` in the order of their decimal text: a walk of the decimal digit tree, depth
/// first, children after their parent.
fn decimal_order(n: u64) -> Vec<u64> {
    let mut order = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
    if n == 0 {
        return order;
    }
    order.push(0);
    let mut x = 1;
    for _ in 1..n {
        order.push(x);
        if x.saturating_mul(10) < n {
            x *= 10; // the first child: x0
        } else {
            // The next sibling, climbing while past the last digit or past n.
            if x + 1 >= n {
                x /= 10;
            }
            x += 1;
            while x % 10 == 0 {
                x /= 10;
            }
        }
    }
    order
}

/// Writes `text` as a JSON string (`serde_json`'s escaping).
fn write_str<W: Write + ?Sized>(out: &mut W, text: &str) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, text).map_err(std::io::Error::from)
}

/// Writes every present chunk of `array` as `"path/i.j":ref`, in key order, each preceded by
/// a comma; marks the urls they use.
fn write_chunks<W: Write + ?Sized>(
    out: &mut W,
    store: &RefStore,
    path: &str,
    array: &ArrayRefs,
    urls: &mut UrlUse,
) -> std::io::Result<()> {
    // The key's quoted, escaped `"path/` prefix, written once per array.
    let quoted = serde_json::to_string(&format!("{path}/")).map_err(std::io::Error::from)?;
    let prefix = &quoted.as_bytes()[..quoted.len() - 1];
    let grid = array.chunks.grid();
    let orders = string_order(grid);
    if orders.iter().any(Vec::is_empty) {
        return Ok(());
    }
    let mut digits = itoa::Buffer::new();
    let mut step = vec![0usize; grid.len()];
    let mut index: Vec<u64> = orders.iter().map(|o| o[0]).collect();
    loop {
        let n = array.chunks.linear(&index).unwrap_or(0);
        if !array.chunks.is_missing(n) {
            out.write_all(b",")?;
            out.write_all(prefix)?;
            if index.is_empty() {
                out.write_all(b"0")?;
            }
            for (k, i) in index.iter().enumerate() {
                if k > 0 {
                    out.write_all(b".")?;
                }
                out.write_all(digits.format(*i).as_bytes())?;
            }
            out.write_all(b"\":")?;
            write_chunk(out, store, array, n, urls)?;
        }
        // The next grid position, last dimension fastest.
        let Some(d) = (0..step.len())
            .rev()
            .find(|&d| step[d] + 1 < orders[d].len())
        else {
            return Ok(());
        };
        step[d] += 1;
        index[d] = orders[d][step[d]];
        for e in d + 1..step.len() {
            step[e] = 0;
            index[e] = orders[e][0];
        }
    }
}

/// The urls of a store as references write them, and which ones chunks used.
struct UrlUse {
    /// Per url: the opening of a reference to it, `["{{a}}"`.
    opening: Vec<Vec<u8>>,
    used: Vec<bool>,
}

impl UrlUse {
    fn new(store: &RefStore) -> Self {
        let count = store.urls().len();
        Self {
            opening: (0..count)
                .map(|u| format!("[\"{{{{{}}}}}\"", template_name(u)).into_bytes())
                .collect(),
            used: vec![false; count],
        }
    }
}

/// Writes the reference of chunk `n` as kerchunk JSON, marking the url it uses.
fn write_chunk<W: Write + ?Sized>(
    out: &mut W,
    store: &RefStore,
    array: &ArrayRefs,
    n: usize,
    urls: &mut UrlUse,
) -> std::io::Result<()> {
    let mut template = |out: &mut W| {
        let u = array.chunks.url_index(n).unwrap_or_default() as usize;
        if let Some(flag) = urls.used.get_mut(u) {
            *flag = true;
        }
        out.write_all(urls.opening.get(u).map_or(b"[\"\"", |o| &o[..]))
    };
    let mut digits = itoa::Buffer::new();
    match store.chunk_ref(array, n) {
        ChunkRef::Missing => Ok(()),
        ChunkRef::Inline(bytes) => write_str(out, &format!("base64:{}", B64.encode(bytes))),
        ChunkRef::Range { offset, length, .. } => {
            template(out)?;
            out.write_all(b",")?;
            out.write_all(digits.format(offset).as_bytes())?;
            out.write_all(b",")?;
            out.write_all(digits.format(length).as_bytes())?;
            out.write_all(b"]")
        }
        ChunkRef::Whole { .. } => {
            template(out)?;
            out.write_all(b"]")
        }
    }
}

/// Serialises a store as kerchunk JSON version 1 with consolidated `.zmetadata`: keys sorted,
/// compact, one template per data url, the same bytes for the same store.
#[must_use]
pub fn to_json(store: &RefStore) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = write_json(store, &mut out);
    out
}

/// Writes a store as [`to_json`] does, straight into `out`, one reference at a time: a store
/// of millions of references costs no keys, no JSON tree and no copy of its text.
///
/// # Errors
/// Returns the writer's errors.
pub fn write_json(store: &RefStore, mut out: impl Write) -> std::io::Result<()> {
    let docs = metadata(store);
    let consolidated = json!({"metadata": docs, "zarr_consolidated_format": 1});
    let mut blocks = vec![Block::Doc(".zmetadata".into(), doc_text(&consolidated))];
    blocks.extend(
        docs.iter()
            .map(|(key, doc)| Block::Doc(key.clone(), doc_text(doc))),
    );
    blocks.extend(
        store
            .arrays
            .iter()
            .map(|(path, array)| Block::Chunks(path, array)),
    );
    blocks.sort_by_cached_key(Block::first_key);
    let mut urls = UrlUse::new(store);
    out.write_all(b"{\"refs\":{")?;
    let mut first = true;
    for block in &blocks {
        // Every entry is written after a comma; the first one's comma is left out.
        let mut entries = Vec::new();
        let sink: &mut dyn Write = if first { &mut entries } else { &mut out };
        match block {
            Block::Doc(key, text) => {
                sink.write_all(b",")?;
                write_str(sink, key)?;
                sink.write_all(b":")?;
                write_str(sink, text)?;
            }
            Block::Chunks(path, array) => write_chunks(sink, store, path, array, &mut urls)?,
        }
        if first && !entries.is_empty() {
            out.write_all(&entries[1..])?;
            first = false;
        }
    }
    out.write_all(b"},\"templates\":{")?;
    let mut templates: Vec<(String, &String)> = store
        .urls()
        .iter()
        .enumerate()
        .filter(|(i, _)| urls.used[*i])
        .map(|(i, u)| (template_name(i), u))
        .collect();
    templates.sort();
    for (k, (name, url)) in templates.iter().enumerate() {
        if k > 0 {
            out.write_all(b",")?;
        }
        write_str(&mut out, name)?;
        out.write_all(b":")?;
        write_str(&mut out, url)?;
    }
    out.write_all(b"},\"version\":1}")
}

/// Writes a store as kerchunk JSON to `path` atomically: to a temporary file in the same
/// directory, then renamed, so a crash never leaves a half-written store.
///
/// # Errors
/// Returns [`Error::Io`] when the file cannot be written.
pub fn write(store: &RefStore, path: &std::path::Path) -> Result<()> {
    write_atomic_with(path, |file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write_json(store, &mut out)?;
        out.flush()
    })
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
///
/// # Errors
/// Returns [`Error::Io`] when the temporary file cannot be written or renamed.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |mut file| file.write_all(bytes))
}

/// Writes `path` with `fill` through a temporary file in the same directory and a rename.
///
/// A crash of this process never leaves a half-written file. The data is not flushed to
/// disk before the rename (one flush per file cost scans of many small stores three times
/// their time); the operating system writes it out as usual.
///
/// # Errors
/// Returns [`Error::Io`] when the temporary file cannot be written or renamed.
pub fn write_atomic_with(
    path: &std::path::Path,
    fill: impl FnOnce(&std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&tmp)
        .and_then(|f| fill(&f))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// A reference as found in a store's `refs`, before it is placed in a manifest.
enum RawRef<'a> {
    Inline(Vec<u8>),
    Range(Cow<'a, str>, u64, u64),
    Whole(Cow<'a, str>),
}

/// The keys and values of a store's `refs`, in document order (a later one of the same key
/// wins, as in a JSON object).
pub(super) type RawRefs<'a> = Vec<(Cow<'a, str>, RawValue<'a>)>;

/// Parses a kerchunk JSON store (version 0 or 1). `name` labels errors.
///
/// # Errors
/// Returns [`Error::Store`] when the document is not a reference store or a key is malformed.
pub fn from_json(bytes: &[u8], name: &str) -> Result<RefStore> {
    let err = |key: Option<&str>, reason: String| Error::Store {
        store: name.to_owned(),
        key: key.map(str::to_owned),
        reason,
    };
    let doc: raw::Document<'_> =
        serde_json::from_slice(bytes).map_err(|e| err(None, format!("not JSON: {e}")))?;
    let (entries, templates) = match &doc.version {
        Some(v) if v.as_u64() == Some(1) => {
            let Some(raw::Refs(refs)) = doc.refs else {
                return Err(err(
                    None,
                    "version 1 store without a \"refs\" object".into(),
                ));
            };
            (refs, doc.templates)
        }
        Some(v) => return Err(err(None, format!("unsupported store version {v}"))),
        None => (doc.top, None),
    };
    let templates: BTreeMap<String, String> = match templates {
        Some(Value::Object(t)) => t
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
            .collect(),
        _ => BTreeMap::new(),
    };
    let mut raw: RawRefs<'_> = entries.into_iter().map(|(k, v)| (k.0, v)).collect();
    if let Some(gen) = &doc.gen {
        expand_gen(gen, &mut raw).map_err(|r| err(Some("gen"), r))?;
    }
    build_store(raw, &templates).map_err(|(key, reason)| err(key.as_deref(), reason))
}

/// Substitutes plain `{{name}}` templates, and nothing else.
fn render(url: &str, templates: &BTreeMap<String, String>) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = url;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("unclosed template in {url:?}"))?;
        let name = after[..end].trim();
        let value = templates.get(name).ok_or_else(|| {
            format!("template {name:?} is not defined (only plain names are substituted)")
        })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Expands kerchunk `gen` entries whose dimensions are integer ranges.
fn expand_gen(gen: &Value, raw: &mut RawRefs<'_>) -> std::result::Result<(), String> {
    let Value::Array(entries) = gen else {
        return Err("\"gen\" must be a list".into());
    };
    let mut generated = 0usize;
    for entry in entries {
        let key = entry
            .get("key")
            .and_then(Value::as_str)
            .ok_or("gen entry without \"key\"")?;
        let url = entry
            .get("url")
            .and_then(Value::as_str)
            .ok_or("gen entry without \"url\"")?;
        let dims = entry
            .get("dimensions")
            .and_then(Value::as_object)
            .ok_or("gen entry without \"dimensions\"")?;
        let mut axes: Vec<(String, Vec<i64>)> = Vec::new();
        for (name, spec) in dims {
            let values: Vec<i64> = if let Some(list) = spec.as_array() {
                list.iter()
                    .map(|v| v.as_i64().ok_or("gen values must be integers"))
                    .collect::<std::result::Result<_, _>>()?
            } else {
                let start = spec.get("start").and_then(Value::as_i64).unwrap_or(0);
                let stop = spec
                    .get("stop")
                    .and_then(Value::as_i64)
                    .ok_or("gen range without \"stop\"")?;
                let step = spec.get("step").and_then(Value::as_i64).unwrap_or(1);
                // (in i128: `stop - start` overflows i64 for extreme values)
                if step <= 0 || i128::from(stop) - i128::from(start) > MAX_GEN_KEYS as i128 {
                    return Err(
                        "gen range must have a positive step and fewer than 10^7 values".into(),
                    );
                }
                (start..stop).step_by(step as usize).collect()
            };
            axes.push((name.clone(), values));
        }
        let total = axes
            .iter()
            .try_fold(1usize, |acc, (_, v)| acc.checked_mul(v.len()))
            .filter(|&t| t <= MAX_GEN_KEYS - generated)
            .ok_or_else(|| format!("gen would generate more than {MAX_GEN_KEYS} references"))?;
        generated += total;
        for mut i in 0..total {
            let mut vars = BTreeMap::new();
            for (name, values) in axes.iter().rev() {
                vars.insert(name.clone(), values[i % values.len()].to_string());
                i /= values.len();
            }
            let k = render(key, &vars)?;
            let u = render(url, &vars)?;
            let mut parts = [Some(raw::Part::Str(Cow::Owned(u))), None, None];
            let mut len = 1;
            for field in ["offset", "length"] {
                if let Some(expr) = entry.get(field) {
                    let text = match expr {
                        Value::String(s) => render(s, &vars)?,
                        v => v.to_string(),
                    };
                    let x = text
                        .trim()
                        .parse::<u64>()
                        .map_err(|_| format!("gen {field} {text:?} is not an integer"))?;
                    parts[len] = Some(raw::Part::Uint(x));
                    len += 1;
                }
            }
            raw.push((Cow::Owned(k), RawValue::Array(parts, len)));
        }
    }
    Ok(())
}

type KeyError = (Option<String>, String);

fn parse_ref<'a>(key: &str, v: RawValue<'a>) -> std::result::Result<RawRef<'a>, KeyError> {
    let bad = |reason: String| (Some(key.to_owned()), reason);
    match v {
        RawValue::One(raw::Part::Str(s)) => match s.strip_prefix("base64:") {
            Some(b) => B64
                .decode(b)
                .map(RawRef::Inline)
                .map_err(|e| bad(format!("bad base64: {e}"))),
            None => Ok(RawRef::Inline(s.into_owned().into_bytes())),
        },
        RawValue::Array([url, offset, length], len) => {
            let Some(raw::Part::Str(url)) = url else {
                return Err(bad("reference without a url".into()));
            };
            let number = |part: Option<raw::Part<'_>>, what: &str| match part {
                Some(raw::Part::Uint(x)) => Ok(x),
                _ => Err(bad(format!("{what} is not a non-negative integer"))),
            };
            match len {
                1 => Ok(RawRef::Whole(url)),
                3 => Ok(RawRef::Range(
                    url,
                    number(offset, "offset")?,
                    number(length, "length")?,
                )),
                n => Err(bad(format!("reference has {n} parts (expected 1 or 3)"))),
            }
        }
        RawValue::One(other) => Err(bad(format!("unexpected value {}", other.to_json()))),
    }
}

/// The C-order number of the chunk a key suffix names in `grid` (`"0.3.1"` or `"0/3/1"`; `"0"`
/// for a scalar): `None` when the text is not a chunk key, an error (the grid) when the chunk
/// is outside the grid. Parsed in place: no key is split into a vector.
fn chunk_number(grid: &[u64], suffix: &str) -> Option<std::result::Result<usize, Vec<u64>>> {
    if suffix.is_empty() {
        return None;
    }
    let (mut n, mut dims, mut inside) = (0u64, 0usize, true);
    for part in suffix.split(['.', '/']) {
        let i: u64 = part.parse().ok()?;
        match grid.get(dims) {
            Some(&g) if i < g => n = n * g + i,
            // A scalar's one chunk is "0".
            None if grid.is_empty() && dims == 0 && i == 0 => {}
            _ => inside = false,
        }
        dims += 1;
    }
    inside &= dims == grid.len().max(1);
    Some(
        usize::try_from(n)
            .ok()
            .filter(|_| inside)
            .ok_or_else(|| grid.to_vec()),
    )
}

fn meta_doc(
    raw: &mut BTreeMap<Cow<'_, str>, RawValue<'_>>,
    key: &str,
) -> std::result::Result<Option<Value>, KeyError> {
    let Some(v) = raw.remove(key) else {
        return Ok(None);
    };
    let parsed = match v {
        RawValue::One(raw::Part::Str(s)) => {
            parse_doc(&s).map_err(|e| (Some(key.to_owned()), format!("not JSON: {e}")))?
        }
        RawValue::One(raw::Part::Other(v)) if v.is_object() => *v,
        RawValue::Array(..) => {
            return Err((
                Some(key.to_owned()),
                "metadata given as a reference is not supported".into(),
            ))
        }
        RawValue::One(other) => {
            return Err((
                Some(key.to_owned()),
                format!("unexpected value {}", other.to_json()),
            ))
        }
    };
    Ok(Some(parsed))
}

fn array_meta(
    key: &str,
    zarray: &Value,
    zattrs: Option<Value>,
) -> std::result::Result<ArrayMeta, KeyError> {
    let bad = |reason: &str| (Some(key.to_owned()), reason.to_owned());
    let u64s = |field: &str| -> std::result::Result<Vec<u64>, KeyError> {
        zarray
            .get(field)
            .and_then(Value::as_array)
            .ok_or_else(|| bad(&format!("missing \"{field}\"")))?
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| bad(&format!("\"{field}\" must hold non-negative integers")))
            })
            .collect()
    };
    let shape = u64s("shape")?;
    let chunks = u64s("chunks")?;
    if shape.len() != chunks.len() {
        return Err(bad("\"shape\" and \"chunks\" differ in length"));
    }
    if chunks.contains(&0) {
        return Err(bad("\"chunks\" must be positive"));
    }
    let dtype = zarray
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("missing \"dtype\""))?
        .to_owned();
    let filters = zarray
        .get("filters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let compressor = zarray.get("compressor").filter(|c| !c.is_null()).cloned();
    let mut attrs = match zattrs {
        Some(Value::Object(a)) => a,
        _ => Attrs::new(),
    };
    let dimensions = match attrs.remove("_ARRAY_DIMENSIONS") {
        Some(Value::Array(d)) => d
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        _ => (0..shape.len()).map(|i| format!("dim_{i}")).collect(),
    };
    Ok(ArrayMeta {
        shape,
        chunks,
        dtype,
        fill_value: zarray.get("fill_value").cloned().unwrap_or(Value::Null),
        filters,
        compressor,
        dimensions,
        attrs,
    })
}

/// A store of the metadata documents and references in `raw` (kerchunk keys), urls
/// rendered through `templates`.
pub(super) fn build_store(
    entries: RawRefs<'_>,
    templates: &BTreeMap<String, String>,
) -> std::result::Result<RefStore, KeyError> {
    // Metadata documents by key (`.zarray`, `.zattrs`, `.zgroup`); the rest are chunks.
    let mut raw: BTreeMap<Cow<'_, str>, RawValue<'_>> = BTreeMap::new();
    let mut chunks = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let leaf = key.rsplit_once('/').map_or(&*key, |(_, leaf)| leaf);
        if leaf.starts_with(".z") {
            raw.insert(key, value);
        } else {
            chunks.push((key, value));
        }
    }
    raw.remove(".zmetadata");
    let mut store = RefStore::new();
    let array_paths: Vec<String> = raw
        .keys()
        .filter_map(|k| k.strip_suffix(".zarray"))
        .map(|p| p.trim_end_matches('/').to_owned())
        .collect();
    let group_paths: Vec<String> = raw
        .keys()
        .filter_map(|k| k.strip_suffix(".zgroup"))
        .map(|p| p.trim_end_matches('/').to_owned())
        .collect();
    for path in group_paths {
        raw.remove(join(&path, ".zgroup").as_str());
        let attrs = match meta_doc(&mut raw, &join(&path, ".zattrs"))? {
            Some(Value::Object(a)) => a,
            _ => Attrs::new(),
        };
        store.groups.insert(path, attrs);
    }
    // Arrays by path while their chunks are placed (a handful: found by a scan, the last one
    // found first, as keys of one array come together).
    let mut arrays: Vec<(String, ArrayRefs)> = Vec::with_capacity(array_paths.len());
    for path in array_paths {
        let zkey = join(&path, ".zarray");
        let zarray = meta_doc(&mut raw, &zkey)?.unwrap_or(Value::Null);
        let zattrs = meta_doc(&mut raw, &join(&path, ".zattrs"))?;
        let meta = array_meta(&zkey, &zarray, zattrs)?;
        let grid = if meta.shape.is_empty() {
            vec![]
        } else {
            meta.grid()
        };
        let chunks = ChunkManifest::new(&grid).map_err(|r| (Some(zkey.clone()), r))?;
        arrays.push((path, ArrayRefs { meta, chunks }));
    }
    // Urls as written (a template such as `{{a}}`, usually) to their index: rendered once.
    let mut url_indices: HashMap<Cow<'_, str>, u32> = HashMap::new();
    let mut last_array = 0;
    for (key, value) in raw.into_iter().chain(chunks) {
        let (path, suffix) = key.rsplit_once('/').unwrap_or(("", &key));
        let found = if arrays.get(last_array).is_some_and(|(p, _)| p == path) {
            Some(last_array)
        } else {
            arrays.iter().position(|(p, _)| p == path)
        };
        let Some(k) = found else { continue };
        last_array = k;
        let Some(n) = chunk_number(arrays[k].1.chunks.grid(), suffix) else {
            continue;
        };
        let n = n.map_err(|grid| {
            (
                Some(key.to_string()),
                format!("chunk index outside the grid {grid:?}"),
            )
        })?;
        let (url, offset, length) = match parse_ref(&key, value)? {
            RawRef::Inline(bytes) => {
                arrays[k].1.chunks.set_inline(n, bytes);
                continue;
            }
            RawRef::Range(url, offset, length) => (url, offset, Some(length)),
            RawRef::Whole(url) => (url, 0, None),
        };
        let u = if let Some(&u) = url_indices.get(&url) {
            u
        } else {
            let rendered = render(&url, templates).map_err(|e| (Some(key.to_string()), e))?;
            let u = store.intern_url(&rendered);
            url_indices.insert(url, u);
            u
        };
        let chunks = &mut arrays[k].1.chunks;
        match length {
            Some(length) => chunks.set_range(n, u, offset, length),
            None => chunks.set_whole(n, u),
        }
    }
    for (path, array) in arrays {
        store.arrays.insert(path, array);
    }
    store.add_parent_groups();
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_attributes_are_bare_tokens_and_read_back() {
        let doc = json!({"b": crate::refs::float_attr(f64::NAN), "a": "NaN", "c": [1.5, crate::refs::float_attr(f64::NEG_INFINITY)]});
        let text = doc_text(&doc);
        assert_eq!(text, r#"{"a":"NaN","b":NaN,"c":[1.5,-Infinity]}"#);
        assert_eq!(parse_doc(&text).unwrap(), doc);
        assert!(parse_doc(r#"{"a": "x NaN \" Infinity"}"#).is_ok());
        assert!(parse_doc("{oops").is_err());
    }

    #[test]
    fn chunk_indices_iterate_in_the_order_of_their_text() {
        for n in [
            0u64, 1, 2, 9, 10, 11, 19, 20, 99, 100, 101, 1000, 1234, 24_000,
        ] {
            let mut want: Vec<u64> = (0..n).collect();
            want.sort_by_key(u64::to_string);
            assert_eq!(decimal_order(n), want, "{n}");
        }
    }

    #[test]
    fn chunk_keys_name_their_chunk_or_fall_outside() {
        assert_eq!(chunk_number(&[2, 3], "1.2"), Some(Ok(5)));
        assert_eq!(chunk_number(&[2, 3], "1/2"), Some(Ok(5)));
        assert_eq!(chunk_number(&[2, 3], "0.0"), Some(Ok(0)));
        assert_eq!(chunk_number(&[2, 3], "2.0"), Some(Err(vec![2, 3])));
        assert_eq!(chunk_number(&[2, 3], "1"), Some(Err(vec![2, 3])));
        assert_eq!(chunk_number(&[2, 3], "1.2.0"), Some(Err(vec![2, 3])));
        assert_eq!(chunk_number(&[], "0"), Some(Ok(0)));
        assert_eq!(chunk_number(&[], "1"), Some(Err(vec![])));
        assert_eq!(chunk_number(&[], "0.0"), Some(Err(vec![])));
        assert_eq!(chunk_number(&[4], "x"), None);
        assert_eq!(chunk_number(&[4], ""), None);
        assert_eq!(chunk_number(&[4], "1."), None);
    }

    #[test]
    fn template_names_are_short_and_unique() {
        assert_eq!(template_name(0), "a");
        assert_eq!(template_name(25), "z");
        assert_eq!(template_name(26), "ba");
    }

    #[test]
    fn templates_are_substituted_never_evaluated() {
        let t = BTreeMap::from([("a".to_owned(), "file:///x.nc".to_owned())]);
        assert_eq!(render("{{a}}", &t).unwrap(), "file:///x.nc");
        assert!(render("{{ a.__class__ }}", &t).is_err());
        assert!(render("{{a", &t).is_err());
    }

    #[test]
    fn v0_and_v1_read_the_same() {
        let v0 = br#"{".zgroup":"{\"zarr_format\":2}",
            "x/.zarray":"{\"chunks\":[2],\"compressor\":null,\"dtype\":\"<i2\",\"fill_value\":null,\"filters\":null,\"order\":\"C\",\"shape\":[4],\"zarr_format\":2}",
            "x/.zattrs":"{\"_ARRAY_DIMENSIONS\":[\"x\"]}",
            "x/0":["file:///d.nc",100,4],
            "x/1":"base64:AQACAA=="}"#;
        let s0 = from_json(v0, "v0").unwrap();
        let written = to_json(&s0);
        let s1 = from_json(&written, "v1").unwrap();
        assert_eq!(s0.arrays, s1.arrays);
        assert_eq!(to_json(&s1), written, "serialisation is deterministic");
        let x = &s1.arrays["x"];
        assert_eq!(
            s1.chunk_ref(x, 0),
            ChunkRef::Range {
                url: "file:///d.nc",
                offset: 100,
                length: 4
            }
        );
        assert_eq!(s1.chunk_ref(x, 1), ChunkRef::Inline(&[1, 0, 2, 0]));
    }

    /// Found while writing the `json_store` fuzz target, and reproduced with it: `stop - start`
    /// overflowed (a panic in debug builds, 2^63 keys in release), and ranges within the
    /// per-dimension limit multiplied to 10^14 keys (a hang, then out of memory).
    #[test]
    fn gen_sizes_are_bounded() {
        let gen = |dims: &str| {
            let doc = format!(
                r#"{{"version":1,"refs":{{}},"gen":[{{"key":"v/{{{{i}}}}.{{{{j}}}}","url":"u","dimensions":{dims}}}]}}"#
            );
            from_json(doc.as_bytes(), "gen").map(|_| ())
        };
        let err = gen(r#"{"i":{"start":-9223372036854775808,"stop":1},"j":[0]}"#).unwrap_err();
        assert!(err.to_string().contains("fewer than 10^7 values"), "{err}");
        let err = gen(r#"{"i":{"stop":9999999},"j":{"stop":9999999}}"#).unwrap_err();
        assert!(
            err.to_string().contains("more than 10000000 references"),
            "{err}"
        );
        assert!(gen(r#"{"i":{"stop":3},"j":[0,1]}"#).is_ok());
    }

    #[test]
    fn gen_ranges_expand() {
        let doc = br#"{"version":1,"refs":{"x/.zarray":"{\"chunks\":[1],\"compressor\":null,\"dtype\":\"<i2\",\"fill_value\":null,\"filters\":null,\"order\":\"C\",\"shape\":[3],\"zarr_format\":2}"},
            "gen":[{"key":"x/{{i}}","url":"file:///f{{i}}.nc","offset":"10","length":"2","dimensions":{"i":{"stop":3}}}]}"#;
        let s = from_json(doc, "gen").unwrap();
        let x = &s.arrays["x"];
        assert_eq!(
            s.chunk_ref(x, 2),
            ChunkRef::Range {
                url: "file:///f2.nc",
                offset: 10,
                length: 2
            }
        );
    }
}
