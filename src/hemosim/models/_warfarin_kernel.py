"""Numba kernels of the Hamberg 2007 and 2010 daily advance (see ``models/warfarin.py``).

Kept in its own module so that ``import hemosim.models.warfarin`` stays cheap and the
kernel compiles (and caches) on first use.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _one_minus_effect(c: float, ec50_g: float, gamma: float) -> float:
    if c <= 0.0:
        return 1.0
    cg = np.exp(gamma * np.log(c))
    return 1.0 - cg / (ec50_g + cg)


@njit(cache=True)
def inr_of(chain, inr_base, inr_max, inr_lambda, out):
    """INR = BASE + INRmax (1 - A6 A7)^lambda for every patient, written into ``out``."""
    for n in range(chain.shape[0]):
        x = 1.0 - chain[n, 5] * chain[n, 6]
        out[n] = inr_base[n] + (inr_max[n] * x**inr_lambda[n] if x > 0.0 else 0.0)
    return out


@njit(cache=True)
def advance_days(pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma):
    """Advance every patient ``depot_dose.shape[1]`` days in place.

    pk (N, 4), chain (N, 7), depot_dose (N, D) mg into the depot at each day start,
    pk_prop (N, L, 4, 4) exact PK propagators per step length, step_index (J,) length
    index of each intra-day step, c1_* (N, L, 6) and c2 (N, L, 3) exact chain
    coefficients, inv_v1 / ec50_g (= EC50^gamma) / gamma (N,).
    """
    n_pat = pk.shape[0]
    n_days = depot_dose.shape[1]
    n_steps = step_index.shape[0]
    a = np.empty(7)
    a_new = np.empty(7)
    for n in range(n_pat):
        x0 = pk[n, 0]
        x1 = pk[n, 1]
        x2 = pk[n, 2]
        x3 = pk[n, 3]
        for m in range(7):
            a[m] = chain[n, m]
        g = gamma[n]
        eg = ec50_g[n]
        iv = inv_v1[n]
        for d in range(n_days):
            x0 += depot_dose[n, d]
            u_prev = _one_minus_effect(x1 * iv, eg, g)
            for j in range(n_steps):
                li = step_index[j]
                m_ = pk_prop[n, li]
                y0 = m_[0, 0] * x0
                y1 = m_[1, 0] * x0 + m_[1, 1] * x1 + m_[1, 2] * x2
                y2 = m_[2, 0] * x0 + m_[2, 1] * x1 + m_[2, 2] * x2
                y3 = m_[3, 0] * x0 + m_[3, 3] * x3
                x0, x1, x2, x3 = y0, y1, y2, y3
                u = _one_minus_effect(x1 * iv, eg, g)
                dec = c1_decay[n, li]
                pp = c1_p[n, li]
                ww = c1_w[n, li]
                for i in range(6):
                    s = 0.0
                    for k in range(i + 1):
                        s += dec[i - k] * a[k]
                    a_new[i] = s + (pp[i] - ww[i]) * u + ww[i] * u_prev
                a_new[6] = c2[n, li, 0] * a[6] + (c2[n, li, 1] - c2[n, li, 2]) * u + c2[n, li, 2] * u_prev
                for m in range(7):
                    a[m] = a_new[m]
                u_prev = u
        pk[n, 0] = x0
        pk[n, 1] = x1
        pk[n, 2] = x2
        pk[n, 3] = x3
        for m in range(7):
            chain[n, m] = a[m]


@njit(cache=True)
def inr_of_mean(chain, inr_base, inr_max, out):
    """Hamberg 2010: INR = BASE + INRmax (1 - (A3 + A6)/2), written into ``out``."""
    for n in range(chain.shape[0]):
        x = 1.0 - 0.5 * (chain[n, 2] + chain[n, 5])
        out[n] = inr_base[n] + (inr_max[n] * x if x > 0.0 else 0.0)
    return out


@njit(cache=True)
def advance_days_two_chains(pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma):
    """Hamberg 2010 daily advance: the PK of :func:`advance_days`, then two parallel
    chains of 3 compartments each, both fed by ``1 - E`` (a separate kernel so that the
    Hamberg 2007 hot path is untouched).

    pk (N, 4), chain (N, 6) = [A1..A3, A4..A6], depot_dose (N, D), pk_prop (N, L, 4, 4),
    step_index (J,), c_decay / c_p / c_w (N, L, 2, 3) exact chain coefficients,
    inv_v1 / ec50_g (= EC50^gamma) / gamma (N,).
    """
    n_pat = pk.shape[0]
    n_days = depot_dose.shape[1]
    n_steps = step_index.shape[0]
    a = np.empty(6)
    a_new = np.empty(6)
    for n in range(n_pat):
        x0 = pk[n, 0]
        x1 = pk[n, 1]
        x2 = pk[n, 2]
        x3 = pk[n, 3]
        for m in range(6):
            a[m] = chain[n, m]
        g = gamma[n]
        eg = ec50_g[n]
        iv = inv_v1[n]
        for d in range(n_days):
            x0 += depot_dose[n, d]
            u_prev = _one_minus_effect(x1 * iv, eg, g)
            for j in range(n_steps):
                li = step_index[j]
                m_ = pk_prop[n, li]
                y0 = m_[0, 0] * x0
                y1 = m_[1, 0] * x0 + m_[1, 1] * x1 + m_[1, 2] * x2
                y2 = m_[2, 0] * x0 + m_[2, 1] * x1 + m_[2, 2] * x2
                y3 = m_[3, 0] * x0 + m_[3, 3] * x3
                x0, x1, x2, x3 = y0, y1, y2, y3
                u = _one_minus_effect(x1 * iv, eg, g)
                for c in range(2):
                    dec = c_decay[n, li, c]
                    pp = c_p[n, li, c]
                    ww = c_w[n, li, c]
                    o = 3 * c
                    for i in range(3):
                        s = 0.0
                        for k in range(i + 1):
                            s += dec[i - k] * a[o + k]
                        a_new[o + i] = s + (pp[i] - ww[i]) * u + ww[i] * u_prev
                for m in range(6):
                    a[m] = a_new[m]
                u_prev = u
        pk[n, 0] = x0
        pk[n, 1] = x1
        pk[n, 2] = x2
        pk[n, 3] = x3
        for m in range(6):
            chain[n, m] = a[m]
