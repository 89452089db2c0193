"""Rendering shared by the env faces: the episode history, a generic chart and a text summary.

Every hemosim environment supports ``render_mode="rgb_array"`` (a clinical chart of the
episode so far, ``uint8`` array ``(FRAME_HEIGHT_PX, FRAME_WIDTH_PX, 3)``) and ``"ansi"``
(a one-screen text summary) through the shared faces (``sim/single.py``, ``sim/vector.py``).

* The faces keep an :class:`EpisodeHistory` **only while a render mode is set**: with
  ``render_mode=None`` (training) nothing is recorded and stepping pays nothing.
* The history holds, per step, every numeric scalar of the step's ``info`` (raw clinical
  values with units in their keys), the action, the reward and the events of
  ``info["events"]`` (the shared event contract) where an env reports them.
* A simulator chooses its chart through two overridable hooks of
  :class:`hemosim.sim.batch.BatchedSimulator`, ``render_rgb(history, title)`` and
  ``render_ansi(history, title)``. Their defaults are :func:`default_chart` (one small
  panel per varying info value, the action and the return, events marked) and
  :func:`text_summary`, so any new simulator renders without code of its own; an env
  can override them with a clinical chart (see ``hemosim.envs.charts``).
* matplotlib is imported lazily inside the drawing functions, with the Agg canvas
  (no display, no pyplot global state), so ``import hemosim`` stays light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

__all__ = [
    "RENDER_MODES",
    "RENDER_FPS",
    "FRAME_WIDTH_PX",
    "FRAME_HEIGHT_PX",
    "EpisodeHistory",
    "check_render_mode",
    "new_figure",
    "figure_to_rgb",
    "mark_events",
    "default_chart",
    "text_summary",
]

RENDER_MODES = ("ansi", "rgb_array")
#: frames per second of a recorded video (one decision step per frame)
RENDER_FPS = 4
_DPI = 100
FRAME_WIDTH_PX, FRAME_HEIGHT_PX = 960, 640  # even sizes (H.264 needs them)
#: info keys never charted: the reward components are summed in the return panel
_SKIP_PREFIXES = ("reward_", "_")
_MAX_PANELS = 9
_EVENT_COLOURS = {
    "major_bleeding": "#c0392b",
    "intracranial_haemorrhage": "#7b241c",
    "crnm_bleeding": "#e67e22",
    "thromboembolism": "#1f618d",
    "hit": "#8e44ad",
    "death": "#000000",
}


def check_render_mode(render_mode: Any) -> str | None:
    """Gymnasium's convention: an unsupported mode is accepted with a warning (``render()``
    then warns and returns ``None``); a value that is not a string is an error."""
    if render_mode is None or render_mode in RENDER_MODES:
        return render_mode
    if not isinstance(render_mode, str):
        raise ValueError(f"render_mode must be None or one of {list(RENDER_MODES)}, got {render_mode!r}")
    from gymnasium import logger

    logger.warn(
        f"The environment is being initialised with render_mode={render_mode!r} that is not in the "
        f"possible render_modes ({list(RENDER_MODES)}); render() will return None."
    )
    return render_mode


def _is_number(x: Any) -> bool:
    return isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating))


@dataclass
class _Step:
    reward: float | None
    action: tuple[float, ...] | None
    values: dict[str, float]
    events: dict[str, bool]


@dataclass
class EpisodeHistory:
    """One patient's episode so far, recorded from the infos the face returns (plain scalars)."""

    steps: list[_Step] = field(default_factory=list)
    patient: dict[str, Any] = field(default_factory=dict)

    def start(self, info: dict[str, Any]) -> None:
        """Forget the last episode and record the reset's info (step 0)."""
        self.steps.clear()
        patient = info.get("patient")
        self.patient = {k: v for k, v in patient.items() if _is_number(v) or isinstance(v, str)} if isinstance(patient, dict) else {}
        self.record(info, None, None)

    def record(self, info: dict[str, Any], action: Any, reward: float | None) -> None:
        values = {k: float(v) for k, v in info.items() if _is_number(v) and not k.startswith("_")}
        events = info.get("events")
        events = {k: bool(v) for k, v in events.items()} if isinstance(events, dict) else {}
        act = None if action is None else tuple(float(a) for a in np.ravel(np.asarray(action, dtype=np.float64)))
        self.steps.append(_Step(None if reward is None else float(reward), act, values, events))

    # -- reading ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.steps)

    @property
    def num_decisions(self) -> int:
        return max(len(self.steps) - 1, 0)

    def keys(self) -> list[str]:
        """Numeric info keys in order of first appearance."""
        seen: dict[str, None] = {}
        for s in self.steps:
            seen.update(dict.fromkeys(s.values))
        return list(seen)

    def series(self, key: str) -> np.ndarray:
        """Values of ``key`` at steps 0, 1, ... (NaN where absent)."""
        return np.array([s.values.get(key, math.nan) for s in self.steps], dtype=np.float64)

    def has(self, key: str) -> bool:
        return any(key in s.values for s in self.steps)

    def rewards(self) -> np.ndarray:
        """Rewards of steps 1, 2, ... (the reset has none)."""
        return np.array([s.reward for s in self.steps[1:]], dtype=np.float64)

    def actions(self) -> np.ndarray:
        """Actions of steps 1, 2, ... as ``(T, action_dim)`` (as the agent gave them)."""
        acts = [s.action for s in self.steps[1:]]
        return np.array(acts, dtype=np.float64) if acts else np.zeros((0, 0))

    def episode_return(self) -> float:
        r = self.rewards()
        return float(r.sum()) if r.size else 0.0

    def event_steps(self) -> dict[str, list[int]]:
        """Steps at which each reported event happened (only events that happened)."""
        out: dict[str, list[int]] = {}
        for t, s in enumerate(self.steps):
            for name, happened in s.events.items():
                if happened:
                    out.setdefault(name, []).append(t)
        return out


