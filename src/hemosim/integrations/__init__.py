"""Adapters to other RL libraries, one module each; the library is imported only inside it.

* ``hemosim.integrations.sb3``: Stable-Baselines3 ``VecEnv`` over the native vector env
  (``pip install hemosim[sb3]``).
* ``hemosim.integrations.rllib``: Ray RLlib env creator returning the native vector env
  (``pip install hemosim[rllib]``).
* ``hemosim.integrations.pufferlib``: PufferLib through its Gymnasium emulation
  (``pip install pufferlib``).

``import hemosim`` imports none of these modules.
"""
