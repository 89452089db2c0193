"""DOAC exposure and clinical events in atrial fibrillation, batched over patients.

Pure physiology / epidemiology (no gymnasium). Time base: the PK runs in hours inside a
day, the clinical model in days. Concentrations in ng/mL (= ug/L), doses in mg,
clearances in L/h, creatinine clearance (Cockcroft-Gault) in mL/min.
The model card with every equation, parameter, source and the fitting procedure is
``docs/models/doac.md``; the in-silico trials are ``hemosim.calibration.doac_trials``.

Exposure (one compartment, first-order absorption, exact between doses)
-----------------------------------------------------------------------
Per drug ``d`` and patient ``i`` (apparent, oral values; F folded into CL/F and V/F)::

    CL_i(t) = CL_d * m_cl,i * (1 - fe_d + fe_d * CrCl_i(t) / CrCl_ref) / AUCfactor_i,d
    V_i     = V_d * m_v,i,      k = CL_i / V_i,      t1/2 = ln 2 / k
    d gut/dt = -ka gut,   d A/dt = ka gut - k A,   C = A / V

``fe_d`` is the renal fraction of clearance (EHRA 2021 Table 4: dabigatran 0.80,
apixaban 0.27, rivaroxaban 0.35), so exposure and half-life rise as CrCl falls. Doses are
given at 0 h and 12 h (bid) or 0 h (od); each dose is taken with the patient's adherence
probability. The day's mean concentration ``C_avg`` (exact integral) drives the hazards
through ``c_rel = C_avg / C_ref,d`` where ``C_ref,d`` is the typical patient's steady-state
average at the standard dose (a derived quantity).

Hazards (per day; first-order competing risks, at most one event per patient-day)
---------------------------------------------------------------------------------
::

    h_isch  = Friberg2012[CHA2DS2-VASc]/365 * s_stroke,pop * S * rho^theta_S
    S       = (1 - w (1 - R_in M_s(TTR))) / (1 + sum_d c_rel,d / EC50_d)
    h_mb    = Pisters2010[HAS-BLED]/365 * s_bleed,pop / R_wb * B * WRF_mb
    B       = (1 + w (R_wb M_b(TTR) - 1) rho^theta_W) * (1 + sum_d A_d c_rel,d^gamma [exp(beta_D a) if dabigatran])
              * exp(beta_B a) * rho^theta_B,    a = (age - 70) / 10,  rho = 70 / max(CrCl, 15)
    M_s(TTR)= TTR + (1-TTR)(f_low RR_s,low + (1-f_low) RR_s,high)      (Nelson 2015)
    M_b(TTR)= TTR + (1-TTR)(f_low RR_b,low + (1-f_low) RR_b,high)
    h_mi    = MI rate/365 * (1 + (HR_dabi - 1) min(c_rel,dabi, 1))
    h_death = Gompertz(age, sex) * AF excess(sex) * WRF_death  (+ case fatality of events)

``w`` in [0, 1] is the warfarin effect (first-order onset/offset); ``R_in`` makes warfarin at
the reference TTR reduce stroke by Hart 2007's 64 %. Major bleeds split into intracranial
(part of which is haemorrhagic stroke, counted also as stroke/SE, as in the trials),
gastrointestinal and other, with shares from RE-LY's warfarin arm and, on DOACs,
Ruff 2014's ratios. Parameters fitted to the trials are only those of
:class:`FittedParameters` (see ``hemosim.calibration.doac_trials --fit``).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from numba import njit, prange

from hemosim.models.af_risk import (
    CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR,
    HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR,
    SCR_ABNORMAL_RENAL_MG_PER_DL,
)
from hemosim.sim import rng, rng_compiled
from hemosim.sim.threads import PARALLEL_CHUNKS, use_parallel

__all__ = [
    "DRUG_NAMES",
    "APIXABAN",
    "RIVAROXABAN",
    "DABIGATRAN",
    "WARFARIN",
    "NO_ANTICOAGULANT",
    "STANDARD",
    "REDUCED",
    "HOLD",
    "ENDPOINTS",
    "DrugPK",
    "PK_PARAMETERS",
    "EventParameters",
    "EVENT_PARAMETERS",
    "FittedParameters",
    "FITTED_PARAMETERS",
    "clearance_l_per_h",
    "covariate_cl_multiplier",
    "half_life_h",
    "steady_state_profile",
    "reference_average_concentration_ng_per_ml",
    "DoacState",
    "initial_state",
    "reset_rows",
    "advance_days",
    "simulate",
    "SimulationResult",
    "benchmark_year",
    "parameter_table",
]

# Drug codes (the first part of the DOACManagement action, plus the comparator and "off").
APIXABAN, RIVAROXABAN, DABIGATRAN, WARFARIN, NO_ANTICOAGULANT = 0, 1, 2, 3, 4
DRUG_NAMES: tuple[str, ...] = ("apixaban", "rivaroxaban", "dabigatran", "warfarin", "none")
# Dose levels (the second part of the action).
STANDARD, REDUCED, HOLD = 0, 1, 2

#: Endpoints recorded per patient (first occurrence day, event counts, compensators).
ENDPOINTS: tuple[str, ...] = (
    "stroke_se",  # ischaemic stroke / systemic embolism or haemorrhagic stroke (trial primary endpoint)
    "ischaemic_stroke_se",
    "major_bleeding",  # ISTH major bleeding, including intracranial
    "ich",
    "gi_bleeding",
    "mi",
    "death",
    "haemorrhagic_stroke",
    "aki",
)
_E = {name: i for i, name in enumerate(ENDPOINTS)}

HOURS_PER_DAY = 24.0
DAYS_PER_YEAR = 365.25
NG_PER_ML_PER_MG_PER_L = 1000.0


def _p(value, unit: str, source: str):
    return field(default=value, metadata={"unit": unit, "source": source})


# ----------------------------------------------------------------------------- PK
@dataclass(frozen=True)
class DrugPK:
    """Typical apparent (oral) one-compartment PK of one DOAC in AF."""

    dose_standard_mg: float = _p(0.0, "mg", "label")
    dose_reduced_mg: float = _p(0.0, "mg", "label")
    doses_per_day: int = _p(2, "1/day", "label")
    cl_f_l_per_h: float = _p(0.0, "L/h", "")
    v_f_l: float = _p(0.0, "L", "")
    ka_per_h: float = _p(0.0, "1/h", "")
    renal_fraction: float = _p(0.0, "1", "EHRA 2021 (Steffel, Europace 23:1612) Table 4")
    crcl_ref_ml_per_min: float = _p(
        70.0, "mL/min", "typical trial patient: ROCKET AF median CrCl 67 mL/min; 80 % of RE-LY > 50 (Scientifica 2014 Table 1)"
    )
    omega_cl: float = _p(
        0.35, "SD of log", "between-patient CV of DOAC levels 25-81 % (Toorop 2022 JTH 20:92; FACTS §6.3); dabigatran CL CV ~50 % after renal adjustment (Chin 2014)"
    )
    omega_v: float = _p(0.20, "SD of log", "assumption: smaller than CL variability (peak CV 25-69 % vs trough 48-81 %, Toorop 2022)")
    exposure_per_year_of_age: float = _p(
        0.0, "1/y (log exposure)", "0: age acts through Cockcroft-Gault CrCl only (rivaroxaban, dabigatran; EHRA 2021)"
    )
    exposure_weight_exponent: float = _p(
        0.0, "1", "0: no weight effect beyond Cockcroft-Gault (rivaroxaban, dabigatran: EHRA 2021 notes no dose change by weight)"
    )

    def dose_mg(self, level: int) -> float:
        if level == STANDARD:
            return self.dose_standard_mg
        if level == REDUCED:
            return self.dose_reduced_mg
        return 0.0


_PK_FIT_NOTE = (
    "chosen so the typical patient (CrCl 70 mL/min) lies near the geometric middle of the EHRA 2021 "
    "Table 11 AF peak/trough ranges with Tmax ~3 h (Table 4); checked in tests/models/test_doac.py"
)

_LABEL = "EU SmPC AF dosing (FACTS §6.3)"


@dataclass(frozen=True)
class ApixabanPK(DrugPK):
    """Apixaban 5 / 2.5 mg bid."""

    dose_standard_mg: float = _p(5.0, "mg", _LABEL)
    dose_reduced_mg: float = _p(2.5, "mg", _LABEL)
    doses_per_day: int = _p(2, "1/day", _LABEL)
    cl_f_l_per_h: float = _p(3.3, "L/h", _PK_FIT_NOTE)
    v_f_l: float = _p(50.0, "L", _PK_FIT_NOTE + "; t1/2 10.5 h vs 12 h in EHRA Table 4")
    ka_per_h: float = _p(0.6, "1/h", _PK_FIT_NOTE + " (Tmax 3 h)")
    renal_fraction: float = _p(0.27, "1", "EHRA 2021 Table 4: 27 % renal clearance of absorbed dose")
    exposure_per_year_of_age: float = _p(
        float(np.log(1.157) / 15.0), "1/y (log exposure)",
        "FDA clinical-pharmacology review of the apixaban AF population-PK analysis (quoted on forum.bebac.at): age "
        "acts on non-renal CL/F, an 80-y patient has +15.7 % and a 50-y patient -13.4 % steady-state exposure vs 65 y "
        "(log-linear through +15.7 % at 80 gives -13.6 % at 50)",
    )
    exposure_weight_exponent: float = _p(
        0.65, "1", "Eliquis SmPC 5.2 [U, recalled]: body weight <= 50 kg ~30 % higher, >= 120 kg ~30 % lower exposure "
        "than 65-85 kg; exposure = (weight / 75 kg)^-0.65 gives +30 % at 50 kg and -26 % at 120 kg",
    )


@dataclass(frozen=True)
class RivaroxabanPK(DrugPK):
    """Rivaroxaban 20 / 15 mg od (with food)."""

    dose_standard_mg: float = _p(20.0, "mg", _LABEL)
    dose_reduced_mg: float = _p(15.0, "mg", _LABEL)
    doses_per_day: int = _p(1, "1/day", _LABEL)
    cl_f_l_per_h: float = _p(6.4, "L/h", _PK_FIT_NOTE)
    v_f_l: float = _p(75.0, "L", _PK_FIT_NOTE + "; t1/2 8.1 h vs 8.3 h at CrCl > 80 (CJASN 2016 Table 1)")
    ka_per_h: float = _p(1.0, "1/h", _PK_FIT_NOTE + " (Tmax 2-4 h)")
    renal_fraction: float = _p(0.35, "1", "EHRA 2021 Table 4: 35 % renal clearance of absorbed dose")


@dataclass(frozen=True)
class DabigatranPK(DrugPK):
    """Dabigatran etexilate 150 / 110 mg bid (bioavailability 3-7 % folded into CL/F, V/F)."""

    dose_standard_mg: float = _p(150.0, "mg", _LABEL)
    dose_reduced_mg: float = _p(110.0, "mg", _LABEL)
    doses_per_day: int = _p(2, "1/day", _LABEL)
    cl_f_l_per_h: float = _p(100.0, "L/h", _PK_FIT_NOTE)
    v_f_l: float = _p(1600.0, "L", _PK_FIT_NOTE + "; t1/2 11.1 h vs 12-17 h in EHRA Table 4")
    ka_per_h: float = _p(0.7, "1/h", _PK_FIT_NOTE + " (Tmax 3 h)")
    renal_fraction: float = _p(0.80, "1", "EHRA 2021 Table 4: 80 % renal clearance of absorbed dose")


PK_APIXABAN = ApixabanPK()
PK_RIVAROXABAN = RivaroxabanPK()
PK_DABIGATRAN = DabigatranPK()
#: PK of the three DOACs, indexed by drug code.
PK_PARAMETERS: tuple[DrugPK, ...] = (PK_APIXABAN, PK_RIVAROXABAN, PK_DABIGATRAN)

#: Reference age [y] and weight [kg] of the non-renal exposure covariates (``DrugPK.exposure_*``).
PK_REFERENCE_AGE_Y = 65.0
PK_REFERENCE_WEIGHT_KG = 75.0


def covariate_cl_multiplier(pk: DrugPK, age_y, weight_kg) -> np.ndarray:
    """Multiplier on CL/F from age and weight (exposure = 1 / multiplier): 1 for the 65-y, 75-kg patient."""
    age = np.asarray(age_y, dtype=np.float64)
    wt = np.asarray(weight_kg, dtype=np.float64)
    log_exposure = pk.exposure_per_year_of_age * (age - PK_REFERENCE_AGE_Y) - pk.exposure_weight_exponent * np.log(
        wt / PK_REFERENCE_WEIGHT_KG)
    return np.exp(-log_exposure)


def clearance_l_per_h(pk: DrugPK, crcl_ml_per_min, cl_multiplier=1.0, auc_factor=1.0) -> np.ndarray:
    """Apparent clearance [L/h]: non-renal part plus a renal part proportional to CrCl."""
    crcl = np.asarray(crcl_ml_per_min, dtype=np.float64)
    if np.any(~np.isfinite(crcl)) or np.any(crcl < 0):
        raise ValueError(f"crcl_ml_per_min must be finite and >= 0, got {crcl.ravel()[:3].tolist()}")
    renal = pk.renal_fraction * crcl / pk.crcl_ref_ml_per_min
    return pk.cl_f_l_per_h * np.asarray(cl_multiplier) * (1.0 - pk.renal_fraction + renal) / np.asarray(auc_factor)


def half_life_h(pk: DrugPK, crcl_ml_per_min, cl_multiplier=1.0, v_multiplier=1.0) -> np.ndarray:
    """Elimination half-life [h] = ln 2 V / CL at the given creatinine clearance."""
    cl = clearance_l_per_h(pk, crcl_ml_per_min, cl_multiplier)
    return np.log(2.0) * pk.v_f_l * np.asarray(v_multiplier) / cl


def reference_average_concentration_ng_per_ml(pk: DrugPK) -> float:
    """Typical steady-state average concentration at the standard dose and CrCl_ref [ng/mL]."""
    daily_mg = pk.dose_standard_mg * pk.doses_per_day
    return daily_mg / (pk.cl_f_l_per_h * HOURS_PER_DAY) * NG_PER_ML_PER_MG_PER_L


#: below this relative gap between ka and k, :func:`steady_state_profile` uses the closed-form
#: limit ka = k (the Bateman function's 0/0); the gap changes the profile by < 1e-9 relative
_KA_EQUALS_K_RTOL = 1e-7


def steady_state_profile(
    pk: DrugPK, dose_mg: float, crcl_ml_per_min: float, cl_multiplier: float = 1.0, v_multiplier: float = 1.0,
    n_grid: int = 2401,
) -> dict[str, float]:
    """Closed-form steady state of repeated dosing: peak, trough [ng/mL], tmax [h], t1/2 [h]."""
    for name, value in (("dose_mg", dose_mg), ("cl_multiplier", cl_multiplier), ("v_multiplier", v_multiplier)):
        if not np.isscalar(value) or isinstance(value, bool) or not value > 0 or not np.isfinite(value):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    if not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
        raise ValueError(f"n_grid must be an integer >= 2, got {n_grid!r}")
    tau = HOURS_PER_DAY / pk.doses_per_day
    cl = float(clearance_l_per_h(pk, crcl_ml_per_min, cl_multiplier))
    if not cl > 0:
        raise ValueError(f"clearance at crcl_ml_per_min={crcl_ml_per_min!r} is {cl} L/h; a steady state needs > 0")
    v = pk.v_f_l * v_multiplier
    k, ka = cl / v, pk.ka_per_h
    t = np.linspace(0.0, tau, n_grid)
    r_k = np.exp(-k * tau)
    if abs(ka - k) <= _KA_EQUALS_K_RTOL * ka:
        # the limit ka -> k of the Bateman sum: D k / V e^(-k t) (t / (1 - r) + tau r / (1 - r)^2)
        c = dose_mg * k / v * np.exp(-k * t) * (t / (1.0 - r_k) + tau * r_k / (1.0 - r_k) ** 2) * NG_PER_ML_PER_MG_PER_L
    else:
        c = dose_mg * ka / (v * (ka - k)) * (
            np.exp(-k * t) / (1.0 - r_k) - np.exp(-ka * t) / (1.0 - np.exp(-ka * tau))
        ) * NG_PER_ML_PER_MG_PER_L
    return {
        "peak_ng_per_ml": float(c.max()),
        "trough_ng_per_ml": float(c[-1]),
        "tmax_h": float(t[int(np.argmax(c))]),
        "half_life_h": float(np.log(2.0) / k),
        "average_ng_per_ml": float(dose_mg / (cl * tau) * NG_PER_ML_PER_MG_PER_L),
    }


# ------------------------------------------------------------------- event model
@dataclass(frozen=True)
class EventParameters:
    """Literature constants of the clinical-event model (none is fitted to the trials)."""

    warfarin_stroke_rr_vs_none: float = _p(
        0.36, "1", "Hart, Pearce, Aguilar 2007 Ann Intern Med 146:857: adjusted-dose warfarin reduced stroke 64 % vs control"
    )
    warfarin_reference_ttr: float = _p(
        0.60, "1", "assumption: typical TTR of the warfarin-vs-control trials pooled by Hart 2007 (not reported there)"
    )
    stroke_rr_inr_below_range: float = _p(7.6, "1", "Nelson 2015 Int J Clin Pharm 37:53: ischaemic stroke RR 7.6 in INR < 2 periods vs 2-3")
    stroke_rr_inr_above_range: float = _p(1.0, "1", "assumption: INR > 3 not protective-deficient (Nelson 2015 reports no excess)")
    bleed_rr_inr_below_range: float = _p(2.6, "1", "Nelson 2015: major bleeding RR 2.6 in INR < 2 periods vs 2-3")
    bleed_rr_inr_above_range: float = _p(1.5, "1", "Nelson 2015: major bleeding RR 1.5 in INR > 3 periods vs 2-3")
    fraction_out_of_range_below: float = _p(
        19.0 / 33.0, "1", "CoagClinic NVAF cohort (PMC4451756): INR < 2 for 19 % and > 3 for 14 % of time (FACTS §6.4)"
    )
    warfarin_bleed_rr_vs_none: float = _p(
        2.0, "1", "UNCONFIRMED: warfarin roughly doubles major/intracranial bleeding vs no antithrombotic (Hart 2007); used only off anticoagulation"
    )
    warfarin_effect_half_life_days: float = _p(
        2.5, "day", "assumption: prothrombin (factor II) half-life ~60 h sets INR onset/offset"
    )
    ich_share_of_major_bleeding: float = _p(
        87.0 / 397.0, "1", "RE-LY warfarin arm, 87 ICH of 397 major bleeds (Connolly 2009; FACTS §6.1)"
    )
    gi_share_of_major_bleeding: float = _p(
        1.02 / 3.36, "1", "RE-LY warfarin arm, major GI 1.02 of major 3.36 %/yr (FACTS §6.1 [S2])"
    )
    doac_ich_share_ratio: float = _p(
        0.49 / 0.86, "1", "Ruff 2014 Lancet 383:955: haemorrhagic stroke RR 0.49 (FACTS §6.1 [S17]) over major bleeding RR 0.86 (UNCONFIRMED)"
    )
    doac_gi_share_ratio: float = _p(
        1.25 / 0.86, "1", "Ruff 2014: GI bleeding RR 1.25 (FACTS §6.1 [S17]) over major bleeding RR 0.86 (UNCONFIRMED)"
    )
    haemorrhagic_stroke_share_of_ich: float = _p(
        (0.38 + 0.10 + 0.12) / (0.74 + 0.30 + 0.23), "1", "RE-LY, all arms: haemorrhagic stroke 0.38/0.10/0.12 vs ICH 0.74/0.30/0.23 %/yr (FACTS §6.1)"
    )
    ischaemic_stroke_case_fatality_off: float = _p(0.15, "1", "Hylek 2003 NEJM 349:1019: 30-day mortality 15 % with INR < 1.5 (FACTS §6.4)")
    ischaemic_stroke_fatality_or_anticoagulated: float = _p(
        0.64, "1", "Fang 2012 Stroke 43:1795: warfarin vs none, 30-day death after ischaemic stroke OR 0.64 (applied to DOACs too: assumption)"
    )
    ich_case_fatality_off: float = _p(
        0.404, "1", "van Asch 2010 Lancet Neurol 9:167: 1-month case fatality of ICH 40.4 % (UNCONFIRMED)"
    )
    ich_fatality_or_anticoagulated: float = _p(1.62, "1", "Fang 2012: warfarin vs none, 30-day death after ICH OR 1.62 (FACTS §6.4)")
    extracranial_bleed_case_fatality: float = _p(
        0.03, "1", "assumption (UNCONFIRMED): fatal bleeding 0.2-0.5 %/yr in ROCKET AF, mostly intracranial"
    )
    mi_case_fatality: float = _p(0.10, "1", "assumption (UNCONFIRMED): 30-day mortality of acute MI in the elderly ~10 %")
    mi_rate_pct_per_year: float = _p(
        0.64, "%/yr", "RE-LY warfarin arm, re-adjudicated MI (Hohnloser 2012 Circulation 125:669; FACTS §6.1); RE-LY MI is therefore not a validation target"
    )
    mi_hr_dabigatran: float = _p(1.28, "1", "Hohnloser 2012: MI HR 1.29 (D110) / 1.27 (D150) vs warfarin")
    hold_days_after_ich: int = _p(56, "day", "Pennlert 2017 Stroke 48:314: resumption 7-8 weeks after ICH balances risks (UNCONFIRMED)")
    hold_days_after_extracranial_bleed: int = _p(7, "day", "Qureshi 2014 Am J Cardiol 113:662: resumption ~7 days after GI bleeding (UNCONFIRMED)")
    hold_days_after_ischaemic_stroke: int = _p(6, "day", "EHRA 2021 practical guide '1-3-6-12 day' rule, moderate stroke")
    gompertz_mortality_at_65_male: float = _p(
        0.0155, "1/yr", "approximate US period life table 2010, age 65 (UNCONFIRMED)"
    )
    gompertz_mortality_at_65_female: float = _p(
        0.0105, "1/yr", "approximate US period life table 2010, age 65 (UNCONFIRMED)"
    )
    gompertz_slope_per_year: float = _p(0.09, "1/yr", "Gompertz law, mortality doubling ~7.7 y at 65-85 (life tables; UNCONFIRMED)")
    af_mortality_or_male: float = _p(1.5, "1", "Benjamin 1998 Circulation 98:946 (Framingham): AF OR for death 1.5 in men")
    af_mortality_or_female: float = _p(1.9, "1", "Benjamin 1998: AF OR for death 1.9 in women")
    wrf_threshold_fraction: float = _p(0.80, "1", "worsening renal function = > 20 % fall in CrCl (AHJ 2018;198:169, RE-LY; FACTS §6.5)")
    wrf_death_hr: float = _p(2.17, "1", "AHJ 2018;198:169 (RE-LY): WRF HR for death 2.17")
    wrf_major_bleeding_hr: float = _p(1.43, "1", "AHJ 2018;198:169 (RE-LY): WRF HR for major bleeding 1.43")
    crcl_slope_warfarin_ml_per_min_per_year: float = _p(
        -3.68 / 2.5, "mL/min/yr", "Boehm 2015 JACC 65:2481: -3.68 mL/min over ~30 months on warfarin"
    )
    crcl_slope_doac_ml_per_min_per_year: float = _p(
        -2.5 / 2.5, "mL/min/yr", "Boehm 2015: -2.57 (D110) / -2.46 (D150) mL/min over ~30 months (applied to all DOACs and to no OAC)"
    )
    aki_rate_per_year: float = _p(0.02, "1/yr", "assumption (UNCONFIRMED): hospital AKI in elderly anticoagulated AF ~2 %/yr")
    aki_duration_days: int = _p(14, "day", "assumption: KDIGO AKI resolves within 7-14 days when it recovers")
    aki_crcl_factor: float = _p(0.5, "1", "assumption: KDIGO stage 1-2 AKI, creatinine 1.5-2.9 x baseline")
    crcl_floor_ml_per_min: float = _p(5.0, "mL/min", "numerical floor (end-stage kidney disease)")
    verapamil_dabigatran_auc_factor: float = _p(1.5, "1", "EU Pradaxa SmPC: verapamil raises dabigatran AUC ~50 % (FACTS §6.3)")
    covariate_reference_age_y: float = _p(
        70.0, "y", "choice: reference age of the exposure-independent age terms (about the trials' mean age, 70-72 y)"
    )
    covariate_reference_crcl_ml_per_min: float = _p(
        70.0, "mL/min", "choice: reference CrCl of the renal terms (the PK reference, ROCKET AF median CrCl 67)"
    )
    covariate_crcl_floor_ml_per_min: float = _p(
        15.0, "mL/min", "choice: the renal terms stop growing below CrCl 15 (end-stage kidney disease; no trial data below 25)"
    )


EVENT_PARAMETERS = EventParameters()


@dataclass(frozen=True)
class FittedParameters:
    """The only parameters fitted to the trials (``python -m hemosim.calibration.doac_trials --fit``).

    Targets: each trial's warfarin-arm stroke/SE and major-bleeding rates (the scales),
    each drug's DOAC-arm stroke/SE and major-bleeding rates (EC50 and coefficient A; the two
    dabigatran arms are fitted jointly through their pooled events, so the 110 vs 150 mg
    stroke split is a model result), the RE-LY D150 / D110 major-bleeding ratio (the global
    exposure exponent gamma) and the pooled RE-LY + ARISTOTLE warfarin-arm death rate
    (background mortality scale; every DOAC-arm death rate and death HR is a model result).
    The five age / renal terms (issue 15) are fitted to five published subgroup *ratios*
    (``doac_targets.FITTED_SUBGROUP_RATIOS``: RE-LY bleeding >= 75 / < 75 on warfarin and on
    dabigatran, ARISTOTLE bleeding CrCl <= 50 / > 80 on apixaban and on warfarin, ARISTOTLE
    stroke/SE CrCl <= 50 / > 80); the subgroup rates themselves and every other subgroup ratio
    are validation.
    """

    stroke_scale_rely: float = _p(1.0, "1", "fitted: RE-LY warfarin stroke/SE 1.69 %/yr")
    stroke_scale_rocket: float = _p(1.0, "1", "fitted: ROCKET AF warfarin stroke/SE 2.2 /100 pt-yr (on treatment)")
    stroke_scale_aristotle: float = _p(1.0, "1", "fitted: ARISTOTLE warfarin stroke/SE 1.60 %/yr")
    bleed_scale_rely: float = _p(1.0, "1", "fitted: RE-LY warfarin major bleeding 3.36 %/yr")
    bleed_scale_rocket: float = _p(1.0, "1", "fitted: ROCKET AF warfarin major bleeding 3.4 /100 pt-yr")
    bleed_scale_aristotle: float = _p(1.0, "1", "fitted: ARISTOTLE warfarin major bleeding 3.09 %/yr")
    ec50_rel_apixaban: float = _p(0.3, "1 (C/C_ref)", "fitted: ARISTOTLE apixaban stroke/SE 1.27 %/yr")
    ec50_rel_rivaroxaban: float = _p(0.3, "1 (C/C_ref)", "fitted: ROCKET AF rivaroxaban stroke/SE 1.7 /100 pt-yr")
    ec50_rel_dabigatran: float = _p(0.3, "1 (C/C_ref)", "fitted: RE-LY D110 + D150 pooled stroke/SE events")
    bleed_coefficient_apixaban: float = _p(1.0, "1", "fitted: ARISTOTLE apixaban major bleeding 2.13 %/yr")
    bleed_coefficient_rivaroxaban: float = _p(1.0, "1", "fitted: ROCKET AF rivaroxaban major bleeding 3.6 /100 pt-yr")
    bleed_coefficient_dabigatran: float = _p(1.0, "1", "fitted: RE-LY D110 + D150 pooled major bleeds")
    bleed_exposure_exponent: float = _p(
        0.6, "1", "fitted: RE-LY major-bleeding rate ratio D150 / D110 = 3.11 / 2.71 (the only dose-ranging arm pair)"
    )
    background_mortality_scale: float = _p(
        1.0, "1", "fitted: RE-LY + ARISTOTLE warfarin-arm all-cause death (4.13, 3.94 %/yr) pooled; absorbs the "
        "healthy-participant effect of trials vs the life table x AF excess"
    )
    bleed_age_slope_per_decade: float = _p(
        0.3, "1/decade (log hazard)", "fitted: RE-LY warfarin major bleeding age >= 75 / < 75 = 4.37 / 3.04 %/yr "
        "(Eikelboom 2011 Circulation 123:2363); acts on every patient's bleeding hazard, on or off drug"
    )
    dabigatran_bleed_age_slope_per_decade: float = _p(
        0.3, "1/decade (log)", "fitted: RE-LY dabigatran (110 + 150 pooled) major bleeding age >= 75 / < 75 = "
        "(4.43 + 5.10) / (1.89 + 2.12) %/yr (Eikelboom 2011: treatment-by-age interaction P < 0.001, extracranial); "
        "acts on the dabigatran-attributable part only"
    )
    bleed_renal_exponent: float = _p(
        0.5, "1", "fitted: ARISTOTLE apixaban major bleeding CrCl <= 50 / > 80 = 3.21 / 1.46 %/yr (Hohnloser 2012 "
        "Eur Heart J 33:2821 [U: per-arm rates recalled; their means 4.8 / 1.65 %/yr are in the source]); factor "
        "(70 / CrCl)^x on every patient's bleeding hazard, on or off drug"
    )
    warfarin_bleed_renal_exponent: float = _p(
        0.5, "1", "fitted: ARISTOTLE warfarin major bleeding CrCl <= 50 / > 80 = 6.44 / 1.84 %/yr (Hohnloser 2012 "
        "[U as above]; apixaban-vs-warfarin HR 0.50 (0.38-0.66) at <= 50, interaction P = 0.005, verified); "
        "acts on the warfarin-attributable part only"
    )
    stroke_renal_exponent: float = _p(
        0.3, "1", "fitted: ARISTOTLE stroke/SE (both arms) CrCl <= 50 / > 80 = 2.39 / 1.05 %/yr (Hohnloser 2012, "
        "as summarised by Crawford 2013 Clin Cardiol Alert); factor (70 / CrCl)^x on the ischaemic-stroke hazard"
    )

    def stroke_scale(self, population: str) -> float:
        return self._scale("stroke", population)

    def bleed_scale(self, population: str) -> float:
        return self._scale("bleed", population)

    def _scale(self, kind: str, population: str) -> float:
        names = ("rely", "rocket", "aristotle")
        if population in names:
            return float(getattr(self, f"{kind}_scale_{population}"))
        # Any other population (general practice): geometric mean of the three trials.
        return float(np.exp(np.mean([np.log(getattr(self, f"{kind}_scale_{n}")) for n in names])))

    def ec50(self) -> np.ndarray:
        return np.array([self.ec50_rel_apixaban, self.ec50_rel_rivaroxaban, self.ec50_rel_dabigatran])

    def bleed_coefficient(self) -> np.ndarray:
        return np.array([self.bleed_coefficient_apixaban, self.bleed_coefficient_rivaroxaban,
                         self.bleed_coefficient_dabigatran])


# Values printed by ``python -m hemosim.calibration.doac_trials --fit`` (see docs/models/doac.md).
FITTED_PARAMETERS = FittedParameters(
    stroke_scale_rely=0.79786,
    stroke_scale_rocket=0.609712,
    stroke_scale_aristotle=0.81603,
    bleed_scale_rely=1.15032,
    bleed_scale_rocket=0.857576,
    bleed_scale_aristotle=1.14904,
    ec50_rel_apixaban=0.407889,
    ec50_rel_rivaroxaban=0.372944,
    ec50_rel_dabigatran=0.345211,
    bleed_coefficient_apixaban=1.13362,
    bleed_coefficient_rivaroxaban=2.89877,
    bleed_coefficient_dabigatran=1.15163,
    bleed_exposure_exponent=0.726572,
    background_mortality_scale=0.5941,
    bleed_age_slope_per_decade=0.0605307,
    dabigatran_bleed_age_slope_per_decade=0.736987,
    bleed_renal_exponent=0.389785,
    warfarin_bleed_renal_exponent=1.02519,
    stroke_renal_exponent=0.663972,
)


def parameter_table() -> list[dict[str, Any]]:
    """Every parameter with value, unit and source (for the model card and the metadata test)."""
    rows: list[dict[str, Any]] = []
    for obj, prefix in ((EVENT_PARAMETERS, "event"), (FITTED_PARAMETERS, "fitted")):
        for f in fields(obj):
            rows.append({"name": f"{prefix}.{f.name}", "value": getattr(obj, f.name), "unit": f.metadata.get("unit"),
                         "source": f.metadata.get("source")})
    for name, pk in zip(DRUG_NAMES[:3], PK_PARAMETERS):
        for f in fields(pk):
            rows.append({"name": f"pk.{name}.{f.name}", "value": getattr(pk, f.name), "unit": f.metadata.get("unit"),
                         "source": f.metadata.get("source")})
    return rows


# ------------------------------------------------------------------- batched state
@dataclass
class DoacState:
    """Per-patient state (arrays with the patient on axis 0)."""

    day: np.ndarray  # int64, days since the patient's start
    alive: np.ndarray
    gut_mg: np.ndarray  # (N, 3) per DOAC
    central_mg: np.ndarray  # (N, 3)
    c_avg_ng_per_ml: np.ndarray  # (N, 3) previous day's mean concentration
    c_trough_ng_per_ml: np.ndarray  # (N, 3) concentration at the end of the previous day
    warfarin_effect: np.ndarray  # w in [0, 1]
    crcl_trend_ml_per_min: np.ndarray  # CrCl without acute kidney injury
    crcl_baseline_ml_per_min: np.ndarray
    aki_days_left: np.ndarray
    hold_days_left: np.ndarray
    cumulative_stop_hazard: np.ndarray
    stopped: np.ndarray
    prior_stroke: np.ndarray
    bleeding_history: np.ndarray
    vascular_disease: np.ndarray
    first_day: np.ndarray  # (N, K) int64, -1 if never
    event_count: np.ndarray  # (N, K) int64
    compensator: np.ndarray  # (N, K) expected first events (integrated hazard while at risk)
    hazard_integral: np.ndarray  # (N, K) expected events of every order (integrated hazard while alive)
    days_followed: np.ndarray  # days alive under observation

    def crcl_ml_per_min(self, eparams: EventParameters = EVENT_PARAMETERS) -> np.ndarray:
        return self.crcl_trend_ml_per_min * np.where(self.aki_days_left > 0, eparams.aki_crcl_factor, 1.0)


def initial_state(cohort) -> DoacState:
    """Start state of the patients of an :class:`hemosim.patients.af.AFCohort`."""
    n = len(cohort)
    k = len(ENDPOINTS)
    return DoacState(
        day=np.zeros(n, dtype=np.int64),
        alive=np.ones(n, dtype=bool),
        gut_mg=np.zeros((n, 3)),
        central_mg=np.zeros((n, 3)),
        c_avg_ng_per_ml=np.zeros((n, 3)),
        c_trough_ng_per_ml=np.zeros((n, 3)),
        warfarin_effect=np.zeros(n),
        crcl_trend_ml_per_min=cohort.crcl_ml_per_min.astype(np.float64).copy(),
        crcl_baseline_ml_per_min=cohort.crcl_ml_per_min.astype(np.float64).copy(),
        aki_days_left=np.zeros(n, dtype=np.int64),
        hold_days_left=np.zeros(n, dtype=np.int64),
        cumulative_stop_hazard=np.zeros(n),
        stopped=np.zeros(n, dtype=bool),
        prior_stroke=cohort.prior_stroke.astype(bool).copy(),
        bleeding_history=cohort.bleeding_history.astype(bool).copy(),
        vascular_disease=cohort.vascular_disease.astype(bool).copy(),
        first_day=np.full((n, k), -1, dtype=np.int64),
        event_count=np.zeros((n, k), dtype=np.int64),
        compensator=np.zeros((n, k)),
        hazard_integral=np.zeros((n, k)),
        days_followed=np.zeros(n, dtype=np.int64),
    )


def reset_rows(state: DoacState, cohort, mask: np.ndarray) -> None:
    """Re-initialise the masked rows of ``state`` in place for the patients now in those rows of ``cohort``.

    For environments with per-patient resets: ``cohort`` already holds the new patients'
    covariates in the masked rows; the other rows are untouched.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != state.alive.shape:
        raise ValueError(f"mask must have shape {state.alive.shape}, got {mask.shape}")
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return
    fresh = initial_state(cohort.subset(idx))
    for f in fields(state):
        getattr(state, f.name)[idx] = getattr(fresh, f.name)


