"""In-silico RE-LY / ROCKET AF / ARISTOTLE: published targets (each names its source) and a bounded regression.

The full >= 20,000 patient-year run is the command ``python -m hemosim.calibration.doac_trials``
(16,384 patients per trial cohort); here a 4,096-patient run checks the *expected* first-event
rates (integrated hazards, the quantity the fit uses, with far less Monte-Carlo noise than
sampled events) against the published intervals, plus the ICH and hazard-ratio directions.
"""

import dataclasses
import json

import numpy as np
import pytest

from hemosim.calibration import doac_targets as tg
from hemosim.calibration import doac_trials as dt
from hemosim.models import doac


def test_rate_interval_hand_case():
    # 100 events in 10,000 patient-years: exact Poisson 95 % CI 0.8136-1.2163 per 100 pt-yr
    lo, hi = tg.rate_interval(100, 10_000)
    assert lo == pytest.approx(0.81365, abs=2e-4) and hi == pytest.approx(1.21627, abs=2e-4)


def test_targets_are_complete_and_sourced():
    assert sum(len(t.arms) for t in tg.TRIALS.values()) == 7
    for key, trial in tg.TRIALS.items():
        assert trial.median_follow_up_years > 1.5 and trial.follow_up_source
        for arm in trial.arms:
            for e in ("stroke_se", "major_bleeding", "ich", "death"):
                t = arm.rates[e]
                lo, hi = t.interval
                assert t.source and lo < t.rate_per_100py < hi
            for h in arm.hazard_ratios.values():
                assert h.source
                if h.lo is not None:
                    assert h.lo < h.hr < h.hi
    # ICH lower on every DOAC than on its warfarin arm, as published
    for trial in tg.TRIALS.values():
        w = trial.warfarin.rates["ich"].rate_per_100py
        assert all(a.rates["ich"].rate_per_100py < w for a in trial.arms if a.drug != doac.WARFARIN)
    assert len(tg.FITTED_TARGETS) == 16


@pytest.fixture(scope="module")
def small_run():
    sim = dt.run_trials(4096)
    return sim, dt.summarise(sim)


@pytest.mark.slow
def test_expected_rates_within_published_intervals(small_run):
    sim, summary = small_run
    for key, block in sim.items():
        trial = tg.TRIALS[key]
        for arm in trial.arms:
            res = block["arms"][arm.name]
            for e in ("stroke_se", "major_bleeding"):
                lo, hi = arm.rates[e].interval
                r = res.rate_per_100py(e, expected=True)
                assert lo <= r <= hi, f"{trial.name} {arm.name} {e}: {r:.2f} outside {lo:.2f}-{hi:.2f}"


@pytest.mark.slow
def test_ich_lower_on_every_doac_and_hazard_ratio_directions(small_run):
    sim, summary = small_run
    for key, block in sim.items():
        trial = tg.TRIALS[key]
        w = block["arms"][trial.warfarin.name]
        for arm in trial.arms:
            if arm.drug == doac.WARFARIN:
                continue
            res = block["arms"][arm.name]
            assert res.rate_per_100py("ich", expected=True) < w.rate_per_100py("ich", expected=True)
            for e, h in arm.hazard_ratios.items():
                if h.excludes_one:
                    ratio = res.rate_per_100py(e, expected=True) / w.rate_per_100py(e, expected=True)
                    assert (ratio < 1) == (h.hr < 1), f"{trial.name} {arm.name} {e}: {ratio:.2f} vs published {h.hr}"


@pytest.mark.slow
def test_code_constants_are_the_fitted_solution():
    """One fitting iteration from FITTED_PARAMETERS on a fresh cohort finds them (near) a fixed point."""
    fp, history = dt.fit(n_patients=2048, max_iterations=1, verbose=False)
    worst = max(abs(v) for v in history[0]["log_residuals"].values())
    assert worst < 0.12, history[0]["log_residuals"]


def test_arm_dose_rules():
    c = dt.trial_cohort("rocket", 2000, 5)
    arm = tg.TRIALS["rocket"].arms[0]
    lv = dt.arm_dose_levels(arm, c)
    np.testing.assert_array_equal(lv == doac.REDUCED, c.crcl_ml_per_min < 50)
    c = dt.trial_cohort("aristotle", 4000, 5)
    lv = dt.arm_dose_levels(tg.TRIALS["aristotle"].arms[0], c)
    # ARISTOTLE: 831 of 18,201 (4.6 %) met the 2.5 mg criteria (Granger 2011 / Halvorsen 2014 abstract)
    assert 0.01 < (lv == doac.REDUCED).mean() < 0.10


def test_exposure_table_within_ehra_ranges():
    rows = dt.exposure_table()
    assert len(rows) == 6 and all(r["within"] for r in rows)
    assert all(r["half_life_h_crcl_40"] > r["half_life_h_crcl_90"] for r in rows)


def test_command_smoke(tmp_path):
    assert dt.main(["--out", str(tmp_path), "--patients-per-arm", "64"]) == 0
    data = json.loads((tmp_path / "doac_trials.json").read_text())
    assert {r["arm"] for r in data["summary"]["rates"]} >= {"dabigatran_110", "rivaroxaban", "apixaban", "warfarin"}
    assert (tmp_path / "doac_trials.png").stat().st_size > 10_000
    assert "| RE-LY |" in (tmp_path / "doac_trials.md").read_text()
    with pytest.raises(SystemExit):
        dt.main(["--patients-per-arm", "3"])


def test_presets_match_published_baseline():
    """Share with CrCl < 50 mL/min (Scientifica 2014 Table 1) and ROCKET's CHADS2 >= 2 inclusion."""
    published_below_50 = {"rely": 0.194, "rocket": 0.208, "aristotle": 0.152 + 0.015}
    for key, p in published_below_50.items():
        c = dt.trial_cohort(key, 8000, 77)
        assert abs((c.crcl_ml_per_min < 50).mean() - p) < 0.03, key
    c = dt.trial_cohort("rocket", 4000, 77)
    assert (c.chads2() >= 2).all()
    # ROCKET AF mean CHADS2 3.5 (SD 0.9), PMC4265383 Table 3
    assert abs(c.chads2().mean() - 3.5) < 0.2
