"""``hemosim/HeparinInfusion-POMDP-v0``: heparin titration with laboratory results the agent must order.

Description
-----------
The patient, model and population of ``hemosim/HeparinInfusion-v0`` (the calibrated UFH
model of ``hemosim.models.heparin``, patients of ``hemosim.patients.heparin``: the same
seed gives the same patient, and the same doses give the same true trajectory), but
partially observed as at the bedside. Every hour the agent sets the infusion rate and an
optional bolus and may order an aPTT, an anti-Xa level and a platelet count, each
routine or STAT. A test draws a sample of the patient's TRUE state at the hour it is
ordered; its result (with the assay's error) is reported only after a sampled
turnaround, and each test costs money. Nothing about the patient is seen between
results. The laboratory logistics (turnaround by test and priority, analytical CV, cost:
FACTS §8.1) are ``hemosim.assays`` (``HEPARIN_PANEL``); pending orders, results and
their ages are state of the batched simulator. No public RL environment we know of
makes the agent order its own labs (FACTS §8.2: Nemati 2016 and its successors
observe a fixed sampling schedule; Cheng 2019 orders labs offline without a simulator).

What is known when. At hour ``h`` (a decision) the observation shows, for each test,
the result of the most recent *draw* that has been reported by ``h`` (a result that
arrives later but was drawn earlier never overwrites a newer one) and how long ago that
sample was drawn, and whether any order of the test is still pending. An order placed at
``h`` is drawn at ``h`` (before that hour's bolus) and reported at the first decision at
or after ``h + turnaround``, so at the earliest at ``h + 1``. The pre-treatment aPTT,
anti-Xa (0) and platelet count are drawn and known at hour 0.

Action Space
------------
``Box(0, 1, (5,), float32)``:

====  ==================  ========  =====================================================
idx   meaning             unit      mapping
====  ==================  ========  =====================================================
0     infusion rate       U/h       ``rate_u_per_h = 2500 * a0``, held for the next hour
1     bolus               U         ``bolus_u = a1 * 80 U/kg * weight`` at the start of
                                    the hour (HeparinInfusion-v0's mapping)
2     order aPTT          --        ``a < 1/3``: none; ``1/3 <= a < 2/3``: routine;
                                    ``a >= 2/3``: STAT
3     order anti-Xa       --        as 2
4     order platelets     --        as 2
====  ==================  ========  =====================================================

Actions outside [0, 1] or non-finite raise ``ValueError``; nothing is clipped.

Observation Space
-----------------
``Box(0, 1, (10,), float32)``:

====  ===================================  ============  ===================================
idx   meaning                              unit          normalisation
====  ===================================  ============  ===================================
0     last reported aPTT                   s             (aPTT - 20) / 180, clipped
1     last reported anti-Xa level          IU/mL         level / 1.0, clipped
2     last reported platelet count         x10^9/L       count / 400, clipped
3     hours since that aPTT was drawn      h             hours / 120, clipped
4     hours since that anti-Xa was drawn   h             hours / 120, clipped
5     hours since that count was drawn     h             hours / 120, clipped
6     pending orders                       --            ``(aPTT + 2 anti-Xa + 4 platelets)
                                                         / 7``, each 1 if an order of the
                                                         test is pending (``round(7 x)``
                                                         is the bit mask)
7     body weight                          kg            (weight - 40) / 140, clipped
8     renal function                       --            CrCl (mL/min) / 120, clipped
9     hours on therapy                     h             hours / 120
====  ===================================  ============  ===================================

Raw values are in ``info``: the true state (``aptt_true_s``, ``heparin_u_per_ml``,
``platelets_true_10e9_per_l``, ``elimination_factor``, ``therapeutic``, ``hit_active``),
the dose (``rate_u_per_h``, ``bolus_u``), the reported results (``aptt_reported_s``,
``anti_xa_reported_iu_per_ml``, ``platelets_reported_10e9_per_l``) with their draw
times (``*_draw_hours``), pending counts (``*_pending``), what was ordered this hour
(``*_ordered``: 0 none, 1 routine, 2 STAT), what arrived this hour (``*_arrived``),
``lab_cost_chf`` (this hour), ``hours``, the reward components and ``patient``.

Rewards
-------
The clinical reward of ``HeparinInfusion-v0`` on the true aPTT, at hourly resolution
(Rosendaal interpolation between hourly values) and scaled by 1/6 so that an episode's
clinical return is on the full env's scale (at most 20 for 120 h in range):
``reward_in_range`` (+1 x fraction of the hour with aPTT 46-70 s, / 6),
``reward_subtherapeutic`` (-0.5 x below 45 s, / 6), ``reward_supratherapeutic`` (-1 x
above 100 s, / 6), ``reward_dangerous`` (-2 x above 150 s, / 6), ``reward_hit`` (-1 x
time after HIT onset with heparin given, / 6); see the HeparinInfusion-v0 card for the
sources of each band. Minus the laboratory cost:
``reward_lab_cost = -lab_cost_weight x lab_cost_chf`` (default 0.001 per CHF: an aPTT,
23.40 CHF, costs as much reward as 8.4 minutes of therapeutic aPTT). The test cost is
not part of ``info["cost"]``, which is the safety channel of clinical events.

Clinical events and cost. Every hour each patient can have major bleeding or recurrent
thromboembolism, drawn with its own counter-based random numbers from
``HeparinInfusion-v0``'s hazards (``hemosim.envs.heparin_events``: per hour, of the true
aPTT path over the hour, early sub-therapeutic time and the HIT course; see that card
for the sources), and ``hit`` is True in the hour the HIT course starts.
``info["events"]`` holds ``major_bleeding``, ``thromboembolism`` and ``hit`` (all False at
reset), ``info["bleeding_isth_class"]`` the hour's bleed by ISTH 2005 (0 or 3) and
``info["cost"]`` (Safety-Gymnasium convention, 0.0 at reset) is ``major_bleeding +
thromboembolism + hit`` plus the time with the true aPTT above 100 s in units of 6 h
(an hour above 100 s counts 1/6, so an episode's cost is on the full env's scale). The
hazards are the same per hour; the random numbers are drawn per hour, so a patient's
events are not those of the same seed in ``HeparinInfusion-v0`` (its true trajectory
under the same doses is). The 4Ts score (``hit_4ts`` of the full env) is not reported:
the platelet course known here is the one the agent ordered.

``reward_mode="events"`` replaces the clinical reward by ``1/6`` per hour alive at its
start minus ``EVENT_PENALTIES`` (``hemosim.sim.events``: major bleeding 10,
thromboembolism 10, HIT 5), minus the laboratory cost as above.

Starting State
--------------
``HeparinInfusion-v0``'s: a heparin-naive inpatient, heparin level 0, the patient's own
baseline aPTT and platelet count; pre-treatment aPTT, anti-Xa (0) and platelet count
reported at hour 0 (with assay error in the medium and hard tiers) and no order pending.

Episode End
-----------
Truncated after 120 decisions (120 h). No early termination.

Arguments
---------
``gym.make("hemosim/HeparinInfusion-POMDP-v0", difficulty="medium", hit_incidence=None,
lab_cost_weight=0.001, turnaround=None, stat_cost_factor=1.0, reward_mode="default")``.
Unknown arguments raise ``ValueError``.

* ``difficulty``: the tiers of ``HeparinInfusion-v0`` (``"easy"``: typical PK, exact
  results, every turnaround exactly its median; ``"medium"`` (default): between- and
  within-patient variability, assay error, log-normal turnaround; ``"hard"``: as medium
  plus HIT).
* ``hit_incidence``: as in ``HeparinInfusion-v0``.
* ``lab_cost_weight``: reward per CHF of laboratory cost (float >= 0; 0 makes tests free).
* ``turnaround``: ``"sampled"`` (log-normal), ``"median"`` or ``"none"`` (every result
  at the next decision; the oracle used to measure the delay penalty); ``None`` = the
  tier's.
* ``stat_cost_factor``: STAT cost / routine cost (default 1: FACTS §8.1 has no STAT
  surcharge, so STAT costs the same as routine and is faster).
* ``reward_mode``: ``"default"`` (the reward above) or ``"events"`` (the event-based
  reward of Rewards).

Laboratory (``hemosim.assays.HEPARIN_PANEL``, FACTS §8.1):

=========  ========  ========================  ======================  ==========
test       CV        routine TAT median (h)    STAT TAT median (h)     cost (CHF)
=========  ========  ========================  ======================  ==========
aPTT       2.9 %     1.42 (log-SD 0.69)        0.67 (log-SD 0.39)      23.40
anti-Xa    5 %       4.0 (log-SD 0.69)         2.0 (log-SD 0.39)       24.15
platelets  4 %       0.75 (log-SD 0.93)        0.33 (log-SD 0.58)      15.00
=========  ========  ========================  ======================  ==========

aPTT and platelet turnarounds are the PT and WBC rows of a national intra-laboratory
survey (Biochem Med 2015;25:213, median and 10th-90th percentiles); anti-Xa medians are
UCHealth (STAT 2 h) and Albany Med (routine 4 h) with the PT spread (an assumption);
CVs: aPTT Sysmex/KoaguLab duplicates, anti-Xa PMC6009553, platelets the CELL-DYN 3200
manual's bound; costs: Swiss total costs per test (PMC6009553); the platelet count's is
UNCONFIRMED (a secondary US fee, USD at parity). Intra-laboratory turnaround leaves out
the time from the bedside to the laboratory, so the delays are, if anything, short.
Every turnaround is capped at 48 h. The log-normal keeps each published median exactly;
its 10th / 90th percentiles miss the survey's by about 1 % (aPTT routine), +10 % (aPTT
STAT), -20 % (platelets routine, a right-skewed survey row) and +5 % (platelets STAT)
(``tests/models/test_lab_logistics.py``).

Vector Env
----------
``gym.make_vec("hemosim/HeparinInfusion-POMDP-v0", num_envs=N,
vectorization_mode="vector_entry_point")``: the N patients in one compiled loop
(``NEXT_STEP`` autoreset). Patient ``i`` of a vector env seeded ``s`` is the single env
seeded ``s + i``, and the same patient as ``HeparinInfusion-v0`` seeded ``s + i``.

Baselines
---------
``hemosim.agents.heparin_pomdp``: the Raschke nomogram on its schedule (aPTT 6 h after
every change, daily after two consecutive therapeutic results), the Michigan anti-Xa
nomogram (anti-Xa 6-hourly), Raschke dosing with every test STAT every hour, and a
no-laboratory weight-based infusion. ``hemosim calibrate heparin-pomdp`` evaluates them
on the 1,000 held-out patients (seeds 100000-100999, medium tier; ``results/heparin_pomdp.txt``);
TTR of the true aPTT (46-70 s, Rosendaal) on hourly / 6-hourly values:

==============================================  =======  =======  ==============  ==========  ======
policy                                          TTR 1 h  TTR 6 h  tests / pt-day  CHF / pt    return
==============================================  =======  =======  ==============  ==========  ======
Raschke, aPTT on schedule, routine              72.8 %   74.8 %   2.47            255         12.46
Raschke, aPTT on schedule, STAT                 74.2 %   75.9 %   2.50            258         12.91
Raschke, on schedule, no turnaround (oracle)    74.4 %   76.1 %   2.50            259         12.96
anti-Xa nomogram (Michigan), anti-Xa q6h        56.2 %   56.6 %   3.80            422         7.21
STAT everything every hour (Raschke dosing)     77.2 %   80.1 %   72.00           7,506       6.57
no laboratory (80 U/kg + 18 U/kg/h held)        49.4 %   49.1 %   0               0           4.25
==============================================  =======  =======  ==============  ==========  ======

The same nomogram fully observed (``HeparinInfusion-v0``, 6-h decisions, an instant aPTT
every 6 h) reaches 76.6 % (6-hourly). Of its 1.9-point loss here, 0.6 is the published
schedule (daily once stable) with a result an hour after the draw and 1.3 the routine
turnaround (oracle minus routine), i.e. a 7-9 h instead of a 6-h adjustment cycle.
The anti-Xa nomogram's low TTR on the aPTT is the model's anti-Xa / aPTT relation (it is 57.3 % fully
observed too, ``results/raschke_trial.txt``), not the delay.

Version History
---------------
* v0 (hemosim 0.3): first version. The hourly step re-implements the physics of
  ``HeparinInfusion-v0``'s 6-h step with the same model functions (the within-patient
  elimination factor changes every 6 h as there). Clinical events, ``info["cost"]``
  and ``reward_mode="events"`` (issue #13's heparin hazards, drawn hourly) added without
  changing the default reward or any trajectory.

References
----------
Raschke 1993 Ann Intern Med 119:874; Biochem Med 2015;25:213 (turnaround survey);
PMC6009553 (Swiss UFH monitoring: anti-Xa CV, costs); Nemati 2016 IEEE EMBC 2978; Cheng
2019 PSB 24:320; and the references of the HeparinInfusion-v0 card.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces
from numba import njit, prange

from hemosim import assays
from hemosim.assays import APTT_REPORT_MAX_S, HEPARIN_PANEL, ROUTINE, STAT, deliver_row, order_row
from hemosim.envs.heparin import (
    _APTT,
    _B,
    _BOLUS,
    _BUF_APTT0,
    _BUF_B,
    _BUF_C,
    _BUF_K,
    _BUF_KINT,
    _BUF_R,
    _BUF_T0,
    _C,
    _FALL,
    _HOURS,
    _IOV,
    _ONSET,
    _PK_BMAX,
    _PK_K,
    _PK_KINT,
    _PK_KON,
    _PLT,
    _PLT0,
    _R_DANGER,
    _R_HIT,
    _R_IN,
    _R_SUB,
    _R_SUPRA,
    _RATE,
    _RENAL,
    _SENS,
    _APTT0,
    _V,
    _W,
    DANGEROUS_APTT_S,
    DIFFICULTIES,
    OBS_APTT_OFFSET_S,
    OBS_APTT_SCALE_S,
    OBS_PLATELETS_SCALE_10E9_PER_L,
    OBS_WEIGHT_OFFSET_KG,
    OBS_WEIGHT_SCALE_KG,
    STEP_CHUNK_ROWS,
    STEP_HOURS as FULL_ENV_STEP_HOURS,
    SUBTHERAPEUTIC_APTT_S,
    SUPRA_APTT_S,
    THERAPEUTIC_APTT_S,
    W_DANGER,
    W_HIT,
    W_IN_RANGE,
    W_SUB,
    W_SUPRA,
    HeparinSimulator,
    _dose_scalar,
    _draw_events_range,
    _frac,
    _sigma,
)
from hemosim.envs.heparin_events import HEPARIN_EVENT_HAZARDS, HEPARIN_EVENTS, event_constants
from hemosim.models.heparin import advance_rows, aptt_scalar_s
from hemosim.patients.heparin import STREAM_ELIMINATION_IOV, hit_platelets_scalar_10e9_per_l
from hemosim.sim import rng_compiled
from hemosim.sim.batch import BatchedSimulator, state_columns, validate_options
from hemosim.sim.events import REWARD_MODES, event_reward
from hemosim.sim.single import SingleEnv
from hemosim.sim.vector import BatchedVectorEnv
from hemosim.sim.threads import chunk_count, use_parallel

__all__ = [
    "STEP_HOURS",
    "EPISODE_STEPS",
    "EPISODE_HOURS",
    "LAB_TESTS",
    "OBS_HOURS_SCALE",
    "DEFAULT_LAB_COST_WEIGHT",
    "EVENT_KEYS",
    "order_levels",
    "action_from_orders",
    "HeparinPomdpSimulator",
    "HeparinInfusionPomdpEnv",
    "HeparinInfusionPomdpVectorEnv",
]

STEP_HOURS = 1.0
EPISODE_STEPS = 120
EPISODE_HOURS = STEP_HOURS * EPISODE_STEPS
OBS_HOURS_SCALE = 120.0
#: reward per CHF of laboratory cost (a documented option; see the env card)
DEFAULT_LAB_COST_WEIGHT = 1e-3
#: clinical reward per hour = the full env's per-step weights x fraction of the hour x 1/6
REWARD_SCALE = STEP_HOURS / FULL_ENV_STEP_HOURS
#: the tests of the panel, in action / observation order
LAB_TESTS = tuple(t.name for t in HEPARIN_PANEL)
_T_APTT, _T_AXA, _T_PLT = range(3)
#: the clinical events drawn (those of HeparinInfusion-v0, ``hemosim.envs.heparin_events``)
EVENT_KEYS = HEPARIN_EVENTS

_OPTIONS = {
    "difficulty": "medium",
    "hit_incidence": None,
    "lab_cost_weight": DEFAULT_LAB_COST_WEIGHT,
    "turnaround": None,
    "stat_cost_factor": 1.0,
    "reward_mode": "default",
}



@njit(cache=True, inline="always")
def _order_level(a: float) -> int:
    """0 none, 1 routine, 2 STAT from an action component in [0, 1] (see the card)."""
    if a < 1.0 / 3.0:
        return 0
    if a < 2.0 / 3.0:
        return 1
    return 2


def order_levels(actions: np.ndarray) -> np.ndarray:
    """The order level (0 none, 1 routine, 2 STAT) of action components 2-4, shape ``(..., 3)``."""
    a = np.asarray(actions, dtype=np.float64)[..., 2:5]
    return np.where(a < 1.0 / 3.0, 0, np.where(a < 2.0 / 3.0, 1, 2))


def action_from_orders(levels: np.ndarray) -> np.ndarray:
    """Action components (the middle of each band) for order levels 0 / 1 / 2, float32."""
    lv = np.asarray(levels)
    if np.any((lv < 0) | (lv > 2)):
        raise ValueError(f"order levels must be 0 (none), 1 (routine) or 2 (STAT), got {lv}")
    return ((lv + 0.5) / 3.0).astype(np.float32)


@njit(cache=True)
def _observe_row(i, state, params, rep_value, rep_draw_h, n_pending, obs):  # pragma: no cover - jitted
    hours = state[i, _HOURS]
    obs[i, 0] = min(max((rep_value[i, _T_APTT] - OBS_APTT_OFFSET_S) / OBS_APTT_SCALE_S, 0.0), 1.0)
    obs[i, 1] = min(max(rep_value[i, _T_AXA], 0.0), 1.0)
    obs[i, 2] = min(max(rep_value[i, _T_PLT] / OBS_PLATELETS_SCALE_10E9_PER_L, 0.0), 1.0)
    for t in range(3):
        obs[i, 3 + t] = min(max((hours - rep_draw_h[i, t]) / OBS_HOURS_SCALE, 0.0), 1.0)
    mask = 0
    for t in range(3):
        if n_pending[i, t] > 0:
            mask += 1 << t
    obs[i, 6] = mask / 7.0
    obs[i, 7] = min(max((params[i, _W] - OBS_WEIGHT_OFFSET_KG) / OBS_WEIGHT_SCALE_KG, 0.0), 1.0)
    obs[i, 8] = params[i, _RENAL]
    obs[i, 9] = min(max(hours / OBS_HOURS_SCALE, 0.0), 1.0)


@njit(cache=True)
def _observe_rows(rows, state, params, rep_value, rep_draw_h, n_pending, obs):  # pragma: no cover - jitted
    """:func:`_observe_row` of each row in ``rows``."""
    for j in range(rows.shape[0]):
        _observe_row(rows[j], state, params, rep_value, rep_draw_h, n_pending, obs)


@njit(cache=True)
def _baseline_rows(rows, state, keys, value_sigmas, out):  # pragma: no cover - jitted
    """Pre-treatment results (drawn at hour 0, counter 0) of the reset rows: ``out (M, 3)``."""
    for j in range(rows.shape[0]):
        i = rows[j]
        key = keys[i]
        for t in range(3):
            true = state[i, _APTT] if t == _T_APTT else (state[i, _C] if t == _T_AXA else state[i, _PLT])
            z = 0.0
            if value_sigmas[t] > 0.0:
                z = rng_compiled.normal(key, _BASELINE_STREAMS[t], 0)
            v = true
            if value_sigmas[t] > 0.0:
                v = true * math.exp(value_sigmas[t] * z - 0.5 * value_sigmas[t] * value_sigmas[t])
            if t == _T_APTT:
                v = min(v, APTT_REPORT_MAX_S)
            out[j, t] = v


_BASELINE_STREAMS = np.array([t.stream_value for t in HEPARIN_PANEL], dtype=np.int64)


@njit(cache=True)
def _step_range(
    lo, hi, actions, state, params, pk, buf, keys, sig_iov,
    value_sigmas, tat_median_h, tat_log_sd, cost_chf, stream_value, stream_tat,
    pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
    rep_value, rep_draw_h, rep_arrival_h,
    lab_cost_chf, ordered, arrived, lab_cost_weight, obs, reward, truncated,
):  # pragma: no cover - jitted
    """One hour of every row: lab orders drawn from the state at the start of the hour,
    the dose and the physics of ``HeparinInfusion-v0`` over ``dt = 1 h`` (the same model
    functions; the within-patient elimination factor is the one of the full env's 6-h
    interval containing the hour), then the results that have arrived by the end. Rows
    ``lo:hi``; each row's result depends only on that row (any split gives the same numbers)."""
    dt = STEP_HOURS
    c = buf[_BUF_C]
    b = buf[_BUF_B]
    r = buf[_BUF_R]
    kint = buf[_BUF_KINT]
    k_lin = buf[_BUF_K]
    for i in range(lo, hi):
        t0 = state[i, _HOURS]
        hour = int(t0 / dt + 0.5)
        # laboratory: draw at t0 (the state before this hour's bolus)
        cost = 0.0
        for t in range(3):
            level = _order_level(actions[i, 2 + t])
            ordered[i, t] = level
            if level > 0:
                p = ROUTINE if level == 1 else STAT
                true = state[i, _APTT] if t == _T_APTT else (state[i, _C] if t == _T_AXA else state[i, _PLT])
                vmax = APTT_REPORT_MAX_S if t == _T_APTT else math.inf
                order_row(
                    i, t, p, true, t0, hour + 1, keys[i], value_sigmas[t], vmax,
                    tat_median_h, tat_log_sd, stream_value, stream_tat,
                    pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
                )
                cost += cost_chf[t, p]
        lab_cost_chf[i] = cost
        # physics: as HeparinInfusion-v0's step, the elimination factor of its 6-h interval
        f = 1.0
        if sig_iov > 0.0:
            interval = int(t0 / FULL_ENV_STEP_HOURS + 1e-9) + 1
            f = math.exp(sig_iov * rng_compiled.normal(keys[i], STREAM_ELIMINATION_IOV, interval))
        kint[i] = pk[_PK_KINT, i] * f
        k_lin[i] = pk[_PK_K, i] * f
        state[i, _IOV] = f
        rate, bolus = _dose_scalar(actions[i, 0], actions[i, 1], params[i, _W])
        state[i, _RATE] = rate
        state[i, _BOLUS] = bolus
        v = params[i, _V]
        c[i] = state[i, _C] + bolus / v
        b[i] = state[i, _B]
        r[i] = rate / v
    advance_rows(c[lo:hi], b[lo:hi], r[lo:hi], pk[_PK_KON, lo:hi], pk[_PK_BMAX, lo:hi], kint[lo:hi], k_lin[lo:hi], dt)
    for i in range(lo, hi):
        rate = state[i, _RATE]
        bolus = state[i, _BOLUS]
        t0 = state[i, _HOURS]
        t1 = t0 + dt
        a0 = state[i, _APTT]
        a1 = aptt_scalar_s(c[i], params[i, _APTT0], params[i, _SENS])
        r_in = REWARD_SCALE * W_IN_RANGE * _frac(a0, a1, THERAPEUTIC_APTT_S[0], THERAPEUTIC_APTT_S[1])
        r_sub = -REWARD_SCALE * W_SUB * _frac(a0, a1, -math.inf, SUBTHERAPEUTIC_APTT_S)
        r_supra = -REWARD_SCALE * W_SUPRA * _frac(a0, a1, SUPRA_APTT_S, math.inf)
        r_danger = -REWARD_SCALE * W_DANGER * _frac(a0, a1, DANGEROUS_APTT_S, math.inf)
        onset = params[i, _ONSET]
        r_hit = 0.0
        if onset < t1 and (rate > 0.0 or bolus > 0.0):
            r_hit = -REWARD_SCALE * W_HIT * (t1 - max(onset, t0)) / dt
        state[i, _C] = c[i]
        state[i, _B] = b[i]
        state[i, _HOURS] = t1
        state[i, _APTT] = a1
        state[i, _PLT] = hit_platelets_scalar_10e9_per_l(params[i, _PLT0], onset, params[i, _FALL], t1)
        state[i, _R_IN] = r_in
        state[i, _R_SUB] = r_sub
        state[i, _R_SUPRA] = r_supra
        state[i, _R_DANGER] = r_danger
        state[i, _R_HIT] = r_hit
        cost_i = lab_cost_chf[i]
        reward[i] = r_in + r_sub + r_supra + r_danger + r_hit - lab_cost_weight * cost_i
        for t in range(3):
            arrived[i, t] = deliver_row(
                i, t, t1 + 1e-9, pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
                rep_value, rep_draw_h, rep_arrival_h,
            ) > 0
        truncated[i] = int(t1 / dt + 0.5) >= EPISODE_STEPS
        _observe_row(i, state, params, rep_value, rep_draw_h, n_pending, obs)


