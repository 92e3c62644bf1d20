"""Evaluation: batched rollouts of any policy profile, DESIGN.md §4 metrics, Melting-Pot cross-play.

Rollouts
--------
:func:`rollout` plays ``num_episodes`` games of a :class:`~labrace.envs.core.BatchedGame` at
once, one policy per lab (labs sharing a policy object are served by one batched ``act`` call),
and records each game's first outcome, winner, length and every lab's return, plus what each lab
did: its *shares*. Games that finish are reset in place and their later steps ignored, so the loop
has no per-game Python code.

Shares (what each lab did)
--------------------------
* Environments with an allocation of effort (``race_v0``: the state's ``last_allocation`` and the
  module's ``ALLOCATION_NAMES``): the mean (speed, safety, cooperation) shares.
* Discrete actions otherwise: the action distribution (one share per action; names from the
  config's ``menu`` or the module's ``ACTION_NAMES`` when present, else ``action_k``).
* Continuous actions otherwise: the mean of each action component.

Shares are averaged over an episode's steps (per lab), then over episodes; ``shares_over_time``
averages step t over the games still running at step t.

Metrics (:func:`summarize`, all with 95% confidence intervals)
-------------------------------------------------------------
* ``outcomes``: the rate of each outcome of the env's ``OUTCOMES`` (race_v0: catastrophe, winner,
  pivotal_act, coordinated, timeout), Wilson score intervals;
* ``sanction_cost``: the sanctions all labs paid per episode (race_v0's governance levers: an env
  that reports ``info["sanction"]`` (B, N) in its step result), else ``None``;
* ``winner_rate_per_lab``: how often each lab is the winner;
* ``return_per_lab`` and ``welfare`` (sum of the labs' returns per episode), mean ± 1.96 s.e.;
* ``time_to_outcome``: mean episode length, overall and per outcome;
* ``shares``: mean shares per lab and ``shares_over_time`` (step, lab, share);
* **racing index**: the mean share of effort that goes to racing, in [0, 1]: in race_v0 the
  mean *speed* share, averaged over each episode's steps, over labs, then over episodes. 0 means
  no lab ever invests in speed, 1 means every lab races flat out; the ``balanced`` baseline scores
  1/3. Other environments count the shares whose names their module lists in ``RACING_ACTIONS``
  (e.g. an ``UNSAFE`` action); where neither exists the index is ``None``.
* **coordination index**: the mean share of effort that goes to the shared process: in race_v0
  the mean *cooperation* share (same averaging). Other environments count the shares named in
  their module's ``COOPERATIVE_ACTIONS``; else ``None``. The coordinated-*outcome* rate is
  reported separately under ``outcomes``.

Cross-play (:func:`cross_play`)
-------------------------------
In the manner of Melting Pot: the *focal* policy plays the focal labs (default lab_0), a
*background population* (a scripted baseline, another learned policy, or a list with one policy per
background lab) plays the others. Each row reports the focal per-capita return (mean over focal
labs and episodes), the background per-capita return, the outcome rates and the focal racing and
coordination indices.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding

from labrace.agents.policy import Policy, as_policy
from labrace.envs.adapters import group_by_policy
from labrace.envs.core import repeat_games

#: share names counted by the racing / coordination indices in every env (race_v0's allocation)
RACING_SHARES = ("speed",)
COORDINATION_SHARES = ("cooperation",)

#: outcome names that count as catastrophe in summaries across envs (race_v0 "catastrophe",
#: precipice_v0 / dsair_v0 "disaster")
CATASTROPHE_OUTCOMES = ("catastrophe", "disaster")

Z95 = 1.959963984540054


def catastrophe_metric(outcomes: Mapping[str, Any]) -> Any:
    """The catastrophe entry of an ``outcomes`` dict (by :data:`CATASTROPHE_OUTCOMES`), or None."""
    for name in CATASTROPHE_OUTCOMES:
        if name in outcomes:
            return outcomes[name]
    return None


# --------------------------------------------------------------------------------------------
# Rollouts
# --------------------------------------------------------------------------------------------


@dataclass
class Rollouts:
    """Results of ``num_episodes`` episodes of one policy profile."""

    returns: np.ndarray  # (E, N) each lab's return
    outcome: np.ndarray  # (E,) outcome code of the game (index into the env's OUTCOMES)
    winner: np.ndarray  # (E,) winning lab or -1
    steps: np.ndarray  # (E,) episode length
    allocation: np.ndarray  # (E, N, K) mean share per lab over the episode (see the module docstring)
    outcome_names: tuple[str, ...]
    share_names: tuple[str, ...] = ("speed", "safety", "cooperation")
    timeline_sum: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # (T, N, K) summed shares
    timeline_count: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) games running at step t
    racing_shares: tuple[str, ...] = RACING_SHARES
    coordination_shares: tuple[str, ...] = COORDINATION_SHARES
    #: (E, N) sanctions each lab paid over the episode, where the env reports ``info["sanction"]``
    sanctions: np.ndarray | None = None

    @property
    def shares(self) -> np.ndarray:
        """(E, N, K) alias of ``allocation``: mean share per episode and lab."""
        return self.allocation

    @property
    def num_episodes(self) -> int:
        return len(self.outcome)

    @property
    def num_labs(self) -> int:
        return self.returns.shape[1]

    def outcome_rate(self, name: str) -> float:
        return float(np.mean(self.outcome == self.outcome_names.index(name)))

    def mean_returns(self) -> np.ndarray:
        return self.returns.mean(axis=0)

    def shares_over_time(self) -> np.ndarray:
        """(T, N, K) mean shares at step t over the games still running at t."""
        return self.timeline_sum / np.maximum(self.timeline_count, 1)[:, None, None]

    def index_per_episode(self, names: Sequence[str], labs: Sequence[int] | None = None) -> np.ndarray | None:
        """(E,) summed share of the named features, averaged over ``labs`` (all by default); None if absent."""
        columns = [k for k, n in enumerate(self.share_names) if n in names]
        if not columns:
            return None
        labs = list(range(self.num_labs)) if labs is None else list(labs)
        return self.allocation[:, labs][:, :, columns].sum(axis=2).mean(axis=1)

    def racing_index(self, labs: Sequence[int] | None = None) -> float | None:
        values = self.index_per_episode(self.racing_shares, labs)
        return None if values is None else float(values.mean())

    def coordination_index(self, labs: Sequence[int] | None = None) -> float | None:
        values = self.index_per_episode(self.coordination_shares, labs)
        return None if values is None else float(values.mean())


def env_module(game: Any) -> ModuleType:
    """The module that defines ``game`` (holds ``OUTCOMES`` and optional naming constants)."""
    import importlib

    return importlib.import_module(type(game).__module__)


def _share_spec(game: Any, module: ModuleType) -> tuple[str, tuple[str, ...]]:
    """How shares are derived for this game: ('allocation'|'discrete'|'continuous', names)."""
    names = getattr(module, "ALLOCATION_NAMES", None)
    if names is not None:
        return "allocation", tuple(names)
    space = game.action_space
    explicit = getattr(module, "ACTION_NAMES", None)
    if isinstance(space, spaces.MultiDiscrete) and explicit is not None and len(explicit) == space.nvec[0]:
        return "first_discrete", tuple(explicit)  # (play, extras...): dsair_v0 with commitments
    if isinstance(space, spaces.Discrete):
        menu = getattr(game.config, "menu", None)
        if menu is not None and len(menu) == space.n:
            return "discrete", tuple(str(item[0]) for item in menu)
        if explicit is not None and len(explicit) == space.n:
            return "discrete", tuple(explicit)
        return "discrete", tuple(f"action_{k}" for k in range(space.n))
    size = int(np.prod(space.shape))
    if explicit is not None and len(explicit) == size:
        return "continuous", tuple(explicit)
    return "continuous", tuple(f"action_{k}" for k in range(size))


def _step_shares(kind: str, game: Any, state: Any, actions: np.ndarray, size: int) -> np.ndarray:
    """(B, N, K) shares of this step."""
    if kind == "allocation":
        return np.asarray(state.last_allocation, dtype=np.float64)
    if hasattr(state, "last_action"):  # dsair_v0 records the play it applied (without switching, the first one)
        return np.eye(size)[np.asarray(state.last_action, dtype=np.int64)]
    if kind == "discrete":
        return np.eye(size)[np.asarray(actions, dtype=np.int64) - int(game.action_space.start)]
    if kind == "first_discrete":  # the play is the first part; the others (commit, ...) are not shares
        return np.eye(size)[np.asarray(actions, dtype=np.int64)[..., 0]]
    return np.asarray(actions, dtype=np.float64).reshape(actions.shape[:2] + (-1,))


def _profile(game: Any, policies: Any) -> list[Policy]:
    if not isinstance(policies, (list, tuple)):
        policies = [policies] * game.num_agents
    if len(policies) != game.num_agents:
        raise ValueError(f"policies must list {game.num_agents} policies (one per lab); got {len(policies)}")
    converted: dict[int, Policy] = {}  # keep shared objects shared after conversion
    return [converted.setdefault(id(p), as_policy(p)) for p in policies]


def rollout(game: Any, policies: Any, num_episodes: int, seed: int | None = None, repeats: int = 1) -> Rollouts:
    """Play ``num_episodes`` episodes of ``game`` with one policy per lab (or one for all).

    ``policies``: a :class:`Policy`, SB3 model or callable (shared by all labs), or a list with one
    per lab. Same seed and policies → same results. ``repeats`` > 1 starts the episodes from
    ``num_episodes / repeats`` fresh games, each repeated in ``repeats`` consecutive blocks (episode
    e of every block starts from the same state): policies that play different blocks
    (:class:`labrace.agents.policy.BlockPolicy`) are then compared on common initial states.
    """
    if not isinstance(num_episodes, (int, np.integer)) or num_episodes < 1:
        raise ValueError(f"num_episodes must be a positive integer; got {num_episodes!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1 or num_episodes % repeats:
        raise ValueError(f"repeats must be a positive integer that divides num_episodes ({num_episodes}); got {repeats!r}")
    profile = _profile(game, policies)
    groups = group_by_policy(range(len(profile)), profile)
    module = env_module(game)
    kind, share_names = _share_spec(game, module)
    K = len(share_names)
    rng, _ = seeding.np_random(seed)
    E, N = int(num_episodes), game.num_agents
    state = game.reset(rng, E) if repeats == 1 else repeat_games(game.reset(rng, E // repeats), repeats)
    returns = np.zeros((E, N))
    finished = np.zeros(E, dtype=bool)
    outcome = np.zeros(E, dtype=np.int64)
    winner = np.full(E, -1, dtype=np.int64)
    steps = np.zeros(E, dtype=np.int64)
    share_sum = np.zeros((E, N, K))
    rounds = np.zeros(E, dtype=np.int64)  # steps that were rounds of play (shares are averaged over them)
    sanctions = None  # (E, N), once the env reports sanctions (race_v0 with governance levers)
    timeline_sum: list[np.ndarray] = []
    timeline_count: list[int] = []
    t = 0
    while not finished.all():
        observations = game.observe(state)  # (E, N, D)
        actions = np.empty((E, N) + tuple(game.action_space.shape), dtype=game.action_space.dtype)
        for policy, labs in groups:
            acted = np.asarray(policy.act(observations[:, labs].reshape(E * len(labs), -1), rng=rng))
            actions[:, labs] = acted.reshape((E, len(labs)) + tuple(game.action_space.shape))
        actions = game.check_actions(actions, E)
        # a step that is not a round of play (dsair_v0's commitment stage) adds no shares
        stage = state.stage.copy() if hasattr(state, "stage") else np.zeros(E, dtype=bool)
        result = game.step(state, actions, rng)
        live = ~finished
        shares = _step_shares(kind, game, state, actions, K)
        shares[stage] = 0.0
        share_sum[live] += shares[live]
        rounds[live & ~stage] += 1
        timeline_sum.append(shares[live].sum(axis=0))
        timeline_count.append(int(live.sum()))
        t += 1
        returns[live] += result.rewards[live]
        if "sanction" in result.info:
            sanctions = np.zeros((E, N)) if sanctions is None else sanctions
            sanctions[live] += result.info["sanction"][live]
        done = (result.terminated | result.truncated) & live
        outcome[done] = result.info["outcome"][done]
        winner[done] = result.info["winner"][done]
        steps[done] = t
        finished |= done
        ended = result.terminated | result.truncated
        if ended.any() and not finished.all():
            game.reset_where(state, ended, rng)  # finished games restart; their later steps are ignored
    return Rollouts(
        returns=returns,
        outcome=outcome,
        winner=winner,
        steps=steps,
        allocation=share_sum / np.maximum(rounds, 1)[:, None, None],
        outcome_names=tuple(module.OUTCOMES),
        share_names=share_names,
        timeline_sum=np.asarray(timeline_sum).reshape(t, N, K),
        timeline_count=np.asarray(timeline_count, dtype=np.int64),
        racing_shares=RACING_SHARES + tuple(getattr(module, "RACING_ACTIONS", ())),
        coordination_shares=COORDINATION_SHARES + tuple(getattr(module, "COOPERATIVE_ACTIONS", ())),
        sanctions=sanctions,
    )


# --------------------------------------------------------------------------------------------
# Confidence intervals and metrics
# --------------------------------------------------------------------------------------------


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a binomial rate (95% by default)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def mean_ci(values: Any, z: float = Z95) -> dict[str, Any]:
    """``{"mean", "ci95": [lo, hi], "n"}`` with a normal-approximation interval (mean ± z s.e.)."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    n = len(values)
    if n == 0:
        return {"mean": None, "ci95": [None, None], "n": 0}
    mean = float(values.mean())
    half = z * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": n}


