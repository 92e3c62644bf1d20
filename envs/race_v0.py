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

    C_i   += min(capability_growth * speed_i, compute_cap)                 (capability never falls)
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

Rewards (terminal only, zero on every other step, except for sanctions: see "Governance levers")
-------------------------------------------------------------------------------------------------
=====================  ==============================================================================
outcome                reward of lab j
=====================  ==============================================================================
catastrophe            ``-accident_concern_j * catastrophe_loss``
winner w (or pivotal)  ``frontier_value * ((1 - misuse_j) + misuse_j * trust_jw)`` (+ ``winner_bonus`` if j = w)
coordinated            ``coordination_value``
time-out               ``status_quo_value``
=====================  ==============================================================================

``trust_jj = self_trust`` (default 1: "we are the best actor"), so a misuse-worried lab that
distrusts the others values its own win far above theirs. A sanction (licence violation or breached
commitment) is an immediate reward of ``-sanction`` the step it is imposed, on top of any terminal
reward of that step.

Governance levers (DESIGN.md §2; every one off by default)
----------------------------------------------------------
With every lever off, episodes are bit-identical to race_v0 without levers: the same random draws,
the same observation layout and the same action space. Each lever is a config field and has a
scenario (``audits``, ``licensing``, ``compute_cap``, ``commitments``, ``cheap_talk``, ``all_levers``).

* **audits** (``audit_probability`` > 0): every step each lab is audited with this probability; an
  audit makes the lab's true cooperation share of this step *verified* (observed by all as the
  last verified cooperation share). Audits are what enforce licensing and commitments.
* **licensing** (``safety_floor`` > 0): an audited lab whose safety share this step is below the
  floor pays ``sanction`` and is paused for ``pause_steps``: during the following ``pause_steps``
  steps its speed share is moved to safety (it cannot race).
* **compute cap** (``compute_cap`` < 1): capability gain per step is at most ``compute_cap``:
  ``dC_i = min(capability_growth * speed_i, compute_cap)`` (1 never binds).
* **commitments** (``commitments=True``): at step 0 and every ``commitment_period`` steps (steps
  0, K, 2K, … of the episode) each lab decides whether to commit to keep its safety share
  ``>= commitment_floor`` until the next decision; commitments are public. A committed lab caught
  by an audit below its floor has *breached*: it pays ``sanction`` (again at every audit that
  catches it) and loses trust (below). Commit parts of actions are ignored between decisions.
* **cheap talk** (``cheap_talk=True``): every step each lab declares an intention, ``INTENTIONS`` =
  (0 race, 1 cooperate, 2 pivotal act); declarations are public and not binding.

