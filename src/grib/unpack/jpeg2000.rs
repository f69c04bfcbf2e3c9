//! JPEG2000 packing (GRIB2 template 5.40): section 7 is a JPEG2000 codestream of one
//! component whose samples are the packed integers, decoded by `hayro-jpeg2000`.
//!
//! ecCodes decodes with `OpenJPEG`, whose reversible (lossless, the default of GRIB encoders)
//! 5/3 transform works on integers; `hayro-jpeg2000` computes it in `f32`. Rounding its
//! samples to the nearest integer and clamping them to the component's range, as `OpenJPEG`
//! does, gives `OpenJPEG`'s integers exactly while the transform's intermediates stay within
//! `f32`'s 24-bit significand: packed widths up to 22 bits for certain, 24 in the tests.
//!
//! Tolerance: beyond 24 bits per value a sample loses its low bits, and a value may differ
//! from ecCodes' by up to 2^(bits-22) packing steps 2^E·10^-D (measured: 5 steps at 26 bits,
//! 12 at 28, 35 at 30). The lossy 9/7 transform is floating point in both decoders, in
//! different orders of operations: bit-identical in the tests, not guaranteed in general.

use hayro_jpeg2000::{DecodeSettings, DecoderContext, Image};

use super::{check_unbacked, constant, corrupt, Packed, UnpackError};

/// Unpacks template 5.40: `data` is section 7 after its 5-byte header.
pub(super) fn unpack(packed: &Packed, count: usize, data: &[u8]) -> Result<Vec<f64>, UnpackError> {
    if packed.bits == 0 {
        return constant(count, packed.reference, data);
    }
    check_unbacked(count, data)?;
    let jpeg_error =
        |e: hayro_jpeg2000::DecodeError| corrupt(format!("JPEG2000 codestream in section 7: {e}"));
    let settings = DecodeSettings {
        resolve_palette_indices: false,
        ..DecodeSettings::default()
    };
    let image = Image::new(data, &settings).map_err(jpeg_error)?;
    // Check the size before decoding allocates it.
    let (width, height) = (image.width(), image.height());
    if u64::from(width) * u64::from(height) != count as u64 {
        return Err(corrupt(format!(
            "the JPEG2000 image has {width} x {height} pixels, section 5 says {count} values"
        )));
    }
    let mut context = DecoderContext::default();
    let decoded = image.decode(&mut context).map_err(jpeg_error)?;
    let [component] = decoded.components() else {
        return Err(corrupt(format!(
            "the JPEG2000 image has {} components, packed values need 1",
            decoded.components().len()
        )));
    };
    let samples = component.samples();
    if samples.len() < count {
        return Err(corrupt(format!(
            "the JPEG2000 decoder gave {} samples for {count} values",
            samples.len()
        )));
    }
    // `OpenJPEG` rounds to nearest (lrintf) and clamps to [0, 2^precision - 1].
    let max = ((1u64 << component.bit_depth().min(32)) - 1) as f32;
    let linear = packed.linear;
    Ok(samples[..count]
        .iter()
        .map(|&s| linear.apply(f64::from(s.round_ties_even().clamp(0.0, max))))
        .collect())
}
