"""The ``hemosim`` command.

``hemosim`` (or ``hemosim evaluate``): evaluate every warfarin baseline, a random policy
and every constant dose on the 1,000 held-out patients (seeds 100000-100999) in the
native vector env; print a table, write a JSON result and a PNG figure.

``hemosim benchmark``: single-env steps/s and vector patient-steps/s per environment at
N = 1, 64, 1024, 4096, plus the model benchmarks that modules provide.

``hemosim calibrate NAME``: run a calibration / in-silico trial script (``--list``); with no
name, every model's published targets in one table (``hemosim.calibration.report``).

``hemosim simulate ENV``: what-if for one patient (flags or a JSON / TOML file) on one
regimen (a constant dose, a dose list or a baseline protocol): a table and a PNG
(``hemosim.simulate``).
``hemosim train ENV_ID``: PPO (Stable-Baselines3, the ``train`` extra) on training patients,
evaluated on the held-out ones (``hemosim.training``).

``hemosim leaderboard``: one table per environment (every baseline, random and the best
constant action on the same held-out patients; ``hemosim.leaderboard``), as Markdown and JSON.

``hemosim reproduce``: regenerate every result the README quotes (the warfarin evaluation
and each calibration / in-silico trial), writing each printed table to ``results/``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from hemosim.reproducibility import HELD_OUT_SEEDS

__all__ = ["main"]

#: Published comparators printed beside the simulated TTRs; each arm's imitating policy is
#: in ``hemosim.trial_comparison.TRIAL_ARMS`` (compared arm by arm in the trial's window).
PUBLISHED_TTR = {
    "EU-PACT genotype-guided (Pirmohamed 2013 NEJM 369:2294), weeks 0-12": 67.4,
    "EU-PACT standard dosing (Pirmohamed 2013 NEJM 369:2294), weeks 0-12": 60.3,
    "COAG genotype-guided (Kimmel 2013 NEJM 369:2283), days 4-28": 45.2,
    "COAG clinical algorithm (Kimmel 2013 NEJM 369:2283), days 4-28": 45.4,
}

CALIBRATIONS = {
    "doac-trials": ("hemosim.calibration.doac_trials", "RE-LY, ROCKET AF and ARISTOTLE in silico"),
    "heparin": ("hemosim.calibration.heparin_fit", "UFH model fit and residual table"),
    "raschke": ("hemosim.calibration.raschke_trial", "Raschke 1993 trial in silico"),
    "events": ("hemosim.calibration.clinical_events", "clinical events: INR-band incidence, protocol rates, Raschke arms"),
    "heparin-pomdp": ("hemosim.calibration.heparin_pomdp", "HeparinInfusion-POMDP-v0 lab-ordering baselines, 1,000 held-out patients"),
    "cascade-table": ("hemosim.models.clotting", "rebuild the fast PT/aPTT table (pass --rebuild)"),
    "warfarin-population": ("hemosim.calibration.warfarin_population",
                            "warfarin population and INR dynamics fit (IWPC 2009, White 1995, Kovacs 2003)"),
    "doac-evaluation": ("hemosim.doac_evaluation", "DOACManagement-v0 baselines (NCB) on held-out patients + trial-arm check"),
    "dic": ("hemosim.calibration.dic_trials", "DIC: PROWESS fit (--fit), natural course and policy tables"),
}


def _warfarin_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.agents.policies import RandomPolicy
    from hemosim.agents.warfarin import (
        Gage2008Baseline,
        IWPCClinicalBaseline,
        IWPCPharmacogeneticBaseline,
        WarfarinClinicalBaseline,
    )

    from hemosim.envs.warfarin import WarfarinSimulator

    box = WarfarinSimulator.action_space
    return {
        "Fixed-dose initiation + Intermountain titration": lambda: WarfarinClinicalBaseline(seed=0),
        "IWPC pharmacogenetic + titration": lambda: IWPCPharmacogeneticBaseline(seed=0),
        "IWPC clinical + titration": lambda: IWPCClinicalBaseline(seed=0),
        "Gage 2008 + titration": lambda: Gage2008Baseline(seed=0),
        "Random dose (uniform 0-15 mg)": lambda: RandomPolicy(box, seed=0),
    }


def _trial_arm_policies() -> dict[str, Callable[[], Any]]:
    """The EU-PACT / COAG arm imitations (day-4 revision); evaluated beside ``_warfarin_policies``."""
    from hemosim.trial_comparison import trial_arm_policies

    return trial_arm_policies()


def _evaluate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from hemosim.agents.policies import ConstantDosePolicy
    from hemosim.envs.warfarin import EPISODE_DAYS, MAX_DOSE_MG
    from hemosim.evaluation import rollout_warfarin, summarise_warfarin
    from hemosim.trial_comparison import (
        CONDITIONS,
        compare_trial_arms,
        format_comparison,
        format_population_comparison,
    )

    seeds = list(HELD_OUT_SEEDS)[: args.patients]
    policies = {**_warfarin_policies(), **_trial_arm_policies()}
    constant_doses = np.arange(0.0, MAX_DOSE_MG + 1e-9, args.constant_step_mg)
    total = EPISODE_DAYS * (len(policies) + len(constant_doses))
    results: dict[str, Any] = {}
    rollouts = {}
    t0 = time.perf_counter()
    with tqdm(total=total, desc="evaluating warfarin policies", unit="day", disable=args.no_progress) as bar:
        for name, make in policies.items():
            r = rollout_warfarin(make, seeds, difficulty=args.difficulty, progress=bar.update)
            results[name] = summarise_warfarin(r)
            rollouts[name] = r
        constant = {}
        for dose in constant_doses:
            r = rollout_warfarin(lambda d=dose: ConstantDosePolicy(float(d)), seeds, difficulty=args.difficulty,
                                 progress=bar.update)
            constant[float(dose)] = (summarise_warfarin(r), r)
    best_dose = max(constant, key=lambda d: constant[d][0]["ttr_percent"]["mean"])
    best_name = f"Best constant dose ({best_dose:g} mg/day)"
    results[best_name] = constant[best_dose][0]
    rollouts[best_name] = constant[best_dose][1]
    # each trial's arms on its own population (presets eu_pact, coag) and, for comparison, on the default
    trial_arms = {c: {"trial_population": compare_trial_arms(seeds, c, population="trial"),
                      "default_population": compare_trial_arms(seeds, c, population="default")}
                  for c in CONDITIONS}
    elapsed = time.perf_counter() - t0
    _print_table(results, args)
    for c in CONDITIONS:
        print("\n" + format_comparison(trial_arms[c]["trial_population"]))
        print("\n" + format_population_comparison(trial_arms[c]["default_population"],
                                                  trial_arms[c]["trial_population"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": (f"hemosim evaluate --patients {args.patients} --difficulty {args.difficulty} "
                    f"--constant-step-mg {args.constant_step_mg:g}"),
        "environment": "hemosim/WarfarinDosing-v0",
        "difficulty": args.difficulty,
        "seeds": [seeds[0], seeds[-1]],
        "ttr_definition": "Rosendaal (linear interpolation) on the daily true INR, days 0-90 (and 0-84 = 12 weeks)",
        "policies": results,
        "constant_dose_ttr_percent": {f"{d:g}": constant[d][0]["ttr_percent"]["mean"] for d in constant},
        "published_ttr_percent": PUBLISHED_TTR,
        "trial_arms": trial_arms,
    }
    print(f"\nevaluated {len(policies) + len(constant_doses)} policies in {elapsed:.1f} s")
    json_path = out / "warfarin_evaluation.json"
    json_path.write_text(json.dumps(payload, indent=2))
    print(f"\nwrote {json_path}")
    if not args.no_plot:
        png = out / "warfarin_evaluation.png"
        _plot(results, rollouts, png)
        print(f"wrote {png}")
    return 0


def _print_table(results: dict[str, Any], args: argparse.Namespace) -> None:
    n = next(iter(results.values()))["n_patients"]
    print(f"\nhemosim/WarfarinDosing-v0, difficulty={args.difficulty}, {n} held-out patients "
          f"(seeds {HELD_OUT_SEEDS.start}-{HELD_OUT_SEEDS.start + n - 1})")
    print("TTR: Rosendaal on the daily true INR; protocols act only on their scheduled INR checks.\n")
    head = (f"{'policy':60s} {'TTR % (95% CI)':>20s} {'TTR 12 wk %':>12s} {'TTR d4-28 %':>12s} "
            f"{'% days >4':>10s} {'% days <1.5':>12s}")
    print(head)
    print("-" * len(head))
    for name, s in results.items():
        m, (lo, hi) = s["ttr_percent"]["mean"], s["ttr_percent"]["ci95"]
        print(f"{name:60s} {m:6.1f} ({lo:4.1f}-{hi:4.1f}) {s['ttr_12_weeks_percent']['mean']:12.1f} "
              f"{s['ttr_days_4_28_percent']['mean']:12.1f} "
              f"{s['percent_days_inr_above_4']:10.1f} {s['percent_days_inr_below_1_5']:12.1f}")
    print("\nPublished TTR for comparison (EU-PACT: weeks 0-12; COAG: days 4-28):")
    for name, v in PUBLISHED_TTR.items():
        print(f"  {v:5.1f} %  {name}")
    print("\nMean maintenance dose (mg/day, last 28 days) by genotype group:")
    groups = list(next(iter(results.values()))["maintenance_dose_by_genotype"])
    names = [k for k in results if "Random" not in k and "constant" not in k]
    print(f"{'group':22s} {'n':>5s} " + " ".join(f"{k[:18]:>18s}" for k in names))
    for g in groups:
        cells = [results[k]["maintenance_dose_by_genotype"][g] for k in names]
        vals = " ".join(f"{(c['mean_dose_mg_per_day'] if c['mean_dose_mg_per_day'] is not None else float('nan')):18.2f}" for c in cells)
        print(f"{g:22s} {cells[0]['n']:5d} {vals}")


def _plot(results: dict[str, Any], rollouts: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(14, 5))
    names = list(results)
    means = [results[k]["ttr_percent"]["mean"] for k in names]
    errs = np.array([[results[k]["ttr_percent"]["mean"] - results[k]["ttr_percent"]["ci95"][0],
                      results[k]["ttr_percent"]["ci95"][1] - results[k]["ttr_percent"]["mean"]] for k in names]).T
    ax1.barh(range(len(names)), means, xerr=errs, color="tab:blue", alpha=0.8)
    ax1.set_yticks(range(len(names)), [k[:40] for k in names], fontsize=8)
    ax1.invert_yaxis()
    eu_pact = [(k, v) for k, v in PUBLISHED_TTR.items() if k.startswith("EU-PACT")]
    for (label, value), color in zip(eu_pact, ("tab:green", "tab:orange")):
        ax1.axvline(value, color=color, ls="--", lw=1, label=f"{label.split(' (')[0]} {value} %")
    ax1.set_xlabel("TTR % (Rosendaal), mean and 95 % CI")
    ax1.legend(fontsize=7, loc="lower right")
    days = np.arange(next(iter(rollouts.values())).inr.shape[1])
    for k in names:
        r = rollouts[k]
        med = np.median(r.inr, axis=0)
        ax2.plot(days, med, label=k[:40], lw=1.2)
    ax2.axhspan(2.0, 3.0, color="tab:green", alpha=0.1)
    ax2.set_xlabel("day")
    ax2.set_ylabel("median true INR")
    ax2.set_ylim(0.8, 6)
    ax2.legend(fontsize=7)
    n = next(iter(results.values()))["n_patients"]
    fig.suptitle(f"hemosim/WarfarinDosing-v0: held-out patients {HELD_OUT_SEEDS.start}-{HELD_OUT_SEEDS.start + n - 1}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _benchmark(args: argparse.Namespace) -> int:
    from hemosim.benchmark import run_benchmarks

    run_benchmarks(seconds=args.seconds, sizes=args.sizes, quick=args.quick, env_ids=args.env)
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    if args.list:
        for name, (module, what) in CALIBRATIONS.items():
            print(f"{name:15s} {what}  ({module})")
        return 0
    if not args.name:
        return _calibration_report(args)
    if args.name not in CALIBRATIONS:
        print(f"unknown calibration {args.name!r}; allowed: {sorted(CALIBRATIONS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(CALIBRATIONS[args.name][0])
    return int(module.main(args.rest) or 0)


def _calibration_report(args: argparse.Namespace) -> int:
    """``hemosim calibrate`` with no name: every model's published targets in one table."""
    from hemosim.calibration.report import COLLECTORS, collect, report_json, report_markdown, summary_line

    models = args.models or list(COLLECTORS)
    unknown = [m for m in models if m not in COLLECTORS]
    if unknown:
        print(f"unknown model(s) {unknown} for --models; allowed: {list(COLLECTORS)}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    rows = collect(models, progress=lambda m: print(f"calibration report: {m} ...", file=sys.stderr, flush=True))
    print(report_markdown(rows))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "calibration_report.md").write_text(report_markdown(rows))
    (out / "calibration_report.json").write_text(report_json(rows))
    print(f"{summary_line(rows)}\n{len(rows)} targets in {time.perf_counter() - t0:.0f} s; "
          f"wrote {out / 'calibration_report.md'} and {out / 'calibration_report.json'}")
    return 0


