"""Rendering of every registered environment through the shared faces (issue #12).

``rgb_array`` gives a ``uint8 (H, W, 3)`` clinical chart of the episode so far, ``ansi`` a
text summary; Gymnasium's ``check_env`` (which renders every declared mode) stays clean;
nothing is recorded without a render mode; a simulator without a chart of its own gets
the generic one; ``RecordVideo`` writes a video where moviepy is installed.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import hemosim  # noqa: F401
from hemosim.sim.batch import BatchedSimulator
from hemosim.sim.render import FRAME_HEIGHT_PX, FRAME_WIDTH_PX, RENDER_MODES, EpisodeHistory, default_chart, text_summary
from hemosim.sim.single import SingleEnv

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))
FRAME_SHAPE = (FRAME_HEIGHT_PX, FRAME_WIDTH_PX, 3)


def _play(env, steps: int, seed: int = 0):
    env.reset(seed=seed)
    env.action_space.seed(seed)
    for _ in range(steps):
        *_, te, tr, _ = env.step(env.action_space.sample())
        if te or tr:
            break


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_metadata_declares_modes_and_fps(env_id):
    env = gym.make(env_id)
    assert list(env.metadata["render_modes"]) == list(RENDER_MODES)
    assert env.metadata["render_fps"] > 0
    venv = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    assert list(venv.metadata["render_modes"]) == list(RENDER_MODES)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_is_a_uint8_chart_that_follows_the_episode(env_id):
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=1)
    first = env.render()
    assert isinstance(first, np.ndarray) and first.dtype == np.uint8 and first.shape == FRAME_SHAPE
    _play(env, 6, seed=1)
    later = env.render()
    assert later.shape == FRAME_SHAPE and later.dtype == np.uint8
    assert not np.array_equal(first, later)  # the chart shows the steps taken
    assert later.std() > 10  # not a blank canvas


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_ansi_is_a_text_summary(env_id):
    env = gym.make(env_id, render_mode="ansi")
    _play(env, 4, seed=2)
    text = env.render()
    assert isinstance(text, str)
    assert env_id in text and "step 4" in text
    assert len(text.splitlines()) <= 30  # one screen
    info_keys = [k for k, v in env.unwrapped._info().items() if isinstance(v, (int, float))]
    assert info_keys[0] in text


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_check_env_renders_every_mode_without_warnings(env_id):
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped)  # renders every declared mode


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_no_history_is_kept_without_a_render_mode(env_id):
    env = gym.make(env_id)
    _play(env, 3)
    assert env.unwrapped._history is None
    venv = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    venv.step(venv.action_space.sample())
    assert venv._histories is None
    with pytest.warns(UserWarning, match="without specifying any render mode"):
        assert env.render() is None


def test_an_unsupported_mode_follows_gymnasiums_convention():
    """gym.make warns (as Gymnasium does for any env); render() then warns and returns None."""
    with pytest.warns(UserWarning, match="not in the possible render_modes"):
        env = gym.make(ENV_IDS[0], render_mode="bogus", disable_env_checker=True)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="not supported"):
        assert env.render() is None
    with pytest.raises(ValueError, match="render_mode"):
        type(env.unwrapped)(render_mode=3)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_render_gives_one_frame_per_rendered_patient_and_restarts_on_autoreset(env_id):
    venv = gym.make_vec(env_id, num_envs=3, vectorization_mode="vector_entry_point", render_mode="rgb_array", render_patients=2)
    venv.reset(seed=0)
    venv.action_space.seed(0)
    frames = venv.render()
    assert isinstance(frames, tuple) and len(frames) == 2
    assert all(f.shape == FRAME_SHAPE and f.dtype == np.uint8 for f in frames)
    steps = 0
    while True:
        *_, te, tr, _ = venv.step(venv.action_space.sample())
        steps += 1
        if te[0] or tr[0]:
            break
    assert len(venv._histories[0]) == steps + 1
    venv.step(venv.action_space.sample())  # the autoreset step: a new episode starts
    assert len(venv._histories[0]) == 1
    texts = gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", render_mode="ansi")
    texts.reset(seed=0)
    out = texts.render()
    assert len(out) == 2 and all(isinstance(t, str) for t in out)


def test_render_patients_is_checked():
    with pytest.raises(ValueError, match="render_patients"):
        gym.make_vec(ENV_IDS[0], num_envs=2, vectorization_mode="vector_entry_point", render_patients=3)


def test_a_simulator_without_a_chart_of_its_own_gets_the_generic_one():
    """A future environment renders through the shared faces with no rendering code."""
    base_cls = gym.spec(ENV_IDS[0]).make().unwrapped.simulator_cls

    class PlainSimulator(base_cls):
        render_rgb = BatchedSimulator.render_rgb  # the default hook

    class PlainEnv(SingleEnv):
        simulator_cls = PlainSimulator

    env = PlainEnv(render_mode="rgb_array")
    _play(env, 5)
    frame = env.render()
    assert frame.shape == FRAME_SHAPE and frame.dtype == np.uint8


def _history_with_events() -> EpisodeHistory:
    h = EpisodeHistory()
    none = {"major_bleeding": False, "thromboembolism": False}
    h.start({"inr": 1.0, "dose_mg": 0.0, "events": none, "cost": 0.0, "patient": {"age_years": 70.0}})
    for t in range(1, 8):
        events = {"major_bleeding": t == 5, "thromboembolism": t == 3}
        h.record({"inr": 1.0 + 0.3 * t, "dose_mg": 5.0, "events": events, "cost": float(t in (3, 5))}, np.array([0.3]), 1.0)
    return h


def test_events_are_kept_and_shown():
    h = _history_with_events()
    assert h.event_steps() == {"thromboembolism": [3], "major_bleeding": [5]}
    text = text_summary(h, "test")
    assert "major bleeding at step 5" in text and "thromboembolism at step 3" in text
    with_events = default_chart(h, "test")
    plain = _history_with_events()
    for s in plain.steps:
        s.events = {k: False for k in s.events}
    assert with_events.shape == FRAME_SHAPE
    assert not np.array_equal(with_events, default_chart(plain, "test"))  # the event lines are drawn


@pytest.mark.slow
def test_record_video_writes_an_episode(tmp_path):
    pytest.importorskip("moviepy")
    from gymnasium.wrappers import RecordVideo

    env_id = "hemosim/HeparinInfusion-v0"  # 20 steps: the shortest episode
    env = RecordVideo(gym.make(env_id, render_mode="rgb_array"), str(tmp_path / "videos"), episode_trigger=lambda e: e == 0, disable_logger=True)
    _play(env, 100)
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert len(videos) == 1 and videos[0].stat().st_size > 1000
