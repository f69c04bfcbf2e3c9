//! HDF5 attributes → Zarr attributes (JSON values).
//!
//! Numbers are kept exact (64-bit integers as integers, floats as the f64 of their stored
//! value, NaN and infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`), one-element
//! arrays become scalars as netCDF4-python returns them, strings are trimmed of padding.
//! netCDF-internal attributes are dropped: they describe the HDF5 encoding, not the data.

use hdf5::types::{VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Location};
use serde_json::Value;

use super::raw::{self, TypeClass};
use crate::refs::{float_attr, Attrs};

/// Attributes netCDF-C and the HDF5 dimension-scale API write for their own bookkeeping.
const INTERNAL: &[&str] = &[
    "CLASS",
    "NAME",
    "DIMENSION_LIST",
    "REFERENCE_LIST",
    "_Netcdf4Dimid",
    "_Netcdf4Coordinates",
    "_NCProperties",
    "_nc3_strict",
    "_IsNetcdf4",
    "_SuperblockVersion",
];

/// Attributes are metadata: one with more values than this is refused rather than read (a
/// corrupt dataspace could otherwise make HDF5 allocate gigabytes).
const MAX_ATTR_VALUES: usize = 1 << 20;

/// One value, or a list when there are several (netCDF attributes are always arrays).
fn scalar_or_list(mut values: Vec<Value>) -> Value {
    if values.len() == 1 {
        values.pop().unwrap_or(Value::Null)
    } else {
        Value::Array(values)
    }
}

fn read_attr(attr: &Attribute) -> Result<Value, String> {
    let e = |err: hdf5::Error| err.to_string();
    let space = attr.space().map_err(e)?;
    if raw::is_null_space(space.id()) {
        return Ok(Value::Array(vec![]));
    }
    let n = attr.size();
    if n > MAX_ATTR_VALUES {
        return Err(format!(
            "{n} values are more than an attribute holds here ({MAX_ATTR_VALUES}): a corrupt dataspace?"
        ));
    }
    let tid = attr.dtype().map_err(e)?;
    let info = raw::type_info(tid.id());
    let values: Vec<Value> = match info.class {
        TypeClass::Int { signed: true } => attr
            .read_raw::<i64>()
            .map_err(e)?
            .into_iter()
            .map(Value::from)
            .collect(),
        TypeClass::Int { signed: false } => attr
            .read_raw::<u64>()
            .map_err(e)?
            .into_iter()
            .map(Value::from)
            .collect(),
        TypeClass::Float => attr
            .read_raw::<f64>()
            .map_err(e)?
            .into_iter()
            .map(float_attr)
            .collect(),
        TypeClass::FixedString => raw::read_fixed_string_attr(attr.id(), attr.size())?
            .into_iter()
            .map(Value::from)
            .collect(),
        TypeClass::VarString => match attr.read_raw::<VarLenUnicode>() {
            Ok(v) => v.iter().map(|s| Value::from(s.as_str())).collect(),
            Err(_) => attr
                .read_raw::<VarLenAscii>()
                .map_err(e)?
                .iter()
                .map(|s| Value::from(s.as_str()))
                .collect(),
        },
        TypeClass::Other(kind) => return Err(format!("{kind} attributes are not supported")),
    };
    Ok(scalar_or_list(values))
}

/// Reads every user attribute of a group or dataset. Attributes that cannot be represented
/// are left out and described in `warnings` (prefixed with `context`).
pub(super) fn read_attrs(loc: &Location, context: &str, warnings: &mut Vec<String>) -> Attrs {
    let mut attrs = Attrs::new();
    let names = match loc.attr_names() {
        Ok(n) => n,
        Err(err) => {
            warnings.push(format!("{context}: cannot list attributes: {err}"));
            return attrs;
        }
    };
    for name in names
        .into_iter()
        .filter(|n| !INTERNAL.contains(&n.as_str()))
    {
        match loc
            .attr(&name)
            .map_err(|e| e.to_string())
            .and_then(|a| read_attr(&a))
        {
            Ok(v) => {
                attrs.insert(name, v);
            }
            Err(reason) => {
                warnings.push(format!("{context}: attribute {name:?} skipped: {reason}"));
            }
        }
    }
    attrs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_values_are_scalars() {
        assert_eq!(scalar_or_list(vec![Value::from(1)]), Value::from(1));
        assert_eq!(
            scalar_or_list(vec![Value::from(1), Value::from(2)]),
            serde_json::json!([1, 2])
        );
    }
}
