//! CF decoding of raw values, as xarray's `mask_and_scale` does it.
//!
//! Values equal to `_FillValue` or `missing_value` (a scalar or a list) become NaN, then
//! `value * scale_factor + add_offset` is applied; `_Unsigned = "true"` on a signed integer
//! variable reinterprets its values (and its fill values) as unsigned first. Fill values are
//! compared in the variable's own precision (a `_FillValue` of a `float32` variable is rounded
//! to `float32`, as `NumPy` 2 compares a `float32` array with a Python float).
//!
//! This module works on values and attributes only; reading is [`super::Variable`]'s job.

use ndarray::ArrayD;
use serde_json::Value;

use crate::refs::Attrs;

/// What a variable's CF attributes say about decoding its raw values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CfDecoding {
    /// Raw values that mean "no data", as `f64` in the variable's precision.
    pub missing: Vec<f64>,
    /// `scale_factor`, when present.
    pub scale_factor: Option<f64>,
    /// `add_offset`, when present.
    pub add_offset: Option<f64>,
    /// Whether signed integers are to be read as unsigned (`_Unsigned = "true"`).
    pub unsigned: bool,
}

/// A number from an attribute value: a JSON number, a CF/Zarr special string (`"NaN"`,
/// `"Infinity"`, `"-Infinity"`), or a one-element list of those.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "nan" => Some(f64::NAN),
            "infinity" | "inf" => Some(f64::INFINITY),
            "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        Value::Array(items) if items.len() == 1 => number(&items[0]),
        other => crate::refs::attr_f64(other),
    }
}

/// All numbers of an attribute that may be a scalar or a list.
fn numbers(name: &str, value: &Value) -> Result<Vec<f64>, String> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    items
        .into_iter()
        .map(|v| number(v).ok_or_else(|| format!("attribute {name} = {v} is not a number")))
        .collect()
}

/// `value` as the variable of `dtype` holds it: rounded to its float precision, or wrapped
/// into the unsigned range when `unsigned`.
fn in_precision(value: f64, dtype: &str, unsigned: bool) -> f64 {
    let bits = dtype
        .get(2..)
        .and_then(|n| n.parse::<i32>().ok())
        .unwrap_or(8)
        * 8;
    match dtype.as_bytes().get(1) {
        #[allow(clippy::cast_possible_truncation)]
        Some(b'f') if bits == 32 => f64::from(value as f32),
        Some(b'f') if bits == 16 => f64::from(half::f16::from_f64(value)),
        Some(b'i') if unsigned && value < 0.0 => value + 2f64.powi(bits),
        _ => value,
    }
}

impl CfDecoding {
    /// Reads the CF attributes of a variable whose Zarr dtype is `dtype`.
    ///
    /// # Errors
    /// Returns a message naming the attribute when one is present but not numeric.
    pub fn from_attrs(attrs: &Attrs, dtype: &str) -> Result<Self, String> {
        let unsigned = dtype.as_bytes().get(1) == Some(&b'i')
            && attrs
                .get("_Unsigned")
                .and_then(Value::as_str)
                .is_some_and(|u| u.eq_ignore_ascii_case("true"));
        let mut missing = Vec::new();
        for name in ["_FillValue", "missing_value"] {
            if let Some(v) = attrs.get(name) {
                missing.extend(
                    numbers(name, v)?
                        .into_iter()
                        .map(|x| in_precision(x, dtype, unsigned)),
                );
            }
        }
        let scalar = |name: &str| -> Result<Option<f64>, String> {
            attrs
                .get(name)
                .map(|v| number(v).ok_or_else(|| format!("attribute {name} = {v} is not a number")))
                .transpose()
        };
        Ok(Self {
            missing,
            scale_factor: scalar("scale_factor")?,
            add_offset: scalar("add_offset")?,
            unsigned,
        })
    }

    /// Whether decoding changes anything.
    #[must_use]
    pub fn is_identity(&self) -> bool {
        self.missing.is_empty() && self.scale_factor.is_none() && self.add_offset.is_none()
    }

    /// Decodes raw values in place: fill and missing values to NaN, then scale and offset.
    pub fn apply(&self, values: &mut ArrayD<f64>) {
        let scale = self.scale_factor.unwrap_or(1.0);
        let offset = self.add_offset.unwrap_or(0.0);
        let scaled = self.scale_factor.is_some() || self.add_offset.is_some();
        values.mapv_inplace(|v| {
            if self.missing.contains(&v) {
                f64::NAN
            } else if scaled {
                v * scale + offset
            } else {
                v
            }
        });
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact values are the point of these tests
mod tests {
    use ndarray::arr1;
    use serde_json::json;

    use super::*;

    fn attrs(v: &Value) -> Attrs {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn mask_then_scale_and_offset() {
        let a = attrs(
            &json!({"_FillValue": -1, "missing_value": [-2, -3], "scale_factor": 0.5, "add_offset": 10}),
        );
        let cf = CfDecoding::from_attrs(&a, "<i2").unwrap();
        let mut v = arr1(&[-1.0, -2.0, -3.0, 4.0]).into_dyn();
        cf.apply(&mut v);
        assert!(v[0].is_nan() && v[1].is_nan() && v[2].is_nan());
        assert_eq!(v[3], 12.0);
    }

    #[test]
    fn float32_fill_is_compared_in_float32() {
        let cf = CfDecoding::from_attrs(&attrs(&json!({"_FillValue": 9.96921e36})), "<f4").unwrap();
        let mut v = arr1(&[f64::from(9.96921e36f32), 1.0]).into_dyn();
        cf.apply(&mut v);
        assert!(v[0].is_nan());
        assert_eq!(v[1], 1.0);
    }

    #[test]
    fn unsigned_and_special_values() {
        let cf = CfDecoding::from_attrs(
            &attrs(&json!({"_Unsigned": "true", "_FillValue": -1})),
            "|i1",
        )
        .unwrap();
        assert!(cf.unsigned);
        assert_eq!(cf.missing, vec![255.0]);
        let nan = CfDecoding::from_attrs(&attrs(&json!({"_FillValue": "NaN"})), "<f8").unwrap();
        assert!(nan.missing[0].is_nan());
        assert!(CfDecoding::from_attrs(&attrs(&json!({"scale_factor": "big"})), "<f8").is_err());
        assert!(CfDecoding::from_attrs(&Attrs::new(), "<f8")
            .unwrap()
            .is_identity());
    }
}
