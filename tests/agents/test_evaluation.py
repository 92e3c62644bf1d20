"""Rollouts, DESIGN.md §4 metrics with confidence intervals, and cross-play, for every env."""

from __future__ import annotations

import math

import numpy as np
import pytest

import labrace
from labrace.agents import CallablePolicy, cross_play, make_baseline, rollout, summarize
from labrace.agents.evaluation import mean_ci, wilson_interval
from labrace.envs import ENVIRONMENTS


def random_actions(game, seed: int = 0) -> CallablePolicy:
    """Uniform samples of the action space (works for any env)."""
    space = game.action_space
    space.seed(seed)
    return CallablePolicy(lambda obs: np.stack([space.sample() for _ in range(len(obs))]), "uniform")


@pytest.mark.parametrize("env", sorted(ENVIRONMENTS))
def test_rollout_and_metrics_for_every_env(env):
    game = labrace.make_game(env)
    r = rollout(game, random_actions(game), 40, seed=0)
    E, N = 40, game.num_agents
    assert r.returns.shape == (E, N) and r.steps.min() >= 1
    assert np.all(r.outcome > 0), "every episode ends with an outcome (code 0 is 'ongoing')"
    K = len(r.share_names)
    assert r.allocation.shape == (E, N, K) and np.all(np.isfinite(r.allocation))
    metrics = summarize(r)
    rates = [m["rate"] for m in metrics["outcomes"].values()]
    assert math.isclose(sum(rates), 1.0)
    for m in metrics["outcomes"].values():
        assert m["ci95"][0] <= m["rate"] <= m["ci95"][1]
    assert len(metrics["return_per_lab"]) == N
    assert math.isclose(metrics["welfare"]["mean"], r.returns.sum(axis=1).mean())
    assert len(metrics["shares_over_time"]["per_lab"]) == r.steps.max()
    # same seed and policies, same results
    again = rollout(game, random_actions(game), 40, seed=0)
    np.testing.assert_array_equal(r.returns, again.returns)


def test_race_indices_of_pure_baselines():
    game = labrace.make_game("race_v0")
    race = summarize(rollout(game, make_baseline("race", game), 100, seed=0))
    cooperate = summarize(rollout(game, make_baseline("cooperate", game), 100, seed=0))
    assert race["racing_index"]["mean"] == pytest.approx(1.0) and race["coordination_index"]["mean"] == pytest.approx(0.0)
    assert cooperate["racing_index"]["mean"] == pytest.approx(0.0) and cooperate["coordination_index"]["mean"] == pytest.approx(1.0)
    assert cooperate["outcomes"]["coordinated"]["rate"] == 1.0
    assert race["outcomes"]["catastrophe"]["rate"] > 0.9
    shares = np.array(race["shares_over_time"]["per_lab"])  # (T, N, 3)
    np.testing.assert_allclose(shares[..., 0], 1.0)


def test_discrete_race_reports_allocation_shares_and_mixed_profiles():
    game = labrace.make_game("race_v0", action_type="discrete")
    profile = [make_baseline("race", game), make_baseline("safe", game), make_baseline("cooperate", game)]
    r = rollout(game, profile, 50, seed=3)
    assert r.share_names == ("speed", "safety", "cooperation")
    np.testing.assert_allclose(r.allocation[:, 0, 0], 1.0)
    np.testing.assert_allclose(r.allocation[:, 1, 1], 1.0)
    np.testing.assert_allclose(r.allocation[:, 2, 2], 1.0)
    assert r.racing_index(labs=[0]) == pytest.approx(1.0)
    assert r.racing_index() == pytest.approx(1 / 3)


def test_cross_play_rows():
    game = labrace.make_game("race_v0", "cruel_tradeoff")
    focal = make_baseline("cooperate", game)
    rows = cross_play(game, focal, {"race": "race", "cooperate": "cooperate", "mixed": ["race", "safe"]}, 200, seed=0)
    by_name = {row["background"]: row for row in rows}
    assert set(by_name) == {"race", "cooperate", "mixed"}
    assert by_name["cooperate"]["outcomes"]["coordinated"]["rate"] == 1.0
    assert by_name["cooperate"]["focal_return"]["mean"] == pytest.approx(1.2)
    assert by_name["race"]["focal_return"]["mean"] < by_name["cooperate"]["focal_return"]["mean"]
    assert by_name["race"]["focal_racing_index"] == 0.0 and by_name["race"]["focal_coordination_index"] == 1.0
    with pytest.raises(ValueError, match="background must list 2"):
        cross_play(game, focal, {"bad": ["race"]}, 10)


def test_confidence_intervals():
    lo, hi = wilson_interval(50, 100)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(10, 10)[1] == 1.0
    metric = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert metric["mean"] == 2.5 and metric["ci95"][0] < 2.5 < metric["ci95"][1]


def test_rollout_rejects_bad_profiles():
    game = labrace.make_game("race_v0")
    with pytest.raises(ValueError, match="3 policies"):
        rollout(game, [make_baseline("race", game)] * 2, 10)
    with pytest.raises(ValueError, match="num_episodes"):
        rollout(game, make_baseline("race", game), 0)


def test_dsair_commitment_games_count_plays_not_commits():
    """With commitments the action is (play, commit): the racing index is the share of UNSAFE rounds,
    and the commitment stage (no play) adds no shares."""
    game = labrace.make_game("dsair_v0", "commitments")
    fake = rollout(game, make_baseline("VU", game), 50, seed=0)  # commits, then plays UNSAFE every round
    keeper = rollout(game, make_baseline("VS", game), 50, seed=0)  # commits, plays SAFE in the agreement
    assert fake.share_names == ("SAFE", "UNSAFE")
    np.testing.assert_allclose(fake.allocation[..., 1], 1.0)
    np.testing.assert_allclose(keeper.allocation[..., 1], 0.0)
    assert fake.racing_index() == pytest.approx(1.0) and keeper.racing_index() == pytest.approx(0.0)


def test_dsair_baselines_in_commitment_games():
    game = labrace.make_game("dsair_v0", "commitments")
    observations = game.observe(game.reset(np.random.default_rng(0), 4)).reshape(-1, game.observation_space.shape[0])
    unsafe = make_baseline("always_unsafe", game).act(observations)  # a plain baseline never commits
    assert unsafe.shape == (8, 2) and (unsafe[:, 0] == 1).all() and (unsafe[:, 1] == 0).all()
    assert (make_baseline("VU", game).act(observations) == [1, 1]).all()
    with pytest.raises(ValueError, match="commitments=True"):
        make_baseline("VS", labrace.make_game("dsair_v0"))  # strategies need the commitment game


def test_only_baselines_that_can_play_the_config_are_offered():
    from labrace.agents.baselines import available_baselines
    from labrace.envs.dsair_v0 import STRATEGIES

    plain, committed = labrace.make_game("dsair_v0"), labrace.make_game("dsair_v0", "commitments")
    assert not set(STRATEGIES) & set(available_baselines(plain))  # AS, AU, VS, VU need commitments
    assert set(STRATEGIES) <= set(available_baselines(committed))
    for name in available_baselines(plain):
        make_baseline(name, plain)  # each one builds
