"""Sensitivity of the EU-PACT / COAG comparison (docs/models/warfarin.md, "Guideline protocols
against the trials"): the Fennerty day-4 table as EU-PACT's standard-arm "local practice", and
the protocols without a day-4 revision, on both conditions, each trial on its own population
(presets eu_pact, coag). 1,000 held-out patients, about 1 min.

    PYTHONPATH=src python scripts/warfarin_trial_sensitivity.py
"""

from __future__ import annotations

from hemosim.agents.warfarin import (
    Gage2008Baseline,
    IWPCClinicalBaseline,
    IWPCPharmacogeneticBaseline,
    WarfarinClinicalBaseline,
)
from hemosim.agents.warfarin_trials import EUPACTStandardArm
from hemosim.reproducibility import HELD_OUT_SEEDS
from hemosim.trial_comparison import CONDITIONS, compare_trial_arms, format_comparison, trial_arm_policies


def main() -> None:
    names = list(trial_arm_policies())  # EU-PACT genotype, EU-PACT standard, COAG genotype, COAG clinical
    fennerty = {**trial_arm_policies(), names[1]: lambda: EUPACTStandardArm(revision="fennerty")}
    no_revision = dict(zip(names, [IWPCPharmacogeneticBaseline, WarfarinClinicalBaseline, Gage2008Baseline,
                                   IWPCClinicalBaseline]))
    for label, policies in (("EU-PACT standard arm with the Fennerty day-4 table", fennerty),
                            ("protocols without a day-4 revision", no_revision)):
        for condition in CONDITIONS:
            print(f"== {label}")
            print(format_comparison(compare_trial_arms(list(HELD_OUT_SEEDS), condition, policies=policies)) + "\n")


if __name__ == "__main__":
    main()
