"""`chunkref get --format npy` gives what netCDF4 reads from the source file: same values, same
dtype (as stored, in native order), same shape, for every numeric variable of every NetCDF
fixture, whole and with a strided selection."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import netCDF4
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
FIXDIR = REPO / "fixtures"
BIN = Path(os.environ.get("CHUNKREF_BIN", REPO / "target" / "debug" / "chunkref"))
FIXTURES = ["era5_small.nc", "groups.nc", "types.nc", "packed.nc", "unlimited.nc"]


def numeric_variables(name: str) -> list[str]:
    out = []

    def walk(group, prefix):
        for vname, var in group.variables.items():
            if var.dtype != str and var.dtype.kind in "iufb":
                out.append(prefix + vname)
        for gname, sub in group.groups.items():
            walk(sub, f"{prefix}{gname}/")

    with netCDF4.Dataset(FIXDIR / name) as ds:
        walk(ds, "")
    return out


CASES = [(f, v) for f in FIXTURES for v in numeric_variables(f)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("get")
    paths = {}
    for name in FIXTURES:
        store = out / f"{name}.json"
        subprocess.run([BIN, "scan", FIXDIR / name, "-o", store, "-q"], check=True)
        paths[name] = store
    return paths


def get_npy(store: Path, var: str, *extra: str) -> np.ndarray:
    done = subprocess.run([BIN, "get", store, var, "--format", "npy", *extra], check=True, capture_output=True)
    return np.load(io.BytesIO(done.stdout), allow_pickle=False)


def netcdf_raw(name: str, var: str) -> np.ndarray:
    with netCDF4.Dataset(FIXDIR / name) as ds:
        v = ds[var]
        v.set_auto_maskandscale(False)
        return np.asarray(v[...])


@pytest.mark.parametrize(("name", "var"), CASES, ids=[f"{f}:{v}" for f, v in CASES])
def test_get_npy_equals_netcdf(stores, name, var):
    expected = netcdf_raw(name, var)
    got = get_npy(stores[name], var)
    assert got.dtype == expected.dtype.newbyteorder("=") or got.dtype == expected.dtype
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected, strict=False)
    if expected.ndim >= 1 and expected.shape[0] > 1:
        sel = ",".join(["::2"] + ["1:"] * (expected.ndim - 1))
        stepped = get_npy(stores[name], var, "--slice", sel)
        np.testing.assert_array_equal(stepped, expected[(slice(None, None, 2),) + (slice(1, None),) * (expected.ndim - 1)])
