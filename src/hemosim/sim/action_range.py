"""The action space an env face shows: the simulator's own, or a symmetric ``[-1, 1]`` Box.

Every hemosim Box action lives in ``[0, 1]`` (DESIGN.md). Stable-Baselines3 advises a
symmetric, normalised space for continuous actions (its PPO / A2C sample from a Gaussian
centred on 0, and SAC / TD3 squash with tanh into ``[-1, 1]``), so both env faces take
``symmetric_actions=True``: the face then shows ``Box(-1, 1)`` of the same shape and maps
an action ``a`` linearly onto the simulator's ``[low, high]``,

    ``native = low + (a + 1) / 2 * (high - low)``,

after checking ``a`` exactly as a native action is checked (out of range, non-finite or
boolean actions raise ``ValueError``; nothing is clipped). Discrete action spaces have no
symmetric form and raise ``ValueError`` if it is asked for.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from hemosim.sim.batch import BatchedSimulator, validate_actions

__all__ = ["ActionRange", "symmetric_to_native"]


def symmetric_to_native(action: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Map actions in ``[-1, 1]`` onto ``[low, high]`` (float64; rounding kept inside the bounds)."""
    a = np.asarray(action, dtype=np.float64)
    native = low + (a + 1.0) * 0.5 * (high - low)
    return np.minimum(np.maximum(native, low), high)  # only float rounding can leave [low, high]


class ActionRange:
    """Checks actions in the face's terms and hands the simulator native, validated actions."""

    def __init__(self, sim: BatchedSimulator, symmetric: bool = False) -> None:
        if not isinstance(symmetric, (bool, np.bool_)):
            raise ValueError(f"symmetric_actions must be True or False, got {symmetric!r}")
        native = sim.action_space
        if symmetric and not isinstance(native, spaces.Box):
            raise ValueError(f"symmetric_actions=True needs a Box action space; this environment's is {native}")
        self.sim = sim
        self.symmetric = bool(symmetric)
        #: the step of one patient's action: the simulator's own check, or the symmetric map
        self.batch_to_simulator = self._symmetric_to_simulator if symmetric else sim.validate_actions
        if self.symmetric:
            self.space: spaces.Space = spaces.Box(-1.0, 1.0, shape=native.shape, dtype=np.float32)
            self._low = np.asarray(native.low, dtype=np.float64)
            self._high = np.asarray(native.high, dtype=np.float64)
        else:
            self.space = native

    def safe_action(self) -> np.ndarray:
        """The simulator's safe action (``BatchedSimulator.safe_action``) in the face's space."""
        if self.symmetric:
            return np.full(self.space.shape, -1.0, dtype=np.float32)  # maps onto the Box's low
        return self.sim.safe_action()

    def check_single(self, action: Any) -> np.ndarray:
        """One patient's action as an array, with errors in the single env's terms."""
        arr = np.asarray(action)
        if arr.dtype.kind == "b":
            raise ValueError(f"action {action!r} is boolean; allowed: real numbers in {self.space} (a bool is not a dose)")
        if arr.shape != self.space.shape:
            raise ValueError(
                f"action {action!r} has shape {arr.shape}; allowed: an array of shape {self.space.shape} in {self.space}"
            )
        return arr

    def to_simulator(self, actions: Any) -> np.ndarray:
        """A validated batch of the simulator's native actions from a batch in the face's space."""
        if not self.symmetric:
            return self.sim.validate_actions(actions)
        return self._symmetric_to_simulator(actions)

    def _symmetric_to_simulator(self, actions: Any) -> np.ndarray:
        checked = validate_actions(actions, self.space, self.sim.num_patients, (-1.0, 1.0))
        return symmetric_to_native(checked, self._low, self._high)
