"""Generic reference policies: uniform random actions and a constant dose.

Both follow the baselines' calling convention: ``predict(obs, info=None)`` takes one
observation (1-D) or a batch (2-D, patients on axis 0) and returns one action or a batch.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

__all__ = ["RandomPolicy", "ConstantDosePolicy"]


def observation_batch(obs: Any) -> tuple[np.ndarray, bool]:
    """``(batch as float64 (N, D), was_single)`` for one observation or a batch of them."""
    arr = np.asarray(obs, dtype=np.float64)
    if arr.ndim == 1:
        return arr[None], True
    if arr.ndim == 2:
        return arr, False
    raise ValueError(f"obs must be 1-D (one observation) or 2-D (a batch); got shape {arr.shape}")


def _batch_size(obs: Any) -> int | None:
    arr = np.asarray(obs)
    if arr.ndim == 1:
        return None
    if arr.ndim == 2:
        return arr.shape[0]
    raise ValueError(f"obs must be 1-D (one observation) or 2-D (a batch); got shape {arr.shape}")


class RandomPolicy:
    """Uniform random actions from a bounded ``Box`` action space.

    Args:
        action_space: the single-env ``gymnasium.spaces.Box`` (finite bounds).
        seed: seed of the policy's own ``np.random.Generator`` (``None``: fresh entropy).

    A batch of N observations draws N actions in one call, in patient order, from the same
    generator, so results depend on the batch layout (this policy is a reference point for
    evaluation, not a per-patient model).
    """

    def __init__(self, action_space: spaces.Box, seed: int | None = None) -> None:
        if not isinstance(action_space, spaces.Box):
            raise ValueError(f"action_space must be a gymnasium.spaces.Box; got {type(action_space).__name__}")
        if not (np.all(np.isfinite(action_space.low)) and np.all(np.isfinite(action_space.high))):
            raise ValueError("action_space must have finite bounds for uniform sampling")
        self.action_space = action_space
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        """Restart the random stream from ``seed``."""
        self._rng = np.random.default_rng(self.seed)

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        n = _batch_size(obs)
        low, high = self.action_space.low, self.action_space.high
        shape = low.shape if n is None else (n, *low.shape)
        draw = self._rng.uniform(0.0, 1.0, size=shape)
        action = low + draw * (high - low)
        return np.clip(action, low, high).astype(self.action_space.dtype)

    __call__ = predict


class ConstantDosePolicy:
    """The same daily dose every day, for ``hemosim/WarfarinDosing-v0`` (dose_mg = 15 x action).

    Args:
        dose_mg: the daily dose (mg), in ``[0, max_dose_mg]``.
        max_dose_mg: the env's dose at action 1.0 (15 mg for the warfarin env).
    """

    def __init__(self, dose_mg: float, max_dose_mg: float = 15.0) -> None:
        if not (np.isfinite(max_dose_mg) and max_dose_mg > 0):
            raise ValueError(f"max_dose_mg must be a positive number; got {max_dose_mg!r}")
        if not (np.isfinite(dose_mg) and 0.0 <= dose_mg <= max_dose_mg):
            raise ValueError(f"dose_mg must be in [0, {max_dose_mg}]; got {dose_mg!r}")
        self.dose_mg = float(dose_mg)
        self.max_dose_mg = float(max_dose_mg)

    def reset(self) -> None:
        """Stateless; present for a uniform agent interface."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        n = _batch_size(obs)
        a = np.float32(self.dose_mg / self.max_dose_mg)
        return np.full((1,) if n is None else (n, 1), a, dtype=np.float32)

    __call__ = predict
