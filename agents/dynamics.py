"""Where best responses lead from a study's equilibrium-lens profiles (``train.py sweep --br-dynamics``).

The equilibrium lens's learners (one PPO model per lab, all learning at once) can stop short of an
equilibrium: at the small budget most H1 cells are *not an equilibrium* (a lab gains more than 0.05
per episode by a best response), so they say where learning stopped, not what the incentives ask.
Best-response dynamics over the strategy set (:func:`labrace.agents.exploitability.best_response_dynamics`)
takes the steps the learners did not: from each run's learned profile, the lab that gains most
switches to its best response, one at a time, until no lab gains more than the tolerance (an
approximate equilibrium of the strategy set together with the learned policies it keeps), a
profile comes back (a cycle) or the steps run out.

Each run's dynamics is one ``train.py evaluate RUN --br-dynamics STEPS --learned-only --no-plots``
command (run by the sweep's workers, its files in ``RUN/br-dynamics/``), with the study budget's
evaluation and exploitability episodes. :func:`write_dynamics_report` then writes, per study and
cell, the learned and the reached profiles side by side: basins of the seeds (Wilson intervals),
seed means (t intervals) and their exploitability, and the paired change per seed. The strategy set
cannot check its own equilibria, so each reached profile is then checked with a PPO best response
per lab added to the set (``--br-timesteps``, the game's default where not given; 0: no check),
on fresh episodes.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labrace.agents.exploitability import PPO_RESPONSE, br_learner_steps
from labrace.agents.studies import Study, load_study
from labrace.agents.sweep import RunSpec, plan, profile_row

#: the folder of a run that holds its best-response dynamics evaluation
FOLDER = "br-dynamics"
#: the evaluation seed (``train.py evaluate``'s default); the dynamics measures with seed + 2
EVAL_SEED = 12345
#: the profile the dynamics reaches, as ``train.py evaluate`` names it in metrics.json
REACHED = "after best-response dynamics"
#: the heatmaps of a study's learned and reached profiles, beside the study's own figures
FIGURE = "br_dynamics.png"


@dataclass(frozen=True)
class DynamicsSpec(RunSpec):
    """Best-response dynamics from one finished run: a ``train.py evaluate`` command, finished once
    its metrics file is written (train.py writes it last)."""

    metrics_file: Path = Path()

    @property
    def finished(self) -> bool:
        return self.metrics_file.exists()


def dynamics_plan(study: Study, budget: str, out: Path, steps: int, br_timesteps: int | None = None) -> list[DynamicsSpec]:
    """The dynamics of every finished equilibrium-lens run of the study at this budget (a grid
    point whose ``lens`` is ``equilibrium``; precipice_v0's best responses are exact, not over a
    strategy set, so its runs have none). Each reached profile is checked by a PPO best response
    per lab of ``br_timesteps`` steps (None: the game's default; 0: no check)."""
    from labrace.agents.evaluation import evaluation_tag

    spec = study.budgets[budget]
    episodes, exploitability_episodes = spec.eval_episodes, spec.exploitability_episodes_per_run
    jobs = []
    for run in plan(study, budget, out):
        if run.point.get("lens") != "equilibrium" or run.expected["env"] == "precipice_v0" or not run.finished:
            continue
        folder = run.run_dir / FOLDER
        argv = (
            "evaluate", str(run.run_dir), f"--episodes={episodes}", f"--seed={EVAL_SEED}", f"--exploitability-episodes={exploitability_episodes}",
            *([] if br_timesteps is None else [f"--br-timesteps={br_timesteps}"]), f"--br-dynamics={steps}", "--learned-only", "--no-plots", f"--out={folder}",
        )  # fmt: skip
        tag = evaluation_tag(
            run.expected["scenario"], episodes=episodes, seed=EVAL_SEED, exploitability_episodes=exploitability_episodes,
            br_dynamics=steps, br_timesteps=br_timesteps, learned_only=True,
        )  # fmt: skip
        jobs.append(DynamicsSpec(run.study, run.point, run.seed, run.run_dir, argv, run.expected, folder / f"metrics{tag}.json"))
    return jobs


def dynamics_rows(jobs: list[DynamicsSpec]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(learned, reached): one row per finished job (:func:`labrace.agents.sweep.profile_row`,
    without the ``lens`` axis), the reached rows also with ``converged`` (an approximate equilibrium
    of the strategy set), ``cycle``, ``switches``, ``strategies`` (the strategy each lab ends on,
    sorted: labs of one type are interchangeable), ``check`` (the verdict on the reached profile
    with a PPO best response per lab added to the set, on fresh episodes: ``approximate
    equilibrium``, ``not an equilibrium`` or ``undetermined``; None where no PPO response checked
    it) and ``ppo_gain`` (the largest gain of a lab whose best response in the
    check was the PPO one; None where the set's was better for every lab). The reached rows'
    exploitability is the check's where there is one, else the last measurement over the strategy set."""
    learned, reached = [], []
    for job in jobs:
        if not job.finished:
            continue
        keys = {**{axis: value for axis, value in job.point.items() if axis != "lens"}, "seed": job.seed}
        run_metrics = json.loads((job.run_dir / "metrics.json").read_text())
        metrics = json.loads(job.metrics_file.read_text())
        record = metrics["best_response_dynamics"]
        check = record.get("check")
        learned.append(profile_row(keys, run_metrics["profiles"]["learned"], run_metrics.get("exploitability")))
        row = profile_row(keys, metrics["profiles"][REACHED], check or record["exploitability"])
        row.update(converged=record["converged"], cycle=record["cycle"], switches=len(record["steps"]), strategies=tuple(sorted(record["strategies"])))
        row["check"] = None if check is None else check["verdict"]
        # the largest gain of a lab whose best response in the check was the PPO one (None: the set's won for every lab)
        ppo_gains = [lab["gain"]["mean"] for lab in (check or {}).get("labs", []) if lab["best_response"] == PPO_RESPONSE]
        row["ppo_gain"] = max(ppo_gains) if ppo_gains else None
        reached.append(row)
    return learned, reached


def _paired_change(learned: list[dict[str, Any]], reached: list[dict[str, Any]], axes: list[str], metric: str) -> dict[tuple, dict[str, float]]:
    """Per cell, the seed mean of (reached - learned) ``metric`` with its 95% t interval (paired by seed)."""
    from labrace.agents.studies.analysis import seed_mean

    before = {(*(row[a] for a in axes), row["seed"]): row[metric] for row in learned}
    changes: dict[tuple, list[float]] = {}
    for row in reached:
        key = tuple(row[a] for a in axes)
        changes.setdefault(key, []).append(row[metric] - before[(*key, row["seed"])])
    return {key: seed_mean(values) for key, values in sorted(changes.items(), key=lambda kv: tuple(map(str, kv[0])))}


def dynamics_figure(learned: list[dict[str, Any]], reached: list[dict[str, Any]], axes: list[str], path: Path) -> bool:
    """Heatmaps of the racing index and the catastrophe rate over the first two axes, the learned
    profiles beside the reached ones (one panel each, and per value of a third axis); False (no
    figure) for a grid of another shape."""
    from labrace.agents.studies.analysis import heatmaps

    if len(axes) not in (2, 3):
        return False
    rows = []
    for profile, group in (("learned", learned), ("reached", reached)):
        for row in group:
            panel = profile if len(axes) == 2 else f"{axes[2]} {row[axes[2]]}, {profile}"
            rows.append({**row, "profile": panel})
    heatmaps(rows, axes[0], axes[1], "profile", {"racing index": "racing_index", "catastrophe rate": "catastrophe_rate"}, path)
    return True


def study_section(study: Study, budget: str, jobs: list[DynamicsSpec], steps: int, figure: tuple[Path, str] | None = None, br_timesteps: int | None = None) -> str:
    """The study's section: an answer first, then the learned and reached profiles per cell
    (``figure``: where to draw the heatmaps and the path the section links them by;
    ``br_timesteps``: the sweep's ``--br-timesteps``, named in the command that regenerates it)."""
    from labrace.agents.studies.analysis import BASINS, classify_basin, fmt, learned_table, rows_by_point

    learned, reached = dynamics_rows(jobs)
    spec = study.budgets[budget]
    command = f"python train.py sweep {study.name} --budget {budget} --br-dynamics {steps}" + ("" if br_timesteps is None else f" --br-timesteps {br_timesteps}")
    # the PPO responses' steps: every finished job ran with this setting (its metrics file is named by it)
    ppo_steps = {br_learner_steps(job.expected["env"], br_timesteps) for job in jobs if job.finished} - {0}
    learners = [f"a PPO best response ({n:,} steps)" for n in sorted(ppo_steps)] if any(row["check"] is not None for row in reached) else []
    checked = (
        f"Each reached profile is then checked, on {spec.exploitability_episodes_per_run} fresh paired episodes, over the strategy set with "
        f"{' or '.join(learners)} per lab added: a response outside the set can exploit an equilibrium of the set."
        if learners
        else "The reached profiles are equilibria of the strategy set only: no PPO best response checks them (`--br-timesteps 0`)."
    )
    lines = [
        f"## {study.title}: where best responses lead from the equilibrium lens",
        "",
        f"*Runs.* {len(reached)} of {len(jobs)} finished equilibrium-lens runs of `python train.py sweep {study.name} --budget {budget}` "
        f"(seeds {list(spec.seeds)}), each followed by at most {steps} best-response switches over the strategy set, measured on "
        f"{spec.exploitability_episodes_per_run} paired episodes per step; both profiles evaluated on {spec.eval_episodes} episodes. "
        f"{checked} Regenerate: `{command}`.",
        "",
    ]
    if not reached:
        return "\n".join(lines + ["No finished dynamics yet."])
    axes = [axis for axis in study.axes if axis != "lens"]
    converged = sum(row["converged"] for row in reached)
    switches = sorted(row["switches"] for row in reached)
    moved = {basin: sum(classify_basin(a) == basin for a in learned) for basin in BASINS}
    arrived = {basin: sum(classify_basin(r) == basin for r in reached) for basin in BASINS}
    racing = _paired_change(learned, reached, axes, "racing_index")
    welfare = _paired_change(learned, reached, axes, "welfare")
    less_racing = [cell for cell, change in racing.items() if change["hi"] < 0]
    more_racing = [cell for cell, change in racing.items() if change["lo"] > 0]
    more_welfare = [cell for cell, change in welfare.items() if change["lo"] > 0]
    less_welfare = [cell for cell, change in welfare.items() if change["hi"] < 0]
    # the profile most of a cell's seeds reach, and the cells where it is the most common
    by_cell = rows_by_point(reached, axes)  # the reached rows of each cell, in the order of the paired changes
    most_common = {cell: Counter(row["strategies"] for row in group).most_common(1)[0] for cell, group in by_cell.items()}
    where: dict[tuple, list[str]] = {}
    for cell, (profile, _) in most_common.items():
        where.setdefault(profile, []).append("(" + ", ".join(map(str, cell)) + ")")
    lines += [
        f"**Answer.** From {len(reached)} learned profiles the dynamics reached an approximate equilibrium of the strategy set in "
        f"{converged} ({sum(row['cycle'] for row in reached)} cycled), after a median of {switches[len(switches) // 2]} switches "
        f"(at most {switches[-1]}). Seeds by basin, learned → reached: "
        + ", ".join(f"{basin} {moved[basin]} → {arrived[basin]}" for basin in BASINS)
        + f". Racing index, paired by seed (95% t interval): lower where best responses lead in {len(less_racing)} of {len(racing)} cells, "
        f"higher in {len(more_racing)}; welfare higher in {len(more_welfare)}, lower in {len(less_welfare)}. "
        f"The profile most seeds of a cell reach ({', '.join(axes)}): "
        + "; ".join(f"`{' + '.join(profile)}` in {', '.join(cells)}" for profile, cells in sorted(where.items(), key=lambda kv: -len(kv[1])))
        + ". "
        + _check_sentence(reached)
        + "Where the learned profile is not an equilibrium and the reached one is, the reached profile is the evidence about "
        "what these incentives ask of labs (over the strategy set, the learned policies it keeps and the PPO responses that "
        "checked it); the learned one says where learning stopped.",
        "",
        "Change per cell, reached − learned (seed mean, 95% paired t interval), the reached profiles that are approximate "
        "equilibria (of the strategy set; and still with a PPO best response added) and the profile most seeds reached:",
        "",
        "| " + " | ".join([*axes, "racing index", "welfare", "catastrophe rate", "equilibrium of the set", "PPO check holds", "most common reached profile"]) + " |",
        "|" + "---|" * (len(axes) + 6),
    ]
    catastrophe = _paired_change(learned, reached, axes, "catastrophe_rate")
    for cell, group in by_cell.items():
        profile, count = most_common[cell]
        cells = [str(v) for v in cell] + [fmt(racing[cell]), fmt(welfare[cell]), fmt(catastrophe[cell])]
        held = [row["check"] == "approximate equilibrium" for row in group if row["check"] is not None]
        cells += [f"{sum(row['converged'] for row in group)}/{len(group)}", f"{sum(held)}/{len(held)}" if held else "not checked"]
        cells += [f"{' + '.join(profile)} ({count}/{len(group)})"]
        lines.append("| " + " | ".join(cells) + " |")
    metrics = {"racing index": "racing_index", "catastrophe rate": "catastrophe_rate", "coordinated rate": "coordinated_rate", "welfare": "welfare"}
    lines += [
        "",
        "The learned profiles (as in the study's section of the report):",
        "",
        learned_table(learned, axes, metrics),
        "",
        "The profiles best responses reach (exploitability: the PPO check's, over the strategy set and a PPO best response per lab; "
        "the last measurement over the strategy set where no PPO response checked it):",
        "",
        learned_table(reached, axes, metrics),
    ]
    if figure is not None and dynamics_figure(learned, reached, axes, figure[0]):
        lines += ["", f"![{study.name.upper()}: learned and reached profiles]({figure[1]})"]
    return "\n".join(lines)


def _check_sentence(reached: list[dict[str, Any]]) -> str:
    """What the PPO check found, for the answer ('' where no reached profile was checked)."""
    checked = [row for row in reached if row["check"] is not None]
    if not checked:
        return ""
    verdicts = Counter(row["check"] for row in checked)
    exploited = [row["exploitability"] for row in checked if row["check"] == "not an equilibrium"]
    largest = f" (largest gain {max(exploited):.2f} per episode)" if exploited else ""
    held_of_converged = sum(row["check"] == "approximate equilibrium" for row in checked if row["converged"])
    ppo = [row["ppo_gain"] for row in checked if row["ppo_gain"] is not None]
    beyond = (
        f"the PPO response was a lab's best response in {len(ppo)} of them (largest gain {max(ppo):.2f} per episode)"
        if ppo
        else "the PPO response beat the set's best response for no lab of any of them (a failed check is a response of the set, measured on the fresh episodes)"
    )
    return (
        f"Checked on fresh episodes with a PPO best response per lab added to the set, {verdicts['approximate equilibrium']} of {len(checked)} "
        f"reached profiles are approximate equilibria ({held_of_converged} of the {sum(row['converged'] for row in checked)} equilibria of the set), "
        f"{verdicts['not an equilibrium']} are not{largest} and {verdicts['undetermined']} undetermined; {beyond}. "
    )


def write_dynamics_report(plans: Mapping[str, list[DynamicsSpec]], budget: str, out: Path, steps: int, path: Path, br_timesteps: int | None = None) -> tuple[Path, bool]:
    """Write (atomically) the report of every study's finished dynamics, from ``plans`` (study name →
    its :func:`dynamics_plan` at this budget, ``out``, ``steps`` and ``br_timesteps``); returns its path
    and whether an existing report was kept instead: one that holds more finished dynamics than these
    runs give (a committed report, on a clean clone) is not replaced."""
    from labrace.agents.policy import atomic_write_text
    from labrace.agents.sweep import section_size

    sections = []
    root = (out / budget).resolve()  # figures beside the study's own, linked relative to the report where they can be
    link = root.relative_to(path.parent.resolve()).as_posix() if root.is_relative_to(path.parent.resolve()) else root.as_posix()
    for name, jobs in plans.items():
        if any(job.finished for job in jobs):
            sections.append(study_section(load_study(name), budget, jobs, steps, (root / name / FIGURE, f"{link}/{name}/{FIGURE}"), br_timesteps))
    preamble = (
        f"# Where best responses lead from the learned profiles\n\nBudget `{budget}` "
        "(`python train.py sweep STUDY --budget BUDGET --br-dynamics STEPS`). Best-response dynamics over the strategy set of "
        "`labrace.agents.exploitability` (every fixed allocation on a grid of 0.1 and every scripted baseline): each step the lab "
        "that gains most switches to its best response, until no lab gains more than 0.05 per episode. A PPO best response per lab "
        "then checks the profile reached (`--br-timesteps`; 0: no check)."
    )
    text = "\n\n".join([preamble, *(sections or ["No study has finished dynamics at this budget yet."])])
    held = lambda report: sum(section_size(part) or 0 for part in report.split("\n## ")[1:])  # noqa: E731 (finished dynamics per section)
    if path.exists() and held(path.read_text()) > held(text):
        return path, True
    return atomic_write_text(path, text + "\n"), False
