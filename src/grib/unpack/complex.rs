//! Complex (grouped) packing, GRIB2 template 5.2, and complex packing with spatial
//! differencing, template 5.3, decoded as ecCodes' `data_g22order_packing` decodes them.
//!
//! Section 7 holds, each part padded to a whole octet: for 5.3 the first one or two values
//! and the overall minimum of the differences ("extra descriptors"), then one reference per
//! group, one width per group, one scaled length per group, and the groups' packed values.
//! A value is its group's reference plus its packed integer; with missing value management
//! the largest integer of a group's width (and for management 2 the one below it) marks a
//! missing value, which unpacks as NaN. Spatial differencing is then undone over the
//! present values, in wrapping 64-bit integer arithmetic as in ecCodes.

use super::bits::{self, BitReader};
use super::{check_unbacked, constant, corrupt, Packed, Section, UnpackError};

/// ecCodes' in-band marker of a missing value among the integers (its `LONG_MAX`).
const MISSING: i64 = i64::MAX;

/// What section 5 says about the groups (octets 22–49).
struct Params {
    packed: Packed,
    /// Missing value management (code table 5.5): 0 none, 1 primary, 2 primary and secondary.
    missing: u64,
    groups: usize,
    width_reference: u64,
    width_bits: u32,
    length_reference: u64,
    length_increment: u64,
    last_length: u64,
    length_bits: u32,
    /// Order of spatial differencing: 0 (template 5.2), 1 or 2.
    order: u64,
    /// Octets of each extra descriptor (template 5.3).
    extra_octets: u64,
}

/// Where each part of section 7's data starts, in bits.
struct Layout {
    references: usize,
    widths: usize,
    lengths: usize,
    values: usize,
}

/// One group's descriptors.
struct Group {
    reference: u64,
    width: u64,
    length: u64,
}

/// Unpacks template 5.2 (`spatial` false) or 5.3: `data` is section 7 after its header.
pub(super) fn unpack(
    sec5: &Section<'_>,
    count: usize,
    data: &[u8],
    spatial: bool,
) -> Result<Vec<f64>, UnpackError> {
    let params = Params::parse(sec5, spatial)?;
    if params.groups == 0 {
        // ECC-2095: no groups is a constant field.
        return constant(count, params.packed.reference, data);
    }
    params.validate(count)?;
    check_unbacked(count, data)?;
    let layout = params.layout(data)?;
    params.check_groups(data, &layout, count)?;
    let mut integers = vec![0i64; count];
    params.decode_groups(data, &layout, &mut integers);
    if params.order > 0 {
        params.undo_differencing(data, &mut integers);
    }
    let linear = params.packed.linear;
    // Same size and alignment: the collect reuses the integers' allocation.
    Ok(integers
        .into_iter()
        .map(|v| {
            if v == MISSING {
                f64::NAN
            } else {
                linear.apply(v as f64)
            }
        })
        .collect())
}

impl Params {
    fn parse(sec5: &Section<'_>, spatial: bool) -> Result<Self, UnpackError> {
        let (order, extra_octets) = if spatial {
            (sec5.uint(48, 1)?, sec5.uint(49, 1)?)
        } else {
            (0, 0)
        };
        Ok(Self {
            packed: Packed::parse(sec5)?,
            missing: sec5.uint(23, 1)?,
            groups: usize::try_from(sec5.uint(32, 4)?).unwrap_or(usize::MAX),
            width_reference: sec5.uint(36, 1)?,
            width_bits: sec5.uint(37, 1)? as u32,
            length_reference: sec5.uint(38, 4)?,
            length_increment: sec5.uint(42, 1)?,
            last_length: sec5.uint(43, 4)?,
            length_bits: sec5.uint(47, 1)? as u32,
            order,
            extra_octets,
        })
    }

    /// Checks what section 5 alone can contradict.
    fn validate(&self, count: usize) -> Result<(), UnpackError> {
        if self.order > 2 {
            return Err(UnpackError::Unsupported(format!(
                "complex packing with spatial differencing of order {} (ecCodes decodes 1 and 2)",
                self.order
            )));
        }
        if self.order > 0 && !(1..=8).contains(&self.extra_octets) {
            return Err(corrupt(format!(
                "extra descriptors of {} octets (spatial differencing needs 1 to 8)",
                self.extra_octets
            )));
        }
        if self.missing > 2 {
            return Err(corrupt(format!(
                "missing value management {} is not in code table 5.5 (0, 1 or 2)",
                self.missing
            )));
        }
        for (what, bits) in [
            ("group references", self.packed.bits),
            ("group widths", self.width_bits),
            ("group lengths", self.length_bits),
        ] {
            if bits > 64 {
                return Err(corrupt(format!("{what} of {bits} bits: more than 64")));
            }
        }
        // Every group holds a value (this also bounds the time spent on the descriptors).
        if self.groups > count.max(1) {
            return Err(corrupt(format!(
                "{} groups for {count} values",
                self.groups
            )));
        }
        Ok(())
    }

    /// Places the parts of section 7, checking that the descriptors are all present.
    fn layout(&self, data: &[u8]) -> Result<Layout, UnpackError> {
        let groups = self.groups as u64;
        let extras = if self.order > 0 {
            (self.order + 1) * self.extra_octets * 8
        } else {
            0
        };
        // Each part starts on an octet boundary.
        let after = |start: u64, bits: u32| (start + groups * u64::from(bits)).div_ceil(8) * 8;
        let widths = after(extras, self.packed.bits);
        let lengths = after(widths, self.width_bits);
        let values = after(lengths, self.length_bits);
        if values > bits::bits_in(data.len()) {
            return Err(corrupt(format!(
                "section 7 holds {} bytes, fewer than the {} bytes of descriptors of {} groups",
                data.len(),
                values / 8,
                self.groups
            )));
        }
        Ok(Layout {
            references: extras as usize,
            widths: widths as usize,
            lengths: lengths as usize,
            values: values as usize,
        })
    }

