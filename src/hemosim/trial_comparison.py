"""EU-PACT and COAG arms against the simulated protocols that imitate them (validation only).

Each trial arm is compared, in the trial's own TTR window, with the protocol of
:mod:`hemosim.agents.warfarin_trials` that follows its dosing rules, on the held-out patients.
Nothing here is fitted.

Published arms (FACTS §2.5): EU-PACT (Pirmohamed 2013 N Engl J Med 369:2294), TTR weeks 0-12:
genotype-guided 67.4 %, standard dosing 60.3 %, adjusted difference 7.0 points (95 % CI
3.3-10.6). COAG (Kimmel 2013 N Engl J Med 369:2283), TTR days 4-28: genotype-guided 45.2 %,
clinical algorithm 45.4 %, difference -0.2 (95 % CI -3.4 to 3.1).

Two TTRs per arm:

* ``true``: Rosendaal on the daily true INR (the rest of hemosim's TTRs).
* ``measured``: the trials' method, Rosendaal linear interpolation between the INRs that were
  measured (FACTS §3.1): here the baseline (day-0) measured INR and every INR the protocol
  read at its checks, interpolated over the window (it starts and ends at the window's
  edges when checks lie on both sides).

Index convention: position ``k`` of the rollout's INR is the morning after ``k`` doses, and
a check of therapy day ``d`` reads position ``d - 1``; the windows are positions 0-84
(EU-PACT weeks 0-12) and 4-28 (COAG days 4-28), as in :func:`hemosim.evaluation.summarise_warfarin`.

Populations: each trial's arms run on that trial's own patients (``population="trial"``, the
default): the calibrated model with the covariates the trial reported, presets ``"eu_pact"`` and
``"coag"`` of :mod:`hemosim.patients.warfarin` (sources there). ``population="default"`` runs every
arm on the env's default population (``"calibrated"``: the IWPC ancestry mix, 30 % East Asian),
for comparison; any other preset name runs every arm on that preset.

Conditions: ``"medium"`` (the default tier: exact daily INR, no within-patient variability)
and ``"trial"``: the hard tier without its missed doses (INR assay CV 4 %, daily dietary
vitamin-K variability, amiodarone started mid-course in 10 %; ``missed_dose_probability`` = 0),
because both trials excluded patients likely to be non-adherent (COAG exclusion 9,
"any factors likely to limit adherence to warfarin", Kimmel 2013 Am Heart J 166:435,
PMC4415273 Table I) while the hard tier's 18.8 % missed days come from a non-trial cohort
(Parker 2007).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from hemosim.evaluation import WarfarinRollout, rollout_warfarin
from hemosim.metrics import rosendaal_ttr

__all__ = ["TrialArm", "TRIAL_ARMS", "TRIAL_DIFFERENCES", "CONDITIONS", "POPULATION_CHOICES", "measured_inr_ttr",
           "true_inr_ttr", "compare_trial_arms", "trial_arm_policies", "format_comparison",
           "format_population_comparison"]


@dataclass(frozen=True)
class TrialArm:
    """One published trial arm and the protocol that imitates it."""

    key: str
    label: str
    window: tuple[int, int]  # rollout positions, inclusive
    published_ttr_percent: float
    policy: str  # name of the imitating policy (see _POLICIES)
    population: str  # the trial's own patients: a preset of hemosim.patients.warfarin.POPULATIONS


TRIAL_ARMS: tuple[TrialArm, ...] = (
    TrialArm("eu_pact_genotype", "EU-PACT genotype-guided (Pirmohamed 2013), weeks 0-12", (0, 84), 67.4,
             "EU-PACT genotype arm (IWPC PG + loading + Lenzini day 4)", "eu_pact"),
    TrialArm("eu_pact_standard", "EU-PACT standard dosing (Pirmohamed 2013), weeks 0-12", (0, 84), 60.3,
             "EU-PACT standard arm (10/5/5 mg + Lenzini clinical day 4)", "eu_pact"),
    TrialArm("coag_genotype", "COAG genotype-guided (Kimmel 2013), days 4-28", (4, 28), 45.2,
             "COAG genotype arm (Gage PG + Lenzini PG day 4)", "coag"),
    TrialArm("coag_clinical", "COAG clinical algorithm (Kimmel 2013), days 4-28", (4, 28), 45.4,
             "COAG clinical arm (Gage clinical + Lenzini clinical day 4)", "coag"),
)

#: (name, genotype arm key, comparator key, published difference, 95 % CI)
TRIAL_DIFFERENCES: tuple[tuple[str, str, str, float, tuple[float, float]], ...] = (
    ("EU-PACT genotype - standard", "eu_pact_genotype", "eu_pact_standard", 7.0, (3.3, 10.6)),
    ("COAG genotype - clinical", "coag_genotype", "coag_clinical", -0.2, (-3.4, 3.1)),
)

#: Conditions of the comparison (see the module docstring).
CONDITIONS = ("medium", "trial")

#: ``population`` choices besides a preset name: each trial's own preset, or the env's default.
POPULATION_CHOICES = ("trial", "default")


def _arm_population(choice: str, arm: TrialArm) -> str | None:
    """The preset an arm runs on under ``choice`` (``None``: the env's default population)."""
    from hemosim.patients.warfarin import POPULATIONS

    if choice == "trial":
        return arm.population
    if choice == "default":
        return None
    if choice in POPULATIONS:
        return choice
    raise ValueError(f"population {choice!r} is not recognised; allowed: "
                     + ", ".join(repr(c) for c in (*POPULATION_CHOICES, *sorted(POPULATIONS))))


def trial_arm_policies() -> dict[str, Callable[[], Any]]:
    """The imitating protocols, by the names used in :data:`TRIAL_ARMS`."""
    from hemosim.agents.warfarin_trials import COAGClinicalArm, COAGGenotypeArm, EUPACTGenotypeArm, EUPACTStandardArm

    return {
        "EU-PACT genotype arm (IWPC PG + loading + Lenzini day 4)": lambda: EUPACTGenotypeArm(seed=0),
        "EU-PACT standard arm (10/5/5 mg + Lenzini clinical day 4)": lambda: EUPACTStandardArm(seed=0),
        "COAG genotype arm (Gage PG + Lenzini PG day 4)": lambda: COAGGenotypeArm(seed=0),
        "COAG clinical arm (Gage clinical + Lenzini clinical day 4)": lambda: COAGClinicalArm(seed=0),
    }


def _condition(name: str, n: int) -> tuple[str, dict[str, Any] | None]:
    if name == "medium":
        return "medium", None
    if name == "trial":
        return "hard", {"scenario": {"missed_dose_probability": np.zeros(n)}}
    raise ValueError(f"condition {name!r} is not recognised; allowed: {', '.join(CONDITIONS)}")


def true_inr_ttr(r: WarfarinRollout, window: tuple[int, int]) -> np.ndarray:
    """Per-patient Rosendaal TTR (%) on the daily true INR over rollout positions ``window``."""
    lo, hi = window
    days = np.arange(r.inr.shape[1], dtype=np.float64)
    return 100 * rosendaal_ttr(days[lo:hi + 1], r.inr[:, lo:hi + 1], r.target_low, r.target_high)


def measured_inr_ttr(check_log: Sequence[Sequence[tuple[int, float]]], baseline_inr: np.ndarray,
                     window: tuple[int, int], low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Per-patient TTR (%) by Rosendaal interpolation between the measured INRs (trial method).

    Args:
        check_log: per patient, the (therapy day, INR read) pairs of the protocol's checks.
        baseline_inr: measured INR before the first dose (position 0), per patient.
        window: rollout positions (inclusive); the interpolated series is cut at its edges.
        low, high: target range per patient.
    Returns NaN for a patient whose measured INRs do not span any of the window.
    """
    lo, hi = window
    if lo < 0 or hi <= lo:
        raise ValueError(f"window must be (lo, hi) with 0 <= lo < hi; got {window!r}")
    out = np.full(len(check_log), np.nan)
    for i, log in enumerate(check_log):
        t = np.array([0.0] + [d - 1.0 for d, _ in log])
        v = np.array([float(baseline_inr[i])] + [x for _, x in log])
        a, b = max(lo, t[0]), min(hi, t[-1])
        if b <= a:
            continue
        inside = (t > a) & (t < b)
        tt = np.concatenate([[a], t[inside], [b]])
        vv = np.interp(tt, t, v)
        out[i] = 100 * rosendaal_ttr(tt, vv[None, :], low[i], high[i])[0]
    return out


def _mean_ci(x: np.ndarray) -> dict[str, Any]:
    x = x[np.isfinite(x)]
    m = float(np.mean(x))
    half = 1.96 * float(np.std(x, ddof=1)) / np.sqrt(len(x))
    return {"mean": m, "ci95": [m - half, m + half], "n": int(len(x))}


def compare_trial_arms(seeds: Sequence[int], condition: str = "trial",
                       policies: dict[str, Callable[[], Any]] | None = None,
                       population: str = "trial") -> dict[str, Any]:
    """Simulate every imitating protocol on ``seeds`` under ``condition``; TTRs per arm and differences.

    ``policies`` replaces the imitations by name (keys of :func:`trial_arm_policies`), for
    sensitivity runs; the result then names the class that ran (and its ``revision``, if any).
    ``population``: ``"trial"`` (default: each arm on its trial's preset, :attr:`TrialArm.population`),
    ``"default"`` (every arm on the env's default population) or a preset name for every arm.
    Patient ``i`` is drawn from seed ``seeds[i]`` whatever the population.
    """
    seeds = list(seeds)
    difficulty, options = _condition(condition, len(seeds))
    ran_on = {arm.key: _arm_population(population, arm) for arm in TRIAL_ARMS}
    makers = policies if policies is not None else trial_arm_policies()
    arms: dict[str, Any] = {}
    for arm in TRIAL_ARMS:
        made: list[Any] = []
        r = rollout_warfarin(lambda: made.append(makers[arm.policy]()) or made[-1], seeds, difficulty=difficulty,
                             options=options, population=ran_on[arm.key])
        true = true_inr_ttr(r, arm.window)
        measured = measured_inr_ttr(made[0].check_log, r.inr_measured[:, 0], arm.window, r.target_low, r.target_high)
        ran = arm.policy if policies is None else (
            type(made[0]).__name__ + (f"(revision={made[0].revision!r})" if hasattr(made[0], "revision") else ""))
        arms[arm.key] = {"label": arm.label, "policy": ran, "window": list(arm.window),
                         "population": ran_on[arm.key] or "default (calibrated)",
                         "published_ttr_percent": arm.published_ttr_percent,
                         "true_inr_ttr_percent": _mean_ci(true), "measured_inr_ttr_percent": _mean_ci(measured),
                         "checks_per_patient": float(np.mean([len(log) for log in made[0].check_log]))}
    diffs = {}
    for name, g, c, published, ci in TRIAL_DIFFERENCES:
        diffs[name] = {"published": published, "published_ci95": list(ci),
                       **{k: arms[g][k]["mean"] - arms[c][k]["mean"]
                          for k in ("true_inr_ttr_percent", "measured_inr_ttr_percent")}}
    return {"condition": condition, "difficulty": difficulty, "population": population,
            "scenario": None if options is None else {"missed_dose_probability": 0.0},
            "n_patients": len(seeds), "arms": arms, "differences": diffs}


def format_comparison(result: dict[str, Any]) -> str:
    """A plain-text table of :func:`compare_trial_arms`'s result."""
    cond = ("medium tier (exact daily INR)" if result["condition"] == "medium" else
            "trial conditions (hard tier without missed doses: assay CV 4 %, vitamin-K variability, amiodarone)")
    pop = {"trial": "each trial's own population (presets eu_pact, coag)",
           "default": "the default population (calibrated, IWPC ancestry mix)"}.get(
        result.get("population", "default"), f"population {result.get('population')!r}")
    lines = [f"Trial arms vs their imitations, {cond}, {pop}, {result['n_patients']} held-out patients",
             f"{'trial arm':55s} {'published':>9s} {'measured INR':>12s} {'true INR':>9s} {'resid.':>7s}"
             "  imitating policy"]
    for a in result["arms"].values():
        m, t = a["measured_inr_ttr_percent"]["mean"], a["true_inr_ttr_percent"]["mean"]
        lines.append(f"{a['label']:55s} {a['published_ttr_percent']:9.1f} {m:12.1f} {t:9.1f} "
                     f"{m - a['published_ttr_percent']:+7.1f}  {a['policy']}")
    for name, d in result["differences"].items():
        lo, hi = d["published_ci95"]
        lines.append(f"{'difference ' + name:55s} {d['published']:+9.1f} {d['measured_inr_ttr_percent']:+12.1f} "
                     f"{d['true_inr_ttr_percent']:+9.1f}   (published 95 % CI {lo:+.1f} to {hi:+.1f})")
    lines.append("measured INR: Rosendaal between the INRs the protocol measured (trial method); "
                 "true INR: daily true INR; resid. = measured - published")
    return "\n".join(lines)


def format_population_comparison(default: dict[str, Any], trial: dict[str, Any]) -> str:
    """Measured-INR TTR of every arm and difference on the default and on the trial populations,
    side by side (two :func:`compare_trial_arms` results of the same condition and seeds)."""
    if default["condition"] != trial["condition"] or default["n_patients"] != trial["n_patients"]:
        raise ValueError("the two results must share condition and patients; got "
                         f"{default['condition']!r}/{default['n_patients']} and {trial['condition']!r}/{trial['n_patients']}")
    lines = [f"Trial arms, measured-INR TTR (%), default vs trial population, condition {trial['condition']!r}, "
             f"{trial['n_patients']} held-out patients",
             f"{'trial arm':55s} {'published':>9s} {'default pop':>11s} {'trial pop':>9s} {'resid.':>7s}  trial population"]
    for key, a in trial["arms"].items():
        d = default["arms"][key]["measured_inr_ttr_percent"]["mean"]
        t = a["measured_inr_ttr_percent"]["mean"]
        lines.append(f"{a['label']:55s} {a['published_ttr_percent']:9.1f} {d:11.1f} {t:9.1f} "
                     f"{t - a['published_ttr_percent']:+7.1f}  {a['population']}")
    for name, x in trial["differences"].items():
        lo, hi = x["published_ci95"]
        lines.append(f"{'difference ' + name:55s} {x['published']:+9.1f} "
                     f"{default['differences'][name]['measured_inr_ttr_percent']:+11.1f} "
                     f"{x['measured_inr_ttr_percent']:+9.1f}   (published 95 % CI {lo:+.1f} to {hi:+.1f})")
    lines.append("resid. = trial population - published; default pop = calibrated (IWPC ancestry mix); "
                 "trial pop = eu_pact / coag presets (hemosim.patients.warfarin)")
    return "\n".join(lines)
