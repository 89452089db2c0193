"""HeparinInfusion-POMDP-v0 specifics: same patients as HeparinInfusion-v0, information
structure (what is known when), lab cost in the reward, tiers and bad input.

The generic Gymnasium contract (check_env, vector == sync, autoreset, determinism) is
covered for every registered env by tests/envs/test_env_api.py.
"""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hemosim  # noqa: F401
from hemosim.agents.heparin import RaschkeNomogram
from hemosim.assays import ANTI_XA_TEST, APTT_TEST, PLATELET_TEST, ROUTINE, STAT, measure_drawn, sample_turnaround_h
from hemosim.envs.heparin_pomdp import EPISODE_STEPS, EVENT_KEYS, action_from_orders, order_levels
from hemosim.sim.events import EVENT_PENALTIES

ENV_ID = "hemosim/HeparinInfusion-POMDP-v0"
FULL_ID = "hemosim/HeparinInfusion-v0"


def _action(rate=0.0, bolus=0.0, orders=(0, 0, 0)):
    return np.concatenate([[rate, bolus], action_from_orders(np.array(orders))]).astype(np.float32)


def test_spaces_and_episode_length():
    env = gym.make(ENV_ID)
    assert env.observation_space.shape == (10,) and env.action_space.shape == (5,)
    env.reset(seed=0)
    for t in range(1, EPISODE_STEPS + 1):
        _, _, term, trunc, info = env.step(_action(0.3))
        assert not term
        assert trunc == (t == EPISODE_STEPS)
    assert info["hours"] == 120.0


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_same_patient_as_the_full_env(difficulty):
    for seed in (0, 5, 100123):
        _, full = gym.make(FULL_ID, difficulty=difficulty).reset(seed=seed)
        _, pomdp = gym.make(ENV_ID, difficulty=difficulty).reset(seed=seed)
        assert full["patient"] == pomdp["patient"]
        assert full["aptt_true_s"] == pomdp["aptt_true_s"]


@pytest.mark.parametrize("difficulty", ["easy", "medium", "hard"])
def test_same_true_trajectory_under_the_same_doses(difficulty):
    """The Raschke nomogram doses HeparinInfusion-v0 for 5 days; the POMDP replays each
    6-h decision as a bolus in its first hour and the rate held for 6 hours. The true
    aPTT, heparin level, platelets and elimination factor agree at every 6-h boundary
    (the integrators take 40 vs 240 RK4 substeps of the same length; they differ only
    where a stiff row takes finer substeps over a different span)."""
    full = gym.make(FULL_ID, difficulty=difficulty, hit_incidence=0.5 if difficulty == "hard" else None)
    pomdp = gym.make(ENV_ID, difficulty=difficulty, hit_incidence=0.5 if difficulty == "hard" else None)
    policy = RaschkeNomogram()
    for seed in (11, 12, 13):
        obs, fi = full.reset(seed=seed)
        _, pi = pomdp.reset(seed=seed)
        policy.reset()
        for _ in range(20):
            a = policy.predict(obs)
            obs, _, _, _, fi = full.step(a)
            for hour in range(6):
                _, _, _, _, pi = pomdp.step(_action(a[0], a[1] if hour == 0 else 0.0))
            assert pi["hours"] == fi["hours"]
            for key in ("aptt_true_s", "heparin_u_per_ml", "platelets_true_10e9_per_l"):
                assert pi[key] == pytest.approx(fi[key], rel=1e-6, abs=1e-9), (seed, fi["hours"], key)
            assert pi["elimination_factor"] == fi["elimination_factor"]
            assert pi["hit_active"] == fi["hit_active"]


