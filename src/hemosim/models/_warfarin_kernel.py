"""Numba kernels of the Hamberg 2007 and 2010 daily advance (see ``models/warfarin.py``).

Kept in its own module so that ``import hemosim.models.warfarin`` stays cheap and the
kernel compiles (and caches) on first use. Each per-patient loop is one row-range body
(``_*_rows(lo, hi, ...)``) compiled twice: serial, and in parallel row chunks for large
batches (``hemosim.sim.threads``; bit-identical results for any thread count).
"""

from __future__ import annotations

import numpy as np
from llvmlite import binding
from numba import njit, prange, types
from numba.extending import get_cython_function_address

from hemosim.sim.threads import PARALLEL_CHUNKS, use_parallel, use_parallel_light

# SciPy's regularised lower incomplete gamma P(a, x), the C function behind the
# ``scipy.special.gammainc`` ufunc (same function, same numbers: tested), callable from
# compiled code; registered by name so that the kernels calling it can be cached.
binding.add_symbol("hemosim_scipy_gammainc", get_cython_function_address("scipy.special.cython_special", "gammainc"))
_gammainc = types.ExternalFunction("hemosim_scipy_gammainc", types.float64(types.float64, types.float64))


@njit(cache=True, inline="always")
def _one_minus_effect(c: float, ec50_g: float, gamma: float) -> float:
    if c <= 0.0:
        return 1.0
    cg = np.exp(gamma * np.log(c))
    return 1.0 - cg / (ec50_g + cg)


@njit(cache=True, inline="always")
def _pk_step(m_, x0, x1, x2, x3):
    """Exact PK propagation of [depot, S central, S peripheral, R central] by ``m_``."""
    return (
        m_[0, 0] * x0,
        m_[1, 0] * x0 + m_[1, 1] * x1 + m_[1, 2] * x2,
        m_[2, 0] * x0 + m_[2, 1] * x1 + m_[2, 2] * x2,
        m_[3, 0] * x0 + m_[3, 3] * x3,
    )


@njit(cache=True, inline="always")
def _chain_step(dec, pp, ww, a, a_new, offset, length, u, u_prev):
    """Exact update of an equal-rate chain ``a[offset:offset + length]`` over one
    sub-interval with input linear from ``u_prev`` to ``u`` (coefficients: see
    ``models.warfarin._chain_coefficients``), written into ``a_new``."""
    for i in range(length):
        s = 0.0
        for k in range(i + 1):
            s += dec[i - k] * a[offset + k]
        a_new[offset + i] = s + (pp[i] - ww[i]) * u + ww[i] * u_prev


@njit(cache=True, inline="always")
def _inr_rows(lo, hi, chain, inr_base, inr_max, inr_lambda, out):
    for n in range(lo, hi):
        x = 1.0 - chain[n, 5] * chain[n, 6]
        out[n] = inr_base[n] + (inr_max[n] * x**inr_lambda[n] if x > 0.0 else 0.0)


@njit(cache=True)
def _inr_serial(chain, inr_base, inr_max, inr_lambda, out):  # pragma: no cover - jitted
    _inr_rows(0, chain.shape[0], chain, inr_base, inr_max, inr_lambda, out)


