"""Scripted baseline policies, one registry per environment.

``race_v0`` baselines (each works with the continuous and the discrete action type):

=======================  ===========================================================================
name                     behaviour
=======================  ===========================================================================
race                     all effort on speed
safe                     all effort on safety
balanced                 equal thirds
cooperate                all effort on cooperation
conditional_cooperator   cooperates on the first step and while the other labs' mean last
                         cooperation share is at least 0.5; otherwise races with some safety
                         (0.7 speed, 0.3 safety): reciprocity, as tit-for-tat
random                   a uniformly random allocation (Dirichlet(1, 1, 1)) every step (commits
                         and declarations, where those levers are on, uniformly at random too)
commit_and_keep          commits, and keeps its safety share at max(commitment_floor, 0.6):
                         (1 - s, s, 0), i.e. (0.4, 0.6, 0.0) at the default floor (discrete: the
                         nearest menu item whose safety share meets the floor)
commit_and_break         commits, then races (1, 0, 0)
declare_cooperation      always declares "cooperate"; plays balanced (1/3, 1/3, 1/3)
truthful_declarer        plays the conditional cooperator's allocation and declares what it plays:
                         "cooperate" when it cooperates, "race" otherwise
=======================  ===========================================================================

Governance levers: commits and declarations are part of the action only where ``commitments`` /
``cheap_talk`` are on; elsewhere these policies simply play their allocation. Baselines that do
not mention a commitment never commit, and declare what they play (``allocation_to_action``).

Canonical models:

* ``precipice_v0``: ``equilibrium`` (the Nash equilibrium safety of the config's information
  regime, from the observation), ``always_safe`` (s = 1), ``reckless`` (s = 0).
* ``dsair_v0``: ``always_safe``, ``always_unsafe``, ``risk_dominant`` (the risk-dominant strategy
  of the env's two-lab payoff matrix, every round), ``reciprocator`` (SAFE first and while no other
  lab played UNSAFE last round). With ``commitments`` (Han et al. 2022) also the strategies ``AS``,
  ``AU``, ``VS`` (commits, SAFE inside an agreement) and ``VU`` (a fake committer); the other dsair
  baselines then never commit (:class:`NeverCommits`).
* ``commons_v0``: ``fair_share`` (the menu level nearest one fair share per round), ``free_rider``
  (the smallest level), ``altruist`` (the largest), ``equilibrium`` (the menu level of the best
  symmetric Nash equilibrium in which every lab gives that level every round, commons_v0 C4: fair
  share on Milinski's menu where r >= M / (N E), else free ride; on Santos & Pacheco's menu (0, 2),
  where everyone cooperating overshoots the threshold, free ride). A symmetric policy cannot play
  the asymmetric equilibria (exactly enough contributors); where no symmetric profile of one level
  is an equilibrium (e.g. santos_pacheco with 2 labs) it free rides.
"""

from __future__ import annotations

import dataclasses

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from labrace.agents.policy import CallablePolicy, Policy, as_policy
from labrace.envs.dsair_v0 import STRATEGIES as DSAIR_STRATEGIES


class FixedAllocation(Policy):
    """Plays the same (speed, safety, cooperation) allocation every step."""

    def __init__(
        self, game: Any, allocation: Sequence[float], name: str, commit: bool = False, declare: int | str | None = None
    ) -> None:
        from labrace.envs.race_v0 import allocation_to_action

        self.name = name
        self.allocation = tuple(float(a) for a in allocation)
        self.commit, self.declare = commit, declare
        self._action = allocation_to_action(game.config, self.allocation, commit=commit, declare=declare)

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.repeat(self._action[None], len(observations), axis=0)

    def description(self) -> dict[str, Any]:
        """The allocation itself (a fixed allocation is no named baseline), for ``load_policy``."""
        return {"kind": "fixed_allocation", "name": self.name, "allocation": list(self.allocation), "commit": self.commit, "declare": self.declare}


