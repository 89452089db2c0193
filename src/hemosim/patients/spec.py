"""User-given patients and scenarios: the schema, its validation, and conditioned draws.

``reset(options={"patient": {...}, "scenario": {...}})`` lets a user fix some or all of a
patient's covariates and random effects (and the events a tier schedules). Each env
describes what may be given with a :class:`Schema`: one :class:`Field` per key, with its
type, unit and allowed range or values. :meth:`Schema.rows` validates what the user gave
and returns a :class:`Fixed` (per-row values and a per-row "was given" mask); the
population sampler then draws everything not given **from the same per-patient random
streams** it always uses, conditioned on what was given where the population links
covariates (for example genotype frequencies by ancestry). So fixing every key to what a
seed drew reproduces that seeded patient exactly, and fixing none is the population.

Input layouts (``n`` = the env's number of patients; a single env has ``n = 1``):

* ``None`` or ``{}``: nothing fixed;
* a dict of scalars: the same values for every row;
* a dict whose values are sequences / arrays of length ``n``: row by row (``None`` in a
  row = not given, drawn from the population). Fields of kind ``"int_list"`` (for example
  missed-dose days) take one list that applies to every row; set them per row with a list
  of dicts;
* a list / tuple of ``n`` dicts (or ``None`` entries): one per row.

Keys that start with ``_`` and name a known key (Gymnasium's vector-info masks, so that a
vector env's ``info["patient"]`` can be fed back as it is) are ignored. Derived keys
(reported in ``info`` but computed from the others, for example a clearance from the
covariates and the random effect) may be given only with the value they would take: a
mismatch is an error, never silently corrected.

Nothing is coerced: a bool is not a number, an integer-valued float is not an int, a
string must be one of the listed values exactly. Every error is a ``ValueError`` naming
the key, the value and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from hemosim.sim import rng

__all__ = [
    "Field",
    "Schema",
    "Fixed",
    "rows_for_mask",
    "split_options",
    "rejection_categorical",
    "coupled_binary",
    "coupled_categorical",
    "check_derived",
]

_KINDS = ("float", "int", "bool", "choice", "int_list")


@dataclass(frozen=True)
class Field:
    """One key a user may give: its type, unit, allowed values and meaning."""

    name: str
    kind: str
    unit: str = "-"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""
    #: reported in ``info`` but computed from other keys: may be given only with its value
    derived: bool = False
    #: ``"int"`` / ``"float"`` fields: values allowed besides the range (for example ``-1`` = none)
    special: tuple[float, ...] = ()
    #: what the special values mean (for the allowed text)
    special_doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"field {self.name!r}: unknown kind {self.kind!r}; allowed {_KINDS}")

    def allowed(self) -> str:
        """What this key accepts, in words."""
        unit = "" if self.unit in ("-", "") else f" {self.unit}"
        extra = "".join(f" or {v}" for v in self.special) + (f" ({self.special_doc})" if self.special_doc else "")
        if self.kind == "float":
            return f"a real number in [{self.low:g}, {self.high:g}]{unit}{extra}"
        if self.kind == "int":
            return f"an integer in [{self.low:g}, {self.high:g}]{unit}{extra}"
        if self.kind == "int_list":
            return f"a list of distinct integers in [{self.low:g}, {self.high:g}]{unit}"
        if self.kind == "bool":
            return "True or False"
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def check(self, value: Any, where: str) -> Any:
        """The validated value (a Python scalar, a choice index, or a tuple of ints)."""
        bad = f"{where}: {self.name} = {value!r} ({type(value).__name__})"
        if self.kind == "bool":
            if isinstance(value, (bool, np.bool_)):
                return bool(value)
            raise ValueError(f"{bad} has the wrong type; allowed: {self.allowed()}")
        if self.kind == "choice":
            if isinstance(value, (str, np.str_)) and str(value) in self.choices:
                return self.choices.index(str(value))
            kind = "is not allowed" if isinstance(value, (str, np.str_)) else "has the wrong type"
            raise ValueError(f"{bad} {kind}; allowed: {self.allowed()}")
        if self.kind == "int":
            if not _is_int(value):
                raise ValueError(f"{bad} has the wrong type; allowed: {self.allowed()}")
            if not (self.low <= int(value) <= self.high or int(value) in self.special):
                raise ValueError(f"{bad} is out of range; allowed: {self.allowed()}")
            return int(value)
        if self.kind == "int_list":
            if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, (list, tuple, np.ndarray)):
                raise ValueError(f"{bad} has the wrong type; allowed: {self.allowed()}")
            items = list(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else list(value)
            for x in items:
                if not _is_int(x):
                    raise ValueError(f"{bad}: item {x!r} has the wrong type; allowed: {self.allowed()}")
                if not self.low <= int(x) <= self.high:
                    raise ValueError(f"{bad}: item {x!r} is out of range; allowed: {self.allowed()}")
            if len(set(int(x) for x in items)) != len(items):
                raise ValueError(f"{bad} repeats a value; allowed: {self.allowed()}")
            return tuple(sorted(int(x) for x in items))
        # float
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ValueError(f"{bad} has the wrong type; allowed: {self.allowed()}")
        x = float(value)
        if not math.isfinite(x):
            raise ValueError(f"{bad} is not finite; allowed: {self.allowed()}")
        if not (self.low <= x <= self.high or x in self.special):
            raise ValueError(f"{bad} is out of range; allowed: {self.allowed()}")
        return x


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


_DTYPES = {"float": np.float64, "int": np.int64, "bool": bool, "choice": np.int64, "int_list": object}


class Fixed:
    """What a user fixed for ``n`` rows: ``values[name]`` (an array) and ``given[name]`` (bool)."""

    def __init__(self, schema: "Schema", n: int) -> None:
        self.schema = schema
        self.n = n
        self.values: dict[str, np.ndarray] = {}
        self.given: dict[str, np.ndarray] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.given and bool(self.given[name].any())

    def mask(self, name: str) -> np.ndarray:
        """Rows where ``name`` was given (all False if never)."""
        g = self.given.get(name)
        return np.zeros(self.n, dtype=bool) if g is None else g

    def pick(self, name: str, drawn: np.ndarray) -> np.ndarray:
        """``drawn`` with the given rows replaced by the user's values (a new array)."""
        if name not in self:
            return drawn
        out = np.array(drawn, copy=True)
        m = self.given[name]
        out[m] = self.values[name][m].astype(out.dtype, copy=False)
        return out

    def select(self, rows: np.ndarray) -> "Fixed":
        """The same fixed values for a subset of rows (boolean mask or indices)."""
        sub = Fixed(self.schema, int(np.arange(self.n)[rows].shape[0]))
        for name in self.given:
            sub.values[name] = self.values[name][rows]
            sub.given[name] = self.given[name][rows]
        return sub

    def any(self) -> bool:
        return any(g.any() for g in self.given.values())


