"""The allowed seeds of every hemosim environment, stated and checked in one place.

A seed is a Python or NumPy integer (not a bool) in ``[0, MAX_SEED]``. A vector env
seeded ``s`` runs patient ``i`` on the chain of ``s + i`` (DESIGN.md), so ``s`` must
leave room for its ``num_envs`` patients: ``s + num_envs - 1 <= MAX_SEED``. A vector env
may instead be given one seed per patient (a sequence of ``num_envs`` such integers).
Both env faces (``sim/single.py``, ``sim/vector.py``) call :func:`root_seeds`, so the
rule and its error message are the same for every environment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["MAX_SEED", "SEED_RANGE_TEXT", "root_seeds"]

#: Largest allowed seed: the root seeds are stored as int64 / uint64 keys (``sim/rng.py``).
MAX_SEED = 2**63 - 1
SEED_RANGE_TEXT = "an integer in [0, 2**63 - 1]"


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def root_seeds(seed: Any, num_envs: int = 1, *, allow_sequence: bool = True) -> np.ndarray:
    """The ``num_envs`` root seeds (uint64) of ``reset(seed=seed)``; ``ValueError`` if not allowed.

    ``seed`` is one integer (patient ``i`` gets ``seed + i``) or, where ``allow_sequence``
    (the vector face), a sequence of ``num_envs`` integers, each in ``[0, MAX_SEED]``.
    """
    if _is_int(seed):
        s = int(seed)
        if s < 0 or s + num_envs - 1 > MAX_SEED:
            room = "" if num_envs == 1 else f", and so must seed + num_envs - 1 (num_envs = {num_envs})"
            raise ValueError(f"seed must be None or {SEED_RANGE_TEXT}{room}; got {s}")
        return np.arange(num_envs, dtype=np.uint64) + np.uint64(s)
    is_sequence = isinstance(seed, (list, tuple, np.ndarray)) and np.ndim(seed) == 1
    if not (allow_sequence and is_sequence):
        also = f" or a sequence of {num_envs} such integers" if allow_sequence else ""
        raise ValueError(f"seed must be None or {SEED_RANGE_TEXT}{also}; got {seed!r} of type {type(seed).__name__}")
    items = list(seed)
    if len(items) != num_envs:
        raise ValueError(f"seed sequence must hold one seed per environment ({num_envs}), got {len(items)}: {seed!r}")
    bad = [x for x in items if not _is_int(x) or not 0 <= int(x) <= MAX_SEED]
    if bad:
        raise ValueError(f"every seed must be {SEED_RANGE_TEXT}; got {bad[:5]!r} in {seed!r}")
    return np.array([int(x) for x in items], dtype=np.uint64)
