"""Warfarin trial-arm protocols: EU-PACT and COAG arms with their day-4 dose revision.

The two genotype trials revised the dose from the day-4 INR before titration began:

* COAG (Kimmel 2013 N Engl J Med 369:2283; design: Kimmel 2013 Am Heart J 166:435,
  PMC4415273 / NCT00839657): "Each study arm will include a baseline dose initiation
  algorithm and a dose revision algorithm applied over the first 4 to 5 doses"; both arms
  started on the predicted maintenance dose (Shendre/French 2016, PMC5014593 abstract) from
  the warfarindosing.org equations (Gage 2008, pharmacogenetic or clinical) and were revised
  on day 4 or 5 with Lenzini 2010 (pharmacogenetic or clinical). The revision equations are
  Lenzini P et al., Clin Pharmacol Ther 2010;87:572 ("we derived clinical and pharmacogenetic
  refinement algorithms using INR values on day 4 or 5 of therapy", PMC2858245 abstract).
* EU-PACT (Pirmohamed 2013 N Engl J Med 369:2294): genotype arm: loading algorithm on days
  1-3, "for days 4 and 5 a dose-revision algorithm was used, that was based on the INR value
  on day 4"; standard arm: 10/5/5 mg (age <= 75 y) or 5/5/5 mg, "the doses on days 4 and 5
  were determined according to usual local clinical practice", then routine practice in both
  arms (anticoagulant-trials.eu EU-PACT page, FACTS §2.3).

Sources of the numbers (each coefficient carries its source in its metadata):

* Lenzini 2010 pharmacogenetic refinement: FACTS §2.2 [V: RLL], i.e. ReiL
  ``reil/healthcare/dosing_protocols/warfarin/lenzini.py`` (anzabizadeh/ReiL) citing
  doi:10.1038/clpt.2010.13. The paper's table itself was not read (PMC2858245 abstract only):
  UNCONFIRMED against the primary text.
* Lenzini 2010 clinical refinement: the same ReiL file only (not in FACTS): UNCONFIRMED.
* Gage 2008 clinical equation: FACTS §2.2 [V: RLG] (ReiL ``gage.py``); paper table not seen.
* Which equations COAG used (warfarindosing.org = Gage 2008 + Lenzini 2010) is our reading of
  the design paper's wording; the arm-level protocol text was not read: UNCONFIRMED.
* EU-PACT's own day-4/5 revision for the genotype arm is cited as a modification of
  Lenzini's (Avery 2011 proposed the loading regimen); its coefficients were not found, so
  the genotype arm uses Lenzini 2010 pharmacogenetic (as Ravvaz 2017's EU-PACT-like arm does
  in ReiL ``ravvaz_dosing_protocols.py``, PGPGI): UNCONFIRMED for EU-PACT.
* EU-PACT standard arm, days 4-5 ("local practice"): not published. Two stand-ins, both our
  choice: ``revision="lenzini-clinical"`` (default; it uses the doses actually given, so it
  is valid after any loading regimen) and ``revision="fennerty"``, the day-4 maintenance
  table of the UK Fennerty regimen (Fennerty A et al., BMJ 1988;297:1285; Drug Ther Bull
  1992;30:77; table as reproduced at mmhaem.tripod.com/fennerty.html and
  medicalalgorithms.com), which was built for a 10/10/5 mg loading and so overdoses after
  EU-PACT's 10/5/5 (a low day-4 INR after a smaller load reads as a large requirement).

Covariates the population does not carry (stroke, diabetes, fluvastatin) enter as 0. BSA is
Mosteller's (ASSUMPTION, as for Gage, :func:`hemosim.agents.warfarin.mosteller_bsa_m2`).

Schedule: INR on therapy day 4 (the revision: its dose holds from day 4 until the next
check), then the EU-PACT-like visits 8, 15, 22, 29, 57, 85 answered by Intermountain Table A
(:func:`hemosim.agents.warfarin.intermountain_decision`), which may ask for earlier rechecks,
as in the other protocols. Day numbering as in :mod:`hemosim.agents.warfarin` (therapy day 1
= first dose; the day-4 INR is read before the day-4 dose).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
from numpy.typing import ArrayLike

from hemosim.agents.warfarin import (
    NO_ZONE,
    _covariates,
    _coef,
    _InrGuidedProtocol,
    _lookup,
    _numeric,
    _flag,
    eu_pact_control_initiation_doses_mg,
    eu_pact_loading_doses_mg,
    gage2008_daily_dose_mg,
    intermountain_zone,
    iwpc_pharmacogenetic_weekly_dose_mg,
    mosteller_bsa_m2,
)
from hemosim.patients.warfarin import ANCESTRIES

__all__ = [
    "REVISION_CHECK_DAYS",
    "Lenzini2010PharmacogeneticCoefficients",
    "Lenzini2010ClinicalCoefficients",
    "Gage2008ClinicalCoefficients",
    "LENZINI_2010_PHARMACOGENETIC",
    "LENZINI_2010_CLINICAL",
    "GAGE_2008_CLINICAL",
    "lenzini2010_pharmacogenetic_weekly_dose_mg",
    "lenzini2010_clinical_weekly_dose_mg",
    "gage2008_clinical_daily_dose_mg",
    "fennerty_day4_maintenance_mg",
    "EUPACTGenotypeArm",
    "EUPACTStandardArm",
    "COAGGenotypeArm",
    "COAGClinicalArm",
]

#: INR checks of the trial-arm protocols (therapy days): the day-4 revision, then visits.
REVISION_CHECK_DAYS: tuple[int, ...] = (4, 8, 15, 22, 29, 57, 85)
_REVISION_DAY = 4


_LZ_PG_SRC = ("Lenzini 2010 Clin Pharmacol Ther 87:572 (pharmacogenetic refinement) as coded in ReiL "
              "lenzini.py; FACTS §2.2 [V: RLL]; paper table UNCONFIRMED")
_LZ_CL_SRC = ("Lenzini 2010 Clin Pharmacol Ther 87:572 (clinical refinement) as coded in ReiL lenzini.py; "
              "not in FACTS; UNCONFIRMED against the paper")
_GAGE_CL_SRC = "Gage 2008 Clin Pharmacol Ther 84:326 clinical equation as coded in ReiL gage.py; FACTS §2.2 [V: RLG]"
_LNW = "ln(mg/week)"
_LND = "ln(mg/day)"


@dataclass(frozen=True)
class Lenzini2010PharmacogeneticCoefficients:
    """Lenzini 2010 pharmacogenetic refinement; the sum is ln(weekly dose in mg)."""

    intercept: float = _coef(3.10894, _LNW, _LZ_PG_SRC)
    age_years: float = _coef(-0.00767, f"{_LNW} per year", _LZ_PG_SRC)
    ln_inr: float = _coef(-0.51611, f"{_LNW} per ln(INR) on day 4 or 5", _LZ_PG_SRC)
    vkorc1_a_allele: float = _coef(-0.23032, f"{_LNW} per VKORC1 -1639A allele", _LZ_PG_SRC)
    cyp2c9_2_allele: float = _coef(-0.14745, f"{_LNW} per *2 allele", _LZ_PG_SRC)
    cyp2c9_3_allele: float = _coef(-0.30770, f"{_LNW} per *3 allele", _LZ_PG_SRC)
    bsa_m2: float = _coef(0.24597, f"{_LNW} per m^2", _LZ_PG_SRC)
    target_inr: float = _coef(0.26729, f"{_LNW} per INR unit", _LZ_PG_SRC)
    african_american: float = _coef(-0.09644, _LNW, _LZ_PG_SRC)
    stroke: float = _coef(-0.20590, _LNW, _LZ_PG_SRC)
    diabetes: float = _coef(-0.11216, _LNW, _LZ_PG_SRC)
    amiodarone: float = _coef(-0.10350, _LNW, _LZ_PG_SRC)
    fluvastatin: float = _coef(-0.19275, _LNW, _LZ_PG_SRC)
    dose_2_mg: float = _coef(0.01690, f"{_LNW} per mg given 2 days before the INR", _LZ_PG_SRC)
    dose_3_mg: float = _coef(0.02018, f"{_LNW} per mg given 3 days before the INR", _LZ_PG_SRC)
    dose_4_mg: float = _coef(0.01065, f"{_LNW} per mg given 4 days before the INR", _LZ_PG_SRC)


@dataclass(frozen=True)
class Lenzini2010ClinicalCoefficients:
    """Lenzini 2010 clinical refinement (no genotype); the sum is ln(weekly dose in mg)."""

    intercept: float = _coef(2.81602, _LNW, _LZ_CL_SRC)
    age_years: float = _coef(-0.00590, f"{_LNW} per year", _LZ_CL_SRC)
    ln_inr: float = _coef(-0.76679, f"{_LNW} per ln(INR) on day 4 or 5", _LZ_CL_SRC)
    bsa_m2: float = _coef(0.17675, f"{_LNW} per m^2", _LZ_CL_SRC)
    target_inr: float = _coef(0.27815, f"{_LNW} per INR unit", _LZ_CL_SRC)
    african_american: float = _coef(0.07123, _LNW, _LZ_CL_SRC)
    stroke: float = _coef(-0.22844, _LNW, _LZ_CL_SRC)
    diabetes: float = _coef(-0.16759, _LNW, _LZ_CL_SRC)
    amiodarone: float = _coef(-0.11137, _LNW, _LZ_CL_SRC)
    fluvastatin: float = _coef(-0.25487, _LNW, _LZ_CL_SRC)
    dose_2_mg: float = _coef(0.03471, f"{_LNW} per mg given 2 days before the INR", _LZ_CL_SRC)
    dose_3_mg: float = _coef(0.03047, f"{_LNW} per mg given 3 days before the INR", _LZ_CL_SRC)
    dose_4_mg: float = _coef(0.01929, f"{_LNW} per mg given 4 days before the INR", _LZ_CL_SRC)


@dataclass(frozen=True)
class Gage2008ClinicalCoefficients:
    """Gage 2008 clinical equation (no genotype); the sum is ln(daily dose in mg)."""

    intercept: float = _coef(0.613, _LND, _GAGE_CL_SRC)
    bsa_m2: float = _coef(0.425, f"{_LND} per m^2", _GAGE_CL_SRC)
    age_years: float = _coef(-0.0075, f"{_LND} per year", _GAGE_CL_SRC)
    african_american: float = _coef(0.156, _LND, _GAGE_CL_SRC)
    target_inr: float = _coef(0.216, f"{_LND} per INR unit", _GAGE_CL_SRC)
    amiodarone: float = _coef(-0.257, _LND, _GAGE_CL_SRC)
    smoker: float = _coef(0.108, _LND, _GAGE_CL_SRC)
    dvt_pe: float = _coef(0.0784, _LND, _GAGE_CL_SRC)


LENZINI_2010_PHARMACOGENETIC = Lenzini2010PharmacogeneticCoefficients()
LENZINI_2010_CLINICAL = Lenzini2010ClinicalCoefficients()
GAGE_2008_CLINICAL = Gage2008ClinicalCoefficients()


def _african(ancestry: Any) -> np.ndarray:
    return _lookup(ancestry, {a: float(a == "african") for a in ANCESTRIES}, "ancestry")


def _lenzini_common(c: Any, inr: ArrayLike, age_years: ArrayLike, bsa_m2: ArrayLike, target_inr: ArrayLike,
                    doses_mg: tuple[ArrayLike, ArrayLike, ArrayLike], ancestry: Any, amiodarone: ArrayLike,
                    stroke: ArrayLike, diabetes: ArrayLike, fluvastatin: ArrayLike) -> np.ndarray:
    x = _numeric(inr, "inr", 0.5, 20.0)
    age = _numeric(age_years, "age_years", 0.0, 130.0)
    bsa = _numeric(bsa_m2, "bsa_m2", 0.3, 4.0)
    target = _numeric(target_inr, "target_inr", 1.0, 5.0)
    d2, d3, d4 = (_numeric(d, name, 0.0, 100.0) for d, name in zip(doses_mg, ("dose_2_mg", "dose_3_mg", "dose_4_mg")))
    return (
        c.intercept
        + c.age_years * age
        + c.ln_inr * np.log(x)
        + c.bsa_m2 * bsa
        + c.target_inr * target
        + c.african_american * _african(ancestry)
        + c.stroke * _flag(stroke, "stroke")
        + c.diabetes * _flag(diabetes, "diabetes")
        + c.amiodarone * _flag(amiodarone, "amiodarone")
        + c.fluvastatin * _flag(fluvastatin, "fluvastatin")
        + c.dose_2_mg * d2
        + c.dose_3_mg * d3
        + c.dose_4_mg * d4
    )


def lenzini2010_pharmacogenetic_weekly_dose_mg(
    inr: ArrayLike,
    age_years: ArrayLike,
    bsa_m2: ArrayLike,
    cyp2c9: Any,
    vkorc1: Any,
    ancestry: Any,
    dose_2_mg: ArrayLike,
    dose_3_mg: ArrayLike,
    dose_4_mg: ArrayLike,
    target_inr: ArrayLike = 2.5,
    amiodarone: ArrayLike = False,
    stroke: ArrayLike = False,
    diabetes: ArrayLike = False,
    fluvastatin: ArrayLike = False,
    coefs: Lenzini2010PharmacogeneticCoefficients = LENZINI_2010_PHARMACOGENETIC,
) -> np.ndarray:
    """Lenzini 2010 pharmacogenetic refined maintenance dose (mg/week) = exp(linear predictor).

    Args:
        inr: the INR on therapy day 4 or 5 (before that day's dose).
        dose_2_mg, dose_3_mg, dose_4_mg: the doses (mg) taken 2, 3 and 4 days before that INR
            (0 for days before therapy began; on day 4 these are the day-2 and day-1 doses and 0).
        cyp2c9, vkorc1: genotypes (allele counts of *2, *3 and -1639A; unknown not allowed).
        ancestry: ``"african"`` sets the African-American term.
    """
    c = coefs
    a_alleles = _lookup(vkorc1, {"GG": 0.0, "GA": 1.0, "AA": 2.0}, "vkorc1")
    star2 = _lookup(cyp2c9, {"*1/*1": 0, "*1/*2": 1, "*1/*3": 0, "*2/*2": 2, "*2/*3": 1, "*3/*3": 0}, "cyp2c9")
    star3 = _lookup(cyp2c9, {"*1/*1": 0, "*1/*2": 0, "*1/*3": 1, "*2/*2": 0, "*2/*3": 1, "*3/*3": 2}, "cyp2c9")
    lp = _lenzini_common(c, inr, age_years, bsa_m2, target_inr, (dose_2_mg, dose_3_mg, dose_4_mg), ancestry,
                         amiodarone, stroke, diabetes, fluvastatin)
    lp = lp + c.vkorc1_a_allele * a_alleles + c.cyp2c9_2_allele * star2 + c.cyp2c9_3_allele * star3
    return np.exp(np.asarray(lp, dtype=np.float64))


def lenzini2010_clinical_weekly_dose_mg(
    inr: ArrayLike,
    age_years: ArrayLike,
    bsa_m2: ArrayLike,
    ancestry: Any,
    dose_2_mg: ArrayLike,
    dose_3_mg: ArrayLike,
    dose_4_mg: ArrayLike,
    target_inr: ArrayLike = 2.5,
    amiodarone: ArrayLike = False,
    stroke: ArrayLike = False,
    diabetes: ArrayLike = False,
    fluvastatin: ArrayLike = False,
    coefs: Lenzini2010ClinicalCoefficients = LENZINI_2010_CLINICAL,
) -> np.ndarray:
    """Lenzini 2010 clinical refined maintenance dose (mg/week); arguments as the pharmacogenetic one."""
    lp = _lenzini_common(coefs, inr, age_years, bsa_m2, target_inr, (dose_2_mg, dose_3_mg, dose_4_mg), ancestry,
                         amiodarone, stroke, diabetes, fluvastatin)
    return np.exp(np.asarray(lp, dtype=np.float64))


def gage2008_clinical_daily_dose_mg(
    age_years: ArrayLike,
    bsa_m2: ArrayLike,
    ancestry: Any,
    target_inr: ArrayLike = 2.5,
    amiodarone: ArrayLike = False,
    smoker: ArrayLike = False,
    dvt_pe: ArrayLike = False,
    coefs: Gage2008ClinicalCoefficients = GAGE_2008_CLINICAL,
) -> np.ndarray:
    """Gage 2008 clinical maintenance dose (mg/day) = exp(linear predictor); no genotype."""
    c = coefs
    age = _numeric(age_years, "age_years", 0.0, 130.0)
    bsa = _numeric(bsa_m2, "bsa_m2", 0.3, 4.0)
    target = _numeric(target_inr, "target_inr", 1.0, 5.0)
    lp = (
        c.intercept
        + c.bsa_m2 * bsa
        + c.age_years * age
        + c.african_american * _african(ancestry)
        + c.target_inr * target
        + c.amiodarone * _flag(amiodarone, "amiodarone")
        + c.smoker * _flag(smoker, "smoker")
        + c.dvt_pe * _flag(dvt_pe, "dvt_pe")
    )
    return np.exp(np.asarray(lp, dtype=np.float64))


#: Fennerty day-4 table: (upper INR bound inclusive, read to 1 decimal; maintenance mg/day; days held first).
#: "< 1.4: > 8 mg" is taken as 9 mg (our choice). Source: module docstring.
_FENNERTY_DAY4: tuple[tuple[float, float, int], ...] = (
    (1.3, 9.0, 0), (1.4, 8.0, 0), (1.5, 7.5, 0), (1.7, 7.0, 0), (1.8, 6.5, 0), (1.9, 6.0, 0), (2.1, 5.5, 0),
    (2.3, 5.0, 0), (2.6, 4.5, 0), (3.0, 4.0, 0), (3.5, 3.5, 0), (4.0, 3.0, 0), (4.5, 2.0, 1), (np.inf, 1.0, 2),
)


def fennerty_day4_maintenance_mg(inr: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Fennerty regimen, day-4 INR -> (maintenance dose mg/day, days to hold first).

    INR 4.1-4.5: hold one day, then 2 mg; > 4.5: hold two days, then 1 mg. The INR is read to
    one decimal as in the table.
    """
    x = np.round(_numeric(inr, "inr", 0.5, 20.0), 1)
    bounds = np.array([b for b, _, _ in _FENNERTY_DAY4])
    idx = np.searchsorted(bounds, x - 1e-9, side="left")
    dose = np.array([d for _, d, _ in _FENNERTY_DAY4])[idx]
    hold = np.array([h for _, _, h in _FENNERTY_DAY4])[idx]
    return dose, hold.astype(np.int64)


# ----------------------------------------------------------------------------------------
# trial-arm protocols
# ----------------------------------------------------------------------------------------

_KEYS = ("age_years", "height_cm", "weight_kg", "cyp2c9", "vkorc1", "ancestry", "target_inr", "amiodarone",
         "enzyme_inducer", "smoker", "dvt_pe")


class _DayFourRevisionProtocol(_InrGuidedProtocol):
    """Initial doses (subclass) on days 1-3, a revision from the day-4 INR, then Table A.

    Needs ``predict(obs, info)`` (covariates). Subclasses give ``_initial_doses`` and
    ``_revised_daily_mg`` (mg/day and days to hold first).
    """

    needs_info = True
    check_days = REVISION_CHECK_DAYS
    revision_day = _REVISION_DAY

    def __init__(self, seed: int | None = None, dose_step_mg: float = 0.5) -> None:
        self.seed = seed
        super().__init__(dose_step_mg=dose_step_mg)

    def _resize(self, n: int) -> None:
        super()._resize(n)
        self._cov: dict[str, np.ndarray] = {k: np.zeros(n, dtype=object) for k in _KEYS}

    def _initial_doses(self, obs, info, rows):
        c = _covariates(info, rows, obs.shape[0], _KEYS)
        for k in _KEYS:
            self._cov[k][rows] = c[k]
        return self._initial_from_covariates(obs, c, rows)

    def _initial_from_covariates(self, obs: np.ndarray, c: Mapping[str, np.ndarray],
                                 rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _covariate(self, key: str, rows: np.ndarray) -> np.ndarray:
        v = self._cov[key][rows]
        if key in ("age_years", "height_cm", "weight_kg", "target_inr"):
            return v.astype(np.float64)
        if key in ("amiodarone", "enzyme_inducer", "smoker", "dvt_pe"):
            return v.astype(bool)
        return v

    def _doses_before(self, rows: np.ndarray, day: np.ndarray, k: int) -> np.ndarray:
        """Dose (mg) given ``k`` days before therapy day ``day`` (0 before therapy began)."""
        d = day[rows] - k
        return np.where(d >= 1, self._given_mg[rows, np.maximum(d, 0)], 0.0)

    def _revised_daily_mg(self, rows: np.ndarray, day: np.ndarray, inr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _revise(self, rows: np.ndarray, day: np.ndarray, inr: np.ndarray) -> None:
        d = day[rows]
        x = np.round(inr[rows], 2)
        self._log_checks(rows, d, x)
        daily, hold = self._revised_daily_mg(rows, day, inr)
        self._weekly_mg[rows] = np.clip(7.0 * daily, 0.0, 7.0 * self.max_daily_dose_mg)
        self._residual_mg[rows] = 0.0
        held = hold > 0
        self._special_mg[rows] = np.where(held, 0.0, self._special_mg[rows])
        self._special_until_day[rows] = np.where(held, d + hold - 1, self._special_until_day[rows])
        self._last_zone[rows] = np.where(np.isfinite(x) & (x > 0), intermountain_zone(np.maximum(x, 0.01)), NO_ZONE)
        self._next_check_day[rows] = self._next_visit(d)

    def _bsa(self, rows: np.ndarray) -> np.ndarray:
        return mosteller_bsa_m2(self._covariate("height_cm", rows), self._covariate("weight_kg", rows))

    def _lenzini_clinical(self, rows: np.ndarray, day: np.ndarray, inr: np.ndarray) -> np.ndarray:
        weekly = lenzini2010_clinical_weekly_dose_mg(
            np.clip(inr[rows], 0.5, 20.0), self._covariate("age_years", rows), self._bsa(rows),
            self._covariate("ancestry", rows), self._doses_before(rows, day, 2), self._doses_before(rows, day, 3),
            self._doses_before(rows, day, 4), self._covariate("target_inr", rows),
            self._covariate("amiodarone", rows))
        return weekly / 7.0

    def _lenzini_pharmacogenetic(self, rows: np.ndarray, day: np.ndarray, inr: np.ndarray) -> np.ndarray:
        weekly = lenzini2010_pharmacogenetic_weekly_dose_mg(
            np.clip(inr[rows], 0.5, 20.0), self._covariate("age_years", rows), self._bsa(rows),
            self._covariate("cyp2c9", rows), self._covariate("vkorc1", rows), self._covariate("ancestry", rows),
            self._doses_before(rows, day, 2), self._doses_before(rows, day, 3), self._doses_before(rows, day, 4),
            self._covariate("target_inr", rows), self._covariate("amiodarone", rows))
        return weekly / 7.0


class EUPACTGenotypeArm(_DayFourRevisionProtocol):
    """EU-PACT genotype arm: IWPC 2009 pharmacogenetic dose with the EU-PACT loading on days
    1-3, Lenzini 2010 pharmacogenetic revision from the day-4 INR, then Table A."""

    def _initial_from_covariates(self, obs, c, rows):
        weekly = iwpc_pharmacogenetic_weekly_dose_mg(c["age_years"], c["height_cm"], c["weight_kg"], c["cyp2c9"],
                                                     c["vkorc1"], c["ancestry"], c["enzyme_inducer"], c["amiodarone"])
        weekly = np.minimum(weekly, 7.0 * self.max_daily_dose_mg)
        return eu_pact_loading_doses_mg(weekly / 7.0, c["cyp2c9"]), weekly

    def _revised_daily_mg(self, rows, day, inr):
        return self._lenzini_pharmacogenetic(rows, day, inr), np.zeros(rows.shape, dtype=np.int64)


class EUPACTStandardArm(_DayFourRevisionProtocol):
    """EU-PACT standard arm: 10/5/5 mg (age <= 75 y) or 5/5/5 mg, a day-4 INR revision standing
    in for "local practice" (``revision``: ``"lenzini-clinical"`` or ``"fennerty"``), then Table A."""

    REVISIONS = ("lenzini-clinical", "fennerty")

    def __init__(self, revision: str = "lenzini-clinical", seed: int | None = None, dose_step_mg: float = 0.5) -> None:
        if revision not in self.REVISIONS:
            raise ValueError(f"revision {revision!r} is not recognised; allowed: {', '.join(self.REVISIONS)}")
        self.revision = revision
        super().__init__(seed=seed, dose_step_mg=dose_step_mg)

    def _initial_from_covariates(self, obs, c, rows):
        init = eu_pact_control_initiation_doses_mg(np.round(c["age_years"].astype(np.float64), 3))
        return init, np.full(rows.shape, 35.0)

    def _revised_daily_mg(self, rows, day, inr):
        if self.revision == "fennerty":
            return fennerty_day4_maintenance_mg(np.clip(inr[rows], 0.5, 20.0))
        return self._lenzini_clinical(rows, day, inr), np.zeros(rows.shape, dtype=np.int64)


class COAGGenotypeArm(_DayFourRevisionProtocol):
    """COAG genotype arm: Gage 2008 pharmacogenetic dose from day 1 (no loading), Lenzini 2010
    pharmacogenetic revision from the day-4 INR, then Table A."""

    def _initial_from_covariates(self, obs, c, rows):
        daily = gage2008_daily_dose_mg(c["age_years"], mosteller_bsa_m2(c["height_cm"], c["weight_kg"]), c["cyp2c9"],
                                       c["vkorc1"], c["ancestry"], c["target_inr"], c["amiodarone"], c["smoker"],
                                       c["dvt_pe"])
        daily = np.minimum(daily, self.max_daily_dose_mg)
        return np.repeat(daily[:, None], 3, axis=1), 7.0 * daily

    def _revised_daily_mg(self, rows, day, inr):
        return self._lenzini_pharmacogenetic(rows, day, inr), np.zeros(rows.shape, dtype=np.int64)


class COAGClinicalArm(_DayFourRevisionProtocol):
    """COAG clinical arm: Gage 2008 clinical dose from day 1 (no loading), Lenzini 2010 clinical
    revision from the day-4 INR, then Table A."""

    def _initial_from_covariates(self, obs, c, rows):
        daily = gage2008_clinical_daily_dose_mg(c["age_years"], mosteller_bsa_m2(c["height_cm"], c["weight_kg"]),
                                                c["ancestry"], c["target_inr"], c["amiodarone"], c["smoker"],
                                                c["dvt_pe"])
        daily = np.minimum(daily, self.max_daily_dose_mg)
        return np.repeat(daily[:, None], 3, axis=1), 7.0 * daily

    def _revised_daily_mg(self, rows, day, inr):
        return self._lenzini_clinical(rows, day, inr), np.zeros(rows.shape, dtype=np.int64)


def _fields_lacking_metadata(cls: type) -> list[str]:
    """Names of dataclass fields of ``cls`` without both 'unit' and 'source' metadata (for tests)."""
    return [f.name for f in dataclasses.fields(cls) if not {"unit", "source"} <= set(f.metadata)]
