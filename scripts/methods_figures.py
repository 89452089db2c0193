"""Regenerate the figures of docs/methods.md (``hemosim reproduce`` step ``methods_figures``).

    PYTHONPATH=src python scripts/methods_figures.py [--out docs/figures]

Every figure is simulated from the package on held-out patients (seeds 100000-100999,
``hemosim.reproducibility.HELD_OUT_SEEDS``; checked with ``assert_held_out``) or drawn from a
results file that another ``hemosim reproduce`` step writes:

* ``methods_warfarin_inr.png``: daily true INR of four held-out patients under the four
  warfarin protocols (``hemosim.agents.warfarin``), medium tier.
* ``methods_heparin_aptt.png``: true aPTT, Raschke weight-based nomogram vs standard care
  (Raschke 1993 control arm), 1,000 held-out patients (median and 10-90 % band) and three
  individual patients.
* ``methods_pomdp_labs.png``: one held-out patient of ``HeparinInfusion-POMDP-v0`` under the
  Raschke nomogram on its laboratory schedule: true aPTT, each aPTT's draw, turnaround and
  reported value, and the infusion rate.
* ``methods_doac_trials.png``: annual rates simulated vs published for the seven arms of
  RE-LY, ROCKET AF and ARISTOTLE, read from ``results/doac_trials/doac_trials.json`` (step
  ``doac_trials``).
* ``methods_dic_course.png``: untreated DIC course by cause (platelets, fibrinogen, ISTH
  score, survival), 1,000 held-out patients per cause.
* ``methods_leaderboard.png``: each env's primary metric with its 95 % interval for every
  leaderboard row, read from ``results/leaderboard.json`` (step ``leaderboard``).

Runs in well under two minutes on one core (most of it is compiling the envs' kernels).
``FIGURES`` lists the file names this script writes (``tests/test_methods_doc.py`` reads it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import gymnasium as gym
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import hemosim  # noqa: E402,F401  (registers the envs)
from hemosim.metrics import rosendaal_ttr  # noqa: E402
from hemosim.reproducibility import HELD_OUT_SEEDS, assert_held_out  # noqa: E402

FIGURES = (
    "methods_warfarin_inr.png",
    "methods_heparin_aptt.png",
    "methods_pomdp_labs.png",
    "methods_doac_trials.png",
    "methods_dic_course.png",
    "methods_leaderboard.png",
)

REPO = Path(__file__).resolve().parent.parent
#: default output folder, relative to the repository root (where docs/methods.md looks for them)
DEFAULT_OUT = "docs/figures"
DOAC_TRIALS_JSON = REPO / "results" / "doac_trials" / "doac_trials.json"
LEADERBOARD_JSON = REPO / "results" / "leaderboard.json"
FIRST = HELD_OUT_SEEDS.start
DPI = 110


def _seeds(n: int, offset: int = 0) -> list[int]:
    seeds = list(range(FIRST + offset, FIRST + offset + n))
    assert_held_out(seeds)
    return seeds


def rollout(env_id: str, policy: Any, seeds: list[int], keys: tuple[str, ...], with_info: bool = False,
            **env_kwargs: Any) -> dict[str, np.ndarray]:
    """One episode per seed in the native vector env; ``info[key]`` per step, NaN after each episode.

    Returns arrays ``(n_patients, n_steps + 1)`` (column 0 is the reset info) and ``"alive"``
    (False from the step whose episode *terminated*, i.e. a death in the DIC and DOAC envs;
    truncation at the horizon does not count).
    """
    n = len(seeds)
    env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **env_kwargs)
    if hasattr(policy, "reset"):
        policy.reset()
    obs, info = env.reset(seed=seeds)
    log = {k: [np.asarray(info[k], dtype=np.float64)] for k in keys}
    alive = [np.ones(n, dtype=bool)]
    active = np.ones(n, dtype=bool)
    while active.any():
        action = policy.predict(obs, info) if with_info else policy.predict(obs)
        action = np.asarray(action).reshape(n, *env.single_action_space.shape)
        obs, _, terminated, truncated, info = env.step(action.astype(env.single_action_space.dtype))
        for k in keys:
            log[k].append(np.where(active, np.asarray(info[k], dtype=np.float64), np.nan))
        alive.append(alive[-1] & ~(active & terminated))
        active &= ~(terminated | truncated)
    env.close()
    out = {k: np.stack(v, axis=1) for k, v in log.items()}
    out["alive"] = np.stack(alive, axis=1)
    return out


def _patient_field(info_patient: Any, key: str, i: int) -> Any:
    value = info_patient[key]
    return value[i] if isinstance(value, (list, tuple, np.ndarray)) else value


def fig_warfarin(out: Path) -> None:
    from hemosim.agents.warfarin import (
        Gage2008Baseline,
        IWPCClinicalBaseline,
        IWPCPharmacogeneticBaseline,
        WarfarinClinicalBaseline,
    )

    seeds = _seeds(4)
    policies: dict[str, Callable[[], Any]] = {
        "Fixed-dose 10/5/5 mg + Intermountain": lambda: WarfarinClinicalBaseline(seed=0),
        "IWPC pharmacogenetic + titration": lambda: IWPCPharmacogeneticBaseline(seed=0),
        "IWPC clinical + titration": lambda: IWPCClinicalBaseline(seed=0),
        "Gage 2008 + titration": lambda: Gage2008Baseline(seed=0),
    }
    env = gym.make_vec("hemosim/WarfarinDosing-v0", num_envs=len(seeds), vectorization_mode="vector_entry_point")
    _, info0 = env.reset(seed=seeds)
    env.close()
    fig, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True, sharey=True)
    print("\n## Warfarin: TTR (Rosendaal, daily true INR) of the four pictured held-out patients")
    for name, make in policies.items():
        log = rollout("hemosim/WarfarinDosing-v0", make(), seeds, ("inr",), with_info=True)
        inr = log["inr"]

        for i, ax in enumerate(axes.flat):
            ax.plot(np.arange(inr.shape[1]), inr[i], lw=1.4, label=name)
        days = np.arange(inr.shape[1], dtype=np.float64)
        ttr = 100 * np.asarray(rosendaal_ttr(days, inr, 2.0, 3.0)).reshape(-1)
        print(f"  {name:40s} " + "  ".join(f"{t:5.1f}" for t in ttr))
    pat = info0["patient"]
    for i, ax in enumerate(axes.flat):
        ax.axhspan(2.0, 3.0, color="tab:green", alpha=0.12, lw=0)
        ax.set_title(f"seed {seeds[i]}: {_patient_field(pat, 'age_years', i):.0f} y, "
                     f"CYP2C9 {_patient_field(pat, 'cyp2c9', i)}, VKORC1 {_patient_field(pat, 'vkorc1', i)}",
                     fontsize=10)
        ax.grid(alpha=0.3)
        ax.set_ylim(0.8, 6.0)
    for ax in axes[1]:
        ax.set_xlabel("day of therapy")
    for ax in axes[:, 0]:
        ax.set_ylabel("true INR (end of day)")
    axes[0, 0].legend(fontsize=8, loc="upper right")
    fig.suptitle("WarfarinDosing-v0 (medium tier): four held-out patients under the four protocols; "
                 "green band = INR 2-3", fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "methods_warfarin_inr.png", dpi=DPI)
    plt.close(fig)


def fig_heparin(out: Path) -> None:
    from hemosim.agents.heparin import RaschkeNomogram, StandardCareNomogram

    seeds = _seeds(1000)
    arms = {"Raschke weight-based nomogram": RaschkeNomogram, "Standard care (assumed steps)": StandardCareNomogram}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    print("\n## Heparin: share of patients with true aPTT in 46-70 s at each 6-h sample (1,000 held-out)")
    for (name, make), color in zip(arms.items(), ("tab:blue", "tab:orange")):
        log = rollout("hemosim/HeparinInfusion-v0", make(), seeds, ("aptt_true_s",))
        aptt = log["aptt_true_s"]
        hours = 6.0 * np.arange(aptt.shape[1])
        q10, q50, q90 = np.nanpercentile(aptt, [10, 50, 90], axis=0)
        axes[0].fill_between(hours, q10, q90, color=color, alpha=0.18, lw=0)
        axes[0].plot(hours, q50, color=color, lw=2, label=f"{name} (median, 10-90 %)")
        for i in range(3):
            axes[1].plot(hours, aptt[i], color=color, lw=1.2, ls=("-", "--", ":")[i],
                         label=f"{name.split(' (')[0]}, seed {seeds[i]}")
        in_range = 100 * np.mean((aptt >= 46) & (aptt <= 70), axis=0)
        print(f"  {name:32s} " + " ".join(f"{v:3.0f}" for v in in_range)
              + f"   (aPTT at 6 h, 10 / 50 / 90th percentile: {q10[1]:.0f} / {q50[1]:.0f} / {q90[1]:.0f} s)")
    for ax in axes:
        ax.axhspan(46, 70, color="tab:green", alpha=0.12, lw=0)
        ax.set_xlabel("hours on heparin")
        ax.set_xticks(np.arange(0, 121, 24))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("true aPTT (s)")
    axes[0].set_title("1,000 held-out patients", fontsize=10)
    axes[1].set_title("three individual patients", fontsize=10)
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=7, ncol=2)
    fig.suptitle("HeparinInfusion-v0 (medium tier): Raschke 1993 arms in silico; green band = aPTT 46-70 s",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "methods_heparin_aptt.png", dpi=DPI)
    plt.close(fig)


def fig_pomdp(out: Path) -> None:
    from hemosim.agents.heparin_pomdp import ScheduledRaschke

    seeds = _seeds(1)
    keys = ("aptt_true_s", "rate_u_per_h", "bolus_u", "hours", "aptt_ordered", "aptt_arrived",
            "aptt_reported_s", "aptt_draw_hours", "lab_cost_chf")
    log = rollout("hemosim/HeparinInfusion-POMDP-v0", ScheduledRaschke(), seeds, keys)
    hours = log["hours"][0]
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 6.2), sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    ax.axhspan(46, 70, color="tab:green", alpha=0.12, lw=0)
    ax.plot(hours, log["aptt_true_s"][0], color="0.35", lw=1.4, label="true aPTT (hourly, hidden)")
    arrived = np.flatnonzero(log["aptt_arrived"][0] > 0.5)
    print(f"\n## POMDP: seed {seeds[0]}, Raschke nomogram on its schedule (routine aPTT)")
    print("  drawn at h | reported at h | turnaround h | reported aPTT s")
    for j, k in enumerate(arrived):
        draw_h, arr_h, value = log["aptt_draw_hours"][0, k], hours[k], log["aptt_reported_s"][0, k]
        ax.plot([draw_h, arr_h], [value, value], color="tab:red", lw=1.2)
        ax.plot(draw_h, value, "o", color="tab:red", ms=5, label="aPTT drawn (result, with assay error)" if j == 0 else None)
        ax.plot(arr_h, value, ">", color="tab:red", ms=6, label="result reported (next decision)" if j == 0 else None)
        print(f"  {draw_h:10.0f} | {arr_h:13.0f} | {arr_h - draw_h:12.0f} | {value:6.1f}")
    ordered = np.flatnonzero(log["aptt_ordered"][0] > 0.5)
    order_h = hours[ordered] - 1.0  # ordered at the start of the hour whose step reports it
    ax.plot(order_h, np.full(order_h.shape, 25.0), "v", color="tab:purple", ms=6, label="aPTT ordered")
    ax.set_ylabel("aPTT (s)")
    ax.set_ylim(20, max(110.0, float(np.nanmax(log["aptt_true_s"][0])) + 5))
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    ax2.step(hours, log["rate_u_per_h"][0], where="pre", color="tab:blue", label="infusion rate (U/h)")
    bolus = np.flatnonzero(log["bolus_u"][0] > 0)
    for b in bolus:
        ax2.annotate(f"bolus {log['bolus_u'][0, b]:.0f} U", (hours[b] - 1, log["rate_u_per_h"][0, b]),
                     fontsize=8, xytext=(3, 6), textcoords="offset points")
    ax2.set_ylabel("U/h")
    ax2.set_xlabel("hours on heparin")
    ax2.set_xticks(np.arange(0, 121, 12))
    ax2.grid(alpha=0.3)
    cost = float(np.nansum(log["lab_cost_chf"][0]))
    fig.suptitle(f"HeparinInfusion-POMDP-v0: held-out patient {seeds[0]}, Raschke nomogram on its laboratory "
                 f"schedule (routine; {len(ordered)} aPTTs, lab cost {cost:.0f} CHF)", fontsize=10.5)
    fig.tight_layout()
    fig.savefig(out / "methods_pomdp_labs.png", dpi=DPI)
    plt.close(fig)


def fig_doac(out: Path) -> None:
    rates = json.loads(DOAC_TRIALS_JSON.read_text())["summary"]["rates"]
    endpoints = (("stroke_se", "stroke / systemic embolism"), ("major_bleeding", "major bleeding"),
                 ("ich", "intracranial haemorrhage"))
    arms = [(r["trial"], r["arm"]) for r in rates if r["endpoint"] == "stroke_se"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.4), sharey=True)
    print("\n## DOAC trials (results/doac_trials/doac_trials.json): simulated / published %/yr")
    for ax, (ep, title) in zip(axes, endpoints):
        rows = {(r["trial"], r["arm"]): r for r in rates if r["endpoint"] == ep}
        for y, arm in enumerate(arms):
            r = rows[arm]
            ax.errorbar(r["rate"], y + 0.12, xerr=[[r["rate"] - r["rate_lo"]], [r["rate_hi"] - r["rate"]]],
                        fmt="o", color="tab:blue", ms=5, capsize=2, label="simulated (95 % CI)" if y == 0 else None)
            pub_lo, pub_hi = r.get("published_lo"), r.get("published_hi")
            xerr = None if pub_lo is None else [[r["published"] - pub_lo], [pub_hi - r["published"]]]
            ax.errorbar(r["published"], y - 0.12, xerr=xerr, fmt="s", color="tab:red", ms=5, capsize=2,
                        label="published (95 % CI from events)" if y == 0 else None)
            print(f"  {ep:15s} {arm[0]:10s} {arm[1]:15s} {r['rate']:5.2f} / {r['published']:5.2f}"
                  + ("  (fitted)" if r.get("fitted") else ""))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("% per year")
        ax.grid(alpha=0.3)
        ax.set_xlim(left=0)
    axes[0].set_yticks(range(len(arms)))
    axes[0].set_yticklabels([f"{t} {a.replace('_', ' ')}" for t, a in arms], fontsize=9)
    axes[0].invert_yaxis()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=9, loc="lower center", ncol=2)
    fig.suptitle("DOAC model: RE-LY, ROCKET AF and ARISTOTLE arms in silico (65,536 patients per trial); "
                 "stroke/SE and major bleeding fitted, ICH validation", fontsize=10.5)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(out / "methods_doac_trials.png", dpi=DPI)
    plt.close(fig)


def fig_dic(out: Path) -> None:
    from hemosim.agents.dic import NoTreatmentPolicy

    seeds = _seeds(1000)
    keys = ("platelets_10e9_per_l", "fibrinogen_g_per_l", "isth_score_true")
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.9))
    print("\n## DIC untreated, 1,000 held-out patients per cause: alive at day 7 %, overt DIC at admission %")
    for cause, color in zip(("sepsis", "trauma", "obstetric"), ("tab:red", "tab:blue", "tab:purple")):
        log = rollout("hemosim/DICManagement-v0", NoTreatmentPolicy(), seeds, keys, with_info=True, cause=cause)
        hours = 6.0 * np.arange(log["alive"].shape[1])
        for ax, key in zip(axes[:3], keys):
            q25, q50, q75 = np.nanpercentile(log[key], [25, 50, 75], axis=0)
            ax.fill_between(hours, q25, q75, color=color, alpha=0.15, lw=0)
            ax.plot(hours, q50, color=color, lw=2, label=cause)
        alive = 100 * log["alive"].mean(axis=0)
        axes[3].step(hours, alive, where="post", color=color, lw=2, label=cause)
        overt = 100 * np.mean(log["isth_score_true"][:, 0] >= 5)
        print(f"  {cause:10s} alive at day 7 {alive[-1]:5.1f}   overt at admission (true labs) {overt:5.1f}")
    titles = ("platelets (x10^9/L)", "fibrinogen (g/L)", "ISTH overt-DIC score (true labs)", "alive (%)")
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("hours from admission")
        ax.set_xticks(np.arange(0, 169, 24))
        ax.grid(alpha=0.3)
    axes[2].axhline(5, color="k", lw=0.8, ls="--")
    axes[0].legend(fontsize=8)
    fig.suptitle("DICManagement-v0, no treatment: natural course by cause (median and IQR of living patients)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(out / "methods_dic_course.png", dpi=DPI)
    plt.close(fig)


def fig_leaderboard(out: Path) -> None:
    board = json.loads(LEADERBOARD_JSON.read_text())
    fig, axes = plt.subplots(len(board), 1, figsize=(10, 3.0 * len(board)))
    for ax, (env_id, b) in zip(np.atleast_1d(axes), board.items()):
        rows = sorted(b["rows"].items(), key=lambda kv: kv[1]["metric"], reverse=b.get("higher_is_better", True))
        names = [n if len(n) <= 60 else n[:57] + "..." for n, _ in rows]
        vals = np.array([r["metric"] for _, r in rows])
        ci = np.array([r.get("metric_ci95") or 0.0 for _, r in rows])
        colors = ["tab:green" if ("PPO" in n or "DQN" in n) else "0.55" if ("random" in n.lower() or "constant" in n)
                  else "tab:blue" for n, _ in rows]
        for y, (v, c, col) in enumerate(zip(vals, ci, colors)):
            ax.errorbar(v, y, xerr=c, fmt="o", color=col, ms=6, capsize=3)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(names, fontsize=8)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        ax.set_title(f"{env_id.split('/')[-1]}: {b['metric']} (95 % CI)", fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle("Leaderboard (results/leaderboard.json), 1,000 held-out patients: blue = clinical baseline, green = trained agent, "
                 "grey = random / best constant", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.985))
    fig.savefig(out / "methods_leaderboard.png", dpi=DPI)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for make in (fig_warfarin, fig_heparin, fig_pomdp, fig_doac, fig_dic, fig_leaderboard):
        t = time.perf_counter()
        make(out)
        print(f"  [{make.__name__}: {time.perf_counter() - t:.1f} s]")
    print(f"\nwrote {', '.join(FIGURES)} to {out} in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
