"""Published targets of the DOAC in-silico trials, as data (value, interval, source).

Rates are events per 100 patient-years (%/yr as the papers print them). The trials do not
print an interval for a per-arm rate; it is *derived* here as the exact (Garwood) Poisson
interval of ``events`` over ``patient_years``, where, unless the paper's event count is
given (ROCKET AF primary endpoint), ``patient_years = N randomised x median follow-up`` and
``events = rate x patient_years`` (both derived, see :func:`rate_interval`). Hazard ratios
and their 95 % intervals are the published ones. ``fitted`` marks the targets the fitting
script uses (``hemosim.calibration.doac_trials --fit``); every other target is reported with
its residual and never tuned. Tags: VERIFIED (seen in the source, FACTS §6.1) or
UNCONFIRMED (recalled from the primary paper, not seen in a source here).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2

from hemosim.models.doac import APIXABAN, DABIGATRAN, REDUCED, RIVAROXABAN, STANDARD, WARFARIN

__all__ = ["ArmTarget", "HazardRatioTarget", "Arm", "Trial", "TRIALS", "rate_interval", "FITTED_TARGETS",
           "WHITE_2007_TTR", "RELY_D150_VS_D110_STROKE_HR", "WRF_FRACTION_RELY", "STRATA", "stratum_mask",
           "SubgroupTarget", "SUBGROUP_TARGETS", "FITTED_SUBGROUP_RATIOS", "published_subgroup_rate"]

REPORTED_ENDPOINTS: tuple[str, ...] = ("stroke_se", "major_bleeding", "ich", "death", "gi_bleeding", "mi")


def rate_interval(events: float, patient_years: float, level: float = 0.95) -> tuple[float, float]:
    """Exact Poisson (Garwood) interval of a rate, per 100 patient-years."""
    a = (1.0 - level) / 2.0
    lo = 0.0 if events <= 0 else chi2.ppf(a, 2.0 * events) / 2.0
    hi = chi2.ppf(1.0 - a, 2.0 * events + 2.0) / 2.0
    return 100.0 * lo / patient_years, 100.0 * hi / patient_years


@dataclass(frozen=True)
class ArmTarget:
    """A published per-arm annual rate."""

    rate_per_100py: float
    patient_years: float
    source: str
    tag: str = "VERIFIED"
    events: float | None = None  # published count if known, else derived rate x patient-years

    @property
    def n_events(self) -> float:
        return self.events if self.events is not None else self.rate_per_100py * self.patient_years / 100.0

    @property
    def interval(self) -> tuple[float, float]:
        return rate_interval(self.n_events, self.patient_years)


@dataclass(frozen=True)
class HazardRatioTarget:
    """A published hazard (or rate) ratio vs the trial's warfarin arm."""

    hr: float
    lo: float | None
    hi: float | None
    source: str
    tag: str = "VERIFIED"

    @property
    def excludes_one(self) -> bool:
        return self.lo is not None and self.hi is not None and (self.hi < 1.0 or self.lo > 1.0)


@dataclass(frozen=True)
class Arm:
    name: str
    drug: int
    dose_rule: str  # "fixed_standard", "fixed_reduced", "rocket_renal", "aristotle_2of3", "warfarin"
    n_randomised: int
    rates: dict[str, ArmTarget] = field(default_factory=dict)
    hazard_ratios: dict[str, HazardRatioTarget] = field(default_factory=dict)


@dataclass(frozen=True)
class Trial:
    name: str
    preset: str
    median_follow_up_years: float
    follow_up_source: str
    analysis: str
    arms: tuple[Arm, ...]

    @property
    def warfarin(self) -> Arm:
        return next(a for a in self.arms if a.drug == WARFARIN)


# ---------------------------------------------------------------- RE-LY (Connolly 2009)
_R = "Connolly 2009 NEJM 361:1139 (RE-LY)"
_R2 = "Am J Cardiovasc Drugs 2015;15:323 Table 4 (RE-LY rows) [S2]"
_RFU = 2.0


def _py(n: int, fu: float) -> float:
    return n * fu


