"""Sweeps: planning a study's grid, skipping finished runs, redoing cut-off ones, gathering results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from labrace.agents import sweep
from labrace.agents.studies import Budget, Study, list_studies, load_study, point_hyperparams, point_label

ROOT = Path(__file__).resolve().parents[2]

#: a stand-in for train.py: its main(argv) writes the run folder like `train` does, metrics.json last
FAKE_TRAIN = textwrap.dedent(
    """
    import json
    from pathlib import Path

    def main(argv):
        args = dict(a[2:].split("=", 1) for a in argv[1:] if "=" in a)
        run = Path(args["out"]) / args["run-name"]
        if run.exists() and "--overwrite" not in argv:
            raise SystemExit(2)
        run.mkdir(parents=True, exist_ok=True)
        sets = dict(a[len("--set="):].split("=", 1) for a in argv if a.startswith("--set="))
        config = {
            "format": 1, "command": ["train.py", *argv], "env": args["env"], "scenario": args["scenario"], "overrides": sets,
            "trainer": args["trainer"], "algo": args["algo"], "timesteps": int(args["timesteps"]), "seed": int(args["seed"]),
            "eval_episodes": int(args["eval-episodes"]), "learned_only": "--learned-only" in argv,
            "exploitability_episodes": int(args["exploitability-episodes"]), "br_timesteps": int(args["br-timesteps"]),
            "selection_episodes": int(args["selection-episodes"]) if "selection-episodes" in args else None,
        }
        (run / "config.json").write_text(json.dumps(config))
        seed = int(args["seed"])
        learned = {
            "outcomes": {"catastrophe": {"rate": 0.1 * seed}, "coordinated": {"rate": 0.5}},
            "racing_index": {"mean": 0.2 + 0.1 * seed}, "coordination_index": {"mean": 0.3},
            "welfare": {"mean": 1.0}, "mean_return": {"mean": 0.3},
            "shares": {"all_labs": {"speed": {"mean": 0.2}}},
        }
        (run / "metrics.json").write_text(json.dumps({"profiles": {"learned": learned}, "argv": argv}))
        return 0
    """
)


def tiny_study(analyse=None) -> Study:
    return Study(
        name="tiny",
        title="tiny",
        hypothesis="none",
        env=lambda point: ("race_v0", "baseline"),
        axes={"num_labs": (2, 3), "pivotal_act": (False, True)},
        overrides=lambda point: dict(point),
        analyse=analyse or (lambda rows, out: f"{len(rows)} rows"),
        budgets={"small": Budget(timesteps=256, eval_episodes=20, seeds=(0, 1), axes={"pivotal_act": (False,)})},
    )


@pytest.fixture
def fake_train(tmp_path) -> str:
    path = tmp_path / "fake_train.py"
    path.write_text(FAKE_TRAIN)
    return str(path)


def test_registered_studies_load_and_plan_their_grids(tmp_path):
    assert list_studies() == ["canonical", "h1", "h2", "h3", "h4"]
    # the small report answers H1-H4; the canonical study trains its validated learners (full budget only)
    assert list_studies("small") == ["h1", "h2", "h3", "h4"] and list_studies("full") == list_studies()
    sizes = {name: len(sweep.plan(load_study(name), "small", tmp_path)) for name in list_studies("small")}
    assert sizes == {"h1": 36 * 10, "h2": 8 * 10, "h3": 8 * 10, "h4": 14 * 10}
    with pytest.raises(ValueError, match=r"unknown budget 'small' for study canonical; valid budgets are \['full'\]"):
        sweep.plan(load_study("canonical"), "small", tmp_path)
    full = {name: len(sweep.plan(load_study(name), "full", tmp_path)) for name in list_studies()}
    assert full == {"canonical": 9 * 5, "h1": 5 * 5 * 2 * 3 * 10, "h2": 8 * 10, "h3": 24 * 2 * 10, "h4": 21 * 2 * 10}
    with pytest.raises(ValueError, match="unknown study 'h9'"):
        load_study("h9")
    with pytest.raises(ValueError, match="unknown budget 'huge'"):
        sweep.plan(load_study("h1"), "huge", tmp_path)


def test_a_budget_without_timesteps_trains_each_env_for_its_validated_budget(tmp_path):
    """The canonical study's full budget trains the validated learner of results/canonical/learned.md:
    the shared trainer with each env's own budget from agents/hyperparams.py (what `train.py train`
    gives it without --timesteps), named in every run's arguments and in the report's header."""
    from labrace.agents.hyperparams import get_hyperparams, resolved_timesteps

    study = load_study("canonical")
    assert study.budgets["full"].timesteps is None
    runs = sweep.plan(study, "full", tmp_path)
    for run in runs:
        env = run.expected["env"]
        assert run.expected["trainer"] == "shared"
        assert run.expected["timesteps"] == resolved_timesteps(get_hyperparams(env, "ppo", "shared"), "shared")
        assert f"--timesteps={run.expected['timesteps']}" in run.argv
    assert {run.expected["env"]: run.expected["timesteps"] for run in runs} == {"precipice_v0": 200_000, "dsair_v0": 300_000, "commons_v0": 300_000}
    header = sweep.section(study, "full", tmp_path, rows=[])
    assert "precipice_v0 200,000, dsair_v0 300,000, commons_v0 300,000 steps (each env's validated budget)" in header


def test_every_grid_point_makes_a_valid_config(tmp_path):
    """Each point's overrides, as train.py will parse them, build a valid environment config."""
    import ast

    import labrace

    for name in list_studies():
        for run in sweep.plan(load_study(name), "full", tmp_path)[::5]:
            args = dict(a[2:].split("=", 1) for a in run.argv[1:] if a.startswith("--") and "=" in a and not a.startswith("--set"))
            sets = dict(a[len("--set=") :].split("=", 1) for a in run.argv if a.startswith("--set="))
            labrace.make_game(args["env"], args["scenario"], **{k: ast.literal_eval(v) for k, v in sets.items()})


