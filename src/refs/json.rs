//! kerchunk JSON reference stores: write version 1, read versions 0 and 1.
//!
//! Writing is deterministic: keys sorted, compact separators, templates named in url order,
//! so the same store always gives the same bytes. Reading treats the store as untrusted: only
//! plain `{{name}}` templates are substituted and only integer `gen` ranges expanded; nothing
//! is ever evaluated.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{json, Value};

use super::model::{ArrayMeta, ArrayRefs, Attrs, ChunkManifest, ChunkRef, RefStore, NON_FINITE};
use crate::error::{Error, Result};

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

/// One entry of `refs`: a metadata document's text, or chunk `n` of an array.
enum Entry<'a> {
    Doc(String),
    Chunk(&'a ArrayRefs, usize),
}

/// Writes `text` as a JSON string (`serde_json`'s escaping).
fn push_str(out: &mut Vec<u8>, text: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, text);
}

/// Writes the reference of chunk `n` as kerchunk JSON, marking the url it uses.
fn push_chunk(out: &mut Vec<u8>, store: &RefStore, array: &ArrayRefs, n: usize, used: &mut [bool]) {
    let mut template = |out: &mut Vec<u8>| {
        let u = array.chunks.url_index(n).unwrap_or_default() as usize;
        if let Some(flag) = used.get_mut(u) {
            *flag = true;
        }
        push_str(out, &format!("{{{{{}}}}}", template_name(u)));
    };
    match store.chunk_ref(array, n) {
        ChunkRef::Missing => {}
        ChunkRef::Inline(bytes) => push_str(out, &format!("base64:{}", B64.encode(bytes))),
        ChunkRef::Range { offset, length, .. } => {
            out.push(b'[');
            template(out);
            let _ = write!(VecWriter(out), ",{offset},{length}]");
        }
        ChunkRef::Whole { .. } => {
            out.push(b'[');
            template(out);
            out.push(b']');
        }
    }
}

