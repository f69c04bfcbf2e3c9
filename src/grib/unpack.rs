//! Unpacking a GRIB field's values: the data representation (GRIB2 section 5, GRIB1 binary
//! data section flags) says how the data section's bytes become numbers.
//!
//! Values are computed in `f64` with ecCodes' formulas, so that a value cast to `f32` equals
//! what kerchunk's `grib` codec (ecCodes) gives. Bitmaps are applied by [`apply_bitmap`]:
//! a missing point is NaN.
//!
//! One submodule per packing: `simple` (5.0), `complex` (5.2, 5.3), `ieee` (5.4),
//! `jpeg2000` (5.40), `png` (5.41), `ccsds` (5.42) and `grib1`; `bits` reads bit-packed
//! integers and `scale` holds ecCodes' arithmetic. This file parses what the templates
//! share and dispatches.

mod bits;
mod ccsds;
mod complex;
mod grib1;
mod ieee;
mod jpeg2000;
mod png;
mod scale;
mod simple;
#[cfg(test)]
mod tests;

use scale::Linear;

/// Why a field's values cannot be unpacked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnpackError {
    /// A data representation template (or GRIB1 packing) chunkref does not decode.
    #[error("unsupported packing: {0}")]
    Unsupported(String),
    /// The sections contradict themselves or are too short.
    #[error("corrupt packed data: {0}")]
    Corrupt(String),
}

/// The most values unpacked for a field whose data section does not bound their number.
///
/// A value normally costs bits of the data section, which bounds how many a field can have
/// (and so what a corrupt count can make us allocate). Constant fields (0 bits per value),
/// complex packing's zero-width groups and the compressed codestreams (JPEG2000, PNG,
/// CCSDS) break that bound; for them, a count above both this and the data section's bit
/// count is refused. 2^27 values are 1 GiB of `f64`, several times the largest grids in use.
const MAX_UNBACKED_VALUES: usize = 1 << 27;

/// Unpacks the values of one GRIB2 field.
///
/// `sec5` is the whole Data Representation Section and `sec7` the whole Data Section, each
/// including its 5-byte header (length, section number). Returns the values of the points
/// that have one (section 5 octets 6–9 says how many); [`apply_bitmap`] spreads them over
/// the grid.
///
/// # Errors
/// [`UnpackError::Unsupported`] for a template other than 5.0 (simple), 5.2 (complex), 5.3
/// (complex with spatial differencing), 5.4 (IEEE), 5.40 (JPEG2000), 5.41 (PNG) and 5.42
/// (CCSDS); [`UnpackError::Corrupt`] when the bytes cannot hold what the section says.
pub fn unpack_grib2(sec5: &[u8], sec7: &[u8]) -> Result<Vec<f64>, UnpackError> {
    let sec5 = Section::new(sec5, 5)?;
    let data = Section::new(sec7, 7)?.bytes.get(5..).unwrap_or_default();
    let count = usize::try_from(sec5.uint(6, 4)?).unwrap_or(usize::MAX);
    match sec5.uint(10, 2)? {
        0 => simple::unpack(&Packed::parse(&sec5)?, count, data),
        template @ (2 | 3) => complex::unpack(&sec5, count, data, template == 3),
        4 => ieee::unpack(&sec5, count, data),
        40 => jpeg2000::unpack(&Packed::parse(&sec5)?, count, data),
        41 => png::unpack(&Packed::parse(&sec5)?, count, data),
        42 => ccsds::unpack(&sec5, count, data),
        template => Err(UnpackError::Unsupported(format!(
            "GRIB2 data representation template 5.{template}{}",
            template_name(template)
        ))),
    }
}

/// Names of the templates chunkref does not decode, for the error message.
fn template_name(template: u64) -> &'static str {
    match template {
        1 => " (matrix values)",
        50 => " (spectral simple packing)",
        51 => " (spherical harmonics complex packing)",
        53 => " (spectral simple packing for limited-area models)",
        61 => " (simple packing with logarithmic preprocessing)",
        200 => " (run length packing with level values)",
        _ => "",
    }
}

/// Unpacks the values of one GRIB1 field: `bds` is the whole Binary Data Section (from its
/// 3-byte length), `decimal_scale` the PDS's decimal scale factor D, `count` the number of
/// values (the grid's points, or the bitmap's set bits).
///
/// The section's extent is the slice's: its 3-byte length is not read (ECMWF's large-message
/// convention makes it differ from the true length, which the message parser resolves).
///
/// # Errors
/// [`UnpackError::Unsupported`] for anything but grid-point simple packing;
/// [`UnpackError::Corrupt`] when the bytes cannot hold `count` values.
pub fn unpack_grib1(bds: &[u8], decimal_scale: i16, count: usize) -> Result<Vec<f64>, UnpackError> {
    grib1::unpack(bds, decimal_scale, count)
}

