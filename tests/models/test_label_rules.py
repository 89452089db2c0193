"""Hand-worked cases for every DOAC label rule (EU SmPCs; sources in hemosim.label_rules)."""

import numpy as np
import pytest

from hemosim import label_rules as lr
from hemosim.label_rules import CONTRAINDICATED, REDUCED, STANDARD


def test_apixaban_two_of_three_rule():
    # age >= 80 and weight <= 60 kg: 2 criteria -> 2.5 mg bid
    assert lr.apixaban_dose_level(80, 60, 1.0, 50) == REDUCED
    # only age: standard; only SCr: standard
    assert lr.apixaban_dose_level(80, 70, 1.0, 50) == STANDARD
    assert lr.apixaban_dose_level(70, 70, 1.5, 45) == STANDARD
    # SCr 1.5 and weight 60 -> reduced; SCr 1.49 and weight 60.1 -> standard (boundaries inclusive)
    np.testing.assert_array_equal(lr.apixaban_dose_level([70, 70], [60, 60.1], [1.5, 1.49], 45), [REDUCED, STANDARD])
    np.testing.assert_array_equal(lr.apixaban_reduction_criteria_count([80, 79.9], [60, 61], [1.5, 1.0]), [3, 0])


def test_apixaban_renal_and_interactions():
    # CrCl 15-29: 2.5 mg bid; < 15 or dialysis: not recommended
    np.testing.assert_array_equal(lr.apixaban_dose_level(60, 80, 1.0, [30, 29.9, 15, 14.9]),
                                  [STANDARD, REDUCED, REDUCED, CONTRAINDICATED])
    assert lr.apixaban_dose_level(60, 80, 1.0, 60, dialysis=True) == CONTRAINDICATED
    # strong CYP3A4 + P-gp inhibitor (ketoconazole): not recommended (EU)
    assert lr.apixaban_dose_level(60, 80, 1.0, 60, strong_cyp3a4_pgp_inhibitor=True) == CONTRAINDICATED


def test_rivaroxaban_rule():
    np.testing.assert_array_equal(lr.rivaroxaban_dose_level([80, 50, 49.9, 15, 14.9]),
                                  [STANDARD, STANDARD, REDUCED, REDUCED, CONTRAINDICATED])
    assert lr.rivaroxaban_dose_level(80, strong_cyp3a4_pgp_inhibitor=True) == CONTRAINDICATED


def test_dabigatran_rule():
    # 110 mg bid mandatory at age >= 80 or with verapamil (EU)
    np.testing.assert_array_equal(lr.dabigatran_dose_level([79.9, 80], 60), [STANDARD, REDUCED])
    assert lr.dabigatran_dose_level(60, 60, verapamil=True) == REDUCED
    # contraindicated at CrCl < 30 and with strong P-gp inhibitors (dronedarone, ketoconazole)
    np.testing.assert_array_equal(lr.dabigatran_dose_level(60, [30, 29.9]), [STANDARD, CONTRAINDICATED])
    assert lr.dabigatran_dose_level(60, 60, strong_pgp_inhibitor=True) == CONTRAINDICATED
    # "consider 110 mg": age 75-80 or CrCl 30-50
    np.testing.assert_array_equal(lr.dabigatran_dose_level([76, 60, 60], [60, 45, 60], consider_optional=True),
                                  [REDUCED, REDUCED, STANDARD])


def test_dispatch_and_dialysis():
    kw = dict(age_y=[85, 60], weight_kg=[55, 80], scr_mg_per_dl=[1.6, 1.0], crcl_ml_per_min=[25, 70])
    np.testing.assert_array_equal(lr.dose_level("apixaban", **kw), [REDUCED, STANDARD])
    np.testing.assert_array_equal(lr.dose_level("rivaroxaban", **kw), [REDUCED, STANDARD])
    np.testing.assert_array_equal(lr.dose_level("dabigatran", **kw), [CONTRAINDICATED, STANDARD])
    np.testing.assert_array_equal(lr.dose_level("rivaroxaban", **kw, dialysis=[False, True]), [REDUCED, CONTRAINDICATED])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: lr.dose_level("edoxaban", age_y=70, weight_kg=70, scr_mg_per_dl=1, crcl_ml_per_min=60), "drug"),
        (lambda: lr.apixaban_dose_level(np.nan, 70, 1.0, 60), "age_y"),
        (lambda: lr.apixaban_dose_level(70, 0.0, 1.0, 60), "weight_kg"),
        (lambda: lr.rivaroxaban_dose_level(-5), "crcl_ml_per_min"),
        (lambda: lr.dabigatran_dose_level(70, 60, verapamil=2), "verapamil"),
        (lambda: lr.dabigatran_dose_level(70, 60, consider_optional="yes"), "consider_optional"),
    ],
)
def test_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
