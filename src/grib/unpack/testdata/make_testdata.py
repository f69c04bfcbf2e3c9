"""Writes the GRIB test messages of `src/grib/unpack` and ecCodes' decoded values.

Each case NAME gives NAME.grib (one message) and NAME.f64 (the values ecCodes'
`codes_get_values` returns, little-endian f64, missing points as ecCodes' missingValue).
Deterministic: fixed seeds. Run with the pinned venv from the repository root:

    .venv/bin/python src/grib/unpack/testdata/make_testdata.py
"""

from pathlib import Path

import eccodes as ec
import numpy as np

OUT = Path(__file__).resolve().parent
# A smaller grid than the sample's 16 x 31 keeps the files small: 16 x 24 = 384 points.
NI, NJ = 16, 24
N = NI * NJ
MISSING = 9999.0


def field(seed, base=280.0, amp=10.0, noise=0.5):
    """A smooth field plus noise, like a temperature analysis."""
    rng = np.random.default_rng(seed)
    j, i = np.meshgrid(np.arange(NJ), np.arange(NI), indexing="ij")
    smooth = amp * np.sin(i / 3.0) * np.cos(j / 5.0) + 0.3 * amp * j / NJ
    return (base + smooth + rng.normal(0.0, noise, (NJ, NI))).ravel()


def with_missing(values, seed, fraction=0.15):
    rng = np.random.default_rng(seed)
    out = values.copy()
    out[rng.random(N) < fraction] = MISSING
    return out


def new_handle(sample):
    h = ec.codes_grib_new_from_samples(sample)
    ec.codes_set(h, "Ni", NI)
    ec.codes_set(h, "Nj", NJ)
    ec.codes_set(h, "latitudeOfLastGridPointInDegrees", 60.0 - 2.0 * (NJ - 1))
    if ec.codes_get(h, "edition") == 2:
        ec.codes_set(h, "numberOfDataPoints", N)
    return h


def make(name, values, packing="grid_simple", sample="regular_ll_sfc_grib2",
         before=(), after=(), bitmap=False):
    """Packs `values`; `before` keys are set before the values, `after` keys after."""
    h = new_handle(sample)
    if packing != "grid_simple":
        ec.codes_set(h, "packingType", packing)
    ec.codes_set(h, "bitmapPresent", 1 if bitmap else 0)
    for key, value in before:
        ec.codes_set(h, key, value)
    ec.codes_set_values(h, values)
    for key, value in after:
        ec.codes_set(h, key, value)
    message = ec.codes_get_message(h)
    decoded = np.asarray(ec.codes_get_values(h), dtype="<f8")
    ec.codes_release(h)
    (OUT / f"{name}.grib").write_bytes(message)
    (OUT / f"{name}.f64").write_bytes(decoded.tobytes())


