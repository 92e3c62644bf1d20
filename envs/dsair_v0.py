"""dsair_v0: the DSAIR race — labs repeatedly develop SAFE (slow, costly) or UNSAFE (fast, risky).

Optional (off by default): voluntary safety commitments with sanctions (Han et al. 2022).

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

Switching changes the game's equilibria (``switching=True``, the default). The paper's strategies
are whole-race choices; a lab that may switch every round has a better reply to SAFE rivals than
always-UNSAFE: a *sprint* of a few UNSAFE rounds puts it ahead, so it wins the whole prize at a
risk of ``p_r k / rounds`` (``k`` = 2 suffices at W = 100, s = 1.5: about 9,800 per episode against
the 5,100 of all-SAFE, at every ``p_r``). So all-SAFE, the paper's risk-dominant equilibrium above
:func:`risk_dominance_threshold`, is no equilibrium of the switching game; all-UNSAFE nearly is
(playing SAFE in the last round of a tied race lowers the risk and still ties, worth under 1% of
the prize). ``switching=False`` binds each lab to its first play for the whole race: the paper's
game, with its equilibria and thresholds (the validation in results/canonical/ checks both).
``expected_rewards=True`` charges each lab its expected disaster loss ``p_r u_i x gains`` at the
end instead of drawing the disaster: the same expected payoffs, no variance (the disaster is still
drawn for ``outcome`` and ``disaster``; learners train with it).

Voluntary commitments with sanctions (``commitments=True``; off by default)
---------------------------------------------------------------------------
Han, Lenaerts, Santos & Pereira (2022), "Voluntary safety commitments provide an escape from
over-regulation in AI development", *Technology in Society* 68, 101843 (arXiv:2104.03741). Before
the race, teams may commit to develop SAFE; those who break what they pledged are sanctioned. The
paper's strategies (rows and columns of :func:`commitment_payoff_matrix`, ``STRATEGIES``): **AS**
(always SAFE, never commits), **AU** (always UNSAFE, never commits), **VS** (commits; plays SAFE
inside an agreement and UNSAFE when none formed) and **VU** (a fake committer: commits, then plays
UNSAFE). An agreement costs each of its members the set-up cost ``epsilon`` per round
(``commitment_cost``); a breach is caught with probability ``q`` (``detection_probability``) and a
caught member pays the fine ``delta`` (``sanction``), of which the share ``kappa``
(``compensation_share``) compensates the members who kept the agreement; optionally a caught
member also loses ``gamma`` development steps that round (``sanction_speed``, the paper's sanction
slows the violator down). With ``Pi`` the 2020 matrix above, per round::

                AS        AU        VS                       VU
    AS   [ Pi_SS     Pi_SU     Pi_SU                    Pi_SU                       ]
    AU   [ Pi_US     Pi_UU     Pi_UU                    Pi_UU                       ]
    VS   [ Pi_US     Pi_UU     Pi_SS - eps              Pi_SU - eps + kappa q delta ]
    VU   [ Pi_US     Pi_UU     Pi_US - eps - q delta    Pi_UU - eps - q delta       ]

(``gamma > 0`` replaces the breacher's speed ``s`` by ``max(s - gamma, 0)`` in the VU rows and
columns.) Conditions (:func:`breach_deterrence_sanction`, :func:`commitment_sanction_threshold`,
:func:`commitment_risk_threshold`; with ``gamma = 0``): breaking an agreement with a member who keeps
it does not pay when ``q delta > Pi_US - Pi_SS``; VS risk-dominates VU when
``q delta (2 + kappa) > (Pi_US + Pi_UU) - (Pi_SS + Pi_SU)`` (the 2020 risk-dominance gap); VS
risk-dominates AU when ``Pi_SS - eps > Pi_UU``, i.e. ``p_r > 1 - (Pi_SS - eps) / Pi_UU(p_r = 0)``, which for ``eps -> 0`` is the collective
threshold. So with a large enough sanction, commitments win exactly where all-SAFE is collectively
preferred and lose where UNSAFE development is socially preferable: they promote safety in the
dilemma zone without over-regulating (the paper's headline). (VS risk-dominates AS when ``eps <
Pi_US - Pi_SU``, which fails only as ``p_r -> 1``, where AS plays SAFE too.) :func:`stationary_distribution`
gives the long-run share of each strategy in a finite population (pairwise comparison, vanishing
mutation: the paper's analysis); :func:`commitment_expected_matrix` the environment's exact 4x4
matrix in whole rounds. Provenance: the 2022 paper's full text could not be retrieved while this
was written (only its abstract). The strategies and the payoff structure follow Paolo Bova's
public replication (``gh-pages-example``, ``payoffs_lr_voluntary``: strategies AS, AU "out", VS, VU
"in" and VP "punish violator"; the commitment cost paid by both parties of a formed agreement and
nothing by a lone committer; VS playing UNSAFE against a non-committer; sanctions that reduce the
violator's speed, by a costly peer (VP) or an institution). Differences, by design: sanctions here
are imposed by the environment (institutional, no cost to the other members, so VP and VS
coincide); they may be a fine, paid as compensation to the complying members as in Han, Pereira,
Santos & Lenaerts's earlier commitment models (*Good agreements make good friends*, Sci. Rep. 3,
2695, 2013), a speed reduction, or both; a speed sanction applies in the round of the breach (the
replication applies it from the second round on); breaches are caught with probability ``q``
(the paper: always). The thresholds above were derived here from that matrix and are tested
against payoffs the environment simulates.

How the environment implements commitments: when ``commitments`` is on, the first step of every
episode is the **commitment stage**: each lab's commit part is read (its play part is ignored),
nobody develops, rewards are 0 and no round is counted. An agreement forms among the labs that
committed if at least two did; its members are public from then on (a lone committer is bound by
nothing and pays nothing). Every following step is a development round as above, plus: every
member pays ``epsilon``; a member that plays UNSAFE has breached and is caught with probability
``q`` (no random draw when ``q`` is 0 or 1); a caught member pays ``delta``, develops
``max(s - gamma, 0)`` steps instead of ``s`` (its benefit share follows its speed) and the complying
members (members that played SAFE this round) share ``kappa delta`` equally (the rest of the fine,
or all of it when nobody complied, goes to the institution). Commit parts are ignored after the
stage. A disaster takes benefits and prize; costs, fines and compensation stay. The race may then
last ``max_rounds`` rounds plus the stage. :class:`CommitmentStrategy` plays each of the paper's
strategies (any number of labs); :func:`commitment_race_returns` gives their exact returns. The
scenarios ``commitments`` (the baseline, p_r = 0.6, in the dilemma zone) and
``commitments_low_risk`` (p_r = 0.2, where all-UNSAFE is collectively preferred) turn commitments on
with the field defaults; their background labs in the single-agent view play VS. In a game with
commitments, a background named by a ``dsair_v0`` baseline (the game's default, ``risk_dominant``)
plays that baseline on the observation without the commitment slots and never commits.

Action space
------------
``Discrete(2)``: 0 = SAFE, 1 = UNSAFE. With ``commitments``: ``MultiDiscrete([2, 2])`` = (play
0 SAFE / 1 UNSAFE, commit 0 / 1); the commit part is read in the commitment stage only, the play
part in development rounds only. ``to_action(config, unsafe, commit)`` builds actions of either
form.

Observation space (lab i's view, float32, size ``4 + 2 (N - 1)``; ``7 + 4 (N - 1)`` with commitments)
------------------------------------------------------------------------------------------------------
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

With ``commitments`` these slots follow (``b = 4 + 2 (N - 1)``; ``observation_slots(N, config)``
names them); without, the layout above is the whole observation:

=====================  ====================================================  =====  =====
index                  meaning                                               min    max
=====================  ====================================================  =====  =====
b                      ``commitment_stage``: 1 until the stage is played     0      1
b + 1                  ``member``: 1 if lab i is a member of the agreement   0      1
b + 2                  ``sanctioned``: 1 if lab i was caught breaking it in  0      1
                       the last round
b + 3 + 2 (k - 1)      ``member`` of lab i+k (mod N)                         0      1
b + 4 + 2 (k - 1)      ``sanctioned`` of lab i+k in the last round           0      1
=====================  ====================================================  =====  =====

Rewards
-------
Every round: ``b v_i / sum_j v_j - c [SAFE]``; at the end: plus the prize share; a lab hit by
disaster receives minus everything it gained (benefits and prize). With ``commitments``, every
round also ``- epsilon [member] - delta [caught] + compensation``; the commitment stage pays 0.

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
end, else 0), ``prize`` (its prize share), ``rounds`` (development rounds played); and, constant 0
while ``commitments`` is off, ``member`` (1 if a member of the agreement), ``sanctioned`` (1 if
caught breaking it this step), ``sanction`` (the fine paid this step), ``compensation`` (received
this step) and ``commitment_cost`` (``epsilon`` paid this step). Batched: ``outcome``, ``winner``,
``disaster`` (B, N), ``prize`` (B, N); with commitments also ``member``, ``sanctioned``,
``sanction``, ``compensation`` (B, N).

Version history
---------------
* v0: initial release; voluntary commitments with sanctions (Han et al. 2022) added, off by
  default (episodes, spaces and random draws unchanged when off); ``switching`` and
  ``expected_rewards`` added (defaults keep the episodes unchanged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces

from labrace.envs import adapters
from labrace.envs.core import BatchedGame, Scenario, StepResult, bar_chart, check_bool, check_float, check_int, other_labs

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
#: with ``commitments``: the action is MultiDiscrete([2, 2]) = (play, commit)
ACTION_PARTS = ("play", "commit")
#: lever slots appended to the observation with ``commitments`` (own, then per other lab)
COMMITMENT_OWN_SLOTS = ("commitment_stage", "member", "sanctioned")
COMMITMENT_OTHER_SLOTS = ("member", "sanctioned")
#: Han et al. (2022)'s strategies (rows and columns of :func:`commitment_payoff_matrix`)
STRATEGIES = ("AS", "AU", "VS", "VU")
AS, AU, VS, VU = range(4)
STRATEGY_DESCRIPTIONS = {
    "AS": "always SAFE, never commits",
    "AU": "always UNSAFE, never commits",
    "VS": "commits; plays SAFE inside an agreement, UNSAFE when none formed",
    "VU": "commits and plays UNSAFE (a fake committer: breaks the agreement every round)",
}


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
    #: True: a lab chooses SAFE or UNSAFE every round (the risk follows its UNSAFE share). False: its
    #: first play binds it for the whole race, the paper's strategies (always SAFE / always UNSAFE)
    switching: bool = True
    #: a disaster's loss is its expectation (hazard x gains) instead of a draw: the same expected
    #: payoffs and equilibria, without the variance of the draw (the outcome is still drawn and reported)
    expected_rewards: bool = False
    # -- voluntary commitments with sanctions, Han et al. (2022) (off by default; see the docstring) --
    commitments: bool = False  # a commitment stage opens every episode; the action gains a commit part
    commitment_cost: float = 1.0  # epsilon: paid every round by each member of a formed agreement
    sanction: float = 20.0  # delta: fine paid by a member caught playing UNSAFE, per round caught
    detection_probability: float = 1.0  # q: probability that a member's UNSAFE round is caught
    compensation_share: float = 1.0  # kappa: share of the fine paid to the complying members
    sanction_speed: float = 0.0  # gamma: development steps a caught member loses that round

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
        set_("switching", check_bool("switching", self.switching))
        set_("expected_rewards", check_bool("expected_rewards", self.expected_rewards))
        set_("commitments", check_bool("commitments", self.commitments))
        set_("commitment_cost", check_float("commitment_cost", self.commitment_cost, 0.0, 1e6))
        set_("sanction", check_float("sanction", self.sanction, 0.0, 1e6))
        set_("detection_probability", check_float("detection_probability", self.detection_probability, 0.0, 1.0))
        set_("compensation_share", check_float("compensation_share", self.compensation_share, 0.0, 1.0))
        set_("sanction_speed", check_float("sanction_speed", self.sanction_speed, 0.0, 100.0))

    @property
    def base_observation_size(self) -> int:
        """Size of the observation without the commitment slots: ``4 + 2 (N - 1)``."""
        return NUM_OWN_SLOTS + 2 * (self.num_labs - 1)

    @property
    def observation_size(self) -> int:
        if not self.commitments:
            return self.base_observation_size
        others = self.num_labs - 1
        return self.base_observation_size + len(COMMITMENT_OWN_SLOTS) + len(COMMITMENT_OTHER_SLOTS) * others


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
        Scenario(
            "commitments",
            "baseline (dilemma zone, p_r = 0.6) with voluntary commitments (Han et al. 2022): epsilon = 1 per round, "
            "a caught breach is fined delta = 20 per round, paid to the complying member; every breach is caught",
            dataclasses.replace(_EARLY, commitments=True),
            ("early", "governance", "commitments", "H4"),
            "VS",
        ),
        Scenario(
            "commitments_low_risk",
            "early_agi (p_r = 0.2: all-UNSAFE collectively preferred) with the same commitments: "
            "committing does not pay, so commitments do not over-regulate",
            dataclasses.replace(_EARLY, p_r=0.2, commitments=True),
            ("early", "governance", "commitments"),
            "VS",
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
    step: np.ndarray  # (B,) int64 development rounds played (the commitment stage is not a round)
    unsafe_rounds: np.ndarray  # (B, N) rounds played UNSAFE
    last_action: np.ndarray  # (B, N) int64, 0 before the first round
    gains: np.ndarray  # (B, N) benefits and prize gained (what a disaster takes)
    outcome: np.ndarray  # (B,) int8
    winner: np.ndarray  # (B,) int64
    disaster: np.ndarray  # (B, N) bool: hit at the end
    prize: np.ndarray  # (B, N) prize share received
    # -- commitments (constant while ``commitments`` is off) --
    stage: np.ndarray  # (B,) bool: the next step is the commitment stage
    member: np.ndarray  # (B, N) bool: member of the game's agreement
    sanctioned: np.ndarray  # (B, N) bool: caught breaking the agreement this step
    sanction_paid: np.ndarray  # (B, N) fine paid this step
    compensation: np.ndarray  # (B, N) compensation received this step


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
        stage=np.full(B, config.commitments, dtype=bool),
        member=np.zeros((B, N), dtype=bool),
        sanctioned=np.zeros((B, N), dtype=bool),
        sanction_paid=np.zeros((B, N)),
        compensation=np.zeros((B, N)),
    )


def decode_actions(config: DsairConfig, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Validated actions → (plays (B, N): 0 SAFE / 1 UNSAFE, commits (B, N) bool or None).

    With ``commitments`` the actions are (B, N, 2) = (play, commit); otherwise (B, N) plays and
    ``commits`` is None.
    """
    actions = np.asarray(actions)
    if not config.commitments:
        return actions, None
    return actions[..., 0], actions[..., 1] == 1