@njit(cache=True)
def _step_events_range(
    lo, hi, actions, state, params, pk, buf, keys, sig_iov,
    value_sigmas, tat_median_h, tat_log_sd, cost_chf, stream_value, stream_tat,
    pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
    rep_value, rep_draw_h, rep_arrival_h,
    lab_cost_chf, ordered, arrived, lab_cost_weight, obs, reward, truncated,
    consts, flags, isth, cost,
):  # pragma: no cover - jitted
    """One hour of rows ``lo:hi`` (:func:`_step_range`) and the hour's clinical events:
    ``HeparinInfusion-v0``'s hazards of the true aPTT path and HIT course
    (``hemosim.envs.heparin._draw_events_range``, 1-h steps, reward components scaled back
    by 1 / ``REWARD_SCALE``), from the aPTT and hours at the hour's start kept in ``buf``."""
    aptt_start = buf[_BUF_APTT0]
    t_start = buf[_BUF_T0]
    for i in range(lo, hi):
        aptt_start[i] = state[i, _APTT]
        t_start[i] = state[i, _HOURS]
    _step_range(
        lo, hi, actions, state, params, pk, buf, keys, sig_iov, value_sigmas, tat_median_h, tat_log_sd, cost_chf,
        stream_value, stream_tat, pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h, rep_value,
        rep_draw_h, rep_arrival_h, lab_cost_chf, ordered, arrived, lab_cost_weight, obs, reward, truncated,
    )
    _draw_events_range(lo, hi, state, params, keys, aptt_start, t_start, STEP_HOURS, REWARD_SCALE, consts, flags, isth,
                       cost)


