"""race_v0: the frontier race — N AI labs choose research speed, safety work and cooperation.

Description
-----------
Each lab splits its effort every step over three activities: **speed** (grows its capability),
**safety** (grows its understanding of its own frontier system) and **cooperation** (a public
good: it adds to every lab's safety and to a shared coordination process that no lab can finish
alone). Labs differ in what they fear: ``misuse_concern`` (who ends up controlling the
technology) and ``accident_concern`` (a catastrophe that hurts everyone), and in how much they
trust each other lab to use the technology well. The model turns two arguments from the
AI-governance literature into parameters: the *cruel trade-off* (a misuse-worried lab that trusts
itself most has a reason to race, and racing raises accident risk for all) and *pivotal processes
vs pivotal acts* (a safe outcome reached by many actors together, rather than by one actor's
unilateral act, whose possibility frightens the others into racing). See ``../shared/DESIGN.md``.

Source: labrace's flagship model (this package). It generalises Armstrong, Bostrom & Shulman
(2016), "Racing to the precipice" (``precipice_v0``), the DSAIR race of Han et al. (2020)
(``dsair_v0``) and the collective-risk dilemma (``commons_v0``).

Dynamics (one step, all labs simultaneously; capability threshold and coordination threshold are 1)
------------------------------------------------------------------------------------------------------
With lab i's allocation (speed_i, safety_i, coop_i) (non-negative, summing to 1)::

    C_i   += capability_growth * speed_i                                   (capability never falls)
    S_i   += safety_growth * (safety_i + cooperation_spillover * mean_j coop_j)
    G     += coordination_rate * sum_j coop_j                              (coordination progress)
    rho_i  = clip(S_i / C_i, 0, 1)                                         (safety ratio)
    h_i    = accident_rate * speed_i * min(C_i, 1) * (1 - rho_i)           (accident hazard)

Then, in this order of precedence, the first event that happens ends the episode:

1. **accident**: lab i has an accident with probability ``h_i`` → catastrophe.
2. **pivotal act** (only if ``pivotal_act=True``): a lab that attempts one succeeds with probability
   ``rho_i * clip(lead_i / pivotal_lead_scale, 0, 1)``, where ``lead_i = C_i - max_{j != i} C_j``;
   success ends the race with that lab as winner. A failure causes a catastrophe with probability
   ``pivotal_failure_risk``; otherwise the race goes on. Any attempt lowers every other lab's trust
   in the actor by ``pivotal_trust_penalty`` (floored at 0).
3. **frontier reached**: the lab with the highest capability among those with ``C_i >= 1`` (ties
   broken at random) is first; its system is misaligned with probability
   ``misalignment_risk * (1 - rho_winner)`` → catastrophe, else it wins safely.
4. **coordinated outcome**: ``G >= 1`` (the distributed pivotal process finished first).
5. **time-out**: ``t == max_steps`` with none of the above (truncation, not termination).

Rewards (terminal only; zero on every other step)
-------------------------------------------------
=====================  ==============================================================================
outcome                reward of lab j
=====================  ==============================================================================
catastrophe            ``-accident_concern_j * catastrophe_loss``
winner w (or pivotal)  ``frontier_value * ((1 - misuse_j) + misuse_j * trust_jw)`` (+ ``winner_bonus`` if j = w)
coordinated            ``coordination_value``
time-out               ``status_quo_value``
=====================  ==============================================================================

``trust_jj = self_trust`` (default 1: "we are the best actor"), so a misuse-worried lab that
distrusts the others values its own win far above theirs.

Lab types
---------
At reset each lab's ``misuse_concern``, ``accident_concern`` and its trust in every other lab are
drawn uniformly from the ranges of its type (``LAB_TYPES``: ``neutral``, ``hawk``, ``dove``,
``uniform``, or a :class:`LabType` you define). ``lab_types`` lists the types of lab_0, lab_1, …;
its last entry fills the remaining labs, so ``("hawk", "dove")`` is one hawk among doves. An entry
may also be a mapping with the three ranges (``{"misuse_concern": (0.9, 0.9), "accident_concern":
(0.1, 0.1), "trust": (0.2, 0.2)}``), which is how configs read back from JSON.

Action space
------------
``action_type="continuous"``: ``Box(0, 1, (3,))`` = (speed, safety, cooperation) effort, normalised
to sum to 1 (all zeros means an equal split); with ``pivotal_act=True`` a fourth component > 0.5
is an attempt at a unilateral pivotal act, so the shape is (4,).
``action_type="discrete"``: ``Discrete(len(menu))`` over the named allocations of ``MENU`` (plus
``pivotal_act``, racing while attempting the act, when allowed).

Observation space (lab i's view, egocentric, float32, size ``7 + 3 * (N - 1)``)
----------------------------------------------------------------------------
===================  ========================================================  =====  =====
index                meaning                                                   min    max
===================  ========================================================  =====  =====
0                    own capability C_i (threshold = 1)                        0      2
1                    own safety ratio rho_i                                    0      1
2                    own misuse concern                                        0      1
3                    own accident concern                                      0      1
4                    coordination progress min(G, 1)                          0      1
5                    time t / max_steps                                        0      1
6                    pivotal act allowed (0 or 1)                              0      1
7 + 3(k-1)           capability of lab i+k (mod N) as ``capability_info``      0      2
                     allows: ``public`` exact, ``noisy`` exact + N(0, sd)
                     (clipped), ``none`` always 0
8 + 3(k-1)           last cooperation share of lab i+k                         0      1
9 + 3(k-1)           trust of lab i in lab i+k                                 0      1
===================  ========================================================  =====  =====

Starting state
--------------
``C_i ~ U(initial_capability)``, ``S_i ~ U(initial_safety)``, ``G = 0``, ``t = 0``, last
allocations zero; types as above.

Episode end
-----------
*Termination* on catastrophe, a winner, a successful pivotal act or the coordinated outcome;
*truncation* at ``max_steps`` (the time-out outcome). All labs end together.

Info keys
---------
Every step, per lab, the same keys with numeric values (so that libraries which stack infos into
arrays, such as TorchRL and RLlib, take them as they are):

======================  ========================================================================
key                     value
======================  ========================================================================
accident_hazard         this step's h_i (a probability)
capability              C_i
safety_ratio            rho_i
coordination_progress   G
outcome                 index into ``OUTCOMES``: 0 ongoing, 1 catastrophe, 2 winner, 3 pivotal_act,
                        4 coordinated, 5 timeout
winner                  index of the winning lab (winner or pivotal act), else -1
cause                   index into ``CAUSES``: 0 none, 1 accident, 2 misaligned, 3 pivotal_failure
catastrophe_lab         index of the lab whose accident, misaligned system or failed act caused
                        the catastrophe, else -1
steps                   steps taken so far
======================  ========================================================================

``describe_outcome(info)`` turns them into text, e.g. ``"catastrophe (accident) lab_2"``.

Arguments
---------
``race_v0.parallel_env(scenario="baseline", config=None, render_mode=None, **overrides)`` and
``race_v0.env(...)`` (AEC). Any :class:`RaceConfig` field can be overridden by keyword;
``scenario`` names a preset of ``SCENARIOS`` (``list_scenarios()``; ``print(SCENARIOS[name])``).
Render modes: ``ansi`` (text table), ``rgb_array`` (bars per lab), ``human`` (prints the table).

Version history
---------------
* v0: initial release.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from labrace.envs import adapters
from labrace.envs.core import (
    BatchedGame,
    Scenario,
    StepResult,
    agent_names,
    bar_chart,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_interval,
)

# --------------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------------

#: outcome codes of the batched core, in ``info["outcome"]`` (index into ``OUTCOMES``)
OUTCOMES = ("ongoing", "catastrophe", "winner", "pivotal_act", "coordinated", "timeout")
ONGOING, CATASTROPHE, WINNER, PIVOTAL_ACT, COORDINATED, TIMEOUT = range(6)
#: catastrophe causes, in ``info["cause"]``
CAUSES = (None, "accident", "misaligned", "pivotal_failure")
NO_CAUSE, ACCIDENT, MISALIGNED, PIVOTAL_FAILURE = range(4)

ALLOCATION_NAMES = ("speed", "safety", "cooperation")

#: the discrete-action menu: (name, (speed, safety, cooperation))
MENU: tuple[tuple[str, tuple[float, float, float]], ...] = (
    ("race", (1.0, 0.0, 0.0)),
    ("fast", (0.7, 0.3, 0.0)),
    ("balanced", (1 / 3, 1 / 3, 1 / 3)),
    ("careful", (0.3, 0.7, 0.0)),
    ("safe", (0.0, 1.0, 0.0)),
    ("cooperate", (0.0, 0.0, 1.0)),
    ("safe_cooperate", (0.0, 0.5, 0.5)),
)
#: extra discrete action when ``pivotal_act=True``: race and attempt the unilateral act
PIVOTAL_MENU_ITEM = ("pivotal_act", (1.0, 0.0, 0.0))

NUM_OWN_SLOTS = 7
SLOTS_PER_OTHER = 3


@dataclass(frozen=True)
class LabType:
    """Ranges (lo, hi) from which a lab's concerns and its trust in each other lab are drawn."""

    misuse_concern: tuple[float, float]
    accident_concern: tuple[float, float]
    trust: tuple[float, float]

    def __post_init__(self) -> None:
        for name in ("misuse_concern", "accident_concern", "trust"):
            object.__setattr__(self, name, check_interval(f"LabType.{name}", getattr(self, name), 0.0, 1.0))