def rate_ci(flags: Any) -> dict[str, Any]:
    """``{"rate", "ci95": [lo, hi], "n"}`` of a boolean array (Wilson interval)."""
    flags = np.asarray(flags, dtype=bool).reshape(-1)
    n, k = len(flags), int(flags.sum())
    return {"rate": k / n if n else None, "ci95": list(wilson_interval(k, n)), "n": n}


def _index_metric(values: np.ndarray | None) -> dict[str, Any] | None:
    return None if values is None else mean_ci(values)


def summarize(r: Rollouts, labs: Sequence[int] | None = None) -> dict[str, Any]:
    """DESIGN.md §4 metrics of a set of rollouts, JSON-ready (see the module docstring)."""
    E, N = r.returns.shape
    outcomes = {name: rate_ci(r.outcome == code) for code, name in enumerate(r.outcome_names) if code != 0}
    by_outcome = {}
    for code, name in enumerate(r.outcome_names):
        mask = r.outcome == code
        if code and mask.any():
            by_outcome[name] = float(r.steps[mask].mean())
    over_time = r.shares_over_time()
    return {
        "episodes": E,
        "num_labs": N,
        "outcomes": outcomes,
        "winner_rate_per_lab": [rate_ci(r.winner == i) for i in range(N)],
        "return_per_lab": [mean_ci(r.returns[:, i]) for i in range(N)],
        "mean_return": mean_ci(r.returns.mean(axis=1)),
        "welfare": mean_ci(r.returns.sum(axis=1)),
        "time_to_outcome": {**mean_ci(r.steps), "by_outcome": by_outcome},
        "shares": {
            "names": list(r.share_names),
            "per_lab": [{name: mean_ci(r.allocation[:, i, k]) for k, name in enumerate(r.share_names)} for i in range(N)],
            "all_labs": {name: mean_ci(r.allocation[:, :, k].mean(axis=1)) for k, name in enumerate(r.share_names)},
        },
        "shares_over_time": {
            "running_games": r.timeline_count.tolist(),
            "per_lab": np.round(over_time, 5).tolist(),  # (T, N, K)
        },
        "racing_index": _index_metric(r.index_per_episode(r.racing_shares, labs)),
        "coordination_index": _index_metric(r.index_per_episode(r.coordination_shares, labs)),
        # total sanctions paid per episode (all labs), where the env has sanctions
        "sanction_cost": mean_ci(r.sanctions.sum(axis=1)) if r.sanctions is not None else None,
    }


