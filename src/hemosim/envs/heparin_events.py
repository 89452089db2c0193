"""Clinical events of ``HeparinInfusion-v0``: hazards from the true aPTT and HIT course.

Each 6-h step a patient can have at most one of two competing drawn events, from
hazards of the **true** aPTT path (linear from the start to the end of the step, as the
reward) and the patient's HIT course; the onset of HIT itself is a third, deterministic
event (the course is drawn at reset by ``hemosim.patients.heparin``).

* **Major bleeding** (ISTH; recorded with a haemoglobin fall >= 2 g/dL, class 3):
  hazard ``h_base * RR(aPTT)``, the mean of the start and end of the step.
  ``h_base`` gives 1.9 % over a 5-day course (major bleeding on adjusted-dose UFH for
  VTE, Cochrane review CD001100.pub3, FACTS §4.4); ``RR = 1`` up to 70 s (the top of the
  46-70 s range), rising log-linearly to 20 at 140 s (twice the top of the range) and
  constant above: Norman & Provan's 5 major bleeds in 10 patients whose aPTT was more than
  twice the upper limit of the range for at least half their assays vs 1 in 40 who stayed
  in range (relative risk 20; quoted in Levine MN et al., "Hemorrhagic complications of
  anticoagulant treatment", Chest ACCP consensus chapter, section 3.1.1). The log-linear
  shape between 70 and 140 s is an assumption.
* **Recurrent thromboembolism**: a background hazard giving 5 % over the course (the
  4-6 % of patients therapeutic by 24 h, Hull 1997 Arch Intern Med 157:2562) plus, in
  the first 48 h only, an excess hazard during the time the aPTT is below 45 s
  (1.5 x control) sized so that a patient sub-therapeutic for a whole 24 h has 23.3 %
  (Hull 1997: 23.3 % recurrence when the aPTT was not therapeutic by 24 h; Hull 1986
  N Engl J Med 315:1109: recurrences "virtually confined" to sub-therapeutic
  responders). Hull's recurrences were counted over 3 months; here the risk is charged
  to the step in which it is incurred (a recurrence drawn at hour 12 stands for one
  diagnosed later that is attributable to the early under-anticoagulation).
* **HIT-associated thrombosis** (counted as ``thromboembolism``): after HIT onset,
  7.5 % a day while heparin is given (the "5 %-10 % daily risk of thrombosis,
  amputation, or death" of untreated HIT, Cuker 2012 Blood 120:4160) and the 30-day
  cumulative 52.8 % of isolated HIT after heparin is stopped (Warkentin & Kelton 1996
  Am J Med 101:502) otherwise.
* **HIT** (``events["hit"]``): True on the step in which the patient's HIT course starts
  (hard tier or ``hit_incidence > 0``).

No death, CRNM or intracranial events are drawn: no heparin-specific source for their
shares was found within the 5-day horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np
from numba import njit, prange

from hemosim.sim import rng_compiled
from hemosim.sim.events import EventLog, cached_by_identity, per_hour_from_risk
from hemosim.sim.threads import PARALLEL_CHUNKS, use_parallel

__all__ = [
    "HEPARIN_EVENTS",
    "HeparinEventHazards",
    "HEPARIN_EVENT_HAZARDS",
    "STREAM_EVENTS",
    "hazards_per_h",
    "draw_heparin_events",
    "bleeding_relative_risk",
]

HEPARIN_EVENTS = ("major_bleeding", "thromboembolism", "hit")
STREAM_EVENTS = 301


def _f(value, unit: str, source: str):
    return field(default=value, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class HeparinEventHazards:
    """Hazard parameters of heparin's clinical events (see the module docstring)."""

    major_bleeding_course_risk: float = _f(0.019, "fraction per 5-day course", "Cochrane CD001100.pub3 (UFH 1.9 %), FACTS §4.4")
    course_hours: float = _f(120.0, "h", "the env's 5-day horizon (assumption: the Cochrane risk accrues over it)")
    bleeding_rr_start_aptt_s: float = _f(70.0, "s", "top of the Raschke 1993 range 46-70 s")
    bleeding_rr_full_aptt_s: float = _f(140.0, "s", "twice the top of the range (Norman & Provan, in Levine ACCP chapter)")
    bleeding_rr_max: float = _f(20.0, "ratio", "Norman & Provan 5/10 vs 1/40 (Levine ACCP chapter, 3.1.1)")
    recurrence_background_risk: float = _f(0.05, "fraction per course", "Hull 1997 Arch Intern Med 157:2562 (4-6 % if therapeutic by 24 h)")
    recurrence_subtherapeutic_24h_risk: float = _f(0.233, "fraction", "Hull 1997 (23.3 % if not therapeutic by 24 h)")
    subtherapeutic_aptt_s: float = _f(45.0, "s", "1.5 x control (30 s), Hull 1986 / Raschke 1993")
    early_window_h: float = _f(48.0, "h", "the first 24-48 h (Hull 1986, 1997; Raschke 1993)")
    hit_thrombosis_daily_risk_on_heparin: float = _f(0.075, "fraction per day", "Cuker 2012 Blood 120:4160 (5-10 % daily), midpoint")
    hit_thrombosis_30d_risk_off_heparin: float = _f(0.528, "fraction per 30 days", "Warkentin & Kelton 1996 Am J Med (isolated HIT, 52.8 %)")

    @property
    def major_bleeding_base_per_h(self) -> float:
        return per_hour_from_risk(self.major_bleeding_course_risk, self.course_hours)

    @property
    def recurrence_background_per_h(self) -> float:
        return per_hour_from_risk(self.recurrence_background_risk, self.course_hours)

    @property
    def recurrence_subtherapeutic_excess_per_h(self) -> float:
        """Excess hazard while sub-therapeutic in the early window: 24 h of it plus the
        background over the course give ``recurrence_subtherapeutic_24h_risk``."""
        survive = (1.0 - self.recurrence_subtherapeutic_24h_risk) / (1.0 - self.recurrence_background_risk)
        return -math.log(survive) / 24.0

    @property
    def hit_thrombosis_on_per_h(self) -> float:
        return per_hour_from_risk(self.hit_thrombosis_daily_risk_on_heparin, 24.0)

    @property
    def hit_thrombosis_off_per_h(self) -> float:
        return per_hour_from_risk(self.hit_thrombosis_30d_risk_off_heparin, 720.0)


