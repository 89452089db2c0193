"""SB3 PPO env-steps/s at N = 64: the native-vector-env adapter vs make_vec_env (DummyVecEnv).

Run: PYTHONPATH=src python scripts/sb3_throughput.py [--env hemosim/WarfarinDosing-v0] [--n-envs 64]
Prints a Markdown table (the README's "Stable-Baselines3" section quotes it). Needs the
``sb3`` extra. The two paths run the same PPO on the same patients; only the env differs.
"""

from __future__ import annotations

import argparse
import os
import platform

from hemosim.integrations.sb3 import ppo_throughput


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="hemosim/WarfarinDosing-v0")
    parser.add_argument("--n-envs", type=int, default=64)
    parser.add_argument("--rollouts", type=int, default=5, help="measured rollouts of n_steps x n_envs env steps")
    parser.add_argument("--n-steps", type=int, default=64)
    args = parser.parse_args(argv)
    total = args.rollouts * args.n_steps * args.n_envs
    print(f"SB3 PPO on {args.env}, N = {args.n_envs}, {total:,} env steps per path; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    rows = {path: ppo_throughput(args.env, args.n_envs, path, total, args.n_steps) for path in ("dummy", "adapter")}
    print("| path | PPO.learn env-steps/s | rollout collection env-steps/s |")
    print("|---|---|---|")
    for path, label in (("dummy", "`make_vec_env` (DummyVecEnv of single envs)"), ("adapter", "`make_sb3_vec_env` (native vector env)")):
        r = rows[path]
        print(f"| {label} | {r['learn_steps_per_s']:,.0f} | {r['rollout_steps_per_s']:,.0f} |")
    ratio = {k: rows["adapter"][k] / rows["dummy"][k] for k in rows["dummy"]}
    print(f"| ratio adapter / DummyVecEnv | {ratio['learn_steps_per_s']:.2f}x | {ratio['rollout_steps_per_s']:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
