"""dsair_v0 reproduces Han, Pereira, Santos & Lenaerts (2020): payoff matrix and p_r thresholds;
and Han, Lenaerts, Santos & Pereira (2022): voluntary commitments with sanctions (off by default)."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from gymnasium.utils import seeding

from labrace.agents.baselines import make_baseline
from labrace.envs import dsair_v0 as D
from labrace.envs.canonical import dsair_commitment_mc_matrix, dsair_commitment_returns, dsair_mc_matrix, dsair_play_returns, dsair_returns


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
            # (games, n) plays; (games, n, 2) (play, commit) where a scenario has commitments
            result = game.step(state, rng.integers(0, 2, (games, n) + game.action_space.shape), rng)
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
            hazard = game.config.p_r * state.unsafe_rounds / np.maximum(state.step, 1)[:, None]  # 0 rounds after a commitment stage
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


# ============================================================================================
# Voluntary commitments with sanctions (Han, Lenaerts, Santos & Pereira 2022)
# ============================================================================================

COMMITMENT_DEFAULTS = dict(
    commitments=False, commitment_cost=1.0, sanction=20.0, detection_probability=1.0, compensation_share=1.0, sanction_speed=0.0
)
BAD_COMMITMENT_VALUES = [
    ("commitments", 1, "True or False"),
    ("commitments", "yes", "True or False"),
    ("commitment_cost", -0.5, r"\[0.0, 1000000.0\]"),
    ("commitment_cost", float("nan"), r"\[0.0, 1000000.0\]"),
    ("sanction", -1.0, r"\[0.0, 1000000.0\]"),
    ("sanction", 2e6, r"\[0.0, 1000000.0\]"),
    ("sanction", "high", r"\[0.0, 1000000.0\]"),
    ("detection_probability", 1.5, r"\[0.0, 1.0\]"),
    ("detection_probability", -0.1, r"\[0.0, 1.0\]"),
    ("compensation_share", 1.1, r"\[0.0, 1.0\]"),
    ("compensation_share", None, r"\[0.0, 1.0\]"),
    ("sanction_speed", -1.0, r"\[0.0, 100.0\]"),
    ("sanction_speed", float("inf"), r"\[0.0, 100.0\]"),
    ("sanction_speed", 101.0, r"\[0.0, 100.0\]"),
]


@pytest.mark.parametrize("field,value,allowed", BAD_COMMITMENT_VALUES)
def test_bad_commitment_values_raise_naming_the_field_and_range(field, value, allowed):
    with pytest.raises(ValueError, match=rf"{field} must be .*{allowed}"):
        D.make_config(**{field: value})
    with pytest.raises(ValueError, match=field):
        D.parallel_env(scenario="commitments", **{field: value})


def test_commitment_fields_default_off_keep_the_spaces():
    config = D.DsairConfig()
    assert {name: getattr(config, name) for name in COMMITMENT_DEFAULTS} == COMMITMENT_DEFAULTS
    for n in (2, 5):
        game = D.make_game(num_labs=n, commitment_cost=3.0, sanction_speed=1.0)  # inert: commitments off
        assert game.action_space == spaces.Discrete(2)
        assert game.observation_space.shape == (4 + 2 * (n - 1),) == (game.config.observation_size,)
        assert game.observation_slots == D.observation_slots(n)
        assert game.background == "risk_dominant"


def test_commitment_scenarios():
    assert D.make_config("commitments") == dataclasses.replace(D.make_config("baseline"), commitments=True)
    assert D.make_config("commitments_low_risk") == dataclasses.replace(D.make_config("early_agi"), commitments=True)
    assert "commitments = True" in str(D.SCENARIOS["commitments"])
    game = D.make_game("commitments", num_labs=3)
    assert game.action_space == spaces.MultiDiscrete([2, 2])
    assert game.observation_space.shape == (7 + 4 * 2,) == (game.config.observation_size,)
    assert game.observation_slots[8:] == [
        "commitment_stage", "member", "sanctioned",
        "other_1_member", "other_1_sanctioned", "other_2_member", "other_2_sanctioned",
    ]  # fmt: skip


def test_commitments_are_documented_in_the_module():
    doc = D.__doc__
    for name in list(COMMITMENT_DEFAULTS) + [
        "Han, Lenaerts, Santos & Pereira (2022)", "MultiDiscrete([2, 2])", "commitment stage", "commitment_stage",
        "member", "sanctioned", "compensation", "commitment_cost", "AS", "AU", "VS", "VU", "Provenance",
        "could not be retrieved",
    ]:  # fmt: skip
        assert name in doc, name


# --------------------------------------------------------------------------------------------
# With commitments off nothing changes (pinned before the lever was added)
# --------------------------------------------------------------------------------------------


def parallel_trace(env, seed, steps=400):
    rng = np.random.default_rng(11)
    obs, _ = env.reset(seed=seed)
    out = [np.concatenate(list(obs.values()))]
    for _ in range(steps):
        if not env.agents:
            obs, _ = env.reset()
            out.append(np.concatenate(list(obs.values())))
        actions = {a: int(rng.integers(0, 2)) for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        out.append(np.concatenate(list(obs.values()) + [np.array(list(rewards.values()))]))
        info = infos["lab_0"]
        out.append(np.array([float(next(iter(terms.values()))), float(next(iter(truncs.values()))), float(info["outcome"]), float(info["winner"])]))
    return np.concatenate([o.astype(np.float64) for o in out])


def batched_trace(game, steps=300, games=64, seed=3):
    rng = np.random.default_rng(seed)
    state = game.reset(rng, games)
    out = [game.observe(state)]
    for _ in range(steps):
        r = game.step(state, rng.integers(0, 2, (games, game.num_agents)), rng)
        out += [game.observe(state), r.rewards, r.terminated, r.truncated, r.info["outcome"], r.info["winner"], r.info["disaster"], r.info["prize"]]
        ended = r.terminated | r.truncated
        if ended.any():
            game.reset_where(state, ended, rng)
    return np.concatenate([np.asarray(o, dtype=np.float64).ravel() for o in out])


def digest(trace):
    return hashlib.sha256(trace.tobytes()).hexdigest()


#: sha256 of the traces, computed with dsair_v0 as it was before commitments were added
PINNED_PARALLEL = [
    ({}, "c6023e9954f5211ff768d2b727dd2fb13b9866babe6bc7e56fb250fcfd5854cd"),
    ({"num_labs": 3, "W": 12, "s": 2.0, "max_rounds": 15}, "8042f31262002310d80fa47df87d4a5db1713141a1cf9a59827b299a3f85fa1f"),
    ({"scenario": "late_agi", "max_rounds": 30}, "69b4f4cbe2f4dc183aec6384cdb9710fa469f550a71a30bd956fe2053e9263f6"),
]
PINNED_BATCHED = [
    ({}, "0b45fe2bca7b1fdc8bb083be47860dd9eaec4d559eb8de36c5bee1a46ba5ca95"),
    ({"num_labs": 4, "W": 10, "s": 1.7, "max_rounds": 12, "p_r": 0.9}, "c04f1a8c1c613803895f7d91aabed6f8a8ff7aa0e00881565078af97ac49261f"),
]
INERT = dict(commitment_cost=7.0, sanction=3.0, detection_probability=0.3, compensation_share=0.2, sanction_speed=1.0)


@pytest.mark.parametrize("overrides,expected", PINNED_PARALLEL)
def test_commitments_off_episodes_are_those_pinned_before_the_lever(overrides, expected):
    assert digest(parallel_trace(D.parallel_env(**overrides), seed=5)) == expected
    assert digest(parallel_trace(D.parallel_env(**overrides, **INERT), seed=5)) == expected


@pytest.mark.parametrize("overrides,expected", PINNED_BATCHED)
def test_commitments_off_batched_core_is_the_one_pinned_before_the_lever(overrides, expected):
    assert digest(batched_trace(D.make_game(**overrides))) == expected
    assert digest(batched_trace(D.make_game(**overrides, **INERT))) == expected


def test_info_keys_are_the_same_numeric_keys_with_commitments_on_or_off():
    keys = None
    for scenario in ("baseline", "commitments"):
        env = D.parallel_env(scenario=scenario)
        _, infos = env.reset(seed=0)
        for agent in env.agents:
            env.action_space(agent).seed(0)
        while env.agents:
            for info in infos.values():
                keys = keys or set(info)
                assert set(info) == keys and all(isinstance(v, (int, float)) for v in info.values())
            _, _, _, _, infos = env.step({a: env.action_space(a).sample() for a in env.agents})
    assert {"member", "sanctioned", "sanction", "compensation", "commitment_cost"} <= keys
    _, infos = D.parallel_env().reset(seed=0)
    assert all(infos["lab_0"][k] == 0 for k in ("member", "sanctioned", "sanction", "compensation", "commitment_cost"))


# --------------------------------------------------------------------------------------------
# The commitment stage, sanctions and compensation, on states built directly
# --------------------------------------------------------------------------------------------


def commit_actions(plays, commits):
    return np.stack([np.asarray(plays), np.asarray(commits)], axis=-1).astype(np.int64)


def test_the_commitment_stage_forms_a_public_agreement_among_two_or_more_committers():
    config = D.DsairConfig(num_labs=3, commitments=True)
    game = D.DsairGame(config)
    rng = np.random.default_rng(0)
    state = game.reset(rng, 4)
    base = config.base_observation_size
    obs = game.observe(state)
    assert np.all(obs[..., base] == 1) and np.all(obs[..., base + 1 :] == 0)  # stage next, nobody a member
    commits = [[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]]
    result = game.step(state, commit_actions(np.ones((4, 3)), commits), rng)  # plays are ignored in the stage
    np.testing.assert_array_equal(state.member, [[1, 1, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1]])  # a lone committer is no member
    assert np.all(result.rewards == 0) and not result.terminated.any() and not result.truncated.any()
    assert np.all(state.step == 0) and np.all(state.progress == 0) and np.all(state.unsafe_rounds == 0) and np.all(state.last_action == 0)
    obs = game.observe(state)
    assert np.all(obs[..., base] == 0) and np.all(obs[..., 1] == 0)
    np.testing.assert_array_equal(obs[0, :, base + 1], [1, 1, 0])  # own member slot
    np.testing.assert_array_equal(obs[0, 0, base + 3 :: 2], [1, 0])  # lab_0 sees lab_1, then lab_2
    np.testing.assert_array_equal(obs[0, 2, base + 3 :: 2], [1, 1])  # lab_2 sees lab_0, then lab_1
    infos = game.agent_infos(state, result, 0)
    assert [i["member"] for i in infos] == [1, 1, 0] and all(i["commitment_cost"] == 0.0 and i["rounds"] == 0 for i in infos)
    game.step(state, commit_actions(np.zeros((4, 3)), 1 - np.asarray(commits)), rng)  # commit parts now ignored
    np.testing.assert_array_equal(state.member, [[1, 1, 0], [0, 0, 0], [0, 0, 0], [1, 1, 1]])
    assert np.all(state.step == 1) and np.all(state.progress == 1)


def test_a_caught_breach_is_fined_slowed_and_compensates_the_complying_members():
    config = D.DsairConfig(
        num_labs=4, W=100, s=2.0, b=4.0, c=1.0, p_r=0.0, commitments=True, commitment_cost=1.5, sanction=6.0,
        compensation_share=0.5, sanction_speed=0.5,
    )  # fmt: skip
    game = D.DsairGame(config)
    rng = np.random.default_rng(0)
    state = game.reset(rng, 3)
    game.step(state, commit_actions(np.zeros((3, 4)), [[1, 1, 1, 0]] * 3), rng)
    # lab_0 breaches; lab_1, lab_2 keep the agreement; lab_3 (no member) races unsanctioned
    result = game.step(state, commit_actions([[1, 0, 0, 1]] * 3, np.zeros((3, 4))), rng)
    speed = np.array([1.5, 1.0, 1.0, 2.0])
    benefit = 4.0 * speed / speed.sum()
    expected = benefit - np.array([1.5 + 6.0, 1.0 + 1.5 - 1.5, 1.0 + 1.5 - 1.5, 0.0])  # each complier gets 0.5 * 6 / 2
    np.testing.assert_allclose(result.rewards, np.tile(expected, (3, 1)))
    np.testing.assert_allclose(state.progress, np.tile(speed, (3, 1)))
    np.testing.assert_array_equal(result.info["sanctioned"], [[1, 0, 0, 0]] * 3)
    np.testing.assert_allclose(result.info["compensation"], [[0, 1.5, 1.5, 0]] * 3)
    infos = game.agent_infos(state, result, 0)
    assert [i["sanction"] for i in infos] == [6.0, 0.0, 0.0, 0.0]
    assert [i["commitment_cost"] for i in infos] == [1.5, 1.5, 1.5, 0.0]
    obs = game.observe(state)
    base = config.base_observation_size
    assert obs[0, 0, base + 2] == 1 and obs[0, 1, base + 2] == 0
    np.testing.assert_array_equal(obs[0, 1, base + 4 :: 2], [0, 0, 1])  # lab_1 sees lab_2, lab_3, lab_0 sanctioned
    # every member breaches: each is fined, nobody complied, so nobody is compensated
    result = game.step(state, commit_actions(np.ones((3, 4)), np.zeros((3, 4))), rng)
    np.testing.assert_allclose(result.info["sanction"], [[6, 6, 6, 0]] * 3)
    assert np.all(result.info["compensation"] == 0)


def test_breaches_are_caught_with_the_detection_probability():
    for q, expected in ((0.3, 0.3), (0.0, 0.0), (1.0, 1.0)):
        config = D.DsairConfig(commitments=True, detection_probability=q, p_r=0.0)
        game = D.DsairGame(config)
        rng = np.random.default_rng(1)
        state = game.reset(rng, 5000)
        game.step(state, commit_actions(np.zeros((5000, 2)), np.ones((5000, 2))), rng)
        result = game.step(state, commit_actions([[1, 0]] * 5000, np.zeros((5000, 2))), rng)
        caught = result.info["sanctioned"][:, 0]
        assert abs(caught.mean() - expected) <= 4 * np.sqrt(expected * (1 - expected) / 5000) + 1e-12
        assert not result.info["sanctioned"][:, 1].any()  # keeping the agreement is never sanctioned
        np.testing.assert_allclose(result.info["compensation"][:, 1], config.sanction * caught)


def test_non_members_and_lone_committers_pay_nothing_and_are_never_sanctioned():
    config = D.DsairConfig(commitments=True, p_r=0.0, commitment_cost=5.0)
    game = D.DsairGame(config)
    rng = np.random.default_rng(0)
    state = game.reset(rng, 2)
    game.step(state, commit_actions(np.zeros((2, 2)), [[1, 0], [0, 0]]), rng)
    result = game.step(state, commit_actions(np.ones((2, 2)), np.zeros((2, 2))), rng)
    plain = D.DsairGame(D.DsairConfig(p_r=0.0))
    plain_state = plain.reset(rng, 2)
    np.testing.assert_allclose(result.rewards, plain.step(plain_state, np.ones((2, 2), dtype=np.int64), rng).rewards)
    assert not state.member.any() and not state.sanctioned.any()


# --------------------------------------------------------------------------------------------
# The commitment model's closed forms vs the environment
# --------------------------------------------------------------------------------------------


def test_the_commitment_matrix_extends_the_2020_matrix():
    B, W, s, b, c, p_r = 1e4, 100, 1.5, 4.0, 1.0, 0.6
    pi = D.payoff_matrix(B, W, s, b, c, p_r)
    eps, delta, q, kappa = 2.0, 30.0, 0.4, 0.25
    m = D.commitment_payoff_matrix(B, W, s, b, c, p_r, eps, delta, q, kappa)
    SS, SU, US, UU = pi[0, 0], pi[0, 1], pi[1, 0], pi[1, 1]
    expected = [
        [SS, SU, SU, SU],
        [US, UU, UU, UU],
        [US, UU, SS - eps, SU - eps + kappa * q * delta],
        [US, UU, US - eps - q * delta, UU - eps - q * delta],
    ]
    np.testing.assert_allclose(m, expected, rtol=1e-12)
    free = D.commitment_payoff_matrix(B, W, s, b, c, p_r, 0.0, 0.0)
    np.testing.assert_allclose(free[np.ix_([D.VS, D.VU], [D.VS, D.VU])], pi)  # free, unsanctioned agreements: the 2020 game
    with pytest.raises(ValueError, match="sanction_speed"):
        D.commitment_payoff_matrix(B, W, s, b, c, p_r, eps, delta, detection_probability=0.5, sanction_speed=1.0)
    with pytest.raises(ValueError, match="strategies"):
        D.strategy_profile(["AS", "XX"])


COMMITMENT_CASES = [
    dict(s=2.0, p_r=0.6, commitment_cost=1.0, sanction=40.0),
    dict(s=2.0, p_r=0.3, commitment_cost=0.5, sanction=8.0, detection_probability=0.4, compensation_share=0.5),
    dict(s=4.0, p_r=0.5, commitment_cost=2.0, sanction=5.0, sanction_speed=2.0, compensation_share=0.0),
    dict(s=2.0, p_r=0.8, commitment_cost=1.0, sanction=3.0, sanction_speed=1.5),  # a caught breacher is slower than SAFE
]


@pytest.mark.parametrize("case", range(len(COMMITMENT_CASES)))
def test_env_payoffs_equal_the_commitment_matrix_when_race_lengths_are_whole(case):
    params = COMMITMENT_CASES[case]
    config = D.DsairConfig(W=20, B=2000.0, max_rounds=40, commitments=True, **params)  # early AGI: B/W = 100; every race fits
    paper = D.commitment_payoff_matrix(
        config.B, config.W, config.s, config.b, config.c, config.p_r, config.commitment_cost, config.sanction,
        config.detection_probability, config.compensation_share, config.sanction_speed,
    )  # fmt: skip
    np.testing.assert_allclose(D.commitment_expected_matrix(config), paper, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(paper[:2, :2], D.payoff_matrix(config.B, config.W, config.s, config.b, config.c, config.p_r))
    mean, se = dsair_commitment_mc_matrix(config, 3_000, seed=100 + case)
    assert np.all(np.abs(mean - paper) <= 3 * se + 1e-9), (mean, paper, se)


def test_exact_commitment_returns_with_discrete_rounds_and_more_labs():
    config = D.DsairConfig(num_labs=3, commitments=True, p_r=0.0, sanction=9.0, compensation_share=0.8)  # W/s not whole
    for strategies in (("VS", "VU", "AU"), ("VS", "VS", "VU"), ("VU", "AS", "AS"), ("VS", "AS", "AU")):
        expected, rounds = D.commitment_race_returns(config, strategies)
        returns, played = dsair_commitment_returns(config, strategies, 4, seed=0)
        assert np.all(played == rounds)
        np.testing.assert_allclose(returns, np.tile(expected, (4, 1)), rtol=1e-12)
    config = dataclasses.replace(config, p_r=0.6, detection_probability=0.5)
    expected, _ = D.commitment_race_returns(config, ("VS", "VS", "VU"))
    returns, _ = dsair_commitment_returns(config, ("VS", "VS", "VU"), 20_000, seed=1)
    se = returns.std(axis=0) / np.sqrt(len(returns))
    assert np.all(np.abs(returns.mean(axis=0) - expected) <= 3 * se + 1e-9)


def test_commitment_thresholds_flip_in_simulation():
    base = D.DsairConfig(W=20, B=2000.0, s=2.0, p_r=0.6, max_rounds=20, commitments=True, commitment_cost=1.0)
    B, W, s, b, c = base.B, base.W, base.s, base.b, base.c
    pi = D.payoff_matrix(B, W, s, b, c, base.p_r)
    # breaking an agreement with a complying member stops paying at delta = (Pi_US - Pi_SS) / q
    deter = D.breach_deterrence_sanction(B, W, s, b, c, base.p_r, detection_probability=0.5)
    assert deter == pytest.approx((pi[1, 0] - pi[0, 0]) / 0.5)
    for factor, pays in ((0.5, True), (1.5, False)):
        config = dataclasses.replace(base, sanction=factor * deter, detection_probability=0.5)
        breach, rounds = dsair_commitment_returns(config, ("VU", "VS"), 6_000, seed=2)
        keep, keep_rounds = dsair_commitment_returns(config, ("VS", "VS"), 4, seed=2)
        per_round = breach[:, 0] / rounds
        gain = per_round.mean() - (keep[:, 0] / keep_rounds).mean()
        se = per_round.std() / np.sqrt(len(per_round))
        assert (gain > 3 * se) if pays else (gain < -3 * se), (factor, gain, se)
    # VS risk-dominates the fake committer VU above q delta (2 + kappa) = (Pi_US + Pi_UU) - (Pi_SS + Pi_SU)
    q, kappa = 0.5, 0.5
    star = D.commitment_sanction_threshold(B, W, s, b, c, base.p_r, q, kappa)
    assert star * q * (2 + kappa) == pytest.approx(pi[1].sum() - pi[0].sum())
    for factor, vs_wins in ((0.7, False), (1.3, True)):
        config = dataclasses.replace(base, sanction=factor * star, detection_probability=q, compensation_share=kappa)
        mean, se = dsair_commitment_mc_matrix(config, 3_000, seed=3)
        advantage = mean[D.VS, D.VS] + mean[D.VS, D.VU] - mean[D.VU, D.VS] - mean[D.VU, D.VU]
        noise = np.sqrt(se[D.VS, D.VU] ** 2 + se[D.VU, D.VS] ** 2 + se[D.VU, D.VU] ** 2)
        assert (advantage > 3 * noise) if vs_wins else (advantage < -3 * noise), (factor, advantage, noise)
        assert D.risk_dominates(D.commitment_expected_matrix(config), D.VS, D.VU) == vs_wins
    # VS risk-dominates AU (committing beats staying out) above p_r = 1 - (Pi_SS - eps) / Pi_UU(0)
    p_star = D.commitment_risk_threshold(B, W, s, b, c, base.commitment_cost)
    assert p_star == pytest.approx(1 - (pi[0, 0] - 1.0) / D.payoff_matrix(B, W, s, b, c, 0.0)[1, 1])
    for delta, commit_wins in ((-0.1, False), (0.1, True)):
        config = dataclasses.replace(base, p_r=p_star + delta)
        mean, se = dsair_commitment_mc_matrix(config, 3_000, seed=4)
        advantage = mean[D.VS, D.VS] + mean[D.VS, D.AU] - mean[D.AU, D.VS] - mean[D.AU, D.AU]
        noise = np.sqrt(se[D.VS, D.AU] ** 2 + se[D.AU, D.VS] ** 2 + se[D.AU, D.AU] ** 2)
        assert (advantage > 3 * noise) if commit_wins else (advantage < -3 * noise), (delta, advantage, noise)


@pytest.mark.parametrize("s", [1.25, 1.5, 2.0, 3.0, 5.0])
def test_commitments_promote_safety_in_the_dilemma_zone_without_over_regulating(s):
    """The paper's headline, on a grid over p_r: with a sanction above its thresholds, VS
    risk-dominates every other strategy wherever all-SAFE is collectively preferred (p_r above the
    eps-shifted collective threshold), and never risk-dominates AU below it. In a finite population
    (Z = 100, beta = 0.01) the long-run shares change smoothly across the thresholds, so they are
    checked 0.05 away from them."""
    B, W, b, c, eps = 1e4, 100, 4.0, 1.0, 1.0
    co, rd = D.dilemma_zone(B, W, s, b, c)
    commit = D.commitment_risk_threshold(B, W, s, b, c, eps)
    assert co < commit < rd and D.commitment_risk_threshold(B, W, s, b, c, 0.0) == pytest.approx(co)
    for p_r in np.linspace(0.0, 1.0, 41):
        delta = 1.0 + max(D.commitment_sanction_threshold(B, W, s, b, c, p_r), D.breach_deterrence_sanction(B, W, s, b, c, p_r), 0.0)
        m = D.commitment_payoff_matrix(B, W, s, b, c, p_r, eps, delta)
        pi = D.payoff_matrix(B, W, s, b, c, p_r)
        assert D.risk_dominates(m, D.VS, D.VU)  # the sanction is above its threshold
        assert D.risk_dominates(m, D.VS, D.AU) == (p_r > commit), p_r
        assert D.risk_dominates(m, D.VS, D.AS) == (eps < pi[1, 0] - pi[0, 1]), p_r  # AS, SAFE too, wins only when p_r ~ 1
        if commit < p_r < rd:  # the dilemma zone: SAFE alone loses, commitments win
            assert not D.risk_dominates(D.payoff_matrix(B, W, s, b, c, p_r), 0, 1)
        if commit + 0.05 <= p_r < rd:
            plain = D.stationary_distribution(D.payoff_matrix(B, W, s, b, c, p_r), 100, 0.01)
            shares = D.stationary_distribution(m, 100, 0.01)
            assert plain[0] < 0.5 and shares[D.VS] > 0.8, (p_r, plain, shares)
        if p_r <= co - 0.05:  # UNSAFE socially preferable: commitments do not take over
            assert D.stationary_distribution(m, 100, 0.01)[D.AU] > 0.9, p_r


def test_stationary_distribution_agrees_with_the_fixation_ratio():
    rng = np.random.default_rng(0)
    for _ in range(50):
        matrix, Z, beta = rng.normal(0, 3, (2, 2)), int(rng.integers(3, 200)), float(rng.uniform(0.001, 0.3))
        shares = D.stationary_distribution(matrix, Z, beta)
        assert shares.sum() == pytest.approx(1.0) and np.all(shares >= 0)
        assert np.log(shares[0] / shares[1]) == pytest.approx(np.log(D.fixation_ratio(matrix, Z, beta)), rel=1e-6, abs=1e-9)
    with pytest.raises(ValueError, match="Z must be"):
        D.stationary_distribution(np.eye(2), 1, 0.1)
    with pytest.raises(ValueError, match="square"):
        D.stationary_distribution(np.ones((2, 3)), 10, 0.1)


# --------------------------------------------------------------------------------------------
# API details with commitments: determinism, the PettingZoo path, background labs
# --------------------------------------------------------------------------------------------


def commitment_trace(env, seed, steps=300):
    rng = np.random.default_rng(2)
    obs, _ = env.reset(seed=seed)
    out = [np.concatenate(list(obs.values()))]
    for _ in range(steps):
        if not env.agents:
            obs, _ = env.reset()
        actions = {a: rng.integers(0, 2, 2) for a in env.agents}
        obs, rewards, _, _, infos = env.step(actions)
        out.append(np.concatenate(list(obs.values()) + [np.array(list(rewards.values()))] + [np.array([i["sanction"] for i in infos.values()])]))
    return np.concatenate(out)


def test_commitment_episodes_are_deterministic_given_the_seed():
    kwargs = dict(scenario="commitments", num_labs=3, detection_probability=0.5, sanction_speed=0.5, W=12, max_rounds=15)
    first = commitment_trace(D.parallel_env(**kwargs), seed=9)
    assert np.array_equal(first, commitment_trace(D.parallel_env(**kwargs), seed=9))
    assert not np.array_equal(first, commitment_trace(D.parallel_env(**kwargs), seed=10))


def test_batched_core_equals_the_pettingzoo_path_with_commitments():
    kwargs = dict(scenario="commitments", num_labs=3, W=6, s=2.0, detection_probability=0.5)
    parallel = D.parallel_env(**kwargs)
    parallel.reset(seed=5)
    game = D.make_game(**kwargs)
    rng, _ = seeding.np_random(5)
    state = game.reset(rng, 1)
    for actions in ([[0, 1], [1, 1], [0, 0]], [[1, 0], [0, 0], [0, 1]], [[1, 0], [1, 0], [0, 0]], [[1, 0], [1, 0], [1, 0]]):
        _, rewards, terms, _, _ = parallel.step({f"lab_{i}": np.array(a) for i, a in enumerate(actions)})
        result = game.step(state, np.array([actions]), rng)
        np.testing.assert_allclose(result.rewards[0], list(rewards.values()))
        np.testing.assert_array_equal(parallel.batch_state.member, state.member)
    assert all(terms.values())  # lab_0 and lab_1 reach W = 6 after three UNSAFE rounds


def test_background_labs_play_commitment_strategies_or_baselines_that_never_commit():
    env = D.gym_env(scenario="commitments")  # the scenario's background: VS
    assert env.unwrapped.game.background == "VS"  # resolved by labrace.agents.baselines
    env.reset(seed=0)
    env.step(np.array([0, 1]))  # the commitment stage: both commit
    assert env.unwrapped.batch_state.member.all()
    env.step(np.array([0, 0]))
    assert env.unwrapped.batch_state.last_action[0].tolist() == [0, 0]  # VS keeps the agreement
    plain = D.gym_env(config=D.DsairConfig(commitments=True))  # the game's default risk_dominant, never committing
    plain.reset(seed=0)
    plain.step(np.array([0, 1]))
    assert not plain.unwrapped.batch_state.member.any()
    plain.step(np.array([0, 0]))
    assert plain.unwrapped.batch_state.last_action[0].tolist() == [0, 1]  # UNSAFE risk-dominates at p_r = 0.6
    fake = D.gym_env(scenario="commitments", background=D.CommitmentStrategy(D.make_config("commitments"), "VU"))
    fake.reset(seed=0)
    fake.step(np.array([0, 1]))
    _, reward, *_ = fake.step(np.array([0, 0]))
    assert fake.unwrapped.batch_state.sanctioned[0].tolist() == [False, True]
    config = D.make_config("commitments")
    assert reward == pytest.approx(4.0 / 2.5 - 1.0 - config.commitment_cost + config.sanction)
    with pytest.raises(ValueError, match="commitments=True"):
        D.CommitmentStrategy(D.DsairConfig(), "VS")
    assert D.to_action(D.DsairConfig(), True) == 1
    np.testing.assert_array_equal(D.to_action(config, [0, 1], commit=True), [[0, 1], [1, 1]])


def test_render_shows_the_agreement():
    env = D.parallel_env(scenario="commitments", render_mode="ansi")
    env.reset(seed=0)
    assert "commitment stage next" in env.render()
    env.step({"lab_0": np.array([0, 1]), "lab_1": np.array([0, 1])})
    text = env.render()
    assert "member" in text and "commitment stage next" not in text
    picture = D.parallel_env(scenario="commitments", render_mode="rgb_array")
    picture.reset(seed=0)
    assert picture.render().ndim == 3


commitment_configs = st.builds(
    D.DsairConfig,
    num_labs=st.integers(2, 6),
    B=st.floats(0.0, 1e6),
    W=st.integers(1, 40),
    s=st.floats(1.0, 10.0),
    b=st.floats(0.0, 100.0),
    c=st.floats(0.0, 10.0),
    p_r=st.floats(0.0, 1.0),
    max_rounds=st.integers(1, 30),
    commitments=st.just(True),
    commitment_cost=st.floats(0.0, 50.0),
    sanction=st.floats(0.0, 100.0),
    detection_probability=st.floats(0.0, 1.0),
    compensation_share=st.floats(0.0, 1.0),
    sanction_speed=st.floats(0.0, 12.0),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=commitment_configs, seed=st.integers(0, 2**31 - 1))
def test_commitment_invariants_hold_for_random_configs_and_actions(config, seed):
    game = D.DsairGame(config)
    rng = np.random.default_rng(seed)
    games, n = 32, config.num_labs
    state = game.reset(rng, games)
    done = np.zeros(games, dtype=bool)
    for step in range(config.max_rounds + 1):  # the commitment stage, then at most max_rounds rounds
        actions = rng.integers(0, 2, (games, n, 2))
        member_before = state.member.copy()
        result = game.step(state, actions, rng)
        obs = game.observe(state)
        assert np.all(obs >= 0) and np.all(obs <= 1) and obs.shape == (games, n, config.observation_size)
        assert np.all(np.isfinite(result.rewards))
        ended = result.terminated | result.truncated
        assert np.all((result.info["outcome"] != D.ONGOING) == ended) and not np.any(result.terminated & result.truncated)
        if step == 0:  # the stage: nothing happens but the agreement
            assert np.all(result.rewards == 0) and not ended.any()
            formed = actions[..., 1].sum(axis=1) >= 2
            np.testing.assert_array_equal(state.member, (actions[..., 1] == 1) & formed[:, None])
        else:
            np.testing.assert_array_equal(state.member, member_before)
            breach = (actions[..., 0] == 1) & state.member
            assert not np.any(state.sanctioned & ~breach)  # only breaches are sanctioned
            np.testing.assert_allclose(state.sanction_paid, config.sanction * state.sanctioned)
            complying = (actions[..., 0] == 0) & state.member
            paid = np.where(complying.any(axis=1), config.compensation_share * state.sanction_paid.sum(axis=1), 0.0)
            np.testing.assert_allclose(state.compensation.sum(axis=1), paid, rtol=1e-9, atol=1e-9)
        done |= ended
    assert done.all()  # every race ends within max_rounds rounds after the stage


# --------------------------------------------------------------------------------------------
# switching (a lab chooses every round, or once for the race) and expected rewards
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["switching", "expected_rewards"])
def test_switching_and_expected_rewards_must_be_bools(field):
    with pytest.raises(ValueError, match=field):
        D.make_config(**{field: 1.5})


def _returns(config, plays_by_round, games=2000, seed=0):
    """Mean returns (N,) of labs whose plays in round t are ``plays_by_round(t)`` (one entry per lab;
    ``t`` is the (B,) array of rounds played in each game)."""
    act = lambda game, state: np.column_stack(np.broadcast_arrays(state.step, *plays_by_round(state.step))[1:]).astype(np.int64)  # noqa: E731
    returns, _ = dsair_play_returns(config, act, games, seed)
    return returns.mean(axis=0)


def test_with_switching_a_two_round_sprint_beats_a_safe_rival_so_all_safe_is_no_equilibrium():
    # against an always-SAFE rival, two UNSAFE rounds win the whole prize at a risk of 0.9 x 2/99
    config = D.make_config(p_r=0.9, expected_rewards=True)
    all_safe = _returns(config, lambda t: [0, 0])
    sprint = _returns(config, lambda t: [t < 2, 0])
    assert all_safe[0] == pytest.approx(5100.0)
    assert sprint[0] > (1 - 0.9 * 2 / 99) * config.B  # the whole prize, kept with probability 0.98
    assert sprint[0] - all_safe[0] > 4000


def test_without_switching_the_first_play_binds_so_a_sprint_is_always_unsafe():
    config = D.make_config(p_r=0.9, switching=False, expected_rewards=True)
    sprint = _returns(config, lambda t: [t < 2, 0])
    always_unsafe = _returns(config, lambda t: [1, 0])
    np.testing.assert_allclose(sprint, always_unsafe)
    # and every pure profile earns the paper's (exact) race returns
    for plays in ([0, 0], [1, 0], [1, 1]):
        first_then_the_opposite = lambda t: [np.where(t == 0, p, 1 - p) for p in plays]  # noqa: E731
        np.testing.assert_allclose(_returns(config, first_then_the_opposite), D.race_returns(config, plays)[0])


def test_expected_rewards_pay_the_expected_disaster_loss_without_variance():
    for p_r in (0.2, 0.6, 0.9):
        drawn = D.make_config(p_r=p_r)
        expected = dataclasses.replace(drawn, expected_rewards=True)
        for plays in ([0, 0], [1, 0], [1, 1]):
            exact = D.race_returns(drawn, plays)[0]
            np.testing.assert_allclose(_returns(expected, lambda t: plays, games=8), exact)
            mc = _returns(drawn, lambda t: plays, games=4000)
            assert np.all(np.abs(mc - exact) < 0.05 * drawn.B)  # the drawn game has the same mean
