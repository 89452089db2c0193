"""``hemosim simulate``: what does the model predict for *this* patient on *this* regimen?

One patient (given by flags or a JSON / TOML file, the keys of the env's
``options["patient"]``; everything not given is drawn from the population given the rest)
is run through one env on one regimen (a constant dose, a dose list, or a named baseline
protocol; for the DOAC and DIC envs, whose actions are choices, a constant ``--action`` or a
protocol). The course is printed as a day-by-day (warfarin), visit-by-visit (DOAC) or
step-by-step (heparin and DIC, every 6 h) table and drawn as a PNG: the lab value with its
target (or reference) band, the doses and the clinical events; ``--band N`` overlays the 5-95 % band of N population patients with
the same covariates (random effects and within-episode noise drawn; same regimen, same
scenario).

A patient file holds either the patient's keys, or ``{"patient": {...}, "scenario":
{...}}``. Flags ``--set KEY=VALUE`` (patient) and ``--scenario KEY=VALUE`` override it;
a VALUE is read as JSON when it parses (``70``, ``true``, ``[3, 4]``) and as a string
otherwise (``*1/*3``, ``F``). Validation is the env's own: an unknown key, a value out of
range or of the wrong type is an error naming the key and what is allowed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

__all__ = ["SIMULATE_ENVS", "Course", "simulate", "course_table", "plot_course", "load_patient_file", "parse_assignments"]


@dataclass(frozen=True)
class _EnvPlan:
    env_id: str
    step_name: str  # "day" / "hour"
    step_length: float  # x units per step
    dose_unit: str
    lab_key: str
    lab_measured_key: str
    lab_label: str
    protocols: tuple[str, ...]
    covariates: tuple[str, ...]  # patient keys held fixed for the population band
    max_steps: int
    x_key: str = "day"
    #: (header, info key, format) of the generic table (envs without a dose in clinical units)
    columns: tuple[tuple[str, str, str], ...] = ()
    #: (info key, label) of the generic chart's second and third panels
    panels: tuple[tuple[tuple[str, str], ...], ...] = ()


SIMULATE_ENVS: dict[str, _EnvPlan] = {
    "warfarin": _EnvPlan(
        "hemosim/WarfarinDosing-v0", "day", 1.0, "mg/day", "inr", "inr_measured", "INR",
        ("fixed-dose", "iwpc-pharmacogenetic", "iwpc-clinical", "gage2008", "eu-pact-genotype", "eu-pact-standard",
         "coag-genotype", "coag-clinical"),
        ("ancestry", "sex", "age_years", "weight_kg", "height_cm", "cyp2c9", "vkorc1", "amiodarone",
         "enzyme_inducer", "smoker", "dvt_pe", "target_inr"),
        90,
    ),
    "heparin": _EnvPlan(
        "hemosim/HeparinInfusion-v0", "hour", 6.0, "U/h", "aptt_true_s", "aptt", "aPTT (s)",
        ("raschke", "standard-care", "anti-xa"),
        ("female", "age_years", "weight_kg", "creatinine_mg_per_dl", "baseline_aptt_s", "baseline_platelets_10e9_per_l",
         "hit", "hit_onset_h", "hit_fall_fraction"),  # the HIT course is heparin's scenario
        20, "hours",
    ),
    "doac": _EnvPlan(
        "hemosim/DOACManagement-v0", "day", 30.0, "action (drug, dose level)", "crcl_true_ml_per_min",
        "crcl_measured_ml_per_min", "CrCl (mL/min)",
        ("label-apixaban", "label-rivaroxaban", "label-dabigatran", "guideline"),
        ("age_years", "female", "weight_kg", "creatinine_mg_per_dl", "chf", "hypertension", "uncontrolled_hypertension",
         "diabetes", "prior_stroke", "vascular_disease", "bleeding_history", "liver_disease", "antiplatelet", "alcohol",
         "verapamil", "ttr", "adherence"),
        12, "day",
        (("drug", "drug", "d"), ("level", "dose_level", "d"), ("dose mg", "dose_mg", ".1f"),
         ("conc ng/mL", "concentration_ng_per_ml", ".1f"), ("CrCl", "crcl_true_ml_per_min", ".1f"),
         ("CrCl seen", "crcl_measured_ml_per_min", ".1f"), ("CHA2DS2-VASc", "cha2ds2_vasc", "d"), ("HAS-BLED", "has_bled", "d")),
        ((("concentration_ng_per_ml", "DOAC (ng/mL)"),), (("drug", "drug"), ("dose_level", "dose level"))),
    ),
    "dic": _EnvPlan(
        "hemosim/DICManagement-v0", "hour", 6.0, "action (FFP, platelets, cryo, heparin)", "platelets_10e9_per_l",
        "platelets_measured_10e9_per_l", "platelets (x10^9/L)",
        ("bcsh2009", "isth2013", "transfuse-to-normal", "no-treatment"),
        ("cause", "course", "weight_kg", "base_platelets_10e9_per_l", "base_fibrinogen_g_per_l", "base_ii_pct",
         "base_v_pct", "base_vii_pct", "base_viii_pct", "base_ix_pct", "base_x_pct", "base_antithrombin_pct"),
        28, "hours",
        (("FFP mL/kg", "ffp_ml_per_kg", ".0f"), ("plt doses", "platelet_doses", "d"), ("cryo", "cryo_doses", "d"),
         ("heparin", "heparin_level", "d"), ("plt", "platelets_10e9_per_l", ".0f"), ("fib g/L", "fibrinogen_g_per_l", ".2f"),
         ("PT s", "pt_s", ".1f"), ("ISTH", "isth_score", "d")),
        ((("fibrinogen_g_per_l", "fibrinogen (g/L)"),),
         (("ffp_ml_per_kg", "FFP (mL/kg)"), ("platelet_doses", "platelet doses"), ("cryo_doses", "cryo doses"),
          ("heparin_level", "heparin level"))),
    ),
}
#: envs whose regimen is a raw action (``--action``) or a protocol, not a dose
_ACTION_ENVS = ("doac", "dic")


def load_patient_file(path: str | Path) -> dict[str, Any]:
    """``{"patient": ..., "scenario": ...}`` from a JSON or TOML file (either layout)."""
    path = Path(path)
    text = path.read_text()
    if path.suffix.lower() == ".toml":
        import tomllib

        data = tomllib.loads(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a patient file must hold a table / object, got {type(data).__name__}")
    if set(data) <= {"patient", "scenario"} and data:
        return {k: dict(v) for k, v in data.items()}
    return {"patient": data}


def parse_assignments(items: Sequence[str] | None, what: str) -> dict[str, Any]:
    """``["age_years=70", "cyp2c9=*1/*3"]`` -> dict (JSON values where they parse)."""
    out: dict[str, Any] = {}
    for item in items or ():
        if "=" not in item:
            raise ValueError(f"{what} {item!r} must be KEY=VALUE")
        key, raw = item.split("=", 1)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


# -- regimens --------------------------------------------------------------------------------
class _Regimen:
    """Actions for a batch of patients, step by step (one regimen for every row)."""

    def __init__(self, env: str, dose: float | None, doses: Sequence[float] | None, protocol: str | None,
                 bolus_u: float = 0.0, action: Sequence[int] | None = None) -> None:
        given = [x is not None for x in (dose, doses, protocol, action)]
        if sum(given) != 1:
            raise ValueError("give exactly one regimen: --dose, --doses, --action or --protocol")
        self.env, self.dose, self.doses, self.protocol_name, self.bolus_u = env, dose, doses, protocol, float(bolus_u)
        self.action = None if action is None else np.asarray(action, dtype=np.int64)
        plan = SIMULATE_ENVS[env]
        if protocol is not None and protocol not in plan.protocols:
            raise ValueError(f"unknown {env} protocol {protocol!r}; allowed: {list(plan.protocols)}")
        if env in _ACTION_ENVS:
            if dose is not None or doses is not None or bolus_u:
                raise ValueError(f"{env} takes --action (the env's MultiDiscrete action) or --protocol, not doses")
            self.policy = self._protocol() if protocol is not None else None
            return
        if action is not None:
            raise ValueError(f"{env} takes --dose, --doses or --protocol, not --action")
        values = [dose] if dose is not None else list(doses or [])
        if doses is not None and not values:
            raise ValueError("--doses needs at least one dose")
        from hemosim.envs.heparin import MAX_RATE_U_PER_H
        from hemosim.envs.warfarin import MAX_DOSE_MG

        top = MAX_DOSE_MG if env == "warfarin" else MAX_RATE_U_PER_H
        for v in values:
            if not np.isfinite(v) or not 0.0 <= v <= top:
                raise ValueError(f"dose {v} {plan.dose_unit} is outside the action range [0, {top:g}] {plan.dose_unit}")
        if env == "warfarin" and bolus_u:
            raise ValueError("--bolus is a heparin option")
        self.policy = self._protocol() if protocol is not None else None

    def _protocol(self) -> Any:
        if self.env == "doac":
            from hemosim.agents import doac as d

            if self.protocol_name == "guideline":
                return d.GuidelineChooser()
            return d.LabelDosedDOAC(self.protocol_name.split("-", 1)[1])
        if self.env == "dic":
            from hemosim.agents import dic as c

            return {"bcsh2009": c.BCSH2009Policy, "isth2013": c.ISTH2013Policy,
                    "transfuse-to-normal": c.TransfuseToNormalPolicy, "no-treatment": c.NoTreatmentPolicy}[self.protocol_name]()
        if self.env == "warfarin":
            from hemosim.agents import warfarin as w
            from hemosim.agents import warfarin_trials as wt

            return {
                "fixed-dose": w.WarfarinClinicalBaseline, "iwpc-pharmacogenetic": w.IWPCPharmacogeneticBaseline,
                "iwpc-clinical": w.IWPCClinicalBaseline, "gage2008": w.Gage2008Baseline,
                "eu-pact-genotype": wt.EUPACTGenotypeArm, "eu-pact-standard": wt.EUPACTStandardArm,
                "coag-genotype": wt.COAGGenotypeArm, "coag-clinical": wt.COAGClinicalArm,
            }[self.protocol_name]()
        from hemosim.agents import heparin as h

        return {"raschke": h.RaschkeNomogram, "standard-care": h.StandardCareNomogram,
                "anti-xa": h.AntiXaNomogram}[self.protocol_name]()

    def describe(self) -> str:
        unit = SIMULATE_ENVS[self.env].dose_unit
        if self.protocol_name:
            return f"protocol {self.protocol_name}"
        if self.action is not None:
            return f"constant {unit} = {', '.join(str(int(a)) for a in self.action)}"
        if self.dose is not None:
            text = f"constant {self.dose:g} {unit}"
        else:
            text = f"dose list {', '.join(f'{d:g}' for d in self.doses)} {unit} (last repeated)"
        return text + (f", bolus {self.bolus_u:g} U at start" if self.bolus_u else "")

    def actions(self, obs: np.ndarray, info: Mapping[str, Any], step: int) -> np.ndarray:
        n = obs.shape[0]
        if self.env in _ACTION_ENVS:
            if self.policy is not None:
                return np.asarray(self.policy.predict(obs, info), dtype=np.int64).reshape(n, -1)
            return np.tile(self.action, (n, 1))
        if self.policy is not None:
            if self.env == "warfarin":
                return np.asarray(self.policy.predict(obs, info), dtype=np.float32).reshape(n, 1)
            return np.asarray(self.policy.predict(obs), dtype=np.float32).reshape(n, 2)
        value = self.dose if self.dose is not None else self.doses[min(step, len(self.doses) - 1)]
        if self.env == "warfarin":
            from hemosim.envs.warfarin import MAX_DOSE_MG

            return np.full((n, 1), value / MAX_DOSE_MG, dtype=np.float32)
        from hemosim.envs.heparin import BOLUS_U_PER_KG, MAX_RATE_U_PER_H

        act = np.zeros((n, 2), dtype=np.float32)
        act[:, 0] = value / MAX_RATE_U_PER_H
        if step == 0 and self.bolus_u:
            weight = np.asarray(info["patient"]["weight_kg"], dtype=np.float64)
            frac = self.bolus_u / (BOLUS_U_PER_KG * weight)
            if np.any(frac > 1.0):
                raise ValueError(
                    f"bolus {self.bolus_u:g} U exceeds the action's maximum of {BOLUS_U_PER_KG:g} U/kg "
                    f"({BOLUS_U_PER_KG * weight.min():.0f} U for {weight.min():.1f} kg)"
                )
            act[:, 1] = frac
        return act


# -- running ---------------------------------------------------------------------------------
@dataclass
class Course:
    """One simulated course: per-step rows, the patient used, and an optional band."""

    env: str
    env_id: str
    regimen: str
    seed: int
    difficulty: str
    patient: dict[str, Any]
    scenario: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    band: dict[str, np.ndarray] | None = None
    band_patients: int = 0


def _run(env_name: str, options: Mapping[str, Any], regimen: _Regimen, seed: int, difficulty: str,
         steps: int, n: int) -> list[dict[str, Any]]:
    """Run ``n`` patients (vector env seeded ``seed``); per step a dict of (n,) arrays."""
    import gymnasium as gym

    import hemosim  # noqa: F401  (registers the ids)

    plan = SIMULATE_ENVS[env_name]
    env = gym.make_vec(plan.env_id, num_envs=n, vectorization_mode="vector_entry_point", difficulty=difficulty)
    try:
        obs, info = env.reset(seed=seed, options=dict(options))
        if regimen.policy is not None:
            regimen.policy.reset()
        out = [_record(info, None, plan)]
        for t in range(steps):
            act = regimen.actions(obs, info, t)
            obs, _, term, trunc, info = env.step(act)
            out.append(_record(info, act, plan))
            if np.all(term | trunc):
                break
        return out
    finally:
        env.close()


def _record(info: Mapping[str, Any], act: np.ndarray | None, plan: _EnvPlan) -> dict[str, Any]:
    rec = {k: np.asarray(v).copy() for k, v in info.items() if not k.startswith("_") and not isinstance(v, dict)}
    rec["events"] = {k: np.asarray(v).copy() for k, v in info.get("events", {}).items() if not k.startswith("_")}
    rec["patient"] = {k: np.asarray(v).copy() for k, v in info["patient"].items() if not k.startswith("_")}
    if "scenario" in info:
        rec["scenario"] = {k: np.asarray(v).copy() for k, v in info["scenario"].items() if not k.startswith("_")}
    return rec


def _scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _row(rec: Mapping[str, Any], i: int) -> dict[str, Any]:
    out = {k: _scalar(v[i]) if v.ndim == 1 else v[i] for k, v in rec.items() if isinstance(v, np.ndarray)}
    out["events"] = [k for k, v in rec["events"].items() if bool(v[i])]
    return out


def simulate(
    env: str,
    patient: Mapping[str, Any] | None = None,
    scenario: Mapping[str, Any] | None = None,
    *,
    dose: float | None = None,
    doses: Sequence[float] | None = None,
    protocol: str | None = None,
    bolus_u: float = 0.0,
    seed: int = 0,
    difficulty: str = "medium",
    steps: int | None = None,
    band: int = 0,
    action: Sequence[int] | None = None,
) -> Course:
    """Simulate one patient on one regimen (see the module docstring)."""
    if env not in SIMULATE_ENVS:
        raise ValueError(f"unknown env {env!r}; allowed: {sorted(SIMULATE_ENVS)}")
    plan = SIMULATE_ENVS[env]
    steps = plan.max_steps if steps is None else int(steps)
    if not 1 <= steps <= plan.max_steps:
        raise ValueError(f"steps must be in [1, {plan.max_steps}] for {env}, got {steps}")
    regimen = _Regimen(env, dose, doses, protocol, bolus_u, action)
    options: dict[str, Any] = {"patient": dict(patient or {})}
    if scenario:
        options["scenario"] = dict(scenario)
    recs = _run(env, options, regimen, seed, difficulty, steps, 1)
    used_patient = {k: _scalar(v[0]) for k, v in recs[0]["patient"].items()}
    used_scenario = {k: _scalar(v[0]) for k, v in recs[0].get("scenario", {}).items()}
    course = Course(env, plan.env_id, regimen.describe(), seed, difficulty, used_patient, used_scenario,
                    [_row(r, 0) for r in recs])
    for before, row in zip(course.rows, course.rows[1:]):  # scenario events, shown like clinical ones
        if row.get("on_amiodarone") and not before.get("on_amiodarone"):
            row["events"].insert(0, "amiodarone_started")
        if env == "warfarin" and row["dose_taken_mg"] < row["dose_mg"]:
            row["events"].insert(0, "dose_missed")
    if band:
        if not 10 <= band <= 4096:
            raise ValueError(f"band must be 0 (none) or a number of patients in [10, 4096], got {band}")
        fixed = {k: used_patient[k] for k in plan.covariates if k in used_patient}
        band_options = {"patient": fixed, **({"scenario": dict(scenario)} if scenario else {})}
        regimen = _Regimen(env, dose, doses, protocol, bolus_u, action)
        brecs = _run(env, band_options, regimen, seed + 1, difficulty, steps, band)
        lab = np.stack([r[plan.lab_key] for r in brecs])  # (T, band)
        course.band = {"p05": np.percentile(lab, 5, axis=1), "p50": np.percentile(lab, 50, axis=1),
                       "p95": np.percentile(lab, 95, axis=1)}
        course.band_patients = band
    return course


# -- output ----------------------------------------------------------------------------------
def _x(course: Course, row: Mapping[str, Any]) -> float:
    return float(row[SIMULATE_ENVS[course.env].x_key])


def course_table(course: Course, every: int = 1) -> str:
    """The course as a text table (one line per step, or every ``every`` steps)."""
    plan = SIMULATE_ENVS[course.env]
    lines = [
        f"hemosim simulate {course.env} ({course.env_id}, difficulty {course.difficulty}, seed {course.seed})",
        f"regimen: {course.regimen}",
        "patient: " + ", ".join(f"{k}={_fmt(v)}" for k, v in course.patient.items()),
    ]
    if course.scenario:
        lines.append("scenario: " + ", ".join(f"{k}={_fmt(v)}" for k, v in course.scenario.items()))
    if course.env == "warfarin":
        lines.append("row d: the INR on the morning of day d, after the dose of day d - 1")
        head = f"{'day':>4} {'dose mg':>8} {'taken mg':>8} {'INR':>6} {'INR seen':>8}"
    elif course.env == "heparin":
        lines.append("row h: the state at hour h, after the rate (and bolus) of the 6 h before")
        head = f"{'hour':>5} {'rate U/h':>9} {'bolus U':>8} {'aPTT s':>7} {'seen s':>7} {'anti-Xa':>8} {'plt':>6}"
    else:
        lines.append(f"row: the state at that {plan.step_name}, after the action of the step before")
        head = f"{plan.x_key:>5} " + " ".join(f"{h:>{max(len(h), 6)}}" for h, _, _ in plan.columns)
    if course.band is not None:
        head += f" {'pop 5%':>7} {'pop 95%':>7}"
    lines += [head + "  events", "-" * (len(head) + 8)]
    for i, row in enumerate(course.rows):
        if i % every and i != len(course.rows) - 1 and not row["events"]:
            continue
        if course.env in _ACTION_ENVS:
            line = f"{_x(course, row):>5.0f} " + " ".join(
                f"{_cell(row.get(k), f):>{max(len(h), 6)}}" for h, k, f in plan.columns)
        elif course.env == "warfarin":
            # the row of day d holds the dose given on day d - 1 and the INR on the morning of day d
            line = f"{row['day']:>4d} {row['dose_mg']:>8.2f} {row['dose_taken_mg']:>8.2f} {row['inr']:>6.2f} {row['inr_measured']:>8.2f}"
        else:
            line = (f"{row['hours']:>5.0f} {row['rate_u_per_h']:>9.0f} {row['bolus_u']:>8.0f} {row['aptt_true_s']:>7.1f} "
                    f"{row['aptt']:>7.1f} {row['anti_xa']:>8.2f} {row['platelets']:>6.0f}")
        if course.band is not None:
            line += f" {course.band['p05'][i]:>7.2f} {course.band['p95'][i]:>7.2f}"
        lines.append(line + ("  " + ", ".join(row["events"]) if row["events"] else ""))
    if course.band is not None:
        lines.append(f"population band: {course.band_patients} patients with the same covariates "
                     f"({', '.join(k for k in plan.covariates if k in course.patient)}), random effects drawn")
    return "\n".join(lines)


def _cell(v: Any, fmt: str) -> str:
    if v is None or isinstance(v, np.ndarray):
        return "-"
    return format(int(v), fmt) if fmt == "d" else format(float(v), fmt)


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def plot_course(course: Course, path: str | Path) -> Path:
    """Write the course chart (lab with target band, doses, events; optional band) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = SIMULATE_ENVS[course.env]
    x = np.array([_x(course, r) for r in course.rows])
    lab = np.array([r[plan.lab_key] for r in course.rows])
    seen = np.array([r[plan.lab_measured_key] for r in course.rows])
    heparin = course.env == "heparin"
    generic = course.env in _ACTION_ENVS
    nrows = 3 if heparin or generic else 2
    fig, axes = plt.subplots(nrows, 1, figsize=(9, 2.6 * nrows + 0.6), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1.4] + ([1.4] if nrows == 3 else [])})
    ax = axes[0]
    if heparin:
        from hemosim.envs.heparin import THERAPEUTIC_APTT_S

        lo, hi = THERAPEUTIC_APTT_S
    elif generic:
        lo, hi = (150.0, 400.0) if course.env == "dic" else (50.0, 200.0)
    else:
        lo, hi = course.rows[0]["target_inr_low"], course.rows[0]["target_inr_high"]
    what = {"dic": "reference", "doac": "CrCl >= 50 mL/min"}.get(course.env, "target")
    ax.axhspan(lo, hi, color="tab:green", alpha=0.15, label=f"{what} {lo:g}-{hi:g}")
    if course.band is not None:
        ax.fill_between(x, course.band["p05"], course.band["p95"], color="tab:blue", alpha=0.18, step=None,
                        label=f"population 5-95 % (n = {course.band_patients}, same covariates)")
    ax.plot(x, lab, color="tab:blue", lw=2, label=f"{plan.lab_label}, true")
    if not np.allclose(seen, lab):
        ax.plot(x, seen, "o", ms=3, color="tab:orange", label=f"{plan.lab_label}, measured")
    ev_x, ev_names = [], []
    for xi, r in zip(x, course.rows):
        for e in r["events"]:
            if e == "dose_missed":
                continue
            ev_x.append(xi)
            ev_names.append(e)
    top = ax.get_ylim()[1]
    for xi, name in zip(ev_x, ev_names):
        ax.axvline(xi, color="tab:red", lw=1, alpha=0.6)
        ax.annotate(name.replace("_", " "), (xi, top), rotation=90, va="top", ha="right", fontsize=7, color="tab:red")
    ax.set_ylabel(plan.lab_label)
    ax.legend(loc="upper left", fontsize=7)
    ax.set_title(f"{course.env_id}: {course.regimen}", fontsize=10)
    ax2 = axes[1]
    if generic:
        for ax_k, panel in zip(axes[1:], plan.panels):
            for key, label in panel:
                ax_k.step(x, [r.get(key, np.nan) for r in course.rows], where="pre", label=label)
            ax_k.legend(loc="upper right", fontsize=7)
        axes[-1].set_xlabel(f"{plan.x_key} of the episode")
    elif heparin:
        rates = [r["rate_u_per_h"] for r in course.rows[1:]]
        ax2.step(x, [rates[0]] + rates, where="pre", color="tab:purple", label="infusion rate")
        boluses = [(xi - plan.step_length, r["bolus_u"]) for xi, r in zip(x[1:], course.rows[1:]) if r["bolus_u"] > 0]
        ax2.set_ylim(0, max(rates + [1.0]) * 1.25)
        for bx, b in boluses:
            ax2.plot([bx], [0], marker="^", ms=9, color="tab:red", clip_on=False)
            ax2.annotate(f"bolus {b:.0f} U", (bx, 0), xytext=(4, 4), textcoords="offset points", fontsize=7, color="tab:red")
        ax2.set_ylabel("rate (U/h)")
        ax3 = axes[2]
        ax3.plot(x, [r["platelets_true_10e9_per_l"] for r in course.rows], color="tab:gray")
        ax3.set_ylabel("platelets\n(x10^9/L)")
        ax3.set_xlabel("hours on heparin")
    else:
        ax2.bar(x[1:] - 1, [r["dose_taken_mg"] for r in course.rows[1:]], width=0.8, color="tab:purple", align="edge",
                label="dose taken")
        missed = [(xi - 1, r["dose_mg"]) for xi, r in zip(x[1:], course.rows[1:]) if r["dose_taken_mg"] < r["dose_mg"]]
        if missed:
            ax2.bar([m[0] for m in missed], [m[1] for m in missed], width=0.8, align="edge", fill=False,
                    edgecolor="tab:red", label="missed")
            ax2.legend(loc="upper right", fontsize=7)
        ax2.set_ylabel("warfarin (mg)")
        ax2.set_xlabel("day of therapy")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(args: Any) -> int:
    """The CLI entry (``hemosim simulate ...``; arguments from ``cli.py``)."""
    import sys

    try:
        options: dict[str, Any] = load_patient_file(args.patient) if args.patient else {}
        patient = {**options.get("patient", {}), **parse_assignments(args.set, "--set")}
        scenario = {**options.get("scenario", {}), **parse_assignments(args.scenario, "--scenario")}
        doses = [float(x) for x in args.doses.split(",")] if args.doses else None
        action = [int(x) for x in args.action.split(",")] if args.action else None
        course = simulate(
            args.env, patient, scenario, dose=args.dose, doses=doses, protocol=args.protocol,
            bolus_u=args.bolus, seed=args.seed, difficulty=args.difficulty, steps=args.steps, band=args.band,
            action=action,
        )
    except (ValueError, OSError) as exc:
        print(f"hemosim simulate: {exc}", file=sys.stderr)
        return 2
    print(course_table(course, every=args.every))
    if not args.no_plot:
        out = Path(args.out) if args.out else Path("results") / f"simulate_{args.env}.png"
        print(f"chart: {plot_course(course, out)}")
    if args.json:
        payload = {"env_id": course.env_id, "regimen": course.regimen, "seed": course.seed,
                   "patient": course.patient, "scenario": course.scenario,
                   "rows": [{k: v for k, v in r.items() if not isinstance(v, np.ndarray)} for r in course.rows]}
        if course.band is not None:
            payload["band"] = {k: v.tolist() for k, v in course.band.items()}
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str))
    return 0