def test_result_reflects_the_true_state_at_the_draw_and_arrives_after_the_median_turnaround():
    """Easy tier: exact results, every turnaround its median. An aPTT ordered at hour 5
    (routine, 85 min) is the true aPTT at hour 5 and is first shown at hour 7; an anti-Xa
    ordered STAT at hour 5 (2 h) at hour 7 too; a routine platelet count (44.7 min) at 6."""
    env = gym.make(ENV_ID, difficulty="easy")
    _, info = env.reset(seed=4)
    for _ in range(5):
        _, _, _, _, info = env.step(_action(0.5, 0.0))
    truth = {"aptt": info["aptt_true_s"], "anti_xa": info["heparin_u_per_ml"], "platelets": info["platelets_true_10e9_per_l"]}
    assert info["hours"] == 5.0
    obs, _, _, _, info = env.step(_action(0.5, 0.0, (1, 2, 1)))  # hour 5 -> 6
    assert info["aptt_ordered"] == 1 and info["anti_xa_ordered"] == 2 and info["platelets_ordered"] == 1
    assert info["platelets_arrived"] and not info["aptt_arrived"] and not info["anti_xa_arrived"]
    assert info["platelets_reported_10e9_per_l"] == truth["platelets"] and info["platelets_draw_hours"] == 5.0
    assert info["aptt_pending"] == 1 and info["anti_xa_pending"] == 1 and info["platelets_pending"] == 0
    assert round(7 * obs[6]) == 0b011  # aPTT and anti-Xa pending
    assert obs[5] == pytest.approx(1 / 120)  # platelets drawn an hour ago
    assert obs[3] == pytest.approx(6 / 120)  # the shown aPTT is still the baseline, drawn at 0 h
    obs, _, _, _, info = env.step(_action(0.5))  # 6 -> 7
    assert info["aptt_arrived"] and info["anti_xa_arrived"]
    assert info["aptt_reported_s"] == truth["aptt"] and info["anti_xa_reported_iu_per_ml"] == truth["anti_xa"]
    assert info["aptt_true_s"] != truth["aptt"]  # the patient has moved on since the draw
    assert obs[0] == pytest.approx((truth["aptt"] - 20) / 180, abs=1e-6)
    assert obs[1] == pytest.approx(truth["anti_xa"], abs=1e-6)
    assert obs[3] == pytest.approx(2 / 120) and obs[4] == pytest.approx(2 / 120)
    assert round(7 * obs[6]) == 0


def test_medium_tier_results_use_the_documented_error_and_turnaround():
    """The env's result and arrival hour equal hemosim.assays' NumPy twins for the
    patient's key, order counter = hour + 1."""
    env = gym.make(ENV_ID)
    _, info = env.reset(seed=21)
    key = env.unwrapped.sim.inner.keys.copy()
    for _ in range(3):
        _, _, _, _, info = env.step(_action(0.5, 0.0))
    true_aptt, true_axa = info["aptt_true_s"], info["heparin_u_per_ml"]
    _, _, _, _, info = env.step(_action(0.5, 0.0, (1, 2, 0)))  # drawn at hour 3, counter 4
    tat = {
        "aptt": sample_turnaround_h(APTT_TEST, ROUTINE, key, 4)[0],
        "anti_xa": sample_turnaround_h(ANTI_XA_TEST, STAT, key, 4)[0],
    }
    expected = {
        "aptt": measure_drawn(APTT_TEST, np.array([true_aptt]), key, 4, APTT_TEST.analytical_cv)[0],
        "anti_xa": measure_drawn(ANTI_XA_TEST, np.array([true_axa]), key, 4, ANTI_XA_TEST.analytical_cv)[0],
    }
    arrival_hour = {k: math.ceil(3 + v - 1e-9) for k, v in tat.items()}
    seen = {}
    hour = 4
    while len(seen) < 2:
        for name in ("aptt", "anti_xa"):
            if info[f"{name}_arrived"] and name not in seen:
                seen[name] = hour
                reported = info["aptt_reported_s"] if name == "aptt" else info["anti_xa_reported_iu_per_ml"]
                assert reported == pytest.approx(expected[name], rel=1e-12)
                assert info[f"{name}_draw_hours"] == 3.0
        if len(seen) < 2:
            _, _, _, _, info = env.step(_action(0.5))
            hour += 1
    assert seen == arrival_hour


