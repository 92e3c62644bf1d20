"""precipice_v0: racing to the precipice — n teams trade safety for a head start (one shot).

Description
-----------
Armstrong, Bostrom & Shulman (2016), "Racing to the precipice: a model of artificial intelligence
development", *AI & Society* 31(2), 201–206. ``n`` teams race to build the first AI. Team ``i`` has
a capability ``c_i`` drawn uniformly from ``[0, mu]`` and picks a safety level ``s_i`` in [0, 1];
skimping on safety buys speed. The team with the highest ``c_i + (1 - s_i)`` (equivalently the
highest ``c_i - s_i``, the paper's ranking) finishes first. Its AI is safe with probability
``s_winner``: with probability ``1 - s_winner`` it is a disaster for everyone. ``mu`` measures how
much skill matters relative to risk-taking (small ``mu``: the race is decided by who cuts corners).

Utilities (the paper's): a team gets 1 if its own AI is safe, ``1 - e`` if a rival's AI is safe
(``e`` in (0, 1] is the *enmity* between teams), 0 after a disaster.

Information regimes (``information``), as in the paper:

* ``none``: no team knows any capability, its own included;
* ``private``: each team knows its own capability only;
* ``public``: every team knows every capability.

Equilibria implemented here (the symmetric Nash equilibria, one per regime; see
:func:`equilibrium_safety`, :func:`disaster_probability`). The full text of the paper was not
available while this file was written, so every formula below was *derived from the model* and
then verified numerically against this environment (tests/envs/test_precipice_v0.py: Monte-Carlo
disaster rate within 3 standard errors; no unilateral deviation on a grid beats the equilibrium):

* (P1) no information: ``s* = min(1, mu / (n e))`` for every team (first-order condition
  ``1/n - s e / mu = 0`` of the symmetric profile); ``P(disaster) = 1 - s*``.
* (P2) private information: ``s*(c) = min(1, c / (1 + (n - 1) e))``; the more capable team can
  afford more safety, and the most capable team wins. From the ODE ``c (1 - s'(c)) = (n - 1) e s(c)``
  of the first-order condition with ``s(0) = 0``. ``P(disaster) = 1 - E[s*(c_max)]`` with
  ``c_max`` the largest of n uniform draws (closed form in :func:`disaster_probability`).
* (P3) public information: the leader (largest capability) picks ``s = min(1, Delta / e)`` where
  ``Delta`` is its lead over the runner-up: the most safety it can afford before the runner-up
  prefers to overtake it (overtaking by cutting safety to ``s - Delta`` is worth ``s - Delta`` to the
  runner-up; letting the leader win is worth ``(1 - e) s``). The followers *match*: each plays
  ``max(0, s_leader - (c_leader - c_j))``, which ties the leader's score, and ties go to the more
  capable team, so the leader's best response is exactly ``s_leader`` (a Nash equilibrium of the
  simultaneous game; the leader-preferred one of a continuum). ``P(disaster) = 1 - E[min(1,
  Delta / e)]`` with ``Delta / mu ~ Beta(1, n)``: ``E = (1 - (1 - a)^(n+1)) / ((n + 1) a)`` for
  ``a = e / mu <= 1`` and ``1 / ((n + 1) a)`` otherwise.
  **The equilibria form a range.** The same argument holds for every leader safety ``s_leader`` in
  ``[min(1, Delta), min(1, Delta / e)]`` with the followers matching: below ``Delta`` the runner-up
  cannot match (it would need negative safety), plays 0, and the leader gains by raising its
  safety to ``Delta``; above ``Delta / e`` the runner-up gains by overtaking. So public information
  has a *range* of equilibrium disaster probabilities, from ``1 - E[min(1, Delta / e)]`` (the
  leader-preferred end, :func:`disaster_probability`) to ``1 - E[min(1, Delta)]`` (the runner-up
  plays 0; the same formula with ``e = 1``), e.g. [0.417, 0.667] at n = 2, e = 0.5, mu = 1; it
  shrinks to a point at ``e = 1``. :func:`disaster_probability_range` gives it; a learned profile
  is judged against the whole range.

Where the paper's headline claims (more teams, more enmity, more information → more danger) hold
and where they fail under these equilibria is tabulated over a grid by ``python -m
labrace.envs.canonical`` (results/canonical/precipice.md); e.g. private information with low enmity
is *safer* with more teams, and public information is safer than private information whenever
``e < 1`` and ``mu`` is small.

Extension: 2–10 teams; P1–P3 are derived for any n. The tie rule (ties go to the more capable
team) is this environment's choice; it has probability zero except for the matching followers of P3.

Action space
------------
``Box(0, 1, (1,))``: the team's safety level ``s``.

Observation space (team i's view, float32, size ``4 + (N - 1)``)
------------------------------------------------------------------
===========  =========================================================  =====  =====
index        meaning                                                    min    max
===========  =========================================================  =====  =====
0            own capability ``c_i`` (``private``/``public``; else 0)      0      mu
1            enmity ``e``                                               0      1
2            capability range ``mu``                                    0      mu
3            information regime: 0 none, 0.5 private, 1 public          0      1
4 + (k - 1)  capability of team i+k (mod N) (``public``; else 0)         0      mu
===========  =========================================================  =====  =====

Rewards
-------
One step per episode. Safe AI of team w: ``1`` to w, ``1 - e`` to every other team; disaster: 0.
With ``expected_rewards=True`` each team receives its expected utility given who finished first,
``s_w`` (team w) or ``s_w (1 - e)`` (the others), whatever the draw: the expected payoffs and so
the equilibria are unchanged, and a learner's return no longer carries the variance of the
disaster draw (the outcome is still drawn and reported).

Episode end
-----------
Always *terminated* after the single step (no truncation). ``info["outcome"]`` codes index
``OUTCOMES``: ``safe`` (the first team's AI is safe) or ``disaster``.

Info keys
---------
The same numeric keys at reset and after the step, per team (so TorchRL and RLlib can stack
them): ``outcome`` (index into ``OUTCOMES``: 0 ongoing, 1 safe, 2 disaster), ``winner`` (index of
the team whose safe AI is deployed; -1 before the step and after a disaster), ``first`` (index of
the team that finished first; -1 before the step), ``disaster_probability`` (``1 - s_first``),
``capability``, ``safety``. Batched ``StepResult.info``: ``outcome``, ``winner``, ``first``,
``disaster_probability``.

Arguments
---------
``precipice_v0.parallel_env(scenario="baseline", config=None, render_mode=None, **overrides)``,
``env(...)`` (AEC), ``gym_env(...)`` (one focal team; the others play the equilibrium by default).

Version history
---------------
* v0: initial release.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from labrace.envs import adapters
from labrace.envs.core import (
    BatchedGame,
    Scenario,
    StepResult,
    bar_chart,
    check_bool,
    check_choice,
    check_float,
    check_int,
    other_labs,
)

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

OUTCOMES = ("ongoing", "safe", "disaster")
ONGOING, SAFE, DISASTER = range(3)
INFORMATION = ("none", "private", "public")
#: names of the action components (read by agents/evaluation.py)
ACTION_NAMES = ("safety",)
#: scores within this distance tie; ties go to the more capable team. Capabilities are drawn on the
#: float32 grid (what the observation shows, exactly), and float32 actions round safety by < 1e-7,
#: so a policy that matches a score from its observation ties it.
TIE_TOLERANCE = 1e-6
NUM_OWN_SLOTS = 4


@dataclass(frozen=True)
class PrecipiceConfig:
    """Every parameter of ``precipice_v0``; validated on construction."""

    num_labs: int = 2  # n teams
    capability_range: float = 1.0  # mu: capabilities are uniform on [0, mu]
    enmity: float = 0.5  # e: a rival's safe AI is worth 1 - e
    information: str = "none"  # "none" | "private" | "public"
    #: rewards are the expected utilities given who finished first (s_first x payoff) instead of the
    #: payoffs of the drawn outcome: the same equilibria, no variance from the disaster draw
    expected_rewards: bool = False

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        set_("num_labs", check_int("num_labs", self.num_labs, 2, 10))
        set_("capability_range", check_float("capability_range", self.capability_range, 0.0, 100.0, low_open=True))
        set_("enmity", check_float("enmity", self.enmity, 0.0, 1.0, low_open=True))
        check_choice("information", self.information, INFORMATION)
        set_("expected_rewards", check_bool("expected_rewards", self.expected_rewards))

    @property
    def observation_size(self) -> int:
        return NUM_OWN_SLOTS + self.num_labs - 1


_BASE = PrecipiceConfig()

SCENARIOS: dict[str, Scenario[PrecipiceConfig]] = {
    s.name: s
    for s in (
        Scenario("baseline", "two teams, no information, enmity 0.5, mu = 1", _BASE, ("default",), "equilibrium"),
        Scenario(
            "private",
            "two teams, each knows its own capability",
            dataclasses.replace(_BASE, information="private"),
            ("information", "H3"),
            "equilibrium",
        ),
        Scenario(
            "public",
            "two teams, capabilities public",
            dataclasses.replace(_BASE, information="public"),
            ("information", "H3"),
            "equilibrium",
        ),
        Scenario(
            "crowded",
            "five teams, high enmity, skill matters little (mu = 0.5), public capabilities",
            PrecipiceConfig(num_labs=5, capability_range=0.5, enmity=1.0, information="public"),
            ("teams", "enmity", "H3"),
            "equilibrium",
        ),
    )
}


def list_scenarios() -> list[str]:
    return sorted(SCENARIOS)


# --------------------------------------------------------------------------------------------
# Batched dynamics
# --------------------------------------------------------------------------------------------


@dataclass
class PrecipiceState:
    """B games of N teams (every field has leading axis B)."""

    capability: np.ndarray  # (B, N) c_i ~ U[0, mu]
    safety: np.ndarray  # (B, N) s_i chosen in the step (0 before it)
    step: np.ndarray  # (B,) int64: 0 before the step, 1 after
    first: np.ndarray  # (B,) int64 team that finished first, -1 before the step
    outcome: np.ndarray  # (B,) int8 index into OUTCOMES
    winner: np.ndarray  # (B,) int64 team whose AI is safe, -1 if none
    disaster_probability: np.ndarray  # (B,) 1 - s_first


def reset_batch(config: PrecipiceConfig, rng: np.random.Generator, batch_size: int) -> PrecipiceState:
    B, N = batch_size, config.num_labs
    return PrecipiceState(
        capability=(config.capability_range * rng.random((B, N))).astype(np.float32).astype(np.float64),
        safety=np.zeros((B, N)),
        step=np.zeros(B, dtype=np.int64),
        first=np.full(B, -1, dtype=np.int64),
        outcome=np.zeros(B, dtype=np.int8),
        winner=np.full(B, -1, dtype=np.int64),
        disaster_probability=np.zeros(B),
    )


def race_winner(capability: np.ndarray, safety: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B,) index of the team with the highest ``c + (1 - s)``; ties go to the more capable team."""
    score = capability + (1.0 - safety)  # (B, N)
    contender = score >= score.max(axis=1, keepdims=True) - TIE_TOLERANCE
    key = np.where(contender, capability + 1e-12 * rng.random(capability.shape), -np.inf)  # ~never tied
    return np.argmax(key, axis=1)


