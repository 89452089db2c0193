"""The one JSON conversion of the calibration scripts' results (hand-worked cases)."""

from __future__ import annotations

import json
import math

import numpy as np

from hemosim.calibration.results_json import jsonable, write_json


def test_numpy_scalars_tuples_keys_and_non_finite_values():
    x = {1: (np.float64(0.5), np.int64(3), np.bool_(True)), "nan": np.float64(np.nan), "inf": math.inf,
         "nested": [{"a": np.float32(2.0)}]}
    out = jsonable(x)
    assert out == {"1": [0.5, 3, True], "nan": None, "inf": None, "nested": [{"a": 2.0}]}
    assert type(out["1"][1]) is int and type(out["1"][2]) is bool


def test_write_json_round_trips(tmp_path, capsys):
    path = tmp_path / "sub" / "r.json"
    write_json(path, {"rate": np.float64(1.25), "missing": float("nan")})
    assert json.loads(path.read_text()) == {"rate": 1.25, "missing": None}
    assert str(path) in capsys.readouterr().out