# -- drawing helpers (matplotlib imported lazily) ------------------------------------------------
def new_figure(nrows: int, ncols: int = 1, *, sharex: bool = True, height_ratios: Iterable[float] | None = None):
    """A ``(figure, axes)`` pair on an off-screen Agg canvas of the frame size."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(FRAME_WIDTH_PX / _DPI, FRAME_HEIGHT_PX / _DPI), dpi=_DPI)
    FigureCanvasAgg(fig)
    kw = {"height_ratios": list(height_ratios)} if height_ratios is not None else None
    axes = fig.subplots(nrows, ncols, sharex=sharex, squeeze=False, gridspec_kw=kw)
    return fig, axes


def figure_to_rgb(fig) -> np.ndarray:
    """Draw ``fig`` and return its pixels as a fresh ``uint8 (H, W, 3)`` array."""
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def mark_events(axes: Iterable[Any], history: EpisodeHistory, x: np.ndarray | None = None) -> None:
    """Vertical lines at the steps where events happened (legend on the first axis)."""
    axes = list(axes)
    labelled: set[str] = set()
    for name, steps in history.event_steps().items():
        colour = _EVENT_COLOURS.get(name, "#555555")
        for t in steps:
            pos = t if x is None else x[t]
            for j, ax in enumerate(axes):
                label = name.replace("_", " ") if (j == 0 and name not in labelled) else None
                ax.axvline(pos, color=colour, lw=1.6, ls="--", alpha=0.85, label=label)
                if label:
                    labelled.add(name)


def _title(title: str, history: EpisodeHistory) -> str:
    return f"{title}    step {history.num_decisions}    return {history.episode_return():+.2f}"


def _charted_keys(history: EpisodeHistory, limit: int) -> list[str]:
    keys = [k for k in history.keys() if not k.startswith(_SKIP_PREFIXES)]
    varying = [k for k in keys if np.nanmax(history.series(k)) != np.nanmin(history.series(k))]
    constant = [k for k in keys if k not in varying]
    return (varying + constant)[:limit]


def default_chart(history: EpisodeHistory, title: str) -> np.ndarray:
    """Generic chart of any environment: the return, the action and one panel per info value.

    Panels: cumulative reward; each action component; then the info's numeric values
    (those that vary first), up to nine panels; events (``info["events"]``) as dashed
    vertical lines on every panel.
    """
    n_act = history.actions().shape[1] if history.num_decisions else 0
    keys = _charted_keys(history, _MAX_PANELS - 1 - min(n_act, 1))
    n = 1 + min(n_act, 1) + len(keys)
    ncols = 3 if n > 4 else (2 if n > 1 else 1)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(nrows, ncols)
    flat = list(axes.ravel())
    t = np.arange(len(history))
    ax = flat[0]
    ax.plot(t[1:], np.cumsum(history.rewards()), color="#2c3e50", drawstyle="steps-post")
    ax.set_title("return so far", fontsize=9)
    used = 1
    if n_act:
        ax = flat[used]
        acts = history.actions()
        for j in range(n_act):
            ax.step(t[1:], acts[:, j], where="post", label=f"action[{j}]")
        ax.set_title("action", fontsize=9)
        if n_act > 1:
            ax.legend(fontsize=7, loc="upper right")
        used += 1
    for key in keys:
        ax = flat[used]
        ax.plot(t, history.series(key), marker=".", ms=3, lw=1)
        ax.set_title(key, fontsize=9)
        used += 1
    for ax in flat[used:]:
        ax.set_visible(False)
    for ax in flat[:used]:
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    mark_events(flat[:used], history)
    if history.event_steps():
        flat[0].legend(fontsize=7, loc="lower left")
    for ax in axes[-1]:
        ax.set_xlabel("decision step", fontsize=8)
    fig.suptitle(_title(title, history), fontsize=11)
    fig.tight_layout()
    return figure_to_rgb(fig)


_SPARK = " ▁▂▃▄▅▆▇█"


def _sparkline(values: np.ndarray, width: int = 30) -> str:
    v = values[-width:]
    v = v[np.isfinite(v)]
    if v.size == 0:
        return ""
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        return _SPARK[4] * v.size
    idx = np.round((v - lo) / (hi - lo) * (len(_SPARK) - 2)).astype(int) + 1
    return "".join(_SPARK[i] for i in idx)


def _fmt(x: float) -> str:
    if not math.isfinite(x):
        return "nan"
    return f"{x:.4g}"


def text_summary(history: EpisodeHistory, title: str, keys: Iterable[str] | None = None, max_rows: int = 18) -> str:
    """One screen of text: the patient, the latest value / range / trend of each info value,
    the last action and reward, and the events so far."""
    lines = [_title(title, history)]
    if history.patient:
        items = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in history.patient.items()]
        text = "patient: " + ", ".join(items)
        lines.append(text if len(text) <= 118 else text[:115] + "...")
    keys = list(keys) if keys is not None else [k for k in history.keys() if not k.startswith("_")]
    lines.append(f"{'value':<28}{'now':>10}{'min':>10}{'max':>10}  trend (last 30 steps)")
    for key in keys[:max_rows]:
        s = history.series(key)
        finite = s[np.isfinite(s)]
        lo = _fmt(float(finite.min())) if finite.size else "nan"
        hi = _fmt(float(finite.max())) if finite.size else "nan"
        lines.append(f"{key[:27]:<28}{_fmt(float(s[-1])):>10}{lo:>10}{hi:>10}  {_sparkline(s)}")
    if len(keys) > max_rows:
        lines.append(f"... {len(keys) - max_rows} more values in info")
    if history.num_decisions:
        last = history.steps[-1]
        action = ", ".join(_fmt(a) for a in (last.action or ()))
        lines.append(f"last action [{action}]  reward {_fmt(last.reward or 0.0)}")
    events = history.event_steps()
    if events:
        lines.append("events: " + "; ".join(f"{k.replace('_', ' ')} at step {', '.join(map(str, v))}" for k, v in events.items()))
    elif history.steps and history.steps[-1].events:
        lines.append("events: none")
    return "\n".join(lines) + "\n"
