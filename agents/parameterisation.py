"""Action parameterisations: what a learner outputs, and how it becomes an environment action.

Gaussian policies (SB3's PPO and A2C) learn badly on a bounded ``Box(0, 1)`` (DESIGN.md §5,
measured on ``precipice_v0``): the Gaussian starts at mean 0 with sigma 1, so half of its samples
clip to the bound, the clipped samples all earn the same, the mean drifts past the bound and the
gradient vanishes. A policy is trapped at "always safe" even as a best response to the exact
equilibrium. So learners act in **unbounded logits**:

* an allocation (``race_v0``'s speed, safety and cooperation shares: the components an env module
  lists in ``SIMPLEX_ACTION_GROUPS``) is a softmax of its logits;
* every other component of a ``Box(0, 1)`` action (a safety level, a pivotal-act, commitment or
  intention score) is a sigmoid of its logit.

The environment's ``Box(0, 1)`` stays the contract of every API: only the trainer's VecEnv and
:class:`~labrace.agents.policy.SB3Policy` see logits, and each saved policy records its
parameterisation, so a loaded policy acts in the environment's space.

``"direct"`` keeps the environment's own space: discrete actions, and SAC, whose tanh-squashed
Gaussian is already bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

PARAMETERISATIONS = ("logits", "direct")
#: SB3 needs a bounded Box; at +-10 a sigmoid is within 5e-5 of its limits, so the bound is never
#: where a policy learns (and a softmax reaches any allocation to within e^-20)
LOGIT_BOUND = 10.0


@dataclass(frozen=True)
class LogitActions:
    """Unbounded logits → a ``Box(0, 1)`` action: softmax per simplex group, sigmoid elsewhere."""

    env_space: spaces.Box
    simplex_groups: tuple[tuple[int, int], ...] = ()

    name = "logits"

    @property
    def space(self) -> spaces.Box:
        """The learner's action space: the same shape, in logits (bounded by ``LOGIT_BOUND``, as SB3 needs)."""
        return spaces.Box(-LOGIT_BOUND, LOGIT_BOUND, self.env_space.shape, dtype=np.float32)

    def to_env(self, logits: np.ndarray) -> np.ndarray:
        """(M, D) logits → (M, D) float32 actions in the environment's ``Box(0, 1)``."""
        logits = np.clip(np.asarray(logits, dtype=np.float64), -LOGIT_BOUND, LOGIT_BOUND)
        actions = 0.5 * (1.0 + np.tanh(0.5 * logits))  # the sigmoid, without overflow warnings
        for start, stop in self.simplex_groups:
            group = logits[..., start:stop]
            weights = np.exp(group - group.max(axis=-1, keepdims=True))
            actions[..., start:stop] = weights / weights.sum(axis=-1, keepdims=True)
        return actions.astype(np.float32)


def default_parameterisation(algo: str, game: Any) -> str:
    """``"logits"`` for a Gaussian learner (PPO, A2C) on a Box action space, else ``"direct"``."""
    return "logits" if algo in ("ppo", "a2c") and isinstance(game.action_space, spaces.Box) else "direct"


def make_parameterisation(name: str | None, game: Any) -> LogitActions | None:
    """The action transform ``name`` for ``game`` (None: the environment's own space)."""
    if name is None or name == "direct":
        return None
    if name != "logits":
        raise ValueError(f"action_param must be one of {list(PARAMETERISATIONS)}; got {name!r}")
    space = game.action_space
    if not isinstance(space, spaces.Box) or np.any(space.low != 0.0) or np.any(space.high != 1.0):
        raise ValueError(f"action_param='logits' needs a Box(0, 1) action space; {game.name} here has {space} (use action_param='direct')")
    import importlib

    module = importlib.import_module(type(game).__module__)
    groups = tuple(getattr(module, "SIMPLEX_ACTION_GROUPS", ()))
    return LogitActions(space, groups)
