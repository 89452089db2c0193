"""``hemosim/HeparinInfusion-v0``: 5 days of intravenous unfractionated heparin titration.

Description
-----------
A patient with venous or arterial thromboembolism (or unstable angina) starts an
intravenous unfractionated heparin (UFH) infusion. Every 6 hours the clinician sees the
aPTT (and a heparin level) and sets the infusion rate and an optional bolus; the goal
is an aPTT of 46-70 s (1.5-2.3 x control; Raschke 1993 Ann Intern Med 119:874) reached
quickly and held, avoiding sub-therapeutic anticoagulation (recurrent thrombosis: Hull
1986, 1997) and excessive prolongation (bleeding: GUSTO-I, Granger 1996). The patient
is the calibrated one-compartment UFH model (``hemosim.models.heparin``): linear (renal)
elimination plus a saturable route modelled as binding to endothelial / macrophage
receptors followed by internalisation (Hirsh 2001; de Swart 1982), one receptor-bound
state per patient. At steady state this is exactly Michaelis-Menten + linear
elimination; after a bolus into empty receptors clearance is faster, so the half-life
grows with the dose (about 30 / 60 / 150 min after 25 / 100 / 400 U/kg). The aPTT
response is log-linear with a patient-specific baseline and sensitivity; populations
come from
``hemosim.patients.heparin``. In the ``hard`` tier a heparin-induced thrombocytopenia
(HIT) course can start (Lo 2006 4Ts timing; Martel 2005 incidence).

Action Space
------------
``Box(0, 1, (2,), float32)``:

====  ==================  ========  =====================================================
idx   meaning             unit      mapping
====  ==================  ========  =====================================================
0     infusion rate       U/h       ``rate_u_per_h = 2500 * a0``, held for the next 6 h
1     bolus               U         ``bolus_u = a1 * 80 U/kg * weight`` at the start of
                                    the step (1 -> 80 U/kg, 0.5 -> 40 U/kg, 0 -> none)
====  ==================  ========  =====================================================

Actions outside [0, 1] or non-finite raise ``ValueError``; nothing is clipped. An
infusion "hold" of part of a step is expressed as the equivalent mean rate over the
step (the nomogram baselines in ``hemosim.agents.heparin`` do this).

Observation Space
-----------------
``Box(0, 1, (6,), float32)`` (the layout of hemosim 0.2):

====  ==============================  ============  =====================================
idx   meaning                         unit          normalisation
====  ==============================  ============  =====================================
0     measured aPTT                   s             (aPTT - 20) / 180, clipped to [0, 1]
1     measured heparin level          anti-Xa IU/mL level / 1.0, clipped to [0, 1]
2     body weight                     kg            (weight - 40) / 140, clipped
3     renal function                  --            CrCl (mL/min) / 120, clipped
4     measured platelet count         x10^9/L       count / 400, clipped
5     hours on therapy                h             hours / 120
====  ==============================  ============  =====================================

Samples are drawn at the end of each 6-h step (the aPTT "6 h after any change" of the
nomogram). Raw values are in ``info``: ``aptt`` (measured, s), ``aptt_true_s``,
``anti_xa`` (measured IU/mL), ``heparin_u_per_ml`` (true level), ``heparin_bound_u``
(receptor-bound heparin, U), ``elimination_factor`` (the within-patient factor on
elimination in the step just simulated; 1 in the easy tier and at reset), ``rate_u_per_h``,
``bolus_u`` (the last action), ``platelets`` (measured x10^9/L),
``platelets_true_10e9_per_l``, ``therapeutic`` (true aPTT in 46-70 s), ``hit_active``,
``hours``, the reward components and ``patient`` (covariates and individual
parameters).
The keys ``aptt``, ``anti_xa`` and ``platelets`` have no unit in their names (unlike
the rest) because they are kept unchanged for the hemosim 0.2 interface.

Rewards
-------
Per 6-h step, on the true aPTT at the start and end of the step, linearly interpolated
in between (Rosendaal 1993), as fractions of the step:

* ``reward_in_range``: ``+1 x`` time with aPTT in 46-70 s (Raschke 1993 range);
* ``reward_subtherapeutic``: ``-0.5 x`` time with aPTT < 45 s (< 1.5 x control:
  recurrence 23 % vs 4-6 % when not therapeutic by 24 h, Hull 1997 Arch Intern Med);
* ``reward_supratherapeutic``: ``-1 x`` time with aPTT > 100 s (bleeding proxy: > 70 s
  went with more bleeding in GUSTO-I; 100 s is the top of the Nemati 2016 window);
* ``reward_dangerous``: a further ``-2 x`` time with aPTT > 150 s;
* ``reward_hit``: ``-1 x`` time after HIT onset in a step in which heparin was given
  (thrombosis risk 5-10 % a day in untreated HIT, Cuker 2012).

The per-step reward is their sum, in [-4, 1] ([-3.5, 1] without HIT).

Clinical events and cost. Every step each patient can have major bleeding or
thromboembolism, drawn with its own counter-based random numbers from hazards of the
**true** aPTT path and HIT course (``hemosim.envs.heparin_events``): major bleeding
1.9 % over a 5-day course in range (Cochrane), relative hazard 1 up to 70 s rising
log-linearly to 20 at 140 s and above (Norman & Provan, in Levine's ACCP chapter);
recurrent thromboembolism 5 % over the course plus, in the first 48 h, an excess while the
aPTT is below 45 s sized so that 24 h sub-therapeutic gives 23.3 % (Hull 1997; Hull 1986);
after HIT onset, thrombosis at 7.5 % a day on heparin (Cuker 2012) or 52.8 % over 30 days
off it (Warkentin & Kelton 1996). ``info["events"]`` holds ``major_bleeding``,
``thromboembolism`` and ``hit`` (True on the step the HIT course starts), all False at
reset; ``info["bleeding_isth_class"]`` is 3 for a major bleed (recorded with a
haemoglobin fall of 2 g/dL); ``info["cost"]`` (0.0 at reset) is
``major_bleeding + thromboembolism + hit`` plus the share of the step with the true aPTT
above 100 s. On the HIT tiers (``hit_incidence > 0``) ``info["hit_4ts"]`` is the 4Ts
score (Lo 2006, ``hemosim.metrics.four_ts_score``) from the measured platelet course
(fall from the first count; its onset dated to the last sample within 10 %; thrombosis
= a drawn thromboembolism after HIT onset; other causes "possible"; a rapid-onset
course counts as heparin in the past 30 days). No death, CRNM or intracranial
haemorrhage is drawn (no heparin-specific shares were found).

``reward_mode="events"`` replaces the reward by ``1`` minus ``EVENT_PENALTIES``
(``hemosim.sim.events``: major bleeding 10, thromboembolism 10, HIT 5) per step.

Starting State
--------------
A heparin-naive inpatient: heparin level 0, the patient's own baseline aPTT and
platelet count, measured once at time 0.

Episode End
-----------
Truncated after 20 decisions (120 h). There is no early termination: no state of the
simulated patient ends the episode, so ending early can never pay.

Arguments
---------
``gym.make("hemosim/HeparinInfusion-v0", difficulty="medium", hit_incidence=None,
reward_mode="default")``. Unknown arguments raise ``ValueError``.

* ``reward_mode``: ``"default"`` (the reward above) or ``"events"`` (the event-based
  reward of Rewards).

* ``difficulty="easy"``: covariates vary (weight, renal function, baseline aPTT) but the
  PK and aPTT sensitivity are the typical values for them; exact laboratory values.
* ``"medium"`` (default): between-patient variability of clearance and volume (Jia
  2015 shape, scaled to Hirsh 1976's half-life SD; ``patient["heparin_resistant"]``) and
  of the aPTT sensitivity (log-SD 0.25); within-patient variability: both elimination
  rate constants change by a factor ``exp(0.25 z)`` in every 6-h interval, independent
  between intervals (size fitted to the Raschke 1995 letter's spread of early aPTTs;
  ``hemosim.patients.heparin.elimination_factor``); assay error (aPTT CV 2.9 %, anti-Xa
  5 %, platelets 4 %).
* ``"hard"``: as medium, plus HIT at the published UFH incidence (2.6 %; within 5 days
  only rapid-onset cases, about 0.7 % of patients, become visible).
* ``hit_incidence``: overrides the tier's HIT probability (a float in [0, 1]).

Vector Env
----------
``gym.make_vec("hemosim/HeparinInfusion-v0", num_envs=N,
vectorization_mode="vector_entry_point")`` simulates the N patients in one compiled
loop (``NEXT_STEP`` autoreset). Patient ``i`` of a vector env seeded ``s`` is the single
env seeded ``s + i``.

Version History
---------------
* v0 (hemosim 0.3): calibrated saturable + linear UFH model, continuous bolus action,
  no early termination, native vector env. The saturable route later became explicit
  receptor binding (same id and spaces; the dynamics after a bolus differ, so numbers
  are not comparable with the memoryless version). Later still (hemosim 0.3, before
  release) the medium and hard tiers gained within-patient variability of elimination
  and the level at 18 U/kg/h moved from 0.305 to 0.40 IU/mL (same id and spaces;
  numbers not comparable with earlier builds). Clinical events, ``info["cost"]``,
  ``info["hit_4ts"]`` and ``reward_mode`` were added without changing the default reward
  or trajectories. (hemosim 0.2's env of the same id used an
  unfitted model and terminated episodes on aPTT > 150 s; results are not comparable.)

References
----------
Raschke 1993 Ann Intern Med 119:874; de Swart 1982 Blood 60:1251; Hirsh 2001 Chest
119:64S; Hirsh 1976
Circulation 53:691; Basu 1972 N Engl J Med 287:324; Levine 1994 Arch Intern Med 154:49;
Jia 2015 J Transl Med 13:45; Hull 1997 Arch Intern Med 157:2562; Granger 1996
Circulation 93:870; Lo 2006 J Thromb Haemost 4:759; Martel 2005 Blood 106:2710;
Cuker 2012 Blood 120:4160; Rosendaal 1993 Thromb Haemost 69:236; Hull 1986 N Engl J
Med 315:1109; Warkentin & Kelton 1996 Am J Med 101:502; Schulman & Kearon 2005 J
Thromb Haemost 3:692.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
from gymnasium import spaces
from numba import njit, prange

from hemosim.assays import (
    ANTI_XA_ANALYTICAL_CV,
    APTT_ANALYTICAL_CV,
    APTT_REPORT_MAX_S,
    PLATELET_ANALYTICAL_CV,
    STREAM_ANTI_XA_NOISE,
    STREAM_APTT_NOISE,
    STREAM_PLATELET_NOISE,
)
from hemosim.envs.heparin_events import HEPARIN_EVENT_HAZARDS, HEPARIN_EVENTS, draw_row, event_constants
from hemosim.envs.heparin_user import check_user_patients, user_patients
from hemosim.metrics import four_ts_score
from hemosim.models.heparin import UFH_TYPICAL, UfhParameters, advance_rows, aptt_scalar_s
from hemosim.patients.heparin import (
    APTT_SENSITIVITY_LOG_SD,
    ELIMINATION_IOV_LOG_SD,
    STREAM_ELIMINATION_IOV,
    HIT_INCIDENCE,
    PK_VARIABILITY_SCALE,
    HeparinPatients,
    hit_platelets_scalar_10e9_per_l,
    sample_patients,
)
from hemosim.sim import rng_compiled
from hemosim.sim.threads import chunk_count, use_parallel
from hemosim.sim.batch import BatchedSimulator, state_columns, validate_options
from hemosim.sim.events import REWARD_MODES, EventLog, event_reward
from hemosim.sim.single import SingleEnv, scalar_info
from hemosim.sim.vector import BatchedVectorEnv

__all__ = [
    "MAX_RATE_U_PER_H",
    "BOLUS_U_PER_KG",
    "STEP_HOURS",
    "EPISODE_STEPS",
    "THERAPEUTIC_APTT_S",
    "OBS_APTT_OFFSET_S",
    "OBS_APTT_SCALE_S",
    "OBS_WEIGHT_OFFSET_KG",
    "OBS_WEIGHT_SCALE_KG",
    "OBS_CRCL_SCALE_ML_PER_MIN",
    "OBS_PLATELETS_SCALE_10E9_PER_L",
    "EPISODE_HOURS",
    "HeparinSimulator",
    "HeparinInfusionEnv",
    "HeparinInfusionVectorEnv",
    "dose_from_action",
    "action_from_dose",
]

MAX_RATE_U_PER_H = 2500.0
BOLUS_U_PER_KG = 80.0
STEP_HOURS = 6.0
EPISODE_STEPS = 20
EPISODE_HOURS = STEP_HOURS * EPISODE_STEPS
THERAPEUTIC_APTT_S = (46.0, 70.0)  # Raschke 1993: 1.5-2.3 x control
SUBTHERAPEUTIC_APTT_S = 45.0  # 1.5 x control (30 s)
SUPRA_APTT_S = 100.0
DANGEROUS_APTT_S = 150.0
W_IN_RANGE, W_SUB, W_SUPRA, W_DANGER, W_HIT = 1.0, 0.5, 1.0, 2.0, 1.0
#: observation scaling (see the env card): obs = (value - offset) / scale, clipped to [0, 1];
#: the anti-Xa level is shown as is (IU/mL), the hours as hours / EPISODE_HOURS
OBS_APTT_OFFSET_S, OBS_APTT_SCALE_S = 20.0, 180.0
OBS_WEIGHT_OFFSET_KG, OBS_WEIGHT_SCALE_KG = 40.0, 140.0
OBS_CRCL_SCALE_ML_PER_MIN = 120.0
OBS_PLATELETS_SCALE_10E9_PER_L = 400.0

DIFFICULTIES = ("easy", "medium", "hard")
_OPTIONS = {"difficulty": "medium", "hit_incidence": None, "reward_mode": "default"}
#: 4Ts inputs the simulator cannot know (hemosim's reading; env card): other causes of
#: thrombocytopenia "possible" (1 point) for every inpatient; a rapid-onset HIT course
#: means heparin in the past 30 days (Lo 2006 timing: 2 points)
FOUR_TS_OTHER_CAUSES = "possible"
FOUR_TS_RAPID_PRIOR_HEPARIN_DAYS = 15.0
FOUR_TS_FALL_FRACTION = 0.3  # a measured fall of >= 30 % from the reset count reveals the fall ...
FOUR_TS_UNFALLEN_FRACTION = 0.1  # ... dated to the last sample still within 10 % of it (assay CV 4 %)

# state columns
_C, _HOURS, _RATE, _BOLUS, _APTT, _APTT_M, _AXA_M, _PLT, _PLT_M = range(9)
_R_IN, _R_SUB, _R_SUPRA, _R_DANGER, _R_HIT = range(9, 14)
_B = 14  # receptor-bound heparin per volume, B / V (IU/mL)
_IOV = 15  # the last interval's within-patient factor on elimination (1 before the first step)
_NS = 16
# parameter columns (per patient, set at reset)
_V, _APTT0, _SENS, _PLT0, _ONSET, _FALL, _W, _RENAL = range(8)
_NP = 8
# rows of the volume-normalised PK constants handed to advance_rows (set at reset):
# KON mL/(U h), BMAX / V IU/mL, KINT 1/h, CL_LIN / V 1/h
_PK_KON, _PK_BMAX, _PK_KINT, _PK_K = range(4)
_NPK = 4
# rows of the step's work buffers: C (IU/mL), B / V (IU/mL), R / V (IU/mL/h), this
# interval's KINT and CL_LIN / V (1/h; the typical rows times the within-patient factor), and
# the true aPTT (s) and hours at the step's start (the events' inputs)
_BUF_C, _BUF_B, _BUF_R, _BUF_KINT, _BUF_K, _BUF_APTT0, _BUF_T0 = range(7)
_NBUF = 7
#: the step kernel integrates a chunk's rows in lock-step (``advance_rows``): chunks of at
#: least this many rows keep its vector loops long (``hemosim.sim.threads.chunk_count``)
STEP_CHUNK_ROWS = 1024


@njit(cache=True, inline="always")
def _dose_scalar(rate_fraction: float, bolus_fraction: float, weight_kg: float) -> tuple[float, float]:
    """``(rate U/h, bolus U)`` of one action: the one definition of the action mapping
    (the env's compiled step calls it per row; :func:`dose_from_action` wraps it)."""
    return rate_fraction * MAX_RATE_U_PER_H, bolus_fraction * BOLUS_U_PER_KG * weight_kg


@njit(cache=True)
def _dose_flat(rate_fraction, bolus_fraction, weight_kg, rate_u_per_h, bolus_u):  # pragma: no cover - jitted
    for i in range(rate_u_per_h.shape[0]):
        rate_u_per_h[i], bolus_u[i] = _dose_scalar(rate_fraction[i], bolus_fraction[i], weight_kg[i])


def dose_from_action(action: np.ndarray, weight_kg: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Map actions ``(..., 2)`` in [0, 1] to ``(rate_u_per_h, bolus_u)`` (the one mapping).

    ``rate_u_per_h`` has the shape of ``action[..., 0]``, ``bolus_u`` that of ``action[..., 1]``
    broadcast with ``weight_kg``; elementwise :func:`_dose_scalar`.
    """
    a = np.asarray(action, dtype=np.float64)
    fr, fb, w = np.broadcast_arrays(a[..., 0], a[..., 1], np.asarray(weight_kg, dtype=np.float64))
    flat = [np.array(x, dtype=np.float64).reshape(-1) for x in (fr, fb, w)]  # writeable copies (not broadcast views)
    rate, bolus = np.empty(flat[0].shape[0]), np.empty(flat[0].shape[0])
    _dose_flat(*flat, rate, bolus)
    # the rate does not depend on the weight: back to the shape of action[..., 0]
    shape0, extra = a.shape[:-1], fr.ndim - (a.ndim - 1)
    keep = tuple(slice(None) if n0 == nf else slice(0, 1) for n0, nf in zip(shape0, fr.shape[extra:]))
    rate = rate.reshape(fr.shape)[(0,) * extra + keep]
    bolus = bolus.reshape(fr.shape)
    return (rate if rate.ndim else rate[()]), (bolus if bolus.ndim else bolus[()])


def action_from_dose(rate_u_per_h, bolus_u, weight_kg) -> np.ndarray:
    """Inverse of :func:`dose_from_action` (float32 actions); raises if out of range."""
    rate = np.asarray(rate_u_per_h, dtype=np.float64)
    bolus_frac = np.asarray(bolus_u, dtype=np.float64) / (BOLUS_U_PER_KG * np.asarray(weight_kg, dtype=np.float64))
    a = np.stack(np.broadcast_arrays(rate / MAX_RATE_U_PER_H, bolus_frac), axis=-1)
    if np.any(~np.isfinite(a)) or np.any((a < 0) | (a > 1)):
        raise ValueError(
            f"rate {rate} U/h / bolus {bolus_u} U outside 0-{MAX_RATE_U_PER_H} U/h and 0-{BOLUS_U_PER_KG} U/kg"
        )
    return a.astype(np.float32)


@njit(cache=True, inline="always")
def _frac(v0: float, v1: float, lo: float, hi: float) -> float:
    """Fraction of a step whose linear interpolant from v0 to v1 lies in [lo, hi]
    (the exact Rosendaal crossing rule of ``hemosim.metrics``)."""
    # Compiled scalar copy of hemosim.metrics._fraction_in_range (NumPy, not shared: metrics.py
    # belongs to another module owner); keep the two in step.
    dv = v1 - v0
    if abs(dv) < 1e-15:
        return 1.0 if (v0 >= lo and v0 <= hi) else 0.0
    t_lo = (lo - v0) / dv
    t_hi = (hi - v0) / dv
    t_in = min(max(min(t_lo, t_hi), 0.0), 1.0)
    t_out = min(max(max(t_lo, t_hi), 0.0), 1.0)
    return max(t_out - t_in, 0.0)


@njit(cache=True, inline="always")
def _lognormal(x: float, z: float, sigma: float) -> float:
    """``x exp(sigma z - sigma^2 / 2)``, ``sigma^2 = ln(1 + cv^2)`` (``assays.lognormal_assay``)."""
    if sigma == 0.0:
        return x
    return x * math.exp(sigma * z - 0.5 * sigma * sigma)


def _sigma(cv: float) -> float:
    return float(np.sqrt(np.log1p(cv * cv)))


@njit(cache=True)
def _measure_row(i, state, params, keys, k, sig_aptt, sig_axa, sig_plt, obs):  # pragma: no cover - jitted
    """Lab values at sample ``k`` of row ``i`` and the observation (see the env card).

    The assay noise is ``rng.normal(key, STREAM_*_NOISE, k)`` exactly as in
    ``hemosim.assays.measure_*`` (through its compiled twin ``hemosim.sim.rng_compiled``;
    the equality is a test).
    """
    key = keys[i]
    z_aptt = rng_compiled.normal(key, STREAM_APTT_NOISE, k) if sig_aptt > 0.0 else 0.0
    z_axa = rng_compiled.normal(key, STREAM_ANTI_XA_NOISE, k) if sig_axa > 0.0 else 0.0
    z_plt = rng_compiled.normal(key, STREAM_PLATELET_NOISE, k) if sig_plt > 0.0 else 0.0
    # (cv_* arguments are the log-normal sigmas of the assays)
    aptt_m = min(_lognormal(state[i, _APTT], z_aptt, sig_aptt), APTT_REPORT_MAX_S)
    axa_m = _lognormal(state[i, _C], z_axa, sig_axa)
    plt_m = _lognormal(state[i, _PLT], z_plt, sig_plt)
    state[i, _APTT_M] = aptt_m
    state[i, _AXA_M] = axa_m
    state[i, _PLT_M] = plt_m
    obs[i, 0] = min(max((aptt_m - OBS_APTT_OFFSET_S) / OBS_APTT_SCALE_S, 0.0), 1.0)
    obs[i, 1] = min(max(axa_m, 0.0), 1.0)
    obs[i, 2] = min(max((params[i, _W] - OBS_WEIGHT_OFFSET_KG) / OBS_WEIGHT_SCALE_KG, 0.0), 1.0)
    obs[i, 3] = params[i, _RENAL]
    obs[i, 4] = min(max(plt_m / OBS_PLATELETS_SCALE_10E9_PER_L, 0.0), 1.0)
    obs[i, 5] = min(max(state[i, _HOURS] / EPISODE_HOURS, 0.0), 1.0)


@njit(cache=True)
def _reset_rows(rows, state, params, keys, sig_aptt, sig_axa, sig_plt, obs):  # pragma: no cover - jitted
    for j in range(rows.shape[0]):
        i = rows[j]
        for c in range(state.shape[1]):
            state[i, c] = 0.0
        state[i, _APTT] = params[i, _APTT0]
        state[i, _PLT] = params[i, _PLT0]
        state[i, _IOV] = 1.0
        _measure_row(i, state, params, keys, 0, sig_aptt, sig_axa, sig_plt, obs)


@njit(cache=True, inline="always")
def _step_range(lo, hi, actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs, reward,
                truncated):  # pragma: no cover - jitted
    """One 6-h step of rows ``lo:hi``: the dose of ``actions`` by the mapping of :func:`dose_from_action`
    (computed once per row), ``pk`` the volume-normalised PK constants set at reset, ``buf``
    preallocated work rows. ``sig_iov`` is the log-SD of the within-patient factor on both
    elimination rate constants in this interval (``hemosim.patients.heparin.elimination_factor``:
    ``rng.normal(key, STREAM_ELIMINATION_IOV, interval number)``). Each row's result depends only
    on that row (``advance_rows``), so any split of the rows gives the same numbers."""
    dt = STEP_HOURS
    # PK: bolus, then all patients through the model's integrator together (volume-normalised)
    c = buf[_BUF_C]
    b = buf[_BUF_B]
    r = buf[_BUF_R]
    kint = buf[_BUF_KINT]
    k_lin = buf[_BUF_K]
    for i in range(lo, hi):
        f = 1.0
        if sig_iov > 0.0:
            interval = int(state[i, _HOURS] / dt + 0.5) + 1
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
        r_in = W_IN_RANGE * _frac(a0, a1, THERAPEUTIC_APTT_S[0], THERAPEUTIC_APTT_S[1])
        r_sub = -W_SUB * _frac(a0, a1, -math.inf, SUBTHERAPEUTIC_APTT_S)
        r_supra = -W_SUPRA * _frac(a0, a1, SUPRA_APTT_S, math.inf)
        r_danger = -W_DANGER * _frac(a0, a1, DANGEROUS_APTT_S, math.inf)
        onset = params[i, _ONSET]
        r_hit = 0.0
        if onset < t1 and (rate > 0.0 or bolus > 0.0):
            r_hit = -W_HIT * (t1 - max(onset, t0)) / dt
        plt = hit_platelets_scalar_10e9_per_l(params[i, _PLT0], onset, params[i, _FALL], t1)
        state[i, _C] = c[i]
        state[i, _B] = b[i]
        state[i, _HOURS] = t1
        state[i, _APTT] = a1
        state[i, _PLT] = plt
        state[i, _R_IN] = r_in
        state[i, _R_SUB] = r_sub
        state[i, _R_SUPRA] = r_supra
        state[i, _R_DANGER] = r_danger
        state[i, _R_HIT] = r_hit
        reward[i] = r_in + r_sub + r_supra + r_danger + r_hit
        k = int(t1 / dt + 0.5)
        truncated[i] = k >= EPISODE_STEPS
        _measure_row(i, state, params, keys, k, sig_aptt, sig_axa, sig_plt, obs)


@njit(cache=True, inline="always")
def _draw_events_range(lo, hi, state, params, keys, aptt_start, t_start, step_hours, reward_scale, consts, flags, isth,
                       cost):  # pragma: no cover - jitted
    """The step's clinical events of rows ``lo:hi`` (``hemosim.envs.heparin_events.draw_row``)
    from the state after the step: heparin given in it (rate or bolus > 0), the share of it
    with the true aPTT below 45 s and above 100 s (from the reward components, ``step_hours``
    long, components scaled by ``reward_scale``; the cost counts the latter in units of a
    6-h step) and the step's number (the uniforms' counter)."""
    sub_scale = -1.0 / (W_SUB * reward_scale)
    supra_scale = -1.0 / W_SUPRA
    per_h = 1.0 / step_hours
    for i in range(lo, hi):
        given = state[i, _RATE] > 0.0 or state[i, _BOLUS] > 0.0
        t_end = state[i, _HOURS]
        draw_row(i, aptt_start[i], state[i, _APTT], state[i, _R_SUB] * sub_scale, t_start[i], t_end, params[i, _ONSET],
                 given, consts, keys[i], np.int64(t_end * per_h + 0.5), step_hours, state[i, _R_SUPRA] * supra_scale,
                 flags, isth, cost)


@njit(cache=True, inline="always")
def _step_events_range(lo, hi, actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs, reward,
                       truncated, consts, flags, isth, cost):  # pragma: no cover - jitted
    """One 6-h step of rows ``lo:hi`` (:func:`_step_range`) and its clinical events
    (:func:`_draw_events_range`, from the true aPTT and hours at the step's start, kept in
    ``buf``): one pass over the rows, so a parallel call starts its threads once per step."""
    aptt_start = buf[_BUF_APTT0]
    t_start = buf[_BUF_T0]
    for i in range(lo, hi):
        aptt_start[i] = state[i, _APTT]
        t_start[i] = state[i, _HOURS]
    _step_range(lo, hi, actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs, reward,
                truncated)
    _draw_events_range(lo, hi, state, params, keys, aptt_start, t_start, STEP_HOURS, 1.0, consts, flags, isth, cost)


@njit(cache=True)
def _step_events_serial(chunks, actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs,
                        reward, truncated, consts, flags, isth, cost):  # pragma: no cover - jitted
    _step_events_range(0, state.shape[0], actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt,
                       obs, reward, truncated, consts, flags, isth, cost)


@njit(cache=True, parallel=True)
def _step_events_parallel(chunks, actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs,
                          reward, truncated, consts, flags, isth, cost):  # pragma: no cover - jitted
    n = state.shape[0]
    for ch in prange(chunks):
        _step_events_range(ch * n // chunks, (ch + 1) * n // chunks, actions, state, params, pk, buf, keys, sig_iov,
                           sig_aptt, sig_axa, sig_plt, obs, reward, truncated, consts, flags, isth, cost)


def _step_with_events(actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs, reward,
                      truncated, consts, flags, isth, cost) -> None:
    """One 6-h step of every row with its events (:func:`_step_events_range`), in parallel
    chunks of at least :data:`STEP_CHUNK_ROWS` rows for large batches (any split: same numbers)."""
    n = state.shape[0]
    if use_parallel(n):
        _step_events_parallel(chunk_count(n, STEP_CHUNK_ROWS), actions, state, params, pk, buf, keys, sig_iov,
                              sig_aptt, sig_axa, sig_plt, obs, reward, truncated, consts, flags, isth, cost)
    else:
        _step_events_serial(1, actions, state, params, pk, buf, keys, sig_iov, sig_aptt, sig_axa, sig_plt, obs, reward,
                            truncated, consts, flags, isth, cost)


#: info keys that are a column of the state, in the order of the info
_INFO_HEAD = (("aptt", _APTT_M), ("aptt_true_s", _APTT), ("anti_xa", _AXA_M), ("heparin_u_per_ml", _C))
_INFO_MIDDLE = (
    ("elimination_factor", _IOV), ("rate_u_per_h", _RATE), ("bolus_u", _BOLUS), ("platelets", _PLT_M),
    ("platelets_true_10e9_per_l", _PLT),
)
_INFO_REWARD = (
    ("reward_in_range", _R_IN), ("reward_subtherapeutic", _R_SUB), ("reward_supratherapeutic", _R_SUPRA),
    ("reward_dangerous", _R_DANGER), ("reward_hit", _R_HIT),
)
#: every state column the info shows
_INFO_COLUMNS = tuple(dict.fromkeys([c for _, c in _INFO_HEAD + _INFO_MIDDLE + _INFO_REWARD] + [_HOURS]))


class HeparinSimulator(BatchedSimulator):
    """Batched UFH titration: N patients, one rate/bolus decision every 6 h."""

    observation_space = spaces.Box(0.0, 1.0, shape=(6,), dtype=np.float32)
    action_space = spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32)
    #: model parameters and aPTT-sensitivity spread (class attributes so that the
    #: calibration harness can evaluate candidate values in a subclass)
    ufh_params: UfhParameters = UFH_TYPICAL
    aptt_sensitivity_log_sd: float = APTT_SENSITIVITY_LOG_SD
    pk_variability_scale: float = PK_VARIABILITY_SCALE
    elimination_iov_log_sd: float = ELIMINATION_IOV_LOG_SD

    def __init__(self, num_patients: int, **options: Any) -> None:
        super().__init__(num_patients)
        opts = validate_options(options, _OPTIONS, "HeparinInfusion-v0")
        if opts["difficulty"] not in DIFFICULTIES:
            raise ValueError(f"unknown difficulty {opts['difficulty']!r}; allowed: {list(DIFFICULTIES)}")
        hit = opts["hit_incidence"]
        if hit is None:
            hit = HIT_INCIDENCE if opts["difficulty"] == "hard" else 0.0
        if isinstance(hit, bool) or not isinstance(hit, (int, float)) or not 0.0 <= float(hit) <= 1.0:
            raise ValueError(f"hit_incidence must be a number in [0, 1] or None, got {hit!r}")
        if opts["reward_mode"] not in REWARD_MODES:
            raise ValueError(f"unknown reward_mode {opts['reward_mode']!r}; allowed: {list(REWARD_MODES)}")
        self.reward_mode: str = opts["reward_mode"]
        self.difficulty: str = opts["difficulty"]
        self.hit_incidence = float(hit)
        self.variability = self.difficulty != "easy"
        noisy = self.difficulty != "easy"
        self.cv_aptt = APTT_ANALYTICAL_CV if noisy else 0.0
        self.cv_axa = ANTI_XA_ANALYTICAL_CV if noisy else 0.0
        self.cv_plt = PLATELET_ANALYTICAL_CV if noisy else 0.0
        self._sigmas = (_sigma(self.cv_aptt), _sigma(self.cv_axa), _sigma(self.cv_plt))
        self.iov_log_sd = float(self.elimination_iov_log_sd) if self.variability else 0.0
        n = self.num_patients
        self.state = np.zeros((n, _NS), order="F")  # column-major: info reads whole columns (contiguous copies)
        self.params = np.ones((n, _NP))
        self._pk = np.ones((_NPK, n))
        self._buf = np.zeros((_NBUF, n))
        self.keys = np.zeros(n, dtype=np.uint64)
        self._obs = np.zeros((n, 6), dtype=np.float32)
        self._reward = np.zeros(n)
        self._truncated = np.zeros(n, dtype=bool)
        self.patients: HeparinPatients | None = None
        self._patient_info: dict[str, np.ndarray] = {}
        # clinical events (hemosim.envs.heparin_events) and the 4Ts inputs (HIT tiers)
        self.events = EventLog(n, HEPARIN_EVENTS)
        self.platelets_reset_measured = np.ones(n)
        self.platelets_nadir_measured = np.ones(n)
        self.platelet_fall_onset_h = np.full(n, np.nan)
        self.platelets_last_unfallen_h = np.zeros(n)
        self.thrombosis_with_hit = np.zeros(n, dtype=bool)

    # -- episode start -------------------------------------------------------------------
    #: name used in reset-option errors (the POMDP env sets its own)
    env_name = "HeparinInfusion-v0"

    def reset_patients(self, mask: np.ndarray, keys: np.ndarray, options: Mapping[str, Any] | None) -> None:
        fixed = user_patients(options, self.env_name, self.num_patients, mask) if options else None
        new = sample_patients(
            keys,
            variability=self.variability,
            hit_incidence=self.hit_incidence,
            params=self.ufh_params,
            aptt_sensitivity_log_sd=self.aptt_sensitivity_log_sd,
            pk_variability_scale=self.pk_variability_scale,
            fixed=fixed,
        )
        if fixed is not None:
            check_user_patients(fixed, new)
        if self.patients is None or mask.all():
            if not mask.all():
                raise ValueError("the first reset must reset every patient")
            self.patients = new
            self._patient_info = new.as_info()
        else:
            self.patients.assign(mask, new)
            for name, values in new.as_info().items():
                self._patient_info[name][mask] = values
        # rows of the new patients, built column by column, then written in one masked assignment
        p = np.empty((len(new), _NP))
        p[:, _V] = new.v_ml
        p[:, _APTT0] = new.baseline_aptt_s
        p[:, _SENS] = new.aptt_sensitivity_per_iu_per_ml
        p[:, _PLT0] = new.baseline_platelets_10e9_per_l
        p[:, _ONSET] = new.hit_onset_h
        p[:, _FALL] = new.hit_fall_fraction
        p[:, _W] = new.weight_kg
        p[:, _RENAL] = np.clip(new.crcl_ml_per_min / OBS_CRCL_SCALE_ML_PER_MIN, 0.0, 1.0)
        self.params[mask] = p
        pk = np.empty((_NPK, len(new)))
        pk[_PK_KON] = new.kon_ml_per_u_per_h
        pk[_PK_BMAX] = new.bmax_u / new.v_ml
        pk[_PK_KINT] = new.kint_per_h
        pk[_PK_K] = new.cl_lin_ml_per_h / new.v_ml
        self._pk[:, mask] = pk
        self.keys[mask] = np.asarray(keys, dtype=np.uint64)
        rows = np.flatnonzero(mask)
        _reset_rows(rows, self.state, self.params, self.keys, *self._sigmas, self._obs)
        self.events.reset(mask)
        self.platelets_reset_measured[mask] = self.state[mask, _PLT_M]
        self.platelets_nadir_measured[mask] = self.state[mask, _PLT_M]
        self.platelet_fall_onset_h[mask] = np.nan
        self.platelets_last_unfallen_h[mask] = 0.0
        self.thrombosis_with_hit[mask] = False

    # -- one 6-h step --------------------------------------------------------------------
    def advance(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        log = self.events
        log.begin_step()
        # cost: serious events + the time with the true aPTT > 100 s in units of a 6-h step
        cost = np.empty(self.num_patients)
        _step_with_events(
            actions, self.state, self.params, self._pk, self._buf, self.keys, self.iov_log_sd, *self._sigmas,
            self._obs, self._reward, self._truncated, event_constants(HEPARIN_EVENT_HAZARDS), log.flag_block,
            log.isth_class, cost,
        )
        log.end_step(cost)
        self._track_four_ts()
        reward = self._reward.copy()
        if self.reward_mode == "events":
            reward = event_reward(self.events.flags, self.events.alive)
        return reward, np.zeros(self.num_patients, dtype=bool), self._truncated.copy()

    def _track_four_ts(self) -> None:
        """The measured platelet course the 4Ts score reads (tiers with HIT only)."""
        if self.hit_incidence > 0.0:
            s = self.state
            f, t_end, onset = self.events.flags, s[:, _HOURS], self.params[:, _ONSET]
            plt_m = s[:, _PLT_M]
            np.minimum(self.platelets_nadir_measured, plt_m, out=self.platelets_nadir_measured)
            falling = np.isnan(self.platelet_fall_onset_h) & (plt_m <= (1.0 - FOUR_TS_FALL_FRACTION) * self.platelets_reset_measured)
            self.platelet_fall_onset_h[falling] = self.platelets_last_unfallen_h[falling]
            unfallen = plt_m >= (1.0 - FOUR_TS_UNFALLEN_FRACTION) * self.platelets_reset_measured
            self.platelets_last_unfallen_h[unfallen] = t_end[unfallen]
            self.thrombosis_with_hit |= f["thromboembolism"] & (onset < t_end)

    # -- what is seen --------------------------------------------------------------------
    def observation(self) -> np.ndarray:
        return self._obs.copy()

    def info(self) -> dict[str, Any]:
        """Per-step info (views of the state: the env faces copy them)."""
        return self._info_tree(fresh=False)

    def fresh_info(self) -> dict[str, Any]:
        """:meth:`info` in new arrays: the state's columns by one gather, the events' blocks copied."""
        return self._info_tree(fresh=True)

    def _info_tree(self, fresh: bool) -> dict[str, Any]:
        s = self.state
        col = state_columns(s, _INFO_COLUMNS, fresh)
        aptt = col[_APTT]
        hours = col[_HOURS]
        info: dict[str, Any] = {key: col[c] for key, c in _INFO_HEAD}
        info["heparin_bound_u"] = s[:, _B] * self.params[:, _V]
        info.update({key: col[c] for key, c in _INFO_MIDDLE})
        info["therapeutic"] = (aptt >= THERAPEUTIC_APTT_S[0]) & (aptt <= THERAPEUTIC_APTT_S[1])
        info["hit_active"] = self.params[:, _ONSET] < hours
        info["hours"] = hours
        info.update({key: col[c] for key, c in _INFO_REWARD})
        info.update(self.events.info(fresh))
        info.update(self._four_ts_info())
        return info

    def info_row(self, row: int) -> dict[str, Any]:
        """Row ``row`` of :meth:`info` as Python scalars, built directly (the single env's
        fast path; equal to ``scalar_info(info(), row)``, tested)."""
        state = self.state[row].tolist()
        aptt, hours = state[_APTT], state[_HOURS]
        info: dict[str, Any] = {key: state[col] for key, col in _INFO_HEAD}
        info["heparin_bound_u"] = state[_B] * self.params.item(row, _V)
        info.update({key: state[col] for key, col in _INFO_MIDDLE})
        info["therapeutic"] = aptt >= THERAPEUTIC_APTT_S[0] and aptt <= THERAPEUTIC_APTT_S[1]
        info["hit_active"] = self.params.item(row, _ONSET) < hours
        info["hours"] = hours
        info.update({key: state[col] for key, col in _INFO_REWARD})
        info.update(self.events.info_row(row))
        if self.hit_incidence > 0.0:
            info.update(scalar_info(self._four_ts_info(), row))
        return info

    def _four_ts_info(self) -> dict[str, Any]:
        """The 4Ts score (Lo 2006, ``hemosim.metrics.four_ts_score``) from the measured platelet
        course, on the tiers with HIT (``hit_incidence > 0``); empty otherwise."""
        if self.hit_incidence <= 0.0:
            return {}
        onset = self.params[:, _ONSET]
        rapid = onset < 24.0
        score, _ = four_ts_score(
            self.platelets_reset_measured,
            self.platelets_nadir_measured,
            self.platelet_fall_onset_h / 24.0,
            thrombosis=np.where(self.thrombosis_with_hit, 2, 0),
            other_causes=FOUR_TS_OTHER_CAUSES,
            prior_heparin_days_ago=np.where(rapid, FOUR_TS_RAPID_PRIOR_HEPARIN_DAYS, np.inf),
        )
        return {"hit_4ts": score.astype(np.int64)}

    def static_info(self) -> dict[str, Any]:
        """The patient's covariates and individual parameters (change only at reset)."""
        return {"patient": self._patient_info}

    def render_rgb(self, history, title: str) -> np.ndarray:
        """The clinical chart of ``render_mode="rgb_array"`` (``hemosim.envs.charts``)."""
        from hemosim.envs.charts import heparin_chart

        return heparin_chart(history, title)


class HeparinInfusionEnv(SingleEnv):
    __doc__ = __doc__
    simulator_cls = HeparinSimulator


class HeparinInfusionVectorEnv(BatchedVectorEnv):
    __doc__ = __doc__
    simulator_cls = HeparinSimulator
