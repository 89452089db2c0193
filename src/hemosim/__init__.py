"""hemosim: Gymnasium environments for anticoagulation and hemostasis management.

``import hemosim`` registers the environment ids below with Gymnasium, each with a
single-env ``entry_point`` and a native batched ``vector_entry_point``. Nothing heavy is
imported here: models and compiled kernels load when an environment is made.
"""

from __future__ import annotations

from gymnasium.envs.registration import register, registry

__version__ = "0.3.0"

#: (env id, module, single-env class, vector-env class)
_ENVS = [
    ("hemosim/WarfarinDosing-v0", "hemosim.envs.warfarin", "WarfarinDosingEnv", "WarfarinDosingVectorEnv"),
    ("hemosim/HeparinInfusion-v0", "hemosim.envs.heparin", "HeparinInfusionEnv", "HeparinInfusionVectorEnv"),
    ("hemosim/HeparinInfusion-POMDP-v0", "hemosim.envs.heparin_pomdp", "HeparinInfusionPomdpEnv", "HeparinInfusionPomdpVectorEnv"),
    ("hemosim/DOACManagement-v0", "hemosim.envs.doac", "DOACManagementEnv", "DOACManagementVectorEnv"),
    ("hemosim/DICManagement-v0", "hemosim.envs.dic", "DICManagementEnv", "DICManagementVectorEnv"),
]


def _register_all() -> None:
    for env_id, module, single_cls, vector_cls in _ENVS:
        if env_id in registry:
            continue
        register(
            id=env_id,
            entry_point=f"{module}:{single_cls}",
            vector_entry_point=f"{module}:{vector_cls}",
            disable_env_checker=False,
        )


_register_all()

from hemosim.sim.threads import get_num_threads, num_threads, set_num_threads  # noqa: E402  (no Numba import)

__all__ = ["__version__", "set_num_threads", "get_num_threads", "num_threads"]
