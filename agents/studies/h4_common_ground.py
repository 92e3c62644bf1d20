"""H4, common ground: the measures that misuse-worried and accident-worried labs both support
(audits, licensing, compute caps, commitments with sanctions; cheap talk as a control) lower the
catastrophe rate for misuse hawks and accident doves alike; which of them also slows the hawks, and
at what cost in welfare and sanctions.

Grid (race_v0, one shared PPO policy per run): the scenarios ``misuse_hawks``, ``accident_doves``
and ``cruel_tradeoff`` x each governance lever alone, all of them together, and none. The levers'
settings are those of race_v0's named lever scenarios (``audits``, ``licensing``, ``compute_cap``,
``commitments``, ``cheap_talk``, ``all_levers``), applied on top of each type scenario.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import Budget, Study
from labrace.agents.studies.analysis import by_point, differs, heatmaps, markdown_table, verdict

#: lever → the race_v0 scenario whose lever settings it applies (None: no lever)
LEVERS = {
    "none": None,
    "audits": "audits",
    "licensing": "licensing",
    "compute_cap": "compute_cap",
    "commitments": "commitments",
    "cheap_talk": "cheap_talk",
    "all": "all_levers",
}
#: the config fields that make up the levers (every other field comes from the type scenario)
LEVER_FIELDS = (
    "audit_probability", "audit_trust_gain", "safety_floor", "sanction", "pause_steps", "compute_cap",
    "commitments", "commitment_floor", "commitment_period", "breach_trust_penalty", "cheap_talk", "declare_trust_penalty",
)  # fmt: skip
SCENARIOS = ("misuse_hawks", "accident_doves", "cruel_tradeoff")
METRICS = {"catastrophe rate": "catastrophe_rate", "racing index": "racing_index", "welfare": "welfare", "sanction cost": "sanction_cost"}


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    from labrace.envs import race_v0

    scenario = LEVERS[point["lever"]]
    if scenario is None:
        return {}
    lever_config, base = race_v0.make_config(scenario), race_v0.make_config("baseline")
    return {f: getattr(lever_config, f) for f in LEVER_FIELDS if getattr(lever_config, f) != getattr(base, f)}


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    axes = ("scenario", "lever")
    catastrophe, racing = by_point(rows, axes, "catastrophe_rate"), by_point(rows, axes, "racing_index")
    lines = []
    for lever in (name for name in LEVERS if name != "none"):
        safer = [differs(catastrophe[(s, lever)], catastrophe[(s, "none")]) for s in ("misuse_hawks", "accident_doves")]
        slower = differs(racing[("misuse_hawks", lever)], racing[("misuse_hawks", "none")])
        lines.append(
            f"- `{lever}`: lowers the catastrophe rate for hawks and doves alike: **{verdict(safer, expected=-1)}**; "
            f"slows the misuse hawks (racing index): **{verdict([slower], expected=-1)}**"
        )
    for row in rows:
        row["all"] = "all scenarios"
    heatmaps(rows, "lever", "scenario", "all", {"catastrophe rate": "catastrophe_rate", "racing index": "racing_index"}, out / "heatmaps.png")
    return "\n".join(lines + ["", markdown_table(rows, axes, METRICS), "", "![H4 heatmaps](studies/h4/heatmaps.png)"])


STUDY = Study(
    name="h4",
    title="H4 — common ground (each governance lever alone, all together, none x hawks, doves, the cruel trade-off)",
    hypothesis="The measures both camps support lower the catastrophe rate for misuse hawks and accident doves alike; some also slow the misuse hawks, at a cost in welfare and sanctions.",
    env=lambda point: ("race_v0", point["scenario"]),
    axes={"scenario": SCENARIOS, "lever": tuple(LEVERS)},
    overrides=overrides,
    analyse=analyse,
    budgets={
        "small": Budget(timesteps=60_000, eval_episodes=300),
        "full": Budget(timesteps=1_000_000, eval_episodes=2000, seeds=(0, 1, 2, 3, 4), trainer="independent"),
    },
)
