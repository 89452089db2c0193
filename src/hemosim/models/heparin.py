"""Unfractionated heparin (UFH): one compartment with receptor binding + linear elimination.

Model
-----
Heparin activity (anti-Xa IU/mL, "heparin level") ``C = A / V`` in one compartment of
volume ``V = v_l_per_kg * weight``. The saturable route is modelled mechanistically as
binding of heparin to endothelial-cell and macrophage receptors followed by
internalisation and depolymerisation (Hirsh 2001 Chest 119:64S "Heparin and
low-molecular-weight heparin", mechanism of the saturable phase; de Swart 1982 Blood
60:1251, "a saturable and a linear clearance mechanism"; US label §12.3 "binding to
proteins, endothelial cells and macrophage"). One extra state per patient, the
receptor-bound amount ``B`` (U)::

    dA/dt = R(t) - KON * C * (BMAX - B) - CL_LIN * C,      C = A / V
    dB/dt = KON * C * (BMAX - B) - KINT * B

* ``KON = kon_ml_per_u_per_h`` (binding rate constant; ``KON * C`` is a rate in 1/h),
  ``BMAX = bmax_u_per_kg * weight`` (receptor capacity, U), ``KINT = kint_per_h``
  (internalisation / depolymerisation of bound heparin);
* ``CL_LIN = cl_lin_ml_per_h_per_kg * weight * renal_factor`` (the linear, renal route;
  ``renal_factor = CrCl / 100 mL/min``, see ``hemosim.patients.heparin``).

At steady state ``dB/dt = 0`` gives ``B = BMAX C / (KM + C)`` and the elimination is
**exactly** Michaelis-Menten plus linear::

    R = VMAX * C / (KM + C) + CL_LIN * C,    VMAX = KINT * BMAX,  KM = KINT / KON

so at steady state this is the one-compartment model with parallel saturable and linear
(renal) elimination of de Swart 1982 (:func:`michaelis_menten_equivalent`,
:func:`steady_state_concentration` in closed form). Away from steady state the receptors
have memory: a small bolus into empty receptors is cleared fast (short half-life at
25 U/kg) while an infusion or a large bolus saturates them (long half-life at 400 U/kg).

Integration
-----------
The system is nonlinear (the ``C * B`` term) and has no closed-form solution. Between
decisions the infusion rate is constant; :func:`advance_state` (and the env's compiled
step, through :func:`advance_rows`) integrates each interval with classical fourth-order
Runge-Kutta on fixed substeps of :data:`RK4_STEP_H` = 0.025 h (240 per 6-h decision),
taken in lock-step by all patients of a batch so that the compiler vectorises them. A
patient whose stiffness bound (Gershgorin bound of the Jacobian over the interval) would
make ``lambda h`` exceed :data:`RK4_MAX_LAMBDA_H` (0.6) takes 2, 4, 8 ... times finer
substeps (again in lock-step with the patients of the same level), so every patient
stays well inside RK4's stability interval and its result never depends on the batch. The error bound against ``scipy.integrate.solve_ivp`` (DOP853, rtol
1e-10) is a test (``tests/models/test_heparin.py``): relative 2e-5 (absolute floor 1e-8)
on hand-picked clinical cases (bolus <= 80 U/kg, 6-h steps and longer) and 1e-3 anywhere
in a wide random (hypothesis) domain (levels up to 10 IU/mL even with empty receptors,
0.01-24 h; worst seen 6.5e-4, a short interval right after a huge bolus). A bolus adds
``dose / V`` to ``C`` instantly.

The bolus half-life (time for ``C`` to fall from ``dose / V`` to half of it, receptors
empty at t = 0) is computed by :func:`bolus_half_life_h` with ``C`` as the independent
variable (``C`` falls strictly without infusion): classical RK4 on ``dt/dC`` and
``dB/dC`` with fixed steps, error bound tested against a ``solve_ivp`` event.

Pharmacodynamics
----------------
aPTT from heparin activity is log-linear (Rosborough's fit of log aPTT on anti-Xa,
FACTS §4.3)::

    aPTT = aPTT_0 * exp(s_aptt * C)

with the patient's own baseline ``aPTT_0`` (normal 25-35 s) and a patient-specific
reagent/plasma sensitivity ``s_aptt`` (low values = "heparin resistance": an adequate
anti-Xa with a short aPTT, Levine 1994 Arch Intern Med 154:49). The typical
``s_aptt`` is fitted so that anti-Xa 0.3-0.7 IU/mL maps onto aPTT 1.5-2.5 x control
(Basu 1972 NEJM 287:324; anti-Xa range: Univ. Michigan protocol, Blood 2011; FACTS §4.3).

Calibration
-----------
:data:`UFH_TYPICAL` holds the values fitted by ``python -m hemosim.calibration.heparin_fit``
to the published targets in ``hemosim.calibration.heparin_targets``; the fit and its
residual table are reproducible with that one command and tested. The fit holds each
bolus half-life at 25 / 100 / 400 U/kg within 15 % of 30 / 60 / 150 min (hard
constraint) and the steady state at 18 U/kg/h inside 0.3-0.7 IU/mL (hard constraint,
an interval target); where inside the interval the level lies (0.40 IU/mL for a typical
70 kg adult) is fitted to the outcomes of the weight-based arm of the Raschke trial (the
fit's stage 4, with the within-patient variability of ``hemosim.patients.heparin``). The
fit lands at 34.5 / 64.3 / 149.9 min and 0.400 IU/mL (docs/models/heparin.md).
Time base: hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

__all__ = [
    "UfhParameters",
    "UFH_TYPICAL",
    "RK4_STEP_H",
    "RK4_MAX_LAMBDA_H",
    "advance_state",
    "advance_rows",
    "half_life_h",
    "aptt_from_concentration",
    "aptt_scalar_s",
    "bolus_half_life_h",
    "michaelis_menten_equivalent",
    "steady_state_concentration",
    "steady_state_bound_u",
    "clearance_terms",
    "REFERENCE_CRCL_ML_PER_MIN",
]

#: Creatinine clearance at which the linear route has its typical value (renal_factor = 1).
REFERENCE_CRCL_ML_PER_MIN = 100.0


def _f(default: float, unit: str, source: str) -> float:
    return field(default=default, metadata={"unit": unit, "source": source})


_FIT = (
    "fitted by hemosim.calibration.heparin_fit (PK stage) to the bolus half-lives at 25/100/400 U/kg "
    "(Hirsh ACCP; Swiss label reg. 46240; hard bound 15 %), the 0.3-0.7 IU/mL steady state at 18 U/kg/h "
    "(Raschke 1993; Univ. Michigan; hard interval; level 0.40 IU/mL from stage 4: Raschke 1993 weight-based arm "
    "60/62, Raschke 1995 letter 17/65/18 %) and, as secondary targets, US PI §12.3 Vd 0.07 L/kg, "
    "Hirsh 1976, Perry 1974 and Jia 2015; FACTS §4.2"
)
_BINDING = "; receptor binding + internalisation route of Hirsh 2001 Chest 119:64S / de Swart 1982 Blood 60:1251 (no published value, FACTS §4.2)"


@dataclass(frozen=True)
class UfhParameters:
    """Typical UFH PK/PD parameters (a typical adult; variability lives in patients)."""

    v_l_per_kg: float = _f(0.0677485512, "L/kg", _FIT)
    kon_ml_per_u_per_h: float = _f(2.81564214, "mL/(U h)", _FIT + _BINDING)
    bmax_u_per_kg: float = _f(30.2260042, "U/kg", _FIT + _BINDING)
    kint_per_h: float = _f(0.720300196, "1/h", _FIT + _BINDING)
    cl_lin_ml_per_h_per_kg: float = _f(
        11.8269832,
        "mL/h/kg at CrCl 100 mL/min",
        _FIT + " (the renal share is set mainly by Perry 1974's anephric/normal half-life ratio and Jia 2015's "
        "clearance at saturating levels); linear route of de Swart 1982",
    )
    aptt_sensitivity_per_iu_per_ml: float = _f(
        1.50681843,
        "1/(IU/mL)",
        "fitted (heparin_fit, PD stage): anti-Xa 0.3-0.7 IU/mL <-> aPTT 1.5-2.5 x control "
        "(Basu 1972), Sheffield 1996 reagent ratios (FACTS §4.3), Bates 2001 Arch Intern Med "
        "161:385 (Actin / IL Test ~2.0-3.5 at therapeutic anti-Xa) and a Siriraj Med J reagent "
        "study (UNCONFIRMED); log-linear form of Rosborough (FACTS §4.3). Ratio 1.5 falls at "
        "anti-Xa 0.27 IU/mL, below 0.35 as Brill-Edwards 1993 and Bates 2001 report for every reagent",
    )
    aptt_control_s: float = _f(
        30.0,
        "s",
        "Raschke 1993 nomogram multiples (35/1.2, 46/1.5, 70/2.3, 90/3.0 -> ~30 s), FACTS §4.1",
    )


UFH_TYPICAL = UfhParameters()


def clearance_terms(
    weight_kg: np.ndarray | float,
    renal_factor: np.ndarray | float = 1.0,
    params: UfhParameters = UFH_TYPICAL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(V mL, KON mL/(U h), BMAX U, KINT 1/h, CL_LIN mL/h)`` of the typical patient of a weight."""
    w = np.asarray(weight_kg, dtype=np.float64)
    v_ml = params.v_l_per_kg * 1000.0 * w
    kon = np.full_like(w, params.kon_ml_per_u_per_h)
    bmax = params.bmax_u_per_kg * w
    kint = np.full_like(w, params.kint_per_h)
    cl = params.cl_lin_ml_per_h_per_kg * w * np.asarray(renal_factor, dtype=np.float64)
    return v_ml, kon, bmax, kint, cl


