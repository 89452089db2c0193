"""Ray RLlib: an env creator that returns hemosim's native vector env.

RLlib's new API stack (``SingleAgentEnvRunner``) builds its env with
``gym.make_vec(..., vectorization_mode=config.gym_env_vectorize_mode)``; for a name
registered with ``ray.tune.register_env`` it calls the creator with the env config plus
``num_envs`` when the mode is ``"vector_entry_point"``. :func:`env_creator` answers that
call with the native batched env (all ``num_envs`` patients in one array program) and a
call without ``num_envs`` with the single env::

    from ray.rllib.algorithms.ppo import PPOConfig
    from hemosim.integrations.rllib import register

    name = register("hemosim/WarfarinDosing-v0")          # "hemosim-WarfarinDosing-v0"
    config = (
        PPOConfig()
        .environment(name, env_config={"difficulty": "hard", "symmetric_actions": True})
        .env_runners(num_envs_per_env_runner=64, gym_env_vectorize_mode="vector_entry_point")
    )

``register`` must run in every worker process; :func:`register` does it on the driver,
and remote workers re-run the registration of the driver's ``tune.register_env`` through
Ray's global registry. Without any registration a worker can still build the env from the
id written ``"hemosim:hemosim/WarfarinDosing-v0"`` (Gymnasium's "module:id" form imports
hemosim first): ``PPOConfig().environment("hemosim:hemosim/WarfarinDosing-v0")`` with
``gym_env_vectorize_mode="vector_entry_point"`` gets the native vector env too.

The env config holds the env's own arguments (``difficulty``, ``symmetric_actions``, ...)
plus ``env_id`` when the creator is registered generically (``register()`` without an id).
RLlib's ``EnvContext`` fields (``worker_index``, ...) are not env arguments and are dropped;
``seed`` is not an env argument either (RLlib seeds through ``reset``). Ray is not imported
here except by :func:`register` (``pip install hemosim[rllib]``; RLlib pins its own
Gymnasium version, see the README).
"""

from __future__ import annotations

from typing import Any, Mapping

import gymnasium as gym

import hemosim  # noqa: F401  (registers the ids)

__all__ = ["env_creator", "make_creator", "register", "rllib_name"]

_CONTEXT_KEYS = ("worker_index", "num_workers", "vector_index", "remote", "recreated_worker")


def _env_arguments(config: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in dict(config).items() if k not in _CONTEXT_KEYS and k not in ("num_envs", "env_id")}


def env_creator(config: Mapping[str, Any], env_id: str | None = None):
    """The env of ``config``: the native vector env if it holds ``num_envs``, else the single env.

    ``env_id`` defaults to ``config["env_id"]``; every other key is an env argument.
    """
    env_id = env_id or config.get("env_id")
    if not env_id:
        raise ValueError("no environment id: pass env_id or put 'env_id' in the env config")
    kwargs = _env_arguments(config)
    if "num_envs" in config:
        return gym.make_vec(env_id, num_envs=int(config["num_envs"]), vectorization_mode="vector_entry_point", **kwargs)
    return gym.make(env_id, **kwargs)


def make_creator(env_id: str):
    """A creator bound to one id (what ``ray.tune.register_env`` takes)."""
    if env_id not in gym.registry:
        raise ValueError(f"unknown id {env_id!r}; hemosim ids: {sorted(e for e in gym.registry if e.startswith('hemosim/'))}")

    def create(config: Mapping[str, Any]):
        return env_creator(config, env_id)

    return create


def rllib_name(env_id: str) -> str:
    """The name :func:`register` gives ``env_id`` in Ray's registry (no ``/``)."""
    return env_id.replace("/", "-")


def register(env_id: str | None = None) -> str:
    """Register ``env_id`` (or, without one, the generic creator as ``"hemosim"``, which reads
    ``env_id`` from the env config) with ``ray.tune.register_env``; returns the name."""
    from ray.tune.registry import register_env

    if env_id is None:
        register_env("hemosim", env_creator)
        return "hemosim"
    name = rllib_name(env_id)
    register_env(name, make_creator(env_id))
    return name
