"""Ray RLlib env creator (issue #12).

The creator itself needs no Ray: it is tested here against the exact calls RLlib 2.x's
``SingleAgentEnvRunner.make_env`` makes (the creator with the env config, plus
``num_envs`` under ``gym_env_vectorize_mode="vector_entry_point"``, then
``gym.make_vec`` of the registered name). Where ray[rllib] is installed, an env runner
is built and samples through it.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401
from hemosim.integrations.rllib import env_creator, make_creator, rllib_name
from hemosim.sim.single import SingleEnv
from hemosim.sim.vector import BatchedVectorEnv

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))


class _EnvContext(dict):
    """What RLlib passes: the env config (a dict) with worker fields beside it."""

    worker_index = 1
    num_workers = 2


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_creator_returns_native_vector_env_with_num_envs_from_config(env_id):
    creator = make_creator(env_id)
    venv = creator(_EnvContext({"difficulty": "hard", "num_envs": 8}))
    assert isinstance(venv.unwrapped, BatchedVectorEnv) and venv.num_envs == 8
    assert venv.unwrapped.sim.difficulty == "hard"
    obs, _ = venv.reset(seed=0)
    assert obs.shape == (8, *venv.single_observation_space.shape)
    single = creator(_EnvContext({"difficulty": "hard"}))
    assert isinstance(single.unwrapped, SingleEnv)
    np.testing.assert_array_equal(single.reset(seed=3)[0], obs[3])  # patient i == single env seeded i


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_creator_as_rllibs_env_runner_registers_it(env_id):
    """Mirror of SingleAgentEnvRunner.make_env (ray 2.60) for a name from tune.register_env."""
    creator = make_creator(env_id)
    box = isinstance(gym.make(env_id).action_space, gym.spaces.Box)
    ctx = _EnvContext({"symmetric_actions": True} if box else {})
    name = "rllib-single-agent-env-test-v0"
    gym.register(name, entry_point=lambda: creator(ctx), vector_entry_point=lambda num_envs: creator(ctx | {"num_envs": num_envs}))
    try:
        venv = gym.make_vec(name, num_envs=4, vectorization_mode="vector_entry_point")
        assert isinstance(venv.unwrapped, BatchedVectorEnv)
        assert not box or venv.single_action_space.low.min() == -1.0
        venv.reset(seed=0)
        venv.step(venv.action_space.sample())
    finally:
        del gym.registry[name]


def test_module_colon_id_form_for_workers_without_registration():
    venv = gym.make_vec(f"hemosim:{ENV_IDS[0]}", num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(venv.unwrapped, BatchedVectorEnv)


def test_generic_creator_reads_env_id_and_rejects_missing_or_unknown():
    venv = env_creator({"env_id": ENV_IDS[0], "num_envs": 2})
    assert venv.num_envs == 2
    with pytest.raises(ValueError, match="env_id"):
        env_creator({"num_envs": 2})
    with pytest.raises(ValueError, match="unknown id"):
        make_creator("hemosim/Nope-v0")
    assert rllib_name("hemosim/WarfarinDosing-v0") == "hemosim-WarfarinDosing-v0"


def test_rllib_env_runner_samples_through_the_native_vector_env():
    pytest.importorskip("ray.rllib")
    pytest.importorskip("torch")
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    from hemosim.integrations.rllib import register

    env_id = "hemosim/HeparinInfusion-v0"
    name = register(env_id)
    config = (
        PPOConfig()
        .environment(name, env_config={"difficulty": "easy", "symmetric_actions": True})
        .env_runners(num_envs_per_env_runner=16, gym_env_vectorize_mode="vector_entry_point", num_env_runners=0)
    )
    runner = SingleAgentEnvRunner(config=config)
    assert isinstance(runner.env.unwrapped, BatchedVectorEnv) and runner.num_envs == 16
    episodes = runner.sample(num_timesteps=16 * 25, random_actions=True)
    done = [e for e in episodes if e.is_done]
    assert len(done) >= 16 and all(len(e) == 20 for e in done)  # 20 six-hour steps per episode
    runner.stop()
