"""The thread setting of the compiled kernels (``hemosim.sim.threads``): validation, the
serial fallback, and bit-identical trajectories at 1 and 2 threads (property tests)."""

from __future__ import annotations

import multiprocessing
import sys

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401  (registers the envs)
from hemosim.sim import threads

TWO_THREADS = threads._max_threads() >= 2
needs_two = pytest.mark.skipif(not TWO_THREADS, reason="Numba runs fewer than 2 threads here")
N_PARALLEL = threads.PARALLEL_MIN_PATIENTS + 44  # takes the parallel kernels, with a ragged last chunk


@pytest.fixture(autouse=True)
def _restore_setting():
    before = threads._threads
    yield
    threads._threads = before


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, None, 10_000])
def test_set_num_threads_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="num_threads must be an integer from 1 to"):
        threads.set_num_threads(bad)


def test_environment_variable(monkeypatch):
    monkeypatch.setattr(threads, "_threads", None)
    monkeypatch.setenv("HEMOSIM_NUM_THREADS", "1")
    assert threads.get_num_threads() == 1
    monkeypatch.setattr(threads, "_threads", None)
    monkeypatch.setenv("HEMOSIM_NUM_THREADS", "many")
    with pytest.raises(ValueError, match="HEMOSIM_NUM_THREADS='many' is not an integer"):
        threads.get_num_threads()
    monkeypatch.setattr(threads, "_threads", None)
    monkeypatch.setenv("HEMOSIM_NUM_THREADS", "0")
    with pytest.raises(ValueError, match="HEMOSIM_NUM_THREADS must be an integer from 1"):
        threads.get_num_threads()
    monkeypatch.setattr(threads, "_threads", None)
    monkeypatch.delenv("HEMOSIM_NUM_THREADS")
    assert threads.get_num_threads() == threads._max_threads()  # default: every core


def test_context_manager_restores():
    threads.set_num_threads(1)
    with threads.num_threads(threads._max_threads()):
        assert threads.get_num_threads() == threads._max_threads()
    assert threads.get_num_threads() == 1


def test_small_batches_and_one_thread_run_serial():
    threads.set_num_threads(threads._max_threads())
    assert not threads.use_parallel(1)
    assert not threads.use_parallel(64)
    assert not threads.use_parallel(threads.PARALLEL_MIN_PATIENTS - 1)
    assert threads.use_parallel(threads.PARALLEL_MIN_PATIENTS) == (threads._max_threads() > 1)
    assert not threads.use_parallel_light(threads.LIGHT_KERNEL_MIN_ROWS - 1)
    assert threads.use_parallel_light(threads.LIGHT_KERNEL_MIN_ROWS) == (threads._max_threads() > 1)
    threads.set_num_threads(1)
    assert not threads.use_parallel(10_000)


def test_chunk_count_by_rows_threads_and_cap():
    threads.set_num_threads(1)
    assert threads.chunk_count(4096, 1024) == 4  # 4 chunks of 1,024 rows
    assert threads.chunk_count(300, 1024) == 1  # fewer rows than a chunk: one chunk per thread
    assert threads.chunk_count(10**6, 1024) == threads.PARALLEL_CHUNKS  # capped
    assert threads.chunk_count(3, 1) == 3  # never more chunks than rows
    assert threads.chunk_count(0, 1024) == 1
    if threads._max_threads() >= 2:
        threads.set_num_threads(2)
        assert threads.chunk_count(300, 1024) == 2  # at least one per thread
        assert threads.chunk_count(4096, 1024) == 4


