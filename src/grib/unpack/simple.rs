//! Simple packing (GRIB2 template 5.0, and the bit-packed integers of GRIB1's grid-point
//! simple packing): `count` unsigned integers of `bits` bits, each mapped by
//! `(R + X·2^E)·10^-D`.

use super::{bits, check_bits, constant, Linear, Packed, UnpackError};

/// Unpacks template 5.0: `data` is section 7 after its 5-byte header.
pub(super) fn unpack(packed: &Packed, count: usize, data: &[u8]) -> Result<Vec<f64>, UnpackError> {
    if packed.bits == 0 {
        return constant(count, packed.reference, data);
    }
    check_width(packed.bits)?;
    check_bits("section 7", data, count, packed.bits)?;
    Ok(decode(data, count, packed.bits, packed.linear))
}

/// ecCodes refuses widths its 64-bit integers cannot hold.
pub(super) fn check_width(bits: u32) -> Result<(), UnpackError> {
    if bits > 64 {
        return Err(UnpackError::Corrupt(format!(
            "{bits} bits per value: more than the 64 a packed integer can have"
        )));
    }
    Ok(())
}

/// Maps the first `count` integers of `bits` bits (checked present) through `linear`.
pub(super) fn decode(data: &[u8], count: usize, bits: u32, linear: Linear) -> Vec<f64> {
    let mut out = Vec::with_capacity(count);
    // The u64 → f64 conversion rounds to nearest like C's (exact below 2^53).
    bits::for_each(data, 0, bits, count, |x| out.push(linear.apply(x as f64)));
    out
}
