"""Guideline protocols on the calibrated population against the trial arms they imitate.

Validation only: nothing here was fitted (the protocols are published rules, the population
was fitted to IWPC 2009, White 1995 and Kovacs 2003). 1,000 held-out patients, medium tier
(exact daily INR: the tier without the hard tier's 18.8 % missed doses, which trial patients
did not have; the hard tier's TTRs are 9-18 points lower, see the model card). Each protocol
acts only on its scheduled INR checks (``hemosim.agents.warfarin``).

Published arms (FACTS §2.5):
* EU-PACT (Pirmohamed 2013 N Engl J Med 369:2294), TTR weeks 0-12: genotype-guided 67.4 %,
  standard dosing 60.3 %; adjusted difference 7.0 points (95 % CI 3.3-10.6).
* COAG (Kimmel 2013 N Engl J Med 369:2283), TTR days 4-28: genotype-guided 45.2 %, clinical
  algorithm 45.4 %; difference -0.2 (95 % CI -3.4 to 3.1).

Imitations: EU-PACT genotype arm = IWPC pharmacogenetic dose with the EU-PACT loading doses;
EU-PACT standard arm = 10/5/5 mg then 5 mg/day; COAG genotype arm = Gage 2008 (the
warfarindosing.org equation), COAG clinical arm = IWPC clinical, both from day 1 without
loading. The standard / clinical arms miss the trials by 7-8 points and the arm differences
are too large: recorded as strict xfails with the measured residuals, so a change that fixes
them shows up.
"""

from __future__ import annotations

import numpy as np
import pytest

import hemosim  # noqa: F401  (registers the env)
from hemosim.agents.policies import ConstantDosePolicy, RandomPolicy
from hemosim.agents.warfarin import (
    Gage2008Baseline,
    IWPCClinicalBaseline,
    IWPCPharmacogeneticBaseline,
    WarfarinClinicalBaseline,
)
from hemosim.evaluation import rollout_warfarin
from hemosim.metrics import rosendaal_ttr
from hemosim.reproducibility import HELD_OUT_SEEDS

pytestmark = pytest.mark.slow

SEEDS = list(HELD_OUT_SEEDS)
EU_PACT = {"genotype": 67.4, "standard": 60.3, "difference": 7.0, "difference_ci": (3.3, 10.6)}
COAG = {"genotype": 45.2, "clinical": 45.4, "difference": -0.2, "difference_ci": (-3.4, 3.1)}


def _ttr(make, window):
    r = rollout_warfarin(make, SEEDS, difficulty="medium")
    days = np.arange(r.inr.shape[1], dtype=np.float64)
    lo, hi = window
    return float(100 * rosendaal_ttr(days[lo:hi + 1], r.inr[:, lo:hi + 1], r.target_low, r.target_high).mean())


@pytest.fixture(scope="module")
def ttr():
    weeks_0_12, days_4_28 = (0, 84), (4, 28)
    return {
        "pg_12wk": _ttr(lambda: IWPCPharmacogeneticBaseline(seed=0), weeks_0_12),
        "fixed_12wk": _ttr(lambda: WarfarinClinicalBaseline(seed=0), weeks_0_12),
        "gage_4_28": _ttr(lambda: Gage2008Baseline(seed=0), days_4_28),
        "clinical_4_28": _ttr(lambda: IWPCClinicalBaseline(seed=0), days_4_28),
        "fixed_90": _ttr(lambda: WarfarinClinicalBaseline(seed=0), (0, 90)),
        "random_90": _ttr(lambda: RandomPolicy(hemosim.envs.warfarin.WarfarinSimulator.action_space, seed=0),
                          (0, 90)),
        "constant_90": {d: _ttr(lambda d=d: ConstantDosePolicy(float(d)), (0, 90)) for d in np.arange(0.5, 15.01, 0.5)},
    }


def test_eu_pact_genotype_arm_within_5_points(ttr):
    assert abs(ttr["pg_12wk"] - EU_PACT["genotype"]) <= 5.0, ttr["pg_12wk"]


def test_coag_genotype_arm_within_5_points(ttr):
    assert abs(ttr["gage_4_28"] - COAG["genotype"]) <= 5.0, ttr["gage_4_28"]


@pytest.mark.xfail(strict=True, reason="residual: fixed-dose protocol 51.9 % vs EU-PACT standard arm 60.3 % (-8.4)")
def test_eu_pact_standard_arm_within_5_points(ttr):
    assert abs(ttr["fixed_12wk"] - EU_PACT["standard"]) <= 5.0, ttr["fixed_12wk"]


@pytest.mark.xfail(strict=True, reason="residual: IWPC clinical protocol 38.0 % vs COAG clinical arm 45.4 % (-7.4)")
def test_coag_clinical_arm_within_5_points(ttr):
    assert abs(ttr["clinical_4_28"] - COAG["clinical"]) <= 5.0, ttr["clinical_4_28"]


def test_pharmacogenetic_minus_standard_keeps_the_eu_pact_sign(ttr):
    assert ttr["pg_12wk"] - ttr["fixed_12wk"] > 0


@pytest.mark.xfail(strict=True, reason="residual: EU-PACT difference simulated +15.7 points vs +7.0 (CI 3.3-10.6)")
def test_pharmacogenetic_minus_standard_within_the_eu_pact_ci(ttr):
    lo, hi = EU_PACT["difference_ci"]
    assert lo <= ttr["pg_12wk"] - ttr["fixed_12wk"] <= hi


@pytest.mark.xfail(strict=True, reason="residual: COAG difference simulated +7.7 points vs -0.2 (CI -3.4 to 3.1)")
def test_genotype_minus_clinical_within_the_coag_ci(ttr):
    lo, hi = COAG["difference_ci"]
    assert lo <= ttr["gage_4_28"] - ttr["clinical_4_28"] <= hi


def test_fixed_dose_protocol_beats_random_by_15_points_and_every_constant_dose(ttr):
    """Issue #11 Must show: >= 15 TTR points above uniformly random doses and above every
    constant dose 0.5-15 mg/day (0.5-mg grid), on the held-out patients."""
    assert ttr["fixed_90"] - ttr["random_90"] >= 15.0
    assert ttr["fixed_90"] > max(ttr["constant_90"].values())
