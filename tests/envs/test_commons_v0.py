"""commons_v0 reproduces the collective-risk dilemma (Milinski et al. 2008; Santos & Pacheco 2011)."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from gymnasium.utils import seeding

from labrace.agents.baselines import make_baseline
from labrace.envs import commons_v0 as C

FAIR, NOTHING = 1, 0  # action indices of the default menu (0, 1, 2) x fair share


def play(config: C.CommonsConfig, actions_per_round, games: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns (B, N) and outcomes (B,) of games where ``actions_per_round(t)`` gives (B, N) actions."""
    game = C.CommonsGame(config)
    rng = np.random.default_rng(seed)
    state = game.reset(rng, games)
    returns = np.zeros((games, config.num_labs))
    for t in range(config.num_rounds):
        result = game.step(state, actions_per_round(t), rng)
        returns += result.rewards
    assert result.terminated.all()
    return returns, result.info["outcome"].copy()


@pytest.mark.parametrize(
    "field,value",
    [("num_labs", 1), ("endowment", 0.0), ("num_rounds", 0), ("threshold", 0.0), ("threshold", 1000.0),
     ("risk", 1.5), ("risk", float("nan")), ("levels", ()), ("levels", (0.0, -1.0)), ("levels", "012"), ("levels", (0.0, 5e-324)),
     ("catastrophe_loss", "nothing")],
)
def test_bad_config_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        C.make_config(**{field: value})


def test_menu_is_milinskis_0_2_4_euros():
    config = C.make_config()
    assert config.fair_share_per_round == 2.0
    assert config.menu == (("nothing", 0.0), ("fair_share", 2.0), ("double_share", 4.0))


# --------------------------------------------------------------------------------------------
# (C1, C2): expected payoffs and when the fair share is a Nash equilibrium
# --------------------------------------------------------------------------------------------


def test_everyone_at_fair_share_meets_the_target_and_keeps_E_minus_M_over_N():
    config = C.make_config()
    returns, outcome = play(config, lambda t: np.full((10, 6), FAIR), 10, 0)
    assert np.all(outcome == C.TARGET_MET)
    np.testing.assert_allclose(returns, config.endowment - config.threshold / config.num_labs)


@pytest.mark.parametrize("risk", [0.1, 0.3, 0.5, 0.7, 0.9])
def test_unilateral_deviations_from_fair_share_match_C1_and_C2(risk):
    config = C.make_config(risk=risk)
    games, N, R = 20_000, config.num_labs, config.num_rounds
    fair_payoff = config.endowment - config.threshold / N
    best_gain = -np.inf
    for rounds_given in range(R + 1):  # lab 0 gives the fair share for this many rounds, then nothing
        def actions(t, rounds_given=rounds_given):
            a = np.full((games, N), FAIR)
            a[:, 0] = FAIR if t < rounds_given else NOTHING
            return a

        returns, _ = play(config, actions, games, seed=rounds_given)
        own = rounds_given * config.fair_share_per_round
        group = own + (N - 1) * config.threshold / N
        theory = C.expected_payoff(own, group, config.endowment, config.threshold, risk)
        se = returns[:, 0].std() / np.sqrt(games)
        assert abs(returns[:, 0].mean() - theory) <= 3 * se + 1e-9
        best_gain = max(best_gain, float(theory - fair_payoff))
    # (C2): no deviation pays iff r >= M / (N E) = 0.5
    assert (best_gain <= 1e-9) == C.fair_share_is_nash(risk, config.threshold, N, config.endowment)
    assert C.fair_share_is_nash(risk, config.threshold, N, config.endowment) == (risk >= 0.5)


def test_critical_risk_over_a_grid_matches_simulated_best_deviation():
    games = 20_000
    for N, E, M in ((2, 10.0, 10.0), (4, 10.0, 30.0), (6, 40.0, 60.0), (10, 5.0, 45.0)):
        r_star = C.critical_risk(M, N, E)
        for risk in (max(r_star - 0.1, 0.0), min(r_star + 0.1, 1.0)):
            config = C.CommonsConfig(num_labs=N, endowment=E, num_rounds=1, threshold=M, risk=risk, levels=(0.0, 1.0))
            stay, _ = play(config, lambda t: np.ones((games, N), dtype=np.int64), games, 0)
            deviate, _ = play(config, lambda t: np.r_[0, np.ones(N - 1, dtype=np.int64)][None].repeat(games, 0), games, 1)
            gain = deviate[:, 0].mean() - stay[:, 0].mean()
            se = deviate[:, 0].std() / np.sqrt(games)
            if risk < r_star:
                assert gain > 3 * se, (N, E, M, risk, gain)
            else:
                assert gain < -3 * se, (N, E, M, risk, gain)


