"""PT / INR and aPTT-like assays on the Hockin-Mann cascade, and the fast table path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hemosim.models import clotting as cl

FACTORS_PT = ("ii_pct", "v_pct", "vii_pct", "x_pct")
FACTORS_APTT = ("ii_pct", "v_pct", "viii_pct", "ix_pct", "x_pct")


def test_every_assay_parameter_has_unit_and_source():
    for cls in (cl.PTAssay, cl.APTTAssay, cl.Reporting):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("unit"), f"{cls.__name__}.{f.name} lacks a unit"
            assert f.metadata.get("source"), f"{cls.__name__}.{f.name} lacks a source"


# ------------------------------------------------------------------------------------------
# Unit: normal plasma, reporting arithmetic
# ------------------------------------------------------------------------------------------
def test_normal_plasma_reads_inr_1_and_mean_normal_times():
    pt = cl.prothrombin_time()
    ap = cl.aptt()
    assert pt["inr"][0] == pytest.approx(1.0, abs=1e-12)
    assert pt["pt_s"][0] == pytest.approx(cl.Reporting().mean_normal_pt_s)
    assert ap["aptt_s"][0] == pytest.approx(cl.Reporting().mean_normal_aptt_s)
    fast = cl.fast_assays()
    assert fast["inr"][0] == pytest.approx(1.0, abs=1e-6)
    assert fast["aptt_s"][0] == pytest.approx(30.0, rel=1e-6)


def test_inr_formula_uses_isi_and_mean_normal_pt():
    rep = cl.Reporting(mean_normal_pt_s=13.1, isi=1.3)
    pt = cl.prothrombin_time(reporting=rep, vii_pct=30.0)
    assert pt["inr"][0] == pytest.approx((pt["pt_s"][0] / 13.1) ** 1.3)
    fast = cl.fast_assays(reporting=rep, vii_pct=30.0)
    assert fast["inr"][0] == pytest.approx((fast["pt_s"][0] / 13.1) ** 1.3)


def test_model_clot_times_are_in_a_plausible_range():
    # model seconds are not laboratory seconds (FACTS 5.5: calibrate by ratio), but the
    # normal clotting times should be tens of seconds, not milliseconds or hours
    assert 10.0 < cl.pt_clot_time_model_s()[0] < 120.0
    assert 10.0 < cl.aptt_clot_time_model_s()[0] < 120.0


# ------------------------------------------------------------------------------------------
# Published data: ISI calibration to INR vs prothrombin-complex activity
# ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def isi_fit():
    return cl.fit_model_isi()


def test_default_isi_is_the_regenerated_fit(isi_fit):
    assert isi_fit["isi"] == pytest.approx(cl.MODEL_ISI, abs=0.002)


def test_inr_vs_prothrombin_complex_activity_within_5_percent(isi_fit):
    # medicalalgorithms.com table (40 % -> 1.5, 30 -> 1.75, 25 -> 2.0, 20 -> 2.35, 15 -> 2.9, 10 -> 4.45)
    rel = np.abs(isi_fit["inr_model"] / isi_fit["inr_published"] - 1.0)
    assert rel.max() <= 0.05, rel


def test_gulati_2011_inr_vs_vka_factor_levels():
    # Gulati et al., Arch Pathol Lab Med 2011;135:490-494: mean II, VII, IX, X activity stayed
    # near or above 50 % while INR < 1.5; at INR >= 3.6 all four were < 30 % in > 90 %.
    inr = cl.prothrombin_time(ii_pct=np.array([50.0, 30.0]), vii_pct=np.array([50.0, 30.0]),
                              ix_pct=np.array([50.0, 30.0]), x_pct=np.array([50.0, 30.0]))["inr"]
    assert inr[0] < 1.5
    assert inr[1] < 3.6


# ------------------------------------------------------------------------------------------
# Published data: single-factor sensitivity (Burns et al., Am J Clin Pathol 1993;100:94-98)
# ------------------------------------------------------------------------------------------
UPPER_NORMAL_APTT_S = 35.0  # FACTS 4.3: normal adult aPTT 25-35 s (Davis's)


@pytest.mark.parametrize("factor", FACTORS_PT)
def test_pt_single_factor_at_50_percent_stays_near_normal(factor):
    # Burns 1993: 50 % of a single factor gave a normal PT; the model gives INR 1.10-1.13
    inr = cl.prothrombin_time(**{factor: 50.0})["inr"][0]
    assert 1.0 < inr < 1.2


@pytest.mark.parametrize("factor", FACTORS_PT)
def test_pt_prolongs_monotonically_as_factor_falls(factor):
    inr = cl.prothrombin_time(**{factor: np.array([100.0, 75.0, 50.0, 25.0, 10.0])})["inr"]
    assert np.all(np.diff(inr) > 0)
    assert inr[-1] > 1.3


@pytest.mark.parametrize("factor", ["viii_pct", "ix_pct", "at_pct", "tfpi_pct"])
def test_pt_insensitive_to_intrinsic_factors_and_inhibitors(factor):
    # FACTS 5.5: VIII, IX, AT, TFPI change the PT proxy by <= 2 % at 50 %; the fast table
    # ignores them (measured here: at most 2.3 %, TFPI 10 %)
    r = cl.prothrombin_time(**{factor: np.array([10.0, 50.0, 150.0])})["pt_ratio"]
    assert np.abs(r - 1.0).max() <= 0.03
    assert abs(r[1] - 1.0) <= 0.02


@pytest.mark.parametrize("factor", FACTORS_APTT)
def test_aptt_single_factor_at_50_percent_is_normal_and_25_percent_prolonged(factor):
    # Burns 1993: 50 % single-factor plasmas gave a normal APTT; prolonged below 25-45 %
    a = cl.aptt(**{factor: np.array([50.0, 25.0])})["aptt_s"]
    assert a[0] < UPPER_NORMAL_APTT_S < a[1]


def test_aptt_ignores_factor_vii_and_pt_ignores_viii():
    assert np.allclose(cl.aptt(vii_pct=np.array([1.0, 10.0, 50.0]))["aptt_ratio"], 1.0, atol=1e-3)
    assert np.allclose(cl.prothrombin_time(viii_pct=0.0)["pt_ratio"], 1.0, atol=1e-3)


def test_heparin_prolongs_aptt_monotonically():
    a = cl.aptt(at_potentiation=np.array([1.0, 2.0, 5.0, 10.0, 15.0]))["aptt_s"]
    assert np.all(np.diff(a) > 0)
    assert a[-1] > 1.5 * a[0]


def test_vka_pattern_prolongs_both_assays():
    pc = np.array([100.0, 50.0, 25.0])
    pt = cl.prothrombin_time(ii_pct=pc, vii_pct=pc, ix_pct=pc, x_pct=pc)["inr"]
    ap = cl.aptt(ii_pct=pc, vii_pct=pc, ix_pct=pc, x_pct=pc)["aptt_s"]
    assert np.all(np.diff(pt) > 0) and np.all(np.diff(ap) > 0)


# ------------------------------------------------------------------------------------------
# Fast path
# ------------------------------------------------------------------------------------------
def test_table_file_is_small_and_matches_assay_settings():
    assert cl.TABLE_PATH.stat().st_size < 2_000_000
    cl._load_table.cache_clear()
    tab = cl._load_table()  # raises if built for other assay settings
    np.testing.assert_array_equal(tab["pt_axes_pct"], cl.PT_GRID_PCT)
    np.testing.assert_array_equal(tab["aptt_axes_pct"], cl.APTT_GRID_PCT)
    np.testing.assert_array_equal(tab["aptt_axes_at"], cl.APTT_GRID_AT)


def test_table_nodes_reproduce_the_full_model():
    # the shipped table is current: random grid nodes recomputed with the full model
    rng = np.random.default_rng(7)
    tab = cl._load_table()
    ipt = rng.integers(0, len(cl.PT_GRID_PCT), (20, 4))
    lv = {d: cl.PT_GRID_PCT[ipt[:, j]] for j, d in enumerate(cl.PT_DIMS)}
    full = cl.pt_clot_time_model_s(**lv)
    stored = tab["pt_rate_per_s"][tuple(ipt.T)]
    np.testing.assert_allclose(np.where(np.isfinite(full), 1.0 / full, 0.0), stored, rtol=1e-3)  # float16
    iap = rng.integers(0, len(cl.APTT_GRID_PCT), (20, 5))
    iat = rng.integers(0, len(cl.APTT_GRID_AT), 20)
    lv = {d: cl.APTT_GRID_PCT[iap[:, j]] for j, d in enumerate(cl.APTT_DIMS[:5])}
    full = cl.aptt_clot_time_model_s(at_potentiation=cl.APTT_GRID_AT[iat], **lv)
    stored = tab["aptt_rate_per_s"][tuple(iap.T) + (iat,)]
    np.testing.assert_allclose(np.where(np.isfinite(full), 1.0 / full, 0.0), stored, rtol=1e-3)  # float16


def _random_inputs(rng: np.random.Generator, n: int, lo: float) -> dict[str, np.ndarray]:
    lv = {k: np.exp(rng.uniform(np.log(lo), np.log(150.0), n))
          for k in ("ii_pct", "v_pct", "vii_pct", "viii_pct", "ix_pct", "x_pct")}
    lv["at_pct"] = rng.uniform(50.0, 150.0, n)
    lv["at_potentiation"] = np.exp(rng.uniform(0.0, np.log(10.0), n))
    return lv


@pytest.mark.slow
@pytest.mark.parametrize("lo", [20.0, 5.0])
def test_fast_path_error_against_full_model(lo):
    """Relative error of table PT and aPTT against the full model on random samples.

    Bounds (measured, see docs/models/cascade.md): levels 20-150 %: median < 0.5 %,
    95th percentile < 3 %; levels 5-150 %: median < 1.5 %, 95th percentile < 10 %, for
    samples whose full-model clotting ratio is <= 6 (beyond that the no-clot edge is near).
    """
    rng = np.random.default_rng(11 if lo == 20.0 else 12)
    lv = _random_inputs(rng, 300, lo)
    fast = cl.fast_assays(**lv)
    pt_full = cl.prothrombin_time(**{k: lv[k] for k in FACTORS_PT})["pt_ratio"]
    ap_full = cl.aptt(at_potentiation=lv["at_potentiation"], at_pct=lv["at_pct"],
                      **{k: lv[k] for k in FACTORS_APTT})["aptt_ratio"]
    med, p95 = (0.005, 0.03) if lo == 20.0 else (0.015, 0.10)
    for est, full in ((fast["pt_ratio"], pt_full), (fast["aptt_ratio"], ap_full)):
        ok = np.isfinite(full) & (full <= 6.0)
        assert ok.sum() > 100
        err = np.abs(est[ok] / full[ok] - 1.0)
        assert np.median(err) < med and np.percentile(err, 95) < p95, (np.median(err), np.percentile(err, 95))


def test_fast_path_rejects_out_of_domain_unless_clipped():
    with pytest.raises(ValueError, match="ii_pct"):
        cl.fast_assays(ii_pct=2.0)
    with pytest.raises(ValueError, match="at_potentiation"):
        cl.fast_assays(at_potentiation=100.0)
    with pytest.raises(ValueError, match="finite"):
        cl.fast_assays(x_pct=np.nan)
    clipped = cl.fast_assays(ii_pct=np.array([2.0, 5.0]), clip=True)
    assert clipped["inr"][0] == clipped["inr"][1]


@settings(max_examples=25, deadline=None)
@given(
    lv=st.lists(st.floats(5.0, 150.0), min_size=6, max_size=6),
    pot=st.floats(1.0, 10.0),
    pos=st.integers(0, 4),
)
def test_fast_path_batch_invariance_and_monotone_in_prothrombin(lv, pot, pos):
    keys = ("ii_pct", "v_pct", "vii_pct", "viii_pct", "ix_pct", "x_pct")
    alone = cl.fast_assays(at_potentiation=pot, **dict(zip(keys, lv)))
    batch_in = {k: np.full(5, 100.0) for k in keys}
    for k, v in zip(keys, lv):
        batch_in[k][pos] = v
    pots = np.ones(5)
    pots[pos] = pot
    batch = cl.fast_assays(at_potentiation=pots, **batch_in)
    for key in alone:
        np.testing.assert_array_equal(batch[key][pos], alone[key][0])
    lower = cl.fast_assays(at_potentiation=pot, **{**dict(zip(keys, lv)), "ii_pct": lv[0] * 0.8 if lv[0] * 0.8 >= 5 else 5.0})
    assert lower["inr"][0] >= alone["inr"][0] - 1e-12


def test_main_without_action_prints_help_and_returns_2(capsys):
    assert cl.main([]) == 2
    assert "--rebuild" in capsys.readouterr().out
