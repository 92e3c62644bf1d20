"""H4, common ground: the measures that misuse-worried and accident-worried labs both support
(audits, licensing, compute caps, commitments with sanctions; cheap talk as a control) lower the
catastrophe rate for misuse hawks and accident doves alike; which of them also slows the hawks, and
at what cost in welfare and sanctions.

Grid (race_v0): the scenarios ``misuse_hawks``, ``accident_doves`` and ``cruel_tradeoff`` x each
governance lever alone, all of them together, and none x the lens (one PPO policy shared by every
lab, *team*; or one PPO model per lab learning at once, *equilibrium*). The levers' settings are those
of race_v0's named lever scenarios (``audits``, ``licensing``, ``compute_cap``, ``commitments``,
``cheap_talk``, ``all_levers``), applied on top of each type scenario.

Per cell and lens: seeds per basin (Wilson intervals), seed means, exploitability (*not eq.* above
0.05); each lever is compared with no lever by permutation tests on the seeds' values, and claims
of the equilibrium lens come only from cells that are approximate equilibria.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import LENS_NAMES, SMALL_BUDGET_HYPERPARAMS, Budget, Study
from labrace.agents.studies.analysis import by_point, compare_pairs, heatmaps, learned_table, lens_verdict

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
AXES = {"scenario": SCENARIOS, "lever": tuple(LEVERS), "lens": ("equilibrium", "team")}
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
    answer, details = [], []
    for lens in (lens for lens in AXES["lens"] if any(r["lens"] == lens for r in rows)):
        runs = [r for r in rows if r["lens"] == lens]
        scenarios = [s for s in SCENARIOS if any(r["scenario"] == s for r in runs)]
        camps = [s for s in ("misuse_hawks", "accident_doves") if s in scenarios]
        catastrophe = by_point(runs, axes, "catastrophe_rate")
        claim = lens == "equilibrium"
        safer_everywhere, lines = [], []
        for lever in (name for name in LEVERS if name != "none" and any(r["lever"] == name for r in runs)):
            safer = lens_verdict(*compare_pairs(runs, axes, "catastrophe_rate", [((s, lever), (s, "none")) for s in camps], claim), expected=-1)
            slower = lens_verdict(*compare_pairs(runs, axes, "racing_index", [(("misuse_hawks", lever), ("misuse_hawks", "none"))], claim), expected=-1)
            costs = lens_verdict(*compare_pairs(runs, axes, "welfare", [((s, lever), (s, "none")) for s in camps], claim), expected=-1)
            if safer.startswith("holds"):
                safer_everywhere.append(lever)
            lines.append(f"- `{lever}`: lowers the catastrophe rate for hawks and doves alike: **{safer}**; slows the misuse hawks (racing index): **{slower}**; costs welfare: **{costs}**")
        shifts = "; ".join(
            f"{s}: catastrophe {catastrophe[(s, 'none')]['mean']:.2f} without a lever, "
            + ", ".join(f"{lever} {catastrophe[(s, lever)]['mean']:.2f}" for lever in LEVERS if lever != "none" and (s, lever) in catastrophe)
            for s in camps if (s, "none") in catastrophe
        )
        answer.append(
            f"{LENS_NAMES[lens][0].upper() + LENS_NAMES[lens][1:]}: the lever(s) that lower the catastrophe rate for hawks and doves alike: "
            + (", ".join(f"`{lever}`" for lever in safer_everywhere) or "none clearly") + f" ({shifts})."
        )
        details += [f"*Lens: {LENS_NAMES[lens]}.*", *lines, "", learned_table(runs, axes, METRICS), ""]
        for row in runs:
            row["panel"] = lens
    heatmaps(rows, "lever", "scenario", "panel", {"catastrophe rate": "catastrophe_rate", "racing index": "racing_index"}, out / "heatmaps.png")
    return "\n".join(
        ["**Answer.** " + " ".join(answer), "", *details,
         "Verdicts come from two-sided permutation tests (each lever against no lever, per scenario) at the 0.05 level; per cell: seeds "
         "per basin (share, 95% Wilson interval), seed means [95% t interval], mean exploitability (*not eq.* above 0.05).", "",
         "![H4 heatmaps](studies/h4/heatmaps.png)"]
    )  # fmt: skip


STUDY = Study(
    name="h4",
    title="H4 — common ground (each governance lever alone, all together, none x hawks, doves, the cruel trade-off)",
    hypothesis="The measures both camps support lower the catastrophe rate for misuse hawks and accident doves alike; some also slow the misuse hawks, at a cost in welfare and sanctions.",
    env=lambda point: ("race_v0", point["scenario"]),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        # the two camps the hypothesis names, through the team lens, 10 seeds
        "small": Budget(timesteps=60_000, eval_episodes=200, seeds=tuple(range(10)), hyperparams=SMALL_BUDGET_HYPERPARAMS, axes={"scenario": ("misuse_hawks", "accident_doves"), "lens": ("team",)}),
        "full": Budget(timesteps=300_000, eval_episodes=1000, seeds=tuple(range(10))),
    },
)
