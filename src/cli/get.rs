//! `chunkref get`: read values of one variable through a reference store.

// The doc comments of clap structs here are --help text, printed as written: no Markdown.
#![allow(clippy::doc_markdown)]

use std::io::Write as _;
use std::ops::Range;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use chunkref::read::DynArray;
use ndarray::ArrayD;

/// Read values of a variable through a reference store (only the chunks the selection touches
/// are fetched).
///
/// The selection is Python-style, one item per dimension, comma separated: i, start:stop,
/// start:stop:step, : or ::step; negative numbers count from the end; dimensions left out
/// are read whole. Values are printed raw (as stored) unless --decode applies CF decoding
/// (_FillValue and missing_value become NaN, then scale_factor and add_offset).
///
/// Examples:
///
///   chunkref get era5.json t2m --slice 0:2,::10,::10
///
///   chunkref get era5.json t2m --slice 0 --decode --format csv > t2m.csv
///
///   chunkref get era5.json lat --format json
///
///   chunkref get era5.json t2m --format npy > t2m.npy    (numpy.load reads it)
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub(crate) struct GetArgs {
    /// The reference store: a kerchunk JSON file (version 0 or 1), path or file:// url.
    #[arg(value_name = "STORE")]
    store: String,

    /// The variable, with its group path if it is in a group (e.g. forecast/t2m).
    #[arg(value_name = "VARIABLE")]
    variable: String,

    /// Which elements: e.g. 0:2,::10,::10 (Python slice syntax, one item per dimension).
    #[arg(short, long, value_name = "SLICES", allow_hyphen_values = true)]
    slice: Option<String>,

    /// Apply CF decoding: masked values become NaN, then scale_factor and add_offset apply.
    #[arg(short, long)]
    decode: bool,

    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Rows of the last dimension, blocks separated by blank lines.
    Text,
    /// {"variable", "dimensions", "shape", "dtype", "data"} with nested lists.
    Json,
    /// A numpy .npy file (binary, to stdout).
    Npy,
    /// One line per element: the index along each dimension, then the value.
    Csv,
}

/// One dimension's selection: start..stop by step, and whether it was a single index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct DimSlice {
    start: u64,
    stop: u64,
    step: u64,
}

fn parse_index(s: &str, len: u64, what: &str) -> anyhow::Result<i64> {
    s.trim()
        .parse::<i64>()
        .with_context(|| format!("{what} {s:?} is not an integer"))?;
    let i: i64 = s.trim().parse()?;
    Ok(if i < 0 { i + len as i64 } else { i })
}

/// Parses a Python-style selection against shape.
fn parse_slices(spec: Option<&str>, shape: &[u64]) -> anyhow::Result<Vec<DimSlice>> {
    let items: Vec<&str> = match spec {
        Some(s) if !s.trim().is_empty() => s.split(',').collect(),
        _ => vec![],
    };
    if items.len() > shape.len() {
        bail!(
            "the selection has {} items but the variable has {} dimensions",
            items.len(),
            shape.len()
        );
    }
    shape
        .iter()
        .enumerate()
        .map(|(d, &len)| {
            let Some(item) = items.get(d) else {
                return Ok(DimSlice {
                    start: 0,
                    stop: len,
                    step: 1,
                });
            };
            let parts: Vec<&str> = item.split(':').collect();
            let clamp = |i: i64| i.clamp(0, len as i64) as u64;
            let (start, stop, step) = match parts.as_slice() {
                [i] => {
                    let i = parse_index(i, len, "index")?;
                    if i < 0 || i as u64 >= len {
                        bail!("index {item} is outside dimension {d} of length {len}");
                    }
                    (i as u64, i as u64 + 1, 1)
                }
                [a, b] | [a, b, _] => {
                    let start = if a.trim().is_empty() {
                        0
                    } else {
                        clamp(parse_index(a, len, "start")?)
                    };
                    let stop = if b.trim().is_empty() {
                        len
                    } else {
                        clamp(parse_index(b, len, "stop")?)
                    };
                    let step = match parts.get(2).map(|s| s.trim()) {
                        None | Some("") => 1,
                        Some(s) => s
                            .parse::<u64>()
                            .ok()
                            .filter(|&s| s > 0)
                            .with_context(|| format!("step {s:?} must be a positive integer"))?,
                    };
                    (start, stop.max(start), step)
                }
                _ => bail!("cannot read {item:?}: use i, start:stop or start:stop:step"),
            };
            Ok(DimSlice { start, stop, step })
        })
        .collect()
}

