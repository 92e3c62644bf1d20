"""Same seed, same result on any x86 machine: importing labrace.agents pins MKL's code path."""

from __future__ import annotations

import os
import subprocess
import sys

READ_MKL_CBWR = "import labrace.agents, os; print(os.environ.get('MKL_CBWR'))"


def mkl_cbwr_after_import(preset: str | None) -> str:
    env = {key: value for key, value in os.environ.items() if key != "MKL_CBWR"}
    if preset is not None:
        env["MKL_CBWR"] = preset
    return subprocess.run([sys.executable, "-c", READ_MKL_CBWR], env=env, capture_output=True, text=True, check=True).stdout.strip()


def test_importing_the_agents_selects_mkls_processor_independent_path():
    assert mkl_cbwr_after_import(None) == "COMPATIBLE"


def test_a_users_own_mkl_setting_is_kept():
    assert mkl_cbwr_after_import("AUTO") == "AUTO"
