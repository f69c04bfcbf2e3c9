#!/usr/bin/env python3
"""GRIB benchmark: chunkref against kerchunk (scan) and ecCodes (decode), in the same run.

    python benches/bench_grib.py [--chunkref target/release/chunkref]
                                 [--bench-decode target/release/examples/bench_grib_decode]
                                 [--corpus bench-corpus/grib] [--runs 3] [--decode-runs 10]
                                 [--kerchunk-seconds 30] [--json-out F]

The corpus is benches/make_grib_corpus.py's (made beforehand): CORPUS/gfs_like.grib2 (+ .idx)
and CORPUS/decode/<packing>.grib2.

scan: `chunkref scan FILE -o TMP/store.json --json` and the same with `--grib-idx` (the
wgrib2 inventory beside the file), best of --runs, wall time of the whole command (process
start and the store written to the system temporary directory included), against kerchunk
0.2.10's `kerchunk.grib2.scan_grib(FILE)` (its defaults; the list of per-message stores is
serialised with json.dumps but not written, and not combined: chunkref's one store of
hypercubes would take kerchunk a MultiZarrToZarr on top) in this process, imports excluded,
best of --kerchunk-runs. kerchunk reads every message with ecCodes/cfgrib and is slow: a
first pass of --probe-messages messages measures its rate, then the timed passes use
`scan_grib(FILE, skip=N)` (skip= stops after N messages) with N the messages it gets through
in about --kerchunk-seconds, and the output says when that is a subset. Messages/s are over
the messages each tool scanned; the file is read once beforehand so both see a warm cache.

decode: for each packing, chunkref (examples/bench_grib_decode.rs: the file scanned into a
store, opened with chunkref::open, the variable read with read_all::<f32>() --decode-runs
times on one rayon thread) against ecCodes in this process (per run: the message read from
the file, codes_new_from_message, codes_get_values (float64) converted to float32,
codes_release), the same number of runs. Best run kept; MB/s of the float32 output
(1 MB = 1e6 bytes). Checksums: the float64 nansum of each tool's float32 values, and the
values compared element by element (chunkref dumps its last read): max |difference| and how
many differ. A diagnostic row per packing, `ecCodes f32`, asks ecCodes for float32 directly
(codes_get_values(h, ktype=np.float32)).
"""

import argparse
import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

import eccodes as ec
import numpy as np

PACKING_ORDER = ["grid_simple", "grid_complex", "grid_complex_spatial_differencing", "grid_jpeg",
                 "grid_png", "grid_ccsds", "grid_ieee"]


def warm(path):
    with open(path, "rb") as fh:
        while fh.read(1 << 22):
            pass


def count_messages(path):
    with open(path, "rb") as f:
        return ec.codes_count_in_file(f)


# ------------------------------------------------------------------ scan
def bench_chunkref_scan(exe, path, runs, out_dir, idx):
    best = None
    for run in range(runs):
        store = os.path.join(out_dir, f"store-{'idx' if idx else 'noidx'}-{run}.json")
        cmd = [exe, "scan", path, "-o", store, "--json", "--no-progress", "--quiet"]
        if idx:
            cmd.append("--grib-idx")
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"bench_grib: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
        summary = json.loads(p.stdout)
        if summary["failed"]:
            sys.exit(f"bench_grib: chunkref failed: {summary['failures']}")
        r = {"tool": "chunkref", "grib_idx": idx, "seconds": wall, "internal_seconds": summary["seconds"],
             "variables": summary["variables"], "chunk_keys": summary["chunks"],
             "store_bytes": os.path.getsize(store), "warnings": summary.get("warnings", [])}
        os.remove(store)
        if best is None or r["seconds"] < best["seconds"]:
            best = r
    best["runs"] = runs
    return best


def kerchunk_pass(path, n):
    from kerchunk.grib2 import scan_grib
    t0 = time.perf_counter()
    out = scan_grib(path, skip=n)
    nbytes = sum(len(json.dumps(m)) for m in out)
    return time.perf_counter() - t0, len(out), nbytes


