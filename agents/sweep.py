"""Run a study's grid of configs x seeds, locally in worker processes or on a Ray cluster.

Every run is one ``train.py train …`` command (run inside a long-lived worker process, so that
torch and SB3 load once per worker) writing ``<out>/<budget>/<study>/<point>-s<seed>/``;
``metrics.json`` is written last, so a run folder that has it (made by the same command, as its
``config.json`` records) is finished. Started again, a sweep
skips finished runs and redoes (``--overwrite``) any run that was cut off, losing nothing. The same
command runs under both backends: local worker processes, or Ray core tasks (``--backend ray
[--address ADDR]``), which need labrace installed and this repository at the same path on every
node. Results are gathered into the same layout
either way, then each study's ``analyse`` writes its section of ``results/REPORT.md``.
"""

from __future__ import annotations

import ast
import contextlib
import datetime
import functools
import importlib.util
import io
import json
import multiprocessing
import re
import traceback
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labrace.agents.exploitability import equilibrium_verdict
from labrace.agents.hyperparams import get_hyperparams, resolved_timesteps
from labrace.agents.runs import is_finished, run_config
from labrace.agents.studies import Study, load_study, point_hyperparams, point_label, point_trainer


@dataclass(frozen=True)
class RunSpec:
    """One training run of a study: a grid point and a seed."""

    study: str
    point: dict[str, Any]
    seed: int
    run_dir: Path
    argv: tuple[str, ...]  # arguments of train.py
    expected: dict[str, Any] = field(default_factory=dict)  # what the run's config.json must say

    @property
    def name(self) -> str:
        return self.run_dir.name

    @property
    def finished(self) -> bool:
        """Finished by this study's current definition: the run folder's metrics.json reads back and
        its config.json describes this very run (env, scenario, overrides, trainer, budget, seed,
        evaluation), however the folder's path was spelled. A run made before the study's budget or
        grid changed is redone, not silently reused."""
        if not is_finished(self.run_dir):
            return False
        config = run_config(self.run_dir)
        actual = {key: config.get(key) for key in self.expected}
        try:  # train.py records overrides as Python literals
            actual["overrides"] = {key: ast.literal_eval(text) for key, text in config.get("overrides", {}).items()}
        except (ValueError, SyntaxError):
            return False
        if "hyperparams" in self.expected:  # the budget's own settings (the rest are the defaults of the day)
            actual["hyperparams"] = {key: (config.get("hyperparams") or {}).get(key) for key in self.expected["hyperparams"]}
        return actual == self.expected


def plan(study: Study, budget: str, out: Path) -> list[RunSpec]:
    """Every run of the study at this budget (grid points x seeds), in a stable order."""
    if budget not in study.budgets:
        raise ValueError(f"unknown budget {budget!r} for study {study.name}; valid budgets are {sorted(study.budgets)}")
    spec = study.budgets[budget]
    runs = []
    for point in study.points(budget):
        env, scenario = study.env(point)
        overrides = study.overrides(point)
        trainer = point_trainer(point, spec.trainer)
        sets = [f"--set={field}={value!r}" for field, value in overrides.items()]
        hyperparams = {**spec.hyperparams.get(env, {}), **point_hyperparams(point)}
        sets += [f"--hp={key}={value!r}" for key, value in hyperparams.items()]
        timesteps = spec.timesteps if spec.timesteps is not None else resolved_timesteps(get_hyperparams(env, study.algo, trainer, hyperparams), trainer)
        for seed in spec.seeds:
            run_dir = out / budget / study.name / f"{point_label(point)}-s{seed}"
            argv = (
                "train", f"--env={env}", f"--scenario={scenario}", *sets, f"--trainer={trainer}", f"--algo={study.algo}",
                f"--timesteps={timesteps}", f"--eval-episodes={spec.eval_episodes}", f"--seed={seed}",
                f"--out={run_dir.parent}", f"--run-name={run_dir.name}", "--no-progress", "--no-plots", "--learned-only",
                # exploitability per cell: the strategy grid and baselines (a trained best response per
                # lab would multiply a study's time; `train.py evaluate --exploitability` adds it)
                f"--exploitability-episodes={spec.exploitability_episodes_per_run}", "--br-timesteps=0",
                *([f"--selection-episodes={spec.selection_episodes}"] if spec.selection_episodes is not None else []),
            )  # fmt: skip
            expected = {
                "env": env, "scenario": scenario, "overrides": dict(overrides), "trainer": trainer, "algo": study.algo,
                "timesteps": timesteps, "seed": seed, "eval_episodes": spec.eval_episodes, "learned_only": True,
                "exploitability_episodes": spec.exploitability_episodes_per_run, "br_timesteps": 0,
                "selection_episodes": spec.selection_episodes,  # None (all the episodes) also where config.json predates it
                **({"hyperparams": hyperparams} if hyperparams else {}),
            }  # fmt: skip
            runs.append(RunSpec(study.name, point, seed, run_dir, argv, expected))
    return runs


