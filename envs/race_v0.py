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

In the code (each formula is a commented line of these functions): :func:`grow` (C, S, G, rho),
:func:`accident_hazard` (h), :func:`end_games` and :func:`resolve_outcomes` (the events below,
with :func:`pivotal_acts`), :func:`terminal_rewards` (the rewards table); :func:`step_batch` calls
them in order, and the governance levers are one function each in :mod:`labrace.envs.race_levers`.

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
the same observation layout and the same action space. Each lever's rule below is one function of
:mod:`labrace.envs.race_levers`, which quotes it. Each lever is a config field and has a
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

Expected rewards (a training aid)
---------------------------------
``expected_rewards=True`` pays accidents and a frontier winner's misalignment in expectation
instead of drawing them: each step every lab receives ``survival * P(accident) * (catastrophe
reward)``, where ``P(accident) = 1 - prod_i (1 - h_i)`` and ``survival`` (the probability that no
accident has ended the game so far) then shrinks by ``1 - P(accident)``; the game goes on along the
path without accidents, and every later reward (terminal rewards and sanctions) is weighted by
``survival``. A frontier win pays ``(1 - q) * (winner rewards) + q * (catastrophe rewards)`` with
``q = misalignment_risk * (1 - rho_winner)``. Every policy's expected return is unchanged (its
observations on that path are those of the game without accidents so far), so the equilibria are
the same, while the variance of a racing profile's return falls about a hundredfold. Catastrophes
by accident or misalignment then never appear as outcomes: train with it, evaluate without it
(the trainers' ``train_overrides``). Pivotal acts, audits and tie-breaks are still drawn; the
random stream is the same as without it.

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
* v0: initial release; governance levers added (off by default, episodes unchanged when off);
  ``expected_rewards`` added (off by default, episodes unchanged when off).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
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
    other_labs,
)
from labrace.envs import race_levers
from labrace.envs.race_levers import DECLARE_COOPERATE, DECLARE_PIVOTAL, DECLARE_RACE, INTENTIONS  # noqa: F401 (public names)

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
# declared intentions under ``cheap_talk``: ``INTENTIONS`` and ``DECLARE_*`` (from race_levers)

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
    # -- training aid: the same expected returns, far less variance (see "Expected rewards") --
    expected_rewards: bool = False

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
        set_("expected_rewards", check_bool("expected_rewards", self.expected_rewards))

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
    def type_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        """(low, hi - low), each (3, N): lab i's ranges of misuse concern, accident concern and trust."""
        bounds = np.array([[getattr(self.lab_type(i), name) for i in range(self.num_labs)]
                           for name in ("misuse_concern", "accident_concern", "trust")])  # (3, N, 2)
        low, span = bounds[..., 0], bounds[..., 1] - bounds[..., 0]
        low.flags.writeable = span.flags.writeable = False
        return low, span

    @cached_property
    def observation_layout(self) -> np.ndarray:
        """(N * observation_size,) the observation table column shown in each slot of every lab."""
        return observation_layout(self)

    @cached_property
    def action_size(self) -> int:
        """Length of a continuous action: 3 + [attempt] + [commit] + [3 intention scores]."""
        return 3 + self.pivotal_act + self.commitments + 3 * self.cheap_talk

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
# Batched dynamics (plain numpy over B games x N labs; no loop over labs or games)
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
    trust: np.ndarray  # (B, N, N) trust[b, i, j] = lab i's trust in lab j (tau_ij; tau_ii = self_trust)
    last_allocation: np.ndarray  # (B, N, 3) lab i's (speed, safety, cooperation) of the last step
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
    # expected_rewards only (constant ones otherwise)
    survival: np.ndarray  # (B,) probability that no accident has ended the game so far


