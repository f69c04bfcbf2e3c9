#!/usr/bin/env python3
"""Generate the GRIB benchmark corpus (deterministic, seeded; existing files are kept).

    python benches/make_grib_corpus.py [--out bench-corpus/grib] [--steps 0,3,6]

Makes
  OUT/gfs_like.grib2      a GFS-like 0.5-degree global GRIB2 file (720 x 361 = 259,920 points
                          a field, rows north to south, longitudes 0..359.5): for each step
                          (default 0, 3, 6 h) 6 pressure-level parameters (gh, t, u, v, r, w) on
                          the 25 levels of GFS's 0p50 product (1000..20 hPa) and 5 surface
                          fields (2t, 10u, 10v at heights above ground, msl, sp): 3 x 155 = 465
                          messages, simple packing (16 bits for gh/t/u/v/msl/sp/2t/10u/10v,
                          12 bits for r and w), about 240 MB;
  OUT/gfs_like.grib2.idx  its wgrib2-style inventory (`n:offset:d=YYYYMMDDHH:VAR:LEVEL:FORECAST:`,
                          as NOAA publishes next to GFS files), written from ecCodes' offsets;
  OUT/decode/<packing>.grib2
                          one message each of a 0.25-degree 2 m temperature field (1440 x 721 =
                          1,038,240 points) in grid_simple, grid_complex,
                          grid_complex_spatial_differencing (order 2), grid_jpeg, grid_png,
                          grid_ccsds and grid_ieee (32-bit), for the decode benchmark.

Messages are encoded by the venv's ecCodes from its samples with fixtures/make_grib_fixtures.py's
`encode` (grid keys, product keys, values, packingType, bitsPerValue, values again). Fields are
smooth analytic patterns (latitude profiles, planetary waves, a fixed "relief" of a few
harmonics, jets) plus a little seeded noise, so the packings see data about as compressible as
model output. Re-running with the same ecCodes gives the same bytes; a file that exists is
skipped. Files are written under a temporary name and renamed.
"""

import argparse
import os
import sys
import time

import eccodes as ec
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures"))
from make_grib_fixtures import encode, regular_ll  # noqa: E402

DATE = [("dataDate", 20240101), ("dataTime", 0)]
# GFS 0p50 pressure levels (hPa)
LEVELS = [1000, 975, 950, 925, 900, 850, 800, 750, 700, 650, 600, 550, 500, 450, 400,
          350, 300, 250, 200, 150, 100, 70, 50, 30, 20]
# shortName -> (wgrib2 name, bits per value)
PL_PARAMS = {"gh": ("HGT", 16), "t": ("TMP", 16), "u": ("UGRD", 16), "v": ("VGRD", 16),
             "r": ("RH", 12), "w": ("VVEL", 12)}
# shortName -> (typeOfLevel, level, wgrib2 name, wgrib2 level text, bits per value)
SFC_PARAMS = {
    "2t": ("heightAboveGround", 2, "TMP", "2 m above ground", 16),
    "10u": ("heightAboveGround", 10, "UGRD", "10 m above ground", 16),
    "10v": ("heightAboveGround", 10, "VGRD", "10 m above ground", 16),
    "msl": ("meanSea", None, "PRMSL", "mean sea level", 16),
    "sp": ("surface", None, "PRES", "surface", 16),
}
# decode benchmark: file name -> (packingType, keys set after packingType, keys set after the values)
DECODE_PACKINGS = {
    "grid_simple": ("grid_simple", [], []),
    "grid_complex": ("grid_complex", [], []),
    "grid_complex_spatial_differencing": ("grid_complex_spatial_differencing",
                                          [("orderOfSpatialDifferencing", 2)], []),
    # as NCEP writes JPEG 2000: decimal scaling (D = 2), as many bits as that needs
    "grid_jpeg": ("grid_jpeg", [], [("changeDecimalPrecision", 2)]),
    "grid_png": ("grid_png", [("decimalScaleFactor", 1)], []),
    "grid_ccsds": ("grid_ccsds", [], []),
    "grid_ieee": ("grid_ieee", [("precision", 1)], []),
}


