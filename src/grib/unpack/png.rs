//! PNG packing (GRIB2 template 5.41): section 7 is a PNG image whose pixels are the packed
//! integers, `bits` rounded up to whole octets (8 or 16-bit grey, 24-bit RGB, 32-bit RGBA),
//! read big-endian from the raw rows as ecCodes reads them after libpng's identity
//! transform.

use std::io::Cursor;

use super::{check_unbacked, constant, corrupt, simple, Packed, UnpackError};

/// Unpacks template 5.41: `data` is section 7 after its 5-byte header.
pub(super) fn unpack(packed: &Packed, count: usize, data: &[u8]) -> Result<Vec<f64>, UnpackError> {
    if packed.bits == 0 {
        return constant(count, packed.reference, data);
    }
    if packed.bits > 32 {
        return Err(corrupt(format!(
            "PNG packing of {} bits per value (a PNG pixel has at most 32)",
            packed.bits
        )));
    }
    check_unbacked(count, data)?;
    let pixel_bits = packed.bits.div_ceil(8) * 8;
    let pixels = decode_image(data, count, pixel_bits)?;
    Ok(simple::decode(&pixels, count, pixel_bits, packed.linear))
}

/// Decodes the image into its raw big-endian pixel bytes, after checking that it has
/// `count` pixels of `pixel_bits` bits.
fn decode_image(data: &[u8], count: usize, pixel_bits: u32) -> Result<Vec<u8>, UnpackError> {
    let png_error = |e: png::DecodingError| corrupt(format!("PNG image in section 7: {e}"));
    let bytes = count * pixel_bits as usize / 8;
    // The decoder may allocate its rows besides the output; a count we accepted bounds both.
    let limits = png::Limits {
        bytes: bytes.saturating_mul(2).saturating_add(1 << 20),
    };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(data), limits);
    decoder.set_transformations(png::Transformations::IDENTITY);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let info = reader.info();
    let (width, height) = (info.width, info.height);
    let bits = u32::from(info.bit_depth as u8) * u32::from(info.color_type.samples() as u8);
    if bits != pixel_bits {
        return Err(corrupt(format!(
            "the PNG image has {bits}-bit pixels, section 5's bits per value need {pixel_bits}-bit ones"
        )));
    }
    if u64::from(width) * u64::from(height) != count as u64 {
        return Err(corrupt(format!(
            "the PNG image has {width} x {height} pixels, section 5 says {count} values"
        )));
    }
    let mut pixels = vec![0; bytes];
    reader.next_frame(&mut pixels).map_err(png_error)?;
    Ok(pixels)
}