class Opportunist(Policy):
    """race_v0 with ``pivotal_act``: plays a fixed allocation and attempts the pivotal act once its
    capability leads every other lab's (as it observes them) by at least ``lead`` (a candidate best
    response, not a baseline). The act succeeds with probability ``rho_i * clip(lead_i /
    pivotal_lead_scale, 0, 1)``, so waiting for a lead of ``pivotal_lead_scale`` maximises the
    chance; attempting every step (a fixed allocation with the act) risks the act's failure early."""

    def __init__(self, game: Any, allocation: Sequence[float], lead: float, name: str | None = None) -> None:
        from labrace.envs.race_v0 import allocation_to_action

        config = game.config
        if not config.pivotal_act:
            raise ValueError("an Opportunist needs a race_v0 config with pivotal_act=True")
        if not 0.0 <= float(lead) <= 2.0:
            raise ValueError(f"lead must be a capability lead in [0, 2]; got {lead!r}")
        self.allocation, self.lead = tuple(float(a) for a in allocation), float(lead)
        self.name = name or "opportunist ({:.2f}, {:.2f}, {:.2f}) lead {:.2f}".format(*self.allocation, self.lead)
        slots = game.observation_slots
        self._own = slots.index("capability")
        self._others = [slots.index(f"other_{k}_capability") for k in range(1, game.num_agents)]
        self._play = allocation_to_action(config, self.allocation)
        self._attempt = allocation_to_action(config, self.allocation, attempt=True)

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        observations = np.asarray(observations)
        lead = observations[:, self._own] - observations[:, self._others].max(axis=1)  # (B,)
        attempt = lead >= self.lead
        return np.where(attempt.reshape((-1,) + (1,) * self._play.ndim), self._attempt, self._play)

    def description(self) -> dict[str, Any]:
        """The allocation and the lead, for ``load_policy``."""
        return {"kind": "opportunist", "name": self.name, "allocation": list(self.allocation), "lead": self.lead}


class ConditionalCooperator(Policy):
    """Reciprocates the other labs' observed cooperation (see the module table)."""

    def __init__(
        self, game: Any, threshold: float = 0.5, name: str = "conditional_cooperator", truthful: bool = False
    ) -> None:
        from labrace.envs.race_v0 import allocation_to_action

        self.name = name
        self.threshold = threshold
        slots = game.observation_slots
        self._time = slots.index("time")
        self._cooperation = [i for i, s in enumerate(slots) if s.startswith("other_") and s.endswith("_cooperation")]
        declare = ("cooperate", "race") if truthful else (None, None)  # None: what the allocation does
        self._cooperate = allocation_to_action(game.config, (0.0, 0.0, 1.0), declare=declare[0])
        self._defect = allocation_to_action(game.config, (0.7, 0.3, 0.0), declare=declare[1])

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        observations = np.asarray(observations)
        others = observations[:, self._cooperation].mean(axis=1)
        cooperate = (observations[:, self._time] == 0.0) | (others >= self.threshold)
        return np.where(cooperate.reshape((-1,) + (1,) * self._cooperate.ndim), self._cooperate, self._defect)


class RandomAllocation(Policy):
    """A uniformly random allocation on the simplex every step (never attempts a pivotal act)."""

    def __init__(self, game: Any, name: str = "random") -> None:
        from labrace.envs.race_v0 import MENU

        self.name = name
        self.config = game.config
        self._menu_size = len(MENU)

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        rng = rng if rng is not None else np.random.default_rng()
        count = len(observations)
        c = self.config
        if c.action_type == "discrete":
            items = rng.integers(0, self._menu_size, size=count)
            if not (c.commitments or c.cheap_talk):
                return items
            extras = [rng.integers(0, 2, size=count)] * c.commitments + [rng.integers(0, 3, size=count)] * c.cheap_talk
            return np.column_stack([items] + extras)
        allocation = rng.dirichlet(np.ones(3), size=count)
        if c.pivotal_act:
            allocation = np.column_stack([allocation, np.zeros(count)])
        if c.commitments or c.cheap_talk:  # a random commit bit and random intention scores
            allocation = np.column_stack([allocation, rng.random((count, c.commitments + 3 * c.cheap_talk))])
        return allocation.astype(np.float32)


class CommitAndKeep(Policy):
    """Commits and keeps its safety share at max(commitment_floor, 0.6) (see the module table)."""

    def __init__(self, game: Any, name: str = "commit_and_keep") -> None:
        from labrace.envs.race_v0 import MENU, allocation_to_action

        self.name = name
        config = game.config
        floor = config.commitment_floor
        safety = max(floor, 0.6)
        allocation = (1.0 - safety, safety, 0.0)
        if config.action_type == "discrete":  # the nearest menu item that keeps the promise
            table = np.array([a for _, a in MENU])
            distance = np.abs(table - np.array(allocation)).sum(axis=1)
            distance[table[:, 1] < floor] = np.inf
            allocation = tuple(table[int(np.argmin(distance))])
        self.allocation = allocation
        self._action = allocation_to_action(config, allocation, commit=True)

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.repeat(self._action[None], len(observations), axis=0)


# --------------------------------------------------------------------------------------------
# Canonical models: precipice_v0, dsair_v0, commons_v0
# --------------------------------------------------------------------------------------------