def step_batch(config: PrecipiceConfig, state: PrecipiceState, safety: np.ndarray, rng: np.random.Generator) -> StepResult:
    """Resolve the race of every game (in place): who finishes first, and is its AI safe."""
    B, N = state.capability.shape
    rows = np.arange(B)
    state.safety[...] = safety
    state.step[...] = 1
    first = race_winner(state.capability, safety, rng)
    p_disaster = 1.0 - safety[rows, first]
    disaster = rng.random(B) < p_disaster
    own = np.arange(N)[None, :] == first[:, None]  # (B, N)
    rewards = np.where(own, 1.0, 1.0 - config.enmity)
    if config.expected_rewards:  # E[utility | first team]: its AI is safe with probability s_first
        rewards *= (1.0 - p_disaster)[:, None]
    else:
        rewards[disaster] = 0.0
    state.first[...] = first
    state.disaster_probability[...] = p_disaster
    state.outcome[...] = np.where(disaster, DISASTER, SAFE)
    state.winner[...] = np.where(disaster, -1, first)
    return StepResult(
        rewards=rewards,
        terminated=np.ones(B, dtype=bool),
        truncated=np.zeros(B, dtype=bool),
        info={
            "outcome": state.outcome,
            "winner": state.winner,
            "first": state.first,
            "disaster_probability": state.disaster_probability,
        },
    )


