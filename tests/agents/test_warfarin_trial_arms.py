"""Trial-arm warfarin protocols (hemosim.agents.warfarin_trials) and the trial-method TTR
(hemosim.trial_comparison): hand-worked dose vectors, the day-4 revision's inputs, the check
schedule, batch invariance and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hemosim.agents import warfarin_trials as t
from hemosim.agents.warfarin import eu_pact_loading_doses_mg, gage2008_daily_dose_mg, mosteller_bsa_m2, round_dose_mg
from hemosim.agents.warfarin_trials import (
    COAGClinicalArm,
    COAGGenotypeArm,
    EUPACTGenotypeArm,
    EUPACTStandardArm,
    fennerty_day4_maintenance_mg,
    gage2008_clinical_daily_dose_mg,
    lenzini2010_clinical_weekly_dose_mg,
    lenzini2010_pharmacogenetic_weekly_dose_mg,
)
from hemosim.trial_comparison import measured_inr_ttr

PATIENTS = [
    dict(age_years=65.0, sex="F", weight_kg=70.0, height_cm=170.0, ancestry="european", cyp2c9="*1/*1",
         vkorc1="GA", amiodarone=False, enzyme_inducer=False, smoker=False, dvt_pe=False, target_inr=2.5),
    dict(age_years=80.0, sex="M", weight_kg=60.0, height_cm=160.0, ancestry="east_asian", cyp2c9="*1/*3",
         vkorc1="AA", amiodarone=True, enzyme_inducer=False, smoker=False, dvt_pe=True, target_inr=2.5),
    dict(age_years=45.0, sex="M", weight_kg=100.0, height_cm=185.0, ancestry="african", cyp2c9="*3/*3",
         vkorc1="GG", amiodarone=False, enzyme_inducer=True, smoker=True, dvt_pe=False, target_inr=2.5),
]


def make_obs(env_day: int, inr: float, age_years: float = 60.0) -> np.ndarray:
    """A synthetic observation: INR / 6, age (obs[3]) and day / 90 (env card)."""
    obs = np.zeros(8, dtype=np.float32)
    obs[0] = min(inr / 6.0, 1.0)
    obs[3] = np.clip((age_years - 20.0) / 75.0, 0, 1)
    obs[7] = env_day / 90.0
    return obs


def trajectories(n):
    base = np.random.default_rng(7).uniform(1.0, 4.5, size=(n, 60))
    return lambda i: (lambda d: float(base[i, d]))


def vector_info(patients):
    keys = patients[0].keys()
    patient = {k: np.array([p[k] for p in patients], dtype=object) for k in keys}
    patient.update({"_" + k: np.ones(len(patients), dtype=bool) for k in keys})
    return {"patient": patient, "_patient": np.ones(len(patients), dtype=bool)}

# ---------------------------------------------------------------------------------------
# hand-worked vectors (arithmetic written out; coefficients as in the module's sources)
# ---------------------------------------------------------------------------------------


def test_lenzini_pharmacogenetic_hand_worked():
    # LZ-PG-1: INR 2.0, 60 y, BSA 2.0 m^2, VKORC1 GA (1 A), *1/*1, European, target 2.5,
    # dose 2 days before 5 mg, 3 days before 10 mg, 4 days before 0:
    # 3.10894 - 0.4602 - 0.51611 ln 2 (0.357741) - 0.23032 + 0.49194 + 0.668225 + 0.0845 + 0.2018
    # = 3.507145 -> exp = 33.353 mg/week
    got = lenzini2010_pharmacogenetic_weekly_dose_mg(2.0, 60, 2.0, "*1/*1", "GA", "european", 5.0, 10.0, 0.0)
    assert got[()] == pytest.approx(33.353, abs=1e-3)
    # LZ-PG-2: INR 1.5, 75 y, BSA 1.8, AA (2 A), *1/*3 (one *3), African, amiodarone, doses 4/4/4:
    # 3.10894 - 0.57525 - 0.51611 ln 1.5 - 0.46064 - 0.30770 + 0.442746 + 0.668225 - 0.09644 - 0.10350
    # + 0.19092 = 2.658036 -> 14.268 mg/week
    got = lenzini2010_pharmacogenetic_weekly_dose_mg(1.5, 75, 1.8, "*1/*3", "AA", "african", 4.0, 4.0, 4.0,
                                                     amiodarone=True)
    assert got[()] == pytest.approx(14.268, abs=1e-3)


def test_lenzini_clinical_hand_worked():
    # LZ-CL-1 (as LZ-PG-1 without genotype): 2.81602 - 0.354 - 0.76679 ln 2 + 0.3535 + 0.695375
    # + 0.17355 + 0.3047 = 3.457647 -> 31.742 mg/week
    got = lenzini2010_clinical_weekly_dose_mg(2.0, 60, 2.0, "european", 5.0, 10.0, 0.0)
    assert got[()] == pytest.approx(31.742, abs=1e-3)
    # LZ-CL-2 (as LZ-PG-2): ... + 0.07123 (African American, positive in the clinical equation)
    # - 0.11137 + 4 x (0.03471 + 0.03047 + 0.01929) = 3.373878 -> 29.192 mg/week
    got = lenzini2010_clinical_weekly_dose_mg(1.5, 75, 1.8, "african", 4.0, 4.0, 4.0, amiodarone=True)
    assert got[()] == pytest.approx(29.192, abs=1e-3)


def test_gage_clinical_hand_worked():
    # GC-1: 0.613 + 0.425 x 1.9 - 0.0075 x 60 + 0.216 x 2.5 = 1.5105 -> 4.529 mg/day
    assert gage2008_clinical_daily_dose_mg(60, 1.9, "european")[()] == pytest.approx(4.529, abs=1e-3)
    # GC-2: 80 y, BSA 1.6, African, target 3.0, amiodarone, smoker, DVT/PE: 1.4264 -> 4.164 mg/day
    got = gage2008_clinical_daily_dose_mg(80, 1.6, "african", 3.0, True, True, True)
    assert got[()] == pytest.approx(4.164, abs=1e-3)


def test_lenzini_dose_falls_with_inr_and_rises_with_doses_given():
    inr = np.array([1.2, 1.6, 2.0, 2.6, 3.5])
    pg = lenzini2010_pharmacogenetic_weekly_dose_mg(inr, 60, 1.9, "*1/*1", "GG", "european", 5.0, 5.0, 0.0)
    cl = lenzini2010_clinical_weekly_dose_mg(inr, 60, 1.9, "european", 5.0, 5.0, 0.0)
    assert np.all(np.diff(pg) < 0) and np.all(np.diff(cl) < 0)
    # the elasticity in INR is the published exponent: dose ~ INR^-0.51611 (PG), INR^-0.76679 (clinical)
    assert pg[0] / pg[2] == pytest.approx((1.2 / 2.0) ** -0.51611, rel=1e-12)
    assert cl[0] / cl[2] == pytest.approx((1.2 / 2.0) ** -0.76679, rel=1e-12)
    more = lenzini2010_clinical_weekly_dose_mg(2.0, 60, 1.9, "european", 10.0, 5.0, 0.0)
    assert more[()] == pytest.approx(cl[2] * math.exp(0.03471 * 5.0), rel=1e-12)


@pytest.mark.parametrize("inr, dose, hold", [
    (1.2, 9.0, 0), (1.4, 8.0, 0), (1.5, 7.5, 0), (1.6, 7.0, 0), (1.7, 7.0, 0), (1.8, 6.5, 0), (1.9, 6.0, 0),
    (2.0, 5.5, 0), (2.1, 5.5, 0), (2.2, 5.0, 0), (2.4, 4.5, 0), (2.6, 4.5, 0), (2.7, 4.0, 0), (3.0, 4.0, 0),
    (3.1, 3.5, 0), (3.5, 3.5, 0), (3.6, 3.0, 0), (4.0, 3.0, 0), (4.1, 2.0, 1), (4.5, 2.0, 1), (4.6, 1.0, 2),
    (7.0, 1.0, 2),
])
def test_fennerty_day4_table_cells(inr, dose, hold):
    d, h = fennerty_day4_maintenance_mg(inr)
    assert d[()] == dose and h[()] == hold


def test_every_coefficient_has_unit_and_source():
    for cls in (t.Lenzini2010PharmacogeneticCoefficients, t.Lenzini2010ClinicalCoefficients,
                t.Gage2008ClinicalCoefficients):
        assert t._fields_lacking_metadata(cls) == []


@pytest.mark.parametrize("call, match", [
    (lambda: lenzini2010_clinical_weekly_dose_mg(-1.0, 60, 1.9, "european", 5, 5, 0), "inr"),
    (lambda: lenzini2010_clinical_weekly_dose_mg(2.0, 60, 1.9, "martian", 5, 5, 0), "ancestry 'martian'"),
    (lambda: lenzini2010_pharmacogenetic_weekly_dose_mg(2.0, 60, 1.9, None, "GA", "european", 5, 5, 0), "cyp2c9"),
    (lambda: lenzini2010_clinical_weekly_dose_mg(2.0, 60, 1.9, "european", -5, 5, 0), "dose_2_mg"),
    (lambda: gage2008_clinical_daily_dose_mg(60, 9.0, "european"), "bsa_m2"),
    (lambda: fennerty_day4_maintenance_mg(np.nan), "inr"),
    (lambda: EUPACTStandardArm(revision="local"), "revision 'local'.*lenzini-clinical, fennerty"),
    (lambda: measured_inr_ttr([[]], np.ones(1), (5, 5), np.array([2.0]), np.array([3.0])), "window"),
])
def test_bad_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------------------
# protocols on synthetic observations
# ---------------------------------------------------------------------------------------

P0 = PATIENTS[0]  # 65 y, 170 cm, 70 kg, European, *1/*1, GA, target 2.5


def _run(agent, inr_by_env_day, patient=P0, days=30):
    info = {"patient": patient}
    return [round(float(agent.predict(make_obs(d, inr_by_env_day(d), patient["age_years"]), info)[0]) * 15.0, 4)
            for d in range(days)]


def test_eu_pact_standard_arm_revises_from_the_day4_inr_with_the_doses_given():
    # 10/5/5 mg; day-4 INR (env day 3) 1.5; Lenzini clinical with the doses 2, 3 and 4 days
    # before day 4 = day 2 (5 mg), day 1 (10 mg), none (0); then INR 2.5 at the visits
    inr = lambda d: 1.5 if d == 3 else 2.5  # noqa: E731
    agent = EUPACTStandardArm()
    doses = _run(agent, inr)
    assert doses[:3] == [10.0, 5.0, 5.0]
    weekly = lenzini2010_clinical_weekly_dose_mg(1.5, 65.0, mosteller_bsa_m2(170.0, 70.0), "european", 5.0, 10.0, 0.0)
    assert agent._weekly_mg[0] == pytest.approx(weekly[()], rel=1e-12)  # green afterwards: unchanged
    assert doses[3] == round_dose_mg(weekly[()] / 7.0)
    assert sum(doses[3:]) == pytest.approx(27 * weekly[()] / 7.0, abs=0.5)  # tablet schedule tracks it
    assert [d for d, _ in agent.check_log[0]] == [4, 8, 15, 22, 29]
    # only the checks are read: a wild INR on other days changes nothing
    checked = {3, 7, 14, 21, 28}
    agent2 = EUPACTStandardArm()
    assert _run(agent2, lambda d: inr(d) if d in checked else 8.0) == doses


def test_eu_pact_standard_arm_fennerty_holds_on_a_high_day4_inr():
    agent = EUPACTStandardArm(revision="fennerty")
    doses = _run(agent, lambda d: 5.0 if d == 3 else 2.5, days=10)
    assert doses[:6] == [10.0, 5.0, 5.0, 0.0, 0.0, 1.0]  # > 4.5: hold two days, then 1 mg
    assert [d for d, _ in agent.check_log[0]] == [4, 8]  # the next visit after the revision


def test_genotype_and_clinical_arms_initial_doses():
    bsa = mosteller_bsa_m2(170.0, 70.0)
    gage = gage2008_daily_dose_mg(65.0, bsa, "*1/*1", "GA", "european")[()]
    assert _run(COAGGenotypeArm(), lambda d: 2.5, days=3) == [round_dose_mg(gage)] * 3
    clin = gage2008_clinical_daily_dose_mg(65.0, bsa, "european")[()]
    assert _run(COAGClinicalArm(), lambda d: 2.5, days=3) == [round_dose_mg(clin)] * 3
    from hemosim.agents.warfarin import iwpc_pharmacogenetic_weekly_dose_mg
    weekly = iwpc_pharmacogenetic_weekly_dose_mg(65.0, 170.0, 70.0, "*1/*1", "GA", "european")
    load = eu_pact_loading_doses_mg(weekly / 7.0, "*1/*1")[0]
    assert _run(EUPACTGenotypeArm(), lambda d: 2.5, days=3) == list(round_dose_mg(load))


def test_genotype_arm_revision_uses_genotype():
    # same patient, same INR, different VKORC1: the PG revision differs by exp(-0.23032) per A allele
    out = {}
    for vk in ("GG", "AA"):
        agent = COAGGenotypeArm()
        _run(agent, lambda d: 2.0, patient={**P0, "vkorc1": vk}, days=5)
        out[vk] = agent._weekly_mg[0]
    doses_gg = round_dose_mg(gage2008_daily_dose_mg(65.0, mosteller_bsa_m2(170.0, 70.0), "*1/*1", "GG", "european"))
    doses_aa = round_dose_mg(gage2008_daily_dose_mg(65.0, mosteller_bsa_m2(170.0, 70.0), "*1/*1", "AA", "european"))
    diff = float(np.ravel(doses_aa - doses_gg)[0])  # days 1-2 doses differ between the two patients
    expected = math.exp(-0.23032 * 2 + (0.01690 + 0.02018) * diff)
    assert out["AA"] / out["GG"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("cls", [EUPACTGenotypeArm, EUPACTStandardArm, COAGGenotypeArm, COAGClinicalArm])
def test_trial_arms_batch_equals_single(cls):
    n = len(PATIENTS)
    traj = trajectories(n)
    batch, singles = cls(), [cls() for _ in range(n)]
    vinfo = vector_info(PATIENTS)
    for d in range(40):
        obs = np.stack([make_obs(d, traj(i)(d), PATIENTS[i]["age_years"]) for i in range(n)])
        a = batch.predict(obs, vinfo)
        for i in range(n):
            np.testing.assert_array_equal(a[i], singles[i].predict(obs[i], {"patient": PATIENTS[i]}))


def test_trial_arms_need_info():
    with pytest.raises(ValueError, match="needs the env's info"):
        EUPACTStandardArm().predict(make_obs(0, 1.0))


# ---------------------------------------------------------------------------------------
# trial-method TTR
# ---------------------------------------------------------------------------------------


def test_measured_inr_ttr_interpolates_between_checks():
    # baseline 1.0 at position 0, a check on therapy day 5 (position 4) reading 3.0: the line
    # 1 -> 3 is in range (>= 2) from position 2 to 4, i.e. half of the window 0-4
    log = [[(5, 3.0)]]
    low, high = np.array([2.0]), np.array([3.0])
    assert measured_inr_ttr(log, np.array([1.0]), (0, 4), low, high)[0] == pytest.approx(50.0)
    # the window is cut at its edges: positions 2-4 are all in range
    assert measured_inr_ttr(log, np.array([1.0]), (2, 4), low, high)[0] == pytest.approx(100.0)
    # nothing measured inside the window -> NaN
    assert np.isnan(measured_inr_ttr(log, np.array([1.0]), (10, 20), low, high)[0])


@pytest.mark.parametrize("cls", [EUPACTStandardArm, COAGGenotypeArm])
def test_trial_arm_vector_env_equals_single_envs(cls):
    import gymnasium as gym

    import hemosim  # noqa: F401

    n, steps = 3, 20
    venv = gym.make_vec("hemosim/WarfarinDosing-v0", num_envs=n, vectorization_mode="vector_entry_point")
    obs, info = venv.reset(seed=100000)
    agent, batch = cls(), np.zeros((n, steps))
    for k in range(steps):
        obs, _, _, _, info = venv.step(agent.predict(obs, info))
        batch[:, k] = info["inr"]
    venv.close()
    for i in range(n):
        env = gym.make("hemosim/WarfarinDosing-v0")
        obs, info = env.reset(seed=100000 + i)
        single = cls()
        for k in range(steps):
            obs, _, _, _, info = env.step(single.predict(obs, info))
            assert info["inr"] == pytest.approx(batch[i, k], rel=1e-12)


# ---------------------------------------------------------------------------------------
# populations of the comparison (hemosim.trial_comparison)
# ---------------------------------------------------------------------------------------


def test_each_trial_arm_names_its_own_trial_population():
    from hemosim.patients.warfarin import POPULATIONS
    from hemosim.trial_comparison import TRIAL_ARMS

    for arm in TRIAL_ARMS:
        assert arm.population == ("eu_pact" if arm.key.startswith("eu_pact") else "coag")
        assert POPULATIONS[arm.population].calibrated


def test_compare_trial_arms_population_choices_reach_the_env():
    """"trial" runs each arm on its trial's preset, "default" on the env's default; the patients
    differ (COAG: 27 % African ancestry), so the TTRs do, with the same seeds."""
    from hemosim.trial_comparison import compare_trial_arms, format_population_comparison

    seeds = list(range(100000, 100024))
    own = compare_trial_arms(seeds, "medium")
    default = compare_trial_arms(seeds, "medium", population="default")
    assert own["population"] == "trial" and default["population"] == "default"
    assert [a["population"] for a in own["arms"].values()] == ["eu_pact", "eu_pact", "coag", "coag"]
    assert {a["population"] for a in default["arms"].values()} == {"default (calibrated)"}
    assert any(own["arms"][k]["true_inr_ttr_percent"]["mean"] != default["arms"][k]["true_inr_ttr_percent"]["mean"]
               for k in own["arms"])
    text = format_population_comparison(default, own)
    assert "default pop" in text and "coag" in text


def test_compare_trial_arms_rejects_an_unknown_population():
    from hemosim.trial_comparison import compare_trial_arms

    with pytest.raises(ValueError, match="'eupact'") as exc:
        compare_trial_arms([100000], "medium", population="eupact")
    for allowed in ("'trial'", "'default'", "'eu_pact'", "'coag'"):
        assert allowed in str(exc.value)
