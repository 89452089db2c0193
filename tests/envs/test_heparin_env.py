"""HeparinInfusion-v0 specifics: observation layout, action mapping, assays, reward, tiers."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hemosim  # noqa: F401
from hemosim import assays
from hemosim.envs.heparin import (
    EPISODE_STEPS,
    HeparinInfusionEnv,
    HeparinSimulator,
    action_from_dose,
    dose_from_action,
)
from hemosim.metrics import rosendaal_time_in_range
from hemosim.models.heparin import advance_state, aptt_from_concentration, michaelis_menten_equivalent
from hemosim.sim.rng import patient_key

ENV_ID = "hemosim/HeparinInfusion-v0"


def test_check_env_and_spaces():
    env = gym.make(ENV_ID)
    check_env(env.unwrapped, skip_render_check=True)
    assert env.observation_space.shape == (6,)
    assert env.action_space.shape == (2,)


def test_reset_observation_layout_matches_info():
    env = gym.make(ENV_ID)
    obs, info = env.reset(seed=3)
    p = info["patient"]
    assert info["heparin_u_per_ml"] == 0.0 and info["hours"] == 0.0
    assert info["aptt_true_s"] == pytest.approx(p["baseline_aptt_s"])
    assert obs[0] == pytest.approx(np.clip((info["aptt"] - 20) / 180, 0, 1), abs=1e-6)
    assert obs[1] == 0.0
    assert obs[2] == pytest.approx((p["weight_kg"] - 40) / 140, abs=1e-6)
    assert obs[3] == pytest.approx(min(p["crcl_ml_per_min"] / 120, 1.0), abs=1e-6)
    assert obs[4] == pytest.approx(min(info["platelets"] / 400, 1.0), abs=1e-6)
    assert obs[5] == 0.0
    for key in ("aptt", "anti_xa", "heparin_u_per_ml", "rate_u_per_h", "bolus_u", "platelets", "therapeutic", "patient"):
        assert key in info


def test_action_mapping_and_pk_follow_the_model():
    env = gym.make(ENV_ID, difficulty="easy")
    _, info = env.reset(seed=11)
    p = info["patient"]
    w = p["weight_kg"]
    obs, _, _, _, info = env.step(np.array([0.5, 0.5], dtype=np.float32))
    assert info["rate_u_per_h"] == pytest.approx(1250.0)
    assert info["bolus_u"] == pytest.approx(40.0 * w)  # a1 = 0.5 -> 40 U/kg
    pk = (p["v_l"] * 1000, p["kon_ml_per_u_per_h"], p["bmax_u"], p["kint_per_h"], p["cl_lin_l_per_h"] * 1000)
    c, b = advance_state(0.0, 0.0, 1250.0, *pk, 6.0, 40.0 * w)
    assert info["heparin_u_per_ml"] == pytest.approx(c[0], rel=1e-12)
    assert info["heparin_bound_u"] == pytest.approx(b[0], rel=1e-12)
    # the binding state carries over: a second step starts from the bound amount
    _, _, _, _, info2 = env.step(np.array([0.3, 0.0], dtype=np.float32))
    c2, b2 = advance_state(c[0], b[0], info2["rate_u_per_h"], *pk, 6.0)
    assert info2["heparin_u_per_ml"] == pytest.approx(c2[0], rel=1e-12)
    assert 0.0 < info2["heparin_bound_u"] <= p["bmax_u"]
    vmax, km = michaelis_menten_equivalent(p["kon_ml_per_u_per_h"], p["bmax_u"], p["kint_per_h"])
    assert p["vmax_u_per_h"] == pytest.approx(vmax) and p["km_u_per_ml"] == pytest.approx(km)
    aptt = aptt_from_concentration(c, p["baseline_aptt_s"], p["aptt_sensitivity_per_iu_per_ml"])
    assert info["aptt_true_s"] == pytest.approx(aptt, rel=1e-12)
    assert info["aptt"] == pytest.approx(aptt, rel=1e-12)  # easy tier: exact laboratory
    assert info["hours"] == 6.0 and obs[5] == pytest.approx(0.05)
    rate, bolus = dose_from_action(np.array([0.5, 0.5]), w)
    np.testing.assert_allclose(action_from_dose(rate, bolus, w), [0.5, 0.5], rtol=1e-6)
    with pytest.raises(ValueError):
        action_from_dose(3000.0, 0.0, w)


def test_medium_tier_elimination_varies_within_patient_as_the_patients_module_draws_it():
    # the interval-to-interval factor on both elimination rate constants is
    # patients.heparin.elimination_factor(key, interval) (compiled draw == NumPy draw), and the
    # env's level is the model integrated with the scaled constants
    from hemosim.patients.heparin import ELIMINATION_IOV_LOG_SD, elimination_factor

    assert ELIMINATION_IOV_LOG_SD > 0.0
    n = 3
    sim = HeparinSimulator(n, difficulty="medium")
    keys = patient_key(np.arange(200, 200 + n, dtype=np.uint64), 0)
    sim.reset_patients(np.ones(n, dtype=bool), keys, None)
    p = sim.static_info()["patient"]
    c, b = np.zeros(n), np.zeros(n)
    factors = []
    for interval, action in enumerate(([0.5, 0.5], [0.55, 0.0], [0.45, 0.0]), start=1):
        sim.advance(np.tile(np.array(action, dtype=np.float32), (n, 1)))
        info = sim.info()
        f = elimination_factor(keys, interval)
        factors.append(f)
        np.testing.assert_allclose(info["elimination_factor"], f, rtol=1e-14)
        for i in range(n):
            pk = (p["v_l"][i] * 1000, p["kon_ml_per_u_per_h"][i], p["bmax_u"][i], p["kint_per_h"][i] * f[i],
                  p["cl_lin_l_per_h"][i] * 1000 * f[i])
            ci, bi = advance_state(c[i], b[i], info["rate_u_per_h"][i], *pk, 6.0, info["bolus_u"][i])
            c[i], b[i] = ci[0], bi[0]
        np.testing.assert_allclose(info["heparin_u_per_ml"], c, rtol=1e-12)
    f = np.array(factors)
    assert np.all(f > 0) and np.unique(f).size == f.size  # a new factor per patient and interval
    # median 1: the log factors of many keys have mean ~0 and SD ELIMINATION_IOV_LOG_SD
    z = np.log(elimination_factor(patient_key(np.arange(20000, dtype=np.uint64), 0), 1))
    assert abs(z.mean()) < 0.01 and z.std() == pytest.approx(ELIMINATION_IOV_LOG_SD, rel=0.03)
    # the easy tier has none
    easy = HeparinSimulator(n, difficulty="easy")
    assert easy.iov_log_sd == 0.0


def test_measurements_are_the_assay_functions_of_the_patient_key():
    n = 4
    sim = HeparinSimulator(n)
    keys = patient_key(np.arange(100, 100 + n, dtype=np.uint64), 0)
    sim.reset_patients(np.ones(n, dtype=bool), keys, None)
    for k in range(1, 4):
        sim.advance(np.full((n, 2), 0.3))
        info = sim.info()
        np.testing.assert_allclose(info["aptt"], assays.measure_aptt(info["aptt_true_s"], keys, k, assays.APTT_ANALYTICAL_CV), rtol=1e-12)
        np.testing.assert_allclose(info["anti_xa"], assays.measure_anti_xa(info["heparin_u_per_ml"], keys, k, assays.ANTI_XA_ANALYTICAL_CV), rtol=1e-12)
        np.testing.assert_allclose(
            info["platelets"], assays.measure_platelets(info["platelets_true_10e9_per_l"], keys, k, assays.PLATELET_ANALYTICAL_CV), rtol=1e-12
        )


def test_reward_components_are_rosendaal_fractions_of_the_step():
    env = gym.make(ENV_ID)
    _, info = env.reset(seed=5)
    prev = info["aptt_true_s"]
    rng = np.random.default_rng(1)
    for _ in range(EPISODE_STEPS):
        a = rng.random(2).astype(np.float32)
        _, r, term, trunc, info = env.step(a)
        cur = info["aptt_true_s"]
        t, v = np.array([0.0, 6.0]), np.array([[prev, cur]])
        in_range = rosendaal_time_in_range(t, v, 46.0, 70.0, None)[0][0] / 6
        below = rosendaal_time_in_range(t, v, -np.inf, 45.0, None)[0][0] / 6
        above100 = rosendaal_time_in_range(t, v, 100.0, np.inf, None)[0][0] / 6
        above150 = rosendaal_time_in_range(t, v, 150.0, np.inf, None)[0][0] / 6
        assert info["reward_in_range"] == pytest.approx(in_range, abs=1e-12)
        assert info["reward_subtherapeutic"] == pytest.approx(-0.5 * below, abs=1e-12)
        assert info["reward_supratherapeutic"] == pytest.approx(-1.0 * above100, abs=1e-12)
        assert info["reward_dangerous"] == pytest.approx(-2.0 * above150, abs=1e-12)
        parts = sum(info[k] for k in ("reward_in_range", "reward_subtherapeutic", "reward_supratherapeutic", "reward_dangerous", "reward_hit"))
        assert r == pytest.approx(parts, abs=1e-12)
        assert -3.5 <= r <= 1.0
        assert info["therapeutic"] == (46.0 <= cur <= 70.0)
        prev = cur
        assert not term
    assert trunc


def test_no_termination_and_truncation_at_120_hours():
    env = gym.make(ENV_ID, difficulty="hard", hit_incidence=1.0)
    env.reset(seed=0)
    for step in range(1, EPISODE_STEPS + 1):
        _, _, term, trunc, info = env.step(np.array([1.0, 1.0], dtype=np.float32))
        assert not term
        assert trunc == (step == EPISODE_STEPS)
    assert info["hours"] == 120.0


def test_hit_course_lowers_platelets_and_penalises_heparin_after_onset():
    venv = gym.make_vec(ENV_ID, num_envs=64, vectorization_mode="vector_entry_point", difficulty="hard", hit_incidence=1.0)
    _, info = venv.reset(seed=0)
    onset = info["patient"]["hit_onset_h"]
    base = info["patient"]["baseline_platelets_10e9_per_l"]
    rapid = onset < 24
    assert rapid.any() and (~rapid).any()
    for _ in range(8):  # 48 h
        _, _, _, _, info = venv.step(np.tile([0.5, 0.0], (64, 1)).astype(np.float32))
    true_plt = info["platelets_true_10e9_per_l"]
    assert np.all(true_plt[rapid] < base[rapid] * 0.9)
    np.testing.assert_array_equal(true_plt[~rapid], base[~rapid])
    assert np.all(info["hit_active"] == rapid)
    assert np.all(info["reward_hit"][rapid] == -1.0)
    assert np.all(info["reward_hit"][~rapid] == 0.0)
    # stopping heparin removes the HIT penalty
    _, _, _, _, info = venv.step(np.zeros((64, 2), dtype=np.float32))
    assert np.all(info["reward_hit"] == 0.0)


def test_medium_tier_has_no_hit_and_noisy_laboratory():
    venv = gym.make_vec(ENV_ID, num_envs=200, vectorization_mode="vector_entry_point")
    _, info = venv.reset(seed=1)
    assert not info["patient"]["hit"].any()
    _, _, _, _, info = venv.step(np.tile([0.5, 1.0], (200, 1)).astype(np.float32))
    below_limit = info["aptt_true_s"] < 180.0
    assert below_limit.sum() > 100
    ratio = info["aptt"][below_limit] / info["aptt_true_s"][below_limit]
    assert 0.02 < np.std(np.log(ratio)) < 0.04  # CV 2.9 %
    above = ~below_limit & (info["aptt_true_s"] > 250.0)
    assert np.all(info["aptt"][above] == 200.0)  # reported up to 200 s


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"difficulty": "extreme"}, "difficulty"),
        ({"hit_incidence": 2.0}, "hit_incidence"),
        ({"hit_incidence": "yes"}, "hit_incidence"),
        ({"dose_scale": 1.0}, "allowed options"),
    ],
)
def test_bad_options_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        gym.make(ENV_ID, **kwargs)


def test_unknown_reset_options_are_rejected():
    """Patients are given under options["patient"] (issue #20; tests/envs/test_user_patients.py)."""
    env = HeparinInfusionEnv()
    with pytest.raises(ValueError, match=r"unknown HeparinInfusion-v0 reset option\(s\) \['weight_kg'\]; allowed options are \['patient'\]"):
        env.reset(seed=0, options={"weight_kg": 80})


@pytest.mark.parametrize("bad", [[1.2, 0.0], [0.5, -0.1], [np.nan, 0.0], [0.5]])
def test_bad_actions_raise(bad):
    env = gym.make(ENV_ID)
    env.reset(seed=0)
    with pytest.raises(ValueError):
        env.step(np.array(bad, dtype=np.float32))


def test_vector_patient_i_is_single_env_seeded_s_plus_i():
    venv = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point")
    vobs, _ = venv.reset(seed=40)
    acts = np.random.default_rng(0).random((5, 3, 2)).astype(np.float32)
    vtraj = [venv.step(a)[0] for a in acts]
    for i in range(3):
        env = gym.make(ENV_ID)
        obs, _ = env.reset(seed=40 + i)
        np.testing.assert_array_equal(obs, vobs[i])
        for t in range(5):
            np.testing.assert_array_equal(env.step(acts[t, i])[0], vtraj[t][i])


def test_compiled_noise_is_bit_identical_to_the_rng_module():
    from hemosim.sim import rng
    from hemosim.sim.rng_compiled import normal as _normal
    from hemosim.sim.rng_compiled import uniform as _uniform

    keys = patient_key(np.arange(50, dtype=np.uint64), 7)
    for stream in (0, 111, 112, 113, 99999):
        for counter in (0, 1, 20, 1000):
            want_u = rng.uniform(keys, stream, counter)
            want_z = rng.normal(keys, stream, counter)
            got_u = np.array([_uniform(k, stream, counter) for k in keys])
            got_z = np.array([_normal(k, stream, counter) for k in keys])
            np.testing.assert_array_equal(got_u, want_u)
            np.testing.assert_allclose(got_z, want_z, rtol=1e-13, atol=1e-15)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 9999), rate=st.floats(0.0, 0.9), bolus=st.floats(0.0, 1.0), steps=st.integers(1, 6))