def observe_batch(config: PrecipiceConfig, state: PrecipiceState) -> np.ndarray:
    B, N = state.capability.shape
    obs = np.zeros((B, N, config.observation_size), dtype=np.float32)
    if config.information != "none":
        obs[..., 0] = state.capability
    obs[..., 1] = config.enmity
    obs[..., 2] = config.capability_range
    obs[..., 3] = INFORMATION.index(config.information) / 2.0
    if config.information == "public":
        obs[..., NUM_OWN_SLOTS:] = state.capability[:, other_labs(N)]
    return obs


def observation_slots(num_labs: int) -> list[str]:
    return ["capability", "enmity", "capability_range", "information"] + [f"other_{k}_capability" for k in range(1, num_labs)]


# --------------------------------------------------------------------------------------------
# Closed forms (derived from the model; see the module docstring, P1–P3)
# --------------------------------------------------------------------------------------------


def no_information_safety(num_labs: int, enmity: float, capability_range: float) -> float:
    """(P1) Symmetric equilibrium safety without information: ``min(1, mu / (n e))``."""
    return float(min(1.0, capability_range / (num_labs * enmity)))


def private_information_safety(capability: Any, num_labs: int, enmity: float) -> np.ndarray:
    """(P2) Equilibrium safety of a team that knows its own capability: ``min(1, c / (1 + (n-1) e))``."""
    return np.minimum(1.0, np.asarray(capability, dtype=np.float64) / (1.0 + (num_labs - 1) * enmity))


