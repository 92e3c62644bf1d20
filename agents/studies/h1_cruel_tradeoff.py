"""H1, the cruel trade-off, as a phase diagram: when do labs race?

Grid (race_v0, three labs of one type): every lab's misuse concern m and its distrust d = 1 - trust
of each other lab, at low and at high accident concern x. Each cell is read three ways:

* **theory**, the fixed-allocation game of the cell (:mod:`labrace.agents.allocation_game`): its
  symmetric equilibria and their basins (racing, coordinating, stalling), the incentive to race
  against cooperators (the one-step best response of the cruel trade-off), the team optimum, the
  price of the race (team optimum minus the worst equilibrium, per lab) and where symmetric myopic
  learners starting from every allocation come to rest;
* the **equilibrium lens**: one PPO learner per lab, all learning at once (the simultaneous
  trainer), each seeking its own best response;
* the **team lens**: one PPO policy that every lab plays, every lab learning from the labs' mean
  reward (what labs reach if they learn as one team);
* at the full budget also the **self-play lens**: one PPO policy that every lab plays, each lab
  learning from its own reward (it seeks a symmetric equilibrium, and at 300k steps reaches one in
  most cells: :data:`labrace.agents.studies.FULL_BUDGET_HYPERPARAMS`).

Per cell and lens: the basin each seed ends in, with Wilson intervals; seed means of the racing
index, catastrophe rate and welfare with t intervals; the learned profiles' exploitability over
the strategy set (a cell whose mean exploitability exceeds 0.05 per episode is *not an
equilibrium* and is not used as evidence about equilibrium behaviour). Differences between cells
are tested by permutation tests on the seeds' values. The welfare gap between the lenses is the
learned price of the race.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from labrace.agents.studies import FULL_BUDGET_HYPERPARAMS, LENS_NAMES, SMALL_BUDGET_HYPERPARAMS, SMALL_BUDGET_SELECTION_EPISODES, Budget, Study, lens_title
from labrace.agents.studies.analysis import (
    ALPHA,
    BASINS,
    TOLERANCE,
    basin_counts,
    by_point,
    compare_pairs,
    compare_trends,
    exploitability_by_point,
    fmt,
    fmt_exploitability,
    fmt_rate,
    fmt_trend,
    lens_verdict,
    permutation_difference,
    pyplot,
    save,
    seed_values,
    trend_test,
)

LEVELS = (0.1, 0.5, 0.9)
FULL_LEVELS = (0.1, 0.3, 0.5, 0.7, 0.9)
#: the self-play lens (one policy, each lab its own reward) learns at the full budget only: it reaches
#: equilibria at 300k steps (FULL_BUDGET_HYPERPARAMS), not at the small budget's 60k
AXES = {"misuse_concern": LEVELS, "distrust": LEVELS, "accident_concern": (0.2, 0.8), "lens": ("equilibrium", "team", "self-play")}
CELL = ("misuse_concern", "distrust", "accident_concern")
#: the theory layer's allocation grid and episodes per (focal, background) pair
THEORY_STEP, THEORY_EPISODES, THEORY_SEED = 0.1, 100, 0


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    m, d, x = point["misuse_concern"], point["distrust"], point["accident_concern"]
    lab = {"misuse_concern": (m, m), "accident_concern": (x, x), "trust": (round(1 - d, 3), round(1 - d, 3))}
    return {"lab_types": (lab,)}


# --------------------------------------------------------------------------------------------
# Theory: the fixed-allocation game of each cell
# --------------------------------------------------------------------------------------------


def cell_theory(cell: tuple[float, float, float]) -> dict[str, Any]:
    """The allocation game's summary (``AllocationGame.summary``) of one (m, d, x) cell."""
    import labrace
    from labrace.agents.allocation_game import allocation_game

    point = dict(zip(CELL, cell))
    game = labrace.make_game("race_v0", "baseline", **overrides(point))
    return allocation_game(game, THEORY_STEP, THEORY_EPISODES, THEORY_SEED).summary()


