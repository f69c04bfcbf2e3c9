"""The Python snippet of the README and of the issue, exactly as a user types it (no
`remote_protocol`, `consolidated=False`), gives what `xr.open_dataset(file.nc)` gives, for every
NetCDF fixture's root group; and with `consolidated=True` for every group.

One documented difference: JSON attributes carry no float32 type, so a variable packed with
float32 `scale_factor`/`add_offset` decodes to float64 through any JSON reference store (xarray
picks the decoded type from the attributes' type), where the file gives float32. Such
variables are compared to within one float32 ulp; everything else must be identical."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

REPO = Path(__file__).resolve().parents[2]
FIXDIR = REPO / "fixtures"
BIN = Path(os.environ.get("CHUNKREF_BIN", REPO / "target" / "debug" / "chunkref"))
FIXTURES = ["era5_small.nc", "groups.nc", "types.nc", "packed.nc", "unlimited.nc"]


def groups(name: str) -> list[str]:
    out = []

    def walk(g, prefix):
        for gname, sub in g.groups.items():
            out.append(prefix + gname)
            walk(sub, prefix + gname + "/")

    with netCDF4.Dataset(FIXDIR / name) as ds:
        walk(ds, "")
    return out


def float32_packed(ds: xr.Dataset) -> list[str]:
    return [
        v for v in ds.data_vars
        if any(np.asarray(ds[v].encoding.get(a, 0.0)).dtype == np.float32 for a in ("scale_factor", "add_offset"))
    ]


def assert_same(ours: xr.Dataset, theirs: xr.Dataset) -> None:
    packed = float32_packed(theirs)
    for v in packed:
        assert ours[v].dtype == np.float64 and theirs[v].dtype == np.float32
        np.testing.assert_array_max_ulp(ours[v].values.astype(np.float32), theirs[v].values, maxulp=1)
    xr.testing.assert_identical(ours.drop_vars(packed), theirs.drop_vars(packed))


@pytest.mark.parametrize("name", FIXTURES)
def test_issue_snippet_opens_like_the_file(tmp_path, name):
    store = tmp_path / "refs.json"
    subprocess.run([BIN, "scan", FIXDIR / name, "-o", store, "-q"], check=True)
    os.chdir(tmp_path)
    ds = xr.open_dataset(
        "reference://", engine="zarr",
        backend_kwargs={"storage_options": {"fo": "refs.json"}, "consolidated": False},
    )
    assert_same(ds.load(), xr.open_dataset(FIXDIR / name).load())
    for group in groups(name):
        g = xr.open_dataset(
            "reference://", engine="zarr", group=group,
            backend_kwargs={"storage_options": {"fo": "refs.json"}, "consolidated": True},
        )
        assert_same(g.load(), xr.open_dataset(FIXDIR / name, group=group).load())
