"""The reference study: named grids of configs x seeds, one readable file per study.

A :class:`Study` names an environment and scenario, the axes of its grid (each value of each axis
turns into config overrides), the seeds, the trainer and two budgets (``small``: the whole report in
about 20 minutes on 2 cores, more on slower machines, measured; ``full``: the published figures).
``labrace.agents.sweep`` runs the grid (locally in worker processes or on a Ray cluster), gathers
every run's ``metrics.json`` and calls the study's ``analyse`` to write its section of
``results/REPORT.md``.
"""

from __future__ import annotations

import importlib
import re
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from labrace.agents.hyperparams import get_hyperparams

#: study name → module under labrace.agents.studies
STUDY_MODULES = {
    "h1": "h1_cruel_tradeoff",
    "h2": "h2_pivotal_act",
    "h3": "h3_precipice",
    "h4": "h4_common_ground",
    "canonical": "canonical_learned",
}


#: a study axis named ``lens`` chooses how the labs learn at a grid point:
#:
#: * ``equilibrium``: one PPO model per lab, all learning at once, each from its own reward (each
#:   lab seeks its own best response: an equilibrium);
#: * ``self-play``: one PPO policy that every lab plays, each lab's samples carrying its own reward
#:   (parameter-shared self-play: it seeks a symmetric equilibrium, at the cost of one model);
#: * ``team``: one PPO policy that every lab plays, every lab paid the mean reward of its game's
#:   labs (``team_reward``: what labs would reach if they learned as one team).
#:
#: The welfare gap between the team and the equilibrium lens is the price of the race.
LENSES = {"equilibrium": "simultaneous", "self-play": "shared", "team": "shared"}
#: the hyperparameters a lens sets on top of the budget's (``train.py --hp``)
LENS_HYPERPARAMS = {"team": {"team_reward": True}}
#: how a report names each lens
LENS_NAMES = {
    "equilibrium": "equilibrium learners (simultaneous PPO, one model per lab)",
    "self-play": "self-play learners (one PPO policy every lab plays, each lab learning from its own reward)",
    "team": "one team policy (one PPO policy every lab plays, learning from the labs' mean reward: team lens)",
}


def lens_title(lens: str) -> str:
    """A lens's name at the start of a sentence (``str.capitalize`` would lower "PPO")."""
    name = LENS_NAMES[lens]
    return name[0].upper() + name[1:]


def point_trainer(point: Mapping[str, Any], default: str) -> str:
    """The trainer of a grid point: its ``lens`` (:data:`LENSES`) if it has one, else the budget's."""
    if "lens" not in point:
        return default
    if point["lens"] not in LENSES:
        raise ValueError(f"lens must be one of {list(LENSES)}; got {point['lens']!r}")
    return LENSES[point["lens"]]


def point_hyperparams(point: Mapping[str, Any]) -> dict[str, Any]:
    """The hyperparameters a grid point's ``lens`` sets (:data:`LENS_HYPERPARAMS`; none without a lens)."""
    point_trainer(point, "")  # an unknown lens is an error here too
    return dict(LENS_HYPERPARAMS.get(point.get("lens"), {}))


#: race_v0's PPO at the small budget: 5 epochs of batches of 1024 instead of 10 of 512 (a quarter of
#: the gradient steps). Measured at 60k steps, 5 seeds (baseline; misuse_hawks): half the time per
#: run (shared: 7 s against 14 s with both cores busy) and no more exploitable (mean 0.57 against
#: 0.92; 0.28 against 0.35). Hidden layers of 32 units instead of 64 were measured and not taken: in
#: a clean-clone ``make report`` their runs trained about 12-15% faster (judged against its
#: unchanged canonical runs, 21% slower than in the report compared), but H2's equilibrium lens
#: ended more exploitable (mean 1.82 against 1.07 per episode; approximate equilibria in 5 of 40
#: runs against 9) and H4's self-play too (0.93 against 0.85), while H3's was less (0.48 against
#: 0.58)
SMALL_BUDGET_HYPERPARAMS = {"race_v0": {"n_epochs": 5, "batch_size": 1024}}
#: race_v0's exploitability at the small budget: each lab's best response chosen on 40 episodes per
#: candidate strategy, its gain measured on the budget's 100 fresh ones (the interval is as wide as
#: before). Choosing plays all 76 strategies, measuring one, so the measure takes 0.46x the time: in
#: a clean-clone ``make report`` 405 worker-seconds instead of 889 (of about 2,700; 19 min 22 s
#: instead of 24 min 05 s on the AMD EPYC that day). Remeasured on 159 finished small-budget runs
#: of H1-H4 (AMD EPYC): 143 had the same exploitability as when chosen on 100 episodes, 12 lower
#: (by 0.21 at most, 0.29 in all), 4 higher (at most 0.10), and one verdict changed (undetermined
#: → not an equilibrium). On 30 episodes one run fell from 2.24 to 1.56 and another became an
#: approximate equilibrium, so the budget stops at 40. The full budget chooses on all its episodes.
SMALL_BUDGET_SELECTION_EPISODES = 40
#: race_v0's PPO at the full budget (300k steps): the small budget's updates, and a policy whose
#: exploration noise starts wider (log-std 1.0 on the logits instead of 0). A lab's best response is
#: often across a plateau (coordination pays only if enough labs cooperate fully); the wider noise
#: lets learners find it. Measured at 300k steps on six H1 cells (m, d, x) = (0.1, 0.1 | 0.5, 0.5 |
#: 0.9, 0.9) x (0.2, 0.8), 2-6 seeds each: self-play reached exploitability <= 0.05 in 11 of 12 runs
#: (the twelfth 0.054; at log-std 0: 0.14 and 0.17 at (0.9, 0.9, 0.2)); the equilibrium lens
#: (simultaneous) in 10 of 10 at x = 0.8 (at log-std 0: 0.34-0.80 at (0.1, 0.1, 0.8)) but only 1 of
#: 10 at x = 0.2 (0.03-1.22; at log-std 0: 1.52-1.56 at (0.9, 0.9, 0.2)). At
#: 60k steps the wider noise is more exploitable (equilibrium lens, 4 seeds: 1.07 against 0.81 at
#: (0.1, 0.1, 0.8), 1.61 against 1.34 at (0.9, 0.9, 0.2)), so the small budget keeps the default.
FULL_BUDGET_HYPERPARAMS = {
    "race_v0": {
        **SMALL_BUDGET_HYPERPARAMS["race_v0"],
        # policy_kwargs replaces the default's whole dict: keep its network, widen the noise
        "policy_kwargs": {**get_hyperparams("race_v0", "ppo", "shared")["policy_kwargs"], "log_std_init": 1.0},
    }
}


