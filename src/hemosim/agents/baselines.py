"""All clinical baselines in one place (the import path of hemosim 0.2's quick start).

Each class lives in the module of its environment; this module re-exports them.
"""

from __future__ import annotations

from hemosim.agents.policies import ConstantDosePolicy, RandomPolicy
from hemosim.agents.warfarin import (
    Gage2008Baseline,
    IWPCClinicalBaseline,
    IWPCPharmacogeneticBaseline,
    WarfarinClinicalBaseline,
)

__all__ = [
    "WarfarinClinicalBaseline",
    "IWPCPharmacogeneticBaseline",
    "IWPCClinicalBaseline",
    "Gage2008Baseline",
    "RandomPolicy",
    "ConstantDosePolicy",
]
