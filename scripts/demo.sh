#!/usr/bin/env bash
# The main job on the bundled fixtures: scan NetCDF4/HDF5 and GRIB files into kerchunk reference stores,
# describe one, read values through it from the command line, then open it from Python with
# fsspec + xarray (nothing of chunkref installed) and compare with the source file.
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