def michaelis_menten_equivalent(kon_ml_per_u_per_h, bmax_u, kint_per_h) -> tuple[np.ndarray, np.ndarray]:
    """Steady-state equivalent ``(VMAX = KINT * BMAX (U/h), KM = KINT / KON (IU/mL))``."""
    kint = np.asarray(kint_per_h, dtype=np.float64)
    return kint * np.asarray(bmax_u, dtype=np.float64), kint / np.asarray(kon_ml_per_u_per_h, dtype=np.float64)


# -- integrator ------------------------------------------------------------------------------
#: Classical RK4 substep (h). Every patient takes the same substeps (lock-step over the batch,
#: which the compiler vectorises) unless its stiffness bound is too large for it (below).
RK4_STEP_H = 0.025
#: Largest ``lambda * h`` of the lock-step substeps; ``lambda`` bounds the spectral radius of
#: the Jacobian over the interval (Gershgorin): ``KON (c_max + bmax) + max(k, KINT)`` with
#: ``c_max = min(max(c0, r / k), c0 + r dt)`` (``dC/dt <= r - k C``). A patient above it gets
#: ``2^j`` times finer substeps (RK4 is stable up to ``lambda h = 2.78``).
RK4_MAX_LAMBDA_H = 0.6


@njit(cache=True, inline="always")
def _rk4_substep(c, b, r, kon, bmax, kint, k, h):
    h2 = 0.5 * h
    f1 = kon * c * (bmax - b)
    k1c = r - f1 - k * c
    k1b = f1 - kint * b
    c2 = c + h2 * k1c
    b2 = b + h2 * k1b
    f2 = kon * c2 * (bmax - b2)
    k2c = r - f2 - k * c2
    k2b = f2 - kint * b2
    c3 = c + h2 * k2c
    b3 = b + h2 * k2b
    f3 = kon * c3 * (bmax - b3)
    k3c = r - f3 - k * c3
    k3b = f3 - kint * b3
    c4 = c + h * k3c
    b4 = b + h * k3b
    f4 = kon * c4 * (bmax - b4)
    k4c = r - f4 - k * c4
    k4b = f4 - kint * b4
    h6 = h / 6.0
    return c + h6 * (k1c + 2.0 * (k2c + k3c) + k4c), b + h6 * (k1b + 2.0 * (k2b + k3b) + k4b)


