"""One generic :class:`gymnasium.Env` face (N = 1) over any batched simulator."""

from __future__ import annotations

from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from hemosim.sim import render as _render
from hemosim.sim.action_range import ActionRange
from hemosim.sim.batch import BatchedSimulator
from hemosim.sim.rng import patient_key
from hemosim.sim.seeding import root_seeds

__all__ = ["SingleEnv", "scalar_info", "fresh_copy", "INFO_LEVELS", "check_info_level"]

#: how much ``info`` an env builds (face option ``info_level``): ``"full"`` every step (the
#: default), ``"episode"`` only at reset and at the step that ends an episode (other steps
#: return ``{}``), ``"none"`` never (``{}`` always; training loops that never read it).
INFO_LEVELS = ("full", "episode", "none")


def check_info_level(info_level: object, render_mode: str | None) -> str:
    """Validate the ``info_level`` face option (rendering reads the info of every step)."""
    if info_level not in INFO_LEVELS:
        raise ValueError(f"unknown info_level {info_level!r}; allowed: {list(INFO_LEVELS)}")
    if render_mode is not None and info_level != "full":
        raise ValueError(
            f"render_mode={render_mode!r} draws the info of every step; it needs info_level='full', got {info_level!r}"
        )
    return str(info_level)


def scalar_info(batched: dict[str, Any], row: int = 0) -> dict[str, Any]:
    """Row ``row`` of a batched info dict, as plain Python scalars (fresh objects)."""
    out: dict[str, Any] = {}
    for key, value in batched.items():
        if type(value) is dict:
            out[key] = scalar_info(value, row)
        elif value.ndim == 1:
            out[key] = value.item(row)  # a Python scalar (or the object itself)
        else:
            out[key] = value[row].copy()
    return out


def fresh_copy(info: dict[str, Any]) -> dict[str, Any]:
    """A new dict tree holding the same immutable scalars (no shared mutable object)."""
    out = dict(info)
    for key, value in out.items():
        if type(value) is dict:
            out[key] = fresh_copy(value)  # replacing a value while iterating is allowed
    return out


class SingleEnv(gym.Env):
    """A single-patient environment: the batched simulator with ``num_patients = 1``.

    Seeding follows DESIGN.md: ``reset(seed=s)`` draws the patient keyed ``(s, 0)``; each
    later ``reset()`` without a seed draws the next patient of the same chain,
    ``(s, 1)``, ``(s, 2)``, ... A vector env seeded ``s`` runs patient ``i`` on the chain
    of ``s + i``, so it equals ``SyncVectorEnv`` of single envs seeded ``s, s + 1, ...``.

    Face options (not passed to the simulator): ``render_mode`` (``"rgb_array"``,
    ``"ansi"`` or ``None``; ``sim/render.py``), ``symmetric_actions`` (a Box action
    space of ``[-1, 1]`` mapped linearly onto the simulator's; ``sim/action_range.py``) and
    ``info_level`` (:data:`INFO_LEVELS`: ``"full"`` default, ``"episode"``, ``"none"``).
    ``step`` before ``reset``, or after the episode ended, raises Gymnasium's
    ``ResetNeeded``.
    """

    simulator_cls: ClassVar[type[BatchedSimulator]]
    metadata: dict[str, Any] = {"render_modes": list(_render.RENDER_MODES), "render_fps": _render.RENDER_FPS}

    def __init__(
        self, render_mode: str | None = None, symmetric_actions: bool = False, info_level: str = "full", **options: Any
    ) -> None:
        self.render_mode = _render.check_render_mode(render_mode)
        self.info_level = check_info_level(info_level, render_mode)
        self.sim = self.simulator_cls(1, **options)
        self._actions = ActionRange(self.sim, symmetric_actions)
        self.observation_space = self.sim.observation_space
        self.action_space = self._actions.space
        self._root_seed: int | None = None
        self._episode = 0
        self._all = np.ones(1, dtype=bool)
        self._static_info: dict[str, Any] = {}
        self._needs_reset = "before reset()"
        # kept only while a render mode is set: training pays nothing
        self._history = _render.EpisodeHistory() if self.render_mode in _render.RENDER_MODES else None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is not None:
            seed = int(root_seeds(seed, 1, allow_sequence=False)[0])
        saved = (self._root_seed, self._episode)
        super().reset(seed=seed)
        if seed is not None:
            self._root_seed, self._episode = seed, 0
        elif self._root_seed is None:
            self._root_seed, self._episode = int(self.np_random.integers(0, 2**63 - 1)), 0
        else:
            self._episode += 1
        keys = patient_key(np.array([self._root_seed], dtype=np.uint64), self._episode)
        try:
            self.sim.reset_patients(self._all, keys, options)
        except Exception:
            # a rejected reset (bad options) draws no patient: the chain stays where it was
            # and the env needs a reset (the simulators validate before changing state)
            self._root_seed, self._episode = saved
            self._needs_reset = "after a failed reset()"
            raise
        self._needs_reset = ""
        if self.info_level == "none":
            return self.sim.observation()[0], {}
        self._static_info = scalar_info(self.sim.static_info())
        info = self._info()
        if self._history is not None:
            self._history.start(info)
        return self.sim.observation()[0], info

    def _info(self) -> dict[str, Any]:
        info = self.sim.info_row(0)
        info.update(fresh_copy(self._static_info))
        return info

    def step(self, action: Any):
        if self._needs_reset:
            raise ResetNeeded(f"step() called {self._needs_reset}; call reset() first")
        arr = np.asarray(action)
        if arr.shape != self.action_space.shape or arr.dtype.kind == "b":
            self._actions.check_single(action)  # raises, in the single env's terms
        batch = self._actions.batch_to_simulator(arr[None])
        reward, terminated, truncated = self.sim.advance(batch)
        r, te, tr = float(reward[0]), bool(terminated[0]), bool(truncated[0])
        full = self.info_level == "full" or (self.info_level == "episode" and (te or tr))
        info = self._info() if full else {}
        if te or tr:
            self._needs_reset = "after the episode ended (" + ("terminated" if te else "truncated") + ")"
        if self._history is not None:
            self._history.record(info, action, r)
        return self.sim.observation()[0], r, te, tr, info

    def render(self) -> np.ndarray | str | None:
        """The episode so far: a chart (``rgb_array``) or a text summary (``ansi``)."""
        if self.render_mode is None:
            gym.logger.warn(
                "You are calling render method without specifying any render mode. You can specify the "
                f'render_mode at initialization, e.g. gym.make("{self._title()}", render_mode="rgb_array")'
            )
            return None
        if self._history is None:
            gym.logger.warn(f"render_mode {self.render_mode!r} is not supported; allowed: {list(_render.RENDER_MODES)}")
            return None
        if self.render_mode == "ansi":
            return self.sim.render_ansi(self._history, self._title())
        return self.sim.render_rgb(self._history, self._title())

    def _title(self) -> str:
        return self.spec.id if self.spec is not None else type(self).__name__
