"""Batched rollouts of a policy profile: one policy per lab, many episodes at once.

The evaluation harness steps B independent games of the batched core together until every one
has finished, recording each game's first outcome and each lab's return. Games that finished
keep being stepped with the rest (and their later results are ignored), which keeps the loop
free of per-game Python code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium.utils import seeding

from labrace.agents.policy import Policy, as_policy
from labrace.envs.adapters import policy_actions


@dataclass
class Rollouts:
    """Results of ``num_episodes`` episodes of one policy profile."""

    returns: np.ndarray  # (E, N) each lab's return
    outcome: np.ndarray  # (E,) outcome code of the game (index into the env's OUTCOMES)
    winner: np.ndarray  # (E,) winning lab or -1
    steps: np.ndarray  # (E,) episode length
    allocation: np.ndarray  # (E, N, K) mean action-derived allocation per lab, where the env has one
    outcome_names: tuple[str, ...]

    def outcome_rate(self, name: str) -> float:
        return float(np.mean(self.outcome == self.outcome_names.index(name)))

    def mean_returns(self) -> np.ndarray:
        return self.returns.mean(axis=0)


def rollout(game: Any, policies: Any, num_episodes: int, seed: int | None = None) -> Rollouts:
    """Play ``num_episodes`` episodes of ``game`` with one policy per lab (or one for all)."""
    if not isinstance(policies, (list, tuple)):
        policies = [policies] * game.num_agents
    if len(policies) != game.num_agents:
        raise ValueError(f"policies must list {game.num_agents} policies (one per lab); got {len(policies)}")
    policies = [as_policy(p) for p in policies]
    rng, _ = seeding.np_random(seed)
    state = game.reset(rng, num_episodes)
    E, N = num_episodes, game.num_agents
    returns = np.zeros((E, N))
    finished = np.zeros(E, dtype=bool)
    outcome = np.zeros(E, dtype=np.int64)
    winner = np.full(E, -1)
    steps = np.zeros(E, dtype=np.int64)
    alloc_sum = np.zeros((E, N, 3))
    module = __import__(type(game).__module__, fromlist=["OUTCOMES"])
    while not finished.all():
        observations = game.observe(state)  # (E, N, D)
        actions = np.stack([policy_actions(p, observations[:, i], rng) for i, p in enumerate(policies)], axis=1)
        actions = game.check_actions(actions, E)
        result = game.step(state, actions, rng)
        live = ~finished
        alloc_sum[live] += state.last_allocation[live]
        done = (result.terminated | result.truncated) & live
        returns[done] = result.rewards[done]
        outcome[done] = result.info["outcome"][done]
        winner[done] = result.info["winner"][done]
        steps[done] = state.step[done]
        finished |= done
    return Rollouts(returns, outcome, winner, steps, alloc_sum / steps[:, None, None], tuple(module.OUTCOMES))
