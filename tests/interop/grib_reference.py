"""What ecCodes and cfgrib make of a GRIB file: the reference the GRIB interop tests use.

Nothing of chunkref is used here.  ``messages(path)`` lists every field as ecCodes
decodes it (multi-field messages split into their fields, as cfgrib does);
``cfgrib_datasets(path)`` is cfgrib's grouping of the file into xarray datasets,
loaded into memory.  Neither writes anything next to the GRIB file (cfgrib's
``<file>.<hash>.idx`` index files are switched off).

    >>> from grib_reference import messages, cfgrib_datasets
    >>> [m["shortName"] for m in messages("fixtures/grib2_multifield.grib2")]
    ['10u', '10v']
"""

from __future__ import annotations

import os

import eccodes
import numpy as np

# stepUnits code -> seconds (ecCodes stepUnits.table; as cfgrib.cfmessage uses it)
STEP_UNIT_SECONDS = {0: 60, 1: 3600, 2: 86400, 10: 10800, 11: 21600, 12: 43200, 13: 1, 14: 900, 15: 1800}

# keys read as integers / floats / strings when the message defines them
INT_KEYS = [
    "edition", "discipline", "centre", "paramId", "level", "dataDate", "dataTime",
    "validityDate", "validityTime", "startStep", "endStep", "stepUnits",
    "Ni", "Nj", "N", "iScansNegatively", "jScansPositively", "jPointsAreConsecutive",
    "numberOfValues", "numberOfDataPoints", "numberOfMissing", "numberOfCodedValues",
    "bitmapPresent", "bitsPerValue", "binaryScaleFactor", "decimalScaleFactor",
    "parameterCategory", "parameterNumber", "productDefinitionTemplateNumber",
    "gridDefinitionTemplateNumber", "dataRepresentationTemplateNumber",
    "typeOfFirstFixedSurface", "typeOfStatisticalProcessing",
    "indicatorOfParameter", "table2Version", "indicatorOfTypeOfLevel", "timeRangeIndicator",
    "orderOfSpatialDifferencing", "precision", "perturbationNumber", "numberOfForecastsInEnsemble",
]
FLOAT_KEYS = [
    "latitudeOfFirstGridPointInDegrees", "longitudeOfFirstGridPointInDegrees",
    "latitudeOfLastGridPointInDegrees", "longitudeOfLastGridPointInDegrees",
    "iDirectionIncrementInDegrees", "jDirectionIncrementInDegrees",
    "referenceValue", "missingValue",
]
STR_KEYS = [
    "shortName", "cfVarName", "cfName", "name", "units", "typeOfLevel", "stepType",
    "stepRange", "gridType", "packingType", "centreDescription",
]


def _get(h, key: str, ktype):
    if not eccodes.codes_is_defined(h, key):
        return None
    if ktype is str:
        return eccodes.codes_get_string(h, key)
    if eccodes.codes_is_missing(h, key):
        return None
    if ktype is int:
        return int(eccodes.codes_get_long(h, key))
    return float(eccodes.codes_get_double(h, key))


def _values(h) -> np.ndarray:
    """Decoded values as float64, NaN where the bitmap says a point is missing."""
    vals = np.asarray(eccodes.codes_get_values(h), dtype=np.float64).copy()
    if eccodes.codes_get_long(h, "bitmapPresent"):
        bitmap = np.asarray(eccodes.codes_get_array(h, "bitmap"), dtype=np.int64)
        assert bitmap.size == vals.size
        vals[bitmap == 0] = np.nan
    return vals


def _message_table(path: str) -> dict:
    """offset -> totalLength of every message as it is in the file (multi support off)."""
    eccodes.codes_grib_multi_support_off()
    out = {}
    with open(path, "rb") as f:
        while True:
            h = eccodes.codes_grib_new_from_file(f)
            if h is None:
                break
            try:
                out[int(eccodes.codes_get_long(h, "offset"))] = int(eccodes.codes_get_long(h, "totalLength"))
            finally:
                eccodes.codes_release(h)
    return out