def evaluate_profiles(game: Any, profiles: Mapping[str, Any], num_episodes: int, seed: int | None = None) -> dict[str, tuple[Rollouts, dict[str, Any]]]:
    """Rollouts and metrics of several named policy profiles (same seed for each: common random numbers)."""
    out = {}
    for name, policies in profiles.items():
        rollouts = rollout(game, policies, num_episodes, seed)
        out[name] = (rollouts, summarize(rollouts))
    return out


# --------------------------------------------------------------------------------------------
# Cross-play
# --------------------------------------------------------------------------------------------


def cross_play(
    game: Any,
    focal: Any,
    backgrounds: Mapping[str, Any],
    num_episodes: int,
    seed: int | None = None,
    focal_labs: Sequence[int] = (0,),
) -> list[dict[str, Any]]:
    """Focal policy against background populations, Melting-Pot style (one row per population).

    ``backgrounds`` maps a population name to a baseline name, a policy (shared by every
    background lab) or a list with one policy per background lab. ``focal_labs`` are the labs the
    focal policy plays. Returns rows with the focal and background per-capita returns (95% CI),
    outcome rates and the focal labs' racing and coordination indices.
    """
    from labrace.agents.baselines import background_policies
    from labrace.envs.core import check_int

    focal_labs = sorted({check_int("focal_lab", int(i), 0, game.num_agents - 1) for i in focal_labs})
    others = [i for i in range(game.num_agents) if i not in focal_labs]
    focal = as_policy(focal)
    rows = []
    for name, spec in backgrounds.items():
        population = background_policies(game, spec, len(others)) if others else []
        profile: list[Any] = [None] * game.num_agents
        for lab in focal_labs:
            profile[lab] = focal
        for lab, policy in zip(others, population):
            profile[lab] = policy
        r = rollout(game, profile, num_episodes, seed)
        rows.append(
            {
                "background": name,
                "focal_labs": focal_labs,
                "focal_return": mean_ci(r.returns[:, focal_labs].mean(axis=1)),
                "background_return": mean_ci(r.returns[:, others].mean(axis=1)) if others else None,
                "welfare": mean_ci(r.returns.sum(axis=1)),
                "outcomes": {n: rate_ci(r.outcome == c) for c, n in enumerate(r.outcome_names) if c != 0},
                "focal_racing_index": r.racing_index(focal_labs),
                "focal_coordination_index": r.coordination_index(focal_labs),
            }
        )
    return rows


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def episode_rows(r: Rollouts, profile: str) -> list[dict[str, Any]]:
    """One dict per episode (for the episodes CSV): outcome, winner, length, returns, shares."""
    rows = []
    for e in range(r.num_episodes):
        row: dict[str, Any] = {
            "profile": profile,
            "episode": e,
            "outcome": r.outcome_names[r.outcome[e]],
            "winner": int(r.winner[e]),
            "steps": int(r.steps[e]),
            "welfare": round(float(r.returns[e].sum()), 6),
        }
        for i in range(r.num_labs):
            row[f"return_lab_{i}"] = round(float(r.returns[e, i]), 6)
        for i in range(r.num_labs):
            for k, name in enumerate(r.share_names):
                row[f"{name}_lab_{i}"] = round(float(r.allocation[e, i, k]), 6)
        rows.append(row)
    return rows


