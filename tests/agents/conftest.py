"""Shared fixtures of the agents tests: small seeded models, trained once per session."""

from __future__ import annotations

import pytest

import labrace
from labrace.agents.hyperparams import get_hyperparams


def tiny_hyperparams(algo: str = "ppo", trainer: str = "shared", **overrides):
    """Default hyperparameters shrunk for tests (small batches, few envs)."""
    small = {
        ("ppo", "shared"): {"n_envs": 4, "n_steps": 64, "batch_size": 128, "n_epochs": 2},
        ("ppo", "independent"): {"n_envs": 2, "n_steps": 128, "batch_size": 128, "n_epochs": 2, "rounds": 2},
        ("a2c", "shared"): {"n_envs": 4},
        ("sac", "shared"): {"n_envs": 2, "learning_starts": 200, "batch_size": 64, "gradient_steps": 1},
        ("dqn", "shared"): {"n_envs": 2, "learning_starts": 200, "batch_size": 64, "target_update_interval": 200},
    }.get((algo, trainer), {})
    return get_hyperparams("race_v0", algo, trainer, {**small, **overrides})


def in_sweep_order(study, budget: str, rows: list[dict], tmp_path) -> list[dict]:
    """A study's (fake) run rows in the order its sweep runs them (longest first): the first k of
    them are what a report of a sweep in progress has."""
    from labrace.agents import sweep

    order = {(tuple(run.point.items()), run.seed): i for i, run in enumerate(sweep.longest_first(sweep.plan(study, budget, tmp_path)))}
    return sorted(rows, key=lambda r: order[(tuple((a, r[a]) for a in study.axes), r["seed"])])


@pytest.fixture(scope="session")
def tiny_shared_model():
    """A shared PPO model on race_v0 baseline after 1,536 agent-steps (seed 0)."""
    from labrace.agents.trainers import train_shared

    game = labrace.make_game("race_v0")
    return game, train_shared(game, "ppo", 1_536, seed=0, hyperparams=tiny_hyperparams())
