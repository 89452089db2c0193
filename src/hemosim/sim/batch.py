"""The batched-simulator base: the one code path behind every hemosim environment.

A :class:`BatchedSimulator` holds ``N`` patients as arrays with the patient on axis 0
(struct of arrays, float64). The single :class:`gymnasium.Env` face (``sim/single.py``) is
this simulator with ``N = 1`` and the vector face (``sim/vector.py``) is the same simulator
with ``N = num_envs``, so the two agree by construction.

A subclass provides

* ``observation_space`` / ``action_space``: the spaces of **one** patient;
* ``reset_patients(mask, keys, options)``: draw new patients for the masked rows, each
  from its own key (see ``sim/rng.py``), and clear every per-step field of those rows;
* ``advance(actions)``: one decision step for every patient, returning
  ``(reward, terminated, truncated)`` arrays of shape ``(N,)``;
* ``observation()``: a fresh ``(N, *obs_shape)`` float32 array;
* ``info()``: a dict of ``(N,)`` arrays (nested dicts allowed), a pure function of the
  state, so a freshly reset patient reports exactly what a single env's reset reports.
  Optionally ``info_row(row)`` builds one row of it as Python scalars directly (the single
  env's fast path; the default converts ``info()``);
  The arrays may be the simulator's own buffers: the env faces copy them (the vector
  face takes ``fresh_info()``, by default a copy of ``info()``, which a simulator may
  build faster itself; the single face converts them to Python scalars);
* optionally ``static_info()``: the part of the info that changes only when a patient is
  reset (for example its covariates). The env faces merge it into every info, fresh,
  without rebuilding it each step;
* optionally ``render_rgb(history, title)`` / ``render_ansi(history, title)``: the chart
  and the text summary of one patient's episode (``sim/render.py``); the defaults draw
  every numeric value of the info, so a new simulator renders without code of its own.
"""

from __future__ import annotations

import abc
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

__all__ = ["BatchedSimulator", "validate_options", "validate_actions", "copy_info", "info_skeleton", "state_columns"]

