//! kerchunk Parquet reference stores (fsspec's `LazyReferenceMapper` layout): write and read.
//!
//! A store is a directory. Its `.zmetadata` is JSON, `{"metadata": {key: document},
//! "record_size": N}`, holding every metadata document (`.zgroup`, `.zattrs`, `.zarray`).
//! Each array's chunk references are in `<array path>/refs.<record>.parq`: chunk number `k`
//! (C order over the chunk grid) is row `k % N` of record `k / N`. The columns are `path`
//! (utf8), `offset` and `size` (int64) and `raw` (binary). A range has all three of path,
//! offset and size; a whole file has its path with offset and size 0; inline bytes are in
//! `raw` with a null path; a missing chunk has a null path and a null `raw`.
//!
//! Writing is deterministic (the same store gives the same files) and atomic: the store is
//! written into a temporary sibling directory that is then renamed into place. Reading treats
//! the store as untrusted: array paths may not leave the directory.

use std::fs::File;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use ::parquet::basic::{Compression, ZstdLevel};
use ::parquet::column::reader::ColumnReaderImpl;
use ::parquet::data_type::{ByteArray, ByteArrayType, DataType, Int64Type};
use ::parquet::file::metadata::KeyValue;
use ::parquet::file::properties::{EnabledStatistics, WriterProperties};
use ::parquet::file::reader::FileReader;
use ::parquet::file::serialized_reader::SerializedFileReader;
use ::parquet::file::writer::SerializedFileWriter;
use ::parquet::schema::parser::parse_message_type;
use serde_json::{json, Value};

use super::json::{build_store, doc_text, metadata, parse_doc};
use super::model::{ArrayRefs, ChunkRef, RefStore};
use crate::error::{Error, Result};

/// The number of chunk references per Parquet file unless told otherwise (`VirtualiZarr`'s
/// choice: large enough that most arrays are one file, small enough to read one quickly).
pub const DEFAULT_RECORD_SIZE: usize = 100_000;

/// The schema of every reference file.
const SCHEMA: &str = "message schema {
    OPTIONAL BYTE_ARRAY path (UTF8);
    REQUIRED INT64 offset;
    REQUIRED INT64 size;
    OPTIONAL BYTE_ARRAY raw;
}";

/// The pandas metadata of every reference file: readers that build a pandas `DataFrame`
/// (fsspec through fastparquet or pyarrow) take `offset` and `size` as int64 from it, not as
/// floats that may hold nulls, and `path` and `raw` as Python objects.
const PANDAS_METADATA: &str = concat!(
    r#"{"column_indexes":[],"columns":["#,
    r#"{"field_name":"path","metadata":null,"name":"path","numpy_type":"object","pandas_type":"unicode"},"#,
    r#"{"field_name":"offset","metadata":null,"name":"offset","numpy_type":"int64","pandas_type":"int64"},"#,
    r#"{"field_name":"size","metadata":null,"name":"size","numpy_type":"int64","pandas_type":"int64"},"#,
    r#"{"field_name":"raw","metadata":null,"name":"raw","numpy_type":"object","pandas_type":"bytes"}],"#,
    r#""creator":{"library":"chunkref","version":""#,
    env!("CARGO_PKG_VERSION"),
    r#""},"index_columns":[],"partition_columns":[]}"#
);

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

fn pq_err(path: &Path) -> impl Fn(::parquet::errors::ParquetError) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// The path of reference file `record` of the array at `array` (`"grp/v"`) under `root`.
fn record_path(root: &Path, array: &str, record: usize) -> PathBuf {
    let mut p = root.to_owned();
    p.extend(array.split('/'));
    p.join(format!("refs.{record}.parq"))
}

/// The `.zmetadata` text of a store: every metadata document and the record size (and the
/// consolidated-metadata marker, so that zarr may also read it as consolidated metadata).
#[must_use]
pub fn zmetadata(store: &RefStore, record_size: usize) -> String {
    doc_text(&json!({
        "metadata": metadata(store),
        "record_size": record_size,
        "zarr_consolidated_format": 1,
    }))
}

