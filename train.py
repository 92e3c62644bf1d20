"""labrace's command line: train a policy, evaluate it against the scripted baselines, compare runs.

    python train.py                      # the default run: race_v0 baseline, shared PPO (~1-2 min)
    python train.py train --env race_v0 --scenario cruel_tradeoff --timesteps 500000
    python train.py train --trainer independent --set num_labs=2
    python train.py train --algo dqn --set action_type=discrete
    python train.py evaluate results/<run> --scenario misuse_hawks --episodes 2000
    python train.py compare results/<run-a> results/<run-b>
    python train.py sweep all --budget small   # the reference study → results/REPORT.md (about 20 min on 2 cores, more on slower machines)

One readable path from arguments to results (in the manner of CleanRL): arguments → validated
config (the env's own checks; a bad value exits 2 with one line naming it) → trainer
(:mod:`labrace.agents.trainers`) → evaluation (:mod:`labrace.agents.evaluation`) → ``results/<run>/``:

* ``config.json``: env, scenario, overrides, every config field, trainer, algorithm, resolved
  hyperparameters, seed, package versions (written first);
* ``model.zip`` (shared) or ``models/lab_<i>.zip`` (independent), each with a ``.json`` sidecar;
* ``checkpoints/`` (periodic, for ``--resume``), ``tb/`` (TensorBoard), ``*monitor.csv``;
* ``episodes.csv``: one row per evaluation episode of every profile;
* ``learning_curve.png``, ``shares_over_time.png``, ``outcomes.png``;
* ``metrics.json``: DESIGN.md §4 metrics of the learned profile and of every baseline, cross-play,
  and the trainer's report (written last: its presence marks a finished run).

Every file is written atomically (a temporary file in the same folder, then ``os.replace``). A
rerun into a finished run's folder refuses (exit 2) unless ``--overwrite``; an interrupted run
continues with ``--resume``.
"""

from __future__ import annotations

import argparse
import ast
import csv
import dataclasses
import io
import json
import os
import platform
import re
import shutil
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_ENV = "race_v0"
DEFAULT_EVAL_EPISODES = 1000
DEFAULT_EXPLOITABILITY_EPISODES = 500
RESULTS = Path("results")