#: What ``hemosim reproduce`` runs: (name, argv of ``main``); tables go to results/NAME.txt.
REPRODUCE_STEPS = [
    # the stored calibration on held-out patients; refitting (without --stored) rewrites the model's
    # data file from a start at the stored values, which moves it, so it is a maintainer's step
    ("warfarin_population", ["calibrate", "warfarin-population", "--stored"]),
    ("warfarin_evaluation", ["evaluate", "--out", "results", "--no-progress"]),
    ("heparin_fit", ["calibrate", "heparin", "--json", "results/heparin_fit.json"]),
    ("raschke_trial", ["calibrate", "raschke", "--json", "results/raschke_trial.json"]),
    ("heparin_pomdp", ["calibrate", "heparin-pomdp", "--out", "results/heparin_pomdp"]),
    ("doac_trials", ["calibrate", "doac-trials", "--out", "results/doac_trials", "--figures", "docs/models/figures"]),
    ("clinical_events", ["calibrate", "events", "--json", "results/clinical_events.json"]),
    ("safety_layer", ["safety", "--patients", "1000", "--json", "results/safety_layer.json"]),
    ("doac_evaluation", ["calibrate", "doac-evaluation", "--out", "results"]),
    ("cascade_figures", ["script", "scripts/cascade_figures.py"]),  # the cascade model card's figures
    ("dic_trials", ["calibrate", "dic", "--out", "results"]),
    ("calibration_report", ["calibrate", "--out", "results"]),  # every model's published targets, one table
    # the README's what-if examples and their PNGs (issue #20)
    ("simulate_warfarin", ["simulate", "warfarin", "--patient", "docs/examples/warfarin_patient.toml",
                           "--protocol", "iwpc-pharmacogenetic", "--band", "500", "--every", "7",
                           "--out", "docs/figures/simulate_warfarin.png"]),
    ("simulate_heparin", ["simulate", "heparin", "--patient", "docs/examples/heparin_patient.json",
                          "--protocol", "raschke", "--band", "500", "--every", "2",
                          "--out", "docs/figures/simulate_heparin.png"]),
    ("leaderboard", ["leaderboard", "--out", "results"]),
    ("methods_figures", ["script", "scripts/methods_figures.py"]),  # docs/methods.md's figures (after the results they read)
]


