"""Published numbers the calibrated warfarin model meets, as data (value, source, role).

``role`` is ``"fitted"`` (the calibration minimises its residual) or ``"validation"`` (only
compared, never used by the fit). ``tolerance`` is the acceptance band the tests and the
model card use (absolute, in the target's unit); ``se`` weights a fitted target's residual.

Sources
-------
* IWPC 2009: Klein TE et al., N Engl J Med 2009;360:753-764. Derivation cohort (n = 4,043)
  median weekly dose 28.0 mg, IQR 19.0-38.5 (Table 1, FACTS §2.5, VERIFIED); 33.9 % of
  patients needed <= 21 mg/week and 12.4 % >= 49 mg/week (Table 3, the low- and high-dose
  groups, as quoted in issue #11); MAE of the algorithms in the validation cohort
  (n = 1,009): pharmacogenetic 8.5, clinical 9.9, fixed 35 mg/week 13.0 mg/week (Table 2,
  FACTS §2.1, VERIFIED).
* IWPC public data (PharmGKB, 5,700 patients): mean observed dose by race (White 33.8,
  Black 42.2, Asian 22.4 mg/week) and by genotype cell, COMPUTED for FACTS §2.5 from the
  public data set, not a published table.
* White RH, McKittrick T, Hutchinson R, Twitchell J. Temporary discontinuation of warfarin
  therapy: changes in the international normalized ratio. Ann Intern Med 1995;122:40-42
  (abstract, annals.org and UpToDate copies): 22 clinic patients on a fixed evening dose,
  mean steady-state INR 2.6; INR ~20, 65, 115 and 185 h after the last dose. Mean INR 1.6
  at 65 h (range 1.11-2.16), 20/22 (91 %) > 1.2; mean 1.1 at 115 h, 5/22 (23 %) >= 1.2; in
  the 5 patients sampled twice daily the INR fell exponentially with a half-life of
  0.52-1.2 days, the fastest fall starting 24-36 h after stopping.
* Kovacs MJ et al. Comparison of 10-mg and 5-mg warfarin initiation nomograms together
  with low-molecular-weight heparin for outpatient treatment of acute venous
  thromboembolism. Ann Intern Med 2003;138:714-719 (abstract): 83 % of the 10-mg arm
  (n = 104) and 46 % of the 5-mg arm (n = 97) had a therapeutic INR by day 5; the 10-mg arm
  got there 1.4 days earlier. INR checks on days 3, 5 and 8 (Pathophysiol Haemost Thromb
  2002;32:131, FACTS §2.3). The nomograms' dose tables were not found (FACTS §2.3): the
  simulated arms are approximations (``hemosim.calibration.warfarin_population``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Target", "DOSE_TARGETS", "DYNAMICS_TARGETS", "ALGORITHM_MAE_TARGETS", "ANCESTRY_MEAN_DOSE", "all_targets",
           "HAMBERG_2007_TABLE5", "hamberg_2007_table5_cells"]


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    unit: str
    source: str
    role: str  # "fitted" or "validation"
    tolerance: float  # acceptance band, absolute, in ``unit``
    se: float = float("nan")  # weight of a fitted residual (same unit)

    def __post_init__(self) -> None:
        if self.role not in ("fitted", "validation"):
            raise ValueError(f"role {self.role!r} is not allowed; use 'fitted' or 'validation'")


_IWPC_T1 = "IWPC 2009 N Engl J Med 360:753, Table 1 (derivation cohort, n = 4,043)"
_IWPC_T3 = "IWPC 2009 N Engl J Med 360:753, Table 3 (low / high dose groups)"
_IWPC_T2 = "IWPC 2009 N Engl J Med 360:753, Table 2 (validation cohort, n = 1,009)"
_WHITE = "White 1995 Ann Intern Med 122:40 (22 patients, mean steady-state INR 2.6)"
_KOVACS = "Kovacs 2003 Ann Intern Med 138:714"

#: IWPC dose distribution: fitted (population stage). Must show: median within 10 %,
#: shares within 5 points.
DOSE_TARGETS: tuple[Target, ...] = (
    Target("median_mg_per_week", 28.0, "mg/week", _IWPC_T1, "fitted", 2.8, se=1.0),
    Target("p25_mg_per_week", 19.0, "mg/week", _IWPC_T1, "fitted", 2.8, se=1.0),
    Target("p75_mg_per_week", 38.5, "mg/week", _IWPC_T1, "fitted", 2.8, se=1.0),
    Target("share_le_21_percent", 33.9, "%", _IWPC_T3, "fitted", 5.0, se=2.0),
    Target("share_ge_49_percent", 12.4, "%", _IWPC_T3, "fitted", 5.0, se=2.0),
)

#: INR time courses: the means are fitted (dynamics stage), the spreads only compared.
#: Tolerances: White's range at 65 h spans 1.11-2.16 (SD about range / 4 = 0.26, SE of
#: the mean 0.056 for n = 22); the Kovacs shares use two binomial SEs.
DYNAMICS_TARGETS: tuple[Target, ...] = (
    Target("white_mean_inr_65h", 1.6, "INR", _WHITE, "fitted", 0.11, se=0.056),
    Target("white_mean_inr_115h", 1.1, "INR", _WHITE, "fitted", 0.11, se=0.056),
    Target("kovacs_10mg_therapeutic_by_day5_percent", 83.0, "%", _KOVACS + " (n = 104)", "fitted", 7.4, se=3.7),
    Target("kovacs_5mg_therapeutic_by_day5_percent", 46.0, "%", _KOVACS + " (n = 97)", "fitted", 10.1, se=5.1),
    Target("white_share_above_1_2_at_65h_percent", 91.0, "%", _WHITE, "validation", 12.2),
    Target("white_share_at_least_1_2_at_115h_percent", 23.0, "%", _WHITE, "validation", 18.0),
    # the 5 patients' half-lives spanned 0.52-1.2 days: the simulated median must lie in that range
    Target("white_half_life_days_median", 0.86, "days", _WHITE + ", range 0.52-1.2 in 5 patients sampled twice daily",
           "validation", 0.34),
)

#: MAE of the IWPC algorithms against each patient's stable dose (validation only).
#: Must show: pharmacogenetic < clinical < fixed and pharmacogenetic within 6-12 mg/week.
ALGORITHM_MAE_TARGETS: tuple[Target, ...] = (
    Target("mae_pharmacogenetic_mg_per_week", 8.5, "mg/week", _IWPC_T2, "validation", 3.5),
    Target("mae_clinical_mg_per_week", 9.9, "mg/week", _IWPC_T2, "validation", 3.5),
    Target("mae_fixed_35_mg_per_week", 13.0, "mg/week", _IWPC_T2, "validation", 3.5),
)

_IWPC_D = "IWPC public data (PharmGKB), mean observed dose, COMPUTED for FACTS §2.5 (not a published table)"
#: Mean stable dose by ancestry (validation only; the IWPC race groups).
ANCESTRY_MEAN_DOSE: tuple[Target, ...] = (
    Target("european_mean_mg_per_week", 33.8, "mg/week", _IWPC_D + ", White", "validation", 5.0),
    Target("african_mean_mg_per_week", 42.2, "mg/week", _IWPC_D + ", Black", "validation", 5.0),
    Target("east_asian_mean_mg_per_week", 22.4, "mg/week", _IWPC_D + ", Asian", "validation", 5.0),
)


def all_targets() -> tuple[Target, ...]:
    return DOSE_TARGETS + DYNAMICS_TARGETS + ALGORITHM_MAE_TARGETS + ANCESTRY_MEAN_DOSE


#: Hamberg 2007 Clin Pharmacol Ther 81:529, Table 5 (FACTS §1.6): racemic warfarin dose
#: (mg/day) giving a steady-state INR of 2.5 in typical patients aged 50 / 70 / 90 years, by
#: (CYP2C9, VKORC1 -1639) genotype. The published model must reproduce it (validation of the
#: implementation; the calibrated population rescales the model).
HAMBERG_2007_TABLE5: dict[tuple[str, str], tuple[float, float, float]] = {
    ("*1/*1", "GG"): (9.08, 7.72, 6.36), ("*1/*1", "GA"): (5.94, 5.06, 4.16), ("*1/*1", "AA"): (4.32, 3.68, 3.04),
    ("*1/*2", "GG"): (6.22, 5.30, 4.40), ("*1/*2", "GA"): (4.10, 3.50, 2.90), ("*1/*2", "AA"): (2.98, 2.54, 2.10),
    ("*1/*3", "GG"): (5.04, 4.30, 3.58), ("*1/*3", "GA"): (3.30, 2.82, 2.34), ("*1/*3", "AA"): (2.40, 2.06, 1.71),
    ("*2/*2", "GG"): (2.54, 2.16, 1.77), ("*2/*2", "GA"): (1.66, 1.41, 1.16), ("*2/*2", "AA"): (1.21, 1.03, 0.84),
    ("*2/*3", "GG"): (2.82, 2.40, 1.97), ("*2/*3", "GA"): (1.85, 1.57, 1.29), ("*2/*3", "AA"): (1.35, 1.14, 0.94),
    ("*3/*3", "GG"): (1.38, 1.18, 1.00), ("*3/*3", "GA"): (0.90, 0.77, 0.65), ("*3/*3", "AA"): (0.66, 0.56, 0.47),
}


def hamberg_2007_table5_cells() -> tuple["np.ndarray", "np.ndarray", "np.ndarray", "np.ndarray"]:
    """The 54 cells of :data:`HAMBERG_2007_TABLE5` as arrays: CYP2C9 and VKORC1 genotype
    indices (``hemosim.models.warfarin`` order), age (years) and the table's dose (mg/day)."""
    import numpy as np

    from hemosim.models.warfarin import CYP2C9_GENOTYPES, VKORC1_GENOTYPES

    cells = [(CYP2C9_GENOTYPES.index(c), VKORC1_GENOTYPES.index(v), age, dose)
             for (c, v), doses in HAMBERG_2007_TABLE5.items() for age, dose in zip((50.0, 70.0, 90.0), doses)]
    cyp, vk, age, dose = (np.array(col) for col in zip(*cells))
    return cyp, vk, age, dose
