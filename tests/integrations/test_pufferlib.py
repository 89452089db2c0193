"""PufferLib through its Gymnasium emulation (issue #12); skipped where PufferLib is absent."""

from __future__ import annotations

import pickle

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401
from hemosim.integrations.pufferlib import _gym_make, puffer_env_creator

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_creator_is_picklable_and_builds_from_the_module_id(env_id):
    creator = pickle.loads(pickle.dumps(puffer_env_creator(env_id)))
    assert creator.args == (env_id,)
    env = _gym_make(env_id, difficulty="easy")  # what the emulation calls, with "hemosim:" added
    assert env.spec.id == env_id
    with pytest.raises(ValueError, match="unknown id"):
        puffer_env_creator("hemosim/Nope-v0")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_emulation_steps(env_id):
    pytest.importorskip("pufferlib.emulation")
    env = puffer_env_creator(env_id)(difficulty="easy")
    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
    assert np.all(np.isfinite(obs)) and np.isfinite(reward)
