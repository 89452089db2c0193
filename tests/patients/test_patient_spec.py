"""The shared patient / scenario schema (``hemosim.patients.spec``, issue #20): layouts,
validation messages, and the conditioned-draw helpers (exact posterior; seeded draw kept)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st

from hemosim.patients.spec import Field, Schema, coupled_binary, rejection_categorical
from hemosim.sim import rng
from hemosim.sim.rng import patient_key

SCHEMA = Schema(
    "Test patient",
    [
        Field("age_years", "float", "years", 18.0, 95.0, doc="age"),
        Field("n", "int", "-", 1, 9, special=(-1,), special_doc="-1: none"),
        Field("flag", "bool"),
        Field("geno", "choice", choices=("AA", "AB", "BB")),
        Field("days", "int_list", "day", 0, 89),
    ],
)


def test_layouts_scalar_dict_rows_and_list():
    f = SCHEMA.rows({"age_years": 40.0, "geno": "AB"}, 3)
    assert f.mask("age_years").all() and (f.values["geno"] == 1).all() and not f.mask("flag").any()
    f = SCHEMA.rows({"age_years": [40.0, None, 50]}, 3)
    np.testing.assert_array_equal(f.mask("age_years"), [True, False, True])
    f = SCHEMA.rows([None, {"flag": True, "days": [3, 1]}, {}], 3)
    assert f.mask("flag").tolist() == [False, True, False] and f.values["days"][1] == (1, 3)
    f = SCHEMA.rows({"days": [4, 5]}, 3)  # an int_list applies to every row
    assert all(v == (4, 5) for v in f.values["days"])
    assert not SCHEMA.rows(None, 2).any()
    f = SCHEMA.rows({"age_years": np.array([30.0, 31.0]), "_age_years": np.array([True, True])}, 2)
    assert f.values["age_years"].tolist() == [30.0, 31.0]  # Gymnasium masks are ignored


@pytest.mark.parametrize(
    "given, words",
    [
        ({"agee": 3}, ["unknown key 'agee'", "age_years"]),
        ({"age_years": 120.0}, ["age_years", "out of range", "[18, 95]", "years"]),
        ({"age_years": "old"}, ["age_years", "wrong type"]),
        ({"age_years": True}, ["age_years", "wrong type"]),
        ({"age_years": float("nan")}, ["age_years", "not finite"]),
        ({"n": 2.0}, ["n", "wrong type", "integer"]),
        ({"n": 0}, ["n", "out of range", "-1: none"]),
        ({"flag": 1}, ["flag", "wrong type", "True or False"]),
        ({"geno": "BA"}, ["geno", "'BA'", "not allowed", "'AA', 'AB', 'BB'"]),
        ({"geno": 1}, ["geno", "wrong type"]),
        ({"days": [1, 1]}, ["days", "repeats"]),
        ({"days": [90]}, ["days", "out of range"]),
        ({"days": 3}, ["days", "wrong type"]),
        ({"age_years": [40.0]}, ["age_years", "holds 1 values", "one value per patient (2)"]),
        ([{}], ["one dict (or None) per patient (2)"]),
        ("age", ["must be a dict"]),
    ],
)
def test_bad_specifications_name_key_and_allowed(given, words):
    with pytest.raises(ValueError) as err:
        SCHEMA.rows(given, 2)
    for w in words:
        assert w in str(err.value), (w, str(err.value))


@given(
    key=st.sampled_from(["age_years", "n", "flag", "geno", "days", "bogus"]),
    value=st.one_of(
        st.none(), st.booleans(), st.integers(-1000, 1000), st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=5), st.lists(st.integers(-5, 100), max_size=4),
    ),
)
def test_fuzz_either_valid_or_clear_error(key, value):
    """Any value either validates (and then lies in the allowed set) or raises a ValueError
    that names the key; nothing else escapes, nothing is coerced."""
    try:
        f = SCHEMA.rows({key: value}, 1)
    except ValueError as err:
        assert key in str(err)
        return
    if value is None or (isinstance(value, list) and key != "days" and len(value) == 1 and value[0] is None):
        return
    if key in f:
        field = SCHEMA.fields[key]
        v = f.values[key][0]
        if field.kind == "float":
            assert 18.0 <= v <= 95.0 and not isinstance(value, bool)
        elif field.kind == "int":
            assert 1 <= v <= 9 or v == -1
        elif field.kind == "choice":
            assert field.choices[v] == value


def test_rejection_categorical_is_the_posterior_and_keeps_seeded_draws():
    keys = patient_key(np.arange(20000, dtype=np.uint64), 0)
    prior = np.array([0.5, 0.3, 0.2])
    p_obs = np.array([0.1, 0.5, 0.9])  # P(observation = 1 | category)

    def accept(cat, c):
        return rng.uniform(keys, 77, c) < p_obs[cat]

    like = np.broadcast_to(p_obs, (len(keys), 3))
    out = rejection_categorical(keys, 5, prior, like, accept, tries=4)
    post = prior * p_obs / (prior * p_obs).sum()
    freq = np.bincount(out, minlength=3) / len(out)
    np.testing.assert_allclose(freq, post, atol=0.012)
    seeded = rng.categorical_from_uniform(rng.uniform(keys, 5, 0), prior)
    accepted0 = accept(seeded, 0)
    np.testing.assert_array_equal(out[accepted0], seeded[accepted0])


def test_coupled_binary_is_exact_and_keeps_likely_prior_draws():
    u0 = rng.uniform(patient_key(np.arange(40000, dtype=np.uint64), 0), 1)
    u1 = rng.uniform(patient_key(np.arange(40000, dtype=np.uint64), 0), 2)
    x = coupled_binary(u0, u1, np.full(u0.shape, 0.5), np.full(u0.shape, 0.8))
    assert abs(x.mean() - 0.8) < 0.01
    assert np.all(x[u0 < 0.5])  # prior True is at least as likely a posteriori: kept
