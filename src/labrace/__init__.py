"""labrace: multi-agent reinforcement-learning environments of the AI race.

Importing ``labrace`` registers the Gymnasium single-agent views (``labrace/Race-v0``, …).
Gymnasium 1.x has no plugin entry points, so code that can only pass an id uses the
module-prefix form ``gymnasium.make("labrace:labrace/Race-v0")``, which imports labrace first.
"""

from __future__ import annotations

from typing import Any

import gymnasium

from labrace.envs import ENVIRONMENTS, env, get_entry, load, make_game, parallel_env

__version__ = "0.1.0"


def make_vec(name: str, num_envs: int = 64, seed: int | None = None, scenario: str = "baseline", render_mode: str | None = None, **overrides: Any):
    """Stable-Baselines3 VecEnv of ``num_envs`` games of environment ``name``.

    Each game contributes one row per lab, so the VecEnv's ``num_envs`` is ``num_envs * N``; one
    policy is shared by every lab (parameter sharing), each lab seeing its own type. Needs the
    ``train`` extra (stable-baselines3).
    """
    from labrace.envs.vec_env import GameVecEnv

    return GameVecEnv(make_game(name, scenario, **overrides), num_envs, seed=seed, render_mode=render_mode)


def _register_gymnasium_ids() -> None:
    for entry in ENVIRONMENTS.values():
        if entry.gym_id not in gymnasium.registry:
            gymnasium.register(id=entry.gym_id, entry_point=f"labrace.envs.{entry.name}:gym_env")


_register_gymnasium_ids()

__all__ = ["ENVIRONMENTS", "env", "get_entry", "load", "make_game", "make_vec", "parallel_env", "__version__"]
