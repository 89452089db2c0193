"""Heparin protocols: hand-worked nomogram cells, state, batching, and the env loop."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401
from hemosim.agents.heparin import AntiXaNomogram, ConstantPolicy, RaschkeNomogram, StandardCareNomogram


def obs_of(aptt_s=30.0, anti_xa=0.0, weight_kg=80.0, hours=0.0):
    return np.array(
        [(aptt_s - 20.0) / 180.0, anti_xa, (weight_kg - 40.0) / 140.0, 0.7, 0.6, hours / 120.0], dtype=np.float32
    )


def run(policy, sequence, weight=80.0):
    """Feed (aPTT, anti-Xa) pairs at 0, 6, 12 ... h; return the actions."""
    out = []
    for k, (aptt, axa) in enumerate(sequence):
        out.append(policy.predict(obs_of(aptt, axa, weight, 6.0 * k)))
    return out


def test_raschke_start_80_u_per_kg_and_18_u_per_kg_h():
    a = RaschkeNomogram().predict(obs_of(weight_kg=80.0))
    assert a.dtype == np.float32 and a.shape == (2,)
    assert a[0] == pytest.approx(18 * 80 / 2500, rel=1e-5)  # 1,440 U/h
    assert a[1] == pytest.approx(1.0)  # 80 U/kg


@pytest.mark.parametrize(
    "aptt,rate_u_per_h,bolus_fraction",
    [
        (30.0, 1440 + 4 * 80, 1.0),  # < 35 s: re-bolus 80 U/kg, +4 U/kg/h
        (35.0, 1440 + 2 * 80, 0.5),  # 35-45 s: re-bolus 40 U/kg, +2 U/kg/h
        (45.4, 1440 + 2 * 80, 0.5),  # reported 45 s
        (45.6, 1440, 0.0),  # reported 46 s: in range
        (70.0, 1440, 0.0),
        (71.0, 1440 - 2 * 80, 0.0),  # 71-90 s: -2 U/kg/h
        (90.0, 1440 - 2 * 80, 0.0),
        (91.0, (1440 - 3 * 80) * 5 / 6, 0.0),  # > 90 s: hold 1 h, then -3 U/kg/h
    ],
)
def test_raschke_table_cells(aptt, rate_u_per_h, bolus_fraction):
    a = run(RaschkeNomogram(), [(30.0, 0.0), (aptt, 0.0)])[1]
    assert a[0] * 2500 == pytest.approx(rate_u_per_h, rel=1e-5, abs=0.05)
    assert a[1] == pytest.approx(bolus_fraction, abs=1e-6)


def test_raschke_changes_are_around_the_current_nominal_rate_after_a_hold():
    pol = RaschkeNomogram()
    acts = run(pol, [(30.0, 0.0), (100.0, 0.0), (60.0, 0.0), (40.0, 0.0)])
    assert acts[1][0] * 2500 == pytest.approx(1200 * 5 / 6, rel=1e-5)  # held
    assert acts[2][0] * 2500 == pytest.approx(1200, rel=1e-5)  # nominal 1,200 U/h resumes
    assert acts[3][0] * 2500 == pytest.approx(1360, rel=1e-5)  # +2 U/kg/h around 1,200


def test_rate_never_negative_and_capped():
    pol = RaschkeNomogram()
    acts = run(pol, [(30.0, 0.0)] + [(150.0, 0.0)] * 10, weight=50.0)
    assert all(a[0] >= 0.0 for a in acts) and acts[-1][0] == 0.0
    pol = RaschkeNomogram()
    acts = run(pol, [(30.0, 0.0)] + [(25.0, 0.0)] * 20, weight=170.0)
    assert max(a[0] for a in acts) == pytest.approx(1.0)


def test_standard_care_start_and_assumed_steps():
    pol = StandardCareNomogram()
    acts = run(pol, [(30.0, 0.0), (40.0, 0.0), (30.0, 0.0), (80.0, 0.0), (95.0, 0.0)])
    assert acts[0][0] * 2500 == pytest.approx(1000.0, rel=1e-5)
    assert acts[0][1] == pytest.approx(5000 / (80 * 80))
    assert acts[1][0] * 2500 == pytest.approx(1100.0, rel=1e-5) and acts[1][1] == 0.0
    assert acts[2][0] * 2500 == pytest.approx(1300.0, rel=1e-5) and acts[2][1] == pytest.approx(5000 / 6400)
    assert acts[3][0] * 2500 == pytest.approx(1200.0, rel=1e-5)
    assert acts[4][0] * 2500 == pytest.approx(1000.0 * 5 / 6, rel=1e-5)


def test_standard_care_bolus_capped_at_80_u_per_kg_for_light_patients():
    a = StandardCareNomogram().predict(obs_of(weight_kg=50.0))
    assert a[1] == 1.0  # 5,000 U > 80 U/kg x 50 kg = 4,000 U


@pytest.mark.parametrize(
    "axa,rate_change_u_per_kg_h,bolus_fraction,hold_h",
    [
        (0.10, 1.5, 1.0, 0.0),
        (0.25, 1.0, 0.5, 0.0),
        (0.29, 1.0, 0.5, 0.0),
        (0.30, 0.0, 0.0, 0.0),
        (0.70, 0.0, 0.0, 0.0),
        (0.75, -1.0, 0.0, 0.0),
        (0.90, -1.5, 0.0, 0.5),
        (1.00, -3.0, 0.0, 1.0),
    ],
)
def test_anti_xa_table_cells(axa, rate_change_u_per_kg_h, bolus_fraction, hold_h):
    acts = run(AntiXaNomogram(), [(30.0, 0.0), (60.0, axa)])
    assert acts[0][0] * 2500 == pytest.approx(1440.0, rel=1e-5) and acts[0][1] == 1.0
    expected = (1440 + rate_change_u_per_kg_h * 80) * (6 - hold_h) / 6
    assert acts[1][0] * 2500 == pytest.approx(expected, rel=1e-5)
    assert acts[1][1] == pytest.approx(bolus_fraction)


def test_anti_xa_initial_caps():
    a = AntiXaNomogram().predict(obs_of(weight_kg=150.0))
    assert a[0] * 2500 == pytest.approx(1800.0, rel=1e-5)  # max initial 1,800 U/h
    assert a[1] == pytest.approx(10000 / (80 * 150))  # bolus max 10,000 U


def test_batched_equals_rows_and_new_patients_restart():
    rng = np.random.default_rng(0)
    for cls in (RaschkeNomogram, StandardCareNomogram, AntiXaNomogram):
        batch_pol = cls()
        singles = [cls() for _ in range(5)]
        weights = rng.uniform(45, 160, 5)
        for k in range(6):
            hours = np.where(np.arange(5) == 2, 0.0, 6.0 * k) if k == 3 else np.full(5, 6.0 * k)
            obs = np.stack([obs_of(rng.uniform(25, 120), rng.uniform(0, 1), w, h) for w, h in zip(weights, hours)])
            got = batch_pol.predict(obs)
            want = np.stack([s.predict(o) for s, o in zip(singles, obs)])
            np.testing.assert_array_equal(got, want)
        assert got.shape == (5, 2) and got.dtype == np.float32


def test_bad_observations_raise():
    with pytest.raises(ValueError):
        RaschkeNomogram().predict(np.zeros(5))
    with pytest.raises(ValueError):
        RaschkeNomogram().predict(np.full(6, np.nan))
    with pytest.raises(ValueError):
        ConstantPolicy(1.5)


def test_protocols_drive_the_env_to_range():
    """Closed loop on held-out patients: the nomogram keeps most of them in range at 24-120 h."""
    n = 200
    venv = gym.make_vec("hemosim/HeparinInfusion-v0", num_envs=n, vectorization_mode="vector_entry_point")
    obs, _ = venv.reset(seed=100000)
    pol = RaschkeNomogram()
    in_range = []
    for k in range(20):
        obs, _, _, _, info = venv.step(pol.predict(obs))
        if k >= 3:
            in_range.append(info["therapeutic"].mean())
    assert np.mean(in_range) > 0.6


def test_decode_observation_inverts_the_env_observation():
    from hemosim.agents.heparin import decode_observation

    env = gym.make("hemosim/HeparinInfusion-v0", difficulty="easy")
    obs, info = env.reset(seed=21)
    obs, *_, info = env.step(np.array([0.5, 0.5], dtype=np.float32))
    v = decode_observation(obs[None])
    assert v["aptt_s"][0] == pytest.approx(info["aptt"], rel=1e-6)
    assert v["anti_xa_iu_per_ml"][0] == pytest.approx(info["anti_xa"], rel=1e-6)
    assert v["weight_kg"][0] == pytest.approx(info["patient"]["weight_kg"], rel=1e-6)
    assert v["hours"][0] == pytest.approx(6.0, rel=1e-6)


def test_random_policy_of_the_ttr_table_draws_the_plain_generator_stream():
    # raschke_trial's "uniformly random actions" row uses agents.policies.RandomPolicy; on the
    # Box(0, 1) action space it must give exactly default_rng(seed).random((N, 2)), batch by batch
    from hemosim.agents.policies import RandomPolicy
    from hemosim.envs.heparin import HeparinSimulator

    pol = RandomPolicy(HeparinSimulator.action_space, seed=12345)
    pol.reset()
    g = np.random.default_rng(12345)
    obs = np.zeros((7, 6), dtype=np.float32)
    for _ in range(3):
        np.testing.assert_array_equal(pol.predict(obs), g.random((7, 2)).astype(np.float32))
