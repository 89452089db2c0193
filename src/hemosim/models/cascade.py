"""Hockin-Mann 2002 tissue-factor-initiated coagulation cascade: ODE, Jacobian, stiff solver.

Hockin MF, Jones KC, Everse SJ, Mann KG. "A model for the stoichiometric regulation of blood
coagulation." J Biol Chem 2002;277(21):18322-18333, doi:10.1074/jbc.M201173200.

The model: 34 species, 42 rate constants, mass action, no fibrin, no platelets, no protein C.
Constants, network and plasma concentrations are those of the project fact sheet
(``shared/reference/FACTS.md`` section 5, transcribed from BioModels BIOMD0000000335, Owen
``hockin.py``, Siekmann ``HockinMann_JBC2002.h``; all four public implementations agree).

Units inside this module: concentrations in **nM**, time in **seconds** (the cascade is an
in-vitro assay model on a 0-1200 s horizon, so it does not use the hours time base of the
pharmacological models). Bimolecular constants are stored in M^-1 s^-1 as published and
converted to nM^-1 s^-1 (x 1e-9) in :func:`rate_constants_nM`.

Numerics: the right-hand side and its exact (analytic) Jacobian are generated from one
reaction table (:data:`REACTIONS`), so they cannot disagree. The integrator is RODAS4
(Hairer & Wanner 1996, "Solving ODEs II", section IV.7; coefficients of ``rodas.f``), a
6-stage, order-4(3), L-stable Rosenbrock method with adaptive step. A Rosenbrock step is a
linear combination of ``f`` values and ``(I/(h*gamma) - J)^-1`` applied to them; since every
conservation vector ``c`` satisfies ``c.f = 0`` and ``c.J = 0``, the 10 conserved totals are
preserved to round-off. Output at requested times is by cubic Hermite interpolation between
accepted steps (free: ``f`` at both ends is needed by the method anyway). The solver is
compiled with Numba (``cache=True``) on first use and batched over samples inside the jitted
function, serially or in parallel row chunks (``prange``) as :mod:`hemosim.sim.threads` sets;
each sample is integrated independently with its own step-size sequence and work buffers, so a
sample's result depends neither on the batch it runs in nor on the thread count.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit, prange

from hemosim.sim.threads import PARALLEL_CHUNKS, use_parallel

__all__ = [
    "SPECIES",
    "N_SPECIES",
    "REACTIONS",
    "RateConstants",
    "PlasmaConcentrations",
    "FACTOR_LEVEL_NAMES",
    "rate_constants_nM",
    "initial_state",
    "rhs",
    "jacobian",
    "conservation_matrix",
    "conserved_totals",
    "solve",
    "clot_times",
    "ThrombinGeneration",
    "thrombin_generation",
    "thrombin_metrics",
    "benchmark",
]

# --------------------------------------------------------------------------------------
# Species (FACTS 5.1.1: order of Owen hockin.py = Siekmann compNames[]; 0-based)
# --------------------------------------------------------------------------------------
SPECIES: tuple[str, ...] = (
    "TF", "VII", "TF=VII", "VIIa", "TF=VIIa", "Xa", "IIa", "X", "TF=VIIa=X", "TF=VIIa=Xa",
    "IX", "TF=VIIa=IX", "IXa", "II", "VIII", "VIIIa", "IXa=VIIIa", "IXa=VIIIa=X", "VIIIa1-L",
    "VIIIa2", "V", "Va", "Xa=Va", "Xa=Va=II", "mIIa", "TFPI", "Xa=TFPI", "TF=VIIa=Xa=TFPI",
    "ATIII", "Xa=ATIII", "mIIa=ATIII", "IXa=ATIII", "IIa=ATIII", "TF=VIIa=ATIII",
)
N_SPECIES = len(SPECIES)
_I = {name: i for i, name in enumerate(SPECIES)}
IDX_IIA = _I["IIa"]
IDX_MIIA = _I["mIIa"]

#: Weight of meizothrombin in the Mann-lab "thrombin" observable IIa + 1.2 mIIa
#: (BIOMD0000000335 assignment rule ``IIa_plus_1_2mIIa``; FACTS 5.3).
MIIA_WEIGHT = 1.2

# --------------------------------------------------------------------------------------
# Rate constants (FACTS 5.1.2, Hockin 2002 Table I as transcribed by BIOMD0000000335)
# --------------------------------------------------------------------------------------
_SRC = "Hockin 2002 Table I via BIOMD0000000335 / FACTS 5.1.2"
_M = "1/(M*s)"
_S = "1/s"


def _k(value: float, unit: str, reaction: str) -> Any:
    return field(default=value, metadata={"unit": unit, "source": f"{_SRC}, {reaction}"})


@dataclass(frozen=True)
class RateConstants:
    """The 42 Hockin-Mann 2002 rate constants, SI units (M, s), as published.

    Field ``kN_...`` is the paper's constant kN; the unit is in the name and the metadata.
    """

    k1_per_s: float = _k(3.1e-3, _S, "R1 TF=VII -> TF + VII")
    k2_per_M_s: float = _k(3.2e6, _M, "R1 TF + VII -> TF=VII")
    k3_per_s: float = _k(3.1e-3, _S, "R2 TF=VIIa -> TF + VIIa")
    k4_per_M_s: float = _k(2.3e7, _M, "R2 TF + VIIa -> TF=VIIa")
    k5_per_M_s: float = _k(4.4e5, _M, "R3 TF=VIIa + VII -> TF=VIIa + VIIa (Siekmann: corrected from paper)")
    k6_per_M_s: float = _k(1.3e7, _M, "R4 Xa + VII -> Xa + VIIa")
    k7_per_M_s: float = _k(2.3e4, _M, "R5 IIa + VII -> IIa + VIIa")
    k8_per_s: float = _k(1.05, _S, "R6 TF=VIIa=X -> TF=VIIa + X")
    k9_per_M_s: float = _k(2.5e7, _M, "R6 TF=VIIa + X -> TF=VIIa=X")
    k10_per_s: float = _k(6.0, _S, "R6b TF=VIIa=X -> TF=VIIa=Xa")
    k11_per_s: float = _k(19.0, _S, "R7 TF=VIIa=Xa -> TF=VIIa + Xa")
    k12_per_M_s: float = _k(2.2e7, _M, "R7 TF=VIIa + Xa -> TF=VIIa=Xa")
    k13_per_s: float = _k(2.4, _S, "R8 TF=VIIa=IX -> TF=VIIa + IX")
    k14_per_M_s: float = _k(1.0e7, _M, "R8 TF=VIIa + IX -> TF=VIIa=IX")
    k15_per_s: float = _k(1.8, _S, "R8b TF=VIIa=IX -> TF=VIIa + IXa")
    k16_per_M_s: float = _k(7.5e3, _M, "R9 Xa + II -> Xa + IIa")
    k17_per_M_s: float = _k(2.0e7, _M, "R10 IIa + VIII -> IIa + VIIIa")
    k18_per_s: float = _k(5.0e-3, _S, "R11 IXa=VIIIa -> IXa + VIIIa")
    k19_per_M_s: float = _k(1.0e7, _M, "R11 IXa + VIIIa -> IXa=VIIIa")
    k20_per_s: float = _k(1.0e-3, _S, "R12 IXa=VIIIa=X -> IXa=VIIIa + X")
    k21_per_M_s: float = _k(1.0e8, _M, "R12 IXa=VIIIa + X -> IXa=VIIIa=X")
    k22_per_s: float = _k(8.2, _S, "R12b IXa=VIIIa=X -> IXa=VIIIa + Xa")
    k23_per_M_s: float = _k(2.2e4, _M, "R13 VIIIa1-L + VIIIa2 -> VIIIa")
    k24_per_s: float = _k(6.0e-3, _S, "R13 VIIIa -> VIIIa1-L + VIIIa2")
    k25_per_s: float = _k(1.0e-3, _S, "R14/R15 tenase decay (shared constant)")
    k26_per_M_s: float = _k(2.0e7, _M, "R16 IIa + V -> IIa + Va")
    k27_per_s: float = _k(0.2, _S, "R17 Xa=Va -> Xa + Va")
    k28_per_M_s: float = _k(4.0e8, _M, "R17 Xa + Va -> Xa=Va")
    k29_per_s: float = _k(103.0, _S, "R18 Xa=Va=II -> Xa=Va + II")
    k30_per_M_s: float = _k(1.0e8, _M, "R18 Xa=Va + II -> Xa=Va=II")
    k31_per_s: float = _k(63.5, _S, "R18b Xa=Va=II -> Xa=Va + mIIa")
    k32_per_M_s: float = _k(1.5e7, _M, "R19 mIIa + Xa=Va -> IIa + Xa=Va")
    k33_per_s: float = _k(3.6e-4, _S, "R20 Xa=TFPI -> Xa + TFPI")
    k34_per_M_s: float = _k(9.0e5, _M, "R20 Xa + TFPI -> Xa=TFPI")
    k35_per_s: float = _k(1.1e-4, _S, "R21 TF=VIIa=Xa=TFPI -> TF=VIIa=Xa + TFPI")
    k36_per_M_s: float = _k(3.2e8, _M, "R21 TF=VIIa=Xa + TFPI -> TF=VIIa=Xa=TFPI")
    k37_per_M_s: float = _k(5.0e7, _M, "R22 TF=VIIa + Xa=TFPI -> TF=VIIa=Xa=TFPI")
    k38_per_M_s: float = _k(1.5e3, _M, "R23 Xa + ATIII -> Xa=ATIII")
    k39_per_M_s: float = _k(7.1e3, _M, "R24 mIIa + ATIII -> mIIa=ATIII")
    k40_per_M_s: float = _k(4.9e2, _M, "R25 IXa + ATIII -> IXa=ATIII")
    k41_per_M_s: float = _k(7.1e3, _M, "R26 IIa + ATIII -> IIa=ATIII")
    k42_per_M_s: float = _k(2.3e2, _M, "R27 TF=VIIa + ATIII -> TF=VIIa=ATIII")

    def as_array(self) -> np.ndarray:
        """k1..k42 as a float64 array (index 0 holds k1), SI units."""
        return np.array([getattr(self, f.name) for f in dataclasses.fields(self)], dtype=np.float64)


#: Which constants are bimolecular (unit M^-1 s^-1), 0-based index into k1..k42.
_BIMOLECULAR = np.array(
    [f.metadata["unit"] == _M for f in dataclasses.fields(RateConstants)], dtype=bool
)

#: Constants multiplied by the heparin-antithrombin potentiation fold (R23-R27: k38..k42).
AT_REACTION_CONSTANTS = (38, 39, 40, 41, 42)


def rate_constants_nM(
    n: int = 1,
    *,
    at_potentiation: float | np.ndarray = 1.0,
    constants: RateConstants | None = None,
) -> np.ndarray:
    """Per-sample rate-constant matrix ``(n, 42)`` in nM and s units.

    ``at_potentiation`` (dimensionless, >= 0, scalar or ``(n,)``) multiplies the five
    antithrombin inhibition constants k38..k42: the anticoagulant effect of heparin, which
    catalyses antithrombin (a modelling choice of this package, not part of Hockin 2002;
    1 = no heparin). Mapping a heparin concentration to a fold belongs to the heparin model.
    """
    c = (constants or RateConstants()).as_array()
    c = np.where(_BIMOLECULAR, c * 1e-9, c)  # M^-1 s^-1 -> nM^-1 s^-1 (FACTS 5.1.2)
    pot = np.broadcast_to(np.asarray(at_potentiation, dtype=np.float64), (n,))
    if not np.all(np.isfinite(pot)) or np.any(pot < 0):
        raise ValueError(f"at_potentiation must be finite and >= 0, got {at_potentiation!r}")
    k = np.repeat(c[None, :], n, axis=0)
    for j in AT_REACTION_CONSTANTS:
        k[:, j - 1] *= pot
    return k


# --------------------------------------------------------------------------------------
# Normal plasma (FACTS 5.2; BIOMD0000000335 x0 = Siekmann = trauma-validation MATLAB)
# --------------------------------------------------------------------------------------
_SRC_IC = "Hockin 2002 via BIOMD0000000335 initial concentrations / FACTS 5.2"


def _c(value: float, note: str = "") -> Any:
    return field(default=value, metadata={"unit": "nM", "source": _SRC_IC + (f"; {note}" if note else "")})


@dataclass(frozen=True)
class PlasmaConcentrations:
    """Mean normal-plasma concentrations used by the model (100 % of normal), in nM."""

    vii_nM: float = _c(10.0)
    viia_nM: float = _c(0.1, "1 % of VII; scaled together with VII")
    x_nM: float = _c(160.0, "Hockin 2002 value; 170 nM belongs to Jones & Mann 1994")
    ix_nM: float = _c(90.0)
    ii_nM: float = _c(1400.0)
    viii_nM: float = _c(0.7)
    v_nM: float = _c(20.0)
    tfpi_nM: float = _c(2.5)
    atiii_nM: float = _c(3400.0)


#: Factor-level keywords accepted everywhere, in % of normal, and the species they scale.
FACTOR_LEVEL_NAMES: dict[str, tuple[str, ...]] = {
    "ii_pct": ("II",),
    "v_pct": ("V",),
    "vii_pct": ("VII", "VIIa"),  # FACTS 5.2: scale VII and VIIa together
    "viii_pct": ("VIII",),
    "ix_pct": ("IX",),
    "x_pct": ("X",),
    "tfpi_pct": ("TFPI",),
    "at_pct": ("ATIII",),
}
_PLASMA_FIELD = {"VII": "vii_nM", "VIIa": "viia_nM", "X": "x_nM", "IX": "ix_nM", "II": "ii_nM",
                 "VIII": "viii_nM", "V": "v_nM", "TFPI": "tfpi_nM", "ATIII": "atiii_nM"}


def _as_batch(name: str, value: Any, n: int | None) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.ndim > 1:
        raise ValueError(f"{name} must be a scalar or a 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return a


def initial_state(
    tf_pM: float | np.ndarray,
    *,
    plasma: PlasmaConcentrations | None = None,
    dilution: float = 1.0,
    **levels_pct: float | np.ndarray,
) -> np.ndarray:
    """Initial state ``(n, 34)`` in nM for tissue factor ``tf_pM`` and factor levels in %.

    ``levels_pct`` keys are those of :data:`FACTOR_LEVEL_NAMES` (``ii_pct``, ``v_pct``,
    ``vii_pct``, ``viii_pct``, ``ix_pct``, ``x_pct``, ``tfpi_pct``, ``at_pct``), each a scalar
    or a ``(n,)`` array; missing ones are 100 %. ``dilution`` (0 < d <= 1) multiplies every
    plasma protein (not tissue factor), e.g. 1/3 for a PT test tube.
    """
    unknown = sorted(set(levels_pct) - set(FACTOR_LEVEL_NAMES))
    if unknown:
        raise ValueError(f"unknown factor level(s) {unknown}; allowed: {sorted(FACTOR_LEVEL_NAMES)}")
    if not (0.0 < dilution <= 1.0):
        raise ValueError(f"dilution must be in (0, 1], got {dilution!r}")
    arrays = {"tf_pM": _as_batch("tf_pM", tf_pM, None)}
    arrays.update({k: _as_batch(k, v, None) for k, v in levels_pct.items()})
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError as exc:
        raise ValueError(f"inputs must broadcast to one batch shape, got "
                         f"{ {k: a.shape for k, a in arrays.items()} }") from exc
    n = int(np.prod(shape)) if shape else 1
    plasma = plasma or PlasmaConcentrations()
    y0 = np.zeros((n, N_SPECIES))
    y0[:, _I["TF"]] = np.broadcast_to(arrays["tf_pM"], shape).reshape(n) * 1e-3
    for species, fname in _PLASMA_FIELD.items():
        y0[:, _I[species]] = getattr(plasma, fname) * dilution
    for key, species_list in FACTOR_LEVEL_NAMES.items():
        if key in arrays:
            frac = np.broadcast_to(arrays[key], shape).reshape(n) / 100.0
            for species in species_list:
                y0[:, _I[species]] *= frac
    return y0


# --------------------------------------------------------------------------------------
# Reaction table -> RHS and exact Jacobian
# --------------------------------------------------------------------------------------
#: Elementary mass-action reactions: (k number, reactants, products). Catalysts appear on
#: both sides. 43 elementary reactions use 42 constants (k25 is shared by R14 and R15).
REACTIONS: tuple[tuple[int, tuple[str, ...], tuple[str, ...]], ...] = (
    (2, ("TF", "VII"), ("TF=VII",)),                       # R1
    (1, ("TF=VII",), ("TF", "VII")),
    (4, ("TF", "VIIa"), ("TF=VIIa",)),                     # R2
    (3, ("TF=VIIa",), ("TF", "VIIa")),
    (5, ("TF=VIIa", "VII"), ("TF=VIIa", "VIIa")),          # R3
    (6, ("Xa", "VII"), ("Xa", "VIIa")),                    # R4
    (7, ("IIa", "VII"), ("IIa", "VIIa")),                  # R5
    (9, ("TF=VIIa", "X"), ("TF=VIIa=X",)),                 # R6
    (8, ("TF=VIIa=X",), ("TF=VIIa", "X")),
    (10, ("TF=VIIa=X",), ("TF=VIIa=Xa",)),                 # R6b
    (12, ("TF=VIIa", "Xa"), ("TF=VIIa=Xa",)),              # R7
    (11, ("TF=VIIa=Xa",), ("TF=VIIa", "Xa")),
    (14, ("TF=VIIa", "IX"), ("TF=VIIa=IX",)),              # R8
    (13, ("TF=VIIa=IX",), ("TF=VIIa", "IX")),
    (15, ("TF=VIIa=IX",), ("TF=VIIa", "IXa")),             # R8b
    (16, ("Xa", "II"), ("Xa", "IIa")),                     # R9
    (17, ("IIa", "VIII"), ("IIa", "VIIIa")),               # R10
    (19, ("IXa", "VIIIa"), ("IXa=VIIIa",)),                # R11
    (18, ("IXa=VIIIa",), ("IXa", "VIIIa")),
    (21, ("IXa=VIIIa", "X"), ("IXa=VIIIa=X",)),            # R12
    (20, ("IXa=VIIIa=X",), ("IXa=VIIIa", "X")),
    (22, ("IXa=VIIIa=X",), ("IXa=VIIIa", "Xa")),           # R12b
    (24, ("VIIIa",), ("VIIIa1-L", "VIIIa2")),              # R13
    (23, ("VIIIa1-L", "VIIIa2"), ("VIIIa",)),
    (25, ("IXa=VIIIa=X",), ("VIIIa1-L", "VIIIa2", "X", "IXa")),  # R14
    (25, ("IXa=VIIIa",), ("VIIIa1-L", "VIIIa2", "IXa")),   # R15
    (26, ("IIa", "V"), ("IIa", "Va")),                     # R16
    (28, ("Xa", "Va"), ("Xa=Va",)),                        # R17
    (27, ("Xa=Va",), ("Xa", "Va")),
    (30, ("Xa=Va", "II"), ("Xa=Va=II",)),                  # R18
    (29, ("Xa=Va=II",), ("Xa=Va", "II")),
    (31, ("Xa=Va=II",), ("Xa=Va", "mIIa")),                # R18b
    (32, ("mIIa", "Xa=Va"), ("IIa", "Xa=Va")),             # R19
    (34, ("Xa", "TFPI"), ("Xa=TFPI",)),                    # R20
    (33, ("Xa=TFPI",), ("Xa", "TFPI")),
    (36, ("TF=VIIa=Xa", "TFPI"), ("TF=VIIa=Xa=TFPI",)),    # R21
    (35, ("TF=VIIa=Xa=TFPI",), ("TF=VIIa=Xa", "TFPI")),
    (37, ("TF=VIIa", "Xa=TFPI"), ("TF=VIIa=Xa=TFPI",)),    # R22
    (38, ("Xa", "ATIII"), ("Xa=ATIII",)),                  # R23
    (39, ("mIIa", "ATIII"), ("mIIa=ATIII",)),              # R24
    (40, ("IXa", "ATIII"), ("IXa=ATIII",)),                # R25
    (41, ("IIa", "ATIII"), ("IIa=ATIII",)),                # R26
    (42, ("TF=VIIa", "ATIII"), ("TF=VIIa=ATIII",)),        # R27
)


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    nr = len(REACTIONS)
    kidx = np.empty(nr, dtype=np.int64)
    reac = np.full((nr, 2), -1, dtype=np.int64)
    stoich = np.zeros((nr, N_SPECIES), dtype=np.float64)
    for r, (knum, lhs, rhs_) in enumerate(REACTIONS):
        kidx[r] = knum - 1
        for j, s in enumerate(lhs):
            reac[r, j] = _I[s]
            stoich[r, _I[s]] -= 1.0
        for s in rhs_:
            stoich[r, _I[s]] += 1.0
    return kidx, reac, stoich


_KIDX, _REAC, _STOICH = _tables()


def _sparse_stoich(stoich: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ptr, idx, val = [0], [], []
    for row in stoich:
        nz = np.flatnonzero(row)
        idx.extend(nz.tolist())
        val.extend(row[nz].tolist())
        ptr.append(len(idx))
    return np.array(ptr, dtype=np.int64), np.array(idx, dtype=np.int64), np.array(val)


_SPTR, _SIDX, _SVAL = _sparse_stoich(_STOICH)


def _min_degree_order() -> np.ndarray:
    """Greedy minimum-degree order of the species on the structural pattern of I - J.

    The solver integrates the state in this order to limit fill-in in the LU of the
    iteration matrix (543 -> ~190 nonzeros); inputs and outputs stay in :data:`SPECIES`
    order.
    """
    pat = np.eye(N_SPECIES, dtype=bool)
    for r in range(_STOICH.shape[0]):
        for a in _REAC[r]:
            if a >= 0:
                pat[_STOICH[r] != 0, a] = True
    g = pat | pat.T
    alive = list(range(N_SPECIES))
    order = []
    while alive:
        deg = [int(g[i, alive].sum()) for i in alive]
        v = alive[int(np.argmin(deg))]
        nb = [x for x in alive if g[v, x] and x != v]
        for a in nb:
            g[a, nb] = True
        order.append(v)
        alive.remove(v)
    return np.array(order, dtype=np.int64)


_ORDER = _min_degree_order()            # internal position -> species index
_POS = np.argsort(_ORDER)               # species index -> internal position


def _permuted_tables() -> tuple[np.ndarray, ...]:
    reac = np.where(_REAC >= 0, _POS[np.maximum(_REAC, 0)], -1)
    ptr, idx, val = _sparse_stoich(_STOICH[:, _ORDER])
    return _KIDX, np.ascontiguousarray(reac), ptr, idx, val


_PKIDX, _PREAC, _PSPTR, _PSIDX, _PSVAL = _permuted_tables()


@njit(cache=True, fastmath=False)
def _rhs_kernel(y, k, kidx, reac, sptr, sidx, sval, out):
    for i in range(out.shape[0]):
        out[i] = 0.0
    for r in range(kidx.shape[0]):
        a = reac[r, 0]
        b = reac[r, 1]
        v = k[kidx[r]] * y[a]
        if b >= 0:
            v *= y[b]
        for p in range(sptr[r], sptr[r + 1]):
            out[sidx[p]] += sval[p] * v


@njit(cache=True, fastmath=False)
def _jac_kernel(y, k, kidx, reac, sptr, sidx, sval, jac):
    n = jac.shape[0]
    for i in range(n):
        for j in range(n):
            jac[i, j] = 0.0
    for r in range(kidx.shape[0]):
        a = reac[r, 0]
        b = reac[r, 1]
        kr = k[kidx[r]]
        if b >= 0:
            da = kr * y[b]  # d v / d y[a]
            db = kr * y[a]  # d v / d y[b]
            for p in range(sptr[r], sptr[r + 1]):
                jac[sidx[p], a] += sval[p] * da
                jac[sidx[p], b] += sval[p] * db
        else:
            for p in range(sptr[r], sptr[r + 1]):
                jac[sidx[p], a] += sval[p] * kr


def _check_state(y: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.ascontiguousarray(y, dtype=np.float64)
    k = np.ascontiguousarray(k, dtype=np.float64)
    if y.shape != (N_SPECIES,):
        raise ValueError(f"state must have shape ({N_SPECIES},), got {y.shape}")
    if k.shape != (42,):
        raise ValueError(f"rate constants must have shape (42,), got {k.shape}")
    return y, k


def rhs(y: np.ndarray, k: np.ndarray) -> np.ndarray:
    """dy/dt (nM/s) of one state ``y`` (34,) in nM with constants ``k`` (42,) in nM, s units."""
    y, k = _check_state(y, k)
    out = np.empty(N_SPECIES)
    _rhs_kernel(y, k, _KIDX, _REAC, _SPTR, _SIDX, _SVAL, out)
    return out


def jacobian(y: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Exact Jacobian d(dy/dt)/dy (1/s), shape (34, 34), of :func:`rhs`."""
    y, k = _check_state(y, k)
    jac = np.empty((N_SPECIES, N_SPECIES))
    _jac_kernel(y, k, _KIDX, _REAC, _SPTR, _SIDX, _SVAL, jac)
    return jac


