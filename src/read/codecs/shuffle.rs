//! HDF5's byte shuffle filter (HDF5 filter id 2, numcodecs `shuffle`) as a zarrs codec.
//!
//! Shuffling stores byte 0 of every element, then byte 1 of every element, and so on, which
//! makes floating-point data compress better. HDF5 leaves a tail shorter than one element in
//! place (`H5Zshuffle.c`); numcodecs and zarrs 0.23 reject such input instead. zarrs' decoder
//! also copies its input and then scatters one byte at a time, which cost a fifth of the time
//! of reading a shuffled, deflated variable; this one gathers whole elements.
//!
//! Registered as [`ID`]; the store adapter maps the numcodecs id `shuffle` to it (see
//! [`super::V2_RENAMES`]). The scanner uses [`shuffle`] to re-encode chunks HDF5 stored
//! unfiltered.
//!
//! Spec: <https://support.hdfgroup.org/documentation/hdf5/latest/group___s_h_u_f_f_l_e.html>.

use std::borrow::Cow;
use std::sync::Arc;

use zarrs::array::codec::api::{CodecPluginV2, CodecPluginV3};
use zarrs::array::{
    ArrayBytesRaw, BytesRepresentation, BytesToBytesCodecTraits, Codec, CodecError,
    CodecMetadataOptions, CodecOptions, CodecTraits, CodecTraitsV2, CodecTraitsV3,
    RecommendedConcurrency,
};
use zarrs::metadata::v2::MetadataV2;
use zarrs::metadata::v3::MetadataV3;
use zarrs::metadata::Configuration;
use zarrs::plugin::{PluginCreateError, ZarrVersion};

/// The codec id chunkref registers (V2 and V3 alike).
pub const ID: &str = "chunkref.shuffle";

/// HDF5's shuffle of elements of `size` bytes.
#[derive(Clone, Copy, Debug)]
pub struct Hdf5ShuffleCodec {
    size: usize,
}

zarrs::plugin::impl_extension_aliases!(Hdf5ShuffleCodec, v3: "chunkref.shuffle", v2: "chunkref.shuffle");

inventory::submit! { CodecPluginV2::new::<Hdf5ShuffleCodec>() }
inventory::submit! { CodecPluginV3::new::<Hdf5ShuffleCodec>() }

fn from_configuration(config: Option<&Configuration>) -> Result<Codec, PluginCreateError> {
    let size = config
        .and_then(|c| c.get("elementsize"))
        .and_then(serde_json::Value::as_u64)
        .filter(|&s| s > 0)
        .ok_or_else(|| {
            PluginCreateError::Other("shuffle needs a positive \"elementsize\"".into())
        })?;
    Ok(Codec::BytesToBytes(Arc::new(Hdf5ShuffleCodec {
        size: size as usize,
    })))
}

impl CodecTraitsV2 for Hdf5ShuffleCodec {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        from_configuration(Some(metadata.configuration()))
    }
}

impl CodecTraitsV3 for Hdf5ShuffleCodec {
    fn create(metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
        from_configuration(metadata.configuration())
    }
}

/// Shuffles `data` of elements of `size` bytes (the tail shorter than one element stays).
#[must_use]
pub fn shuffle(data: &[u8], size: usize) -> Vec<u8> {
    let n = if size > 1 { data.len() / size } else { 0 };
    if n == 0 {
        return data.to_vec();
    }
    let mut out = vec![0u8; data.len()];
    for (j, plane) in out.chunks_exact_mut(n).take(size).enumerate() {
        for (k, b) in plane.iter_mut().enumerate() {
            *b = data[k * size + j];
        }
    }
    out[n * size..].copy_from_slice(&data[n * size..]);
    out
}

/// Gathers element `k` from byte planes of `n` bytes each, for a fixed element size.
fn unshuffle_fixed<const N: usize>(data: &[u8], out: &mut [u8], n: usize) {
    let planes: [&[u8]; N] = std::array::from_fn(|j| &data[j * n..(j + 1) * n]);
    for (k, element) in out[..n * N].chunks_exact_mut(N).enumerate() {
        for (byte, plane) in element.iter_mut().zip(&planes) {
            *byte = plane[k];
        }
    }
}

/// Undoes [`shuffle`].
#[must_use]
pub fn unshuffle(data: &[u8], size: usize) -> Vec<u8> {
    let n = if size > 1 { data.len() / size } else { 0 };
    if n == 0 {
        return data.to_vec();
    }
    let mut out = vec![0u8; data.len()];
    match size {
        2 => unshuffle_fixed::<2>(data, &mut out, n),
        4 => unshuffle_fixed::<4>(data, &mut out, n),
        8 => unshuffle_fixed::<8>(data, &mut out, n),
        _ => {
            for (j, plane) in data.chunks_exact(n).take(size).enumerate() {
                for (k, &b) in plane.iter().enumerate() {
                    out[k * size + j] = b;
                }
            }
        }
    }
    out[n * size..].copy_from_slice(&data[n * size..]);
    out
}

impl CodecTraits for Hdf5ShuffleCodec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        let mut config = serde_json::Map::new();
        config.insert("elementsize".into(), self.size.into());
        Some(Configuration::from(config))
    }

    fn partial_decoder_capability(&self) -> zarrs::array::codec::api::PartialDecoderCapability {
        zarrs::array::codec::api::PartialDecoderCapability {
            partial_read: false,
            partial_decode: false,
        }
    }

    fn partial_encoder_capability(&self) -> zarrs::array::codec::api::PartialEncoderCapability {
        zarrs::array::codec::api::PartialEncoderCapability {
            partial_encode: false,
        }
    }
}

impl BytesToBytesCodecTraits for Hdf5ShuffleCodec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self
    }

    fn recommended_concurrency(
        &self,
        _decoded: &BytesRepresentation,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encoded_representation(&self, decoded: &BytesRepresentation) -> BytesRepresentation {
        *decoded
    }

    fn encode<'a>(
        &self,
        decoded: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Ok(Cow::Owned(shuffle(&decoded, self.size)))
    }

    fn decode<'a>(
        &self,
        encoded: ArrayBytesRaw<'a>,
        _decoded: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Ok(Cow::Owned(unshuffle(&encoded, self.size)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// HDF5's definition, written out: byte `j` of element `i` goes to `j * n + i`.
    fn reference(data: &[u8], size: usize) -> Vec<u8> {
        let n = data.len() / size;
        let mut out = data.to_vec();
        for i in 0..n {
            for j in 0..size {
                out[j * n + i] = data[i * size + j];
            }
        }
        out
    }

    #[test]
    fn matches_the_definition_and_round_trips() {
        for size in [1, 2, 3, 4, 5, 8, 12] {
            for len in [0, 1, 7, 8, 24, 1001] {
                let data: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
                let shuffled = shuffle(&data, size);
                if size > 1 {
                    assert_eq!(shuffled, reference(&data, size), "size {size} len {len}");
                }
                assert_eq!(unshuffle(&shuffled, size), data, "size {size} len {len}");
            }
        }
    }

    #[test]
    fn known_bytes() {
        assert_eq!(shuffle(&[1, 2, 3, 4, 5, 6, 7], 2), [1, 3, 5, 2, 4, 6, 7]);
        assert_eq!(unshuffle(&[1, 3, 5, 2, 4, 6, 7], 2), [1, 2, 3, 4, 5, 6, 7]);
    }
}
