"""hemosim.agents."""
