"""Disseminated intravascular coagulation (DIC): a consumptive-coagulopathy model.

A triggering disorder (sepsis, trauma, an obstetric catastrophe) generates thrombin
systemically. In this model its strength is a *trigger intensity* ``T(t)`` (dimensionless;
1 = the intensity that, held constant, lowers the platelet count to 1 / (1 + ln 2) = 59 % of
baseline at steady state), which
evolves over the episode by course (resolving, persistent, worsening):

    T(t) = T0 [g + (1 - g) exp(-t / tau)]        g = 0 resolving, 1 persistent, 2 worsening

Heparin, acting through antithrombin, lowers the *effective* thrombin activity

    G(t) = T(t) (1 - e_hep min(AT / 100 %, 1))

Every haemostatic quantity ``X`` (platelets, fibrinogen, factors II, V, VII, VIII, IX, X,
antithrombin; in its own unit) turns over with its own half-life towards the patient's
baseline (synthesis = elimination at baseline) and is consumed in proportion to ``G``:

    dX/dt = k_X (X_base - X) - w_X c G(t) X          k_X = ln 2 / t_half,X

Transfused platelets are a separate pool with their own (shorter) survival:
``dP_tx/dt = -k_tx P_tx - w_P c G P_tx``. Transfused plasma proteins (FFP,
cryoprecipitate) join the native pool: they are indistinguishable from native protein, so
they clear with the protein's half-life and are consumed like it. Fibrin(ogen)
degradation products (FDP, ug/mL) are made from the fibrinogen consumed and cleared
first-order; the organ-dysfunction load ``O`` (trigger units) follows ``G`` with a
one-day half-life, ``dO/dt = k_O (G - O)``, and drives the death hazard.

Numerics: ``T`` is held at its value at the middle of each 1-hour sub-step (the
piecewise-constant approximation; error against ``scipy.integrate.solve_ivp`` with the
continuous ``T`` is tested), within which every equation is linear with constant
coefficients and is solved exactly (closed-form exponentials; FDP driven by the
exponentially relaxing fibrinogen has a closed form too).

PT and aPTT are read through the Hockin-Mann cascade's fast table path
(``hemosim.models.clotting``: the same tables and the same compiled interpolation kernel;
factor levels II, V, VII, VIII, IX, X and antithrombin activity x heparin potentiation),
never from an invented formula. The cascade has no fibrinogen, so a very low fibrinogen
does not prolong the model PT (a stated limitation).

Outcomes (hazards per hour, drawn by the environment from the true state):

* bleeding: ``h_b0 RR_plt RR_fib RR_pt RR_hep`` with ``RR_plt = (100 / clamp(P, 5, 100))^a``,
  ``RR_fib = (2 / clamp(F, 0.2, 2))^b``, ``RR_pt = max(PT ratio, 1)^c``; each bleed is
  classed (ISTH 2005: major, clinically relevant non-major, minor) and a major bleed can be
  intracranial and fatal; a clinically relevant bleed stays active (ongoing) until it stops
  (hazard ``h_stop / RR``) or becomes major (hazard ``h_esc RR``), so correcting the
  coagulopathy of a bleeding patient changes its course (the premise of the guidance);
* transfusion-associated circulatory overload / lung injury: ``1 - exp(-k V)`` per step for
  the volume ``V`` (mL/kg) transfused, with a case fatality;
* thromboembolism: ``h_te0 G RR_te(heparin)``;
* death: ``h_d,cause exp(beta O)`` plus fatal bleeds and emboli. The link between the ISTH
  score and mortality is *not* imposed: the score and the death hazard both follow the
  trigger, and the association (PROWESS: 43 % vs 27 % with vs without overt DIC) is what
  the fit of ``beta`` and ``h_d`` reproduces. Transfusion raises the levels the score reads
  but not ``O``, so it cannot buy survival by cosmetics.

Every parameter carries its unit, its source and whether it is *sourced*, *assumed* or
*fitted* (``DicParameters`` metadata; docs/models/dic.md lists them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "DicParameters",
    "DIC_TYPICAL",
    "SPECIES",
    "NORMAL_LEVELS",
    "COURSES",
    "CAUSES",
    "trigger_at",
    "advance_hour",
    "advance",
    "apply_products",
    "product_increments",
    "pt_aptt",
    "heparin_potentiation",
    "rate_constants",
    "bleeding_hazard_per_h",
]

LN2 = math.log(2.0)

#: the level vector of one patient (columns of the model state), in this order
SPECIES = ("platelets_native", "platelets_transfused", "fibrinogen", "ii", "v", "vii", "viii", "ix", "x",
           "antithrombin", "fdp", "organ_load")
(PLT_N, PLT_T, FIB, F2, F5, F7, F8, F9, F10, AT, FDP, ORG) = range(12)
N_SPECIES = 12
#: units of the columns
UNITS = ("10^9/L", "10^9/L", "g/L", "%", "%", "%", "%", "%", "%", "%", "ug/mL", "trigger units")
#: healthy-adult reference values (platelets and fibrinogen: the centre of the usual
#: reference intervals 150-400 x10^9/L and 2-4 g/L; factors and antithrombin 100 % by
#: definition; FDP: the usual upper reference limit is 5 ug/mL, a healthy value 2 ug/mL is
#: assumed)
NORMAL_LEVELS = np.array([250.0, 0.0, 3.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 100.0, 2.0, 0.0])

CAUSES = ("sepsis", "trauma", "obstetric")
COURSES = ("resolving", "persistent", "worsening")
#: ``g`` of the trigger course: T -> g T0 as t >> tau
COURSE_FINAL_RATIO = np.array([0.0, 1.0, 2.0])

#: upper limits the laboratory reports (longer clotting times are reported as this value)
PT_REPORT_MAX_S = 100.0  # assumption (a lab-reporting cap; no source)
APTT_REPORT_MAX_S = 200.0  # as hemosim.assays.APTT_REPORT_MAX_S


def _p(value: Any, unit: str, source: str, status: str) -> Any:
    if status not in ("sourced", "assumed", "fitted"):
        raise ValueError(status)
    return field(default=value, metadata={"unit": unit, "source": source, "status": status})


_MA = ("medicalalgorithms.com 'Data on coagulation factors' (table of half-lives and plasma-product "
       "contents; secondary)")


@dataclass(frozen=True)
class DicParameters:
    """Typical values of the DIC model (time in hours). Metadata: unit, source, status."""

    # -- turnover: half-lives (native protein; transfused plasma protein clears the same way)
    fibrinogen_half_life_h: float = _p(96.0, "h", f"3-6 days, centre 4 d; {_MA}", "sourced")
    ii_half_life_h: float = _p(65.0, "h", f"50-80 h, centre; {_MA}", "sourced")
    v_half_life_h: float = _p(24.0, "h", f"4.5-36 h; 24 h chosen inside the range; {_MA}", "sourced")
    vii_half_life_h: float = _p(4.0, "h", f"2-5 h; {_MA}; 4-6 h (droracle, tertiary)", "sourced")
    viii_half_life_h: float = _p(10.0, "h", f"8-12 h, centre; {_MA}", "sourced")
    ix_half_life_h: float = _p(21.0, "h", f"18-24 h, centre; {_MA}", "sourced")
    x_half_life_h: float = _p(31.0, "h", f"20-42 h, centre; {_MA}", "sourced")
    antithrombin_half_life_h: float = _p(
        60.0, "h", "about 2.5 days (commonly quoted for antithrombin concentrate); UNCONFIRMED", "assumed")
    platelet_mean_survival_h: float = _p(
        204.0, "h", "native platelets live 7-10 days (8.5 d taken as the mean residence time of a first-order "
        "pool; biologyinsights.com and icuroom (Slichter 2007, McCullough 2010), secondary)", "sourced")
    transfused_platelet_mean_survival_h: float = _p(
        84.0, "h", "transfused platelets survive about 3-4 days in a stable recipient (3.5 d; biologyinsights.com; "
        "icuroom citing Slichter 2007 Hematol Oncol Clin North Am 21:697), secondary", "sourced")
    fdp_half_life_h: float = _p(8.0, "h", "D-dimer / FDP plasma half-life about 8 h; UNCONFIRMED", "assumed")
    organ_load_half_life_h: float = _p(
        24.0, "h", "microvascular fibrin and the organ dysfunction it causes resolve over about a day once "
        "thrombin generation stops; no source", "assumed")
    # -- consumption (per unit trigger)
    consumption_per_h: float = _p(
        LN2 / 204.0, "1/h per unit trigger", "defines the trigger scale: T = 1 held constant lowers the native "
        "platelet count to k_P / (k_P + c) = 1 / (1 + ln 2) = 59 % at steady state", "assumed")
    w_platelets: float = _p(1.0, "relative", "consumption weight; platelets are the reference", "assumed")
    w_fibrinogen: float = _p(1.0, "relative", "consumption weight; fibrinogen is consumed as fast as platelets "
                             "(no source)", "assumed")
    w_ii: float = _p(0.5, "relative", "factor II consumption weight (no source)", "assumed")
    w_v: float = _p(2.0, "relative", "factor V is inactivated by activated protein C as well as consumed: "
                    "twice the reference (no source)", "assumed")
    w_vii: float = _p(0.5, "relative", "factor VII consumption weight (no source)", "assumed")
    w_viii: float = _p(2.0, "relative", "factor VIII as factor V (no source)", "assumed")
    w_ix: float = _p(0.5, "relative", "factor IX consumption weight (no source)", "assumed")
    w_x: float = _p(0.5, "relative", "factor X consumption weight (no source)", "assumed")
    w_antithrombin: float = _p(1.0, "relative", "antithrombin is consumed in thrombin-antithrombin complexes "
                               "(no source for the rate)", "assumed")
    fdp_yield: float = _p(
        0.06, "ug FDP per ug fibrinogen consumed", "no source; sets FDP of 10-25 ug/mL (moderate) near T = 1 "
        "and > 25 (strong) above about T = 1.5 with fibrinogen 3 g/L", "assumed")
    # -- heparin (through antithrombin)
    heparin_effect_prophylactic: float = _p(
        0.10, "fraction of thrombin activity removed at AT 100 %", "no source (low-quality evidence for heparin in "
        "DIC, ISTH 2013 / BCSH 2009, FACTS 7.2)", "assumed")
    heparin_effect_therapeutic: float = _p(
        0.30, "fraction of thrombin activity removed at AT 100 %", "no source (as above)", "assumed")
    aptt_ratio_prophylactic: float = _p(
        1.05, "aPTT ratio on normal plasma", "BCSH 2009: low-dose UFH (e.g. 10 U/kg/h) 'without the intention of "
        "prolonging the APTT'; the antithrombin potentiation fold is solved on the cascade aPTT table", "assumed")
    aptt_ratio_therapeutic: float = _p(
        2.0, "aPTT ratio on normal plasma", "centre of the therapeutic aPTT ratio 1.5-2.5 quoted by BCSH 2009 "
        "(FACTS 7.2); the fold is solved on the cascade aPTT table", "sourced")
    # -- products
    ffp_factor_activity_pct: float = _p(90.0, "% of normal", f"225 U of each factor per 250 mL unit; {_MA}",
                                        "sourced")
    ffp_fibrinogen_g_per_l: float = _p(2.0, "g/L", f"500 mg fibrinogen per 250 mL unit; {_MA}", "sourced")
    ffp_unit_ml: float = _p(250.0, "mL", f"{_MA}", "sourced")
    plasma_volume_ml_per_kg: float = _p(40.0, "mL/kg", "adult plasma volume about 40 mL/kg (textbook value; no "
                                        "source in FACTS)", "assumed")
    blood_volume_ml_per_kg: float = _p(70.0, "mL/kg", "adult blood volume about 70 mL/kg (textbook value)",
                                       "assumed")
    platelets_per_adult_dose: float = _p(
        2.4e11, "platelets", "UK adult therapeutic dose >= 2.4 x 10^11 per apheresis unit / pool (UK Red Book "
        "specification, UNCONFIRMED)", "assumed")
    platelet_recovery: float = _p(0.67, "fraction", "about 1/3 of transfused platelets pool in the spleen "
                                  "(textbook value, UNCONFIRMED)", "assumed")
    cryo_fibrinogen_g_per_unit: float = _p(0.2, "g", f"200 mg fibrinogen per 20 mL unit; {_MA}", "sourced")
    cryo_viii_u_per_unit: float = _p(90.0, "U", f"90 U factor VIII per unit; {_MA}", "sourced")
    cryo_units_per_adult_dose: float = _p(
        10.0, "units", "2 pools = 10 donations per adult dose (FACTS 7.2, notion.so, secondary)", "sourced")
    cryo_unit_ml: float = _p(20.0, "mL", f"{_MA}", "sourced")
    # -- bleeding
    bleed_base_per_h: float = _p(
        2.0e-4, "1/h", "hazard of a clinically apparent bleed at normal platelets, fibrinogen and PT in a critically "
        "ill patient (about 3 % a week); no source", "assumed")
    bleed_platelet_exponent: float = _p(
        0.8, "dimensionless", "RR (100 / platelets)^a below 100 x10^9/L: RR 1.7 at 50, 3.6 at 20; the direction "
        "(more bleeding below 50) follows BCSH 2009 / ISTH 2013 thresholds, the size is assumed", "assumed")
    bleed_fibrinogen_exponent: float = _p(
        1.2, "dimensionless", "RR (2 g/L / fibrinogen)^b below 2 g/L: RR 2.3 at 1 g/L; size assumed", "assumed")
    bleed_pt_exponent: float = _p(1.5, "dimensionless", "RR PT ratio^c: 1.8 at ratio 1.5; size assumed", "assumed")
    bleed_rr_prophylactic_heparin: float = _p(1.2, "RR", "no source; ICU prophylaxis trials show at most a small "
                                              "bleeding excess", "assumed")
    bleed_rr_therapeutic_heparin: float = _p(2.0, "RR", "no source", "assumed")
    bleed_major_fraction: float = _p(0.25, "fraction of bleeds", "no source", "assumed")
    bleed_crnm_fraction: float = _p(0.35, "fraction of bleeds", "no source (the rest are minor)", "assumed")
    ich_fraction_of_major: float = _p(0.10, "fraction", "no source", "assumed")
    major_bleed_case_fatality: float = _p(0.08, "fraction", "no source", "assumed")
    ich_case_fatality: float = _p(0.40, "fraction", "30-day case fatality of intracerebral haemorrhage about 40 % "
                                  "(textbook; UNCONFIRMED)", "assumed")
    bleed_escalation_per_h: float = _p(
        0.01, "1/h", "hazard that an ongoing clinically relevant bleed becomes major, times the same coagulopathy "
        "RR as new bleeds; no source", "assumed")
    bleed_stop_per_h: float = _p(
        0.15, "1/h", "hazard that an ongoing bleed stops (haemostasis), divided by the coagulopathy RR (median "
        "about 5 h at normal labs); no source", "assumed")
    # -- transfusion harm (circulatory overload / lung injury)
    taco_risk_per_ml_per_kg: float = _p(
        0.0015, "1/(mL/kg)", "P(TACO/TRALI) = 1 - exp(-k V): about 2 % after 15 mL/kg (inside the 1-8 % "
        "TACO incidence quoted for transfused ICU patients; UNCONFIRMED)", "assumed")
    taco_case_fatality: float = _p(0.10, "fraction", "no source (TACO / TRALI mortality of 5-15 % is quoted; "
                                   "UNCONFIRMED)", "assumed")
    platelet_dose_ml: float = _p(300.0, "mL", "volume of an adult platelet dose (assumed)", "assumed")
    # -- thromboembolism
    te_base_per_h: float = _p(6.0e-5, "1/h per unit G", "no source (about 5 % a week at the sepsis median trigger T = 5.4)", "assumed")
    te_rr_prophylactic_heparin: float = _p(0.5, "RR", "pharmacological prophylaxis halves VTE (textbook; "
                                           "UNCONFIRMED)", "assumed")
    te_rr_therapeutic_heparin: float = _p(0.3, "RR", "no source", "assumed")
    te_case_fatality: float = _p(0.05, "fraction", "no source", "assumed")
    # -- death (fitted to PROWESS, hemosim.calibration.dic_fit)
    death_beta_per_trigger_unit: float = _p(
        0.129, "1/(trigger unit)", "fitted: PROWESS placebo 28-day mortality 43 % vs 27 % with vs without overt DIC "
        "(Dhainaut 2004 J Thromb Haemost 2:1924; FACTS 7.2)", "fitted")
    death_base_sepsis_per_h: float = _p(
        2.77e-4, "1/h", "fitted with the above (PROWESS; hemosim.calibration.dic_trials --fit, training "
        "seeds 0-3999)", "fitted")
    death_base_trauma_per_h: float = _p(
        1.0e-4, "1/h", "no target found for trauma DIC; about 6 % 28-day mortality at O = 0", "assumed")
    death_base_obstetric_per_h: float = _p(
        5.0e-6, "1/h", "no target found for obstetric DIC; about 0.3 % 28-day mortality at O = 0", "assumed")
    late_horizon_h: float = _p(672.0, "h", "28-day mortality (PROWESS end point)", "sourced")


DIC_TYPICAL = DicParameters()


def parameter_table(params: DicParameters = DIC_TYPICAL) -> list[dict[str, Any]]:
    """Rows ``{name, value, unit, status, source}`` of every parameter (for the model card)."""
    return [{"name": f.name, "value": getattr(params, f.name), **f.metadata} for f in fields(params)]


# ----------------------------------------------------------------------------------------
# Rate constants
# ----------------------------------------------------------------------------------------
def rate_constants(params: DicParameters = DIC_TYPICAL) -> tuple[np.ndarray, np.ndarray]:
    """``(k_per_h, w)``: first-order turnover constants (1/h) and consumption weights per species.

    ``k`` of the FDP and organ-load columns are their clearance constants; their weights are 0
    (they are not consumed).
    """
    p = params
    k = np.array([
        1.0 / p.platelet_mean_survival_h,
        1.0 / p.transfused_platelet_mean_survival_h,
        LN2 / p.fibrinogen_half_life_h,
        LN2 / p.ii_half_life_h,
        LN2 / p.v_half_life_h,
        LN2 / p.vii_half_life_h,
        LN2 / p.viii_half_life_h,
        LN2 / p.ix_half_life_h,
        LN2 / p.x_half_life_h,
        LN2 / p.antithrombin_half_life_h,
        LN2 / p.fdp_half_life_h,
        LN2 / p.organ_load_half_life_h,
    ])
    w = np.array([p.w_platelets, p.w_platelets, p.w_fibrinogen, p.w_ii, p.w_v, p.w_vii, p.w_viii, p.w_ix,
                  p.w_x, p.w_antithrombin, 0.0, 0.0])
    return k, w


# ----------------------------------------------------------------------------------------
# Trigger and exact one-hour advance
# ----------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def trigger_at(t_h, t0, final_ratio, tau_h):
    """Trigger intensity at ``t_h`` hours after admission: ``T0 [g + (1 - g) exp(-t / tau)]``."""
    return t0 * (final_ratio + (1.0 - final_ratio) * math.exp(-t_h / tau_h))


@njit(cache=True)
def advance_hour(x, base, k, cw, g_eff, fdp_yield, dt_h):  # pragma: no cover - jitted
    """Advance one patient's level vector ``x`` (in place) by ``dt_h`` at constant effective
    thrombin activity ``g_eff``; exact solution of the linear equations (module docstring).

    ``base``: baseline levels (synthesis targets; transfused-platelet, FDP and organ-load
    entries are their resting values); ``k``: turnover constants (1/h); ``cw``: the
    consumption constants ``w_X c`` (1/h per unit G) of this patient.
    """
    f_old = x[FIB]
    a_f = k[FIB] + cw[FIB] * g_eff
    f_ss = k[FIB] * base[FIB] / a_f
    for j in range(ORG):
        if j == FDP:
            continue
        a = k[j] + cw[j] * g_eff
        ss = k[j] * base[j] / a
        x[j] = ss + (x[j] - ss) * math.exp(-a * dt_h)
    # FDP: dD/dt = -kd (D - Db) + p F(t), F(t) = f_ss + (f_old - f_ss) e^{-a_f t}, p = yield * 1000 * cw_F g
    kd = k[FDP]
    prod = fdp_yield * 1000.0 * cw[FIB] * g_eff
    e_d = math.exp(-kd * dt_h)
    e_f = math.exp(-a_f * dt_h)
    a_const = prod * f_ss
    b_amp = prod * (f_old - f_ss)
    d0 = x[FDP] - base[FDP]  # noqa: E501
    d1 = a_const / kd + (d0 - a_const / kd) * e_d
    if abs(kd - a_f) > 1e-12:
        d1 += b_amp * (e_f - e_d) / (kd - a_f)
    else:
        d1 += b_amp * dt_h * e_d
    x[FDP] = base[FDP] + d1
    # organ load: dO/dt = ko (G - O)
    ko = k[ORG]
    x[ORG] = g_eff + (x[ORG] - g_eff) * math.exp(-ko * dt_h)


@njit(cache=True, inline="always")
def effective_thrombin(trigger, at_pct, heparin_effect):
    """``G = T (1 - e_hep min(AT / 100, 1))``."""
    return trigger * (1.0 - heparin_effect * min(at_pct / 100.0, 1.0))


def advance(
    levels: np.ndarray,
    hours: float,
    *,
    t0: float,
    final_ratio: float,
    tau_h: float,
    t_start_h: float = 0.0,
    heparin_effect: float = 0.0,
    base: np.ndarray | None = None,
    consumption_multiplier: np.ndarray | None = None,
    params: DicParameters = DIC_TYPICAL,
    substep_h: float = 1.0,
) -> np.ndarray:
    """Untreated course of one patient (NumPy face of the compiled advance; for tests and tables).

    Returns the level vectors at every sub-step end, shape ``(n_steps + 1, N_SPECIES)``.
    """
    if hours < 0 or not np.isfinite(hours):
        raise ValueError(f"hours must be a finite number >= 0, got {hours!r}")
    if substep_h <= 0:
        raise ValueError(f"substep_h must be > 0, got {substep_h!r}")
    k, w = rate_constants(params)
    cw = w * params.consumption_per_h * (1.0 if consumption_multiplier is None else consumption_multiplier)
    base = NORMAL_LEVELS.copy() if base is None else np.asarray(base, dtype=np.float64).copy()
    x = np.asarray(levels, dtype=np.float64).copy()
    n = int(round(hours / substep_h))
    out = np.empty((n + 1, N_SPECIES))
    out[0] = x
    for s in range(n):
        t_mid = t_start_h + (s + 0.5) * substep_h
        tr = trigger_at(t_mid, t0, final_ratio, tau_h)
        g = effective_thrombin(tr, x[AT], heparin_effect)
        advance_hour(x, base, k, cw, g, params.fdp_yield, substep_h)
        out[s + 1] = x
    return out


# ----------------------------------------------------------------------------------------
# Transfused products
# ----------------------------------------------------------------------------------------
@njit(cache=True)
def apply_products(x, ffp_ml_per_kg, platelet_doses, cryo_doses, weight_kg, pv_ml_per_kg, bv_ml_per_kg,
                   ffp_pct, ffp_fib_g_per_l, plt_per_dose, plt_recovery, cryo_fib_g, cryo_viii_u,
                   cryo_units, cryo_ml):  # pragma: no cover - jitted
    """Add transfused products to one patient's level vector ``x`` (in place).

    * FFP (``ffp_ml_per_kg``): mixing of ``v`` mL/kg of plasma with factor activity
      ``ffp_pct`` (% of normal) and fibrinogen ``ffp_fib_g_per_l`` into the plasma volume
      ``PV``: ``X' = (X PV + C v) / (PV + v)`` for factors II, V, VII, VIII, IX, X,
      antithrombin and fibrinogen (the infused water is assumed to leave the plasma, the
      protein to stay);
    * platelets: ``doses x platelets per dose x recovery / blood volume`` into the
      transfused pool;
    * cryoprecipitate: ``doses x units x fibrinogen per unit`` (g) into ``PV + volume``
      (fibrinogen, g/L) and the unit's factor VIII (U) likewise (% = U/dL).
    """
    pv = pv_ml_per_kg * weight_kg
    if ffp_ml_per_kg > 0.0:
        v = ffp_ml_per_kg * weight_kg
        for j in (F2, F5, F7, F8, F9, F10, AT):
            x[j] = (x[j] * pv + ffp_pct * v) / (pv + v)
        x[FIB] = (x[FIB] * pv + ffp_fib_g_per_l * v) / (pv + v)
    if platelet_doses > 0.0:
        x[PLT_T] += platelet_doses * plt_per_dose * plt_recovery / (bv_ml_per_kg * weight_kg * 1e-3) * 1e-9
    if cryo_doses > 0.0:
        units = cryo_doses * cryo_units
        vol = units * cryo_ml
        x[FIB] += units * cryo_fib_g / ((pv + vol) * 1e-3)
        x[F8] += units * cryo_viii_u / ((pv + vol) * 1e-2)  # U / dL = % of normal (1 U/mL = 100 %)


def product_args(params: DicParameters = DIC_TYPICAL) -> tuple[float, ...]:
    """The product constants in the order :func:`apply_products` takes them after ``weight_kg``."""
    p = params
    return (p.plasma_volume_ml_per_kg, p.blood_volume_ml_per_kg, p.ffp_factor_activity_pct,
            p.ffp_fibrinogen_g_per_l, p.platelets_per_adult_dose, p.platelet_recovery,
            p.cryo_fibrinogen_g_per_unit, p.cryo_viii_u_per_unit, p.cryo_units_per_adult_dose, p.cryo_unit_ml)


def product_increments(
    levels: np.ndarray,
    *,
    ffp_ml_per_kg: float = 0.0,
    platelet_doses: float = 0.0,
    cryo_doses: float = 0.0,
    weight_kg: float = 70.0,
    params: DicParameters = DIC_TYPICAL,
) -> np.ndarray:
    """Level vector after giving the products to a patient at ``levels`` (NumPy face)."""
    for name, v in (("ffp_ml_per_kg", ffp_ml_per_kg), ("platelet_doses", platelet_doses),
                    ("cryo_doses", cryo_doses)):
        if not np.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if not np.isfinite(weight_kg) or weight_kg <= 0:
        raise ValueError(f"weight_kg must be a positive number, got {weight_kg!r}")
    x = np.asarray(levels, dtype=np.float64).copy()
    apply_products(x, float(ffp_ml_per_kg), float(platelet_doses), float(cryo_doses), float(weight_kg),
                   *product_args(params))
    return x


# ----------------------------------------------------------------------------------------
# PT and aPTT through the cascade's fast path
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def assay_tables() -> dict[str, Any]:
    """The cascade fast-path tables prepared for compiled calls (one load per process).

    The same arrays :func:`hemosim.models.clotting.fast_assays` builds for its interpolation
    kernel ``clotting._multilinear``: log axes, sizes, flat tables and strides of the PT table
    (II, V, VII, X) and the aPTT table (II, V, VIII, IX, X, antithrombin activity).
    """
    from hemosim.models import clotting

    tab = clotting._load_table()

    def prep(axes: list[np.ndarray], table: np.ndarray):
        d = len(axes)
        g = max(len(a) for a in axes)
        log_axes = np.full((d, g), np.inf)
        for j, a in enumerate(axes):
            log_axes[j, :len(a)] = np.log(a)
        sizes = np.array([len(a) for a in axes], dtype=np.int64)
        strides = np.array(table.strides, dtype=np.int64) // table.itemsize
        return log_axes, sizes, np.ascontiguousarray(table, dtype=np.float64).ravel(), strides

    ax_pt, ax_ap, ax_at = tab["pt_axes_pct"], tab["aptt_axes_pct"], tab["aptt_axes_at"]
    return {
        "pt": prep([ax_pt] * 4, tab["pt_rate_per_s"]),
        "aptt": prep([ax_ap] * 5 + [ax_at], tab["aptt_rate_per_s"]),
        # domain of the tables: levels (%) and antithrombin activity
        "pt_lo_hi": (float(ax_pt[0]), float(ax_pt[-1])),
        "aptt_lo_hi": (float(ax_ap[0]), float(ax_ap[-1])),
        "at_lo_hi": (float(ax_at[0]), float(ax_at[-1])),
        # clotting-time normalisation (as clotting._rate_to_ratio)
        "pt_t_max_s": float(tab["pt_t_max_s"]),
        "pt_normal_model_s": float(tab["pt_normal_model_s"]),
        "aptt_t_max_s": float(tab["aptt_t_max_s"]),
        "aptt_normal_model_s": float(tab["aptt_normal_model_s"]),
        "multilinear": clotting._multilinear,
    }


@njit(cache=True)
def interp_point(log_axes, sizes, table_flat, strides, x_log, lo, fr, offsets, vals):  # pragma: no cover
    """Multilinear interpolation of one point ``x_log`` (D,) in log coordinates, inside the axes.

    The scalar twin of ``hemosim.models.clotting._multilinear`` (same grid search and the same
    interpolant; the corners are combined by successive linear interpolation, so results agree
    to rounding, tested) using caller-owned work buffers ``lo`` (int64, D), ``fr`` (D),
    ``offsets`` (int64, 2^D) and ``vals`` (2^D), so a compiled step loop allocates nothing.
    """
    d = x_log.shape[0]
    base = 0
    for j in range(d):
        g = sizes[j]
        v = x_log[j]
        i = 0
        while i < g - 2 and log_axes[j, i + 1] <= v:
            i += 1
        lo[j] = i
        fr[j] = (v - log_axes[j, i]) / (log_axes[j, i + 1] - log_axes[j, i])
        base += i * strides[j]
    offsets[0] = 0
    width = 1
    for j in range(d):
        for c in range(width):
            offsets[c + width] = offsets[c] + strides[j]
        width *= 2
    for c in range(width):
        vals[c] = table_flat[base + offsets[c]]
    for j in range(d - 1, -1, -1):
        half = 1 << j
        f = fr[j]
        for c in range(half):
            vals[c] = vals[c] * (1.0 - f) + vals[c + half] * f
    return vals[0]


def table_args() -> tuple:
    """Flat tuple of the fast-path arrays/constants in the order the compiled kernels take them."""
    t = assay_tables()
    return (*t["pt"], *t["aptt"], *t["pt_lo_hi"], *t["aptt_lo_hi"], *t["at_lo_hi"],
            t["pt_t_max_s"], t["pt_normal_model_s"], t["aptt_t_max_s"], t["aptt_normal_model_s"])


def pt_aptt(levels: np.ndarray, at_potentiation: float | np.ndarray = 1.0) -> dict[str, np.ndarray]:
    """PT ratio and aPTT ratio of level vectors ``(n, N_SPECIES)`` (or one vector) by the cascade
    fast path (levels clamped to the tables' domain, as the environment does).

    Equals :func:`hemosim.models.clotting.fast_assays` with ``clip=True`` on the same factor
    levels (tested). Ratios are ``inf`` where the plasma does not clot in the assay window.
    """
    from hemosim.models import clotting

    x = np.atleast_2d(np.asarray(levels, dtype=np.float64))
    out = clotting.fast_assays(ii_pct=x[:, F2], v_pct=x[:, F5], vii_pct=x[:, F7], viii_pct=x[:, F8],
                               ix_pct=x[:, F9], x_pct=x[:, F10], at_pct=x[:, AT],
                               at_potentiation=at_potentiation, clip=True)
    return {"pt_ratio": out["pt_ratio"], "aptt_ratio": out["aptt_ratio"]}


def heparin_potentiation(target_aptt_ratio: float) -> float:
    """Antithrombin potentiation fold that gives ``target_aptt_ratio`` on normal plasma
    (bisection on the cascade fast path's aPTT; the fold stands for a heparin dose)."""
    if not np.isfinite(target_aptt_ratio) or target_aptt_ratio < 1.0:
        raise ValueError(f"target_aptt_ratio must be a finite number >= 1, got {target_aptt_ratio!r}")
    from hemosim.models import clotting

    def ratio(fold: float) -> float:
        return float(clotting.fast_assays(at_potentiation=fold)["aptt_ratio"][0])

    lo, hi = 1.0, 25.0
    if ratio(hi) < target_aptt_ratio:
        raise ValueError(f"aPTT ratio {target_aptt_ratio} is beyond the cascade table (max {ratio(hi):.2f})")
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if ratio(mid) < target_aptt_ratio:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


# ----------------------------------------------------------------------------------------
# Hazards
# ----------------------------------------------------------------------------------------
@njit(cache=True, inline="always")
def bleeding_hazard_scalar(plt, fib, pt_ratio, rr_hep, h0, a_plt, b_fib, c_pt):
    """Bleeding hazard (1/h): ``h0 (100/clamp(P,5,100))^a (2/clamp(F,0.2,2))^b max(PTr,1)^c RR_hep``."""
    p = min(max(plt, 5.0), 100.0)
    f = min(max(fib, 0.2), 2.0)
    r = max(pt_ratio, 1.0)
    if not r < 10.0:
        r = 10.0  # no clot in the assay window: the hazard is taken at ratio 10
    return h0 * (100.0 / p) ** a_plt * (2.0 / f) ** b_fib * r ** c_pt * rr_hep


def bleeding_hazard_per_h(platelets_10e9_per_l, fibrinogen_g_per_l, pt_ratio, heparin_level: int = 0,
                          params: DicParameters = DIC_TYPICAL) -> np.ndarray:
    """Vectorised :func:`bleeding_hazard_scalar` (heparin level 0 none, 1 prophylactic, 2 therapeutic)."""
    if heparin_level not in (0, 1, 2):
        raise ValueError(f"heparin_level must be 0, 1 or 2, got {heparin_level!r}")
    rr = (1.0, params.bleed_rr_prophylactic_heparin, params.bleed_rr_therapeutic_heparin)[heparin_level]
    p, f, r = np.broadcast_arrays(np.asarray(platelets_10e9_per_l, float), np.asarray(fibrinogen_g_per_l, float),
                                  np.asarray(pt_ratio, float))
    out = np.empty(p.shape)
    for idx in np.ndindex(p.shape):
        out[idx] = bleeding_hazard_scalar(p[idx], f[idx], r[idx], rr, params.bleed_base_per_h,
                                          params.bleed_platelet_exponent, params.bleed_fibrinogen_exponent,
                                          params.bleed_pt_exponent)
    return out
