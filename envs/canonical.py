"""Theory vs environment tables for the canonical models (results/canonical/*.md).

``python -m labrace.envs.canonical [--out results/canonical] [--episodes N] [--seed S]`` writes

* ``precipice.md``: Armstrong, Bostrom & Shulman (2016): equilibrium disaster probability of each
  information regime, closed form vs Monte Carlo over a grid of (n, e, mu); the best unilateral
  deviation found on a grid; and where the comparative statics (more teams, more enmity, more
  information → more danger) hold or fail over the paper's parameter range;
* ``dsair.md``: Han et al. (2020): the paper's payoff matrix vs the environment's simulated
  per-round payoffs (early and late AGI), and the ``p_r`` thresholds (risk dominance, collective
  preference) vs the sign of the simulated payoff differences on either side; Han et al. (2022):
  the commitment model's 4x4 matrix vs simulation, its thresholds and the long-run SAFE share with
  and without commitments;
* ``commons.md``: the collective-risk dilemma: Milinski's treatments, the critical risk ``M/(NE)``
  vs simulated deviations over a grid, and Santos & Pacheco's gradient of selection vs simulation.

Every Monte-Carlo number is the environment's batched core played by the scripted policies of
:mod:`labrace.agents.baselines` (or fixed action profiles), seeded; ``±`` is one standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from labrace.envs import commons_v0, dsair_v0, precipice_v0

DEFAULT_OUT = "results/canonical"
DEFAULT_EPISODES = 20_000


def _command(out: str, episodes: int, seed: int) -> str:
    return f"python -m labrace.envs.canonical --out {out} --episodes {episodes} --seed {seed}"


def _header(title: str, command: str) -> list[str]:
    return [f"Regenerate with `{command}` (from the repository root).", "", f"# {title}", ""]


def _table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return lines + [""]


def _pm(mean: float, se: float, digits: int = 4) -> str:
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


# --------------------------------------------------------------------------------------------
# precipice_v0
# --------------------------------------------------------------------------------------------

PRECIPICE_TEAMS = (2, 3, 5, 10)
PRECIPICE_ENMITIES = (0.1, 0.25, 0.5, 0.75, 1.0)
PRECIPICE_RANGES = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


def _precipice_play(game: precipice_v0.PrecipiceGame, games: int, seed: int, deviation: Callable | None = None):
    from labrace.agents.baselines import make_baseline

    rng = np.random.default_rng(seed)
    state = game.reset(rng, games)
    obs = game.observe(state)
    actions = make_baseline("equilibrium", game).act(obs.reshape(-1, obs.shape[-1])).reshape(games, game.num_agents, 1)
    if deviation is not None:
        actions[:, 0, 0] = np.clip(deviation(actions[:, 0, 0]), 0.0, 1.0)
    return game.step(state, actions, rng)


def precipice_report(episodes: int, seed: int, command: str) -> str:
    P = precipice_v0
    lines = _header("precipice_v0 — Armstrong, Bostrom & Shulman (2016), theory vs environment", command)
    lines += [
        "Equilibria (derived from the model and verified here, the paper's full text being unavailable; "
        "see the module docstring of `envs/precipice_v0.py`): no information `s = min(1, mu/(n e))`; private "
        "`s(c) = min(1, c/(1+(n-1)e))`; public: leader `min(1, Delta/e)`, followers match its score.",
        "",
        f"## 1. Probability of disaster at equilibrium: closed form vs environment ({episodes} games per cell)",
        "",
    ]
    rows, worst = [], 0.0
    cell = 0
    for n in PRECIPICE_TEAMS:
        for e in (0.25, 0.5, 1.0):
            for mu in (0.25, 1.0, 4.0):
                row: list[object] = [n, e, mu]
                for information in P.INFORMATION:
                    cell += 1
                    game = P.make_game(num_labs=n, enmity=e, capability_range=mu, information=information)
                    result = _precipice_play(game, episodes, seed + cell)
                    disaster = (result.info["outcome"] == P.DISASTER).astype(float)
                    theory = P.disaster_probability(information, n, e, mu)
                    se = disaster.std() / np.sqrt(episodes)
                    z = abs(disaster.mean() - theory) / max(np.sqrt(theory * (1 - theory) / episodes), 1e-12)
                    worst = max(worst, z if theory * (1 - theory) > 0 else float(disaster.mean() > 0) * 1e9)
                    row += [f"{theory:.4f}", _pm(disaster.mean(), se)]
                rows.append(row)
    columns = ["n", "e", "mu"] + [f"{i} {k}" for i in P.INFORMATION for k in ("theory", "env")]
    lines += _table(columns, rows)
    lines += [f"Largest |env - theory| / (theory's standard error): {worst:.2f} over {cell} cells (3 would be a failure).", ""]

    lines += ["## 2. Best unilateral deviation of team 0 found on a grid (gain in expected utility; ≤ 0 up to noise)", ""]
    lines += [
        "Grid: constant safety 0, 0.1, …, 1; the equilibrium safety shifted by ±0.03, ±0.1, ±0.2, ±0.4; scaled by "
        f"0.5, 0.9, 1.1, 1.5. Common random numbers; {episodes} games each; gain ± standard error of the paired difference.",
        "",
    ]
    deviations = (
        [(f"s = {s:.1f}", lambda own, s=s: np.full_like(own, s)) for s in np.linspace(0, 1, 11)]
        + [(f"s* {d:+.2f}", lambda own, d=d: own + d) for d in (-0.4, -0.2, -0.1, -0.03, 0.03, 0.1, 0.2, 0.4)]
        + [(f"s* x {k:g}", lambda own, k=k: own * k) for k in (0.5, 0.9, 1.1, 1.5)]
    )
    rows = []
    for information in P.INFORMATION:
        for n, e, mu in ((2, 0.5, 1.0), (3, 0.2, 2.0), (5, 0.75, 0.5), (10, 1.0, 4.0)):
            game = P.make_game(num_labs=n, enmity=e, capability_range=mu, information=information)

            def utility(result, e=e):
                return np.where(result.info["first"] == 0, 1.0, 1.0 - e) * (1.0 - result.info["disaster_probability"])

            base = utility(_precipice_play(game, episodes, seed))
            best = max(
                ((name, utility(_precipice_play(game, episodes, seed, dev)) - base) for name, dev in deviations),
                key=lambda item: item[1].mean(),
            )
            gain = best[1]
            rows.append([information, n, e, mu, best[0], _pm(gain.mean(), gain.std() / np.sqrt(episodes), 5)])
    lines += _table(["information", "n", "e", "mu", "best deviation", "gain"], rows)

    lines += [
        "## 3. Comparative statics over the paper's parameter range (closed forms, validated by §1)",
        "",
        f"Grid: n ∈ {list(PRECIPICE_TEAMS)}, e ∈ {list(PRECIPICE_ENMITIES)}, mu ∈ {list(PRECIPICE_RANGES)}. "
        "A cell reads ✓ when the claim holds (weakly: equal danger counts as holding, e.g. when every team plays "
        "s = 1) for every step of the grid in that cell, otherwise it names where it fails and by how much "
        "(largest drop in P(disaster)).",
        "",
    ]
    danger = P.disaster_probability

    def verdict(values: Sequence[float], labels: Sequence[str]) -> str:
        drops = [(values[k] - values[k + 1], f"{labels[k]}→{labels[k + 1]}") for k in range(len(values) - 1)]
        failed = [(d, where) for d, where in drops if d > 1e-12]
        if not failed:
            return "✓"
        return "✗ " + ", ".join(where for _, where in failed) + f" (−{max(d for d, _ in failed):.2g})"

    summary = []
    lines += ["### 3a. More teams → more danger (cells: e × mu; steps n = 2→3→5→10)", ""]
    for information in P.INFORMATION:
        rows, holds, total = [], 0, 0
        for e in PRECIPICE_ENMITIES:
            row: list[object] = [e]
            for mu in PRECIPICE_RANGES:
                v = verdict([danger(information, n, e, mu) for n in PRECIPICE_TEAMS], [str(n) for n in PRECIPICE_TEAMS])
                row.append(v)
                holds += v == "✓"
                total += 1
            rows.append(row)
        lines += [f"**{information}** information: holds in {holds}/{total} cells", ""]
        lines += _table(["e \\ mu"] + [str(m) for m in PRECIPICE_RANGES], rows)
        summary.append(f"more teams ({information}): {holds}/{total}")
    lines += ["### 3b. More enmity → more danger (cells: n × mu; steps e = 0.1→…→1)", ""]
    for information in P.INFORMATION:
        rows, holds, total = [], 0, 0
        for n in PRECIPICE_TEAMS:
            row = [n]
            for mu in PRECIPICE_RANGES:
                v = verdict([danger(information, n, e, mu) for e in PRECIPICE_ENMITIES], [str(e) for e in PRECIPICE_ENMITIES])
                row.append(v)
                holds += v == "✓"
                total += 1
            rows.append(row)
        lines += [f"**{information}** information: holds in {holds}/{total} cells", ""]
        lines += _table(["n \\ mu"] + [str(m) for m in PRECIPICE_RANGES], rows)
        summary.append(f"more enmity ({information}): {holds}/{total}")
    lines += ["### 3c. More information → more danger (cells: e × mu; failing n listed)", ""]
    for lo, hi in (("none", "private"), ("private", "public"), ("none", "public")):
        rows, holds, total = [], 0, 0
        for e in PRECIPICE_ENMITIES:
            row = [e]
            for mu in PRECIPICE_RANGES:
                gaps = {n: danger(lo, n, e, mu) - danger(hi, n, e, mu) for n in PRECIPICE_TEAMS}
                failed = [n for n, g in gaps.items() if g > 1e-12]
                holds += len(PRECIPICE_TEAMS) - len(failed)
                total += len(PRECIPICE_TEAMS)
                row.append("✓" if not failed else f"✗ n={','.join(map(str, failed))} (−{max(gaps[n] for n in failed):.2g})")
            rows.append(row)
        lines += [f"**{lo} → {hi}**: holds in {holds}/{total} (n, e, mu) points", ""]
        lines += _table(["e \\ mu"] + [str(m) for m in PRECIPICE_RANGES], rows)
        summary.append(f"{lo}→{hi}: {holds}/{total}")
    lines += [
        "### Summary",
        "",
        "Grid points where each claim holds: " + "; ".join(summary) + ".",
        "",
        "Reading: without information and with public information, more teams and more enmity always raise the "
        "danger. With private information more enmity always does, but more teams can *lower* it (at low enmity the "
        "winner is the most capable of more teams, who can afford more safety). Knowing one's own capability "
        "(private) is never safer than no information here; public information is *safer* than private information "
        "in much of the range (e < 1 with small mu), and more dangerous elsewhere. The paper's headline "
        "'information increases the risk' therefore holds only in part of the range under these equilibria.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# dsair_v0
# --------------------------------------------------------------------------------------------


def dsair_returns(config: dsair_v0.DsairConfig, profile: Sequence[int], games: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns (E, N) and rounds (E,) of ``games`` races with every lab always playing ``profile[i]``."""
    actions = np.tile(np.asarray(profile, dtype=np.int64), (games, 1))
    return dsair_play_returns(config, lambda game, state: actions, games, seed)


