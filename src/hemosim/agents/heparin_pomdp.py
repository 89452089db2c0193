"""Heparin protocols for ``hemosim/HeparinInfusion-POMDP-v0``: dosing on results as they arrive.

Each policy has ``predict(obs)`` (one observation ``(10,)`` or a batch ``(N, 10)``;
returns the env action ``(5,)`` or ``(N, 5)`` float32) and ``reset()``. They read only
the observation: the last reported aPTT ``20 + 180 obs[0]`` s and anti-Xa ``obs[1]``
IU/mL, how long ago each reported sample was drawn (``120 obs[3:6]`` h), the pending
bit mask ``round(7 obs[6])``, the weight ``40 + 140 obs[7]`` kg and the hour
``120 obs[9]``. A row whose hour is 0 is a new patient (also after a vector env's
autoreset) and gets the protocol's starting dose. The protocols are stateful: per row
they remember the nominal rate, the hour of the last dose change, the draw hour of the
last result acted on, the next planned draw, consecutive therapeutic results and the
rest of a hold.

The dose rules are the ones of ``hemosim.agents.heparin`` (one definition: the same
classes' ``_decide``), applied when a result arrives instead of every 6 h. A hold of
1 h is an hour at rate 0; a 30-min hold is an hour at half the new rate.

Protocols and their sampling schedules
--------------------------------------
* :class:`ScheduledRaschke`: Raschke 1993 weight-based nomogram; aPTT 6 h after the
  bolus and 6 h after every dose change; after two consecutive therapeutic aPTTs, every
  24 h (FACTS §4.1, perinatology.com reproduction of the protocol); a result drawn
  less than 6 h after a change is not acted on. Routine priority by default.
* :class:`ScheduledAntiXa`: University of Michigan anti-Xa nomogram (0.3-0.7 IU/mL):
  STAT anti-Xa 6 h after the start, then anti-Xa 6 h after every result ("next
  anti-Xa 6 h" in every row of the table; FACTS §4.1), routine.
* :class:`StatEverythingHourly`: every test STAT every hour (the information upper
  bound of the env); doses by the Raschke nomogram on the newest aPTT drawn at least
  6 h after the last change and 6 h after the last result acted on.
* :class:`NoLab`: the Raschke starting dose (80 U/kg + 18 U/kg/h) held for 5 days,
  nothing ordered.

All scheduled protocols order a platelet count every 24 h (the Michigan protocol's
"platelet count daily"; for the Raschke protocol an assumption), routine.
"""

from __future__ import annotations

import numpy as np

from hemosim.agents.heparin import AntiXaNomogram, RaschkeNomogram, _Protocol
from hemosim.envs.heparin import (
    BOLUS_U_PER_KG,
    MAX_RATE_U_PER_H,
    OBS_APTT_OFFSET_S,
    OBS_APTT_SCALE_S,
    OBS_WEIGHT_OFFSET_KG,
    OBS_WEIGHT_SCALE_KG,
)
from hemosim.envs.heparin_pomdp import OBS_HOURS_SCALE, action_from_orders

__all__ = ["decode_observation", "ScheduledRaschke", "ScheduledAntiXa", "StatEverythingHourly", "NoLab"]

_APTT, _AXA, _PLT = range(3)
NONE, ROUTINE, STAT = 0, 1, 2
_PRIORITIES = {"routine": ROUTINE, "stat": STAT}
#: the nomograms' "6 h after any change" (Raschke 1993 via perinatology.com, FACTS §4.1)
HOURS_AFTER_CHANGE = 6
#: daily checks once stable (two consecutive therapeutic aPTTs), FACTS §4.1
HOURS_WHEN_STABLE = 24
CONSECUTIVE_FOR_STABLE = 2
PLATELET_EVERY_H = 24


def decode_observation(obs: np.ndarray) -> dict[str, np.ndarray]:
    """Clinical values shown by a batch of observations ``(N, 10)`` (see the env card)."""
    obs = np.asarray(obs, dtype=np.float64)
    hours = np.round(OBS_HOURS_SCALE * obs[:, 9])
    mask = np.round(7.0 * obs[:, 6]).astype(np.int64)
    return {
        "aptt_s": OBS_APTT_OFFSET_S + OBS_APTT_SCALE_S * obs[:, 0],
        "anti_xa_iu_per_ml": obs[:, 1],
        "platelets_10e9_per_l": 400.0 * obs[:, 2],
        "draw_hours": hours[:, None] - np.round(OBS_HOURS_SCALE * obs[:, 3:6]),
        "pending": np.stack([(mask >> t) & 1 for t in range(3)], axis=1).astype(bool),
        "weight_kg": OBS_WEIGHT_OFFSET_KG + OBS_WEIGHT_SCALE_KG * obs[:, 7],
        "hours": hours,
    }


