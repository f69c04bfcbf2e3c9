//! CF time coordinates: `"<unit> since <date>"` decoded to instants and encoded back in one
//! set of units for the combined store.
//!
//! Instants are integer nanoseconds since 1970-01-01T00:00:00 (proleptic Gregorian), the
//! resolution and range xarray decodes to (years 1678–2262); values outside that range, and
//! calendars other than `standard`, `gregorian` and `proleptic_gregorian`, are errors that say
//! so. Encoding keeps integers whenever every instant is a whole number of the chosen unit.

/// Nanoseconds in one second.
const NS: i128 = 1_000_000_000;

/// Parsed CF time units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeUnits {
    /// Nanoseconds in one unit.
    pub unit_ns: i128,
    /// The unit's name as written (`hours`).
    pub unit: String,
    /// The reference date, in nanoseconds since 1970.
    pub epoch_ns: i128,
    /// The reference date as written after `since`.
    pub since: String,
}

impl TimeUnits {
    /// Parses `units` (e.g. `hours since 2020-01-01 00:00:00`) under `calendar` (absent
    /// means `standard`).
    ///
    /// # Errors
    /// Units that are not `<unit> since <date>`, a unit other than days, hours, minutes,
    /// seconds, milliseconds or microseconds, an unreadable date, or another calendar.
    pub fn parse(units: &str, calendar: Option<&str>) -> Result<Self, String> {
        let cal = calendar.unwrap_or("standard").to_ascii_lowercase();
        if !matches!(
            cal.as_str(),
            "standard" | "gregorian" | "proleptic_gregorian"
        ) {
            return Err(format!(
                "calendar {cal:?} is not supported (standard, gregorian, proleptic_gregorian are)"
            ));
        }
        let (unit, since) = units
            .split_once(" since ")
            .ok_or_else(|| format!("time units {units:?} are not \"<unit> since <date>\""))?;
        let unit = unit.trim().to_ascii_lowercase();
        let unit_ns = match unit.as_str() {
            "days" | "day" | "d" => 86_400 * NS,
            "hours" | "hour" | "hrs" | "hr" | "h" => 3600 * NS,
            "minutes" | "minute" | "mins" | "min" => 60 * NS,
            "seconds" | "second" | "secs" | "sec" | "s" => NS,
            "milliseconds" | "millisecond" | "msecs" | "ms" => NS / 1000,
            "microseconds" | "microsecond" | "us" => NS / 1_000_000,
            other => return Err(format!("time unit {other:?} is not supported")),
        };
        let since = since.trim().to_owned();
        let epoch_ns = parse_date(&since)
            .ok_or_else(|| format!("cannot read the date {since:?} in {units:?}"))?;
        Ok(Self {
            unit_ns,
            unit,
            epoch_ns,
            since,
        })
    }

    /// The instant (ns since 1970) of the value `v` in these units.
    ///
    /// # Errors
    /// A value that is not finite or lies outside the years 1678–2262.
    pub fn decode(&self, v: f64) -> Result<i64, String> {
        if !v.is_finite() {
            return Err(format!("time value {v} is not finite"));
        }
        let ns = if v.fract() == 0.0 && v.abs() < 9.0e15 {
            i128::from(v as i64) * self.unit_ns
        } else {
            (v * self.unit_ns as f64).round() as i128
        };
        i64::try_from(self.epoch_ns + ns).map_err(|_| {
            format!(
                "time value {v} {} since {} lies outside the years 1678-2262",
                self.unit, self.since
            )
        })
    }

    /// The units string.
    #[must_use]
    pub fn units_string(&self) -> String {
        format!("{} since {}", self.unit, self.since)
    }
}

/// Instants encoded in one set of units: integers where every instant is a whole number of
/// the unit, else float64.
#[derive(Debug, Clone, PartialEq)]
pub enum Encoded {
    /// Integer values, with the units they are in.
    Ints(Vec<i64>, String),
    /// Float values, with the units they are in.
    Floats(Vec<f64>, String),
}

/// Encodes `instants` with the reference date of `base`, in `base`'s unit if every instant is
/// a whole number of it, else in the largest finer unit that makes them whole (hours,
/// minutes, seconds, ...), else as float64 in `base`'s unit.
#[must_use]
pub fn encode(instants: &[i64], base: &TimeUnits) -> Encoded {
    let candidates = [
        ("days", 86_400 * NS),
        ("hours", 3600 * NS),
        ("minutes", 60 * NS),
        ("seconds", NS),
        ("milliseconds", NS / 1000),
        ("microseconds", NS / 1_000_000),
        ("nanoseconds", 1),
    ];
    let whole = |unit_ns: i128| {
        instants
            .iter()
            .all(|&t| (i128::from(t) - base.epoch_ns) % unit_ns == 0)
    };
    let to_ints = |unit_ns: i128| {
        instants
            .iter()
            .map(|&t| ((i128::from(t) - base.epoch_ns) / unit_ns) as i64)
            .collect()
    };
    if whole(base.unit_ns) {
        return Encoded::Ints(to_ints(base.unit_ns), base.units_string());
    }
    for (name, unit_ns) in candidates {
        if unit_ns < base.unit_ns && whole(unit_ns) {
            return Encoded::Ints(to_ints(unit_ns), format!("{name} since {}", base.since));
        }
    }
    Encoded::Floats(
        instants
            .iter()
            .map(|&t| (i128::from(t) - base.epoch_ns) as f64 / base.unit_ns as f64)
            .collect(),
        base.units_string(),
    )
}

