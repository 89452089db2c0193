"""The expected results of ``hemosim reproduce`` and the check that compares them.

``results/EXPECTED_RESULTS.json`` holds every number of the results JSON files that the
README, the model cards and the env cards quote (the tables are printed from these files),
each as one entry::

    {"id": "warfarin_evaluation/policies/IWPC pharmacogenetic + titration/ttr_percent/mean",
     "value": 69.26241940009855, "tolerance": {"rel": 1e-06},
     "source_file": "results/warfarin_evaluation.json",
     "path": ["policies", "IWPC pharmacogenetic + titration", "ttr_percent", "mean"],
     "quoted_in": ["README.md", "docs/models/warfarin.md", "docs/envs/warfarin_dosing.md"]}

``quoted_in`` names the documents whose tables or text show numbers of that results file.
A path element that is an object (``{"policy": "BCSH 2009"}``) selects the item of a list
whose fields have those values (rows are found by name, not by position).

Tolerances. Seeds are fixed and every step is deterministic on one machine: running a step
twice gives the same numbers to the last bit, and another thread count or BLAS changes at
most the last digits (summation order; measured 1e-14 relative on the warfarin report).
So floats carry ``{"rel": 1e-6}`` (``{"abs": 1e-9}`` when ``|value| < 1e-3``, where a
relative bound means nothing), integers, booleans, strings and nulls are ``"exact"``. Looser
tolerances are set per source where a computation is an optimiser's output
(:data:`SOURCES`). A tolerance ``{"rel": r, "abs": a}`` passes when the difference is within
either bound.

Entries marked ``"requires": "train"`` (leaderboard rows of agents saved by ``hemosim
train``) can only be regenerated with the ``train`` extra (torch, Stable-Baselines3);
without it the check skips them with a note instead of failing.

``hemosim reproduce --check`` runs the steps and then :func:`check`; ``--check-only``
compares the results already on disk; ``--write-expected`` (maintainers, after an
intentional model change) rewrites the expected file from the results on disk.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

__all__ = [
    "EXPECTED_PATH",
    "SOURCES",
    "Source",
    "CheckReport",
    "extract",
    "check",
    "load_expected",
    "write_expected",
    "within",
    "resolve",
]

#: The stored expected values, relative to the repository root.
EXPECTED_PATH = "results/EXPECTED_RESULTS.json"

#: Default tolerance of a float (relative) and of a float near zero (absolute).
FLOAT_REL = 1e-6
FLOAT_ABS_NEAR_ZERO = 1e-9

#: Keys never compared: wall-clock times, provenance text, literature constants copied into
#: the results (``published*``; they are data, checked by the calibration tests).
EXCLUDED_KEYS = frozenset({
    "seconds", "train_seconds", "fit_history", "command", "ttr_definition", "source", "tag", "unit",
    "role", "versions", "seeds", "curve",
})
EXCLUDED_PREFIXES = ("published", "iwpc_observed")

#: Fields that name the items of a list of rows (joined with "|" in an id).
NAME_FIELDS = ("policy", "name", "target", "cause", "trial", "trial_key", "arm", "arms", "endpoint", "stratum", "ratio",
               "drug", "dose_mg", "level", "crcl_ml_per_min", "band", "a", "b")

_AGENT_ROW = re.compile(r"\[([^\]]+)\]$")


@dataclass(frozen=True)
class Source:
    """One results JSON file written by one reproduce step.

    ``tolerances``: (key pattern, tolerance) pairs; the first pattern found anywhere in an
    entry's path (as ``/``-joined text, ``re.search``) sets its float tolerance.
    ``string_keys``: keys whose string values are compared (formatted numbers)."""

    step: str
    file: str
    quoted_in: tuple[str, ...]
    tolerances: tuple[tuple[str, dict[str, float]], ...] = ()
    string_keys: frozenset[str] = field(default_factory=frozenset)


#: Every results file the README and the model / env cards quote.
SOURCES: tuple[Source, ...] = (
    Source("warfarin_population", "results/warfarin_population.json", ("README.md", "docs/models/warfarin.md")),
    Source("warfarin_evaluation", "results/warfarin_evaluation.json",
           ("README.md", "docs/models/warfarin.md", "docs/envs/warfarin_dosing.md")),
    # the fit is re-run (SLSQP and lattice searches): its parameters may move in late digits
    Source("heparin_fit", "results/heparin_fit.json", ("README.md", "docs/models/heparin.md"),
           tolerances=((r"^parameters/", {"rel": 1e-4}),)),
    Source("raschke_trial", "results/raschke_trial.json",
           ("README.md", "docs/models/heparin.md", "docs/envs/heparin_infusion_pomdp.md")),
    Source("heparin_pomdp", "results/heparin_pomdp/heparin_pomdp.json",
           ("README.md", "docs/envs/heparin_infusion_pomdp.md"), string_keys=frozenset({"events"})),
    Source("doac_trials", "results/doac_trials/doac_trials.json", ("README.md", "docs/models/doac.md")),
    Source("clinical_events", "results/clinical_events.json", ("README.md", "docs/envs/heparin_infusion.md")),
    Source("safety_layer", "results/safety_layer.json", ("README.md",)),
    Source("doac_evaluation", "results/doac_evaluation.json", ("README.md", "docs/envs/doac_management.md")),
    Source("dic_trials", "results/dic_trials.json",
           ("README.md", "docs/models/dic.md", "docs/envs/dic_management.md")),
    # trained agents: torch inference may differ in late digits across versions
    Source("leaderboard", "results/leaderboard.json", ("README.md",),
           tolerances=((r"\[[^\]]+\]", {"rel": 1e-4}),)),
    # every model's published targets: simulated values, residuals, pass / miss and the counts
    Source("calibration_report", "results/calibration_report.json", ("README.md", "docs/methods.md")),
)


def default_tolerance(value: Any) -> str | dict[str, float]:
    """``"exact"`` for integers, booleans, strings and nulls; a float bound otherwise."""
    if isinstance(value, float):
        return {"abs": FLOAT_ABS_NEAR_ZERO} if abs(value) < 1e-3 else {"rel": FLOAT_REL}
    return "exact"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def within(expected: Any, got: Any, tolerance: str | dict[str, float]) -> bool:
    """Whether ``got`` matches ``expected`` under ``tolerance`` (``"exact"`` or a dict of
    ``rel`` and / or ``abs``). A float NaN / null only matches itself."""
    if tolerance == "exact" or not _is_number(expected):
        if _is_number(expected) and _is_number(got):
            return expected == got
        return type(expected) is type(got) and expected == got
    if not isinstance(tolerance, dict) or not set(tolerance) <= {"rel", "abs"} or not tolerance:
        raise ValueError(f"tolerance must be 'exact' or a dict of 'rel' / 'abs', got {tolerance!r}")
    if not _is_number(got) or math.isnan(got):
        return False
    diff = abs(float(got) - float(expected))
    bound = max(tolerance.get("rel", 0.0) * abs(float(expected)), tolerance.get("abs", 0.0))
    return diff <= bound


def _name_of_items(items: list) -> list[dict[str, Any]] | None:
    """The naming fields of each row of a list of dicts, or None when they do not name
    every row uniquely (then rows are addressed by position)."""
    if not items or not all(isinstance(x, dict) for x in items):
        return None
    names = [{f: x[f] for f in NAME_FIELDS if f in x and _is_name(x[f])} for x in items]
    keys = [json.dumps(n, sort_keys=True) for n in names]
    if any(not n for n in names) or len(set(keys)) != len(keys):
        return None
    return names


def _is_name(value: Any) -> bool:
    if isinstance(value, list):
        return bool(value) and all(isinstance(v, str) for v in value)
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _element_text(element: Any) -> str:
    if isinstance(element, dict):
        return "|".join("+".join(v) if isinstance(v, list) else str(v) for v in element.values())
    return str(element)


def _walk(node: Any, path: list, source: Source) -> Iterator[tuple[list, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in EXCLUDED_KEYS or key.startswith(EXCLUDED_PREFIXES):
                continue
            if isinstance(value, str) and key not in source.string_keys:
                continue
            yield from _walk(value, path + [key], source)
    elif isinstance(node, list):
        names = _name_of_items(node)
        for i, item in enumerate(node):
            if names is not None:
                item = {k: v for k, v in item.items() if k not in names[i]}
                yield from _walk(item, path + [names[i]], source)
            else:
                yield from _walk(item, path + [i], source)
    elif node is None or isinstance(node, (bool, int, float, str)):
        yield path, node


def _tolerance(source: Source, path: list, value: Any) -> str | dict[str, float]:
    text = "/".join(_element_text(e) for e in path)
    if isinstance(value, float):
        for pattern, tol in source.tolerances:
            if re.search(pattern, text):
                return dict(tol)
    return default_tolerance(value)


def _requires(source: Source, path: list, root: Path) -> str | None:
    """``"train"`` for a leaderboard row of an agent saved by ``hemosim train``."""
    if source.step != "leaderboard" or len(path) < 3 or path[1] != "rows":
        return None
    match = _AGENT_ROW.search(str(path[2]))
    if match and (root / "results" / "agents" / f"{match.group(1)}.json").exists():
        return "train"
    return None


def extract(root: Path | str = ".", steps: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Expected-style entries (by id) read from the results files under ``root``.

    A results file that does not exist gives no entries (the check reports them missing)."""
    root = Path(root)
    entries: dict[str, dict[str, Any]] = {}
    for source in SOURCES:
        if steps is not None and source.step not in steps:
            continue
        path = root / source.file
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        for keys, value in _walk(data, [], source):
            entry_id = "/".join([source.step] + [_element_text(k) for k in keys])
            entry = {
                "id": entry_id,
                "value": value,
                "tolerance": _tolerance(source, keys, value),
                "source_file": source.file,
                "path": keys,
                "quoted_in": list(source.quoted_in),
            }
            requires = _requires(source, keys, root)
            if requires:
                entry["requires"] = requires
            if entry_id in entries:
                raise ValueError(f"two values of {source.file} share the id {entry_id!r}")
            entries[entry_id] = entry
    return entries