def _theory_key(cell: Sequence[float]) -> str:
    return f"m={cell[0]},d={cell[1]},x={cell[2]},step={THEORY_STEP},episodes={THEORY_EPISODES},seed={THEORY_SEED}"


def theories(cells: Sequence[tuple[float, float, float]], out: Path, workers: int | None = None) -> dict[tuple, dict[str, Any]]:
    """Every cell's theory, read from ``out/theory.json`` where it was computed before (with these
    settings) and otherwise computed in ``workers`` processes (default: every core) and added to it."""
    from labrace.agents.policy import atomic_write_text

    path = out / "theory.json"
    cache = json.loads(path.read_text()) if path.exists() else {}
    missing = [cell for cell in cells if _theory_key(cell) not in cache]
    if missing:
        workers = min(len(missing), workers or os.cpu_count() or 1)
        if workers > 1:
            import multiprocessing

            with multiprocessing.get_context("spawn").Pool(workers) as pool:
                computed = pool.map(cell_theory, missing)
        else:
            computed = [cell_theory(cell) for cell in missing]
        cache.update({_theory_key(cell): summary for cell, summary in zip(missing, computed)})
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(cache, indent=1, sort_keys=True))
    return {tuple(cell): cache[_theory_key(cell)] for cell in cells}


def _signed(value: float) -> str:
    """``+0.085``; a gain that rounds to zero is ``0.000`` (no ``-0.000``)."""
    return "0.000" if abs(value) < 0.0005 else f"{value:+.3f}"


def _where(cells: Sequence[tuple], every: Sequence[tuple]) -> str:
    """``(m 0.9, d 0.9)``-style list of cells, or "every cell" / "no cell"."""
    if not cells:
        return "no cell"
    if len(cells) == len(every):
        return "every cell"
    return ", ".join(f"(m {c[0]}, d {c[1]})" for c in cells)


def theory_answer(theory: dict[tuple, dict[str, Any]]) -> list[str]:
    """Plain sentences: where a racing equilibrium exists, where racing pays against cooperators,
    where learners that follow their own gradient come to rest in a race."""
    xs = sorted({c[2] for c in theory})
    sentences = []
    coop_everywhere = all("coordinating" in t["equilibrium_basins"] for t in theory.values())
    if coop_everywhere:
        sentences.append("In every cell, labs that all (nearly) only cooperate are in equilibrium: no lab gains by racing alone.")
    for x in xs:
        cells = sorted(c for c in theory if c[2] == x)
        racing = [c for c in cells if "racing" in theory[c]["equilibrium_basins"]]
        pays = [c for c in cells if theory[c]["incentive_to_race"]["pays"]]
        no_race = [c for c in cells if c not in racing]
        gains = [theory[c]["incentive_to_race"]["gain"] for c in cells]
        same_gain = max(gains) - min(gains) < 0.005  # what a lab's own win is worth does not depend on m or d
        learning = {c: theory[c]["learning_basins"]["racing"] for c in cells}
        most = max(learning, key=learning.get)
        rest = [v for c, v in learning.items() if c != most]
        if rest and max(rest) - min(rest) < 0.005 and abs(learning[most] - min(rest)) < 0.005:
            where_learning = f"{learning[most]:.0%} of starting allocations in every cell"
        else:
            elsewhere = "" if not rest else f" against {min(rest):.0%} elsewhere" if max(rest) - min(rest) < 0.005 else f" against {min(rest):.0%}-{max(rest):.0%} elsewhere"
            where_learning = f"{learning[most]:.0%} of starting allocations at (m {most[0]}, d {most[1]}){elsewhere}"
        sentences.append(
            f"At accident concern {x}: a racing equilibrium exists in {_where(racing, cells)}"
            + (f" and in no other ({_where(no_race, cells)} has none)" if racing and no_race else "")
            + f"; racing pays against cooperators in {_where(pays, cells)}"
            + (f", by the same margin everywhere ({_signed(gains[0])} per episode: a lab's own win is worth the same whatever its misuse concern and distrust)" if same_gain and len(cells) > 1 else "")
            + f"; myopic learners come to rest in a race from {where_learning}."
        )
    return sentences


