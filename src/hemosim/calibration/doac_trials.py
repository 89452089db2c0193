"""In-silico RE-LY, ROCKET AF and ARISTOTLE, and the script that fits the DOAC model's few free parameters.

Usage::

    python -m hemosim.calibration.doac_trials [--out results/doac_trials] [--patients-per-arm 16384]
    python -m hemosim.calibration.doac_trials --fit      # refit FittedParameters, then validate

Each trial's arms are simulated on one virtual cohort drawn from the trial's preset
(``hemosim.patients.af``; the same patients in every arm, as common random numbers) for the
trial's median follow-up. Per arm the table gives the simulated annual rate of stroke/SE,
major bleeding, intracranial haemorrhage, GI bleeding, MI and all-cause death (first events
per 100 patient-years, exact Poisson 95 % interval) beside the published rate and its
derived interval (``doac_targets.rate_interval``), and the simulated rate ratio vs the
trial's warfarin arm beside the published hazard ratio. The simulated ratio's interval
treats the arms as independent, which is conservative because the arms share patients.

Fitting (``--fit``): the nineteen parameters of ``hemosim.models.doac.FittedParameters`` are
solved so that the *expected* first-event rates (integrated hazards, smooth in the
parameters) of a separate fitting cohort (root seeds ``FIT_SEEDS``) match the fitted targets
``doac_targets.FITTED_TARGETS``: per trial, the warfarin-arm stroke/SE and major-bleeding
rates set the two scales; per drug, the DOAC-arm stroke/SE and major-bleeding rates set
EC50 and the bleeding coefficient (the two dabigatran arms through their pooled events);
the RE-LY D150 / D110 major-bleeding ratio sets the global exposure exponent; the pooled RE-LY and
ARISTOTLE warfarin-arm death rates set the background-mortality scale. Each parameter is
updated by a secant step in log space until every fitted rate is
within 0.3 %. Validation then uses a different, larger cohort and sampled events.

Seeds: the cohorts use their own seed space, outside the project's pools
--------------------------------------------------------------------------
``hemosim.reproducibility`` reserves training root seeds ``range(0, 10000)`` and held-out
evaluation root seeds ``range(100000, 101000)`` for the environments (``assert_train`` /
``assert_held_out``; there, patient ``i`` of a vector env seeded ``s`` is the env seeded ``s + i``).
A trial cohort is a different object: one root seed per trial and ``n`` patients under it,
patient ``j`` having key ``rng.patient_key(root, j)``. The validation cohorts hold 65,536
patients per trial (the default ``--patients-per-arm``), more than the 1,000 seeds of the
held-out pool, so they cannot be drawn from it, and drawing them from the training pool would
mix calibration patients with the patients agents train on. The cohorts therefore use root
seeds of their own: validation ``TRIAL_SEEDS`` = 910,001-910,003 and fitting ``FIT_SEEDS`` =
911,001-911,003 (``TRIAL_SEEDS + FIT_SEED_OFFSET``), all outside both pools. Fitting and
validation root seeds differ, so their patient keys are disjoint (the counter-based hash
gives distinct keys; ``tests/calibration/test_doac_trials.py`` asserts the key sets do
not intersect at the default sizes): the validation table is not computed on the
patients the parameters were fitted on. These seeds are fixed; changing them would change
every simulated number in ``docs/models/doac.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from hemosim.calibration.doac_targets import (
    FITTED_SUBGROUP_RATIOS,
    FITTED_TARGETS,
    REPORTED_ENDPOINTS,
    SUBGROUP_TARGETS,
    published_subgroup_rate,
    stratum_mask,
    RELY_D150_VS_D110_STROKE_HR,
    TRIALS,
    WHITE_2007_TTR,
    WRF_FRACTION_RELY,
    Arm,
    Trial,
    rate_interval,
)
from hemosim.calibration.results_json import jsonable
from hemosim.label_rules import apixaban_reduction_criteria_count
from hemosim.models import doac
from hemosim.models.doac import (
    DAYS_PER_YEAR,
    FITTED_PARAMETERS,
    PK_PARAMETERS,
    REDUCED,
    STANDARD,
    FittedParameters,
    SimulationResult,
    simulate,
    steady_state_profile,
)
from hemosim.patients.af import AF_PRESETS, AFCohort, sample_cohort
from hemosim.sim import rng

__all__ = ["main", "run_trials", "summarise", "subgroup_analyses", "subgroup_markdown", "fit", "exposure_table", "arm_dose_levels", "TRIAL_SEEDS", "FIT_SEEDS"]

#: Root seeds of the validation cohorts (one per trial) and of the fitting cohorts; outside the
#: training / held-out pools on purpose (see "Seeds" in the module docstring).
TRIAL_SEEDS: dict[str, int] = {"rely": 910_001, "rocket": 910_002, "aristotle": 910_003}
FIT_SEED_OFFSET = 1_000
FIT_SEEDS: dict[str, int] = {k: v + FIT_SEED_OFFSET for k, v in TRIAL_SEEDS.items()}


def arm_dose_levels(arm: Arm, cohort: AFCohort) -> np.ndarray:
    """Per-patient dose level of a trial arm (its dose rule applied to the baseline covariates)."""
    n = len(cohort)
    if arm.dose_rule in ("fixed_standard", "warfarin"):
        return np.full(n, STANDARD)
    if arm.dose_rule == "fixed_reduced":
        return np.full(n, REDUCED)
    if arm.dose_rule == "rocket_renal":  # ROCKET AF: 15 mg for CrCl 30-49 mL/min (Patel 2011)
        return np.where(cohort.crcl_ml_per_min < 50.0, REDUCED, STANDARD)
    if arm.dose_rule == "aristotle_2of3":  # ARISTOTLE: 2.5 mg bid with >= 2 of age >= 80, <= 60 kg, SCr >= 1.5
        n_crit = apixaban_reduction_criteria_count(cohort.age_y, cohort.weight_kg, cohort.scr_mg_per_dl)
        return np.where(n_crit >= 2, REDUCED, STANDARD)
    raise ValueError(f"unknown dose rule {arm.dose_rule!r}")


def trial_cohort(trial_key: str, n_patients: int, seed: int) -> AFCohort:
    return sample_cohort(rng.patient_key(np.uint64(seed), np.arange(n_patients)), TRIALS[trial_key].preset)


def run_trials(
    n_patients: int,
    fitted: FittedParameters = FITTED_PARAMETERS,
    seeds: dict[str, int] | None = None,
    trials: tuple[str, ...] = tuple(TRIALS),
) -> dict[str, dict[str, Any]]:
    """Simulate every arm of each trial on its cohort; returns {trial: {"cohort", "arms": {arm: result}}}."""
    seeds = seeds or TRIAL_SEEDS
    out: dict[str, dict[str, Any]] = {}
    for key in trials:
        trial = TRIALS[key]
        cohort = trial_cohort(key, n_patients, seeds[key])
        days = int(round(trial.median_follow_up_years * DAYS_PER_YEAR))
        arms = {}
        for arm in trial.arms:
            arms[arm.name] = simulate(cohort, arm.drug, arm_dose_levels(arm, cohort), days, fitted=fitted)
        out[key] = {"cohort": cohort, "arms": arms, "days": days}
    return out


def _rate(events: float, py: float) -> float:
    return 100.0 * events / py


def _ratio_ci(a: float, b: float, pya: float, pyb: float) -> tuple[float, float, float]:
    rr = (a / pya) / (b / pyb) if a > 0 and b > 0 else float("nan")
    if a > 0 and b > 0:
        se = np.sqrt(1.0 / a + 1.0 / b)
        return rr, float(rr * np.exp(-1.96 * se)), float(rr * np.exp(1.96 * se))
    return rr, float("nan"), float("nan")


def summarise(sim: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per-arm rates and ratios beside the published targets (JSON-serialisable)."""
    rows: list[dict[str, Any]] = []
    hrs: list[dict[str, Any]] = []
    for key, block in sim.items():
        trial: Trial = TRIALS[key]
        wname = trial.warfarin.name
        wres: SimulationResult = block["arms"][wname]
        for arm in trial.arms:
            res: SimulationResult = block["arms"][arm.name]
            py = res.patient_years
            for e in REPORTED_ENDPOINTS:
                ev = res.first_events(e)
                lo, hi = rate_interval(ev, py)
                tgt = arm.rates.get(e)
                row = {
                    "trial": trial.name, "trial_key": key, "arm": arm.name, "endpoint": e,
                    "patients": len(block["cohort"]), "patient_years": py, "events": ev,
                    "rate": _rate(ev, py), "rate_lo": lo, "rate_hi": hi,
                    "expected_rate": res.rate_per_100py(e, expected=True),
                }
                if tgt is not None:
                    plo, phi = tgt.interval
                    row.update({"published": tgt.rate_per_100py, "published_lo": plo, "published_hi": phi,
                                "published_events": tgt.n_events, "published_patient_years": tgt.patient_years,
                                "source": tgt.source, "tag": tgt.tag,
                                "within_interval": bool(plo <= row["rate"] <= phi),
                                "residual_per_100py": row["rate"] - tgt.rate_per_100py,
                                "fitted": (key, arm.name, e) in FITTED_TARGETS})
                rows.append(row)
            if arm.name == wname:
                continue
            for e, t in arm.hazard_ratios.items():
                rr, lo, hi = _ratio_ci(res.first_events(e), wres.first_events(e), py, wres.patient_years)
                rr_exp = (res.rate_per_100py(e, expected=True) / wres.rate_per_100py(e, expected=True))
                same_side = None
                if t.excludes_one:
                    same_side = bool((rr < 1.0) == (t.hr < 1.0))
                hrs.append({"trial": trial.name, "trial_key": key, "arm": arm.name, "endpoint": e,
                            "simulated": rr, "simulated_lo": lo, "simulated_hi": hi, "expected": rr_exp,
                            "published": t.hr, "published_lo": t.lo, "published_hi": t.hi,
                            "published_excludes_1": t.excludes_one, "same_side_of_1": same_side,
                            "source": t.source, "tag": t.tag})
    return {"rates": rows, "hazard_ratios": hrs}


