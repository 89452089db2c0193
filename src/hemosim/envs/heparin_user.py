"""User-given patients of ``HeparinInfusion-v0`` and ``HeparinInfusion-POMDP-v0``.

``reset(options={"patient": {...}})`` takes the keys of
:func:`hemosim.patients.heparin.patient_schema`: sex, age, weight, serum creatinine or
CrCl (renal function), baseline aPTT and platelets, the random effects ``eta_cl``,
``eta_v``, ``eta_aptt_sensitivity``, and the HIT course (``hit``, ``hit_onset_h``,
``hit_fall_fraction``): the heparin envs' scenario is the HIT course, which the
population draws with the patient, so it is set with the patient's keys. The individual
parameters ``info["patient"]`` also reports (volume, clearances, Vmax / Km, sensitivity,
heparin resistance) are derived: they may be given only with the value the other keys
imply, so a whole ``info["patient"]`` can be fed back. A HIT course given on a tier
without HIT (``hit_incidence = 0``) runs, but the 4Ts score is tracked on HIT tiers only.
There is no ``options["scenario"]`` for these envs.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from hemosim.patients.heparin import HeparinPatients, patient_schema
from hemosim.patients.spec import Fixed, check_derived, rows_for_mask, split_options

__all__ = ["PATIENT_SCHEMA", "user_patients", "check_user_patients"]

PATIENT_SCHEMA = patient_schema()


def user_patients(options: Mapping[str, Any] | None, env: str, n: int, mask: np.ndarray) -> Fixed | None:
    """The validated ``options["patient"]`` rows of the ``mask`` patients (None if nothing)."""
    fixed, _ = split_options(options, env, n, PATIENT_SCHEMA, None)
    fixed = rows_for_mask(fixed, mask)
    return fixed if fixed.any() else None


def check_user_patients(fixed: Fixed, new: HeparinPatients) -> None:
    """Derived keys given by the user must equal what the patient's other keys imply."""
    check_derived(PATIENT_SCHEMA, fixed, new.as_info())
