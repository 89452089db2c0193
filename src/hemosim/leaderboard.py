"""One table per environment: every baseline, random and the best constant action on the same
held-out patients (``hemosim leaderboard``).

Each policy runs one episode per held-out patient (``hemosim.reproducibility.HELD_OUT_SEEDS``,
the first ``n`` of them) in the native vector env, behind ``SafetyLayer(mode="monitor")``
where the env has a CDS adapter (monitor mode changes no trajectory; it counts the steps on
which a rule would have fired). Columns, the same for every env:

* the env's **primary clinical metric** with a 95 % normal-approximation interval over
  patients: Rosendaal TTR (%) on the true INR (warfarin, the patient's target range) or the
  true aPTT 46-70 s (heparin, both envs; ``hemosim.metrics.rosendaal_ttr``), the realised
  expected net clinical benefit per 100 patient-years (DOAC: minus the NCB-weighted integrated
  hazards, ``hemosim.doac_evaluation``), or survival to the end of the episode (DIC, %);
* the mean **return** (the env's default reward) with its interval;
* **events per 100 patient-years** (major bleeding, thromboembolism, death where the env
  has it; ``info["events"]``) and the **safety cost** per patient-day (``info["cost"]``);
* **CDS firings**: the share of steps on which the layer would have changed the action
  (monitor mode; "n/a" where the env has no adapter).

The **best constant action** is chosen on training patients (``TRAIN_SEEDS``, never the
held-out ones) from a grid (Box: the first action component at 16 levels from 0 to 1, the
others 0; MultiDiscrete: every action), by the primary metric, then evaluated like the rest.
Trained agents join the table through :func:`evaluate_policy` (a policy with
``predict(obs)`` or ``predict(obs, info)`` over a batch). The random row draws each
patient's actions from that patient's own key, so every row is independent of how the
patients are batched: ``ray_shards=k`` (``hemosim leaderboard --ray``) splits the patients
over ``k`` Ray tasks and gives the same table as one process (tested).
"""

from __future__ import annotations

import inspect
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from hemosim.reproducibility import HELD_OUT_SEEDS, TRAIN_SEEDS, assert_held_out, assert_train

__all__ = ["BOARDS", "Board", "evaluate_policy", "best_constant", "leaderboard", "markdown"]

HOURS_PER_YEAR = 365.25 * 24.0


@dataclass(frozen=True)
class Board:
    """What the table of one env measures."""

    env_id: str
    metric: str  # the primary metric's column title
    higher_is_better: bool
    step_hours: float  # simulated hours per decision step
    policies: Callable[[], dict[str, Callable[[], Any]]] = field(repr=False)
    primary: Callable[[dict[str, np.ndarray]], np.ndarray] = field(repr=False)  # per-patient values
    record: tuple[str, ...] = ()  # info keys recorded each step (for the primary metric)
    options: tuple[tuple[str, Any], ...] = ()  # env options of the board (gym.make_vec keywords)
    #: per-patient arrays read from the simulator after each step (kept from a patient's last step)
    from_simulator: Callable[[Any], dict[str, np.ndarray]] | None = field(default=None, repr=False)


class _Constant:
    """The same action for every patient and step."""

    def __init__(self, action: np.ndarray) -> None:
        self.action = np.asarray(action)

    def predict(self, obs: Any, info: Any = None) -> np.ndarray:
        n = np.asarray(obs).shape[0]
        return np.broadcast_to(self.action, (n, *self.action.shape)).copy()