def to_action(config: DsairConfig, unsafe: Any, commit: Any = False) -> Any:
    """The action of a lab that plays ``unsafe`` (bool or 0/1) and, with ``commitments``, commits.

    Without ``commitments``: the int ``0`` (SAFE) or ``1`` (UNSAFE), ``commit`` is ignored; with
    it: the int64 array ``[play, commit]``. Arrays of plays give batches of actions.
    """
    play = np.asarray(unsafe).astype(np.int64)
    if not config.commitments:
        return int(play) if play.ndim == 0 else play
    return np.stack(np.broadcast_arrays(play, np.asarray(commit).astype(np.int64)), axis=-1)


def _restart_finished(state: DsairState) -> None:
    if state.outcome.any():  # a finished game stepped again restarts its bookkeeping of the end
        state.outcome.fill(ONGOING)
        state.winner.fill(-1)
        state.disaster.fill(False)
        state.prize.fill(0.0)


def step_batch(config: DsairConfig, state: DsairState, actions: np.ndarray, rng: np.random.Generator) -> StepResult:
    """One development round of every game (in place); with ``commitments``, a game's first step
    is its commitment stage instead (see the module docstring)."""
    plays, commits = decode_actions(config, actions)
    _restart_finished(state)
    if not config.switching:  # a lab's first development round decides its play for the race
        plays = np.where(state.step[:, None] > 0, state.last_action, plays)
    unsafe = plays == UNSAFE_ACTION  # (B, N)
    speed = np.where(unsafe, config.s, 1.0)
    if config.commitments:
        stage = state.stage.copy()  # (B,) games whose step is the commitment stage
        playing = ~stage[:, None]  # (B, 1) games that play a development round
        if stage.any():  # an agreement forms among the committers when at least two commit
            committed = commits & stage[:, None]
            formed = committed.sum(axis=1, keepdims=True) >= 2
            np.copyto(state.member, committed & formed, where=stage[:, None])
            state.stage[stage] = False
        unsafe &= playing
        safe = ~unsafe & playing
        caught = _caught_breaches(config, unsafe & state.member, rng)
        speed *= playing
        if config.sanction_speed > 0.0:
            speed = np.where(caught, np.maximum(speed - config.sanction_speed, 0.0), speed)
        state.step += playing[:, 0]
        np.copyto(state.last_action, plays, where=playing)
    else:
        safe = ~unsafe
        state.step += 1
        state.last_action[...] = plays
    state.progress += speed
    state.unsafe_rounds += unsafe
    total = speed.sum(axis=1, keepdims=True)  # 0 only in the commitment stage
    benefit = config.b * speed / np.where(total > 0.0, total, 1.0)
    rewards = benefit - config.c * safe
    state.gains += benefit
    if config.commitments:
        fines = config.sanction * caught
        complying = safe & state.member
        pool = config.compensation_share * fines.sum(axis=1, keepdims=True)
        compensation = np.where(complying, pool / np.maximum(complying.sum(axis=1, keepdims=True), 1), 0.0)
        rewards -= config.commitment_cost * (state.member & playing)
        rewards -= fines
        rewards += compensation
        state.sanctioned[...] = caught
        state.sanction_paid[...] = fines
        state.compensation[...] = compensation
    result = _end_of_round(config, state, rewards, rng, np.maximum(state.step, 1))
    if config.commitments:
        result.info.update(
            member=state.member, sanctioned=state.sanctioned, sanction=state.sanction_paid, compensation=state.compensation
        )
    return result


