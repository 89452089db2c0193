"""Hand-worked cases for CHA2DS2-VASc, CHADS2, HAS-BLED and Cockcroft-Gault (sources in hemosim.scores)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hemosim import scores


def test_cha2ds2_vasc_hand_cases():
    # 76-year-old woman with hypertension: H 1 + A2 2 + Sc 1 = 4 (Lip 2010 point table)
    assert scores.cha2ds2_vasc(0, 1, 76, 0, 0, 0, 1) == 4
    # 70-year-old man, CHF, diabetes, prior stroke, vascular disease: 1 + 1 + 2 + 1 + A 1 = 6
    assert scores.cha2ds2_vasc(1, 0, 70, 1, 1, 1, 0) == 6
    # age bands: 64 -> 0, 65 -> 1, 74.9 -> 1, 75 -> 2
    np.testing.assert_array_equal(scores.cha2ds2_vasc(0, 0, [64, 65, 74.9, 75], 0, 0, 0, 0), [0, 1, 1, 2])
    # every item: 9 (the maximum)
    assert scores.cha2ds2_vasc(True, True, 80, True, True, True, True) == 9


def test_chads2_hand_cases():
    assert scores.chads2(1, 1, 76, 1, 1) == 6
    assert scores.chads2(0, 1, 74, 0, 0) == 1
    assert scores.chads2(0, 0, 60, 0, 1) == 2


def test_has_bled_hand_cases():
    # every item at age 70: 9 (Pisters 2010)
    assert scores.has_bled(1, 1, 1, 1, 1, 1, 70, 1, 1) == 9
    # "elderly" is > 65 y: 65 scores 0, 66 scores 1
    np.testing.assert_array_equal(scores.has_bled(0, 0, 0, 0, 0, 0, [65, 66], 0, 0), [0, 1])
    # hypertension + aspirin + age 72: 3
    assert scores.has_bled(1, 0, 0, 0, 0, 0, 72, 1, 0) == 3


def test_cockcroft_gault_hand_cases():
    # (140 - 70) x 72 / (72 x 1.0) = 70 mL/min; x 0.85 for a woman = 59.5
    np.testing.assert_allclose(scores.cockcroft_gault_ml_per_min(70, 72, 1.0, [0, 1]), [70.0, 59.5])
    # 80-year-old woman, 60 kg, SCr 1.5: 60 x 60 / 108 x 0.85 = 28.333
    np.testing.assert_allclose(scores.cockcroft_gault_ml_per_min(80, 60, 1.5, 1), 28.3333333, rtol=1e-7)


def test_serum_creatinine_inverts_cockcroft_gault():
    crcl = scores.cockcroft_gault_ml_per_min(77, 64, 1.3, 1)
    np.testing.assert_allclose(scores.serum_creatinine_from_crcl_mg_per_dl(crcl, 77, 64, 1), 1.3)


def test_abnormal_renal_threshold_is_200_umol_per_l():
    np.testing.assert_allclose(scores.SCR_ABNORMAL_RENAL_MG_PER_DL, 2.2624, atol=1e-4)


def test_tables_and_lookup():
    assert scores.table_rate_pct_per_year(scores.HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR, 3) == 3.74
    # scores above the table use its last row (HAS-BLED > 5: insufficient data in Pisters 2010)
    assert scores.table_rate_pct_per_year(scores.HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR, 7) == 12.50
    assert scores.table_rate_pct_per_year(scores.CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR, 2) == 2.2
    with pytest.raises(ValueError, match="non-negative integer"):
        scores.table_rate_pct_per_year(scores.CHADS2_STROKE_PCT_PER_YEAR, -1)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: scores.cha2ds2_vasc(2, 0, 70, 0, 0, 0, 0), "chf"),
        (lambda: scores.cha2ds2_vasc(0, 0, np.nan, 0, 0, 0, 0), "age_y"),
        (lambda: scores.has_bled(0, 0, 0, 0, 0, 0, -1, 0, 0), "age_y"),
        (lambda: scores.cockcroft_gault_ml_per_min(70, 0.0, 1.0, 0), "weight_kg"),
        (lambda: scores.cockcroft_gault_ml_per_min(70, 70, -1.0, 0), "scr_mg_per_dl"),
        (lambda: scores.cockcroft_gault_ml_per_min(150, 70, 1.0, 0), "age_y"),
        (lambda: scores.chads2("yes", 0, 70, 0, 0), "chf"),
    ],
)
def test_bad_input_names_the_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@settings(max_examples=60, deadline=None)
@given(
    items=st.lists(st.booleans(), min_size=6, max_size=6),
    age=st.floats(18, 110),
)
def test_scores_bounded_and_monotone_in_items(items, age):
    chf, htn, dm, stroke, vasc, fem = items
    s = int(scores.cha2ds2_vasc(chf, htn, age, dm, stroke, vasc, fem))
    assert 0 <= s <= 9
    assert int(scores.cha2ds2_vasc(True, htn, age, dm, stroke, vasc, fem)) >= s
    assert int(scores.cha2ds2_vasc(chf, htn, age + 20, dm, stroke, vasc, fem)) >= s
    c = int(scores.chads2(chf, htn, age, dm, stroke))
    assert 0 <= c <= 6 and c <= s + 1


@settings(max_examples=60, deadline=None)
@given(age=st.floats(18, 120), wt=st.floats(30, 250), scr=st.floats(0.2, 15), fem=st.booleans())
def test_cockcroft_gault_positive_and_monotone(age, wt, scr, fem):
    c = float(scores.cockcroft_gault_ml_per_min(age, wt, scr, fem))
    assert np.isfinite(c) and c > 0
    assert float(scores.cockcroft_gault_ml_per_min(age, wt, scr * 1.1, fem)) < c


def test_scores_reexports_the_model_layer_definitions():
    """``hemosim.scores`` keeps its public API; every name is the one object of ``models.af_risk``
    (or, for the DIC scores, of ``models.dic_scores``)."""
    from hemosim.models import af_risk, dic_scores

    assert set(scores.__all__) <= set(af_risk.__all__) | set(dic_scores.__all__)
    for name in scores.__all__:
        source = af_risk if name in af_risk.__all__ else dic_scores
        assert getattr(scores, name) is getattr(source, name), name


def test_models_do_not_import_the_top_level_scores_module():
    """DESIGN.md layering: ``models/`` imports only ``models/`` and ``sim/``, never ``hemosim.scores``."""
    import ast
    from pathlib import Path

    import hemosim.models

    for path in Path(hemosim.models.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            assert not any(n == "hemosim.scores" or n.startswith("hemosim.scores.") for n in names), path.name


@settings(max_examples=60, deadline=None)
@given(crcl=st.floats(1.0, 300.0), age=st.floats(18, 139), wt=st.floats(30, 250), fem=st.booleans())
def test_unchecked_creatinine_kernel_is_bitwise_the_validated_inverse(crcl, age, wt, fem):
    """The hot-loop kernel of models.doac and the validated inverse are one formula (bit-identical)."""
    from hemosim.models import af_risk

    fast = af_risk.serum_creatinine_from_crcl_unchecked_mg_per_dl(np.array([crcl]), np.array([age]),
                                                                   np.array([wt]), np.array([fem]))
    checked = scores.serum_creatinine_from_crcl_mg_per_dl(crcl, age, wt, fem)
    assert fast[0] == float(checked)