# --------------------------------------------------------------------------------------------
# The learned lenses
# --------------------------------------------------------------------------------------------


def _cells(rows: list[dict[str, Any]]) -> list[tuple]:
    return sorted({tuple(r[a] for a in CELL) for r in rows})


def theory_cells(rows: list[dict[str, Any]]) -> list[tuple]:
    """The cells the theory covers: every (m, d) of the levels the runs have and of ``LEVELS``
    between the runs' extremes (the whole 3 x 3 grid when the runs sit on its corners), at the
    runs' accident concerns."""
    def levels(axis: str) -> list[float]:
        seen = {r[axis] for r in rows}
        return sorted(seen | {v for v in LEVELS if min(seen) <= v <= max(seen)})

    return [(m, d, x) for m in levels("misuse_concern") for d in levels("distrust") for x in sorted({r["accident_concern"] for r in rows})]


def misuse_times_distrust(cell: tuple) -> float:
    """The score H1's trends are tested against: a cell's misuse concern x distrust."""
    return cell[0] * cell[1]


def _trend_phrase(rows: list[dict[str, Any]], cells: Sequence[tuple]) -> str:
    """``, and the racing index rises with misuse concern x distrust (Spearman rho +0.45, p 0.0001)``
    over a layer of the grid (what the seeds did, equilibria or not); empty for two corners only."""
    if len(set(map(misuse_times_distrust, cells))) <= 2:
        return ""
    values = seed_values(rows, CELL, "racing_index")
    test = trend_test([(misuse_times_distrust(c), values[c]) for c in cells if c in values])
    direction = ("rises" if test["rho"] > 0 else "falls") if test["p"] < ALPHA else "shows no clear trend"
    return f", and the racing index {direction} with misuse concern x distrust (Spearman {fmt_trend(test)})"


