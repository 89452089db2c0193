"""Offline datasets (``hemosim dataset``): known behaviour probabilities, importance sampling
against the simulated truth, and a Minari round trip (the datasets extra)."""

from __future__ import annotations

import numpy as np
import pytest

from hemosim.datasets import importance_sampling, record_episodes


def test_without_exploration_the_protocol_is_logged_with_probability_one():
    eps = record_episodes(epsilon=0.0, n_episodes=12, first_seed=100)
    for ep in eps:
        assert ep["observations"].shape == (21, 6) and ep["actions"].shape == (20, 2)
        assert (ep["behaviour_probability"] == 1.0).all() and ep["protocol_action_taken"].all()
    est = importance_sampling(eps)  # every weight is 1: IS is the plain mean return
    assert est["ordinary_is"] == pytest.approx(np.mean([e["rewards"].sum() for e in eps]), rel=1e-12)


def test_behaviour_probabilities_are_the_documented_mixture():
    eps = record_episodes(epsilon=0.5, n_episodes=40, first_seed=200)
    p = np.concatenate([e["behaviour_probability"] for e in eps])
    taken = np.concatenate([e["protocol_action_taken"] for e in eps])
    # the protocol's action: 1 - eps, plus eps / 6 when it happens to be one of the bins
    assert np.isin(np.round(p[taken], 12), np.round([0.5, 0.5 + 0.5 / 6], 12)).all()
    assert np.allclose(p[~taken], 0.5 / 6)  # an exploratory bin other than the protocol's action
    assert 0.4 < taken.mean() < 0.7  # P(taken) = 0.5 (+ 0.5 / 6 where the action is a bin)


def test_importance_sampling_recovers_the_protocol_value():
    """Ordinary IS is unbiased: within 3 standard errors of the protocol's simulated value
    on the same patients (1,000 episodes, epsilon 0.1)."""
    behaviour = record_episodes(epsilon=0.1, n_episodes=1000, first_seed=0)
    truth = np.mean([e["rewards"].sum() for e in record_episodes(epsilon=0.0, n_episodes=1000, first_seed=0)])
    est = importance_sampling(behaviour)
    assert abs(est["ordinary_is"] - truth) < 3 * est["ordinary_is_se"]
    assert est["behaviour_mean_return"] < truth  # exploring costs the protocol return


@pytest.mark.parametrize("kwargs, message", [
    ({"epsilon": 1.5}, "epsilon must be a number in"),
    ({"first_seed": 9990, "n_episodes": 20}, "leave the training pool"),
    ({"policy": "guess"}, "unknown behaviour policy"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        record_episodes(**kwargs)


def test_minari_round_trip(tmp_path, monkeypatch):
    minari = pytest.importorskip("minari")
    pytest.importorskip("h5py")
    from hemosim.datasets import make_dataset

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    summary = make_dataset(epsilon=0.2, n_episodes=16, first_seed=300, dataset_id="hemosim/test/raschke-eps20-v0")
    recorded = record_episodes(epsilon=0.2, n_episodes=16, first_seed=300)
    data = minari.load_dataset(summary["dataset_id"])
    assert data.total_episodes == 16 and data.total_steps == 16 * 20
    for ep, rec in zip(data.iterate_episodes(), recorded):
        assert np.array_equal(ep.observations, rec["observations"])
        assert np.array_equal(ep.actions, rec["actions"])
        assert np.allclose(ep.rewards, rec["rewards"])
        assert np.allclose(ep.infos["behaviour_probability"][1:], rec["behaviour_probability"])
