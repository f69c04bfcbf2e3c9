//! Format detection from a file's first bytes.
//!
//! Only magic numbers decide; a file's name or extension never does.

use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The HDF5 superblock signature.
const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// A file format chunkref recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// HDF5, including `NetCDF4`; `base` is where the superblock starts (after a user block).
    Hdf5 {
        /// Byte offset of the superblock.
        base: u64,
    },
    /// `NetCDF3` classic (1), 64-bit offset (2) or 64-bit data (5).
    NetCdf3 {
        /// The version byte after `CDF`.
        version: u8,
    },
    /// GRIB, edition 1 or 2.
    Grib,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hdf5 { .. } => f.write_str("HDF5"),
            Self::NetCdf3 { .. } => f.write_str("NetCDF3"),
            Self::Grib => f.write_str("GRIB"),
        }
    }
}

/// Detects the format of the bytes at the start of a file (`head`) of length `file_len`.
///
/// HDF5 superblocks may sit at 0, 512, 1024, 2048, ... (after a user block); `head` must
/// hold those offsets for them to be found.
#[must_use]
pub fn detect_bytes(head: &[u8]) -> Option<Format> {
    if head.len() >= 4 && &head[..3] == b"CDF" && matches!(head[3], 1 | 2 | 5) {
        return Some(Format::NetCdf3 { version: head[3] });
    }
    if head.starts_with(b"GRIB") {
        return Some(Format::Grib);
    }
    let mut base = 0usize;
    while base + HDF5_MAGIC.len() <= head.len() {
        if &head[base..base + HDF5_MAGIC.len()] == HDF5_MAGIC {
            return Some(Format::Hdf5 { base: base as u64 });
        }
        base = if base == 0 { 512 } else { base * 2 };
    }
    None
}

/// Detects the format of the file at `path`.
///
/// # Errors
/// Returns [`Error::Io`] when the file cannot be read and [`Error::UnknownFormat`] when its
/// first bytes match no known format (naming what they look like, e.g. empty).
pub fn detect(path: &Path) -> Result<Format> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    if file.metadata().map_err(io)?.is_dir() {
        return Err(Error::UnknownFormat {
            path: path.to_owned(),
            reason: "is a directory".into(),
        });
    }
    let mut head = Vec::with_capacity(8192);
    file.by_ref()
        .take(8192)
        .read_to_end(&mut head)
        .map_err(io)?;
    detect_bytes(&head).ok_or_else(|| Error::UnknownFormat {
        path: path.to_owned(),
        reason: if head.is_empty() {
            "empty file".into()
        } else {
            "not a NetCDF4/HDF5, NetCDF3 or GRIB file (no HDF5 signature at offset 0, 512, 1024, ..., no CDF or GRIB magic)".into()
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_decide() {
        let cases: [(&[u8], Option<Format>); 6] = [
            (b"\x89HDF\r\n\x1a\n....", Some(Format::Hdf5 { base: 0 })),
            (b"CDF\x01\0\0\0\0", Some(Format::NetCdf3 { version: 1 })),
            (b"CDF\x05", Some(Format::NetCdf3 { version: 5 })),
            (b"GRIB\0\0\0\x02", Some(Format::Grib)),
            (b"CDF\x03", None),
            (b"", None),
        ];
        for (head, want) in cases {
            assert_eq!(detect_bytes(head), want, "{head:?}");
        }
        let mut with_user_block = vec![0u8; 512];
        with_user_block.extend_from_slice(HDF5_MAGIC);
        assert_eq!(
            detect_bytes(&with_user_block),
            Some(Format::Hdf5 { base: 512 })
        );
    }
}