_rely_arms = (
    Arm("dabigatran_110", DABIGATRAN, "fixed_reduced", 6015,
        rates={
            "stroke_se": ArmTarget(1.53, _py(6015, _RFU), _R),
            "major_bleeding": ArmTarget(2.71, _py(6015, _RFU), _R),
            "ich": ArmTarget(0.23, _py(6015, _RFU), _R2),
            "gi_bleeding": ArmTarget(1.12, _py(6015, _RFU), _R2),
            "death": ArmTarget(3.75, _py(6015, _RFU), _R),
            "mi": ArmTarget(0.82, _py(6015, _RFU), "Hohnloser 2012 Circulation 125:669 (re-adjudicated)"),
        },
        hazard_ratios={
            "stroke_se": HazardRatioTarget(0.91, 0.74, 1.11, _R),
            "major_bleeding": HazardRatioTarget(0.80, 0.69, 0.93, _R),
            "ich": HazardRatioTarget(0.31, 0.20, 0.47, _R2),
            "gi_bleeding": HazardRatioTarget(1.10, 0.86, 1.41, _R2),
            "death": HazardRatioTarget(0.91, 0.80, 1.03, _R, "UNCONFIRMED"),
            "mi": HazardRatioTarget(1.29, 0.96, 1.75, "Hohnloser 2012"),
        }),
    Arm("dabigatran_150", DABIGATRAN, "fixed_standard", 6076,
        rates={
            "stroke_se": ArmTarget(1.11, _py(6076, _RFU), _R),
            "major_bleeding": ArmTarget(3.11, _py(6076, _RFU), _R),
            "ich": ArmTarget(0.30, _py(6076, _RFU), _R2),
            "gi_bleeding": ArmTarget(1.51, _py(6076, _RFU), _R2),
            "death": ArmTarget(3.64, _py(6076, _RFU), _R),
            "mi": ArmTarget(0.81, _py(6076, _RFU), "Hohnloser 2012"),
        },
        hazard_ratios={
            "stroke_se": HazardRatioTarget(0.66, 0.53, 0.82, _R),
            "major_bleeding": HazardRatioTarget(0.93, 0.81, 1.07, _R),
            "ich": HazardRatioTarget(0.40, 0.27, 0.60, _R2),
            "gi_bleeding": HazardRatioTarget(1.50, 1.19, 1.89, _R2),
            "death": HazardRatioTarget(0.88, 0.77, 1.00, _R, "UNCONFIRMED"),
            "mi": HazardRatioTarget(1.27, 0.94, 1.71, "Hohnloser 2012"),
        }),
    Arm("warfarin", WARFARIN, "warfarin", 6022,
        rates={
            "stroke_se": ArmTarget(1.69, _py(6022, _RFU), _R),
            "major_bleeding": ArmTarget(3.36, _py(6022, _RFU), _R),
            "ich": ArmTarget(0.74, _py(6022, _RFU), _R2),
            "gi_bleeding": ArmTarget(1.02, _py(6022, _RFU), _R2),
            "death": ArmTarget(4.13, _py(6022, _RFU), _R),
            "mi": ArmTarget(0.64, _py(6022, _RFU), "Hohnloser 2012 (model input, not a validation target)"),
        }),
)

# ------------------------------------------------------- ROCKET AF (Patel 2011), on treatment
_K = "Patel 2011 NEJM 365:883 (ROCKET AF), per-protocol on-treatment"
_K2 = "Am J Cardiovasc Drugs 2015;15:323 Table 4 (ROCKET AF rows) [S2]"
_K7 = "Xarelto EU SmPC 5.1 (ROCKET AF, ITT) [S7]"
_K_MB = ("Patel 2011 safety on-treatment, 395 vs 386 major bleeds (3.6 vs 3.4 /100 pt-yr) recalled; the total of 781 "
         "patients with a major bleed is VERIFIED in Goodman 2014 JACC 63:891 (pubmed 24315894)")
