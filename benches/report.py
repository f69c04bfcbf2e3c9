#!/usr/bin/env python3
"""Print the final benchmark table from bench_scan.py's and bench_read.py's JSON results.

    python benches/report.py SCAN.json READ.json [GRIB.json]

GRIB.json (bench_grib.py's) adds the GRIB rows: scan messages/s against kerchunk's scan_grib
and decode MB/s per packing against ecCodes (no floor).

Also checks the performance floors: scan >= 20x kerchunk,
read >= 1x netCDF4 on 1 core and faster on 2.
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
    if len(sys.argv) > 3:
        grib_rows(json.load(open(sys.argv[3])), w)
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
    for text, ratio, floor in checks:
        ok = ratio > floor if "faster" in text else ratio >= floor
        print(f"  {'ok  ' if ok else 'MISS'}  {text}: {ratio:.2f}x")
    print("=" * w)


if __name__ == "__main__":
    main()
