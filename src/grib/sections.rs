//! The sections of a GRIB field, parsed into [`Field`]: what it is (parameter, level, time,
//! ensemble member), where it is (grid), and where its packed data lies in the message.
//!
//! Octet numbers in comments are the WMO manual's (from 1, within the section).

use super::message::{ByteSource, FieldError, MessageBytes, MessageSpan};

/// A date and time of day (UTC), as a section states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    /// Year (four digits).
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
    /// Hour, 0–23.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
}

impl DateTime {
    /// Seconds since 1970-01-01T00:00:00 (proleptic Gregorian).
    #[must_use]
    pub fn unix_seconds(&self) -> i64 {
        // Days from civil (Howard Hinnant's algorithm).
        let (m, d) = (i64::from(self.month), i64::from(self.day));
        let y = i64::from(self.year) - i64::from(m <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// `YYYYMMDD`, as ecCodes' `dataDate`.
    #[must_use]
    pub fn date_number(&self) -> i64 {
        i64::from(self.year) * 10_000 + i64::from(self.month) * 100 + i64::from(self.day)
    }

    /// `HHMM`, as ecCodes' `dataTime`.
    #[must_use]
    pub fn time_number(&self) -> i64 {
        i64::from(self.hour) * 100 + i64::from(self.minute)
    }
}

/// Which parameter a field holds, in the numbering of its edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Param {
    /// GRIB2: discipline (section 0), parameter category and number (section 4).
    Grib2 {
        /// Discipline, e.g. 0 meteorological, 10 oceanographic.
        discipline: u8,
        /// Parameter category.
        category: u8,
        /// Parameter number.
        number: u8,
    },
    /// GRIB1: the parameter table version and the parameter's number in it.
    Grib1 {
        /// `table2Version`.
        table: u8,
        /// Originating centre (tables above 127 are the centre's own).
        centre: u8,
        /// `indicatorOfParameter`.
        number: u8,
    },
}

/// The vertical level of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// The type of (first fixed) surface code, in the numbering of the edition.
    pub code: u8,
    /// The type of the second fixed surface (GRIB2; 255 when none).
    pub second_code: u8,
    /// The first surface's value in the unit the code implies (e.g. Pa, m), when stated.
    pub first: Option<f64>,
    /// The second surface's value, for layers.
    pub second: Option<f64>,
}

/// How values over the forecast time range were processed (ecCodes' `stepType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StepType {
    /// A value at one time.
    Instant,
    /// Accumulated over the range.
    Accum,
    /// Averaged over the range.
    Avg,
    /// Maximum over the range.
    Max,
    /// Minimum over the range.
    Min,
    /// Difference between the range's end and start.
    Diff,
}

impl StepType {
    /// ecCodes' name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Instant => "instant",
            Self::Accum => "accum",
            Self::Avg => "avg",
            Self::Max => "max",
            Self::Min => "min",
            Self::Diff => "diff",
        }
    }
}

/// The forecast time range of a field, in seconds after the reference time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Start of the range (equal to `end` for an instant).
    pub start: i64,
    /// End of the range: cfgrib's `step`.
    pub end: i64,
    /// How the range was processed.
    pub kind: StepType,
}

/// A grid chunkref knows how to lay out as (latitude, longitude).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GridKind {
    /// Regular latitude/longitude (GRIB2 template 3.0, GRIB1 type 0).
    RegularLatLon,
    /// Regular Gaussian with `n` parallels between a pole and the equator (3.40, GRIB1 type 4).
    RegularGaussian {
        /// ecCodes' `N`.
        n: u32,
    },
}

/// The grid of a field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Grid {
    /// The kind of grid.
    pub kind: GridKind,
    /// Points along a parallel (`Ni`).
    pub ni: u32,
    /// Points along a meridian (`Nj`).
    pub nj: u32,
    /// Latitude of the first point, degrees.
    pub lat1: f64,
    /// Longitude of the first point, degrees.
    pub lon1: f64,
    /// Latitude of the last point, degrees.
    pub lat2: f64,
    /// Longitude of the last point, degrees.
    pub lon2: f64,
    /// `i` increment, degrees (`None` when not given).
    pub di: Option<f64>,
    /// `j` increment, degrees (`None` when not given; Gaussian grids have none).
    pub dj: Option<f64>,
    /// The scanning mode flags.
    pub scanning: u8,
}

