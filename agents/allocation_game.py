"""The fixed-allocation game of a race_v0 configuration: where racing is an equilibrium.

A lab's strategy here is one allocation (speed, safety, cooperation) played every step: the grid of
``step`` on the simplex (the grid of :func:`labrace.agents.exploitability.candidate_strategies`).
``payoff[a, b]`` is lab_0's expected return when it plays ``a`` and every other lab plays ``b``.
Where every lab has the same type (H1's cells) the game is symmetric, and this one matrix answers:

* **symmetric equilibria**: allocations ``s`` no lab can improve on by more than the tolerance by
  playing another allocation alone, ``max_a payoff[a, s] - payoff[s, s] <= tolerance`` (0.05 per
  episode, the bound the learners are held to, :mod:`labrace.agents.exploitability`);
* each equilibrium's **basin** (racing, coordinating, stalling: :mod:`labrace.agents.studies.analysis`),
  from how its profile's episodes end in the game as configured;
* **the incentive to race against cooperators**: lab_0's largest gain from an allocation with some
  speed while the others put everything into cooperation, ``max_{a: speed > 0} payoff[a, coop] -
  payoff[coop, coop]`` (the one-step best response of DESIGN.md's cruel trade-off);
* **the team optimum**: the allocation best for every lab if all play it, ``argmax_s payoff[s, s]``,
  and the **price of the race**: its return minus that of the worst (and of the best) equilibrium;
* **where local learners go**: from every grid allocation, symmetric myopic improvement (every lab
  moves ``step`` of effort between two activities where that raises its own return most, as
  gradient learners sharing a start would) until no such move gains; the share of starts that end
  in each basin.

The payoffs are estimated on the game with ``expected_rewards=True`` (the same expected returns,
accidents and misalignment paid in expectation) with every allocation played from the same initial
states (one batched rollout per background, :func:`labrace.agents.evaluation.rollout` with
``repeats``), so the differences between allocations carry almost no sampling noise: their
standard errors are reported (``max_difference_se``). Fixed allocations are a restricted strategy
set: an equilibrium here is one against one-shot deviations to any allocation, the same set the
learned profiles' exploitability is measured over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from labrace.agents.baselines import FixedAllocation
from labrace.agents.evaluation import rollout
from labrace.agents.exploitability import allocation_grid, equilibrium_tolerance, expected_game
from labrace.agents.policy import BlockPolicy

COOPERATE = (0.0, 0.0, 1.0)


@dataclass(frozen=True)
class AllocationGame:
    """The estimated symmetric game of one configuration (see the module docstring)."""

    allocations: tuple[tuple[float, float, float], ...]  # (P,)
    payoff: np.ndarray  # (P, P) lab_0's mean return, focal allocation x background allocation
    difference_se: np.ndarray  # (P, P) s.e. of payoff[a, b] - payoff[b, b] (paired episodes)
    basin: tuple[str, ...]  # (P,) basin of the profile where every lab plays allocation s
    outcome_rates: tuple[dict[str, float], ...]  # (P,) how that profile's episodes end (drawn)
    tolerance: float
    episodes: int
    step: float

    def index(self, allocation: tuple[float, float, float]) -> int:
        return int(np.argmin(np.abs(np.asarray(self.allocations) - np.asarray(allocation)).sum(axis=1)))

    @property
    def self_play(self) -> np.ndarray:
        """(P,) every lab's return when all play allocation s."""
        return np.diag(self.payoff).copy()

    @property
    def deviation_gain(self) -> np.ndarray:
        """(P,) the most a lab gains by deviating alone from the symmetric profile of s."""
        return self.payoff.max(axis=0) - self.self_play

    @property
    def max_difference_se(self) -> float:
        return float(self.difference_se.max())

    def equilibria(self) -> list[int]:
        """Indices of the symmetric equilibria (deviation gain within the tolerance)."""
        return [int(s) for s in np.flatnonzero(self.deviation_gain <= self.tolerance)]

    def incentive_to_race(self) -> dict[str, Any]:
        """Lab_0's best allocation with some speed against cooperating labs, and its gain over cooperating."""
        coop = self.index(COOPERATE)
        speedy = [a for a, allocation in enumerate(self.allocations) if allocation[0] > 0]
        best = max(speedy, key=lambda a: self.payoff[a, coop])
        gain = float(self.payoff[best, coop] - self.payoff[coop, coop])
        return {"allocation": self.allocations[best], "gain": gain, "pays": gain > self.tolerance}

    def team_optimum(self) -> int:
        return int(np.argmax(self.self_play))

    def neighbours(self, s: int) -> list[int]:
        """Allocations one move of ``step`` away (effort moved from one activity to another)."""
        here = np.asarray(self.allocations[s])
        table = np.asarray(self.allocations)
        distance = np.abs(table - here).sum(axis=1)
        return [int(a) for a in np.flatnonzero(np.isclose(distance, 2 * self.step))]

    def local_learning(self, start: int, max_moves: int = 1000) -> int | None:
        """Where symmetric myopic improvement from ``start`` comes to rest (None: it cycles)."""
        s, seen = start, {start}
        for _ in range(max_moves):
            moves = self.neighbours(s)
            best = max(moves, key=lambda a: self.payoff[a, s])
            if self.payoff[best, s] <= self.payoff[s, s]:
                return s
            s = best
            if s in seen:
                return None
            seen.add(s)
        return None

    def learning_basins(self) -> dict[str, float]:
        """Share of the grid's starting allocations whose local learning rests in each basin
        (``"no rest"`` where it cycles)."""
        ends = [self.local_learning(s) for s in range(len(self.allocations))]
        labels = ["no rest" if end is None else self.basin[end] for end in ends]
        return {label: labels.count(label) / len(labels) for label in ("racing", "coordinating", "stalling", "no rest")}

    def summary(self) -> dict[str, Any]:
        """The answers of the module docstring, JSON-ready."""
        equilibria = self.equilibria()
        team = self.team_optimum()
        values = [float(self.payoff[s, s]) for s in equilibria]
        return {
            "equilibria": [
                {"allocation": self.allocations[s], "return": float(self.payoff[s, s]), "basin": self.basin[s], "gain": float(self.deviation_gain[s])}
                for s in equilibria
            ],
            "equilibrium_basins": sorted({self.basin[s] for s in equilibria}),
            "incentive_to_race": self.incentive_to_race(),
            "team_optimum": {"allocation": self.allocations[team], "return": float(self.payoff[team, team]), "basin": self.basin[team]},
            "price_of_the_race": {
                "worst_equilibrium": float(self.payoff[team, team] - min(values)) if values else None,
                "best_equilibrium": float(self.payoff[team, team] - max(values)) if values else None,
            },
            "learning_basins": self.learning_basins(),
            "tolerance": self.tolerance,
            "max_difference_se": self.max_difference_se,
            "episodes": self.episodes,
            "step": self.step,
        }


