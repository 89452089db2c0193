"""Evaluation of ``hemosim/DOACManagement-v0``: baselines on held-out patients, and the trial-arm check.

Usage::

    python -m hemosim.doac_evaluation [--out results] [--patients 1000] [--trial-patients 16384]

1. **Net clinical benefit on held-out general-practice patients.** Every baseline of
   ``hemosim.agents.doac`` (label-dosed apixaban / rivaroxaban / dabigatran re-checked at every
   visit and never re-checked, warfarin at the patient's TTR, the guideline chooser, random) and
   every constant action of the default action space is run for one year on the same patients,
   the held-out seeds ``range(100000, 100000 + n)`` (``reproducibility.assert_held_out``), in the
   ``doacs+warfarin`` action space (the DOAC policies never use warfarin). Two NCB figures per
   policy, both per 100 patient-years, in the env's default weights (ischaemic stroke/SE 1, ICH
   1.5, extracranial major bleeding 1, death 1):
   *realised* (the events drawn, i.e. the env's return) and *expected* (the same weights on the
   model's integrated hazards of the same patients, ``DoacState.hazard_integral``: the same
   expectation with far less Monte-Carlo noise, used for the comparisons). Comparisons are paired
   (the same patients and random numbers), with the standard error of the paired difference.
2. **Trial-arm check.** The env with a trial population (``population="rely" | "rocket" |
   "aristotle"``, ``difficulty="easy"``: creatinine measured exactly) driven by "always drug X at
   the trial's dose rule, set at the first visit" gives one-year first-event rates per arm beside
   the published rates and their intervals (``calibration.doac_targets``), and the same patients
   run through the trial script's ``models.doac.simulate`` give identical event counts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import hemosim  # noqa: F401  (registers the env ids)
from hemosim.agents.doac import (
    ConstantAction,
    GuidelineChooser,
    LabelDosedDOAC,
    RandomDOACPolicy,
    WarfarinPolicy,
)
from hemosim.calibration.doac_targets import TRIALS, rate_interval
from hemosim.envs.doac import NCB_WEIGHTS, observation_to_clinical
from hemosim.label_rules import apixaban_reduction_criteria_count
from hemosim.models import doac
from hemosim.reproducibility import HELD_OUT_SEEDS, assert_held_out

__all__ = ["baseline_policies", "run_policy", "evaluate_baselines", "TrialArmPolicy", "trial_arm_check", "main"]

ENV_ID = "hemosim/DOACManagement-v0"
_E = {name: i for i, name in enumerate(doac.ENDPOINTS)}
_N_VISITS = 12


def baseline_policies(seed: int = 0) -> dict[str, Any]:
    """The named baselines, then every constant action of the default space (drug 0-2 x dose 0-2)."""
    pol: dict[str, Any] = {}
    for d in ("apixaban", "rivaroxaban", "dabigatran"):
        pol[f"label_{d}_recheck"] = LabelDosedDOAC(d, recheck=True)
        pol[f"label_{d}_never_recheck"] = LabelDosedDOAC(d, recheck=False)
    pol["warfarin"] = WarfarinPolicy()
    pol["guideline_chooser"] = GuidelineChooser()
    pol["random"] = RandomDOACPolicy(3, seed=seed)
    for drug in range(3):
        for level in range(3):
            c = ConstantAction(drug, level)
            pol[f"constant_{doac.DRUG_NAMES[drug]}_{('standard', 'reduced', 'hold')[level]}"] = c
    return pol


def run_policy(policy: Any, seeds: np.ndarray, **env_options: Any) -> dict[str, np.ndarray]:
    """One episode per seed (a vector env seeded ``seeds[0]``, row ``i`` = seed ``seeds[0] + i``).

    Returns per-patient arrays: ``return`` (the env's summed reward), ``event_count`` (N, K),
    ``hazard_integral`` (N, K), ``days`` followed, and the final ``state`` fields needed above.
    """
    seeds = np.asarray(seeds)
    if not np.array_equal(seeds, seeds[0] + np.arange(len(seeds))):
        raise ValueError("seeds must be consecutive (row i of the vector env is seed seeds[0] + i)")
    n = len(seeds)
    venv = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", **env_options)
    obs, _ = venv.reset(seed=int(seeds[0]))
    sim = venv.unwrapped.sim if hasattr(venv, "unwrapped") else venv.sim
    if hasattr(policy, "reset"):
        policy.reset()
    ret = np.zeros(n)
    done = np.zeros(n, dtype=bool)
    counts = np.zeros((n, len(doac.ENDPOINTS)), dtype=np.int64)
    hazard = np.zeros((n, len(doac.ENDPOINTS)))
    days = np.zeros(n, dtype=np.int64)
    first_day = np.full((n, len(doac.ENDPOINTS)), -1, dtype=np.int64)
    for _ in range(_N_VISITS):
        action = policy.predict(obs)
        obs, reward, term, trunc, _ = venv.step(action)
        live = ~done
        ret[live] += reward[live]
        st = sim.state
        counts[live] = st.event_count[live]
        hazard[live] = st.hazard_integral[live]
        days[live] = st.days_followed[live]
        first_day[live] = st.first_day[live]
        done |= term | trunc
    venv.close()
    if not done.all():  # pragma: no cover - every episode ends at visit 12
        raise RuntimeError("some episodes did not end after 12 visits")
    return {"return": ret, "event_count": counts, "hazard_integral": hazard, "days": days, "first_day": first_day}


def _ncb(per_patient_events: np.ndarray, w: dict[str, float]) -> np.ndarray:
    """Minus the weighted events per patient (columns in ``doac.ENDPOINTS`` order)."""
    x = per_patient_events
    return -(w["stroke"] * x[:, _E["ischaemic_stroke_se"]] + w["ich"] * x[:, _E["ich"]]
             + w["major_bleeding"] * (x[:, _E["major_bleeding"]] - x[:, _E["ich"]]) + w["death"] * x[:, _E["death"]])


def evaluate_baselines(n_patients: int = 1000, seed0: int = HELD_OUT_SEEDS.start) -> dict[str, Any]:
    """The NCB table of every baseline on ``n_patients`` held-out general-practice patients."""
    seeds = seed0 + np.arange(n_patients)
    assert_held_out(seeds)
    rows: dict[str, Any] = {}
    per_patient: dict[str, np.ndarray] = {}
    for name, policy in baseline_policies().items():
        r = run_policy(policy, seeds, drugs="doacs+warfarin")
        py = r["days"].sum() / doac.DAYS_PER_YEAR
        exp_ncb = _ncb(r["hazard_integral"], NCB_WEIGHTS)
        per_patient[name] = exp_ncb
        row = {"policy": getattr(policy, "name", name), "patient_years": float(py),
               "ncb_realised_per_100py": float(100.0 * r["return"].sum() / py),
               "ncb_expected_per_100py": float(100.0 * exp_ncb.sum() / py),
               "ncb_expected_se_per_100py": float(100.0 * exp_ncb.std(ddof=1) * np.sqrt(n_patients) / py)}
        for e in ("ischaemic_stroke_se", "ich", "major_bleeding", "death"):
            row[f"{e}_events"] = int(r["event_count"][:, _E[e]].sum())
            row[f"{e}_expected_per_100py"] = float(100.0 * r["hazard_integral"][:, _E[e]].sum() / py)
        rows[name] = row
    py0 = rows["random"]["patient_years"]

    def paired(a: str, b: str) -> dict[str, float]:
        d = per_patient[a] - per_patient[b]
        return {"a": a, "b": b, "difference_per_100py": float(100.0 * d.sum() / py0),
                "se_per_100py": float(100.0 * d.std(ddof=1) * np.sqrt(len(d)) / py0)}

    constants = [k for k in rows if k.startswith("constant_")]
    labels = [k for k in rows if k.startswith("label_") and k.endswith("_recheck") and "never" not in k]
    comparisons = []
    for lab in labels:
        comparisons.append(paired(lab, "random"))
        comparisons += [paired(lab, c) for c in constants]
        comparisons.append(paired(lab, lab.replace("_recheck", "_never_recheck")))
    checks = {
        "label_beats_random": {lab: rows[lab]["ncb_expected_per_100py"] > rows["random"]["ncb_expected_per_100py"]
                               for lab in labels},
        "label_beats_every_constant": {lab: all(rows[lab]["ncb_expected_per_100py"] > rows[c]["ncb_expected_per_100py"]
                                                for c in constants) for lab in labels},
        "label_beats_own_drug_constants": {
            lab: all(rows[lab]["ncb_expected_per_100py"] > rows[c]["ncb_expected_per_100py"]
                     for c in constants if c.split("_")[1] == lab.split("_")[1] or c.endswith("_hold"))
            for lab in labels},
        "recheck_beats_never_recheck": {lab: rows[lab]["ncb_expected_per_100py"]
                                        > rows[lab.replace("_recheck", "_never_recheck")]["ncb_expected_per_100py"]
                                        for lab in labels},
    }
    return {"n_patients": n_patients, "seeds": [int(seeds[0]), int(seeds[-1])], "weights": NCB_WEIGHTS,
            "rows": rows, "comparisons": comparisons, "checks": checks}


class TrialArmPolicy:
    """One trial arm's drug at the trial's dose rule, set at the first visit from the observation and kept."""

    def __init__(self, drug: int, dose_rule: str) -> None:
        if dose_rule not in ("fixed_standard", "fixed_reduced", "rocket_renal", "aristotle_2of3", "warfarin"):
            raise ValueError(f"unknown dose rule {dose_rule!r}")
        self.drug, self.dose_rule = drug, dose_rule

    def predict(self, obs: Any, info: Any = None) -> np.ndarray:
        o = np.atleast_2d(np.asarray(obs, dtype=np.float64))
        c = observation_to_clinical(o)
        n = len(o)
        if self.dose_rule == "fixed_reduced":
            level = np.full(n, doac.REDUCED)
        elif self.dose_rule == "rocket_renal":  # ROCKET AF: 15 mg at CrCl 30-49 (Patel 2011)
            level = np.where(c["crcl_ml_per_min"] < 50.0, doac.REDUCED, doac.STANDARD)
        elif self.dose_rule == "aristotle_2of3":  # >= 2 of age >= 80, weight <= 60 kg, SCr >= 1.5
            k = apixaban_reduction_criteria_count(c["age_y"], c["weight_kg"], np.clip(c["scr_mg_per_dl"], 0.01, 40.0))
            level = np.where(k >= 2, doac.REDUCED, doac.STANDARD)
        else:
            level = np.full(n, doac.STANDARD)
        started = c["drug"] == self.drug
        level = np.where(started, c["dose_level"], level)
        a = np.stack([np.full(n, self.drug), level], axis=1).astype(np.int64)
        return a[0] if np.asarray(obs).ndim == 1 else a


def trial_arm_check(n_patients: int = 16384, seed0: int = 920_001, agreement_patients: int = 1024) -> list[dict[str, Any]]:
    """Per trial arm: the env's one-year rates vs published, and exact agreement with ``doac.simulate``.

    The env patients use root seeds ``seed0 + i`` (outside the training and held-out pools, like the
    trial script's cohorts); the agreement check re-draws the first ``agreement_patients`` of them as a
    trial cohort (``sample_cohort`` on the env's keys) and simulates the arm's dose levels for 365 days.
    """
    from hemosim.calibration.doac_trials import arm_dose_levels
    from hemosim.patients.af import sample_cohort
    from hemosim.sim.rng import patient_key

    out = []
    seeds = seed0 + np.arange(n_patients)
    for key, trial in TRIALS.items():
        for arm in trial.arms:
            policy = TrialArmPolicy(arm.drug, arm.dose_rule)
            r = run_policy(policy, seeds, population=trial.preset, difficulty="easy", drugs="doacs+warfarin")
            py = r["days"].sum() / doac.DAYS_PER_YEAR
            row: dict[str, Any] = {"trial": trial.name, "arm": arm.name, "patients": n_patients, "patient_years": float(py)}
            for e in ("stroke_se", "major_bleeding", "ich", "death"):
                ev = int((r["first_day"][:, _E[e]] >= 0).sum())
                lo, hi = rate_interval(ev, py)
                tgt = arm.rates[e]
                plo, phi = tgt.interval
                row[e] = {"env_rate": 100.0 * ev / py, "env_lo": lo, "env_hi": hi, "published": tgt.rate_per_100py,
                          "published_lo": plo, "published_hi": phi, "within": bool(plo <= 100.0 * ev / py <= phi),
                          "tag": tgt.tag}
            # exact agreement with the trial script's simulator on the same patients
            m = min(agreement_patients, n_patients)
            keys = patient_key(seeds[:m].astype(np.uint64), 0)
            cohort = sample_cohort(keys, trial.preset)
            sim = doac.simulate(cohort, arm.drug, arm_dose_levels(arm, cohort), 365)
            row["agreement_patients"] = m
            row["identical_event_counts"] = bool(np.array_equal(sim.state.event_count, r["event_count"][:m]))
            out.append(row)
    return out


def _markdown(ev: dict[str, Any], arms: list[dict[str, Any]] | None) -> str:
    lines = [f"Net clinical benefit on {ev['n_patients']} held-out general-practice patients (seeds "
             f"{ev['seeds'][0]}-{ev['seeds'][1]}), one year; NCB = -(ischaemic stroke/SE + 1.5 ICH + extracranial "
             "major bleeding + death) per 100 patient-years (higher is better).", "",
             "| Policy | NCB expected (SE) | NCB realised | Isch. stroke/SE | ICH | Major bleeding | Death |",
             "|---|---|---|---|---|---|---|"]
    for name, r in sorted(ev["rows"].items(), key=lambda kv: -kv[1]["ncb_expected_per_100py"]):
        lines.append(f"| {name} | {r['ncb_expected_per_100py']:.2f} ({r['ncb_expected_se_per_100py']:.2f}) | "
                     f"{r['ncb_realised_per_100py']:.2f} | {r['ischaemic_stroke_se_expected_per_100py']:.2f} | "
                     f"{r['ich_expected_per_100py']:.2f} | {r['major_bleeding_expected_per_100py']:.2f} | "
                     f"{r['death_expected_per_100py']:.2f} |")
    lines += ["", "Event columns: expected events per 100 patient-years (integrated hazards).", "",
              "| Check | " + " | ".join(ev["checks"]["label_beats_random"]) + " |",
              "|---|" + "---|" * len(ev["checks"]["label_beats_random"])]
    for check, res in ev["checks"].items():
        lines.append(f"| {check} | " + " | ".join("yes" if v else "NO" for v in res.values()) + " |")
    lines += ["", "| A | B | NCB A - B per 100 pt-yr (paired SE) |", "|---|---|---|"]
    for c in ev["comparisons"]:
        if c["b"] == "random" or "never" in c["b"]:
            lines.append(f"| {c['a']} | {c['b']} | {c['difference_per_100py']:+.3f} ({c['se_per_100py']:.3f}) |")
    if arms:
        lines += ["", "Trial-arm check (env, trial population, difficulty easy, arm's dose rule set at the first visit; "
                  "one-year first-event rates per 100 patient-years with exact 95 % CI vs the published rate and its "
                  "derived interval):", "",
                  "| Trial | Arm | Stroke/SE env (CI) / published (CI) | Major bleeding env / published | ICH env / published | "
                  "Death env / published | Same events as doac.simulate |", "|---|---|---|---|---|---|---|"]
        for a in arms:
            cells = []
            for e in ("stroke_se", "major_bleeding", "ich", "death"):
                x = a[e]
                cells.append(f"{x['env_rate']:.2f} ({x['env_lo']:.2f}-{x['env_hi']:.2f}) / {x['published']:.2f} "
                             f"({x['published_lo']:.2f}-{x['published_hi']:.2f}) {'yes' if x['within'] else 'NO'}")
            lines.append(f"| {a['trial']} | {a['arm']} | " + " | ".join(cells)
                         + f" | {'yes' if a['identical_event_counts'] else 'NO'} ({a['agreement_patients']}) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hemosim.doac_evaluation", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="results", help="output folder (doac_evaluation.json / .md)")
    parser.add_argument("--patients", type=int, default=1000, help="held-out patients (<= 1000)")
    parser.add_argument("--trial-patients", type=int, default=16384, help="patients per trial-arm check (0: skip)")
    args = parser.parse_args(argv)
    if not 1 <= args.patients <= len(HELD_OUT_SEEDS):
        parser.error(f"--patients must be in 1-{len(HELD_OUT_SEEDS)}, got {args.patients}")
    t0 = time.perf_counter()
    ev = evaluate_baselines(args.patients)
    arms = trial_arm_check(args.trial_patients) if args.trial_patients > 0 else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "doac_evaluation.json").write_text(json.dumps({"baselines": ev, "trial_arms": arms,
                                                          "seconds": time.perf_counter() - t0}, indent=1))
    md = _markdown(ev, arms)
    (out / "doac_evaluation.md").write_text(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
