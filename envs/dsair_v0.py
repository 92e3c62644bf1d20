"""dsair_v0: the DSAIR race — labs repeatedly develop SAFE (slow, costly) or UNSAFE (fast, risky).

Description
-----------
Han, Pereira, Santos & Lenaerts (2020), "To regulate or not: a social dynamics analysis of an
idealised AI race", *Journal of Artificial Intelligence Research* 69, 881–921 (arXiv:1907.12393).
Teams race for supremacy in a technology: the first to complete ``W`` development steps wins the
prize ``B``. Every development round each team plays SAFE or UNSAFE:

* SAFE: one development step, paying the safety cost ``c``;
* UNSAFE: ``s`` development steps (``s > 1``, the speed-up from ignoring safety), no cost, but the
  team's project ends in disaster with probability ``p_r``, losing everything it gained.

Every round the teams also share a benefit ``b`` in proportion to their speed (two teams: ``b/2``
each at equal speed; ``b/(s+1)`` and ``s b/(s+1)`` for SAFE against UNSAFE).

The paper's payoff matrix (per-round average payoff of the row player; ``p = 1 - p_r``)::

                 SAFE                          UNSAFE
    SAFE     [ B/(2W) + b/2 - c             b/(s+1) - c              ]
    UNSAFE   [ p (s B/W + s b/(s+1))        p (s B/(2W) + b/2)       ]

and its regimes: *early AGI* (the prize is near, ``B/W`` dominates ``b`` and ``c``) and *late AGI*
(``W`` so large that the prize plays no role: a repeated game over the benefit ``b`` and cost
``c``). :func:`payoff_matrix` implements the matrix; :func:`risk_dominance_threshold` the ``p_r``
above which SAFE risk-dominates UNSAFE (``Pi_SS + Pi_SU > Pi_US + Pi_UU``; the condition for SAFE
to be favoured by selection in a large population), in the early-AGI limit ``1 - 1/(3s)``;
:func:`collective_threshold` the ``p_r`` above which all-SAFE beats all-UNSAFE for everyone, in the
early limit ``1 - 1/s``. Between the two lies the dilemma zone where regulation is needed
(:func:`dilemma_zone`). :func:`fixation_ratio` gives the finite-population (size Z) condition.
Provenance: the paper's full text could not be retrieved while this file was written (only its
abstract). The matrix above follows from the model's description (per-round averages over a race
of ``W`` rounds, or ``W/s`` when a lab plays UNSAFE; an UNSAFE lab keeps its gains with probability
``1 - p_r``) and agrees with an independent public replication of the paper's model (Paolo Bova's
``gh-pages-example`` notebooks: the short-run matrix ``[[b/2 - c, b/(s+1) - c], [s b/(s+1), b/2]]``
plus the prize terms, and the same two thresholds written as ``1 - (pi_11 + pi_12 + B/(2W)) /
(pi_21 + pi_22 + 3 s B/(2W))`` and ``1 - (pi_11 + B/(2W)) / (pi_22 + s B/(2W))``). The two early-AGI
boundaries follow in the limit ``B/W >> b, c``; the finite-population formula is the standard
pairwise-comparison (Fermi) result. The default values (``B = 10^4``, ``W = 100``, ``b = 4``,
``c = 1``, ``s = 1.5``) are of the paper's order but were not checked against its text. Tests check
every formula against payoffs the environment simulates.

How the environment implements the matrix (the episode is the race)
-------------------------------------------------------------------
Each round every lab i picks SAFE (0) or UNSAFE (1); speed ``v_i = 1`` or ``s``; progress
``d_i += v_i``; reward ``b v_i / sum_j v_j - c [SAFE]``. The race ends when a lab reaches ``W``
(labs reaching it in the same round split ``B``) or at ``max_rounds`` (time-out). At the end each
lab independently suffers a disaster with probability ``p_r * u_i``, ``u_i`` its share of UNSAFE
rounds, and loses the benefits and prize it gained (costs stay paid). For pure strategies this
reproduces the matrix exactly: total return / rounds = matrix entry when ``W/s`` is an integer
(:func:`race_returns` gives the exact totals otherwise). Extensions: more than two labs (benefit in
proportion to speed; prize split among the labs reaching ``W`` first), round-by-round switching
(risk in proportion to the UNSAFE share), and a round limit, which makes the late-AGI regime
playable (``W`` beyond reach within ``max_rounds``).

Action space
------------
``Discrete(2)``: 0 = SAFE, 1 = UNSAFE.

Observation space (lab i's view, float32, size ``4 + 2 (N - 1)``)
------------------------------------------------------------------
===============  ==================================================  =====  =====
index            meaning                                             min    max
===============  ==================================================  =====  =====
0                own progress ``min(d_i / W, 1)``                     0      1
1                round ``t / max_rounds``                            0      1
2                own share of UNSAFE rounds so far                   0      1
3                disaster risk ``p_r``                               0      1
4 + 2 (k - 1)    progress of lab i+k (mod N), ``min(d / W, 1)``      0      1
5 + 2 (k - 1)    last action of lab i+k (1 = UNSAFE; 0 before)        0      1
===============  ==================================================  =====  =====

Rewards
-------
Every round: ``b v_i / sum_j v_j - c [SAFE]``; at the end: plus the prize share; a lab hit by
disaster receives minus everything it gained (benefits and prize).

Episode end
-----------
*Termination* when a lab reaches ``W`` (outcome ``winner``, ``shared_prize`` or ``disaster``);
*truncation* at ``max_rounds`` with no prize (``timeout``, or ``disaster`` if a lab is hit, which
then terminates). Disaster takes precedence in ``outcome``.

Info keys
---------
The same numeric keys every step, per lab (so TorchRL and RLlib can stack them): ``progress``,
``unsafe_share``, ``outcome`` (index into ``OUTCOMES``, 0 while the race runs), ``winner`` (index of
the sole prize-taker not hit by disaster, else -1), ``disaster`` (1 if this lab was hit at the
end, else 0), ``prize`` (its prize share), ``rounds``. Batched: ``outcome``, ``winner``,
``disaster`` (B, N), ``prize`` (B, N).

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
from labrace.envs.core import BatchedGame, Scenario, StepResult, bar_chart, check_float, check_int, other_labs

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

OUTCOMES = ("ongoing", "winner", "shared_prize", "disaster", "timeout")
ONGOING, WINNER, SHARED_PRIZE, DISASTER, TIMEOUT = range(5)
SAFE_ACTION, UNSAFE_ACTION = 0, 1
#: names of the discrete actions (read by agents/evaluation.py)
ACTION_NAMES = ("SAFE", "UNSAFE")
RACING_ACTIONS = ("UNSAFE",)
NUM_OWN_SLOTS = 4


@dataclass(frozen=True)
class DsairConfig:
    """Every parameter of ``dsair_v0`` (the paper's names); validated on construction."""

    num_labs: int = 2
    B: float = 10_000.0  # prize for reaching W first
    W: int = 100  # development steps to supremacy
    s: float = 1.5  # speed-up of UNSAFE development (steps per round)
    b: float = 4.0  # benefit per round, shared in proportion to speed
    c: float = 1.0  # cost of SAFE development per round
    p_r: float = 0.6  # disaster risk of (always) UNSAFE development
    max_rounds: int = 100  # round limit (truncation)

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        set_("num_labs", check_int("num_labs", self.num_labs, 2, 10))
        set_("B", check_float("B", self.B, 0.0, 1e9))
        set_("W", check_int("W", self.W, 1, 10**9))
        set_("s", check_float("s", self.s, 1.0, 100.0))
        set_("b", check_float("b", self.b, 0.0, 1e6))
        set_("c", check_float("c", self.c, 0.0, 1e6))
        set_("p_r", check_float("p_r", self.p_r, 0.0, 1.0))
        set_("max_rounds", check_int("max_rounds", self.max_rounds, 1, 100_000))

    @property
    def observation_size(self) -> int:
        return NUM_OWN_SLOTS + 2 * (self.num_labs - 1)


_EARLY = DsairConfig()

SCENARIOS: dict[str, Scenario[DsairConfig]] = {
    s.name: s
    for s in (
        Scenario(
            "baseline",
            "early AGI (B/W = 100 >> b, c), s = 1.5, p_r = 0.6: inside the dilemma zone (1 - 1/s, 1 - 1/(3s))",
            _EARLY,
            ("default", "early"),
            "risk_dominant",
        ),
        Scenario(
            "early_agi",
            "early AGI, low risk (p_r = 0.2): UNSAFE is both risk-dominant and collectively preferred",
            dataclasses.replace(_EARLY, p_r=0.2),
            ("early",),
            "risk_dominant",
        ),
        Scenario(
            "early_agi_high_risk",
            "early AGI, high risk (p_r = 0.9): SAFE risk-dominates",
            dataclasses.replace(_EARLY, p_r=0.9),
            ("early",),
            "risk_dominant",
        ),
        Scenario(
            "late_agi",
            "late AGI: W = 10^6 is out of reach within 100 rounds; a repeated game over b and c",
            dataclasses.replace(_EARLY, W=10**6, p_r=0.6),
            ("late",),
            "risk_dominant",
        ),
    )
}


def list_scenarios() -> list[str]:
    return sorted(SCENARIOS)


# --------------------------------------------------------------------------------------------
# Batched dynamics
# --------------------------------------------------------------------------------------------


@dataclass
class DsairState:
    """B games of N labs (every field has leading axis B)."""

    progress: np.ndarray  # (B, N) development steps done
    step: np.ndarray  # (B,) int64 rounds played
    unsafe_rounds: np.ndarray  # (B, N) rounds played UNSAFE
    last_action: np.ndarray  # (B, N) int64, 0 before the first round
    gains: np.ndarray  # (B, N) benefits and prize gained (what a disaster takes)
    outcome: np.ndarray  # (B,) int8
    winner: np.ndarray  # (B,) int64
    disaster: np.ndarray  # (B, N) bool: hit at the end
    prize: np.ndarray  # (B, N) prize share received


def reset_batch(config: DsairConfig, rng: np.random.Generator, batch_size: int) -> DsairState:
    B, N = batch_size, config.num_labs
    return DsairState(
        progress=np.zeros((B, N)),
        step=np.zeros(B, dtype=np.int64),
        unsafe_rounds=np.zeros((B, N)),
        last_action=np.zeros((B, N), dtype=np.int64),
        gains=np.zeros((B, N)),
        outcome=np.zeros(B, dtype=np.int8),
        winner=np.full(B, -1, dtype=np.int64),
        disaster=np.zeros((B, N), dtype=bool),
        prize=np.zeros((B, N)),
    )


def step_batch(config: DsairConfig, state: DsairState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
    """One development round of every game (in place)."""
    B, N = state.progress.shape
    unsafe = actions == UNSAFE_ACTION  # (B, N)
    if state.outcome.any():  # a finished game stepped again restarts its bookkeeping of the end
        state.outcome.fill(ONGOING)
        state.winner.fill(-1)
        state.disaster.fill(False)
        state.prize.fill(0.0)
    speed = np.where(unsafe, config.s, 1.0)
    state.progress += speed
    state.step += 1
    state.unsafe_rounds += unsafe
    state.last_action[...] = actions
    benefit = config.b * speed / speed.sum(axis=1, keepdims=True)
    rewards = benefit - config.c * ~unsafe
    state.gains += benefit

    reached = state.progress >= config.W * (1.0 - 1e-12)  # (B, N)
    prize_reached = reached.any(axis=1)
    timeout = (state.step >= config.max_rounds) & ~prize_reached
    ended = prize_reached | timeout
    prize = np.where(reached, config.B / np.maximum(reached.sum(axis=1, keepdims=True), 1), 0.0)
    rewards += prize
    state.gains += prize
    hazard = config.p_r * state.unsafe_rounds / state.step[:, None]
    hit = (rng.random((B, N)) < hazard) & ended[:, None]
    rewards -= np.where(hit, state.gains, 0.0)

    sole = reached.sum(axis=1) == 1
    outcome = np.where(prize_reached, np.where(sole, WINNER, SHARED_PRIZE), np.where(timeout, TIMEOUT, ONGOING))
    any_hit = hit.any(axis=1)
    outcome[any_hit] = DISASTER
    first = np.argmax(reached, axis=1)
    winner_safe = ~hit[np.arange(B), first]
    state.outcome[...] = outcome
    state.winner[...] = np.where(prize_reached & sole & winner_safe, first, -1)
    state.disaster[...] = hit
    state.prize[...] = prize
    terminated = prize_reached | any_hit
    return StepResult(
        rewards=rewards,
        terminated=terminated,
        truncated=timeout & ~any_hit,
        info={"outcome": state.outcome, "winner": state.winner, "disaster": state.disaster, "prize": state.prize},
    )


def observe_batch(config: DsairConfig, state: DsairState) -> np.ndarray:
    B, N = state.progress.shape
    obs = np.empty((B, N, config.observation_size), dtype=np.float32)
    progress = np.minimum(state.progress / config.W, 1.0)
    others = other_labs(N)
    obs[..., 0] = progress
    obs[..., 1] = (np.minimum(state.step, config.max_rounds) / config.max_rounds)[:, None]
    obs[..., 2] = state.unsafe_rounds / np.maximum(state.step, 1)[:, None]
    obs[..., 3] = config.p_r
    obs[..., NUM_OWN_SLOTS::2] = progress[:, others]
    obs[..., NUM_OWN_SLOTS + 1 :: 2] = state.last_action[:, others]
    return obs


def observation_slots(num_labs: int) -> list[str]:
    names = ["progress", "time", "unsafe_share", "p_r"]
    for k in range(1, num_labs):
        names += [f"other_{k}_progress", f"other_{k}_last_unsafe"]
    return names


# --------------------------------------------------------------------------------------------
# Closed forms (the paper's payoff matrix and thresholds)
# --------------------------------------------------------------------------------------------


def payoff_matrix(B: float, W: float, s: float, b: float, c: float, p_r: float) -> np.ndarray:
    """The paper's 2x2 per-round payoff matrix of the row player (rows/cols: SAFE, UNSAFE)."""
    p = 1.0 - p_r
    return np.array(
        [
            [B / (2 * W) + b / 2 - c, b / (s + 1) - c],
            [p * (s * B / W + s * b / (s + 1)), p * (s * B / (2 * W) + b / 2)],
        ]
    )


def risk_dominance_threshold(B: float, W: float, s: float, b: float, c: float) -> float:
    """``p_r`` at which SAFE and UNSAFE are equally risk-dominant (``Pi_SS + Pi_SU = Pi_US + Pi_UU``).

    SAFE risk-dominates for larger ``p_r``. May lie outside [0, 1] (then one strategy always wins).
    """
    safe = payoff_matrix(B, W, s, b, c, 0.0)
    return float(1.0 - (safe[0, 0] + safe[0, 1]) / (safe[1, 0] + safe[1, 1]))


def collective_threshold(B: float, W: float, s: float, b: float, c: float) -> float:
    """``p_r`` above which all-SAFE pays every lab more than all-UNSAFE (``Pi_SS > Pi_UU``)."""
    safe = payoff_matrix(B, W, s, b, c, 0.0)
    return float(1.0 - safe[0, 0] / safe[1, 1])


def early_risk_dominance_threshold(s: Any) -> Any:
    """Early-AGI limit (``B/W >> b, c``) of :func:`risk_dominance_threshold`: ``1 - 1/(3s)``."""
    return 1.0 - 1.0 / (3.0 * np.asarray(s, dtype=np.float64))


def early_collective_threshold(s: Any) -> Any:
    """Early-AGI limit of :func:`collective_threshold`: ``1 - 1/s``."""
    return 1.0 - 1.0 / np.asarray(s, dtype=np.float64)


def dilemma_zone(B: float, W: float, s: float, b: float, c: float) -> tuple[float, float]:
    """``(lo, hi)``: for ``lo < p_r < hi`` all-SAFE is collectively preferred but UNSAFE risk-dominates."""
    return collective_threshold(B, W, s, b, c), risk_dominance_threshold(B, W, s, b, c)


def fixation_ratio(matrix: np.ndarray, Z: int, beta: float) -> float:
    """``rho_SAFE / rho_UNSAFE`` in a population of ``Z`` (pairwise comparison, selection ``beta``).

    ``exp(beta/2 ((Z-2)(a-d) + Z(b'-c')))`` for the matrix ``[[a, b'], [c', d]]``; > 1 means a single
    SAFE mutant fixates more easily than a single UNSAFE one. Tends to risk dominance as Z grows.
    """
    (a, b_), (c_, d) = np.asarray(matrix, dtype=np.float64)
    return float(np.exp(beta * ((Z - 2) * (a - d) + Z * (b_ - c_)) / 2.0))


def race_returns(config: DsairConfig, unsafe: Any) -> tuple[np.ndarray, int]:
    """Exact expected total return of every lab when each always plays ``unsafe[i]``; and the rounds.

    Discrete rounds: the race lasts ``min(max_rounds, ceil(W / max speed))`` rounds.
    """
    unsafe = np.asarray(unsafe, dtype=bool)
    speed = np.where(unsafe, config.s, 1.0)
    rounds_to_prize = int(np.ceil(config.W * (1.0 - 1e-12) / speed.max()))
    rounds = min(config.max_rounds, rounds_to_prize)
    reached = speed * rounds >= config.W * (1.0 - 1e-12)
    prize = np.where(reached, config.B / max(int(reached.sum()), 1), 0.0)
    gains = rounds * config.b * speed / speed.sum() + prize
    costs = rounds * config.c * ~unsafe
    return (1.0 - config.p_r * unsafe) * gains - costs, rounds


def expected_matrix(config: DsairConfig) -> np.ndarray:
    """The environment's own 2x2 per-round payoff matrix for two labs (exact; equals the paper's
    when ``W/s`` is an integer and the race fits within ``max_rounds``)."""
    out = np.empty((2, 2))
    for row in (0, 1):
        for col in (0, 1):
            returns, rounds = race_returns(dataclasses.replace(config, num_labs=2), [row, col])
            out[row, col] = returns[0] / rounds
    return out


# --------------------------------------------------------------------------------------------
# The game object
# --------------------------------------------------------------------------------------------


class DsairGame(BatchedGame[DsairConfig, DsairState]):
    metadata: ClassVar[dict[str, Any]] = {
        "name": "dsair_v0",
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4,
        "is_parallelizable": True,
    }
    scenarios = SCENARIOS
    config_class = DsairConfig

    def __init__(self, config: DsairConfig, background: str = "risk_dominant") -> None:
        if not isinstance(config, DsairConfig):
            raise TypeError(f"config must be a DsairConfig; got {type(config).__name__}")
        self.config = config
        self.background = background
        self.num_agents = config.num_labs
        self.observation_space = spaces.Box(0.0, 1.0, (config.observation_size,), dtype=np.float32)
        self.action_space = spaces.Discrete(2)
        self.observation_slots = observation_slots(config.num_labs)

    def reset(self, rng: np.random.Generator, batch_size: int) -> DsairState:
        return reset_batch(self.config, rng, batch_size)

    def step(self, state: DsairState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
        return step_batch(self.config, state, np.asarray(actions), rng)

    def observe(self, state: DsairState) -> np.ndarray:
        return observe_batch(self.config, state)

    def agent_infos(self, state: DsairState, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        # the same numeric keys every step, so that TorchRL and RLlib can stack them
        steps = int(state.step[game])
        common = {"outcome": int(state.outcome[game]), "winner": int(state.winner[game]), "rounds": steps}
        return [
            {"progress": float(d), "unsafe_share": float(u) / max(steps, 1), "disaster": int(x), "prize": float(p), **common}
            for d, u, x, p in zip(
                state.progress[game].tolist(), state.unsafe_rounds[game].tolist(), state.disaster[game].tolist(), state.prize[game].tolist()
            )
        ]

    def render_ansi(self, state: DsairState, game: int) -> str:
        c = self.config
        lines = [
            f"dsair_v0  round {int(state.step[game])}/{c.max_rounds}  W={c.W} s={c.s:g} p_r={c.p_r:g} B={c.B:g} b={c.b:g} c={c.c:g}",
            f"{'lab':<7}{'progress':>10}{'last':>8}{'unsafe%':>9}",
        ]
        steps = max(int(state.step[game]), 1)
        for i in range(self.num_agents):
            last = ACTION_NAMES[int(state.last_action[game, i])] if state.step[game] else "-"
            lines.append(
                f"{'lab_' + str(i):<7}{state.progress[game, i]:>10.1f}{last:>8}{100 * state.unsafe_rounds[game, i] / steps:>8.0f}%"
            )
        if state.outcome[game] != ONGOING:
            winner = int(state.winner[game])
            hit = [f"lab_{i}" for i in np.flatnonzero(state.disaster[game])]
            lines.append(
                f"outcome: {OUTCOMES[state.outcome[game]]}"
                + (f" lab_{winner}" if winner >= 0 else "")
                + (f" (disaster: {', '.join(hit)})" if hit else "")
            )
        return "\n".join(lines)

    def render_rgb(self, state: DsairState, game: int) -> np.ndarray:
        steps = max(int(state.step[game]), 1)
        values = np.column_stack(
            [
                np.minimum(state.progress[game] / self.config.W, 1.0),
                1.0 - state.unsafe_rounds[game] / steps,
                state.last_action[game].astype(np.float64),
            ]
        )  # (N, 3): progress, SAFE share, last action UNSAFE
        return bar_chart(values, [float(state.step[game]) / self.config.max_rounds])


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


make_config, make_game, parallel_env, env, gym_env = adapters.entry_points(DsairGame, __name__)