@njit(cache=True)
def _lockstep(c, b, r, kon, bmax, kint, k, h, nsub):  # pragma: no cover - jitted
    for _ in range(nsub):
        for i in range(c.shape[0]):
            c[i], b[i] = _rk4_substep(c[i], b[i], r[i], kon[i], bmax[i], kint[i], k[i], h)


@njit(cache=True)
def advance_rows(c, b, r, kon, bmax, kint, k, dt):  # pragma: no cover - jitted
    """Advance every row in place by ``dt`` h with constant input (classical RK4).

    Volume-normalised units: ``c``, ``b = B / V`` and ``bmax = BMAX / V`` in IU/mL, ``r``
    in IU/mL/h, ``kon`` in mL/(U h), ``kint`` and ``k = CL_LIN / V`` in 1/h. A row takes
    ``2^j`` times the common substeps of ``RK4_STEP_H``, with the smallest ``j >= 0`` that
    keeps its stiffness bound times the substep below ``RK4_MAX_LAMBDA_H``; rows of the
    same ``j`` are advanced in lock-step. Each row's result depends only on that row.
    """
    n = c.shape[0]
    if dt <= 0.0 or n == 0:
        return
    nsub = max(1, int(math.ceil(dt / RK4_STEP_H - 1e-9)))
    h = dt / nsub
    lam_lock = RK4_MAX_LAMBDA_H / h
    level = np.zeros(n, dtype=np.int64)
    top = 0
    for i in range(n):
        cmax = min(max(c[i], r[i] / k[i]), c[i] + r[i] * dt)
        lam = kon[i] * (cmax + bmax[i]) + max(k[i], kint[i])
        j = 0
        lim = lam_lock
        while lam > lim:
            j += 1
            lim *= 2.0
        level[i] = j
        top = max(top, j)
    if top == 0:
        _lockstep(c, b, r, kon, bmax, kint, k, h, nsub)
        return
    for j in range(top + 1):
        m = 0
        for i in range(n):
            if level[i] == j:
                m += 1
        if m == 0:
            continue
        t = np.empty((7, m))
        q = 0
        for i in range(n):
            if level[i] == j:
                t[0, q], t[1, q], t[2, q], t[3, q], t[4, q], t[5, q], t[6, q] = c[i], b[i], r[i], kon[i], bmax[i], kint[i], k[i]
                q += 1
        tc, tb = t[0], t[1]
        scale = 1 << j
        _lockstep(tc, tb, t[2], t[3], t[4], t[5], t[6], h / scale, nsub * scale)
        q = 0
        for i in range(n):
            if level[i] == j:
                c[i], b[i] = tc[q], tb[q]
                q += 1


