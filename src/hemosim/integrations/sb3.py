"""Stable-Baselines3 adapter: the native hemosim vector env as an SB3 ``VecEnv``.

SB3's usual path, ``make_vec_env("hemosim/...", n_envs=N)``, runs ``N`` single envs one
after another in Python (``DummyVecEnv``). :class:`HemosimVecEnv` instead wraps the
native batched vector env (one array program for all ``N`` patients), so PPO / A2C / SAC
collect experience at the vector env's speed::

    from hemosim.integrations.sb3 import make_sb3_vec_env
    from stable_baselines3 import PPO

    venv = make_sb3_vec_env("hemosim/WarfarinDosing-v0", n_envs=64, seed=0, symmetric_actions=True)
    PPO("MlpPolicy", venv).learn(100_000)

Semantics are SB3's ``VecEnv`` contract: a finished episode is reset in the same step
(the native env's ``SAME_STEP`` autoreset), its last observation is in
``infos[i]["terminal_observation"]`` and ``infos[i]["TimeLimit.truncated"]`` says whether
it was cut by the time limit; rewards are float32. Patient ``i`` of an adapter seeded
``s`` is the single env seeded ``s + i``, so the adapter's episodes are those of
``make_vec_env(..., seed=s)``.

``info_keys`` chooses which of the env's info values are copied into SB3's per-env info
dicts: ``()`` (default; only SB3's own keys, the fast path for training: the native env
is then made with ``info_level="none"`` unless ``info_level`` is given), a list of keys,
or ``"all"`` (every value, as ``DummyVecEnv`` gives; costs a Python dict per patient per
step). Requires ``stable-baselines3`` (``pip install hemosim[sb3]``), imported only here.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

try:
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "hemosim.integrations.sb3 needs stable-baselines3: pip install 'hemosim[sb3]'"
    ) from exc

import hemosim  # noqa: F401  (registers the ids)

__all__ = ["HemosimVecEnv", "make_sb3_vec_env"]


class HemosimVecEnv(VecEnv):
    """An SB3 ``VecEnv`` over the native vector env of a registered hemosim id."""

    def __init__(
        self,
        env_id: str,
        n_envs: int,
        *,
        info_keys: Iterable[str] | str = (),
        render_mode: str | None = None,
        **env_kwargs: Any,
    ) -> None:
        if isinstance(n_envs, bool) or not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise ValueError(f"n_envs must be a positive integer, got {n_envs!r}")
        if "autoreset_mode" in env_kwargs:
            raise ValueError("the SB3 adapter sets autoreset_mode itself (SB3 resets in the same step)")
        if info_keys == () and render_mode is None:
            # SB3 then reads no info value: the env need not build one (the final
            # observations of SAME_STEP autoreset still come back)
            env_kwargs.setdefault("info_level", "none")
        self.venv = gym.make_vec(
            env_id,
            num_envs=int(n_envs),
            vectorization_mode="vector_entry_point",
            render_mode=render_mode,
            autoreset_mode=AutoresetMode.SAME_STEP,
            **env_kwargs,
        )
        self.env_id = env_id
        self.render_mode = render_mode
        self.metadata = self.venv.metadata
        super().__init__(int(n_envs), self.venv.single_observation_space, self.venv.single_action_space)
        if info_keys == "all":
            self._info_keys: tuple[str, ...] | None = None
        elif isinstance(info_keys, str):
            raise ValueError(f"info_keys must be 'all' or a sequence of info keys, got {info_keys!r}")
        else:
            self._info_keys = tuple(info_keys)
        self._actions: np.ndarray | None = None

    # -- the VecEnv contract ------------------------------------------------------------------
    def reset(self):
        seeds = self._seeds
        if all(s is None for s in seeds):
            obs, info = self.venv.reset(options=self._options[0] or None)
        elif any(s is None for s in seeds):
            raise ValueError(f"seed every environment or none of them; got {seeds}")
        else:
            obs, info = self.venv.reset(seed=[int(s) for s in seeds], options=self._options[0] or None)
        self.reset_infos = self._per_env(info, np.ones(self.num_envs, dtype=bool))
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait() called without step_async()")
        obs, reward, terminated, truncated, info = self.venv.step(self._actions)
        self._actions = None
        dones = terminated | truncated
        infos = self._per_env(info, ~dones)
        if dones.any():
            finished = self._per_env(info["final_info"], dones)  # the info of the episode's last step
            restarted = self._per_env(info, dones)  # the new patients' reset info
            for i in np.flatnonzero(dones):
                entry = finished[i]
                entry["terminal_observation"] = info["final_obs"][i]
                entry["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
                infos[i] = entry
                self.reset_infos[i] = restarted[i]
        return obs, reward.astype(np.float32), dones, infos

    def _per_env(self, info: dict[str, Any], rows: np.ndarray) -> list[dict[str, Any]]:
        """SB3's list of per-env info dicts holding the chosen keys (for ``rows``)."""
        out: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        keys = [k for k in info if not k.startswith("_") and k not in ("final_obs", "final_info")]
        if self._info_keys is not None:
            keys = [k for k in self._info_keys if k in info]
        for key in keys:
            value = info[key]
            for i in np.flatnonzero(rows):
                out[i][key] = _row(value, i)
        return out

    def close(self) -> None:
        self.venv.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        """One chart per rendered patient (the native env renders ``render_patients`` of them)."""
        if self.render_mode != "rgb_array":
            return [None] * self.num_envs
        frames = list(self.venv.render())
        return frames + [None] * (self.num_envs - len(frames))

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        value = getattr(self.venv, attr_name) if hasattr(self.venv, attr_name) else self.venv.get_wrapper_attr(attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.venv, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        result = getattr(self.venv, method_name)(*method_args, **method_kwargs)
        return [result for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]  # no per-env wrappers: one batched program


def _row(value: Any, i: int) -> Any:
    if isinstance(value, dict):
        return {k: _row(v, i) for k, v in value.items() if not k.startswith("_")}
    item = value[i]
    return item.item() if isinstance(item, np.generic) else item


def make_sb3_vec_env(
    env_id: str,
    n_envs: int = 1,
    seed: int | None = None,
    *,
    monitor: bool = True,
    info_keys: Iterable[str] | str = (),
    **env_kwargs: Any,
):
    """The adapter, seeded like ``make_vec_env(..., seed=seed)`` and wrapped in SB3's
    ``VecMonitor`` (episode returns and lengths in ``infos[i]["episode"]``) unless
    ``monitor=False``. ``env_kwargs`` go to the environment (``difficulty``,
    ``symmetric_actions``, ...)."""
    venv = HemosimVecEnv(env_id, n_envs, info_keys=info_keys, **env_kwargs)
    if seed is not None:
        venv.seed(seed)
    if monitor:
        from stable_baselines3.common.vec_env import VecMonitor

        return VecMonitor(venv)
    return venv


def ppo_throughput(
    env_id: str = "hemosim/WarfarinDosing-v0",
    n_envs: int = 64,
    path: str = "adapter",
    total_steps: int = 4096 * 5,
    n_steps: int = 64,
    seed: int = 0,
) -> dict[str, float]:
    """SB3 PPO env-steps/s through ``path`` (``"adapter"`` or ``"dummy"``: ``make_vec_env``).

    Returns ``learn_steps_per_s`` (whole ``PPO.learn``: rollouts and gradient updates, SB3's
    ``time/fps``) and ``rollout_steps_per_s`` (experience collection only: env steps plus the
    policy's forward passes). PPO: MlpPolicy (SB3 default 64-64), ``n_steps`` per env,
    batch min(512, n_steps x n_envs), 4 epochs, CPU. One warm-up rollout is excluded.
    """
    import time

    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    if path == "adapter":
        venv = make_sb3_vec_env(env_id, n_envs=n_envs, seed=seed, symmetric_actions=True)
    elif path == "dummy":
        venv = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs={"symmetric_actions": True})
    else:
        raise ValueError(f"path must be 'adapter' or 'dummy', got {path!r}")

    class _RolloutClock(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []
            self._t0 = 0.0

        def _on_rollout_start(self) -> None:
            self._t0 = time.perf_counter()

        def _on_rollout_end(self) -> None:
            self.seconds.append(time.perf_counter() - self._t0)

        def _on_step(self) -> bool:
            return True

    batch = min(512, n_steps * n_envs)
    model = PPO("MlpPolicy", venv, n_steps=n_steps, batch_size=batch, n_epochs=4, seed=seed, device="cpu", verbose=0)
    per_rollout = n_steps * n_envs
    model.learn(per_rollout)  # warm-up: compilation, first allocations
    clock = _RolloutClock()
    t0 = time.perf_counter()
    model.learn(total_steps, callback=clock, reset_num_timesteps=False)
    learn_s = time.perf_counter() - t0
    steps = len(clock.seconds) * per_rollout
    venv.close()
    return {"learn_steps_per_s": steps / learn_s, "rollout_steps_per_s": steps / sum(clock.seconds)}
