"""Smoke tests of every CLI command, and the regression of the published results file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hemosim.cli import main

RESULTS = Path(__file__).resolve().parents[1] / "results" / "warfarin_evaluation.json"


def test_evaluate_writes_json_and_png(tmp_path, capsys):
    assert main(["--patients", "40", "--out", str(tmp_path), "--no-progress", "--constant-step-mg", "5"]) == 0
    out = capsys.readouterr().out
    assert "IWPC pharmacogenetic" in out and "Best constant dose" in out
    payload = json.loads((tmp_path / "warfarin_evaluation.json").read_text())
    assert payload["seeds"] == [100000, 100039]
    assert (tmp_path / "warfarin_evaluation.png").stat().st_size > 10_000


def test_evaluate_rejects_patients_outside_the_held_out_pool(capsys):
    assert main(["--patients", "1001", "--no-plot"]) == 2
    assert "held-out" in capsys.readouterr().err


def test_benchmark_quick_runs(capsys):
    assert main(["benchmark", "--quick", "--env", "hemosim/WarfarinDosing-v0"]) == 0
    assert "hemosim/WarfarinDosing-v0" in capsys.readouterr().out


def test_calibrate_list(capsys):
    assert main(["calibrate", "--list"]) == 0
    assert "doac-trials" in capsys.readouterr().out


@pytest.mark.slow
def test_committed_results_regenerate(tmp_path):
    """results/warfarin_evaluation.json (quoted in the README) is what `hemosim` produces."""
    committed = json.loads(RESULTS.read_text())
    assert main(["--out", str(tmp_path), "--no-plot", "--no-progress"]) == 0
    fresh = json.loads((tmp_path / "warfarin_evaluation.json").read_text())
    assert fresh["policies"].keys() == committed["policies"].keys()
    for name, summary in committed["policies"].items():
        np.testing.assert_allclose(fresh["policies"][name]["ttr_percent"]["mean"], summary["ttr_percent"]["mean"],
                                   atol=0.05, err_msg=name)
        np.testing.assert_allclose(fresh["policies"][name]["percent_days_inr_above_4"],
                                   summary["percent_days_inr_above_4"], atol=0.05, err_msg=name)


def test_protocols_beat_random_and_constants_in_committed_results():
    """Must-show of the foundation issue, on the committed held-out evaluation."""
    policies = json.loads(RESULTS.read_text())["policies"]
    ttr = {k: v["ttr_percent"]["mean"] for k, v in policies.items()}
    pg = ttr["IWPC pharmacogenetic + titration"]
    fixed = ttr["Fixed-dose initiation + Intermountain titration"]
    random = ttr["Random dose (uniform 0-15 mg)"]
    best_constant = next(v for k, v in ttr.items() if k.startswith("Best constant"))
    assert pg >= fixed
    assert min(pg, fixed) > random + 10 and min(pg, fixed) > best_constant + 5


def test_reproduce_runs_a_step_and_writes_its_table(tmp_path, monkeypatch, capsys):
    import hemosim.cli as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "REPRODUCE_STEPS", [("warfarin_small", ["evaluate", "--patients", "20", "--out", "results",
                                                                      "--no-plot", "--no-progress", "--constant-step-mg", "7.5"])])
    assert main(["reproduce"]) == 0
    assert "IWPC pharmacogenetic" in (tmp_path / "results" / "warfarin_small.txt").read_text()
    assert "1 of 1 steps ok" in capsys.readouterr().out


def test_safety_command_prints_both_envs_and_writes_json(tmp_path, capsys):
    out = tmp_path / "safety.json"
    assert main(["safety", "--patients", "20", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "warfarin" in text and "heparin" in text and "enforce" in text and "monitor" in text
    data = json.loads(out.read_text())
    for env_key in ("warfarin", "heparin"):
        for policy, modes in data[env_key].items():
            assert set(modes) == {"none", "enforce", "monitor"}
            # monitor changes nothing; enforce never overrides in "none"
            assert modes["monitor"]["events"] == modes["none"]["events"]
            assert modes["monitor"]["mean_episode_cost"] == modes["none"]["mean_episode_cost"]
            assert modes["monitor"]["overridden_step_percent"] == 0.0


def test_safety_command_rejects_patients_outside_the_pool(capsys):
    assert main(["safety", "--patients", "1001"]) == 2


def test_committed_safety_results_show_the_layer_working():
    data = json.loads((Path(__file__).resolve().parents[1] / "results" / "safety_layer.json").read_text())
    rnd = data["warfarin"]["Random dose (uniform 0-15 mg)"]
    assert rnd["enforce"]["excursion_percent"] < rnd["none"]["excursion_percent"]
    assert rnd["enforce"]["serious_events"] < rnd["none"]["serious_events"]
    for name, modes in data["warfarin"].items():
        if not name.startswith("Random"):
            assert modes["enforce"]["overridden_step_percent"] < 5.0  # guideline protocols: few overrides (the fixed-dose start is overridden most, 2.1 % with the calibrated population)


def test_calibrate_doac_evaluation_small(tmp_path, capsys):
    assert main(["calibrate", "doac-evaluation", "--patients", "8", "--trial-patients", "16", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "doac_evaluation.json").exists() and (tmp_path / "doac_evaluation.md").exists()
