"""The one policy interface of labrace: an observation batch in, an action batch out."""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

import numpy as np


class Policy(abc.ABC):
    """A batched policy for one environment config.

    ``act(observations)`` maps observations of shape (M, obs_dim) (M labs, from any games) to
    actions of shape (M,) + action_space.shape in that environment's action space. Scripted
    baselines and learned models implement the same interface, so evaluation, cross-play and the
    Gymnasium single-agent view's background labs treat them alike.
    """

    name: str = "policy"

    @abc.abstractmethod
    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Actions for a batch of observations; ``rng`` drives any randomness."""

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        return self.act(observations)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class CallablePolicy(Policy):
    """Wraps a plain function ``observations -> actions`` as a :class:`Policy`."""

    def __init__(self, fn: Callable[[np.ndarray], Any], name: str | None = None) -> None:
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "callable")

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.asarray(self.fn(observations))


def as_policy(obj: Any) -> Policy:
    if isinstance(obj, Policy):
        return obj
    if callable(obj):
        return CallablePolicy(obj)
    raise TypeError(f"a policy must be a labrace.agents.Policy or a callable observations -> actions; got {obj!r}")
