"""hemosim.calibration."""
