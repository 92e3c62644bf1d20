"""Default hyperparameters per environment, algorithm and trainer, in one readable place.

In the manner of rl-baselines3-zoo's ``hyperparams/*.yml``: ``HYPERPARAMS["default"]`` holds the
settings every environment starts from; an environment's own entry overrides only what differs.
Every run writes the resolved values into ``results/<run>/config.json``, and ``train.py --hp
key=value`` overrides one of them for a run.

Keys that are not Stable-Baselines3 constructor arguments (:data:`TRAINER_KEYS`):

* ``n_envs``: shared trainer: games in the batched VecEnv (each game gives one row per lab);
  independent trainer: games in the learning lab's single-agent VecEnv.
* ``rounds``: independent trainer: rounds of alternating best responses.
* ``check_fraction``: independent trainer: the convergence check trains each lab further for
  this fraction of one round's budget and reports what it gains.
* ``focal_env``: independent trainer: ``"batched"`` (the focal form of GameVecEnv over the batched core) or
  ``"gymnasium"`` (DummyVecEnv of Gymnasium FocalLabEnv copies; same episodes, slower).
* ``policy``: the SB3 policy class name.

How they were checked (2 CPU cores, seed 0, shared trainer, 1,000 evaluation episodes):

* PPO: ``python train.py`` (race_v0 baseline, 300k agent-steps, ~25 s) reaches the coordinated
  outcome in every episode (return 1.2 per lab vs -1.9 for ``random``); the learning tests in
  ``tests/agents/test_learning.py`` (accident_doves, 30k steps) drive catastrophes from ~0.5
  (``random``) to 0.
* A2C (60k steps): coordinated outcome in 100% of episodes in baseline and accident_doves.
* SAC (60k steps, ~70 s): coordinated outcome in 100% of episodes in baseline and accident_doves.
* DQN (``--set action_type=discrete``, 60k steps): 100% coordinated in baseline; 88% coordinated,
  5% catastrophe in accident_doves.

The other environments start from the same defaults (checked end to end at small budgets only).
Budgets for the reference study are set per experiment.
"""

from __future__ import annotations

import copy
from typing import Any

#: keys read by labrace's trainers rather than passed to the SB3 algorithm
TRAINER_KEYS = ("n_envs", "rounds", "check_fraction", "focal_env", "policy", "action_param", "log_std_final", "train_overrides", "timesteps")

_NET = {"net_arch": [64, 64]}