# Random streams of the daily model (the cohort uses its own, see patients/af.py).
_S_DOSE = 101
_S_EVENT = 102
_S_EVENT_TYPE = 103
_S_EVENT_SUBTYPE = 104
_S_FATAL = 105

_FRIBERG = CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR / 100.0
_PISTERS = HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR / 100.0


def _as_drug_array(x, n: int, name: str, allowed: range) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integer codes in {list(allowed)}, got dtype {arr.dtype}")
    arr = np.broadcast_to(arr.astype(np.int64), (n,))
    if np.any((arr < allowed.start) | (arr >= allowed.stop)):
        bad = arr[(arr < allowed.start) | (arr >= allowed.stop)]
        raise ValueError(f"{name} must be in {list(allowed)}, got {bad[:3].tolist()}")
    return arr


def _warfarin_multiplier(ttr: np.ndarray, rr_low: float, rr_high: float, f_low: float) -> np.ndarray:
    return ttr + (1.0 - ttr) * (f_low * rr_low + (1.0 - f_low) * rr_high)


# scalar constants of the day loop, packed for the compiled kernel (float64 / int64 vectors)
(_C_AKI_FACTOR, _C_W_DECAY, _C_STROKE_SCALE, _C_BLEED_SCALE, _C_R_WB, _C_GAMMA, _C_P_AKI, _C_MI_DAY, _C_ICH_W,
 _C_GI_W, _C_HS_SHARE, _C_CF_ISCH_ON, _C_CF_ISCH_OFF, _C_CF_ICH_ON, _C_CF_ICH_OFF, _C_CF_EXTRA, _C_CF_MI,
 _C_REF_AGE, _C_REF_CRCL, _C_COV_CRCL_FLOOR, _C_STROKE_RENAL, _C_WRF_FRACTION, _C_DAB_AGE, _C_WARF_RENAL,
 _C_BLEED_AGE, _C_BLEED_RENAL, _C_WRF_MB_HR, _C_MI_HR_DAB, _C_GOMPERTZ_SLOPE, _C_WRF_DEATH_HR, _C_BG_SCALE,
 _C_ICH_RATIO, _C_GI_RATIO, _C_CRCL_FLOOR) = range(34)
