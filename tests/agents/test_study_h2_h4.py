"""H2-H4's analyses as specifications: each answers first, per lens; verdicts come from permutation
tests on ten seeds a cell; equilibrium-lens claims use only cells that are approximate equilibria;
every cell shows its basins and its exploitability."""

from __future__ import annotations

import random
from typing import Any

from labrace.agents import sweep
from labrace.agents.studies import load_study, point_hyperparams

from .conftest import in_sweep_order

OUTCOMES = ("winner", "catastrophe", "coordinated", "timeout", "pivotal_act")


def fake_rows(name: str, tmp_path, effect: Any, exploitability: float = 0.01) -> list[dict]:
    """Rows for every run of the study's full plan: ``effect(point)`` is the chance a seed races;
    a racing seed has racing index 0.6, catastrophe 0.4 and welfare 0.5, a coordinating one 0.05, 0
    and 3.6."""
    draw, rows = random.Random(0), []
    study = load_study(name)
    for run in sweep.plan(study, "full", tmp_path):
        race = draw.random() < effect(run.point)
        rows.append({
            **run.point, "seed": run.seed, **{f"{o}_rate": 0.0 for o in OUTCOMES},
            "winner_rate": 0.6 if race else 0.0, "catastrophe_rate": 0.4 if race else 0.0, "coordinated_rate": 0.0 if race else 1.0,
            "disaster_rate": 0.4 if race else 0.0, "racing_index": 0.6 if race else 0.05, "welfare": 0.5 if race else 3.6,
            "share_safety": 0.3 if race else 0.9, "sanction_cost": 0.0, "exploitability": exploitability, "equilibrium_tolerance": 0.05,
        })  # fmt: skip
    return rows


def test_h2_answers_per_lens_and_holds_where_the_act_makes_every_seed_race(tmp_path):
    rows = fake_rows("h2", tmp_path, lambda p: 0.95 if p["pivotal_act"] else 0.05)
    text = load_study("h2").analyse(rows, tmp_path)
    assert text.startswith("**Answer.**")
    assert "Equilibrium learners" in text.splitlines()[0] and "Self-play learners" in text.splitlines()[0]
    assert text.count("labs race more where a unilateral act is possible (each coordination level): **holds**") == 2
    assert "| pivotal_act | coordination | racing | coordinating | stalling |" in text
    assert (tmp_path / "bars.png").exists()


def test_h2_equilibrium_claims_leave_out_exploitable_cells(tmp_path):
    rows = fake_rows("h2", tmp_path, lambda p: 0.95 if p["pivotal_act"] else 0.05, exploitability=0.4)
    text = load_study("h2").analyse(rows, tmp_path)
    equilibrium_lens = text.split("*Lens: equilibrium")[1].split("*Lens:")[0]
    assert "**not tested (all 2 comparisons left out: a cell is not an equilibrium)**" in equilibrium_lens
    self_play_lens = text.split("*Lens: self-play")[1]
    assert "**holds**" in self_play_lens  # where the self-play learners land: no equilibrium claim
    assert "0.400 [0.400, 0.400] *not eq.*" in text
    # each lens's answer states what its claims rest on
    assert text.splitlines()[0].count("mean exploitability 0.40-0.40 per episode, an approximate equilibrium in 0 of 4 cells") == 2


def test_h3_states_the_precipice_theory_and_each_learned_lens(tmp_path):
    rows = fake_rows("h3", tmp_path, lambda p: 0.95 if p["enmity"] > 0.5 else 0.05)
    text = load_study("h3").analyse(rows, tmp_path)
    answer = text.splitlines()[0]
    assert answer.startswith("**Answer.** Theory (precipice_v0, Nash): more labs, more danger: **")
    assert "Learned `race_v0`, self-play learners (one PPO policy every lab plays, each lab learning from its own reward): more labs, more danger: **fails (no clear difference)**; more enmity, more danger: **holds**" in answer
    assert "| labs | information | enmity | precipice_v0 disaster (Nash) |" in text
    assert (tmp_path / "danger.png").exists()


def test_h3_does_not_compare_a_cell_with_itself_while_its_sweep_is_in_progress(tmp_path):
    # the first finished runs of a full sweep: one precipice_v0 cell, ten seeds
    first = {"env": "precipice_v0", "num_labs": 2, "information": "none", "enmity": 0.2, "lens": "equilibrium"}
    rows = [row for row in fake_rows("h3", tmp_path, lambda p: 0.5) if all(row[k] == v for k, v in first.items())]
    assert len(rows) == 10
    answer = load_study("h3").analyse(rows, tmp_path).splitlines()[0]
    learned = answer.split("Learned `precipice_v0`")[1]
    for claim in ("more labs", "more enmity", "more information"):
        assert f"{claim}, more danger: **not yet compared (runs not finished)**" in learned


def test_h3_theory_says_more_enmity_means_more_danger():
    from labrace.agents.studies.h3_precipice import theory

    for labs in (2, 5):
        for info in ("none", "partial"):
            low, high = (theory({"env": "precipice_v0", "num_labs": labs, "information": info, "enmity": e}) for e in (0.2, 0.8))
            assert high > low


