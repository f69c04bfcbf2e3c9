"""Interop tests: what `chunkref scan` writes opens in Python with nothing of ours.

For every fixture in fixtures/ (see fixtures/README.md):

* `chunkref scan FIXTURE -o STORE.json` exits 0 and writes a kerchunk JSON store
  (unsupported HDF5 variables: still exit 0, a warning naming them on stderr);
* the store opened with fsspec "reference://" + zarr 3 + xarray gives, for every
  variable of every group, the values (exact, NaN-aware, signed zeros kept),
  dtype, dimensions and attributes that xarray's netCDF4 engine gives for the
  source file, both CF-decoded and raw (``decode_cf=False, mask_and_scale=False``);
  plain HDF5 files are compared with h5py instead;
* every chunk reference has the byte offset and length that HDF5 itself reports
  (h5py ``chunk_iter``/``get_offset``) and that kerchunk 0.2.10 writes;
* scanning twice gives the same bytes; the JSON is sorted and compact.

Stores are made twice per fixture: with chunkref's default options (small
chunks inlined) and with ``--inline-threshold 0`` (every chunk a reference);
value tests run on both (test ids end in ``-default`` / ``-no-inline``), the
offset tests on the second.

Run (after `cargo build`):

    .venv/bin/python -m pytest tests/interop -q

The binary is ``$CHUNKREF_BIN`` (default ``target/debug/chunkref`` under the
repository root). A missing binary fails the tests; it never skips them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import netCDF4
import numpy as np
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[2]
FIXDIR = REPO / "fixtures"
HERE = Path(__file__).resolve().parent

NETCDF_FIXTURES = ["era5_small.nc", "groups.nc", "types.nc", "packed.nc", "unlimited.nc"]
HDF5_FIXTURES = ["layouts.h5", "chunk_index.h5"]
ALL_FIXTURES = NETCDF_FIXTURES + HDF5_FIXTURES

# HDF5 datasets chunkref must leave out, with a warning on stderr that names them.
MUST_SKIP = {
    ("layouts.h5", "/compound"),
}
# Datasets chunkref may either support (then values must be exact) or leave out
# with a warning naming the dataset and matching the regex (the filter's name).
MAY_SKIP = {
    ("layouts.h5", "/lzf_data"): r"lzf|32000",
    ("layouts.h5", "/scaleoffset_int"): r"scale.?offset",
    ("layouts.h5", "/scaleoffset_float"): r"scale.?offset",
    ("layouts.h5", "/enum_data"): None,
    ("layouts.h5", "/vlen_int"): None,
    ("layouts.h5", "/opaque_data"): None,
    ("layouts.h5", "/obj_refs"): None,
    # chunks stored unfiltered: re-encode and inline them, or report the variable
    ("layouts.h5", "/filter_mask"): r"filter",
    ("layouts.h5", "/partial_unfiltered"): r"filter|partial",
}
# Chunks HDF5 stored without the dataset's filters (filter_mask != 0, or a
# partial edge chunk under H5D_CHUNK_DONT_FILTER_PARTIAL_CHUNKS, which HDF5
# reports with filter_mask 0!). They cannot be plain references under the
# array's codecs: chunkref must inline them (re-encoded) or leave them out.
UNFILTERED_CHUNKS = {
    ("layouts.h5", "filter_mask/1"),
    ("layouts.h5", "partial_unfiltered/2"),
}
# Zarr V2 JSON attributes carry no dtype: a float32 scale_factor/add_offset comes
# back as a Python float, so xarray decodes to float64 where netCDF4 gives
# float32. Decoded values are compared to 1 float32 ulp there (raw values exactly).
FLOAT32_PACKING = {("packed.nc", "/sst_packed_f4")}

# Attributes netCDF-C/HDF5 use internally; never user attributes.
INTERNAL_ATTRS = {
    "CLASS", "NAME", "DIMENSION_LIST", "REFERENCE_LIST", "_Netcdf4Dimid",
    "_Netcdf4Coordinates", "_NCProperties", "_nc3_strict", "_IsNetcdf4",
}
NC_DIM_ONLY = "This is a netCDF dimension but not a netCDF variable"

# Scan options under test: the default (small chunks inlined, as users get it)
# and no inlining (every chunk a reference: what the offset tests compare).
MODES = {
    "default": [],
    "no-inline": ["--inline-threshold", "0"],
}


# ---------------------------------------------------------------------------
# the binary and its stores
# ---------------------------------------------------------------------------
def chunkref_command() -> list[str]:
    raw = os.environ.get("CHUNKREF_BIN", "target/debug/chunkref")
    p = Path(raw)
    if not p.is_absolute():
        p = p.resolve() if p.exists() else REPO / p
    if not p.exists() and os.sep not in raw and shutil.which(raw):
        p = Path(shutil.which(raw))
    if not p.exists():
        pytest.fail(
            f"chunkref binary not found: {p} (run `cargo build`, or set CHUNKREF_BIN)",
            pytrace=False,
        )
    if p.suffix == ".py":  # e.g. tests/interop/kerchunk_as_chunkref.py
        return [sys.executable, str(p)]
    return [str(p)]


@dataclass
class Scan:
    fixture: str
    store: Path
    returncode: int
    stdout: str
    stderr: str

    def check(self) -> None:
        if self.returncode != 0 or not self.store.exists():
            pytest.fail(
                f"chunkref scan {self.fixture} failed (exit {self.returncode}):\n{self.stderr}",
                pytrace=False,
            )

    def doc(self) -> dict:
        self.check()
        return json.loads(self.store.read_bytes())


class Stores:
    """Scans each fixture once per session; opens stores and sources once."""

    def __init__(self, tmpdir: Path):
        self.tmpdir = tmpdir
        self._scans: dict[tuple[str, str], Scan] = {}
        self._open: dict[tuple, Any] = {}

    def scan(self, fixture: str, mode: str = "default", run: int = 1) -> Scan:
        key = (fixture, mode, run)
        if key not in self._scans:
            cmd = chunkref_command()
            out = self.tmpdir / f"{Path(fixture).stem}.{mode}.{run}.json"
            proc = subprocess.run(
                cmd + ["scan", str(FIXDIR / fixture), "-o", str(out)] + MODES[mode],
                capture_output=True, text=True, timeout=600,
            )
            self._scans[key] = Scan(fixture, out, proc.returncode, proc.stdout, proc.stderr)
        return self._scans[key]

    def refs(self, fixture: str, mode: str = "default") -> tuple[dict, dict]:
        """(refs, templates) of the store, v1 or v0."""
        key = ("refs", fixture, mode)
        if key not in self._open:
            doc = self.scan(fixture, mode).doc()
            if "version" in doc:
                assert doc["version"] == 1, f"unknown store version {doc['version']!r}"
                self._open[key] = (doc["refs"], doc.get("templates", {}))
            else:
                self._open[key] = (doc, {})
        return self._open[key]

    def zarr(self, fixture: str, group: str, raw: bool, mode: str = "default") -> xr.Dataset:
        key = ("zarr", fixture, group, raw, mode)
        if key not in self._open:
            scan = self.scan(fixture, mode)
            scan.check()
            kw = {"decode_cf": False, "mask_and_scale": False} if raw else {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._open[key] = xr.open_dataset(
                    "reference://",
                    engine="zarr",
                    group=None if group == "/" else group.strip("/"),
                    backend_kwargs={
                        "storage_options": {"fo": str(scan.store), "remote_protocol": "file"},
                        "consolidated": True,
                        "zarr_format": 2,
                    },
                    **kw,
                )
        return self._open[key]

    def netcdf(self, fixture: str, group: str, raw: bool) -> xr.Dataset:
        key = ("nc", fixture, group, raw)
        if key not in self._open:
            kw = {"decode_cf": False, "mask_and_scale": False} if raw else {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._open[key] = xr.open_dataset(
                    FIXDIR / fixture,
                    engine="netcdf4",
                    group=None if group == "/" else group.strip("/"),
                    **kw,
                )
        return self._open[key]

    def close(self) -> None:
        for ds in self._open.values():
            if isinstance(ds, xr.Dataset):
                ds.close()


@pytest.fixture(scope="session")
def stores(tmp_path_factory):
    s = Stores(tmp_path_factory.mktemp("stores"))
    yield s
    s.close()


# ---------------------------------------------------------------------------
# what the fixtures hold (read at collection time with the real libraries)
# ---------------------------------------------------------------------------
def _nc_groups(grp, prefix="/"):
    yield prefix, grp
    for name, sub in grp.groups.items():
        yield from _nc_groups(sub, prefix.rstrip("/") + "/" + name)


def netcdf_variables() -> list[tuple[str, str, str]]:
    out = []
    for fx in NETCDF_FIXTURES:
        with netCDF4.Dataset(FIXDIR / fx) as ds:
            for gpath, grp in _nc_groups(ds):
                for name in grp.variables:
                    out.append((fx, gpath, name))
    return out


def netcdf_groups() -> list[tuple[str, str]]:
    out = []
    for fx in NETCDF_FIXTURES:
        with netCDF4.Dataset(FIXDIR / fx) as ds:
            out.extend((fx, g) for g, _ in _nc_groups(ds))
    return out


def hdf5_datasets() -> list[tuple[str, str]]:
    out = []
    for fx in HDF5_FIXTURES:
        with h5py.File(FIXDIR / fx, "r") as f:
            names = []
            f.visititems(lambda n, o: names.append("/" + n) if isinstance(o, h5py.Dataset) else None)
            out.extend((fx, n) for n in sorted(names))
    return out


def _vid(fx: str, group: str, name: str) -> str:
    return f"{fx}:{(group.rstrip('/') + '/' + name).lstrip('/')}"


NC_VARS = netcdf_variables()
NC_VAR_IDS = [_vid(*v) for v in NC_VARS]
NC_GROUPS = netcdf_groups()
NC_GROUP_IDS = [f"{fx}:{g}" for fx, g in NC_GROUPS]
H5_DSETS = hdf5_datasets()
H5_DSET_IDS = [f"{fx}:{n.lstrip('/')}" for fx, n in H5_DSETS]


# ---------------------------------------------------------------------------
# comparisons
# ---------------------------------------------------------------------------
def _norm_str(v: Any) -> Any:
    if isinstance(v, (bytes, np.bytes_)):
        return bytes(v).decode("utf-8")
    if isinstance(v, np.str_):
        return str(v)
    return v


def _is_stringy(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "SUT":
        return True
    if arr.dtype.kind == "O":
        return all(isinstance(v, (str, bytes, np.str_, np.bytes_)) for v in arr.ravel())
    return False


def _first_diffs(mask: np.ndarray, e: np.ndarray, a: np.ndarray, n: int = 5) -> str:
    idx = np.argwhere(mask)[:n]
    return "; ".join(f"{tuple(int(i) for i in ix)}: expected {e[tuple(ix)]!r}, got {a[tuple(ix)]!r}"
                     for ix in idx)


def assert_values_equal(expected: Any, actual: Any, what: str, float32_ulp: bool = False) -> None:
    e = np.asarray(expected)
    a = np.asarray(actual)
    assert e.shape == a.shape, f"{what}: shape {a.shape}, expected {e.shape}"
    if _is_stringy(e) or _is_stringy(a):
        assert _is_stringy(e) and _is_stringy(a), (
            f"{what}: dtype {a.dtype}, expected {e.dtype} (strings on one side only)")
        ev = [_norm_str(v) for v in e.ravel()]
        av = [_norm_str(v) for v in a.ravel()]
        bad = [i for i, (x, y) in enumerate(zip(ev, av)) if x != y]
        assert not bad, f"{what}: strings differ at flat {bad[:5]}: " + "; ".join(
            f"expected {ev[i]!r}, got {av[i]!r}" for i in bad[:5])
        return
    if e.dtype.kind == "O" or a.dtype.kind == "O":  # e.g. vlen sequences, if supported
        assert e.dtype.kind == a.dtype.kind == "O", f"{what}: dtype {a.dtype}, expected {e.dtype}"
        for i, (x, y) in enumerate(zip(e.ravel(), a.ravel())):
            assert np.array_equal(np.asarray(x), np.asarray(y)), f"{what}: element {i}: {y!r} != {x!r}"
        return
    if float32_ulp:
        assert e.dtype == np.float32 and a.dtype.kind == "f", f"{what}: dtype {a.dtype}, expected {e.dtype}"
        a32 = a.astype(np.float32)
        nan_e, nan_a = np.isnan(e), np.isnan(a32)
        assert np.array_equal(nan_e, nan_a), f"{what}: NaN positions differ: " + _first_diffs(nan_e != nan_a, e, a32)
        ok = ~nan_e
        ulps = np.abs(e[ok].view(np.int32).astype(np.int64) - a32[ok].view(np.int32).astype(np.int64))
        assert ulps.size == 0 or ulps.max() <= 1, f"{what}: differs by {ulps.max()} float32 ulps"
        return
    en = e.astype(e.dtype.newbyteorder("="))
    an = a.astype(a.dtype.newbyteorder("="))
    assert en.dtype == an.dtype, f"{what}: dtype {a.dtype}, expected {e.dtype}"
    if en.dtype.kind == "f":
        nan_e, nan_a = np.isnan(en), np.isnan(an)
        bits = np.dtype(f"u{en.dtype.itemsize}")
        diff = (nan_e != nan_a) | (~nan_e & (en.view(bits) != an.view(bits)))  # keeps -0.0 vs 0.0
    elif en.dtype.kind in "mM":
        diff = en.view(np.int64) != an.view(np.int64)
    elif en.dtype.kind == "V":
        diff = np.array([x.tobytes() != y.tobytes() for x, y in zip(en.ravel(), an.ravel())]).reshape(en.shape)
    else:
        diff = en != an
    assert not np.any(diff), f"{what}: {int(np.sum(diff))} values differ: " + _first_diffs(diff, en, an)


def _attr_is_scalar(v: Any) -> bool:
    return not isinstance(v, (list, tuple, np.ndarray)) or (isinstance(v, np.ndarray) and v.ndim == 0)


def _number_equal(e: Any, a: Any) -> str | None:
    """Why zarr attribute value `a` differs from source value `e` (None: equal)."""
    e = np.asarray(e)[()]
    if isinstance(a, (bool, np.bool_)) or isinstance(a, (str, bytes)) or a is None:
        return f"{a!r} is not a number"
    if np.issubdtype(np.asarray(e).dtype, np.integer):
        if not isinstance(a, (int, np.integer)):
            return f"{a!r} ({type(a).__name__}) is not an integer"
        return None if int(a) == int(e) else f"{a!r} != {e!r}"
    if not isinstance(a, (int, float, np.integer, np.floating)):
        return f"{a!r} is not a number"
    ev = np.asarray(e)
    av = np.asarray(a).astype(ev.dtype)  # exact at the source's precision
    if np.isnan(ev):
        return None if np.isnan(av) else f"{a!r} is not NaN"
    return None if av.tobytes() == ev.tobytes() else f"{a!r} != {e!r}"


def attr_diff(e: Any, a: Any, loose_shape: bool = False) -> str | None:
    """None if attribute value `a` (zarr/xarray) equals `e` (netCDF4/h5py)."""
    if isinstance(e, np.ndarray) and e.ndim == 0:
        e = e[()]
    if isinstance(e, (str, bytes, np.str_, np.bytes_)):
        if not isinstance(a, (str, bytes, np.str_, np.bytes_)):
            return f"{a!r} is not a string (expected {_norm_str(e)!r})"
        return None if _norm_str(a) == _norm_str(e) else f"{_norm_str(a)!r} != {_norm_str(e)!r}"
    if _attr_is_scalar(e):
        if not _attr_is_scalar(a):
            if loose_shape and len(a) == 1:
                return attr_diff(e, list(a)[0])
            return f"{a!r} is a list, expected scalar {e!r}"
        return _number_equal(e, a)
    ev = list(np.asarray(e, dtype=object).ravel()) if isinstance(e, np.ndarray) else list(e)
    if _attr_is_scalar(a):
        if loose_shape and len(ev) == 1:
            return attr_diff(ev[0], a)
        return f"{a!r} is a scalar, expected {len(ev)} values {e!r}"
    av = list(np.asarray(a, dtype=object).ravel()) if isinstance(a, np.ndarray) else list(a)
    if len(av) != len(ev):
        return f"{len(av)} values {a!r}, expected {len(ev)} {e!r}"
    for i, (x, y) in enumerate(zip(ev, av)):
        if isinstance(e, np.ndarray) and e.dtype.kind in "iuf":
            x = e.dtype.type(x)
        why = attr_diff(x, y)
        if why:
            return f"[{i}]: {why}"
    return None


def assert_attrs_equal(expected: dict, actual: dict, what: str, loose_shape: bool = False) -> None:
    problems = []
    for k in sorted(set(expected) - set(actual)):
        problems.append(f"missing {k!r} (= {expected[k]!r})")
    for k in sorted(set(actual) - set(expected)):
        problems.append(f"unexpected {k!r} (= {actual[k]!r})")
    for k in sorted(set(expected) & set(actual)):
        why = attr_diff(expected[k], actual[k], loose_shape)
        if why:
            problems.append(f"{k!r}: {why}")
    assert not problems, f"{what} attributes differ:\n  " + "\n  ".join(problems)


def _h5_attrs(obj) -> dict:
    return {k: obj.attrs[k] for k in obj.attrs if k not in INTERNAL_ATTRS}


# ---------------------------------------------------------------------------
# store reading helpers (references, chunk keys)
# ---------------------------------------------------------------------------
_CHUNK_KEY = re.compile(r"^(?:(.+)/)?(\d+(?:\.\d+)*)$")


def _expand(url: str, templates: dict) -> str:
    for name, val in templates.items():
        url = url.replace("{{" + name + "}}", val)
    return url


def _ranges(refs: dict, templates: dict) -> dict[str, tuple[str, int, int] | str]:
    """chunk key -> (url, offset, length) for ranges, "inline"/"whole" otherwise."""
    out: dict[str, Any] = {}
    for key, val in refs.items():
        m = _CHUNK_KEY.match(key)
        if not m:
            continue
        if isinstance(val, list) and len(val) == 3:
            out[key] = (_expand(val[0], templates), int(val[1]), int(val[2]))
        elif isinstance(val, list):
            out[key] = "whole"
        else:
            out[key] = "inline"
    return out


def _array_meta(refs: dict, array: str) -> dict:
    return json.loads(refs[f"{array}/.zarray"])


def _c_order_keys(shape: list[int], chunks: list[int]) -> list[str]:
    if not shape:
        return ["0"]
    grid = [-(-s // c) if c else 0 for s, c in zip(shape, chunks)]
    return [".".join(map(str, ix)) for ix in np.ndindex(*grid)]


def _covering(refs_r: dict, array: str, meta: dict) -> list[tuple[str, int, int]] | None:
    """Our ranges of `array` in C order, or None if any chunk is not a range."""
    out = []
    for k in _c_order_keys(meta["shape"], meta["chunks"]):
        r = refs_r.get(f"{array}/{k}")
        if not isinstance(r, tuple):
            return None
        out.append(r)
    return out


def _fixture_url(fixture: str) -> str:
    return "file://" + str((FIXDIR / fixture).resolve())


# ===========================================================================
# tests: scanning
# ===========================================================================
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_scan_writes_store(stores, fixture, mode):
    scan = stores.scan(fixture, mode)
    assert scan.returncode == 0, f"exit {scan.returncode}; stderr:\n{scan.stderr}"
    assert scan.store.exists(), f"no store written; stderr:\n{scan.stderr}"
    doc = json.loads(scan.store.read_bytes())
    assert isinstance(doc, dict)
    if "version" in doc:
        assert doc["version"] == 1 and isinstance(doc.get("refs"), dict)
        # fsspec's default (simple_templates=True) silently ignores "gen"
        assert "gen" not in doc, "fsspec ignores 'gen' unless jinja2 templating is on"
        for name, val in doc.get("templates", {}).items():
            assert "{{" not in val, f"template {name} needs jinja2 in fsspec: {val!r}"
        refs = doc["refs"]
    else:
        refs = doc
    assert ".zgroup" in refs and ".zmetadata" in refs


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_scan_is_deterministic(stores, fixture, mode):
    first = stores.scan(fixture, mode, run=1)
    second = stores.scan(fixture, mode, run=2)
    first.check()
    second.check()
    assert first.store.read_bytes() == second.store.read_bytes(), "two scans gave different bytes"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_store_is_sorted_compact_json(stores, fixture, mode):
    scan = stores.scan(fixture, mode)
    scan.check()
    raw = scan.store.read_bytes()
    canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert raw.rstrip(b"\n") == canonical.encode("utf-8"), "keys not sorted or separators not compact"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_consolidated_metadata_matches(stores, fixture, mode):
    refs, _ = stores.refs(fixture, mode)
    zmeta = json.loads(refs[".zmetadata"])
    assert zmeta.get("zarr_consolidated_format") == 1
    meta = zmeta["metadata"]
    keys = {k for k in refs if k.rsplit("/", 1)[-1] in (".zgroup", ".zattrs", ".zarray")}
    assert set(meta) == keys, f"only in .zmetadata: {sorted(set(meta) - keys)}; only in refs: {sorted(keys - set(meta))}"
    for k in sorted(keys):
        ours = json.dumps(json.loads(refs[k]), sort_keys=True)
        cons = json.dumps(meta[k], sort_keys=True)
        assert ours == cons, f"{k}: {refs[k]} differs from .zmetadata's {cons}"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_urls_are_absolute_file_urls(stores, fixture, mode):
    refs, templates = stores.refs(fixture, mode)
    urls = {r[0] for r in _ranges(refs, templates).values() if isinstance(r, tuple)}
    assert urls <= {_fixture_url(fixture)}, f"unexpected urls {sorted(urls)}"


# ===========================================================================
# tests: NetCDF4 fixtures against xarray's netCDF4 engine
# ===========================================================================
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture,group", NC_GROUPS, ids=NC_GROUP_IDS)
def test_netcdf_group_variables_and_attrs(stores, fixture, group, mode):
    for raw in (False, True):
        nc = stores.netcdf(fixture, group, raw)
        z = stores.zarr(fixture, group, raw, mode)
        assert sorted(z.variables) == sorted(nc.variables), (
            f"variables: store has {sorted(z.variables)}, netCDF has {sorted(nc.variables)}")
        assert dict(z.sizes) == dict(nc.sizes), f"dims {dict(z.sizes)}, netCDF has {dict(nc.sizes)}"
        assert_attrs_equal(nc.attrs, z.attrs, f"group {group}")


@pytest.mark.parametrize("fixture", NETCDF_FIXTURES)
def test_netcdf_groups_present(stores, fixture):
    refs, _ = stores.refs(fixture)
    ours = sorted("/" + k[: -len(".zgroup")].rstrip("/") for k in refs if k.endswith(".zgroup"))
    want = sorted(g for fx, g in NC_GROUPS if fx == fixture)
    assert ours == want


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture,group,name", NC_VARS, ids=NC_VAR_IDS)
def test_netcdf_values_decoded(stores, fixture, group, name, mode):
    nc = stores.netcdf(fixture, group, raw=False)
    z = stores.zarr(fixture, group, raw=False, mode=mode)
    assert name in z.variables, f"{name} missing from the store"
    e, a = nc[name], z[name]
    assert a.dims == e.dims, f"dims {a.dims}, expected {e.dims}"
    key = (fixture, (group.rstrip("/") + "/" + name))
    assert_values_equal(e.values, a.values, f"{name} (decoded)", float32_ulp=key in FLOAT32_PACKING)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture,group,name", NC_VARS, ids=NC_VAR_IDS)
def test_netcdf_values_raw(stores, fixture, group, name, mode):
    nc = stores.netcdf(fixture, group, raw=True)
    z = stores.zarr(fixture, group, raw=True, mode=mode)
    assert name in z.variables, f"{name} missing from the store"
    e, a = nc[name], z[name]
    assert a.dims == e.dims, f"dims {a.dims}, expected {e.dims}"
    assert_values_equal(e.values, a.values, f"{name} (raw)")


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture,group,name", NC_VARS, ids=NC_VAR_IDS)
def test_netcdf_attrs(stores, fixture, group, name, mode):
    for raw in (True, False):
        nc = stores.netcdf(fixture, group, raw)
        z = stores.zarr(fixture, group, raw, mode)
        assert name in z.variables, f"{name} missing from the store"
        label = f"{name} ({'raw' if raw else 'decoded'})"
        # raw: every stored attribute, with xarray's _FillValue taken from .zarray
        assert_attrs_equal(nc[name].attrs, z[name].attrs, label)
        if not raw:
            for k in ("_FillValue", "missing_value", "scale_factor", "add_offset", "units", "calendar"):
                if k in nc[name].encoding or k in z[name].encoding:
                    assert k in nc[name].encoding and k in z[name].encoding, f"{label}: encoding {k!r} on one side only"
                    why = attr_diff(nc[name].encoding[k], z[name].encoding[k])
                    assert why is None, f"{label}: encoding {k!r}: {why}"


# ===========================================================================
# tests: plain HDF5 fixtures against h5py
# ===========================================================================
def _h5_root_group(name: str) -> str:
    return name.rsplit("/", 1)[0] or "/"


def _store_arrays(refs: dict) -> set[str]:
    return {"/" + k[: -len("/.zarray")] for k in refs if k.endswith("/.zarray")}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", HDF5_FIXTURES)
def test_hdf5_skips_are_warned(stores, fixture, mode):
    scan = stores.scan(fixture, mode)
    refs, _ = stores.refs(fixture, mode)
    arrays = _store_arrays(refs)
    problems = []
    for fx, name in H5_DSETS:
        if fx != fixture or name in arrays:
            continue
        base = name.rsplit("/", 1)[-1]
        if (fx, name) not in MUST_SKIP and (fx, name) not in MAY_SKIP:
            problems.append(f"{name} is missing from the store")
            continue
        lines = [ln for ln in scan.stderr.splitlines() if re.search(rf"\b{re.escape(base)}\b", ln)]
        if not lines:
            problems.append(f"{name} left out without a warning naming it")
        pattern = MAY_SKIP.get((fx, name))
        if lines and pattern and not any(re.search(pattern, ln, re.I) for ln in lines):
            problems.append(f"{name}: warning does not say why ({pattern}): {lines}")
    for fx, name in MUST_SKIP:
        if fx == fixture and name in arrays:
            problems.append(f"{name} must be left out (unsupported type) but is in the store")
    assert not problems, "\n".join(problems) + f"\nstderr:\n{scan.stderr}"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture", HDF5_FIXTURES)
def test_hdf5_root_attrs(stores, fixture, mode):
    z = stores.zarr(fixture, "/", raw=True, mode=mode)
    with h5py.File(FIXDIR / fixture, "r") as f:
        assert_attrs_equal(_h5_attrs(f), z.attrs, "root group", loose_shape=True)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("fixture,name", H5_DSETS, ids=H5_DSET_IDS)
def test_hdf5_values_and_attrs(stores, fixture, name, mode):
    refs, _ = stores.refs(fixture, mode)
    if name not in _store_arrays(refs):
        if (fixture, name) in MUST_SKIP or (fixture, name) in MAY_SKIP:
            return  # left out: test_hdf5_skips_are_warned checks the warning
        pytest.fail(f"{name} missing from the store", pytrace=False)
    z = stores.zarr(fixture, _h5_root_group(name), raw=True, mode=mode)
    var = name.rsplit("/", 1)[-1]
    a = z[var]
    with h5py.File(FIXDIR / fixture, "r") as f:
        d = f[name]
        if h5py.check_dtype(ref=d.dtype):  # if supported: the referenced object's path
            expected = np.array([f[r].name if r else "" for r in d[()].ravel()], dtype=object).reshape(d.shape)
        else:
            expected = d[()]
        attrs = _h5_attrs(d)
        # dimension names
        assert len(a.dims) == d.ndim
        for i, dim in enumerate(a.dims):
            if h5py.h5ds.is_scale(d.id):
                want = var
            elif len(d.dims[i]) == 1:
                want = d.dims[i][0].name.rsplit("/", 1)[-1]
            else:
                want = None
            if want is None:
                assert dim.startswith("phony_dim_"), f"dim {i} of {name} is {dim!r}, expected phony_dim_N"
            else:
                assert dim == want, f"dim {i} of {name} is {dim!r}, expected scale {want!r}"
    assert_values_equal(expected, a.values, name)
    actual_attrs = dict(a.attrs)
    if "_FillValue" not in attrs:
        actual_attrs.pop("_FillValue", None)  # xarray copies .zarray fill_value here
    assert_attrs_equal(attrs, actual_attrs, name, loose_shape=True)


# ===========================================================================
# tests: chunk references against HDF5 itself and against kerchunk
# ===========================================================================
def _hdf5_storage(fixture: str) -> dict[str, dict]:
    """Per array path (store naming): HDF5's own view of where its data is."""
    out: dict[str, dict] = {}
    with h5py.File(FIXDIR / fixture, "r") as f:
        def visit(n, o):
            if not isinstance(o, h5py.Dataset):
                return
            if h5py.h5ds.is_scale(o.id) and NC_DIM_ONLY in str(o.attrs.get("NAME", b"")):
                return  # netCDF dimension without a variable: not an array
            dcpl = o.id.get_create_plist()
            layout = dcpl.get_layout()
            info = {"layout": layout, "shape": o.shape, "chunks": o.chunks, "fletcher32": o.fletcher32,
                    "vlen": o.dtype.kind == "O", "chunk_refs": {}, "masked": set()}
            if layout == h5py.h5d.CHUNKED:
                def cb(b, info=info, o=o):
                    key = ".".join(str(c // s) for c, s in zip(b.chunk_offset, o.chunks))
                    info["chunk_refs"][key] = (b.byte_offset, b.size)
                    if b.filter_mask:
                        info["masked"].add(key)
                o.id.chunk_iter(cb)
            elif layout == h5py.h5d.CONTIGUOUS:
                off = o.id.get_offset()
                info["contiguous"] = None if off is None else (off, o.id.get_storage_size())
            out[n] = info
        f.visititems(visit)
    return out


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_offsets_match_hdf5(stores, fixture):
    refs, templates = stores.refs(fixture, "no-inline")
    ours = _ranges(refs, templates)
    arrays = _store_arrays(refs)
    problems = []
    for path, info in _hdf5_storage(fixture).items():
        if "/" + path not in arrays:
            continue  # left out (checked elsewhere)
        meta = _array_meta(refs, path)
        mine = {k.rsplit("/", 1)[1]: v for k, v in ours.items() if k.rsplit("/", 1)[0] == path}
        if info["vlen"] or info["layout"] == h5py.h5d.COMPACT:
            ranged = sorted(k for k, v in mine.items() if isinstance(v, tuple))
            if ranged:
                problems.append(f"{path}: data not in a plain byte range (vlen/compact) but referenced as {ranged}")
            continue
        if mine and not any(isinstance(v, tuple) for v in mine.values()):
            continue  # all data inlined (e.g. decoded from an unsupported filter): values tests judge it
        if info["layout"] == h5py.h5d.CONTIGUOUS:
            want = info["contiguous"]
            if want is None:
                if any(isinstance(v, tuple) for v in mine.values()):
                    problems.append(f"{path}: never written (no storage) but has range references")
                continue
            cover = _covering(ours, path, meta)
            if cover is None:
                problems.append(f"{path}: contiguous data {want} not fully referenced by ranges: {mine}")
                continue
            pos = want[0]
            for url, off, ln in cover:
                if off != pos:
                    problems.append(f"{path}: range at {off}, expected {pos} (contiguous {want})")
                    break
                pos += ln
            else:
                if pos != want[0] + want[1]:
                    problems.append(f"{path}: ranges end at {pos}, expected {want[0] + want[1]}")
            continue
        # chunked
        if list(meta["chunks"]) != list(info["chunks"]):
            problems.append(f"{path}: chunks {meta['chunks']}, HDF5 has {info['chunks']}")
            continue
        unfiltered = info["masked"] | {k.rsplit("/", 1)[1] for fx, k in UNFILTERED_CHUNKS
                                       if fx == fixture and k.rsplit("/", 1)[0] == path}
        for key in _c_order_keys(list(info["shape"]), list(info["chunks"])):
            have = mine.get(key)
            if key not in info["chunk_refs"]:
                if isinstance(have, tuple):
                    problems.append(f"{path}/{key}: never allocated but referenced as {have}")
                continue
            if key in unfiltered:
                if isinstance(have, tuple) and have[1:] == info["chunk_refs"][key]:
                    problems.append(f"{path}/{key}: stored without filters but referenced as a filtered chunk")
                continue
            if not isinstance(have, tuple):
                problems.append(f"{path}/{key}: HDF5 has {info['chunk_refs'][key]}, store has {have!r}")
            elif have[1:] != info["chunk_refs"][key]:
                problems.append(f"{path}/{key}: (offset, length) {have[1:]}, HDF5 has {info['chunk_refs'][key]}")
    assert not problems, "\n".join(problems)


_KERCHUNK_CACHE: dict[str, dict] = {}


def kerchunk_of(fixture: str, tmpdir: Path) -> dict:
    if fixture not in _KERCHUNK_CACHE:
        out = tmpdir / f"{fixture}.kerchunk.json"
        proc = subprocess.run(
            [sys.executable, str(HERE / "kerchunk_refs.py"), str(FIXDIR / fixture), str(out)],
            capture_output=True, text=True, timeout=300,
        )
        assert proc.returncode == 0, f"kerchunk failed on {fixture}:\n{proc.stderr[-3000:]}"
        _KERCHUNK_CACHE[fixture] = json.loads(out.read_text())
    return _KERCHUNK_CACHE[fixture]


@pytest.mark.parametrize("fixture", ALL_FIXTURES)
def test_offsets_match_kerchunk(stores, fixture, tmp_path_factory):
    kc = kerchunk_of(fixture, tmp_path_factory.mktemp("kerchunk"))["refs"]
    refs, templates = stores.refs(fixture, "no-inline")
    ours = _ranges(refs, templates)
    theirs = _ranges(kc, {})
    storage = _hdf5_storage(fixture)
    problems = []
    compared = 0
    by_array: dict[str, dict[str, tuple]] = {}
    for key, val in theirs.items():
        if isinstance(val, tuple):  # skip what kerchunk inlines or cannot handle
            arr, ck = key.rsplit("/", 1)
            by_array.setdefault(arr, {})[ck] = val
    for arr, kchunks in sorted(by_array.items()):
        kmeta = _array_meta(kc, arr)
        if f"{arr}/.zarray" not in refs:
            if (fixture, "/" + arr) not in MAY_SKIP and (fixture, "/" + arr) not in MUST_SKIP:
                problems.append(f"{arr}: kerchunk references it, the store has no such array")
            continue  # else left out with a warning: test_hdf5_skips_are_warned
        meta = _array_meta(refs, arr)
        # kerchunk 0.2.10 shortens fletcher32 chunks by the 4-byte checksum
        # (when it accepts them at all); chunkref keeps the whole chunk.
        extra = 4 if storage.get(arr, {}).get("fletcher32") else 0
        if meta["chunks"] == kmeta["chunks"]:
            for ck, (_, koff, klen) in sorted(kchunks.items()):
                have = ours.get(f"{arr}/{ck}")
                if (fixture, f"{arr}/{ck}") in UNFILTERED_CHUNKS:
                    # kerchunk references it under the array's filters: wrong
                    assert not (isinstance(have, tuple) and have[1] == koff), (
                        f"{arr}/{ck}: unfiltered chunk referenced as filtered, like kerchunk")
                    continue
                compared += 1
                if not isinstance(have, tuple):
                    problems.append(f"{arr}/{ck}: kerchunk [{koff}, {klen}], store has {have!r}")
                elif (have[1], have[2]) != (koff, klen + extra):
                    problems.append(f"{arr}/{ck}: store [{have[1]}, {have[2]}], kerchunk [{koff}, {klen}]")
        elif kmeta["chunks"] == kmeta["shape"] and len(kchunks) == 1:
            # contiguous in kerchunk, split into blocks by chunkref
            (_, koff, klen), = kchunks.values()
            cover = _covering(ours, arr, meta)
            compared += 1
            if cover is None:
                problems.append(f"{arr}: kerchunk [{koff}, {klen}], store not all ranges")
            else:
                starts = [c[1] for c in cover]
                total = sum(c[2] for c in cover)
                contiguous = all(c[1] + c[2] == n[1] for c, n in zip(cover, cover[1:]))
                if not (starts[0] == koff and total == klen and contiguous):
                    problems.append(f"{arr}: blocks {[(c[1], c[2]) for c in cover]} do not cover [{koff}, {klen}]")
        else:
            problems.append(f"{arr}: chunks {meta['chunks']}, kerchunk {kmeta['chunks']}")
    assert not problems, "\n".join(problems)
    assert compared or not by_array