@njit(cache=True)
def _step_serial(
    chunks, actions, state, params, pk, buf, keys, sig_iov,
    value_sigmas, tat_median_h, tat_log_sd, cost_chf, stream_value, stream_tat,
    pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
    rep_value, rep_draw_h, rep_arrival_h,
    lab_cost_chf, ordered, arrived, lab_cost_weight, obs, reward, truncated,
    consts, flags, isth, cost,
):  # pragma: no cover - jitted
    _step_events_range(
        0, state.shape[0], actions, state, params, pk, buf, keys, sig_iov, value_sigmas, tat_median_h, tat_log_sd,
        cost_chf, stream_value, stream_tat, pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
        rep_value, rep_draw_h, rep_arrival_h, lab_cost_chf, ordered, arrived, lab_cost_weight, obs, reward, truncated,
        consts, flags, isth, cost,
    )


@njit(cache=True, parallel=True)
def _step_parallel(
    chunks, actions, state, params, pk, buf, keys, sig_iov,
    value_sigmas, tat_median_h, tat_log_sd, cost_chf, stream_value, stream_tat,
    pend_arrival_h, pend_draw_h, pend_value, n_pending, next_arrival_h,
    rep_value, rep_draw_h, rep_arrival_h,
    lab_cost_chf, ordered, arrived, lab_cost_weight, obs, reward, truncated,
    consts, flags, isth, cost,
):  # pragma: no cover - jitted
    n = state.shape[0]
    for ch in prange(chunks):
        _step_events_range(
            ch * n // chunks, (ch + 1) * n // chunks, actions, state, params, pk, buf, keys, sig_iov, value_sigmas,
            tat_median_h, tat_log_sd, cost_chf, stream_value, stream_tat, pend_arrival_h, pend_draw_h, pend_value,
            n_pending, next_arrival_h, rep_value, rep_draw_h, rep_arrival_h, lab_cost_chf, ordered, arrived,
            lab_cost_weight, obs, reward, truncated, consts, flags, isth, cost,
        )


