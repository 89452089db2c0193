"""Clotting assays on the Hockin-Mann 2002 cascade: PT / INR and an aPTT-like test.

The Hockin-Mann network has no fibrinogen, so a clotting time is the time at which thrombin
reaches a threshold in a diluted plasma sample (FACTS 5.5: the usual proxy). Both assays
report a *ratio* to the model's normal-plasma clotting time, which is scaled to seconds by
the laboratory's mean normal time, so normal plasma reads PT = mean normal PT and INR = 1.0
by construction; only departures from normal carry model information.

PT (:class:`PTAssay`): plasma diluted 1/3 with 5 nM tissue factor, clot at free IIa =
10 nM. Of the configurations scanned (docs/models/cascade.md) this one fits the published
INR-versus-prothrombin-complex-activity relation best, with the model reagent's ISI fitted
to the same data (:func:`fit_model_isi`). INR = (PT / mean normal PT) ** ISI.

aPTT-like (:class:`APTTAssay`): Hockin 2002 has no contact pathway (no XII, XI), so contact
activation is replaced by a proxy: at recalcification a fraction of factor IX is already
IXa and a trace of thrombin is present (a modelling choice of this package; no published
value exists); no tissue factor. The trigger was chosen, among those scanned, to best match
the factor levels at which Burns et al. 1993 report the APTT becomes prolonged.

Anticoagulant effect: ``at_potentiation`` multiplies the antithrombin inhibition constants
(heparin-like); vitamin-K-antagonist effect enters through factor levels (II, VII, IX, X).

Fast path: clotting-rate (1 / clotting time) tables on a grid of factor levels (log-spaced),
multilinear interpolation in log level (Numba). ``python -m hemosim.models.clotting
--rebuild`` recomputes ``hemosim/data/cascade_assay_table.npz`` with the full model.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numba import njit

from hemosim.models import cascade

__all__ = [
    "PTAssay",
    "APTTAssay",
    "Reporting",
    "pt_clot_time_model_s",
    "aptt_clot_time_model_s",
    "prothrombin_time",
    "aptt",
    "fit_model_isi",
    "fast_assays",
    "build_table",
    "TABLE_PATH",
    "main",
]

TABLE_PATH = Path(__file__).resolve().parent.parent / "data" / "cascade_assay_table.npz"


def _p(value: Any, unit: str, source: str) -> Any:
    return field(default=value, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class PTAssay:
    """In-silico prothrombin-time protocol on the Hockin-Mann model."""

    tissue_factor_pM: float = _p(
        5000.0, "pM (final, in the tube)",
        "modelling choice: high-TF PT proxy of FACTS 5.5 (TF 1-10 nM scanned); chosen by the "
        "fit to the INR-activity table, docs/models/cascade.md")
    plasma_dilution: float = _p(
        1.0 / 3.0, "fraction", "Wajima 2009 in-vitro PT protocol (plasma ICs divided by 3), FACTS 5.5")
    threshold_nM: float = _p(
        10.0, "nM", "clot when free IIa reaches 10 nM; FACTS 5.3 lists t(10 nM); chosen by the fit "
        "to the INR-activity table (docs/models/cascade.md)")
    miia_weight: float = _p(0.0, "dimensionless", "free IIa only (Owen getThr convention, FACTS 5.3)")
    t_max_s: float = _p(1200.0, "s (model time)", "assay window; no clot by then -> inf")


@dataclass(frozen=True)
class APTTAssay:
    """In-silico aPTT-like protocol (contact-activation proxy) on the Hockin-Mann model."""

    plasma_dilution: float = _p(
        1.0 / 3.0, "fraction", "plasma : reagent : CaCl2 = 1 : 1 : 1 (modelling choice, as for PT)")
    ixa_fraction: float = _p(
        0.1, "fraction of factor IX",
        "contact-activation proxy (XIa -> IXa), modelling choice fitted to Burns 1993 thresholds")
    trace_iia_nM: float = _p(
        0.1, "nM", "trace thrombin at recalcification, modelling choice fitted to Burns 1993 thresholds")
    threshold_nM: float = _p(2.0, "nM", "time to 2 nM IIa + 1.2 mIIa (Danforth 2012 convention, FACTS 5.3)")
    miia_weight: float = _p(1.2, "dimensionless", "BIOMD0000000335 IIa + 1.2 mIIa (FACTS 5.3)")
    t_max_s: float = _p(600.0, "s (model time)", "assay window; no clot by then -> inf")


#: ISI of the model PT "reagent" fitted by :func:`fit_model_isi` to the INR-activity table
#: (medicalalgorithms.com, "Estimating the percent prothrombin complex activity from the
#: INR", table "from Figure 1, page 680"; primary source not named there). Regenerated and
#: checked by tests/models/test_clotting.py.
MODEL_ISI = 0.646


@dataclass(frozen=True)
class Reporting:
    """How the laboratory reports clotting times (parameters with defaults)."""

    mean_normal_pt_s: float = _p(
        12.0, "s", "normal PT 11-12.5 s (medicaldictionary.top/prothrombin-time-pt); a laboratory parameter")
    isi: float = _p(
        MODEL_ISI, "dimensionless",
        "International Sensitivity Index of the model reagent, fitted (fit_model_isi) to the "
        "INR-activity table of medicalalgorithms.com; pass the lab's ISI to model another reagent")
    mean_normal_aptt_s: float = _p(
        30.0, "s", "normal adult aPTT 25-35 s (Davis's Lab & Diagnostic Tests, FACTS 4.3)")




def _levels_and_n(levels_pct: dict[str, Any], extra: dict[str, Any]) -> int:
    shapes = [np.shape(v) for v in list(levels_pct.values()) + list(extra.values())]
    try:
        shape = np.broadcast_shapes(*shapes) if shapes else ()
    except ValueError as exc:
        raise ValueError(f"inputs must broadcast to one batch shape, got shapes {shapes}") from exc
    if len(shape) > 1:
        raise ValueError(f"inputs must be scalars or 1-D arrays, got shape {shape}")
    return int(shape[0]) if shape else 1


def _broadcast_levels(levels_pct: dict[str, Any], n: int) -> dict[str, np.ndarray]:
    return {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for k, v in levels_pct.items()}


def pt_clot_time_model_s(
    *, at_potentiation: float | np.ndarray = 1.0, assay: PTAssay | None = None,
    **levels_pct: float | np.ndarray,
) -> np.ndarray:
    """Full-model PT clotting time in model seconds (n,), inf if no clot in the window."""
    assay = assay or PTAssay()
    n = _levels_and_n(levels_pct, {"at_potentiation": at_potentiation})
    y0 = cascade.initial_state(np.full(n, assay.tissue_factor_pM), dilution=assay.plasma_dilution,
                               **_broadcast_levels(levels_pct, n))
    k = cascade.rate_constants_nM(n, at_potentiation=np.broadcast_to(at_potentiation, (n,)))
    return cascade.clot_times(y0, k, threshold_nM=assay.threshold_nM, miia_weight=assay.miia_weight,
                              t_max_s=assay.t_max_s)


def aptt_clot_time_model_s(
    *, at_potentiation: float | np.ndarray = 1.0, assay: APTTAssay | None = None,
    **levels_pct: float | np.ndarray,
) -> np.ndarray:
    """Full-model aPTT-like clotting time in model seconds (n,), inf if no clot in the window."""
    assay = assay or APTTAssay()
    n = _levels_and_n(levels_pct, {"at_potentiation": at_potentiation})
    y0 = cascade.initial_state(np.zeros(n), dilution=assay.plasma_dilution,
                               **_broadcast_levels(levels_pct, n))
    i_ix, i_ixa = cascade.SPECIES.index("IX"), cascade.SPECIES.index("IXa")
    i_ii, i_iia = cascade.SPECIES.index("II"), cascade.SPECIES.index("IIa")
    ixa = assay.ixa_fraction * y0[:, i_ix]
    y0[:, i_ixa] += ixa
    y0[:, i_ix] -= ixa
    trace = np.minimum(assay.trace_iia_nM, y0[:, i_ii])  # the trace is taken from prothrombin
    y0[:, i_iia] += trace
    y0[:, i_ii] -= trace
    k = cascade.rate_constants_nM(n, at_potentiation=np.broadcast_to(at_potentiation, (n,)))
    return cascade.clot_times(y0, k, threshold_nM=assay.threshold_nM, miia_weight=assay.miia_weight,
                              t_max_s=assay.t_max_s)


@lru_cache(maxsize=4)
def _normal_pt_model_s(assay: PTAssay) -> float:
    return float(pt_clot_time_model_s(assay=assay)[0])


@lru_cache(maxsize=4)
def _normal_aptt_model_s(assay: APTTAssay) -> float:
    return float(aptt_clot_time_model_s(assay=assay)[0])


def prothrombin_time(
    *, at_potentiation: float | np.ndarray = 1.0, assay: PTAssay | None = None,
    reporting: Reporting | None = None, **levels_pct: float | np.ndarray,
) -> dict[str, np.ndarray]:
    """Full-model PT: ``{"pt_s", "inr", "pt_ratio"}`` arrays (n,), factor levels in % of normal.

    pt_s = mean normal PT x (model clot time / model normal clot time); inr = ratio ** ISI.
    """
    assay = assay or PTAssay()
    rep = reporting or Reporting()
    ratio = pt_clot_time_model_s(at_potentiation=at_potentiation, assay=assay, **levels_pct) \
        / _normal_pt_model_s(assay)
    return {"pt_s": rep.mean_normal_pt_s * ratio, "inr": ratio ** rep.isi, "pt_ratio": ratio}


def aptt(
    *, at_potentiation: float | np.ndarray = 1.0, assay: APTTAssay | None = None,
    reporting: Reporting | None = None, **levels_pct: float | np.ndarray,
) -> dict[str, np.ndarray]:
    """Full-model aPTT-like test: ``{"aptt_s", "aptt_ratio"}`` arrays (n,)."""
    assay = assay or APTTAssay()
    rep = reporting or Reporting()
    ratio = aptt_clot_time_model_s(at_potentiation=at_potentiation, assay=assay, **levels_pct) \
        / _normal_aptt_model_s(assay)
    return {"aptt_s": rep.mean_normal_aptt_s * ratio, "aptt_ratio": ratio}


# --------------------------------------------------------------------------------------
# ISI calibration against published INR vs prothrombin-complex activity
# --------------------------------------------------------------------------------------
#: Prothrombin-complex activity (II, VII, IX, X together, % of normal) and the corresponding
#: INR: medicalalgorithms.com "Estimating the percent prothrombin complex activity from the
#: INR" (table "from Figure 1, page 680"; the primary paper is not named on that page).
INR_VS_ACTIVITY = np.array([
    # activity %, INR
    [40.0, 1.5],
    [30.0, 1.75],
    [25.0, 2.0],
    [20.0, 2.35],
    [15.0, 2.9],
    [10.0, 4.45],
])


def fit_model_isi(assay: PTAssay | None = None) -> dict[str, Any]:
    """Least-squares ISI (log INR = ISI x log PT ratio) of the model PT on :data:`INR_VS_ACTIVITY`.

    Returns ``isi``, the model ``pt_ratio`` and predicted ``inr`` at each activity, and the
    published ``inr``. This is how a reagent ISI is assigned: by regression of its log PT
    ratio against the reference INR on vitamin-K-antagonist plasmas.
    """
    assay = assay or PTAssay()
    pct = INR_VS_ACTIVITY[:, 0]
    ratio = pt_clot_time_model_s(assay=assay, ii_pct=pct, vii_pct=pct, ix_pct=pct, x_pct=pct) \
        / _normal_pt_model_s(assay)
    lr, li = np.log(ratio), np.log(INR_VS_ACTIVITY[:, 1])
    isi = float(lr @ li / (lr @ lr)) if np.all(np.isfinite(lr)) else float("nan")
    return {"isi": isi, "activity_pct": pct, "pt_ratio": ratio, "inr_model": ratio ** isi,
            "inr_published": INR_VS_ACTIVITY[:, 1]}


# --------------------------------------------------------------------------------------
# Fast path: tables + multilinear interpolation
# --------------------------------------------------------------------------------------
#: Grid of factor levels (% of normal) of the tables; 100 % is a node, so normal reads exact.
PT_GRID_PCT = np.array([5.0, 8.0, 12.0, 18.0, 27.0, 40.0, 60.0, 80.0, 100.0, 125.0, 150.0])
APTT_GRID_PCT = np.array([5.0, 10.0, 18.0, 32.0, 56.0, 100.0, 150.0])
#: Antithrombin activity = at_pct / 100 x at_potentiation (heparin fold). Dense because the
#: clotting time rises steeply towards the no-clot edge (Hockin 2002 AT threshold behaviour).
APTT_GRID_AT = np.array([0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.75, 3.5, 4.5, 5.5, 7.0, 8.5, 10.0,
                         12.0, 14.0, 17.0, 20.0, 25.0])
PT_DIMS = ("ii_pct", "v_pct", "vii_pct", "x_pct")
APTT_DIMS = ("ii_pct", "v_pct", "viii_pct", "ix_pct", "x_pct", "at_activity")


def _grid_points(axes: Sequence[np.ndarray]) -> np.ndarray:
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def build_table(chunk: int = 4096, progress: bool = True) -> dict[str, np.ndarray]:
    """Compute both clotting-time tables with the full model (minutes on one core)."""
    pt_assay, ap_assay = PTAssay(), APTTAssay()
    pts = _grid_points([PT_GRID_PCT] * 4)
    pt = np.empty(len(pts))
    for s in range(0, len(pts), chunk):
        p = pts[s:s + chunk]
        pt[s:s + chunk] = pt_clot_time_model_s(assay=pt_assay, **{d: p[:, i] for i, d in enumerate(PT_DIMS)})
    if progress:
        print(f"PT table: {len(pts)} points", file=sys.stderr)
    apts = _grid_points([APTT_GRID_PCT] * 5 + [APTT_GRID_AT])
    ap = np.empty(len(apts))
    t0 = time.perf_counter()
    for s in range(0, len(apts), chunk):
        p = apts[s:s + chunk]
        levels = {d: p[:, i] for i, d in enumerate(APTT_DIMS[:5])}
        ap[s:s + chunk] = aptt_clot_time_model_s(assay=ap_assay, at_potentiation=p[:, 5], **levels)
        if progress:
            print(f"aPTT table: {min(s + chunk, len(apts))}/{len(apts)} "
                  f"({time.perf_counter() - t0:.0f} s)", file=sys.stderr)

    def rate(t: np.ndarray, t_max: float) -> np.ndarray:
        # clotting rate 1/t (1/s); 0 where no clot within the window. Interpolating the rate
        # rather than the time keeps the interpolant finite and smooth up to the no-clot edge.
        # float16 keeps the file small; its 5e-4 relative precision is far below the
        # interpolation error
        return np.where(t <= t_max, 1.0 / t, 0.0).astype(np.float16)

    return {
        "pt_axes_pct": PT_GRID_PCT,
        "pt_rate_per_s": rate(pt, pt_assay.t_max_s).reshape([len(PT_GRID_PCT)] * 4),
        "pt_normal_model_s": np.array(_normal_pt_model_s(pt_assay)),
        "pt_t_max_s": np.array(pt_assay.t_max_s),
        "aptt_axes_pct": APTT_GRID_PCT,
        "aptt_axes_at": APTT_GRID_AT,
        "aptt_rate_per_s": rate(ap, ap_assay.t_max_s).reshape([len(APTT_GRID_PCT)] * 5 + [len(APTT_GRID_AT)]),
        "aptt_normal_model_s": np.array(_normal_aptt_model_s(ap_assay)),
        "aptt_t_max_s": np.array(ap_assay.t_max_s),
        "pt_assay": np.array(repr(dataclasses.astuple(pt_assay))),
        "aptt_assay": np.array(repr(dataclasses.astuple(ap_assay))),
    }


@lru_cache(maxsize=1)
def _load_table() -> dict[str, np.ndarray]:
    if not TABLE_PATH.exists():
        raise FileNotFoundError(f"{TABLE_PATH} is missing; run `python -m hemosim.models.clotting --rebuild`")
    with np.load(TABLE_PATH) as z:
        tab = {k: z[k] for k in z.files}
    for key in ("pt_rate_per_s", "aptt_rate_per_s"):
        tab[key] = np.ascontiguousarray(tab[key], dtype=np.float64)
    # normal plasma is a grid node; take its clotting time from the (float16) table itself so
    # that normal plasma reads INR 1 exactly on the fast path (the stored full-model value
    # differs by the 5e-4 quantisation)
    i_pt = int(np.flatnonzero(tab["pt_axes_pct"] == 100.0)[0])
    i_ap = int(np.flatnonzero(tab["aptt_axes_pct"] == 100.0)[0])
    i_at = int(np.flatnonzero(tab["aptt_axes_at"] == 1.0)[0])
    tab["pt_normal_model_s"] = np.array(1.0 / tab["pt_rate_per_s"][(i_pt,) * 4])
    tab["aptt_normal_model_s"] = np.array(1.0 / tab["aptt_rate_per_s"][(i_ap,) * 5 + (i_at,)])
    if str(tab["pt_assay"]) != repr(dataclasses.astuple(PTAssay())) or \
            str(tab["aptt_assay"]) != repr(dataclasses.astuple(APTTAssay())):
        raise RuntimeError(f"{TABLE_PATH} was built for other assay settings; rebuild it with "
                           "`python -m hemosim.models.clotting --rebuild`")
    return tab


@njit(cache=True)
def _multilinear(log_axes, sizes, table_flat, strides, x_log, out):
    """Multilinear interpolation in log coordinates; x_log (n, D) inside the axes' range."""
    n, d = x_log.shape
    lo = np.empty(d, dtype=np.int64)
    fr = np.empty(d)
    for p in range(n):
        for j in range(d):
            g = sizes[j]
            v = x_log[p, j]
            i = 0
            while i < g - 2 and log_axes[j, i + 1] <= v:
                i += 1
            lo[j] = i
            fr[j] = (v - log_axes[j, i]) / (log_axes[j, i + 1] - log_axes[j, i])
        acc = 0.0
        for corner in range(1 << d):
            wgt = 1.0
            idx = 0
            for j in range(d):
                if (corner >> j) & 1:
                    wgt *= fr[j]
                    idx += (lo[j] + 1) * strides[j]
                else:
                    wgt *= 1.0 - fr[j]
                    idx += lo[j] * strides[j]
            if wgt != 0.0:
                acc += wgt * table_flat[idx]
        out[p] = acc


