"""Clinical outcome metrics: pure functions on arrays (patients on axis 0).

Rosendaal time in therapeutic range
-----------------------------------
Rosendaal FR, Cannegieter SC, van der Meer FJM, Briët E. "A method to determine the
optimal intensity of oral anticoagulant therapy." Thromb Haemost 1993;69:236-239.
The measured value is assumed to change linearly between consecutive measurements;
TTR is the person-time with an interpolated value inside the range divided by the
person-time with an interpolated value (FACTS §3.1). Intervals longer than ``max_gap``
(default 56 days, the AHRQ NQMC 32739 rule quoted in FACTS §3.1) are not interpolated
and count neither as time in range nor as observed time. The range is inclusive.

The crossing time inside each interval is computed exactly for the linear interpolant,
so the result does not depend on a daily grid.
"""

from __future__ import annotations

import numpy as np
from typing import Any, Mapping

from numpy.typing import ArrayLike

__all__ = ["rosendaal_ttr", "rosendaal_time_in_range"]


def _fraction_in_range(v0: np.ndarray, v1: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Fraction of a unit interval where the line from v0 to v1 lies in [low, high]."""
    dv = v1 - v0
    flat = np.abs(dv) < 1e-15
    with np.errstate(divide="ignore", invalid="ignore"):
        t_low = np.where(flat, 0.0, (low - v0) / dv)
        t_high = np.where(flat, 0.0, (high - v0) / dv)
    t_enter = np.clip(np.minimum(t_low, t_high), 0.0, 1.0)
    t_exit = np.clip(np.maximum(t_low, t_high), 0.0, 1.0)
    sloped = np.maximum(t_exit - t_enter, 0.0)
    constant_in = ((v0 >= low) & (v0 <= high)).astype(np.float64)
    return np.where(flat, constant_in, sloped)


def rosendaal_time_in_range(
    times: ArrayLike,
    values: ArrayLike,
    low: ArrayLike = 2.0,
    high: ArrayLike = 3.0,
    max_gap: float | None = 56.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Time in range and observed time by Rosendaal interpolation.

    Args:
        times: measurement times, shape ``(T,)`` shared or ``(N, T)``, increasing along
            the last axis (any unit, e.g. days or hours).
        values: measured values (INR, aPTT seconds, ...), shape ``(N, T)`` or ``(T,)``;
            ``NaN`` marks "no measurement at this time" and is skipped.
        low, high: the inclusive target range, scalars or shape ``(N,)``.
        max_gap: intervals longer than this (same unit as ``times``) are not
            interpolated; ``None`` interpolates every interval.

    Returns:
        ``(time_in_range, observed_time)``, each shape ``(N,)`` in the unit of ``times``.
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    n, t = values.shape
    times = np.broadcast_to(np.asarray(times, dtype=np.float64), (n, t))
    if np.any(np.diff(times, axis=1) < 0):
        raise ValueError("times must be non-decreasing along the last axis")
    low = np.broadcast_to(np.asarray(low, dtype=np.float64), (n,))
    high = np.broadcast_to(np.asarray(high, dtype=np.float64), (n,))
    if np.any(low > high):
        raise ValueError(f"target range low {low[low > high][:3]} exceeds high {high[low > high][:3]}")
    in_range = np.zeros(n)
    observed = np.zeros(n)
    measured = ~np.isnan(values)
    if measured.all():
        v0, v1 = values[:, :-1], values[:, 1:]
        dt = np.diff(times, axis=1)
        keep = dt > 0 if max_gap is None else (dt > 0) & (dt <= max_gap)
        frac = _fraction_in_range(v0, v1, low[:, None], high[:, None])
        in_range = np.sum(np.where(keep, frac * dt, 0.0), axis=1)
        observed = np.sum(np.where(keep, dt, 0.0), axis=1)
        return in_range, observed
    for i in range(n):  # ragged measurements: per-patient compaction
        m = measured[i]
        ti, vi = times[i, m], values[i, m]
        if ti.size < 2:
            continue
        tir, obs = rosendaal_time_in_range(ti, vi, low[i], high[i], max_gap)
        in_range[i], observed[i] = tir[0], obs[0]
    return in_range, observed


def rosendaal_ttr(
    times: ArrayLike,
    values: ArrayLike,
    low: ArrayLike = 2.0,
    high: ArrayLike = 3.0,
    max_gap: float | None = 56.0,
) -> np.ndarray:
    """Rosendaal TTR as a fraction in [0, 1] per patient (``NaN`` if no observed time).

    See :func:`rosendaal_time_in_range` for the arguments.
    """
    tir, observed = rosendaal_time_in_range(times, values, low, high, max_gap)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(observed > 0, tir / np.where(observed > 0, observed, 1.0), np.nan)


# ---------------------------------------------------------------------------------------
# Clinical events: ISTH bleeding class, the 4Ts HIT score, thromboembolism, event rates
# ---------------------------------------------------------------------------------------
#
# ISTH 2005 bleeding classification (Schulman S, Kearon C. "Definition of major bleeding
# in clinical investigations of antihemostatic medicinal products in non-surgical
# patients." J Thromb Haemost 2005;3:692-694; FACTS §7.3). Major bleeding is (1) fatal
# bleeding, and/or (2) symptomatic bleeding in a critical area or organ (intracranial,
# intraspinal, intraocular, retroperitoneal, intra-articular, pericardial, or
# intramuscular with compartment syndrome), and/or (3) bleeding causing a fall in
# haemoglobin of >= 2 g/dL or leading to transfusion of >= 2 units of whole blood or red
# cells. Clinically relevant non-major (CRNM) bleeding (Kaatz S et al. J Thromb Haemost
# 2015;13:2119, ISTH SSC): a non-major bleed that needed medical intervention by a
# healthcare professional, hospitalisation or an increased level of care, or prompted a
# face-to-face evaluation. Any other bleed is minor.

#: ISTH bleeding classes as integers (the ``info["bleeding_isth_class"]`` convention).
ISTH_NONE, ISTH_MINOR, ISTH_CRNM, ISTH_MAJOR = 0, 1, 2, 3
ISTH_CLASS_NAMES = {ISTH_NONE: "none", ISTH_MINOR: "minor", ISTH_CRNM: "clinically relevant non-major", ISTH_MAJOR: "major"}
#: Schulman & Kearon 2005 criterion 3 thresholds
ISTH_MAJOR_HB_DROP_G_PER_DL = 2.0
ISTH_MAJOR_TRANSFUSION_UNITS = 2
#: the critical sites of Schulman & Kearon 2005 criterion 2
ISTH_CRITICAL_SITES = (
    "intracranial",
    "intraspinal",
    "intraocular",
    "retroperitoneal",
    "intra_articular",
    "pericardial",
    "intramuscular_compartment_syndrome",
)

__all__ += [
    "ISTH_NONE",
    "ISTH_MINOR",
    "ISTH_CRNM",
    "ISTH_MAJOR",
    "ISTH_CLASS_NAMES",
    "ISTH_CRITICAL_SITES",
    "isth_bleeding_class",
    "four_ts_score",
    "four_ts_band",
    "FOUR_TS_BANDS",
    "THROMBOEMBOLIC_COMPONENTS",
    "aggregate_thromboembolism",
    "garwood_interval",
    "rate_per_100_patient_years",
]


def _bool_array(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype != bool:
        if arr.dtype.kind not in "iu" or np.any((arr != 0) & (arr != 1)):
            raise ValueError(f"{name} must be boolean (or 0/1), got {arr.ravel()[:5]}")
        arr = arr.astype(bool)
    return arr


def _nonneg_array(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise ValueError(f"{name} must be finite and >= 0, got {arr[bad][:5]}")
    return arr


def isth_bleeding_class(
    bleed: ArrayLike,
    fatal: ArrayLike = False,
    critical_site: ArrayLike = False,
    hb_drop_g_per_dl: ArrayLike = 0.0,
    transfusion_units: ArrayLike = 0,
    clinically_relevant: ArrayLike = False,
) -> np.ndarray:
    """ISTH class of bleeding records (Schulman & Kearon 2005; Kaatz 2015 for CRNM).

    Args (broadcast together, one element per bleeding record):
        bleed: True where a bleed happened (False -> class 0 whatever the other fields).
        fatal: the bleed was fatal (major, criterion 1).
        critical_site: symptomatic bleeding in a critical area or organ
            (``ISTH_CRITICAL_SITES``; major, criterion 2).
        hb_drop_g_per_dl: fall in haemoglobin attributable to the bleed, g/dL (>= 2 is
            major, criterion 3).
        transfusion_units: units of whole blood or red cells transfused (>= 2 is major).
        clinically_relevant: the bleed needed medical intervention, hospitalisation or an
            increased level of care, or a face-to-face evaluation (CRNM if not major).

    Returns:
        int8 array: 0 none, 1 minor, 2 clinically relevant non-major, 3 major.
    """
    bleed = _bool_array(bleed, "bleed")
    fatal = _bool_array(fatal, "fatal")
    critical = _bool_array(critical_site, "critical_site")
    relevant = _bool_array(clinically_relevant, "clinically_relevant")
    hb = _nonneg_array(hb_drop_g_per_dl, "hb_drop_g_per_dl")
    units = _nonneg_array(transfusion_units, "transfusion_units")
    major = fatal | critical | (hb >= ISTH_MAJOR_HB_DROP_G_PER_DL) | (units >= ISTH_MAJOR_TRANSFUSION_UNITS)
    cls = np.where(major, ISTH_MAJOR, np.where(relevant, ISTH_CRNM, ISTH_MINOR))
    return np.where(bleed, cls, ISTH_NONE).astype(np.int8)


# 4Ts (Lo GK, Juhl D, Warkentin TE, Sigouin CS, Eichler P, Greinacher A. J Thromb Haemost
# 2006;4:759-765; FACTS §7.4). Day 0 is the first day of the (immunising) heparin course.
#: score bands of Lo 2006: 0-3 low, 4-5 intermediate, 6-8 high
FOUR_TS_BANDS = {"low": (0, 3), "intermediate": (4, 5), "high": (6, 8)}
_THROMBOSIS_POINTS = {"none": 0, "suspected": 1, "new": 2}
_OTHER_CAUSE_POINTS = {"definite": 0, "possible": 1, "none": 2}


def _points(x: Any, table: Mapping[str, int], name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind in "US" or arr.dtype == object:
        flat = arr.ravel()
        unknown = sorted({str(v) for v in flat if v not in table})
        if unknown:
            raise ValueError(f"{name} {unknown} not allowed; allowed: {sorted(table)}")
        return np.array([table[v] for v in flat], dtype=np.int64).reshape(arr.shape)
    if arr.dtype.kind not in "iu" or np.any((arr < 0) | (arr > 2)):
        raise ValueError(f"{name} must be one of {sorted(table)} or points 0-2, got {arr.ravel()[:5]}")
    return arr.astype(np.int64)


def four_ts_score(
    baseline_platelets_10e9_per_l: ArrayLike,
    nadir_platelets_10e9_per_l: ArrayLike,
    fall_onset_day: ArrayLike,
    thrombosis: Any = "none",
    other_causes: Any = "possible",
    prior_heparin_days_ago: ArrayLike = np.inf,
    timing_clear: ArrayLike = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The 4Ts pretest score for HIT (Lo 2006), vectorised.

    Args (broadcast together):
        baseline_platelets_10e9_per_l: the count before the fall (x10^9/L, > 0).
        nadir_platelets_10e9_per_l: the lowest count since (x10^9/L, >= 0).
        fall_onset_day: day of the start of the fall since the first heparin day (day 0);
            ``NaN`` if there is no fall.
        thrombosis: ``"none"`` (0), ``"suspected"`` (1: progressive or recurrent
            thrombosis, erythematous skin lesions, suspected but unproven thrombosis) or
            ``"new"`` (2: new confirmed thrombosis, skin necrosis, acute systemic
            reaction after an IV bolus); or the points 0-2.
        other_causes: other causes of thrombocytopenia ``"definite"`` (0), ``"possible"``
            (1) or ``"none"`` apparent (2); or the points.
        prior_heparin_days_ago: days since an earlier heparin exposure (``inf``: none).
        timing_clear: whether the onset is documented clearly (no missing counts).

    Returns:
        ``(score, parts)``: the total (int, 0-8) and the four parts
        ``thrombocytopenia``, ``timing``, ``thrombosis``, ``other_causes``.

    Points (Lo 2006 Table 1): *thrombocytopenia* 2 = fall > 50 % and nadir >= 20,
    1 = fall 30-50 % or nadir 10-19, 0 = fall < 30 % or nadir < 10; *timing* 2 = clear
    onset on days 5-10, or fall within 1 day with heparin in the past 30 days; 1 =
    consistent with days 5-10 but not clear, onset after day 10, or fall within 1 day
    with heparin 30-100 days ago; 0 = fall before day 4 without recent heparin. Reading
    chosen here: an onset on day 4 (between the table's "< 4" and "5-10") scores 1 as
    "consistent with days 5-10 but not clear".
    """
    base = np.asarray(baseline_platelets_10e9_per_l, dtype=np.float64)
    if np.any(~np.isfinite(base) | (base <= 0)):
        raise ValueError(f"baseline platelet counts must be finite and > 0, got {base[~np.isfinite(base) | (base <= 0)][:5]}")
    nadir = _nonneg_array(nadir_platelets_10e9_per_l, "nadir_platelets_10e9_per_l")
    onset = np.asarray(fall_onset_day, dtype=np.float64)
    if np.any(onset[np.isfinite(onset)] < 0) or np.any(np.isinf(onset)):
        raise ValueError(f"fall_onset_day must be >= 0 or NaN (no fall), got {onset.ravel()[:5]}")
    prior = np.asarray(prior_heparin_days_ago, dtype=np.float64)
    if np.any(np.isnan(prior) | (prior < 0)):
        raise ValueError(f"prior_heparin_days_ago must be >= 0 or inf (none), got {prior.ravel()[:5]}")
    clear = _bool_array(timing_clear, "timing_clear")
    fall = 1.0 - nadir / base
    t_points = np.where(
        nadir < 10.0, 0, np.where((fall > 0.5) & (nadir >= 20.0), 2, np.where((fall >= 0.3) | (nadir < 20.0), 1, 0))
    )
    with np.errstate(invalid="ignore"):
        has_fall = np.isfinite(onset)
        early = has_fall & (onset <= 1.0)
        typical = has_fall & (onset >= 5.0) & (onset <= 10.0)
        timing = np.where(
            early & (prior <= 30.0),
            2,
            np.where(
                early & (prior <= 100.0),
                1,
                np.where(
                    typical,
                    np.where(clear, 2, 1),
                    np.where(has_fall & ((onset > 10.0) | ((onset >= 4.0) & (onset < 5.0))), 1, 0),
                ),
            ),
        )
    thr = _points(thrombosis, _THROMBOSIS_POINTS, "thrombosis")
    oth = _points(other_causes, _OTHER_CAUSE_POINTS, "other_causes")
    parts = dict(zip(("thrombocytopenia", "timing", "thrombosis", "other_causes"),
                     np.broadcast_arrays(t_points, timing, thr, oth)))
    parts = {k: np.asarray(v, dtype=np.int64).copy() for k, v in parts.items()}
    score = parts["thrombocytopenia"] + parts["timing"] + parts["thrombosis"] + parts["other_causes"]
    return score, parts


def four_ts_band(score: ArrayLike) -> np.ndarray:
    """Lo 2006 probability band of 4Ts scores: ``"low"`` (0-3), ``"intermediate"`` (4-5), ``"high"`` (6-8)."""
    s = np.asarray(score)
    if s.dtype.kind not in "iu" or np.any((s < 0) | (s > 8)):
        raise ValueError(f"4Ts scores must be integers 0-8, got {s.ravel()[:5]}")
    return np.where(s <= 3, "low", np.where(s <= 5, "intermediate", "high"))


#: what counts as a thromboembolic event in hemosim's aggregate (arterial and venous):
#: ischaemic stroke and systemic embolism (the AF trials' efficacy end point, e.g. RE-LY,
#: FACTS §6.1), deep-vein thrombosis and pulmonary embolism (recurrent VTE, Hull 1986 /
#: Raschke 1993), myocardial infarction, and HIT-associated thrombosis (Warkentin 1995).
THROMBOEMBOLIC_COMPONENTS = (
    "ischaemic_stroke",
    "systemic_embolism",
    "deep_vein_thrombosis",
    "pulmonary_embolism",
    "myocardial_infarction",
    "hit_thrombosis",
    "thromboembolism",
)


def aggregate_thromboembolism(events: Mapping[str, ArrayLike], components: tuple[str, ...] | None = None) -> np.ndarray:
    """Count of thromboembolic events per record: the sum of the listed component counts.

    Args:
        events: arrays of counts or booleans by component name (same shape); names outside
            ``THROMBOEMBOLIC_COMPONENTS`` raise ``ValueError`` (so a typo is not silently
            dropped); other event kinds (bleeding) must not be passed.
        components: the subset to count (default: every component present).

    Returns:
        int64 array of counts (use ``> 0`` for "any thromboembolism").
    """
    unknown = sorted(set(events) - set(THROMBOEMBOLIC_COMPONENTS))
    if unknown:
        raise ValueError(f"unknown thromboembolic component(s) {unknown}; allowed: {list(THROMBOEMBOLIC_COMPONENTS)}")
    names = list(events) if components is None else list(components)
    missing = sorted(set(names) - set(events))
    if missing:
        raise ValueError(f"components {missing} are not in the events given ({sorted(events)})")
    if not names:
        raise ValueError("no thromboembolic component given")
    arrays = []
    for name in names:
        a = np.asarray(events[name])
        if a.dtype == bool:
            a = a.astype(np.int64)
        elif a.dtype.kind not in "iu" or np.any(a < 0):
            raise ValueError(f"{name} must hold booleans or non-negative integer counts")
        arrays.append(a.astype(np.int64))
    return np.sum(np.broadcast_arrays(*arrays), axis=0)


def garwood_interval(events: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood 1936) Poisson confidence limits for an observed count.

    ``lower = chi2.ppf(a/2, 2k) / 2`` (0 when ``k = 0``) and
    ``upper = chi2.ppf(1 - a/2, 2k + 2) / 2`` with ``a = 1 - confidence`` (Garwood F.
    Biometrika 1936;28:437-442). For ``k = 0`` at 95 %: (0, 3.689).
    """
    from scipy.stats import chi2

    k = np.asarray(events, dtype=np.float64)
    if np.any(~np.isfinite(k) | (k < 0) | (k != np.round(k))):
        raise ValueError(f"event counts must be non-negative integers, got {k.ravel()[:5]}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    a = 1.0 - confidence
    with np.errstate(invalid="ignore"):
        lower = np.where(k > 0, chi2.ppf(a / 2.0, 2.0 * np.maximum(k, 1.0)) / 2.0, 0.0)
    upper = chi2.ppf(1.0 - a / 2.0, 2.0 * k + 2.0) / 2.0
    return lower, upper


def rate_per_100_patient_years(
    events: ArrayLike, patient_years: ArrayLike, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event rate per 100 patient-years with exact Poisson (Garwood) limits.

    Returns ``(rate, lower, upper)``, each per 100 patient-years.
    """
    py = np.asarray(patient_years, dtype=np.float64)
    if np.any(~np.isfinite(py) | (py <= 0)):
        raise ValueError(f"patient_years must be finite and > 0, got {py.ravel()[:5]}")
    lower, upper = garwood_interval(events, confidence)
    k = np.asarray(events, dtype=np.float64)
    return 100.0 * k / py, 100.0 * lower / py, 100.0 * upper / py