class _PatientKeyedUniform:
    """Uniform random actions drawn per patient from its own key (``hemosim.sim.rng``), so a
    patient's actions do not depend on which other patients share its batch: the rollout
    binds the held-out root seeds (:meth:`bind`); Box: uniform in the bounds, MultiDiscrete:
    uniform over each component."""

    STREAM = 901

    def __init__(self, space: gym.Space) -> None:
        self.space = space
        self._keys: np.ndarray | None = None
        self._t = 0

    def bind(self, seeds: list[int]) -> None:
        from hemosim.sim.rng import patient_key

        self._keys = patient_key(np.asarray(seeds, dtype=np.uint64), 0)
        self._t = 0

    def reset(self) -> None:
        self._t = 0

    def predict(self, obs: Any, info: Any = None) -> np.ndarray:
        from hemosim.sim.rng import uniform

        if self._keys is None or self._keys.shape[0] != np.asarray(obs).shape[0]:
            raise ValueError("bind(seeds) the policy to the batch's patients first")
        dims = int(np.prod(self.space.shape))
        counter = self._t * dims + np.arange(dims)
        u = uniform(self._keys[:, None], self.STREAM, counter[None, :]).reshape(-1, *self.space.shape)
        self._t += 1
        if isinstance(self.space, gym.spaces.MultiDiscrete):
            return np.minimum(np.floor(u * self.space.nvec), self.space.nvec - 1).astype(self.space.dtype)
        low, high = self.space.low, self.space.high
        return np.clip(low + u * (high - low), low, high).astype(self.space.dtype)


def _ttr(key: str, low: float | str, high: float | str) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """Rosendaal TTR (%) of the recorded true value ``key`` (decision times)."""

    def primary(log: dict[str, np.ndarray]) -> np.ndarray:
        from hemosim.metrics import rosendaal_ttr

        values = log[key]
        times = np.arange(values.shape[1], dtype=np.float64)
        lo = log[low][:, 0] if isinstance(low, str) else low  # the patient's target range
        hi = log[high][:, 0] if isinstance(high, str) else high
        return 100.0 * rosendaal_ttr(times, values, lo, hi, max_gap=None)

    return primary


def _doac_hazards(sim: Any) -> dict[str, np.ndarray]:
    return {"hazard_integral": sim.state.hazard_integral.copy(), "days_followed": sim.state.days_followed.astype(float)}


def _expected_ncb_per_100py(log: dict[str, np.ndarray]) -> np.ndarray:
    """Minus the weighted expected events (the integrated hazards of ``hemosim.doac_evaluation``,
    the env's NCB weights) per 100 patient-years: the realised events' expectation, with far
    less noise than the realised net benefit."""
    from hemosim.doac_evaluation import NCB_WEIGHTS, _ncb

    return 100.0 * _ncb(log["hazard_integral"], NCB_WEIGHTS) / (log["days_followed"] / 365.25)


def _survival(log: dict[str, np.ndarray]) -> np.ndarray:
    return 100.0 * (1.0 - log["event_death"].astype(np.float64))


def _warfarin_policies() -> dict[str, Callable[[], Any]]:
    """The guideline protocols, random, and the EU-PACT / COAG trial-arm imitations (day-4
    revision), as ``hemosim evaluate`` runs them (on the env's default population)."""
    from hemosim.cli import _trial_arm_policies, _warfarin_policies as policies

    return {**policies(), **_trial_arm_policies()}


def _heparin_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.calibration.clinical_events import _heparin_policies as policies

    return policies()


def _pomdp_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.agents import heparin_pomdp as a
    from hemosim.agents.policies import RandomPolicy
    from hemosim.envs.heparin_pomdp import HeparinPomdpSimulator

    return {
        "Raschke nomogram on its lab schedule": a.ScheduledRaschke,
        "Anti-Xa nomogram on its lab schedule": a.ScheduledAntiXa,
        "STAT everything hourly (information bound)": a.StatEverythingHourly,
        "No laboratory tests": a.NoLab,
        "Random (uniform)": lambda: RandomPolicy(HeparinPomdpSimulator.action_space, seed=0),
    }


def _doac_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.agents import doac as a

    out: dict[str, Callable[[], Any]] = {}
    for drug in ("apixaban", "rivaroxaban", "dabigatran"):
        out[f"{drug} at label dose, re-checked"] = lambda d=drug: a.LabelDosedDOAC(d, recheck=True)
    out["warfarin (INR-managed)"] = a.WarfarinPolicy
    out["guideline chooser"] = a.GuidelineChooser
    out["random"] = lambda: a.RandomDOACPolicy(3, seed=0)
    return out


