"""``hemosim/WarfarinDosing-v0``: 90-day warfarin titration to an INR of 2-3.

Description
-----------
A patient starts warfarin (for atrial fibrillation or venous thromboembolism). Each
morning the clinician sees the INR and chooses the day's warfarin dose; the goal is
to keep the INR in the 2.0-3.0 range, avoiding under-anticoagulation (thrombosis) and
over-anticoagulation (bleeding). The patient is simulated by the Hamberg 2007
S-warfarin PK/PD model (``hemosim.models.warfarin``) with CYP2C9 / VKORC1 genotypes,
age, body size and interacting drugs, by default with the calibrated values of
``hemosim.models.warfarin_calibrated`` (dose requirements fitted to the IWPC 2009 cohort,
INR onset and offset to Kovacs 2003 and White 1995); populations come from
``hemosim.patients.warfarin``.

Action Space
------------
``Box(0, 1, (1,), float32)``. ``dose_mg = 15 * action[0]`` racemic warfarin, taken at
the start of the day. Actions outside [0, 1] or non-finite raise ``ValueError``; nothing
is clipped.

Observation Space
-----------------
``Box(0, 1, (8,), float32)`` (the layout of hemosim 0.2):

====  ====================================  ======  ==============================
idx   meaning                               unit    normalisation
====  ====================================  ======  ==============================
0     INR measured this morning             --      INR / 6, clipped to [0, 1]
1     S-warfarin plasma concentration       mg/L    C / 5, clipped to [0, 1]
2     R-warfarin plasma concentration       mg/L    C / 5, clipped to [0, 1]
3     age                                   years   (age - 20) / 75, clipped
4     body weight                           kg      (weight - 40) / 110, clipped
5     CYP2C9 genotype                       --      index / 5, order *1/*1 *1/*2 *1/*3 *2/*2 *2/*3 *3/*3
6     VKORC1 -1639 genotype                 --      index / 2, order GG GA AA
7     day of therapy                        days    day / 90
====  ====================================  ======  ==============================

Raw values are in ``info``: ``inr`` (true), ``inr_measured``, ``dose_mg`` (prescribed),
``dose_taken_mg``, ``therapeutic``, ``day``, ``target_inr_low``, ``target_inr_high``,
``s_warfarin_mg_per_l``, the reward components, ``patient`` (covariates, genotypes
written ``"*1/*3"`` and ``"GA"``, random effects ``eta_*``) and ``scenario`` (the amiodarone
start day, missed-dose probability and vitamin-K SD in use; "Your own patient" below).

Rewards
-------
Per day, on the true INR at the end of the day (the next morning):
``+1`` if the INR is in the target range (time in range, Rosendaal 1993);
``-0.5`` if INR < 1.5 (stroke odds ratio 3.3 at INR 1.5 vs 2.0, Hylek 1996 NEJM);
``-1`` if INR > 4 (the INR >= 4 safety endpoint of EU-PACT and GIFT; intracranial
haemorrhage odds 4.6x at INR 3.5-3.9, Fang 2004); a further ``-2`` if INR > 6
("over-anticoagulation", Penning-van Beest 2001). Every component is reported in
``info`` (``reward_in_range``, ``reward_low``, ``reward_high``, ``reward_severe``).

Clinical events and cost. Every day each living patient can have one of three competing
events, drawn with its own counter-based random numbers from hazards of the **true**
INR at the end of the day (``hemosim.envs.warfarin_events``): major bleeding (ISTH; a
share intracranial, a share fatal), clinically relevant non-major bleeding, and
thromboembolism (stroke or systemic embolism; a share fatal). INR-band incidence per 100
patient-years (Nelson 2015 Int J Clin Pharm 37:53; ISCOAT, Palareti 1996/1997):

=========  ==============  ===============
INR        major bleeding  thromboembolism
=========  ==============  ===============
< 2.0      4.55            12.11
2.0-3.0    1.75            1.59
3.0-4.5    2.63            1.59
>= 4.5     13.84           1.59
=========  ==============  ===============

with CRNM bleeding at 3.63 x the major rate (ROCKET AF warfarin arm), 21 % of major
bleeds intracranial (Cannegieter 1995), 18 % of major bleeds and 29 % of thromboembolic
events fatal (ISCOAT). ``info["events"]`` holds a bool per event for the day
(``major_bleeding``, ``crnm_bleeding``, ``intracranial_haemorrhage``,
``thromboembolism``, ``death``; all False at reset), ``info["bleeding_isth_class"]`` the
day's bleed by ISTH 2005 (0 none, 2 CRNM, 3 major; ``hemosim.metrics.isth_bleeding_class``)
and ``info["cost"]`` (Safety-Gymnasium convention, 0.0 at reset) counts
``major_bleeding + thromboembolism + death + [true INR > 4]`` for the day. After a death
no further events are drawn for the patient.

``reward_mode="events"`` replaces the reward by ``1`` for a day alive at its start minus
``EVENT_PENALTIES`` (``hemosim.sim.events``: CRNM 1, major bleeding 10, intracranial
haemorrhage a further 20, thromboembolism 10, death 100); in this mode death terminates
the episode (the penalty and the forfeited +1 per remaining day mean dying never pays).

Starting State
--------------
A warfarin-naive patient (no drug, transit compartments at 1, INR = baseline 1.0)
drawn from the ``population`` preset. Default ``"calibrated"``: ancestries mixed so that
the genotype frequencies match the IWPC 2009 cohort, CYP2C9 effects of the Lindh 2009
meta-analysis, the Gage 2008 body-size term, and a cohort factor on EC50, a between-patient
variability scale and the INR time constants fitted by ``hemosim calibrate
warfarin-population`` (training seeds) so that the true maintenance doses match IWPC 2009
(median 27.3 vs 28.0 mg/week; 32.8 / 13.6 % need <= 21 / >= 49 mg/week vs 33.9 / 12.4 %) and
the INR falls after stopping as in White 1995 (half-life of INR - 1 0.94 days; 0.52-1.2
published). ``"hamberg2007"`` (hemosim 0.3's ``"iwpc"``) is the published Hamberg 2007
population; ``"eu_pact"`` and ``"coag"`` are the calibrated model with those trials'
ancestry mix, indication and (COAG) age and sex; single-ancestry presets (``"european"``,
``"african"``, ...) use the published model; see ``docs/models/warfarin.md``.

Episode End
-----------
Truncated after 90 daily decisions. With the default reward there is no early
termination (a simulated death is reported in ``info`` but the 90-day course goes on, so
ending early can never pay); with ``reward_mode="events"`` death terminates.

Arguments
---------
``gym.make("hemosim/WarfarinDosing-v0", difficulty="medium", population=None,
variability=None, model="hamberg2007", reward_mode="default")``. Unknown arguments raise
``ValueError``.

* ``reward_mode``: ``"default"`` (the reward above) or ``"events"`` (the event-based
  reward of Rewards; death terminates).

* ``difficulty="easy"``: parameters are the typical values given genotype, age and
  co-medication (no random between-patient variability); the INR is observed exactly
  every day; full adherence.
* ``"medium"`` (default): the population's between-patient variability; exact daily INR.
* ``"hard"``: as medium, plus (1) INR assay error, log-normal CV 4 % (CoaguChek XS,
  FACTS §8.1); (2) missed doses: each patient misses each day's dose with its own
  probability drawn from Beta(0.53, 2.29): mean 18.8 %, the share of days with too few
  pills by MEMS caps in Parker 2007 (J Gen Intern Med 22:1254, IN-RANGE), and SD 20 %,
  close to the 21.1 % between-patient SD of all non-adherent days reported there; (3) amiodarone started mid-course in 10 % of
  patients not already on it, on a day drawn uniformly in 15-75, lowering S-warfarin
  clearance by 22 % (Gage 2008); (4) dietary vitamin K: EC50 follows a daily AR(1) on
  the log scale (rho 0.9, stationary SD ``VITAMIN_K_LOG_SD_CALIBRATED`` = 0.14 for
  calibrated populations, ``VITAMIN_K_LOG_SD`` = 0.32 for the published ones) chosen so
  that a stable patient's within-subject INR CV over days 60-90 is about 9 % (8.6-10.2 % on
  stable acenocoumarol / phenprocoumon, FACTS §8.1; no warfarin figure was found), measured
  in ``tests/envs/test_warfarin_env.py``.
* ``population``: a name in ``hemosim.patients.warfarin.POPULATIONS``; ``None`` (default)
  is ``"calibrated"`` with Hamberg 2007 and ``"iwpc"`` with Hamberg 2010 (the calibration
  covers the 2007 structure only; ``"calibrated"`` with ``model="hamberg2010"`` raises).
* ``variability``: overrides the tier's default. Calibrated populations: ``"calibrated"``
  (medium / hard) or ``"none"`` (easy). Published populations: ``"cv_percent"`` /
  ``"omega2"`` / ``"none"``, the reading of Hamberg's between-subject variability (FACTS §1.3).
* ``model``: ``"hamberg2007"`` (default) or ``"hamberg2010"``: the Hamberg 2010 Clin
  Pharmacol Ther 87:727 variant (one-compartment PK, per-allele CYP2C9 clearance and
  VKORC1 EC50, two 3-compartment transit chains, INR from their mean; see
  ``docs/models/warfarin.md``). With it, ``variability`` is ``"omega2"`` (medium and hard
  default: the 2010 BSV numbers CL 0.089, V 0.054, EC50 0.34 read as variances, scale
  UNCONFIRMED), ``"log_sd"`` or ``"none"`` (easy default); R-warfarin (observation 2)
  follows Hamberg 2007 Table 3. The hard-tier vitamin-K SD was set with Hamberg 2007 and
  is not refitted: under 2010 a stable patient's within-subject INR CV is 10.7-10.8 %
  (measured as for 2007; FACTS §8.1 8.6-10.2 %).

Vector Env
----------
``gym.make_vec("hemosim/WarfarinDosing-v0", num_envs=N,
vectorization_mode="vector_entry_point")`` simulates all N patients in one array
program (``NEXT_STEP`` autoreset). Patient ``i`` of a vector env seeded ``s`` is the
single env seeded ``s + i``.

Version History
---------------
* v0 (hemosim 0.3): Hamberg 2007 model, difficulty tiers, native vector env;
  ``model="hamberg2010"`` option; clinical events, ``info["cost"]`` and
  ``reward_mode`` (the default reward and trajectories are unchanged).
* v0 (hemosim 0.4, issue #11): the default population is ``"calibrated"`` (IWPC 2009
  dose distribution, Lindh 2009 CYP2C9 effects, Gage 2008 body-size term, INR onset and
  offset fitted to Kovacs 2003 and White 1995); the published one stays selectable as
  ``population="hamberg2007"`` (or ``"iwpc"``). Observation, action and reward are
  unchanged, but results are not comparable with 0.3: on 1,000 held-out patients the
  fixed-dose protocol's TTR went from 47.5 to 54.1 %, random dosing from 34.7 to 16.7 %
  (``results/warfarin_evaluation.txt``). The hard tier's vitamin-K SD is 0.14 for the
  calibrated population (same 9 % within-subject INR CV target).
  (hemosim 0.2's env of the same id used an invented model whose INR could not exceed
  2.63; its results are not comparable.)

References
----------
Hamberg 2007 Clin Pharmacol Ther 81:529; Hamberg 2010 Clin Pharmacol Ther 87:727;
IWPC 2009 N Engl J Med 360:753; Gage 2008 Clin Pharmacol Ther 84:326; Nelson 2015 Int J Clin Pharm 37:53; Palareti 1996 Lancet 348:423;
Palareti 1997 Thromb Haemost 78:1438; Cannegieter 1995 N Engl J Med 333:11; Schulman &
Kearon 2005 J Thromb Haemost 3:692; Lindh 2009 Eur J Clin Pharmacol 65:365; White 1995
Ann Intern Med 122:40; Kovacs 2003 Ann Intern Med 138:714; Rosendaal 1993
Thromb Haemost 69:236; Hylek 1996 N Engl J Med 335:540; Fang 2004 Ann Intern Med
141:745; Pirmohamed 2013 N Engl J Med 369:2294; Parker 2007 J Gen Intern Med 22:1254.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from gymnasium import spaces
from numba import njit, prange

from hemosim.assays import INR_ANALYTICAL_CV, measure_inr
from hemosim.envs.warfarin_events import WARFARIN_EVENT_HAZARDS, WARFARIN_EVENTS, _draw_range, _kernel_constants
from hemosim.models._warfarin_kernel import advance_day_rows
from hemosim.models.warfarin import MODEL_STRUCTURES, WarfarinModel
from hemosim.envs.warfarin_user import SCENARIO_SCHEMA
from hemosim.patients.spec import rows_for_mask, split_options
from hemosim.patients.warfarin import (
    AMIODARONE_CL_MULTIPLIER,
    DEFAULT_POPULATION,
    POPULATIONS,
    WarfarinPatients,
    patient_schema,
    sample_patients,
    variability_readings,
)
from hemosim.sim import rng
from hemosim.sim.batch import BatchedSimulator, validate_options
from hemosim.sim.events import REWARD_MODES, EventLog, event_reward
from hemosim.sim.single import SingleEnv
from hemosim.sim.threads import chunk_count, use_parallel
from hemosim.sim.vector import BatchedVectorEnv

__all__ = [
    "MAX_DOSE_MG",
    "EPISODE_DAYS",
    "WarfarinSimulator",
    "WarfarinDosingEnv",
    "WarfarinDosingVectorEnv",
    "dose_mg_from_action",
    "action_from_dose_mg",
]

MAX_DOSE_MG = 15.0
EPISODE_DAYS = 90
TARGET_INR_LOW, TARGET_INR_HIGH = 2.0, 3.0
LOW_INR, HIGH_INR, SEVERE_INR = 1.5, 4.0, 6.0
REWARD_IN_RANGE, PENALTY_LOW, PENALTY_HIGH, PENALTY_SEVERE = 1.0, 0.5, 1.0, 2.0

DIFFICULTIES = ("easy", "medium", "hard")
_DEFAULT_VARIABILITY = {  # per model, per tier
    "hamberg2007": {"easy": "none", "medium": "cv_percent", "hard": "cv_percent"},
    "hamberg2010": {"easy": "none", "medium": "omega2", "hard": "omega2"},
}
MISSED_DOSE_BETA = (0.53, 2.29)  # Parker 2007: mean 18.8 % of days with too few pills; SD 20 %
AMIODARONE_START_FRACTION = 0.10
AMIODARONE_START_DAYS = (15, 75)
VITAMIN_K_RHO = 0.9
VITAMIN_K_LOG_SD = 0.32  # published populations: median within-subject INR CV 8.8-9.2 % over three seed blocks (0.25 gave 6.9-7.3 %); FACTS §8.1 8.6-10.2 %
VITAMIN_K_LOG_SD_CALIBRATED = 0.14  # calibrated population (steeper, faster INR), set the same way: 8.9-9.5 % (0.15: 9.5-10.2 %)

#: rows per chunk of the parallel day kernel (``hemosim.sim.threads.chunk_count``): chunks this
#: large keep two threads off each other's cache lines of the per-row flag arrays (4,096
#: patients, 2 threads, same machine and hour: 1.69 ms median in 8 chunks, 1.79 ms in 64)
DAY_CHUNK_ROWS = 512

_S_MISSED_P, _S_MISSED_DAY, _S_AMIO_START, _S_AMIO_DAY, _S_VITK = 201, 202, 203, 204, 205

_OPTIONS = {"difficulty": "medium", "population": None, "variability": None, "model": "hamberg2007", "reward_mode": "default"}


@njit(cache=True, inline="always")
def _score_rows(lo, hi, inr, low, high, parts, in_range, reward):  # pragma: no cover - compiled
    """Daily reward of rows ``lo:hi``, its components ``parts`` (N, 4) and the in-range flag,
    from the true INR: in range (+1), INR < 1.5 (-0.5), INR > 4 (-1), INR > 6 (a further
    -2); see the env card (Rewards) for their sources."""
    for n in range(lo, hi):
        x = inr[n]
        ok = low[n] <= x <= high[n]
        in_range[n] = ok
        parts[n, 0] = REWARD_IN_RANGE if ok else 0.0
        parts[n, 1] = -PENALTY_LOW if x < LOW_INR else 0.0
        parts[n, 2] = -PENALTY_HIGH if x > HIGH_INR else 0.0
        parts[n, 3] = -PENALTY_SEVERE if x > SEVERE_INR else 0.0
        reward[n] = parts[n, 0] + parts[n, 1] + parts[n, 2] + parts[n, 3]


@njit(cache=True)
def _observe(inr_measured, pk_mg, inv_v1, inv_v_r, day, obs):  # pragma: no cover - compiled
    """The dynamic columns of the observation (env card): measured INR / 6, S- and
    R-warfarin mg/L x 0.2 (each capped at 1) and day / 90; columns 3-6 are set at reset."""
    for n in range(obs.shape[0]):
        obs[n, 0] = min(np.float32(inr_measured[n] * (1.0 / 6.0)), np.float32(1.0))
        obs[n, 1] = min(np.float32(pk_mg[n, 1] * inv_v1[n] * 0.2), np.float32(1.0))
        obs[n, 2] = min(np.float32(pk_mg[n, 3] * inv_v_r[n] * 0.2), np.float32(1.0))
        obs[n, 7] = np.float32(day[n] * (1.0 / EPISODE_DAYS))


@njit(cache=True)
def _day_range(lo, hi, two_chains, pk, chain, depot, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, c_decay, c_p, c_w,
               inv_v1, ec50_g, gamma, inr_base, inr_max, inr_lambda, inr, low, high, parts, in_range, reward, alive,
               keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major, fatal_te, high_inr, flags,
               isth, cost):  # pragma: no cover - compiled
    """One day of rows ``lo:hi`` in one pass: the model's advance and INR
    (``_warfarin_kernel.advance_day_rows``), the reward (:func:`_score_rows`) and
    the clinical events (``warfarin_events.draw_warfarin_events``'s rows). Each row reads and
    writes only itself, so any split of the rows gives the same numbers."""
    advance_day_rows(lo, hi, two_chains, pk, chain, depot, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, c_decay,
                     c_p, c_w, inv_v1, ec50_g, gamma, inr_base, inr_max, inr_lambda, inr)
    _score_rows(lo, hi, inr, low, high, parts, in_range, reward)
    _draw_range(lo, hi, inr, alive, keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major,
                fatal_te, high_inr, flags, isth, cost)


@njit(cache=True)
def _day_serial(chunks, two_chains, pk, chain, depot, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, c_decay, c_p, c_w, inv_v1,
                ec50_g, gamma, inr_base, inr_max, inr_lambda, inr, low, high, parts, in_range, reward, alive, keys, day,
                edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major, fatal_te, high_inr, flags, isth,
                cost):  # pragma: no cover - compiled
    _day_range(0, pk.shape[0], two_chains, pk, chain, depot, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, c_decay,
               c_p, c_w, inv_v1, ec50_g, gamma, inr_base, inr_max, inr_lambda, inr, low, high, parts, in_range, reward,
               alive, keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major, fatal_te,
               high_inr, flags, isth, cost)


@njit(cache=True, parallel=True)
def _day_parallel(chunks, two_chains, pk, chain, depot, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, c_decay, c_p, c_w,
                  inv_v1, ec50_g, gamma, inr_base, inr_max, inr_lambda, inr, low, high, parts, in_range, reward, alive,
                  keys, day, edges, major_tab, te_tab, crnm_ratio, dt_h, ich_share, fatal_major, fatal_te, high_inr,
                  flags, isth, cost):  # pragma: no cover - compiled
    n = pk.shape[0]
    for c in prange(chunks):
        _day_range(c * n // chunks, (c + 1) * n // chunks, two_chains, pk, chain, depot, pk_prop, step_index,
                   c1_decay, c1_p, c1_w, c2, c_decay, c_p, c_w, inv_v1, ec50_g, gamma, inr_base, inr_max, inr_lambda,
                   inr, low, high, parts, in_range, reward, alive, keys, day, edges, major_tab, te_tab, crnm_ratio,
                   dt_h, ich_share, fatal_major, fatal_te, high_inr, flags, isth, cost)


def dose_mg_from_action(action: np.ndarray) -> np.ndarray:
    """Map actions in [0, 1] to racemic warfarin mg/day (the one documented mapping)."""
    return np.asarray(action, dtype=np.float64) * MAX_DOSE_MG


def action_from_dose_mg(dose_mg: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`dose_mg_from_action` (float32 action array)."""
    dose = np.asarray(dose_mg, dtype=np.float64)
    if np.any(~np.isfinite(dose)) or np.any((dose < 0) | (dose > MAX_DOSE_MG)):
        raise ValueError(f"dose {dose} mg is outside 0-{MAX_DOSE_MG} mg/day")
    return (dose / MAX_DOSE_MG).astype(np.float32)


class WarfarinSimulator(BatchedSimulator):
    """Batched warfarin titration: N patients, one daily dose decision each step."""

    observation_space = spaces.Box(0.0, 1.0, shape=(8,), dtype=np.float32)
    action_space = spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

    def __init__(self, num_patients: int, **options: Any) -> None:
        super().__init__(num_patients)
        opts = validate_options(options, _OPTIONS, "WarfarinDosing-v0")
        if opts["difficulty"] not in DIFFICULTIES:
            raise ValueError(f"unknown difficulty {opts['difficulty']!r}; allowed: {list(DIFFICULTIES)}")
        if opts["model"] not in MODEL_STRUCTURES:
            raise ValueError(f"unknown model {opts['model']!r}; allowed: {list(MODEL_STRUCTURES)}")
        if opts["reward_mode"] not in REWARD_MODES:
            raise ValueError(f"unknown reward_mode {opts['reward_mode']!r}; allowed: {list(REWARD_MODES)}")
        self.reward_mode: str = opts["reward_mode"]
        # default: "calibrated" for Hamberg 2007 (hemosim 0.4), "iwpc" for Hamberg 2010
        population = opts["population"] or DEFAULT_POPULATION[opts["model"]]
        if population not in POPULATIONS:
            raise ValueError(f"unknown population {population!r}; allowed: {sorted(POPULATIONS)}")
        self.difficulty: str = opts["difficulty"]
        self.population: str = population
        self.model_name: str = opts["model"]
        calibrated = POPULATIONS[population].calibrated
        if calibrated and self.model_name != "hamberg2007":
            raise ValueError(
                f"population {population!r} is calibrated on model 'hamberg2007'; with model {self.model_name!r} use "
                + ", ".join(repr(k) for k, v in POPULATIONS.items() if not v.calibrated)
            )
        allowed_variability = variability_readings(self.model_name, population)
        default_variability = (
            ("none" if self.difficulty == "easy" else "calibrated") if calibrated
            else _DEFAULT_VARIABILITY[self.model_name][self.difficulty]
        )
        self.variability: str = opts["variability"] or default_variability
        if self.variability not in allowed_variability:
            raise ValueError(
                f"unknown variability {self.variability!r} for model {self.model_name!r} and population "
                f"{population!r}; allowed: "
                + ", ".join(repr(a) for a in allowed_variability)
            )
        self.hard = self.difficulty == "hard"
        self.vitamin_k_log_sd = VITAMIN_K_LOG_SD_CALIBRATED if calibrated else VITAMIN_K_LOG_SD
        self.inr_cv = INR_ANALYTICAL_CV if self.hard else 0.0
        n = self.num_patients
        self.model = WarfarinModel(n, structure=self.model_name)
        self.patients: WarfarinPatients | None = None
        self._patient_info: dict[str, np.ndarray] = {}
        self.day = np.zeros(n, dtype=np.int64)
        self.dose_mg = np.zeros(n)
        self.dose_taken_mg = np.zeros(n)
        self.inr_true = np.ones(n)
        self.inr_measured = np.ones(n)
        self.reward_parts = np.zeros((n, 4))
        self.therapeutic = np.zeros(n, dtype=bool)
        self.target_low = np.full(n, TARGET_INR_LOW)
        self.target_high = np.full(n, TARGET_INR_HIGH)
        # hard tier
        self.missed_dose_probability = np.zeros(n)
        self.amiodarone_start_day = np.full(n, -1, dtype=np.int64)
        self.on_amiodarone = np.zeros(n, dtype=bool)
        self._obs = np.zeros((n, 8), dtype=np.float32)
        self.vitamin_k_z = np.zeros(n)
        self.ec50_typical = np.ones(n)
        # user-given patients and scenarios (reset options; hemosim.envs.warfarin_user)
        self.patient_schema = patient_schema(self.model_name, population)
        self.scenario_schema = SCENARIO_SCHEMA
        self._events_on = self.hard  # the scenario machinery runs (hard tier, or once a scenario is given)
        self.vitamin_k_sd = np.zeros(n)
        self.missed_days = np.zeros((n, EPISODE_DAYS), dtype=bool)
        self.missed_days_fixed = np.zeros(n, dtype=bool)
        self.events = EventLog(n, WARFARIN_EVENTS)  # clinical events (hemosim.envs.warfarin_events)

    # -- episode start -------------------------------------------------------------------
    def reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: Mapping[str, Any] | None) -> None:
        fixed, scenario = split_options(options, "WarfarinDosing-v0", int(mask.sum()) if not options else self.num_patients,
                                        self.patient_schema, self.scenario_schema)
        if options:
            fixed, scenario = rows_for_mask(fixed, mask), rows_for_mask(scenario, mask)
        new = sample_patients(keys, self.population, variability=self.variability, model=self.model_name, fixed=fixed)
        if "amiodarone_start_day" in scenario:  # checked before any state changes
            clash = scenario.mask("amiodarone_start_day") & new.amiodarone & (scenario.values["amiodarone_start_day"] > 0)
            if clash.any():
                raise ValueError(
                    "WarfarinDosing-v0 scenario: amiodarone_start_day = "
                    f"{int(scenario.values['amiodarone_start_day'][clash][0])} is given for a patient already on "
                    "amiodarone at baseline (patient amiodarone = True); allowed: -1 for such a patient, or set "
                    "patient amiodarone = False"
                )
        if self.patients is None:
            self.patients = new
            self._patient_info = new.as_info()
        else:
            _assign_patients(self.patients, mask, new)
            for name, values in new.as_info().items():
                self._patient_info[name][mask] = values
        if self.model_name == "hamberg2010":
            self.model.set_parameters(mask, new.model_parameters_2010())
        else:
            self.model.set_parameters(mask, new.model_parameters())
        self.on_amiodarone[mask] = new.amiodarone
        static_obs = np.stack(
            [(new.age_years - 20.0) / 75.0, (new.weight_kg - 40.0) / 110.0, new.cyp2c9_index / 5.0, new.vkorc1_index / 2.0],
            axis=1,
        )
        self._obs[mask, 3:7] = np.clip(static_obs, 0.0, 1.0)
        self.day[mask] = 0
        self.events.reset(mask)
        self.dose_mg[mask] = 0.0
        self.dose_taken_mg[mask] = 0.0
        self.reward_parts[mask] = 0.0
        self.target_low[mask] = new.target_inr - 0.5
        self.target_high[mask] = new.target_inr + 0.5
        self.inr_true[mask] = self.model.inr()[mask]
        self.therapeutic[mask] = (self.inr_true[mask] >= self.target_low[mask]) & (
            self.inr_true[mask] <= self.target_high[mask]
        )
        self.inr_measured[mask] = measure_inr(self.inr_true[mask], keys, 0, self.inr_cv)
        self.ec50_typical[mask] = self.model.params.ec50_mg_per_l[mask]
        self._events_on = self._events_on or scenario.any()
        if self._events_on:
            self._reset_scenario(mask, keys, new, scenario)

    def _reset_scenario(self, mask: np.ndarray, keys: np.ndarray, new: WarfarinPatients, scenario) -> None:
        """Missed doses, a mid-course amiodarone start and the vitamin-K course of the masked
        rows: the hard tier's draws (quiet defaults on the other tiers), then the user's
        ``options["scenario"]`` values (``hemosim.envs.warfarin_user``)."""
        m = int(mask.sum())
        if self.hard:
            a, b = MISSED_DOSE_BETA
            u = rng.uniform(keys, _S_MISSED_P)
            from scipy.special import betaincinv

            p_missed = betaincinv(a, b, u)
            starts = rng.bernoulli(keys, _S_AMIO_START, AMIODARONE_START_FRACTION) & ~new.amiodarone
            lo, hi = AMIODARONE_START_DAYS
            day = lo + np.floor(rng.uniform(keys, _S_AMIO_DAY) * (hi - lo + 1)).astype(np.int64)
            start_day = np.where(starts, day, -1)
            sd = np.full(m, self.vitamin_k_log_sd)
        else:
            p_missed, start_day, sd = np.zeros(m), np.full(m, -1, dtype=np.int64), np.zeros(m)
        self.missed_dose_probability[mask] = scenario.pick("missed_dose_probability", p_missed)
        self.amiodarone_start_day[mask] = scenario.pick("amiodarone_start_day", start_day)
        self.vitamin_k_sd[mask] = sd = scenario.pick("vitamin_k_log_sd", sd)
        days = np.zeros((m, EPISODE_DAYS), dtype=bool)
        given = scenario.mask("missed_dose_days")
        for j in np.flatnonzero(given):
            days[j, list(scenario.values["missed_dose_days"][j])] = True
        self.missed_days[mask] = days
        self.missed_days_fixed[mask] = given
        self.vitamin_k_z[mask] = sd * rng.normal(keys, _S_VITK, 0)
        self.model.update_ec50(self.ec50_typical * np.exp(self.vitamin_k_z))

    def _missed_today(self, keys: np.ndarray) -> np.ndarray:
        """Whether each patient misses today's dose (its own daily draw, or the given days)."""
        missed = rng.uniform(keys, _S_MISSED_DAY, self.day) < self.missed_dose_probability
        if self.missed_days_fixed.any():
            day = np.minimum(self.day, EPISODE_DAYS - 1)
            missed = np.where(self.missed_days_fixed, self.missed_days[np.arange(self.num_patients), day], missed)
        return missed

    # -- one day -------------------------------------------------------------------------
    def advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dose = dose_mg_from_action(actions[:, 0])
        self.dose_mg[:] = dose
        keys = self.patients.keys
        if self._events_on:
            missed = self._missed_today(keys)
            dose = np.where(missed, 0.0, dose)
        self.dose_taken_mg[:] = dose
        self.day += 1
        # clinical events from the true INR (env card, Rewards / cost); death ends the
        # episode only with reward_mode="events" (the default keeps the fixed 90-day horizon)
        events_mode = self.reward_mode == "events"
        log = self.events
        alive = log.alive.copy() if events_mode else None
        log.begin_step()
        n = self.num_patients
        inr, in_range, reward, cost = np.empty(n), np.empty(n, dtype=bool), np.empty(n), np.empty(n)
        # the model's day, INR, reward and events in one pass over the rows (_day_range)
        parallel = use_parallel(n)
        day_kernel = _day_parallel if parallel else _day_serial
        chunks = chunk_count(n, DAY_CHUNK_ROWS) if parallel else 1
        day_kernel(chunks, *self.model.day_kernel_arrays(dose), inr, self.target_low, self.target_high, self.reward_parts,
                   in_range, reward, log.alive, keys, self.day, *_kernel_constants(WARFARIN_EVENT_HAZARDS),
                   log.flag_block, log.isth_class, cost)  # cost: [INR > 4] + serious events
        if self._events_on:  # changes what later days do, not today's INR
            self._hard_tier_events(keys)
        self.inr_true = inr
        self.inr_measured = measure_inr(inr, keys, self.day, self.inr_cv)
        self.therapeutic = in_range
        terminated = np.zeros(n, dtype=bool)
        truncated = self.day >= EPISODE_DAYS
        log.end_step(cost)
        if events_mode:
            flags = self.events.flags
            reward = event_reward(flags, alive)
            terminated = flags["death"].copy()
        return reward, terminated, truncated

    def _hard_tier_events(self, keys: np.ndarray) -> None:
        starting = self.amiodarone_start_day == self.day
        if starting.any():
            cl = self.model.params.cl_s_l_per_h[starting] * AMIODARONE_CL_MULTIPLIER
            self.model.update_clearance(starting, cl)
            self.on_amiodarone[starting] = True
        eps = rng.normal(keys, _S_VITK, self.day)
        self.vitamin_k_z = VITAMIN_K_RHO * self.vitamin_k_z + self.vitamin_k_sd * np.sqrt(1 - VITAMIN_K_RHO**2) * eps
        self.model.update_ec50(self.ec50_typical * np.exp(self.vitamin_k_z))

    # -- what is seen --------------------------------------------------------------------
    def observation(self) -> np.ndarray:
        m = self.model
        _observe(self.inr_measured, m.pk_mg, m.inv_v1, m.inv_v_r, self.day, self._obs)
        return self._obs.copy()

    def info(self) -> dict[str, Any]:
        return {
            "inr": self.inr_true,
            "inr_measured": self.inr_measured,
            "dose_mg": self.dose_mg,
            "dose_taken_mg": self.dose_taken_mg,
            "therapeutic": self.therapeutic,
            "day": self.day,
            "s_warfarin_mg_per_l": self.model.s_concentration_mg_per_l(),
            "reward_in_range": self.reward_parts[:, 0],
            "reward_low": self.reward_parts[:, 1],
            "reward_high": self.reward_parts[:, 2],
            "reward_severe": self.reward_parts[:, 3],
            "on_amiodarone": self.on_amiodarone,
            **self.events.info(),
        }

    def info_row(self, row: int) -> dict[str, Any]:
        """Row ``row`` of :meth:`info` as Python scalars, built directly (the single env's
        fast path; equal to ``scalar_info(info(), row)``, tested)."""
        m, parts = self.model, self.reward_parts[row].tolist()
        return {
            "inr": self.inr_true.item(row),
            "inr_measured": self.inr_measured.item(row),
            "dose_mg": self.dose_mg.item(row),
            "dose_taken_mg": self.dose_taken_mg.item(row),
            "therapeutic": self.therapeutic.item(row),
            "day": self.day.item(row),
            "s_warfarin_mg_per_l": m.pk_mg.item(row, 1) * m.inv_v1.item(row),
            "reward_in_range": parts[0],
            "reward_low": parts[1],
            "reward_high": parts[2],
            "reward_severe": parts[3],
            "on_amiodarone": self.on_amiodarone.item(row),
            **self.events.info_row(row),
        }

    def static_info(self) -> dict[str, Any]:
        return {
            "target_inr_low": self.target_low,
            "target_inr_high": self.target_high,
            "patient": self._patient_info,
            "scenario": {
                "amiodarone_start_day": self.amiodarone_start_day,
                "missed_dose_probability": self.missed_dose_probability,
                "vitamin_k_log_sd": self.vitamin_k_sd,
            },
        }

    def render_rgb(self, history, title: str) -> np.ndarray:
        """The clinical chart of ``render_mode="rgb_array"`` (``hemosim.envs.charts``)."""
        from hemosim.envs.charts import warfarin_chart

        return warfarin_chart(history, title)


def _assign_patients(target: WarfarinPatients, mask: np.ndarray, new: WarfarinPatients) -> None:
    for name, value in vars(new).items():
        if isinstance(value, dict):
            for k, v in value.items():
                getattr(target, name)[k][mask] = v
        else:
            getattr(target, name)[mask] = value


class WarfarinDosingEnv(SingleEnv):
    __doc__ = __doc__
    simulator_cls = WarfarinSimulator


class WarfarinDosingVectorEnv(BatchedVectorEnv):
    __doc__ = __doc__
    simulator_cls = WarfarinSimulator
