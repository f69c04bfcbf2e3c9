#!/usr/bin/env python3
"""Read benchmark: chunkref (examples/bench_read.rs) against netCDF4-python, in the same run.

    python benches/bench_read.py [--bench-read target/release/examples/bench_read]
                                 [--file bench-corpus/read/big.nc] [--var t2m] [--runs 3]
                                 [--threads 1,2] [--json-out F]

chunkref: the example scans the file into a JSON store, opens it with chunkref::open and reads
the whole variable with Variable::read_all::<f32>() on a rayon pool of 1 and 2 threads, best
of --runs. netCDF4: netCDF4.Dataset(file)[var][:] (defaults, so a masked array), best of
--runs, one thread (HDF5 decodes chunks one at a time). MB/s are of decoded data (1 MB = 1e6
bytes). Both tools' checksums are printed: the float64 sum and the exact sum of the float32
bit patterns, which must be equal.

Diagnostic rows (skip with --no-diag): the same chunkref example run again with glibc's
malloc told never to give memory back to the kernel (GLIBC_TUNABLES trim_threshold,
mmap_threshold, top_pad), to show how much of chunkref's time is page faults from its
per-chunk buffers being freed to and re-faulted from the kernel.
"""

MALLOC_TUNABLES = ("glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824:"
                   "glibc.malloc.top_pad=268435456")

import argparse
import json
import os
import subprocess
import sys
import time

import netCDF4
import numpy as np


def bench_netcdf4(path, var, runs):
    best = None
    a = None
    for _ in range(runs):
        a = None
        t0 = time.perf_counter()
        with netCDF4.Dataset(path) as ds:
            a = ds[var][:]
        secs = time.perf_counter() - t0
        best = secs if best is None else min(best, secs)
    data = np.ma.getdata(a)
    mb = data.nbytes / 1e6
    return {"tool": "netCDF4", "threads": 1, "seconds": best, "mb_per_s": mb / best, "mb": mb,
            "checksum": float(data.sum(dtype=np.float64)),
            "bits_sum": int(data.astype(np.float32, copy=False).view(np.uint32).sum(dtype=np.uint64)),
            "runs": runs, "masked": bool(np.ma.is_masked(a))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench-read", default="target/release/examples/bench_read")
    ap.add_argument("--file", default="bench-corpus/read/big.nc")
    ap.add_argument("--var", default="t2m")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--json-out")
    ap.add_argument("--no-diag", action="store_true", help="skip the malloc diagnostic rows")
    args = ap.parse_args()
    if not os.path.exists(args.file):
        sys.exit(f"bench_read: {args.file} is missing (run benches/make_corpus.py)")

    with open(args.file, "rb") as fh:  # warm the page cache for both tools
        while fh.read(1 << 22):
            pass
    cmd = [args.bench_read, args.file, "--var", args.var, "--runs", str(args.runs), "--threads", args.threads]

    def run_chunkref(env=None):
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env)
        if p.returncode != 0:
            sys.exit(f"bench_read: {' '.join(cmd)} failed ({p.returncode})")
        return [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]

    results = run_chunkref()
    nc = bench_netcdf4(args.file, args.var, args.runs)
    results.append(nc)
    if not args.no_diag:
        env = dict(os.environ, GLIBC_TUNABLES=MALLOC_TUNABLES)
        for r in run_chunkref(env):
            r["tool"] = "chunkref*"
            r["diagnostic"] = "glibc malloc never trims"
            results.append(r)

    with netCDF4.Dataset(args.file) as ds:
        v = ds[args.var]
        desc = f"{args.var}{v.shape} {v.dtype}, chunks {tuple(v.chunking())}, {v.filters()['complevel']} zlib"
    print(f"\nread: {args.file}: {desc}; {nc['mb']:.1f} MB decoded, "
          f"{os.path.getsize(args.file) / 1e6:.1f} MB on disk; best of {args.runs}")
    print(f"{'tool':<10} {'threads':>7} {'seconds':>8} {'MB/s':>8} {'vs netCDF4':>11} {'cpu/real':>9}  checksum (f64 sum / bit-pattern sum)")
    for r in results:
        r["ratio_vs_netcdf4"] = r["mb_per_s"] / nc["mb_per_s"]
        cpu = f"{r['cpu_per_real']:.2f}" if "cpu_per_real" in r else "-"
        print(f"{r['tool']:<10} {r['threads']:>7} {r['seconds']:>8.3f} {r['mb_per_s']:>8.0f} "
              f"{r['ratio_vs_netcdf4']:>10.2f}x {cpu:>9}  {r['checksum']:.6f} / {r['bits_sum']}")
    if not args.no_diag:
        print("  chunkref*: diagnostic, the same binary with GLIBC_TUNABLES=" + MALLOC_TUNABLES)
    same = all(r["bits_sum"] == nc["bits_sum"] for r in results)
    print(f"  values identical (bit-pattern sums equal): {'yes' if same else 'NO'}")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"read": results, "values_identical": same}, fh, indent=1)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
