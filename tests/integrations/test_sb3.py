"""Stable-Baselines3 as its users call it (issue #12): ``make_vec_env``, SB3's ``check_env``,
``SubprocVecEnv``, the native ``VecEnv`` adapter and PPO through both paths.

Skipped cleanly where stable-baselines3 is not installed (the quick-start test command);
CI installs the ``sb3`` extra and runs them.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv  # noqa: E402

import hemosim  # noqa: E402,F401
from hemosim.integrations.sb3 import HemosimVecEnv, make_sb3_vec_env  # noqa: E402

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))


def _episode_steps(env_id: str) -> int:
    env = gym.make(env_id)
    env.reset(seed=0)
    a = env.unwrapped._actions.safe_action()
    for t in range(1, 10_000):
        if any(env.step(a)[2:4]):
            return t
    raise AssertionError("no end")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_make_vec_env_with_sb3_defaults(env_id):
    """SB3 creates envs with render_mode="rgb_array"; this used to raise ValueError."""
    venv = make_vec_env(env_id, n_envs=4, seed=0)
    assert isinstance(venv, DummyVecEnv)
    obs = venv.reset()
    assert obs.shape == (4, *venv.observation_space.shape)
    for _ in range(3):
        obs, reward, done, info = venv.step(np.stack([venv.action_space.sample() for _ in range(4)]))
    assert np.all(np.isfinite(reward)) and len(info) == 4
    assert venv.render_mode == "rgb_array"
    venv.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
@pytest.mark.parametrize("symmetric", [False, True])
def test_sb3_check_env(env_id, symmetric):
    if symmetric and not isinstance(gym.make(env_id).action_space, gym.spaces.Box):
        with pytest.raises(ValueError, match="symmetric_actions=True needs a Box"):
            gym.make(env_id, symmetric_actions=True)  # a discrete space has nothing to rescale
        return
    env = gym.make(env_id, symmetric_actions=symmetric)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env, warn=True)
    messages = [str(w.message) for w in caught]
    if symmetric:  # SB3's advice (a symmetric, normalised Box) is met: nothing to warn about
        assert not [m for m in messages if "symmetric" in m], messages


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_subproc_vec_env(env_id):
    """Worker processes start without hemosim imported: Gymnasium's "module:id" form imports it
    (Gymnasium 1.x has no plugin registry; the plain id works in the parent process only)."""
    venv = make_vec_env(f"hemosim:{env_id}", n_envs=2, seed=3, vec_env_cls=SubprocVecEnv)
    obs = venv.reset()
    obs2, reward, done, info = venv.step(np.stack([venv.action_space.sample() for _ in range(2)]))
    reference = make_vec_env(env_id, n_envs=2, seed=3)
    np.testing.assert_array_equal(obs, reference.reset())
    venv.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_adapter_equals_make_vec_env_through_episode_ends(env_id):
    n = 3
    adapter = make_sb3_vec_env(env_id, n_envs=n, seed=11, info_keys="all")
    dummy = make_vec_env(env_id, n_envs=n, seed=11)
    np.testing.assert_array_equal(adapter.reset(), dummy.reset())
    rng = np.random.default_rng(0)
    space = dummy.action_space
    ends = 0
    for _ in range(_episode_steps(env_id) + 3):
        if isinstance(space, gym.spaces.Box):
            a = rng.uniform(space.low, space.high, size=(n, *space.shape)).astype(np.float32)
        else:  # MultiDiscrete
            a = rng.integers(0, space.nvec, size=(n, *space.shape))
        o1, r1, d1, i1 = adapter.step(a)
        o2, r2, d2, i2 = dummy.step(a)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_allclose(r1, r2, rtol=1e-6)
        np.testing.assert_array_equal(d1, d2)
        assert r1.dtype == np.float32
        for k in np.flatnonzero(d1):
            ends += 1
            np.testing.assert_array_equal(i1[k]["terminal_observation"], i2[k]["terminal_observation"])
            assert i1[k]["TimeLimit.truncated"] == i2[k]["TimeLimit.truncated"]
            assert i1[k]["episode"]["l"] == i2[k]["episode"]["l"]
            assert i1[k]["episode"]["r"] == pytest.approx(i2[k]["episode"]["r"], rel=1e-5)
        shared = [key for key in i2[0] if key in i1[0] and isinstance(i2[0][key], float)]
        assert shared  # info_keys="all" passes the clinical values through
        for key in shared:
            assert i1[0][key] == pytest.approx(i2[0][key])
    assert ends == n


def test_adapter_default_infos_hold_only_sb3_keys_and_bad_arguments_raise():
    venv = HemosimVecEnv(ENV_IDS[0], 2, info_keys=())
    venv.reset()
    _, _, _, infos = venv.step(np.zeros((2, *venv.action_space.shape), dtype=np.float32))
    assert infos == [{}, {}]
    with pytest.raises(ValueError, match="n_envs"):
        HemosimVecEnv(ENV_IDS[0], 0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        HemosimVecEnv(ENV_IDS[0], 2, autoreset_mode="NextStep")
    with pytest.raises(ValueError, match="info_keys"):
        HemosimVecEnv(ENV_IDS[0], 2, info_keys="inr")
    assert venv.get_attr("num_envs") == [2, 2] and venv.env_is_wrapped(gym.Wrapper) == [False, False]


def _tiny_ppo(venv, seed: int = 0) -> PPO:
    return PPO(
        "MlpPolicy", venv, n_steps=256, batch_size=256, n_epochs=2, learning_rate=3e-4, seed=seed,
        policy_kwargs={"net_arch": [16]}, device="cpu", verbose=0,
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", ["make_vec_env", "adapter"])
def test_ppo_trains_20k_steps_on_warfarin(path):
    env_id, n = "hemosim/WarfarinDosing-v0", 4
    if path == "make_vec_env":
        venv = make_vec_env(env_id, n_envs=n, seed=0, env_kwargs={"symmetric_actions": True})
    else:
        venv = make_sb3_vec_env(env_id, n_envs=n, seed=0, symmetric_actions=True)
    model = _tiny_ppo(venv)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(20_000)
    assert model.num_timesteps >= 20_000
    episodes = list(model.ep_info_buffer)
    assert len(episodes) == min(100, model.num_timesteps // 90 // n * n)  # 90-day episodes (SB3 keeps the last 100)
    assert all(e["l"] == 90 and np.isfinite(e["r"]) for e in episodes)
    assert any(not np.allclose(b, a.detach()) for b, a in zip(before, model.policy.parameters()))
    venv.close()


def test_throughput_script_runs(capsys):
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "scripts" / "sb3_throughput.py"
    module = runpy.run_path(str(script))
    assert module["main"](["--env", "hemosim/HeparinInfusion-v0", "--n-envs", "4", "--rollouts", "1", "--n-steps", "32"]) == 0
    out = capsys.readouterr().out
    assert "ratio adapter / DummyVecEnv" in out
