#!/usr/bin/env python3
"""A stand-in for the chunkref binary, built on kerchunk, to check the test harness.

    CHUNKREF_BIN=tests/interop/kerchunk_as_chunkref.py .venv/bin/python -m pytest tests/interop

It implements only ``scan FILE -o OUT.json [--inline-threshold N]``: kerchunk's references (see
kerchunk_refs.py), urls turned into absolute ``file://`` urls through one
template, consolidated ``.zmetadata`` added, written as sorted compact JSON v1.
The tests then show where kerchunk 0.2.10 itself differs from netCDF-C/HDF5
(that is the point of the comparison: these tests are expected to FAIL for
kerchunk in the places listed in tests/interop/README.md).
"""

from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kerchunk_refs import kerchunk_refs  # noqa: E402


def main(argv: list[str]) -> int:
    # --inline-threshold N is accepted and ignored (kerchunk runs with 0)
    if len(argv) not in (5, 7) or argv[1] != "scan" or argv[3] != "-o" or argv[5:6] not in ([], ["--inline-threshold"]):
        print("usage: kerchunk_as_chunkref.py scan FILE -o OUT.json [--inline-threshold N]", file=sys.stderr)
        return 2
    src, out = os.path.abspath(argv[2]), argv[4]
    got = kerchunk_refs(src)
    for w in got["warnings"]:
        print(f"warning: {w}", file=sys.stderr)
    refs = {}
    meta = {}
    for key, val in got["refs"].items():
        if isinstance(val, list):
            val = ["{{a}}"] + val[1:]
        refs[key] = val
        if key.rsplit("/", 1)[-1] in (".zgroup", ".zattrs", ".zarray"):
            meta[key] = json.loads(val)
    refs[".zmetadata"] = json.dumps(
        {"metadata": meta, "zarr_consolidated_format": 1}, sort_keys=True, separators=(",", ":")
    )
    doc = {"refs": refs, "templates": {"a": "file://" + src}, "version": 1}
    with open(out, "w", encoding="utf-8") as f:
        f.write(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
