"""Clinical risk scores and creatinine clearance, vectorised over arrays (public API).

The definitions live in :mod:`hemosim.models.af_risk` (one source for the model layer and
everything above it; DESIGN.md: imports only go downward, so ``hemosim.models.doac`` must not
import this top-level module). This module re-exports that public API unchanged; the sources
of every score, table and formula are in that module's docstring:

* CHA2DS2-VASc (Lip 2010), CHADS2 (Gage 2001), HAS-BLED (Pisters 2010);
* Cockcroft-Gault creatinine clearance (Cockcroft & Gault 1976, Eq. 1) and its inverse;
* published annual event-rate tables by score (Friberg 2012, Pisters 2010 Table 3, Gage 2001)
  and :func:`table_rate_pct_per_year`;
* the HAS-BLED abnormal-renal threshold, SCr >= 200 umol/L (2.26 mg/dL).
"""

from __future__ import annotations

from hemosim.models.af_risk import (
    CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR,
    CHADS2_STROKE_PCT_PER_YEAR,
    HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR,
    MG_PER_DL_PER_UMOL_PER_L,
    SCR_ABNORMAL_RENAL_MG_PER_DL,
    cha2ds2_vasc,
    chads2,
    cockcroft_gault_ml_per_min,
    has_bled,
    serum_creatinine_from_crcl_mg_per_dl,
    table_rate_pct_per_year,
)
from hemosim.models.dic_scores import (  # DIC scores (Taylor 2001 ISTH, Gando 2006 JAAM, Iba 2017 SIC)
    isth_overt_dic_score,
    jaam_dic_score,
    sic_positive,
    sic_score,
)

__all__ = [
    "SCR_ABNORMAL_RENAL_MG_PER_DL",
    "MG_PER_DL_PER_UMOL_PER_L",
    "CHA2DS2VASC_ISCHAEMIC_STROKE_PCT_PER_YEAR",
    "HASBLED_MAJOR_BLEEDING_PCT_PER_YEAR",
    "CHADS2_STROKE_PCT_PER_YEAR",
    "cha2ds2_vasc",
    "chads2",
    "has_bled",
    "cockcroft_gault_ml_per_min",
    "serum_creatinine_from_crcl_mg_per_dl",
    "table_rate_pct_per_year",
    "isth_overt_dic_score",
    "jaam_dic_score",
    "sic_score",
    "sic_positive",
]
