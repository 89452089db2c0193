"""``hemosim train``: PPO (Stable-Baselines3) on the native vector env of any hemosim env,
trained on training patients only, evaluated on the held-out ones like the leaderboard.

What a run writes into ``out`` (default ``results/agents``), named ``<env>-ppo-s<seed>``:

* ``.zip``: the SB3 model (``PPO.load``);
* ``.png``: the training curve (mean episode return of each rollout vs environment steps);
* ``.json``: the configuration, the training seeds, library versions, the curve and the
  held-out evaluation row (``hemosim.leaderboard.evaluate_policy``: the env's primary
  metric, return, events per 100 patient-years, cost, CDS firings).

Training seeds: the adapter seeded ``seed`` runs patient ``i`` on the chain of root seed
``seed + i`` (later episodes: the next patients of each chain), and every root must lie in
``hemosim.reproducibility.TRAIN_SEEDS``; the held-out roots are never trained on.

Choices (this module's, not a paper's): SB3's ``MlpPolicy`` (64-64, tanh) on the current
observation (on the POMDP env this is a memoryless policy), Box actions trained in
``[-1, 1]`` (``symmetric_actions=True``, SB3's advice) and mapped back for evaluation,
``n_steps = 128`` per env, batch 1,024, 10 epochs, SB3's other PPO defaults, CPU. Needs the
``train`` extra (``pip install hemosim[train]``: torch, stable-baselines3).
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from hemosim.reproducibility import TRAIN_SEEDS, assert_train

__all__ = ["train", "SB3Policy", "load_agent", "agent_name", "train_extra_installed"]


def train_extra_installed() -> bool:
    """Whether the ``train`` extra (torch and Stable-Baselines3, imported lazily here) is installed:
    saving, loading and training agents need it."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("torch", "stable_baselines3"))


def agent_name(env_id: str, seed: int) -> str:
    return f"{env_id.split('/')[-1]}-ppo-s{seed}"


class SB3Policy:
    """A trained SB3 model as a batch policy over the native action space (deterministic)."""

    def __init__(self, model: Any, symmetric: bool, space: gym.Space) -> None:
        self.model, self.symmetric, self.space = model, symmetric, space

    def predict(self, obs: Any, info: Any = None) -> np.ndarray:
        action, _ = self.model.predict(np.asarray(obs, dtype=np.float32), deterministic=True)
        if self.symmetric:  # [-1, 1] -> the native Box bounds (as the env's symmetric_actions)
            low, high = self.space.low, self.space.high
            action = low + (np.clip(action, -1.0, 1.0) + 1.0) * 0.5 * (high - low)
            action = np.clip(action, low, high).astype(self.space.dtype)
        return action


def load_agent(path: str | Path) -> tuple[str, SB3Policy]:
    """``(env_id, policy)`` from a run's JSON record (the model next to it)."""
    from stable_baselines3 import PPO

    record = json.loads(Path(path).read_text())
    model = PPO.load(str(Path(path).with_suffix(".zip")), device="cpu")
    space = gym.make_vec(record["env_id"], num_envs=1, vectorization_mode="vector_entry_point").single_action_space
    return record["env_id"], SB3Policy(model, record["symmetric_actions"], space)


def train(
    env_id: str,
    timesteps: int = 200_000,
    n_envs: int = 64,
    seed: int = 0,
    out: str | Path = "results/agents",
    eval_patients: int = 1000,
    progress: bool = True,
) -> dict[str, Any]:
    """Train PPO on ``env_id`` and evaluate it on ``eval_patients`` held-out patients."""
    try:
        import stable_baselines3
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.callbacks import BaseCallback
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("hemosim train needs the train extra: pip install 'hemosim[train]'") from exc
    from hemosim.integrations.sb3 import make_sb3_vec_env
    from hemosim.leaderboard import BOARDS, evaluate_policy

    if env_id not in BOARDS:
        raise ValueError(f"unknown env id {env_id!r}; allowed: {sorted(BOARDS)}")
    for name, value, low in (("timesteps", timesteps, 1), ("n_envs", n_envs, 1), ("eval_patients", eval_patients, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    roots = range(seed, seed + n_envs)
    if seed < TRAIN_SEEDS.start or seed + n_envs > TRAIN_SEEDS.stop:
        raise ValueError(f"training root seeds {seed}..{seed + n_envs - 1} leave the training pool range(0, 10000)")
    assert_train(list(roots))
    board = BOARDS[env_id]
    space = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point", **dict(board.options)).single_action_space
    symmetric = isinstance(space, gym.spaces.Box)
    env_kwargs = dict(board.options, **({"symmetric_actions": True} if symmetric else {}))
    venv = make_sb3_vec_env(env_id, n_envs=n_envs, seed=seed, **env_kwargs)
    n_steps = 128
    model = PPO("MlpPolicy", venv, n_steps=n_steps, batch_size=min(1024, n_steps * n_envs), n_epochs=10, seed=seed,
                device="cpu", verbose=0)
    curve: list[tuple[int, float]] = []

    class _Curve(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self._returns: list[float] = []
            self._bar = None

        def _on_training_start(self) -> None:
            if progress:
                from tqdm.auto import tqdm

                self._bar = tqdm(total=timesteps, desc=f"PPO {env_id}", unit="step")

        def _on_step(self) -> bool:
            for info in self.locals.get("infos", ()):
                if "episode" in info:
                    self._returns.append(float(info["episode"]["r"]))
            if self._bar is not None:
                self._bar.update(self.training_env.num_envs)
            return True

        def _on_rollout_end(self) -> None:
            if self._returns:
                curve.append((int(self.num_timesteps), float(np.mean(self._returns))))
                self._returns = []

        def _on_training_end(self) -> None:
            if self._bar is not None:
                self._bar.close()

    t0 = time.perf_counter()
    model.learn(timesteps, callback=_Curve())
    train_s = time.perf_counter() - t0
    venv.close()
    policy = SB3Policy(model, symmetric, space)
    evaluation = evaluate_policy(env_id, policy, eval_patients)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = agent_name(env_id, seed)
    model.save(str(out / f"{name}.zip"))
    record = {
        "env_id": env_id, "algorithm": "PPO (stable-baselines3, MlpPolicy)", "timesteps": timesteps, "n_envs": n_envs,
        "seed": seed, "training_root_seeds": [roots.start, roots.stop - 1], "symmetric_actions": symmetric,
        "env_options": dict(board.options), "ppo": {"n_steps": n_steps, "batch_size": min(1024, n_steps * n_envs),
                                                   "n_epochs": 10},
        "train_seconds": train_s, "versions": {"python": platform.python_version(), "numpy": np.__version__,
                                               "gymnasium": gym.__version__, "torch": torch.__version__,
                                               "stable_baselines3": stable_baselines3.__version__},
        "curve": curve, "held_out_evaluation": evaluation,
    }
    (out / f"{name}.json").write_text(json.dumps(record, indent=1, default=float))
    _plot_curve(curve, env_id, out / f"{name}.png")
    return record


def _plot_curve(curve: list[tuple[int, float]], env_id: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if curve:
        steps, returns = zip(*curve)
        ax.plot(steps, returns, lw=1.5)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("mean episode return")
    ax.set_title(f"PPO on {env_id} (training patients)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