/// Writes one reference file: chunks `range` of `array`.
fn write_record(
    store: &RefStore,
    array: &ArrayRefs,
    range: std::ops::Range<usize>,
    path: &Path,
) -> Result<()> {
    let rows = range.len();
    let mut paths = Vec::new();
    let mut path_def = Vec::with_capacity(rows);
    let mut offsets = Vec::with_capacity(rows);
    let mut sizes = Vec::with_capacity(rows);
    let mut raws = Vec::new();
    let mut raw_def = Vec::with_capacity(rows);
    for n in range {
        let (url, offset, size, raw) = match store.chunk_ref(array, n) {
            ChunkRef::Missing => (None, 0, 0, None),
            ChunkRef::Inline(bytes) => (None, 0, 0, Some(bytes)),
            ChunkRef::Range {
                url,
                offset,
                length,
            } => (Some(url), offset, length, None),
            ChunkRef::Whole { url } => (Some(url), 0, 0, None),
        };
        path_def.push(i16::from(url.is_some()));
        if let Some(url) = url {
            paths.push(ByteArray::from(url.as_bytes().to_vec()));
        }
        raw_def.push(i16::from(raw.is_some()));
        if let Some(raw) = raw {
            raws.push(ByteArray::from(raw.to_vec()));
        }
        offsets.push(i64::try_from(offset).unwrap_or(i64::MAX));
        sizes.push(i64::try_from(size).unwrap_or(i64::MAX));
    }
    let err = pq_err(path);
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(&err)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_statistics_enabled(EnabledStatistics::None)
            .set_created_by(format!("chunkref {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "pandas".to_owned(),
                PANDAS_METADATA.to_owned(),
            )]))
            .build(),
    );
    let file = File::create(path).map_err(io_err(path))?;
    let mut writer = SerializedFileWriter::new(file, schema, props).map_err(&err)?;
    let mut group = writer.next_row_group().map_err(&err)?;
    let mut index = 0;
    while let Some(mut column) = group.next_column().map_err(&err)? {
        let written = match index {
            0 => column
                .typed::<ByteArrayType>()
                .write_batch(&paths[..], Some(&path_def), None),
            1 => column
                .typed::<Int64Type>()
                .write_batch(&offsets[..], None, None),
            2 => column
                .typed::<Int64Type>()
                .write_batch(&sizes[..], None, None),
            _ => column
                .typed::<ByteArrayType>()
                .write_batch(&raws[..], Some(&raw_def), None),
        };
        written.map_err(&err)?;
        column.close().map_err(&err)?;
        index += 1;
    }
    group.close().map_err(&err)?;
    writer.close().map_err(&err)?;
    Ok(())
}

/// Writes every file of the store into the directory `dir`, which exists and is empty.
fn write_files(store: &RefStore, dir: &Path, record_size: usize) -> Result<()> {
    let meta = dir.join(".zmetadata");
    std::fs::write(&meta, zmetadata(store, record_size)).map_err(io_err(&meta))?;
    for (path, array) in &store.arrays {
        let n = array.chunks.len();
        for record in 0..n.div_ceil(record_size) {
            let file = record_path(dir, path, record);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
            }
            let start = record * record_size;
            let end = (start + record_size).min(n);
            write_record(store, array, start..end, &file)?;
        }
    }
    Ok(())
}