def _interp(axes: list[np.ndarray], table: np.ndarray, x: np.ndarray) -> np.ndarray:
    d = len(axes)
    g = max(len(a) for a in axes)
    log_axes = np.full((d, g), np.inf)
    for j, a in enumerate(axes):
        log_axes[j, :len(a)] = np.log(a)
    sizes = np.array([len(a) for a in axes], dtype=np.int64)
    strides = np.array(table.strides, dtype=np.int64) // table.itemsize
    out = np.empty(x.shape[0])
    _multilinear(log_axes, sizes, np.ascontiguousarray(table, dtype=np.float64).ravel(), strides,
                 np.ascontiguousarray(np.log(x)), out)
    return out


def _domain(name: str, v: np.ndarray, lo: float, hi: float, clip: bool) -> np.ndarray:
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v[~np.isfinite(v)][:5]}")
    if clip:
        return np.clip(v, lo, hi)
    bad = (v < lo) | (v > hi)
    if np.any(bad):
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}] for the fast table path "
                         f"(got {v[bad][:5]}); use the full model or pass clip=True")
    return v


def _rate_to_ratio(rate: np.ndarray, t_max_s: np.ndarray, normal_s: np.ndarray) -> np.ndarray:
    clotted = rate * float(t_max_s) > 1.0
    t = np.divide(1.0, rate, out=np.full_like(rate, np.inf), where=clotted)
    return t / float(normal_s)


