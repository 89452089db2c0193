"""The Raschke 1993 trial in silico, and protocol time-in-range on held-out patients.

``python -m hemosim.calibration.raschke_trial [--patients 1000] [--first-seed 100000]``

Part 1 (the trial). Every virtual patient (held-out seeds ``100000 ...``) is treated
once with each arm in ``hemosim/HeparinInfusion-v0`` (medium tier: between-patient
variability and assay error): the weight-based nomogram and the "standard care"
nomogram (``hemosim.agents.heparin``), aPTT every 6 h as in the trial. Reported, beside
Raschke RA et al., Ann Intern Med 1993;119:874 (abstract; FACTS §4.5):

* share whose measured aPTT exceeded 1.5 x control (45 s) within 24 h:
  published 60/62 (97 %) weight-based vs 37/48 (77 %) standard care;
* time to exceed the threshold and to reach the range 46-70 s (first 6-hourly sample;
  published: Kaplan-Meier curves favour weight-based, P < 0.001; hours not available).

Part 2 (time in range). Rosendaal TTR of the true aPTT (46-70 s, 6-hourly values,
0-120 h) for the three protocols, uniformly random actions and every constant rate on a
grid, on the same held-out patients.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

__all__ = ["simulate_policy", "sample_outcomes", "trial_outcomes", "trial_table", "ttr_table", "main", "PUBLISHED"]

THRESHOLD_S = 45.0  # 1.5 x control (30 s)
RANGE_S = (46.0, 70.0)
#: Raschke 1993 abstract (FACTS §4.5): exceeded 1.5 x control within 24 h.
PUBLISHED = {"weight_based": (60, 62), "standard_care": (37, 48)}
#: Weight-based arm, the 444 aPTTs of the first 48 h: 17 % below, 65 % in, 18 % above the
#: range (Raschke, Reilly, Guidry et al., letter, Arch Intern Med 1995;155:117; abstract page
#: seen via jamanetwork.com). Not fitted: a second validation target.
PUBLISHED_48H_SAMPLES = {"below": 0.17, "in_range": 0.65, "above": 0.18}


@dataclass
class Course:
    """6-hourly trajectories of a batch of patients under one policy, shape (N, 21)."""

    hours: np.ndarray
    aptt_measured_s: np.ndarray
    aptt_true_s: np.ndarray
    anti_xa: np.ndarray
    rate_u_per_h: np.ndarray
    reward: np.ndarray
    terminated_any: np.ndarray
    truncated_step: np.ndarray


def simulate_policy(policy, n_patients: int, first_seed: int, difficulty: str = "medium") -> Course:
    """Run ``policy`` (``predict(obs (N,6)) -> (N,2)``) for one full episode per patient."""
    import gymnasium as gym

    import hemosim  # noqa: F401  (registers the env)
    from hemosim.envs.heparin import EPISODE_STEPS

    env = gym.make_vec(
        "hemosim/HeparinInfusion-v0", num_envs=n_patients, vectorization_mode="vector_entry_point", difficulty=difficulty
    )
    if hasattr(policy, "reset"):
        policy.reset()
    obs, info = env.reset(seed=first_seed)
    t = EPISODE_STEPS + 1
    out = {k: np.zeros((n_patients, t)) for k in ("hours", "aptt", "aptt_true_s", "anti_xa", "rate_u_per_h")}
    reward = np.zeros((n_patients, EPISODE_STEPS))
    term_any = np.zeros(n_patients, dtype=bool)
    trunc_step = np.full(n_patients, -1)

    def record(j, info):
        for k in out:
            out[k][:, j] = info[k]

    record(0, info)
    for j in range(1, t):
        obs, r, term, trunc, info = env.step(policy.predict(obs))
        record(j, info)
        reward[:, j - 1] = r
        term_any |= term
        trunc_step = np.where(trunc & (trunc_step < 0), j, trunc_step)
    env.close()
    return Course(out["hours"], out["aptt"], out["aptt_true_s"], out["anti_xa"], out["rate_u_per_h"], reward, term_any, trunc_step)


def _first_hour(hours: np.ndarray, hit: np.ndarray) -> np.ndarray:
    idx = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
    return np.where(idx >= 0, hours[np.arange(len(idx)), np.maximum(idx, 0)], np.nan)


def sample_outcomes(hours: np.ndarray, aptt_measured_s: np.ndarray) -> dict[str, float]:
    """Trial end points from 6-hourly samples, shape (N, samples), first sample at 6 h.

    The measured aPTT is rounded to whole seconds, as a laboratory reports it."""
    h = hours
    a = np.round(aptt_measured_s)
    above = a > THRESHOLD_S
    in_range = (a >= RANGE_S[0]) & (a <= RANGE_S[1])
    within24 = (above & (h <= 24.0 + 1e-9)).any(axis=1)
    first48 = h <= 48.0 + 1e-9
    n48 = first48.sum()
    t_above = _first_hour(h, above)
    t_range = _first_hour(h, in_range)
    n = len(within24)
    p = within24.mean()
    return {
        "share_samples_48h_below": float((first48 & (a < RANGE_S[0])).sum() / n48),
        "share_samples_48h_in_range": float((first48 & in_range).sum() / n48),
        "share_samples_48h_above": float((first48 & (a > RANGE_S[1])).sum() / n48),
        "n": n,
        "share_above_24h": p,
        "share_above_24h_se": np.sqrt(p * (1 - p) / n),
        "median_h_to_threshold": float(np.nanmedian(t_above)) if np.isfinite(t_above).any() else np.nan,
        "mean_h_to_threshold": float(np.nanmean(t_above)) if np.isfinite(t_above).any() else np.nan,
        "median_h_to_range": float(np.nanmedian(t_range)) if np.isfinite(t_range).any() else np.nan,
        "mean_h_to_range": float(np.nanmean(t_range)) if np.isfinite(t_range).any() else np.nan,
        "share_reached_range_24h": float((in_range & (h <= 24.0 + 1e-9)).any(axis=1).mean()),
    }


def trial_outcomes(course: Course) -> dict[str, float]:
    """Trial end points of a course (:func:`sample_outcomes` on the samples at 6, 12, ... h)."""
    return sample_outcomes(course.hours[:, 1:], course.aptt_measured_s[:, 1:])


def ttr(course: Course, measured: bool = False) -> np.ndarray:
    """Per-patient Rosendaal TTR (46-70 s) over 0-120 h on the 6-hourly aPTT."""
    from hemosim.metrics import rosendaal_ttr

    values = course.aptt_measured_s if measured else course.aptt_true_s
    return rosendaal_ttr(course.hours, values, RANGE_S[0], RANGE_S[1], max_gap=None)


def trial_table(n_patients: int = 1000, first_seed: int = 100000) -> tuple[str, dict]:
    from hemosim.agents.heparin import RaschkeNomogram, StandardCareNomogram
    from hemosim.reproducibility import assert_held_out

    assert_held_out(range(first_seed, first_seed + n_patients))
    res = {}
    for arm, pol in (("weight_based", RaschkeNomogram()), ("standard_care", StandardCareNomogram())):
        res[arm] = trial_outcomes(simulate_policy(pol, n_patients, first_seed))
    lines = [
        f"Raschke 1993 in silico: {n_patients} held-out virtual patients per arm (seeds {first_seed}-{first_seed + n_patients - 1}), medium tier",
        "",
        "| end point | weight-based (sim) | weight-based (published) | standard care (sim) | standard care (published) |",
        "|---|---|---|---|---|",
    ]
    wb, sc = res["weight_based"], res["standard_care"]
    (a1, n1), (a2, n2) = PUBLISHED["weight_based"], PUBLISHED["standard_care"]
    lines.append(
        f"| aPTT > 1.5 x control within 24 h | {100 * wb['share_above_24h']:.1f} % (SE {100 * wb['share_above_24h_se']:.1f}) "
        f"| {a1}/{n1} ({100 * a1 / n1:.0f} %) | {100 * sc['share_above_24h']:.1f} % (SE {100 * sc['share_above_24h_se']:.1f}) "
        f"| {a2}/{n2} ({100 * a2 / n2:.0f} %) |"
    )
    lines.append(
        f"| median (mean) h to exceed threshold | {wb['median_h_to_threshold']:.0f} ({wb['mean_h_to_threshold']:.1f}) | "
        f"shorter, P < 0.001 (hours not available) | {sc['median_h_to_threshold']:.0f} ({sc['mean_h_to_threshold']:.1f}) | -- |"
    )
    lines.append(
        f"| median (mean) h to range 46-70 s | {wb['median_h_to_range']:.0f} ({wb['mean_h_to_range']:.1f}) | "
        f"shorter, P < 0.001 (hours not available) | {sc['median_h_to_range']:.0f} ({sc['mean_h_to_range']:.1f}) | -- |"
    )
    lines.append(
        f"| in range 46-70 s at some sample by 24 h | {100 * wb['share_reached_range_24h']:.1f} % | -- | "
        f"{100 * sc['share_reached_range_24h']:.1f} % | -- |"
    )
    pub = PUBLISHED_48H_SAMPLES
    lines.append(
        f"| aPTT samples 6-48 h below / in / above 46-70 s | {100 * wb['share_samples_48h_below']:.0f} / "
        f"{100 * wb['share_samples_48h_in_range']:.0f} / {100 * wb['share_samples_48h_above']:.0f} % | "
        f"{100 * pub['below']:.0f} / {100 * pub['in_range']:.0f} / {100 * pub['above']:.0f} % (Raschke 1995 letter, 444 aPTTs) | "
        f"{100 * sc['share_samples_48h_below']:.0f} / {100 * sc['share_samples_48h_in_range']:.0f} / "
        f"{100 * sc['share_samples_48h_above']:.0f} % | -- |"
    )
    return "\n".join(lines), res


def ttr_table(n_patients: int = 1000, first_seed: int = 100000, rate_grid: np.ndarray | None = None) -> tuple[str, dict]:
    from hemosim.agents.heparin import AntiXaNomogram, ConstantPolicy, RaschkeNomogram, StandardCareNomogram
    from hemosim.agents.policies import RandomPolicy
    from hemosim.envs.heparin import MAX_RATE_U_PER_H, HeparinSimulator
    from hemosim.reproducibility import assert_held_out

    assert_held_out(range(first_seed, first_seed + n_patients))
    if rate_grid is None:
        rate_grid = np.round(np.arange(0.0, 1.0001, 0.05), 2)
    policies = {
        "Raschke weight-based nomogram": RaschkeNomogram(),
        "standard care (5000 U + 1000 U/h, assumed steps)": StandardCareNomogram(),
        "anti-Xa nomogram (0.3-0.7 IU/mL)": AntiXaNomogram(),
        # one generator for the whole batch, restarted by simulate_policy's reset(); on the
        # Box(0, 1) action space its draws equal default_rng(12345).random((N, 2)) exactly
        "uniformly random actions": RandomPolicy(HeparinSimulator.action_space, seed=12345),
    }
    for f in rate_grid:
        policies[f"constant {MAX_RATE_U_PER_H * f:.0f} U/h, no bolus"] = ConstantPolicy(float(f), 0.0)
    res = {}
    for name, pol in policies.items():
        c = simulate_policy(pol, n_patients, first_seed)
        res[name] = {
            "ttr": float(np.nanmean(ttr(c))),
            "ttr_measured": float(np.nanmean(ttr(c, measured=True))),
            "return": float(c.reward.sum(axis=1).mean()),
            "terminated_any": bool(c.terminated_any.any()),
            "first_step_end": int((c.truncated_step == 1).sum()),
        }
    lines = [
        f"Time in range 46-70 s (Rosendaal, true 6-hourly aPTT, 0-120 h), {n_patients} held-out patients (seeds {first_seed}-{first_seed + n_patients - 1})",
        "",
        "| policy | TTR true aPTT | TTR measured aPTT | mean return |",
        "|---|---|---|---|",
    ]
    for name, r in res.items():
        lines.append(f"| {name} | {100 * r['ttr']:.1f} % | {100 * r['ttr_measured']:.1f} % | {r['return']:.2f} |")
    const = {k: v for k, v in res.items() if k.startswith("constant")}
    best = max(const, key=lambda k: const[k]["ttr"])
    lines.append("")
    lines.append(f"Best constant rate: {best} ({100 * const[best]['ttr']:.1f} %). "
                 f"Episodes ending at the first step: {sum(r['first_step_end'] for r in res.values())}; "
                 f"terminated episodes: {sum(r['terminated_any'] for r in res.values())}.")
    return "\n".join(lines), res


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hemosim.calibration.raschke_trial", description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=100000)
    parser.add_argument("--skip-ttr", action="store_true", help="only the trial table")
    parser.add_argument("--json", default=None, help="also write both tables' numbers to this JSON file")
    args = parser.parse_args(argv)
    if args.patients < 1:
        parser.error(f"--patients must be >= 1, got {args.patients}")
    text, trial = trial_table(args.patients, args.first_seed)
    print(text)
    result: dict = {"n_patients": args.patients, "first_seed": args.first_seed, "trial": trial}
    if not args.skip_ttr:
        print()
        text, result["ttr"] = ttr_table(args.patients, args.first_seed)
        print(text)
    if args.json:
        from hemosim.calibration.results_json import write_json

        write_json(args.json, result)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