class _Tee:
    def __init__(self, *streams):
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def _run_script(path: str) -> int:
    """Run a repository script (present in a clone, not in an installed wheel)."""
    import runpy

    if not Path(path).exists():
        print(f"{path} not found: run `hemosim reproduce` from the repository root")
        return 1
    saved = sys.argv
    sys.argv = [path]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        return int(exc.code or 0)
    finally:
        sys.argv = saved
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    """Run the steps (unless ``--check-only``), then compare with or rewrite the expected
    values (``--check`` / ``--check-only`` / ``--write-expected``; ``hemosim.expected``)."""
    from hemosim import expected

    if args.check_only and args.write_expected:
        print("--check-only and --write-expected exclude each other (one compares, the other overwrites)", file=sys.stderr)
        return 2
    rc, started = 0, time.time()
    if not args.check_only:
        rc = _run_reproduce_steps(args)
    if not (args.check or args.check_only or args.write_expected):
        return rc
    steps = args.only or None
    exp_path = Path(args.expected) if args.expected else Path(expected.EXPECTED_PATH)
    if args.write_expected:
        if rc:
            print("a step failed: expected values not written", file=sys.stderr)
            return rc
        n = expected.write_expected(".", exp_path, steps)
        print(f"wrote {n} expected values to {exp_path}")
        return 0
    try:
        report = expected.check(".", exp_path, steps)
    except (FileNotFoundError, ValueError) as exc:
        print(f"check: {exc}", file=sys.stderr)
        return 2
    if not args.check_only:  # a results file this run did not rewrite is stale, not reproduced
        for source in expected.SOURCES:
            f = Path(source.file)
            if (steps is None or source.step in steps) and (not f.exists() or f.stat().st_mtime < started):
                report.misses.append(f"{source.step}: {source.file} was not rewritten by this run")
    print()
    for line in report.lines():
        print(line)
    return 1 if rc or not report.ok else 0