def secondary_analyses(sim: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Targets not used for fitting: warfarin outcomes by TTR, D150 vs D110, renal strata, renal decline."""
    out: dict[str, Any] = {}
    # White 2007: warfarin-arm rates by individual TTR band, pooled over the three trials.
    bands = {"good": (0.75, 1.01), "moderate": (0.60, 0.75), "poor": (-0.01, 0.60)}
    white: dict[str, dict[str, Any]] = {}
    for e in ("stroke_se", "major_bleeding", "death"):
        white[e] = {}
        for band, (lo, hi) in bands.items():
            ev = py = 0.0
            for key, block in sim.items():
                res = block["arms"][TRIALS[key].warfarin.name]
                ttr = block["cohort"].ttr
                m = (ttr >= lo) & (ttr < hi)
                ev += float((res.state.first_day[m, doac.ENDPOINTS.index(e)] >= 0).sum())
                py += float(res.state.days_followed[m].sum() / DAYS_PER_YEAR)
            white[e][band] = {"simulated": _rate(ev, py) if py > 0 else float("nan"),
                              "published": WHITE_2007_TTR[e].get(band)}
        good, poor = white[e]["good"]["simulated"], white[e]["poor"]["simulated"]
        ratio_sim = poor / good if good > 0 and poor > 0 else float("nan")  # nan: too few events (tiny runs)
        ratio_pub = WHITE_2007_TTR[e]["poor"] / WHITE_2007_TTR[e]["good"]
        white[e]["poor_over_good"] = {"simulated": ratio_sim, "published": ratio_pub,
                                      "residual_log": float(np.log(ratio_sim / ratio_pub))}
    out["white_2007_ttr"] = white
    if "rely" in sim:
        arms = sim["rely"]["arms"]
        a, b = arms["dabigatran_150"], arms["dabigatran_110"]
        rr, lo, hi = _ratio_ci(a.first_events("stroke_se"), b.first_events("stroke_se"), a.patient_years, b.patient_years)
        out["rely_d150_vs_d110_stroke_se"] = {"simulated": rr, "simulated_lo": lo, "simulated_hi": hi,
                                              "published": RELY_D150_VS_D110_STROKE_HR[0],
                                              "published_lo": RELY_D150_VS_D110_STROKE_HR[1],
                                              "published_hi": RELY_D150_VS_D110_STROKE_HR[2],
                                              "source": "US Pradaxa PI Table 4 [S3]"}
        # worsening renal function (> 20 % CrCl fall) by the end of follow-up, among survivors
        wrf = {}
        for name, res in arms.items():
            st = res.state
            alive = st.alive
            fall = st.crcl_ml_per_min() < 0.8 * st.crcl_baseline_ml_per_min
            decline = (st.crcl_ml_per_min() - st.crcl_baseline_ml_per_min)[alive].mean()
            wrf[name] = {"wrf_fraction": float(fall[alive].mean()), "mean_crcl_change_ml_per_min": float(decline)}
        out["rely_renal_course"] = {"simulated": wrf, "published_wrf_fraction": WRF_FRACTION_RELY,
                                    "published_source": "AHJ 2018;198:169 (24.2 % over median 1.8 y); Boehm 2015 "
                                    "JACC 65:2481 (CrCl change at ~30 mo: warfarin -3.68, D110 -2.57, D150 -2.46 mL/min)"}
    # rates by baseline renal function (simulated only; the published strata were not verified here)
    renal: dict[str, Any] = {}
    for key, block in sim.items():
        crcl = block["cohort"].crcl_ml_per_min
        strata = {"<50": crcl < 50, "50-80": (crcl >= 50) & (crcl <= 80), ">80": crcl > 80}
        for arm, res in block["arms"].items():
            for s, m in strata.items():
                py = float(res.state.days_followed[m].sum() / DAYS_PER_YEAR)
                for e in ("stroke_se", "major_bleeding"):
                    ev = float((res.state.first_day[m, doac.ENDPOINTS.index(e)] >= 0).sum())
                    renal.setdefault(f"{TRIALS[key].name} {arm}", {}).setdefault(s, {})[e] = _rate(ev, py)
    out["rates_by_baseline_crcl_simulated"] = renal
    return out


def _stratum_rate(results: list[SimulationResult], mask: np.ndarray, endpoint: str) -> tuple[int, float]:
    """Sampled first events and patient-years of the masked patients, pooled over arms."""
    e = doac.ENDPOINTS.index(endpoint)
    ev = sum(int((r.state.first_day[mask, e] >= 0).sum()) for r in results)
    py = sum(float(r.state.days_followed[mask].sum()) for r in results) / DAYS_PER_YEAR
    return ev, py


#: Subgroup ratios reported (numerator stratum, denominator stratum) per (trial, arms, endpoint).
_SUBGROUP_RATIOS = (
    ("rely", ("dabigatran_110",), "major_bleeding", "age>=75", "age<75"),
    ("rely", ("dabigatran_150",), "major_bleeding", "age>=75", "age<75"),
    ("rely", ("dabigatran_110", "dabigatran_150"), "major_bleeding", "age>=75", "age<75"),
    ("rely", ("warfarin",), "major_bleeding", "age>=75", "age<75"),
    ("aristotle", ("apixaban",), "major_bleeding", "crcl<=50", "crcl>80"),
    ("aristotle", ("apixaban",), "major_bleeding", "crcl50-80", "crcl>80"),
    ("aristotle", ("warfarin",), "major_bleeding", "crcl<=50", "crcl>80"),
    ("aristotle", ("warfarin",), "major_bleeding", "crcl50-80", "crcl>80"),
    ("aristotle", ("apixaban", "warfarin"), "stroke_se", "crcl<=50", "crcl>80"),
    ("aristotle", ("apixaban", "warfarin"), "stroke_se", "crcl50-80", "crcl>80"),
    ("rocket", ("rivaroxaban",), "stroke_se", "crcl<50", "crcl>=50"),
    ("rocket", ("warfarin",), "stroke_se", "crcl<50", "crcl>=50"),
)


def subgroup_analyses(sim: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Age and renal subgroups beside the published ones (``doac_targets.SUBGROUP_TARGETS``).

    ``rates``: every published subgroup rate with the simulated rate (sampled first events, exact
    Poisson interval) of the same baseline stratum; none is fitted (the fit matches only the five
    ratios of ``FITTED_SUBGROUP_RATIOS``, not levels). ``ratios``: stratum-to-stratum rate ratios,
    simulated vs published, flagged ``fitted`` where the fit used that ratio. ``contrasts``: the
    DOAC-vs-warfarin ratio per stratum (the treatment-by-subgroup interactions the papers report).
    """
    rates, ratios, contrasts = [], [], []
    fitted_keys = {(t, arms, e, num, den) for _, t, arms, e, num, den in FITTED_SUBGROUP_RATIOS}
    for t in SUBGROUP_TARGETS:
        if t.trial not in sim:
            continue
        block = sim[t.trial]
        ev, py = _stratum_rate([block["arms"][a] for a in t.arms], stratum_mask(block["cohort"], t.stratum), t.endpoint)
        lo, hi = rate_interval(ev, py)
        rates.append({"trial": TRIALS[t.trial].name, "arms": list(t.arms), "endpoint": t.endpoint, "stratum": t.stratum,
                      "simulated": _rate(ev, py), "simulated_lo": lo, "simulated_hi": hi, "events": ev,
                      "patient_years": py, "published": t.rate_per_100py, "source": t.source, "tag": t.tag,
                      "residual_per_100py": _rate(ev, py) - t.rate_per_100py})
    for trial, arms, endpoint, num, den in _SUBGROUP_RATIOS:
        if trial not in sim:
            continue
        block = sim[trial]
        res = [block["arms"][a] for a in arms]
        (a, pya), (b, pyb) = (_stratum_rate(res, stratum_mask(block["cohort"], st), endpoint) for st in (num, den))
        rr, lo, hi = _ratio_ci(a, b, pya, pyb)
        pub = published_subgroup_rate(trial, arms, endpoint, num) / published_subgroup_rate(trial, arms, endpoint, den)
        ratios.append({"trial": TRIALS[trial].name, "arms": list(arms), "endpoint": endpoint, "ratio": f"{num} / {den}",
                       "simulated": rr, "simulated_lo": lo, "simulated_hi": hi, "published": pub,
                       "log_residual": float(np.log(rr / pub)) if rr > 0 else float("nan"),
                       "fitted": (trial, tuple(arms), endpoint, num, den) in fitted_keys})
    # DOAC vs warfarin within strata (treatment-by-age / -renal interactions)
    for trial, doac_arm, endpoint, strata in (
        ("rely", "dabigatran_110", "major_bleeding", ("age<75", "age>=75")),
        ("rely", "dabigatran_150", "major_bleeding", ("age<75", "age>=75")),
        ("aristotle", "apixaban", "major_bleeding", ("crcl>80", "crcl50-80", "crcl<=50")),
        ("aristotle", "apixaban", "major_bleeding", ("age<75", "age>=75")),
        ("rocket", "rivaroxaban", "stroke_se", ("crcl>=50", "crcl<50")),
    ):
        if trial not in sim:
            continue
        block = sim[trial]
        for st in strata:
            m = stratum_mask(block["cohort"], st)
            a, pya = _stratum_rate([block["arms"][doac_arm]], m, endpoint)
            b, pyb = _stratum_rate([block["arms"]["warfarin"]], m, endpoint)
            rr, lo, hi = _ratio_ci(a, b, pya, pyb)
            try:
                pub = (published_subgroup_rate(trial, (doac_arm,), endpoint, st)
                       / published_subgroup_rate(trial, ("warfarin",), endpoint, st))
            except KeyError:
                pub = float("nan")
            contrasts.append({"trial": TRIALS[trial].name, "arm": doac_arm, "endpoint": endpoint, "stratum": st,
                              "simulated_vs_warfarin": rr, "simulated_lo": lo, "simulated_hi": hi,
                              "published_vs_warfarin": pub})
    return {"rates": rates, "ratios": ratios, "contrasts": contrasts}


def subgroup_markdown(sub: dict[str, Any]) -> str:
    """The subgroup tables of the model card."""
    lines = ["| Trial | Arm(s) | Endpoint | Stratum | Simulated %/yr (95 % CI) | Published %/yr | Residual |",
             "|---|---|---|---|---|---|---|"]
    for r in sub["rates"]:
        lines.append(f"| {r['trial']} | {' + '.join(r['arms'])} | {_ENDPOINT_LABEL[r['endpoint']]} | {r['stratum']} | "
                     f"{r['simulated']:.2f} ({r['simulated_lo']:.2f}-{r['simulated_hi']:.2f}) | {r['published']:.2f}"
                     f"{' [U]' if r['tag'] != 'VERIFIED' else ''} | {r['residual_per_100py']:+.2f} |")
    lines += ["", "| Trial | Arm(s) | Endpoint | Ratio | Simulated (95 % CI) | Published | log residual | Fitted |",
              "|---|---|---|---|---|---|---|---|"]
    for r in sub["ratios"]:
        lines.append(f"| {r['trial']} | {' + '.join(r['arms'])} | {_ENDPOINT_LABEL[r['endpoint']]} | {r['ratio']} | "
                     f"{r['simulated']:.2f} ({r['simulated_lo']:.2f}-{r['simulated_hi']:.2f}) | {r['published']:.2f} | "
                     f"{r['log_residual']:+.2f} | {'yes' if r['fitted'] else 'no'} |")
    lines += ["", "| Trial | DOAC arm | Endpoint | Stratum | Simulated ratio vs warfarin (95 % CI) | Published ratio of rates |",
              "|---|---|---|---|---|---|"]
    for r in sub["contrasts"]:
        pub = "-" if not np.isfinite(r["published_vs_warfarin"]) else f"{r['published_vs_warfarin']:.2f}"
        lines.append(f"| {r['trial']} | {r['arm']} | {_ENDPOINT_LABEL[r['endpoint']]} | {r['stratum']} | "
                     f"{r['simulated_vs_warfarin']:.2f} ({r['simulated_lo']:.2f}-{r['simulated_hi']:.2f}) | {pub} |")
    return "\n".join(lines)


def baseline_table(sim: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Simulated baseline characteristics of each trial cohort (compare with the presets' sources)."""
    out = {}
    for key, block in sim.items():
        c: AFCohort = block["cohort"]
        cr = c.crcl_ml_per_min
        lv = arm_dose_levels(TRIALS[key].arms[0], c)
        out[TRIALS[key].name] = {
            "age_mean_y": float(c.age_y.mean()), "female": float(c.female.mean()),
            "weight_median_kg": float(np.median(c.weight_kg)), "crcl_median_ml_per_min": float(np.median(cr)),
            "crcl_below_50": float((cr < 50).mean()), "chads2_mean": float(c.chads2().mean()),
            "cha2ds2_vasc_mean": float(c.cha2ds2_vasc().mean()), "has_bled_mean_without_L": float(c.has_bled().mean()),
            "prior_stroke": float(c.prior_stroke.mean()), "aspirin": float(c.antiplatelet.mean()),
            "reduced_dose_first_arm": float((lv == REDUCED).mean()),
            "chads2_distribution": {str(k): float((c.chads2() == k).mean()) for k in range(7)},
        }
    return out


def exposure_table() -> list[dict[str, Any]]:
    """Typical-patient steady-state peak / trough by drug and dose vs EHRA 2021 Table 11, and half-life by CrCl."""
    ranges = {"apixaban": ((69, 321), (34, 230)), "rivaroxaban": ((178, 343), (12, 137)),
              "dabigatran": ((52, 383), (28, 215))}
    # Reduced doses are evaluated in a typical patient of their label population:
    # apixaban 2.5 mg: age 82, 58 kg, SCr 1.5 -> CrCl 31; rivaroxaban 15 mg: CrCl 40;
    # dabigatran 110 mg: age >= 80 -> CrCl 50.
    reduced_crcl = {"apixaban": 31.0, "rivaroxaban": 40.0, "dabigatran": 50.0}
    rows = []
    for name, pk in zip(doac.DRUG_NAMES[:3], PK_PARAMETERS):
        for level, dose in (("standard", pk.dose_standard_mg), ("reduced", pk.dose_reduced_mg)):
            crcl = pk.crcl_ref_ml_per_min if level == "standard" else reduced_crcl[name]
            prof = steady_state_profile(pk, dose, crcl)
            (plo, phi), (tlo, thi) = ranges[name]
            rows.append({"drug": name, "dose_mg": dose, "level": level, "crcl_ml_per_min": crcl,
                         "peak": prof["peak_ng_per_ml"], "trough": prof["trough_ng_per_ml"], "tmax_h": prof["tmax_h"],
                         "peak_range": [plo, phi], "trough_range": [tlo, thi],
                         "within": bool(plo <= prof["peak_ng_per_ml"] <= phi and tlo <= prof["trough_ng_per_ml"] <= thi),
                         "half_life_h_crcl_90": float(doac.half_life_h(pk, 90.0)),
                         "half_life_h_crcl_40": float(doac.half_life_h(pk, 40.0)),
                         "half_life_h_crcl_20": float(doac.half_life_h(pk, 20.0))})
    return rows


# ---------------------------------------------------------------------------- fitting
def _stratum_expected_rate(results: list[SimulationResult], mask: np.ndarray, endpoint: str) -> float:
    """Expected first events per 100 patient-years of the masked patients, pooled over arms."""
    e = doac.ENDPOINTS.index(endpoint)
    ev = sum(float(r.state.compensator[mask, e].sum()) for r in results)
    py = sum(float(r.state.days_followed[mask].sum()) for r in results) / DAYS_PER_YEAR
    return 100.0 * ev / py


def _expected(res: SimulationResult, endpoint: str) -> tuple[float, float]:
    return res.expected_first_events(endpoint), res.patient_years


def fit(n_patients: int = 8192, max_iterations: int = 12, tol: float = 0.003, verbose: bool = True,
        start: FittedParameters = FITTED_PARAMETERS) -> tuple[FittedParameters, list[dict[str, Any]]]:
    """Solve the nineteen :class:`FittedParameters` against ``FITTED_TARGETS`` (see module docstring)."""
    cohorts = {k: trial_cohort(k, n_patients, FIT_SEEDS[k]) for k in TRIALS}
    params = dataclasses.asdict(start)
    # (parameter, kind, [(trial, arm)], endpoint); every parameter is positive and solved by a
    # secant on its log; kind "ratio" matches the ratio of two arms' rates instead of a level.
    spec = [
        ("stroke_scale_rely", "log", [("rely", "warfarin")], "stroke_se"),
        ("stroke_scale_rocket", "log", [("rocket", "warfarin")], "stroke_se"),
        ("stroke_scale_aristotle", "log", [("aristotle", "warfarin")], "stroke_se"),
        ("bleed_scale_rely", "log", [("rely", "warfarin")], "major_bleeding"),
        ("bleed_scale_rocket", "log", [("rocket", "warfarin")], "major_bleeding"),
        ("bleed_scale_aristotle", "log", [("aristotle", "warfarin")], "major_bleeding"),
        ("ec50_rel_apixaban", "log", [("aristotle", "apixaban")], "stroke_se"),
        ("ec50_rel_rivaroxaban", "log", [("rocket", "rivaroxaban")], "stroke_se"),
        ("ec50_rel_dabigatran", "log", [("rely", "dabigatran_110"), ("rely", "dabigatran_150")], "stroke_se"),
        ("bleed_coefficient_apixaban", "log", [("aristotle", "apixaban")], "major_bleeding"),
        ("bleed_coefficient_rivaroxaban", "log", [("rocket", "rivaroxaban")], "major_bleeding"),
        ("bleed_coefficient_dabigatran", "log", [("rely", "dabigatran_110"), ("rely", "dabigatran_150")],
         "major_bleeding"),
        ("bleed_exposure_exponent", "ratio", [("rely", "dabigatran_150"), ("rely", "dabigatran_110")], "major_bleeding"),
        ("background_mortality_scale", "log", [("rely", "warfarin"), ("aristotle", "warfarin")], "death"),
    ] + [(name, "strata", [(trial, a) for a in arms], endpoint)
         for name, trial, arms, endpoint, _, _ in FITTED_SUBGROUP_RATIOS]
    strata_of = {name: (num, den) for name, _, _, _, num, den in FITTED_SUBGROUP_RATIOS}
    masks = {(k, s): stratum_mask(cohorts[k], s) for k in TRIALS for s in ("age<75", "age>=75", "crcl>80", "crcl<=50")}
    default_slope = {"log": 0.8, "ratio": 0.3, "strata": 0.3}  # d log(rate) / d log(parameter), replaced by secants
    arms_by_name = {(k, a.name): a for k, t in TRIALS.items() for a in t.arms}
    history: list[dict[str, Any]] = []
    prev: dict[str, tuple[float, float]] = {}
    for it in range(max_iterations):
        fp = FittedParameters(**params)
        sims = {}
        for key, trial in TRIALS.items():
            days = int(round(trial.median_follow_up_years * DAYS_PER_YEAR))
            for arm in trial.arms:
                sims[(key, arm.name)] = simulate(cohorts[key], arm.drug, arm_dose_levels(arm, cohorts[key]), days,
                                                 fitted=fp)
        errors = {}
        for name, kind, arms, endpoint in spec:
            if kind == "ratio":  # log of (rate of arm 0 / rate of arm 1), simulated over published
                r_sim = [_expected(sims[a], endpoint)[0] / _expected(sims[a], endpoint)[1] for a in arms]
                r_pub = [arms_by_name[a].rates[endpoint].rate_per_100py for a in arms]
                errors[name] = float(np.log((r_sim[0] / r_sim[1]) / (r_pub[0] / r_pub[1])))
                continue
            if kind == "strata":  # log of (rate in stratum num / rate in stratum den), pooled arms
                num, den = strata_of[name]
                trial_key = arms[0][0]
                r = [_stratum_expected_rate([sims[a] for a in arms], masks[(trial_key, st)], endpoint)
                     for st in (num, den)]
                pub = [published_subgroup_rate(trial_key, tuple(a for _, a in arms), endpoint, st) for st in (num, den)]
                errors[name] = float(np.log((r[0] / r[1]) / (pub[0] / pub[1])))
                continue
            ev = sum(_expected(sims[a], endpoint)[0] for a in arms)
            py = sum(_expected(sims[a], endpoint)[1] for a in arms)
            tev = sum(arms_by_name[a].rates[endpoint].n_events for a in arms)
            tpy = sum(arms_by_name[a].rates[endpoint].patient_years for a in arms)
            errors[name] = float(np.log((ev / py) / (tev / tpy)))  # log(sim / target)
        history.append({"iteration": it, "parameters": dict(params), "log_residuals": dict(errors)})
        if verbose:
            worst = max(abs(v) for v in errors.values())
            print(f"fit iteration {it}: max |log(sim/target)| = {worst:.4f}", flush=True)
        if max(abs(v) for v in errors.values()) < tol:
            break
        for name, kind, _, _ in spec:
            x = np.log(params[name])
            slope = default_slope[kind]  # every fitted rate increases with its parameter
            if name in prev and abs(x - prev[name][0]) > 1e-9:
                s = (errors[name] - prev[name][1]) / (x - prev[name][0])
                if np.isfinite(s) and 0.05 < s < 3.0:
                    slope = float(s)
            prev[name] = (x, errors[name])
            x_new = x - errors[name] / slope
            params[name] = float(np.exp(x_new))
    return FittedParameters(**params), history


# ---------------------------------------------------------------------------- outputs
_ENDPOINT_LABEL = {"stroke_se": "stroke/SE", "major_bleeding": "major bleeding", "ich": "ICH", "death": "death",
                   "gi_bleeding": "GI bleeding", "mi": "MI"}


def markdown_tables(summary: dict[str, Any]) -> str:
    lines = ["| Trial | Arm | Endpoint | Simulated %/yr (95 % CI) | Published %/yr (95 % CI, derived) | Within | Fitted | Events / pt-yr (sim) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in summary["rates"]:
        if "published" not in r:
            continue
        lines.append(
            f"| {r['trial']} | {r['arm']} | {_ENDPOINT_LABEL[r['endpoint']]} | {r['rate']:.2f} ({r['rate_lo']:.2f}-{r['rate_hi']:.2f}) "
            f"| {r['published']:.2f} ({r['published_lo']:.2f}-{r['published_hi']:.2f}){' [U]' if r['tag'] != 'VERIFIED' else ''} "
            f"| {'yes' if r['within_interval'] else 'NO'} | {'yes' if r['fitted'] else 'no'} | {r['events']} / {r['patient_years']:.0f} |")
    lines += ["", "| Trial | DOAC arm | Endpoint | Simulated ratio vs warfarin (95 % CI) | Published HR (95 % CI) | Published excludes 1 | Same side of 1 |",
              "|---|---|---|---|---|---|---|"]
    for h in summary["hazard_ratios"]:
        pub = f"{h['published']:.2f}" + (f" ({h['published_lo']:.2f}-{h['published_hi']:.2f})" if h["published_lo"] else "")
        side = "-" if h["same_side_of_1"] is None else ("yes" if h["same_side_of_1"] else "NO")
        lines.append(f"| {h['trial']} | {h['arm']} | {_ENDPOINT_LABEL[h['endpoint']]} | {h['simulated']:.2f} "
                     f"({h['simulated_lo']:.2f}-{h['simulated_hi']:.2f}) | {pub}{' [U]' if h['tag'] != 'VERIFIED' else ''} "
                     f"| {'yes' if h['published_excludes_1'] else 'no'} | {side} |")
    return "\n".join(lines)


def make_figure(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = ("stroke_se", "major_bleeding", "ich", "death")
    fig, axes = plt.subplots(1, len(eps) + 1, figsize=(19, 5.5), gridspec_kw={"width_ratios": [1, 1, 1, 1, 1.2]})
    arms = [(r["trial"], r["arm"]) for r in summary["rates"] if r["endpoint"] == "stroke_se"]
    labels = [f"{t}\n{a}" for t, a in arms]
    y = np.arange(len(arms))[::-1]
    for ax, e in zip(axes, eps):
        rs = [next(r for r in summary["rates"] if (r["trial"], r["arm"], r["endpoint"]) == (t, a, e)) for t, a in arms]
        sim = np.array([r["rate"] for r in rs])
        ax.errorbar(sim, y + 0.15, xerr=[sim - [r["rate_lo"] for r in rs], [r["rate_hi"] for r in rs] - sim],
                    fmt="o", color="C0", label="simulated")
        pub = np.array([r.get("published", np.nan) for r in rs])
        ax.errorbar(pub, y - 0.15, xerr=[pub - [r.get("published_lo", np.nan) for r in rs],
                                         [r.get("published_hi", np.nan) for r in rs] - pub],
                    fmt="s", color="C3", label="published")
        ax.set_title(_ENDPOINT_LABEL[e] + " (%/yr)")
        ax.set_yticks(y)
        ax.set_yticklabels(labels if e == eps[0] else [], fontsize=8)
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    ax = axes[-1]
    hs = [h for h in summary["hazard_ratios"] if h["endpoint"] in eps]
    yy = np.arange(len(hs))[::-1]
    s = np.array([h["simulated"] for h in hs])
    ax.errorbar(s, yy + 0.15, xerr=[s - [h["simulated_lo"] for h in hs], [h["simulated_hi"] for h in hs] - s],
                fmt="o", color="C0", label="simulated")
    p = np.array([h["published"] for h in hs])
    plo = np.array([h["published_lo"] if h["published_lo"] else np.nan for h in hs])
    phi = np.array([h["published_hi"] if h["published_hi"] else np.nan for h in hs])
    ax.errorbar(p, yy - 0.15, xerr=[p - plo, phi - p], fmt="s", color="C3", label="published")
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set_xscale("log")
    ticks = [0.2, 0.3, 0.5, 0.7, 1.0, 1.5]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(yy)
    ax.set_yticklabels([f"{h['trial']} {h['arm']} {_ENDPOINT_LABEL[h['endpoint']]}" for h in hs], fontsize=7)
    ax.yaxis.tick_right()
    ax.set_title("ratio vs warfarin")
    ax.grid(alpha=0.3)
    fig.suptitle("In-silico RE-LY, ROCKET AF, ARISTOTLE: simulated vs published (hemosim DOAC model)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def make_exposure_figure(path: Path) -> None:
    """Steady-state concentration-time profiles of each drug and dose at CrCl 90 / 70 / 40 / 20 mL/min."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ranges = {r["drug"]: (r["peak_range"], r["trough_range"]) for r in exposure_table()}
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, name, pk in zip(axes, doac.DRUG_NAMES[:3], PK_PARAMETERS):
        tau = 24.0 / pk.doses_per_day
        for crcl, color in ((90.0, "C0"), (70.0, "C1"), (40.0, "C2"), (20.0, "C3")):
            for dose, style in ((pk.dose_standard_mg, "-"), (pk.dose_reduced_mg, "--")):
                cl = float(doac.clearance_l_per_h(pk, crcl))
                k, ka, v = cl / pk.v_f_l, pk.ka_per_h, pk.v_f_l
                t = np.linspace(0.0, 24.0, 481)
                tt = np.mod(t, tau)
                c = dose * ka / (v * (ka - k)) * (np.exp(-k * tt) / (1 - np.exp(-k * tau))
                                                  - np.exp(-ka * tt) / (1 - np.exp(-ka * tau))) * 1000.0
                ax.plot(t, c, style, color=color, label=f"{dose:g} mg, CrCl {crcl:g}" if style == "-" or crcl == 90 else None)
        (plo, phi), (tlo, thi) = ranges[name]
        ax.axhspan(plo, phi, color="grey", alpha=0.12, label="EHRA peak range")
        ax.axhspan(tlo, thi, color="green", alpha=0.06, label="EHRA trough range")
        ax.set_title(f"{name}: steady state (solid standard, dashed reduced)")
        ax.set_xlabel("hours after morning dose")
        ax.set_ylabel("ng/mL")
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hemosim.calibration.doac_trials", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="results/doac_trials", help="output directory (table, figure, JSON)")
    parser.add_argument("--patients-per-arm", type=int, default=65536,
                        help="virtual patients per trial cohort (each arm simulates all of them)")
    parser.add_argument("--figures", default=None,
                        help="directory for the two PNGs (default: --out; `hemosim reproduce` writes them where "
                             "docs/models/doac.md shows them, docs/models/figures)")
    parser.add_argument("--fit", action="store_true", help="refit FittedParameters before validating")
    parser.add_argument("--fit-patients", type=int, default=8192, help="patients per fitting cohort")
    args = parser.parse_args(argv)
    if args.patients_per_arm < 16:
        parser.error(f"--patients-per-arm must be >= 16, got {args.patients_per_arm}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fitted = FITTED_PARAMETERS
    history = None
    if args.fit:
        fitted, history = fit(args.fit_patients)
        print("fitted parameters:")
        for k, v in dataclasses.asdict(fitted).items():
            print(f"    {k}={v:.6g},")
    sim = run_trials(args.patients_per_arm, fitted)
    summary = summarise(sim)
    result = {
        "fitted_parameters": dataclasses.asdict(fitted),
        "fit_history": history,
        "patients_per_arm": args.patients_per_arm,
        "summary": summary,
        "secondary": secondary_analyses(sim),
        "subgroups": subgroup_analyses(sim),
        "baseline": baseline_table(sim),
        "exposure": exposure_table(),
        "seconds": time.perf_counter() - t0,
    }
    (out / "doac_trials.json").write_text(json.dumps(jsonable(result), indent=1))
    table = markdown_tables(summary)
    sub_table = subgroup_markdown(result["subgroups"])
    (out / "doac_trials.md").write_text(table + "\n\n" + sub_table + "\n")
    figures = Path(args.figures) if args.figures else out
    figures.mkdir(parents=True, exist_ok=True)
    make_figure(summary, figures / "doac_trials.png")
    make_exposure_figure(figures / "doac_exposure.png")
    print(table)
    print()
    print(sub_table)
    within = [r["within_interval"] for r in summary["rates"] if r["endpoint"] in ("stroke_se", "major_bleeding")]
    sides = [h["same_side_of_1"] for h in summary["hazard_ratios"] if h["same_side_of_1"] is not None]
    print(f"\nstroke/SE + major bleeding within published 95 % interval: {sum(within)}/{len(within)}; "
          f"HRs on the published side of 1 (where its CI excludes 1): {sum(sides)}/{len(sides)}; "
          f"{time.perf_counter() - t0:.0f} s; wrote {out}/doac_trials.{{json,md}} and {figures}/doac_{{trials,exposure}}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
