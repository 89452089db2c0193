"""DOAC label rules for atrial fibrillation: dose reduction and contraindication, vectorised.

Each rule returns an integer code per patient, the same index as the dose part of the
``DOACManagement-v0`` action: ``STANDARD = 0``, ``REDUCED = 1``, ``CONTRAINDICATED = 2``
(the label says do not use: hold / choose another drug). The rules follow the EU SmPCs,
because the environment's dabigatran doses (150 / 110 mg bid) are the EU doses; US
differences are noted per rule. Renal function is Cockcroft-Gault creatinine clearance
with actual body weight (``hemosim.scores.cockcroft_gault_ml_per_min``; FACTS §6.3).

Sources
-------
* Apixaban (Eliquis EU SmPC 4.2/4.5, as reproduced at eliquis.co.uk HCP renal-dosing
  page; FACTS §6.3 [S31]): 5 mg bid; 2.5 mg bid with >= 2 of {age >= 80 y, weight <= 60 kg,
  SCr >= 1.5 mg/dL (133 umol/L)} or with CrCl 15-29 mL/min; not recommended at CrCl < 15
  or on dialysis; not recommended with strong inhibitors of both CYP3A4 and P-gp (azole
  antimycotics such as ketoconazole, itraconazole; HIV protease inhibitors such as
  ritonavir). US label instead halves the dose with those inhibitors (FACTS §6.3).
* Rivaroxaban (Xarelto EU SmPC 4.2/4.4; FACTS §6.3 [S29, S32]): 20 mg od; 15 mg od at
  CrCl 15-49 mL/min; not recommended at CrCl < 15; not recommended with strong combined
  CYP3A4 and P-gp inhibitors. (ROCKET AF used 15 mg for CrCl 30-49; US: 15 mg at 15-50.)
* Dabigatran (Pradaxa EU SmPC 4.2/4.3; FACTS §6.3 [S27, S33]): 150 mg bid; 110 mg bid
  mandatory at age >= 80 y or with verapamil; contraindicated at CrCl < 30 mL/min and with
  strong P-gp inhibitors (systemic ketoconazole, ciclosporin, itraconazole, dronedarone).
  The SmPC also says 110 mg may be *considered* at age 75-80, CrCl 30-50, gastritis /
  oesophagitis / reflux or other raised bleeding risk; ``consider_optional=True`` applies
  the renal and age parts of that advice.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "STANDARD",
    "REDUCED",
    "CONTRAINDICATED",
    "DOSE_LEVEL_NAMES",
    "DRUGS",
    "apixaban_dose_level",
    "rivaroxaban_dose_level",
    "dabigatran_dose_level",
    "dose_level",
    "apixaban_reduction_criteria_count",
]

STANDARD: int = 0
REDUCED: int = 1
CONTRAINDICATED: int = 2
DOSE_LEVEL_NAMES: tuple[str, ...] = ("standard", "reduced", "contraindicated")
DRUGS: tuple[str, ...] = ("apixaban", "rivaroxaban", "dabigatran")


def _real(x, name: str, lo: float, hi: float) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    bad = ~np.isfinite(arr) | (arr < lo) | (arr > hi)
    if np.any(bad):
        raise ValueError(f"{name} must be finite and in [{lo}, {hi}], got {arr[bad].ravel()[:3].tolist()}")
    return arr


def _bool(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == bool:
        return arr
    if arr.dtype.kind in "iuf" and np.all(np.isin(arr, (0, 1))):
        return arr.astype(bool)
    raise ValueError(f"{name} must be boolean (or 0/1), got {np.asarray(x).ravel()[:3].tolist()}")


def apixaban_reduction_criteria_count(age_y, weight_kg, scr_mg_per_dl) -> np.ndarray:
    """Number of the apixaban AF dose-reduction criteria met (age >= 80, weight <= 60 kg, SCr >= 1.5)."""
    age = _real(age_y, "age_y", 0.0, 130.0)
    wt = _real(weight_kg, "weight_kg", 1.0, 500.0)
    scr = _real(scr_mg_per_dl, "scr_mg_per_dl", 0.01, 40.0)
    return (age >= 80.0).astype(np.int64) + (wt <= 60.0) + (scr >= 1.5)


def apixaban_dose_level(
    age_y, weight_kg, scr_mg_per_dl, crcl_ml_per_min, strong_cyp3a4_pgp_inhibitor=False, dialysis=False
) -> np.ndarray:
    """EU apixaban AF rule (2-of-3 criteria, CrCl 15-29 -> 2.5 mg, < 15 / dialysis / azole -> not recommended)."""
    n_crit = apixaban_reduction_criteria_count(age_y, weight_kg, scr_mg_per_dl)
    crcl = _real(crcl_ml_per_min, "crcl_ml_per_min", 0.0, 1000.0)
    inhib = _bool(strong_cyp3a4_pgp_inhibitor, "strong_cyp3a4_pgp_inhibitor")
    dial = _bool(dialysis, "dialysis")
    level = np.where((n_crit >= 2) | (crcl < 30.0), REDUCED, STANDARD)
    level = np.where((crcl < 15.0) | dial | inhib, CONTRAINDICATED, level)
    return np.asarray(level, dtype=np.int64)


def rivaroxaban_dose_level(crcl_ml_per_min, strong_cyp3a4_pgp_inhibitor=False) -> np.ndarray:
    """EU rivaroxaban AF rule: 20 mg od; 15 mg od at CrCl 15-49; not recommended < 15 or with azoles / HIV PIs."""
    crcl = _real(crcl_ml_per_min, "crcl_ml_per_min", 0.0, 1000.0)
    inhib = _bool(strong_cyp3a4_pgp_inhibitor, "strong_cyp3a4_pgp_inhibitor")
    level = np.where(crcl < 50.0, REDUCED, STANDARD)
    level = np.where((crcl < 15.0) | inhib, CONTRAINDICATED, level)
    return np.asarray(level, dtype=np.int64)


def dabigatran_dose_level(
    age_y, crcl_ml_per_min, verapamil=False, strong_pgp_inhibitor=False, consider_optional: bool = False
) -> np.ndarray:
    """EU dabigatran AF rule: 110 mg bid at age >= 80 or with verapamil; contraindicated CrCl < 30 / strong P-gp inhibitor."""
    age = _real(age_y, "age_y", 0.0, 130.0)
    crcl = _real(crcl_ml_per_min, "crcl_ml_per_min", 0.0, 1000.0)
    vera = _bool(verapamil, "verapamil")
    inhib = _bool(strong_pgp_inhibitor, "strong_pgp_inhibitor")
    if not isinstance(consider_optional, (bool, np.bool_)):
        raise ValueError(f"consider_optional must be a bool, got {consider_optional!r}")
    reduce = (age >= 80.0) | vera
    if consider_optional:
        reduce = reduce | (age >= 75.0) | (crcl <= 50.0)
    level = np.where(reduce, REDUCED, STANDARD)
    level = np.where((crcl < 30.0) | inhib, CONTRAINDICATED, level)
    return np.asarray(level, dtype=np.int64)


def dose_level(
    drug: str,
    *,
    age_y,
    weight_kg,
    scr_mg_per_dl,
    crcl_ml_per_min,
    verapamil=False,
    strong_pgp_inhibitor=False,
    strong_cyp3a4_pgp_inhibitor=False,
    dialysis=False,
) -> np.ndarray:
    """Label dose level (``STANDARD`` / ``REDUCED`` / ``CONTRAINDICATED``) for ``drug`` in :data:`DRUGS`.

    ``strong_pgp_inhibitor`` is the dabigatran list (ketoconazole, ciclosporin, itraconazole,
    dronedarone); ``strong_cyp3a4_pgp_inhibitor`` the FXa-inhibitor list (azole antimycotics,
    HIV protease inhibitors). Dialysis contraindicates every DOAC here (apixaban and
    rivaroxaban: not recommended in the EU; dabigatran: CrCl < 30).
    """
    dial = _bool(dialysis, "dialysis")
    if drug == "apixaban":
        return apixaban_dose_level(age_y, weight_kg, scr_mg_per_dl, crcl_ml_per_min, strong_cyp3a4_pgp_inhibitor, dial)
    if drug == "rivaroxaban":
        level = rivaroxaban_dose_level(crcl_ml_per_min, strong_cyp3a4_pgp_inhibitor)
        return np.where(dial, CONTRAINDICATED, level)
    if drug == "dabigatran":
        level = dabigatran_dose_level(age_y, crcl_ml_per_min, verapamil, strong_pgp_inhibitor)
        return np.where(dial, CONTRAINDICATED, level)
    raise ValueError(f"drug must be one of {DRUGS}, got {drug!r}")