/// `YYYY-MM-DD[(T| )hh:mm[:ss[.fff]]][Z|UTC|±00:00]` → ns since 1970 (UTC offsets other
/// than zero are applied).
fn parse_date(text: &str) -> Option<i128> {
    let text = text.trim();
    let (date, rest) = match text.find(['T', ' ']) {
        Some(i) => (&text[..i], text[i + 1..].trim()),
        None => (text, ""),
    };
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: i64 = d.next().map_or(Some(1), |m| m.parse().ok())?;
    let day: i64 = d.next().map_or(Some(1), |m| m.parse().ok())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || d.next().is_some() {
        return None;
    }
    let (clock, zone) = split_zone(rest);
    let mut c = clock.split(':').filter(|s| !s.is_empty());
    let hour: i64 = c.next().map_or(Some(0), |x| x.parse().ok())?;
    let minute: i64 = c.next().map_or(Some(0), |x| x.parse().ok())?;
    let second: f64 = c.next().map_or(Some(0.0), |x| x.parse().ok())?;
    let days = days_from_civil(year, month, day);
    let whole = i128::from(days * 86_400 + hour * 3600 + minute * 60) * NS;
    Some(whole + (second * 1e9).round() as i128 - i128::from(zone) * 60 * NS)
}

/// Splits a UTC offset (in minutes) from the end of a time of day.
fn split_zone(text: &str) -> (&str, i64) {
    let text = text.trim();
    for suffix in ["Z", "UTC", "utc"] {
        if let Some(rest) = text.strip_suffix(suffix) {
            return (rest.trim(), 0);
        }
    }
    // "+05:30", "-0100", or a trailing " 0:00" (udunits' zone after a space)
    if let Some(i) = text.rfind(['+', '-']) {
        if i > 0 {
            let zone = &text[i..];
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m) = match digits.len() {
                1 | 2 => (digits.parse().unwrap_or(0), 0),
                4 => (
                    digits[..2].parse().unwrap_or(0),
                    digits[2..].parse().unwrap_or(0),
                ),
                _ => (0, 0),
            };
            return (text[..i].trim(), sign * (h * 60 + m));
        }
    }
    match text.split_once(' ') {
        Some((clock, zone))
            if zone
                .trim_start_matches('0')
                .trim_start_matches(':')
                .trim_matches('0')
                .is_empty() =>
        {
            (clock, 0)
        }
        _ => (text, 0),
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = y - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_and_decode() {
        let u = TimeUnits::parse("hours since 2020-01-02 06:00:00", None).unwrap();
        // 2020-01-02T06:00 is 18263 days + 6 h after 1970.
        let epoch = (18_263 * 86_400 + 6 * 3600) * 1_000_000_000i64;
        assert_eq!(u.decode(0.0).unwrap(), epoch);
        assert_eq!(u.decode(1.5).unwrap(), epoch + 5_400_000_000_000);
        let d = TimeUnits::parse(
            "days since 1970-01-01T00:00:00Z",
            Some("proleptic_gregorian"),
        )
        .unwrap();
        assert_eq!(d.decode(1.0).unwrap(), 86_400_000_000_000);
        assert!(TimeUnits::parse("days since 2000-01-01", Some("noleap")).is_err());
        assert!(TimeUnits::parse("fortnights since 2000-01-01", None).is_err());
        assert!(TimeUnits::parse("days after 2000-01-01", None).is_err());
        let z = TimeUnits::parse("hours since 2000-01-01 00:00:00 +01:00", None).unwrap();
        assert_eq!(
            z.epoch_ns,
            TimeUnits::parse("hours since 1999-12-31 23:00", None)
                .unwrap()
                .epoch_ns
        );
    }

    #[test]
    fn encoding_keeps_integers_and_refines_units() {
        let base = TimeUnits::parse("days since 2000-01-01", None).unwrap();
        let day = 86_400_000_000_000i64;
        let t0 = base.decode(0.0).unwrap();
        assert_eq!(
            encode(&[t0, t0 + day], &base),
            Encoded::Ints(vec![0, 1], "days since 2000-01-01".into())
        );
        assert_eq!(
            encode(&[t0, t0 + day / 4], &base),
            Encoded::Ints(vec![0, 6], "hours since 2000-01-01".into())
        );
        assert_eq!(
            encode(&[t0 + 1], &base),
            Encoded::Ints(vec![1], "nanoseconds since 2000-01-01".into())
        );
    }
}
