//! What ecCodes calls a field: its parameter's short name, name, units and CF names, its type
//! of level, its originating centre.
//!
//! ecCodes derives these from its definition files; chunkref carries the entries for the
//! parameters and levels most archives hold (ECMWF's and WMO's common ones), checked against
//! ecCodes by the interop tests. A parameter not in the table is named after its numbers
//! (`unknown_0_19_5`, GRIB1 `unknown_128_31`) with a warning, where ecCodes would say
//! `unknown` for all of them and cfgrib would merge them.

use super::sections::{Field, Level, Param};

/// ecCodes' names for a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamInfo {
    /// `shortName`, e.g. `2t`.
    pub short_name: &'static str,
    /// `name`, e.g. `2 metre temperature`.
    pub name: &'static str,
    /// `units`, e.g. `K`.
    pub units: &'static str,
    /// `paramId`.
    pub param_id: u32,
    /// `cfName` (`unknown` when CF has none).
    pub cf_name: &'static str,
    /// `cfVarName`: the variable name cfgrib gives, e.g. `t2m`.
    pub cf_var_name: &'static str,
}

/// Where a table entry applies: a parameter, optionally only on one level type and value.
struct Entry {
    param: Param,
    /// `(type of level code, level value)` the entry is limited to.
    level: Option<(u8, f64)>,
    info: ParamInfo,
}

const fn g2(discipline: u8, category: u8, number: u8) -> Param {
    Param::Grib2 {
        discipline,
        category,
        number,
    }
}

/// ECMWF's local table 128 (GRIB1, centre 98).
const fn e1(number: u8) -> Param {
    Param::Grib1 {
        table: 128,
        centre: 98,
        number,
    }
}

/// An entry for a parameter on any level.
const fn any(param: Param, info: ParamInfo) -> Entry {
    Entry {
        param,
        level: None,
        info,
    }
}

/// An entry for a parameter on one level: `(type of level code, value)`.
const fn at(param: Param, level: (u8, f64), info: ParamInfo) -> Entry {
    Entry {
        param,
        level: Some(level),
        info,
    }
}

const fn info(
    short_name: &'static str,
    name: &'static str,
    units: &'static str,
    param_id: u32,
    cf_name: &'static str,
    cf_var_name: &'static str,
) -> ParamInfo {
    ParamInfo {
        short_name,
        name,
        units,
        param_id,
        cf_name,
        cf_var_name,
    }
}

