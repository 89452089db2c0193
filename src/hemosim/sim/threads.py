"""How many cores the compiled per-patient kernels use.

Every compiled kernel that loops over patients has two compiled forms built from one
row-range body: a serial one and a parallel one that hands contiguous chunks of rows to
Numba's threads (``prange``). Patients are independent and each row runs the same
arithmetic in the same order whichever thread runs it (no reduction crosses rows, no
fast-math), so **results are bit-identical for any thread count** (``tests/sim/test_threads.py``).

The setting:

* :func:`set_num_threads` / :func:`get_num_threads`, or the environment variable
  ``HEMOSIM_NUM_THREADS`` read at first use; default: every core Numba sees
  (``numba.config.NUMBA_NUM_THREADS``, itself settable with ``NUMBA_NUM_THREADS``);
  ``1`` restores the serial kernels everywhere;
* :func:`num_threads` is a context manager for a temporary setting.

Batches smaller than :data:`PARALLEL_MIN_PATIENTS` always take the serial kernel: waking
threads costs more than it saves there (measured: ``hemosim benchmark``; N = 1 and
N = 64 run exactly the serial code).

The threading layer is Numba's choice (TBB if installed, else OpenMP, else its built-in
work queue); ``numba -s`` shows which. The built-in work queue is not safe for parallel
kernels launched from several Python threads at once; set ``HEMOSIM_NUM_THREADS=1`` in
such programs (or install ``tbb``).
"""

from __future__ import annotations

import contextlib
import os
from typing import Iterator

__all__ = [
    "PARALLEL_MIN_PATIENTS",
    "PARALLEL_CHUNKS",
    "set_num_threads",
    "get_num_threads",
    "num_threads",
    "use_parallel",
]

#: batches at least this large run their rows in parallel threads (when more than one
#: thread is set). Below it the start-up of the threads outweighs the work: on the 2-core
#: benchmark machine the warfarin and heparin kernels break even near 128-256 patients.
PARALLEL_MIN_PATIENTS = 256

#: at most this many contiguous row chunks per parallel call; each chunk owns its work
#: buffers, so chunks never share writable memory
PARALLEL_CHUNKS = 64

_threads: int | None = None


def _max_threads() -> int:
    from numba import config

    return int(config.NUMBA_NUM_THREADS)


def _check(n: object, what: str) -> int:
    limit = _max_threads()
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise ValueError(
            f"{what} must be an integer from 1 to {limit} (the threads Numba started, NUMBA_NUM_THREADS), got {n!r}"
        )
    return n


def get_num_threads() -> int:
    """The number of threads hemosim's kernels use (default: all cores)."""
    global _threads
    if _threads is None:
        env = os.environ.get("HEMOSIM_NUM_THREADS")
        if env is None or env.strip() == "":
            _threads = _max_threads()
        else:
            try:
                value = int(env)
            except ValueError:
                raise ValueError(f"HEMOSIM_NUM_THREADS={env!r} is not an integer") from None
            _threads = _check(value, "HEMOSIM_NUM_THREADS")
    return _threads


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (1 to ``NUMBA_NUM_THREADS``) in every compiled patient kernel."""
    global _threads
    _threads = _check(n, "num_threads")


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Temporarily use ``n`` threads: ``with hemosim.num_threads(1): ...``."""
    before = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


def use_parallel(num_rows: int, min_rows: int = PARALLEL_MIN_PATIENTS) -> bool:
    """Whether a kernel over ``num_rows`` patients should take its parallel form now.

    True only for more than one thread and at least ``min_rows`` rows (default
    :data:`PARALLEL_MIN_PATIENTS`; kernels whose single row is far costlier than a patient
    step, such as one cascade ODE integration, pass a smaller one); then Numba's thread
    count for this Python thread is set to :func:`get_num_threads`.
    """
    threads = get_num_threads()
    if threads <= 1 or num_rows < min_rows:
        return False
    import numba

    if numba.get_num_threads() != threads:
        numba.set_num_threads(threads)
    return True