impl Grid {
    /// Points scan in the +i direction (west to east) unless bit 1 (0x80) is set.
    #[must_use]
    pub fn i_negative(&self) -> bool {
        self.scanning & 0x80 != 0
    }

    /// Points scan in the +j direction (south to north) when bit 2 (0x40) is set.
    #[must_use]
    pub fn j_positive(&self) -> bool {
        self.scanning & 0x40 != 0
    }
}

/// Where a field's packed data lies, as offsets into its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataLocation {
    /// The representation section (GRIB2 section 5; for GRIB1 the binary data section).
    pub representation: (u64, u64),
    /// The bitmap section that applies (GRIB2 section 6, possibly an earlier field's; GRIB1
    /// BMS), when there is a bitmap.
    pub bitmap: Option<(u64, u64)>,
    /// The data section (GRIB2 section 7; GRIB1: the binary data section again).
    pub data: (u64, u64),
    /// The sections this field needs, in order, to stand alone as a single-field message
    /// (GRIB2: 1, 2 when present, 3, 4, 5, 6, 7).
    pub standalone: [Option<(u64, u64)>; 7],
}

/// One field of a message: what it holds, where it lies.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The message holding the field.
    pub span: MessageSpan,
    /// Its index among the message's fields (always 0 in GRIB1).
    pub index: usize,
    /// Originating centre.
    pub centre: u16,
    /// Sub-centre.
    pub subcentre: u16,
    /// Members in the ensemble (`numberOfForecastsInEnsemble`), for ensemble products.
    pub ensemble_size: Option<i64>,
    /// Number of vertical coordinate values (`NV`).
    pub nv: u64,
    /// The parameter.
    pub param: Param,
    /// Reference time (ecCodes' `dataDate`, `dataTime`).
    pub reference_time: DateTime,
    /// The level.
    pub level: Level,
    /// The forecast time range.
    pub step: Step,
    /// Ensemble member (`perturbationNumber`), for ensemble products.
    pub number: Option<i64>,
    /// The grid, or a description of one chunkref does not lay out.
    pub grid: Result<Grid, String>,
    /// Number of grid points.
    pub points: u64,
    /// Number of packed values (the bitmap's set bits, or `points`).
    pub values: u64,
    /// Data representation template (GRIB2) or GRIB1 packing code.
    pub packing: u16,
    /// Where the packed data lies.
    pub data: DataLocation,
    /// Decimal scale factor (GRIB1 only; GRIB2 keeps it in section 5).
    pub decimal_scale: i16,
}

/// The most points along one axis of a grid chunkref lays out: far beyond any real grid (a
/// 10 m global grid has 4 million), small enough that a corrupt count allocates little.
pub const MAX_AXIS_POINTS: u32 = 1 << 22;

/// The largest Gaussian N chunkref computes latitudes for (work grows as N²): above the
/// finest grids in use (ECMWF's O1280 has N = 1280).
pub const MAX_GAUSSIAN_N: u32 = 8192;

/// Checks a grid's axes against each other and the stated number of points.
fn checked_grid(grid: Grid, points: u64) -> Result<Grid, String> {
    if let GridKind::RegularGaussian { n } = grid.kind {
        if n == 0 || n > MAX_GAUSSIAN_N || grid.nj > 2 * n {
            return Err(format!("a Gaussian grid N{n} of {} rows", grid.nj));
        }
    }
    if grid.ni == 0 || grid.nj == 0 || grid.ni > MAX_AXIS_POINTS || grid.nj > MAX_AXIS_POINTS {
        return Err(format!("a grid of {} x {} points", grid.ni, grid.nj));
    }
    if u64::from(grid.ni) * u64::from(grid.nj) != points {
        return Err(format!(
            "a grid of {} x {} points that states {points} points",
            grid.ni, grid.nj
        ));
    }
    Ok(grid)
}

/// Sign-and-magnitude integer of `bytes` (GRIB's signed numbers: the top bit is the sign).
fn signed(bytes: &[u8]) -> i64 {
    let mut v = 0i64;
    for &b in bytes {
        v = v << 8 | i64::from(b);
    }
    let sign = 1i64 << (8 * bytes.len() - 1);
    if v & sign == 0 {
        v
    } else {
        -(v & (sign - 1))
    }
}

fn unsigned(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0, |v, &b| v << 8 | u64::from(b))
}

