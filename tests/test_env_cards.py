"""Generated env cards (docs/envs/*.md with the generator's marker) match the docstrings."""

from __future__ import annotations

import sys
from pathlib import Path

import gymnasium as gym
import pytest

import hemosim  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from make_env_cards import MARKER, card_name, card_text  # noqa: E402

ENV_IDS = sorted(e for e in gym.registry if e.startswith("hemosim/"))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_env_has_a_card_and_generated_cards_are_current(env_id):
    path = ROOT / "docs" / "envs" / f"{card_name(env_id)}.md"
    assert path.exists(), f"{path} missing: run python scripts/make_env_cards.py"
    text = path.read_text()
    if MARKER in text:
        assert text == card_text(env_id), f"{path} is stale: run python scripts/make_env_cards.py"
    else:  # a hand-written expansion must still carry the card's sections
        for section in ("Action Space", "Observation Space", "Rewards", "Episode End", "Vector Env"):
            assert section.lower() in text.lower(), f"{path} lacks the {section!r} section"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_card_documents_rendering_action_range_and_rl_libraries(env_id):
    """The shared section (issue #12) is in every card, generated or hand-written, verbatim."""
    from hemosim.integrations import ENV_CARD_SECTION

    text = (ROOT / "docs" / "envs" / f"{card_name(env_id)}.md").read_text()
    assert ENV_CARD_SECTION in text, "run python scripts/make_env_cards.py (or paste the section into a hand-written card)"


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_every_card_documents_its_user_patient_options(env_id):
    """Issue #20: the "Your own patient" section (keys, units, ranges from the schema the env
    validates with) is in every card, generated or hand-written, verbatim."""
    from hemosim.envs.user_cards import user_section

    text = (ROOT / "docs" / "envs" / f"{card_name(env_id)}.md").read_text()
    assert user_section(env_id) in text, "run python scripts/make_env_cards.py (or paste the section into a hand-written card)"