def advance_state(
    c0_u_per_ml: np.ndarray,
    bound_u: np.ndarray,
    rate_u_per_h: np.ndarray,
    v_ml: np.ndarray,
    kon_ml_per_u_per_h: np.ndarray,
    bmax_u: np.ndarray,
    kint_per_h: np.ndarray,
    cl_lin_ml_per_h: np.ndarray,
    dt_h: np.ndarray | float,
    bolus_u: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(heparin level IU/mL, bound amount U)`` after a bolus then ``dt_h`` h of a constant infusion.

    All arguments broadcast over patients. ``v_ml`` and ``cl_lin_ml_per_h`` must be positive,
    ``bound_u`` must lie in ``[0, bmax_u]``.
    """
    arrays = np.broadcast_arrays(
        *(
            np.asarray(a, dtype=np.float64)
            for a in (c0_u_per_ml, bound_u, rate_u_per_h, v_ml, kon_ml_per_u_per_h, bmax_u, kint_per_h, cl_lin_ml_per_h, dt_h, bolus_u)
        )
    )
    c0, b0, rate, v, kon, bmax, kint, cl, dt, bolus = (np.array(np.atleast_1d(a), dtype=np.float64) for a in arrays)
    for name, a in (
        ("c0_u_per_ml", c0), ("bound_u", b0), ("rate_u_per_h", rate), ("bolus_u", bolus), ("dt_h", dt),
        ("kon_ml_per_u_per_h", kon), ("bmax_u", bmax), ("kint_per_h", kint),
    ):
        if np.any(~np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must be finite and >= 0, got {a[~np.isfinite(a) | (a < 0)][:3]}")
    for name, a in (("v_ml", v), ("cl_lin_ml_per_h", cl)):
        if np.any(~np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"{name} must be finite and > 0, got {a[~np.isfinite(a) | (a <= 0)][:3]}")
    if np.any(b0 > bmax):
        raise ValueError(f"bound_u must not exceed bmax_u, got {b0[b0 > bmax][:3]} > {bmax[b0 > bmax][:3]}")
    c = c0 + bolus / v
    b = b0 / v
    r, bm, k = rate / v, bmax / v, cl / v
    for d in np.unique(dt):
        sel = np.flatnonzero(dt == d)
        cs, bs = np.ascontiguousarray(c[sel]), np.ascontiguousarray(b[sel])
        advance_rows(cs, bs, r[sel], kon[sel], bm[sel], kint[sel], k[sel], float(d))
        c[sel], b[sel] = cs, bs
    return c, b * v


@njit(cache=True, inline="always")
def aptt_scalar_s(conc_u_per_ml: float, aptt0_s: float, sensitivity_per_iu_per_ml: float) -> float:
    """True aPTT (s) of one patient: ``aPTT_0 * exp(s * C)`` (log-linear, FACTS §4.3).

    The one definition of the aPTT response: the env's compiled step calls it per row and
    :func:`aptt_from_concentration` wraps it for arrays.
    """
    return aptt0_s * math.exp(sensitivity_per_iu_per_ml * conc_u_per_ml)


@njit(cache=True)
def _aptt_flat(c, aptt0, sens, out):  # pragma: no cover - jitted
    for i in range(out.shape[0]):
        out[i] = aptt_scalar_s(c[i], aptt0[i], sens[i])


def aptt_from_concentration(conc_u_per_ml: np.ndarray, aptt0_s: np.ndarray, sensitivity: np.ndarray | float) -> np.ndarray:
    """True aPTT (s) from the heparin level: ``aPTT_0 * exp(s * C)`` (log-linear, FACTS §4.3).

    Arguments broadcast together (float64); elementwise :func:`aptt_scalar_s`.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (conc_u_per_ml, aptt0_s, sensitivity)))
    c, aptt0, sens = (np.array(a, dtype=np.float64).reshape(-1) for a in arrays)
    out = np.empty(c.shape[0])
    _aptt_flat(c, aptt0, sens, out)
    out = out.reshape(arrays[0].shape)
    return out if out.ndim else out[()]


