"""The canonical study reads each case's learned profiles against its paper's theory, seed by seed,
with the targets of the learners' validation, and states each case's exploitability."""

from __future__ import annotations

from labrace.agents.studies import canonical_learned as canonical


def precipice(case, seed, disaster, exploitability=0.001):
    return {"case": case, "seed": seed, "disaster_rate": disaster, "safe_rate": 1 - disaster, "share_safety": 0.5,
            "racing_index": 0.5, "coordination_index": 0.5, "exploitability": exploitability, "equilibrium_tolerance": 0.05}  # fmt: skip


def commons(case, seed, met):
    return {"case": case, "seed": seed, "catastrophe_rate": 1 - met, "target_met_rate": met, "racing_index": 0.0,
            "coordination_index": met, "exploitability": 0.0, "equilibrium_tolerance": 0.05}  # fmt: skip


def test_a_seed_is_on_target_by_the_validation_s_bounds():
    assert canonical.seed_on_target(precipice("precipice n=3 e=1.0 private", 0, 0.76))  # Nash 0.75
    assert not canonical.seed_on_target(precipice("precipice n=3 e=1.0 private", 0, 0.85))  # 0.10 from Nash
    assert not canonical.seed_on_target(precipice("precipice n=3 e=1.0 private", 0, 0.75, exploitability=0.01))  # above 0.005
    assert not canonical.seed_on_target(precipice("precipice n=3 e=1.0 private", 0, 0.75, exploitability=None))  # not measured
    assert canonical.seed_on_target(precipice("precipice n=2 e=0.5 public", 0, 0.60, exploitability=0.02))  # inside [0.42, 0.67]
    assert canonical.seed_on_target(commons("commons r=0.9", 0, 1.0)) and not canonical.seed_on_target(commons("commons r=0.2", 0, 1.0))


def test_the_section_answers_first_how_many_cases_land_and_states_exploitability(tmp_path):
    rows = [precipice("precipice n=3 e=1.0 private", s, d) for s, d in enumerate((0.74, 0.75, 0.76, 0.77, 0.90))]  # 4 of 5 land
    rows += [precipice("precipice n=2 e=0.5 none", s, 0.10) for s in range(5)]  # Nash 0.00: none lands
    rows += [commons("commons r=0.9", s, 1.0) for s in range(3)]
    text = canonical.analyse(rows, tmp_path / "small" / "canonical")
    answer = text.splitlines()[0]
    assert answer.startswith("**Answer.** Self-play learners land where the papers' theory says in 2 of 3 cases")
    assert "not in precipice n=2 e=0.5 none" in answer and "Lens: self-play" in answer
    assert "an approximate equilibrium in 3 of 3 cells" in answer
    table = {line.split(" | ")[0][2:]: line for line in text.splitlines() if line.startswith("| ") and "---" not in line}
    assert table["precipice n=3 e=1.0 private"].endswith("| 0.001 [0.001, 0.001] | 4 of 5 |")
    assert table["precipice n=2 e=0.5 none"].startswith("| precipice n=2 e=0.5 none | disaster 0.00 (Nash) |") and table["precipice n=2 e=0.5 none"].endswith("| 0 of 5 |")
    assert table["commons r=0.9"].endswith("| 3 of 3 |")
