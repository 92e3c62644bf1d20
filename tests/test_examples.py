"""The examples/ scripts run as written (the RLlib and TorchRL ones in tests/integrations)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FRAMEWORK_FREE = ["plain_loop.py", "aec_loop.py", "gymnasium_single_agent.py", "supersuit_sb3.py"]


def run_example(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.parametrize("name", FRAMEWORK_FREE)
def test_example_runs(name):
    out = run_example(name)
    assert out.strip(), f"{name} printed nothing"


def test_every_example_is_tested():
    integration = {"rllib_ppo.py", "torchrl_rollout.py"}
    assert {p.name for p in EXAMPLES.glob("*.py")} == set(FRAMEWORK_FREE) | {"sb3_shared_ppo.py"} | integration


def test_shared_ppo_example_learns_to_coordinate_among_doves():
    """30k steps of shared PPO among accident doves: the learned labs avoid catastrophe."""
    out = run_example("sb3_shared_ppo.py")
    rate = float(out.split("catastrophe rate of the learned labs:")[1].split()[0])
    assert rate < 0.05