def fast_assays(
    *,
    ii_pct: float | np.ndarray = 100.0,
    v_pct: float | np.ndarray = 100.0,
    vii_pct: float | np.ndarray = 100.0,
    viii_pct: float | np.ndarray = 100.0,
    ix_pct: float | np.ndarray = 100.0,
    x_pct: float | np.ndarray = 100.0,
    at_pct: float | np.ndarray = 100.0,
    at_potentiation: float | np.ndarray = 1.0,
    reporting: Reporting | None = None,
    clip: bool = False,
) -> dict[str, np.ndarray]:
    """Table-interpolated PT (s), INR and aPTT (s) for a batch; inputs scalars or (n,) arrays.

    Domain: factor levels in % of normal within the table grids (PT 5-150 %, aPTT 5-150 %),
    antithrombin activity ``at_pct/100 * at_potentiation`` in [0.25, 25]; outside raises
    ValueError unless ``clip=True`` (then clamped to the edge). The PT table assumes normal
    VIII, IX, TFPI and antithrombin and no heparin effect (their effect on the full-model PT
    is < 3 % over 10-150 %, tested); the aPTT table treats antithrombin level and heparin fold through
    their product. Clotting times beyond the assay window come back as ``inf``.
    """
    rep = reporting or Reporting()
    tab = _load_table()
    inputs = {"ii_pct": ii_pct, "v_pct": v_pct, "vii_pct": vii_pct, "viii_pct": viii_pct,
              "ix_pct": ix_pct, "x_pct": x_pct, "at_pct": at_pct, "at_potentiation": at_potentiation}
    n = _levels_and_n(inputs, {})
    a = {k: np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)) for k, v in inputs.items()}
    ax_pt, ax_ap, ax_at = tab["pt_axes_pct"], tab["aptt_axes_pct"], tab["aptt_axes_at"]
    x_pt = np.stack([_domain(d, a[d], ax_pt[0], ax_pt[-1], clip) for d in PT_DIMS], axis=1)
    at_act = a["at_pct"] / 100.0 * a["at_potentiation"]
    x_ap = np.stack([_domain(d, a[d], ax_ap[0], ax_ap[-1], clip) for d in APTT_DIMS[:5]]
                    + [_domain("at_pct/100 * at_potentiation", at_act, ax_at[0], ax_at[-1], clip)], axis=1)
    pt_ratio = _rate_to_ratio(_interp([ax_pt] * 4, tab["pt_rate_per_s"], x_pt),
                              tab["pt_t_max_s"], tab["pt_normal_model_s"])
    ap_ratio = _rate_to_ratio(_interp([ax_ap] * 5 + [ax_at], tab["aptt_rate_per_s"], x_ap),
                              tab["aptt_t_max_s"], tab["aptt_normal_model_s"])
    return {
        "pt_s": rep.mean_normal_pt_s * pt_ratio,
        "inr": pt_ratio ** rep.isi,
        "pt_ratio": pt_ratio,
        "aptt_s": rep.mean_normal_aptt_s * ap_ratio,
        "aptt_ratio": ap_ratio,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hemosim.models.clotting --rebuild`` rebuilds the fast-path table."""
    parser = argparse.ArgumentParser(prog="python -m hemosim.models.clotting", description=main.__doc__)
    parser.add_argument("--rebuild", action="store_true", help="recompute the assay table with the full model")
    parser.add_argument("--fit-isi", action="store_true", help="print the ISI fit of the model PT reagent")
    parser.add_argument("--out", type=Path, default=TABLE_PATH, help="where to write the table (npz)")
    args = parser.parse_args(argv)
    if not (args.rebuild or args.fit_isi):
        parser.print_help()
        return 2
    if args.fit_isi:
        fit = fit_model_isi()
        print(f"model ISI = {fit['isi']:.4f} (default in use: {MODEL_ISI})")
        for p, r, im, ip in zip(fit["activity_pct"], fit["pt_ratio"], fit["inr_model"], fit["inr_published"]):
            print(f"  activity {p:5.1f} %  PT ratio {r:6.3f}  INR model {im:5.2f}  published {ip:5.2f}")
    if args.rebuild:
        t0 = time.perf_counter()
        tab = build_table()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(args.out, **tab)
        print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
