"""DOAC model: PK against the published ranges and a reference ODE solver, events, determinism, invariants."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

from hemosim.models import doac
from hemosim.models.doac import (
    APIXABAN, DABIGATRAN, ENDPOINTS, NO_ANTICOAGULANT, PK_PARAMETERS, REDUCED, RIVAROXABAN, STANDARD, WARFARIN,
)
from hemosim.patients.af import AF_PRESETS, AFPreset, sample_cohort
from hemosim.sim import rng

# EHRA 2021 practical guide (Steffel, Europace 23:1612) Table 11, AF dosing, ng/mL (FACTS §6.3)
EHRA_PEAK = {"apixaban": (69, 321), "rivaroxaban": (178, 343), "dabigatran": (52, 383)}
EHRA_TROUGH = {"apixaban": (34, 230), "rivaroxaban": (12, 137), "dabigatran": (28, 215)}
# CJASN 2016;11:2079 Table 1 half-lives (h) at CrCl > 80 and 30-49 mL/min (FACTS §6.3)
CJASN_HALF_LIFE = {"apixaban": (7.6, 17.6), "rivaroxaban": (8.3, 9.0), "dabigatran": (13.8, 18.7)}


def keys(n, seed=11):
    return rng.patient_key(np.uint64(seed), np.arange(n))


def test_every_parameter_has_unit_and_source():
    for obj in (*PK_PARAMETERS, doac.EVENT_PARAMETERS, doac.FITTED_PARAMETERS):
        for f in dataclasses.fields(obj):
            assert f.metadata.get("unit"), f"{type(obj).__name__}.{f.name} lacks a unit"
            assert f.metadata.get("source"), f"{type(obj).__name__}.{f.name} lacks a source"
    for f in dataclasses.fields(AFPreset):
        assert f.metadata.get("source"), f.name
    assert len(doac.parameter_table()) > 60


# -------------------------------------------------------------------------- exposure
@pytest.mark.parametrize("drug", [0, 1, 2])
def test_typical_patient_standard_dose_within_ehra_ranges(drug):
    pk = PK_PARAMETERS[drug]
    name = doac.DRUG_NAMES[drug]
    prof = doac.steady_state_profile(pk, pk.dose_standard_mg, pk.crcl_ref_ml_per_min)
    assert EHRA_PEAK[name][0] <= prof["peak_ng_per_ml"] <= EHRA_PEAK[name][1]
    assert EHRA_TROUGH[name][0] <= prof["trough_ng_per_ml"] <= EHRA_TROUGH[name][1]
    assert 1.5 <= prof["tmax_h"] <= 4.0  # EHRA Table 4: Tmax 2-4 h (3 h apixaban, dabigatran)


@pytest.mark.parametrize("drug, crcl", [(0, 31.0), (1, 40.0), (2, 50.0)])
def test_typical_label_patient_reduced_dose_within_ehra_ranges(drug, crcl):
    """Reduced dose in a typical patient of its label population (apixaban: 82 y, 58 kg, SCr 1.5)."""
    pk = PK_PARAMETERS[drug]
    name = doac.DRUG_NAMES[drug]
    prof = doac.steady_state_profile(pk, pk.dose_reduced_mg, crcl)
    assert EHRA_PEAK[name][0] <= prof["peak_ng_per_ml"] <= EHRA_PEAK[name][1]
    assert EHRA_TROUGH[name][0] <= prof["trough_ng_per_ml"] <= EHRA_TROUGH[name][1]


@pytest.mark.parametrize("drug", [0, 1, 2])
def test_half_life_longer_at_crcl_30_50_than_above_80(drug):
    pk = PK_PARAMETERS[drug]
    t_hi = float(doac.half_life_h(pk, 90.0))
    t_mid = float(doac.half_life_h(pk, 40.0))
    t_low = float(doac.half_life_h(pk, 20.0))
    assert t_low > t_mid > t_hi
    # the published direction (CJASN 2016 Table 1): longer at 30-49 than > 80
    pub_hi, pub_mid = CJASN_HALF_LIFE[doac.DRUG_NAMES[drug]]
    assert pub_mid > pub_hi


def test_population_spread_of_trough_covers_ehra_range():
    """Between-patient 5th-95th percentiles of steady-state trough overlap the EHRA range (not fitted)."""
    c = sample_cohort(keys(3000), "aristotle")
    for drug in (APIXABAN, RIVAROXABAN, DABIGATRAN):
        pk = PK_PARAMETERS[drug]
        cl = doac.clearance_l_per_h(pk, c.crcl_ml_per_min, c.pk_cl_multiplier[:, drug])
        troughs = np.array([doac.steady_state_profile(pk, pk.dose_standard_mg, pk.crcl_ref_ml_per_min,
                                                      cl_multiplier=float(ci / doac.clearance_l_per_h(pk, pk.crcl_ref_ml_per_min)),
                                                      v_multiplier=float(vi), n_grid=201)["trough_ng_per_ml"]
                            for ci, vi in zip(cl[:300], c.pk_v_multiplier[:300, drug])])
        p5, p95 = np.percentile(troughs, [5, 95])
        lo, hi = EHRA_TROUGH[doac.DRUG_NAMES[drug]]
        assert p5 < hi and p95 > lo and p95 / p5 > 2.0


def _steady_cohort(n, preset="rely", seed=3):
    c = sample_cohort(keys(n, seed), preset)
    # perfect adherence, constant renal function (slope deviation cancels the DOAC mean slope)
    return dataclasses.replace(
        c, adherence=np.ones(n),
        crcl_slope_deviation_ml_per_min_per_year=np.full(n, -doac.EVENT_PARAMETERS.crcl_slope_doac_ml_per_min_per_year))


@pytest.mark.parametrize("drug", [0, 1, 2])
def test_exact_pk_matches_solve_ivp(drug):
    c = _steady_cohort(4)
    state = doac.initial_state(c)
    n_days = 10
    doac.advance_days(state, c, drug, STANDARD, n_days)
    assert np.all(state.aki_days_left == 0) and state.alive.all()
    pk = PK_PARAMETERS[drug]
    for i in range(2):
        cl = float(doac.clearance_l_per_h(pk, c.crcl_ml_per_min[i], c.pk_cl_multiplier[i, drug]))
        v = pk.v_f_l * c.pk_v_multiplier[i, drug]
        k = cl / v
        ka = pk.ka_per_h
        y = np.zeros(3)  # gut, central, integral of central
        for day in range(n_days):
            for j in range(2):  # two 12-h intervals; doses at 0 h and (bid) 12 h
                if j == 0 or pk.doses_per_day == 2:
                    y[0] += pk.dose_standard_mg
                if j == 0:
                    y[2] = 0.0
                sol = solve_ivp(lambda t, z: [-ka * z[0], ka * z[0] - k * z[1], z[1]], (0.0, 12.0), y,
                                rtol=1e-11, atol=1e-13)
                y = sol.y[:, -1].copy()
        c_trough = y[1] / v * 1000.0
        c_avg = y[2] / 24.0 / v * 1000.0
        np.testing.assert_allclose(state.c_trough_ng_per_ml[i, drug], c_trough, rtol=1e-7)
        np.testing.assert_allclose(state.c_avg_ng_per_ml[i, drug], c_avg, rtol=1e-7)


def test_long_run_trough_equals_closed_form_steady_state():
    c = _steady_cohort(2)
    state = doac.initial_state(c)
    doac.advance_days(state, c, APIXABAN, STANDARD, 20)
    pk = PK_PARAMETERS[APIXABAN]
    prof = doac.steady_state_profile(pk, pk.dose_standard_mg, c.crcl_ml_per_min[0], c.pk_cl_multiplier[0, 0],
                                     c.pk_v_multiplier[0, 0])
    np.testing.assert_allclose(state.c_trough_ng_per_ml[0, 0], prof["trough_ng_per_ml"], rtol=1e-6)


def test_exposure_rises_with_dose_and_falling_renal_function():
    c = _steady_cohort(200)
    res_std = doac.simulate(c, DABIGATRAN, STANDARD, 14)
    res_red = doac.simulate(c, DABIGATRAN, REDUCED, 14)
    alive = res_std.state.alive & res_red.state.alive
    assert np.all(res_std.state.c_avg_ng_per_ml[alive, 2] > res_red.state.c_avg_ng_per_ml[alive, 2])
    low = dataclasses.replace(c, crcl_ml_per_min=c.crcl_ml_per_min * 0.5)
    res_low = doac.simulate(low, DABIGATRAN, STANDARD, 14)
    both = alive & res_low.state.alive & (res_low.state.hold_days_left == 0) & (res_std.state.hold_days_left == 0)
    assert np.all(res_low.state.c_avg_ng_per_ml[both, 2] > res_std.state.c_avg_ng_per_ml[both, 2])


# ---------------------------------------------------------------------- determinism
def test_deterministic_and_batch_independent():
    c = sample_cohort(keys(64), "general_practice")
    a = doac.simulate(c, APIXABAN, STANDARD, 120, persistence_hazard_per_day=AF_PRESETS["general_practice"].persistence_hazard_per_day())
    b = doac.simulate(c, APIXABAN, STANDARD, 120, persistence_hazard_per_day=AF_PRESETS["general_practice"].persistence_hazard_per_day())
    for f in dataclasses.fields(a.state):
        np.testing.assert_array_equal(getattr(a.state, f.name), getattr(b.state, f.name))
    idx = np.array([5, 17, 40])
    alone = doac.simulate(c.subset(idx), APIXABAN, STANDARD, 120,
                          persistence_hazard_per_day=AF_PRESETS["general_practice"].persistence_hazard_per_day())
    for f in dataclasses.fields(a.state):
        np.testing.assert_array_equal(getattr(a.state, f.name)[idx], getattr(alone.state, f.name))
    # a patient drawn alone equals the same key drawn in a batch
    one = sample_cohort(keys(64)[17:18], "general_practice")
    assert one.age_y[0] == c.age_y[17] and one.crcl_ml_per_min[0] == c.crcl_ml_per_min[17]


def test_seeds_give_different_patients():
    a = sample_cohort(keys(500, 1), "rely")
    b = sample_cohort(keys(500, 2), "rely")
    assert not np.allclose(a.age_y, b.age_y)
    assert abs(np.corrcoef(a.age_y, b.age_y)[0, 1]) < 0.15


# ------------------------------------------------------------------- event mechanics
def test_prior_stroke_raises_stroke_risk_and_anticoagulation_lowers_it():
    c = sample_cohort(keys(4000), "general_practice")
    no = dataclasses.replace(c, prior_stroke=np.zeros(len(c), bool))
    yes = dataclasses.replace(c, prior_stroke=np.ones(len(c), bool))
    r_no = doac.simulate(no, NO_ANTICOAGULANT, STANDARD, 90).rate_per_100py("ischaemic_stroke_se", expected=True)
    r_yes = doac.simulate(yes, NO_ANTICOAGULANT, STANDARD, 90).rate_per_100py("ischaemic_stroke_se", expected=True)
    r_api = doac.simulate(yes, APIXABAN, STANDARD, 90).rate_per_100py("ischaemic_stroke_se", expected=True)
    r_war = doac.simulate(yes, WARFARIN, STANDARD, 90).rate_per_100py("ischaemic_stroke_se", expected=True)
    assert r_yes > 1.5 * r_no
    assert r_api < 0.5 * r_yes and r_war < 0.7 * r_yes


def test_ich_stops_anticoagulation_for_eight_weeks():
    strong = dataclasses.replace(doac.FITTED_PARAMETERS, bleed_coefficient_rivaroxaban=60.0)
    c = _steady_cohort(3000, "rocket", seed=9)
    state = doac.initial_state(c)
    found = False
    for _ in range(60):
        before = state.first_day[:, ENDPOINTS.index("ich")].copy()
        doac.advance_days(state, c, RIVAROXABAN, STANDARD, 1, fitted=strong)
        new = (before < 0) & (state.first_day[:, ENDPOINTS.index("ich")] >= 0) & state.alive
        if new.any():
            i = np.flatnonzero(new)[0]
            assert state.hold_days_left[i] == doac.EVENT_PARAMETERS.hold_days_after_ich - 1
            c_before = state.c_avg_ng_per_ml[i, 1]
            doac.advance_days(state, c, RIVAROXABAN, STANDARD, 7, fitted=strong)
            assert state.c_avg_ng_per_ml[i, 1] < 0.05 * c_before  # no doses while held
            assert state.bleeding_history[i]
            found = True
            break
    assert found


def test_bad_regimen_input():
    c = sample_cohort(keys(4), "rely")
    with pytest.raises(ValueError, match="drug"):
        doac.simulate(c, 5, STANDARD, 3)
    with pytest.raises(ValueError, match="dose_level"):
        doac.simulate(c, APIXABAN, 3, 3)
    with pytest.raises(ValueError, match="n_days"):
        doac.advance_days(doac.initial_state(c), c, APIXABAN, STANDARD, 0)
    for bad_days in (np.array([3, 3, 0, 3]), np.array([3, 3, 3]), 2.5, np.array([[3, 3, 3, 3]])):
        with pytest.raises(ValueError, match="n_days"):
            doac.advance_days(doac.initial_state(c), c, APIXABAN, STANDARD, bad_days)
    with pytest.raises(ValueError, match="drug"):
        doac.simulate(c, 1.5, STANDARD, 3)
    with pytest.raises(ValueError, match="unknown AF preset"):
        sample_cohort(keys(4), "nowhere")
    with pytest.raises(ValueError, match="uint64"):
        sample_cohort(np.arange(4), "rely")


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    drug=st.integers(0, 4),
    level=st.integers(0, 2),
    age=st.floats(18.0, 105.0),
    weight=st.floats(35.0, 200.0),
    crcl=st.floats(5.0, 250.0),
    ttr=st.floats(0.0, 1.0),
    adherence=st.floats(0.0, 1.0),
    cl_mult=st.floats(0.2, 5.0),
)
def test_no_negative_or_nonfinite_quantities_at_covariate_extremes(seed, drug, level, age, weight, crcl, ttr,
                                                                   adherence, cl_mult):
    c = sample_cohort(keys(16, seed), "general_practice")
    n = len(c)
    c = dataclasses.replace(
        c, age_y=np.full(n, age), weight_kg=np.full(n, weight), crcl_ml_per_min=np.full(n, crcl), ttr=np.full(n, ttr),
        adherence=np.full(n, adherence), pk_cl_multiplier=np.full((n, 3), cl_mult),
        crcl_slope_deviation_ml_per_min_per_year=np.linspace(-30, 30, n), prior_stroke=np.ones(n, bool),
        bleeding_history=np.ones(n, bool), antiplatelet=np.ones(n, bool))
    res = doac.simulate(c, drug, level, 120)
    s = res.state
    for arr in (s.gut_mg, s.central_mg, s.c_avg_ng_per_ml, s.c_trough_ng_per_ml, s.warfarin_effect,
                s.crcl_trend_ml_per_min, s.compensator):
        assert np.all(np.isfinite(arr)) and np.all(arr >= 0)
    assert np.all((s.warfarin_effect >= 0) & (s.warfarin_effect <= 1))
    assert np.all(s.days_followed <= 120)
    assert np.all(s.event_count >= 0)


@pytest.mark.slow
def test_benchmark_year_runs():
    seconds = doac.benchmark_year(4096)
    # no wall-clock bound (DESIGN.md: a busy neighbour must never fail a test); speed is `hemosim benchmark`'s job
    assert np.isfinite(seconds) and seconds > 0.0


def test_reset_rows_reinitialises_only_masked_patients():
    c = sample_cohort(keys(32), "general_practice")
    state = doac.initial_state(c)
    doac.advance_days(state, c, RIVAROXABAN, STANDARD, 40)
    before = dataclasses.replace(state, **{f.name: getattr(state, f.name).copy() for f in dataclasses.fields(state)})
    mask = np.zeros(32, bool)
    mask[[3, 9]] = True
    doac.reset_rows(state, c, mask)
    fresh = doac.initial_state(c)
    for f in dataclasses.fields(state):
        np.testing.assert_array_equal(getattr(state, f.name)[mask], getattr(fresh, f.name)[mask])
        np.testing.assert_array_equal(getattr(state, f.name)[~mask], getattr(before, f.name)[~mask])
    with pytest.raises(ValueError, match="mask"):
        doac.reset_rows(state, c, np.ones(5, bool))


# ---------------------------------------------------- age and renal function (issue 15)
def _expected_rate(cohort, drug, level, endpoint, days=90):
    return doac.simulate(cohort, drug, level, days).rate_per_100py(endpoint, expected=True)


def test_apixaban_exposure_covariates_hand_cases():
    # FDA review of the AF pop-PK: 80 y -> +15.7 % exposure vs 65 y; SmPC: <= 50 kg ~ +30 %
    assert 1.0 / doac.covariate_cl_multiplier(doac.PK_APIXABAN, 80.0, 75.0) == pytest.approx(1.157, rel=1e-9)
    assert 1.0 / doac.covariate_cl_multiplier(doac.PK_APIXABAN, 50.0, 75.0) == pytest.approx(0.864, abs=2e-3)
    assert 1.0 / doac.covariate_cl_multiplier(doac.PK_APIXABAN, 65.0, 50.0) == pytest.approx((50 / 75) ** -0.65)
    assert doac.covariate_cl_multiplier(doac.PK_APIXABAN, 65.0, 75.0) == 1.0
    for pk in (doac.PK_RIVAROXABAN, doac.PK_DABIGATRAN):
        assert doac.covariate_cl_multiplier(pk, 85.0, 45.0) == 1.0


def test_bleeding_rises_with_age_at_fixed_renal_function_and_steeper_on_dabigatran():
    """Eikelboom 2011: major bleeding rises with age on warfarin and much more steeply on dabigatran."""
    c = sample_cohort(keys(3000), "rely")
    young = dataclasses.replace(c, age_y=np.full(len(c), 65.0))
    old = dataclasses.replace(c, age_y=np.full(len(c), 85.0))  # CrCl (and so dabigatran exposure) unchanged
    ratio = {d: _expected_rate(old, d, STANDARD, "major_bleeding") / _expected_rate(young, d, STANDARD, "major_bleeding")
             for d in (WARFARIN, DABIGATRAN, NO_ANTICOAGULANT)}
    assert ratio[NO_ANTICOAGULANT] > 1.05 and ratio[WARFARIN] > 1.05
    assert ratio[DABIGATRAN] > ratio[WARFARIN] * 1.3


def test_renal_function_acts_on_bleeding_beyond_exposure_and_steeper_on_warfarin():
    """Hohnloser 2012: bleeding rises as CrCl falls, on warfarin more than on apixaban; stroke rises too."""
    c = sample_cohort(keys(3000), "aristotle")
    good = dataclasses.replace(c, crcl_ml_per_min=np.full(len(c), 95.0))
    poor = dataclasses.replace(c, crcl_ml_per_min=np.full(len(c), 35.0))
    ratio = {d: _expected_rate(poor, d, STANDARD, "major_bleeding") / _expected_rate(good, d, STANDARD, "major_bleeding")
             for d in (WARFARIN, APIXABAN, NO_ANTICOAGULANT)}
    assert ratio[NO_ANTICOAGULANT] > 1.1  # off drug: no exposure, yet more bleeding
    assert ratio[WARFARIN] > ratio[APIXABAN] > 1.1
    stroke = _expected_rate(poor, WARFARIN, STANDARD, "ischaemic_stroke_se") / _expected_rate(
        good, WARFARIN, STANDARD, "ischaemic_stroke_se")
    assert stroke > 1.2


def test_hazard_integral_counts_every_event_and_exceeds_first_event_compensator():
    c = sample_cohort(keys(500), "general_practice")
    res = doac.simulate(c, WARFARIN, STANDARD, 365)
    hi, comp = res.state.hazard_integral, res.state.compensator
    assert np.all(hi >= comp - 1e-12) and np.all(np.isfinite(hi))
    # expected and sampled major bleeds agree within Monte-Carlo error
    e = ENDPOINTS.index("major_bleeding")
    n_ev, n_exp = res.state.event_count[:, e].sum(), hi[:, e].sum()
    assert abs(n_ev - n_exp) < 4.0 * np.sqrt(n_exp) + 2


def test_per_patient_days_equal_a_common_stretch_then_the_extra_days_of_some():
    """``n_days`` per patient (the env's 35-day last interval) gives each row exactly what
    advancing all rows the common days, then only the longer rows the rest, gives."""
    c = sample_cohort(keys(300), "rely")
    drug = np.arange(300) % 5
    days = np.where(np.arange(300) % 3 == 0, 35, 30)
    together = doac.initial_state(c)
    doac.advance_days(together, c, drug, STANDARD, days)
    apart = doac.initial_state(c)
    doac.advance_days(apart, c, drug, STANDARD, 30)
    idx = np.flatnonzero(days == 35)
    sub = doac.DoacState(**{f.name: getattr(apart, f.name)[idx] for f in dataclasses.fields(apart)})
    doac.advance_days(sub, c.subset(idx), drug[idx], STANDARD, 5)
    for f in dataclasses.fields(apart):
        getattr(apart, f.name)[idx] = getattr(sub, f.name)
    for f in dataclasses.fields(apart):
        assert np.array_equal(getattr(together, f.name), getattr(apart, f.name), equal_nan=True), f.name
