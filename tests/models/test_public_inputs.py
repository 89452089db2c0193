"""Public model functions reject nonsense at their boundary and stay right at the extremes
(issue #12: each of these used to return a wrong number silently)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hemosim.models import doac
from hemosim.models.heparin import (
    UFH_TYPICAL,
    bolus_half_life_h,
    clearance_terms,
    half_life_h,
    steady_state_concentration,
)
from hemosim.models.warfarin import individual_parameters, individual_parameters_2010


# -- heparin bolus half-life ----------------------------------------------------------------------
def _reference_half_life_h(dose_u_per_kg: float, weight_kg: float = 70.0) -> float:
    v, kon, bmax, kint, cl = (float(x) for x in clearance_terms(weight_kg))
    c0, bm, k = dose_u_per_kg * weight_kg / v, bmax / v, cl / v

    def rhs(_t, y):
        c, b = y
        return [-c * (kon * (bm - b) + k), kon * c * (bm - b) - kint * b]

    def half(_t, y):
        return y[0] - 0.5 * c0

    half.terminal, half.direction = True, -1
    sol = solve_ivp(rhs, (0, 100.0), [c0, 0.0], method="LSODA", events=half, rtol=1e-11, atol=1e-14)
    return float(sol.t_events[0][0])


@pytest.mark.parametrize("dose_u_per_kg", [5e3, 1e4, 1e5, 1e7])
def test_bolus_half_life_of_very_large_boluses_is_right(dose_u_per_kg):
    """Used to be negative (-0.22 h at 10,000 U/kg): the fixed-step integrator was unstable."""
    got = float(bolus_half_life_h(dose_u_per_kg))
    assert got > 0
    assert got == pytest.approx(_reference_half_life_h(dose_u_per_kg), rel=1e-5)


def test_bolus_half_life_grows_with_dose_towards_the_linear_limit():
    doses = np.geomspace(1.0, 1e8, 60)
    t = bolus_half_life_h(doses)
    assert np.all(t > 0) and np.all(np.diff(t) >= -1e-9)
    v, _, _, _, cl = clearance_terms(70.0)
    assert t[-1] == pytest.approx(math.log(2.0) / float(cl / v), rel=1e-3)  # receptors saturated: linear route only


def test_bolus_half_life_at_ordinary_doses_is_unchanged_and_matches_the_reference():
    # the calibrated values (heparin fit targets at 25 / 100 / 400 U/kg) keep their fixed-step result
    for dose in (25.0, 100.0, 400.0):
        assert float(bolus_half_life_h(dose)) == pytest.approx(_reference_half_life_h(dose), rel=1e-7)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"dose_u_per_kg": -1.0}, "dose_u_per_kg"),
        ({"dose_u_per_kg": float("nan")}, "dose_u_per_kg"),
        ({"dose_u_per_kg": 80.0, "weight_kg": 0.0}, "weight_kg"),
        ({"dose_u_per_kg": 80.0, "renal_factor": -0.5}, "renal_factor"),
    ],
)
def test_bolus_half_life_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        bolus_half_life_h(**kwargs)


def test_half_life_rejects_negative_binding_constants():
    v, kon, bmax, kint, cl = clearance_terms(70.0)
    with pytest.raises(ValueError, match="kint_per_h"):
        half_life_h(5600.0, v, kon, bmax, -1.0, cl)


# -- heparin steady state -------------------------------------------------------------------------
def test_steady_state_concentration_rejects_negative_rate():
    """Used to return a negative level for a negative infusion rate."""
    with pytest.raises(ValueError, match="rate_u_per_h"):
        steady_state_concentration(-100.0, 1000.0, 0.3, 2000.0)
    with pytest.raises(ValueError, match="km_u_per_ml"):
        steady_state_concentration(100.0, 1000.0, 0.0, 2000.0)
    with pytest.raises(ValueError, match="cl_lin_ml_per_h"):
        steady_state_concentration(100.0, 1000.0, 0.3, float("nan"))


def test_steady_state_concentration_balances_input_and_output():
    r = np.array([0.0, 100.0, 1000.0, 5000.0])
    vmax, km, cl = 1000.0, 0.3, 2000.0
    c = steady_state_concentration(r, vmax, km, cl)
    assert np.all(c >= 0)
    np.testing.assert_allclose(vmax * c / (km + c) + cl * c, r, rtol=1e-12, atol=1e-12)


# -- warfarin individual parameters ---------------------------------------------------------------
@pytest.mark.parametrize("fn", [individual_parameters, individual_parameters_2010])
def test_warfarin_parameters_reject_nan_age(fn):
    """NaN age used to pass (every comparison with NaN is False) and give NaN clearance."""
    with pytest.raises(ValueError, match="age_years"):
        fn(np.array([0]), np.array([0]), np.array([float("nan")]))


@pytest.mark.parametrize("fn", [individual_parameters, individual_parameters_2010])
@pytest.mark.parametrize("multiplier", [-0.5, 0.0, float("inf"), float("nan")])
def test_warfarin_parameters_reject_bad_clearance_multiplier(fn, multiplier):
    with pytest.raises(ValueError, match="cl_multiplier"):
        fn(np.array([0]), np.array([0]), np.array([60.0]), cl_multiplier=multiplier)


@pytest.mark.parametrize("fn", [individual_parameters, individual_parameters_2010])
def test_warfarin_parameters_reject_non_finite_random_effects(fn):
    with pytest.raises(ValueError, match="eta_cl"):
        fn(np.array([0]), np.array([0]), np.array([60.0]), eta_cl=np.array([float("nan")]))


def test_warfarin_parameters_still_accept_valid_input():
    p = individual_parameters(np.array([0, 2]), np.array([1, 2]), np.array([60.0, 80.0]), cl_multiplier=np.array([1.0, 0.78]))
    assert np.all(np.isfinite(p.cl_s_l_per_h)) and np.all(p.cl_s_l_per_h > 0)


# -- DOAC steady-state profile ----------------------------------------------------------------------
def _pk_with_ka_equal_to_k(pk):
    k = float(doac.clearance_l_per_h(pk, pk.crcl_ref_ml_per_min)) / pk.v_f_l
    return dataclasses.replace(pk, ka_per_h=k)


@pytest.mark.parametrize("pk", doac.PK_PARAMETERS, ids=lambda p: type(p).__name__)
def test_doac_profile_at_ka_equal_k_is_the_continuous_limit(pk):
    """Used to divide by zero (ka - k = 0) and return NaN / inf."""
    equal = _pk_with_ka_equal_to_k(pk)
    at = doac.steady_state_profile(equal, pk.dose_standard_mg, pk.crcl_ref_ml_per_min)
    near = doac.steady_state_profile(
        dataclasses.replace(equal, ka_per_h=equal.ka_per_h * (1 + 1e-4)), pk.dose_standard_mg, pk.crcl_ref_ml_per_min
    )
    assert all(math.isfinite(v) for v in at.values())
    for key in ("peak_ng_per_ml", "trough_ng_per_ml", "average_ng_per_ml"):
        assert at[key] == pytest.approx(near[key], rel=1e-3)
    assert at["trough_ng_per_ml"] < at["average_ng_per_ml"] < at["peak_ng_per_ml"]


@pytest.mark.parametrize("bad", [{"cl_multiplier": -1.0}, {"v_multiplier": 0.0}, {"dose_mg": float("nan")}, {"n_grid": 1}])
def test_doac_profile_rejects_bad_input(bad):
    pk = doac.PK_APIXABAN
    kwargs = {"dose_mg": 5.0, "crcl_ml_per_min": 80.0, **bad}
    with pytest.raises(ValueError, match=next(iter(bad))):
        doac.steady_state_profile(pk, **kwargs)
