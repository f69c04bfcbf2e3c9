#!/usr/bin/env bash
# Benchmarks chunkref side by side with the reference tools, in one run (not a timed test):
#   scan: `chunkref scan -j 1` and `-j 2` vs kerchunk SingleHdf5ToZarr (1 and 2 processes)
#         over a corpus of ERA5-like NetCDF4 files (files/s and chunk refs/s);
#   NetCDF3 scan: `chunkref scan` vs kerchunk NetCDF3ToZarr over classic files (files/s);
#   read: a whole compressed float32 variable through chunkref (1 and 2 rayon threads) vs
#         netCDF4-python (MB/s of decoded data), with checksums showing both read the same values;
#   GRIB: `chunkref scan` (with and without --grib-idx) vs kerchunk scan_grib over a GFS-like
#         GRIB2 file (messages/s), and decoding one ~1M-point message per packing through
#         chunkref vs ecCodes (MB/s of float32), with the values compared;
#   combine: `chunkref combine` vs kerchunk MultiZarrToZarr over 100, 1,000 and 10,000 daily
#         ERA5-like stores (192 chunk refs each: 1.92 million at 10,000): seconds and peak memory
#         of each tool's process, with the two combined stores compared.
# The corpus is made once under bench-corpus/ (kept between runs). The floors: scan at least
# 20x kerchunk's files/s; read at least as fast as netCDF4 on one core, faster on two; combine
# of the largest size under 2 GB and 10 s, at least 100x faster than MultiZarrToZarr and with
# at least 10x less memory (at the largest size kerchunk ran).
#
#   scripts/bench.sh [N_FILES]        # default 300 files
#
# Environment: BENCH_RUNS (default 3, best of), KERCHUNK_SECONDS (default 30: kerchunk stops
# after this long once 50 files are done, and the output says it timed a subset),
# COMBINE_SIZES (default 100,1000,10000), KERCHUNK_COMBINE_BUDGET (default 3000: kerchunk's
# MultiZarrToZarr is skipped at a size its previous size's time, scaled linearly, says would
# take longer than this many seconds, e.g. 10,000 inputs when 1,000 took over 5 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."

N_FILES="${1:-300}"
RUNS="${BENCH_RUNS:-3}"
KERCHUNK_SECONDS="${KERCHUNK_SECONDS:-30}"
COMBINE_SIZES="${COMBINE_SIZES:-100,1000,10000}"
KERCHUNK_COMBINE_BUDGET="${KERCHUNK_COMBINE_BUDGET:-3000}"

if [[ ! -x .venv/bin/python ]]; then
    if [[ -f scripts/setup.sh ]]; then
        # shellcheck source=/dev/null
        source scripts/setup.sh
    else
        echo "bench.sh: .venv is missing: python3 -m venv .venv && .venv/bin/pip install -r scripts/requirements.txt" >&2
        exit 1
    fi
fi
# cmake for the HDF5 build comes from the venv.
export PATH="$PWD/.venv/bin:$PATH"
PY="$PWD/.venv/bin/python"

step() { printf '\n== %s\n' "$*" >&2; }

step "machine"
echo "nproc $(nproc); $(grep -m1 'model name' /proc/cpuinfo | sed 's/\t*:/:/'); load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
busy=$(awk -v n="$(nproc)" '{print ($1 > 0.5 * n) ? 1 : 0}' /proc/loadavg)
if [[ "$busy" == 1 ]]; then
    echo "bench.sh: warning: the machine is busy (load above half the cores); figures will be low and noisy" >&2
fi

step "build (release): chunkref, examples/bench_read and examples/bench_grib_decode"
cargo build --release --bin chunkref --example bench_read --example bench_grib_decode

step "corpus: $N_FILES files under bench-corpus/era5, bench-corpus/read/big.nc"
"$PY" benches/make_corpus.py "$N_FILES" --out bench-corpus

step "GRIB corpus: bench-corpus/grib/gfs_like.grib2 (+ .idx), bench-corpus/grib/decode/*.grib2"
"$PY" benches/make_grib_corpus.py --out bench-corpus/grib

step "combine corpus: kerchunk JSON stores under bench-corpus/combine/n{${COMBINE_SIZES}}"
"$PY" benches/make_combine_corpus.py --sizes "$COMBINE_SIZES" --out bench-corpus/combine

OUT="$(mktemp -d "${TMPDIR:-/tmp}/chunkref-bench.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT

step "scan benchmark"
"$PY" benches/bench_scan.py --chunkref target/release/chunkref --corpus bench-corpus/era5 \
    --jobs 1,2 --runs "$RUNS" --kerchunk-seconds "$KERCHUNK_SECONDS" --json-out "$OUT/scan.json"

step "NetCDF3 scan benchmark (corpus: bench-corpus/nc3)"
"$PY" benches/bench_scan_nc3.py "$N_FILES" --chunkref target/release/chunkref --corpus bench-corpus/nc3 \
    --runs "$RUNS" --kerchunk-seconds "$KERCHUNK_SECONDS" --json-out "$OUT/scan_nc3.json"

step "read benchmark"
"$PY" benches/bench_read.py --bench-read target/release/examples/bench_read \
    --file bench-corpus/read/big.nc --var t2m --runs "$RUNS" --threads 1,2 --json-out "$OUT/read.json"

step "GRIB benchmark (scan vs kerchunk scan_grib, decode vs ecCodes)"
"$PY" benches/bench_grib.py --chunkref target/release/chunkref \
    --bench-decode target/release/examples/bench_grib_decode --corpus bench-corpus/grib \
    --runs "$RUNS" --decode-runs "$(( RUNS > 10 ? RUNS : 10 ))" --kerchunk-seconds "$KERCHUNK_SECONDS" \
    --json-out "$OUT/grib.json"

step "combine benchmark (chunkref combine vs kerchunk MultiZarrToZarr)"
"$PY" benches/bench_combine.py --chunkref target/release/chunkref --corpus bench-corpus/combine \
    --sizes "$COMBINE_SIZES" --runs "$RUNS" --kerchunk-budget "$KERCHUNK_COMBINE_BUDGET" \
    --json-out "$OUT/combine.json"

echo
"$PY" benches/report.py "$OUT/scan.json" "$OUT/read.json" "$OUT/grib.json" "$OUT/combine.json"
