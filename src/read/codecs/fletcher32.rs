//! HDF5's Fletcher-32 checksum filter (HDF5 filter id 3) as a zarrs bytes-to-bytes codec.
//!
//! An HDF5 chunk written with the filter is the data followed by a 4-byte checksum, stored
//! little-endian. The checksum is `H5_checksum_fletcher32` (HDF5 `src/H5checksum.c`): the data
//! read as big-endian 16-bit words, summed in two running sums folded to 16 bits every 360
//! words; an odd trailing byte counts as the high byte of one last word. Decoding verifies the
//! checksum and strips it; like HDF5 (`H5Zfletcher32.c`) it also accepts the byte-swapped value
//! that HDF5 before 1.6.3 wrote on little-endian machines.
//!
//! zarrs 0.23.14's own `fletcher32` tests the word count instead of the byte count for the odd
//! byte, so it drops the last byte of odd-length input and rejects valid HDF5 chunks whose
//! stored size is odd. This codec is registered as [`ID`] and the store adapter maps the
//! numcodecs id `fletcher32` to it (see [`super::V2_RENAMES`]).
//!
//! Spec: <https://support.hdfgroup.org/documentation/hdf5/latest/group___f_l_e_t_c_h_e_r32.html>.

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
pub const ID: &str = "chunkref.fletcher32";

/// Size of the checksum appended to each chunk, in bytes.
const CHECKSUM_SIZE: usize = 4;

/// Words summed between two folds of the running sums (HDF5's bound against overflow).
const BLOCK_WORDS: usize = 360;

/// The HDF5-compatible Fletcher-32 codec.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hdf5Fletcher32Codec;

zarrs::plugin::impl_extension_aliases!(Hdf5Fletcher32Codec, v3: "chunkref.fletcher32", v2: "chunkref.fletcher32");

inventory::submit! { CodecPluginV2::new::<Hdf5Fletcher32Codec>() }
inventory::submit! { CodecPluginV3::new::<Hdf5Fletcher32Codec>() }

impl CodecTraitsV2 for Hdf5Fletcher32Codec {
    fn create(_metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        Ok(Codec::BytesToBytes(Arc::new(Self)))
    }
}

impl CodecTraitsV3 for Hdf5Fletcher32Codec {
    fn create(_metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
        Ok(Codec::BytesToBytes(Arc::new(Self)))
    }
}

fn fold(x: u32) -> u32 {
    (x & 0xffff) + (x >> 16)
}

/// HDF5's `H5_checksum_fletcher32` of `data`.
#[must_use]
pub fn checksum(data: &[u8]) -> u32 {
    let (mut sum1, mut sum2) = (0u32, 0u32);
    let even = data.len() & !1;
    for block in data[..even].chunks(2 * BLOCK_WORDS) {
        for word in block.chunks_exact(2) {
            sum1 += u32::from(word[0]) << 8 | u32::from(word[1]);
            sum2 += sum1;
        }
        sum1 = fold(sum1);
        sum2 = fold(sum2);
    }
    if let Some(&last) = data.get(even) {
        sum1 += u32::from(last) << 8;
        sum2 += sum1;
        sum1 = fold(sum1);
        sum2 = fold(sum2);
    }
    fold(sum2) << 16 | fold(sum1)
}

/// The checksum HDF5 before 1.6.3 stored on little-endian machines: bytes swapped in each half.
fn legacy(sum: u32) -> u32 {
    (sum & 0x00ff_00ff) << 8 | (sum >> 8) & 0x00ff_00ff
}

/// Verifies the checksum at the end of `chunk` and returns the data before it.
///
/// # Errors
/// Returns [`CodecError`] when the chunk is shorter than a checksum or the checksum differs.
pub fn verify(chunk: &[u8]) -> Result<&[u8], CodecError> {
    let split = chunk.len().checked_sub(CHECKSUM_SIZE).ok_or_else(|| {
        CodecError::Other(format!(
            "fletcher32: chunk of {} bytes is shorter than its checksum",
            chunk.len()
        ))
    })?;
    let (data, stored) = chunk.split_at(split);
    let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
    let computed = checksum(data);
    if stored == computed || stored == legacy(computed) {
        Ok(data)
    } else {
        Err(CodecError::Other(format!(
            "fletcher32: checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): the chunk is corrupt"
        )))
    }
}

impl CodecTraits for Hdf5Fletcher32Codec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        Some(Configuration::default())
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

