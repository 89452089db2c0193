"""Clinical events drawn from hazards with the per-patient counter-based random numbers.

The shared machinery behind ``info["events"]``, ``info["bleeding_isth_class"]`` and
``info["cost"]`` (the EVENT / COST contract every hemosim environment follows):

* an environment computes, each step and for each patient, the **hazards** (events per
  hour) of its competing events from the patient's *true* state;
* :func:`draw_competing` turns them into at most one event per patient and step with the
  exact competing-risks probabilities ``P(event k) = h_k / H * (1 - exp(-H dt))``,
  ``H = sum_k h_k``, using **one** uniform per patient, ``rng.uniform(key, stream, step)``
  (so a patient's events depend only on its own key and step number: single env ==
  vector env == ``SyncVectorEnv``);
* :func:`secondary_uniform` gives further per-patient uniforms for the rows that had an
  event (the event's severity: intracranial, fatal ...), drawn only for those rows;
* :class:`EventLog` holds the per-step flags (fresh arrays each step), the ISTH class
  of the step's bleed and the cumulative counts; :meth:`EventLog.info` is the part of
  the env's info dict the contract defines.

Event names (``EVENT_KEYS``) are the contract's: ``major_bleeding``, ``crnm_bleeding``
(clinically relevant non-major), ``intracranial_haemorrhage``, ``thromboembolism``,
``hit``, ``death``. Each environment lists the subset it draws.
"""

from __future__ import annotations

from typing import Any, Sequence

import math

import numpy as np
from numba import njit

from hemosim.sim import rng, rng_compiled

__all__ = [
    "EVENT_KEYS",
    "HOURS_PER_YEAR",
    "per_hour_from_per_100_patient_years",
    "per_hour_from_risk",
    "draw_competing",
    "secondary_uniform",
    "EventLog",
    "EVENT_PENALTIES",
    "event_reward",
    "REWARD_MODES",
]

#: ``reward_mode`` values of every env: the env card's reward, or the event-based one
REWARD_MODES = ("default", "events")

#: Event-based reward (``reward_mode="events"``): +1 for each step the patient is alive at
#: its start, minus these penalties for the step's events. The weights are hemosim's
#: convention (a ranking a clinician would defend: death >> intracranial haemorrhage >
#: major bleeding = thromboembolism > HIT > clinically relevant non-major bleeding), not
#: published utilities. Death terminates the episode in this mode, so the penalty plus
#: the forfeited +1 per remaining step make dying never pay.
EVENT_PENALTIES = {
    "crnm_bleeding": 1.0,
    "major_bleeding": 10.0,
    "intracranial_haemorrhage": 20.0,  # on top of major_bleeding (every ICH is major)
    "thromboembolism": 10.0,
    "hit": 5.0,
    "death": 100.0,
}

EVENT_KEYS = (
    "major_bleeding",
    "crnm_bleeding",
    "intracranial_haemorrhage",
    "thromboembolism",
    "hit",
    "death",
)
HOURS_PER_YEAR = 365.25 * 24.0


def per_hour_from_per_100_patient_years(rate: float | np.ndarray) -> float | np.ndarray:
    """Convert an incidence rate in events per 100 patient-years to a hazard per hour."""
    return np.asarray(rate, dtype=np.float64) / (100.0 * HOURS_PER_YEAR) if np.ndim(rate) else float(rate) / (100.0 * HOURS_PER_YEAR)


def per_hour_from_risk(risk: float, hours: float) -> float:
    """Constant hazard per hour that gives cumulative probability ``risk`` over ``hours``."""
    if not 0.0 <= risk < 1.0 or hours <= 0:
        raise ValueError(f"risk must lie in [0, 1) and hours be > 0, got risk={risk}, hours={hours}")
    return float(-np.log1p(-risk) / hours)


@njit(cache=True)
def _draw_competing_rows(keys, stream, counter, hazards, dt_h, index, u_within):  # pragma: no cover - jitted
    n, k = hazards.shape
    for i in range(n):
        total = 0.0
        for j in range(k):
            total += hazards[i, j]
        index[i] = -1
        u_within[i] = 0.0
        if total <= 0.0:
            continue
        p_any = -math.expm1(-total * dt_h)
        u = rng_compiled.uniform(keys[i], stream, counter[i])
        if u >= p_any:
            continue
        share = u / p_any * total
        lo = 0.0
        for j in range(k):
            hi = lo + hazards[i, j]
            if share < hi or j == k - 1:
                if hazards[i, j] > 0.0 or j == k - 1:
                    index[i] = j
                    w = (share - lo) / hazards[i, j] if hazards[i, j] > 0.0 else 0.0
                    u_within[i] = min(max(w, 0.0), 1.0 - 2.0**-53)
                    break
            lo = hi


def draw_competing(
    keys: np.ndarray, stream: int, counter: np.ndarray | int, hazards_per_h: np.ndarray, dt_h: float
) -> tuple[np.ndarray, np.ndarray]:
    """At most one event per patient in a step of ``dt_h`` hours, from competing hazards.

    Args:
        keys: the patients' uint64 keys, shape ``(N,)``.
        stream: the env's event stream (a named constant of the env module).
        counter: the step number (``(N,)`` or a scalar), so each step draws afresh.
        hazards_per_h: shape ``(N, K)``, non-negative hazards per hour of K competing events.
        dt_h: step length in hours.

    Returns:
        ``(index, u_within)``: ``index`` (N,) int64, the event that happened (``-1``: none);
        ``u_within`` (N,) the position of the uniform inside the chosen event's interval,
        itself uniform on (0, 1) and independent of which event happened.

    The uniform is ``rng.uniform(key, stream, counter)`` (compiled twin
    ``rng_compiled.uniform``, bit-identical); event ``k`` happens when it falls in
    ``[P_{<k}, P_{<=k})`` with ``P`` the cumulative competing-risks probabilities.
    """
    h = np.ascontiguousarray(hazards_per_h, dtype=np.float64)
    n = h.shape[0]
    if h.ndim != 2 or np.any(~np.isfinite(h)) or np.any(h < 0):
        raise ValueError("hazards_per_h must be a finite, non-negative (N, K) array")
    counter = np.broadcast_to(np.asarray(counter, dtype=np.int64), (n,))
    index = np.empty(n, dtype=np.int64)
    u_within = np.empty(n)
    _draw_competing_rows(np.asarray(keys, dtype=np.uint64), int(stream), np.ascontiguousarray(counter), h, float(dt_h), index, u_within)
    return index, u_within