def main():
    t = field(1)
    tm = with_missing(t, 2)
    pressure = field(3, base=101325.0, amp=2000.0, noise=30.0)
    negative = field(4, base=-30.0, amp=8.0, noise=0.3)
    const = np.full(N, 273.15)

    # GRIB2 simple packing (5.0).
    for bits in (5, 12, 16, 24):
        make(f"g2_simple_{bits}", t, before=[("bitsPerValue", bits)])
    make("g2_simple_dec2", t, before=[("decimalScaleFactor", 2), ("bitsPerValue", 16)])
    make("g2_simple_decm1", pressure, before=[("decimalScaleFactor", -1), ("bitsPerValue", 16)])
    # D = 6: ecCodes' 10^-6 (six divisions by 10) is one ulp off the nearest double.
    humidity = field(6, base=0.008, amp=0.004, noise=1e-4)
    make("g2_simple_dec6", humidity, before=[("decimalScaleFactor", 6), ("bitsPerValue", 16)])
    make("g2_simple_negative", negative, before=[("bitsPerValue", 13)])
    make("g2_simple_bitmap", tm, bitmap=True, before=[("bitsPerValue", 12)])
    make("g2_simple_const", const, before=[("bitsPerValue", 12)])

    # GRIB2 complex packing (5.2) and with spatial differencing (5.3).
    make("g2_complex", t, "grid_complex", before=[("bitsPerValue", 12)])
    make("g2_complex_bitmap", tm, "grid_complex", bitmap=True, before=[("bitsPerValue", 12)])
    make("g2_complex_missing1", tm, "grid_complex", before=[("bitsPerValue", 14)])
    # ecCodes writes primary missing values only; flipping the flag to 2 afterwards makes
    # the maximum-but-one of each group missing too, which ecCodes' decoder honours.
    make("g2_complex_missing2", tm, "grid_complex", before=[("bitsPerValue", 14)],
         after=[("missingValueManagementUsed", 2)])
    make("g2_complex_const", const, "grid_complex", before=[("bitsPerValue", 12)])
    for order in (1, 2):
        sd = "grid_complex_spatial_differencing"
        before = [("orderOfSpatialDifferencing", order), ("bitsPerValue", 12)]
        make(f"g2_complex_sd{order}", t, sd, before=before)
        make(f"g2_complex_sd{order}_dec", pressure, sd,
             before=before[:1] + [("decimalScaleFactor", -1), ("bitsPerValue", 16)])
        make(f"g2_complex_sd{order}_missing", tm, sd, before=before)
        make(f"g2_complex_sd{order}_bitmap", tm, sd, bitmap=True, before=before)

    # GRIB2 IEEE (5.4).
    make("g2_ieee32", t, "grid_ieee", after=[("precision", 1)])
    make("g2_ieee64", t, "grid_ieee", before=[("precision", 2)])

    # GRIB2 JPEG2000 (5.40), PNG (5.41), CCSDS (5.42).
    make("g2_jpeg_12", t, "grid_jpeg", before=[("bitsPerValue", 12)])
    make("g2_jpeg_24", pressure, "grid_jpeg", before=[("bitsPerValue", 24)])
    # Wider than the f32 samples of hayro-jpeg2000 can hold exactly: matched within a
    # tolerance only (see jpeg2000.rs).
    make("g2_jpeg_28", pressure, "grid_jpeg", before=[("bitsPerValue", 28)])
    make("g2_jpeg_bitmap", tm, "grid_jpeg", bitmap=True, before=[("bitsPerValue", 12)])
    make("g2_jpeg_const", const, "grid_jpeg", before=[("bitsPerValue", 12)])
    make("g2_jpeg_lossy", t, "grid_jpeg",
         before=[("bitsPerValue", 16), ("typeOfCompressionUsed", 1), ("targetCompressionRatio", 8)])
    for bits in (8, 12):
        make(f"g2_png_{bits}", t, "grid_png", before=[("bitsPerValue", bits)])
    # ecCodes' PNG encoder fails when deflate cannot shrink the rows (its buffer is the raw
    # size), so the 24-bit (RGB) case packs a plane, which PNG's filters make compressible.
    j, i = np.meshgrid(np.arange(NJ), np.arange(NI), indexing="ij")
    plane = (280.0 + 0.05 * i + 0.3 * j).ravel()
    make("g2_png_24", plane, "grid_png", before=[("bitsPerValue", 24)])
    make("g2_png_bitmap", tm, "grid_png", bitmap=True, before=[("bitsPerValue", 12)])
    for bits in (8, 12, 24):
        make(f"g2_ccsds_{bits}", t, "grid_ccsds", before=[("bitsPerValue", bits)])
    make("g2_ccsds_bitmap", tm, "grid_ccsds", bitmap=True, before=[("bitsPerValue", 12)])
    make("g2_ccsds_const", const, "grid_ccsds", before=[("bitsPerValue", 12)])

    # GRIB1 grid-point simple packing.
    g1 = "regular_ll_sfc_grib1"
    make("g1_simple_12", t, sample=g1, before=[("bitsPerValue", 12)])
    # GRIB1 keeps D = 0 when bitsPerValue is set; changeDecimalPrecision sets D (and nbits).
    make("g1_simple_dec2", t, sample=g1, before=[("changeDecimalPrecision", 2)])
    make("g1_simple_decm1", pressure, sample=g1, before=[("changeDecimalPrecision", -1)])
    make("g1_simple_negative", negative, sample=g1, before=[("bitsPerValue", 11)])
    make("g1_simple_bitmap", tm, sample=g1, bitmap=True, before=[("bitsPerValue", 12)])
    make("g1_simple_const", const, sample=g1, before=[("bitsPerValue", 12)])


if __name__ == "__main__":
    main()
