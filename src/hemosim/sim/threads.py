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

Each env step starts **one** parallel region: the step's per-patient work (the model's
advance, the reward, the clinical event draw, the measurement and the observation, where an
env has them) is one row body, so the threads are woken once per step and the serial Python
between two regions is short. Waking a sleeping thread is the cost that matters on a
virtual machine: on the 2-core benchmark VM an idle vCPU took up to about a millisecond to
join a region (a 1.5 ms compute kernel: 1.9x on 2 threads called back to back, 1.1-1.9x
with 0.5 ms of serial work between calls, varying from minute to minute with the host).
Kernels that integrate a chunk's rows in lock-step take chunks of a size set per kernel
(:func:`chunk_count`).

The threading layer is Numba's choice (TBB if it loads, else OpenMP, else its built-in
work queue; ``numba -s`` shows which, ``NUMBA_THREADING_LAYER`` chooses). GNU OpenMP does
not survive ``fork()``: a forked child that starts a parallel region is killed by Numba
("fork() called from a process already using GNU OpenMP"). So a process forked after this
one ran a parallel kernel (``AsyncVectorEnv`` and ``multiprocessing`` with the ``fork``
start method) runs the serial kernels, with the same results. The work-queue layer is not
safe for parallel kernels launched from several Python threads at once; set
``HEMOSIM_NUM_THREADS=1`` in such programs. Before the layer starts, hemosim sets
``OMP_WAIT_POLICY=PASSIVE`` unless it is set already: spinning OpenMP threads collapse when
another process (a learner, another env) holds a core (see :func:`_configure_layer`). On a
machine the simulation has to itself, a short spin before sleeping pays:
``GOMP_SPINCOUNT=30000`` took the N = 4,096 heparin / warfarin vector envs from 1.40-1.51x /
1.47-1.67x to 1.59-1.63x / 1.64-1.84x on 2 threads (idle, three interleaved runs), but to
0.63-0.70x (passive: 0.90-1.01x) with one core busy elsewhere; so it is the user's choice.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator

__all__ = [
    "PARALLEL_MIN_PATIENTS",
    "PARALLEL_CHUNKS",
    "set_num_threads",
    "get_num_threads",
    "num_threads",
    "use_parallel",
    "use_parallel_light",
    "LIGHT_KERNEL_MIN_ROWS",
    "map_row_parts",
    "chunk_count",
]

#: batches at least this large run their rows in parallel threads (when more than one
#: thread is set). Below it the start-up of the threads outweighs the work: on the 2-core
#: benchmark machine the warfarin and heparin kernels break even near 128-256 patients.
PARALLEL_MIN_PATIENTS = 256

#: light kernels (a few tens of ns per row: the warfarin INR and event draws) go parallel
#: only from this many rows. Starting and joining a parallel region costs tens of
#: microseconds with passive waiting; at N = 4,096 on the 2-core benchmark machine the
#: warfarin INR kernel took 0.13 ms in parallel against 0.07 ms serial, the event draw
#: 0.12 ms against 0.07 ms (same machine, same hour). Read at call time (tests lower it).
LIGHT_KERNEL_MIN_ROWS = 16384

#: at most this many contiguous row chunks per parallel call; each chunk owns its work
#: buffers, so chunks never share writable memory
PARALLEL_CHUNKS = 64

#: chunks are handed to threads dynamically, one at a time (``numba.set_parallel_chunksize``),
#: not split in equal halves up front: rows differ in cost (stiff heparin rows take more RK4
#: substeps), and with the static split the heparin step kernel ran 1.70x faster on 2 threads
#: than on 1; dynamic, 1.96x (N = 4,096, same machine, same hour). Which thread runs a chunk
#: never changes its numbers.
PARALLEL_SCHEDULE_CHUNK = 1

