"""Heparin dosing protocols for ``hemosim/HeparinInfusion-v0`` (batched, stateful).

Each protocol has ``predict(obs)``: ``obs`` is one observation ``(6,)`` or a batch
``(N, 6)``; the result is the env action ``(2,)`` or ``(N, 2)`` float32 (rate / 2500 U/h,
bolus / (80 U/kg x weight)). The protocols read only what the observation shows:
the measured aPTT ``20 + 180 * obs[0]`` s, the measured anti-Xa level ``obs[1]``
IU/mL, the weight ``40 + 140 * obs[2]`` kg and the hours ``120 * obs[5]``. A row whose
hours are 0 is a new patient (also after a vector env's autoreset) and gets the
protocol's starting dose. The protocols remember the *nominal* current rate of every
row (the nomograms change the rate around the current rate).

Holds. The env holds a rate for the whole 6-h step. "Hold the infusion for 60 min,
then decrease by 3 U/kg/h" is delivered as the dose-equivalent mean rate over the step
(``new rate x 5/6``); the nominal rate remembered for the next step is the new rate.
Rates are capped at the env's 2,500 U/h, boluses at 80 U/kg (the action's maximum).

Protocols
---------
* :class:`RaschkeNomogram`: Raschke 1993 Ann Intern Med 119:874, weight-based: 80 U/kg
  bolus + 18 U/kg/h, then (aPTT rounded to whole seconds as reported):
  < 35 s: re-bolus 80 U/kg, +4 U/kg/h; 35-45 s: re-bolus 40 U/kg, +2 U/kg/h;
  46-70 s: no change; 71-90 s: -2 U/kg/h; > 90 s: hold 1 h, then -3 U/kg/h
  (FACTS §4.1, checked against the AAFP 2004 and perinatology.com reproductions).
* :class:`StandardCareNomogram`: the trial's control arm, 5,000 U bolus + 1,000 U/h
  (Raschke 1993 abstract). Its adjustment rules are not in any source we could read
  (FACTS §4.5: UNCONFIRMED), so this class uses a stated assumption, fixed before any
  simulation and not tuned to the trial's result: the same aPTT bands with fixed,
  weight-independent steps: < 35 s: re-bolus 5,000 U, +200 U/h; 35-45 s: +100 U/h;
  46-70 s: no change; 71-90 s: -100 U/h; > 90 s: hold 1 h, then -200 U/h.
* :class:`AntiXaNomogram`: University of Michigan VTE heparin nomogram (target anti-Xa
  0.3-0.7 IU/mL, FACTS §4.1): 80 U/kg bolus (max 10,000 U) + 18 U/kg/h (max initial
  1,800 U/h); anti-Xa (reported to 0.01 IU/mL) < 0.2: re-bolus 80 U/kg, +1.5 U/kg/h;
  0.2-0.29: re-bolus 40 U/kg, +1 U/kg/h; 0.3-0.7: no change; 0.71-0.8: -1 U/kg/h;
  0.81-0.99: hold 30 min, -1.5 U/kg/h; >= 1.0: hold 60 min, -3 U/kg/h.
* :class:`ConstantPolicy`: a fixed action (for baselines and tests).
"""

from __future__ import annotations

import numpy as np

# the env's action and observation scales (one definition, in the env module)
from hemosim.envs.heparin import (
    BOLUS_U_PER_KG,
    EPISODE_HOURS,
    MAX_RATE_U_PER_H,
    OBS_APTT_OFFSET_S,
    OBS_APTT_SCALE_S,
    OBS_WEIGHT_OFFSET_KG,
    OBS_WEIGHT_SCALE_KG,
    STEP_HOURS,
)

__all__ = [
    "RaschkeNomogram",
    "StandardCareNomogram",
    "AntiXaNomogram",
    "ConstantPolicy",
    "decode_observation",
]


def decode_observation(obs: np.ndarray) -> dict[str, np.ndarray]:
    """Clinical values shown by a batch of observations ``(N, 6)`` (see the env card)."""
    obs = np.asarray(obs, dtype=np.float64)
    return {
        "aptt_s": OBS_APTT_OFFSET_S + OBS_APTT_SCALE_S * obs[:, 0],
        "anti_xa_iu_per_ml": obs[:, 1],
        "weight_kg": OBS_WEIGHT_OFFSET_KG + OBS_WEIGHT_SCALE_KG * obs[:, 2],
        "hours": EPISODE_HOURS * obs[:, 5],
    }


