#!/usr/bin/env python3
"""Generate the benchmark corpus (deterministic, seeded; existing files are kept).

    python benches/make_corpus.py [N_FILES] [--out bench-corpus] [--no-big]

Makes
  OUT/era5/era5_t2m_NNNN.nc  N_FILES (default 300) ERA5-like NetCDF4 files: coordinates
                             time(24) lat(91) lon(180) and one float32 variable
                             t2m(time, lat, lon), zlib level 4 + shuffle, chunks (6, 23, 45),
                             so 4 x 4 x 4 = 64 chunks per file.
  OUT/read/big.nc            one larger file for the read benchmark: t2m(96, 361, 720) float32
                             (99.8 MB decoded), zlib 4 + shuffle, chunks (8, 91, 180): 192 chunks.

Fields are smooth (a latitude profile, land/sea-like pattern, a travelling weather wave and a
diurnal cycle) plus a little noise, so zlib sees data that compresses about as real 2 m
temperature stored as float32 does. A file that already exists is skipped, so reruns are fast;
files are written under a temporary name and renamed, so an interrupted run leaves no
half-written file behind.
"""

import argparse
import os
import sys
import time

import netCDF4
import numpy as np

SMALL_SHAPE = (24, 91, 180)
SMALL_CHUNKS = (6, 23, 45)
BIG_SHAPE = (96, 361, 720)
BIG_CHUNKS = (8, 91, 180)
SEED = 20200101


def field(rng, nt, lat, lon, t0_hours):
    """A float32 (nt, nlat, nlon) 2 m temperature-like field in kelvin."""
    la = np.deg2rad(lat)[:, None]
    lo = np.deg2rad(lon)[None, :]
    # Climatology: warm tropics, cold poles; a fixed "continent" pattern from a few harmonics.
    base = 288.0 - 40.0 * np.sin(la) ** 2 - 10.0 * np.sin(la) ** 4
    coeffs = rng.normal(0.0, 1.0, size=(4, 4, 2))
    relief = np.zeros((lat.size, lon.size))
    for k in range(1, 5):
        for m in range(1, 5):
            a, b = coeffs[k - 1, m - 1]
            relief += (a * np.cos(m * lo) + b * np.sin(m * lo)) * np.cos(k * la) / (k * m)
    base = base + 4.0 * relief
    out = np.empty((nt, lat.size, lon.size), dtype=np.float32)
    phase = rng.uniform(0, 2 * np.pi, size=3)
    noise_scale = np.float32(0.05)
    for i in range(nt):
        h = t0_hours + i
        # Diurnal cycle following local solar time, stronger over the tropics.
        solar = np.cos(lo - np.pi + 2 * np.pi * (h % 24) / 24.0)
        diurnal = 5.0 * solar * np.cos(la) ** 2
        # Travelling synoptic waves.
        wave = 3.0 * np.sin(6 * lo + 0.05 * h + phase[0]) * np.cos(2 * la + phase[1]) \
            + 1.5 * np.sin(9 * lo - 0.08 * h + phase[2]) * np.cos(3 * la) ** 2
        out[i] = base + diurnal + wave
        out[i] += noise_scale * rng.standard_normal(out[i].shape, dtype=np.float32)
    return out


def write_file(path, shape, chunks, seed, t0_hours):
    rng = np.random.default_rng(seed)
    nt, ny, nx = shape
    lat = np.linspace(90.0, -90.0, ny)
    lon = np.linspace(0.0, 360.0, nx, endpoint=False)
    tmp = f"{path}.tmp{os.getpid()}"
    with netCDF4.Dataset(tmp, "w", format="NETCDF4") as ds:
        ds.Conventions = "CF-1.6"
        ds.history = "chunkref benchmark corpus (benches/make_corpus.py)"
        ds.createDimension("time", nt)
        ds.createDimension("latitude", ny)
        ds.createDimension("longitude", nx)
        t = ds.createVariable("time", "i4", ("time",))
        t.units = "hours since 1900-01-01 00:00:00.0"
        t.long_name = "time"
        t.calendar = "gregorian"
        t[:] = 1051896 + t0_hours + np.arange(nt, dtype=np.int32)
        y = ds.createVariable("latitude", "f4", ("latitude",))
        y.units = "degrees_north"
        y.long_name = "latitude"
        y[:] = lat
        x = ds.createVariable("longitude", "f4", ("longitude",))
        x.units = "degrees_east"
        x.long_name = "longitude"
        x[:] = lon
        v = ds.createVariable(
            "t2m", "f4", ("time", "latitude", "longitude"),
            zlib=True, complevel=4, shuffle=True, chunksizes=chunks,
        )
        v.units = "K"
        v.long_name = "2 metre temperature"
        v.standard_name = "air_temperature"
        v[:] = field(rng, nt, lat, lon, t0_hours)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="?", type=int, default=300, help="number of small files (default 300)")
    ap.add_argument("--out", default="bench-corpus", help="corpus directory (default bench-corpus)")
    ap.add_argument("--no-big", action="store_true", help="do not make read/big.nc")
    args = ap.parse_args()

    era5 = os.path.join(args.out, "era5")
    read = os.path.join(args.out, "read")
    os.makedirs(era5, exist_ok=True)
    os.makedirs(read, exist_ok=True)
    start = time.perf_counter()
    made = 0
    for i in range(args.files):
        path = os.path.join(era5, f"era5_t2m_{i:04d}.nc")
        if not os.path.exists(path):
            write_file(path, SMALL_SHAPE, SMALL_CHUNKS, SEED + i, 24 * i)
            made += 1
    total = sum(os.path.getsize(os.path.join(era5, f"era5_t2m_{i:04d}.nc")) for i in range(args.files))
    print(f"make_corpus: {era5}: {args.files} files ({made} made now), "
          f"{total / 1e6:.1f} MB on disk, {64 * args.files} t2m chunks", file=sys.stderr)
    if not args.no_big:
        big = os.path.join(read, "big.nc")
        if not os.path.exists(big):
            write_file(big, BIG_SHAPE, BIG_CHUNKS, SEED - 1, 0)
            made += 1
        raw = 4 * np.prod(BIG_SHAPE)
        print(f"make_corpus: {big}: {raw / 1e6:.1f} MB decoded, "
              f"{os.path.getsize(big) / 1e6:.1f} MB on disk", file=sys.stderr)
    print(f"make_corpus: done in {time.perf_counter() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