def steady_state_concentration(rate_u_per_h: np.ndarray | float, vmax_u_per_h, km_u_per_ml, cl_lin_ml_per_h) -> np.ndarray:
    """Steady-state heparin level (IU/mL) of a constant infusion (the positive root of
    ``R = VMAX C / (KM + C) + CL_LIN C``; use :func:`michaelis_menten_equivalent` for VMAX, KM)."""
    r = np.asarray(rate_u_per_h, dtype=np.float64)
    vmax = np.asarray(vmax_u_per_h, dtype=np.float64)
    km = np.asarray(km_u_per_ml, dtype=np.float64)
    cl = np.asarray(cl_lin_ml_per_h, dtype=np.float64)
    _check_positive("rate_u_per_h", r, allow_zero=True)
    _check_positive("vmax_u_per_h", vmax, allow_zero=True)
    _check_positive("km_u_per_ml", km)
    _check_positive("cl_lin_ml_per_h", cl)
    b = vmax + cl * km - r
    disc = np.sqrt(b * b + 4.0 * cl * r * km)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(b >= 0, 2.0 * r * km / np.where(b + disc > 0, b + disc, 1.0), (-b + disc) / (2.0 * cl))
    return pos


def steady_state_bound_u(conc_u_per_ml, kon_ml_per_u_per_h, bmax_u, kint_per_h) -> np.ndarray:
    """Bound amount (U) in equilibrium with a level ``C``: ``BMAX C / (KM + C)``, ``KM = KINT / KON``."""
    c = np.asarray(conc_u_per_ml, dtype=np.float64)
    km = np.asarray(kint_per_h, dtype=np.float64) / np.asarray(kon_ml_per_u_per_h, dtype=np.float64)
    return np.asarray(bmax_u, dtype=np.float64) * c / (km + c)


