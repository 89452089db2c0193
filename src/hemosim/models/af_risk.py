"""AF risk stratification: clinical risk scores, their published event-rate tables and
Cockcroft-Gault creatinine clearance, vectorised over arrays.

This is the lower-layer home of these definitions (DESIGN.md: imports only go downward), so
``hemosim.models.doac`` can use the rate tables, the HAS-BLED renal threshold and the
Cockcroft-Gault inverse without importing the top-level ``hemosim.scores``, which re-exports
this module's public API unchanged.

Every function takes array-likes (broadcast together) and returns an integer (scores) or
float (clearance) array of the broadcast shape. Bad input raises ``ValueError`` naming the
value and what is allowed (DESIGN.md conventions). The one exception is
:func:`serum_creatinine_from_crcl_unchecked_mg_per_dl`, the same formula without validation
for the daily hot loop of ``hemosim.models.doac`` (its callers guarantee the ranges).

Sources (FACTS §6.2, §6.3)
--------------------------
* CHA2DS2-VASc: Lip GYH et al., Chest 2010;137:263 (C 1, H 1, A2 age >= 75 y 2, D 1,
  S2 prior stroke/TIA/thromboembolism 2, V vascular disease 1, A age 65-74 y 1,
  Sc female 1; maximum 9).
* CHADS2: Gage BF et al., JAMA 2001;285:2864 (CHF 1, hypertension 1, age >= 75 y 1,
  diabetes 1, prior stroke/TIA 2; maximum 6).
* HAS-BLED: Pisters R et al., Chest 2010;138:1093 (H systolic BP > 160 mmHg 1,
  A abnormal renal 1 and abnormal liver 1, S stroke 1, B bleeding history or
  predisposition 1, L labile INR (TTR < 60 %) 1, E elderly > 65 y 1, D antiplatelet/NSAID
  1 and alcohol >= 8 units/week 1; maximum 9). Abnormal renal function: dialysis,
  transplant or serum creatinine >= 200 umol/L (2.26 mg/dL).
* Cockcroft-Gault: Cockcroft DW, Gault MH, Nephron 1976;16:31, Eq. 1:
  CrCl [mL/min] = (140 - age [y]) x weight [kg] / (72 x SCr [mg/dL]), x 0.85 if female;
  actual body weight, not indexed to body surface (the method of the DOAC trials and the
  EHRA guide, FACTS §6.3).

Published annual event-rate tables by score (the baseline hazards of ``hemosim.models.doac``):
* ``CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR``: Friberg L, Rosenqvist M, Lip GYH,
  Eur Heart J 2012;33:1500 (Swedish AF cohort, patients without oral anticoagulation,
  ischaemic stroke, %/yr, unadjusted), scores 0..9 (FACTS §6.2, VERIFIED [S19]).
* ``HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR``: Pisters 2010 Table 3, bleeds per 100
  patient-years for scores 0..5; ">5" had insufficient data and uses the score-5 value
  (FACTS §6.2, VERIFIED [S20]).
* ``CHADS2_STROKE_PCT_PER_YEAR``: Gage 2001 adjusted stroke rate, scores 0..5 (score 6 =
  18.2 is UNCONFIRMED in FACTS and is not used; 6 maps to the score-5 value).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "SCR_ABNORMAL_RENAL_MG_PER_DL",
    "MG_PER_DL_PER_UMOL_PER_L",
    "CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR",
    "HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR",
    "CHADS2_STROKE_PCT_PER_YEAR",
    "cha2ds2_vasc",
    "chads2",
    "has_bled",
    "cockcroft_gault_ml_per_min",
    "serum_creatinine_from_crcl_mg_per_dl",
    "serum_creatinine_from_crcl_unchecked_mg_per_dl",
    "table_rate_pct_per_year",
]

#: 1 mg/dL creatinine = 88.4 umol/L (molar mass 113.12 g/mol).
MG_PER_DL_PER_UMOL_PER_L: float = 1.0 / 88.4
#: HAS-BLED "abnormal renal function": SCr >= 200 umol/L (Pisters 2010) = 2.26 mg/dL.
SCR_ABNORMAL_RENAL_MG_PER_DL: float = 200.0 * MG_PER_DL_PER_UMOL_PER_L

CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR: np.ndarray = np.array(
    [0.2, 0.6, 2.2, 3.2, 4.8, 7.2, 9.7, 11.2, 10.8, 12.2]
)
HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR: np.ndarray = np.array([1.13, 1.02, 1.88, 3.74, 8.70, 12.50])
CHADS2_STROKE_PCT_PER_YEAR: np.ndarray = np.array([1.9, 2.8, 4.0, 5.9, 8.5, 12.5])


def _flag(x, name: str) -> np.ndarray:
    """A 0/1 integer array from booleans or 0/1 numbers; anything else is an error."""
    arr = np.asarray(x)
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be boolean or 0/1, got dtype {arr.dtype}")
    bad = ~np.isin(arr, (0, 1))
    if np.any(bad):
        raise ValueError(f"{name} must be boolean or 0/1, got {arr[bad].ravel()[:3].tolist()}")
    return arr.astype(np.int64)


def _positive(x, name: str, *, lo: float = 0.0, hi: float = np.inf, strict: bool = True) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr <= lo if strict else arr < lo) | (arr > hi)
    if np.any(bad):
        rng = f"({lo}, {hi}]" if strict else f"[{lo}, {hi}]"
        raise ValueError(f"{name} must be finite and in {rng}, got {arr[bad].ravel()[:3].tolist()}")
    return arr


def _age(age_y) -> np.ndarray:
    return _positive(age_y, "age_y", lo=0.0, hi=130.0, strict=False)


def cha2ds2_vasc(chf, hypertension, age_y, diabetes, prior_stroke_tia, vascular_disease, female) -> np.ndarray:
    """CHA2DS2-VASc score (0-9), Lip 2010; ``prior_stroke_tia`` includes thromboembolism."""
    age = _age(age_y)
    score = (
        _flag(chf, "chf")
        + _flag(hypertension, "hypertension")
        + 2 * (age >= 75.0)
        + _flag(diabetes, "diabetes")
        + 2 * _flag(prior_stroke_tia, "prior_stroke_tia")
        + _flag(vascular_disease, "vascular_disease")
        + ((age >= 65.0) & (age < 75.0))
        + _flag(female, "female")
    )
    return np.asarray(score, dtype=np.int64)


def chads2(chf, hypertension, age_y, diabetes, prior_stroke_tia) -> np.ndarray:
    """CHADS2 score (0-6), Gage 2001."""
    age = _age(age_y)
    score = (
        _flag(chf, "chf")
        + _flag(hypertension, "hypertension")
        + (age >= 75.0)
        + _flag(diabetes, "diabetes")
        + 2 * _flag(prior_stroke_tia, "prior_stroke_tia")
    )
    return np.asarray(score, dtype=np.int64)


def has_bled(
    uncontrolled_hypertension,
    abnormal_renal,
    abnormal_liver,
    prior_stroke,
    bleeding_history,
    labile_inr,
    age_y,
    antiplatelet_or_nsaid,
    alcohol,
) -> np.ndarray:
    """HAS-BLED score (0-9), Pisters 2010. ``age_y > 65`` scores the E item."""
    age = _age(age_y)
    score = (
        _flag(uncontrolled_hypertension, "uncontrolled_hypertension")
        + _flag(abnormal_renal, "abnormal_renal")
        + _flag(abnormal_liver, "abnormal_liver")
        + _flag(prior_stroke, "prior_stroke")
        + _flag(bleeding_history, "bleeding_history")
        + _flag(labile_inr, "labile_inr")
        + (age > 65.0)
        + _flag(antiplatelet_or_nsaid, "antiplatelet_or_nsaid")
        + _flag(alcohol, "alcohol")
    )
    return np.asarray(score, dtype=np.int64)


def cockcroft_gault_ml_per_min(age_y, weight_kg, scr_mg_per_dl, female) -> np.ndarray:
    """Creatinine clearance [mL/min] by Cockcroft-Gault (1976), actual body weight.

    Age must be below 140 y (the formula is not defined beyond), weight and serum
    creatinine strictly positive.
    """
    age = _positive(age_y, "age_y", lo=0.0, hi=139.0, strict=False)
    wt = _positive(weight_kg, "weight_kg", lo=0.0, hi=500.0)
    scr = _positive(scr_mg_per_dl, "scr_mg_per_dl", lo=0.0, hi=40.0)
    sex = _flag(female, "female")
    return (140.0 - age) * wt / (72.0 * scr) * np.where(sex == 1, 0.85, 1.0)


def serum_creatinine_from_crcl_mg_per_dl(crcl_ml_per_min, age_y, weight_kg, female) -> np.ndarray:
    """Inverse of Cockcroft-Gault: the serum creatinine [mg/dL] that gives ``crcl_ml_per_min``."""
    crcl = _positive(crcl_ml_per_min, "crcl_ml_per_min", lo=0.0, hi=1000.0)
    age = _positive(age_y, "age_y", lo=0.0, hi=139.0, strict=False)
    wt = _positive(weight_kg, "weight_kg", lo=0.0, hi=500.0)
    sex = _flag(female, "female")
    return serum_creatinine_from_crcl_unchecked_mg_per_dl(crcl, age, wt, sex == 1)


def serum_creatinine_from_crcl_unchecked_mg_per_dl(crcl_ml_per_min, age_y, weight_kg, female) -> np.ndarray:
    """:func:`serum_creatinine_from_crcl_mg_per_dl` without input validation (hot loops only).

    ``female`` is a boolean array; the caller guarantees CrCl > 0, 0 <= age < 140 y and weight > 0
    (``hemosim.models.doac`` clips age at 139 y and floors CrCl). Cockcroft-Gault 1976, Eq. 1, inverted.
    """
    return (140.0 - age_y) * weight_kg / (72.0 * crcl_ml_per_min) * np.where(female, 0.85, 1.0)


def table_rate_pct_per_year(table: np.ndarray, score) -> np.ndarray:
    """Look up a published rate table by integer score; scores above the table use its last row."""
    s = np.asarray(score)
    if s.dtype.kind not in "iu" or np.any(s < 0):
        raise ValueError(f"score must be a non-negative integer array, got {np.asarray(score).ravel()[:3].tolist()}")
    return np.asarray(table, dtype=np.float64)[np.minimum(s, len(table) - 1)]