LAB_TYPES: dict[str, LabType] = {
    "neutral": LabType(misuse_concern=(0.3, 0.7), accident_concern=(0.3, 0.7), trust=(0.3, 0.7)),
    # worried about who controls the technology, trusts no one else, shrugs at accidents
    "hawk": LabType(misuse_concern=(0.8, 1.0), accident_concern=(0.0, 0.2), trust=(0.0, 0.2)),
    # worried about accidents, trusts the others to use the technology well
    "dove": LabType(misuse_concern=(0.0, 0.2), accident_concern=(0.8, 1.0), trust=(0.6, 0.9)),
    "uniform": LabType(misuse_concern=(0.0, 1.0), accident_concern=(0.0, 1.0), trust=(0.0, 1.0)),
}


# --------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RaceConfig:
    """Every parameter of ``race_v0``; validated on construction (ValueError names field and range)."""

    num_labs: int = 3
    max_steps: int = 50
    action_type: str = "continuous"  # "continuous" | "discrete"
    capability_info: str = "public"  # "none" | "noisy" | "public"
    capability_noise: float = 0.1  # sd of the noisy capability estimate (threshold units)
    lab_types: tuple[str | LabType, ...] = ("neutral",)
    self_trust: float = 1.0  # trust_ii: how well a lab expects itself to use the technology
    initial_capability: tuple[float, float] = (0.05, 0.15)
    initial_safety: tuple[float, float] = (0.05, 0.15)
    capability_growth: float = 0.07  # capability gained per step at full speed
    safety_growth: float = 0.037  # safety gained per step at full safety effort (calibrated, see tests)
    cooperation_spillover: float = 0.5  # safety gained from the mean cooperation, relative to own work
    coordination_rate: float = 0.019  # coordination progress per unit of summed cooperation per step
    accident_rate: float = 0.1  # accident probability per step at full speed, capability, unsafety
    misalignment_risk: float = 1.0  # P(misaligned winner) = misalignment_risk * (1 - rho_winner)
    frontier_value: float = 1.0  # V
    winner_bonus: float = 1.0  # extra value of reaching the frontier oneself
    coordination_value: float = 1.2  # V_c, to every lab
    catastrophe_loss: float = 10.0  # L; lab j loses accident_concern_j * L
    status_quo_value: float = 0.0
    pivotal_act: bool = False
    pivotal_lead_scale: float = 0.3
    pivotal_failure_risk: float = 0.5
    pivotal_trust_penalty: float = 0.5

    def __post_init__(self) -> None:
        set_ = lambda name, value: object.__setattr__(self, name, value)  # noqa: E731 (frozen)
        set_("num_labs", check_int("num_labs", self.num_labs, 2, 16))
        set_("max_steps", check_int("max_steps", self.max_steps, 1, 100_000))
        check_choice("action_type", self.action_type, ("continuous", "discrete"))
        check_choice("capability_info", self.capability_info, ("none", "noisy", "public"))
        set_("capability_noise", check_float("capability_noise", self.capability_noise, 0.0, 1.0))
        set_("lab_types", _check_lab_types(self.lab_types, self.num_labs))
        set_("self_trust", check_float("self_trust", self.self_trust, 0.0, 1.0))
        set_("initial_capability", check_interval("initial_capability", self.initial_capability, 0.0, 1.0))
        if self.initial_capability[0] <= 0.0 or self.initial_capability[1] >= 1.0:
            raise ValueError(
                "initial_capability must be a pair (lo, hi) with 0 < lo <= hi < 1 "
                f"(below the capability threshold 1); got {self.initial_capability}"
            )
        set_("initial_safety", check_interval("initial_safety", self.initial_safety, 0.0, 1.0))
        for name in ("capability_growth", "safety_growth", "coordination_rate"):
            set_(name, check_float(name, getattr(self, name), 0.0, 1.0, low_open=True))
        set_("cooperation_spillover", check_float("cooperation_spillover", self.cooperation_spillover, 0.0, 10.0))
        for name in ("accident_rate", "misalignment_risk", "pivotal_failure_risk", "pivotal_trust_penalty"):
            set_(name, check_float(name, getattr(self, name), 0.0, 1.0))
        for name in ("frontier_value", "winner_bonus", "coordination_value", "catastrophe_loss"):
            set_(name, check_float(name, getattr(self, name), 0.0, 1e6))
        set_("status_quo_value", check_float("status_quo_value", self.status_quo_value, -1e6, 1e6))
        set_("pivotal_act", check_bool("pivotal_act", self.pivotal_act))
        set_("pivotal_lead_scale", check_float("pivotal_lead_scale", self.pivotal_lead_scale, 0.0, 1.0, low_open=True))

    @property
    def observation_size(self) -> int:
        return NUM_OWN_SLOTS + SLOTS_PER_OTHER * (self.num_labs - 1)

    @property
    def menu(self) -> tuple[tuple[str, tuple[float, float, float]], ...]:
        return MENU + ((PIVOTAL_MENU_ITEM,) if self.pivotal_act else ())

    def lab_type(self, lab: int) -> LabType:
        """The type of lab ``lab`` (the last entry of ``lab_types`` fills the remaining labs)."""
        entry = self.lab_types[min(lab, len(self.lab_types) - 1)]
        return LAB_TYPES[entry] if isinstance(entry, str) else entry