def test_lab_cost_enters_the_reward_with_its_weight_and_not_the_safety_cost():
    rewards, costs = {}, []
    for w in (0.0, 0.001, 0.01):
        env = gym.make(ENV_ID, lab_cost_weight=w, stat_cost_factor=2.0)
        env.reset(seed=2)
        _, r, _, _, info = env.step(_action(0.4, 1.0, (1, 2, 2)))
        cost = 23.40 + 2 * 24.15 + 2 * 15.0
        assert info["lab_cost_chf"] == pytest.approx(cost)
        assert info["reward_lab_cost"] == pytest.approx(-w * cost)
        clinical = sum(info[k] for k in ("reward_in_range", "reward_subtherapeutic", "reward_supratherapeutic",
                                         "reward_dangerous", "reward_hit"))
        assert r == pytest.approx(clinical - w * cost)
        costs.append(info["cost"])
        rewards[w] = r
    assert rewards[0.0] > rewards[0.001] > rewards[0.01]
    assert costs[0] == costs[1] == costs[2] < 1.0  # the safety channel carries events, not test costs


def test_clinical_reward_is_on_the_full_env_scale():
    """The Raschke nomogram's doses replayed hourly: the POMDP's clinical return (tests
    free) is on the full env's scale. They differ only by the interpolation (hourly vs
    6-hourly values of the true aPTT): a bolus peak inside a 6-h step is seen hourly."""
    full = gym.make(FULL_ID)
    pomdp = gym.make(ENV_ID, lab_cost_weight=0.0)
    policy = RaschkeNomogram()
    diffs = []
    for seed in range(20, 30):
        obs, _ = full.reset(seed=seed)
        pomdp.reset(seed=seed)
        policy.reset()
        rf = rp = 0.0
        for _ in range(20):
            a = policy.predict(obs)
            obs, r, *_ = full.step(a)
            rf += r
            for hour in range(6):
                rp += pomdp.step(_action(a[0], a[1] if hour == 0 else 0.0))[1]
        assert -3.5 * 20 <= rp <= 20.0
        diffs.append(rp - rf)
    # per patient the two differ by up to ~5 (a bolus peak or a crossing between 6-h
    # values); on average they agree
    assert abs(np.mean(diffs)) < 1.0, diffs


def test_in_range_reward_is_the_hourly_rosendaal_ttr():
    from hemosim.metrics import rosendaal_ttr

    env = gym.make(ENV_ID)
    _, info = env.reset(seed=31)
    aptt, r_in = [info["aptt_true_s"]], 0.0
    for t in range(120):
        _, _, _, _, info = env.step(_action(0.52, 1.0 if t == 0 else 0.0))
        aptt.append(info["aptt_true_s"])
        r_in += info["reward_in_range"]
    ttr = rosendaal_ttr(np.arange(121.0), np.array(aptt)[None], 46.0, 70.0, max_gap=None)[0]
    assert 0.0 < ttr < 1.0
    assert r_in == pytest.approx(20.0 * ttr, rel=1e-9)


def test_event_contract_keys_present_at_reset_and_every_step():
    env = gym.make(ENV_ID)
    _, info = env.reset(seed=0)
    assert info["cost"] == 0.0 and info["bleeding_isth_class"] == 0
    for _ in range(3):
        assert set(info["events"]) == set(EVENT_KEYS)
        assert info["cost"] >= 0.0 and info["bleeding_isth_class"] in (0, 3)
        _, _, _, _, info = env.step(env.action_space.sample())


def test_events_follow_the_heparin_hazards_hourly():
    """Over many patients, overdosing (max rate, bolus) bleeds far more often and costs more
    than the Raschke starting dose, and events appear at all (they are drawn, not stubbed)."""
    n = 2000
    counts = {}
    for name, rate in (("overdose", 1.0), ("raschke_start", 0.52)):
        env = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point")
        env.reset(seed=list(range(n)))
        bleeds = cost = 0.0
        for t in range(48):
            a = np.zeros((n, 5), dtype=np.float32)
            a[:, 0] = rate
            a[:, 1] = 1.0 if t == 0 else 0.0
            _, _, _, _, info = env.step(a)
            bleeds += info["events"]["major_bleeding"].sum()
            cost += info["cost"].sum()
        counts[name] = (bleeds, cost)
    assert counts["overdose"][0] > 2 * max(counts["raschke_start"][0], 1)
    assert counts["overdose"][1] > counts["raschke_start"][1]


