"""DIC scores (FACTS 7.1): hand-worked cases, the compiled twin, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hemosim import scores
from hemosim.models.dic_scores import (
    isth_overt_dic_score,
    isth_score_scalar,
    jaam_dic_score,
    sic_positive,
    sic_score,
)


def test_isth_hand_worked_cases():
    # platelets 45 (2) + FDP 30 strong (3) + PT +4 s (1) + fibrinogen 0.8 (1) = 7: overt
    assert isth_overt_dic_score(45, 30, 4.0, 0.8) == 7
    # platelets 120 (0) + FDP 12 moderate (2) + PT +2.9 s (0) + fibrinogen 1.0 (0) = 2
    assert isth_overt_dic_score(120, 12, 2.9, 1.0) == 2
    # band edges: 100 -> 0, 99.9 -> 1, 50 -> 1, 49.9 -> 2; PT 3 -> 1, 6 -> 2; FDP 10 -> 2, 25 -> 2, 25.1 -> 3
    np.testing.assert_array_equal(isth_overt_dic_score([100, 99.9, 50, 49.9], 0, 0, 2), [0, 1, 1, 2])
    np.testing.assert_array_equal(isth_overt_dic_score(200, 0, [2.99, 3.0, 5.99, 6.0, np.inf], 2), [0, 1, 1, 2, 2])
    np.testing.assert_array_equal(isth_overt_dic_score(200, [9.9, 10, 25, 25.1], 0, 2), [0, 2, 2, 3])
    # the alternative banding can be passed
    assert isth_overt_dic_score(200, 12, 0, 2, fdp_bands_ug_per_ml=(15.0, 30.0)) == 0


def test_jaam_hand_worked_cases():
    # SIRS 3 (1) + platelets 70 (3) + FDP 30 (3) + PT ratio 1.3 (1) = 8
    assert jaam_dic_score(70, 30, 1.3, 3) == 8
    # platelets 130 but a 40 % fall in 24 h (1) + FDP 12 (1) + PT 1.1 (0) + SIRS 2 (0) = 2
    assert jaam_dic_score(130, 12, 1.1, 2, platelets_24h_ago_10e9_per_l=216.7) == 2
    # a > 50 % fall scores 3 even at 130
    assert jaam_dic_score(130, 0, 1.0, 0, platelets_24h_ago_10e9_per_l=300) == 3
    assert jaam_dic_score(100, 9.9, 1.19, 0) == 1


def test_sic_hand_worked_cases():
    # INR 1.5 (2) + platelets 90 (2) + SOFA 3 (2) = 6: SIC
    assert sic_score(1.5, 90, 3) == 6 and sic_positive(1.5, 90, 3)
    # INR 1.3 (1) + platelets 120 (1) + SOFA 2 (2) = 4 but INR + platelet points = 2: not SIC
    assert sic_score(1.3, 120, 2) == 4 and not sic_positive(1.3, 120, 2)
    np.testing.assert_array_equal(sic_score([1.2, 1.21, 1.4, 1.41], 150, 0), [0, 1, 1, 2])


def test_bad_input_raises():
    with pytest.raises(ValueError, match="platelets"):
        isth_overt_dic_score(-1, 0, 0, 2)
    with pytest.raises(ValueError, match="fibrinogen"):
        isth_overt_dic_score(100, 0, 0, np.nan)
    with pytest.raises(ValueError, match="sirs"):
        jaam_dic_score(100, 0, 1.0, 5)
    with pytest.raises(ValueError, match="sofa"):
        sic_score(1.0, 100, -1)
    with pytest.raises(ValueError, match="fdp_bands"):
        isth_overt_dic_score(100, 0, 0, 2, fdp_bands_ug_per_ml=(30.0, 10.0))


def test_scores_module_reexports_the_dic_scores():
    assert scores.isth_overt_dic_score is isth_overt_dic_score
    assert scores.jaam_dic_score is jaam_dic_score and scores.sic_score is sic_score


@settings(max_examples=200, deadline=None)
@given(st.floats(0, 500), st.floats(0, 200), st.floats(-5, 40), st.floats(0, 8))
def test_compiled_isth_equals_the_numpy_score(plt, fdp, pt, fib):
    assert isth_score_scalar(plt, fdp, pt, fib, 10.0, 25.0) == int(isth_overt_dic_score(plt, fdp, pt, fib))
    assert 0 <= int(isth_overt_dic_score(plt, fdp, pt, fib)) <= 8
