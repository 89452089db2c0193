"""Baselines for ``hemosim/DOACManagement-v0``: label dosing, warfarin, a guideline chooser, random, constant.

Every policy has ``predict(obs, info=None)``: ``obs`` is one observation ``(8,)`` or a batch
``(N, 8)``; the result is one action ``(2,)`` or ``(N, 2)`` int64 ``[drug, dose]``. The
policies read only the observation (decoded by ``hemosim.envs.doac.observation_to_clinical``):
age, weight, the measured CrCl, sex (and from them the serum creatinine, Cockcroft-Gault
inverted), the scores, prior events and the current regimen. They are stateless: a row whose
regimen is "none" is at its first visit (also after a vector env's autoreset).

Dose rules are the EU SmPC rules of ``hemosim.label_rules`` (apixaban 2-of-3 criteria or
CrCl 15-29; rivaroxaban CrCl 15-49; dabigatran age >= 80 or verapamil; verapamil is not
observed, so the dabigatran rule here uses age only), "contraindicated" becoming "hold".

* :class:`LabelDosedDOAC` (``recheck=True``): one DOAC, the label's dose re-applied at every
  visit from that visit's measured CrCl, age and weight (EHRA 2021 practical guide: re-check
  renal function and adapt the dose; FACTS §6.3).
* :class:`LabelDosedDOAC` (``recheck=False``): the label's dose chosen at the first visit and
  never re-checked (the dose the patient started on is kept for the year).
* :class:`WarfarinPolicy`: warfarin for everybody (the env's INR-2-3 clinic at the patient's TTR;
  needs ``drugs="doacs+warfarin"``).
* :class:`GuidelineChooser`: the principles of the ESC 2020 guideline and EHRA 2021 practical
  guide as rules. No anticoagulant when CHA2DS2-VASc without the sex point is 0 (ESC 2020:
  OAC not recommended at 0 in men / 1 in women). Otherwise, at the first visit: dabigatran
  (RE-LY: 150 mg the only DOAC superior to warfarin on ischaemic stroke) for patients < 75 y with
  CrCl >= 50 mL/min, HAS-BLED <= 2 and no prior bleed; apixaban (least renally cleared, lowest
  major bleeding in ARISTOTLE and consistent in the elderly and in renal impairment) for everyone
  else. At every visit the label dose of the current drug; a patient whose drug becomes
  contraindicated (dabigatran below CrCl 30) switches to apixaban. The choice rules are our
  reading of the guide (it gives principles, not an algorithm) [assumption].
* :class:`RandomDOACPolicy`: uniform over the action space (its own seeded generator).
* :class:`ConstantAction`: the same ``[drug, dose]`` at every visit.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from hemosim.agents.policies import observation_batch
from hemosim import label_rules
from hemosim.envs.doac import observation_to_clinical
from hemosim.models import doac

__all__ = ["LabelDosedDOAC", "WarfarinPolicy", "GuidelineChooser", "RandomDOACPolicy", "ConstantAction",
           "label_dose_from_observation"]

_DRUG_CODE = {"apixaban": doac.APIXABAN, "rivaroxaban": doac.RIVAROXABAN, "dabigatran": doac.DABIGATRAN}


def _out(action: np.ndarray, single: bool) -> np.ndarray:
    action = action.astype(np.int64)
    return action[0] if single else action


def label_dose_from_observation(drug: str, clinical: Mapping[str, np.ndarray]) -> np.ndarray:
    """EU label dose level (0 standard, 1 reduced, 2 contraindicated) of ``drug`` from decoded observations."""
    if drug not in _DRUG_CODE:
        raise ValueError(f"drug must be one of {sorted(_DRUG_CODE)}, got {drug!r}")
    return label_rules.dose_level(
        drug,
        age_y=np.clip(clinical["age_y"], 0.0, 130.0),
        weight_kg=np.clip(clinical["weight_kg"], 1.0, 500.0),
        scr_mg_per_dl=np.clip(clinical["scr_mg_per_dl"], 0.01, 40.0),
        crcl_ml_per_min=np.clip(clinical["crcl_ml_per_min"], 0.0, 1000.0),
    )


class LabelDosedDOAC:
    """One DOAC at the EU label dose; ``recheck`` re-applies the label at every visit."""

    def __init__(self, drug: str, recheck: bool = True) -> None:
        if drug not in _DRUG_CODE:
            raise ValueError(f"drug must be one of {sorted(_DRUG_CODE)}, got {drug!r}")
        if not isinstance(recheck, bool):
            raise ValueError(f"recheck must be a bool, got {recheck!r}")
        self.drug, self.recheck = drug, recheck
        self.name = f"{drug} label dose, {'re-checked every visit' if recheck else 'set at the first visit only'}"

    def reset(self) -> None:
        """Stateless."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        c = observation_to_clinical(o)
        level = label_dose_from_observation(self.drug, c)  # 2 (contraindicated) -> hold
        if not self.recheck:
            started = c["drug"] == _DRUG_CODE[self.drug]
            level = np.where(started, c["dose_level"], level)
        return _out(np.stack([np.full(len(o), _DRUG_CODE[self.drug]), level], axis=1), single)

    __call__ = predict