def _check_lab_types(value: Any, num_labs: int) -> tuple[str | LabType, ...]:
    if isinstance(value, (str, LabType)):
        value = (value,)
    try:
        entries = tuple(value)
    except TypeError:
        raise ValueError(f"lab_types must be a sequence of type names {sorted(LAB_TYPES)} or LabType; got {value!r}") from None
    if not 1 <= len(entries) <= num_labs:
        raise ValueError(f"lab_types must list between 1 and num_labs={num_labs} types; got {len(entries)}")
    # a mapping {misuse_concern: (lo, hi), accident_concern: ..., trust: ...} is a LabType too, so
    # that a config written as JSON (or given on the command line) reads back as it was
    entries = tuple(_lab_type_from_mapping(e) if isinstance(e, Mapping) else e for e in entries)
    for entry in entries:
        if not isinstance(entry, LabType) and entry not in LAB_TYPES:
            raise ValueError(f"lab_types entries must be one of {sorted(LAB_TYPES)} or a LabType; got {entry!r}")
    return entries


def _lab_type_from_mapping(entry: Mapping[str, Any]) -> LabType:
    fields = {f.name for f in dataclasses.fields(LabType)}
    if set(entry) != fields:
        raise ValueError(f"a lab_types entry given as a mapping needs exactly the keys {sorted(fields)}; got {sorted(entry)}")
    return LabType(**entry)


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