_threads: int | None = None
_omp_launched_in_pid: int | None = None  # the process that started OpenMP threads, if that layer runs
_layer_configured = False
_pool: ThreadPoolExecutor | None = None
_pool_key: tuple[int, int] | None = None  # (pid, size) the pool was made for


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


def use_parallel(num_rows: int, min_rows: int = PARALLEL_MIN_PATIENTS) -> bool:
    """Whether a kernel over ``num_rows`` patients should take its parallel form now.

    True only for more than one thread and at least ``min_rows`` rows (default
    :data:`PARALLEL_MIN_PATIENTS`; kernels whose single row is far costlier than a patient
    step, such as one cascade ODE integration, pass a smaller one); then Numba's thread
    count for this Python thread is set to :func:`get_num_threads`, and its parallel chunk
    size to :data:`PARALLEL_SCHEDULE_CHUNK` (dynamic scheduling).
    """
    global _omp_launched_in_pid
    if num_rows < min_rows:
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
    if numba.get_parallel_chunksize() != PARALLEL_SCHEDULE_CHUNK:
        numba.set_parallel_chunksize(PARALLEL_SCHEDULE_CHUNK)  # per Python thread, like the count
    if _omp_launched_in_pid is None and numba.threading_layer() == "omp":
        _omp_launched_in_pid = pid
    return True


def use_parallel_light(num_rows: int) -> bool:
    """:func:`use_parallel` for a light kernel (threshold :data:`LIGHT_KERNEL_MIN_ROWS`)."""
    return use_parallel(num_rows, LIGHT_KERNEL_MIN_ROWS)


def chunk_count(num_rows: int, min_chunk_rows: int) -> int:
    """How many contiguous row chunks a parallel kernel whose rows are processed together
    (lock-step loops over a chunk's rows, like the heparin integrator's) should split
    ``num_rows`` into: chunks of at least ``min_chunk_rows`` rows, but at least one chunk per
    thread and at most :data:`PARALLEL_CHUNKS` (never more chunks than rows).

    Per-row kernels use :data:`PARALLEL_CHUNKS` small chunks (cheap balancing); a lock-step
    kernel loses its vector loops on small chunks: the heparin step over 4,096 patients took
    4.29 ms in 64 chunks against 3.82 ms in 4 (one thread, same machine, same hour), and on
    2 threads 2.34 ms against 1.92 ms. How the rows are split never changes a number.
    """
    threads = _threads if _threads is not None else get_num_threads()
    by_size = num_rows // max(int(min_chunk_rows), 1)
    return max(1, min(num_rows, PARALLEL_CHUNKS, max(threads, by_size)))


def map_row_parts(fn: Callable[[int, int], None], num_rows: int, min_rows: int = PARALLEL_MIN_PATIENTS) -> None:
    """Call ``fn(lo, hi)`` on contiguous parts of ``range(num_rows)`` covering it once.

    For NumPy / SciPy work that is not a compiled kernel (their ufunc loops release the
    GIL): with more than one thread and at least ``min_rows`` rows, one part per thread runs
    on a pool of Python threads; otherwise ``fn(0, num_rows)`` runs here. ``fn`` must
    write each row from that row's inputs only (elementwise), so the split never changes a
    number. Exceptions propagate.
    """
    global _pool, _pool_key
    threads = _threads if _threads is not None else get_num_threads()
    parts = min(threads, num_rows // max(min_rows // 2, 1)) if num_rows >= min_rows else 1
    if parts <= 1:
        fn(0, num_rows)
        return
    key = (os.getpid(), threads)
    if _pool is None or _pool_key != key:  # a forked child gets its own pool (threads do not survive fork)
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hemosim")
        _pool_key = key
    bounds = [(k * num_rows // parts, (k + 1) * num_rows // parts) for k in range(parts)]
    futures = [_pool.submit(fn, lo, hi) for lo, hi in bounds[1:]]
    fn(*bounds[0])  # this thread does the first part
    for future in futures:
        future.result()
