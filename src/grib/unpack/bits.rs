//! Reading unsigned integers packed most significant bit first, as GRIB packs them.
//!
//! Callers check that the bits they ask for are present before reading (so that they can
//! say what is missing); a read past the end still never panics: absent bits read as 0.

/// Bits available in `bytes` bytes, saturating (a slice length times 8 cannot overflow on
/// the 64-bit targets chunkref builds for, but saturating costs nothing).
pub(super) fn bits_in(bytes: usize) -> u64 {
    (bytes as u64).saturating_mul(8)
}

/// Reads the `width`-bit (0..=64) unsigned integer at bit `bit` of `data`, byte by byte.
/// The slow path, for the last values of a buffer and for widths over 57 bits.
fn read_slow(data: &[u8], bit: usize, width: u32) -> u64 {
    let mut value: u64 = 0;
    let mut pos = bit;
    let mut left = width;
    while left > 0 {
        let byte = u64::from(data.get(pos / 8).copied().unwrap_or(0));
        let used = (pos % 8) as u32;
        let take = (8 - used).min(left);
        // The `take` bits of this byte after its first `used` bits.
        let chunk = (byte >> (8 - used - take)) & ((1 << take) - 1);
        value = (value << take) | chunk;
        pos += take as usize;
        left -= take;
    }
    value
}

/// The 8 bytes at `byte`, big-endian, when all are present.
#[inline]
fn window(data: &[u8], byte: usize) -> Option<u64> {
    let bytes: [u8; 8] = data.get(byte..byte + 8)?.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Reads `count` integers of `width` bits (0..=64) starting at bit `start` of `data`, and
/// hands each to `sink` in order.
///
/// The common widths read whole bytes; any other width up to 57 bits reads one unaligned
/// 64-bit big-endian window per value, so a value never costs more than a load, two shifts
/// and the sink.
pub(super) fn for_each(
    data: &[u8],
    start: usize,
    width: u32,
    count: usize,
    mut sink: impl FnMut(u64),
) {
    if width == 0 {
        (0..count).for_each(|_| sink(0));
        return;
    }
    if start.is_multiple_of(8) {
        if let Some(bytes) = data.get(start / 8..) {
            let done = match width {
                8 => aligned::<1>(bytes, count, &mut sink),
                16 => aligned::<2>(bytes, count, &mut sink),
                24 => aligned::<3>(bytes, count, &mut sink),
                32 => aligned::<4>(bytes, count, &mut sink),
                _ => 0,
            };
            if done == count {
                return;
            }
            // `done` is 0 here unless the buffer ran short: then the rest reads as zeros.
            let from = start + done * width as usize;
            return unaligned(data, from, width, count - done, &mut sink);
        }
    }
    unaligned(data, start, width, count, &mut sink);
}

/// Reads up to `count` big-endian integers of `N` bytes from the front of `bytes`; returns
/// how many it read (fewer than `count` only when `bytes` is short).
fn aligned<const N: usize>(bytes: &[u8], count: usize, sink: &mut impl FnMut(u64)) -> usize {
    let mut read = 0;
    for chunk in bytes.chunks_exact(N).take(count) {
        let value = chunk.iter().fold(0u64, |v, &b| (v << 8) | u64::from(b));
        sink(value);
        read += 1;
    }
    read
}

fn unaligned(data: &[u8], start: usize, width: u32, count: usize, sink: &mut impl FnMut(u64)) {
    let mut bit = start;
    let mut done = 0;
    if width <= 57 {
        // A value at bit offset o (0..=7) in its first byte ends within the 8-byte window
        // when o + width <= 64, true for every offset when width <= 57.
        let shift_right = 64 - width;
        while done < count {
            let Some(word) = window(data, bit / 8) else {
                break;
            };
            sink((word << (bit % 8)) >> shift_right);
            bit += width as usize;
            done += 1;
        }
    }
    for _ in done..count {
        sink(read_slow(data, bit, width));
        bit += width as usize;
    }
}

/// A cursor over bit-packed data, for fields read one at a time (complex packing's group
/// descriptors and extra descriptors).
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    bit: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at bit `bit` of `data`.
    pub(super) fn new(data: &'a [u8], bit: usize) -> Self {
        Self { data, bit }
    }

    /// Reads the next `width`-bit (0..=64) unsigned integer.
    pub(super) fn read(&mut self, width: u32) -> u64 {
        let value = if width <= 57 {
            match window(self.data, self.bit / 8) {
                Some(word) if width > 0 => (word << (self.bit % 8)) >> (64 - width),
                Some(_) => 0,
                None => read_slow(self.data, self.bit, width),
            }
        } else {
            read_slow(self.data, self.bit, width)
        };
        self.bit += width as usize;
        value
    }

    /// Reads the next `count` integers of `width` bits, handing each to `sink`.
    pub(super) fn read_many(&mut self, width: u32, count: usize, sink: impl FnMut(u64)) {
        for_each(self.data, self.bit, width, count, sink);
        self.bit += width as usize * count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs `values` of `width` bits after `lead` zero bits, the reference for the reader.
    fn pack(values: &[u64], width: u32, lead: usize) -> Vec<u8> {
        let total = lead + values.len() * width as usize;
        let mut out = vec![0u8; total.div_ceil(8) + 1];
        let mut bit = lead;
        for &v in values {
            for k in (0..width).rev() {
                if (v >> k) & 1 == 1 {
                    out[bit / 8] |= 0x80 >> (bit % 8);
                }
                bit += 1;
            }
        }
        out
    }

    fn collect(data: &[u8], start: usize, width: u32, count: usize) -> Vec<u64> {
        let mut out = Vec::new();
        for_each(data, start, width, count, |v| out.push(v));
        out
    }

    #[test]
    fn every_width_and_offset_round_trips() {
        for width in 1..=64u32 {
            let mask = if width == 64 {
                u64::MAX
            } else {
                (1 << width) - 1
            };
            let values: Vec<u64> = (0..37u64)
                .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(i as u32) & mask)
                .collect();
            for lead in 0..9 {
                let data = pack(&values, width, lead);
                assert_eq!(
                    collect(&data, lead, width, values.len()),
                    values,
                    "{width} {lead}"
                );
                let mut reader = BitReader::new(&data, lead);
                let one_by_one: Vec<u64> = values.iter().map(|_| reader.read(width)).collect();
                assert_eq!(one_by_one, values, "reader {width} {lead}");
            }
        }
    }

    #[test]
    fn reading_past_the_end_gives_zeros_without_panicking() {
        let data = [0xFFu8; 3];
        assert_eq!(collect(&data, 0, 16, 3), vec![0xFFFF, 0xFF00, 0]);
        assert_eq!(collect(&data, 4, 12, 3), vec![0xFFF, 0xFF0, 0]);
        assert_eq!(collect(&data, 1000, 64, 2), vec![0, 0]);
        let mut reader = BitReader::new(&data, 20);
        assert_eq!(reader.read(8), 0xF0);
        assert_eq!(reader.read(64), 0);
        assert_eq!(collect(&[], 0, 0, 4), vec![0; 4]);
    }
}