/// Writes a store as a kerchunk Parquet store at the directory `dir`, `record_size` chunk
/// references per file ([`DEFAULT_RECORD_SIZE`] is the usual choice).
///
/// Atomic: the store is written into a temporary sibling directory, which is renamed into
/// place; an existing store (or file) at `dir` is first renamed aside, and removed once the
/// new one is in place. A crash never leaves a half-written store at `dir`.
///
/// # Errors
/// Returns [`Error::InvalidArgument`] for a record size of 0 and [`Error::Io`] when a file
/// cannot be written or renamed.
pub fn write(store: &RefStore, dir: &Path, record_size: usize) -> Result<()> {
    if record_size == 0 {
        return Err(Error::InvalidArgument(
            "the record size must be at least 1".into(),
        ));
    }
    let parent = match dir.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pid = std::process::id();
    let tmp = parent.join(format!(".{name}.{pid}.tmp"));
    let old = parent.join(format!(".{name}.{pid}.old"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    if let Err(e) = write_files(store, &tmp, record_size) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let existing = std::fs::symlink_metadata(dir).ok();
    if existing.is_some() {
        if let Err(e) = std::fs::rename(dir, &old) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(io_err(dir)(e));
        }
    }
    if let Err(e) = std::fs::rename(&tmp, dir) {
        // Put the old store back: nothing changed.
        if existing.is_some() {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(io_err(dir)(e));
    }
    match existing {
        Some(m) if m.is_dir() => std::fs::remove_dir_all(&old).map_err(io_err(&old)),
        Some(_) => std::fs::remove_file(&old).map_err(io_err(&old)),
        None => Ok(()),
    }
}

/// Whether `path` names a Parquet store by its name: it ends in `.parq` or `.parquet`.
#[must_use]
pub fn is_parquet_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parq") || e.eq_ignore_ascii_case("parquet"))
}

/// One column of a reference file, one value per row (`None` for a null), read from every
/// row group.
fn read_column<T: DataType>(
    file: &SerializedFileReader<File>,
    index: usize,
) -> std::result::Result<Vec<Option<T::T>>, String>
where
    T::T: Clone,
{
    let mut out = Vec::new();
    for g in 0..file.metadata().num_row_groups() {
        let group = file.get_row_group(g).map_err(|e| e.to_string())?;
        let rows = usize::try_from(group.metadata().num_rows()).unwrap_or(0);
        let max_def = group
            .metadata()
            .column(index)
            .column_descr()
            .max_def_level();
        let reader = group.get_column_reader(index).map_err(|e| e.to_string())?;
        let mut reader: ColumnReaderImpl<T> =
            T::get_column_reader(reader).ok_or("unexpected column type")?;
        let mut values = Vec::new();
        let mut defs = Vec::new();
        let mut done = 0;
        while done < rows {
            let (records, _, _) = reader
                .read_records(
                    rows - done,
                    (max_def > 0).then_some(&mut defs),
                    None,
                    &mut values,
                )
                .map_err(|e| e.to_string())?;
            if records == 0 {
                break;
            }
            done += records;
        }
        if max_def > 0 {
            let mut values = values.into_iter();
            for d in defs {
                out.push(if d == max_def { values.next() } else { None });
            }
        } else {
            out.extend(values.into_iter().map(Some));
        }
    }
    Ok(out)
}

/// The references of one file, by column: path, offset, size and raw (any may be absent).
struct Record {
    path: Vec<Option<ByteArray>>,
    offset: Vec<Option<i64>>,
    size: Vec<Option<i64>>,
    raw: Vec<Option<ByteArray>>,
}

fn read_record(path: &Path) -> std::result::Result<Record, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let file = SerializedFileReader::new(file).map_err(|e| e.to_string())?;
    let mut record = Record {
        path: Vec::new(),
        offset: Vec::new(),
        size: Vec::new(),
        raw: Vec::new(),
    };
    let columns: Vec<String> = file
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.path().string())
        .collect();
    for (i, name) in columns.iter().enumerate() {
        let bad = |e: String| format!("column {name:?}: {e}");
        match name.as_str() {
            "path" => record.path = read_column::<ByteArrayType>(&file, i).map_err(bad)?,
            "raw" => record.raw = read_column::<ByteArrayType>(&file, i).map_err(bad)?,
            "offset" => record.offset = read_column::<Int64Type>(&file, i).map_err(bad)?,
            "size" => record.size = read_column::<Int64Type>(&file, i).map_err(bad)?,
            _ => {}
        }
    }
    Ok(record)
}

