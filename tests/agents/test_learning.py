"""Learning tests: small seeded budgets that must beat a baseline by a clear margin.

In race_v0's ``accident_doves`` every lab fears accidents (a catastrophe costs it 8-10) and the
uniformly random allocation ends in catastrophe about half the time (mean return about -4).
Safety-first play (or cooperation, worth 1.2 each) avoids catastrophe entirely, so a learner that
learns anything about this env drives the catastrophe rate far below random's.
"""

from __future__ import annotations

import labrace
from labrace.agents import make_baseline, rollout, train_independent, train_shared

from .conftest import tiny_hyperparams


def test_shared_ppo_learns_to_avoid_catastrophe_among_doves():
    game = labrace.make_game("race_v0", "accident_doves")
    result = train_shared(game, "ppo", 30_000, seed=0, hyperparams=tiny_hyperparams(n_envs=16, n_steps=128, batch_size=512, n_epochs=10))
    learned = rollout(game, result.policies, 1_000, seed=1)
    random = rollout(game, make_baseline("random", game), 1_000, seed=1)
    assert learned.outcome_rate("catastrophe") <= random.outcome_rate("catastrophe") - 0.3
    assert learned.mean_returns().mean() >= random.mean_returns().mean() + 2.0


def test_independent_ppo_learns_to_avoid_catastrophe_among_doves():
    game = labrace.make_game("race_v0", "accident_doves", num_labs=2)
    result = train_independent(game, "ppo", 12_000, seed=0, hyperparams=tiny_hyperparams("ppo", "independent", n_envs=4, rounds=2), eval_episodes=200)
    learned = rollout(game, result.policies, 1_000, seed=1)
    random = rollout(game, make_baseline("random", game), 1_000, seed=1)
    assert learned.outcome_rate("catastrophe") <= random.outcome_rate("catastrophe") - 0.3
    assert learned.mean_returns().mean() >= random.mean_returns().mean() + 2.0
