"""Gymnasium API contract of every registered hemosim environment.

Parametrised over the registry, so an environment is covered as soon as it is
registered: check_env, spaces, seeding determinism, equality of the single env, the
native vector env and SyncVectorEnv step by step (through autoreset), bad input, and
freshness of info.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import hemosim  # noqa: F401  (registers the ids)

ENV_IDS = sorted(env_id for env_id in gym.registry if env_id.startswith("hemosim/"))


def _episode_length(env_id: str) -> int:
    env = gym.make(env_id)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    env.action_space.seed(0)
    for t in range(1, 100_000):
        _, _, term, trunc, _ = env.step(env.action_space.sample())
        if term or trunc:
            return t
    raise AssertionError("episode never ended")


def _assert_tree_equal(a, b, path="info"):
    if isinstance(a, dict):
        assert set(a) == set(b), f"{path}: keys differ {set(a) ^ set(b)}"
        for k in a:
            _assert_tree_equal(a[k], b[k], f"{path}[{k!r}]")
    else:
        a_arr, b_arr = np.asarray(a), np.asarray(b)
        assert a_arr.shape == b_arr.shape, f"{path}: shape {a_arr.shape} != {b_arr.shape}"
        if a_arr.dtype == object or b_arr.dtype == object:
            assert list(a_arr.ravel()) == list(b_arr.ravel()), f"{path}: {a_arr} != {b_arr}"
        else:
            np.testing.assert_array_equal(a_arr, b_arr, err_msg=path)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_check_env_passes(env_id):
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_entry_point_declares_autoreset(env_id):
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point")
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert venv.num_envs == 3
    obs, info = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    venv.close()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_trajectory_different_seed_different_patient(env_id):
    def rollout(seed):
        env = gym.make(env_id)
        obs, info = env.reset(seed=seed)
        env.action_space.seed(123)
        out = [obs]
        for _ in range(5):
            obs, r, term, trunc, _ = env.step(env.action_space.sample())
            out.append(obs)
            out.append(np.array([r]))
            if term or trunc:  # a random DIC policy can lose the patient within 5 steps
                break
        return np.concatenate([np.ravel(o) for o in out])

    np.testing.assert_array_equal(rollout(7), rollout(7))
    assert not np.array_equal(rollout(7), rollout(8))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_single_vector_and_sync_agree_step_by_step_through_autoreset(env_id):
    n, seed = 3, 1234
    length = _episode_length(env_id)
    steps = length + 3  # crosses the autoreset boundary
    native = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    sync = SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)])
    singles = [gym.make(env_id) for _ in range(n)]
    obs_n, info_n = native.reset(seed=seed)
    obs_s, info_s = sync.reset(seed=seed)
    np.testing.assert_array_equal(obs_n, obs_s)
    _assert_tree_equal(info_n, info_s)
    for i, env in enumerate(singles):
        o, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(o, obs_n[i])
    action_space = native.action_space
    action_space.seed(99)
    single_done = [False] * n
    for t in range(steps):
        actions = action_space.sample()
        out_n = native.step(actions)
        out_s = sync.step(actions)
        for a, b in zip(out_n[:4], out_s[:4]):
            np.testing.assert_array_equal(a, b, err_msg=f"step {t}")
        _assert_tree_equal(out_n[4], out_s[4], f"step {t} info")
        for i, env in enumerate(singles):
            if single_done[i]:
                o, _ = env.reset()
                r, te, tr = 0.0, False, False
                single_done[i] = False
            else:
                o, r, te, tr, _ = env.step(actions[i])
                single_done[i] = te or tr
            np.testing.assert_array_equal(o, out_n[0][i], err_msg=f"single env {i} step {t}")
            assert r == out_n[1][i] and te == out_n[2][i] and tr == out_n[3][i]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observations_stay_in_space_and_rewards_finite(env_id):
    venv = gym.make_vec(env_id, num_envs=16, vectorization_mode="vector_entry_point")
    obs, _ = venv.reset(seed=5)
    venv.action_space.seed(5)
    for _ in range(_episode_length(env_id) + 2):
        obs, rew, term, trunc, info = venv.step(venv.action_space.sample())
        assert venv.observation_space.contains(obs)
        assert np.all(np.isfinite(rew))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_info_is_fresh_every_step(env_id):
    env = gym.make(env_id)
    _, info0 = env.reset(seed=3)
    snapshot = copy.deepcopy(info0)
    env.action_space.seed(0)
    _, _, _, _, info1 = env.step(env.action_space.sample())
    _assert_tree_equal(info0, snapshot)
    info1["patient"]["mutated"] = True if isinstance(info1.get("patient"), dict) else None
    _, _, _, _, info2 = env.step(env.action_space.sample())
    assert "mutated" not in info2.get("patient", {})


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_bad_actions_raise_clear_errors(env_id):
    env = gym.make(env_id, disable_env_checker=True)
    env.reset(seed=0)
    space = env.action_space
    good = space.sample()
    wrong_shape = np.concatenate([np.ravel(good), np.ravel(good)])
    with pytest.raises(ValueError, match="shape"):
        env.step(wrong_shape)
    if isinstance(space, gym.spaces.Box):
        nan = np.array(good, dtype=np.float64)
        nan.flat[0] = np.nan
        with pytest.raises(ValueError, match="non-finite"):
            env.step(nan)
        too_big = np.array(space.high, dtype=np.float64) + 0.5
        with pytest.raises(ValueError, match="outside"):
            env.step(too_big)
        too_small = np.array(space.low, dtype=np.float64) - 0.5
        with pytest.raises(ValueError, match="outside"):
            env.step(too_small)
    else:
        bad = np.array(good).copy()
        bad.flat[0] = 99
        with pytest.raises(ValueError, match="outside"):
            env.step(bad)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_unknown_option_raises(env_id):
    with pytest.raises(ValueError, match="unknown"):
        gym.make(env_id, not_an_option=1)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_rejects_bad_action_batch(env_id):
    venv = gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        venv.step(venv.action_space.sample()[:2])


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_common_gymnasium_wrappers_work_on_both_faces(env_id):
    """The wrappers CleanRL / SB3-style training loops put around envs run unchanged."""
    from gymnasium.wrappers import RecordEpisodeStatistics as SingleStats
    from gymnasium.wrappers.vector import RecordEpisodeStatistics as VectorStats

    length = _episode_length(env_id)
    env = SingleStats(gym.make(env_id))
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(length):
        *_, term, trunc, info = env.step(env.action_space.sample())
    assert term or trunc
    assert info["episode"]["l"] == length
    venv = VectorStats(gym.make_vec(env_id, num_envs=4, vectorization_mode="vector_entry_point"))
    venv.reset(seed=0)
    venv.action_space.seed(0)
    finished = np.zeros(4, dtype=bool)
    for _ in range(length):
        *_, info = venv.step(venv.action_space.sample())
        if "_episode" in info:
            # an env with early termination (e.g. death) may end some episodes sooner
            assert np.all(info["episode"]["l"][info["_episode"]] <= length)
            finished |= info["_episode"]
    assert finished.all()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_seedless_reset_after_a_seeded_one_matches_sync_vector_env(env_id):
    """reset(seed=s); reset() moves every patient to the next patient of its own chain."""
    n = 3
    native = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
    sync = SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)])
    native.reset(seed=5)
    sync.reset(seed=5)
    obs_n, info_n = native.reset()
    obs_s, info_s = sync.reset()
    np.testing.assert_array_equal(obs_n, obs_s)
    _assert_tree_equal(info_n, info_s)


def _array_leaves(tree, out):
    for value in tree.values():
        if isinstance(value, dict):
            _array_leaves(value, out)
        elif isinstance(value, np.ndarray):
            out.append(value)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_info_is_fresh_every_step(env_id):
    venv = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    _, info0 = venv.reset(seed=3)
    snapshot = copy.deepcopy(info0)
    venv.action_space.seed(0)
    _, _, _, _, info1 = venv.step(venv.action_space.sample())
    _assert_tree_equal(info0, snapshot)
    leaves = []
    _array_leaves(info1, leaves)
    for value in leaves:
        if value.flags.writeable:
            if value.dtype != object:
                value[...] = 0
        else:  # reset-only values: a read-only snapshot shared until the next reset
            with pytest.raises(ValueError, match="read-only"):
                value[...] = value
            with pytest.raises(ValueError):
                value.flags.writeable = True
    _, _, _, _, info2 = venv.step(venv.action_space.sample())
    _assert_tree_equal(info0, snapshot)
    assert any(np.any(v != 0) for v in info2.values() if isinstance(v, np.ndarray) and v.dtype.kind == "f")


HARD_OPTIONS = {"hemosim/WarfarinDosing-v0": {"difficulty": "hard"}, "hemosim/HeparinInfusion-v0": {"difficulty": "hard"},
                "hemosim/HeparinInfusion-POMDP-v0": {"difficulty": "hard"}}


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_simulator_fresh_info_equals_a_copy_of_info_and_owns_its_memory(env_id):
    """``fresh_info()`` (what the vector face returns without copying) has the keys, order,
    dtypes and values of ``copy_info(info())``, and no array of it shares memory with the
    simulator's info arrays or with another call's."""
    from hemosim.sim.batch import copy_info

    venv = gym.make_vec(env_id, num_envs=5, vectorization_mode="vector_entry_point", **HARD_OPTIONS.get(env_id, {}))
    venv.reset(seed=4)
    venv.action_space.seed(1)
    for _ in range(3):
        venv.step(venv.action_space.sample())
    sim = venv.unwrapped.sim
    fresh, again, copied = sim.fresh_info(), sim.fresh_info(), copy_info(sim.info())
    _assert_tree_equal(fresh, copied)

    def keys(tree):
        return [(k, keys(v)) if isinstance(v, dict) else k for k, v in tree.items()]

    assert keys(fresh) == keys(copied)
    fresh_leaves, again_leaves, own_leaves = [], [], []
    _array_leaves(fresh, fresh_leaves)
    _array_leaves(again, again_leaves)
    _array_leaves(sim.info(), own_leaves)
    assert [a.dtype for a in fresh_leaves] == [a.dtype for a in again_leaves]
    for a in fresh_leaves:
        assert a.flags.writeable
        for b in own_leaves + again_leaves:
            assert not np.shares_memory(a, b)