# --------------------------------------------------------------------------------------
# Conservation laws (FACTS 5.6, Siekmann C1..C10)
# --------------------------------------------------------------------------------------
CONSERVED_TOTALS: dict[str, tuple[str, ...]] = {
    "TF": ("TF", "TF=VII", "TF=VIIa", "TF=VIIa=X", "TF=VIIa=Xa", "TF=VIIa=IX",
           "TF=VIIa=Xa=TFPI", "TF=VIIa=ATIII"),
    "VII": ("VII", "TF=VII", "VIIa", "TF=VIIa", "TF=VIIa=X", "TF=VIIa=Xa", "TF=VIIa=IX",
            "TF=VIIa=Xa=TFPI", "TF=VIIa=ATIII"),
    "X": ("X", "Xa", "TF=VIIa=X", "TF=VIIa=Xa", "IXa=VIIIa=X", "Xa=Va", "Xa=Va=II", "Xa=TFPI",
          "TF=VIIa=Xa=TFPI", "Xa=ATIII"),
    "II": ("II", "IIa", "Xa=Va=II", "mIIa", "mIIa=ATIII", "IIa=ATIII"),
    "IX": ("IX", "TF=VIIa=IX", "IXa", "IXa=VIIIa", "IXa=VIIIa=X", "IXa=ATIII"),
    "VIII": ("VIII", "VIIIa", "IXa=VIIIa", "IXa=VIIIa=X", "VIIIa2"),
    "V": ("V", "Va", "Xa=Va", "Xa=Va=II"),
    "TFPI": ("TFPI", "Xa=TFPI", "TF=VIIa=Xa=TFPI"),
    "ATIII": ("ATIII", "Xa=ATIII", "mIIa=ATIII", "IXa=ATIII", "IIa=ATIII", "TF=VIIa=ATIII"),
}