def test_plan_names_runs_by_point_and_seed(tmp_path):
    runs = sweep.plan(tiny_study(), "small", tmp_path)
    assert [r.name for r in runs] == [
        "num_labs-2_pivotal_act-False-s0",
        "num_labs-2_pivotal_act-False-s1",
        "num_labs-3_pivotal_act-False-s0",
        "num_labs-3_pivotal_act-False-s1",
    ]
    assert "--set=num_labs=3" in runs[2].argv and "--timesteps=256" in runs[0].argv
    assert runs[0].run_dir == tmp_path / "small" / "tiny" / runs[0].name
    assert point_label({"a": 1, "b": "x y"}) == "a-1_b-xy"
    assert point_label({"case": "dsair p_r=0.6 (dilemma zone)"}) == "case-dsairp_r0.6dilemmazone"


def test_each_lens_plans_its_own_learner(tmp_path):
    """equilibrium: one model per lab; self-play: one policy, each lab its own reward; team: one
    policy paid the labs' mean reward (team_reward), on top of the budget's own settings."""
    runs = {run.point["lens"]: run for run in sweep.plan(load_study("h1"), "small", tmp_path) if run.seed == 0}
    assert "--trainer=simultaneous" in runs["equilibrium"].argv
    assert "--trainer=shared" in runs["team"].argv and "--hp=team_reward=True" in runs["team"].argv
    assert runs["team"].expected["hyperparams"] == {"n_epochs": 5, "batch_size": 1024, "team_reward": True}
    assert not any("team_reward" in arg for arg in runs["equilibrium"].argv)
    self_play = [run for run in sweep.plan(load_study("h4"), "small", tmp_path) if run.seed == 0]
    assert {run.point["lens"] for run in self_play} == {"self-play"}
    assert all("--trainer=shared" in run.argv and not any("team_reward" in a for a in run.argv) for run in self_play)
    with pytest.raises(ValueError, match="lens must be one of"):
        point_hyperparams({"lens": "solo"})