def test_nobody_contributing_keeps_E_with_probability_1_minus_r():
    config = C.make_config()
    returns, outcome = play(config, lambda t: np.zeros((50_000, 6), dtype=np.int64), 50_000, 2)
    se = returns[:, 0].std() / np.sqrt(len(returns))
    assert abs(returns[:, 0].mean() - (1 - config.risk) * config.endowment) <= 3 * se
    assert set(np.unique(outcome)) == {C.CATASTROPHE, C.SPARED}


# --------------------------------------------------------------------------------------------
# (C3): Santos & Pacheco's threshold game
# --------------------------------------------------------------------------------------------


def test_santos_pacheco_payoffs_in_the_one_shot_scenario():
    config = C.make_config("santos_pacheco")
    N, M_c, c = config.num_labs, 3, 0.1
    assert config.menu[1][1] == pytest.approx(c * config.endowment)  # a cooperator gives c b
    for k in range(N + 1):  # k cooperators: labs 0..k-1
        actions = (np.arange(N) < k).astype(np.int64)[None].repeat(20_000, 0)
        returns, _ = play(config, lambda t: actions, 20_000, seed=k)
        defector, cooperator = C.santos_pacheco_payoffs(k, N, M_c, config.risk, config.endowment, c)
        for lab, theory in ((0, cooperator), (N - 1, defector)):
            if (lab == 0 and k == 0) or (lab == N - 1 and k == N):
                continue  # no cooperator / no defector in this group
            se = returns[:, lab].std() / np.sqrt(len(returns))
            assert abs(returns[:, lab].mean() - theory) <= 3 * se + 1e-12


@pytest.mark.parametrize("x", [0.2, 0.5, 0.8])
def test_santos_pacheco_gradient_matches_simulated_fitness_difference(x):
    config = C.make_config("santos_pacheco")
    N, games = config.num_labs, 50_000
    others = (np.random.default_rng(9).random((games, N - 1)) < x).astype(np.int64)
    payoff = {}
    for choice in (0, 1):  # the same partners and the same catastrophe draws (seed) for both choices
        actions = np.column_stack([np.full(games, choice), others])
        returns, _ = play(config, lambda t: actions, games, seed=4)
        payoff[choice] = returns[:, 0]
    difference = payoff[1] - payoff[0]
    theory = C.santos_pacheco_gradient(x, N, 3, config.risk, 0.1) / (x * (1 - x))
    se = difference.std() / np.sqrt(games)
    assert abs(difference.mean() - theory) <= 3 * se + 1e-12


# --------------------------------------------------------------------------------------------
# Invariants, baselines, API details
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", sorted(C.SCENARIOS))
def test_invariants_under_random_play(scenario):
    game = C.make_game(scenario)
    config = game.config
    rng = np.random.default_rng(0)
    games = 2_000
    state = game.reset(rng, games)
    for t in range(config.num_rounds):
        result = game.step(state, rng.integers(0, game.action_space.n, (games, config.num_labs)), rng)
        obs = game.observe(state)
        assert np.all(obs >= game.observation_space.low) and np.all(obs <= game.observation_space.high)
        np.testing.assert_allclose(state.kept + state.contributed, config.endowment)
        assert np.all(state.kept >= 0) and np.all(np.isfinite(result.rewards))
        outcome = result.info["outcome"]
        if t < config.num_rounds - 1:
            assert not result.terminated.any() and np.all(outcome == C.ONGOING) and np.all(result.rewards == 0)
        else:
            assert result.terminated.all() and not result.truncated.any()
            assert np.isin(outcome, [C.TARGET_MET, C.CATASTROPHE, C.SPARED]).all()
            struck = outcome == C.CATASTROPHE
            loss = state.kept if config.catastrophe_loss == "kept" else config.endowment
            np.testing.assert_allclose(result.rewards[struck], (state.kept - loss)[struck])
            np.testing.assert_allclose(result.rewards[~struck], state.kept[~struck])
            assert np.all((outcome == C.TARGET_MET) == (state.contributed.sum(axis=1) >= config.threshold * (1 - 1e-9)))