def dsair_play_returns(
    config: dsair_v0.DsairConfig, act: Callable[[Any, Any], np.ndarray], games: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (E, N) and development rounds (E,) of ``games`` races, the labs playing ``act(game, state)``."""
    game = dsair_v0.DsairGame(config)
    rng = np.random.default_rng(seed)
    state = game.reset(rng, games)
    returns, rounds = np.zeros((games, config.num_labs)), np.zeros(games, dtype=np.int64)
    done = np.zeros(games, dtype=bool)
    while not done.all():
        result = game.step(state, act(game, state), rng)
        live = ~done
        returns[live] += result.rewards[live]
        ended = (result.terminated | result.truncated) & live
        rounds[ended] = state.step[ended]
        done |= ended
    return returns, rounds


def dsair_mc_matrix(config: dsair_v0.DsairConfig, games: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo 2x2 per-round payoff matrix of the row lab, and its standard errors."""
    mean, se = np.empty((2, 2)), np.empty((2, 2))
    for row in (0, 1):
        for col in (0, 1):
            returns, rounds = dsair_returns(config, (row, col), games, seed + 2 * row + col)
            per_round = returns[:, 0] / rounds
            mean[row, col], se[row, col] = per_round.mean(), per_round.std() / np.sqrt(games)
    return mean, se


def dsair_commitment_returns(
    config: dsair_v0.DsairConfig, strategies: Sequence[str], games: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Returns (E, N) and development rounds (E,) of ``games`` races with ``commitments``, lab i
    playing Han et al. (2022)'s strategy ``strategies[i]`` (``dsair_v0.STRATEGIES``)."""
    policies = [dsair_v0.CommitmentStrategy(config, name) for name in strategies]

    def act(game: Any, state: Any) -> np.ndarray:
        obs = game.observe(state)
        return np.stack([policy.act(obs[:, i]) for i, policy in enumerate(policies)], axis=1)

    return dsair_play_returns(config, act, games, seed)


def dsair_commitment_mc_matrix(config: dsair_v0.DsairConfig, games: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo 4x4 per-round payoff matrix of the row lab over ``dsair_v0.STRATEGIES``, and its
    standard errors (two labs, ``commitments`` on)."""
    size = len(dsair_v0.STRATEGIES)
    mean, se = np.empty((size, size)), np.empty((size, size))
    for row, first in enumerate(dsair_v0.STRATEGIES):
        for col, second in enumerate(dsair_v0.STRATEGIES):
            returns, rounds = dsair_commitment_returns(config, (first, second), games, seed + size * row + col)
            per_round = returns[:, 0] / rounds
            mean[row, col], se[row, col] = per_round.mean(), per_round.std() / np.sqrt(games)
    return mean, se


def _env_threshold(config: dsair_v0.DsairConfig, kind: str) -> float:
    """The env's own exact threshold (discrete rounds): SAFE rows do not depend on p_r, UNSAFE rows ∝ 1 - p_r."""
    m = dsair_v0.expected_matrix(dataclasses.replace(config, p_r=0.0))
    if kind == "risk":
        return float(1.0 - (m[0, 0] + m[0, 1]) / (m[1, 0] + m[1, 1]))
    return float(1.0 - m[0, 0] / m[1, 1])


def dsair_report(episodes: int, seed: int, command: str) -> str:
    D = dsair_v0
    games = max(episodes // 4, 500)
    lines = _header("dsair_v0 — Han, Pereira, Santos & Lenaerts (2020), theory vs environment", command)
    lines += [
        "Per-round payoff of the row lab (SAFE = S, UNSAFE = U; `SU` = SAFE against UNSAFE). `paper`: the paper's "
        "matrix; `env exact`: the environment's exact expectation in whole rounds (equal to the paper's when W/s is "
        f"an integer and the race fits in max_rounds); `env MC`: {games} simulated races per profile, ± one standard error.",
        "",
        "## 1. Payoff matrix (b = 4, c = 1)",
        "",
    ]
    rows, zs = [], []
    cases = [("early (B=10^4, W=100)", dict(B=1e4, W=100, max_rounds=100))] + [
        ("late (W=10^6, 100 rounds)", dict(B=1e4, W=10**6, max_rounds=100))
    ]
    k = 0
    for regime, params in cases:
        for s in (1.5, 2.0, 4.0):
            for p_r in (0.2, 0.5, 0.8):
                k += 1
                config = D.DsairConfig(s=s, p_r=p_r, **params)
                paper = D.payoff_matrix(config.B, config.W, s, config.b, config.c, p_r)
                exact = D.expected_matrix(config)
                mean, se = dsair_mc_matrix(config, games, seed + 10 * k)
                for i, j, name in ((0, 0, "SS"), (0, 1, "SU"), (1, 0, "US"), (1, 1, "UU")):
                    z = abs(mean[i, j] - exact[i, j]) / se[i, j] if se[i, j] > 1e-9 else 0.0
                    if se[i, j] > 1e-9:
                        zs.append(z)
                    rows.append([regime, s, p_r, name, f"{paper[i, j]:.3f}", f"{exact[i, j]:.3f}", _pm(mean[i, j], se[i, j], 3), f"{z:.1f}"])
    lines += _table(["regime", "s", "p_r", "entry", "paper", "env exact", "env MC", "|z| vs exact"], rows)
    zs_arr = np.asarray(zs)
    lines += [
        f"Random entries (UNSAFE rows): {len(zs)}; largest |z| = {zs_arr.max():.2f}; |z| > 3 in {int((zs_arr > 3).sum())} "
        f"(pure noise would give about {0.0027 * len(zs):.1f}). Deterministic entries (SAFE rows) match exactly.",
        "",
        "In the late regime the paper's entries keep the vanishing B/(2W), sB/W terms (≤ 0.01); the environment, "
        "where W is out of reach, has none. With s = 1.5 and W = 100 the race takes ceil(100/1.5) = 67 rounds, "
        "so the exact env entries differ slightly from the paper's idealised ones.",
        "",
        "## 2. Thresholds in p_r vs simulated payoffs",
        "",
        "`RD`: SAFE risk-dominates UNSAFE (Pi_SS + Pi_SU > Pi_US + Pi_UU) above this p_r; early-AGI limit 1 − 1/(3s). "
        "`CO`: all-SAFE pays more than all-UNSAFE above this p_r; early limit 1 − 1/s. Simulated: the sign of the "
        "row-sum difference (RD) and of Pi_SS − Pi_UU (CO) at the env's threshold ∓ 0.05 (expected: − below, + above).",
        "",
    ]
    rows, zone_ok = [], []
    for regime, params in cases:
        for s in (1.25, 1.5, 2.0, 3.0, 4.0, 5.0):
            k += 1
            config = D.DsairConfig(s=s, **params)
            limit_rd, limit_co = D.early_risk_dominance_threshold(s), D.early_collective_threshold(s)
            paper_rd = D.risk_dominance_threshold(config.B, config.W, s, config.b, config.c)
            paper_co = D.collective_threshold(config.B, config.W, s, config.b, config.c)
            env_rd, env_co = _env_threshold(config, "risk"), _env_threshold(config, "collective")
            checks = []
            for kind, p_star in (("RD", env_rd), ("CO", env_co)):
                signs = []
                for delta in (-0.05, 0.05):
                    p_r = float(np.clip(p_star + delta, 0.0, 1.0))
                    if not 0.0 <= p_star + delta <= 1.0:
                        signs.append("n/a")
                        continue
                    mean, se = dsair_mc_matrix(dataclasses.replace(config, p_r=p_r), games, seed + 100 * k)
                    if kind == "RD":
                        diff, noise = mean[0].sum() - mean[1].sum(), float(np.sqrt((se**2).sum()))
                    else:
                        diff, noise = mean[0, 0] - mean[1, 1], float(np.hypot(se[0, 0], se[1, 1]))
                    signs.append(f"{diff:+.2f}±{noise:.2f}")
                checks.append(" / ".join(signs))
            zone_ok.append(env_co < env_rd)
            rows.append(
                [regime, s, f"{limit_rd:.3f}", f"{paper_rd:.3f}", f"{env_rd:.3f}", checks[0], f"{limit_co:.3f}", f"{paper_co:.3f}", f"{env_co:.3f}", checks[1]]
            )
    lines += _table(
        ["regime", "s", "RD limit 1−1/(3s)", "RD paper", "RD env", "RD sim (−0.05 / +0.05)", "CO limit 1−1/s", "CO paper", "CO env", "CO sim (−0.05 / +0.05)"],
        rows,
    )
    lines += [
        "The dilemma zone (CO < p_r < RD: safety collectively preferred, UNSAFE risk-dominant) is non-empty in "
        f"{sum(zone_ok)}/{len(zone_ok)} rows. In the late regime the benefit b and cost c decide alone: with b = 4, c = 1 the thresholds no longer depend "
        "on the prize. (The late 'paper' values keep B/W = 0.01.)",
        "",
    ]
    lines += _dsair_commitment_section(games, seed)
    lines += _dsair_switching_section(games, seed)
    return "\n".join(lines)


def _dsair_switching_section(games: int, seed: int) -> list[str]:
    """Section 4 of dsair.md: with round-by-round switching a sprint beats SAFE rivals."""
    lines = [
        "## 4. Switching: a sprint beats SAFE rivals (the env's default, `switching=True`)",
        "",
        "Total return per race of lab 0 (early regime, s = 1.5, W = 100) against an always-SAFE rival: always SAFE, "
        "always UNSAFE, and a sprint of k UNSAFE rounds then SAFE; with switching the sprint wins the whole prize at a "
        "risk of p_r k / rounds, so all-SAFE is no equilibrium at any p_r. With `switching=False` (the paper's game) "
        "a lab's first play binds it, and the sprint is always-UNSAFE. Env: mean ± one standard error.",
        "",
    ]
    rows = []
    for p_r in (0.2, 0.6, 0.9):
        for switching in (True, False):
            config = dsair_v0.make_config(p_r=p_r, switching=switching)
            cells = []
            for k in (0, 100, 2, 5):  # k UNSAFE rounds first: 0 = always SAFE, 100 = always UNSAFE
                act = lambda game, state, k=k: np.column_stack([state.step < k, np.zeros(len(state.step), dtype=bool)]).astype(np.int64)  # noqa: E731
                returns, _ = dsair_play_returns(config, act, games, seed)
                cells.append(_pm(returns[:, 0].mean(), returns[:, 0].std() / np.sqrt(games), 1))
            rows.append([p_r, switching, *cells])
    lines += _table(["p_r", "switching", "always SAFE", "always UNSAFE", "sprint k = 2", "sprint k = 5"], rows)
    lines += [""]
    return lines


def _dsair_commitment_section(games: int, seed: int) -> list[str]:
    """Section 3 of dsair.md: Han et al. (2022)'s voluntary commitments with sanctions."""
    D = dsair_v0
    B, W, b, c, Z, beta = 1e4, 100, 4.0, 1.0, 100, 0.01
    games, long_run_games = max(games // 4, 500), max(games // 10, 300)  # keeps the whole report fast
    lines = [
        "## 3. Voluntary commitments with sanctions (Han, Lenaerts, Santos & Pereira 2022)",
        "",
        "Strategies: AS / AU (always SAFE / UNSAFE, never commit), VS (commits; SAFE inside an agreement, UNSAFE "
        "when none formed), VU (commits, then plays UNSAFE: a fake committer). eps = commitment cost per round, "
        "delta = fine per caught breach, q = detection probability, kappa = share of the fine paid to the complying "
        "member, gamma = development steps a caught breacher loses that round. Each cell: the per-round payoff of "
        f"the row strategy, `paper` (D.commitment_payoff_matrix) / `env MC` ({games} simulated races, ± one standard "
        "error). Early AGI, B = 10^4, W = 100, b = 4, c = 1, s = 2 (so every race length W / speed is whole and the "
        "paper's matrix is the environment's exact one).",
        "",
    ]
    cases = [
        ("p_r=0.6, eps=1, delta=40, q=1, kappa=1", dict(p_r=0.6, commitment_cost=1.0, sanction=40.0)),
        ("p_r=0.6, eps=1, delta=40, q=0.5, kappa=0.5", dict(p_r=0.6, commitment_cost=1.0, sanction=40.0, detection_probability=0.5, compensation_share=0.5)),
        ("p_r=0.3, eps=1, delta=10, q=1, gamma=1", dict(p_r=0.3, commitment_cost=1.0, sanction=10.0, sanction_speed=1.0)),
    ]
    rows, zs, gaps = [], [], []
    for k, (label, params) in enumerate(cases):
        config = D.DsairConfig(B=B, W=W, s=2.0, b=b, c=c, max_rounds=W, commitments=True, **params)
        paper = D.commitment_payoff_matrix(
            B, W, 2.0, b, c, config.p_r, config.commitment_cost, config.sanction,
            config.detection_probability, config.compensation_share, config.sanction_speed,
        )  # fmt: skip
        gaps.append(float(np.abs(paper - D.commitment_expected_matrix(config)).max()))
        mean, se = dsair_commitment_mc_matrix(config, games, seed + 1000 + 100 * k)
        for i, name in enumerate(D.STRATEGIES):
            cells = []
            for j in range(len(D.STRATEGIES)):
                if se[i, j] > 1e-9:
                    zs.append(abs(mean[i, j] - paper[i, j]) / se[i, j])
                cells.append(f"{paper[i, j]:.2f} / {_pm(mean[i, j], se[i, j], 2)}")
            rows.append([label, name] + cells)
    lines += _table(["case", "row", "vs AS", "vs AU", "vs VS", "vs VU"], rows)
    zs_arr = np.asarray(zs)
    lines += [
        f"Largest |paper − env exact| = {max(gaps):.1e}. Random entries: {len(zs)}; largest |z| = {zs_arr.max():.2f}; "
        f"|z| > 3 in {int((zs_arr > 3).sum())} (pure noise would give about {0.0027 * len(zs):.1f}). In the third case a "
        "caught VU develops at s − gamma = 1, as fast as VS: they tie and share the prize.",
        "",
        "### Thresholds and the long run",
        "",
        "`CO`: the 2020 collective threshold (all-SAFE pays more than all-UNSAFE above it); `VS≻AU`: "
        "D.commitment_risk_threshold, the p_r above which committing (VS) risk-dominates staying out and racing "
        "(AU), Pi_SS − eps > Pi_UU, with eps = 1; `RD`: the 2020 risk-dominance threshold. For each p_r: "
        "`delta VS≻VU` (D.commitment_sanction_threshold, q = kappa = 1) and `delta deter` "
        "(D.breach_deterrence_sanction: a breach against a complying member stops paying); then the long-run share "
        f"of SAFE play (AS + VS) in a population of Z = {Z} under pairwise comparison (beta = {beta}, vanishing "
        "mutation; D.stationary_distribution) without commitments (the 2x2 game) and with them at eps = 1, "
        f"delta = 20 (the `commitments` scenario), from the paper's matrix and from the environment's simulated one "
        f"({long_run_games} races per profile). "
        "`sim VS−AU`: the simulated (Pi_VS,VS + Pi_VS,AU) − (Pi_AU,VS + Pi_AU,AU) (expected sign: − below VS≻AU, + above).",
        "",
    ]
    rows, escape = [], []
    for n, s in enumerate((1.5, 2.0, 4.0)):
        co, rd = D.collective_threshold(B, W, s, b, c), D.risk_dominance_threshold(B, W, s, b, c)
        commit = D.commitment_risk_threshold(B, W, s, b, c, 1.0)
        for m, (where, p_r) in enumerate((("below CO", co - 0.1), ("dilemma zone", (commit + rd) / 2), ("above RD", min(rd + 0.05, 1.0)))):
            config = D.DsairConfig(B=B, W=W, s=s, b=b, c=c, p_r=float(p_r), max_rounds=W, commitments=True)
            paper = D.commitment_payoff_matrix(B, W, s, b, c, p_r, 1.0, 20.0)
            plain = D.stationary_distribution(D.payoff_matrix(B, W, s, b, c, p_r), Z, beta)[0]
            mean, se = dsair_commitment_mc_matrix(config, long_run_games, seed + 5000 + 10 * n + m)
            with_paper = D.stationary_distribution(paper, Z, beta)
            with_env = D.stationary_distribution(mean, Z, beta)
            diff = mean[D.VS, D.VS] + mean[D.VS, D.AU] - mean[D.AU, D.VS] - mean[D.AU, D.AU]
            noise = float(np.sqrt(se[D.VS, D.AU] ** 2 + se[D.AU, D.VS] ** 2 + se[D.AU, D.AU] ** 2))
            safe_paper, safe_env = with_paper[D.AS] + with_paper[D.VS], with_env[D.AS] + with_env[D.VS]
            escape.append((where, safe_paper, safe_env, plain))
            rows.append(
                [
                    s, f"{co:.3f}", f"{commit:.3f}", f"{rd:.3f}", f"{where} ({p_r:.3f})",
                    f"{D.commitment_sanction_threshold(B, W, s, b, c, p_r):.1f}", f"{D.breach_deterrence_sanction(B, W, s, b, c, p_r):.1f}",
                    f"{plain:.3f}", f"{safe_paper:.3f}", f"{safe_env:.3f}", f"{diff:+.2f}±{noise:.2f}",
                ]
            )  # fmt: skip
    lines += _table(
        ["s", "CO", "VS≻AU", "RD", "p_r", "delta VS≻VU", "delta deter", "SAFE share, no commitments", "SAFE share, commitments (paper)", "(env MC)", "sim VS−AU"],
        rows,
    )
    zone = [row for row in escape if row[0] == "dilemma zone"]
    below = [row for row in escape if row[0] == "below CO"]
    lines += [
        f"In the dilemma zone commitments raise the long-run SAFE share from at most {max(r[3] for r in zone):.3f} to at least "
        f"{min(r[1] for r in zone):.3f} (paper's matrix; {min(r[2] for r in zone):.3f} from the simulated one); below the "
        f"collective threshold, where UNSAFE development is socially preferable, it stays at most {max(max(r[1], r[2]) for r in below):.3f}: "
        "committing does not pay there, so voluntary commitments do not over-regulate (the paper's headline). Between CO "
        "and VS≻AU the commitment cost eps decides; the sanction thresholds are large below CO, which is why delta = 20 "
        "does not suffice there (and need not).",
        "",
    ]
    return lines


# --------------------------------------------------------------------------------------------
# commons_v0
# --------------------------------------------------------------------------------------------


def _commons_returns(config: commons_v0.CommonsConfig, actions_for_round: Callable[[int], np.ndarray], games: int, seed: int):
    game = commons_v0.CommonsGame(config)
    rng = np.random.default_rng(seed)
    state = game.reset(rng, games)
    returns = np.zeros((games, config.num_labs))
    for t in range(config.num_rounds):
        returns += game.step(state, actions_for_round(t), rng).rewards
    return returns


def commons_report(episodes: int, seed: int, command: str) -> str:
    C = commons_v0
    lines = _header("commons_v0 — collective-risk dilemma (Milinski et al. 2008; Santos & Pacheco 2011), theory vs environment", command)
    lines += [
        f"Monte Carlo: {episodes} games per cell, ± one standard error. (C1) expected payoff E − x if the group reaches M, "
        "else (1 − r)(E − x); (C2) the fair-share profile is a Nash equilibrium iff r ≥ M/(NE); (C3) Santos & Pacheco's "
        "gradient of selection.",
        "",
        "## 1. Milinski's game (N = 6, E = 40, R = 10, M = 120; menu 0 / 2 / 4 per round; r* = M/(NE) = 0.5)",
        "",
    ]
    rows = []
    for k, risk in enumerate((0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0)):
        config = C.make_config(risk=risk)
        N = config.num_labs
        fair = _commons_returns(config, lambda t: np.ones((episodes, N), dtype=np.int64), episodes, seed + k)
        free = np.r_[0, np.ones(N - 1, dtype=np.int64)][None].repeat(episodes, 0)
        deviate = _commons_returns(config, lambda t: free, episodes, seed + 100 + k)
        nobody = _commons_returns(config, lambda t: np.zeros((episodes, N), dtype=np.int64), episodes, seed + 200 + k)
        theory_dev = C.expected_payoff(0.0, 5 * 20.0, 40.0, 120.0, risk)
        gain = deviate[:, 0].mean() - fair[:, 0].mean()
        nash = C.fair_share_is_nash(risk, 120.0, N, 40.0)
        rows.append(
            [
                risk,
                "yes" if nash else "no",
                "20.00",
                _pm(fair[:, 0].mean(), fair[:, 0].std() / np.sqrt(episodes), 2),
                f"{float(theory_dev):.2f}",
                _pm(deviate[:, 0].mean(), deviate[:, 0].std() / np.sqrt(episodes), 2),
                f"{gain:+.2f}",
                f"{(1 - risk) * 40:.2f}",
                _pm(nobody[:, 0].mean(), nobody[:, 0].std() / np.sqrt(episodes), 2),
            ]
        )
    lines += _table(
        ["r", "fair share NE (C2)", "fair payoff theory", "env", "free-ride deviation theory", "env", "env gain", "nobody gives theory", "env"],
        rows,
    )

    lines += ["## 2. Critical risk M/(NE) over a grid (one round, menu {0, fair share}): simulated gain of free riding at r* ∓ 0.1", ""]
    rows = []
    k = 0
    for N, E, M in ((2, 10.0, 10.0), (3, 10.0, 6.0), (4, 10.0, 30.0), (6, 40.0, 120.0), (6, 40.0, 200.0), (10, 5.0, 45.0), (20, 1.0, 2.0)):
        r_star = C.critical_risk(M, N, E)
        cells = []
        for delta in (-0.1, 0.1):
            risk = r_star + delta
            if not 0.0 <= risk <= 1.0:
                cells.append("n/a")
                continue
            k += 1
            config = C.CommonsConfig(num_labs=N, endowment=E, num_rounds=1, threshold=M, risk=risk, levels=(0.0, 1.0))
            stay = _commons_returns(config, lambda t: np.ones((episodes, N), dtype=np.int64), episodes, seed + 300 + k)
            free = np.r_[0, np.ones(N - 1, dtype=np.int64)][None].repeat(episodes, 0)
            dev = _commons_returns(config, lambda t: free, episodes, seed + 400 + k)
            theory = float(C.expected_payoff(0.0, (N - 1) * M / N, E, M, risk) - (E - M / N))
            gain = dev[:, 0] - stay[:, 0]
            cells.append(f"theory {theory:+.3f}, env {_pm(gain.mean(), dev[:, 0].std() / np.sqrt(episodes), 3)}")
        rows.append([N, E, M, f"{r_star:.3f}"] + cells)
    lines += _table(["N", "E", "M", "r* = M/(NE)", "r* − 0.1 (free riding pays)", "r* + 0.1 (fair share is NE)"], rows)

    lines += [
        "## 3. Santos & Pacheco (2011): gradient of selection (N = 6, M_c = 3, c = 0.1, b = 1)",
        "",
        "g(x) = x(1−x)·Δf(x); Δf(x) = E[Pi_C(k+1) − Pi_D(k)], k ~ Binomial(N−1, x). Env: the focal lab cooperates or "
        "defects against the same random partners (each cooperating with probability x) and the same catastrophe draws.",
        "",
    ]
    rows, favourable = [], {}
    for risk in (0.1, 0.3, 0.6, 0.9):
        config = C.make_config("santos_pacheco", risk=risk)
        N = config.num_labs
        favourable[risk] = []
        for x in (0.1, 0.3, 0.5, 0.7, 0.9):
            k += 1
            others = (np.random.default_rng(seed + 500 + k).random((episodes, N - 1)) < x).astype(np.int64)
            payoff = [
                _commons_returns(config, lambda t, a=np.column_stack([np.full(episodes, choice), others]): a, episodes, seed + 600 + k)[:, 0]
                for choice in (0, 1)
            ]
            diff = payoff[1] - payoff[0]
            theory = float(C.santos_pacheco_gradient(x, N, 3, risk, 0.1))
            if theory > 0:
                favourable[risk].append(x)
            rows.append([risk, x, f"{theory / (x * (1 - x)):+.4f}", _pm(diff.mean(), diff.std() / np.sqrt(episodes)), f"{theory:+.4f}"])
    lines += _table(["r", "x", "Δf theory", "Δf env", "g(x) theory"], rows)
    described = "; ".join(
        f"r = {risk}: " + (f"g > 0 at x = {', '.join(map(str, xs))}" if xs else "g < 0 at every x") for risk, xs in favourable.items()
    )
    lines += [
        "As in Santos & Pacheco, higher risk opens an interior range of x where cooperators are favoured (g > 0) "
        f"between a coordination point and a coexistence point; at low risk free riding is favoured everywhere. {described}.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labrace.envs.canonical", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--episodes", type=int, default=DEFAULT_EPISODES, help=f"Monte-Carlo games per cell (default {DEFAULT_EPISODES})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.episodes < 100:
        parser.error(f"--episodes must be at least 100; got {args.episodes}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    command = _command(args.out, args.episodes, args.seed)
    for name, report in (("precipice", precipice_report), ("dsair", dsair_report), ("commons", commons_report)):
        path = out / f"{name}.md"
        path.write_text(report(args.episodes, args.seed, command))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