def bench_kerchunk_scan(path, total, max_seconds, probe, runs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cfgrib/xarray FutureWarnings
        kerchunk_pass(path, 1)  # warm-up: first-call imports (cfgrib, eccodes definitions)
        secs, done, _ = kerchunk_pass(path, min(probe, total))
        rate = done / secs
        n = int(min(total, max(probe, rate * max_seconds)))
        best = None
        for _ in range(runs):
            secs, done, nbytes = kerchunk_pass(path, n if n < total else 0)
            r = {"tool": "kerchunk", "grib_idx": False, "seconds": secs, "messages": done,
                 "subset": done < total, "of_messages": total, "json_bytes": nbytes, "runs": runs,
                 "probe_messages_per_s": rate}
            if best is None or r["seconds"] < best["seconds"]:
                best = r
    return best


# ------------------------------------------------------------------ decode
def bench_eccodes_decode(path, runs, ktype):
    times = []
    a = None
    for _ in range(runs):
        t0 = time.perf_counter()
        with open(path, "rb") as f:
            msg = f.read()
        h = ec.codes_new_from_message(msg)
        try:
            if ktype is np.float32:
                a = ec.codes_get_values(h, ktype=np.float32)
            else:
                a = ec.codes_get_values(h).astype(np.float32)
        finally:
            ec.codes_release(h)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times, a


@contextlib.contextmanager
def quiet_stderr():
    """File descriptor 2 sent to /dev/null (for messages the C library prints itself)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def packing_info(path):
    with open(path, "rb") as f:
        h = ec.codes_grib_new_from_file(f)
    try:
        info = {k: ec.codes_get(h, k) for k in ("packingType", "bitsPerValue", "numberOfValues",
                                                 "Ni", "Nj", "totalLength")}
        if info["packingType"] == "grid_ieee":  # template 5.4 has no bitsPerValue: its precision
            info["bitsPerValue"] = {1: 32, 2: 64, 3: 128}.get(ec.codes_get(h, "precision"), 0)
        info["decimalScaleFactor"] = ec.codes_get(h, "decimalScaleFactor")
        info["binaryScaleFactor"] = ec.codes_get(h, "binaryScaleFactor")
        return info
    finally:
        ec.codes_release(h)


def bench_decode(exe, path, runs, tmp):
    info = packing_info(path)
    dump = os.path.join(tmp, "dump.f32")
    cmd = [exe, path, "--runs", str(runs), "--threads", "1", "--dump", dump]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"bench_grib: {' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-2000:]}")
    cr = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")][0]
    ours = np.fromfile(dump, dtype="<f4")
    os.remove(dump)

    times, theirs = bench_eccodes_decode(path, runs, None)
    try:
        with quiet_stderr():  # ecCodes prints "Cannot unpack key 'codedValues' as float" first
            bench_eccodes_decode(path, 1, np.float32)
        times32, theirs32 = bench_eccodes_decode(path, runs, np.float32)
    except ec.FunctionNotImplementedError:  # ecCodes has no float32 decoder for some packings
        times32, theirs32 = None, None
    mb = theirs.nbytes / 1e6
    diff = np.abs(ours.astype(np.float64) - theirs.astype(np.float64))
    rows = [
        {"tool": "chunkref", "packing": info["packingType"], "seconds": cr["seconds"],
         "median_seconds": cr["median_seconds"], "mb": cr["mb"], "mb_per_s": cr["mb_per_s"],
         "checksum": cr["checksum"], "runs": runs},
        {"tool": "ecCodes", "packing": info["packingType"], "seconds": times[0],
         "median_seconds": times[len(times) // 2], "mb": mb, "mb_per_s": mb / times[0],
         "checksum": float(np.nansum(theirs, dtype=np.float64)), "runs": runs},
    ]
    if times32 is not None:
        rows.append({"tool": "ecCodes f32", "packing": info["packingType"], "seconds": times32[0],
                     "median_seconds": times32[len(times32) // 2], "mb": mb, "mb_per_s": mb / times32[0],
                     "checksum": float(np.nansum(theirs32, dtype=np.float64)), "runs": runs,
                     "diagnostic": True})
    compare = {"packing": info["packingType"], "values": int(theirs.size),
               "same_shape": ours.size == theirs.size,
               "max_abs_diff": float(np.nanmax(diff)) if ours.size == theirs.size else None,
               "n_differ": int(np.count_nonzero(ours != theirs)) if ours.size == theirs.size else None,
               "n_differ_f32_direct": (int(np.count_nonzero(ours != theirs32))
                                       if theirs32 is not None and ours.size == theirs32.size else None),
               "info": info, "file_bytes": os.path.getsize(path)}
    return rows, compare


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunkref", default="target/release/chunkref")
    ap.add_argument("--bench-decode", default="target/release/examples/bench_grib_decode")
    ap.add_argument("--corpus", default="bench-corpus/grib")
    ap.add_argument("--runs", type=int, default=3, help="chunkref scan runs, best kept (default 3)")
    ap.add_argument("--kerchunk-runs", type=int, default=2, help="kerchunk passes, best kept (default 2)")
    ap.add_argument("--kerchunk-seconds", type=float, default=30.0,
                    help="time kerchunk on about as many messages as it scans in this long (default 30)")
    ap.add_argument("--probe-messages", type=int, default=20,
                    help="messages in kerchunk's first (rate-measuring) pass, and the least it is timed on")
    ap.add_argument("--decode-runs", type=int, default=10,
                    help="decodes per packing and tool, best kept (default 10: one decode takes milliseconds)")
    ap.add_argument("--json-out", help="write the results here as JSON")
    args = ap.parse_args()

    gfs = os.path.join(args.corpus, "gfs_like.grib2")
    decode_files = {os.path.basename(p)[: -len(".grib2")]: p
                    for p in glob.glob(os.path.join(args.corpus, "decode", "*.grib2"))}
    if not os.path.exists(gfs) or not os.path.exists(gfs + ".idx") or not decode_files:
        sys.exit(f"bench_grib: the corpus under {args.corpus} is missing (run benches/make_grib_corpus.py)")

    # scan
    warm(gfs)
    total = count_messages(gfs)
    tmp = tempfile.mkdtemp(prefix="chunkref-bench-grib-")
    try:
        scan = [bench_chunkref_scan(args.chunkref, gfs, args.runs, tmp, False),
                bench_chunkref_scan(args.chunkref, gfs, args.runs, tmp, True)]
        for r in scan:
            r["messages"] = total
        scan.append(bench_kerchunk_scan(gfs, total, args.kerchunk_seconds, args.probe_messages,
                                        args.kerchunk_runs))
        for r in scan:
            r["messages_per_s"] = r["messages"] / r["seconds"]
        k = scan[-1]
        for r in scan:
            r["ratio_vs_kerchunk"] = r["messages_per_s"] / k["messages_per_s"]

        print(f"\nGRIB scan: {gfs}: {total} messages, {os.path.getsize(gfs) / 1e6:.1f} MB "
              f"(GFS-like 0.5 degree, 720 x 361, simple packing)")
        print(f"{'tool':<22} {'messages':>8} {'seconds':>9} {'messages/s':>11} {'vs kerchunk':>12}")
        for r in scan:
            label = r["tool"] + (" --grib-idx" if r["grib_idx"] else "")
            note = f"  (subset: first {r['messages']} of {r['of_messages']} messages, skip={r['messages']})" \
                if r.get("subset") else ""
            print(f"{label:<22} {r['messages']:>8} {r['seconds']:>9.4f} {r['messages_per_s']:>11.1f} "
                  f"{r['ratio_vs_kerchunk']:>11.1f}x{note}")
        print(f"  chunkref: best of {args.runs}, wall time of the whole command, one store of "
              f"{scan[0]['variables']} arrays written to {tempfile.gettempdir()} "
              f"(in-process scan time {scan[0]['internal_seconds'] * 1e3:.1f} ms, "
              f"{scan[1]['internal_seconds'] * 1e3:.1f} ms with --grib-idx)")
        print(f"  kerchunk: best of {args.kerchunk_runs}, scan_grib(path{', skip=N' if k['subset'] else ''}) "
              f"+ json.dumps, {k['messages']} per-message stores, not combined, not written")
        for w in scan[0]["warnings"] + [w for w in scan[1]["warnings"] if w not in scan[0]["warnings"]]:
            print(f"  chunkref warning: {w}")

        # decode
        decode, compares = [], []
        names = [n for n in PACKING_ORDER if n in decode_files] + \
            sorted(n for n in decode_files if n not in PACKING_ORDER)
        for name in names:
            warm(decode_files[name])
            rows, cmp_ = bench_decode(args.bench_decode, decode_files[name], args.decode_runs, tmp)
            decode.extend(rows)
            compares.append(cmp_)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    mb = decode[0]["mb"]
    print(f"\nGRIB decode: one message per packing under {args.corpus}/decode, "
          f"{compares[0]['values']:,} values ({mb:.2f} MB as float32); best of {args.decode_runs}")
    print(f"{'packing':<34} {'bits':>4} {'MB file':>7} {'chunkref MB/s':>14} {'ecCodes MB/s':>13} "
          f"{'ratio':>6} {'[ecCodes f32]':>13}  {'checksum chunkref / ecCodes':>34} {'max|diff|':>9} {'differ':>7}")
    for c in compares:
        rows = {r["tool"]: r for r in decode if r["packing"] == c["packing"]}
        cr, e, e32 = rows["chunkref"], rows["ecCodes"], rows.get("ecCodes f32")
        cr["ratio_vs_eccodes"] = cr["mb_per_s"] / e["mb_per_s"]
        f32 = f"{e32['mb_per_s']:>13.0f}" if e32 else f"{'n/a':>13}"
        print(f"{c['packing']:<34} {c['info']['bitsPerValue']:>4} {c['file_bytes'] / 1e6:>7.2f} "
              f"{cr['mb_per_s']:>14.0f} {e['mb_per_s']:>13.0f} {cr['ratio_vs_eccodes']:>5.2f}x "
              f"{f32}  {cr['checksum']:>16.4f} / {e['checksum']:<16.4f} "
              f"{c['max_abs_diff']:>9.2g} {c['n_differ']:>7}")
    print("  chunkref: store scanned, then read_all::<f32>() on 1 thread (range read + grib codec);")
    print("  ecCodes: per run read the file, codes_new_from_message, codes_get_values -> float32, release;")
    print("  [ecCodes f32]: diagnostic, codes_get_values(h, ktype=np.float32) (n/a: ecCodes has no")
    print("  float32 decoder for that packing). checksum: float64 nansum;")
    print("  max|diff| and differ: chunkref's values against ecCodes' float64 values cast to float32.")
    same = all(c["n_differ"] == 0 for c in compares)
    print(f"  values identical for every packing: {'yes' if same else 'NO'}")

    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump({"grib_scan": scan, "grib_decode": decode, "grib_decode_compare": compares,
                       "messages": total, "file": gfs}, fh, indent=1)


if __name__ == "__main__":
    main()
