"""docs/methods.md: every figure is produced by a ``hemosim reproduce`` step, every link resolves.

The set of images the reproduce steps write is read from the repository, not listed here:
for a ``("script", path)`` step, the ``savefig(out / "NAME.png")`` calls of the script and
its default output folder (``DEFAULT_OUT = "..."`` or ``default=Path("...")`` of ``--out``);
for a command step, a ``--out`` value that ends in ``.png``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hemosim.cli import REPRODUCE_STEPS

REPO = Path(__file__).resolve().parent.parent
METHODS = REPO / "docs" / "methods.md"
SCRIPT = REPO / "scripts" / "methods_figures.py"

_IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_SAVEFIG = re.compile(r"savefig\(\s*out\s*/\s*\"([\w.-]+\.png)\"")
_DEFAULT_OUT = (re.compile(r"^DEFAULT_OUT\s*=\s*\"([^\"]+)\"", re.M),
                re.compile(r"\"--out\"[^\n]*default=Path\(\"([^\"]+)\"\)"))


def script_outputs(path: Path) -> set[Path]:
    """Repository paths of the PNGs a reproduce script writes with its default ``--out``."""
    text = path.read_text()
    names = set(_SAVEFIG.findall(text))
    folders = [m.group(1) for pattern in _DEFAULT_OUT for m in [pattern.search(text)] if m]
    if names and not folders:
        raise AssertionError(f"{path}: writes {sorted(names)} but its default output folder could not be read")
    return {(REPO / folders[0] / name).resolve() for name in names}


def reproduced_images() -> set[Path]:
    """Every PNG written by a step of ``REPRODUCE_STEPS``."""
    out: set[Path] = set()
    for _, argv in REPRODUCE_STEPS:
        if argv[0] == "script":
            out |= script_outputs(REPO / argv[1])
        elif "--out" in argv:
            value = argv[argv.index("--out") + 1]
            if value.endswith(".png"):
                out.add((REPO / value).resolve())
    return out


def _targets(pattern: re.Pattern[str]) -> list[str]:
    text = METHODS.read_text()
    return [t for t in pattern.findall(text) if not re.match(r"^[a-z]+:", t)]  # skip http:, mailto:


def test_methods_doc_has_figures_and_links() -> None:
    assert len(_targets(_IMAGE)) >= 6
    assert len(_targets(_LINK)) >= 10


def test_every_image_exists_and_is_written_by_a_reproduce_step() -> None:
    produced = reproduced_images()
    for target in _targets(_IMAGE):
        path = (METHODS.parent / target).resolve()
        assert path.is_file(), f"docs/methods.md shows {target}, which does not exist"
        assert path in produced, (
            f"docs/methods.md shows {target}, which no step of REPRODUCE_STEPS writes "
            f"(written: {sorted(str(p.relative_to(REPO)) for p in produced)})"
        )


def test_every_relative_link_resolves() -> None:
    for target in _targets(_LINK):
        file_part = target.split("#", 1)[0]
        if not file_part:
            continue  # an anchor in this document
        assert (METHODS.parent / file_part).exists(), f"docs/methods.md links to {target}, which does not exist"


def test_methods_figures_step_and_figures_list_agree() -> None:
    assert ("methods_figures", ["script", "scripts/methods_figures.py"]) in REPRODUCE_STEPS
    names = [name for name, _ in REPRODUCE_STEPS]
    # it reads the DOAC-trial and leaderboard results, so it must run after the steps writing them
    assert names.index("methods_figures") > names.index("doac_trials")
    assert names.index("methods_figures") > names.index("leaderboard")
    import runpy

    figures = runpy.run_path(str(SCRIPT), run_name="methods_figures")["FIGURES"]
    assert set(figures) == set(_SAVEFIG.findall(SCRIPT.read_text()))
    assert {p.name for p in script_outputs(SCRIPT)} == set(figures)


def test_a_missing_default_folder_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "s.py"
    script.write_text('fig.savefig(out / "x.png")\n')
    with pytest.raises(AssertionError, match="default output folder"):
        script_outputs(script)


@pytest.mark.slow
def test_methods_figures_script_writes_every_figure(tmp_path: Path) -> None:
    import runpy

    main = runpy.run_path(str(SCRIPT), run_name="methods_figures")["main"]
    assert main(["--out", str(tmp_path)]) == 0
    for name in runpy.run_path(str(SCRIPT), run_name="methods_figures")["FIGURES"]:
        assert (tmp_path / name).stat().st_size > 20_000, name
