"""Clinical events in silico: INR-band incidence, protocol event rates, Raschke arms, CDS layer.

``hemosim calibrate events [--patients 1000]`` prints

1. **Warfarin INR-band incidence.** Every policy of ``hemosim evaluate`` (four guideline
   protocols and uniformly random doses), each on its own 2,000 patients of the training
   pool (seeds 0-9,999; nothing is fitted here, and distinct patients keep the policies'
   events independent: a patient's event uniforms depend only on its key and day, so the
   same patient under two policies shares them, common random numbers that make paired
   comparisons sharp but would make pooled counts over-dispersed), pooled: person-time by
   the band of the day's true INR and the events drawn in it, as rates per 100
   patient-years with exact Poisson (Garwood) intervals, beside the published rates the
   hazards were built from (``hemosim.envs.warfarin_events``).
2. **Warfarin protocols' annualised rates** of major bleeding and thromboembolism, each
   protocol on the same 10,000 training-pool patients (seeds 0-9,999; a model check, not a
   policy evaluation: at 1,000 patients a protocol sees 4-9 thromboembolisms and the point
   estimate moves by a factor of two between seed sets), and on the 1,000 held-out
   patients for reference, compared (not fitted) with warfarin-treated cohorts: major bleeding 1.35 (ISCOAT,
   Palareti 1996 Lancet 348:423: fatal 0.25 + major 1.1) to 3.36 (RE-LY warfarin arm,
   Connolly 2009; FACTS §6.1) per 100 patient-years; stroke / systemic embolism 1.69
   (RE-LY warfarin arm) to 3.5 (all thrombotic events, ISCOAT, Palareti 1997 Thromb
   Haemost 78:1438) per 100 patient-years. These cohorts followed patients for years;
   the env covers the first 90 days, when ISCOAT saw more events (34 of 70 thrombotic
   events in the first 90 days).
3. **Heparin, Raschke 1993 arms** (weight-based vs standard care nomograms,
   ``hemosim.agents.heparin``): share of patients with major bleeding and with recurrent
   thromboembolism; published: recurrent thromboembolism more frequent with standard
   care, relative risk 5.0 (95 % CI 1.1-21.9); major bleeding 1 event, in the
   standard-care arm (Raschke RA et al. Ann Intern Med 1993;119:874, abstract; FACTS §4.5).

``hemosim safety [--patients 200] [--env warfarin heparin]`` evaluates the baselines and a
random policy without the layer, with ``SafetyLayer(mode="enforce")`` and with
``mode="monitor"``, and prints events per 100 patient-years (with Garwood intervals), the
mean episode cost, TTR, share of days with INR > 4 (or 6-h steps with aPTT > 100 s),
and override counts.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from hemosim.metrics import rate_per_100_patient_years, rosendaal_ttr
from hemosim.reproducibility import assert_held_out, assert_train
from hemosim.sim.events import HOURS_PER_YEAR

__all__ = [
    "EventRollout",
    "rollout",
    "warfarin_band_table",
    "protocol_rate_table",
    "raschke_events_table",
    "safety_table",
    "main",
    "safety_main",
    "COHORT_RANGES",
]

#: published ranges the protocols' annualised rates are compared with (see the module docstring)
COHORT_RANGES = {
    "major_bleeding": (1.35, 3.36, "ISCOAT 1996 (1.35) - RE-LY warfarin (3.36)"),
    "thromboembolism": (1.69, 3.5, "RE-LY warfarin stroke/SE (1.69) - ISCOAT 1997 thrombotic (3.5)"),
}
RASCHKE_TE_RR = (5.0, 1.1, 21.9)

WARFARIN = "hemosim/WarfarinDosing-v0"
HEPARIN = "hemosim/HeparinInfusion-v0"


@dataclass
class EventRollout:
    """One episode per held-out patient under one policy (and layer mode)."""

    env_id: str
    value_true: np.ndarray  # (N, T + 1) true INR or aPTT at each decision
    times: np.ndarray  # (T + 1,) days or hours
    events: dict[str, np.ndarray]  # (N, T) bool per event name
    cost: np.ndarray  # (N,) summed over the episode
    fired_steps: np.ndarray  # (N,) steps with any rule fired
    overridden_steps: np.ndarray  # (N,) steps whose action was replaced
    firings: dict[str, np.ndarray]  # (N,) per rule
    step_years: float

    @property
    def patient_years(self) -> float:
        return self.value_true.shape[0] * (self.value_true.shape[1] - 1) * self.step_years


def _warfarin_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.cli import _warfarin_policies as policies

    return policies()


def _heparin_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.agents.heparin import AntiXaNomogram, RaschkeNomogram, StandardCareNomogram
    from hemosim.agents.policies import RandomPolicy
    from hemosim.envs.heparin import HeparinSimulator

    return {
        "Raschke weight-based nomogram": RaschkeNomogram,
        "Standard care (Raschke 1993 control arm)": StandardCareNomogram,
        "Anti-Xa nomogram": AntiXaNomogram,
        "Random (uniform rate and bolus)": lambda: RandomPolicy(HeparinSimulator.action_space, seed=0),
    }


def rollout(env_id: str, make_policy: Callable[[], Any], seeds: list[int], mode: str | None = None,
            pool: str = "held_out", **env_options: Any) -> EventRollout:
    """Run one episode per seed in the native vector env, optionally behind the CDS layer.

    ``pool`` names the seed pool the seeds must come from (``"held_out"`` or ``"train"``).
    """
    import gymnasium as gym

    import hemosim  # noqa: F401
    from hemosim.safety import SafetyLayer

    (assert_held_out if pool == "held_out" else assert_train)(seeds)
    n = len(seeds)
    env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **env_options)
    if mode is not None:
        env = SafetyLayer(env, mode=mode)
    policy = make_policy()
    if hasattr(policy, "reset"):
        policy.reset()
    warfarin = env_id == WARFARIN
    steps = 90 if warfarin else 20
    key = "inr" if warfarin else "aptt_true_s"
    obs, info = env.reset(seed=seeds)
    values = np.empty((n, steps + 1))
    values[:, 0] = info[key]
    names = [k for k in info["events"] if not k.startswith("_")]
    events = {k: np.zeros((n, steps), dtype=bool) for k in names}
    cost = np.zeros(n)
    fired = np.zeros(n, dtype=np.int64)
    overridden = np.zeros(n, dtype=np.int64)
    for t in range(steps):
        action = policy.predict(obs, info) if warfarin else policy.predict(obs)
        action = np.asarray(action, dtype=np.float32).reshape(n, -1)
        obs, _, _, _, info = env.step(action)
        values[:, t + 1] = info[key]
        for k in names:
            events[k][:, t] = info["events"][k]
        cost += info["cost"]
        if mode is not None:
            fired += info["safety"]["fired"]
            overridden += info["safety"]["overridden"]
    firings = {}
    if mode is not None:
        firings = {k: v.copy() for k, v in info["safety"]["episode_firings"].items() if not k.startswith("_")}
    env.close()
    times = np.arange(steps + 1, dtype=np.float64) * (1.0 if warfarin else 6.0)
    step_years = (24.0 if warfarin else 6.0) / HOURS_PER_YEAR
    return EventRollout(env_id, values, times, events, cost, fired, overridden, firings, step_years)


def _fmt_rate(k: int, py: float) -> str:
    r, lo, hi = rate_per_100_patient_years(k, py)
    return f"{float(r):7.2f} ({float(lo):.2f}-{float(hi):.2f})"


def warfarin_band_table(runs: dict[str, EventRollout]) -> tuple[str, dict]:
    """Pooled person-time and events by INR band vs the published rates (module docstring)."""
    from hemosim.envs.warfarin_events import WARFARIN_EVENT_HAZARDS as H

    labels = H.band_labels()
    pt = np.zeros(len(labels))
    counts = {"major_bleeding": np.zeros(len(labels), dtype=np.int64), "thromboembolism": np.zeros(len(labels), dtype=np.int64)}
    for r in runs.values():
        band = H.band(r.value_true[:, 1:])  # the hazard is evaluated on the INR at the end of each day
        for b in range(len(labels)):
            sel = band == b
            pt[b] += sel.sum() * r.step_years
            for k in counts:
                counts[k][b] += int(r.events[k][sel].sum())
    published = {"major_bleeding": H.major_bleeding_per_100py, "thromboembolism": H.thromboembolism_per_100py}
    lines = ["INR band   patient-years | major bleeding: published  simulated (95% CI)  events | "
             "thromboembolism: published  simulated (95% CI)  events"]
    data: dict[str, Any] = {"bands": []}
    family_confidence = 1.0 - 0.05 / (len(labels) * len(counts))
    data["familywise_confidence_per_cell"] = family_confidence
    for b, lab in enumerate(labels):
        row = {"band": lab, "patient_years": float(pt[b])}
        cells = []
        for k in counts:
            rate, lo, hi = (float(x) for x in rate_per_100_patient_years(int(counts[k][b]), pt[b])) if pt[b] > 0 else (np.nan,) * 3
            # family-wise 95 % over every cell of the table (Bonferroni): with 8 cells at
            # 95 % each, a correct model misses at least one about a third of the time
            _, flo, fhi = (float(x) for x in rate_per_100_patient_years(int(counts[k][b]), pt[b], family_confidence)) if pt[b] > 0 else (np.nan,) * 3
            row[k] = {"published": float(published[k][b]), "simulated": rate, "ci95": [lo, hi], "events": int(counts[k][b]),
                      "published_inside_ci": bool(lo <= published[k][b] <= hi),
                      "ci_familywise95": [flo, fhi], "published_inside_familywise_ci": bool(flo <= published[k][b] <= fhi)}
            cells.append(f"{published[k][b]:6.2f}  {rate:7.2f} ({lo:.2f}-{hi:.2f})  {counts[k][b]:4d}")
        data["bands"].append(row)
        lines.append(f"{lab:10s} {pt[b]:10.1f}    | " + "      | ".join(cells))
    return "\n".join(lines), data


def protocol_rate_table(runs: dict[str, EventRollout]) -> tuple[str, dict]:
    lines = [f"{'policy':50s} major bleeding /100 PY (95% CI)   thromboembolism /100 PY (95% CI)",
             f"{'published range (warfarin cohorts)':50s} "
             + "   ".join(f"{lo:.2f}-{hi:.2f} ({src})" for lo, hi, src in COHORT_RANGES.values())]
    data = {}
    for name, r in runs.items():
        py = r.patient_years
        row = {}
        cells = []
        for k in ("major_bleeding", "thromboembolism"):
            n_ev = int(r.events[k].sum())
            rate, lo, hi = (float(x) for x in rate_per_100_patient_years(n_ev, py))
            lo_pub, hi_pub, _ = COHORT_RANGES[k]
            row[k] = {"events": n_ev, "rate": rate, "ci95": [lo, hi], "in_published_range": bool(lo_pub <= rate <= hi_pub)}
            cells.append(f"{rate:6.2f} ({lo:.2f}-{hi:.2f}) n={n_ev}")
        row["patient_years"] = py
        data[name] = row
        lines.append(f"{name:50s} {cells[0]:32s} {cells[1]}")
    return "\n".join(lines), data


def protocol_rate_runs(n_patients: int = 10000, chunk: int = 2000) -> dict[str, EventRollout]:
    """Every warfarin policy on the first ``n_patients`` training-pool patients (in vector
    envs of ``chunk`` patients), for precise annualised rates."""
    out = {}
    for name, make in _warfarin_policies().items():
        parts = [rollout(WARFARIN, make, list(range(s, min(s + chunk, n_patients))), pool="train")
                 for s in range(0, n_patients, chunk)]
        first = parts[0]
        out[name] = EventRollout(
            first.env_id, np.concatenate([r.value_true for r in parts]), first.times,
            {k: np.concatenate([r.events[k] for r in parts]) for k in first.events},
            np.concatenate([r.cost for r in parts]), np.concatenate([r.fired_steps for r in parts]),
            np.concatenate([r.overridden_steps for r in parts]), {}, first.step_years,
        )
    return out


def raschke_events_table(n_patients: int, first_seed: int = 100000) -> tuple[str, dict]:
    from hemosim.agents.heparin import RaschkeNomogram, StandardCareNomogram

    seeds = list(range(first_seed, first_seed + n_patients))
    arms = {"weight_based": RaschkeNomogram, "standard_care": StandardCareNomogram}
    data: dict[str, Any] = {}
    for arm, cls in arms.items():
        r = rollout(HEPARIN, cls, seeds)
        data[arm] = {k: float(np.mean(r.events[k].any(axis=1))) for k in ("major_bleeding", "thromboembolism")}
        data[arm]["n"] = n_patients
    w, s = data["weight_based"]["thromboembolism"], data["standard_care"]["thromboembolism"]
    data["thromboembolism_rr_standard_vs_weight"] = s / w if w > 0 else float("inf")
    lines = [
        "arm             major bleeding  recurrent TE   (patients with >= 1 event, 5 days)",
        f"weight-based    {100 * data['weight_based']['major_bleeding']:6.2f} %       {100 * w:6.2f} %",
        f"standard care   {100 * data['standard_care']['major_bleeding']:6.2f} %       {100 * s:6.2f} %",
        f"recurrent TE, standard / weight-based: simulated RR {data['thromboembolism_rr_standard_vs_weight']:.2f}; "
        f"published RR {RASCHKE_TE_RR[0]} ({RASCHKE_TE_RR[1]}-{RASCHKE_TE_RR[2]}), Raschke 1993",
        "major bleeding, published: 1 event (standard care) in 110 patients",
    ]
    return "\n".join(lines), data


def _serious(r: EventRollout) -> np.ndarray:
    keys = [k for k in ("major_bleeding", "thromboembolism", "hit", "death") if k in r.events]
    return sum(r.events[k].sum(axis=1) for k in keys)


def safety_table(env_key: str, n_patients: int, first_seed: int = 100000) -> tuple[str, dict]:
    """Policies x layer modes: events, cost, TTR, excursions and overrides."""
    env_id = WARFARIN if env_key == "warfarin" else HEPARIN
    policies = _warfarin_policies() if env_key == "warfarin" else _heparin_policies()
    seeds = list(range(first_seed, first_seed + n_patients))
    lo_hi = (2.0, 3.0) if env_key == "warfarin" else (46.0, 70.0)
    thr = 4.0 if env_key == "warfarin" else 100.0
    exc_name = "% days INR>4" if env_key == "warfarin" else "% steps aPTT>100"
    lines = [f"{'policy':48s} {'layer':8s} {'serious events /100 PY (95% CI)':32s} {'cost/ep':>8s} "
             f"{'TTR %':>6s} {exc_name:>15s} {'overridden %':>12s}"]
    data: dict[str, Any] = {}
    for name, make in policies.items():
        data[name] = {}
        for mode in (None, "enforce", "monitor"):
            r = rollout(env_id, make, seeds, mode=mode)
            k = int(_serious(r).sum())
            rate, lo, hi = (float(x) for x in rate_per_100_patient_years(k, r.patient_years))
            ttr = float(np.nanmean(rosendaal_ttr(r.times, r.value_true, *lo_hi)) * 100)
            exc = float(np.mean(r.value_true[:, 1:] > thr) * 100)
            steps = r.value_true.shape[1] - 1
            over = float(r.overridden_steps.sum() / (n_patients * steps) * 100)
            fired = float(r.fired_steps.sum() / (n_patients * steps) * 100)
            label = mode or "none"
            data[name][label] = {
                "serious_events": k, "rate_per_100py": rate, "ci95": [lo, hi], "mean_episode_cost": float(r.cost.mean()),
                "ttr_percent": ttr, "excursion_percent": exc, "overridden_step_percent": over, "fired_step_percent": fired,
                "firings": {kk: int(v.sum()) for kk, v in r.firings.items()},
                "events": {kk: int(v.sum()) for kk, v in r.events.items()},
            }
            over_txt = f"{over:5.2f}" if mode == "enforce" else (f"({fired:4.2f} would)" if mode else "-")
            lines.append(f"{name[:48]:48s} {label:8s} {rate:7.2f} ({lo:.2f}-{hi:.2f}){'':12s} {r.cost.mean():8.3f} "
                         f"{ttr:6.1f} {exc:15.2f} {over_txt:>12s}")
    return "\n".join(lines), data


def main(argv: list[str] | None = None) -> int:
    """``hemosim calibrate events``: INR-band table, protocol rates, Raschke arms."""
    p = argparse.ArgumentParser(prog="hemosim calibrate events")
    p.add_argument("--patients", type=int, default=1000, help="held-out patients per policy (<= 1000)")
    p.add_argument("--band-patients", type=int, default=2000, help="training-pool patients per policy for the INR-band table")
    p.add_argument("--rate-patients", type=int, default=10000,
                   help="training-pool patients per protocol for the annualised rates (<= 10000)")
    p.add_argument("--json", default=None, help="write the numbers to this JSON file")
    args = p.parse_args(argv)
    if not 1 <= args.rate_patients <= 10000:
        raise SystemExit(f"--rate-patients must be in 1..10000 (the training pool), got {args.rate_patients}")
    if not 1 <= args.band_patients <= 2000:
        raise SystemExit(f"--band-patients must be in 1..2000 (5 policies x 2,000 = the training pool), got {args.band_patients}")
    if not 1 <= args.patients <= 1000:
        raise SystemExit(f"--patients must be in 1..1000, got {args.patients}")
    seeds = list(range(100000, 100000 + args.patients))
    band_runs = {
        name: rollout(WARFARIN, make, list(range(j * args.band_patients, (j + 1) * args.band_patients)), pool="train")
        for j, (name, make) in enumerate(_warfarin_policies().items())
    }
    band_txt, band = warfarin_band_table(band_runs)
    runs = {name: rollout(WARFARIN, make, seeds) for name, make in _warfarin_policies().items()}
    guideline = {k: v for k, v in runs.items() if not k.startswith("Random")}
    held_txt, held = protocol_rate_table(runs)
    proto_txt, proto = protocol_rate_table(protocol_rate_runs(args.rate_patients))
    rasch_txt, rasch = raschke_events_table(args.patients)
    print(f"Warfarin: events by true-INR band, {len(band_runs)} policies x {args.band_patients} training-pool patients each, "
          f"pooled\n{band_txt}\n")
    print(f"Warfarin: annualised rates over the 90-day course, {args.rate_patients} training-pool patients per "
          f"protocol (the same patients)\n{proto_txt}\n")
    print(f"Warfarin: the same on the {args.patients} held-out patients\n{held_txt}\n")
    print(f"Heparin: Raschke 1993 arms, {args.patients} held-out patients each\n{rasch_txt}")
    if args.json:
        import json

        with open(args.json, "w") as fh:
            json.dump({"bands": band, "protocols": proto, "protocols_held_out": held, "rate_patients": args.rate_patients,
                       "guideline_protocols": sorted(guideline), "raschke": rasch}, fh, indent=1)
    return 0


def safety_main(argv: list[str] | None = None) -> int:
    """``hemosim safety``: baselines and a random policy with and without the CDS layer."""
    p = argparse.ArgumentParser(prog="hemosim safety")
    p.add_argument("--patients", type=int, default=200, help="held-out patients per policy (<= 1000; documented run 1000)")
    p.add_argument("--env", nargs="+", default=["warfarin", "heparin"], choices=["warfarin", "heparin"])
    p.add_argument("--json", default=None, help="write the numbers to this JSON file")
    args = p.parse_args(argv)
    if not 1 <= args.patients <= 1000:
        print(f"--patients must be in 1..1000 (the held-out pool), got {args.patients}")
        return 2
    out = {}
    for env_key in args.env:
        txt, data = safety_table(env_key, args.patients)
        out[env_key] = data
        print(f"{env_key}: {args.patients} held-out patients per policy; serious events = major bleeding + "
              f"thromboembolism (+ HIT / death where drawn)\n{txt}\n")
    if args.json:
        import json

        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
