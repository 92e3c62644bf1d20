"""Default hyperparameters per environment, algorithm and trainer, in one readable place.

In the manner of rl-baselines3-zoo's ``hyperparams/*.yml``: ``HYPERPARAMS["default"]`` holds the
settings every environment starts from; an environment's own entry overrides only what differs.
Every run writes the resolved values into ``results/<run>/config.json``, and ``train.py --hp
key=value`` overrides one of them for a run.

Keys that are not Stable-Baselines3 constructor arguments (:data:`TRAINER_KEYS`):

* ``n_envs``: shared trainer: games in the batched VecEnv (each game gives one row per lab);
  independent trainer: games in the learning lab's single-agent VecEnv.
* ``rounds``: independent trainer: rounds of alternating best responses.
* ``check_fraction``: independent trainer: the convergence check's PPO best response (race_v0)
  trains for this fraction of one round's budget.
* ``focal_env``: independent trainer: ``"batched"`` (the focal form of GameVecEnv over the batched core) or
  ``"gymnasium"`` (DummyVecEnv of Gymnasium FocalLabEnv copies; same episodes, slower).
* ``policy``: the SB3 policy class name.
* ``action_param``: ``"auto"`` (logits for PPO and A2C on Box actions, the env's own space
  otherwise), ``"logits"`` or ``"direct"`` (:mod:`labrace.agents.parameterisation`).
* ``log_std_final``: anneal a Gaussian policy's log-std linearly to this value over training (off
  by default: measured on precipice_v0 n=5, it froze the mean before it converged).
* ``train_overrides``: config fields changed for the training game only (precipice_v0 and
  dsair_v0: ``expected_rewards``); evaluation plays the game as configured.
* ``reward_scale``: the learner sees every reward times this (default 1): the same game in other
  units, so that value targets stay near 1 (dsair_v0's prize is 10^4).
* ``team_reward``: every lab learns from the mean reward of its game's labs (welfare / N) instead of
  its own (default off): the labs learn as one team (the studies' team lens).
* ``timesteps``: the env's default budget for ``train.py train`` (agent-steps; independent: per lab).

How they were checked (2 CPU cores, seed 0):

* precipice_v0 (shared PPO, 200k steps, about a minute on one core): over 8 cases x 5 seeds
  (results/canonical/learned.md), 38 of 40 seeds within 0.05 of the Nash disaster probability
  with exploitability <= 0.005 (none, private) or inside the equilibrium range with
  exploitability <= 0.03 (public); the two misses: 0.051 from Nash (n=2 e=0.7 private) and 0.410
  against the range's 0.417 (n=2 e=0.5 public, within the evaluation's standard error of 0.008).
* race_v0 baseline (``python train.py``, shared PPO in logits, 300k agent-steps): a safe race
  (allocation about (0.34, 0.55, 0.12); a winner in 89% of episodes, catastrophe 11%) that no
  fixed allocation, baseline or 30k-step PPO best response beats (exploitability 0.00, 95% CI up to
  0.16 at 500 episodes). The learning tests in ``tests/agents/test_learning.py`` (accident_doves,
  30k steps) drive catastrophes far below ``random``'s.
* A2C, SAC and DQN: checked end to end at small budgets (before the logits parameterisation: 60k
  steps reached the coordinated outcome in baseline and accident_doves); not re-tuned since.
* dsair_v0 (shared PPO, 300k agent-steps, rewards in prize units, undiscounted, learning rate
  1e-4, expected disaster losses): in the paper's game (``switching=False``) it selects the
  risk-dominant equilibrium at p_r 0.2, 0.6 and 0.9 (5 of 5 seeds each); with switching it races
  (UNSAFE), exploitable by at most 102 per episode (1% of the prize; SAFE in the last round of a
  tied race), where all-SAFE is no equilibrium (results/canonical/learned.md).
* commons_v0 uses the defaults (results/canonical/learned.md shows where it lands).
"""

from __future__ import annotations

import copy
import math
from typing import Any

from labrace.envs.core import check_bool, check_choice, check_float, check_int

#: keys read by labrace's trainers rather than passed to the SB3 algorithm
TRAINER_KEYS = ("n_envs", "rounds", "check_fraction", "focal_env", "policy", "action_param", "log_std_final", "train_overrides", "reward_scale", "team_reward", "timesteps")

_NET = {"net_arch": [64, 64]}

#: ``train.py train``'s budget where neither ``--timesteps`` nor the env's entry (``timesteps``) sets
#: one (shared and simultaneous: agent-steps over all labs; independent: per lab over all rounds)
DEFAULT_TIMESTEPS = {"shared": 300_000, "independent": 100_000, "simultaneous": 300_000}