def secondary_uniform(keys: np.ndarray, rows: np.ndarray, stream: int, counter: np.ndarray | int) -> np.ndarray:
    """Uniforms ``rng.uniform(keys[rows], stream, counter[rows])`` for the given rows only."""
    c = np.asarray(counter)
    return rng.uniform(np.asarray(keys, dtype=np.uint64)[rows], stream, c[rows] if c.ndim else c)


def cached_by_identity(fn):
    """Cache ``fn(h)`` by the identity of ``h`` (a frozen hazard set): a dict lookup, where
    ``functools.lru_cache`` would hash every field of the dataclass on each call."""
    cache: dict[int, tuple[Any, Any]] = {}

    def wrapper(h):
        hit = cache.get(id(h))
        if hit is None or hit[0] is not h:
            hit = (h, fn(h))  # holding h keeps its id from being reused
            cache[id(h)] = hit
        return hit[1]

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


def event_reward(flags: dict[str, np.ndarray], alive_at_start: np.ndarray) -> np.ndarray:
    """The ``reward_mode="events"`` reward of a step: ``alive_at_start - sum(w_k * flag_k)``."""
    r = alive_at_start.astype(np.float64)
    for name, flag in flags.items():
        r = r - EVENT_PENALTIES[name] * flag
    return r


@njit(cache=True)
def _end_step(flags, counts, alive, death_row):  # pragma: no cover - jitted
    """counts += flags; a patient with the ``death`` flag (row ``death_row``, -1: none) dies."""
    for k in range(flags.shape[0]):
        for i in range(flags.shape[1]):
            if flags[k, i]:
                counts[k, i] += 1
    if death_row >= 0:
        for i in range(flags.shape[1]):
            if flags[death_row, i]:
                alive[i] = False


class EventLog:
    """Per-step event flags, the step's ISTH bleeding class and cumulative counts.

    ``flags[name]`` is a fresh ``(N,)`` bool array each step (``begin_step`` makes new
    ones); ``counts[name]`` accumulates per patient over the episode; ``alive`` is False
    after a ``death`` (an env draws no further events for a dead patient).
    """

    def __init__(self, num_patients: int, names: Sequence[str]) -> None:
        unknown = sorted(set(names) - set(EVENT_KEYS))
        if unknown:
            raise ValueError(f"unknown event name(s) {unknown}; allowed: {list(EVENT_KEYS)}")
        self.names = tuple(names)
        n = int(num_patients)
        # one (K, N) block each; flags / counts are per-name row views (one array op per step)
        self._shape = (len(self.names), n)
        self.flag_block = np.zeros(self._shape, dtype=bool)
        self.count_block = np.zeros(self._shape, dtype=np.int64)
        self.counts = dict(zip(self.names, self.count_block))
        self.isth_class = np.zeros(n, dtype=np.int64)
        self.cost = np.zeros(n)
        self.alive = np.ones(n, dtype=bool)
        self._death_row = self.names.index("death") if "death" in self.names else -1

    def reset(self, mask: np.ndarray) -> None:
        """Clear the masked patients (a new episode: no event, cost 0, alive)."""
        self.flag_block[:, mask] = False
        self.count_block[:, mask] = 0
        self.isth_class[mask] = 0
        self.cost[mask] = 0.0
        self.alive[mask] = True

    @property
    def flags(self) -> dict[str, np.ndarray]:
        """This step's flags by event name (row views of ``flag_block``)."""
        return dict(zip(self.names, self.flag_block))

    def begin_step(self) -> None:
        """Fresh, all-False flag arrays for the step about to be drawn (new arrays: an
        earlier step's info keeps its values)."""
        self.flag_block = np.zeros(self._shape, dtype=bool)
        self.isth_class = np.zeros(self._shape[1], dtype=np.int64)

    def end_step(self, cost: np.ndarray) -> None:
        """Add the step's flags to the counts, mark deaths and store the step's cost."""
        _end_step(self.flag_block, self.count_block, self.alive, self._death_row)
        self.cost = cost if type(cost) is np.ndarray and cost.dtype == np.float64 else np.asarray(cost, dtype=np.float64)

    def info_row(self, row: int) -> dict[str, object]:
        """Row ``row`` of :meth:`info` as Python scalars."""
        flags = self.flag_block[:, row].tolist()
        return {
            "events": dict(zip(self.names, flags)),
            "bleeding_isth_class": self.isth_class.item(row),
            "cost": self.cost.item(row),
        }

    def info(self, fresh: bool = False) -> dict[str, object]:
        """The contract's keys: ``events`` (nested bools), ``bleeding_isth_class``, ``cost``;
        ``fresh``: copies (one per block) instead of the log's own arrays."""
        if not fresh:
            return {"events": self.flags, "bleeding_isth_class": self.isth_class, "cost": self.cost}
        return {
            "events": dict(zip(self.names, self.flag_block.copy())),
            "bleeding_isth_class": self.isth_class.copy(),
            "cost": self.cost.copy(),
        }
