"""DOACManagement-v0: spaces, options, the event / cost contract, rewards, observation, model agreement.

The generic Gymnasium contract (check_env, seeding, single == vector == SyncVectorEnv through
autoreset, info freshness) is in ``test_env_api.py``, parametrised over the registry.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hemosim  # noqa: F401
from hemosim import label_rules
from hemosim.calibration.doac_targets import TRIALS
from hemosim.calibration.doac_trials import arm_dose_levels
from hemosim.doac_evaluation import TrialArmPolicy, run_policy
from hemosim.envs.doac import EPISODE_DAYS, NCB_WEIGHTS, VISIT_DAYS, observation_to_clinical
from hemosim.models import doac
from hemosim.patients.af import sample_cohort
from hemosim.sim.rng import patient_key

ENV_ID = "hemosim/DOACManagement-v0"
EVENT_KEYS = {"major_bleeding", "intracranial_haemorrhage", "thromboembolism", "death"}


def _vec(n, **kw):
    return gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **kw)


def test_spaces_and_warfarin_option():
    env = gym.make(ENV_ID)
    assert env.observation_space == gym.spaces.Box(0.0, 1.0, (8,), np.float32)
    assert env.action_space == gym.spaces.MultiDiscrete([3, 3])
    assert gym.make(ENV_ID, drugs="doacs+warfarin").action_space == gym.spaces.MultiDiscrete([4, 3])
    assert len(VISIT_DAYS) == 12 and EPISODE_DAYS == 365


@pytest.mark.parametrize("kw, word", [
    ({"difficulty": "expert"}, "difficulty"), ({"population": "mars"}, "population"),
    ({"drugs": "all"}, "drugs"), ({"reward_mode": "dense"}, "reward_mode"),
    ({"ncb_weights": {"stroke": -1.0}}, "ncb_weights"), ({"ncb_weights": {"bleed": 1.0}}, "ncb_weights"),
    ({"colour": 1}, "unknown"),
])
def test_bad_options_raise_naming_the_value(kw, word):
    with pytest.raises(ValueError, match=word):
        gym.make(ENV_ID, **kw)


def test_bad_actions_raise():
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(np.array([3, 0]))  # warfarin is not in the default space
    with pytest.raises(ValueError):
        env.step(np.array([0, 3]))
    with pytest.raises(ValueError):
        env.step(np.array([0.5, 0]))
    with pytest.raises(ValueError):
        env.reset(seed=0, options={"population": "rely"})


def test_reset_info_follows_the_event_contract():
    env = gym.make(ENV_ID)
    _, info = env.reset(seed=4)
    assert set(info["events"]) == EVENT_KEYS and not any(info["events"].values())
    assert info["cost"] == 0.0 and isinstance(info["cost"], float)
    assert info["bleeding_isth_class"] == 0
    assert info["drug"] == doac.NO_ANTICOAGULANT and info["dose_level"] == doac.HOLD and info["day"] == 0


def test_episode_is_twelve_monthly_visits_and_365_days():
    env = gym.make(ENV_ID, population="aristotle")
    env.reset(seed=2)
    days = []
    for t in range(12):
        _, _, term, trunc, info = env.step(np.array([0, 0]))
        days.append(info["day"])
        if term:
            pytest.skip("patient died (seed chosen to survive)")
    assert days == [30 * (k + 1) for k in range(11)] + [365]
    assert trunc and not term


@pytest.fixture(scope="module")
def year_of_events():
    """4,096 general-practice patients for one year on dabigatran standard (events are frequent enough)."""
    n = 4096
    venv = _vec(n)
    venv.reset(seed=500)
    rows = []
    live = np.ones(n, dtype=bool)
    for _ in range(12):
        _, r, term, trunc, info = venv.step(np.tile([2, 0], (n, 1)))
        rows.append((r, term, trunc, info, live.copy()))
        live &= ~(term | trunc)
    return rows


def test_cost_events_reward_and_isth_class_are_consistent(year_of_events):
    seen = dict.fromkeys(EVENT_KEYS, 0)
    for r, term, trunc, info, live in year_of_events:
        ev = info["events"]
        assert set(k for k in ev if not k.startswith("_")) == EVENT_KEYS
        cost = sum(ev[k].astype(float) for k in EVENT_KEYS)
        np.testing.assert_array_equal(info["cost"], cost)
        np.testing.assert_array_equal(info["bleeding_isth_class"], np.where(ev["major_bleeding"], 3, 0))
        parts = info["reward_stroke"] + info["reward_ich"] + info["reward_major_bleeding"] + info["reward_death"]
        np.testing.assert_allclose(r, parts)
        assert np.all(ev["major_bleeding"][ev["intracranial_haemorrhage"]])  # ICH is an ISTH major bleed
        np.testing.assert_array_equal(term[live], ev["death"][live])  # death, and only death, terminates
        assert np.all(info["reward_death"][ev["death"]] == -NCB_WEIGHTS["death"])
        assert np.all(r[ev["thromboembolism"]] <= -NCB_WEIGHTS["stroke"])
        for k in EVENT_KEYS:
            seen[k] += int(ev[k][live].sum())
    assert all(v > 0 for v in seen.values()), seen  # every event type happens in a year of 4,096 patients


def test_bleeds_do_not_end_the_episode(year_of_events):
    for r, term, trunc, info, live in year_of_events:
        bleed_alive = info["events"]["major_bleeding"] & ~info["events"]["death"] & live
        assert not np.any(term[bleed_alive])


def test_events_reward_mode_pays_minus_cost_and_weights_override():
    n = 512
    out = {}
    for name, kw in (("default", {}), ("events", {"reward_mode": "events"}),
                     ("double_ich", {"ncb_weights": {"ich": 3.0}})):
        venv = _vec(n, **kw)
        venv.reset(seed=900)
        rs, infos = [], []
        for _ in range(12):
            _, r, _, _, info = venv.step(np.tile([1, 0], (n, 1)))
            rs.append(r)
            infos.append(info)
        out[name] = (np.array(rs), infos)
    r_ev, infos = out["events"]
    np.testing.assert_array_equal(r_ev, -np.array([i["cost"] for i in infos]))
    r_def, i_def = out["default"]
    r_dbl, i_dbl = out["double_ich"]
    np.testing.assert_allclose(np.array([i["reward_ich"] for i in i_dbl]), 2.0 * np.array([i["reward_ich"] for i in i_def]))


def test_observation_decodes_to_info_values():
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=31)
    for _ in range(4):
        obs, _, _, _, info = env.step(np.array([0, 1]))
    c = observation_to_clinical(obs)
    assert c["age_y"] == pytest.approx(info["age_y"], abs=1e-4)
    assert c["weight_kg"] == pytest.approx(info["weight_kg"], abs=1e-4)
    assert c["crcl_ml_per_min"] == pytest.approx(info["crcl_measured_ml_per_min"], abs=1e-3)
    assert c["scr_mg_per_dl"] == pytest.approx(info["scr_measured_mg_per_dl"], rel=1e-5)
    assert c["cha2ds2_vasc"] == info["cha2ds2_vasc"] and c["has_bled"] == info["has_bled"]
    assert c["drug"] == 0 and c["dose_level"] == 1 and bool(c["female"]) == info["patient"]["female"]
    assert info["dose_mg"] == 2.5
    lab = label_rules.dose_level("apixaban", age_y=info["age_y"], weight_kg=info["weight_kg"],
                                 scr_mg_per_dl=info["scr_measured_mg_per_dl"],
                                 crcl_ml_per_min=info["crcl_measured_ml_per_min"])
    assert info["label_dose_level"][0] == lab


def test_creatinine_measurement_error_by_tier():
    for difficulty, exact in (("easy", True), ("medium", False)):
        venv = _vec(256, difficulty=difficulty)
        _, info = venv.reset(seed=77)
        rel = info["crcl_measured_ml_per_min"] / info["crcl_true_ml_per_min"]
        if exact:
            np.testing.assert_allclose(rel, 1.0, rtol=1e-12)
        else:
            assert 0.03 < np.std(np.log(rel)) < 0.09  # CV 6 %


def test_renal_function_declines_over_the_year_and_hard_tier_stops_some_patients():
    n = 2048
    venv = _vec(n, difficulty="hard")
    _, info0 = venv.reset(seed=1234)
    live = np.ones(n, dtype=bool)
    for _ in range(12):
        _, _, term, trunc, info = venv.step(np.tile([2, 0], (n, 1)))
        live &= ~term
    change = info["crcl_true_ml_per_min"][live] - info0["crcl_true_ml_per_min"][live]
    assert -3.0 < np.median(change) < 0.0  # Boehm 2015: about -1 mL/min/yr on a DOAC
    stopped = info["stopped"][live].mean()
    assert 0.25 < stopped < 0.55  # THIN UK: 59 % of dabigatran users persistent at one year


@pytest.mark.parametrize("trial_key", list(TRIALS))
def test_env_driven_by_a_trial_arm_equals_the_trial_script(trial_key):
    """The env (trial population, exact creatinine, the arm's dose rule at visit 1) and
    ``doac.simulate`` on the same patients give identical event histories over 365 days."""
    n = 128
    seeds = 930_000 + np.arange(n)
    for arm in TRIALS[trial_key].arms:
        r = run_policy(TrialArmPolicy(arm.drug, arm.dose_rule), seeds, population=TRIALS[trial_key].preset,
                       difficulty="easy", drugs="doacs+warfarin")
        cohort = sample_cohort(patient_key(seeds.astype(np.uint64), 0), TRIALS[trial_key].preset)
        sim = doac.simulate(cohort, arm.drug, arm_dose_levels(arm, cohort), 365)
        np.testing.assert_array_equal(sim.state.event_count, r["event_count"])
        np.testing.assert_array_equal(sim.state.first_day, r["first_day"])
        np.testing.assert_allclose(sim.state.hazard_integral, r["hazard_integral"], rtol=1e-12)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 9_999), actions=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=12, max_size=12))
def test_property_bounds_and_determinism(seed, actions):
    runs = []
    for _ in range(2):
        env = gym.make(ENV_ID)
        obs, _ = env.reset(seed=seed)
        traj = [obs]
        for a in actions:
            obs, r, term, trunc, info = env.step(np.array(a))
            assert env.observation_space.contains(obs)
            assert r <= 0.0 and np.isfinite(r) and info["cost"] >= 0.0
            traj.append(obs)
            if term or trunc:
                break
        runs.append(np.array(traj))
    np.testing.assert_array_equal(runs[0], runs[1])
