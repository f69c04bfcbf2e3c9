//! HDF5 filter pipelines → numcodecs codec configurations.
//!
//! Codecs go in `.zarray` `filters` in HDF5 pipeline order with `compressor: null`, as kerchunk
//! writes them, which keeps the order exact when fletcher32 follows deflate. A filter with no
//! exact numcodecs equivalent is never written as if it had one: the array is either read and
//! inlined decoded (small arrays, when HDF5 itself can decode it) or reported by name.

use serde_json::{json, Value};

use super::raw::FilterSpec;

/// What can be done with an array's filter pipeline.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Pipeline {
    /// Chunks can be referenced and decoded with these codecs, in order.
    Codecs(Vec<Value>),
    /// No codec decodes this filter exactly, but HDF5 can: inline decoded data if small.
    DecodeWithHdf5 { filter: String },
    /// Neither a codec nor this HDF5 build decodes this filter.
    Unsupported { filter: String },
}

fn filter_label(f: &FilterSpec) -> String {
    let name = match f.id {
        4 => "szip",
        5 => "nbit",
        6 => "scaleoffset",
        32000 => "lzf",
        32004 => "lz4",
        32008 => "bitshuffle",
        _ if !f.name.is_empty() => f.name.as_str(),
        _ => "unknown",
    };
    format!("{name} (HDF5 filter {})", f.id)
}

const BLOSC_NAMES: [&str; 6] = ["blosclz", "lz4", "lz4hc", "snappy", "zlib", "zstd"];

/// The codec configuration of one filter, if an exact numcodecs codec exists.
fn codec(f: &FilterSpec, element_size: usize) -> Option<Value> {
    let cd = |i: usize| f.cd_values.get(i).copied();
    match f.id {
        1 => Some(json!({"id": "zlib", "level": cd(0).unwrap_or(6)})),
        2 => Some(json!({"id": "shuffle", "elementsize": cd(0).unwrap_or(element_size as u32)})),
        3 => Some(json!({"id": "fletcher32"})),
        307 => Some(json!({"id": "bz2", "level": cd(0).unwrap_or(9)})),
        32015 => Some(json!({"id": "zstd", "level": cd(0).unwrap_or(3)})),
        // Blosc frames describe themselves; the parameters only matter for encoding.
        32001 => Some(json!({
            "id": "blosc",
            "cname": cd(6).and_then(|c| BLOSC_NAMES.get(c as usize)).copied().unwrap_or("blosclz"),
            "clevel": cd(4).unwrap_or(5),
            "shuffle": cd(5).unwrap_or(1),
            "blocksize": 0,
        })),
        _ => None,
    }
}

/// Maps a dataset's filters to a pipeline. `hdf5_can_decode` says whether HDF5 has a filter.
pub(super) fn pipeline(
    filters: &[FilterSpec],
    element_size: usize,
    hdf5_can_decode: impl Fn(i32) -> bool,
) -> Pipeline {
    let mut codecs = Vec::new();
    for f in filters {
        match codec(f, element_size) {
            Some(c) => codecs.push(c),
            None if hdf5_can_decode(f.id) => {
                return Pipeline::DecodeWithHdf5 {
                    filter: filter_label(f),
                }
            }
            None => {
                return Pipeline::Unsupported {
                    filter: filter_label(f),
                }
            }
        }
    }
    Pipeline::Codecs(codecs)
}

/// Encodes decoded chunk bytes with `codecs`, as HDF5 would have with every filter applied.
///
/// Used for chunks HDF5 stored with some filters skipped (a nonzero filter mask): Zarr has one
/// pipeline per array, so such chunks are re-encoded and inlined.
pub(super) fn encode(codecs: &[Value], mut data: Vec<u8>) -> Result<Vec<u8>, String> {
    for c in codecs {
        let id = c.get("id").and_then(Value::as_str).unwrap_or_default();
        data = match id {
            "shuffle" => {
                let size = c.get("elementsize").and_then(Value::as_u64).unwrap_or(1) as usize;
                crate::read::codecs::shuffle::shuffle(&data, size)
            }
            "zlib" => {
                use std::io::Write as _;
                let level = c.get("level").and_then(Value::as_u64).unwrap_or(6) as u32;
                let mut z = flate2::write::ZlibEncoder::new(
                    Vec::new(),
                    flate2::Compression::new(level.min(9)),
                );
                z.write_all(&data).map_err(|e| e.to_string())?;
                z.finish().map_err(|e| e.to_string())?
            }
            "fletcher32" => {
                let sum = crate::read::codecs::fletcher32::checksum(&data);
                data.extend_from_slice(&sum.to_le_bytes());
                data
            }
            other => {
                return Err(format!(
                    "re-encoding a chunk with codec {other:?} is not supported"
                ))
            }
        };
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(id: i32, cd: &[u32]) -> FilterSpec {
        FilterSpec {
            id,
            name: String::new(),
            cd_values: cd.to_vec(),
        }
    }

    #[test]
    fn known_filters_map_in_order() {
        let p = pipeline(&[spec(2, &[4]), spec(1, &[4]), spec(3, &[])], 4, |_| true);
        assert_eq!(
            p,
            Pipeline::Codecs(vec![
                json!({"id":"shuffle","elementsize":4}),
                json!({"id":"zlib","level":4}),
                json!({"id":"fletcher32"})
            ])
        );
    }

    #[test]
    fn filters_without_codec_are_named() {
        assert_eq!(
            pipeline(&[spec(6, &[])], 4, |_| true),
            Pipeline::DecodeWithHdf5 {
                filter: "scaleoffset (HDF5 filter 6)".into()
            }
        );
        assert_eq!(
            pipeline(&[spec(32000, &[])], 4, |_| false),
            Pipeline::Unsupported {
                filter: "lzf (HDF5 filter 32000)".into()
            }
        );
    }
}