_NC = 34
(_I_HOLD_ISCH, _I_HOLD_ICH, _I_HOLD_EXTRA, _I_AKI_DAYS) = range(4)
_NI = 4
(_E_STROKE, _E_ISCH, _E_MB, _E_ICH, _E_GI, _E_MI, _E_DEATH, _E_HS, _E_AKI) = (
    _E["stroke_se"], _E["ischaemic_stroke_se"], _E["major_bleeding"], _E["ich"], _E["gi_bleeding"], _E["mi"],
    _E["death"], _E["haemorrhagic_stroke"], _E["aki"])
_N_END = len(ENDPOINTS)


@njit(cache=True, inline="always")
def _record(i, e, day, event_count, first_day):  # pragma: no cover - jitted
    event_count[i, e] += 1
    if first_day[i, e] < 0:
        first_day[i, e] = day


@njit(cache=True)
def _days_range(lo, hi, n_days, cs, ci, ka, fe, crcl_ref, c_ref, ec50, bleed_coef, friberg, pisters,
                keys, age_y, weight_kg, female, adherence, persistence_threshold, stroke_w_full, bleed_w_full,
                gompertz65, af_excess, static_cha, static_hb, dose_mg, bid, want_warf, slope_per_day, stop_h,
                cl_fixed, v, onehot,
                day_a, alive_a, gut_a, cen_a, c_avg_a, c_trough_a, w_a, trend_a, crcl_base_a, aki_a, hold_a,
                cum_stop_a, stopped_a, prior_stroke_a, bleeding_a, vascular_a, first_day, event_count, compensator,
                hazard_integral, days_followed):  # pragma: no cover - jitted
    """``n_days[i]`` days of each row ``i`` of ``lo:hi`` (see :func:`advance_days`). Each row reads and writes
    only its own row and draws from its own key (``rng_compiled``, counter = the patient's day),
    so any split of the rows gives the same numbers. The arithmetic is written in the order of
    the array expressions it replaced (NumPy left-to-right; sums over the three DOACs and the
    five hazards in index order)."""
    half = 12.0
    crel = np.empty(3)
    comp = np.empty(_N_END)
    haz = np.empty(5)
    eka_d = np.empty(3)  # absorption decay over 12 h: the same for every patient and day
    for d in range(3):
        eka_d[d] = math.exp(-ka[d] * half)
    for i in range(lo, hi):
        key = keys[i]
        for _ in range(n_days[i]):
            alive = alive_a[i]
            day = day_a[i]
            age = age_y[i] + day / DAYS_PER_YEAR
            crcl = trend_a[i] * (cs[_C_AKI_FACTOR] if aki_a[i] > 0 else 1.0)
            active = alive and not stopped_a[i] and hold_a[i] <= 0
            # ---- doses and exact one-compartment PK over two 12-h intervals
            take_am = 1.0 if (rng_compiled.uniform(key, _S_DOSE, 2 * day) < adherence[i] and active) else 0.0
            take_pm = 1.0 if (rng_compiled.uniform(key, _S_DOSE, 2 * day + 1) < adherence[i] and active
                              and bid[i]) else 0.0
            for d in range(3):
                oh = 1.0 if onehot[i, d] else 0.0
                if gut_a[i, d] == 0.0 and cen_a[i, d] == 0.0 and oh * (dose_mg[i] * take_am) == 0.0 and \
                        oh * (dose_mg[i] * take_pm) == 0.0:
                    # a drug never given (or fully washed out): every term below is +0.0, skip the exp
                    c_avg_a[i, d] = 0.0
                    c_trough_a[i, d] = 0.0
                    crel[d] = 0.0
                    continue
                kel = cl_fixed[i, d] * (1.0 - fe[d] + fe[d] * crcl / crcl_ref[d]) / v[i, d]
                k_max = 0.9 * ka[d]
                if kel > k_max:
                    kel = k_max
                ek = math.exp(-kel * half)
                eka = eka_d[d]
                coef = ka[d] / (ka[d] - kel)
                gut = gut_a[i, d] + oh * (dose_mg[i] * take_am)
                cen = cen_a[i, d]
                auc = cen * (1.0 - ek) / kel + gut * coef * ((1.0 - ek) / kel - (1.0 - eka) / ka[d])
                cen = cen * ek + gut * coef * (ek - eka)
                gut = gut * eka + oh * (dose_mg[i] * take_pm)
                auc = auc + cen * (1.0 - ek) / kel + gut * coef * ((1.0 - ek) / kel - (1.0 - eka) / ka[d])
                cen = cen * ek + gut * coef * (ek - eka)
                gut = gut * eka
                gut_a[i, d] = gut
                cen_a[i, d] = cen
                c_avg = auc / (HOURS_PER_DAY * v[i, d]) * NG_PER_ML_PER_MG_PER_L
                c_avg_a[i, d] = c_avg
                c_trough_a[i, d] = cen / v[i, d] * NG_PER_ML_PER_MG_PER_L
                crel[d] = c_avg / c_ref[d]
            # ---- warfarin effect (first-order onset / offset)
            target_w = 1.0 if (want_warf[i] and active) else 0.0
            w = target_w + (w_a[i] - target_w) * cs[_C_W_DECAY]
            w_a[i] = w
            # ---- hazards
            age75 = age >= 75.0
            cha = (static_cha[i] + 2 * int(age75) + int(age >= 65.0 and not age75) + 2 * int(prior_stroke_a[i])
                   + int(vascular_a[i]))
            # HAS-BLED renal item from the current CrCl (Cockcroft-Gault inverted; age clipped to its domain)
            scr = (140.0 - min(age, 139.0)) * weight_kg[i] / (72.0 * crcl) * (0.85 if female[i] else 1.0)
            hb = (static_hb[i] + int(scr >= SCR_ABNORMAL_RENAL_MG_PER_DL) + int(prior_stroke_a[i])
                  + int(bleeding_a[i]) + int(age > 65.0))
            doac_load = crel[0] / ec50[0] + crel[1] / ec50[1] + crel[2] / ec50[2]
            age_dec = (age - cs[_C_REF_AGE]) / 10.0
            log_renal = math.log(cs[_C_REF_CRCL] / max(crcl, cs[_C_COV_CRCL_FLOOR]))
            s_fac = ((1.0 - w * (1.0 - stroke_w_full[i])) / (1.0 + doac_load)
                     * math.exp(cs[_C_STROKE_RENAL] * log_renal))
            h_isch = friberg[min(cha, 9)] / DAYS_PER_YEAR * cs[_C_STROKE_SCALE] * s_fac
            wrf = crcl < cs[_C_WRF_FRACTION] * crcl_base_a[i]
            gamma = cs[_C_GAMMA]
            # 0 ** gamma is +0.0 for gamma > 0: the pow (and the age factor of a zero) are skipped
            ex0 = bleed_coef[0] * (crel[0] ** gamma if crel[0] != 0.0 or gamma <= 0.0 else 0.0)
            ex1 = bleed_coef[1] * (crel[1] ** gamma if crel[1] != 0.0 or gamma <= 0.0 else 0.0)
            ex2 = bleed_coef[2] * (crel[2] ** gamma if crel[2] != 0.0 or gamma <= 0.0 else 0.0)
            if ex2 != 0.0:
                ex2 *= math.exp(cs[_C_DAB_AGE] * age_dec)
            warf_excess = (bleed_w_full[i] - 1.0) * math.exp(cs[_C_WARF_RENAL] * log_renal)
            b_fac = ((1.0 + w * warf_excess) * (1.0 + (ex0 + ex1 + ex2))
                     * math.exp(cs[_C_BLEED_AGE] * age_dec + cs[_C_BLEED_RENAL] * log_renal))
            h_mb = (pisters[min(hb, 5)] / DAYS_PER_YEAR * cs[_C_BLEED_SCALE] / cs[_C_R_WB] * b_fac
                    * (cs[_C_WRF_MB_HR] if wrf else 1.0))
            h_mi = cs[_C_MI_DAY] * (1.0 + (cs[_C_MI_HR_DAB] - 1.0) * min(crel[2], 1.0))
            h_death = (gompertz65[i] * math.exp(cs[_C_GOMPERTZ_SLOPE] * (age - 65.0)) * af_excess[i] / DAYS_PER_YEAR
                       * (cs[_C_WRF_DEATH_HR] if wrf else 1.0) * cs[_C_BG_SCALE])
            h_aki = 0.0 if aki_a[i] > 0 else cs[_C_P_AKI]
            c_sum = crel[0] + crel[1] + crel[2]
            doac_weight = min(max(c_sum, 0.0), 1.0) * (1.0 - w)
            p_ich = cs[_C_ICH_W] * (1.0 - doac_weight + doac_weight * cs[_C_ICH_RATIO])
            p_gi = cs[_C_GI_W] * (1.0 - doac_weight + doac_weight * cs[_C_GI_RATIO])
            haz[0] = h_isch
            haz[1] = h_mb
            haz[2] = h_mi
            haz[3] = h_death
            haz[4] = h_aki
            total = h_isch + h_mb + h_mi + h_death + h_aki
            # ---- compensators (expected first events) and follow-up
            comp[_E_STROKE] = h_isch + h_mb * p_ich * cs[_C_HS_SHARE]
            comp[_E_ISCH] = h_isch
            comp[_E_MB] = h_mb
            comp[_E_ICH] = h_mb * p_ich
            comp[_E_GI] = h_mb * p_gi
            comp[_E_MI] = h_mi
            comp[_E_HS] = h_mb * p_ich * cs[_C_HS_SHARE]
            comp[_E_AKI] = h_aki
            anticoag = w > 0.5 or c_sum > 0.2
            cf_isch = cs[_C_CF_ISCH_ON] if anticoag else cs[_C_CF_ISCH_OFF]
            cf_ich = cs[_C_CF_ICH_ON] if anticoag else cs[_C_CF_ICH_OFF]
            comp[_E_DEATH] = (h_death + h_isch * cf_isch + h_mi * cs[_C_CF_MI]
                              + h_mb * (p_ich * cf_ich + (1.0 - p_ich) * cs[_C_CF_EXTRA]))
            alive_f = 1.0 if alive else 0.0
            for e in range(_N_END):
                at_risk = 1.0 if (alive and first_day[i, e] < 0) else 0.0
                compensator[i, e] += comp[e] * at_risk
                hazard_integral[i, e] += comp[e] * alive_f
            if alive:
                days_followed[i] += 1
            # ---- events
            if alive and rng_compiled.uniform(key, _S_EVENT, day) < -math.expm1(-total):
                u_type = rng_compiled.uniform(key, _S_EVENT_TYPE, day) * total
                etype = 0
                cum = 0.0
                for h in range(5):
                    cum = haz[h] if h == 0 else cum + haz[h]
                    if u_type >= cum:
                        etype += 1
                etype = min(etype, 4)
                u_sub = rng_compiled.uniform(key, _S_EVENT_SUBTYPE, day)
                u_fat = rng_compiled.uniform(key, _S_FATAL, day)
                died = False
                if etype == 0:  # ischaemic stroke / systemic embolism
                    _record(i, _E_ISCH, day, event_count, first_day)
                    _record(i, _E_STROKE, day, event_count, first_day)
                    died = u_fat < (cs[_C_CF_ISCH_ON] if anticoag else cs[_C_CF_ISCH_OFF])
                    prior_stroke_a[i] = True
                    hold_a[i] = max(hold_a[i], ci[_I_HOLD_ISCH])
                elif etype == 1:  # major bleeding, split into ICH (part haemorrhagic stroke), GI, other
                    _record(i, _E_MB, day, event_count, first_day)
                    ich = u_sub < p_ich
                    if ich:
                        _record(i, _E_ICH, day, event_count, first_day)
                    if u_sub < p_ich * cs[_C_HS_SHARE]:
                        _record(i, _E_HS, day, event_count, first_day)
                        _record(i, _E_STROKE, day, event_count, first_day)
                        prior_stroke_a[i] = True
                    if u_sub >= p_ich and u_sub < p_ich + p_gi:
                        _record(i, _E_GI, day, event_count, first_day)
                    if ich:
                        cf = cs[_C_CF_ICH_ON] if anticoag else cs[_C_CF_ICH_OFF]
                    else:
                        cf = cs[_C_CF_EXTRA]
                    died = u_fat < cf
                    bleeding_a[i] = True
                    hold_a[i] = max(hold_a[i], ci[_I_HOLD_ICH] if ich else ci[_I_HOLD_EXTRA])
                elif etype == 2:  # myocardial infarction
                    _record(i, _E_MI, day, event_count, first_day)
                    died = u_fat < cs[_C_CF_MI]
                    vascular_a[i] = True
                elif etype == 3:  # background death
                    died = True
                else:  # acute kidney injury
                    _record(i, _E_AKI, day, event_count, first_day)
                    aki_a[i] = ci[_I_AKI_DAYS]
                if died:
                    _record(i, _E_DEATH, day, event_count, first_day)
                    alive_a[i] = False
            # ---- renal course, holds, persistence (the stop hazard accrues while alive after today's events)
            trend_a[i] = max(trend_a[i] + slope_per_day[i], cs[_C_CRCL_FLOOR])
            aki_a[i] = max(aki_a[i] - 1, 0)
            hold_a[i] = max(hold_a[i] - 1, 0)
            cum_stop_a[i] += stop_h[i] * (1.0 if alive_a[i] else 0.0)
            if cum_stop_a[i] > persistence_threshold[i]:
                stopped_a[i] = True
            day_a[i] = day + 1