#: precipice_v0's PPO settings, the same for every trainer (the reasons: HYPERPARAMS["precipice_v0"])
_PRECIPICE_PPO = {
    "timesteps": 200_000,
    "n_steps": 16,
    "batch_size": 256,
    "n_epochs": 20,
    "train_overrides": {"expected_rewards": True},
    "policy_kwargs": {"net_arch": [64, 64], "log_std_init": -1.0},
}
#: dsair_v0's PPO settings, the same for every trainer (the reasons: HYPERPARAMS["dsair_v0"])
_DSAIR_PPO = {
    "timesteps": 300_000,
    "learning_rate": 1e-4,
    "reward_scale": 1e-4,
    "gamma": 1.0,
    "gae_lambda": 1.0,
    "train_overrides": {"expected_rewards": True},
}

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
    # race_v0 episodes end on terminal rewards after up to max_steps=50 steps. In logits the
    # allocation moves slower than a clipped Gaussian's did: at the default 3e-4 the baseline's
    # shared policy had barely left the equal split after 300k steps (return 0.20, exploitable by
    # 1.19 per episode by cooperating); at 1e-3 it settles on a safe race (0.34, 0.55, 0.12) that no
    # fixed allocation or baseline beats by more than 0.02; at 3e-3 it overshoots (exploitable by 0.40).
    "race_v0": {"ppo": {"shared": {"learning_rate": 1e-3}}},
    # One-step episodes whose payoffs are flat near the equilibrium (DESIGN.md §5). Chosen by
    # measurement (issue 15; results/canonical/learned.md): logits (the "auto" default), a
    # smaller initial noise (log_std_init -1: the mean otherwise settles on the equilibrium of the
    # game played with noise), no entropy bonus, many small updates (n_steps 16: 16 games x N labs
    # x 16 steps per update, batches of 256; at n_steps 128 the same budget makes 8x fewer updates
    # and stops short), 20 epochs per update (at 10, n=3 e=0.6 mu=1.3 stopped 0.05-0.08 short of
    # the Nash safety in 3 of 5 seeds; at 20 all three came within 0.02), and expected rewards
    # while training (the same equilibria without the variance of the disaster draw).
    "precipice_v0": {"ppo": {"shared": _PRECIPICE_PPO, "independent": _PRECIPICE_PPO}},
    # Races of up to 100 rounds whose payoff comes at the end: a prize of 10^4, kept or lost at once.
    # Measured (issue 15): in the prize's own units PPO's value loss swamps the policy gradient
    # (clipped to a norm of 0.5 together) and the first round's cheaper UNSAFE play wins; at p_r 0.9
    # without switching it then picked all-UNSAFE (513 per lab) over all-SAFE (5,100). With rewards in
    # prize units (reward_scale 1e-4), undiscounted returns (the paper's payoffs are totals; a
    # discount favours the faster, UNSAFE race) and expected disaster losses it selects SAFE there.
    # At p_r 0.6 (UNSAFE risk-dominant; all-SAFE is an equilibrium too, with the larger payoff) the
    # default learning rate 3e-4 drifted to all-SAFE in 2 of 3 seeds; at 1e-4 the policy follows the
    # expected gradient from the even start and selects UNSAFE in 5 of 5 (the same budget, 300k).
    "dsair_v0": {"ppo": {"shared": _DSAIR_PPO, "independent": _DSAIR_PPO}},
}