def reset_batch(config: RaceConfig, rng: np.random.Generator, batch_size: int) -> RaceState:
    """Draw ``batch_size`` fresh games: concerns and trust from each lab's ``LabType``, then C and S.

    The draws, in this order, are the model's random stream: misuse concern (B, N), accident concern
    (B, N), trust (B, N, N), capability (B, N), safety (B, N), each ``lo + (hi - lo) * U(0, 1)``.
    """
    B, N = batch_size, config.num_labs
    low, span = config.type_ranges  # (3, N) each: lab i's misuse, accident and trust ranges
    misuse_concern = low[0] + span[0] * rng.random((B, N))
    accident_concern = low[1] + span[1] * rng.random((B, N))
    trust = low[2][:, None] + span[2][:, None] * rng.random((B, N, N))  # row i: truster i's range
    trust[:, np.arange(N), np.arange(N)] = config.self_trust
    (lo_capability, hi_capability), (lo_safety, hi_safety) = config.initial_capability, config.initial_safety
    capability = lo_capability + (hi_capability - lo_capability) * rng.random((B, N))
    safety = lo_safety + (hi_safety - lo_safety) * rng.random((B, N))
    state = RaceState(
        capability=capability,
        safety=safety,
        safety_ratio=np.minimum(safety / capability, 1.0),
        coordination_progress=np.zeros(B),
        step=np.zeros(B, dtype=np.int64),
        misuse_concern=misuse_concern,
        accident_concern=accident_concern,
        trust=trust,
        last_allocation=np.zeros((B, N, 3)),
        accident_hazard=np.zeros((B, N)),
        observed_capability=np.zeros((B, N, N - 1)),
        outcome=np.full(B, ONGOING, dtype=np.int8),
        winner=np.full(B, -1, dtype=np.int64),
        cause=np.full(B, NO_CAUSE, dtype=np.int8),
        catastrophe_lab=np.full(B, -1, dtype=np.int64),
        committed=np.zeros((B, N), dtype=bool),
        declared=np.zeros((B, N), dtype=np.int8),
        pause_left=np.zeros((B, N), dtype=np.int32),
        verified_cooperation=np.zeros((B, N)),
        audited=np.zeros((B, N), dtype=bool),
        sanction_paid=np.zeros((B, N)),
        survival=np.ones(B),
    )
    observe_noisy_capability(config, state, rng)
    return state


def observe_noisy_capability(config: RaceConfig, state: RaceState, rng: np.random.Generator) -> None:
    """Fresh noisy estimates of the others' capability, ``clip(C_j + N(0, capability_noise), 0, 2)``
    (only in the ``noisy`` regime)."""
    if config.capability_info == "noisy":
        seen = state.capability[:, other_labs(config.num_labs)]  # (B, N, N-1)
        seen += config.capability_noise * rng.standard_normal(seen.shape)
        state.observed_capability[...] = np.clip(seen, 0.0, 2.0)


