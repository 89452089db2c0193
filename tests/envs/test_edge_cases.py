"""Regressions for the edge cases a fuzzing pass found (issue #12), on every registered env.

Each test failed before the fix: dtype acceptance, ``ResetNeeded`` from the native vector
env, the one seed rule of both faces, stepping past the end of an episode, single-env
error messages and boolean actions.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.error import ResetNeeded

import hemosim  # noqa: F401
from hemosim.sim.seeding import MAX_SEED

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))
BOX_IDS = [e for e in ENV_IDS if isinstance(gym.spec(e).make().action_space, gym.spaces.Box)]
REAL_DTYPES = [np.float16, np.float32, np.float64, np.longdouble, np.dtype(">f8"), np.dtype(">f4"), np.int64]


def _unwrapped(env_id: str, **kw):
    return gym.make(env_id, disable_env_checker=True, **kw).unwrapped


@pytest.mark.parametrize("env_id", BOX_IDS)
@pytest.mark.parametrize("dtype", REAL_DTYPES, ids=lambda d: np.dtype(d).str)
def test_any_real_dtype_is_accepted_and_means_the_same_dose(env_id, dtype):
    """float16 / big-endian / longdouble actions used to crash the heparin kernel."""
    space = gym.spec(env_id).make().action_space
    value = np.zeros(space.shape) if np.dtype(dtype).kind in "iu" else np.full(space.shape, 0.5)
    results = []
    for dt in (np.float64, dtype):
        env = gym.make(env_id)
        env.reset(seed=11)
        obs, reward, *_ = env.step(np.asarray(value, dtype=dt))
        results.append((obs, reward))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-3)
    assert results[1][1] == pytest.approx(results[0][1], rel=1e-3, abs=1e-6)
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    venv.reset(seed=11)
    obs, *_ = venv.step(np.broadcast_to(np.asarray(value, dtype=dtype), venv.action_space.shape).copy())
    assert venv.observation_space.contains(obs)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_boolean_actions_are_rejected(env_id):
    """``[True]`` used to mean the maximum dose."""
    env = gym.make(env_id)
    env.reset(seed=0)
    shape = env.action_space.shape
    with pytest.raises(ValueError, match="boolean"):
        env.step(np.ones(shape, dtype=bool))
    venv = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="boolean"):
        venv.step(np.ones(venv.action_space.shape, dtype=bool))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_env_errors_speak_of_one_patient(env_id):
    """A scalar action for a (1,) space used to be reported as shape (1,) vs (1, 1)."""
    env = _unwrapped(env_id)
    env.reset(seed=0)
    with pytest.raises(ValueError) as err:
        env.step(0.5)
    message = str(err.value)
    assert f"{env.action_space.shape}" in message and "(1, " not in message
    with pytest.raises(ValueError, match=r"has shape \(3,"):
        env.step(np.zeros((3, *env.action_space.shape)))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_env_stepped_before_reset_raises_reset_needed(env_id):
    """Used to return NaN rewards (heparin) or raise AttributeError (warfarin)."""
    venv = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    with pytest.raises(ResetNeeded):
        venv.step(venv.action_space.sample())
    env = _unwrapped(env_id)  # the single face without Gymnasium's OrderEnforcing wrapper
    with pytest.raises(ResetNeeded):
        env.step(env.action_space.sample())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stepping_past_the_end_of_an_episode_raises_reset_needed(env_id):
    """Warfarin used to go on past truncation with day / 90 > 1 (outside the space)."""
    env = gym.make(env_id)
    obs, _ = env.reset(seed=0)
    action = env.unwrapped._actions.safe_action()
    done = False
    while not done:
        obs, _, te, tr, _ = env.step(action)
        assert env.observation_space.contains(obs)
        done = te or tr
    with pytest.raises(ResetNeeded, match="episode ended"):
        env.step(action)
    obs, _ = env.reset()
    assert env.observation_space.contains(obs)
    env.step(action)  # usable again


BAD_SEEDS = [-1, 1.5, "3", True, np.float64(2.0), [1, 2], MAX_SEED + 1, 2**64]


@pytest.mark.parametrize("seed", BAD_SEEDS, ids=repr)
def test_single_env_seed_rule(seed):
    env = _unwrapped(ENV_IDS[0])
    with pytest.raises(ValueError, match=r"seed must be None or an integer in \[0, 2\*\*63 - 1\]"):
        env.reset(seed=seed)


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True, 2**63 - 2, 2**63, 2**64, [1, 2], [1, 2, -3], [1, 2, 2.5]], ids=repr)
def test_vector_env_seed_rule(seed):
    """2**63 - 2 used to report a wrapped negative number, 2**63 an OverflowError, 1.5 a TypeError."""
    venv = gym.make_vec(ENV_IDS[0], num_envs=3, vectorization_mode="vector_entry_point")
    with pytest.raises(ValueError, match=r"2\*\*63 - 1|one seed per environment \(3\)"):
        venv.reset(seed=seed)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_largest_seeds_are_usable_in_both_faces(env_id):
    env = gym.make(env_id)
    env.reset(seed=MAX_SEED)
    env.step(env.action_space.sample())
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    obs_v, _ = venv.reset(seed=MAX_SEED - 2)
    obs_s, _ = gym.make(env_id).reset(seed=MAX_SEED - 1)
    np.testing.assert_array_equal(obs_v[1], obs_s)  # patient i is the single env seeded s + i
    obs_v2, _ = venv.reset(seed=np.array([MAX_SEED, 0, 5]))
    np.testing.assert_array_equal(obs_v2[0], gym.make(env_id).reset(seed=MAX_SEED)[0])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_step_autoreset_matches_sync_vector_env(env_id):
    """The SAME_STEP mode (used by the SB3 adapter) equals SyncVectorEnv in that mode."""
    from gymnasium.vector import AutoresetMode, SyncVectorEnv

    n = 3
    native = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", autoreset_mode=AutoresetMode.SAME_STEP)
    assert native.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    sync = SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)], autoreset_mode=AutoresetMode.SAME_STEP)
    o1, _ = native.reset(seed=5)
    o2, _ = sync.reset(seed=5)
    np.testing.assert_array_equal(o1, o2)
    native.action_space.seed(1)
    ended = 0
    for _ in range(2 * 125):  # two episodes of the longest env (the POMDP: 120 hourly steps)
        a = native.action_space.sample()
        o1, r1, te1, tr1, i1 = native.step(a)
        o2, r2, te2, tr2, i2 = sync.step(a)
        np.testing.assert_array_equal(o1, o2)
        np.testing.assert_allclose(r1, r2)
        np.testing.assert_array_equal(te1 | tr1, te2 | tr2)
        if (te1 | tr1).any():
            ended += 1
            np.testing.assert_array_equal(i1["_final_obs"], i2["_final_obs"])
            for k in np.flatnonzero(i1["_final_obs"]):
                np.testing.assert_array_equal(i1["final_obs"][k], i2["final_obs"][k])
            key = next(k for k in i2["final_info"] if not k.startswith("_") and not isinstance(i2["final_info"][k], dict))
            done = i1["_final_info"]
            np.testing.assert_array_equal(i1["final_info"][key][done], i2["final_info"][key][done])
        if ended >= 2:
            break
    assert ended >= 2
    with pytest.raises(ValueError, match="autoreset_mode"):
        gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", autoreset_mode="Sometimes")
