//! CCSDS packing (GRIB2 template 5.42): section 7 is a CCSDS 121.0 adaptive entropy coded
//! (AEC, libaec's format) stream of the packed integers, decoded by `rust-aec`.
//!
//! Section 5 octets 22–25 give libaec's flags, block size and reference sample interval.
//! Like ecCodes, samples of 17 to 24 bits are read from 4-byte containers (ecCodes clears
//! the 3-byte flag) and every sample is read as unsigned.

use rust_aec::{AecFlags, AecParams};

use super::{check_unbacked, constant, corrupt, simple, Packed, Section, UnpackError};

/// Unpacks template 5.42: `data` is section 7 after its 5-byte header.
pub(super) fn unpack(
    sec5: &Section<'_>,
    count: usize,
    data: &[u8],
) -> Result<Vec<f64>, UnpackError> {
    let packed = Packed::parse(sec5)?;
    if packed.bits == 0 {
        return constant(count, packed.reference, data);
    }
    if packed.bits > 32 {
        return Err(corrupt(format!(
            "CCSDS packing of {} bits per value (at most 32)",
            packed.bits
        )));
    }
    check_unbacked(count, data)?;
    let mut flags = rust_aec::flags_from_grib2_ccsds_flags(sec5.uint(22, 1)? as u8);
    // Containers of 1, 2 or 4 bytes, big-endian: the reader below takes them as integers
    // of 8, 16 or 32 bits.
    flags.remove(AecFlags::DATA_3BYTE);
    flags.insert(AecFlags::MSB);
    let block_size = sec5.uint(23, 1)? as u32;
    let rsi = sec5.uint(24, 2)? as u32;
    let params = AecParams::new(packed.bits as u8, block_size, rsi, flags);
    let samples = rust_aec::decode(data, params, count)
        .map_err(|e| corrupt(format!("CCSDS stream in section 7: {e}")))?;
    let container_bits = match packed.bits {
        1..=8 => 8,
        9..=16 => 16,
        _ => 32,
    };
    Ok(simple::decode(
        &samples,
        count,
        container_bits,
        packed.linear,
    ))
}
