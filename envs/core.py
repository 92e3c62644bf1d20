"""The contract between one environment's batched dynamics and the adapters that serve it.

Every labrace environment is written as a :class:`BatchedGame`: pure numpy dynamics over arrays of
shape ``(B games, N labs)``, bound to a validated, frozen config. The adapters in
:mod:`labrace.envs.adapters` (PettingZoo parallel and AEC, the Gymnasium single-agent view) and
:mod:`labrace.envs.vec_env` (the Stable-Baselines3 ``VecEnv``) only convert and validate; none of
them re-implements a rule of any game.

This module also holds what every environment file needs around its dynamics: field validation
that names the field, the value and the allowed range; named scenarios; action checking that
names the offending agent; and a small bar-chart rasteriser for ``rgb_array`` rendering.
"""

from __future__ import annotations

import abc
import functools
import dataclasses
import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
from gymnasium import spaces

ConfigT = TypeVar("ConfigT")
StateT = TypeVar("StateT")


# --------------------------------------------------------------------------------------------
# Field validation: every error names the field, the value and the allowed range.
# --------------------------------------------------------------------------------------------


def _fmt_range(low: float, high: float, low_open: bool, high_open: bool) -> str:
    return f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


def check_int(name: str, value: Any, low: int, high: int) -> int:
    """Return ``value`` as an int if it is an integer in [low, high]; raise ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer in [{low}, {high}]; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}]; got {value}")
    return int(value)


def check_float(
    name: str,
    value: Any,
    low: float = -math.inf,
    high: float = math.inf,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a float if it is a finite number in the given range; raise otherwise."""
    allowed = _fmt_range(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in {allowed}; got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number in {allowed}; got {value}")
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        raise ValueError(f"{name} must be in {allowed}; got {value}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise a ValueError listing them otherwise."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; got {value!r}")
    return value


def check_interval(name: str, value: Any, low: float, high: float) -> tuple[float, float]:
    """Validate a ``(lo, hi)`` pair with ``low <= lo <= hi <= high``; return it as a tuple."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValueError(f"{name} must be a pair (lo, hi) with {low} <= lo <= hi <= {high}; got {value!r}")
    pair = tuple(value)
    if len(pair) != 2:
        raise ValueError(f"{name} must be a pair (lo, hi) with {low} <= lo <= hi <= {high}; got {value!r}")
    lo = check_float(f"{name}[0]", pair[0], low, high)
    hi = check_float(f"{name}[1]", pair[1], low, high)
    if lo > hi:
        raise ValueError(f"{name} must be a pair (lo, hi) with lo <= hi; got {pair}")
    return (lo, hi)


def check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


# --------------------------------------------------------------------------------------------
# Scenarios: named, validated configs that a user can list, print, copy and override.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scenario(Generic[ConfigT]):
    """A named preset of an environment, in the manner of Melting Pot's scenario configs.

    ``background`` names the scripted policy that plays the non-focal labs in the Gymnasium
    single-agent view unless the user passes their own (None: the game's default).
    """

    name: str
    description: str
    config: ConfigT
    tags: tuple[str, ...] = ()
    background: str | None = None

    def __str__(self) -> str:
        lines = [f"scenario {self.name!r}: {self.description}"]
        if self.tags:
            lines.append(f"  tags: {', '.join(self.tags)}")
        if self.background is not None:
            lines.append(f"  background policy: {self.background}")
        lines.append(describe_config(self.config, indent="  "))
        return "\n".join(lines)


def describe_config(config: Any, indent: str = "") -> str:
    """A readable ``field = value`` listing of a config dataclass."""
    rows = [f"{indent}{type(config).__name__}:"]
    for field in dataclasses.fields(config):
        rows.append(f"{indent}  {field.name} = {getattr(config, field.name)!r}")
    return "\n".join(rows)


def replace_config(config: ConfigT, overrides: Mapping[str, Any]) -> ConfigT:
    """``dataclasses.replace`` with an error that lists the valid fields for an unknown one.

    A config class may complete the overrides with the fields that follow them (its method
    ``complete_overrides``: commons_v0's threshold keeps its share of the group's endowment)."""
    names = [f.name for f in dataclasses.fields(config)]
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(
            f"unknown {type(config).__name__} field(s) {unknown}; valid fields are {names}"
        )
    complete = getattr(config, "complete_overrides", None)
    return dataclasses.replace(config, **(overrides if complete is None else complete(overrides)))


def replace_game_config(game: Any, overrides: Mapping[str, Any]) -> Any:
    """The same game with the config fields of ``overrides`` changed (its background labs kept)."""
    return type(game)(replace_config(game.config, overrides), background=game.background) if overrides else game


def lookup_scenario(scenarios: Mapping[str, Scenario], name: str, env_name: str) -> Scenario:
    if not isinstance(name, str) or name not in scenarios:
        raise ValueError(f"unknown {env_name} scenario {name!r}; valid scenarios are {sorted(scenarios)}")
    return scenarios[name]


def resolve_config(
    scenarios: Mapping[str, Scenario],
    env_name: str,
    scenario: str,
    config: Any | None,
    overrides: Mapping[str, Any],
):
    """The config an environment runs with: a full ``config``, or a named scenario, then overrides."""
    base = config if config is not None else lookup_scenario(scenarios, scenario, env_name).config
    return replace_config(base, overrides) if overrides else base


# --------------------------------------------------------------------------------------------
# Batched states and step results
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class StepResult:
    """What one batched step returns besides the (in-place updated) state.

    ``info`` holds per-game arrays of shape (B,) or per-lab arrays of shape (B, N); the adapters
    turn them into per-agent dicts of Python scalars.
    """

    rewards: np.ndarray  # (B, N) float64
    terminated: np.ndarray  # (B,) bool: an outcome was reached
    truncated: np.ndarray  # (B,) bool: the time limit ended the episode with no outcome
    info: dict[str, np.ndarray]


def assign_games(state: Any, mask: np.ndarray, fresh: Any) -> None:
    """Overwrite the games selected by ``mask`` (B,) in a dataclass state with those of ``fresh``.

    Every field of a batched state is an array whose leading axis is the game axis, unless the
    field's metadata names another (``field(metadata={"game_axis": 1})``).
    """
    games = np.flatnonzero(mask)  # integer indices: much faster than a boolean mask per field
    for name, game_axis in _game_axes(type(state)):
        target, source = getattr(state, name), getattr(fresh, name)
        if game_axis == 1:
            target[:, games] = source
        else:
            target[games] = source


def repeat_games(state: Any, repeats: int) -> Any:
    """A dataclass state of ``repeats`` consecutive copies of every game of ``state`` (blocks of B
    games: game b of block k is game b of ``state``), for common random numbers between policies
    played side by side in one batch."""
    fields = {}
    for name, game_axis in _game_axes(type(state)):
        value = getattr(state, name)
        fields[name] = np.concatenate([value] * repeats, axis=game_axis)
    return type(state)(**fields)


@functools.cache
def _game_axes(state_class: type) -> tuple[tuple[str, int], ...]:
    """(field name, game axis) of every field of a dataclass state (``dataclasses.fields`` is slow)."""
    return tuple((field.name, field.metadata.get("game_axis", 0)) for field in dataclasses.fields(state_class))


# --------------------------------------------------------------------------------------------
# The game contract
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def _agent_names(num_agents: int) -> tuple[str, ...]:
    return tuple(f"lab_{i}" for i in range(num_agents))


@functools.lru_cache(maxsize=None)
def other_labs(num_labs: int) -> np.ndarray:
    """(N, N-1) read-only index array: row i lists labs i+1, ..., i+N-1 (mod N), the egocentric
    order in which every environment shows lab i the others."""
    others = (np.arange(num_labs)[:, None] + np.arange(1, num_labs)[None, :]) % num_labs
    others.flags.writeable = False
    return others


def agent_names(num_agents: int) -> list[str]:
    """``["lab_0", …, "lab_{N-1}"]`` (a fresh list)."""
    return list(_agent_names(num_agents))


class BatchedGame(abc.ABC, Generic[ConfigT, StateT]):
    """One environment's dynamics bound to one validated config.

    Subclasses implement :meth:`reset`, :meth:`step`, :meth:`observe`, :meth:`agent_infos` and the
    two renderers; everything operates on B games at once. Randomness comes only from the
    ``numpy.random.Generator`` passed in, so the same seed and actions give the same episode
    whichever adapter drives the game.
    """

    #: PettingZoo-style metadata: ``name``, ``render_modes``, ``render_fps``, ``is_parallelizable``.
    metadata: ClassVar[dict[str, Any]]
    #: the named scenarios of this environment
    scenarios: ClassVar[Mapping[str, Scenario]]
    #: the config field that limits an episode's steps (PettingZoo's ``max_cycles`` is its alias);
    #: None for a one-shot game
    episode_length_field: ClassVar[str | None] = None

    config: ConfigT
    num_agents: int
    observation_space: spaces.Box  # per agent
    action_space: spaces.Space  # per agent
    background: str  # name of the default background policy for the single-agent view

    @property
    def name(self) -> str:
        return self.metadata["name"]

    @property
    def agents(self) -> list[str]:
        return agent_names(self.num_agents)  # cached: callers must not mutate it

    @abc.abstractmethod
    def reset(self, rng: np.random.Generator, batch_size: int) -> StateT:
        """Draw ``batch_size`` fresh games."""

    @abc.abstractmethod
    def step(self, state: StateT, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
        """Advance every game one step, updating ``state`` in place.

        ``actions`` has shape ``(B, N) + action_space.shape`` and has already been validated.
        """

    @abc.abstractmethod
    def observe(self, state: StateT) -> np.ndarray:
        """Every lab's observation, shape (B, N, obs_dim), float32."""

    @abc.abstractmethod
    def agent_infos(self, state: StateT, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        """Per-agent info dicts (Python scalars only) for game ``game`` after reset or a step."""

    @abc.abstractmethod
    def render_ansi(self, state: StateT, game: int) -> str:
        """A compact text table of game ``game``."""

    @abc.abstractmethod
    def render_rgb(self, state: StateT, game: int) -> np.ndarray:
        """An (H, W, 3) uint8 picture of game ``game``."""

    def reset_where(self, state: StateT, mask: np.ndarray, rng: np.random.Generator) -> StateT:
        """Replace the games selected by ``mask`` (B,) with fresh ones (auto-reset); return those."""
        fresh = self.reset(rng, int(mask.sum()))
        assign_games(state, mask, fresh)
        return fresh

    # ---- action checking ----------------------------------------------------------------

    def check_actions(self, actions: Any, batch_size: int) -> np.ndarray:
        """Validate a batch of actions, shape ``(B, N) + action_space.shape``; return an array.

        Raises ValueError naming the game, the agent and the allowed values for the first bad
        entry (wrong shape, NaN, out of the action space).
        """
        return check_action_batch(self.action_space, actions, (batch_size, self.num_agents), self.name, bounds=self._action_bounds)

    def check_agent_action(self, agent: str, action: Any) -> np.ndarray:
        """Validate one agent's action (PettingZoo and Gymnasium adapters)."""
        return check_action_batch(self.action_space, action, (), self.name, agent=agent, bounds=self._action_bounds)

    def check_agent_actions(self, actions: Mapping[str, Any], agents: Sequence[str]) -> np.ndarray:
        """Validate one action per agent of one game; return them as a (1, N, ...) batch."""
        bounds, shape = self._action_bounds, self.action_space.shape
        if bounds is not None:  # Box: fill a float64 batch directly, the common case
            batch = np.empty((1, len(agents)) + shape)
            try:
                for i, agent in enumerate(agents):
                    action = actions[agent]
                    # lists, scalars, wrong shapes, arrays of anything but real numbers: the general path
                    if type(action) is not np.ndarray or action.shape != shape or action.dtype.kind not in "fiu":
                        raise ValueError("general path")
                    batch[0, i] = action
            except (ValueError, TypeError):
                pass  # the general path below names the culprit
            else:
                # one game's few values: checked as Python floats, several times faster than two numpy
                # reductions at this size; a NaN makes the sum NaN, which fails ``total == total``
                values = batch.ravel().tolist()
                total = sum(values)
                if total == total and min(values) >= bounds[0] and max(values) <= bounds[1]:
                    return batch
        values = [actions[a] for a in agents]
        discrete = self._discrete_range
        if discrete is not None and all(type(v) in _INT_TYPES for v in values):  # Discrete: ints, the common case
            if min(values) >= discrete[0] and max(values) <= discrete[1]:
                return np.array(values, dtype=np.int64)[None]
        if all(map(_plain_numbers, values)):  # numpy cannot hide a bool or a string among them
            try:
                batch = np.asarray(values)[None]
            except ValueError:  # ragged: the per-agent check below names the culprit
                batch = None
            if batch is not None and batch.dtype != object:
                return self.check_actions(batch, 1)
        return np.stack([self.check_agent_action(a, v) for a, v in zip(agents, values)])[None]

    @functools.cached_property
    def _discrete_range(self) -> tuple[int, int] | None:
        """(lowest, highest) action of a Discrete action space (a faster check); None otherwise."""
        space = self.action_space
        return (int(space.start), int(space.start + space.n - 1)) if isinstance(space, spaces.Discrete) else None

    @functools.cached_property
    def _action_bounds(self) -> tuple[float, float] | None:
        """Scalar (low, high) of a Box action space with uniform bounds (a faster check)."""
        space = self.action_space
        if isinstance(space, spaces.Box) and np.all(space.low == space.low.flat[0]) and np.all(space.high == space.high.flat[0]):
            return float(space.low.flat[0]), float(space.high.flat[0])
        return None


def _space_description(space: spaces.Space) -> str:
    if isinstance(space, spaces.Discrete):
        return f"an integer in [{int(space.start)}, {int(space.start + space.n - 1)}]"
    if isinstance(space, spaces.Box):
        low, high = np.min(space.low), np.max(space.high)
        return f"an array of shape {space.shape} with values in [{low:g}, {high:g}]"
    if isinstance(space, spaces.MultiDiscrete):
        ranges = ", ".join(f"[{int(lo)}, {int(lo + n - 1)}]" for lo, n in zip(space.start.flat, space.nvec.flat))
        return f"an integer array of shape {space.shape} with entries in {ranges}"
    return str(space)


#: the rule for every action of every API (PettingZoo parallel and AEC, Gymnasium, the VecEnv, the
#: batched core): real numbers only, never a bool, a string or a complex number; a Box takes any
#: finite real in its bounds, a Discrete or MultiDiscrete an integer or an integral float in range
_REAL_KINDS = "fiu"


#: the integer types a Discrete action usually comes as (``bool`` is not among them)
_INT_TYPES = frozenset({int, np.int64, np.int32, np.intp})


def _plain_numbers(value: Any) -> bool:
    """Whether ``value`` is a real number or a numeric array (no bool, string, complex or object
    inside): values that numpy can stack without hiding what they are."""
    if type(value) is np.ndarray:
        return value.dtype.kind in _REAL_KINDS
    return type(value) in (int, float) or isinstance(value, (np.integer, np.floating))


def _is_real_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


_is_real_numbers = np.frompyfunc(_is_real_number, 1, 1)


def _as_action_array(actions: Any) -> np.ndarray:
    """``actions`` as an array; anything but an array or a plain number becomes an object array, so
    that no bool, string or complex number is hidden by numpy's type promotion."""
    if isinstance(actions, np.ndarray):
        return actions
    if _plain_numbers(actions):
        return np.asarray(actions)
    return np.asarray(actions, dtype=object)


def _describe(value: Any) -> str:
    """A non-number as an error shows it: its value and its type."""
    value = value.item() if isinstance(value, np.generic) else value
    text = repr(value)
    return f"{text if len(text) <= 40 else text[:37] + '...'} ({type(value).__name__}, not a real number)"


def _show(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:g}"


def check_action_batch(
    space: spaces.Space,
    actions: Any,
    batch_shape: tuple[int, ...],
    env_name: str,
    agent: str | None = None,
    bounds: tuple[float, float] | None = None,
) -> np.ndarray:
    """Vectorised action check for Box, Discrete and MultiDiscrete spaces (the rule above).

    ``batch_shape`` is ``()`` for one agent's action, ``(B, N)`` for a batch. Errors name the
    environment, the agent (``agent``, or ``game b, lab_i`` from the batch position), the first
    offending value and what the space allows; never the whole batch.
    """
    who = f"{env_name} action for {agent}" if agent is not None else f"{env_name} actions"
    expected_shape = tuple(batch_shape) + tuple(space.shape)
    box = isinstance(space, spaces.Box)
    if not box and not isinstance(space, (spaces.Discrete, spaces.MultiDiscrete)):
        raise TypeError(f"unsupported action space {space}")
    if (
        box
        and bounds is not None
        and type(actions) is np.ndarray
        and actions.dtype in (np.float64, np.float32)  # float32: as policies give them, read as they are
        and actions.shape == expected_shape
    ):
        if actions.size and actions.min() >= bounds[0] and actions.max() <= bounds[1]:
            return actions  # the common case, checked with two whole-array reductions (NaN fails both)
    try:
        array = _as_action_array(actions)
    except (ValueError, TypeError):  # ragged input and the like
        raise ValueError(f"{who} must have shape {expected_shape}; got a ragged sequence") from None
    real = None
    if array.dtype.kind not in _REAL_KINDS:  # bools, strings, complex numbers, objects
        real = np.asarray(_is_real_numbers(array), dtype=bool) if array.dtype == object else np.zeros(array.shape, dtype=bool)
    if array.shape != expected_shape:
        if array.ndim == 0 and real is not None and not real:  # a lone non-number: say what it is
            raise ValueError(f"{who} must be {_space_description(space)}; got {_describe(array[()])}")
        raise ValueError(f"{who} must have shape {expected_shape}; got shape {array.shape}")
    if real is not None:
        if not real.all():
            value = array[np.unravel_index(np.argmin(real), real.shape)]
            raise ValueError(f"{who} must be {_space_description(space)}; got {_describe(value)}{_first_bad(~real, batch_shape, agent)}")
        array = array.astype(np.float64)  # real numbers of Python or numpy types
    if box:
        array = np.asarray(array, dtype=np.float64)
        if bounds is not None and array.size and array.min() >= bounds[0] and array.max() <= bounds[1]:
            return array  # the common case: two whole-array reductions (NaN fails both)
        nan = ~np.isfinite(array)
        if nan.any():
            value = array[np.unravel_index(np.argmax(nan), nan.shape)]
            raise ValueError(f"{who} must be {_space_description(space)}; got {_show(value)}{_first_bad(nan, batch_shape, agent)}")
        bad = (array < space.low) | (array > space.high)
        if bad.any():
            value = array[np.unravel_index(np.argmax(bad), bad.shape)]
            raise ValueError(f"{who} must be {_space_description(space)}; got {value:g}{_first_bad(bad, batch_shape, agent)}")
        return array
    if array.dtype.kind == "f":  # integral floats are integers; NaN, inf and 1.5 are not
        fractional = ~np.isfinite(array) | (array != np.round(array))
        if fractional.any():
            value = array[np.unravel_index(np.argmax(fractional), fractional.shape)]
            raise ValueError(f"{who} must be {_space_description(space)}; got {_show(value)}{_first_bad(fractional, batch_shape, agent)}")
    ints = array.astype(np.int64, copy=False)
    if isinstance(space, spaces.Discrete):
        bad = (ints < space.start) | (ints >= space.start + space.n)
    else:  # MultiDiscrete: the last axes hold one entry per component
        bad = (ints < space.start) | (ints >= space.start + space.nvec)
    if bad.any():
        value = int(ints[np.unravel_index(np.argmax(bad), bad.shape)])
        raise ValueError(f"{who} must be {_space_description(space)}; got {value}{_first_bad(bad, batch_shape, agent)}")
    return ints


def _first_bad(bad: np.ndarray, batch_shape: tuple[int, ...], agent: str | None) -> str:
    """' (game b, lab_i)' for the first offending batch entry; '' for a single agent's action."""
    if agent is not None or not batch_shape:
        return ""
    index = np.unravel_index(np.argmax(bad), bad.shape)
    if len(batch_shape) == 2:
        return f" (game {index[0]}, lab_{index[1]})"
    return f" (row {index[0]})"


# --------------------------------------------------------------------------------------------
# Rendering helpers
# --------------------------------------------------------------------------------------------

#: colours of bar groups in rgb renders: capability, safety ratio, speed, safety, cooperation
BAR_COLOURS = np.array(
    [[214, 39, 40], [44, 160, 44], [255, 127, 14], [31, 119, 180], [148, 103, 189]], dtype=np.uint8
)


def bar_chart(values: np.ndarray, footer: Sequence[float] = (), height: int = 160) -> np.ndarray:
    """Rasterise grouped bars: ``values`` (groups, bars) in [0, 1] → (H, W, 3) uint8 image.

    One group per lab, one coloured bar per quantity; ``footer`` values in [0, 1] are drawn as
    full-width progress strips under the chart (e.g. coordination progress, time).
    """
    values = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    groups, bars = values.shape
    bar_w, gap = 8, 10
    width = groups * (bars * bar_w + gap) + gap
    strip = 10
    image = np.full((height + len(footer) * (strip + 4) + 4, width, 3), 255, dtype=np.uint8)
    for g in range(groups):
        x0 = gap + g * (bars * bar_w + gap)
        for k in range(bars):
            top = height - int(round(values[g, k] * (height - 10)))
            image[top:height, x0 + k * bar_w : x0 + (k + 1) * bar_w - 1] = BAR_COLOURS[k % len(BAR_COLOURS)]
    image[height : height + 1, :] = 0
    for i, fraction in enumerate(footer):
        y = height + 4 + i * (strip + 4)
        image[y : y + strip, gap : width - gap] = 220
        filled = int(round(float(np.clip(fraction, 0.0, 1.0)) * (width - 2 * gap)))
        image[y : y + strip, gap : gap + filled] = BAR_COLOURS[(i + 4) % len(BAR_COLOURS)] if i else [90, 90, 90]
    return image


PolicyFn = Callable[[np.ndarray], np.ndarray]