def _step(*args) -> None:
    """One hour of every row with its events (:func:`_step_events_range`), in parallel chunks
    of at least ``HeparinInfusion-v0``'s ``STEP_CHUNK_ROWS`` rows for large batches (the same
    lock-step integrator; any split gives the same numbers)."""
    n = args[1].shape[0]
    if use_parallel(n):
        _step_parallel(chunk_count(n, STEP_CHUNK_ROWS), *args)
    else:
        _step_serial(1, *args)


#: info keys that are a column of the inner simulator's state, in the order of the info
_INFO_STATE_HEAD = (
    ("aptt_true_s", _APTT), ("heparin_u_per_ml", _C), ("platelets_true_10e9_per_l", _PLT),
    ("elimination_factor", _IOV), ("rate_u_per_h", _RATE), ("bolus_u", _BOLUS),
)
_INFO_STATE_REWARD = (
    ("reward_in_range", _R_IN), ("reward_subtherapeutic", _R_SUB), ("reward_supratherapeutic", _R_SUPRA),
    ("reward_dangerous", _R_DANGER), ("reward_hit", _R_HIT),
)
_INFO_REPORTED = ("aptt_reported_s", "anti_xa_reported_iu_per_ml", "platelets_reported_10e9_per_l")
#: every state column the info shows
_INFO_COLUMNS = tuple(dict.fromkeys([c for _, c in _INFO_STATE_HEAD + _INFO_STATE_REWARD] + [_HOURS]))


