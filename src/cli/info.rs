//! `chunkref info`: what a reference store holds, in the manner of `ncdump -h`.

// The doc comments of clap structs here are --help text, printed as written: no Markdown.
#![allow(clippy::doc_markdown)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use chunkref::refs::{ArrayRefs, Attrs, RefStore, StoreStats};
use serde_json::Value;

/// Describe a reference store: groups, dimensions, variables, dtypes, chunking, codecs,
/// attributes, and how many chunks and bytes each variable references.
///
/// The layout follows ncdump -h; each variable line ends with a comment giving the Zarr
/// dtype, the chunk shape, the codecs in order, the number of chunks present out of the grid
/// (missing ones read as the fill value) and the bytes referenced.
///
/// Example:
///
///   chunkref info era5.json
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct InfoArgs {
    /// The reference store: a kerchunk JSON file (version 0 or 1), path or file:// url.
    #[arg(value_name = "STORE")]
    store: String,
}

pub(crate) fn run(args: &InfoArgs) -> anyhow::Result<ExitCode> {
    let ds = chunkref::open(&args.store)?;
    print!("{}", describe(&args.store, ds.store()));
    Ok(ExitCode::SUCCESS)
}

/// netCDF's name for a Zarr dtype.
fn type_name(dtype: &str) -> String {
    let code = dtype.get(1..).unwrap_or(dtype);
    match code {
        "f4" => "float".into(),
        "f8" => "double".into(),
        "f2" => "half".into(),
        "i1" => "byte".into(),
        "u1" => "ubyte".into(),
        "i2" => "short".into(),
        "u2" => "ushort".into(),
        "i4" => "int".into(),
        "u4" => "uint".into(),
        "i8" => "int64".into(),
        "u8" => "uint64".into(),
        "b1" => "bool".into(),
        "O" => "string".into(),
        s if s.starts_with('S') => format!("char{}", &s[1..]),
        other => other.into(),
    }
}

fn format_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Array(items) => items
            .iter()
            .map(format_value)
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

fn codec_names(array: &ArrayRefs) -> String {
    let all = array
        .meta
        .filters
        .iter()
        .chain(array.meta.compressor.iter());
    let names: Vec<String> = all
        .map(|c| {
            let id = c.get("id").and_then(Value::as_str).unwrap_or("?");
            match c
                .get("level")
                .or_else(|| c.get("elementsize"))
                .or_else(|| c.get("clevel"))
            {
                Some(p) => format!("{id}({p})"),
                None => id.to_owned(),
            }
        })
        .collect();
    if names.is_empty() {
        "no codecs".into()
    } else {
        names.join(" ")
    }
}

fn write_attrs(out: &mut String, owner: &str, attrs: &Attrs, indent: &str) {
    for (k, v) in attrs {
        let _ = writeln!(out, "{indent}{owner}:{k} = {} ;", format_value(v));
    }
}

fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn leaf(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, l)| l)
}

fn describe_group(out: &mut String, store: &RefStore, group: &str, depth: usize) {
    let pad = "  ".repeat(depth);
    let name = if group.is_empty() { "/" } else { leaf(group) };
    let _ = writeln!(out, "{pad}group: {name} {{");
    let arrays: Vec<(&String, &ArrayRefs)> = store
        .arrays
        .iter()
        .filter(|(p, _)| parent(p) == group)
        .collect();
    let mut dims: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, a) in &arrays {
        for (d, &n) in a.meta.dimensions.iter().zip(&a.meta.shape) {
            dims.entry(d.as_str()).or_insert(n);
        }
    }
    if !dims.is_empty() {
        let _ = writeln!(out, "{pad}  dimensions:");
        for (d, n) in dims {
            let _ = writeln!(out, "{pad}        {d} = {n} ;");
        }
    }
    if !arrays.is_empty() {
        let _ = writeln!(out, "{pad}  variables:");
    }
    for (path, a) in arrays {
        let var = leaf(path);
        let StoreStats {
            chunks: present,
            bytes,
            ..
        } = store.array_stats(a);
        let dims = if a.meta.dimensions.is_empty() {
            String::new()
        } else {
            format!("({})", a.meta.dimensions.join(", "))
        };
        let _ = writeln!(
            out,
            "{pad}        {} {var}{dims} ;  // {}, chunks ({}), {}, {present}/{} chunks, {}",
            type_name(&a.meta.dtype),
            a.meta.dtype,
            a.meta
                .chunks
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            codec_names(a),
            a.chunks.len(),
            human_bytes(bytes),
        );
        write_attrs(out, var, &a.meta.attrs, &format!("{pad}                "));
    }
    if let Some(attrs) = store.groups.get(group).filter(|a| !a.is_empty()) {
        let _ = writeln!(
            out,
            "\n{pad}  // {} attributes:",
            if group.is_empty() { "global" } else { "group" }
        );
        write_attrs(out, "", attrs, &format!("{pad}                "));
    }
    for child in store
        .groups
        .keys()
        .filter(|g| !g.is_empty() && parent(g) == group)
    {
        let _ = writeln!(out);
        describe_group(out, store, child, depth + 1);
    }
    let _ = writeln!(out, "{pad}}}");
}

/// The whole description of a store.
pub(crate) fn describe(name: &str, store: &RefStore) -> String {
    let stats = store.stats();
    let mut out = format!(
        "store {name}: {} variables, {} chunks ({} inline), {} referenced in {} file(s)\n",
        stats.variables,
        stats.chunks,
        stats.inline_chunks,
        human_bytes(stats.bytes),
        store.urls().len()
    );
    describe_group(&mut out, store, "", 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netcdf_type_names() {
        assert_eq!(type_name("<f4"), "float");
        assert_eq!(type_name(">i2"), "short");
        assert_eq!(type_name("|S12"), "char12");
        assert_eq!(human_bytes(2048), "2.0 KiB");
    }
}
