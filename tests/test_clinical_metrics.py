"""Hand-worked cases of the clinical-event metrics (ISTH 2005, 4Ts, Garwood intervals)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hemosim.metrics import (
    ISTH_CRNM,
    ISTH_MAJOR,
    ISTH_MINOR,
    ISTH_NONE,
    aggregate_thromboembolism,
    four_ts_band,
    four_ts_score,
    garwood_interval,
    isth_bleeding_class,
    rate_per_100_patient_years,
)


# -- ISTH 2005 (Schulman & Kearon) -------------------------------------------------------
@pytest.mark.parametrize(
    "record, expected",
    [
        (dict(bleed=False, fatal=True), ISTH_NONE),  # no bleed: nothing to classify
        (dict(bleed=True), ISTH_MINOR),
        (dict(bleed=True, clinically_relevant=True), ISTH_CRNM),  # Kaatz 2015
        (dict(bleed=True, fatal=True), ISTH_MAJOR),  # criterion 1
        (dict(bleed=True, critical_site=True), ISTH_MAJOR),  # criterion 2
        (dict(bleed=True, hb_drop_g_per_dl=2.0), ISTH_MAJOR),  # criterion 3, boundary inclusive
        (dict(bleed=True, hb_drop_g_per_dl=1.9, clinically_relevant=True), ISTH_CRNM),
        (dict(bleed=True, transfusion_units=2), ISTH_MAJOR),
        (dict(bleed=True, transfusion_units=1), ISTH_MINOR),
        (dict(bleed=True, transfusion_units=1, hb_drop_g_per_dl=1.0, clinically_relevant=True), ISTH_CRNM),
    ],
)
def test_isth_class_hand_worked(record, expected):
    assert int(isth_bleeding_class(**record)) == expected


def test_isth_class_is_vectorised_and_rejects_bad_values():
    cls = isth_bleeding_class([True, True, False], hb_drop_g_per_dl=[3.0, 0.5, 3.0], clinically_relevant=[False, True, True])
    np.testing.assert_array_equal(cls, [ISTH_MAJOR, ISTH_CRNM, ISTH_NONE])
    with pytest.raises(ValueError, match="hb_drop_g_per_dl"):
        isth_bleeding_class(True, hb_drop_g_per_dl=-1.0)
    with pytest.raises(ValueError, match="bleed"):
        isth_bleeding_class([2])


# -- 4Ts (Lo 2006) -----------------------------------------------------------------------
def test_four_ts_classic_hit_scores_8():
    # 250 -> 60 (76 % fall, nadir >= 20): 2; onset day 7: 2; new thrombosis: 2; no other cause: 2
    score, parts = four_ts_score(250, 60, 7.0, "new", "none")
    assert int(score) == 8
    assert {k: int(v) for k, v in parts.items()} == {"thrombocytopenia": 2, "timing": 2, "thrombosis": 2, "other_causes": 2}
    assert four_ts_band(score) == "high"


@pytest.mark.parametrize(
    "base, nadir, onset, prior, clear, t_pts, timing_pts",
    [
        (200, 120, 6.0, np.inf, True, 1, 2),  # 40 % fall: 1
        (200, 150, 6.0, np.inf, True, 0, 2),  # 25 % fall: 0
        (200, 15, 6.0, np.inf, True, 1, 2),  # nadir 10-19: 1 even with a > 50 % fall
        (200, 8, 6.0, np.inf, True, 0, 2),  # nadir < 10: 0
        (200, 60, 0.5, 10.0, True, 2, 2),  # rapid fall with heparin 10 days ago: 2
        (200, 60, 0.5, 60.0, True, 2, 1),  # ... 30-100 days ago: 1
        (200, 60, 2.0, np.inf, True, 2, 0),  # fall before day 4, no recent heparin: 0
        (200, 60, 12.0, np.inf, True, 2, 1),  # after day 10: 1
        (200, 60, 7.0, np.inf, False, 2, 1),  # days 5-10 but not clear: 1
        (200, 200, np.nan, np.inf, True, 0, 0),  # no fall at all
    ],
)
def test_four_ts_parts_hand_worked(base, nadir, onset, prior, clear, t_pts, timing_pts):
    _, parts = four_ts_score(base, nadir, onset, "none", "possible", prior_heparin_days_ago=prior, timing_clear=clear)
    assert int(parts["thrombocytopenia"]) == t_pts
    assert int(parts["timing"]) == timing_pts
    assert int(parts["other_causes"]) == 1


def test_four_ts_bands_and_errors():
    np.testing.assert_array_equal(four_ts_band([0, 3, 4, 5, 6, 8]), ["low", "low", "intermediate", "intermediate", "high", "high"])
    with pytest.raises(ValueError, match="thrombosis"):
        four_ts_score(200, 100, 6.0, thrombosis="maybe")
    with pytest.raises(ValueError, match="baseline"):
        four_ts_score(0, 100, 6.0)
    with pytest.raises(ValueError):
        four_ts_band(9)


# -- thromboembolic aggregate ------------------------------------------------------------
def test_thromboembolism_aggregate_counts_components():
    total = aggregate_thromboembolism(
        {"ischaemic_stroke": [True, False, False], "pulmonary_embolism": [1, 0, 2], "systemic_embolism": [False, False, True]}
    )
    np.testing.assert_array_equal(total, [2, 0, 3])
    with pytest.raises(ValueError, match="unknown thromboembolic"):
        aggregate_thromboembolism({"major_bleeding": [True]})


# -- rates with exact Poisson (Garwood) intervals -----------------------------------------
@pytest.mark.parametrize(
    "k, lo, hi",
    [
        (0, 0.0, 3.6889),  # -ln(0.025)
        (1, 0.025318, 5.5716),
        (10, 4.7954, 18.3904),  # standard tables (e.g. Ulm 1990 Am J Epidemiol 131:373)
    ],
)
def test_garwood_limits_hand_worked(k, lo, hi):
    lower, upper = garwood_interval(k)
    assert float(lower) == pytest.approx(lo, abs=2e-4)
    assert float(upper) == pytest.approx(hi, abs=2e-4)


def test_rate_per_100_patient_years_hand_worked():
    # 10 events in 500 patient-years: 2.0 per 100 PY, (0.959, 3.678)
    rate, lo, hi = rate_per_100_patient_years(10, 500.0)
    assert float(rate) == pytest.approx(2.0)
    assert float(lo) == pytest.approx(0.95908, abs=1e-4)
    assert float(hi) == pytest.approx(3.67807, abs=1e-4)
    with pytest.raises(ValueError, match="patient_years"):
        rate_per_100_patient_years(1, 0.0)
    with pytest.raises(ValueError, match="non-negative integers"):
        rate_per_100_patient_years(1.5, 10.0)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 500))
def test_garwood_interval_brackets_the_count(k):
    lower, upper = garwood_interval(k)
    assert lower <= k <= upper
    assert lower >= 0.0
