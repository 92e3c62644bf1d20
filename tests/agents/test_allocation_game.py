"""The fixed-allocation game of race_v0 as a specification: its grid, its batched estimate on common
initial states, and what it answers (equilibria, the incentive to race, the team optimum, where
local learning rests)."""

from __future__ import annotations

import numpy as np
import pytest

import labrace
from labrace.agents.allocation_game import COOPERATE, AllocationGame, allocation_game, allocation_grid
from labrace.agents.baselines import FixedAllocation
from labrace.agents.evaluation import rollout
from labrace.agents.policy import BlockPolicy


def cell(misuse: float, distrust: float, accident: float, **overrides):
    """A race_v0 game whose three labs share one type (an H1 cell)."""
    lab = {"misuse_concern": (misuse, misuse), "accident_concern": (accident, accident), "trust": (1 - distrust, 1 - distrust)}
    return labrace.make_game("race_v0", "baseline", lab_types=(lab,), **overrides)


def test_the_grid_covers_the_simplex():
    assert len(allocation_grid(0.1)) == 66 and len(allocation_grid(0.2)) == 21
    assert all(abs(sum(a) - 1.0) < 1e-12 and min(a) >= 0.0 for a in allocation_grid(0.1))
    assert COOPERATE in allocation_grid(0.5)


@pytest.mark.parametrize("step", [0.3, 0.0, 1.0, "0.1", True])
def test_a_bad_step_is_named(step):
    with pytest.raises(ValueError, match="step must be 1/k"):
        allocation_grid(step)


def test_repeated_blocks_start_from_the_same_states():
    game = cell(0.5, 0.5, 0.5, expected_rewards=True)
    policy = FixedAllocation(game, (0.4, 0.4, 0.2), "x")
    r = rollout(game, policy, 3 * 50, seed=3, repeats=3)
    blocks = r.returns.reshape(3, 50, -1)
    # with expected rewards a fixed allocation's return depends only on the initial state
    np.testing.assert_allclose(blocks[0], blocks[1])
    np.testing.assert_allclose(blocks[0], blocks[2])
    assert blocks[0].std() > 0  # the 50 initial states differ
    with pytest.raises(ValueError, match="repeats must be a positive integer that divides"):
        rollout(game, policy, 10, seed=0, repeats=3)


def test_a_block_policy_lets_each_policy_act_for_its_block():
    game = cell(0.5, 0.5, 0.5)
    policies = [FixedAllocation(game, a, str(a)) for a in [(1, 0, 0), (0, 1, 0), (0, 0, 1)]]
    actions = BlockPolicy(policies).act(np.zeros((6, game.observation_space.shape[0]), dtype=np.float32))
    np.testing.assert_allclose(actions, np.repeat(np.eye(3), 2, axis=0))
    with pytest.raises(ValueError, match="not a multiple of 3"):
        BlockPolicy(policies).act(np.zeros((4, game.observation_space.shape[0])))


def constructed(payoff, basins, step=0.5):
    """An AllocationGame on the 0.5 grid (6 allocations) with a given payoff matrix."""
    allocations = tuple(allocation_grid(step))
    P = len(allocations)
    return AllocationGame(allocations, np.asarray(payoff, dtype=float), np.zeros((P, P)), tuple(basins), ({},) * P, 0.05, 100, step)