_PY_RIVA = 188 / 1.7 * 100.0  # patient-years implied by 188 events at 1.7 /100 pt-yr (derived)
_PY_WARF_K = 241 / 2.2 * 100.0
_rocket_arms = (
    Arm("rivaroxaban", RIVAROXABAN, "rocket_renal", 7131,
        rates={
            "stroke_se": ArmTarget(1.7, _PY_RIVA, _K, events=188),
            "major_bleeding": ArmTarget(3.6, _PY_RIVA, _K_MB, "UNCONFIRMED"),
            "ich": ArmTarget(0.5, _PY_RIVA, _K2),
            "gi_bleeding": ArmTarget(3.2, _PY_RIVA, _K2 + " (unit caveat: possibly % of patients)"),
            "death": ArmTarget(4.5, _PY_RIVA, "Patel 2011 ITT all-cause death", "UNCONFIRMED"),
            "mi": ArmTarget(1.02, _PY_RIVA, _K7),
        },
        hazard_ratios={
            "stroke_se": HazardRatioTarget(0.79, 0.66, 0.96, _K),
            "major_bleeding": HazardRatioTarget(1.04, 0.90, 1.20, "Patel 2011", "UNCONFIRMED"),
            "ich": HazardRatioTarget(0.67, 0.47, 0.93, _K2),
            "death": HazardRatioTarget(0.92, 0.82, 1.03, "Patel 2011 ITT", "UNCONFIRMED"),
            "mi": HazardRatioTarget(0.91, 0.72, 1.16, _K7),
        }),
    Arm("warfarin", WARFARIN, "warfarin", 7133,
        rates={
            "stroke_se": ArmTarget(2.2, _PY_WARF_K, _K, events=241),
            "major_bleeding": ArmTarget(3.4, _PY_WARF_K, _K_MB, "UNCONFIRMED"),
            "ich": ArmTarget(0.7, _PY_WARF_K, _K2),
            "gi_bleeding": ArmTarget(2.2, _PY_WARF_K, _K2 + " (unit caveat)"),
            "death": ArmTarget(4.9, _PY_WARF_K, "Patel 2011 ITT all-cause death", "UNCONFIRMED"),
            "mi": ArmTarget(1.11, _PY_WARF_K, _K7),
        }),
)

# --------------------------------------------------------------- ARISTOTLE (Granger 2011)
_A = "Granger 2011 NEJM 365:981 (ARISTOTLE) [S11, S12]"
_A2 = "Am J Cardiovasc Drugs 2015;15:323 Table 4 (ARISTOTLE rows) [S2]"
_AFU = 1.8
_aristotle_arms = (
    Arm("apixaban", APIXABAN, "aristotle_2of3", 9120,
        rates={
            "stroke_se": ArmTarget(1.27, _py(9120, _AFU), _A),
            "major_bleeding": ArmTarget(2.13, _py(9120, _AFU), _A),
            "ich": ArmTarget(0.33, _py(9120, _AFU), _A2),
            "gi_bleeding": ArmTarget(0.76, _py(9120, _AFU), _A2),
            "death": ArmTarget(3.52, _py(9120, _AFU), _A),
            "mi": ArmTarget(0.53, _py(9120, _AFU), "PMC7347708 Table 2 citing ARISTOTLE [S15]"),
        },
        hazard_ratios={
            "stroke_se": HazardRatioTarget(0.79, 0.66, 0.95, _A),
            "major_bleeding": HazardRatioTarget(0.69, 0.60, 0.80, _A),
            "ich": HazardRatioTarget(0.42, 0.30, 0.58, _A2),
            "gi_bleeding": HazardRatioTarget(0.89, 0.70, 1.15, _A2),
            "death": HazardRatioTarget(0.89, 0.80, 0.99, _A),
            "mi": HazardRatioTarget(0.88, None, None, "Granger 2011", "UNCONFIRMED"),
        }),
    Arm("warfarin", WARFARIN, "warfarin", 9081,
        rates={
            "stroke_se": ArmTarget(1.60, _py(9081, _AFU), _A),
            "major_bleeding": ArmTarget(3.09, _py(9081, _AFU), _A),
            "ich": ArmTarget(0.80, _py(9081, _AFU), _A2),
            "gi_bleeding": ArmTarget(0.86, _py(9081, _AFU), _A2),
            "death": ArmTarget(3.94, _py(9081, _AFU), _A),
            "mi": ArmTarget(0.61, _py(9081, _AFU), "Granger 2011", "UNCONFIRMED"),
        }),
)

TRIALS: dict[str, Trial] = {
    "rely": Trial("RE-LY", "rely", 2.0, "Connolly 2009: median follow-up 2.0 y [S1]", "intention to treat", _rely_arms),
    "rocket": Trial("ROCKET AF", "rocket", 1.94, "Hankey 2014 Stroke: median follow-up 1.94 y [S9]",
                    "per-protocol on treatment (primary), safety on treatment (bleeding)", _rocket_arms),
    "aristotle": Trial("ARISTOTLE", "aristotle", 1.8, "Granger 2011: median follow-up 1.8 y [S11]", "intention to treat",
                       _aristotle_arms),
}

#: (trial, arm, endpoint) triples used by the fitting script; everything else is validation only.
FITTED_TARGETS: tuple[tuple[str, str, str], ...] = tuple(
    (t, a.name, e) for t, trial in TRIALS.items() for a in trial.arms for e in ("stroke_se", "major_bleeding")
) + (("rely", "warfarin", "death"), ("aristotle", "warfarin", "death"))