#: rough seconds per 1,000 training steps of one run at the small budget, by env (the logs of
#: ``make report`` on 2 busy cores: precipice_v0's many small updates make it about 6x race_v0's
#: shared PPO); only the order of runs uses it
_SECONDS_PER_KILOSTEP = {"precipice_v0": 0.6, "dsair_v0": 0.18, "commons_v0": 0.16, "race_v0": 0.1}
#: one model per lab (simultaneous, independent) against one shared model: about 1.5x per run
_SEPARATE_MODELS_COST = 1.5


def expected_cost(run: RunSpec) -> float:
    """A rough estimate of a run's seconds, for ordering only (longest first: :func:`longest_first`)."""
    config = run.expected  # the run's env, trainer and budget, as its config.json must say them
    per_kilostep = _SECONDS_PER_KILOSTEP.get(config["env"], max(_SECONDS_PER_KILOSTEP.values()))
    separate = _SEPARATE_MODELS_COST if config["trainer"] in ("simultaneous", "independent") else 1.0
    return config["timesteps"] / 1000 * per_kilostep * separate


def longest_first(runs: Sequence[RunSpec]) -> list[RunSpec]:
    """The runs, longest expected first (stable among equals): a pool of workers given the long
    runs first finishes them while the short ones fill the gaps, instead of one worker running a
    long run alone at the end (the longest-processing-time rule)."""
    return sorted(runs, key=expected_cost, reverse=True)


@functools.lru_cache(maxsize=None)
def _train_main(train_script: str) -> Callable[[list[str]], int]:
    """``main`` of train.py, imported once per worker process (torch and SB3 load once, not per run)."""
    spec = importlib.util.spec_from_file_location("labrace_train_script", train_script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def execute(train_script: str, run: RunSpec) -> tuple[str, int, str]:
    """Run one train.py command in this process (a training run, redone if it was cut off; or an
    ``evaluate`` of a finished run); return (its log's path, exit code, log tail).

    Each run seeds everything it uses from its own ``--seed``, so a worker that runs several in a row
    gives the same results as fresh processes.
    """
    import torch

    # one job per core: a job's own torch threads would contend with the other workers' (an evaluate
    # command, which does not set them as training does, took 3x as long in a pool of 2 on 2 cores)
    torch.set_num_threads(1)
    argv = list(run.argv)
    training = argv[0] == "train"
    if training and run.run_dir.exists():
        argv.append("--overwrite")  # not finished (the caller skips finished runs): it was cut off
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            code = _train_main(train_script)(argv)
        except SystemExit as exc:  # argparse errors
            code = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # noqa: BLE001 (a failed run is logged and reported, the sweep goes on)
            traceback.print_exc()
            code = 1
    from labrace.agents.policy import atomic_write_text

    log = run.run_dir.parent / "logs" / f"{run.name}{'' if training else '.' + argv[0]}.log"  # an evaluation's log beside its run's
    atomic_write_text(log, output.getvalue())
    return str(log), code, output.getvalue()[-1500:]


def _watch_parent(parent: int) -> None:
    """Worker initializer: exit when the sweep's main process is gone (``kill -9`` leaves no one to
    stop the workers, and a run must not go on writing for nobody)."""
    import os
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="labrace-parent-watch").start()


def _execute_packed(job: tuple[str, RunSpec]) -> tuple[str, int, str]:
    return execute(*job)


