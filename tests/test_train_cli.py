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
    assert {"torch", "stable-baselines3", "numpy", "labrace"} <= set(config["versions"])
    metrics = json.loads((finished_run / "metrics.json").read_text())
    assert "learned" in metrics["profiles"] and "random" in metrics["profiles"]
    learned = metrics["profiles"]["learned"]
    assert {"outcomes", "return_per_lab", "welfare", "time_to_outcome", "shares", "racing_index", "coordination_index"} <= set(learned)
    assert metrics["cross_play"]["rows"] and metrics["training"]["timesteps"] >= 768
    exploitability = metrics["exploitability"]  # beside every learned profile: per-lab gain, CI, response
    assert [lab["lab"] for lab in exploitability["labs"]] == [0, 1, 2]
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
    assert code == 0 and "exploitability (best of" in out and "lab_2: gain" in out
    metrics = json.loads((finished_run / "eval" / "metrics-baseline-10ep-seed12345-exploitability10ep-br0.json").read_text())
    assert len(metrics["exploitability"]["labs"]) == 3
    code, _, err = run(["evaluate", str(finished_run), "--exploitability", "--br-timesteps", "-1"], capsys)
    assert code == 2 and "--br-timesteps must be at least 0" in err


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
