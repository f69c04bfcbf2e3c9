#!/usr/bin/env python3
"""Print the final benchmark table from bench_scan.py's and bench_read.py's JSON results.

    python benches/report.py SCAN.json READ.json [GRIB.json] [COMBINE.json]

GRIB.json (bench_grib.py's) adds the GRIB rows: scan messages/s against kerchunk's scan_grib
and decode MB/s per packing against ecCodes (no floor). COMBINE.json (bench_combine.py's) adds
the combine rows: seconds and peak MB of `chunkref combine` and kerchunk's MultiZarrToZarr per
number of inputs. The optional files are told apart by their contents, in any order.

Also checks the performance floors: scan >= 20x kerchunk,
read >= 1x netCDF4 on 1 core and faster on 2; combine of the largest size under 2 GB and
10 s, >= 100x faster than MultiZarrToZarr and >= 10x less peak memory (at the largest size
kerchunk ran).
"""

import json
import os
import platform
import sys


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
            mem = f"{kb / 1e6:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/loadavg") as fh:
            load = " ".join(fh.read().split()[:3])
    except OSError:
        load = "?"
    return (f"nproc {os.cpu_count()}, CPU {model}, RAM {mem}, {platform.system()} {platform.release()}; "
            f"load average at the end {load} (other work on the machine skews the figures)")


def grib_rows(doc, w):
    scan = doc["grib_scan"]
    k = next(r for r in scan if r["tool"] == "kerchunk")
    print("-" * w)
    sub = (f" (kerchunk timed on the first {k['messages']} of {k['of_messages']})"
           if k.get("subset") else "")
    print(f"GRIB SCAN  {doc['messages']} messages, GFS-like 0.5-degree GRIB2{sub}")
    print(f"  {'tool':<24} {'seconds':>8} {'messages/s':>12} {'vs kerchunk':>12}")
    for r in scan:
        label = "kerchunk scan_grib" if r["tool"] == "kerchunk" else \
            "chunkref --grib-idx" if r["grib_idx"] else "chunkref"
        print(f"  {label:<24} {r['seconds']:>8.3f} {r['messages_per_s']:>12.1f} "
              f"{r['messages_per_s'] / k['messages_per_s']:>11.0f}x")
    dec = [r for r in doc["grib_decode"] if not r.get("diagnostic")]
    if dec:
        print(f"GRIB DECODE  one {dec[0]['mb']:.1f} MB (float32) message per packing, "
              f"best of {dec[0]['runs']}, 1 thread")
        print(f"  {'packing':<34} {'chunkref MB/s':>13} {'ecCodes MB/s':>13} {'ratio':>7}")
        same = {c["packing"]: c["n_differ"] == 0 for c in doc["grib_decode_compare"]}
        for c in doc["grib_decode_compare"]:
            rows = {r["tool"]: r for r in dec if r["packing"] == c["packing"]}
            cr, e = rows["chunkref"], rows["ecCodes"]
            print(f"  {c['packing']:<34} {cr['mb_per_s']:>13.0f} {e['mb_per_s']:>13.0f} "
                  f"{cr['mb_per_s'] / e['mb_per_s']:>6.2f}x")
        print(f"  values identical to ecCodes (float64 cast to float32): "
              f"{'yes' if all(same.values()) else 'NO: ' + ', '.join(p for p, ok in same.items() if not ok)}")


COMBINE_MAX_MB = 2000.0
COMBINE_MAX_SECONDS = 10.0
COMBINE_FLOOR_INPUTS = 10000


def combine_cells(r):
    """The kerchunk columns of a combine result row (bench_combine.py's): seconds, peak MB,
    speed and memory ratios, agreement; dashes where kerchunk was not run."""
    k = r["kerchunk"]
    if "skipped" in k:
        return "-", "-", "-", "-", "-"
    return (f"{k['seconds']:.2f}", f"{k['peak_mb']:.0f}", f"{r['speed_ratio']:.0f}x",
            f"{r['memory_ratio']:.1f}x", "yes" if r["agreement"]["agree"] else "NO")


def combine_rows(doc, w):
    rows = doc["combine"]
    print("-" * w)
    print("COMBINE  daily ERA5-like stores along time (cf:time), 192 chunk refs each; peak = RSS HWM")
    print(f"  {'inputs':>7} {'refs':>10} {'chunkref s':>10} {'MB':>6} {'kerchunk s':>10} {'MB':>6} "
          f"{'speed':>6} {'memory':>6} {'agree':>5}")
    for r in rows:
        c = r["chunkref"]
        ks, km, sr, mr, ag = combine_cells(r)
        print(f"  {r['inputs']:>7} {r['refs']:>10,} {c['seconds']:>10.2f} {c['peak_mb']:>6.0f} {ks:>10} "
              f"{km:>6} {sr:>6} {mr:>6} {ag:>5}")
    for r in rows:
        if "skipped" in r["kerchunk"]:
            print(f"  kerchunk at {r['inputs']} inputs not run: {r['kerchunk']['skipped']}")


