"""Results files as JSON: one conversion for every calibration script's numbers.

NumPy scalars become Python numbers, tuples lists, keys strings, and non-finite floats
``null`` (JSON has no NaN; a result that is undefined, such as a rate with no patients,
reads as missing). Used by the DOAC trials, the heparin fit, the Raschke trial and the
calibration report, whose files ``hemosim reproduce --check`` compares.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["jsonable", "write_json"]


def jsonable(x: Any) -> Any:
    """``x`` with every value JSON can hold (see the module docstring)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, (np.floating, np.integer, np.bool_)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(path: str | Path, result: Any) -> None:
    """Write ``jsonable(result)`` to ``path`` (folders created) and say so."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(jsonable(result), indent=1, allow_nan=False) + "\n")
    print(f"wrote {out}")
