"""Cross-play of policies and its meta-game (labrace.agents.crossplay), as specifications.

Scripted baselines stand in for learned policies (no trained model needed), and constructed
matrices (``CrossPlay.from_returns``) pin the best-response and equilibrium logic to payoffs whose
answer is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces

import labrace
from labrace.agents.baselines import make_baseline
from labrace.agents.crossplay import (
    HEADING,
    CrossPlay,
    Study,
    best_responses,
    crossplay_matrix,
    fitting_policies,
    main,
    render_section,
    symmetric_equilibria,
)
from labrace.agents.evaluation import rollout
from labrace.agents.policy import Policy

EPISODES = 24


def baselines(game, names=("race", "cooperate", "safe")):
    return {name: make_baseline(name, game) for name in names}


# ---- the matrix --------------------------------------------------------------------------------


def test_matrix_has_one_cell_per_focal_and_background_with_rates_and_paired_returns():
    game = labrace.make_game("race_v0", "baseline")
    cp = crossplay_matrix(game, baselines(game), EPISODES, seed=3)
    assert cp.names == ("race", "cooperate", "safe")
    assert cp.focal_returns.shape == (3, 3, EPISODES)
    assert set(cp.cells) == {(a, b) for a in cp.names for b in cp.names}
    for cell in cp.cells.values():
        assert cell["focal_return"]["n"] == EPISODES
        lo, hi = cell["focal_return"]["ci95"]
        assert lo <= cell["focal_return"]["mean"] <= hi
        for outcome in ("catastrophe", "winner", "coordinated"):
            assert 0.0 <= cell["outcomes"][outcome]["rate"] <= 1.0
        assert 0.0 <= cell["focal_wins"]["rate"] <= 1.0


def test_a_cell_is_the_rollout_of_focal_lab_0_among_the_background_with_the_common_seed():
    game = labrace.make_game("race_v0", "cruel_tradeoff")
    policies = baselines(game, ("race", "cooperate"))
    cp = crossplay_matrix(game, policies, EPISODES, seed=5)
    r = rollout(game, [policies["race"], policies["cooperate"], policies["cooperate"]], EPISODES, 5)
    np.testing.assert_array_equal(cp.focal_returns[cp.index("race"), cp.index("cooperate")], r.returns[:, 0])
    assert cp.cells[("race", "cooperate")]["focal_wins"]["rate"] == pytest.approx(np.mean(r.winner == 0))


def test_same_seed_gives_the_same_numbers_and_another_seed_other_numbers():
    game = labrace.make_game("race_v0", "baseline")
    first = crossplay_matrix(game, baselines(game), EPISODES, seed=7)
    again = crossplay_matrix(game, baselines(game), EPISODES, seed=7)
    other = crossplay_matrix(game, baselines(game), EPISODES, seed=8)
    np.testing.assert_array_equal(first.focal_returns, again.focal_returns)
    assert first.cells == again.cells
    assert not np.array_equal(first.focal_returns, other.focal_returns)


def test_cells_share_their_episodes_so_two_copies_of_a_policy_differ_by_exactly_zero():
    game = labrace.make_game("race_v0", "baseline")
    policies = {"balanced": make_baseline("balanced", game), "balanced_copy": make_baseline("balanced", game), "race": make_baseline("race", game)}
    cp = crossplay_matrix(game, policies, EPISODES, seed=2)
    for background in cp.names:
        difference = cp.difference("balanced", "balanced_copy", background)
        assert difference["mean"] == 0.0 and difference["ci95"] == [0.0, 0.0]


def test_the_focal_lab_can_be_any_lab():
    game = labrace.make_game("race_v0", "baseline")
    policies = baselines(game, ("race", "cooperate"))
    cp = crossplay_matrix(game, policies, EPISODES, seed=1, focal_lab=2)
    r = rollout(game, [policies["cooperate"], policies["cooperate"], policies["race"]], EPISODES, 1)
    np.testing.assert_array_equal(cp.focal_returns[cp.index("race"), cp.index("cooperate")], r.returns[:, 2])


# ---- the meta-game on committed-policy stand-ins -----------------------------------------------


def test_among_accident_doves_cooperating_is_the_significant_best_response_to_cooperators():
    game = labrace.make_game("race_v0", "accident_doves")
    cp = crossplay_matrix(game, baselines(game, ("race", "cooperate")), EPISODES, seed=0)
    response = best_responses(cp)["cooperate"]
    assert response["best_response"] == "cooperate" and response["significant"]
    assert response["best_set"] == ["cooperate"] and response["runner_up"] == "race"
    assert response["gap_to_runner_up"]["ci95"][0] > 0
    assert response["self_play"] == cp.focal_return("cooperate", "cooperate")
    assert response["gain_over_self_play"]["mean"] == 0.0 and response["equilibrium"]
    assert "cooperate" in symmetric_equilibria(cp)


# ---- the meta-game on constructed payoffs ------------------------------------------------------


def constructed(payoffs, noise=0.1, episodes=400, seed=0):
    """A matrix whose cell (a, b) has mean payoffs[a][b] plus noise shared by a column's cells."""
    names = tuple(payoffs)
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, 1.0, (1, len(names), episodes))  # common random numbers per column
    own = rng.normal(0.0, noise, (len(names), len(names), episodes))
    means = np.array([[payoffs[a][b] for b in names] for a in names])[:, :, None]
    return CrossPlay.from_returns(names, means + common + own)


