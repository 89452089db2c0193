"""Thread-count independence of the DOAC, DIC and cascade kernels (issue #19).

The same batch is run with one and with two threads (:mod:`hemosim.sim.threads`) and every
output is compared bit for bit; the batches are large enough for the parallel forms, and a
spy checks that the parallel form did run. Per-patient keyed random numbers make row ``i`` of
a vector env seeded ``s`` the patient of seed ``s + i`` whatever the batch size, so a small
batch also equals the first rows of a large one. No timing is asserted here.
"""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest
from numba import config

import hemosim  # noqa: F401  (registers the environments)
from hemosim.envs import dic as dic_env
from hemosim.models import cascade, doac
from hemosim.patients.af import sample_cohort
from hemosim.sim import rng, threads

pytestmark = pytest.mark.skipif(config.NUMBA_NUM_THREADS < 2, reason="needs Numba started with >= 2 threads")

N = 300


def _equal(a, b) -> bool:
    """Recursive bit-identity of (nested dicts / tuples of) arrays and scalars."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")


def _rows(x, k: int):
    """The first ``k`` rows of every array of a (nested) info dict / array."""
    if isinstance(x, dict):
        return {key: _rows(v, k) for key, v in x.items()}
    return np.asarray(x)[:k]


def _rollout(env_id: str, n: int, num_threads: int, steps: int = 6, seed: int = 11):
    actions_rng = np.random.default_rng(seed)
    with threads.num_threads(num_threads):
        env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point")
        try:
            nvec = env.single_action_space.nvec
            obs, info = env.reset(seed=seed)
            out = [(obs.copy(), copy.deepcopy(info))]
            for _ in range(steps):
                act = actions_rng.integers(0, nvec, size=(N, nvec.size))[:n]  # row i: the same action for any n
                obs, rew, term, trunc, info = env.step(act)
                out.append((obs.copy(), rew.copy(), term.copy(), trunc.copy(), copy.deepcopy(info)))
        finally:
            env.close()
    return out


class _Spy:
    """Counts calls of a module-level kernel while forwarding them."""

    def __init__(self, monkeypatch, module, name: str) -> None:
        self.calls = 0
        self._f = getattr(module, name)
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self._f(*args, **kwargs)


def _same_rollouts(env_id: str) -> None:
    one = _rollout(env_id, N, 1)
    two = _rollout(env_id, N, 2)
    assert len(one) == len(two)
    for a, b in zip(one, two):
        assert _equal(a, b)
    # the same patients in a small (always serial) batch are the first rows of the large one
    small = _rollout(env_id, 64, 2)
    for a, b in zip(one, small):
        assert _equal(tuple(_rows(x, 64) for x in a), b)


# ------------------------------------------------------------------------------ DOAC
def test_doac_env_is_thread_count_independent(monkeypatch):
    spy = _Spy(monkeypatch, doac, "_days_parallel")
    _same_rollouts("hemosim/DOACManagement-v0")
    assert spy.calls > 0


def test_doac_simulate_is_thread_count_independent(monkeypatch):
    spy = _Spy(monkeypatch, doac, "_days_parallel")
    cohort = sample_cohort(rng.patient_key(np.uint64(5), np.arange(N)), "general_practice")
    drug = np.arange(N) % 5
    level = (np.arange(N) // 5) % 3
    hazard = np.full(5, 1e-3)
    results = {}
    for t in (1, 2):
        with threads.num_threads(t):
            results[t] = doac.simulate(cohort, drug, level, 90, chunk_days=31, persistence_hazard_per_day=hazard).state
    assert spy.calls > 0
    small = doac.simulate(cohort.subset(np.arange(64)), drug[:64], level[:64], 90, chunk_days=31,
                          persistence_hazard_per_day=hazard).state
    for f in doac.DoacState.__dataclass_fields__:
        a, b = getattr(results[1], f), getattr(results[2], f)
        assert a.dtype == b.dtype and np.array_equal(a, b), f
        assert np.array_equal(a[:64], getattr(small, f)), f
    assert results[1].event_count.sum() > 0  # events happened (the event branch ran)


# ------------------------------------------------------------------------------- DIC
def test_dic_env_is_thread_count_independent(monkeypatch):
    spy = _Spy(monkeypatch, dic_env, "_step_parallel")
    reset_spy = _Spy(monkeypatch, dic_env, "_reset_parallel")
    _same_rollouts("hemosim/DICManagement-v0")
    assert spy.calls > 0 and reset_spy.calls > 0


def test_dic_min_patients_is_the_threads_setting():
    assert dic_env.PARALLEL_MIN_PATIENTS == threads.PARALLEL_MIN_PATIENTS


# --------------------------------------------------------------------------- cascade
def _cascade_batch(n: int):
    r = np.random.default_rng(3)
    levels = {key: r.uniform(30.0, 150.0, n) for key in ("ii_pct", "v_pct", "viii_pct", "x_pct", "at_pct")}
    y0 = cascade.initial_state(r.uniform(5.0, 25.0, n), **levels)
    k = cascade.rate_constants_nM(n, at_potentiation=r.uniform(1.0, 3.0, n))
    return y0, k


def test_cascade_is_thread_count_independent(monkeypatch):
    solve_spy = _Spy(monkeypatch, cascade, "_solve_batch_parallel")
    clot_spy = _Spy(monkeypatch, cascade, "_clot_batch_parallel")
    y0, k = _cascade_batch(N)
    t = np.linspace(0.0, 120.0, 25)
    out = {}
    for n_threads in (1, 2):
        with threads.num_threads(n_threads):
            curves, stats = cascade.solve(y0, k, t, species=[cascade.IDX_IIA, cascade.IDX_MIIA], return_stats=True)
            clot = cascade.clot_times(y0, k, t_max_s=120.0)
            out[n_threads] = (curves, stats, clot)
    assert solve_spy.calls == 1 and clot_spy.calls == 1
    assert _equal(out[1], out[2])
    # a sample's result does not depend on its batch
    curves, stats = cascade.solve(y0[:64], k[:64], t, species=[cascade.IDX_IIA, cascade.IDX_MIIA], return_stats=True)
    assert _equal((curves, stats, cascade.clot_times(y0[:64], k[:64], t_max_s=120.0)),
                  tuple(x[:64] for x in out[1]))
