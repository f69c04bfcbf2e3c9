"""`chunkref combine` against xarray's ``open_mfdataset`` on the source files.

The inputs are small NetCDF4 files made here with netCDF4-python (daily files whose time
units differ, ensemble members x months, two files with different variables of one grid),
scanned with ``chunkref scan`` and combined with ``chunkref combine``. The combined store,
opened with fsspec "reference://" + zarr + xarray, must equal
``xr.open_mfdataset(files, combine="nested", concat_dim=...)`` (computed with the same
``xr.combine_nested`` without dask) (values, coordinates decoded to
the same datetimes, dims); ``chunkref get`` on it must give the same values. Bad combinations
must fail with a message naming the inputs, writing nothing.
"""

from __future__ import annotations

import io
import json
import subprocess
import warnings
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from test_interop import chunkref_command

LAT, LON = 5, 8


def make_file(path: Path, start_hour_units: str, hours: list[float], seed: int, var: str = "t2m",
              chunk_time: int = 1, dtype: str = "f4") -> None:
    rng = np.random.default_rng(seed)
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", None)
        nc.createDimension("lat", LAT)
        nc.createDimension("lon", LON)
        t = nc.createVariable("time", "f8", ("time",))
        t.units = start_hour_units
        t.calendar = "standard"
        t[:] = hours
        lat = nc.createVariable("lat", "f4", ("lat",))
        lat[:] = np.linspace(-40, 40, LAT)
        lon = nc.createVariable("lon", "f4", ("lon",))
        lon[:] = np.linspace(0, 315, LON)
        v = nc.createVariable(var, dtype, ("time", "lat", "lon"), zlib=True, chunksizes=(chunk_time, LAT, LON))
        v.units = "K"
        v[:] = (rng.normal(280, 5, (len(hours), LAT, LON))).astype(dtype)
        nc.title = "combine test"