def test_the_full_budget_trains_race_v0_with_wider_exploration_noise(tmp_path):
    """FULL_BUDGET_HYPERPARAMS: at 300k steps a log-std of 1.0 lets learners reach equilibria."""
    import ast

    from labrace.agents.hyperparams import check_hyperparams

    for name in ("h1", "h2", "h3", "h4"):
        runs = [run for run in sweep.plan(load_study(name), "full", tmp_path) if "--env=race_v0" in run.argv]
        assert runs and all(run.expected["hyperparams"]["policy_kwargs"] == {"net_arch": [64, 64], "log_std_init": 1.0} for run in runs)
        hp = dict(arg[len("--hp=") :].split("=", 1) for arg in runs[0].argv if arg.startswith("--hp="))
        check_hyperparams("ppo", {key: ast.literal_eval(value) for key, value in hp.items()})  # as train.py reads them
    assert {run.point["lens"] for run in sweep.plan(load_study("h1"), "full", tmp_path)} == {"equilibrium", "team", "self-play"}
    small = sweep.plan(load_study("h1"), "small", tmp_path)
    assert all("policy_kwargs" not in run.expected["hyperparams"] for run in small)


def test_local_sweep_skips_finished_runs_and_redoes_cut_off_ones(tmp_path, fake_train):
    study = tiny_study()
    runs = sweep.plan(study, "small", tmp_path)
    results = sweep.run_local(runs, fake_train, workers=2)
    assert sorted(code for _, code, _ in results) == [0, 0, 0, 0]
    assert all(r.finished for r in runs)
    # cut one run off (no metrics.json), as an interrupted sweep leaves it
    (runs[1].run_dir / "metrics.json").unlink()
    todo = [r for r in sweep.plan(study, "small", tmp_path) if not r.finished]
    assert [r.name for r in todo] == [runs[1].name]
    finished_before = (runs[0].run_dir / "metrics.json").stat().st_mtime_ns
    assert [code for _, code, _ in sweep.run_local(todo, fake_train, workers=2)] == [0]
    assert runs[1].finished and "--overwrite" in json.loads((runs[1].run_dir / "metrics.json").read_text())["argv"]
    assert (runs[0].run_dir / "metrics.json").stat().st_mtime_ns == finished_before


def test_a_changed_budget_redoes_the_runs(tmp_path, fake_train):
    study = tiny_study()
    sweep.run_local(sweep.plan(study, "small", tmp_path), fake_train, workers=2)
    assert all(run.finished for run in sweep.plan(study, "small", tmp_path))
    bigger = Study(**{**study.__dict__, "budgets": {"small": Budget(timesteps=512, eval_episodes=20, seeds=(0, 1), axes={"pivotal_act": (False,)})}})
    assert not any(run.finished for run in sweep.plan(bigger, "small", tmp_path))


def test_collect_and_report_with_confidence_intervals(tmp_path, fake_train):
    from labrace.agents.studies.analysis import by_point, markdown_table

    study = tiny_study(analyse=lambda rows, out: markdown_table(rows, ("num_labs",), {"racing index": "racing_index"}))
    sweep.run_local(sweep.plan(study, "small", tmp_path), fake_train, workers=2)
    rows = sweep.collect(study, "small", tmp_path)
    assert len(rows) == 4 and {r["seed"] for r in rows} == {0, 1}
    assert {"catastrophe_rate", "coordinated_rate", "racing_index", "share_speed"} <= set(rows[0])
    assert by_point(rows, ("num_labs",), "catastrophe_rate")[(2,)]["lo"] == 0.0  # rate intervals stay in [0, 1]
    cell = by_point(rows, ("num_labs",), "racing_index")[(2,)]
    assert cell["mean"] == pytest.approx(0.25) and cell["n"] == 2
    assert cell["lo"] < 0.25 < cell["hi"]  # t interval over the two seeds (0.2 and 0.3)
    text = sweep.section(study, "small", tmp_path)
    assert "4 of 4 finished" in text and "| 2 | 0.25 [" in text


def test_verdicts():
    from labrace.agents.studies.analysis import differs, verdict

    high, low = {"lo": 0.6, "hi": 0.8}, {"lo": 0.1, "hi": 0.3}
    assert differs(high, low) == 1 and differs(low, high) == -1 and differs(high, {"lo": 0.7, "hi": 0.9}) == 0
    assert verdict([1, 1]) == "holds"
    assert verdict([-1, 0]) == "fails (the opposite holds)"
    assert verdict([0, 0]) == "fails (no clear difference)"
    assert verdict([1, 0]).startswith("depends")


