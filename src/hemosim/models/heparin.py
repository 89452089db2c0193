"""Unfractionated heparin (UFH): one-compartment PK with saturable + linear elimination.

Model
-----
Heparin activity (anti-Xa IU/mL, "heparin level") in one compartment of volume
``V = v_l_per_kg * weight`` with two parallel elimination routes (de Swart 1982 Blood
60:1251, "a saturable and a linear clearance mechanism"; US label §12.3)::

    dA/dt = R(t) - VMAX * C / (KM + C) - CL_LIN * C,      C = A / V

* ``VMAX = vmax_u_per_h_per_kg * weight`` (the saturable cellular route: endothelial /
  macrophage binding and depolymerisation), ``KM = km_u_per_ml``;
* ``CL_LIN = cl_lin_ml_per_h_per_kg * weight * renal_factor`` (the linear, renal route;
  ``renal_factor = CrCl / 100 mL/min``, see ``hemosim.patients.heparin``).

So the apparent half-life grows with the dose (Bjornsson 1982; Swiss label: 1 h at
100 IU/kg, 2.5 h at 400 IU/kg).

Exact solution
--------------
With a constant rate ``r`` (concentration units per hour) the right-hand side is
``-(k C^2 + (vm + k KM - r) C - r KM) / (KM + C)`` with ``vm = VMAX / V`` and
``k = CL_LIN / V``. The quadratic has one root ``C_ss >= 0`` (the steady state) and one
root ``C_n < -KM``; partial fractions give the elapsed time as an explicit function of
the concentration::

    k t = -P ln s - Q ln(1 - b + b s),   s = (C - C_ss) / (C0 - C_ss),
    P = (KM + C_ss) / (C_ss - C_n) > 0,  Q = (KM + C_n) / (C_n - C_ss) > 0,
    b = (C0 - C_ss) / (C0 - C_n).

:func:`concentration_after` inverts it for ``x = ln s`` with a bracketed Newton
iteration to ``|dx| < 1e-14``, so the only error is round-off (the reference test
against ``scipy.integrate.solve_ivp`` at ``rtol = 1e-10`` bounds it). A bolus adds
``dose / V`` instantly.

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
an interval target). Both constraints on the low-concentration end are active: the
25 U/kg half-life sits at +15 % and the steady state at the lower edge, 0.30 IU/mL. In a
memoryless one-compartment model the same concentrations (0.3-0.6 IU/mL) set both, so a
higher steady state needs a longer low-dose half-life; see docs/models/heparin.md.
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
    "concentration_after",
    "advance_concentration",
    "aptt_from_concentration",
    "bolus_half_life_h",
    "steady_state_concentration",
    "clearance_terms",
    "REFERENCE_CRCL_ML_PER_MIN",
]

#: Creatinine clearance at which the linear route has its typical value (renal_factor = 1).
REFERENCE_CRCL_ML_PER_MIN = 100.0


def _f(default: float, unit: str, source: str) -> float:
    return field(default=default, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class UfhParameters:
    """Typical UFH PK/PD parameters (a typical adult; variability lives in patients)."""

    v_l_per_kg: float = _f(
        0.0456852394,
        "L/kg",
        "fitted by hemosim.calibration.heparin_fit (PK stage) to the bolus half-lives at "
        "25/100/400 U/kg (Hirsh ACCP; Swiss label reg. 46240; hard bound 15 %), the "
        "0.3-0.7 IU/mL steady state at 18 U/kg/h (Raschke 1993; Univ. Michigan; hard "
        "interval) and, as secondary targets, US PI §12.3 Vd 0.07 L/kg, Hirsh 1976, "
        "Perry 1974 and Jia 2015; FACTS §4.2",
    )
    vmax_u_per_h_per_kg: float = _f(
        50.637801,
        "U/h/kg",
        "fitted by heparin_fit.py to the PK targets above; saturable route of de Swart 1982 "
        "Blood 60:1251 (no published Vmax exists, FACTS §4.2)",
    )
    km_u_per_ml: float = _f(
        0.637383206,
        "IU/mL (anti-Xa)",
        "fitted by heparin_fit.py to the PK targets above; saturable route of de Swart 1982 "
        "(no published Km, FACTS §4.2)",
    )
    cl_lin_ml_per_h_per_kg: float = _f(
        5.97957308,
        "mL/h/kg at CrCl 100 mL/min",
        "fitted by heparin_fit.py to the PK targets above (the renal share is set mainly by "
        "Perry 1974's anephric/normal half-life ratio and Jia 2015's clearance at "
        "saturating levels); linear route of de Swart 1982",
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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(V mL, VMAX U/h, CL_LIN mL/h)`` of the typical patient of a given weight."""
    w = np.asarray(weight_kg, dtype=np.float64)
    v_ml = params.v_l_per_kg * 1000.0 * w
    vmax = params.vmax_u_per_h_per_kg * w
    cl = params.cl_lin_ml_per_h_per_kg * w * np.asarray(renal_factor, dtype=np.float64)
    return v_ml, vmax, cl


