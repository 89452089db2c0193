"""DOAC baselines: hand-worked label decisions from observations, statelessness, batch shapes, evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hemosim.agents.doac import (
    ConstantAction,
    GuidelineChooser,
    LabelDosedDOAC,
    RandomDOACPolicy,
    WarfarinPolicy,
)
from hemosim.envs.doac import NO_DRUG_REGIMEN, observation_to_clinical
from hemosim.models import doac
from hemosim.models.af_risk import cockcroft_gault_ml_per_min

ROOT = Path(__file__).resolve().parents[2]


def obs(age, weight, scr, female=False, cha=3, hb=2, drug=doac.NO_ANTICOAGULANT, level=doac.HOLD, prior=0):
    """An observation built the way the env builds it (CrCl by Cockcroft-Gault from the SCr)."""
    crcl = float(cockcroft_gault_ml_per_min(age, weight, scr, female))
    return np.array([(age - 40) / 60, (weight - 40) / 110, crcl / 150, cha / 9, hb / 9, prior / 3,
                     (3 * drug + level) / NO_DRUG_REGIMEN, float(female)], dtype=np.float32)


def test_observation_decoding_hand_case():
    o = obs(82, 58, 1.6, female=True)
    c = observation_to_clinical(o)
    assert c["age_y"] == pytest.approx(82, abs=1e-4) and c["weight_kg"] == pytest.approx(58, abs=1e-4)
    assert c["scr_mg_per_dl"] == pytest.approx(1.6, rel=1e-5)
    assert c["drug"] == doac.NO_ANTICOAGULANT and c["dose_level"] == doac.HOLD


@pytest.mark.parametrize("age, weight, scr, female, drug, expected", [
    # apixaban: 82 y + 58 kg (2 of 3 criteria) -> 2.5 mg; 82 y alone -> 5 mg; CrCl < 15 -> not recommended
    (82, 58, 1.0, True, "apixaban", doac.REDUCED),
    (82, 80, 1.0, False, "apixaban", doac.STANDARD),
    (85, 60, 3.5, True, "apixaban", doac.HOLD),
    # rivaroxaban: CrCl 15-49 -> 15 mg (78 y, 70 kg, SCr 1.3: CrCl 46)
    (78, 70, 1.3, False, "rivaroxaban", doac.REDUCED),
    (60, 85, 1.0, False, "rivaroxaban", doac.STANDARD),
    # dabigatran: age >= 80 -> 110 mg; CrCl < 30 -> contraindicated (hold)
    (81, 90, 0.9, False, "dabigatran", doac.REDUCED),
    (76, 60, 2.0, False, "dabigatran", doac.HOLD),
])
def test_label_policy_hand_cases(age, weight, scr, female, drug, expected):
    a = LabelDosedDOAC(drug).predict(obs(age, weight, scr, female))
    assert a.tolist() == [{"apixaban": 0, "rivaroxaban": 1, "dabigatran": 2}[drug], expected]


def test_never_recheck_keeps_the_starting_dose_and_recheck_adapts():
    # started on rivaroxaban 20 mg; CrCl has fallen to 46 mL/min
    o = obs(78, 70, 1.3, drug=doac.RIVAROXABAN, level=doac.STANDARD)
    assert LabelDosedDOAC("rivaroxaban", recheck=False).predict(o).tolist() == [1, doac.STANDARD]
    assert LabelDosedDOAC("rivaroxaban", recheck=True).predict(o).tolist() == [1, doac.REDUCED]


def test_guideline_chooser_cases():
    g = GuidelineChooser()
    # CHA2DS2-VASc 1 in a woman (the sex point only): no anticoagulant
    assert g.predict(obs(60, 70, 0.8, female=True, cha=1))[1] == doac.HOLD
    # young, good renal function, low bleeding risk: dabigatran 150
    assert g.predict(obs(66, 85, 0.9, cha=2, hb=1)).tolist() == [doac.DABIGATRAN, doac.STANDARD]
    # elderly: apixaban at the label dose
    assert g.predict(obs(82, 58, 1.1, female=True, cha=5)).tolist() == [doac.APIXABAN, doac.REDUCED]
    # on dabigatran, CrCl now < 30: switch to apixaban (label dose for CrCl 15-29: 2.5 mg)
    o = obs(76, 60, 2.0, cha=4, drug=doac.DABIGATRAN, level=doac.STANDARD)
    assert g.predict(o).tolist() == [doac.APIXABAN, doac.REDUCED]
    # stays on its drug otherwise
    o = obs(70, 80, 1.0, cha=3, hb=1, drug=doac.DABIGATRAN, level=doac.STANDARD)
    assert g.predict(o).tolist() == [doac.DABIGATRAN, doac.STANDARD]


def test_batches_and_single_observations_agree():
    batch = np.stack([obs(82, 58, 1.0, True), obs(66, 85, 0.9, cha=2, hb=1), obs(76, 60, 2.0)])
    for pol in (LabelDosedDOAC("apixaban"), LabelDosedDOAC("dabigatran", recheck=False), GuidelineChooser(),
                WarfarinPolicy(), ConstantAction(1, 1)):
        b = pol.predict(batch)
        assert b.shape == (3, 2) and b.dtype == np.int64
        for i in range(3):
            assert pol.predict(batch[i]).tolist() == b[i].tolist()


def test_random_policy_is_seeded_and_covers_the_space():
    o = np.tile(obs(70, 80, 1.0), (3000, 1))
    a = RandomDOACPolicy(3, seed=5).predict(o)
    b = RandomDOACPolicy(3, seed=5).predict(o)
    np.testing.assert_array_equal(a, b)
    assert set(map(tuple, a.tolist())) == {(d, l) for d in range(3) for l in range(3)}
    with pytest.raises(ValueError):
        RandomDOACPolicy(5)
    with pytest.raises(ValueError):
        LabelDosedDOAC("edoxaban")
    with pytest.raises(ValueError):
        ConstantAction(0, 3)


def test_evaluation_smoke_and_held_out_guard():
    from hemosim.doac_evaluation import evaluate_baselines

    ev = evaluate_baselines(24)
    assert len(ev["rows"]) == 18 and ev["seeds"] == [100000, 100023]
    for r in ev["rows"].values():
        assert np.isfinite(r["ncb_expected_per_100py"]) and r["ncb_expected_per_100py"] <= 0
    with pytest.raises(ValueError, match="held-out"):
        evaluate_baselines(10, seed0=5)


@pytest.mark.slow
def test_published_evaluation_table_regenerates():
    """results/doac_evaluation.json (quoted in the README and the env card) is what the code produces."""
    from hemosim.doac_evaluation import evaluate_baselines

    saved = json.loads((ROOT / "results" / "doac_evaluation.json").read_text())["baselines"]
    ev = evaluate_baselines(saved["n_patients"])
    for name, row in saved["rows"].items():
        assert ev["rows"][name]["ncb_expected_per_100py"] == pytest.approx(row["ncb_expected_per_100py"], abs=1e-6)
        assert ev["rows"][name]["ncb_realised_per_100py"] == pytest.approx(row["ncb_realised_per_100py"], abs=1e-6)
    assert ev["checks"] == saved["checks"]
