"""Interop tests of NetCDF3 stores: what `chunkref scan` writes for the nc3 fixtures opens
in Python with nothing of ours and equals the file; offsets equal kerchunk's.

For every nc3 fixture in fixtures/ (see fixtures/README.md), scanned with the default
options (small chunks inlined) and with ``--inline-threshold 0`` (every chunk a reference):

* the store opened with fsspec "reference://" + zarr 3 + xarray is *identical*
  (``xr.testing.assert_identical``: values NaN-aware, dims, coords, attributes) to
  ``xr.open_dataset(file)`` (netCDF4 engine), CF-decoded and raw
  (``decode_cf=False, mask_and_scale=False``); dtypes agree up to byte order (ours are
  big-endian as stored, netCDF4 gives native ones);
* every chunk kerchunk 0.2.10's ``NetCDF3ToZarr(path, inline_threshold=0)`` references by
  range has the same (offset, length) in our store.

``nc3_streaming.nc`` (numrecs patched to 0xFFFFFFFF, a file being written) cannot be read by
netCDF-C, which takes the field literally; it is compared with ``nc3_64bit_offset.nc``, the
file it was patched from.

What kerchunk 0.2.10 does differently (found by these tests; asserted below so a kerchunk
change shows up):

* CDF-5 (``nc3_cdf5.nc``): kerchunk's reader (scipy's netcdf module) raises
  "Unexpected header";
* streaming numrecs: kerchunk raises ("Expected all values to be non-negative");
* exactly one record variable (``nc3_one_record_var.nc``): kerchunk gives the record
  dimension one record too many (6 instead of 5) and references a chunk at the end of the
  file (``obs/5.0`` at [314, 6] in a 314-byte file); the 5 real records agree with ours;
* numeric attributes become strings (``"-2000000000"``, ``"[   -1     0     1 32767]"``) and
  ``_FillValue`` leaves ``.zattrs``: attributes are not compared with kerchunk.
"""

from __future__ import annotations

import json
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from test_interop import FIXDIR, MODES, _array_meta, _ranges, chunkref_command

NC3_FIXTURES = [
    "nc3_classic.nc",
    "nc3_64bit_offset.nc",
    "nc3_cdf5.nc",
    "nc3_one_record_var.nc",
    "nc3_streaming.nc",
]
# The file netCDF-C reads in place of a fixture it cannot read.
SOURCE = {"nc3_streaming.nc": "nc3_64bit_offset.nc"}
# Fixtures kerchunk 0.2.10 cannot translate, with what it raises.
KERCHUNK_FAILS = {
    "nc3_cdf5.nc": "Unexpected header",
    "nc3_streaming.nc": "non-negative",
}
# Chunks kerchunk references past the real records: (fixture, array) -> extra records.
KERCHUNK_EXTRA_RECORDS = {("nc3_one_record_var.nc", "obs"): 1}


@pytest.fixture(scope="module")
def nc3_stores(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("nc3")
    made: dict[tuple[str, str], Path] = {}

    def store(fixture: str, mode: str) -> Path:
        key = (fixture, mode)
        if key not in made:
            out = tmp / f"{Path(fixture).stem}.{mode}.json"
            proc = subprocess.run(
                chunkref_command() + ["scan", str(FIXDIR / fixture), "-o", str(out)] + MODES[mode],
                capture_output=True, text=True, timeout=120,
            )
            assert proc.returncode == 0, f"chunkref scan {fixture}: exit {proc.returncode}\n{proc.stderr}"
            made[key] = out
        return made[key]

    return store


def _open_store(store: Path, raw: bool) -> xr.Dataset:
    kw = {"decode_cf": False, "mask_and_scale": False} if raw else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(
            "reference://",
            engine="zarr",
            backend_kwargs={
                "storage_options": {"fo": str(store), "remote_protocol": "file"},
                "consolidated": True,
                "zarr_format": 2,
            },
            **kw,
        ).load()


def _open_file(fixture: str, raw: bool) -> xr.Dataset:
    kw = {"decode_cf": False, "mask_and_scale": False} if raw else {}
    with xr.open_dataset(FIXDIR / SOURCE.get(fixture, fixture), engine="netcdf4", **kw) as ds:
        return ds.load()


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("raw", [False, True], ids=["decoded", "raw"])
@pytest.mark.parametrize("fixture", NC3_FIXTURES)
def test_nc3_store_is_identical_to_the_file(nc3_stores, fixture, raw, mode):
    ours = _open_store(nc3_stores(fixture, mode), raw)
    theirs = _open_file(fixture, raw)
    xr.testing.assert_identical(theirs, ours)
    for name, var in theirs.variables.items():
        got = ours[name].dtype
        assert got.newbyteorder("=") == var.dtype.newbyteorder("="), f"{name}: dtype {got}, file {var.dtype}"
        for key in ("_FillValue", "scale_factor", "add_offset", "units", "calendar"):
            assert (key in var.encoding) == (key in ours[name].encoding), f"{name}: encoding {key}"
            if key in var.encoding:
                np.testing.assert_array_equal(var.encoding[key], ours[name].encoding[key])


@pytest.mark.parametrize("fixture", NC3_FIXTURES)
def test_nc3_store_is_v1_with_big_endian_dtypes(nc3_stores, fixture):
    doc = json.loads(nc3_stores(fixture, "no-inline").read_bytes())
    assert doc["version"] == 1
    refs = doc["refs"]
    for key in refs:
        if key.endswith("/.zarray"):
            meta = json.loads(refs[key])
            assert meta["dtype"][0] in ">|", f"{key}: {meta['dtype']}"
            assert meta["compressor"] is None and not meta["filters"], key


def _kerchunk(fixture: str) -> dict:
    from kerchunk.netCDF3 import NetCDF3ToZarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = NetCDF3ToZarr(str(FIXDIR / fixture), inline_threshold=0).translate()
    return refs.get("refs", refs)


@pytest.mark.parametrize("fixture", NC3_FIXTURES)
def test_nc3_offsets_match_kerchunk(nc3_stores, fixture):
    if fixture in KERCHUNK_FAILS:
        with pytest.raises(Exception, match=KERCHUNK_FAILS[fixture]):
            _kerchunk(fixture)
        return
    kc = _kerchunk(fixture)
    doc = json.loads(nc3_stores(fixture, "no-inline").read_bytes())
    refs, templates = doc["refs"], doc.get("templates", {})
    ours = _ranges(refs, templates)
    theirs = _ranges(kc, {})
    problems = []
    compared = 0
    for key, val in sorted(theirs.items()):
        if not isinstance(val, tuple):
            continue
        arr, ck = key.rsplit("/", 1)
        meta, kmeta = _array_meta(refs, arr), _array_meta(kc, arr)
        # kerchunk and chunkref both make one chunk per record for record variables and
        # one chunk per fixed variable; compare chunk shapes first
        if meta["chunks"] != kmeta["chunks"]:
            problems.append(f"{arr}: chunks {meta['chunks']}, kerchunk {kmeta['chunks']}")
            continue
        extra = KERCHUNK_EXTRA_RECORDS.get((fixture, arr), 0)
        if extra and int(ck.split(".")[0]) >= meta["shape"][0]:
            assert kmeta["shape"][0] == meta["shape"][0] + extra
            continue  # kerchunk's record past the end of the file
        have = ours.get(key)
        compared += 1
        if have is None or have[1:] != val[1:]:
            problems.append(f"{key}: store {have and have[1:]}, kerchunk {val[1:]}")
    assert not problems, "\n".join(problems)
    assert compared >= 5
