"""The silent-deployment protocol (docs/protocol/): SPIRIT 2013 checklist, anchors, summary.

The expected item list is the published SPIRIT 2013 checklist (Chan AW et al., Ann Intern
Med 2013;158:200-207, Table / Figure "SPIRIT 2013 checklist"; explanation and elaboration
BMJ 2013;346:e7586): 33 numbered items, 51 rows with their lettered sub-items. The
SPIRIT-AI list is Cruz Rivera et al., Nat Med 2020;26:1351-1363 (15 new items).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL_DIR = ROOT / "docs" / "protocol"
PROTOCOL = PROTOCOL_DIR / "protocol.md"
CHECKLIST = PROTOCOL_DIR / "spirit_checklist.md"
SUMMARY = PROTOCOL_DIR / "summary.md"

# SPIRIT 2013, in checklist order (Chan 2013, Ann Intern Med 158:200, checklist table).
SPIRIT_2013_ITEMS = [
    "1", "2a", "2b", "3", "4", "5a", "5b", "5c", "5d",
    "6a", "6b", "7", "8",
    "9", "10", "11a", "11b", "11c", "11d", "12", "13", "14", "15",
    "16a", "16b", "16c", "17a", "17b",
    "18a", "18b", "19", "20a", "20b", "20c",
    "21a", "21b", "22", "23",
    "24", "25", "26a", "26b", "27", "28", "29", "30", "31a", "31b", "31c",
    "32", "33",
]

# SPIRIT-AI (Cruz Rivera 2020, Nat Med 26:1351, Table 1), in checklist order.
SPIRIT_AI_ITEMS = [
    "1(i)", "1(ii)", "6a(i)", "6a(ii)", "9", "10(i)", "10(ii)",
    "11a(i)", "11a(ii)", "11a(iii)", "11a(iv)", "11a(v)", "11a(vi)", "22", "29",
]

#: "one page": the issue asks for a one-page summary; about 450 words fill an A4 page
#: of body text at 11 pt.
SUMMARY_MAX_WORDS = 450

_LINK = re.compile(r"\]\(([^)\s]*)\)")
_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')


def _section(text: str, start: str, end: str | None) -> str:
    i = text.index(start)
    j = text.index(end, i) if end is not None else len(text)
    return text[i:j]


def _rows(section: str) -> list[list[str]]:
    """Cells of every table row whose first cell is not the header or the rule line."""
    rows = []
    for line in section.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("Item", "#", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append(cells)
    return rows


def _spirit_rows() -> list[list[str]]:
    text = CHECKLIST.read_text(encoding="utf-8")
    return _rows(_section(text, "## SPIRIT 2013", "## SPIRIT-AI"))


def _ai_rows() -> list[list[str]]:
    text = CHECKLIST.read_text(encoding="utf-8")
    return _rows(_section(text, "## SPIRIT-AI", "## Notes"))


def _anchors() -> set[str]:
    return set(_ANCHOR.findall(PROTOCOL.read_text(encoding="utf-8")))


def test_expected_list_is_the_33_item_checklist():
    numbers = {int(re.match(r"\d+", item).group()) for item in SPIRIT_2013_ITEMS}
    assert numbers == set(range(1, 34))
    assert len(SPIRIT_2013_ITEMS) == len(set(SPIRIT_2013_ITEMS)) == 51
    assert len(SPIRIT_AI_ITEMS) == 15


def test_checklist_lists_exactly_the_spirit_2013_items_in_order():
    items = [row[0] for row in _spirit_rows()]
    assert items == SPIRIT_2013_ITEMS


def test_checklist_rows_have_topic_description_and_location_or_reason():
    for row in _spirit_rows() + _ai_rows():
        assert len(row) == 4, row
        item, topic, description, where = row
        assert topic and description, row
        if where.startswith("N/A"):
            reason = where.removeprefix("N/A").lstrip(":").strip()
            assert len(reason.split()) >= 5, f"item {item}: N/A needs a reason, got {where!r}"
        else:
            assert any(t.startswith("protocol.md#") for t in _LINK.findall(where)), (
                f"item {item}: where addressed must link a section of protocol.md, got {where!r}")


def test_spirit_ai_table_lists_the_15_extension_items():
    assert [row[0] for row in _ai_rows()] == SPIRIT_AI_ITEMS


@pytest.mark.parametrize("path", [CHECKLIST, SUMMARY, PROTOCOL], ids=lambda p: p.name)
def test_every_link_to_the_protocol_names_an_existing_anchor(path):
    anchors = _anchors()
    targets = _LINK.findall(path.read_text(encoding="utf-8"))
    assert targets
    for target in targets:
        if target.startswith("http"):
            continue
        file, _, anchor = target.partition("#")
        if file == "" and path == PROTOCOL:
            file = "protocol.md"
        assert (PROTOCOL_DIR / file).is_file(), f"{path.name}: link to missing file {target!r}"
        if anchor and file == "protocol.md":
            assert anchor in anchors, f"{path.name}: link to missing anchor {target!r}"


def test_protocol_anchors_are_unique():
    ids = _ANCHOR.findall(PROTOCOL.read_text(encoding="utf-8"))
    assert len(ids) == len(set(ids))


def test_summary_is_one_page_and_honest():
    text = SUMMARY.read_text(encoding="utf-8")
    assert len(text.split()) <= SUMMARY_MAX_WORDS
    assert "no policy ready for the bedside" in text
    assert "monitor" in text


def test_rules_listed_in_the_protocol_are_the_rules_in_the_code():
    from hemosim.safety import HEPARIN_RULES, WARFARIN_RULES

    appendix = _section(PROTOCOL.read_text(encoding="utf-8"), '<a id="appendix-rules"></a>', '<a id="specimens"></a>')
    listed = re.findall(r"^\* `([a-z0-9_]+)`:", appendix, flags=re.M)
    assert listed == [r.name for r in WARFARIN_RULES] + [r.name for r in HEPARIN_RULES]


def test_sample_size_worked_calculation_follows_from_its_assumptions():
    """Recompute §3.8 from the stated assumptions: p = 0.5, d = 0.05, rho = 0.1,
    m = 8 (warfarin) / 10 (heparin), 20 % non-contributing patients."""
    text = _section(PROTOCOL.read_text(encoding="utf-8"), '<a id="sample-size"></a>', '<a id="recruitment"></a>')
    z, p, d, rho, loss = 1.959963984540054, 0.5, 0.05, 0.1, 0.2
    n0 = math.ceil(z**2 * p * (1 - p) / d**2)
    assert f"**{n0}**" in text
    for m in (8, 10):
        de = 1 + (m - 1) * rho
        decisions = math.ceil(round(n0 * de, 9))
        patients = math.ceil(decisions / m)
        enrolled = math.ceil(round(patients / (1 - loss), 9))
        assert f"**{de:.1f}**" in text
        assert f"**{decisions}**" in text
        assert f"**{patients}**" in text
        assert f"**{enrolled} patients**" in text


def test_in_silico_numbers_quoted_by_the_protocol_are_in_the_leaderboard():
    board = (ROOT / "results" / "leaderboard.md").read_text(encoding="utf-8")
    quoted = re.findall(r"\d+\.\d ± \d+\.\d", PROTOCOL.read_text(encoding="utf-8"))
    assert len(quoted) >= 6
    for value in quoted:
        assert value in board, f"{value} is quoted in protocol.md but not in results/leaderboard.md"


def test_paired_flags_as_the_harness_computes_them():
    """§3.3 step 5: one decision point, two prescriptions (policy, clinician) as two rows of
    the same context; the rules flag each row on its own and leave the inputs unchanged."""
    import numpy as np

    from hemosim.safety import WARFARIN_RULES, apply_rules

    # INR 4.4 measured on day 20; last week's regimen 5 mg/day (mean and max).
    ctx = {"inr_measured": np.full(2, 4.4), "target_inr_high": np.full(2, 3.0), "day": np.full(2, 20.0),
           "mean_dose_7d_mg": np.full(2, 5.0), "max_dose_7d_mg": np.full(2, 5.0)}
    doses = np.array([5.0, 2.5])  # policy keeps 5 mg; clinician halves
    fields = {"dose_mg": doses.copy()}
    corrected, fired = apply_rules(WARFARIN_RULES, ctx, fields)
    names = [r.name for r in WARFARIN_RULES]
    assert fired[0, names.index("warfarin_halve_inr_4_to_5")]
    assert not fired[1].any()
    np.testing.assert_array_equal(fields["dose_mg"], doses)  # the prescriptions are not changed
    assert corrected["dose_mg"][0] == 2.5
