"""The README quick start runs as written, and ``import hemosim`` stays cheap (DESIGN.md)."""

from __future__ import annotations

import re
import subprocess
import sys

QUICK_START = '''\
import gymnasium as gym
import hemosim
from hemosim.agents.baselines import WarfarinClinicalBaseline
env = gym.make("hemosim/WarfarinDosing-v0")
obs, info = env.reset(seed=100000)
agent = WarfarinClinicalBaseline(seed=42)
for day in range(1, 91):
    action = agent.predict(obs)
    obs, reward, terminated, truncated, info = env.step(action)
    if day % 14 == 0:
        print(f"day={day:3d}  INR={info['inr']:.2f}  dose={info['dose_mg']:.1f} mg  therapeutic={info['therapeutic']}")
    if terminated or truncated:
        break
'''

LINE = re.compile(r"^day=\s*(\d+)  INR=(\d+\.\d\d)  dose=(\d+\.\d) mg  therapeutic=(True|False)$")


def test_quick_start_prints_six_lines_and_ends_truncated_on_day_90(capsys):
    namespace: dict = {"__name__": "__quickstart__"}
    exec(compile(QUICK_START, "<quick start>", "exec"), namespace)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6, lines
    days = []
    for line in lines:
        m = LINE.match(line)
        assert m, f"unexpected quick-start line {line!r}"
        days.append(int(m.group(1)))
        inr, dose = float(m.group(2)), float(m.group(3))
        assert 0.5 < inr < 20.0 and 0.0 <= dose <= 15.0
    assert days == [14, 28, 42, 56, 70, 84]
    assert namespace["day"] == 90
    assert namespace["truncated"] is True and namespace["terminated"] is False
    assert namespace["info"]["day"] == 90


def test_quick_start_is_reproducible(capsys):
    exec(compile(QUICK_START, "<quick start>", "exec"), {"__name__": "__quickstart__"})
    first = capsys.readouterr().out
    exec(compile(QUICK_START, "<quick start>", "exec"), {"__name__": "__quickstart__"})
    assert capsys.readouterr().out == first


_PROBE = (
    "import sys\n"
    "import hemosim\n"
    "heavy = ('numba', 'scipy.integrate', 'matplotlib', 'torch', 'stable_baselines3', 'ray', 'pufferlib', 'moviepy', 'minari', 'h5py')\n"
    "print(repr([m for m in heavy if m in sys.modules]))\n"
)


def test_import_hemosim_imports_nothing_heavy():
    """DESIGN.md: no compiled kernels, plotting or RL library at ``import hemosim``. How long
    the import takes is a figure of ``hemosim benchmark``, not an assertion (issue #12)."""
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=120)
    assert eval(out.stdout.strip()) == [], f"import hemosim pulled in {out.stdout.strip()}"
    # the probe itself can see a heavy import (so the check above can fail)
    out = subprocess.run(
        [sys.executable, "-c", "import scipy.integrate\n" + _PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    assert "scipy.integrate" in eval(out.stdout.strip())
