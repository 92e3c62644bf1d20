"""Stable-Baselines3 ``VecEnv`` over a batched core: B games x N labs = B*N rows, one shared policy.

Row ``b * N + i`` is lab ``i`` of game ``b``. Every lab sees its own type in its observation, so
one parameter-shared policy can condition on it. All N rows of a game finish together; the VecEnv
then stores each row's ``terminal_observation`` (and ``TimeLimit.truncated`` for time-outs) in its
info dict, together with the game's outcome keys, and resets that game (SB3's auto-reset contract).

All games share one random stream: ``seed(s)`` (or ``seed=`` at construction) makes the whole
batch reproducible, and with one game it reproduces the PettingZoo env seeded with ``s`` exactly.
``get_attr``/``set_attr``/``env_method`` resolve names on the game (``config``, ``num_agents``, …)
and then on this VecEnv, and return one entry per requested row: rows share one game object.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from labrace.envs.adapters import GameView, check_render_mode
from labrace.envs.core import BatchedGame, check_int


class GameVecEnv(GameView, VecEnv):
    """SB3 VecEnv of ``num_games`` games of ``game`` (``num_envs = num_games * game.num_agents``)."""

    def __init__(self, game: BatchedGame, num_games: int, seed: int | None = None, render_mode: str | None = None) -> None:
        self.game = game
        self.num_games = check_int("num_envs", num_games, 1, 1_000_000)
        self.num_labs = game.num_agents
        self.render_mode = check_render_mode(game, render_mode)  # read by VecEnv.__init__
        super().__init__(self.num_games * self.num_labs, game.observation_space, game.action_space)
        self._rng, _ = seeding.np_random(seed)
        self._state: Any = None
        self._actions: np.ndarray | None = None

    # ---- the VecEnv contract --------------------------------------------------------------

    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:  # one stream for the batch: the first row's seed
            self._rng, _ = seeding.np_random(self._seeds[0])
        self._reset_seeds()
        self._reset_options()
        self._state = self.game.reset(self._rng, self.num_games)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self._rows(self.game.observe(self._state))

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._state is None:
            raise RuntimeError(f"{self.game.name}: call reset() before step()")
        actions = np.asarray(self._actions)
        expected = (self.num_envs,) + tuple(self.action_space.shape)
        if actions.shape != expected:
            raise ValueError(f"{self.game.name} VecEnv actions must have shape {expected}; got shape {actions.shape}")
        actions = self.game.check_actions(actions.reshape((self.num_games, self.num_labs) + actions.shape[1:]), self.num_games)
        result = self.game.step(self._state, actions, self._rng)
        observations = self.game.observe(self._state)  # (B, N, D): terminal observations of finished games
        finished = result.terminated | result.truncated  # (B,)
        rewards = result.rewards.reshape(-1).astype(np.float32)
        dones = np.repeat(finished, self.num_labs)
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if finished.any():
            games = np.flatnonzero(finished)
            for b in games:  # few games end per step; infos are read before the reset overwrites them
                time_limit = bool(result.truncated[b] and not result.terminated[b])
                for i, info in enumerate(self.game.agent_infos(self._state, result, int(b))):
                    info["terminal_observation"] = observations[b, i]
                    info["TimeLimit.truncated"] = time_limit
                    infos[b * self.num_labs + i] = info
            fresh = self.game.reset_where(self._state, finished, self._rng)
            observations = observations.copy()
            observations[games] = self.game.observe(fresh)
        return self._rows(observations), rewards, dones, infos

    def _rows(self, observations: np.ndarray) -> np.ndarray:
        return observations.reshape(self.num_envs, -1)

    def close(self) -> None:
        pass

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self._state is None:
            return [None] * self.num_envs
        pictures = [self.game.render_rgb(self._state, b) for b in range(self.num_games)]
        return [pictures[r // self.num_labs] for r in range(self.num_envs)]

    def _owner(self, name: str) -> Any:
        return self.game if hasattr(self.game, name) else self

    def has_attr(self, attr_name: str) -> bool:
        return hasattr(self.game, attr_name) or hasattr(self, attr_name)

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self._owner(attr_name), attr_name)
        return [value for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        rows = list(self._get_indices(indices))
        if len(rows) != self.num_envs:
            raise ValueError(f"{self.game.name} VecEnv rows share one game; set_attr applies to all rows (indices=None)")
        setattr(self._owner(attr_name), attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None, **method_kwargs: Any) -> list[Any]:
        method = getattr(self._owner(method_name), method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
