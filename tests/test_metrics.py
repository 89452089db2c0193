"""Rosendaal TTR (Rosendaal 1993 Thromb Haemost 69:236; FACTS §3.1): hand-worked cases and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hemosim.metrics import rosendaal_time_in_range, rosendaal_ttr

# ---------------------------------------------------------------------------------------
# unit: hand-worked cases (range 2.0-3.0 inclusive unless stated)
# ---------------------------------------------------------------------------------------


def test_linear_crossing_through_the_range():
    # INR 1 -> 4 over 10 days crosses 2 at day 10/3 and 3 at day 20/3: 10/3 days in range
    tir, obs = rosendaal_time_in_range([0, 10], [1.0, 4.0])
    assert tir[0] == pytest.approx(10 / 3) and obs[0] == pytest.approx(10)
    assert rosendaal_ttr([0, 10], [1.0, 4.0])[0] == pytest.approx(1 / 3)
    assert rosendaal_ttr([0, 10], [4.0, 1.0])[0] == pytest.approx(1 / 3)  # falling: same


def test_entering_and_leaving():
    # 0-4 d: 1 -> 3, in range from day 2 (2 d); 4-10 d: 3 -> 2, all in range (6 d): 8 / 10
    assert rosendaal_ttr([0, 4, 10], [1.0, 3.0, 2.0])[0] == pytest.approx(0.8)
    # 1 -> 5 over 8 days: INR 2 at day 2, 3 at day 4: 2 / 8
    assert rosendaal_ttr([0, 8], [1.0, 5.0])[0] == pytest.approx(0.25)
    # 2.5 -> 3.5 over 4 days: leaves at day 2: 2 / 4
    assert rosendaal_ttr([0, 4], [2.5, 3.5])[0] == pytest.approx(0.5)
    # entirely out of range on either side
    assert rosendaal_ttr([0, 5, 9], [1.0, 1.9, 1.2])[0] == 0.0
    assert rosendaal_ttr([0, 5], [3.1, 6.0])[0] == 0.0


def test_constant_segments_inclusive_range():
    assert rosendaal_ttr([0, 7], [2.5, 2.5])[0] == 1.0
    assert rosendaal_ttr([0, 7], [2.0, 2.0])[0] == 1.0  # range is inclusive
    assert rosendaal_ttr([0, 7], [3.0, 3.0])[0] == 1.0
    assert rosendaal_ttr([0, 7], [1.5, 1.5])[0] == 0.0
    assert rosendaal_ttr([0, 7], [3.0001, 3.0001])[0] == 0.0
    # constant in range for 7 d, then 2.5 -> 1.5 over 4 d (in range for 2 d): 9 / 11
    assert rosendaal_ttr([0, 7, 11], [2.5, 2.5, 1.5])[0] == pytest.approx(9 / 11)


def test_custom_range_and_per_patient_range():
    # target 1.8-2.5 (GIFT low target): 1 -> 3 over 10 d is in range from day 4 to 7.5
    assert rosendaal_ttr([0, 10], [1.0, 3.0], low=1.8, high=2.5)[0] == pytest.approx(0.35)
    got = rosendaal_ttr([0, 10], [[1.0, 3.0], [1.0, 3.0]], low=[2.0, 1.8], high=[3.0, 2.5])
    np.testing.assert_allclose(got, [0.5, 0.35])


def test_gap_rule():
    # 10 d in range, then a 70-day gap: not interpolated with the 56-day rule
    t, v = [0, 10, 80], [2.5, 2.5, 1.0]
    tir, obs = rosendaal_time_in_range(t, v)
    assert tir[0] == pytest.approx(10) and obs[0] == pytest.approx(10)
    # without the gap rule the gap counts: 2.5 -> 1.0 over 70 d is >= 2 for 70/3 d
    assert rosendaal_ttr(t, v, max_gap=None)[0] == pytest.approx((10 + 70 / 3) / 80)
    # the rule is a parameter: a 42-day rule (droracle, FACTS §3.1) drops a 50-day gap, 56 keeps it
    t2, v2 = [0, 50], [2.5, 2.5]
    assert np.isnan(rosendaal_ttr(t2, v2, max_gap=42)[0])
    assert rosendaal_ttr(t2, v2, max_gap=56)[0] == 1.0
    # a gap of exactly max_gap is interpolated; a longer one is not
    assert rosendaal_time_in_range([0, 56], [2.5, 2.5])[1][0] == 56
    assert rosendaal_time_in_range([0, 56.5], [2.5, 2.5])[1][0] == 0


def test_nan_means_no_measurement():
    assert rosendaal_ttr([0, 5, 10], [1.0, np.nan, 4.0])[0] == pytest.approx(1 / 3)
    assert np.isnan(rosendaal_ttr([0, 5, 10], [np.nan, 2.5, np.nan])[0])  # one value: no interval
    assert np.isnan(rosendaal_ttr([0, 5], [np.nan, np.nan])[0])
    # mixed batch: the ragged row is compacted, the full row is unchanged
    got = rosendaal_ttr([0, 5, 10], [[1.0, np.nan, 4.0], [2.5, 2.5, 3.5]])
    np.testing.assert_allclose(got, [1 / 3, (5 + 2.5) / 10])
    # a NaN that merges two intervals into one longer than max_gap drops it
    assert np.isnan(rosendaal_ttr([0, 30, 60], [2.5, np.nan, 2.5])[0])


def test_zero_length_intervals_are_ignored():
    assert rosendaal_ttr([0, 0, 10], [5.0, 1.0, 4.0])[0] == pytest.approx(1 / 3)


def test_bad_input():
    with pytest.raises(ValueError, match="non-decreasing"):
        rosendaal_ttr([0, 5, 3], [2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match="low"):
        rosendaal_ttr([0, 5], [2.0, 2.0], low=3.0, high=2.0)


# ---------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------

inr = st.floats(0.8, 8.0, allow_nan=False)


@st.composite
def series(draw, min_size=2, max_size=12):
    n = draw(st.integers(min_size, max_size))
    gaps = draw(st.lists(st.floats(0.1, 30.0), min_size=n - 1, max_size=n - 1))
    times = np.concatenate([[0.0], np.cumsum(gaps)])
    values = np.array(draw(st.lists(inr, min_size=n, max_size=n)))
    return times, values


@given(series())
@settings(max_examples=200, deadline=None)
def test_ttr_is_a_fraction(s):
    t, v = s
    ttr = rosendaal_ttr(t, v)[0]
    assert 0.0 <= ttr <= 1.0


@given(series(), st.integers(0, 10), st.floats(0.01, 0.99))
@settings(max_examples=200, deadline=None)
def test_inserting_an_interpolated_point_changes_nothing(s, where, frac):
    t, v = s
    i = where % (len(t) - 1)
    t_new = t[i] + frac * (t[i + 1] - t[i])
    assume(t[i] < t_new < t[i + 1])
    v_new = v[i] + (t_new - t[i]) / (t[i + 1] - t[i]) * (v[i + 1] - v[i])
    t2 = np.insert(t, i + 1, t_new)
    v2 = np.insert(v, i + 1, v_new)
    # without the gap rule (splitting a too-long gap would legitimately change it)
    a = rosendaal_time_in_range(t, v, max_gap=None)
    b = rosendaal_time_in_range(t2, v2, max_gap=None)
    assert b[0][0] == pytest.approx(a[0][0], abs=1e-9)
    assert b[1][0] == pytest.approx(a[1][0], abs=1e-9)


@given(series(max_size=6))
@settings(max_examples=50, deadline=None)
def test_exact_crossings_match_a_fine_grid(s):
    t, v = s
    grid = np.linspace(t[0], t[-1], 200_001)
    dense = np.interp(grid, t, v)
    inside = ((dense >= 2.0) & (dense <= 3.0)).astype(float)
    riemann = np.sum(0.5 * (inside[1:] + inside[:-1]) * np.diff(grid)) / (t[-1] - t[0])
    assert rosendaal_ttr(t, v, max_gap=None)[0] == pytest.approx(riemann, abs=2e-3)


@given(st.lists(series(min_size=2, max_size=8), min_size=1, max_size=5), st.data())
@settings(max_examples=60, deadline=None)
def test_batched_equals_per_patient(patients, data):
    # per-patient time grids, NaN-padded to a common width (ragged path), and a shared grid
    width = max(len(t) for t, _ in patients)
    times = np.zeros((len(patients), width))
    values = np.full((len(patients), width), np.nan)
    for i, (t, v) in enumerate(patients):
        times[i, : len(t)] = t
        times[i, len(t):] = t[-1] + np.arange(1, width - len(t) + 1)  # keep times increasing
        values[i, : len(t)] = v
    low = np.array(data.draw(st.lists(st.floats(1.5, 2.5), min_size=len(patients), max_size=len(patients))))
    batched = rosendaal_ttr(times, values, low=low, high=low + 1.0)
    for i, (t, v) in enumerate(patients):
        one = rosendaal_ttr(t, v, low=low[i], high=low[i] + 1.0)[0]
        assert batched[i] == pytest.approx(one, abs=1e-12, nan_ok=True)
    # a full (no NaN) batch on a shared grid: the vectorised path equals each row alone
    shared_t = patients[0][0]
    vals = np.array([np.resize(v, len(shared_t)) for _, v in patients])
    full = rosendaal_ttr(shared_t, vals)
    for i in range(len(patients)):
        assert full[i] == pytest.approx(rosendaal_ttr(shared_t, vals[i])[0], abs=1e-12)


@given(series(), st.floats(-100, 100), st.floats(0.1, 10.0))
@settings(max_examples=100, deadline=None)
def test_invariant_to_time_shift_and_scale(s, shift, scale):
    t, v = s
    base = rosendaal_ttr(t, v, max_gap=None)[0]
    assert rosendaal_ttr(t * scale + shift, v, max_gap=None)[0] == pytest.approx(base, abs=1e-9)


@given(series(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
@settings(max_examples=100, deadline=None)
def test_widening_the_range_never_lowers_ttr(s, dlow, dhigh):
    t, v = s
    narrow = rosendaal_ttr(t, v, 2.0, 3.0)[0]
    wide = rosendaal_ttr(t, v, 2.0 - dlow, 3.0 + dhigh)[0]
    assert wide >= narrow - 1e-12
