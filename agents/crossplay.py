"""Cross-play of learned policies and its meta-game: which learned policy is a best response to which.

    python -m labrace.agents.crossplay                    # results/crossplay.md (make crossplay)
    python -m labrace.agents.crossplay --episodes 200 --out /tmp/crossplay.md

The committed race_v0 policies (``results/policies/<scenario>/``) were each trained by self-play
in one scenario. Cross-play asks what happens when they meet: a hawk-trained lab among
dove-trained labs, a baseline-trained lab among labs trained for easy coordination, and so on.

The game that is played
-----------------------
A lab's preferences (misuse and accident concern, trust) are drawn from its scenario's lab types,
so "a hawk-trained lab among dove-trained labs" needs a choice of game. Here the game is an
*evaluation scenario* S, and every cell of S's matrix plays S exactly as configured:

* lab ``focal_lab`` (default lab_0) plays the **focal** policy A, every other lab plays the
  **background** policy B (one shared object, as in training);
* every lab's types, and so every payoff, are S's: the focal return is A's return *as S's lab_0*.
  Policies see their own types in the observation, so a policy trained among hawks and played in
  the doves' game acts on dove preferences it never saw in training;
* the evaluation scenarios are the training scenarios of the committed policies. In
  ``cruel_tradeoff`` lab_0 is the misuse hawk and the others are accident doves, so its cell
  (focal ``misuse_hawks``, background ``accident_doves``) is literally a hawk-trained hawk among
  dove-trained doves, scored by the hawk's payoffs.

Policies whose observation or action shape differs from S's cannot play S (``pivotal_act``'s
action has a fourth component, the attempt at a pivotal act); they are left out of S's matrix
with the reason stated, and a scenario that fewer than two policies can play is skipped.

Common random numbers
---------------------
Every cell of a matrix uses the same seed: episode e starts from the same initial capabilities,
safety and types in every cell, and the environment's random draws stay aligned until the games'
paths diverge. So differences between cells are **paired** per episode, and their 95% intervals
(mean ± 1.96 s.e. of the per-episode difference) are tighter than those of the cells themselves.

The meta-game
-------------
The matrix is a symmetric two-role game between policies: u(A, B) is the focal return of A among
B's. For each background B:

* its **self-play** return u(B, B) (the diagonal: B's own profile, lab_0's return);
* the **best response**: the focal policy with the largest u(A, B); the **best-response set**: every
  A whose paired difference to the best is not significantly below 0; the best response is
  **significant** when the set has one element (the runner-up is beaten at 95%);
* the **gain over self-play**, u(BR, B) − u(B, B) with its paired interval: what lab_0 gains by
  switching from B's policy to the best of the committed ones while the others keep playing B.

A **symmetric pure equilibrium** of the meta-game is a policy that is a best response to itself
within the interval: B is in its own best-response set (no committed policy gains significantly
against it). With 95% intervals and several comparisons per column, a gain that just clears its
interval is worth a second look at more episodes (``--episodes``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from labrace.agents.evaluation import fmt_ci, mean_ci, rate_ci, rollout
from labrace.agents.policy import Policy, as_policy

#: episodes per cell and seed of the committed results/crossplay.md
DEFAULT_EPISODES = 5000
DEFAULT_SEED = 0
DEFAULT_OUT = "results/crossplay.md"
DEFAULT_POLICIES = "results/policies"
HEADING = "## Cross-play of the committed learned policies"
#: outcome rates shown in the cells' rate tables (those the game has)
SHOWN_OUTCOMES = ("catastrophe", "winner", "coordinated")


# --------------------------------------------------------------------------------------------
# Which policy can play which game
# --------------------------------------------------------------------------------------------


def policy_shapes(policy: Any) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """(observation shape, action shape) a learned policy was trained with; None for a scripted
    or callable policy, which plays whatever game it was built for."""
    model = getattr(policy, "model", None)
    if model is None or not hasattr(model, "observation_space"):
        return None
    return tuple(model.observation_space.shape), tuple(model.action_space.shape)


def mismatch(policy: Any, game: Any) -> str | None:
    """Why ``policy`` cannot play ``game`` (its shapes differ), or None if it can."""
    shapes = policy_shapes(policy)
    if shapes is None:
        return None
    observation, action = shapes
    game_observation, game_action = tuple(game.observation_space.shape), tuple(game.action_space.shape)
    if observation != game_observation:
        return f"its observations have shape {observation}, the game's {game_observation}"
    if action != game_action:
        return f"its actions have shape {action}, the game's {game_action}"
    return None


def fitting_policies(game: Any, policies: Mapping[str, Any]) -> tuple[dict[str, Policy], dict[str, str]]:
    """Split ``policies`` into those that can play ``game`` and the others, with the reason."""
    fit, left_out = {}, {}
    for name, policy in policies.items():
        reason = mismatch(policy, game)
        if reason is None:
            fit[name] = as_policy(policy)
        else:
            left_out[name] = reason
    return fit, left_out


# --------------------------------------------------------------------------------------------
# The cross-play matrix
# --------------------------------------------------------------------------------------------


def _check_positive_int(name: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_seed(seed: Any) -> int:
    return _check_positive_int("seed", seed, 0)


@dataclass
class CrossPlay:
    """A focal × background matrix in one game (rows: focal policy, columns: background policy).

    ``focal_returns[a, b]`` holds the focal lab's return in each of the ``episodes`` episodes of
    focal ``names[a]`` among background ``names[b]`` (paired across cells: common seeds).
    """

    game: str  # "race_v0/cruel_tradeoff"
    names: tuple[str, ...]
    episodes: int
    seed: int
    focal_lab: int
    focal_returns: np.ndarray  # (P, P, E)
    cells: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # policy → why it cannot play this game

    @classmethod
    def from_returns(cls, names: Sequence[str], focal_returns: Any, game: str = "constructed", seed: int = 0) -> CrossPlay:
        """A matrix from given per-episode focal returns (P, P, E): a constructed meta-game, for
        checking the best-response and equilibrium logic on payoffs whose answer is known."""
        focal_returns = np.asarray(focal_returns, dtype=np.float64)
        P = len(names)
        if focal_returns.ndim != 3 or focal_returns.shape[:2] != (P, P) or focal_returns.shape[2] < 1:
            raise ValueError(f"focal_returns must have shape ({P}, {P}, episodes >= 1) for {P} names; got {focal_returns.shape}")
        cells = {(a, b): {"focal_return": mean_ci(focal_returns[i, j])} for i, a in enumerate(names) for j, b in enumerate(names)}
        return cls(game, tuple(names), focal_returns.shape[2], seed, 0, focal_returns, cells)

    def index(self, name: str) -> int:
        return self.names.index(name)

    def focal_return(self, focal: str, background: str) -> dict[str, Any]:
        return self.cells[(focal, background)]["focal_return"]

    def difference(self, a: str, b: str, background: str) -> dict[str, Any]:
        """Paired u(a, background) − u(b, background): mean and 95% CI over the common episodes."""
        column = self.index(background)
        return mean_ci(self.focal_returns[self.index(a), column] - self.focal_returns[self.index(b), column])


def crossplay_matrix(game: Any, policies: Mapping[str, Any], episodes: int, seed: int = DEFAULT_SEED, focal_lab: int = 0, name: str | None = None) -> CrossPlay:
    """Every policy of ``policies`` as the focal lab against every one as the background.

    Lab ``focal_lab`` plays the focal policy, every other lab the background policy, in ``game``
    as configured (its lab types and payoffs). Each cell reports the focal return (95% CI), the
    background per-capita return, welfare, the outcome rates and how often the focal lab wins;
    every cell uses ``seed`` (common random numbers). A policy whose shapes do not fit the game is
    a ValueError naming it; use :func:`fitting_policies` first to leave such policies out.
    """
    episodes = _check_positive_int("episodes", episodes)
    seed = _check_seed(seed)
    if isinstance(focal_lab, bool) or not isinstance(focal_lab, (int, np.integer)) or not 0 <= focal_lab < game.num_agents:
        raise ValueError(f"focal_lab must be an integer in [0, {game.num_agents - 1}]; got {focal_lab!r}")
    if not policies:
        raise ValueError("policies must name at least one policy; got none")
    label = name or f"{game.name}/{getattr(game.config, 'scenario', '') or 'config'}"
    fit, left_out = fitting_policies(game, policies)
    if left_out:
        first = next(iter(left_out))
        raise ValueError(f"policies: {first!r} cannot play {label}: {left_out[first]} (leave it out with fitting_policies)")
    names = tuple(fit)
    others = [lab for lab in range(game.num_agents) if lab != focal_lab]
    focal_returns = np.zeros((len(names), len(names), episodes))
    cells = {}
    for a, focal in enumerate(names):
        for b, background in enumerate(names):
            profile = [fit[background]] * game.num_agents
            profile[focal_lab] = fit[focal]
            r = rollout(game, profile, episodes, seed)
            focal_returns[a, b] = r.returns[:, focal_lab]
            cells[(focal, background)] = {
                "focal_return": mean_ci(r.returns[:, focal_lab]),
                "background_return": mean_ci(r.returns[:, others].mean(axis=1)) if others else None,
                "welfare": mean_ci(r.returns.sum(axis=1)),
                "outcomes": {n: rate_ci(r.outcome == c) for c, n in enumerate(r.outcome_names) if c != 0},
                "focal_wins": rate_ci(r.winner == focal_lab),
                "focal_racing_index": r.racing_index([focal_lab]),
            }
    return CrossPlay(label, names, episodes, seed, int(focal_lab), focal_returns, cells)


# --------------------------------------------------------------------------------------------
# The meta-game
# --------------------------------------------------------------------------------------------


def best_responses(cp: CrossPlay) -> dict[str, dict[str, Any]]:
    """For each background policy: self-play return, best response, best-response set, gaps.

    Returns ``{background: {"self_play", "best_response", "best_return", "best_set",
    "runner_up", "gap_to_runner_up", "significant", "gain_over_self_play", "equilibrium"}}``
    (see the module docstring; ``runner_up`` and its gap are None with a single policy).
    """
    out = {}
    for background in cp.names:
        means = {a: cp.focal_return(a, background)["mean"] for a in cp.names}
        ranked = sorted(cp.names, key=lambda a: (-means[a], cp.index(a)))  # ties: the earlier policy
        best = ranked[0]
        best_set = [a for a in ranked if a == best or cp.difference(best, a, background)["ci95"][0] <= 0.0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        gap = cp.difference(best, runner_up, background) if runner_up else None
        out[background] = {
            "self_play": cp.focal_return(background, background),
            "best_response": best,
            "best_return": cp.focal_return(best, background),
            "best_set": best_set,
            "runner_up": runner_up,
            "gap_to_runner_up": gap,
            "significant": len(best_set) == 1 and runner_up is not None,
            "gain_over_self_play": cp.difference(best, background, background),
            "equilibrium": background in best_set,
        }
    return out


def symmetric_equilibria(cp: CrossPlay, responses: Mapping[str, Mapping[str, Any]] | None = None) -> list[str]:
    """The symmetric pure equilibria of the meta-game: the policies that are a best response to
    themselves within the 95% interval (no committed policy gains significantly against them)."""
    responses = best_responses(cp) if responses is None else responses
    return [name for name in cp.names if responses[name]["equilibrium"]]


# --------------------------------------------------------------------------------------------
# The committed policies
# --------------------------------------------------------------------------------------------


@dataclass
class Study:
    """Cross-play of a folder of runs: one matrix per evaluation scenario."""

    folder: str
    episodes: int
    seed: int
    matrices: list[CrossPlay]
    skipped_runs: dict[str, str]  # run → why its policy is not in any matrix
    skipped_games: dict[str, str]  # evaluation scenario → why it has no matrix


def load_committed(folder: str | Path) -> tuple[dict[str, Policy], dict[str, tuple[str, str, dict[str, Any]]], dict[str, str]]:
    """The shared-policy runs of ``folder``: ``(policies, games, skipped)`` by run name.

    ``games[run]`` is the (env, scenario, overrides) the run was trained in; ``skipped[run]`` says
    why a run cannot take part (an unfinished run, or independent learners: one policy per lab,
    not one policy that a focal or a background lab can play).
    """
    from labrace.agents.policy import load_policy
    from labrace.agents.runs import is_finished

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"policies_folder must be a folder of finished runs; {folder} is not a folder")
    policies, games, skipped = {}, {}, {}
    for run in sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")):
        if not is_finished(run):
            skipped[run.name] = "not a finished run (no metrics.json)"
            continue
        config = json.loads((run / "config.json").read_text())
        if config.get("trainer") != "shared":
            skipped[run.name] = f"trained by {config.get('trainer')!r} learners: one policy per lab, not one policy to cross-play"
            continue
        try:
            policies[run.name] = load_policy(run / "model")
        except Exception as exc:  # noqa: BLE001 (a truncated or foreign zip fails in many ways)
            skipped[run.name] = f"its policy does not load ({type(exc).__name__})"
            continue
        games[run.name] = (config["env"], config["scenario"], dict(config.get("overrides") or {}))
    return policies, games, skipped


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Run torch on one thread inside the block (restored after). The policies' forward passes
    are tiny (a few thousand rows through a 64x64 MLP): on a shared machine more threads only
    spin against each other (measured: 30 times slower on 2 busy cores)."""
    try:
        import torch
    except ImportError:  # scripted policies only
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _grouped(reasons: Mapping[str, str]) -> str:
    """``"`a`, `b`: reason; `c`: other reason"``: names grouped by their (identical) reason."""
    by_reason: dict[str, list[str]] = {}
    for name, reason in reasons.items():
        by_reason.setdefault(reason, []).append(f"`{name}`")
    return "; ".join(f"{', '.join(names)}: {reason}" for reason, names in by_reason.items())