def public_information_safety(capability: Any, enmity: float) -> np.ndarray:
    """(P3) Equilibrium safety of every team given all capabilities (..., N).

    Leader: ``min(1, Delta / e)`` (Delta = lead over the runner-up); follower j:
    ``max(0, s_leader - (c_leader - c_j))`` (matches the leader's score; ties go to the leader).
    """
    capability = np.asarray(capability, dtype=np.float64)
    ranked = np.sort(capability, axis=-1)
    top = ranked[..., -1:]
    lead = top - ranked[..., -2:-1]
    s_leader = np.minimum(1.0, lead / enmity)
    return np.maximum(0.0, s_leader - (top - capability))


def equilibrium_safety(config: PrecipiceConfig, capability: np.ndarray) -> np.ndarray:
    """(B, N) equilibrium safety of every team of every game in ``config``'s regime."""
    capability = np.asarray(capability, dtype=np.float64)
    if config.information == "none":
        return np.full(capability.shape, no_information_safety(config.num_labs, config.enmity, config.capability_range))
    if config.information == "private":
        return private_information_safety(capability, config.num_labs, config.enmity)
    return public_information_safety(capability, config.enmity)


def disaster_probability(information: str, num_labs: int, enmity: float, capability_range: float) -> float:
    """Expected probability of disaster under the equilibrium of ``information`` (P1–P3)."""
    check_choice("information", information, INFORMATION)
    n, e, mu = num_labs, enmity, capability_range
    if information == "none":
        return 1.0 - no_information_safety(n, e, mu)
    if information == "private":
        k = 1.0 + (n - 1) * e  # s*(c) = min(1, c / k); c_max has density n c^(n-1) / mu^n
        if mu <= k:
            safety = n * mu / ((n + 1) * k)
        else:
            safety = n * (k / mu) ** n / (n + 1) + 1.0 - (k / mu) ** n
        return 1.0 - safety
    a = e / mu  # s_leader = min(1, D / a), D = Delta / mu ~ Beta(1, n)
    safety = (1.0 - (1.0 - a) ** (n + 1)) / ((n + 1) * a) if a <= 1.0 else 1.0 / ((n + 1) * a)
    return 1.0 - safety


