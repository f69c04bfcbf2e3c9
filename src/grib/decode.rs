//! A field's values on its grid: the packed values unpacked, spread over the bitmap.

use super::message::{find_messages, parse_message};
use super::sections::Field;
use super::unpack::{apply_bitmap, unpack_grib1, unpack_grib2};

/// The values of `field` (of the message `message`, whole), one per grid point in stored
/// order, NaN where the bitmap says a point has none.
///
/// # Errors
/// A description of what is wrong when the field cannot be unpacked.
pub fn field_values(message: &[u8], field: &Field) -> Result<Vec<f64>, String> {
    let section = |(at, len): (u64, u64)| {
        let start = usize::try_from(at).map_err(|e| e.to_string())?;
        let end = start
            .checked_add(usize::try_from(len).map_err(|e| e.to_string())?)
            .ok_or("section length overflows")?;
        message
            .get(start..end)
            .ok_or_else(|| format!("section at message byte {at} runs past the message"))
    };
    let points = usize::try_from(field.points).map_err(|e| e.to_string())?;
    let bitmap = field
        .data
        .bitmap
        .map(|loc| section(loc).map(|s| s.get(6..).unwrap_or_default()))
        .transpose()?;
    let values = if field.span.edition == 1 {
        let bds = section(field.data.data)?;
        let count = match bitmap {
            Some(b) => b
                .iter()
                .map(|x| x.count_ones() as usize)
                .sum::<usize>()
                .min(points),
            None => points,
        };
        unpack_grib1(bds, field.decimal_scale, count).map_err(|e| e.to_string())?
    } else {
        unpack_grib2(
            section(field.data.representation)?,
            section(field.data.data)?,
        )
        .map_err(|e| e.to_string())?
    };
    match bitmap {
        Some(b) => apply_bitmap(&values, b, points).map_err(|e| e.to_string()),
        None if values.len() == points => Ok(values),
        None => Err(format!(
            "{} values unpacked for a grid of {points} points and no bitmap",
            values.len()
        )),
    }
}

/// The values of the first field of the GRIB message `message` (kerchunk's `grib` codec
/// decodes a byte range this way).
///
/// # Errors
/// A description of what is wrong when `message` is not one whole GRIB message or its first
/// field cannot be unpacked.
pub fn first_field_values(message: &[u8]) -> Result<Vec<f64>, String> {
    let list = find_messages(message).map_err(|e| e.to_string())?;
    let span = *list
        .messages
        .first()
        .ok_or("the chunk holds no GRIB message")?;
    if span.offset != 0 {
        return Err(format!(
            "the chunk does not start with a GRIB message (found one at byte {})",
            span.offset
        ));
    }
    let fields = parse_message(message, span).map_err(|e| e.to_string())?;
    let field = fields.first().ok_or("the message holds no field")?;
    field_values(message, field)
}