def conservation_matrix() -> np.ndarray:
    """(10, 34) matrix ``C`` with ``C @ y`` the conserved quantities (FACTS 5.6).

    Rows 0-8 are the totals of :data:`CONSERVED_TOTALS`; row 9 is VIIIa1-L - VIIIa2 (= 0).
    """
    c = np.zeros((10, N_SPECIES))
    for row, members in enumerate(CONSERVED_TOTALS.values()):
        for s in members:
            c[row, _I[s]] = 1.0
    c[9, _I["VIIIa1-L"]] = 1.0
    c[9, _I["VIIIa2"]] = -1.0
    return c


def conserved_totals(y: np.ndarray) -> np.ndarray:
    """Conserved quantities of state(s) ``y`` (..., 34) -> (..., 10), in nM."""
    return np.asarray(y) @ conservation_matrix().T


# --------------------------------------------------------------------------------------
# RODAS4 (Hairer & Wanner 1996, IV.7; coefficients of Hairer's rodas.f, RODAS4 set)
# --------------------------------------------------------------------------------------
_GAMMA = 0.25
_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1.544, 0.0, 0.0, 0.0, 0.0],
    [0.9466785280815826, 0.2557011698983284, 0.0, 0.0, 0.0],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817, 0.0, 0.0],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 0.0],
])
_C = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [-5.6688, 0.0, 0.0, 0.0, 0.0],
    [-2.430093356833875, -0.2063599157091915, 0.0, 0.0, 0.0],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616, 0.0, 0.0],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160, 0.0],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
     -6.058818238834054],
])