@njit(cache=True, parallel=True)
def _inr_parallel(chain, inr_base, inr_max, inr_lambda, out):  # pragma: no cover - jitted
    n = chain.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _inr_rows(c * n // chunks, (c + 1) * n // chunks, chain, inr_base, inr_max, inr_lambda, out)


def inr_of(chain, inr_base, inr_max, inr_lambda, out):
    """INR = BASE + INRmax (1 - A6 A7)^lambda for every patient, written into ``out``."""
    kernel = _inr_parallel if use_parallel_light(chain.shape[0]) else _inr_serial
    kernel(chain, inr_base, inr_max, inr_lambda, out)
    return out


@njit(cache=True, inline="always")
def _advance_rows(lo, hi, pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma):
    n_steps = step_index.shape[0]
    a = np.empty(7)
    a_new = np.empty(7)
    for n in range(lo, hi):
        x0, x1, x2, x3 = pk[n, 0], pk[n, 1], pk[n, 2], pk[n, 3]
        a[:] = chain[n]
        g, eg, iv = gamma[n], ec50_g[n], inv_v1[n]
        for d in range(depot_dose.shape[1]):
            x0 += depot_dose[n, d]
            u_prev = _one_minus_effect(x1 * iv, eg, g)
            for j in range(n_steps):
                li = step_index[j]
                x0, x1, x2, x3 = _pk_step(pk_prop[n, li], x0, x1, x2, x3)
                u = _one_minus_effect(x1 * iv, eg, g)
                _chain_step(c1_decay[n, li], c1_p[n, li], c1_w[n, li], a, a_new, 0, 6, u, u_prev)
                _chain_step(c2[n, li, 0:1], c2[n, li, 1:2], c2[n, li, 2:3], a, a_new, 6, 1, u, u_prev)
                a[:] = a_new
                u_prev = u
        pk[n, 0], pk[n, 1], pk[n, 2], pk[n, 3] = x0, x1, x2, x3
        chain[n] = a


@njit(cache=True)
def _advance_serial(pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma):  # pragma: no cover
    _advance_rows(0, pk.shape[0], pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma)


@njit(cache=True, parallel=True)
def _advance_parallel(pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma):  # pragma: no cover
    n = pk.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _advance_rows(c * n // chunks, (c + 1) * n // chunks, pk, chain, depot_dose, pk_prop, step_index,
                      c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma)


def advance_days(pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma) -> None:
    """Hamberg 2007: advance every patient ``depot_dose.shape[1]`` days in place.

    pk (N, 4), chain (N, 7), depot_dose (N, D) mg into the depot at each day start,
    pk_prop (N, L, 4, 4) exact PK propagators per step length, step_index (J,) length
    index of each intra-day step, c1_* (N, L, 6) and c2 (N, L, 3) = [decay, P1, W1] exact
    chain coefficients, inv_v1 / ec50_g (= EC50^gamma) / gamma (N,).
    """
    kernel = _advance_parallel if use_parallel(pk.shape[0]) else _advance_serial
    kernel(pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g, gamma)


@njit(cache=True, inline="always")
def _inr_mean_rows(lo, hi, chain, inr_base, inr_max, out):
    for n in range(lo, hi):
        x = 1.0 - 0.5 * (chain[n, 2] + chain[n, 5])
        out[n] = inr_base[n] + (inr_max[n] * x if x > 0.0 else 0.0)


@njit(cache=True)
def _inr_mean_serial(chain, inr_base, inr_max, out):  # pragma: no cover - jitted
    _inr_mean_rows(0, chain.shape[0], chain, inr_base, inr_max, out)


@njit(cache=True, parallel=True)
def _inr_mean_parallel(chain, inr_base, inr_max, out):  # pragma: no cover - jitted
    n = chain.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _inr_mean_rows(c * n // chunks, (c + 1) * n // chunks, chain, inr_base, inr_max, out)


def inr_of_mean(chain, inr_base, inr_max, out):
    """Hamberg 2010: INR = BASE + INRmax (1 - (A3 + A6)/2), written into ``out``."""
    kernel = _inr_mean_parallel if use_parallel_light(chain.shape[0]) else _inr_mean_serial
    kernel(chain, inr_base, inr_max, out)
    return out


@njit(cache=True, inline="always")
def _two_chain_rows(lo, hi, pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma):
    n_steps = step_index.shape[0]
    a = np.empty(6)
    a_new = np.empty(6)
    for n in range(lo, hi):
        x0, x1, x2, x3 = pk[n, 0], pk[n, 1], pk[n, 2], pk[n, 3]
        a[:] = chain[n]
        g, eg, iv = gamma[n], ec50_g[n], inv_v1[n]
        for d in range(depot_dose.shape[1]):
            x0 += depot_dose[n, d]
            u_prev = _one_minus_effect(x1 * iv, eg, g)
            for j in range(n_steps):
                li = step_index[j]
                x0, x1, x2, x3 = _pk_step(pk_prop[n, li], x0, x1, x2, x3)
                u = _one_minus_effect(x1 * iv, eg, g)
                for c in range(2):
                    _chain_step(c_decay[n, li, c], c_p[n, li, c], c_w[n, li, c], a, a_new, 3 * c, 3, u, u_prev)
                a[:] = a_new
                u_prev = u
        pk[n, 0], pk[n, 1], pk[n, 2], pk[n, 3] = x0, x1, x2, x3
        chain[n] = a


@njit(cache=True)
def _two_chains_serial(pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma):  # pragma: no cover
    _two_chain_rows(0, pk.shape[0], pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma)


@njit(cache=True, parallel=True)
def _two_chains_parallel(pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma):  # pragma: no cover
    n = pk.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _two_chain_rows(c * n // chunks, (c + 1) * n // chunks, pk, chain, depot_dose, pk_prop, step_index,
                        c_decay, c_p, c_w, inv_v1, ec50_g, gamma)


def advance_days_two_chains(pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma) -> None:
    """Hamberg 2010 daily advance: the same exact PK, then two parallel chains of 3
    compartments each, both fed by ``1 - E``.

    pk (N, 4), chain (N, 6) = [A1..A3, A4..A6], depot_dose (N, D), pk_prop (N, L, 4, 4),
    step_index (J,), c_decay / c_p / c_w (N, L, 2, 3) exact chain coefficients,
    inv_v1 / ec50_g (= EC50^gamma) / gamma (N,).
    """
    kernel = _two_chains_parallel if use_parallel(pk.shape[0]) else _two_chains_serial
    kernel(pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma)


# -- one day and its INR, for callers that fuse more per-row work into the same pass --------
#: placeholder for the coefficient arrays of the structure not in use (``advance_day_rows``)
NO_COEFFICIENTS_3D = np.zeros((0, 0, 0))
NO_COEFFICIENTS_4D = np.zeros((0, 0, 0, 0))


@njit(cache=True, inline="always")
def advance_day_rows(lo, hi, two_chains, pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2,
                     c_decay, c_p, c_w, inv_v1, ec50_g, gamma, inr_base, inr_max, inr_lambda, inr_out):  # pragma: no cover
    """Rows ``lo:hi``: the day's advance (Hamberg 2007, or 2010 with ``two_chains``; the
    other structure's coefficients are the ``NO_COEFFICIENTS_*`` placeholders), then the INR
    into ``inr_out``: the same row bodies as :func:`advance_days` / :func:`inr_of` and
    :func:`advance_days_two_chains` / :func:`inr_of_mean`, so the same numbers."""
    if two_chains:
        _two_chain_rows(lo, hi, pk, chain, depot_dose, pk_prop, step_index, c_decay, c_p, c_w, inv_v1, ec50_g, gamma)
        _inr_mean_rows(lo, hi, chain, inr_base, inr_max, inr_out)
    else:
        _advance_rows(lo, hi, pk, chain, depot_dose, pk_prop, step_index, c1_decay, c1_p, c1_w, c2, inv_v1, ec50_g,
                      gamma)
        _inr_rows(lo, hi, chain, inr_base, inr_max, inr_lambda, inr_out)


@njit(cache=True, nogil=True)
def _chain_gammainc_rows(x, p_out, w_out):  # pragma: no cover - jitted
    n_comp = p_out.shape[2]
    for r in range(x.shape[0]):
        for j in range(x.shape[1]):
            xv = x[r, j]
            g = _gammainc(1.0, xv)
            for i in range(1, n_comp + 1):
                g_next = _gammainc(i + 1.0, xv)
                p_out[r, j, i - 1] = g
                w_out[r, j, i - 1] = (i / xv) * g_next
                g = g_next


def chain_gammainc(x: np.ndarray, n_comp: int) -> tuple[np.ndarray, np.ndarray]:
    """``P_i = P(i, x)`` and ``W_i = (i / x) P(i + 1, x)`` for i = 1..``n_comp`` (shape
    ``x.shape + (n_comp,)``; ``models.warfarin._chain_coefficients``), the array expressions
    ``gammainc(i, x[..., None])`` and ``(i / x[..., None]) * gammainc(i + 1, x[..., None])``
    computed with ``n_comp + 1`` evaluations per ``x`` instead of ``2 n_comp`` (``P(i + 1, x)``
    is both ``W_i``'s factor and ``P_{i+1}``). Releases the GIL (callers split rows over threads)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    p = np.empty(x.shape + (n_comp,))
    w = np.empty(x.shape + (n_comp,))
    _chain_gammainc_rows(x, p, w)
    return p, w