def relief(rng, la, lo, n=6):
    """A fixed smooth 'continents and mountains' pattern of a few spherical-ish harmonics."""
    out = np.zeros(np.broadcast(la, lo).shape)
    c = rng.normal(0.0, 1.0, size=(n, n, 2))
    for k in range(1, n + 1):
        for m in range(1, n + 1):
            a, b = c[k - 1, m - 1]
            out += (a * np.cos(m * lo) + b * np.sin(m * lo)) * np.cos(k * la) / (k * m)
    return out


def gfs_field(kind, la, lo, rel, rng, step=0, level=1000):
    """A float64 field of the given kind; la/lo in radians (2-D), rel a fixed relief pattern."""
    ph = step / 24.0 * 2.0 * np.pi
    p = level / 1000.0
    noise = rng.standard_normal(la.shape)
    wave = np.cos(la) * np.cos(4 * lo - ph + 2.0 * p) + 0.5 * np.cos(la) ** 2 * np.sin(7 * lo + ph)
    if kind == "t":
        f = 288.0 * p ** 0.19 - 8.0 + 30.0 * np.cos(la) ** 2 * p ** 0.5 + 4.0 * wave + 2.0 * rel * p
        f += 0.1 * noise
    elif kind == "gh":  # geopotential height (gpm), roughly the standard atmosphere
        f = 44330.8 * (1.0 - p ** 0.190263) + 120.0 * np.cos(la) ** 2 + 80.0 * wave * (1.2 - p)
        f += 0.5 * noise
    elif kind in ("u", "v"):
        jet = 6.0 + 40.0 * np.exp(-(((level - 250.0) / 200.0) ** 2))
        deg = np.rad2deg(la)
        zonal = jet * (np.exp(-(((deg - 40.0) / 12.0) ** 2)) + np.exp(-(((deg + 45.0) / 12.0) ** 2)))
        if kind == "u":
            f = zonal - 4.0 * np.cos(la) ** 8 + 6.0 * np.sin(2 * la) * np.sin(3 * lo - ph)
        else:
            f = 8.0 * np.cos(la) * np.cos(3 * lo - ph + 1.0) + 3.0 * rel
        f += 0.3 * noise
    elif kind == "r":  # relative humidity (%)
        f = 60.0 + 30.0 * np.cos(3 * la) * np.sin(2 * lo + ph) * p + 10.0 * rel + 3.0 * noise
        f = np.clip(f, 0.0, 100.0)
    elif kind == "w":  # vertical velocity (Pa/s)
        f = 0.3 * np.sin(5 * lo - ph) * np.cos(2 * la) * p + 0.05 * rel + 0.02 * noise
    elif kind == "2t":
        f = 245.0 + 55.0 * np.cos(la) ** 2 + 6.0 * np.cos(la) * np.cos(lo - ph) + 4.0 * rel
        f += 0.1 * noise
    elif kind == "10u":
        f = -6.0 * np.cos(2 * la) + 2.0 * np.sin(lo - ph) * np.cos(la) + rel + 0.3 * noise
    elif kind == "10v":
        f = 4.0 * np.sin(2 * lo - ph) * np.cos(la) ** 2 + rel + 0.3 * noise
    elif kind == "msl":
        f = 101325.0 + 1500.0 * np.sin(2 * la) * np.cos(2 * lo - ph) - 800.0 * np.cos(4 * la) + 10.0 * noise
    elif kind == "sp":
        f = 101325.0 - 9000.0 * np.maximum(rel, 0.0) + 1200.0 * np.sin(2 * la) * np.cos(2 * lo - ph)
        f += 10.0 * noise
    else:
        raise ValueError(kind)
    return f


def _write(path, messages):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        for m in messages:
            f.write(m)
    os.replace(tmp, path)


def forecast_text(step):
    return "anl" if step == 0 else f"{step} hour fcst"


