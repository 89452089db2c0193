"""One generic :class:`gymnasium.Env` face (N = 1) over any batched simulator."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from hemosim.sim.batch import BatchedSimulator
from hemosim.sim.rng import patient_key

__all__ = ["SingleEnv", "scalar_info", "fresh_copy"]


def scalar_info(batched: dict[str, Any], row: int = 0) -> dict[str, Any]:
    """Row ``row`` of a batched info dict, as plain Python scalars (fresh objects)."""
    out: dict[str, Any] = {}
    for key, value in batched.items():
        if isinstance(value, dict):
            out[key] = scalar_info(value, row)
        elif value.ndim == 1:
            out[key] = value.item(row)  # a Python scalar (or the object itself)
        else:
            out[key] = value[row].copy()
    return out


def fresh_copy(info: dict[str, Any]) -> dict[str, Any]:
    """A new dict tree holding the same immutable scalars (no shared mutable object)."""
    return {k: fresh_copy(v) if isinstance(v, dict) else v for k, v in info.items()}


class SingleEnv(gym.Env):
    """A single-patient environment: the batched simulator with ``num_patients = 1``.

    Seeding follows DESIGN.md: ``reset(seed=s)`` draws the patient keyed ``(s, 0)``; each
    later ``reset()`` without a seed draws the next patient of the same chain,
    ``(s, 1)``, ``(s, 2)``, ... A vector env seeded ``s`` runs patient ``i`` on the chain
    of ``s + i``, so it equals ``SyncVectorEnv`` of single envs seeded ``s, s + 1, ...``.
    """

    simulator_cls: ClassVar[type[BatchedSimulator]]
    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, render_mode: str | None = None, **options: Any) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported; allowed: None")
        self.render_mode = None
        self.sim = self.simulator_cls(1, **options)
        self.observation_space = self.sim.observation_space
        self.action_space = self.sim.action_space
        self._root_seed: int | None = None
        self._episode = 0
        self._all = np.ones(1, dtype=bool)
        self._static_info: dict[str, Any] = {}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self._root_seed, self._episode = int(seed), 0
        elif self._root_seed is None:
            self._root_seed, self._episode = int(self.np_random.integers(0, 2**63 - 1)), 0
        else:
            self._episode += 1
        keys = patient_key(np.array([self._root_seed], dtype=np.uint64), self._episode)
        self.sim.reset_patients(self._all, keys, options)
        self._static_info = scalar_info(self.sim.static_info())
        return self.sim.observation()[0], self._info()

    def _info(self) -> dict[str, Any]:
        info = scalar_info(self.sim.info())
        info.update(fresh_copy(self._static_info))
        return info

    def step(self, action: Any):
        action = self.sim.validate_actions(np.asarray(action)[None])
        reward, terminated, truncated = self.sim.advance(action)
        return (
            self.sim.observation()[0],
            float(reward[0]),
            bool(terminated[0]),
            bool(truncated[0]),
            self._info(),
        )