class UsageError(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class HelpFormatter(argparse.HelpFormatter):
    """Shows an option's default where it has a meaningful one (not None, False or [])."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "default" not in text and action.default not in (None, False, [], argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``train.py <cmd>: error: …``), exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from labrace.agents.exploitability import DEFAULT_BR_TIMESTEPS
    from labrace.agents.hyperparams import DEFAULT_TIMESTEPS
    from labrace.agents.trainers import ALGORITHMS, TRAINERS
    from labrace.envs import ENVIRONMENTS

    parser = OneLineParser(
        prog="train.py",
        description="Train, evaluate and compare policies on the labrace environments. "
        "With no arguments: `train` with the defaults (race_v0 baseline, shared PPO).",
        epilog="examples:\n"
        "  python train.py\n"
        "  python train.py train --scenario cruel_tradeoff --timesteps 500000\n"
        "  python train.py train --trainer independent --set num_labs=2\n"
        "  python train.py train --algo dqn --set action_type=discrete\n"
        "  python train.py evaluate results/<run> --scenario misuse_hawks\n"
        "  python train.py compare results/<run-a> results/<run-b>\n"
        "  python train.py sweep h1 --budget small\n"
        "`python train.py <command> --help` explains each option.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="{train,evaluate,compare,sweep}")

    train = commands.add_parser("train", help="train a policy and evaluate it against the baselines", formatter_class=HelpFormatter)
    train.add_argument("--env", default=DEFAULT_ENV, help=f"environment, one of {sorted(ENVIRONMENTS)}")
    train.add_argument("--scenario", default=None, help="named scenario of the env (default: 'baseline' where it exists)")
    train.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="override one config field; VALUE is a Python literal (strings may go unquoted); repeatable")
    train.add_argument("--trainer", default="shared", choices=TRAINERS, help="shared: one PPO-style policy for all labs on the batched VecEnv; independent: one model per lab, alternating best responses; simultaneous: one model per lab (PPO, A2C), all learning at once from their rows of the batched VecEnv")
    train.add_argument("--algo", default="ppo", choices=ALGORITHMS, help="SB3 algorithm (sac: continuous actions only; dqn: discrete only, e.g. --set action_type=discrete)")
    train.add_argument("--timesteps", type=int, default=None, help=f"training steps (shared: agent-steps over all labs, default {DEFAULT_TIMESTEPS['shared']:,}; independent: per lab over all rounds, default {DEFAULT_TIMESTEPS['independent']:,}; an env's budget in agents/hyperparams.py, e.g. precipice_v0 200,000, comes first)")
    train.add_argument("--seed", type=int, default=0, help="seed of training and evaluation")
    train.add_argument("--n-envs", type=int, default=None, help="parallel games: in the shared VecEnv (each gives one row per lab), or in each learning lab's single-agent VecEnv (independent); default from agents/hyperparams.py")
    train.add_argument("--hp", action="append", default=[], metavar="KEY=VALUE", help="override one hyperparameter of agents/hyperparams.py (e.g. learning_rate=1e-3, rounds=4); repeatable")
    train.add_argument("--out", default=str(RESULTS), help="folder that holds the run folders")
    train.add_argument("--run-name", default=None, help="run folder name (default: <env>-<scenario>-<trainer>-<algo>-s<seed>)")
    train.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    train.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint (uses the run's saved config; --timesteps may raise the budget)")
    train.add_argument("--eval-episodes", type=int, default=DEFAULT_EVAL_EPISODES, help="evaluation episodes per policy profile")
    train.add_argument("--checkpoint-every", type=int, default=100_000, help="save a checkpoint every this many steps (shared trainer)")
    train.add_argument("--keep-checkpoints", type=int, default=2, help="checkpoints kept (the newest; the final model is saved apart)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--no-plots", action="store_true", help="skip the plots (sweeps: the study draws its own figures)")
    train.add_argument("--learned-only", action="store_true", help="evaluate the learned policy only: no baselines, no cross-play (sweeps)")
    add_exploitability_options(train)
    train.set_defaults(func=cmd_train)

    from labrace.agents.studies import list_studies

    sweep = commands.add_parser(
        "sweep",
        help="run a study (a grid of configs x seeds, agents/studies/<study>.py) and write results/REPORT.md",
        formatter_class=HelpFormatter,
    )
    sweep.add_argument("study", choices=[*list_studies(), "all"], help="which study; 'all' runs every one that has the budget (the canonical study: full only)")
    sweep.add_argument("--budget", default="small", choices=["small", "full"], help="small: the whole report in about 20 min on 2 cores (more on slower machines); full: the published figures")
    sweep.add_argument("--backend", default="local", choices=["local", "ray"], help="local worker processes, or Ray core tasks (needs the rllib extra)")
    sweep.add_argument("--address", default=None, help="Ray cluster address (default: start a local Ray instance)")
    sweep.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="parallel runs with the local backend")
    sweep.add_argument("--out", default=str(RESULTS / "studies"), help="folder of the run folders (<out>/<budget>/<study>/<point>-s<seed>)")
    sweep.add_argument("--report", default=None, help="the report whose study sections are updated from the finished runs (default: results/REPORT.md for the small budget, results/REPORT-full.md for the full one)")
    sweep.add_argument("--report-only", action="store_true", help="do not train; update the report from the runs already finished")
    sweep.add_argument("--replace", action="store_true", help="replace report sections even with fewer finished runs than they hold (by default such sections are kept)")
    sweep.add_argument(
        "--br-dynamics", type=int, default=0, metavar="STEPS",
        help="also run best-response dynamics over the strategy set (at most STEPS switches) from every finished equilibrium-lens run's learned profile "
        "(its files in RUN/br-dynamics/) and write br-dynamics.md beside the report (the full budget: br-dynamics-full.md): learned and reached profiles side by side",
    )  # fmt: skip
    sweep.add_argument(
        "--br-timesteps", type=int, default=None,
        help=f"with --br-dynamics: steps of the PPO best response per lab that checks each reached profile (race_v0; default {DEFAULT_BR_TIMESTEPS['race_v0']:,}; 0: no check, the strategy set only)",
    )  # fmt: skip
    sweep.set_defaults(func=cmd_sweep)

    evaluate = commands.add_parser("evaluate", help="evaluate a finished run's policy (optionally in another scenario) against the baselines", formatter_class=HelpFormatter)
    evaluate.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by `train`")
    evaluate.add_argument("--episodes", type=int, default=DEFAULT_EVAL_EPISODES, help="episodes per policy profile")
    evaluate.add_argument("--scenario", default=None, help="evaluate in this scenario instead of the training one (the run's --set overrides still apply)")
    evaluate.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE", help="further config overrides for evaluation; repeatable")
    evaluate.add_argument("--seed", type=int, default=12345, help="evaluation seed")
    evaluate.add_argument("--exploitability", action="store_true", help="also measure the learned profile's exploitability (best-response gain per lab) in this scenario")
    evaluate.add_argument("--out", default=None, help="folder for the evaluation's files, named by all its settings (default: RUN_DIR/eval; give another for a read-only run)")
    evaluate.add_argument("--learned-only", action="store_true", help="evaluate the learned profile (and the one best-response dynamics reaches) only: no baselines, no cross-play")
    evaluate.add_argument("--no-plots", action="store_true", help="skip the plots")
    add_exploitability_options(evaluate)
    evaluate.set_defaults(func=cmd_evaluate)

    compare = commands.add_parser("compare", help="markdown table and plots of several runs", formatter_class=HelpFormatter)
    compare.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="finished run folders")
    compare.add_argument("--out", default=str(RESULTS / "compare"), help="folder for compare.md and the plots")
    compare.set_defaults(func=cmd_compare)
    return parser


def add_exploitability_options(parser: argparse.ArgumentParser) -> None:
    from labrace.agents.exploitability import DEFAULT_BR_TIMESTEPS

    parser.add_argument("--exploitability-episodes", type=int, default=DEFAULT_EXPLOITABILITY_EPISODES, help="episodes per candidate best response (precipice_v0 public: drawn games; exact elsewhere in precipice_v0); 0 skips the measure in `train`")
    parser.add_argument("--selection-episodes", type=int, default=None, help="episodes on which every candidate of the strategy set plays to choose each lab's best response, whose gain is then measured on --exploitability-episodes fresh ones (default: --exploitability-episodes; fewer save most of the measure's time; not in --br-dynamics, whose steps choose on --exploitability-episodes)")
    parser.add_argument("--br-timesteps", type=int, default=None, help=f"steps of the trained PPO best response per lab (race_v0; default {DEFAULT_BR_TIMESTEPS['race_v0']:,}; 0: strategy grid and baselines only); with --br-dynamics it also checks the profile the dynamics reaches")
    parser.add_argument("--br-dynamics", type=int, default=0, metavar="STEPS", help="also run best-response dynamics over the strategy set from the learned profile (each step the lab that gains most switches to its best response, measured on --exploitability-episodes episodes; at most STEPS switches; race_v0, dsair_v0, commons_v0) and evaluate the profile it reaches beside the learned one")


def check_exploitability_options(args: argparse.Namespace, game: Any) -> None:
    """The exploitability options' ranges, and whether ``game`` can play best-response dynamics."""
    check_minimums(("--exploitability-episodes", args.exploitability_episodes, 0), ("--selection-episodes", args.selection_episodes, 1), ("--br-timesteps", args.br_timesteps, 0), ("--br-dynamics", args.br_dynamics, 0))
    if args.br_dynamics and args.exploitability_episodes < 2:
        raise UsageError(f"--br-dynamics measures best responses on --exploitability-episodes episodes, which must be >= 2 with it; got {args.exploitability_episodes}")
    if args.br_dynamics and game.name == "precipice_v0":
        raise UsageError("--br-dynamics plays a strategy set (race_v0, dsair_v0, commons_v0); precipice_v0's best responses are exact (--exploitability)")


def best_response_dynamics_profile(
    game: Any, policies: list[Any], steps: int, episodes: int, seed: int, br_timesteps: int | None = None, learned: dict[str, Any] | None = None, learned_selection: int | None = None
) -> tuple[dict[str, list[Any]], dict[str, Any] | None]:
    """``({"after best-response dynamics": profile}, record)`` for evaluate_run and metrics.json
    (``({}, None)`` where ``steps`` is 0).

    The dynamics ends at an equilibrium of the strategy set, so the set alone cannot check it: where
    a PPO best response is trained (``br_timesteps``, the game's default where None), the reached
    profile's exploitability is measured again with it added to the set, on fresh episodes
    (``record["check"]``; in one of 20 H1 seeds it found a gain of 0.87 the set missed). Where the
    dynamics switches no lab, the reached profile is the learned one: ``learned``, the learned
    profile's exploitability measured by :func:`measure_exploitability` with the same episodes and
    ``br_timesteps``, is then the check, instead of training the same PPO responses twice; but not
    where it chose its best responses on ``learned_selection`` episodes (the check chooses on all)."""
    if not steps:
        return {}, None
    from labrace.agents.exploitability import best_response_dynamics, br_learner_steps

    print(f"best-response dynamics from the learned profile (at most {steps} switches) ...")
    record = best_response_dynamics(game, policies, steps, episodes, seed)
    reached = record.pop("profile")
    if br_learner_steps(game.name, br_timesteps) > 0:
        if not record["steps"] and learned is not None and learned_selection is None:
            record["check"] = learned
        else:
            record["check"] = measure_exploitability(game, reached, episodes, seed + 1, br_timesteps)
    return {"after best-response dynamics": reached}, record


def parse_assignments(items: list[str], option: str) -> dict[str, Any]:
    """``["a=1", "b=discrete"]`` → ``{"a": 1, "b": "discrete"}`` (Python literals, else strings)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise UsageError(f"{option} expects NAME=VALUE; got {item!r}")
        try:
            out[key] = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            out[key] = text.strip()
    return out


# --------------------------------------------------------------------------------------------
# The run's config
# --------------------------------------------------------------------------------------------


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("labrace", "numpy", "gymnasium", "pettingzoo", "stable-baselines3", "torch"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def default_scenario(env: str) -> str:
    from labrace.envs import load

    scenarios = load(env).SCENARIOS
    return "baseline" if "baseline" in scenarios else next(iter(scenarios))


def make_game_or_exit(env: str, scenario: str | None, overrides: dict[str, Any]) -> Any:
    """The env's game; its ValueErrors (unknown env, scenario or field; bad value) become usage errors."""
    from labrace.envs import get_entry, make_game

    try:
        get_entry(env)
        return make_game(env, scenario or default_scenario(env), **overrides)
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def check_hyperparams(algo: str, params: dict[str, Any]) -> None:
    """Unknown hyperparameter names are usage errors (not a TypeError deep inside SB3)."""
    import inspect

    from labrace.agents.hyperparams import TRAINER_KEYS
    from labrace.agents.trainers import algorithm_class

    reserved = {"self", "env", "seed", "device", "tensorboard_log", "verbose", "_init_setup_model"}  # set by train.py itself
    accepted = set(inspect.signature(algorithm_class(algo).__init__).parameters) - reserved
    unknown = sorted(set(params) - accepted - set(TRAINER_KEYS))
    if unknown:
        raise UsageError(f"unknown {algo} hyperparameter(s) {unknown}; valid: {sorted(accepted | set(TRAINER_KEYS))}")


def check_minimums(*options: tuple[str, int | None, int]) -> None:
    """Each ``(option, value, least)``: a value below its least (None: not given) is a usage error."""
    for name, value, low in options:
        if value is not None and value < low:
            raise UsageError(f"{name} must be at least {low}; got {value}")


def writable_folder(path: str, option: str) -> Path:
    """``path`` as a folder this process can write into (made if missing); a UsageError otherwise."""
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {path} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create {option} {path}: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path} is not writable")
    return folder