def _run_reproduce_steps(args: argparse.Namespace) -> int:
    import contextlib

    out = Path("results")
    out.mkdir(exist_ok=True)
    failed, ran = [], 0
    for name, argv in REPRODUCE_STEPS:
        if args.only and name not in args.only:
            continue
        ran += 1
        print(f"\n=== {name}: hemosim {' '.join(argv)}", flush=True)
        with open(out / f"{name}.txt", "w") as log, contextlib.redirect_stdout(_Tee(sys.stdout, log)):
            try:
                rc = _run_script(argv[1]) if argv[0] == "script" else main(argv)
            except Exception as exc:  # keep going: report every failing step at the end
                print(f"{name} failed: {type(exc).__name__}: {exc}")
                rc = 1
        if rc:
            failed.append(name)
    print(f"\nreproduce: {ran - len(failed)} of {ran} steps ok" + (f", failed: {failed}" if failed else ""))
    return 1 if failed else 0


def _dataset(args: argparse.Namespace) -> int:
    import warnings

    from hemosim.datasets import make_dataset

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="minari")
            summary = make_dataset(args.policy, args.epsilon, args.episodes, args.first_seed)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"wrote Minari dataset {summary['dataset_id']}: {summary['episodes']} episodes on training patients "
          f"{summary['training_root_seeds'][0]}-{summary['training_root_seeds'][1]}")
    print(f"{args.policy} nomogram, true value (simulated, same patients): {summary['true_protocol_value']:.3f}")
    print(f"importance sampling from the epsilon = {args.epsilon} data: ordinary {summary['ordinary_is']:.3f} "
          f"(SE {summary['ordinary_is_se']:.3f}), weighted {summary['weighted_is']:.3f} "
          f"({summary['episodes_with_weight']} episodes with non-zero weight); behaviour's own mean return "
          f"{summary['behaviour_mean_return']:.3f}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(summary, indent=1))
    return 0


def _train(args: argparse.Namespace) -> int:
    from hemosim.training import agent_name, train

    try:
        if args.algo == "nemati-dqn":
            from hemosim.agents.nemati import train_dqn

            record = train_dqn(args.env_id, args.timesteps, args.n_envs, args.seed, args.out, args.eval_patients)
            name = f"{args.env_id.split('/')[-1]}-nemati-dqn-s{args.seed}"
        else:
            record = train(args.env_id, args.timesteps, args.n_envs, args.seed, args.out, args.eval_patients,
                           progress=not args.no_progress)
            name = agent_name(args.env_id, args.seed)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    ev = record["held_out_evaluation"]
    print(f"{name}: trained {record['timesteps']:,} steps; held-out "
          f"({ev['patients']} patients): primary metric {ev['metric']:.2f} +/- {ev['metric_ci95']:.2f}, "
          f"return {ev['return']:.2f}")
    print(f"wrote {Path(args.out) / name}.zip / .json / .png")
    return 0


def _trained_agents(folder: Path, env_ids: list[str] | None) -> dict[str, dict[str, Any]]:
    """The agents ``hemosim train`` saved in ``folder`` (needs the train extra to load them)."""
    records = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not records:
        return {}
    from hemosim.training import load_agent, train_extra_installed

    if not train_extra_installed():
        print(f"note: {len(records)} trained agent(s) in {folder} not loaded without the train extra "
              "(pip install 'hemosim[train]'); their rows are left out")
        return {}

    agents: dict[str, dict[str, Any]] = {}
    for path in records:
        record = json.loads(path.read_text())
        if env_ids and record["env_id"] not in env_ids:
            continue
        if record.get("agent") == "nemati-dqn":
            from hemosim.agents.nemati import load_dqn

            env_id, policy = load_dqn(path)
            name = f"DQN, Nemati 2016 set-up, {record['timesteps']:,} steps, seed {record['seed']} [{path.stem}]"
        else:
            env_id, policy = load_agent(path)
            name = f"PPO (SB3), {record['timesteps']:,} steps, seed {record['seed']} [{path.stem}]"
        agents.setdefault(env_id, {})[name] = policy
    return agents


def _leaderboard(args: argparse.Namespace) -> int:
    from hemosim.leaderboard import BOARDS, leaderboard, markdown

    if not 1 <= args.patients <= len(HELD_OUT_SEEDS):
        print(f"--patients must be in 1..{len(HELD_OUT_SEEDS)} (the held-out pool), got {args.patients}", file=sys.stderr)
        return 2
    if not 1 <= args.train_patients <= 10000:
        print(f"--train-patients must be in 1..10000 (the training pool), got {args.train_patients}", file=sys.stderr)
        return 2
    unknown = sorted(set(args.env or []) - set(BOARDS))
    if unknown:
        print(f"unknown env id(s) {unknown}; allowed: {sorted(BOARDS)}", file=sys.stderr)
        return 2
    agents = _trained_agents(Path(args.agents), args.env)
    shards = None
    if args.ray is not None:
        if args.ray_shards < 1:
            print(f"--ray-shards must be a positive integer, got {args.ray_shards}", file=sys.stderr)
            return 2
        try:
            import ray
        except ImportError:
            print("--ray needs the ray extra: pip install 'hemosim[ray]'", file=sys.stderr)
            return 2
        ray.init(address=None if args.ray == "local" else args.ray, ignore_reinit_error=True)
        shards = args.ray_shards
    t0 = time.perf_counter()
    result = leaderboard(args.env, args.patients, args.train_patients, agents=agents, ray_shards=shards)
    text = markdown(result)
    print(text)
    print(f"leaderboard of {len(result)} env(s) in {time.perf_counter() - t0:.1f} s")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "leaderboard.md").write_text(text)
        (out / "leaderboard.json").write_text(json.dumps(result, indent=1, default=float))
        print(f"wrote {out / 'leaderboard.md'} and {out / 'leaderboard.json'}")
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hemosim", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    ev = sub.add_parser("evaluate", help="evaluate the warfarin baselines on held-out patients (default)")
    _evaluate_args(ev)
    bm = sub.add_parser("benchmark", help="steps/s of every environment and model")
    bm.add_argument("--seconds", type=float, default=2.0, help="timing budget per measurement (s)")
    bm.add_argument("--sizes", type=int, nargs="+", default=[1, 64, 1024, 4096], help="vector sizes")
    bm.add_argument("--env", nargs="*", default=None, help="env ids (default: all registered)")
    bm.add_argument("--quick", action="store_true", help="tiny budget (smoke test)")
    cal = sub.add_parser("calibrate", help="run a calibration or in-silico trial; no name: the calibration report")
    cal.add_argument("name", nargs="?", help="calibration name (see --list); none: every model's published targets "
                     "in one table (results/calibration_report.md / .json)")
    cal.add_argument("rest", nargs=argparse.REMAINDER, help="arguments passed to the calibration")
    cal.add_argument("--list", action="store_true")
    cal.add_argument("--out", default="results", help="report folder (no name only; default results)")
    cal.add_argument("--models", nargs="+", default=None, help="report only these models (no name only; default all)")
    saf = sub.add_parser("safety", help="baselines and a random policy with and without the CDS safety layer")
    saf.add_argument("--patients", type=int, default=200, help="held-out patients per policy (documented run: 1000)")
    saf.add_argument("--env", nargs="+", default=["warfarin", "heparin"], choices=["warfarin", "heparin"])
    saf.add_argument("--json", default=None, help="write the numbers to this JSON file")
    sim = sub.add_parser("simulate", help="what-if: one patient (flags / JSON / TOML) on one regimen: table + PNG",
                         description="hemosim simulate: see hemosim.simulate")
    from hemosim.simulate import add_arguments

    add_arguments(sim)
    tr = sub.add_parser("train", help="train PPO (stable-baselines3) on an env; evaluate on held-out patients")
    tr.add_argument("env_id", help="a hemosim env id, e.g. hemosim/WarfarinDosing-v0")
    tr.add_argument("--algo", default="ppo", choices=["ppo", "nemati-dqn"],
                    help="ppo (any env) or nemati-dqn (the Nemati 2016 set-up; heparin envs)")
    tr.add_argument("--timesteps", type=int, default=200_000)
    tr.add_argument("--n-envs", type=int, default=64, help="patients simulated together (training root seeds)")
    tr.add_argument("--seed", type=int, default=0, help="first training root seed (the pool is 0-9999)")
    tr.add_argument("--out", default="results/agents")
    tr.add_argument("--eval-patients", type=int, default=1000)
    tr.add_argument("--no-progress", action="store_true")
    ds = sub.add_parser("dataset", help="record a Minari dataset of a protocol with known exploration; check IS")
    ds.add_argument("--policy", default="raschke", choices=["raschke"])
    ds.add_argument("--epsilon", type=float, default=0.1, help="exploration share (uniform over 6 rate bins)")
    ds.add_argument("--episodes", type=int, default=1000, help="training patients, one episode each")
    ds.add_argument("--first-seed", type=int, default=0, help="first training root seed (pool 0-9999)")
    ds.add_argument("--json", default=None, help="write the summary to this JSON file")
    lb = sub.add_parser("leaderboard", help="every baseline, random and the best constant per env on held-out patients")
    lb.add_argument("--patients", type=int, default=1000, help="held-out patients per policy (<= 1000)")
    lb.add_argument("--train-patients", type=int, default=1000, help="training patients for the best constant (<= 10000)")
    lb.add_argument("--env", nargs="+", default=None, help="env ids (default: every env)")
    lb.add_argument("--out", default=None, help="write leaderboard.md and leaderboard.json into this directory")
    lb.add_argument("--agents", default="results/agents", help="folder of agents saved by hemosim train")
    lb.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                    help="shard the patients over Ray tasks: a local Ray instance, or a cluster ADDRESS (the ray extra)")
    lb.add_argument("--ray-shards", type=int, default=2, help="Ray tasks per policy (patients split evenly)")
    rep = sub.add_parser("reproduce", help="regenerate every result the README quotes into results/")
    rep.add_argument("--only", nargs="*", default=None, choices=[n for n, _ in REPRODUCE_STEPS])
    rep.add_argument("--check", action="store_true",
                     help="after the steps, compare the results with results/EXPECTED_RESULTS.json; exit 1 on a miss")
    rep.add_argument("--check-only", action="store_true", help="compare the results on disk without running the steps")
    rep.add_argument("--write-expected", action="store_true",
                     help="(maintainers, after an intentional model change) rewrite the expected values from the results")
    rep.add_argument("--expected", default=None, help="expected-values file (default results/EXPECTED_RESULTS.json)")
    return p