def allocation_game(game: Any, step: float = 0.1, episodes: int = 100, seed: int = 0) -> AllocationGame:
    """Estimate the fixed-allocation game of a race_v0 ``game`` (see the module docstring).

    One batched rollout per background allocation plays every focal allocation on the same
    ``episodes`` initial states; one more, of the game as configured, gives every symmetric
    profile's outcomes. Cost: about (P + 1) rollouts of P x ``episodes`` games, P = number of
    allocations (66 at step 0.1).
    """
    from labrace.agents.studies.analysis import classify_basin

    if game.name != "race_v0":
        raise ValueError(f"allocation_game needs a race_v0 game; got {game.name}")
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 2:
        raise ValueError(f"episodes must be an integer >= 2; got {episodes!r}")
    allocations = allocation_grid(step)
    P, N = len(allocations), game.num_agents
    expected = expected_game(game)
    strategies = [FixedAllocation(expected, a, "fixed ({:.2f}, {:.2f}, {:.2f})".format(*a)) for a in allocations]
    focal = BlockPolicy(strategies, "every allocation")
    returns = np.empty((P, P, episodes))  # (focal, background, episode)
    for b, background in enumerate(strategies):
        r = rollout(expected, [focal] + [background] * (N - 1), P * episodes, seed, repeats=P)
        returns[:, b] = r.returns[:, 0].reshape(P, episodes)
    payoff = returns.mean(axis=2)
    diagonal = returns[np.arange(P), np.arange(P)]  # (P, E): each background's self-play, per episode
    difference_se = (returns - diagonal[None]).std(axis=2, ddof=1) / np.sqrt(episodes)

    drawn = rollout(game, [focal] * N, P * episodes, seed, repeats=P)  # every lab plays block s's allocation
    outcome_rates, basins = [], []
    for s in range(P):
        block = drawn.outcome[s * episodes : (s + 1) * episodes]
        rates = {name: float(np.mean(block == code)) for code, name in enumerate(drawn.outcome_names) if code != 0}
        outcome_rates.append(rates)
        basins.append(classify_basin({f"{name}_rate": rate for name, rate in rates.items()}))
    return AllocationGame(
        allocations=tuple(allocations),
        payoff=payoff,
        difference_se=difference_se,
        basin=tuple(basins),
        outcome_rates=tuple(outcome_rates),
        tolerance=equilibrium_tolerance(game),
        episodes=int(episodes),
        step=float(step),
    )