HYPERPARAMS: dict[str, dict[str, dict[str, dict[str, Any]]]] = {
    "default": {
        "ppo": {
            "shared": {
                "policy": "MlpPolicy",
                "n_envs": 16,  # x N labs rows
                "n_steps": 128,
                "batch_size": 512,
                "n_epochs": 10,
                "learning_rate": 3e-4,
                "gamma": 0.99,
                "gae_lambda": 0.95,
                "clip_range": 0.2,
                "ent_coef": 0.0,
                "policy_kwargs": _NET,
            },
            "independent": {
                "policy": "MlpPolicy",
                "n_envs": 16,
                "rounds": 3,
                "check_fraction": 0.5,
                "focal_env": "batched",
                "n_steps": 128,
                "batch_size": 256,
                "n_epochs": 10,
                "learning_rate": 3e-4,
                "gamma": 0.99,
                "gae_lambda": 0.95,
                "policy_kwargs": _NET,
            },
        },
        "a2c": {
            "shared": {
                "policy": "MlpPolicy",
                "n_envs": 16,
                "n_steps": 8,
                "learning_rate": 7e-4,
                "gamma": 0.99,
                "ent_coef": 0.0,
                "policy_kwargs": _NET,
            },
            "independent": {
                "policy": "MlpPolicy",
                "n_envs": 8,
                "rounds": 3,
                "check_fraction": 0.5,
                "n_steps": 16,
                "learning_rate": 7e-4,
                "gamma": 0.99,
                "policy_kwargs": _NET,
            },
        },
        "sac": {
            "shared": {
                "policy": "MlpPolicy",
                "n_envs": 4,
                "buffer_size": 200_000,
                "learning_starts": 2_000,
                "batch_size": 256,
                "train_freq": 1,
                "gradient_steps": 2,
                "learning_rate": 3e-4,
                "gamma": 0.99,
                "policy_kwargs": _NET,
            },
            "independent": {
                "policy": "MlpPolicy",
                "n_envs": 4,
                "rounds": 3,
                "check_fraction": 0.5,
                "buffer_size": 100_000,
                "learning_starts": 1_000,
                "batch_size": 256,
                "train_freq": 1,
                "gradient_steps": 1,
                "learning_rate": 3e-4,
                "gamma": 0.99,
                "policy_kwargs": _NET,
            },
        },
        "dqn": {
            "shared": {
                "policy": "MlpPolicy",
                "n_envs": 4,
                "buffer_size": 200_000,
                "learning_starts": 2_000,
                "batch_size": 128,
                "train_freq": 1,
                "gradient_steps": 1,
                "target_update_interval": 2_000,
                "exploration_fraction": 0.3,
                "exploration_final_eps": 0.05,
                "learning_rate": 5e-4,
                "gamma": 0.99,
                "policy_kwargs": _NET,
            },
            "independent": {
                "policy": "MlpPolicy",
                "n_envs": 4,
                "rounds": 3,
                "check_fraction": 0.5,
                "buffer_size": 100_000,
                "learning_starts": 1_000,
                "batch_size": 128,
                "train_freq": 4,
                "gradient_steps": 1,
                "target_update_interval": 1_000,
                "exploration_fraction": 0.3,
                "exploration_final_eps": 0.05,
                "learning_rate": 5e-4,
                "gamma": 0.99,
                "policy_kwargs": _NET,
            },
        },
    },
    # race_v0 episodes end on terminal rewards after up to max_steps=50 steps: the defaults fit.
    "race_v0": {},
    # One-step episodes whose payoffs are flat near the equilibrium (DESIGN.md §5). Chosen by
    # measurement (issue 15; results/canonical/learned.md): logits (the "auto" default), a
    # smaller initial noise (log_std_init -1: the mean otherwise settles on the equilibrium of the
    # game played with noise), no entropy bonus, many small updates (n_steps 16: 16 games x N labs
    # x 16 steps per update, 10 epochs of batches of 256; at n_steps 128 the same budget makes
    # 8x fewer updates and stops short), and expected rewards while training (the same
    # equilibria without the variance of the disaster draw).
    "precipice_v0": {
        "ppo": {
            "shared": {
                "timesteps": 200_000,
                "n_steps": 16,
                "batch_size": 256,
                "train_overrides": {"expected_rewards": True},
                "policy_kwargs": {"net_arch": [64, 64], "log_std_init": -1.0},
            },
            "independent": {
                "timesteps": 200_000,
                "n_steps": 16,
                "batch_size": 256,
                "train_overrides": {"expected_rewards": True},
                "policy_kwargs": {"net_arch": [64, 64], "log_std_init": -1.0},
            },
        },
    },
}


def get_hyperparams(env: str, algo: str, trainer: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The resolved hyperparameters (a fresh dict): defaults, then the env's entry, then ``overrides``."""
    defaults = HYPERPARAMS["default"]
    if algo not in defaults:
        raise ValueError(f"unknown algorithm {algo!r}; valid algorithms are {sorted(defaults)}")
    if trainer not in defaults[algo]:
        raise ValueError(f"unknown trainer {trainer!r}; valid trainers are {sorted(defaults[algo])}")
    params = copy.deepcopy(defaults[algo][trainer])
    params.update(copy.deepcopy(HYPERPARAMS.get(env, {}).get(algo, {}).get(trainer, {})))
    params.update(copy.deepcopy(overrides or {}))
    return params


def split_hyperparams(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trainer settings, SB3 constructor keyword arguments)."""
    trainer = {k: v for k, v in params.items() if k in TRAINER_KEYS}
    algo = {k: v for k, v in params.items() if k not in TRAINER_KEYS}
    return trainer, algo
