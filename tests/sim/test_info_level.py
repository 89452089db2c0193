"""The ``info_level`` face option: ``"full"`` (default) / ``"episode"`` / ``"none"``.

The level changes only what ``info`` holds, never a trajectory; ``"episode"`` gives exactly
the full info at reset and at the step that ends an episode, ``{}`` otherwise."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import hemosim  # noqa: F401
from hemosim.safety import SafetyLayer

ENV_IDS = [
    "hemosim/WarfarinDosing-v0",
    "hemosim/HeparinInfusion-v0",
    "hemosim/HeparinInfusion-POMDP-v0",
    "hemosim/DOACManagement-v0",
    "hemosim/DICManagement-v0",
]


def _same(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return np.array_equal(np.asarray(a), np.asarray(b))


def _single_run(env_id: str, level: str):
    env = gym.make(env_id, info_level=level)
    obs, info = env.reset(seed=5)
    env.action_space.seed(1)
    out = [(obs, None, False, info)]
    while True:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        out.append((obs, reward, terminated or truncated, info))
        if terminated or truncated:
            return out


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_env_levels(env_id):
    full = _single_run(env_id, "full")
    episode = _single_run(env_id, "episode")
    none = _single_run(env_id, "none")
    assert len(full) == len(episode) == len(none) > 2
    for (o_f, r_f, d_f, i_f), (o_e, r_e, d_e, i_e), (o_n, r_n, d_n, i_n) in zip(full, episode, none):
        assert np.array_equal(o_f, o_e) and np.array_equal(o_f, o_n)
        assert r_f == r_e == r_n and d_f == d_e == d_n
        assert i_n == {}
        assert i_f  # full: never empty
    assert _same(episode[0][3], full[0][3])  # reset
    assert _same(episode[-1][3], full[-1][3])  # the step that ends the episode
    assert all(step[3] == {} for step in episode[1:-1])


@pytest.mark.parametrize("env_id", ENV_IDS[:3])
def test_vector_env_levels(env_id):
    n = 6
    runs = {}
    for level in ("full", "episode", "none"):
        venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", info_level=level)
        obs, info = venv.reset(seed=2)
        venv.action_space.seed(4)
        steps = [(obs, info, None)]
        for _ in range(130):  # past the first episode end of each env (and the autoreset step)
            obs, reward, terminated, truncated, info = venv.step(venv.action_space.sample())
            steps.append((obs, info, terminated | truncated))
        runs[level] = steps
    ends = 0
    for t, ((o_f, i_f, d_f), (o_e, i_e, _), (o_n, i_n, _)) in enumerate(zip(runs["full"], runs["episode"], runs["none"])):
        assert np.array_equal(o_f, o_e) and np.array_equal(o_f, o_n)
        assert i_n == {}
        if t == 0:
            assert _same(i_e, i_f)
            continue
        previous = runs["full"][t - 1][2]
        started = np.zeros(n, dtype=bool) if previous is None else previous  # NEXT_STEP: reset the step after
        rows = d_f | started
        if not rows.any():
            assert i_e == {}
            continue
        ends += int(d_f.any())
        assert i_e.keys() == i_f.keys()
        for key, value in i_e.items():
            if key.startswith("_") and not isinstance(value, dict):
                assert np.array_equal(value, rows), key  # the masks mark the rows that started or ended
            elif not isinstance(value, dict):
                assert np.array_equal(value[rows], i_f[key][rows]), key
    assert ends > 0


def test_same_step_autoreset_keeps_final_obs_without_info():
    venv = gym.make_vec("hemosim/HeparinInfusion-v0", num_envs=3, vectorization_mode="vector_entry_point",
                        info_level="none", autoreset_mode=AutoresetMode.SAME_STEP)
    venv.reset(seed=0)
    while True:
        _, _, terminated, truncated, info = venv.step(venv.action_space.sample())
        if (terminated | truncated).any():
            break
    assert info["_final_obs"].any() and info["final_info"] == {}
    assert all(info["final_obs"][i] is not None for i in np.flatnonzero(terminated | truncated))


@pytest.mark.parametrize("bad", ["some", "", None, 1])
def test_unknown_info_level(bad):
    with pytest.raises(ValueError, match="unknown info_level"):
        gym.make("hemosim/WarfarinDosing-v0", info_level=bad)
    with pytest.raises(ValueError, match="unknown info_level"):
        gym.make_vec("hemosim/WarfarinDosing-v0", num_envs=2, vectorization_mode="vector_entry_point", info_level=bad)


def test_render_needs_full_info():
    with pytest.raises(ValueError, match="needs info_level='full'"):
        gym.make("hemosim/WarfarinDosing-v0", render_mode="ansi", info_level="episode")


def test_safety_layer_needs_full_info():
    with pytest.raises(ValueError, match="info_level='full'"):
        SafetyLayer(gym.make("hemosim/WarfarinDosing-v0", info_level="none"))
    with pytest.raises(ValueError, match="info_level='full'"):
        SafetyLayer(gym.make_vec("hemosim/HeparinInfusion-v0", num_envs=2, vectorization_mode="vector_entry_point",
                                 info_level="episode"))