@njit(cache=True)
def _days_serial(n_days, cs, ci, ka, fe, crcl_ref, c_ref, ec50, bleed_coef, friberg, pisters, keys, age_y,
                weight_kg, female, adherence, persistence_threshold, stroke_w_full, bleed_w_full, gompertz65,
                af_excess, static_cha, static_hb, dose_mg, bid, want_warf, slope_per_day, stop_h, cl_fixed, v,
                onehot, day_a, alive_a, gut_a, cen_a, c_avg_a, c_trough_a, w_a, trend_a, crcl_base_a, aki_a,
                hold_a, cum_stop_a, stopped_a, prior_stroke_a, bleeding_a, vascular_a, first_day, event_count,
                compensator, hazard_integral, days_followed):  # pragma: no cover - jitted
    """Every row, one thread."""
    _days_range(0, keys.shape[0], n_days, cs, ci, ka, fe, crcl_ref, c_ref, ec50, bleed_coef, friberg, pisters,
                keys, age_y, weight_kg, female, adherence, persistence_threshold, stroke_w_full, bleed_w_full,
                gompertz65, af_excess, static_cha, static_hb, dose_mg, bid, want_warf, slope_per_day, stop_h,
                cl_fixed, v, onehot, day_a, alive_a, gut_a, cen_a, c_avg_a, c_trough_a, w_a, trend_a, crcl_base_a,
                aki_a, hold_a, cum_stop_a, stopped_a, prior_stroke_a, bleeding_a, vascular_a, first_day,
                event_count, compensator, hazard_integral, days_followed)