const T: ParamInfo = info("t", "Temperature", "K", 130, "air_temperature", "t");
// ecCodes gives some parameters a CF name in GRIB2 only.
const T2M: ParamInfo = info(
    "2t",
    "2 metre temperature",
    "K",
    167,
    "air_temperature",
    "t2m",
);
const T2M_GRIB1: ParamInfo = ParamInfo {
    cf_name: "unknown",
    ..T2M
};
const DPT: ParamInfo = info("dpt", "Dew point temperature", "K", 3017, "unknown", "dpt");
const D2M: ParamInfo = info(
    "2d",
    "2 metre dewpoint temperature",
    "K",
    168,
    "unknown",
    "d2m",
);
const U: ParamInfo = info(
    "u",
    "U component of wind",
    "m s**-1",
    131,
    "eastward_wind",
    "u",
);
const V: ParamInfo = info(
    "v",
    "V component of wind",
    "m s**-1",
    132,
    "northward_wind",
    "v",
);
const U10: ParamInfo = info(
    "10u",
    "10 metre U wind component",
    "m s**-1",
    165,
    "eastward_wind",
    "u10",
);
const U10_GRIB1: ParamInfo = ParamInfo {
    cf_name: "unknown",
    ..U10
};
const V10: ParamInfo = info(
    "10v",
    "10 metre V wind component",
    "m s**-1",
    166,
    "northward_wind",
    "v10",
);
const V10_GRIB1: ParamInfo = ParamInfo {
    cf_name: "unknown",
    ..V10
};
const Z: ParamInfo = info("z", "Geopotential", "m**2 s**-2", 129, "geopotential", "z");
const GH: ParamInfo = info(
    "gh",
    "Geopotential height",
    "gpm",
    156,
    "geopotential_height",
    "gh",
);
const Q: ParamInfo = info(
    "q",
    "Specific humidity",
    "kg kg**-1",
    133,
    "specific_humidity",
    "q",
);
const R: ParamInfo = info("r", "Relative humidity", "%", 157, "relative_humidity", "r");
const MSL: ParamInfo = info(
    "msl",
    "Mean sea level pressure",
    "Pa",
    151,
    "air_pressure_at_mean_sea_level",
    "msl",
);
const SP: ParamInfo = info(
    "sp",
    "Surface pressure",
    "Pa",
    134,
    "surface_air_pressure",
    "sp",
);
const SKT: ParamInfo = info("skt", "Skin temperature", "K", 235, "unknown", "skt");
const SST: ParamInfo = info("sst", "Sea surface temperature", "K", 34, "unknown", "sst");
const TCC: ParamInfo = info(
    "tcc",
    "Total cloud cover",
    "(0 - 1)",
    164,
    "cloud_area_fraction",
    "tcc",
);
const W: ParamInfo = info(
    "w",
    "Vertical velocity",
    "Pa s**-1",
    135,
    "lagrangian_tendency_of_air_pressure",
    "w",
);
const WZ: ParamInfo = info(
    "wz",
    "Geometric vertical velocity",
    "m s**-1",
    260_238,
    "unknown",
    "wz",
);
const ABSV: ParamInfo = info(
    "absv",
    "Absolute vorticity",
    "s**-1",
    3041,
    "unknown",
    "absv",
);
const PWAT: ParamInfo = info(
    "pwat",
    "Precipitable water",
    "kg m**-2",
    3054,
    "unknown",
    "pwat",
);
const VIS: ParamInfo = info("vis", "Visibility", "m", 3020, "unknown", "vis");
const TMAX: ParamInfo = info("tmax", "Maximum temperature", "K", 3015, "unknown", "tmax");
const TMIN: ParamInfo = info("tmin", "Minimum temperature", "K", 3016, "unknown", "tmin");
const CLWMR: ParamInfo = info(
    "clwmr",
    "Cloud mixing ratio",
    "kg kg**-1",
    260_018,
    "unknown",
    "clwmr",
);
const GUST: ParamInfo = info(
    "gust",
    "Wind speed (gust)",
    "m s**-1",
    260_065,
    "unknown",
    "gust",
);
const PRMSL: ParamInfo = info(
    "prmsl",
    "Pressure reduced to MSL",
    "Pa",
    260_074,
    "unknown",
    "prmsl",
);
const PRATE: ParamInfo = info(
    "prate",
    "Precipitation rate",
    "kg m**-2 s**-1",
    3059,
    "unknown",
    "prate",
);
const PT: ParamInfo = info("pt", "Potential temperature", "K", 3, "unknown", "pt");
const TP: ParamInfo = info("tp", "Total precipitation", "m", 228, "unknown", "tp");

/// The table: the first entry whose parameter and level match wins, so level-specific
/// entries come before the general one.
const TABLE: &[Entry] = &[
    // GRIB2, discipline 0 (meteorological).
    at(g2(0, 0, 0), (103, 2.0), T2M),
    any(g2(0, 0, 0), T),
    at(g2(0, 0, 6), (103, 2.0), D2M),
    any(g2(0, 0, 6), DPT),
    any(g2(0, 0, 17), SKT),
    any(g2(0, 0, 2), PT),
    any(g2(0, 0, 4), TMAX),
    any(g2(0, 0, 5), TMIN),
    any(g2(0, 1, 3), PWAT),
    any(g2(0, 1, 7), PRATE),
    any(g2(0, 1, 22), CLWMR),
    any(g2(0, 2, 8), W),
    any(g2(0, 2, 9), WZ),
    any(g2(0, 2, 10), ABSV),
    any(g2(0, 2, 22), GUST),
    any(g2(0, 3, 1), PRMSL),
    any(g2(0, 19, 0), VIS),
    any(g2(0, 1, 0), Q),
    any(g2(0, 1, 1), R),
    at(g2(0, 2, 2), (103, 10.0), U10),
    any(g2(0, 2, 2), U),
    at(g2(0, 2, 3), (103, 10.0), V10),
    any(g2(0, 2, 3), V),
    at(g2(0, 3, 0), (1, 0.0), SP),
    at(g2(0, 3, 0), (101, 0.0), MSL),
    any(g2(0, 3, 4), Z),
    any(g2(0, 3, 5), GH),
    // ECMWF's local GRIB2 number for total precipitation (paramId 228, in m).
    any(g2(0, 1, 193), TP),
    any(g2(10, 3, 0), SST),
    // GRIB1, ECMWF table 128.
    any(e1(130), T),
    any(e1(167), T2M_GRIB1),
    any(e1(168), D2M),
    any(e1(131), U),
    any(e1(132), V),
    any(e1(165), U10_GRIB1),
    any(e1(166), V10_GRIB1),
    any(e1(129), Z),
    any(e1(133), Q),
    any(e1(157), R),
    any(e1(151), MSL),
    any(e1(134), SP),
    any(e1(235), SKT),
    any(e1(34), SST),
    any(e1(164), TCC),
    any(e1(228), TP),
];