@njit(cache=True)
def _lu_factor(a, piv, nzl, nzu):
    """In-place LU with partial pivoting of the sparse iteration matrix.

    The update of each row touches only the nonzero columns of the pivot row; afterwards
    ``nzl[i] = (count, columns...)`` lists the nonzeros of row i of L (below the diagonal)
    and ``nzu`` those of U (above it), so the triangular solves skip the zeros. With the
    minimum-degree species order (:data:`_ORDER`) L+U has ~190 of 1156 entries.
    """
    n = a.shape[0]
    cols = np.empty(n, dtype=np.int64)
    for j in range(n):
        p = j
        m = abs(a[j, j])
        for i in range(j + 1, n):
            if abs(a[i, j]) > m:
                m = abs(a[i, j])
                p = i
        piv[j] = p
        if p != j:
            for c in range(n):
                t = a[j, c]
                a[j, c] = a[p, c]
                a[p, c] = t
        d = a[j, j]
        if d == 0.0:
            return False
        nc = 0
        for c in range(j + 1, n):
            if a[j, c] != 0.0:
                cols[nc] = c
                nc += 1
        inv = 1.0 / d
        for i in range(j + 1, n):
            if a[i, j] != 0.0:
                f = a[i, j] * inv
                a[i, j] = f
                for q in range(nc):
                    c = cols[q]
                    a[i, c] -= f * a[j, c]
    for i in range(n):
        cl = 0
        for c in range(i):
            if a[i, c] != 0.0:
                cl += 1
                nzl[i, cl] = c
        nzl[i, 0] = cl
        cu = 0
        for c in range(i + 1, n):
            if a[i, c] != 0.0:
                cu += 1
                nzu[i, cu] = c
        nzu[i, 0] = cu
    return True