class Schema:
    """The keys one env accepts under ``options["patient"]`` (or ``["scenario"]``)."""

    def __init__(self, what: str, fields: Iterable[Field]) -> None:
        self.what = what
        self.fields: dict[str, Field] = {f.name: f for f in fields}

    def names(self) -> list[str]:
        return list(self.fields)

    def settable(self) -> list[str]:
        return [k for k, f in self.fields.items() if not f.derived]

    def _check_keys(self, given: Mapping[str, Any], where: str) -> dict[str, Any]:
        if not isinstance(given, Mapping):
            raise ValueError(f"{where} must be a dict (or a list of dicts, one per patient), got {type(given).__name__}")
        out = {}
        for key, value in given.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: key {key!r} is not a string; allowed keys: {self.names()}")
            if key.startswith("_") and key[1:] in self.fields:
                continue  # a Gymnasium vector-info mask
            if key not in self.fields:
                raise ValueError(f"{where}: unknown key {key!r}; allowed keys: {self.names()}")
            out[key] = value
        return out

    def rows(self, given: Any, n: int) -> Fixed:
        """Validate ``given`` (any layout of the module doc) for ``n`` rows."""
        fixed = Fixed(self, n)
        if given is None:
            return fixed
        where = f"{self.what}"
        if isinstance(given, (list, tuple)):
            if len(given) != n:
                raise ValueError(f"{where}: a list must hold one dict (or None) per patient ({n}), got {len(given)}")
            for i, row in enumerate(given):
                if row is None:
                    continue
                for key, value in self._check_keys(row, f"{where}[{i}]").items():
                    self._set(fixed, key, i, value, f"{where}[{i}]")
            return fixed
        for key, value in self._check_keys(given, where).items():
            field = self.fields[key]
            per_row = (
                field.kind != "int_list"
                and isinstance(value, (list, tuple, np.ndarray))
                and np.ndim(value) >= 1
            )
            if per_row:
                if len(value) != n:
                    raise ValueError(
                        f"{where}: {key} holds {len(value)} values; give a scalar (every patient) or one value "
                        f"per patient ({n}); allowed per value: {field.allowed()}"
                    )
                for i, v in enumerate(value):
                    if v is not None:
                        self._set(fixed, key, i, v, f"{where}[{i}]")
            elif value is not None:
                checked = field.check(value, where)
                for i in range(n):
                    self._store(fixed, key, i, checked)
        return fixed

    def _set(self, fixed: Fixed, key: str, row: int, value: Any, where: str) -> None:
        self._store(fixed, key, row, self.fields[key].check(value, where))

    def _store(self, fixed: Fixed, key: str, row: int, checked: Any) -> None:
        if key not in fixed.values:
            kind = self.fields[key].kind
            fixed.values[key] = (
                np.empty(fixed.n, dtype=object) if kind == "int_list" else np.zeros(fixed.n, dtype=_DTYPES[kind])
            )
            fixed.given[key] = np.zeros(fixed.n, dtype=bool)
        fixed.values[key][row] = checked
        fixed.given[key][row] = True

    def markdown(self) -> str:
        """The env-card table of this schema."""
        lines = ["| key | type | unit | allowed | meaning |", "|---|---|---|---|---|"]
        for f in self.fields.values():
            kind = f.kind + (" (derived: reported; if given must match)" if f.derived else "")
            allowed = f.allowed().replace("|", "/")
            lines.append(f"| `{f.name}` | {kind} | {f.unit} | {allowed} | {f.doc} |")
        return "\n".join(lines)