def _caught_breaches(config: DsairConfig, breach: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(B, N) members' UNSAFE rounds caught, each with ``detection_probability`` (no draw at 0 or 1)."""
    q = config.detection_probability
    if q >= 1.0:
        return breach
    if q <= 0.0:
        return np.zeros_like(breach)
    return breach & (rng.random(breach.shape) < q)


def _end_of_round(
    config: DsairConfig, state: DsairState, rewards: np.ndarray, rng: np.random.Generator, rounds: np.ndarray
) -> StepResult:
    """Prize, time-out and disaster at the end of a round (``rounds``: the UNSAFE-share denominator)."""
    B = rewards.shape[0]
    reached = state.progress >= config.W * (1.0 - 1e-12)  # (B, N)
    prize_reached = reached.any(axis=1)
    timeout = (state.step >= config.max_rounds) & ~prize_reached
    ended = prize_reached | timeout
    prize = np.where(reached, config.B / np.maximum(reached.sum(axis=1, keepdims=True), 1), 0.0)
    rewards += prize
    state.gains += prize
    hazard = config.p_r * state.unsafe_rounds / rounds[:, None]
    hit = (rng.random(rewards.shape) < hazard) & ended[:, None]
    if config.expected_rewards:  # E[loss] = hazard x gains, whatever the draw
        rewards -= np.where(ended[:, None], hazard * state.gains, 0.0)
    else:
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
    base = config.base_observation_size
    obs[..., 0] = progress
    obs[..., 1] = (np.minimum(state.step, config.max_rounds) / config.max_rounds)[:, None]
    obs[..., 2] = state.unsafe_rounds / np.maximum(state.step, 1)[:, None]
    obs[..., 3] = config.p_r
    obs[..., NUM_OWN_SLOTS:base:2] = progress[:, others]
    obs[..., NUM_OWN_SLOTS + 1 : base : 2] = state.last_action[:, others]
    if config.commitments:
        obs[..., base] = state.stage[:, None]
        obs[..., base + 1] = state.member
        obs[..., base + 2] = state.sanctioned
        obs[..., base + 3 :: 2] = state.member[:, others]
        obs[..., base + 4 :: 2] = state.sanctioned[:, others]
    return obs


def observation_slots(num_labs: int, config: DsairConfig | None = None) -> list[str]:
    """Names of the observation slots (with ``config.commitments``, the commitment slots follow)."""
    names = ["progress", "time", "unsafe_share", "p_r"]
    for k in range(1, num_labs):
        names += [f"other_{k}_progress", f"other_{k}_last_unsafe"]
    if config is not None and config.commitments:
        names += list(COMMITMENT_OWN_SLOTS)
        for k in range(1, num_labs):
            names += [f"other_{k}_{slot}" for slot in COMMITMENT_OTHER_SLOTS]
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
# Closed forms of the commitment model (Han et al. 2022)
# --------------------------------------------------------------------------------------------


def _strategy_indices(strategies: Sequence[Any]) -> np.ndarray:
    out = []
    for strategy in strategies:
        if isinstance(strategy, str):
            if strategy not in STRATEGIES:
                raise ValueError(f"strategies must be names in {list(STRATEGIES)} or indices 0-3; got {strategy!r}")
            out.append(STRATEGIES.index(strategy))
        elif isinstance(strategy, (int, np.integer)) and 0 <= strategy < len(STRATEGIES):
            out.append(int(strategy))
        else:
            raise ValueError(f"strategies must be names in {list(STRATEGIES)} or indices 0-3; got {strategy!r}")
    return np.asarray(out, dtype=np.int64)


def strategy_profile(strategies: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """``(member, unsafe)`` (bool arrays, one entry per lab) of labs playing the named strategies.

    VS and VU commit; an agreement forms when at least two labs commit. AU and VU always play
    UNSAFE, AS always SAFE, VS SAFE inside an agreement and UNSAFE when none formed.
    """
    index = _strategy_indices(strategies)
    commit = (index == VS) | (index == VU)
    member = commit & (commit.sum() >= 2)
    unsafe = (index == AU) | (index == VU) | ((index == VS) & ~member)
    return member, unsafe


def _check_exact_sanction_speed(detection_probability: float, sanction_speed: float) -> None:
    if sanction_speed > 0.0 and 0.0 < detection_probability < 1.0:
        raise ValueError(
            "the commitment closed forms are exact only when sanction_speed = 0 or detection_probability is 0 or 1 "
            f"(a speed sanction caught at random makes the race length random); got sanction_speed={sanction_speed}, "
            f"detection_probability={detection_probability}"
        )


def _pair_per_round(B: float, W: float, b: float, c: float, p_r: float, v_row: float, v_col: float, unsafe_row: bool) -> float:
    """The paper's idealised per-round payoff of the row lab at constant speeds (race of W / max speed
    rounds; the faster lab takes B, equal speeds share it)."""
    top = max(v_row, v_col)
    share = 0.0 if top <= 0.0 else (1.0 if v_row > v_col else 0.5 if v_row == v_col else 0.0)
    prize = share * B * top / W
    benefit = b * v_row / (v_row + v_col) if v_row + v_col > 0.0 else 0.0
    gains = prize + benefit
    return (1.0 - p_r) * gains if unsafe_row else gains - c


def commitment_payoff_matrix(
    B: float,
    W: float,
    s: float,
    b: float,
    c: float,
    p_r: float,
    commitment_cost: float,
    sanction: float,
    detection_probability: float = 1.0,
    compensation_share: float = 1.0,
    sanction_speed: float = 0.0,
) -> np.ndarray:
    """The 4x4 per-round payoff matrix of the row lab over ``STRATEGIES`` = (AS, AU, VS, VU).

    Built like the paper's 2x2 matrix (:func:`payoff_matrix`: a race of ``W / speed`` rounds): with
    ``Pi = payoff_matrix(...)``, ``e`` = ``commitment_cost``, ``qd`` = ``detection_probability *
    sanction`` and ``k`` = ``compensation_share`` (and ``sanction_speed = 0``)::

                AS        AU        VS              VU
        AS   [ Pi_SS     Pi_SU     Pi_SU           Pi_SU                ]
        AU   [ Pi_US     Pi_UU     Pi_UU           Pi_UU                ]
        VS   [ Pi_US     Pi_UU     Pi_SS - e       Pi_SU - e + k qd     ]
        VU   [ Pi_US     Pi_UU     Pi_US - e - qd  Pi_UU - e - qd       ]

    (VS plays UNSAFE against a lab that does not commit.) With ``sanction_speed`` gamma > 0 (and
    every breach caught) a breaching VU develops at ``max(s - gamma, 0)`` instead of ``s``, which
    changes who wins its race against VS and the share of the benefit.
    """
    _check_exact_sanction_speed(detection_probability, sanction_speed)
    caught_fine = detection_probability * sanction
    slowed = max(s - sanction_speed, 0.0) if detection_probability > 0.0 else s
    out = np.empty((4, 4))
    for row in range(4):
        for col in range(4):
            member, unsafe = strategy_profile([row, col])
            breach = member & unsafe
            speed = np.where(unsafe, s, 1.0)
            speed = np.where(breach, slowed, speed)
            value = _pair_per_round(B, W, b, c, p_r, float(speed[0]), float(speed[1]), bool(unsafe[0]))
            value -= commitment_cost * member[0] + caught_fine * breach[0]
            if member[0] and not unsafe[0]:
                value += compensation_share * caught_fine * breach[1]
            out[row, col] = value
    return out


def commitment_race_returns(config: DsairConfig, strategies: Sequence[Any]) -> tuple[np.ndarray, int]:
    """Exact expected total return of every lab playing the named ``strategies`` (one per lab, in
    ``STRATEGIES``) in the environment (discrete rounds, as :func:`race_returns`); and the rounds
    (the commitment stage is not a round)."""
    if len(strategies) != config.num_labs:
        raise ValueError(f"strategies must list one strategy per lab ({config.num_labs}); got {len(strategies)}")
    q, gamma = config.detection_probability, config.sanction_speed
    _check_exact_sanction_speed(q, gamma)
    member, unsafe = strategy_profile(strategies)
    breach = member & unsafe
    speed = np.where(unsafe, config.s, 1.0)
    if gamma > 0.0 and q > 0.0:
        speed = np.where(breach, np.maximum(speed - gamma, 0.0), speed)
    top = float(speed.max())
    rounds = config.max_rounds if top <= 0.0 else min(config.max_rounds, int(np.ceil(config.W * (1.0 - 1e-12) / top)))
    reached = speed * rounds >= config.W * (1.0 - 1e-12)
    prize = np.where(reached, config.B / max(int(reached.sum()), 1), 0.0)
    total = float(speed.sum())
    benefit = config.b * speed / total if total > 0.0 else np.zeros_like(speed)
    gains = rounds * benefit + prize
    fines = rounds * q * config.sanction * breach
    complying = member & ~unsafe
    pool = config.compensation_share * float(fines.sum())
    compensation = np.where(complying, pool / max(int(complying.sum()), 1), 0.0)
    costs = rounds * (config.c * ~unsafe + config.commitment_cost * member)
    return (1.0 - config.p_r * unsafe) * gains - costs - fines + compensation, rounds


def commitment_expected_matrix(config: DsairConfig) -> np.ndarray:
    """The environment's own 4x4 per-round matrix over ``STRATEGIES`` for two labs (exact; equals
    :func:`commitment_payoff_matrix` when the races' lengths ``W / speed`` are whole and fit within
    ``max_rounds``)."""
    two = dataclasses.replace(config, num_labs=2)
    out = np.empty((4, 4))
    for row in range(4):
        for col in range(4):
            returns, rounds = commitment_race_returns(two, [row, col])
            out[row, col] = returns[0] / rounds
    return out


def breach_deterrence_sanction(B: float, W: float, s: float, b: float, c: float, p_r: float, detection_probability: float = 1.0) -> float:
    """The fine ``delta`` per round above which breaking an agreement does not pay against a member
    who keeps it: ``(Pi_US - Pi_SS) / q`` (VS is then a best reply to VS; ``sanction_speed = 0``).

    Negative when SAFE already pays more than exploiting a SAFE lab; ``inf`` when ``q = 0``.
    """
    matrix = payoff_matrix(B, W, s, b, c, p_r)
    gap = float(matrix[1, 0] - matrix[0, 0])
    return gap / detection_probability if detection_probability > 0.0 else (np.inf if gap > 0 else -np.inf)


def commitment_sanction_threshold(
    B: float, W: float, s: float, b: float, c: float, p_r: float, detection_probability: float = 1.0, compensation_share: float = 1.0
) -> float:
    """The fine ``delta`` above which VS risk-dominates the fake committer VU:
    ``q delta (2 + k) > (Pi_US + Pi_UU) - (Pi_SS + Pi_SU)`` (``sanction_speed = 0``).

    The right side is the 2020 model's risk-dominance gap (positive exactly when UNSAFE
    risk-dominates SAFE); ``inf`` when ``q = 0`` and the gap is positive.
    """
    matrix = payoff_matrix(B, W, s, b, c, p_r)
    gap = float(matrix[1].sum() - matrix[0].sum())
    weight = detection_probability * (2.0 + compensation_share)
    return gap / weight if weight > 0.0 else (np.inf if gap > 0 else -np.inf)


def commitment_risk_threshold(B: float, W: float, s: float, b: float, c: float, commitment_cost: float) -> float:
    """``p_r`` above which VS risk-dominates AU (``Pi_SS - epsilon > Pi_UU``): committing pays more
    than staying out and racing. With ``epsilon = 0`` it is :func:`collective_threshold`: commitments
    win exactly where all-SAFE is collectively preferred, so they do not over-regulate where
    UNSAFE development is socially preferable (the paper's "escape from over-regulation")."""
    safe = payoff_matrix(B, W, s, b, c, 0.0)
    return float(1.0 - (safe[0, 0] - commitment_cost) / safe[1, 1])


def risk_dominates(matrix: np.ndarray, i: int, j: int) -> bool:
    """Whether strategy ``i`` risk-dominates ``j`` in ``matrix`` (``M_ii + M_ij > M_ji + M_jj``)."""
    m = np.asarray(matrix, dtype=np.float64)
    return bool(m[i, i] + m[i, j] > m[j, i] + m[j, j])


def stationary_distribution(matrix: np.ndarray, Z: int, beta: float) -> np.ndarray:
    """Long-run share of each monomorphic state in a population of ``Z`` (pairwise comparison with
    selection ``beta``, vanishing mutation; the analysis of Han et al.).

    ``rho[i, j]`` is the fixation probability of a single ``j`` mutant among ``i``s; the embedded
    chain moves from ``i`` to ``j`` with ``rho[i, j] / (S - 1)``. For two strategies the ratio of the
    two shares is :func:`fixation_ratio`.
    """
    m = np.asarray(matrix, dtype=np.float64)
    size = m.shape[0]
    if m.shape != (size, size) or size < 2:
        raise ValueError(f"matrix must be square with at least 2 strategies; got shape {m.shape}")
    if not isinstance(Z, (int, np.integer)) or Z < 2:
        raise ValueError(f"Z must be an integer >= 2; got {Z!r}")
    k = np.arange(1, Z)  # number of mutants
    transitions = np.zeros((size, size))
    for i in range(size):  # resident
        for j in range(size):  # mutant
            if i != j:
                mutant = ((k - 1) * m[j, j] + (Z - k) * m[j, i]) / (Z - 1)
                resident = (k * m[i, j] + (Z - k - 1) * m[i, i]) / (Z - 1)
                exponents = np.concatenate([[0.0], np.cumsum(-beta * (mutant - resident))])
                top = exponents.max()  # rho = 1 / sum(exp(exponents)), computed without overflow
                transitions[i, j] = np.exp(-top - np.log(np.exp(exponents - top).sum())) / (size - 1)
    # Grassmann-Taksar-Heyman state reduction: exact to rounding even with tiny transition rates
    # (strong selection), where an eigenvector solver cannot tell nearly absorbing states apart
    p = transitions.copy()
    for n in range(size - 1, 0, -1):
        out = max(p[n, :n].sum(), np.finfo(float).tiny)
        p[:n, n] /= out
        p[:n, :n] += np.outer(p[:n, n], p[n, :n])
    share = np.ones(size)
    for n in range(1, size):
        share[n] = share[:n] @ p[:n, n]
    return share / share.sum()


# --------------------------------------------------------------------------------------------
# Scripted commitment strategies (any number of labs)
# --------------------------------------------------------------------------------------------


class CommitmentStrategy:
    """A lab playing one of ``STRATEGIES`` in a game with ``commitments`` (a policy: observation
    batch (M, obs_dim) → action batch (M, 2)); a background policy for ``gym_env``."""

    def __init__(self, config: DsairConfig, strategy: str) -> None:
        if not config.commitments:
            raise ValueError("CommitmentStrategy needs a config with commitments=True")
        self.strategy = STRATEGIES[int(_strategy_indices([strategy])[0])]
        self.name = self.strategy
        self._member_slot = config.base_observation_size + 1

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        obs = np.asarray(observations)
        count = len(obs)
        commit = np.full(count, self.strategy in ("VS", "VU"), dtype=np.int64)
        if self.strategy == "VS":
            play = (obs[:, self._member_slot] < 0.5).astype(np.int64)  # SAFE inside an agreement
        else:
            play = np.full(count, int(self.strategy in ("AU", "VU")), dtype=np.int64)
        return np.column_stack([play, commit])

    def __call__(self, observations: np.ndarray) -> np.ndarray:
        return self.act(observations)

    def __repr__(self) -> str:
        return f"CommitmentStrategy({self.strategy!r})"


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
    episode_length_field = "max_rounds"  # PettingZoo's max_cycles sets it

    def __init__(self, config: DsairConfig, background: Any = "risk_dominant") -> None:
        if not isinstance(config, DsairConfig):
            raise TypeError(f"config must be a DsairConfig; got {type(config).__name__}")
        self.config = config
        self.num_agents = config.num_labs
        self.observation_space = spaces.Box(0.0, 1.0, (config.observation_size,), dtype=np.float32)
        self.observation_slots = observation_slots(config.num_labs, config)
        if config.commitments:
            # background labs then need (play, commit) actions: ``labrace.agents.baselines`` plays a
            # name of STRATEGIES as that strategy and any other dsair_v0 baseline without committing
            self.action_space = spaces.MultiDiscrete([2, 2])
        else:
            self.action_space = spaces.Discrete(2)
        self.background = background

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
        if not self.config.commitments:  # the commitment keys, constant while commitments are off
            lever = {"member": 0, "sanctioned": 0, "sanction": 0.0, "compensation": 0.0, "commitment_cost": 0.0}
            return [
                {"progress": float(d), "unsafe_share": float(u) / max(steps, 1), "disaster": int(x), "prize": float(p), **common, **lever}
                for d, u, x, p in zip(
                    state.progress[game].tolist(), state.unsafe_rounds[game].tolist(), state.disaster[game].tolist(), state.prize[game].tolist()
                )
            ]
        cost = self.config.commitment_cost if steps > 0 else 0.0  # paid in development rounds only
        return [
            {
                "progress": float(d),
                "unsafe_share": float(u) / max(steps, 1),
                "disaster": int(x),
                "prize": float(p),
                **common,
                "member": int(m),
                "sanctioned": int(caught),
                "sanction": float(fine),
                "compensation": float(comp),
                "commitment_cost": cost * m,
            }
            for d, u, x, p, m, caught, fine, comp in zip(
                state.progress[game].tolist(),
                state.unsafe_rounds[game].tolist(),
                state.disaster[game].tolist(),
                state.prize[game].tolist(),
                state.member[game].tolist(),
                state.sanctioned[game].tolist(),
                state.sanction_paid[game].tolist(),
                state.compensation[game].tolist(),
            )
        ]

    def render_ansi(self, state: DsairState, game: int) -> str:
        c = self.config
        lines = [
            f"dsair_v0  round {int(state.step[game])}/{c.max_rounds}  W={c.W} s={c.s:g} p_r={c.p_r:g} B={c.B:g} b={c.b:g} c={c.c:g}",
        ]
        if c.commitments:
            stage = "  (commitment stage next)" if state.stage[game] else ""
            lines.append(
                f"commitments: epsilon={c.commitment_cost:g} delta={c.sanction:g} q={c.detection_probability:g} "
                f"kappa={c.compensation_share:g} gamma={c.sanction_speed:g}{stage}"
            )
        lines.append(f"{'lab':<7}{'progress':>10}{'last':>8}{'unsafe%':>9}" + (f"{'member':>8}{'fined':>7}" if c.commitments else ""))
        steps = max(int(state.step[game]), 1)
        for i in range(self.num_agents):
            last = ACTION_NAMES[int(state.last_action[game, i])] if state.step[game] else "-"
            row = f"{'lab_' + str(i):<7}{state.progress[game, i]:>10.1f}{last:>8}{100 * state.unsafe_rounds[game, i] / steps:>8.0f}%"
            if c.commitments:
                row += f"{'yes' if state.member[game, i] else 'no':>8}{state.sanction_paid[game, i]:>7g}"
            lines.append(row)
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
        columns = [
            np.minimum(state.progress[game] / self.config.W, 1.0),
            1.0 - state.unsafe_rounds[game] / steps,
            state.last_action[game].astype(np.float64),
        ]  # (N, 3): progress, SAFE share, last action UNSAFE [, member, sanctioned this step]
        if self.config.commitments:
            columns += [state.member[game].astype(np.float64), state.sanctioned[game].astype(np.float64)]
        return bar_chart(np.column_stack(columns), [float(state.step[game]) / self.config.max_rounds])


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


make_config, make_game, parallel_env, env, gym_env = adapters.entry_points(DsairGame, __name__)
