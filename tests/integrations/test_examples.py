"""examples/rllib_ppo.py and examples/torchrl_rollout.py run as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("script,args", [("torchrl_rollout.py", []), ("rllib_ppo.py", ["--iterations", "1", "--shared"])])
def test_integration_example_runs(script, args):
    pytest.importorskip("torchrl" if script.startswith("torchrl") else "ray")
    done = subprocess.run([sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "iteration 1" in done.stdout or "episodes finished" in done.stdout
