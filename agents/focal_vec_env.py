"""The batched single-agent view the independent trainer learns in (a Stable-Baselines3 VecEnv).

:class:`FocalVecEnv` is the batched counterpart of ``labrace.envs.adapters.FocalLabEnv``: B games
of a batched core, one row per game for the focal lab, the other labs played by background
policies with one ``act`` call per distinct policy per step for all games. It needs SB3 (the
``train`` extra), so ``labrace.agents`` does not import it. It belongs beside ``GameVecEnv`` in
``labrace.envs.vec_env``; it lives here until it moves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import VecEnv

from labrace.agents.baselines import background_policies
from labrace.envs.adapters import policy_actions
from labrace.envs.core import check_int


class FocalVecEnv(VecEnv):
    """SB3 VecEnv of B games of a batched core: row b is the focal lab of game b.

    The batched counterpart of ``labrace.envs.adapters.FocalLabEnv`` (same call order on one
    random stream, so with one game and the same seed it plays the same episodes): each step
    asks every distinct background policy once for the actions of all its labs in all games,
    validates the joint action and calls the game's batched step. Finished games are reset in
    place; their rows carry ``terminal_observation``, ``TimeLimit.truncated`` and the focal lab's
    info dict (outcome, winner, …). It implements no rule of any game.
    """

    def __init__(self, game: Any, focal_lab: int, background: Any, num_games: int, seed: int | None = None) -> None:
        self.game = game
        self.focal_lab = check_int("focal_lab", focal_lab, 0, game.num_agents - 1)
        self.num_games = check_int("num_envs", num_games, 1, 1_000_000)
        self.render_mode = None
        super().__init__(self.num_games, game.observation_space, game.action_space)
        others = [i for i in range(game.num_agents) if i != self.focal_lab]
        policies = background_policies(game, game.background if background is None else background, len(others))
        self._groups: list[tuple[Any, list[int]]] = []
        for lab, policy in zip(others, policies):
            for known, labs in self._groups:
                if known is policy:
                    labs.append(lab)
                    break
            else:
                self._groups.append((policy, [lab]))
        self._rng, _ = seeding.np_random(seed)
        self._state: Any = None
        self._actions: np.ndarray | None = None

    def reset(self) -> np.ndarray:
        if self._seeds[0] is not None:
            self._rng, _ = seeding.np_random(self._seeds[0])
        self._reset_seeds()
        self._reset_options()
        self._state = self.game.reset(self._rng, self.num_games)
        self.reset_infos = [{} for _ in range(self.num_envs)]
        return self.game.observe(self._state)[:, self.focal_lab]

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self):
        if self._state is None:
            raise RuntimeError(f"{self.game.name}: call reset() before step()")
        B, N, shape = self.num_games, self.game.num_agents, tuple(self.action_space.shape)
        focal = np.asarray(self._actions).reshape((B,) + shape)
        observations = self.game.observe(self._state)  # (B, N, D)
        actions = np.empty((B, N) + shape, dtype=self.action_space.dtype)
        actions[:, self.focal_lab] = focal
        for policy, labs in self._groups:
            acted = np.asarray(policy_actions(policy, observations[:, labs].reshape(B * len(labs), -1), self._rng))
            actions[:, labs] = acted.reshape((B, len(labs)) + shape)
        actions = self.game.check_actions(actions, B)
        result = self.game.step(self._state, actions, self._rng)
        observations = self.game.observe(self._state)[:, self.focal_lab]  # (B, D)
        finished = result.terminated | result.truncated
        infos: list[dict[str, Any]] = [{} for _ in range(B)]
        if finished.any():
            games = np.flatnonzero(finished)
            for b in games:
                info = self.game.agent_infos(self._state, result, int(b))[self.focal_lab]
                info["terminal_observation"] = observations[b]
                info["TimeLimit.truncated"] = bool(result.truncated[b] and not result.terminated[b])
                infos[b] = info
            fresh = self.game.reset_where(self._state, finished, self._rng)
            observations = observations.copy()
            observations[games] = self.game.observe(fresh)[:, self.focal_lab]
        return observations, result.rewards[:, self.focal_lab].astype(np.float32), finished.copy(), infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
        owner = self.game if hasattr(self.game, attr_name) else self
        return [getattr(owner, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
        setattr(self.game if hasattr(self.game, attr_name) else self, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: Any = None, **method_kwargs: Any) -> list[Any]:
        owner = self.game if hasattr(self.game, method_name) else self
        return [getattr(owner, method_name)(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]