/// `true` when all bytes are 0xff: GRIB's "missing".
fn all_missing(bytes: &[u8]) -> bool {
    bytes.iter().all(|&b| b == 0xff)
}

/// A section's bytes, read with checked, 1-based octet numbers.
struct Section<'b> {
    bytes: &'b [u8],
    /// Offset of the section in the message.
    at: u64,
    number: u8,
}

impl Section<'_> {
    /// Octets `from..=to` (1-based, inclusive).
    fn octets(&self, from: usize, to: usize) -> Result<&[u8], String> {
        self.bytes.get(from - 1..to).ok_or_else(|| {
            format!(
                "section {} is {} bytes long, too short for octets {from}-{to}",
                self.number,
                self.bytes.len()
            )
        })
    }

    fn u(&self, from: usize, to: usize) -> Result<u64, String> {
        self.octets(from, to).map(unsigned)
    }

    fn i(&self, from: usize, to: usize) -> Result<i64, String> {
        self.octets(from, to).map(signed)
    }
}

/// Reads the next GRIB2 section header at `at`: (length, number).
fn grib2_header<S: ByteSource + ?Sized>(
    msg: &MessageBytes<'_, S>,
    at: u64,
) -> Result<(u64, u8), FieldError> {
    if msg.span().length - at >= 4 && msg.get(at, 4)?.as_ref() == b"7777" {
        return Ok((4, 8));
    }
    let head = msg.get(at, 5)?;
    let length = unsigned(&head[..4]);
    if length < 5 {
        return Err(msg.error(
            at,
            format!("section {} says it is {length} bytes long", head[4]),
        ));
    }
    Ok((length, head[4]))
}

/// The fields of a GRIB2 message.
pub(crate) fn parse_grib2<S: ByteSource + ?Sized>(
    msg: &MessageBytes<'_, S>,
) -> Result<Vec<Field>, FieldError> {
    let indicator = msg.get(0, 16)?;
    let discipline = indicator[6];
    let mut fields = Vec::new();
    let mut at = 16u64;
    let mut state = Grib2State::default();
    loop {
        let (length, number) = grib2_header(msg, at)?;
        if number == 8 {
            if at + 4 != msg.span().length {
                return Err(msg.error(at, "`7777` before the message's stated end".into()));
            }
            break;
        }
        if !(1..=7).contains(&number) {
            return Err(msg.error(
                at,
                format!("section number {number}: GRIB2 has sections 1 to 8"),
            ));
        }
        // Sections 6 and 7 are only needed as locations; read just their first bytes.
        let read_len = if number >= 6 { 6.min(length) } else { length };
        let bytes = msg.get(at, read_len)?;
        msg.get(at + length - 1, 1)?; // the whole section lies in the message
        let section = Section {
            bytes: &bytes,
            at,
            number,
        };
        state
            .take(&section, length, discipline, &mut fields, msg.span())
            .map_err(|reason| msg.error(at, reason))?;
        at += length;
    }
    if fields.is_empty() {
        return Err(msg.error(16, "the message has no data section".into()));
    }
    Ok(fields)
}

/// What the GRIB2 sections read so far say, for the field being assembled.
#[derive(Default)]
struct Grib2State {
    centre: u16,
    subcentre: u16,
    reference_time: Option<DateTime>,
    grid: Option<(Result<Grid, String>, u64)>,
    product: Option<Product>,
    representation: Option<(u16, u64)>,
    bitmap: Option<(u64, u64)>,
    /// The last bitmap section that held a bitmap, for indicator 254 ("as before").
    last_bitmap: Option<(u64, u64)>,
    sections: [Option<(u64, u64)>; 7],
}

/// What section 4 says.
#[derive(Debug, Clone, Copy)]
struct Product {
    nv: u64,
    ensemble_size: Option<i64>,
    category: u8,
    number: u8,
    level: Level,
    step: Step,
    member: Option<i64>,
}

