"""Counter-based per-patient random numbers (``hemosim.sim.rng``).

Unit tests (determinism, exact block/column identity, distinct streams/counters/keys),
statistical checks on 200,000 draws (tolerances of several standard errors, so a
correct generator fails with negligible probability and a biased one fails), and
hypothesis properties (a key's draws do not depend on its batch).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hemosim.sim import rng

N_DRAWS = 200_000
KEYS = rng.patient_key(np.arange(N_DRAWS, dtype=np.uint64), 0)

u64 = st.integers(min_value=0, max_value=2**64 - 1)


# -- unit ---------------------------------------------------------------------------------
def test_same_inputs_same_draws():
    keys = rng.patient_key(np.arange(50), 3)
    np.testing.assert_array_equal(rng.uniform(keys, 7, 11), rng.uniform(keys, 7, 11))
    np.testing.assert_array_equal(rng.normal(keys, 7, 11), rng.normal(keys, 7, 11))
    np.testing.assert_array_equal(
        rng.categorical(keys, 7, np.array([0.2, 0.3, 0.5]), 11),
        rng.categorical(keys, 7, np.array([0.2, 0.3, 0.5]), 11),
    )
    # a fresh computation of the key gives the same draws (no hidden state anywhere)
    np.testing.assert_array_equal(rng.uniform(rng.patient_key(np.arange(50), 3), 7, 11), rng.uniform(keys, 7, 11))


def test_uniform_block_columns_equal_uniform_exactly():
    keys = KEYS[:1000]
    streams = np.array([1, 2, 3, 20, 1_000_003, 1_000_004, 205])
    block = rng.uniform_block(keys, streams)
    assert block.shape == (1000, len(streams))
    for j, s in enumerate(streams):
        np.testing.assert_array_equal(block[:, j], rng.uniform(keys, int(s)))
    # with a per-patient counter too
    counters = np.arange(1000) % 90
    block = rng.uniform_block(keys, streams, counters)
    for j, s in enumerate(streams):
        np.testing.assert_array_equal(block[:, j], rng.uniform(keys, int(s), counters))


def test_normal_equals_box_muller_of_its_two_streams():
    keys = KEYS[:500]
    s1, s2 = rng.normal_streams(25)
    np.testing.assert_array_equal(
        rng.normal(keys, 25, 4), rng.normal_from_uniforms(rng.uniform(keys, s1, 4), rng.uniform(keys, s2, 4))
    )


def test_different_streams_counters_keys_give_different_values():
    keys = KEYS[:10_000]
    base = rng.uniform(keys, 5, 0)
    assert np.mean(rng.uniform(keys, 6, 0) == base) == 0.0
    assert np.mean(rng.uniform(keys, 5, 1) == base) == 0.0
    assert np.mean(rng.uniform(rng.patient_key(np.arange(10_000), 1), 5, 0) == base) == 0.0
    # no two keys share a draw (53-bit uniforms: collisions in 10^4 have probability ~1e-8)
    assert np.unique(base).size == base.size
    # and consecutive counters are not correlated
    days = rng.uniform(keys, 5, np.arange(1, 10_001))
    assert abs(np.corrcoef(base, days)[0, 1]) < 4 / np.sqrt(10_000)


def test_patient_key_differs_across_seed_and_episode():
    seeds = np.arange(1000)
    k0 = rng.patient_key(seeds, 0)
    k1 = rng.patient_key(seeds, 1)
    assert k0.dtype == np.uint64
    assert np.unique(k0).size == 1000 and np.unique(k1).size == 1000
    # one seed, many episodes (a single env reset again and again)
    assert np.unique(rng.patient_key(np.full(1000, 12345), np.arange(1000))).size == 1000
    # the held-out pool (seeds 100000-100999, DESIGN.md) and the training pool share no key at episode 0
    assert np.intersect1d(rng.patient_key(np.arange(100_000, 101_000), 0), rng.patient_key(np.arange(10_000), 0)).size == 0


def test_patient_key_has_no_collisions_on_a_seed_episode_grid():
    assert rng.patient_key(np.array([3]), 5)[0] != rng.patient_key(np.array([5]), 3)[0]
    assert rng.patient_key(np.array([0]), 0)[0] != rng.patient_key(np.array([1]), 1)[0]
    assert rng.patient_key(np.array([0]), 100_000)[0] != rng.patient_key(np.array([100_000]), 0)[0]
    grid = rng.patient_key(np.repeat(np.arange(100), 100), np.tile(np.arange(100), 100))
    assert np.unique(grid).size == 10_000


def test_keys_must_be_integers():
    with pytest.raises(TypeError, match="integers"):
        rng.uniform(np.array([0.5]), 1)


# -- distributions ------------------------------------------------------------------------
def test_uniform_open_interval_mean_and_variance():
    u = rng.uniform(KEYS, 3, 0)
    assert np.all(u > 0.0) and np.all(u < 1.0)
    se_mean = np.sqrt(1 / 12 / N_DRAWS)  # 6.5e-4
    assert abs(u.mean() - 0.5) < 5 * se_mean
    se_var = np.sqrt((1 / 80 - 1 / 144) / N_DRAWS)  # Var((U - 1/2)^2) = 1/80 - 1/144
    assert abs(u.var() - 1 / 12) < 5 * se_var
    # 20 equal bins: Pearson chi-square with 19 df; 60 is far beyond the 99.99th percentile (~45)
    counts = np.bincount((u * 20).astype(int), minlength=20)
    chi2 = np.sum((counts - N_DRAWS / 20) ** 2 / (N_DRAWS / 20))
    assert chi2 < 60


_MASK64 = 2**64 - 1


def _unxorshift(y: int, shift: int) -> int:
    x = y
    for _ in range(64 // shift + 1):
        x = y ^ (x >> shift)
    return x


def _unmix(z: int) -> int:
    """Inverse of the SplitMix64 finaliser ``rng._mix`` (it is a bijection on uint64)."""
    z = _unxorshift(z, 31)
    z = (z * pow(0x94D049BB133111EB, -1, 2**64)) & _MASK64
    z = _unxorshift(z, 27)
    z = (z * pow(0xBF58476D1CE4E5B9, -1, 2**64)) & _MASK64
    z = _unxorshift(z, 30)
    return (z - 0x9E3779B97F4A7C15) & _MASK64


def _mix_int(z: int) -> int:
    return int(rng.hash_u64(np.array([z], dtype=np.uint64))[0])


def _key_with_bits(bits: int, stream: int, counter: int) -> int:
    """A key whose ``hash_u64(key, stream, counter)`` equals ``bits`` (inverting the hash:
    each part is folded in as ``h = mix((h * M2) ^ mix(part))``)."""
    inv_m2 = pow(0x94D049BB133111EB, -1, 2**64)
    h2 = ((_unmix(bits) ^ _mix_int(counter)) * inv_m2) & _MASK64
    h1 = ((_unmix(h2) ^ _mix_int(stream)) * inv_m2) & _MASK64
    return _unmix(h1)


def test_hash_inversion_helper_is_right():
    key = _key_with_bits(0x0123456789ABCDEF, 7, 3)
    assert int(rng.hash_u64(np.array([key], dtype=np.uint64), 7, 3)[0]) == 0x0123456789ABCDEF


def test_smallest_uniform_is_strictly_positive():
    key = np.array([_key_with_bits(0, 7, 3)], dtype=np.uint64)
    u = rng.uniform(key, 7, 3)[0]
    assert 0.0 < u < 1e-15


def test_largest_uniform_is_strictly_below_one():
    key = np.array([_key_with_bits(_MASK64, 7, 3)], dtype=np.uint64)
    assert rng.uniform(key, 7, 3)[0] < 1.0


def test_normal_mean_zero_sd_one():
    z = rng.normal(KEYS, 9, 2)
    assert np.all(np.isfinite(z))
    assert abs(z.mean()) < 5 / np.sqrt(N_DRAWS)
    assert abs(z.std() - 1.0) < 5 * np.sqrt(0.5 / N_DRAWS)
    # tails: P(|Z| > 1.96) = 0.05
    tail = np.mean(np.abs(z) > 1.959964)
    assert abs(tail - 0.05) < 5 * np.sqrt(0.05 * 0.95 / N_DRAWS)


def test_bernoulli_rate():
    b = rng.bernoulli(KEYS, 12, 0.188)
    assert b.dtype == bool
    assert abs(b.mean() - 0.188) < 5 * np.sqrt(0.188 * 0.812 / N_DRAWS)
    # per-patient probabilities
    p = np.where(np.arange(N_DRAWS) % 2 == 0, 0.1, 0.9)
    b = rng.bernoulli(KEYS, 12, p)
    assert abs(b[::2].mean() - 0.1) < 0.01 and abs(b[1::2].mean() - 0.9) < 0.01


@pytest.mark.parametrize("probs", [[0.2, 0.3, 0.5], [0.735, 0.126, 0.093, 0.009, 0.013, 0.004], [0.0, 1.0, 0.0]])
def test_categorical_frequencies_match_probabilities(probs):
    probs = np.asarray(probs)
    idx = rng.categorical(KEYS, 4, probs)
    assert idx.min() >= 0 and idx.max() < len(probs)
    counts = np.bincount(idx, minlength=len(probs))
    assert np.all(counts[probs == 0] == 0)
    expected = N_DRAWS * probs / probs.sum()  # unnormalised weights are allowed
    nz = probs > 0
    chi2 = np.sum((counts[nz] - expected[nz]) ** 2 / expected[nz])
    # df <= 5; 30 is beyond the 99.99th percentile of chi-square(5) (~25.7)
    assert chi2 < 30


def test_categorical_per_patient_probabilities():
    n = 100_000
    probs = np.where((np.arange(n) % 2 == 0)[:, None], [0.7, 0.2, 0.1], [0.1, 0.2, 0.7])
    idx = rng.categorical(KEYS[:n], 4, probs)
    np.testing.assert_allclose(np.bincount(idx[::2], minlength=3) / (n / 2), [0.7, 0.2, 0.1], atol=0.01)
    np.testing.assert_allclose(np.bincount(idx[1::2], minlength=3) / (n / 2), [0.1, 0.2, 0.7], atol=0.01)
    # the shared-probability path and the per-patient path agree on the same uniforms
    shared = rng.categorical(KEYS[:n], 4, np.array([0.7, 0.2, 0.1]))
    np.testing.assert_array_equal(shared[::2], idx[::2])


def test_unnormalised_categorical_probabilities_are_normalised():
    a = rng.categorical(KEYS[:1000], 4, np.array([2.0, 3.0, 5.0]))
    b = rng.categorical(KEYS[:1000], 4, np.array([0.2, 0.3, 0.5]))
    np.testing.assert_array_equal(a, b)


# -- properties ---------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(u64, min_size=1, max_size=20),
    others=st.lists(u64, min_size=0, max_size=20),
    stream=st.integers(0, 2**20),
    counter=st.integers(0, 10_000),
    position=st.integers(0, 20),
)
def test_draws_do_not_depend_on_the_batch(keys, others, stream, counter, position):
    keys = np.asarray(keys, dtype=np.uint64)
    others = np.asarray(others, dtype=np.uint64)
    pos = min(position, others.size)
    batch = np.concatenate([others[:pos], keys, others[pos:]])
    sl = slice(pos, pos + keys.size)
    alone_u = rng.uniform(keys, stream, counter)
    np.testing.assert_array_equal(rng.uniform(batch, stream, counter)[sl], alone_u)
    np.testing.assert_array_equal(rng.normal(batch, stream, counter)[sl], rng.normal(keys, stream, counter))
    probs = np.array([0.1, 0.6, 0.3])
    np.testing.assert_array_equal(
        rng.categorical(batch, stream, probs, counter)[sl], rng.categorical(keys, stream, probs, counter)
    )
    block_batch = rng.uniform_block(batch, np.array([stream, stream + 1]), counter)
    np.testing.assert_array_equal(block_batch[sl, 0], alone_u)
    # one key alone (N = 1) equals its row in the batch
    for i, k in enumerate(keys):
        assert rng.uniform(np.array([k], dtype=np.uint64), stream, counter)[0] == alone_u[i]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**62), episode=st.integers(0, 10_000))
def test_patient_key_is_a_pure_function(seed, episode):
    a = rng.patient_key(np.array([seed]), episode)
    b = rng.patient_key(np.array([seed, seed + 1]), np.array([episode, episode]))
    assert a[0] == b[0]
    assert b[0] != b[1]
    assert rng.patient_key(np.array([seed]), episode + 1)[0] != a[0]


# -- the compiled fast path equals the NumPy reference bit for bit --------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(u64, min_size=1, max_size=40), st.integers(min_value=-(2**40), max_value=2**40),
       st.one_of(st.integers(min_value=-(2**31), max_value=2**31), st.just("per-row")))
def test_compiled_uniform_equals_the_numpy_reference(keys, stream, counter):
    keys = np.array(keys, dtype=np.uint64)
    counter = np.arange(len(keys), dtype=np.int64) * 3 - 5 if counter == "per-row" else counter
    np.testing.assert_array_equal(rng.uniform(keys, stream, counter), rng._uniform_numpy(keys, stream, counter))
    streams = np.array([stream, stream + 1, 1_000_003], dtype=np.int64)
    c = np.asarray(counter)
    ref = rng._uniform_numpy(keys[:, None], streams[None, :], c[:, None] if c.ndim == 1 else c)
    np.testing.assert_array_equal(rng.uniform_block(keys, streams, counter), ref)


def test_uniform_with_broadcast_shapes_takes_the_reference_path():
    """Shapes the compiled loop does not cover (2-D keys, a stream array) still broadcast."""
    keys = KEYS[:6]
    two_d = rng.uniform(keys[:, None], 4, np.arange(3)[None, :])
    assert two_d.shape == (6, 3)
    np.testing.assert_array_equal(two_d[:, 2], rng.uniform(keys, 4, 2))
    np.testing.assert_array_equal(rng.uniform(keys, np.arange(6), 0)[5], rng.uniform(keys[5:], 5, 0)[0])
    with pytest.raises(TypeError, match="integers"):
        rng.uniform(keys, 1, np.array([0.5] * 6))


def test_stream_draws_equal_the_stream_by_stream_draws():
    keys = rng.patient_key(np.uint64(3), np.arange(257))
    counter = np.arange(257) % 5
    draws = rng.StreamDraws(keys, (11, 12, 4000), (7, 21), counter)
    for s in (11, 12, 4000):
        assert np.array_equal(draws.uniform(s), rng.uniform(keys, s, counter))
    for s in (7, 21):
        assert np.array_equal(draws.normal(s), rng.normal(keys, s, counter))
    with pytest.raises(KeyError, match="stream 13 was not drawn"):
        draws.uniform(13)
