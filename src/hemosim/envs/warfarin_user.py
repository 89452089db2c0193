"""User-given patients and scenarios of ``WarfarinDosing-v0`` (``reset(options=...)``).

``options["patient"]``: the keys of :func:`hemosim.patients.warfarin.patient_schema`
(covariates, genotypes, co-medication, target INR and the random effects ``eta_*``).
``options["scenario"]``: the events the hard tier schedules (:data:`SCENARIO_SCHEMA`):

* ``amiodarone_start_day``: amiodarone started on the morning of that day (from then on
  S-warfarin CL x 0.776, Gage 2008); ``-1``: not started mid-course;
* ``missed_dose_probability``: the patient's own probability of missing each day's dose;
* ``missed_dose_days``: exactly these doses are missed (day 0 = the first dose); replaces
  the daily random draws (the probability is then not used);
* ``vitamin_k_log_sd``: stationary SD of the daily AR(1) of log EC50 (dietary vitamin K;
  0 = a stable intake).

Keys not given take what the tier draws (hard) or the quiet default (easy / medium:
no missed doses, no amiodarone start, stable vitamin K). A scenario may be given on any
tier. ``info["scenario"]`` reports ``amiodarone_start_day``, ``missed_dose_probability``
and ``vitamin_k_log_sd`` as used.
"""

from __future__ import annotations

from hemosim.patients.spec import Field, Schema

__all__ = ["SCENARIO_SCHEMA", "EPISODE_DAYS"]

EPISODE_DAYS = 90

SCENARIO_SCHEMA = Schema(
    "WarfarinDosing-v0 scenario",
    [
        Field("amiodarone_start_day", "int", "day", 1, EPISODE_DAYS - 1, special=(-1,), special_doc="-1: none",
              doc="amiodarone started that morning (CL x 0.776 from then on); hard tier draws 15-75 in 10 % of patients"),
        Field("missed_dose_probability", "float", "fraction", 0.0, 1.0,
              doc="probability of missing each day's dose; hard tier draws Beta(0.53, 2.29) (Parker 2007)"),
        Field("missed_dose_days", "int_list", "day", 0, EPISODE_DAYS - 1,
              doc="exactly these doses are missed (day 0 = first dose); replaces the daily draws"),
        Field("vitamin_k_log_sd", "float", "log", 0.0, 1.0,
              doc="SD of the daily AR(1) (rho 0.9) of log EC50 from dietary vitamin K; 0 = stable intake"),
    ],
)
