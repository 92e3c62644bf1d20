"""H2, pivotal act vs pivotal process: where a unilateral pivotal act is possible, labs learn to
race more; the distributed route reaches the good outcome with a lower catastrophe rate than the
unilateral one.

Grid (race_v0, three neutral labs): unilateral acts allowed or not x coordination hard (the baseline
rate) or easy (twice the rate) x the lens: learners that each seek their own best response (the
*equilibrium* lens: the simultaneous trainer, one PPO model per lab) or one PPO policy every lab
plays, each lab learning from its own reward (the *self-play* lens; the hypothesis is about
self-interested labs, so the team lens is not among them). Per cell and lens: seeds per basin
(Wilson intervals), seed means, exploitability (*not eq.* above 0.05); verdicts from permutation
tests on the seeds' values, and claims of the equilibrium lens only from cells that are
approximate equilibria.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import FULL_BUDGET_HYPERPARAMS, LENS_NAMES, SMALL_BUDGET_HYPERPARAMS, SMALL_BUDGET_SELECTION_EPISODES, Budget, Study, lens_title
from labrace.agents.studies.analysis import LEARNED_TABLE_LEGEND, bars, by_point, compare_pairs, exploitability_summary, learned_table, lens_verdict
from labrace.envs.race_v0 import RaceConfig

BASE_RATE = RaceConfig().coordination_rate
AXES = {"pivotal_act": (False, True), "coordination": ("hard", "easy"), "lens": ("equilibrium", "self-play")}
CELL = ("pivotal_act", "coordination")
METRICS = {
    "racing index": "racing_index",
    "catastrophe rate": "catastrophe_rate",
    "coordinated rate": "coordinated_rate",
    "pivotal-act rate": "pivotal_act_rate",
    "welfare": "welfare",
}


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    rate = BASE_RATE if point["coordination"] == "hard" else 2 * BASE_RATE
    return {"pivotal_act": point["pivotal_act"], "coordination_rate": round(rate, 6)}


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    lenses = [lens for lens in AXES["lens"] if any(r["lens"] == lens for r in rows)]
    answer, details = [], []
    for lens in lenses:
        runs = [r for r in rows if r["lens"] == lens]
        levels = sorted({r["coordination"] for r in runs})
        pairs = [((True, c), (False, c)) for c in levels]  # act allowed vs not, at each coordination level
        claim = lens == "equilibrium"
        race_more = lens_verdict(*compare_pairs(runs, CELL, "racing_index", pairs, claim))
        riskier = lens_verdict(*compare_pairs(runs, CELL, "catastrophe_rate", pairs, claim))
        racing, catastrophe, acts = (by_point(runs, CELL, key) for key in ("racing_index", "catastrophe_rate", "pivotal_act_rate"))
        means = "; ".join(
            f"{c} coordination: racing index {racing[(False, c)]['mean']:.2f} → {racing[(True, c)]['mean']:.2f}, "
            f"catastrophe {catastrophe[(False, c)]['mean']:.2f} → {catastrophe[(True, c)]['mean']:.2f}, acts taken in {acts[(True, c)]['mean']:.0%} of episodes"
            for c in levels if (False, c) in racing and (True, c) in racing
        )
        answer.append(f"{lens_title(lens)}, without → with the unilateral act: {means}; {exploitability_summary(runs, CELL)}.")
        details += [
            f"*Lens: {LENS_NAMES[lens]}.*",
            f"- labs race more where a unilateral act is possible (each coordination level): **{race_more}**",
            f"- the world with the unilateral route has the higher catastrophe rate (each coordination level): **{riskier}**",
            "",
            learned_table(runs, CELL, METRICS),
            "",
        ]
    for row in rows:
        row["cell"] = f"{row['lens']}: act {'allowed' if row['pivotal_act'] else 'barred'}"
    bars(rows, ("cell", "coordination"), {"racing index": "racing_index", "catastrophe": "catastrophe_rate", "coordinated": "coordinated_rate", "pivotal act": "pivotal_act_rate"}, out / "bars.png")
    return "\n".join(
        ["**Answer.** " + " ".join(answer), "", *details,
         f"Verdicts come from two-sided permutation tests on the seeds' values at the 0.05 level. {LEARNED_TABLE_LEGEND}", "",
         "![H2 bars](studies/h2/bars.png)"]
    )  # fmt: skip


STUDY = Study(
    name="h2",
    title="H2 — pivotal act vs pivotal process (unilateral act allowed or not x coordination hard or easy)",
    hypothesis="Where unilateral acts are possible the labs learn to race more; the distributed route reaches the good outcome with a lower catastrophe rate than the unilateral one.",
    env=lambda point: ("race_v0", "baseline"),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        "small": Budget(timesteps=60_000, eval_episodes=200, exploitability_episodes=100, selection_episodes=SMALL_BUDGET_SELECTION_EPISODES, seeds=tuple(range(10)), hyperparams=SMALL_BUDGET_HYPERPARAMS),
        "full": Budget(timesteps=300_000, eval_episodes=1000, seeds=tuple(range(10)), hyperparams=FULL_BUDGET_HYPERPARAMS),
    },
)
