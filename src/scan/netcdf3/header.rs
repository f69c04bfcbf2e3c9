//! The `NetCDF3` header parser: classic (CDF-1), 64-bit offset (CDF-2) and 64-bit data (CDF-5).
//!
//! Format: <https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html>.
//! Everything is big-endian; names and attribute values are padded to 4 bytes. CDF-2 widens
//! `begin` to 8 bytes; CDF-5 also widens every count, length, dimension id and `vsize`, and
//! adds the unsigned and 64-bit types.
//!
//! The header is read from a [`Source`] that fetches the file in growing pieces, so only the
//! header's bytes are read, never the data. Every read is checked: a read past the end of the
//! file, an unknown tag or type, or a count larger than the rest of the file could hold is an
//! error naming the byte offset, never a panic or a huge allocation.

use std::os::unix::fs::FileExt as _;

use serde_json::Value;

use crate::refs::{float_attr, Attrs};

/// The first piece of a file read for its header; more is read while the header needs it.
const FIRST_READ: u64 = 16 * 1024;
/// The largest header this parser reads (names, attributes): a larger one is a corrupt count.
const MAX_HEADER: u64 = 1 << 28;
/// The longest name accepted (netCDF-C's `NC_MAX_NAME` is 256; leave room for other writers).
const MAX_NAME: u64 = 4096;

const TAG_ABSENT: u32 = 0;
const TAG_DIMENSION: u32 = 0x0A;
const TAG_VARIABLE: u32 = 0x0B;
const TAG_ATTRIBUTE: u32 = 0x0C;

/// A `NetCDF3` external type (`nc_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NcType {
    Byte,
    Char,
    Short,
    Int,
    Float,
    Double,
    UByte,
    UShort,
    UInt,
    Int64,
    UInt64,
}

impl NcType {
    fn from_code(code: u32, cdf5: bool) -> Option<Self> {
        let t = match code {
            1 => Self::Byte,
            2 => Self::Char,
            3 => Self::Short,
            4 => Self::Int,
            5 => Self::Float,
            6 => Self::Double,
            7 => Self::UByte,
            8 => Self::UShort,
            9 => Self::UInt,
            10 => Self::Int64,
            11 => Self::UInt64,
            _ => return None,
        };
        (cdf5 || code <= 6).then_some(t)
    }

    /// Bytes of one element.
    pub(super) fn size(self) -> u64 {
        match self {
            Self::Byte | Self::Char | Self::UByte => 1,
            Self::Short | Self::UShort => 2,
            Self::Int | Self::Float | Self::UInt => 4,
            Self::Double | Self::Int64 | Self::UInt64 => 8,
        }
    }

    /// The Zarr V2 dtype, big-endian as stored; `char` is `|S1` (one character per element).
    pub(super) fn zarr_dtype(self) -> &'static str {
        match self {
            Self::Byte => "|i1",
            Self::Char => "|S1",
            Self::Short => ">i2",
            Self::Int => ">i4",
            Self::Float => ">f4",
            Self::Double => ">f8",
            Self::UByte => "|u1",
            Self::UShort => ">u2",
            Self::UInt => ">u4",
            Self::Int64 => ">i8",
            Self::UInt64 => ">u8",
        }
    }

    pub(super) fn is_float(self) -> bool {
        matches!(self, Self::Float | Self::Double)
    }

    /// One big-endian element as a JSON value (`bytes` holds exactly [`Self::size`] bytes).
    fn value(self, b: &[u8]) -> Value {
        let mut w = [0u8; 8];
        let n = b.len().min(8);
        if let (Some(dst), Some(src)) = (w.get_mut(8 - n..), b.get(..n)) {
            dst.copy_from_slice(src);
        }
        let raw = u64::from_be_bytes(w);
        match self {
            Self::Byte => Value::from(raw as u8 as i8),
            Self::Short => Value::from(raw as u16 as i16),
            Self::Int => Value::from(raw as u32 as i32),
            Self::Int64 => Value::from(raw as i64),
            Self::Char | Self::UByte | Self::UShort | Self::UInt | Self::UInt64 => Value::from(raw),
            Self::Float => float_attr(f64::from(f32::from_bits(raw as u32))),
            Self::Double => float_attr(f64::from_bits(raw)),
        }
    }
}

/// A dimension; the record (UNLIMITED) dimension has `len` 0 in the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dim {
    pub(super) name: String,
    pub(super) len: u64,
}