def run_local(runs: Sequence[RunSpec], train_script: str, workers: int, progress: Callable | None = None) -> list[tuple[str, int, str]]:
    """Run in ``workers`` worker processes (spawned: a clean interpreter each, reused across runs).

    Ctrl-C stops the sweep: the workers are terminated at once (their runs, unfinished, are redone
    by the next sweep; finished ones are kept), and KeyboardInterrupt reaches the caller. Workers
    whose main process was killed exit by themselves.
    """
    import os

    pool = multiprocessing.get_context("spawn").Pool(workers, initializer=_watch_parent, initargs=(os.getpid(),))
    results = []
    try:
        for result in pool.imap_unordered(_execute_packed, [(train_script, run) for run in runs]):
            results.append(result)
            if progress:
                progress(result)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
    return results


def run_ray(runs: Sequence[RunSpec], train_script: str, address: str | None, progress: Callable | None = None) -> list[tuple[str, int, str]]:
    try:
        import ray
    except ImportError:
        raise SystemExit("the ray backend needs Ray: pip install 'labrace[rllib]' (or 'ray')") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    pending = []
    try:
        remote = ray.remote(num_cpus=1)(execute)
        pending = [remote.remote(train_script, run) for run in runs]
        results = []
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            results.append(ray.get(ready[0]))
            if progress:
                progress(results[-1])
        return results
    except BaseException:  # Ctrl-C: stop the runs still queued or running on the cluster
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


def collect(study: Study, budget: str, out: Path) -> list[dict[str, Any]]:
    """One row per finished run: the grid point, the seed and the learned profile's metrics.

    Metrics: ``<outcome>_rate`` for each outcome of the env, ``racing_index``,
    ``coordination_index``, ``welfare``, ``mean_return``, ``sanction_cost`` (None without
    sanctions), ``share_<name>`` (mean shares), ``exploitability`` (the largest best-response gain
    per episode) and ``equilibrium`` (its verdict: approximate equilibrium / not an equilibrium /
    undetermined).
    """
    rows = []
    for run in plan(study, budget, out):
        if not run.finished:
            continue
        metrics = json.loads((run.run_dir / "metrics.json").read_text())
        # the learned profile's exploitability: is it an equilibrium?
        rows.append(profile_row({**run.point, "seed": run.seed}, metrics["profiles"]["learned"], metrics.get("exploitability")))
    return rows


def profile_row(keys: dict[str, Any], profile: dict[str, Any], exploitability: dict[str, Any] | None) -> dict[str, Any]:
    """``keys`` (a run's grid point and seed) and one evaluated profile's metrics (as in
    metrics.json's ``profiles``) with its exploitability report (None: not measured), as one row
    of :func:`collect`."""
    row = dict(keys)
    for name, outcome in profile["outcomes"].items():
        row[f"{name}_rate"] = outcome["rate"]
    for index in ("racing_index", "coordination_index", "welfare", "mean_return", "sanction_cost"):
        row[index] = profile[index]["mean"] if profile.get(index) else None
    for name, share in profile["shares"]["all_labs"].items():
        row[f"share_{name}"] = share["mean"]
    row["exploitability"] = exploitability["exploitability"] if exploitability else None
    row["equilibrium_tolerance"] = exploitability["equilibrium_tolerance"] if exploitability else None
    row["equilibrium"] = equilibrium_verdict(exploitability["labs"], exploitability["equilibrium_tolerance"]) if exploitability else "not measured"
    return row


def _trainers(study: Study, budget: str) -> str:
    """The trainer(s) of a study's runs: the budget's, or one per lens (``lens`` axis)."""
    lenses = sorted({point["lens"] for point in study.points(budget) if "lens" in point})
    if not lenses:
        return study.budgets[budget].trainer
    described = []
    for lens in lenses:
        extra = ", ".join(f"{key} {value}" for key, value in point_hyperparams({"lens": lens}).items())
        described.append(f"{lens} lens: {point_trainer({'lens': lens}, '')}" + (f" ({extra})" if extra else ""))
    return ", ".join(described) + ";"


def _settings(study: Study, budget: str) -> str:
    """`` (race_v0: n_epochs 5, batch_size 1024)``: the hyperparameters the budget overrides, per env."""
    per_env = study.budgets[budget].hyperparams
    if not per_env:
        return ""
    return " (" + "; ".join(f"{env}: " + ", ".join(f"{k} {v}" for k, v in hp.items()) for env, hp in per_env.items()) + ")"


