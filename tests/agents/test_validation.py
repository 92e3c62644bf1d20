"""The validation table judges learned profiles against the theory of each canonical case."""

from __future__ import annotations

import json

from labrace.agents import validation


def row(case, seed, **values):
    base = {"case": case, "env": validation.CASES[case][0], "seed": seed, "train_seconds": 1.0, "exploitability": 0.001, "racing_index": None, "outcomes": {}}
    base.update(values)
    return base


def test_precipice_cases_are_on_target_within_005_of_nash_and_inside_the_public_range():
    nash = validation.theory("precipice n=4 e=0.5 none")["disaster"][0]  # 0.5
    rows = [row("precipice n=4 e=0.5 none", s, outcomes={"disaster": nash + d}) for s, d in enumerate((0.01, -0.04, 0.06))]
    rows += [row("precipice n=2 e=0.5 public", s, outcomes={"disaster": d}, exploitability=x) for s, (d, x) in enumerate(((0.5, 0.01), (0.7, 0.01), (0.5, 0.04)))]
    text = validation.table(rows)
    assert "| precipice n=4 e=0.5 none | Nash disaster 0.500" in text and "| 2 of 3 |" in text
    public = next(line for line in text.splitlines() if line.startswith("| precipice n=2 e=0.5 public"))
    assert "equilibrium disaster range [0.417, 0.667]" in public and public.endswith("| 1 of 3 | 1 |")


def test_dsair_and_commons_count_seeds_that_select_what_theory_says():
    assert validation.theory("dsair p_r=0.9 whole race")["selects"] == "SAFE"
    assert validation.theory("dsair p_r=0.6 whole race")["selects"] == "UNSAFE"
    assert validation.theory("dsair p_r=0.9 switching")["selects"] == "UNSAFE"  # a sprint beats SAFE rivals
    assert validation.theory("commons r=0.9")["fair_share_is_nash"] and not validation.theory("commons r=0.2")["fair_share_is_nash"]
    rows = [row("dsair p_r=0.9 whole race", s, racing_index=u) for s, u in enumerate((0.0, 0.1, 1.0))]
    rows += [row("dsair p_r=0.9 switching", s, racing_index=1.0, exploitability=x) for s, x in enumerate((100.0, 600.0))]  # tolerance 520
    rows += [row("commons r=0.2", s, outcomes={"target_met": m}) for s, m in enumerate((0.0, 0.9))]
    text = validation.table(rows)
    assert "| dsair p_r=0.9 whole race | SAFE risk-dominant" in text and "| 2 of 3 |" in text
    assert "| dsair p_r=0.9 switching | SAFE is no equilibrium with switching (selects UNSAFE, expl. <= 520)" in text and "| 1 of 2 |" in text
    assert "| commons r=0.2 | fair share is not Nash" in text and "| 1 of 2 |" in text


def test_write_keeps_the_rows_of_cases_not_run_again(tmp_path):
    out = tmp_path / "learned.md"
    validation.write([row("commons r=0.9", 0, outcomes={"target_met": 1.0})], out, "first", 60.0)
    validation.write([row("commons r=0.2", 0, outcomes={"target_met": 0.0})], out, "second", 60.0)
    saved = json.loads(out.with_suffix(".json").read_text())
    assert sorted(r["case"] for r in saved["rows"]) == ["commons r=0.2", "commons r=0.9"]
    assert [run["command"] for run in saved["runs"]] == ["first", "second"]
    assert "commons r=0.9" in out.read_text() and "commons r=0.2" in out.read_text()