# -- exact one-step solution -----------------------------------------------------------------
@njit(cache=True, inline="always")
def _roots(r: float, vm: float, km: float, k: float) -> tuple[float, float]:
    """Roots (C_ss >= 0, C_n < -km) of k C^2 + (vm + k km - r) C - r km (stable forms)."""
    b = vm + k * km - r
    disc = math.sqrt(b * b + 4.0 * k * r * km)
    if b >= 0.0:
        cn = (-b - disc) / (2.0 * k)
        css = (2.0 * r * km) / (b + disc) if r > 0.0 else 0.0
    else:
        css = (-b + disc) / (2.0 * k)
        cn = (-2.0 * r * km) / (-b + disc)
    return css, cn


@njit(cache=True)
def concentration_after(c0: float, r: float, vm: float, km: float, k: float, t: float) -> float:
    """Exact concentration after ``t`` h from ``c0`` with constant input ``r`` (conc/h).

    ``vm`` (conc/h) and ``km`` (conc) are the saturable route, ``k`` (1/h, > 0) the
    linear route; see the module docstring for the closed form being inverted.
    """
    if t <= 0.0:
        return c0
    css, cn = _roots(r, vm, km, k)
    d0 = c0 - css
    if abs(d0) <= 1e-15 * max(1.0, css):
        return c0
    p = (km + css) / (css - cn)
    q = (km + cn) / (cn - css)
    beta = d0 / (c0 - cn)
    kt = k * t
    # h(x) = p x + q ln(1 - beta + beta e^x) + k t, increasing in x; root in [lo, 0].
    one_m_beta = 1.0 - beta
    lq = q * math.log(one_m_beta)
    lo = -(kt + max(0.0, lq)) / p - 1.0
    hi = 0.0
    # two starting points: the linearisation at x = 0 and the asymptote for e^x -> 0
    xa = min(max(-kt / (p + q * beta), lo), hi)
    xb = min(max(-(kt + lq) / p, lo), hi)
    ha = p * xa + q * math.log(one_m_beta + beta * math.exp(xa)) + kt
    hb = p * xb + q * math.log(one_m_beta + beta * math.exp(xb)) + kt
    x = xa if abs(ha) < abs(hb) else xb
    for _ in range(200):
        ex = math.exp(x)
        g = one_m_beta + beta * ex
        h = p * x + q * math.log(g) + kt
        if h > 0.0:
            hi = x
        else:
            lo = x
        dh = p + q * beta * ex / g
        xn = x - h / dh
        if not (lo <= xn <= hi):
            xn = 0.5 * (lo + hi)
        if abs(xn - x) <= 1e-14 * max(1.0, abs(x)):
            x = xn
            break
        x = xn
    return css + d0 * math.exp(x)


@njit(cache=True)
def _advance_batch(c0, r, vm, km, k, t, out):  # pragma: no cover - jitted
    for i in range(c0.shape[0]):
        out[i] = concentration_after(c0[i], r[i], vm[i], km[i], k[i], t[i])


