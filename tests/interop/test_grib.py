"""GRIB stores against ecCodes and cfgrib: every field of every GRIB fixture.

For every GRIB fixture in fixtures/ (see fixtures/README.md; made by ecCodes), scanned with
the default options and with ``--inline-threshold 0``:

* **values, decoded by chunkref** (``chunkref get --format npy``, our pure-Rust unpacking)
  equal ecCodes' ``values`` of the same field cast to float32, bit for bit, NaN where the
  bitmap marks a point missing. The codec computes in float64 with ecCodes' formulas and
  converts to float32 as kerchunk's codec does, so no tolerance is needed; IEEE-packed
  float64 fields (``grib2_packing_ieee64``) are compared after the same float32 cast.
* **values, decoded by Python** (fsspec "reference://" + zarr 3 + xarray, with kerchunk's
  ``grib`` codec, i.e. ecCodes, decoding our byte ranges) equal the same: our references and
  codec configuration are what kerchunk reads.
* **grouping and coordinates** equal cfgrib's (``cfgrib.open_datasets``): each cfgrib data
  variable is found in our store (root or a group) with the same dims, the same coordinate
  values (time, step, valid_time decoded to the same datetimes and timedeltas, levels,
  number, latitude, longitude) and the attributes we write equal cfgrib's.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import kerchunk.codecs  # noqa: F401  (registers the "grib" codec with numcodecs)
import numpy as np
import pytest
import xarray as xr
import zarr

from grib_reference import cfgrib_datasets, messages
from test_interop import FIXDIR, MODES, chunkref_command

GRIB_FIXTURES = sorted(p.name for p in FIXDIR.glob("grib*.grib[12]"))

# cfgrib attributes chunkref does not write (ecCodes derives them from MARS/local keys).
NOT_WRITTEN = {"GRIB_dataType", "GRIB_uvRelativeToGrid"}

# Gaussian latitudes are Newton iterates: ours and ecCodes' agree to this many degrees.
GAUSSIAN_LAT_TOL = 1e-9


@pytest.fixture(scope="module")
def grib_stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grib")
    made: dict[tuple[str, str], tuple[Path, str]] = {}

    def store(fixture: str, mode: str = "default") -> tuple[Path, str]:
        key = (fixture, mode)
        if key not in made:
            out = tmp / f"{Path(fixture).stem}.{mode}.json"
            proc = subprocess.run(
                chunkref_command() + ["scan", str(FIXDIR / fixture), "-o", str(out)] + MODES[mode],
                capture_output=True, text=True, timeout=120,
            )
            assert proc.returncode == 0, f"chunkref scan {fixture}: exit {proc.returncode}\n{proc.stderr}"
            made[key] = (out, proc.stderr)
        return made[key]

    return store


def open_group(store: Path, group: str | None) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(
            "reference://",
            engine="zarr",
            group=group,
            backend_kwargs={
                "storage_options": {"fo": str(store), "remote_protocol": "file"},
                "consolidated": True,
                "zarr_format": 2,
            },
        ).load()


def store_groups(store: Path) -> dict[str, xr.Dataset]:
    """Every group of the store holding variables, by path ('' for the root)."""
    import fsspec

    fs = fsspec.filesystem("reference", fo=str(store), remote_protocol="file")
    root = zarr.open_group(fs.get_mapper(""), mode="r", zarr_format=2, use_consolidated=False)
    paths = [""] + [path for path, _ in root.groups()]
    return {p: open_group(store, p or None) for p in paths}


def find_variable(groups: dict[str, xr.Dataset], name: str, type_of_level: str, step_type: str):
    for path, ds in groups.items():
        if name in ds.data_vars:
            v = ds[name]
            if v.attrs.get("GRIB_typeOfLevel") == type_of_level and v.attrs.get("GRIB_stepType") == step_type:
                return path, ds
    raise AssertionError(
        f"no variable {name} ({type_of_level}, {step_type}) in groups "
        + ", ".join(f"{p or '/'}: {sorted(ds.data_vars)}" for p, ds in groups.items())
    )


def position(ds: xr.Dataset, var: str, m: dict) -> dict:
    """The index of message `m` in variable `var` of `ds`, by coordinate values."""
    want = {
        "time": np.datetime64(
            f"{m['dataDate'] // 10000:04d}-{m['dataDate'] // 100 % 100:02d}-{m['dataDate'] % 100:02d}"
            f"T{m['dataTime'] // 100:02d}:{m['dataTime'] % 100:02d}", "ns"),
        "step": np.timedelta64(int(round(m["step"] * 3600)), "s").astype("timedelta64[ns]"),
        m["typeOfLevel"]: float(m["level"]),
        "number": m["number"],
    }
    index = {}
    for dim in ds[var].dims:
        if dim in ("latitude", "longitude"):
            continue
        values = ds[dim].values
        hits = np.nonzero(values == np.asarray(want[dim]).astype(values.dtype))[0]
        assert len(hits) == 1, f"{var}: {dim}={want[dim]!r} not found once in {values!r}"
        index[dim] = int(hits[0])
    for name in ("time", "step", m["typeOfLevel"], "number"):
        if name in ds[var].coords and name not in ds[var].dims and want[name] is not None:
            assert ds[var].coords[name].values == np.asarray(want[name]).astype(ds[var].coords[name].dtype), (
                f"{var}: scalar coordinate {name}={ds[var].coords[name].values!r}, message says {want[name]!r}")
    return index


def get_npy(store: Path, var: str) -> np.ndarray:
    proc = subprocess.run(
        chunkref_command() + ["get", str(store), var, "--format", "npy"],
        capture_output=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    import io

    return np.load(io.BytesIO(proc.stdout))


def assert_same_f32(actual: np.ndarray, expected: np.ndarray, what: str) -> None:
    a = np.asarray(actual, dtype=np.float32)
    e = np.asarray(expected).astype(np.float32)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    assert (nan_a == nan_e).all(), f"{what}: NaN at {np.argwhere(nan_a != nan_e)[:5].tolist()} differ"
    same = a.view(np.uint32)[~nan_a] == e.view(np.uint32)[~nan_e]
    if not same.all():
        bad = np.argwhere(~same)[:5].ravel()
        raise AssertionError(f"{what}: {int((~same).sum())} values differ, e.g. "
                             + "; ".join(f"{a[~nan_a][i]!r} != {e[~nan_e][i]!r}" for i in bad))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", GRIB_FIXTURES)
def test_every_field_equals_eccodes(grib_stores, fixture, mode):
    store, _ = grib_stores(fixture, mode)
    groups = store_groups(store)
    ours: dict[str, np.ndarray] = {}
    for m in messages(FIXDIR / fixture):
        name = m["cfVarName"] if m["cfVarName"] not in ("unknown", None) else m["shortName"]
        path, ds = find_variable(groups, name, m["typeOfLevel"], m["stepType"])
        index = position(ds, name, m)
        expected = m["values"].reshape(m["Nj"], m["Ni"])
        what = f"{fixture} message {m['message'] + 1} field {m['field'] + 1} ({name})"
        # Python: kerchunk's codec (ecCodes) on our references.
        assert_same_f32(ds[name].isel(index).values, expected, what + " via xarray+kerchunk")
        # chunkref's own decoder.
        full = f"{path}/{name}" if path else name
        if full not in ours:
            ours[full] = get_npy(store, full)
        dims = [d for d in ds[name].dims if d not in ("latitude", "longitude")]
        ix = tuple(index[d] for d in dims)
        assert_same_f32(ours[full][ix], expected, what + " via chunkref get")


def _matches(ours: xr.Dataset, theirs: xr.Dataset, name: str) -> None:
    a, e = ours[name], theirs[name]
    assert a.dims == e.dims, f"{name}: dims {a.dims} != cfgrib's {e.dims}"
    for c in e.coords:
        assert c in a.coords, f"{name}: coordinate {c} missing (have {list(a.coords)})"
        ac, ec = a.coords[c], e.coords[c]
        assert ac.dims == ec.dims, f"{name}.{c}: dims {ac.dims} != {ec.dims}"
        if c == "latitude" and theirs[name].attrs.get("GRIB_gridType") == "regular_gg":
            np.testing.assert_allclose(ac.values, ec.values, rtol=0, atol=GAUSSIAN_LAT_TOL)
        else:
            np.testing.assert_array_equal(ac.values, ec.values, err_msg=f"{name}.{c}")
        for k, v in ec.attrs.items():
            if k in ac.attrs:
                assert ac.attrs[k] == v, f"{name}.{c} attribute {k}: {ac.attrs[k]!r} != cfgrib's {v!r}"
    written = {k: v for k, v in a.attrs.items() if k in e.attrs}
    for k, v in written.items():
        assert v == e.attrs[k] or (isinstance(v, float) and np.isclose(v, e.attrs[k], rtol=0, atol=1e-9)), (
            f"{name} attribute {k}: {v!r} != cfgrib's {e.attrs[k]!r}")
    missing = {k for k in e.attrs if k not in a.attrs and k not in NOT_WRITTEN}
    assert not missing, f"{name}: attributes missing: {sorted(missing)}"
    assert_same_f32(a.values, e.values, f"{name} (whole variable)")


@pytest.mark.parametrize("fixture", GRIB_FIXTURES)
def test_grouping_and_coordinates_equal_cfgrib(grib_stores, fixture):
    store, _ = grib_stores(fixture)
    groups = store_groups(store)
    for theirs in cfgrib_datasets(FIXDIR / fixture):
        for name in theirs.data_vars:
            e = theirs[name]
            _, ours = find_variable(groups, name, e.attrs["GRIB_typeOfLevel"], e.attrs["GRIB_stepType"])
            _matches(ours, theirs, name)
        for k in ("GRIB_edition", "GRIB_centre", "GRIB_centreDescription", "institution", "Conventions"):
            if k in theirs.attrs:
                have = [ds.attrs.get(k) for ds in groups.values()]
                assert theirs.attrs[k] in have, f"global attribute {k}: {have} != cfgrib's {theirs.attrs[k]!r}"


def test_ragged_file_warns_and_keeps_every_field(grib_stores):
    _, stderr = grib_stores("grib2_ragged.grib2")
    assert "repeats the field" in stderr, stderr
    assert "read as NaN" in stderr, stderr


def test_multifield_message_fields_are_all_read(grib_stores):
    store, stderr = grib_stores("grib2_multifield.grib2", "no-inline")
    assert "shares its message" in stderr, stderr
    groups = store_groups(store)
    names = {n for ds in groups.values() for n in ds.data_vars}
    assert {"u10", "v10"} <= names, names


# Every parameter and level type of chunkref's naming table (src/grib/names.rs), as ecCodes
# encodes it: (sample, keys to set). ecCodes decides the names; chunkref must say the same.
TABLE_CASES = [
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=103, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=2)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=6, typeOfFirstFixedSurface=103, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=2)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=17, typeOfFirstFixedSurface=1)),
    ("GRIB2", dict(discipline=0, parameterCategory=1, parameterNumber=0, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=0, parameterCategory=1, parameterNumber=1, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=85000)),
    ("GRIB2", dict(discipline=0, parameterCategory=2, parameterNumber=2, typeOfFirstFixedSurface=103, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=10)),
    ("GRIB2", dict(discipline=0, parameterCategory=2, parameterNumber=2, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=0, parameterCategory=2, parameterNumber=3, typeOfFirstFixedSurface=103, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=10)),
    ("GRIB2", dict(discipline=0, parameterCategory=2, parameterNumber=3, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=0, parameterCategory=3, parameterNumber=0, typeOfFirstFixedSurface=1)),
    ("GRIB2", dict(discipline=0, parameterCategory=3, parameterNumber=0, typeOfFirstFixedSurface=101)),
    ("GRIB2", dict(discipline=0, parameterCategory=3, parameterNumber=4, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=0, parameterCategory=3, parameterNumber=5, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=6, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=50000)),
    ("GRIB2", dict(discipline=10, parameterCategory=3, parameterNumber=0, typeOfFirstFixedSurface=1)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=100, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=5)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=102, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=100)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=105, scaleFactorOfFirstFixedSurface=0, scaledValueOfFirstFixedSurface=10)),
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=7)),
] + [
    ("GRIB2", dict(discipline=0, parameterCategory=c, parameterNumber=n, typeOfFirstFixedSurface=1))
    for c, n in ((0, 2), (0, 4), (0, 5), (1, 3), (1, 7), (1, 22), (2, 8), (2, 9), (2, 10), (2, 22), (3, 1), (19, 0))
] + [
    ("GRIB2", dict(discipline=0, parameterCategory=0, parameterNumber=0, typeOfFirstFixedSurface=t))
    for t in (1, 2, 3, 4, 6, 7, 8, 10, 101, 102, 104, 106, 107, 108, 109, 160)
] + [("GRIB1", dict(indicatorOfParameter=130, indicatorOfTypeOfLevel=t)) for t in (1, 4, 6, 7, 8, 102, 103, 107, 111, 113, 117, 200)
] + [("GRIB1", dict(indicatorOfParameter=p)) for p in (130, 167, 168, 131, 132, 165, 166, 129, 133, 157, 151, 134, 235, 34, 164, 228)] + [
    ("GRIB1", dict(indicatorOfParameter=130, indicatorOfTypeOfLevel=t, level=lv)) for t, lv in ((100, 500), (105, 2), (109, 10), (102, 0))
]
NAME_KEYS = {"GRIB_shortName": "shortName", "GRIB_name": "name", "GRIB_units": "units",
             "GRIB_paramId": "paramId", "GRIB_cfName": "cfName", "GRIB_cfVarName": "cfVarName",
             "GRIB_typeOfLevel": "typeOfLevel"}


@pytest.mark.parametrize("case", range(len(TABLE_CASES)))
def test_names_equal_eccodes(tmp_path, case):
    import eccodes

    sample, keys = TABLE_CASES[case]
    h = eccodes.codes_grib_new_from_samples(sample)
    try:
        for k, v in keys.items():
            eccodes.codes_set(h, k, v)
        want = {k: eccodes.codes_get(h, e) for k, e in NAME_KEYS.items()}
        level = eccodes.codes_get(h, "level", float)
        path = tmp_path / "one.grib"
        path.write_bytes(eccodes.codes_get_message(h))
    finally:
        eccodes.codes_release(h)
    out = tmp_path / "one.json"
    proc = subprocess.run(chunkref_command() + ["scan", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    groups = store_groups(out)
    (ds,) = groups.values()
    (name,) = ds.data_vars
    have = {k: ds[name].attrs.get(k) for k in NAME_KEYS}
    assert have == want, f"{sample} {keys}: chunkref {have} != ecCodes {want}"
    assert name == want["GRIB_cfVarName"]
    assert float(ds[want["GRIB_typeOfLevel"]].values) == level
