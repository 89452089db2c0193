"""PufferLib through its Gymnasium emulation.

PufferLib wraps single Gymnasium envs with ``pufferlib.emulation.GymnasiumPufferEnv``
(``env_creator`` / ``env_args`` / ``env_kwargs``, the signature shared by PufferLib 1.x to
3.0) and vectorises them itself (``pufferlib.vector.make``)::

    import pufferlib.vector
    from hemosim.integrations.pufferlib import puffer_env_creator

    vecenv = pufferlib.vector.make(puffer_env_creator("hemosim/WarfarinDosing-v0"), num_envs=64,
                                   env_kwargs={"difficulty": "hard"})

``puffer_env_creator(env_id)`` returns a picklable creator (a ``functools.partial``) that
builds the emulated single env from the ``"hemosim:..."`` id, so PufferLib's worker
processes import hemosim themselves. Status: PufferLib 3.0 does not install on a machine
without general internet access (its source build downloads files), so this module is
tested against PufferLib's API only where the package is importable; see the README.
"""

from __future__ import annotations

import functools
from typing import Any

import gymnasium as gym

__all__ = ["make_puffer_env", "puffer_env_creator"]


def _gym_make(env_id: str, **env_kwargs: Any) -> gym.Env:
    return gym.make(env_id if ":" in env_id else f"hemosim:{env_id}", **env_kwargs)


def make_puffer_env(env_id: str, buf: Any = None, **env_kwargs: Any):
    """One hemosim env under PufferLib's ``GymnasiumPufferEnv`` emulation."""
    try:
        from pufferlib.emulation import GymnasiumPufferEnv
    except ImportError as exc:
        raise ImportError("hemosim.integrations.pufferlib needs PufferLib: pip install pufferlib") from exc
    kwargs = {"env_creator": _gym_make, "env_args": [env_id], "env_kwargs": env_kwargs}
    if buf is not None:  # PufferLib >= 2 passes its shared buffers to the emulated env
        kwargs["buf"] = buf
    return GymnasiumPufferEnv(**kwargs)


def puffer_env_creator(env_id: str):
    """A picklable creator for ``pufferlib.vector.make`` (called with ``buf=`` and env kwargs)."""
    if env_id.split(":")[-1] not in gym.registry:
        import hemosim  # noqa: F401

        if env_id.split(":")[-1] not in gym.registry:
            raise ValueError(f"unknown id {env_id!r}")
    return functools.partial(make_puffer_env, env_id)
