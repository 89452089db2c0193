"""Virtual populations: covariates drawn per patient from its own key -> model parameters.

One module per population family: ``warfarin`` (anticoagulation-clinic cohorts with
CYP2C9 / VKORC1 genotypes), ``af`` (atrial-fibrillation trial cohorts) and ``heparin``
(inpatients on unfractionated heparin).
"""