/// Values to print, whatever the stored type.
enum Values {
    Int(ArrayD<i64>),
    UInt(ArrayD<u64>),
    Float(ArrayD<f64>),
    /// Kept apart so values print as the shortest decimal that is the same float32
    /// (288.946), not as the float64 that float32 widens to (288.9460144042969).
    Float32(ArrayD<f32>),
    Text(ArrayD<String>),
}

impl Values {
    fn shape(&self) -> Vec<usize> {
        match self {
            Self::Int(a) => a.shape().to_vec(),
            Self::UInt(a) => a.shape().to_vec(),
            Self::Float(a) => a.shape().to_vec(),
            Self::Float32(a) => a.shape().to_vec(),
            Self::Text(a) => a.shape().to_vec(),
        }
    }

    fn strings(&self) -> Vec<String> {
        match self {
            Self::Int(a) => a.iter().map(i64::to_string).collect(),
            Self::UInt(a) => a.iter().map(u64::to_string).collect(),
            Self::Float(a) => a.iter().map(|x| format_float(*x)).collect(),
            Self::Float32(a) => a.iter().map(|x| format_f32(*x)).collect(),
            Self::Text(a) => a.iter().map(|s| format!("{s:?}")).collect(),
        }
    }

    fn json_values(&self) -> Vec<serde_json::Value> {
        match self {
            Self::Int(a) => a.iter().map(|&x| x.into()).collect(),
            Self::UInt(a) => a.iter().map(|&x| x.into()).collect(),
            Self::Float(a) => a
                .iter()
                .map(|&x| {
                    if x.is_finite() {
                        x.into()
                    } else {
                        format_float(x).into()
                    }
                })
                .collect(),
            Self::Float32(a) => a
                .iter()
                .map(|&x| {
                    let text = format_f32(x);
                    serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
                })
                .collect(),
            Self::Text(a) => a.iter().map(|s| s.clone().into()).collect(),
        }
    }
}

/// The shortest decimal that reads back as the same float32.
fn format_f32(x: f32) -> String {
    if x.is_finite() {
        x.to_string()
    } else {
        format_float(f64::from(x))
    }
}

fn format_float(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        x.to_string()
    }
}

fn read_values(
    var: &chunkref::Variable,
    ranges: &[Range<u64>],
    decode: bool,
) -> anyhow::Result<DynArray> {
    Ok(if decode {
        DynArray::F64(var.read_decoded(ranges)?)
    } else {
        var.read_dyn(ranges)?
    })
}

impl From<DynArray> for Values {
    fn from(values: DynArray) -> Self {
        use DynArray as D;
        match values {
            D::I8(a) => Self::Int(a.mapv(i64::from)),
            D::I16(a) => Self::Int(a.mapv(i64::from)),
            D::I32(a) => Self::Int(a.mapv(i64::from)),
            D::I64(a) => Self::Int(a),
            D::U8(a) => Self::UInt(a.mapv(u64::from)),
            D::U16(a) => Self::UInt(a.mapv(u64::from)),
            D::U32(a) => Self::UInt(a.mapv(u64::from)),
            D::U64(a) => Self::UInt(a),
            D::F32(a) => Self::Float32(a),
            D::F64(a) => Self::Float(a),
            D::Bool(a) => Self::UInt(a.mapv(u64::from)),
            D::Bytes(a) => Self::Text(a.mapv(|b| String::from_utf8_lossy(&b).into_owned())),
            D::String(a) => Self::Text(a),
        }
    }
}