@njit(cache=True)
def _lu_solve(lu, piv, nzl, nzu, b):
    n = lu.shape[0]
    for j in range(n):
        p = piv[j]
        if p != j:
            t = b[j]
            b[j] = b[p]
            b[p] = t
    for i in range(n):
        s = b[i]
        for q in range(1, nzl[i, 0] + 1):
            c = nzl[i, q]
            s -= lu[i, c] * b[c]
        b[i] = s
    for i in range(n - 1, -1, -1):
        s = b[i]
        for q in range(1, nzu[i, 0] + 1):
            c = nzu[i, q]
            s -= lu[i, c] * b[c]
        b[i] = s / lu[i, i]


@njit(cache=True)
def _rodas_attempt(y, f0, jac, k, h, gamma, A, C, kidx, reac, sptr, sidx, sval,
                   w, piv, nzl, nzu, ks, u, fu, ynew, rtol, atol):
    """One RODAS4 step of size h from (y, f0) with Jacobian jac; ynew <- y(t+h).

    Returns the scaled RMS error estimate, or -1.0 if the iteration matrix is singular.
    Hairer form: (I/(h*gamma) - J) k_i = f(y + sum_j a_ij k_j) + sum_j (c_ij/h) k_j.
    """
    n = y.shape[0]
    fac = 1.0 / (h * gamma)
    for i in range(n):
        for j in range(n):
            w[i, j] = -jac[i, j]
        w[i, i] += fac
    if not _lu_factor(w, piv, nzl, nzu):
        return -1.0
    inv_h = 1.0 / h
    for i in range(n):
        ks[0, i] = f0[i]
    _lu_solve(w, piv, nzl, nzu, ks[0])
    for st in range(1, 5):
        for i in range(n):
            acc = y[i]
            for j in range(st):
                acc += A[st, j] * ks[j, i]
            u[i] = acc
        _rhs_kernel(u, k, kidx, reac, sptr, sidx, sval, fu)
        for i in range(n):
            acc = fu[i]
            for j in range(st):
                acc += C[st, j] * inv_h * ks[j, i]
            ks[st, i] = acc
        _lu_solve(w, piv, nzl, nzu, ks[st])
    # stage 6 at u5 = y + sum_j a_5j k_j + k_5
    for i in range(n):
        u[i] = u[i] + ks[4, i]
    _rhs_kernel(u, k, kidx, reac, sptr, sidx, sval, fu)
    for i in range(n):
        acc = fu[i]
        for j in range(5):
            acc += C[5, j] * inv_h * ks[j, i]
        ks[5, i] = acc
    _lu_solve(w, piv, nzl, nzu, ks[5])
    err = 0.0
    for i in range(n):
        ynew[i] = u[i] + ks[5, i]  # stiffly accurate; k6 is the embedded error estimate
        sc = atol + rtol * max(abs(y[i]), abs(ynew[i]))
        e = ks[5, i] / sc
        err += e * e
    return np.sqrt(err / n)


@njit(cache=True)
def _next_h(h, err, accepted, last_rejected):
    if accepted:
        fac_h = min(6.0, max(0.2, 0.9 * max(err, 1e-10) ** (-0.25)))
        if last_rejected:
            fac_h = min(1.0, fac_h)
    else:
        fac_h = max(0.2, 0.9 * err ** (-0.25))
    return h * fac_h


@njit(cache=True)
def _hermite(th, h, y0, f0, y1, f1):
    h00 = (1.0 + 2.0 * th) * (1.0 - th) * (1.0 - th)
    h10 = th * (1.0 - th) * (1.0 - th)
    h01 = th * th * (3.0 - 2.0 * th)
    h11 = th * th * (th - 1.0)
    return h00 * y0 + h10 * h * f0 + h01 * y1 + h11 * h * f1


@njit(cache=True, inline="always")
def _rodas_work_buffers(n):
    """Work arrays of one RODAS4 integration of ``n`` species (shared by both drivers)."""
    return (
        np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty(n), np.empty((6, n)),
        np.empty((n, n)), np.empty((n, n)), np.empty(n, dtype=np.int64),
        np.empty((n, n + 1), dtype=np.int64), np.empty((n, n + 1), dtype=np.int64),
    )


