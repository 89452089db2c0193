"""Compiled (Numba) twin of :mod:`hemosim.sim.rng` for scalar draws inside ``@njit`` kernels.

:mod:`hemosim.sim.rng` is the definition of hemosim's counter-based random numbers
(NumPy, vectorised over patients). A compiled env kernel cannot call NumPy's ``uint64``
array code per row, so this module repeats the same arithmetic for one
``(key, stream, counter)`` at a time, with the constants taken from ``rng`` itself:

* :func:`uniform` equals ``rng.uniform(key, stream, counter)`` bit for bit;
* :func:`normal` equals ``rng.normal(key, stream, counter)`` (same Box-Muller streams
  ``2 stream + 1000003 / 1000004``; ``log`` / ``cos`` of the compiled math library may
  differ from NumPy's in the last bit).

Both equalities are tests (``tests/envs/test_heparin_env.py``). :func:`uniform_rows` is
the batch form behind ``rng.uniform`` / ``rng.uniform_block`` themselves (one pass per
patient instead of about twenty NumPy array passes; equal to the NumPy path bit for bit,
``tests/sim/test_rng.py``). Any change to ``rng`` must be mirrored here.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from hemosim.sim import rng

__all__ = ["mix", "uniform", "normal", "uniform_rows"]

_GOLDEN, _M1, _M2 = rng._GOLDEN, rng._M1, rng._M2
_S30, _S27, _S31, _S12 = rng._S30, rng._S27, rng._S31, rng._S12
_TWO_POW_M52 = rng._TWO_POW_M52
_TWO_PI = 2.0 * math.pi


@njit(cache=True, inline="always")
def mix(z):
    """``rng._mix`` (SplitMix64 finaliser) on one uint64."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True, inline="always")
def uniform(key, stream, counter) -> float:
    """``rng.uniform`` for one (key uint64, stream, counter): a float in (0, 1)."""
    h = mix(key)
    h = mix((h * _M2) ^ mix(np.uint64(stream)))
    h = mix((h * _M2) ^ mix(np.uint64(counter)))
    return (float(h >> _S12) + 0.5) * _TWO_POW_M52


@njit(cache=True, inline="always")
def normal(key, stream, counter) -> float:
    """``rng.normal`` for one (key, stream, counter) (Box-Muller on streams 2s + 1000003 / 1000004)."""
    u1 = uniform(key, 2 * stream + 1_000_003, counter)
    u2 = uniform(key, 2 * stream + 1_000_004, counter)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(_TWO_PI * u2)


@njit(cache=True)
def uniform_rows(keys, streams, counters, out):  # pragma: no cover - jitted
    """``out[i, j] = rng.uniform(keys[i], streams[j], counters[i])``; inputs uint64 arrays,
    ``counters`` of length N or 1 (one counter shared by every row)."""
    shared = counters.shape[0] == 1
    mixed_streams = np.empty(streams.shape[0], dtype=np.uint64)
    for j in range(streams.shape[0]):
        mixed_streams[j] = mix(streams[j])
    hc = mix(counters[0])
    for i in range(keys.shape[0]):
        hk = mix(keys[i]) * _M2
        if not shared:
            hc = mix(counters[i])
        for j in range(streams.shape[0]):
            h = mix(hk ^ mixed_streams[j])
            h = mix((h * _M2) ^ hc)
            out[i, j] = (float(h >> _S12) + 0.5) * _TWO_POW_M52
