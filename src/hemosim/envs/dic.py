"""``hemosim/DICManagement-v0``: 7 days of blood-component and heparin decisions in DIC.

Description
-----------
A patient with a disorder that causes disseminated intravascular coagulation (sepsis,
trauma or an obstetric catastrophe) is admitted. Systemic thrombin generation consumes
platelets, fibrinogen, clotting factors and antithrombin faster than marrow and liver
replace them, raises fibrin(ogen) degradation products (FDP), and ends in bleeding,
microvascular thrombosis, organ failure and death. Every 6 hours the clinician sees the
laboratory panel (platelets, fibrinogen, PT, aPTT, FDP, the ISTH overt-DIC score; Taylor
2001) and any bleeding, and decides fresh frozen plasma (FFP), platelets,
cryoprecipitate and heparin. The guidance (BCSH 2009, Levi et al. Br J Haematol; ISTH
2013, Wada et al. J Thromb Haemost 11:761) is to treat the cause, transfuse for bleeding
rather than for numbers, and consider heparin where thrombosis predominates. The patient is
the consumptive-coagulopathy model ``hemosim.models.dic`` (docs/models/dic.md): turnover
and consumption of each haemostatic quantity, PT and aPTT through the Hockin-Mann cascade's
fast path, transfused products that raise levels by their published increments and then
clear and are consumed like native ones. Many of its rates are assumptions, marked as
such in the model card.

Untreated, 27 % of sepsis patients have overt DIC at admission (PROWESS 29 %) and their
28-day mortality is 49 % vs 29 % without (PROWESS 43 % vs 27 %, fitted). On 1,000
held-out patients (``hemosim calibrate dic``; ``results/dic_trials.md``) the BCSH 2009 and
ISTH 2013 rule policies have 28-day mortality 29.3 % and 29.0 % against 30.3 % untreated,
31.2 % transfusing to normal labs and 34.3 % random, with 5-6 mL/kg FFP and 0.4-0.8
platelet doses per patient instead of 216 mL/kg and 11; their major bleeding (18.1 %,
17.2 %) is no lower than untreated (17.7 %), while transfusing to normal (1.4 %) or at
random (3.0 %) almost abolishes it at the cost of transfusion harm (model card).

Action Space
------------
``MultiDiscrete([4, 4, 3, 3])``, given at the start of each 6-h step:

====  =====================  ==============  ===========================================
idx   meaning                values          clinical units
====  =====================  ==============  ===========================================
0     fresh frozen plasma    0, 1, 2, 3      0, 10, 15, 30 mL/kg
1     platelets              0, 1, 2, 3      adult doses (2.4e11 platelets each)
2     cryoprecipitate        0, 1, 2         adult doses (10 units, 2 g fibrinogen each)
3     heparin                0, 1, 2         none, prophylactic, therapeutic (for 6 h)
====  =====================  ==============  ===========================================

Values outside the space raise ``ValueError``; nothing is clipped. Therapeutic heparin
is the dose that gives an aPTT ratio of 2.0 on normal plasma (centre of 1.5-2.5, BCSH
2009); prophylactic, a ratio of 1.05.

Observation Space
-----------------
``Box(0, 1, (8,), float32)``:

====  ================================  ==========  ====================================
idx   meaning                           unit        normalisation (clipped to [0, 1])
====  ================================  ==========  ====================================
0     measured platelet count           x10^9/L     count / 400
1     measured fibrinogen (Clauss)      g/L         value / 8
2     measured PT                       s           PT / 100 (reported up to 100 s)
3     measured aPTT                     s           aPTT / 200 (reported up to 200 s)
4     measured FDP                      ug/mL       FDP / 100
5     ISTH overt-DIC score (measured)   points      score / 8
6     bleeding seen during the step     ISTH class  class / 3 (0 none .. 3 major)
7     hours since admission             h           hours / 168
====  ================================  ==========  ====================================

The labs are a sample drawn ``turnaround`` hours before the decision (1 h in medium and
hard: the result of a panel sent an hour earlier) with assay error (platelets CV 4 %,
PT and aPTT 2.9 %, fibrinogen 5 %, FDP 10 %; log-normal, the patient's own random
numbers). This assay logic is local to the env for now and written to move to
``hemosim.assays``. The ISTH score is computed from the measured labs (PT prolongation
against the 12-s normal PT; FDP bands 10 / 25 ug/mL, see ``hemosim.models.dic_scores``).

Raw values are in ``info``: true levels (``platelets_10e9_per_l``,
``fibrinogen_g_per_l``, ``ii_pct`` ... ``x_pct``, ``antithrombin_pct``,
``fdp_ug_per_ml``), ``pt_s`` / ``aptt_s`` (true), the measured panel
(``*_measured*``), ``isth_score`` (measured) and ``isth_score_true``, ``overt_dic``
(true score >= 5), ``trigger`` and ``organ_load``, the products of the step
(``ffp_ml_per_kg``, ``platelet_doses``, ``cryo_doses``, ``heparin_level``), ``events``,
``bleeding_isth_class`` (0-3, the worst bleed seen in the step), ``bleeding_ongoing`` (a
clinically relevant bleed still active at the end of the step), ``transfusion_complication``,
``cost``, the reward components, ``late_death_probability`` and ``patient`` (covariates).

Rewards
-------
``reward_mode="default"``: the sum of

* ``reward_survival``: ``+1/28`` for each step the patient is alive at its end;
* ``reward_death``: ``-1`` in the step of death (death ends the episode);
* ``reward_bleeding``: ``-0.5`` per major bleed (a further ``-0.5`` if intracranial),
  ``-0.1`` per clinically relevant non-major bleed (ISTH 2005 classes);
* ``reward_thrombosis``: ``-0.3`` per thromboembolism and ``-0.3`` per transfusion
  complication (circulatory overload / lung injury, drawn from the volume transfused);
* ``reward_products``: ``-0.01`` per 10 mL/kg FFP, per platelet dose and per
  cryoprecipitate dose (transfusion harms: circulatory overload, lung injury, infection,
  and scarce product; weights assumed);
* ``reward_late_death``: at day 7, minus the probability of death by day 28 given the
  state then (the untreated course continued for 21 days).

``reward_mode="events"``: the drawn events only (the first four items). Dying never pays:
it forfeits the survival credit of the remaining steps and costs 1. ``info["cost"]`` is
the number of major bleeds, thromboembolisms and deaths in the step (Safety-Gymnasium).

Starting State
--------------
A patient admitted some hours after the trigger began (``hemosim.patients.dic``): the model
is run from the patient's baseline with the admission trigger for that time, so the panel
at admission already shows the consumption (PROWESS: 29 % of severe sepsis with overt DIC
at baseline).

Episode End
-----------
Truncated after 28 decisions (7 days). Terminated at death (drawn each hour from the death
hazard, and from fatal bleeds, emboli and transfusion complications). A bleed never ends
the episode.

Arguments
---------
``gym.make("hemosim/DICManagement-v0", difficulty="medium", cause="mixed",
reward_mode="default")``. Unknown arguments raise ``ValueError``.

* ``difficulty="easy"``: exact labs at the decision time, typical consumption rates;
  ``"medium"`` (default): assay error, 1-h turnaround, consumption susceptibility varies
  between patients (log-SD 0.3); ``"hard"``: as medium with log-SD 0.5 and a laboratory
  panel only every 12 h (between panels the last results are shown again).
* ``cause``: ``"mixed"`` (sepsis 60 %, trauma 25 %, obstetric 15 %), ``"sepsis"``,
  ``"trauma"`` or ``"obstetric"``.
* ``reward_mode``: ``"default"`` or ``"events"`` (above).

Vector Env
----------
``gym.make_vec("hemosim/DICManagement-v0", num_envs=N,
vectorization_mode="vector_entry_point")`` simulates the N patients in one compiled loop
(``NEXT_STEP`` autoreset). Patient ``i`` of a vector env seeded ``s`` is the single env
seeded ``s + i``.

Version History
---------------
* v0 (hemosim 0.3): first version.

References
----------
Taylor 2001 Thromb Haemost 86:1327; Levi 2009 Br J Haematol 145:24 (BCSH); Wada 2013
J Thromb Haemost 11:761 (ISTH); Dhainaut 2004 J Thromb Haemost 2:1924 (PROWESS);
Schulman & Kearon 2005 J Thromb Haemost 3:692; Hockin 2002 J Biol Chem 277:18322.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces
from numba import njit, prange

from hemosim.assays import APTT_ANALYTICAL_CV, PLATELET_ANALYTICAL_CV
from hemosim.models import dic as m
from hemosim.models.dic_scores import ISTH_FDP_BANDS_UG_PER_ML, isth_score_scalar
from hemosim.patients.dic import CAUSE_MIX_DEFAULT, sample_patients
from hemosim.sim import rng_compiled
from hemosim.sim.batch import BatchedSimulator, state_columns, validate_options
from hemosim.sim.single import SingleEnv
from hemosim.sim.threads import PARALLEL_CHUNKS, PARALLEL_MIN_PATIENTS, use_parallel  # noqa: F401 (re-exported: tests)
from hemosim.sim.vector import BatchedVectorEnv

__all__ = [
    "STEP_HOURS",
    "EPISODE_STEPS",
    "FFP_ML_PER_KG",
    "NORMAL_PT_S",
    "NORMAL_APTT_S",
    "OBS_SCALES",
    "DICSimulator",
    "DICManagementEnv",
    "DICManagementVectorEnv",
    "observation_to_labs",
]

STEP_HOURS = 6
EPISODE_STEPS = 28
EPISODE_HOURS = STEP_HOURS * EPISODE_STEPS
FFP_ML_PER_KG = np.array([0.0, 10.0, 15.0, 30.0])
NORMAL_PT_S = 12.0  # hemosim.models.clotting.Reporting.mean_normal_pt_s
NORMAL_APTT_S = 30.0  # hemosim.models.clotting.Reporting.mean_normal_aptt_s
#: obs[j] = value / OBS_SCALES[j], clipped to [0, 1]
OBS_SCALES = np.array([400.0, 8.0, m.PT_REPORT_MAX_S, m.APTT_REPORT_MAX_S, 100.0, 8.0, 3.0, float(EPISODE_HOURS)])

# assay imprecision (CV); PT as the aPTT (assumed), fibrinogen and FDP assumed
CV_PLATELETS = PLATELET_ANALYTICAL_CV
CV_PT = APTT_ANALYTICAL_CV
CV_APTT = APTT_ANALYTICAL_CV
CV_FIBRINOGEN = 0.05
CV_FDP = 0.10

# reward weights (env card)
W_DEATH, W_MAJOR, W_ICH, W_CRNM, W_TE, W_PRODUCT = 1.0, 0.5, 0.5, 0.1, 0.3, 0.01

# PARALLEL_MIN_PATIENTS (re-exported from hemosim.sim.threads): batches at least this large step
# their rows in parallel threads when more than one thread is set; results are identical either
# way (rows are independent; tests/sim/test_threads_kernels.py)

DIFFICULTIES = ("easy", "medium", "hard")
CAUSE_OPTIONS = {"mixed": CAUSE_MIX_DEFAULT, "sepsis": np.array([1.0, 0.0, 0.0]),
                 "trauma": np.array([0.0, 1.0, 0.0]), "obstetric": np.array([0.0, 0.0, 1.0])}
REWARD_MODES = ("default", "events")
_OPTIONS = {"difficulty": "medium", "cause": "mixed", "reward_mode": "default"}

# random streams (per patient key; counter = hour of the episode or step number)
(S_BLEED, S_CLASS, S_ICH, S_BLEED_FATAL, S_TE, S_TE_FATAL, S_DEATH, S_ESC, S_STOP, S_TACO,
 S_TACO_FATAL) = range(620, 631)
(S_N_PLT, S_N_FIB, S_N_PT, S_N_APTT, S_N_FDP) = range(640, 645)

# state columns: the model level vector first (m.SPECIES order)
NSP = m.N_SPECIES
(_HOURS, _PTR, _APR, _PLT_M, _FIB_M, _PT_M, _APTT_M, _FDP_M, _ISTH_M, _ISTH_T, _BCLASS,
 _E_MAJOR, _E_CRNM, _E_ICH, _E_TE, _E_DEATH, _R_SURV, _R_DEATH, _R_BLEED, _R_TE, _R_PROD, _R_LATE,
 _COST, _FFP, _PLTD, _CRYO, _HEP, _DEAD, _PLATE, _TRIG, _BACTIVE, _E_TACO) = range(NSP, NSP + 32)
_NS = NSP + 32
# parameter columns: baseline levels, consumption constants, trigger, weight, death base
_BASE = 0
_CW = NSP
(_T0, _GF, _TAU, _W, _HD) = range(2 * NSP, 2 * NSP + 5)
_NP = 2 * NSP + 5
# model constants vector (set once per simulator)
(_K_BETA, _K_FDPY, _K_HB0, _K_A, _K_B, _K_C, _K_RRB1, _K_RRB2, _K_PMAJ, _K_PCRNM, _K_PICH, _K_CFMAJ, _K_CFICH,
 _K_TE0, _K_RRT1, _K_RRT2, _K_CFTE, _K_E1, _K_E2, _K_FOLD1, _K_FOLD2, _K_LATE_H,
 _K_ESC, _K_STOP, _K_TACO, _K_CFTACO, _K_PLTML) = range(27)
_NK = 27


@njit(cache=True, inline="always")
def _lognormal(x, z, sigma):
    if sigma == 0.0:
        return x
    return x * math.exp(sigma * z - 0.5 * sigma * sigma)


@njit(cache=True)
def _pt_row(x, buf, pt_la, pt_sz, pt_tab, pt_st, ap_la, ap_sz, ap_tab, ap_st, pt_lo, pt_hi, ap_lo, ap_hi, at_lo,
            at_hi, pt_tmax, pt_norm, ap_tmax, ap_norm):  # pragma: no cover
    """PT ratio of one level vector by the cascade fast path (levels clamped to the table's
    domain; ``inf`` where no clot in the window), as ``clotting.fast_assays(clip=True)``."""
    xb_pt, xb_ap, lo, fr, offsets, vals = buf
    xb_pt[0] = math.log(min(max(x[m.F2], pt_lo), pt_hi))
    xb_pt[1] = math.log(min(max(x[m.F5], pt_lo), pt_hi))
    xb_pt[2] = math.log(min(max(x[m.F7], pt_lo), pt_hi))
    xb_pt[3] = math.log(min(max(x[m.F10], pt_lo), pt_hi))
    r = m.interp_point(pt_la, pt_sz, pt_tab, pt_st, xb_pt, lo, fr, offsets, vals)
    return 1.0 / r / pt_norm if r * pt_tmax > 1.0 else math.inf


@njit(cache=True)
def _aptt_row(x, fold, buf, pt_la, pt_sz, pt_tab, pt_st, ap_la, ap_sz, ap_tab, ap_st, pt_lo, pt_hi, ap_lo, ap_hi,
              at_lo, at_hi, pt_tmax, pt_norm, ap_tmax, ap_norm):  # pragma: no cover
    """aPTT ratio of one level vector (antithrombin activity x heparin fold ``fold``), as
    ``clotting.fast_assays(clip=True)``."""
    xb_pt, xb_ap, lo, fr, offsets, vals = buf
    xb_ap[0] = math.log(min(max(x[m.F2], ap_lo), ap_hi))
    xb_ap[1] = math.log(min(max(x[m.F5], ap_lo), ap_hi))
    xb_ap[2] = math.log(min(max(x[m.F8], ap_lo), ap_hi))
    xb_ap[3] = math.log(min(max(x[m.F9], ap_lo), ap_hi))
    xb_ap[4] = math.log(min(max(x[m.F10], ap_lo), ap_hi))
    xb_ap[5] = math.log(min(max(x[m.AT] / 100.0 * fold, at_lo), at_hi))
    r = m.interp_point(ap_la, ap_sz, ap_tab, ap_st, xb_ap, lo, fr, offsets, vals)
    return 1.0 / r / ap_norm if r * ap_tmax > 1.0 else math.inf


@njit(cache=True)
def _measure_row(i, x, ptr, apr, state, keys, k, sig, obs, new_panel):  # pragma: no cover
    """Lab panel of sample ``k`` from level vector ``x`` with true PT / aPTT ratios ``ptr`` / ``apr``
    (assay error) and row ``i``'s observation."""
    if new_panel:
        key = keys[i]
        z1 = rng_compiled.normal(key, S_N_PLT, k) if sig[0] > 0.0 else 0.0
        z2 = rng_compiled.normal(key, S_N_FIB, k) if sig[1] > 0.0 else 0.0
        z3 = rng_compiled.normal(key, S_N_PT, k) if sig[2] > 0.0 else 0.0
        z4 = rng_compiled.normal(key, S_N_APTT, k) if sig[3] > 0.0 else 0.0
        z5 = rng_compiled.normal(key, S_N_FDP, k) if sig[4] > 0.0 else 0.0
        state[i, _PLT_M] = _lognormal(x[m.PLT_N] + x[m.PLT_T], z1, sig[0])
        state[i, _FIB_M] = _lognormal(x[m.FIB], z2, sig[1])
        state[i, _PT_M] = min(_lognormal(NORMAL_PT_S * ptr, z3, sig[2]), m.PT_REPORT_MAX_S)
        state[i, _APTT_M] = min(_lognormal(NORMAL_APTT_S * apr, z4, sig[3]), m.APTT_REPORT_MAX_S)
        state[i, _FDP_M] = _lognormal(x[m.FDP], z5, sig[4])
        state[i, _ISTH_M] = isth_score_scalar(state[i, _PLT_M], state[i, _FDP_M], state[i, _PT_M] - NORMAL_PT_S,
                                              state[i, _FIB_M], ISTH_FDP_BANDS_UG_PER_ML[0],
                                              ISTH_FDP_BANDS_UG_PER_ML[1])
    vals = (state[i, _PLT_M], state[i, _FIB_M], state[i, _PT_M], state[i, _APTT_M], state[i, _FDP_M],
            state[i, _ISTH_M], state[i, _BCLASS], state[i, _HOURS])
    for j in range(8):
        obs[i, j] = min(max(vals[j] / OBS_SCALES[j], 0.0), 1.0)