_BASE = RaceConfig()

SCENARIOS: dict[str, Scenario[RaceConfig]] = {
    s.name: s
    for s in (
        Scenario("baseline", "three neutral labs; public capabilities; no pivotal act", _BASE, ("default",)),
        Scenario(
            "misuse_hawks",
            "every lab fears misuse by the others and shrugs at accident risk",
            dataclasses.replace(_BASE, lab_types=("hawk",)),
            ("misuse", "H1"),
        ),
        Scenario(
            "accident_doves",
            "every lab fears accidents and trusts the others",
            dataclasses.replace(_BASE, lab_types=("dove",)),
            ("accident", "H1"),
        ),
        Scenario(
            "cruel_tradeoff",
            "one misuse hawk among accident doves: the hawk's reason to race is the doves' risk",
            dataclasses.replace(_BASE, lab_types=("hawk", "dove")),
            ("misuse", "accident", "H1"),
        ),
        Scenario(
            "pivotal_act",
            "neutral labs that may attempt a unilateral pivotal act",
            dataclasses.replace(_BASE, pivotal_act=True),
            ("pivotal act", "H2"),
        ),
        Scenario(
            "easy_coordination",
            "neutral labs; the shared coordination process needs half the effort",
            dataclasses.replace(_BASE, coordination_rate=2 * _BASE.coordination_rate),
            ("pivotal process", "H2"),
        ),
    )
}


def list_scenarios() -> list[str]:
    return sorted(SCENARIOS)


# --------------------------------------------------------------------------------------------
# Batched dynamics (pure numpy over B games x N labs; no loop over labs or games)
# --------------------------------------------------------------------------------------------


@dataclass
class RaceState:
    """B games of N labs. Updated in place by :func:`step_batch`."""

    capability: np.ndarray  # (B, N) C_i, threshold 1
    safety: np.ndarray  # (B, N) S_i
    safety_ratio: np.ndarray  # (B, N) rho_i = clip(S_i / C_i, 0, 1)
    coordination_progress: np.ndarray  # (B,) G, threshold 1
    step: np.ndarray  # (B,) int64 t
    misuse_concern: np.ndarray  # (B, N)
    accident_concern: np.ndarray  # (B, N)
    trust: np.ndarray  # (B, N, N) trust[b, i, j] = lab i's trust in lab j
    last_allocation: np.ndarray  # (B, N, 3) (speed, safety, cooperation) of the last step
    accident_hazard: np.ndarray  # (B, N) h_i of the last step
    observed_capability: np.ndarray  # (B, N, N-1) noisy view of lab i+k's capability ("noisy" only)
    static_observation: np.ndarray  # (B, N, obs_dim) float32: the slots that change only at reset or with trust
    outcome: np.ndarray  # (B,) int8 index into OUTCOMES, set by the last step
    winner: np.ndarray  # (B,) int64, -1 if none
    cause: np.ndarray  # (B,) int8 index into CAUSES
    catastrophe_lab: np.ndarray  # (B,) int64, -1 if none


@lru_cache(maxsize=None)
def other_labs(num_labs: int) -> np.ndarray:
    """(N, N-1) index array: row i lists labs i+1, ..., i+N-1 (mod N), the egocentric order."""
    others = (np.arange(num_labs)[:, None] + np.arange(1, num_labs)[None, :]) % num_labs
    others.flags.writeable = False
    return others


@lru_cache(maxsize=None)
def _own_rows(num_labs: int) -> np.ndarray:
    rows = np.arange(num_labs)[:, None]
    rows.flags.writeable = False
    return rows


#: from this many games on, sums over labs use a matrix-vector product: numpy's reductions over a
#: short axis are several times slower than BLAS there (and faster on a few games)
_MATMUL_FROM = 256


