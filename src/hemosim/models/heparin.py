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
step) integrates each interval with the embedded Dormand-Prince 5(4) Runge-Kutta pair
with per-patient adaptive steps (relative tolerance :data:`RTOL`, absolute
:data:`ATOL_U_PER_ML`), compiled with Numba. The error bound against
``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10) is a test
(``tests/models/test_heparin.py``): relative 1e-6 (absolute 1e-9 IU/mL) on hand-picked
and random (hypothesis) cases over 6 h. A bolus adds ``dose / V`` to ``C`` instantly.

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
an interval target); see docs/models/heparin.md. Time base: hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numba import njit

__all__ = [
    "UfhParameters",
    "UFH_TYPICAL",
    "RTOL",
    "ATOL_U_PER_ML",
    "advance_state",
    "advance_row",
    "aptt_from_concentration",
    "bolus_half_life_h",
    "michaelis_menten_equivalent",
    "steady_state_concentration",
    "steady_state_bound_u",
    "clearance_terms",
    "REFERENCE_CRCL_ML_PER_MIN",
]

#: Creatinine clearance at which the linear route has its typical value (renal_factor = 1).
REFERENCE_CRCL_ML_PER_MIN = 100.0
#: Local error tolerances of the adaptive Dormand-Prince integrator (C and B / V in IU/mL).
RTOL = 1e-6
ATOL_U_PER_ML = 1e-10


def _f(default: float, unit: str, source: str) -> float:
    return field(default=default, metadata={"unit": unit, "source": source})


_FIT = (
    "fitted by hemosim.calibration.heparin_fit (PK stage) to the bolus half-lives at 25/100/400 U/kg "
    "(Hirsh ACCP; Swiss label reg. 46240; hard bound 15 %), the 0.3-0.7 IU/mL steady state at 18 U/kg/h "
    "(Raschke 1993; Univ. Michigan; hard interval) and, as secondary targets, US PI §12.3 Vd 0.07 L/kg, "
    "Hirsh 1976, Perry 1974 and Jia 2015; FACTS §4.2"
)
_BINDING = "; receptor binding + internalisation route of Hirsh 2001 Chest 119:64S / de Swart 1982 Blood 60:1251 (no published value, FACTS §4.2)"


