"""What the laboratory reports: true physiology -> measured values with assay error.

Models advance the true state; environments observe it only through these functions
(DESIGN.md). Each function is batched over patients and draws its noise from the
per-patient counter-based generator (``hemosim.sim.rng``), so a measurement depends
only on the patient's key, the stream and the counter (for example the day).
"""

from __future__ import annotations

import numpy as np

from hemosim.sim import rng

__all__ = ["INR_ANALYTICAL_CV", "measure_inr"]

#: Analytical imprecision of a point-of-care INR (CoaguChek XS, ~4 %), FACTS §8.1 [S69].
INR_ANALYTICAL_CV = 0.04

STREAM_INR_NOISE = 101


def measure_inr(true_inr: np.ndarray, keys: np.ndarray, counter: np.ndarray | int, cv: float) -> np.ndarray:
    """Measured INR: the true INR times log-normal assay error with coefficient ``cv``.

    ``cv = 0`` returns the true INR unchanged (the oracle measurement of the easier tiers).
    """
    if cv == 0.0:
        return np.array(true_inr, dtype=np.float64, copy=True)
    sigma = np.sqrt(np.log1p(cv * cv))
    return true_inr * np.exp(sigma * rng.normal(keys, STREAM_INR_NOISE, counter) - 0.5 * sigma * sigma)


# -- heparin monitoring: aPTT, anti-Xa, platelet count ------------------------------------
#: aPTT duplicate imprecision, CV 1.5-2.9 % by analyser (FACTS §8.1 [S68]); the upper value.
APTT_ANALYTICAL_CV = 0.029
#: Anti-Xa (UFH) imprecision, CV <= 5 % within-run and day-to-day (FACTS §8.1 [S67]).
ANTI_XA_ANALYTICAL_CV = 0.05
#: Automated platelet count imprecision: an assumption (no source in FACTS; UNCONFIRMED).
PLATELET_ANALYTICAL_CV = 0.04
#: Highest aPTT the laboratory reports (longer clots are reported as this value):
#: an assumption matching the observation scale of the heparin environment.
APTT_REPORT_MAX_S = 200.0

STREAM_APTT_NOISE = 111
STREAM_ANTI_XA_NOISE = 112
STREAM_PLATELET_NOISE = 113


def lognormal_assay(true_value: np.ndarray, z: np.ndarray, cv: float) -> np.ndarray:
    """``true * exp(sigma z - sigma^2 / 2)`` with ``sigma^2 = ln(1 + cv^2)`` (mean-unbiased)."""
    if cv < 0:
        raise ValueError(f"assay cv must be >= 0, got {cv}")
    if cv == 0.0:
        return np.array(true_value, dtype=np.float64, copy=True)
    sigma = np.sqrt(np.log1p(cv * cv))
    return np.asarray(true_value, dtype=np.float64) * np.exp(sigma * np.asarray(z) - 0.5 * sigma * sigma)


def measure_aptt(true_aptt_s: np.ndarray, keys: np.ndarray, counter: np.ndarray | int, cv: float) -> np.ndarray:
    """Measured aPTT (s): log-normal assay error, reported up to ``APTT_REPORT_MAX_S``."""
    z = rng.normal(keys, STREAM_APTT_NOISE, counter) if cv > 0 else 0.0
    return np.minimum(lognormal_assay(true_aptt_s, z, cv), APTT_REPORT_MAX_S)


def measure_anti_xa(true_u_per_ml: np.ndarray, keys: np.ndarray, counter: np.ndarray | int, cv: float) -> np.ndarray:
    """Measured anti-Xa heparin level (IU/mL): log-normal assay error."""
    z = rng.normal(keys, STREAM_ANTI_XA_NOISE, counter) if cv > 0 else 0.0
    return lognormal_assay(true_u_per_ml, z, cv)


def measure_platelets(true_10e9_per_l: np.ndarray, keys: np.ndarray, counter: np.ndarray | int, cv: float) -> np.ndarray:
    """Measured platelet count (x10^9/L): log-normal assay error."""
    z = rng.normal(keys, STREAM_PLATELET_NOISE, counter) if cv > 0 else 0.0
    return lognormal_assay(true_10e9_per_l, z, cv)
