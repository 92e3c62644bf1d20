"""Best-response dynamics from a study's equilibrium-lens runs: planned after training, run by the
sweep's workers through ``train.py evaluate``, resumable, and reported beside the learned profiles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labrace.agents import dynamics, sweep
from labrace.agents.studies import Budget, Study, load_study

ROOT = Path(__file__).resolve().parents[2]


def two_lens_study() -> Study:
    return Study(
        name="h1",  # a registered name: the report's regenerate command names it
        title="two lenses",
        hypothesis="none",
        env=lambda point: ("race_v0", "baseline"),
        axes={"num_labs": (2,), "lens": ("equilibrium", "team")},
        overrides=lambda point: {"num_labs": point["num_labs"]},
        analyse=lambda rows, out: f"{len(rows)} rows",
        budgets={"small": Budget(timesteps=256, eval_episodes=10, seeds=(0, 1), hyperparams={"race_v0": {"n_steps": 16, "batch_size": 32}})},
    )


@pytest.fixture(scope="module")
def finished_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("studies")
    study = two_lens_study()
    runs = sweep.plan(study, "small", out)
    assert [code for _, code, _ in sweep.run_local(runs, str(ROOT / "train.py"), workers=2)] == [0] * 4
    return study, out


#: the PPO best response that checks each reached profile: a few updates, enough to exercise the check
CHECK = 256


def test_dynamics_starts_from_every_finished_equilibrium_lens_run_and_resumes(finished_study):
    study, out = finished_study
    jobs = dynamics.dynamics_plan(study, "small", out, steps=2, br_timesteps=CHECK)
    assert [(job.point["lens"], job.seed) for job in jobs] == [("equilibrium", 0), ("equilibrium", 1)]  # not the team lens
    assert not any(job.finished for job in jobs)
    results = sweep.run_local(jobs, str(ROOT / "train.py"), workers=2)
    assert [code for _, code, _ in results] == [0, 0], results
    assert all(job.finished for job in jobs)  # the metrics file is where the plan expects it
    assert all(dynamics.dynamics_plan(study, "small", out, steps=2, br_timesteps=CHECK)[i].finished for i in range(2))  # a rerun skips them
    for other in ({"steps": 3, "br_timesteps": CHECK}, {"steps": 2, "br_timesteps": 0}, {"steps": 2}):  # other settings: not these files
        assert not any(job.finished for job in dynamics.dynamics_plan(study, "small", out, **other))
    logs = {path.name for path in (out / "small" / "h1" / "logs").iterdir()}
    assert {f"{job.name}.log" for job in jobs} | {f"{job.name}.evaluate.log" for job in jobs} <= logs  # the training logs are kept

    learned, reached = dynamics.dynamics_rows(jobs)
    assert [row["seed"] for row in learned] == [row["seed"] for row in reached] == [0, 1]
    assert all("lens" not in row for row in learned + reached)
    for job, row in zip(jobs, reached):
        assert row["switches"] <= 2 and len(row["strategies"]) == 2
        record = json.loads(job.metrics_file.read_text())["best_response_dynamics"]
        assert row["converged"] == (record["exploitability"]["exploitability"] <= row["equilibrium_tolerance"])  # over the strategy set
        # the PPO check on fresh episodes gives the reached row its exploitability and verdict
        assert f"a PPO best response ({CHECK} steps)" in record["check"]["method"]
        assert (row["exploitability"], row["check"]) == (record["check"]["exploitability"], record["check"]["verdict"])
        ppo = [lab["gain"]["mean"] for lab in record["check"]["labs"] if lab["best_response"] == "ppo best response"]
        assert row["ppo_gain"] == (max(ppo) if ppo else None)
        assert 0.0 <= row["racing_index"] <= 1.0


def test_the_report_sets_reached_profiles_beside_learned_ones(finished_study, tmp_path):
    study, out = finished_study
    jobs = dynamics.dynamics_plan(study, "small", out, steps=2, br_timesteps=CHECK)
    sweep.run_local([job for job in jobs if not job.finished], str(ROOT / "train.py"), workers=2)
    section = dynamics.study_section(study, "small", jobs, steps=2, br_timesteps=CHECK)
    assert section.startswith("## two lenses: where best responses lead from the equilibrium lens")
    assert "2 of 2 finished equilibrium-lens runs" in section and f"--br-dynamics 2 --br-timesteps {CHECK}`" in section and "**Answer.**" in section
    assert f"a PPO best response ({CHECK} steps)" in section and "with a PPO best response per lab added to the set, " in section
    assert "| num_labs | racing index | welfare | catastrophe rate | equilibrium of the set | PPO check holds | most common reached profile |" in section
    assert section.count("| num_labs | racing | coordinating | stalling |") == 2  # the learned and the reached profiles' tables
    # heatmaps need a grid of two or three axes: this one (num_labs alone) gets none, and says nothing of one
    assert "![" not in dynamics.study_section(study, "small", jobs, steps=2, figure=(tmp_path / "none.png", "none.png"))
    assert not (tmp_path / "none.png").exists()
    learned, reached = dynamics.dynamics_rows(jobs)
    assert dynamics.dynamics_figure(learned, reached, ["num_labs", "seed"], tmp_path / "grid.png") and (tmp_path / "grid.png").stat().st_size > 0
    assert sweep.dynamics_report_path(tmp_path, "small").name == "br-dynamics.md" and sweep.dynamics_report_path(tmp_path, "full").name == "br-dynamics-full.md"


def test_the_report_links_the_dynamics_report_beside_it_once_there_is_one(tmp_path):
    report = tmp_path / "REPORT.md"
    sweep.write_report(["h2"], "small", tmp_path / "studies", report)
    assert "br-dynamics.md" not in report.read_text()
    before = report.read_text()
    sweep.write_report(["h2"], "small", tmp_path / "studies", report)
    assert report.read_text() == before  # nothing new: the report stays as it is
    sweep.dynamics_report_path(tmp_path, "small").write_text("# Where best responses lead\n")
    sweep.write_report(["h2"], "small", tmp_path / "studies", report)  # the same sections, a new link
    assert "[br-dynamics.md](br-dynamics.md) (`python train.py sweep all --budget small --br-dynamics 10`)" in report.read_text()


def test_a_dynamics_report_holding_more_finished_dynamics_is_kept(tmp_path):
    path = sweep.dynamics_report_path(tmp_path, "small")
    committed = "# Where best responses lead\n\n## H1\n\n*Runs.* 180 of 180 finished equilibrium-lens runs\n"
    path.write_text(committed)
    plans = {"h1": dynamics.dynamics_plan(load_study("h1"), "small", tmp_path / "studies", 10)}  # a clean clone: no runs
    assert dynamics.write_dynamics_report(plans, "small", tmp_path / "studies", 10, path) == (path, True)
    assert path.read_text() == committed
    path.unlink()
    assert dynamics.write_dynamics_report(plans, "small", tmp_path / "studies", 10, path) == (path, False)
    assert "No study has finished dynamics" in path.read_text()
