"""Regenerate the figures and the numbers of docs/models/cascade.md.

    .venv/bin/python scripts/cascade_figures.py [--out docs/models/figures]

Prints every number quoted in the model card; writes docs/models/figures/cascade_*.png.
Runs in about a minute on one core (the calibration scans take most of it).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.integrate import solve_ivp  # noqa: E402

from hemosim.models import cascade as c  # noqa: E402
from hemosim.models import clotting as cl  # noqa: E402

FACTS_5_3 = {  # tf_pM: {observable: (t(2 nM) s, peak nM, t(peak) s)}  [FACTS 5.3, computed there]
    5.0: {"total": (198.7, 395.2, 698.7), "free": (568.3, 120.7, 765.9)},
    10.0: {"total": (113.4, 467.7, 474.3), "free": (361.9, 167.5, 529.6)},
    25.0: {"total": (69.8, 574.1, 295.5), "free": (203.7, 247.4, 337.8)},
}


def fig_thrombin_generation(out: Path) -> None:
    tfs = np.array([5.0, 10.0, 25.0])
    tg = c.thrombin_generation(tfs)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    print("\n## Thrombin generation vs FACTS 5.3 (model | FACTS | rel. diff)")
    for i, tf in enumerate(tfs):
        for ax, obs, curve in ((axes[0], "total", tg.total_nM[i]), (axes[1], "free", tg.iia_nM[i])):
            line, = ax.plot(tg.time_s / 60, curve, label=f"{tf:g} pM TF")
            lag, peak, tpeak = FACTS_5_3[tf][obs]
            ax.plot(tpeak / 60, peak, "x", color=line.get_color(), ms=9, mew=2)
            m = getattr(tg, obs)
            for name, mine, ref in (("lag_s", m["lag_s"][i], lag), ("peak_nM", m["peak_nM"][i], peak),
                                    ("time_to_peak_s", m["time_to_peak_s"][i], tpeak)):
                print(f"  {tf:>4g} pM {obs:5s} {name:15s} {mine:8.1f} | {ref:7.1f} | {mine / ref - 1:+.2%}")
            print(f"  {tf:>4g} pM {obs:5s} etp_nM_min      {m['etp_nM_min'][i]:8.0f}")
    axes[0].set_title("IIa + 1.2 mIIa")
    axes[1].set_title("free IIa")
    for ax in axes:
        ax.set_xlabel("time (min)")
        ax.set_ylabel("nM")
        ax.legend(title="x = FACTS 5.3 peak")
        ax.grid(alpha=0.3)
    fig.suptitle("Hockin-Mann 2002, normal plasma: thrombin generation at 5, 10, 25 pM tissue factor")
    fig.tight_layout()
    fig.savefig(out / "cascade_thrombin_generation.png", dpi=110)
    plt.close(fig)


def fig_directions(out: Path) -> None:
    labels = ["normal", "VIII 0 % (haemophilia A)", "antithrombin 50 %", "prothrombin 50 %"]
    tg = c.thrombin_generation(5.0, t_end_s=1800.0, viii_pct=np.array([100.0, 0.0, 100.0, 100.0]),
                               at_pct=np.array([100.0, 100.0, 50.0, 100.0]),
                               ii_pct=np.array([100.0, 100.0, 100.0, 50.0]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharex=True)
    print("\n## Direction checks, 5 pM TF, 0-1800 s (peak nM @ s)")
    for i, lab in enumerate(labels):
        axes[0].plot(tg.time_s / 60, tg.total_nM[i], label=lab)
        axes[1].plot(tg.time_s / 60, tg.iia_nM[i], label=lab)
        print(f"  {lab:26s} total {tg.total['peak_nM'][i]:6.1f} @ {tg.total['time_to_peak_s'][i]:6.1f}   "
              f"free {tg.free['peak_nM'][i]:6.1f} @ {tg.free['time_to_peak_s'][i]:6.1f}")
    axes[0].set_title("IIa + 1.2 mIIa")
    axes[1].set_title("free IIa")
    for ax in axes:
        ax.set_xlabel("time (min)")
        ax.set_ylabel("nM")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.suptitle("Direction checks at 5 pM tissue factor")
    fig.tight_layout()
    fig.savefig(out / "cascade_directions.png", dpi=110)
    plt.close(fig)


def fig_numerics(out: Path) -> None:
    k = c.rate_constants_nM(1)[0]
    y0 = c.initial_state(5.0)
    t = np.linspace(0.0, 1200.0, 1201)
    sol = solve_ivp(lambda _t, y: c.rhs(y, k), (0.0, 1200.0), y0[0], method="LSODA", t_eval=t,
                    rtol=1e-10, atol=1e-13, jac=lambda _t, y: c.jacobian(y, k))
    ref = sol.y.T
    ours = c.solve(y0, k, t)[0]
    scale = np.maximum(np.abs(ref).max(axis=0), 1e-6)
    err = np.abs(ours - ref) / scale
    tot = c.conserved_totals(ours)
    tot0 = c.conserved_totals(y0[0])
    drift = np.abs(tot[:, :9] - tot0[:9]) / tot0[:9]
    print("\n## Numerics, 5 pM")
    print(f"  max |RODAS4 - LSODA(rtol 1e-10)| / species peak = {err.max():.2e}")
    for idx in (c.IDX_IIA, c.IDX_MIIA):
        e = np.abs(ours[:, idx] - ref[:, idx]).max() / np.abs(ref[:, idx]).max()
        print(f"  {c.SPECIES[idx]}: max abs diff / peak = {e:.2e}")
    print(f"  max relative drift of the 9 conserved totals over 1200 s = {drift.max():.2e}")
    _, stats = c.solve(y0, k, t, return_stats=True)
    print(f"  RODAS4 accepted / rejected steps: {stats[0, 0]} / {stats[0, 1]}")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].semilogy(t / 60, np.maximum(err.max(axis=1), 1e-16))
    axes[0].set_title("max over species of |RODAS4 - LSODA| / species peak")
    axes[1].semilogy(t / 60, np.maximum(drift, 1e-18), lw=0.8)
    axes[1].set_title("relative drift of the 9 conserved totals")
    for ax in axes:
        ax.set_xlabel("time (min)")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "cascade_numerics.png", dpi=110)
    plt.close(fig)


def fig_pt(out: Path) -> None:
    fit = cl.fit_model_isi()
    print(f"\n## PT: fitted model ISI {fit['isi']:.4f} (default {cl.MODEL_ISI})")
    for p, r, im, ip in zip(fit["activity_pct"], fit["pt_ratio"], fit["inr_model"], fit["inr_published"]):
        print(f"  prothrombin complex {p:4.0f} %: PT ratio {r:5.2f}  INR model {im:5.2f}  published {ip:5.2f}"
              f"  ({im / ip - 1:+.1%})")
    pc = np.geomspace(6.0, 100.0, 40)
    vka = cl.prothrombin_time(ii_pct=pc, vii_pct=pc, ix_pct=pc, x_pct=pc)["inr"]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    axes[0].plot(pc, vka, label="model (II, VII, IX, X together)")
    axes[0].plot(cl.INR_VS_ACTIVITY[:, 0], cl.INR_VS_ACTIVITY[:, 1], "o", label="medicalalgorithms.com table")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("prothrombin-complex activity (% of normal)")
    axes[0].set_ylabel("INR")
    axes[0].set_title(f"VKA-like plasmas; model ISI {cl.MODEL_ISI}")
    lv = np.geomspace(5.0, 150.0, 40)
    print("\n## PT single-factor sensitivity (INR at 50 % / 25 % / 10 %)")
    for f in ("ii_pct", "v_pct", "vii_pct", "x_pct", "viii_pct", "ix_pct"):
        inr = cl.prothrombin_time(**{f: lv})["inr"]
        axes[1].plot(lv, inr, label=f.replace("_pct", ""))
        at = cl.prothrombin_time(**{f: np.array([50.0, 25.0, 10.0])})["inr"]
        print(f"  {f:9s} {at[0]:.3f} / {at[1]:.3f} / {at[2]:.3f}")
    axes[1].axvspan(25, 35, color="grey", alpha=0.2, label="Burns 1993: PT lengthens < 25-35 %")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("single factor level (% of normal)")
    axes[1].set_ylabel("INR")
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "cascade_pt_inr.png", dpi=110)
    plt.close(fig)
    two = cl.prothrombin_time(ii_pct=75.0, v_pct=75.0)["inr"][0]
    one = cl.prothrombin_time(ii_pct=50.0)["inr"][0]
    print(f"  Burns paradox check: II and V both 75 % -> INR {two:.3f}; II alone 50 % -> {one:.3f}")


def fig_aptt(out: Path) -> None:
    lv = np.geomspace(5.0, 150.0, 40)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    print("\n## aPTT single-factor sensitivity: level where aPTT crosses 35 s (Burns 1993 threshold)")
    burns = {"ii_pct": 40, "v_pct": 45, "viii_pct": 25, "ix_pct": 25, "x_pct": None, "vii_pct": None}
    for f, pub in burns.items():
        a = cl.aptt(**{f: lv})["aptt_s"]
        axes[0].plot(lv, a, label=f.replace("_pct", ""))
        above = a > 35.0
        cross = np.nan
        if above.any() and not above.all():
            j = np.flatnonzero(~above)[0]
            cross = np.exp(np.interp(35.0, [a[j], a[j - 1]], [np.log(lv[j]), np.log(lv[j - 1])]))
        print(f"  {f:9s} model {cross:5.1f} %   Burns 1993: {pub if pub else 'not stated'}")
    axes[0].axhspan(25, 35, color="grey", alpha=0.2, label="normal 25-35 s")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("single factor level (% of normal)")
    axes[0].set_ylabel("aPTT (s)")
    axes[0].legend(fontsize=8)
    pot = np.geomspace(1.0, 25.0, 40)
    a = cl.aptt(at_potentiation=pot)["aptt_s"]
    axes[1].plot(pot, a)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("antithrombin potentiation (heparin fold)")
    axes[1].set_ylabel("aPTT (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "cascade_aptt.png", dpi=110)
    plt.close(fig)
    print("  heparin fold 1/2/5/10/15/20:", np.round(cl.aptt(at_potentiation=np.array([1, 2, 5, 10, 15, 20.0]))["aptt_s"], 1))


def fig_fast(out: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    print("\n## Fast table path vs full model (relative error of the clotting ratio; full ratio <= 6)")
    for lo, seed in ((20.0, 21), (5.0, 22)):
        rng = np.random.default_rng(seed)
        n = 1000
        lv = {k: np.exp(rng.uniform(np.log(lo), np.log(150.0), n))
              for k in ("ii_pct", "v_pct", "vii_pct", "viii_pct", "ix_pct", "x_pct")}
        at = rng.uniform(50.0, 150.0, n)
        pot = np.exp(rng.uniform(0.0, np.log(10.0), n))
        fast = cl.fast_assays(at_pct=at, at_potentiation=pot, **lv)
        pt = cl.prothrombin_time(**{k: lv[k] for k in ("ii_pct", "v_pct", "vii_pct", "x_pct")})["pt_ratio"]
        ap = cl.aptt(at_potentiation=pot, at_pct=at,
                     **{k: lv[k] for k in ("ii_pct", "v_pct", "viii_pct", "ix_pct", "x_pct")})["aptt_ratio"]
        for ax, name, est, full in ((axes[0], "PT", fast["pt_ratio"], pt), (axes[1], "aPTT", fast["aptt_ratio"], ap)):
            ok = np.isfinite(full) & (full <= 6.0)
            err = np.abs(est[ok] / full[ok] - 1.0)
            print(f"  {name:4s} levels {lo:g}-150 %: n={ok.sum()}  median {np.median(err):.2%}  "
                  f"p95 {np.percentile(err, 95):.2%}  max {err.max():.2%}  "
                  f"(no-clot disagreements: {(np.isfinite(est) != np.isfinite(full)).sum()})")
            ax.loglog(full[ok], est[ok], ".", ms=3, label=f"levels {lo:g}-150 %")
            ax.set_title(f"{name} ratio: table vs full model")
            ax.set_xlabel("full model")
            ax.set_ylabel("table")
    for ax in axes:
        lims = ax.get_xlim()
        ax.plot(lims, lims, "k-", lw=0.5)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / "cascade_fast_path.png", dpi=110)
    plt.close(fig)


def scan_assay_configurations() -> None:
    """The calibration scans quoted in the model card (choice of PT and aPTT settings)."""
    import dataclasses
    import itertools

    print("\n## PT configurations: ISI fit to the INR-activity table (RMS log residual)")
    for tf_pM, (w, thr) in itertools.product((5000.0, 20000.0), ((1.2, 2.0), (1.2, 10.0), (0.0, 2.0), (0.0, 10.0))):
        assay = dataclasses.replace(cl.PTAssay(), tissue_factor_pM=tf_pM, miia_weight=w, threshold_nM=thr)
        fit = cl.fit_model_isi(assay)
        if not np.all(np.isfinite(fit["pt_ratio"])):
            print(f"  TF {tf_pM / 1000:g} nM, {'IIa+1.2mIIa' if w else 'free IIa'} {thr:g} nM: "
                  "no clot at 10 % within the window, not fitted")
            continue
        res = np.sqrt(np.mean(np.log(fit["inr_model"] / fit["inr_published"]) ** 2))
        print(f"  TF {tf_pM / 1000:g} nM, {'IIa+1.2mIIa' if w else 'free IIa'} {thr:g} nM: "
              f"ISI {fit['isi']:.3f}, RMS log residual {res:.3f}")
    print("\n## aPTT triggers: level where aPTT ratio crosses 35/30 vs Burns 1993 (II 40, V 45, VIII 25, IX 25 %)")
    lv = np.array([100.0, 80.0, 65.0, 50.0, 40.0, 30.0, 25.0, 20.0, 15.0, 10.0])
    target = {"v_pct": 45.0, "ii_pct": 40.0, "viii_pct": 25.0, "ix_pct": 25.0}
    best = []
    for phi, seed, w, thr in itertools.product((0.001, 0.003, 0.01, 0.03, 0.1), (0.0003, 0.001, 0.01, 0.1),
                                               (1.2, 0.0), (2.0, 10.0)):
        assay = cl.APTTAssay(ixa_fraction=phi, trace_iia_nM=seed, miia_weight=w, threshold_nM=thr, t_max_s=3000.0)
        cross = {}
        for f in target:
            r = cl.aptt_clot_time_model_s(assay=assay, **{f: lv})
            r = r / r[0]
            above = r >= 35.0 / 30.0
            j = int(np.argmax(above))
            cross[f] = np.nan if not above[j] else float(np.exp(np.interp(
                35.0 / 30.0, [r[j - 1], r[j]], [np.log(lv[j - 1]), np.log(lv[j])])))
        res = np.sqrt(np.mean([(np.log(cross[f] / target[f])) ** 2 for f in target]))
        best.append((res, phi, seed, w, thr, cross))
    best.sort(key=lambda b: b[0])
    for res, phi, seed, w, thr, cross in best[:5]:
        print(f"  RMS log residual {res:.3f}: IXa fraction {phi}, trace IIa {seed} nM, "
              f"{'IIa+1.2mIIa' if w else 'free IIa'} {thr:g} nM -> "
              + ", ".join(f"{k[:-4]} {v:.0f} %" for k, v in cross.items()))
    print(f"  ({len(best)} triggers scanned)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/models/figures"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fig_thrombin_generation(args.out)
    fig_directions(args.out)
    fig_numerics(args.out)
    fig_pt(args.out)
    fig_aptt(args.out)
    fig_fast(args.out)
    scan_assay_configurations()
    print("\n## Benchmark:", {k: round(v, 4) for k, v in c.benchmark().items()})
    print(f"\n(done in {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