@njit(cache=True)
def _true_labs(i, state, fold, tabs_buf, tabs):  # pragma: no cover
    x = state[i, :NSP]
    ptr = _pt_row(x, tabs_buf, *tabs)
    apr = _aptt_row(x, fold, tabs_buf, *tabs)
    state[i, _PTR] = ptr
    state[i, _APR] = apr
    state[i, _ISTH_T] = isth_score_scalar(x[m.PLT_N] + x[m.PLT_T], x[m.FDP], NORMAL_PT_S * ptr - NORMAL_PT_S,
                                          x[m.FIB], ISTH_FDP_BANDS_UG_PER_ML[0], ISTH_FDP_BANDS_UG_PER_ML[1])


@njit(cache=True, inline="always")
def _work_buffers():
    """Work arrays of the PT / aPTT table lookups of one thread (never shared between chunks)."""
    return (np.zeros(4), np.zeros(6), np.zeros(6, dtype=np.int64), np.zeros(6), np.zeros(64, dtype=np.int64),
            np.zeros(64))


@njit(cache=True, inline="always")
def _reset_range(lo, hi, rows, state, params, k, kc, keys, onset_h, sig, tabs_buf, tabs, obs):  # pragma: no cover
    """New patients ``rows[lo:hi]``: baseline levels advanced over the hours from trigger onset to
    admission with the admission trigger held constant (exact: one closed-form step), then the
    admission panel."""
    for j in range(lo, hi):
        i = rows[j]
        for c in range(state.shape[1]):
            state[i, c] = 0.0
        x = state[i, :NSP]
        for c in range(NSP):
            x[c] = params[i, _BASE + c]
        t0 = params[i, _T0]
        m.advance_hour(x, params[i, _BASE:_BASE + NSP], k, params[i, _CW:_CW + NSP], t0, kc[_K_FDPY], onset_h[i])
        state[i, _TRIG] = t0
        _true_labs(i, state, 1.0, tabs_buf, tabs)
        _measure_row(i, x, state[i, _PTR], state[i, _APR], state, keys, 0, sig, obs, True)


