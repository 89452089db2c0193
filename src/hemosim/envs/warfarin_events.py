"""Clinical events of ``WarfarinDosing-v0``: hazards as functions of the true INR.

Each simulated day a patient alive at its start can have at most one of three competing
events, drawn from hazards that depend only on the **true** INR at the end of the day
(the next morning's INR, the value the default reward also uses):

* major bleeding (ISTH), of which a share is intracranial and a share fatal;
* clinically relevant non-major (CRNM) bleeding;
* thromboembolism (ischaemic stroke or systemic embolism), of which a share is fatal.

INR-specific incidence (events per 100 patient-years, piecewise constant by INR band):

=============  ================  =====================================================
INR band       major bleeding    thromboembolism
=============  ================  =====================================================
< 2.0          4.55 (published)  12.11 = 10.30 ischaemic stroke + 1.81 systemic
                                 embolism (published)
2.0 - 3.0      1.75 = 4.55 / RR  1.59 = 12.11 / RR 7.6 (stroke RR applied to both)
               2.6
3.0 - 4.5      2.63 = 1.75 x RR  1.59 (no excess reported above range)
               1.5
>= 4.5         13.8 = 1.75 x RR  1.59
               7.91
=============  ================  =====================================================

Sources: Nelson WW et al. Int J Clin Pharm 2015;37:53 (VA, 34,346 new AF warfarin
users; FACTS §3.2 and §6.4, VERIFIED): in periods with INR < 2, ischaemic stroke 10.30,
systemic embolism 1.81 and major bleeding 4.55 per 100 person-years; rate ratios versus
INR 2-3: ischaemic stroke 7.6, major bleeding 2.6; INR > 3: major bleeding RR 1.5.
ISCOAT (Palareti G et al., G Ital Cardiol 1997;27:231, the Italian report of Lancet
1996;348:423): relative risk of bleeding at INR >= 4.5 of 7.91 (abstract seen through
a secondary index; the reference category is the lower INR levels, taken here as the
in-range rate: an approximation). Shares: intracranial = 0.57 / (0.57 + 2.1) of major
bleeds (Cannegieter SC et al. N Engl J Med 1995;333:11, abstract: intracranial and
spinal 0.57, major extracranial 2.1 per 100 patient-years); fatal = 5 / 28 of major
bleeds (ISCOAT, Lancet 1996;348:423: 5 fatal and 23 major); fatal = 20 / 70 of
thrombotic events (ISCOAT, Palareti G et al. Thromb Haemost 1997;78:1438);
CRNM bleeding = 11.37 / (14.5 - 11.37) = 3.63 x the major-bleeding hazard on warfarin
(ROCKET AF warfarin arm, FACTS §6.1: non-major clinically relevant 11.37 and major +
NMCR 14.5 per 100 patient-years). Nuisance (ISTH class 1, minor) bleeding is not drawn.

Fitted vs compared: nothing here is fitted to a simulation; the table is taken as
published (with the derivations shown). ``hemosim.calibration.warfarin_events``
checks that the simulated INR-band incidence reproduces it (with exact Poisson
intervals) and compares the protocols' annualised rates with warfarin cohorts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import numpy as np
from numba import njit, prange

from hemosim.sim import rng_compiled
from hemosim.sim.threads import PARALLEL_CHUNKS, use_parallel_light
from hemosim.sim.events import EventLog, cached_by_identity, per_hour_from_per_100_patient_years

__all__ = [
    "WARFARIN_EVENTS",
    "WarfarinEventHazards",
    "WARFARIN_EVENT_HAZARDS",
    "STREAM_EVENTS",
    "draw_warfarin_events",
    "hazards_per_h",
    "HIGH_INR_COST_THRESHOLD",
]

#: the contract's event keys this env draws
WARFARIN_EVENTS = ("major_bleeding", "crnm_bleeding", "intracranial_haemorrhage", "thromboembolism", "death")
#: rng streams (``hemosim.sim.rng``): the competing draw, intracranial share, fatal share
STREAM_EVENTS, STREAM_EVENT_SITE, STREAM_EVENT_FATAL = 301, 302, 303
#: a day ending with the true INR above this counts 1 in ``info["cost"]`` (the INR >= 4
#: safety end point of EU-PACT and GIFT, FACTS §3.2)
HIGH_INR_COST_THRESHOLD = 4.0

_NELSON = "Nelson 2015 Int J Clin Pharm 37:53 (FACTS §3.2, §6.4)"


def _f(value, unit: str, source: str):
    return field(default=value, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class WarfarinEventHazards:
    """INR-band incidence and severity shares of warfarin's clinical events (see module)."""

    inr_band_edges: tuple[float, ...] = _f((2.0, 3.0, 4.5), "INR", "bands < 2, 2-3, 3-4.5, >= 4.5: Nelson 2015 (2, 3); ISCOAT 1997 (4.5)")
    major_bleeding_per_100py: tuple[float, ...] = _f(
        (4.55, 4.55 / 2.6, 4.55 / 2.6 * 1.5, 4.55 / 2.6 * 7.91),
        "events per 100 patient-years",
        _NELSON + ": 4.55 at INR < 2, RR 2.6 vs 2-3, RR 1.5 at > 3; ISCOAT (G Ital Cardiol 1997;27:231) RR 7.91 at >= 4.5",
    )
    thromboembolism_per_100py: tuple[float, ...] = _f(
        (12.11, 12.11 / 7.6, 12.11 / 7.6, 12.11 / 7.6),
        "events per 100 patient-years",
        _NELSON + ": ischaemic stroke 10.30 + systemic embolism 1.81 at INR < 2; stroke RR 7.6 vs 2-3",
    )
    crnm_per_major: float = _f(11.37 / (14.5 - 11.37), "ratio", "ROCKET AF warfarin arm, FACTS §6.1 (11.37; major + NMCR 14.5)")
    intracranial_share_of_major: float = _f(0.57 / (0.57 + 2.1), "fraction", "Cannegieter 1995 N Engl J Med 333:11 abstract")
    fatal_share_of_major: float = _f(5.0 / 28.0, "fraction", "ISCOAT, Palareti 1996 Lancet 348:423 (5 fatal, 23 major)")
    fatal_share_of_thromboembolism: float = _f(20.0 / 70.0, "fraction", "ISCOAT, Palareti 1997 Thromb Haemost 78:1438 (20 fatal of 70)")

    def __post_init__(self) -> None:
        k = len(self.inr_band_edges) + 1
        for name in ("major_bleeding_per_100py", "thromboembolism_per_100py"):
            if len(getattr(self, name)) != k:
                raise ValueError(f"{name} needs {k} values (one per INR band), got {getattr(self, name)}")

    def band(self, inr: np.ndarray) -> np.ndarray:
        """INR band index: 0 (< 2), 1 (2-3), 2 (3-4.5), 3 (>= 4.5)."""
        return np.searchsorted(np.asarray(self.inr_band_edges), inr, side="right")

    def band_labels(self) -> list[str]:
        e = self.inr_band_edges
        return [f"< {e[0]:g}"] + [f"{a:g} - {b:g}" for a, b in zip(e[:-1], e[1:])] + [f">= {e[-1]:g}"]