def get_hyperparams(env: str, algo: str, trainer: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The resolved hyperparameters (a fresh dict): defaults, then the env's entry, then ``overrides``."""
    defaults = HYPERPARAMS["default"]
    if trainer == "simultaneous":  # one model per lab on the shared trainer's rows: the shared settings
        trainer = "shared"
    if algo not in defaults:
        raise ValueError(f"unknown algorithm {algo!r}; valid algorithms are {sorted(defaults)}")
    if trainer not in defaults[algo]:
        raise ValueError(f"unknown trainer {trainer!r}; valid trainers are {sorted(defaults[algo])}")
    params = copy.deepcopy(defaults[algo][trainer])
    params.update(copy.deepcopy(HYPERPARAMS.get(env, {}).get(algo, {}).get(trainer, {})))
    params.update(copy.deepcopy(overrides or {}))
    return params


def resolved_timesteps(params: dict[str, Any], trainer: str) -> int:
    """The training budget of resolved hyperparameters ``params`` (:func:`get_hyperparams`): their
    ``timesteps`` (the env's validated budget), else :data:`DEFAULT_TIMESTEPS` of the trainer."""
    return int(params.get("timesteps", DEFAULT_TIMESTEPS[trainer]))


def split_hyperparams(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(trainer settings, SB3 constructor keyword arguments)."""
    trainer = {k: v for k, v in params.items() if k in TRAINER_KEYS}
    algo = {k: v for k, v in params.items() if k not in TRAINER_KEYS}
    return trainer, algo


# --------------------------------------------------------------------------------------------
# Allowed values: every hyperparameter is checked before a run folder is made (train.py --hp)
# --------------------------------------------------------------------------------------------

_BIG = 10**12


def _int(low: int, high: int = _BIG):
    return lambda name, value: check_int(name, value, low, high)


def _float(low: float, high: float = math.inf, low_open: bool = False, high_open: bool = False):
    return lambda name, value: check_float(name, value, low, high, low_open=low_open, high_open=high_open)


def _choice(*choices: str):
    return lambda name, value: check_choice(name, value, choices)


def _optional(rule):
    return lambda name, value: None if value is None else rule(name, value)


def _mapping(name: str, value: Any) -> None:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"{name} must be a dict of named settings, e.g. {{'net_arch': [64, 64]}}; got {value!r}")


def _net_arch(name: str, value: Any) -> None:
    layers = value.get("pi", []) + value.get("vf", []) + value.get("qf", []) if isinstance(value, dict) else value
    if not isinstance(layers, (list, tuple)) or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 65_536 for n in layers):
        raise ValueError(f"{name} must be a list of layer widths (integers in [1, 65536]) or a dict of such lists; got {value!r}")


def _ent_coef(name: str, value: Any) -> None:
    if isinstance(value, str) and (value == "auto" or value.startswith("auto_")):  # SAC's learned coefficient
        return
    check_float(name, value, 0.0)


def _train_freq(name: str, value: Any) -> None:
    if isinstance(value, tuple) and len(value) == 2:
        check_int(f"{name}[0]", value[0], 1, _BIG)
        check_choice(f"{name}[1]", value[1], ("step", "episode"))
        return
    check_int(name, value, 1, _BIG)


#: the allowed values of every hyperparameter labrace's trainers set or read; other keyword
#: arguments of an SB3 algorithm are passed through and checked by building the model once
#: (:func:`labrace.agents.trainers.check_trainer_settings`)
RULES: dict[str, Any] = {
    # labrace's trainer keys (TRAINER_KEYS)
    "n_envs": _int(1, 65_536),
    "rounds": _int(1, 10_000),
    "check_fraction": _float(0.0, 1.0, low_open=True),
    "focal_env": _choice("batched", "gymnasium"),
    "policy": _choice("MlpPolicy"),  # labrace observations are flat vectors
    "action_param": _choice("auto", "logits", "direct"),
    "log_std_final": _optional(_float(-20.0, 2.0)),
    "reward_scale": _float(0.0, 1e6, low_open=True),
    "team_reward": check_bool,
    "train_overrides": _mapping,  # its fields are checked against the env's config by the trainer
    "timesteps": _int(1, _BIG),
    # Stable-Baselines3's constructor arguments
    "learning_rate": _float(0.0, 1.0, low_open=True),
    "n_steps": _int(1, 10_000_000),
    "batch_size": _int(1, 10_000_000),
    "n_epochs": _int(1, 10_000),
    "gamma": _float(0.0, 1.0),
    "gae_lambda": _float(0.0, 1.0),
    "clip_range": _float(0.0, 10.0, low_open=True),
    "clip_range_vf": _optional(_float(0.0, low_open=True)),
    "normalize_advantage": check_bool,
    "ent_coef": _ent_coef,
    "vf_coef": _float(0.0),
    "max_grad_norm": _float(0.0, low_open=True),
    "use_sde": check_bool,
    "sde_sample_freq": _int(-1, _BIG),
    "target_kl": _optional(_float(0.0, low_open=True)),
    "stats_window_size": _int(1, 1_000_000),
    "rms_prop_eps": _float(0.0, low_open=True),
    "use_rms_prop": check_bool,
    "buffer_size": _int(1, 1_000_000_000),
    "learning_starts": _int(0, _BIG),
    "tau": _float(0.0, 1.0, low_open=True),
    "train_freq": _train_freq,
    "gradient_steps": _int(-1, 1_000_000),
    "target_update_interval": _int(1, _BIG),
    "target_entropy": lambda name, value: None if value == "auto" else check_float(name, value),
    "exploration_fraction": _float(0.0, 1.0),
    "exploration_initial_eps": _float(0.0, 1.0),
    "exploration_final_eps": _float(0.0, 1.0),
    "optimize_memory_usage": check_bool,
    "policy_kwargs": _mapping,
}

#: the policy_kwargs labrace's settings use, checked like the others
POLICY_KWARGS_RULES: dict[str, Any] = {
    "net_arch": _net_arch,
    "log_std_init": _float(-20.0, 2.0),
    "ortho_init": check_bool,
    "squash_output": check_bool,
}


def check_hyperparams(algo: str, params: dict[str, Any]) -> None:
    """Raise ValueError naming the first hyperparameter outside its allowed values (see :data:`RULES`)."""
    for name, value in params.items():
        rule = RULES.get(name)
        if rule is not None:
            rule(name, value)
    if algo == "ppo" and params.get("batch_size", 2) < 2:
        raise ValueError(f"batch_size must be an integer in [2, 10000000] for ppo (advantages are normalised per batch); got {params['batch_size']}")
    for name, value in (params.get("policy_kwargs") or {}).items():
        rule = POLICY_KWARGS_RULES.get(name)
        if rule is not None:
            rule(f"policy_kwargs[{name!r}]", value)