/// A variable as the header describes it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Var {
    pub(super) name: String,
    /// Indexes into [`Header::dims`].
    pub(super) dimids: Vec<usize>,
    pub(super) attrs: Attrs,
    pub(super) nc_type: NcType,
    /// The header's `vsize` (padded; saturates for huge variables: not trusted).
    pub(super) vsize: u64,
    /// Byte offset of the variable's data (of its first record, for record variables).
    pub(super) begin: u64,
}

/// A parsed `NetCDF3` header.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Header {
    /// 1 (classic), 2 (64-bit offset) or 5 (64-bit data).
    pub(super) version: u8,
    /// The number of records, or `None` when the file is being written (streaming,
    /// `numrecs` = all ones): the caller computes it from the file size.
    pub(super) numrecs: Option<u64>,
    pub(super) dims: Vec<Dim>,
    pub(super) attrs: Attrs,
    pub(super) vars: Vec<Var>,
    /// Bytes the header occupies.
    pub(super) len: u64,
}

impl Header {
    /// The index of the record dimension, if there is one.
    pub(super) fn record_dim(&self) -> Option<usize> {
        self.dims.iter().position(|d| d.len == 0)
    }
}

/// The bytes of a file, fetched in growing pieces as the parser asks for them.
pub(super) struct Source<'a> {
    file: Option<&'a std::fs::File>,
    buf: Vec<u8>,
    file_len: u64,
}

impl<'a> Source<'a> {
    /// A source reading `file` (of `file_len` bytes) on demand.
    pub(super) fn file(file: &'a std::fs::File, file_len: u64) -> Self {
        Self {
            file: Some(file),
            buf: Vec::new(),
            file_len,
        }
    }

    /// A source over bytes held in memory (the whole file).
    pub(super) fn bytes(bytes: &[u8]) -> Source<'static> {
        Source {
            file: None,
            buf: bytes.to_vec(),
            file_len: bytes.len() as u64,
        }
    }

    /// The `n` bytes at `pos`, reading more of the file when needed.
    fn get(&mut self, pos: u64, n: u64) -> Result<&[u8], String> {
        let end = pos
            .checked_add(n)
            .filter(|&e| e <= self.file_len)
            .ok_or_else(|| {
                format!(
                    "the header is truncated: {n} bytes needed at byte {pos}, the file has {} bytes",
                    self.file_len
                )
            })?;
        if end > MAX_HEADER {
            return Err(format!(
                "the header would be larger than {MAX_HEADER} bytes ({n} bytes needed at byte {pos}): a corrupt count?"
            ));
        }
        let have = self.buf.len() as u64;
        if end > have {
            let file = self
                .file
                .ok_or_else(|| format!("no bytes at byte {have}"))?;
            let want = end
                .max(have.saturating_mul(2))
                .max(FIRST_READ)
                .min(self.file_len)
                .min(MAX_HEADER);
            self.buf.resize(want as usize, 0);
            let target = self.buf.get_mut(have as usize..).unwrap_or_default();
            if let Err(e) = file.read_exact_at(target, have) {
                self.buf.truncate(have as usize);
                return Err(format!("cannot read the header at byte {have}: {e}"));
            }
        }
        self.buf
            .get(pos as usize..end as usize)
            .ok_or_else(|| format!("no bytes at byte {pos}"))
    }
}

/// A cursor over the header.
struct Cursor<'s, 'a> {
    src: &'s mut Source<'a>,
    pos: u64,
    cdf5: bool,
}