/// Spreads `values` over `points` grid points: point `i` takes the next value when bit `i`
/// of `bitmap` (most significant bit first) is set, and NaN otherwise.
///
/// # Errors
/// [`UnpackError::Corrupt`] when the bitmap is shorter than `points` bits or its set bits
/// do not number `values.len()`.
pub fn apply_bitmap(values: &[f64], bitmap: &[u8], points: usize) -> Result<Vec<f64>, UnpackError> {
    let bytes = points.div_ceil(8);
    let Some(bitmap) = bitmap.get(..bytes) else {
        return Err(corrupt(format!(
            "the bitmap holds {} bytes, {points} points need {bytes}",
            bitmap.len()
        )));
    };
    let set = set_bits(bitmap, points);
    if set != values.len() {
        return Err(corrupt(format!(
            "the bitmap sets {set} of {points} points, but {} values were unpacked",
            values.len()
        )));
    }
    let mut out = Vec::with_capacity(points);
    let mut next = 0;
    for (index, &byte) in bitmap.iter().enumerate() {
        let bits_here = (points - index * 8).min(8);
        // Whole bytes of present or missing points are the common case: copy or fill 8.
        match (byte, bits_here) {
            (0xFF, 8) => {
                out.extend_from_slice(&values[next..next + 8]);
                next += 8;
            }
            (0x00, 8) => out.extend_from_slice(&[f64::NAN; 8]),
            _ => {
                for bit in 0..bits_here {
                    if byte & (0x80 >> bit) == 0 {
                        out.push(f64::NAN);
                    } else {
                        out.push(values[next]);
                        next += 1;
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The set bits among the first `points` bits of `bitmap` (which holds at least that many).
fn set_bits(bitmap: &[u8], points: usize) -> usize {
    let full = points / 8;
    let mut set: usize = bitmap[..full].iter().map(|b| b.count_ones() as usize).sum();
    if !points.is_multiple_of(8) {
        let keep = 0xFFu8 << (8 - points % 8);
        set += (bitmap[full] & keep).count_ones() as usize;
    }
    set
}

fn corrupt(message: String) -> UnpackError {
    UnpackError::Corrupt(message)
}

/// A GRIB2 section, read by octet numbers as the WMO tables number them (from 1).
struct Section<'a> {
    bytes: &'a [u8],
    number: u8,
}

impl<'a> Section<'a> {
    /// Checks the 5-byte header: the slice starts with a section numbered `number`.
    fn new(bytes: &'a [u8], number: u8) -> Result<Self, UnpackError> {
        match bytes.get(4) {
            Some(&n) if n == number => Ok(Self { bytes, number }),
            Some(&n) => Err(corrupt(format!(
                "expected section {number}, found a section numbered {n}"
            ))),
            None => Err(corrupt(format!(
                "section {number} is {} bytes, shorter than a section header (5)",
                bytes.len()
            ))),
        }
    }

    /// The big-endian unsigned integer of `len` (1..=8) octets from octet `first`.
    fn uint(&self, first: usize, len: usize) -> Result<u64, UnpackError> {
        let last = first + len - 1;
        let field = self.bytes.get(first - 1..last).ok_or_else(|| {
            corrupt(format!(
                "section {} is {} bytes, too short for its octets {first}-{last}",
                self.number,
                self.bytes.len()
            ))
        })?;
        Ok(field.iter().fold(0, |v, &b| (v << 8) | u64::from(b)))
    }
}

/// Octets 12–20 of section 5, shared by the templates that pack integers (5.0, 5.2, 5.3,
/// 5.40, 5.41, 5.42): reference value R, binary scale E, decimal scale D, bits per value.
struct Packed {
    /// R, as ecCodes reads it.
    reference: f64,
    /// The map from packed integers to values.
    linear: Linear,
    /// Bits per packed value.
    bits: u32,
}

impl Packed {
    fn parse(sec5: &Section<'_>) -> Result<Self, UnpackError> {
        let raw = sec5.uint(12, 4)? as u32;
        let reference = scale::ieee_reference(raw).ok_or_else(|| {
            corrupt(format!(
                "the reference value (0x{raw:08X}) is infinite or NaN"
            ))
        })?;
        let binary = scale::sign_magnitude16(sec5.uint(16, 2)? as u16);
        let decimal = scale::sign_magnitude16(sec5.uint(18, 2)? as u16);
        Ok(Self {
            reference,
            linear: Linear::new(reference, binary, decimal),
            bits: sec5.uint(20, 1)? as u32,
        })
    }
}

/// Checks that `data` (described as `what`) holds `count` values of `bits` bits.
fn check_bits(what: &str, data: &[u8], count: usize, bits: u32) -> Result<(), UnpackError> {
    let needed = (count as u128 * u128::from(bits)).div_ceil(8);
    if needed > data.len() as u128 {
        return Err(corrupt(format!(
            "{what} holds {} bytes, {count} values of {bits} bits need {needed}",
            data.len()
        )));
    }
    Ok(())
}

/// Checks a count that the data section does not bound (see [`MAX_UNBACKED_VALUES`]).
fn check_unbacked(count: usize, data: &[u8]) -> Result<(), UnpackError> {
    if count > MAX_UNBACKED_VALUES && count as u64 > bits::bits_in(data.len()) {
        return Err(corrupt(format!(
            "{count} values in a data section of {} bytes: more than the {MAX_UNBACKED_VALUES} \
             values chunkref unpacks without data to back them",
            data.len()
        )));
    }
    Ok(())
}

/// A constant field: every value is R. ecCodes returns R itself, without the decimal
/// scaling (which is how encoders write constant fields: D = 0).
fn constant(count: usize, reference: f64, data: &[u8]) -> Result<Vec<f64>, UnpackError> {
    check_unbacked(count, data)?;
    Ok(vec![reference; count])
}
