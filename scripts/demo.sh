#!/usr/bin/env bash
# The main job on the bundled fixtures: scan NetCDF4/HDF5 and GRIB files into kerchunk reference stores,
# describe one, read values through it from the command line, then open it from Python with
# fsspec + xarray (nothing of chunkref installed) and compare with the source file; then split a
# fixture into one file per time step (each with its own time units), scan and combine them
# along time with `chunkref build`, and compare the combined store with the original file.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh >/dev/null

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run() { printf '\n$ %s\n' "$*"; "$@"; }

cargo build --quiet --bin chunkref
chunkref=target/debug/chunkref

run "$chunkref" scan fixtures/ --include '*.nc' --include '*.h5' -o "$out/refs/" --json
run "$chunkref" info "$out/refs/era5_small.nc.json"
run "$chunkref" get "$out/refs/era5_small.nc.json" t2m --slice 0,::6,::9
run "$chunkref" get "$out/refs/packed.nc.json" t2m_packed --slice 0,0:3,0:4 --decode
run "$chunkref" scan fixtures/grib2_pl.grib2 -o "$out/grib2_pl.json"
run "$chunkref" get "$out/grib2_pl.json" t --slice 0,0,::4,::6

printf '\n$ python: xr.open_dataset("reference://", engine="zarr", ...) vs xr.open_dataset(file)\n'
python - "$out/refs/era5_small.nc.json" fixtures/era5_small.nc <<'PY'
import sys
import xarray as xr

store, source = sys.argv[1], sys.argv[2]
refs = xr.open_dataset(
    "reference://", engine="zarr",
    backend_kwargs={"storage_options": {"fo": store, "remote_protocol": "file"},
                    "consolidated": True, "zarr_format": 2},
)
nc = xr.open_dataset(source)
print(refs)
xr.testing.assert_identical(refs.load(), nc.load())
print(f"\nthe store gives the same dataset as {source}")
PY

printf '\n$ python: split fixtures/era5_small.nc into one file per step, each "hours since <its own time>"\n'
python - fixtures/era5_small.nc "$out/steps" <<'PY'
import os, sys
import xarray as xr

source, outdir = sys.argv[1], sys.argv[2]
os.makedirs(outdir)
ds = xr.open_dataset(source)
for i, t in enumerate(ds.time.values):
    units = f"hours since {str(t)[:19].replace('T', ' ')}"
    ds.isel(time=[i]).to_netcdf(
        f"{outdir}/era5_{i}.nc",
        encoding={"time": {"units": units, "calendar": "standard"},
                  "t2m": {"zlib": True, "shuffle": True, "chunksizes": (1, 10, 18)}})
    print(f"{outdir}/era5_{i}.nc: time units {units!r}")
PY
run "$chunkref" build "$out/steps/era5_*.nc" --concat time --coord time=cf:time -o "$out/era5.json"
run "$chunkref" get "$out/era5.json" time

printf '\n$ python: the combined store vs the original file\n'
python - "$out/era5.json" fixtures/era5_small.nc <<'PY'
import sys
import xarray as xr

store, source = sys.argv[1], sys.argv[2]
combined = xr.open_dataset(
    "reference://", engine="zarr",
    backend_kwargs={"storage_options": {"fo": store, "remote_protocol": "file"},
                    "consolidated": True, "zarr_format": 2},
).load()
xr.testing.assert_equal(combined, xr.open_dataset(source).load())
print(combined.time.values)
print(f"\nfour files combined along time give the same dataset as {source}")
PY
