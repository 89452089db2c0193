"""Small dense linear-algebra kernels shared by the models (Numba, compiled on first use)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)  # nogil: warfarin's reset runs it on several threads
def expm_batch(a: np.ndarray) -> np.ndarray:
    """Matrix exponential of each ``(n, n)`` matrix in ``a`` (shape ``(N, n, n)``).

    Scaling and squaring with an 18-term Taylor series: the matrix is scaled by
    ``2**-s`` to a norm below 0.5, where the truncation error is below 1e-17 relative,
    then squared ``s`` times. Agreement with ``scipy.linalg.expm`` is tested.
    """
    n_mat, n, _ = a.shape
    out = np.empty_like(a)
    term = np.empty((n, n))
    acc = np.empty((n, n))
    tmp = np.empty((n, n))
    for m in range(n_mat):
        norm = 0.0
        for i in range(n):
            row = 0.0
            for j in range(n):
                row += abs(a[m, i, j])
            norm = max(norm, row)
        s = 0
        while norm > 0.5:
            norm *= 0.5
            s += 1
        scale = 0.5**s
        for i in range(n):
            for j in range(n):
                term[i, j] = 1.0 if i == j else 0.0
                acc[i, j] = term[i, j]
        for k in range(1, 19):
            for i in range(n):
                for j in range(n):
                    v = 0.0
                    for l in range(n):
                        v += term[i, l] * a[m, l, j]
                    tmp[i, j] = v * scale / k
            for i in range(n):
                for j in range(n):
                    term[i, j] = tmp[i, j]
                    acc[i, j] += tmp[i, j]
        for _ in range(s):
            for i in range(n):
                for j in range(n):
                    v = 0.0
                    for l in range(n):
                        v += acc[i, l] * acc[l, j]
                    tmp[i, j] = v
            for i in range(n):
                for j in range(n):
                    acc[i, j] = tmp[i, j]
        for i in range(n):
            for j in range(n):
                out[m, i, j] = acc[i, j]
    return out