@njit(cache=True, parallel=True)
def _days_parallel(n_days, cs, ci, ka, fe, crcl_ref, c_ref, ec50, bleed_coef, friberg, pisters, keys, age_y,
                  weight_kg, female, adherence, persistence_threshold, stroke_w_full, bleed_w_full, gompertz65,
                  af_excess, static_cha, static_hb, dose_mg, bid, want_warf, slope_per_day, stop_h, cl_fixed, v,
                  onehot, day_a, alive_a, gut_a, cen_a, c_avg_a, c_trough_a, w_a, trend_a, crcl_base_a, aki_a,
                  hold_a, cum_stop_a, stopped_a, prior_stroke_a, bleeding_a, vascular_a, first_day, event_count,
                  compensator, hazard_integral, days_followed):  # pragma: no cover - jitted
    """Every row, in parallel chunks of rows (thread-count free: rows are independent)."""
    n = keys.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _days_range(c * n // chunks, (c + 1) * n // chunks, n_days, cs, ci, ka, fe, crcl_ref, c_ref, ec50,
                    bleed_coef, friberg, pisters, keys, age_y, weight_kg, female, adherence, persistence_threshold,
                    stroke_w_full, bleed_w_full, gompertz65, af_excess, static_cha, static_hb, dose_mg, bid,
                    want_warf, slope_per_day, stop_h, cl_fixed, v, onehot, day_a, alive_a, gut_a, cen_a, c_avg_a,
                    c_trough_a, w_a, trend_a, crcl_base_a, aki_a, hold_a, cum_stop_a, stopped_a, prior_stroke_a,
                    bleeding_a, vascular_a, first_day, event_count, compensator, hazard_integral, days_followed)


