//! The single place where a path or url becomes an object store and bytes.
//!
//! [`classify`] is pure: it tells a local path (plain, relative or `file://`) from a remote url
//! (`s3://`, `gs://`, `az://`, `http(s)://`) without touching anything. [`read_all`],
//! [`read_ranges`] and [`size`] then fetch bytes through `object_store`, with one store cached
//! per scheme and host. Remote schemes are recognised but not yet served: opening one is a clear
//! error from [`store_for`], the one place where their backends will plug in.
//!
//! Fetching is strict: a missing object, a range past the end of a file or a short read is an
//! [`Error::Fetch`] naming the url and the byte range, never a silently short or zero-filled
//! buffer. This module knows nothing of Zarr, chunks or reference stores.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Component, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use bytes::Bytes;
use futures::executor::block_on;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Ranges of one file separated by at most this many bytes are fetched as one request.
///
/// For local files a read call costs about as much as copying a few tens of KiB, so the gap is
/// kept small: a sparse selection never reads much it does not need. Remote backends, where a
/// request costs as much as a megabyte of transfer, will want a larger gap (`object_store` uses
/// 1 MiB); change it here, nowhere else.
pub const COALESCE_GAP: u64 = 64 * 1024;

/// A request longer than this is checked against the file's size before its buffer is
/// allocated, so that a corrupt or hostile reference (a length of 10^18) is an error, not an
/// out-of-memory abort.
const CHECK_SIZE_ABOVE: u64 = 64 * 1024 * 1024;

/// Where a path or url points: the kind of store, and for remote stores the bucket or host.
///
/// Values of this type are also the keys of the store cache: one store per scheme and host.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// The local file system (plain paths and `file://` urls).
    Local,
    /// Amazon S3 (`s3://bucket/key`, `s3a://`).
    S3 {
        /// The bucket.
        bucket: String,
    },
    /// Google Cloud Storage (`gs://bucket/key`, `gcs://`).
    Gcs {
        /// The bucket.
        bucket: String,
    },
    /// Azure Blob Storage (`az://container/key`, `abfs://`, `abfss://`, `azure://`).
    Azure {
        /// The container, with the account when the url names one (`container@account...`).
        container: String,
    },
    /// HTTP(S) (`https://host/path`).
    Http {
        /// Scheme, host and port: `https://example.com:8080`.
        base: String,
    },
}

impl Scheme {
    /// The url scheme name used in messages (`file`, `s3`, `gs`, `az`, `http`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Local => "file",
            Self::S3 { .. } => "s3",
            Self::Gcs { .. } => "gs",
            Self::Azure { .. } => "az",
            Self::Http { .. } => "http",
        }
    }
}

/// Whether `s` starts like a url (`scheme://`); anything else is a local path.
///
/// A one-letter scheme is a Windows drive (`C://data`), not a url.
fn url_scheme(s: &str) -> Option<&str> {
    let (scheme, _) = s.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && scheme.len() > 1;
    valid.then_some(scheme)
}

fn invalid(s: &str, reason: &str) -> Error {
    Error::InvalidArgument(format!("{s:?}: {reason}"))
}

/// Splits a path or url into the store it lives in and its path inside that store.
///
/// Local paths are returned as given (a relative path stays relative; see [`absolute`]), and
/// `file://` urls as the file system path they name, as written (fsspec does not
/// percent-decode them either). For remote urls the path
/// is the object key inside the bucket, container or host, without a leading `/`.
///
/// # Errors
/// Returns [`Error::InvalidArgument`] for an empty string, a malformed url, a `file://` url on
/// another host, a remote url without a bucket, or a scheme chunkref does not know.
pub fn classify(s: &str) -> Result<(Scheme, String)> {
    if s.is_empty() {
        return Err(invalid(s, "empty path"));
    }
    let Some(scheme) = url_scheme(s) else {
        return Ok((Scheme::Local, s.to_owned()));
    };
    if scheme.eq_ignore_ascii_case("file") {
        return Ok((Scheme::Local, file_url_path(s)?));
    }
    let url = url::Url::parse(s).map_err(|e| invalid(s, &format!("not a valid url: {e}")))?;
    let key = url.path().trim_start_matches('/').to_owned();
    let host = url.host_str().filter(|h| !h.is_empty()).map(str::to_owned);
    let bucket = || {
        host.clone()
            .ok_or_else(|| invalid(s, "url has no bucket or host"))
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "s3" | "s3a" => Scheme::S3 { bucket: bucket()? },
        "gs" | "gcs" => Scheme::Gcs { bucket: bucket()? },
        "az" | "azure" | "abfs" | "abfss" | "adl" => {
            let container = match url.username() {
                "" => bucket()?,
                user => format!("{user}@{}", bucket()?),
            };
            Scheme::Azure { container }
        }
        "http" | "https" => {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            Scheme::Http {
                base: format!("{}://{}{port}", url.scheme(), bucket()?),
            }
        }
        other => return Err(invalid(s, &format!("unknown url scheme {other:?}"))),
    };
    Ok((scheme, key))
}

