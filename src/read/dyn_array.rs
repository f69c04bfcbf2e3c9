//! [`DynArray`]: the values of a variable whose dtype is known only at run time.
//!
//! The CLI prints variables it knows only by name; this enum carries whichever element type
//! the store's dtype gives. Reading is [`super::Variable`]'s job; this file only holds values.

use ndarray::ArrayD;

/// Values read from a variable, in the element type its dtype implies.
///
/// Big-endian dtypes come out as native values; `float16` is widened to `F32` (exactly).
/// Deliberately exhaustive, so that callers (the CLI) handle every kind of value.
#[derive(Debug, Clone, PartialEq)]
pub enum DynArray {
    /// `|i1`
    I8(ArrayD<i8>),
    /// `|u1`
    U8(ArrayD<u8>),
    /// `<i2`, `>i2`
    I16(ArrayD<i16>),
    /// `<u2`, `>u2`
    U16(ArrayD<u16>),
    /// `<i4`, `>i4`
    I32(ArrayD<i32>),
    /// `<u4`, `>u4`
    U32(ArrayD<u32>),
    /// `<i8`, `>i8`
    I64(ArrayD<i64>),
    /// `<u8`, `>u8`
    U64(ArrayD<u64>),
    /// `<f2`, `<f4` (and big-endian twins)
    F32(ArrayD<f32>),
    /// `<f8`, `>f8`
    F64(ArrayD<f64>),
    /// `|b1`
    Bool(ArrayD<bool>),
    /// Fixed-width byte strings (`|S<n>`), trailing `NUL` bytes removed as `NumPy` shows them.
    Bytes(ArrayD<Vec<u8>>),
    /// Variable-length UTF-8 strings (`|O` with `vlen-utf8`).
    String(ArrayD<String>),
}

/// Applies `$body` to the inner array of every variant, binding it as `$a`.
macro_rules! each {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            DynArray::I8($a) => $body,
            DynArray::U8($a) => $body,
            DynArray::I16($a) => $body,
            DynArray::U16($a) => $body,
            DynArray::I32($a) => $body,
            DynArray::U32($a) => $body,
            DynArray::I64($a) => $body,
            DynArray::U64($a) => $body,
            DynArray::F32($a) => $body,
            DynArray::F64($a) => $body,
            DynArray::Bool($a) => $body,
            DynArray::Bytes($a) => $body,
            DynArray::String($a) => $body,
        }
    };
}

/// Rebuilds the same variant from `$body` applied to its inner array, bound as `$a`.
macro_rules! map_each {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            DynArray::I8($a) => DynArray::I8($body),
            DynArray::U8($a) => DynArray::U8($body),
            DynArray::I16($a) => DynArray::I16($body),
            DynArray::U16($a) => DynArray::U16($body),
            DynArray::I32($a) => DynArray::I32($body),
            DynArray::U32($a) => DynArray::U32($body),
            DynArray::I64($a) => DynArray::I64($body),
            DynArray::U64($a) => DynArray::U64($body),
            DynArray::F32($a) => DynArray::F32($body),
            DynArray::F64($a) => DynArray::F64($body),
            DynArray::Bool($a) => DynArray::Bool($body),
            DynArray::Bytes($a) => DynArray::Bytes($body),
            DynArray::String($a) => DynArray::String($body),
        }
    };
}

impl DynArray {
    /// Every `steps[d]`-th element along each dimension `d` (a missing step is 1).
    #[must_use]
    pub fn step_by(&self, steps: &[usize]) -> Self {
        let info: Vec<ndarray::SliceInfoElem> = (0..self.shape().len())
            .map(|d| ndarray::SliceInfoElem::Slice {
                start: 0,
                end: None,
                step: steps.get(d).copied().unwrap_or(1).max(1) as isize,
            })
            .collect();
        map_each!(self, a => a.slice(info.as_slice()).to_owned())
    }

    /// The extent of each dimension.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        each!(self, a => a.shape())
    }

    /// The number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        each!(self, a => a.len())
    }

    /// Whether there are no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f64` (booleans as 0 and 1), or `None` for strings. With `unsigned`,
    /// signed integers are reinterpreted as unsigned of the same width (CF `_Unsigned`).
    /// 64-bit integers beyond 2^53 round to the nearest `f64`.
    #[must_use]
    #[allow(clippy::cast_precision_loss, clippy::cast_sign_loss)]
    pub fn to_f64(&self, unsigned: bool) -> Option<ArrayD<f64>> {
        Some(match self {
            Self::I8(a) if unsigned => a.mapv(|v| f64::from(v as u8)),
            Self::I16(a) if unsigned => a.mapv(|v| f64::from(v as u16)),
            Self::I32(a) if unsigned => a.mapv(|v| f64::from(v as u32)),
            Self::I64(a) if unsigned => a.mapv(|v| v as u64 as f64),
            Self::I8(a) => a.mapv(f64::from),
            Self::U8(a) => a.mapv(f64::from),
            Self::I16(a) => a.mapv(f64::from),
            Self::U16(a) => a.mapv(f64::from),
            Self::I32(a) => a.mapv(f64::from),
            Self::U32(a) => a.mapv(f64::from),
            Self::I64(a) => a.mapv(|v| v as f64),
            Self::U64(a) => a.mapv(|v| v as f64),
            Self::F32(a) => a.mapv(f64::from),
            Self::F64(a) => a.clone(),
            Self::Bool(a) => a.mapv(|v| f64::from(u8::from(v))),
            Self::Bytes(_) | Self::String(_) => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use ndarray::arr1;

    use super::*;

    #[test]
    fn steps_keep_the_variant() {
        let a = DynArray::U16(
            ndarray::Array::from_shape_vec((2, 5), (0u16..10).collect())
                .unwrap()
                .into_dyn(),
        );
        let DynArray::U16(b) = a.step_by(&[1, 2]) else {
            panic!("variant changed")
        };
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), [0, 2, 4, 5, 7, 9]);
    }

    #[test]
    fn conversions_to_f64() {
        let a = DynArray::I8(arr1(&[-1i8, 2]).into_dyn());
        assert_eq!(a.shape(), &[2]);
        assert_eq!(a.to_f64(false).unwrap().as_slice().unwrap(), &[-1.0, 2.0]);
        assert_eq!(a.to_f64(true).unwrap().as_slice().unwrap(), &[255.0, 2.0]);
        let b = DynArray::Bool(arr1(&[true, false]).into_dyn());
        assert_eq!(b.to_f64(false).unwrap().as_slice().unwrap(), &[1.0, 0.0]);
        assert!(DynArray::String(arr1(&["x".to_owned()]).into_dyn())
            .to_f64(false)
            .is_none());
    }
}