def advance_concentration(
    c0_u_per_ml: np.ndarray,
    rate_u_per_h: np.ndarray,
    v_ml: np.ndarray,
    vmax_u_per_h: np.ndarray,
    km_u_per_ml: np.ndarray,
    cl_lin_ml_per_h: np.ndarray,
    dt_h: np.ndarray | float,
    bolus_u: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Heparin level (IU/mL) after a bolus then ``dt_h`` hours of a constant infusion.

    All arguments broadcast over patients. ``cl_lin_ml_per_h`` must be positive.
    """
    arrays = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (c0_u_per_ml, rate_u_per_h, v_ml, vmax_u_per_h, km_u_per_ml, cl_lin_ml_per_h, dt_h, bolus_u))
    )
    c0, rate, v, vmax, km, cl, dt, bolus = (np.ascontiguousarray(np.atleast_1d(a)) for a in arrays)
    for name, a in (("c0_u_per_ml", c0), ("rate_u_per_h", rate), ("bolus_u", bolus), ("dt_h", dt), ("vmax_u_per_h", vmax), ("km_u_per_ml", km)):
        if np.any(~np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must be finite and >= 0, got {a[~np.isfinite(a) | (a < 0)][:3]}")
    for name, a in (("v_ml", v), ("cl_lin_ml_per_h", cl)):
        if np.any(~np.isfinite(a)) or np.any(a <= 0):
            raise ValueError(f"{name} must be finite and > 0, got {a[~np.isfinite(a) | (a <= 0)][:3]}")
    out = np.empty_like(c0)
    _advance_batch(c0 + bolus / v, rate / v, vmax / v, km, cl / v, dt, out)
    return out


def aptt_from_concentration(conc_u_per_ml: np.ndarray, aptt0_s: np.ndarray, sensitivity: np.ndarray | float) -> np.ndarray:
    """True aPTT (s) from the heparin level: ``aPTT_0 * exp(s * C)`` (log-linear, FACTS §4.3)."""
    return np.asarray(aptt0_s) * np.exp(np.asarray(sensitivity) * np.asarray(conc_u_per_ml))


def steady_state_concentration(rate_u_per_h: np.ndarray | float, vmax_u_per_h, km_u_per_ml, cl_lin_ml_per_h) -> np.ndarray:
    """Steady-state heparin level (IU/mL) of a constant infusion (the positive root)."""
    r = np.asarray(rate_u_per_h, dtype=np.float64)
    vmax = np.asarray(vmax_u_per_h, dtype=np.float64)
    km = np.asarray(km_u_per_ml, dtype=np.float64)
    cl = np.asarray(cl_lin_ml_per_h, dtype=np.float64)
    b = vmax + cl * km - r
    disc = np.sqrt(b * b + 4.0 * cl * r * km)
    with np.errstate(divide="ignore", invalid="ignore"):
        pos = np.where(b >= 0, 2.0 * r * km / np.where(b + disc > 0, b + disc, 1.0), (-b + disc) / (2.0 * cl))
    return pos


def bolus_half_life_h(
    dose_u_per_kg: np.ndarray | float,
    weight_kg: float = 70.0,
    params: UfhParameters = UFH_TYPICAL,
    renal_factor: float = 1.0,
) -> np.ndarray:
    """Apparent half-life (h) after an IV bolus: time for the level to fall from its peak
    ``dose / V`` to half of it (no infusion). Closed form of the integral of ``dC / f(C)``.
    """
    v_ml, vmax, cl = clearance_terms(weight_kg, renal_factor, params)
    d = np.asarray(dose_u_per_kg, dtype=np.float64) * weight_kg
    c0 = d / v_ml
    vm = vmax / v_ml
    k = cl / v_ml
    km = params.km_u_per_ml
    a = vm + k * km
    return (km / a) * np.log(2.0) + (vm / (a * k)) * np.log((a + k * c0) / (a + 0.5 * k * c0))