Both sanctions of a step (licence and breach) add up. **Trust rule**: trust_ji is lab j's trust in
lab i (j != i; a lab's trust in itself, ``self_trust``, never changes). Events, in this order within
a step:

1. *declared pivotal act* (cheap talk): ``tau_ji -= declare_trust_penalty`` for every j != i;
2. *verified cooperation* (audit of i with cooperation share c_i):
   ``tau_ji += audit_trust_gain * c_i * (1 - tau_ji)``;
3. *breach* (audited committed lab i below its floor): ``tau_ji -= breach_trust_penalty``;
4. *attempted pivotal act* (``pivotal_act``): ``tau_ji -= pivotal_trust_penalty``.

Trust is floored at 0 and capped at 1 after every event. Order of events in a step: pauses applied
to the allocation → commitment decisions (on decision steps) → declarations (and their trust
penalty) → growth with the compute cap → audits (trust gain, licensing sanction and pause, breach
sanction and trust penalty) → outcomes as above (the hazard uses the post-pause allocation).

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
``action_type="continuous"``: ``Box(0, 1, (D,))``; its components, in order: (speed, safety,
cooperation) effort, normalised to sum to 1 (all zeros means an equal split); [if ``pivotal_act``]
a component > 0.5 is an attempt at a unilateral pivotal act; [if ``commitments``] a component
> 0.5 commits (read on decision steps only); [if ``cheap_talk``] three intention scores whose
argmax (ties: the lowest index) is the declared intention. So D = 3 without levers, 4 with the
pivotal act, up to 8 with everything (``config.action_size``).
``action_type="discrete"``: ``Discrete(len(menu))`` over the named allocations of ``MENU`` (plus
``pivotal_act``, racing while attempting the act, when allowed). With ``commitments`` or
``cheap_talk``: ``MultiDiscrete([len(menu)] + [2 if commitments] + [3 if cheap_talk])`` = (menu
item, [commit 0/1], [declared intention 0/1/2]). ``allocation_to_action`` builds actions of every
variant from an allocation.

Observation space (lab i's view, egocentric, float32, size ``7 + 3 * (N - 1)`` plus lever slots)
---------------------------------------------------------------------------------------------
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

Lever slots follow, only for the levers that are on (with all off the layout above is the whole
observation); ``observation_slots(N, config)`` names them. With b = 7 + 3(N - 1):

=========================  ===================================================  =====  =====
slot (in order)            meaning                                              min    max
=========================  ===================================================  =====  =====
own ``paused``             1 while lab i is paused (if ``pause_steps`` > 0)     0      1
own ``committed``          1 while lab i is committed (if ``commitments``)      0      1
then per other lab i+k, k = 1 … N-1 (egocentric), E = number of per-other slots:
``verified_cooperation``   cooperation share of lab i+k at its last audit (0    0      1
                           before any; if ``audit_probability`` > 0)
``committed``              1 while lab i+k is committed (if ``commitments``)    0      1
``declared``               lab i+k's declared intention / 2 (if ``cheap_talk``)  0      1
=========================  ===================================================  =====  =====

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
audited                 1 if the lab was audited this step, else 0
sanction                sanctions imposed on the lab this step (also ``StepResult.info["sanction"]``)
committed               1 while the lab is committed, else 0
declared                this step's declared intention (index into ``INTENTIONS``), -1 without
                        cheap talk
paused                  1 while the lab is paused (its next steps' speed goes to safety), else 0
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
* v0: initial release; governance levers added (off by default, episodes unchanged when off).
"""

from __future__ import annotations

import dataclasses
import threading
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
    bar_chart,
    check_bool,
    check_choice,
    check_float,
    check_int,
    check_interval,
    count_nonzero,
    other_labs,
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
#: components of a continuous action that form one allocation (a learner in logits takes their
#: softmax: labrace.agents.parameterisation); the others are scores in [0, 1]
SIMPLEX_ACTION_GROUPS = ((0, 3),)

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
#: declared intentions under ``cheap_talk`` (index = code in ``declared``)
INTENTIONS = ("race", "cooperate", "pivotal_act")
DECLARE_RACE, DECLARE_COOPERATE, DECLARE_PIVOTAL = range(3)

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
    # -- governance levers (all off by default; see "Governance levers" in the module docstring) --
    audit_probability: float = 0.0  # per lab and step; an audit verifies this step's cooperation
    audit_trust_gain: float = 0.2  # verified cooperation c_i: tau_ji += gain * c_i * (1 - tau_ji)
    safety_floor: float = 0.0  # licensing (0 = off): an audited lab below it is sanctioned (and paused)
    sanction: float = 1.0  # immediate negative reward of a licence violation or a breached commitment
    pause_steps: int = 0  # a sanctioned licence violator's speed goes to safety for this many steps
    compute_cap: float = 1.0  # maximum capability gain per step (1 never binds)
    commitments: bool = False  # labs may commit to a safety floor every commitment_period steps
    commitment_floor: float = 0.3  # the safety share a committed lab promises to keep
    commitment_period: int = 10  # steps between commitment decisions (the first at step 0)
    breach_trust_penalty: float = 0.3  # others' trust lost by a committed lab caught below its floor
    cheap_talk: bool = False  # each lab declares an intention (race, cooperate, pivotal act) each step
    declare_trust_penalty: float = 0.2  # others' trust lost by declaring a pivotal act

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
        for name in ("audit_probability", "audit_trust_gain", "safety_floor", "commitment_floor",
                     "breach_trust_penalty", "declare_trust_penalty"):
            set_(name, check_float(name, getattr(self, name), 0.0, 1.0))
        set_("sanction", check_float("sanction", self.sanction, 0.0, 1e6))
        set_("pause_steps", check_int("pause_steps", self.pause_steps, 0, 100_000))
        set_("compute_cap", check_float("compute_cap", self.compute_cap, 0.0, 1.0, low_open=True))
        set_("commitments", check_bool("commitments", self.commitments))
        set_("commitment_period", check_int("commitment_period", self.commitment_period, 1, 100_000))
        set_("cheap_talk", check_bool("cheap_talk", self.cheap_talk))

    @cached_property  # the config is frozen (cached_property writes __dict__ directly)
    def observation_size(self) -> int:
        return self.base_observation_size + len(self.own_lever_slots) + len(self.other_lever_slots) * (self.num_labs - 1)

    @cached_property
    def base_observation_size(self) -> int:
        """Size of the observation without lever slots: ``7 + 3 (N - 1)``."""
        return NUM_OWN_SLOTS + SLOTS_PER_OTHER * (self.num_labs - 1)

    @cached_property
    def own_lever_slots(self) -> tuple[str, ...]:
        """Names of the lab's own lever slots (only for levers that are on), after the base slots."""
        return ("paused",) * (self.pause_steps > 0) + ("committed",) * self.commitments

    @cached_property
    def other_lever_slots(self) -> tuple[str, ...]:
        """Lever slots per other lab (egocentric order), after the own lever slots."""
        return (
            ("verified_cooperation",) * (self.audit_probability > 0.0)
            + ("committed",) * self.commitments
            + ("declared",) * self.cheap_talk
        )

    @cached_property
    def feature_blocks(self) -> dict[str, tuple[int, int]]:
        """Column blocks (start, width) of the observation features (see ``observe_batch``)."""
        return _feature_blocks(self)

    @cached_property
    def feature_count(self) -> int:
        """Number of observation feature columns, K."""
        return sum(width for _, width in self.feature_blocks.values())

    @cached_property
    def observation_index(self) -> np.ndarray:
        """(N * observation_size,) the observation feature column shown in each slot of every lab."""
        return _observation_index(self)

    @cached_property
    def action_size(self) -> int:
        """Length of a continuous action: 3 + [attempt] + [commit] + [3 intention scores]."""
        return 3 + self.pivotal_act + self.commitments + 3 * self.cheap_talk

    @cached_property
    def operands(self) -> StepOperands:
        """The numbers the step computes with, as 0-d arrays (see :class:`StepOperands`)."""
        return StepOperands(self)

    @cached_property
    def fresh_game_ranges(self) -> tuple[np.ndarray, ...]:
        """(low, span) pairs of a fresh game's uniform draws (see :func:`reset_batch`)."""
        return _fresh_game_ranges(self)

    @cached_property
    def levers_on(self) -> bool:
        """Whether any governance lever is on (with all off, the dynamics are those of v0 without levers)."""
        return (
            self.audit_probability > 0.0
            or self.pause_steps > 0
            or self.safety_floor > 0.0
            or self.compute_cap < self.capability_growth
            or self.commitments
            or self.cheap_talk
        )

    @property
    def menu(self) -> tuple[tuple[str, tuple[float, float, float]], ...]:
        return MENU + ((PIVOTAL_MENU_ITEM,) if self.pivotal_act else ())

    def lab_type(self, lab: int) -> LabType:
        """The type of lab ``lab`` (the last entry of ``lab_types`` fills the remaining labs)."""
        entry = self.lab_types[min(lab, len(self.lab_types) - 1)]
        return LAB_TYPES[entry] if isinstance(entry, str) else entry


class StepOperands:
    """A config's numbers as read-only 0-d float64 (int64) arrays, the operands of the step's ufuncs.

    A ufunc given a Python scalar first converts it, about 0.2 µs a call: most of a call's cost at
    one game (the PettingZoo API). The values, hence every result, are those of the config's fields.
    """

    def __init__(self, config: RaceConfig) -> None:
        def constant(value: float | int) -> np.ndarray:
            array = np.array(value, dtype=np.int64 if isinstance(value, int) else np.float64)
            array.flags.writeable = False
            return array

        self.one = constant(1.0)
        self.capability_growth = constant(config.capability_growth)
        self.safety_growth = constant(config.safety_growth)
        self.spillover_per_lab = constant(config.cooperation_spillover / config.num_labs)
        self.coordination_rate = constant(config.coordination_rate)
        self.accident_rate = constant(config.accident_rate)
        self.max_steps = constant(config.max_steps)


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
_AUDITS: dict[str, Any] = {"audit_probability": 0.2}
_LICENSING: dict[str, Any] = {"safety_floor": 0.3, "pause_steps": 3}
_COMPUTE_CAP: dict[str, Any] = {"compute_cap": 0.035}
_COMMITMENTS: dict[str, Any] = {"commitments": True}
_CHEAP_TALK: dict[str, Any] = {"cheap_talk": True}

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
        Scenario(
            "audits",
            "neutral labs; each lab is audited with probability 0.2 per step (verified cooperation builds trust)",
            dataclasses.replace(_BASE, **_AUDITS),
            ("governance", "audits", "H4"),
        ),
        Scenario(
            "licensing",
            "audits plus a licensed safety floor of 0.3: an audited violator is sanctioned and paused 3 steps",
            dataclasses.replace(_BASE, **_AUDITS, **_LICENSING),
            ("governance", "licensing", "H4"),
        ),
        Scenario(
            "compute_cap",
            "capability growth capped at 0.035 per step (half of full speed)",
            dataclasses.replace(_BASE, **_COMPUTE_CAP),
            ("governance", "compute cap", "H4"),
        ),
        Scenario(
            "commitments",
            "labs may commit to a 0.3 safety floor every 10 steps; audits (p = 0.2) catch breaches",
            dataclasses.replace(_BASE, **_AUDITS, **_COMMITMENTS),
            ("governance", "commitments", "H4"),
        ),
        Scenario(
            "cheap_talk",
            "every step each lab declares race, cooperate or pivotal act: public, not binding",
            dataclasses.replace(_BASE, **_CHEAP_TALK),
            ("governance", "cheap talk", "H4"),
        ),
        Scenario(
            "all_levers",
            "audits, licensing with pauses, a compute cap, commitments and cheap talk together",
            dataclasses.replace(_BASE, **_AUDITS, **_LICENSING, **_COMPUTE_CAP, **_COMMITMENTS, **_CHEAP_TALK),
            ("governance", "H4"),
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
    # (N, B, N) lab-major: [i, b, j] = lab i's trust in lab j (read it as ``trust``, (B, N, N)). A
    # per-lab event (B, N) then broadcasts over the leading axis, a fast contiguous operation.
    trust_by_lab: np.ndarray = field(metadata={"game_axis": 1})
    # (3, B, N) share-major: [k, b, i] = lab i's share k (speed, safety, cooperation) of the last step
    # (read it as ``last_allocation``, (B, N, 3)). Each share is then one contiguous (B, N) array.
    allocation_by_share: np.ndarray = field(metadata={"game_axis": 1})
    accident_hazard: np.ndarray  # (B, N) h_i of the last step
    observed_capability: np.ndarray  # (B, N, N-1) noisy view of lab i+k's capability ("noisy" only)
    outcome: np.ndarray  # (B,) int8 index into OUTCOMES, set by the last step
    winner: np.ndarray  # (B,) int64, -1 if none
    cause: np.ndarray  # (B,) int8 index into CAUSES
    catastrophe_lab: np.ndarray  # (B,) int64, -1 if none
    # governance levers (constant zeros / False while their lever is off)
    committed: np.ndarray  # (B, N) bool: lab i is committed to commitment_floor until the next decision
    declared: np.ndarray  # (B, N) int8: this step's declared intention, index into INTENTIONS
    pause_left: np.ndarray  # (B, N) int32: steps for which lab i's speed is still moved to safety
    verified_cooperation: np.ndarray  # (B, N) cooperation share of lab i at its last audit (0 before)
    audited: np.ndarray  # (B, N) bool: lab i was audited this step
    sanction_paid: np.ndarray  # (B, N) sanctions imposed on lab i this step

    @property
    def trust(self) -> np.ndarray:
        """(B, N, N) view: ``trust[b, i, j]`` = lab i's trust in lab j (writable)."""
        return self.trust_by_lab.transpose(1, 0, 2)

    @property
    def last_allocation(self) -> np.ndarray:
        """(B, N, 3) view: ``last_allocation[b, i]`` = lab i's (speed, safety, cooperation) of the last step."""
        return self.allocation_by_share.transpose(1, 2, 0)


_SCRATCH = threading.local()
#: scratch slots: the observation features, and the lever temporaries that live within one step
_FEATURES, _MOVED, _WEIGHT, _GAIN, _BREACH, _DECLARED, _SCALE, _FLOOR, _LEVER_ACTIONS = range(9)


def _as_float(flags: np.ndarray, slot: int) -> np.ndarray:
    """``flags`` (bool or small integers) as float64 in scratch ``slot``: a plain cast copy. A ufunc
    with a bool and a float operand (``speed * paused``) runs about half as fast as this copy and
    a float-only ufunc together."""
    out = _scratch(slot, flags.shape)
    np.copyto(out, flags)
    return out


def _scratch(slot: int, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
    """A reusable work array (per thread, slot, shape and dtype), for temporaries of a step.

    Large temporaries are costly to allocate afresh every step (the allocator hands new pages back
    and forth); these are only used within one step (each slot by one quantity), never returned
    from it.
    """
    arrays = getattr(_SCRATCH, "arrays", None)
    if arrays is None:
        arrays = _SCRATCH.arrays = {}
    array = arrays.get((slot, shape, dtype))
    if array is None:
        if len(arrays) > 32:  # a few batch sizes at a time
            arrays.clear()
        array = arrays[(slot, shape, dtype)] = np.empty(shape, dtype)
    return array


#: from this many games on, sums over labs use a matrix-vector product: numpy's reductions over a
#: short axis are several times slower than BLAS there (and faster on a few games)
_MATMUL_FROM = 256


def per_game_sum(values: np.ndarray) -> np.ndarray:
    """(B, N) → (B,) sum over labs."""
    return values @ np.ones(values.shape[1]) if len(values) >= _MATMUL_FROM else np.add.reduce(values, 1)


def per_game_any(flags: np.ndarray) -> np.ndarray:
    """(B, N) bool → (B,) any over labs (N <= 16, so uint8 counts cannot overflow)."""
    if len(flags) < _MATMUL_FROM:
        return flags.any(axis=1)
    return (np.ascontiguousarray(flags).view(np.uint8) @ np.ones(flags.shape[1], dtype=np.uint8)) > 0


def _fresh_game_ranges(config: RaceConfig) -> tuple[np.ndarray, ...]:
    """(low, span) of the uniform draws of a fresh game, read-only float64 arrays shaped to broadcast:
    concerns (2, 1, N) (misuse, accident of each lab's type), trust (N, 1, 1) (truster i's range),
    levels (2, 1, 1) (initial capability, initial safety)."""
    types = [config.lab_type(i) for i in range(config.num_labs)]
    # (3, 2, N): [misuse, accident, trust] x [lo, hi] x lab
    bounds = np.array([[[getattr(t, name)[k] for t in types] for k in (0, 1)] for name in ("misuse_concern", "accident_concern", "trust")])
    low, span = bounds[:, 0], bounds[:, 1] - bounds[:, 0]  # (3, N)
    levels = np.array([config.initial_capability, config.initial_safety])  # (2, [lo, hi])
    ranges = (
        low[:2, None, :], span[:2, None, :],
        low[2, :, None, None], span[2, :, None, None],
        levels[:, 0, None, None], (levels[:, 1] - levels[:, 0])[:, None, None],
    )
    for array in ranges:
        array.flags.writeable = False
    return ranges


def _filled(value: int, shape: int | tuple[int, ...], dtype: type) -> np.ndarray:
    array = np.empty(shape, dtype)  # (np.full costs several times empty + fill on small arrays)
    array.fill(value)
    return array


def reset_batch(config: RaceConfig, rng: np.random.Generator, batch_size: int) -> RaceState:
    """Draw ``batch_size`` fresh games.

    Every uniform comes from one draw, in the order misuse concern (B, N), accident concern (B, N),
    trust (B, N, N), capability (B, N), safety (B, N): the same numbers as one draw per quantity.
    """
    B, N = batch_size, config.num_labs
    concern_low, concern_span, trust_low, trust_span, level_low, level_span = config.fresh_game_ranges
    uniforms = rng.random(B * N * (N + 4))
    concerns = uniforms[: 2 * B * N].reshape(2, B, N)  # low + span * u, in place
    concerns *= concern_span
    concerns += concern_low
    levels = uniforms[(N + 2) * B * N :].reshape(2, B, N)
    levels *= level_span
    levels += level_low
    capability, safety = levels[0], levels[1]  # (indexing: cheaper than unpacking, which iterates)
    # trust[b, i, j] is drawn in (B, N, N) order and kept lab-major, (N, B, N); row i in lab i's range
    trust_by_lab = np.multiply(uniforms[2 * B * N : (N + 2) * B * N].reshape(B, N, N).transpose(1, 0, 2), trust_span, out=np.empty((N, B, N)))
    trust_by_lab += trust_low
    _diagonal(trust_by_lab)[...] = config.self_trust
    state = RaceState(
        capability=capability,
        safety=safety,
        safety_ratio=np.minimum(safety / capability, config.operands.one),
        coordination_progress=np.zeros(B),
        step=np.zeros(B, dtype=np.int64),
        misuse_concern=concerns[0],
        accident_concern=concerns[1],
        trust_by_lab=trust_by_lab,
        allocation_by_share=np.zeros((3, B, N)),
        accident_hazard=np.zeros((B, N)),
        observed_capability=np.zeros((B, N, N - 1)),
        outcome=np.zeros(B, dtype=np.int8),
        winner=_filled(-1, B, np.int64),
        cause=np.zeros(B, dtype=np.int8),
        catastrophe_lab=_filled(-1, B, np.int64),
        committed=np.zeros((B, N), dtype=bool),
        declared=np.zeros((B, N), dtype=np.int8),
        pause_left=np.zeros((B, N), dtype=np.int32),
        verified_cooperation=np.zeros((B, N)),
        audited=np.zeros((B, N), dtype=bool),
        sanction_paid=np.zeros((B, N)),
    )
    _observe_noisy_capability(config, state, rng)
    return state


def _observe_noisy_capability(config: RaceConfig, state: RaceState, rng: np.random.Generator) -> None:
    """Fresh noisy estimates of the others' capability (only in the ``noisy`` regime)."""
    if config.capability_info == "noisy":
        seen = state.capability[:, other_labs(config.num_labs)]  # (B, N, N-1)
        seen += config.capability_noise * rng.standard_normal(seen.shape)
        np.clip(seen, 0.0, 2.0, out=state.observed_capability)


def decode_actions(
    config: RaceConfig, actions: np.ndarray, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Validated actions → (allocation (B, N, 3), attempts, commits, declarations).

    Attempts and commits are (B, N) bool, declarations (B, N) int8 (index into ``INTENTIONS``);
    each is None when its lever (``pivotal_act``, ``commitments``, ``cheap_talk``) is off.
    ``out``: a (3, B, N) share-major array to hold the allocation (see :func:`actions_to_allocation`).
    """
    allocation, attempts = actions_to_allocation(config, actions, out)
    if not (config.commitments or config.cheap_talk):
        return allocation, attempts, None, None
    commits = declarations = None
    if config.action_type == "discrete":  # MultiDiscrete([menu, [2], [3]])
        if config.commitments:
            commits = actions[..., 1] == 1
        if config.cheap_talk:
            declarations = actions[..., -1].astype(np.int8)
        return allocation, attempts, commits, declarations
    # the lever columns (commit, then the three intention scores), copied once lever-major: the
    # comparisons below then read contiguous arrays, not every 8th number of the action batch
    lever_actions = actions[..., 3 + config.pivotal_act :].transpose(2, 0, 1)  # (L, B, N)
    columns = _scratch(_LEVER_ACTIONS, lever_actions.shape, actions.dtype)
    np.copyto(columns, lever_actions)
    if config.commitments:
        commits = columns[0] > 0.5
    if config.cheap_talk:  # argmax of the three scores, ties to the lowest index (compares: faster)
        first, second, third = columns[-3], columns[-2], columns[-1]
        cooperate = (second > first).view(np.int8)  # 0 race or 1 cooperate
        pivotal = (third > np.maximum(first, second)).view(np.int8)
        # 2 where the third score is the largest (pivotal + pivotal: numpy's int8 shift is ~8x slower)
        declarations = np.maximum(cooperate, np.add(pivotal, pivotal, out=pivotal))
    return allocation, attempts, commits, declarations


def actions_to_allocation(
    config: RaceConfig, actions: np.ndarray, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated actions (B, N[, D]) → allocation (B, N, 3) summing to 1, pivotal attempts (B, N) or None.

    The allocation is a (B, N, 3) view of a share-major (3, B, N) array (``out`` if given, e.g. the
    state's ``allocation_by_share``, which spares the step a copy), so that each share
    (``allocation[..., k]``) is contiguous: the step reads shares many times, and a strided read of
    an interleaved array costs several times a contiguous one.
    """
    if config.action_type == "discrete":
        table, attempts = _menu_tables(config.pivotal_act)  # table: (3, K) share-major
        if config.commitments or config.cheap_talk:  # MultiDiscrete: the menu item comes first
            actions = actions[..., 0]
        allocation = np.take(table, actions, axis=1, out=out)  # (3, B, N)
        return allocation.transpose(1, 2, 0), (attempts[actions] if config.pivotal_act else None)
    attempts = actions[..., 3] > 0.5 if config.pivotal_act else None
    effort = np.empty((3,) + actions.shape[:-1]) if out is None else out  # (3, B, N)
    np.copyto(effort, actions[..., :3].transpose(2, 0, 1))  # (np.moveaxis costs microseconds per call)
    total = effort[0] + effort[1]
    total += effort[2]
    if count_nonzero(total) == total.size:  # validated effort is >= 0: a non-zero total is positive
        np.divide(effort, total, out=effort)
    else:  # an all-zero effort vector means "no preference": an equal split
        np.divide(effort, np.maximum(total, 1e-300), out=effort)
        effort[:, total <= 0.0] = 1.0 / 3.0
    return effort.transpose(1, 2, 0), attempts


@lru_cache(maxsize=None)
def _menu_tables(pivotal_act: bool) -> tuple[np.ndarray, np.ndarray]:
    """(3, K) share-major allocations of the menu items, and (K,) whether an item attempts the act."""
    menu = MENU + ((PIVOTAL_MENU_ITEM,) if pivotal_act else ())
    table = np.array([allocation for _, allocation in menu]).T.copy()  # (3, K)
    attempts = np.array([name == PIVOTAL_MENU_ITEM[0] for name, _ in menu])
    table.flags.writeable = attempts.flags.writeable = False
    return table, attempts


def step_batch(
    config: RaceConfig,
    state: RaceState,
    allocation: np.ndarray,  # (B, N, 3) rows sum to 1
    pivotal_attempt: np.ndarray | None,  # (B, N) bool, or None when no lab attempts
    rng: np.random.Generator,
    commit: np.ndarray | None = None,  # (B, N) bool commit decisions (read on decision steps only)
    declare: np.ndarray | None = None,  # (B, N) int declared intentions (None: all declare race)
) -> StepResult:
    """Advance every game one step (in place); return rewards, terminated, truncated and info.

    ``commit`` and ``declare`` are read only when ``commitments`` / ``cheap_talk`` are on. With
    every governance lever off this is exactly the step of race_v0 without levers (same draws).
    ``allocation`` is copied into the state (``allocation_by_share``) unless it is already the
    state's own (as ``decode_actions(..., out=state.allocation_by_share)`` leaves it).
    """
    B, N = state.capability.shape
    levers = config.levers_on
    # the played allocation is built in the state (the levers change it there, never in the caller's array)
    if not (allocation.base is state.allocation_by_share and allocation.strides[2] == state.allocation_by_share.strides[0]):
        np.copyto(state.allocation_by_share, allocation.transpose(2, 0, 1))
        allocation = state.last_allocation
    if levers:  # pauses, commitments, declarations (in that order), before growth
        _levers_before_growth(config, state, allocation, commit, declare)
    shares = state.allocation_by_share  # (indexing: cheaper than unpacking, which iterates)
    speed, safety_work, cooperation = shares[0], shares[1], shares[2]  # (B, N) each, contiguous
    k = config.operands  # the config's numbers as 0-d arrays

    # -- growth ------------------------------------------------------------------------------
    state.step += _ONE_STEP
    if config.compute_cap < config.capability_growth:  # otherwise the cap cannot bind
        gained = np.multiply(k.capability_growth, speed)
        state.capability += np.minimum(gained, _constant(config.compute_cap, gained.shape), out=gained)
    else:
        state.capability += k.capability_growth * speed
    total_cooperation = per_game_sum(cooperation)  # (B,)
    state.safety += k.safety_growth * (safety_work + k.spillover_per_lab * total_cooperation[:, None])
    state.coordination_progress += k.coordination_rate * total_cooperation
    ratio = np.divide(state.safety, state.capability, out=state.safety_ratio)
    np.minimum(ratio, k.one, out=ratio)  # S and C are positive, so ratio > 0
    hazard = np.minimum(state.capability, k.one, out=state.accident_hazard)
    hazard *= speed
    hazard *= k.accident_rate - k.accident_rate * ratio
    sanctioned = False
    if levers:
        gain = breach = None
        if config.audit_probability > 0.0:  # audits: licensing and breach sanctions, trust events
            gain, breach, sanctioned = _audit(config, state, allocation, rng)
        _trust_events(config, state, gain, breach)

    # -- which games have an event this step; only those need the (rarer) outcome logic --------
    accident_lab = rng.random((B, N)) < hazard  # (B, N)
    lab_event = accident_lab | (state.capability >= k.one)
    if pivotal_attempt is not None:
        lab_event |= pivotal_attempt

    if count_nonzero(state.outcome):  # left over from a finished game that is stepped on
        state.outcome.fill(ONGOING)
        state.cause.fill(NO_CAUSE)
        state.winner.fill(-1)
        state.catastrophe_lab.fill(-1)
    rewards = np.zeros((B, N))
    ends = np.zeros((2, B), dtype=bool)
    terminated, truncated = ends[0], ends[1]
    # whole-batch counts first (count_nonzero is the cheapest reduction): on most steps of a small
    # batch nothing happens
    coordinated = state.coordination_progress >= k.one  # (B,)
    timed_out = state.step >= k.max_steps  # (B,)
    if count_nonzero(lab_event) or count_nonzero(coordinated) or count_nonzero(timed_out):
        game_event = per_game_any(lab_event)
        game_event |= coordinated
        game_event |= timed_out
        games = np.flatnonzero(game_event)
        attempts = pivotal_attempt[games] if pivotal_attempt is not None else None
        _resolve_events(config, state, games, accident_lab[games], attempts, rng)
        outcome = state.outcome[games]
        finished = games[outcome != ONGOING]
        rewards[finished] = _terminal_rewards(config, state, finished)
        terminated[games] = (outcome != ONGOING) & (outcome != TIMEOUT)
        truncated[games] = outcome == TIMEOUT
    if sanctioned:
        rewards -= state.sanction_paid  # immediate, on top of any terminal reward
    if config.capability_info == "noisy":
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
            "sanction": state.sanction_paid,
        },
    )


def _levers_before_growth(
    config: RaceConfig,
    state: RaceState,
    allocation: np.ndarray,
    commit: np.ndarray | None,
    declare: np.ndarray | None,
) -> None:
    """Pauses (speed moved to safety, in ``allocation`` in place), commitment decisions, declarations.

    Whole-array arithmetic rather than indexing of the affected labs: on contiguous (B, N) shares a
    few passes cost less than one gather and scatter.
    """
    if config.pause_steps > 0 and count_nonzero(state.pause_left):
        paused = state.pause_left > 0  # (B, N)
        speed, safety_work = allocation[..., 0], allocation[..., 1]
        moved = _as_float(paused, _MOVED)
        moved *= speed  # speed of paused labs, else 0
        safety_work += moved
        speed -= moved  # exactly 0 where paused, unchanged elsewhere
        state.pause_left -= paused
    if config.commitments:  # decision steps: 0, K, 2K, ...
        decide = _decision_steps(config.commitment_period, config.max_steps).take(state.step, mode="wrap")  # (B,)
        if count_nonzero(decide):
            if commit is None:
                state.committed[decide] = False
            else:  # whole rows: a few µs at B = 4096, where row-by-row indexing costs up to ~80
                np.copyto(_rows(state.committed), _rows(np.ascontiguousarray(commit, dtype=bool)), where=decide)
    if config.cheap_talk:
        state.declared[...] = 0 if declare is None else declare


@lru_cache(maxsize=64)
def _decision_steps(period: int, max_steps: int) -> np.ndarray:
    """(L,) bool: whether step t is a commitment decision step (t % period == 0), for t < L, where L
    is the first multiple of ``period`` above ``max_steps``. ``take(t, mode="wrap")`` reads entry
    t mod L, which is right for every t (``period`` divides L), also past ``max_steps`` (a finished
    game stepped on)."""
    table = np.arange(period * (max_steps // period + 1)) % period == 0
    table.flags.writeable = False
    return table


def _rows(array: np.ndarray) -> np.ndarray:
    """(B,) view of a (B, N) array whose rows are each contiguous, one N-element record per game, so
    that a copy (masked or not) or a fancy index moves whole rows at once."""
    return array.view(_record(array.shape[1] * array.itemsize)).reshape(len(array))


@lru_cache(maxsize=None)
def _record(size: int) -> np.dtype:
    """The dtype of an opaque ``size``-byte record (built once: a dtype costs ~1 µs to construct)."""
    return np.dtype((np.void, size))


def _audit(
    config: RaceConfig, state: RaceState, allocation: np.ndarray, rng: np.random.Generator
) -> tuple[Any, Any, bool]:
    """Audit each lab with ``audit_probability``: verified cooperation, sanctions, pauses.

    Returns the trust events of the audits, per lab i (B, N): the trust gain factor
    ``audit_trust_gain * c_i`` of audited labs (or None when no lab is audited) and the breach
    penalty of audited committed labs below their floor (or None when there is none); and whether
    any lab was sanctioned (``state.sanction_paid`` is all zeros otherwise).
    """
    audited = _bernoulli(rng, config.audit_probability, out=state.audited)
    if not count_nonzero(audited):
        state.sanction_paid.fill(0.0)
        return None, None, False
    cooperation, safety_share = allocation[..., 2], allocation[..., 1]  # contiguous (B, N) shares
    # verified cooperation: c_i where audited, else unchanged, as exact 0/1 arithmetic (x * 1 = x,
    # x * 0 + y = y): faster than a masked copy, whose random mask defeats branch prediction
    weight = _as_float(audited, _WEIGHT)  # 1.0 where audited, else 0.0
    verified = np.multiply(cooperation, weight, out=_scratch(_GAIN, audited.shape))  # c_i if audited, else 0
    state.verified_cooperation *= np.subtract(1.0, weight, out=weight)
    state.verified_cooperation += verified
    gain = None
    if config.audit_trust_gain > 0.0:
        gain = verified
        gain *= config.audit_trust_gain
    # sanctions: licence violations and breaches add up (counted in a small integer, scaled once)
    sanctioned = None
    breach = None
    if config.safety_floor > 0.0:  # licensing
        violator = audited & (safety_share < config.safety_floor)
        sanctioned = violator.view(np.int8)
        if config.pause_steps > 0 and count_nonzero(violator):
            state.pause_left[violator] = config.pause_steps  # (a boolean index: faster than np.putmask here)
    if config.commitments:
        caught = audited & state.committed
        caught &= safety_share < config.commitment_floor
        sanctioned = caught.view(np.int8) if sanctioned is None else sanctioned + caught.view(np.int8)
        if config.breach_trust_penalty > 0.0 and count_nonzero(caught):
            breach = _as_float(caught, _BREACH)
            breach *= config.breach_trust_penalty
    if sanctioned is None or not count_nonzero(sanctioned):
        state.sanction_paid.fill(0.0)
        return gain, breach, False
    np.copyto(state.sanction_paid, sanctioned)
    state.sanction_paid *= config.sanction
    return gain, breach, True


def _bernoulli(rng: np.random.Generator, probability: float, out: np.ndarray) -> np.ndarray:
    """``out`` (bool) filled with independent Bernoulli(``probability``) draws.

    Drawn as 32-bit uniform integers, two from each raw 64-bit output of the bit generator: half
    the cost of float64 uniforms, at a resolution of 2**-32 in ``probability``.
    """
    size = out.size
    bits = rng.bit_generator.random_raw((size + 1) // 2).view(np.uint32)[:size].reshape(out.shape)
    return np.less(bits, round(probability * 2**32), out=out)  # 2**32 (probability 1): always true


def _trust_events(config: RaceConfig, state: RaceState, gain: Any, breach: Any) -> None:
    """Apply the trust rule's lever events of a step: declared pivotal act, verified cooperation, breach.

    Each event acts on a column of trust (every other lab j's trust in lab i) with one value per
    lab i, a (B, N) array: the declaration penalty d, the gain factor g and the breach penalty r.
    In their order, with the floor at 0 after each penalty, they compose to one increasing map per
    column, ``x -> max(max(x - d, 0) + g (1 - max(x - d, 0)) - r, 0) = max(a x + c, f)`` with
    ``a = 1 - g``, ``c = g - r - a d`` and ``f = max(g - r, 0)``. So the whole matrix is updated
    once (equal to the event-by-event rule up to rounding). On the lab-major (N, B, N)
    ``trust_by_lab`` the (B, N) arrays broadcast over the leading axis (the truster j), which numpy
    runs as N contiguous passes. A lab's trust in itself is then restored.

    No cap at 1 is needed, even in floating point: with ``a = fl(1 - g)`` and ``c <= g`` (c is g
    less non-negative terms), x <= 1 gives ``fl(fl(a x) + c) <= fl(a + g) <= 1`` (rounding is
    monotone, and ``fl(1 - g) + g`` rounds to at most 1 for g in [0, 1]). Without a penalty
    (d = r = 0) the floor is not needed either: ``a x + g >= g``.

    It rounds to exactly 1: for g >= 1/2, 1 - g is exact (Sterbenz); for g < 1/2, ``fl(1 - g)``
    is within 2**-54 of 1 - g, so the sum is within 2**-54 of 1, which rounds to 1 (2**-54 below 1
    is a tie, broken to the even 1). So without a penalty a lab's trust in itself, 1 by default
    (``self_trust``), is left unchanged and need not be restored.
    """
    declared = None
    if config.cheap_talk and config.declare_trust_penalty > 0.0:
        pivotal = state.declared == DECLARE_PIVOTAL
        if count_nonzero(pivotal):
            declared = _as_float(pivotal, _DECLARED)
            declared *= config.declare_trust_penalty
    if declared is None and gain is None and breach is None:
        return
    trust = state.trust_by_lab  # (N, B, N): [j, b, i] = lab j's trust in lab i
    if gain is None:  # penalties only: x -> max(x - d - r, 0)
        if declared is not None:
            trust -= declared
        if breach is not None:
            trust -= breach
        np.maximum(trust, _constant(0.0, trust.shape), out=trust)
    else:
        scale = np.subtract(1.0, gain, out=_scratch(_SCALE, gain.shape))
        shift = gain if breach is None else np.subtract(gain, breach, out=gain)  # gain is not used again
        floor = None
        if breach is not None or declared is not None:
            floor = np.maximum(shift, _constant(0.0, shift.shape), out=_scratch(_FLOOR, shift.shape))
        if declared is not None:
            declared *= scale
            shift -= declared
        trust *= scale
        trust += shift
        if floor is not None:
            np.maximum(trust, floor, out=trust)
        elif config.self_trust == 1.0:
            return  # x -> fl(fl(1 - g) x + g) keeps x = 1 exactly: no trust in itself to restore
    _diagonal(trust)[...] = config.self_trust


def _diagonal(trust_by_lab: np.ndarray) -> np.ndarray:
    """(N, B) writable view of ``trust_by_lab[i, :, i]`` (each lab's trust in itself): a plain strided
    view, cheaper to fill than fancy indexing (``trust_by_lab`` is C-contiguous)."""
    strides = trust_by_lab.strides
    return np.ndarray(trust_by_lab.shape[:2], trust_by_lab.dtype, trust_by_lab, 0, (strides[0] + strides[2], strides[1]))


@lru_cache(maxsize=16)
def _constant(value: float | tuple[float, ...], shape: tuple[int, ...]) -> np.ndarray:
    """A read-only float64 array filled with ``value`` (a tuple fills each row): a ufunc with an
    array operand (e.g. ``np.maximum(x, zeros)``) runs about twice as fast as with the scalar."""
    array = np.full(shape, value)
    array.flags.writeable = False
    return array


#: the scale of a declared intention's feature: a float32 operand keeps the product float32
_HALF = np.float32(0.5)

#: ``step += _ONE_STEP``: an int64 array operand is cheaper for numpy than a Python int (B = 1 matters
#: for the PettingZoo API)
_ONE_STEP = np.ones((), dtype=np.int64)


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
    k = config.operands
    capability, ratio = state.capability[games], state.safety_ratio[games]  # (G, N)
    draws = rng.random((2, G, N))
    tiebreak, u_misaligned = draws[0], draws[1]
    outcome = np.zeros(G, dtype=np.int8)  # ONGOING
    outcome[state.step[games] >= k.max_steps] = TIMEOUT
    outcome[state.coordination_progress[games] >= k.one] = COORDINATED
    cause = np.zeros(G, dtype=np.int8)
    winner = _filled(-1, G, np.int64)
    culprit = _filled(-1, G, np.int64)

    reached = capability >= 1.0  # frontier: the most capable lab that reached it is first
    if count_nonzero(reached):  # (the draws above are made either way: the stream does not depend on it)
        frontier, rows = reached.any(axis=1), np.arange(G)
        first = np.where(reached, capability + 1e-9 * tiebreak, -np.inf).argmax(axis=1)  # (the method: no wrapper)
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
        seized = success.any(axis=1)
        actor = np.where(success, tiebreak, -1.0).argmax(axis=1)
        outcome[seized], cause[seized], winner[seized], culprit[seized] = PIVOTAL_ACT, NO_CAUSE, actor[seized], -1
        failed = failure_catastrophe.any(axis=1) & ~seized
        actor = np.where(failure_catastrophe, tiebreak, -1.0).argmax(axis=1)
        outcome[failed], cause[failed], winner[failed], culprit[failed] = CATASTROPHE, PIVOTAL_FAILURE, -1, actor[failed]

    if count_nonzero(accident_lab):
        crashed = accident_lab.any(axis=1)
        lab = np.where(accident_lab, tiebreak, -1.0).argmax(axis=1)  # one of the crashing labs, at random
        outcome[crashed], cause[crashed], winner[crashed], culprit[crashed] = CATASTROPHE, ACCIDENT, -1, lab[crashed]

    state.outcome[games], state.cause[games] = outcome, cause
    state.winner[games], state.catastrophe_lab[games] = winner, culprit


def _terminal_rewards(config: RaceConfig, state: RaceState, games: np.ndarray) -> np.ndarray:
    """(len(games), N) rewards of finished games (every one has a final outcome).

    Each kind of outcome's rule runs only if some game ends that way (most steps end few games).
    """
    outcome = state.outcome[games]  # (G,)
    ending = np.bincount(outcome, minlength=len(OUTCOMES)).tolist()  # games per outcome
    if ending[WINNER] or ending[PIVOTAL_ACT]:
        misuse = state.misuse_concern[games]
        winner = np.maximum(state.winner[games], 0)
        trust_in_winner = state.trust[games, :, winner]  # (G, N): trust[g, j, winner_g]
        rewards = config.frontier_value * ((1.0 - misuse) + misuse * trust_in_winner)
        rewards[np.arange(len(games)), winner] += config.winner_bonus
    else:
        rewards = np.zeros((len(games), config.num_labs))
    if ending[COORDINATED]:
        rewards[outcome == COORDINATED] = config.coordination_value
    if ending[TIMEOUT]:
        rewards[outcome == TIMEOUT] = config.status_quo_value
    if ending[CATASTROPHE]:
        catastrophe = outcome == CATASTROPHE
        rewards[catastrophe] = -config.catastrophe_loss * state.accident_concern[games[catastrophe]]
    return rewards


def observe_batch(config: RaceConfig, state: RaceState) -> np.ndarray:
    """Every lab's egocentric observation, (B, N, observation_size) float32 (layout in the docstring).

    Built as one gather: ``features`` (B, K) holds every quantity the observations show, once per
    game (:func:`observation_features`), and ``config.observation_index`` names the feature column
    of each slot of every lab's view. ``np.take`` copies the values exactly; it is several times
    faster than a product with a 0/1 selector matrix (whose work grows as K x N x observation_size).
    """
    B, N = state.capability.shape
    features = observation_features(config, state)  # (B, K) scratch
    # mode="wrap" skips the bounds check (the index is valid by construction): ~25% faster
    return features.take(config.observation_index, axis=1, mode="wrap").reshape(B, N, config.observation_size)


def _feature_blocks(config: RaceConfig) -> dict[str, tuple[int, int]]:
    """Column block (start, width) of each quantity in :func:`observation_features`."""
    N = config.num_labs
    widths = {
        "capability": N,
        "safety_ratio": N,
        "misuse_concern": N,
        "accident_concern": N,
        "cooperation": N,  # last cooperation share
        "coordination_progress": 1,  # min(G, 1)
        "time": 1,  # t / max_steps
        "one": 1,  # the constant 1 (flags of the config that are on)
        "zero": 1,  # the constant 0 (slots that are always 0)
        "trust": N * N,  # trust[i, j] at i * N + j
    }
    if config.capability_info == "noisy":
        widths["observed_capability"] = N * (N - 1)  # observed_capability[i, k - 1] at i * (N - 1) + k - 1
    if config.pause_steps > 0:
        widths["paused"] = N
    if config.commitments:
        widths["committed"] = N
    if config.audit_probability > 0.0:
        widths["verified_cooperation"] = N
    if config.cheap_talk:
        widths["declared"] = N  # the declared intention's index / 2: 0, 0.5 or 1
    blocks, start = {}, 0
    for name, width in widths.items():
        blocks[name] = (start, width)
        start += width
    return blocks


def observation_features(config: RaceConfig, state: RaceState) -> np.ndarray:
    """(B, K) float32: every quantity the observations show, in the blocks of ``_feature_blocks``."""
    blocks = config.feature_blocks
    B, N = state.capability.shape
    k = config.operands
    trust = state.trust_by_lab  # (N, B, N): lab i's trust in every lab, at i * N + j
    parts = [
        state.capability,
        state.safety_ratio,
        state.misuse_concern,
        state.accident_concern,
        state.allocation_by_share[2],  # last cooperation shares
        np.minimum(state.coordination_progress, k.one)[:, None],
        np.true_divide(state.step, k.max_steps)[:, None],
        _constant((1.0, 0.0), (B, 2)),  # the columns "one" and "zero"
        # one (1, N * N) view at one game; else N blocks (B, N) (a reshape would copy)
        *((trust.reshape(1, N * N),) if B == 1 else [trust[i] for i in range(N)]),
    ]
    if "observed_capability" in blocks:
        parts.append(state.observed_capability.reshape(B, N * (N - 1)))
    if "paused" in blocks:
        parts.append(state.pause_left > 0)
    if "committed" in blocks:
        parts.append(state.committed)
    if "verified_cooperation" in blocks:
        parts.append(state.verified_cooperation)
    if "declared" in blocks:
        parts.append(np.multiply(state.declared, _HALF))  # float32: 0, 0.5 or 1 exactly
    features = _scratch(_FEATURES, (B, config.feature_count), np.float32)
    if B < _RECORD_COPY_FROM:
        return np.concatenate(parts, axis=1, out=features)
    start = 0
    for part in parts:
        _copy_columns(features, start, part)
        start += part.shape[1]
    return features


#: from this many games on, the features are filled part by part as records (see ``_copy_columns``)
_RECORD_COPY_FROM = 1024


def _copy_columns(features: np.ndarray, start: int, part: np.ndarray) -> None:
    """``features[:, start : start + w] = part`` for a (B, w) ``part`` of any dtype, cast to float32.

    Copied into a block of columns, a part's every row is a separate inner loop of w numbers, and
    numpy's per-loop cost dominates at w <= N. Cast to a contiguous float32 array first, each row's
    w numbers are one opaque record of 4w bytes: one loop over the B rows, about twice as fast.
    """
    width = part.shape[1]
    if width == 1:  # a column: already one loop over the rows
        np.copyto(features[:, start], part[:, 0])
        return
    source = np.ascontiguousarray(part, dtype=np.float32)  # (the same rounding as a casting copy)
    np.copyto(_rows(features[:, start : start + width]), _rows(source))


def _observation_index(config: RaceConfig) -> np.ndarray:
    """(N * observation_size,) read-only: the feature column (of :func:`observation_features`) that
    slot ``s`` of lab i shows, at ``i * observation_size + s``; the ``zero`` column for slots that
    are always 0 (the others' capability with ``capability_info="none"``, the pivotal flag when
    ``pivotal_act`` is off).
    """
    N, size = config.num_labs, config.observation_size
    blocks = config.feature_blocks
    index = np.empty(N * size, dtype=np.intp)
    for i in range(N):
        sources: list[tuple[str, int]] = [  # (block, index in the block) per slot
            ("capability", i),
            ("safety_ratio", i),
            ("misuse_concern", i),
            ("accident_concern", i),
            ("coordination_progress", 0),
            ("time", 0),
            ("one", 0) if config.pivotal_act else ("zero", 0),
        ]
        for k in range(1, N):
            j = (i + k) % N
            seen_capability = {
                "public": ("capability", j),
                "noisy": ("observed_capability", i * (N - 1) + k - 1),
                "none": ("zero", 0),
            }[config.capability_info]
            sources += [seen_capability, ("cooperation", j), ("trust", i * N + j)]
        sources += [(slot, i) for slot in config.own_lever_slots]  # paused, committed
        for k in range(1, N):
            j = (i + k) % N
            sources += [(slot, j) for slot in config.other_lever_slots]
        assert len(sources) == size, "the index must follow the documented layout"
        index[i * size : (i + 1) * size] = [blocks[name][0] + offset for name, offset in sources]
    index.flags.writeable = False
    return index


def describe_outcome(info: Mapping[str, Any]) -> str:
    """Readable outcome of a lab's info dict: ``"winner lab_0"``, ``"catastrophe (accident) lab_2"``."""
    text = OUTCOMES[info["outcome"]]
    if info["cause"]:
        text += f" ({CAUSES[info['cause']]})"
    lab = info["winner"] if info["winner"] >= 0 else info["catastrophe_lab"]
    return f"{text} lab_{lab}" if lab >= 0 else text


def observation_slots(num_labs: int, config: RaceConfig | None = None) -> list[str]:
    """Names of the observation slots, in order (used by scripted policies and docs).

    Without ``config`` (or with every lever off) the base layout; with it, the lever slots of the
    levers that are on follow: ``paused``, ``committed``, then per other lab k
    ``verified_cooperation_other_k``, ``committed_other_k``, ``declared_other_k``.
    """
    names = ["capability", "safety_ratio", "misuse_concern", "accident_concern", "coordination_progress", "time", "pivotal_act_allowed"]
    for k in range(1, num_labs):
        names += [f"other_{k}_capability", f"other_{k}_cooperation", f"trust_other_{k}"]
    if config is not None:
        names += list(config.own_lever_slots)
        for k in range(1, num_labs):
            names += [f"{slot}_other_{k}" for slot in config.other_lever_slots]
    return names


def allocation_to_action(
    config: RaceConfig, allocation: Any, attempt: bool = False, commit: bool = False, declare: int | str | None = None
) -> np.ndarray:
    """The action (in this config's action space) that plays ``allocation`` (speed, safety, coop).

    Discrete configs get the menu item closest to ``allocation`` (L1 distance); an attempt maps to
    the ``pivotal_act`` item. ``commit`` (commit to ``commitment_floor`` on decision steps) and
    ``declare`` (an index or name of ``INTENTIONS``) fill the action's extra parts where
    ``commitments`` / ``cheap_talk`` are on and are ignored where they are off. ``declare=None``
    declares what the action does: a pivotal act when attempting, cooperation when cooperation is
    the largest share, else race. Used by scripted policies so that they work in every variant.
    """
    allocation = np.asarray(allocation, dtype=np.float64)
    if isinstance(declare, str):
        if declare not in INTENTIONS:
            raise ValueError(f"declare must be one of {list(INTENTIONS)} or its index; got {declare!r}")
        declare = INTENTIONS.index(declare)
    elif declare is None:
        declare = DECLARE_PIVOTAL if attempt else DECLARE_COOPERATE if allocation[2] > max(allocation[0], allocation[1]) else DECLARE_RACE
    elif not 0 <= int(declare) < len(INTENTIONS):
        raise ValueError(f"declare must be one of {list(INTENTIONS)} or its index in [0, 2]; got {declare!r}")
    extras = [int(bool(commit))] * config.commitments + [int(declare)] * config.cheap_talk
    if config.action_type == "discrete":
        if attempt:
            if not config.pivotal_act:
                raise ValueError("attempt=True needs a config with pivotal_act=True")
            item = len(config.menu) - 1
        else:
            table = np.array([a for _, a in MENU])
            item = int(np.argmin(np.abs(table - allocation).sum(axis=1)))
        return np.asarray([item] + extras, dtype=np.int64) if extras else np.asarray(item)
    parts = [allocation]
    if config.pivotal_act:
        parts.append([1.0 if attempt else 0.0])
    if config.commitments:
        parts.append([1.0 if commit else 0.0])
    if config.cheap_talk:
        parts.append(np.eye(3)[int(declare)])
    return np.concatenate(parts).astype(np.float32) if len(parts) > 1 else allocation.astype(np.float32)


# --------------------------------------------------------------------------------------------
# The game object every adapter drives
# --------------------------------------------------------------------------------------------


#: the lever info keys while every lever is off
_INERT_LEVER_INFO = {"audited": 0, "sanction": 0.0, "committed": 0, "declared": -1, "paused": 0}


class RaceGame(BatchedGame[RaceConfig, RaceState]):
    metadata: ClassVar[dict[str, Any]] = {
        "name": "race_v0",
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4,
        "is_parallelizable": True,
    }
    scenarios = SCENARIOS
    config_class = RaceConfig
    episode_length_field = "max_steps"  # PettingZoo's max_cycles sets it

    def __init__(self, config: RaceConfig, background: str = "balanced") -> None:
        if not isinstance(config, RaceConfig):
            raise TypeError(f"config must be a RaceConfig; got {type(config).__name__}")
        self.config = config
        self.background = background
        self.num_agents = config.num_labs
        high = np.ones(config.observation_size, dtype=np.float32)
        high[0] = 2.0
        high[7 : config.base_observation_size : 3] = 2.0  # the others' capabilities
        self.observation_space = spaces.Box(0.0, high, dtype=np.float32)
        if config.action_type == "discrete":
            if config.commitments or config.cheap_talk:
                nvec = [len(config.menu)] + [2] * config.commitments + [3] * config.cheap_talk
                self.action_space = spaces.MultiDiscrete(nvec)
            else:
                self.action_space = spaces.Discrete(len(config.menu))
        else:
            self.action_space = spaces.Box(0.0, 1.0, (config.action_size,), dtype=np.float32)

    @cached_property
    def observation_slots(self) -> list[str]:
        return observation_slots(self.num_agents, self.config)

    def reset(self, rng: np.random.Generator, batch_size: int) -> RaceState:
        return reset_batch(self.config, rng, batch_size)

    def step(self, state: RaceState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
        # decoded straight into the state's allocation: the step then need not copy it there
        allocation, attempt, commit, declare = decode_actions(self.config, actions, out=state.allocation_by_share)
        return step_batch(self.config, state, allocation, attempt, rng, commit, declare)

    def observe(self, state: RaceState) -> np.ndarray:
        return observe_batch(self.config, state)

    def agent_infos(self, state: RaceState, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        common = {  # .item() gives the Python scalar directly
            "coordination_progress": state.coordination_progress.item(game),
            "outcome": state.outcome.item(game),
            "winner": state.winner.item(game),
            "cause": state.cause.item(game),
            "catastrophe_lab": state.catastrophe_lab.item(game),
            "steps": state.step.item(game),
        }
        if not self.config.levers_on:  # the lever keys, constant while every lever is off
            return [
                {"accident_hazard": hazard, "capability": capability, "safety_ratio": ratio, **common, **_INERT_LEVER_INFO}
                for hazard, capability, ratio in zip(
                    state.accident_hazard[game].tolist(), state.capability[game].tolist(), state.safety_ratio[game].tolist()
                )
            ]
        declared = state.declared[game].tolist() if self.config.cheap_talk else [-1] * self.num_agents
        return [
            {
                "accident_hazard": hazard,
                "capability": capability,
                "safety_ratio": ratio,
                **common,
                "audited": audited,
                "sanction": sanction,
                "committed": committed,
                "declared": declare,
                "paused": paused,
            }
            for hazard, capability, ratio, audited, sanction, committed, declare, paused in zip(
                state.accident_hazard[game].tolist(),
                state.capability[game].tolist(),
                state.safety_ratio[game].tolist(),
                state.audited[game].astype(np.int64).tolist(),
                state.sanction_paid[game].tolist(),
                state.committed[game].astype(np.int64).tolist(),
                declared,
                (state.pause_left[game] > 0).astype(np.int64).tolist(),
            )
        ]

    def render_ansi(self, state: RaceState, game: int) -> str:
        c = self.config
        progress = float(min(state.coordination_progress[game], 1.0))
        bar = "#" * int(round(progress * 20))
        header = f"{'lab':<7}{'capability':>11}{'safety':>8}{'speed':>7}{'safety':>7}{'coop':>6}{'hazard':>8}{'misuse':>8}{'accident':>9}"
        levers = self._lever_columns(state, game)
        header += "".join(f"{name:>{width}}" for name, width, _ in levers)
        lines = [f"race_v0  step {int(state.step[game])}/{c.max_steps}  coordination [{bar:<20}] {progress:.2f}"]
        if c.levers_on:
            lines.append("levers: " + ", ".join(self._lever_summary()))
        lines.append(header)
        ratio = state.safety_ratio[game]
        for i in range(self.num_agents):
            speed, safe, coop = state.last_allocation[game, i]
            lines.append(
                f"{'lab_' + str(i):<7}{state.capability[game, i]:>11.3f}{ratio[i]:>8.3f}{speed:>7.2f}{safe:>7.2f}{coop:>6.2f}"
                f"{state.accident_hazard[game, i]:>8.4f}{state.misuse_concern[game, i]:>8.2f}{state.accident_concern[game, i]:>9.2f}"
                + "".join(f"{cells[i]:>{width}}" for _, width, cells in levers)
            )
        if state.outcome[game] != ONGOING:
            lines.append(f"outcome: {describe_outcome(self.agent_infos(state, None, game)[0])}")
        return "\n".join(lines)

    def _lever_summary(self) -> list[str]:
        c = self.config
        parts = []
        if c.audit_probability > 0.0:
            parts.append(f"audits p={c.audit_probability:g}")
        if c.safety_floor > 0.0:
            parts.append(f"licence floor {c.safety_floor:g} (sanction {c.sanction:g}, pause {c.pause_steps})")
        if c.compute_cap < c.capability_growth:
            parts.append(f"compute cap {c.compute_cap:g}/step")
        if c.commitments:
            parts.append(f"commitments (floor {c.commitment_floor:g}, every {c.commitment_period} steps)")
        if c.cheap_talk:
            parts.append("cheap talk")
        return parts

    def _lever_columns(self, state: RaceState, game: int) -> list[tuple[str, int, list[str]]]:
        """(header, width, one cell per lab) for each lever that is on (none with every lever off)."""
        c, columns = self.config, []
        if c.audit_probability > 0.0:
            columns.append(("audited", 8, ["yes" if a else "" for a in state.audited[game]]))
            columns.append(("verified", 9, [f"{v:.2f}" for v in state.verified_cooperation[game]]))
        if c.safety_floor > 0.0 or c.commitments:
            columns.append(("sanction", 9, [f"{v:g}" if v else "" for v in state.sanction_paid[game]]))
        if c.pause_steps > 0:
            columns.append(("paused", 7, [str(int(v)) if v else "" for v in state.pause_left[game]]))
        if c.commitments:
            columns.append(("committed", 10, ["yes" if v else "" for v in state.committed[game]]))
        if c.cheap_talk:
            columns.append(("declared", 12, [INTENTIONS[int(v)] for v in state.declared[game]]))
        return columns

    def render_rgb(self, state: RaceState, game: int) -> np.ndarray:
        c = self.config
        columns = [np.minimum(state.capability[game], 1.0), state.safety_ratio[game], *state.last_allocation[game].T]
        # lever bars (only for the levers that are on): verified cooperation, committed, paused, declared / 2
        if c.audit_probability > 0.0:
            columns.append(state.verified_cooperation[game])
        if c.commitments:
            columns.append(state.committed[game].astype(np.float64))
        if c.pause_steps > 0:
            columns.append((state.pause_left[game] > 0).astype(np.float64))
        if c.cheap_talk:
            columns.append(state.declared[game] / 2.0)
        footer = [min(float(state.coordination_progress[game]), 1.0), float(state.step[game]) / c.max_steps]
        return bar_chart(np.column_stack(columns), footer)  # (N, 5 + levers)


# --------------------------------------------------------------------------------------------
# Entry points (thin adapters; they never re-implement a rule)
# --------------------------------------------------------------------------------------------


make_config, make_game, parallel_env, env, gym_env = adapters.entry_points(RaceGame, __name__)
