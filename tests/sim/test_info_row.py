"""``BatchedSimulator.info_row`` (the single env's info, built directly where a simulator
offers a fast path) equals the row of the batched info it stands for: same keys in the same
order, same Python types, same values (property test over random trajectories)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest

import hemosim  # noqa: F401
from hemosim.sim.single import scalar_info

CASES = [
    ("hemosim/WarfarinDosing-v0", {}),
    ("hemosim/WarfarinDosing-v0", {"difficulty": "hard", "model": "hamberg2010"}),
    ("hemosim/HeparinInfusion-v0", {"difficulty": "hard", "hit_incidence": 0.5}),
    ("hemosim/HeparinInfusion-POMDP-v0", {}),
    ("hemosim/HeparinInfusion-POMDP-v0", {"difficulty": "hard", "reward_mode": "events"}),
    ("hemosim/DOACManagement-v0", {}),
    ("hemosim/DICManagement-v0", {}),
]


def _assert_same(fast, slow, path=""):
    assert list(fast) == list(slow), path
    for key in slow:
        a, b = fast[key], slow[key]
        where = f"{path}/{key}"
        if isinstance(b, dict):
            _assert_same(a, b, where)
        elif isinstance(b, np.ndarray):
            assert isinstance(a, np.ndarray) and np.array_equal(a, b, equal_nan=True), where
        else:
            assert type(a) is type(b), (where, type(a), type(b))
            assert a == b or (isinstance(b, float) and math.isnan(a) and math.isnan(b)), (where, a, b)


@pytest.mark.parametrize("env_id, options", CASES, ids=lambda x: x if isinstance(x, str) else str(x))
def test_info_row_equals_the_batched_row(env_id, options):
    n = 7
    venv = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point", **options)
    venv.reset(seed=21)
    venv.action_space.seed(2)
    sim = venv.unwrapped.sim
    for _ in range(60):
        venv.step(venv.action_space.sample())
        batched = sim.info()
        for row in range(n):
            _assert_same(sim.info_row(row), scalar_info(batched, row))