@njit(cache=True)
def _reset_serial(rows, state, params, k, kc, keys, onset_h, sig, tabs_buf, tabs, obs):  # pragma: no cover
    _reset_range(0, rows.shape[0], rows, state, params, k, kc, keys, onset_h, sig, tabs_buf, tabs, obs)


@njit(cache=True, parallel=True)
def _reset_parallel(rows, state, params, k, kc, keys, onset_h, sig, tabs, obs):  # pragma: no cover
    n = rows.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _reset_range(c * n // chunks, (c + 1) * n // chunks, rows, state, params, k, kc, keys, onset_h, sig,
                     _work_buffers(), tabs, obs)


def _reset_rows(rows, state, params, k, kc, keys, onset_h, sig, tabs_buf, tabs, obs) -> None:
    """:func:`_reset_range` over every row of ``rows``, in parallel chunks for large batches
    (each chunk with its own ``tabs_buf``)."""
    if use_parallel(rows.shape[0]):
        _reset_parallel(rows, state, params, k, kc, keys, onset_h, sig, tabs, obs)
    else:
        _reset_serial(rows, state, params, k, kc, keys, onset_h, sig, tabs_buf, tabs, obs)


@njit(cache=True)
def _late_death_probability(params, i, x_org, t_h, kc, k_org):  # pragma: no cover
    """P(death between day 7 and day 28): the untreated trigger course continued (no heparin),
    organ load advanced exactly in 6-h pieces, death hazard ``h_d exp(beta O)`` integrated."""
    o = x_org
    h_cum = 0.0
    dt = 6.0
    t = t_h
    while t < kc[_K_LATE_H] - 1e-9:
        g = m.trigger_at(t + 0.5 * dt, params[i, _T0], params[i, _GF], params[i, _TAU])
        o_new = g + (o - g) * math.exp(-k_org * dt)
        h_cum += params[i, _HD] * math.exp(kc[_K_BETA] * 0.5 * (o + o_new)) * dt
        o = o_new
        t += dt
    return 1.0 - math.exp(-h_cum)


