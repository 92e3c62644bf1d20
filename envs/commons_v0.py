"""commons_v0: the collective-risk dilemma — labs fund a shared safety effort or risk losing all.

Description
-----------
The collective-risk social dilemma of Milinski, Sommerfeld, Krambeck, Reed & Marotzke (2008),
"The collective-risk social dilemma and the prevention of simulated dangerous climate change",
*PNAS* 105(7), 2291–2294, with the N-person threshold analysis of Santos & Pacheco (2011), "Risk of
collective failure provides an escape from the tragedy of the commons", *PNAS* 108(26),
10421–10425. Here the shared effort is the distributed *pivotal process* of DESIGN.md: N labs each
hold an endowment ``E`` and over ``R`` rounds contribute to a common safety effort (audits, shared
safety research, verification). If the total reaches the threshold ``M``, everyone keeps what it did
not contribute; if not, catastrophe strikes with probability ``r`` and every lab loses everything it
kept.

Contribution menu (``levels``)
------------------------------
Each round a lab contributes ``level * f`` where ``f = M / (N R)`` is the *fair share per round*
(the contribution that, made by everyone every round, exactly reaches ``M``). The default menu
``levels = (0, 1, 2)`` is Milinski et al.'s: in their experiment six players with 40 € each chose 0,
2 or 4 € per round for 10 rounds towards a 120 € target, and 2 € per round is exactly the fair share
(20 € each, half the endowment); so the menu is "nothing", "fair share", "double the fair share".
Contributions are capped by what a lab still holds.

Threshold
---------
``threshold=None`` (the default) is half the group's endowment, ``M = N E / 2`` (Milinski's 120 of
6 x 40). Changing ``num_labs`` or ``endowment`` of a scenario without giving ``threshold`` keeps the
scenario's ``M / (N E)`` (its critical risk, C2): ``make_config("baseline", num_labs=2)`` has
``M = 40``.

Closed forms (equation numbers refer to the list here)
------------------------------------------------------
(C1) Expected payoff of a lab that contributed ``x`` in total when the group contributed ``X``:
``E - x`` if ``X >= M``, else ``(1 - r)(E - x)`` (:func:`expected_payoff`). That is Milinski's rule
(a catastrophe takes what a lab kept, ``catastrophe_loss="kept"``, the default); Santos & Pacheco's
payoffs take the whole endowment, contributions being sunk (``catastrophe_loss="endowment"``:
``E - x - r E`` below the threshold).

(C2) Everyone contributing the fair share ``M/N`` is a Nash equilibrium iff
``r >= M / (N E)`` (:func:`critical_risk`, :func:`fair_share_is_nash`): every lab is pivotal, and
its best deviation is to contribute nothing, worth ``(1 - r) E`` against ``E - M/N`` (under either
loss rule). Milinski's
treatments (``M/(NE) = 0.5``): ``r = 0.9`` yes, ``r = 0.5`` (indifferent) yes, ``r = 0.1`` no.
Expected payoffs: fair-share profile ``E - M/N``; nobody contributes ``(1 - r) E``.

(C3) Santos & Pacheco's one-shot N-person threshold game (cooperators give a fraction ``c`` of their
endowment ``b``; at least ``M_c`` cooperators avert the risk): ``Pi_D(k) = b [theta(k - M_c) + (1 -
r)(1 - theta(k - M_c))]`` and ``Pi_C(k) = Pi_D(k) - c b`` (:func:`santos_pacheco_payoffs`), and the
gradient of selection in a large population with a fraction ``x`` of cooperators, ``g(x) = x (1 -
x) sum_k C(N-1, k) x^k (1 - x)^(N-1-k) [Pi_C(k + 1) - Pi_D(k)]`` (:func:`santos_pacheco_gradient`).
This environment is that game with ``R = 1``, ``E = b``, ``M = M_c c b``, ``levels = (0, N / M_c)``
and ``catastrophe_loss="endowment"`` (scenario ``santos_pacheco``).

(C4) Symmetric profiles on any menu: when every lab gives level ``L`` every round (total ``T =
min(R L f, E)``), a lab's payoff depends on its own total alone and falls with it on each side of
the threshold, so its best deviation is either the smallest total it can give or the smallest total
that still meets ``M`` given the others' ``(N - 1) T`` (:func:`smallest_total_at_least` enumerates
the totals R menu levels can make); the profile is a Nash equilibrium iff neither pays
(:func:`symmetric_deviation_gain`, :func:`symmetric_payoff`). On a menu without one fair share,
e.g. Santos & Pacheco's ``(0, 2)``, everyone cooperating overshoots ``M`` and a defector gains ``c
b``; everyone defecting is an equilibrium there (a lone cooperator cannot reach ``M``).

The closed forms (C1, C2, C4) follow directly from the model (they are derived here, and checked
numerically against this environment: no profitable unilateral deviation on a grid, Monte Carlo
against closed form); (C3) is as given by Santos & Pacheco.

Action space
------------
``Discrete(len(levels))``: the index of the level contributed this round (names in ``config.menu``).

Observation space (lab i's view, float32, size ``4 + (N - 1)``)
---------------------------------------------------------------
===========  =========================================================  =====  ==========
index        meaning                                                    min    max
===========  =========================================================  =====  ==========
0            round ``t / R``                                            0      1
1            own holdings ``kept / E``                                  0      1
2            group total contributed ``X / M``                          0      ``N E / M``
3            risk ``r``                                                 0      1
4 + (k - 1)  last contribution of lab i+k (mod N) / (max level f)        0      1
===========  =========================================================  =====  ==========

Rewards
-------
0 every round; at the end of round ``R``: what the lab kept, minus after a catastrophe what it
loses (``catastrophe_loss``: what it kept, giving 0, or its endowment ``E``, giving ``-x``).

Episode end
-----------
*Termination* after round ``R`` (the game has a fixed length; its outcome is decided then):
``target_met``, ``catastrophe`` (missed and struck) or ``spared`` (missed, not struck). No
truncation. ``winner`` is always -1.

Info keys
---------
The same numeric keys every step, per lab (so TorchRL and RLlib can stack them): ``kept``,
``contributed``, ``group_total``, ``outcome`` (index into ``OUTCOMES``, 0 while rounds remain) and
``winner`` (always -1: the dilemma has no winner).

Version history
---------------
* v0: initial release.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from labrace.envs import adapters
from labrace.envs.core import BatchedGame, Scenario, StepResult, bar_chart, check_choice, check_float, check_int, other_labs

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

OUTCOMES = ("ongoing", "target_met", "catastrophe", "spared")
#: the smallest positive contribution level (in fair shares per round) a config may list
MIN_POSITIVE_LEVEL = 1e-6
ONGOING, TARGET_MET, CATASTROPHE, SPARED = range(4)
#: what a catastrophe takes: what each lab kept (Milinski) or its whole endowment (Santos & Pacheco)
LOSS_RULES = ("kept", "endowment")
#: menu items that count as contributing to the shared effort (agents/evaluation.py)
COOPERATIVE_ACTIONS = ("half_share", "fair_share", "double_share")
_LEVEL_NAMES = {0.0: "nothing", 0.5: "half_share", 1.0: "fair_share", 2.0: "double_share"}
NUM_OWN_SLOTS = 4
#: relative tolerance on reaching the threshold (sums of fair shares in floating point)
THRESHOLD_TOLERANCE = 1e-9
#: the default threshold's share of the group's endowment, M / (N E): Milinski's 120 of 6 x 40
DEFAULT_THRESHOLD_SHARE = 0.5
#: most partial sums :func:`smallest_total_at_least` enumerates before it gives up (returns None)
MAX_PARTIAL_SUMS = 100_000


def level_name(level: float) -> str:
    return _LEVEL_NAMES.get(float(level), f"x{level:g}_share")


@dataclass(frozen=True)
class CommonsConfig:
    """Every parameter of ``commons_v0``; validated on construction."""

    num_labs: int = 6  # N
    endowment: float = 40.0  # E per lab
    num_rounds: int = 10  # R
    threshold: float | None = None  # M, total contributions needed; None: half the group's endowment, N E / 2
    risk: float = 0.9  # r, probability of catastrophe if the threshold is missed
    levels: tuple[float, ...] = (0.0, 1.0, 2.0)  # contribution menu, in fair shares per round
    catastrophe_loss: str = "kept"  # "kept" (Milinski: lose what you kept) | "endowment" (Santos & Pacheco: lose E)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        set_("num_labs", check_int("num_labs", self.num_labs, 2, 20))
        set_("endowment", check_float("endowment", self.endowment, 0.0, 1e6, low_open=True))
        set_("num_rounds", check_int("num_rounds", self.num_rounds, 1, 1000))
        group_endowment = self.num_labs * self.endowment
        if self.threshold is None:
            set_("threshold", DEFAULT_THRESHOLD_SHARE * group_endowment)
        set_("threshold", check_float("threshold", self.threshold, 0.0, 1e9, low_open=True))
        if self.threshold > group_endowment:
            raise ValueError(
                f"threshold must be in (0, num_labs * endowment] = (0, {group_endowment:g}] (reachable); "
                f"got {self.threshold:g}: set threshold with num_labs and endowment (None: N E / 2 = {group_endowment / 2:g})"
            )
        set_("risk", check_float("risk", self.risk, 0.0, 1.0))
        levels = self.levels
        if isinstance(levels, (str, bytes)) or not hasattr(levels, "__iter__"):
            raise ValueError(f"levels must be a sequence of 1 to 10 numbers in [0, 100]; got {levels!r}")
        levels = tuple(check_float(f"levels[{k}]", v, 0.0, 100.0) for k, v in enumerate(levels))
        for k, v in enumerate(levels):  # a vanishing level underflows the contribution scale
            if 0.0 < v < MIN_POSITIVE_LEVEL:
                raise ValueError(f"levels[{k}] must be 0 or in [{MIN_POSITIVE_LEVEL}, 100.0]; got {v}")
        if not 1 <= len(levels) <= 10 or max(levels) <= 0.0 or len(set(levels)) != len(levels):
            raise ValueError(f"levels must list 1 to 10 distinct numbers in [0, 100], one of them > 0; got {levels!r}")
        set_("levels", levels)
        check_choice("catastrophe_loss", self.catastrophe_loss, LOSS_RULES)

    def complete_overrides(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Field overrides (``make_config``, every constructor) with the threshold rescaled: a new
        ``num_labs`` or ``endowment`` without a new ``threshold`` keeps the threshold's share of the
        group's endowment, ``M / (N E)`` (the critical risk of C2), so a scenario keeps its meaning."""
        overrides = dict(overrides)
        if "threshold" in overrides or not {"num_labs", "endowment"} & overrides.keys():
            return overrides
        num_labs, endowment = overrides.get("num_labs", self.num_labs), overrides.get("endowment", self.endowment)
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (num_labs, endowment)):
            share = self.threshold / (self.num_labs * self.endowment)  # (bad values: validation names them)
            overrides["threshold"] = min(share, 1.0) * num_labs * endowment
        return overrides

    @property
    def fair_share_per_round(self) -> float:
        return self.threshold / (self.num_labs * self.num_rounds)

    @property
    def menu(self) -> tuple[tuple[str, float], ...]:
        """(name, contribution per round) of each action."""
        return tuple((level_name(v), v * self.fair_share_per_round) for v in self.levels)

    @property
    def observation_size(self) -> int:
        return NUM_OWN_SLOTS + self.num_labs - 1