/// `fmt::Write` onto a byte buffer.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Serialises a store as kerchunk JSON version 1 with consolidated `.zmetadata`: keys sorted,
/// compact, one template per data url, the same bytes for the same store.
///
/// Written straight into the output, one reference at a time: a store of millions of
/// references costs its keys and its text, not a JSON tree of it.
#[must_use]
pub fn to_json(store: &RefStore) -> Vec<u8> {
    let docs = metadata(store);
    let consolidated = json!({"metadata": docs, "zarr_consolidated_format": 1});
    let mut entries: Vec<(String, Entry<'_>)> = Vec::new();
    entries.push((".zmetadata".into(), Entry::Doc(doc_text(&consolidated))));
    for (key, doc) in &docs {
        entries.push((key.clone(), Entry::Doc(doc_text(doc))));
    }
    for (path, array) in &store.arrays {
        for n in (0..array.chunks.len()).filter(|&n| !array.chunks.is_missing(n)) {
            entries.push((
                format!("{path}/{}", array.chunks.key(n)),
                Entry::Chunk(array, n),
            ));
        }
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    entries.dedup_by(|a, b| a.0 == b.0);
    let mut out = Vec::with_capacity(entries.len() * 40);
    let mut used = vec![false; store.urls().len()];
    out.extend_from_slice(b"{\"refs\":{");
    for (i, (key, entry)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(&mut out, key);
        out.push(b':');
        match entry {
            Entry::Doc(text) => push_str(&mut out, text),
            Entry::Chunk(array, n) => push_chunk(&mut out, store, array, *n, &mut used),
        }
    }
    out.extend_from_slice(b"},\"templates\":{");
    let mut first = true;
    let mut templates: Vec<(String, &String)> = store
        .urls()
        .iter()
        .enumerate()
        .filter(|(i, _)| used[*i])
        .map(|(i, u)| (template_name(i), u))
        .collect();
    templates.sort();
    for (name, url) in templates {
        if !first {
            out.push(b',');
        }
        first = false;
        push_str(&mut out, &name);
        out.push(b':');
        push_str(&mut out, url);
    }
    out.extend_from_slice(b"},\"version\":1}");
    out
}

/// Writes a store as kerchunk JSON to `path` atomically: to a temporary file in the same
/// directory, then renamed, so a crash never leaves a half-written store.
///
/// # Errors
/// Returns [`Error::Io`] when the file cannot be written.
pub fn write(store: &RefStore, path: &std::path::Path) -> Result<()> {
    write_atomic(path, &to_json(store))
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
///
/// A crash of this process never leaves a half-written file. The data is not flushed to
/// disk before the rename (one flush per file cost scans of many small stores three times
/// their time); the operating system writes it out as usual.
///
/// # Errors
/// Returns [`Error::Io`] when the temporary file cannot be written or renamed.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
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
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// A reference as found in a store's `refs`, before it is placed in a manifest.
enum RawRef {
    Inline(Vec<u8>),
    Range(String, u64, u64),
    Whole(String),
}

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
    let doc: Value =
        serde_json::from_slice(bytes).map_err(|e| err(None, format!("not JSON: {e}")))?;
    let Value::Object(mut top) = doc else {
        return Err(err(
            None,
            "not a reference store (expected a JSON object)".into(),
        ));
    };
    let (refs, templates, gen) = match top.get("version") {
        Some(v) if v.as_u64() == Some(1) => {
            let Some(Value::Object(refs)) = top.remove("refs") else {
                return Err(err(
                    None,
                    "version 1 store without a \"refs\" object".into(),
                ));
            };
            let templates = match top.remove("templates") {
                Some(Value::Object(t)) => t,
                _ => serde_json::Map::new(),
            };
            (refs, templates, top.remove("gen"))
        }
        Some(v) => return Err(err(None, format!("unsupported store version {v}"))),
        None => (top, serde_json::Map::new(), None),
    };
    let templates: BTreeMap<String, String> = templates
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect();

    let mut raw: BTreeMap<String, Value> = refs.into_iter().collect();
    if let Some(gen) = gen {
        expand_gen(&gen, &mut raw).map_err(|r| err(Some("gen"), r))?;
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
fn expand_gen(gen: &Value, raw: &mut BTreeMap<String, Value>) -> std::result::Result<(), String> {
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
            let mut r = vec![Value::String(u)];
            for field in ["offset", "length"] {
                if let Some(expr) = entry.get(field) {
                    let text = match expr {
                        Value::String(s) => render(s, &vars)?,
                        v => v.to_string(),
                    };
                    r.push(Value::from(text.trim().parse::<u64>().map_err(|_| {
                        format!("gen {field} {text:?} is not an integer")
                    })?));
                }
            }
            raw.insert(k, Value::Array(r));
        }
    }
    Ok(())
}

type KeyError = (Option<String>, String);

fn parse_ref(
    key: &str,
    v: Value,
    templates: &BTreeMap<String, String>,
) -> std::result::Result<RawRef, KeyError> {
    let bad = |reason: String| (Some(key.to_owned()), reason);
    match v {
        Value::String(s) => match s.strip_prefix("base64:") {
            Some(b) => B64
                .decode(b)
                .map(RawRef::Inline)
                .map_err(|e| bad(format!("bad base64: {e}"))),
            None => Ok(RawRef::Inline(s.into_bytes())),
        },
        Value::Array(parts) => {
            let url = parts
                .first()
                .and_then(Value::as_str)
                .ok_or_else(|| bad("reference without a url".into()))?;
            let url = render(url, templates).map_err(bad)?;
            match parts.len() {
                1 => Ok(RawRef::Whole(url)),
                3 => {
                    let offset = parts[1]
                        .as_u64()
                        .ok_or_else(|| bad("offset is not a non-negative integer".into()))?;
                    let length = parts[2]
                        .as_u64()
                        .ok_or_else(|| bad("length is not a non-negative integer".into()))?;
                    Ok(RawRef::Range(url, offset, length))
                }
                n => Err(bad(format!("reference has {n} parts (expected 1 or 3)"))),
            }
        }
        other => Err(bad(format!("unexpected value {other}"))),
    }
}

fn meta_doc(
    raw: &mut BTreeMap<String, Value>,
    key: &str,
) -> std::result::Result<Option<Value>, KeyError> {
    let Some(v) = raw.remove(key) else {
        return Ok(None);
    };
    let parsed = match v {
        Value::String(s) => {
            parse_doc(&s).map_err(|e| (Some(key.to_owned()), format!("not JSON: {e}")))?
        }
        Value::Object(o) => Value::Object(o),
        Value::Array(_) => {
            return Err((
                Some(key.to_owned()),
                "metadata given as a reference is not supported".into(),
            ))
        }
        other => return Err((Some(key.to_owned()), format!("unexpected value {other}"))),
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
    mut raw: BTreeMap<String, Value>,
    templates: &BTreeMap<String, String>,
) -> std::result::Result<RefStore, KeyError> {
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
        raw.remove(&join(&path, ".zgroup"));
        let attrs = match meta_doc(&mut raw, &join(&path, ".zattrs"))? {
            Some(Value::Object(a)) => a,
            _ => Attrs::new(),
        };
        store.groups.insert(path, attrs);
    }
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
        store.arrays.insert(path, ArrayRefs { meta, chunks });
    }
    for (key, value) in raw {
        let Some((path, chunk)) = key.rsplit_once('/').or(Some(("", key.as_str()))) else {
            continue;
        };
        let Some(array) = store.arrays.get(path) else {
            continue;
        };
        let grid_pos: Option<Vec<u64>> = if chunk.is_empty() {
            None
        } else {
            chunk.split(['.', '/']).map(|p| p.parse().ok()).collect()
        };
        let Some(grid_pos) = grid_pos else { continue };
        let pos: &[u64] = if array.meta.shape.is_empty() && grid_pos == [0] {
            &[]
        } else {
            &grid_pos
        };
        let n = array.chunks.linear(pos).ok_or_else(|| {
            (
                Some(key.clone()),
                format!("chunk index outside the grid {:?}", array.chunks.grid()),
            )
        })?;
        let r = parse_ref(&key, value, templates)?;
        let url_index = match &r {
            RawRef::Range(u, ..) | RawRef::Whole(u) => Some(store.intern_url(u)),
            RawRef::Inline(_) => None,
        };
        let Some(array) = store.arrays.get_mut(path) else {
            continue;
        };
        match (r, url_index) {
            (RawRef::Inline(b), _) => array.chunks.set_inline(n, b),
            (RawRef::Range(_, o, l), Some(u)) => array.chunks.set_range(n, u, o, l),
            (RawRef::Whole(_), Some(u)) => array.chunks.set_whole(n, u),
            _ => {}
        }
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