def per_game_sum(values: np.ndarray) -> np.ndarray:
    """(B, N) → (B,) sum over labs."""
    return values @ np.ones(values.shape[1]) if len(values) >= _MATMUL_FROM else values.sum(axis=1)


def per_game_any(flags: np.ndarray) -> np.ndarray:
    """(B, N) bool → (B,) any over labs (N <= 16, so uint8 counts cannot overflow)."""
    if len(flags) < _MATMUL_FROM:
        return flags.any(axis=1)
    return (np.ascontiguousarray(flags).view(np.uint8) @ np.ones(flags.shape[1], dtype=np.uint8)) > 0


@lru_cache(maxsize=256)
def type_bounds(config: RaceConfig) -> np.ndarray:
    """(3, 2, N) array: [misuse, accident, trust] x [lo, hi] x lab."""
    types = [config.lab_type(i) for i in range(config.num_labs)]
    bounds = np.array(
        [[[getattr(t, name)[k] for t in types] for k in (0, 1)] for name in ("misuse_concern", "accident_concern", "trust")]
    )
    bounds.flags.writeable = False
    return bounds


def reset_batch(config: RaceConfig, rng: np.random.Generator, batch_size: int) -> RaceState:
    """Draw ``batch_size`` fresh games."""
    B, N = batch_size, config.num_labs
    bounds = type_bounds(config)  # (3, 2, N)
    lo, span = bounds[:, 0], bounds[:, 1] - bounds[:, 0]  # (3, N)
    misuse = lo[0] + span[0] * rng.random((B, N))
    accident = lo[1] + span[1] * rng.random((B, N))
    trust = lo[2][None, :, None] + span[2][None, :, None] * rng.random((B, N, N))  # row i: lab i's range
    trust[:, np.arange(N), np.arange(N)] = config.self_trust
    c_lo, c_hi = config.initial_capability
    s_lo, s_hi = config.initial_safety
    capability = c_lo + (c_hi - c_lo) * rng.random((B, N))
    safety = s_lo + (s_hi - s_lo) * rng.random((B, N))
    state = RaceState(
        capability=capability,
        safety=safety,
        safety_ratio=np.minimum(safety / capability, 1.0),
        coordination_progress=np.zeros(B),
        step=np.zeros(B, dtype=np.int64),
        misuse_concern=misuse,
        accident_concern=accident,
        trust=trust,
        last_allocation=np.zeros((B, N, 3)),
        accident_hazard=np.zeros((B, N)),
        observed_capability=np.zeros((B, N, N - 1)),
        outcome=np.zeros(B, dtype=np.int8),
        winner=np.full(B, -1, dtype=np.int64),
        cause=np.zeros(B, dtype=np.int8),
        catastrophe_lab=np.full(B, -1, dtype=np.int64),
        static_observation=np.zeros((B, N, config.observation_size), dtype=np.float32),
    )
    state.static_observation[..., 2] = misuse
    state.static_observation[..., 3] = accident
    state.static_observation[..., 6] = float(config.pivotal_act)
    _observe_trust(state, slice(None))
    _observe_noisy_capability(config, state, rng)
    return state


def _observe_trust(state: RaceState, games: Any) -> None:
    """Refresh the trust slots of the static observation of ``games`` (at reset, after penalties)."""
    N = state.capability.shape[1]
    state.static_observation[games, :, 9::3] = state.trust[games][:, _own_rows(N), other_labs(N)]


def _observe_noisy_capability(config: RaceConfig, state: RaceState, rng: np.random.Generator) -> None:
    """Fresh noisy estimates of the others' capability (only in the ``noisy`` regime)."""
    if config.capability_info == "noisy":
        seen = state.capability[:, other_labs(config.num_labs)]  # (B, N, N-1)
        seen += config.capability_noise * rng.standard_normal(seen.shape)
        np.clip(seen, 0.0, 2.0, out=state.observed_capability)


