"""Hamberg 2007 warfarin model: hand-worked cases, reference solver, published Table 5."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from hemosim.calibration.warfarin_targets import hamberg_2007_table5_cells  # Table 5, FACTS §1.6
from hemosim.models.warfarin import (
    HAMBERG_2007,
    HambergParameters,
    WarfarinModel,
    individual_parameters,
    inr_from_chains,
    reference_rhs,
)



def _model(cyp, vk, age, params=HAMBERG_2007, **kw):
    cyp, vk, age = np.atleast_1d(cyp), np.atleast_1d(vk), np.atleast_1d(np.asarray(age, float))
    p = individual_parameters(cyp, vk, age, params, **kw)
    m = WarfarinModel(len(cyp))
    m.set_parameters(np.ones(len(cyp), bool), p)
    return m, p


def test_every_parameter_has_unit_and_source():
    for f in dataclasses.fields(HambergParameters):
        assert f.metadata.get("unit"), f"{f.name} lacks a unit"
        assert f.metadata.get("source"), f"{f.name} lacks a source"


def test_typical_patient_parameters_hand_worked():
    # *1/*3 at age 81: CL = 0.314 * 0.547 * (1 - 0.0091 * 10) = 0.15613 L/h (Hamberg Table 2).
    p = individual_parameters(np.array([2]), np.array([1]), np.array([81.0]))
    assert p.cl_s_l_per_h[0] == pytest.approx(0.314 * 0.547 * 0.909, rel=1e-12)
    assert p.ec50_mg_per_l[0] == pytest.approx(3.02)
    assert p.ktr1_per_h[0] == pytest.approx(6 / 11.6)  # default: chain_total convention
    per = individual_parameters(np.array([0]), np.array([0]), np.array([71.0]),
                                HambergParameters(ktr_convention="per_compartment"))
    assert per.ktr1_per_h[0] == pytest.approx(1 / 11.6)


def test_baseline_inr_and_formula():
    m, _ = _model(0, 0, 71)
    assert m.inr()[0] == pytest.approx(1.0)
    # INR = 1 + 20 (1 - 0.5 * 0.8)^3.61
    assert inr_from_chains(0.5, 0.8, 1.0, 20.0, 3.61) == pytest.approx(1 + 20 * 0.6**3.61)


def test_single_dose_pk_mass_balance_hand_worked():
    # With no elimination the S amount in the body is conserved; check exactness of the
    # PK propagator against the analytic depot decay exp(-ka t).
    m, p = _model(0, 0, 71)
    m.advance_days(np.array([10.0]))
    depot_left = 5.0 * np.exp(-2.0 * 24.0)
    assert m.pk_mg[0, 0] == pytest.approx(depot_left, abs=1e-15)
    # R central: one compartment with first-order absorption (Bateman function).
    ka, kr = 2.0, p.cl_r_l_per_h[0] / p.v_r_l[0]
    bateman = 5.0 * ka / (ka - kr) * (np.exp(-kr * 24) - np.exp(-ka * 24))
    assert m.pk_mg[0, 3] == pytest.approx(bateman, rel=1e-12)


@pytest.mark.parametrize("convention", ["chain_total", "per_compartment"])
@pytest.mark.parametrize("cyp,vk,dose", [(0, 0, 15.0), (0, 0, 7.72), (5, 2, 2.0), (5, 2, 0.56)])
def test_90_day_inr_matches_solve_ivp_within_0_005(convention, cyp, vk, dose):
    """Most (*3/*3 AA) and least (*1/*1 GG) sensitive genotypes, against LSODA rtol 1e-10."""
    params = HambergParameters(ktr_convention=convention)
    m, p = _model(cyp, vk, 70.0, params)
    y = np.array([0.0, 0.0, 0.0, 0.0] + [1.0] * 7)
    worst = 0.0
    for _ in range(90):
        m.advance_days(np.array([dose]))
        y[0] += 0.5 * dose
        y = solve_ivp(reference_rhs, (0, 24), y, args=(p, 0), method="LSODA", rtol=1e-10, atol=1e-13).y[:, -1]
        ref = inr_from_chains(y[9], y[10], 1.0, 20.0, 3.61)
        worst = max(worst, abs(m.inr()[0] - ref))
    assert worst < 0.005


def test_hamberg_table5_steady_state_inr_within_3_percent_of_2_5():
    """Hamberg 2007 Table 5: all 54 cells, typical patients, daily dosing to steady state.

    Steady-state INR is the mean over one dosing interval after 200 days. (The trough is
    up to 3.3 % lower in high-clearance cells because E is concave in C; see the card.)
    """
    cyp, vk, age, dose = hamberg_2007_table5_cells()
    m, _ = _model(cyp, vk, age)
    m.advance_days(np.repeat(dose[:, None], 199, axis=1))
    hourly = WarfarinModel(len(dose), nodes_h=np.array([0.0, 0.25, 0.5, 1.0]))
    hourly.set_parameters(np.ones(len(dose), bool), m.params)
    hourly.pk_mg[:], hourly.chain[:] = m.pk_mg, m.chain
    inr = []
    for h in range(24):
        hourly.advance_days(dose if h == 0 else np.zeros_like(dose))
        inr.append(hourly.inr())
    mean_inr = np.mean(inr, axis=0)
    assert np.all(np.abs(mean_inr / 2.5 - 1.0) <= 0.03), np.round(mean_inr, 3)


def test_table5_doses_as_constant_infusion_within_2_5_percent():
    """The same doses given as a constant rate (the table's steady-state assumption)."""
    cyp, vk, age, dose = hamberg_2007_table5_cells()
    m = WarfarinModel(len(dose), nodes_h=np.array([0.0, 0.5, 1.0]))
    m.set_parameters(np.ones(len(dose), bool), individual_parameters(cyp, vk, age))
    m.advance_days(np.repeat(dose[:, None] / 24.0, 24 * 150, axis=1))
    assert np.all(np.abs(m.inr() / 2.5 - 1.0) <= 0.025)


def test_no_ceiling_15_mg_drives_inr_high_and_vkorc1_aa_more_sensitive():
    cyp = np.zeros(3, dtype=int)
    vk = np.arange(3)
    m, _ = _model(cyp, vk, np.full(3, 70.0))
    m.advance_days(np.full((3, 60), 5.0))
    gg, ga, aa = m.inr()
    assert aa > ga > gg and aa > gg + 0.75  # 2.88 vs 1.94 at 70 y
    m15, _ = _model(np.array([2]), np.array([2]), np.array([70.0]))
    m15.advance_days(np.full((1, 60), 15.0))
    assert m15.inr()[0] > 6.0  # 7.3; no artificial ceiling (hemosim 0.2 capped INR at 2.63)


@pytest.mark.parametrize("dose", [0.0, 1.0, 5.0, 15.0])
def test_monotone_in_dose_and_non_negative(dose):
    m, _ = _model(np.array([0, 0]), np.array([1, 1]), np.array([60.0, 60.0]))
    m.advance_days(np.stack([np.full(30, dose), np.full(30, dose + 1.0)]))
    inr = m.inr()
    assert inr[1] > inr[0] or dose == 0.0 and inr[1] > inr[0]
    assert np.all(m.pk_mg >= -1e-12) and np.all(m.chain >= -1e-12) and np.all(m.chain <= 1 + 1e-12)


def test_batch_invariance_patients_together_equal_each_alone():
    rng = np.random.default_rng(1)
    cyp, vk, age = rng.integers(0, 6, 8), rng.integers(0, 3, 8), rng.uniform(30, 90, 8)
    doses = rng.uniform(0, 15, (8, 20))
    m, _ = _model(cyp, vk, age)
    m.advance_days(doses)
    for i in range(8):
        mi, _ = _model(cyp[i], vk[i], age[i])
        mi.advance_days(doses[i:i + 1])
        np.testing.assert_array_equal(mi.inr(), m.inr()[i:i + 1])


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="ktr_convention"):
        HambergParameters(ktr_convention="n_plus_one")
    with pytest.raises(ValueError, match="CYP2C9"):
        individual_parameters(np.array([6]), np.array([0]), np.array([50.0]))
    with pytest.raises(ValueError, match="VKORC1"):
        individual_parameters(np.array([0]), np.array([3]), np.array([50.0]))
    m, _ = _model(0, 0, 50)
    with pytest.raises(ValueError, match=">= 0 mg"):
        m.advance_days(np.array([-1.0]))


@pytest.mark.parametrize("n_comp", [1, 3, 6])
def test_compiled_chain_gammainc_is_scipys_array_expression_bit_for_bit(n_comp):
    """The exact chain coefficients' P_i and W_i come from SciPy's gammainc C function called
    from compiled code (n + 1 evaluations instead of 2n): the same numbers as the ufunc
    expressions they replaced, over the model's range of k h and beyond."""
    import scipy.special

    from hemosim.models._warfarin_kernel import chain_gammainc

    rng = np.random.default_rng(19)
    x = np.concatenate([10 ** rng.uniform(-6, 2.5, 3000), rng.uniform(0.0, 3.0, 3000), [1e-300, 0.5, 1.0, 30.0, 700.0]])
    x = x.reshape(-1, 5)  # (patients, step lengths)
    i = np.arange(1, n_comp + 1)
    p, w = chain_gammainc(x, n_comp)
    assert np.array_equal(p, scipy.special.gammainc(i, x[..., None]))
    assert np.array_equal(w, (i / x[..., None]) * scipy.special.gammainc(i + 1, x[..., None]))