impl Grib2State {
    fn take(
        &mut self,
        s: &Section<'_>,
        length: u64,
        discipline: u8,
        fields: &mut Vec<Field>,
        span: MessageSpan,
    ) -> Result<(), String> {
        self.sections[usize::from(s.number) - 1] = Some((s.at, length));
        match s.number {
            1 => {
                self.centre = s.u(6, 7)? as u16;
                self.subcentre = s.u(8, 9)? as u16;
                self.reference_time = Some(DateTime {
                    year: s.u(13, 14)? as i32,
                    month: s.u(15, 15)? as u8,
                    day: s.u(16, 16)? as u8,
                    hour: s.u(17, 17)? as u8,
                    minute: s.u(18, 18)? as u8,
                    second: s.u(19, 19)? as u8,
                });
            }
            2 => {}
            3 => {
                let points = s.u(7, 10)?;
                self.grid = Some((grid2(s)?.and_then(|g| checked_grid(g, points)), points));
            }
            4 => self.product = Some(product2(s)?),
            5 => {
                self.representation = Some((s.u(10, 11)? as u16, s.u(6, 9)?));
            }
            6 => {
                self.bitmap = match s.u(6, 6)? {
                    0 => {
                        self.last_bitmap = Some((s.at, length));
                        self.last_bitmap
                    }
                    254 => Some(self.last_bitmap.ok_or(
                        "bitmap indicator 254 (the previous bitmap) but no bitmap came before",
                    )?),
                    255 => None,
                    other => {
                        return Err(format!(
                            "bitmap indicator {other} (a predefined bitmap) is not supported"
                        ))
                    }
                };
            }
            _ => fields.push(self.field(s, length, discipline, fields.len(), span)?),
        }
        Ok(())
    }

    /// The field that the data section `s` completes.
    fn field(
        &self,
        s: &Section<'_>,
        length: u64,
        discipline: u8,
        index: usize,
        span: MessageSpan,
    ) -> Result<Field, String> {
        let missing = |n: u8| format!("the data section comes before a section {n}");
        let reference_time = self.reference_time.ok_or_else(|| missing(1))?;
        let (grid, points) = self.grid.clone().ok_or_else(|| missing(3))?;
        let product = self.product.ok_or_else(|| missing(4))?;
        let (packing, values) = self.representation.ok_or_else(|| missing(5))?;
        let bitmap_section = self.sections[5].ok_or_else(|| missing(6))?;
        let representation = self.sections[4].ok_or_else(|| missing(5))?;
        let mut standalone = self.sections;
        standalone[5] = Some(self.bitmap.unwrap_or(bitmap_section));
        standalone[6] = Some((s.at, length));
        Ok(Field {
            span,
            index,
            centre: self.centre,
            subcentre: self.subcentre,
            ensemble_size: product.ensemble_size,
            nv: product.nv,
            param: Param::Grib2 {
                discipline,
                category: product.category,
                number: product.number,
            },
            reference_time,
            level: product.level,
            step: product.step,
            number: product.member,
            grid,
            points,
            values,
            packing,
            data: DataLocation {
                representation,
                bitmap: self.bitmap,
                data: (s.at, length),
                standalone,
            },
            decimal_scale: 0,
        })
    }
}

/// Seconds in one unit of GRIB2 code table 4.4 (GRIB1 table 4 shares codes 0–2 and 10–13).
fn time_unit_seconds(code: u64) -> Result<i64, String> {
    Ok(match code {
        0 => 60,
        1 => 3600,
        2 => 86_400,
        10 => 3 * 3600,
        11 => 6 * 3600,
        12 => 12 * 3600,
        13 => 1,
        other => {
            return Err(format!(
                "time unit {other} (code table 4.4) is not supported"
            ))
        }
    })
}

/// Section 3: the grid definition.
fn grid2(s: &Section<'_>) -> Result<Result<Grid, String>, String> {
    let template = s.u(13, 14)?;
    if s.u(11, 11)? != 0 {
        return Ok(Err(format!(
            "a reduced grid (template 3.{template} with a list of points per row)"
        )));
    }
    let kind = match template {
        0 => GridKind::RegularLatLon,
        40 => GridKind::RegularGaussian {
            n: s.u(68, 71)? as u32,
        },
        other => return Ok(Err(format!("grid definition template 3.{other}"))),
    };
    let basic_angle = s.u(39, 42)?;
    let subdivisions = s.u(43, 46)?;
    let unit = if basic_angle == 0 || all_missing(s.octets(39, 42)?) {
        1e-6
    } else {
        basic_angle as f64 / subdivisions.max(1) as f64
    };
    let deg = |from, to| -> Result<f64, String> { Ok(s.i(from, to)? as f64 * unit) };
    let increment = |from: usize, to: usize| -> Result<Option<f64>, String> {
        Ok((!all_missing(s.octets(from, to)?)).then(|| s.u(from, to).unwrap_or(0) as f64 * unit))
    };
    Ok(Ok(Grid {
        kind,
        ni: s.u(31, 34)? as u32,
        nj: s.u(35, 38)? as u32,
        lat1: deg(47, 50)?,
        lon1: deg(51, 54)?,
        lat2: deg(56, 59)?,
        lon2: deg(60, 63)?,
        di: increment(64, 67)?,
        dj: match kind {
            GridKind::RegularLatLon => increment(68, 71)?,
            GridKind::RegularGaussian { .. } => None,
        },
        scanning: s.u(72, 72)? as u8,
    }))
}

