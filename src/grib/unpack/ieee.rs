//! IEEE packing (GRIB2 template 5.4): the values themselves, big-endian 32-bit (precision
//! 1) or 64-bit (precision 2) floats. 32-bit floats widen to `f64` exactly, as in ecCodes.

use super::{check_bits, Section, UnpackError};

/// Unpacks template 5.4: `data` is section 7 after its 5-byte header.
pub(super) fn unpack(
    sec5: &Section<'_>,
    count: usize,
    data: &[u8],
) -> Result<Vec<f64>, UnpackError> {
    match sec5.uint(12, 1)? {
        1 => {
            check_bits("section 7", data, count, 32)?;
            Ok(data
                .chunks_exact(4)
                .take(count)
                .map(|b| f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])))
                .collect())
        }
        2 => {
            check_bits("section 7", data, count, 64)?;
            Ok(data
                .chunks_exact(8)
                .take(count)
                .map(|b| f64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect())
        }
        3 => Err(UnpackError::Unsupported(
            "IEEE packing of 128-bit floats (template 5.4, precision 3)".into(),
        )),
        other => Err(UnpackError::Corrupt(format!(
            "IEEE precision {other} is not in code table 5.7 (1: 32 bits, 2: 64, 3: 128)"
        ))),
    }
}
