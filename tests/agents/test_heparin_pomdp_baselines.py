"""Baselines of HeparinInfusion-POMDP-v0: schedules (when each protocol orders what),
acting on results as they arrive, batching and bad input."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401
from hemosim.agents.heparin_pomdp import NoLab, ScheduledAntiXa, ScheduledRaschke, StatEverythingHourly
from hemosim.envs.heparin_pomdp import order_levels

ENV_ID = "hemosim/HeparinInfusion-POMDP-v0"


def _run(policy, seed=3, hours=120, **options):
    env = gym.make(ENV_ID, **options)
    obs, info = env.reset(seed=seed)
    policy.reset()
    log = []
    for h in range(hours):
        a = policy.predict(obs)
        obs, r, term, trunc, info = env.step(a)
        log.append({"hour": h, "orders": order_levels(a), "rate": info["rate_u_per_h"], "bolus": info["bolus_u"],
                    "aptt_arrived": info["aptt_arrived"], "aptt_reported_s": info["aptt_reported_s"],
                    "weight": info["patient"]["weight_kg"]})
    return log


def test_raschke_starts_weight_based_and_draws_the_first_aptt_at_6_h():
    log = _run(ScheduledRaschke(), hours=8, difficulty="easy")
    w = log[0]["weight"]
    assert log[0]["bolus"] == pytest.approx(80 * w, rel=1e-5) and log[0]["rate"] == pytest.approx(18 * w, rel=1e-5)
    orders = np.array([e["orders"] for e in log])
    assert orders[:6].sum() == 0
    np.testing.assert_array_equal(orders[6], [1, 0, 0])  # routine aPTT at hour 6


def test_raschke_acts_on_the_result_when_it_arrives_and_redraws_6_h_after_a_change():
    log = _run(ScheduledRaschke(), seed=8, hours=120, difficulty="easy")
    draws = [e["hour"] for e in log if e["orders"][0] > 0]
    arrivals = [e["hour"] + 1 for e in log if e["aptt_arrived"]]  # decision hour at which it is seen
    assert draws[0] == 6 and len(draws) - 1 <= len(arrivals) <= len(draws)
    for k, seen in enumerate(arrivals):
        changed = log[seen]["rate"] != log[seen - 1]["rate"] or log[seen]["bolus"] > 0
        # nothing changes between a draw and its result
        assert all(log[h]["rate"] == log[draws[k]]["rate"] for h in range(draws[k], seen))
        if changed and k + 1 < len(draws):
            assert draws[k + 1] == seen + 6
    # once stable (two consecutive therapeutic results, no change), daily aPTTs
    gaps = np.diff(draws)
    assert gaps.max() >= 24
    # daily platelet counts, routine
    plt = [e["hour"] for e in log if e["orders"][2] > 0]
    assert plt == [24, 48, 72, 96]


def test_anti_xa_nomogram_orders_stat_first_then_routine_every_6_h():
    log = _run(ScheduledAntiXa(), seed=5, hours=60, difficulty="easy")
    axa = [(e["hour"], e["orders"][1]) for e in log if e["orders"][1] > 0]
    assert axa[0] == (6, 2) and all(p == 1 for _, p in axa[1:])
    assert all(e["orders"][0] == 0 for e in log)  # no aPTT


def test_stat_everything_orders_every_test_stat_every_hour():
    log = _run(StatEverythingHourly(), hours=10)
    assert all((e["orders"] == 2).all() for e in log)


def test_no_lab_orders_nothing_and_holds_the_starting_dose():
    log = _run(NoLab(), hours=30)
    assert all((e["orders"] == 0).all() for e in log)
    w = log[0]["weight"]
    assert log[0]["bolus"] == pytest.approx(80 * w, rel=1e-5)
    assert all(e["rate"] == pytest.approx(18 * w, rel=1e-5) for e in log)
    assert all(e["bolus"] == 0 for e in log[1:])


@pytest.mark.parametrize("cls", [ScheduledRaschke, ScheduledAntiXa, StatEverythingHourly, NoLab])
def test_batch_equals_single_rows(cls):
    venv = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point")
    obs, _ = venv.reset(seed=40)
    batch_policy = cls()
    singles = [cls() for _ in range(3)]
    for _ in range(30):
        a = batch_policy.predict(obs)
        for i in range(3):
            np.testing.assert_array_equal(a[i], singles[i].predict(obs[i]))
        obs, *_ = venv.step(a)


@pytest.mark.parametrize("cls", [ScheduledRaschke, ScheduledAntiXa, StatEverythingHourly, NoLab])
def test_bad_observations_raise(cls):
    with pytest.raises(ValueError, match="shape"):
        cls().predict(np.zeros(6))
    with pytest.raises(ValueError, match="finite"):
        cls().predict(np.full(10, np.nan))


def test_bad_priority_raises():
    with pytest.raises(ValueError, match="priority"):
        ScheduledRaschke("urgent")
