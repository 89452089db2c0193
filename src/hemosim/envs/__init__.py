"""hemosim.envs."""
