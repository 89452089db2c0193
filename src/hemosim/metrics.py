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
