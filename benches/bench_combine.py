#!/usr/bin/env python3
"""Combine benchmark: `chunkref combine` against kerchunk's MultiZarrToZarr, in the same run.

    python benches/bench_combine.py [--chunkref target/release/chunkref]
                                    [--corpus bench-corpus/combine] [--sizes 100,1000,10000]
                                    [--runs 3] [--kerchunk-budget 3000] [--json-out F]

The corpus is benches/make_combine_corpus.py's (made beforehand): CORPUS/nN/*.json, N daily
ERA5-like stores with time (24 hours, "hours since <that day>"), identical lat/lon and four
data variables of 192 chunk references per store in all.

chunkref: `chunkref combine CORPUS/nN/*.json --concat time --coord time=cf:time --identical
lat,lon -o TMP/chunkref.json` (the sorted file list passed as arguments: it must fit in
ARG_MAX, which is checked), best of --runs by wall time of the whole command (process start,
reading every store, writing the combined store to the system temporary directory).
kerchunk 0.2.10: `MultiZarrToZarr(paths, concat_dims=["time"], coo_map={"time": "cf:time"},
identical_dims=["lat", "lon"], remote_protocol="file").translate()` then json.dump to
TMP/kerchunk.json, in a separate Python process (this script with --kerchunk-child), timed
inside it with imports excluded. coo_map "cf:time" is kerchunk's counterpart of
`--coord time=cf:time`: without it kerchunk concatenates the raw values 0..23 of every day,
which collide. kerchunk is slow and memory-hungry, so: a size is skipped when the previous
size's time, scaled linearly, exceeds --kerchunk-budget seconds (default 3000: skip 10,000
inputs if 1,000 took over 5 minutes), or when its peak memory, scaled the same way, exceeds
--kerchunk-max-mb (default 70% of MemAvailable); a run is killed after --kerchunk-timeout
seconds; repeated runs (best of --runs) only while one takes under --kerchunk-repeat-below
seconds (default 30). The output says what was skipped and why.

Peak memory: the RSS high-water mark (ru_maxrss) of each tool's process, read by GNU time
(/usr/bin/time) when installed (for kerchunk, the Python interpreter with numpy/zarr/fsspec/
kerchunk imported: the RSS after the imports is reported too). Without GNU time it is wait4's
ru_maxrss of the child, which also counts this script's own high-water mark (a child's memory
before exec is a copy of its parent's): the output says which. Inputs are read once beforehand so both see a warm page cache.

Agreement (checked on the last run's outputs): the same keys (besides .zmetadata, which
kerchunk does not write, and the chunk keys of time, which both tools chunk their own way);
the same [url, offset, length] for every chunk key of the data variables (chunkref's url
templates expanded); the same .zarray shape and chunks for every variable; time decoded with
each store's units and calendar (cftime) to the same datetimes, 24 N hourly steps; lat and
lon decoded equal.

refs = chunk references of the data variables in the combined store (192 per input).
"""

import argparse
import base64
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from report import combine_cells  # benches/, beside this script

KERCHUNK_CALL = ('MultiZarrToZarr(paths, concat_dims=["time"], coo_map={"time": "cf:time"}, '
                 'identical_dims=["lat", "lon"], remote_protocol="file").translate()')


# ------------------------------------------------------------------ processes
# GNU time, to read a tool's peak from a small parent: the ru_maxrss wait4 gives for a child of
# this script includes this script's own high-water mark (the child's memory before exec is a
# copy of ours), which inflated small runs by tens of MB.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def run_measured(cmd, timeout=None):
    """Run `cmd`; return (wall seconds, peak RSS MB of the process, returncode, stdout, stderr).
    The peak is the ru_maxrss of that one process, measured by GNU time when installed (else
    by wait4 here, which adds this script's own resident size)."""
    out = tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    peak_file = tempfile.NamedTemporaryFile(suffix=".maxrss", delete=False)
    peak_file.close()
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%M", "-o", peak_file.name, *cmd]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=out, stderr=err)
    killed = False
    if timeout is None:
        _, status, ru = os.wait4(p.pid, 0)
    else:
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - t0 > timeout:
                p.kill()
                _, status, ru = os.wait4(p.pid, 0)
                killed = True
                break
            time.sleep(0.05)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    out.seek(0)
    err.seek(0)
    stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    out.close()
    err.close()
    rc = "timeout" if killed else p.returncode
    peak_kb = ru.ru_maxrss
    if GNU_TIME:
        with open(peak_file.name) as fh:
            lines = fh.read().split()
        peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else peak_kb
    os.unlink(peak_file.name)
    return wall, peak_kb / 1024.0, rc, stdout, stderr