def test_a_real_run_through_train_py_in_a_worker_process(tmp_path):
    """The local backend runs train.py's main in a spawned worker; the run is then finished."""
    study = Study(
        name="real",
        title="real",
        hypothesis="none",
        env=lambda point: ("race_v0", "baseline"),
        axes={"num_labs": (2,)},
        overrides=lambda point: dict(point),
        analyse=lambda rows, out: f"{len(rows)} rows",
        budgets={"small": Budget(timesteps=256, eval_episodes=10, seeds=(0,))},
    )
    runs = sweep.plan(study, "small", tmp_path)
    results = sweep.run_local(runs, str(ROOT / "train.py"), workers=1)
    assert [code for _, code, _ in results] == [0], results
    assert runs[0].finished
    (row,) = sweep.collect(study, "small", tmp_path)
    assert row["num_labs"] == 2 and 0.0 <= row["catastrophe_rate"] <= 1.0
    # git keeps only a full-budget run's config.json and metrics.json: a clean clone holding just
    # those counts the run as finished and reports the same row, so a long sweep resumes from it
    for path in runs[0].run_dir.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        elif path.name not in ("config.json", "metrics.json"):
            path.unlink()
    assert runs[0].finished
    assert sweep.collect(study, "small", tmp_path) == [row]


def test_a_run_is_finished_by_its_content_however_the_path_is_spelled(tmp_path, fake_train):
    study = tiny_study()
    (tmp_path / "elsewhere").mkdir()
    sweep.run_local(sweep.plan(study, "small", tmp_path / "out"), fake_train, workers=1)
    for spelling in (tmp_path / "out", tmp_path / "elsewhere" / ".." / "out", Path(os.path.relpath(tmp_path / "out"))):
        assert all(run.finished for run in sweep.plan(study, "small", spelling)), spelling
    # a folder whose config describes another run (here: another seed) is not this run's result
    runs = sweep.plan(study, "small", tmp_path / "out")
    config = json.loads((runs[0].run_dir / "config.json").read_text())
    (runs[0].run_dir / "config.json").write_text(json.dumps({**config, "seed": 7}))
    assert not runs[0].finished and runs[1].finished


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the git checkout")
def test_git_keeps_a_full_budget_runs_config_and_metrics_and_nothing_else():
    def ignored(path: str) -> bool:
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0

    run = "results/studies/full/h4/scenario-misuse_hawks_lever-none_lens-equilibrium-s0"
    assert not ignored(f"{run}/config.json") and not ignored(f"{run}/metrics.json")
    assert not ignored("results/studies/full/h4/heatmaps.png")
    bulk = (
        f"{run}/models/model.zip", f"{run}/episodes.csv", f"{run}/monitor.csv", f"{run}/training.json", f"{run}/tb/PPO_1/events",
        "results/studies/full/h4/logs/x-s0.log", "results/studies/small/h4/x-s0/metrics.json", "results/studies/small/h4/x-s0/config.json",
    )  # fmt: skip
    assert [path for path in bulk if not ignored(path)] == []