_MISSING = object()


def resolve(data: Any, path: list) -> Any:
    """The value at ``path`` in a results JSON (see the module docstring); ``KeyError``
    naming the first element not found."""
    node = data
    for element in path:
        if isinstance(element, dict):
            if not isinstance(node, list):
                raise KeyError(element)
            match = [x for x in node if isinstance(x, dict) and all(x.get(k, _MISSING) == v for k, v in element.items())]
            if len(match) != 1:
                raise KeyError(element)
            node = match[0]
        elif isinstance(element, int) and isinstance(node, list):
            if not -len(node) <= element < len(node):
                raise KeyError(element)
            node = node[element]
        elif isinstance(node, dict) and element in node:
            node = node[element]
        else:
            raise KeyError(element)
    return node


def _extra_installed(extra: str) -> bool:
    if extra == "train":
        from hemosim.training import train_extra_installed

        return train_extra_installed()
    raise ValueError(f"unknown extra {extra!r}; known: 'train'")


def load_expected(path: Path | str) -> list[dict[str, Any]]:
    """The entries of an expected-results file, checked for the fields each must have."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `hemosim reproduce --write-expected` from the repository root")
    data = json.loads(path.read_text())
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected an object with a list 'entries'")
    required = {"id", "value", "tolerance", "source_file", "path", "quoted_in"}
    for e in entries:
        missing = required - set(e)
        if missing:
            raise ValueError(f"{path}: entry {e.get('id', e)!r} lacks {sorted(missing)}")
        tol = e["tolerance"]
        if tol != "exact" and not (isinstance(tol, dict) and tol and set(tol) <= {"rel", "abs"}
                                   and all(_is_number(v) and v >= 0 for v in tol.values())):
            raise ValueError(f"{path}: entry {e['id']!r} has tolerance {tol!r}; allowed: \"exact\", "
                             "{\"rel\": r} and / or {\"abs\": a} with r, a >= 0")
    return entries


@dataclass
class CheckReport:
    """What :func:`check` found: ``misses`` are lines naming the id, the expected value,
    what the results gave and the tolerance."""

    compared: int = 0
    misses: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    new_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.misses

    def lines(self, max_new: int = 10) -> list[str]:
        out = [f"MISS {m}" for m in self.misses]
        out += [f"SKIP {s}" for s in self.skipped]
        if self.new_ids:
            out.append(f"note: {len(self.new_ids)} value(s) in the results are not in the expected file "
                       f"(`hemosim reproduce --write-expected` adds them), e.g. {self.new_ids[:max_new]}")
        out.append(f"check: {self.compared} values compared, {len(self.misses)} missed, {len(self.skipped)} skipped"
                   + (" -- OK" if self.ok else " -- FAILED"))
        return out


def check(root: Path | str = ".", expected_path: Path | str | None = None, steps: list[str] | None = None) -> CheckReport:
    """Compare the results files under ``root`` with the expected entries (of ``steps``, or all)."""
    root = Path(root)
    entries = load_expected(expected_path if expected_path is not None else root / EXPECTED_PATH)
    step_of = {s.file: s.step for s in SOURCES}
    report = CheckReport()
    cache: dict[str, Any] = {}
    seen: set[str] = set()
    for e in entries:
        step = step_of.get(e["source_file"], e["id"].split("/", 1)[0])
        if steps is not None and step not in steps:
            continue
        seen.add(e["id"])
        tol = e["tolerance"]
        if e["source_file"] not in cache:
            f = root / e["source_file"]
            cache[e["source_file"]] = json.loads(f.read_text()) if f.exists() else _MISSING
        data = cache[e["source_file"]]
        try:
            got = _MISSING if data is _MISSING else resolve(data, e["path"])
        except KeyError:
            got = _MISSING
        if got is _MISSING and e.get("requires") and not _extra_installed(e["requires"]):
            report.skipped.append(f"{e['id']}: needs the '{e['requires']}' extra (pip install 'hemosim[{e['requires']}]'), "
                                  "not installed")
            continue
        report.compared += 1
        if got is _MISSING:
            where = "file missing" if data is _MISSING else "not in the file"
            report.misses.append(f"{e['id']}: expected {e['value']!r}, got nothing ({e['source_file']}: {where}), "
                                 f"tolerance {tol}")
        elif not within(e["value"], got, tol):
            report.misses.append(f"{e['id']}: expected {e['value']!r}, got {got!r}, tolerance {tol}")
    current = extract(root, steps)
    report.new_ids = sorted(set(current) - seen)
    return report


def write_expected(root: Path | str = ".", expected_path: Path | str | None = None,
                   steps: list[str] | None = None) -> int:
    """Rewrite the expected file from the results under ``root`` (only ``steps``' entries when
    given, the others kept); entries that need a missing extra are kept as they were.
    Returns the number of entries written."""
    root = Path(root)
    path = Path(expected_path) if expected_path is not None else root / EXPECTED_PATH
    old = load_expected(path) if path.exists() else []
    new = extract(root, steps)
    step_of = {s.file: s.step for s in SOURCES}
    kept = []
    for e in old:
        step = step_of.get(e["source_file"], "")
        if e["id"] in new:
            continue
        if steps is not None and step not in steps:
            kept.append(e)
        elif e.get("requires") and not _extra_installed(e["requires"]):
            kept.append(e)
    order = {s.step: i for i, s in enumerate(SOURCES)}
    entries = kept + list(new.values())
    entries.sort(key=lambda e: order.get(step_of.get(e["source_file"], ""), len(order)))
    header = {
        "about": "Every number of the results files that README.md and the model / env cards quote, with a "
                 "tolerance each; `hemosim reproduce --check` regenerates and compares them "
                 "(hemosim.expected). Rewrite only after an intentional model change: "
                 "`hemosim reproduce --write-expected`.",
        "tolerances": f"floats rel {FLOAT_REL} (abs {FLOAT_ABS_NEAR_ZERO} when |value| < 1e-3) unless a source sets "
                      "another; integers, booleans, strings and nulls exact",
    }
    lines = ["{"] + [f" {json.dumps(k)}: {json.dumps(v)}," for k, v in header.items()] + [' "entries": [']
    lines += [f"  {json.dumps(e, ensure_ascii=False)}," for e in entries]
    if entries:
        lines[-1] = lines[-1].rstrip(",")
    lines += [" ]", "}"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return len(entries)
