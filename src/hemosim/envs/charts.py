"""Clinical charts of the warfarin and heparin environments (``render_mode="rgb_array"``).

Each function takes the :class:`hemosim.sim.render.EpisodeHistory` that the env face
keeps while a render mode is set and returns a ``uint8 (H, W, 3)`` frame; the simulators
call them from their ``render_rgb`` hook. matplotlib is imported only when a frame is
drawn (through ``hemosim.sim.render.new_figure``). Thresholds drawn are the env's own
reward thresholds, imported from the env modules, so the chart shows what is scored.
"""

from __future__ import annotations

import numpy as np

from hemosim.sim.render import EpisodeHistory, figure_to_rgb, mark_events, new_figure

__all__ = ["warfarin_chart", "heparin_chart"]

_BAND = "#2ecc71"
_TRUE = "#2c3e50"
_MEASURED = "#e74c3c"
_DOSE = "#2980b9"


def _legend(ax, **kw) -> None:
    """A legend only where something is labelled (an empty history draws nothing)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _finish(fig, axes, history: EpisodeHistory, title: str, x: np.ndarray, xlabel: str) -> np.ndarray:
    mark_events(axes, history, x)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    _legend(axes[0], fontsize=7, loc="upper left", ncol=3)
    axes[-1].set_xlabel(xlabel, fontsize=9)
    fig.suptitle(f"{title}    step {history.num_decisions}    return {history.episode_return():+.2f}", fontsize=11)
    fig.tight_layout()
    return figure_to_rgb(fig)


def warfarin_chart(history: EpisodeHistory, title: str) -> np.ndarray:
    """INR (true line, daily INR checks as dots) with the target band and the reward's
    1.5 / 4 / 6 thresholds; the daily dose (missed doses hatched); time in range so far."""
    from hemosim.envs.warfarin import EPISODE_DAYS, HIGH_INR, LOW_INR, SEVERE_INR

    fig, axes = new_figure(3, height_ratios=(3, 2, 1.2))
    axes = list(axes[:, 0])
    day = history.series("day")
    inr = history.series("inr")
    lo, hi = history.series("target_inr_low"), history.series("target_inr_high")
    ax = axes[0]
    ax.fill_between(day, lo, hi, color=_BAND, alpha=0.25, step="mid", label="target range")
    for level, text in ((LOW_INR, "1.5"), (HIGH_INR, "4"), (SEVERE_INR, "6")):
        ax.axhline(level, color="#7f8c8d", lw=0.8, ls=":")
    ax.plot(day, inr, color=_TRUE, lw=1.6, label="INR (true)")
    ax.plot(day, history.series("inr_measured"), "o", color=_MEASURED, ms=3.5, label="INR check")
    top = np.nanmax(np.concatenate([inr, hi, [3.5]]))
    ax.set_ylim(0.8, min(max(top * 1.1, 3.5), 12.0))
    ax.set_ylabel("INR", fontsize=9)
    ax.set_xlim(-0.5, max(EPISODE_DAYS, np.nanmax(day) if day.size else 0) + 0.5)
    ax = axes[1]
    dose, taken = history.series("dose_mg")[1:], history.series("dose_taken_mg")[1:]
    d = day[1:] - 1  # the dose of step t is taken on day t - 1 (start of the day)
    ax.bar(d, dose, width=0.8, color=_DOSE, align="edge", label="dose prescribed (mg)")
    missed = taken < dose
    if missed.any():
        ax.bar(d[missed], dose[missed], width=0.8, align="edge", color="white", edgecolor=_DOSE, hatch="////", label="dose missed")
    amio = history.series("on_amiodarone")
    starts = np.flatnonzero(np.diff(amio) > 0) + 1 if amio.size > 1 else []
    for t in starts:
        ax.axvline(day[t], color="#8e44ad", lw=1.2, label="amiodarone started")
    ax.set_ylabel("warfarin mg/day", fontsize=9)
    _legend(ax, fontsize=7, loc="upper right")
    ax = axes[2]
    in_range = history.series("therapeutic")[1:]
    if in_range.size:
        ax.plot(day[1:], 100.0 * np.cumsum(in_range) / np.arange(1, in_range.size + 1), color=_BAND, lw=1.6)
    ax.set_ylim(-5, 105)
    ax.set_ylabel("% days\nin range", fontsize=9)
    return _finish(fig, axes, history, title, day, "day of therapy")


def heparin_chart(history: EpisodeHistory, title: str) -> np.ndarray:
    """aPTT (true line, 6-hourly samples as dots) with the 46-70 s band and the 45 / 100 /
    150 s thresholds; infusion rate with boluses and the heparin level; platelets with HIT."""
    from hemosim.envs.heparin import DANGEROUS_APTT_S, SUBTHERAPEUTIC_APTT_S, SUPRA_APTT_S, THERAPEUTIC_APTT_S, EPISODE_HOURS

    fig, axes = new_figure(3, height_ratios=(3, 2, 1.6))
    axes = list(axes[:, 0])
    hours = history.series("hours")
    ax = axes[0]
    ax.axhspan(*THERAPEUTIC_APTT_S, color=_BAND, alpha=0.25, label="therapeutic 46-70 s")
    for level in (SUBTHERAPEUTIC_APTT_S, SUPRA_APTT_S, DANGEROUS_APTT_S):
        ax.axhline(level, color="#7f8c8d", lw=0.8, ls=":")
    aptt = history.series("aptt_true_s")
    ax.plot(hours, aptt, color=_TRUE, lw=1.6, label="aPTT (true)")
    ax.plot(hours, history.series("aptt"), "o", color=_MEASURED, ms=3.5, label="aPTT sample")
    ax.set_ylim(20, max(120.0, float(np.nanmax(aptt)) * 1.1 if aptt.size else 120.0))
    ax.set_ylabel("aPTT (s)", fontsize=9)
    ax.set_xlim(-2, max(EPISODE_HOURS, float(np.nanmax(hours)) if hours.size else 0) + 2)
    ax = axes[1]
    rate, bolus = history.series("rate_u_per_h"), history.series("bolus_u")
    if hours.size > 1:
        ax.step(hours, rate, where="pre", color=_DOSE, lw=1.6, label="infusion (U/h)")
        given = np.flatnonzero(bolus[1:] > 0) + 1
        ax.plot(hours[given - 1], np.zeros(given.size), "^", color="#d35400", ms=9, clip_on=False, label="bolus")
        for t in given:
            ax.annotate(f"{bolus[t]:.0f} U", (hours[t - 1], 0), textcoords="offset points", xytext=(2, 8), fontsize=7)
    ax.set_ylabel("U/h", fontsize=9)
    _legend(ax, fontsize=7, loc="upper left")
    level = ax.twinx()
    level.plot(hours, history.series("heparin_u_per_ml"), color="#16a085", lw=1.0, ls="--", label="heparin level (IU/mL)")
    level.set_ylabel("IU/mL", fontsize=9)
    level.tick_params(labelsize=8)
    _legend(level, fontsize=7, loc="upper right")
    ax = axes[2]
    ax.plot(hours, history.series("platelets_true_10e9_per_l"), color=_TRUE, lw=1.4, label="platelets (true)")
    ax.plot(hours, history.series("platelets"), "o", color=_MEASURED, ms=3, label="platelet count")
    ax.axhline(150, color="#7f8c8d", lw=0.8, ls=":")
    hit = history.series("hit_active") > 0
    if hit.any():
        ax.axvspan(hours[np.argmax(hit)], hours[-1], color="#8e44ad", alpha=0.15, label="HIT")
    ax.set_ylabel("x10^9/L", fontsize=9)
    _legend(ax, fontsize=7, loc="lower left")
    return _finish(fig, axes, history, title, hours, "hours on heparin")
