"""train.py end to end in a temporary folder: train, evaluate, compare, refusals and bad input."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TINY = ["--timesteps", "768", "--eval-episodes", "30", "--no-progress", "--hp", "n_envs=4", "--hp", "n_steps=64", "--hp", "batch_size=128", "--hp", "n_epochs=2", "--exploitability-episodes", "20", "--br-timesteps", "256"]


def load_cli():
    spec = importlib.util.spec_from_file_location("labrace_train_cli", REPO / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


cli = load_cli()


def run(argv, capsys) -> tuple[int, str, str]:
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    code = cli.main(["train", "--out", str(out), "--run-name", "tiny", "--checkpoint-every", "768", *TINY])
    assert code == 0
    return out / "tiny"


def test_train_writes_a_complete_run(finished_run):
    names = {p.name for p in finished_run.iterdir()}
    for expected in ("config.json", "metrics.json", "model.zip", "model.json", "episodes.csv", "monitor.csv", "learning_curve.png", "shares_over_time.png", "outcomes.png", "tb", "checkpoints"):
        assert expected in names, expected
    assert not [n for n in names if n.startswith("tmp-")]
    config = json.loads((finished_run / "config.json").read_text())
    assert config["env"] == "race_v0" and config["scenario"] == "baseline" and config["trainer"] == "shared"
    assert config["config"]["num_labs"] == 3 and config["hyperparams"]["n_steps"] == 64 and config["seed"] == 0
    assert config["exploitability_episodes"] == 20 and config["selection_episodes"] is None  # best responses chosen on all 20
    assert {"torch", "stable-baselines3", "numpy", "labrace"} <= set(config["versions"])
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert "learned" in metrics["profiles"] and "random" in metrics["profiles"]
    learned = metrics["profiles"]["learned"]
    assert {"outcomes", "return_per_lab", "welfare", "time_to_outcome", "shares", "racing_index", "coordination_index"} <= set(learned)
    assert metrics["cross_play"]["rows"] and metrics["training"]["timesteps"] >= 768
    exploitability = metrics["exploitability"]  # beside every learned profile: per-lab gain, CI, response
    # one shared policy for labs of one type: the labs are interchangeable, so lab_0 is measured for
    # all (the same problem for each; the largest of three noisy estimates would overstate the gain)
    assert [lab["lab"] for lab in exploitability["labs"]] == [0] and "lab_0 stands for every lab" in exploitability["method"]
    for lab in exploitability["labs"]:
        assert lab["gain"]["ci95"][0] <= lab["gain"]["mean"] <= lab["gain"]["ci95"][1] and lab["best_response"]
    assert exploitability["exploitability"] >= 0.0 and "PPO best response (256 steps)" in exploitability["method"]
    assert metrics["training"]["report"]["action_param"] == "logits"
    lines = (finished_run / "episodes.csv").read_text().splitlines()
    assert lines[0].startswith("profile,episode,outcome") and len(lines) == 1 + 30 * len(metrics["profiles"])


def test_rerun_into_finished_run_refuses_unless_overwrite(finished_run, capsys, tmp_path):
    code, _, err = run(["train", "--out", str(finished_run.parent), "--run-name", "tiny", *TINY], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "finished run" in err and "--overwrite" in err
    # an unfinished run (interrupted: no metrics.json) resumes from its checkpoint
    copy = tmp_path / "copy"
    code = cli.main(["train", "--out", str(tmp_path), "--run-name", "copy", "--checkpoint-every", "768", *TINY])
    assert code == 0
    (copy / "metrics.json").unlink()
    code, _, err = run(["train", "--out", str(tmp_path), "--run-name", "copy", *TINY], capsys)
    assert code == 2 and "--resume" in err
    code, out, _ = run(["train", "--out", str(tmp_path), "--run-name", "copy", "--resume", "--timesteps", "1536", "--no-progress"], capsys)
    assert code == 0 and (copy / "metrics.json").exists()
    assert json.loads((copy / "metrics.json").read_text())["training"]["timesteps"] == 1536
    code, _, _ = run(["train", "--out", str(tmp_path), "--run-name", "copy", "--overwrite", *TINY], capsys)
    assert code == 0


def test_evaluate_in_another_scenario(finished_run, capsys):
    code, out, _ = run(["evaluate", str(finished_run), "--scenario", "misuse_hawks", "--episodes", "20"], capsys)
    assert code == 0 and "| learned |" in out
    metrics = json.loads((finished_run / "eval" / "metrics-misuse_hawks-20ep-seed12345.json").read_text())
    assert metrics["scenario"] == "misuse_hawks" and metrics["episodes"] == 20
    assert "exploitability" not in metrics  # measured only when asked


def test_evaluate_measures_exploitability_when_asked(finished_run, capsys):
    argv = ["evaluate", str(finished_run), "--episodes", "10", "--exploitability", "--exploitability-episodes", "10", "--br-timesteps", "0"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "exploitability (best of" in out and "lab_0: gain" in out and "lab_0 stands for every lab" in out
    metrics = json.loads((finished_run / "eval" / "metrics-baseline-10ep-seed12345-exploitability10ep-br0.json").read_text())
    assert [lab["lab"] for lab in metrics["exploitability"]["labs"]] == [0]  # interchangeable labs: measured once
    code, _, err = run(["evaluate", str(finished_run), "--exploitability", "--br-timesteps", "-1"], capsys)
    assert code == 2 and "--br-timesteps must be at least 0" in err
    # best responses chosen on fewer episodes than measure their gain: its own file, its method says so
    code, _, _ = run([*argv, "--selection-episodes", "4"], capsys)
    metrics = json.loads((finished_run / "eval" / "metrics-baseline-10ep-seed12345-exploitability10ep-br0-selection4ep.json").read_text())
    assert code == 0 and "chosen on 4 episodes, measured on 10 fresh paired episodes" in metrics["exploitability"]["method"]
    assert metrics["exploitability"]["labs"][0]["gain"]["n"] == 10
    code, _, err = run([*argv, "--selection-episodes", "0"], capsys)
    assert code == 2 and "--selection-episodes must be at least 1" in err


def test_dynamics_that_switch_no_lab_reuse_the_learned_measurement_only_where_it_chose_on_every_episode(monkeypatch):
    # the reached profile is then the learned one; its check chooses on every episode, so a learned
    # measurement that chose on fewer (--selection-episodes) is measured again instead
    import labrace
    import labrace.agents.exploitability as X

    game = labrace.make_game("race_v0", "misuse_hawks", num_labs=2)
    monkeypatch.setattr(X, "best_response_dynamics", lambda game, policies, *a: {"profile": policies, "steps": [], "strategies": [], "converged": True, "cycle": False})
    monkeypatch.setattr(cli, "measure_exploitability", lambda *a, **k: "measured again")
    learned = {"method": "the learned profile's"}
    assert cli.best_response_dynamics_profile(game, ["p", "q"], 2, 10, 0, 256, learned)[1]["check"] is learned
    assert cli.best_response_dynamics_profile(game, ["p", "q"], 2, 10, 0, 256, learned, learned_selection=4)[1]["check"] == "measured again"


def test_evaluate_runs_best_response_dynamics_from_the_learned_profile_when_asked(finished_run, capsys):
    argv = ["evaluate", str(finished_run), "--episodes", "10", "--br-dynamics", "4", "--exploitability-episodes", "20", "--br-timesteps", "256"]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "| learned |" in out and "| after best-response dynamics |" in out and "best-response dynamics over the strategy set" in out
    metrics = json.loads((finished_run / "eval" / "metrics-baseline-10ep-seed12345-brdynamics4-20ep-br256.json").read_text())
    dynamics = metrics["best_response_dynamics"]
    assert len(dynamics["strategies"]) == metrics["config"]["num_labs"] and len(dynamics["steps"]) <= 4 and "profile" not in dynamics
    assert dynamics["converged"] == (dynamics["exploitability"]["exploitability"] <= dynamics["exploitability"]["equilibrium_tolerance"])
    assert "after best-response dynamics" in metrics["profiles"]
    # the reached profile is an equilibrium of the strategy set: a trained PPO best response checks it beyond the set
    check = dynamics["check"]
    assert "a PPO best response (256 steps)" in check["method"] and "checked with" in out and check["verdict"] in out
    assert len(check["labs"]) >= 1 and check["exploitability"] >= 0.0
    code, out, _ = run([*argv[:-1], "0"], capsys)  # --br-timesteps 0: the strategy set only, no check
    metrics = json.loads((finished_run / "eval" / "metrics-baseline-10ep-seed12345-brdynamics4-20ep-br0.json").read_text())
    assert code == 0 and "check" not in metrics["best_response_dynamics"] and "checked with" not in out
    code, _, err = run(["evaluate", str(finished_run), "--br-dynamics", "-1"], capsys)
    assert code == 2 and "--br-dynamics must be at least 0" in err
    code, _, err = run(["evaluate", str(finished_run), "--br-dynamics", "2", "--exploitability-episodes", "1"], capsys)
    assert code == 2 and "--exploitability-episodes" in err and ">= 2" in err


def test_evaluate_learned_only_without_plots_writes_the_learned_and_reached_profiles_alone(finished_run, capsys, tmp_path):
    argv = ["evaluate", str(finished_run), "--episodes", "10", "--br-dynamics", "2", "--exploitability-episodes", "10", "--br-timesteps", "0", "--learned-only", "--no-plots", "--out", str(tmp_path)]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "and plots" not in out
    # a learned-only evaluation is named as one: it never replaces (or passes for) a full one
    tag = "-baseline-10ep-seed12345-brdynamics2-10ep-br0-learnedonly"
    assert {p.name for p in tmp_path.iterdir()} == {f"metrics{tag}.json", f"episodes{tag}.csv"}
    metrics = json.loads((tmp_path / f"metrics{tag}.json").read_text())
    assert set(metrics["profiles"]) == {"learned", "after best-response dynamics"} and not metrics["cross_play"]["rows"]


def test_dynamics_that_switches_no_lab_is_checked_by_the_learned_profile_s_own_measurement(monkeypatch):
    """No switch: the reached profile is the learned one, so the learned profile's exploitability
    (measured with the same episodes and PPO response) is the check; no PPO response trains twice.
    After a switch the reached profile is measured afresh."""
    import labrace
    import labrace.agents.exploitability as module

    game = labrace.make_game("race_v0")
    policies = [labrace.agents.make_baseline("safe", game) for _ in range(game.num_agents)]
    switches: list[dict] = []
    monkeypatch.setattr(module, "best_response_dynamics", lambda game, profile, steps, episodes, seed: {"profile": list(profile), "strategies": ["safe"] * 3, "steps": list(switches)})
    measured = []
    monkeypatch.setattr(cli, "measure_exploitability", lambda game, profile, episodes, seed, br_timesteps: measured.append(seed) or {"measured": seed})
    learned = {"exploitability": 0.01}
    _, record = cli.best_response_dynamics_profile(game, policies, 3, 20, 7, 256, learned)
    assert record["check"] is learned and measured == []
    switches.append({"lab": 0, "from": "safe", "to": "fixed (0.30, 0.70, 0.00)", "gain": 0.1})
    _, record = cli.best_response_dynamics_profile(game, policies, 3, 20, 7, 256, learned)
    assert record["check"] == {"measured": 8} and measured == [8]


def test_train_runs_best_response_dynamics_after_training_when_asked(capsys, tmp_path):
    argv = ["train", "--out", str(tmp_path), "--run-name", "dyn", "--trainer", "simultaneous", "--br-dynamics", "3", "--learned-only", "--no-plots", *TINY]
    code, out, _ = run(argv, capsys)
    assert code == 0 and "best-response dynamics over the strategy set" in out
    config = json.loads((tmp_path / "dyn" / "config.json").read_text())
    metrics = json.loads((tmp_path / "dyn" / "metrics.json").read_text())
    assert config["br_dynamics"] == 3 and "after best-response dynamics" in metrics["profiles"] and "learned" in metrics["profiles"]
    dynamics = metrics["best_response_dynamics"]
    assert len(dynamics["steps"]) <= 3 and len(dynamics["strategies"]) == config["config"]["num_labs"]
    assert "a PPO best response (256 steps)" in dynamics["check"]["method"]  # the run's --br-timesteps checks the reached profile
    code, _, err = run(["train", "--out", str(tmp_path), "--env", "precipice_v0", "--br-dynamics", "2"], capsys)
    assert code == 2 and "--br-dynamics plays a strategy set" in err and sorted(path.name for path in tmp_path.iterdir()) == ["dyn"]  # refused before a folder is made


def test_compare_writes_markdown_and_plots(finished_run, capsys, tmp_path):
    code, out, _ = run(["compare", str(finished_run), str(finished_run), "--out", str(tmp_path / "cmp")], capsys)
    assert code == 0 and out.count("| tiny |") == 2
    assert (tmp_path / "cmp" / "compare.md").exists() and (tmp_path / "cmp" / "compare_learning_curves.png").exists()


def test_independent_trainer_through_the_cli(capsys, tmp_path):
    code, out, _ = run(["train", "--out", str(tmp_path), "--trainer", "independent", "--set", "num_labs=2", "--timesteps", "256", "--eval-episodes", "20", "--no-progress", "--hp", "n_envs=2", "--hp", "n_steps=64", "--hp", "batch_size=64", "--hp", "rounds=2"], capsys)
    assert code == 0 and "convergence check" in out
    run_dir = tmp_path / "race_v0-baseline-independent-ppo-s0"
    assert (run_dir / "models" / "lab_0.zip").exists() and (run_dir / "lab_1.monitor.csv").exists()
    code, out, _ = run(["evaluate", str(run_dir), "--episodes", "10"], capsys)
    assert code == 0


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "--env", "nope_v0"], "unknown environment 'nope_v0'"),
        (["train", "--scenario", "nope"], "unknown race_v0 scenario 'nope'"),
        (["train", "--set", "nope=1"], "unknown RaceConfig field(s) ['nope']"),
        (["train", "--set", "num_labs=40"], "num_labs must be an integer in [2, 16]; got 40"),
        (["train", "--set", "num_labs"], "--set expects NAME=VALUE"),
        (["train", "--algo", "dqn"], "action_type=discrete"),
        (["train", "--hp", "nope=1"], "unknown ppo hyperparameter(s) ['nope']"),
        (["train", "--timesteps", "0"], "--timesteps must be at least 1"),
        (["train", "--trainer", "nope"], "invalid choice: 'nope'"),
        (["train", "--seed", "x"], "invalid int value"),
        (["evaluate", "/nonexistent/run"], "run folder /nonexistent/run does not exist"),
        (["compare", "/nonexistent/run"], "does not exist"),
        (["train", "--resume", "--run-name", "never"], "nothing to resume"),
        # every hyperparameter is checked against its allowed values before anything is written
        (["train", "--hp", "learning_rate=abc"], "learning_rate must be a number in (0.0, 1.0]; got 'abc'"),
        (["train", "--hp", "learning_rate=-1"], "learning_rate must be in (0.0, 1.0]; got -1.0"),
        (["train", "--hp", "n_steps=0"], "n_steps must be an integer in [1, 10000000]; got 0"),
        (["train", "--hp", "batch_size=0"], "batch_size must be an integer in [1, 10000000]; got 0"),
        (["train", "--hp", "gamma=2"], "gamma must be in [0.0, 1.0]; got 2.0"),
        (["train", "--hp", "policy=Foo"], "policy must be one of ['MlpPolicy']; got 'Foo'"),
        (["train", "--hp", "n_envs=abc"], "n_envs must be an integer in [1, 65536]; got 'abc'"),
        (["train", "--trainer", "independent", "--hp", "rounds=0"], "rounds must be an integer in [1, 10000]; got 0"),
        (["train", "--trainer", "independent", "--hp", "focal_env=foo"], "focal_env must be one of ['batched', 'gymnasium']"),
        (["train", "--hp", "policy_kwargs={'foo': 1}"], "rejected by Stable-Baselines3"),
        (["train", "--n-envs", "3000000"], "--n-envs must be in [1, 65536]; got 3000000"),
        (["train", "--seed", "-1"], "--seed must be at least 0; got -1"),
        (["train", "--run-name", ".hidden"], "--run-name must be a plain folder name"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, fragment, capsys, tmp_path):
    code, _, err = run([*argv, "--out", str(tmp_path)] if argv[0] == "train" else argv, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err


def test_help_and_no_argument_entry_point():
    result = subprocess.run([sys.executable, "train.py", "train", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    for option in ("--env", "--scenario", "--set", "--trainer", "--algo", "--timesteps", "--seed", "--n-envs", "--out", "--run-name", "--overwrite", "--resume"):
        assert option in result.stdout
    # `python train.py --seed 3 ...` (no subcommand) means `train`
    assert cli.build_parser().parse_args(["train"]).command == "train"


def test_dsair_default_scenario_trains_and_evaluates(capsys, tmp_path):
    # the commitment strategies need commitments=True: they must not be offered in the default scenario
    code, out, err = run(["train", "--env", "dsair_v0", "--out", str(tmp_path), "--run-name", "d", *TINY], capsys)
    assert code == 0, err
    metrics = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert "VS" not in metrics["profiles"] and "always_safe" in metrics["profiles"]
    assert metrics["exploitability"]["labs"] and "strategies" in metrics["exploitability"]["method"]
    code, _, err = run(["evaluate", str(tmp_path / "d"), "--episodes", "5"], capsys)
    assert code == 0, err


def test_simultaneous_trainer_through_the_cli(capsys, tmp_path):
    code, out, err = run(["train", "--trainer", "simultaneous", "--set", "num_labs=2", "--out", str(tmp_path), "--run-name", "sim", *TINY], capsys)
    assert code == 0, err
    assert (tmp_path / "sim" / "models" / "lab_0.zip").exists() and (tmp_path / "sim" / "models" / "lab_1.zip").exists()
    code, _, err = run(["evaluate", str(tmp_path / "sim"), "--episodes", "5"], capsys)
    assert code == 0, err
    code, _, err = run(["train", "--trainer", "simultaneous", "--algo", "sac", "--out", str(tmp_path), *TINY], capsys)
    assert code == 2 and "on-policy" in err
    code, _, err = run(["train", "--trainer", "simultaneous", "--resume", "--out", str(tmp_path), "--run-name", "sim", *TINY], capsys)
    assert code == 2


# ---- nothing lost: the run folder under reruns, interruptions and a second writer ----------------


def _interrupt_training_at(monkeypatch, step: int) -> None:
    """Make training raise KeyboardInterrupt (as Ctrl-C would) once ``step`` steps are done."""
    import labrace.agents.trainers as trainers
    from stable_baselines3.common.callbacks import BaseCallback

    class CtrlC(BaseCallback):
        def _on_step(self) -> bool:
            if self.num_timesteps >= step:
                raise KeyboardInterrupt
            return True

    original = trainers.training_callbacks
    monkeypatch.setattr(trainers, "training_callbacks", lambda settings, timesteps: original(settings, timesteps) + [CtrlC()])


def test_overwrite_never_touches_a_folder_that_is_not_a_run(capsys, tmp_path):
    precious = tmp_path / "policies"
    (precious / "baseline").mkdir(parents=True)
    (precious / "baseline" / "model.zip").write_bytes(b"committed")
    code, _, err = run(["train", "--out", str(tmp_path), "--run-name", "policies", "--overwrite", *TINY], capsys)
    assert code == 2 and "not a labrace run folder" in err and len(err.strip().splitlines()) == 1
    assert (precious / "baseline" / "model.zip").read_bytes() == b"committed"


def test_a_failed_or_interrupted_overwrite_leaves_the_finished_run_whole(finished_run, capsys, monkeypatch):
    before = {p.relative_to(finished_run): p.read_bytes() for p in finished_run.rglob("*") if p.is_file()}
    code, _, err = run(["train", "--out", str(finished_run.parent), "--run-name", "tiny", "--overwrite", *TINY, "--hp", "gamma=2"], capsys)
    assert code == 2 and "gamma must be in [0.0, 1.0]" in err  # checked before anything is touched
    _interrupt_training_at(monkeypatch, 300)
    code, _, err = run(["train", "--out", str(finished_run.parent), "--run-name", "tiny", "--overwrite", *TINY], capsys)
    assert code == 130 and "unchanged" in err
    after = {p.relative_to(finished_run): p.read_bytes() for p in finished_run.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in finished_run.parent.iterdir()) == ["tiny"]  # no rerun left half-built beside it


def test_overwrite_swaps_in_the_finished_rerun(capsys, tmp_path):
    assert cli.main(["train", "--out", str(tmp_path), "--run-name", "r", *TINY, "--no-plots"]) == 0
    (tmp_path / "r" / "stale.txt").write_text("from the first run")
    code, _, err = run(["train", "--out", str(tmp_path), "--run-name", "r", "--overwrite", *TINY, "--no-plots", "--seed", "1"], capsys)
    assert code == 0, err
    assert not (tmp_path / "r" / "stale.txt").exists() and json.loads((tmp_path / "r" / "config.json").read_text())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_a_second_writer_is_refused(capsys, tmp_path):
    from labrace.agents.runs import run_lock

    with run_lock(tmp_path / "busy"):  # as another train.py writing the run would hold it
        code, _, err = run(["train", "--out", str(tmp_path), "--run-name", "busy", "--overwrite", *TINY], capsys)
    assert code == 2 and "being written by another train.py" in err
    assert not (tmp_path / "busy").exists()


def test_bad_input_leaves_no_folder_behind(capsys, tmp_path):
    for bad in (["--hp", "learning_rate=abc"], ["--hp", "n_steps=0"], ["--seed", "-1"], ["--n-envs", "3000000"]):
        code, _, err = run(["train", "--out", str(tmp_path), "--run-name", "x", *TINY, *bad], capsys)
        assert code == 2, bad
    assert list(tmp_path.iterdir()) == []


def test_resume_reproduces_the_uninterrupted_run(capsys, tmp_path, monkeypatch):
    """Interrupted at 1,900 steps and resumed from its 1,536-step checkpoint, a run ends exactly as the
    uninterrupted run with the same seed (metrics.json equal but for wall-clock times and the resume record)."""
    argv = ["--out", str(tmp_path), "--timesteps", "2304", "--checkpoint-every", "768", *TINY[2:], "--no-plots"]
    assert cli.main(["train", "--run-name", "whole", *argv]) == 0
    with monkeypatch.context() as patch:
        _interrupt_training_at(patch, 1_900)
        code, _, err = run(["train", "--run-name", "cut", *argv], capsys)
    assert code == 130 and "--resume" in err
    monitor_before = (tmp_path / "cut" / "monitor.csv").read_bytes()
    code, out, _ = run(["train", "--run-name", "cut", "--resume", "--out", str(tmp_path), "--no-progress", "--no-plots"], capsys)
    assert code == 0 and "resumed at step 1,536: identical to an uninterrupted run" in out
    assert (tmp_path / "cut" / "monitor.csv").read_bytes() == monitor_before  # the first part of the curve is kept

    def comparable(path):
        def strip(value):
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if k not in ("wall_seconds", "resumed", "resumed_at_step", "resumed_exactly")}
            return [strip(v) for v in value] if isinstance(value, list) else value

        return strip(json.loads(path.read_text()))

    resumed = json.loads((tmp_path / "cut" / "metrics.json").read_text())["training"]["resumed"]
    assert resumed == {"at_step": 1536, "identical_to_uninterrupted": True}
    assert comparable(tmp_path / "cut" / "metrics.json") == comparable(tmp_path / "whole" / "metrics.json")
    # only the newest two checkpoints are kept
    assert sorted(p.name for p in (tmp_path / "whole" / "checkpoints").glob("*.zip")) == ["model_1536_steps.zip", "model_2304_steps.zip"]


def test_ctrl_c_during_evaluation_resumes_without_training_again(capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(cli, "evaluate_run", interrupted)
        code, _, err = run(["train", "--out", str(tmp_path), "--run-name", "e", *TINY, "--no-plots"], capsys)
    assert code == 130 and "train.py train --resume --run-name e" in err
    code, out, _ = run(["train", "--out", str(tmp_path), "--run-name", "e", "--resume", "--no-progress", "--no-plots"], capsys)
    assert code == 0 and "training had finished before the interruption" in out
    assert (tmp_path / "e" / "metrics.json").exists()


# ---- evaluate: a run's files are read, never required to be writable ---------------------------


def test_evaluate_a_read_only_run_into_another_folder_naming_every_setting(finished_run, capsys, tmp_path):
    import os
    import stat

    mode = finished_run.stat().st_mode
    os.chmod(finished_run, stat.S_IRUSR | stat.S_IXUSR)
    try:
        for episodes in ("5", "6"):
            code, _, err = run(["evaluate", str(finished_run), "--episodes", episodes, "--out", str(tmp_path / "ev")], capsys)
            assert code == 0, err
    finally:
        os.chmod(finished_run, mode)
    assert {p.name for p in (tmp_path / "ev").glob("metrics-*.json")} == {"metrics-baseline-5ep-seed12345.json", "metrics-baseline-6ep-seed12345.json"}


def test_evaluate_reports_an_unloadable_or_mismatched_policy_in_one_line(finished_run, capsys, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    for damage, fragment in [
        (lambda run: (run / "model.zip").write_bytes(b"PK\x03\x04 truncated"), "cannot load the policy"),
        (lambda run: (run / "model.zip").unlink(), "has no saved model model.zip"),
        (lambda run: (run / "model.json").write_text('{"format": 1, "ki'), "cannot load the policy"),
    ]:
        shutil.rmtree(broken, ignore_errors=True)
        shutil.copytree(finished_run, broken)
        damage(broken)
        code, _, err = run(["evaluate", str(broken), "--episodes", "5"], capsys)
        assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
        assert "zip.zip" not in err
    code, _, err = run(["evaluate", str(finished_run), "--scenario", "pivotal_act", "--episodes", "5"], capsys)
    assert code == 2 and "actions of shape (3,)" in err and "(4,)" in err
    code, _, err = run(["evaluate", str(finished_run), "--episodes", "5", "--out", str(finished_run / "config.json")], capsys)
    assert code == 2 and "is not a folder" in err


def test_ctrl_c_during_evaluate_writes_nothing_and_says_so(finished_run, capsys, tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "evaluate_run", interrupted)
    code, _, err = run(["evaluate", str(finished_run), "--episodes", "5", "--out", str(tmp_path / "ev")], capsys)
    assert code == 130 and "no evaluation written" in err and "Traceback" not in err
    assert not list((tmp_path / "ev").glob("metrics-*.json"))
