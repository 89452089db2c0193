"""Laboratory-ordering baselines of ``HeparinInfusion-POMDP-v0`` on the held-out patients.

``hemosim calibrate heparin-pomdp [--patients 1000] [--first-seed 100000] [--out DIR]``
(also ``python -m hemosim.calibration.heparin_pomdp``) writes ``DIR/heparin_pomdp.txt``
and ``DIR/heparin_pomdp.json`` (``hemosim reproduce``: ``results/heparin_pomdp/``; its
log, the same table, is ``results/heparin_pomdp.txt``).

Every policy of ``hemosim.agents.heparin_pomdp`` treats the same held-out patients
(seeds ``100000 ...``, medium tier) for 120 h. Reported per policy: Rosendaal TTR of the
TRUE aPTT (46-70 s) on the hourly values and on the 6-hourly values (0, 6, ..., 120 h,
the resolution of ``HeparinInfusion-v0``), tests per patient-day (by test), laboratory
cost per patient (CHF), the clinical return (reward without the test cost), the return
with the default test-cost weight, and clinical events (patients with >= 1 major bleed /
recurrent thromboembolism in 5 days, and the mean safety cost of ``info["cost"]``).

The delay penalty is measured, not assumed: the Raschke nomogram on its schedule is run
(a) in ``HeparinInfusion-v0`` (6-h decisions, a result at every decision, no delay), (b)
in the POMDP with ``turnaround="none"`` (each result at the next hourly decision) and
(c) with the sampled turnarounds, routine and STAT. (a) - (b) is the cost of the
published schedule (daily aPTT once stable, a result an hour after the draw); (b) - (c)
is the cost of laboratory turnaround.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["simulate", "evaluate", "main"]

RANGE_S = (46.0, 70.0)


def simulate(policy, n_patients: int, first_seed: int, **env_options) -> dict[str, np.ndarray]:
    """One 120-h episode per patient: hourly true aPTT ``(N, 121)``, tests and costs ``(N,)``."""
    import gymnasium as gym

    import hemosim  # noqa: F401  (registers the env)
    from hemosim.envs.heparin_pomdp import EPISODE_STEPS, LAB_TESTS

    env = gym.make_vec(
        "hemosim/HeparinInfusion-POMDP-v0", num_envs=n_patients, vectorization_mode="vector_entry_point", **env_options
    )
    if hasattr(policy, "reset"):
        policy.reset()
    obs, info = env.reset(seed=first_seed)
    aptt = np.zeros((n_patients, EPISODE_STEPS + 1))
    aptt[:, 0] = info["aptt_true_s"]
    tests = {name: np.zeros(n_patients) for name in LAB_TESTS}
    stat = np.zeros(n_patients)
    cost = np.zeros(n_patients)
    clinical = np.zeros(n_patients)
    ret = np.zeros(n_patients)
    bleed = np.zeros(n_patients, dtype=bool)
    te = np.zeros(n_patients, dtype=bool)
    safety_cost = np.zeros(n_patients)
    for j in range(1, EPISODE_STEPS + 1):
        obs, r, term, trunc, info = env.step(policy.predict(obs))
        aptt[:, j] = info["aptt_true_s"]
        for name in LAB_TESTS:
            tests[name] += info[f"{name}_ordered"] > 0
            stat += info[f"{name}_ordered"] == 2
        cost += info["lab_cost_chf"]
        bleed |= info["events"]["major_bleeding"]
        te |= info["events"]["thromboembolism"]
        safety_cost += info["cost"]
        ret += r
        clinical += r - info["reward_lab_cost"]
        if term.any():
            raise AssertionError("HeparinInfusion-POMDP-v0 never terminates")
    if not trunc.all():
        raise AssertionError("every episode must end at 120 h")
    env.close()
    return {"aptt_true_s": aptt, "tests": tests, "stat_tests": stat, "lab_cost_chf": cost, "clinical_return": clinical, "return": ret,
            "major_bleeding": bleed, "thromboembolism": te, "safety_cost": safety_cost}


def _ttr(aptt: np.ndarray, every_h: int) -> np.ndarray:
    from hemosim.metrics import rosendaal_ttr

    values = aptt[:, ::every_h]
    hours = np.arange(values.shape[1], dtype=float) * every_h
    return rosendaal_ttr(hours, values, RANGE_S[0], RANGE_S[1], max_gap=None)


def _row(name: str, sim: dict[str, np.ndarray]) -> dict:
    days = 5.0
    tests = {k: float(v.mean() / days) for k, v in sim["tests"].items()}
    ttr1 = _ttr(sim["aptt_true_s"], 1)
    return {
        "policy": name,
        "ttr_hourly_pct": 100.0 * float(ttr1.mean()),
        "ttr_hourly_se_pct": 100.0 * float(ttr1.std(ddof=1) / np.sqrt(len(ttr1))),
        "ttr_6h_pct": 100.0 * float(_ttr(sim["aptt_true_s"], 6).mean()),
        "tests_per_patient_day": float(sum(tests.values())),
        "tests_per_patient_day_by_test": tests,
        "stat_share": float(sim["stat_tests"].sum() / max(sum(v.sum() for v in sim["tests"].values()), 1.0)),
        "lab_cost_chf_per_patient": float(sim["lab_cost_chf"].mean()),
        "clinical_return": float(sim["clinical_return"].mean()),
        "return": float(sim["return"].mean()),
        "events": (f"major bleeding {100.0 * sim['major_bleeding'].mean():.1f} %, recurrent TE "
                   f"{100.0 * sim['thromboembolism'].mean():.1f} %, cost {sim['safety_cost'].mean():.2f}"),
    }


def evaluate(n_patients: int = 1000, first_seed: int = 100000) -> dict:
    """Every baseline on the same held-out patients (medium tier); see the module docstring."""
    from hemosim.agents.heparin import RaschkeNomogram
    from hemosim.agents.heparin_pomdp import NoLab, ScheduledAntiXa, ScheduledRaschke, StatEverythingHourly
    from hemosim.calibration.raschke_trial import simulate_policy, ttr
    from hemosim.reproducibility import assert_held_out

    assert_held_out([first_seed, first_seed + n_patients - 1])
    rows = []
    runs = [
        ("Raschke nomogram, aPTT on schedule, routine", ScheduledRaschke("routine"), {}),
        ("Raschke nomogram, aPTT on schedule, STAT", ScheduledRaschke("stat"), {}),
        ("Raschke nomogram, on schedule, no turnaround (oracle)", ScheduledRaschke("routine"), {"turnaround": "none"}),
        ("anti-Xa nomogram (Michigan), anti-Xa q6h", ScheduledAntiXa(), {}),
        ("STAT everything every hour (Raschke dosing)", StatEverythingHourly(), {}),
        ("no laboratory (80 U/kg + 18 U/kg/h held)", NoLab(), {}),
    ]
    for name, policy, opts in runs:
        rows.append(_row(name, simulate(policy, n_patients, first_seed, **opts)))
    full = simulate_policy(RaschkeNomogram(), n_patients, first_seed)
    full_ttr = ttr(full)
    reference = {
        "policy": "Raschke nomogram in HeparinInfusion-v0 (6-h decisions, aPTT every 6 h, no delay)",
        "ttr_6h_pct": 100.0 * float(full_ttr.mean()),
        "ttr_6h_se_pct": 100.0 * float(full_ttr.std(ddof=1) / np.sqrt(len(full_ttr))),
        "tests_per_patient_day": 4.0,
        "clinical_return": float(full.reward.sum(axis=1).mean()),
    }
    by = {r["policy"]: r for r in rows}
    routine = by["Raschke nomogram, aPTT on schedule, routine"]
    oracle = by["Raschke nomogram, on schedule, no turnaround (oracle)"]
    decomposition = {
        "full_env_ttr_6h_pct": reference["ttr_6h_pct"],
        "schedule_and_hourly_effect_pct": reference["ttr_6h_pct"] - oracle["ttr_6h_pct"],
        "delay_penalty_routine_pct": oracle["ttr_6h_pct"] - routine["ttr_6h_pct"],
        "total_difference_routine_pct": reference["ttr_6h_pct"] - routine["ttr_6h_pct"],
    }
    return {
        "n_patients": n_patients,
        "first_seed": first_seed,
        "difficulty": "medium",
        "rows": rows,
        "full_env_reference": reference,
        "decomposition": decomposition,
    }


def table(result: dict) -> str:
    n, s = result["n_patients"], result["first_seed"]
    lines = [
        f"HeparinInfusion-POMDP-v0 baselines, {n} held-out patients (seeds {s}-{s + n - 1}), medium tier, 120 h",
        "",
        "| policy | TTR true aPTT, hourly | TTR true aPTT, 6-hourly | tests / patient-day (aPTT, anti-Xa, platelets) "
        "| STAT share | lab cost CHF / patient | clinical return | return (cost weight 0.001/CHF) | events |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        bt = r["tests_per_patient_day_by_test"]
        lines.append(
            f"| {r['policy']} | {r['ttr_hourly_pct']:.1f} % (SE {r['ttr_hourly_se_pct']:.1f}) | {r['ttr_6h_pct']:.1f} % "
            f"| {r['tests_per_patient_day']:.2f} ({bt['aptt']:.2f}, {bt['anti_xa']:.2f}, {bt['platelets']:.2f}) "
            f"| {100 * r['stat_share']:.0f} % | {r['lab_cost_chf_per_patient']:,.0f} | {r['clinical_return']:.2f} "
            f"| {r['return']:.2f} | {r['events']} |"
        )
    ref = result["full_env_reference"]
    lines.append(
        f"| {ref['policy']} | -- | {ref['ttr_6h_pct']:.1f} % (SE {ref['ttr_6h_se_pct']:.1f}) | 4 aPTT (every step) | -- | -- "
        f"| {ref['clinical_return']:.2f} | -- | n/a |"
    )
    d = result["decomposition"]
    lines += [
        "",
        "Delay penalty of the Raschke nomogram (TTR of the true aPTT on the 6-hourly grid of HeparinInfusion-v0):",
        f"* fully observed, HeparinInfusion-v0: {d['full_env_ttr_6h_pct']:.1f} %",
        f"* published schedule (daily once stable) and a result one hour after each draw, no turnaround: "
        f"-{d['schedule_and_hourly_effect_pct']:.1f} points",
        f"* laboratory turnaround (routine): -{d['delay_penalty_routine_pct']:.1f} points",
        f"* total: -{d['total_difference_routine_pct']:.1f} points",
        "",
        "Events: patients with >= 1 event over 5 days; cost: mean episode info['cost'] (events + time with aPTT > 100 s in 6-h units).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hemosim calibrate heparin-pomdp", description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=100000)
    parser.add_argument("--out", default="results/heparin_pomdp", help="folder for heparin_pomdp.txt / .json ('' = print only)")
    args = parser.parse_args(argv)
    result = evaluate(args.patients, args.first_seed)
    text = table(result)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "heparin_pomdp.txt").write_text(text + "\n")
        (out / "heparin_pomdp.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
