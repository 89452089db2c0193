"""Virtual inpatients starting intravenous unfractionated heparin (one key per patient).

Every quantity is drawn with ``hemosim.sim.rng`` from the patient's own key, so a patient
is the same whether sampled alone or in a batch.

Sources and assumptions
-----------------------
* Sex 50 % female, age N(62, 16) y truncated to 18-95, weight by sex N(89, 20) kg
  (men) / N(77, 20) kg (women) truncated to 40-180 kg, serum creatinine log-normal
  (median 1.0 mg/dL men, 0.8 women, log-SD 0.3): an adult inpatient population chosen
  by us (Raschke 1993 reports no covariate table in its abstract; FACTS §4.5). These
  are assumptions, stated as such.
* Creatinine clearance by Cockcroft-Gault 1976 (x 0.85 for women; FACTS §6.3),
  actual body weight, clipped to 5-200 mL/min. The linear (renal) heparin route scales
  with ``CrCl / 100 mL/min``.
* Baseline (own) aPTT N(30, 2.5) s truncated to 22-40 s: adult reference interval
  25-35 s as a central 95 % range (Davis's Lab & Diagnostic Tests; FACTS §4.3).
* Baseline platelets N(250, 60) x10^9/L truncated to 150-450 (the usual 150-400
  reference interval; assumption).
* Between-patient variability of the PK: log-normal with the shape of Jia 2015 J Transl
  Med 13:45 Table 2 (omega^2 0.122 on clearance, both routes sharing one eta, and 0.105
  on volume; the only published UFH IIV found, FACTS §4.2, but from cardiopulmonary
  bypass), scaled by ``PK_VARIABILITY_SCALE``, fitted so that the half-life after a
  70 U/kg bolus has the SD of Hirsh 1976 (63 +/- 15 min in 20 VTE patients). The
  clearance eta acts on both elimination routes at once, i.e. on the receptor capacity
  ``BMAX`` (so on ``VMAX = KINT * BMAX`` at steady state) and on the linear clearance;
  the volume eta on ``V``. The binding and internalisation rate constants (``KON``,
  ``KINT``, hence ``KM``) are the typical values for everyone (no data on their spread).
* aPTT response ("heparin resistance", Hirsh 1976 "heparin effect index"; Levine
  1994): log-normal sensitivity with SD ``APTT_SENSITIVITY_LOG_SD``, fitted by
  ``hemosim.calibration.heparin_fit`` to the aPTT / anti-Xa Spearman correlation of
  0.68 (PMC6009553; FACTS §4.3). ``heparin_resistant`` marks a patient who would need
  more than 35,000 U/24 h at steady state to reach aPTT 1.5 x control (the Levine 1994
  entry criterion).
* Within-patient (interval-to-interval) variability of elimination: in every 6-h
  interval both elimination rate constants (receptor internalisation ``KINT`` and the
  linear ``CL_LIN``) of a patient are multiplied by ``exp(ELIMINATION_IOV_LOG_SD * z)``,
  ``z`` standard normal from the patient's key (stream ``STREAM_ELIMINATION_IOV``,
  counter = the interval's number, 1 for 0-6 h), independent between intervals. It
  stands for the day-to-day variation in heparin requirements of one patient that no
  covariate explains (Fennerty 1989 BMJ, "day to day variation of heparin
  requirements": biological and delivery factors; Hirsh 2001 Chest 119:64S) and is
  what puts a stable patient outside the range on a fixed dose. No published size was
  found; ``ELIMINATION_IOV_LOG_SD`` is fitted by ``hemosim.calibration.heparin_fit`` to
  the spread of the weight-based arm's early aPTTs (Raschke 1995 letter, FACTS §4.5).
  Independence between intervals is an assumption.
* HIT (heparin-induced thrombocytopenia): incidence 2.6 % on UFH (Martel 2005 Blood
  106:2710 meta-analysis; FACTS §7.4). 27.5 % of HIT is rapid onset (25-30 %,
  previous heparin in the past 100 days: onset within the first day); the rest starts
  on day 5-10 (days counted from 0 = first day of heparin). The fall is >= 50 % in
  90 % of cases and 30-50 % in 10 % (ASH-SAP table); it approaches its nadir
  exponentially with a 24 h time constant (assumption: nadir within about 3 days).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from numba import njit

from hemosim.models.heparin import (
    REFERENCE_CRCL_ML_PER_MIN,
    UFH_TYPICAL,
    UfhParameters,
    clearance_terms,
    michaelis_menten_equivalent,
)
from hemosim.sim import rng

__all__ = [
    "HeparinPatients",
    "sample_patients",
    "HIT_INCIDENCE",
    "HIT_RAPID_ONSET_FRACTION",
    "HIT_FALL_TIME_CONSTANT_H",
    "APTT_SENSITIVITY_LOG_SD",
    "OMEGA2_CL",
    "OMEGA2_V",
    "PK_VARIABILITY_SCALE",
    "RESISTANCE_U_PER_24H",
    "ELIMINATION_IOV_LOG_SD",
    "STREAM_ELIMINATION_IOV",
    "elimination_factor",
    "hit_platelets",
    "hit_platelets_scalar_10e9_per_l",
]

HIT_INCIDENCE = 0.026  # Martel 2005 Blood 106:2710 (UFH 2.6 %), FACTS §7.4
HIT_RAPID_ONSET_FRACTION = 0.275  # 25-30 % of HIT (Warkentin; FACTS §7.4)
HIT_TYPICAL_ONSET_DAYS = (5.0, 10.0)  # 4Ts timing, Lo 2006 (FACTS §7.4)
HIT_LARGE_FALL_FRACTION = 0.9  # fall >= 50 % typical, 30-50 % in 10 % (ASH-SAP, FACTS §7.4)
HIT_FALL_TIME_CONSTANT_H = 24.0  # assumption
OMEGA2_CL = 0.122  # Jia 2015 Table 2
OMEGA2_V = 0.105  # Jia 2015 Table 2
#: Factor on Jia's omegas (a CPB population), fitted by hemosim.calibration.heparin_fit so
#: that the half-life after 70 U/kg has SD 15 min in VTE patients (Hirsh 1976: 63 +/- 15 min).
PK_VARIABILITY_SCALE = 0.45
#: Log-SD of the aPTT sensitivity, fitted by hemosim.calibration.heparin_fit (Spearman 0.68).
APTT_SENSITIVITY_LOG_SD = 0.25
RESISTANCE_U_PER_24H = 35000.0  # Levine 1994 entry criterion (FACTS §4.3)
#: Log-SD of the within-patient, interval-to-interval factor on both elimination rate
#: constants, fitted by hemosim.calibration.heparin_fit (Raschke 1995 letter: 17 / 65 / 18 %
#: of the weight-based arm's aPTTs in the first 48 h below / in / above the range).
ELIMINATION_IOV_LOG_SD = 0.25

# Random streams (never renumber).
_S_SEX, _S_AGE, _S_WEIGHT, _S_SCR, _S_APTT0, _S_PLT0 = 1, 2, 3, 4, 5, 6
_S_ETA_CL, _S_ETA_V, _S_ETA_S = 7, 8, 9
_S_HIT, _S_HIT_RAPID, _S_HIT_ONSET, _S_HIT_LARGE, _S_HIT_FALL = 10, 11, 12, 13, 14
#: normal stream of the within-patient elimination factor (counter = interval number, 1, 2, ...)
STREAM_ELIMINATION_IOV = 15


@dataclass
class HeparinPatients:
    """Covariates and individual parameters, one row per patient (float64 unless noted)."""

    keys: np.ndarray  # uint64
    female: np.ndarray  # bool
    age_years: np.ndarray
    weight_kg: np.ndarray
    creatinine_mg_per_dl: np.ndarray
    crcl_ml_per_min: np.ndarray
    baseline_aptt_s: np.ndarray
    baseline_platelets_10e9_per_l: np.ndarray
    v_ml: np.ndarray
    kon_ml_per_u_per_h: np.ndarray
    bmax_u: np.ndarray
    kint_per_h: np.ndarray
    cl_lin_ml_per_h: np.ndarray
    aptt_sensitivity_per_iu_per_ml: np.ndarray
    heparin_resistant: np.ndarray  # bool
    hit: np.ndarray  # bool
    hit_onset_h: np.ndarray  # inf when no HIT
    hit_fall_fraction: np.ndarray
    eta_cl: np.ndarray | None = None
    eta_v: np.ndarray | None = None
    eta_aptt_sensitivity: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.keys)

    def as_info(self) -> dict[str, Any]:
        """Fresh per-patient arrays for ``info["patient"]`` (units in the names)."""
        vmax, km = michaelis_menten_equivalent(self.kon_ml_per_u_per_h, self.bmax_u, self.kint_per_h)
        return {
            "weight_kg": self.weight_kg.copy(),
            "age_years": self.age_years.copy(),
            "female": self.female.copy(),
            "crcl_ml_per_min": self.crcl_ml_per_min.copy(),
            "baseline_aptt_s": self.baseline_aptt_s.copy(),
            "baseline_platelets_10e9_per_l": self.baseline_platelets_10e9_per_l.copy(),
            "v_l": self.v_ml / 1000.0,
            "kon_ml_per_u_per_h": self.kon_ml_per_u_per_h.copy(),
            "bmax_u": self.bmax_u.copy(),
            "kint_per_h": self.kint_per_h.copy(),
            "vmax_u_per_h": vmax,  # steady-state equivalent
            "km_u_per_ml": km,  # steady-state equivalent
            "cl_lin_l_per_h": self.cl_lin_ml_per_h / 1000.0,
            "aptt_sensitivity_per_iu_per_ml": self.aptt_sensitivity_per_iu_per_ml.copy(),
            "heparin_resistant": self.heparin_resistant.copy(),
            "hit": self.hit.copy(),
            "hit_onset_h": np.where(np.isfinite(self.hit_onset_h), self.hit_onset_h, -1.0),
            "hit_fall_fraction": self.hit_fall_fraction.copy(),
            "creatinine_mg_per_dl": self.creatinine_mg_per_dl.copy(),
            "eta_cl": _or_zeros(self.eta_cl, len(self)),
            "eta_v": _or_zeros(self.eta_v, len(self)),
            "eta_aptt_sensitivity": _or_zeros(self.eta_aptt_sensitivity, len(self)),
        }

    def assign(self, mask: np.ndarray, other: "HeparinPatients") -> None:
        """Overwrite the ``mask`` rows with ``other`` (one row per masked patient)."""
        for f in fields(self):
            getattr(self, f.name)[mask] = getattr(other, f.name)


def _or_zeros(a: np.ndarray | None, n: int) -> np.ndarray:
    return np.zeros(n) if a is None else np.array(a, dtype=np.float64, copy=True)


def patient_schema(what: str = "HeparinInfusion-v0") -> Any:
    """What ``reset(options={"patient": ...})`` of the heparin envs accepts; derived keys
    (``info["patient"]``'s individual parameters) may be given only with their value."""
    from hemosim.patients.spec import Field, Schema

    d = dict(derived=True)
    fields = [
        Field("female", "bool", doc="sex (weight N(77 / 89, 20) kg and creatinine median 0.8 / 1.0 mg/dL by sex)"),
        Field("age_years", "float", "years", 18.0, 95.0, doc="age (Cockcroft-Gault)"),
        Field("weight_kg", "float", "kg", 40.0, 180.0, doc="actual body weight (volume, receptor capacity, CG)"),
        Field("creatinine_mg_per_dl", "float", "mg/dL", 0.05, 20.0, doc="serum creatinine (CG)"),
        Field("crcl_ml_per_min", "float", "mL/min", 5.0, 200.0,
              doc="Cockcroft-Gault CrCl (renal route x CrCl / 100); given alone, creatinine is solved from it"),
        Field("baseline_aptt_s", "float", "s", 22.0, 40.0, doc="own aPTT without heparin"),
        Field("baseline_platelets_10e9_per_l", "float", "x10^9/L", 150.0, 450.0, doc="platelet count at start"),
        Field("eta_cl", "float", "log", -10.0, 10.0, doc="random effect on both elimination routes (BMAX and CL_LIN)"),
        Field("eta_v", "float", "log", -10.0, 10.0, doc="random effect on the volume"),
        Field("eta_aptt_sensitivity", "float", "log", -10.0, 10.0, doc="random effect on the aPTT sensitivity"),
        Field("hit", "bool", doc="a HIT course (HIT tiers draw it with hit_incidence)"),
        Field("hit_onset_h", "float", "h", 0.0, 240.0, special=(-1,), special_doc="-1: no HIT",
              doc="HIT onset after the start of heparin"),
        Field("hit_fall_fraction", "float", "fraction", 0.3, 0.95, special=(0,), special_doc="0: no HIT",
              doc="fractional platelet fall of the HIT course"),
        Field("v_l", "float", "L", 0.0, 1e9, doc="volume, from weight and eta_v", **d),
        Field("kon_ml_per_u_per_h", "float", "mL/U/h", 0.0, 1e9, doc="binding rate constant (typical)", **d),
        Field("bmax_u", "float", "U", 0.0, 1e9, doc="receptor capacity, from weight and eta_cl", **d),
        Field("kint_per_h", "float", "1/h", 0.0, 1e9, doc="internalisation rate constant (typical)", **d),
        Field("vmax_u_per_h", "float", "U/h", 0.0, 1e9, doc="steady-state saturable Vmax", **d),
        Field("km_u_per_ml", "float", "U/mL", 0.0, 1e9, doc="steady-state Km", **d),
        Field("cl_lin_l_per_h", "float", "L/h", 0.0, 1e9, doc="renal clearance, from weight, CrCl and eta_cl", **d),
        Field("aptt_sensitivity_per_iu_per_ml", "float", "mL/IU", 0.0, 1e9, doc="from eta_aptt_sensitivity", **d),
        Field("heparin_resistant", "bool", doc="needs > 35,000 U/24 h (Levine 1994)", **d),
    ]
    return Schema(f"{what} patient", fields)


_UNIFORM_STREAMS = (_S_SEX, _S_AGE, _S_WEIGHT, _S_APTT0, _S_PLT0, _S_HIT, _S_HIT_RAPID, _S_HIT_ONSET, _S_HIT_LARGE, _S_HIT_FALL)
_NORMAL_STREAMS = (_S_SCR, _S_ETA_CL, _S_ETA_V, _S_ETA_S)
#: all uniform streams drawn in one block: the plain ones, then the Box-Muller pairs of the normals
_BLOCK_STREAMS = np.array(list(_UNIFORM_STREAMS) + [s for st in _NORMAL_STREAMS for s in rng.normal_streams(st)], dtype=np.int64)


def cockcroft_gault_ml_per_min(age_years, weight_kg, creatinine_mg_per_dl, female) -> np.ndarray:
    """Cockcroft & Gault 1976: (140 - age) x weight / (72 x SCr), x 0.85 for women.

    The same arithmetic as the public ``hemosim.scores.cockcroft_gault_ml_per_min`` (equality
    is a test) without its input validation, which would cost about 16 us per patient reset
    (3 % of single-env throughput); the sampled covariates are in range by construction.
    """
    crcl = (140.0 - np.asarray(age_years)) * np.asarray(weight_kg) / (72.0 * np.asarray(creatinine_mg_per_dl))
    return crcl * np.where(female, 0.85, 1.0)


def sample_patients(
    keys: np.ndarray,
    variability: bool = True,
    hit_incidence: float = HIT_INCIDENCE,
    params: UfhParameters = UFH_TYPICAL,
    aptt_sensitivity_log_sd: float = APTT_SENSITIVITY_LOG_SD,
    pk_variability_scale: float = PK_VARIABILITY_SCALE,
    fixed: Any = None,
) -> HeparinPatients:
    """Draw one patient per key (``keys`` uint64, shape ``(n,)``).

    ``variability=False`` gives every patient the typical PK and aPTT sensitivity for
    its covariates (the covariates themselves still vary). ``hit_incidence`` is the
    probability of a HIT course (0 switches HIT off). ``fixed`` (a
    :class:`hemosim.patients.spec.Fixed` of :func:`patient_schema`): what a user gave; the
    rest is drawn from the same streams, conditioned on it where the population links
    covariates (sex given weight and creatinine; sex, age, weight and creatinine given
    CrCl; see :func:`patient_schema`).
    """
    keys = np.asarray(keys, dtype=np.uint64)
    if not 0.0 <= hit_incidence <= 1.0:
        raise ValueError(f"hit_incidence must lie in [0, 1], got {hit_incidence}")
    block = rng.uniform_block(keys, _BLOCK_STREAMS)
    u = {st: block[:, j] for j, st in enumerate(_UNIFORM_STREAMS)}
    nu = len(_UNIFORM_STREAMS)
    z = {
        st: rng.normal_from_uniforms(block[:, nu + 2 * j], block[:, nu + 2 * j + 1])
        for j, st in enumerate(_NORMAL_STREAMS)
    }
    if fixed is None or not fixed.any():
        female = u[_S_SEX] < 0.5
        age = rng.truncated_normal_from_uniform(u[_S_AGE], 62.0, 16.0, 18.0, 95.0)
        weight = rng.truncated_normal_from_uniform(u[_S_WEIGHT], np.where(female, 77.0, 89.0), 20.0, 40.0, 180.0)
        scr = np.where(female, 0.8, 1.0) * np.exp(0.3 * z[_S_SCR])
        fixed = None
    else:
        female, age, weight, scr = _conditioned_covariates(keys, u, z, fixed)
    crcl = np.clip(cockcroft_gault_ml_per_min(age, weight, scr, female), 5.0, 200.0)
    aptt0 = rng.truncated_normal_from_uniform(u[_S_APTT0], 30.0, 2.5, 22.0, 40.0)
    plt0 = rng.truncated_normal_from_uniform(u[_S_PLT0], 250.0, 60.0, 150.0, 450.0)
    if variability:
        eta_cl = pk_variability_scale * np.sqrt(OMEGA2_CL) * z[_S_ETA_CL]
        eta_v = pk_variability_scale * np.sqrt(OMEGA2_V) * z[_S_ETA_V]
        eta_s = aptt_sensitivity_log_sd * z[_S_ETA_S]
    else:
        eta_cl = eta_v = eta_s = np.zeros(len(keys))
    if fixed is not None:
        aptt0 = fixed.pick("baseline_aptt_s", aptt0)
        plt0 = fixed.pick("baseline_platelets_10e9_per_l", plt0)
        eta_cl = fixed.pick("eta_cl", eta_cl)
        eta_v = fixed.pick("eta_v", eta_v)
        eta_s = fixed.pick("eta_aptt_sensitivity", eta_s)
    # typical values for the covariates, then the individual etas (clearance eta on both routes)
    v_typ, kon, bmax_typ, kint, cl_typ = clearance_terms(weight, crcl / REFERENCE_CRCL_ML_PER_MIN, params)
    v_ml = v_typ * np.exp(eta_v)
    bmax = bmax_typ * np.exp(eta_cl)
    vmax, km = michaelis_menten_equivalent(kon, bmax, kint)
    cl = cl_typ * np.exp(eta_cl)
    sens = params.aptt_sensitivity_per_iu_per_ml * np.exp(eta_s)
    # Levine 1994 criterion: steady-state need for aPTT 1.5 x control above 35,000 U/24 h.
    c_needed = np.log(1.5 * params.aptt_control_s / aptt0).clip(min=0.0) / sens
    rate_needed = vmax * c_needed / (km + c_needed) + cl * c_needed
    resistant = rate_needed * 24.0 > RESISTANCE_U_PER_24H
    # HIT course
    hit = u[_S_HIT] < hit_incidence
    rapid = u[_S_HIT_RAPID] < HIT_RAPID_ONSET_FRACTION
    u_onset = u[_S_HIT_ONSET]
    lo_d, hi_d = HIT_TYPICAL_ONSET_DAYS
    onset_drawn = np.where(rapid, 24.0 * u_onset, 24.0 * (lo_d + (hi_d - lo_d) * u_onset))
    onset = np.where(hit, onset_drawn, np.inf)
    large = u[_S_HIT_LARGE] < HIT_LARGE_FALL_FRACTION
    u_fall = u[_S_HIT_FALL]
    fall_drawn = np.where(large, 0.5 + 0.45 * u_fall, 0.3 + 0.2 * u_fall)
    fall = np.where(hit, fall_drawn, 0.0)
    if fixed is not None:
        hit, onset, fall = _fixed_hit_course(fixed, hit, onset_drawn, fall_drawn)
    return HeparinPatients(
        keys=keys.copy(),
        female=female,
        age_years=age,
        weight_kg=weight,
        creatinine_mg_per_dl=scr,
        crcl_ml_per_min=crcl,
        baseline_aptt_s=aptt0,
        baseline_platelets_10e9_per_l=plt0,
        v_ml=v_ml,
        kon_ml_per_u_per_h=kon,
        bmax_u=bmax,
        kint_per_h=kint,
        cl_lin_ml_per_h=cl,
        aptt_sensitivity_per_iu_per_ml=sens,
        heparin_resistant=resistant,
        hit=hit,
        hit_onset_h=onset,
        hit_fall_fraction=fall,
        eta_cl=eta_cl,
        eta_v=eta_v,
        eta_aptt_sensitivity=eta_s,
    )


#: SIR candidates per patient when CrCl is given (drawn from the patient's own streams)
CRCL_CANDIDATES = 1024
_S_CRCL_PICK = 16  # uniform stream choosing among the candidates (never renumber)
_SCR_LOG_SD = 0.3


def _scr_median(female: np.ndarray) -> np.ndarray:
    return np.where(female, 0.8, 1.0)


def _trunc_norm_pdf(x: np.ndarray, mean: np.ndarray, sd: float, lo: float, hi: float) -> np.ndarray:
    from scipy.special import ndtr

    z = (x - mean) / sd
    return np.exp(-0.5 * z * z) / (sd * (ndtr((hi - mean) / sd) - ndtr((lo - mean) / sd)))


def _conditioned_covariates(keys: np.ndarray, u: dict, z: dict, fixed: Any) -> tuple[np.ndarray, ...]:
    """Sex, age, weight and creatinine given what the user fixed (the population's links:
    weight and creatinine depend on sex; CrCl is Cockcroft-Gault of all four).

    * Sex not given but weight and / or creatinine given: P(female | them) by Bayes, drawn
      with :func:`hemosim.patients.spec.coupled_binary` on the sex stream (keeps the seeded
      sex whenever the fixed values make it at least as likely as before).
    * CrCl given (creatinine not): sampling-importance-resampling over
      :data:`CRCL_CANDIDATES` candidates (sex, age, weight) drawn from their population
      laws (fixed ones held) at counters 0, 1, ... of the patient's own streams, each weighted
      by the density of the creatinine that CrCl implies, ``phi(z) ~ p(SCr | sex) x SCr``
      (the Jacobian of SCr = CG / CrCl); the creatinine is then solved from CrCl. A
      (well-converged, not exact) draw from the conditional law; the 5 / 200 mL/min clip of
      the population is ignored.
    """
    from hemosim.patients.spec import coupled_binary

    n = keys.shape[0]
    female0 = u[_S_SEX] < 0.5
    female = fixed.pick("female", female0)
    # sex given weight / creatinine (where sex is not given and CrCl is not)
    m_sex = fixed.mask("female")
    m_crcl = fixed.mask("crcl_ml_per_min") & ~fixed.mask("creatinine_mg_per_dl")
    post_rows = ~m_sex & ~m_crcl & (fixed.mask("weight_kg") | fixed.mask("creatinine_mg_per_dl"))
    if post_rows.any():
        lf, lm = np.ones(n), np.ones(n)
        if "weight_kg" in fixed:
            w = fixed.values["weight_kg"]
            mw = fixed.mask("weight_kg")
            lf = np.where(mw, _trunc_norm_pdf(w, 77.0, 20.0, 40.0, 180.0), lf)
            lm = np.where(mw, _trunc_norm_pdf(w, 89.0, 20.0, 40.0, 180.0), lm)
        if "creatinine_mg_per_dl" in fixed:
            sc = fixed.values["creatinine_mg_per_dl"]
            ms = fixed.mask("creatinine_mg_per_dl")
            zf, zm = np.log(sc / 0.8) / _SCR_LOG_SD, np.log(sc / 1.0) / _SCR_LOG_SD
            lf = np.where(ms, np.exp(-0.5 * zf * zf), lf)
            lm = np.where(ms, np.exp(-0.5 * zm * zm), lm)
        p_post = 0.5 * lf / (0.5 * lf + 0.5 * lm)
        u_acc = rng.uniform(keys, _S_SEX, 1)
        female = np.where(post_rows, coupled_binary(u[_S_SEX], u_acc, np.full(n, 0.5), p_post), female)
    age = fixed.pick("age_years", rng.truncated_normal_from_uniform(u[_S_AGE], 62.0, 16.0, 18.0, 95.0))
    weight = fixed.pick("weight_kg", rng.truncated_normal_from_uniform(
        u[_S_WEIGHT], np.where(female, 77.0, 89.0), 20.0, 40.0, 180.0))
    scr = fixed.pick("creatinine_mg_per_dl", _scr_median(female) * np.exp(_SCR_LOG_SD * z[_S_SCR]))
    if m_crcl.any():
        rows = np.flatnonzero(m_crcl)
        k = keys[rows]
        crcl = fixed.values["crcl_ml_per_min"][rows]
        sub = fixed.select(rows)
        c = np.arange(CRCL_CANDIDATES)
        kk = np.repeat(k, CRCL_CANDIDATES)
        cc = np.tile(c, len(rows))
        rep = lambda a: np.repeat(a, CRCL_CANDIDATES)  # noqa: E731
        f_c = np.where(rep(sub.mask("female")), rep(female[rows]), rng.uniform(kk, _S_SEX, cc * 2) < 0.5)
        a_c = np.where(rep(sub.mask("age_years")), rep(age[rows]),
                       rng.truncated_normal_from_uniform(rng.uniform(kk, _S_AGE, cc), 62.0, 16.0, 18.0, 95.0))
        w_c = np.where(rep(sub.mask("weight_kg")), rep(weight[rows]), rng.truncated_normal_from_uniform(
            rng.uniform(kk, _S_WEIGHT, cc), np.where(f_c, 77.0, 89.0), 20.0, 40.0, 180.0))
        scr_c = cockcroft_gault_ml_per_min(a_c, w_c, 1.0, f_c) / rep(crcl)
        zc = np.log(scr_c / _scr_median(f_c)) / _SCR_LOG_SD
        logw = (-0.5 * zc * zc).reshape(len(rows), CRCL_CANDIDATES)
        wts = np.exp(logw - logw.max(axis=1, keepdims=True))
        pick = rng.categorical_from_uniform(rng.uniform(k, _S_CRCL_PICK), wts / wts.sum(axis=1, keepdims=True))
        j = np.arange(len(rows)) * CRCL_CANDIDATES + pick
        female[rows], age[rows], weight[rows], scr[rows] = f_c[j], a_c[j], w_c[j], scr_c[j]
    if m_crcl.any() and np.any((scr[m_crcl] < 0.05) | (scr[m_crcl] > 20.0)):
        i = int(np.flatnonzero(m_crcl & ((scr < 0.05) | (scr > 20.0)))[0])
        raise ValueError(
            f"HeparinInfusion-v0 patient: crcl_ml_per_min = {fixed.values['crcl_ml_per_min'][i]:g} with age "
            f"{age[i]:g} y, weight {weight[i]:g} kg implies a serum creatinine of {scr[i]:.3g} mg/dL, outside "
            "[0.05, 20]; give a CrCl these covariates allow"
        )
    return female, age, weight, scr


def _fixed_hit_course(fixed: Any, hit: np.ndarray, onset: np.ndarray, fall: np.ndarray) -> tuple[np.ndarray, ...]:
    """The HIT course with the user's ``hit`` / ``hit_onset_h`` / ``hit_fall_fraction``.

    An onset >= 0 or a fall > 0 means HIT; -1 / 0 mean none; ``hit`` must agree with them.
    A HIT course given without onset or fall takes the population's draw (from the same
    streams) for the missing part."""
    hit = hit.copy()
    m_hit, m_on, m_fall = fixed.mask("hit"), fixed.mask("hit_onset_h"), fixed.mask("hit_fall_fraction")
    v_on = fixed.values.get("hit_onset_h", np.zeros(len(hit)))
    v_fall = fixed.values.get("hit_fall_fraction", np.zeros(len(hit)))
    implied = np.where(m_on, v_on >= 0, np.where(m_fall, v_fall > 0, hit))
    v_hit = fixed.values.get("hit", implied)
    clash = (m_hit & (m_on | m_fall) & (v_hit != implied)) | (m_on & m_fall & ((v_on >= 0) != (v_fall > 0)))
    if clash.any():
        i = int(np.flatnonzero(clash)[0])
        raise ValueError(
            "HeparinInfusion-v0 patient: hit, hit_onset_h and hit_fall_fraction disagree "
            f"(hit = {bool(v_hit[i]) if m_hit[i] else 'not given'}, hit_onset_h = "
            f"{v_on[i] if m_on[i] else 'not given'}, hit_fall_fraction = {v_fall[i] if m_fall[i] else 'not given'}); "
            "allowed: hit True with onset in [0, 240] h and fall in [0.3, 0.95], or hit False with onset -1 and fall 0"
        )
    hit = np.where(m_hit, v_hit, implied)
    # ``onset`` / ``fall`` are the population's timing and size for a HIT course (drawn
    # whether or not this row drew HIT), used where the user gave HIT without them
    onset = np.where(m_on, np.where(v_on >= 0, v_on, np.inf), onset)
    fall = np.where(m_fall, v_fall, fall)
    return hit, np.where(hit, onset, np.inf), np.where(hit, fall, 0.0)


def elimination_factor(keys: np.ndarray, interval: np.ndarray | int, log_sd: float = ELIMINATION_IOV_LOG_SD) -> np.ndarray:
    """Within-patient factor on both elimination rate constants in 6-h interval ``interval``
    (1 = hours 0-6): ``exp(log_sd * z)``, ``z = rng.normal(key, STREAM_ELIMINATION_IOV, interval)``
    (median 1). The env's compiled step draws the same numbers (equality is a test)."""
    if log_sd == 0.0:
        return np.ones(np.broadcast(np.asarray(keys), np.asarray(interval)).shape)
    return np.exp(log_sd * rng.normal(np.asarray(keys, dtype=np.uint64), STREAM_ELIMINATION_IOV, interval))


@njit(cache=True, inline="always")
def hit_platelets_scalar_10e9_per_l(baseline: float, onset_h: float, fall: float, hours: float) -> float:
    """True platelet count (x10^9/L) of one patient at ``hours`` after heparin start.

    The one definition of the HIT course (exponential approach to ``baseline * (1 - fall)``
    with time constant ``HIT_FALL_TIME_CONSTANT_H`` from ``onset_h``; ``onset_h = inf``: no
    HIT): the env's compiled step calls it per row and :func:`hit_platelets` wraps it.
    """
    dt = max(hours - onset_h, 0.0)
    return baseline * (1.0 - fall * (-math.expm1(-dt / HIT_FALL_TIME_CONSTANT_H)))


@njit(cache=True)
def _hit_platelets_flat(baseline, onset_h, fall, hours, out):  # pragma: no cover - jitted
    for i in range(out.shape[0]):
        out[i] = hit_platelets_scalar_10e9_per_l(baseline[i], onset_h[i], fall[i], hours[i])


def hit_platelets(baseline: np.ndarray, onset_h: np.ndarray, fall: np.ndarray, hours: np.ndarray | float) -> np.ndarray:
    """True platelet count (x10^9/L) at ``hours`` after heparin start (HIT course).

    Arguments broadcast together (float64); elementwise :func:`hit_platelets_scalar_10e9_per_l`.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (baseline, onset_h, fall, hours)))
    flat = [np.array(a, dtype=np.float64).reshape(-1) for a in arrays]
    out = np.empty(flat[0].shape[0])
    _hit_platelets_flat(*flat, out)
    out = out.reshape(arrays[0].shape)
    return out if out.ndim else out[()]