def test_events_reward_mode_penalises_events_and_keeps_the_lab_cost():
    env = gym.make(ENV_ID, reward_mode="events", lab_cost_weight=0.001)
    env.reset(seed=3)
    _, r, _, _, info = env.step(_action(0.4, 0.0, (1, 0, 0)))
    penalty = sum(EVENT_PENALTIES[k] * bool(v) for k, v in info["events"].items())
    assert r == pytest.approx(1.0 / 6.0 - penalty - 0.001 * info["lab_cost_chf"])


def test_order_level_mapping():
    a = np.array([[0, 0, 0.0, 0.33, 0.34], [0, 0, 0.6666, 0.6667, 1.0]])
    np.testing.assert_array_equal(order_levels(a), [[0, 0, 1], [1, 2, 2]])
    np.testing.assert_array_equal(order_levels(np.concatenate([[0, 0], action_from_orders(np.array([0, 1, 2]))])), [0, 1, 2])
    with pytest.raises(ValueError, match="order levels"):
        action_from_orders(np.array([3]))


@pytest.mark.parametrize("options,match", [
    ({"lab_cost_weight": -0.1}, "lab_cost_weight"),
    ({"lab_cost_weight": float("nan")}, "lab_cost_weight"),
    ({"turnaround": "instant"}, "turnaround"),
    ({"stat_cost_factor": -1}, "stat_cost_factor"),
    ({"reward_mode": "bleeding"}, "reward_mode"),
    ({"difficulty": "expert"}, "difficulty"),
    ({"hit_incidence": 2.0}, "hit_incidence"),
    ({"lab_delay": 1}, "unknown"),
])
def test_bad_options_raise(options, match):
    with pytest.raises(ValueError, match=match):
        gym.make(ENV_ID, **options)


def test_bad_actions_raise():
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    for bad in (np.array([0.5, 0, 0, 0, 1.2], np.float32), np.array([np.nan, 0, 0, 0, 0], np.float32), np.zeros(4, np.float32)):
        with pytest.raises(ValueError):
            env.unwrapped.step(bad)


def test_turnaround_none_shows_every_result_at_the_next_decision():
    env = gym.make(ENV_ID, turnaround="none")
    env.reset(seed=9)
    for h in range(10):
        _, _, _, _, info = env.step(_action(0.5, 0.0, (2, 1, 1)))
        assert info["aptt_arrived"] and info["anti_xa_arrived"] and info["platelets_arrived"]
        assert info["aptt_draw_hours"] == h and info["aptt_pending"] == 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 9999), steps=st.integers(1, 40), action_seed=st.integers(0, 2**31))
def test_property_observation_bounds_and_lab_invariants(seed, steps, action_seed):
    env = gym.make(ENV_ID, difficulty="hard")
    obs, info = env.reset(seed=seed)
    env.action_space.seed(action_seed)
    last_draw = {k: 0.0 for k in ("aptt", "anti_xa", "platelets")}
    for _ in range(steps):
        obs, r, term, trunc, info = env.step(env.action_space.sample())
        assert env.observation_space.contains(obs) and np.isfinite(r)
        for k in last_draw:
            assert 0 <= info[f"{k}_draw_hours"] < info["hours"] or info[f"{k}_draw_hours"] == 0.0
            assert info[f"{k}_draw_hours"] >= last_draw[k]
            last_draw[k] = info[f"{k}_draw_hours"]
            assert info[f"{k}_pending"] >= 0
        bits = round(7 * obs[6])
        assert [(bits >> t) & 1 for t in range(3)] == [int(info[f"{k}_pending"] > 0) for k in ("aptt", "anti_xa", "platelets")]
