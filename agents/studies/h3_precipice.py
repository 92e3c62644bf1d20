"""H3, the precipice (Armstrong, Bostrom & Shulman 2016): more labs, more enmity and more
information about capabilities mean less safety and more danger.

Grid: number of labs x what labs know of the others' capabilities x enmity, on two games.

* ``precipice_v0``, the paper's one-shot model (``information`` none / private / public). Its theory
  is closed-form: the probability of disaster under the Nash equilibrium of each regime (P1-P3; with
  public information the lowest of the equilibrium range). Learned runs (shared PPO, the settings
  validated in results/canonical/learned.md) sit beside it at the full budget.
* ``race_v0``, the flagship (``capability_info`` none / noisy / public), where enmity e is a lab that
  cares only about who controls the technology (misuse concern 1) and trusts each rival 1 - e.
  Danger is the catastrophe rate of the learned profile, read through a lens: one PPO policy every
  lab plays, each lab learning from its own reward (*self-play*), or one PPO model per lab learning
  at once (*equilibrium*); the hypothesis is about self-interested labs, so the team lens is not
  among them.

Per cell and lens: seeds per basin (race_v0; Wilson intervals), seed means, exploitability (*not
eq.* above 0.05); verdicts from permutation tests on the seeds' values (the theory's from its
values), and claims of the equilibrium lens only from cells that are approximate equilibria.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labrace.agents.studies import FULL_BUDGET_HYPERPARAMS, LENS_NAMES, SMALL_BUDGET_HYPERPARAMS, SMALL_BUDGET_SELECTION_EPISODES, Budget, Study
from labrace.agents.studies.analysis import LEARNED_TABLE_LEGEND, by_point, compare_pairs, exploitability_summary, learned_table, lens_verdict, pyplot, save, verdict

AXES = {
    "env": ("precipice_v0", "race_v0"), "num_labs": (2, 5), "information": ("none", "partial", "public"), "enmity": (0.2, 0.8),
    "lens": ("equilibrium", "self-play"),
}  # fmt: skip
INFORMATION = {"precipice_v0": {"none": "none", "partial": "private", "public": "public"}, "race_v0": {"none": "none", "partial": "noisy", "public": "public"}}
CELL = ("num_labs", "information", "enmity")


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    info = INFORMATION[point["env"]][point["information"]]
    if point["env"] == "precipice_v0":
        return {"num_labs": point["num_labs"], "information": info, "enmity": point["enmity"]}
    trust = round(1 - point["enmity"], 3)
    lab = {"misuse_concern": (1.0, 1.0), "accident_concern": (0.5, 0.5), "trust": (trust, trust)}
    return {"num_labs": point["num_labs"], "capability_info": info, "lab_types": (lab,)}


def theory(point: dict[str, Any]) -> float | None:
    """The paper's disaster probability under Nash-equilibrium play (precipice_v0 only; with public
    information the lowest of the equilibrium range)."""
    if point["env"] != "precipice_v0":
        return None
    from labrace.envs import precipice_v0 as P

    config = P.make_config(**overrides(point))
    return float(P.disaster_probability(config.information, config.num_labs, config.enmity, config.capability_range))


def _pairs(cells: list[tuple]) -> dict[str, list[tuple[tuple, tuple]]]:
    """The hypothesis's comparisons over (labs, information, enmity) cells: more of one, the others
    fixed. An axis with one level among the cells (a sweep in progress) has no comparison yet: a
    cell is not compared with itself."""
    labs, infos, enmities = sorted({c[0] for c in cells}), sorted({c[1] for c in cells}, key=AXES["information"].index), sorted({c[2] for c in cells})
    return {
        "more labs": [((labs[-1], i, e), (labs[0], i, e)) for i in infos for e in enmities] if len(labs) > 1 else [],
        "more enmity": [((n, i, enmities[-1]), (n, i, enmities[0])) for n in labs for i in infos] if len(enmities) > 1 else [],
        "more information": [((n, infos[-1], e), (n, infos[0], e)) for n in labs for e in enmities] if len(infos) > 1 else [],
    }


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    for row in rows:
        row["danger_rate"] = row.get("disaster_rate", row.get("catastrophe_rate"))
    race_cells = sorted({tuple(r[a] for a in CELL) for r in rows})
    # the theory on the whole grid of the levels the runs have, every information regime
    grid = sorted({(n, i, e) for n, _, e in race_cells for i in AXES["information"]}) if race_cells else []
    nash = {cell: theory({"env": "precipice_v0", **dict(zip(CELL, cell))}) for cell in grid}
    answer = []
    signs = {claim: [int(np.sign(round(nash[a] - nash[b], 9))) for a, b in pairs] for claim, pairs in _pairs(grid).items()}
    answer.append("Theory (precipice_v0, Nash): " + "; ".join(f"{claim}, more danger: **{verdict(s)}**" for claim, s in signs.items()) + ".")
    details = ["| labs | information | enmity | precipice_v0 disaster (Nash) |", "|---|---|---|---|"]
    details += [f"| {n} | {i} ({INFORMATION['precipice_v0'][i]}) | {e} | {nash[(n, i, e)]:.3f} |" for n, i, e in grid]
    details.append("")
    for env in AXES["env"]:
        for lens in AXES["lens"]:
            runs = [r for r in rows if r["env"] == env and r["lens"] == lens]
            if not runs:
                continue
            cells = sorted({tuple(r[a] for a in CELL) for r in runs})
            verdicts = {claim: lens_verdict(*compare_pairs(runs, CELL, "danger_rate", pairs, lens == "equilibrium")) for claim, pairs in _pairs(cells).items()}
            claims = "; ".join(f"{claim}, more danger: **{v}**" for claim, v in verdicts.items())
            answer.append(f"Learned `{env}`, {LENS_NAMES[lens]}: {claims}; {exploitability_summary(runs, CELL)}.")
            metrics = {"danger": "danger_rate", "safety share": "share_safety"} if env == "race_v0" else {"disaster (learned)": "danger_rate", "theory (Nash)": "theory", "mean safety": "share_safety"}
            for row in runs:
                row["theory"] = nash.get(tuple(row[a] for a in CELL)) if env == "precipice_v0" else None
            details += [f"*`{env}`, lens: {LENS_NAMES[lens]}.*", "", learned_table(runs, CELL, metrics, basins=env == "race_v0"), ""]
    _plot(rows, nash, out / "danger.png")
    return "\n".join(
        ["**Answer.** " + " ".join(answer), "", *details,
         "Learned verdicts come from two-sided permutation tests on the seeds' values at the 0.05 level (*holds*: every comparison "
         f"significant the hypothesised way); the theory's from its exact values. {LEARNED_TABLE_LEGEND}", "",
         "![H3 danger](studies/h3/danger.png)"]
    )  # fmt: skip


def _plot(rows: list[dict[str, Any]], nash: dict[tuple, float], path: Path) -> None:
    """Danger against the number of labs, one line per (information, enmity): the precipice's Nash
    theory (dotted) and each learned (env, lens) with 95% t intervals."""
    plt = pyplot()
    layers = [("precipice_v0", "theory (Nash)")] + sorted({(r["env"], r["lens"]) for r in rows})
    fig, axes = plt.subplots(1, len(layers), figsize=(4.6 * len(layers), 3.6), squeeze=False)
    for ax, (env, lens) in zip(axes[0], layers):
        runs = [r for r in rows if r["env"] == env and r["lens"] == lens]
        table = by_point(runs, CELL, "danger_rate") if runs else {}
        cells = sorted(nash) if lens == "theory (Nash)" else sorted(table)
        labs = sorted({c[0] for c in cells})
        for info in sorted({c[1] for c in cells}, key=AXES["information"].index):
            for enmity in sorted({c[2] for c in cells}):
                if lens == "theory (Nash)":
                    ax.plot(labs, [nash[(n, info, enmity)] for n in labs], ls=":", marker=".", label=f"info {info}, e {enmity}")
                    continue
                finished = [n for n in labs if (n, info, enmity) in table]  # a sweep in progress lacks some cells
                if not finished:
                    continue
                entries = [table[(n, info, enmity)] for n in finished]
                means = [c["mean"] for c in entries]
                errors = [[c["mean"] - c["lo"] for c in entries], [c["hi"] - c["mean"] for c in entries]]
                ax.errorbar(finished, means, yerr=errors, marker="o", capsize=3, label=f"info {info}, e {enmity}")
        ax.set_title(f"{env}: {lens}", fontsize=9)
        ax.set_xlabel("number of labs")
        ax.set_ylabel("disaster / catastrophe rate")
        ax.set_ylim(0, 1)
        ax.legend(fontsize=6)
    fig.tight_layout()
    save(fig, path)


STUDY = Study(
    name="h3",
    title="H3 — the precipice (number of labs x information x enmity, on precipice_v0 and race_v0)",
    hypothesis="More labs, more enmity and more information about capabilities mean less safety and more danger.",
    env=lambda point: (point["env"], "baseline"),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        # learned: race_v0 through the self-play lens, no and public information; precipice_v0 by its
        # closed-form theory on every regime (its learners need 200k steps: the full budget)
        "small": Budget(timesteps=60_000, eval_episodes=200, exploitability_episodes=100, selection_episodes=SMALL_BUDGET_SELECTION_EPISODES, seeds=tuple(range(10)), hyperparams=SMALL_BUDGET_HYPERPARAMS, axes={"env": ("race_v0",), "information": ("none", "public"), "lens": ("self-play",)}),
        "full": Budget(timesteps=300_000, eval_episodes=1000, seeds=tuple(range(10)), hyperparams=FULL_BUDGET_HYPERPARAMS),
    },
)