def _steps(study: Study, budget: str, out: Path) -> str:
    """``60,000 steps``, or where the budget leaves it to each env: ``precipice_v0 200,000, dsair_v0
    300,000 steps (each env's validated budget)``."""
    if study.budgets[budget].timesteps is not None:
        return f"{study.budgets[budget].timesteps:,} steps"
    per_env = {run.expected["env"]: run.expected["timesteps"] for run in plan(study, budget, out)}
    return ", ".join(f"{env} {steps:,}" for env, steps in per_env.items()) + " steps (each env's validated budget)"


def section(study: Study, budget: str, out: Path, rows: list[dict[str, Any]] | None = None) -> str:
    """The study's section of REPORT.md (figures under ``out/<budget>/<study>/``)."""
    rows = collect(study, budget, out) if rows is None else rows
    expected = len(plan(study, budget, out))
    spec = study.budgets[budget]
    selection = "" if spec.selection_episodes is None else f", each lab's best response chosen on {spec.selection_episodes} other episodes"
    header = [
        f"## {study.title}",
        "",
        f"*Hypothesis.* {study.hypothesis}",
        "",
        f"*Runs.* {len(rows)} of {expected} finished ({_trainers(study, budget)} {study.algo.upper()}{_settings(study, budget)}, "
        f"{_steps(study, budget, out)}, seeds {list(spec.seeds)}, {spec.eval_episodes} evaluation episodes and "
        f"{spec.exploitability_episodes_per_run} paired episodes of exploitability each{selection}); cells are seed means with 95% t intervals. "
        f"Regenerate: `python train.py sweep {study.name} --budget {budget}`.",
        "",
    ]
    if not rows:
        return "\n".join(header + ["No finished runs yet."])
    figures = out / budget / study.name
    figures.mkdir(parents=True, exist_ok=True)
    return "\n".join(header + [study.analyse(rows, figures)])