def _check(obs: np.ndarray) -> tuple[np.ndarray, bool]:
    obs = np.asarray(obs, dtype=np.float64)
    single = obs.ndim == 1
    batch = obs[None] if single else obs
    if batch.ndim != 2 or batch.shape[1] != 10:
        raise ValueError(f"obs must have shape (10,) or (N, 10), got {obs.shape}")
    if not np.all(np.isfinite(batch)):
        raise ValueError(f"obs contains non-finite values {batch[~np.isfinite(batch)][:5]}; observations must be finite")
    return batch, single


class _ResultDriven:
    """Shared state machine: act on a new result of the guiding test, then schedule the next draw."""

    #: the dose rule (a ``hemosim.agents.heparin`` protocol) and the test it reads
    rule_cls: type[_Protocol] = RaschkeNomogram
    guide: int = _APTT
    value_key: str = "aptt_s"

    def __init__(self, priority: str = "routine", first_priority: str | None = None) -> None:
        for name, p in (("priority", priority), ("first_priority", first_priority)):
            if p is not None and p not in _PRIORITIES:
                raise ValueError(f"{name} must be one of {sorted(_PRIORITIES)}, got {p!r}")
        self.priority = _PRIORITIES[priority]
        self.first_priority = _PRIORITIES[first_priority or priority]
        self._rule = self.rule_cls()
        self._n = -1

    def reset(self) -> None:
        """Forget every row (the next call starts all rows with their first dose)."""
        self._n = -1

    def _allocate(self, n: int) -> None:
        self._n = n
        self.rate_u_per_h = np.zeros(n)
        self.last_change_h = np.zeros(n)
        self.last_acted_draw_h = np.zeros(n)
        self.next_draw_h = np.full(n, float(HOURS_AFTER_CHANGE))
        self.next_platelets_h = np.full(n, float(PLATELET_EVERY_H))
        self.consecutive_in_range = np.zeros(n, dtype=np.int64)
        self.hold_left_h = np.zeros(n)
        self.first_draw = np.ones(n, dtype=bool)

    # hooks ------------------------------------------------------------------------------
    def _act_gap_h(self) -> float:
        return 0.0

    def _next_draw_after_no_change(self, draw_h: np.ndarray) -> np.ndarray:
        stable = self.consecutive_in_range >= CONSECUTIVE_FOR_STABLE
        return draw_h + np.where(stable, HOURS_WHEN_STABLE, HOURS_AFTER_CHANGE)

    def _orders(self, v: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
        n = h.shape[0]
        orders = np.zeros((n, 3), dtype=np.int64)
        due = (h >= self.next_draw_h) & ~v["pending"][:, self.guide] & (h > 0)
        prio = np.where(self.first_draw, self.first_priority, self.priority)
        orders[:, self.guide] = np.where(due, prio, NONE)
        self.first_draw &= ~due
        plt_due = (h >= self.next_platelets_h) & (h > 0)
        orders[:, _PLT] = np.where(plt_due, ROUTINE, orders[:, _PLT])
        self.next_platelets_h = np.where(plt_due, self.next_platelets_h + PLATELET_EVERY_H, self.next_platelets_h)
        return orders

    # ------------------------------------------------------------------------------------
    def predict(self, obs: np.ndarray) -> np.ndarray:
        batch, single = _check(obs)
        n = batch.shape[0]
        if self._n != n:
            self._allocate(n)
        v = decode_observation(batch)
        h = v["hours"]
        start = h <= 0.0
        if start.any():
            for arr, value in (
                (self.last_change_h, 0.0), (self.last_acted_draw_h, 0.0), (self.next_draw_h, HOURS_AFTER_CHANGE),
                (self.next_platelets_h, PLATELET_EVERY_H), (self.consecutive_in_range, 0), (self.hold_left_h, 0.0),
                (self.first_draw, True),
            ):
                arr[start] = value
        draw_h = v["draw_hours"][:, self.guide]
        act = (
            ~start
            & (draw_h > self.last_acted_draw_h)
            & (draw_h >= self.last_change_h + HOURS_AFTER_CHANGE)
            & (draw_h >= self.last_acted_draw_h + self._act_gap_h())
        )
        self._rule.rate_u_per_h = self.rate_u_per_h
        rate, bolus, hold = self._rule._decide(v, start)
        rate = np.clip(rate, 0.0, MAX_RATE_U_PER_H)
        do = start | act
        changed = act & ((rate != self.rate_u_per_h) | (bolus > 0) | (hold > 0))
        unchanged = act & ~changed
        self.consecutive_in_range = np.where(unchanged, self.consecutive_in_range + 1, np.where(do, 0, self.consecutive_in_range))
        self.next_draw_h = np.where(changed, h + HOURS_AFTER_CHANGE, self.next_draw_h)
        self.next_draw_h = np.where(unchanged, np.maximum(self._next_draw_after_no_change(draw_h), h), self.next_draw_h)
        self.last_change_h = np.where(changed | start, h, self.last_change_h)
        self.last_acted_draw_h = np.where(act, draw_h, self.last_acted_draw_h)
        self.rate_u_per_h = np.where(do, rate, self.rate_u_per_h)
        self.hold_left_h = np.where(do, hold, self.hold_left_h)
        bolus = np.where(do, bolus, 0.0)
        # this hour's delivered rate: a hold takes whole hours, a half-hour hold half of one
        hold_now = np.minimum(self.hold_left_h, 1.0)
        delivered = self.rate_u_per_h * (1.0 - hold_now)
        self.hold_left_h = self.hold_left_h - hold_now
        orders = self._orders(v, h)
        action = np.empty((n, 5), dtype=np.float32)
        action[:, 0] = np.clip(delivered / MAX_RATE_U_PER_H, 0.0, 1.0)
        action[:, 1] = np.clip(bolus / (BOLUS_U_PER_KG * v["weight_kg"]), 0.0, 1.0)
        action[:, 2:] = action_from_orders(orders)
        return action[0] if single else action

    __call__ = predict


class ScheduledRaschke(_ResultDriven):
    """Raschke 1993 nomogram on its published aPTT schedule (see the module docstring)."""

    rule_cls = RaschkeNomogram
    guide = _APTT


class ScheduledAntiXa(_ResultDriven):
    """Michigan anti-Xa nomogram: STAT anti-Xa 6 h after the start, then every 6 h."""

    rule_cls = AntiXaNomogram
    guide = _AXA

    def __init__(self, priority: str = "routine", first_priority: str | None = "stat") -> None:
        super().__init__(priority, first_priority)

    def _next_draw_after_no_change(self, draw_h: np.ndarray) -> np.ndarray:
        return draw_h + HOURS_AFTER_CHANGE


class StatEverythingHourly(_ResultDriven):
    """Every test STAT every hour; Raschke dosing on the newest eligible aPTT."""

    rule_cls = RaschkeNomogram
    guide = _APTT

    def __init__(self) -> None:
        super().__init__("stat")

    def _act_gap_h(self) -> float:
        return float(HOURS_AFTER_CHANGE)

    def _orders(self, v: dict[str, np.ndarray], h: np.ndarray) -> np.ndarray:
        return np.full((h.shape[0], 3), STAT, dtype=np.int64)


class NoLab:
    """The Raschke starting dose (80 U/kg bolus, 18 U/kg/h) held; no test ever ordered."""

    def reset(self) -> None:
        return None

    def predict(self, obs: np.ndarray) -> np.ndarray:
        batch, single = _check(obs)
        v = decode_observation(batch)
        w = v["weight_kg"]
        action = np.zeros((batch.shape[0], 5), dtype=np.float32)
        action[:, 0] = np.clip(18.0 * w / MAX_RATE_U_PER_H, 0.0, 1.0)
        action[:, 1] = np.where(v["hours"] <= 0.0, 1.0, 0.0)  # 80 U/kg at the start
        action[:, 2:] = action_from_orders(np.zeros((batch.shape[0], 3), dtype=np.int64))
        return action[0] if single else action

    __call__ = predict