def combine_checks(doc):
    rows = doc["combine"]
    big = max(rows, key=lambda r: r["inputs"])
    ran = [r for r in rows if "skipped" not in r["kerchunk"]]
    checks = []
    if big["inputs"] >= COMBINE_FLOOR_INPUTS:  # the absolute targets are for 10,000 inputs
        checks += [(f"combine {big['inputs']} inputs ({big['refs']:,} refs) under {COMBINE_MAX_MB:.0f} MB "
                    f"(peak {big['chunkref']['peak_mb']:.0f} MB; ratio = limit / peak)",
                    COMBINE_MAX_MB / big["chunkref"]["peak_mb"], 1.0),
                   (f"combine {big['inputs']} inputs in under {COMBINE_MAX_SECONDS:.0f} s "
                    f"({big['chunkref']['seconds']:.1f} s; ratio = limit / time)",
                    COMBINE_MAX_SECONDS / big["chunkref"]["seconds"], 1.0)]
    if ran:
        k = max(ran, key=lambda r: r["inputs"])
        checks.append((f"combine >= 100x faster than MultiZarrToZarr ({k['inputs']} inputs)",
                       k["speed_ratio"], 100.0))
        checks.append((f"combine >= 10x less memory than MultiZarrToZarr ({k['inputs']} inputs)",
                       k["memory_ratio"], 10.0))
        if not all(r["agreement"]["agree"] for r in ran):
            checks.append(("combine output agrees with MultiZarrToZarr's", 0.0, 1.0))
    return checks


def main():
    scan = json.load(open(sys.argv[1]))["scan"]
    read_doc = json.load(open(sys.argv[2]))
    read = read_doc["read"]

    def pick(rows, tool, key, n, **kw):
        return next((r for r in rows if r["tool"] == tool and r[key] == n
                     and all(r.get(k) == v for k, v in kw.items())), None)

    k1 = pick(scan, "kerchunk", "procs", 1)
    k2 = next((r for r in scan if r["tool"] == "kerchunk" and r["procs"] > 1), None)
    c1 = pick(scan, "chunkref", "procs", 1, stores_on="disk")
    c2 = pick(scan, "chunkref", "procs", 2, stores_on="disk")
    m1 = pick(scan, "chunkref", "procs", 1, stores_on="tmpfs")
    m2 = pick(scan, "chunkref", "procs", 2, stores_on="tmpfs")
    d1 = pick(read, "chunkref*", "threads", 1)
    d2 = pick(read, "chunkref*", "threads", 2)
    nc = pick(read, "netCDF4", "threads", 1)
    r1 = pick(read, "chunkref", "threads", 1)
    r2 = pick(read, "chunkref", "threads", 2)

    w = 74
    print("=" * w)
    print("chunkref benchmark summary")
    print(f"machine: {machine()}")
    print("=" * w)
    sub = f" (kerchunk timed on {k1['files']} of {k1['of_files']} files)" if k1.get("subset") else ""
    print(f"SCAN  {scan[0]['files']} ERA5-like NetCDF4 files, 64 compressed chunks each, inline 500{sub}")
    print(f"  {'tool':<24} {'files/s':>8} {'refs/s':>12} {'vs kerchunk 1 proc':>20}")
    for label, r in [("chunkref -j 1", c1), ("chunkref -j 2", c2), ("kerchunk 1 process", k1),
                     (f"kerchunk {k2['procs']} processes" if k2 else "", k2),
                     ("[diag] -j 1, tmpfs out", m1), ("[diag] -j 2, tmpfs out", m2)]:
        if r:
            print(f"  {label:<24} {r['files_per_s']:>8.1f} {r['refs_per_s']:>12.0f} "
                  f"{r['files_per_s'] / k1['files_per_s']:>19.1f}x")
    if c2 and k2:
        print(f"  chunkref -j 2 vs kerchunk {k2['procs']} processes: "
              f"{c2['files_per_s'] / k2['files_per_s']:.1f}x")
    print("-" * w)
    print(f"READ  whole compressed variable, {nc['mb']:.1f} MB decoded, best of {nc['runs']}")
    print(f"  {'tool':<26} {'seconds':>8} {'MB/s':>8} {'vs netCDF4':>11} {'cpu/real':>9}")
    for label, r in [("chunkref 1 thread", r1), ("chunkref 2 threads", r2), ("netCDF4-python", nc),
                     ("[diag] 1 thread, no trim", d1), ("[diag] 2 threads, no trim", d2)]:
        if r:
            cpu = f"{r['cpu_per_real']:.2f}" if "cpu_per_real" in r else "-"
            print(f"  {label:<26} {r['seconds']:>8.3f} {r['mb_per_s']:>8.0f} "
                  f"{r['mb_per_s'] / nc['mb_per_s']:>10.2f}x {cpu:>9}")
    print(f"  checksums (f64 sum): chunkref {r1['checksum'] if r1 else float('nan'):.6f}, "
          f"netCDF4 {nc['checksum']:.6f}; bit-exact: {'yes' if read_doc['values_identical'] else 'NO'}")
    if m1 or d1:
        print("  [diag] rows: scan with the stores written to tmpfs instead of disk; read with glibc")
        print("  malloc set never to return memory to the kernel (GLIBC_TUNABLES). Not headline figures.")
    extra = [json.load(open(p)) for p in sys.argv[3:]]
    grib = next((d for d in extra if "grib_scan" in d), None)
    comb = next((d for d in extra if "combine" in d), None)
    if grib:
        grib_rows(grib, w)
    if comb:
        combine_rows(comb, w)
    print("-" * w)
    print("FLOORS (the performance targets)")
    checks = []
    if c2:
        checks.append(("scan >= 20x kerchunk (chunkref -j 2 vs kerchunk 1 process)",
                       c2["files_per_s"] / k1["files_per_s"], 20.0))
    if r1:
        checks.append(("read >= 1x netCDF4 on 1 core", r1["mb_per_s"] / nc["mb_per_s"], 1.0))
    if r2:
        checks.append(("read faster than netCDF4 on 2 cores", r2["mb_per_s"] / nc["mb_per_s"], 1.0))
    if comb:
        checks.extend(combine_checks(comb))
    for text, ratio, floor in checks:
        ok = ratio > floor if "faster" in text else ratio >= floor
        print(f"  {'ok  ' if ok else 'MISS'}  {text}: {ratio:.2f}x")
    print("=" * w)


if __name__ == "__main__":
    main()