pub(crate) fn run(args: &GetArgs) -> anyhow::Result<ExitCode> {
    let ds = chunkref::open(&args.store)?;
    let var = ds.variable(&args.variable)?;
    let shape = var.shape().to_vec();
    let sel = parse_slices(args.slice.as_deref(), &shape)?;
    let ranges: Vec<Range<u64>> = sel.iter().map(|s| s.start..s.stop).collect();
    let steps: Vec<usize> = sel.iter().map(|s| s.step as usize).collect();
    let values = read_values(&var, &ranges, args.decode)?.step_by(&steps);
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Npy => write_npy(&mut out, &values)?,
        Format::Text => write_text(&mut out, &Values::from(values))?,
        Format::Csv => write_csv(
            &mut out,
            &Values::from(values),
            var.dims(),
            &args.variable,
            &sel,
        )?,
        Format::Json => {
            let values = Values::from(values);
            let shape = values.shape();
            let doc = serde_json::json!({
                "variable": args.variable,
                "dimensions": var.dims(),
                "shape": shape,
                "dtype": if args.decode { "<f8".to_owned() } else { var.meta().dtype.clone() },
                "data": nest(&values.json_values(), &shape),
            });
            serde_json::to_writer(&mut out, &doc)?;
            writeln!(out)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Nests a flat C-order list into lists of shape.
fn nest(flat: &[serde_json::Value], shape: &[usize]) -> serde_json::Value {
    match shape {
        [] => flat.first().cloned().unwrap_or(serde_json::Value::Null),
        [_] => serde_json::Value::Array(flat.to_vec()),
        [n, rest @ ..] => {
            let size = rest.iter().product::<usize>();
            serde_json::Value::Array(
                (0..*n)
                    .map(|i| nest(&flat[i * size..(i + 1) * size], rest))
                    .collect(),
            )
        }
    }
}

fn write_text(out: &mut impl std::io::Write, values: &Values) -> anyhow::Result<()> {
    let shape = values.shape();
    let strings = values.strings();
    let row = shape.last().copied().unwrap_or(1).max(1);
    let block = if shape.len() >= 2 {
        shape[shape.len() - 2] * row
    } else {
        usize::MAX
    };
    for (i, chunk) in strings.chunks(row).enumerate() {
        if i > 0 && block != usize::MAX && (i * row) % block == 0 {
            writeln!(out)?;
        }
        writeln!(out, "{}", chunk.join(" "))?;
    }
    Ok(())
}

fn write_csv(
    out: &mut impl std::io::Write,
    values: &Values,
    dims: &[String],
    name: &str,
    sel: &[DimSlice],
) -> anyhow::Result<()> {
    let mut header: Vec<String> = dims.to_vec();
    header.push(name.rsplit('/').next().unwrap_or(name).to_owned());
    writeln!(out, "{}", header.join(","))?;
    let shape = values.shape();
    let strings = match values {
        Values::Text(a) => a
            .iter()
            .map(|s| format!("\"{}\"", s.replace('"', "\"\"")))
            .collect(),
        other => other.strings(),
    };
    for (n, v) in strings.iter().enumerate() {
        let mut rem = n;
        let mut idx = vec![0u64; shape.len()];
        for d in (0..shape.len()).rev() {
            idx[d] = sel[d].start + (rem % shape[d]) as u64 * sel[d].step;
            rem /= shape[d];
        }
        let idx: Vec<String> = idx.iter().map(u64::to_string).collect();
        if idx.is_empty() {
            writeln!(out, "{v}")?;
        } else {
            writeln!(out, "{},{v}", idx.join(","))?;
        }
    }
    Ok(())
}

/// The numpy dtype and little-endian bytes of values, keeping their stored type.
fn npy_payload(values: &DynArray) -> (String, Vec<u8>) {
    fn le<T: Copy, const N: usize>(a: &ArrayD<T>, f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        a.iter().flat_map(|&x| f(x)).collect()
    }
    match values {
        DynArray::I8(a) => ("|i1".into(), le(a, i8::to_le_bytes)),
        DynArray::U8(a) => ("|u1".into(), le(a, u8::to_le_bytes)),
        DynArray::I16(a) => ("<i2".into(), le(a, i16::to_le_bytes)),
        DynArray::U16(a) => ("<u2".into(), le(a, u16::to_le_bytes)),
        DynArray::I32(a) => ("<i4".into(), le(a, i32::to_le_bytes)),
        DynArray::U32(a) => ("<u4".into(), le(a, u32::to_le_bytes)),
        DynArray::I64(a) => ("<i8".into(), le(a, i64::to_le_bytes)),
        DynArray::U64(a) => ("<u8".into(), le(a, u64::to_le_bytes)),
        DynArray::F32(a) => ("<f4".into(), le(a, f32::to_le_bytes)),
        DynArray::F64(a) => ("<f8".into(), le(a, f64::to_le_bytes)),
        DynArray::Bool(a) => ("|b1".into(), a.iter().map(|&b| u8::from(b)).collect()),
        DynArray::Bytes(a) => {
            let width = a.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let data = a
                .iter()
                .flat_map(|b| b.iter().copied().chain(std::iter::repeat(0)).take(width))
                .collect();
            (format!("|S{width}"), data)
        }
        DynArray::String(a) => {
            let width = a
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(1)
                .max(1);
            let data = a
                .iter()
                .flat_map(|s| {
                    s.chars()
                        .map(u32::from)
                        .chain(std::iter::repeat(0))
                        .take(width)
                })
                .flat_map(u32::to_le_bytes)
                .collect();
            (format!("<U{width}"), data)
        }
    }
}

/// Writes a numpy .npy (format 1.0) file: magic, a padded header dict, then C-order data.
fn write_npy(out: &mut impl std::io::Write, values: &DynArray) -> anyhow::Result<()> {
    let (descr, data) = npy_payload(values);
    let dims: Vec<String> = values.shape().iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&u16::try_from(header.len())?.to_le_bytes())?;
    out.write_all(header.as_bytes())?;
    out.write_all(&data)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn python_slices() {
        let s = parse_slices(Some("0:2,::10,-1"), &[4, 19, 36]).unwrap();
        assert_eq!(
            s[0],
            DimSlice {
                start: 0,
                stop: 2,
                step: 1
            }
        );
        assert_eq!(
            s[1],
            DimSlice {
                start: 0,
                stop: 19,
                step: 10
            }
        );
        assert_eq!(
            s[2],
            DimSlice {
                start: 35,
                stop: 36,
                step: 1
            }
        );
        let s = parse_slices(None, &[3]).unwrap();
        assert_eq!(
            s[0],
            DimSlice {
                start: 0,
                stop: 3,
                step: 1
            }
        );
        assert!(parse_slices(Some("5"), &[3]).is_err());
        assert!(parse_slices(Some("0,0"), &[3]).is_err());
        assert!(parse_slices(Some("::0"), &[3]).is_err());
        assert_eq!(
            parse_slices(Some("-2:"), &[5]).unwrap()[0],
            DimSlice {
                start: 3,
                stop: 5,
                step: 1
            }
        );
    }

    #[test]
    fn npy_header_is_aligned() {
        let mut buf = Vec::new();
        write_npy(
            &mut buf,
            &DynArray::F32(ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.0, 2.0]).unwrap()),
        )
        .unwrap();
        let header_len = u16::from_le_bytes([buf[8], buf[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        assert_eq!(buf.len(), 10 + header_len + 8);
        assert!(String::from_utf8_lossy(&buf[10..]).contains("'descr': '<f4'"));
    }
}
