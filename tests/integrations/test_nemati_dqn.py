"""The Nemati 2016 set-up DQN (train extra): its reward (hand-worked values), action
mapping, a tiny training run on each heparin env, and its seed-pool guard."""

from __future__ import annotations

import numpy as np
import pytest

from hemosim.agents.nemati import RATE_BINS_U_PER_H, n_actions, native_actions, nemati_reward


def test_reward_hand_worked_values():
    # 2 sigma(x - 46) - 2 sigma(x - 70) - 1: 0 at both edges, ~ +1 in the middle, -> -1 outside
    r = nemati_reward(np.array([46.0, 70.0, 58.0, 20.0, 150.0]))
    assert r[0] == pytest.approx(2 * 0.5 - 2 / (1 + np.exp(24.0)) - 1, abs=1e-12)
    assert abs(r[0]) < 1e-9 and abs(r[1]) < 1e-9
    assert r[2] == pytest.approx(1.0, abs=1e-4)
    assert r[3] == pytest.approx(-1.0, abs=1e-9) and r[4] == pytest.approx(-1.0, abs=1e-9)


def test_action_mapping():
    full = native_actions("hemosim/HeparinInfusion-v0", np.arange(6))
    assert full.shape == (6, 2) and np.allclose(full[:, 0] * 2500.0, RATE_BINS_U_PER_H) and (full[:, 1] == 0).all()
    pomdp = native_actions("hemosim/HeparinInfusion-POMDP-v0", np.arange(12))
    assert n_actions("hemosim/HeparinInfusion-POMDP-v0") == 12
    assert (pomdp[:6, 2] == 0).all() and (pomdp[6:, 2] == 0.5).all()  # order a routine aPTT (band 1/3-2/3)
    with pytest.raises(ValueError, match="runs on"):
        native_actions("hemosim/WarfarinDosing-v0", np.arange(3))


@pytest.mark.parametrize("env_id", ["hemosim/HeparinInfusion-v0", "hemosim/HeparinInfusion-POMDP-v0"])
def test_tiny_training_run(env_id, tmp_path):
    pytest.importorskip("stable_baselines3")
    from hemosim.agents.nemati import load_dqn, train_dqn

    record = train_dqn(env_id, timesteps=1500, n_envs=4, seed=12, out=tmp_path, eval_patients=8)
    assert record["training_root_seeds"] == [12, 15]
    assert np.isfinite(record["held_out_evaluation"]["metric"])
    loaded_env, policy = load_dqn(next(tmp_path.glob("*.json")))
    assert loaded_env == env_id
    obs_dim = 6 if env_id.endswith("Infusion-v0") else 10
    policy.reset()
    action = policy.predict(np.zeros((3, obs_dim), dtype=np.float32))
    assert action.shape == (3, 2 if obs_dim == 6 else 5)


def test_seed_pool_guard():
    pytest.importorskip("stable_baselines3")
    from hemosim.agents.nemati import train_dqn

    with pytest.raises(ValueError, match="leave the training pool"):
        train_dqn("hemosim/HeparinInfusion-v0", timesteps=10, n_envs=8, seed=9995)
