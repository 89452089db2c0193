"""What the laboratory reports: true physiology -> measured values with assay error.

Models advance the true state; environments observe it only through these functions
(DESIGN.md). Each function is batched over patients and draws its noise from the
per-patient counter-based generator (``hemosim.sim.rng``), so a measurement depends
only on the patient's key, the stream and the counter (for example the day).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

from hemosim.sim import rng, rng_compiled

__all__ = [
    "INR_ANALYTICAL_CV",
    "measure_inr",
    "LabTest",
    "LabOrders",
    "APTT_TEST",
    "ANTI_XA_TEST",
    "PLATELET_TEST",
    "HEPARIN_PANEL",
    "ROUTINE",
    "STAT",
    "MAX_TURNAROUND_H",
    "TURNAROUND_MODES",
    "panel_arrays",
    "sample_turnaround_h",
    "measure_drawn",
    "order_row",
    "deliver_row",
    "slots_needed",
    "log_sd_from_percentiles",
]

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
#: Automated platelet count imprecision: CV < 4.0 % at 150-400 x10^9/L, the manufacturer's
#: bound of the Abbott CELL-DYN 3200 (operator's manual Table 4.8); not in FACTS §8.1.
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


# -- laboratory logistics: turnaround, cost, routine vs STAT (FACTS §8.1) -----------------
#
# A test ordered at time t draws a sample of the patient's TRUE state at t; the measured
# value (true value x log-normal assay error) is fixed at the draw, and is reported when
# the sampled turnaround has passed. Pending orders, results and their ages are arrays
# of the simulator (patients on axis 0), held in :class:`LabOrders`; the compiled row
# functions :func:`order_row` and :func:`deliver_row` are what an env kernel calls.

#: Order priorities (the index into a test's turnaround and cost arrays).
ROUTINE, STAT = 0, 1
PRIORITIES = ("routine", "stat")
#: z of the 90th percentile of a normal (for log-SDs from 10th-90th percentile ranges).
_Z90 = 1.2815515655446004
#: Longest turnaround: the log-normal is capped here (a point mass of probability < 2e-4
#: for every test of the heparin panel). ARUP reports send-out anti-Xa in 1-2 days
#: (FACTS §8.1 [S65]): no in-house result takes longer.
MAX_TURNAROUND_H = 48.0


def log_sd_from_percentiles(p10: float, p90: float) -> float:
    """Log-SD of a log-normal whose 10th and 90th percentiles are ``p10`` and ``p90``."""
    if not 0.0 < p10 < p90:
        raise ValueError(f"need 0 < p10 < p90, got p10={p10}, p90={p90}")
    return (math.log(p90) - math.log(p10)) / (2.0 * _Z90)


def _lab(default: float, unit: str) -> Any:
    return field(default=default, metadata={"unit": unit})


@dataclass(frozen=True)
class LabTest:
    """One laboratory test: assay error, turnaround by priority, cost.

    Turnaround (draw to result) is log-normal with the given median and log-SD, capped
    at :data:`MAX_TURNAROUND_H`. ``sources`` names the source of every numeric field
    (a test asserts none is missing); ``units`` come from the field metadata.
    """

    name: str
    analytical_cv: float = _lab(0.0, "fraction (coefficient of variation)")
    routine_tat_median_h: float = _lab(1.0, "h")
    routine_tat_log_sd: float = _lab(0.0, "ln(h)")
    stat_tat_median_h: float = _lab(1.0, "h")
    stat_tat_log_sd: float = _lab(0.0, "ln(h)")
    cost_chf: float = _lab(0.0, "CHF per test")
    stream_value: int = 0
    stream_turnaround: int = 0
    sources: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for name in ("analytical_cv", "routine_tat_log_sd", "stat_tat_log_sd", "cost_chf"):
            if not getattr(self, name) >= 0.0:
                raise ValueError(f"{self.name}: {name} must be >= 0, got {getattr(self, name)}")
        for name in ("routine_tat_median_h", "stat_tat_median_h"):
            if not 0.0 < getattr(self, name) <= MAX_TURNAROUND_H:
                raise ValueError(f"{self.name}: {name} must lie in (0, {MAX_TURNAROUND_H}] h, got {getattr(self, name)}")

    def source(self, field_name: str) -> str:
        return dict(self.sources)[field_name]

    def tat_median_h(self, priority: int) -> float:
        return self.stat_tat_median_h if priority == STAT else self.routine_tat_median_h

    def tat_log_sd(self, priority: int) -> float:
        return self.stat_tat_log_sd if priority == STAT else self.routine_tat_log_sd


_S66 = "Biochem Med 2015;25:213 Table 3 (national intra-laboratory TAT survey), FACTS §8.1 [S66]"
#: Coagulation (aPTT): the survey's PT, run on the same coagulation analyser from the same
#: citrate tube (the survey has no aPTT row; the proxy is our assumption). Routine median
#: 85 min (10th-90th 35-204), STAT 40 min (22-60). UCSF states PTT STAT 1 h / routine 4 h
#: and UCHealth STAT PTT 35 min (FACTS §8.1 [S63, S64]): the survey sits inside that span.
APTT_TEST = LabTest(
    name="aptt",
    analytical_cv=APTT_ANALYTICAL_CV,
    routine_tat_median_h=85.0 / 60.0,
    routine_tat_log_sd=log_sd_from_percentiles(35.0, 204.0),
    stat_tat_median_h=40.0 / 60.0,
    stat_tat_log_sd=log_sd_from_percentiles(22.0, 60.0),
    cost_chf=23.40,
    stream_value=121,
    stream_turnaround=131,
    sources=(
        ("analytical_cv", "aPTT duplicate CV 2.9 % (KoaguLab 40A; the highest analyser), FACTS §8.1 [S68]"),
        ("routine_tat_median_h", _S66 + ": PT routine median 85 min (proxy for aPTT)"),
        ("routine_tat_log_sd", _S66 + ": PT routine 10th-90th percentile 35-204 min"),
        ("stat_tat_median_h", _S66 + ": PT STAT median 40 min"),
        ("stat_tat_log_sd", _S66 + ": PT STAT 10th-90th percentile 22-60 min"),
        ("cost_chf", "Swiss total cost per aPTT 23.40 CHF (PMC6009553), FACTS §8.1 [S67]"),
    ),
)
#: Anti-Xa (UFH heparin level): STAT 120 min (UCHealth, lab receipt to result) and routine
#: 4 h (Albany Med); neither source gives a spread, so the log-SDs are the PT survey's
#: (an assumption).
ANTI_XA_TEST = LabTest(
    name="anti_xa",
    analytical_cv=ANTI_XA_ANALYTICAL_CV,
    routine_tat_median_h=4.0,
    routine_tat_log_sd=log_sd_from_percentiles(35.0, 204.0),
    stat_tat_median_h=2.0,
    stat_tat_log_sd=log_sd_from_percentiles(22.0, 60.0),
    cost_chf=24.15,
    stream_value=122,
    stream_turnaround=132,
    sources=(
        ("analytical_cv", "anti-Xa CV <= 5 % within-run and day-to-day (PMC6009553), FACTS §8.1 [S67]"),
        ("routine_tat_median_h", "Albany Med anti-Xa (UFH) routine 4 h, FACTS §8.1 [S65]"),
        ("routine_tat_log_sd", "assumption: the PT routine spread of " + _S66),
        ("stat_tat_median_h", "UCHealth STAT heparin level (anti-Xa) 120 min, FACTS §8.1 [S63]"),
        ("stat_tat_log_sd", "assumption: the PT STAT spread of " + _S66),
        ("cost_chf", "Swiss total cost per anti-Xa 24.15 CHF (PMC6009553), FACTS §8.1 [S67]"),
    ),
)
#: Platelet count (blood count): the survey's WBC count, same analyser and tube (proxy).
PLATELET_TEST = LabTest(
    name="platelets",
    analytical_cv=PLATELET_ANALYTICAL_CV,
    routine_tat_median_h=44.7 / 60.0,
    routine_tat_log_sd=log_sd_from_percentiles(17.0, 185.0),
    stat_tat_median_h=20.0 / 60.0,
    stat_tat_log_sd=log_sd_from_percentiles(9.0, 40.0),
    cost_chf=15.0,
    stream_value=123,
    stream_turnaround=133,
    sources=(
        ("analytical_cv", "platelet count CV < 4.0 % at 150-400 x10^9/L (Abbott CELL-DYN 3200 operator's manual "
         "Table 4.8, manualshive.com); the manufacturer's bound, used as the CV"),
        ("routine_tat_median_h", _S66 + ": WBC routine median 44.7 min (proxy for the platelet count)"),
        ("routine_tat_log_sd", _S66 + ": WBC routine 10th-90th percentile 17-185 min"),
        ("stat_tat_median_h", _S66 + ": WBC STAT median 20 min"),
        ("stat_tat_log_sd", _S66 + ": WBC STAT 10th-90th percentile 9-40 min"),
        ("cost_chf", "UNCONFIRMED: automated CBC (CPT 85025) 'average fee USD 10-20' "
         "(medicarepaymentandreimbursement.com, secondary); midpoint, USD taken at parity with CHF"),
    ),
)
#: The heparin monitoring panel, in the order of the POMDP's action and observation.
HEPARIN_PANEL = (APTT_TEST, ANTI_XA_TEST, PLATELET_TEST)


def panel_arrays(panel: tuple[LabTest, ...], turnaround: str = "sampled", stat_cost_factor: float = 1.0) -> dict[str, np.ndarray]:
    """The panel as arrays for a compiled kernel (rows = tests, columns = priority).

    ``turnaround``: ``"sampled"`` (log-normal), ``"median"`` (every result after exactly
    the median) or ``"none"`` (every result at the next decision; an oracle for
    measuring the delay penalty). ``stat_cost_factor`` multiplies the STAT cost (no
    published STAT surcharge was found; 1 = the same cost as routine).
    """
    if turnaround not in TURNAROUND_MODES:
        raise ValueError(f"unknown turnaround {turnaround!r}; allowed: {list(TURNAROUND_MODES)}")
    if isinstance(stat_cost_factor, bool) or not isinstance(stat_cost_factor, (int, float)) or not (
        math.isfinite(stat_cost_factor) and stat_cost_factor >= 0.0
    ):
        raise ValueError(f"stat_cost_factor must be a finite number >= 0, got {stat_cost_factor!r}")
    t = len(panel)
    median = np.zeros((t, 2))
    log_sd = np.zeros((t, 2))
    cost = np.zeros((t, 2))
    for j, test in enumerate(panel):
        for p in (ROUTINE, STAT):
            median[j, p] = test.tat_median_h(p) if turnaround != "none" else 0.0
            log_sd[j, p] = test.tat_log_sd(p) if turnaround == "sampled" else 0.0
        cost[j] = (test.cost_chf, test.cost_chf * stat_cost_factor)
    return {
        "tat_median_h": median,
        "tat_log_sd": log_sd,
        "cost_chf": cost,
        "stream_value": np.array([x.stream_value for x in panel], dtype=np.int64),
        "stream_turnaround": np.array([x.stream_turnaround for x in panel], dtype=np.int64),
    }


TURNAROUND_MODES = ("sampled", "median", "none")


def sample_turnaround_h(
    test: LabTest, priority: int, keys: np.ndarray, counter: np.ndarray | int, turnaround: str = "sampled"
) -> np.ndarray:
    """Turnaround (h) of orders drawn with ``counter`` (NumPy twin of :func:`order_row`)."""
    if priority not in (ROUTINE, STAT):
        raise ValueError(f"priority must be ROUTINE (0) or STAT (1), got {priority!r}")
    arr = panel_arrays((test,), turnaround)
    median, sd = arr["tat_median_h"][0, priority], arr["tat_log_sd"][0, priority]
    z = rng.normal(keys, test.stream_turnaround * 2 + priority, counter) if sd > 0 else np.zeros(np.shape(keys))
    return np.minimum(median * np.exp(sd * z), MAX_TURNAROUND_H)


def measure_drawn(test: LabTest, true_value: np.ndarray, keys: np.ndarray, counter: np.ndarray | int, cv: float) -> np.ndarray:
    """Measured value of a sample drawn with ``counter`` (NumPy twin of :func:`order_row`)."""
    z = rng.normal(keys, test.stream_value, counter) if cv > 0 else 0.0
    out = lognormal_assay(true_value, z, cv)
    return np.minimum(out, APTT_REPORT_MAX_S) if test.name == "aptt" else out


@njit(cache=True, inline="always")
def _lognormal_scalar(x: float, z: float, sigma: float) -> float:
    if sigma == 0.0:
        return x
    return x * math.exp(sigma * z - 0.5 * sigma * sigma)


# Both row functions are inlined into env kernels compiled with cache=True. Numba's cache
# does not track this dependency: after editing them, delete the callers' cached
# __pycache__/*.nbi / *.nbc files (hemosim/envs/heparin_pomdp) or they run the old code.
@njit(cache=True, inline="always")
def order_row(
    i, t, priority, true_value, draw_h, counter, key, value_sigma, value_max,
    tat_median_h, tat_log_sd, stream_value, stream_tat,
    pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
):  # pragma: no cover - jitted
    """Order test ``t`` for row ``i`` at ``draw_h``: draw, measure, queue; return the turnaround.

    The sample reflects ``true_value`` (the state at the draw); the assay error is
    ``rng.normal(key, stream_value[t], counter)`` and the turnaround
    ``tat_median_h[t, p] * exp(tat_log_sd[t, p] * rng.normal(key, 2 stream_tat[t] + p, counter))``,
    capped at :data:`MAX_TURNAROUND_H` (the NumPy twins :func:`measure_drawn` and
    :func:`sample_turnaround_h` are the same numbers; a test). Pending orders of a test
    occupy the first ``n_pending`` slots (a full queue raises: size it with
    :func:`slots_needed`).
    """
    m = n_pending[i, t]
    if m >= pend_arrival_h.shape[0]:
        raise ValueError("lab order queue full: more slots needed (see hemosim.assays.slots_needed)")
    z = rng_compiled.normal(key, stream_value[t], counter) if value_sigma > 0.0 else 0.0
    value = min(_lognormal_scalar(true_value, z, value_sigma), value_max)
    med = tat_median_h[t, priority]
    sd = tat_log_sd[t, priority]
    tat = med
    if sd > 0.0:
        tat = med * math.exp(sd * rng_compiled.normal(key, 2 * stream_tat[t] + priority, counter))
    tat = min(tat, MAX_TURNAROUND_H)
    arrival = draw_h + tat
    pend_arrival_h[m, i, t] = arrival
    pend_draw_h[m, i, t] = draw_h
    pend_value[m, i, t] = value
    n_pending[i, t] = m + 1
    if arrival < next_arrival_h[i, t]:
        next_arrival_h[i, t] = arrival
    return tat


@njit(cache=True, inline="always")
def deliver_row(
    i, t, now_h, pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
    reported_value, reported_draw_h, reported_arrival_h,
):  # pragma: no cover - jitted
    """Report every result of test ``t`` (row ``i``) that has arrived by ``now_h``.

    A result replaces the reported one only if its sample was drawn later (a routine
    result that arrives after a later STAT one does not overwrite it: the chart shows
    the most recent draw). Returns the number of results that arrived.
    """
    if next_arrival_h[i, t] > now_h:
        return 0
    m = n_pending[i, t]
    arrived = 0
    nxt = math.inf
    s = 0
    while s < m:
        a = pend_arrival_h[s, i, t]
        if a <= now_h:
            arrived += 1
            if pend_draw_h[s, i, t] > reported_draw_h[i, t]:
                reported_value[i, t] = pend_value[s, i, t]
                reported_draw_h[i, t] = pend_draw_h[s, i, t]
                reported_arrival_h[i, t] = a
            m -= 1  # move the last pending order into this slot and look at it next
            pend_arrival_h[s, i, t] = pend_arrival_h[m, i, t]
            pend_draw_h[s, i, t] = pend_draw_h[m, i, t]
            pend_value[s, i, t] = pend_value[m, i, t]
            pend_arrival_h[m, i, t] = math.inf
        else:
            if a < nxt:
                nxt = a
            s += 1
    n_pending[i, t] = m
    next_arrival_h[i, t] = nxt
    return arrived


def slots_needed(step_h: float) -> int:
    """Pending-order slots per test for decisions every ``step_h`` hours."""
    return int(math.floor(MAX_TURNAROUND_H / step_h)) + 2


class LabOrders:
    """Pending orders and reported results of ``N`` patients x ``T`` tests (batched state).

    Arrays: ``pend_arrival_h (K, N, T)`` (slot first, so that the few slots in use of
    neighbouring patients share cache lines; the pending orders of a test fill its
    first ``n_pending`` slots; ``inf`` = empty),
    ``pend_draw_h``, ``pend_value``; ``n_pending (N, T)``, ``next_arrival_h (N, T)``;
    ``reported_value (N, T)``, ``reported_draw_h``, ``reported_arrival_h``.
    """

    def __init__(self, num_patients: int, num_tests: int, slots: int) -> None:
        n, t, k = num_patients, num_tests, slots
        self.pend_arrival_h = np.full((k, n, t), np.inf)
        self.pend_draw_h = np.zeros((k, n, t))
        self.pend_value = np.zeros((k, n, t))
        self.n_pending = np.zeros((n, t), dtype=np.int64)
        self.next_arrival_h = np.full((n, t), np.inf)
        self.reported_value = np.zeros((n, t))
        self.reported_draw_h = np.zeros((n, t))
        self.reported_arrival_h = np.zeros((n, t))

    def reset(self, mask: np.ndarray, baseline_value: np.ndarray, hours: float = 0.0) -> None:
        """Clear the masked rows; their reported values are ``baseline_value (M, T)``
        drawn and known at ``hours`` (the pre-treatment labs)."""
        self.pend_arrival_h[:, mask] = np.inf
        self.pend_draw_h[:, mask] = 0.0
        self.pend_value[:, mask] = 0.0
        self.n_pending[mask] = 0
        self.next_arrival_h[mask] = np.inf
        self.reported_value[mask] = baseline_value
        self.reported_draw_h[mask] = hours
        self.reported_arrival_h[mask] = hours

    def pending_arrays(self):
        return self.pend_arrival_h, self.pend_draw_h, self.pend_value, self.n_pending, self.next_arrival_h

    def reported_arrays(self):
        return self.reported_value, self.reported_draw_h, self.reported_arrival_h