def split_options(options: Mapping[str, Any] | None, env: str, n: int, patient: Schema, scenario: Schema | None) -> tuple[Fixed, Fixed]:
    """Validate ``reset`` options ``{"patient": ..., "scenario": ...}`` for ``n`` rows."""
    options = {} if options is None else options
    if not isinstance(options, Mapping):
        raise ValueError(f"{env} reset options must be a dict, got {type(options).__name__}")
    allowed = ["patient"] + (["scenario"] if scenario is not None else [])
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"unknown {env} reset option(s) {unknown}; allowed options are {allowed}")
    p = patient.rows(options.get("patient"), n)
    s = scenario.rows(options.get("scenario"), n) if scenario is not None else Fixed(Schema("scenario", []), n)
    return p, s


def rows_for_mask(fixed: Fixed, mask: np.ndarray) -> Fixed:
    """The rows being reset (``mask`` over all ``n`` patients)."""
    return fixed.select(np.asarray(mask, dtype=bool))


def rejection_categorical(
    keys: np.ndarray,
    stream: int,
    prior: np.ndarray,
    likelihood: np.ndarray,
    accept: Any,
    tries: int = 32,
) -> np.ndarray:
    """Draw a category from ``prior`` conditioned on an observation, reusing the seeded draw.

    ``prior`` is ``(K,)`` (shared) or ``(N, K)``; ``likelihood`` is ``(N, K)``, the
    probability of what was fixed given each category. ``accept(cat, counter)`` returns
    ``(N,)`` bools: whether the population, drawing the category ``cat`` at counter
    ``counter`` of its own streams, would also have drawn what was fixed. Try ``counter =
    0, 1, ..., tries - 1`` (counter 0 is the seeded draw, so a patient whose fixed values
    equal what its seed drew keeps its seeded category); rows still unaccepted take the
    exact posterior by inverse CDF. Every accepted draw and the fallback are exact
    posterior draws, so the result is exactly the posterior.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    n = keys.shape[0]
    prior2 = np.broadcast_to(np.asarray(prior, dtype=np.float64), (n, np.shape(prior)[-1]))
    out = np.full(n, -1, dtype=np.int64)
    todo = np.ones(n, dtype=bool)
    for c in range(tries):
        if not todo.any():
            break
        cat = rng.categorical_from_uniform(rng.uniform(keys, stream, c), prior2)
        ok = accept(cat, c) & todo
        out[ok] = cat[ok]
        todo &= ~ok
    if todo.any():
        post = prior2[todo] * likelihood[todo]
        total = post.sum(axis=1)
        if np.any(total <= 0):
            raise ValueError("the fixed covariates are impossible in this population (posterior probability 0)")
        out[todo] = rng.categorical_from_uniform(rng.uniform(keys[todo], stream, tries), post / total[:, None])
    return out


def coupled_binary(u_prior: np.ndarray, u_accept: np.ndarray, p_prior: np.ndarray, p_post: np.ndarray) -> np.ndarray:
    """A draw of a binary covariate from its posterior ``p_post`` (P(True)), coupled to the
    prior draw ``u_prior < p_prior``: the prior draw is kept with probability
    min(1, post / prior) (``u_accept`` decides), else flipped (the maximal coupling of two
    Bernoulli laws). Exactly ``Bernoulli(p_post)``; keeps the seeded value when the fixed
    covariates make it at least as likely as the prior did."""
    x0 = u_prior < p_prior
    prior_x0 = np.where(x0, p_prior, 1.0 - p_prior)
    post_x0 = np.where(x0, p_post, 1.0 - p_post)
    keep = u_accept * prior_x0 < post_x0
    return np.where(keep, x0, ~x0)


def coupled_categorical(u_prior: np.ndarray, u_accept: np.ndarray, u_residual: np.ndarray,
                        prior: np.ndarray, post: np.ndarray) -> np.ndarray:
    """A draw from the posterior ``post`` ``(N, K)`` coupled to the prior draw from ``prior``
    (``u_prior``): the prior draw is kept with probability min(1, post / prior) of it
    (``u_accept``), else a category is drawn from the residual max(post - prior, 0)
    (``u_residual``). Exactly the posterior (the maximal coupling of two categorical laws)."""
    prior = np.asarray(prior, dtype=np.float64)
    post = np.asarray(post, dtype=np.float64)
    n = u_prior.shape[0]
    rows = np.arange(n)
    c0 = rng.categorical_from_uniform(u_prior, prior)
    keep = u_accept * prior[rows, c0] < post[rows, c0]
    resid = np.maximum(post - prior, 0.0)
    total = resid.sum(axis=1)
    resid = np.where(total[:, None] > 0, resid, post)
    c1 = rng.categorical_from_uniform(u_residual, resid / resid.sum(axis=1, keepdims=True))
    return np.where(keep, c0, c1)


def check_derived(schema: Schema, fixed: Fixed, used: Mapping[str, np.ndarray], rtol: float = 1e-9) -> None:
    """Derived keys given by the user must equal what the other keys imply."""
    for name, field in schema.fields.items():
        if not field.derived or name not in fixed:
            continue
        m = fixed.mask(name)
        want = np.asarray(used[name])[m]
        got = fixed.values[name][m]
        if field.kind == "float":
            ok = np.isclose(got.astype(float), want.astype(float), rtol=rtol, atol=1e-12)
        else:
            ok = got == want
        if not np.all(ok):
            i = int(np.flatnonzero(~ok)[0])
            shown = field.choices[int(got[i])] if field.kind == "choice" else got[i]
            implied = field.choices[int(want[i])] if field.kind == "choice" else want[i]
            raise ValueError(
                f"{schema.what}: {name} = {shown!r} is derived ({field.doc}); the other keys imply {implied!r}. "
                f"Leave it out, or give the value they imply; settable keys: {schema.settable()}"
            )
