#!/usr/bin/env python3
"""Scan benchmark: chunkref's CLI against kerchunk's SingleHdf5ToZarr, in the same run.

    python benches/bench_scan.py [--chunkref target/release/chunkref] [--corpus bench-corpus/era5]
                                 [--jobs 1,2] [--runs 3] [--kerchunk-seconds 30] [--json-out F]

chunkref: `chunkref scan CORPUS -o TMP/refs/ -j N --json` for each N, best of --runs, timed
as the wall time of the whole command (process start, worker start-up, writing the JSON
stores included). TMP is the system temporary directory (a real disk here); every run writes
to a fresh directory and all are deleted at the end (deleting between runs makes ext4 slower
at creating the next run's files). Diagnostic rows (--tmpfs DIR, default /dev/shm if it is a
tmpfs) write the stores to memory instead, to show what the store writing costs.
kerchunk: `SingleHdf5ToZarr(path, inline_threshold=500).translate()` for each file in this
Python process (imports excluded), best of --kerchunk-runs; the stores are serialised with
json.dumps but not written. If a pass would take longer than --kerchunk-seconds it stops
after at least --min-files files and says so. With --kerchunk-procs 2 it is also run on a
multiprocessing pool of 2.
Both tools use inline threshold 500 (kerchunk's default and chunkref's). Files are read once
beforehand so both see a warm page cache.

Refs are counted the same way for both: every chunk key in the store (referenced or inline),
summed over files; for this corpus 64 (t2m) + 3 (coordinates) per file.
"""

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

INLINE = 500
CHUNK_KEY = re.compile(r"(^|/)\d+(\.\d+)*$")


def warm(files):
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 22):
                pass


def bench_chunkref(exe, corpus, jobs, runs, out_parent, where):
    best = None
    for _ in range(runs):
        out = tempfile.mkdtemp(prefix=f"j{jobs}-", dir=out_parent)
        cmd = [exe, "scan", corpus, "-o", os.path.join(out, "refs") + "/", "-j", str(jobs),
               "--json", "--no-progress", "--quiet", "--inline-threshold", str(INLINE)]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"bench_scan: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
        summary = json.loads(p.stdout)
        if summary["failed"]:
            sys.exit(f"bench_scan: chunkref failed on {summary['failed']} files")
        r = {"tool": "chunkref", "procs": jobs, "files": summary["succeeded"], "refs": summary["chunks"],
             "seconds": wall, "internal_seconds": summary["seconds"], "stores_on": where}
        if best is None or r["seconds"] < best["seconds"]:
            best = r
    best["files_per_s"] = best["files"] / best["seconds"]
    best["refs_per_s"] = best["refs"] / best["seconds"]
    best["runs"] = runs
    return best


def is_tmpfs(path):
    try:
        with open("/proc/mounts") as fh:
            mounts = [line.split() for line in fh]
    except OSError:
        return False
    real = os.path.realpath(path)
    best = max((m for m in mounts if real == m[1] or real.startswith(m[1].rstrip("/") + "/")),
               key=lambda m: len(m[1]), default=None)
    return best is not None and best[2] == "tmpfs"


def kerchunk_one(path):
    from kerchunk.hdf import SingleHdf5ToZarr
    refs = SingleHdf5ToZarr(path, inline_threshold=INLINE).translate()
    json.dumps(refs)
    return sum(1 for k in refs["refs"] if CHUNK_KEY.search(k))


def bench_kerchunk(files, max_seconds, min_files, runs, one=kerchunk_one):
    """Best of `runs` passes of `one(path) -> refs` over `files` in this process; a pass stops
    after `max_seconds` once `min_files` are done (then `subset` is true)."""
    one(files[0])  # warm-up: first-call imports (h5py, numcodecs, fsspec registries)
    best = None
    for _ in range(runs):
        refs = 0
        done = 0
        t0 = time.perf_counter()
        for f in files:
            refs += one(f)
            done += 1
            if done >= min_files and time.perf_counter() - t0 > max_seconds:
                break
        secs = time.perf_counter() - t0
        r = {"tool": "kerchunk", "procs": 1, "files": done, "refs": refs, "seconds": secs,
             "files_per_s": done / secs, "refs_per_s": refs / secs, "subset": done < len(files),
             "of_files": len(files), "runs": runs}
        if best is None or r["files_per_s"] > best["files_per_s"]:
            best = r
    return best