_MILINSKI = CommonsConfig()

SCENARIOS: dict[str, Scenario[CommonsConfig]] = {
    s.name: s
    for s in (
        Scenario("baseline", "Milinski et al. (2008), 90% risk: six labs, 40 each, 10 rounds, target 120", _MILINSKI, ("default",), "equilibrium"),
        Scenario("milinski_50", "Milinski et al., 50% risk (the fair share is exactly indifferent)", dataclasses.replace(_MILINSKI, risk=0.5), (), "equilibrium"),
        Scenario("milinski_10", "Milinski et al., 10% risk (free riding pays)", dataclasses.replace(_MILINSKI, risk=0.1), (), "equilibrium"),
        Scenario(
            "santos_pacheco",
            "Santos & Pacheco (2011) one-shot threshold game: N = 6, M = 3 cooperators, c = 0.1, r = 0.3",
            CommonsConfig(num_labs=6, endowment=1.0, num_rounds=1, threshold=0.3, risk=0.3, levels=(0.0, 2.0), catastrophe_loss="endowment"),
            ("one-shot",),
            "fair_share",
        ),
    )
}


def list_scenarios() -> list[str]:
    return sorted(SCENARIOS)


# --------------------------------------------------------------------------------------------
# Batched dynamics
# --------------------------------------------------------------------------------------------