HEPARIN_EVENT_HAZARDS = HeparinEventHazards()


@njit(cache=True, inline="always")
def _rr(aptt: float, a_start: float, a_full: float, rr_max: float) -> float:
    if aptt <= a_start:
        return 1.0
    if aptt >= a_full:
        return rr_max
    return math.exp(math.log(rr_max) * (aptt - a_start) / (a_full - a_start))


def bleeding_relative_risk(aptt_s: np.ndarray, h: HeparinEventHazards = HEPARIN_EVENT_HAZARDS) -> np.ndarray:
    """Relative hazard of major bleeding at a true aPTT (1 up to 70 s, 20 from 140 s)."""
    a = np.asarray(aptt_s, dtype=np.float64)
    x = np.clip((a - h.bleeding_rr_start_aptt_s) / (h.bleeding_rr_full_aptt_s - h.bleeding_rr_start_aptt_s), 0.0, 1.0)
    return np.exp(np.log(h.bleeding_rr_max) * x)


@njit(cache=True, inline="always")
def _hazards(a0, a1, frac_sub, t0, t1, onset, heparin, consts):  # pragma: no cover - jitted
    """Mean hazards per hour of one patient over its step: (major bleeding, thromboembolism)."""
    h_bleed, a_start, a_full, rr_max, h_rec0, h_rec_sub, early_h, h_hit_on, h_hit_off = (
        consts[0], consts[1], consts[2], consts[3], consts[4], consts[5], consts[6], consts[7], consts[8],
    )
    dt = t1 - t0
    bleed = h_bleed * 0.5 * (_rr(a0, a_start, a_full, rr_max) + _rr(a1, a_start, a_full, rr_max))
    te = h_rec0
    if t0 < early_h:  # the share of the step inside the early window
        w = min(t1, early_h) - t0
        te += h_rec_sub * frac_sub * w / dt
    if onset < t1:
        after = (t1 - max(onset, t0)) / dt
        te += after * (h_hit_on if heparin else h_hit_off)
    return bleed, te