@needs_two
@pytest.mark.parametrize("chunk_rows", [1, 7, 100, 1024, 10**6])
def test_heparin_step_chunking_never_changes_a_number(chunk_rows, monkeypatch):
    """The heparin step integrates a chunk's rows in lock-step; any split gives the same rows."""
    from hemosim.envs import heparin

    def run(rows: int) -> list[np.ndarray]:
        monkeypatch.setattr(heparin, "STEP_CHUNK_ROWS", rows)
        with threads.num_threads(2):
            venv = gym.make_vec("hemosim/HeparinInfusion-v0", num_envs=N_PARALLEL, difficulty="hard",
                                vectorization_mode="vector_entry_point")
            venv.reset(seed=5)
            venv.action_space.seed(8)
            out = []
            for _ in range(8):
                obs, reward, _, _, info = venv.step(venv.action_space.sample())
                out += [obs, reward, info["cost"], info["heparin_u_per_ml"]]
            venv.close()
        return out

    reference = run(N_PARALLEL)  # one chunk per thread
    for a, b in zip(reference, run(chunk_rows)):
        assert np.array_equal(a, b)


def test_public_names():
    assert hemosim.set_num_threads is threads.set_num_threads
    assert hemosim.get_num_threads is threads.get_num_threads
    assert hemosim.num_threads is threads.num_threads


ENV_CASES = [
    ("hemosim/WarfarinDosing-v0", {"difficulty": "hard"}),
    ("hemosim/WarfarinDosing-v0", {"model": "hamberg2010", "difficulty": "hard"}),
    ("hemosim/HeparinInfusion-v0", {"difficulty": "hard", "hit_incidence": 0.3}),
    ("hemosim/HeparinInfusion-POMDP-v0", {"difficulty": "hard"}),
]


def _trajectory(env_id: str, options: dict, n_threads: int, steps: int = 40) -> dict[str, np.ndarray]:
    with threads.num_threads(n_threads):
        venv = gym.make_vec(env_id, num_envs=N_PARALLEL, vectorization_mode="vector_entry_point", **options)
        obs, info = venv.reset(seed=11)
        venv.action_space.seed(3)
        out = {"obs": [obs], "reward": [], "done": [], "cost": [info["cost"]]}
        for _ in range(steps):
            obs, reward, terminated, truncated, info = venv.step(venv.action_space.sample())
            out["obs"].append(obs)
            out["reward"].append(reward)
            out["done"].append(terminated | truncated)
            out["cost"].append(info["cost"])
        venv.close()
    return {k: np.stack(v) for k, v in out.items()}


@needs_two
@pytest.mark.parametrize("light_min_rows", [threads.LIGHT_KERNEL_MIN_ROWS, threads.PARALLEL_MIN_PATIENTS],
                         ids=["light-kernels-serial", "light-kernels-parallel"])
@pytest.mark.parametrize("env_id, options", ENV_CASES, ids=lambda x: x if isinstance(x, str) else str(x))
def test_one_and_two_threads_bit_identical(env_id, options, light_min_rows, monkeypatch):
    """Also with the light kernels (warfarin INR and event draws) forced parallel at this size."""
    monkeypatch.setattr(threads, "LIGHT_KERNEL_MIN_ROWS", light_min_rows)
    one = _trajectory(env_id, options, 1)
    two = _trajectory(env_id, options, 2)
    for key in one:
        assert np.array_equal(one[key], two[key]), key


@needs_two
def test_warfarin_full_episode_with_autoreset_bit_identical():
    """Across an episode boundary (day 90: every patient resets) as well."""
    one = _trajectory("hemosim/WarfarinDosing-v0", {}, 1, steps=95)
    two = _trajectory("hemosim/WarfarinDosing-v0", {}, 2, steps=95)
    assert one["done"].any()
    for key in one:
        assert np.array_equal(one[key], two[key]), key


def _child(queue) -> None:  # pragma: no cover - runs in a forked process
    queue.put(_trajectory("hemosim/WarfarinDosing-v0", {}, 2, steps=5)["obs"])


@needs_two
@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_after_parallel_run_gets_the_same_results():
    """GNU OpenMP dies in a child forked after it started: such a child runs serial."""
    parent = _trajectory("hemosim/WarfarinDosing-v0", {}, 2, steps=5)["obs"]
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue,))
    proc.start()
    child = queue.get(timeout=120)
    proc.join(60)
    assert proc.exitcode == 0
    assert np.array_equal(parent, child)