    /// The groups' descriptors, in order.
    fn groups<'a>(&'a self, data: &'a [u8], layout: &Layout) -> impl Iterator<Item = Group> + 'a {
        let mut references = BitReader::new(data, layout.references);
        let mut widths = BitReader::new(data, layout.widths);
        let mut lengths = BitReader::new(data, layout.lengths);
        (0..self.groups).map(move |index| {
            let reference = references.read(self.packed.bits);
            let width = widths
                .read(self.width_bits)
                .saturating_add(self.width_reference);
            let scaled = lengths.read(self.length_bits);
            let length = if index + 1 == self.groups {
                self.last_length
            } else {
                // Saturating: an absurd length then fails the count check below.
                scaled
                    .saturating_mul(self.length_increment)
                    .saturating_add(self.length_reference)
            };
            Group {
                reference,
                width,
                length,
            }
        })
    }

    /// Checks the groups against the count and the packed values against section 7.
    fn check_groups(&self, data: &[u8], layout: &Layout, count: usize) -> Result<(), UnpackError> {
        let mut values: u64 = 0;
        let mut value_bits: u128 = 0;
        for (index, group) in self.groups(data, layout).enumerate() {
            if group.width > 64 {
                return Err(corrupt(format!(
                    "group {index} has values of {} bits",
                    group.width
                )));
            }
            values = values.saturating_add(group.length);
            if values > count as u64 {
                return Err(corrupt(format!(
                    "the groups up to group {index} hold {values} values, more than the {count} \
                     of section 5"
                )));
            }
            value_bits += u128::from(group.length) * u128::from(group.width);
        }
        // ecCodes leaves the values past the last group 0 (the reference value); a message
        // whose groups miss values is corrupt, and refusing it keeps the count from being
        // trusted without groups to back it.
        if values != count as u64 {
            return Err(corrupt(format!(
                "the {} groups hold {values} values, section 5 says {count}",
                self.groups
            )));
        }
        let needed = (layout.values as u128 + value_bits).div_ceil(8);
        if needed > data.len() as u128 {
            return Err(corrupt(format!(
                "section 7 holds {} bytes, its {} groups need {needed}",
                data.len(),
                self.groups
            )));
        }
        Ok(())
    }

    /// Decodes every group's integers into `out` (checked to hold them).
    fn decode_groups(&self, data: &[u8], layout: &Layout, out: &mut [i64]) {
        let mut values = BitReader::new(data, layout.values);
        let mut slots = out.iter_mut();
        let reference_max = low_mask(u64::from(self.packed.bits));
        for group in self.groups(data, layout) {
            let length = group.length as usize;
            let width = group.width as u32;
            let base = group.reference;
            if width == 0 {
                // No bits: the group is its reference, or wholly missing when the reference
                // is the missing marker.
                let v = if is_missing(self.missing, base, reference_max) {
                    MISSING
                } else {
                    base as i64
                };
                slots.by_ref().take(length).for_each(|slot| *slot = v);
                continue;
            }
            let value_max = low_mask(u64::from(width));
            let missing = self.missing;
            values.read_many(width, length, |x| {
                if let Some(slot) = slots.next() {
                    *slot = if is_missing(missing, x, value_max) {
                        MISSING
                    } else {
                        base.wrapping_add(x) as i64
                    };
                }
            });
        }
    }

    /// Undoes spatial differencing over the present values, as ecCodes' `post_process`: the
    /// first (and for order 2 the second) present value is the extra descriptor, each next
    /// one adds the overall minimum (`bias`) to its difference.
    fn undo_differencing(&self, data: &[u8], integers: &mut [i64]) {
        let width = (self.extra_octets * 8) as u32;
        let mut extras = BitReader::new(data, 0);
        let first = extras.read(width) as i64;
        let second = if self.order == 2 {
            extras.read(width) as i64
        } else {
            0
        };
        // The minimum is sign and magnitude.
        let negative = extras.read(1) == 1;
        let magnitude = extras.read(width - 1) as i64;
        let bias = if negative {
            magnitude.wrapping_neg()
        } else {
            magnitude
        };

        let mut present = integers.iter_mut().filter(|v| **v != MISSING);
        if self.order == 1 {
            let mut last = first;
            if let Some(v) = present.next() {
                *v = first;
            }
            for v in present {
                *v = v.wrapping_add(last.wrapping_add(bias));
                last = *v;
            }
        } else {
            let (mut penultimate, mut last) = (first, second);
            // The array first: zip stops on it without taking a third present value.
            for (value, v) in [first, second].into_iter().zip(present.by_ref()) {
                *v = value;
            }
            for v in present {
                *v = v
                    .wrapping_add(bias)
                    .wrapping_add(last)
                    .wrapping_add(last)
                    .wrapping_sub(penultimate);
                penultimate = last;
                last = *v;
            }
        }
    }
}

/// The largest integer of `bits` bits.
fn low_mask(bits: u64) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    }
}

/// Whether packed integer `raw` (of which `max` is the largest) marks a missing value under
/// missing value management `management`: the largest for primary missing values, and the
/// one below it too for secondary ones.
fn is_missing(management: u64, raw: u64, max: u64) -> bool {
    match management {
        1 => raw == max,
        2 => raw == max || raw == max.wrapping_sub(1),
        _ => false,
    }
}
