"""`train.py sweep --backend ray`: the same runs on a local Ray instance started by the test."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ray = pytest.importorskip("ray")

from labrace.agents import sweep  # noqa: E402

_spec = importlib.util.spec_from_file_location("sweep_tests", Path(__file__).resolve().parents[1] / "agents" / "test_sweep.py")
sweep_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sweep_tests)


def test_ray_backend_runs_the_study_into_the_same_layout(tmp_path):
    fake_train = tmp_path / "fake_train.py"
    fake_train.write_text(sweep_tests.FAKE_TRAIN)
    study = sweep_tests.tiny_study()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        results = sweep.run_ray(sweep.plan(study, "small", tmp_path), str(fake_train), address=None)
    finally:
        ray.shutdown()
    assert sorted(code for _, code, _ in results) == [0, 0, 0, 0]
    assert all(run.finished for run in sweep.plan(study, "small", tmp_path))
    assert len(sweep.collect(study, "small", tmp_path)) == 4
