"""A CleanRL-style loop on Gymnasium 1.x (issue #12): the native vector env under the vector
``RecordEpisodeStatistics`` (and ``ClipAction``, as CleanRL's continuous PPO uses), with the
episode statistics read the way CleanRL 1.x reads them (``infos["episode"]`` + ``"_episode"``)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_record_episode_statistics_reports_each_finished_episode(env_id):
    n = 4
    box = isinstance(gym.make(env_id).action_space, gym.spaces.Box)
    if box:  # ppo_continuous_action: symmetric Box, Gaussian policy clipped by ClipAction
        envs = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", symmetric_actions=True)
        envs = gym.wrappers.vector.ClipAction(envs)
    else:  # ppo_multidiscrete: categorical policy, no action wrapper
        envs = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    obs, _ = envs.reset(seed=1)
    rng = np.random.default_rng(0)
    returns, lengths = np.zeros(n), np.zeros(n, dtype=int)
    finished = []
    ended = np.zeros(n, dtype=bool)
    for _ in range(2 * 90 + 5):
        if box:
            actions = rng.normal(0.0, 1.0, size=envs.action_space.shape)  # a Gaussian policy, clipped by ClipAction
        else:
            actions = rng.integers(0, envs.single_action_space.nvec, size=envs.action_space.shape)
        obs, rewards, terminations, truncations, infos = envs.step(actions)
        returns += np.where(ended, 0.0, rewards)  # NEXT_STEP: the step after an end is the reset
        lengths += ~ended
        if "episode" in infos:
            for i in np.flatnonzero(infos["_episode"]):
                finished.append((infos["episode"]["r"][i], infos["episode"]["l"][i], returns[i], lengths[i]))
                returns[i], lengths[i] = 0.0, 0
        ended = terminations | truncations
        assert envs.observation_space.contains(obs)
    assert len(finished) >= n
    for r, length, my_r, my_l in finished:
        assert length == my_l
        assert r == pytest.approx(my_r, rel=1e-5, abs=1e-5)
