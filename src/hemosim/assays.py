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
