"""Validation of the learners on games with known answers: results/canonical/learned.md.

    python -m labrace.agents.validation               # every case, 5 seeds, 2 workers (make validate)
    python -m labrace.agents.validation --cases precipice --seeds 0 1 --workers 1

A learned race_v0 profile is read as equilibrium behaviour only if the learner the study uses lands
on the canonical models' equilibria (DESIGN.md §5). For each case this trains the default learner
of ``train.py train`` (shared PPO with the env's defaults from ``agents/hyperparams.py``, budget
included) over several seeds and reports, beside the theory:

* ``precipice_v0``: the learned disaster probability (mean over seeds, 95% t interval) against the
  Nash value, or the equilibrium *range* with public information, and the exploitability (exact
  best response; largest per-lab gain, mean and worst seed). Target: within 0.05 of Nash with
  exploitability <= 0.005 (none / private); inside the range with exploitability <= 0.03 (public).
* ``dsair_v0``: the learned UNSAFE share against what theory selects, with exploitability within
  ``equilibrium_tolerance`` (5% of the prize). In the paper's game (``switching=False``: a lab's
  first play binds it for the race) the risk-dominant strategy of the paper's payoff matrix; with
  switching (the env's default) UNSAFE, since a short UNSAFE sprint beats SAFE rivals there and
  all-SAFE is no equilibrium (dsair_v0.py). A seed *selects* a strategy when its UNSAFE share is on
  that side of 1/2. Target: >= 4 of 5.
* ``commons_v0``: how often the threshold is met against whether fair sharing is a Nash
  equilibrium (risk r >= M / (N E)). Target: met where it is, not where it is not (>= 4 of 5).

Every seed's numbers go to ``learned.json`` beside the table; both are written atomically.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

#: case name → (env, config overrides)
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "precipice n=5 e=0.8 none": ("precipice_v0", {"num_labs": 5, "enmity": 0.8, "information": "none"}),
    "precipice n=3 e=0.6 mu=1.3 none": ("precipice_v0", {"num_labs": 3, "enmity": 0.6, "capability_range": 1.3, "information": "none"}),
    "precipice n=4 e=0.9 mu=0.8 none": ("precipice_v0", {"num_labs": 4, "enmity": 0.9, "capability_range": 0.8, "information": "none"}),
    "precipice n=4 e=0.5 none": ("precipice_v0", {"num_labs": 4, "enmity": 0.5, "information": "none"}),
    "precipice n=2 e=0.7 private": ("precipice_v0", {"num_labs": 2, "enmity": 0.7, "information": "private"}),
    "precipice n=3 e=1.0 private": ("precipice_v0", {"num_labs": 3, "enmity": 1.0, "information": "private"}),
    "precipice n=2 e=0.5 public": ("precipice_v0", {"num_labs": 2, "enmity": 0.5, "information": "public"}),
    "precipice n=3 e=0.75 mu=0.5 public": ("precipice_v0", {"num_labs": 3, "enmity": 0.75, "capability_range": 0.5, "information": "public"}),
    "dsair p_r=0.2 whole race": ("dsair_v0", {"p_r": 0.2, "switching": False}),
    "dsair p_r=0.6 whole race": ("dsair_v0", {"p_r": 0.6, "switching": False}),
    "dsair p_r=0.9 whole race": ("dsair_v0", {"p_r": 0.9, "switching": False}),
    "dsair p_r=0.9 switching": ("dsair_v0", {"p_r": 0.9}),
    "commons r=0.2": ("commons_v0", {"risk": 0.2}),
    "commons r=0.9": ("commons_v0", {"risk": 0.9}),
}
SEEDS = (0, 1, 2, 3, 4)
EVAL_EPISODES = 4000
EXPLOITABILITY_EPISODES = 2000


def theory(case: str) -> dict[str, Any]:
    """What the paper's model says for ``case`` (a target the learned profile is judged against)."""
    return game_theory(*CASES[case])


