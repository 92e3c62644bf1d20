"""H4, common ground: the measures that misuse-worried and accident-worried labs both support
(audits, licensing, compute caps, commitments with sanctions; cheap talk as a control) lower the
catastrophe rate for misuse hawks and accident doves alike; which of them also slows the hawks, and
at what cost in welfare and sanctions.

Grid (race_v0): the scenarios ``misuse_hawks``, ``accident_doves`` and ``cruel_tradeoff`` x each
governance lever alone, all of them together, and none x the lens (one PPO policy every lab plays,
each lab learning from its own reward, *self-play*; or one PPO model per lab learning at once,
*equilibrium*; levers act on self-interested labs, so the team lens is not among them). The
levers' settings are those of race_v0's named lever scenarios (``audits``, ``licensing``,
``compute_cap``, ``commitments``, ``cheap_talk``, ``all_levers``), applied on top of each type
scenario.

Per cell and lens: seeds per basin (Wilson intervals), seed means, exploitability (*not eq.* above
0.05); each lever is compared with no lever by permutation tests on the seeds' values, and claims
of the equilibrium lens come only from cells that are approximate equilibria.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import FULL_BUDGET_HYPERPARAMS, LENS_NAMES, SMALL_BUDGET_HYPERPARAMS, SMALL_BUDGET_SELECTION_EPISODES, Budget, Study, lens_title
from labrace.agents.studies.analysis import LEARNED_TABLE_LEGEND, by_point, compare_pairs, exploitability_by_point, exploitability_summary, heatmaps, learned_table

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
AXES = {"scenario": SCENARIOS, "lever": tuple(LEVERS), "lens": ("equilibrium", "self-play")}
METRICS = {"catastrophe rate": "catastrophe_rate", "racing index": "racing_index", "welfare": "welfare", "sanction cost": "sanction_cost"}


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    from labrace.envs import race_v0

    scenario = LEVERS[point["lever"]]
    if scenario is None:
        return {}
    lever_config, base = race_v0.make_config(scenario), race_v0.make_config("baseline")
    return {f: getattr(lever_config, f) for f in LEVER_FIELDS if getattr(lever_config, f) != getattr(base, f)}


#: how a test's sign reads in a lever's line
DIRECTION = {1: "higher", -1: "lower", 0: "no clear difference"}
CAMPS = ("misuse_hawks", "accident_doves")


def _direction(runs: list[dict[str, Any]], metric: str, scenario: str, lever: str, equilibrium_claim: bool) -> int | None:
    """The sign of ``lever`` against no lever on ``metric`` in ``scenario`` (permutation test), None
    where the equilibrium lens leaves a cell out or a cell is missing."""
    signs, _ = compare_pairs(runs, ("scenario", "lever"), metric, [((scenario, lever), (scenario, "none"))], equilibrium_claim)
    return signs[0] if signs else None


def _says(sign: int | None) -> str:
    return "not tested (not an equilibrium)" if sign is None else DIRECTION[sign]


def _with_exploitability(lever: str, exploit: dict[tuple, dict[str, Any]]) -> str:
    """A common-ground lever with its camps' exploitability, so a lever that "works" only where the
    learners are far from an equilibrium (a stall, say) reads as such: "`audits` (exploitability
    0.52 misuse_hawks, 0.86 accident_doves: not eq.)"."""
    cells = [exploit[(camp, lever)] for camp in CAMPS]
    values = ", ".join(f"{cell['mean']:.2f} {camp}" for camp, cell in zip(CAMPS, cells))
    return f"`{lever}` (exploitability {values}{'' if all(cell['equilibrium'] for cell in cells) else ': not eq.'})"


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    axes = ("scenario", "lever")
    answer, details = [], []
    for lens in (lens for lens in AXES["lens"] if any(r["lens"] == lens for r in rows)):
        runs = [r for r in rows if r["lens"] == lens]
        catastrophe = by_point(runs, axes, "catastrophe_rate")
        claim = lens == "equilibrium"
        common_ground, untested, unfinished, lines = [], 0, 0, []
        for lever in (name for name in LEVERS if name != "none" and any(r["lever"] == name for r in runs)):
            # a camp is compared only once both of its cells have finished runs (a sweep in progress);
            # common ground needs both camps, also while one has no runs yet
            pair = [s for s in CAMPS if (s, "none") in catastrophe and (s, lever) in catastrophe]
            missing = [s for s in CAMPS if s not in pair]
            safety = {s: _direction(runs, "catastrophe_rate", s, lever, claim) for s in pair}
            welfare = {s: _direction(runs, "welfare", s, lever, claim) for s in pair}
            racing = _direction(runs, "racing_index", "misuse_hawks", lever, claim) if "misuse_hawks" in pair else None
            if missing:
                unfinished += 1
            elif any(v is None for v in safety.values()):
                untested += 1
            elif -1 in safety.values() and 1 not in safety.values():
                common_ground.append(lever)
            lines.append(
                f"- `{lever}`: catastrophe rate " + ", ".join(f"{s} **{_says(safety[s])}** ({catastrophe[(s, 'none')]['mean']:.2f} → {catastrophe[(s, lever)]['mean']:.2f})" for s in pair)
                + (f"; racing index of the misuse hawks **{_says(racing)}**" if "misuse_hawks" in pair else "")
                + ("; welfare " + ", ".join(f"{s} **{_says(welfare[s])}**" for s in pair) if pair else "")
                + (f"{'; ' if pair else ''}{', '.join(missing)}: no finished runs in one of the two cells yet" if missing else "")
            )
        exploit = exploitability_by_point(runs, axes)
        found = ", ".join(_with_exploitability(lever, exploit) for lever in common_ground) or "none"
        answer.append(
            f"{lens_title(lens)}: common ground (lowers the catastrophe rate of at least one camp and raises neither's): {found}"
            + (f"; {untested} lever(s) not tested (a cell is not an equilibrium)" if untested else "")
            + (f"; {unfinished} lever(s) not yet compared in every camp (runs not finished)" if unfinished else "")
            + f"; {exploitability_summary(runs, axes)}."
        )
        details += [f"*Lens: {LENS_NAMES[lens]}.* Each lever against no lever, per camp:", *lines, "", learned_table(runs, axes, METRICS), ""]
        for row in runs:
            row["panel"] = lens
    heatmaps(rows, "lever", "scenario", "panel", {"catastrophe rate": "catastrophe_rate", "racing index": "racing_index"}, out / "heatmaps.png")
    return "\n".join(
        ["**Answer.** " + " ".join(answer), "", *details,
         f"Verdicts come from two-sided permutation tests (each lever against no lever, per scenario) at the 0.05 level. {LEARNED_TABLE_LEGEND}", "",
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
        # the two camps the hypothesis names, through the self-play lens, 10 seeds
        "small": Budget(timesteps=60_000, eval_episodes=200, exploitability_episodes=100, selection_episodes=SMALL_BUDGET_SELECTION_EPISODES, seeds=tuple(range(10)), hyperparams=SMALL_BUDGET_HYPERPARAMS, axes={"scenario": ("misuse_hawks", "accident_doves"), "lens": ("self-play",)}),
        "full": Budget(timesteps=300_000, eval_episodes=1000, seeds=tuple(range(10)), hyperparams=FULL_BUDGET_HYPERPARAMS),
    },
)
