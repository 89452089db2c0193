"""Counter-based, per-patient random numbers.

Every random quantity in hemosim is a pure function of ``(patient_key, stream, counter)``:
a patient's covariates and noise depend only on its own key, never on the batch it is
simulated in, so patient ``i`` of a vector env seeded ``s`` is exactly the single env
seeded ``s + i`` (the DESIGN.md convention). Draws are vectorised over patients with
NumPy ``uint64`` arithmetic (the SplitMix64 finaliser, Steele, Lea & Flood 2014), so a
batch of 4,096 patients costs a handful of array operations, not 4,096 generators.

Conventions
-----------
* ``patient_key(root_seed, episode)``: the key of the ``episode``-th patient drawn by an
  env whose last explicit seed was ``root_seed`` (episode 0 is the reset with that seed,
  episode 1 the next seedless reset, and so on).
* ``stream``: a small integer naming *what* is drawn (age, CYP2C9, INR noise, ...).
  Each module defines its streams as named constants so that adding a draw never shifts
  another one.
* ``counter``: a position inside a stream (for example the day of the episode).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "patient_key",
    "hash_u64",
    "uniform",
    "normal",
    "categorical",
    "bernoulli",
    "uniform_block",
    "normal_streams",
    "categorical_from_uniform",
    "truncated_normal_from_uniform",
    "normal_from_uniforms",
    "StreamDraws",
]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_TWO_POW_M52 = 1.0 / 4503599627370496.0  # 2**-52


def _as_u64(x: np.ndarray | int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == np.uint64:
        return arr
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64).view(np.uint64) if arr.dtype.kind == "i" else arr.astype(np.uint64)
    raise TypeError(f"random keys must be integers, got dtype {arr.dtype}")


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective avalanche on uint64 (wrapping arithmetic)."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def hash_u64(*parts: np.ndarray | int) -> np.ndarray:
    """Hash integer arrays (broadcast together) into one uint64 array.

    Order matters: the running hash is multiplied by an odd constant before each part is
    folded in, so ``hash_u64(a, b) != hash_u64(b, a)`` (a symmetric hash would make
    training seed 0's 100,000th patient equal held-out seed 100,000's first).
    """
    with np.errstate(over="ignore"):
        h = _mix(np.atleast_1d(_as_u64(parts[0])))
        for p in parts[1:]:
            h = _mix((h * _M2) ^ _mix(np.atleast_1d(_as_u64(p))))
    return h


def patient_key(root_seed: np.ndarray | int, episode: np.ndarray | int) -> np.ndarray:
    """Key of the ``episode``-th patient of an env seeded ``root_seed`` (uint64 array)."""
    return hash_u64(root_seed, episode, 0x5EED)


def uniform(key: np.ndarray, stream: int, counter: np.ndarray | int = 0) -> np.ndarray:
    """Uniform draws in the open interval (0, 1), one per broadcast element."""
    stream_arr = np.asarray(stream)
    if stream_arr.ndim == 0:
        fast = _uniform_compiled(key, stream_arr[None], counter)
        if fast is not None:
            return fast[:, 0]
    return _uniform_numpy(key, stream, counter)


def _uniform_numpy(key: np.ndarray, stream: Any, counter: np.ndarray | int) -> np.ndarray:
    """The reference path: any broadcastable shapes."""
    bits = hash_u64(key, stream, counter)
    # 52 random bits + 1/2: the largest value, 1 - 2**-53, is exact, so u < 1 always.
    return ((bits >> _S12).astype(np.float64) + 0.5) * _TWO_POW_M52


_KERNEL: Any = None


def _uniform_compiled(key: Any, streams: np.ndarray, counter: Any) -> np.ndarray | None:
    """``(N, S)`` draws by the compiled loop (:func:`hemosim.sim.rng_compiled.uniform_rows`, identical bits)
    when the shapes are the common ones: ``key`` (N,), ``streams`` (S,), ``counter`` a scalar
    or (N,); ``None`` otherwise (the caller takes the NumPy path)."""
    global _KERNEL
    key = np.asarray(key)
    if key.ndim != 1 or key.size == 0 or streams.ndim != 1 or key.dtype.kind not in "iu":
        return None
    counter = np.asarray(counter)
    if counter.ndim > 1 or (counter.ndim == 1 and counter.shape[0] != key.shape[0]):
        return None
    if _KERNEL is None:
        from hemosim.sim import rng_compiled

        _KERNEL = rng_compiled.uniform_rows
    out = np.empty((key.shape[0], streams.shape[0]))
    _KERNEL(np.ascontiguousarray(_as_u64(key)), np.ascontiguousarray(_as_u64(streams)),
            np.ascontiguousarray(_as_u64(np.atleast_1d(counter))), out)
    return out


def normal(key: np.ndarray, stream: int, counter: np.ndarray | int = 0) -> np.ndarray:
    """Standard normal draws (Box-Muller on two independent uniform streams)."""
    s1, s2 = normal_streams(stream)
    return normal_from_uniforms(uniform(key, s1, counter), uniform(key, s2, counter))


def uniform_block(key: np.ndarray, streams: np.ndarray, counter: np.ndarray | int = 0) -> np.ndarray:
    """Uniform draws for several streams at once: shape ``(N, S)``.

    Column ``j`` equals ``uniform(key, streams[j], counter)`` exactly; one call costs
    about as much as one stream, which matters when a single patient is reset.
    """
    streams = np.asarray(streams, dtype=np.int64)
    fast = _uniform_compiled(np.asarray(key, dtype=np.uint64), streams, counter)
    if fast is not None:
        return fast
    key = np.asarray(key, dtype=np.uint64)[:, None]
    counter = np.asarray(counter)
    if counter.ndim == 1:
        counter = counter[:, None]
    return _uniform_numpy(key, streams[None, :], counter)


class StreamDraws:
    """The draws of several streams of the same keys and counter, made in one
    :func:`uniform_block` call: ``.uniform(s)`` equals ``uniform(key, s, counter)`` and
    ``.normal(s)`` equals ``normal(key, s, counter)`` exactly. For code that draws many
    streams per patient (a patient generator): one call instead of one per stream, which is
    most of the cost of resetting a few patients."""

    def __init__(self, key: np.ndarray, uniform_streams: Any = (), normal_streams_of: Any = (),
                 counter: np.ndarray | int = 0) -> None:
        streams = list(uniform_streams) + [s for n in normal_streams_of for s in normal_streams(n)]
        self._column = {s: j for j, s in enumerate(streams)}
        self._draws = uniform_block(key, np.asarray(streams, dtype=np.int64), counter)

    def uniform(self, stream: int) -> np.ndarray:
        if stream not in self._column:
            raise KeyError(f"stream {stream} was not drawn; drawn: {sorted(self._column)}")
        return self._draws[:, self._column[stream]]

    def normal(self, stream: int) -> np.ndarray:
        s1, s2 = normal_streams(stream)
        return normal_from_uniforms(self.uniform(s1), self.uniform(s2))


def normal_from_uniforms(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Box-Muller transform (the one used by :func:`normal`)."""
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def normal_streams(stream: int) -> tuple[int, int]:
    """The two uniform streams behind ``normal(key, stream)``."""
    return 2 * stream + 1_000_003, 2 * stream + 1_000_004