def resolve_train_config(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    """The JSON-ready run config and the game it describes (raises UsageError on bad input)."""
    from labrace.agents.hyperparams import get_hyperparams, resolved_timesteps
    from labrace.agents.trainers import check_algorithm, check_trainer_settings

    overrides = parse_assignments(args.set, "--set")
    game = make_game_or_exit(args.env, args.scenario, overrides)
    try:
        check_algorithm(args.algo, game)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.trainer == "simultaneous" and args.algo not in ("ppo", "a2c"):
        raise UsageError(f"the simultaneous trainer runs on-policy learners (--algo ppo or a2c); got --algo {args.algo}")
    hp = parse_assignments(args.hp, "--hp")
    if args.n_envs is not None:
        hp["n_envs"] = args.n_envs
    check_minimums(
        ("--timesteps", args.timesteps, 1), ("--n-envs", args.n_envs, 1), ("--eval-episodes", args.eval_episodes, 1), ("--checkpoint-every", args.checkpoint_every, 1),
        ("--keep-checkpoints", args.keep_checkpoints, 1), ("--seed", args.seed, 0),
    )  # fmt: skip
    check_exploitability_options(args, game)
    if args.n_envs is not None and args.n_envs > 65_536:
        raise UsageError(f"--n-envs must be in [1, 65536]; got {args.n_envs}")
    if args.seed >= 2**32:
        raise UsageError(f"--seed must be in [0, {2**32 - 1}]; got {args.seed}")
    hyperparams = get_hyperparams(args.env, args.algo, args.trainer, hp)
    check_hyperparams(args.algo, hyperparams)
    try:  # every value in range, and the SB3 model builds: nothing fails after a folder is made
        check_trainer_settings(game, args.algo, args.trainer, hyperparams)
    except ValueError as exc:
        raise UsageError(f"--hp: {exc}") from None
    scenario = args.scenario or default_scenario(args.env)
    config = {
        "format": 1,
        "command": args.command_line,
        "env": args.env,
        "scenario": scenario,
        "overrides": {k: repr(v) for k, v in overrides.items()},  # Python literals (read back with ast.literal_eval)
        "config": dataclasses.asdict(game.config),
        "trainer": args.trainer,
        "algo": args.algo,
        "timesteps": args.timesteps or resolved_timesteps(hyperparams, args.trainer),
        "seed": args.seed,
        "hyperparams": hyperparams,
        "eval_episodes": args.eval_episodes,
        "learned_only": args.learned_only,
        "exploitability_episodes": args.exploitability_episodes,
        "selection_episodes": args.selection_episodes,
        "br_timesteps": args.br_timesteps,
        "br_dynamics": args.br_dynamics,
        "checkpoint_every": args.checkpoint_every,
        "keep_checkpoints": args.keep_checkpoints,
        "versions": package_versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return config, game


def game_from_config(config: dict[str, Any], scenario: str | None = None, extra: dict[str, Any] | None = None) -> Any:
    overrides = {k: ast.literal_eval(v) for k, v in config["overrides"].items()}
    overrides.update(extra or {})
    return make_game_or_exit(config["env"], scenario or config["scenario"], overrides)


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"{path.parent} is not a labrace run folder (no {path.name})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON: {exc}") from None


# --------------------------------------------------------------------------------------------
# train
# --------------------------------------------------------------------------------------------


def cmd_train(args: argparse.Namespace) -> int:
    """Validate everything, take the run folder's lock, then train and evaluate (see :func:`train_run`)."""
    from labrace.agents.runs import RunBusy, run_lock

    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    config, game = resolve_train_config(args)
    name = args.run_name or f"{config['env']}-{config['scenario']}-{config['trainer']}-{config['algo']}-s{config['seed']}"
    if not name or "/" in name or name.startswith(".") or name in (".", ".."):
        raise UsageError(f"--run-name must be a plain folder name (no '/', not starting with '.'); got {name!r}")
    run_dir = writable_folder(args.out, "--out") / name
    try:
        with run_lock(run_dir):
            return train_run(args, config, game, run_dir)
    except RunBusy as exc:
        raise UsageError(str(exc)) from None


def train_run(args: argparse.Namespace, config: dict[str, Any], game: Any, run_dir: Path) -> int:
    """Train into ``run_dir`` (held locked by the caller), evaluate, write metrics.json last.

    A new run is built in ``run_dir`` itself (an interrupted one continues with ``--resume``); a
    rerun over an existing run (``--overwrite``) is built in a hidden sibling folder and replaces
    the old run only once it has finished, so an interrupted or failed rerun changes nothing.
    """
    from labrace.agents.policy import write_json
    from labrace.agents.runs import is_finished, is_run_folder, staging_folder, swap_in

    finished = is_finished(run_dir)
    if finished and getattr(args, "default_run", False):
        # `python train.py` again: the default run is deterministic and done; show it, change nothing
        print(summary_table(read_json(run_dir / "metrics.json")))
        print(f"\n{run_dir} is already trained (same seed, same result); `python train.py train --overwrite` trains it again")
        return 0
    occupied = run_dir.exists() and any(run_dir.iterdir())
    if occupied and not is_run_folder(run_dir):
        raise UsageError(f"{run_dir} exists and is not a labrace run folder (no readable config.json); train.py never replaces it: choose another --run-name or --out")
    target = run_dir
    if args.resume:
        if not occupied:
            raise UsageError(f"nothing to resume in {run_dir} (no config.json)")
        if finished:
            raise UsageError(f"{run_dir} is a finished run; nothing to resume (use --overwrite to train it again)")
        saved = read_json(run_dir / "config.json")
        if args.timesteps:
            saved["timesteps"] = args.timesteps
        config, game = saved, game_from_config(saved)
    elif occupied:
        if not args.overwrite:
            state = "a finished run" if finished else "an unfinished run (use --resume to continue it)"
            raise UsageError(f"{run_dir} already holds {state}; pass --overwrite to replace it")
        target = staging_folder(run_dir)
        if target.exists():  # a rerun cut off before (we hold the lock: nobody else is writing it)
            shutil.rmtree(target)
    created = not run_dir.exists()
    target.mkdir(parents=True, exist_ok=True)
    if not args.resume:
        write_json(target / "config.json", config)
    replacing = " (built beside the old run, which it replaces when finished)" if target != run_dir else ""
    print(f"training {config['trainer']} {config['algo']} on {config['env']}/{config['scenario']} for {config['timesteps']:,} steps (seed {config['seed']}) → {run_dir}{replacing}")
    try:
        metrics = train_and_evaluate(args, config, game, target)
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        if target != run_dir:
            shutil.rmtree(target, ignore_errors=True)
            print(f"\n{'interrupted' if interrupted else 'failed'}: {run_dir} is unchanged (the unfinished rerun was removed)", file=sys.stderr)
        elif created and not has_progress(run_dir):
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing worth resuming: leave no folder that blocks a rerun
        elif interrupted:
            print(f"\ninterrupted; continue with: python train.py train --resume --run-name {run_dir.name} --out {run_dir.parent}", file=sys.stderr)
        if interrupted:
            return 130
        raise
    if target != run_dir:
        swap_in(target, run_dir)
    print(summary_table(metrics))
    if "exploitability" in metrics:
        print(exploitability_lines(metrics["exploitability"]))
    if "best_response_dynamics" in metrics:
        print(dynamics_lines(metrics["best_response_dynamics"]))
    if metrics["training"]["trainer"] == "independent":
        print(convergence_table(metrics["training"]["report"]))
    if metrics["training"].get("resumed"):
        resumed = metrics["training"]["resumed"]
        same = "identical to an uninterrupted run" if resumed["identical_to_uninterrupted"] else "NOT identical to an uninterrupted run with this seed"
        print(f"\nresumed at step {resumed['at_step']:,}: {same} (metrics.json: training.resumed)")
    print(f"\nwrote {run_dir}/ (config.json, metrics.json, episodes.csv, plots); training took {metrics['training']['wall_seconds']:.0f} s")
    return 0


def has_progress(run_dir: Path) -> bool:
    """Does an unfinished run hold anything worth resuming (a checkpoint, a model, finished training)?"""
    return any(run_dir.glob("checkpoints/*.zip")) or any(run_dir.glob("models/*.zip")) or (run_dir / "model.zip").exists() or (run_dir / "training.json").exists()


def train_and_evaluate(args: argparse.Namespace, config: dict[str, Any], game: Any, run_dir: Path) -> dict[str, Any]:
    """Train (or, resuming a run whose training had finished, load its policies), then evaluate.

    ``training.json`` is written when training ends, so an interruption during evaluation is
    resumed without training again; ``metrics.json`` is written last and marks the run finished.
    """
    from labrace.agents.policy import write_json
    from labrace.agents.runs import read_json_or_none

    training = read_json_or_none(run_dir / "training.json") if args.resume else None
    if training is not None and training.get("budget") != config["timesteps"]:
        training = None  # resumed with a larger --timesteps: training goes on from the last checkpoint
    if training is None:
        start = time.perf_counter()
        result = train(config, game, run_dir, resume=args.resume, progress_bar=not args.no_progress)
        training = {"trainer": result.trainer, "algo": result.algo, "timesteps": result.timesteps, "budget": config["timesteps"], "wall_seconds": round(time.perf_counter() - start, 2), "report": result.report}
        resumed_at = result.report.get("resumed_at_step")
        if resumed_at is not None:
            training["resumed"] = {"at_step": resumed_at, "identical_to_uninterrupted": bool(result.report.get("resumed_exactly"))}
        write_json(run_dir / "training.json", training)
        policies = result.policies
    else:
        print("training had finished before the interruption: evaluating its policies")
        policies = load_run_policies(run_dir, config, game)
    episodes = config.get("exploitability_episodes", DEFAULT_EXPLOITABILITY_EPISODES)
    exploitability = learned = None  # learned: measured here, with the settings the dynamics' check uses
    if "convergence" in training["report"]:  # the independent trainer's convergence check measured it already
        exploitability = training["report"]["convergence"]["exploitability"]
    elif episodes > 0:
        exploitability = learned = measure_exploitability(game, policies, episodes, config["seed"] + 2, config.get("br_timesteps"), config.get("selection_episodes"))
    extra, dynamics = best_response_dynamics_profile(game, policies, config.get("br_dynamics", 0), episodes, config["seed"] + 3, config.get("br_timesteps"), learned, config.get("selection_episodes"))
    metrics = evaluate_run(game, policies, config["eval_episodes"], config["seed"] + 1, run_dir, plots=not args.no_plots, baselines=not args.learned_only, extra_profiles=extra)
    if dynamics is not None:
        metrics["best_response_dynamics"] = dynamics
    metrics["training"] = training
    if exploitability is not None:
        metrics["exploitability"] = exploitability
    if not args.no_plots:
        plot_learning_curve(run_dir)
    write_json(run_dir / "metrics.json", metrics)  # last: marks the run finished
    return metrics


def train(config: dict[str, Any], game: Any, run_dir: Path, resume: bool = False, progress_bar: bool = True):
    """Run the configured trainer; save the model(s) into ``run_dir``."""
    from labrace.agents.policy import SB3Policy
    from labrace.agents.trainers import train_independent, train_shared, train_simultaneous

    common = dict(algo=config["algo"], timesteps=config["timesteps"], seed=config["seed"], hyperparams=config["hyperparams"], run_dir=run_dir, progress_bar=progress_bar, resume=resume)
    if config["trainer"] == "shared":
        result = train_shared(game, checkpoint_every=config.get("checkpoint_every"), keep_checkpoints=config.get("keep_checkpoints", 2), **common)
        SB3Policy(result.models[0], name="learned", action_transform=result.policies[0].action_transform).save(run_dir / "model")
    elif config["trainer"] == "simultaneous":
        if common.pop("resume"):
            raise UsageError("--resume is not supported by the simultaneous trainer (it saves its models at the end); train the run again with --overwrite")
        result = train_simultaneous(game, **common)
    else:
        result = train_independent(game, eval_episodes=min(config["eval_episodes"], 500), **common)
    return result


def load_run_policies(run_dir: Path, config: dict[str, Any], game: Any) -> list[Any]:
    """The learned policy of each lab of a finished run (a UsageError if it cannot play ``game``)."""
    from labrace.agents.policy import load_policy

    paths = [run_dir / "model"] if config["trainer"] == "shared" else [run_dir / "models" / f"lab_{i}" for i in range(len(list((run_dir / "models").glob("lab_*.zip"))))]
    if not paths:
        raise UsageError(f"{run_dir} holds no saved models (models/lab_<i>.zip)")
    loaded = []
    for path in paths:
        zip_path = path.with_suffix(".zip")
        if not zip_path.exists():
            raise UsageError(f"{run_dir} has no saved model {zip_path.relative_to(run_dir)}")
        try:
            loaded.append(load_policy(path))
        except Exception as exc:  # noqa: BLE001 (a truncated or foreign zip or JSON fails in many ways)
            raise UsageError(f"cannot load the policy {zip_path} ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else 'unreadable'})") from None
    policies = loaded * game.num_agents if config["trainer"] == "shared" else loaded
    model = policies[0].model
    observations, actions = model.observation_space.shape, model.action_space.shape
    if observations != game.observation_space.shape or actions != game.action_space.shape or len(policies) != game.num_agents:
        raise UsageError(
            f"the run's policy plays {len(policies)} labs with observations of shape {observations} and actions of shape {actions}; "
            f"this config ({game.name}) has {game.num_agents} labs, observations {game.observation_space.shape} and actions {game.action_space.shape}: "
            "evaluate it in a scenario with the same observation and action layout"
        )
    return policies


# --------------------------------------------------------------------------------------------
# Evaluation, tables and plots
# --------------------------------------------------------------------------------------------


def evaluate_run(
    game: Any, learned: list[Any], episodes: int, seed: int, out_dir: Path, tag: str = "", plots: bool = True, baselines: bool = True, extra_profiles: dict[str, list[Any]] | None = None
) -> dict[str, Any]:
    """Learned profile, ``extra_profiles`` and every scripted baseline (self-play), cross-play, CSV and plots."""
    from labrace.agents.baselines import available_baselines, make_baseline
    from labrace.agents.evaluation import cross_play, episode_rows, rollout, summarize

    baselines = available_baselines(game) if baselines else []
    profiles: dict[str, Any] = {"learned": learned, **(extra_profiles or {})}
    profiles.update({name: make_baseline(name, game) for name in baselines})
    summaries, rows = {}, []
    learned_rollouts = None
    for name, policies in profiles.items():
        r = rollout(game, policies, episodes, seed)
        summaries[name] = summarize(r)
        rows += episode_rows(r, name)
        if name == "learned":
            learned_rollouts = r
    backgrounds = {name: name for name in baselines}
    backgrounds["learned"] = learned[1:] if len(learned) > 1 else learned[0]
    crossplay = cross_play(game, learned[0], backgrounds, episodes, seed) if baselines else []
    write_csv(out_dir / f"episodes{tag}.csv", rows)
    if plots:
        plot_shares_over_time(learned_rollouts, out_dir / f"shares_over_time{tag}.png")
        plot_outcomes(summaries, out_dir / f"outcomes{tag}.png")
    return {
        "env": game.name,
        "config": dataclasses.asdict(game.config),
        "episodes": episodes,
        "seed": seed,
        "profiles": summaries,
        "cross_play": {"focal": "learned (lab_0)", "rows": crossplay},
    }


def measure_exploitability(game: Any, policies: list[Any], episodes: int, seed: int, br_timesteps: int | None = None, selection_episodes: int | None = None) -> dict[str, Any]:
    """A profile's exploitability (labrace.agents.exploitability), with a line of progress."""
    from labrace.agents.exploitability import br_learner_steps, exploitability

    steps = br_learner_steps(game.name, br_timesteps)
    print(f"measuring exploitability ({game.name}: best response per lab{f', with a {steps:,}-step PPO best response' if steps else ''}) ...")
    start = time.perf_counter()
    report = exploitability(game, policies, episodes=episodes, seed=seed, learner_timesteps=steps, selection_episodes=selection_episodes)
    report["wall_seconds"] = round(time.perf_counter() - start, 2)
    return report


def exploitability_lines(report: dict[str, Any]) -> str:
    from labrace.agents.exploitability import exploitability_table

    return "\n" + exploitability_table(report)


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    from labrace.agents.policy import atomic_write_text

    buffer = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def _rate(summary: dict[str, Any], outcome: str) -> str:
    """An outcome rate with its CI; ``catastrophe`` also finds an env's ``disaster``."""
    from labrace.agents.evaluation import catastrophe_metric, fmt_ci

    metric = catastrophe_metric(summary["outcomes"]) if outcome == "catastrophe" else summary["outcomes"].get(outcome)
    return fmt_ci(metric, "rate") if metric else "n/a"


def summary_table(metrics: dict[str, Any]) -> str:
    """Markdown table: each profile's mean return, welfare, catastrophe rate, racing and coordination index."""
    from labrace.agents.evaluation import fmt_ci

    lines = [
        f"\n{metrics['env']}: {metrics['episodes']} episodes per profile (95% CI)",
        "| profile | mean return per lab | welfare | catastrophe rate | coordinated rate | racing index | coordination index |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, s in metrics["profiles"].items():
        lines.append(
            f"| {name} | {fmt_ci(s['mean_return'])} | {fmt_ci(s['welfare'])} | {_rate(s, 'catastrophe')} | {_rate(s, 'coordinated')} "
            f"| {fmt_ci(s['racing_index'])} | {fmt_ci(s['coordination_index'])} |"
        )
    rows = metrics.get("cross_play", {}).get("rows", [])
    if rows:
        lines += ["", f"cross-play: focal {metrics['cross_play']['focal']} against background populations", "| background | focal return | background return | catastrophe rate |", "|---|---|---|---|"]
        for row in rows:
            lines.append(f"| {row['background']} | {fmt_ci(row['focal_return'])} | {fmt_ci(row['background_return'])} | {_rate(row, 'catastrophe')} |")
    return "\n".join(lines)


def dynamics_lines(dynamics: dict[str, Any]) -> str:
    """The path of best-response dynamics, step by step, and where it ended."""
    from labrace.agents.evaluation import fmt_ci

    lines = ["", "best-response dynamics over the strategy set (gain per episode, 95% CI):"]
    for number, step in enumerate(dynamics["steps"], 1):
        lines.append(f"  {number}. lab_{step['lab']}: {step['from']} -> {step['to']} (gains {fmt_ci(step['gain'])})")
    report = dynamics["exploitability"]
    ending = "an approximate equilibrium of the strategy set" if dynamics["converged"] else ("a cycle" if dynamics["cycle"] else "the step limit")
    lines.append(f"ended at {ending} after {len(dynamics['steps'])} switches: " + ", ".join(f"lab_{i} {name}" for i, name in enumerate(dynamics["strategies"])) + f"; exploitability {report['exploitability']:.3f} (tolerance {report['equilibrium_tolerance']:.3f})")
    if "check" in dynamics:  # measured beyond the set the dynamics plays
        check = dynamics["check"]
        lines.append(f"checked with {check['method']}: exploitability {check['exploitability']:.3f}, {check['verdict']}")
    return "\n".join(lines)


def convergence_table(report: dict[str, Any]) -> str:
    from labrace.agents.evaluation import fmt_ci

    check = report["convergence"]
    lines = ["", f"independent learners: {report['rounds']} rounds of alternating best responses; per-round mean return per lab:"]
    for entry in report["history"]:
        lines.append(f"  round {entry['round']}: " + ", ".join(f"{v:.3f}" for v in entry["mean_return_per_lab"]))
    lines.append("convergence check: best-response gain against the final profile, per lab (95% CI):")
    for lab in check["labs"]:
        lines.append(f"  lab_{lab['lab']}: {fmt_ci(lab['gain'], digits=3)} by {lab['best_response']}")
    tolerance = check["exploitability"]["equilibrium_tolerance"]
    lines.append(f"  → {'approximately converged' if check['converged'] else 'not converged: train longer / more rounds'} (no lab may gain more than {tolerance} per episode)")
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig: Any, path: Path) -> None:
    tmp = path.with_name(f"tmp-{os.getpid()}-{path.name}")
    fig.savefig(tmp, dpi=110, bbox_inches="tight", format=path.suffix.lstrip("."))
    os.replace(tmp, path)


def read_monitors(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """{monitor name: (cumulative steps, episode returns)} from the run's ``*monitor.csv`` files.

    A resumed run's monitor (``resumed-model_<steps>_steps.<name>``) continues the curve of
    ``<name>`` from its checkpoint: the first file's episodes past that step are the ones the
    resumed run played again.
    """
    parts: dict[str, list[tuple[int, np.ndarray, np.ndarray]]] = {}
    for path in sorted(run_dir.glob("*monitor.csv")):
        with open(path) as handle:
            lines = [line for line in handle if not line.startswith("#")]
        rows = list(csv.DictReader(lines))
        resumed_at = re.match(r"resumed-model_(\d+)_steps\.", path.name)
        offset = int(resumed_at.group(1)) if resumed_at else 0
        name = path.name[resumed_at.end() :] if resumed_at else path.name
        name = name.replace(".monitor.csv", "").replace("monitor.csv", "shared")
        steps = offset + np.cumsum([float(r["l"]) for r in rows])
        parts.setdefault(name, []).append((offset, steps, np.array([float(r["r"]) for r in rows])))
    curves = {}
    for name, pieces in parts.items():
        pieces.sort(key=lambda piece: piece[0])
        steps, returns = [], []
        for k, (offset, s, r) in enumerate(pieces):
            end = pieces[k + 1][0] if k + 1 < len(pieces) else np.inf
            keep = s <= end
            steps.append(s[keep])
            returns.append(r[keep])
        if sum(len(s) for s in steps):
            curves[name] = (np.concatenate(steps), np.concatenate(returns))
    return curves


def plot_learning_curve(run_dir: Path, curves: dict[str, tuple[np.ndarray, np.ndarray]] | None = None, path: Path | None = None) -> None:
    plt = _pyplot()
    curves = read_monitors(run_dir) if curves is None else curves
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for name, (steps, returns) in curves.items():
        window = max(1, min(500, len(returns) // 20))
        smooth = np.convolve(returns, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1 :], smooth, label=name)
    ax.set_xlabel("agent-steps (per monitor)")
    ax.set_ylabel("episode return (moving mean)")
    ax.set_title("learning curve")
    if curves:
        ax.legend(fontsize=7)
    _save_figure(fig, path or run_dir / "learning_curve.png")
    plt.close(fig)


def plot_shares_over_time(r: Any, path: Path) -> None:
    plt = _pyplot()
    over_time = r.shares_over_time()  # (T, N, K)
    T, N, K = over_time.shape
    fig, axes = plt.subplots(1, N, figsize=(3.2 * N, 3), sharey=True, squeeze=False)
    for i in range(N):
        ax = axes[0, i]
        for k, name in enumerate(r.share_names):
            ax.plot(np.arange(1, T + 1), over_time[:, i, k], label=name)
        ax.set_title(f"lab_{i}")
        ax.set_xlabel("step")
    axes[0, 0].set_ylabel("mean share (running games)")
    axes[0, -1].legend(fontsize=7)
    fig.suptitle("learned policy: mean shares over time", y=1.04)
    _save_figure(fig, path)
    plt.close(fig)


def plot_outcomes(summaries: dict[str, dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    names = list(summaries)
    outcomes = list(next(iter(summaries.values()))["outcomes"])
    fig, ax = plt.subplots(figsize=(1.2 * len(names) + 3, 3.5))
    width = 0.8 / len(outcomes)
    x = np.arange(len(names))
    for k, outcome in enumerate(outcomes):
        rates = np.array([summaries[n]["outcomes"][outcome]["rate"] for n in names])
        ci = np.array([summaries[n]["outcomes"][outcome]["ci95"] for n in names])
        ax.bar(x + k * width, rates, width, yerr=np.clip([rates - ci[:, 0], ci[:, 1] - rates], 0.0, None), label=outcome, capsize=2)
    ax.set_xticks(x + 0.4 - width / 2, names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("rate (95% CI)")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("outcome rates")
    _save_figure(fig, path)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# evaluate and compare
# --------------------------------------------------------------------------------------------


def finished_run(path: str) -> tuple[Path, dict[str, Any]]:
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise UsageError(f"run folder {path} does not exist")
    from labrace.agents.runs import RUN_KEYS

    config = read_json(run_dir / "config.json")  # missing or not JSON: a one-line error
    if not isinstance(config, dict) or not all(key in config for key in RUN_KEYS):
        raise UsageError(f"{run_dir} is not a labrace run folder (its config.json has no {', '.join(RUN_KEYS)})")
    if not (run_dir / "metrics.json").exists():
        raise UsageError(f"{run_dir} is not a finished run (no metrics.json); finish it with `train.py train --resume --run-name {run_dir.name} --out {run_dir.parent}`")
    return run_dir, config


def evaluation_tag(args: argparse.Namespace, scenario: str) -> str:
    """The name of an evaluation's outputs (labrace.agents.evaluation.evaluation_tag)."""
    from labrace.agents import evaluation

    return evaluation.evaluation_tag(
        scenario, sets=args.set, episodes=args.episodes, seed=args.seed, exploitability=args.exploitability, exploitability_episodes=args.exploitability_episodes, selection_episodes=args.selection_episodes,
        br_dynamics=args.br_dynamics, br_timesteps=args.br_timesteps, learned_only=args.learned_only,
    )  # fmt: skip


def cmd_evaluate(args: argparse.Namespace) -> int:
    from labrace.agents.policy import write_json

    run_dir, config = finished_run(args.run_dir)
    check_minimums(("--episodes", args.episodes, 1), ("--seed", args.seed, 0))
    game = game_from_config(config, args.scenario, parse_assignments(args.set, "--set"))
    check_exploitability_options(args, game)
    policies = load_run_policies(run_dir, config, game)
    scenario = args.scenario or config["scenario"]
    tag = evaluation_tag(args, scenario)
    try:
        out_dir = writable_folder(args.out or str(run_dir / "eval"), "--out" if args.out else "the evaluation folder")
    except UsageError as exc:
        raise UsageError(f"{exc}{'' if args.out else '; pass --out DIR to evaluate a read-only run elsewhere'}") from None
    try:
        learned = None
        if args.exploitability and args.exploitability_episodes > 0:
            learned = measure_exploitability(game, policies, args.exploitability_episodes, args.seed + 1, args.br_timesteps, args.selection_episodes)
        extra, dynamics = best_response_dynamics_profile(game, policies, args.br_dynamics, args.exploitability_episodes, args.seed + 2, args.br_timesteps, learned, args.selection_episodes)
        metrics = evaluate_run(game, policies, args.episodes, args.seed, out_dir, tag, plots=not args.no_plots, baselines=not args.learned_only, extra_profiles=extra)
        metrics["scenario"] = scenario
        if dynamics is not None:
            metrics["best_response_dynamics"] = dynamics
        if learned is not None:
            metrics["exploitability"] = learned
    except KeyboardInterrupt:
        print(f"\ninterrupted: no evaluation written (run the same command again to evaluate {run_dir})", file=sys.stderr)
        return 130
    write_json(out_dir / f"metrics{tag}.json", metrics)  # last: the episodes and plots of this tag are complete
    print(summary_table(metrics))
    if "exploitability" in metrics:
        print(exploitability_lines(metrics["exploitability"]))
    if "best_response_dynamics" in metrics:
        print(dynamics_lines(metrics["best_response_dynamics"]))
    print(f"\nwrote {out_dir}/metrics{tag}.json, episodes{tag}.csv{'' if args.no_plots else ' and plots'}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from labrace.agents.evaluation import fmt_ci
    from labrace.agents.policy import atomic_write_text

    runs = [finished_run(path) for path in args.run_dirs]
    lines = [
        "| run | env | scenario | trainer | algo | steps | mean return | welfare | catastrophe | coordinated | racing index | coordination index |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    learned = {}
    curves = {}
    for run_dir, config in runs:
        metrics = read_json(run_dir / "metrics.json")
        s = metrics["profiles"]["learned"]
        learned[run_dir.name] = s
        lines.append(
            f"| {run_dir.name} | {config['env']} | {config['scenario']} | {config['trainer']} | {config['algo']} | {metrics['training']['timesteps']:,} "
            f"| {fmt_ci(s['mean_return'])} | {fmt_ci(s['welfare'])} | {_rate(s, 'catastrophe')} | {_rate(s, 'coordinated')} "
            f"| {fmt_ci(s['racing_index'])} | {fmt_ci(s['coordination_index'])} |"
        )
        for name, curve in read_monitors(run_dir).items():
            curves[f"{run_dir.name}:{name}"] = curve
    table = "\n".join(lines)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "compare.md", "# labrace runs (learned profiles, 95% CI)\n\n" + table + "\n")
    if len({tuple(s["outcomes"]) for s in learned.values()}) == 1:
        plot_outcomes(learned, out / "compare_outcomes.png")
    plot_learning_curve(out, curves, out / "compare_learning_curves.png")
    print(table)
    print(f"\nwrote {out}/compare.md and plots")
    return 0


def run_sweep_jobs(jobs: list[Any], args: argparse.Namespace, unit: str, failed: list[tuple[str, int, str]]) -> bool:
    """Run a sweep's jobs (train.py commands) on its backend with a progress bar, adding the failed
    ones to ``failed``; False if Ctrl-C stopped them (finished jobs are kept)."""
    from tqdm import tqdm

    from labrace.agents import sweep

    with tqdm(total=len(jobs), desc=args.study if unit == "run" else f"{args.study} {unit}", unit=unit) as bar:

        def progress(result: tuple[str, int, str]) -> None:
            bar.update(1)
            if result[1] != 0:
                failed.append(result)
                tqdm.write(f"{unit} {Path(result[0]).stem} failed (exit {result[1]}); log: {result[0]}")

        try:
            if args.backend == "ray":
                sweep.run_ray(jobs, str(Path(__file__).resolve()), args.address, progress)
            else:
                sweep.run_local(jobs, str(Path(__file__).resolve()), args.workers, progress)
        except KeyboardInterrupt:
            print(f"\ninterrupted: the workers are stopped; finished {unit}s are kept, and the same command runs the {bar.total - bar.n} left", file=sys.stderr)
            return False
    return True


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the study's unfinished runs (skipping finished ones), then rewrite the report."""
    from labrace.agents import sweep
    from labrace.agents.studies import list_studies, load_study

    check_minimums(("--workers", args.workers, 1), ("--br-dynamics", args.br_dynamics, 0), ("--br-timesteps", args.br_timesteps, 0))
    report = Path(args.report) if args.report else sweep.report_path(RESULTS, args.budget)
    try:
        sweep.check_report_budget(report, args.budget)  # before training, not after it
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if args.study != "all" and args.budget not in load_study(args.study).budgets:  # the canonical study: full only
        raise UsageError(f"study {args.study} has no {args.budget!r} budget; its budgets are {sorted(load_study(args.study).budgets)} (--budget)")
    names = list_studies(args.budget) if args.study == "all" else [args.study]
    out, failed = Path(args.out), []
    todo = []
    for name in names if not args.report_only else []:
        runs = sweep.plan(load_study(name), args.budget, out)
        unfinished = [run for run in runs if not run.finished]
        todo += unfinished
        print(f"study {name} ({args.budget}): {len(runs)} runs, {len(runs) - len(unfinished)} finished, {len(unfinished)} to run ({args.backend})")
    if todo and not run_sweep_jobs(sweep.longest_first(todo), args, "run", failed):  # every study's runs in one pool, longest first
        return 130
    if args.br_dynamics:  # after training: the dynamics starts from the finished runs
        from labrace.agents import dynamics

        # every study's dynamics, for the report; those of the studies swept here are run
        plans = {name: dynamics.dynamics_plan(load_study(name), args.budget, out, args.br_dynamics, args.br_timesteps) for name in list_studies(args.budget)}
        jobs = [job for name in names for job in plans[name]]
        unfinished = [job for job in jobs if not job.finished]
        print(f"best-response dynamics ({args.budget}): {len(jobs)} finished equilibrium-lens runs, {len(jobs) - len(unfinished)} with dynamics, {len(unfinished)} to run")
        if unfinished and not args.report_only and not run_sweep_jobs(sweep.longest_first(unfinished), args, "dynamics", failed):
            return 130
        path, kept = dynamics.write_dynamics_report(plans, args.budget, out, args.br_dynamics, sweep.dynamics_report_path(report.parent, args.budget), args.br_timesteps)
        print(f"kept {path}: it holds more finished dynamics than these runs give" if kept else f"best-response dynamics report: {path}")
    report, kept = sweep.write_report(list_studies(), args.budget, out, report, replace=args.replace, swept=names)
    for heading in kept:
        print(f"kept the section '{heading}' of {report}: it holds more finished runs than this sweep found (--replace replaces it)")
    print(f"report: {report}")
    if failed:
        print(f"{len(failed)} run(s) failed; run the same command again to retry them", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    default_run = not argv
    if not argv or argv[0] not in ("train", "evaluate", "compare", "sweep", "-h", "--help"):
        argv = ["train", *argv]  # `python train.py [train options]` means `train`
    parser = build_parser()
    args = parser.parse_args(argv)
    args.default_run = default_run
    args.command_line = ["train.py", *argv]  # recorded in config.json (sweeps compare it)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"train.py {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