impl Cursor<'_, '_> {
    fn take(&mut self, n: u64) -> Result<&[u8], String> {
        let pos = self.pos;
        let bytes = self.src.get(pos, n)?;
        self.pos = pos + n;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        let a: [u8; 4] = b.try_into().map_err(|_| "short read".to_owned())?;
        Ok(u32::from_be_bytes(a))
    }

    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let a: [u8; 8] = b.try_into().map_err(|_| "short read".to_owned())?;
        Ok(u64::from_be_bytes(a))
    }

    /// A count, length or id: 4 bytes, or 8 in CDF-5.
    fn non_neg(&mut self) -> Result<u64, String> {
        if self.cdf5 {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }

    fn width(&self) -> u64 {
        if self.cdf5 {
            8
        } else {
            4
        }
    }

    /// The bytes left in the file after the cursor.
    fn remaining(&self) -> u64 {
        self.src.file_len.saturating_sub(self.pos)
    }

    /// A count of items of at least `min_size` bytes each, checked against the rest of the file.
    fn count(&mut self, what: &str, min_size: u64) -> Result<u64, String> {
        let at = self.pos;
        let n = self.non_neg()?;
        if n.saturating_mul(min_size) > self.remaining() {
            return Err(format!(
                "{what} count {n} at byte {at} is more than the rest of the file can hold: the header is corrupt or truncated"
            ));
        }
        Ok(n)
    }

    fn skip_padding(&mut self, len: u64) -> Result<(), String> {
        let pad = (4 - len % 4) % 4;
        self.take(pad).map(|_| ())
    }

    fn name(&mut self, what: &str) -> Result<String, String> {
        let at = self.pos;
        let n = self.non_neg()?;
        if n > MAX_NAME {
            return Err(format!(
                "{what} name length {n} at byte {at} is longer than any netCDF name ({MAX_NAME}): the header is corrupt"
            ));
        }
        let name = String::from_utf8_lossy(self.take(n)?).into_owned();
        self.skip_padding(n)?;
        Ok(name)
    }

    /// A list header: its tag (or ABSENT) and element count.
    fn list(&mut self, tag: u32, what: &str, min_size: u64) -> Result<u64, String> {
        let at = self.pos;
        let found = self.u32()?;
        let count_at = self.pos;
        if found == TAG_ABSENT {
            let n = self.non_neg()?;
            if n != 0 {
                return Err(format!(
                    "absent {what} list with count {n} at byte {count_at}: the header is corrupt"
                ));
            }
            return Ok(0);
        }
        if found != tag {
            return Err(format!(
                "expected the {what} list tag {tag:#x} at byte {at}, found {found:#x}"
            ));
        }
        self.count(what, min_size)
    }

    fn nc_type(&mut self) -> Result<NcType, String> {
        let at = self.pos;
        let code = self.u32()?;
        NcType::from_code(code, self.cdf5).ok_or_else(|| {
            format!(
                "unknown type {code} at byte {at}{}",
                if self.cdf5 || !(7..=11).contains(&code) {
                    ""
                } else {
                    " (types 7-11 exist only in CDF-5 files)"
                }
            )
        })
    }

    fn attrs(&mut self) -> Result<Attrs, String> {
        // name length + type + count
        let min = self.width() + 4 + self.width();
        let n = self.list(TAG_ATTRIBUTE, "attribute", min)?;
        let mut attrs = Attrs::new();
        for _ in 0..n {
            let name = self.name("attribute")?;
            let t = self.nc_type()?;
            let at = self.pos;
            let count = self.non_neg()?;
            let len = count.checked_mul(t.size()).ok_or_else(|| {
                format!("attribute {name}: value count {count} at byte {at} overflows")
            })?;
            let bytes = self.take(len)?;
            let value = attr_value(t, bytes);
            self.skip_padding(len)?;
            attrs.insert(name, value);
        }
        Ok(attrs)
    }
}

/// An attribute's values as JSON: `char` → a string (trailing NULs dropped, as netCDF4-python
/// does), numbers → one number or a list (NaN and infinities as non-finite markers).
fn attr_value(t: NcType, bytes: &[u8]) -> Value {
    if t == NcType::Char {
        let text = String::from_utf8_lossy(bytes);
        return Value::from(text.trim_end_matches('\0'));
    }
    let mut values: Vec<Value> = bytes
        .chunks_exact(t.size() as usize)
        .map(|b| t.value(b))
        .collect();
    if values.len() == 1 {
        values.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(values)
    }
}