def run_study(policies_folder: str | Path = DEFAULT_POLICIES, episodes: int = DEFAULT_EPISODES, seed: int = DEFAULT_SEED, progress: Any = None) -> Study:
    """A cross-play matrix in each committed run's training scenario, among the policies that fit.

    ``progress`` (optional) is called with a line of text before each matrix.
    """
    import labrace

    episodes = _check_positive_int("episodes", episodes)
    seed = _check_seed(seed)
    with one_torch_thread():
        policies, games, skipped_runs = load_committed(policies_folder)
        matrices, skipped_games, played = [], {}, set()
        for run, (env, scenario, overrides) in games.items():
            label = f"{env}/{scenario}" + "".join(f" {k}={v}" for k, v in sorted(overrides.items()))
            game = labrace.make_game(env, scenario, **overrides)
            fit, left_out = fitting_policies(game, policies)
            if len(fit) < 2:
                skipped_games[label] = f"only {', '.join(f'`{n}`' for n in fit) or 'no policy'} can play it ({_grouped(left_out)})"
                continue
            if progress:
                progress(f"{label}: {len(fit)}x{len(fit)} cells of {episodes} episodes")
            cp = crossplay_matrix(game, fit, episodes, seed, name=label)
            cp.left_out = left_out
            matrices.append(cp)
            played.update(fit)
    for run in policies:
        if run not in played:
            reasons = sorted({cp.left_out[run] for cp in matrices if run in cp.left_out})
            skipped_runs[run] = "no other policy plays its game, and it plays none of theirs (" + "; ".join(reasons) + ")"
    return Study(str(policies_folder), episodes, seed, matrices, skipped_runs, skipped_games)