def _odds_to_p(p0: float, odds_ratio: float) -> float:
    """Probability after applying an odds ratio to a baseline probability."""
    o = p0 / (1.0 - p0) * odds_ratio
    return o / (1.0 + o)


def advance_days(
    state: DoacState,
    cohort,
    drug,
    dose_level,
    n_days: int | np.ndarray,
    *,
    fitted: FittedParameters = FITTED_PARAMETERS,
    eparams: EventParameters = EVENT_PARAMETERS,
    pk_params: tuple[DrugPK, ...] = PK_PARAMETERS,
    persistence_hazard_per_day: np.ndarray | None = None,
) -> None:
    """Advance every patient ``n_days`` days in place under ``drug`` / ``dose_level`` codes
    (``n_days``: one positive integer, or one per patient, shape (N,)).

    ``drug``: codes 0-4 (apixaban, rivaroxaban, dabigatran, warfarin, none), scalar or (N,).
    ``dose_level``: 0 standard, 1 reduced, 2 hold. Warfarin ignores the dose level except
    hold (its quality is the patient's TTR). ``persistence_hazard_per_day``: optional (5,)
    daily discontinuation hazard per drug code (0 = persistent).

    The per-patient constants are set up here with NumPy; the day loop is a compiled row
    kernel (:func:`_days_range`) that writes the arrays of ``state`` in place. Each patient
    draws from its own key, so batches of at least
    :data:`hemosim.sim.threads.PARALLEL_MIN_PATIENTS` run in parallel row chunks with results
    bit-identical for any thread count (:mod:`hemosim.sim.threads`).
    """
    n = len(cohort)
    days_given = np.asarray(n_days)
    if (days_given.dtype.kind not in "iu" or days_given.ndim > 1 or (days_given.ndim == 1 and days_given.shape != (n,))
            or np.any(days_given < 1)):
        raise ValueError(f"n_days must be a positive integer or an ({n},) array of them, got {n_days!r}")
    n_days = np.ascontiguousarray(np.broadcast_to(days_given, (n,)), dtype=np.int64)
    drug = _as_drug_array(drug, n, "drug", range(0, 5))
    level = _as_drug_array(dose_level, n, "dose_level", range(0, 3))
    ep = eparams
    doses_std = np.array([pk.dose_standard_mg for pk in pk_params])
    doses_red = np.array([pk.dose_reduced_mg for pk in pk_params])
    per_day = np.array([pk.doses_per_day for pk in pk_params])
    cl_ref = np.array([pk.cl_f_l_per_h for pk in pk_params])
    fe = np.array([pk.renal_fraction for pk in pk_params], dtype=np.float64)
    crcl_ref = np.array([pk.crcl_ref_ml_per_min for pk in pk_params], dtype=np.float64)
    v = np.array([pk.v_f_l for pk in pk_params])[None, :] * cohort.pk_v_multiplier
    ka = np.array([pk.ka_per_h for pk in pk_params], dtype=np.float64)
    c_ref = np.array([reference_average_concentration_ng_per_ml(pk) for pk in pk_params], dtype=np.float64)
    cl_fixed = cl_ref[None, :] * cohort.pk_cl_multiplier / cohort.pk_auc_factor
    pop = cohort.population
    r_wb = ep.warfarin_bleed_rr_vs_none
    f_low = ep.fraction_out_of_range_below
    m_s_ref = float(_warfarin_multiplier(np.asarray(ep.warfarin_reference_ttr), ep.stroke_rr_inr_below_range,
                                         ep.stroke_rr_inr_above_range, f_low))
    r_in = ep.warfarin_stroke_rr_vs_none / m_s_ref
    stroke_w_full = r_in * _warfarin_multiplier(cohort.ttr, ep.stroke_rr_inr_below_range, ep.stroke_rr_inr_above_range, f_low)
    bleed_w_full = r_wb * _warfarin_multiplier(cohort.ttr, ep.bleed_rr_inr_below_range, ep.bleed_rr_inr_above_range, f_low)
    female = cohort.female.astype(bool)
    gompertz65 = np.where(female, ep.gompertz_mortality_at_65_female, ep.gompertz_mortality_at_65_male)
    af_excess = np.where(female, ep.af_mortality_or_female, ep.af_mortality_or_male)
    static_cha = (cohort.chf.astype(np.int64) + cohort.hypertension + cohort.diabetes + female)
    static_hb = (cohort.uncontrolled_hypertension.astype(np.int64) + cohort.liver_disease + cohort.antiplatelet
                 + cohort.alcohol)
    doac_idx = np.clip(drug, 0, 2)
    is_doac = drug <= DABIGATRAN
    is_warf = drug == WARFARIN
    dose_mg = np.where(level == STANDARD, doses_std[doac_idx], doses_red[doac_idx]) * (is_doac & (level != HOLD))
    bid = per_day[doac_idx] == 2
    want_warf = is_warf & (level != HOLD)
    slope_mean = np.where(is_warf, ep.crcl_slope_warfarin_ml_per_min_per_year, ep.crcl_slope_doac_ml_per_min_per_year)
    slope_per_day = (slope_mean + cohort.crcl_slope_deviation_ml_per_min_per_year) / DAYS_PER_YEAR
    stop_h = np.zeros(n) if persistence_hazard_per_day is None else np.asarray(persistence_hazard_per_day)[drug]
    onehot = (np.arange(3)[None, :] == doac_idx[:, None]) & is_doac[:, None]

    cs = np.empty(_NC)
    cs[_C_AKI_FACTOR] = ep.aki_crcl_factor
    cs[_C_W_DECAY] = np.exp(-np.log(2.0) / ep.warfarin_effect_half_life_days)
    cs[_C_STROKE_SCALE] = fitted.stroke_scale(pop)
    cs[_C_BLEED_SCALE] = fitted.bleed_scale(pop)
    cs[_C_R_WB] = r_wb
    cs[_C_GAMMA] = fitted.bleed_exposure_exponent
    cs[_C_P_AKI] = ep.aki_rate_per_year / DAYS_PER_YEAR
    cs[_C_MI_DAY] = ep.mi_rate_pct_per_year / 100.0 / DAYS_PER_YEAR
    cs[_C_ICH_W], cs[_C_GI_W] = ep.ich_share_of_major_bleeding, ep.gi_share_of_major_bleeding
    cs[_C_HS_SHARE] = ep.haemorrhagic_stroke_share_of_ich
    cs[_C_CF_ISCH_ON] = _odds_to_p(ep.ischaemic_stroke_case_fatality_off, ep.ischaemic_stroke_fatality_or_anticoagulated)
    cs[_C_CF_ISCH_OFF] = ep.ischaemic_stroke_case_fatality_off
    cs[_C_CF_ICH_ON] = _odds_to_p(ep.ich_case_fatality_off, ep.ich_fatality_or_anticoagulated)
    cs[_C_CF_ICH_OFF] = ep.ich_case_fatality_off
    cs[_C_CF_EXTRA] = ep.extracranial_bleed_case_fatality
    cs[_C_CF_MI] = ep.mi_case_fatality
    cs[_C_REF_AGE] = ep.covariate_reference_age_y
    cs[_C_REF_CRCL] = ep.covariate_reference_crcl_ml_per_min
    cs[_C_COV_CRCL_FLOOR] = ep.covariate_crcl_floor_ml_per_min
    cs[_C_STROKE_RENAL] = fitted.stroke_renal_exponent
    cs[_C_WRF_FRACTION] = ep.wrf_threshold_fraction
    cs[_C_DAB_AGE] = fitted.dabigatran_bleed_age_slope_per_decade
    cs[_C_WARF_RENAL] = fitted.warfarin_bleed_renal_exponent
    cs[_C_BLEED_AGE] = fitted.bleed_age_slope_per_decade
    cs[_C_BLEED_RENAL] = fitted.bleed_renal_exponent
    cs[_C_WRF_MB_HR] = ep.wrf_major_bleeding_hr
    cs[_C_MI_HR_DAB] = ep.mi_hr_dabigatran
    cs[_C_GOMPERTZ_SLOPE] = ep.gompertz_slope_per_year
    cs[_C_WRF_DEATH_HR] = ep.wrf_death_hr
    cs[_C_BG_SCALE] = fitted.background_mortality_scale
    cs[_C_ICH_RATIO] = ep.doac_ich_share_ratio
    cs[_C_GI_RATIO] = ep.doac_gi_share_ratio
    cs[_C_CRCL_FLOOR] = ep.crcl_floor_ml_per_min
    ci = np.empty(_NI, dtype=np.int64)
    ci[_I_HOLD_ISCH] = ep.hold_days_after_ischaemic_stroke
    ci[_I_HOLD_ICH] = ep.hold_days_after_ich
    ci[_I_HOLD_EXTRA] = ep.hold_days_after_extracranial_bleed
    ci[_I_AKI_DAYS] = ep.aki_duration_days

    f64, i64 = np.float64, np.int64

    def rows(x, dtype):
        return np.ascontiguousarray(np.broadcast_to(x, (n,) + np.shape(x)[1:]), dtype=dtype)

    st = state
    kernel = _days_parallel if use_parallel(n) else _days_serial
    kernel(n_days, cs, ci, ka, fe, crcl_ref, c_ref, fitted.ec50().astype(f64),
           fitted.bleed_coefficient().astype(f64), np.ascontiguousarray(_FRIBERG, dtype=f64),
           np.ascontiguousarray(_PISTERS, dtype=f64), rows(cohort.keys, np.uint64), rows(cohort.age_y, f64),
           rows(cohort.weight_kg, f64), rows(female, np.bool_), rows(cohort.adherence, f64),
           rows(cohort.persistence_threshold, f64), rows(stroke_w_full, f64), rows(bleed_w_full, f64),
           rows(gompertz65, f64), rows(af_excess, f64), rows(static_cha, i64), rows(static_hb, i64),
           rows(dose_mg, f64), rows(bid, np.bool_), rows(want_warf, np.bool_), rows(slope_per_day, f64),
           rows(stop_h, f64), rows(cl_fixed, f64), rows(v, f64), rows(onehot, np.bool_),
           st.day, st.alive, st.gut_mg, st.central_mg, st.c_avg_ng_per_ml, st.c_trough_ng_per_ml, st.warfarin_effect,
           st.crcl_trend_ml_per_min, st.crcl_baseline_ml_per_min, st.aki_days_left, st.hold_days_left,
           st.cumulative_stop_hazard, st.stopped, st.prior_stroke, st.bleeding_history, st.vascular_disease,
           st.first_day, st.event_count, st.compensator, st.hazard_integral, st.days_followed)