class HeparinPomdpSimulator(BatchedSimulator):
    """Batched UFH titration with ordered, delayed, noisy laboratory results (hourly).

    Composition: the patients, their parameters and the true state live in an inner
    :class:`hemosim.envs.heparin.HeparinSimulator` (reset by its own code, so the same key
    gives the same patient); this class adds the laboratory state
    (:class:`hemosim.assays.LabOrders`) and steps both with its hourly kernel.
    """

    observation_space = spaces.Box(0.0, 1.0, shape=(10,), dtype=np.float32)
    action_space = spaces.Box(0.0, 1.0, shape=(5,), dtype=np.float32)

    def __init__(self, num_patients: int, **options: Any) -> None:
        super().__init__(num_patients)
        opts = validate_options(options, _OPTIONS, "HeparinInfusion-POMDP-v0")
        if opts["difficulty"] not in DIFFICULTIES:
            raise ValueError(f"unknown difficulty {opts['difficulty']!r}; allowed: {list(DIFFICULTIES)}")
        if opts["reward_mode"] not in REWARD_MODES:
            raise ValueError(f"unknown reward_mode {opts['reward_mode']!r}; allowed: {list(REWARD_MODES)}")
        w = opts["lab_cost_weight"]
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (math.isfinite(w) and w >= 0.0):
            raise ValueError(f"lab_cost_weight must be a finite number >= 0 (reward per CHF), got {w!r}")
        turnaround = opts["turnaround"]
        if turnaround is None:
            turnaround = "median" if opts["difficulty"] == "easy" else "sampled"
        self.inner = HeparinSimulator(self.num_patients, difficulty=opts["difficulty"], hit_incidence=opts["hit_incidence"])
        self.difficulty: str = opts["difficulty"]
        self.turnaround: str = turnaround
        self.lab_cost_weight = float(w)
        self.reward_mode: str = opts["reward_mode"]
        self.panel = HEPARIN_PANEL
        self._panel = assays.panel_arrays(self.panel, turnaround, opts["stat_cost_factor"])
        self.stat_cost_factor = float(opts["stat_cost_factor"])
        cvs = (self.inner.cv_aptt, self.inner.cv_axa, self.inner.cv_plt)  # the tier's assay CVs (0 in easy)
        self._value_sigmas = np.array([_sigma(cv) for cv in cvs])
        n = self.num_patients
        self.labs = assays.LabOrders(n, len(self.panel), assays.slots_needed(STEP_HOURS))
        self._lab_cost_chf = np.zeros(n)
        self._ordered = np.zeros((n, 3), dtype=np.int64)
        self._arrived = np.zeros((n, 3), dtype=bool)
        self._test_keys = [(t, f"{name}_draw_hours", f"{name}_pending", f"{name}_ordered", f"{name}_arrived") for t, name in enumerate(LAB_TESTS)]
        self._obs = np.zeros((n, 10), dtype=np.float32)
        self._reward = np.zeros(n)
        self._truncated = np.zeros(n, dtype=bool)

    # -- episode start -------------------------------------------------------------------
    def reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: Mapping[str, Any] | None) -> None:
        inner = self.inner
        inner.env_name = "HeparinInfusion-POMDP-v0"
        inner.reset_patients(mask, keys, options)  # options["patient"]: hemosim.envs.heparin_user
        rows = np.flatnonzero(mask)
        baseline = np.empty((rows.shape[0], 3))
        _baseline_rows(rows, inner.state, inner.keys, self._value_sigmas, baseline)
        self.labs.reset(mask, baseline, 0.0)
        self._lab_cost_chf[mask] = 0.0
        self._ordered[mask] = 0
        self._arrived[mask] = False
        _observe_rows(rows, inner.state, inner.params, self.labs.reported_value, self.labs.reported_draw_h,
                      self.labs.n_pending, self._obs)

    # -- one hour ------------------------------------------------------------------------
    def advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inner, labs, p = self.inner, self.labs, self._panel
        log = inner.events
        log.begin_step()
        # clinical events: HeparinInfusion-v0's hazards of the true aPTT path and HIT course,
        # drawn hourly (the 4Ts inputs are not tracked: the platelet course is what the agent
        # ordered); cost: serious events + the hour's share of a 6-h step with the aPTT > 100 s
        cost = np.empty(self.num_patients)
        _step(
            actions, inner.state, inner.params, inner._pk, inner._buf, inner.keys, inner.iov_log_sd,
            self._value_sigmas, p["tat_median_h"], p["tat_log_sd"], p["cost_chf"], p["stream_value"], p["stream_turnaround"],
            *labs.pending_arrays(), *labs.reported_arrays(),
            self._lab_cost_chf, self._ordered, self._arrived, self.lab_cost_weight, self._obs, self._reward, self._truncated,
            event_constants(HEPARIN_EVENT_HAZARDS), log.flag_block, log.isth_class, cost,
        )
        log.end_step(cost)
        reward = self._reward.copy()
        if self.reward_mode == "events":
            alive = inner.events.alive
            reward = event_reward(inner.events.flags, alive) - (1.0 - REWARD_SCALE) * alive - self.lab_cost_weight * self._lab_cost_chf
        return reward, np.zeros(self.num_patients, dtype=bool), self._truncated.copy()

    # -- what is seen --------------------------------------------------------------------
    def observation(self) -> np.ndarray:
        return self._obs.copy()

    def info(self) -> dict[str, Any]:
        """Per-step info (views of the state: the env faces copy them)."""
        return self._info_tree(fresh=False)

    def fresh_info(self) -> dict[str, Any]:
        """:meth:`info` in new arrays: one gather of the state's columns, one copy per lab table."""
        return self._info_tree(fresh=True)

    def _info_tree(self, fresh: bool) -> dict[str, Any]:
        s, labs = self.inner.state, self.labs

        def by_test(table: np.ndarray) -> np.ndarray:  # (N, 3) -> its columns: views, or rows of a new (3, N) copy
            return np.ascontiguousarray(table.T) if fresh else table.T

        col = state_columns(s, _INFO_COLUMNS, fresh)
        aptt = col[_APTT]
        hours = col[_HOURS]
        info: dict[str, Any] = {key: col[c] for key, c in _INFO_STATE_HEAD}
        info["therapeutic"] = (aptt >= THERAPEUTIC_APTT_S[0]) & (aptt <= THERAPEUTIC_APTT_S[1])
        info["hit_active"] = self.inner.params[:, _ONSET] < hours
        info["hours"] = hours
        reported = by_test(labs.reported_value)
        for t, key in enumerate(_INFO_REPORTED):
            info[key] = reported[t]
        draw_h, pending = by_test(labs.reported_draw_h), by_test(labs.n_pending)
        ordered, arrived = by_test(self._ordered), by_test(self._arrived)
        for t, k_draw, k_pending, k_ordered, k_arrived in self._test_keys:
            info[k_draw] = draw_h[t]
            info[k_pending] = pending[t]
            info[k_ordered] = ordered[t]
            info[k_arrived] = arrived[t]
        info["lab_cost_chf"] = self._lab_cost_chf.copy() if fresh else self._lab_cost_chf
        info.update({key: col[c] for key, c in _INFO_STATE_REWARD})
        info["reward_lab_cost"] = -self.lab_cost_weight * self._lab_cost_chf
        info.update(self.inner.events.info(fresh))
        return info

    def info_row(self, row: int) -> dict[str, Any]:
        """Row ``row`` of :meth:`info` as Python scalars, built directly (the single env's
        fast path; equal to ``scalar_info(info(), row)``, tested)."""
        labs = self.labs
        state = self.inner.state[row].tolist()
        aptt, hours = state[_APTT], state[_HOURS]
        info: dict[str, Any] = {key: state[col] for key, col in _INFO_STATE_HEAD}
        info["therapeutic"] = aptt >= THERAPEUTIC_APTT_S[0] and aptt <= THERAPEUTIC_APTT_S[1]
        info["hit_active"] = self.inner.params.item(row, _ONSET) < hours
        info["hours"] = hours
        reported = labs.reported_value[row].tolist()
        for t, key in enumerate(_INFO_REPORTED):
            info[key] = reported[t]
        draw_h, pending = labs.reported_draw_h[row].tolist(), labs.n_pending[row].tolist()
        ordered, arrived = self._ordered[row].tolist(), self._arrived[row].tolist()
        for t, k_draw, k_pending, k_ordered, k_arrived in self._test_keys:
            info[k_draw] = draw_h[t]
            info[k_pending] = pending[t]
            info[k_ordered] = ordered[t]
            info[k_arrived] = arrived[t]
        cost_chf = self._lab_cost_chf.item(row)
        info["lab_cost_chf"] = cost_chf
        info.update({key: state[col] for key, col in _INFO_STATE_REWARD})
        info["reward_lab_cost"] = -self.lab_cost_weight * cost_chf
        info.update(self.inner.events.info_row(row))
        return info

    def static_info(self) -> dict[str, Any]:
        return self.inner.static_info()


class HeparinInfusionPomdpEnv(SingleEnv):
    __doc__ = __doc__
    simulator_cls = HeparinPomdpSimulator


class HeparinInfusionPomdpVectorEnv(BatchedVectorEnv):
    __doc__ = __doc__
    simulator_cls = HeparinPomdpSimulator