#: action dtypes handed to the simulators unconverted; any other real dtype (float16,
#: big-endian, longdouble, integers) is converted to native float64 after validation
_FAST_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def validate_options(given: Mapping[str, Any], allowed: Mapping[str, Any], what: str) -> dict[str, Any]:
    """Merge ``given`` over the ``allowed`` defaults; unknown names raise ``ValueError``."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown {what} option(s) {unknown}; allowed options are {sorted(allowed)}"
        )
    merged = dict(allowed)
    merged.update(given)
    return merged


def _info_leaves(tree: dict[str, Any], out: list[tuple[dict[str, Any], str, np.ndarray]]) -> None:
    for key, value in tree.items():
        if isinstance(value, dict):
            _info_leaves(value, out)
        else:
            out.append((tree, key, value))


def copy_info(tree: dict[str, Any], read_only: bool = False) -> dict[str, Any]:
    """A fresh copy of a tree of arrays; 1-D arrays of one dtype are copied together into one
    block and returned as its rows (independent memory per key, one allocation per dtype).
    ``read_only``: the copies cannot be written to (nor made writeable: views of a read-only block)."""
    copied = info_skeleton(tree)
    leaves: list[tuple[dict[str, Any], str, np.ndarray]] = []
    _info_leaves(copied, leaves)
    groups: dict[tuple[np.dtype, int], list[tuple[dict[str, Any], str, np.ndarray]]] = {}
    for node, key, value in leaves:
        if value.ndim == 1 and value.dtype != object:
            groups.setdefault((value.dtype, value.shape[0]), []).append((node, key, value))
        else:
            copy = value.copy()
            if read_only:
                copy.flags.writeable = False
                copy = copy.view()  # a view of a read-only base cannot be made writeable again
            node[key] = copy
    for (dtype, n), items in groups.items():
        block = np.empty((len(items), n), dtype=dtype)
        for row, (_, _, value) in enumerate(items):
            block[row] = value
        if read_only:
            block.flags.writeable = False  # before the row views are taken: they inherit it
        for row, (node, key, _) in enumerate(items):
            node[key] = block[row]
    return copied


def info_skeleton(tree: dict[str, Any]) -> dict[str, Any]:
    """The nested dicts of ``tree`` anew, its leaves as they are."""
    return {k: info_skeleton(v) if isinstance(v, dict) else v for k, v in tree.items()}


def state_columns(state: np.ndarray, columns: tuple[int, ...], fresh: bool) -> dict[int, np.ndarray]:
    """Columns of a ``(N, K)`` state by index: views, or (``fresh``) the rows of one new
    ``(len(columns), N)`` block gathered in one call (each row contiguous; for
    :meth:`BatchedSimulator.fresh_info`)."""
    if not fresh:
        return {c: state[:, c] for c in columns}
    if state.flags.f_contiguous:  # state.T is C-ordered: each column one contiguous copy
        block = state.T[list(columns)]
    else:
        block = np.ascontiguousarray(state[:, list(columns)].T)
    return dict(zip(columns, block))


class BatchedSimulator(abc.ABC):
    """Base class of the batched patient simulators (see the module docstring)."""

    observation_space: spaces.Space
    action_space: spaces.Space

    def __init__(self, num_patients: int) -> None:
        if not isinstance(num_patients, (int, np.integer)) or isinstance(num_patients, bool) or num_patients < 1:
            raise ValueError(f"num_patients must be a positive integer, got {num_patients!r}")
        self.num_patients = int(num_patients)
        self._action_batch_shape = (self.num_patients, *self.action_space.shape)
        self._box_bounds = _uniform_box_bounds(self.action_space)

    # -- to implement -------------------------------------------------------------------
    @abc.abstractmethod
    def reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: Mapping[str, Any] | None) -> None:
        """Draw new patients for ``mask`` rows from ``keys`` (uint64, one per masked row)."""

    @abc.abstractmethod
    def advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance every patient one decision step; return reward, terminated, truncated."""

    @abc.abstractmethod
    def observation(self) -> np.ndarray:
        """Fresh ``(N, *obs_shape)`` float32 observation array."""

    @abc.abstractmethod
    def info(self) -> dict[str, Any]:
        """Dict of per-patient arrays (a pure function of the state; faces copy them)."""

    def fresh_info(self) -> dict[str, Any]:
        """:meth:`info` in arrays that belong to the caller: new on every call, sharing no
        memory with the simulator or with an earlier call (the vector face returns them as
        they are). The default copies :meth:`info` (:func:`copy_info`); a simulator may
        build them directly, for example by one gather of its state's columns; it must
        equal the copy (tested)."""
        return copy_info(self.info())

    def info_row(self, row: int) -> dict[str, Any]:
        """Row ``row`` of :meth:`info` as Python scalars (what a single env returns). A
        simulator may build it directly, faster; it must equal this default (tested)."""
        from hemosim.sim.single import scalar_info

        return scalar_info(self.info(), row)

    def static_info(self) -> dict[str, Any]:
        """Per-patient info that changes only at reset (default: none)."""
        return {}

    def render_rgb(self, history: Any, title: str) -> np.ndarray:
        """Chart of one patient's episode (``uint8 (H, W, 3)``); override for a clinical chart."""
        from hemosim.sim.render import default_chart

        return default_chart(history, title)

    def render_ansi(self, history: Any, title: str) -> str:
        """One-screen text summary of one patient's episode; override to choose the values."""
        from hemosim.sim.render import text_summary

        return text_summary(history, title)

    # -- shared -------------------------------------------------------------------------
    def safe_action(self) -> np.ndarray:
        """A valid action for one patient, used for rows that are being auto-reset."""
        space = self.action_space
        if isinstance(space, spaces.Box):
            return np.asarray(space.low, dtype=space.dtype).copy()
        if isinstance(space, spaces.MultiDiscrete):
            return np.zeros(space.shape, dtype=space.dtype)
        if isinstance(space, spaces.Discrete):
            return np.asarray(space.start, dtype=space.dtype)
        raise NotImplementedError(type(space))

    def validate_actions(self, actions: Any) -> np.ndarray:
        """Check a batch of actions against ``action_space``; raise ``ValueError`` if bad
        (see :func:`validate_actions`)."""
        return validate_actions(actions, self.action_space, self.num_patients, self._box_bounds)