def test_property_monotone_dose_response_and_non_negative(seed, rate, bolus, steps):
    """Same patient, more heparin -> higher level and aPTT; levels never negative."""
    lo_env, hi_env = HeparinInfusionEnv(), HeparinInfusionEnv()
    lo_env.reset(seed=seed)
    hi_env.reset(seed=seed)
    for _ in range(steps):
        _, _, _, _, lo = lo_env.step(np.array([rate, bolus], dtype=np.float32))
        _, _, _, _, hi = hi_env.step(np.array([rate + 0.1, bolus], dtype=np.float32))
    assert lo["heparin_u_per_ml"] >= 0.0
    assert hi["heparin_u_per_ml"] > lo["heparin_u_per_ml"]
    assert hi["aptt_true_s"] > lo["aptt_true_s"]
    assert lo["aptt_true_s"] >= lo["patient"]["baseline_aptt_s"]


def test_reward_bounds_with_hit_match_the_card():
    """Card: per-step reward in [-4, 1] ([-3.5, 1] without HIT), on the hard tier with HIT."""
    import gymnasium as gym

    env = gym.make("hemosim/HeparinInfusion-v0", difficulty="hard", hit_incidence=1.0)
    rewards = []
    for seed in range(20):
        env.reset(seed=seed)
        for _ in range(EPISODE_STEPS):
            _, r, *_ = env.step(np.array([1.0, 1.0], dtype=np.float32))
            rewards.append(r)
    assert -4.0 - 1e-12 <= min(rewards) and max(rewards) <= 1.0
    assert min(rewards) < -2.0  # the dangerous-aPTT and HIT penalties do occur here


def test_dose_from_action_hand_worked_and_shapes():
    rate, bolus = dose_from_action(np.array([[0.5, 0.5], [1.0, 0.25]], dtype=np.float32), np.array([70.0, 80.0]))
    np.testing.assert_array_equal(rate, [1250.0, 2500.0])
    np.testing.assert_array_equal(bolus, [2800.0, 1600.0])  # 40 U/kg x 70 kg, 20 U/kg x 80 kg
    rate, bolus = dose_from_action(np.array([0.2, 1.0]), np.array([50.0, 100.0]))
    assert np.shape(rate) == () and rate == 500.0  # the rate does not broadcast with the weight
    np.testing.assert_array_equal(bolus, [4000.0, 8000.0])