@njit(cache=True)
def _solve_one(y0, k, t_out, store, rtol, atol, h_init, max_steps, out,
               kidx, reac, sptr, sidx, sval, A, C, gamma):
    """Integrate one sample from t=0; fill ``out[m, s] = y(t_out[m])[store[s]]``.

    Returns (accepted steps, rejected steps, status) with status 0 = ok, 1 = too many
    steps, 2 = singular iteration matrix.
    """
    n = y0.shape[0]
    n_out = t_out.shape[0]
    n_store = store.shape[0]
    y = y0.copy()
    ynew, f0, f1, u, fu, ks, jac, w, piv, nzl, nzu = _rodas_work_buffers(n)
    t = 0.0
    t_end = t_out[n_out - 1]
    m = 0
    while m < n_out and t_out[m] <= 0.0:
        for s in range(n_store):
            out[m, s] = y[store[s]]
        m += 1
    if m >= n_out:
        return 0, 0, 0
    _rhs_kernel(y, k, kidx, reac, sptr, sidx, sval, f0)
    _jac_kernel(y, k, kidx, reac, sptr, sidx, sval, jac)
    h = h_init
    n_acc = 0
    n_rej = 0
    last_rejected = False
    while t < t_end:
        if n_acc + n_rej >= max_steps:
            return n_acc, n_rej, 1
        if t + h > t_end:
            h = t_end - t
        err = _rodas_attempt(y, f0, jac, k, h, gamma, A, C, kidx, reac, sptr, sidx, sval,
                             w, piv, nzl, nzu, ks, u, fu, ynew, rtol, atol)
        if err < 0.0:
            return n_acc, n_rej, 2
        if err <= 1.0 or h < 1e-12:
            t_new = t + h
            _rhs_kernel(ynew, k, kidx, reac, sptr, sidx, sval, f1)
            while m < n_out and t_out[m] <= t_new:
                th = (t_out[m] - t) / h
                for s in range(n_store):
                    q = store[s]
                    out[m, s] = _hermite(th, h, y[q], f0[q], ynew[q], f1[q])
                m += 1
            t = t_new
            for i in range(n):
                y[i] = ynew[i]
                f0[i] = f1[i]
            _jac_kernel(y, k, kidx, reac, sptr, sidx, sval, jac)
            n_acc += 1
            h = _next_h(h, err, True, last_rejected)
            last_rejected = False
        else:
            n_rej += 1
            h = _next_h(h, err, False, last_rejected)
            last_rejected = True
    while m < n_out:
        for s in range(n_store):
            out[m, s] = y[store[s]]
        m += 1
    return n_acc, n_rej, 0


@njit(cache=True)
def _clot_one(y0, k, weights, threshold, t_max, rtol, atol, h_init, max_steps,
              kidx, reac, sptr, sidx, sval, A, C, gamma):
    """First time (s) at which sum_i weights[i]*y[i] reaches ``threshold``; inf if not by t_max.

    The crossing inside the accepted step is located on the cubic Hermite interpolant by
    bisection (to ~1e-12 of the step). Returns (time, status).
    """
    n = y0.shape[0]
    y = y0.copy()
    ynew, f0, f1, u, fu, ks, jac, w, piv, nzl, nzu = _rodas_work_buffers(n)
    g0 = 0.0
    for i in range(n):
        g0 += weights[i] * y[i]
    if g0 >= threshold:
        return 0.0, 0
    _rhs_kernel(y, k, kidx, reac, sptr, sidx, sval, f0)
    _jac_kernel(y, k, kidx, reac, sptr, sidx, sval, jac)
    t = 0.0
    h = h_init
    n_steps = 0
    last_rejected = False
    while t < t_max:
        if n_steps >= max_steps:
            return np.nan, 1
        n_steps += 1
        if t + h > t_max:
            h = t_max - t
        err = _rodas_attempt(y, f0, jac, k, h, gamma, A, C, kidx, reac, sptr, sidx, sval,
                             w, piv, nzl, nzu, ks, u, fu, ynew, rtol, atol)
        if err < 0.0:
            return np.nan, 2
        if err <= 1.0 or h < 1e-12:
            _rhs_kernel(ynew, k, kidx, reac, sptr, sidx, sval, f1)
            g1 = 0.0
            for i in range(n):
                g1 += weights[i] * ynew[i]
            if g1 >= threshold:
                gy0 = 0.0
                gf0 = 0.0
                gy1 = g1
                gf1 = 0.0
                for i in range(n):
                    gy0 += weights[i] * y[i]
                    gf0 += weights[i] * f0[i]
                    gf1 += weights[i] * f1[i]
                lo = 0.0
                hi = 1.0
                for _ in range(60):
                    mid = 0.5 * (lo + hi)
                    if _hermite(mid, h, gy0, gf0, gy1, gf1) >= threshold:
                        hi = mid
                    else:
                        lo = mid
                return t + hi * h, 0
            t += h
            for i in range(n):
                y[i] = ynew[i]
                f0[i] = f1[i]
            _jac_kernel(y, k, kidx, reac, sptr, sidx, sval, jac)
            h = _next_h(h, err, True, last_rejected)
            last_rejected = False
        else:
            h = _next_h(h, err, False, last_rejected)
            last_rejected = True
    return np.inf, 0


@njit(cache=True, inline="always")
def _clot_range(lo, hi, y0s, ks, weights, threshold, t_max, rtol, atol, h_init, max_steps, out, status,
                kidx, reac, sptr, sidx, sval, A, C, gamma):
    """Clot times of samples ``lo:hi`` (each sample integrates with its own work buffers)."""
    for b in range(lo, hi):
        tc, st = _clot_one(y0s[b], ks[b], weights, threshold, t_max, rtol, atol, h_init,
                           max_steps, kidx, reac, sptr, sidx, sval, A, C, gamma)
        out[b] = tc
        status[b] = st


@njit(cache=True)
def _clot_batch_serial(y0s, ks, weights, threshold, t_max, rtol, atol, h_init, max_steps, out, status,
                       kidx, reac, sptr, sidx, sval, A, C, gamma):
    _clot_range(0, y0s.shape[0], y0s, ks, weights, threshold, t_max, rtol, atol, h_init, max_steps, out,
                status, kidx, reac, sptr, sidx, sval, A, C, gamma)


@njit(cache=True, parallel=True)
def _clot_batch_parallel(y0s, ks, weights, threshold, t_max, rtol, atol, h_init, max_steps, out, status,
                         kidx, reac, sptr, sidx, sval, A, C, gamma):
    n = y0s.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _clot_range(c * n // chunks, (c + 1) * n // chunks, y0s, ks, weights, threshold, t_max, rtol, atol,
                    h_init, max_steps, out, status, kidx, reac, sptr, sidx, sval, A, C, gamma)