@njit(cache=True)
def _step_row(i, actions, state, params, k, kc, prod, ffp_levels, keys, sample_h, panel_every, sig, events_only,
              tabs_buf, tabs, xs, obs, reward, terminated, truncated):  # pragma: no cover
    """One 6-h decision step of row ``i`` (see the env card)."""
    x = state[i, :NSP]
    base = params[i, _BASE:_BASE + NSP]
    cw = params[i, _CW:_CW + NSP]
    hours = state[i, _HOURS]
    step_k = int(hours / STEP_HOURS + 0.5) + 1
    ffp = ffp_levels[actions[i, 0]]
    pltd = float(actions[i, 1])
    cryo = float(actions[i, 2])
    hep = actions[i, 3]
    m.apply_products(x, ffp, pltd, cryo, params[i, _W], prod[0], prod[1], prod[2], prod[3], prod[4], prod[5],
                     prod[6], prod[7], prod[8], prod[9])
    e_hep = 0.0
    rr_b = 1.0
    rr_te = 1.0
    fold = 1.0
    if hep == 1:
        e_hep, rr_b, rr_te, fold = kc[_K_E1], kc[_K_RRB1], kc[_K_RRT1], kc[_K_FOLD1]
    elif hep == 2:
        e_hep, rr_b, rr_te, fold = kc[_K_E2], kc[_K_RRB2], kc[_K_RRT2], kc[_K_FOLD2]
    # PT after the products: only FFP changes the PT inputs (II, V, VII, X); otherwise it is the
    # PT of the previous step's end state, already computed
    ptr0 = _pt_row(x, tabs_buf, *tabs) if ffp > 0.0 else state[i, _PTR]
    major = False
    crnm = False
    ich = False
    te = False
    dead = False
    bclass = 0
    for c in range(NSP):
        xs[i, c] = x[c]
    h0 = int(hours + 0.5)
    # transfusion-associated circulatory overload / lung injury (once per step, by volume)
    vol_ml_per_kg = ffp + (pltd * kc[_K_PLTML] + cryo * prod[8] * prod[9]) / params[i, _W]
    taco = False
    if vol_ml_per_kg > 0.0:
        if rng_compiled.uniform(keys[i], S_TACO, step_k) < 1.0 - math.exp(-kc[_K_TACO] * vol_ml_per_kg):
            taco = True
            if rng_compiled.uniform(keys[i], S_TACO_FATAL, step_k) < kc[_K_CFTACO]:
                dead = True
    active = state[i, _BACTIVE] > 0.0
    if active:
        bclass = 2
    for h in range(STEP_HOURS):
        if dead:
            break
        ctr = h0 + h
        key = keys[i]
        plt = x[m.PLT_N] + x[m.PLT_T]
        hb = m.bleeding_hazard_scalar(plt, x[m.FIB], ptr0, rr_b, kc[_K_HB0], kc[_K_A], kc[_K_B], kc[_K_C])
        rr = hb / kc[_K_HB0]
        escalate = False
        if active:
            u_stop = rng_compiled.uniform(key, S_STOP, ctr)
            if rng_compiled.uniform(key, S_ESC, ctr) < 1.0 - math.exp(-kc[_K_ESC] * rr):
                escalate = True
                active = False
            elif u_stop < 1.0 - math.exp(-kc[_K_STOP] / rr):
                active = False
        elif rng_compiled.uniform(key, S_BLEED, ctr) < 1.0 - math.exp(-hb):
            u = rng_compiled.uniform(key, S_CLASS, ctr)
            if u < kc[_K_PMAJ]:
                escalate = True
            elif u < kc[_K_PMAJ] + kc[_K_PCRNM]:
                crnm = True
                active = True
                bclass = max(bclass, 2)
            else:
                bclass = max(bclass, 1)
        if escalate:
            major = True
            bclass = 3
            is_ich = rng_compiled.uniform(key, S_ICH, ctr) < kc[_K_PICH]
            ich = ich or is_ich
            cf = kc[_K_CFICH] if is_ich else kc[_K_CFMAJ]
            if rng_compiled.uniform(key, S_BLEED_FATAL, ctr) < cf:
                dead = True
        t_mid = hours + h + 0.5
        trig = m.trigger_at(t_mid, params[i, _T0], params[i, _GF], params[i, _TAU])
        g = m.effective_thrombin(trig, x[m.AT], e_hep)
        hte = kc[_K_TE0] * g * rr_te
        if rng_compiled.uniform(key, S_TE, ctr) < 1.0 - math.exp(-hte):
            te = True
            if rng_compiled.uniform(key, S_TE_FATAL, ctr) < kc[_K_CFTE]:
                dead = True
        hd = params[i, _HD] * math.exp(kc[_K_BETA] * x[m.ORG])
        if rng_compiled.uniform(key, S_DEATH, ctr) < 1.0 - math.exp(-hd):
            dead = True
        m.advance_hour(x, base, k, cw, g, kc[_K_FDPY], 1.0)
        state[i, _TRIG] = trig
        if h + 1 == sample_h:
            for c in range(NSP):
                xs[i, c] = x[c]
        if dead:
            break
    t1 = hours + STEP_HOURS
    state[i, _HOURS] = t1
    state[i, _FFP] = ffp
    state[i, _PLTD] = pltd
    state[i, _CRYO] = cryo
    state[i, _HEP] = hep
    state[i, _BCLASS] = bclass
    state[i, _BACTIVE] = 1.0 if active else 0.0
    state[i, _E_TACO] = 1.0 if taco else 0.0
    state[i, _E_MAJOR] = 1.0 if major else 0.0
    state[i, _E_CRNM] = 1.0 if crnm else 0.0
    state[i, _E_ICH] = 1.0 if ich else 0.0
    state[i, _E_TE] = 1.0 if te else 0.0
    state[i, _E_DEATH] = 1.0 if dead else 0.0
    state[i, _DEAD] = 1.0 if dead else 0.0
    _true_labs(i, state, fold, tabs_buf, tabs)
    new_panel = panel_every == 1 or (step_k % panel_every) == 0
    if new_panel and sample_h != STEP_HOURS:
        ptr_s = _pt_row(xs[i], tabs_buf, *tabs)
        apr_s = _aptt_row(xs[i], fold, tabs_buf, *tabs)
    else:  # the sample is the end-of-step state (or no new panel)
        ptr_s = state[i, _PTR]
        apr_s = state[i, _APR]
    _measure_row(i, xs[i], ptr_s, apr_s, state, keys, step_k, sig, obs, new_panel)
    r_surv = 0.0 if dead else 1.0 / EPISODE_STEPS
    r_death = -W_DEATH if dead else 0.0
    r_bleed = -((W_MAJOR if major else 0.0) + (W_ICH if ich else 0.0) + (W_CRNM if crnm else 0.0))
    r_te = -((W_TE if te else 0.0) + (W_TE if taco else 0.0))
    r_prod = -W_PRODUCT * (ffp / 10.0 + pltd + cryo)
    trunc = step_k >= EPISODE_STEPS and not dead
    p_late = 0.0
    if trunc:
        p_late = _late_death_probability(params, i, x[m.ORG], t1, kc, k[m.ORG])
    state[i, _PLATE] = p_late
    r_late = -p_late
    state[i, _R_SURV] = r_surv
    state[i, _R_DEATH] = r_death
    state[i, _R_BLEED] = r_bleed
    state[i, _R_TE] = r_te
    state[i, _R_PROD] = r_prod
    state[i, _R_LATE] = r_late
    state[i, _COST] = (1.0 if major else 0.0) + (1.0 if te else 0.0) + (1.0 if dead else 0.0)
    if events_only:
        reward[i] = r_surv + r_death + r_bleed + r_te
    else:
        reward[i] = r_surv + r_death + r_bleed + r_te + r_prod + r_late
    terminated[i] = dead
    truncated[i] = trunc