class ConstantAction(Policy):
    """Plays the same action every step (any env)."""

    def __init__(self, action: Any, name: str) -> None:
        self.name = name
        self._action = np.asarray(action)

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.repeat(self._action[None], len(observations), axis=0)


class PrecipiceEquilibrium(Policy):
    """precipice_v0: the equilibrium safety of the config's information regime (P1–P3)."""

    def __init__(self, game: Any, name: str = "equilibrium") -> None:
        self.name = name
        self.config = game.config

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        from labrace.envs import precipice_v0 as m  # imported here, not held: a policy must pickle

        obs = np.asarray(observations, dtype=np.float64)
        c = self.config
        if c.information == "none":
            safety = np.full(len(obs), m.no_information_safety(c.num_labs, c.enmity, c.capability_range))
        elif c.information == "private":
            safety = m.private_information_safety(obs[:, 0], c.num_labs, c.enmity)
        else:  # own capability first, then the others': the equilibrium of every team, keep our own
            capabilities = np.column_stack([obs[:, 0], obs[:, m.NUM_OWN_SLOTS :]])
            safety = m.public_information_safety(capabilities, c.enmity)[:, 0]
        return safety[:, None].astype(np.float32)


class DsairRiskDominant(Policy):
    """dsair_v0: always plays the risk-dominant strategy of the env's own two-lab payoff matrix."""

    def __init__(self, game: Any, name: str = "risk_dominant") -> None:
        from labrace.envs.dsair_v0 import SAFE_ACTION, UNSAFE_ACTION, expected_matrix

        self.name = name
        matrix = expected_matrix(game.config)
        safe = matrix[0, 0] + matrix[0, 1] >= matrix[1, 0] + matrix[1, 1]
        self._action = SAFE_ACTION if safe else UNSAFE_ACTION

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        return np.full(len(observations), self._action, dtype=np.int64)


class DsairReciprocator(Policy):
    """dsair_v0: SAFE in the first round and while no other lab played UNSAFE last round."""

    def __init__(self, game: Any, name: str = "reciprocator") -> None:
        from labrace.envs.dsair_v0 import NUM_OWN_SLOTS

        self.name = name
        self._others = slice(NUM_OWN_SLOTS + 1, None, 2)

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        obs = np.asarray(observations)
        return (obs[:, self._others].max(axis=1) > 0.5).astype(np.int64)


class DsairSprint(Policy):
    """dsair_v0: UNSAFE in the first ``rounds`` development rounds, SAFE after (a candidate best
    response, not a baseline). Where labs choose every round (``switching``), a short sprint wins the
    race outright against SAFE rivals at a small risk: two rounds suffice at W = 100, s = 1.5."""

    def __init__(self, game: Any, rounds: int) -> None:
        self.name = f"sprint {rounds}"
        self.rounds = int(rounds)
        self.max_rounds = game.config.max_rounds

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        played = np.rint(np.asarray(observations, dtype=np.float64)[:, 1] * self.max_rounds)  # slot 1: t / max_rounds
        return (played < self.rounds).astype(np.int64)


def _dsair_strategy(strategy: str) -> Callable[[Any], Policy]:
    def factory(game: Any) -> Policy:
        from labrace.envs.dsair_v0 import CommitmentStrategy

        return CallablePolicy(CommitmentStrategy(game.config, strategy), name=strategy)  # needs commitments=True

    return factory


