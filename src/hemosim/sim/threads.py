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

The threading layer is Numba's choice (TBB if it loads, else OpenMP, else its built-in
work queue; ``numba -s`` shows which, ``NUMBA_THREADING_LAYER`` chooses). GNU OpenMP does
not survive ``fork()``: a forked child that starts a parallel region is killed by Numba
("fork() called from a process already using GNU OpenMP"). So a process forked after this
one ran a parallel kernel (``AsyncVectorEnv`` and ``multiprocessing`` with the ``fork``
start method) runs the serial kernels, with the same results. The work-queue layer is not
safe for parallel kernels launched from several Python threads at once; set
``HEMOSIM_NUM_THREADS=1`` in such programs. Before the layer starts, hemosim sets
``OMP_WAIT_POLICY=PASSIVE`` unless it is set already: spinning OpenMP threads collapse when
another process (a learner, another env) holds a core (see :func:`_configure_layer`).
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
_omp_launched_in_pid: int | None = None  # the process that started OpenMP threads, if that layer runs
_layer_configured = False


def _configure_layer() -> None:
    """Before the threading layer starts: OpenMP threads that wait passively (sleep, not
    spin) unless the user chose a policy. Measured on the 2-core benchmark machine with one
    core busy elsewhere: spinning OpenMP threads ran the warfarin vector env at 0.18 M
    patient-steps/s against 0.96 M with one thread (every parallel region waits for a
    descheduled spinner); passive ones at 1.17 M."""
    global _layer_configured
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _layer_configured = True


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


def use_parallel(num_rows: int) -> bool:
    """Whether a kernel over ``num_rows`` patients should take its parallel form now.

    True only for more than one thread and at least :data:`PARALLEL_MIN_PATIENTS` rows;
    then Numba's thread count for this Python thread is set to :func:`get_num_threads`.
    """
    global _omp_launched_in_pid
    if num_rows < PARALLEL_MIN_PATIENTS:
        return False
    threads = _threads if _threads is not None else get_num_threads()
    if threads <= 1:
        return False
    pid = os.getpid()
    if _omp_launched_in_pid is not None and _omp_launched_in_pid != pid:
        return False  # forked after OpenMP started (module docstring): serial, same results
    if not _layer_configured:
        _configure_layer()
    import numba

    if numba.get_num_threads() != threads:
        numba.set_num_threads(threads)  # starts the threading layer on first use
    if _omp_launched_in_pid is None and numba.threading_layer() == "omp":
        _omp_launched_in_pid = pid
    return True