@dataclass(frozen=True)
class UfhParameters:
    """Typical UFH PK/PD parameters (a typical adult; variability lives in patients)."""

    v_l_per_kg: float = _f(0.0681806915, "L/kg", _FIT)
    kon_ml_per_u_per_h: float = _f(4.40589370, "mL/(U h)", _FIT + _BINDING)
    bmax_u_per_kg: float = _f(22.6255604, "U/kg", _FIT + _BINDING)
    kint_per_h: float = _f(1.22981920, "1/h", _FIT + _BINDING)
    cl_lin_ml_per_h_per_kg: float = _f(
        11.3415500,
        "mL/h/kg at CrCl 100 mL/min",
        _FIT + " (the renal share is set mainly by Perry 1974's anephric/normal half-life ratio and Jia 2015's "
        "clearance at saturating levels); linear route of de Swart 1982",
    )
    aptt_sensitivity_per_iu_per_ml: float = _f(
        1.32859,
        "1/(IU/mL)",
        "fitted (heparin_fit, PD stage): anti-Xa 0.3-0.7 IU/mL <-> aPTT 1.5-2.5 x control "
        "(Basu 1972) and Sheffield 1996 reagent ratios (FACTS §4.3); log-linear form of "
        "Rosborough (FACTS §4.3)",
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
@njit(cache=True, inline="always")
def _rhs(c, b, r, kon, bmax, kint, k):
    f = kon * c * (bmax - b)
    return r - f - k * c, f - kint * b


@njit(cache=True)
def advance_row(c, b, r, kon, bmax, kint, k, dt):
    """``(C, B/V)`` after ``dt`` h from ``(c, b)`` with constant input ``r`` (IU/mL/h).

    All in volume-normalised units: ``c``, ``b = B / V`` and ``bmax = BMAX / V`` in IU/mL,
    ``kon`` in mL/(U h), ``kint`` and ``k = CL_LIN / V`` in 1/h. Dormand-Prince 5(4) with
    adaptive steps (local tolerances :data:`RTOL`, :data:`ATOL_U_PER_ML`).
    """
    if dt <= 0.0:
        return c, b
    lam = kon * (c + bmax) + k + kint
    h = min(dt, 1.0 / lam)
    t = 0.0
    k1c, k1b = _rhs(c, b, r, kon, bmax, kint, k)
    for _ in range(100000):
        if t >= dt:
            break
        last = t + h >= dt
        if last:
            h = dt - t
        k2c, k2b = _rhs(c + h * (0.2 * k1c), b + h * (0.2 * k1b), r, kon, bmax, kint, k)
        k3c, k3b = _rhs(c + h * (3 / 40 * k1c + 9 / 40 * k2c), b + h * (3 / 40 * k1b + 9 / 40 * k2b), r, kon, bmax, kint, k)
        k4c, k4b = _rhs(
            c + h * (44 / 45 * k1c - 56 / 15 * k2c + 32 / 9 * k3c),
            b + h * (44 / 45 * k1b - 56 / 15 * k2b + 32 / 9 * k3b),
            r, kon, bmax, kint, k,
        )
        k5c, k5b = _rhs(
            c + h * (19372 / 6561 * k1c - 25360 / 2187 * k2c + 64448 / 6561 * k3c - 212 / 729 * k4c),
            b + h * (19372 / 6561 * k1b - 25360 / 2187 * k2b + 64448 / 6561 * k3b - 212 / 729 * k4b),
            r, kon, bmax, kint, k,
        )
        k6c, k6b = _rhs(
            c + h * (9017 / 3168 * k1c - 355 / 33 * k2c + 46732 / 5247 * k3c + 49 / 176 * k4c - 5103 / 18656 * k5c),
            b + h * (9017 / 3168 * k1b - 355 / 33 * k2b + 46732 / 5247 * k3b + 49 / 176 * k4b - 5103 / 18656 * k5b),
            r, kon, bmax, kint, k,
        )
        cn = c + h * (35 / 384 * k1c + 500 / 1113 * k3c + 125 / 192 * k4c - 2187 / 6784 * k5c + 11 / 84 * k6c)
        bn = b + h * (35 / 384 * k1b + 500 / 1113 * k3b + 125 / 192 * k4b - 2187 / 6784 * k5b + 11 / 84 * k6b)
        k7c, k7b = _rhs(cn, bn, r, kon, bmax, kint, k)
        ec = h * (71 / 57600 * k1c - 71 / 16695 * k3c + 71 / 1920 * k4c - 17253 / 339200 * k5c + 22 / 525 * k6c - 1 / 40 * k7c)
        eb = h * (71 / 57600 * k1b - 71 / 16695 * k3b + 71 / 1920 * k4b - 17253 / 339200 * k5b + 22 / 525 * k6b - 1 / 40 * k7b)
        sc = ATOL_U_PER_ML + RTOL * max(abs(c), abs(cn))
        sb = ATOL_U_PER_ML + RTOL * max(abs(b), abs(bn))
        err = max(abs(ec) / sc, abs(eb) / sb)
        if err <= 1.0:
            t = dt if last else t + h
            c, b, k1c, k1b = cn, bn, k7c, k7b
            # step-size factor 0.9 err^(-1/4) (two square roots, cheaper than a power), in [0.2, 5]
            fac = 5.0 if err < 1.0e-3 else 0.9 / math.sqrt(math.sqrt(err))
        else:
            fac = max(0.2, 0.9 / math.sqrt(math.sqrt(err)))
        h *= fac
    return c, b


@njit(cache=True)
def _advance_batch(c0, b0, r, kon, bmax, kint, k, t, out_c, out_b):  # pragma: no cover - jitted
    for i in range(c0.shape[0]):
        out_c[i], out_b[i] = advance_row(c0[i], b0[i], r[i], kon[i], bmax[i], kint[i], k[i], t[i])


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
    c0, b0, rate, v, kon, bmax, kint, cl, dt, bolus = (np.ascontiguousarray(np.atleast_1d(a)) for a in arrays)
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
    out_c, out_b = np.empty_like(c0), np.empty_like(c0)
    _advance_batch(c0 + bolus / v, b0 / v, rate / v, kon, bmax / v, kint, cl / v, dt, out_c, out_b)
    return out_c, out_b * v


def aptt_from_concentration(conc_u_per_ml: np.ndarray, aptt0_s: np.ndarray, sensitivity: np.ndarray | float) -> np.ndarray:
    """True aPTT (s) from the heparin level: ``aPTT_0 * exp(s * C)`` (log-linear, FACTS §4.3)."""
    return np.asarray(aptt0_s) * np.exp(np.asarray(sensitivity) * np.asarray(conc_u_per_ml))


def steady_state_concentration(rate_u_per_h: np.ndarray | float, vmax_u_per_h, km_u_per_ml, cl_lin_ml_per_h) -> np.ndarray:
    """Steady-state heparin level (IU/mL) of a constant infusion (the positive root of
    ``R = VMAX C / (KM + C) + CL_LIN C``; use :func:`michaelis_menten_equivalent` for VMAX, KM)."""
    r = np.asarray(rate_u_per_h, dtype=np.float64)
    vmax = np.asarray(vmax_u_per_h, dtype=np.float64)
    km = np.asarray(km_u_per_ml, dtype=np.float64)
    cl = np.asarray(cl_lin_ml_per_h, dtype=np.float64)
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


def half_life_h(dose_u, v_ml, kon_ml_per_u_per_h, bmax_u, kint_per_h, cl_lin_ml_per_h, steps: int = HALF_LIFE_RK4_STEPS) -> np.ndarray:
    """Apparent half-life (h) after an IV bolus ``dose_u`` into empty receptors, per patient."""
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (dose_u, v_ml, kon_ml_per_u_per_h, bmax_u, kint_per_h, cl_lin_ml_per_h)))
    d, v, kon, bmax, kint, cl = (np.ascontiguousarray(np.atleast_1d(a)) for a in arrays)
    if np.any(~(d > 0)) or np.any(~(v > 0)) or np.any(~(cl > 0)):
        raise ValueError("dose_u, v_ml and cl_lin_ml_per_h must be > 0")
    out = np.empty_like(d)
    _half_life_batch(d / v, kon, bmax / v, kint, cl / v, int(steps), out)
    return out.reshape(arrays[0].shape)


def bolus_half_life_h(
    dose_u_per_kg: np.ndarray | float,
    weight_kg: float = 70.0,
    params: UfhParameters = UFH_TYPICAL,
    renal_factor: float = 1.0,
) -> np.ndarray:
    """Apparent half-life (h) after an IV bolus for the typical patient: time for the level to
    fall from its peak ``dose / V`` to half of it (no infusion, receptors empty at t = 0)."""
    v_ml, kon, bmax, kint, cl = clearance_terms(weight_kg, renal_factor, params)
    d = np.asarray(dose_u_per_kg, dtype=np.float64) * weight_kg
    return half_life_h(d, v_ml, kon, bmax, kint, cl)
