"""H1's analysis as a specification: the answer comes first (theory, then each learned lens),
non-equilibrium cells are left out of equilibrium claims, the theory of each cell is cached."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from labrace.agents.studies import h1_cruel_tradeoff as h1
from labrace.agents.studies.h1_cruel_tradeoff import AXES, analyse, theories

from .conftest import in_sweep_order


def fake_rows(seeds: int = 10) -> list[dict]:
    """Racing where misuse concern x distrust is high at low accident concern; the team coordinates more."""
    draw, rows = random.Random(0), []
    for m, d, x, lens in itertools.product(*AXES.values()):
        if lens == "self-play":  # the small budget's lenses
            continue
        for seed in range(seeds):
            race = draw.random() < (m * d if x < 0.5 else 0.05) * (0.5 if lens == "team" else 1.0)
            rows.append({
                "misuse_concern": m, "distrust": d, "accident_concern": x, "lens": lens, "seed": seed,
                "winner_rate": 0.8 if race else 0.0, "catastrophe_rate": 0.2 if race else 0.0, "coordinated_rate": 0.0 if race else 1.0,
                "timeout_rate": 0.0, "pivotal_act_rate": 0.0, "racing_index": 0.6 if race else 0.05,
                "welfare": 0.5 if race else 3.6, "exploitability": 0.01, "equilibrium": "approximate equilibrium",
            })  # fmt: skip
    return rows


def fake_theory(cell) -> dict:
    """A racing equilibrium everywhere but in the hawk corner; racing pays only at low accident concern."""
    m, d, x = cell
    equilibria = [{"allocation": (0.0, 0.1, 0.9), "return": 1.2, "basin": "coordinating", "gain": 0.0}]
    if not (m == 0.9 and d == 0.9):
        equilibria.append({"allocation": (0.3, 0.7, 0.0), "return": 1.0, "basin": "racing", "gain": 0.01})
    return {
        "equilibria": equilibria,
        "equilibrium_basins": sorted({e["basin"] for e in equilibria}),
        "incentive_to_race": {"allocation": (0.5, 0.5, 0.0), "gain": 0.08 if x < 0.5 else -0.01, "pays": x < 0.5},
        "team_optimum": {"allocation": (0.0, 0.0, 1.0), "return": 1.2, "basin": "coordinating"},
        "price_of_the_race": {"worst_equilibrium": 0.2 if len(equilibria) > 1 else 0.0, "best_equilibrium": 0.0},
        "learning_basins": {"racing": 0.55 if (m, d) == (0.9, 0.9) else 0.2, "coordinating": 0.4, "stalling": 0.05, "no rest": 0.0},
    }


@pytest.fixture
def cached(tmp_path):
    """The figures folder with every cell's (fake) theory already in its cache."""
    cells = itertools.product(AXES["misuse_concern"], AXES["distrust"], AXES["accident_concern"])
    (tmp_path / "theory.json").write_text(json.dumps({h1._theory_key(c): fake_theory(c) for c in cells}))
    return tmp_path


def test_the_answer_comes_first_theory_then_both_lenses(cached):
    text = analyse(fake_rows(), cached)
    first, _, second = text.splitlines()[:3]
    assert first.startswith("**Answer (theory")
    assert "labs that all (nearly) only cooperate are in equilibrium" in first
    assert "a racing equilibrium exists in" in first and "(m 0.9, d 0.9) has none" in first
    assert "racing pays against cooperators in every cell" in first.split("At accident concern 0.8")[0]
    assert "racing pays against cooperators in no cell" in first.split("At accident concern 0.8")[1]
    assert "55% of starting allocations at (m 0.9, d 0.9)" in first
    assert second.startswith("**Answer (learned).**")
    assert "Equilibrium learners" in second and "One team policy" in second
    assert "(m 0.9, d 0.9)" in second.split("at accident concern 0.8")[0]  # the hawk corner races
    low, high = second.split("learning from the labs' mean reward: team lens) at accident concern")[1:3]
    assert "the racing index rises with misuse concern x distrust (Spearman rho +" in low  # the trend across the grid
    assert "the racing index shows no clear trend with misuse concern x distrust" in high
    assert "price of the race" in text and (cached / "phase_diagram.png").exists()
    # the answer counts the cells of the learned price table whose gap is positive and clear
    table = text.split("The learned price of the race: welfare of the team policy")[1].split("![H1")[0]
    cells = [line.strip("| ").split(" | ") for line in table.splitlines() if line.startswith("| 0.")]
    clear = sorted((float(c[-2]), c[:3]) for c in cells if float(c[-2]) > 0 and float(c[-1]) < 0.05)
    assert len(cells) == 18 and clear
    (gap, (m, d, x)) = clear[-1]
    assert f"is clearly positive in {len(clear)} of 18 cells (permutation p < 0.05); largest at (m {m}, d {d}, x {x}): {gap:+.2f}." in second
    assert "| 0.9 | 0.9 | 0.2 | equilibrium |" in text
    assert "| 0.9 | 0.9 | 0.2 | (0.0, 0.1, 0.9): 1.20 coordinating |" in text


