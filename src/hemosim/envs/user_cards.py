"""The env cards' "Your own patient" section (issue #20), generated from the schemas.

``scripts/make_env_cards.py`` appends :func:`user_section` to every generated card, and a
test checks that every card (generated or hand-written) carries it verbatim, so the keys,
units and ranges a card lists are the ones the env validates.
"""

from __future__ import annotations

__all__ = ["user_section"]

_COMMON = """\
`reset(seed=..., options={"patient": {...}{scenario}})` sets this patient's keys below;
everything not given is drawn from the population **given** what is (where the population
links covariates; see "Linked draws"), from the patient's own random streams, so fixing a key
to the value the seed would have drawn changes nothing. `info["patient"]` reports every key
as used (drawn or given); feeding it back with the same seed reproduces the trajectory bit for
bit, and with another seed gives the same patient (the seed still drives within-episode noise:
assay error, events, missed doses). An unknown key, a value of the wrong type or out of range
is a `ValueError` naming the key and what is allowed; nothing is coerced (a bool is not a
number, `"*3/*1"` is not `"*1/*3"`). Derived keys are reported but computed; they may be given
only with the value the other keys imply. In the vector env give a list of dicts (one per row,
`None` = population), a dict of scalars (every row) or a dict of arrays of length `num_envs`
(`None` entries = population); Gymnasium's `_key` masks are ignored, so a vector
`info["patient"]` can be fed back as it is. Options apply to that reset only: a later
`reset()` without options, and every autoreset, draws a fresh population patient (Gymnasium
semantics).
"""

_NOTES = {
    "hemosim/WarfarinDosing-v0": """\
Linked draws: the CYP2C9 / VKORC1 genotypes depend on ancestry (allele frequencies by
ancestry, Hardy-Weinberg): a given ancestry sets the genotype frequencies, and given genotypes
with no ancestry draw the ancestry from its posterior under the preset's ancestry mix (rejection
on the patient's own streams, seeded draw first, so a genotype equal to the seeded one keeps the
seeded ancestry). The other covariates are independent in this population (height is not
linked to sex). The random effects `eta_*` are the population's draws on the log scale; with
`model="hamberg2010"` they are `eta_cl`, `eta_v`, `eta_ec50`. The ranges of age, weight and
height are the preset's truncation ranges.
""",
    "hemosim/HeparinInfusion-v0": """\
Linked draws: weight and serum creatinine depend on sex; CrCl is Cockcroft-Gault of age,
weight, creatinine and sex. Sex not given but weight and / or creatinine given: sex from its
posterior (Bayes; a coupled draw that keeps the seeded sex whenever the given values make it
at least as likely). CrCl given without creatinine: sex, age and weight (those not given) by
importance resampling over 1,024 candidates from the patient's own streams, weighted by the
density of the creatinine the CrCl implies, then the creatinine solved from CrCl (a close, not
exact, draw from the conditional; the population's 5-200 mL/min clip is ignored). The heparin
envs' scenario is the HIT course (`hit`, `hit_onset_h`, `hit_fall_fraction`): an onset >= 0 or
a fall > 0 means HIT, the missing part is the population's draw; a HIT course given on a tier
without HIT runs, but the 4Ts score is tracked on HIT tiers only. No `options["scenario"]`.
""",
    "hemosim/DOACManagement-v0": """\
Linked draws: weight and creatinine depend on sex; CrCl is Cockcroft-Gault; the preset's
inclusion rule (CrCl and CHADS2 thresholds of the trial presets) is applied to the patient
with the given values, so its redraws (up to 32, from the patient's own streams) condition the
rest on them (for example, with no prior stroke and no heart failure a ROCKET AF patient is
more often >= 75 and diabetic); a patient the given values make ineligible keeps its first
draw. CrCl given without creatinine: the creatinine is solved from it (age, weight and sex are
drawn as usual). `uncontrolled_hypertension = True` implies hypertension. Renal decline is set
with `crcl_slope_deviation_ml_per_min_per_year`; acute kidney injury stays a daily hazard. No
`options["scenario"]`.
""",
    "hemosim/DICManagement-v0": """\
Linked draws: the cause sets the course probabilities, the trigger intensity, the onset time
and the baseline platelets and fibrinogen. A cause not given is drawn from its posterior given
those that are (Bayes with their densities; a coupled draw that keeps the seeded cause whenever
the given values make it at least as likely); values no cause can produce (an onset of 80 h) are
an error. The DIC trigger course is the patient key `course` (resolving, persistent, worsening).
The ranges cover everything the population can draw. No `options["scenario"]`.
""",
}
_NOTES["hemosim/HeparinInfusion-POMDP-v0"] = _NOTES["hemosim/HeparinInfusion-v0"].replace(
    "The heparin\nenvs'", "This env shares HeparinInfusion-v0's patients. The heparin\nenvs'"
)


def _schemas(env_id: str):
    if env_id == "hemosim/WarfarinDosing-v0":
        from hemosim.envs.warfarin_user import SCENARIO_SCHEMA
        from hemosim.patients.warfarin import patient_schema

        return patient_schema(), SCENARIO_SCHEMA
    if env_id in ("hemosim/HeparinInfusion-v0", "hemosim/HeparinInfusion-POMDP-v0"):
        from hemosim.patients.heparin import patient_schema

        return patient_schema(env_id.split("/")[1]), None
    if env_id == "hemosim/DOACManagement-v0":
        from hemosim.patients.af import patient_schema

        return patient_schema(), None
    if env_id == "hemosim/DICManagement-v0":
        from hemosim.patients.dic import patient_schema

        return patient_schema(), None
    raise ValueError(f"no user-patient schema for {env_id!r}")


def user_section(env_id: str) -> str:
    """The markdown section "Your own patient" of an env card."""
    patient, scenario = _schemas(env_id)
    text = "## Your own patient (reset options)\n\n"
    text += _COMMON.replace("{scenario}", ', "scenario": {...}' if scenario is not None else "")
    text += "\n" + _NOTES[env_id] + "\n### `options[\"patient\"]`\n\n" + patient.markdown() + "\n"
    if scenario is not None:
        from hemosim.envs.warfarin_user import __doc__ as scenario_doc

        body = scenario_doc.split("``options[\"scenario\"]``", 1)[1].split("\n", 1)[1]
        text += "\n### `options[\"scenario\"]`\n\n" + body.replace("``", "`").strip() + "\n\n" + scenario.markdown() + "\n"
    text += "\nThe what-if command `hemosim simulate` (README) runs one such patient on a regimen.\n" if env_id in (
        "hemosim/WarfarinDosing-v0", "hemosim/HeparinInfusion-v0") else ""
    return text