def disaster_probability_range(information: str, num_labs: int, enmity: float, capability_range: float) -> tuple[float, float]:
    """(lowest, highest) equilibrium probability of disaster: one point without or with private
    information; with public information the range of the leader's equilibrium safety (P3)."""
    low = disaster_probability(information, num_labs, enmity, capability_range)
    if information != "public":
        return (low, low)
    return (low, disaster_probability(information, num_labs, 1.0, capability_range))


# --------------------------------------------------------------------------------------------
# The game object
# --------------------------------------------------------------------------------------------


class PrecipiceGame(BatchedGame[PrecipiceConfig, PrecipiceState]):
    metadata: ClassVar[dict[str, Any]] = {
        "name": "precipice_v0",
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 1,
        "is_parallelizable": True,
    }
    scenarios = SCENARIOS
    config_class = PrecipiceConfig

    def __init__(self, config: PrecipiceConfig, background: str = "equilibrium") -> None:
        if not isinstance(config, PrecipiceConfig):
            raise TypeError(f"config must be a PrecipiceConfig; got {type(config).__name__}")
        self.config = config
        self.background = background
        self.num_agents = config.num_labs
        mu = np.float32(config.capability_range)
        high = np.full(config.observation_size, mu, dtype=np.float32)
        high[1] = high[3] = 1.0
        self.observation_space = spaces.Box(np.zeros_like(high), high, dtype=np.float32)
        self.action_space = spaces.Box(0.0, 1.0, (1,), dtype=np.float32)
        self.observation_slots = observation_slots(config.num_labs)

    def reset(self, rng: np.random.Generator, batch_size: int) -> PrecipiceState:
        return reset_batch(self.config, rng, batch_size)

    def step(self, state: PrecipiceState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
        return step_batch(self.config, state, np.asarray(actions, dtype=np.float64)[..., 0], rng)

    def observe(self, state: PrecipiceState) -> np.ndarray:
        return observe_batch(self.config, state)

    def agent_infos(self, state: PrecipiceState, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        # the same numeric keys every step, so that TorchRL and RLlib can stack them
        common = {
            "outcome": int(state.outcome[game]),
            "winner": int(state.winner[game]),
            "first": int(state.first[game]) if state.outcome[game] != ONGOING else -1,
            "disaster_probability": float(state.disaster_probability[game]),
        }
        return [
            {"capability": c, "safety": s, **common}
            for c, s in zip(state.capability[game].tolist(), state.safety[game].tolist())
        ]

    def render_ansi(self, state: PrecipiceState, game: int) -> str:
        c = self.config
        lines = [
            f"precipice_v0  n={c.num_labs} mu={c.capability_range:g} e={c.enmity:g} information={c.information}",
            f"{'team':<7}{'capability':>11}{'safety':>8}{'score':>8}",
        ]
        for i in range(self.num_agents):
            cap, safe = state.capability[game, i], state.safety[game, i]
            played = state.step[game] > 0
            lines.append(
                f"{'lab_' + str(i):<7}{cap:>11.3f}{(f'{safe:.3f}' if played else '-'):>8}"
                f"{(f'{cap + 1 - safe:.3f}' if played else '-'):>8}"
            )
        if state.outcome[game] != ONGOING:
            first = int(state.first[game])
            lines.append(
                f"outcome: {OUTCOMES[state.outcome[game]]} (lab_{first} first, "
                f"P(disaster) = {state.disaster_probability[game]:.3f})"
            )
        return "\n".join(lines)

    def render_rgb(self, state: PrecipiceState, game: int) -> np.ndarray:
        mu = self.config.capability_range
        values = np.column_stack(
            [
                state.capability[game] / mu,
                state.safety[game],
                (state.capability[game] + 1.0 - state.safety[game]) / (mu + 1.0) * (state.step[game] > 0),
            ]
        )  # (N, 3): capability, safety, score
        return bar_chart(values, [float(state.disaster_probability[game])])


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


make_config, make_game, parallel_env, env, gym_env = adapters.entry_points(PrecipiceGame, __name__)