def scan(paths: list[Path], out: Path, *args: str) -> list[Path]:
    proc = subprocess.run(chunkref_command() + ["scan", *map(str, paths), "-o", f"{out}/", *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [out / f"{p.name}.json" for p in paths]


def combine(stores: list[Path], out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(chunkref_command() + ["combine", *map(str, stores), "-o", str(out), *args],
                          capture_output=True, text=True, timeout=120)


def open_store(path: Path) -> xr.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return xr.open_dataset(
            "reference://", engine="zarr",
            backend_kwargs={"storage_options": {"fo": str(path), "remote_protocol": "file"},
                            "consolidated": True, "zarr_format": 2},
        ).load()


def get_npy(store: Path, var: str) -> np.ndarray:
    proc = subprocess.run(chunkref_command() + ["get", str(store), var, "--format", "npy"],
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    return np.load(io.BytesIO(proc.stdout))


def mfdataset(paths, concat_dim):
    """``xr.open_mfdataset(paths, combine="nested", concat_dim=...)`` without dask: the same
    ``combine_nested`` over the files opened one by one (with open_mfdataset's defaults, which
    keep the first file's attributes)."""
    def opened(p):
        return [opened(q) for q in p] if isinstance(p, list) else xr.open_dataset(p).load()
    return xr.combine_nested(opened(paths), concat_dim=concat_dim, data_vars="all",
                             coords="different", compat="no_conflicts", join="outer",
                             combine_attrs="override")


def assert_same(ours: xr.Dataset, theirs: xr.Dataset) -> None:
    assert set(ours.data_vars) == set(theirs.data_vars)
    assert dict(ours.sizes) == dict(theirs.sizes)
    for name in list(theirs.data_vars) + list(theirs.coords):
        a, e = ours[name], theirs[name]
        assert a.dims == e.dims, f"{name}: dims {a.dims} != {e.dims}"
        np.testing.assert_array_equal(a.values, e.values, err_msg=name)
        assert a.dtype == e.dtype, f"{name}: dtype {a.dtype} != {e.dtype}"
        assert a.attrs == e.attrs, f"{name}: attributes {a.attrs} != {e.attrs}"
    # Global attributes: the first input's, as combine_nested keeps them; chunkref adds the
    # record of how the store was combined.
    attrs = {k: v for k, v in ours.attrs.items() if k != "chunkref_combine"}
    assert attrs == theirs.attrs, f"global attributes {attrs} != {theirs.attrs}"


@pytest.fixture()
def daily(tmp_path):
    """Three daily files, each with units "hours since <that day>", given out of order."""
    files = []
    for day in (3, 1, 2):
        p = tmp_path / f"era5_2020010{day}.nc"
        make_file(p, f"hours since 2020-01-0{day} 00:00:00", [0, 6, 12, 18], seed=day)
        files.append(p)
    return files


def test_time_concat_with_differing_units_equals_open_mfdataset(tmp_path, daily):
    stores = scan(daily, tmp_path / "refs")
    out = tmp_path / "era5.json"
    proc = combine(stores, out, "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode == 0, proc.stderr
    ours = open_store(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = mfdataset(sorted(daily), concat_dim="time")
    assert_same(ours, theirs)
    assert ours.time.values[0] == np.datetime64("2020-01-01T00:00")
    assert (np.diff(ours.time.values) == np.timedelta64(6, "h")).all()
    np.testing.assert_array_equal(get_npy(out, "t2m"), theirs.t2m.values)
    # Integer hours since the first day: the re-encoded units keep integers.
    time_attrs = ours.time.encoding
    assert time_attrs["units"].startswith("hours since 2020-01-01"), time_attrs
    assert np.issubdtype(time_attrs["dtype"], np.integer), time_attrs


def test_member_by_time_ensemble_equals_open_mfdataset(tmp_path):
    files = {}
    for member in (2, 1):
        for month in (2, 1):
            p = tmp_path / f"tas_member{member:02d}_2020-{month:02d}.nc"
            make_file(p, f"days since 2020-{month:02d}-01", [0, 1, 2], seed=member * 10 + month, var="tas")
            files[(member, month)] = p
    stores = scan(list(files.values()), tmp_path / "refs")
    out = tmp_path / "ens.json"
    proc = combine(stores, out, "--concat", "member,time", "--coord", r"member=regex:member(\d+)",
                   "--coord", "time=cf:time", "--identical", "lat,lon")
    assert proc.returncode == 0, proc.stderr
    ours = open_store(out)
    nested = [[files[(m, mo)] for mo in (1, 2)] for m in (1, 2)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = mfdataset(nested, concat_dim=["member", "time"])
    theirs = theirs.assign_coords(member=np.array([1, 2]))
    assert_same(ours, theirs)
    assert ours.tas.dims == ("member", "time", "lat", "lon")


def test_merge_of_different_variables(tmp_path):
    a, b = tmp_path / "a.nc", tmp_path / "b.nc"
    make_file(a, "hours since 2020-01-01", [0, 6], seed=1, var="t2m")
    make_file(b, "hours since 2020-01-01", [0, 6], seed=2, var="d2m")
    stores = scan([a, b], tmp_path / "refs")
    out = tmp_path / "merged.json"
    proc = combine(stores, out)
    assert proc.returncode != 0 and "--merge" in proc.stderr, proc.stderr  # neither --concat nor --merge
    proc = combine(stores, out, "--merge")
    assert proc.returncode == 0, proc.stderr
    ours = open_store(out)
    theirs = xr.merge([xr.open_dataset(a), xr.open_dataset(b)]).load()
    assert_same(ours, theirs)


def test_mismatches_and_overlaps_fail_naming_the_inputs(tmp_path):
    a, b, c, d = (tmp_path / f"{x}.nc" for x in "abcd")
    make_file(a, "hours since 2020-01-01", [0, 6], seed=1)
    make_file(b, "hours since 2020-01-02", [0, 6], seed=2, dtype="f8")
    make_file(c, "hours since 2020-01-01 06:00", [0, 6], seed=3)  # overlaps a at 06:00
    make_file(d, "hours since 2020-01-03", [0, 6, 12], seed=4, chunk_time=2)
    sa, sb, sc, sd = scan([a, b, c, d], tmp_path / "refs")
    out = tmp_path / "bad.json"
    proc = combine([sa, sb], out, "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode != 0 and "dtype" in proc.stderr and "a.nc" in proc.stderr and "b.nc" in proc.stderr, proc.stderr
    proc = combine([sa, sc], out, "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode != 0 and "overlapping" in proc.stderr, proc.stderr
    # d (3 steps in chunks of 2) first along time, then a: a partial chunk in the middle.
    make_file(a, "hours since 2020-01-05", [0, 6], seed=1, chunk_time=2)
    (sa,) = scan([a], tmp_path / "refs")
    proc = combine([sd, sa], out, "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode != 0 and "partial chunk" in proc.stderr, proc.stderr
    assert not out.exists()


def test_append_and_argument_order_give_the_same_bytes(tmp_path, daily):
    stores = scan(daily, tmp_path / "refs")  # given as days 3, 1, 2
    at_once = tmp_path / "at_once.json"
    assert combine(stores, at_once, "--concat", "time", "--coord", "time=cf:time").returncode == 0
    reordered = tmp_path / "reordered.json"
    assert combine(stores[::-1], reordered, "--concat", "time", "--coord", "time=cf:time").returncode == 0
    assert reordered.read_bytes() == at_once.read_bytes()
    # Days 1 and 2 first, then day 3 appended.
    grown = tmp_path / "grown.json"
    proc = combine(stores[1:], grown, "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode == 0, proc.stderr
    proc = subprocess.run(chunkref_command() + ["combine", str(stores[0]), "--append-to", str(grown),
                                                "--concat", "time", "--coord", "time=cf:time"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert grown.read_bytes() == at_once.read_bytes()
    # Appending day 3 again: refused (nothing written), or skipped on request.
    before = grown.read_bytes()
    again = chunkref_command() + ["combine", str(stores[0]), "--append-to", str(grown),
                                  "--concat", "time", "--coord", "time=cf:time"]
    proc = subprocess.run(again, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "already in" in proc.stderr, proc.stderr
    proc = subprocess.run(again + ["--on-duplicate", "skip"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "skipped" in proc.stderr, proc.stderr
    assert grown.read_bytes() == before


def test_appending_a_member_gives_the_same_bytes(tmp_path):
    paths = []
    for member in (1, 2, 3):
        p = tmp_path / f"tas_member{member:02d}.nc"
        make_file(p, "days since 2020-01-01", [0, 1], seed=member, var="tas")
        paths.append(p)
    stores = scan(paths, tmp_path / "refs")
    args = ["--concat", "member,time", "--coord", r"member=regex:member(\d+)", "--coord", "time=cf:time",
            "--identical", "lat,lon"]
    at_once = tmp_path / "at_once.json"
    assert combine(stores, at_once, *args).returncode == 0
    grown = tmp_path / "grown.json"
    assert combine(stores[:2], grown, *args).returncode == 0
    # No options: the store records how it was made (its chunkref_combine attribute).
    proc = subprocess.run(chunkref_command() + ["combine", str(stores[2]), "--append-to", str(grown)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert grown.read_bytes() == at_once.read_bytes()
    ours = open_store(grown)
    assert ours.tas.dims == ("member", "time", "lat", "lon")
    assert ours.attrs["chunkref_combine"] == {"concat": ["member", "time"], "identical": ["lat", "lon"],
                                              "coords": {"member": r"regex:member(\d+)", "time": "cf:time"}}
    # A store that does not record it (a single file's scan) needs the options.
    proc = subprocess.run(chunkref_command() + ["combine", str(stores[2]), "--append-to", str(stores[0])],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "does not record" in proc.stderr and "--concat" in proc.stderr, proc.stderr


def test_sharded_scans_combine_to_the_same_bytes(tmp_path, daily):
    one_run = scan(daily, tmp_path / "refs")
    whole = tmp_path / "whole.json"
    assert combine(one_run, whole, "--concat", "time", "--coord", "time=cf:time").returncode == 0
    listing = "\n".join(map(str, daily)) + "\n"
    shard_dir = tmp_path / "shards"
    for k in (1, 2, 3, 4):  # 4 jobs for 3 files: the 4th has nothing to do, and succeeds
        proc = subprocess.run(chunkref_command() + ["scan", "--files-from", "-", "--shard", f"{k}/4",
                                                    "-o", f"{shard_dir}/"],
                              input=listing, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
    stores = sorted(shard_dir.glob("*.json"))
    assert [p.name for p in stores] == sorted(p.name for p in one_run)
    sharded = tmp_path / "sharded.json"
    assert combine(stores, sharded, "--concat", "time", "--coord", "time=cf:time").returncode == 0
    assert sharded.read_bytes() == whole.read_bytes()


def test_build_equals_scan_then_combine_and_appends(tmp_path, daily):
    stores = scan(daily, tmp_path / "refs")
    combined = tmp_path / "combined.json"
    assert combine(stores, combined, "--concat", "time", "--coord", "time=cf:time").returncode == 0
    built = tmp_path / "built.json"
    args = ["--concat", "time", "--coord", "time=cf:time"]
    proc = subprocess.run(chunkref_command() + ["build", str(tmp_path / "era5_*.nc"), "-o", str(built), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert built.read_bytes() == combined.read_bytes()
    grown = tmp_path / "grown.json"
    first_two = [str(p) for p in sorted(daily)[:2]]
    assert subprocess.run(chunkref_command() + ["build", *first_two, "-o", str(grown), *args],
                          capture_output=True, text=True, timeout=120).returncode == 0
    # As the issue has it: no options, the store's own.
    proc = subprocess.run(chunkref_command() + ["build", str(tmp_path / "era5_20200103.nc"), "--append-to", str(grown)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert grown.read_bytes() == combined.read_bytes()
    # An unreadable input among many: an error naming it, nothing written.
    (tmp_path / "era5_20200104.nc").write_bytes(b"not netcdf")
    bad = tmp_path / "bad.json"
    proc = subprocess.run(chunkref_command() + ["build", str(tmp_path / "era5_*.nc"), "-o", str(bad), *args],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "era5_20200104.nc" in proc.stderr and "nothing written" in proc.stderr, proc.stderr
    assert not bad.exists()


def test_many_inputs_with_referenced_coordinates_are_checked_by_value(tmp_path):
    """150 daily files (more than one batch of parsed stores), scanned without inlining, so
    each file's lat/lon are references into that file: taken once because their values agree,
    and a file whose lat differs fails naming it."""
    files = []
    for day in range(150):
        p = tmp_path / f"day{day:03d}.nc"
        make_file(p, f"hours since 2020-01-01 00:00:00", [24.0 * day], seed=day)
        files.append(p)
    refs = tmp_path / "refs"
    stores = scan(files, refs, "--inline-threshold", "0")
    out = tmp_path / "all.json"
    # Given in reverse: ordered by time all the same.
    proc = combine(stores[::-1], out, "--concat", "time", "--coord", "time=cf:time",
                   "--identical", "lat,lon")
    assert proc.returncode == 0, proc.stderr
    ours = open_store(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = mfdataset(files, concat_dim="time")
    assert_same(ours, theirs)
    np.testing.assert_array_equal(get_npy(out, "t2m"), theirs.t2m.values)

    with netCDF4.Dataset(files[100], "a") as nc:
        nc["lat"][0] = -41.0
    scan([files[100]], refs, "--inline-threshold", "0")
    proc = combine(stores, tmp_path / "bad.json", "--concat", "time", "--coord", "time=cf:time",
                   "--identical", "lat,lon")
    assert proc.returncode != 0, proc.stderr
    assert "lat" in proc.stderr and "day100.nc" in proc.stderr, proc.stderr
    assert not (tmp_path / "bad.json").exists()


def test_inline_threshold_inlines_small_referenced_chunks(tmp_path, daily):
    """Scanned without inlining, combined with --inline-threshold: chunks up to the threshold
    are read into the store (the rest stay references), and the values are the files'."""
    stores = scan(daily, tmp_path / "refs", "--inline-threshold", "0")
    lat_len = json.loads(stores[0].read_text())["refs"]["lat/0"][2]
    out = tmp_path / "inlined.json"
    proc = combine(stores, out, "--concat", "time", "--coord", "time=cf:time",
                   "--inline-threshold", str(lat_len))
    assert proc.returncode == 0, proc.stderr
    refs_out = json.loads(out.read_text())["refs"]
    assert refs_out["lat/0"].startswith("base64:"), refs_out["lat/0"]
    big = [k for k, v in refs_out.items() if k.startswith("t2m/") and not k.endswith(("zarray", "zattrs"))]
    assert big and all(isinstance(refs_out[k], list) and refs_out[k][2] > lat_len for k in big)
    ours = open_store(out)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = mfdataset(sorted(daily), concat_dim="time")
    assert_same(ours, theirs)


@pytest.mark.parametrize("damage", ["truncated", "not_json", "missing", "empty", "bad_reference"])
def test_a_malformed_or_unreadable_store_among_many_fails_naming_it(tmp_path, daily, damage):
    stores = scan(daily, tmp_path / "refs")
    victim = stores[1]
    text = victim.read_text()
    if damage == "truncated":
        victim.write_text(text[: len(text) // 2])
    elif damage == "not_json":
        victim.write_text("this is not a reference store")
    elif damage == "missing":
        victim.unlink()
    elif damage == "empty":
        victim.write_text("")
    else:
        doc = json.loads(text)
        key = next(k for k in doc["refs"] if k.startswith("t2m/") and "/." not in k)
        doc["refs"][key] = [123, -5, "x"]
        victim.write_text(json.dumps(doc))
    out = tmp_path / "out.json"
    proc = combine(stores, out, "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode != 0, proc.stderr
    assert victim.name in proc.stderr, proc.stderr
    assert "panicked" not in proc.stderr, proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".out.json*")), list(tmp_path.iterdir())
    # Appending it to an existing store leaves that store as it was.
    good = tmp_path / "good.json"
    assert combine([stores[0]], good, "--concat", "time", "--coord", "time=cf:time").returncode == 0
    before = good.read_bytes()
    proc = subprocess.run(chunkref_command() + ["combine", str(victim), "--append-to", str(good)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and victim.name in proc.stderr, proc.stderr
    assert good.read_bytes() == before


def test_a_data_file_given_as_a_store_says_to_scan_it(tmp_path, daily):
    proc = combine(daily, tmp_path / "out.json", "--concat", "time", "--coord", "time=cf:time")
    assert proc.returncode != 0, proc.stderr
    assert "HDF5 data, not a reference store" in proc.stderr and "chunkref build" in proc.stderr, proc.stderr
    assert not (tmp_path / "out.json").exists()