# --------------------------------------------------------------------------------------------
# The report section
# --------------------------------------------------------------------------------------------


def _short(game: str) -> str:
    return game.split("/", 1)[-1]


def _signed(metric: Mapping[str, Any], digits: int = 2) -> str:
    lo, hi = metric["ci95"]
    return f"{metric['mean']:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def _single_best(counts: Sequence[tuple[str, int]], columns: int) -> str:
    """"`a` is the single significant best response in 6 of the 25 (game, background) pairs and `b` in 2; …"."""
    (name, count), rest = counts[0], [f"`{n}` in {c}" for n, c in counts[1:]]
    text = f"`{name}` is the single significant best response in {count} of the {columns} (game, background) pairs"
    if len(rest) == 1:
        text += f" and {rest[0]}"
    elif rest:
        text += ", " + ", ".join(rest[:-1]) + f", and {rest[-1]}"
    return text + "; no other committed policy in any"


def _headline(study: Study, hawk: str = "misuse_hawks", dove: str = "accident_doves") -> list[str]:
    """Plain-language sentences: the hawk among doves, the significant best responses, ties,
    the equilibria and whether self-play reached a best response in each training game."""
    sentences = []
    who = {"cruel_tradeoff": "lab_0 a misuse hawk, the others accident doves", dove: "every lab an accident dove", hawk: "every lab a misuse hawk"}
    for cp in sorted(study.matrices, key=lambda cp: _short(cp.game) != "cruel_tradeoff"):
        game = _short(cp.game)
        if hawk in cp.names and dove in cp.names and game in who:
            gain = cp.difference(hawk, dove, dove)
            verdict = "a significant gain" if gain["ci95"][0] > 0 else "a significant loss" if gain["ci95"][1] < 0 else "no significant difference"
            sentences.append(
                f"In the `{game}` game ({who[game]}), lab_0 playing the `{hawk}` policy among labs playing `{dove}` earns "
                f"{cp.focal_return(hawk, dove)['mean']:.2f} per episode, against {cp.focal_return(dove, dove)['mean']:.2f} when it plays "
                f"`{dove}` too: {_signed(gain)}, {verdict}."
            )
    significant, significant_names, ties, coordinated_ties, columns = [], [], 0, 0, 0
    for cp in study.matrices:
        for background, r in best_responses(cp).items():
            columns += 1
            if r["significant"]:
                significant_names.append(r["best_response"])
                significant.append(f"`{r['best_response']}` against `{background}` in `{_short(cp.game)}` ({_signed(r['gap_to_runner_up'])} over `{r['runner_up']}`)")
                continue
            ties += 1
            rates = [cp.cells[(a, background)]["outcomes"].get("coordinated", {"rate": 0.0})["rate"] for a in r["best_set"]]
            coordinated_ties += min(rates) >= 0.95
    if columns:
        winners: dict[str, int] = {}
        for name in significant_names:
            winners[name] = winners.get(name, 0) + 1
        lead = (
            "Which learned policy is a best response to which: "
            + (_single_best(sorted(winners.items(), key=lambda item: -item[1]), columns) if winners else f"no committed policy is the single significant best response in any of the {columns} (game, background) pairs")
            + "."
        )
        sentences.insert(0, lead)
        sentences.append(
            (f"A single learned policy is the best response (beating the runner-up at 95%) in {len(significant)} of {columns} "
             f"(game, background) pairs: " + "; ".join(significant) + "." if significant else
             f"No learned policy is the single best response to any of the {columns} (game, background) pairs.")
            + (f" In the other {ties} several policies tie within the interval; in {coordinated_ties} of these every tied policy "
               "reaches the coordinated outcome in at least 95% of episodes, so they earn the same coordination value." if ties else "")
        )
    equilibria = {_short(cp.game): symmetric_equilibria(cp) for cp in study.matrices}
    if equilibria:
        sentences.append(
            "Symmetric pure equilibria of the meta-game (policies no committed policy beats significantly against themselves): "
            + "; ".join(f"`{g}`: " + (", ".join(f"`{n}`" for n in e) if e else "none") for g, e in equilibria.items())
            + "."
        )
    own = [cp for cp in study.matrices if _short(cp.game) in cp.names]
    beaten = []
    for cp in own:
        r = best_responses(cp)[_short(cp.game)]
        if not r["equilibrium"]:
            beaten.append(f"`{_short(cp.game)}` (by `{r['best_response']}`, {_signed(r['gain_over_self_play'])})")
    if own:
        sentences.append(
            f"In its own training game, a policy's self-play is beaten significantly by another committed policy in {len(beaten)} of {len(own)} games"
            + (": " + "; ".join(beaten) + ", where self-play did not reach a best response even within this small population." if beaten else ".")
        )
    return sentences


