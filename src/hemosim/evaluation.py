"""Evaluate dosing policies on held-out virtual patients in the native vector env.

A policy is any object with ``predict(obs, info) -> actions`` over a batch (the
baselines in ``hemosim.agents`` are batched and stateful). The rollout records the
daily true INR, the measured INR and the doses, and the summary uses the clinical
metrics of ``hemosim.metrics`` (Rosendaal TTR on the daily true INR).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import gymnasium as gym
import numpy as np

from hemosim.envs.warfarin import EPISODE_DAYS
from hemosim.metrics import rosendaal_ttr
from hemosim.reproducibility import assert_held_out

__all__ = ["WarfarinRollout", "rollout_warfarin", "summarise_warfarin", "GENOTYPE_GROUPS"]


@dataclass
class WarfarinRollout:
    """Daily arrays, shape ``(N, days + 1)`` (column 0 = before the first dose)."""

    inr: np.ndarray
    inr_measured: np.ndarray
    dose_mg: np.ndarray  # (N, days): dose prescribed on each day
    patient: dict[str, np.ndarray]
    target_low: np.ndarray
    target_high: np.ndarray
    reward: np.ndarray  # (N,) episode return


def rollout_warfarin(
    make_policy: Callable[[], Any],
    seeds: Iterable[int],
    *,
    difficulty: str = "medium",
    progress: Callable[[int], None] | None = None,
    options: Mapping[str, Any] | None = None,
    population: str | None = None,
) -> WarfarinRollout:
    """Run one 90-day episode per seed (patient ``i`` is the single env seeded ``seeds[i]``).

    ``options``: the vector env's reset options (e.g. ``{"scenario": {"missed_dose_probability":
    [0.0] * n}}``, the hard tier without missed doses); ``None`` = the tier's own draws.
    ``population``: a name in ``hemosim.patients.warfarin.POPULATIONS`` (e.g. ``"eu_pact"``);
    ``None`` = the env's default population.
    """
    seeds = list(seeds)
    assert_held_out(seeds)
    n = len(seeds)
    env = gym.make_vec("hemosim/WarfarinDosing-v0", num_envs=n, vectorization_mode="vector_entry_point",
                       difficulty=difficulty, **({} if population is None else {"population": population}))
    obs, info = env.reset(seed=seeds, options=None if options is None else dict(options))
    policy = make_policy()
    days = EPISODE_DAYS
    inr = np.empty((n, days + 1))
    inr_measured = np.empty((n, days + 1))
    dose = np.empty((n, days))
    inr[:, 0], inr_measured[:, 0] = info["inr"], info["inr_measured"]
    patient = {k: v for k, v in info["patient"].items() if not k.startswith("_")}
    target_low, target_high = info["target_inr_low"], info["target_inr_high"]
    ret = np.zeros(n)
    for d in range(days):
        action = np.asarray(policy.predict(obs, info), dtype=np.float32).reshape(n, 1)
        obs, reward, term, trunc, info = env.step(action)
        ret += reward
        inr[:, d + 1], inr_measured[:, d + 1], dose[:, d] = info["inr"], info["inr_measured"], info["dose_mg"]
        if progress is not None:
            progress(1)
    env.close()
    return WarfarinRollout(inr, inr_measured, dose, patient, target_low, target_high, ret)


#: Genotype groups for the maintenance-dose table: VKORC1 x (CYP2C9 *1/*1, *2 carrier, *3 carrier).
GENOTYPE_GROUPS = [(v, c) for v in ("GG", "GA", "AA") for c in ("*1/*1", "*2 carrier", "*3 carrier")]


def _cyp_group(cyp: np.ndarray) -> np.ndarray:
    cyp = np.asarray(cyp, dtype=object)
    return np.where(cyp == "*1/*1", "*1/*1", np.where(np.char.find(cyp.astype(str), "3") >= 0, "*3 carrier", "*2 carrier"))


def _mean_ci(x: np.ndarray) -> tuple[float, float, float]:
    x = x[np.isfinite(x)]
    m = float(np.mean(x))
    half = 1.96 * float(np.std(x, ddof=1)) / np.sqrt(len(x)) if len(x) > 1 else float("nan")
    return m, m - half, m + half


def summarise_warfarin(r: WarfarinRollout) -> dict[str, Any]:
    """TTR (days 1-90 and weeks 0-12), extreme-INR time and maintenance dose by genotype."""
    days = np.arange(r.inr.shape[1], dtype=np.float64)
    ttr90 = rosendaal_ttr(days, r.inr, r.target_low, r.target_high)
    ttr84 = rosendaal_ttr(days[:85], r.inr[:, :85], r.target_low, r.target_high)
    ttr_4_28 = rosendaal_ttr(days[4:29], r.inr[:, 4:29], r.target_low, r.target_high)  # COAG's window
    daily = r.inr[:, 1:]
    maintenance = r.dose_mg[:, -28:].mean(axis=1)  # mean dose over the last 4 weeks
    groups = {}
    cyp_group = _cyp_group(r.patient["cyp2c9"])
    for v, c in GENOTYPE_GROUPS:
        sel = (np.asarray(r.patient["vkorc1"]) == v) & (cyp_group == c)
        groups[f"{v} {c}"] = {"n": int(sel.sum()), "mean_dose_mg_per_day": float(maintenance[sel].mean()) if sel.any() else None}
    m90, lo90, hi90 = _mean_ci(100 * ttr90)
    m84, lo84, hi84 = _mean_ci(100 * ttr84)
    m428, lo428, hi428 = _mean_ci(100 * ttr_4_28)
    return {
        "n_patients": int(r.inr.shape[0]),
        "ttr_percent": {"mean": m90, "ci95": [lo90, hi90]},
        "ttr_12_weeks_percent": {"mean": m84, "ci95": [lo84, hi84]},
        "ttr_days_4_28_percent": {"mean": m428, "ci95": [lo428, hi428]},
        "percent_days_inr_above_4": float(100 * np.mean(daily > 4.0)),
        "percent_days_inr_below_1_5": float(100 * np.mean(daily < 1.5)),
        "percent_patients_any_inr_above_4": float(100 * np.mean((daily > 4.0).any(axis=1))),
        "mean_return": float(np.mean(r.reward)),
        "maintenance_dose_by_genotype": groups,
        "median_days_to_first_therapeutic_inr": float(np.median(_first_in_range_day(r))),
    }


def _first_in_range_day(r: WarfarinRollout) -> np.ndarray:
    inr = r.inr[:, 1:]
    ok = (inr >= r.target_low[:, None]) & (inr <= r.target_high[:, None])
    first = np.where(ok.any(axis=1), ok.argmax(axis=1) + 1, inr.shape[1] + 1)
    return first.astype(float)