/// A fixed surface's value: scaled value × 10^-scale factor, `None` when the value is
/// missing (a missing scale factor counts as 0, as ecCodes counts it).
fn surface_value(s: &Section<'_>, factor: usize) -> Result<Option<f64>, String> {
    if all_missing(s.octets(factor + 1, factor + 4)?) {
        return Ok(None);
    }
    let scale = if all_missing(s.octets(factor, factor)?) {
        0
    } else {
        s.i(factor, factor)?
    };
    let value = s.i(factor + 1, factor + 4)? as f64;
    Ok(Some(if scale >= 0 {
        value / 10f64.powi(scale as i32)
    } else {
        value * 10f64.powi(-scale as i32)
    }))
}

/// Section 4: the product definition (templates 4.0, 4.1, 4.8, 4.11).
fn product2(s: &Section<'_>) -> Result<Product, String> {
    let template = s.u(8, 9)?;
    if !matches!(template, 0 | 1 | 8 | 11) {
        return Err(format!(
            "product definition template 4.{template} is not supported (4.0, 4.1, 4.8 and 4.11 are)"
        ));
    }
    let unit = time_unit_seconds(s.u(18, 18)?)?;
    let start = s.i(19, 22)? * unit;
    let level = Level {
        code: s.u(23, 23)? as u8,
        second_code: s.u(29, 29)? as u8,
        first: surface_value(s, 24)?,
        second: surface_value(s, 30)?,
    };
    let member = matches!(template, 1 | 11)
        .then(|| s.u(36, 36))
        .transpose()?;
    // 4.8 and 4.11: the statistical processing block starts after the end time.
    let stat = match template {
        8 => Some(46),
        11 => Some(49),
        _ => None,
    };
    let step = match stat {
        None => Step {
            start,
            end: start,
            kind: StepType::Instant,
        },
        Some(base) => {
            let kind = match s.u(base + 1, base + 1)? {
                0 => StepType::Avg,
                1 => StepType::Accum,
                2 => StepType::Max,
                3 => StepType::Min,
                4 => StepType::Diff,
                other => {
                    return Err(format!(
                        "statistical process {other} (code table 4.10) is not supported"
                    ))
                }
            };
            let length = s.i(base + 4, base + 7)? * time_unit_seconds(s.u(base + 3, base + 3)?)?;
            Step {
                start,
                end: start + length,
                kind,
            }
        }
    };
    let ensemble_size = matches!(template, 1 | 11)
        .then(|| s.u(37, 37))
        .transpose()?;
    Ok(Product {
        nv: s.u(6, 7)?,
        ensemble_size: ensemble_size.map(|n| n as i64),
        category: s.u(10, 10)? as u8,
        number: s.u(11, 11)? as u8,
        level,
        step,
        member: member.map(|m| m as i64),
    })
}