def _dic_policies() -> dict[str, Callable[[], Any]]:
    from hemosim.calibration.dic_trials import _policies

    return _policies()


BOARDS: dict[str, Board] = {
    b.env_id: b
    for b in (
        Board("hemosim/WarfarinDosing-v0", "TTR % (true INR)", True, 24.0, _warfarin_policies,
              _ttr("inr", "target_inr_low", "target_inr_high"), ("inr", "target_inr_low", "target_inr_high")),
        Board("hemosim/HeparinInfusion-v0", "aPTT TTR % (46-70 s)", True, 6.0, _heparin_policies,
              _ttr("aptt_true_s", 46.0, 70.0), ("aptt_true_s",)),
        Board("hemosim/HeparinInfusion-POMDP-v0", "aPTT TTR % (46-70 s)", True, 1.0, _pomdp_policies,
              _ttr("aptt_true_s", 46.0, 70.0), ("aptt_true_s",)),
        Board("hemosim/DOACManagement-v0", "expected net clinical benefit /100 PY", True, 365.25 * 24.0 / 12.0,
              _doac_policies, _expected_ncb_per_100py, options=(("drugs", "doacs+warfarin"),),
              from_simulator=_doac_hazards),
        Board("hemosim/DICManagement-v0", "alive at day 7 %", True, 6.0, _dic_policies, _survival),
    )
}

_EVENTS = ("major_bleeding", "thromboembolism", "death")