def _uniform_box_bounds(space: spaces.Space) -> tuple[float, float] | None:
    """``(low, high)`` of a Box whose bounds are the same in every dimension, else ``None``."""
    if (
        isinstance(space, spaces.Box)
        and np.all(space.low == np.min(space.low))
        and np.all(space.high == np.max(space.high))
    ):
        return float(np.min(space.low)), float(np.max(space.high))
    return None


def validate_actions(
    actions: Any, space: spaces.Space, num_patients: int, box_bounds: tuple[float, float] | None = None
) -> np.ndarray:
    """Check a batch of ``num_patients`` actions against ``space``; raise ``ValueError`` if bad.

    Nothing is clipped or coerced: an action outside the space, a non-finite value, a bool
    or a wrong shape is an error that names the bad value and what is allowed. Any real
    floating or integer dtype is accepted (float16, big-endian, longdouble, ...): what is
    returned is native float32 / float64 for a Box (int64 for discrete spaces).
    ``box_bounds`` (from :func:`_uniform_box_bounds`) enables the fast path.
    """
    if (
        box_bounds is not None
        and type(actions) is np.ndarray
        and actions.shape == (num_patients, *space.shape)
        and actions.dtype in _FAST_DTYPES  # native float32 / float64 (what compiled kernels take)
    ):
        lo, hi = box_bounds
        if actions.size <= 8:  # a single env's action: Python comparisons beat two reductions
            if all(lo <= x <= hi for x in actions.flat):  # NaN fails the comparison
                return actions
        elif actions.min() >= lo and actions.max() <= hi:  # NaN fails both comparisons
            return actions
    try:
        arr = np.asarray(actions)
    except Exception as exc:  # pragma: no cover - exotic inputs
        raise ValueError(f"action {actions!r} is not array-like") from exc
    expected = (num_patients, *space.shape)
    if arr.shape != expected:
        raise ValueError(
            f"action has shape {arr.shape}, expected {expected} "
            f"({num_patients} patient(s) x action shape {space.shape})"
        )
    if arr.dtype.kind == "b":
        raise ValueError(
            f"action {arr.tolist()} is boolean; allowed: real numbers in {space} (a bool is not a dose)"
        )
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"action dtype {arr.dtype} is not a real number type; allowed: {space}")
    if isinstance(space, spaces.Box):
        arr = arr.astype(np.float64, copy=False)
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"action contains non-finite values {arr[bad][:5]}; allowed: finite values in {space}")
        low = np.asarray(space.low, dtype=np.float64)
        high = np.asarray(space.high, dtype=np.float64)
        out = (arr < low) | (arr > high)
        if out.any():
            raise ValueError(
                f"action values {arr[out][:5]} lie outside the action space [{low.min()}, {high.max()}] "
                f"({space}); nothing is clipped"
            )
        return arr
    if isinstance(space, (spaces.MultiDiscrete, spaces.Discrete)):
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise ValueError(f"action {arr} must hold integers for {space}")
        arr = arr.astype(np.int64)
        nvec = np.asarray(space.nvec if isinstance(space, spaces.MultiDiscrete) else space.n)
        start = np.asarray(getattr(space, "start", 0))
        out = (arr < start) | (arr >= start + nvec)
        if out.any():
            raise ValueError(f"action values {arr[out][:5]} lie outside {space}")
        return arr
    raise NotImplementedError(type(space))
