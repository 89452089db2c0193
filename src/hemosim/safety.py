"""Rule-based clinical decision support: a safety layer around any hemosim env face.

``SafetyLayer(env, mode="enforce" | "monitor", rules=None)`` wraps a single env
(``gymnasium.Wrapper``) or a vector env (``gymnasium.vector.VectorWrapper``; the native
vector env or ``SyncVectorEnv`` of single envs). Before every step it translates the
agent's action into clinical fields (``dose_mg`` or ``rate_u_per_h`` / ``bolus_u``),
checks the rules in order against what the clinician saw last (the measured labs in the
previous ``info``, never the true state) and

* ``enforce``: replaces the fields of each violating patient by the rule's safe fields
  (later rules see the corrected fields) and passes the corrected action on;
* ``monitor`` (silent deployment): computes the same corrections but passes the agent's
  action on unchanged; the trajectory is bit-identical to the unwrapped env.

Each step's ``info["safety"]`` holds ``fired`` (any rule fired), ``overridden`` (the
action passed on differs from the agent's: only in ``enforce``), ``rules`` (a bool per
rule name) and ``episode_firings`` (an int per rule name, the count so far in the
episode: the episode summary, read it on the last step). Vector infos are arrays with
Gymnasium's ``_key`` masks.

Rules are data (:class:`Rule`: name, source, description, condition, safe fields),
vectorised with NumPy over the patients; users extend a rule set by passing their own
list (for example ``WARFARIN_RULES + [my_rule]``). The layer never changes the simulator.

Rule sets
---------
``WARFARIN_RULES``, ``HEPARIN_RULES`` and ``DOAC_RULES``, wired to
``WarfarinDosing-v0``, ``HeparinInfusion-v0`` and ``DOACManagement-v0`` through adapters
(:class:`SafetyAdapter`). ``DOAC_RULES`` are data over named clinical fields (``drug``,
``dose_level``, ``age_y``, ``weight_kg``, ``scr_mg_per_dl``, ``crcl_ml_per_min``,
``verapamil``, ``strong_pgp_inhibitor``, ``strong_cyp3a4_pgp_inhibitor``, ``dialysis``)
built on ``hemosim.label_rules``: a DOAC the label contraindicates is held, a DOAC given is
given at the label's dose level; holding and warfarin are never overridden. The
POMDP heparin env (actions include lab orders) and the DIC env have no adapter yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from hemosim import label_rules

__all__ = [
    "Rule",
    "SafetyAdapter",
    "WarfarinAdapter",
    "HeparinAdapter",
    "DOACAdapter",
    "WARFARIN_RULES",
    "HEPARIN_RULES",
    "DOAC_RULES",
    "apply_rules",
    "SafetyLayer",
    "SafetyVectorLayer",
    "MODES",
]

MODES = ("enforce", "monitor")
Fields = dict[str, np.ndarray]
Context = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Rule:
    """One decision-support rule.

    ``condition(ctx, fields) -> (N,) bool``: the rows where the prescribed ``fields``
    violate the rule given the context ``ctx`` (what the clinician saw);
    ``safe(ctx, fields) -> fields``: the corrected fields (every row; only violating rows
    are used).
    """

    name: str
    source: str
    description: str
    condition: Callable[[Context, Fields], np.ndarray]
    safe: Callable[[Context, Fields], Fields]


def apply_rules(rules: Sequence[Rule], ctx: Context, fields: Fields) -> tuple[Fields, np.ndarray]:
    """Check ``rules`` in order; return the corrected fields and the firings ``(N, R)``.

    Each rule sees the fields as corrected by the rules before it.
    """
    current, fired = _apply_rules_by_rule(rules, ctx, fields)
    return current, fired.T


def _apply_rules_by_rule(rules: Sequence[Rule], ctx: Context, fields: Fields) -> tuple[Fields, np.ndarray]:
    """:func:`apply_rules` with the firings laid out ``(R, N)`` (fast reductions over rules)."""
    n = next(iter(fields.values())).shape[0]
    fired = np.zeros((len(rules), n), dtype=bool)
    current = {k: np.array(v, dtype=np.float64) for k, v in fields.items()}
    for j, rule in enumerate(rules):
        mask = np.asarray(rule.condition(ctx, current), dtype=bool)
        if mask.any():
            fired[j] = mask
            safe = rule.safe(ctx, current)
            for k, v in safe.items():
                current[k] = np.where(mask, v, current[k])
    return current, fired


# -- warfarin ---------------------------------------------------------------------------
WARFARIN_HOLD_INR = 5.0
WARFARIN_LOWER_INR = 4.0
WARFARIN_INITIATION_MAX_DOSE_MG = 10.0
WARFARIN_INITIATION_DAYS = 2
_TOL_MG = 1e-4  # float32 actions: 10 mg arrives as 10.0000001 mg

WARFARIN_RULES: list[Rule] = [
    Rule(
        "warfarin_hold_inr_above_5",
        "CHEST 2008 (INR 5-8.9 without bleeding: omit 1-2 doses), FACTS §7.5",
        "measured INR > 5: hold the dose (0 mg)",
        lambda c, f: (c["inr_measured"] > WARFARIN_HOLD_INR) & (f["dose_mg"] > 0.0),
        lambda c, f: {"dose_mg": np.zeros_like(f["dose_mg"])},
    ),
    Rule(
        "warfarin_halve_inr_4_to_5",
        "CHEST 2008 (INR above range, < 5: lower or omit the dose); Intermountain Table A (INR >= 4.0: hold today), FACTS §2.3 / §7.5",
        "measured INR 4-5: no more than half the mean daily dose of the last 7 days",
        lambda c, f: (c["inr_measured"] >= WARFARIN_LOWER_INR) & (f["dose_mg"] > 0.5 * c["mean_dose_7d_mg"] + _TOL_MG),
        lambda c, f: {"dose_mg": np.minimum(f["dose_mg"], 0.5 * c["mean_dose_7d_mg"])},
    ),
    Rule(
        "warfarin_no_increase_above_range",
        "CHEST 2008 (INR above range but < 5: lower or omit the dose), FACTS §7.5",
        "measured INR above the target range: no dose above the largest of the last 7 days (the current weekly regimen)",
        lambda c, f: (c["inr_measured"] > c["target_inr_high"]) & (c["day"] > 0) & (f["dose_mg"] > c["max_dose_7d_mg"] + _TOL_MG),
        lambda c, f: {"dose_mg": np.minimum(f["dose_mg"], c["max_dose_7d_mg"])},
    ),
    Rule(
        "warfarin_initiation_dose_cap",
        "CHEST 2012 (Holbrook, Chest 141:e152S: start with 10 mg), FACTS §7.5",
        "first two days: no more than 10 mg a day",
        lambda c, f: (c["day"] < WARFARIN_INITIATION_DAYS) & (f["dose_mg"] > WARFARIN_INITIATION_MAX_DOSE_MG + _TOL_MG),
        lambda c, f: {"dose_mg": np.minimum(f["dose_mg"], WARFARIN_INITIATION_MAX_DOSE_MG)},
    ),
]

# -- heparin ----------------------------------------------------------------------------
UFH_BOLUS_CAP_U = 10_000.0
UFH_INITIAL_RATE_CAP_U_PER_H = 1_800.0
UFH_HIGH_APTT_S = 90.0
UFH_HIGH_APTT_DECREASE_U_PER_KG_H = 3.0
UFH_STOP_APTT_S = 200.0
UFH_PLATELET_FALL = 0.3
UFH_PLATELETS_NOTIFY_10E9_PER_L = 100.0
UFH_HIT_LIKELY_4TS = 6
_STEP_H = 6.0


def _raschke_high_rate(c: Context, f: Fields) -> np.ndarray:
    """Raschke > 90 s: hold 1 h, then previous rate - 3 U/kg/h, as the mean rate over 6 h."""
    new = np.maximum(c["previous_rate_u_per_h"] - UFH_HIGH_APTT_DECREASE_U_PER_KG_H * c["weight_kg"], 0.0)
    return new * (_STEP_H - 1.0) / _STEP_H


def _no_heparin(c: Context, f: Fields) -> Fields:
    """Safe fields of the stop rules: no infusion and no bolus for the step."""
    return {"rate_u_per_h": np.zeros_like(f["rate_u_per_h"]), "bolus_u": np.zeros_like(f["bolus_u"])}


HEPARIN_RULES: list[Rule] = [
    Rule(
        "ufh_bolus_cap",
        "University of Michigan VTE protocol (bolus cap 10,000 U), FACTS §7.5",
        "no bolus above 10,000 U",
        lambda c, f: f["bolus_u"] > UFH_BOLUS_CAP_U,
        lambda c, f: {"bolus_u": np.minimum(f["bolus_u"], UFH_BOLUS_CAP_U)},
    ),
    Rule(
        "ufh_initial_rate_cap",
        "University of Michigan VTE protocol; JECT 2023 (initial rate cap 1,800 U/h), FACTS §7.5",
        "first infusion rate no more than 1,800 U/h",
        lambda c, f: (c["hours"] <= 0.0) & (f["rate_u_per_h"] > UFH_INITIAL_RATE_CAP_U_PER_H),
        lambda c, f: {"rate_u_per_h": np.minimum(f["rate_u_per_h"], UFH_INITIAL_RATE_CAP_U_PER_H)},
    ),
    Rule(
        "ufh_stop_aptt_critical",
        "critical aPTT >= 200 s (OHSU); JECT 2023 Table 2 (> 200 s once: hold and notify), FACTS §7.5",
        "measured aPTT >= 200 s (the critical value): stop the infusion for the step, no bolus",
        lambda c, f: (c["aptt_s"] >= UFH_STOP_APTT_S) & ((f["rate_u_per_h"] > 0.0) | (f["bolus_u"] > 0.0)),
        _no_heparin,
    ),
    Rule(
        "ufh_hold_decrease_aptt_above_90",
        "Raschke 1993 nomogram (aPTT > 90 s: hold 1 h, decrease 3 U/kg/h), FACTS §4.1 / §7.5",
        "measured aPTT > 90 s: the rate must come down and no bolus; else (previous rate - 3 U/kg/h) after a 1-h hold",
        lambda c, f: (c["aptt_s"] > UFH_HIGH_APTT_S) & (c["hours"] > 0.0)
        & ((f["rate_u_per_h"] >= c["previous_rate_u_per_h"]) | (f["bolus_u"] > 0.0)),
        lambda c, f: {"rate_u_per_h": np.minimum(f["rate_u_per_h"], _raschke_high_rate(c, f)), "bolus_u": np.zeros_like(f["bolus_u"])},
    ),
    Rule(
        "ufh_no_bolus_platelet_fall",
        "Raschke-based order set (notify if platelets < 100 x10^9/L), Lo 2006 4Ts (fall >= 30 %), FACTS §7.4 / §7.5",
        "no bolus when platelets fell >= 30 % from the first count or are < 100 x10^9/L",
        lambda c, f: ((c["platelets"] < (1.0 - UFH_PLATELET_FALL) * c["platelets_start"]) | (c["platelets"] < UFH_PLATELETS_NOTIFY_10E9_PER_L))
        & (f["bolus_u"] > 0.0),
        lambda c, f: {"bolus_u": np.zeros_like(f["bolus_u"])},
    ),
    Rule(
        "ufh_stop_hit_likely",
        "ASH 2018 HIT guideline (Cuker, Blood Adv 2:3360; 4Ts-driven management; 'stop heparin' wording UNCONFIRMED), FACTS §7.4",
        "4Ts score >= 6 (high probability of HIT): no heparin",
        lambda c, f: (c["hit_4ts"] >= UFH_HIT_LIKELY_4TS) & ((f["rate_u_per_h"] > 0.0) | (f["bolus_u"] > 0.0)),
        _no_heparin,
    ),
]

# -- DOACs (fields for the DOAC environment to wire) --------------------------------------


#: a dose level that holds the drug (``DOACManagement-v0``'s dose index 2; the label's
#: CONTRAINDICATED level is also "do not give")
DOAC_HOLD = label_rules.CONTRAINDICATED


def _doac_label_level(c: Context, f: Fields) -> np.ndarray:
    """The label dose level (``label_rules``) of the prescribed drug (index into DRUGS);
    -1 for a drug the label rules do not cover (warfarin, index 3 of the DOAC env)."""
    drug = np.asarray(f["drug"], dtype=np.int64)
    out = np.full(drug.shape[0], -1, dtype=np.int64)
    for d, name in enumerate(label_rules.DRUGS):
        rows = drug == d
        if rows.any():
            sub = {k: np.broadcast_to(np.asarray(c[k]), drug.shape)[rows] for k in (
                "age_y", "weight_kg", "scr_mg_per_dl", "crcl_ml_per_min", "verapamil", "strong_pgp_inhibitor",
                "strong_cyp3a4_pgp_inhibitor", "dialysis")}
            out[rows] = label_rules.dose_level(name, **sub)
    return out


DOAC_RULES: list[Rule] = [
    Rule(
        "doac_contraindicated",
        "EU SmPCs via hemosim.label_rules (CrCl, dialysis, interacting drugs), FACTS §6.3 / §7.5",
        "the label says do not use this drug for this patient: hold (dose level CONTRAINDICATED)",
        lambda c, f: (_doac_label_level(c, f) == label_rules.CONTRAINDICATED) & (f["dose_level"] != label_rules.CONTRAINDICATED),
        lambda c, f: {"dose_level": np.full_like(f["dose_level"], label_rules.CONTRAINDICATED)},
    ),
    Rule(
        "doac_label_dose",
        "EU SmPCs via hemosim.label_rules (age, weight, creatinine, CrCl, verapamil), FACTS §6.3 / §7.5",
        "an allowed drug, when given, must be at its label dose level (standard or reduced); holding is always allowed",
        lambda c, f: (lambda lvl: (lvl >= 0) & (lvl != label_rules.CONTRAINDICATED) & (f["dose_level"] != lvl)
                      & (f["dose_level"] != DOAC_HOLD))(_doac_label_level(c, f)),
        lambda c, f: {"dose_level": _doac_label_level(c, f).astype(np.float64)},
    ),
]


# -- adapters: actions <-> clinical fields, info -> context ----------------------------------


class SafetyAdapter:
    """Maps one env's actions to clinical fields and back, and its info to the rules' context."""

    rules: list[Rule] = []

    def fields(self, action: np.ndarray, ctx: Context) -> Fields:  # pragma: no cover - interface
        raise NotImplementedError

    def action(self, fields: Fields, ctx: Context, like: np.ndarray) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def context(self, info: Mapping[str, Any], state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:  # pragma: no cover
        raise NotImplementedError


def _col(info: Mapping[str, Any], key: str) -> np.ndarray:
    return np.atleast_1d(np.asarray(info[key], dtype=np.float64))


class WarfarinAdapter(SafetyAdapter):
    """``WarfarinDosing-v0``: ``dose_mg = 15 * action[0]``."""

    rules = WARFARIN_RULES

    def __init__(self) -> None:
        from hemosim.envs.warfarin import MAX_DOSE_MG

        self.max_dose_mg = MAX_DOSE_MG

    def fields(self, action, ctx):
        return {"dose_mg": np.asarray(action, dtype=np.float64)[:, 0] * self.max_dose_mg}

    def action(self, fields, ctx, like):
        out = np.array(like, dtype=np.float32, copy=True)
        out[:, 0] = np.clip(fields["dose_mg"] / self.max_dose_mg, 0.0, 1.0)
        return out

    def context(self, info, state):
        day = _col(info, "day")
        dose = _col(info, "dose_mg")
        recent = state.get("recent_doses_mg")  # ring buffer of the last 7 prescribed doses
        if recent is None or recent.shape[1] != day.shape[0]:
            recent = state["recent_doses_mg"] = np.zeros((7, day.shape[0]))  # (day slot, patient)
            state["slot"] = 0
        slot = state["slot"] = (state["slot"] + 1) % 7
        recent[slot] = dose
        new = day <= 0
        if new.any():
            recent[:, new] = 0.0  # a new patient
        return {
            "inr_measured": _col(info, "inr_measured"),
            "target_inr_high": _col(info, "target_inr_high"),
            "day": day,
            "previous_dose_mg": dose,
            "max_dose_7d_mg": np.maximum.reduce(recent, axis=0),
            "mean_dose_7d_mg": np.add.reduce(recent, axis=0) / np.clip(day, 1.0, 7.0),
        }


class HeparinAdapter(SafetyAdapter):
    """``HeparinInfusion-v0``: ``rate = 2500 a0`` U/h, ``bolus = 80 a1 weight`` U."""

    rules = HEPARIN_RULES

    def __init__(self) -> None:
        from hemosim.envs.heparin import BOLUS_U_PER_KG, MAX_RATE_U_PER_H

        self.max_rate, self.bolus_per_kg = MAX_RATE_U_PER_H, BOLUS_U_PER_KG

    def fields(self, action, ctx):
        a = np.asarray(action, dtype=np.float64)
        return {"rate_u_per_h": a[:, 0] * self.max_rate, "bolus_u": a[:, 1] * self.bolus_per_kg * ctx["weight_kg"]}

    def action(self, fields, ctx, like):
        out = np.array(like, dtype=np.float32, copy=True)
        out[:, 0] = np.clip(fields["rate_u_per_h"] / self.max_rate, 0.0, 1.0)
        out[:, 1] = np.clip(fields["bolus_u"] / (self.bolus_per_kg * ctx["weight_kg"]), 0.0, 1.0)
        return out

    def context(self, info, state):
        hours = _col(info, "hours")
        platelets = _col(info, "platelets")
        start = state.get("platelets_start")
        if start is None or start.shape != platelets.shape:
            start = platelets.copy()
        start = np.where(hours <= 0.0, platelets, start)  # a new patient: its first count
        state["platelets_start"] = start
        n = hours.shape[0]
        return {
            "aptt_s": _col(info, "aptt"),
            "platelets": platelets,
            "platelets_start": start,
            "hours": hours,
            "previous_rate_u_per_h": _col(info, "rate_u_per_h"),
            "weight_kg": np.atleast_1d(np.asarray(info["patient"]["weight_kg"], dtype=np.float64)),
            "hit_4ts": _col(info, "hit_4ts") if "hit_4ts" in info else np.zeros(n),
        }


class DOACAdapter(SafetyAdapter):
    """``DOACManagement-v0``: ``action = (drug, dose level)``; the layer changes only the
    dose level (to the label's level, or to hold when the label contraindicates the drug).
    Context: the visit's measured values, as the env's ``info["label_dose_level"]`` uses them;
    the cohort has no strong P-gp / CYP3A4 inhibitors and no dialysis."""

    rules = DOAC_RULES

    def fields(self, action, ctx):
        a = np.asarray(action)
        return {"drug": a[:, 0].astype(np.float64), "dose_level": a[:, 1].astype(np.float64)}

    def action(self, fields, ctx, like):
        out = np.array(like, copy=True)
        out[:, 1] = fields["dose_level"].astype(out.dtype)
        return out

    def context(self, info, state):
        age = _col(info, "age_y")
        none = np.zeros(age.shape[0], dtype=bool)
        return {
            "age_y": np.minimum(age, 130.0),
            "weight_kg": _col(info, "weight_kg"),
            "scr_mg_per_dl": np.clip(_col(info, "scr_measured_mg_per_dl"), 0.01, 40.0),
            "crcl_ml_per_min": np.minimum(_col(info, "crcl_measured_ml_per_min"), 1000.0),
            "verapamil": np.atleast_1d(np.asarray(info["patient"]["verapamil"], dtype=bool)),
            "strong_pgp_inhibitor": none,
            "strong_cyp3a4_pgp_inhibitor": none,
            "dialysis": none,
        }


#: the env ids that have a built-in adapter (:func:`_adapter_for`)
ADAPTED_ENV_IDS = ("hemosim/WarfarinDosing-v0", "hemosim/HeparinInfusion-v0", "hemosim/DOACManagement-v0")


def has_adapter(env_id: str) -> bool:
    """Whether ``SafetyLayer`` has a built-in adapter for the env ``env_id``."""
    return env_id in ADAPTED_ENV_IDS


def _adapter_for(env: Any) -> SafetyAdapter:
    from hemosim.envs.doac import DoacSimulator
    from hemosim.envs.heparin import HeparinSimulator
    from hemosim.envs.warfarin import WarfarinSimulator

    base = env.unwrapped
    sim = getattr(base, "sim", None)
    if sim is None and hasattr(base, "envs"):  # SyncVectorEnv of single envs
        sim = getattr(base.envs[0].unwrapped, "sim", None)
    if isinstance(sim, WarfarinSimulator):
        return WarfarinAdapter()
    if isinstance(sim, HeparinSimulator):
        return HeparinAdapter()
    if isinstance(sim, DoacSimulator):
        return DOACAdapter()
    raise ValueError(
        f"no safety adapter for {type(base).__name__}; SafetyLayer supports hemosim/WarfarinDosing-v0, "
        "hemosim/HeparinInfusion-v0 and hemosim/DOACManagement-v0 (pass adapter=... for another env)"
    )


class _LayerCore:
    """The mode, rules, adapter and per-patient episode counts shared by both faces."""

    def _setup(self, env: Any, mode: str, rules: Sequence[Rule] | None, adapter: SafetyAdapter | None) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; allowed: {list(MODES)}")
        self.mode = mode
        info_level = getattr(env.unwrapped, "info_level", "full")
        if info_level != "full":
            raise ValueError(
                f"the safety layer reads the env's info every step (lab values, patient covariates); "
                f"make the env with info_level='full', got {info_level!r}"
            )
        self.adapter = adapter if adapter is not None else _adapter_for(env)
        self.rules = list(self.adapter.rules if rules is None else rules)
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"rule names must be unique, got {names}")
        self.rule_names = tuple(names)
        self._ctx_state: dict[str, np.ndarray] = {}
        self._last_info: Mapping[str, Any] | None = None
        self._counts: np.ndarray | None = None

    def _check(self, action: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(action to pass on, firings (R, N), overridden (N,)) for a batch of actions."""
        if self._last_info is None:
            raise RuntimeError("call reset() before step()")
        ctx = self.adapter.context(self._last_info, self._ctx_state)
        fields = self.adapter.fields(action, ctx)
        corrected, fired = _apply_rules_by_rule(self.rules, ctx, fields)
        fired &= active
        self._counts += fired
        changed = np.logical_or.reduce(fired, axis=0)
        if self.mode == "monitor" or not changed.any():
            return action, fired, np.zeros(action.shape[0], dtype=bool)
        safe = self.adapter.action(corrected, ctx, action)
        out = np.where(changed[:, None], safe, action).astype(action.dtype, copy=False)
        differs = out[:, 0] != action[:, 0]
        for j in range(1, action.shape[1]):  # column loop: reductions over a short inner axis are slow
            differs |= out[:, j] != action[:, j]
        return out, fired, changed & differs

    def _safety_info(self, fired: np.ndarray, overridden: np.ndarray) -> dict[str, Any]:
        return {
            "fired": np.logical_or.reduce(fired, axis=0),
            "overridden": overridden,
            "rules": {name: fired[j].copy() for j, name in enumerate(self.rule_names)},
            "episode_firings": {name: self._counts[j].copy() for j, name in enumerate(self.rule_names)},
        }


class SafetyLayer(_LayerCore, gym.Wrapper):
    """The CDS layer around a single env; ``SafetyLayer(vector_env)`` returns a
    :class:`SafetyVectorLayer` (see the module docstring)."""

    def __new__(cls, env: Any, *args: Any, **kwargs: Any):
        if cls is SafetyLayer and isinstance(env, VectorEnv):
            return SafetyVectorLayer(env, *args, **kwargs)
        return super().__new__(cls)

    def __init__(self, env: gym.Env, mode: str = "enforce", rules: Sequence[Rule] | None = None,
                 adapter: SafetyAdapter | None = None) -> None:
        gym.Wrapper.__init__(self, env)
        self._setup(env, mode, rules, adapter)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self._last_info = info
        self._ctx_state = {}
        self._counts = np.zeros((len(self.rules), 1), dtype=np.int64)
        info = dict(info)
        info["safety"] = _scalars(self._safety_info(np.zeros((len(self.rules), 1), dtype=bool), np.zeros(1, dtype=bool)))
        return obs, info

    def step(self, action: Any):
        batch = np.asarray(action)[None]
        out, fired, overridden = self._check(batch, np.ones(1, dtype=bool))
        passed = action if out is batch else out[0].astype(self.env.action_space.dtype)
        obs, reward, terminated, truncated, info = self.env.step(passed)
        self._last_info = info
        info = dict(info)
        info["safety"] = _scalars(self._safety_info(fired, overridden))
        return obs, reward, terminated, truncated, info


class SafetyVectorLayer(_LayerCore, VectorWrapper):
    """The CDS layer around a vector env (``NEXT_STEP`` autoreset: rows being reset are
    neither checked nor counted, and their episode counts restart)."""

    def __init__(self, env: VectorEnv, mode: str = "enforce", rules: Sequence[Rule] | None = None,
                 adapter: SafetyAdapter | None = None) -> None:
        VectorWrapper.__init__(self, env)
        self._setup(env, mode, rules, adapter)
        self._resetting = np.zeros(env.num_envs, dtype=bool)

    def reset(self, *, seed: Any = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        n = self.num_envs
        self._last_info = info
        self._ctx_state = {}
        self._counts = np.zeros((len(self.rules), n), dtype=np.int64)
        self._resetting = np.zeros(n, dtype=bool)
        info = dict(info)
        info["safety"] = _with_masks(self._safety_info(np.zeros((len(self.rules), n), dtype=bool), np.zeros(n, dtype=bool)), n)
        info["_safety"] = np.ones(n, dtype=bool)
        return obs, info

    def step(self, actions: Any):
        actions = np.asarray(actions)
        active = ~self._resetting
        self._counts[:, self._resetting] = 0
        out, fired, overridden = self._check(actions, active)
        obs, reward, terminated, truncated, info = self.env.step(out)
        self._resetting = np.asarray(terminated) | np.asarray(truncated)
        self._last_info = info
        info = dict(info)
        n = self.num_envs
        info["safety"] = _with_masks(self._safety_info(fired, overridden), n)
        info["_safety"] = np.ones(n, dtype=bool)
        return obs, reward, terminated, truncated, info


def _scalars(tree: dict[str, Any]) -> dict[str, Any]:
    return {k: _scalars(v) if isinstance(v, dict) else v.item(0) for k, v in tree.items()}


def _with_masks(tree: dict[str, Any], n: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in tree.items():
        out[k] = _with_masks(v, n) if isinstance(v, dict) else v
        out["_" + k] = np.ones(n, dtype=bool)
    return out
