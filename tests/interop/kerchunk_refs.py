#!/usr/bin/env python3
"""kerchunk's references for one HDF5/NetCDF4 file, as the interop tests use them.

    python kerchunk_refs.py FILE OUT.json

Writes kerchunk 0.2.10's ``SingleHdf5ToZarr(FILE, inline_threshold=0).translate()``
to OUT.json, plus the warnings kerchunk raised (under ``"warnings"``).

The tests run this in a subprocess with a time limit because kerchunk 0.2.10
with zarr 3.1.6 *hangs* (a deadlock between h5py's lock and zarr's event-loop
thread) on the first array created after it fails on a compound or opaque
dataset. Datasets whose dtype kind is "V" (compound, opaque) are therefore
left out of kerchunk's translation here; chunkref skips or inlines those
anyway, so no chunk offset comparison is lost.
"""

from __future__ import annotations

import json
import sys
import warnings


def kerchunk_refs(path: str) -> dict:
    import h5py
    from kerchunk.hdf import SingleHdf5ToZarr

    class _Translator(SingleHdf5ToZarr):
        def _translator(self, name, h5obj):
            if isinstance(h5obj, h5py.Dataset) and h5obj.dtype.kind == "V":
                return None
            return super()._translator(name, h5obj)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        refs = _Translator(path, inline_threshold=0).translate()
    # kerchunk 0.2.10 returns {"version": 1, "refs": {...}}; older ones a bare dict
    if "refs" in refs:
        refs = refs["refs"]
    return {
        "refs": refs,
        "warnings": [str(w.message).splitlines()[1] if "quashed" in str(w.message) else str(w.message)
                     for w in caught],
    }


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    out = kerchunk_refs(argv[1])
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