def render_section(study: Study) -> str:
    """The markdown section (``## Cross-play of the committed learned policies``) of a study."""
    policies_option = "" if Path(study.folder) == Path(DEFAULT_POLICIES) else f" --policies {study.folder}"
    lines = [HEADING, ""]
    if study.matrices:
        sentences = _headline(study)
        # the answer first (who best-responds to whom, the hawk among doves, whether self-play found a
        # best response), then the detail behind it
        answer = [sentences[0], sentences[1], sentences[-1]] if len(sentences) > 3 else sentences
        lines.append(" ".join(answer))
        if len(sentences) > 3:
            lines += ["", "*In detail.* " + " ".join(sentences[2:-1])]
    else:
        lines.append("No two committed policies can play the same game: there is no cross-play to report.")
    lines += [
        "",
        f"*How it is measured.* Each committed policy (`{study.folder}/<scenario>/`, trained by self-play in its scenario) plays lab_0 (the focal lab) while "
        "the other labs all play one other committed policy (the background), in each scenario the policies were trained in; every "
        "lab's preferences and payoffs are that scenario's, and the focal return is lab_0's return by them. "
        f"{study.episodes} episodes per cell, seed {study.seed}, the same seed in every cell (common random numbers), so differences "
        "between cells are paired per episode. Cells: focal return, mean [95% CI]; **bold**: the best response to that background "
        "(column); the diagonal is self-play. Meta-game: the best-response set holds every policy not significantly below the best "
        "(paired 95% CI); a symmetric pure equilibrium is a policy inside its own best-response set. "
        f"Regenerate: `python -m labrace.agents.crossplay{policies_option} --episodes {study.episodes} --seed {study.seed}`"
        + (" (`make crossplay`)." if (study.episodes, study.seed, policies_option) == (DEFAULT_EPISODES, DEFAULT_SEED, "") else "."),
    ]
    if study.skipped_runs or study.skipped_games:
        left_out = [f"Policy `{run}`: {why}." for run, why in study.skipped_runs.items()]
        left_out += [f"Game `{game}`: {why}." for game, why in study.skipped_games.items()]
        lines += ["", "*Left out.* " + " ".join(left_out)]
    for cp in study.matrices:
        responses = best_responses(cp)
        equilibria = symmetric_equilibria(cp, responses)
        lines += ["", f"### `{cp.game}`: focal lab_0 (rows) among background labs (columns)", ""]
        lines += ["| focal \\ background | " + " | ".join(f"`{b}`" for b in cp.names) + " |", "|---|" + "---|" * len(cp.names)]
        for a in cp.names:
            cells = []
            for b in cp.names:
                text = fmt_ci(cp.focal_return(a, b))
                cells.append(f"**{text}**" if responses[b]["best_response"] == a else text)
            lines.append(f"| `{a}` | " + " | ".join(cells) + " |")
        shown = [o for o in SHOWN_OUTCOMES if o in cp.cells[(cp.names[0], cp.names[0])].get("outcomes", {})]
        if shown:  # a constructed matrix has returns only
            lines += ["", f"Outcome rates ({' / '.join(shown)}) and how often lab_0 wins, %:", ""]
            lines += ["| focal \\ background | " + " | ".join(f"`{b}`" for b in cp.names) + " |", "|---|" + "---|" * len(cp.names)]
        for a in cp.names if shown else ():
            cells = []
            for b in cp.names:
                cell = cp.cells[(a, b)]
                rates = " / ".join(f"{100 * cell['outcomes'][o]['rate']:.0f}" for o in shown)
                cells.append(f"{rates}; wins {100 * cell['focal_wins']['rate']:.0f}")
            lines.append(f"| `{a}` | " + " | ".join(cells) + " |")
        lines += ["", "| background | self-play return | best response | its return | gain over self-play | best-response set | runner-up gap | equilibrium? |", "|---|---|---|---|---|---|---|---|"]
        for b in cp.names:
            r = responses[b]
            gap = f"{_signed(r['gap_to_runner_up'])} (`{r['runner_up']}`)" if r["runner_up"] else "n/a"
            lines.append(
                f"| `{b}` | {fmt_ci(r['self_play'])} | `{r['best_response']}`{' (significant)' if r['significant'] else ''} | {fmt_ci(r['best_return'])} | "
                f"{_signed(r['gain_over_self_play'])} | {', '.join(f'`{n}`' for n in r['best_set'])} | {gap} | {'yes' if r['equilibrium'] else 'no'} |"
            )
        lines += ["", "Symmetric pure equilibria: " + (", ".join(f"`{n}`" for n in equilibria) if equilibria else "none") + "."]
        if cp.left_out:
            lines.append(f"Cannot play this game: {_grouped(cp.left_out)}.")
    return "\n".join(lines) + "\n"