/// The one field of a GRIB1 message.
pub(crate) fn parse_grib1<S: ByteSource + ?Sized>(
    msg: &MessageBytes<'_, S>,
) -> Result<Field, FieldError> {
    let mut at = 8u64;
    let pds = grib1_section(msg, at, 1)?;
    let pds_len = pds.bytes.len() as u64;
    let flags = pds.u(8, 8).map_err(|r| msg.error(at, r))?;
    at += pds_len;
    let mut grid = Err("no grid definition section (a predefined grid)".to_owned());
    let mut nv = 0;
    if flags & 0x80 != 0 {
        let gds = grib1_section(msg, at, 2)?;
        nv = gds.u(4, 4).map_err(|r| msg.error(at, r))?;
        grid = grid1(&gds).map_err(|r| msg.error(at, r))?;
        at += gds.bytes.len() as u64;
    }
    let mut bitmap = None;
    let mut bitmap_points = None;
    if flags & 0x40 != 0 {
        let bms = grib1_section(msg, at, 3)?;
        let len = bms.bytes.len() as u64;
        if bms.u(5, 6).map_err(|r| msg.error(at, r))? != 0 {
            return Err(msg.error(
                at,
                "a predefined bitmap (BMS octets 5-6 non-zero) is not supported".into(),
            ));
        }
        let unused = bms.u(4, 4).map_err(|r| msg.error(at, r))?;
        bitmap_points = Some(((len - 6) * 8).saturating_sub(unused));
        bitmap = Some((at, len));
        at += len;
    }
    let bds = grib1_section(msg, at, 4)?;
    let bds_loc = (at, bds.length);
    let bds_flags = bds.u(4, 4).map_err(|r| msg.error(at, r))?;
    // Some writers pad a message after its data section (to a multiple of 120 bytes).
    if at + bds_loc.1 + 4 > msg.span().length {
        return Err(msg.error(
            at,
            "the binary data section runs into the `7777` end marker".into(),
        ));
    }
    field1(
        &pds,
        grid,
        nv,
        bitmap,
        bitmap_points,
        bds_loc,
        bds_flags,
        msg,
    )
    .map_err(|r| msg.error(8, r))
}

/// Reads a whole GRIB1 section (3-byte length) at `at`.
fn grib1_section<S: ByteSource + ?Sized>(
    msg: &MessageBytes<'_, S>,
    at: u64,
    number: u8,
) -> Result<OwnedSection, FieldError> {
    let head = msg.get(at, 3)?;
    let length = unsigned(&head);
    if length < 4 {
        return Err(msg.error(
            at,
            format!("GRIB1 section {number} says it is {length} bytes long"),
        ));
    }
    // Only the data section's first bytes are needed.
    let read = if number == 4 { length.min(11) } else { length };
    let bytes = msg.get(at, read)?.into_owned();
    msg.get(at + length - 1, 1)?;
    let mut bytes = bytes;
    if number == 4 {
        bytes.resize(length.min(11) as usize, 0);
    }
    Ok(OwnedSection {
        bytes,
        at,
        number,
        length,
    })
}

/// A GRIB1 section held by value.
struct OwnedSection {
    bytes: Vec<u8>,
    at: u64,
    number: u8,
    length: u64,
}

impl OwnedSection {
    fn view(&self) -> Section<'_> {
        Section {
            bytes: &self.bytes,
            at: self.at,
            number: self.number,
        }
    }

    fn u(&self, from: usize, to: usize) -> Result<u64, String> {
        self.view().u(from, to)
    }

    fn i(&self, from: usize, to: usize) -> Result<i64, String> {
        self.view().i(from, to)
    }
}

/// GRIB1 GDS: regular lat/lon (type 0) or Gaussian (type 4).
fn grid1(s: &OwnedSection) -> Result<Result<Grid, String>, String> {
    let kind = match s.u(6, 6)? {
        0 => GridKind::RegularLatLon,
        4 => GridKind::RegularGaussian {
            n: s.u(26, 27)? as u32,
        },
        other => return Ok(Err(format!("GRIB1 grid type {other}"))),
    };
    if all_missing(s.view().octets(7, 8)?) {
        return Ok(Err("a reduced grid (GRIB1 Ni missing)".into()));
    }
    let deg = |from, to| -> Result<f64, String> { Ok(s.i(from, to)? as f64 / 1000.0) };
    let increment = |from: usize, to: usize| -> Result<Option<f64>, String> {
        let given = s.u(17, 17)? & 0x80 != 0;
        Ok((given && !all_missing(s.view().octets(from, to)?))
            .then(|| s.u(from, to).unwrap_or(0) as f64 / 1000.0))
    };
    Ok(Ok(Grid {
        kind,
        ni: s.u(7, 8)? as u32,
        nj: s.u(9, 10)? as u32,
        lat1: deg(11, 13)?,
        lon1: deg(14, 16)?,
        lat2: deg(18, 20)?,
        lon2: deg(21, 23)?,
        di: increment(24, 25)?,
        dj: match kind {
            GridKind::RegularLatLon => increment(26, 27)?,
            GridKind::RegularGaussian { .. } => None,
        },
        scanning: s.u(28, 28)? as u8,
    }))
}