@njit(cache=True, inline="always")
def _step_range(lo, hi, actions, state, params, k, kc, prod, ffp_levels, keys, sample_h, panel_every, sig,
                events_only, tabs, buf, xs, obs, reward, terminated, truncated):  # pragma: no cover
    """One 6-h decision step of rows ``lo:hi`` (:func:`_step_row`) with the work buffers ``buf``.
    Each row's result depends only on that row, so any split of the rows gives the same numbers."""
    for i in range(lo, hi):
        _step_row(i, actions, state, params, k, kc, prod, ffp_levels, keys, sample_h, panel_every, sig,
                  events_only, buf, tabs, xs, obs, reward, terminated, truncated)


@njit(cache=True)
def _step_serial(actions, state, params, k, kc, prod, ffp_levels, keys, sample_h, panel_every, sig, events_only,
                 tabs, buf, xs, obs, reward, terminated, truncated):  # pragma: no cover
    """One 6-h decision step of every row, one thread (small batches: no thread start-up cost)."""
    _step_range(0, state.shape[0], actions, state, params, k, kc, prod, ffp_levels, keys, sample_h, panel_every,
                sig, events_only, tabs, buf, xs, obs, reward, terminated, truncated)


@njit(cache=True, parallel=True)
def _step_parallel(actions, state, params, k, kc, prod, ffp_levels, keys, sample_h, panel_every, sig, events_only,
                   tabs, xs, obs, reward, terminated, truncated):  # pragma: no cover
    """One 6-h decision step of every row: rows in parallel chunks, each chunk with its own work
    buffers (rows are independent, so the result does not depend on the threading)."""
    n = state.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _step_range(c * n // chunks, (c + 1) * n // chunks, actions, state, params, k, kc, prod, ffp_levels, keys,
                    sample_h, panel_every, sig, events_only, tabs, _work_buffers(), xs, obs, reward, terminated,
                    truncated)