def make_gfs(path, steps):
    grid = regular_ll(90.0, -90.0, 0.0, 359.5, 0.5)  # 720 x 361
    la, lo = np.deg2rad(grid.lat2), np.deg2rad(grid.lon2)
    rel = relief(np.random.default_rng(7), la, lo)
    rng = np.random.default_rng(20240101)
    msgs, idx = [], []
    offset = 0
    date = "%08d%02d" % (DATE[0][1], DATE[1][1] // 100)
    for step in steps:
        for name, (wname, bits) in PL_PARAMS.items():
            for level in LEVELS:
                vals = gfs_field(name, la, lo, rel, rng, step=step, level=level)
                keys = DATE + [("shortName", name), ("typeOfLevel", "isobaricInhPa"), ("level", level),
                               ("step", step)]
                m = encode("regular_ll_pl_grib2", grid, keys, vals, bits=bits)
                idx.append(f"{len(msgs) + 1}:{offset}:d={date}:{wname}:{level} mb:{forecast_text(step)}:\n")
                msgs.append(m)
                offset += len(m)
        for name, (tol, level, wname, wlevel, bits) in SFC_PARAMS.items():
            vals = gfs_field(name, la, lo, rel, rng, step=step)
            keys = DATE + [("shortName", name), ("typeOfLevel", tol)]
            if level is not None:
                keys.append(("level", level))
            keys.append(("step", step))
            m = encode("regular_ll_sfc_grib2", grid, keys, vals, bits=bits)
            idx.append(f"{len(msgs) + 1}:{offset}:d={date}:{wname}:{wlevel}:{forecast_text(step)}:\n")
            msgs.append(m)
            offset += len(m)
    _write(path, msgs)
    check_offsets(path, idx)
    tmp = f"{path}.idx.tmp{os.getpid()}"
    with open(tmp, "w", encoding="ascii", newline="\n") as f:
        f.writelines(idx)
    os.replace(tmp, path + ".idx")
    return len(msgs)


def check_offsets(path, idx):
    """The index offsets are ecCodes' own message offsets, and the keys read back as set."""
    offsets = [int(line.split(":")[1]) for line in idx]
    got = []
    with open(path, "rb") as f:
        while True:
            h = ec.codes_grib_new_from_file(f)
            if h is None:
                break
            try:
                got.append(ec.codes_get_long(h, "offset"))
            finally:
                ec.codes_release(h)
    assert got == offsets, "index offsets differ from ecCodes'"


def make_decode(out):
    grid = regular_ll(90.0, -90.0, 0.0, 359.75, 0.25)  # 1440 x 721
    la, lo = np.deg2rad(grid.lat2), np.deg2rad(grid.lon2)
    rel = relief(np.random.default_rng(25), la, lo, n=10)
    vals = gfs_field("2t", la, lo, rel, np.random.default_rng(2500), step=0)
    made = []
    for name, (packing, pkeys, after) in DECODE_PACKINGS.items():
        path = os.path.join(out, f"{name}.grib2")
        if os.path.exists(path):
            continue
        m = encode("regular_ll_sfc_grib2", grid, DATE + [("shortName", "2t"), ("step", 0)], vals,
                   packing=packing, packing_keys=pkeys, after=after)
        h = ec.codes_new_from_message(m)
        try:
            assert ec.codes_get(h, "packingType") == packing, (name, ec.codes_get(h, "packingType"))
            got = ec.codes_get_values(h)
        finally:
            ec.codes_release(h)
        err = float(np.abs(got - vals.ravel()).max())
        assert err < 0.06, (name, err)
        _write(path, [m])
        made.append(name)
    return made


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench-corpus/grib")
    ap.add_argument("--steps", default="0,3,6", help="forecast steps (hours) of the GFS-like file")
    args = ap.parse_args()
    os.makedirs(os.path.join(args.out, "decode"), exist_ok=True)
    t0 = time.perf_counter()
    gfs = os.path.join(args.out, "gfs_like.grib2")
    if not (os.path.exists(gfs) and os.path.exists(gfs + ".idx")):
        n = make_gfs(gfs, [int(s) for s in args.steps.split(",")])
        print(f"make_grib_corpus: {gfs}: {n} messages, {os.path.getsize(gfs) / 1e6:.1f} MB "
              f"(+ .idx) in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    t1 = time.perf_counter()
    made = make_decode(os.path.join(args.out, "decode"))
    if made:
        print(f"make_grib_corpus: {len(made)} decode files under {args.out}/decode in "
              f"{time.perf_counter() - t1:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
