//! wgrib2 / NOAA `.idx` sidecars: one line per message,
//! `number:offset:d=YYYYMMDDHH:VAR:LEVEL:FORECAST:` (e.g.
//! `7:5538:d=2024010100:TMP:1000 mb:6 hour fcst:`), as published next to GFS, HRRR and other
//! NOAA GRIB2 files.
//!
//! [`parse`] reads the lines; [`level_value`] and [`forecast`] read the level and forecast
//! texts wgrib2 writes for the common cases (pressure, height and depth levels, analyses,
//! forecasts and accumulations or averages over a range). Text this module does not read
//! gives `None`, and the scanner then reads that message's sections instead.

use super::sections::StepType;

/// One line of an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxEntry {
    /// The line's number in the file, from 1.
    pub line: usize,
    /// Byte offset of the message.
    pub offset: u64,
    /// The reference time, `YYYYMMDDHH`.
    pub date: String,
    /// wgrib2's variable name, e.g. `TMP`.
    pub var: String,
    /// wgrib2's level text, e.g. `1000 mb`.
    pub level: String,
    /// wgrib2's forecast text, e.g. `6 hour fcst`.
    pub forecast: String,
}

/// Parses an index. Sub-message lines (`7.2:...`, the second field of a message) keep the
/// message's offset.
///
/// # Errors
/// A line without the six fields, or with an offset that is not a number, or offsets that do
/// not increase: `line N: what is wrong`.
pub fn parse(text: &str) -> Result<Vec<IdxEntry>, String> {
    let mut out: Vec<IdxEntry> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let parts: Vec<&str> = line.splitn(7, ':').collect();
        if parts.len() < 6 {
            return Err(format!(
                "line {n}: expected number:offset:d=DATE:VAR:LEVEL:FORECAST:, found {line:?}"
            ));
        }
        let offset: u64 = parts[1]
            .parse()
            .map_err(|_| format!("line {n}: offset {:?} is not a number", parts[1]))?;
        if out.last().is_some_and(|prev| prev.offset > offset) {
            return Err(format!(
                "line {n}: offset {offset} is before the previous line's"
            ));
        }
        let date = parts[2].strip_prefix("d=").unwrap_or(parts[2]).to_owned();
        out.push(IdxEntry {
            line: n,
            offset,
            date,
            var: parts[3].to_owned(),
            level: parts[4].to_owned(),
            forecast: parts[5].to_owned(),
        });
    }
    Ok(out)
}

/// The level value a level text states, in the unit the GRIB2 section 4 uses for that type
/// (Pa for `mb`, m for heights and depths): `1000 mb` → 100000, `2 m above ground` → 2,
/// `surface` → `None` (no value).
#[must_use]
pub fn level_value(text: &str) -> Option<Option<f64>> {
    let number = |s: &str| s.trim().parse::<f64>().ok();
    if let Some(mb) = text.strip_suffix(" mb") {
        return number(mb).map(|v| Some(v * 100.0));
    }
    if let Some(m) = text.strip_suffix(" m above ground") {
        return number(m).map(Some);
    }
    if let Some(m) = text.strip_suffix(" m above mean sea level") {
        return number(m).map(Some);
    }
    match text {
        "surface"
        | "mean sea level"
        | "entire atmosphere"
        | "entire atmosphere (considered as a single layer)" => Some(None),
        _ => None,
    }
}

/// The step range (seconds) and step type a forecast text states: `anl` → (0, 0, instant),
/// `6 hour fcst` → (6 h, 6 h, instant), `0-6 hour acc fcst` → (0, 6 h, accum).
#[must_use]
pub fn forecast(text: &str) -> Option<(i64, i64, StepType)> {
    if text == "anl" {
        return Some((0, 0, StepType::Instant));
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    let unit = |u: &str| match u {
        "min" => Some(60),
        "hour" => Some(3600),
        "day" => Some(86_400),
        _ => None,
    };
    match words.as_slice() {
        [n, u, "fcst"] => {
            let s = n.parse::<i64>().ok()? * unit(u)?;
            Some((s, s, StepType::Instant))
        }
        [range, u, kind, "fcst"] => {
            let (a, b) = range.split_once('-')?;
            let k = unit(u)?;
            let kind = match *kind {
                "acc" => StepType::Accum,
                "ave" => StepType::Avg,
                "max" => StepType::Max,
                "min" => StepType::Min,
                _ => return None,
            };
            Some((a.parse::<i64>().ok()? * k, b.parse::<i64>().ok()? * k, kind))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noaa_lines_parse() {
        let text = "1:0:d=2024010100:TMP:1000 mb:anl:\n2:1029:d=2024010100:UGRD:10 m above ground:6 hour fcst:\n3:2058:d=2024010100:APCP:surface:0-6 hour acc fcst:ENS=+1\n";
        let e = parse(text).unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!((e[1].offset, e[1].var.as_str()), (1029, "UGRD"));
        assert_eq!(e[2].date, "2024010100");
        assert_eq!(level_value(&e[0].level), Some(Some(100_000.0)));
        assert_eq!(level_value(&e[1].level), Some(Some(10.0)));
        assert_eq!(level_value(&e[2].level), Some(None));
        assert_eq!(forecast(&e[0].forecast), Some((0, 0, StepType::Instant)));
        assert_eq!(
            forecast(&e[1].forecast),
            Some((21_600, 21_600, StepType::Instant))
        );
        assert_eq!(forecast(&e[2].forecast), Some((0, 21_600, StepType::Accum)));
        assert_eq!(forecast("6-12 hour something fcst"), None);
        assert_eq!(level_value("tropopause"), None);
    }

    #[test]
    fn bad_lines_are_errors_naming_the_line() {
        assert!(parse("1:0:d=2024010100:TMP\n")
            .unwrap_err()
            .starts_with("line 1:"));
        assert!(parse("1:x:d=1:A:B:C:\n")
            .unwrap_err()
            .contains("not a number"));
        let e = parse("1:100:d=1:A:B:C:\n2:50:d=1:A:B:C:\n").unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
    }
}
