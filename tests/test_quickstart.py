"""The README quick start runs as written, and ``import hemosim`` stays cheap (DESIGN.md)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

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
    "import sys, time\n"
    "t = time.perf_counter()\n"
    "import hemosim\n"
    "dt = time.perf_counter() - t\n"
    "heavy = [m for m in ('numba', 'scipy.integrate', 'matplotlib', 'torch') if m in sys.modules]\n"
    "print(repr((dt, heavy)))\n"
)


def test_import_hemosim_is_cheap_and_imports_nothing_heavy():
    """DESIGN.md: ``import hemosim`` stays well under a second; no compiled kernels or plotting."""
    walls, results = [], []
    for _ in range(2):  # best of two: the test machine is shared
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
        walls.append(time.perf_counter() - t0)
        results.append(eval(out.stdout.strip()))
    for _, heavy in results:
        assert heavy == [], f"import hemosim pulled in {heavy}"
    assert min(walls) < 1.0, f"python -c 'import hemosim' took {min(walls):.2f} s wall"
    assert min(dt for dt, _ in results) < 1.0
    # the probe itself can see a heavy import (so the check above can fail)
    out = subprocess.run(
        [sys.executable, "-c", "import scipy.integrate\n" + _PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert "scipy.integrate" in eval(out.stdout.strip())[1]
