"""Clinical events in the envs: the EVENT / COST contract, per-patient draws, reward modes."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.vector import SyncVectorEnv
from hypothesis import given, settings
from hypothesis import strategies as st

import hemosim  # noqa: F401
from hemosim.envs.heparin_events import HEPARIN_EVENT_HAZARDS, HEPARIN_EVENTS, bleeding_relative_risk
from hemosim.envs.heparin_events import _fields_lacking_metadata as heparin_missing
from hemosim.envs.warfarin_events import WARFARIN_EVENT_HAZARDS, WARFARIN_EVENTS, hazards_per_h
from hemosim.envs.warfarin_events import _fields_lacking_metadata as warfarin_missing
from hemosim.sim import rng
from hemosim.sim.events import EVENT_KEYS, EVENT_PENALTIES, draw_competing, per_hour_from_per_100_patient_years

WARFARIN, HEPARIN = "hemosim/WarfarinDosing-v0", "hemosim/HeparinInfusion-v0"
CASES = [(WARFARIN, {}, WARFARIN_EVENTS), (HEPARIN, {"difficulty": "hard", "hit_incidence": 0.5}, HEPARIN_EVENTS)]


def test_hazard_parameters_carry_unit_and_source():
    assert warfarin_missing() == [] and heparin_missing() == []


def test_warfarin_hazards_follow_the_published_bands():
    h = hazards_per_h(np.array([1.2, 2.5, 3.5, 5.0]))
    per_100py = h / per_hour_from_per_100_patient_years(1.0)
    np.testing.assert_allclose(per_100py[:, 0], [4.55, 1.75, 2.625, 1.75 * 7.91], rtol=1e-12)  # Nelson 2015, ISCOAT
    np.testing.assert_allclose(per_100py[:, 2], [12.11, 12.11 / 7.6, 12.11 / 7.6, 12.11 / 7.6], rtol=1e-12)
    np.testing.assert_allclose(per_100py[:, 1], per_100py[:, 0] * WARFARIN_EVENT_HAZARDS.crnm_per_major)


def test_heparin_hazards_hand_worked():
    h = HEPARIN_EVENT_HAZARDS
    # 24 h sub-therapeutic plus the background over the course gives Hull 1997's 23.3 %
    risk = 1.0 - math.exp(-(h.recurrence_subtherapeutic_excess_per_h * 24.0 + h.recurrence_background_per_h * h.course_hours))
    assert risk == pytest.approx(0.233, abs=1e-12)
    np.testing.assert_allclose(bleeding_relative_risk([50.0, 70.0, 105.0, 140.0, 300.0]), [1.0, 1.0, math.sqrt(20.0), 20.0, 20.0])


def test_draw_competing_uses_the_patients_own_uniform():
    n = 2000
    keys = rng.patient_key(np.arange(n), 0)
    haz = np.tile([[0.02, 0.01]], (n, 1))
    idx, within = draw_competing(keys, 301, 7, haz, 6.0)
    u = rng.uniform(keys, 301, 7)
    p_any = -math.expm1(-0.03 * 6.0)
    np.testing.assert_array_equal(idx >= 0, u < p_any)
    np.testing.assert_array_equal(idx[u < p_any * 2 / 3] , 0)
    np.testing.assert_array_equal(idx[(u >= p_any * 2 / 3 + 1e-12) & (u < p_any)], 1)
    assert np.all((within >= 0) & (within < 1))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40), st.integers(0, 10_000), st.floats(0.0, 0.5))
def test_draw_competing_is_batch_invariant(n, seed, h):
    keys = rng.patient_key(seed + np.arange(n), 0)
    haz = np.column_stack([np.full(n, h), np.linspace(0.0, h, n)])
    idx, _ = draw_competing(keys, 301, 3, haz, 24.0)
    for i in range(n):
        one, _ = draw_competing(keys[i : i + 1], 301, 3, haz[i : i + 1], 24.0)
        assert one[0] == idx[i]


@pytest.mark.parametrize("env_id, opts, names", CASES)
def test_contract_keys_at_reset_and_step(env_id, opts, names):
    env = gym.make(env_id, **opts)
    _, info = env.reset(seed=3)
    assert set(info["events"]) == set(names) and set(names) <= set(EVENT_KEYS)
    assert not any(info["events"].values())
    assert info["cost"] == 0.0 and isinstance(info["cost"], float)
    assert info["bleeding_isth_class"] == 0
    _, _, _, _, info = env.step(env.action_space.sample())
    assert set(info["events"]) == set(names)
    assert all(isinstance(v, bool) for v in info["events"].values())
    assert isinstance(info["cost"], float) and info["cost"] >= 0.0


def _run_vector(env, n, steps, seed):
    rs = np.random.default_rng(seed)
    obs, info = env.reset(seed=100)
    out = []
    for _ in range(steps):
        a = rs.uniform(0.4, 1, (n,) + env.single_action_space.shape).astype(np.float32)
        obs, r, te, tr, info = env.step(a)
        out.append((obs, r, te, tr, {k: info["events"][k].copy() for k in info["events"] if not k.startswith("_")},
                    info["cost"].copy(), info["bleeding_isth_class"].copy()))
    return out


@pytest.mark.parametrize("reward_mode", ["default", "events"])
@pytest.mark.parametrize("env_id, opts, names", CASES)
def test_single_equals_vector_equals_sync_with_events(env_id, opts, names, reward_mode):
    n, steps = (48, 95) if env_id == WARFARIN else (12, 45)  # both cross an autoreset
    native = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", reward_mode=reward_mode, **opts)
    sync = SyncVectorEnv([lambda: gym.make(env_id, reward_mode=reward_mode, **opts) for _ in range(n)])
    a, b = _run_vector(native, n, steps, 0), _run_vector(sync, n, steps, 0)
    any_event = False
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x[0], y[0])
        np.testing.assert_array_equal(x[1], y[1])
        np.testing.assert_array_equal(x[2], y[2])
        for k in names:
            np.testing.assert_array_equal(x[4][k], y[4][k])
            any_event |= bool(x[4][k].any())
        np.testing.assert_array_equal(x[5], y[5])
        np.testing.assert_array_equal(x[6], y[6])
    assert any_event, "the comparison must include steps with events"


def test_events_reward_mode_and_death_termination():
    env = gym.make_vec(WARFARIN, num_envs=400, vectorization_mode="vector_entry_point", reward_mode="events")
    check_env(gym.make(WARFARIN, reward_mode="events").unwrapped, skip_render_check=True)
    env.reset(seed=0)
    high = np.full((400, 1), 1.0, dtype=np.float32)  # 15 mg a day: INR far above range
    saw_death = False
    for _ in range(60):
        stepping = ~env.unwrapped._autoreset  # rows not being reset this step
        alive = env.unwrapped.sim.events.alive.copy()
        _, r, term, _, info = env.step(high)
        ev = {k: v for k, v in info["events"].items() if not k.startswith("_")}
        expected = alive - sum(EVENT_PENALTIES[k] * ev[k] for k in ev)
        np.testing.assert_allclose(r[stepping], expected[stepping])
        np.testing.assert_array_equal(term, ev["death"] & stepping)
        saw_death |= bool(term.any())
    assert saw_death


def test_default_mode_death_does_not_terminate_and_stops_events():
    env = gym.make_vec(WARFARIN, num_envs=400, vectorization_mode="vector_entry_point")
    env.reset(seed=0)
    sim = env.unwrapped.sim
    high = np.full((400, 1), 1.0, dtype=np.float32)
    for _ in range(60):
        _, _, term, _, info = env.step(high)
        assert not term.any()
        dead_before = ~sim.events.alive
    assert dead_before.any()
    assert (sim.events.counts["death"][dead_before] == 1).all()


def test_bad_reward_mode_is_rejected():
    for env_id in (WARFARIN, HEPARIN):
        with pytest.raises(ValueError, match="reward_mode"):
            gym.make(env_id, reward_mode="lives")


def test_heparin_hit_event_and_four_ts():
    env = gym.make_vec(HEPARIN, num_envs=200, vectorization_mode="vector_entry_point", difficulty="hard", hit_incidence=1.0)
    env.reset(seed=0)
    act = np.tile(np.array([[0.5, 0.0]], dtype=np.float32), (200, 1))
    hits = np.zeros(200, dtype=int)
    for _ in range(20):
        _, _, _, _, info = env.step(act)
        hits += info["events"]["hit"]
    onset = env.unwrapped.sim.params[:, 4]
    np.testing.assert_array_equal(hits, (onset <= 120.0).astype(int))  # flagged once, in its step
    rapid = onset < 24.0
    # fall > 50 % (2), within a day with recent heparin (2), other causes possible (1): >= 5,
    # unless the noisy samples date the fall after day 1 (timing 0)
    assert np.mean(info["hit_4ts"][rapid] >= 5) > 0.8
    assert np.all(info["hit_4ts"][onset > 120.0] <= 3)


def test_fused_warfarin_draw_equals_the_generic_competing_draw_and_isth_class():
    """The compiled day draw gives the events ``draw_competing`` gives from ``hazards_per_h``
    with the same uniforms, and the ISTH class ``metrics.isth_bleeding_class`` gives."""
    from hemosim.envs.warfarin_events import STREAM_EVENT_FATAL, STREAM_EVENT_SITE, STREAM_EVENTS, draw_warfarin_events
    from hemosim.metrics import isth_bleeding_class
    from hemosim.envs.warfarin_events import WarfarinEventHazards
    from hemosim.sim.events import EventLog

    n = 20_000
    keys = rng.patient_key(np.arange(n), 0)
    inr = np.linspace(0.8, 9.0, n)
    day = np.full(n, 17)
    log = EventLog(n, WARFARIN_EVENTS)
    # rates x 300 so that every branch is taken often in one day
    h = WarfarinEventHazards(
        major_bleeding_per_100py=tuple(300 * r for r in WARFARIN_EVENT_HAZARDS.major_bleeding_per_100py),
        thromboembolism_per_100py=tuple(300 * r for r in WARFARIN_EVENT_HAZARDS.thromboembolism_per_100py))
    cost = draw_warfarin_events(log, keys, day, inr, h)
    index, _ = draw_competing(keys, STREAM_EVENTS, day, hazards_per_h(inr, h), 24.0)
    np.testing.assert_array_equal(log.flags["major_bleeding"], index == 0)
    np.testing.assert_array_equal(log.flags["crnm_bleeding"], index == 1)
    np.testing.assert_array_equal(log.flags["thromboembolism"], index == 2)
    major = index == 0
    ich = major & (rng.uniform(keys, STREAM_EVENT_SITE, day) < WARFARIN_EVENT_HAZARDS.intracranial_share_of_major)
    u_fatal = rng.uniform(keys, STREAM_EVENT_FATAL, day)
    death = (major & (u_fatal < WARFARIN_EVENT_HAZARDS.fatal_share_of_major)) | (
        (index == 2) & (u_fatal < WARFARIN_EVENT_HAZARDS.fatal_share_of_thromboembolism))
    np.testing.assert_array_equal(log.flags["intracranial_haemorrhage"], ich)
    np.testing.assert_array_equal(log.flags["death"], death)
    assert major.sum() > 100 and (index == 1).sum() > 100 and death.sum() > 10  # the draw is exercised
    expected_class = isth_bleeding_class(major | (index == 1), fatal=death & major, critical_site=ich,
                                         hb_drop_g_per_dl=np.where(major, 2.0, 0.0), clinically_relevant=index == 1)
    np.testing.assert_array_equal(log.isth_class, expected_class)
    # the cost counts each serious event and an INR above 4 (a sum, not a logical or)
    np.testing.assert_array_equal(cost, major.astype(float) + (index == 2) + death + (inr > 4.0))
    assert cost.max() >= 3.0


def test_fused_heparin_draw_equals_the_generic_competing_draw_and_isth_class():
    from hemosim.envs.heparin_events import STREAM_EVENTS as HEP_STREAM
    from hemosim.envs.heparin_events import HeparinEventHazards, draw_heparin_events
    from hemosim.envs.heparin_events import hazards_per_h as heparin_hazards
    from hemosim.metrics import isth_bleeding_class
    from hemosim.sim.events import EventLog

    n = 20_000
    rs = np.random.default_rng(5)
    keys = rng.patient_key(np.arange(n), 3)
    a0, a1 = rs.uniform(30, 200, n), rs.uniform(30, 200, n)
    frac, t0 = rs.uniform(0, 1, n), rs.choice([0.0, 6.0, 42.0, 96.0], n)
    t1, onset = t0 + 6.0, np.where(rs.uniform(size=n) < 0.3, rs.uniform(-1, 100, n), np.inf)
    given, supra = rs.uniform(size=n) < 0.8, rs.uniform(0, 1, n)
    step = (t1 / 6.0 + 0.5).astype(np.int64)
    h = HeparinEventHazards(major_bleeding_course_risk=0.9, recurrence_background_risk=0.2)  # every branch, often
    log = EventLog(n, HEPARIN_EVENTS)
    cost = draw_heparin_events(log, keys, step, a0, a1, frac, t0, t1, onset, given, 6.0, supra, h)
    index, _ = draw_competing(keys, HEP_STREAM, step, heparin_hazards(a0, a1, frac, t0, t1, onset, given, h), 6.0)
    np.testing.assert_array_equal(log.flags["major_bleeding"], index == 0)
    np.testing.assert_array_equal(log.flags["thromboembolism"], index == 1)
    hit = (onset <= t1) & ((onset > t0) | ((t0 == 0.0) & (onset <= 0.0)))
    np.testing.assert_array_equal(log.flags["hit"], hit)
    assert (index == 0).sum() > 100 and (index == 1).sum() > 100 and hit.sum() > 100
    major = index == 0
    np.testing.assert_array_equal(log.isth_class, isth_bleeding_class(major, hb_drop_g_per_dl=np.where(major, 2.0, 0.0)))
    np.testing.assert_array_equal(cost, (major.astype(float) + (index == 1) + hit) + supra)