def policies_section(folder: Path) -> str:
    """REPORT.md's section on the committed learned policies (``results/policies/<scenario>/``):
    each profile's outcome and its exploitability, marked where it is not an equilibrium."""
    import json

    from labrace.agents.evaluation import fmt_ci
    from labrace.agents.exploitability import equilibrium_verdict

    lines = [
        "## The committed learned policies and their exploitability",
        "",
        "Each committed race_v0 policy (`results/policies/<scenario>/`, `make policies`) beside the largest gain a "
        "lab makes by a best response against the others' frozen policies (the best of a grid of fixed allocations, "
        "every scripted baseline, where the pivotal act is allowed opportunists that take it once they lead, and a "
        "trained PPO best response; per episode, 95% CI). A profile exploitable by "
        "more than 0.05 per episode is **not an equilibrium**: it is not evidence of what labs with these incentives "
        "would do; where no mean gain exceeds 0.05 but an interval does, the verdict waits for more episodes.",
        "",
        *(
            ["How these policies fare against each other (a hawk-trained lab among dove-trained labs, and so on) and which is a best "
             "response to which: [the cross-play table and its meta-game](crossplay.md) (`make crossplay`).", ""]
            if (folder.parent / "crossplay.md").exists() else []
        ),
        "| scenario | catastrophe | winner | coordinated | racing index | exploitability | best response (lab) | equilibrium? |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in sorted(path for path in folder.glob("*") if (path / "metrics.json").exists()):
        metrics = json.loads((run / "metrics.json").read_text())
        learned, report = metrics["profiles"]["learned"], metrics.get("exploitability")
        rate = lambda name: fmt_ci(learned["outcomes"].get(name), "rate")  # noqa: E731
        if report is None:
            lines.append(f"| {run.name} | {rate('catastrophe')} | {rate('winner')} | {rate('coordinated')} | {fmt_ci(learned['racing_index'])} | not measured | | unknown |")
            continue
        worst = report["labs"][report["worst_lab"]]
        verdict = {"approximate equilibrium": "yes (approximately)", "not an equilibrium": "**no**"}.get(equilibrium_verdict(report["labs"], report["equilibrium_tolerance"]), f"undetermined at {worst['gain']['n']} episodes")
        lines.append(
            f"| {run.name} | {rate('catastrophe')} | {rate('winner')} | {rate('coordinated')} | {fmt_ci(learned['racing_index'])} "
            f"| {fmt_ci(worst['gain'], digits=3)} | {worst['best_response']} (lab_{worst['lab']}) | {verdict} |"
        )
    return "\n".join(lines)


def report_sections(text: str) -> tuple[str, dict[str, str]]:
    """A report's preamble and its ``## `` sections by heading line, in order."""
    preamble, sections, heading = [], {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line
            sections[heading] = []
        (sections[heading] if heading else preamble).append(line)
    return "\n".join(preamble), {key: "\n".join(lines).rstrip("\n") for key, lines in sections.items()}


def section_size(text: str) -> int | None:
    """How much a section holds: its finished runs (study sections) or its table rows (policies)."""
    match = re.search(r"\*Runs\.\* (\d+) of \d+ finished", text)
    if match:
        return int(match.group(1))
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith(("| scenario |", "| run |"))]
    return len(rows) if rows else None


def report_path(results: Path, budget: str) -> Path:
    """Where a budget's report lives: ``REPORT.md`` (the small budget, the committed reference) or
    ``REPORT-<budget>.md``: the budgets never share a file."""
    return results / ("REPORT.md" if budget == "small" else f"REPORT-{budget}.md")


def dynamics_report_path(results: Path, budget: str) -> Path:
    """Where a budget's best-response dynamics report lives, beside its report
    (:mod:`labrace.agents.dynamics`): ``br-dynamics.md`` (small) or ``br-dynamics-<budget>.md``."""
    return results / ("br-dynamics.md" if budget == "small" else f"br-dynamics-{budget}.md")


def elsewhere_note(budget: str, results: Path, studies: Sequence[Study]) -> str:
    """A line naming ``studies`` (studies without this budget: the canonical study has no small one)
    and where their sections are written; '' for none."""
    where = []
    for study in studies:
        other = sorted(study.budgets)[0]
        where.append(f"*{study.title}* (`python train.py sweep {study.name} --budget {other}`: {report_path(results, other).name})")
    return f"Not at the {budget} budget: " + "; ".join(where) + "." if where else ""


def check_report_budget(report: Path, budget: str) -> None:
    """Refuse (ValueError) a report that says it was written from another budget: its sections
    would be mixed with this budget's. A sweep checks this before it trains."""
    match = re.search(r"^Budget `([^`]+)`", report.read_text(), flags=re.MULTILINE) if report.exists() else None
    if match and match.group(1) != budget:
        raise ValueError(f"{report} is the report of the {match.group(1)!r} budget; write the {budget!r} budget's to its own file (--report; default {report_path(report.parent, budget).name})")


def write_report(
    studies: Sequence[str], budget: str, out: Path, report: Path, replace: bool = False, swept: Collection[str] | None = None
) -> tuple[Path, list[str]]:
    """Update REPORT.md (atomically) with a section per study and one on the committed policies.

    A section is replaced only by one built from at least as many finished runs (or, for the
    policies, as many table rows) as it holds, unless ``replace``: a sweep on a clean clone leaves
    the other sections as they were. A study not in ``swept`` (the studies this command swept; None:
    every one) whose section the report already has is left as it is, figures and all: a sweep of
    H4 does not redraw H1. A study without this budget (the canonical study has no small one) gets
    no section: the header names it and where its section is written, unless the report holds one
    written before. Sections this function does not write are kept. A report written from
    another budget is refused (ValueError): its sections would be mixed with this budget's. Returns
    the report's path and the headings of the sections it kept for holding more.
    """
    check_report_budget(report, budget)
    old_text = report.read_text() if report.exists() else ""
    _, old_sections = report_sections(old_text)
    kept: list[str] = []
    root = (out / budget).resolve()
    relative = root.relative_to(report.parent.resolve()) if root.is_relative_to(report.parent.resolve()) else root

    def choose(heading: str, size: int, build: Callable[[], str]) -> str:
        old = old_sections.get(heading)
        if old is not None and not replace:
            old_size = section_size(old)
            if old_size is None or size < old_size:
                kept.append(heading[3:])
                return old
        # figures are linked relative to the report: keep the report beside the studies folder
        return build().rstrip("\n").replace("](studies/", f"]({relative.as_posix()}/")

    new_sections: dict[str, str] = {}
    policies = report.parent / "policies"
    heading = "## The committed learned policies and their exploitability"
    finished_policies = [path for path in policies.glob("*") if is_finished(path)] if policies.is_dir() else []
    if finished_policies or heading in old_sections:
        new_sections[heading] = choose(heading, len(finished_policies), lambda: policies_section(policies))
    elsewhere_studies = []  # studies without this budget, named in the header unless the report holds their section
    for name in studies:
        study = load_study(name)
        heading = f"## {study.title}"
        if budget not in study.budgets:
            if heading not in old_sections:
                elsewhere_studies.append(study)
            continue
        if swept is not None and name not in swept and heading in old_sections:
            new_sections[heading] = old_sections[heading]
            continue
        rows = collect(study, budget, out)
        new_sections[heading] = choose(heading, len(rows), lambda study=study, rows=rows: section(study, budget, out, rows))
    for heading, text in old_sections.items():  # sections of other studies, or written by hand
        new_sections.setdefault(heading, text)
    dynamics = dynamics_report_path(report.parent, budget).name
    dynamics_link = (
        "Where best responses lead from the equilibrium lens's learned profiles, cell by cell, and what the profiles they reach "
        f"look like: [{dynamics}]({dynamics}) (`python train.py sweep all --budget {budget} --br-dynamics 10`)."
    )
    # linked once the dynamics report exists beside this one; a link already there is kept (a report
    # copied elsewhere, or a clean clone's sweep, is not rewritten only to drop it)
    linked = dynamics_report_path(report.parent, budget).exists() or dynamics_link in old_text
    elsewhere = elsewhere_note(budget, report.parent, elsewhere_studies)
    parts = [
        "# labrace reference study",
        "",
        f"Budget `{budget}`; written {datetime.date.today().isoformat()} by `python train.py sweep <study> --budget {budget}` "
        f"(runs under `{out.as_posix()}/{budget}/`). "
        "Every verdict below is computed from the runs by the study's own file under `agents/studies/` "
        "(*holds*: every comparison goes the hypothesised way by a two-sided permutation test on the seeds' values at 0.05; "
        "*fails*: none does; *depends*: some do). They are what this budget found, including where it contradicts the hypothesis.",
        "",
        "How to read them. Each study answers first, then gives its evidence. A learned profile is read through a *lens*: "
        "learners that each seek their own best response (the *equilibrium* lens: one PPO model per lab, learning at once), "
        "one PPO policy that every lab plays, each lab learning from its own reward (the *self-play* lens), or one PPO policy "
        "that every lab plays, learning from the labs' mean reward (the *team* lens: what labs reach if they learn as one team; "
        "its welfare minus the equilibrium lens's is the price of the race). Only the equilibrium lens's claims are read as "
        "equilibrium behaviour; the other two say where their learners land. Each cell shows its "
        "exploitability (the most a lab gains by a best response over a grid of fixed allocations, every scripted "
        "baseline and, where the pivotal act is allowed, opportunists that take it once they lead; per episode); "
        "above 0.05 it is *not an equilibrium*: it says where learning stopped, not what labs with "
        "these incentives settle on, and comparisons of the equilibrium lens leave such cells out. Seeds are counted by "
        "the basin they end in (racing, coordinating, stalling) with Wilson intervals, because outcomes across seeds are "
        "often bimodal. H1 also reads each cell by its theory (the symmetric equilibria of its fixed-allocation game), H3 by "
        "the precipice's Nash theory.",
        "",
        *([dynamics_link, ""] if linked else []),
        *([elsewhere, ""] if elsewhere else []),
    ]
    for text in new_sections.values():
        parts += [text, ""]
    text = "\n".join(parts)
    same_sections = all(new_sections.get(h) == t for h, t in old_sections.items()) and len(new_sections) == len(old_sections)
    if old_text and same_sections and (dynamics_link in old_text) == linked and elsewhere in old_text:
        return report, kept  # nothing new (nor a dynamics report to link, nor a study to point to): the report and its date stay as they are
    from labrace.agents.policy import atomic_write_text

    atomic_write_text(report, text)
    return report, kept