class WarfarinPolicy:
    """Warfarin for every patient (INR 2-3 at the patient's TTR); needs ``drugs="doacs+warfarin"``."""

    name = "warfarin (INR 2-3, patient's TTR)"

    def reset(self) -> None:
        """Stateless."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        return _out(np.tile([doac.WARFARIN, doac.STANDARD], (len(o), 1)), single)

    __call__ = predict


class GuidelineChooser:
    """ESC 2020 / EHRA 2021 principles as rules (see the module docstring)."""

    name = "guideline chooser (ESC 2020 / EHRA 2021 principles)"

    def reset(self) -> None:
        """Stateless."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        c = observation_to_clinical(o)
        n = len(o)
        no_oac = (c["cha2ds2_vasc"] - c["female"].astype(np.int64)) <= 0
        first = c["drug"] == doac.NO_ANTICOAGULANT
        dabi_ok = (c["age_y"] < 75.0) & (c["crcl_ml_per_min"] >= 50.0) & (c["has_bled"] <= 2) & ~c["prior_bleed"]
        drug = np.where(first, np.where(dabi_ok, doac.DABIGATRAN, doac.APIXABAN), np.minimum(c["drug"], 2))
        levels = np.stack([label_dose_from_observation(d, c) for d in ("apixaban", "rivaroxaban", "dabigatran")], axis=1)
        level = levels[np.arange(n), drug]
        switch = level == label_rules.CONTRAINDICATED
        drug = np.where(switch, doac.APIXABAN, drug)
        level = np.where(switch, levels[:, doac.APIXABAN], level)  # apixaban contraindicated too (CrCl < 15): hold
        level = np.where(no_oac, doac.HOLD, level)
        drug = np.where(no_oac, doac.APIXABAN, drug)
        return _out(np.stack([drug, level], axis=1), single)

    __call__ = predict


class RandomDOACPolicy:
    """Uniform random ``[drug, dose]`` over ``n_drugs`` drugs and 3 dose levels (own seeded generator)."""

    def __init__(self, n_drugs: int = 3, seed: int | None = None) -> None:
        if n_drugs not in (3, 4):
            raise ValueError(f"n_drugs must be 3 (DOACs) or 4 (DOACs + warfarin), got {n_drugs!r}")
        self.n_drugs, self.seed = n_drugs, seed
        self.name = "random"
        self.reset()

    def reset(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        a = np.stack([self._rng.integers(0, self.n_drugs, len(o)), self._rng.integers(0, 3, len(o))], axis=1)
        return _out(a, single)

    __call__ = predict


class ConstantAction:
    """The same ``[drug, dose]`` at every visit for every patient."""

    def __init__(self, drug: int, dose_level: int) -> None:
        if drug not in range(4) or dose_level not in range(3):
            raise ValueError(f"drug must be in 0-3 and dose_level in 0-2, got {drug!r}, {dose_level!r}")
        self.action = np.array([drug, dose_level], dtype=np.int64)
        self.name = f"constant {doac.DRUG_NAMES[drug]} {('standard', 'reduced', 'hold')[dose_level]}"

    def reset(self) -> None:
        """Stateless."""

    def predict(self, obs: Any, info: Mapping[str, Any] | None = None) -> np.ndarray:
        o, single = observation_batch(obs)
        return _out(np.tile(self.action, (len(o), 1)), single)

    __call__ = predict