#: White 2007 Arch Intern Med 167:239 (SPORTIF III/V warfarin arms), annual rates by
#: individual TTR: good > 75 %, moderate 60-75 %, poor < 60 % (FACTS §6.4 [S42]). Not fitted.
WHITE_2007_TTR: dict[str, dict[str, float]] = {
    "stroke_se": {"good": 1.07, "poor": 2.10},
    "major_bleeding": {"good": 1.58, "moderate": 1.96, "poor": 3.85},
    "death": {"good": 1.69, "moderate": 1.84, "poor": 4.20},
}

#: RE-LY D150 vs D110 stroke/SE HR 0.72 (0.58-0.90), US Pradaxa PI Table 4 [S3]. Not fitted.
RELY_D150_VS_D110_STROKE_HR: tuple[float, float, float] = (0.72, 0.58, 0.90)

#: RE-LY: 24.2 % had worsening renal function (> 20 % fall) over median 1.8 y (AHJ 2018;198:169 [S48]).
WRF_FRACTION_RELY: float = 0.242


# ------------------------------------------------------------ subgroups (age, renal function)
#: Baseline strata of the subgroup analyses: name -> (variable, lower bound inclusive?, bounds).
#: Ages in years at randomisation, CrCl by Cockcroft-Gault [mL/min] at randomisation.
STRATA: dict[str, tuple[str, float, float]] = {
    "age<75": ("age_y", -np.inf, 75.0),
    "age>=75": ("age_y", 75.0, np.inf),
    "crcl>80": ("crcl_ml_per_min", 80.0 + 1e-9, np.inf),
    "crcl50-80": ("crcl_ml_per_min", 50.0 + 1e-9, 80.0 + 1e-9),
    "crcl<=50": ("crcl_ml_per_min", -np.inf, 50.0 + 1e-9),
    "crcl<50": ("crcl_ml_per_min", -np.inf, 50.0),
    "crcl>=50": ("crcl_ml_per_min", 50.0, np.inf),
}


def stratum_mask(cohort, stratum: str) -> np.ndarray:
    """Boolean mask of the cohort's patients in a baseline stratum of :data:`STRATA` (lo <= x < hi)."""
    if stratum not in STRATA:
        raise ValueError(f"unknown stratum {stratum!r}; allowed: {sorted(STRATA)}")
    var, lo, hi = STRATA[stratum]
    x = np.asarray(getattr(cohort, var), dtype=np.float64)
    return (x >= lo) & (x < hi)


@dataclass(frozen=True)
class SubgroupTarget:
    """A published annual rate in a baseline subgroup of one trial (one arm, or several arms pooled)."""

    trial: str
    arms: tuple[str, ...]
    endpoint: str
    stratum: str
    rate_per_100py: float
    source: str
    tag: str = "VERIFIED"


_EIK = "Eikelboom 2011 Circulation 123:2363 (RE-LY bleeding by age), abstract [acc.org journal scan; scribd copy]"
_HOH = ("Hohnloser 2012 Eur Heart J 33:2821 (ARISTOTLE by Cockcroft-Gault eGFR): per-arm rates recalled; their means "
        "(1.65 and 4.8 %/yr) and the HR 0.50 (0.38-0.66) at <= 50 are in the abstract / Crawford 2013 summary")
_HOH_S = "Hohnloser 2012 as summarised by Crawford 2013 (Clin Cardiol Alert): stroke/SE 1.05 / 1.46 / 2.39 %/yr, both arms"
_HAL = "Halvorsen 2014 Eur Heart J 35:1864 (ARISTOTLE by age): per-arm rates recalled; 'less major bleeding regardless of age (P interaction > 0.11)' is in the abstract"
_FOX = "Fox 2011 Eur Heart J 32:2387 (ROCKET AF by CrCl, per-protocol): recalled, not seen here"