WARFARIN_EVENT_HAZARDS = WarfarinEventHazards()


@njit(cache=True)
def _hazard_rows(inr, edges, major_tab, te_tab, crnm_ratio, alive, out):  # pragma: no cover - jitted
    for i in range(inr.shape[0]):
        b = 0
        for e in edges:
            if inr[i] >= e:
                b += 1
        if alive[i]:
            out[i, 0] = major_tab[b]
            out[i, 1] = crnm_ratio * major_tab[b]
            out[i, 2] = te_tab[b]
        else:
            out[i, 0] = out[i, 1] = out[i, 2] = 0.0


def hazards_per_h(
    inr: np.ndarray, h: WarfarinEventHazards = WARFARIN_EVENT_HAZARDS, alive: np.ndarray | None = None
) -> np.ndarray:
    """Competing hazards per hour ``(N, 3)``: major bleeding, CRNM bleeding, thromboembolism
    (zero for patients not ``alive``)."""
    inr = np.ascontiguousarray(inr, dtype=np.float64)
    alive = np.ones(inr.shape[0], dtype=bool) if alive is None else np.ascontiguousarray(alive)
    out = np.empty((inr.shape[0], 3))
    _hazard_rows(inr, np.asarray(h.inr_band_edges, dtype=np.float64), _per_h(h.major_bleeding_per_100py),
                 _per_h(h.thromboembolism_per_100py), float(h.crnm_per_major), alive, out)
    return out


def _per_h(rates: tuple[float, ...]) -> np.ndarray:
    return np.asarray(per_hour_from_per_100_patient_years(np.asarray(rates, dtype=np.float64)))


