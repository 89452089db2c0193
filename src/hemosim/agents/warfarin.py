"""Warfarin dosing baselines: published initial-dose algorithms plus INR-guided titration.

Pure dose functions (vectorised over numpy arrays; units in the names)
----------------------------------------------------------------------
- :func:`iwpc_pharmacogenetic_weekly_dose_mg`, :func:`iwpc_clinical_weekly_dose_mg`:
  Klein TE et al. (IWPC), N Engl J Med 2009;360:753-764, Supplementary Appendix S1e/S1f
  (FACTS §2.1, VERIFIED). The equations give sqrt(weekly dose in mg); we square them.
- :func:`gage2008_daily_dose_mg`: Gage BF et al., Clin Pharmacol Ther 2008;84:326-331
  (FACTS §2.2; coefficients VERIFIED against the per-unit effects of the abstract, output unit
  mg/day inferred, see FACTS). Body surface area by Mosteller (:func:`mosteller_bsa_m2`) is an
  ASSUMPTION: the formula Gage used was not verified.
- :func:`eu_pact_loading_doses_mg`: the EU-PACT 3-day loading regimen built on a predicted
  maintenance dose (FACTS §2.1). UNVERIFIED: seen only in ReiL ``iwpc.py`` (anzabizadeh/ReiL),
  which cites "EU-PACT report p. 19"; the Pirmohamed 2013 supplement itself was not found. The
  only independent check found is indirect: Shendre/French et al., Pharmacogenet Genomics
  2016;26:445 (PMC5014593, Table 3) report that the EU-PACT strategy's mean 3-day dose was
  1.3-1.5 x the maintenance dose, consistent with this formula's 1.34 x for CYP2C9 *1/*1.

INR-guided titration (acts only on scheduled INR checks)
--------------------------------------------------------
Scheduled INR checks (:data:`SCHEDULED_CHECK_DAYS`): therapy days 3, 5 and 8, the schedule
of the Kovacs outpatient 10-mg nomogram (Kovacs MJ et al., Ann Intern Med 2003;138:714 and
Pathophysiol Haemost Thromb 2002;32:131; FACTS §2.3, VERIFIED), then days 15, 22, 29, 57 and
85: weekly in the first month and monthly after, eight scheduled visits in the 12 weeks as in
EU-PACT ("8 scheduled visits in 3 months", NCT01119300, FACTS §2.3, VERIFIED; the exact days
after day 8 are UNCONFIRMED, the commonly cited 8, 15, 22, 29 and then about monthly).
Every check is answered with Table A below, which may ask for an earlier recheck; a recheck
is never later than the next scheduled visit. The Kovacs dose-by-INR table was NOT found
(FACTS §2.3), so Table A also answers the day-3 and day-5 checks (an INR < 1.6 there earns
the Table A extra dose and +10 %, in the direction of the Kovacs and Crowther nomograms,
which raise the dose when the early INR is low).

hemosim 0.3 acted at the day-3/5 checks only on INR above range and then followed Table A's
own recheck intervals (up to 28 days) with no scheduled visits. Measured on 400 held-out
patients, medium tier, calibrated population (12-week TTR, hemosim 0.3 rules -> these):
fixed-dose 41.4 -> 51.1, IWPC pharmacogenetic 56.9 -> 68.5; COAG window (days 4-28): IWPC
clinical 34.1 -> 38.7, Gage 42.4 -> 47.4. The scheduled visits alone gave 48.3 / 63.7 / 34.8 /
44.5.

Titration rules: Table A of FACTS §2.3, the Intermountain maintenance protocol
(Anderson JL et al., Circulation 2007;116:2563, online supplement Appendix B, as coded in ReiL
``intermountain.py``, which starts it on day 8; here from the first check). Zones by INR (two decimals):

====================  ===========  =====================================================  ================
INR                   zone         action                                                 next INR (days):
                                                                                          first / same zone
====================  ===========  =====================================================  ================
< 1.60                action low   today 2 x daily dose, then weekly dose +10 %           5 / 14
1.60-1.79             red low      today 1.5 x daily dose, then +5 %                      7 / 14
1.80-1.99             yellow low   none the first time; +5 % if again in this zone        14 / 14
2.00-3.00             green        none                                                   14 / 28
3.01-3.39             yellow high  none the first time; -5 % if again in this zone        14 / 14
3.40-4.99             red high     today 0.5 x daily dose (hold if INR >= 4.0), then -10 %  7 / 14
>= 5.00               action high  hold 2 days and recheck; when back in yellow or green,  2
                                   -15 % and recheck in 7 days
====================  ===========  =====================================================  ================

Two gaps of the table are filled by our choice (documented, not published): after a hold for
INR >= 5.0, an INR that has fallen *below* yellow is also answered with -15 % and a recheck
in 7 days; an INR still >= 3.40 is held two more days (as ReiL does).

Between checks the protocol ignores the INR in the observation. Doses are tablet-friendly:
the weekly dose is kept exactly and delivered as daily doses in 0.5 mg steps whose running sum
tracks it (a "3 mg most days, 3.5 mg some days" schedule), capped at 15 mg/day (the action
space).

Day numbering: the env's observation of day ``d`` is the morning after ``d`` doses, so the
dose chosen from it is therapy day ``d + 1`` (day 1 = first dose) and an INR "on therapy day
3" is the observation of env day 2.

Initial doses of the agents
---------------------------
- :class:`WarfarinClinicalBaseline`: EU-PACT control arm, 10/5/5 mg on days 1-3 if age <= 75 y,
  else 5/5/5 mg (anticoagulant-trials.eu EU-PACT page; Pirmohamed's EU-PACT trial slides,
  studylib.net/doc/5750912; Nat Rev Cardiol 2021 PMC8364496 Table 3; VERIFIED); then 5 mg/day
  (our choice: EU-PACT left days 4-5 to local practice after a day-4 INR, and from day 6 "INR
  checked, dose adjusted according to INR - local clinical practice", same slides) and the
  titration above. EU-PACT's own visit days after day 4 were not found, hence Kovacs's days.
- :class:`IWPCPharmacogeneticBaseline`: IWPC 2009 pharmacogenetic dose, by default with the
  EU-PACT loading regimen on days 1-3 (the genotype arm of EU-PACT loaded; PMC5014593 abstract:
  "EU-PACT ... initiated therapy on the basis of loading doses"). EU-PACT used a modified IWPC
  equation (age in years, no race / unknown-genotype terms; FACTS §2.1, U) and a day-4/5 dose
  revision; we use the original IWPC 2009 equation and no day-4/5 revision here (the trial-arm
  protocols with the day-4 revision are in :mod:`hemosim.agents.warfarin_trials`).
- :class:`IWPCClinicalBaseline`, :class:`Gage2008Baseline`: the predicted maintenance dose from
  day 1, as COAG did ("COAG ... initiated therapy on the basis of predicted maintenance doses",
  PMC5014593 abstract).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
from numpy.typing import ArrayLike

from hemosim.envs.warfarin import EPISODE_DAYS, MAX_DOSE_MG
from hemosim.models.warfarin import CYP2C9_GENOTYPES, VKORC1_GENOTYPES
from hemosim.patients.warfarin import ANCESTRIES

__all__ = [
    "CYP2C9_GENOTYPES",
    "VKORC1_GENOTYPES",
    "ANCESTRIES",
    "IWPC_PHARMACOGENETIC",
    "IWPC_CLINICAL",
    "GAGE_2008",
    "EU_PACT_ELIMINATION_RATE_PER_H",
    "INITIATION_CHECK_DAYS",
    "SCHEDULED_CHECK_DAYS",
    "MAINTENANCE_START_DAY",
    "MAX_DAILY_DOSE_MG",
    "IWPCPharmacogeneticCoefficients",
    "IWPCClinicalCoefficients",
    "Gage2008Coefficients",
    "iwpc_pharmacogenetic_weekly_dose_mg",
    "iwpc_clinical_weekly_dose_mg",
    "gage2008_daily_dose_mg",
    "mosteller_bsa_m2",
    "eu_pact_loading_doses_mg",
    "eu_pact_control_initiation_doses_mg",
    "intermountain_zone",
    "intermountain_decision",
    "round_dose_mg",
    "WarfarinClinicalBaseline",
    "IWPCPharmacogeneticBaseline",
    "IWPCClinicalBaseline",
    "Gage2008Baseline",
]

#: Action scale of the env: dose_mg = MAX_DAILY_DOSE_MG x action.
MAX_DAILY_DOSE_MG = MAX_DOSE_MG
#: Kovacs 2003 outpatient nomogram INR days (FACTS §2.3, VERIFIED); day 8 starts maintenance.
INITIATION_CHECK_DAYS: tuple[int, ...] = (3, 5, 8)
#: Every scheduled INR check (therapy days): Kovacs days, then EU-PACT-like visits (module doc).
SCHEDULED_CHECK_DAYS: tuple[int, ...] = INITIATION_CHECK_DAYS + (15, 22, 29, 57, 85)
#: Intermountain maintenance protocol starts on therapy day 8 in ReiL intermountain.py (FACTS §2.3);
#: kept for reference: since hemosim 0.4 Table A answers every scheduled check (module doc).
MAINTENANCE_START_DAY = 8
_STEPS_PER_DAY_NORMALISER = float(EPISODE_DAYS)  # obs[7] = day / 90 (env card)


def _coef(value: float, unit: str, source: str) -> Any:
    return field(default=value, metadata={"unit": unit, "source": source})


_IWPC_SRC = "Klein 2009 NEJM 360:753 (IWPC), Suppl. Appendix S1e (pharmacogenetic); FACTS §2.1"
_IWPC_CL_SRC = "Klein 2009 NEJM 360:753 (IWPC), Suppl. Appendix S1f (clinical); FACTS §2.1"
_SQRT = "sqrt(mg/week)"


@dataclass(frozen=True)
class IWPCPharmacogeneticCoefficients:
    """IWPC 2009 pharmacogenetic equation; the sum is sqrt(weekly dose in mg)."""

    intercept: float = _coef(5.6044, _SQRT, _IWPC_SRC)
    age_decades: float = _coef(-0.2614, f"{_SQRT} per decade (floor(age/10))", _IWPC_SRC)
    height_cm: float = _coef(0.0087, f"{_SQRT} per cm", _IWPC_SRC)
    weight_kg: float = _coef(0.0128, f"{_SQRT} per kg", _IWPC_SRC)
    vkorc1_ga: float = _coef(-0.8677, _SQRT, _IWPC_SRC)
    vkorc1_aa: float = _coef(-1.6974, _SQRT, _IWPC_SRC)
    vkorc1_unknown: float = _coef(-0.4854, _SQRT, _IWPC_SRC)
    cyp2c9_12: float = _coef(-0.5211, _SQRT, _IWPC_SRC)
    cyp2c9_13: float = _coef(-0.9357, _SQRT, _IWPC_SRC)
    cyp2c9_22: float = _coef(-1.0616, _SQRT, _IWPC_SRC)
    cyp2c9_23: float = _coef(-1.9206, _SQRT, _IWPC_SRC)
    cyp2c9_33: float = _coef(-2.3312, _SQRT, _IWPC_SRC)
    cyp2c9_unknown: float = _coef(-0.2188, _SQRT, _IWPC_SRC)
    asian: float = _coef(-0.1092, _SQRT, _IWPC_SRC)
    black: float = _coef(-0.2760, _SQRT, _IWPC_SRC)
    missing_or_mixed_race: float = _coef(-0.1032, _SQRT, _IWPC_SRC)
    enzyme_inducer: float = _coef(1.1816, _SQRT, _IWPC_SRC)
    amiodarone: float = _coef(-0.5503, _SQRT, _IWPC_SRC)


@dataclass(frozen=True)
class IWPCClinicalCoefficients:
    """IWPC 2009 clinical equation; the sum is sqrt(weekly dose in mg)."""

    intercept: float = _coef(4.0376, _SQRT, _IWPC_CL_SRC)
    age_decades: float = _coef(-0.2546, f"{_SQRT} per decade (floor(age/10))", _IWPC_CL_SRC)
    height_cm: float = _coef(0.0118, f"{_SQRT} per cm", _IWPC_CL_SRC)
    weight_kg: float = _coef(0.0134, f"{_SQRT} per kg", _IWPC_CL_SRC)
    asian: float = _coef(-0.6752, _SQRT, _IWPC_CL_SRC)
    black: float = _coef(0.4060, _SQRT, _IWPC_CL_SRC)
    missing_or_mixed_race: float = _coef(0.0443, _SQRT, _IWPC_CL_SRC)
    enzyme_inducer: float = _coef(1.2799, _SQRT, _IWPC_CL_SRC)
    amiodarone: float = _coef(-0.5695, _SQRT, _IWPC_CL_SRC)


_GAGE_SRC = ("Gage 2008 Clin Pharmacol Ther 84:326 (coefficients as coded in ReiL gage.py, each matching "
             "the per-unit % effect in the PMC2683977 abstract); FACTS §2.2")
_LN = "ln(mg/day)"


@dataclass(frozen=True)
class Gage2008Coefficients:
    """Gage 2008 pharmacogenetic equation; the sum is ln(daily dose in mg)."""

    intercept: float = _coef(0.9751, _LN, _GAGE_SRC)
    vkorc1_a_allele: float = _coef(-0.3238, f"{_LN} per VKORC1 -1639A (3673A) allele", _GAGE_SRC)
    bsa_m2: float = _coef(0.4317, f"{_LN} per m^2", _GAGE_SRC)
    cyp2c9_3_allele: float = _coef(-0.4008, f"{_LN} per *3 allele", _GAGE_SRC)
    age_years: float = _coef(-0.00745, f"{_LN} per year", _GAGE_SRC)
    cyp2c9_2_allele: float = _coef(-0.2066, f"{_LN} per *2 allele", _GAGE_SRC)
    target_inr: float = _coef(0.2029, f"{_LN} per INR unit", _GAGE_SRC)
    amiodarone: float = _coef(-0.2538, _LN, _GAGE_SRC)
    smoker: float = _coef(0.0922, _LN, _GAGE_SRC)
    african_american: float = _coef(-0.0901, _LN, _GAGE_SRC)
    dvt_pe: float = _coef(0.0664, _LN, _GAGE_SRC)


IWPC_PHARMACOGENETIC = IWPCPharmacogeneticCoefficients()
IWPC_CLINICAL = IWPCClinicalCoefficients()
GAGE_2008 = Gage2008Coefficients()

#: EU-PACT loading regimen: S-warfarin elimination rate constant by CYP2C9 (1/h).
#: UNVERIFIED (ReiL iwpc.py citing "EU-PACT report p. 19"; FACTS §2.1 [U]).
EU_PACT_ELIMINATION_RATE_PER_H: Mapping[str, float] = {
    "*1/*1": 0.0189, "*1/*2": 0.0158, "*1/*3": 0.0132, "*2/*2": 0.0130, "*2/*3": 0.0090, "*3/*3": 0.0075,
}

# ----------------------------------------------------------------------------------------
# input coding
# ----------------------------------------------------------------------------------------


def _as_object_array(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    return arr.reshape(1) if arr.ndim == 0 else arr


def _lookup(values: Any, table: Mapping[Any, float], name: str) -> np.ndarray:
    """Map each entry through ``table``; unknown entries raise naming the value and the allowed ones."""
    arr = _as_object_array(values, name)
    out = np.empty(arr.shape, dtype=np.float64)
    flat_in, flat_out = arr.ravel(), out.ravel()
    for i, v in enumerate(flat_in):
        key = None if v is None else (v.item() if isinstance(v, np.generic) else v)
        if key not in table:
            allowed = ", ".join(repr(k) for k in table)
            raise ValueError(f"{name} {v!r} is not recognised; allowed: {allowed}")
        flat_out[i] = table[key]
    return out


def _numeric(values: ArrayLike, name: str, low: float, high: float) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < low) | (arr > high)
    if np.any(bad):
        raise ValueError(f"{name} must be finite and in [{low}, {high}]; got {np.atleast_1d(arr[bad])[:5]}")
    return arr


def _flag(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype == object:
        ok = all(isinstance(v, (bool, np.bool_)) or v in (0, 1) for v in arr.ravel())
        if not ok:
            raise ValueError(f"{name} must be booleans (or 0/1); got {arr.ravel()[:5]}")
        return arr.astype(bool).astype(np.float64)
    if arr.dtype.kind not in "biu" or np.any((arr != 0) & (arr != 1)):
        raise ValueError(f"{name} must be booleans (or 0/1); got {np.atleast_1d(arr)[:5]}")
    return arr.astype(np.float64)


def _race_indicators(ancestry: Any, coefs: Any) -> np.ndarray:
    """IWPC race term from the env's ancestry labels.

    european -> White (reference, 0); african -> Black or African American; east_asian and
    south_asian -> Asian; admixed_american -> "missing or mixed race" (IWPC coding, FACTS §2.1).
    """
    table = {
        "european": 0.0,
        "african": coefs.black,
        "east_asian": coefs.asian,
        "south_asian": coefs.asian,
        "admixed_american": coefs.missing_or_mixed_race,
    }
    return _lookup(ancestry, table, "ancestry")


# ----------------------------------------------------------------------------------------
# pure dose functions
# ----------------------------------------------------------------------------------------


def iwpc_pharmacogenetic_weekly_dose_mg(
    age_years: ArrayLike,
    height_cm: ArrayLike,
    weight_kg: ArrayLike,
    cyp2c9: Any,
    vkorc1: Any,
    ancestry: Any,
    enzyme_inducer: ArrayLike = False,
    amiodarone: ArrayLike = False,
    coefs: IWPCPharmacogeneticCoefficients = IWPC_PHARMACOGENETIC,
) -> np.ndarray:
    """IWPC 2009 pharmacogenetic maintenance dose (mg/week), squared from the published sqrt scale.

    Args:
        age_years: age (y); enters as decades, floor(age / 10) (IWPC coding).
        height_cm, weight_kg: body size.
        cyp2c9: one of :data:`CYP2C9_GENOTYPES` or ``None`` (unknown -> the "unknown" coefficient).
        vkorc1: VKORC1 -1639 (rs9923231) genotype "GG" / "GA" / "AA" or ``None`` (unknown).
        ancestry: one of :data:`ANCESTRIES` (mapped to IWPC race, see ``_race_indicators``).
        enzyme_inducer: carbamazepine, phenytoin, rifampin or rifampicin (bool).
        amiodarone: bool.
    """
    c = coefs
    age = _numeric(age_years, "age_years", 0.0, 130.0)
    h = _numeric(height_cm, "height_cm", 50.0, 250.0)
    w = _numeric(weight_kg, "weight_kg", 10.0, 400.0)
    vk = _lookup(vkorc1, {"GG": 0.0, "GA": c.vkorc1_ga, "AA": c.vkorc1_aa, None: c.vkorc1_unknown}, "vkorc1")
    cyp = _lookup(
        cyp2c9,
        {"*1/*1": 0.0, "*1/*2": c.cyp2c9_12, "*1/*3": c.cyp2c9_13, "*2/*2": c.cyp2c9_22,
         "*2/*3": c.cyp2c9_23, "*3/*3": c.cyp2c9_33, None: c.cyp2c9_unknown},
        "cyp2c9",
    )
    sqrt_weekly = (
        c.intercept
        + c.age_decades * np.floor(age / 10.0)
        + c.height_cm * h
        + c.weight_kg * w
        + vk
        + cyp
        + _race_indicators(ancestry, c)
        + c.enzyme_inducer * _flag(enzyme_inducer, "enzyme_inducer")
        + c.amiodarone * _flag(amiodarone, "amiodarone")
    )
    return np.asarray(sqrt_weekly, dtype=np.float64) ** 2


def iwpc_clinical_weekly_dose_mg(
    age_years: ArrayLike,
    height_cm: ArrayLike,
    weight_kg: ArrayLike,
    ancestry: Any,
    enzyme_inducer: ArrayLike = False,
    amiodarone: ArrayLike = False,
    coefs: IWPCClinicalCoefficients = IWPC_CLINICAL,
) -> np.ndarray:
    """IWPC 2009 clinical maintenance dose (mg/week); arguments as the pharmacogenetic one."""
    c = coefs
    age = _numeric(age_years, "age_years", 0.0, 130.0)
    h = _numeric(height_cm, "height_cm", 50.0, 250.0)
    w = _numeric(weight_kg, "weight_kg", 10.0, 400.0)
    sqrt_weekly = (
        c.intercept
        + c.age_decades * np.floor(age / 10.0)
        + c.height_cm * h
        + c.weight_kg * w
        + _race_indicators(ancestry, c)
        + c.enzyme_inducer * _flag(enzyme_inducer, "enzyme_inducer")
        + c.amiodarone * _flag(amiodarone, "amiodarone")
    )
    return np.asarray(sqrt_weekly, dtype=np.float64) ** 2


def mosteller_bsa_m2(height_cm: ArrayLike, weight_kg: ArrayLike) -> np.ndarray:
    """Body surface area (m^2) by Mosteller, sqrt(height_cm x weight_kg / 3600).

    Used for Gage 2008 as an ASSUMPTION: the BSA formula of Gage 2008 was not verified
    (FACTS §2.2; ReiL falls back to Mosteller too).
    """
    h = _numeric(height_cm, "height_cm", 50.0, 250.0)
    w = _numeric(weight_kg, "weight_kg", 10.0, 400.0)
    return np.sqrt(h * w / 3600.0)


def gage2008_daily_dose_mg(
    age_years: ArrayLike,
    bsa_m2: ArrayLike,
    cyp2c9: Any,
    vkorc1: Any,
    ancestry: Any,
    target_inr: ArrayLike = 2.5,
    amiodarone: ArrayLike = False,
    smoker: ArrayLike = False,
    dvt_pe: ArrayLike = False,
    coefs: Gage2008Coefficients = GAGE_2008,
) -> np.ndarray:
    """Gage 2008 pharmacogenetic maintenance dose (mg/day) = exp(linear predictor).

    Genotypes enter as allele counts (0/1/2): VKORC1 -1639A (= 3673A), CYP2C9 *2, CYP2C9 *3
    (FACTS §2.2: "per allele"). Unknown genotypes (``None``) are not allowed: the published
    equation has no unknown-genotype terms. ``ancestry == "african"`` sets the African-American
    term. ``dvt_pe``: the indication is venous thromboembolism.
    """
    c = coefs
    age = _numeric(age_years, "age_years", 0.0, 130.0)
    bsa = _numeric(bsa_m2, "bsa_m2", 0.3, 4.0)
    target = _numeric(target_inr, "target_inr", 1.0, 5.0)
    a_alleles = _lookup(vkorc1, {"GG": 0.0, "GA": 1.0, "AA": 2.0}, "vkorc1")
    star2 = _lookup(cyp2c9, {"*1/*1": 0, "*1/*2": 1, "*1/*3": 0, "*2/*2": 2, "*2/*3": 1, "*3/*3": 0}, "cyp2c9")
    star3 = _lookup(cyp2c9, {"*1/*1": 0, "*1/*2": 0, "*1/*3": 1, "*2/*2": 0, "*2/*3": 1, "*3/*3": 2}, "cyp2c9")
    african = _lookup(ancestry, {a: float(a == "african") for a in ANCESTRIES}, "ancestry")
    ln_dose = (
        c.intercept
        + c.vkorc1_a_allele * a_alleles
        + c.bsa_m2 * bsa
        + c.cyp2c9_3_allele * star3
        + c.age_years * age
        + c.cyp2c9_2_allele * star2
        + c.target_inr * target
        + c.amiodarone * _flag(amiodarone, "amiodarone")
        + c.smoker * _flag(smoker, "smoker")
        + c.african_american * african
        + c.dvt_pe * _flag(dvt_pe, "dvt_pe")
    )
    return np.exp(np.asarray(ln_dose, dtype=np.float64))


def eu_pact_loading_doses_mg(maintenance_daily_dose_mg: ArrayLike, cyp2c9: Any) -> np.ndarray:
    """EU-PACT loading doses (mg) for therapy days 1, 2, 3, shape ``(..., 3)``. UNVERIFIED.

    With D the predicted maintenance dose (mg/day) and k the CYP2C9-specific elimination rate
    (1/h, :data:`EU_PACT_ELIMINATION_RATE_PER_H`):
    LD3 = D / [(1 - e^(-24k)) (1 + e^(-24k) + e^(-48k))]; day 1 = 1.5 LD3 - 0.5 D,
    day 2 = LD3, day 3 = 0.5 LD3 + 0.5 D (FACTS §2.1, from ReiL iwpc.py citing the EU-PACT
    report p. 19; primary text not seen).
    """
    d = _numeric(maintenance_daily_dose_mg, "maintenance_daily_dose_mg", 0.0, 1000.0)
    k = _lookup(cyp2c9, EU_PACT_ELIMINATION_RATE_PER_H, "cyp2c9")
    d, k = np.broadcast_arrays(d, k)
    q = np.exp(-24.0 * k)
    ld3 = d / ((1.0 - q) * (1.0 + q + q * q))
    return np.stack([1.5 * ld3 - 0.5 * d, ld3, 0.5 * ld3 + 0.5 * d], axis=-1)


def eu_pact_control_initiation_doses_mg(age_years: ArrayLike) -> np.ndarray:
    """EU-PACT control arm, days 1-3 (mg): 10/5/5 if age <= 75 y, else 5/5/5 (FACTS §2.3, VERIFIED)."""
    age = _numeric(age_years, "age_years", 0.0, 130.0)
    day1 = np.where(age <= 75.0, 10.0, 5.0)
    return np.stack([day1, np.full_like(day1, 5.0), np.full_like(day1, 5.0)], axis=-1)


def round_dose_mg(dose_mg: ArrayLike, step_mg: float = 0.5) -> np.ndarray:
    """Round non-negative doses (mg) to the nearest multiple of ``step_mg`` (halves round up)."""
    return np.floor(np.asarray(dose_mg, dtype=np.float64) / step_mg + 0.5) * step_mg


# ----------------------------------------------------------------------------------------
# Intermountain Table A (FACTS §2.3)
# ----------------------------------------------------------------------------------------

ACTION_LOW, RED_LOW, YELLOW_LOW, GREEN, YELLOW_HIGH, RED_HIGH, ACTION_HIGH = range(7)
NO_ZONE = -1


def intermountain_zone(inr: ArrayLike) -> np.ndarray:
    """Zone index (0 action low ... 6 action high) of an INR, read to two decimals (Table A)."""
    x = np.round(np.asarray(inr, dtype=np.float64), 2)
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise ValueError(f"INR must be finite and positive; got {np.atleast_1d(x)[:5]}")
    # upper bounds (exclusive) of zones 0..5; green includes 3.00, yellow high starts at 3.01
    return np.select(
        [x < 1.60, x < 1.80, x < 2.00, x <= 3.00, x < 3.40, x < 5.00],
        [ACTION_LOW, RED_LOW, YELLOW_LOW, GREEN, YELLOW_HIGH, RED_HIGH],
        default=ACTION_HIGH,
    ).astype(np.int64)


@dataclass(frozen=True)
class TitrationDecision:
    """What one INR check decides (arrays over patients).

    ``weekly_factor``: multiplier on the weekly maintenance dose from tomorrow on (from the
    day after the special days). ``special_factor``: today's dose as a multiple of the current
    daily dose (NaN = no special dose); ``special_days``: how many days (from today) take that
    special dose (holds last 2 days). ``next_check_in_days``: days from today to the next INR.
    """

    zone: np.ndarray
    weekly_factor: np.ndarray
    special_factor: np.ndarray
    special_days: np.ndarray
    next_check_in_days: np.ndarray


def intermountain_decision(inr: ArrayLike, last_zone: ArrayLike) -> TitrationDecision:
    """Table A (Intermountain; Anderson 2007 Circulation suppl. Appendix B) for one INR check.

    ``last_zone`` is the zone of the previous check (``NO_ZONE`` = -1 if none). After an
    action-high hold (``last_zone == ACTION_HIGH``): INR < 3.40 -> -15 % and recheck in 7 days
    (Table A says "yellow or green"; lower zones handled the same way, our choice); INR >= 3.40 ->
    hold 2 more days and recheck in 2 (as ReiL).
    """
    x = np.round(np.asarray(inr, dtype=np.float64), 2)
    zone = intermountain_zone(x)
    last = np.broadcast_to(np.asarray(last_zone, dtype=np.int64), zone.shape)
    same = zone == last
    nan = np.nan
    # per zone: weekly factor (first, same), special factor, special days, next check (first, same)
    weekly_first = np.array([1.10, 1.05, 1.00, 1.00, 1.00, 0.90, 1.00])
    weekly_same = np.array([1.10, 1.05, 1.05, 1.00, 0.95, 0.90, 1.00])
    special = np.array([2.0, 1.5, nan, nan, nan, 0.5, 0.0])
    special_days = np.array([1, 1, 0, 0, 0, 1, 2])
    next_first = np.array([5, 7, 14, 14, 14, 7, 2])
    next_same = np.array([14, 14, 14, 28, 14, 14, 2])
    wf = np.where(same, weekly_same[zone], weekly_first[zone])
    sf = special[zone].copy()
    sf = np.where((zone == RED_HIGH) & (x >= 4.0), 0.0, sf)  # hold today if INR >= 4.0
    sd = special_days[zone].copy()
    nxt = np.where(same, next_same[zone], next_first[zone])
    after_hold = last == ACTION_HIGH
    resume = after_hold & (zone < RED_HIGH)
    hold_again = after_hold & (zone >= RED_HIGH)
    wf = np.where(resume, 0.85, np.where(hold_again, 1.0, wf))
    sf = np.where(resume, nan, np.where(hold_again, 0.0, sf))
    sd = np.where(resume, 0, np.where(hold_again, 2, sd))
    nxt = np.where(resume, 7, np.where(hold_again, 2, nxt))
    return TitrationDecision(zone, wf, sf, sd.astype(np.int64), nxt.astype(np.int64))


# ----------------------------------------------------------------------------------------
# agents
# ----------------------------------------------------------------------------------------


def _obs_batch(obs: Any) -> tuple[np.ndarray, bool]:
    arr = np.asarray(obs, dtype=np.float64)
    single = arr.ndim == 1
    if single:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != 8:
        raise ValueError(f"obs must have shape (8,) or (N, 8); got {np.shape(obs)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"obs contains non-finite values {arr[~np.isfinite(arr)][:5]}; observations must be finite")
    return arr, single


def _obs_day(arr: np.ndarray) -> np.ndarray:
    return np.rint(arr[:, 7] * _STEPS_PER_DAY_NORMALISER).astype(np.int64)


class _InrGuidedProtocol:
    """Initial doses (subclass) + Kovacs-day initiation checks + Intermountain Table A.

    Stateful and batched: ``predict(obs)`` takes one observation ``(8,)`` or a batch
    ``(N, 8)`` and returns float32 actions ``(1,)`` or ``(N, 1)`` in [0, 1]. A patient whose
    observation has day 0 starts a new episode (its state is re-initialised); ``reset()``
    forgets every patient.
    """

    needs_info = False
    #: therapy days of the scheduled INR checks (the first one starts the titration)
    check_days: tuple[int, ...] = SCHEDULED_CHECK_DAYS
    #: therapy day whose check is answered by :meth:`_revise` instead of Table A (None: none)
    revision_day: int | None = None

    def __init__(self, dose_step_mg: float = 0.5, max_daily_dose_mg: float = MAX_DAILY_DOSE_MG) -> None:
        if not (np.isfinite(dose_step_mg) and dose_step_mg > 0):
            raise ValueError(f"dose_step_mg must be > 0; got {dose_step_mg!r}")
        if not (0 < max_daily_dose_mg <= MAX_DAILY_DOSE_MG):
            raise ValueError(f"max_daily_dose_mg must be in (0, {MAX_DAILY_DOSE_MG}]; got {max_daily_dose_mg!r}")
        self.dose_step_mg = float(dose_step_mg)
        self.max_daily_dose_mg = float(max_daily_dose_mg)
        self.reset()

    # -- state ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all patients; the next call must start every patient at day 0."""
        self._n = 0
        self._started = np.zeros(0, dtype=bool)
        self._initiation_mg = np.zeros((0, 3))
        self._weekly_mg = np.zeros(0)
        self._residual_mg = np.zeros(0)
        self._next_check_day = np.zeros(0, dtype=np.int64)
        self._last_zone = np.zeros(0, dtype=np.int64)
        self._special_mg = np.zeros(0)
        self._special_until_day = np.zeros(0, dtype=np.int64)
        self._last_day = np.zeros(0, dtype=np.int64)
        self._given_mg = np.zeros((0, EPISODE_DAYS + 2))
        #: therapy days on which each patient's INR was read (for evaluation / tests)
        self.check_log: list[list[tuple[int, float]]] = []

    def _resize(self, n: int) -> None:
        self.reset()
        self._n = n
        self._started = np.zeros(n, dtype=bool)
        self._initiation_mg = np.zeros((n, 3))
        self._weekly_mg = np.zeros(n)
        self._residual_mg = np.zeros(n)
        self._next_check_day = np.zeros(n, dtype=np.int64)
        self._last_zone = np.full(n, NO_ZONE, dtype=np.int64)
        self._special_mg = np.zeros(n)
        self._special_until_day = np.zeros(n, dtype=np.int64)
        self._last_day = np.full(n, -1, dtype=np.int64)
        self._given_mg = np.zeros((n, EPISODE_DAYS + 2))  # [i, d]: dose given on therapy day d (mg)
        self.check_log = [[] for _ in range(n)]

    def _initial_doses(self, obs: np.ndarray, info: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Days 1-3 doses ``(k, 3)`` (mg) and the maintenance weekly dose ``(k,)`` (mg/week)."""
        raise NotImplementedError

    # -- policy -----------------------------------------------------------------------
    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        """Dose action(s) for the current morning's observation(s); see the class docstring."""
        if self.needs_info and info is None:
            raise ValueError(
                f"{type(self).__name__} needs the env's info (patient covariates): call predict(obs, info)"
            )
        arr, single = _obs_batch(obs)
        n = arr.shape[0]
        env_day = _obs_day(arr)
        new = env_day == 0
        if n != self._n:
            if not np.all(new) and self._n == 0:
                i = int(np.flatnonzero(~new)[0])
                raise ValueError(f"patient {i}: first observation has day {env_day[i]}, expected day 0 (episode start)")
            if not np.all(new):
                raise ValueError(
                    f"batch size changed from {self._n} to {n} mid-episode; all patients must be at day 0"
                )
            self._resize(n)
        not_started = ~self._started & ~new
        if np.any(not_started):
            i = int(np.flatnonzero(not_started)[0])
            raise ValueError(f"patient {i}: first observation has day {env_day[i]}, expected day 0 (episode start)")
        stale = ~new & (env_day != self._last_day + 1)
        if np.any(stale):
            i = int(np.flatnonzero(stale)[0])
            raise ValueError(
                f"patient {i}: observation day {env_day[i]} does not follow the previous day {self._last_day[i]}"
            )
        if np.any(new):
            self._start(arr, info, np.flatnonzero(new))
        day = env_day + 1  # therapy day of the dose chosen now (day 1 = first dose)
        inr = arr[:, 0] * 6.0  # measured INR (obs 0 = INR / 6, clipped at 6)
        check = day == self._next_check_day
        revise = check & (day == self.revision_day) if self.revision_day is not None else np.zeros(n, bool)
        if np.any(revise):
            self._revise(np.flatnonzero(revise), day, inr)
        if np.any(check & ~revise):
            self._check(np.flatnonzero(check & ~revise), day, inr)
        dose = self._dose_today(day)
        self._given_mg[np.arange(n), np.minimum(day, EPISODE_DAYS + 1)] = dose
        self._last_day = env_day
        action = (dose / MAX_DAILY_DOSE_MG).astype(np.float32)[:, None]
        return action[0] if single else action

    def _start(self, arr: np.ndarray, info: Any, rows: np.ndarray) -> None:
        init_mg, weekly_mg = self._initial_doses(arr, info, rows)
        self._initiation_mg[rows] = round_dose_mg(np.clip(init_mg, 0.0, self.max_daily_dose_mg), self.dose_step_mg)
        self._weekly_mg[rows] = np.clip(weekly_mg, 0.0, 7.0 * self.max_daily_dose_mg)
        self._residual_mg[rows] = 0.0
        self._given_mg[rows] = 0.0
        self._next_check_day[rows] = self.check_days[0]
        self._last_zone[rows] = NO_ZONE
        self._special_until_day[rows] = 0
        self._special_mg[rows] = 0.0
        self._started[rows] = True
        for r in rows:
            self.check_log[r] = []

    def _planned_today_mg(self, rows: np.ndarray, day: np.ndarray) -> np.ndarray:
        d = day[rows]
        loading = d <= 3
        init = self._initiation_mg[rows, np.clip(d - 1, 0, 2)]
        return np.where(loading, init, self._weekly_mg[rows] / 7.0)

    def _check(self, rows: np.ndarray, day: np.ndarray, inr: np.ndarray) -> None:
        d = day[rows]
        x = np.round(inr[rows], 2)
        self._log_checks(rows, d, x)
        dec = intermountain_decision(x, self._last_zone[rows])
        planned = self._planned_today_mg(rows, day)
        has_special = ~np.isnan(dec.special_factor)
        special_mg = np.nan_to_num(dec.special_factor) * planned
        self._special_mg[rows] = np.where(has_special, round_dose_mg(special_mg, self.dose_step_mg),
                                          self._special_mg[rows])
        self._special_until_day[rows] = np.where(has_special, d + dec.special_days - 1,
                                                 self._special_until_day[rows])
        self._weekly_mg[rows] = np.clip(self._weekly_mg[rows] * dec.weekly_factor, 0.0, 7.0 * self.max_daily_dose_mg)
        # every check is answered with Table A; a recheck is never later than the next scheduled visit
        self._next_check_day[rows] = np.minimum(d + dec.next_check_in_days, self._next_visit(d))
        self._last_zone[rows] = dec.zone

    def _next_visit(self, d: np.ndarray) -> np.ndarray:
        """The first scheduled check day after each therapy day in ``d`` (int64 max if none)."""
        return np.array([min([k for k in self.check_days if k > dd], default=np.iinfo(np.int64).max)
                         for dd in d], dtype=np.int64)

    def _log_checks(self, rows: np.ndarray, d: np.ndarray, x: np.ndarray) -> None:
        for r, dd, xx in zip(rows, d, x):
            self.check_log[r].append((int(dd), float(xx)))

    def _revise(self, rows: np.ndarray, day: np.ndarray, inr: np.ndarray) -> None:
        """Answer the :attr:`revision_day` check (subclasses with a revision algorithm)."""
        raise NotImplementedError

    def _dose_today(self, day: np.ndarray) -> np.ndarray:
        special = day <= self._special_until_day
        loading = ~special & (day <= 3)
        maintenance = ~special & ~loading
        dose = np.zeros(day.shape)
        dose[special] = self._special_mg[special]
        dose[loading] = self._initiation_mg[loading, day[loading] - 1]
        # tablet schedule: running sum of 0.5-mg-step doses tracks weekly / 7 exactly
        target = self._residual_mg[maintenance] + self._weekly_mg[maintenance] / 7.0
        given = np.clip(round_dose_mg(target, self.dose_step_mg), 0.0, self.max_daily_dose_mg)
        self._residual_mg[maintenance] = np.clip(target - given, -self.dose_step_mg, self.dose_step_mg)
        dose[maintenance] = given
        return np.clip(dose, 0.0, self.max_daily_dose_mg)

    def __call__(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        return self.predict(obs, info)


class WarfarinClinicalBaseline(_InrGuidedProtocol):
    """Fixed-dose initiation (EU-PACT control arm) + INR-guided titration; needs only ``obs``.

    Days 1-3: 10/5/5 mg if age <= 75 y else 5/5/5 mg (age from obs[3] = (age - 20) / 75);
    then 5 mg/day (our choice) titrated by the Kovacs-day checks and Intermountain Table A.
    ``seed`` is accepted for API compatibility; the protocol is deterministic.
    """

    def __init__(self, seed: int | None = None, dose_step_mg: float = 0.5) -> None:
        self.seed = seed
        super().__init__(dose_step_mg=dose_step_mg)

    def _initial_doses(self, obs, info, rows):
        age_years = obs[rows, 3] * 75.0 + 20.0
        # float32 observation round-off: ages within 1e-3 y of 75 count as 75
        init = eu_pact_control_initiation_doses_mg(np.round(age_years, 3))
        return init, np.full(rows.shape, 35.0)


def _patient_field(info: Mapping[str, Any], key: str, rows: np.ndarray, n: int) -> np.ndarray:
    if not isinstance(info, Mapping) or "patient" not in info:
        raise ValueError("info must be the env's info dict with a 'patient' entry (covariates)")
    patient = info["patient"]
    if not isinstance(patient, Mapping) or key not in patient:
        raise ValueError(f"info['patient'] lacks {key!r}; it must hold the env's patient covariates")
    values = np.asarray(patient[key], dtype=object)
    if values.ndim == 0:
        values = values.reshape(1)
    if values.shape[0] != n:
        raise ValueError(f"info['patient'][{key!r}] has {values.shape[0]} entries for a batch of {n}")
    mask = patient.get("_" + key)
    if mask is not None and not np.all(np.asarray(mask)[rows]):
        raise ValueError(f"info['patient'][{key!r}] is masked out for a patient starting an episode")
    return values[rows]


def _covariates(info: Any, rows: np.ndarray, n: int, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    out = {}
    for key in keys:
        v = _patient_field(info, key, rows, n)
        if key in ("age_years", "weight_kg", "height_cm", "target_inr"):
            v = v.astype(np.float64)
        elif key in ("amiodarone", "enzyme_inducer", "smoker", "dvt_pe"):
            v = np.array([bool(x) for x in v])
        out[key] = v
    return out


class IWPCPharmacogeneticBaseline(_InrGuidedProtocol):
    """IWPC 2009 pharmacogenetic dose (EU-PACT loading on days 1-3 unless ``loading=False``) + titration.

    Needs ``predict(obs, info)`` with the env's info (covariates and genotypes).
    """

    needs_info = True

    def __init__(self, loading: bool = True, seed: int | None = None, dose_step_mg: float = 0.5) -> None:
        self.loading = bool(loading)
        self.seed = seed
        super().__init__(dose_step_mg=dose_step_mg)

    def _initial_doses(self, obs, info, rows):
        c = _covariates(info, rows, obs.shape[0], ("age_years", "height_cm", "weight_kg", "cyp2c9", "vkorc1",
                                                    "ancestry", "enzyme_inducer", "amiodarone"))
        weekly = iwpc_pharmacogenetic_weekly_dose_mg(
            c["age_years"], c["height_cm"], c["weight_kg"], c["cyp2c9"], c["vkorc1"], c["ancestry"],
            c["enzyme_inducer"], c["amiodarone"])
        weekly = np.minimum(weekly, 7.0 * self.max_daily_dose_mg)
        daily = weekly / 7.0
        if self.loading:
            init = eu_pact_loading_doses_mg(daily, c["cyp2c9"])
        else:
            init = np.repeat(daily[:, None], 3, axis=1)
        return init, weekly


class IWPCClinicalBaseline(_InrGuidedProtocol):
    """IWPC 2009 clinical dose from day 1 (COAG strategy, no loading) + titration; needs ``info``."""

    needs_info = True

    def __init__(self, seed: int | None = None, dose_step_mg: float = 0.5) -> None:
        self.seed = seed
        super().__init__(dose_step_mg=dose_step_mg)

    def _initial_doses(self, obs, info, rows):
        c = _covariates(info, rows, obs.shape[0], ("age_years", "height_cm", "weight_kg", "ancestry",
                                                    "enzyme_inducer", "amiodarone"))
        weekly = iwpc_clinical_weekly_dose_mg(c["age_years"], c["height_cm"], c["weight_kg"], c["ancestry"],
                                              c["enzyme_inducer"], c["amiodarone"])
        weekly = np.minimum(weekly, 7.0 * self.max_daily_dose_mg)
        return np.repeat((weekly / 7.0)[:, None], 3, axis=1), weekly


class Gage2008Baseline(_InrGuidedProtocol):
    """Gage 2008 pharmacogenetic dose from day 1 (COAG strategy, no loading) + titration; needs ``info``.

    BSA by Mosteller (assumption, see :func:`mosteller_bsa_m2`); target INR from
    ``info['patient']['target_inr']``.
    """

    needs_info = True

    def __init__(self, seed: int | None = None, dose_step_mg: float = 0.5) -> None:
        self.seed = seed
        super().__init__(dose_step_mg=dose_step_mg)

    def _initial_doses(self, obs, info, rows):
        c = _covariates(info, rows, obs.shape[0], ("age_years", "height_cm", "weight_kg", "cyp2c9", "vkorc1",
                                                    "ancestry", "target_inr", "amiodarone", "smoker", "dvt_pe"))
        daily = gage2008_daily_dose_mg(
            c["age_years"], mosteller_bsa_m2(c["height_cm"], c["weight_kg"]), c["cyp2c9"], c["vkorc1"],
            c["ancestry"], c["target_inr"], c["amiodarone"], c["smoker"], c["dvt_pe"])
        daily = np.minimum(daily, self.max_daily_dose_mg)
        return np.repeat(daily[:, None], 3, axis=1), 7.0 * daily


def _fields_lacking_metadata(cls: type) -> list[str]:
    """Names of dataclass fields of ``cls`` without both 'unit' and 'source' metadata (for tests)."""
    return [f.name for f in dataclasses.fields(cls) if not {"unit", "source"} <= set(f.metadata)]