/// The path of a `file://` url, taken as written (not percent-decoded), as fsspec does.
fn file_url_path(s: &str) -> Result<String> {
    let rest = &s["file://".len()..];
    let path = rest.strip_prefix("localhost").unwrap_or(rest);
    if path.starts_with('/') {
        Ok(path.to_owned())
    } else {
        Err(invalid(s, "file url must name a local absolute path"))
    }
}

/// `path` made absolute against the current directory, with `.` and `..` folded lexically
/// (object store paths may not contain them). Symlinks are left alone.
///
/// # Errors
/// Returns [`Error::InvalidArgument`] when the current directory cannot be determined.
pub fn absolute(path: &str) -> Result<PathBuf> {
    let abs = std::path::absolute(path).map_err(|e| invalid(path, &e.to_string()))?;
    let mut out = PathBuf::new();
    for part in abs.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Resolves a reference url found in a store: a relative local path is taken relative to the
/// directory of the store at `store_location`; anything else is returned unchanged.
#[must_use]
pub fn resolve(url: &str, store_location: Option<&str>) -> String {
    let relative =
        matches!(classify(url), Ok((Scheme::Local, p)) if std::path::Path::new(&p).is_relative());
    let base = match store_location.map(classify) {
        Some(Ok((Scheme::Local, store))) if relative => store,
        _ => return url.to_owned(),
    };
    match std::path::Path::new(&base).parent() {
        Some(dir) => dir.join(url).to_string_lossy().into_owned(),
        None => url.to_owned(),
    }
}

/// Whether `path_or_url` names a local directory (e.g. a kerchunk Parquet store).
#[must_use]
pub fn is_local_dir(path_or_url: &str) -> bool {
    matches!(classify(path_or_url), Ok((Scheme::Local, p)) if std::path::Path::new(&p).is_dir())
}

type StoreCache = Mutex<HashMap<Scheme, Arc<dyn ObjectStore>>>;
static STORES: LazyLock<StoreCache> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The object store serving `scheme`, built once and cached.
///
/// This is where remote backends plug in: today only [`Scheme::Local`] is served.
///
/// # Errors
/// Returns [`Error::Fetch`] naming `url` for a remote scheme, which is not supported yet.
pub fn store_for(scheme: &Scheme, url: &str) -> Result<Arc<dyn ObjectStore>> {
    let mut stores = STORES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(store) = stores.get(scheme) {
        return Ok(Arc::clone(store));
    }
    let store: Arc<dyn ObjectStore> = match scheme {
        Scheme::Local => Arc::new(LocalFileSystem::new()),
        remote => {
            return Err(Error::Fetch {
                url: url.to_owned(),
                reason: format!("remote scheme {} is not supported yet", remote.name()),
            })
        }
    };
    stores.insert(scheme.clone(), Arc::clone(&store));
    Ok(store)
}

/// The store and the object path of `url`.
fn locate(url: &str) -> Result<(Arc<dyn ObjectStore>, ObjectPath)> {
    let (scheme, path) = classify(url)?;
    let store = store_for(&scheme, url)?;
    let location = match scheme {
        Scheme::Local => ObjectPath::from_absolute_path(absolute(&path)?),
        _ => ObjectPath::parse(&path),
    }
    .map_err(|e| Error::Fetch {
        url: url.to_owned(),
        reason: format!("invalid path: {e}"),
    })?;
    Ok((store, location))
}

fn fetch_error(url: &str, what: &str, e: &object_store::Error) -> Error {
    let reason = match e {
        object_store::Error::NotFound { .. } => format!("{what}: no such file or object"),
        other => format!("{what}: {other}"),
    };
    Error::Fetch {
        url: url.to_owned(),
        reason,
    }
}

/// Reads the whole of the file or object at `path_or_url` (a store document, a whole-file
/// chunk reference).
///
/// # Errors
/// Returns [`Error::Fetch`] when it is missing or unreadable, [`Error::InvalidArgument`] when
/// the path or url is malformed.
pub fn read_all(path_or_url: &str) -> Result<Bytes> {
    let (store, location) = locate(path_or_url)?;
    let what = "reading the whole file";
    let result = block_on(store.get(&location)).map_err(|e| fetch_error(path_or_url, what, &e))?;
    block_on(result.bytes()).map_err(|e| fetch_error(path_or_url, what, &e))
}

/// The size in bytes of the file or object at `url`.
///
/// # Errors
/// Returns [`Error::Fetch`] when it is missing or unreadable.
pub fn size(url: &str) -> Result<u64> {
    let (store, location) = locate(url)?;
    let meta =
        block_on(store.head(&location)).map_err(|e| fetch_error(url, "reading its size", &e))?;
    Ok(meta.size)
}

/// Merges ranges whose gap is at most `gap` bytes; the result is sorted and disjoint.
fn coalesce(ranges: &[Range<u64>], gap: u64) -> Vec<Range<u64>> {
    let mut sorted: Vec<Range<u64>> = ranges.to_vec();
    sorted.sort_unstable_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<u64>> = Vec::with_capacity(sorted.len());
    for r in sorted {
        match merged.last_mut() {
            Some(last) if r.start <= last.end.saturating_add(gap) => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// Fetches `requests` (sorted, disjoint) from one object, spread over the rayon pool so that
/// many chunks are read at once; each returned buffer is checked to be exactly as long as asked.
fn fetch_merged(url: &str, requests: &[Range<u64>]) -> Result<Vec<Bytes>> {
    let (store, location) = locate(url)?;
    let per_task = requests
        .len()
        .div_ceil(rayon::current_num_threads().max(1))
        .max(1);
    let batches: Vec<Vec<Bytes>> = requests
        .par_chunks(per_task)
        .map(|batch| {
            let got = block_on(store.get_ranges(&location, batch))
                .map_err(|e| range_error(url, batch, &e))?;
            check_lengths(url, batch, &got)?;
            Ok(got)
        })
        .collect::<Result<_>>()?;
    Ok(batches.into_iter().flatten().collect())
}

/// The error for a failed read of `batch`: a range past the end of the file is said so, with
/// the file's size, rather than in `object_store`'s words.
fn range_error(url: &str, batch: &[Range<u64>], e: &object_store::Error) -> Error {
    if !matches!(e, object_store::Error::NotFound { .. }) {
        if let Ok(len) = size(url) {
            if let Some(r) = batch.iter().find(|r| r.end > len) {
                return Error::Fetch {
                    url: url.to_owned(),
                    reason: format!(
                        "bytes {}..{} reach past the end of the file ({len} bytes)",
                        r.start, r.end
                    ),
                };
            }
        }
    }
    let what = match (batch.first(), batch.last()) {
        (Some(a), Some(b)) => format!("reading bytes {}..{}", a.start, b.end),
        _ => "reading".to_owned(),
    };
    fetch_error(url, &what, e)
}

fn check_within_file(url: &str, ranges: &[Range<u64>]) -> Result<()> {
    let len = size(url)?;
    match ranges.iter().find(|r| r.end > len) {
        Some(r) => Err(Error::Fetch {
            url: url.to_owned(),
            reason: format!(
                "bytes {}..{} reach past the end of the file ({len} bytes)",
                r.start, r.end
            ),
        }),
        None => Ok(()),
    }
}

fn check_lengths(url: &str, asked: &[Range<u64>], got: &[Bytes]) -> Result<()> {
    if asked.len() != got.len() {
        return Err(Error::Fetch {
            url: url.to_owned(),
            reason: format!("asked for {} byte ranges, got {}", asked.len(), got.len()),
        });
    }
    for (range, bytes) in asked.iter().zip(got) {
        if bytes.len() as u64 != range.end - range.start {
            return Err(Error::Fetch {
                url: url.to_owned(),
                reason: format!(
                    "short read of bytes {}..{}: got {} bytes",
                    range.start,
                    range.end,
                    bytes.len()
                ),
            });
        }
    }
    Ok(())
}

/// Reads `ranges` (byte offsets, end exclusive) of the file or object at `url`, in the order
/// given. Ranges closer than [`COALESCE_GAP`] are fetched as one request and the requests run
/// in parallel.
///
/// # Errors
/// Returns [`Error::Fetch`] naming the url and range when the file is missing, a range ends
/// past the end of the file or a read comes back short; [`Error::InvalidArgument`] for a
/// range whose end is before its start.
pub fn read_ranges(url: &str, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
    if let Some(bad) = ranges.iter().find(|r| r.end < r.start) {
        return Err(invalid(
            url,
            &format!(
                "byte range {}..{} ends before it starts",
                bad.start, bad.end
            ),
        ));
    }
    if ranges.is_empty() {
        return Ok(Vec::new());
    }
    let merged = coalesce(ranges, COALESCE_GAP);
    if merged.iter().any(|r| r.end - r.start > CHECK_SIZE_ABOVE) {
        check_within_file(url, &merged)?;
    }
    let fetched = fetch_merged(url, &merged)?;
    ranges
        .iter()
        .map(|r| {
            let i = merged
                .partition_point(|m| m.start <= r.start)
                .saturating_sub(1);
            let (m, bytes) = merged
                .get(i)
                .zip(fetched.get(i))
                .ok_or_else(|| Error::Fetch {
                    url: url.to_owned(),
                    reason: format!("bytes {}..{} were not fetched", r.start, r.end),
                })?;
            let start = usize::try_from(r.start - m.start).unwrap_or(usize::MAX);
            let end = usize::try_from(r.end - m.start).unwrap_or(usize::MAX);
            bytes
                .get(start..end)
                .map(|_| bytes.slice(start..end))
                .ok_or_else(|| Error::Fetch {
                    url: url.to_owned(),
                    reason: format!("short read of bytes {}..{}", r.start, r.end),
                })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn classify_table() {
        let s3 = |b: &str| Scheme::S3 { bucket: b.into() };
        let cases: Vec<(&str, (Scheme, &str))> = vec![
            ("/data/x.nc", (Scheme::Local, "/data/x.nc")),
            ("data/x.nc", (Scheme::Local, "data/x.nc")),
            ("./x.nc", (Scheme::Local, "./x.nc")),
            ("x:2020.nc", (Scheme::Local, "x:2020.nc")),
            ("C://data/x.nc", (Scheme::Local, "C://data/x.nc")),
            ("file:///data/x.nc", (Scheme::Local, "/data/x.nc")),
            // Taken as written, as fsspec does: no percent-decoding.
            ("file:///data/a%20b.nc", (Scheme::Local, "/data/a%20b.nc")),
            ("file:///data/a b.nc", (Scheme::Local, "/data/a b.nc")),
            ("file://localhost/data/x.nc", (Scheme::Local, "/data/x.nc")),
            ("s3://bucket/era5/x.nc", (s3("bucket"), "era5/x.nc")),
            ("s3a://bucket/x.nc", (s3("bucket"), "x.nc")),
            ("gs://b/x.nc", (Scheme::Gcs { bucket: "b".into() }, "x.nc")),
            ("gcs://b/x.nc", (Scheme::Gcs { bucket: "b".into() }, "x.nc")),
            (
                "az://c/x.nc",
                (
                    Scheme::Azure {
                        container: "c".into(),
                    },
                    "x.nc",
                ),
            ),
            (
                "abfss://c@acct.dfs.core.windows.net/d/x.nc",
                (
                    Scheme::Azure {
                        container: "c@acct.dfs.core.windows.net".into(),
                    },
                    "d/x.nc",
                ),
            ),
            (
                "https://example.com/d/x.nc",
                (
                    Scheme::Http {
                        base: "https://example.com".into(),
                    },
                    "d/x.nc",
                ),
            ),
            (
                "http://h:8080/x.nc",
                (
                    Scheme::Http {
                        base: "http://h:8080".into(),
                    },
                    "x.nc",
                ),
            ),
        ];
        for (input, (scheme, path)) in cases {
            assert_eq!(
                classify(input).unwrap(),
                (scheme, path.to_owned()),
                "{input}"
            );
        }
        for bad in [
            "",
            "ftp://h/x",
            "s3:///x.nc",
            "file://otherhost/x.nc",
            "http://",
        ] {
            assert!(classify(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn remote_schemes_are_a_clear_error() {
        let err = read_all("s3://bucket/x.nc").unwrap_err().to_string();
        assert!(
            err.contains("s3://bucket/x.nc")
                && err.contains("remote scheme s3 is not supported yet"),
            "{err}"
        );
    }

    #[test]
    fn relative_references_resolve_against_the_store() {
        assert_eq!(
            resolve("data/x.nc", Some("/stores/s.json")),
            "/stores/data/x.nc"
        );
        assert_eq!(
            resolve("data/x.nc", Some("file:///stores/s.json")),
            "/stores/data/x.nc"
        );
        assert_eq!(resolve("/abs/x.nc", Some("/stores/s.json")), "/abs/x.nc");
        assert_eq!(
            resolve("file:///abs/x.nc", Some("/stores/s.json")),
            "file:///abs/x.nc"
        );
        assert_eq!(resolve("data/x.nc", None), "data/x.nc");
    }

    #[test]
    fn absolute_folds_dots() {
        assert_eq!(
            absolute("/a/./b/../c.nc").unwrap(),
            PathBuf::from("/a/c.nc")
        );
        assert!(absolute("rel.nc").unwrap().is_absolute());
    }

    #[test]
    fn coalescing_merges_close_ranges_only() {
        let merged = coalesce(
            &[
                100..200,
                0..10,
                10..20,
                200 + COALESCE_GAP + 1..300 + COALESCE_GAP,
            ],
            COALESCE_GAP,
        );
        assert_eq!(
            merged,
            vec![0..200, 200 + COALESCE_GAP + 1..300 + COALESCE_GAP]
        );
        assert_eq!(coalesce(&[0..10, 5..8], 0), vec![0..10]);
    }

    #[test]
    fn ranges_are_exact_and_strict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        let p = path.to_str().unwrap();
        let url = url::Url::from_file_path(&path).unwrap().to_string();
        let ranges = [
            250_000..250_010,
            0..4,
            2..6,
            100_000..100_000,
            299_990..300_000,
        ];
        for name in [p, url.as_str()] {
            let got = read_ranges(name, &ranges).unwrap();
            for (r, b) in ranges.iter().zip(&got) {
                assert_eq!(&b[..], &data[r.start as usize..r.end as usize]);
            }
        }
        assert_eq!(read_all(p).unwrap().len(), data.len());
        assert_eq!(size(p).unwrap(), data.len() as u64);
        let past = read_ranges(p, &[299_990..300_001]).unwrap_err().to_string();
        assert!(
            past.contains(p)
                && past.contains("299990..300001 reach past the end of the file (300000 bytes)"),
            "{past}"
        );
        let missing = dir.path().join("missing.nc");
        let err = read_ranges(missing.to_str().unwrap(), &[0..4]).unwrap_err();
        assert!(
            matches!(err, Error::Fetch { .. }) && err.to_string().contains("missing.nc"),
            "{err}"
        );
        assert!(read_all(missing.to_str().unwrap()).is_err());
        let reversed = Range { start: 5, end: 4 };
        assert!(read_ranges(p, &[reversed]).is_err());
        let huge = read_ranges(p, &[10..u64::MAX / 2]).unwrap_err().to_string();
        assert!(huge.contains("past the end of the file"), "{huge}");
    }
}
