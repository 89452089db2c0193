"""DIC: the fit to PROWESS, the natural course by cause, and the policy table.

``python -m hemosim.calibration.dic_trials [--fit] [--out results]``

* ``--fit`` (training seeds 0-3999, sepsis): the median admission trigger of sepsis so that
  29 % have overt DIC (ISTH >= 5, true labs) at admission, then the death hazard
  ``h_d exp(beta O)`` so that the untreated 28-day mortality is 43 % with and 27 % without
  overt DIC at admission (PROWESS placebo arm, Dhainaut 2004 J Thromb Haemost 2:1924; FACTS
  7.2). The fit uses the expected mortality from the hazard integral along each patient's
  organ-load path (smooth in the parameters); bleeding and embolic deaths are left out of the
  fit and appear as the residual of the simulated table.
* natural course: 1,000 held-out patients per cause (seeds 100000-100999), no treatment.
* policies: 1,000 held-out patients (mixed causes, medium tier) under each baseline.

28-day mortality = death in the 7-day episode (drawn) + for survivors the expected
``late_death_probability`` (the untreated course continued for 21 days).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from hemosim.envs.dic import _ISTH_T, EPISODE_STEPS, DICSimulator
from hemosim.models import dic as m
from hemosim.patients.dic import T0_MEDIAN, sample_patients
from hemosim.reproducibility import HELD_OUT_SEEDS, assert_held_out, assert_train
from hemosim.sim.rng import patient_key

__all__ = ["PROWESS", "COHORT_ROWS", "fit", "run_policy", "natural_course", "policy_table", "main"]

#: PROWESS placebo arm (Dhainaut 2004; FACTS 7.2): fitted
PROWESS = {"overt_share": 454 / 1568, "mortality_overt": 0.43, "mortality_not_overt": 0.27}
#: other sepsis cohorts of FACTS 7.2: compared only (not fitted)
COHORT_ROWS = [
    ("PROWESS placebo (Dhainaut 2004), n=1568", 0.29, 0.43, 0.27, "fitted"),
    ("Korean sepsis cohort (Thromb Res 2010), n=135", None, 0.476, 0.092, "compared (no-DIC group)"),
    ("Korean sepsis (Blood 2006 abstract), n=100", None, 0.44, 0.115, "compared (no-DIC group)"),
    ("ICU cohort n=450 (scilit abstract)", 90 / 450, 0.78, 0.29, "compared (score >= 5 vs < 5)"),
]


def _sim(n: int, cause: str, t0_median=None, params: m.DicParameters | None = None,
         difficulty: str = "medium") -> DICSimulator:
    attrs: dict[str, Any] = {}
    if t0_median is not None:
        attrs["t0_median"] = np.asarray(t0_median)
    if params is not None:
        attrs["params_model"] = params
    cls = type("FitSim", (DICSimulator,), attrs) if attrs else DICSimulator
    return cls(n, difficulty=difficulty, cause=cause)


def _keys(seeds: np.ndarray) -> np.ndarray:
    return patient_key(np.asarray(seeds, dtype=np.uint64), 0)


def _overt_share(t0_sepsis: float, seeds: np.ndarray) -> float:
    med = T0_MEDIAN.copy()
    med[0] = t0_sepsis
    sim = _sim(len(seeds), "sepsis", med)
    sim.reset_patients(np.ones(len(seeds), dtype=bool), _keys(seeds), None)
    return float(np.mean(sim.state[:, _ISTH_T] >= 5))  # true ISTH score column


def _hazard_integrals(seeds: np.ndarray, t0_sepsis: float, beta: float, params: m.DicParameters) -> tuple:
    med = T0_MEDIAN.copy()
    med[0] = t0_sepsis
    p = sample_patients(_keys(seeds), cause_mix=np.array([1.0, 0.0, 0.0]), susceptibility_log_sd=0.3, t0_median=med)
    k_o = m.LN2 / params.organ_load_half_life_h
    o = p.trigger_t0 * (1.0 - np.exp(-k_o * p.onset_to_admission_h))
    total = np.zeros(len(seeds))
    for hour in range(int(params.late_horizon_h)):
        g = p.trigger_t0 * (p.trigger_final_ratio + (1 - p.trigger_final_ratio) * np.exp(-(hour + 0.5) / p.trigger_tau_h))
        o_new = g + (o - g) * np.exp(-k_o)
        total += np.exp(beta * 0.5 * (o + o_new))
        o = o_new
    return total


def fit(n: int = 4000, verbose: bool = True) -> dict[str, float]:
    """Fit the sepsis admission trigger and the death hazard to PROWESS (training seeds)."""
    from scipy.optimize import brentq, fsolve

    seeds = np.arange(n)
    assert_train(seeds)
    t0 = brentq(lambda t: _overt_share(t, seeds) - PROWESS["overt_share"], 0.2, 20.0, xtol=1e-3)
    med = T0_MEDIAN.copy()
    med[0] = t0
    sim = _sim(n, "sepsis", med)
    sim.reset_patients(np.ones(n, dtype=bool), _keys(seeds), None)
    overt = sim.state[:, _ISTH_T] >= 5
    params = m.DIC_TYPICAL

    def resid(z):
        h_d, beta = np.exp(z)
        integ = _hazard_integrals(seeds, t0, beta, params)
        mort = 1.0 - np.exp(-h_d * integ)
        return [mort[overt].mean() - PROWESS["mortality_overt"], mort[~overt].mean() - PROWESS["mortality_not_overt"]]

    z = fsolve(resid, np.log([1e-4, 0.3]), xtol=1e-6)
    h_d, beta = np.exp(z)
    out = {"t0_median_sepsis": float(t0), "death_base_sepsis_per_h": float(h_d),
           "death_beta_per_trigger_unit": float(beta), "overt_share": float(overt.mean()),
           "residual_mortality": [float(r) for r in resid(z)]}
    if verbose:
        print(json.dumps(out, indent=1))
    return out


def run_policy(policy_factory: Callable[[], Any], seeds: Sequence[int], cause: str = "mixed",
               difficulty: str = "medium") -> dict[str, np.ndarray]:
    """Run one episode per seed (vector env) and return per-patient outcome arrays."""
    import gymnasium as gym

    import hemosim  # noqa: F401

    seeds = np.asarray(list(seeds))
    n = len(seeds)
    venv = gym.make_vec("hemosim/DICManagement-v0", num_envs=n, vectorization_mode="vector_entry_point",
                        difficulty=difficulty, cause=cause)
    obs, info = venv.reset(seed=[int(s) for s in seeds])
    policy = policy_factory()
    if hasattr(policy, "reset"):
        policy.reset()
    res = {
        "overt_at_admission": info["overt_dic"].copy(),
        "cause": info["patient"]["cause"].copy(),
        "overt_ever": info["overt_dic"].copy(),
        "died_7d": np.zeros(n, bool), "late_p": np.zeros(n), "major": np.zeros(n, bool),
        "crnm": np.zeros(n, bool), "ich": np.zeros(n, bool), "te": np.zeros(n, bool),
        "ffp_ml_per_kg": np.zeros(n), "platelet_doses": np.zeros(n), "cryo_doses": np.zeros(n),
        "heparin_therapeutic_steps": np.zeros(n), "min_platelets": info["platelets_10e9_per_l"].copy(),
    }
    done = np.zeros(n, bool)
    for _ in range(EPISODE_STEPS):
        actions = policy.predict(obs, info)
        obs, rew, term, trunc, info = venv.step(actions)
        live = ~done
        ev = info["events"]
        res["died_7d"] |= live & ev["death"]
        res["major"] |= live & ev["major_bleeding"]
        res["crnm"] |= live & ev["crnm_bleeding"]
        res["ich"] |= live & ev["intracranial_haemorrhage"]
        res["te"] |= live & ev["thromboembolism"]
        res["overt_ever"] |= live & info["overt_dic"]
        res["ffp_ml_per_kg"] += np.where(live, info["ffp_ml_per_kg"], 0.0)
        res["platelet_doses"] += np.where(live, info["platelet_doses"], 0)
        res["cryo_doses"] += np.where(live, info["cryo_doses"], 0)
        res["heparin_therapeutic_steps"] += np.where(live, info["heparin_level"] == 2, 0)
        res["min_platelets"] = np.where(live, np.minimum(res["min_platelets"], info["platelets_10e9_per_l"]),
                                        res["min_platelets"])
        res["late_p"] = np.where(live & trunc, info["late_death_probability"], res["late_p"])
        done |= term | trunc
    venv.close()
    res["mortality_28d"] = np.where(res["died_7d"], 1.0, res["late_p"])
    return res


def _se(p: float, n: int) -> float:
    return float(np.sqrt(max(p * (1 - p), 1e-12) / max(n, 1)))


def natural_course(n: int = 1000) -> list[dict[str, Any]]:
    """Untreated course on held-out seeds, one row per cause (sepsis first)."""
    from hemosim.agents.dic import NoTreatmentPolicy

    seeds = np.asarray(HELD_OUT_SEEDS)[:n]
    assert_held_out(seeds)
    rows = []
    for cause in ("sepsis", "trauma", "obstetric"):
        r = run_policy(NoTreatmentPolicy, seeds, cause=cause)
        ov = r["overt_at_admission"]
        rows.append({
            "cause": cause, "n": int(n),
            "overt_at_admission": float(ov.mean()),
            "overt_within_7d": float(r["overt_ever"].mean()),
            "mortality_28d_overt": float(r["mortality_28d"][ov].mean()) if ov.any() else float("nan"),
            "mortality_28d_not_overt": float(r["mortality_28d"][~ov].mean()),
            "se_overt": _se(float(r["mortality_28d"][ov].mean()), int(ov.sum())) if ov.any() else float("nan"),
            "se_not_overt": _se(float(r["mortality_28d"][~ov].mean()), int((~ov).sum())),
            "death_within_7d": float(r["died_7d"].mean()),
            "major_bleeding_7d": float(r["major"].mean()),
            "thromboembolism_7d": float(r["te"].mean()),
        })
    return rows


POLICIES: dict[str, Callable[[], Any]] = {}


def _policies() -> dict[str, Callable[[], Any]]:
    from hemosim.agents import dic as a

    return {
        "BCSH 2009": a.BCSH2009Policy,
        "ISTH 2013": a.ISTH2013Policy,
        "no treatment": a.NoTreatmentPolicy,
        "transfuse to normal": a.TransfuseToNormalPolicy,
        "random": lambda: a.DICRandomPolicy(seed=0),
    }


def policy_table(n: int = 1000) -> list[dict[str, Any]]:
    """Each baseline on the held-out patients (mixed causes, medium tier)."""
    seeds = np.asarray(HELD_OUT_SEEDS)[:n]
    assert_held_out(seeds)
    rows = []
    runs = {name: run_policy(factory, seeds) for name, factory in _policies().items()}
    untreated = runs["no treatment"]["mortality_28d"]
    for name, r in runs.items():
        diff = r["mortality_28d"] - untreated  # paired: the same patients and random numbers
        rows.append({
            "policy": name, "n": int(n),
            "mortality_28d": float(r["mortality_28d"].mean()),
            "se_mortality": float(r["mortality_28d"].std(ddof=1) / np.sqrt(n)),
            "death_7d": float(r["died_7d"].mean()),
            "major_bleeding": float(r["major"].mean()),
            "clinically_relevant_bleeding": float((r["major"] | r["crnm"]).mean()),
            "intracranial": float(r["ich"].mean()),
            "thromboembolism": float(r["te"].mean()),
            "ffp_ml_per_kg": float(r["ffp_ml_per_kg"].mean()),
            "platelet_doses": float(r["platelet_doses"].mean()),
            "cryo_doses": float(r["cryo_doses"].mean()),
            "therapeutic_heparin_steps": float(r["heparin_therapeutic_steps"].mean()),
            "mortality_diff_vs_untreated": float(diff.mean()),
            "se_mortality_diff_paired": float(diff.std(ddof=1) / np.sqrt(n)),
            "major_bleeding_diff_vs_untreated": float((r["major"].astype(float) - runs["no treatment"]["major"]).mean()),
        })
    return rows


def format_tables(nat: list[dict[str, Any]], pol: list[dict[str, Any]]) -> str:
    lines = ["Natural course without treatment (held-out seeds 100000-100999 per cause; medium tier)", "",
             "| cause | overt DIC at admission | overt within 7 d | 28-d mortality, overt | 28-d mortality, not overt "
             "| death by day 7 | major bleeding 7 d | thromboembolism 7 d |",
             "|---|---|---|---|---|---|---|---|"]
    for r in nat:
        lines.append(f"| {r['cause']} | {r['overt_at_admission']:.1%} | {r['overt_within_7d']:.1%} | "
                     f"{r['mortality_28d_overt']:.1%} (SE {r['se_overt']:.1%}) | {r['mortality_28d_not_overt']:.1%} "
                     f"(SE {r['se_not_overt']:.1%}) | {r['death_within_7d']:.1%} | {r['major_bleeding_7d']:.1%} | "
                     f"{r['thromboembolism_7d']:.1%} |")
    lines += ["", "Published sepsis cohorts (FACTS 7.2)", "",
              "| cohort | overt share | mortality overt | mortality not overt | use |", "|---|---|---|---|---|"]
    for name, share, mo, mn, use in COHORT_ROWS:
        lines.append(f"| {name} | {'' if share is None else f'{share:.0%}'} | {mo:.1%} | {mn:.1%} | {use} |")
    lines += ["", "Policies on 1,000 held-out patients (seeds 100000-100999, mixed causes, medium tier)", "",
              "| policy | 28-d mortality | vs untreated (paired SE) | death by day 7 | major bleeding | "
              "major or CRNM bleeding | ICH | thromboembolism | FFP mL/kg | platelet doses | cryo doses | "
              "therapeutic heparin steps |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in pol:
        lines.append(f"| {r['policy']} | {r['mortality_28d']:.1%} (SE {r['se_mortality']:.1%}) | "
                     f"{100 * r['mortality_diff_vs_untreated']:+.1f} points ({100 * r['se_mortality_diff_paired']:.1f}) | "
                     f"{r['death_7d']:.1%} | "
                     f"{r['major_bleeding']:.1%} | {r['clinically_relevant_bleeding']:.1%} | {r['intracranial']:.1%} | "
                     f"{r['thromboembolism']:.1%} | {r['ffp_ml_per_kg']:.1f} | {r['platelet_doses']:.2f} | "
                     f"{r['cryo_doses']:.2f} | {r['therapeutic_heparin_steps']:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hemosim.calibration.dic_trials", description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="rerun the PROWESS fit (training seeds)")
    parser.add_argument("--n", type=int, default=1000, help="held-out patients per table row (<= 1000)")
    parser.add_argument("--out", type=Path, default=None, help="folder for dic_trials.json / .md")
    args = parser.parse_args(argv)
    if args.fit:
        fit()
    nat = natural_course(args.n)
    pol = policy_table(args.n)
    text = format_tables(nat, pol)
    print(text)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "dic_trials.json").write_text(json.dumps({"natural_course": nat, "policies": pol}, indent=1))
        (args.out / "dic_trials.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
