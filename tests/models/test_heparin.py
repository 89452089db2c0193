"""UFH model: receptor-binding integrator vs solve_ivp, MM reduction, invariants, population, assays."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from hemosim import assays
from hemosim.models.heparin import (
    UFH_TYPICAL,
    UfhParameters,
    advance_state,
    aptt_from_concentration,
    bolus_half_life_h,
    clearance_terms,
    half_life_h,
    michaelis_menten_equivalent,
    steady_state_bound_u,
    steady_state_concentration,
)
from hemosim.patients import heparin as pop
from hemosim.sim.rng import patient_key

#: Tested error bound of the compiled RK4 integrator against solve_ivp (rtol 1e-10), relative with
#: an absolute floor (IU/mL and U): anywhere in the random domain below (levels up to 10 IU/mL
#: even with empty receptors, 0.01-24 h) ...
SOLVER_RTOL, SOLVER_ATOL = 1e-3, 1e-8
#: ... and on the hand-picked clinical cases (bolus <= 80 U/kg, 6-h decision steps and longer)
CASE_RTOL = 2e-5


def _rhs(rate, v, kon, bmax, kint, cl):
    def rhs(_t, y):
        c, b = y  # IU/mL, U
        bind = kon * c * (bmax - b)  # U/h
        return [(rate - bind - cl * c) / v, bind - kint * b]

    return rhs


def _reference(c0, b0, rate, v, kon, bmax, kint, cl, dt, bolus=0.0):
    sol = solve_ivp(_rhs(rate, v, kon, bmax, kint, cl), (0.0, dt), [c0 + bolus / v, b0], method="DOP853", rtol=1e-10, atol=1e-14)
    return sol.y[0, -1], sol.y[1, -1]


def test_every_parameter_has_unit_and_source():
    for f in dataclasses.fields(UfhParameters):
        assert f.metadata.get("unit"), f.name
        assert f.metadata.get("source"), f.name


CASES = [
    # c0 IU/mL, bound fraction of BMAX, rate U/h, bolus U, dt h
    (0.0, 0.0, 18 * 80, 80 * 80, 6.0),  # Raschke start, empty receptors
    (0.5, 0.6, 0.0, 0.0, 6.0),  # infusion stopped: pure elimination
    (0.2, 0.3, 2500.0, 0.0, 6.0),  # rising towards a high steady state
    (0.0, 0.0, 0.0, 25 * 80, 6.0),  # low bolus
    (3.0, 0.95, 500.0, 0.0, 0.25),  # short interval, saturated
    (0.3, 0.4, 1440.0, 0.0, 72.0),  # long interval: at steady state
    (0.1, 0.9, 0.0, 80 * 80, 6.0),  # re-bolus onto full receptors
]


def _assert_close(got, ref, rtol=SOLVER_RTOL):
    assert abs(got - ref) <= rtol * abs(ref) + SOLVER_ATOL, (got, ref)


@pytest.mark.parametrize("c0,frac,rate,bolus,dt", CASES)
def test_integrator_matches_solve_ivp(c0, frac, rate, bolus, dt):
    v, kon, bmax, kint, cl = clearance_terms(80.0)
    c, b = advance_state(c0, frac * bmax, rate, v, kon, bmax, kint, cl, dt, bolus)
    c_ref, b_ref = _reference(c0, frac * bmax, rate, v, kon, bmax, kint, cl, dt, bolus)
    _assert_close(c[0], c_ref, CASE_RTOL)
    _assert_close(b[0], b_ref, CASE_RTOL)


@settings(max_examples=60, deadline=None)
@given(
    c0=st.floats(0.0, 10.0),
    frac=st.floats(0.0, 1.0),
    rate=st.floats(0.0, 3000.0),
    weight=st.floats(40.0, 180.0),
    renal=st.floats(0.05, 2.0),
    eta=st.floats(-1.0, 1.0),
    dt=st.floats(0.01, 24.0),
)
def test_integrator_property(c0, frac, rate, weight, renal, eta, dt):
    v, kon, bmax, kint, cl = clearance_terms(weight, renal)
    v, bmax, cl = v * np.exp(0.5 * eta), bmax * np.exp(eta), cl * np.exp(eta)
    b0 = frac * bmax
    c, b = (x[0] for x in advance_state(c0, b0, rate, v, kon, bmax, kint, cl, dt))
    c_ref, b_ref = _reference(c0, b0, rate, v, kon, bmax, kint, cl, dt)
    _assert_close(c, c_ref)
    _assert_close(b, b_ref)
    # invariants: level non-negative, bound amount within [0, BMAX]
    assert c >= 0.0
    assert 0.0 <= b <= bmax
    # monotone in the rate (the system is cooperative)
    higher = advance_state(c0, b0, rate + 100.0, v, kon, bmax, kint, cl, dt)[0][0]
    assert higher > c


def test_mass_balance_input_equals_plasma_plus_bound_plus_eliminated():
    # integrate the model on a fine grid and add up what both routes removed (Simpson's rule
    # on the model's own trajectory): bolus + rate t = A(t) + B(t) + eliminated(t)
    v, kon, bmax, kint, cl = (float(x) for x in clearance_terms(80.0))
    bolus, rate, n, h = 80.0 * 80, 1440.0, 600, 0.01
    c, b = np.empty(n + 1), np.empty(n + 1)
    c[0], b[0] = bolus / v, 0.0
    for j in range(n):
        cj, bj = advance_state(c[j], b[j], rate, v, kon, bmax, kint, cl, h)
        c[j + 1], b[j + 1] = cj[0], bj[0]
    flux = cl * c + kint * b  # U/h eliminated (renal + internalised)
    eliminated = h / 3 * (flux[0] + flux[-1] + 4 * flux[1:-1:2].sum() + 2 * flux[2:-1:2].sum())
    given_u = bolus + rate * n * h
    assert c[-1] * v + b[-1] + eliminated == pytest.approx(given_u, rel=1e-6)
    assert np.all((b >= 0.0) & (b <= bmax))


def test_batch_equals_one_by_one():
    rng = np.random.default_rng(0)
    n = 50
    w = rng.uniform(40, 150, n)
    v, kon, bmax, kint, cl = clearance_terms(w, rng.uniform(0.1, 1.5, n))
    c0 = rng.uniform(0, 2, n)
    b0 = rng.uniform(0, 1, n) * bmax
    rate = rng.uniform(0, 2500, n)
    batch = advance_state(c0, b0, rate, v, kon, bmax, kint, cl, 6.0)
    for i in range(n):
        one = advance_state(c0[i], b0[i], rate[i], v[i], kon[i], bmax[i], kint[i], cl[i], 6.0)
        assert batch[0][i] == one[0][0] and batch[1][i] == one[1][0]


def test_reduction_to_michaelis_menten_hand_case():
    # kon 2 mL/(U h), BMAX 10 U, KINT 0.5 /h -> VMAX = 0.5 x 10 = 5 U/h, KM = 0.5 / 2 = 0.25 IU/mL
    vmax, km = michaelis_menten_equivalent(2.0, 10.0, 0.5)
    assert vmax == pytest.approx(5.0) and km == pytest.approx(0.25)
    # at C = KM the bound amount in equilibrium is BMAX / 2 = 5 U; binding 2 x 0.25 x (10 - 5) = 2.5 U/h
    # equals internalisation 0.5 x 5 = 2.5 U/h = VMAX C / (KM + C) = 5 x 0.25 / 0.5
    b = steady_state_bound_u(0.25, 2.0, 10.0, 0.5)
    assert b == pytest.approx(5.0)
    assert 2.0 * 0.25 * (10.0 - b) - 0.5 * b == pytest.approx(0.0, abs=1e-12)
    assert 0.5 * b == pytest.approx(vmax * 0.25 / (km + 0.25))


def test_steady_state_is_the_long_run_limit_of_the_binding_model():
    v, kon, bmax, kint, cl = clearance_terms(70.0)
    vmax, km = michaelis_menten_equivalent(kon, bmax, kint)
    css = steady_state_concentration(18 * 70, vmax, km, cl)
    assert 18 * 70 - vmax * css / (km + css) - cl * css == pytest.approx(0.0, abs=1e-9)
    bss = steady_state_bound_u(css, kon, bmax, kint)
    c, b = advance_state(0.0, 0.0, 18 * 70, v, kon, bmax, kint, cl, 500.0)
    assert c[0] == pytest.approx(css, rel=1e-6) and b[0] == pytest.approx(bss, rel=1e-6)
    # a fixed point: stays there
    c, b = advance_state(css, bss, 18 * 70, v, kon, bmax, kint, cl, 6.0)
    assert c[0] == pytest.approx(css, rel=1e-9) and b[0] == pytest.approx(bss, rel=1e-9)


def test_half_life_matches_a_solve_ivp_event():
    v, kon, bmax, kint, cl = (float(x) for x in clearance_terms(70.0))
    for dose in (25.0, 70.0, 100.0, 400.0):
        c0 = dose * 70 / v

        def event(_t, y):
            return y[0] - 0.5 * c0

        event.terminal = True
        sol = solve_ivp(_rhs(0.0, v, kon, bmax, kint, cl), (0, 50), [c0, 0.0], events=event, method="DOP853", rtol=1e-11, atol=1e-14)
        assert bolus_half_life_h(dose, 70.0) == pytest.approx(sol.t_events[0][0], rel=1e-7)


def test_half_life_grows_with_dose_and_falls_with_renal_function():
    t = bolus_half_life_h(np.array([10.0, 25.0, 50.0, 100.0, 200.0, 400.0]))
    assert np.all(np.diff(t) > 0)
    assert bolus_half_life_h(100.0, renal_factor=0.1) > bolus_half_life_h(100.0, renal_factor=1.0)
    with pytest.raises(ValueError):
        half_life_h(0.0, 1.0, 1.0, 1.0, 1.0, 1.0)


def test_aptt_log_linear_hand_case():
    # 30 s x exp(1.2 x 0.5) = 30 x 1.8221188 = 54.66 s
    assert aptt_from_concentration(0.5, 30.0, 1.2) == pytest.approx(54.663564, rel=1e-7)
    assert aptt_from_concentration(0.0, 27.0, 2.0) == 27.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"c0_u_per_ml": -0.1},
        {"rate_u_per_h": np.nan},
        {"bolus_u": -5.0},
        {"v_ml": 0.0},
        {"cl_lin_ml_per_h": 0.0},
        {"bound_u": -1.0},
        {"bound_u": 1e9},  # more than BMAX
        {"kint_per_h": -0.1},
    ],
)
def test_bad_input_raises(kwargs):
    v, kon, bmax, kint, cl = clearance_terms(70.0)
    args = dict(c0_u_per_ml=0.1, bound_u=0.0, rate_u_per_h=1000.0, v_ml=v, kon_ml_per_u_per_h=kon, bmax_u=bmax,
                kint_per_h=kint, cl_lin_ml_per_h=cl, dt_h=6.0)
    args.update(kwargs)
    with pytest.raises(ValueError):
        advance_state(**args)


# -- population ------------------------------------------------------------------------------
def test_patient_does_not_depend_on_batch():
    keys = patient_key(np.arange(40, dtype=np.uint64), 0)
    batch = pop.sample_patients(keys, hit_incidence=0.5)
    for i in (0, 7, 39):
        alone = pop.sample_patients(keys[i : i + 1], hit_incidence=0.5)
        for f in dataclasses.fields(batch):
            np.testing.assert_array_equal(getattr(batch, f.name)[i : i + 1], getattr(alone, f.name))


def test_population_ranges_and_hit_incidence():
    keys = patient_key(np.arange(40000, dtype=np.uint64), 0)
    p = pop.sample_patients(keys)
    assert p.weight_kg.min() >= 40 and p.weight_kg.max() <= 180
    assert p.crcl_ml_per_min.min() >= 5 and p.crcl_ml_per_min.max() <= 200
    assert 22 <= p.baseline_aptt_s.min() and p.baseline_aptt_s.max() <= 40
    assert abs(np.median(p.baseline_aptt_s) - 30.0) < 0.2
    # HIT incidence 2.6 % (Martel 2005): binomial SE at n = 40,000 is 0.08 %
    assert abs(p.hit.mean() - 0.026) < 0.004
    onset = p.hit_onset_h[p.hit]
    rapid = onset < 24.0
    assert abs(rapid.mean() - 0.275) < 0.08
    assert np.all((onset[~rapid] >= 120.0) & (onset[~rapid] <= 240.0))  # day 5-10
    fall = p.hit_fall_fraction[p.hit]
    assert np.all((fall >= 0.3) & (fall <= 0.95))
    assert (fall >= 0.5).mean() > 0.8
    # typical PK: no variability switch
    t = pop.sample_patients(keys[:100], variability=False)
    np.testing.assert_allclose(t.v_ml, UFH_TYPICAL.v_l_per_kg * 1000 * t.weight_kg)
    assert 0.0 < p.heparin_resistant.mean() < 1.0


def test_heparin_resistance_is_a_minority():
    # Levine 1994 entry criterion (> 35,000 U/24 h for aPTT 1.5 x control). With the typical
    # steady state at 18 U/kg/h at the lower edge of 0.3-0.7 IU/mL (docs/models/heparin.md) the
    # share is 42.1 % of 40,000 virtual patients: a weak check.
    p = pop.sample_patients(patient_key(np.arange(40000, dtype=np.uint64), 0))
    assert p.heparin_resistant.mean() < 0.5


def test_cockcroft_gault_hand_case():
    # (140 - 60) x 80 / (72 x 1.0) = 88.89 mL/min; x 0.85 for a woman = 75.56
    assert pop.cockcroft_gault_ml_per_min(60, 80, 1.0, False) == pytest.approx(88.888889, rel=1e-6)
    assert pop.cockcroft_gault_ml_per_min(60, 80, 1.0, True) == pytest.approx(75.555556, rel=1e-6)


def test_hit_platelet_course_hand_case():
    # onset 10 h, fall 60 %, tau 24 h: at 34 h, 250 x (1 - 0.6 x (1 - e^-1)) = 155.18
    got = pop.hit_platelets(np.array([250.0]), np.array([10.0]), np.array([0.6]), 34.0)
    assert got[0] == pytest.approx(250 * (1 - 0.6 * (1 - np.exp(-1))), rel=1e-12)
    assert pop.hit_platelets(np.array([250.0]), np.array([10.0]), np.array([0.6]), 5.0)[0] == 250.0


def test_bad_hit_incidence():
    with pytest.raises(ValueError, match="hit_incidence"):
        pop.sample_patients(patient_key(np.arange(3, dtype=np.uint64), 0), hit_incidence=1.5)


# -- assays ----------------------------------------------------------------------------------
def test_assays_exact_when_cv_zero_and_aptt_reporting_limit():
    keys = patient_key(np.arange(5, dtype=np.uint64), 0)
    x = np.array([30.0, 60.0, 150.0, 250.0, 500.0])
    np.testing.assert_array_equal(assays.measure_aptt(x, keys, 0, 0.0), np.minimum(x, assays.APTT_REPORT_MAX_S))
    np.testing.assert_array_equal(assays.measure_anti_xa(x / 100, keys, 0, 0.0), x / 100)


def test_assay_noise_is_mean_unbiased_with_the_stated_cv():
    keys = patient_key(np.arange(200000, dtype=np.uint64), 3)
    m = assays.measure_anti_xa(np.full(200000, 0.5), keys, 1, 0.05)
    assert m.mean() == pytest.approx(0.5, rel=2e-3)
    assert m.std() / m.mean() == pytest.approx(0.05, rel=0.03)
    # counter changes the draw; same counter repeats it
    np.testing.assert_array_equal(m[:10], assays.measure_anti_xa(np.full(10, 0.5), keys[:10], 1, 0.05))
    assert not np.array_equal(m[:10], assays.measure_anti_xa(np.full(10, 0.5), keys[:10], 2, 0.05))


# -- scalar formulas shared with the env kernel ----------------------------------------------
def test_aptt_wrapper_is_the_scalar_formula_and_broadcasts():
    from hemosim.models.heparin import aptt_scalar_s

    c = np.array([[0.0, 0.3, 0.7], [1.2, 2.0, 0.05]])
    aptt0 = np.array([28.0, 31.5, 35.0])
    got = aptt_from_concentration(c, aptt0, 1.5)
    assert got.shape == (2, 3)
    np.testing.assert_allclose(got, aptt0 * np.exp(1.5 * c), rtol=1e-14)
    assert got[0, 0] == 28.0  # no heparin: the baseline exactly
    for idx in np.ndindex(c.shape):
        assert got[idx] == aptt_scalar_s(c[idx], aptt0[idx[1]], 1.5)
    assert aptt_from_concentration(0.5, 30.0, 1.5) == pytest.approx(30.0 * np.exp(0.75), rel=1e-15)


def test_hit_platelets_wrapper_is_the_scalar_formula():
    from hemosim.patients.heparin import HIT_FALL_TIME_CONSTANT_H, hit_platelets, hit_platelets_scalar_10e9_per_l

    base = np.array([250.0, 200.0, 300.0, 180.0])
    onset = np.array([np.inf, 10.0, 120.0, 0.0])
    fall = np.array([0.0, 0.6, 0.4, 0.9])
    hours = np.array([50.0, 34.0, 60.0, 1e4])
    got = hit_platelets(base, onset, fall, hours)
    # hand-worked: no HIT; 24 h after onset (1 - 0.6 (1 - e^-1)); before onset; long after onset
    want = [250.0, 200.0 * (1 - 0.6 * (1 - np.exp(-24.0 / HIT_FALL_TIME_CONSTANT_H))), 300.0, 18.0]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    for i in range(4):
        assert got[i] == hit_platelets_scalar_10e9_per_l(base[i], onset[i], fall[i], hours[i])
    assert np.shape(hit_platelets(250.0, 0.0, 0.5, 24.0)) == ()


def test_population_cockcroft_gault_equals_the_public_score_exactly():
    from hemosim.patients import heparin as hp
    from hemosim.scores import cockcroft_gault_ml_per_min

    p = hp.sample_patients(np.arange(300, dtype=np.uint64))
    got = hp.cockcroft_gault_ml_per_min(p.age_years, p.weight_kg, p.creatinine_mg_per_dl, p.female)
    np.testing.assert_array_equal(got, cockcroft_gault_ml_per_min(p.age_years, p.weight_kg, p.creatinine_mg_per_dl, p.female))
    np.testing.assert_array_equal(np.clip(got, 5.0, 200.0), p.crcl_ml_per_min)