def test_equilibria_incentive_team_optimum_and_local_learning_on_a_known_game():
    allocations = allocation_grid(0.5)  # (0,0,1) (0,.5,.5) (0,1,0) (.5,0,.5) (.5,.5,0) (1,0,0)
    coop, race = allocations.index((0.0, 0.0, 1.0)), allocations.index((1.0, 0.0, 0.0))
    P = len(allocations)
    # a stag hunt: everyone cooperating pays 2, racing pays 1 whatever the others do, anything
    # else 0 except that against cooperators half speed (0.5, 0, 0.5) pays 2.5
    payoff = np.zeros((P, P))
    payoff[race, :] = 1.0
    payoff[coop, coop] = 2.0
    half = allocations.index((0.5, 0.0, 0.5))
    payoff[half, coop] = 2.5
    basins = ["racing" if a[0] > 0 else "coordinating" for a in allocations]
    g = constructed(payoff, basins)
    assert g.equilibria() == [race]  # cooperation is exploited by half speed; racing is safe
    assert g.incentive_to_race() == {"allocation": (0.5, 0.0, 0.5), "gain": 0.5, "pays": True}
    assert g.team_optimum() == coop
    assert g.local_learning(race) == race
    summary = g.summary()
    assert summary["equilibrium_basins"] == ["racing"]
    assert summary["price_of_the_race"]["worst_equilibrium"] == pytest.approx(1.0)
    # with the exploit removed, cooperation is an equilibrium too and beats racing by 1
    payoff[half, coop] = 0.0
    g = constructed(payoff, basins)
    assert g.equilibria() == [coop, race]
    assert not g.incentive_to_race()["pays"]
    assert g.summary()["price_of_the_race"] == {"worst_equilibrium": 1.0, "best_equilibrium": 0.0}


@pytest.fixture(scope="module")
def hawk_corner():
    """Misuse concern 0.9, distrust 0.9, accident concern 0.2 (the corner where labs learn to race)."""
    return allocation_game(cell(0.9, 0.9, 0.2), step=0.1, episodes=100, seed=0)


def test_in_the_hawk_corner_cooperation_is_the_only_symmetric_equilibrium(hawk_corner):
    g = hawk_corner
    equilibria = [g.allocations[s] for s in g.equilibria()]
    assert (0.0, 0.1, 0.9) in equilibria
    assert {g.basin[s] for s in g.equilibria()} == {"coordinating"}
    race, reckless = g.index((1.0, 0.0, 0.0)), g.index((0.7, 0.3, 0.0))
    assert g.deviation_gain[race] > 0.05 and g.deviation_gain[reckless] > 0.05
    assert g.basin[race] == g.basin[reckless] == "racing"


def test_in_the_hawk_corner_racing_pays_against_cooperators(hawk_corner):
    incentive = hawk_corner.incentive_to_race()
    assert incentive["pays"] and incentive["allocation"][0] > 0
    assert hawk_corner.team_optimum() == hawk_corner.index(COOPERATE)


def test_in_the_hawk_corner_local_learning_mostly_rests_in_a_race_that_is_no_equilibrium(hawk_corner):
    # myopic learners stop where no small move pays, which is not where no move pays
    basins = hawk_corner.learning_basins()
    assert basins["racing"] > 0.4
    rests = {hawk_corner.local_learning(s) for s in range(len(hawk_corner.allocations))}
    racing_rests = [s for s in rests if s is not None and hawk_corner.basin[s] == "racing"]
    assert racing_rests and all(hawk_corner.deviation_gain[s] > hawk_corner.tolerance for s in racing_rests)


def test_the_estimated_payoffs_are_the_games_expected_returns(hawk_corner):
    game = cell(0.9, 0.9, 0.2)
    for allocation in [(0.7, 0.3, 0.0), (0.0, 0.1, 0.9)]:
        s = hawk_corner.index(allocation)
        drawn = rollout(game, FixedAllocation(game, allocation, "x"), 4000, seed=11).returns[:, 0]
        assert abs(drawn.mean() - hawk_corner.payoff[s, s]) < 4 * drawn.std() / np.sqrt(len(drawn)) + 0.02


def test_allocation_game_rejects_other_games_and_bad_episodes():
    with pytest.raises(ValueError, match="race_v0"):
        allocation_game(labrace.make_game("dsair_v0"), step=0.5)
    with pytest.raises(ValueError, match="episodes must be an integer >= 2"):
        allocation_game(cell(0.5, 0.5, 0.5), step=0.5, episodes=1)
