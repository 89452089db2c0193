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
from typing import Any

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
    fixed: Any = None,
) -> DicPatients:
    """Draw patients for ``keys`` (uint64, one per patient); see the module docstring.

    ``fixed`` (a :class:`hemosim.patients.spec.Fixed` of :func:`patient_schema`): the user's
    values; the rest is drawn from the same streams given them. The population links the
    cause to the course, the trigger intensity, the onset time and the baseline platelets and
    fibrinogen: a cause not given is drawn from its posterior given those that are (Bayes with
    their densities; :func:`hemosim.patients.spec.coupled_categorical`, which keeps the
    seeded cause whenever the fixed values make it at least as likely as before).
    """
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
    f = fixed if fixed is not None and fixed.any() else None
    if f is not None:
        cause = _conditioned_cause(keys, u[:, col[STREAM_CAUSE]], cause, cause_mix, np.asarray(t0_median), f)
    course = rng.categorical_from_uniform(u[:, col[STREAM_COURSE]], COURSE_PROBS[cause])
    if f is not None:
        course = f.pick("course", course)
    weight = rng.truncated_normal_from_uniform(u[:, col[STREAM_WEIGHT]], WEIGHT_MEAN_KG, WEIGHT_SD_KG,
                                               *WEIGHT_LIMITS_KG)
    t0 = _lognormal(u[:, col[STREAM_T0]], v[:, col[STREAM_T0]], np.asarray(t0_median)[cause], T0_LOG_SD[cause])
    onset = ONSET_H[cause, 0] + u[:, col[STREAM_ONSET]] * (ONSET_H[cause, 1] - ONSET_H[cause, 0])

    def ln(stream, median, sd):
        return _lognormal(u[:, col[stream]], v[:, col[stream]], median, sd)

    if f is not None:
        t0, onset = f.pick("trigger_t0", t0), f.pick("onset_to_admission_h", onset)
        weight = f.pick("weight_kg", weight)
        pick = f.pick
    else:
        def pick(name, value):
            return value

    return DicPatients(
        cause=cause.astype(np.int64),
        course=course.astype(np.int64),
        weight_kg=np.asarray(weight, dtype=np.float64),
        trigger_t0=t0,
        trigger_final_ratio=COURSE_FINAL_RATIO[course],
        trigger_tau_h=TAU_H[cause],
        onset_to_admission_h=onset,
        consumption_multiplier=pick("consumption_multiplier", ln(STREAM_SUSC, 1.0, susceptibility_log_sd)
                                    if susceptibility_log_sd > 0 else np.ones(len(keys))),
        base_platelets_10e9_per_l=pick("base_platelets_10e9_per_l", ln(STREAM_PLT, PLATELETS_MEDIAN[cause], PLATELETS_LOG_SD)),
        base_fibrinogen_g_per_l=pick("base_fibrinogen_g_per_l", ln(STREAM_FIB, FIBRINOGEN_MEDIAN[cause], FIBRINOGEN_LOG_SD)),
        base_ii_pct=pick("base_ii_pct", ln(STREAM_II, 100.0, FACTOR_LOG_SD)),
        base_v_pct=pick("base_v_pct", ln(STREAM_V, 100.0, FACTOR_LOG_SD)),
        base_vii_pct=pick("base_vii_pct", ln(STREAM_VII, 100.0, FACTOR_LOG_SD)),
        base_viii_pct=pick("base_viii_pct", ln(STREAM_VIII, 100.0, FACTOR_LOG_SD)),
        base_ix_pct=pick("base_ix_pct", ln(STREAM_IX, 100.0, FACTOR_LOG_SD)),
        base_x_pct=pick("base_x_pct", ln(STREAM_X, 100.0, FACTOR_LOG_SD)),
        base_antithrombin_pct=pick("base_antithrombin_pct", ln(STREAM_AT, 100.0, FACTOR_LOG_SD)),
    )


def _lognormal_pdf(x: np.ndarray, median: np.ndarray, log_sd: np.ndarray) -> np.ndarray:
    z = (np.log(x)[:, None] - np.log(median)[None, :]) / log_sd[None, :]
    return np.exp(-0.5 * z * z) / (x[:, None] * log_sd[None, :])


