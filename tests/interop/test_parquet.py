"""kerchunk Parquet stores written by chunkref, read by fsspec + zarr + xarray.

A fixture's store is converted with ``chunkref convert`` to Parquet (a small record size, so
that arrays span several reference files); opened with fsspec's "reference://" (which reads
the directory through ``LazyReferenceMapper``) + zarr + xarray it must be identical to the
JSON store's dataset and hold the file's (raw) values. Converting back must give the JSON bytes.
A store combined straight to Parquet (``chunkref combine --format parquet``) must read as
the JSON one does, in Python and through ``chunkref get``. A store kerchunk itself writes
as Parquet (``kerchunk.df.refs_to_dataframe``) must read with ``chunkref get`` as the JSON.
"""

from __future__ import annotations

import io
import json
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from test_combine import make_file, scan
from test_interop import FIXDIR, chunkref_command

FIXTURES = ["nc3_classic.nc", "era5_small.nc", "packed.nc"]


def run(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(chunkref_command() + list(args), capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc


def open_refs(store: Path, consolidated: bool = True, **kw) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(
            "reference://", engine="zarr",
            backend_kwargs={"storage_options": {"fo": str(store), "remote_protocol": "file",
                                                "remote_options": {}},
                            "consolidated": consolidated, "zarr_format": 2},
            **kw,
        ).load()


def get_npy(store: Path, var: str) -> np.ndarray:
    return np.load(io.BytesIO(run("get", str(store), var, "--format", "npy").stdout))


@pytest.mark.parametrize("fixture", FIXTURES)
def test_fixture_store_as_parquet(tmp_path, fixture):
    js = tmp_path / "store.json"
    run("scan", str(FIXDIR / fixture), "-o", str(js), "--inline-threshold", "64")
    pq = tmp_path / "store.parq"
    run("convert", str(js), str(pq), "--record-size", "3")
    assert (pq / ".zmetadata").is_file()
    assert list(pq.glob("*/refs.0.parq")), sorted(pq.rglob("*"))

    for raw in (False, True):
        kw = {"decode_cf": False, "mask_and_scale": False} if raw else {}
        ours = open_refs(pq, **kw)
        xr.testing.assert_identical(ours, open_refs(js, **kw))
        if not raw:
            continue  # (decoded values may differ from netCDF4's by float rounding)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with xr.open_dataset(FIXDIR / fixture, **kw) as nc:
                for name in nc.variables:
                    np.testing.assert_array_equal(ours[name].values, nc[name].values, err_msg=name)

    back = tmp_path / "back.json"
    run("convert", str(pq), str(back))
    assert back.read_bytes() == js.read_bytes()
    # the format flag overrides the name
    pq2 = tmp_path / "store2"
    run("convert", str(js), str(pq2), "--format", "parquet")
    assert (pq2 / ".zmetadata").is_file()
    run("convert", str(pq2), str(back), "--format", "json")
    assert back.read_bytes() == js.read_bytes()

    # chunkref reads the Parquet store as it reads the JSON one
    info_js = run("info", str(js)).stdout.decode()
    info_pq = run("info", str(pq)).stdout.decode()
    assert info_pq.replace(str(pq), str(js)) == info_js
    for name in ours.data_vars:
        np.testing.assert_array_equal(get_npy(pq, name), get_npy(js, name), err_msg=name)


def test_combined_store_as_parquet(tmp_path):
    files = []
    for i in range(4):
        p = tmp_path / f"day{i}.nc"
        make_file(p, f"hours since 2020-01-0{i + 1}", [0.0, 6.0, 12.0], seed=i)
        files.append(p)
    stores = scan(files, tmp_path / "refs")
    js = tmp_path / "all.json"
    pq = tmp_path / "all.parq"
    args = ["--concat", "time", "--coord", "time=cf:time"]
    run("combine", *map(str, stores), "-o", str(js), *args)
    run("combine", *map(str, stores), "-o", str(pq), "--format", "parquet", "--record-size", "5", *args)
    xr.testing.assert_identical(open_refs(pq), open_refs(js))
    np.testing.assert_array_equal(get_npy(pq, "t2m"), get_npy(js, "t2m"))
    back = tmp_path / "back.json"
    run("convert", str(pq), str(back))
    assert back.read_bytes() == js.read_bytes()

    # build writes Parquet by the output's name; append to a Parquet store
    built = tmp_path / "built.parquet"
    run("build", *map(str, files[:3]), "-o", str(built), *args)
    run("combine", str(stores[3]), "--append-to", str(built), *args)
    run("convert", str(built), str(back))
    assert back.read_bytes() == js.read_bytes()


def test_kerchunk_parquet_reads_in_chunkref(tmp_path):
    kerchunk_df = pytest.importorskip("kerchunk.df")
    js = tmp_path / "store.json"
    run("scan", str(FIXDIR / "era5_small.nc"), "-o", str(js), "--inline-threshold", "64")
    doc = json.loads(js.read_bytes())
    # kerchunk writes the refs as given: templates rendered first, and no .zmetadata key (it
    # would land among the metadata documents, which zarr then cannot read)
    refs = {}
    for key, ref in doc["refs"].items():
        if isinstance(ref, list):
            for name, url in doc.get("templates", {}).items():
                ref = [ref[0].replace("{{%s}}" % name, url), *ref[1:]]
        if key != ".zmetadata":
            refs[key] = ref
    pq = tmp_path / "kerchunk.parq"
    kerchunk_df.refs_to_dataframe(refs, str(pq), record_size=4)
    xr.testing.assert_identical(open_refs(pq, consolidated=False), open_refs(js))
    back = tmp_path / "back.json"
    run("convert", str(pq), str(back))
    assert back.read_bytes() == js.read_bytes()