@dataclass(frozen=True)
class Budget:
    #: training steps per run; None: each env's validated budget (``timesteps`` in
    #: agents/hyperparams.py, what ``train.py train`` gives it without ``--timesteps``)
    timesteps: int | None
    eval_episodes: int
    #: episodes of each exploitability measurement (default: ``eval_episodes``); measured on the
    #: expected-rewards game, 100 paired episodes already bound race_v0's gain to about +-0.01
    exploitability_episodes: int | None = None
    #: episodes on which every candidate best response plays to be chosen, where the gain is then
    #: measured on ``exploitability_episodes`` fresh ones (None: the same number); choosing is
    #: most of the measure's time (every candidate plays), measuring one candidate
    selection_episodes: int | None = None
    seeds: tuple[int, ...] = (0, 1, 2)
    #: axes restricted to these values (a smaller grid); axes not named keep all their values
    axes: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    #: "shared": one policy for every lab (fast; a lab cannot deviate alone, so self-play leans
    #: towards the profile best for all); "independent": one learner per lab, alternating best
    #: responses (approximates an equilibrium; about N times the cost)
    trainer: str = "shared"
    #: explicit grid points (each a value for every axis) instead of the axes' product: a budget
    #: that trains on a few cells of a larger grid (e.g. the corners that a hypothesis compares)
    points: tuple[Mapping[str, Any], ...] = ()
    #: env → hyperparameters its runs override (``train.py --hp``), e.g. fewer, larger PPO updates
    #: for a budget that must fit many seeds in little time; envs not named keep their defaults
    hyperparams: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def exploitability_episodes_per_run(self) -> int:
        """``exploitability_episodes``, or ``eval_episodes`` where the budget does not set it."""
        return self.exploitability_episodes or self.eval_episodes


@dataclass(frozen=True)
class Study:
    name: str
    title: str
    hypothesis: str
    #: (env, scenario) per grid point: a function of the point (several envs may share a study)
    env: Callable[[Mapping[str, Any]], tuple[str, str]]
    #: axis name → values; the grid is their product
    axes: Mapping[str, Sequence[Any]]
    #: grid point → config overrides (``--set`` values)
    overrides: Callable[[Mapping[str, Any]], dict[str, Any]]
    #: rows (one per run: the point, the seed and the learned profile's metrics) → report section
    analyse: Callable[[list[dict[str, Any]], Any], str]
    budgets: Mapping[str, Budget]
    algo: str = "ppo"

    def points(self, budget: str) -> list[dict[str, Any]]:
        """The grid points of a budget, in a stable order."""
        spec = self.budgets[budget]
        if spec.points:
            for point in spec.points:
                if set(point) != set(self.axes):
                    raise ValueError(f"study {self.name}, budget {budget}: every point needs exactly the axes {list(self.axes)}; got {dict(point)}")
            return [{axis: point[axis] for axis in self.axes} for point in spec.points]
        chosen = {axis: tuple(spec.axes.get(axis, values)) for axis, values in self.axes.items()}
        return [dict(zip(chosen, combo)) for combo in itertools.product(*chosen.values())]


def point_label(point: Mapping[str, Any]) -> str:
    """A folder-safe name of a grid point: ``misuse_concern=0.9,distrust=0.1`` → ``misuse_concern-0.9_distrust-0.1``."""
    return "_".join(f"{axis}-{re.sub(r'[^A-Za-z0-9._]+', '', str(value))}" for axis, value in point.items())


def list_studies(budget: str | None = None) -> list[str]:
    """The registered studies by name; with ``budget``, only those that have that budget (the
    canonical study has no ``small`` one: ``sweep all --budget small`` leaves it out)."""
    names = sorted(STUDY_MODULES)
    return names if budget is None else [name for name in names if budget in load_study(name).budgets]


def load_study(name: str) -> Study:
    if name not in STUDY_MODULES:
        raise ValueError(f"unknown study {name!r}; valid studies are {list_studies()} (or 'all')")
    return importlib.import_module(f"labrace.agents.studies.{STUDY_MODULES[name]}").STUDY
