//! ecCodes' arithmetic: its powers, the linear unpacking `(R + X·2^E)·10^-D`, and its
//! conversions of the IEEE (GRIB2) and IBM (GRIB1) reference values to `f64`.
//!
//! Each follows ecCodes' operations in the same order, so that results are bit-identical
//! with what ecCodes gives, not merely close.

/// ecCodes' `codes_power<double>(s, n)`: `n^s` by repeated multiplication (`s > 0`) or
/// repeated division (`s < 0`). 10^-6 is thus `1/10/10/10/10/10/10`, one ulp above the
/// double nearest to 1e-6: the decimal factor must be computed this way for the products
/// to match.
pub(super) fn codes_power(exponent: i64, base: f64) -> f64 {
    match exponent {
        0 => 1.0,
        1 => base,
        e if e < 0 => {
            let mut value = 1.0;
            for _ in 0..e.unsigned_abs() {
                value /= base;
                // Zero stays zero: stop early (exponents go up to 32767).
                if value == 0.0 {
                    break;
                }
            }
            value
        }
        e => {
            let mut value = 1.0;
            for _ in 0..e {
                value *= base;
                if value.is_infinite() {
                    break;
                }
            }
            value
        }
    }
}

/// The linear map from a packed integer X to a value: `(X·2^E + R)·10^-D`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Linear {
    reference: f64,
    binary: f64,
    decimal: f64,
}

impl Linear {
    /// The map for reference value R, binary scale factor E and decimal scale factor D.
    pub(super) fn new(reference: f64, binary_scale: i64, decimal_scale: i64) -> Self {
        Self {
            reference,
            binary: codes_power(binary_scale, 2.0),
            decimal: codes_power(-decimal_scale, 10.0),
        }
    }

    /// The value of packed integer `x`, as ecCodes computes it:
    /// `((x * 2^E) + R) * 10^-D`, two roundings in this order and no fused multiply-add
    /// (Rust never contracts `a * b + c` into one).
    #[inline]
    pub(super) fn apply(self, x: f64) -> f64 {
        (x * self.binary + self.reference) * self.decimal
    }
}

/// A 16-bit sign-and-magnitude integer (GRIB's scale factors): the top bit is the sign.
pub(super) fn sign_magnitude16(raw: u16) -> i64 {
    let magnitude = i64::from(raw & 0x7FFF);
    if raw & 0x8000 == 0 {
        magnitude
    } else {
        -magnitude
    }
}

/// A GRIB2 reference value (32-bit IEEE float) as ecCodes' `grib_long_to_ieee` reads it.
///
/// Normal numbers convert exactly. ecCodes reads a subnormal with the implicit leading 1 of
/// a normal number (`(2^23 + m)·2^-149`) and a negative zero as +0; both quirks are kept.
/// Infinity and NaN (exponent 255) fall outside ecCodes' table: `None`.
pub(super) fn ieee_reference(bits: u32) -> Option<f64> {
    let exponent = (bits >> 23) & 0xFF;
    let mantissa = bits & 0x007F_FFFF;
    if exponent == 255 {
        return None;
    }
    if exponent == 0 && mantissa == 0 {
        return Some(0.0);
    }
    let exponent = exponent.max(1);
    // (2^23 + m)·2^(e-150): both factors exact, so the product is too.
    let magnitude = f64::from(mantissa | 0x0080_0000) * codes_power(i64::from(exponent) - 150, 2.0);
    Some(if bits & 0x8000_0000 == 0 {
        magnitude
    } else {
        -magnitude
    })
}

/// A GRIB1 reference value (IBM System/360 single precision: sign, base-16 exponent biased
/// by 64, 24-bit fraction) as ecCodes' `grib_long_to_ibm` reads it: `m·16^(e-70)`, exact.
pub(super) fn ibm_reference(bits: u32) -> f64 {
    let exponent = (bits >> 24) & 0x7F;
    let mantissa = bits & 0x00FF_FFFF;
    if exponent == 0 && mantissa <= 1 {
        return 0.0;
    }
    let magnitude = f64::from(mantissa) * codes_power(i64::from(exponent) - 70, 16.0);
    if bits & 0x8000_0000 == 0 {
        magnitude
    } else {
        -magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-for-bit equality, the comparison these tests mean.
    fn same(a: f64, b: f64) -> bool {
        a.to_bits() == b.to_bits()
    }

    #[test]
    fn powers_divide_repeatedly_like_eccodes() {
        assert!(same(codes_power(0, 10.0), 1.0));
        assert!(same(codes_power(3, 10.0), 1000.0));
        assert!(same(codes_power(-1, 10.0), 0.1));
        // Six divisions by 10 end one ulp above the double nearest to 1e-6.
        assert!(same(codes_power(-6, 10.0), 1.000_000_000_000_000_2e-6));
        assert!(!same(codes_power(-6, 10.0), 1e-6));
        assert!(same(codes_power(-20, 2.0), 2f64.powi(-20)));
        assert!(same(codes_power(-32767, 10.0), 0.0));
        assert!(same(codes_power(32767, 2.0), f64::INFINITY));
    }

    #[test]
    fn scale_factors_are_sign_and_magnitude() {
        assert_eq!(sign_magnitude16(0x0003), 3);
        assert_eq!(sign_magnitude16(0x8003), -3);
        assert_eq!(sign_magnitude16(0x8000), 0);
        assert_eq!(sign_magnitude16(0xFFFF), -32767);
    }

    #[test]
    fn ieee_reference_values() {
        for v in [0.0f32, 1.0, -1.5, 273.15, 1e-30, -3.4e38, f32::MIN_POSITIVE] {
            assert_eq!(ieee_reference(v.to_bits()), Some(f64::from(v)), "{v}");
        }
        assert_eq!(ieee_reference((-0.0f32).to_bits()), Some(0.0));
        // ecCodes' subnormal: the mantissa gains the implicit 1 of exponent 1.
        assert_eq!(
            ieee_reference(1),
            Some(f64::from(f32::MIN_POSITIVE) + 2f64.powi(-149))
        );
        assert_eq!(ieee_reference(f32::INFINITY.to_bits()), None);
        assert_eq!(ieee_reference(f32::NAN.to_bits()), None);
    }

    #[test]
    fn ibm_reference_values() {
        // 0x4110_0000 = +1/16 · 16^(65-64) = 1.0; 0xC276_A000 = -118.625 (IBM's example).
        assert!(same(ibm_reference(0x4110_0000), 1.0));
        assert!(same(ibm_reference(0xC276_A000), -118.625));
        assert!(same(ibm_reference(0), 0.0));
        assert!(same(ibm_reference(1), 0.0));
        let largest = f64::from(0xFF_FFFFu32) * 16f64.powi(57);
        assert!(same(ibm_reference(0x7FFF_FFFF), largest));
    }
}