@dataclass
class CommonsState:
    """B games of N labs (every field has leading axis B)."""

    kept: np.ndarray  # (B, N) endowment not yet contributed
    contributed: np.ndarray  # (B, N) total contributed
    last_contribution: np.ndarray  # (B, N)
    step: np.ndarray  # (B,) int64 rounds played
    outcome: np.ndarray  # (B,) int8
    winner: np.ndarray  # (B,) int64, always -1


def reset_batch(config: CommonsConfig, rng: np.random.Generator, batch_size: int) -> CommonsState:
    B, N = batch_size, config.num_labs
    return CommonsState(
        kept=np.full((B, N), config.endowment),
        contributed=np.zeros((B, N)),
        last_contribution=np.zeros((B, N)),
        step=np.zeros(B, dtype=np.int64),
        outcome=np.zeros(B, dtype=np.int8),
        winner=np.full(B, -1, dtype=np.int64),
    )


def step_batch(config: CommonsConfig, state: CommonsState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
    """One round of contributions in every game (in place); the last round decides the outcome."""
    B, N = state.kept.shape
    amounts = np.asarray([amount for _, amount in config.menu])
    contribution = np.minimum(amounts[actions], state.kept)  # (B, N)
    state.kept -= contribution
    state.contributed += contribution
    state.last_contribution[...] = contribution
    state.step += 1
    state.outcome.fill(ONGOING)
    total = state.contributed.sum(axis=1)  # (B,)
    ended = state.step >= config.num_rounds
    met = total >= config.threshold * (1.0 - THRESHOLD_TOLERANCE)
    struck = ~met & (rng.random(B) < config.risk)
    state.outcome[...] = np.where(ended, np.where(met, TARGET_MET, np.where(struck, CATASTROPHE, SPARED)), ONGOING)
    loss = state.kept if config.catastrophe_loss == "kept" else config.endowment
    rewards = np.where(ended[:, None], state.kept - np.where(struck[:, None], loss, 0.0), 0.0)
    return StepResult(
        rewards=rewards,
        terminated=ended.copy(),
        truncated=np.zeros(B, dtype=bool),
        info={"outcome": state.outcome, "winner": state.winner, "group_total": total},
    )


def observe_batch(config: CommonsConfig, state: CommonsState) -> np.ndarray:
    B, N = state.kept.shape
    obs = np.empty((B, N, config.observation_size), dtype=np.float32)
    obs[..., 0] = (np.minimum(state.step, config.num_rounds) / config.num_rounds)[:, None]
    obs[..., 1] = state.kept / config.endowment
    obs[..., 2] = (state.contributed.sum(axis=1) / config.threshold)[:, None]
    obs[..., 3] = config.risk
    max_amount = max(config.levels) * config.fair_share_per_round
    obs[..., NUM_OWN_SLOTS:] = np.minimum(state.last_contribution / max_amount, 1.0)[:, other_labs(N)]
    return obs


def observation_slots(num_labs: int) -> list[str]:
    return ["time", "kept", "group_total", "risk"] + [f"other_{k}_last_contribution" for k in range(1, num_labs)]


# --------------------------------------------------------------------------------------------
# Closed forms (C1–C3)
# --------------------------------------------------------------------------------------------


def expected_payoff(
    own_total: Any, group_total: Any, endowment: float, threshold: float, risk: float, catastrophe_loss: str = "kept"
) -> Any:
    """(C1) Expected payoff of a lab that contributed ``own_total`` when the group gave ``group_total``."""
    kept = endowment - np.asarray(own_total, dtype=np.float64)
    met = np.asarray(group_total, dtype=np.float64) >= threshold * (1.0 - THRESHOLD_TOLERANCE)
    loss = kept if check_choice("catastrophe_loss", catastrophe_loss, LOSS_RULES) == "kept" else endowment
    return np.where(met, kept, kept - risk * loss)


def critical_risk(threshold: float, num_labs: int, endowment: float) -> float:
    """(C2) The risk above which the fair-share profile is a Nash equilibrium: ``M / (N E)``."""
    return threshold / (num_labs * endowment)


def fair_share_is_nash(risk: float, threshold: float, num_labs: int, endowment: float) -> bool:
    """(C2) Is everyone contributing ``M / N`` a Nash equilibrium? (``r >= M / (N E)``)."""
    return bool(risk >= critical_risk(threshold, num_labs, endowment) * (1.0 - 1e-12))


def smallest_total_at_least(config: CommonsConfig, need: float, max_sums: int = MAX_PARTIAL_SUMS) -> float | None:
    """(C4) The smallest total a lab can contribute over the R rounds that is at least ``need``
    (each round a menu amount, capped by what it still holds; ``inf`` if no total reaches
    ``need``); None if the menu has more than ``max_sums`` distinct partial sums below ``need``."""
    amounts = np.array(sorted({amount for _, amount in config.menu}))
    E, R = config.endowment, config.num_rounds
    floor = min(R * amounts[0], E)  # the least a lab can give: the smallest level every round
    if need <= floor:
        return floor
    if need > E:
        return math.inf
    # totals are R * smallest + the sum of R increments (0 included): enumerate the increments' sums
    # below what is needed; a sum reaching it is final (the remaining rounds add increment 0)
    increments, target = amounts - amounts[0], need - R * amounts[0]
    best, partial = math.inf, np.zeros(1)
    for _ in range(R):
        sums = (partial[:, None] + increments[None, :]).ravel()
        reached = sums >= target
        if reached.any():
            best = min(best, float(sums[reached].min()))
        below = sums[~reached]
        _, first = np.unique(np.round(below / E, 12), return_index=True)  # one of each (float) value
        below = below[first]
        if len(below) > max_sums:
            return None
        if len(below) == len(partial):  # with increment 0 the sums only grow: nothing new to reach
            break
        partial = below
    return min(R * amounts[0] + best, E)


def symmetric_payoff(config: CommonsConfig, level: float) -> float:
    """(C4) Every lab's expected payoff (C1) when each gives ``level`` fair shares every round."""
    c = config
    own = min(c.num_rounds * level * c.fair_share_per_round, c.endowment)
    return float(expected_payoff(own, c.num_labs * own, c.endowment, c.threshold, c.risk, c.catastrophe_loss))


def symmetric_deviation_gain(config: CommonsConfig, level: float) -> float | None:
    """(C4) The most one lab gains in expected payoff (C1) by deviating alone, with any sequence of
    menu levels, from every lab contributing ``level`` fair shares every round: ``<= 0`` iff that
    symmetric profile is a Nash equilibrium. None where :func:`smallest_total_at_least` gives up.

    Payoffs depend on a lab's total alone and fall with it on each side of the threshold, so the
    best deviations are the smallest total (missing the threshold, or meeting it anyway) and the
    smallest total that still meets the threshold given the others' contributions."""
    c = config
    own = min(c.num_rounds * level * c.fair_share_per_round, c.endowment)
    others = (c.num_labs - 1) * own

    def payoff(total: float) -> float:
        return float(expected_payoff(total, others + total, c.endowment, c.threshold, c.risk, c.catastrophe_loss))

    least = smallest_total_at_least(c, -math.inf)
    meeting = smallest_total_at_least(c, c.threshold * (1.0 - THRESHOLD_TOLERANCE) - others)
    if meeting is None:
        return None
    deviations = [least] + ([meeting] if math.isfinite(meeting) else [])
    return max(payoff(total) for total in deviations) - symmetric_payoff(c, level)


def santos_pacheco_payoffs(k: Any, num_labs: int, min_cooperators: int, risk: float, b: float = 1.0, c: float = 0.1) -> tuple[Any, Any]:
    """(C3) ``(Pi_D(k), Pi_C(k))``: payoffs of a defector / cooperator in a group with ``k`` cooperators."""
    k = np.asarray(k)
    reached = k >= min_cooperators
    defector = b * np.where(reached, 1.0, 1.0 - risk)
    return defector, defector - c * b


def santos_pacheco_gradient(x: Any, num_labs: int, min_cooperators: int, risk: float, c: float = 0.1) -> Any:
    """(C3) Gradient of selection ``g(x)`` (b = 1) in an infinite population with cooperator share x."""
    x = np.asarray(x, dtype=np.float64)
    N = num_labs
    total = np.zeros_like(x)
    for k in range(N):  # sum over the other N-1 group members (closed form, not the dynamics)
        weight = math.comb(N - 1, k) * x**k * (1.0 - x) ** (N - 1 - k)
        _, cooperator = santos_pacheco_payoffs(k + 1, N, min_cooperators, risk, 1.0, c)
        defector, _ = santos_pacheco_payoffs(k, N, min_cooperators, risk, 1.0, c)
        total = total + weight * (cooperator - defector)
    return x * (1.0 - x) * total


# --------------------------------------------------------------------------------------------
# The game object
# --------------------------------------------------------------------------------------------


class CommonsGame(BatchedGame[CommonsConfig, CommonsState]):
    metadata: ClassVar[dict[str, Any]] = {
        "name": "commons_v0",
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 2,
        "is_parallelizable": True,
    }
    scenarios = SCENARIOS
    config_class = CommonsConfig
    episode_length_field = "num_rounds"  # PettingZoo's max_cycles sets it

    def __init__(self, config: CommonsConfig, background: str = "equilibrium") -> None:
        if not isinstance(config, CommonsConfig):
            raise TypeError(f"config must be a CommonsConfig; got {type(config).__name__}")
        self.config = config
        self.background = background
        self.num_agents = config.num_labs
        high = np.ones(config.observation_size, dtype=np.float32)
        high[2] = np.float32(config.num_labs * config.endowment / config.threshold) * np.float32(1 + 1e-6)
        self.observation_space = spaces.Box(np.zeros_like(high), high, dtype=np.float32)
        self.action_space = spaces.Discrete(len(config.levels))
        self.observation_slots = observation_slots(config.num_labs)

    @cached_property
    def menu_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.config.menu)

    def reset(self, rng: np.random.Generator, batch_size: int) -> CommonsState:
        return reset_batch(self.config, rng, batch_size)

    def step(self, state: CommonsState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
        return step_batch(self.config, state, np.asarray(actions), rng)

    def observe(self, state: CommonsState) -> np.ndarray:
        return observe_batch(self.config, state)

    def agent_infos(self, state: CommonsState, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        # the same numeric keys every step, so that TorchRL and RLlib can stack them
        common = {"group_total": float(state.contributed[game].sum()), "outcome": int(state.outcome[game]), "winner": -1}
        return [
            {"kept": k, "contributed": x, **common}
            for k, x in zip(state.kept[game].tolist(), state.contributed[game].tolist())
        ]

    def render_ansi(self, state: CommonsState, game: int) -> str:
        c = self.config
        total = state.contributed[game].sum()
        progress = min(total / c.threshold, 1.0)
        lines = [
            f"commons_v0  round {int(state.step[game])}/{c.num_rounds}  risk={c.risk:g}  "
            f"total {total:.2f}/{c.threshold:g} [{'#' * int(round(20 * progress)):<20}]",
            f"{'lab':<7}{'kept':>9}{'given':>9}{'last':>8}",
        ]
        for i in range(self.num_agents):
            lines.append(
                f"{'lab_' + str(i):<7}{state.kept[game, i]:>9.2f}{state.contributed[game, i]:>9.2f}{state.last_contribution[game, i]:>8.2f}"
            )
        if state.outcome[game] != ONGOING:
            lines.append(f"outcome: {OUTCOMES[state.outcome[game]]}")
        return "\n".join(lines)

    def render_rgb(self, state: CommonsState, game: int) -> np.ndarray:
        c = self.config
        values = np.column_stack(
            [
                state.kept[game] / c.endowment,
                state.contributed[game] / c.endowment,
                state.last_contribution[game] / (max(c.levels) * c.fair_share_per_round),
            ]
        )  # (N, 3): kept, contributed, last contribution
        total = float(state.contributed[game].sum())
        return bar_chart(values, [min(total / c.threshold, 1.0), float(state.step[game]) / c.num_rounds])


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


make_config, make_game, parallel_env, env, gym_env = adapters.entry_points(CommonsGame, __name__)
