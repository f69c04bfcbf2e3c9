#!/usr/bin/env python3
"""Generate the combine benchmark corpus: kerchunk JSON v1 stores, one per daily file
(deterministic, seeded; existing stores are kept).

    python benches/make_combine_corpus.py [--sizes 100,1000,10000] [--out bench-corpus/combine]

Makes OUT/nN/era5_YYYYMMDD.json for each size N: the stores `chunkref scan` writes for N
consecutive daily ERA5-like NetCDF4 files (from 1990-01-01), written directly (no NetCDF file
is made; the urls point at files under /archive/era5/ that need not exist, since combining
reads only the coordinates, which are inline). Each store has the layout of
`chunkref scan fixtures/era5_small.nc` (refs, templates {"a": url}, version 1; .zgroup,
.zattrs, a consolidated .zmetadata, <var>/.zarray and <var>/.zattrs, compact JSON):

  time       float64 (24,), "hours since <that day> 00:00:00", calendar standard, 0..23: inline
  lat, lon   float32 (721,) 90..-90 and (1440,) 0..359.75, identical in every store: inline
  t2m, u10, v10, msl
             float32 (time, lat, lon) = (24, 721, 1440), chunks (1, 361, 1440) (2 along lat,
             the last partial), shuffle + zlib 4, _FillValue -32767: 24 x 2 = 48 chunks each,
             every one ["{{a}}", offset, length] with seeded lengths of 0.9-1.4 MB laid out
             one after the other in the file

so 4 x 48 = 192 chunk references per store: 19,200 / 192,000 / 1,920,000 for 100 / 1,000 /
10,000 stores. Each size has its own directory (the first N days); a store that exists is
skipped, and stores are written under a temporary name and renamed, so an interrupted run
leaves no half-written store behind.
"""

import argparse
import base64
import datetime as dt
import json
import os
import sys
import time

import numpy as np

NT, NLAT, NLON = 24, 721, 1440
CHUNKS = (1, 361, 1440)
VARS = [("t2m", "2 metre temperature", "K"), ("u10", "10 metre U wind component", "m s**-1"),
        ("v10", "10 metre V wind component", "m s**-1"), ("msl", "Mean sea level pressure", "Pa")]
FIRST_DAY = dt.date(1990, 1, 1)
URL = "file:///archive/era5/{year}/era5_{ymd}.nc"
SEED = 20200101
HEADER = 48 * 1024  # where the first chunk starts in the (imaginary) file


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def b64(a):
    return "base64:" + base64.b64encode(a.tobytes()).decode()


def chunk_grid():
    return [-(-s // c) for s, c in zip((NT, NLAT, NLON), CHUNKS)]


def static_meta():
    """Metadata and inline chunks that are the same in every store (all but time's units)."""
    meta = {
        ".zgroup": {"zarr_format": 2},
        ".zattrs": {"Conventions": "CF-1.6",
                    "history": "chunkref combine benchmark corpus (benches/make_combine_corpus.py)"},
        "lat/.zarray": {"chunks": [NLAT], "compressor": None, "dtype": "<f4", "fill_value": None,
                        "filters": None, "order": "C", "shape": [NLAT], "zarr_format": 2},
        "lat/.zattrs": {"_ARRAY_DIMENSIONS": ["lat"], "long_name": "latitude",
                        "standard_name": "latitude", "units": "degrees_north"},
        "lon/.zarray": {"chunks": [NLON], "compressor": None, "dtype": "<f4", "fill_value": None,
                        "filters": None, "order": "C", "shape": [NLON], "zarr_format": 2},
        "lon/.zattrs": {"_ARRAY_DIMENSIONS": ["lon"], "long_name": "longitude",
                        "standard_name": "longitude", "units": "degrees_east"},
        "time/.zarray": {"chunks": [NT], "compressor": None, "dtype": "<f8", "fill_value": None,
                         "filters": None, "order": "C", "shape": [NT], "zarr_format": 2},
    }
    for name, long_name, units in VARS:
        meta[f"{name}/.zarray"] = {
            "chunks": list(CHUNKS), "compressor": None, "dtype": "<f4", "fill_value": -32767.0,
            "filters": [{"elementsize": 4, "id": "shuffle"}, {"id": "zlib", "level": 4}],
            "order": "C", "shape": [NT, NLAT, NLON], "zarr_format": 2}
        meta[f"{name}/.zattrs"] = {"_ARRAY_DIMENSIONS": ["time", "lat", "lon"], "_FillValue": -32767.0,
                                   "long_name": long_name, "units": units}
    inline = {
        "lat/0": b64(np.linspace(90.0, -90.0, NLAT, dtype=np.float32)),
        "lon/0": b64(np.linspace(0.0, 360.0, NLON, endpoint=False).astype(np.float32)),
        "time/0": b64(np.arange(NT, dtype="<f8")),
    }
    return meta, inline


def make_store(i, meta, inline):
    day = FIRST_DAY + dt.timedelta(days=i)
    m = dict(meta)
    m["time/.zattrs"] = {"_ARRAY_DIMENSIONS": ["time"], "calendar": "standard", "long_name": "time",
                         "standard_name": "time", "units": f"hours since {day.isoformat()} 00:00:00"}
    refs = {k: dumps(v) for k, v in m.items()}
    refs[".zmetadata"] = dumps({"metadata": m, "zarr_consolidated_format": 1})
    refs.update(inline)
    grid = chunk_grid()
    per_var = int(np.prod(grid))
    lengths = np.random.default_rng(SEED + i).integers(900_000, 1_400_000, size=len(VARS) * per_var)
    offset = HEADER
    n = 0
    for name, _, _ in VARS:
        for idx in np.ndindex(*grid):
            length = int(lengths[n])
            refs[f"{name}/{'.'.join(map(str, idx))}"] = ["{{a}}", offset, length]
            offset += length
            n += 1
    url = URL.format(year=day.year, ymd=day.strftime("%Y%m%d"))
    return {"refs": dict(sorted(refs.items())), "templates": {"a": url}, "version": 1}, day


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100,1000,10000", help="numbers of stores (default 100,1000,10000)")
    ap.add_argument("--out", default="bench-corpus/combine", help="corpus directory (default bench-corpus/combine)")
    args = ap.parse_args()

    meta, inline = static_meta()
    refs_per_store = len(VARS) * int(np.prod(chunk_grid()))
    start = time.perf_counter()
    for n in [int(s) for s in args.sizes.split(",") if s]:
        d = os.path.join(args.out, f"n{n}")
        os.makedirs(d, exist_ok=True)
        made = 0
        for i in range(n):
            day = FIRST_DAY + dt.timedelta(days=i)
            path = os.path.join(d, f"era5_{day.strftime('%Y%m%d')}.json")
            if os.path.exists(path):
                continue
            store, _ = make_store(i, meta, inline)
            tmp = f"{path}.tmp{os.getpid()}"
            with open(tmp, "w") as fh:
                fh.write(json.dumps(store, separators=(",", ":")))
            os.replace(tmp, path)
            made += 1
        size = sum(e.stat().st_size for e in os.scandir(d) if e.name.endswith(".json"))
        print(f"make_combine_corpus: {d}: {n} stores ({made} made now), {size / 1e6:.1f} MB, "
              f"{n * refs_per_store:,} chunk references", file=sys.stderr)
    print(f"make_combine_corpus: done in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