def evaluation_tag(
    scenario: str,
    sets: Sequence[str] = (),
    episodes: int = 200,
    seed: int = 12345,
    exploitability: bool = False,
    exploitability_episodes: int = 0,
    br_dynamics: int = 0,
    br_timesteps: int | None = None,
    learned_only: bool = False,
    selection_episodes: int | None = None,
) -> str:
    """The name ``train.py evaluate`` gives an evaluation's files (``metrics<tag>.json``, ...): every
    setting that changes them, so that no evaluation overwrites another. ``br_timesteps`` None is
    the game's default PPO best response (``brdefault``)."""
    parts = [scenario, *sets, f"{episodes}ep", f"seed{seed}"]
    learner = f"br{'default' if br_timesteps is None else br_timesteps}"
    if exploitability:
        parts.append(f"exploitability{exploitability_episodes}ep-{learner}" + ("" if selection_episodes is None else f"-selection{selection_episodes}ep"))
    if br_dynamics:
        parts.append(f"brdynamics{br_dynamics}-{exploitability_episodes}ep-{learner}")
    if learned_only:
        parts.append("learnedonly")
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", "-" + "-".join(parts))


def fmt_ci(metric: Mapping[str, Any] | None, key: str = "mean", digits: int = 2) -> str:
    """``"0.53 [0.49, 0.57]"`` for a metric dict from :func:`mean_ci` / :func:`rate_ci`."""
    if metric is None or metric.get(key) is None:
        return "n/a"
    lo, hi = metric["ci95"]
    return f"{metric[key]:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
