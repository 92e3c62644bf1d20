"""The distribution installs one import namespace, `labrace`, and registers its Gymnasium ids."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import gymnasium

import labrace

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_only_the_labrace_namespace(tmp_path):
    # build from a copy of the tracked sources, so that no stale build/ folder leaks into the wheel
    source = tmp_path / "source"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("labrace-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"labrace", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}
    for module in ("labrace/__init__.py", "labrace/envs/race_v0.py", "labrace/envs/core.py", "labrace/agents/baselines.py"):
        assert module in names


def test_envs_and_agents_import_under_labrace_only(tmp_path):
    code = "import importlib.util as u, labrace.envs, labrace.agents; print(u.find_spec('envs'), u.find_spec('agents'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["None", "None"]


def test_importing_labrace_registers_every_environment():
    for entry in labrace.ENVIRONMENTS.values():
        assert entry.gym_id in gymnasium.registry
        assert entry.gym_id.startswith("labrace/")


def test_readme_environment_table_lists_every_environment():
    readme = (ROOT / "README.md").read_text()
    for entry in labrace.ENVIRONMENTS.values():
        assert f"`{entry.name}`" in readme and f"`{entry.gym_id}`" in readme