def _conditioned_cause(keys: np.ndarray, u_cause: np.ndarray, drawn: np.ndarray, mix: np.ndarray,
                       t0_median: np.ndarray, fixed: Any) -> np.ndarray:
    """The cause given the user's values (or as given)."""
    from hemosim.patients.spec import coupled_categorical

    n = keys.shape[0]
    if "cause" in fixed:
        drawn = fixed.pick("cause", drawn)
    linked = ("course", "trigger_t0", "onset_to_admission_h", "base_platelets_10e9_per_l", "base_fibrinogen_g_per_l")
    rows = ~fixed.mask("cause") & np.any([fixed.mask(k) for k in linked], axis=0)
    if not rows.any():
        return drawn
    like = np.ones((n, len(mix)))
    if "course" in fixed:
        m = fixed.mask("course")
        like[m] *= COURSE_PROBS[:, fixed.values["course"][m]].T
    dens = {
        "trigger_t0": (t0_median, T0_LOG_SD),
        "base_platelets_10e9_per_l": (PLATELETS_MEDIAN, np.full(3, PLATELETS_LOG_SD)),
        "base_fibrinogen_g_per_l": (FIBRINOGEN_MEDIAN, np.full(3, FIBRINOGEN_LOG_SD)),
    }
    for name, (median, sd) in dens.items():
        if name in fixed:
            m = fixed.mask(name)
            like[m] *= _lognormal_pdf(fixed.values[name][m], np.asarray(median, float), np.asarray(sd, float))
    if "onset_to_admission_h" in fixed:
        m = fixed.mask("onset_to_admission_h")
        x = fixed.values["onset_to_admission_h"][m][:, None]
        lo, hi = ONSET_H[:, 0][None, :], ONSET_H[:, 1][None, :]
        like[m] *= np.where((x >= lo) & (x <= hi), 1.0 / (hi - lo), 0.0)
    prior = np.broadcast_to(np.asarray(mix, float), (n, len(mix)))
    post = prior * like
    total = post.sum(axis=1)
    bad = rows & (total <= 0)
    if bad.any():
        raise ValueError(
            "DICManagement-v0 patient: no cause of this population can produce the given values "
            f"(row {int(np.flatnonzero(bad)[0])}); give the cause, or values within its ranges "
            f"(onset to admission by cause {dict(zip(CAUSES, ONSET_H.tolist()))} h)"
        )
    post = np.where(total[:, None] > 0, post / np.where(total > 0, total, 1.0)[:, None], prior)
    u_acc = rng.uniform(keys, STREAM_CAUSE, 2)
    u_res = rng.uniform(keys, STREAM_CAUSE, 3)
    out = coupled_categorical(u_cause, u_acc, u_res, prior, post)
    return np.where(rows, out, drawn)


def patient_schema() -> Any:
    """What ``reset(options={"patient": ...})`` of ``DICManagement-v0`` accepts; the ranges
    hold everything the population can draw (so a whole ``info["patient"]`` can be fed back)."""
    from hemosim.patients.spec import Field, Schema

    return Schema("DICManagement-v0 patient", [
        Field("cause", "choice", choices=tuple(CAUSES), doc="the DIC-triggering disorder"),
        Field("course", "choice", choices=tuple(COURSES),
              doc="course of the trigger (the DIC trigger-course scenario; probabilities by cause)"),
        Field("weight_kg", "float", "kg", *WEIGHT_LIMITS_KG, doc="body weight (FFP and cryo doses per kg)"),
        Field("trigger_t0", "float", "-", 1e-3, 5000.0, doc="trigger intensity at admission"),
        Field("onset_to_admission_h", "float", "h", 0.0, 96.0,
              doc="hours from trigger onset to admission (by cause: sepsis 12-48, trauma 1-6, obstetric 1-4)"),
        Field("consumption_multiplier", "float", "-", 1e-3, 1000.0, doc="patient-level factor on every consumption rate"),
        Field("base_platelets_10e9_per_l", "float", "x10^9/L", 1.0, 5000.0, doc="baseline platelets"),
        Field("base_fibrinogen_g_per_l", "float", "g/L", 0.01, 50.0, doc="baseline fibrinogen"),
        *[Field(f"base_{x}_pct", "float", "%", 1.0, 1000.0, doc=f"baseline factor {x.upper()}")
          for x in ("ii", "v", "vii", "viii", "ix", "x")],
        Field("base_antithrombin_pct", "float", "%", 1.0, 1000.0, doc="baseline antithrombin"),
        Field("trigger_final_ratio", "float", "-", 0.0, 1e6, derived=True, doc="final / admission trigger, from the course"),
        Field("trigger_tau_h", "float", "h", 0.0, 1e6, derived=True, doc="time constant of the course, from the cause"),
    ])
