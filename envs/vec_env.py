"""Stable-Baselines3 ``VecEnv`` over a batched core: every lab a row, or one focal lab per game.

* ``GameVecEnv(game, B)``: B games x N labs = B*N rows, one parameter-shared policy. Row
  ``b * N + i`` is lab ``i`` of game ``b``; every lab sees its own type in its observation, so
  one shared policy can condition on it.
* ``GameVecEnv(game, B, focal_lab=i, background=...)``: B rows, the focal lab ``i`` of each game;
  the other labs are played by background policies (as in the Gymnasium single-agent view
  ``FocalLabEnv``, of which this is the batched form: one ``act`` call per distinct background
  policy per step for all games). The independent trainer learns here.
* ``action_transform``: the rows act in another space (``action_transform.space``), mapped to the
  game's actions by ``action_transform.to_env`` before the step: trainers use it for unbounded
  logits (:mod:`labrace.agents.parameterisation`); the game's own space is the default.

All labs of a game finish together; the VecEnv then stores each of the game's rows'
``terminal_observation`` (and ``TimeLimit.truncated`` for time-outs) in its info dict, together
with the lab's info keys (outcome, winner, …), and resets that game (SB3's auto-reset contract).

All games share one random stream: ``seed(s)`` (or ``seed=`` at construction) makes the whole
batch reproducible, and with one game it reproduces the PettingZoo env (every lab a row) or the
``FocalLabEnv`` (focal form) seeded with ``s`` exactly. ``get_attr``/``set_attr``/``env_method``
resolve names on the game (``config``, ``num_agents``, …) and then on this VecEnv, and return one
entry per requested row: rows share one game object; ``env_method("render")`` renders each
row's game. ``render()`` shows every game: text tables (``ansi``, printed for ``human``) or the
tiled pictures (``rgb_array``). No rule of any game is implemented here.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium.utils import seeding
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvStepReturn

from labrace.envs.adapters import GameView, check_render_mode, group_by_policy, policy_actions, render_game
from labrace.envs.core import BatchedGame, check_int


class GameVecEnv(GameView, VecEnv):
    """SB3 VecEnv of ``num_games`` games of ``game``: B*N rows, or B focal rows (see the module)."""

    def __init__(
        self,
        game: BatchedGame,
        num_games: int,
        seed: int | None = None,
        render_mode: str | None = None,
        focal_lab: int | None = None,
        background: Any = None,
        action_transform: Any = None,
    ) -> None:
        self.game = game
        self.num_games = check_int("num_envs", num_games, 1, 1_000_000)
        self.num_labs = game.num_agents
        self.focal_lab = None if focal_lab is None else check_int("focal_lab", focal_lab, 0, game.num_agents - 1)
        self._background_groups: list[tuple[Any, list[int]]] = []
        if self.focal_lab is not None:
            from labrace.agents.baselines import background_policies  # agents build on envs

            others = [i for i in range(self.num_labs) if i != self.focal_lab]
            policies = background_policies(game, game.background if background is None else background, len(others))
            self._background_groups = group_by_policy(others, policies)
        self.rows_per_game = self.num_labs if self.focal_lab is None else 1
        self.render_mode = check_render_mode(game, render_mode)  # read by VecEnv.__init__
        # a learner may act in another space (unbounded logits: labrace.agents.parameterisation)
        self.action_transform = action_transform
        action_space = game.action_space if action_transform is None else action_transform.space
        super().__init__(self.num_games * self.rows_per_game, game.observation_space, action_space)
        self._rng, _ = seeding.np_random(seed)
        self._state: Any = None
        self._actions: np.ndarray | None = None

    # ---- rows <-> (games, labs) --------------------------------------------------------------

    def _rows(self, values: np.ndarray) -> np.ndarray:
        """(B, N, ...) per-lab values → this VecEnv's rows: all labs, or the focal lab."""
        if self.focal_lab is None:
            return values.reshape((self.num_envs,) + values.shape[2:])
        return values[:, self.focal_lab]

    def _joint_actions(self, actions: np.ndarray) -> np.ndarray:
        """Row actions → every lab's action (B, N, ...), background labs asked for theirs."""
        shape = (self.num_games, self.num_labs) + tuple(self.action_space.shape)
        if self.focal_lab is None:
            return actions.reshape(shape)
        joint = np.empty(shape, dtype=actions.dtype if actions.dtype.kind in "iuf" else object)  # the check names a non-number
        joint[:, self.focal_lab] = actions
        observations = self.game.observe(self._state)  # (B, N, D)
        for policy, labs in self._background_groups:
            acted = policy_actions(policy, observations[:, labs].reshape(self.num_games * len(labs), -1), self._rng)
            joint[:, labs] = np.asarray(acted).reshape((self.num_games, len(labs)) + shape[2:])
        return joint

    def _rows_of_game(self, game: int) -> list[tuple[int, int]]:
        """(row, lab) of every row of game ``game``."""
        if self.focal_lab is None:
            return [(game * self.num_labs + lab, lab) for lab in range(self.num_labs)]
        return [(game, self.focal_lab)]

    def _lab_of_row(self, row: int) -> tuple[int, int]:
        return (row // self.num_labs, row % self.num_labs) if self.focal_lab is None else (row, self.focal_lab)

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
        if self.action_transform is not None:
            actions = self.action_transform.to_env(actions)
        actions = self.game.check_actions(self._joint_actions(actions), self.num_games)  # bad background actions fail too
        result = self.game.step(self._state, actions, self._rng)
        observations = self.game.observe(self._state)  # (B, N, D): terminal observations of finished games
        finished = result.terminated | result.truncated  # (B,)
        rewards = self._rows(result.rewards).astype(np.float32)
        dones = np.repeat(finished, self.rows_per_game)
        # SB3 reads an info dict per row (VecMonitor, PPO's bootstrapping of time-outs): rows whose
        # episode goes on get an empty one; only finished games' rows get the lab's info keys
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        if finished.any():
            games = np.flatnonzero(finished)
            time_limit = (result.truncated & ~result.terminated).tolist()
            for b in games.tolist():  # infos are read before the reset overwrites the finished games
                lab_infos = self.game.agent_infos(self._state, result, b)
                for row, lab in self._rows_of_game(b):
                    info = lab_infos[lab]
                    info["terminal_observation"] = observations[b, lab]
                    info["TimeLimit.truncated"] = time_limit[b]
                    infos[row] = info
            fresh = self.game.reset_where(self._state, finished, self._rng)
            observations = observations.copy()  # (the terminal observations above are views of it)
            observations[games] = self.game.observe(fresh)
        return self._rows(observations), rewards, dones, infos

    def close(self) -> None:
        pass

    def render(self, mode: str | None = None) -> Any:
        """Every game at once: ``ansi`` returns their text tables (one block per game), ``human``
        prints them, ``rgb_array`` tiles their pictures (SB3's ``VecEnv.render``)."""
        if self.render_mode in ("ansi", "human") and mode in (None, self.render_mode):
            text = "\n\n".join(self._render_text(b) for b in range(self.num_games))
            if self.render_mode == "human":
                print(text)
                return None
            return text
        if self.render_mode is not None and mode in (None, self.render_mode):
            self._require_state()
        return super().render(mode)  # rgb_array, and SB3's warnings for a missing or other mode

    def _render_text(self, game: int) -> str:
        self._require_state()
        table = self.game.render_ansi(self._state, game)
        return table if self.num_games == 1 else f"game {game}\n{table}"

    def _require_state(self) -> None:
        if self._state is None:
            raise RuntimeError(f"{self.game.name}: call reset() before render()")

    def get_images(self) -> Sequence[np.ndarray | None]:
        if self._state is None:
            return [None] * self.num_envs
        pictures = [self.game.render_rgb(self._state, b) for b in range(self.num_games)]
        return [pictures[self._lab_of_row(r)[0]] for r in range(self.num_envs)]

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
        if method_name == "render":  # each row's own game, as a sub-env renders itself
            return [self._render_row(row) for row in self._get_indices(indices)]
        method = getattr(self._owner(method_name), method_name)
        return [method(*method_args, **method_kwargs) for _ in self._get_indices(indices)]

    def _render_row(self, row: int) -> Any:
        game, _ = self._lab_of_row(row)
        return render_game(self.game, self._state, self.render_mode, game)

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._get_indices(indices)]

    # ---- saving and restoring the batch (exact resume of training) ----------------------------

    def get_state(self) -> dict[str, Any]:
        """A copy of every game's state and of the random stream: :meth:`set_state` restores it, so
        that training resumed from a checkpoint continues exactly as an uninterrupted run."""
        return {"games": copy.deepcopy(self._state), "rng": copy.deepcopy(self._rng.bit_generator.state)}

    def set_state(self, saved: dict[str, Any]) -> None:
        self._state = copy.deepcopy(saved["games"])
        self._rng.bit_generator.state = copy.deepcopy(saved["rng"])
        self._reset_seeds()  # a seed set since (SB3's load seeds the env) must not reset the games
