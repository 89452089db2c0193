"""Adapters to other RL libraries, one module each; the library is imported only inside it.

* ``hemosim.integrations.sb3``: Stable-Baselines3 ``VecEnv`` over the native vector env
  (``pip install hemosim[sb3]``).
* ``hemosim.integrations.rllib``: Ray RLlib env creator returning the native vector env
  (``pip install hemosim[rllib]``).
* ``hemosim.integrations.pufferlib``: PufferLib through its Gymnasium emulation
  (``pip install pufferlib``).

``import hemosim`` imports none of these modules.
"""

__all__ = ["ENV_CARD_SECTION"]

#: The part of every env card written by ``scripts/make_env_cards.py`` from this text
#: (shared by all environments: rendering, action-space conventions and RL libraries).
ENV_CARD_SECTION = """## Rendering, action range and RL libraries

(Common to every hemosim environment; provided by the shared env faces in `hemosim.sim`.)

* **Rendering.** `render_mode="rgb_array"` returns a `uint8 (640, 960, 3)` clinical chart of
  the episode so far (this environment's own chart where it has one, otherwise every numeric
  value of `info` over time; events of `info["events"]` as dashed lines); `"ansi"` returns a
  one-screen text summary. `metadata["render_fps"] = 4` (one decision per frame). The
  history behind the chart is kept only while a render mode is set. A vector env renders
  its first `render_patients` patients (default `min(num_envs, 4)`), one frame each.
  `gymnasium.wrappers.RecordVideo` writes videos with `pip install hemosim[video]`.
  Unsupported modes follow Gymnasium: a warning, and `render()` returns `None`.
* **Action range.** Box actions are `[0, 1]` by default. `symmetric_actions=True` (an
  argument of `gym.make` / `gym.make_vec`) shows `Box(-1, 1)` of the same shape, mapped
  linearly onto the native range; out-of-range actions still raise `ValueError`.

  | algorithm (library) | how it meets a Box | use |
  |---|---|---|
  | PPO, A2C (SB3); `ppo_continuous_action` (CleanRL) | Gaussian centred on 0, clipped to the space before `step` | `symmetric_actions=True` (SB3's advice; on `[0, 1]` half of the initial samples clip to 0) |
  | SAC, TD3, DDPG (SB3) | tanh into `[-1, 1]`, rescaled to the space's bounds | either |
  | PPO, SAC (RLlib, `normalize_actions=True`) | unsquashed from `[-1, 1]` to the bounds | either |
  | DQN and other discrete-action methods | need a `Discrete` space | not applicable to a Box env |

  An unclipped Gaussian sample outside the space raises `ValueError`: clip it (SB3 and
  CleanRL's `ClipAction` do) or use a squashing policy.
* **Seeds** are integers in `[0, 2**63 - 1]` (a vector env seeded `s` also needs
  `s + num_envs - 1` in range, or takes one seed per patient); anything else raises
  `ValueError`. `step` before `reset`, or after an episode ended, raises `ResetNeeded`.
* **Vector autoreset.** `NEXT_STEP` (Gymnasium's default); `autoreset_mode="SameStep"`
  resets in the ending step with `info["final_obs"]` / `info["final_info"]`.
* **How much `info`.** `info_level` (an argument of `gym.make` / `gym.make_vec`): `"full"`
  (default) builds the info every step; `"episode"` only at reset and at the step that ends
  an episode (a vector env masks the rows that started or ended; `{}` on other steps);
  `"none"` returns `{}` (training loops that never read it; `SAME_STEP`'s `final_obs` is
  still there). Observations, rewards and trajectories do not depend on it. Rendering and
  `hemosim.safety.SafetyLayer` read every step's info and need `"full"`. Every info is a new
  tree; in a vector env the per-patient values that change only at reset (covariates, the
  `patient` entries) are read-only arrays shared by the infos until that patient's next
  reset (writing to one raises `ValueError`; `.copy()` it to edit), the others are new
  writable arrays every step.
* **Threads.** The compiled per-patient kernels of a vector env run their patients on every
  core for batches of 256 or more (`hemosim.set_num_threads(n)`, `hemosim.num_threads(n)`
  as a context manager, or `HEMOSIM_NUM_THREADS`; `1` is serial). Results are bit-identical
  for any thread count; smaller batches and single envs always run serial.
* **Libraries.** Stable-Baselines3: `make_vec_env("hemosim/...")` works as is, or
  `hemosim.integrations.sb3.make_sb3_vec_env` runs the native vector env (`SubprocVecEnv`
  needs the id written `"hemosim:hemosim/..."` so that worker processes import hemosim).
  RLlib: `hemosim.integrations.rllib.register(id)` with
  `gym_env_vectorize_mode="vector_entry_point"`. PufferLib:
  `hemosim.integrations.pufferlib.puffer_env_creator(id)`. CleanRL: `gym.make_vec(...,
  vectorization_mode="vector_entry_point")` with `gymnasium.wrappers.vector.RecordEpisodeStatistics`.
"""
