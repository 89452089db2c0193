"""Compiled fast path of :func:`hemosim.sim.rng.uniform` (bit-identical to the NumPy path).

The NumPy path hashes ``(key, stream, counter)`` in about twenty whole-array passes with
temporaries; this loop does it in one pass per patient. Unsigned 64-bit wrapping
arithmetic is the same in both, and the float conversion is the same expression, so every
draw is identical (``tests/sim/test_rng.py`` compares them). Imported on first use, so
``import hemosim`` does not compile it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_TWO_POW_M52 = 1.0 / 4503599627370496.0  # 2**-52


@njit(cache=True, inline="always")
def _mix(z):
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def uniform_rows(keys, streams, counters, out):  # pragma: no cover - jitted
    """``out[i, j] = uniform(keys[i], streams[j], counters[i])``; all inputs uint64
    (``counters`` of length N, or 1 for one counter shared by every row)."""
    shared = counters.shape[0] == 1
    mixed_streams = np.empty(streams.shape[0], dtype=np.uint64)
    for j in range(streams.shape[0]):
        mixed_streams[j] = _mix(streams[j])
    hc = _mix(counters[0])
    for i in range(keys.shape[0]):
        hk = _mix(keys[i]) * _M2
        if not shared:
            hc = _mix(counters[i])
        for j in range(streams.shape[0]):
            h = _mix(hk ^ mixed_streams[j])
            h = _mix((h * _M2) ^ hc)
            out[i, j] = (np.float64(h >> _S12) + 0.5) * _TWO_POW_M52