def bench_kerchunk_pool(files, procs, max_seconds, min_files, runs):
    import multiprocessing as mp
    best = None
    for _ in range(runs):
        with mp.get_context("fork").Pool(procs, initializer=_pool_init) as pool:
            pool.map(kerchunk_one, files[:procs])  # warm the workers
            t0 = time.perf_counter()
            refs = 0
            done = 0
            for n in pool.imap(kerchunk_one, files, chunksize=4):
                refs += n
                done += 1
                if done >= min_files and time.perf_counter() - t0 > max_seconds:
                    pool.terminate()
                    break
            secs = time.perf_counter() - t0
        r = {"tool": "kerchunk", "procs": procs, "files": done, "refs": refs, "seconds": secs,
             "files_per_s": done / secs, "refs_per_s": refs / secs, "subset": done < len(files),
             "of_files": len(files), "runs": runs}
        if best is None or r["files_per_s"] > best["files_per_s"]:
            best = r
    return best


def _pool_init():
    import kerchunk.hdf  # noqa: F401


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunkref", default="target/release/chunkref")
    ap.add_argument("--corpus", default="bench-corpus/era5")
    ap.add_argument("--jobs", default="1,2", help="chunkref -j values (default 1,2)")
    ap.add_argument("--runs", type=int, default=3, help="chunkref runs per -j, best kept (default 3)")
    ap.add_argument("--kerchunk-runs", type=int, default=2, help="kerchunk passes, best kept (default 2)")
    ap.add_argument("--kerchunk-seconds", type=float, default=30.0,
                    help="stop a kerchunk pass after this long once --min-files are done (default 30)")
    ap.add_argument("--tmpfs", default="/dev/shm",
                    help="a tmpfs for the diagnostic rows with stores written to memory ('' to skip)")
    ap.add_argument("--min-files", type=int, default=50)
    ap.add_argument("--kerchunk-procs", type=int, default=2,
                    help="also run kerchunk on a pool of this many processes (0: skip; default 2)")
    ap.add_argument("--json-out", help="write the results here as JSON")
    args = ap.parse_args()

    files = sorted(glob.glob(os.path.join(args.corpus, "*.nc")))
    if not files:
        sys.exit(f"bench_scan: no .nc files under {args.corpus} (run benches/make_corpus.py)")
    warm(files)
    results = []
    jobs = [int(x) for x in args.jobs.split(",") if x]
    disk = tempfile.mkdtemp(prefix="chunkref-bench-scan-")
    try:
        for j in jobs:
            results.append(bench_chunkref(args.chunkref, args.corpus, j, args.runs, disk, "disk"))
    finally:
        shutil.rmtree(disk, ignore_errors=True)
    if args.tmpfs and os.path.isdir(args.tmpfs) and is_tmpfs(args.tmpfs):
        mem = tempfile.mkdtemp(prefix="chunkref-bench-scan-", dir=args.tmpfs)
        try:
            for j in jobs:
                results.append(bench_chunkref(args.chunkref, args.corpus, j, args.runs, mem, "tmpfs"))
        finally:
            shutil.rmtree(mem, ignore_errors=True)
    results.append(bench_kerchunk(files, args.kerchunk_seconds, args.min_files, args.kerchunk_runs))
    if args.kerchunk_procs > 1:
        results.append(bench_kerchunk_pool(files, args.kerchunk_procs, args.kerchunk_seconds,
                                           args.min_files, args.kerchunk_runs))

    k1 = next(r for r in results if r["tool"] == "kerchunk" and r["procs"] == 1)
    print(f"\nscan: {len(files)} files in {args.corpus}, inline threshold {INLINE}")
    print(f"{'tool':<10} {'procs':>5} {'stores':>7} {'files':>6} {'refs':>7} {'seconds':>8} {'files/s':>9} "
          f"{'refs/s':>10} {'vs kerchunk':>12}")
    for r in results:
        r["ratio_vs_kerchunk"] = r["files_per_s"] / k1["files_per_s"]
        note = f"  (subset: {r['files']} of {r['of_files']} files)" if r.get("subset") else ""
        where = r.get("stores_on", "-")
        print(f"{r['tool']:<10} {r['procs']:>5} {where:>7} {r['files']:>6} {r['refs']:>7} {r['seconds']:>8.3f} "
              f"{r['files_per_s']:>9.1f} {r['refs_per_s']:>10.0f} {r['ratio_vs_kerchunk']:>11.1f}x{note}")
    print(f"  chunkref: best of {args.runs}, wall time of the whole command, stores written to "
          f"{tempfile.gettempdir()} (disk) or {args.tmpfs} (tmpfs, diagnostic)")
    print(f"  kerchunk: best of {args.kerchunk_runs}, translate() + json.dumps per file, stores not written")
    per_file = {r["tool"]: r["refs"] / r["files"] for r in results}
    if len(set(round(v, 6) for v in per_file.values())) > 1:
        print(f"  note: refs per file differ between tools: {per_file}")
    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"scan": results, "corpus_files": len(files)}, fh, indent=1)


if __name__ == "__main__":
    main()
