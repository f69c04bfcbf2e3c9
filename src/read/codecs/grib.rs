//! kerchunk's `grib` codec: a GRIB message's bytes in, its first field's values out.
//!
//! Configuration (kerchunk's): `{"id": "grib", "var": NAME, "dtype": "float32"}`; `dtype`
//! may also be `float64` (kerchunk's default when absent is `float32`). Points the bitmap marks
//! missing decode as NaN. The values are computed in `f64` as ecCodes computes them, then
//! converted to `dtype`, so they equal what kerchunk's codec (ecCodes) gives.
//!
//! A V2 filter: it runs after the (absent) compressor and yields the array's bytes in the
//! little-endian order of the array's dtype (`<f4` or `<f8`). Encoding is not supported.

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

use crate::grib::decode::first_field_values;

/// The codec id (kerchunk's).
pub const ID: &str = "grib";

/// The `grib` codec.
#[derive(Clone, Debug)]
pub struct GribCodec {
    var: String,
    double: bool,
}

zarrs::plugin::impl_extension_aliases!(GribCodec, v3: "grib", v2: "grib");

inventory::submit! { CodecPluginV2::new::<GribCodec>() }
inventory::submit! { CodecPluginV3::new::<GribCodec>() }

impl GribCodec {
    fn from_configuration(config: &Configuration) -> Result<Self, PluginCreateError> {
        let var = config
            .get("var")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let double = match config.get("dtype").and_then(|v| v.as_str()) {
            None | Some("float32" | "<f4" | "f4") => false,
            Some("float64" | "<f8" | "f8") => true,
            Some(other) => {
                return Err(PluginCreateError::Other(format!(
                    "grib codec: dtype {other:?} is not supported (float32 or float64)"
                )))
            }
        };
        Ok(Self { var, double })
    }
}

impl CodecTraitsV2 for GribCodec {
    fn create(metadata: &MetadataV2) -> Result<Codec, PluginCreateError> {
        let config = metadata.configuration().clone();
        Ok(Codec::BytesToBytes(Arc::new(Self::from_configuration(
            &config,
        )?)))
    }
}

impl CodecTraitsV3 for GribCodec {
    fn create(metadata: &MetadataV3) -> Result<Codec, PluginCreateError> {
        let config = metadata.configuration().cloned().unwrap_or_default();
        Ok(Codec::BytesToBytes(Arc::new(Self::from_configuration(
            &config,
        )?)))
    }
}

impl CodecTraits for GribCodec {
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn configuration(
        &self,
        _version: ZarrVersion,
        _options: &CodecMetadataOptions,
    ) -> Option<Configuration> {
        let mut config = serde_json::Map::new();
        config.insert("var".into(), self.var.clone().into());
        let dtype = if self.double { "float64" } else { "float32" };
        config.insert("dtype".into(), dtype.into());
        Some(config.into())
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

impl BytesToBytesCodecTraits for GribCodec {
    fn into_dyn(self: Arc<Self>) -> Arc<dyn BytesToBytesCodecTraits> {
        self
    }

    fn recommended_concurrency(
        &self,
        _decoded: &BytesRepresentation,
    ) -> Result<RecommendedConcurrency, CodecError> {
        Ok(RecommendedConcurrency::new_maximum(1))
    }

    fn encoded_representation(&self, _decoded: &BytesRepresentation) -> BytesRepresentation {
        BytesRepresentation::UnboundedSize
    }

    fn encode<'a>(
        &self,
        _decoded: ArrayBytesRaw<'a>,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        Err(CodecError::Other(
            "grib codec: writing GRIB is not supported".into(),
        ))
    }

    fn decode<'a>(
        &self,
        encoded: ArrayBytesRaw<'a>,
        decoded: &BytesRepresentation,
        _options: &CodecOptions,
    ) -> Result<ArrayBytesRaw<'a>, CodecError> {
        let values = first_field_values(&encoded)
            .map_err(|e| CodecError::Other(format!("grib codec ({}): {e}", self.var)))?;
        let bytes: Vec<u8> = if self.double {
            values.iter().flat_map(|v| v.to_le_bytes()).collect()
        } else {
            values
                .iter()
                .flat_map(|&v| (v as f32).to_le_bytes())
                .collect()
        };
        if let BytesRepresentation::FixedSize(n) = decoded {
            if bytes.len() as u64 != *n {
                return Err(CodecError::Other(format!(
                    "grib codec ({}): the message holds {} values, the chunk has room for {} bytes",
                    self.var,
                    values.len(),
                    n
                )));
            }
        }
        Ok(Cow::Owned(bytes))
    }
}
