#!/usr/bin/env bash
# Runs every test of chunkref on a fresh machine or a warm one:
#   1. the pinned Python environment (cmake for the HDF5 build, and xarray/zarr/fsspec/kerchunk/
#      netCDF4/h5py for the interop tests) in .venv, made or refreshed by scripts/setup.sh;
#   2. formatting and clippy, and a check that chunkref builds without the `hdf5` feature;
#   3. the Rust tests (unit, differential against netCDF-C/HDF5, CLI, bad input);
#   4. the interop tests: Python opens every store chunkref writes and compares with netCDF4,
#      and our chunk offsets are compared with kerchunk's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets -- -D warnings

step "cargo check --no-default-features (no HDF5: the reader and the NetCDF3 scanner alone)"
CARGO_TARGET_DIR=target-nohdf5 cargo check --no-default-features --all-targets --quiet

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet

step "cargo test"
cargo test

step "interop tests (Python: fsspec + zarr + xarray, kerchunk)"
cargo build --bin chunkref
CHUNKREF_BIN="$PWD/target/debug/chunkref" python -m pytest -q tests/interop
