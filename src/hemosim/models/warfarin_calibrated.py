"""The calibrated warfarin model: Hamberg 2007 steady-state PD with cohort-fitted values.

The default virtual patient of ``hemosim/WarfarinDosing-v0`` since hemosim 0.4. It keeps the
Hamberg 2007 structure (Clin Pharmacol Ther 2007;81:529; ``models/warfarin.py``) and changes
what published cohort data contradict, each change with its evidence in
``docs/models/warfarin.md``:

* **CYP2C9 on clearance** (literature, not fitted): the dose reductions of the Lindh 2009
  meta-analysis (Eur J Clin Pharmacol 65:365, 39 studies, 7,907 patients): *1/*2 19.6 %,
  *1/*3 33.7 %, *2/*2 36.0 %, *2/*3 56.7 %, *3/*3 78.1 % lower than *1/*1. At steady state
  the dose is proportional to CL, so these are clearance multipliers. Hamberg 2007's own
  (31.5, 45.3, 72.2, 69.0, 85.2 %, 150 patients) are stronger than the pooled cohorts.
* **Body size on clearance** (literature, not fitted): the Gage 2008 BSA term, dose x
  e^(0.4317 (BSA - 1.9 m^2)) (Clin Pharmacol Ther 84:326, "+11 % per 0.25 m^2"; FACTS
  §2.2). IWPC 2009's weight and height terms imply the same size (+4.9 % per 10 kg).
* **Fitted** by ``python -m hemosim.calibration.warfarin_population`` on training seeds and
  stored in ``hemosim/data/warfarin_calibration.json`` (read here, never edited by hand):

  - ``ec50_scale`` (a cohort factor on EC50) and ``bsv_scale`` (a factor on the
    between-subject SDs of CL and EC50) to the IWPC 2009 dose distribution (NEJM 360:753:
    median 28.0 mg/week, IQR 19.0-38.5; 33.9 % <= 21 and 12.4 % >= 49 mg/week);
  - ``gamma``, ``mtt1_h`` and ``mtt2_h`` (the Hill coefficient and the two transit times) to
    the INR after stopping warfarin (White 1995 Ann Intern Med 122:40) and after starting it
    (Kovacs 2003 Ann Intern Med 138:714). Hamberg's gamma = 0.424 makes the effect of a
    falling concentration fade with about 1/gamma = 2.4 times the S-warfarin half-life, so no
    transit time reproduces White's offset (model card). When gamma changes, EC50 is
    rescaled so that the concentration giving INR 2.5 is unchanged: the steady-state dose for
    INR 2.5 (Hamberg 2007 Table 5, scaled by ``ec50_scale`` and the CYP2C9 and BSA terms)
    holds for every fitted gamma; only the slope of the dose-response around it changes.

PK (ka, CL, V1, Q, V2), lambda, INRmax and BASE stay Hamberg 2007's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from hemosim.models.warfarin import HAMBERG_2007, HambergParameters

__all__ = [
    "CALIBRATION_FILE",
    "LINDH_2009_CYP2C9_DOSE_REDUCTION",
    "WarfarinCalibration",
    "load_calibration",
    "calibrated_parameters",
    "parameters_for",
]

CALIBRATION_FILE = "warfarin_calibration.json"

_LINDH = "Lindh 2009 Eur J Clin Pharmacol 65:365 (meta-analysis, 7,907 patients), abstract"
#: Dose reduction vs *1/*1 (fraction), order of CYP2C9_GENOTYPES[1:] (Lindh 2009).
LINDH_2009_CYP2C9_DOSE_REDUCTION: tuple[float, ...] = (0.196, 0.337, 0.360, 0.567, 0.781)

_FIT = "fitted by hemosim.calibration.warfarin_population (data/warfarin_calibration.json)"


def _p(value: Any, unit: str, source: str) -> Any:
    return field(default=value, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class WarfarinCalibration:
    """Calibrated values layered on Hamberg 2007 (each field: unit and source)."""

    ec50_scale: float = _p(1.0, "1 (multiplies Hamberg 2007 EC50 of every VKORC1 genotype)",
                           f"{_FIT} to the IWPC 2009 dose distribution (NEJM 360:753 Tables 1, 3)")
    bsv_scale: float = _p(1.0, "1 (multiplies the SD of eta_CL and eta_EC50, Hamberg CV % reading)",
                          f"{_FIT} to the IWPC 2009 dose distribution (NEJM 360:753 Tables 1, 3)")
    gamma: float = _p(HAMBERG_2007.gamma, "1 (Hill coefficient of the Emax on S-warfarin)",
                      f"{_FIT} to White 1995 Ann Intern Med 122:40 and Kovacs 2003 Ann Intern Med 138:714")
    mtt1_h: float = _p(11.6, "h (chain 1, 6 compartments, ktr1 = 6/MTT1)",
                       f"{_FIT} to White 1995 Ann Intern Med 122:40 and Kovacs 2003 Ann Intern Med 138:714")
    mtt2_h: float = _p(120.0, "h (chain 2, 1 compartment)",
                       f"{_FIT} to White 1995 Ann Intern Med 122:40 and Kovacs 2003 Ann Intern Med 138:714")
    cyp2c9_multiplier: tuple[float, ...] = _p(
        (1.0,) + tuple(1.0 - r for r in LINDH_2009_CYP2C9_DOSE_REDUCTION),
        "fraction of *1/*1 CL, order of CYP2C9_GENOTYPES", _LINDH,
    )
    bsa_cl_coefficient_per_m2: float = _p(0.4317, "ln(CL) per m^2 of body surface area",
                                          "Gage 2008 Clin Pharmacol Ther 84:326 BSA coefficient (FACTS §2.2)")
    bsa_reference_m2: float = _p(1.9, "m^2", "reference BSA (choice; absorbed by the fitted ec50_scale)")

    def __post_init__(self) -> None:
        for name in ("ec50_scale", "bsv_scale", "gamma", "mtt1_h", "mtt2_h"):
            value = getattr(self, name)
            if not (value > 0 and value < float("inf")):
                raise ValueError(f"{name} must be finite and > 0, got {value!r}")
        if len(self.cyp2c9_multiplier) != 6:
            raise ValueError(f"cyp2c9_multiplier needs 6 values, got {self.cyp2c9_multiplier}")

    def ec50_factor(self, base: HambergParameters = HAMBERG_2007) -> float:
        """Factor on every EC50: ``ec50_scale`` x the rescaling that keeps C(INR 2.5) at gamma.

        At steady state INR 2.5 needs E* with ``1 - (1 - E*)^2 = (1.5 / INRmax)^(1/lambda)``
        (Hamberg 2007 Appendix Eq 10) and C = EC50 (E*/(1 - E*))^(1/gamma); keeping C fixed
        when gamma changes from Hamberg's g0 to g gives EC50' = EC50 r^(1/g0 - 1/g),
        r = E*/(1 - E*) (r = 0.398, so e.g. gamma 0.8 multiplies EC50 by 0.36).
        """
        x = ((2.5 - base.inr_base) / base.inr_max) ** (1.0 / base.inr_lambda)
        e = 1.0 - (1.0 - x) ** 0.5
        r = e / (1.0 - e)
        return self.ec50_scale * r ** (1.0 / base.gamma - 1.0 / self.gamma)

    def model_parameters(self, base: HambergParameters = HAMBERG_2007) -> HambergParameters:
        """Hamberg 2007 typical values with the calibrated ones substituted."""
        factor = self.ec50_factor(base)
        return replace(
            base,
            cl_s_cyp2c9_multiplier=tuple(self.cyp2c9_multiplier),
            gamma=self.gamma,
            ec50_mg_per_l=tuple(factor * e for e in base.ec50_mg_per_l),
            mtt1_h=self.mtt1_h,
            mtt2_h=self.mtt2_h,
            ktr_convention="chain_total",
        )

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


_FITTED = ("ec50_scale", "bsv_scale", "gamma", "mtt1_h", "mtt2_h")


@lru_cache(maxsize=1)
def load_calibration() -> WarfarinCalibration:
    """The stored calibration (``hemosim/data/warfarin_calibration.json``, fitted values only)."""
    text = resources.files("hemosim").joinpath("data", CALIBRATION_FILE).read_text()
    data = json.loads(text)
    return WarfarinCalibration(**{k: float(data["fitted"][k]) for k in _FITTED})


@lru_cache(maxsize=16)
def parameters_for(cal: WarfarinCalibration) -> HambergParameters:
    """``cal.model_parameters()``, cached (a reset samples patients often; the result is frozen)."""
    return cal.model_parameters()


def calibrated_parameters() -> HambergParameters:
    """Typical-patient parameters of the calibrated model (Hamberg 2007 with the stored calibration)."""
    return load_calibration().model_parameters()
