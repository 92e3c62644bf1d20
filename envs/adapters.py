"""Thin API adapters over a :class:`~labrace.envs.core.BatchedGame`.

* :class:`ParallelGameEnv`: the PettingZoo ``ParallelEnv`` (one game, B = 1), the reference API.
* :func:`to_aec`: the PettingZoo AEC env through ``parallel_to_aec`` (with order enforcement).
* :class:`FocalLabEnv`: the Gymnasium single-agent view; one focal lab learns, background
  policies play the others.
* :func:`entry_points`: the ``make_config`` / ``make_game`` / ``parallel_env`` / ``env`` /
  ``gym_env`` functions every environment module exposes.

The Stable-Baselines3 ``VecEnv`` lives in :mod:`labrace.envs.vec_env` so that the core install
does not need SB3. None of these adapters implements a rule of any game: they convert between
dicts/scalars and the batched arrays, validate input and call the game's batched step.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from labrace.envs.core import BatchedGame, agent_names, resolve_config


def check_render_mode(game: BatchedGame, render_mode: str | None) -> str | None:
    modes = game.metadata["render_modes"]
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"render_mode must be None or one of {modes}; got {render_mode!r}")
    return render_mode


def render_game(game: BatchedGame, state: Any, render_mode: str | None, index: int = 0):
    """The ``render()`` of every adapter: text, picture, or the text printed for ``human``."""
    if render_mode is None:
        gymnasium.logger.warn(f"{game.name}: render() called without a render_mode; pass render_mode=... at creation")
        return None
    if state is None:
        raise RuntimeError(f"{game.name}: call reset() before render()")
    if render_mode == "ansi":
        return game.render_ansi(state, index)
    if render_mode == "rgb_array":
        return game.render_rgb(state, index)
    print(game.render_ansi(state, index))
    return None


class GameView:
    """What every adapter exposes of the game it drives (``game``, ``_state`` set by the adapter)."""

    game: BatchedGame
    _state: Any

    @property
    def config(self) -> Any:
        """The validated config of the game."""
        return self.game.config

    @property
    def batch_state(self) -> Any:
        """The underlying batched state, for analysis and tests."""
        return self._state


class ParallelGameEnv(GameView, ParallelEnv):
    """PettingZoo ParallelEnv over one game of a batched core (agents ``lab_0 … lab_{N-1}``)."""

    def __init__(self, game: BatchedGame, render_mode: str | None = None) -> None:
        self.game = game
        self.metadata = dict(game.metadata)
        self.render_mode = check_render_mode(game, render_mode)
        self.possible_agents = agent_names(game.num_agents)
        self.agents: list[str] = []
        self._live: set[str] = set()
        # one space object per agent, the same object on every call (PettingZoo's seeding contract)
        self._observation_spaces = {a: copy.deepcopy(game.observation_space) for a in self.possible_agents}
        self._action_spaces = {a: copy.deepcopy(game.action_space) for a in self.possible_agents}
        self._rng: np.random.Generator | None = None
        self._state: Any = None

    def observation_space(self, agent: str) -> gymnasium.spaces.Space:
        return self._observation_spaces[self._known(agent)]

    def action_space(self, agent: str) -> gymnasium.spaces.Space:
        return self._action_spaces[self._known(agent)]

    def _known(self, agent: str) -> str:
        if agent not in self._observation_spaces:
            raise ValueError(f"unknown agent {agent!r}; {self.game.name} has agents {self.possible_agents}")
        return agent

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None or self._rng is None:
            self._rng, _ = seeding.np_random(seed)
        self._state = self.game.reset(self._rng, 1)
        self.agents = self.possible_agents[:]
        self._live = set(self.agents)
        observations = self.game.observe(self._state)[0]
        infos = self.game.agent_infos(self._state, None, 0)
        if self.render_mode == "human":
            self.render()
        return (
            {a: observations[i] for i, a in enumerate(self.agents)},
            {a: infos[i] for i, a in enumerate(self.agents)},
        )

    def step(self, actions: Mapping[str, Any]):
        if not self.agents:
            raise RuntimeError(f"{self.game.name}: step() called on a finished episode (or before reset()); call reset()")
        if type(actions) is not dict and not isinstance(actions, Mapping):  # (a dict first: the ABC check is slow)
            raise TypeError(f"{self.game.name}: actions must be a dict {{agent: action}}; got {type(actions).__name__}")
        if actions.keys() != self._live:
            unknown = sorted(set(actions) - self._live)
            if unknown:
                raise ValueError(f"{self.game.name}: actions given for unknown or finished agents {unknown}; live agents are {self.agents}")
            missing = [a for a in self.agents if a not in actions]
            raise ValueError(f"{self.game.name}: no action given for agents {missing}; every live agent must act")
        batch = self.game.check_agent_actions(actions, self.agents)
        result = self.game.step(self._state, batch, self._rng)
        observations = self.game.observe(self._state)[0]
        infos = self.game.agent_infos(self._state, result, 0)
        terminated, truncated = bool(result.terminated[0]), bool(result.truncated[0])
        agents = self.agents
        out = (
            dict(zip(agents, observations)),
            dict(zip(agents, result.rewards[0].tolist())),
            dict.fromkeys(agents, terminated),
            dict.fromkeys(agents, truncated),
            dict(zip(agents, infos)),
        )
        if terminated or truncated:
            self.agents = []
            self._live = set()
        if self.render_mode == "human":
            self.render()
        return out

    def render(self):
        return render_game(self.game, self._state, self.render_mode)

    def close(self) -> None:
        pass


def to_aec(parallel: ParallelGameEnv):
    """The AEC form of a parallel env (PettingZoo's ``parallel_to_aec``, order-enforced)."""
    return parallel_to_aec(parallel)


class FocalLabEnv(GameView, gymnasium.Env):
    """Gymnasium single-agent view: one focal lab learns, background policies play the others.

    Background policies follow :class:`labrace.agents.Policy` (observation batch → action batch);
    plain callables with that signature work too. Labs that share one policy object are served by
    one batched call per step.
    """

    def __init__(self, game: BatchedGame, focal_lab: int = 0, background: Any = None, render_mode: str | None = None) -> None:
        from labrace.agents.baselines import background_policies  # agents build on envs, not vice versa
        from labrace.envs.core import check_int

        self.game = game
        self.focal_lab = check_int("focal_lab", focal_lab, 0, game.num_agents - 1)
        self.metadata = {"render_modes": list(game.metadata["render_modes"]), "render_fps": game.metadata["render_fps"]}
        self.render_mode = check_render_mode(game, render_mode)
        self.observation_space = game.observation_space
        self.action_space = game.action_space
        self.other_labs = [i for i in range(game.num_agents) if i != self.focal_lab]
        policies = background_policies(game, game.background if background is None else background, len(self.other_labs))
        self._groups = group_by_policy(self.other_labs, policies)
        self._state: Any = None
        self._done = True

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self._state = self.game.reset(self.np_random, 1)
        self._done = False
        if self.render_mode == "human":
            self.render()
        return self.game.observe(self._state)[0, self.focal_lab], self.game.agent_infos(self._state, None, 0)[self.focal_lab]

    def step(self, action: Any):
        if self._done:
            raise RuntimeError(f"{self.game.name}: step() called on a finished episode (or before reset()); call reset()")
        focal_action = self.game.check_agent_action(f"lab_{self.focal_lab}", action)
        observations = self.game.observe(self._state)[0]  # (N, obs_dim)
        actions = np.empty((1, self.game.num_agents) + focal_action.shape, dtype=focal_action.dtype)
        actions[0, self.focal_lab] = focal_action
        for policy, labs in self._groups:
            actions[0, labs] = policy_actions(policy, observations[labs], self.np_random)
        actions = self.game.check_actions(actions, 1)  # a bad background policy fails loudly too
        result = self.game.step(self._state, actions, self.np_random)
        terminated, truncated = bool(result.terminated[0]), bool(result.truncated[0])
        self._done = terminated or truncated
        if self.render_mode == "human":
            self.render()
        return (
            self.game.observe(self._state)[0, self.focal_lab],
            float(result.rewards[0, self.focal_lab]),
            terminated,
            truncated,
            self.game.agent_infos(self._state, result, 0)[self.focal_lab],
        )

    def render(self):
        return render_game(self.game, self._state, self.render_mode)


def group_by_policy(labs: Sequence[int], policies: Sequence[Any]) -> list[tuple[Any, list[int]]]:
    """Labs grouped by policy object (in first-seen order): each distinct policy acts once per step."""
    groups: list[tuple[Any, list[int]]] = []
    for lab, policy in zip(labs, policies):
        for known, members in groups:
            if known is policy:
                members.append(lab)
                break
        else:
            groups.append((policy, [lab]))
    return groups


def policy_actions(policy: Any, observations: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """Actions of a policy object (``.act(obs, rng)``) or a plain callable for an observation batch."""
    act = getattr(policy, "act", None)
    if act is not None:
        return np.asarray(act(observations, rng=rng))
    return np.asarray(policy(observations))


# --------------------------------------------------------------------------------------------
# The entry points every environment module exposes
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EntryPoints:
    """``make_config``, ``make_game``, ``parallel_env``, ``env`` and ``gym_env`` of one environment.

    Each environment module binds them once (``make_config, make_game, parallel_env, env, gym_env
    = entry_points(XGame, __name__)``); they resolve a scenario name plus field overrides into a
    validated config and wrap the batched game in the adapter asked for.
    """

    make_config: Callable[..., Any]
    make_game: Callable[..., BatchedGame]
    parallel_env: Callable[..., ParallelGameEnv]
    env: Callable[..., Any]
    gym_env: Callable[..., FocalLabEnv]

    def __iter__(self):
        return iter(dataclasses.astuple(self))


def max_cycles_overrides(game_class: type[BatchedGame], overrides: Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """PettingZoo's ``max_cycles`` as an alias of the game's episode-length field (race_v0
    ``max_steps``, dsair_v0 ``max_rounds``, commons_v0 ``num_rounds``): (that field, the overrides
    with the alias replaced). A one-shot game (precipice_v0) takes ``max_cycles=1`` only."""
    name, field = game_class.metadata["name"], game_class.episode_length_field
    overrides = dict(overrides)
    cycles = overrides.pop("max_cycles")
    if field is None:
        if isinstance(cycles, bool) or cycles != 1:
            raise ValueError(f"{name} is one-shot (every episode is 1 step): max_cycles must be 1; got {cycles!r}")
        return None, overrides
    if field in overrides and overrides[field] != cycles:
        raise ValueError(
            f"max_cycles is an alias of {name}'s {field}: give one of them; got max_cycles={cycles!r} and {field}={overrides[field]!r}"
        )
    overrides[field] = cycles
    return field, overrides


def entry_points(game_class: type[BatchedGame], module: str) -> EntryPoints:
    name = game_class.metadata["name"]
    scenarios = game_class.scenarios

    def make_config(scenario: str = "baseline", config: Any = None, **overrides: Any) -> Any:
        if "max_cycles" not in overrides:
            return resolve_config(scenarios, name, scenario, config, overrides)
        field, overrides = max_cycles_overrides(game_class, overrides)
        try:
            return resolve_config(scenarios, name, scenario, config, overrides)
        except ValueError as error:  # name the argument the caller gave
            if field is None or not str(error).startswith(f"{field} "):
                raise
            raise ValueError(f"max_cycles (alias of {field}){str(error)[len(field):]}") from None

    def make_game(scenario: str = "baseline", config: Any = None, **overrides: Any) -> BatchedGame:
        game_config = make_config(scenario, config, **overrides)
        # the scenario may name the background policy of the single-agent view; else the game's default
        background = scenarios[scenario].background if config is None else None
        return game_class(game_config) if background is None else game_class(game_config, background=background)

    def parallel_env(scenario: str = "baseline", config: Any = None, render_mode: str | None = None, **overrides: Any) -> ParallelGameEnv:
        return ParallelGameEnv(make_game(scenario, config, **overrides), render_mode=render_mode)

    def env(scenario: str = "baseline", config: Any = None, render_mode: str | None = None, **overrides: Any):
        return to_aec(parallel_env(scenario, config, render_mode, **overrides))

    def gym_env(
        scenario: str = "baseline",
        config: Any = None,
        focal_lab: int = 0,
        background: Any = None,
        render_mode: str | None = None,
        **overrides: Any,
    ) -> FocalLabEnv:
        return FocalLabEnv(make_game(scenario, config, **overrides), focal_lab, background, render_mode)

    docs = {
        make_config: f"The config of a named {name} scenario (or ``config``) with field overrides applied.",
        make_game: f"The batched {name} game (every adapter's core) of a scenario with field overrides.",
        parallel_env: f"PettingZoo ParallelEnv of {name} (agents ``lab_0 … lab_{{N-1}}``).",
        env: f"PettingZoo AEC env of {name} (``parallel_to_aec`` with order enforcement).",
        gym_env: (
            f"Gymnasium single-agent view of {name}: lab ``focal_lab`` learns; ``background`` plays the others.\n\n"
            "``background`` is a baseline name from :mod:`labrace.agents.baselines` (default: the scenario's), a\n"
            "policy or callable mapping an observation batch (M, obs_dim) to an action batch, or a list\n"
            "of N-1 of those, one per other lab (in lab order)."
        ),
    }
    for function, doc in docs.items():  # so that help(), pickle and Gymnasium's registry see module functions
        function.__doc__, function.__module__, function.__qualname__ = doc, module, function.__name__
    return EntryPoints(make_config, make_game, parallel_env, env, gym_env)