@njit(cache=True, inline="always")
def _draw_range(lo, hi, inr, alive, keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major,
                fatal_te, high_inr, flags, isth, cost):  # pragma: no cover - jitted
    """One day's competing draw per patient, fused: the hazards of ``_hazard_rows``, the
    competing-risks rule of ``hemosim.sim.events.draw_competing`` (same uniform, same
    arithmetic, so the same events) and the intracranial / fatal shares. ``flags`` rows:
    major, CRNM, intracranial, thromboembolism, death. ``cost`` (the env card's): major
    bleeding + thromboembolism + death + [true INR > ``high_inr``]."""
    for i in range(lo, hi):
        cost[i] = 1.0 if inr[i] > high_inr else 0.0
        if not alive[i]:
            continue
        b = 0
        for e in edges:
            if inr[i] >= e:
                b += 1
        h0 = major_tab[b]
        h1 = crnm_ratio * major_tab[b]
        h2 = te_tab[b]
        total = 0.0 + h0 + h1 + h2
        if total <= 0.0:
            continue
        p_any = -math.expm1(-total * dt_h)
        u = rng_compiled.uniform(keys[i], STREAM_EVENTS, day[i])
        if u >= p_any:
            continue
        share = u / p_any * total
        if share < 0.0 + h0:  # major bleeding
            flags[0, i] = True
            if rng_compiled.uniform(keys[i], STREAM_EVENT_SITE, day[i]) < ich_share:
                flags[2, i] = True
            cost[i] += 1.0
            if rng_compiled.uniform(keys[i], STREAM_EVENT_FATAL, day[i]) < fatal_major:
                flags[4, i] = True
                cost[i] += 1.0
            isth[i] = 3  # fatal, critical site or a >= 2 g/dL Hb fall: major (ISTH 2005)
        elif share < 0.0 + h0 + h1:  # clinically relevant non-major bleeding
            flags[1, i] = True
            isth[i] = 2
        else:  # thromboembolism
            flags[3, i] = True
            cost[i] += 1.0
            if rng_compiled.uniform(keys[i], STREAM_EVENT_FATAL, day[i]) < fatal_te:
                flags[4, i] = True
                cost[i] += 1.0


@njit(cache=True)
def _draw_rows(inr, alive, keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major, fatal_te,
               high_inr, flags, isth, cost):  # pragma: no cover - jitted
    """Every row, one thread."""
    _draw_range(0, inr.shape[0], inr, alive, keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share,
                fatal_major, fatal_te, high_inr, flags, isth, cost)


@njit(cache=True, parallel=True)
def _draw_rows_parallel(inr, alive, keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major,
                        fatal_te, high_inr, flags, isth, cost):  # pragma: no cover - jitted
    """Every row, in parallel chunks (each row draws from its own key: thread-count free)."""
    n = inr.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _draw_range(c * n // chunks, (c + 1) * n // chunks, inr, alive, keys, day, edges, major_tab, te_tab,
                    crnm_ratio, dt_h, ich_share, fatal_major, fatal_te, high_inr, flags, isth, cost)


def draw_warfarin_events(
    log: EventLog, keys: np.ndarray, day: np.ndarray, inr_true: np.ndarray, h: WarfarinEventHazards = WARFARIN_EVENT_HAZARDS
) -> np.ndarray:
    """Draw the day's events into ``log`` (flags and ISTH class) and return the day's cost
    (the caller ends the step with it).

    Each living patient's day: one uniform on ``STREAM_EVENTS`` against the competing
    hazards (major, CRNM, thromboembolism) over 24 h, then, for a major bleed, intracranial
    and fatal shares on their own streams, and for a thromboembolism a fatal share. The
    kernel's ISTH class (major 3, CRNM 2) is checked against
    ``hemosim.metrics.isth_bleeding_class`` in the tests. ``log`` must hold
    ``WARFARIN_EVENTS`` in that order.
    """
    log.begin_step()
    n = inr_true.shape[0]
    day = np.asarray(day, dtype=np.int64)
    if day.ndim == 0:
        day = np.full(n, day)
    cost = np.empty(n)
    draw = _draw_rows_parallel if use_parallel_light(n) else _draw_rows
    draw(np.ascontiguousarray(inr_true, dtype=np.float64), log.alive, np.asarray(keys, dtype=np.uint64), day,
               *_kernel_constants(h), log.flag_block, log.isth_class, cost)
    return cost


@cached_by_identity
def _kernel_constants(h: WarfarinEventHazards) -> tuple:
    """``_draw_rows``'s constants from ``h``, once per hazard set."""
    return (np.asarray(h.inr_band_edges, dtype=np.float64), _per_h(h.major_bleeding_per_100py),
            _per_h(h.thromboembolism_per_100py), float(h.crnm_per_major), 24.0, float(h.intracranial_share_of_major),
            float(h.fatal_share_of_major), float(h.fatal_share_of_thromboembolism), HIGH_INR_COST_THRESHOLD)


def _fields_lacking_metadata() -> list[str]:
    return [f.name for f in fields(WarfarinEventHazards) if not f.metadata.get("unit") or not f.metadata.get("source")]
