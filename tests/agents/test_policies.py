"""Generic reference policies: RandomPolicy and ConstantDosePolicy."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import given, settings
from hypothesis import strategies as st

from hemosim.agents.policies import ConstantDosePolicy, RandomPolicy

BOX = spaces.Box(0.0, 1.0, (1,), np.float32)


def test_random_shapes_bounds_dtype():
    pol = RandomPolicy(BOX, seed=1)
    a = pol.predict(np.zeros(8, np.float32))
    assert a.shape == (1,) and a.dtype == np.float32 and BOX.contains(a)
    b = pol.predict(np.zeros((5, 8), np.float32))
    assert b.shape == (5, 1) and np.all((b >= 0) & (b <= 1))


def test_random_is_reproducible_and_resettable():
    obs = np.zeros((4, 8))
    a = [RandomPolicy(BOX, seed=3).predict(obs) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])
    pol = RandomPolicy(BOX, seed=3)
    first = pol.predict(obs)
    assert not np.array_equal(first, pol.predict(obs))  # the stream advances
    pol.reset()
    np.testing.assert_array_equal(first, pol.predict(obs))


def test_random_covers_the_space():
    draws = RandomPolicy(BOX, seed=0).predict(np.zeros((20000, 8)))
    assert draws.min() < 0.01 and draws.max() > 0.99
    assert abs(draws.mean() - 0.5) < 0.01  # uniform: SE = 0.29 / sqrt(20000) = 0.002


def test_random_respects_general_bounds():
    box = spaces.Box(np.array([-2.0, 10.0]), np.array([-1.0, 20.0]), dtype=np.float64)
    draws = RandomPolicy(box, seed=0).predict(np.zeros((1000, 3)))
    assert draws.shape == (1000, 2)
    assert np.all(draws[:, 0] >= -2) and np.all(draws[:, 0] <= -1)
    assert np.all(draws[:, 1] >= 10) and np.all(draws[:, 1] <= 20)


def test_random_rejects_bad_spaces_and_obs():
    with pytest.raises(ValueError, match="Box"):
        RandomPolicy(spaces.Discrete(3))
    with pytest.raises(ValueError, match="finite bounds"):
        RandomPolicy(spaces.Box(-np.inf, np.inf, (1,)))
    with pytest.raises(ValueError, match="1-D"):
        RandomPolicy(BOX).predict(np.zeros((2, 2, 8)))


@given(st.floats(0.0, 15.0), st.integers(1, 16))
@settings(max_examples=50, deadline=None)
def test_constant_dose_maps_to_action(dose_mg, n):
    pol = ConstantDosePolicy(dose_mg)
    a = pol.predict(np.zeros(8))
    assert a.shape == (1,) and a.dtype == np.float32
    assert 0.0 <= a[0] <= 1.0
    assert float(a[0]) * 15.0 == pytest.approx(dose_mg, abs=1e-5)
    b = pol.predict(np.zeros((n, 8)))
    assert b.shape == (n, 1) and np.all(b == a[0])


@pytest.mark.parametrize("dose", [-0.1, 15.01, float("nan"), float("inf")])
def test_constant_dose_rejects_out_of_range(dose):
    with pytest.raises(ValueError, match="dose_mg"):
        ConstantDosePolicy(dose)
