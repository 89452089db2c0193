"""Offline datasets with known behaviour probabilities (``hemosim dataset``; the ``datasets``
extra: Minari with HDF5).

The behaviour policy is a clinical protocol with documented exploration: at every step,
with probability ``1 - epsilon`` the protocol's action, otherwise (probability ``epsilon``)
one of six infusion rates (0, 500, ..., 2,500 U/h, no bolus; the rate bins of
``hemosim.agents.nemati``) drawn uniformly. The behaviour is a mixture over a finite set of
candidate actions, so each logged action has a probability mass
``pi_b(a | h) = (1 - epsilon) [a = protocol(h)] + epsilon / 6 [a is a bin]``, logged in the
episode's infos (``behaviour_probability``, with ``protocol_action_taken``, the indicator a
deterministic target policy needs).

Episodes are recorded from the native vector env on **training patients** (root seeds from
``TRAIN_SEEDS``; an offline dataset is training data) and stored with
``minari.create_dataset_from_buffers`` as ``hemosim/<env>/<policy>-eps<100 epsilon>-v0``.
Ground truth for off-policy evaluation: the protocol itself (epsilon = 0) is simulated on the
same patients; :func:`importance_sampling` estimates its value from the dataset (ordinary
and weighted per-episode importance sampling).

Supported: ``hemosim/HeparinInfusion-v0`` with the Raschke 1993 nomogram (``"raschke"``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from hemosim.reproducibility import TRAIN_SEEDS, assert_train

__all__ = ["record_episodes", "importance_sampling", "make_dataset", "BEHAVIOURS"]

ENV_ID = "hemosim/HeparinInfusion-v0"
BEHAVIOURS = {"raschke": "hemosim.agents.heparin:RaschkeNomogram"}
_STREAM_EXPLORE = 0x5EED_D47A  # the exploration's own generator (numpy, seeded per dataset)


def _protocol(name: str):
    import importlib

    if name not in BEHAVIOURS:
        raise ValueError(f"unknown behaviour policy {name!r}; allowed: {sorted(BEHAVIOURS)}")
    module, cls = BEHAVIOURS[name].split(":")
    return getattr(importlib.import_module(module), cls)()


def record_episodes(policy: str = "raschke", epsilon: float = 0.1, n_episodes: int = 1000, first_seed: int = 0,
                    explore_seed: int = 0) -> list[dict[str, Any]]:
    """One episode per training root seed ``first_seed ..``: observations ``(T + 1, obs)``,
    actions ``(T, 2)``, rewards, terminations, truncations and the behaviour probabilities."""
    from hemosim.agents.nemati import RATE_BINS_U_PER_H, native_actions

    if isinstance(epsilon, bool) or not 0.0 <= float(epsilon) <= 1.0:
        raise ValueError(f"epsilon must be a number in [0, 1], got {epsilon!r}")
    seeds = list(range(first_seed, first_seed + n_episodes))
    if first_seed < TRAIN_SEEDS.start or first_seed + n_episodes > TRAIN_SEEDS.stop:
        raise ValueError(f"seeds {first_seed}..{first_seed + n_episodes - 1} leave the training pool range(0, 10000)")
    assert_train(seeds)
    protocol = _protocol(policy)
    rng = np.random.default_rng([explore_seed, _STREAM_EXPLORE])
    n, k = n_episodes, len(RATE_BINS_U_PER_H)
    bins = native_actions(ENV_ID, np.arange(k))
    env = gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", info_level="none")
    obs, _ = env.reset(seed=seeds)
    observations, actions, rewards, terms, truncs, prob, taken = [obs], [], [], [], [], [], []
    active = np.ones(n, dtype=bool)
    while active.any():
        target = protocol.predict(obs)
        explore = rng.random(n) < epsilon
        pick = rng.integers(0, k, size=n)
        action = np.where(explore[:, None], bins[pick], target).astype(np.float32)
        same = np.all(action == target, axis=1)
        in_bins = (action[:, None, :] == bins[None, :, :]).all(axis=2).any(axis=1)
        prob.append((1.0 - epsilon) * same + (epsilon / k) * in_bins)
        taken.append(same)
        obs, reward, terminated, truncated, _ = env.step(action)
        actions.append(action)
        rewards.append(reward)
        terms.append(terminated)
        truncs.append(truncated)
        observations.append(obs)
        active &= ~(terminated | truncated)
        if not active.all():  # heparin courses have one fixed length; anything else is not supported here
            if active.any():
                raise RuntimeError("episodes of different lengths are not supported by this recorder")
    env.close()
    out = []
    for i in range(n):
        out.append({
            "seed": seeds[i],
            "observations": np.stack([o[i] for o in observations]),
            "actions": np.stack([a[i] for a in actions]),
            "rewards": np.array([r[i] for r in rewards]),
            "terminations": np.array([t[i] for t in terms]),
            "truncations": np.array([t[i] for t in truncs]),
            "behaviour_probability": np.array([p[i] for p in prob]),
            "protocol_action_taken": np.array([t[i] for t in taken]),
        })
    return out


def importance_sampling(episodes: list[dict[str, Any]], gamma: float = 1.0) -> dict[str, float]:
    """Per-episode importance-sampling estimates of the (deterministic) protocol's value:
    weight ``prod_t [a_t = protocol(h_t)] / pi_b(a_t | h_t)``; ordinary (unbiased) and
    weighted (self-normalised) averages of the discounted returns."""
    weights, returns = [], []
    for ep in episodes:
        w = np.prod(np.where(ep["protocol_action_taken"], 1.0 / ep["behaviour_probability"], 0.0))
        disc = gamma ** np.arange(len(ep["rewards"]))
        weights.append(w)
        returns.append(float(np.sum(disc * ep["rewards"])))
    w, g = np.asarray(weights), np.asarray(returns)
    ois = float(np.mean(w * g))
    wis = float(np.sum(w * g) / np.sum(w)) if np.sum(w) > 0 else float("nan")
    return {"ordinary_is": ois, "ordinary_is_se": float(np.std(w * g, ddof=1) / np.sqrt(len(g))), "weighted_is": wis,
            "episodes_with_weight": int(np.count_nonzero(w)), "behaviour_mean_return": float(g.mean())}


def make_dataset(policy: str = "raschke", epsilon: float = 0.1, n_episodes: int = 1000, first_seed: int = 0,
                 explore_seed: int = 0, dataset_id: str | None = None) -> dict[str, Any]:
    """Record, store as a Minari dataset, and compare the IS estimate with the true value."""
    try:
        import minari
        from minari.data_collector import EpisodeBuffer
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("hemosim dataset needs the datasets extra: pip install 'hemosim[datasets]'") from exc
    episodes = record_episodes(policy, epsilon, n_episodes, first_seed, explore_seed)
    truth = record_episodes(policy, 0.0, n_episodes, first_seed, explore_seed)  # the protocol, same patients
    true_value = float(np.mean([ep["rewards"].sum() for ep in truth]))
    dataset_id = dataset_id or f"hemosim/HeparinInfusion/{policy}-eps{round(100 * epsilon)}-v0"
    buffers = [
        EpisodeBuffer(
            id=j, seed=ep["seed"], observations=ep["observations"], actions=ep["actions"],
            rewards=list(ep["rewards"]), terminations=list(ep["terminations"]), truncations=list(ep["truncations"]),
            infos={"behaviour_probability": np.concatenate([[np.nan], ep["behaviour_probability"]]),
                   "protocol_action_taken": np.concatenate([[False], ep["protocol_action_taken"]])},
        )
        for j, ep in enumerate(episodes)
    ]
    if dataset_id in minari.list_local_datasets():
        minari.delete_dataset(dataset_id)
    minari.create_dataset_from_buffers(
        dataset_id, buffers, env=ENV_ID, algorithm_name=f"{policy} nomogram, epsilon {epsilon} exploration over 6 rate bins",
        author="hemosim", description=__doc__, data_format="hdf5",
    )
    return {"dataset_id": dataset_id, "episodes": n_episodes, "epsilon": epsilon, "training_root_seeds":
            [first_seed, first_seed + n_episodes - 1], "true_protocol_value": true_value,
            **importance_sampling(episodes)}