def bernoulli(key: np.ndarray, stream: int, p: np.ndarray | float, counter: np.ndarray | int = 0) -> np.ndarray:
    """Boolean draws that are True with probability ``p``."""
    return uniform(key, stream, counter) < p


def categorical(key: np.ndarray, stream: int, probs: np.ndarray, counter: np.ndarray | int = 0) -> np.ndarray:
    """Index draws from ``probs`` (shape ``(K,)`` shared, or ``(N, K)`` per patient)."""
    return categorical_from_uniform(uniform(key, stream, counter), probs)


def categorical_from_uniform(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Inverse-CDF index for uniforms ``u`` (the rule :func:`categorical` uses)."""
    probs = np.asarray(probs, dtype=np.float64)
    cdf = np.cumsum(probs, axis=-1)
    cdf = cdf / cdf[..., -1:]
    if cdf.ndim == 1:
        return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
    return np.minimum((u[:, None] >= cdf).sum(axis=1), cdf.shape[1] - 1)


def truncated_normal_from_uniform(
    u: np.ndarray, mean: np.ndarray | float, sd: float, lo: float, hi: float
) -> np.ndarray:
    """Inverse-CDF draw from N(mean, sd) truncated to [lo, hi], given uniforms ``u``."""
    from scipy.special import ndtr, ndtri

    a, b = ndtr((lo - np.asarray(mean)) / sd), ndtr((hi - np.asarray(mean)) / sd)
    return mean + sd * ndtri(a + u * (b - a))