def test_prisoners_dilemma_defection_is_the_best_response_to_everything_and_the_only_equilibrium():
    cp = constructed({"cooperate": {"cooperate": 3.0, "defect": 0.0}, "defect": {"cooperate": 5.0, "defect": 1.0}})
    responses = best_responses(cp)
    assert {b: r["best_response"] for b, r in responses.items()} == {"cooperate": "defect", "defect": "defect"}
    assert all(r["significant"] for r in responses.values())
    assert responses["cooperate"]["gain_over_self_play"]["mean"] == pytest.approx(2.0, abs=0.05)
    assert symmetric_equilibria(cp) == ["defect"]


def test_stag_hunt_has_two_symmetric_equilibria():
    cp = constructed({"stag": {"stag": 4.0, "hare": 0.0}, "hare": {"stag": 3.0, "hare": 2.0}})
    assert symmetric_equilibria(cp) == ["stag", "hare"]


def test_rock_paper_scissors_has_no_symmetric_pure_equilibrium():
    beats = {"rock": "scissors", "paper": "rock", "scissors": "paper"}
    payoffs = {a: {b: 1.0 if beats[a] == b else -1.0 if beats[b] == a else 0.0 for b in beats} for a in beats}
    cp = constructed(payoffs)
    assert {b: r["best_response"] for b, r in best_responses(cp).items()} == {"rock": "paper", "paper": "scissors", "scissors": "rock"}
    assert symmetric_equilibria(cp) == []


def test_a_gain_inside_the_interval_is_a_tie_not_a_best_response_and_keeps_the_equilibrium():
    # "b" is better against "a" by 0.01, far inside the noise of 100 episodes
    cp = constructed({"a": {"a": 1.0, "b": 1.0}, "b": {"a": 1.01, "b": 1.0}}, noise=1.0, episodes=100)
    response = best_responses(cp)["a"]
    assert set(response["best_set"]) == {"a", "b"} and not response["significant"]
    assert response["gap_to_runner_up"]["ci95"][0] <= 0 <= response["gap_to_runner_up"]["ci95"][1]
    assert "a" in symmetric_equilibria(cp)


def test_exact_ties_pick_the_earlier_policy_and_are_not_significant():
    cp = CrossPlay.from_returns(("x", "y"), np.ones((2, 2, 5)))
    response = best_responses(cp)["y"]
    assert response["best_response"] == "x" and response["best_set"] == ["x", "y"] and not response["significant"]
    assert symmetric_equilibria(cp) == ["x", "y"]


def test_a_single_policy_is_its_own_best_response():
    cp = CrossPlay.from_returns(("only",), np.zeros((1, 1, 3)))
    response = best_responses(cp)["only"]
    assert response["best_response"] == "only" and response["runner_up"] is None and not response["significant"]
    assert symmetric_equilibria(cp) == ["only"]


# ---- shapes and bad input ----------------------------------------------------------------------