# -- bolus half-life -------------------------------------------------------------------------
HALF_LIFE_RK4_STEPS = 200


@njit(cache=True)
def _half_life_row(c0, kon, bmax, kint, k, n):  # pragma: no cover - jitted
    """Time (h) for C to fall from c0 to c0 / 2 with empty receptors at t = 0, no infusion.

    C is the independent variable: ``dt/dC = 1 / fc``, ``db/dC = fb / fc`` with
    ``fc = -C (KON (bmax - b) + k) < 0``; classical RK4 with ``n`` fixed steps in ``ln C``.
    """
    # integrate in x = ln C: dt/dx = C / fc = -1 / (kon (bmax - b) + k), db/dx = C fb / fc
    t = 0.0
    b = 0.0
    x0 = math.log(c0)
    h = -math.log(2.0) / n
    for j in range(n):
        x = x0 + j * h
        dt1, db1 = _hl_rhs(x, b, kon, bmax, kint, k)
        dt2, db2 = _hl_rhs(x + 0.5 * h, b + 0.5 * h * db1, kon, bmax, kint, k)
        dt3, db3 = _hl_rhs(x + 0.5 * h, b + 0.5 * h * db2, kon, bmax, kint, k)
        dt4, db4 = _hl_rhs(x + h, b + h * db3, kon, bmax, kint, k)
        t += h / 6.0 * (dt1 + 2.0 * (dt2 + dt3) + dt4)
        b += h / 6.0 * (db1 + 2.0 * (db2 + db3) + db4)
    return t


@njit(cache=True, inline="always")
def _hl_rhs(x, b, kon, bmax, kint, k):
    c = math.exp(x)
    g = kon * (bmax - b) + k
    return -1.0 / g, -(kon * c * (bmax - b) - kint * b) / g


@njit(cache=True)
def _half_life_batch(c0, kon, bmax, kint, k, n, out):  # pragma: no cover - jitted
    for i in range(c0.shape[0]):
        out[i] = _half_life_row(c0[i], kon[i], bmax[i], kint[i], k[i], n)


#: relative agreement between ``n`` and ``2 n`` RK4 steps below which the fixed-step result
#: is kept; rows that miss it (very large boluses make the binding step stiff) are solved
#: by :func:`_half_life_stiff`
HALF_LIFE_RTOL = 1e-6


def _check_positive(name: str, values: np.ndarray, allow_zero: bool = False) -> None:
    """``ValueError`` naming ``name`` unless every value is finite and > 0 (>= 0 if allowed)."""
    bad = ~np.isfinite(values) | ((values < 0) if allow_zero else (values <= 0))
    if np.any(bad):
        what = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {what}; got {np.asarray(values)[bad][:5].tolist()}")