def game_theory(env: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """What the paper's model says for ``env`` with ``overrides`` (see :func:`on_target`)."""
    if env == "precipice_v0":
        from labrace.envs import precipice_v0 as P

        c = P.make_config(**overrides)
        low, high = P.disaster_probability_range(c.information, c.num_labs, c.enmity, c.capability_range)
        return {"disaster": [low, high], "tolerance": 0.05 if low == high else 0.0, "max_exploitability": 0.005 if low == high else 0.03}
    if env == "dsair_v0":
        from labrace.envs import dsair_v0 as D

        from labrace.agents.exploitability import equilibrium_tolerance

        c = D.make_config(**overrides)
        threshold = D.risk_dominance_threshold(c.B, c.W, c.s, c.b, c.c)
        tolerance = equilibrium_tolerance(D.DsairGame(c))
        if c.switching:  # a sprint beats SAFE rivals: all-UNSAFE is the equilibrium (dsair_v0.py)
            return {"selects": "UNSAFE", "why": "SAFE is no equilibrium with switching", "threshold": threshold, "max_exploitability": tolerance}
        rd = "UNSAFE" if c.p_r < threshold else "SAFE"
        return {"selects": rd, "why": f"{rd} risk-dominant (p_r threshold {threshold:.3f})", "threshold": threshold, "max_exploitability": tolerance}
    from labrace.envs import commons_v0 as C

    c = C.make_config(**overrides)
    return {"fair_share_is_nash": bool(C.fair_share_is_nash(c.risk, c.threshold, c.num_labs, c.endowment)), "critical_risk": C.critical_risk(c.threshold, c.num_labs, c.endowment)}


def learned_value(env: str, rates: dict[str, float], racing_index: float) -> float:
    """The learned profile's number that its theory judges: precipice_v0's disaster rate, dsair_v0's
    UNSAFE share (its racing index), commons_v0's rate of meeting the threshold."""
    if env == "precipice_v0":
        return rates["disaster"]
    if env == "dsair_v0":
        return racing_index
    return rates["target_met"]


def on_target(env: str, target: dict[str, Any], value: float, exploitability: float) -> bool:
    """Whether one seed's learned profile lands where its theory (:func:`game_theory`) says: the
    module docstring's targets, ``value`` as :func:`learned_value` gives it."""
    if env == "precipice_v0":
        low, high = target["disaster"]
        return low - target["tolerance"] <= value <= high + target["tolerance"] and exploitability <= target["max_exploitability"]
    if env == "dsair_v0":
        return (value > 0.5) == (target["selects"] == "UNSAFE") and exploitability <= target["max_exploitability"]
    return (value > 0.5) == target["fair_share_is_nash"]


def run_case(case: str, seed: int) -> dict[str, Any]:
    """Train the default learner on ``case`` with ``seed``; evaluate it and its exploitability."""
    import labrace
    from labrace.agents import rollout, train_shared
    from labrace.agents.exploitability import exploitability
    from labrace.agents.hyperparams import get_hyperparams

    env, overrides = CASES[case]
    game = labrace.make_game(env, **overrides)
    params = get_hyperparams(env, "ppo", "shared")
    timesteps = int(params.get("timesteps", 300_000))
    start = time.perf_counter()
    result = train_shared(game, "ppo", timesteps, seed=seed, hyperparams=params)
    seconds = time.perf_counter() - start
    r = rollout(game, result.policies, EVAL_EPISODES, seed=seed + 1)
    report = exploitability(game, result.policies, episodes=EXPLOITABILITY_EPISODES if env == "precipice_v0" else 300, seed=seed + 2)
    row = {
        "case": case,
        "env": env,
        "seed": seed,
        "timesteps": timesteps,
        "train_seconds": round(seconds, 1),
        "outcomes": {name: r.outcome_rate(name) for name in r.outcome_names[1:]},
        "racing_index": r.racing_index(),
        "coordination_index": r.coordination_index(),
        "exploitability": report["exploitability"],
        "best_responses": [lab["best_response"] for lab in report["labs"]],
    }
    if env == "precipice_v0":
        row["safety"] = float(r.allocation[..., 0].mean())
    return row


def _mean_ci(values: Sequence[float]) -> str:
    from labrace.agents.studies.analysis import seed_mean

    cell = seed_mean(values)
    return f"{cell['mean']:.3f}" if cell["n"] < 2 else f"{cell['mean']:.3f} [{cell['lo']:.3f}, {cell['hi']:.3f}]"


def table(rows: list[dict[str, Any]]) -> str:
    """The markdown report of every case (rows: one per case and seed)."""
    lines = [
        "| case | theory | learned | exploitability (mean; worst seed) | seeds on target | train s / seed |",
        "|---|---|---|---|---|---|",
    ]
    for case in CASES:
        runs = [row for row in rows if row["case"] == case]
        if not runs:
            continue
        t = theory(case)
        env = CASES[case][0]
        expl = [row["exploitability"] for row in runs]
        learned = [learned_value(env, row["outcomes"], row["racing_index"]) for row in runs]
        hits = [on_target(env, t, value, x) for value, x in zip(learned, expl)]
        if env == "precipice_v0":
            low, high = t["disaster"]
            target = f"Nash disaster {low:.3f}" if low == high else f"equilibrium disaster range [{low:.3f}, {high:.3f}]"
            goal = f" (within 0.05, expl. <= {t['max_exploitability']})" if low == high else f" (inside, expl. <= {t['max_exploitability']})"
            learned_text = f"disaster {_mean_ci(learned)}"
        elif env == "dsair_v0":
            target, goal = t["why"], f" (selects {t['selects']}, expl. <= {t['max_exploitability']:.0f})"
            learned_text = f"UNSAFE share {_mean_ci(learned)}"
        else:
            target = f"fair share {'is' if t['fair_share_is_nash'] else 'is not'} Nash (critical risk {t['critical_risk']:.2f})"
            goal = ""
            learned_text = f"threshold met {_mean_ci(learned)}"
        seconds = np.mean([row["train_seconds"] for row in runs])
        lines.append(
            f"| {case} | {target}{goal} | {learned_text} | {np.mean(expl):.4f}; {np.max(expl):.4f} | {sum(hits)} of {len(runs)} | {seconds:.0f} |"
        )
    return "\n".join(lines)


def write(rows: list[dict[str, Any]], out: Path, command: str, seconds: float) -> Path:
    """Write the table and the per-seed JSON; cases not run this time keep their earlier rows."""
    import json

    from labrace.agents.policy import atomic_write_text, write_json

    previous = json.loads(out.with_suffix(".json").read_text()) if out.with_suffix(".json").exists() else {"runs": []}
    ran = {row["case"] for row in rows}
    kept = [row for row in previous.get("rows", []) if row["case"] not in ran]
    runs = [run for run in previous.get("runs", []) if not set(run["cases"]) <= ran] + [{"command": command, "cases": sorted(ran), "wall_seconds": round(seconds, 1)}]
    rows = kept + rows
    write_json(out.with_suffix(".json"), {"runs": runs, "rows": rows})
    return atomic_write_text(out, render(rows, runs))


def render(rows: list[dict[str, Any]], runs: list[dict[str, Any]]) -> str:
    """learned.md: how to regenerate it, what its columns mean, and the table."""
    commands = "; ".join(f"`{run['command']}` ({run['wall_seconds'] / 60:.0f} min)" for run in runs)
    return (
        "# The learners on games with known answers (issue 15)\n\n"
        f"Regenerate: `python -m labrace.agents.validation` (`make validate`); this table: {commands} on 2 CPU cores. Each case trains the default learner of "
        "`train.py train` (shared PPO with the env's settings and budget from `agents/hyperparams.py`) once per seed; "
        "`learned` is the mean over seeds with a 95% t interval, exploitability the largest per-lab best-response gain "
        "per episode (`labrace.agents.exploitability`: exact for precipice_v0, the best of the env's strategy set "
        "otherwise). Public information in precipice_v0 has a range of equilibria (precipice_v0.py, P3); a learned "
        "profile anywhere in it is an equilibrium. `train s / seed`: training wall seconds per seed as measured in "
        "that run (other jobs may have shared the cores). Per-seed numbers: `learned.json`.\n\n"
        + table(rows)
        + "\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labrace.agents.validation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="*", default=None, help="case names, or env prefixes (precipice, dsair, commons); default: all")
    parser.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="results/canonical/learned.md")
    args = parser.parse_args(argv)
    cases = [case for case in CASES if not args.cases or any(case == c or case.startswith(c) for c in args.cases)]
    if not cases:
        parser.error(f"--cases matches no case; cases are {list(CASES)}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1; got {args.workers}")
    jobs = [(case, seed) for case in cases for seed in args.seeds]
    command = "python -m labrace.agents.validation" + ("" if args.cases is None else " --cases " + " ".join(args.cases))
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [pool.submit(run_case, case, seed) for case, seed in jobs]
        rows = []
        for (case, seed), future in zip(jobs, futures):
            rows.append(future.result())
            print(f"{case} seed {seed}: done ({len(rows)}/{len(jobs)})", flush=True)
            # written after every run: an interrupted validation keeps what it finished
            path = write(rows, Path(args.out), command, time.perf_counter() - start)
    print(table(rows))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