impl BytesToBytesCodecTraits for Hdf5Fletcher32Codec {
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
        match decoded {
            BytesRepresentation::FixedSize(n) => {
                BytesRepresentation::FixedSize(n + CHECKSUM_SIZE as u64)
            }
            BytesRepresentation::BoundedSize(n) => {
                BytesRepresentation::BoundedSize(n + CHECKSUM_SIZE as u64)
            }
            BytesRepresentation::UnboundedSize => BytesRepresentation::UnboundedSize,
        }
    }

    fn encode<'a>(
        &self,
        decoded: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let mut out = Vec::with_capacity(decoded.len() + CHECKSUM_SIZE);
        out.extend_from_slice(&decoded);
        out.extend_from_slice(&checksum(&decoded).to_le_bytes());
        Ok(Cow::Owned(out))
    }

    fn decode<'a>(
        &self,
        encoded: ArrayBytesRaw<'a>,
        _decoded: &BytesRepresentation,
        options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let keep = if options.validate_checksums() {
            verify(&encoded)?.len()
        } else {
            encoded
                .len()
                .checked_sub(CHECKSUM_SIZE)
                .ok_or_else(|| CodecError::Other("fletcher32: chunk too short".into()))?
        };
        Ok(match encoded {
            Cow::Borrowed(b) => Cow::Borrowed(&b[..keep]),
            Cow::Owned(mut v) => {
                v.truncate(keep);
                Cow::Owned(v)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reference written from the definition, not from HDF5's loop: both sums modulo 65535
    /// over big-endian words, the odd byte padded with a zero low byte.
    fn reference_mod_65535(data: &[u8]) -> (u64, u64) {
        let (mut a, mut b) = (0u64, 0u64);
        for pair in data.chunks(2) {
            let word = u64::from(pair[0]) << 8 | pair.get(1).copied().map_or(0, u64::from);
            a = (a + word) % 65535;
            b = (b + a) % 65535;
        }
        (a, b)
    }

    #[test]
    fn known_values_from_hdf5() {
        // Made with h5py 3.16 (HDF5 2.x): `create_dataset(..., fletcher32=True)` then
        // `read_direct_chunk`; the last 4 bytes of each chunk are HDF5's checksum.
        assert_eq!(
            checksum(&[1, 2, 3, 4, 5, 6, 7]).to_le_bytes(),
            [0x0c, 0x10, 0x20, 0x1e]
        );
        assert_eq!(
            checksum(&[0, 1, 0, 2, 0, 3, 0, 4]).to_le_bytes(),
            [0x0a, 0x00, 0x14, 0x00]
        );
        let big: Vec<u8> = (0..1001u32).map(|i| (i * 37 % 256) as u8).collect();
        assert_eq!(checksum(&big).to_le_bytes(), [0xc9, 0x0d, 0x10, 0x9f]);
        // By hand: words 0x0102, 0x0304 -> sum1 0x0406, sum2 0x0102 + 0x0406.
        assert_eq!(checksum(&[1, 2, 3, 4]), 0x0508_0406);
        assert_eq!(
            checksum(&[1, 2, 3]),
            0x0504_0402,
            "odd byte is the high byte of a last word"
        );
        assert_eq!(checksum(&[]), 0);
    }

    #[test]
    fn agrees_with_the_definition_modulo_65535() {
        let mut x = 0x1234_5678u32;
        for len in [1usize, 2, 3, 719, 720, 721, 722, 5000, 5001] {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    (x >> 24) as u8
                })
                .collect();
            let sum = checksum(&data);
            let (a, b) = reference_mod_65535(&data);
            assert_eq!(
                (
                    u64::from(sum & 0xffff) % 65535,
                    u64::from(sum >> 16) % 65535
                ),
                (a, b),
                "length {len}"
            );
        }
    }

    #[test]
    fn decode_verifies_and_strips_odd_and_even() {
        let codec = Hdf5Fletcher32Codec;
        let opts = CodecOptions::default();
        let rep = BytesRepresentation::UnboundedSize;
        for data in [vec![1u8, 2, 3, 4, 5, 6, 7], vec![9u8; 10], vec![]] {
            let encoded = codec
                .encode(Cow::Borrowed(&data), &opts)
                .unwrap()
                .into_owned();
            assert_eq!(encoded.len(), data.len() + 4);
            assert_eq!(
                codec
                    .decode(Cow::Owned(encoded.clone()), &rep, &opts)
                    .unwrap()
                    .as_ref(),
                &data[..]
            );
            let mut corrupt = encoded;
            corrupt[0] ^= 0x40;
            let err = codec.decode(Cow::Owned(corrupt), &rep, &opts).unwrap_err();
            assert!(err.to_string().contains("checksum mismatch"), "{err}");
        }
        assert!(codec
            .decode(Cow::Owned(vec![1, 2, 3]), &rep, &opts)
            .is_err());
    }

    #[test]
    fn legacy_byte_order_is_accepted_like_hdf5() {
        let data = [1u8, 2, 3, 4, 5];
        let mut chunk = data.to_vec();
        chunk.extend_from_slice(&legacy(checksum(&data)).to_le_bytes());
        assert_eq!(verify(&chunk).unwrap(), &data);
    }
}
