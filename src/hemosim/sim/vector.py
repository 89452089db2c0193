"""One generic Gymnasium ``VectorEnv`` face over any batched simulator.

Autoreset follows Gymnasium 1.x ``NEXT_STEP`` semantics (the default of ``SyncVectorEnv``):
the step after a patient's episode ends resets that patient, ignores its action, and
returns its first observation with reward 0 and ``terminated = truncated = False``.
``info`` holds arrays with Gymnasium's ``_key`` masks (never a list of dicts), with the
same dtypes ``SyncVectorEnv`` builds from single-env infos (float64, int64, bool, object).

Face options (not passed to the simulator): ``render_mode`` (``"rgb_array"`` / ``"ansi"``:
``render()`` returns a tuple with one chart / summary per rendered patient, like
``SyncVectorEnv``; the history is kept, only while a render mode is set, for the first
``render_patients`` patients, default ``min(num_envs, 4)``) and ``symmetric_actions``
(``sim/action_range.py``). ``step`` before ``reset`` raises Gymnasium's ``ResetNeeded``.
``autoreset_mode=AutoresetMode.SAME_STEP`` (or ``"SameStep"``) resets a finished patient in
the step that ended its episode, as ``SyncVectorEnv`` does in that mode: the new patient's
first observation is returned, the last one is in ``info["final_obs"]`` (object array) and
the step's info in ``info["final_info"]`` (masks ``_final_obs`` / ``_final_info``). The
Stable-Baselines3 adapter (``hemosim.integrations.sb3``) uses it. ``info_level``
(``sim/single.py`` ``INFO_LEVELS``): ``"full"`` (default) builds the info every step;
``"episode"`` only when a patient starts or ends an episode, with the masks set on those
rows (``{}`` on other steps); ``"none"`` returns ``{}`` (``SAME_STEP``'s ``final_obs`` is
still returned: it is the autoreset protocol, not info).
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

import numpy as np
from gymnasium import logger
from gymnasium.error import ResetNeeded
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from hemosim.sim import render as _render
from hemosim.sim.action_range import ActionRange
from hemosim.sim.batch import BatchedSimulator, copy_info, info_skeleton
from hemosim.sim.rng import patient_key
from hemosim.sim.seeding import root_seeds
from hemosim.sim.single import check_info_level, scalar_info

__all__ = ["BatchedVectorEnv"]


def _with_masks(batched: dict[str, Any], n: int, mask: np.ndarray | None = None) -> dict[str, Any]:
    """``batched`` with a ``_key`` mask beside every key (Gymnasium's vector-info layout):
    all True, or ``mask``; each mask is its own row of one boolean block."""
    block = np.empty((len(batched), n), dtype=bool)
    block[:] = True if mask is None else mask
    out: dict[str, Any] = {}
    for row, (key, value) in enumerate(batched.items()):
        out[key] = _with_masks(value, n, mask) if isinstance(value, dict) else value
        out["_" + key] = block[row]
    return out


class BatchedVectorEnv(VectorEnv):
    """``num_envs`` patients simulated together in one array program."""

    simulator_cls: ClassVar[type[BatchedSimulator]]
    metadata: dict[str, Any] = {
        "render_modes": list(_render.RENDER_MODES),
        "render_fps": _render.RENDER_FPS,
        "autoreset_mode": AutoresetMode.NEXT_STEP,
    }

    def __init__(
        self,
        num_envs: int = 1,
        render_mode: str | None = None,
        symmetric_actions: bool = False,
        render_patients: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        info_level: str = "full",
        **options: Any,
    ) -> None:
        self.render_mode = _render.check_render_mode(render_mode)
        self.info_level = check_info_level(info_level, render_mode)
        allowed_modes = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
        if autoreset_mode not in allowed_modes and autoreset_mode not in [m.value for m in allowed_modes]:
            raise ValueError(f"autoreset_mode must be one of {[m.value for m in allowed_modes]}, got {autoreset_mode!r}")
        self._same_step = AutoresetMode(autoreset_mode) == AutoresetMode.SAME_STEP
        self.metadata = {**self.metadata, "autoreset_mode": AutoresetMode(autoreset_mode)}
        self.sim = self.simulator_cls(num_envs, **options)
        self.num_envs = self.sim.num_patients
        self._actions = ActionRange(self.sim, symmetric_actions)
        self.single_observation_space = self.sim.observation_space
        self.single_action_space = self._actions.space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._root_seeds = np.zeros(self.num_envs, dtype=np.uint64)
        self._episodes = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)
        self._seeded = False
        self._chains_kept = False  # a failed reset keeps the chains of an earlier seeded reset
        self._last_raw: dict[str, Any] = {}  # the last step's info before masks (SAME_STEP's final_info)
        self._static: dict[str, Any] | None = None  # read-only snapshot of sim.static_info() (see _raw_info)
        self._safe_action = self._actions.safe_action()
        if render_patients is None:
            render_patients = min(self.num_envs, 4)
        if isinstance(render_patients, bool) or not isinstance(render_patients, (int, np.integer)) or not 1 <= render_patients <= self.num_envs:
            raise ValueError(f"render_patients must be an integer in [1, num_envs = {self.num_envs}], got {render_patients!r}")
        # kept only while a render mode is set: training pays nothing
        self._histories = (
            [_render.EpisodeHistory() for _ in range(int(render_patients))]
            if self.render_mode in _render.RENDER_MODES
            else None
        )

    def reset(self, *, seed: int | Sequence[int] | None = None, options: dict[str, Any] | None = None):
        saved = (self._root_seeds.copy(), self._episodes.copy(), self._seeded)
        try:
            return self._reset(seed, options)
        except Exception:
            # a rejected reset (bad options) draws no patients: the chains stay where they were
            # and the env needs a reset (the simulators validate before changing state)
            self._root_seeds, self._episodes, seeded = saved
            self._seeded = False
            self._chains_kept = seeded
            raise

    def _reset(self, seed: Any, options: dict[str, Any] | None):
        n = self.num_envs
        roots = None if seed is None else root_seeds(seed, n)  # the allowed seeds: sim/seeding.py
        super().reset(seed=int(roots[0]) if roots is not None and np.ndim(seed) == 0 else None)
        if seed is None and (self._seeded or self._chains_kept):
            # Like each single env of SyncVectorEnv: the next patient of every chain.
            self._episodes += 1
            self._autoreset[:] = False
            self._reset_patients(np.ones(n, dtype=bool), patient_key(self._root_seeds, self._episodes), options)
            self._seeded, self._chains_kept = True, False
            return self.sim.observation(), self._info(np.ones(n, dtype=bool))
        if roots is None:
            roots = self.np_random.integers(0, 2**63 - 1, size=n).astype(np.uint64)
        self._root_seeds = roots
        self._seeded = True
        self._chains_kept = False
        self._episodes[:] = 0
        self._autoreset[:] = False
        mask = np.ones(n, dtype=bool)
        self._reset_patients(mask, patient_key(self._root_seeds, self._episodes), options)
        return self.sim.observation(), self._info(mask)

    def step(self, actions: Any):
        if not self._seeded:
            raise ResetNeeded("step() called before a successful reset(); call reset() first")
        given = actions
        actions = np.asarray(actions)
        resetting = self._autoreset
        if resetting.any():
            if actions.shape != self.action_space.shape:
                self._actions.to_simulator(actions)  # raises with the shape message
            actions = actions.copy()
            actions[resetting] = self._safe_action
        actions = self._actions.to_simulator(actions)
        reward, terminated, truncated = self.sim.advance(actions)
        if resetting.any():
            self._episodes[resetting] += 1
            keys = patient_key(self._root_seeds[resetting], self._episodes[resetting])
            self._reset_patients(resetting, keys, None)
            reward = np.where(resetting, 0.0, reward)
            terminated = terminated & ~resetting
            truncated = truncated & ~resetting
        done = terminated | truncated
        info = self._info(resetting, given, reward, done)
        obs = self.sim.observation()
        if self._same_step:
            if done.any():  # reset the finished patients now (SyncVectorEnv's SAME_STEP layout)
                self._episodes[done] += 1
                self._reset_patients(done, patient_key(self._root_seeds[done], self._episodes[done]), None)
                final_obs = np.full(self.num_envs, None, dtype=object)
                for i in np.flatnonzero(done):
                    final_obs[i] = obs[i]
                final_info = _with_masks(self._last_raw, self.num_envs, done) if self._last_raw else {}
                obs = self.sim.observation()
                info = self._info(done)
                info.update(final_obs=final_obs, _final_obs=done.copy(), final_info=final_info, _final_info=done.copy())
        else:
            self._autoreset = done
        return obs, reward.astype(np.float64), terminated, truncated, info

    def _reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: dict[str, Any] | None) -> None:
        """Reset the masked patients; the static-info snapshot is taken anew at the next info."""
        self.sim.reset_patients(mask, keys, options)
        self._static = None

    def _raw_info(self) -> dict[str, Any]:
        """A fresh info tree: the step's values (``sim.fresh_info()``: arrays nobody else
        holds), plus the static (per-patient,
        reset-only) values from a read-only snapshot taken after the last reset. The snapshot's
        arrays are shared by the infos of one episode stretch (they cannot change or be written
        to); every dict is new. Copying them every step cost about a third of the info build."""
        info = self.sim.fresh_info()
        if self._static is None:
            self._static = copy_info(self.sim.static_info(), read_only=True)
        info.update(info_skeleton(self._static))
        return info

    def _info(
        self, started: np.ndarray, actions: Any = None, reward: np.ndarray | None = None, ended: np.ndarray | None = None
    ) -> dict[str, Any]:
        """The masked info (per ``info_level``); rendered patients' histories record the step
        (or start anew)."""
        mask = None
        if self.info_level != "full":
            rows = started if ended is None else started | ended
            if self.info_level == "none" or not rows.any():
                self._last_raw = {}
                return {}
            mask = rows
        info = self._raw_info()
        self._last_raw = info
        if self._histories is not None:
            self._record(info, started, actions, reward)
        return _with_masks(info, self.num_envs, mask)

    def _record(self, info: dict[str, Any], started: np.ndarray, actions: Any, reward: np.ndarray | None) -> None:
        """Add this step to the rendered patients' histories (a reset starts a new episode)."""
        for i, history in enumerate(self._histories):
            if started[i]:
                history.start(scalar_info(info, i))
            elif actions is not None:
                history.record(scalar_info(info, i), np.asarray(actions)[i], float(reward[i]))

    def render(self) -> tuple[Any, ...] | None:
        """One chart (``rgb_array``) or text summary (``ansi``) per rendered patient."""
        if self.render_mode is None:
            logger.warn("You are calling render method without specifying any render mode.")
            return None
        if self._histories is None:
            logger.warn(f"render_mode {self.render_mode!r} is not supported; allowed: {list(_render.RENDER_MODES)}")
            return None
        name = self.spec.id if self.spec is not None else type(self).__name__
        draw = self.sim.render_ansi if self.render_mode == "ansi" else self.sim.render_rgb
        return tuple(draw(h, f"{name} [patient {i}]") for i, h in enumerate(self._histories))

    def close_extras(self, **kwargs: Any) -> None:
        return None