/// Assembles the GRIB1 field from its PDS and section locations.
#[allow(clippy::too_many_arguments)]
fn field1<S: ByteSource + ?Sized>(
    pds: &OwnedSection,
    grid: Result<Grid, String>,
    nv: u64,
    bitmap: Option<(u64, u64)>,
    bitmap_points: Option<u64>,
    bds: (u64, u64),
    bds_flags: u64,
    msg: &MessageBytes<'_, S>,
) -> Result<Field, String> {
    let century = pds.u(25, 25)? as i32;
    let year_of_century = pds.u(13, 13)? as i32;
    let reference_time = DateTime {
        year: (century - 1) * 100 + year_of_century,
        month: pds.u(14, 14)? as u8,
        day: pds.u(15, 15)? as u8,
        hour: pds.u(16, 16)? as u8,
        minute: pds.u(17, 17)? as u8,
        second: 0,
    };
    let level = grib1_level(pds)?;
    let step = grib1_step(pds)?;
    let centre = pds.u(5, 5)? as u8;
    // ECMWF local definitions 1 and others carry the ensemble member at PDS octet 50.
    let local = centre == 98 && pds.length >= 51 && pds.u(41, 41)? != 0;
    let number = local.then(|| pds.u(50, 50)).transpose()?.map(|n| n as i64);
    let ensemble_size = local.then(|| pds.u(51, 51)).transpose()?.map(|n| n as i64);
    let (points, grid) = match grid {
        Ok(g) => {
            let points = u64::from(g.ni) * u64::from(g.nj);
            (points, checked_grid(g, points))
        }
        Err(e) => (0, Err(e)),
    };
    let values = bitmap_points.map_or(points, |_| 0);
    if bds_flags & 0x80 != 0 {
        return Err("spherical harmonic coefficients (BDS flag 1) cannot be laid on a grid".into());
    }
    let _ = msg;
    Ok(Field {
        span: msg.span(),
        index: 0,
        centre: u16::from(centre),
        subcentre: pds.u(26, 26)? as u16,
        ensemble_size,
        nv,
        param: Param::Grib1 {
            table: pds.u(4, 4)? as u8,
            centre,
            number: pds.u(9, 9)? as u8,
        },
        reference_time,
        level,
        step,
        number,
        grid,
        points,
        values,
        packing: (bds_flags >> 4) as u16,
        data: DataLocation {
            representation: bds,
            bitmap,
            data: bds,
            standalone: [None; 7],
        },
        decimal_scale: pds.i(27, 28)? as i16,
    })
}

/// GRIB1 PDS octets 10–12: the level (layers hold two one-octet values).
fn grib1_level(pds: &OwnedSection) -> Result<Level, String> {
    let level_code = pds.u(10, 10)? as u8;
    let level = match level_code {
        // Layers: two one-octet values.
        101 | 104 | 106 | 108 | 110 | 112 | 114 | 116 | 120 | 121 | 128 | 141 => Level {
            code: level_code,
            second_code: 255,
            first: Some(pds.u(11, 11)? as f64),
            second: Some(pds.u(12, 12)? as f64),
        },
        _ => Level {
            code: level_code,
            second_code: 255,
            first: Some(pds.u(11, 12)? as f64),
            second: None,
        },
    };
    Ok(level)
}

/// GRIB1 PDS octets 18–21: the forecast time range.
fn grib1_step(pds: &OwnedSection) -> Result<Step, String> {
    let unit = match pds.u(18, 18)? {
        254 => 1,
        other => time_unit_seconds(other)?,
    };
    let (p1, p2) = (pds.u(19, 19)? as i64, pds.u(20, 20)? as i64);
    let step = match pds.u(21, 21)? {
        0 => Step {
            start: p1 * unit,
            end: p1 * unit,
            kind: StepType::Instant,
        },
        1 => Step {
            start: 0,
            end: 0,
            kind: StepType::Instant,
        },
        10 => {
            let p = (p1 << 8 | p2) * unit;
            Step {
                start: p,
                end: p,
                kind: StepType::Instant,
            }
        }
        2 => Step {
            start: p1 * unit,
            end: p2 * unit,
            kind: StepType::Max,
        },
        3 => Step {
            start: p1 * unit,
            end: p2 * unit,
            kind: StepType::Avg,
        },
        4 => Step {
            start: p1 * unit,
            end: p2 * unit,
            kind: StepType::Accum,
        },
        5 => Step {
            start: p1 * unit,
            end: p2 * unit,
            kind: StepType::Diff,
        },
        other => {
            return Err(format!(
                "GRIB1 time range indicator {other} is not supported"
            ))
        }
    };
    Ok(step)
}
