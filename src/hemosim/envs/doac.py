"""``hemosim/DOACManagement-v0``: a year of anticoagulant choice and dosing in atrial fibrillation.

Description
-----------
A patient with non-valvular atrial fibrillation (AF) is seen in clinic once a month for a
year. At every visit the clinician sees the patient's age, weight, a fresh creatinine
clearance (Cockcroft-Gault from a serum creatinine measured with assay error), the
CHA2DS2-VASc and HAS-BLED scores, prior events, the current regimen and the patient's sex,
and chooses which direct oral anticoagulant (DOAC) to give and at which dose (standard,
reduced, or hold) until the next visit. Between visits the patient is simulated day by day
by the validated DOAC model (``hemosim.models.doac``, model card ``docs/models/doac.md``):
one-compartment PK with renal clearance (exposure rises as CrCl falls), missed doses,
renal function that declines over the year (Boehm 2015 slopes, acute kidney injury), and
daily competing hazards of ischaemic stroke / systemic embolism, major bleeding
(intracranial, gastrointestinal, other), myocardial infarction and death. Age and renal
function act on bleeding and stroke both through exposure and independently of it
(Eikelboom 2011; Hohnloser 2012), so the central trade-off is which drug and dose for which
patient as they age and their kidneys decline. The model reproduces the per-arm rates of
RE-LY, ROCKET AF and ARISTOTLE and their age / renal subgroups (model card, sections 4-5).

Action Space
------------
``MultiDiscrete([3, 3])`` (the default ``drugs="doacs"``); ``MultiDiscrete([4, 3])`` with
``drugs="doacs+warfarin"``:

====  =========  =========================================================================
idx   meaning    values
====  =========  =========================================================================
0     drug       0 apixaban (5 / 2.5 mg bid), 1 rivaroxaban (20 / 15 mg od),
                 2 dabigatran (150 / 110 mg bid), 3 warfarin (only with ``drugs="doacs+warfarin"``)
1     dose       0 standard, 1 reduced, 2 hold (no anticoagulant until the next visit)
====  =========  =========================================================================

Doses are the EU SmPC doses (``hemosim.label_rules`` gives the label's level for each drug;
``info["label_dose_level"]``). Warfarin is dose-adjusted by the anticoagulation clinic to INR
2-3 with the patient's own time in therapeutic range (TTR); its dose part only distinguishes
hold (2) from given (0 or 1, identical). Nothing is clipped: an action outside the space
raises ``ValueError``. The env does not forbid contraindicated choices (for example
dabigatran at CrCl < 30): the model's exposure and bleeding follow them.

Observation Space
-----------------
``Box(0, 1, (8,), float32)``, measured at each visit:

====  ===============================  =========  ======================================
idx   meaning                          unit       normalisation
====  ===============================  =========  ======================================
0     age                              y          (age - 40) / 60, clipped to [0, 1]
1     body weight                      kg         (weight - 40) / 110, clipped
2     creatinine clearance (measured)  mL/min     CrCl / 150, clipped
3     CHA2DS2-VASc                     points     score / 9
4     HAS-BLED                         points     score / 9 (renal item from the measured SCr,
                                                  labile-INR item on warfarin with TTR < 60 %)
5     prior events                     --         (bleed + 2 stroke) / 3: any major bleed
                                                  (history or this year) and any stroke/TIA/SE
6     current regimen                  --         (3 drug + dose) / 14; drug 4 / dose 2 = none
                                                  (1.0, the state before the first visit)
7     female sex                       --         0 / 1 (enters Cockcroft-Gault and CHA2DS2-VASc)
====  ===============================  =========  ======================================

The serum creatinine is measured with a log-normal error of CV 6 % (analytical plus
within-person biological variation of creatinine, about 5-6 %, Ricos biological-variation
database [U]; ``difficulty="easy"`` measures it exactly). Raw values are in ``info`` with
units in the keys: ``age_y``, ``weight_kg``, ``crcl_measured_ml_per_min``,
``crcl_true_ml_per_min``, ``scr_measured_mg_per_dl``, ``cha2ds2_vasc``, ``has_bled``,
``drug``, ``dose_level``, ``dose_mg`` (per administration), ``concentration_ng_per_ml`` (the
current DOAC's mean over the last simulated day, true), ``label_dose_level`` (the EU label's
level for each of the three DOACs from the measured values: 0 standard, 1 reduced,
2 contraindicated), ``day``, the reward components and ``patient`` (covariates).

Rewards
-------
Net clinical benefit, per step (``reward_mode="default"``), as minus the weighted count of
the events of the step:

* ischaemic stroke / systemic embolism: weight 1.0 (the unit of Singer 2009);
* intracranial haemorrhage (including haemorrhagic stroke): weight 1.5 (Singer, Chang, Fang
  et al. 2009 Ann Intern Med 151:297: ICH weighted 1.5 against ischaemic stroke; the same
  weight is the central one of the later NCB analyses, e.g. BMC Cardiovasc Disord 2012;12:49);
* extracranial major bleeding: weight 1.0, and death from any cause: weight 1.0 (the RE-LY
  net-clinical-benefit composite counts stroke, systemic embolism, MI, death and major
  bleeding as one event each, Connolly 2009 NEJM 361:1139 [U: composite definition recalled]).

Components are in ``info`` (``reward_stroke``, ``reward_ich``, ``reward_major_bleeding``,
``reward_death``); ``ncb_weights`` overrides the weights. ``reward_mode="events"`` pays
``-info["cost"]`` (every contract event counts 1).

Baselines (``hemosim.agents.doac``; ``hemosim calibrate doac-evaluation``, 1,000 held-out
general-practice patients, expected NCB per 100 patient-years, higher is better): guideline
chooser -6.90, label apixaban -6.93 (re-checked or not), label dabigatran -7.59, random -7.92,
warfarin -8.02, label rivaroxaban -8.36, no anticoagulant -8.51 (``results/doac_evaluation.md``).

Events and cost (the shared contract): ``info["events"]`` holds per-step booleans
``major_bleeding`` (ISTH major, intracranial included), ``intracranial_haemorrhage``,
``thromboembolism`` (ischaemic stroke / systemic embolism) and ``death``;
``info["bleeding_isth_class"]`` is 3 in a step with a major bleed, else 0 (the model has no
minor or clinically relevant non-major bleeding, so ``crnm_bleeding`` and ``hit`` are not
reported); ``info["cost"]`` is the number of those four events in the step (0.0 at reset).
Events are drawn inside the model from the patient's true state with the patient's own
counter-based random numbers. ``hemosim.safety.SafetyLayer(env)`` wraps this env with the
EU-label rules (``DOAC_RULES``): a DOAC the label contraindicates for the visit's measured
values is held, a DOAC given is given at the label's dose level (the drug is never
changed; holding and warfarin are never overridden).

Starting State
--------------
A patient newly diagnosed with AF, not yet anticoagulated, drawn from the population preset
(``hemosim.patients.af``; default ``general_practice``, the UK primary-care AF cohort; or a
trial population: ``rely``, ``rocket``, ``aristotle``).

Episode End
-----------
Truncated after 12 monthly visits (days 0, 30, ..., 330; the last interval is 35 days, 365
days in all). Terminated at death (the step carries the death weight). A bleed does not end
the episode; the model holds anticoagulation after a major bleed (7 days, intracranial 56
days) and after an ischaemic stroke (6 days) whatever the action.

Arguments
---------
``gym.make("hemosim/DOACManagement-v0", difficulty="medium", population="general_practice",
drugs="doacs", reward_mode="default", ncb_weights=None)``. Unknown arguments raise ``ValueError``.

* ``difficulty="easy"``: creatinine measured exactly (the dose rules then act on the true
  CrCl, as in the trials' own dose assignment); adherence of the population preset.
* ``"medium"`` (default): creatinine CV 6 %; adherence of the population preset (general
  practice: Beta(8, 1), THIN UK; trials: Beta(19, 1)).
* ``"hard"``: as medium plus non-persistence: the patient silently stops the drug at the
  population's one-year persistence (THIN UK: apixaban 67 %, rivaroxaban 65 %, dabigatran 59 %,
  warfarin 89 %); a stopped patient stays off whatever is prescribed.

Vector Env
----------
``gym.make_vec("hemosim/DOACManagement-v0", num_envs=N, vectorization_mode="vector_entry_point")``
simulates the N patients in one array program (``NEXT_STEP`` autoreset). Patient ``i`` of a
vector env seeded ``s`` is the single env seeded ``s + i``.

Version History
---------------
* v0 (hemosim 0.3): first release.

References
----------
Connolly 2009 NEJM 361:1139 (RE-LY); Patel 2011 NEJM 365:883 (ROCKET AF); Granger 2011 NEJM
365:981 (ARISTOTLE); Eikelboom 2011 Circulation 123:2363; Hohnloser 2012 Eur Heart J 33:2821;
Singer 2009 Ann Intern Med 151:297; Friberg 2012 Eur Heart J 33:1500; Pisters 2010 Chest
138:1093; Lip 2010 Chest 137:263; Cockcroft & Gault 1976 Nephron 16:31; Steffel 2021 Europace
23:1612 (EHRA practical guide).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces

from hemosim import label_rules
from hemosim.models import doac
from hemosim.models.af_risk import (
    SCR_ABNORMAL_RENAL_MG_PER_DL,
    cockcroft_gault_ml_per_min,
    serum_creatinine_from_crcl_unchecked_mg_per_dl,
)
from hemosim.patients.af import AF_PRESETS, AFCohort, check_cohort, cohort_info, patient_schema, sample_cohort
from hemosim.sim import rng
from hemosim.sim.batch import BatchedSimulator, validate_options
from hemosim.sim.single import SingleEnv
from hemosim.sim.vector import BatchedVectorEnv

__all__ = [
    "VISIT_DAYS",
    "EPISODE_DAYS",
    "NCB_WEIGHTS",
    "SCR_MEASUREMENT_CV",
    "DoacSimulator",
    "DOACManagementEnv",
    "DOACManagementVectorEnv",
    "observation_to_clinical",
]

#: Day of each visit (12 decisions); the last interval is 35 days, so an episode is 365 days.
VISIT_DAYS: tuple[int, ...] = tuple(30 * k for k in range(12))
EPISODE_DAYS = 365
#: Net-clinical-benefit weights (see the env card: Singer 2009; RE-LY composite).
NCB_WEIGHTS: dict[str, float] = {"stroke": 1.0, "ich": 1.5, "major_bleeding": 1.0, "death": 1.0}
#: Log-normal measurement error of serum creatinine (analytical + within-person biological, [U]).
SCR_MEASUREMENT_CV = 0.06
STREAM_SCR_NOISE = 301
OBS_AGE_OFFSET_Y, OBS_AGE_SCALE_Y = 40.0, 60.0
OBS_WEIGHT_OFFSET_KG, OBS_WEIGHT_SCALE_KG = 40.0, 110.0
OBS_CRCL_SCALE_ML_PER_MIN = 150.0
NO_DRUG_REGIMEN = 3 * doac.NO_ANTICOAGULANT + doac.HOLD  # = 14

DIFFICULTIES = ("easy", "medium", "hard")
DRUG_SETS = {"doacs": 3, "doacs+warfarin": 4}
REWARD_MODES = ("default", "events")
_OPTIONS = {"difficulty": "medium", "population": "general_practice", "drugs": "doacs",
            "reward_mode": "default", "ncb_weights": None}
_E = {name: i for i, name in enumerate(doac.ENDPOINTS)}


def observation_to_clinical(obs: np.ndarray) -> dict[str, np.ndarray]:
    """Invert the observation normalisation (``(..., 8)`` array) to clinical units.

    Returns age_y, weight_kg, crcl_ml_per_min, scr_mg_per_dl (Cockcroft-Gault inverted with the
    observed sex), cha2ds2_vasc, has_bled, prior_bleed, prior_stroke, drug, dose_level, female.
    Values at the clipping bounds are the bounds (age 40-100 y, weight 40-150 kg, CrCl <= 150).
    """
    o = np.asarray(obs, dtype=np.float64)
    if o.shape[-1] != 8:
        raise ValueError(f"observation must have 8 entries in its last axis, got shape {o.shape}")
    age = OBS_AGE_OFFSET_Y + OBS_AGE_SCALE_Y * o[..., 0]
    weight = OBS_WEIGHT_OFFSET_KG + OBS_WEIGHT_SCALE_KG * o[..., 1]
    crcl = np.maximum(OBS_CRCL_SCALE_ML_PER_MIN * o[..., 2], 1e-3)
    female = o[..., 7] > 0.5
    prior = np.rint(o[..., 5] * 3.0).astype(np.int64)
    regimen = np.rint(o[..., 6] * NO_DRUG_REGIMEN).astype(np.int64)
    return {
        "age_y": age,
        "weight_kg": weight,
        "crcl_ml_per_min": crcl,
        "scr_mg_per_dl": serum_creatinine_from_crcl_unchecked_mg_per_dl(crcl, np.minimum(age, 139.0), weight, female),
        "cha2ds2_vasc": np.rint(o[..., 3] * 9.0).astype(np.int64),
        "has_bled": np.rint(o[..., 4] * 9.0).astype(np.int64),
        "prior_bleed": (prior % 2) == 1,
        "prior_stroke": prior >= 2,
        "drug": regimen // 3,
        "dose_level": regimen % 3,
        "female": female,
    }


def _assign_rows(dst: AFCohort, mask: np.ndarray, src: AFCohort) -> None:
    for f in fields(dst):
        if f.name == "population":
            continue
        getattr(dst, f.name)[mask] = getattr(src, f.name)


class DoacSimulator(BatchedSimulator):
    """Batched DOAC management: N AF patients, one drug / dose decision a month for a year."""

    observation_space = spaces.Box(0.0, 1.0, shape=(8,), dtype=np.float32)
    action_space = spaces.MultiDiscrete([3, 3])

    def __init__(self, num_patients: int, **options: Any) -> None:
        opts = validate_options(options, _OPTIONS, "DOACManagement-v0")
        if opts["difficulty"] not in DIFFICULTIES:
            raise ValueError(f"unknown difficulty {opts['difficulty']!r}; allowed: {list(DIFFICULTIES)}")
        if opts["population"] not in AF_PRESETS:
            raise ValueError(f"unknown population {opts['population']!r}; allowed: {sorted(AF_PRESETS)}")
        if opts["drugs"] not in DRUG_SETS:
            raise ValueError(f"unknown drugs {opts['drugs']!r}; allowed: {sorted(DRUG_SETS)}")
        if opts["reward_mode"] not in REWARD_MODES:
            raise ValueError(f"unknown reward_mode {opts['reward_mode']!r}; allowed: {list(REWARD_MODES)}")
        weights = dict(NCB_WEIGHTS)
        if opts["ncb_weights"] is not None:
            given = opts["ncb_weights"]
            if not isinstance(given, Mapping) or set(given) - set(NCB_WEIGHTS):
                raise ValueError(f"ncb_weights must be a dict with keys among {sorted(NCB_WEIGHTS)}, got {given!r}")
            for k, v in given.items():
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                    raise ValueError(f"ncb_weights[{k!r}] must be a finite number >= 0, got {v!r}")
                weights[k] = float(v)
        # spaces are per instance (the warfarin option widens the drug part)
        self.action_space = spaces.MultiDiscrete([DRUG_SETS[opts["drugs"]], 3])
        super().__init__(num_patients)
        self.difficulty: str = opts["difficulty"]
        self.population: str = opts["population"]
        self.reward_mode: str = opts["reward_mode"]
        self.ncb_weights = weights
        self.scr_cv = 0.0 if self.difficulty == "easy" else SCR_MEASUREMENT_CV
        self._scr_sigma = float(np.sqrt(np.log1p(self.scr_cv**2)))
        self._persistence = AF_PRESETS[self.population].persistence_hazard_per_day() if self.difficulty == "hard" else None
        n = self.num_patients
        self.cohort: AFCohort | None = None
        self.state: doac.DoacState | None = None
        self.visit = np.zeros(n, dtype=np.int64)
        self.drug = np.full(n, doac.NO_ANTICOAGULANT, dtype=np.int64)
        self.dose_level = np.full(n, doac.HOLD, dtype=np.int64)
        self.scr_measured = np.zeros(n)
        self.crcl_measured = np.zeros(n)
        self.events = {k: np.zeros(n, dtype=bool) for k in
                       ("major_bleeding", "intracranial_haemorrhage", "thromboembolism", "death")}
        self.counts = {k: np.zeros(n) for k in ("stroke", "ich", "major_bleeding", "death")}
        self.cost = np.zeros(n)
        self.reward_parts = {k: np.zeros(n) for k in ("reward_stroke", "reward_ich", "reward_major_bleeding", "reward_death")}
        self._patient_info: dict[str, np.ndarray] = {}
        self.patient_schema = patient_schema(self.population)

    # -- episode start -------------------------------------------------------------------
    def reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: Mapping[str, Any] | None) -> None:
        fixed = None
        if options:
            from hemosim.patients.spec import rows_for_mask, split_options

            fixed, _ = split_options(options, "DOACManagement-v0", self.num_patients, self.patient_schema, None)
            fixed = rows_for_mask(fixed, mask)
        new = sample_cohort(np.asarray(keys, dtype=np.uint64), self.population, fixed=fixed)
        if fixed is not None:
            check_cohort(fixed, new)
        if self.cohort is None or mask.all():
            if not mask.all():
                raise ValueError("the first reset must reset every patient")
            self.cohort = new
            self.state = doac.initial_state(new)
        else:
            _assign_rows(self.cohort, mask, new)
            doac.reset_rows(self.state, self.cohort, mask)
        self.visit[mask] = 0
        self.drug[mask] = doac.NO_ANTICOAGULANT
        self.dose_level[mask] = doac.HOLD
        for d in (self.events, self.counts, self.reward_parts):
            for v in d.values():
                v[mask] = 0
        self.cost[mask] = 0.0
        self._measure(mask)
        c = self.cohort
        self._patient_info = cohort_info(c)  # every key options["patient"] takes (issue #20)

    def _measure(self, mask: np.ndarray) -> None:
        """Serum creatinine measured at the current visit of the masked rows, and CrCl from it."""
        c, st = self.cohort, self.state
        idx = np.flatnonzero(mask)
        age = np.minimum(c.age_y[idx] + st.day[idx] / doac.DAYS_PER_YEAR, 139.0)
        crcl_true = np.maximum(st.crcl_ml_per_min()[idx], 1e-3)
        scr_true = serum_creatinine_from_crcl_unchecked_mg_per_dl(crcl_true, age, c.weight_kg[idx], c.female[idx])
        if self._scr_sigma > 0:
            z = rng.normal(c.keys[idx], STREAM_SCR_NOISE, self.visit[idx])
            scr = scr_true * np.exp(self._scr_sigma * z - 0.5 * self._scr_sigma**2)
        else:
            scr = scr_true
        self.scr_measured[idx] = scr
        self.crcl_measured[idx] = cockcroft_gault_ml_per_min(age, c.weight_kg[idx], scr, c.female[idx])

    # -- one visit interval ----------------------------------------------------------------
    def advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        st, c = self.state, self.cohort
        drug = actions[:, 0].astype(np.int64)
        level = actions[:, 1].astype(np.int64)
        self.drug[:] = drug
        self.dose_level[:] = level
        before = st.event_count.copy()
        was_alive = st.alive.copy()
        # 30 days to the next visit; the final interval is 35 days (EPISODE_DAYS)
        last = self.visit == len(VISIT_DAYS) - 1
        n_days = np.where(last, 30 + EPISODE_DAYS - 30 * len(VISIT_DAYS), 30)
        doac.advance_days(st, c, drug, level, n_days, persistence_hazard_per_day=self._persistence)
        diff = st.event_count - before
        n_isch = diff[:, _E["ischaemic_stroke_se"]]
        n_ich = diff[:, _E["ich"]]
        n_mb = diff[:, _E["major_bleeding"]]
        died = was_alive & ~st.alive
        ev = self.events
        ev["thromboembolism"][:] = n_isch > 0
        ev["intracranial_haemorrhage"][:] = n_ich > 0
        ev["major_bleeding"][:] = n_mb > 0
        ev["death"][:] = died
        w = self.ncb_weights
        rp = self.reward_parts
        rp["reward_stroke"][:] = -w["stroke"] * n_isch
        rp["reward_ich"][:] = -w["ich"] * n_ich
        rp["reward_major_bleeding"][:] = -w["major_bleeding"] * (n_mb - n_ich)
        rp["reward_death"][:] = -w["death"] * died
        self.cost[:] = sum(v.astype(np.float64) for v in ev.values())
        if self.reward_mode == "events":
            reward = 0.0 - self.cost
        else:
            reward = 0.0 + rp["reward_stroke"] + rp["reward_ich"] + rp["reward_major_bleeding"] + rp["reward_death"]
        self.visit += 1
        truncated = (self.visit >= len(VISIT_DAYS)) & st.alive
        terminated = ~st.alive
        self._measure(np.ones(self.num_patients, dtype=bool))
        return reward.astype(np.float64), terminated, truncated

    # -- what is seen --------------------------------------------------------------------
    def _scores(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        c, st = self.cohort, self.state
        age = c.age_y + st.day / doac.DAYS_PER_YEAR
        female = c.female.astype(np.int64)
        age75 = age >= 75.0
        cha = (c.chf.astype(np.int64) + c.hypertension + c.diabetes + female + 2 * age75
               + ((age >= 65.0) & ~age75) + 2 * st.prior_stroke + st.vascular_disease)
        labile = (self.drug == doac.WARFARIN) & (c.ttr < 0.60)
        hb = (c.uncontrolled_hypertension.astype(np.int64) + (self.scr_measured >= SCR_ABNORMAL_RENAL_MG_PER_DL)
              + c.liver_disease + st.prior_stroke + st.bleeding_history + labile + (age > 65.0)
              + c.antiplatelet + c.alcohol)
        return age, cha, hb

    def observation(self) -> np.ndarray:
        c, st = self.cohort, self.state
        age, cha, hb = self._scores()
        obs = np.empty((self.num_patients, 8), dtype=np.float32)
        obs[:, 0] = np.clip((age - OBS_AGE_OFFSET_Y) / OBS_AGE_SCALE_Y, 0.0, 1.0)
        obs[:, 1] = np.clip((c.weight_kg - OBS_WEIGHT_OFFSET_KG) / OBS_WEIGHT_SCALE_KG, 0.0, 1.0)
        obs[:, 2] = np.clip(self.crcl_measured / OBS_CRCL_SCALE_ML_PER_MIN, 0.0, 1.0)
        obs[:, 3] = np.minimum(cha, 9) / 9.0
        obs[:, 4] = np.minimum(hb, 9) / 9.0
        obs[:, 5] = (st.bleeding_history.astype(np.float64) + 2.0 * st.prior_stroke) / 3.0
        obs[:, 6] = (3 * self.drug + self.dose_level) / NO_DRUG_REGIMEN
        obs[:, 7] = c.female
        return obs

    def _label_levels(self, age: np.ndarray) -> np.ndarray:
        c = self.cohort
        kw = dict(age_y=np.minimum(age, 130.0), weight_kg=c.weight_kg, scr_mg_per_dl=np.clip(self.scr_measured, 0.01, 40.0),
                  crcl_ml_per_min=np.minimum(self.crcl_measured, 1000.0), verapamil=c.verapamil)
        return np.stack([label_rules.dose_level(d, **kw) for d in label_rules.DRUGS], axis=1)

    def info(self) -> dict[str, Any]:
        st = self.state
        age, cha, hb = self._scores()
        doac_idx = np.minimum(self.drug, 2)
        conc = np.where(self.drug <= doac.DABIGATRAN, st.c_avg_ng_per_ml[np.arange(self.num_patients), doac_idx], 0.0)
        pk_std = np.array([pk.dose_standard_mg for pk in doac.PK_PARAMETERS] + [0.0, 0.0])
        pk_red = np.array([pk.dose_reduced_mg for pk in doac.PK_PARAMETERS] + [0.0, 0.0])
        dose_mg = np.where(self.dose_level == doac.STANDARD, pk_std[self.drug],
                           np.where(self.dose_level == doac.REDUCED, pk_red[self.drug], 0.0))
        return {
            "age_y": age,
            "weight_kg": self.cohort.weight_kg,
            "crcl_measured_ml_per_min": self.crcl_measured,
            "crcl_true_ml_per_min": st.crcl_ml_per_min(),
            "scr_measured_mg_per_dl": self.scr_measured,
            "cha2ds2_vasc": cha.astype(np.int64),
            "has_bled": hb.astype(np.int64),
            "drug": self.drug,
            "dose_level": self.dose_level,
            "dose_mg": dose_mg,
            "concentration_ng_per_ml": conc,
            "label_dose_level": self._label_levels(age),
            "day": st.day,
            "alive": st.alive,
            "stopped": st.stopped,
            **self.reward_parts,
            "events": self.events,
            "bleeding_isth_class": np.where(self.events["major_bleeding"], 3, 0).astype(np.int64),
            "cost": self.cost,
        }

    def static_info(self) -> dict[str, Any]:
        return {"patient": self._patient_info}


class DOACManagementEnv(SingleEnv):
    __doc__ = __doc__
    simulator_cls = DoacSimulator


class DOACManagementVectorEnv(BatchedVectorEnv):
    __doc__ = __doc__
    simulator_cls = DoacSimulator
