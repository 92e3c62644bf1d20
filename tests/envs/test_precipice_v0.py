"""precipice_v0 reproduces Armstrong, Bostrom & Shulman (2016): equilibria, disaster rates, statics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from gymnasium.utils import seeding

from labrace.agents.baselines import make_baseline
from labrace.envs import precipice_v0 as P

REGIMES = P.INFORMATION
#: (n, e, mu): few teams / many, low / high enmity, skill matters little / a lot
CASES = [(2, 0.5, 1.0), (2, 1.0, 0.3), (3, 0.2, 2.0), (5, 0.75, 0.5), (10, 0.3, 4.0)]


def play(game: P.PrecipiceGame, games: int, seed: int, deviation=None):
    """One batched race with every team at equilibrium (team 0 optionally deviating)."""
    rng = np.random.default_rng(seed)
    state = game.reset(rng, games)
    obs = game.observe(state)
    policy = make_baseline("equilibrium", game)
    actions = policy.act(obs.reshape(-1, obs.shape[-1])).reshape(games, game.num_agents, 1)
    if deviation is not None:
        actions[:, 0, 0] = np.clip(deviation(actions[:, 0, 0], obs[:, 0]), 0.0, 1.0)
    result = game.step(state, game.check_actions(actions, games), rng)
    return state, result


def expected_utility_of_team_0(game: P.PrecipiceGame, result) -> np.ndarray:
    """(B,) team 0's utility in expectation over the disaster draw (the env's own first/p_disaster)."""
    own = result.info["first"] == 0
    return np.where(own, 1.0, 1.0 - game.config.enmity) * (1.0 - result.info["disaster_probability"])


# --------------------------------------------------------------------------------------------
# Config validation
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field,value",
    [("num_labs", 1), ("num_labs", 11), ("num_labs", 2.5), ("capability_range", 0.0), ("capability_range", float("nan")),
     ("enmity", 0.0), ("enmity", 1.5), ("information", "secret")],
)
def test_bad_config_values_raise_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        P.make_config(**{field: value})


# --------------------------------------------------------------------------------------------
# Closed forms vs the environment
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("information", REGIMES)
@pytest.mark.parametrize("n,e,mu", CASES)
def test_equilibrium_disaster_rate_matches_closed_form(information, n, e, mu):
    game = P.make_game(num_labs=n, enmity=e, capability_range=mu, information=information)
    games = 100_000
    _, result = play(game, games, seed=n * 100 + int(e * 10))
    rate = np.mean(result.info["outcome"] == P.DISASTER)
    theory = P.disaster_probability(information, n, e, mu)
    se = np.sqrt(max(theory * (1 - theory), 1e-12) / games)
    assert abs(rate - theory) <= 3 * se + 1e-12, (rate, theory, se)
    # and the per-game disaster probability the env reports averages to the same closed form
    assert abs(result.info["disaster_probability"].mean() - theory) <= 3 * se + 1e-12


DEVIATIONS = (
    [(f"constant {s:.1f}", lambda own, cap, s=s: np.full_like(own, s)) for s in np.linspace(0.0, 1.0, 11)]
    + [(f"shift {d:+.2f}", lambda own, cap, d=d: own + d) for d in (-0.4, -0.2, -0.1, -0.03, 0.03, 0.1, 0.2, 0.4)]
    + [(f"scale {k:g}", lambda own, cap, k=k: own * k) for k in (0.5, 0.9, 1.1, 1.5)]
)


@pytest.mark.parametrize("information", REGIMES)
@pytest.mark.parametrize("n,e,mu", CASES[:4])
def test_no_unilateral_deviation_beats_the_equilibrium(information, n, e, mu):
    game = P.make_game(num_labs=n, enmity=e, capability_range=mu, information=information)
    games, seed = 40_000, 7
    _, base = play(game, games, seed)
    baseline = expected_utility_of_team_0(game, base)
    for name, deviation in DEVIATIONS:  # same seed: the same capabilities (common random numbers)
        _, result = play(game, games, seed, deviation)
        gain = expected_utility_of_team_0(game, result) - baseline
        se = gain.std() / np.sqrt(games)
        assert gain.mean() <= 3 * se + 1e-9, f"{information} n={n} e={e} mu={mu}: {name} gains {gain.mean():.5f} (se {se:.5f})"


def test_public_information_ties_go_to_the_leader_and_the_follower_matches():
    game = P.make_game(information="public", enmity=0.5)
    state = game.reset(np.random.default_rng(0), 1)
    state.capability[:] = [[0.75, 0.5]]
    safety = P.public_information_safety(state.capability, 0.5)
    np.testing.assert_allclose(safety, [[0.5, 0.25]])  # leader min(1, 0.25 / 0.5); follower matches
    result = game.step(state, safety[..., None].astype(np.float32), np.random.default_rng(1))
    assert result.info["first"][0] == 0  # the scores tie; the more capable team finishes first
    overtake = game.step(state, np.array([[[0.5], [0.2]]], dtype=np.float32), np.random.default_rng(1))
    assert overtake.info["first"][0] == 1


# --------------------------------------------------------------------------------------------
# Comparative statics over the paper's parameter range (honest: where a claim fails, say so)
# --------------------------------------------------------------------------------------------

TEAMS = (2, 3, 5, 10)
ENMITIES = (0.1, 0.25, 0.5, 0.75, 1.0)
RANGES = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)


def danger(information, n, e, mu):
    return P.disaster_probability(information, n, e, mu)


def test_more_teams_and_more_enmity_are_more_dangerous_without_and_with_public_information():
    for information in ("none", "public"):
        for e in ENMITIES:
            for mu in RANGES:
                risks = [danger(information, n, e, mu) for n in TEAMS]
                assert np.all(np.diff(risks) >= -1e-12), (information, e, mu, risks)
        for n in TEAMS:
            for mu in RANGES:
                risks = [danger(information, n, e, mu) for e in ENMITIES]
                assert np.all(np.diff(risks) >= -1e-12), (information, n, mu, risks)


def test_private_information_more_enmity_is_more_dangerous_but_more_teams_not_always():
    for n in TEAMS:
        for mu in RANGES:
            risks = [danger("private", n, e, mu) for e in ENMITIES]
            assert np.all(np.diff(risks) >= -1e-12)
    # the claim "more teams, more danger" fails for private information at low enmity: the most
    # capable of more teams is more capable, and its safety c / (1 + (n-1) e) grows with it
    assert danger("private", 3, 0.1, 0.5) < danger("private", 2, 0.1, 0.5)
    assert danger("private", 3, 1.0, 0.5) > danger("private", 2, 1.0, 0.5)


def test_the_failure_of_more_teams_more_danger_shows_in_the_environment_too():
    rates = {}
    for n in (2, 3):
        game = P.make_game(num_labs=n, enmity=0.1, capability_range=0.5, information="private")
        _, result = play(game, 200_000, seed=n)
        rates[n] = result.info["disaster_probability"].mean()
    assert rates[3] < rates[2] - 0.005


def test_more_information_is_more_dangerous_only_in_part_of_the_range():
    none_private = [danger("private", n, e, mu) >= danger("none", n, e, mu) - 1e-12 for n in TEAMS for e in ENMITIES for mu in RANGES]
    private_public = [danger("public", n, e, mu) >= danger("private", n, e, mu) - 1e-12 for n in TEAMS for e in ENMITIES for mu in RANGES]
    assert all(none_private)  # knowing one's own capability never makes things safer here
    assert any(private_public) and not all(private_public)  # public vs private: it depends
    # e < 1 and small mu: public information is safer than private information
    assert danger("public", 2, 0.5, 0.5) < danger("private", 2, 0.5, 0.5)
    # large mu with maximal enmity: public information is more dangerous
    assert danger("public", 2, 1.0, 2.0) > danger("private", 2, 1.0, 2.0)


# --------------------------------------------------------------------------------------------
# Invariants and API details
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("information", REGIMES)
def test_invariants_under_random_play(information):
    for n in (2, 4, 10):
        game = P.make_game(num_labs=n, enmity=0.4, capability_range=0.8, information=information)
        rng = np.random.default_rng(n)
        state = game.reset(rng, 5_000)
        obs = game.observe(state)
        assert obs.dtype == np.float32 and np.all(obs >= game.observation_space.low) and np.all(obs <= game.observation_space.high)
        actions = rng.random((5_000, n, 1)).astype(np.float32)
        result = game.step(state, actions, rng)
        outcome, winner, first = result.info["outcome"], result.info["winner"], result.info["first"]
        assert result.terminated.all() and not result.truncated.any()
        assert np.isin(outcome, [P.SAFE, P.DISASTER]).all()  # exactly one outcome per game
        p = result.info["disaster_probability"]
        assert np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(result.rewards))
        safe = outcome == P.SAFE
        assert np.all(winner[safe] == first[safe]) and np.all(winner[~safe] == -1)
        np.testing.assert_array_equal((result.rewards == 1.0).sum(axis=1), safe.astype(int))
        assert np.all(result.rewards[~safe] == 0.0)
        assert np.all(np.isclose(result.rewards[safe], 1.0) | np.isclose(result.rewards[safe], 0.6))


def test_observation_reveals_what_the_regime_allows():
    for information, own, others in (("none", False, False), ("private", True, False), ("public", True, True)):
        game = P.make_game(num_labs=3, information=information)
        state = game.reset(np.random.default_rng(0), 4)
        obs = game.observe(state)
        assert np.any(obs[..., 0] != 0) == own
        assert np.any(obs[..., P.NUM_OWN_SLOTS :] != 0) == others
        if others:  # egocentric order: lab i sees lab i+1 first
            np.testing.assert_array_equal(obs[:, 0, P.NUM_OWN_SLOTS], state.capability[:, 1].astype(np.float32))


def test_batched_core_equals_the_pettingzoo_path():
    parallel = P.parallel_env(scenario="public", num_labs=3)
    observations, _ = parallel.reset(seed=11)
    actions = {a: np.array([0.3 + 0.2 * i], dtype=np.float32) for i, a in enumerate(parallel.agents)}
    _, rewards, terms, _, infos = parallel.step(actions)
    game = P.make_game("public", num_labs=3)
    rng, _ = seeding.np_random(11)
    state = game.reset(rng, 1)
    np.testing.assert_array_equal(game.observe(state)[0], np.stack(list(observations.values())))
    result = game.step(state, np.array([[[0.3], [0.5], [0.7]]]), rng)
    np.testing.assert_allclose(result.rewards[0], list(rewards.values()))
    assert all(terms.values()) and infos["lab_0"]["outcome"] == int(result.info["outcome"][0])


# --------------------------------------------------------------------------------------------
# Property test: random valid configs and actions
# --------------------------------------------------------------------------------------------

configs = st.builds(
    P.PrecipiceConfig,
    num_labs=st.integers(2, 10),
    capability_range=st.floats(0.01, 100.0),
    enmity=st.floats(0.001, 1.0),
    information=st.sampled_from(P.INFORMATION),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_for_random_configs_and_actions(config, seed):
    game = P.PrecipiceGame(config)
    rng = np.random.default_rng(seed)
    state = game.reset(rng, 64)
    obs = game.observe(state)
    assert np.all(obs >= game.observation_space.low) and np.all(obs <= game.observation_space.high)
    safety = np.where(rng.random((64, config.num_labs, 1)) < 0.2, rng.integers(0, 2, (64, config.num_labs, 1)), rng.random((64, config.num_labs, 1)))
    result = game.step(state, safety.astype(np.float32), rng)
    p = result.info["disaster_probability"]
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.isfinite(result.rewards))
    assert np.isin(result.info["outcome"], [P.SAFE, P.DISASTER]).all() and result.terminated.all()
    for information in P.INFORMATION:
        assert 0.0 <= P.disaster_probability(information, config.num_labs, config.enmity, config.capability_range) <= 1.0
    equilibrium = P.equilibrium_safety(config, state.capability)
    assert np.all((equilibrium >= 0) & (equilibrium <= 1))