def _predictor(policy: Any) -> Callable[[np.ndarray, Any], np.ndarray]:
    predict = policy.predict if hasattr(policy, "predict") else policy
    try:
        n_args = len(inspect.signature(predict).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        n_args = 2
    return (lambda obs, info: predict(obs, info)) if n_args >= 2 else (lambda obs, info: predict(obs))


def _rollout(board: Board, policy: Any, seeds: list[int], monitor: bool) -> dict[str, np.ndarray]:
    """One episode per seed; per-patient sums and the recorded keys (until its episode ends)."""
    from hemosim.safety import SafetyLayer

    n = len(seeds)
    env = gym.make_vec(board.env_id, num_envs=n, vectorization_mode="vector_entry_point", **dict(board.options))
    if monitor:
        env = SafetyLayer(env, mode="monitor")
    if hasattr(policy, "reset"):
        policy.reset()
    if hasattr(policy, "bind"):
        policy.bind(seeds)
    predict = _predictor(policy)
    obs, info = env.reset(seed=seeds)
    active = np.ones(n, dtype=bool)
    log: dict[str, Any] = {k: [np.asarray(info[k], dtype=np.float64)] for k in board.record}
    ret, cost, steps, fired = np.zeros(n), np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    events = {k: np.zeros(n, dtype=np.int64) for k in _EVENTS if k in info["events"]}
    last: dict[str, np.ndarray] = {}
    while active.any():
        action = np.asarray(predict(obs, info)).reshape(n, *env.single_action_space.shape)
        obs, reward, terminated, truncated, info = env.step(action.astype(env.single_action_space.dtype))
        ret += np.where(active, reward, 0.0)
        cost += np.where(active, info["cost"], 0.0)
        steps += active
        for k in events:
            events[k] += active & info["events"][k]
        if monitor:
            fired += active & info["safety"]["fired"]
        for k in board.record:  # after the end of an episode the last value is carried
            log[k].append(np.where(active, np.asarray(info[k], dtype=np.float64), log[k][-1]))
        if board.from_simulator is not None:
            for k, v in board.from_simulator(env.unwrapped.sim).items():
                last[k] = v if k not in last else np.where(active.reshape(-1, *([1] * (v.ndim - 1))), v, last[k])
        active &= ~(terminated | truncated)
    env.close()
    out = {k: np.stack(v, axis=1) for k, v in log.items()}
    if board.record:  # trim each patient's trajectory to its own episode (NaN after it)
        t = np.arange(out[board.record[0]].shape[1])
        for k in board.record:
            out[k] = np.where(t[None, :] <= steps[:, None], out[k], np.nan)
    out.update(last)
    out.update({"return": ret, "cost": cost, "steps": steps, "fired": fired})
    out.update({f"event_{k}": v for k, v in events.items()})
    return out


def _mean_ci(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float(np.mean(x)) if x.size else math.nan, math.nan
    return float(x.mean()), float(1.96 * x.std(ddof=1) / math.sqrt(x.size))


def _patient_values(env_id: str, policy: Any, seeds: list[int], monitor: bool) -> dict[str, np.ndarray]:
    """Per-patient values of one policy on ``seeds`` (the rows a leaderboard row aggregates)."""
    board = BOARDS[env_id]
    log = _rollout(board, policy, seeds, monitor)
    out = {k: log[k] for k in ("return", "cost", "steps", "fired")}
    out["metric"] = board.primary(log)
    out.update({k: v for k, v in log.items() if k.startswith("event_")})
    return out


def _sharded_values(env_id: str, policy: Any, seeds: list[int], monitor: bool, shards: int) -> dict[str, np.ndarray]:
    """:func:`_patient_values` with the patients split into ``shards`` contiguous Ray tasks
    (each patient depends only on its seed, so the concatenation equals one process's run)."""
    import ray

    task = ray.remote(_patient_values)
    bounds = np.linspace(0, len(seeds), shards + 1).astype(int)
    parts = ray.get([task.remote(env_id, policy, seeds[a:b], monitor) for a, b in zip(bounds[:-1], bounds[1:]) if b > a])
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def evaluate_policy(env_id: str, policy: Any, n_patients: int = 1000, monitor: bool | None = None,
                    ray_shards: int | None = None) -> dict[str, Any]:
    """One leaderboard row for ``policy`` on the first ``n_patients`` held-out patients
    (``ray_shards``: split the patients over that many Ray tasks; ``ray.init`` first)."""
    from hemosim.safety import has_adapter

    board = BOARDS[env_id]
    seeds = list(HELD_OUT_SEEDS[:n_patients])
    assert_held_out(seeds)
    monitor = has_adapter(env_id) if monitor is None else monitor
    if ray_shards:
        log = _sharded_values(env_id, policy, seeds, monitor, int(ray_shards))
    else:
        log = _patient_values(env_id, policy, seeds, monitor)
    years = float(log["steps"].sum()) * board.step_hours / HOURS_PER_YEAR
    days = float(log["steps"].sum()) * board.step_hours / 24.0
    metric, metric_ci = _mean_ci(log["metric"])
    ret, ret_ci = _mean_ci(log["return"])
    row: dict[str, Any] = {
        "metric": metric, "metric_ci95": metric_ci, "return": ret, "return_ci95": ret_ci,
        "patient_years": years, "cost_per_patient_day": float(log["cost"].sum() / days),
        "cds_fired_pct": 100.0 * float(log["fired"].sum() / log["steps"].sum()) if monitor else None,
        "patients": n_patients,
    }
    for k in _EVENTS:
        if f"event_{k}" in log:
            n_ev = int(log[f"event_{k}"].sum())
            row[f"{k}_events"] = n_ev
            row[f"{k}_per_100py"] = 100.0 * n_ev / years
    return row


def _grid(space: gym.Space) -> list[np.ndarray]:
    if isinstance(space, gym.spaces.MultiDiscrete):
        return [np.array(a, dtype=space.dtype) for a in itertools.product(*(range(int(k)) for k in space.nvec))]
    if isinstance(space, gym.spaces.Box):
        out = []
        for level in np.linspace(0.0, 1.0, 16):
            a = np.asarray(space.low, dtype=space.dtype).copy()
            a.flat[0] = space.low.flat[0] + level * (space.high.flat[0] - space.low.flat[0])
            out.append(a)
        return out
    raise NotImplementedError(type(space))  # pragma: no cover


def best_constant(env_id: str, n_patients: int = 1000) -> tuple[np.ndarray, float]:
    """The constant action with the best mean primary metric on ``n_patients`` training patients."""
    board = BOARDS[env_id]
    seeds = list(TRAIN_SEEDS[:n_patients])
    assert_train(seeds)
    space = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point",
                         **dict(board.options)).single_action_space
    scored = []
    for action in _grid(space):
        value = float(np.nanmean(board.primary(_rollout(board, _Constant(action), seeds, monitor=False))))
        scored.append((value if board.higher_is_better else -value, action))
    score, action = max(scored, key=lambda s: s[0])
    return action, score if board.higher_is_better else -score


def leaderboard(env_ids: list[str] | None = None, n_patients: int = 1000, n_train: int = 1000,
                progress: Callable[[str], None] | None = None,
                agents: dict[str, dict[str, Any]] | None = None, ray_shards: int | None = None) -> dict[str, Any]:
    """Every board's rows: baselines, random, best constant (chosen on training patients) and
    the trained ``agents`` (``{env_id: {name: policy}}``)."""
    out: dict[str, Any] = {}
    for env_id in env_ids or list(BOARDS):
        board = BOARDS[env_id]
        rows = {}
        space = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point",
                             **dict(board.options)).single_action_space
        # the env modules' random policies draw by batch; the board's draws per patient
        policies = {name: make() for name, make in board.policies().items() if not name.lower().startswith("random")}
        policies["random (uniform, drawn per patient)"] = _PatientKeyedUniform(space)
        policies.update((agents or {}).get(env_id, {}))
        for name, policy in policies.items():
            rows[name] = evaluate_policy(env_id, policy, n_patients, ray_shards=ray_shards)
            if progress:
                progress(f"{env_id}: {name}")
        action, train_value = best_constant(env_id, n_train)
        shown = [round(float(x), 3) for x in np.ravel(action)]
        label = f"best constant action {shown} (chosen on training patients: {train_value:.1f})"
        rows[label] = evaluate_policy(env_id, _Constant(action), n_patients, ray_shards=ray_shards)
        out[env_id] = {"metric": board.metric, "higher_is_better": board.higher_is_better, "rows": rows}
    return out


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and not math.isfinite(x):
        return "-"
    return f"{x:,.{digits}f}"


