"""``hemosim simulate`` (issue #20): the what-if command and its library face."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hemosim.cli import main
from hemosim.simulate import course_table, load_patient_file, parse_assignments, simulate


def test_cli_warfarin_table_png_and_json(tmp_path, capsys):
    png, js = tmp_path / "w.png", tmp_path / "w.json"
    rc = main(["simulate", "warfarin", "--set", "age_years=70", "--set", "cyp2c9=*1/*3", "--doses", "10,5",
               "--steps", "12", "--band", "20", "--scenario", "missed_dose_days=[3]", "--out", str(png), "--json", str(js)])
    out = capsys.readouterr().out
    assert rc == 0 and png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    assert "cyp2c9=*1/*3" in out and "pop 5%" in out and "dose_missed" in out
    payload = json.loads(js.read_text())
    assert payload["patient"]["age_years"] == 70.0 and len(payload["rows"]) == 13
    assert [r["dose_mg"] for r in payload["rows"][1:4]] == pytest.approx([10.0, 5.0, 5.0], abs=1e-5)
    assert len(payload["band"]["p05"]) == 13


def test_cli_heparin_protocol_from_a_file(tmp_path, capsys):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"patient": {"weight_kg": 95.0, "crcl_ml_per_min": 40.0}}))
    rc = main(["simulate", "heparin", "--patient", str(f), "--protocol", "raschke", "--steps", "4", "--no-plot"])
    out = capsys.readouterr().out
    assert rc == 0 and "weight_kg=95" in out and "crcl_ml_per_min=40" in out


def test_toml_and_flat_patient_files(tmp_path):
    t = tmp_path / "p.toml"
    t.write_text('[patient]\nage_years = 60.0\n[scenario]\namiodarone_start_day = 20\n')
    assert load_patient_file(t) == {"patient": {"age_years": 60.0}, "scenario": {"amiodarone_start_day": 20}}
    j = tmp_path / "p.json"
    j.write_text('{"age_years": 60.0}')
    assert load_patient_file(j) == {"patient": {"age_years": 60.0}}
    assert parse_assignments(["a=1", "b=*1/*3", "c=true", "d=[1, 2]"], "--set") == {"a": 1, "b": "*1/*3", "c": True, "d": [1, 2]}


@pytest.mark.parametrize(
    "argv, words",
    [
        (["simulate", "warfarin", "--set", "agee=70", "--dose", "5"], ["unknown key 'agee'"]),
        (["simulate", "warfarin", "--set", "cyp2c9=*1/*9", "--dose", "5"], ["cyp2c9", "'*3/*3'"]),
        (["simulate", "warfarin", "--dose", "20"], ["outside the action range"]),
        (["simulate", "warfarin", "--protocol", "raschke"], ["unknown warfarin protocol", "iwpc-pharmacogenetic"]),
        (["simulate", "heparin", "--dose", "1000", "--bolus", "50000"], ["bolus", "80 U/kg"]),
        (["simulate", "heparin", "--dose", "1000", "--steps", "50"], ["steps must be in [1, 20]"]),
    ],
)
def test_cli_errors_are_clear(argv, words, capsys):
    assert main([*argv, "--no-plot"]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, (w, err)


def test_simulated_patient_is_the_env_patient():
    """The course is the env's own: the same seed and patient give the same numbers as gym."""
    import gymnasium as gym

    course = simulate("warfarin", {"age_years": 64.0}, dose=5.0, steps=10, seed=3)
    env = gym.make("hemosim/WarfarinDosing-v0")
    _, info = env.reset(seed=3, options={"patient": {"age_years": 64.0}})
    inr = [info["inr"]]
    for _ in range(10):
        inr.append(env.step(np.array([5.0 / 15.0], dtype=np.float32))[4]["inr"])
    np.testing.assert_allclose([r["inr"] for r in course.rows], inr, rtol=1e-12)
    assert "patient: age_years=64" in course_table(course)


def test_readme_simulate_examples_are_the_reproduce_steps(capsys):
    """The README's `hemosim simulate` commands are `hemosim reproduce` steps and run as written."""
    import re
    import shlex
    from pathlib import Path

    from hemosim.cli import REPRODUCE_STEPS

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    commands = [shlex.split(c.replace("\\\n", " ")) for c in re.findall(r"^hemosim simulate .*?(?<!\\)$", readme, re.S | re.M)]
    assert len(commands) == 2
    steps = {name: argv for name, argv in REPRODUCE_STEPS}
    for cmd in commands:
        argv = cmd[1:]
        assert argv in steps.values()
        import os

        cwd = os.getcwd()
        os.chdir(root)
        try:
            assert main([*argv, "--no-plot"]) == 0
        finally:
            os.chdir(cwd)
        assert Path(root / argv[argv.index("--out") + 1]).exists()


@pytest.mark.parametrize(
    "argv, words",
    [
        (["simulate", "doac", "--set", "age_years=82", "--protocol", "guideline", "--band", "12"], ["age_years=82", "pop 5%"]),
        (["simulate", "doac", "--action", "2,1", "--steps", "3"], ["constant action (drug, dose level) = 2, 1"]),
        (["simulate", "dic", "--set", "course=worsening", "--protocol", "isth2013", "--steps", "6", "--band", "12"],
         ["course=worsening", "ISTH"]),
        (["simulate", "dic", "--action", "1,0,0,0", "--steps", "2"], ["FFP mL/kg"]),
    ],
)
def test_cli_doac_and_dic(argv, words, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "c.png")]) == 0
    out = capsys.readouterr().out
    for w in words:
        assert w in out, (w, out)
    assert (tmp_path / "c.png").stat().st_size > 10_000


@pytest.mark.parametrize(
    "argv, words",
    [
        (["simulate", "doac", "--dose", "5"], ["takes --action"]),
        (["simulate", "warfarin", "--action", "1"], ["not --action"]),
        (["simulate", "dic", "--action", "9,0,0,0"], ["action"]),
        (["simulate", "doac", "--protocol", "raschke"], ["unknown doac protocol", "guideline"]),
    ],
)
def test_cli_doac_dic_errors(argv, words, capsys):
    assert main([*argv, "--no-plot"]) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, (w, err)
