"""Virtual warfarin patients: covariates and Hamberg 2007 parameters, one key per patient.

Every quantity is drawn with the counter-based generator of ``hemosim.sim.rng`` from the
patient's own key, so a patient is the same whether it is sampled alone or in a batch.

Sources (FACTS §1.3, §2.4)
--------------------------
* CYP2C9 *2/*3 and VKORC1 -1639A allele frequencies by ancestry: 1000 Genomes via
  Shendre 2018 Pharmacogenomics Table 1 (African, European, admixed American, East
  Asian); South Asian: North India, Rathore 2010 Biosci Trends. Genotypes by
  Hardy-Weinberg proportions. CYP2C9 *5/*6/*8/*11 (African ancestry) are not in
  Hamberg's model and are counted as *1 (a known limitation, CPIC 2017).
* Age, weight, height, amiodarone and smoking: the Ravvaz 2017 "Aurora" cohort as coded
  in ReiL (age N(67.30, 13.43) y; weight N(199.24, 54.71) lb; height N(66.78, 4.31) in;
  amiodarone 11.51 %; smokers 9.33 %), truncated to plausible ranges.
* The "iwpc" preset mixes ancestries so that the pooled genotype frequencies come out
  close to the IWPC 2009 derivation cohort (NEJM Table 1; the check is a test).
* Between-subject variability: Hamberg 2007 Tables 2 and 4 (CL 31.0, V1 26.2, V2 99.1,
  MTT1 14.1, MTT2 102, EC50 40.9), read by default as CV % (omega^2 = ln(1 + CV^2),
  the nlmixr2lib reading); ``variability="omega2"`` reads them as variances (the
  Ravvaz / ReiL reading). FACTS §1.3 marks the scale UNCONFIRMED.
* Hamberg 2010 (``model="hamberg2010"``): BSV of CL 0.089, V 0.054, EC50 0.34 (FACTS §1.5,
  Hamberg 2010 Clin Pharmacol Ther 87:727, as coded in ReiL ``hamberg_pkpd_2010.py``).
  The scale is UNCONFIRMED; by default they are read as variances (omega^2, SD(eta) =
  sqrt(number), the ReiL reading), ``variability="log_sd"`` reads them as SDs of the
  log (DavAug/mipd-warfarin lists CL 0.089 and V 0.054 as "log std"; its EC50 value is
  0.240). The KDE variability of the K-PD form (0.589) is not applied: the model is
  solved in concentration form with the typical KDE = CL/V. Random streams are shared
  with Hamberg 2007 (CL, V1 -> V, EC50), so a seed gives the same standardised draws
  under both models.
* Calibrated populations (``"calibrated"``, the default since hemosim 0.4; every preset with
  ``calibrated=True``): Hamberg 2007 with the values of ``hemosim.models.warfarin_calibrated``
  (CYP2C9 effects of the Lindh 2009 meta-analysis, the Gage 2008 body-surface-area term on
  clearance, one-compartment PK, and a cohort factor on EC50, a factor on the CL / EC50
  variability and the two transit times fitted by ``hemosim.calibration.warfarin_population``
  to IWPC 2009, White 1995 and Kovacs 2003). Their ``variability`` is ``"calibrated"``
  or ``"none"``: the etas are drawn on Hamberg's CV % reading and
  :meth:`WarfarinPatients.model_parameters` multiplies eta_CL and eta_EC50 by the fitted
  ``bsv_scale`` (so a refit changes the spread without redrawing patients). ``"hamberg2007"`` (also reachable as ``"iwpc"``, its hemosim
  0.3 name) is the published Hamberg 2007 population with the same IWPC genotype mix.
  ``"eu_pact"`` and ``"coag"`` are calibrated too: the same model, with the ancestry mix, indication,
  target and (COAG) age and sex of those trials' patients (sources at :data:`EU_PACT_POPULATION`
  and :data:`COAG_POPULATION`; covariates the sources do not give keep the calibrated values).
  Body surface area is Mosteller's, sqrt(height_cm x weight_kg / 3600) (N Engl J Med
  1987;317:1098).
* Interacting drugs act on S-warfarin clearance: amiodarone x 0.776 (Gage 2008, the
  dose effect e^-0.2538 = -22 % at steady state, where dose is proportional to CL);
  enzyme inducers x 1.50 (IWPC 2009 pharmacogenetic coefficient +1.1816 on the square
  root of the weekly dose, evaluated at the cohort median 28 mg/week:
  ((sqrt(28) + 1.1816) / sqrt(28))^2 = 1.50).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from hemosim.models.warfarin import (
    CYP2C9_GENOTYPES,
    HAMBERG_2007,
    HAMBERG_2010,
    MODEL_STRUCTURES,
    VKORC1_GENOTYPES,
    Hamberg2010Parameters,
    HambergParameters,
    WarfarinPatientParameters,
    individual_parameters,
    individual_parameters_2010,
)
from hemosim.sim import rng

__all__ = [
    "ANCESTRIES",
    "ALLELE_FREQUENCIES",
    "PopulationPreset",
    "POPULATIONS",
    "WarfarinPatients",
    "sample_patients",
    "AMIODARONE_CL_MULTIPLIER",
    "ENZYME_INDUCER_CL_MULTIPLIER",
    "BSV_HAMBERG_2007",
    "BSV_HAMBERG_2010",
    "VARIABILITY_READINGS",
    "CALIBRATED_VARIABILITY_READINGS",
    "DEFAULT_POPULATION",
    "IWPC_ANCESTRY_MIX",
    "EU_PACT_POPULATION",
    "COAG_POPULATION",
    "TRIAL_POPULATIONS",
    "variability_readings",
]

ANCESTRIES: tuple[str, ...] = ("european", "african", "east_asian", "south_asian", "admixed_american")

#: Minor-allele frequencies (fraction): CYP2C9*2, CYP2C9*3, VKORC1 -1639A (FACTS §2.4).
ALLELE_FREQUENCIES: dict[str, tuple[float, float, float]] = {
    "european": (0.124, 0.073, 0.388),  # 1000 Genomes EUR, Shendre 2018 Table 1
    "african": (0.008, 0.002, 0.054),  # 1000 Genomes AFR, Shendre 2018 Table 1
    "east_asian": (0.001, 0.034, 0.885),  # 1000 Genomes EAS, Shendre 2018 Table 1
    "south_asian": (0.049, 0.0392, 0.1422),  # North India, Rathore 2010 Biosci Trends
    "admixed_american": (0.099, 0.037, 0.411),  # 1000 Genomes AMR, Shendre 2018 Table 1
}

_ALLELE_TABLE = np.asarray([ALLELE_FREQUENCIES[a] for a in ANCESTRIES])

AMIODARONE_CL_MULTIPLIER = float(np.exp(-0.2538))  # Gage 2008 amiodarone dose effect
ENZYME_INDUCER_CL_MULTIPLIER = float(((np.sqrt(28.0) + 1.1816) / np.sqrt(28.0)) ** 2)  # IWPC 2009

#: Hamberg 2007 between-subject variability numbers (Tables 2 and 4; scale see module doc).
BSV_HAMBERG_2007: dict[str, float] = {
    "cl": 31.0, "v1": 26.2, "v2": 99.1, "mtt1": 14.1, "mtt2": 102.0, "ec50": 40.9,
}

#: Hamberg 2010 between-subject variability numbers (FACTS §1.5; scale see module doc).
BSV_HAMBERG_2010: dict[str, float] = {"cl": 0.089, "v": 0.054, "ec50": 0.34}

#: Allowed ``variability`` readings per model; the first is the default.
VARIABILITY_READINGS: dict[str, tuple[str, ...]] = {
    "hamberg2007": ("cv_percent", "omega2", "none"),
    "hamberg2010": ("omega2", "log_sd", "none"),
}

# Random streams (never renumber: a new draw gets a new number).
_S_ANCESTRY, _S_SEX, _S_AGE, _S_WEIGHT, _S_HEIGHT = 1, 2, 3, 4, 5
_S_CYP_A1, _S_CYP_A2, _S_VK_A1, _S_VK_A2 = 6, 7, 8, 9
_S_AMIO, _S_INDUCER, _S_SMOKER, _S_DVT = 10, 11, 12, 13
_COVARIATE_STREAMS = [
    _S_ANCESTRY, _S_SEX, _S_AGE, _S_WEIGHT, _S_HEIGHT, _S_CYP_A1, _S_CYP_A2, _S_VK_A1, _S_VK_A2,
    _S_AMIO, _S_INDUCER, _S_SMOKER, _S_DVT,
]
_S_ETA = {"cl": 20, "v1": 21, "v2": 22, "mtt1": 23, "mtt2": 24, "ec50": 25}
_S_ETA_2010 = {"cl": "cl", "v": "v1", "ec50": "ec50"}  # 2010 eta -> the 2007 stream it shares

#: ``variability`` readings of calibrated presets (first = default); Hamberg 2007 structure only.
CALIBRATED_VARIABILITY_READINGS: tuple[str, ...] = ("calibrated", "none")


def _pp(value, source: str):
    return field(default=value, metadata={"source": source})


@dataclass(frozen=True)
class PopulationPreset:
    """A named virtual population (each field carries its source)."""

    name: str
    ancestry_mix: tuple[float, ...] = _pp((1.0, 0, 0, 0, 0), "order of ANCESTRIES")
    age_mean_years: float = _pp(67.30, "Ravvaz 2017 Aurora cohort (ReiL patient generator, FACTS §2.4)")
    age_sd_years: float = _pp(13.43, "Ravvaz 2017 Aurora cohort")
    age_range_years: tuple[float, float] = _pp((18.0, 95.0), "adult anticoagulation-clinic range (choice)")
    weight_mean_kg: float = _pp(199.24 * 0.45359237, "Ravvaz 2017 Aurora cohort, 199.24 lb")
    weight_sd_kg: float = _pp(54.71 * 0.45359237, "Ravvaz 2017 Aurora cohort, 54.71 lb")
    weight_range_kg: tuple[float, float] = _pp((40.0, 180.0), "plausible range (choice)")
    height_mean_cm: float = _pp(66.78 * 2.54, "Ravvaz 2017 Aurora cohort, 66.78 in")
    height_sd_cm: float = _pp(4.31 * 2.54, "Ravvaz 2017 Aurora cohort, 4.31 in")
    height_range_cm: tuple[float, float] = _pp((140.0, 205.0), "plausible range (choice)")
    female_fraction: float = _pp(0.34, "Hamberg 2007 cohort, 34 % female (FACTS §1)")
    amiodarone_fraction: float = _pp(0.1151, "Ravvaz 2017 Aurora cohort (FACTS §2.4)")
    enzyme_inducer_fraction: float = _pp(0.01, "assumption: rare co-medication (carbamazepine, phenytoin, rifampicin)")
    smoker_fraction: float = _pp(0.0933, "Ravvaz 2017 Aurora cohort (FACTS §2.4)")
    vte_indication_fraction: float = _pp(0.3, "assumption: AF is the majority indication (EU-PACT enrolled AF or VTE)")
    target_inr: float = _pp(2.5, "INR 2-3 target, midpoint")
    calibrated: bool = _pp(False, "True: hemosim.models.warfarin_calibrated values (fitted to IWPC 2009, White 1995, Kovacs 2003)")

    def __post_init__(self) -> None:
        if len(self.ancestry_mix) != len(ANCESTRIES) or abs(sum(self.ancestry_mix) - 1.0) > 1e-9:
            raise ValueError(f"ancestry_mix must have {len(ANCESTRIES)} shares summing to 1, got {self.ancestry_mix}")


#: Ancestry shares chosen so the pooled genotype mix matches IWPC 2009 Table 1
#: (CYP2C9 *1/*1 73.5 %, VKORC1 GG 29.7 / GA 35.7 / AA 32.5 %); checked by a test.
IWPC_ANCESTRY_MIX: tuple[float, ...] = (0.55, 0.09, 0.30, 0.0, 0.06)

#: Population used when none is named, per model structure.
DEFAULT_POPULATION: dict[str, str] = {"hamberg2007": "calibrated", "hamberg2010": "iwpc"}

#: EU-PACT (Pirmohamed 2013 N Engl J Med 369:2294) patients on the calibrated model. Only the
#: covariates the trial's publications report (as far as we could read them) differ from
#: "calibrated"; nothing is refitted. Chosen from the sources below before any TTR was simulated
#: on it. Its Table 1 itself was not seen (the NEJM text is not in any store we could read).
EU_PACT_POPULATION = PopulationPreset(
    "eu_pact",
    # 98.5 % white (Nat Rev Cardiol 2021 Table 3, PMC8364496 T3; FACTS §2.5). The other 1.5 % are
    # not broken down in any source read; they are counted as European (rounding, stated).
    ancestry_mix=(1.0, 0.0, 0.0, 0.0, 0.0),
    # AF 72.1 %, VTE 27.9 %: Genes 2019 10:261 Table 4 (PMC6523655), a secondary review table
    vte_indication_fraction=0.279,
    # primary outcome: TTR with INR 2.0-3.0 (anticoagulant-trials.eu EU-PACT page; FACTS §2.3)
    target_inr=2.5,
    # age, weight, height, sex, amiodarone and smoking shares: UNCONFIRMED (Table 1 not seen);
    # the calibrated population's values are kept.
    calibrated=True,
)

#: COAG (Kimmel 2013 N Engl J Med 369:2283) patients on the calibrated model (as for EU-PACT:
#: covariates only, nothing refitted, chosen before any TTR was simulated on it; its Table 1 was
#: not seen, the numbers come from the secondary tables named).
COAG_POPULATION = PopulationPreset(
    "coag",
    # 27 % Black, 73 % non-Black (PMC8364496 T3; FACTS §2.5). The non-Black group's make-up is
    # not given there (Genes 2019 Table 4 says "33 % non-European", split UNCONFIRMED): it is
    # counted as European. CYP2C9 *5/*6/*8/*11 of African ancestry are not in the model (*1).
    ancestry_mix=(0.73, 0.27, 0.0, 0.0, 0.0),
    # median age 58 y and 51 % male: Br J Clin Pharmacol 2015 80:868 Table 2 (PMC4594730), a
    # secondary table (its COAG row gives n = 955); the median is used as the mean of the
    # truncated normal and the SD (not reported) is the calibrated population's 13.43 y.
    age_mean_years=58.0,
    female_fraction=0.49,
    # DVT or PE 56 %, AF 23 %: Genes 2019 10:261 Table 4 (PMC6523655), secondary
    vte_indication_fraction=0.56,
    # inclusion criterion 6, target INR 2-3 (Kimmel 2013 Am Heart J 166:435, PMC4415273 Table I)
    target_inr=2.5,
    # weight, height, amiodarone and smoking shares: UNCONFIRMED (not found); calibrated values kept.
    calibrated=True,
)

#: Trial-matched presets: the trial whose arms run on each (hemosim.trial_comparison).
TRIAL_POPULATIONS: dict[str, str] = {"eu_pact": "EU-PACT", "coag": "COAG"}

POPULATIONS: dict[str, PopulationPreset] = {
    # default: calibrated to the IWPC 2009 dose distribution (hemosim.calibration.warfarin_population)
    "calibrated": PopulationPreset("calibrated", ancestry_mix=IWPC_ANCESTRY_MIX, calibrated=True),
    # trial-matched calibrated populations (covariates from the trials' reports; see above)
    "eu_pact": EU_PACT_POPULATION,
    "coag": COAG_POPULATION,
    # the published Hamberg 2007 typical values and variability, IWPC genotype mix
    "hamberg2007": PopulationPreset("hamberg2007", ancestry_mix=IWPC_ANCESTRY_MIX),
    "iwpc": PopulationPreset("iwpc", ancestry_mix=IWPC_ANCESTRY_MIX),  # hemosim 0.3 name of "hamberg2007"
    **{a: PopulationPreset(a, ancestry_mix=tuple(float(a == b) for b in ANCESTRIES)) for a in ANCESTRIES},
}


@dataclass
class WarfarinPatients:
    """Covariates and random effects of ``N`` patients (arrays of shape ``(N,)``)."""

    keys: np.ndarray
    ancestry_index: np.ndarray
    female: np.ndarray
    age_years: np.ndarray
    weight_kg: np.ndarray
    height_cm: np.ndarray
    cyp2c9_index: np.ndarray
    vkorc1_index: np.ndarray
    amiodarone: np.ndarray
    enzyme_inducer: np.ndarray
    smoker: np.ndarray
    dvt_pe: np.ndarray
    target_inr: np.ndarray
    eta: dict[str, np.ndarray]
    #: per patient: drawn from a calibrated preset (its parameters are the calibrated model's)
    calibrated: np.ndarray | None = None

    def bsa_m2(self) -> np.ndarray:
        """Body surface area (m^2), Mosteller: sqrt(height_cm x weight_kg / 3600)."""
        return np.sqrt(self.height_cm * self.weight_kg / 3600.0)

    def _is_calibrated(self) -> bool:
        flags = np.zeros(len(self), dtype=bool) if self.calibrated is None else np.asarray(self.calibrated)
        if flags.any() and not flags.all():
            raise ValueError("these patients mix calibrated and published presets; take them apart first")
        return bool(flags.all()) and len(self) > 0

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def cl_multiplier(self) -> np.ndarray:
        return np.where(self.amiodarone, AMIODARONE_CL_MULTIPLIER, 1.0) * np.where(
            self.enzyme_inducer, ENZYME_INDUCER_CL_MULTIPLIER, 1.0
        )

    def model_parameters(
        self, params: HambergParameters | None = None, *, calibration: Any = None
    ) -> WarfarinPatientParameters:
        """Hamberg 2007-structure parameters of each patient (covariates, random effects, co-drugs).

        ``params=None``: the calibrated model for patients of a calibrated preset, else the
        published :data:`HAMBERG_2007`. The calibrated model
        (``hemosim.models.warfarin_calibrated.WarfarinCalibration``; the stored one unless
        ``calibration`` is given) takes its typical values, multiplies eta_CL and eta_EC50 by
        its ``bsv_scale`` (the etas of calibrated presets are drawn on Hamberg's CV % scale)
        and multiplies CL by the Gage 2008 BSA term e^(0.4317 (BSA - 1.9)). An explicit
        ``params`` is used as given, with the etas as drawn and no BSA term.
        """
        if set(self.eta) != set(BSV_HAMBERG_2007):
            raise ValueError(
                f"these patients carry random effects {sorted(self.eta)}; draw them with model='hamberg2007'"
            )
        cl_multiplier = self.cl_multiplier()
        eta_cl, eta_ec50 = self.eta["cl"], self.eta["ec50"]
        if params is None and (calibration is not None or self._is_calibrated()):
            if calibration is None:
                from hemosim.models.warfarin_calibrated import load_calibration

                calibration = load_calibration()
            from hemosim.models.warfarin_calibrated import parameters_for

            params = parameters_for(calibration)
            cl_multiplier = cl_multiplier * np.exp(
                calibration.bsa_cl_coefficient_per_m2 * (self.bsa_m2() - calibration.bsa_reference_m2)
            )
            eta_cl, eta_ec50 = calibration.bsv_scale * eta_cl, calibration.bsv_scale * eta_ec50
        elif params is None:
            params = HAMBERG_2007
        return individual_parameters(
            self.cyp2c9_index, self.vkorc1_index, self.age_years, params,
            eta_cl=eta_cl, eta_v1=self.eta["v1"], eta_v2=self.eta["v2"],
            eta_mtt1=self.eta["mtt1"], eta_mtt2=self.eta["mtt2"], eta_ec50=eta_ec50,
            cl_multiplier=cl_multiplier,
        )

    def model_parameters_2010(self, params: Hamberg2010Parameters = HAMBERG_2010) -> WarfarinPatientParameters:
        """Hamberg 2010 parameters of each patient (patients drawn with ``model="hamberg2010"``)."""
        if set(self.eta) != set(BSV_HAMBERG_2010):
            raise ValueError(
                f"these patients carry random effects {sorted(self.eta)}; draw them with model='hamberg2010'"
            )
        return individual_parameters_2010(
            self.cyp2c9_index, self.vkorc1_index, self.age_years, params,
            eta_cl=self.eta["cl"], eta_v=self.eta["v"], eta_ec50=self.eta["ec50"],
            cl_multiplier=self.cl_multiplier(),
        )

    def as_info(self) -> dict[str, Any]:
        """Covariates as info arrays (genotypes written as ``"*1/*3"`` and ``"GA"``)."""
        return {
            "age_years": self.age_years.copy(),
            "sex": np.where(self.female, "F", "M").astype(object),
            "weight_kg": self.weight_kg.copy(),
            "height_cm": self.height_cm.copy(),
            "ancestry": np.asarray(ANCESTRIES, dtype=object)[self.ancestry_index],
            "cyp2c9": np.asarray(CYP2C9_GENOTYPES, dtype=object)[self.cyp2c9_index],
            "vkorc1": np.asarray(VKORC1_GENOTYPES, dtype=object)[self.vkorc1_index],
            "amiodarone": self.amiodarone.copy(),
            "enzyme_inducer": self.enzyme_inducer.copy(),
            "smoker": self.smoker.copy(),
            "dvt_pe": self.dvt_pe.copy(),
            "target_inr": self.target_inr.copy(),
            **{f"eta_{name}": value.copy() for name, value in self.eta.items()},
        }


def _genotype_from_alleles(u1: np.ndarray, u2: np.ndarray, cum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a1 = (u1[:, None] >= cum[:, :-1]).sum(axis=1)
    a2 = (u2[:, None] >= cum[:, :-1]).sum(axis=1)
    return np.minimum(a1, a2), np.maximum(a1, a2)


_CYP_INDEX = {(0, 0): 0, (0, 1): 1, (0, 2): 2, (1, 1): 3, (1, 2): 4, (2, 2): 5}
_CYP_TABLE = np.zeros((3, 3), dtype=np.int64)
for (_a, _b), _i in _CYP_INDEX.items():
    _CYP_TABLE[_a, _b] = _i


def variability_readings(model: str = "hamberg2007", population: str | PopulationPreset = "calibrated") -> tuple[str, ...]:
    """Allowed ``variability`` values for a model and population (the first is the default)."""
    preset = _preset(population)
    if preset.calibrated:
        return CALIBRATED_VARIABILITY_READINGS
    if model not in MODEL_STRUCTURES:
        raise ValueError(f"unknown model {model!r}; allowed: {list(MODEL_STRUCTURES)}")
    return VARIABILITY_READINGS[model]


def _preset(population: str | PopulationPreset) -> PopulationPreset:
    if isinstance(population, PopulationPreset):
        return population
    if population not in POPULATIONS:
        raise ValueError(f"unknown population {population!r}; allowed: {sorted(POPULATIONS)}")
    return POPULATIONS[population]


def sample_patients(
    keys: np.ndarray,
    population: str | PopulationPreset | None = None,
    *,
    variability: str | None = None,
    model: str = "hamberg2007",
    fixed: Any = None,
) -> WarfarinPatients:
    """Draw one patient per key (uint64 array) from a named population.

    Args:
        keys: per-patient keys (``hemosim.sim.rng.patient_key``).
        population: a name in :data:`POPULATIONS` or a :class:`PopulationPreset`; ``None``
            (default): :data:`DEFAULT_POPULATION` of the model (``"calibrated"`` for Hamberg
            2007, ``"iwpc"`` for Hamberg 2010, whose structure the calibration does not cover).
        variability: for calibrated presets ``"calibrated"`` (default) or ``"none"``; for
            published presets with Hamberg 2007 ``"cv_percent"`` (default; Hamberg's numbers
            read as CV %), ``"omega2"`` (read as variances) or ``"none"`` (typical parameters
            given the covariates); for Hamberg 2010 ``"omega2"`` (default), ``"log_sd"`` or
            ``"none"`` (:func:`variability_readings`).
        model: ``"hamberg2007"`` (etas cl, v1, v2, mtt1, mtt2, ec50; use
            :meth:`WarfarinPatients.model_parameters`) or ``"hamberg2010"`` (etas cl, v,
            ec50; use :meth:`WarfarinPatients.model_parameters_2010`).
    """
    if population is None:
        population = DEFAULT_POPULATION.get(model, "calibrated")
    population = _preset(population)
    if model not in MODEL_STRUCTURES:
        raise ValueError(f"unknown model {model!r}; allowed: {list(MODEL_STRUCTURES)}")
    if population.calibrated and model != "hamberg2007":
        raise ValueError(
            f"population {population.name!r} is calibrated on the Hamberg 2007 structure; with model {model!r} "
            f"use a published preset: {sorted(k for k, v in POPULATIONS.items() if not v.calibrated)}"
        )
    allowed = variability_readings(model, population)
    if variability is None:
        variability = allowed[0]
    if variability not in allowed:
        raise ValueError(
            f"unknown variability {variability!r} for model {model!r} and population {population.name!r}; allowed: "
            + ", ".join(repr(a) for a in allowed)
        )
    keys = np.asarray(keys, dtype=np.uint64)
    n = keys.shape[0]
    pop = population
    if fixed is None:
        fixed = _nothing_fixed(n)
    eta_names = list(BSV_HAMBERG_2007)
    eta_streams = [s for name in eta_names for s in rng.normal_streams(_S_ETA[name])]
    u = rng.uniform_block(keys, np.array(_COVARIATE_STREAMS + eta_streams))
    col = {stream: j for j, stream in enumerate(_COVARIATE_STREAMS)}
    ancestry = rng.categorical_from_uniform(u[:, col[_S_ANCESTRY]], np.asarray(pop.ancestry_mix))
    if "cyp2c9" in fixed or "vkorc1" in fixed:
        ancestry = _ancestry_given_genotypes(keys, ancestry, pop, fixed)
    ancestry = fixed.pick("ancestry", ancestry)
    cyp, vk = _genotypes(keys, ancestry, 0, u[:, [col[_S_CYP_A1], col[_S_CYP_A2], col[_S_VK_A1], col[_S_VK_A2]]])
    cyp = fixed.pick("cyp2c9", cyp)
    vk = fixed.pick("vkorc1", vk)
    eta: dict[str, np.ndarray] = {}
    base = len(_COVARIATE_STREAMS)
    if model == "hamberg2007":
        for j, name in enumerate(eta_names):
            number = BSV_HAMBERG_2007[name]
            if variability == "none":
                omega = 0.0
            elif variability in ("cv_percent", "calibrated"):
                # "calibrated": the fitted bsv_scale is applied in model_parameters
                omega = np.sqrt(np.log1p((number / 100.0) ** 2))
            else:
                omega = np.sqrt(number / 100.0)
            eta[name] = omega * rng.normal_from_uniforms(u[:, base + 2 * j], u[:, base + 2 * j + 1])
    else:
        for name, shared in _S_ETA_2010.items():
            j = eta_names.index(shared)
            number = BSV_HAMBERG_2010[name]
            omega = {"none": 0.0, "omega2": np.sqrt(number), "log_sd": number}[variability]
            eta[name] = omega * rng.normal_from_uniforms(u[:, base + 2 * j], u[:, base + 2 * j + 1])
    eta = {name: fixed.pick("eta_" + name, value) for name, value in eta.items()}
    # sex is reported as "F" / "M": choice index 0 = "F"
    female = u[:, col[_S_SEX]] < pop.female_fraction
    if "sex" in fixed:
        female = np.where(fixed.mask("sex"), fixed.values["sex"] == 0, female)
    return WarfarinPatients(
        keys=keys.copy(),
        ancestry_index=ancestry,
        female=female,
        age_years=fixed.pick("age_years", rng.truncated_normal_from_uniform(
            u[:, col[_S_AGE]], pop.age_mean_years, pop.age_sd_years, *pop.age_range_years)),
        weight_kg=fixed.pick("weight_kg", rng.truncated_normal_from_uniform(
            u[:, col[_S_WEIGHT]], pop.weight_mean_kg, pop.weight_sd_kg, *pop.weight_range_kg)),
        height_cm=fixed.pick("height_cm", rng.truncated_normal_from_uniform(
            u[:, col[_S_HEIGHT]], pop.height_mean_cm, pop.height_sd_cm, *pop.height_range_cm)),
        cyp2c9_index=cyp,
        vkorc1_index=vk,
        amiodarone=fixed.pick("amiodarone", u[:, col[_S_AMIO]] < pop.amiodarone_fraction),
        enzyme_inducer=fixed.pick("enzyme_inducer", u[:, col[_S_INDUCER]] < pop.enzyme_inducer_fraction),
        smoker=fixed.pick("smoker", u[:, col[_S_SMOKER]] < pop.smoker_fraction),
        dvt_pe=fixed.pick("dvt_pe", u[:, col[_S_DVT]] < pop.vte_indication_fraction),
        target_inr=fixed.pick("target_inr", np.full(n, pop.target_inr)),
        eta=eta,
        calibrated=np.full(n, pop.calibrated),
    )


#: ``options["patient"]["sex"]`` values (index 0 = female)
SEXES: tuple[str, ...] = ("F", "M")
_ETA_DOC = {
    "cl": "S-warfarin clearance", "v1": "central volume", "v2": "peripheral volume", "v": "volume",
    "mtt1": "mean transit time of the first chain", "mtt2": "mean transit time of the second chain",
    "ec50": "EC50 of S-warfarin",
}


def patient_schema(model: str = "hamberg2007", population: str | PopulationPreset = "calibrated") -> "Any":
    """What ``reset(options={"patient": ...})`` of ``WarfarinDosing-v0`` accepts (and what
    ``info["patient"]`` reports): a :class:`hemosim.patients.spec.Schema`."""
    from hemosim.patients.spec import Field, Schema

    pop = _preset(population)
    etas = BSV_HAMBERG_2007 if model == "hamberg2007" else BSV_HAMBERG_2010
    fields = [
        Field("ancestry", "choice", choices=ANCESTRIES, doc="sets the CYP2C9 / VKORC1 allele frequencies (Shendre 2018)"),
        Field("sex", "choice", choices=SEXES, doc="F or M"),
        Field("age_years", "float", "years", *pop.age_range_years, doc="age (Hamberg 2007 age effect on CL)"),
        Field("weight_kg", "float", "kg", *pop.weight_range_kg, doc="body weight (BSA term of calibrated populations)"),
        Field("height_cm", "float", "cm", *pop.height_range_cm, doc="height (BSA term of calibrated populations)"),
        Field("cyp2c9", "choice", choices=CYP2C9_GENOTYPES, doc="CYP2C9 genotype (*1/*1 ... *3/*3)"),
        Field("vkorc1", "choice", choices=VKORC1_GENOTYPES, doc="VKORC1 -1639 G>A genotype"),
        Field("amiodarone", "bool", doc="on amiodarone from day 0 (CL x 0.776, Gage 2008)"),
        Field("enzyme_inducer", "bool", doc="on an enzyme inducer (CL x 1.50, IWPC 2009)"),
        Field("smoker", "bool", doc="smoker (reported; no effect in the model)"),
        Field("dvt_pe", "bool", doc="VTE indication (reported; the baselines' dosing formulas use it)"),
        Field("target_inr", "float", "INR", 2.0, 3.5,
              doc="target INR; the reward's range is target +/- 0.5 (2.5: range 2-3; 3.0: mechanical mitral valve)"),
    ]
    scaled = pop.calibrated and model == "hamberg2007"
    for name in etas:
        if scaled and name in ("cl", "ec50"):
            how = ("parameter = typical x exp(bsv_scale x eta), bsv_scale of hemosim.models.warfarin_calibrated; "
                   "a multiplier m is eta = ln(m) / bsv_scale")
        else:
            how = "parameter = typical x exp(eta); a multiplier m is eta = ln(m)"
        fields.append(Field(f"eta_{name}", "float", "log", -10.0, 10.0,
                            doc=f"random effect of {_ETA_DOC[name]}: {how}; 0 = typical"))
    return Schema("WarfarinDosing-v0 patient", fields)


def _nothing_fixed(n: int) -> Any:
    from hemosim.patients.spec import Fixed, Schema

    return Fixed(Schema("patient", []), n)


def _genotypes(keys: np.ndarray, ancestry: np.ndarray, counter: int, u: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CYP2C9 and VKORC1 genotype indices given ancestry, from the genotype streams at
    ``counter`` (counter 0 is what :func:`sample_patients` always drew; ``u`` : those four
    uniforms if already drawn)."""
    n = keys.shape[0]
    freqs = _ALLELE_TABLE[ancestry]  # (N, 3)
    p2, p3, q_a = freqs[:, 0], freqs[:, 1], freqs[:, 2]
    cyp_cum = np.stack([1.0 - p2 - p3, 1.0 - p3, np.ones(n)], axis=1)
    if u is None:
        u = rng.uniform_block(keys, np.array([_S_CYP_A1, _S_CYP_A2, _S_VK_A1, _S_VK_A2]), counter)
    a1, a2 = _genotype_from_alleles(u[:, 0], u[:, 1], cyp_cum)
    vk_alleles = (u[:, 2] < q_a).astype(np.int64) + (u[:, 3] < q_a)
    return _CYP_TABLE[a1, a2], vk_alleles.astype(np.int64)


def genotype_likelihood(cyp2c9_index: np.ndarray, vkorc1_index: np.ndarray | None = None) -> np.ndarray:
    """P(genotypes | ancestry), Hardy-Weinberg, shape ``(N, len(ANCESTRIES))``; a ``None`` /
    negative index means that genotype is not observed (factor 1)."""
    cyp = np.asarray(cyp2c9_index)
    n = cyp.shape[0]
    like = np.ones((n, len(ANCESTRIES)))
    p = np.stack([1.0 - _ALLELE_TABLE[:, 0] - _ALLELE_TABLE[:, 1], _ALLELE_TABLE[:, 0], _ALLELE_TABLE[:, 1]], axis=1)  # (A, 3)
    alleles = {i: pair for pair, i in _CYP_INDEX.items()}
    for i in range(n):
        if cyp[i] >= 0:
            a, b = alleles[int(cyp[i])]
            like[i] *= p[:, a] * p[:, b] * (1.0 if a == b else 2.0)
    if vkorc1_index is not None:
        vk = np.asarray(vkorc1_index)
        q = _ALLELE_TABLE[:, 2]
        hw = np.stack([(1 - q) ** 2, 2 * q * (1 - q), q**2], axis=1)  # GG, GA, AA
        seen = vk >= 0
        like[seen] *= hw[:, vk[seen]].T
    return like


def _ancestry_given_genotypes(keys: np.ndarray, drawn: np.ndarray, pop: PopulationPreset, fixed: Any) -> np.ndarray:
    """Ancestry from P(ancestry | the fixed genotypes) of the preset (rows with a genotype
    fixed); other rows keep ``drawn``. Rejection on the patient's own ancestry and genotype
    streams, counter 0 first: a patient whose fixed genotypes are what its seed drew keeps
    its seeded ancestry (``hemosim.patients.spec.rejection_categorical``)."""
    from hemosim.patients.spec import rejection_categorical

    m_cyp, m_vk = fixed.mask("cyp2c9"), fixed.mask("vkorc1")
    rows = (m_cyp | m_vk) & ~fixed.mask("ancestry")
    if not rows.any():
        return drawn
    k = keys[rows]
    cyp_fix = np.where(m_cyp, fixed.values.get("cyp2c9", np.zeros(len(keys), np.int64)), -1)[rows]
    vk_fix = np.where(m_vk, fixed.values.get("vkorc1", np.zeros(len(keys), np.int64)), -1)[rows]

    def accept(cat: np.ndarray, counter: int) -> np.ndarray:
        cyp, vk = _genotypes(k, cat, counter)
        return ((cyp_fix < 0) | (cyp == cyp_fix)) & ((vk_fix < 0) | (vk == vk_fix))

    like = genotype_likelihood(cyp_fix, vk_fix)
    out = drawn.copy()
    out[rows] = rejection_categorical(k, _S_ANCESTRY, np.asarray(pop.ancestry_mix), like, accept)
    return out