def add_arguments(p: Any) -> None:
    """``hemosim simulate`` arguments (see the module docstring)."""
    p.add_argument("env", choices=sorted(SIMULATE_ENVS),
                   help="which env: warfarin (daily), heparin (6-hourly), doac (monthly visits), dic (6-hourly)")
    p.add_argument("--patient", default=None, help="JSON or TOML file: the patient's keys, or {patient:..., scenario:...}")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a patient key (repeatable)")
    p.add_argument("--scenario", action="append", default=[], metavar="KEY=VALUE", help="a scenario key (repeatable)")
    reg = p.add_mutually_exclusive_group(required=True)
    reg.add_argument("--dose", type=float, help="constant dose: mg/day (warfarin) or U/h (heparin)")
    reg.add_argument("--doses", help="comma-separated doses per step (the last one repeats)")
    reg.add_argument("--action", help="doac / dic: a constant action, comma-separated (doac: drug,level; dic: ffp,plt,cryo,heparin)")
    reg.add_argument("--protocol", help="a baseline protocol: " + "; ".join(
        f"{name} " + ", ".join(plan.protocols) for name, plan in SIMULATE_ENVS.items()))
    p.add_argument("--bolus", type=float, default=0.0, help="heparin: bolus at the start (U, <= 80 U/kg)")
    p.add_argument("--seed", type=int, default=0, help="seed of the patient's draws and noise (default 0)")
    p.add_argument("--difficulty", default="medium", choices=["easy", "medium", "hard"])
    p.add_argument("--steps", type=int, default=None, help="steps to run (default: the whole episode)")
    p.add_argument("--band", type=int, default=0, help="overlay the 5-95 %% band of N patients with the same covariates")
    p.add_argument("--every", type=int, default=1, help="print every k-th step (events and the last are always printed)")
    p.add_argument("--out", default=None, help="PNG path (default results/simulate_<env>.png)")
    p.add_argument("--no-plot", action="store_true")
    p.add_argument("--json", default=None, help="also write the course as JSON")
