"""Hamberg 2007 S-warfarin PK/PD model, batched over patients.

Hamberg AK, Dahl ML, Barban M, et al. "A PK-PD model for predicting the impact of age,
CYP2C9, and VKORC1 genotype on individualization of warfarin therapy."
Clin Pharmacol Ther 2007;81(4):529-538, doi 10.1038/sj.clpt.6100084.
Values as transcribed in FACTS §1.1-§1.4 (nlmixr2lib ``Hamberg_2007_warfarin_s`` and the
ReiL re-implementation, both citing Table 2, Table 4 and the Appendix).

Structure (time in hours, amounts in mg, concentrations in mg/L)
-----------------------------------------------------------------
PK, linear, solved exactly between doses (matrix exponential)::

    d gut/dt  = -ka gut                                  (S and R share one depot: the
    d S_c/dt  =  ka gut - (CL/V1 + Q/V1) S_c + Q/V2 S_p   racemic dose is split 50:50 and
    d S_p/dt  =  Q/V1 S_c - Q/V2 S_p                       both halves absorb with ka)
    d R_c/dt  =  ka gut - CL_R/V_R R_c

PD, the inhibitory Emax acting on two parallel transit chains fed by ``1 - E``::

    E    = Emax C^gamma / (EC50^gamma + C^gamma),  C = S_c / V1
    dA1/dt = ktr1 (1 - E - A1);  dAi/dt = ktr1 (A(i-1) - Ai), i = 2..6
    dA7/dt = ktr2 (1 - E - A7)
    INR  = BASE + INRmax (1 - A6 A7)^lambda            (Appendix Eq 10)

The chains are linear in ``A`` for a given forcing ``u(t) = 1 - E(C(t))``. Within each
sub-interval of a fixed intra-day grid the forcing is taken as linear between its exact
values at the nodes and the chain is then advanced *exactly* (the response of a chain
of equal rates to a linear input is a sum of regularised incomplete gamma functions),
so the only approximation is the piecewise-linear forcing. Its error over 90 days is
tested against ``solve_ivp`` at rtol 1e-10 (``tests/models/test_warfarin.py``).

The ktr convention
------------------
Hamberg 2007 writes ``ktr = 1/MTT``; nlmixr2lib reads it per compartment (chain 1 mean
delay 6 x 11.6 h = 69.6 h), while Ravvaz 2017 / ReiL use ``ktr1 = 6/MTT1`` (total chain
delay 11.6 h). Both give the same steady state (FACTS §1.2). Which one is the default
is decided in ``docs/models/warfarin.md`` against published early-INR data.

Hamberg 2010 variant (``structure="hamberg2010"``)
---------------------------------------------------
Hamberg AK, Wadelius M, Lindh JD, et al. "A pharmacometric model describing the
relationship between warfarin dose and INR response with respect to variations in
CYP2C9, VKORC1, and age." Clin Pharmacol Ther 2010;87(6):727-734, doi
10.1038/clpt.2010.37. Values as in FACTS §1.5 (ReiL ``hamberg_pkpd_2010.py``, citing
Table 2 and Table 4 dataset C; M. Crawford's R ``hamberg_2010``; DavAug/mipd-warfarin).
The paper writes the model in K-PD form: one compartment with first-order absorption,
KDE = CL/V, dose rate DR = KDE A and EDK50 = CL EC50, so
``DR / EDK50 = (CL/V) A / (CL EC50) = C / EC50`` with ``C = A/V``: with the typical KDE
the K-PD Emax is exactly an Emax on the concentration, which is how it is solved here
(the same exact PK propagator with Q = 0)::

    E    = C^gamma / (EC50^gamma + C^gamma),  C = S_c / V
    dA1/dt = ktr1 (1 - E - A1);  dA2/dt = ktr1 (A1 - A2);  dA3/dt = ktr1 (A2 - A3)
    dA4/dt = ktr2 (1 - E - A4);  dA5/dt = ktr2 (A4 - A5);  dA6/dt = ktr2 (A5 - A6)
    ktr = 3 / MTT  (n / MTT, the chain's total mean transit time)
    INR  = BASE + INRmax (1 - (A3 + A6) / 2)          (no lambda)

CL and EC50 are sums of per-allele values (CYP2C9 and VKORC1 -1639); CL falls with age,
``CL (1 - 0.00571 (age - 71))`` (the paper's direction, as CRW and DA code it; ReiL
codes the sign backwards, FACTS §1.5).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal

import numpy as np

from hemosim.sim import threads

__all__ = [
    "CYP2C9_GENOTYPES",
    "VKORC1_GENOTYPES",
    "HambergParameters",
    "HAMBERG_2007",
    "Hamberg2010Parameters",
    "HAMBERG_2010",
    "MODEL_STRUCTURES",
    "individual_parameters_2010",
    "inr_from_chains_2010",
    "reference_rhs_2010",
    "WarfarinPatientParameters",
    "individual_parameters",
    "WarfarinModel",
    "inr_from_chains",
    "reference_rhs",
    "INTRADAY_NODES_H",
    "steady_state_weekly_dose_mg",
]

CYP2C9_GENOTYPES: tuple[str, ...] = ("*1/*1", "*1/*2", "*1/*3", "*2/*2", "*2/*3", "*3/*3")
VKORC1_GENOTYPES: tuple[str, ...] = ("GG", "GA", "AA")

ModelStructure = Literal["hamberg2007", "hamberg2010"]
MODEL_STRUCTURES: tuple[str, ...] = ("hamberg2007", "hamberg2010")


def _p(value, unit: str, source: str):
    return field(default=value, metadata={"unit": unit, "source": source})


@dataclass(frozen=True)
class HambergParameters:
    """Typical-patient parameters of Hamberg 2007 (FACTS §1.1-§1.4).

    Apparent PK parameters (CL/F, V/F) are used with F = 1 (FACTS §1.1: the paper
    estimates apparent values, so an extra F would double-count it).
    """

    ka_per_h: float = _p(2.0, "1/h", "Hamberg 2007 Table 2 (fixed)")
    cl_s_l_per_h: float = _p(0.314, "L/h", "Hamberg 2007 Table 2, CYP2C9 *1/*1 at age 71")
    cl_s_cyp2c9_multiplier: tuple[float, ...] = _p(
        (1.0, 0.685, 0.547, 0.278, 0.310, 0.148),
        "fraction of *1/*1 CL, order of CYP2C9_GENOTYPES",
        "Hamberg 2007 Table 2 (reductions 31.5, 45.3, 72.2, 69.0, 85.2 %)",
    )
    cl_s_age_slope_per_year: float = _p(0.0091, "1/year", "Hamberg 2007 Table 2 / Appendix Eq 4: CL(1 - 0.0091(age - 71))")
    age_reference_years: float = _p(71.0, "years", "Hamberg 2007 Appendix Eq 4")
    v1_l: float = _p(13.8, "L", "Hamberg 2007 Table 2")
    q_l_per_h: float = _p(0.131, "L/h", "Hamberg 2007 Table 2")
    v2_l: float = _p(6.59, "L", "Hamberg 2007 Table 2")
    s_fraction_of_racemate: float = _p(0.5, "1", "racemic warfarin is 50 % S (model input = racemic dose / 2, FACTS §1.1)")
    bioavailability: float = _p(1.0, "1", "apparent CL/F and V/F, F not estimated (FACTS §1.1)")
    cl_r_l_per_h: float = _p(0.139, "L/h", "Hamberg 2007 Table 3 (R-warfarin, age 71)")
    cl_r_age_slope_per_year: float = _p(0.0098, "1/year", "Hamberg 2007 Table 3 (-0.98 %/year)")
    v_r_l: float = _p(12.8, "L", "Hamberg 2007 Table 3 (R-warfarin)")
    emax: float = _p(1.0, "1", "Hamberg 2007 Table 4 (fixed)")
    gamma: float = _p(0.424, "1", "Hamberg 2007 Table 4")
    ec50_mg_per_l: tuple[float, ...] = _p(
        (4.61, 3.02, 2.20), "mg/L, order of VKORC1_GENOTYPES", "Hamberg 2007 Table 4 (VKORC1 -1639 GG, GA, AA)"
    )
    mtt1_h: float = _p(11.6, "h", "Hamberg 2007 Table 4")
    mtt2_h: float = _p(120.0, "h", "Hamberg 2007 Table 4")
    n_transit1: int = _p(6, "compartments", "Hamberg 2007 Appendix Eq 8")
    inr_max: float = _p(20.0, "INR units", "Hamberg 2007 Appendix (fixed)")
    inr_lambda: float = _p(3.61, "1", "Hamberg 2007 Table 4")
    inr_base: float = _p(1.0, "INR units", "pre-treatment INR; 1.0 as in common implementations (FACTS §1.2)")
    ktr_convention: str = _p(
        "chain_total",
        "'per_compartment' (ktr = 1/MTT) or 'chain_total' (ktr1 = 6/MTT1)",
        "default chosen against early-INR data, docs/models/warfarin.md",
    )

    def __post_init__(self) -> None:
        if self.ktr_convention not in ("per_compartment", "chain_total"):
            raise ValueError(
                f"ktr_convention {self.ktr_convention!r} is not allowed; use 'per_compartment' or 'chain_total'"
            )


HAMBERG_2007 = HambergParameters()


_H10 = "Hamberg 2010 Clin Pharmacol Ther 87:727"


@dataclass(frozen=True)
class Hamberg2010Parameters:
    """Typical-patient parameters of Hamberg 2010 (FACTS §1.5), dataset C of Table 4.

    Every value was seen in code that cites the paper (RL10 = ReiL, CRW = M. Crawford's R
    function, DA = DavAug/mipd-warfarin); the paper itself was not available to us.
    Apparent PK parameters (CL/F, V/F) are used with F = 1, as for Hamberg 2007.
    """

    ka_per_h: float = _p(2.0, "1/h", f"{_H10} Table 2 (RL10, CRW, DA)")
    cl_s_per_cyp2c9_allele_l_per_h: tuple[float, ...] = _p(
        (0.174, 0.0879, 0.0422),
        "L/h per allele, order *1, *2, *3 (genotype CL = sum of its two alleles)",
        f"{_H10} Table 2 (RL10, CRW; DA ke = e^-3.716 = 0.348/14.3)",
    )
    cl_s_age_slope_per_year: float = _p(
        0.00571, "1/year",
        f"{_H10} Table 2: CL (1 - 0.00571 (age - 71)); direction as CRW and DA (ReiL has the sign reversed)",
    )
    age_reference_years: float = _p(71.0, "years", f"{_H10} (centred at 71 y; RL10, CRW, DA)")
    v_l: float = _p(14.3, "L", f"{_H10} Table 2 (RL10, CRW, DA)")
    s_fraction_of_racemate: float = _p(0.5, "1", "racemic warfarin is 50 % S (model input = racemic dose / 2, FACTS §1.1)")
    bioavailability: float = _p(1.0, "1", "apparent CL/F and V/F, F not estimated (FACTS §1.1)")
    cl_r_l_per_h: float = _p(
        0.139, "L/h", "Hamberg 2007 Table 3 (R-warfarin is not in the 2010 model; kept as an observation only)"
    )
    cl_r_age_slope_per_year: float = _p(0.0098, "1/year", "Hamberg 2007 Table 3 (-0.98 %/year; observation only)")
    v_r_l: float = _p(12.8, "L", "Hamberg 2007 Table 3 (R-warfarin; observation only)")
    emax: float = _p(1.0, "1", f"{_H10} Table 4 (fixed; RL10)")
    gamma: float = _p(1.15, "1", f"{_H10} Table 4 (RL10, CRW, DA)")
    ec50_per_vkorc1_allele_mg_per_l: tuple[float, ...] = _p(
        (2.05, 0.96),
        "mg/L per allele, order G, A (genotype EC50 = sum of its two alleles)",
        f"{_H10} Table 4 dataset C (RL10, CRW; DA EC50 GG = e^1.411 = 4.10)",
    )
    mtt1_h: float = _p(28.6, "h", f"{_H10} Table 4 (RL10, CRW; DA ktr1 0.1049 = 3/28.6)")
    mtt2_h: float = _p(118.3, "h", f"{_H10} Table 4 (RL10, CRW; DA ktr2 0.02536 = 3/118.3)")
    n_transit: int = _p(3, "compartments per chain (ktr = n/MTT)", f"{_H10} (RL10, CRW, DA: two chains of 3)")
    inr_max: float = _p(20.0, "INR units", f"{_H10} (fixed; RL10, CRW, DA)")
    inr_base: float = _p(1.0, "INR units", "1.0 as in RL10, CRW and DA (CRW notes 1.03 in Hamberg's NONMEM code, UNCONFIRMED)")


HAMBERG_2010 = Hamberg2010Parameters()

# CYP2C9 genotype index -> its two allele indices (*1 = 0, *2 = 1, *3 = 2).
_CYP2C9_ALLELES = np.array([[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]], dtype=np.int64)


@dataclass
class WarfarinPatientParameters:
    """Per-patient parameter arrays, shape ``(N,)`` each (units as in the names)."""

    ka_per_h: np.ndarray
    cl_s_l_per_h: np.ndarray
    v1_l: np.ndarray
    q_l_per_h: np.ndarray
    v2_l: np.ndarray
    cl_r_l_per_h: np.ndarray
    v_r_l: np.ndarray
    ec50_mg_per_l: np.ndarray
    gamma: np.ndarray
    ktr1_per_h: np.ndarray
    ktr2_per_h: np.ndarray
    inr_base: np.ndarray
    inr_max: np.ndarray
    inr_lambda: np.ndarray
    dose_to_depot: np.ndarray  # mg of S-warfarin in the depot per mg of racemic dose

    def take(self, idx: np.ndarray) -> "WarfarinPatientParameters":
        return WarfarinPatientParameters(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    def assign(self, mask: np.ndarray, other: "WarfarinPatientParameters") -> None:
        for f in fields(self):
            getattr(self, f.name)[mask] = getattr(other, f.name)


def _check_individual_inputs(age: np.ndarray, cl_multiplier: Any, **etas: Any) -> None:
    """``ValueError`` for a non-finite age or random effect, or a clearance multiplier that is
    not finite and > 0 (the public boundary of the parameter functions; the kernels trust it)."""
    if np.any(~np.isfinite(age)):
        raise ValueError(f"age_years must be finite; got {age[~np.isfinite(age)][:5].tolist()}")
    for name, eta in etas.items():
        e = np.asarray(eta, dtype=np.float64)
        if np.any(~np.isfinite(e)):
            raise ValueError(f"{name} must be finite (a log-scale random effect); got {e[~np.isfinite(e)][:5].tolist()}")
    m = np.asarray(cl_multiplier, dtype=np.float64)
    bad = ~np.isfinite(m) | (m <= 0)
    if np.any(bad):
        raise ValueError(f"cl_multiplier must be finite and > 0 (a factor on S-warfarin clearance); got {m[bad][:5].tolist()}")


def individual_parameters(
    cyp2c9_index: np.ndarray,
    vkorc1_index: np.ndarray,
    age_years: np.ndarray,
    params: HambergParameters = HAMBERG_2007,
    *,
    eta_cl: np.ndarray | float = 0.0,
    eta_v1: np.ndarray | float = 0.0,
    eta_v2: np.ndarray | float = 0.0,
    eta_mtt1: np.ndarray | float = 0.0,
    eta_mtt2: np.ndarray | float = 0.0,
    eta_ec50: np.ndarray | float = 0.0,
    cl_multiplier: np.ndarray | float = 1.0,
) -> WarfarinPatientParameters:
    """Per-patient parameters from covariates (Hamberg 2007 Appendix Eq 4 and 9).

    ``eta_*`` are log-scale random effects (0 = typical patient); ``cl_multiplier``
    carries interacting drugs (amiodarone, enzyme inducers) on S-warfarin clearance.
    """
    cyp = np.asarray(cyp2c9_index, dtype=np.int64)
    vk = np.asarray(vkorc1_index, dtype=np.int64)
    age = np.asarray(age_years, dtype=np.float64)
    _check_individual_inputs(
        age, cl_multiplier, eta_cl=eta_cl, eta_v1=eta_v1, eta_v2=eta_v2, eta_mtt1=eta_mtt1, eta_mtt2=eta_mtt2, eta_ec50=eta_ec50
    )
    n = np.broadcast(cyp, vk, age).shape
    if np.any((cyp < 0) | (cyp >= len(CYP2C9_GENOTYPES))):
        raise ValueError(f"CYP2C9 index out of range 0..5: {cyp[(cyp < 0) | (cyp >= 6)][:5]}")
    if np.any((vk < 0) | (vk >= len(VKORC1_GENOTYPES))):
        raise ValueError(f"VKORC1 index out of range 0..2: {vk[(vk < 0) | (vk >= 3)][:5]}")
    age_factor_s = 1.0 - params.cl_s_age_slope_per_year * (age - params.age_reference_years)
    age_factor_r = 1.0 - params.cl_r_age_slope_per_year * (age - params.age_reference_years)
    if np.any(age_factor_s <= 0) or np.any(age_factor_r <= 0):
        raise ValueError(f"age {age[(age_factor_s <= 0) | (age_factor_r <= 0)][:5]} gives non-positive clearance")
    cl = params.cl_s_l_per_h * np.asarray(params.cl_s_cyp2c9_multiplier)[cyp] * age_factor_s
    cl = cl * np.exp(eta_cl) * cl_multiplier
    n_tr = params.n_transit1
    ktr1_scale = n_tr if params.ktr_convention == "chain_total" else 1.0
    ones = np.ones(n)
    return WarfarinPatientParameters(
        ka_per_h=params.ka_per_h * ones,
        cl_s_l_per_h=cl * ones,
        v1_l=params.v1_l * np.exp(eta_v1) * ones,
        q_l_per_h=params.q_l_per_h * ones,
        v2_l=params.v2_l * np.exp(eta_v2) * ones,
        cl_r_l_per_h=params.cl_r_l_per_h * age_factor_r * ones,
        v_r_l=params.v_r_l * ones,
        ec50_mg_per_l=np.asarray(params.ec50_mg_per_l)[vk] * np.exp(eta_ec50) * ones,
        gamma=params.gamma * ones,
        ktr1_per_h=ktr1_scale / (params.mtt1_h * np.exp(eta_mtt1)) * ones,
        ktr2_per_h=1.0 / (params.mtt2_h * np.exp(eta_mtt2)) * ones,
        inr_base=params.inr_base * ones,
        inr_max=params.inr_max * ones,
        inr_lambda=params.inr_lambda * ones,
        dose_to_depot=params.s_fraction_of_racemate * params.bioavailability * ones,
    )


def _check_genotypes(cyp: np.ndarray, vk: np.ndarray) -> None:
    if np.any((cyp < 0) | (cyp >= len(CYP2C9_GENOTYPES))):
        raise ValueError(f"CYP2C9 index out of range 0..5: {cyp[(cyp < 0) | (cyp >= 6)][:5]}")
    if np.any((vk < 0) | (vk >= len(VKORC1_GENOTYPES))):
        raise ValueError(f"VKORC1 index out of range 0..2: {vk[(vk < 0) | (vk >= 3)][:5]}")


def individual_parameters_2010(
    cyp2c9_index: np.ndarray,
    vkorc1_index: np.ndarray,
    age_years: np.ndarray,
    params: Hamberg2010Parameters = HAMBERG_2010,
    *,
    eta_cl: np.ndarray | float = 0.0,
    eta_v: np.ndarray | float = 0.0,
    eta_ec50: np.ndarray | float = 0.0,
    cl_multiplier: np.ndarray | float = 1.0,
) -> WarfarinPatientParameters:
    """Per-patient Hamberg 2010 parameters, in the same container as Hamberg 2007.

    * CL = (CL_allele1 + CL_allele2) (1 - 0.00571 (age - 71)) e^eta_cl, e.g. *1/*3:
      0.174 + 0.0422 = 0.2162 L/h at 71 y.
    * EC50 = EC50_allele1 + EC50_allele2 (VKORC1 -1639 G 2.05, A 0.96 mg/L), e.g. GA 3.01.
    * One compartment: ``v1_l = V``, ``q_l_per_h = 0`` (the peripheral compartment is
      disconnected; ``v2_l`` is set to V only to keep the rate matrix finite).
    * ``ktr = 3/MTT`` for both chains; ``inr_lambda = 1`` (the 2010 INR has no lambda; use
      with ``WarfarinModel(structure="hamberg2010")``, whose INR is the chain-end mean).
    * R-warfarin (observation only) as in Hamberg 2007 Table 3.

    ``eta_*`` are log-scale random effects (0 = typical patient); ``cl_multiplier``
    carries interacting drugs on S-warfarin clearance.
    """
    cyp = np.asarray(cyp2c9_index, dtype=np.int64)
    vk = np.asarray(vkorc1_index, dtype=np.int64)
    age = np.asarray(age_years, dtype=np.float64)
    _check_individual_inputs(age, cl_multiplier, eta_cl=eta_cl, eta_v=eta_v, eta_ec50=eta_ec50)
    n = np.broadcast(cyp, vk, age).shape
    _check_genotypes(cyp, vk)
    age_factor_s = 1.0 - params.cl_s_age_slope_per_year * (age - params.age_reference_years)
    age_factor_r = 1.0 - params.cl_r_age_slope_per_year * (age - params.age_reference_years)
    if np.any(age_factor_s <= 0) or np.any(age_factor_r <= 0):
        raise ValueError(f"age {age[(age_factor_s <= 0) | (age_factor_r <= 0)][:5]} gives non-positive clearance")
    cl_allele = np.asarray(params.cl_s_per_cyp2c9_allele_l_per_h)
    alleles = _CYP2C9_ALLELES[cyp]
    cl = (cl_allele[alleles[..., 0]] + cl_allele[alleles[..., 1]]) * age_factor_s
    cl = cl * np.exp(eta_cl) * cl_multiplier
    ec50_g, ec50_a = params.ec50_per_vkorc1_allele_mg_per_l
    ec50 = ((2 - vk) * ec50_g + vk * ec50_a) * np.exp(eta_ec50)  # vk index = number of A alleles
    v = params.v_l * np.exp(eta_v)
    ones = np.ones(n)
    return WarfarinPatientParameters(
        ka_per_h=params.ka_per_h * ones,
        cl_s_l_per_h=cl * ones,
        v1_l=v * ones,
        q_l_per_h=0.0 * ones,
        v2_l=v * ones,
        cl_r_l_per_h=params.cl_r_l_per_h * age_factor_r * ones,
        v_r_l=params.v_r_l * ones,
        ec50_mg_per_l=ec50 * ones,
        gamma=params.gamma * ones,
        ktr1_per_h=params.n_transit / params.mtt1_h * ones,
        ktr2_per_h=params.n_transit / params.mtt2_h * ones,
        inr_base=params.inr_base * ones,
        inr_max=params.inr_max * ones,
        inr_lambda=ones.copy(),
        dose_to_depot=params.s_fraction_of_racemate * params.bioavailability * ones,
    )


# Intra-day grid (hours after the daily dose): fine while the dose is absorbed (ka = 2/h),
# coarse later. Each length is a power-of-two multiple of 0.25 h.
INTRADAY_NODES_H = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 20.0, 24.0])


def _pk_matrix(p: WarfarinPatientParameters) -> np.ndarray:
    """(N, 4, 4) rate matrix of the linear PK system [gut, S_c, S_p, R_c]."""
    n = p.ka_per_h.shape[0]
    k = np.zeros((n, 4, 4))
    k10 = p.cl_s_l_per_h / p.v1_l
    k12 = p.q_l_per_h / p.v1_l
    k21 = p.q_l_per_h / p.v2_l
    kr = p.cl_r_l_per_h / p.v_r_l
    k[:, 0, 0] = -p.ka_per_h
    k[:, 1, 0] = p.ka_per_h
    k[:, 1, 1] = -(k10 + k12)
    k[:, 1, 2] = k21
    k[:, 2, 1] = k12
    k[:, 2, 2] = -k21
    k[:, 3, 0] = p.ka_per_h
    k[:, 3, 3] = -kr
    return k


def _pk_propagators(k: np.ndarray, lengths_h: np.ndarray) -> np.ndarray:
    """``expm(k h)`` for each length; lengths that are power-of-two multiples of the
    shortest one are obtained by repeated squaring (one ``expm`` call in all)."""
    from hemosim.models._linalg import expm_batch

    out = np.empty((k.shape[0], len(lengths_h), 4, 4))
    base_h = lengths_h[0]
    current, current_h = expm_batch(k * base_h), base_h
    for li, h in enumerate(lengths_h):
        ratio = h / current_h
        while ratio > 1.5 and abs(np.log2(ratio) - round(np.log2(ratio))) < 1e-12:
            current, current_h = current @ current, 2.0 * current_h
            ratio = h / current_h
        out[:, li] = current if abs(h - current_h) < 1e-12 * h else expm_batch(k * h)
    return out


_FACTORIALS = np.array([1.0, 1.0, 2.0, 6.0, 24.0, 120.0, 720.0, 5040.0])


def _chain_coefficients(k_per_h: np.ndarray, h: np.ndarray, n_comp: int):
    """Exact one-interval update of a chain of ``n_comp`` equal-rate compartments.

    For input ``u`` linear from ``u0`` to ``u1`` over ``h``:
    ``A_i(h) = sum_{m<=i} decay[i-m] A_m(0) + (P_i - W_i) u1 + W_i u0`` with
    ``decay[j] = e^{-x} x^j / j!``, ``P_i = P(i, x)`` (regularised lower incomplete
    gamma), ``W_i = (i / x) P(i + 1, x)`` and ``x = k h`` (i = 1..n_comp).
    Returns arrays of shape ``(N, L, n_comp)``.
    """
    x = k_per_h[:, None] * h[None, :]
    j = np.arange(n_comp)
    decay = np.exp(-x)[..., None] * x[..., None] ** j / _FACTORIALS[:n_comp]
    p_i, w_i = _kernel().chain_gammainc(x, n_comp)  # gammainc(i, x), (i / x) gammainc(i + 1, x), i = 1..n_comp
    return decay, p_i, w_i


class WarfarinModel:
    """Batched Hamberg state and its exact-PK / exponential-chain daily advance.

    ``structure="hamberg2007"`` (default): ``chain`` (N, 7) = [A1..A6, A7], INR from the
    product A6 A7 (Appendix Eq 10). ``structure="hamberg2010"``: ``chain`` (N, 6) =
    [A1..A3, A4..A6], two chains of 3, INR from the mean (A3 + A6)/2 (use with
    :func:`individual_parameters_2010`). State per patient: ``pk_mg`` (N, 4) = [depot S
    (= depot R), S central, S peripheral, R central] in mg; chains dimensionless, 1 at
    baseline.
    """

    def __init__(
        self, num_patients: int, nodes_h: np.ndarray = INTRADAY_NODES_H, structure: ModelStructure = "hamberg2007"
    ) -> None:
        if structure not in MODEL_STRUCTURES:
            raise ValueError(f"unknown model structure {structure!r}; allowed: {list(MODEL_STRUCTURES)}")
        self.structure = structure
        self._is_2010 = structure == "hamberg2010"
        self.n = num_patients
        self.nodes_h = np.asarray(nodes_h, dtype=np.float64)
        steps = np.diff(self.nodes_h)
        self.step_lengths_h, self.step_index = np.unique(steps, return_inverse=True)
        self.step_index = self.step_index.astype(np.int64)
        self.day_h = float(self.nodes_h[-1])
        n_len = len(self.step_lengths_h)
        self.pk_mg = np.zeros((num_patients, 4))
        self.pk_prop = np.zeros((num_patients, n_len, 4, 4))
        if self._is_2010:
            # the 2010 hot-path methods shadow the 2007 ones on this instance, so the
            # Hamberg 2007 step carries no structure test
            self.advance_one_day = self._advance_one_day_2010
            self.inr = self._inr_2010
            self.chain = np.ones((num_patients, 6))
            # exact coefficients of both 3-compartment chains: (N, L, chain, compartment)
            self.c_decay = np.zeros((num_patients, n_len, 2, 3))
            self.c_p = np.zeros((num_patients, n_len, 2, 3))
            self.c_w = np.zeros((num_patients, n_len, 2, 3))
        else:
            self.chain = np.ones((num_patients, 7))
            self.c1_decay = np.zeros((num_patients, n_len, 6))
            self.c1_p = np.zeros((num_patients, n_len, 6))
            self.c1_w = np.zeros((num_patients, n_len, 6))
            self.c2 = np.zeros((num_patients, n_len, 3))  # decay, P1, W1 of chain 2
        self.inv_v1 = np.zeros(num_patients)
        self.inv_v_r = np.zeros(num_patients)
        self.ec50_pow_gamma = np.ones(num_patients)
        self.gamma = np.ones(num_patients)
        self.dose_to_depot = np.zeros(num_patients)
        self.inr_base = np.ones(num_patients)
        self.inr_max = np.ones(num_patients)
        self.inr_lambda = np.ones(num_patients)
        self.params: WarfarinPatientParameters | None = None

    # -- parameters ----------------------------------------------------------------------
    def set_parameters(self, mask: np.ndarray, p: WarfarinPatientParameters, *, reset_state: bool = True) -> None:
        """Install parameters for the masked patients (and, by default, a drug-free state)."""
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        if self.params is None:
            self.params = WarfarinPatientParameters(**{f.name: np.zeros(self.n) for f in fields(p)})
        self.params.assign(idx, p)
        self._precompute(idx, p)
        if reset_state:
            self.pk_mg[idx] = 0.0
            self.chain[idx] = 1.0

    def update_clearance(self, mask: np.ndarray, cl_s_l_per_h: np.ndarray) -> None:
        """Change S-warfarin clearance mid-course (e.g. an interacting drug is started)."""
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return
        self.params.cl_s_l_per_h[idx] = cl_s_l_per_h
        self._precompute(idx, self.params.take(idx))

    def update_ec50(self, ec50_mg_per_l: np.ndarray) -> None:
        """Change EC50 for all patients (e.g. day-to-day dietary vitamin K)."""
        self.ec50_pow_gamma = ec50_mg_per_l ** self.gamma

    def _precompute(self, idx: np.ndarray, p: WarfarinPatientParameters) -> None:
        """Per-patient propagators and chain coefficients (elementwise per patient, so the
        rows are split over threads for large batches: ``hemosim.sim.threads.map_row_parts``)."""
        n = len(idx)
        threads.map_row_parts(
            lambda lo, hi: self._precompute_rows(idx[lo:hi], p if hi - lo == n else p.take(np.arange(lo, hi))), n
        )

    def _precompute_rows(self, idx: np.ndarray, p: WarfarinPatientParameters) -> None:
        self.pk_prop[idx] = _pk_propagators(_pk_matrix(p), self.step_lengths_h)
        if self._is_2010:
            for c, ktr in enumerate((p.ktr1_per_h, p.ktr2_per_h)):
                d, pp, w = _chain_coefficients(ktr, self.step_lengths_h, 3)
                self.c_decay[idx, :, c], self.c_p[idx, :, c], self.c_w[idx, :, c] = d, pp, w
        else:
            d1, p1, w1 = _chain_coefficients(p.ktr1_per_h, self.step_lengths_h, 6)
            self.c1_decay[idx], self.c1_p[idx], self.c1_w[idx] = d1, p1, w1
            d2, p2, w2 = _chain_coefficients(p.ktr2_per_h, self.step_lengths_h, 1)
            self.c2[idx, :, 0], self.c2[idx, :, 1], self.c2[idx, :, 2] = d2[..., 0], p2[..., 0], w2[..., 0]
        self.inv_v1[idx] = 1.0 / p.v1_l
        self.inv_v_r[idx] = 1.0 / p.v_r_l
        self.gamma[idx] = p.gamma
        self.ec50_pow_gamma[idx] = p.ec50_mg_per_l ** p.gamma
        self.dose_to_depot[idx] = p.dose_to_depot
        self.inr_base[idx] = p.inr_base
        self.inr_max[idx] = p.inr_max
        self.inr_lambda[idx] = p.inr_lambda

    # -- dynamics ------------------------------------------------------------------------
    def advance_one_day(self, racemic_dose_mg: np.ndarray) -> None:
        """Hot path of :meth:`advance_days` for one day of already-validated doses (N,)."""
        _kernel().advance_days(
            self.pk_mg, self.chain, (racemic_dose_mg * self.dose_to_depot)[:, None],
            self.pk_prop, self.step_index, self.c1_decay, self.c1_p, self.c1_w, self.c2,
            self.inv_v1, self.ec50_pow_gamma, self.gamma,
        )

    def _advance_one_day_2010(self, racemic_dose_mg: np.ndarray) -> None:
        self._advance_2010((racemic_dose_mg * self.dose_to_depot)[:, None])

    def _advance_2010(self, depot_dose_mg: np.ndarray) -> None:
        _kernel().advance_days_two_chains(
            self.pk_mg, self.chain, depot_dose_mg, self.pk_prop, self.step_index,
            self.c_decay, self.c_p, self.c_w, self.inv_v1, self.ec50_pow_gamma, self.gamma,
        )

    def advance_days(self, racemic_dose_mg: np.ndarray) -> None:
        """Give each patient its racemic dose (mg) at the start of each day and advance.

        ``racemic_dose_mg`` has shape ``(N,)`` (one day) or ``(N, D)`` (D days).
        """
        doses = np.asarray(racemic_dose_mg, dtype=np.float64)
        if doses.ndim == 1:
            doses = doses[:, None]
        if doses.shape[0] != self.n:
            raise ValueError(f"dose array has {doses.shape[0]} rows for {self.n} patients")
        if np.any(~np.isfinite(doses)) or np.any(doses < 0):
            bad = doses[~np.isfinite(doses) | (doses < 0)]
            raise ValueError(f"doses {bad[:5]} mg are not allowed; doses must be finite and >= 0 mg")
        if self._is_2010:
            self._advance_2010(np.ascontiguousarray(doses * self.dose_to_depot[:, None]))
            return
        _kernel().advance_days(
            self.pk_mg, self.chain, np.ascontiguousarray(doses * self.dose_to_depot[:, None]),
            self.pk_prop, self.step_index, self.c1_decay, self.c1_p, self.c1_w, self.c2,
            self.inv_v1, self.ec50_pow_gamma, self.gamma,
        )

    def day_kernel_arrays(self, racemic_dose_mg: np.ndarray) -> tuple:
        """The arguments after ``lo, hi`` of ``_warfarin_kernel.advance_day_rows`` for one
        day of already-validated doses (N,), up to the INR output (the caller's): for
        callers that fuse more per-row work into the day's pass (the warfarin env)."""
        k = _kernel()
        depot = (racemic_dose_mg * self.dose_to_depot)[:, None]
        if self._is_2010:
            chains = (k.NO_COEFFICIENTS_3D,) * 4 + (self.c_decay, self.c_p, self.c_w)
        else:
            chains = (self.c1_decay, self.c1_p, self.c1_w, self.c2) + (k.NO_COEFFICIENTS_4D,) * 3
        return (self._is_2010, self.pk_mg, self.chain, depot, self.pk_prop, self.step_index, *chains, self.inv_v1,
                self.ec50_pow_gamma, self.gamma, self.inr_base, self.inr_max, self.inr_lambda)

    # -- read-outs -----------------------------------------------------------------------
    def s_concentration_mg_per_l(self) -> np.ndarray:
        return self.pk_mg[:, 1] * self.inv_v1

    def r_concentration_mg_per_l(self) -> np.ndarray:
        return self.pk_mg[:, 3] * self.inv_v_r

    def inr(self) -> np.ndarray:
        """INR of every patient (a new array)."""
        return _kernel().inr_of(self.chain, self.inr_base, self.inr_max, self.inr_lambda, np.empty(self.n))

    def _inr_2010(self) -> np.ndarray:
        return _kernel().inr_of_mean(self.chain, self.inr_base, self.inr_max, np.empty(self.n))


_KERNEL_MODULE = None


def _kernel():
    """The compiled kernel module, imported on first use (keeps ``import`` cheap)."""
    global _KERNEL_MODULE
    if _KERNEL_MODULE is None:
        from hemosim.models import _warfarin_kernel

        _KERNEL_MODULE = _warfarin_kernel
    return _KERNEL_MODULE


def inr_from_chains(a6, a7, base, inr_max, lam) -> np.ndarray:
    """INR = BASE + INRmax (1 - A6 A7)^lambda (Hamberg 2007 Appendix Eq 10)."""
    return base + inr_max * np.maximum(1.0 - a6 * a7, 0.0) ** lam


def reference_rhs(t: float, y: np.ndarray, p: WarfarinPatientParameters, i: int) -> np.ndarray:
    """Right-hand side of the full ODE for patient ``i`` (slow reference path for tests).

    ``y`` = [gut, S_c, S_p, R_c, A1..A6, A7].
    """
    ka, cl, v1, q, v2 = p.ka_per_h[i], p.cl_s_l_per_h[i], p.v1_l[i], p.q_l_per_h[i], p.v2_l[i]
    kr = p.cl_r_l_per_h[i] / p.v_r_l[i]
    gut, sc, sp, rc = y[0], y[1], y[2], y[3]
    a = y[4:]
    c = max(sc / v1, 0.0)
    cg = c ** p.gamma[i]
    e = cg / (p.ec50_mg_per_l[i] ** p.gamma[i] + cg)
    k1, k2 = p.ktr1_per_h[i], p.ktr2_per_h[i]
    dy = np.empty_like(y)
    dy[0] = -ka * gut
    dy[1] = ka * gut - (cl / v1 + q / v1) * sc + (q / v2) * sp
    dy[2] = (q / v1) * sc - (q / v2) * sp
    dy[3] = ka * gut - kr * rc
    dy[4] = k1 * (1.0 - e - a[0])
    for j in range(1, 6):
        dy[4 + j] = k1 * (a[j - 1] - a[j])
    dy[10] = k2 * (1.0 - e - a[6])
    return dy


def steady_state_weekly_dose_mg(
    p: WarfarinPatientParameters, target_inr: np.ndarray | float = 2.5, structure: ModelStructure = "hamberg2007"
) -> np.ndarray:
    """Each patient's true maintenance dose (racemic mg/week) for a steady-state INR.

    The constant racemic input whose S-warfarin concentration C = rate / CL holds the INR at
    ``target_inr`` once every transit compartment equals ``1 - E``: Hamberg 2007 (Appendix
    Eq 10) needs ``1 - (1 - E)^2 = ((INR - BASE) / INRmax)^(1/lambda)``, Hamberg 2010 needs
    ``E = (INR - BASE) / INRmax``; then ``C = EC50 (E / (1 - E))^(1/gamma)`` and the dose is
    ``7 x 24 h x CL x C / (S fraction x F)``. With daily dosing the interval-mean INR is within
    3 % of the target (Table 5 test). Patients whose target is unreachable (INR >= BASE + INRmax)
    get ``inf``.
    """
    if structure not in MODEL_STRUCTURES:
        raise ValueError(f"unknown model structure {structure!r}; allowed: {list(MODEL_STRUCTURES)}")
    target = np.asarray(target_inr, dtype=np.float64)
    if np.any(~np.isfinite(target)) or np.any(target <= p.inr_base):
        raise ValueError(f"target_inr {np.atleast_1d(target)[:5]} must be finite and above the baseline INR")
    frac = np.minimum((target - p.inr_base) / p.inr_max, 1.0)
    if structure == "hamberg2007":
        e = 1.0 - np.sqrt(np.maximum(1.0 - frac ** (1.0 / p.inr_lambda), 0.0))
    else:
        e = frac
    with np.errstate(divide="ignore"):
        c = p.ec50_mg_per_l * (e / (1.0 - e)) ** (1.0 / p.gamma)
    return 7.0 * 24.0 * p.cl_s_l_per_h * c / p.dose_to_depot


def inr_from_chains_2010(a3, a6, base, inr_max) -> np.ndarray:
    """INR = BASE + INRmax (1 - (A3 + A6)/2) (Hamberg 2010; mean of the chain ends, no lambda)."""
    return base + inr_max * np.maximum(1.0 - 0.5 * (a3 + a6), 0.0)


def reference_rhs_2010(t: float, y: np.ndarray, p: WarfarinPatientParameters, i: int) -> np.ndarray:
    """Right-hand side of the full Hamberg 2010 ODE for patient ``i`` (slow reference path).

    ``y`` = [gut, S_c, R_c, A1..A3, A4..A6]: one S compartment (no Q), written directly
    from the equations of the module docstring, independent of the 4-state PK matrix.
    """
    ka, cl, v = p.ka_per_h[i], p.cl_s_l_per_h[i], p.v1_l[i]
    kr = p.cl_r_l_per_h[i] / p.v_r_l[i]
    gut, sc, rc = y[0], y[1], y[2]
    a = y[3:]
    c = max(sc / v, 0.0)
    cg = c ** p.gamma[i]
    e = cg / (p.ec50_mg_per_l[i] ** p.gamma[i] + cg)
    dy = np.empty_like(y)
    dy[0] = -ka * gut
    dy[1] = ka * gut - (cl / v) * sc
    dy[2] = ka * gut - kr * rc
    for c0, k in ((0, p.ktr1_per_h[i]), (3, p.ktr2_per_h[i])):
        dy[3 + c0] = k * (1.0 - e - a[c0])
        for j in (1, 2):
            dy[3 + c0 + j] = k * (a[c0 + j - 1] - a[c0 + j])
    return dy