def _half_life_stiff(c0: float, kon: float, bmax: float, kint: float, k: float) -> float:
    """Half-life (h) by an implicit solver in time (scipy Radau, event at C = c0 / 2), for
    the rows where the fixed-step integrator in ``ln C`` is not converged."""
    from scipy.integrate import solve_ivp

    def rhs(_t, y):
        c, b = y
        return [-c * (kon * (bmax - b) + k), kon * c * (bmax - b) - kint * b]

    def half(_t, y):
        return y[0] - 0.5 * c0

    half.terminal, half.direction = True, -1
    t_max = 50.0 * math.log(2.0) / k  # linear elimination alone halves C by then
    sol = solve_ivp(rhs, (0.0, t_max), [c0, 0.0], method="Radau", events=half, rtol=1e-10, atol=[1e-12 * c0, 1e-12 * max(bmax, 1e-300)])
    if not sol.t_events[0].size:  # pragma: no cover - the bound above makes this unreachable
        raise RuntimeError(f"half-life not reached within {t_max} h (c0 = {c0})")
    return float(sol.t_events[0][0])


def half_life_h(dose_u, v_ml, kon_ml_per_u_per_h, bmax_u, kint_per_h, cl_lin_ml_per_h, steps: int = HALF_LIFE_RK4_STEPS) -> np.ndarray:
    """Apparent half-life (h) after an IV bolus ``dose_u`` into empty receptors, per patient.

    Compiled RK4 with ``steps`` steps in ``ln C``; a row whose result moves by more than
    ``HALF_LIFE_RTOL`` with twice the steps (the stiff binding of a very large bolus) is
    solved implicitly instead, so the half-life is positive and grows with the dose for any
    positive dose. Every input must be finite and > 0 (``kon``, ``bmax``, ``kint`` >= 0).
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (dose_u, v_ml, kon_ml_per_u_per_h, bmax_u, kint_per_h, cl_lin_ml_per_h)))
    d, v, kon, bmax, kint, cl = (np.array(np.atleast_1d(a), dtype=np.float64) for a in arrays)
    for name, values in (("dose_u", d), ("v_ml", v), ("cl_lin_ml_per_h", cl)):
        _check_positive(name, values)
    for name, values in (("kon_ml_per_u_per_h", kon), ("bmax_u", bmax), ("kint_per_h", kint)):
        _check_positive(name, values, allow_zero=True)
    if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    out = np.empty_like(d)
    check = np.empty_like(d)
    _half_life_batch(d / v, kon, bmax / v, kint, cl / v, int(steps), out)
    _half_life_batch(d / v, kon, bmax / v, kint, cl / v, 2 * int(steps), check)
    stiff = ~(np.abs(out - check) <= HALF_LIFE_RTOL * np.abs(check)) | ~(out > 0)
    for i in np.flatnonzero(stiff):
        out[i] = _half_life_stiff(d[i] / v[i], kon[i], bmax[i] / v[i], kint[i], cl[i] / v[i])
    return out.reshape(arrays[0].shape)


def bolus_half_life_h(
    dose_u_per_kg: np.ndarray | float,
    weight_kg: float = 70.0,
    params: UfhParameters = UFH_TYPICAL,
    renal_factor: float = 1.0,
) -> np.ndarray:
    """Apparent half-life (h) after an IV bolus for the typical patient: time for the level to
    fall from its peak ``dose / V`` to half of it (no infusion, receptors empty at t = 0)."""
    _check_positive("weight_kg", np.asarray(weight_kg, dtype=np.float64))
    _check_positive("renal_factor", np.asarray(renal_factor, dtype=np.float64))
    _check_positive("dose_u_per_kg", np.asarray(dose_u_per_kg, dtype=np.float64))
    v_ml, kon, bmax, kint, cl = clearance_terms(weight_kg, renal_factor, params)
    d = np.asarray(dose_u_per_kg, dtype=np.float64) * weight_kg
    return half_life_h(d, v_ml, kon, bmax, kint, cl)