def markdown(board_results: dict[str, Any]) -> str:
    """The leaderboard as Markdown, one table per env, best primary metric first."""
    parts = []
    for env_id, b in board_results.items():
        rows = sorted(b["rows"].items(), key=lambda kv: -kv[1]["metric"] if b["higher_is_better"] else kv[1]["metric"])
        n = next(iter(b["rows"].values()))["patients"]
        parts.append(f"### `{env_id}` ({n:,} held-out patients)\n")
        parts.append(f"| policy | {b['metric']} (95 % CI) | return (95 % CI) | major bleeding /100 PY | "
                     "thromboembolism /100 PY | deaths /100 PY | cost / patient-day | CDS would fire (% steps) |")
        parts.append("|---|---|---|---|---|---|---|---|")
        for name, r in rows:
            parts.append(
                f"| {name} | {_fmt(r['metric'])} ± {_fmt(r['metric_ci95'])} | {_fmt(r['return'], 2)} ± "
                f"{_fmt(r['return_ci95'], 2)} | {_fmt(r.get('major_bleeding_per_100py'))} | "
                f"{_fmt(r.get('thromboembolism_per_100py'))} | {_fmt(r.get('death_per_100py'))} | "
                f"{_fmt(r['cost_per_patient_day'], 3)} | {_fmt(r['cds_fired_pct'])} |"
            )
        parts.append("")
    return "\n".join(parts)