def warm(files):
    for f in files:
        with open(f, "rb") as fh:
            while fh.read(1 << 22):
                pass


def mem_available_mb():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("inf")


def arg_list(exe, files, out):
    """The command line, with a check that it fits ARG_MAX (argv + environment)."""
    cmd = [exe, "combine", *files, "--concat", "time", "--coord", "time=cf:time",
           "--identical", "lat,lon", "-o", out, "--quiet"]
    need = sum(len(os.fsencode(a)) + 1 + 8 for a in cmd) + \
        sum(len(k) + len(v) + 2 + 8 for k, v in os.environ.items())
    limit = os.sysconf("SC_ARG_MAX")
    if need > limit:
        sys.exit(f"bench_combine: {len(files)} inputs need {need} bytes of arguments, over ARG_MAX "
                 f"({limit}): use shorter paths (--corpus) or fewer inputs")
    return cmd, need, limit


# ------------------------------------------------------------------ the two tools
def bench_chunkref(exe, files, runs, tmp):
    out = os.path.join(tmp, "chunkref.json")
    cmd, need, limit = arg_list(exe, files, out)
    best, all_runs = None, []
    for _ in range(runs):
        wall, peak, rc, _, err = run_measured(cmd)
        if rc != 0:
            sys.exit(f"bench_combine: chunkref combine ({len(files)} inputs) failed ({rc}):\n{err[-2000:]}")
        all_runs.append({"seconds": wall, "peak_mb": peak})
        if best is None or wall < best["seconds"]:
            best = {"seconds": wall, "peak_mb": peak}
    best.update(runs=runs, all_runs=all_runs, out=out, out_mb=os.path.getsize(out) / 1e6,
                arg_bytes=need, arg_max=limit)
    return best


def kerchunk_child(list_file, out):
    """Run by the parent in a separate process: imports, then the timed combine + json.dump."""
    import warnings

    from kerchunk.combine import MultiZarrToZarr
    import cftime  # noqa: F401  (what coo_map "cf:" imports on first use)

    def rss_mb():
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    with open(list_file) as fh:
        paths = [line.rstrip("\n") for line in fh if line.strip()]
    after_imports = rss_mb()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        refs = MultiZarrToZarr(paths, concat_dims=["time"], coo_map={"time": "cf:time"},
                               identical_dims=["lat", "lon"], remote_protocol="file").translate()
    t1 = time.perf_counter()
    with open(out, "w") as fh:
        json.dump(refs, fh)
    t2 = time.perf_counter()
    print(json.dumps({"seconds": t2 - t0, "translate_seconds": t1 - t0, "dump_seconds": t2 - t1,
                      "rss_after_imports_mb": after_imports}))


def bench_kerchunk(files, runs, tmp, timeout, repeat_below):
    list_file = os.path.join(tmp, "kerchunk-inputs.txt")
    with open(list_file, "w") as fh:
        fh.write("".join(f + "\n" for f in files))
    out = os.path.join(tmp, "kerchunk.json")
    cmd = [sys.executable, os.path.abspath(__file__), "--kerchunk-child", list_file, out]
    best, all_runs = None, []
    for i in range(runs):
        wall, peak, rc, stdout, err = run_measured(cmd, timeout=timeout)
        if rc == "timeout":
            return {"skipped": f"killed after {timeout:.0f} s (--kerchunk-timeout)", "peak_mb": peak,
                    "seconds_at_least": wall}
        if rc != 0:
            return {"skipped": f"kerchunk failed ({rc}): {err.strip().splitlines()[-1] if err.strip() else '?'}",
                    "peak_mb": peak}
        r = json.loads(stdout.strip().splitlines()[-1])
        r.update(wall_seconds=wall, peak_mb=peak)
        all_runs.append(r)
        if best is None or r["seconds"] < best["seconds"]:
            best = dict(r)
        if r["seconds"] >= repeat_below:
            break
    best.update(runs=len(all_runs), all_runs=all_runs, out=out, out_mb=os.path.getsize(out) / 1e6)
    return best


