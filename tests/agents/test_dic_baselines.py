"""DIC rule policies: hand-worked observations (FACTS 7.2 thresholds)."""

from __future__ import annotations

import numpy as np

from hemosim.agents.dic import (
    BCSH2009Policy,
    DICRandomPolicy,
    ISTH2013Policy,
    NoTreatmentPolicy,
    TransfuseToNormalPolicy,
)
from hemosim.envs.dic import OBS_SCALES


def obs(platelets=200.0, fibrinogen=3.0, pt_s=12.0, aptt_s=30.0, fdp=5.0, isth=0, bleeding=0, hours=6.0):
    return (np.array([platelets, fibrinogen, pt_s, aptt_s, fdp, isth, bleeding, hours]) / OBS_SCALES).astype(np.float32)


def test_bcsh_non_bleeding_patient_gets_only_prophylactic_heparin():
    a = BCSH2009Policy().predict(obs(platelets=30, fibrinogen=0.8, pt_s=25))
    np.testing.assert_array_equal(a, [0, 0, 0, 1])


def test_bcsh_bleeding_patient_gets_platelets_ffp_and_then_cryo():
    p = BCSH2009Policy()
    a = p.predict(obs(platelets=40, fibrinogen=0.8, pt_s=20, bleeding=2))
    np.testing.assert_array_equal(a, [2, 1, 0, 0])  # FFP 15 mL/kg (PT > 1.5 x 12 s), platelets, no heparin
    a = p.predict(obs(platelets=60, fibrinogen=0.8, pt_s=20, bleeding=2, hours=12))
    np.testing.assert_array_equal(a, [2, 0, 1, 0])  # fibrinogen < 1 despite FFP -> cryo
    a = p.predict(obs(platelets=60, fibrinogen=0.8, pt_s=14, bleeding=1, hours=18))
    np.testing.assert_array_equal(a, [0, 0, 0, 1])  # a minor bleed is not clinically relevant


def test_isth_adds_the_fibrinogen_and_high_risk_platelet_rules():
    p = ISTH2013Policy()
    a = p.predict(obs(platelets=15, fibrinogen=1.2, pt_s=13))
    np.testing.assert_array_equal(a, [0, 1, 0, 1])  # < 20 without bleeding: platelets
    a = p.predict(obs(platelets=80, fibrinogen=1.2, pt_s=13, bleeding=3, hours=12))
    np.testing.assert_array_equal(a, [2, 0, 0, 0])  # bleeding and fibrinogen < 1.5: FFP
    b = BCSH2009Policy().predict(obs(platelets=80, fibrinogen=1.2, pt_s=13, bleeding=3, hours=12))
    np.testing.assert_array_equal(b, [0, 0, 0, 0])  # BCSH: PT not prolonged, no FFP


def test_thrombosis_switches_to_therapeutic_heparin_and_new_patients_are_forgotten():
    p = BCSH2009Policy()
    info = {"events": {"thromboembolism": np.array([True, False])}}
    a = p.predict(np.stack([obs(), obs()]), info)
    np.testing.assert_array_equal(a[:, 3], [2, 1])
    a = p.predict(np.stack([obs(hours=0.0), obs()]), {"events": {"thromboembolism": np.array([False, False])}})
    np.testing.assert_array_equal(a[:, 3], [1, 1])


def test_transfuse_to_normal_and_reference_policies():
    a = TransfuseToNormalPolicy().predict(obs(platelets=140, fibrinogen=1.9, pt_s=15))
    np.testing.assert_array_equal(a, [2, 1, 1, 0])
    np.testing.assert_array_equal(NoTreatmentPolicy().predict(np.stack([obs()] * 3)), np.zeros((3, 4)))
    r = DICRandomPolicy(seed=0).predict(np.stack([obs()] * 500))
    assert r.shape == (500, 4) and np.all(r.max(axis=0) == [3, 3, 2, 2]) and np.all(r.min(axis=0) == 0)
    np.testing.assert_array_equal(DICRandomPolicy(seed=1).predict(obs()), DICRandomPolicy(seed=1).predict(obs()))