class _Protocol:
    """Shared batching, state and action encoding of the nomograms."""

    def __init__(self) -> None:
        self.rate_u_per_h: np.ndarray | None = None  # nominal current rate per row

    def reset(self) -> None:
        """Forget every row (the next call starts all rows with their first dose)."""
        self.rate_u_per_h = None

    def predict(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        batch = obs[None] if single else obs
        if batch.ndim != 2 or batch.shape[1] != 6:
            raise ValueError(f"obs must have shape (6,) or (N, 6), got {obs.shape}")
        if not np.all(np.isfinite(batch)):
            raise ValueError(f"obs contains non-finite values {batch[~np.isfinite(batch)][:5]}; observations must be finite")
        n = batch.shape[0]
        if self.rate_u_per_h is None or self.rate_u_per_h.shape[0] != n:
            self.rate_u_per_h = np.zeros(n)
        v = decode_observation(batch)
        start = v["hours"] <= 1e-9
        rate, bolus, hold_h = self._decide(v, start)
        rate = np.clip(rate, 0.0, MAX_RATE_U_PER_H)
        self.rate_u_per_h = rate
        delivered = rate * (STEP_HOURS - hold_h) / STEP_HOURS
        max_bolus = BOLUS_U_PER_KG * v["weight_kg"]
        action = np.empty((n, 2), dtype=np.float32)
        action[:, 0] = np.clip(delivered / MAX_RATE_U_PER_H, 0.0, 1.0)
        action[:, 1] = np.clip(bolus / max_bolus, 0.0, 1.0)
        return action[0] if single else action

    __call__ = predict

    def _decide(self, v: dict[str, np.ndarray], start: np.ndarray):  # pragma: no cover - abstract
        raise NotImplementedError


class RaschkeNomogram(_Protocol):
    """Raschke 1993 weight-based nomogram (see the module docstring)."""

    def _decide(self, v, start):
        w = v["weight_kg"]
        aptt = np.round(v["aptt_s"])
        cur = self.rate_u_per_h
        bolus_per_kg = np.select([aptt < 35, aptt <= 45], [80.0, 40.0], 0.0)
        change = np.select([aptt < 35, aptt <= 45, aptt <= 70, aptt <= 90], [4.0, 2.0, 0.0, -2.0], -3.0)
        hold = np.where(aptt > 90, 1.0, 0.0)
        rate = cur + change * w
        rate = np.where(start, 18.0 * w, rate)
        bolus = np.where(start, 80.0, bolus_per_kg) * w
        hold = np.where(start, 0.0, hold)
        return rate, bolus, hold


class StandardCareNomogram(_Protocol):
    """Raschke 1993 "standard care" arm: 5,000 U + 1,000 U/h, assumed fixed-unit steps."""

    def _decide(self, v, start):
        aptt = np.round(v["aptt_s"])
        cur = self.rate_u_per_h
        bolus = np.where(aptt < 35, 5000.0, 0.0)
        change = np.select([aptt < 35, aptt <= 45, aptt <= 70, aptt <= 90], [200.0, 100.0, 0.0, -100.0], -200.0)
        hold = np.where(aptt > 90, 1.0, 0.0)
        rate = np.where(start, 1000.0, cur + change)
        bolus = np.where(start, 5000.0, bolus)
        hold = np.where(start, 0.0, hold)
        return rate, bolus, hold


class AntiXaNomogram(_Protocol):
    """University of Michigan anti-Xa-guided VTE nomogram (0.3-0.7 IU/mL)."""

    def _decide(self, v, start):
        w = v["weight_kg"]
        axa = np.round(v["anti_xa_iu_per_ml"], 2)
        cur = self.rate_u_per_h
        bolus_per_kg = np.select([axa < 0.2, axa < 0.3], [80.0, 40.0], 0.0)
        change = np.select(
            [axa < 0.2, axa < 0.3, axa <= 0.7, axa <= 0.8, axa < 1.0], [1.5, 1.0, 0.0, -1.0, -1.5], -3.0
        )
        hold = np.select([axa <= 0.8, axa < 1.0], [0.0, 0.5], 1.0)
        rate = np.where(start, np.minimum(18.0 * w, 1800.0), cur + change * w)
        bolus = np.where(start, np.minimum(80.0 * w, 10000.0), bolus_per_kg * w)
        hold = np.where(start, 0.0, hold)
        return rate, bolus, hold


class ConstantPolicy:
    """Always the same action ``(rate fraction, bolus fraction)``."""

    def __init__(self, rate_fraction: float, bolus_fraction: float = 0.0) -> None:
        for name, x in (("rate_fraction", rate_fraction), ("bolus_fraction", bolus_fraction)):
            if not np.isfinite(x) or not 0.0 <= x <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {x}")
        self.action = np.array([rate_fraction, bolus_fraction], dtype=np.float32)

    def reset(self) -> None:
        return None

    def predict(self, obs: np.ndarray) -> np.ndarray:
        obs = np.asarray(obs)
        if obs.ndim == 1:
            return self.action.copy()
        return np.tile(self.action, (obs.shape[0], 1))

    __call__ = predict
