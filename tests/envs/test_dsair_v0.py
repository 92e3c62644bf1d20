"""dsair_v0 reproduces Han, Pereira, Santos & Lenaerts (2020): payoff matrix and p_r thresholds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from gymnasium.utils import seeding

from labrace.agents.baselines import make_baseline
from labrace.envs import dsair_v0 as D
from labrace.envs.canonical import dsair_mc_matrix, dsair_returns


simulate = dsair_returns  # (config, profile, games, seed) -> returns (E, N), rounds (E,)


per_round_matrix = dsair_mc_matrix  # (config, games, seed) -> Monte-Carlo 2x2 matrix, standard errors


@pytest.mark.parametrize(
    "field,value",
    [("num_labs", 1), ("B", -1.0), ("W", 0), ("W", 2.5), ("s", 0.5), ("b", float("inf")), ("c", -0.1), ("p_r", 1.1), ("max_rounds", 0)],
)
def test_bad_config_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        D.make_config(**{field: value})


# --------------------------------------------------------------------------------------------
# The paper's payoff matrix
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("s", [2.0, 4.0, 5.0])
@pytest.mark.parametrize("p_r", [0.0, 0.3, 0.8])
def test_env_payoffs_equal_the_papers_matrix_when_W_over_s_is_whole(s, p_r):
    config = D.DsairConfig(W=20, B=2000.0, s=s, p_r=p_r, max_rounds=20)  # early AGI: B/W = 100
    paper = D.payoff_matrix(config.B, config.W, s, config.b, config.c, p_r)
    np.testing.assert_allclose(D.expected_matrix(config), paper, rtol=1e-12)
    games = 4_000 if p_r > 0 else 8
    mean, se = per_round_matrix(config, games, seed=int(10 * s + 100 * p_r))
    assert np.all(np.abs(mean - paper) <= 3 * se + 1e-9), (mean, paper, se)


def test_late_agi_matrix_is_the_paper_limit_without_the_prize():
    config = D.make_config("late_agi", max_rounds=30)
    paper = D.payoff_matrix(config.B, config.W, config.s, config.b, config.c, config.p_r)
    env = D.expected_matrix(config)  # the prize is never reached: the paper's B/W terms vanish
    limit = D.payoff_matrix(0.0, 1.0, config.s, config.b, config.c, config.p_r)
    np.testing.assert_allclose(env, limit, rtol=1e-12)
    assert np.abs(paper - env).max() < 0.01 * config.s  # B/W = 0.01
    mean, se = per_round_matrix(config, 4_000, seed=3)
    assert np.all(np.abs(mean - env) <= 3 * se + 1e-9)


def test_exact_returns_with_discrete_rounds():
    config = D.DsairConfig()  # W = 100, s = 1.5: UNSAFE needs ceil(100 / 1.5) = 67 rounds
    expected, rounds = D.race_returns(config, [0, 1])
    assert rounds == 67
    returns, played = simulate(dataclasses.replace(config, p_r=0.0), (0, 1), 4, seed=0)
    assert np.all(played == 67)
    np.testing.assert_allclose(returns[0], D.race_returns(dataclasses.replace(config, p_r=0.0), [0, 1])[0])
    returns, _ = simulate(config, (0, 1), 20_000, seed=1)
    se = returns.std(axis=0) / np.sqrt(len(returns))
    assert np.all(np.abs(returns.mean(axis=0) - expected) <= 3 * se + 1e-9)


# --------------------------------------------------------------------------------------------
# Thresholds: analytic boundaries vs the env's own simulated payoffs
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("s", [1.25, 2.0, 3.0, 5.0])
def test_early_agi_thresholds_are_the_papers(s):
    B, W, b, c = 1e8, 100, 4.0, 1.0  # B/W >> b, c: the early-AGI limit
    assert D.risk_dominance_threshold(B, W, s, b, c) == pytest.approx(1 - 1 / (3 * s), abs=1e-4)
    assert D.collective_threshold(B, W, s, b, c) == pytest.approx(1 - 1 / s, abs=1e-4)
    lo, hi = D.dilemma_zone(B, W, s, b, c)
    assert lo < hi  # the zone where regulation is called for is never empty


@pytest.mark.parametrize("s", [2.0, 4.0])
@pytest.mark.parametrize("scale", ["early", "late"])
def test_risk_dominance_flips_at_the_threshold_in_simulation(s, scale):
    config = D.DsairConfig(W=20, B=2000.0, s=s, max_rounds=20) if scale == "early" else D.DsairConfig(W=10**6, s=s, max_rounds=20)
    p_star = D.risk_dominance_threshold(config.B, config.W, config.s, config.b, config.c)
    if scale == "late":  # the prize is out of reach: the env's matrix is the B = 0 limit
        p_star = D.risk_dominance_threshold(0.0, 1.0, config.s, config.b, config.c)
    assert 0 < p_star < 1
    exact = D.expected_matrix(dataclasses.replace(config, p_r=p_star))
    assert exact[0].sum() == pytest.approx(exact[1].sum(), rel=1e-9)  # indifferent at the threshold
    for delta, safe_wins in ((-0.1, False), (0.1, True)):
        mean, se = per_round_matrix(dataclasses.replace(config, p_r=float(np.clip(p_star + delta, 0, 1))), 3_000, seed=5)
        advantage = mean[0].sum() - mean[1].sum()
        noise = np.sqrt((se**2).sum())
        assert (advantage > 3 * noise) if safe_wins else (advantage < -3 * noise), (delta, advantage, noise)


def test_collective_preference_flips_at_its_threshold_in_simulation():
    config = D.DsairConfig(W=20, B=2000.0, s=2.0, max_rounds=20)
    p_star = D.collective_threshold(config.B, config.W, config.s, config.b, config.c)
    for delta, safe_better in ((-0.1, False), (0.1, True)):
        cfg = dataclasses.replace(config, p_r=p_star + delta)
        safe, _ = simulate(cfg, (0, 0), 8, seed=0)
        unsafe, rounds = simulate(cfg, (1, 1), 4_000, seed=1)
        per_round = (unsafe / rounds[:, None]).ravel()
        gap = safe[:, 0].mean() / config.W - per_round.mean()
        se = per_round.std() / np.sqrt(len(per_round))
        assert (gap > 3 * se) if safe_better else (gap < -3 * se)


def test_fixation_ratio_tends_to_risk_dominance():
    for p_r in (0.5, 0.7, 0.9):
        matrix = D.payoff_matrix(1e4, 100, 1.5, 4.0, 1.0, p_r)
        safe_risk_dominant = matrix[0].sum() > matrix[1].sum()
        assert (D.fixation_ratio(matrix, Z=10_000, beta=1e-4) > 1) == safe_risk_dominant


def test_scripted_baselines():
    baseline = D.make_game("baseline")  # p_r = 0.6 in the dilemma zone: UNSAFE risk-dominates
    high = D.make_game("early_agi_high_risk")
    obs = baseline.observe(baseline.reset(np.random.default_rng(0), 3)).reshape(6, -1)
    assert np.all(make_baseline("risk_dominant", baseline).act(obs) == D.UNSAFE_ACTION)
    assert np.all(make_baseline("risk_dominant", high).act(obs) == D.SAFE_ACTION)
    reciprocator = make_baseline("reciprocator", baseline)
    assert np.all(reciprocator.act(obs) == D.SAFE_ACTION)  # first round: SAFE
    state = baseline.reset(np.random.default_rng(0), 1)
    baseline.step(state, np.array([[D.SAFE_ACTION, D.UNSAFE_ACTION]]), np.random.default_rng(0))
    np.testing.assert_array_equal(reciprocator.act(baseline.observe(state)[0]), [D.UNSAFE_ACTION, D.SAFE_ACTION])


# --------------------------------------------------------------------------------------------
# Invariants and API details
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(D.SCENARIOS))
def test_invariants_under_random_play(scenario):
    for n in (2, 5):
        game = D.make_game(scenario, num_labs=n, max_rounds=40)
        rng = np.random.default_rng(n)
        games = 500
        state = game.reset(rng, games)
        done = np.zeros(games, dtype=bool)
        while not done.all():
            result = game.step(state, rng.integers(0, 2, (games, n)), rng)
            obs = game.observe(state)
            assert np.all(obs >= 0) and np.all(obs <= 1) and obs.dtype == np.float32
            assert np.all(np.isfinite(result.rewards))
            ended = result.terminated | result.truncated
            assert not np.any(result.terminated & result.truncated)
            outcome = result.info["outcome"]
            assert np.all((outcome != D.ONGOING) == ended)  # exactly one outcome when a game ends
            assert np.all(result.truncated == (outcome == D.TIMEOUT))
            winner = result.info["winner"]
            assert np.all((winner >= 0) <= (outcome == D.WINNER))
            hazard = game.config.p_r * state.unsafe_rounds / state.step[:, None]
            assert np.all((hazard >= 0) & (hazard <= 1))
            done |= ended
            if ended.any():
                game.reset_where(state, ended, rng)


def test_batched_core_equals_the_pettingzoo_path():
    parallel = D.parallel_env(num_labs=3, W=4, s=2.0)
    parallel.reset(seed=5)
    game = D.make_game(num_labs=3, W=4, s=2.0)
    rng, _ = seeding.np_random(5)
    state = game.reset(rng, 1)
    for actions in ([0, 1, 0], [1, 1, 0]):
        _, rewards, terms, truncs, _ = parallel.step({f"lab_{i}": a for i, a in enumerate(actions)})
        result = game.step(state, np.array([actions]), rng)
        np.testing.assert_allclose(result.rewards[0], list(rewards.values()))
    assert all(terms.values())  # lab_1 reaches W = 4 after two UNSAFE rounds


# --------------------------------------------------------------------------------------------
# Property test: random valid configs and actions
# --------------------------------------------------------------------------------------------

configs = st.builds(
    D.DsairConfig,
    num_labs=st.integers(2, 10),
    B=st.floats(0.0, 1e6),
    W=st.integers(1, 60),
    s=st.floats(1.0, 10.0),
    b=st.floats(0.0, 100.0),
    c=st.floats(0.0, 10.0),
    p_r=st.floats(0.0, 1.0),
    max_rounds=st.integers(1, 40),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_for_random_configs_and_actions(config, seed):
    game = D.DsairGame(config)
    rng = np.random.default_rng(seed)
    games = 32
    state = game.reset(rng, games)
    done = np.zeros(games, dtype=bool)
    for _ in range(config.max_rounds):
        result = game.step(state, rng.integers(0, 2, (games, config.num_labs)), rng)
        obs = game.observe(state)
        assert np.all(obs >= 0) and np.all(obs <= 1)
        assert np.all(np.isfinite(result.rewards))
        ended = result.terminated | result.truncated
        assert np.all((result.info["outcome"] != D.ONGOING) == ended) and not np.any(result.terminated & result.truncated)
        done |= ended
    assert done.all()  # every race ends within max_rounds
    matrix = D.payoff_matrix(config.B, config.W, config.s, config.b, config.c, config.p_r)
    assert np.all(np.isfinite(matrix))
