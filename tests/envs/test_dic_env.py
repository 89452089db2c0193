"""hemosim/DICManagement-v0 specifics (the generic API contract is tests/envs/test_env_api.py)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hemosim  # noqa: F401
from hemosim.envs.dic import (
    NORMAL_PT_S,
    PARALLEL_MIN_PATIENTS,
    DICSimulator,
    observation_to_labs,
)
from hemosim.models import dic as m
from hemosim.models.dic_scores import isth_overt_dic_score
from hemosim.sim.rng import patient_key

ENV = "hemosim/DICManagement-v0"
EVENT_KEYS = {"major_bleeding", "crnm_bleeding", "intracranial_haemorrhage", "thromboembolism", "death"}


def test_reset_info_follows_the_event_cost_contract():
    env = gym.make(ENV)
    _, info = env.reset(seed=1)
    assert set(info["events"]) == EVENT_KEYS and not any(info["events"].values())
    assert info["cost"] == 0.0 and isinstance(info["cost"], float)
    assert info["bleeding_isth_class"] == 0
    _, _, _, _, info = env.step(np.array([0, 0, 0, 0]))
    assert set(info["events"]) == EVENT_KEYS
    assert info["cost"] == float(info["events"]["major_bleeding"]) + float(info["events"]["thromboembolism"]) \
        + float(info["events"]["death"])


def _run(env_kwargs, policy, n=256, seed=100):
    venv = gym.make_vec(ENV, num_envs=n, vectorization_mode="vector_entry_point", **env_kwargs)
    obs, info = venv.reset(seed=seed)
    done = np.zeros(n, bool)
    totals = {"deaths": 0, "steps": 0, "cost": 0.0, "bleeds": 0}
    for _ in range(28):
        obs, r, te, tr, info = venv.step(policy(obs, info))
        live = ~done
        totals["deaths"] += int((te & live).sum())
        totals["cost"] += float(info["cost"][live].sum())
        totals["bleeds"] += int(info["events"]["major_bleeding"][live].sum())
        assert np.all(info["events"]["death"][live] == te[live])  # death and only death terminates
        done |= te | tr
    assert done.all()
    return totals


def test_death_terminates_and_bleeds_do_not():
    t = _run({}, lambda o, i: np.zeros((len(o), 4), dtype=np.int64))
    assert t["deaths"] > 0 and t["bleeds"] > 0


def test_observation_is_the_measured_panel_and_the_isth_score_of_it():
    env = gym.make(ENV, difficulty="medium")
    obs, info = env.reset(seed=3)
    for _ in range(5):
        obs, _, term, trunc, info = env.step(np.array([1, 1, 1, 1]))
    labs = observation_to_labs(obs)
    assert labs["platelets_10e9_per_l"] == pytest.approx(min(info["platelets_measured_10e9_per_l"], 400), rel=1e-6)
    assert labs["pt_s"] == pytest.approx(info["pt_measured_s"], rel=1e-6)
    score = isth_overt_dic_score(info["platelets_measured_10e9_per_l"], info["fdp_measured_ug_per_ml"],
                                 info["pt_measured_s"] - NORMAL_PT_S, info["fibrinogen_measured_g_per_l"])
    assert info["isth_score"] == int(score) == round(float(labs["isth_score"]))
    assert labs["hours"] == pytest.approx(info["hours"])


def test_easy_tier_reports_exact_labs_and_true_isth():
    env = gym.make(ENV, difficulty="easy")
    _, info = env.reset(seed=4)
    for _ in range(3):
        _, _, _, _, info = env.step(np.array([0, 0, 0, 0]))
    assert info["platelets_measured_10e9_per_l"] == pytest.approx(info["platelets_10e9_per_l"])
    assert info["pt_measured_s"] == pytest.approx(min(info["pt_s"], m.PT_REPORT_MAX_S))
    assert info["isth_score"] == info["isth_score_true"]


def test_products_are_recorded_and_raise_levels():
    a, b = gym.make(ENV, difficulty="easy"), gym.make(ENV, difficulty="easy")
    a.reset(seed=11)
    b.reset(seed=11)
    _, _, _, _, ia = a.step(np.array([0, 0, 0, 0]))
    _, _, _, _, ib = b.step(np.array([0, 2, 1, 0]))
    assert ib["ffp_ml_per_kg"] == 0.0 and ib["platelet_doses"] == 2 and ib["cryo_doses"] == 1
    assert ib["platelets_10e9_per_l"] > ia["platelets_10e9_per_l"] + 30
    assert ib["fibrinogen_g_per_l"] > ia["fibrinogen_g_per_l"] + 0.3
    assert ib["reward_products"] == pytest.approx(-0.01 * (2 + 1))
    # FFP (factor activity 90 %) restores factors consumed well below that
    for seed in range(50):
        a, c = gym.make(ENV, difficulty="easy", cause="trauma"), gym.make(ENV, difficulty="easy", cause="trauma")
        _, i0 = a.reset(seed=seed)
        if i0["v_pct"] > 60:
            continue
        c.reset(seed=seed)
        _, _, _, _, ia = a.step(np.array([0, 0, 0, 0]))
        _, _, _, _, ic = c.step(np.array([3, 0, 0, 0]))
        assert ic["ffp_ml_per_kg"] == 30.0
        assert ic["v_pct"] > ia["v_pct"] + 5
        break
    else:
        pytest.fail("no trauma patient with factor V < 60 % in 50 seeds")


def test_therapeutic_heparin_prolongs_the_aptt():
    a, b = gym.make(ENV, difficulty="easy"), gym.make(ENV, difficulty="easy")
    a.reset(seed=12)
    b.reset(seed=12)
    _, _, _, _, ia = a.step(np.array([0, 0, 0, 0]))
    _, _, _, _, ib = b.step(np.array([0, 0, 0, 2]))
    assert ib["aptt_s"] > 1.5 * ia["aptt_s"]
    assert ib["heparin_level"] == 2


def test_reward_modes():
    rewards = {}
    for mode in ("default", "events"):
        env = gym.make(ENV, reward_mode=mode)
        env.reset(seed=21)
        _, r, _, _, info = env.step(np.array([3, 3, 2, 0]))
        rewards[mode] = (r, info)
    r_def, info = rewards["default"]
    parts = ("reward_survival", "reward_death", "reward_bleeding", "reward_thrombosis", "reward_products",
             "reward_late_death")
    assert r_def == pytest.approx(sum(info[p] for p in parts))
    assert rewards["events"][0] == pytest.approx(r_def - info["reward_products"] - info["reward_late_death"])


def test_bad_options_raise():
    for kw in ({"difficulty": "x"}, {"cause": "cancer"}, {"reward_mode": "dense"}):
        with pytest.raises(ValueError, match="unknown"):
            gym.make(ENV, **kw)
    env = gym.make(ENV)
    with pytest.raises(ValueError, match="options"):
        env.reset(seed=0, options={"x": 1})


def test_parallel_batches_equal_the_serial_rows():
    """Rows of a large (threaded) batch equal the same patients stepped in a small batch."""
    n = PARALLEL_MIN_PATIENTS + 3
    big, small = DICSimulator(n), DICSimulator(3)
    keys = patient_key(np.arange(n, dtype=np.uint64), 0)
    big.reset_patients(np.ones(n, bool), keys, None)
    small.reset_patients(np.ones(3, bool), keys[-3:], None)
    rng = np.random.default_rng(0)
    for _ in range(10):
        act = rng.integers(0, [4, 4, 3, 3], size=(n, 4))
        rb, tb, trb = big.advance(act)
        rs, ts, trs = small.advance(act[-3:])
        np.testing.assert_array_equal(rb[-3:], rs)
        np.testing.assert_array_equal(big.state[-3:], small.state)
        np.testing.assert_array_equal(big.observation()[-3:], small.observation())


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 5))
def test_batch_invariance_property(seed, n):
    """Patient i of a batch equals the same patient simulated alone."""
    keys = patient_key(np.arange(seed, seed + n, dtype=np.uint64), 0)
    batch = DICSimulator(n)
    batch.reset_patients(np.ones(n, bool), keys, None)
    alone = DICSimulator(1)
    alone.reset_patients(np.ones(1, bool), keys[-1:], None)
    act = np.tile([1, 1, 1, 1], (n, 1))
    for _ in range(4):
        batch.advance(act)
        alone.advance(act[-1:])
    np.testing.assert_array_equal(batch.state[-1], alone.state[0])
    assert np.all(batch.state[:, : m.N_SPECIES][:, :10] >= 0)


def test_cause_option_selects_the_population():
    env = gym.make(ENV, cause="obstetric")
    _, info = env.reset(seed=5)
    assert info["patient"]["cause"] == "obstetric"


def test_hard_tier_reports_a_panel_every_12_hours():
    env = gym.make(ENV, difficulty="hard")
    o0, _ = env.reset(seed=8)
    seen = [o0[:6]]
    for _ in range(4):
        o, *_ = env.step(np.array([0, 0, 0, 0]))
        seen.append(o[:6])
    np.testing.assert_array_equal(seen[1], seen[0])  # 6 h: the admission panel again
    assert not np.array_equal(seen[2], seen[1])  # 12 h: a new panel
    np.testing.assert_array_equal(seen[3], seen[2])