class NeverCommits(Policy):
    """A dsair_v0 baseline in a game with ``commitments``: it sees the observation without the
    commitment slots, never commits, and plays as it would in the game without commitments."""

    def __init__(self, plain: Policy, game: Any) -> None:
        self.name = plain.name
        self._plain = plain
        self._size = game.config.base_observation_size

    def act(self, observations: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        plays = np.asarray(self._plain.act(np.asarray(observations)[:, : self._size], rng=rng), dtype=np.int64)
        return np.column_stack([plays, np.zeros_like(plays)])


def _commons_level(game: Any, target: float) -> int:
    """Index of the menu level nearest ``target`` fair shares (ties: the larger level)."""
    levels = np.asarray(game.config.levels)
    distance = np.abs(levels - target)
    return int(np.flatnonzero(distance == distance.min())[np.argmax(levels[distance == distance.min()])])


def _commons(target: Any, name: str) -> Callable[[Any], Policy]:
    def factory(game: Any) -> Policy:
        level = target(game) if callable(target) else target
        return ConstantAction(_commons_level(game, level), name)

    return factory


def _commons_equilibrium_level(game: Any) -> float:
    """The level of the best symmetric Nash equilibrium in which every lab gives one menu level
    every round (C4; ties: the larger level); the smallest level where no such profile is known."""
    from labrace.envs.commons_v0 import symmetric_deviation_gain, symmetric_payoff

    c = game.config
    best, best_payoff = min(c.levels), -np.inf
    for level in sorted(c.levels):
        gain = symmetric_deviation_gain(c, level)
        if gain is None or gain > 1e-9 * c.endowment:
            continue
        payoff = symmetric_payoff(c, level)
        if payoff >= best_payoff - 1e-9 * c.endowment:
            best, best_payoff = level, payoff
    return best


def _fixed(allocation: Sequence[float], name: str) -> Callable[[Any], Policy]:
    return lambda game: FixedAllocation(game, allocation, name)


#: env name → policy name → factory(game) → Policy
BASELINES: dict[str, dict[str, Callable[[Any], Policy]]] = {
    "race_v0": {
        "race": _fixed((1.0, 0.0, 0.0), "race"),
        "safe": _fixed((0.0, 1.0, 0.0), "safe"),
        "balanced": _fixed((1 / 3, 1 / 3, 1 / 3), "balanced"),
        "cooperate": _fixed((0.0, 0.0, 1.0), "cooperate"),
        "conditional_cooperator": ConditionalCooperator,
        "random": RandomAllocation,
        "commit_and_keep": CommitAndKeep,
        "commit_and_break": lambda game: FixedAllocation(game, (1.0, 0.0, 0.0), "commit_and_break", commit=True),
        "declare_cooperation": lambda game: FixedAllocation(game, (1 / 3, 1 / 3, 1 / 3), "declare_cooperation", declare="cooperate"),
        "truthful_declarer": lambda game: ConditionalCooperator(game, name="truthful_declarer", truthful=True),
    },
    "precipice_v0": {
        "equilibrium": PrecipiceEquilibrium,
        "always_safe": lambda game: ConstantAction(np.ones(1, dtype=np.float32), "always_safe"),
        "reckless": lambda game: ConstantAction(np.zeros(1, dtype=np.float32), "reckless"),
    },
    "dsair_v0": {
        # the strategies of Han et al. (2022), for games with ``commitments`` (AS, AU, VS, VU)
        **{strategy: _dsair_strategy(strategy) for strategy in DSAIR_STRATEGIES},
        "always_safe": lambda game: ConstantAction(0, "always_safe"),
        "always_unsafe": lambda game: ConstantAction(1, "always_unsafe"),
        "risk_dominant": DsairRiskDominant,
        "reciprocator": DsairReciprocator,
    },
    "commons_v0": {
        "fair_share": _commons(1.0, "fair_share"),
        "free_rider": _commons(0.0, "free_rider"),
        "altruist": _commons(np.inf, "altruist"),
        "equilibrium": _commons(_commons_equilibrium_level, "equilibrium"),
    },
}


def available_baselines(game: Any) -> list[str]:
    """The baselines that can play ``game`` as configured (the dsair_v0 commitment strategies AS,
    AU, VS and VU need ``commitments=True``), sorted by name."""
    names = sorted(BASELINES.get(game.name, {}))
    if game.name == "dsair_v0" and not game.config.commitments:
        names = [name for name in names if name not in DSAIR_STRATEGIES]
    return names


def make_baseline(name: str, game: Any) -> Policy:
    """The scripted baseline ``name`` for ``game`` (a BatchedGame, e.g. ``labrace.make_game(...)``)."""
    table = BASELINES.get(game.name)
    if table is None:
        raise ValueError(f"no scripted baselines for environment {game.name!r}; environments with baselines: {sorted(BASELINES)}")
    if name not in table:
        raise ValueError(f"unknown {game.name} baseline {name!r}; valid baselines are {sorted(table)}")
    if game.name == "dsair_v0" and game.config.commitments and name not in DSAIR_STRATEGIES:
        plain = type(game)(dataclasses.replace(game.config, commitments=False))
        return NeverCommits(table[name](plain), game)
    return table[name](game)


def background_policies(game: Any, spec: Any, count: int) -> list[Policy]:
    """Resolve a background spec into ``count`` policies.

    ``spec`` is a baseline name, a Policy or callable (shared by all background labs), or a
    sequence of ``count`` of those (one per background lab, in lab order).
    """
    if isinstance(spec, (list, tuple)):
        if len(spec) != count:
            raise ValueError(f"background must list {count} policies (one per non-focal lab); got {len(spec)}")
        return [_one_policy(game, s) for s in spec]
    shared = _one_policy(game, spec)
    return [shared] * count


def _one_policy(game: Any, spec: Any) -> Policy:
    return make_baseline(spec, game) if isinstance(spec, str) else as_policy(spec)
