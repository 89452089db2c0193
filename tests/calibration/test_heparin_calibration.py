"""UFH calibration against published targets (each test names its source).

The stored parameters must be what the fitting script produces (so the numbers in
``hemosim.models.heparin`` are reproducible), and the "Must show" items of issue #4 are
asserted at their published bounds. Items the model misses are kept as strict xfail
tests that state the measured value (docs/models/heparin.md), so a fix shows up as an
XPASS and a further drop cannot hide.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hemosim.calibration import heparin_fit, raschke_trial
from hemosim.calibration.heparin_targets import (
    ALL_TARGETS,
    FIT_HALF_LIFE_BOUND,
    MUST_SHOW_HALF_LIFE_BOUND,
    PD_TARGETS,
    PK_TARGETS,
    Target,
)
from hemosim.models.heparin import (
    UFH_TYPICAL,
    bolus_half_life_h,
    clearance_terms,
    michaelis_menten_equivalent,
    steady_state_concentration,
)
from hemosim.patients.heparin import APTT_SENSITIVITY_LOG_SD, ELIMINATION_IOV_LOG_SD, PK_VARIABILITY_SCALE


def test_every_target_names_a_source_and_a_role():
    for t in ALL_TARGETS:
        assert t.source and t.role in ("fitted", "validation"), t.name


def test_stored_parameters_are_the_fit_result():
    p = heparin_fit.fit_sensitivity(heparin_fit.fit_pk(UFH_TYPICAL, starts=20))
    for f in heparin_fit.PK_FIELDS + ("aptt_sensitivity_per_iu_per_ml",):
        assert getattr(UFH_TYPICAL, f) == pytest.approx(getattr(p, f), rel=2e-3), f


def test_stored_variability_is_the_lattice_optimum_and_near_its_targets():
    # Hirsh 1976: half-life 63 +/- 15 min after 70 U/kg; PMC6009553: Spearman r = 0.68 (CI 0.60-0.75)
    scale, sd, _ = heparin_fit.fit_variability(
        UFH_TYPICAL,
        scales=np.round(PK_VARIABILITY_SCALE + np.array([-0.05, 0.0, 0.05]), 2),
        log_sds=np.round(APTT_SENSITIVITY_LOG_SD + np.array([-0.05, 0.0, 0.05]), 2),
    )
    assert scale == pytest.approx(PK_VARIABILITY_SCALE) and sd == pytest.approx(APTT_SENSITIVITY_LOG_SD)
    assert abs(heparin_fit.half_life_sd_min(UFH_TYPICAL, PK_VARIABILITY_SCALE) - 15.0) < 2 * heparin_fit.HALF_LIFE_SD_SE_MIN
    r = heparin_fit.simulated_spearman(UFH_TYPICAL, APTT_SENSITIVITY_LOG_SD, PK_VARIABILITY_SCALE)
    assert 0.60 <= r <= 0.75


def test_stored_level_and_within_patient_variability_are_the_stage_4_optimum():
    # Stage 4 against the weight-based arm (Raschke 1993 60/62; Raschke 1995 letter 17 / 18 % of
    # the early aPTTs below / above the range): the stored level and log-SD beat their lattice
    # neighbours, and the fitted outcomes lie within 2 binomial SE of the published ones
    level, iov = heparin_fit.FITTED_STEADY_STATE_IU_PER_ML, ELIMINATION_IOV_LOG_SD
    assert level in heparin_fit.LEVEL_GRID and iov in heparin_fit.IOV_GRID
    assert heparin_fit.LEVEL_GRID[0] < level < heparin_fit.LEVEL_GRID[-1]  # an interior optimum
    assert heparin_fit.IOV_GRID[0] < iov < heparin_fit.IOV_GRID[-1]
    p, best_level, best_iov, cost = heparin_fit.fit_level_and_iov(
        PK_VARIABILITY_SCALE,
        APTT_SENSITIVITY_LOG_SD,
        levels=np.round(level + np.array([-0.025, 0.0, 0.025]), 3),
        iovs=np.round(iov + np.array([-0.05, 0.0, 0.05]), 2),
        starts=10,
    )
    assert (best_level, best_iov) == (pytest.approx(level), pytest.approx(iov))
    out = heparin_fit.weight_based_early_aptts(UFH_TYPICAL, APTT_SENSITIVITY_LOG_SD, PK_VARIABILITY_SCALE, iov)
    assert heparin_fit.trial_cost(out) == pytest.approx(cost, rel=1e-3)
    for t in heparin_fit.TRIAL_TARGETS:
        assert abs(out[t.quantity] - t.value) <= 2 * t.tolerance * t.value, t.name


@pytest.mark.parametrize("dose,published_min", [(25.0, 30.0), (100.0, 60.0), (400.0, 150.0)])
def test_bolus_half_life_within_20_percent(dose, published_min):
    # Issue #4 Must show: within 20 % of 30 / 60 / 150 min at 25 / 100 / 400 U/kg, 70 kg adult.
    # 60 and 150 min: Swiss product information reg. 46240 "Kinetik"; 30 min: Hirsh ACCP as
    # quoted (tertiary), US PI §12.3 lower end 0.5 h (FACTS §4.2). The fit bounds each at 15 %.
    t = float(bolus_half_life_h(dose, 70.0)) * 60
    assert abs(t / published_min - 1) <= MUST_SHOW_HALF_LIFE_BOUND
    assert abs(t / published_min - 1) <= FIT_HALF_LIFE_BOUND + 1e-9


def test_bolus_half_life_70_u_per_kg_within_hirsh_1976_sd():
    # Hirsh 1976 Circulation 53:691: 63 +/- 15 min after 70 U/kg in VTE patients (secondary target)
    assert abs(bolus_half_life_h(70.0, 70.0) * 60 - 63.0) < 15.0


def test_stored_parameters_meet_every_hard_constraint_of_the_fit():
    g = heparin_fit.pk_constraints(UFH_TYPICAL)
    assert len(g) == 3 * 2 + 2 + 2  # half-lives, the 0.3-0.7 interval, stage 4's level
    assert np.all(g >= 0.0), g


def test_interval_target_residual_is_zero_inside_and_relative_to_the_edge_outside():
    t = Target("ss", "steady_state", 0.5, "IU/mL", 0.15, "hand case", interval=(0.3, 0.7))
    assert t.residual(0.3) == 0.0 and t.residual(0.55) == 0.0 and t.residual(0.7) == 0.0
    assert t.residual(0.24) == pytest.approx(0.24 / 0.3 - 1)  # -20 %
    assert t.residual(0.84) == pytest.approx(0.84 / 0.7 - 1)  # +20 %
    assert t.log_residual(0.5) == 0.0 and t.log_residual(0.15) == pytest.approx(np.log(0.5))
    assert t.published == "0.3-0.7"
    point = Target("p", "half_life", 60.0, "min", 0.15, "hand case")
    assert point.residual(66.0) == pytest.approx(0.10) and point.published == "60"


def test_pk_objective_ignores_the_steady_state_inside_its_range():
    # the only interval target contributes 0 inside 0.3-0.7 IU/mL, so the objective equals the
    # weighted sum over the point targets
    expected = sum(
        (np.log(heparin_fit.simulate_pk_target(t, UFH_TYPICAL) / t.value) / t.tolerance) ** 2
        for t in PK_TARGETS
        if t.interval is None
    )
    assert heparin_fit.pk_objective(UFH_TYPICAL) == pytest.approx(expected, rel=1e-12)


def test_steady_state_at_18_u_per_kg_h_in_anti_xa_range():
    # Issue #4 Must show; Univ. Michigan nomogram / Raschke 1993: 18 U/kg/h aims at anti-Xa
    # 0.3-0.7 IU/mL (FACTS §4.1, §4.3). At steady state the binding model is exactly
    # Michaelis-Menten + linear (VMAX = KINT BMAX, KM = KINT / KON). Stage 4 placed the
    # typical 70 kg adult at 0.40 IU/mL (docs/models/heparin.md).
    v, kon, bmax, kint, cl = clearance_terms(70.0)
    vmax, km = michaelis_menten_equivalent(kon, bmax, kint)
    css = steady_state_concentration(18 * 70, vmax, km, cl)
    assert 0.3 <= css <= 0.7
    assert css == pytest.approx(heparin_fit.FITTED_STEADY_STATE_IU_PER_ML, rel=2e-3)


def test_volume_between_plasma_volume_and_label_vd():
    # plasma volume ~0.04 L/kg; US PI §12.3 Vd 0.07 L/kg (the secondary target); Kandrotas 1989
    # 68 mL/kg (FACTS §4.2)
    assert 0.035 <= UFH_TYPICAL.v_l_per_kg <= 0.075


def test_typical_reagent_lies_between_published_reagents():
    # Sheffield 1996 Thromb Haemost 75:734: ratios at anti-Xa 0.35 / 0.7 (protamine 0.2 / 0.4)
    # 1.6 / 1.9 (least responsive reagent) to 2.2 / 2.9 (most responsive)
    s = UFH_TYPICAL.aptt_sensitivity_per_iu_per_ml
    assert 1.6 <= np.exp(0.35 * s) <= 2.2
    assert 1.9 <= np.exp(0.7 * s) <= 2.9
    # Brill-Edwards 1993 Ann Intern Med 119:104 and Bates 2001 Arch Intern Med 161:385: for
    # every reagent studied, ratio 1.5 lies well below protamine 0.2 U/mL / the lower anti-Xa
    # limit, i.e. the typical reagent reaches 1.5 x control below anti-Xa 0.35 IU/mL
    assert np.log(1.5) / s < 0.35
    # Basu 1972 (FACTS §4.3): 1.5-2.5 x control <-> 0.3-0.7 IU/mL, within its 15 % tolerance
    assert abs(np.exp(0.3 * s) / 1.5 - 1) < 0.15


def test_residual_table_lists_every_target():
    text, rows = heparin_fit.residual_table(UFH_TYPICAL, APTT_SENSITIVITY_LOG_SD, PK_VARIABILITY_SCALE, validation_patients=0)
    assert len(rows) == len(PK_TARGETS) + len(PD_TARGETS) + 2 + len(heparin_fit.TRIAL_TARGETS)
    for r in rows:
        assert r["target"].name in text
        assert np.isfinite(r["residual"])


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.fixture(scope="module")
def raschke_results():
    return raschke_trial.trial_table(1000, 100000)[1]


@pytest.mark.slow
def test_raschke_weight_based_above_standard_care_and_faster(raschke_results):
    # Raschke 1993 Ann Intern Med 119:874: weight-based 60/62 vs standard care 37/48 above
    # 1.5 x control by 24 h (P < 0.002); time to threshold and to range shorter (P < 0.001)
    wb, sc = raschke_results["weight_based"], raschke_results["standard_care"]
    assert wb["share_above_24h"] - sc["share_above_24h"] > 0.15
    assert wb["mean_h_to_threshold"] < sc["mean_h_to_threshold"]
    assert wb["mean_h_to_range"] < sc["mean_h_to_range"]


@pytest.mark.slow
def test_raschke_weight_based_share_at_least_90_percent(raschke_results):
    # Issue #4 Must show: close to 97 % (Raschke 1993: 60/62). Fitted in stage 4 on training
    # seeds 0-1999; here on held-out seeds 100000-100999 (98.6 %), inside the Wilson 95 %
    # interval of 60/62
    lo, hi = _wilson(60, 62)
    assert lo <= raschke_results["weight_based"]["share_above_24h"] <= hi


@pytest.mark.slow
def test_raschke_standard_care_share_in_published_interval(raschke_results):
    # Raschke 1993: 37/48 (77 %), Wilson 95 % interval 64-87 %. Never fitted (validation), with
    # assumed adjustment steps (not published); simulated 66.0 %, inside the interval but
    # 11 points below the point estimate (docs/models/heparin.md)
    lo_sc, hi_sc = _wilson(37, 48)
    assert lo_sc <= raschke_results["standard_care"]["share_above_24h"] <= hi_sc


def _within_binomial(sim: float, published: float, n: int, k: float = 2.0) -> bool:
    return abs(sim - published) <= k * np.sqrt(published * (1 - published) / n)


@pytest.mark.slow
def test_raschke_1995_letter_share_of_early_aptts_below_range(raschke_results):
    # Raschke et al., letter, Arch Intern Med 1995;155:117: of the weight-based arm's 444 aPTTs
    # in the first 48 h, 17 % were below the range (fitted in stage 4 on training seeds;
    # held-out here)
    wb = raschke_results["weight_based"]
    assert _within_binomial(wb["share_samples_48h_below"], raschke_trial.PUBLISHED_48H_SAMPLES["below"], 444)


@pytest.mark.slow
def test_raschke_1995_letter_share_of_early_aptts_above_range(raschke_results):
    # the same letter: 18 % above the range (fitted in stage 4 on training seeds; held-out here)
    wb = raschke_results["weight_based"]
    assert _within_binomial(wb["share_samples_48h_above"], raschke_trial.PUBLISHED_48H_SAMPLES["above"], 444)


@pytest.mark.slow
def test_raschke_ttr_beats_random_and_every_constant_rate():
    _, res = raschke_trial.ttr_table(1000, 100000, rate_grid=np.round(np.arange(0.0, 1.0001, 0.05), 2))
    raschke = res["Raschke weight-based nomogram"]["ttr"]
    others = {k: v["ttr"] for k, v in res.items() if k.startswith("constant") or k.startswith("uniformly")}
    assert raschke > max(others.values()) + 0.2
    assert all(v["first_step_end"] == 0 and not v["terminated_any"] for v in res.values())


def test_trial_cli_smoke(capsys):
    assert raschke_trial.main(["--patients", "20", "--skip-ttr"]) == 0
    assert "Raschke 1993 in silico" in capsys.readouterr().out


def test_fit_cli_stored_smoke(capsys):
    assert heparin_fit.main(["--stored", "--validation-patients", "0"]) == 0
    assert "half-life 400 U/kg" in capsys.readouterr().out


def test_seed_pools_are_guarded():
    with pytest.raises(ValueError, match="held-out"):
        raschke_trial.trial_table(10, 0)
    with pytest.raises(ValueError, match="training"):
        heparin_fit.simulated_spearman(UFH_TYPICAL, 0.0, 0.6, seeds=(100000, 100010))


def test_trial_and_fit_write_their_tables_as_json(tmp_path, capsys):
    """`--json` (what `hemosim reproduce --check` compares) holds the printed numbers."""
    import json

    trial_path, fit_path = tmp_path / "raschke.json", tmp_path / "fit.json"
    assert raschke_trial.main(["--patients", "20", "--skip-ttr", "--json", str(trial_path)]) == 0
    trial = json.loads(trial_path.read_text())
    assert trial["n_patients"] == 20 and "ttr" not in trial
    wb = trial["trial"]["weight_based"]
    assert wb["n"] == 20 and f"{100 * wb['share_above_24h']:.1f} %" in capsys.readouterr().out
    assert heparin_fit.main(["--stored", "--validation-patients", "0", "--json", str(fit_path)]) == 0
    out = capsys.readouterr().out
    fit = json.loads(fit_path.read_text())
    assert fit["fit_run"] is False and "parameters" not in fit
    (row,) = [r for r in fit["rows"] if r["target"] == "half-life 400 U/kg"]
    assert f"| {row['simulated']:.4g} | {100 * row['residual']:+.1f} % |" in out