def learned_price(by_lens: dict[str, list[dict[str, Any]]]) -> dict[tuple, dict[str, float]]:
    """Per cell that both lenses learned, in grid order: the team policy's welfare minus the
    equilibrium learners' (seed means) with its two-sided permutation p."""
    welfare = {lens: seed_values(by_lens[lens], CELL, "welfare") for lens in ("team", "equilibrium")}
    return {cell: permutation_difference(welfare["team"][cell], welfare["equilibrium"][cell]) for cell in _cells(by_lens["team"]) if cell in welfare["equilibrium"]}


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    lenses = [lens for lens in AXES["lens"] if any(r["lens"] == lens for r in rows)]
    by_lens = {lens: [r for r in rows if r["lens"] == lens] for lens in lenses}
    cells = _cells(rows)  # where learners ran
    grid = theory_cells(rows)  # where the theory is computed (a superset)
    xs = sorted({c[2] for c in grid})
    ms, ds = sorted({c[0] for c in grid}), sorted({c[1] for c in grid})
    theory = theories(grid, out)
    basins = {lens: basin_counts(by_lens[lens], CELL) for lens in lenses}
    exploit = {lens: exploitability_by_point(by_lens[lens], CELL) for lens in lenses}
    means = {lens: {key: by_point(by_lens[lens], CELL, key) for key in ("racing_index", "catastrophe_rate", "coordinated_rate", "welfare")} for lens in lenses}

    # --- the plain answer: theory first, then where each lens's learners end up -----------------
    learned = []
    for lens in lenses:
        for x in xs:
            lens_cells = [c for c in basins[lens] if c[2] == x]
            racing_cells = sorted(c for c in lens_cells if basins[lens][c]["racing"]["rate"] > 0.5)
            equilibria = [c for c in lens_cells if exploit[lens][c]["equilibrium"]]
            layer = [c for c in grid if c[2] == x]
            # a sweep committed in parts: "every cell" then means every cell run so far
            so_far = f" ({len(lens_cells)} of its {len(layer)} cells run so far)" if len(lens_cells) < len(layer) else ""
            learned.append(
                f"{lens_title(lens)} at accident concern {x}{so_far}: most seeds race in {_where(racing_cells, lens_cells)}"
                f"{_trend_phrase(by_lens[lens], lens_cells)}; "
                f"the learned profile is an approximate equilibrium (mean exploitability <= {TOLERANCE}) in {_where(equilibria, lens_cells)}."
            )
    prices = learned_price(by_lens) if {"equilibrium", "team"} <= set(lenses) else {}  # cell → permutation test
    if prices:
        clear = [c for c, test in prices.items() if test["p"] < ALPHA and test["difference"] > 0]
        top = max(clear, key=lambda c: prices[c]["difference"], default=None)
        largest = f"; largest at (m {top[0]}, d {top[1]}, x {top[2]}): {prices[top]['difference']:+.2f}" if top else ""
        learned.append(
            f"The learned price of the race (the team policy's welfare minus the equilibrium learners', per episode) is clearly positive "
            f"in {len(clear)} of {len(prices)} cells (permutation p < {ALPHA}){largest}."
        )
    exploitabilities = [e["mean"] for lens in lenses for e in exploit[lens].values() if e["n"] > 0]
    if exploitabilities and min(exploitabilities) > TOLERANCE:
        learned.insert(0, f"At this budget no learned profile is an approximate equilibrium (mean exploitability {min(exploitabilities):.2f}-{max(exploitabilities):.2f} per episode, "
                          "against 0.05): the rows below say where learning stands, not what labs with these incentives settle on.")
    lines = ["**Answer (theory: the fixed-allocation game of each cell).** " + " ".join(theory_answer(theory)), "", "**Answer (learned).** " + " ".join(learned), ""]

    # --- verdicts: tests of differences, per lens; equilibrium claims only from equilibrium cells --
    for lens in lenses:
        claim = lens == "equilibrium"
        # the hawk corner against the dove corner (none while a sweep in progress has one corner)
        corners = [((ms[-1], ds[-1], x), (ms[0], ds[0], x)) for x in xs] if (ms[-1], ds[-1]) != (ms[0], ds[0]) else []
        where_corners = f"at (misuse {ms[-1]}, distrust {ds[-1]}) than at (misuse {ms[0]}, distrust {ds[0]})" if corners else "in the hawk corner than in the dove corner"
        accident = [((m, d, xs[-1]), (m, d, xs[0])) for m in ms for d in ds] if len(xs) > 1 else []
        layers = [[c for c in cells if c[2] == x] for x in xs]  # one trend per accident concern
        trends = []
        if len(set(map(misuse_times_distrust, cells))) > 2:  # a grid, not only its two corners
            for metric, name in (("racing_index", "racing index"), ("catastrophe_rate", "catastrophe rate")):
                signs, left_out, tests = compare_trends(by_lens[lens], CELL, metric, layers, misuse_times_distrust, claim)
                rhos = "; ".join(fmt_trend(t) for t in tests)
                tested = ", ".join(str(xs[t["group"]]) for t in tests)  # the layers left out are counted in the verdict
                trends.append(
                    f"- across the {len(ms)} x {len(ds)} grid, the {name} rises with misuse concern x distrust, at each accident concern: "
                    f"**{lens_verdict(signs, left_out)}**" + (f" (Spearman per accident concern {tested}: {rhos})" if tests else "")
                )
        lines += [
            f"*Lens: {LENS_NAMES[lens]}.*",
            *trends,
            f"- racing index higher {where_corners}, at each accident concern: "
            f"**{lens_verdict(*compare_pairs(by_lens[lens], CELL, 'racing_index', corners, claim))}**",
            f"- catastrophe rate higher there too: **{lens_verdict(*compare_pairs(by_lens[lens], CELL, 'catastrophe_rate', corners, claim))}**",
            f"- higher accident concern ({xs[-1]} vs {xs[0]}) lowers the racing index, cell by cell: "
            f"**{lens_verdict(*compare_pairs(by_lens[lens], CELL, 'racing_index', accident, claim), expected=-1)}**",
            "",
        ]
    lines += ["Verdicts come from two-sided permutation tests on the seeds' values at the 0.05 level (*holds*: every comparison significant the hypothesised way); "
              "a trend across the grid is Spearman's rank correlation between each run's misuse concern x distrust and its value, with a permutation p.", ""]

    # --- the theory table --------------------------------------------------------------------------
    lines += [
        f"The fixed-allocation game of each cell (allocations on a {THEORY_STEP} grid, {THEORY_EPISODES} common initial states per pair, "
        "accidents paid in expectation; `labrace.agents.allocation_game`): its symmetric equilibria (allocation: return per lab, basin), "
        "lab_0's best gain from racing against cooperators, the team optimum, the price of the race (team optimum minus the worst "
        "equilibrium, per lab) and the share of starting allocations from which myopic learners rest in each basin.",
        "",
        "| m | d | x | equilibria | racing pays against cooperators | team optimum | price of the race | learners rest in racing / coordinating / stalling / cycle |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for cell in grid:
        t = theory[cell]
        equilibria = "; ".join(f"({', '.join(f'{v:.1f}' for v in e['allocation'])}): {e['return']:.2f} {e['basin']}" for e in t["equilibria"]) or "none"
        inc, team, rest = t["incentive_to_race"], t["team_optimum"], t["learning_basins"]
        price = t["price_of_the_race"]["worst_equilibrium"]
        lines.append(
            f"| {cell[0]} | {cell[1]} | {cell[2]} | {equilibria} | {'**yes**' if inc['pays'] else 'no'} ({_signed(inc['gain'])} by {tuple(round(v, 1) for v in inc['allocation'])}) "
            f"| ({', '.join(f'{v:.1f}' for v in team['allocation'])}): {team['return']:.2f} | {'n/a' if price is None else f'{price:.2f}'} "
            f"| {rest['racing']:.0%} / {rest['coordinating']:.0%} / {rest['stalling']:.0%} / {rest['no rest']:.0%} |"
        )

    # --- the learned tables: basins, means, exploitability, price of the race --------------------
    lines += [
        "",
        "Learned, per cell and lens: seeds per basin (share, 95% Wilson interval), seed means [95% t interval], mean exploitability over the strategy set (*not eq.* above 0.05).",
        "",
        "| m | d | x | lens | racing | coordinating | stalling | racing index | catastrophe | welfare | exploitability |",
        "|" + "---|" * 11,
    ]
    for cell in cells:
        for lens in lenses:
            if cell not in basins[lens]:
                continue
            lines.append(
                f"| {cell[0]} | {cell[1]} | {cell[2]} | {lens} | " + " | ".join(fmt_rate(basins[lens][cell][b]) for b in BASINS)
                + f" | {fmt(means[lens]['racing_index'][cell])} | {fmt(means[lens]['catastrophe_rate'][cell])} | {fmt(means[lens]['welfare'][cell])} "
                + f"| {fmt_exploitability(exploit[lens].get(cell))} |"
            )
    if prices:
        lines += ["", "The learned price of the race: welfare of the team policy minus welfare of the equilibrium learners (seed means; two-sided permutation p).", "", "| m | d | x | team | equilibrium | price of the race | p |", "|---|---|---|---|---|---|---|"]
        for cell, test in prices.items():
            lines.append(f"| {cell[0]} | {cell[1]} | {cell[2]} | {fmt(means['team']['welfare'][cell])} | {fmt(means['equilibrium']['welfare'][cell])} | {test['difference']:+.2f} | {test['p']:.3f} |")
    phase_diagram(lenses, xs, ms, ds, theory, basins, means, out / "phase_diagram.png")
    lines += ["", "![H1 phase diagram](studies/h1/phase_diagram.png)"]
    return "\n".join(lines)


def phase_diagram(lenses, xs, ms, ds, theory, basins, means, path: Path) -> None:
    """Heatmaps over (misuse concern, distrust), one column per accident concern: the theory (a
    racing equilibrium exists; share of starts from which myopic learners rest in a race; price of
    the race) and each lens (share of seeds racing, catastrophe rate, coordinated rate, welfare).
    A cell where racing pays against cooperators (the incentive boundary) is marked with a triangle."""
    plt = pyplot()
    panels = [("theory", "racing equilibrium exists", None, (0.0, 1.0)), ("theory", "myopic learners rest in a race", None, (0.0, 1.0)), ("theory", "price of the race", None, (0.0, 3.0))]
    for lens in lenses:
        panels += [
            (lens, "seeds racing", None, (0.0, 1.0)),
            (lens, "catastrophe rate", "catastrophe_rate", (0.0, 1.0)),
            (lens, "coordinated rate", "coordinated_rate", (0.0, 1.0)),
            (lens, "welfare", "welfare", (-6.0, 3.6)),
        ]
    fig, axes = plt.subplots(len(panels), len(xs), figsize=(3.6 * len(xs), 2.7 * len(panels)), squeeze=False)
    for i, (layer, title, key, (vmin, vmax)) in enumerate(panels):
        for j, x in enumerate(xs):
            ax = axes[i][j]
            grid = np.full((len(ms), len(ds)), np.nan)
            for a, m in enumerate(ms):
                for b, d in enumerate(ds):
                    cell = (m, d, x)
                    t = theory.get(cell)
                    if layer == "theory":
                        if t is None:
                            continue
                        if title == "racing equilibrium exists":
                            value = float("racing" in t["equilibrium_basins"])
                        elif title == "myopic learners rest in a race":
                            value = t["learning_basins"]["racing"]
                        else:
                            value = t["price_of_the_race"]["worst_equilibrium"] or 0.0
                    else:
                        if cell not in basins[layer]:
                            continue
                        value = basins[layer][cell]["racing"]["rate"] if key is None else means[layer][key][cell]["mean"]
                    grid[a, b] = value
                    marker = " ▲" if t is not None and t["incentive_to_race"]["pays"] else ""
                    dark = (value - vmin) / (vmax - vmin) > 0.6  # readable on the dark end of the map
                    ax.text(b, a, f"{value:.2f}{marker}", ha="center", va="center", fontsize=7, color="white" if dark else "black")
            image = ax.imshow(grid, origin="lower", cmap="magma_r", vmin=vmin, vmax=vmax, aspect="auto")
            ax.set_xticks(range(len(ds)), [str(d) for d in ds])
            ax.set_yticks(range(len(ms)), [str(m) for m in ms])
            ax.set_xlabel("distrust")
            ax.set_ylabel("misuse concern")
            ax.set_title(f"{layer}: {title}\naccident concern {x}", fontsize=8)
            fig.colorbar(image, ax=ax, fraction=0.046)
    fig.suptitle("H1: ▲ = racing pays against cooperators (the incentive boundary)", y=1.0, fontsize=9)
    fig.tight_layout()
    save(fig, path)


STUDY = Study(
    name="h1",
    title="H1 — the cruel trade-off (misuse concern x distrust, at low and high accident concern)",
    hypothesis="Learned speed share and the catastrophe rate rise with misuse concern x distrust; accident concern pulls the other way.",
    env=lambda point: ("race_v0", "baseline"),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        # learned: the whole 3 x 3 grid at both accident concerns, both lenses, 10 seeds a cell
        "small": Budget(timesteps=60_000, eval_episodes=200, exploitability_episodes=100, selection_episodes=SMALL_BUDGET_SELECTION_EPISODES, seeds=tuple(range(10)), hyperparams=SMALL_BUDGET_HYPERPARAMS, axes={"lens": ("equilibrium", "team")}),
        "full": Budget(timesteps=300_000, eval_episodes=1000, seeds=tuple(range(10)), hyperparams=FULL_BUDGET_HYPERPARAMS, axes={"misuse_concern": FULL_LEVELS, "distrust": FULL_LEVELS}),
    },
)
