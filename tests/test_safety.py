"""The CDS safety layer: enforce vs monitor, rules as data, single == vector == Sync."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import SyncVectorEnv

import hemosim  # noqa: F401
from hemosim import label_rules
from hemosim.safety import DOAC_RULES, HEPARIN_RULES, WARFARIN_RULES, Rule, SafetyLayer, SafetyVectorLayer, apply_rules

WARFARIN, HEPARIN = "hemosim/WarfarinDosing-v0", "hemosim/HeparinInfusion-v0"


def test_rules_are_documented_data():
    for rule in WARFARIN_RULES + HEPARIN_RULES + DOAC_RULES:
        assert isinstance(rule, Rule) and rule.name and rule.source and rule.description
    assert len({r.name for r in WARFARIN_RULES + HEPARIN_RULES + DOAC_RULES}) == len(WARFARIN_RULES + HEPARIN_RULES + DOAC_RULES)


def test_warfarin_rules_hand_worked():
    ctx = {
        "inr_measured": np.array([5.5, 3.4, 3.4, 1.0, 2.5]),
        "target_inr_high": np.full(5, 3.0),
        "day": np.array([10, 10, 10, 0, 10]),
        "previous_dose_mg": np.array([5.0, 5.0, 5.0, 0.0, 5.0]),
        "max_dose_7d_mg": np.array([7.5, 7.5, 7.5, 0.0, 7.5, 7.5]),
        "mean_dose_7d_mg": np.array([6.0, 6.0, 6.0, 0.0, 6.0, 6.0]),
    }
    ctx["inr_measured"] = np.array([5.5, 3.4, 3.4, 1.0, 2.5, 4.2])
    ctx["target_inr_high"] = np.full(6, 3.0)
    ctx["day"] = np.array([10, 10, 10, 0, 10, 10])
    ctx["previous_dose_mg"] = np.array([5.0, 5.0, 5.0, 0.0, 5.0, 5.0])
    fields, fired = apply_rules(WARFARIN_RULES, ctx, {"dose_mg": np.array([5.0, 10.0, 7.5, 12.0, 12.0, 5.0])})
    np.testing.assert_allclose(fields["dose_mg"], [0.0, 7.5, 7.5, 10.0, 12.0, 3.0])
    np.testing.assert_array_equal(fired, [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 1, 0, 0]])


def test_heparin_rules_hand_worked():
    ctx = {
        "aptt_s": np.array([95.0, 200.0, 60.0, 60.0, 60.0]),
        "platelets": np.array([250.0, 250.0, 120.0, 250.0, 250.0]),
        "platelets_start": np.full(5, 250.0),
        "hours": np.array([12.0, 12.0, 12.0, 0.0, 12.0]),
        "previous_rate_u_per_h": np.full(5, 1200.0),
        "weight_kg": np.full(5, 100.0),
        "hit_4ts": np.array([0, 0, 0, 0, 6]),
    }
    fields = {"rate_u_per_h": np.array([1200.0, 1000.0, 1200.0, 2000.0, 1000.0]), "bolus_u": np.array([0.0, 0.0, 4000.0, 12000.0, 0.0])}
    out, fired = apply_rules(HEPARIN_RULES, ctx, fields)
    # > 90 s: hold 1 h then 1200 - 300 U/h, as a 6-h mean: 900 * 5 / 6 = 750
    np.testing.assert_allclose(out["rate_u_per_h"], [750.0, 0.0, 1200.0, 1800.0, 0.0])
    np.testing.assert_allclose(out["bolus_u"], [0.0, 0.0, 0.0, 10000.0, 0.0])
    names = [r.name for r in HEPARIN_RULES]
    assert [names[j] for j in np.flatnonzero(fired[0])] == ["ufh_hold_decrease_aptt_above_90"]
    assert [names[j] for j in np.flatnonzero(fired[1])] == ["ufh_stop_aptt_critical"]
    assert [names[j] for j in np.flatnonzero(fired[2])] == ["ufh_no_bolus_platelet_fall"]
    assert [names[j] for j in np.flatnonzero(fired[3])] == ["ufh_bolus_cap", "ufh_initial_rate_cap"]
    assert [names[j] for j in np.flatnonzero(fired[4])] == ["ufh_stop_hit_likely"]


def test_doac_rules_follow_the_labels():
    ctx = {
        "age_y": np.array([85.0, 70.0, 70.0]),
        "weight_kg": np.array([55.0, 80.0, 80.0]),
        "scr_mg_per_dl": np.array([1.0, 1.0, 1.0]),
        "crcl_ml_per_min": np.array([40.0, 80.0, 20.0]),
        "verapamil": np.zeros(3, dtype=bool),
        "strong_pgp_inhibitor": np.zeros(3, dtype=bool),
        "strong_cyp3a4_pgp_inhibitor": np.zeros(3, dtype=bool),
        "dialysis": np.zeros(3, dtype=bool),
    }
    drug = np.array([0, 0, 2], dtype=float)  # apixaban, apixaban, dabigatran
    fields = {"drug": drug, "dose_level": np.array([label_rules.STANDARD, label_rules.REDUCED, label_rules.STANDARD], dtype=float)}
    out, fired = apply_rules(DOAC_RULES, ctx, fields)
    # apixaban age >= 80 and weight <= 60: reduced; a reduced dose with no criterion: standard;
    # dabigatran at CrCl 20: contraindicated
    np.testing.assert_array_equal(out["dose_level"], [label_rules.REDUCED, label_rules.STANDARD, label_rules.CONTRAINDICATED])
    np.testing.assert_array_equal(fired, [[0, 1], [0, 1], [1, 0]])


def test_bad_mode_and_unknown_env():
    with pytest.raises(ValueError, match="mode"):
        SafetyLayer(gym.make(WARFARIN), mode="strict")
    assert isinstance(SafetyLayer(gym.make_vec(WARFARIN, num_envs=2, vectorization_mode="vector_entry_point")), SafetyVectorLayer)


def _random_run(env, n, steps, seed=0):
    rs = np.random.default_rng(seed)
    obs, info = env.reset(seed=100000)
    out = [(obs, info)]
    for _ in range(steps):
        a = rs.uniform(0, 1, (n,) + env.single_action_space.shape).astype(np.float32)
        out.append(env.step(a))
    return out


@pytest.mark.parametrize("env_id, steps", [(WARFARIN, 95), (HEPARIN, 45)])
def test_monitor_is_bit_identical_and_logs_enforce_first_step(env_id, steps):
    n = 32
    plain = _random_run(gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point"), n, steps)
    mon = _random_run(SafetyLayer(gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point"), mode="monitor"), n, steps)
    enf = _random_run(SafetyLayer(gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point"), mode="enforce"), n, steps)
    for p, m in zip(plain[1:], mon[1:]):
        for a, b in zip(p[:4], m[:4]):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(p[4]["inr" if env_id == WARFARIN else "aptt_true_s"], m[4]["inr" if env_id == WARFARIN else "aptt_true_s"])
        assert not m[4]["safety"]["overridden"].any()
    first_m, first_e = mon[1][4]["safety"]["rules"], enf[1][4]["safety"]["rules"]
    for name in first_m:
        np.testing.assert_array_equal(first_m[name], first_e[name])
    assert any(np.any(v) for k, v in first_m.items() if not k.startswith("_")) or env_id == WARFARIN
    assert sum(int(m[4]["safety"]["fired"].sum()) for m in mon[1:]) > 0


def test_enforce_cuts_high_inr_days_of_a_random_policy():
    n = 200
    counts = {}
    for mode in (None, "enforce"):
        env = gym.make_vec(WARFARIN, num_envs=n, vectorization_mode="vector_entry_point")
        if mode:
            env = SafetyLayer(env, mode=mode)
        run = _random_run(env, n, 90, seed=1)
        counts[mode] = sum(int((s[4]["inr"] > 4.0).sum()) for s in run[1:])
    assert counts["enforce"] < 0.5 * counts[None]


@pytest.mark.parametrize("env_id, steps", [(WARFARIN, 95), (HEPARIN, 45)])
def test_layer_single_equals_vector_equals_sync(env_id, steps):
    n = 6
    native = SafetyLayer(gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point"), mode="enforce")
    sync = SafetyLayer(SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)]), mode="enforce")
    a, b = _random_run(native, n, steps), _random_run(sync, n, steps)
    single = SafetyLayer(gym.make(env_id), mode="enforce")
    rs = np.random.default_rng(0)
    single.reset(seed=100000)
    fired_any = False
    for t, (x, y) in enumerate(zip(a[1:], b[1:])):
        for u, v in zip(x[:4], y[:4]):
            np.testing.assert_array_equal(u, v)
        for name, arr in x[4]["safety"]["rules"].items():
            if not name.startswith("_"):
                np.testing.assert_array_equal(arr, y[4]["safety"]["rules"][name])
                fired_any |= bool(arr.any())
        act = rs.uniform(0, 1, (n,) + native.single_action_space.shape).astype(np.float32)
        if t < (90 if env_id == WARFARIN else 20):  # patient 0 alone, within its first episode
            obs, r, term, trunc, info = single.step(act[0])
            np.testing.assert_array_equal(obs, x[0][0])
            assert r == x[1][0]
            assert info["safety"]["rules"] == {k: bool(v[0]) for k, v in x[4]["safety"]["rules"].items() if not k.startswith("_")}
    assert fired_any


def test_episode_summary_counts_firings_and_restarts():
    env = SafetyLayer(gym.make(WARFARIN), mode="enforce")
    env.reset(seed=100000)
    total = 0
    for _ in range(90):
        _, _, term, trunc, info = env.step(np.array([1.0], dtype=np.float32))
        total += info["safety"]["fired"]
    assert trunc and total > 0
    assert sum(info["safety"]["episode_firings"].values()) >= total
    _, info = env.reset()
    assert sum(info["safety"]["episode_firings"].values()) == 0


def test_doac_rules_never_override_a_hold_or_warfarin():
    """Holding is always allowed; warfarin (drug 3) is outside the DOAC labels."""
    ctx = {
        "age_y": np.array([70.0, 70.0]), "weight_kg": np.array([80.0, 80.0]),
        "scr_mg_per_dl": np.array([1.0, 1.0]), "crcl_ml_per_min": np.array([80.0, 80.0]),
        **{k: np.zeros(2, dtype=bool) for k in ("verapamil", "strong_pgp_inhibitor", "strong_cyp3a4_pgp_inhibitor", "dialysis")},
    }
    fields = {"drug": np.array([0.0, 3.0]), "dose_level": np.array([2.0, 1.0])}
    out, fired = apply_rules(DOAC_RULES, ctx, fields)
    assert not fired.any()
    np.testing.assert_array_equal(out["dose_level"], [2.0, 1.0])


def test_doac_layer_puts_every_given_doac_at_its_label_level():
    n = 64
    env = SafetyLayer(gym.make_vec("hemosim/DOACManagement-v0", num_envs=n, vectorization_mode="vector_entry_point"))
    _, info = env.reset(seed=100000)
    rs = np.random.default_rng(0)
    overridden = 0
    ended = np.zeros(n, dtype=bool)
    for _ in range(6):
        label = info["label_dose_level"]
        a = np.stack([rs.integers(0, 3, n), rs.integers(0, 3, n)], axis=1)
        _, _, term, trunc, info = env.step(a)
        seen = ~ended & ~term  # not a reset step (NEXT_STEP) and the patient alive
        # the drug chosen is kept; a given DOAC is at the label's level for that drug
        np.testing.assert_array_equal(info["drug"][seen], a[seen, 0])
        given = seen & (info["dose_level"] != 2)
        np.testing.assert_array_equal(info["dose_level"][given], label[np.flatnonzero(given), a[given, 0]])
        overridden += int(info["safety"]["overridden"].sum())
        ended = term | trunc
    assert overridden > 0


def test_doac_layer_on_the_single_env_enforces_and_monitor_only_logs():
    """Dabigatran 150 mg for a patient the label reduces: enforce overrides every visit,
    monitor logs the same firings and passes the action on."""
    firings = {}
    for mode in ("enforce", "monitor"):
        env = SafetyLayer(gym.make("hemosim/DOACManagement-v0"), mode=mode)
        _, info = env.reset(seed=100003)
        overridden = 0
        for _ in range(12):
            label = info["label_dose_level"][2]
            _, _, term, trunc, info = env.step(np.array([2, 0]))
            overridden += info["safety"]["overridden"]
            if mode == "enforce":
                assert info["dose_level"] == (label if label != 2 else 2) or term
            else:
                assert info["dose_level"] == 0 or term
            if term or trunc:
                break
        firings[mode] = info["safety"]["episode_firings"]
        assert (overridden > 0) == (mode == "enforce")
    assert firings["enforce"] == firings["monitor"] and firings["enforce"]["doac_label_dose"] > 0
