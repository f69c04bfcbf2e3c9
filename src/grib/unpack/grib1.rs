//! GRIB1's binary data section (BDS): grid-point simple packing, the only GRIB1 packing
//! chunkref decodes. Octets: 1–3 length, 4 flags (high nibble) and unused trailing bits
//! (low nibble), 5–6 binary scale E, 7–10 reference value R (IBM float), 11 bits per
//! value, 12– the packed integers.

use super::scale::Linear;
use super::{constant, corrupt, scale, simple, UnpackError};

/// Octet 4 flag: spherical harmonic coefficients rather than grid points.
const SPHERICAL_HARMONICS: u8 = 0x80;
/// Octet 4 flag: second-order ("complex") packing rather than simple packing.
const SECOND_ORDER: u8 = 0x40;
/// Octet 4 flag: additional flags follow at octet 14 (matrix values, ECMWF's IEEE packing).
const ADDITIONAL_FLAGS: u8 = 0x10;
/// ecCodes' marker for a field without data: E = -32767 (sign-and-magnitude 0xFFFF).
const DUMMY_FIELD_SCALE: u16 = 0xFFFF;
/// The octets before the packed integers.
const HEADER: usize = 11;

/// Unpacks a GRIB1 binary data section; see [`super::unpack_grib1`].
pub(super) fn unpack(
    bds: &[u8],
    decimal_scale: i16,
    count: usize,
) -> Result<Vec<f64>, UnpackError> {
    let header = bds.get(..HEADER).ok_or_else(|| {
        corrupt(format!(
            "the binary data section is {} bytes, shorter than its {HEADER}-byte header",
            bds.len()
        ))
    })?;
    check_flags(header[3])?;
    let binary_raw = u16::from_be_bytes([header[4], header[5]]);
    if binary_raw == DUMMY_FIELD_SCALE {
        // ecCodes' "dummy field": every point is missing.
        return constant(count, f64::NAN, &[]);
    }
    let reference = scale::ibm_reference(u32::from_be_bytes([
        header[6], header[7], header[8], header[9],
    ]));
    let bits = u32::from(header[10]);
    let data = &bds[HEADER..];
    if bits == 0 {
        return constant(count, reference, data);
    }
    simple::check_width(bits)?;
    check_room(data, header[3] & 0x0F, count, bits)?;
    let linear = Linear::new(
        reference,
        scale::sign_magnitude16(binary_raw),
        i64::from(decimal_scale),
    );
    Ok(simple::decode(data, count, bits, linear))
}

/// Refuses the packings other than grid-point simple packing.
fn check_flags(flags: u8) -> Result<(), UnpackError> {
    let what = if flags & SPHERICAL_HARMONICS != 0 {
        "spherical harmonic coefficients"
    } else if flags & SECOND_ORDER != 0 {
        "second-order (complex) grid-point packing"
    } else if flags & ADDITIONAL_FLAGS != 0 {
        "grid-point packing with additional flags (matrix values or IEEE)"
    } else {
        return Ok(());
    };
    Err(UnpackError::Unsupported(format!(
        "GRIB1 {what} (binary data section flags 0x{:X})",
        flags >> 4
    )))
}

/// Checks that `count` values of `bits` bits fit before the section's `unused` last bits.
fn check_room(data: &[u8], unused: u8, count: usize, bits: u32) -> Result<(), UnpackError> {
    let available = (data.len() as u128 * 8).saturating_sub(u128::from(unused));
    let needed = count as u128 * u128::from(bits);
    if needed > available {
        return Err(corrupt(format!(
            "the binary data section holds {} data bytes ({unused} bits unused), {count} values \
             of {bits} bits need {needed} bits",
            data.len()
        )));
    }
    Ok(())
}
