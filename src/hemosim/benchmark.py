"""Throughput of every registered environment and of the models that offer a benchmark.

* single env: ``gym.make(env_id)`` steps/s with its default wrappers, resets included,
  actions pre-sampled so the policy costs nothing;
* vector env: ``gym.make_vec(..., vectorization_mode="vector_entry_point")``
  patient-steps/s (``num_envs`` x steps/s), autoresets included;
* model benchmarks: callables listed in :data:`MODEL_BENCHMARKS` (module, function)
  returning a dict of named figures (or seconds); skipped only if the module is absent;
* ``import hemosim`` in a fresh interpreter (best of three), the figure that the test
  suite used to assert (tests assert no wall-clock time: issue #12);
* threads and overhead, at the largest N: the vector env with 1 thread and with every
  core (``hemosim.sim.threads``) and their ratio; the simulator alone (``advance``, the
  reset of finished patients and the observation, no env face: the "kernel-only" rate)
  beside the env, so the face's share (info, masks, validation) is visible; and the env
  with ``info_level="none"``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import platform
import time
from typing import Iterable

import gymnasium as gym
import numpy as np

import hemosim

__all__ = [
    "single_env_steps_per_s",
    "vector_patient_steps_per_s",
    "import_seconds",
    "simulator_patient_steps_per_s",
    "threads_and_overhead",
    "run_benchmarks",
    "MODEL_BENCHMARKS",
]

MODEL_BENCHMARKS = [
    ("hemosim.models.doac", "benchmark_year", "DOAC model: one simulated year (daily), 4,096 patients"),
    ("hemosim.models.cascade", "benchmark", "Hockin-Mann cascade"),
]

#: Simulated days per decision step, for environments whose step spans many model days
#: (the table then also reports simulated patient-days/s = patient-steps/s x days per step).
DAYS_PER_STEP = {"hemosim/DOACManagement-v0": 365.0 / 12.0}

_UNITS = {
    "single_curve_ms": ("one 1,200 s thrombin-generation curve", "{:.1f} ms"),
    "batch256_s": ("256 samples in one call", "{:.2f} s"),
    "fast_assay_evals_per_s": ("fast PT/aPTT path", "{:,.0f} evaluations/s"),
}


def _format(value) -> str:
    if isinstance(value, dict):
        return "; ".join(
            f"{_UNITS.get(k, (k, '{}'))[0]} {_UNITS.get(k, (k, '{}'))[1].format(v)}" for k, v in value.items()
        )
    return f"{value:.2f} s" if isinstance(value, float) else str(value)


def _actions(space: gym.Space, n: int, seed: int = 0) -> list:
    space.seed(seed)
    return [space.sample() for _ in range(n)]


def single_env_steps_per_s(env_id: str, seconds: float = 2.0) -> float:
    env = gym.make(env_id)
    env.reset(seed=0)
    actions = _actions(env.action_space, 1024)
    for a in actions[:64]:  # warm-up (compilation, caches)
        _, _, te, tr, _ = env.step(a)
        if te or tr:
            env.reset()
    steps, t0 = 0, time.perf_counter()
    while True:
        for a in actions:
            _, _, te, tr, _ = env.step(a)
            if te or tr:
                env.reset()
        steps += len(actions)
        if time.perf_counter() - t0 >= seconds:
            break
    return steps / (time.perf_counter() - t0)


def vector_patient_steps_per_s(
    env_id: str, num_envs: int, seconds: float = 2.0, safety_mode: str | None = None, **env_options
) -> float:
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point", **env_options)
    if safety_mode is not None:  # behind the CDS layer (hemosim.safety)
        from hemosim.safety import SafetyLayer

        venv = SafetyLayer(venv, mode=safety_mode)
    venv.reset(seed=0)
    rate = num_envs * _calls_per_s(venv.step, _actions(venv.action_space, 16), seconds)
    venv.close()
    return rate


def _calls_per_s(step, actions: list, seconds: float) -> float:
    """Calls of ``step`` per second, cycling through ``actions`` (two warm-up calls first)."""
    for a in actions[:2]:
        step(a)
    steps, t0 = 0, time.perf_counter()
    while True:
        for a in actions:
            step(a)
        steps += len(actions)
        if time.perf_counter() - t0 >= seconds:
            break
    return steps / (time.perf_counter() - t0)


def simulator_patient_steps_per_s(env_id: str, num_envs: int, seconds: float = 2.0) -> float:
    """Patient-steps/s of the batched simulator alone: ``advance`` + reset of the patients
    whose episode ended + ``observation`` (the env's work without its Gymnasium face)."""
    from hemosim.sim.rng import patient_key

    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    sim = venv.unwrapped.sim
    space = venv.unwrapped.single_action_space
    actions = [sim.validate_actions(a) for a in _actions(gym.vector.utils.batch_space(space, num_envs), 16)]
    roots = np.arange(num_envs, dtype=np.uint64)
    episode = np.zeros(num_envs, dtype=np.int64)

    def step(a: np.ndarray) -> None:
        _, terminated, truncated = sim.advance(a)
        done = terminated | truncated
        if done.any():
            episode[done] += 1
            sim.reset_patients(done, patient_key(roots[done], episode[done]), None)
        sim.observation()

    rate = num_envs * _calls_per_s(step, actions, seconds)
    venv.close()
    return rate


def threads_and_overhead(env_id: str, num_envs: int, seconds: float = 2.0, rounds: int = 3) -> dict[str, float]:
    """At ``num_envs``: env with 1 thread and all threads, simulator alone, env with no info.

    The two thread counts run on the same env in ``rounds`` alternating windows of
    ``seconds / rounds`` each, and each rate is the best of its windows: on a shared or
    virtual machine a neighbour's burst only ever slows a window, and alternating keeps a
    slow minute from landing on one thread count only."""
    from hemosim.sim import threads

    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    actions = _actions(venv.action_space, 16)
    window = max(seconds / max(rounds, 1), 0.01)
    one = every = 0.0
    for _ in range(max(rounds, 1)):
        with threads.num_threads(1):
            one = max(one, num_envs * _calls_per_s(venv.step, actions, window))
        every = max(every, num_envs * _calls_per_s(venv.step, actions, window))
    venv.close()
    sim_only = simulator_patient_steps_per_s(env_id, num_envs, seconds)
    no_info = vector_patient_steps_per_s(env_id, num_envs, seconds, info_level="none")
    return {"threads": threads.get_num_threads(), "one_thread": one, "all_threads": every,
            "scaling": every / one, "simulator_only": sim_only, "env_over_simulator": sim_only / every,
            "info_none": no_info}


def import_seconds(repeats: int = 3) -> float:
    """Wall time of ``import hemosim`` in a fresh interpreter (best of ``repeats``)."""
    import subprocess
    import sys

    probe = "import time; t = time.perf_counter(); import hemosim; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout) for _ in range(repeats)]
    return min(runs)


def run_benchmarks(
    seconds: float = 2.0,
    sizes: Iterable[int] = (1, 64, 1024, 4096),
    quick: bool = False,
    env_ids: Iterable[str] | None = None,
) -> dict:
    if quick:
        seconds, sizes = 0.05, [1, 8]
    sizes = list(sizes)
    ids = sorted(e for e in gym.registry if e.startswith("hemosim/")) if not env_ids else list(env_ids)
    print(f"hemosim {hemosim.__version__} benchmark on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}")
    header = "| environment | single env steps/s | " + " | ".join(f"vector N={n} patient-steps/s" for n in sizes) + " |"
    print(header)
    print("|" + "---|" * (2 + len(sizes)))
    results: dict = {}
    for env_id in ids:
        single = single_env_steps_per_s(env_id, seconds)
        vec = {n: vector_patient_steps_per_s(env_id, n, seconds) for n in sizes}
        results[env_id] = {"single_steps_per_s": single, "vector_patient_steps_per_s": vec}
        print(f"| `{env_id}` | {single:,.0f} | " + " | ".join(f"{vec[n]:,.0f}" for n in sizes) + " |", flush=True)
    for env_id in ids:  # with clinical events (always on) and the CDS layer enforcing, at the largest N
        try:
            rate = vector_patient_steps_per_s(env_id, sizes[-1], seconds, safety_mode="enforce")
        except ValueError:  # no safety adapter for this env
            continue
        results[env_id]["safety_layer_patient_steps_per_s"] = {sizes[-1]: rate}
        print(f"{env_id} + SafetyLayer(enforce), N={sizes[-1]}: {rate:,.0f} patient-steps/s", flush=True)
    from hemosim.sim import threads

    n = sizes[-1]
    print(f"\nThreads and overhead at N = {n:,} ({threads.get_num_threads()} threads = all cores; "
          "simulator alone = advance + resets + observation, no env face):")
    print("| environment | 1 thread | all threads | scaling | simulator alone | env cost (simulator / env) "
          "| env, info_level=\"none\" |")
    print("|---|---|---|---|---|---|---|")
    for env_id in ids:
        row = threads_and_overhead(env_id, n, seconds)
        results[env_id]["threads_at_largest_n"] = row
        print(f"| `{env_id}` | {row['one_thread']:,.0f} | {row['all_threads']:,.0f} | {row['scaling']:.2f} x | "
              f"{row['simulator_only']:,.0f} | {row['env_over_simulator']:.2f} x | {row['info_none']:,.0f} |", flush=True)
    results["import hemosim"] = import_seconds(1 if quick else 3)
    print(f"import hemosim (fresh interpreter): {results['import hemosim']:.2f} s", flush=True)
    for env_id in ids:
        if env_id in DAYS_PER_STEP:
            days = DAYS_PER_STEP[env_id]
            per_day = {n: v * days for n, v in results[env_id]["vector_patient_steps_per_s"].items()}
            results[env_id]["vector_patient_days_per_s"] = per_day
            results[env_id]["single_patient_days_per_s"] = results[env_id]["single_steps_per_s"] * days
            print(f"`{env_id}` ({days:.1f} simulated days per step): single env "
                  f"{results[env_id]['single_patient_days_per_s']:,.0f} patient-days/s; vector "
                  + ", ".join(f"N={n}: {v:,.0f}" for n, v in per_day.items()) + " patient-days/s", flush=True)
    for module_name, func, label in MODEL_BENCHMARKS:
        if importlib.util.find_spec(module_name) is None:
            continue  # the model is not part of this installation
        fn = getattr(importlib.import_module(module_name), func)
        try:
            value = fn(num_patients=64) if (quick and func == "benchmark_year") else fn()
        except Exception as exc:  # a model benchmark failing must not hide the others
            print(f"{label}: failed ({type(exc).__name__}: {exc})")
            continue
        results[label] = value
        print(f"{label}: {_format(value)}")
    return results
