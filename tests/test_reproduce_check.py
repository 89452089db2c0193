"""`hemosim reproduce --check`: the stored expected values, the comparison and its failures.

The full check (every step regenerated, 10-25 min) is one command, `hemosim reproduce
--check`; here the comparison logic runs on the committed results, and one cheap
deterministic step (the warfarin population report on the stored calibration, a few
seconds) is regenerated for real and compared."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hemosim import expected
from hemosim.cli import REPRODUCE_STEPS, main

REPO = Path(__file__).resolve().parents[1]
EXPECTED_FILE = REPO / expected.EXPECTED_PATH
IWPC_TTR = "warfarin_evaluation/policies/IWPC pharmacogenetic + titration/ttr_percent/mean"


def _entries() -> list[dict]:
    return expected.load_expected(EXPECTED_FILE)


def _write(path: Path, entries: list[dict]) -> Path:
    path.write_text(json.dumps({"entries": entries}))
    return path


def test_check_only_passes_on_the_committed_results(monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    assert main(["reproduce", "--check-only"]) == 0
    out = capsys.readouterr().out
    assert "-- OK" in out and "MISS" not in out


def test_changing_one_stored_value_fails_and_names_it(tmp_path, monkeypatch, capsys):
    entries = _entries()
    (target,) = [e for e in entries if e["id"] == IWPC_TTR]
    assert target["tolerance"] == {"rel": 1e-6}
    target["value"] += 0.05  # 69.26 -> 69.31: a change in the last printed digit
    path = _write(tmp_path / "expected.json", entries)
    monkeypatch.chdir(REPO)
    assert main(["reproduce", "--check-only", "--expected", str(path)]) == 1
    out = capsys.readouterr().out
    misses = [line for line in out.splitlines() if line.startswith("MISS")]
    assert len(misses) == 1
    assert misses[0].startswith(f"MISS {IWPC_TTR}: expected {target['value']!r}, got ")
    assert "tolerance {'rel': 1e-06}" in misses[0] and "FAILED" in out


def test_a_change_inside_the_tolerance_passes(tmp_path):
    entries = _entries()
    for e in entries:
        if e["id"] == IWPC_TTR:
            e["value"] *= 1 + 1e-8
    report = expected.check(REPO, _write(tmp_path / "expected.json", entries), steps=["warfarin_evaluation"])
    assert report.ok and report.compared > 100


def test_a_missing_results_file_is_a_miss_naming_the_file(tmp_path):
    entries = [e for e in _entries() if e["source_file"] == "results/dic_trials.json"]
    report = expected.check(tmp_path, _write(tmp_path / "expected.json", entries))
    assert not report.ok and len(report.misses) == len(entries)
    assert "results/dic_trials.json: file missing" in report.misses[0]


def test_a_value_missing_from_the_results_is_a_miss(tmp_path):
    entries = [e for e in _entries() if e["source_file"] == "results/dic_trials.json"]
    (tmp_path / "results").mkdir()
    data = json.loads((REPO / "results/dic_trials.json").read_text())
    del data["policies"][0]["mortality_28d"]
    (tmp_path / "results/dic_trials.json").write_text(json.dumps(data))
    report = expected.check(tmp_path, _write(tmp_path / "expected.json", entries))
    assert [m.split(":")[0] for m in report.misses] == ["dic_trials/policies/BCSH 2009/mortality_28d"]


@pytest.mark.parametrize("installed", [False, True])
def test_agent_rows_are_skipped_without_the_train_extra(tmp_path, monkeypatch, installed):
    """Without torch / SB3 the leaderboard has no agent rows: a note, not a failure."""
    entries = [e for e in _entries() if e["source_file"] == "results/leaderboard.json"]
    agent = [e for e in entries if e.get("requires") == "train"]
    assert len(agent) >= 5 * 12  # five saved agents, a dozen numbers each
    (tmp_path / "results").mkdir()
    board = json.loads((REPO / "results/leaderboard.json").read_text())
    for env in board.values():
        env["rows"] = {k: v for k, v in env["rows"].items() if not k.endswith("-s0]")}
    (tmp_path / "results/leaderboard.json").write_text(json.dumps(board))
    monkeypatch.setattr(expected, "_extra_installed", lambda extra: installed)
    report = expected.check(tmp_path, _write(tmp_path / "expected.json", entries))
    if installed:  # with the extra the rows must be there
        assert len(report.misses) == len(agent)
    else:
        assert report.ok and len(report.skipped) == len(agent)
        assert "needs the 'train' extra" in report.skipped[0]
        assert report.compared == len(entries) - len(agent)


def test_the_stored_file_matches_what_the_committed_results_give(tmp_path):
    """`--write-expected` on the committed results rewrites the committed file unchanged."""
    path = tmp_path / "expected.json"
    shutil.copy(EXPECTED_FILE, path)
    expected.write_expected(REPO, path)
    assert path.read_text() == EXPECTED_FILE.read_text()


def test_every_quoted_results_file_is_covered():
    steps = {name for name, _ in REPRODUCE_STEPS}
    by_file: dict[str, int] = {}
    for e in _entries():
        by_file[e["source_file"]] = by_file.get(e["source_file"], 0) + 1
        assert e["tolerance"] == "exact" or set(e["tolerance"]) <= {"rel", "abs"}
        for doc in e["quoted_in"]:
            assert (REPO / doc).exists(), doc
    for source in expected.SOURCES:
        assert source.step in steps, source.step
        assert by_file.get(source.file, 0) > 10, source.file


def test_within():
    assert expected.within(3, 3, "exact") and not expected.within(3, 4, "exact")
    assert not expected.within(True, 1, "exact")  # a boolean is not a count
    assert expected.within("a", "a", "exact") and expected.within(None, None, "exact")
    assert expected.within(100.0, 100.00009, {"rel": 1e-6}) and not expected.within(100.0, 100.0002, {"rel": 1e-6})
    assert expected.within(0.0, 5e-10, {"abs": 1e-9}) and not expected.within(0.0, 2e-9, {"abs": 1e-9})
    assert not expected.within(1.0, float("nan"), {"rel": 1e-6}) and not expected.within(1.0, None, {"rel": 1e-6})
    with pytest.raises(ValueError, match="tolerance must be 'exact' or a dict of 'rel' / 'abs', got"):
        expected.within(1.0, 1.0, {"relative": 0.1})


def test_check_only_and_write_expected_exclude_each_other(capsys):
    assert main(["reproduce", "--check-only", "--write-expected"]) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_a_regenerated_step_matches_its_expected_values(tmp_path, monkeypatch, capsys):
    """One step for real: the warfarin population report (stored calibration, held-out
    patients) regenerated in a temporary folder equals the stored values."""
    monkeypatch.chdir(tmp_path)
    ((name, argv),) = [s for s in REPRODUCE_STEPS if s[0] == "warfarin_population"]
    assert main(argv) == 0
    capsys.readouterr()
    assert (tmp_path / "results/warfarin_population.json").exists()
    report = expected.check(tmp_path, EXPECTED_FILE, steps=[name])
    assert report.ok, report.misses[:5]
    assert report.compared > 100


#: README lines that print a stored value: (id, scale, decimals, text that marks the line).
README_QUOTES = [
    (IWPC_TTR, 1, 1, "| IWPC pharmacogenetic (EU-PACT loading) + titration |"),
    ("warfarin_population/dose_distribution/median_mg_per_week", 1, 1, "mg/week (IQR"),
    ("heparin_fit/rows/half-life 25 U/kg/simulated", 1, 1, "half-lives"),
    ("raschke_trial/trial/weight_based/share_above_24h", 100, 1, "| aPTT > 1.5 x control within 24 h |"),
    ("heparin_pomdp/rows/Raschke nomogram, aPTT on schedule, routine/ttr_hourly_pct", 1, 1,
     "| Raschke nomogram, aPTT 6 h after each change"),
    ("doac_trials/summary/rates/RE-LY|rely|dabigatran_110|stroke_se/rate", 1, 2, "| RE-LY dabigatran 110 mg |"),
    ("safety_layer/warfarin/Random dose (uniform 0-15 mg)/none/mean_episode_cost", 1, 2, "| Random 0-15 mg | none |"),
    ("safety_layer/warfarin/Gage 2008 + titration/enforce/mean_episode_cost", 1, 2, "| Gage 2008 | none / enforce |"),
    ("doac_evaluation/baselines/rows/guideline_chooser/ncb_expected_per_100py", 1, 2, "| guideline chooser (ESC 2020"),
    ("dic_trials/natural_course/sepsis/overt_at_admission", 100, 1, "| sepsis (model) |"),
    ("leaderboard/hemosim/HeparinInfusion-v0/rows/Raschke weight-based nomogram/metric", 1, 1,
     "| Raschke weight-based nomogram |"),
]


@pytest.mark.parametrize("entry_id, scale, decimals, marker", README_QUOTES, ids=[q[0].split("/")[0] for q in README_QUOTES])
def test_the_readme_prints_the_stored_value(entry_id, scale, decimals, marker):
    """A drift check between the stored values and the README's tables (one per results file)."""
    (entry,) = [e for e in _entries() if e["id"] == entry_id]
    assert "README.md" in entry["quoted_in"]
    text = f"{scale * entry['value']:.{decimals}f}"
    lines = [line for line in (REPO / "README.md").read_text().splitlines() if marker in line]
    assert lines, f"no README line contains {marker!r}"
    assert any(text in line for line in lines), f"{entry_id} = {text} not on the README line {lines[0]!r}"


def test_a_bad_tolerance_in_the_expected_file_names_the_entry(tmp_path, monkeypatch, capsys):
    entries = _entries()[:3]
    entries[1]["tolerance"] = {"rel": -0.1}
    path = _write(tmp_path / "expected.json", entries)
    with pytest.raises(ValueError, match=f"entry {entries[1]['id']!r} has tolerance"):
        expected.load_expected(path)
    monkeypatch.chdir(REPO)
    assert main(["reproduce", "--check-only", "--expected", str(path)]) == 2
    assert "allowed: \"exact\"" in capsys.readouterr().err