@njit(cache=True, inline="always")
def _solve_range(lo, hi, y0s, ks, t_out, store, rtol, atol, h_init, max_steps, out, stats,
                 kidx, reac, sptr, sidx, sval, A, C, gamma):
    """Integrate samples ``lo:hi`` (each sample with its own work buffers and step sequence)."""
    for b in range(lo, hi):
        a, r, s = _solve_one(y0s[b], ks[b], t_out, store, rtol, atol, h_init, max_steps,
                             out[b], kidx, reac, sptr, sidx, sval, A, C, gamma)
        stats[b, 0] = a
        stats[b, 1] = r
        stats[b, 2] = s


@njit(cache=True)
def _solve_batch_serial(y0s, ks, t_out, store, rtol, atol, h_init, max_steps, out, stats,
                        kidx, reac, sptr, sidx, sval, A, C, gamma):
    _solve_range(0, y0s.shape[0], y0s, ks, t_out, store, rtol, atol, h_init, max_steps, out, stats,
                 kidx, reac, sptr, sidx, sval, A, C, gamma)


@njit(cache=True, parallel=True)
def _solve_batch_parallel(y0s, ks, t_out, store, rtol, atol, h_init, max_steps, out, stats,
                          kidx, reac, sptr, sidx, sval, A, C, gamma):
    n = y0s.shape[0]
    chunks = min(n, PARALLEL_CHUNKS)
    for c in prange(chunks):
        _solve_range(c * n // chunks, (c + 1) * n // chunks, y0s, ks, t_out, store, rtol, atol, h_init,
                     max_steps, out, stats, kidx, reac, sptr, sidx, sval, A, C, gamma)


#: a batch of at least this many samples runs in parallel threads (when more than one thread
#: is set, :mod:`hemosim.sim.threads`): one sample is a whole stiff integration (about a
#: millisecond or more), so two samples already repay starting the threads
PARALLEL_MIN_SAMPLES = 2


def _solve_batch(*args) -> None:
    """:func:`_solve_range` over every sample, in parallel chunks when worth it."""
    kernel = _solve_batch_parallel if use_parallel(args[0].shape[0], PARALLEL_MIN_SAMPLES) else _solve_batch_serial
    kernel(*args)


def _clot_batch(*args) -> None:
    """:func:`_clot_range` over every sample, in parallel chunks when worth it."""
    kernel = _clot_batch_parallel if use_parallel(args[0].shape[0], PARALLEL_MIN_SAMPLES) else _clot_batch_serial
    kernel(*args)


#: Default solver tolerances (nM units). Chosen so thrombin-generation measures agree with
#: LSODA at rtol 1e-10 to well under 0.1 % (tested in tests/models/test_cascade.py).
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL_NM = 1e-10