def crossplay_section(policies_folder: str | Path = DEFAULT_POLICIES, episodes: int = DEFAULT_EPISODES, seed: int = DEFAULT_SEED) -> str:
    """The report section on the cross-play of the committed policies in ``policies_folder``."""
    return render_section(run_study(policies_folder, episodes, seed))


def write_crossplay(out: str | Path = DEFAULT_OUT, policies_folder: str | Path = DEFAULT_POLICIES, episodes: int = DEFAULT_EPISODES, seed: int = DEFAULT_SEED, progress: Any = None) -> Path:
    """Write the section to ``out`` (atomically) and return its path."""
    from labrace.agents.policy import atomic_write_text

    text = render_section(run_study(policies_folder, episodes, seed, progress))
    return atomic_write_text(out, text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labrace.agents.crossplay", description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", default=DEFAULT_POLICIES, help=f"folder of finished runs (default {DEFAULT_POLICIES})")
    parser.add_argument("--episodes", type=int, default=DEFAULT_EPISODES, help=f"episodes per cell (default {DEFAULT_EPISODES})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed of every cell (default {DEFAULT_SEED})")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"markdown file to write (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error(f"--episodes must be an integer >= 1; got {args.episodes}")
    if args.seed < 0:
        parser.error(f"--seed must be an integer >= 0; got {args.seed}")
    if not Path(args.policies).is_dir():
        parser.error(f"--policies must be a folder of finished runs; {args.policies} is not a folder")
    start = time.perf_counter()
    path = write_crossplay(args.out, args.policies, args.episodes, args.seed, progress=lambda text: print(text, flush=True))
    print(f"wrote {path} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