def test_contributions_are_capped_by_holdings():
    config = C.make_config(levels=(0.0, 5.0))  # 10 per round asked; 40 held
    returns, outcome = play(config, lambda t: np.ones((3, 6), dtype=np.int64), 3, 0)
    assert np.all(returns == 0.0) and np.all(outcome == C.TARGET_MET)


def test_scripted_baselines():
    for scenario, expected in (("baseline", FAIR), ("milinski_50", FAIR), ("milinski_10", NOTHING)):
        game = C.make_game(scenario)
        obs = game.observe(game.reset(np.random.default_rng(0), 2)).reshape(12, -1)
        assert np.all(make_baseline("equilibrium", game).act(obs) == expected)
        assert np.all(make_baseline("fair_share", game).act(obs) == FAIR)
        assert np.all(make_baseline("free_rider", game).act(obs) == NOTHING)
        assert np.all(make_baseline("altruist", game).act(obs) == 2)
    game = C.make_game("santos_pacheco")
    obs = game.observe(game.reset(np.random.default_rng(0), 1))[0]
    assert np.all(make_baseline("fair_share", game).act(obs) == 1)  # nearest to 1 fair share: cooperate


def test_batched_core_equals_the_pettingzoo_path():
    parallel = C.parallel_env(num_rounds=2, risk=0.5)
    parallel.reset(seed=3)
    game = C.make_game(num_rounds=2, risk=0.5)
    rng, _ = seeding.np_random(3)
    state = game.reset(rng, 1)
    for actions in ([0, 1, 2, 0, 1, 2], [0, 0, 0, 1, 1, 1]):
        _, rewards, terms, _, infos = parallel.step({f"lab_{i}": a for i, a in enumerate(actions)})
        result = game.step(state, np.array([actions]), rng)
        np.testing.assert_allclose(result.rewards[0], list(rewards.values()))
    assert all(terms.values()) and infos["lab_0"]["outcome"] == int(result.info["outcome"][0])


# --------------------------------------------------------------------------------------------
# Property test: random valid configs and actions
# --------------------------------------------------------------------------------------------