def test_cells_that_are_not_equilibria_are_left_out_of_equilibrium_claims(cached):
    rows = fake_rows()
    for row in rows:
        if row["lens"] == "equilibrium" and row["misuse_concern"] == 0.9 and row["distrust"] == 0.9:
            row["exploitability"] = 0.5
    text = analyse(rows, cached)
    equilibrium_lens = text.split("*Lens: equilibrium")[1].split("*Lens:")[0]
    assert "**not tested (all 2 comparisons left out: a cell is not an equilibrium)**" in equilibrium_lens  # the corners
    assert "; 1 comparison(s) left out (not an equilibrium)**" in equilibrium_lens  # accident concern, in the hawk corner
    assert "0.500 [0.500, 0.500] *not eq.*" in text


def test_one_lens_alone_is_analysed_without_the_learned_price(cached):
    rows = [r for r in fake_rows() if r["lens"] == "team"]
    text = analyse(rows, cached)
    assert "Equilibrium learners" not in text and "The learned price of the race" not in text


def test_each_cells_theory_is_computed_once_and_cached(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(h1, "cell_theory", lambda cell: calls.append(cell) or fake_theory(cell))
    cells = [(0.1, 0.1, 0.2), (0.9, 0.9, 0.2)]
    first = theories(cells, tmp_path, workers=1)
    assert calls == cells and first[(0.9, 0.9, 0.2)]["equilibrium_basins"] == ["coordinating"]
    again = theories(cells + [(0.5, 0.5, 0.8)], tmp_path, workers=1)
    assert calls == cells + [(0.5, 0.5, 0.8)]  # only the new cell is computed
    assert again[(0.1, 0.1, 0.2)] == json.loads(json.dumps(first[(0.1, 0.1, 0.2)]))


def test_the_small_budget_trains_both_lenses_on_the_whole_3x3_grid_with_ten_seeds():
    points = h1.STUDY.points("small")
    assert len(points) == 3 * 3 * 2 * 2 and len(h1.STUDY.budgets["small"].seeds) == 10
    assert {(p["misuse_concern"], p["distrust"]) for p in points} == set(itertools.product(h1.LEVELS, h1.LEVELS))
    assert {p["lens"] for p in points} == {"equilibrium", "team"} and {p["accident_concern"] for p in points} == {0.2, 0.8}
    assert len(h1.STUDY.points("full")) == 5 * 5 * 2 * 3  # the full budget adds the self-play lens


def test_the_theory_covers_the_whole_grid_between_the_learned_corners():
    rows = [{"misuse_concern": v, "distrust": v, "accident_concern": x} for v in (0.1, 0.9) for x in (0.2, 0.8)]
    cells = h1.theory_cells(rows)
    assert len(cells) == 3 * 3 * 2 and (0.5, 0.1, 0.8) in cells


def test_a_budget_point_must_name_every_axis():
    from labrace.agents.studies import Budget, Study

    study = Study("x", "x", "x", env=lambda p: ("race_v0", "baseline"), axes={"a": (1, 2), "b": (3,)}, overrides=lambda p: {},
                  analyse=lambda rows, out: "", budgets={"small": Budget(1, 1, points=({"a": 1},))})
    with pytest.raises(ValueError, match=r"every point needs exactly the axes \['a', 'b'\]"):
        study.points("small")


def test_a_trend_across_the_grid_is_tested_per_accident_concern(cached):
    """Racing rises with misuse concern x distrust at low accident concern only (fake_rows): the
    grid-wide rank correlation finds it there and not at 0.8, so the claim "at each accident
    concern" depends; an equilibrium claim uses only each layer's equilibrium cells, and a layer
    with fewer than two of them is left out (``compare_trends``, tested in test_analysis.py)."""
    rows = fake_rows()
    for row in rows:  # only the two corners are equilibria, and only at accident concern 0.2
        if row["lens"] == "equilibrium" and ((row["misuse_concern"], row["distrust"]) not in ((0.9, 0.9), (0.1, 0.1)) or row["accident_concern"] == 0.8):
            row["exploitability"] = 0.5
    text = analyse(rows, cached)
    team = text.split("*Lens: one team policy")[1]
    trend = next(line for line in team.splitlines() if "the racing index rises with misuse concern x distrust" in line)
    assert trend.startswith("- across the 3 x 3 grid") and "**depends (1 of 2 comparisons clear)**" in trend
    rho_low, rho_high = (float(part.split(",")[0].removeprefix("rho ")) for part in trend.split("accident concern 0.2, 0.8: ")[1].split("; "))
    assert rho_low > 0.3 and abs(rho_high) < 0.1
    equilibrium_lens = text.split("*Lens: equilibrium")[1].split("*Lens:")[0]
    trend = next(line for line in equilibrium_lens.splitlines() if "the racing index rises" in line)
    assert "**holds; 1 comparison(s) left out (not an equilibrium)**" in trend  # the two corners at 0.2; 0.8 left out
    assert "(Spearman per accident concern 0.2: rho +" in trend  # only the layer tested is named with its rho


def test_a_sweep_in_progress_with_one_cell_compares_no_cell_with_itself(cached):
    """The full budget's H1 is committed in parts: a report of its first cell says the corners are
    not yet compared, instead of testing the cell against itself (and finding no difference)."""
    rows = [r for r in fake_rows() if (r["misuse_concern"], r["distrust"], r["lens"]) == (0.1, 0.1, "equilibrium")]
    text = analyse(rows, cached)
    assert "than at (misuse 0.1, distrust 0.1)" not in text
    assert "- catastrophe rate higher there too: **not yet compared (runs not finished)**" in text
    assert "lowers the racing index, cell by cell: **fails (no clear difference)**" in text  # 0.8 against 0.2: both finished


def test_a_sweep_in_progress_gets_a_report_of_the_cells_it_has(cached, tmp_path):
    """A report of H1's runs finished so far, in the order a sweep runs them (longest first), at a
    tenth, a third and four fifths of them: an answer first, whatever is missing."""
    from labrace.agents.studies import load_study

    rows = in_sweep_order(load_study("h1"), "small", fake_rows(), tmp_path)
    for finished in (1, len(rows) // 10, len(rows) // 3, len(rows) * 4 // 5):
        text = analyse([dict(r) for r in rows[:finished]], cached)
        assert text.startswith("**Answer (theory")


def test_a_lens_run_on_part_of_the_grid_says_how_many_cells_its_answer_covers(cached):
    """While a lens's sweep is in progress, "every cell" in its answer means the cells run so far:
    the answer says how many of the grid's cells that is; a lens with the whole grid says nothing."""
    rows = [r for r in fake_rows() if r["lens"] == "team" or (r["lens"] == "equilibrium" and r["misuse_concern"] == 0.1)]
    answer = analyse(rows, cached).splitlines()[2]
    assert "Equilibrium learners (simultaneous PPO, one model per lab) at accident concern 0.2 (3 of its 9 cells run so far): most seeds race in" in answer
    assert "at accident concern 0.8 (3 of its 9 cells run so far)" in answer
    assert "team lens) at accident concern 0.2: most seeds race in" in answer


def test_a_trend_over_values_that_never_vary_reads_no_variation(cached):
    """Where every seed of every cell has the same catastrophe rate (none at high accident concern),
    Spearman's rho is undefined: the report says so instead of printing nan, and finds no trend."""
    rows = fake_rows()
    for row in rows:
        if row["accident_concern"] > 0.5:
            row["catastrophe_rate"] = 0.0
    text = analyse(rows, cached)
    assert "nan" not in text
    line = next(line for line in text.splitlines() if "the catastrophe rate rises with misuse concern x distrust" in line and "equilibrium" not in line)
    assert "no variation (every value the same))" in line
