#!/usr/bin/env python3
"""NetCDF3 scan benchmark: chunkref's CLI against kerchunk's NetCDF3ToZarr, in the same run.

    python benches/bench_scan_nc3.py [N_FILES] [--chunkref target/release/chunkref]
                                     [--corpus bench-corpus/nc3] [--jobs 1,2] [--runs 3]
                                     [--kerchunk-seconds 30] [--json-out F]

The corpus (made once, deterministic, kept between runs): N_FILES (default 300) classic
(CDF-1) files written by netCDF4-python, each with an UNLIMITED `time` (8 records), `lat`
(37), `lon` (72) and three record variables `t2m`, `msl` (float32) and `u10` (int16 with
scale_factor/add_offset): 3 x 8 record chunks + 8 `time` records + `lat` + `lon` = 34 chunk
keys a file for chunkref. kerchunk makes 27: with inlining on, it reads a small record
variable (`time`) whole and inlines it as one blosc-compressed chunk.

chunkref: `chunkref scan CORPUS -o TMP/refs/ -j N --json`, best of --runs, wall time of the
whole command (stores written). kerchunk: `NetCDF3ToZarr(path, inline_threshold=500)
.translate()` + json.dumps per file in this process (imports excluded, stores not written),
best of 2 passes, stopping after --kerchunk-seconds once --min-files are done. Both use
inline threshold 500.
"""

import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_scan import CHUNK_KEY, INLINE, bench_chunkref, bench_kerchunk, warm  # noqa: E402

NT, NLAT, NLON = 8, 37, 72


def make_corpus(out, n):
    import netCDF4
    import numpy as np

    os.makedirs(out, exist_ok=True)
    lat = np.linspace(-90, 90, NLAT, dtype=np.float32)
    lon = np.arange(NLON, dtype=np.float32) * 5.0
    for i in range(n):
        path = os.path.join(out, f"nc3_{i:04d}.nc")
        if os.path.exists(path):
            continue
        rng = np.random.default_rng(1000 + i)
        tmp = path + ".tmp"
        with netCDF4.Dataset(tmp, "w", format="NETCDF3_CLASSIC") as ds:
            ds.title = "chunkref NetCDF3 benchmark file"
            ds.createDimension("time", None)
            ds.createDimension("lat", NLAT)
            ds.createDimension("lon", NLON)
            t = ds.createVariable("time", "f8", ("time",))
            t.units = "hours since 2000-01-01"
            ds.createVariable("lat", "f4", ("lat",))[:] = lat
            ds.createVariable("lon", "f4", ("lon",))[:] = lon
            t2m = ds.createVariable("t2m", "f4", ("time", "lat", "lon"))
            msl = ds.createVariable("msl", "f4", ("time", "lat", "lon"))
            u10 = ds.createVariable("u10", "i2", ("time", "lat", "lon"), fill_value=np.int16(-32767))
            u10.scale_factor = 0.01
            u10.add_offset = 0.0
            t[:] = np.arange(NT) * 3.0 + i * 24.0
            shape = (NT, NLAT, NLON)
            t2m[:] = (280 + 10 * rng.standard_normal(shape)).astype(np.float32)
            msl[:] = (101325 + 500 * rng.standard_normal(shape)).astype(np.float32)
            u10[:] = 5 * rng.standard_normal(shape)
        os.replace(tmp, path)


def kerchunk_one(path):
    from kerchunk.netCDF3 import NetCDF3ToZarr

    refs = NetCDF3ToZarr(path, inline_threshold=INLINE).translate()
    json.dumps(refs)
    refs = refs.get("refs", refs)
    return sum(1 for k in refs if CHUNK_KEY.search(k))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("n_files", nargs="?", type=int, default=300)
    ap.add_argument("--chunkref", default="target/release/chunkref")
    ap.add_argument("--corpus", default="bench-corpus/nc3")
    ap.add_argument("--jobs", default="1,2")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--kerchunk-runs", type=int, default=2)
    ap.add_argument("--kerchunk-seconds", type=float, default=30.0)
    ap.add_argument("--min-files", type=int, default=50)
    ap.add_argument("--json-out")
    args = ap.parse_args()

    make_corpus(args.corpus, args.n_files)
    files = sorted(glob.glob(os.path.join(args.corpus, "*.nc")))[: args.n_files]
    warm(files)
    results = []
    disk = tempfile.mkdtemp(prefix="chunkref-bench-nc3-")
    try:
        for j in [int(x) for x in args.jobs.split(",") if x]:
            results.append(bench_chunkref(args.chunkref, args.corpus, j, args.runs, disk, "disk"))
    finally:
        shutil.rmtree(disk, ignore_errors=True)
    results.append(bench_kerchunk(files, args.kerchunk_seconds, args.min_files, args.kerchunk_runs, one=kerchunk_one))

    k1 = results[-1]
    print(f"\nNetCDF3 scan: {len(files)} classic files in {args.corpus}, inline threshold {INLINE}")
    print(f"{'tool':<10} {'procs':>5} {'files':>6} {'refs':>7} {'seconds':>8} {'files/s':>9} "
          f"{'refs/s':>10} {'vs kerchunk':>12}")
    for r in results:
        r["ratio_vs_kerchunk"] = r["files_per_s"] / k1["files_per_s"]
        note = f"  (subset: {r['files']} of {r['of_files']} files)" if r.get("subset") else ""
        print(f"{r['tool']:<10} {r['procs']:>5} {r['files']:>6} {r['refs']:>7} {r['seconds']:>8.3f} "
              f"{r['files_per_s']:>9.1f} {r['refs_per_s']:>10.0f} {r['ratio_vs_kerchunk']:>11.1f}x{note}")
    print(f"  chunkref: best of {args.runs}, wall time of the whole command, stores written to disk")
    print(f"  kerchunk: best of {args.kerchunk_runs}, translate() + json.dumps per file, stores not written")
    per_file = {r["tool"]: r["refs"] / r["files"] for r in results}
    if len(set(round(v, 6) for v in per_file.values())) > 1:
        print(f"  note: chunk keys per file differ between tools: {per_file}")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"scan_nc3": results, "corpus_files": len(files)}, fh, indent=1)


if __name__ == "__main__":
    main()