def test_the_report_keeps_sections_that_hold_more_runs_unless_replaced(tmp_path, fake_train):
    study = tiny_study()
    report = tmp_path / "REPORT.md"
    report.write_text("# old\n\n## tiny\n\n*Runs.* 4 of 4 finished (committed).\n\nthe committed analysis\n\n## by hand\n\nnotes\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep, "load_study", lambda name: study)
        _, kept = sweep.write_report(["tiny"], "small", tmp_path / "out", report)  # a clean clone: no runs
        assert kept == ["tiny"] and "the committed analysis" in report.read_text() and "notes" in report.read_text()
        assert report.read_text().startswith("# old")  # nothing new: the file is not even rewritten
        sweep.run_local(sweep.plan(study, "small", tmp_path / "out"), fake_train, workers=1)
        _, kept = sweep.write_report(["tiny"], "small", tmp_path / "out", report)  # as many runs: replaced
        text = report.read_text()
        assert kept == [] and "the committed analysis" not in text and "4 of 4 finished" in text and "notes" in text
        shutil.rmtree(tmp_path / "out")
        _, kept = sweep.write_report(["tiny"], "small", tmp_path / "out", report, replace=True)
        assert kept == [] and "No finished runs yet." in report.read_text()


def test_a_report_that_holds_a_study_its_budget_leaves_out_keeps_it_and_points_nowhere_else(tmp_path):
    """A small report written before the canonical study lost its small budget keeps that section (as
    every section is kept) and, holding it, does not also say the study is elsewhere."""
    report = tmp_path / "REPORT.md"
    report.write_text(
        "# labrace reference study\n\nBudget `small`; written before.\n\n"
        "## The canonical models: where learning lands against the papers' theory\n\n*Runs.* 27 of 27 finished.\n\nthe old section\n"
    )
    sweep.write_report(list_studies(), "small", tmp_path / "out", report)
    text = report.read_text()
    assert "the old section" in text and "Not at the small budget" not in text and "## H1" in text


SLOW_FAKE_TRAIN = textwrap.dedent(
    """
    import os, time
    from pathlib import Path

    def main(argv):
        args = dict(a[2:].split("=", 1) for a in argv[1:] if "=" in a)
        Path(args["out"]).mkdir(parents=True, exist_ok=True)
        # written whole or not at all: a worker stopped mid-write must not leave an empty pid file
        # (not labrace's atomic_write_text: its temporary ends in ".pid" too, which the glob reads)
        pid_file = Path(args["out"]) / (args["run-name"] + ".pid")
        pid_file.with_suffix(".tmp").write_text(str(os.getpid()))
        os.replace(pid_file.with_suffix(".tmp"), pid_file)
        if args["seed"] != "0":
            time.sleep(120)
        return 0
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_ctrl_c_stops_a_local_sweep_and_its_workers(tmp_path):
    fake = tmp_path / "slow_train.py"
    fake.write_text(SLOW_FAKE_TRAIN)
    runs = sweep.plan(tiny_study(), "small", tmp_path)

    def ctrl_c_after_the_first_run(result):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep.run_local(runs, str(fake), workers=2, progress=ctrl_c_after_the_first_run)
    pids = [int(p.read_text()) for p in runs[0].run_dir.parent.glob("*.pid")]
    assert pids and not any(_alive(pid) for pid in pids)  # the sleeping worker was stopped, not waited for


def test_workers_exit_when_the_sweep_process_is_killed(tmp_path):
    fake = tmp_path / "slow_train.py"
    fake.write_text(SLOW_FAKE_TRAIN)
    script = textwrap.dedent(
        f"""
        from pathlib import Path
        from labrace.agents import sweep
        from labrace.agents.studies import Budget, Study
        study = Study(name="tiny", title="tiny", hypothesis="none", env=lambda p: ("race_v0", "baseline"), axes={{"num_labs": (2,)}},
                      overrides=lambda p: dict(p), analyse=lambda rows, out: "", budgets={{"small": Budget(timesteps=256, eval_episodes=20, seeds=(1,))}})
        sweep.run_local(sweep.plan(study, "small", Path({str(tmp_path)!r})), {str(fake)!r}, workers=1)
        """
    )
    main = subprocess.Popen([sys.executable, "-c", script])
    pid_file = tmp_path / "small" / "tiny" / "num_labs-2-s1.pid"
    try:
        for _ in range(600):  # the worker starts (a fresh interpreter) and writes its pid
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        main.kill()  # kill -9: the main process cannot stop its workers
        main.wait()
        for _ in range(100):
            if not _alive(worker):
                break
            time.sleep(0.1)
        assert not _alive(worker)
    finally:
        main.kill()


def test_a_kept_section_is_copied_as_it_was_beside_a_replaced_one(tmp_path, fake_train):
    done, empty = tiny_study(), Study(**{**tiny_study().__dict__, "name": "empty", "title": "empty"})
    report = tmp_path / "REPORT.md"
    kept_text = "## empty\n\n*Runs.* 3 of 3 finished.\n\n![figure](studies/small/empty/heatmaps.png)"
    report.write_text(f"# old\n\n## tiny\n\n*Runs.* 0 of 4 finished.\n\n{kept_text}\n")
    sweep.run_local(sweep.plan(done, "small", tmp_path / "out"), fake_train, workers=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep, "load_study", {"tiny": done, "empty": empty}.get)
        _, kept = sweep.write_report(["tiny", "empty"], "small", tmp_path / "out", report)
    text = report.read_text()
    assert kept == ["empty"] and "4 of 4 finished" in text and kept_text in text


def test_a_sweep_of_one_study_leaves_the_other_studies_sections_and_figures_as_they_are(tmp_path, fake_train):
    """``sweep h4`` rewrites H4's section and figures, not H1's: those come from H1's runs, which may
    be another machine's (or not there at all), and the report holds them as they were committed."""
    done, other = tiny_study(), Study(**{**tiny_study().__dict__, "name": "other", "title": "other"})
    sweep.run_local(sweep.plan(done, "small", tmp_path / "out"), fake_train, workers=1)
    sweep.run_local(sweep.plan(other, "small", tmp_path / "out"), fake_train, workers=1)
    drawn: list[str] = []

    def analyse(name):
        return lambda rows, out: drawn.append(name) or f"analysis of {name}"

    studies = {"tiny": Study(**{**done.__dict__, "analyse": analyse("tiny")}), "other": Study(**{**other.__dict__, "analyse": analyse("other")})}
    report = tmp_path / "REPORT.md"
    committed = "## other\n\n*Runs.* 4 of 4 finished (committed).\n\nthe committed analysis"
    report.write_text(f"# old\n\n## tiny\n\n*Runs.* 0 of 4 finished.\n\n{committed}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep, "load_study", studies.get)
        sweep.write_report(["tiny", "other"], "small", tmp_path / "out", report, swept=["tiny"])
    text = report.read_text()
    assert drawn == ["tiny"] and "analysis of tiny" in text and committed in text
    assert text.index("## tiny") < text.index("## other")  # the sections keep the studies' order
    # a study the report has no section for yet gets one (a new report lists every study)
    fresh = tmp_path / "FRESH.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sweep, "load_study", studies.get)
        sweep.write_report(["tiny", "other"], "small", tmp_path / "out", fresh, swept=["tiny"])
    assert "analysis of tiny" in fresh.read_text() and "analysis of other" in fresh.read_text()


def test_a_sweep_of_every_study_runs_the_longest_runs_first(tmp_path):
    """One pool for every study, the long runs first (the longest-processing-time rule): at the full
    budget H3's precipice learners (one model per lab first), at the small one the one-model-per-lab
    race_v0 runs, then shared ones; runs of equal cost keep the plan's order."""
    env = lambda run: next(arg.split("=", 1)[1] for arg in run.argv if arg.startswith("--env="))  # noqa: E731
    full = sweep.longest_first([run for name in list_studies("full") for run in sweep.plan(load_study(name), "full", tmp_path)])
    assert {(run.study, env(run)) for run in full[:240]} == {("h3", "precipice_v0")}
    runs = [run for name in list_studies("small") for run in sweep.plan(load_study(name), "small", tmp_path)]
    ordered = sweep.longest_first(runs)
    assert sorted(map(str, (run.run_dir for run in ordered))) == sorted(map(str, (run.run_dir for run in runs)))
    costs = [sweep.expected_cost(run) for run in ordered]
    assert costs == sorted(costs, reverse=True)
    race = [run for run in ordered if env(run) == "race_v0"]
    assert len(race) == len(ordered)  # the small budget trains race_v0 only
    trainers = [next(arg for arg in run.argv if arg.startswith("--trainer=")) for run in race]
    assert trainers.index("--trainer=shared") > max(i for i, t in enumerate(trainers) if t == "--trainer=simultaneous")
    h4 = [run for run in ordered if run.study == "h4"]
    assert h4 == [run for run in sweep.plan(load_study("h4"), "small", tmp_path)]  # equal costs: the plan's order
