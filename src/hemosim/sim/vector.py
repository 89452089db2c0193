"""One generic Gymnasium ``VectorEnv`` face over any batched simulator.

Autoreset follows Gymnasium 1.x ``NEXT_STEP`` semantics (the default of ``SyncVectorEnv``):
the step after a patient's episode ends resets that patient, ignores its action, and
returns its first observation with reward 0 and ``terminated = truncated = False``.
``info`` holds arrays with Gymnasium's ``_key`` masks (never a list of dicts), with the
same dtypes ``SyncVectorEnv`` builds from single-env infos (float64, int64, bool, object).
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from hemosim.sim.batch import BatchedSimulator
from hemosim.sim.rng import patient_key

__all__ = ["BatchedVectorEnv"]


def _copy_arrays(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy_arrays(v) if isinstance(v, dict) else v.copy() for k, v in tree.items()}


def _with_masks(batched: dict[str, Any], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in batched.items():
        out[key] = _with_masks(value, n) if isinstance(value, dict) else value
        out["_" + key] = np.ones(n, dtype=bool)
    return out


class BatchedVectorEnv(VectorEnv):
    """``num_envs`` patients simulated together in one array program."""

    simulator_cls: ClassVar[type[BatchedSimulator]]
    metadata: dict[str, Any] = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, render_mode: str | None = None, **options: Any) -> None:
        if render_mode is not None:
            raise ValueError(f"render_mode {render_mode!r} is not supported; allowed: None")
        self.render_mode = None
        self.sim = self.simulator_cls(num_envs, **options)
        self.num_envs = self.sim.num_patients
        self.single_observation_space = self.sim.observation_space
        self.single_action_space = self.sim.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._root_seeds = np.zeros(self.num_envs, dtype=np.uint64)
        self._episodes = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._seeded = False
        self._safe_action = self.sim.safe_action()

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=None if seed is None or not isinstance(seed, (int, np.integer)) else int(seed))
        n = self.num_envs
        if seed is None and self._seeded:
            # Like each single env of SyncVectorEnv: the next patient of every chain.
            self._episodes += 1
            self._autoreset[:] = False
            self.sim.reset_patients(np.ones(n, dtype=bool), patient_key(self._root_seeds, self._episodes), options)
            return self.sim.observation(), self._info()
        if seed is None:
            roots = self.np_random.integers(0, 2**63 - 1, size=n)
        elif isinstance(seed, (int, np.integer)):
            roots = int(seed) + np.arange(n)
        else:
            roots = np.asarray(list(seed))
            if roots.shape != (n,) or roots.dtype.kind not in "iu":
                raise ValueError(f"seed must be an int or a sequence of {n} ints, got {seed!r}")
        if np.any(roots < 0):
            raise ValueError(f"seeds must be non-negative, got {roots[roots < 0][:5]}")
        self._root_seeds = roots.astype(np.uint64)
        self._seeded = True
        self._episodes[:] = 0
        self._autoreset[:] = False
        mask = np.ones(n, dtype=bool)
        self.sim.reset_patients(mask, patient_key(self._root_seeds, self._episodes), options)
        return self.sim.observation(), self._info()

    def step(self, actions: Any):
        actions = np.asarray(actions)
        resetting = self._autoreset
        if resetting.any():
            if actions.shape != self.action_space.shape:
                self.sim.validate_actions(actions)  # raises with the shape message
            actions = actions.copy()
            actions[resetting] = self._safe_action
        actions = self.sim.validate_actions(actions)
        reward, terminated, truncated = self.sim.advance(actions)
        if resetting.any():
            self._episodes[resetting] += 1
            keys = patient_key(self._root_seeds[resetting], self._episodes[resetting])
            self.sim.reset_patients(resetting, keys, None)
            reward = np.where(resetting, 0.0, reward)
            terminated = terminated & ~resetting
            truncated = truncated & ~resetting
        self._autoreset = terminated | truncated
        return (
            self.sim.observation(),
            reward.astype(np.float64),
            terminated,
            truncated,
            self._info(),
        )

    def _info(self) -> dict[str, Any]:
        info = _copy_arrays(self.sim.info())
        info.update(_copy_arrays(self.sim.static_info()))
        return _with_masks(info, self.num_envs)

    def close_extras(self, **kwargs: Any) -> None:
        return None