@st.composite
def configs(draw):
    N = draw(st.integers(2, 20))
    E = draw(st.floats(0.1, 100.0))
    return C.CommonsConfig(
        num_labs=N,
        endowment=E,
        num_rounds=draw(st.integers(1, 12)),
        threshold=draw(st.floats(0.01, 1.0)) * N * E,
        risk=draw(st.floats(0.0, 1.0)),
        # the valid domain: each level 0 or at least C.MIN_POSITIVE_LEVEL
        levels=tuple(draw(st.lists(st.one_of(st.just(0.0), st.floats(C.MIN_POSITIVE_LEVEL, 5.0)), min_size=1, max_size=5, unique=True).filter(lambda v: max(v) > 0))),
        catastrophe_loss=draw(st.sampled_from(C.LOSS_RULES)),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_for_random_configs_and_actions(config, seed):
    game = C.CommonsGame(config)
    rng = np.random.default_rng(seed)
    games = 32
    state = game.reset(rng, games)
    for t in range(config.num_rounds):
        result = game.step(state, rng.integers(0, game.action_space.n, (games, config.num_labs)), rng)
        obs = game.observe(state)
        assert np.all(obs >= game.observation_space.low) and np.all(obs <= game.observation_space.high)
        assert np.all(state.kept >= 0) and np.all(np.isfinite(result.rewards))
        np.testing.assert_allclose(state.kept + state.contributed, config.endowment)
    assert result.terminated.all() and np.isin(result.info["outcome"], [C.TARGET_MET, C.CATASTROPHE, C.SPARED]).all()
    assert 0.0 < C.critical_risk(config.threshold, config.num_labs, config.endowment) <= 1.0


# --------------------------------------------------------------------------------------------
# The threshold follows the number of labs; the equilibrium baseline is a Nash equilibrium
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", list(C.SCENARIOS))
@pytest.mark.parametrize("num_labs", [2, 3, 6, 20])
def test_every_scenario_takes_any_number_of_labs_keeping_its_threshold_share(scenario, num_labs):
    base = C.make_config(scenario)
    config = C.make_config(scenario, num_labs=num_labs)
    share = base.threshold / (base.num_labs * base.endowment)
    assert config.threshold == pytest.approx(share * num_labs * config.endowment)
    assert C.critical_risk(config.threshold, num_labs, config.endowment) == pytest.approx(share)
    C.parallel_env(scenario, num_labs=num_labs).reset(seed=0)


def test_an_explicit_threshold_wins_and_a_bad_one_says_which_field_to_set():
    assert C.CommonsConfig(num_labs=2).threshold == 40.0  # None: half the group's endowment
    assert C.make_config(num_labs=2, threshold=30.0).threshold == 30.0
    assert C.make_config(endowment=20.0).threshold == 60.0
    with pytest.raises(ValueError, match=r"threshold must be in \(0, num_labs \* endowment\] = \(0, 80\].*got 120: set threshold"):
        C.make_config(num_labs=2, threshold=120.0)


def _deviation_payoffs(config: C.CommonsConfig, level: float) -> tuple[float, float]:
    """(payoff of the symmetric profile at ``level``, best payoff of a lone deviator) by brute force
    over every sequence of menu levels (as multisets: only the total matters), with (C1)."""
    from itertools import combinations_with_replacement

    f, E = config.fair_share_per_round, config.endowment
    own = min(config.num_rounds * level * f, E)
    others = (config.num_labs - 1) * own

    def payoff(total):
        return float(C.expected_payoff(total, others + total, E, config.threshold, config.risk, config.catastrophe_loss))

    totals = {min(sum(levels) * f, E) for levels in combinations_with_replacement(config.levels, config.num_rounds)}
    return payoff(own), max(payoff(total) for total in totals)


@pytest.mark.parametrize("scenario", list(C.SCENARIOS))
@pytest.mark.parametrize("num_labs", [3, 6])
def test_the_equilibrium_baseline_is_a_nash_equilibrium(scenario, num_labs):
    game = C.make_game(scenario, num_labs=num_labs)
    obs = game.observe(game.reset(np.random.default_rng(0), 1))[0]
    level = game.config.levels[int(make_baseline("equilibrium", game).act(obs)[0])]
    played, best_deviation = _deviation_payoffs(game.config, level)
    assert best_deviation <= played + 1e-9, (level, played, best_deviation)
    assert C.symmetric_deviation_gain(game.config, level) == pytest.approx(best_deviation - played, abs=1e-9)


def test_santos_pacheco_everyone_cooperating_overshoots_and_is_not_the_equilibrium():
    config = C.make_config("santos_pacheco")  # 3 cooperators of 6 meet the threshold
    played, best_deviation = _deviation_payoffs(config, 2.0)
    assert (played, best_deviation) == pytest.approx((0.9, 1.0))  # a defector keeps 1.0
    assert C.symmetric_deviation_gain(config, 2.0) == pytest.approx(0.1)
    game = C.make_game("santos_pacheco")
    obs = game.observe(game.reset(np.random.default_rng(0), 1))[0]
    assert np.all(make_baseline("equilibrium", game).act(obs) == 0)  # everyone defecting: 0.7 each, no lone gain


@pytest.mark.parametrize("levels", [(0.0, 1.0, 2.0), (0.0, 0.5, 1.0, 2.0), (0.5, 1.5), (0.0, 3.0)])
@pytest.mark.parametrize("risk", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("catastrophe_loss", C.LOSS_RULES)
def test_symmetric_deviation_gain_matches_brute_force(levels, risk, catastrophe_loss):
    config = C.make_config(num_labs=4, num_rounds=4, levels=levels, risk=risk, catastrophe_loss=catastrophe_loss)
    for level in levels:
        played, best_deviation = _deviation_payoffs(config, level)
        assert C.symmetric_payoff(config, level) == pytest.approx(played)
        assert C.symmetric_deviation_gain(config, level) == pytest.approx(best_deviation - played, abs=1e-9)