SUBGROUP_TARGETS: tuple[SubgroupTarget, ...] = (
    # RE-LY major bleeding by age (Eikelboom 2011), per arm
    SubgroupTarget("rely", ("dabigatran_110",), "major_bleeding", "age<75", 1.89, _EIK),
    SubgroupTarget("rely", ("dabigatran_110",), "major_bleeding", "age>=75", 4.43, _EIK),
    SubgroupTarget("rely", ("dabigatran_150",), "major_bleeding", "age<75", 2.12, _EIK),
    SubgroupTarget("rely", ("dabigatran_150",), "major_bleeding", "age>=75", 5.10, _EIK),
    SubgroupTarget("rely", ("warfarin",), "major_bleeding", "age<75", 3.04, _EIK),
    SubgroupTarget("rely", ("warfarin",), "major_bleeding", "age>=75", 4.37, _EIK),
    # ARISTOTLE major bleeding by renal function (Hohnloser 2012)
    SubgroupTarget("aristotle", ("apixaban",), "major_bleeding", "crcl>80", 1.46, _HOH, "UNCONFIRMED"),
    SubgroupTarget("aristotle", ("apixaban",), "major_bleeding", "crcl50-80", 2.45, _HOH, "UNCONFIRMED"),
    SubgroupTarget("aristotle", ("apixaban",), "major_bleeding", "crcl<=50", 3.21, _HOH, "UNCONFIRMED"),
    SubgroupTarget("aristotle", ("warfarin",), "major_bleeding", "crcl>80", 1.84, _HOH, "UNCONFIRMED"),
    SubgroupTarget("aristotle", ("warfarin",), "major_bleeding", "crcl50-80", 3.21, _HOH, "UNCONFIRMED"),
    SubgroupTarget("aristotle", ("warfarin",), "major_bleeding", "crcl<=50", 6.44, _HOH, "UNCONFIRMED"),
    # ARISTOTLE stroke/SE by renal function, both arms pooled
    SubgroupTarget("aristotle", ("apixaban", "warfarin"), "stroke_se", "crcl>80", 1.05, _HOH_S),
    SubgroupTarget("aristotle", ("apixaban", "warfarin"), "stroke_se", "crcl50-80", 1.46, _HOH_S),
    SubgroupTarget("aristotle", ("apixaban", "warfarin"), "stroke_se", "crcl<=50", 2.39, _HOH_S),
    # ARISTOTLE major bleeding by age (Halvorsen 2014), >= 75 only (the younger strata are split at 65 there)
    SubgroupTarget("aristotle", ("apixaban",), "major_bleeding", "age>=75", 3.33, _HAL, "UNCONFIRMED"),
    SubgroupTarget("aristotle", ("warfarin",), "major_bleeding", "age>=75", 5.19, _HAL, "UNCONFIRMED"),
    # ROCKET AF stroke/SE by renal function (Fox 2011), per-protocol
    SubgroupTarget("rocket", ("rivaroxaban",), "stroke_se", "crcl<50", 2.32, _FOX, "UNCONFIRMED"),
    SubgroupTarget("rocket", ("rivaroxaban",), "stroke_se", "crcl>=50", 1.57, _FOX, "UNCONFIRMED"),
    SubgroupTarget("rocket", ("warfarin",), "stroke_se", "crcl<50", 2.77, _FOX, "UNCONFIRMED"),
    SubgroupTarget("rocket", ("warfarin",), "stroke_se", "crcl>=50", 2.00, _FOX, "UNCONFIRMED"),
)

#: The subgroup *ratios* the fit uses (parameter, trial, pooled arms, endpoint, numerator stratum,
#: denominator stratum). Only these five ratios are fitted; every subgroup rate (its level) and every
#: other ratio of :data:`SUBGROUP_TARGETS` is validation.
FITTED_SUBGROUP_RATIOS: tuple[tuple[str, str, tuple[str, ...], str, str, str], ...] = (
    ("bleed_age_slope_per_decade", "rely", ("warfarin",), "major_bleeding", "age>=75", "age<75"),
    ("dabigatran_bleed_age_slope_per_decade", "rely", ("dabigatran_110", "dabigatran_150"), "major_bleeding",
     "age>=75", "age<75"),
    ("bleed_renal_exponent", "aristotle", ("apixaban",), "major_bleeding", "crcl<=50", "crcl>80"),
    ("warfarin_bleed_renal_exponent", "aristotle", ("warfarin",), "major_bleeding", "crcl<=50", "crcl>80"),
    ("stroke_renal_exponent", "aristotle", ("apixaban", "warfarin"), "stroke_se", "crcl<=50", "crcl>80"),
)


def published_subgroup_rate(trial: str, arms: tuple[str, ...], endpoint: str, stratum: str) -> float:
    """The published rate of a pooled set of arms in a stratum (mean of the arms' rates when pooled)."""
    rows = [t for t in SUBGROUP_TARGETS if t.trial == trial and t.endpoint == endpoint and t.stratum == stratum]
    exact = [t for t in rows if t.arms == tuple(arms)]
    if exact:
        return exact[0].rate_per_100py
    per_arm = []
    for a in arms:
        match = [t.rate_per_100py for t in rows if t.arms == (a,)]
        if not match:
            raise KeyError(f"no published {endpoint} rate for {trial} {a} in stratum {stratum}")
        per_arm.append(match[0])
    return float(np.mean(per_arm))
