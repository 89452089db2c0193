"""``hemosim leaderboard``: unit tests of its pieces, the seed pools it may use, a cross-check
against ``hemosim evaluate`` and regressions on the committed table (results/leaderboard.json)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import hemosim.leaderboard as lb
from hemosim.cli import main
from hemosim.reproducibility import HELD_OUT_SEEDS, TRAIN_SEEDS
from hemosim.safety import has_adapter

RESULTS = Path(__file__).resolve().parents[1] / "results"


def test_grid_covers_multidiscrete_and_the_first_box_component():
    md = lb._grid(gym.spaces.MultiDiscrete([3, 2]))
    assert sorted(tuple(a) for a in md) == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
    box = lb._grid(gym.spaces.Box(0.0, 1.0, shape=(3,), dtype=np.float32))
    assert len(box) == 16 and box[0].tolist() == [0.0, 0.0, 0.0] and box[-1].tolist() == [1.0, 0.0, 0.0]


def test_constant_policy_repeats_the_action():
    out = lb._Constant(np.array([2, 1])).predict(np.zeros((5, 8)))
    assert out.shape == (5, 2) and (out == [2, 1]).all()


@pytest.mark.parametrize("env_id", list(lb.BOARDS))
def test_every_board_evaluates_a_baseline(env_id):
    board = lb.BOARDS[env_id]
    name, make = next(iter(board.policies().items()))
    row = lb.evaluate_policy(env_id, make(), n_patients=24)
    assert math.isfinite(row["metric"]) and math.isfinite(row["return"]) and row["patients"] == 24
    assert row["patient_years"] > 0 and row["cost_per_patient_day"] >= 0
    assert (row["cds_fired_pct"] is None) == (not has_adapter(env_id))  # monitor mode where the env has an adapter


def test_best_constant_is_chosen_on_training_patients_only(monkeypatch):
    seen = []
    monkeypatch.setattr(lb, "assert_train", lambda seeds: seen.append(list(seeds)))
    monkeypatch.setattr(lb, "_grid", lambda space: [np.array([0.0, 0.0], dtype=np.float32),
                                                    np.array([0.5, 0.0], dtype=np.float32)])
    action, value = lb.best_constant("hemosim/HeparinInfusion-v0", n_patients=16)
    assert seen and all(TRAIN_SEEDS.start <= s < TRAIN_SEEDS.stop for s in seen[0])
    assert not set(seen[0]) & set(HELD_OUT_SEEDS)
    assert action.tolist() == [0.5, 0.0]  # no heparin at all cannot reach the aPTT range
    assert value > 0


def test_episode_trajectories_stop_at_each_patients_end():
    board = lb.BOARDS["hemosim/WarfarinDosing-v0"]
    log = lb._rollout(board, lb._Constant(np.array([0.3], dtype=np.float32)), list(HELD_OUT_SEEDS[:4]), monitor=False)
    assert (log["steps"] == 90).all()
    assert log["inr"].shape == (4, 91) and np.isfinite(log["inr"]).all()


def test_leaderboard_ttr_equals_hemosim_evaluate():
    """Two code paths, one number: the leaderboard's warfarin TTR of each protocol on the
    held-out patients equals ``hemosim evaluate``'s (results/warfarin_evaluation.json)."""
    saved = json.loads((RESULTS / "warfarin_evaluation.json").read_text())["policies"]
    board = lb.BOARDS["hemosim/WarfarinDosing-v0"]
    for name, make in board.policies().items():
        row = lb.evaluate_policy(board.env_id, make(), n_patients=1000, monitor=False)
        assert row["metric"] == pytest.approx(saved[name]["ttr_percent"]["mean"], abs=1e-9), name


def test_committed_table_protocols_beat_random_and_the_best_constant():
    data = json.loads((RESULTS / "leaderboard.json").read_text())
    assert set(data) == set(lb.BOARDS)
    for env_id in ("hemosim/WarfarinDosing-v0", "hemosim/HeparinInfusion-v0", "hemosim/HeparinInfusion-POMDP-v0"):
        rows = data[env_id]["rows"]
        assert all(r["patients"] == 1000 for r in rows.values())
        random_row = next(r for k, r in rows.items() if k.lower().startswith("random"))
        constant = next(r for k, r in rows.items() if k.startswith("best constant"))
        best = max(r["metric"] for k, r in rows.items() if not k.lower().startswith(("random", "best constant", "no lab")))
        for other in (random_row, constant):  # intervals apart
            assert best > other["metric"] + other["metric_ci95"], env_id


@pytest.mark.parametrize("argv, message", [
    (["leaderboard", "--patients", "0"], "--patients must be in 1..1000"),
    (["leaderboard", "--train-patients", "20000"], "--train-patients must be in 1..10000"),
    (["leaderboard", "--env", "hemosim/Nope-v0"], "unknown env id"),
])
def test_cli_rejects_bad_arguments(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_random_row_draws_per_patient_whatever_the_batch():
    space = gym.spaces.MultiDiscrete([4, 4, 3, 3])
    whole, halves = lb._PatientKeyedUniform(space), [lb._PatientKeyedUniform(space) for _ in range(2)]
    seeds = list(HELD_OUT_SEEDS[:10])
    whole.bind(seeds)
    halves[0].bind(seeds[:4])
    halves[1].bind(seeds[4:])
    for _ in range(3):
        a = whole.predict(np.zeros((10, 8)))
        b = np.concatenate([halves[0].predict(np.zeros((4, 8))), halves[1].predict(np.zeros((6, 8)))])
        assert np.array_equal(a, b) and a.min() >= 0 and (a < space.nvec).all()
    box = lb._PatientKeyedUniform(gym.spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32))
    box.bind(seeds)
    x = box.predict(np.zeros((10, 6)))
    assert x.shape == (10, 2) and x.dtype == np.float32 and ((x > 0) & (x < 1)).all()
    with pytest.raises(ValueError, match="bind"):
        lb._PatientKeyedUniform(space).predict(np.zeros((3, 8)))


def test_saved_agents_are_left_out_with_a_note_without_the_train_extra(monkeypatch, capsys):
    """A clone with `results/agents/*.json` but without torch / SB3 (the test extra only):
    the leaderboard runs without the agent rows instead of failing (`hemosim reproduce`)."""
    import importlib.util
    from pathlib import Path

    from hemosim import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("torch", "stable_baselines3") else real(name, *a))
    agents_dir = Path(__file__).resolve().parents[1] / "results" / "agents"
    assert list(agents_dir.glob("*.json")), "the committed agents are the case this test is about"
    assert cli._trained_agents(agents_dir, None) == {}
    assert "not loaded without the train extra" in capsys.readouterr().out