# --------------------------------------------------------------------- simulation
@dataclass
class SimulationResult:
    """Outcome of :func:`simulate` (per-patient arrays)."""

    state: DoacState
    n_days: int

    @property
    def patient_years(self) -> float:
        return float(self.state.days_followed.sum() / DAYS_PER_YEAR)

    def first_events(self, endpoint: str) -> int:
        return int((self.state.first_day[:, _E[endpoint]] >= 0).sum())

    def expected_first_events(self, endpoint: str) -> float:
        return float(self.state.compensator[:, _E[endpoint]].sum())

    def rate_per_100py(self, endpoint: str, expected: bool = False) -> float:
        events = self.expected_first_events(endpoint) if expected else self.first_events(endpoint)
        return 100.0 * events / self.patient_years


def simulate(
    cohort,
    drug,
    dose_level,
    n_days: int,
    *,
    fitted: FittedParameters = FITTED_PARAMETERS,
    eparams: EventParameters = EVENT_PARAMETERS,
    persistence_hazard_per_day: np.ndarray | None = None,
    chunk_days: int = 61,
) -> SimulationResult:
    """Simulate ``n_days`` days of every patient of ``cohort`` on a fixed regimen."""
    state = initial_state(cohort)
    remaining = int(n_days)
    while remaining > 0:
        step = min(chunk_days, remaining)
        advance_days(state, cohort, drug, dose_level, step, fitted=fitted, eparams=eparams,
                     persistence_hazard_per_day=persistence_hazard_per_day)
        remaining -= step
    return SimulationResult(state=state, n_days=int(n_days))


def benchmark_year(num_patients: int = 4096) -> float:
    """Seconds to simulate one year (365 daily steps) of ``num_patients`` patients on apixaban."""
    from hemosim.patients.af import sample_cohort

    cohort = sample_cohort(rng.patient_key(np.uint64(2026), np.arange(num_patients)), "general_practice")
    simulate(cohort, APIXABAN, STANDARD, 5)  # warm-up
    t0 = time.perf_counter()
    simulate(cohort, APIXABAN, STANDARD, 365)
    return time.perf_counter() - t0
