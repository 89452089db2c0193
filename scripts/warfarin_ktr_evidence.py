"""Early INR under both ktr conventions vs Kovacs 2003 (docs/models/warfarin.md).

Run: python scripts/warfarin_ktr_evidence.py
4,000 virtual European-ancestry patients (medium-tier variability), two initiation
regimens; prints the markdown rows of the card's table.
"""

import numpy as np

from hemosim.models.warfarin import HambergParameters, WarfarinModel
from hemosim.patients.warfarin import sample_patients
from hemosim.sim.rng import patient_key

N = 4000
patients = sample_patients(patient_key(np.arange(N), 0), "european")
print("| convention | regimen | median INR day 3 | median INR day 5 | % INR >= 2 day 5 | % INR >= 2 day 6 |")
print("|---|---|---|---|---|---|")
for convention in ["per_compartment", "chain_total"]:
    params = HambergParameters(ktr_convention=convention)
    for name, regimen in [("5 mg/day", [5] * 5), ("10, 10, then 5 mg/day", [10, 10, 5, 5, 5])]:
        model = WarfarinModel(N)
        model.set_parameters(np.ones(N, bool), patients.model_parameters(params))
        inr = []
        for dose in regimen:
            model.advance_days(np.full(N, float(dose)))
            inr.append(model.inr())
        inr = np.array(inr)  # inr[k] = morning of day k + 2
        print(f"| {convention} | {name} | {np.median(inr[1]):.2f} | {np.median(inr[3]):.2f} | "
              f"{100 * (inr[3] >= 2).mean():.1f} | {100 * (inr[4] >= 2).mean():.1f} |")