class FourComponentPolicy(Policy):
    """A learned-policy stand-in trained with a 4-component action (like ``pivotal_act``'s)."""

    name = "four"

    def __init__(self):
        class Model:
            observation_space = spaces.Box(0, 2, (13,))
            action_space = spaces.Box(0, 1, (4,))

        self.model = Model()

    def act(self, observations, rng=None):
        return np.full((len(observations), 4), 0.25, dtype=np.float32)


def test_a_policy_with_other_shapes_is_left_out_with_its_reason():
    game = labrace.make_game("race_v0", "baseline")
    fit, left_out = fitting_policies(game, {"race": make_baseline("race", game), "pivotal": FourComponentPolicy()})
    assert list(fit) == ["race"]
    assert left_out == {"pivotal": "its actions have shape (4,), the game's (3,)"}


def test_a_policy_with_other_shapes_in_the_matrix_is_a_one_line_error_naming_it():
    game = labrace.make_game("race_v0", "baseline")
    with pytest.raises(ValueError, match=r"^policies: 'pivotal' cannot play race_v0/baseline: its actions have shape \(4,\), the game's \(3,\)") as error:
        crossplay_matrix(game, {"race": make_baseline("race", game), "pivotal": FourComponentPolicy()}, 3, name="race_v0/baseline")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"episodes": 0}, r"^episodes must be an integer >= 1; got 0$"),
        ({"episodes": 2.5}, r"^episodes must be an integer >= 1; got 2.5$"),
        ({"seed": -1}, r"^seed must be an integer >= 0; got -1$"),
        ({"focal_lab": 3}, r"^focal_lab must be an integer in \[0, 2\]; got 3$"),
        ({"policies": {}}, r"^policies must name at least one policy"),
    ],
)
def test_bad_arguments_are_one_line_errors_naming_the_parameter_and_its_range(kwargs, message):
    game = labrace.make_game("race_v0", "baseline")
    arguments = {"policies": baselines(game, ("race",)), "episodes": 3, "seed": 0, "focal_lab": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        crossplay_matrix(game, **arguments)


def test_constructed_returns_of_the_wrong_shape_are_rejected():
    with pytest.raises(ValueError, match=r"^focal_returns must have shape \(2, 2, episodes >= 1\)"):
        CrossPlay.from_returns(("a", "b"), np.zeros((2, 3, 4)))


# ---- the report section and the command ---------------------------------------------------------


def test_the_section_states_the_answer_first_then_one_table_per_game():
    cp = constructed({"cooperate": {"cooperate": 3.0, "defect": 0.0}, "defect": {"cooperate": 5.0, "defect": 1.0}})
    text = render_section(Study("runs", 400, 0, [cp], {"pivotal": "its actions have shape (4,)"}, {}))
    lines = text.splitlines()
    assert lines[0] == HEADING
    assert "A single learned policy is the best response" in lines[2] and "`defect` against `cooperate`" in lines[2]
    assert "Symmetric pure equilibria of the meta-game" in lines[2] and "`constructed`: `defect`" in lines[2]
    assert "*Left out.* Policy `pivotal`: its actions have shape (4,)." in text
    assert text.count("| `defect` | **") == 1 and "| `cooperate` | **" not in text  # best responses in bold
    assert "Symmetric pure equilibria: `defect`." in text


def test_the_command_rejects_bad_options_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--episodes", "0"])
    assert exit_.value.code == 2
    assert "--episodes must be an integer >= 1; got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--policies", "/nonexistent/folder"])
    assert "--policies must be a folder of finished runs" in capsys.readouterr().err


COMMITTED = Path(__file__).resolve().parents[2] / "results" / "policies"


@pytest.mark.skipif(not (COMMITTED / "baseline" / "model.zip").exists(), reason="no committed policies")
def test_the_committed_policies_cross_play_and_pivotal_act_is_left_out_for_its_action(tmp_path):
    out = tmp_path / "crossplay.md"
    assert main(["--policies", str(COMMITTED), "--episodes", "2", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith(HEADING + "\n\n")
    assert "### `race_v0/cruel_tradeoff`" in text and "### `race_v0/pivotal_act`" not in text
    assert "Policy `pivotal_act`: no other policy plays its game" in text and "its actions have shape (4,), the game's (3,)" in text
    assert "In the `cruel_tradeoff` game (lab_0 a misuse hawk, the others accident doves)" in text
