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
lands", with the theory beside it. Each seed is judged by the targets of the learners' validation
(:func:`labrace.agents.validation.on_target`: precipice within 0.05 of Nash disaster with
exploitability <= 0.005, or inside the public regime's range with <= 0.03; dsair selecting the
theory's strategy within the equilibrium tolerance; commons meeting the threshold where fair
sharing is Nash), and a case lands where at least 80% of its seeds do.

Budget: ``full`` only. It trains exactly the validated learner of results/canonical/learned.md
(each env's own budget: precipice_v0 200k, dsair_v0 and commons_v0 300k steps), 5 seeds, and lands
in 8 of 9 cases (REPORT-full.md). The small report (``make report``) answers H1-H4 and leaves this
study out: at the small budget's 60k steps, short of every env's validated budget, its 27 runs
landed in 6 of 9 cases (precipice_v0 in 1 of 3), which says mostly that 60k steps are too few, and
cost 221 of that report's 2,436 worker-seconds (a clean-clone ``make report`` on the 2-core AMD
EPYC, 2026-12-05). The learners' validation on these games is results/canonical/learned.md
(``make validate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import Budget, Study
from labrace.agents.studies.analysis import by_point, exploitability_by_point, exploitability_summary, fmt, fmt_exploitability, seed_values
from labrace.agents.validation import CASES as VALIDATION_CASES
from labrace.agents.validation import game_theory, learned_value, on_target

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
    target = game_theory(env, overrides)
    if env == "precipice_v0":
        low, high = target["disaster"]
        return f"disaster {low:.2f} (Nash)" if low == high else f"disaster in [{low:.2f}, {high:.2f}] (equilibria)"
    if env == "dsair_v0":
        return f"{target['why']}: UNSAFE share {1 if target['selects'] == 'UNSAFE' else 0}"
    return f"fair share {'is' if target['fair_share_is_nash'] else 'is not'} a Nash equilibrium (critical risk {target['critical_risk']:.2f})"


#: a case lands on its theory where at least this share of its seeds do (4 of 5 seeds, 3 of 3), as
#: results/canonical/learned.md asks of the validated learners
ON_TARGET_SHARE = 0.8


def seed_on_target(row: dict[str, Any]) -> bool:
    """Whether one run lands where its case's theory says (:func:`labrace.agents.validation.on_target`:
    the same targets and exploitability bounds as the learners' validation)."""
    env, overrides = CASES[row["case"]]
    rates = {key.removesuffix("_rate"): value for key, value in row.items() if key.endswith("_rate")}
    exploitability = row["exploitability"] if row.get("exploitability") is not None else float("inf")  # unmeasured: not shown to be there
    return on_target(env, game_theory(env, overrides), learned_value(env, rates, row["racing_index"]), exploitability)


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    for row in rows:
        row["danger_rate"] = row.get("disaster_rate", row.get("catastrophe_rate"))
        row["on_target"] = float(seed_on_target(row))
    metrics = {
        "danger rate": "danger_rate",
        "mean safety (precipice)": "share_safety",
        "UNSAFE share (dsair)": "racing_index",
        "contribution share (commons)": "coordination_index",
        "target met (commons)": "target_met_rate",
    }
    tables = {name: by_point(rows, ("case",), key) for name, key in metrics.items()}
    exploitability = exploitability_by_point(rows, ("case",))
    hits = seed_values(rows, ("case",), "on_target")  # per case: 1.0 for each seed on target, else 0.0
    lines = ["| case | theory | " + " | ".join(metrics) + " | exploitability | seeds on target |", "|" + "---|" * (4 + len(metrics))]
    landed, missed = [], []
    for case in CASES:
        if (case,) not in tables["danger rate"]:
            continue
        cells = [fmt(tables[name][(case,)]) for name in metrics]
        k, n = int(sum(hits[(case,)])), len(hits[(case,)])
        (landed if k >= ON_TARGET_SHARE * n else missed).append(case)
        lines.append(f"| {case} | {theory(case)} | " + " | ".join(cells) + f" | {fmt_exploitability(exploitability[(case,)])} | {k} of {n} |")
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
    answer = (
        f"**Answer.** Self-play learners land where the papers' theory says in {len(landed)} of {len(landed) + len(missed)} cases "
        f"(a case lands where at least {ON_TARGET_SHARE:.0%} of its seeds do; a seed, where it meets the target and exploitability "
        "bound of the learners' validation, results/canonical/learned.md)"
        + (f"; not in {', '.join(missed)}" if missed else "")
        + f". Lens: self-play; {exploitability_summary(rows, ('case',))} (dsair_v0's in its prize units, tolerance 5% of the prize)."
    )
    return answer + "\n\n" + table + "\n"


STUDY = Study(
    name="canonical",
    title="The canonical models: where learning lands against the papers' theory",
    hypothesis="Self-play learners land near the equilibria the papers derive (precipice), on the risk-dominant strategy (DSAIR), and meet the commons threshold only where fair sharing is an equilibrium.",
    env=lambda point: (CASES[point["case"]][0], "baseline"),
    axes={"case": tuple(CASES)},
    overrides=lambda point: dict(CASES[point["case"]][1]),
    analyse=analyse,
    budgets={
        # the validated learner of results/canonical/learned.md (the default of `train.py train`: shared
        # PPO with each env's settings and budget), which reaches the theory on these games; one PPO
        # model per lab trained 1M steps in turns (the independent trainer) was never validated here
        # and costs many hours on 2 cores (a commons_v0 run: 18 turns of about 7 min)
        "full": Budget(timesteps=None, eval_episodes=2000, exploitability_episodes=500, seeds=(0, 1, 2, 3, 4)),
    },
)