/// Whether an array path from an untrusted store stays inside the store directory.
fn safe_array_path(path: &str) -> bool {
    !path.is_empty()
        && path
            .split('/')
            .all(|part| matches!(Path::new(part).components().next(), Some(Component::Normal(p)) if p == part))
}

/// Reads a kerchunk Parquet store from the directory `dir`. `name` labels errors.
///
/// # Errors
/// Returns [`Error::Store`] when there is no `.zmetadata` or the store is malformed, and
/// [`Error::Io`] when a file cannot be read. A missing reference file means its chunks are missing, as in fsspec.
pub fn read(dir: &Path, name: &str) -> Result<RefStore> {
    let err = |key: Option<&str>, reason: String| Error::Store {
        store: name.to_owned(),
        key: key.map(str::to_owned),
        reason,
    };
    let meta_path = dir.join(".zmetadata");
    let text = std::fs::read_to_string(&meta_path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            err(
                None,
                "a directory without .zmetadata: not a kerchunk Parquet store".into(),
            )
        } else {
            io_err(&meta_path)(e)
        }
    })?;
    let doc = parse_doc(&text).map_err(|e| err(Some(".zmetadata"), format!("not JSON: {e}")))?;
    let record_size = doc
        .get("record_size")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            err(
                Some(".zmetadata"),
                "no positive integer \"record_size\"".into(),
            )
        })?;
    let Some(Value::Object(docs)) = doc.get("metadata") else {
        return Err(err(Some(".zmetadata"), "no \"metadata\" object".into()));
    };
    let raw = docs
        .iter()
        .map(|(k, v)| (k.clone().into(), v.clone().into()))
        .collect();
    let mut store = build_store(raw, &std::collections::BTreeMap::new())
        .map_err(|(key, reason)| err(key.as_deref(), reason))?;
    let paths: Vec<String> = store.arrays.keys().cloned().collect();
    for path in paths {
        if !safe_array_path(&path) {
            return Err(err(
                Some(&path),
                "array path leaves the store directory".into(),
            ));
        }
        let Some(mut array) = store.arrays.remove(&path) else {
            continue;
        };
        let n = array.chunks.len();
        for record in 0..n.div_ceil(record_size) {
            let file = record_path(dir, &path, record);
            if !file.exists() {
                continue;
            }
            let key = format!("{path}/refs.{record}.parq");
            let refs = read_record(&file).map_err(|r| err(Some(&key), r))?;
            let start = record * record_size;
            let rows = refs.path.len().max(refs.raw.len());
            for i in 0..rows.min(record_size).min(n - start) {
                let k = start + i;
                if let Some(Some(raw)) = refs.raw.get(i) {
                    array.chunks.set_inline(k, raw.data().to_vec());
                    continue;
                }
                let Some(Some(url)) = refs.path.get(i) else {
                    continue;
                };
                let url = std::str::from_utf8(url.data())
                    .map_err(|_| err(Some(&key), format!("row {i}: path is not UTF-8")))?;
                let number = |col: &[Option<i64>]| -> Result<u64> {
                    let v = col.get(i).copied().flatten().unwrap_or(0);
                    u64::try_from(v)
                        .map_err(|_| err(Some(&key), format!("row {i}: negative offset or size")))
                };
                let (offset, size) = (number(&refs.offset)?, number(&refs.size)?);
                let u = store.intern_url(url);
                if offset == 0 && size == 0 {
                    array.chunks.set_whole(k, u);
                } else {
                    array.chunks.set_range(k, u, offset, size);
                }
            }
        }
        store.arrays.insert(path, array);
    }
    store.renumber_urls();
    Ok(store)
}
