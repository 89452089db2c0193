"""``hemosim leaderboard --ray`` (the ray extra): patients sharded over Ray tasks on a local
instance give exactly the single-process table."""

from __future__ import annotations

import json

import pytest

ray = pytest.importorskip("ray")

from hemosim.leaderboard import leaderboard  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    yield
    ray.shutdown()


@pytest.mark.parametrize("env_id", ["hemosim/WarfarinDosing-v0", "hemosim/DICManagement-v0"])
def test_sharded_table_equals_one_process(local_ray, env_id):
    one = leaderboard([env_id], n_patients=48, n_train=8, agents={})
    sharded = leaderboard([env_id], n_patients=48, n_train=8, agents={}, ray_shards=3)
    assert json.dumps(one, sort_keys=True, default=float) == json.dumps(sharded, sort_keys=True, default=float)
