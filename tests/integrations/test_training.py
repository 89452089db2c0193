"""``hemosim train`` (the train extra: torch, stable-baselines3): a tiny PPO run writes the
model, the curve and the record, trains only on training seeds and evaluates on held-out ones."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("stable_baselines3")

from hemosim.cli import main  # noqa: E402
from hemosim.training import load_agent, train  # noqa: E402


def test_tiny_run_writes_model_curve_and_record(tmp_path):
    record = train("hemosim/HeparinInfusion-v0", timesteps=2048, n_envs=8, seed=40, out=tmp_path,
                   eval_patients=16, progress=False)
    stem = tmp_path / "HeparinInfusion-v0-ppo-s40"
    for suffix in (".zip", ".json", ".png"):
        assert stem.with_suffix(suffix).exists()
    saved = json.loads(stem.with_suffix(".json").read_text())
    assert saved["training_root_seeds"] == [40, 47]
    assert saved["held_out_evaluation"]["patients"] == 16
    assert np.isfinite(saved["held_out_evaluation"]["metric"])
    assert saved["versions"]["stable_baselines3"]
    assert record["curve"] and all(steps > 0 for steps, _ in record["curve"])
    env_id, policy = load_agent(stem.with_suffix(".json"))  # the saved model acts in the native space
    action = policy.predict(np.zeros((3, 6), dtype=np.float32))
    assert env_id == "hemosim/HeparinInfusion-v0" and action.shape == (3, 2)
    assert (action >= 0).all() and (action <= 1).all()


def test_multidiscrete_env_trains(tmp_path):
    record = train("hemosim/DICManagement-v0", timesteps=512, n_envs=4, seed=0, out=tmp_path, eval_patients=8,
                   progress=False)
    assert record["symmetric_actions"] is False


@pytest.mark.parametrize("argv, message", [
    (["train", "hemosim/WarfarinDosing-v0", "--seed", "9990", "--n-envs", "64"], "leave the training pool"),
    (["train", "hemosim/WarfarinDosing-v0", "--seed", "100000"], "leave the training pool"),
    (["train", "hemosim/Nope-v0"], "unknown env id"),
    (["train", "hemosim/WarfarinDosing-v0", "--timesteps", "0"], "timesteps must be a positive integer"),
])
def test_training_seeds_stay_in_the_training_pool(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err
