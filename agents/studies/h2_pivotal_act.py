"""H2, pivotal act vs pivotal process: where a unilateral pivotal act is possible, labs learn to
race more; the distributed route reaches the good outcome with a lower catastrophe rate than the
unilateral one.

Grid (race_v0, three neutral labs, one shared PPO policy that sees whether the act is allowed):
unilateral acts allowed or not, coordination hard (the baseline rate) or easy (twice the rate).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import Budget, Study
from labrace.agents.studies.analysis import bars, by_point, differs, markdown_table, verdict
from labrace.envs.race_v0 import RaceConfig

BASE_RATE = RaceConfig().coordination_rate
AXES = {"pivotal_act": (False, True), "coordination": ("hard", "easy")}
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
    axes = ("pivotal_act", "coordination")
    racing, catastrophe = by_point(rows, axes, "racing_index"), by_point(rows, axes, "catastrophe_rate")
    levels = sorted({r["coordination"] for r in rows})
    race_more = [differs(racing[(True, c)], racing[(False, c)]) for c in levels]
    riskier = [differs(catastrophe[(True, c)], catastrophe[(False, c)]) for c in levels]
    bars(rows, axes, {"racing index": "racing_index", "catastrophe": "catastrophe_rate", "coordinated": "coordinated_rate", "pivotal act": "pivotal_act_rate"}, out / "bars.png")
    return "\n".join(
        [
            f"- labs race more where a unilateral act is possible (each coordination level): **{verdict(race_more)}**",
            f"- the world with the unilateral route has the higher catastrophe rate (each coordination level): **{verdict(riskier)}**",
            "",
            markdown_table(rows, axes, METRICS),
            "",
            "![H2 bars](studies/h2/bars.png)",
        ]
    )


STUDY = Study(
    name="h2",
    title="H2 — pivotal act vs pivotal process (unilateral act allowed or not x coordination hard or easy)",
    hypothesis="Where unilateral acts are possible the labs learn to race more; the distributed route reaches the good outcome with a lower catastrophe rate than the unilateral one.",
    env=lambda point: ("race_v0", "baseline"),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        "small": Budget(timesteps=60_000, eval_episodes=300),
        "full": Budget(timesteps=1_000_000, eval_episodes=2000, seeds=(0, 1, 2, 3, 4), trainer="independent"),
    },
)