@njit(cache=True, inline="always")
def _hazard_row(i, a0, a1, frac_sub, t0, t1, onset, heparin, consts):  # pragma: no cover - jitted
    """:func:`_hazards` of patient ``i`` of per-patient arrays."""
    return _hazards(a0[i], a1[i], frac_sub[i], t0[i], t1[i], onset[i], heparin[i], consts)


@njit(cache=True)
def _hazard_rows(a0, a1, frac_sub, t0, t1, onset, heparin, consts, out):  # pragma: no cover - jitted
    for i in range(a0.shape[0]):
        out[i, 0], out[i, 1] = _hazard_row(i, a0, a1, frac_sub, t0, t1, onset, heparin, consts)


@njit(cache=True, inline="always")
def draw_row(i, a0, a1, frac_sub, t0, t1, onset, heparin, consts, key, step, dt_h, supra_share,
             flags, isth, cost):  # pragma: no cover - jitted
    """One patient's events over its step, fused: the hazards of :func:`_hazards`, the
    competing rule of ``hemosim.sim.events.draw_competing`` (same uniform, same arithmetic),
    the HIT onset and the cost, written into row ``i`` of ``flags`` (major bleeding,
    thromboembolism, HIT), ``isth`` and ``cost``. Inputs are that patient's scalars."""
    h0, h1 = _hazards(a0, a1, frac_sub, t0, t1, onset, heparin, consts)
    total = 0.0 + h0 + h1
    if total > 0.0:
        p_any = -math.expm1(-total * dt_h)
        u = rng_compiled.uniform(key, STREAM_EVENTS, step)
        if u < p_any:
            if u / p_any * total < 0.0 + h0 and h0 > 0.0:
                flags[0, i] = True
                isth[i] = 3  # recorded with a haemoglobin fall >= 2 g/dL: ISTH major
            else:
                flags[1, i] = True
    # HIT onset: in (t0, t1], or at t0 = 0 for a course that starts with the first dose
    if onset <= t1 and (onset > t0 or (t0 == 0.0 and onset <= 0.0)):
        flags[2, i] = True
    n_events = (1.0 if flags[0, i] else 0.0) + (1.0 if flags[1, i] else 0.0)
    cost[i] = (n_events + (1.0 if flags[2, i] else 0.0)) + supra_share


@njit(cache=True, inline="always")
def _draw_range(lo, hi, a0, a1, frac_sub, t0, t1, onset, heparin, consts, keys, step, dt_h, supra_share,
                flags, isth, cost):  # pragma: no cover - jitted
    """:func:`draw_row` for rows ``lo:hi`` of per-patient arrays."""
    for i in range(lo, hi):
        draw_row(i, a0[i], a1[i], frac_sub[i], t0[i], t1[i], onset[i], heparin[i], consts, keys[i], step[i], dt_h,
                 supra_share[i], flags, isth, cost)


@njit(cache=True)
def _draw_rows(a0, a1, frac_sub, t0, t1, onset, heparin, consts, keys, step, dt_h, supra_share,
               flags, isth, cost):  # pragma: no cover - jitted
    """Every row, one thread."""
    _draw_range(0, a0.shape[0], a0, a1, frac_sub, t0, t1, onset, heparin, consts, keys, step, dt_h, supra_share,
                flags, isth, cost)


@njit(cache=True, parallel=True)
def _draw_rows_parallel(a0, a1, frac_sub, t0, t1, onset, heparin, consts, keys, step, dt_h, supra_share,
                        flags, isth, cost):  # pragma: no cover - jitted
    """Every row, in parallel chunks (each row draws from its own key: thread-count free)."""
    n = a0.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _draw_range(c * n // chunks, (c + 1) * n // chunks, a0, a1, frac_sub, t0, t1, onset, heparin, consts, keys,
                    step, dt_h, supra_share, flags, isth, cost)


