"""EU-PACT and COAG arms against the protocols that imitate them (validation only).

Nothing here was fitted: the protocols are published rules (hemosim.agents.warfarin_trials:
each trial's initiation doses and its day-4 INR revision, then Intermountain Table A at
scheduled visits), the population was fitted to IWPC 2009, White 1995 and Kovacs 2003.
1,000 held-out patients, trial conditions (hemosim.trial_comparison: the hard tier's INR
assay error, dietary vitamin-K variability and mid-course amiodarone, without its missed
doses, which the trials' adherence exclusions rule out), each arm in its trial's window,
TTR by the trials' method (Rosendaal between the INRs the protocol measured), each trial's
arms on that trial's own patients (calibrated presets "eu_pact": 98.5 % white, and "coag":
27 % Black, median age 58 y; hemosim.patients.warfarin, chosen from the trials' reports
before these TTRs were simulated). On the default population (IWPC ancestry mix) the
numbers were 62.8 / 63.7 / 50.8 / 49.9 %, differences -0.9 and +0.9.

Published arms (FACTS §2.5):
* EU-PACT (Pirmohamed 2013 N Engl J Med 369:2294), TTR weeks 0-12: genotype-guided 67.4 %,
  standard dosing 60.3 %; adjusted difference 7.0 points (95 % CI 3.3-10.6).
* COAG (Kimmel 2013 N Engl J Med 369:2283), TTR days 4-28: genotype-guided 45.2 %, clinical
  algorithm 45.4 %; difference -0.2 (95 % CI -3.4 to 3.1).

Residuals are strict xfails carrying the measured numbers, so a change that fixes them shows up.
"""

from __future__ import annotations

import numpy as np
import pytest

import hemosim  # noqa: F401  (registers the env)
from hemosim.agents.policies import ConstantDosePolicy, RandomPolicy
from hemosim.agents.warfarin import WarfarinClinicalBaseline
from hemosim.evaluation import rollout_warfarin
from hemosim.metrics import rosendaal_ttr
from hemosim.reproducibility import HELD_OUT_SEEDS
from hemosim.trial_comparison import compare_trial_arms

pytestmark = pytest.mark.slow

SEEDS = list(HELD_OUT_SEEDS)


@pytest.fixture(scope="module")
def trial():
    return compare_trial_arms(SEEDS, "trial")


def _measured(trial, key):
    return trial["arms"][key]["measured_inr_ttr_percent"]["mean"]


def _within_5(trial, key):
    arm = trial["arms"][key]
    return abs(_measured(trial, key) - arm["published_ttr_percent"]) <= 5.0


def test_eu_pact_genotype_arm_within_5_points(trial):
    assert _within_5(trial, "eu_pact_genotype"), _measured(trial, "eu_pact_genotype")  # 62.6 vs 67.4


def test_eu_pact_standard_arm_within_5_points(trial):
    assert _within_5(trial, "eu_pact_standard"), _measured(trial, "eu_pact_standard")  # 61.6 vs 60.3


def test_coag_clinical_arm_within_5_points(trial):
    assert _within_5(trial, "coag_clinical"), _measured(trial, "coag_clinical")  # 47.2 vs 45.4


def test_coag_genotype_arm_within_5_points(trial):
    # 49.7 vs 45.2 on the COAG population (+4.5); it was +5.6 on the default population
    assert _within_5(trial, "coag_genotype"), _measured(trial, "coag_genotype")


def test_genotype_minus_clinical_within_the_coag_ci(trial):
    d = trial["differences"]["COAG genotype - clinical"]
    lo, hi = d["published_ci95"]
    assert lo <= d["measured_inr_ttr_percent"] <= hi, d  # +2.5 vs -0.2 (-3.4 to 3.1)


def test_pharmacogenetic_minus_standard_keeps_the_eu_pact_sign(trial):
    # +1.1 on the EU-PACT population (it was -0.9 on the default population)
    assert trial["differences"]["EU-PACT genotype - standard"]["measured_inr_ttr_percent"] > 0


@pytest.mark.xfail(strict=True, reason="residual: EU-PACT difference simulated +1.1 points vs +7.0 (CI 3.3-10.6)")
def test_pharmacogenetic_minus_standard_within_the_eu_pact_ci(trial):
    d = trial["differences"]["EU-PACT genotype - standard"]
    lo, hi = d["published_ci95"]
    assert lo <= d["measured_inr_ttr_percent"] <= hi


def test_each_trial_ran_on_its_own_population(trial):
    assert trial["population"] == "trial"
    assert {k: a["population"] for k, a in trial["arms"].items()} == {
        "eu_pact_genotype": "eu_pact", "eu_pact_standard": "eu_pact", "coag_genotype": "coag", "coag_clinical": "coag"}


def test_trial_method_ttr_is_close_to_the_true_inr_ttr(trial):
    """The trials' TTR (interpolated measured INRs) and the true daily-INR TTR differ by < 4
    points in every arm: the choice of method is not what decides the comparisons above."""
    for arm in trial["arms"].values():
        assert abs(arm["measured_inr_ttr_percent"]["mean"] - arm["true_inr_ttr_percent"]["mean"]) < 4.0, arm


def _ttr(make, window):
    r = rollout_warfarin(make, SEEDS, difficulty="medium")
    days = np.arange(r.inr.shape[1], dtype=np.float64)
    lo, hi = window
    return float(100 * rosendaal_ttr(days[lo:hi + 1], r.inr[:, lo:hi + 1], r.target_low, r.target_high).mean())


def test_fixed_dose_protocol_beats_random_by_15_points_and_every_constant_dose():
    """Issue #11 Must show: >= 15 TTR points above uniformly random doses and above every
    constant dose 0.5-15 mg/day (0.5-mg grid), on the held-out patients (medium tier)."""
    from hemosim.envs.warfarin import WarfarinSimulator

    fixed = _ttr(lambda: WarfarinClinicalBaseline(seed=0), (0, 90))
    rand = _ttr(lambda: RandomPolicy(WarfarinSimulator.action_space, seed=0), (0, 90))
    const = max(_ttr(lambda d=d: ConstantDosePolicy(float(d)), (0, 90)) for d in np.arange(0.5, 15.01, 0.5))
    assert fixed - rand >= 15.0
    assert fixed > const