/// Parses the header of a file whose first bytes are `CDF` and a version byte.
///
/// # Errors
/// A message naming the byte offset where the header is truncated or corrupt.
pub(super) fn parse(src: &mut Source<'_>) -> Result<Header, String> {
    let magic = src.get(0, 4)?;
    let version = match magic {
        [b'C', b'D', b'F', v @ (1 | 2 | 5)] => *v,
        _ => return Err(format!("not a NetCDF3 file (magic {magic:?} at byte 0)")),
    };
    let cdf5 = version == 5;
    let mut c = Cursor { src, pos: 4, cdf5 };
    let w = c.width();
    let raw_numrecs = c.non_neg()?;
    let streaming = if cdf5 {
        raw_numrecs == u64::MAX
    } else {
        raw_numrecs == u64::from(u32::MAX)
    };
    let numrecs = (!streaming).then_some(raw_numrecs);

    let n = c.list(TAG_DIMENSION, "dimension", 2 * w)?;
    let mut dims = Vec::new();
    for _ in 0..n {
        let name = c.name("dimension")?;
        let len = c.non_neg()?;
        dims.push(Dim { name, len });
    }
    if dims.iter().filter(|d| d.len == 0).count() > 1 {
        return Err("more than one record (UNLIMITED) dimension".into());
    }
    let attrs = c.attrs()?;

    let begin_width = if version == 1 { 4 } else { 8 };
    // name length + ndims + attribute list (tag, count) + type + vsize + begin
    let min_var = w + w + 4 + w + 4 + w + begin_width;
    let n = c.list(TAG_VARIABLE, "variable", min_var)?;
    let mut vars = Vec::new();
    for _ in 0..n {
        let name = c.name("variable")?;
        let ndims = c.count("dimension id", w)?;
        let mut dimids = Vec::new();
        for _ in 0..ndims {
            let at = c.pos;
            let id = c.non_neg()?;
            let id = usize::try_from(id)
                .ok()
                .filter(|&i| i < dims.len())
                .ok_or_else(|| {
                    format!(
                        "variable {name}: dimension id {id} at byte {at}, but there are {} dimensions",
                        dims.len()
                    )
                })?;
            dimids.push(id);
        }
        let attrs = c.attrs()?;
        let nc_type = c.nc_type()?;
        let vsize = c.non_neg()?;
        let begin = if version == 1 {
            u64::from(c.u32()?)
        } else {
            c.u64()?
        };
        vars.push(Var {
            name,
            dimids,
            attrs,
            nc_type,
            vsize,
            begin,
        });
    }
    Ok(Header {
        version,
        numrecs,
        dims,
        attrs,
        vars,
        len: c.pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A classic header: dims `time` (record) and `x` (3), a global attribute, one record
    /// variable `v(time, x)` of shorts with a `units` attribute.
    fn classic() -> Vec<u8> {
        let mut h = b"CDF\x01".to_vec();
        let be = |x: u32| x.to_be_bytes();
        h.extend(be(2)); // numrecs
        h.extend(be(TAG_DIMENSION));
        h.extend(be(2));
        h.extend(be(4));
        h.extend(b"time");
        h.extend(be(0));
        h.extend(be(1));
        h.extend(b"x\0\0\0");
        h.extend(be(3));
        h.extend(be(TAG_ATTRIBUTE));
        h.extend(be(1));
        h.extend(be(5));
        h.extend(b"title\0\0\0");
        h.extend(be(2));
        h.extend(be(2));
        h.extend(b"hi\0\0");
        h.extend(be(TAG_VARIABLE));
        h.extend(be(1));
        h.extend(be(1));
        h.extend(b"v\0\0\0");
        h.extend(be(2));
        h.extend(be(0));
        h.extend(be(1));
        h.extend(be(TAG_ATTRIBUTE));
        h.extend(be(1));
        h.extend(be(5));
        h.extend(b"scale\0\0\0");
        h.extend(be(5)); // float
        h.extend(be(1));
        h.extend(f32::NAN.to_bits().to_be_bytes());
        h.extend(be(3)); // short
        h.extend(be(8)); // vsize: 6 padded to 8
        let begin = h.len() as u32 + 4;
        h.extend(be(begin));
        h
    }

    #[test]
    fn parses_a_classic_header() {
        let bytes = classic();
        let h = parse(&mut Source::bytes(&bytes)).unwrap();
        assert_eq!(h.version, 1);
        assert_eq!(h.numrecs, Some(2));
        assert_eq!(h.dims.len(), 2);
        assert_eq!(h.record_dim(), Some(0));
        assert_eq!(h.attrs["title"], Value::from("hi"));
        let v = &h.vars[0];
        assert_eq!(
            (v.name.as_str(), v.nc_type, v.vsize),
            ("v", NcType::Short, 8)
        );
        assert_eq!(v.dimids, [0, 1]);
        assert_eq!(v.begin, bytes.len() as u64);
        assert_eq!(v.attrs["scale"], float_attr(f64::NAN));
        assert_eq!(h.len, bytes.len() as u64);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let bytes = classic();
        for end in 0..bytes.len() {
            let err = parse(&mut Source::bytes(&bytes[..end])).unwrap_err();
            assert!(err.contains("byte"), "{end}: {err}");
        }
    }

    #[test]
    fn garbage_counts_fail_fast() {
        let mut bytes = classic();
        bytes[12..16].copy_from_slice(&0xFFFF_FFF0u32.to_be_bytes()); // dimension count
        let err = parse(&mut Source::bytes(&bytes)).unwrap_err();
        assert!(
            err.contains("dimension count 4294967280 at byte 12"),
            "{err}"
        );
    }

    #[test]
    fn values_are_big_endian() {
        assert_eq!(NcType::Short.value(&[0xff, 0xfe]), Value::from(-2));
        assert_eq!(NcType::UInt64.value(&[0xff; 8]), Value::from(u64::MAX));
        assert_eq!(
            attr_value(NcType::Int, &[0, 0, 0, 1, 0, 0, 0, 2]),
            serde_json::json!([1, 2])
        );
        assert_eq!(attr_value(NcType::Char, b""), Value::from(""));
    }
}