def solve(
    y0: np.ndarray,
    k: np.ndarray,
    t_eval_s: np.ndarray,
    *,
    species: np.ndarray | list[int] | None = None,
    rtol: float = DEFAULT_RTOL,
    atol_nM: float = DEFAULT_ATOL_NM,
    max_steps: int = 200_000,
    return_stats: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Integrate a batch of samples with RODAS4 from t = 0.

    ``y0`` (n, 34) nM; ``k`` (n, 42) or (42,) nM/s units (see :func:`rate_constants_nM`);
    ``t_eval_s`` non-decreasing output times >= 0 (s). Returns ``(n, len(t_eval_s), S)``
    concentrations in nM of the ``species`` indices (all 34 by default). With
    ``return_stats`` also returns ``(n, 3)`` int: accepted steps, rejected steps, status.
    """
    y0, k = _check_batch(y0, k)
    n = y0.shape[0]
    t = np.ascontiguousarray(np.asarray(t_eval_s, dtype=np.float64).ravel())
    if t.size == 0 or np.any(t < 0) or np.any(np.diff(t) < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t_eval_s must be a non-empty, finite, non-decreasing array of times >= 0 s")
    if not (0 < rtol < 1) or not (atol_nM > 0):
        raise ValueError(f"need 0 < rtol < 1 and atol_nM > 0, got rtol={rtol!r}, atol_nM={atol_nM!r}")
    store = np.arange(N_SPECIES) if species is None else np.asarray(species, dtype=np.int64).ravel()
    if np.any(store < 0) or np.any(store >= N_SPECIES):
        raise ValueError(f"species indices must be in [0, {N_SPECIES}), got {species!r}")
    store = np.ascontiguousarray(store, dtype=np.int64)
    out = np.empty((n, t.size, store.size))
    stats = np.zeros((n, 3), dtype=np.int64)
    _solve_batch(np.ascontiguousarray(y0[:, _ORDER]), k, t, np.ascontiguousarray(_POS[store]),
                 float(rtol), float(atol_nM), 1e-4, int(max_steps), out, stats,
                 _PKIDX, _PREAC, _PSPTR, _PSIDX, _PSVAL, _A, _C, _GAMMA)
    bad = np.flatnonzero(stats[:, 2] != 0)
    if bad.size:
        raise RuntimeError(f"RODAS4 failed for samples {bad[:10].tolist()} "
                           f"(status {stats[bad[:10], 2].tolist()}: 1 = max_steps, 2 = singular)")
    return (out, stats) if return_stats else out


def _check_batch(y0: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y0 = np.ascontiguousarray(np.atleast_2d(np.asarray(y0, dtype=np.float64)))
    if y0.ndim != 2 or y0.shape[1] != N_SPECIES:
        raise ValueError(f"y0 must have shape (n, {N_SPECIES}), got {np.shape(y0)}")
    if not np.all(np.isfinite(y0)):
        raise ValueError("y0 must be finite")
    n = y0.shape[0]
    k = np.asarray(k, dtype=np.float64)
    if k.shape == (42,):
        k = np.repeat(k[None, :], n, axis=0)
    if k.shape != (n, 42):
        raise ValueError(f"k must have shape (42,) or ({n}, 42), got {k.shape}")
    return y0, np.ascontiguousarray(k)


def clot_times(
    y0: np.ndarray,
    k: np.ndarray,
    *,
    threshold_nM: float = 2.0,
    miia_weight: float = MIIA_WEIGHT,
    t_max_s: float = 1200.0,
    rtol: float = DEFAULT_RTOL,
    atol_nM: float = DEFAULT_ATOL_NM,
    max_steps: int = 200_000,
) -> np.ndarray:
    """Time (s) at which IIa + ``miia_weight`` * mIIa first reaches ``threshold_nM``.

    Integrates each sample only until the crossing (located on the dense output); samples
    that do not reach the threshold by ``t_max_s`` get ``inf``. ``y0`` (n, 34) nM, ``k``
    (n, 42) or (42,). Returns (n,) seconds.
    """
    y0, k = _check_batch(y0, k)
    if not (threshold_nM > 0 and np.isfinite(threshold_nM)):
        raise ValueError(f"threshold_nM must be finite and > 0, got {threshold_nM!r}")
    if not (t_max_s > 0 and np.isfinite(t_max_s)):
        raise ValueError(f"t_max_s must be finite and > 0, got {t_max_s!r}")
    if not (miia_weight >= 0):
        raise ValueError(f"miia_weight must be >= 0, got {miia_weight!r}")
    weights = np.zeros(N_SPECIES)
    weights[IDX_IIA] = 1.0
    weights[IDX_MIIA] = miia_weight
    n = y0.shape[0]
    out = np.empty(n)
    status = np.zeros(n, dtype=np.int64)
    _clot_batch(np.ascontiguousarray(y0[:, _ORDER]), k, np.ascontiguousarray(weights[_ORDER]),
                float(threshold_nM), float(t_max_s), float(rtol), float(atol_nM), 1e-4,
                int(max_steps), out, status, _PKIDX, _PREAC, _PSPTR, _PSIDX, _PSVAL, _A, _C, _GAMMA)
    bad = np.flatnonzero(status != 0)
    if bad.size:
        raise RuntimeError(f"RODAS4 failed for samples {bad[:10].tolist()} (status {status[bad[:10]].tolist()})")
    return out


# --------------------------------------------------------------------------------------
# Thrombin generation
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ThrombinGeneration:
    """Thrombin-generation curves and their measures for a batch of n samples.

    Curves are on ``time_s`` (M,). Measures (FACTS 5.3 definitions: first crossing by linear
    interpolation on the output grid, maximum on the grid, trapezoid area):
    ``lag_s`` time to 2 nM (nan if never reached), ``peak_nM``, ``time_to_peak_s``,
    ``etp_nM_min`` area under the curve over the simulated horizon (nM*min), each for
    ``total`` = IIa + 1.2 mIIa and ``free`` = free IIa, as (n,) arrays.
    """

    time_s: np.ndarray
    iia_nM: np.ndarray
    miia_nM: np.ndarray
    total: dict[str, np.ndarray]
    free: dict[str, np.ndarray]

    @property
    def total_nM(self) -> np.ndarray:
        """IIa + 1.2 mIIa (n, M), nM."""
        return self.iia_nM + MIIA_WEIGHT * self.miia_nM


def _first_crossing(time_s: np.ndarray, curve: np.ndarray, threshold: float) -> np.ndarray:
    above = curve >= threshold
    hit = above.any(axis=1)
    j = np.argmax(above, axis=1)
    out = np.full(curve.shape[0], np.nan)
    rows = np.flatnonzero(hit & (j > 0))
    if rows.size:
        jj = j[rows]
        c0, c1 = curve[rows, jj - 1], curve[rows, jj]
        t0, t1 = time_s[jj - 1], time_s[jj]
        out[rows] = t0 + (threshold - c0) * (t1 - t0) / (c1 - c0)
    out[hit & (j == 0)] = time_s[0]
    return out


def thrombin_metrics(time_s: np.ndarray, curve_nM: np.ndarray, lag_threshold_nM: float = 2.0) -> dict[str, np.ndarray]:
    """Lag (time to ``lag_threshold_nM``), peak, time to peak, ETP of curves (n, M)."""
    curve_nM = np.atleast_2d(curve_nM)
    jmax = np.argmax(curve_nM, axis=1)
    return {
        "lag_s": _first_crossing(time_s, curve_nM, lag_threshold_nM),
        "peak_nM": curve_nM[np.arange(curve_nM.shape[0]), jmax],
        "time_to_peak_s": time_s[jmax],
        "etp_nM_min": np.trapezoid(curve_nM, time_s, axis=1) / 60.0,
    }


def thrombin_generation(
    tf_pM: float | np.ndarray = 5.0,
    *,
    t_end_s: float = 1200.0,
    dt_s: float = 0.1,
    at_potentiation: float | np.ndarray = 1.0,
    rtol: float = DEFAULT_RTOL,
    atol_nM: float = DEFAULT_ATOL_NM,
    **levels_pct: float | np.ndarray,
) -> ThrombinGeneration:
    """Thrombin generation of a batch of plasma samples.

    ``tf_pM`` tissue factor (pM), factor levels in % of normal (keywords of
    :data:`FACTOR_LEVEL_NAMES`), ``at_potentiation`` heparin fold on antithrombin reactions;
    all scalars or (n,) arrays that broadcast together. Curves on a ``dt_s`` grid to
    ``t_end_s`` seconds.
    """
    if not (t_end_s > 0 and dt_s > 0 and dt_s <= t_end_s):
        raise ValueError(f"need 0 < dt_s <= t_end_s, got dt_s={dt_s!r}, t_end_s={t_end_s!r}")
    y0 = initial_state(tf_pM, **levels_pct)
    n = y0.shape[0]
    pot = np.asarray(at_potentiation, dtype=np.float64)
    if pot.ndim == 1 and n == 1 and pot.size > 1:
        y0 = np.repeat(y0, pot.size, axis=0)
        n = pot.size
    k = rate_constants_nM(n, at_potentiation=pot)
    time_s = np.linspace(0.0, t_end_s, int(round(t_end_s / dt_s)) + 1)
    out = solve(y0, k, time_s, species=[IDX_IIA, IDX_MIIA], rtol=rtol, atol_nM=atol_nM)
    iia, miia = out[:, :, 0], out[:, :, 1]
    return ThrombinGeneration(
        time_s=time_s,
        iia_nM=iia,
        miia_nM=miia,
        total=thrombin_metrics(time_s, iia + MIIA_WEIGHT * miia),
        free=thrombin_metrics(time_s, iia),
    )


# --------------------------------------------------------------------------------------
# Benchmark
# --------------------------------------------------------------------------------------
def benchmark(repeats: int = 10) -> dict[str, float]:
    """Measure the three performance figures of issue #5 on this machine.

    Returns ``single_curve_ms`` (one 1,200 s thrombin-generation curve at 5 pM TF, best of
    ``repeats``), ``batch256_s`` (256 samples with random factor levels, one call) and
    ``fast_assay_evals_per_s`` (table-interpolated PT/INR + aPTT evaluations per second,
    batch of 10,000). Compilation is excluded (one warm-up call each).
    """
    thrombin_generation(5.0)  # compile / load cache
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        thrombin_generation(5.0)
        best = min(best, time.perf_counter() - t0)
    rng = np.random.default_rng(0)
    n = 256
    levels = {key: rng.uniform(30.0, 150.0, n) for key in ("ii_pct", "v_pct", "vii_pct", "viii_pct",
                                                           "ix_pct", "x_pct", "at_pct")}
    tf = rng.uniform(5.0, 25.0, n)
    t0 = time.perf_counter()
    thrombin_generation(tf, **levels)
    batch_s = time.perf_counter() - t0

    from hemosim.models import clotting  # local import: clotting depends on this module

    m = 10_000
    fast_levels = {key: rng.uniform(20.0, 150.0, m) for key in ("ii_pct", "v_pct", "vii_pct",
                                                                "viii_pct", "ix_pct", "x_pct")}
    clotting.fast_assays(**fast_levels)  # load table / compile
    t0 = time.perf_counter()
    clotting.fast_assays(**fast_levels)
    fast_s = time.perf_counter() - t0
    return {
        "single_curve_ms": best * 1e3,
        "batch256_s": batch_s,
        "fast_assay_evals_per_s": m / fast_s,
    }