def actions_to_allocation(config: RaceConfig, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated actions (B, N[, 3|4]) → allocation (B, N, 3) summing to 1, pivotal attempts (B, N) or None."""
    if config.action_type == "discrete":
        table, attempts = _menu_tables(config.pivotal_act)
        return table[actions], (attempts[actions] if config.pivotal_act else None)
    attempts = actions[..., 3] > 0.5 if config.pivotal_act else None
    effort = actions[..., :3]
    if effort.size >= 3 * _MATMUL_FROM:
        total = (effort[..., 0] + effort[..., 1] + effort[..., 2])[..., None]  # faster than a short-axis sum
    else:
        total = effort.sum(axis=-1, keepdims=True)
    if np.minimum.reduce(total, axis=None) > 0.0:
        return effort / total, attempts
    # an all-zero effort vector means "no preference": an equal split
    allocation = effort / np.maximum(total, 1e-300)
    allocation[total[..., 0] <= 0.0] = 1.0 / 3.0
    return allocation, attempts


@lru_cache(maxsize=None)
def _menu_tables(pivotal_act: bool) -> tuple[np.ndarray, np.ndarray]:
    menu = MENU + ((PIVOTAL_MENU_ITEM,) if pivotal_act else ())
    table = np.array([allocation for _, allocation in menu])  # (K, 3)
    attempts = np.array([name == PIVOTAL_MENU_ITEM[0] for name, _ in menu])
    table.flags.writeable = attempts.flags.writeable = False
    return table, attempts


def step_batch(
    config: RaceConfig,
    state: RaceState,
    allocation: np.ndarray,  # (B, N, 3) rows sum to 1
    pivotal_attempt: np.ndarray | None,  # (B, N) bool, or None when no lab attempts
    rng: np.random.Generator,
) -> StepResult:
    """Advance every game one step (in place); return rewards, terminated, truncated and info."""
    B, N = state.capability.shape
    speed, safety_work, cooperation = allocation[..., 0], allocation[..., 1], allocation[..., 2]

    # -- growth ------------------------------------------------------------------------------
    state.step += 1
    state.capability += config.capability_growth * speed
    total_cooperation = per_game_sum(cooperation)  # (B,)
    state.safety += config.safety_growth * (safety_work + (config.cooperation_spillover / N) * total_cooperation[:, None])
    state.coordination_progress += config.coordination_rate * total_cooperation
    state.last_allocation[...] = allocation
    ratio = np.divide(state.safety, state.capability, out=state.safety_ratio)
    np.minimum(ratio, 1.0, out=ratio)  # S and C are positive, so ratio > 0
    hazard = np.minimum(state.capability, 1.0, out=state.accident_hazard)
    hazard *= speed
    hazard *= config.accident_rate - config.accident_rate * ratio

    # -- which games have an event this step; only those need the (rarer) outcome logic --------
    accident_lab = rng.random((B, N)) < hazard  # (B, N)
    lab_event = accident_lab | (state.capability >= 1.0)
    if pivotal_attempt is not None:
        lab_event |= pivotal_attempt

    if np.count_nonzero(state.outcome):  # left over from a finished game that is stepped on
        state.outcome.fill(ONGOING)
        state.cause.fill(NO_CAUSE)
        state.winner.fill(-1)
        state.catastrophe_lab.fill(-1)
    rewards = np.zeros((B, N))
    terminated = np.zeros(B, dtype=bool)
    truncated = np.zeros(B, dtype=bool)
    # whole-batch counts first (count_nonzero is the cheapest reduction): on most steps of a small
    # batch nothing happens
    if (
        np.count_nonzero(lab_event)
        or np.count_nonzero(state.coordination_progress >= 1.0)
        or np.count_nonzero(state.step >= config.max_steps)
    ):
        game_event = per_game_any(lab_event)
        game_event |= state.coordination_progress >= 1.0
        game_event |= state.step >= config.max_steps
        games = np.flatnonzero(game_event)
        attempts = pivotal_attempt[games] if pivotal_attempt is not None else None
        _resolve_events(config, state, games, accident_lab[games], attempts, rng)
        outcome = state.outcome[games]
        finished = games[outcome != ONGOING]
        rewards[finished] = _terminal_rewards(config, state, finished)
        terminated[games] = (outcome != ONGOING) & (outcome != TIMEOUT)
        truncated[games] = outcome == TIMEOUT
    _observe_noisy_capability(config, state, rng)
    return StepResult(
        rewards=rewards,
        terminated=terminated,
        truncated=truncated,
        info={
            "outcome": state.outcome,
            "winner": state.winner,
            "cause": state.cause,
            "catastrophe_lab": state.catastrophe_lab,
            "accident_hazard": state.accident_hazard,
        },
    )


def _resolve_events(
    config: RaceConfig,
    state: RaceState,
    games: np.ndarray,  # (G,) games with an event this step
    accident_lab: np.ndarray,  # (G, N)
    attempt: np.ndarray | None,  # (G, N)
    rng: np.random.Generator,
) -> None:
    """Outcomes of the games with an event, written from lowest to highest precedence."""
    G, N = accident_lab.shape
    capability, ratio = state.capability[games], state.safety_ratio[games]  # (G, N)
    tiebreak, u_misaligned = rng.random((2, G, N))
    outcome = np.where(state.step[games] >= config.max_steps, TIMEOUT, ONGOING).astype(np.int8)
    outcome[state.coordination_progress[games] >= 1.0] = COORDINATED
    cause = np.zeros(G, dtype=np.int8)
    winner = np.full(G, -1, dtype=np.int64)
    culprit = np.full(G, -1, dtype=np.int64)
    rows = np.arange(G)

    reached = capability >= 1.0  # frontier: the most capable lab that reached it is first
    frontier = reached.any(axis=1)
    first = np.argmax(np.where(reached, capability + 1e-9 * tiebreak, -np.inf), axis=1)
    misaligned = frontier & (u_misaligned[rows, first] < config.misalignment_risk * (1.0 - ratio[rows, first]))
    safe_win = frontier & ~misaligned
    outcome[safe_win], winner[safe_win] = WINNER, first[safe_win]
    outcome[misaligned], cause[misaligned], culprit[misaligned] = CATASTROPHE, MISALIGNED, first[misaligned]

    if attempt is not None and attempt.any():
        # lead over the best other lab: max over j != i of C_j is the top C, or the runner-up for the top lab
        ranked = np.sort(capability, axis=1)
        best_other = np.where(capability >= ranked[:, -1:], ranked[:, -2:-1], ranked[:, -1:])
        p_success = ratio * np.clip((capability - best_other) / config.pivotal_lead_scale, 0.0, 1.0)
        u_success, u_failure = rng.random((2, G, N))
        success = attempt & (u_success < p_success)
        failure_catastrophe = attempt & ~success & (u_failure < config.pivotal_failure_risk)
        # every attempt, successful or not, costs the actor the other labs' trust
        penalty = config.pivotal_trust_penalty * (attempt[:, None, :] & ~np.eye(attempt.shape[1], dtype=bool))
        state.trust[games] = np.maximum(state.trust[games] - penalty, 0.0)
        _observe_trust(state, games)
        seized = success.any(axis=1)
        actor = np.argmax(np.where(success, tiebreak, -1.0), axis=1)
        outcome[seized], cause[seized], winner[seized], culprit[seized] = PIVOTAL_ACT, NO_CAUSE, actor[seized], -1
        failed = failure_catastrophe.any(axis=1) & ~seized
        actor = np.argmax(np.where(failure_catastrophe, tiebreak, -1.0), axis=1)
        outcome[failed], cause[failed], winner[failed], culprit[failed] = CATASTROPHE, PIVOTAL_FAILURE, -1, actor[failed]

    crashed = accident_lab.any(axis=1)
    lab = np.argmax(np.where(accident_lab, tiebreak, -1.0), axis=1)  # one of the crashing labs, at random
    outcome[crashed], cause[crashed], winner[crashed], culprit[crashed] = CATASTROPHE, ACCIDENT, -1, lab[crashed]

    state.outcome[games], state.cause[games] = outcome, cause
    state.winner[games], state.catastrophe_lab[games] = winner, culprit


def _terminal_rewards(config: RaceConfig, state: RaceState, games: np.ndarray) -> np.ndarray:
    """(len(games), N) rewards of finished games."""
    outcome = state.outcome[games]  # (G,)
    misuse = state.misuse_concern[games]
    winner = np.maximum(state.winner[games], 0)
    trust_in_winner = state.trust[games, :, winner]  # (G, N): trust[g, j, winner_g]
    win_value = config.frontier_value * ((1.0 - misuse) + misuse * trust_in_winner)
    win_value[np.arange(len(games)), winner] += config.winner_bonus
    rewards = win_value  # winner and pivotal act
    rewards[outcome == COORDINATED] = config.coordination_value
    rewards[outcome == TIMEOUT] = config.status_quo_value
    catastrophe = outcome == CATASTROPHE
    rewards[catastrophe] = -config.catastrophe_loss * state.accident_concern[games[catastrophe]]
    return rewards


def observe_batch(config: RaceConfig, state: RaceState) -> np.ndarray:
    """Every lab's egocentric observation, (B, N, 7 + 3(N-1)) float32 (layout in the docstring)."""
    others = other_labs(state.capability.shape[1])
    obs = state.static_observation.copy()  # types, pivotal flag, trust; zero elsewhere
    obs[..., 0] = state.capability  # < 1 + capability_growth <= 2
    obs[..., 1] = state.safety_ratio
    obs[..., 4] = np.minimum(state.coordination_progress, 1.0)[:, None]
    obs[..., 5] = (state.step / config.max_steps)[:, None]
    if config.capability_info == "public":
        obs[..., 7::3] = state.capability[:, others]
    elif config.capability_info == "noisy":
        obs[..., 7::3] = state.observed_capability
    obs[..., 8::3] = state.last_allocation[..., 2][:, others]
    return obs


def describe_outcome(info: Mapping[str, Any]) -> str:
    """Readable outcome of a lab's info dict: ``"winner lab_0"``, ``"catastrophe (accident) lab_2"``."""
    text = OUTCOMES[info["outcome"]]
    if info["cause"]:
        text += f" ({CAUSES[info['cause']]})"
    lab = info["winner"] if info["winner"] >= 0 else info["catastrophe_lab"]
    return f"{text} lab_{lab}" if lab >= 0 else text


def observation_slots(num_labs: int) -> list[str]:
    """Names of the observation slots, in order (used by scripted policies and docs)."""
    names = ["capability", "safety_ratio", "misuse_concern", "accident_concern", "coordination_progress", "time", "pivotal_act_allowed"]
    for k in range(1, num_labs):
        names += [f"other_{k}_capability", f"other_{k}_cooperation", f"trust_other_{k}"]
    return names


def allocation_to_action(config: RaceConfig, allocation: Any, attempt: bool = False) -> np.ndarray:
    """The action (in this config's action space) that plays ``allocation`` (speed, safety, coop).

    Discrete configs get the menu item closest to ``allocation`` (L1 distance); an attempt maps to
    the ``pivotal_act`` item. Used by scripted policies so that they work in either action type.
    """
    allocation = np.asarray(allocation, dtype=np.float64)
    if config.action_type == "discrete":
        menu = config.menu
        if attempt:
            if not config.pivotal_act:
                raise ValueError("attempt=True needs a config with pivotal_act=True")
            return np.asarray(len(menu) - 1)
        table = np.array([a for _, a in MENU])
        return np.asarray(int(np.argmin(np.abs(table - allocation).sum(axis=1))))
    if config.pivotal_act:
        return np.append(allocation, 1.0 if attempt else 0.0).astype(np.float32)
    return allocation.astype(np.float32)


# --------------------------------------------------------------------------------------------
# The game object every adapter drives
# --------------------------------------------------------------------------------------------


class RaceGame(BatchedGame[RaceConfig, RaceState]):
    metadata: ClassVar[dict[str, Any]] = {
        "name": "race_v0",
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4,
        "is_parallelizable": True,
    }
    scenarios = SCENARIOS
    config_class = RaceConfig

    def __init__(self, config: RaceConfig, background: str = "balanced") -> None:
        if not isinstance(config, RaceConfig):
            raise TypeError(f"config must be a RaceConfig; got {type(config).__name__}")
        self.config = config
        self.background = background
        self.num_agents = config.num_labs
        high = np.ones(config.observation_size, dtype=np.float32)
        high[0] = 2.0
        high[7::3] = 2.0
        self.observation_space = spaces.Box(0.0, high, dtype=np.float32)
        if config.action_type == "discrete":
            self.action_space = spaces.Discrete(len(config.menu))
        else:
            self.action_space = spaces.Box(0.0, 1.0, (4 if config.pivotal_act else 3,), dtype=np.float32)

    @cached_property
    def observation_slots(self) -> list[str]:
        return observation_slots(self.num_agents)

    def reset(self, rng: np.random.Generator, batch_size: int) -> RaceState:
        return reset_batch(self.config, rng, batch_size)

    def step(self, state: RaceState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
        allocation, attempt = actions_to_allocation(self.config, actions)
        return step_batch(self.config, state, allocation, attempt, rng)

    def observe(self, state: RaceState) -> np.ndarray:
        return observe_batch(self.config, state)

    def agent_infos(self, state: RaceState, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        common = {
            "coordination_progress": float(state.coordination_progress[game]),
            "outcome": int(state.outcome[game]),
            "winner": int(state.winner[game]),
            "cause": int(state.cause[game]),
            "catastrophe_lab": int(state.catastrophe_lab[game]),
            "steps": int(state.step[game]),
        }
        return [
            {"accident_hazard": hazard, "capability": capability, "safety_ratio": ratio, **common}
            for hazard, capability, ratio in zip(
                state.accident_hazard[game].tolist(), state.capability[game].tolist(), state.safety_ratio[game].tolist()
            )
        ]

    def render_ansi(self, state: RaceState, game: int) -> str:
        c = self.config
        progress = float(min(state.coordination_progress[game], 1.0))
        bar = "#" * int(round(progress * 20))
        lines = [
            f"race_v0  step {int(state.step[game])}/{c.max_steps}  coordination [{bar:<20}] {progress:.2f}",
            f"{'lab':<7}{'capability':>11}{'safety':>8}{'speed':>7}{'safety':>7}{'coop':>6}{'hazard':>8}{'misuse':>8}{'accident':>9}",
        ]
        ratio = state.safety_ratio[game]
        for i in range(self.num_agents):
            speed, safe, coop = state.last_allocation[game, i]
            lines.append(
                f"{'lab_' + str(i):<7}{state.capability[game, i]:>11.3f}{ratio[i]:>8.3f}{speed:>7.2f}{safe:>7.2f}{coop:>6.2f}"
                f"{state.accident_hazard[game, i]:>8.4f}{state.misuse_concern[game, i]:>8.2f}{state.accident_concern[game, i]:>9.2f}"
            )
        if state.outcome[game] != ONGOING:
            lines.append(f"outcome: {describe_outcome(self.agent_infos(state, None, game)[0])}")
        return "\n".join(lines)

    def render_rgb(self, state: RaceState, game: int) -> np.ndarray:
        values = np.column_stack(
            [np.minimum(state.capability[game], 1.0), state.safety_ratio[game], state.last_allocation[game]]
        )  # (N, 5): capability, safety ratio, speed, safety, cooperation
        footer = [min(float(state.coordination_progress[game]), 1.0), float(state.step[game]) / self.config.max_steps]
        return bar_chart(values, footer)


# --------------------------------------------------------------------------------------------
# Entry points (thin adapters; they never re-implement a rule)
# --------------------------------------------------------------------------------------------


make_config, make_game, parallel_env, env, gym_env = adapters.entry_points(RaceGame, __name__)
