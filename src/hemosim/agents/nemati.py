"""A DQN heparin-dosing agent in the set-up of Nemati, Ghassemi & Clifford 2016, as far as
it can be verified (the ``train`` extra: torch, stable-baselines3).

Nemati S, Ghassemi MM, Clifford GD. "Optimal medication dosing from suboptimal clinical
examples: a deep reinforcement learning approach." IEEE EMBC 2016:2978-2981 (FACTS §4.6).
Only the abstract could be read. What is the paper's and what is ours:

* **paper (abstract, VERIFIED)**: deep RL learning a heparin dosing policy from dosing trails
  and outcomes; the patient's state evolves and is partially observed (the paper used a
  discriminative hidden Markov model for it); separate training and test patients.
* **reward (VERIFIED as Lim, Park & Lee 2025's reproduction, IEEE Access, Eq. 2; UNCONFIRMED
  as printed in Nemati 2016)**: ``r = 2 / (1 + exp(-(aPTT - lo))) - 2 / (1 + exp(-(aPTT - hi))) - 1``,
  about +1 inside the window, 0 at its edges, -1 far outside. Lim's window is 60-100 s for
  their assay; **assumed here**: this env's therapeutic range, 46-70 s (Raschke 1993,
  1.5-2.3 x control), so that the agent aims where the env's TTR and the nomogram aim. The
  aPTT is the measured one the full env reports each 6 h (what a clinician charts); on the
  POMDP env, where measured values arrive only when ordered, the true hourly aPTT (a
  simulator reward, **assumed**) minus the env's laboratory-cost term.
* **actions (assumed; Lim 2025's code uses 6 dose categories)**: 6 infusion rates, 0, 500,
  1,000, 1,500, 2,000 and 2,500 U/h, no bolus; on the POMDP env x {order nothing, order a
  routine aPTT} (12 actions).
* **state (assumed)**: the env's observation; on the POMDP env the last 8 hourly
  observations stacked (a finite-memory stand-in for the paper's HMM belief).
* **learner (assumed)**: Stable-Baselines3's DQN (replay, target network, epsilon-greedy;
  its defaults apart from those set in :func:`train_dqn`), MLP 64-64.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from hemosim.reproducibility import TRAIN_SEEDS, assert_train

__all__ = ["RATE_BINS_U_PER_H", "STACK", "nemati_reward", "DiscreteHeparinPolicy", "train_dqn", "load_dqn"]

RATE_BINS_U_PER_H = (0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0)
WINDOW_S = (46.0, 70.0)  # assumed: this env's therapeutic aPTT range (Lim 2025 used 60-100 s)
STACK = 8  # hourly observations stacked on the POMDP env
ENVS = ("hemosim/HeparinInfusion-v0", "hemosim/HeparinInfusion-POMDP-v0")


def nemati_reward(aptt_s: np.ndarray, low: float = WINDOW_S[0], high: float = WINDOW_S[1]) -> np.ndarray:
    """Lim 2025's (Nemati-attributed) sigmoid aPTT reward, elementwise."""
    a = np.asarray(aptt_s, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 2.0 / (1.0 + np.exp(-(a - low))) - 2.0 / (1.0 + np.exp(-(a - high))) - 1.0


def _pomdp(env_id: str) -> bool:
    if env_id not in ENVS:
        raise ValueError(f"the Nemati DQN runs on {list(ENVS)}, got {env_id!r}")
    return env_id.endswith("POMDP-v0")


def n_actions(env_id: str) -> int:
    return len(RATE_BINS_U_PER_H) * (2 if _pomdp(env_id) else 1)


def native_actions(env_id: str, discrete: np.ndarray) -> np.ndarray:
    """Discrete actions ``(N,)`` -> the env's Box actions (float32)."""
    from hemosim.envs.heparin import MAX_RATE_U_PER_H

    d = np.asarray(discrete, dtype=np.int64).reshape(-1)
    k = len(RATE_BINS_U_PER_H)
    rate = np.asarray(RATE_BINS_U_PER_H)[d % k] / MAX_RATE_U_PER_H
    if not _pomdp(env_id):
        return np.stack([rate, np.zeros_like(rate)], axis=1).astype(np.float32)
    order = np.where(d // k == 1, 0.5, 0.0)  # 0.5: a routine order (levels at 1/3 and 2/3)
    zero = np.zeros_like(rate)
    return np.stack([rate, zero, order, zero, zero], axis=1).astype(np.float32)


def _wrapped_vec_env(env_id: str, n_envs: int, seed: int):
    """The SB3 VecEnv the DQN trains on: discrete actions, Nemati reward, stacked on the POMDP."""
    from stable_baselines3.common.vec_env import VecEnvWrapper, VecFrameStack

    from hemosim.integrations.sb3 import make_sb3_vec_env

    pomdp = _pomdp(env_id)
    keys = ("aptt_true_s", "reward_lab_cost") if pomdp else ("aptt",)
    base = make_sb3_vec_env(env_id, n_envs=n_envs, seed=seed, monitor=False, info_keys=keys)

    class _Nemati(VecEnvWrapper):
        def __init__(self, venv):
            super().__init__(venv, action_space=gym.spaces.Discrete(n_actions(env_id)))

        def reset(self):
            return self.venv.reset()

        def step_async(self, actions):
            self.venv.step_async(native_actions(env_id, actions))

        def step_wait(self):
            obs, _, dones, infos = self.venv.step_wait()
            if pomdp:
                reward = nemati_reward([i["aptt_true_s"] for i in infos]) + np.array([i["reward_lab_cost"] for i in infos])
            else:
                reward = nemati_reward([i["aptt"] for i in infos])
            return obs, reward.astype(np.float32), dones, infos

    from stable_baselines3.common.vec_env import VecMonitor

    venv = VecMonitor(_Nemati(base))
    return VecFrameStack(venv, STACK) if pomdp else venv


class DiscreteHeparinPolicy:
    """A trained DQN as a batch policy over the env's native actions (greedy; on the POMDP
    env it keeps the last ``STACK`` observations per patient, zeros before the first)."""

    def __init__(self, model: Any, env_id: str) -> None:
        self.model, self.env_id, self.pomdp = model, env_id, _pomdp(env_id)
        self._stack: np.ndarray | None = None

    def reset(self) -> None:
        self._stack = None

    def predict(self, obs: Any, info: Any = None) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float32)
        if self.pomdp:
            if self._stack is None or self._stack.shape[0] != obs.shape[0]:
                self._stack = np.zeros((obs.shape[0], STACK * obs.shape[1]), dtype=np.float32)
            self._stack = np.concatenate([self._stack[:, obs.shape[1]:], obs], axis=1)
            obs = self._stack
        action, _ = self.model.predict(obs, deterministic=True)
        return native_actions(self.env_id, action)


def train_dqn(env_id: str, timesteps: int = 300_000, n_envs: int = 32, seed: int = 0,
              out: str | Path = "results/agents", eval_patients: int = 1000) -> dict[str, Any]:
    """Train the DQN on training patients; evaluate on held-out ones (the leaderboard row);
    write ``<env>-nemati-dqn-s<seed>.{zip,json}``."""
    from stable_baselines3 import DQN

    from hemosim.leaderboard import evaluate_policy

    _pomdp(env_id)
    if seed < TRAIN_SEEDS.start or seed + n_envs > TRAIN_SEEDS.stop:
        raise ValueError(f"training root seeds {seed}..{seed + n_envs - 1} leave the training pool range(0, 10000)")
    assert_train(list(range(seed, seed + n_envs)))
    venv = _wrapped_vec_env(env_id, n_envs, seed)
    model = DQN("MlpPolicy", venv, learning_rate=5e-4, buffer_size=200_000, learning_starts=5_000, batch_size=256,
                gamma=0.99, train_freq=4, gradient_steps=1, target_update_interval=2_000, exploration_fraction=0.3,
                exploration_final_eps=0.02, seed=seed, device="cpu", verbose=0)
    model.learn(timesteps)
    venv.close()
    evaluation = evaluate_policy(env_id, DiscreteHeparinPolicy(model, env_id), eval_patients)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{env_id.split('/')[-1]}-nemati-dqn-s{seed}"
    model.save(str(out / f"{name}.zip"))
    record = {"env_id": env_id, "algorithm": "Nemati 2016 set-up, DQN (stable-baselines3)", "agent": "nemati-dqn",
              "timesteps": timesteps, "n_envs": n_envs, "seed": seed, "training_root_seeds": [seed, seed + n_envs - 1],
              "rate_bins_u_per_h": list(RATE_BINS_U_PER_H), "reward_window_s": list(WINDOW_S),
              "frame_stack": STACK if _pomdp(env_id) else 1, "held_out_evaluation": evaluation}
    (out / f"{name}.json").write_text(json.dumps(record, indent=1, default=float))
    return record


def load_dqn(path: str | Path) -> tuple[str, DiscreteHeparinPolicy]:
    """``(env_id, policy)`` from a saved run's JSON record."""
    from stable_baselines3 import DQN

    record = json.loads(Path(path).read_text())
    return record["env_id"], DiscreteHeparinPolicy(DQN.load(str(Path(path).with_suffix(".zip")), device="cpu"),
                                                   record["env_id"])