def _evaluate_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--patients", type=int, default=1000, help="held-out patients (<= 1000)")
    p.add_argument("--difficulty", default="medium", choices=["easy", "medium", "hard"])
    p.add_argument("--out", default="results", help="output directory for JSON and PNG")
    p.add_argument("--constant-step-mg", type=float, default=0.5, help="grid of constant doses searched")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--no-progress", action="store_true")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["evaluate", *argv]
    args = _parser().parse_args(argv)
    if args.command == "evaluate":
        if not 1 <= args.patients <= 1000:
            print(f"--patients must be in 1..1000 (the held-out pool), got {args.patients}", file=sys.stderr)
            return 2
        return _evaluate(args)
    if args.command == "benchmark":
        return _benchmark(args)
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "safety":
        from hemosim.calibration.clinical_events import safety_main

        return safety_main(["--patients", str(args.patients), "--env", *args.env] + (["--json", args.json] if args.json else []))
    if args.command == "reproduce":
        return _reproduce(args)
    if args.command == "simulate":
        from hemosim.simulate import main as simulate_main

        return simulate_main(args)
    if args.command == "leaderboard":
        return _leaderboard(args)
    if args.command == "train":
        return _train(args)
    if args.command == "dataset":
        return _dataset(args)
    _parser().print_help()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