# ------------------------------------------------------------------ agreement
TEMPLATE = re.compile(r"{{\s*(\w+)\s*}}")
CHUNK_KEY = re.compile(r"^(.*)/(\d+(?:\.\d+)*)$")


def load_refs(path):
    try:
        import ujson as js
    except ImportError:
        js = json
    with open(path, "rb") as fh:
        doc = js.loads(fh.read())
    refs = doc.get("refs", doc)
    templates = doc.get("templates") or {}
    if templates:
        def expand(s):
            return TEMPLATE.sub(lambda m: templates[m.group(1)], s)
        for k, v in refs.items():
            if isinstance(v, list) and v and "{{" in v[0]:
                v[0] = expand(v[0])
    return refs


def meta(refs, key):
    v = refs.get(key)
    return json.loads(v) if isinstance(v, str) else v


def raw_bytes(v):
    if isinstance(v, bytes):
        return v
    if v.startswith("base64:"):
        return base64.b64decode(v[len("base64:"):])
    return v.encode("latin-1")  # kerchunk writes ascii-only bytes as a plain string


def decode_array(refs, var):
    """The whole 1-D array `var` from inline chunks (compressor and filters applied)."""
    import numcodecs
    za = meta(refs, f"{var}/.zarray")
    n, c = za["shape"][0], za["chunks"][0]
    parts = []
    for i in range(-(-n // c)):
        v = refs[f"{var}/{i}"]
        if isinstance(v, list):
            raise ValueError(f"{var}/{i} is a reference, not inline")
        b = raw_bytes(v)
        if za.get("compressor"):
            b = numcodecs.get_codec(za["compressor"]).decode(b)
        for f in reversed(za.get("filters") or []):
            b = numcodecs.get_codec(f).decode(b)
        parts.append(np.frombuffer(bytes(b), dtype=za["dtype"])[:c])
    return np.concatenate(parts)[:n]


def decode_time(refs):
    import cftime
    at = meta(refs, "time/.zattrs")
    raw = decode_array(refs, "time")
    dates = cftime.num2date(raw, units=at["units"], calendar=at.get("calendar", "standard"),
                            only_use_cftime_datetimes=False, only_use_python_datetimes=True)
    return np.array(dates, dtype="datetime64[s]"), str(raw.dtype), at["units"]


def compare(chunkref_out, kerchunk_out, n_inputs):
    ours, theirs = load_refs(chunkref_out), load_refs(kerchunk_out)
    report = {}
    coords = {"time", "lat", "lon"}
    variables = sorted({k.split("/", 1)[0] for k in ours if "/" in k} |
                       {k.split("/", 1)[0] for k in theirs if "/" in k})
    data_vars = [v for v in variables if v not in coords]

    def keys(refs):
        return {k for k in refs if k != ".zmetadata" and not (k.startswith("time/") and CHUNK_KEY.match(k))}
    ko, kt = keys(ours), keys(theirs)
    report["keys_same"] = ko == kt
    report["keys_only_chunkref"] = sorted(ko - kt)[:5]
    report["keys_only_kerchunk"] = sorted(kt - ko)[:5]

    n_chunks, n_differ, first = 0, 0, []
    dv = set(data_vars)
    for k in ours.keys() | theirs.keys():
        m = CHUNK_KEY.match(k)
        if m and m.group(1) in dv:
            n_chunks += 1
            a, b = ours.get(k), theirs.get(k)
            if a is None or b is None or list(a) != list(b):
                n_differ += 1
                if len(first) < 3:
                    first.append({"key": k, "chunkref": a, "kerchunk": b})
    report["data_chunk_keys"] = n_chunks
    report["data_refs_differ"] = n_differ
    report["data_refs_first_differences"] = first
    report["data_refs_same"] = n_differ == 0 and n_chunks > 0

    shapes = {}
    for v in variables:
        zo, zt = meta(ours, f"{v}/.zarray"), meta(theirs, f"{v}/.zarray")
        same = zo is not None and zt is not None and zo["shape"] == zt["shape"] and \
            (v == "time" or zo["chunks"] == zt["chunks"])
        shapes[v] = {"same": same, "chunkref": zo and zo["shape"], "kerchunk": zt and zt["shape"]}
    report["shapes_same"] = all(s["same"] for s in shapes.values())
    report["shapes"] = {v: s["chunkref"] for v, s in shapes.items()}

    to, dto, uo = decode_time(ours)
    tt, dtt, ut = decode_time(theirs)
    expect = np.datetime64("1990-01-01T00:00:00") + np.arange(24 * n_inputs).astype("timedelta64[h]")
    report["time_same"] = to.shape == tt.shape and bool(np.all(to == tt))
    report["time_as_expected"] = to.shape == expect.shape and bool(np.all(to == expect))
    report["time_encoding"] = {"chunkref": f"{dto}, {uo}", "kerchunk": f"{dtt}, {ut}"}
    report["lat_lon_same"] = all(np.array_equal(decode_array(ours, c), decode_array(theirs, c))
                                 for c in ("lat", "lon"))
    report["agree"] = (report["keys_same"] and report["data_refs_same"] and report["shapes_same"]
                       and report["time_same"] and report["time_as_expected"] and report["lat_lon_same"])
    return report, sum(1 for k in ours if CHUNK_KEY.match(k) and k.split("/", 1)[0] in data_vars)


# ------------------------------------------------------------------ main
def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--kerchunk-child":
        kerchunk_child(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunkref", default="target/release/chunkref")
    ap.add_argument("--corpus", default="bench-corpus/combine")
    ap.add_argument("--sizes", default="100,1000,10000", help="numbers of inputs (default 100,1000,10000)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and size, best kept (default 3)")
    ap.add_argument("--kerchunk-budget", type=float, default=3000.0,
                    help="skip kerchunk at a size when the previous size's time, scaled linearly, "
                         "is over this many seconds (default 3000)")
    ap.add_argument("--kerchunk-max-mb", type=float, default=0.7 * mem_available_mb(),
                    help="skip kerchunk at a size when its peak memory, scaled linearly from the "
                         "previous size, is over this (default 70%% of MemAvailable)")
    ap.add_argument("--kerchunk-timeout", type=float, default=7200.0,
                    help="kill a kerchunk run after this many seconds (default 7200)")
    ap.add_argument("--kerchunk-repeat-below", type=float, default=30.0,
                    help="repeat kerchunk runs (up to --runs) only while one takes under this (default 30)")
    ap.add_argument("--no-kerchunk", action="store_true", help="time chunkref only")
    ap.add_argument("--json-out", help="write the results here as JSON")
    args = ap.parse_args()

    sizes = [int(s) for s in args.sizes.split(",") if s]
    inputs = {}
    for n in sizes:
        files = sorted(glob.glob(os.path.join(args.corpus, f"n{n}", "*.json")))
        if len(files) != n:
            sys.exit(f"bench_combine: {args.corpus}/n{n} has {len(files)} stores, not {n} "
                     f"(run benches/make_combine_corpus.py --sizes {args.sizes})")
        inputs[n] = files

    results = []
    prev_k = None  # (inputs, kerchunk row) of the last size kerchunk ran at
    tmp = tempfile.mkdtemp(prefix="chunkref-bench-combine-")
    try:
        for n in sizes:
            files = inputs[n]
            warm(files)
            in_mb = sum(os.path.getsize(f) for f in files) / 1e6
            print(f"bench_combine: {n} inputs ({in_mb:.0f} MB of JSON): chunkref ...", file=sys.stderr, flush=True)
            c = bench_chunkref(args.chunkref, files, args.runs, tmp)
            row = {"inputs": n, "input_mb": in_mb, "chunkref": c}
            k = None
            if args.no_kerchunk:
                k = {"skipped": "--no-kerchunk"}
            elif prev_k is not None:
                m, pk = prev_k
                t_pred = pk["seconds"] * n / m
                base = pk.get("rss_after_imports_mb", 0.0)
                mb_pred = base + (pk["peak_mb"] - base) * n / m
                if t_pred > args.kerchunk_budget:
                    k = {"skipped": f"over the time budget: {m} inputs took {pk['seconds']:.0f} s, so {n} "
                                    f"would take at least ~{t_pred:.0f} s (--kerchunk-budget "
                                    f"{args.kerchunk_budget:.0f})", "predicted_seconds": t_pred}
                elif mb_pred > args.kerchunk_max_mb:
                    k = {"skipped": f"over the memory budget: {m} inputs peaked at {pk['peak_mb']:.0f} MB, "
                                    f"so {n} would need ~{mb_pred:.0f} MB (--kerchunk-max-mb "
                                    f"{args.kerchunk_max_mb:.0f})", "predicted_mb": mb_pred}
            if k is None:
                print(f"bench_combine: {n} inputs: kerchunk ...", file=sys.stderr, flush=True)
                k = bench_kerchunk(files, args.runs, tmp, args.kerchunk_timeout, args.kerchunk_repeat_below)
                if "skipped" not in k:
                    prev_k = (n, k)
            row["kerchunk"] = k
            if "skipped" not in k:
                row["agreement"], row["refs"] = compare(c["out"], k["out"], n)
                row["speed_ratio"] = k["seconds"] / c["seconds"]
                row["memory_ratio"] = k["peak_mb"] / c["peak_mb"]
                os.remove(k["out"])
            else:
                row["refs"] = sum(1 for key, v in load_refs(c["out"]).items()
                                  if isinstance(v, list) and not key.startswith(("time/", "lat/", "lon/")))
            os.remove(c["out"])
            results.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\ncombine: daily ERA5-like stores (4 variables, 192 chunk refs each), along time "
          f"(cf:time), lat/lon identical")
    print(f"{'inputs':>7} {'refs':>10} {'chunkref s':>11} {'chunkref MB':>12} {'kerchunk s':>11} "
          f"{'kerchunk MB':>12} {'speed':>8} {'memory':>7}  agree")
    for r in results:
        c = r["chunkref"]
        ks, km, sr, mr, ag = combine_cells(r)
        print(f"{r['inputs']:>7} {r['refs']:>10,} {c['seconds']:>11.3f} {c['peak_mb']:>12.0f} {ks:>11} "
              f"{km:>12} {sr:>8} {mr:>7}  {ag}")
    for r in results:
        k = r["kerchunk"]
        if "skipped" in k:
            print(f"  kerchunk at {r['inputs']} inputs not run: {k['skipped']}")
        elif not r["agreement"]["agree"]:
            print(f"  {r['inputs']} inputs: outputs DIFFER: {json.dumps(r['agreement'])[:1500]}")
    ran = [r for r in results if "skipped" not in r["kerchunk"]]
    print(f"  chunkref: best of {args.runs}, wall time of the whole command, combined store written to "
          f"{tempfile.gettempdir()}; peak MB: RSS high-water mark of the process, "
          + ("by GNU time" if GNU_TIME else "by wait4 (no /usr/bin/time: includes this script's own peak)"))
    if ran:
        runs = sorted({r["kerchunk"]["runs"] for r in ran})
        base = max(r["kerchunk"]["rss_after_imports_mb"] for r in ran)
        print(f"  kerchunk: {KERCHUNK_CALL} + json.dump to a file, in its own Python process, imports "
              f"excluded from the time (best of {'/'.join(map(str, runs))}); its peak includes "
              f"~{base:.0f} MB of interpreter and imports")
        print("  agree: same keys (besides .zmetadata and time's chunks), same [url, offset, length] for "
              "every data chunk, same shapes/chunks, time decoded to the same datetimes, lat/lon equal")
    if args.json_out:
        for r in results:
            r["chunkref"].pop("out", None)
            r["kerchunk"].pop("out", None)
        with open(args.json_out, "w") as fh:
            json.dump({"combine": results, "kerchunk_call": KERCHUNK_CALL, "runs": args.runs}, fh, indent=1)


if __name__ == "__main__":
    main()