def test_h4_names_the_levers_that_lower_catastrophe_for_one_camp_and_raise_it_for_neither(tmp_path):
    def race_chance(point):
        if point["lever"] in ("audits", "all"):
            return 0.05  # safer for both camps
        if point["lever"] == "compute_cap":
            return 0.05 if point["scenario"] == "misuse_hawks" else 0.95  # safer for hawks, riskier for doves
        return 0.95 if point["scenario"] == "misuse_hawks" else 0.5

    rows = fake_rows("h4", tmp_path, race_chance)
    text = load_study("h4").analyse(rows, tmp_path)
    answer = text.splitlines()[0]
    assert (
        "common ground (lowers the catastrophe rate of at least one camp and raises neither's): "
        "`audits` (exploitability 0.01 misuse_hawks, 0.01 accident_doves), `all` (exploitability 0.01 misuse_hawks, 0.01 accident_doves); "
        "mean exploitability 0.01-0.01 per episode"
    ) in answer
    assert "- `audits`: catastrophe rate misuse_hawks **lower**" in text
    assert "accident_doves **higher**" in text.split("- `compute_cap`:")[1].splitlines()[0]
    assert (tmp_path / "heatmaps.png").exists()


def test_h4_common_ground_of_the_self_play_lens_says_where_its_cells_are_not_equilibria(tmp_path):
    """Self-play claims are not held to the equilibrium gate, so each lever of its common ground
    carries its camps' exploitability: a lever that lowers catastrophe only in a learner's stall
    reads as *not eq.*"""
    rows = fake_rows("h4", tmp_path, lambda p: 0.05 if p["lever"] == "audits" else 0.95)
    for row in rows:
        if row["lever"] == "audits" and row["scenario"] == "accident_doves":
            row["exploitability"] = 1.5
    answer = load_study("h4").analyse(rows, tmp_path).splitlines()[0].split("Self-play learners")[1]
    assert "`audits` (exploitability 0.01 misuse_hawks, 1.50 accident_doves: not eq.)" in answer


def test_h4_equilibrium_lens_does_not_test_exploitable_cells(tmp_path):
    rows = fake_rows("h4", tmp_path, lambda p: 0.05 if p["lever"] == "audits" else 0.95, exploitability=0.4)
    text = load_study("h4").analyse(rows, tmp_path)
    assert "6 lever(s) not tested (a cell is not an equilibrium)" in text.splitlines()[0]
    assert "catastrophe rate misuse_hawks **not tested (not an equilibrium)**" in text


def test_the_small_budgets_train_ten_seeds_a_cell_with_cheaper_race_v0_updates_and_exploitability(tmp_path):
    for name in ("h1", "h2", "h3", "h4"):
        runs = sweep.plan(load_study(name), "small", tmp_path)
        assert {len([r for r in runs if r.point == p]) for p in [r.point for r in runs]} == {10}
        assert all("--hp=n_epochs=5" in r.argv and "--hp=batch_size=1024" in r.argv for r in runs if "--env=race_v0" in r.argv)
        assert all(r.expected["hyperparams"] == {"n_epochs": 5, "batch_size": 1024, **point_hyperparams(r.point)} for r in runs if "--env=race_v0" in r.argv)
        assert all("--exploitability-episodes=100" in r.argv and r.expected["exploitability_episodes"] == 100 for r in runs)
        # best responses chosen on 40 episodes a strategy, their gains measured on the 100
        assert all("--selection-episodes=40" in r.argv and r.expected["selection_episodes"] == 40 for r in runs)
    # the full budget chooses on all its episodes, as its committed runs did
    assert all("--selection-episodes" not in " ".join(r.argv) and r.expected["selection_episodes"] is None for name in ("h1", "h2", "h3", "h4", "canonical") for r in sweep.plan(load_study(name), "full", tmp_path))


def test_a_sweep_in_progress_gets_a_report_of_the_cells_it_has(tmp_path):
    """A long sweep is resumed over several sessions and its report regenerated in between
    (``--report-only``): an analysis of the runs finished so far, in the order the sweep runs them
    (longest first), names what is missing instead of failing."""
    for name in ("h2", "h3", "h4"):
        study = load_study(name)
        rows = in_sweep_order(study, "full", fake_rows(name, tmp_path, lambda p: 0.5), tmp_path)
        for finished in (1, len(rows) // 10, len(rows) // 3, len(rows) * 4 // 5):
            text = study.analyse([dict(r) for r in rows[:finished]], tmp_path / f"{name}-{finished}")
            assert text.startswith("**Answer.**")
    # H4 with the hawks' no-lever and audits cells and only the doves' no-lever cell finished
    rows = [r for r in fake_rows("h4", tmp_path, lambda p: 0.5) if r["lens"] == "self-play" and (r["lever"] == "none" or (r["lever"], r["scenario"]) == ("audits", "misuse_hawks"))]
    rows = [r for r in rows if r["scenario"] != "cruel_tradeoff"]
    text = load_study("h4").analyse(rows, tmp_path)
    assert "1 lever(s) not yet compared in every camp (runs not finished)" in text.splitlines()[0]
    assert "accident_doves: no finished runs in one of the two cells yet" in text.split("- `audits`:")[1].splitlines()[0]
    # a lens with runs of the hawks only names no common ground: the doves are not compared yet
    hawks_only = [r for r in rows if r["scenario"] == "misuse_hawks"]
    answer = load_study("h4").analyse(hawks_only, tmp_path).splitlines()[0]
    assert "raises neither's): none; 1 lever(s) not yet compared in every camp (runs not finished)" in answer