@cached_by_identity
def event_constants(h: HeparinEventHazards) -> np.ndarray:
    """The kernel's constants of a (frozen, hashable) hazard set, computed once."""
    c = np.array([
        h.major_bleeding_base_per_h, h.bleeding_rr_start_aptt_s, h.bleeding_rr_full_aptt_s, h.bleeding_rr_max,
        h.recurrence_background_per_h, h.recurrence_subtherapeutic_excess_per_h, h.early_window_h,
        h.hit_thrombosis_on_per_h, h.hit_thrombosis_off_per_h,
    ])
    c.flags.writeable = False
    return c


def _step_arrays(*arrays: np.ndarray) -> list[np.ndarray]:
    """The step's per-patient inputs as contiguous float64 arrays (the kernels' layout)."""
    return [np.ascontiguousarray(x, dtype=np.float64) for x in arrays]


def hazards_per_h(
    aptt_start_s: np.ndarray,
    aptt_end_s: np.ndarray,
    subtherapeutic_fraction: np.ndarray,
    t_start_h: np.ndarray,
    t_end_h: np.ndarray,
    hit_onset_h: np.ndarray,
    heparin_given: np.ndarray,
    h: HeparinEventHazards = HEPARIN_EVENT_HAZARDS,
) -> np.ndarray:
    """Mean hazards per hour over a step ``(N, 2)``: major bleeding, thromboembolism.

    ``subtherapeutic_fraction`` is the share of the step with the true aPTT below 45 s
    (the env's Rosendaal interpolation); ``hit_onset_h`` is ``inf`` without HIT.
    """
    consts = event_constants(h)
    arrays = _step_arrays(aptt_start_s, aptt_end_s, subtherapeutic_fraction, t_start_h, t_end_h, hit_onset_h)
    out = np.empty((arrays[0].shape[0], 2))
    _hazard_rows(*arrays, np.ascontiguousarray(heparin_given, dtype=bool), consts, out)
    return out


def draw_heparin_events(
    log: EventLog,
    keys: np.ndarray,
    step: np.ndarray,
    aptt_start_s: np.ndarray,
    aptt_end_s: np.ndarray,
    subtherapeutic_fraction: np.ndarray,
    t_start_h: np.ndarray,
    t_end_h: np.ndarray,
    hit_onset_h: np.ndarray,
    heparin_given: np.ndarray,
    dt_h: float,
    supra_share: np.ndarray,
    h: HeparinEventHazards = HEPARIN_EVENT_HAZARDS,
) -> np.ndarray:
    """Draw the step's events into ``log`` and return the step's cost (the caller ends the
    step with it): major bleeding + thromboembolism + HIT onset + ``supra_share`` (the time
    with the true aPTT above 100 s, in units of a 6-h step). Hazards as :func:`hazards_per_h`;
    ``log`` must hold ``HEPARIN_EVENTS`` in that order. A major bleed is recorded with a
    haemoglobin fall >= 2 g/dL (ISTH class 3; checked against
    ``hemosim.metrics.isth_bleeding_class`` in the tests)."""
    log.begin_step()
    arrays = _step_arrays(aptt_start_s, aptt_end_s, subtherapeutic_fraction, t_start_h, t_end_h, hit_onset_h)
    cost = np.empty(arrays[0].shape[0])
    draw = _draw_rows_parallel if use_parallel(cost.shape[0]) else _draw_rows
    draw(*arrays, np.ascontiguousarray(heparin_given, dtype=bool), event_constants(h), np.asarray(keys, dtype=np.uint64),
               np.ascontiguousarray(step, dtype=np.int64), float(dt_h), np.ascontiguousarray(supra_share, dtype=np.float64),
               log.flag_block, log.isth_class, cost)
    return cost


def _fields_lacking_metadata() -> list[str]:
    return [f.name for f in fields(HeparinEventHazards) if not f.metadata.get("unit") or not f.metadata.get("source")]