def decode_actions(
    config: RaceConfig, actions: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """Validated actions → (allocation (B, N, 3), attempts, commits, declarations).

    Attempts and commits are (B, N) bool, declarations (B, N) int8 (index into ``INTENTIONS``);
    each is None when its lever (``pivotal_act``, ``commitments``, ``cheap_talk``) is off.
    """
    allocation, attempts = actions_to_allocation(config, actions)
    commits = declarations = None
    if config.action_type == "discrete":  # MultiDiscrete([menu, [2], [3]])
        if config.commitments:
            commits = actions[..., 1] == 1
        if config.cheap_talk:
            declarations = actions[..., -1].astype(np.int8)
    else:  # Box: [allocation (3), [attempt], [commit], [three intention scores]]
        if config.commitments:
            commits = actions[..., 3 + config.pivotal_act] > 0.5
        if config.cheap_talk:  # the argmax of the three scores (ties: the lowest index)
            declarations = actions[..., -3:].argmax(axis=-1).astype(np.int8)
    return allocation, attempts, commits, declarations


def actions_to_allocation(config: RaceConfig, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated actions (B, N[, D]) → allocation (B, N, 3) summing to 1, pivotal attempts (B, N) or None."""
    if config.action_type == "discrete":
        menu = config.menu
        if config.commitments or config.cheap_talk:  # MultiDiscrete: the menu item comes first
            actions = actions[..., 0]
        allocation = np.array([shares for _, shares in menu])[actions]  # (B, N, 3)
        attempts = np.array([name == PIVOTAL_MENU_ITEM[0] for name, _ in menu])[actions] if config.pivotal_act else None
        return allocation, attempts
    attempts = actions[..., 3] > 0.5 if config.pivotal_act else None
    effort = actions[..., :3].astype(np.float64)  # (B, N, 3), validated >= 0
    total = effort[..., 0] + effort[..., 1] + effort[..., 2]  # (B, N)
    if np.count_nonzero(total) < total.size:  # an all-zero effort means "no preference": an equal split
        effort[total == 0.0] = 1.0
        total[total == 0.0] = 3.0
    return effort / total[..., None], attempts


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

    The order of the module docstring: the levers before growth (:mod:`labrace.envs.race_levers`),
    :func:`grow`, :func:`accident_hazard`, audits, :func:`end_games` (outcomes and rewards).
    ``commit`` and ``declare`` are read only when ``commitments`` / ``cheap_talk`` are on.
    """
    state.last_allocation[...] = allocation  # the played allocation: the levers change it there
    allocation = state.last_allocation
    if config.pause_steps > 0:
        race_levers.apply_pauses(state, allocation)
    if config.commitments:
        race_levers.decide_commitments(config, state, commit)
    if config.cheap_talk:
        race_levers.declare_intentions(config, state, declare)
    speed, safety_work, cooperation = allocation[..., 0], allocation[..., 1], allocation[..., 2]
    state.step += 1
    grow(config, state, speed, safety_work, cooperation)
    state.accident_hazard[...] = accident_hazard(config, state, speed)
    if config.audit_probability > 0.0:
        race_levers.audit(config, state, allocation, rng)
    alive = state.survival.copy()  # (B,) before this step's accidents (ones unless expected_rewards)
    rewards, terminated, truncated = end_games(config, state, pivotal_attempt, rng)
    if config.audit_probability > 0.0:  # sanctions are immediate, on top of any terminal reward
        rewards -= alive[:, None] * state.sanction_paid
    observe_noisy_capability(config, state, rng)
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


def grow(config: RaceConfig, state: RaceState, speed: np.ndarray, safety_work: np.ndarray, cooperation: np.ndarray) -> None:
    """Capability, safety and coordination progress grow with this step's efforts (each (B, N))."""
    total_cooperation = cooperation.sum(axis=1)  # (B,) sum_j coop_j
    spillover_per_lab = config.cooperation_spillover / config.num_labs  # spillover * mean_j coop_j = this * sum_j
    # C_i += min(capability_growth * speed_i, compute_cap)
    state.capability += race_levers.capability_gain(config, speed)
    # S_i += safety_growth * (safety_i + cooperation_spillover * mean_j coop_j)
    state.safety += config.safety_growth * (safety_work + spillover_per_lab * total_cooperation[:, None])
    # G += coordination_rate * sum_j coop_j
    state.coordination_progress += config.coordination_rate * total_cooperation
    # rho_i = clip(S_i / C_i, 0, 1) (S and C are positive: only the cap at 1 can bind)
    np.minimum(state.safety / state.capability, 1.0, out=state.safety_ratio)


def accident_hazard(config: RaceConfig, state: RaceState, speed: np.ndarray) -> np.ndarray:
    """(B, N) ``h_i = accident_rate * speed_i * min(C_i, 1) * (1 - rho_i)``."""
    return config.accident_rate * speed * np.minimum(state.capability, 1.0) * (1.0 - state.safety_ratio)


def end_games(
    config: RaceConfig, state: RaceState, pivotal_attempt: np.ndarray | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw the accidents, settle the outcome of every game with an event; (rewards, terminated, truncated).

    A game has an event when a lab has an accident, reaches the frontier or attempts a pivotal act,
    when G >= 1 or when t = max_steps; only those games draw the numbers of :func:`resolve_outcomes`.
    """
    B, N = state.capability.shape
    accident = rng.random((B, N)) < state.accident_hazard  # (B, N): lab i has an accident with probability h_i
    rewards = np.zeros((B, N))
    if config.expected_rewards:  # drawn (the random stream stays the same) but paid in expectation
        p_accident = 1.0 - np.prod(1.0 - state.accident_hazard, axis=1)  # (B,) P(some lab has an accident)
        rewards += (state.survival * p_accident)[:, None] * catastrophe_rewards(config, state.accident_concern)
        state.survival *= 1.0 - p_accident
        accident[:] = False
    lab_event = accident | (state.capability >= 1.0)
    if pivotal_attempt is not None:
        lab_event |= pivotal_attempt
    coordinated, timed_out = state.coordination_progress >= 1.0, state.step >= config.max_steps  # (B,)
    if np.count_nonzero(state.outcome):  # left over from a finished game that is stepped on
        state.outcome[:], state.cause[:], state.winner[:], state.catastrophe_lab[:] = ONGOING, NO_CAUSE, -1, -1
    terminated, truncated = np.zeros(B, dtype=bool), np.zeros(B, dtype=bool)
    if not (np.count_nonzero(lab_event) or np.count_nonzero(coordinated) or np.count_nonzero(timed_out)):
        return rewards, terminated, truncated  # most steps: no game has an event (4% off an API step at 2 labs)
    games = (lab_event.any(axis=1) | coordinated | timed_out).nonzero()[0]
    attempt = None if pivotal_attempt is None else pivotal_attempt[games]
    resolve_outcomes(config, state, games, accident[games], attempt, rng)
    outcome = state.outcome[games]
    finished = games[outcome != ONGOING]
    rewards[finished] += state.survival[finished, None] * terminal_rewards(config, state, finished)
    terminated[games] = (outcome != ONGOING) & (outcome != TIMEOUT)
    truncated[games] = outcome == TIMEOUT
    return rewards, terminated, truncated


def resolve_outcomes(
    config: RaceConfig,
    state: RaceState,
    games: np.ndarray,  # (G,) games with an event this step
    accident: np.ndarray,  # (G, N)
    attempt: np.ndarray | None,  # (G, N)
    rng: np.random.Generator,
) -> None:
    """The outcome of each game with an event, by the docstring's precedence: the rules are applied
    from the lowest (time-out) to the highest (accident), each overriding the ones before."""
    G, N = accident.shape
    capability, ratio = state.capability[games], state.safety_ratio[games]  # (G, N)
    tiebreak, u_misaligned = rng.random((2, G, N))
    outcome = np.full(G, ONGOING, dtype=np.int8)
    cause = np.full(G, NO_CAUSE, dtype=np.int8)
    winner, culprit = np.full(G, -1), np.full(G, -1)
    rows = np.arange(G)

    # 5. time-out: t == max_steps
    outcome[state.step[games] >= config.max_steps] = TIMEOUT
    # 4. coordinated outcome: G >= 1
    outcome[state.coordination_progress[games] >= 1.0] = COORDINATED
    # 3. frontier reached: the most capable lab with C_i >= 1 (ties at random) is first; misaligned
    #    with probability misalignment_risk * (1 - rho_first) -> catastrophe, else it wins
    reached = capability >= 1.0
    if reached.any():
        first = np.where(reached, capability + 1e-9 * tiebreak, -np.inf).argmax(axis=1)
        frontier = reached.any(axis=1)
        misaligned = frontier & (u_misaligned[rows, first] < config.misalignment_risk * (1.0 - ratio[rows, first]))
        if config.expected_rewards:  # the winner's system is paid as misaligned in expectation (terminal_rewards)
            misaligned[:] = False
        safe_win = frontier & ~misaligned
        outcome[safe_win], winner[safe_win] = WINNER, first[safe_win]
        outcome[misaligned], cause[misaligned], culprit[misaligned] = CATASTROPHE, MISALIGNED, first[misaligned]
    # 2. pivotal act
    if attempt is not None and attempt.any():  # (only then are its numbers drawn)
        seized, actor, failed, failed_actor = pivotal_acts(config, state, games, attempt, tiebreak, rng)
        outcome[seized], cause[seized], winner[seized], culprit[seized] = PIVOTAL_ACT, NO_CAUSE, actor[seized], -1
        failed &= ~seized
        outcome[failed], cause[failed], winner[failed], culprit[failed] = CATASTROPHE, PIVOTAL_FAILURE, -1, failed_actor[failed]
    # 1. accident (one of the crashing labs, at random, is named)
    if accident.any():
        crashed = accident.any(axis=1)
        crashing_lab = np.where(accident, tiebreak, -1.0).argmax(axis=1)
        outcome[crashed], cause[crashed], winner[crashed], culprit[crashed] = CATASTROPHE, ACCIDENT, -1, crashing_lab[crashed]

    state.outcome[games], state.cause[games] = outcome, cause
    state.winner[games], state.catastrophe_lab[games] = winner, culprit


def pivotal_acts(
    config: RaceConfig,
    state: RaceState,
    games: np.ndarray,
    attempt: np.ndarray,
    tiebreak: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Attempts at a unilateral pivotal act in ``games`` (``attempt``: (G, N) bool).

    An attempt succeeds with probability ``rho_i * clip(lead_i / pivotal_lead_scale, 0, 1)``, where
    ``lead_i = C_i - max_{j != i} C_j``; a failure is a catastrophe with probability
    ``pivotal_failure_risk``. Every attempt costs the actor ``tau_ji -= pivotal_trust_penalty``
    (trust rule, event 4). Returns (G,) whether an act succeeded and which lab's (ties at random),
    and whether a failed act was a catastrophe and which lab's.
    """
    capability, ratio = state.capability[games], state.safety_ratio[games]  # (G, N)
    ranked = np.sort(capability, axis=1)  # max over j != i of C_j: the top C, or the runner-up for the top lab
    best_other = np.where(capability >= ranked[:, -1:], ranked[:, -2:-1], ranked[:, -1:])
    p_success = ratio * np.clip((capability - best_other) / config.pivotal_lead_scale, 0.0, 1.0)
    u_success, u_failure = rng.random((2,) + attempt.shape)
    success = attempt & (u_success < p_success)
    failure_catastrophe = attempt & ~success & (u_failure < config.pivotal_failure_risk)
    penalty = np.zeros(state.capability.shape)
    penalty[games] = config.pivotal_trust_penalty * attempt
    race_levers.lower_trust(state, penalty)
    seized, actor = success.any(axis=1), np.where(success, tiebreak, -1.0).argmax(axis=1)
    failed, failed_actor = failure_catastrophe.any(axis=1), np.where(failure_catastrophe, tiebreak, -1.0).argmax(axis=1)
    return seized, actor, failed, failed_actor


def catastrophe_rewards(config: RaceConfig, accident_concern: np.ndarray) -> np.ndarray:
    """Every lab's reward of a catastrophe, ``-accident_concern_j * catastrophe_loss`` (shape of the input)."""
    return -config.catastrophe_loss * accident_concern


def terminal_rewards(config: RaceConfig, state: RaceState, games: np.ndarray) -> np.ndarray:
    """(len(games), N) rewards of finished games, by their outcome (the table of the docstring).

    With ``expected_rewards`` a frontier winner's system is misaligned in expectation: its race pays
    ``(1 - q) * (winner rewards) + q * (catastrophe rewards)``, ``q = misalignment_risk * (1 - rho_w)``.
    """
    outcome = state.outcome[games]  # (G,)
    rewards = np.zeros((len(games), config.num_labs))
    won = np.flatnonzero((outcome == WINNER) | (outcome == PIVOTAL_ACT))  # rows of games with a winner w
    if won.size:
        misuse, winner = state.misuse_concern[games[won]], state.winner[games[won]]
        trust_in_winner = state.trust[games[won], :, winner]  # (W, N): trust[g, j, w_g]
        rewards[won] = config.frontier_value * ((1.0 - misuse) + misuse * trust_in_winner)
        rewards[won, winner] += config.winner_bonus
        if config.expected_rewards:
            misaligned = config.misalignment_risk * (1.0 - state.safety_ratio[games[won], winner])  # (W,) q
            misaligned[outcome[won] == PIVOTAL_ACT] = 0.0  # a seized pivotal act has no misalignment draw
            loss = catastrophe_rewards(config, state.accident_concern[games[won]])
            rewards[won] = (1.0 - misaligned)[:, None] * rewards[won] + misaligned[:, None] * loss
    rewards[outcome == COORDINATED] = config.coordination_value
    rewards[outcome == TIMEOUT] = config.status_quo_value
    catastrophe = outcome == CATASTROPHE
    rewards[catastrophe] = catastrophe_rewards(config, state.accident_concern[games[catastrophe]])
    return rewards


# --------------------------------------------------------------------------------------------
# Observations (the layout of the docstring's observation tables)
# --------------------------------------------------------------------------------------------


def observe_batch(config: RaceConfig, state: RaceState) -> np.ndarray:
    """Every lab's egocentric observation, (B, N, observation_size) float32 (layout in the docstring).

    Each quantity a lab can see is laid out once per game in a table (:func:`observation_table`);
    ``config.observation_layout`` names the table column that each slot of each lab's view shows
    (built from the docstring's tables by :func:`observation_layout`), so every view is one gather.
    """
    B, N = state.capability.shape
    table = observation_table(config, state)  # (B, K)
    return table.take(config.observation_layout, axis=1).reshape(B, N, config.observation_size)


def observation_blocks(config: RaceConfig, state: RaceState) -> dict[str, np.ndarray]:
    """The quantities the observations show, each as a (B, width) block (see :func:`block_widths`)."""
    B, N = state.capability.shape
    blocks = {
        "capability": state.capability,  # C_j at column j
        "safety_ratio": state.safety_ratio,
        "misuse_concern": state.misuse_concern,
        "accident_concern": state.accident_concern,
        "cooperation": state.last_allocation[..., 2],  # last cooperation share
        "coordination_progress": np.minimum(state.coordination_progress, 1.0)[:, None],  # min(G, 1)
        "time": (state.step / config.max_steps)[:, None],  # t / max_steps
        "pivotal_act_allowed": np.full((B, 1), float(config.pivotal_act)),
        "zero": np.zeros((B, 1)),  # slots that are always 0
        "trust": state.trust.reshape(B, N * N),  # trust of lab i in lab j at column i * N + j
    }
    if config.capability_info == "noisy":  # lab i's estimate of lab i+k at column i * (N - 1) + k - 1
        blocks["observed_capability"] = state.observed_capability.reshape(B, N * (N - 1))
    if config.pause_steps > 0:
        blocks["paused"] = state.pause_left > 0
    if config.commitments:
        blocks["committed"] = state.committed
    if config.audit_probability > 0.0:
        blocks["verified_cooperation"] = state.verified_cooperation
    if config.cheap_talk:
        blocks["declared"] = state.declared / 2.0  # the declared intention's index / 2
    return blocks


def observation_table(config: RaceConfig, state: RaceState) -> np.ndarray:
    """(B, K) float32: the blocks of :func:`observation_blocks` side by side."""
    return np.concatenate(tuple(observation_blocks(config, state).values()), axis=1, dtype=np.float32)


def block_widths(config: RaceConfig) -> dict[str, int]:
    """Width of each block of :func:`observation_blocks`, in their order."""
    N = config.num_labs
    widths = dict.fromkeys(("capability", "safety_ratio", "misuse_concern", "accident_concern", "cooperation"), N)
    widths.update(dict.fromkeys(("coordination_progress", "time", "pivotal_act_allowed", "zero"), 1))
    widths["trust"] = N * N
    if config.capability_info == "noisy":
        widths["observed_capability"] = N * (N - 1)
    lever_blocks = {
        "paused": config.pause_steps > 0,
        "committed": config.commitments,
        "verified_cooperation": config.audit_probability > 0.0,
        "declared": config.cheap_talk,
    }
    widths.update({name: N for name, on in lever_blocks.items() if on})
    return widths


def observation_layout(config: RaceConfig) -> np.ndarray:
    """(N * observation_size,) read-only: the column of :func:`observation_table` that slot ``s`` of
    lab i shows, at ``i * observation_size + s``, following the docstring's tables."""
    N = config.num_labs
    start, column = {}, 0
    for name, width in block_widths(config).items():
        start[name] = column
        column += width
    layout = []
    for i in range(N):
        slots = [  # (block, column in the block)
            ("capability", i),
            ("safety_ratio", i),
            ("misuse_concern", i),
            ("accident_concern", i),
            ("coordination_progress", 0),
            ("time", 0),
            ("pivotal_act_allowed", 0),
        ]
        for k in range(1, N):  # lab i+k
            j = (i + k) % N
            seen_capability = {
                "public": ("capability", j),
                "noisy": ("observed_capability", i * (N - 1) + k - 1),
                "none": ("zero", 0),
            }[config.capability_info]
            slots += [seen_capability, ("cooperation", j), ("trust", i * N + j)]
        slots += [(name, i) for name in config.own_lever_slots]  # paused, committed
        for k in range(1, N):
            slots += [(name, (i + k) % N) for name in config.other_lever_slots]
        if len(slots) != config.observation_size:
            raise AssertionError("the layout must follow the documented observation tables")
        layout += [start[name] + offset for name, offset in slots]
    index = np.array(layout, dtype=np.intp)
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
LEVERS_OFF_INFO = {"audited": 0, "sanction": 0.0, "committed": 0, "declared": -1, "paused": 0}


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
        allocation, attempt, commit, declare = decode_actions(self.config, actions)
        return step_batch(self.config, state, allocation, attempt, rng, commit, declare)

    def observe(self, state: RaceState) -> np.ndarray:
        return observe_batch(self.config, state)

    def agent_infos(self, state: RaceState, result: StepResult | None, game: int) -> list[dict[str, Any]]:
        common = {  # .item() gives the Python scalar
            "coordination_progress": state.coordination_progress.item(game),
            "outcome": state.outcome.item(game),
            "winner": state.winner.item(game),
            "cause": state.cause.item(game),
            "catastrophe_lab": state.catastrophe_lab.item(game),
            "steps": state.step.item(game),
        }
        labs = zip(state.accident_hazard[game].tolist(), state.capability[game].tolist(), state.safety_ratio[game].tolist())
        if not self.config.levers_on:  # the lever keys are constant
            return [
                {"accident_hazard": hazard, "capability": capability, "safety_ratio": ratio, **common, **LEVERS_OFF_INFO}
                for hazard, capability, ratio in labs
            ]
        levers = {
            "audited": state.audited[game].astype(np.int64).tolist(),
            "sanction": state.sanction_paid[game].tolist(),
            "committed": state.committed[game].astype(np.int64).tolist(),
            "declared": state.declared[game].tolist() if self.config.cheap_talk else [-1] * self.num_agents,
            "paused": (state.pause_left[game] > 0).astype(np.int64).tolist(),
        }
        return [
            {"accident_hazard": hazard, "capability": capability, "safety_ratio": ratio, **common, **{key: values[i] for key, values in levers.items()}}
            for i, (hazard, capability, ratio) in enumerate(labs)
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
