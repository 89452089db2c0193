"""Virtual patients with a DIC-triggering disorder (one key per patient).

Every quantity is drawn with ``hemosim.sim.rng`` from the patient's own key, so a patient is
the same whether sampled alone or in a batch.

Sources and assumptions (docs/models/dic.md tabulates them)
-----------------------------------------------------------
* Cause: ``cause_mix`` (default sepsis 60 %, trauma 25 %, obstetric 15 %: assumed, an ICU
  mix in which sepsis dominates, as in the DIC literature FACTS 7.2 reports).
* Course of the trigger by cause (resolving / persistent / worsening): sepsis 50/30/20 %,
  trauma 70/20/10 %, obstetric 80/15/5 % (assumed: trauma and obstetric triggers end with
  haemostasis and delivery). Time constant ``tau`` of the course: sepsis 72 h, trauma 24 h,
  obstetric 12 h (assumed).
* Trigger intensity at admission ``T0``: log-normal; sepsis median fitted (with the death
  hazard, ``hemosim.calibration.dic_fit``) so that 29 % of severe-sepsis patients have overt
  DIC at admission (PROWESS, Dhainaut 2004, 454/1568; FACTS 7.2): 5.39; log-SD 0.6
  (assumed); trauma median 15, obstetric 25, log-SD 0.5 (assumed: short, intense triggers;
  no prevalence target was found for either).
* Hours from the start of the trigger to admission (the model is run from the patient's
  baseline for this long with the admission trigger): sepsis 12-48 h, trauma 1-6 h,
  obstetric 1-4 h, uniform (assumed).
* Weight N(75, 15) kg truncated to 40-150 (assumed adult ICU population).
* Baseline platelets log-normal, median 230 x10^9/L (sepsis, trauma) or 220 (pregnancy at
  term), log-SD 0.25 (assumed, inside the 150-400 reference interval); baseline fibrinogen
  median 4.0 g/L in sepsis (an acute-phase protein), 2.8 in trauma, 4.5 at term
  (pregnancy raises fibrinogen), log-SD 0.2 (assumed); factors II, V, VII, VIII, IX, X and
  antithrombin 100 % x log-normal(0, 0.15) each (assumed).
* Consumption susceptibility: a patient-level log-normal multiplier on every consumption
  constant, log-SD ``susceptibility_log_sd`` (0 easy, 0.3 medium, 0.5 hard; assumed).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from hemosim.models.dic import CAUSES, COURSE_FINAL_RATIO, COURSES, NORMAL_LEVELS
from hemosim.sim import rng

__all__ = [
    "DicPatients",
    "sample_patients",
    "CAUSE_MIX_DEFAULT",
    "COURSE_PROBS",
    "T0_MEDIAN",
    "T0_LOG_SD",
    "TAU_H",
    "ONSET_H",
]

CAUSE_MIX_DEFAULT = np.array([0.60, 0.25, 0.15])
#: course probabilities (resolving, persistent, worsening) by cause
COURSE_PROBS = np.array([[0.50, 0.30, 0.20], [0.70, 0.20, 0.10], [0.80, 0.15, 0.05]])
#: median trigger intensity at admission by cause (sepsis: fitted, hemosim.calibration.dic_fit)
T0_MEDIAN = np.array([5.39, 15.0, 25.0])
T0_LOG_SD = np.array([0.6, 0.5, 0.5])
TAU_H = np.array([72.0, 24.0, 12.0])
#: hours from trigger onset to admission: uniform (low, high) by cause
ONSET_H = np.array([[12.0, 48.0], [1.0, 6.0], [1.0, 4.0]])
PLATELETS_MEDIAN = np.array([230.0, 230.0, 220.0])
FIBRINOGEN_MEDIAN = np.array([4.0, 2.8, 4.5])
PLATELETS_LOG_SD, FIBRINOGEN_LOG_SD, FACTOR_LOG_SD = 0.25, 0.2, 0.15
WEIGHT_MEAN_KG, WEIGHT_SD_KG, WEIGHT_LIMITS_KG = 75.0, 15.0, (40.0, 150.0)

(STREAM_CAUSE, STREAM_COURSE, STREAM_WEIGHT, STREAM_T0, STREAM_ONSET, STREAM_PLT, STREAM_FIB,
 STREAM_II, STREAM_V, STREAM_VII, STREAM_VIII, STREAM_IX, STREAM_X, STREAM_AT, STREAM_SUSC) = range(601, 616)


@dataclass
class DicPatients:
    """Covariates and individual parameters of N patients (arrays of shape (N,))."""

    cause: np.ndarray  # int: index into CAUSES
    course: np.ndarray  # int: index into COURSES
    weight_kg: np.ndarray
    trigger_t0: np.ndarray
    trigger_final_ratio: np.ndarray
    trigger_tau_h: np.ndarray
    onset_to_admission_h: np.ndarray
    consumption_multiplier: np.ndarray
    base_platelets_10e9_per_l: np.ndarray
    base_fibrinogen_g_per_l: np.ndarray
    base_ii_pct: np.ndarray
    base_v_pct: np.ndarray
    base_vii_pct: np.ndarray
    base_viii_pct: np.ndarray
    base_ix_pct: np.ndarray
    base_x_pct: np.ndarray
    base_antithrombin_pct: np.ndarray

    def __len__(self) -> int:
        return len(self.cause)

    def baseline_levels(self) -> np.ndarray:
        """``(N, N_SPECIES)`` baseline (synthesis-target) level vectors (model column order)."""
        n = len(self)
        base = np.tile(NORMAL_LEVELS, (n, 1))
        base[:, 0] = self.base_platelets_10e9_per_l
        base[:, 2] = self.base_fibrinogen_g_per_l
        base[:, 3] = self.base_ii_pct
        base[:, 4] = self.base_v_pct
        base[:, 5] = self.base_vii_pct
        base[:, 6] = self.base_viii_pct
        base[:, 7] = self.base_ix_pct
        base[:, 8] = self.base_x_pct
        base[:, 9] = self.base_antithrombin_pct
        return base

    def as_info(self) -> dict[str, np.ndarray]:
        """Fresh arrays for ``info["patient"]`` (cause and course as names)."""
        out = {f.name: np.array(getattr(self, f.name), copy=True) for f in fields(self)}
        out["cause"] = np.array([CAUSES[c] for c in self.cause], dtype=object)
        out["course"] = np.array([COURSES[c] for c in self.course], dtype=object)
        return out

    def assign(self, mask: np.ndarray, other: "DicPatients") -> None:
        for f in fields(self):
            getattr(self, f.name)[mask] = getattr(other, f.name)


def _lognormal(u_a: np.ndarray, u_b: np.ndarray, median, log_sd) -> np.ndarray:
    return np.asarray(median) * np.exp(np.asarray(log_sd) * rng.normal_from_uniforms(u_a, u_b))


def sample_patients(
    keys: np.ndarray,
    *,
    cause_mix: np.ndarray = CAUSE_MIX_DEFAULT,
    susceptibility_log_sd: float = 0.3,
    t0_median: np.ndarray = T0_MEDIAN,
) -> DicPatients:
    """Draw patients for ``keys`` (uint64, one per patient); see the module docstring."""
    cause_mix = np.asarray(cause_mix, dtype=np.float64)
    if cause_mix.shape != (3,) or np.any(cause_mix < 0) or not np.isclose(cause_mix.sum(), 1.0):
        raise ValueError(f"cause_mix must be 3 non-negative shares summing to 1 (sepsis, trauma, obstetric), "
                         f"got {cause_mix}")
    if not np.isfinite(susceptibility_log_sd) or susceptibility_log_sd < 0:
        raise ValueError(f"susceptibility_log_sd must be >= 0, got {susceptibility_log_sd!r}")
    keys = np.asarray(keys, dtype=np.uint64)
    streams = np.array([STREAM_CAUSE, STREAM_COURSE, STREAM_WEIGHT, STREAM_T0, STREAM_ONSET, STREAM_PLT,
                        STREAM_FIB, STREAM_II, STREAM_V, STREAM_VII, STREAM_VIII, STREAM_IX, STREAM_X,
                        STREAM_AT, STREAM_SUSC])
    u = rng.uniform_block(keys, streams, 0)  # first uniform of each stream
    v = rng.uniform_block(keys, streams, 1)  # second uniform (Box-Muller partner)
    col = {s: j for j, s in enumerate(streams)}
    cause = rng.categorical_from_uniform(u[:, col[STREAM_CAUSE]], cause_mix)
    course = rng.categorical_from_uniform(u[:, col[STREAM_COURSE]], COURSE_PROBS[cause])
    weight = rng.truncated_normal_from_uniform(u[:, col[STREAM_WEIGHT]], WEIGHT_MEAN_KG, WEIGHT_SD_KG,
                                               *WEIGHT_LIMITS_KG)
    t0 = _lognormal(u[:, col[STREAM_T0]], v[:, col[STREAM_T0]], np.asarray(t0_median)[cause], T0_LOG_SD[cause])
    onset = ONSET_H[cause, 0] + u[:, col[STREAM_ONSET]] * (ONSET_H[cause, 1] - ONSET_H[cause, 0])

    def ln(stream, median, sd):
        return _lognormal(u[:, col[stream]], v[:, col[stream]], median, sd)

    return DicPatients(
        cause=cause.astype(np.int64),
        course=course.astype(np.int64),
        weight_kg=np.asarray(weight, dtype=np.float64),
        trigger_t0=t0,
        trigger_final_ratio=COURSE_FINAL_RATIO[course],
        trigger_tau_h=TAU_H[cause],
        onset_to_admission_h=onset,
        consumption_multiplier=ln(STREAM_SUSC, 1.0, susceptibility_log_sd) if susceptibility_log_sd > 0
        else np.ones(len(keys)),
        base_platelets_10e9_per_l=ln(STREAM_PLT, PLATELETS_MEDIAN[cause], PLATELETS_LOG_SD),
        base_fibrinogen_g_per_l=ln(STREAM_FIB, FIBRINOGEN_MEDIAN[cause], FIBRINOGEN_LOG_SD),
        base_ii_pct=ln(STREAM_II, 100.0, FACTOR_LOG_SD),
        base_v_pct=ln(STREAM_V, 100.0, FACTOR_LOG_SD),
        base_vii_pct=ln(STREAM_VII, 100.0, FACTOR_LOG_SD),
        base_viii_pct=ln(STREAM_VIII, 100.0, FACTOR_LOG_SD),
        base_ix_pct=ln(STREAM_IX, 100.0, FACTOR_LOG_SD),
        base_x_pct=ln(STREAM_X, 100.0, FACTOR_LOG_SD),
        base_antithrombin_pct=ln(STREAM_AT, 100.0, FACTOR_LOG_SD),
    )
