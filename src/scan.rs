//! Scanners: one file in, one [`RefStore`] out.
//!
//! [`scan_file`] detects the format from the file's first bytes (never its name) and hands
//! the file to the scanner of that format. Scanners read metadata only; they record where
//! each chunk lies and never copy chunk data, except small chunks they inline. They do no
//! network I/O and write nothing.
//!
//! - `hdf5`: HDF5 and `NetCDF4`, through the HDF5 C library (only with the `hdf5` feature,
//!   on by default; without it an HDF5 file is [`Error::UnknownFormat`]);
//! - [`netcdf3`]: `NetCDF3` classic, 64-bit offset and 64-bit data, parsed in pure Rust;
//! - [`grib`]: GRIB editions 1 and 2, parsed in pure Rust, fields grouped as cfgrib groups them.

pub mod detect;
pub mod grib;
#[cfg(feature = "hdf5")]
pub mod hdf5;
pub mod netcdf3;

use std::path::Path;

pub use detect::Format;

use crate::error::{Error, Result};
use crate::refs::RefStore;

/// Chunks (and whole small arrays) up to this many bytes are stored inline, as kerchunk's
/// `SingleHdf5ToZarr` does by default.
pub const DEFAULT_INLINE_THRESHOLD: u64 = 500;

/// Arrays whose chunks cannot be referenced (an unsupported filter that HDF5 can still
/// decode) are read and inlined whole when their decoded size is at most this.
pub const DEFAULT_MAX_INLINE_ARRAY: u64 = 1 << 20;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Chunks of at most this many bytes are inlined (0 disables inlining of chunks).
    pub inline_threshold: u64,
    /// Largest decoded array that may be inlined when it cannot be referenced.
    pub max_inline_array: u64,
    /// The url written into references; by default the file's absolute `file://` url.
    pub url: Option<String>,
    /// Rewrites urls that start with the first string to start with the second instead
    /// (e.g. `/data/` → `s3://bucket/`), so a store built here serves data kept elsewhere.
    pub url_prefix: Option<(String, String)>,
    /// GRIB: when `<file>.idx` (a wgrib2 / NOAA index) lies beside a GRIB file, take message
    /// offsets, variables, levels and steps from it and read the sections of one message per
    /// variable only (see [`grib`]).
    pub grib_idx: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            inline_threshold: DEFAULT_INLINE_THRESHOLD,
            max_inline_array: DEFAULT_MAX_INLINE_ARRAY,
            url: None,
            url_prefix: None,
            grib_idx: false,
        }
    }
}

/// What a scan produced: the store, and what was skipped or changed on the way.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    /// The reference store of the file.
    pub store: RefStore,
    /// Variables or attributes skipped, with the reason (e.g. a compound type).
    pub warnings: Vec<String>,
}

/// Scans one file into a reference store.
///
/// # Errors
/// Returns [`Error::Io`] when the file cannot be read, [`Error::UnknownFormat`] when it is not
/// a format chunkref scans, and [`Error::Scan`] when it is corrupt or truncated.
pub fn scan_file(path: &Path, options: &ScanOptions) -> Result<ScanOutput> {
    let mut output = match detect::detect(path)? {
        #[cfg(feature = "hdf5")]
        Format::Hdf5 { .. } => hdf5::scan(path, options)?,
        #[cfg(not(feature = "hdf5"))]
        Format::Hdf5 { .. } => {
            return Err(Error::UnknownFormat {
                path: path.to_owned(),
                reason: "HDF5/NetCDF4 files cannot be scanned: this chunkref was built without the `hdf5` feature (it scans NetCDF3 only)".into(),
            })
        }
        Format::NetCdf3 { .. } => netcdf3::scan(path, options)?,
        Format::Grib => grib::scan(path, options)?,
    };
    if let Some((from, to)) = &options.url_prefix {
        output.store.map_urls(|u| rewrite_prefix(u, from, to));
    }
    Ok(output)
}

/// Replaces the prefix `from` of `url` by `to`. A `from` without a scheme is matched against
/// the path of a `file://` url, so `/data/` matches `file:///data/x.nc`.
#[must_use]
pub fn rewrite_prefix(url: &str, from: &str, to: &str) -> String {
    let target = if from.contains("://") {
        Some(url)
    } else {
        url.strip_prefix("file://")
    };
    match target.and_then(|t| t.strip_prefix(from)) {
        Some(rest) => format!("{to}{rest}"),
        None => url.to_owned(),
    }
}

/// The `file://` url of a local path, made absolute.
///
/// The path is written as it is, not percent-encoded: fsspec strips `file://` and uses the
/// rest as the path, so `file:///data/my%20file.nc` would name a file that does not exist.
///
/// # Errors
/// Returns [`Error::Io`] when the path cannot be made absolute, and
/// [`Error::InvalidArgument`] when it is not valid UTF-8.
pub fn file_url(path: &Path) -> Result<String> {
    let abs = crate::io::absolute(&path.to_string_lossy())?;
    let text = abs.to_str().ok_or_else(|| {
        Error::InvalidArgument(format!("{}: the path is not valid UTF-8", abs.display()))
    })?;
    Ok(format!("file://{text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "hdf5"))]
    #[test]
    fn hdf5_files_need_the_hdf5_feature() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/era5_small.nc");
        let err = scan_file(&path, &ScanOptions::default()).unwrap_err();
        assert!(matches!(err, Error::UnknownFormat { .. }), "{err:?}");
        assert!(
            err.to_string().contains("without the `hdf5` feature"),
            "{err}"
        );
    }

    #[test]
    fn url_prefixes_rewrite() {
        let cases = [
            (
                "file:///data/a.nc",
                "/data/",
                "s3://bucket/",
                "s3://bucket/a.nc",
            ),
            (
                "file:///data/a.nc",
                "file:///data/",
                "gs://b/",
                "gs://b/a.nc",
            ),
            (
                "file:///other/a.nc",
                "/data/",
                "s3://bucket/",
                "file:///other/a.nc",
            ),
        ];
        for (url, from, to, want) in cases {
            assert_eq!(rewrite_prefix(url, from, to), want);
        }
    }
}