def messages(path: str | os.PathLike, values: bool = True) -> list[dict]:
    """One dict per field, in file order (a multi-field message gives several).

    Keys: ``message`` (0-based message number), ``field`` (0-based field index
    within the message), ``offset`` and ``totalLength`` (the message's bytes in
    the file; shared by the fields of a multi-field message), ``fieldLength``
    (length of the single-field message ecCodes rebuilt for this field; equals
    ``totalLength`` for ordinary messages), ``step`` (hours, float, as cfgrib's
    ``step``: endStep in stepUnits converted to hours), ``number`` (the
    perturbationNumber, None when the message has none), ``latitudes`` /
    ``longitudes`` (ecCodes' distinctLatitudes / distinctLongitudes, regular
    grids only: in scanning order, which is cfgrib's coordinate order; Gaussian
    latitudes at full precision, not the micro-degrees stored in section 3;
    a GRIB2 first longitude of 340 with a last of 40 gives -20 ... 40), the keys of INT_KEYS,
    FLOAT_KEYS and STR_KEYS (None when not defined), and ``values``: float64,
    length numberOfDataPoints, in the file's scanning order, NaN for points
    the bitmap marks missing.
    """
    path = os.fspath(path)
    table = _message_table(path)
    offsets = sorted(table)
    out: list[dict] = []
    eccodes.codes_grib_multi_support_on()
    try:
        with open(path, "rb") as f:
            eccodes.codes_grib_multi_support_reset_file(f)
            prev_offset, field = -1, 0
            while True:
                h = eccodes.codes_grib_new_from_file(f)
                if h is None:
                    break
                try:
                    offset = int(eccodes.codes_get_long(h, "offset"))
                    field = field + 1 if offset == prev_offset else 0
                    prev_offset = offset
                    d: dict = {
                        "message": offsets.index(offset),
                        "field": field,
                        "offset": offset,
                        "totalLength": table[offset],
                        "fieldLength": int(eccodes.codes_get_long(h, "totalLength")),
                    }
                    for k in INT_KEYS:
                        d[k] = _get(h, k, int)
                    for k in FLOAT_KEYS:
                        d[k] = _get(h, k, float)
                    for k in STR_KEYS:
                        d[k] = _get(h, k, str)
                    unit = STEP_UNIT_SECONDS[d["stepUnits"]]
                    d["step"] = d["endStep"] * unit / 3600.0
                    d["number"] = d["perturbationNumber"]
                    d["bitmapPresent"] = bool(d["bitmapPresent"])
                    if d["gridType"] in ("regular_ll", "regular_gg"):
                        d["latitudes"] = np.asarray(eccodes.codes_get_array(h, "distinctLatitudes"), dtype=np.float64)
                        d["longitudes"] = np.asarray(eccodes.codes_get_array(h, "distinctLongitudes"), dtype=np.float64)
                    if values:
                        d["values"] = _values(h)
                finally:
                    eccodes.codes_release(h)
                out.append(d)
    finally:
        eccodes.codes_grib_multi_support_off()
    return out


def grid_values(m: dict) -> np.ndarray:
    """A regular grid's values as (Nj, Ni), rows in the file's scanning order."""
    assert m["gridType"] in ("regular_ll", "regular_gg") and not m["iScansNegatively"]
    assert not m["jPointsAreConsecutive"]
    return m["values"].reshape(m["Nj"], m["Ni"])


def cfgrib_datasets(path: str | os.PathLike, **backend_kwargs) -> list:
    """``cfgrib.open_datasets(path)`` without index files, loaded into memory.

    Extra keyword arguments go to cfgrib's backend (``filter_by_keys`` ...).
    """
    import cfgrib

    kwargs = {"indexpath": "", **backend_kwargs}
    datasets = cfgrib.open_datasets(os.fspath(path), backend_kwargs=kwargs)
    return [ds.load() for ds in datasets]