#: state columns the info shows as they are (``DICSimulator.fresh_info`` gathers them at once)
_INFO_COLUMNS = (
    m.PLT_T, m.FIB, m.F2, m.F5, m.F7, m.F8, m.F9, m.F10, m.AT, m.FDP, m.ORG, _TRIG, _PLT_M, _FIB_M, _PT_M, _APTT_M,
    _FDP_M, _HOURS, _FFP, _COST, _R_SURV, _R_DEATH, _R_BLEED, _R_TE, _R_PROD, _R_LATE, _PLATE,
)


class DICSimulator(BatchedSimulator):
    """Batched DIC management: N patients, one product/heparin decision every 6 h."""

    observation_space = spaces.Box(0.0, 1.0, shape=(8,), dtype=np.float32)
    action_space = spaces.MultiDiscrete([4, 4, 3, 3])
    params_model: m.DicParameters = m.DIC_TYPICAL
    t0_median: np.ndarray | None = None  # None: hemosim.patients.dic.T0_MEDIAN

    def __init__(self, num_patients: int, **options: Any) -> None:
        super().__init__(num_patients)
        opts = validate_options(options, _OPTIONS, "DICManagement-v0")
        if opts["difficulty"] not in DIFFICULTIES:
            raise ValueError(f"unknown difficulty {opts['difficulty']!r}; allowed: {list(DIFFICULTIES)}")
        if opts["cause"] not in CAUSE_OPTIONS:
            raise ValueError(f"unknown cause {opts['cause']!r}; allowed: {list(CAUSE_OPTIONS)}")
        if opts["reward_mode"] not in REWARD_MODES:
            raise ValueError(f"unknown reward_mode {opts['reward_mode']!r}; allowed: {list(REWARD_MODES)}")
        self.difficulty = opts["difficulty"]
        self.cause = opts["cause"]
        self.reward_mode = opts["reward_mode"]
        noisy = self.difficulty != "easy"
        cvs = (CV_PLATELETS, CV_FIBRINOGEN, CV_PT, CV_APTT, CV_FDP) if noisy else (0.0,) * 5
        self._sig = np.sqrt(np.log1p(np.square(np.array(cvs))))
        self._sample_h = STEP_HOURS - 1 if noisy else STEP_HOURS
        self._panel_every = 2 if self.difficulty == "hard" else 1
        self.susceptibility_log_sd = {"easy": 0.0, "medium": 0.3, "hard": 0.5}[self.difficulty]
        p = self.params_model
        self._k, self._w = m.rate_constants(p)
        kc = np.zeros(_NK)
        kc[_K_BETA] = p.death_beta_per_trigger_unit
        kc[_K_FDPY] = p.fdp_yield
        kc[_K_HB0] = p.bleed_base_per_h
        kc[_K_A], kc[_K_B], kc[_K_C] = p.bleed_platelet_exponent, p.bleed_fibrinogen_exponent, p.bleed_pt_exponent
        kc[_K_RRB1], kc[_K_RRB2] = p.bleed_rr_prophylactic_heparin, p.bleed_rr_therapeutic_heparin
        kc[_K_PMAJ], kc[_K_PCRNM], kc[_K_PICH] = p.bleed_major_fraction, p.bleed_crnm_fraction, p.ich_fraction_of_major
        kc[_K_CFMAJ], kc[_K_CFICH] = p.major_bleed_case_fatality, p.ich_case_fatality
        kc[_K_TE0], kc[_K_RRT1], kc[_K_RRT2] = p.te_base_per_h, p.te_rr_prophylactic_heparin, p.te_rr_therapeutic_heparin
        kc[_K_CFTE] = p.te_case_fatality
        kc[_K_E1], kc[_K_E2] = p.heparin_effect_prophylactic, p.heparin_effect_therapeutic
        kc[_K_FOLD1] = _potentiation(p.aptt_ratio_prophylactic)
        kc[_K_FOLD2] = _potentiation(p.aptt_ratio_therapeutic)
        kc[_K_LATE_H] = p.late_horizon_h
        kc[_K_ESC], kc[_K_STOP] = p.bleed_escalation_per_h, p.bleed_stop_per_h
        kc[_K_TACO], kc[_K_CFTACO], kc[_K_PLTML] = p.taco_risk_per_ml_per_kg, p.taco_case_fatality, p.platelet_dose_ml
        self._kc = kc
        self._death_base = np.array([p.death_base_sepsis_per_h, p.death_base_trauma_per_h,
                                     p.death_base_obstetric_per_h])
        self._prod = np.array(m.product_args(p))
        self._tabs = m.table_args()
        self._tabs_buf = _work_buffers()
        n = self.num_patients
        self.state = np.zeros((n, _NS))
        self.params = np.zeros((n, _NP))
        self._xs = np.zeros((n, NSP))
        self._onset = np.zeros(n)
        self.keys = np.zeros(n, dtype=np.uint64)
        self._obs = np.zeros((n, 8), dtype=np.float32)
        self._reward = np.zeros(n)
        self._terminated = np.zeros(n, dtype=bool)
        self._truncated = np.zeros(n, dtype=bool)
        self.patients = None
        self._patient_info: dict[str, np.ndarray] = {}

    def reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: Mapping[str, Any] | None) -> None:
        fixed = None
        if options:  # options["patient"]: hemosim.patients.dic.patient_schema (issue #20)
            from hemosim.patients.dic import patient_schema
            from hemosim.patients.spec import rows_for_mask, split_options

            schema = patient_schema()
            fixed, _ = split_options(options, "DICManagement-v0", self.num_patients, schema, None)
            fixed = rows_for_mask(fixed, mask)
        kwargs = {} if self.t0_median is None else {"t0_median": self.t0_median}
        new = sample_patients(keys, cause_mix=CAUSE_OPTIONS[self.cause],
                              susceptibility_log_sd=self.susceptibility_log_sd, fixed=fixed, **kwargs)
        if fixed is not None:
            from hemosim.patients.spec import check_derived

            check_derived(schema, fixed, new.as_info())
        if self.patients is None or mask.all():
            if not mask.all():
                raise ValueError("the first reset must reset every patient")
            self.patients = new
            self._patient_info = new.as_info()
        else:
            self.patients.assign(mask, new)
            for name, values in new.as_info().items():
                self._patient_info[name][mask] = values
        p = np.empty((len(new), _NP))
        p[:, _BASE:_BASE + NSP] = new.baseline_levels()
        p[:, _CW:_CW + NSP] = self._w[None, :] * self.params_model.consumption_per_h * new.consumption_multiplier[:, None]
        p[:, _T0] = new.trigger_t0
        p[:, _GF] = new.trigger_final_ratio
        p[:, _TAU] = new.trigger_tau_h
        p[:, _W] = new.weight_kg
        p[:, _HD] = self._death_base[new.cause]
        self.params[mask] = p
        self._onset[mask] = new.onset_to_admission_h
        self.keys[mask] = np.asarray(keys, dtype=np.uint64)
        rows = np.flatnonzero(mask)
        _reset_rows(rows, self.state, self.params, self._k, self._kc, self.keys, self._onset, self._sig,
                    self._tabs_buf, self._tabs, self._obs)

    def advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if use_parallel(self.num_patients):
            _step_parallel(actions, self.state, self.params, self._k, self._kc, self._prod, FFP_ML_PER_KG, self.keys,
                           self._sample_h, self._panel_every, self._sig, self.reward_mode == "events",
                           self._tabs, self._xs, self._obs, self._reward, self._terminated, self._truncated)
        else:
            _step_serial(actions, self.state, self.params, self._k, self._kc, self._prod, FFP_ML_PER_KG, self.keys,
                         self._sample_h, self._panel_every, self._sig, self.reward_mode == "events",
                         self._tabs, self._tabs_buf, self._xs, self._obs, self._reward, self._terminated,
                         self._truncated)
        return self._reward.copy(), self._terminated.copy(), self._truncated.copy()

    def observation(self) -> np.ndarray:
        return self._obs.copy()

    def info(self) -> dict[str, Any]:
        return self._info_tree(fresh=False)

    def fresh_info(self) -> dict[str, Any]:
        """:meth:`info` in new arrays: the state's columns shown as they are come from one
        gather into a new block (the derived values are new arrays anyway)."""
        return self._info_tree(fresh=True)

    def _info_tree(self, fresh: bool) -> dict[str, Any]:
        s = self.state
        col = state_columns(s, _INFO_COLUMNS, fresh)
        plt = s[:, m.PLT_N] + s[:, m.PLT_T]
        return {
            "platelets_10e9_per_l": plt,
            "platelets_transfused_10e9_per_l": col[m.PLT_T],
            "fibrinogen_g_per_l": col[m.FIB],
            "ii_pct": col[m.F2],
            "v_pct": col[m.F5],
            "vii_pct": col[m.F7],
            "viii_pct": col[m.F8],
            "ix_pct": col[m.F9],
            "x_pct": col[m.F10],
            "antithrombin_pct": col[m.AT],
            "fdp_ug_per_ml": col[m.FDP],
            "organ_load": col[m.ORG],
            "trigger": col[_TRIG],
            "pt_s": NORMAL_PT_S * s[:, _PTR],
            "aptt_s": NORMAL_APTT_S * s[:, _APR],
            "platelets_measured_10e9_per_l": col[_PLT_M],
            "fibrinogen_measured_g_per_l": col[_FIB_M],
            "pt_measured_s": col[_PT_M],
            "aptt_measured_s": col[_APTT_M],
            "fdp_measured_ug_per_ml": col[_FDP_M],
            "isth_score": s[:, _ISTH_M].astype(np.int64),
            "isth_score_true": s[:, _ISTH_T].astype(np.int64),
            "overt_dic": s[:, _ISTH_T] >= 5,
            "hours": col[_HOURS],
            "ffp_ml_per_kg": col[_FFP],
            "platelet_doses": s[:, _PLTD].astype(np.int64),
            "cryo_doses": s[:, _CRYO].astype(np.int64),
            "heparin_level": s[:, _HEP].astype(np.int64),
            "bleeding_isth_class": s[:, _BCLASS].astype(np.int64),
            "bleeding_ongoing": s[:, _BACTIVE] > 0,
            "transfusion_complication": s[:, _E_TACO] > 0,
            "events": {
                "major_bleeding": s[:, _E_MAJOR] > 0,
                "crnm_bleeding": s[:, _E_CRNM] > 0,
                "intracranial_haemorrhage": s[:, _E_ICH] > 0,
                "thromboembolism": s[:, _E_TE] > 0,
                "death": s[:, _E_DEATH] > 0,
            },
            "cost": col[_COST],
            "reward_survival": col[_R_SURV],
            "reward_death": col[_R_DEATH],
            "reward_bleeding": col[_R_BLEED],
            "reward_thrombosis": col[_R_TE],
            "reward_products": col[_R_PROD],
            "reward_late_death": col[_R_LATE],
            "late_death_probability": col[_PLATE],
        }

    def static_info(self) -> dict[str, Any]:
        return {"patient": self._patient_info}


_FOLDS: dict[float, float] = {}


def _potentiation(ratio: float) -> float:
    if ratio not in _FOLDS:
        _FOLDS[ratio] = m.heparin_potentiation(ratio)
    return _FOLDS[ratio]


def observation_to_labs(obs: np.ndarray) -> dict[str, np.ndarray]:
    """Undo the observation scaling (one obs or a batch): the labs a rule policy reads."""
    o = np.asarray(obs, dtype=np.float64) * OBS_SCALES
    names = ("platelets_10e9_per_l", "fibrinogen_g_per_l", "pt_s", "aptt_s", "fdp_ug_per_ml", "isth_score",
             "bleeding_isth_class", "hours")
    return {nm: o[..., j] for j, nm in enumerate(names)}


class DICManagementEnv(SingleEnv):
    __doc__ = __doc__
    simulator_cls = DICSimulator


class DICManagementVectorEnv(BatchedVectorEnv):
    __doc__ = __doc__
    simulator_cls = DICSimulator
