"""`python train.py sweep`: argument checks and the report written from whatever runs finished."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TRAIN = str(Path(__file__).resolve().parents[1] / "train.py")


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, TRAIN, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_report_only_writes_every_study_section(tmp_path):
    done = run("sweep", "all", "--report-only", "--out", "studies", "--report", "REPORT.md", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = (tmp_path / "REPORT.md").read_text()
    for title in ("H1 — the cruel trade-off", "H2 — pivotal act vs pivotal process", "H3 — the precipice", "H4 — common ground"):
        assert title in report
    assert report.count("No finished runs yet.") == 4  # H1-H4: the canonical study has no small budget ...
    assert "python train.py sweep h1 --budget small" in report
    # ... and the report says so, and where its section is written
    assert "Not at the small budget: *The canonical models: where learning lands against the papers' theory* (`python train.py sweep canonical --budget full`: REPORT-full.md)." in report
    assert "## The canonical models" not in report


def test_bad_sweep_input_exits_2_with_one_line(tmp_path):
    for args, needle in [
        (("sweep", "h9"), "invalid choice: 'h9'"),
        (("sweep", "h1", "--workers", "0"), "--workers must be at least 1"),
        (("sweep", "h1", "--br-dynamics", "10", "--br-timesteps", "-1"), "--br-timesteps must be at least 0"),
        (("sweep", "canonical"), "study canonical has no 'small' budget; its budgets are ['full'] (--budget)"),
    ]:  # fmt: skip
        done = run(*args, cwd=tmp_path)
        assert done.returncode == 2 and needle in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_sweep_on_a_clean_clone_leaves_the_committed_report_as_it_is(tmp_path):
    committed = Path(TRAIN).parent / "results" / "REPORT.md"
    report = tmp_path / "REPORT.md"
    report.write_bytes(committed.read_bytes())
    done = run("sweep", "all", "--report-only", "--out", "studies", "--report", "REPORT.md", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert report.read_bytes() == committed.read_bytes()
    assert "kept the section 'H1" in done.stdout and "--replace" in done.stdout


def test_each_budget_writes_its_own_report(tmp_path):
    done = run("sweep", "all", "--budget", "full", "--report-only", "--out", "studies", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    full = tmp_path / "results" / "REPORT-full.md"
    assert full.read_text().count("Budget `full`") == 1 and "python train.py sweep h1 --budget full" in full.read_text()
    assert full.read_text().count("No finished runs yet.") == 5 and "Not at the" not in full.read_text()  # every study, the canonical one too
    assert not (tmp_path / "results" / "REPORT.md").exists()  # the small budget's report is not touched


def test_a_sweep_refuses_another_budgets_report_before_it_trains(tmp_path):
    report = tmp_path / "REPORT.md"
    report.write_bytes((Path(TRAIN).parent / "results" / "REPORT.md").read_bytes())  # the small budget's
    done = run("sweep", "h2", "--budget", "full", "--out", "studies", "--report", "REPORT.md", cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "report of the 'small' budget" in done.stderr and "--report" in done.stderr and "REPORT-full.md" in done.stderr
    assert not (tmp_path / "studies").exists()  # refused before any run started
    assert report.read_bytes() == (Path(TRAIN).parent / "results" / "REPORT.md").read_bytes()