/// ecCodes' names for the field's parameter, or `None` when chunkref's table lacks it.
#[must_use]
pub fn param_info(field: &Field) -> Option<ParamInfo> {
    TABLE
        .iter()
        .find(|e| {
            e.param == field.param
                && e.level.is_none_or(|(code, value)| {
                    field.level.code == code
                        && field.level.first.unwrap_or(0.0).total_cmp(&value).is_eq()
                })
        })
        .map(|e| e.info)
}

/// The name chunkref gives a parameter missing from its table: its numbers.
#[must_use]
pub fn unknown_param_name(param: Param) -> String {
    match param {
        Param::Grib2 {
            discipline,
            category,
            number,
        } => format!("unknown_{discipline}_{category}_{number}"),
        Param::Grib1 { table, number, .. } => format!("unknown_{table}_{number}"),
    }
}

/// ecCodes' `typeOfLevel` and `level` value of a field, or `None` for a level type
/// chunkref's table lacks.
#[must_use]
pub fn type_of_level(edition: u8, level: &Level) -> Option<(&'static str, f64)> {
    let value = level.first.unwrap_or(0.0);
    let name = if edition == 1 {
        match level.code {
            1 => "surface",
            4 => "isothermZero",
            6 => "maxWind",
            7 => "tropopause",
            8 => "nominalTop",
            100 => "isobaricInhPa",
            102 => "meanSea",
            103 => "heightAboveSea",
            105 => "heightAboveGround",
            107 => "sigma",
            109 => "hybrid",
            111 => "depthBelowLand",
            112 => "depthBelowLandLayer",
            113 => "theta",
            117 => "potentialVorticity",
            200 => "entireAtmosphere",
            _ => return None,
        }
    } else {
        match level.code {
            1 => "surface",
            2 => "cloudBase",
            3 => "cloudTop",
            4 => "isothermZero",
            6 => "maxWind",
            7 => "tropopause",
            8 => "nominalTop",
            10 => "atmosphere",
            100 => {
                // ecCodes' `level` of a pressure level: whole hPa (truncated), or Pa below 1 hPa.
                let level = if value < 100.0 {
                    value
                } else {
                    (value / 100.0).trunc()
                };
                return Some(("isobaricInhPa", level));
            }
            101 => "meanSea",
            102 => "heightAboveSea",
            103 => "heightAboveGround",
            104 => "sigma",
            105 => "hybrid",
            106 if level.second_code == 106 => "depthBelowLandLayer",
            106 => "depthBelowLand",
            107 => "theta",
            108 if level.second_code == 108 => "pressureFromGroundLayer",
            108 => "pressureFromGround",
            109 => "potentialVorticity",
            160 => "depthBelowSea",
            _ => return None,
        }
    };
    Some((name, value))
}

/// ecCodes' abbreviation and description of an originating centre, when known.
#[must_use]
pub fn centre(code: u16) -> Option<(&'static str, &'static str)> {
    Some(match code {
        7 => ("kwbc", "US National Weather Service - NCEP"),
        34 => ("rjtd", "Japanese Meteorological Agency - Tokyo"),
        54 => ("cwao", "Canadian Meteorological Service - Montreal"),
        74 => ("egrr", "U.K. Met Office - Exeter"),
        78 => ("edzw", "Offenbach (RSMC)"),
        85 => ("lfpw", "French Weather Service - Toulouse"),
        98 => ("ecmf", "European Centre for Medium-Range Weather Forecasts"),
        _ => return None,
    })
}
