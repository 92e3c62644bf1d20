"""The "learned" column of the canonical models: how close SB3 learners get to each paper's theory.

One shared-parameter PPO policy per case (each lab sees its own observation; self-play), against:

* ``precipice_v0`` (Armstrong et al. 2016): the Nash-equilibrium probability of disaster and mean
  safety level of the information regime;
* ``dsair_v0`` (Han et al. 2020): in the paper's game (``switching=False``: a lab's first play
  binds it for the race) the risk-dominant pure strategy for the disaster risk p_r (UNSAFE below
  the risk-dominance threshold, SAFE above it): a predicted UNSAFE share of 1 or 0; with switching
  (the env's default) UNSAFE, since a short UNSAFE sprint beats SAFE rivals there (dsair_v0.py);
  the cases and their theory are those of :mod:`labrace.agents.validation`;
* ``commons_v0`` (Milinski et al. 2008): whether contributing the fair share is a Nash
  equilibrium (risk r at least M / (N E)); there the threshold can be met, else free-riding pays.

Self-play PPO finds *a* stable profile, not necessarily the one the theory singles out (risk
dominance selects between two equilibria: at p_r = 0.6 and 0.9 both all-SAFE and all-UNSAFE are
equilibria of the paper's game, since against an UNSAFE rival SAFE earns even less; the commons
has a free-riding equilibrium beside the fair-share one), so the table reads as "where learning
lands", with the theory beside it. At this study's small budget (60k steps) the learners are
short of the validated ones of results/canonical/learned.md (300k steps for dsair_v0).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import Budget, Study
from labrace.agents.studies.analysis import by_point, fmt
from labrace.agents.validation import CASES as VALIDATION_CASES
from labrace.agents.validation import theory as validation_theory

#: case → (env, overrides)
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "precipice n=2 e=0.5 none": ("precipice_v0", {"num_labs": 2, "enmity": 0.5, "information": "none"}),
    "precipice n=2 e=0.5 public": ("precipice_v0", {"num_labs": 2, "enmity": 0.5, "information": "public"}),
    "precipice n=3 e=1.0 private": ("precipice_v0", {"num_labs": 3, "enmity": 1.0, "information": "private"}),
    **{case: VALIDATION_CASES[case] for case in VALIDATION_CASES if case.startswith("dsair")},
    "commons r=0.2": ("commons_v0", {"risk": 0.2}),
    "commons r=0.9": ("commons_v0", {"risk": 0.9}),
}


def theory(case: str) -> str:
    env, overrides = CASES[case]
    if env == "precipice_v0":
        from labrace.envs import precipice_v0 as P

        config = P.make_config(**overrides)
        p = P.disaster_probability(config.information, config.num_labs, config.enmity, config.capability_range)
        return f"disaster {p:.2f} (Nash)"
    if env == "dsair_v0":
        t = validation_theory(case)
        return f"{t['why']}: UNSAFE share {1 if t['selects'] == 'UNSAFE' else 0}"
    from labrace.envs import commons_v0 as C

    c = C.make_config(**overrides)
    nash = C.fair_share_is_nash(c.risk, c.threshold, c.num_labs, c.endowment)
    return f"fair share {'is' if nash else 'is not'} a Nash equilibrium (critical risk {C.critical_risk(c.threshold, c.num_labs, c.endowment):.2f})"


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    for row in rows:
        row["danger_rate"] = row.get("disaster_rate", row.get("catastrophe_rate"))
    metrics = {
        "danger rate": "danger_rate",
        "mean safety (precipice)": "share_safety",
        "UNSAFE share (dsair)": "racing_index",
        "contribution share (commons)": "coordination_index",
        "target met (commons)": "target_met_rate",
    }
    tables = {name: by_point(rows, ("case",), key) for name, key in metrics.items()}
    lines = ["| case | theory | " + " | ".join(metrics) + " |", "|" + "---|" * (2 + len(metrics))]
    for case in CASES:
        if (case,) not in tables["danger rate"]:
            continue
        cells = [fmt(tables[name][(case,)]) for name in metrics]
        lines.append(f"| {case} | {theory(case)} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    # the same table beside the theory-vs-environment tables of results/canonical/
    canonical = out.parents[2] / "canonical" / f"learned_{out.parent.name}.md"
    if canonical.parent.is_dir():
        tmp = canonical.with_name(f".{canonical.name}.tmp")
        tmp.write_text(
            f"# The learned column: SB3 self-play against the canonical models' theory ({out.parent.name} budget)\n\n"
            f"Regenerate: `python train.py sweep canonical --budget {out.parent.name}`; 95% t intervals over seeds.\n\n{table}\n"
        )
        tmp.replace(canonical)
    return table


STUDY = Study(
    name="canonical",
    title="The canonical models: where learning lands against the papers' theory",
    hypothesis="Self-play learners land near the equilibria the papers derive (precipice), on the risk-dominant strategy (DSAIR), and meet the commons threshold only where fair sharing is an equilibrium.",
    env=lambda point: (CASES[point["case"]][0], "baseline"),
    axes={"case": tuple(CASES)},
    overrides=lambda point: dict(CASES[point["case"]][1]),
    analyse=analyse,
    budgets={
        "small": Budget(timesteps=60_000, eval_episodes=300),
        "full": Budget(timesteps=1_000_000, eval_episodes=2000, seeds=(0, 1, 2, 3, 4), trainer="independent"),
    },
)
