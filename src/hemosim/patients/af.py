"""Atrial-fibrillation virtual cohorts: trial presets (RE-LY, ROCKET AF, ARISTOTLE) and general practice.

Every patient is a pure function of its key (``hemosim.sim.rng``): covariates are drawn from
independent named streams, so a patient never depends on the batch it is drawn in. Items of
the baseline tables are drawn independently at their published prevalence; each trial's
inclusion rule is applied by redrawing (up to 32 attempts, each a fresh counter of the same
streams). Creatinine clearance is Cockcroft-Gault from age, weight, sex and a log-normal
serum creatinine whose median was set so the share of patients with CrCl < 50 mL/min
matches the trial (checked in tests). Baseline-table sources are named per field; values
recalled from the primary papers but not seen in a source during this work are marked
UNCONFIRMED.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from hemosim.models.doac import DABIGATRAN, EVENT_PARAMETERS, PK_PARAMETERS, covariate_cl_multiplier
from hemosim.models.af_risk import (
    SCR_ABNORMAL_RENAL_MG_PER_DL,
    cha2ds2_vasc,
    chads2,
    cockcroft_gault_ml_per_min,
    has_bled,
)
from hemosim.sim import rng

__all__ = ["AFPreset", "AF_PRESETS", "AFCohort", "sample_cohort", "beta_parameters_from_mean_sd"]

_S_AGE, _S_FEMALE, _S_WEIGHT, _S_SCR = 201, 202, 203, 204
_S_CHF, _S_HTN, _S_UHTN, _S_DM, _S_STROKE, _S_VASC = 205, 206, 207, 208, 209, 210
_S_BLEED, _S_LIVER, _S_ASA, _S_ALCOHOL, _S_VERAPAMIL = 211, 212, 213, 214, 215
_S_TTR, _S_ADHERENCE, _S_SLOPE, _S_PERSIST = 216, 217, 218, 219
_S_ETA_CL, _S_ETA_V = 230, 240  # + drug code
_MAX_ATTEMPTS = 32
#: the streams each draw attempt / each patient reads (drawn together: ``rng.StreamDraws``)
_COVARIATE_UNIFORM_STREAMS = (_S_AGE, _S_FEMALE, _S_CHF, _S_HTN, _S_UHTN, _S_DM, _S_STROKE, _S_VASC)
_PATIENT_UNIFORM_STREAMS = (_S_TTR, _S_ADHERENCE, _S_VERAPAMIL, _S_BLEED, _S_LIVER, _S_ASA, _S_ALCOHOL, _S_PERSIST)
_PATIENT_NORMAL_STREAMS = (_S_SLOPE,) + tuple(_S_ETA_CL + j for j in range(3)) + tuple(_S_ETA_V + j for j in range(3))


_PER_PRESET = "per preset: see PRESET_SOURCES (baseline tables of the trial or cohort)"


def _pp(value, source: str):
    return field(default=value, metadata={"source": source})


@dataclass(frozen=True)
class AFPreset:
    """A named AF population; each field carries its source."""

    name: str = _pp("", "preset name")
    age_mean_y: float = _pp(71.5, _PER_PRESET)
    age_sd_y: float = _pp(8.7, _PER_PRESET)
    age_range_y: tuple[float, float] = _pp((40.0, 95.0), "plausible adult AF range (choice)")
    female_fraction: float = _pp(0.36, _PER_PRESET)
    weight_median_kg: float = _pp(82.0, _PER_PRESET)
    weight_log_sd: float = _pp(0.22, "assumption: log-SD of weight ~0.22 (IQR 72-98 kg around 84 kg in ARISTOTLE, PMC4263979); women 15 % lighter than men (assumption)")
    scr_median_male_mg_per_dl: float = _pp(1.10, "set so the share with CrCl < 50 mL/min matches the trial (test)")
    scr_female_ratio: float = _pp(0.80, "assumption: women's serum creatinine ~20 % lower at equal renal function")
    scr_log_sd: float = _pp(0.25, "assumption: spread of SCr in elderly AF cohorts")
    chf: float = _pp(0.32, _PER_PRESET)
    hypertension: float = _pp(0.79, _PER_PRESET)
    uncontrolled_hypertension: float = _pp(0.05, "assumption (UNCONFIRMED): SBP > 160 mmHg at baseline")
    diabetes: float = _pp(0.23, _PER_PRESET)
    prior_stroke: float = _pp(0.20, _PER_PRESET)
    vascular_disease: float = _pp(0.20, _PER_PRESET)
    bleeding_history: float = _pp(0.065, _PER_PRESET)
    liver_disease: float = _pp(0.012, _PER_PRESET)
    antiplatelet: float = _pp(0.40, _PER_PRESET)
    alcohol: float = _pp(0.02, "assumption (UNCONFIRMED): >= 8 units/week")
    verapamil: float = _pp(0.0, "not reported in the baseline tables; 0 (choice)")
    inclusion: str = _pp("chads2>=1", "trial inclusion rule")
    crcl_min_ml_per_min: float = _pp(30.0, "trial exclusion")
    ttr_mean: float = _pp(0.64, _PER_PRESET)
    ttr_sd: float = _pp(0.213, "Singer 2013 JAHA (ROCKET AF) individual TTR SD 21.3 %, used for all presets (assumption)")
    adherence_beta_a: float = _pp(
        19.0, "assumption: trial pill-count adherence high; Beta(19, 1), mean 0.95, 98.6 % take > 80 % of doses"
    )
    persistence_1y: tuple[float, float, float, float] = _pp(
        (1.0, 1.0, 1.0, 1.0), "trials analysed on treatment: no discontinuation (apixaban, rivaroxaban, dabigatran, warfarin)"
    )
    crcl_slope_sd_ml_per_min_per_year: float = _pp(
        5.0, "assumption: between-patient SD of the CrCl slope; simulated 1.8-y WRF (> 20 % fall) share reported against 24.2 % (AHJ 2018)"
    )

    def __post_init__(self) -> None:
        for f in ("female_fraction", "chf", "hypertension", "uncontrolled_hypertension", "diabetes", "prior_stroke",
                  "vascular_disease", "bleeding_history", "liver_disease", "antiplatelet", "alcohol", "verapamil"):
            v = getattr(self, f)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{f} must be a fraction in [0, 1], got {v!r}")
        if self.inclusion not in ("chads2>=1", "chads2>=2", "risk_factor", "none"):
            raise ValueError(f"unknown inclusion rule {self.inclusion!r}")
        if not (0.0 < self.ttr_mean < 1.0 and 0.0 < self.ttr_sd < np.sqrt(self.ttr_mean * (1 - self.ttr_mean))):
            raise ValueError(f"ttr_mean/ttr_sd must define a beta distribution, got {self.ttr_mean}, {self.ttr_sd}")

    def persistence_hazard_per_day(self) -> np.ndarray:
        """Daily discontinuation hazard per drug code (0-4; 'none' never discontinues)."""
        p = np.asarray(self.persistence_1y + (1.0,), dtype=np.float64)
        return -np.log(p) / 365.25


#: Full citations of the short forms used in PRESET_SOURCES ("Connolly 2009", "[PMC4265383]", "Scientifica 2014").
_RELY = "Connolly 2009 NEJM 361:1139 (RE-LY)"
_ROCKET = "ROCKET AF overall population, Cheng/Hankey table (PMC4265383 Table 3, n = 14,171)"
_ARIS = "Granger 2011 NEJM 365:981 (ARISTOTLE)"
_SCI = "Scientifica 2014:901586 Table 1 (RE-LY / ROCKET / ARISTOTLE baseline)"

AF_PRESETS: dict[str, AFPreset] = {
    "rely": AFPreset(
        name="rely",
        age_mean_y=71.5, age_sd_y=8.7,
        female_fraction=0.366,
        weight_median_kg=81.0, weight_log_sd=0.22,
        scr_median_male_mg_per_dl=1.14,
        chf=0.32, hypertension=0.79, diabetes=0.23, prior_stroke=0.20, vascular_disease=0.20,
        bleeding_history=0.065, liver_disease=0.012, antiplatelet=0.40,
        inclusion="risk_factor", crcl_min_ml_per_min=30.0, ttr_mean=0.64,
    ),
    "rocket": AFPreset(
        name="rocket",
        age_mean_y=72.0, age_sd_y=9.6,
        female_fraction=0.396,
        weight_median_kg=80.0, weight_log_sd=0.22,
        scr_median_male_mg_per_dl=1.13,
        chf=0.625, hypertension=0.905, diabetes=0.40, prior_stroke=0.548, vascular_disease=0.22,
        bleeding_history=0.05, liver_disease=0.01, antiplatelet=0.366,
        inclusion="chads2>=2", crcl_min_ml_per_min=30.0, ttr_mean=0.552,
    ),
    "aristotle": AFPreset(
        name="aristotle",
        age_mean_y=69.5, age_sd_y=9.5,
        female_fraction=0.353,
        weight_median_kg=84.0, weight_log_sd=0.23,
        scr_median_male_mg_per_dl=1.13,
        chf=0.354, hypertension=0.874, diabetes=0.25, prior_stroke=0.194, vascular_disease=0.18,
        bleeding_history=0.167, liver_disease=0.01, antiplatelet=0.31,
        inclusion="risk_factor", crcl_min_ml_per_min=25.0, ttr_mean=0.622,
    ),
    "general_practice": AFPreset(
        name="general_practice",
        age_mean_y=74.5, age_sd_y=9.0,
        female_fraction=0.426,
        weight_median_kg=79.0, weight_log_sd=0.22,
        scr_median_male_mg_per_dl=1.10,
        chf=0.077, hypertension=0.60, diabetes=0.176, prior_stroke=0.127, vascular_disease=0.214,
        bleeding_history=0.031, liver_disease=0.01, antiplatelet=0.10,
        inclusion="none", crcl_min_ml_per_min=15.0, ttr_mean=0.67,
        adherence_beta_a=8.0,
        persistence_1y=(0.670, 0.647, 0.591, 0.887),
    ),
}

#: Where each preset's numbers come from (fields left at the class default inherit its source).
PRESET_SOURCES: dict[str, dict[str, str]] = {
    "rely": {
        "references": f"{_RELY}; {_SCI}",
        "age": "mean 71 (Scientifica 2014 Table 1); SD 8.7 UNCONFIRMED (Connolly 2009 Table 1)",
        "female": "36.6 %: RE-LY D150 arm, 36.7 % / 35.5 % of non-bleeders / bleeders (PMC10529708 Table 1)",
        "weight": "median 81 kg, UNCONFIRMED (Connolly 2009 Table 1 mean 82.6 kg)",
        "crcl": "CrCl 30-50: 19.4 %, > 50: 80.6 % (Scientifica 2014 Table 1); < 30 excluded",
        "hypertension, diabetes, aspirin": "79 %, 23 %, 40 % (US Pradaxa PI, RE-LY paragraph [S3])",
        "chf": "32 % UNCONFIRMED (Connolly 2009 Table 1)",
        "prior stroke": "20.0 % (Scientifica 2014 Table 1)",
        "vascular disease": "prior MI 16.6 % (Scientifica 2014) plus peripheral disease: 20 % (assumption)",
        "bleeding history, liver disease": "6.5 %, 1.2 % (PMC10529708 Table 1, D150 arm)",
        "ttr": "mean 64 % (US Pradaxa PI [S3])",
        "inclusion": "prior stroke/TIA/SE, HF / LVEF < 40 %, age >= 75, or age 65-74 with diabetes, hypertension or CAD",
    },
    "rocket": {
        "references": f"{_ROCKET}; {_SCI}",
        "age": "median 73 (IQR 65-78) [PMC4265383 Table 3]; normal mean 72, SD 9.6 = IQR/1.35",
        "female": "39.6 % [PMC4265383]",
        "weight": "BMI median 28.2 [PMC4265383] -> ~80 kg at 1.68 m (derived)",
        "crcl": "CrCl 30-50: 20.8 % (Scientifica 2014); < 30 excluded",
        "chf, hypertension, prior stroke, aspirin": "62.5 %, 90.5 %, 54.8 %, 36.6 % [PMC4265383]",
        "diabetes": "40 % UNCONFIRMED (Patel 2011 Table 1)",
        "vascular disease": "prior MI 17.3 % (Scientifica 2014) plus peripheral disease: 22 % (assumption)",
        "ttr": "mean 55.2 %, SD 21.3 % (Singer 2013 JAHA [S10])",
        "inclusion": "CHADS2 >= 2 (Patel 2011)",
        "check": "CHADS2 mean 3.5 (SD 0.9) and HAS-BLED mean 2.8 [PMC4265383] are reported as residuals",
    },
    "aristotle": {
        "references": f"{_ARIS}; {_SCI}",
        "age": "30 % < 65, 39 % 65-75, 31 % >= 75, 13 % >= 80 (Halvorsen 2014 EHJ, pubmed 24561548): normal 69.5 +- 9.5",
        "female, chf, hypertension, diabetes, aspirin": "35.3 %, 35.4 %, 87.4 %, 25.0 %, 31 % UNCONFIRMED (Granger 2011 Table 1)",
        "weight": "median 84 kg (IQR ~72-98): ARISTOTLE interruption sub-study (PMC4263979 Table 2)",
        "crcl": "CrCl 30-50: 15.2 %, > 50: 83.4 % (Scientifica 2014); < 25 excluded (Granger 2011)",
        "prior stroke": "19.4 % (Scientifica 2014)",
        "vascular disease": "prior MI 14.2 % (Scientifica 2014) plus peripheral disease: 18 % (assumption)",
        "bleeding history": "prior clinically relevant or spontaneous bleeding 22-25 % in PMC4263979; 16.7 % used (UNCONFIRMED, Granger 2011)",
        "ttr": "mean 62.2 % UNCONFIRMED (FACTS §6.1)",
        "inclusion": "at least one of age >= 75, prior stroke/TIA/SE, HF, diabetes, treated hypertension",
    },
    "general_practice": {
        "age, female, chf, prior stroke, vascular disease, bleeding history, diabetes": (
            "UK primary-care AF cohort, BJGP Table 1 (n = 3,574): median age 75 (69-81), female 42.6 %, CHF 7.7 %, "
            "prior stroke/TIA/SE 12.7 %, vascular disease 21.4 %, bleeding history 3.1 %, diabetes 17.6 %, CKD >= 3 25.6 %"
        ),
        "weight": "BMI median 28.1 (same table) -> ~79 kg (derived)",
        "hypertension, aspirin": "60 %, 10 % (assumption, UNCONFIRMED)",
        "ttr": "mean 67 % (CoagClinic NVAF cohort, FACTS §6.4 [S46])",
        "adherence": "Beta(8, 1): 83.2 % with > 80 % of doses vs PDC > 80 % of 83.5-84.1 % for DOACs (THIN UK, FACTS §6.5 [S53])",
        "persistence": "1-year persistence apixaban 67.0 %, rivaroxaban 64.7 %, dabigatran 59.1 %, warfarin 88.7 % (THIN UK [S53])",
    },
}


@dataclass
class AFCohort:
    """Covariates of ``N`` AF patients (arrays of shape ``(N,)``; PK multipliers ``(N, 3)``)."""

    keys: np.ndarray
    population: str
    age_y: np.ndarray
    female: np.ndarray
    weight_kg: np.ndarray
    scr_mg_per_dl: np.ndarray
    crcl_ml_per_min: np.ndarray
    chf: np.ndarray
    hypertension: np.ndarray
    uncontrolled_hypertension: np.ndarray
    diabetes: np.ndarray
    prior_stroke: np.ndarray
    vascular_disease: np.ndarray
    bleeding_history: np.ndarray
    liver_disease: np.ndarray
    antiplatelet: np.ndarray
    alcohol: np.ndarray
    verapamil: np.ndarray
    ttr: np.ndarray
    adherence: np.ndarray
    crcl_slope_deviation_ml_per_min_per_year: np.ndarray
    persistence_threshold: np.ndarray
    pk_cl_multiplier: np.ndarray
    pk_v_multiplier: np.ndarray
    pk_auc_factor: np.ndarray
    #: random effects on CL and V per DOAC (columns: apixaban, rivaroxaban, dabigatran), clipped to [-3, 3]
    eta_cl: np.ndarray | None = None
    eta_v: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def cha2ds2_vasc(self) -> np.ndarray:
        return cha2ds2_vasc(self.chf, self.hypertension, self.age_y, self.diabetes, self.prior_stroke,
                            self.vascular_disease, self.female)

    def chads2(self) -> np.ndarray:
        return chads2(self.chf, self.hypertension, self.age_y, self.diabetes, self.prior_stroke)

    def has_bled(self) -> np.ndarray:
        """HAS-BLED without the labile-INR item (TTR acts separately in the warfarin model)."""
        abnormal_renal = self.scr_mg_per_dl >= SCR_ABNORMAL_RENAL_MG_PER_DL  # Pisters 2010: >= 200 umol/L
        return has_bled(self.uncontrolled_hypertension, abnormal_renal, self.liver_disease, self.prior_stroke,
                        self.bleeding_history, np.zeros(len(self), dtype=bool), self.age_y,
                        self.antiplatelet, self.alcohol)

    def subset(self, index: np.ndarray) -> "AFCohort":
        kw: dict[str, Any] = {}
        for f in fields(self):
            v = getattr(self, f.name)
            kw[f.name] = v if isinstance(v, str) or v is None else v[index]
        return AFCohort(**kw)


def beta_parameters_from_mean_sd(mean: float, sd: float) -> tuple[float, float]:
    """Beta(a, b) with the given mean and standard deviation."""
    k = mean * (1.0 - mean) / sd**2 - 1.0
    if k <= 0:
        raise ValueError(f"no beta distribution has mean {mean} and SD {sd}")
    return mean * k, (1.0 - mean) * k


def _beta_ppf(u: np.ndarray, a: float, b: float) -> np.ndarray:
    from scipy.special import betaincinv

    return betaincinv(a, b, u)


def _draw(keys: np.ndarray, p: AFPreset, attempt: int, fixed: Any = None) -> dict[str, np.ndarray]:
    """One attempt's covariates; ``fixed`` (a :class:`hemosim.patients.spec.Fixed` for these
    rows) replaces what it holds, and the rest is drawn as always (so the inclusion rule's
    redraws condition the rest on the fixed values)."""
    c = attempt
    draws = rng.StreamDraws(keys, _COVARIATE_UNIFORM_STREAMS, (_S_WEIGHT, _S_SCR), c)
    if fixed is not None:
        return _draw_fixed(draws, p, fixed)

    def bern(stream: int, prob: float) -> np.ndarray:
        return draws.uniform(stream) < prob

    age = rng.truncated_normal_from_uniform(draws.uniform(_S_AGE), p.age_mean_y, p.age_sd_y, *p.age_range_y)
    female = bern(_S_FEMALE, p.female_fraction)
    # women 15 % lighter than men (assumption), scaled so the population median stays at the preset's
    weight = p.weight_median_kg * np.where(female, 0.85, 1.0) / (1.0 - 0.15 * p.female_fraction) * np.exp(
        p.weight_log_sd * np.clip(draws.normal(_S_WEIGHT), -3.0, 3.0))
    weight = np.clip(weight, 35.0, 200.0)
    scr = p.scr_median_male_mg_per_dl * np.where(female, p.scr_female_ratio, 1.0) * np.exp(
        p.scr_log_sd * np.clip(draws.normal(_S_SCR), -3.0, 3.0))
    d = {
        "age_y": age,
        "female": female,
        "weight_kg": weight,
        "scr_mg_per_dl": scr,
        "crcl_ml_per_min": cockcroft_gault_ml_per_min(age, weight, scr, female),
        "chf": bern(_S_CHF, p.chf),
        "hypertension": bern(_S_HTN, p.hypertension),
        "diabetes": bern(_S_DM, p.diabetes),
        "prior_stroke": bern(_S_STROKE, p.prior_stroke),
        "vascular_disease": bern(_S_VASC, p.vascular_disease),
    }
    # SBP > 160 mmHg is drawn among the hypertensive patients only
    d["uncontrolled_hypertension"] = bern(_S_UHTN, p.uncontrolled_hypertension) & d["hypertension"]
    return d


def _draw_fixed(draws: rng.StreamDraws, p: AFPreset, fixed: Any) -> dict[str, np.ndarray]:
    def bern(stream: int, prob: float) -> np.ndarray:
        return draws.uniform(stream) < prob

    age = fixed.pick("age_years", rng.truncated_normal_from_uniform(
        draws.uniform(_S_AGE), p.age_mean_y, p.age_sd_y, *p.age_range_y))
    female = fixed.pick("female", bern(_S_FEMALE, p.female_fraction))
    weight = p.weight_median_kg * np.where(female, 0.85, 1.0) / (1.0 - 0.15 * p.female_fraction) * np.exp(
        p.weight_log_sd * np.clip(draws.normal(_S_WEIGHT), -3.0, 3.0))
    weight = fixed.pick("weight_kg", np.clip(weight, 35.0, 200.0))
    scr = p.scr_median_male_mg_per_dl * np.where(female, p.scr_female_ratio, 1.0) * np.exp(
        p.scr_log_sd * np.clip(draws.normal(_S_SCR), -3.0, 3.0))
    scr = fixed.pick("creatinine_mg_per_dl", scr)
    # CrCl given without creatinine: the creatinine is solved from it (Cockcroft-Gault)
    solve = fixed.mask("crcl_baseline_ml_per_min") & ~fixed.mask("creatinine_mg_per_dl")
    if solve.any():
        crcl_given = fixed.values["crcl_baseline_ml_per_min"]
        scr = np.where(solve, cockcroft_gault_ml_per_min(age, weight, np.ones_like(scr), female) / crcl_given, scr)
    hypertension = fixed.pick("hypertension", bern(_S_HTN, p.hypertension))
    # uncontrolled hypertension implies hypertension: given True with hypertension not given, it is set
    unc_given = fixed.mask("uncontrolled_hypertension")
    if unc_given.any():
        hypertension = np.where(unc_given & fixed.values["uncontrolled_hypertension"]
                                & ~fixed.mask("hypertension"), True, hypertension)
    d = {
        "age_y": age,
        "female": female,
        "weight_kg": weight,
        "scr_mg_per_dl": scr,
        "crcl_ml_per_min": cockcroft_gault_ml_per_min(age, weight, scr, female),
        "chf": fixed.pick("chf", bern(_S_CHF, p.chf)),
        "hypertension": hypertension,
        "diabetes": fixed.pick("diabetes", bern(_S_DM, p.diabetes)),
        "prior_stroke": fixed.pick("prior_stroke", bern(_S_STROKE, p.prior_stroke)),
        "vascular_disease": fixed.pick("vascular_disease", bern(_S_VASC, p.vascular_disease)),
    }
    d["uncontrolled_hypertension"] = fixed.pick(
        "uncontrolled_hypertension", bern(_S_UHTN, p.uncontrolled_hypertension) & d["hypertension"])
    return d


def _eligible(d: dict[str, np.ndarray], p: AFPreset) -> np.ndarray:
    ok = d["crcl_ml_per_min"] >= p.crcl_min_ml_per_min
    c2 = chads2(d["chf"], d["hypertension"], d["age_y"], d["diabetes"], d["prior_stroke"])
    if p.inclusion == "chads2>=2":
        ok &= c2 >= 2
    elif p.inclusion == "chads2>=1":
        ok &= c2 >= 1
    elif p.inclusion == "risk_factor":
        ok &= (c2 >= 1) | ((d["age_y"] >= 65.0) & d["vascular_disease"])
    return ok


def sample_cohort(keys: np.ndarray, preset: str | AFPreset = "general_practice", fixed: Any = None) -> AFCohort:
    """Draw one AF patient per key (uint64 array from ``rng.patient_key``) from a preset.

    ``fixed`` (a :class:`hemosim.patients.spec.Fixed` of :func:`patient_schema`): the user's
    values; the rest is drawn from the same streams, and the preset's inclusion rule is
    applied to the patient with the fixed values (its redraws condition the rest on them; a
    patient the fixed values make ineligible keeps its first draw, as without ``fixed``).
    """
    if fixed is not None and not fixed.any():
        fixed = None
    if isinstance(preset, str):
        if preset not in AF_PRESETS:
            raise ValueError(f"unknown AF preset {preset!r}; allowed: {sorted(AF_PRESETS)}")
        preset = AF_PRESETS[preset]
    keys = np.atleast_1d(np.asarray(keys))
    if keys.dtype != np.uint64:
        raise ValueError(f"keys must be a uint64 array (hemosim.sim.rng.patient_key), got dtype {keys.dtype}")
    n = keys.shape[0]
    p = preset
    chosen = _draw(keys, p, 0, fixed)
    done = _eligible(chosen, p)
    for attempt in range(1, _MAX_ATTEMPTS):
        if done.all():
            break
        todo = np.flatnonzero(~done)
        cand = _draw(keys[todo], p, attempt, None if fixed is None else fixed.select(todo))
        ok = _eligible(cand, p)
        take = todo[ok]
        for name in chosen:
            chosen[name][take] = cand[name][ok]
        done[take] = True
    if fixed is not None:
        from hemosim.patients.spec import Fixed, Schema

        fixed_or_none = fixed
    else:
        from hemosim.patients.spec import Fixed, Schema

        fixed_or_none = Fixed(Schema("AF patient", []), n)
    f = fixed_or_none
    draws = rng.StreamDraws(keys, _PATIENT_UNIFORM_STREAMS, _PATIENT_NORMAL_STREAMS)
    ta, tb = beta_parameters_from_mean_sd(p.ttr_mean, p.ttr_sd)
    ttr = f.pick("ttr", np.clip(_beta_ppf(draws.uniform(_S_TTR), ta, tb), 0.0, 1.0))
    adherence = f.pick("adherence", np.clip(_beta_ppf(draws.uniform(_S_ADHERENCE), p.adherence_beta_a, 1.0), 0.0, 1.0))
    eta_cl = np.clip(np.stack([draws.normal(_S_ETA_CL + j) for j in range(3)], axis=1), -3.0, 3.0)
    eta_v = np.clip(np.stack([draws.normal(_S_ETA_V + j) for j in range(3)], axis=1), -3.0, 3.0)
    for j, drug in enumerate(DOAC_NAMES):
        eta_cl[:, j] = f.pick(f"eta_cl_{drug}", eta_cl[:, j])
        eta_v[:, j] = f.pick(f"eta_v_{drug}", eta_v[:, j])
    om_cl = np.array([pk.omega_cl for pk in PK_PARAMETERS])
    om_v = np.array([pk.omega_v for pk in PK_PARAMETERS])
    verapamil = f.pick("verapamil", draws.uniform(_S_VERAPAMIL) < p.verapamil)
    auc = np.ones((n, 3))
    auc[:, DABIGATRAN] = np.where(verapamil, EVENT_PARAMETERS.verapamil_dabigatran_auc_factor, 1.0)

    def bern(stream: int, prob: float, name: str) -> np.ndarray:
        return f.pick(name, draws.uniform(stream) < prob)

    return AFCohort(
        keys=keys.copy(),
        population=p.name,
        age_y=chosen["age_y"],
        female=chosen["female"],
        weight_kg=chosen["weight_kg"],
        scr_mg_per_dl=chosen["scr_mg_per_dl"],
        crcl_ml_per_min=chosen["crcl_ml_per_min"],
        chf=chosen["chf"],
        hypertension=chosen["hypertension"],
        uncontrolled_hypertension=chosen["uncontrolled_hypertension"],
        diabetes=chosen["diabetes"],
        prior_stroke=chosen["prior_stroke"],
        vascular_disease=chosen["vascular_disease"],
        bleeding_history=bern(_S_BLEED, p.bleeding_history, "bleeding_history"),
        liver_disease=bern(_S_LIVER, p.liver_disease, "liver_disease"),
        antiplatelet=bern(_S_ASA, p.antiplatelet, "antiplatelet"),
        alcohol=bern(_S_ALCOHOL, p.alcohol, "alcohol"),
        verapamil=verapamil,
        ttr=ttr,
        adherence=adherence,
        crcl_slope_deviation_ml_per_min_per_year=f.pick(
            "crcl_slope_deviation_ml_per_min_per_year", p.crcl_slope_sd_ml_per_min_per_year * draws.normal(_S_SLOPE)),
        persistence_threshold=f.pick("persistence_threshold", -np.log(draws.uniform(_S_PERSIST))),
        pk_cl_multiplier=np.exp(om_cl[None, :] * eta_cl) * np.stack(
            [covariate_cl_multiplier(pk, chosen["age_y"], chosen["weight_kg"]) for pk in PK_PARAMETERS], axis=1),
        pk_v_multiplier=np.exp(om_v[None, :] * eta_v),
        pk_auc_factor=auc,
        eta_cl=eta_cl,
        eta_v=eta_v,
    )


#: the DOACs with random effects (columns of ``AFCohort.eta_cl`` / ``eta_v``)
DOAC_NAMES: tuple[str, ...] = ("apixaban", "rivaroxaban", "dabigatran")
_BOOL_ITEMS = ("chf", "hypertension", "uncontrolled_hypertension", "diabetes", "prior_stroke", "vascular_disease",
               "bleeding_history", "liver_disease", "antiplatelet", "alcohol", "verapamil")


def cohort_info(c: AFCohort) -> dict[str, np.ndarray]:
    """Fresh arrays for ``info["patient"]`` of ``DOACManagement-v0`` (every settable key)."""
    out: dict[str, np.ndarray] = {
        "age_years": c.age_y.copy(), "female": c.female.copy(), "weight_kg": c.weight_kg.copy(),
        "creatinine_mg_per_dl": c.scr_mg_per_dl.copy(), "crcl_baseline_ml_per_min": c.crcl_ml_per_min.copy(),
        "ttr": c.ttr.copy(), "adherence": c.adherence.copy(),
        "crcl_slope_deviation_ml_per_min_per_year": c.crcl_slope_deviation_ml_per_min_per_year.copy(),
        "persistence_threshold": c.persistence_threshold.copy(),
    }
    for name in _BOOL_ITEMS:
        out[name] = getattr(c, name).copy()
    n = len(c)
    for j, drug in enumerate(DOAC_NAMES):
        out[f"eta_cl_{drug}"] = np.zeros(n) if c.eta_cl is None else c.eta_cl[:, j].copy()
        out[f"eta_v_{drug}"] = np.zeros(n) if c.eta_v is None else c.eta_v[:, j].copy()
    return out


def patient_schema(preset: str | AFPreset = "general_practice") -> Any:
    """What ``reset(options={"patient": ...})`` of ``DOACManagement-v0`` accepts."""
    from hemosim.patients.spec import Field, Schema

    p = AF_PRESETS[preset] if isinstance(preset, str) else preset
    fields_ = [
        Field("age_years", "float", "years", *p.age_range_y, doc="age at the first visit"),
        Field("female", "bool", doc="sex (weight and creatinine by sex; CHA2DS2-VASc)"),
        Field("weight_kg", "float", "kg", 35.0, 200.0, doc="body weight"),
        Field("creatinine_mg_per_dl", "float", "mg/dL", 0.1, 20.0, doc="serum creatinine at baseline"),
        Field("crcl_baseline_ml_per_min", "float", "mL/min", 1.0, 250.0,
              doc="Cockcroft-Gault CrCl at baseline; given alone, the creatinine is solved from it"),
        Field("ttr", "float", "fraction", 0.0, 1.0, doc="time in therapeutic range on warfarin"),
        Field("adherence", "float", "fraction", 0.0, 1.0, doc="share of doses taken"),
        Field("crcl_slope_deviation_ml_per_min_per_year", "float", "mL/min/yr", -100.0, 100.0,
              doc="the patient's deviation from the mean CrCl decline (renal decline scenario; negative = faster)"),
        Field("persistence_threshold", "float", "-", 0.0, 40.0,
              doc="cumulative discontinuation hazard at which the patient stops (-ln U)"),
    ]
    docs = {"chf": "heart failure", "hypertension": "hypertension", "uncontrolled_hypertension": "SBP > 160 mmHg (implies hypertension)",
            "diabetes": "diabetes", "prior_stroke": "prior stroke / TIA / SE", "vascular_disease": "vascular disease",
            "bleeding_history": "major bleeding history", "liver_disease": "liver disease",
            "antiplatelet": "on an antiplatelet", "alcohol": ">= 8 units/week", "verapamil": "on verapamil (dabigatran AUC up)"}
    fields_ += [Field(name, "bool", doc=docs[name]) for name in _BOOL_ITEMS]
    for drug in DOAC_NAMES:
        fields_.append(Field(f"eta_cl_{drug}", "float", "SD units", -3.0, 3.0,
                             doc=f"standardised random effect of {drug} CL (CL x exp(omega eta))"))
        fields_.append(Field(f"eta_v_{drug}", "float", "SD units", -3.0, 3.0,
                             doc=f"standardised random effect of {drug} V"))
    return Schema("DOACManagement-v0 patient", fields_)


def check_cohort(fixed: Any, cohort: AFCohort) -> None:
    """Consistency the schema cannot see: CrCl and creatinine both given must agree;
    uncontrolled hypertension needs hypertension."""
    both = fixed.mask("crcl_baseline_ml_per_min") & fixed.mask("creatinine_mg_per_dl")
    if both.any():
        bad = both & ~np.isclose(cohort.crcl_ml_per_min, fixed.values["crcl_baseline_ml_per_min"], rtol=1e-9)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"DOACManagement-v0 patient: crcl_baseline_ml_per_min = {fixed.values['crcl_baseline_ml_per_min'][i]:g} "
                f"disagrees with creatinine_mg_per_dl = {fixed.values['creatinine_mg_per_dl'][i]:g} (Cockcroft-Gault "
                f"gives {cohort.crcl_ml_per_min[i]:.6g}); give one of them, or values that agree"
            )
    bad = cohort.uncontrolled_hypertension & ~cohort.hypertension
    if bad.any():
        raise ValueError("DOACManagement-v0 patient: uncontrolled_hypertension = True needs hypertension = True")
    if "crcl_baseline_ml_per_min" in fixed:
        scr = cohort.scr_mg_per_dl[fixed.mask("crcl_baseline_ml_per_min")]
        if np.any((scr < 0.1) | (scr > 20.0)):
            raise ValueError(
                "DOACManagement-v0 patient: crcl_baseline_ml_per_min with these age, weight and sex implies a serum "
                f"creatinine of {scr.min():.3g}-{scr.max():.3g} mg/dL, outside [0.1, 20]; give a CrCl they allow"
            )
