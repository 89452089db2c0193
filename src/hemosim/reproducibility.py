"""Seed pools and their guards.

Training uses seeds ``range(0, 10000)``; held-out evaluation uses ``range(100000, 101000)``
(DESIGN.md). The 90,000-seed gap guards against off-by-one leaks. Every evaluation in
this package asserts its seeds are held out; a training script should assert its seeds
are training seeds.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = ["TRAIN_SEEDS", "HELD_OUT_SEEDS", "assert_train", "assert_held_out"]

TRAIN_SEEDS = range(0, 10_000)
HELD_OUT_SEEDS = range(100_000, 101_000)


def _as_array(seeds: Iterable[int] | int) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(list(seeds) if not isinstance(seeds, (int, np.integer)) else seeds))
    if arr.size == 0:
        raise ValueError("no seeds given")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"seeds must be integers, got dtype {arr.dtype}")
    return arr


def assert_train(seeds: Iterable[int] | int) -> None:
    """Raise ``ValueError`` unless every seed lies in the training pool ``range(0, 10000)``."""
    arr = _as_array(seeds)
    bad = arr[(arr < TRAIN_SEEDS.start) | (arr >= TRAIN_SEEDS.stop)]
    if bad.size:
        raise ValueError(f"seeds {bad[:5].tolist()} are not training seeds; allowed: range(0, 10000)")


def assert_held_out(seeds: Iterable[int] | int) -> None:
    """Raise ``ValueError`` unless every seed lies in the held-out pool ``range(100000, 101000)``."""
    arr = _as_array(seeds)
    bad = arr[(arr < HELD_OUT_SEEDS.start) | (arr >= HELD_OUT_SEEDS.stop)]
    if bad.size:
        raise ValueError(f"seeds {bad[:5].tolist()} are not held-out seeds; allowed: range(100000, 101000)")
