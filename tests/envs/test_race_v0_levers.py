"""race_v0's governance levers (DESIGN.md §2): audits, licensing, compute cap, commitments, cheap talk."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from gymnasium import spaces
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labrace
from labrace.agents.baselines import make_baseline
from labrace.envs import race_levers, race_v0
from labrace.envs.race_v0 import (
    DECLARE_COOPERATE,
    DECLARE_PIVOTAL,
    INTENTIONS,
    PIVOTAL_ACT,
    WINNER,
    RaceConfig,
    allocation_to_action,
    decode_actions,
    observe_batch,
    reset_batch,
    step_batch,
)

RACE, SAFE, COOP = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)
LEVER_FIELDS = (
    "audit_probability", "audit_trust_gain", "safety_floor", "sanction", "pause_steps", "compute_cap",
    "commitments", "commitment_floor", "commitment_period", "breach_trust_penalty", "cheap_talk", "declare_trust_penalty",
)  # fmt: skip

# --------------------------------------------------------------------------------------------
# Config, scenarios, documentation
# --------------------------------------------------------------------------------------------

BAD_LEVER_FIELDS = [
    ("audit_probability", -0.1),
    ("audit_probability", 1.5),
    ("audit_probability", float("nan")),
    ("audit_trust_gain", 2.0),
    ("safety_floor", -0.5),
    ("safety_floor", "high"),
    ("sanction", -1.0),
    ("sanction", 2e6),
    ("pause_steps", -1),
    ("pause_steps", 1.5),
    ("pause_steps", 100_001),
    ("compute_cap", 0.0),
    ("compute_cap", 1.5),
    ("commitments", "yes"),
    ("commitments", 1),
    ("commitment_floor", 1.2),
    ("commitment_period", 0),
    ("commitment_period", 2.0),
    ("breach_trust_penalty", -0.1),
    ("cheap_talk", None),
    ("declare_trust_penalty", 2.0),
]


@pytest.mark.parametrize("field,value", BAD_LEVER_FIELDS)
def test_invalid_lever_value_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        RaceConfig(**{field: value})


def test_invalid_lever_error_states_the_allowed_range():
    with pytest.raises(ValueError, match=r"audit_probability must be in \[0.0, 1.0\]; got 1.5"):
        race_v0.parallel_env(audit_probability=1.5)
    with pytest.raises(ValueError, match=r"pause_steps must be an integer in \[0, 100000\]; got -2"):
        race_v0.parallel_env(pause_steps=-2)
    with pytest.raises(ValueError, match=r"compute_cap must be in \(0.0, 1.0\]; got 0.0"):
        race_v0.parallel_env(compute_cap=0.0)


def test_lever_fields_exist_with_the_documented_defaults():
    config = RaceConfig()
    defaults = dict(
        audit_probability=0.0, audit_trust_gain=0.2, safety_floor=0.0, sanction=1.0, pause_steps=0, compute_cap=1.0,
        commitments=False, commitment_floor=0.3, commitment_period=10, breach_trust_penalty=0.3, cheap_talk=False,
        declare_trust_penalty=0.2,
    )  # fmt: skip
    assert {name: getattr(config, name) for name in defaults} == defaults
    assert not config.levers_on and config.observation_size == 7 + 3 * 2 and config.action_size == 3


def test_lever_scenarios():
    expected = {
        "audits": dict(audit_probability=0.2),
        "licensing": dict(audit_probability=0.2, safety_floor=0.3, pause_steps=3),
        "compute_cap": dict(compute_cap=0.035),
        "commitments": dict(commitments=True, audit_probability=0.2),
        "cheap_talk": dict(cheap_talk=True),
    }
    base = race_v0.make_config("baseline")
    together = {}
    for name, fields in expected.items():
        assert race_v0.make_config(name) == dataclasses.replace(base, **fields), name
        together.update(fields)
    assert race_v0.make_config("all_levers") == dataclasses.replace(base, **together)
    assert "all_levers" in race_v0.list_scenarios() and "audit_probability = 0.2" in str(race_v0.SCENARIOS["audits"])


def test_levers_are_documented_in_the_module():
    doc = race_v0.__doc__
    assert "Governance levers" in doc and "Trust rule" in doc
    for name in LEVER_FIELDS + ("audited", "sanction", "committed", "declared", "paused", "MultiDiscrete", "verified_cooperation"):
        assert name in doc, name


# --------------------------------------------------------------------------------------------
# With every lever off nothing changes
# --------------------------------------------------------------------------------------------

#: lever parameters changed, but every lever off: the episodes must not change
INERT = dict(
    audit_trust_gain=0.9, sanction=7.0, commitment_floor=0.8, commitment_period=3, breach_trust_penalty=0.9,
    declare_trust_penalty=0.9, compute_cap=0.5,  # above capability_growth: never binds
)  # fmt: skip


def trace(env, seed, steps=200):
    rng = np.random.default_rng(7)
    obs, _ = env.reset(seed=seed)
    out = [np.concatenate(list(obs.values()))]
    for _ in range(steps):
        if not env.agents:
            obs, _ = env.reset()
        if env.config.action_type == "discrete":
            actions = {a: int(rng.integers(0, 7)) for a in env.agents}
        else:
            actions = {a: rng.random(3).astype(np.float32) for a in env.agents}
        obs, rewards, _, _, infos = env.step(actions)
        out.append(np.concatenate(list(obs.values()) + [list(rewards.values())]))
    return np.concatenate(out)


@pytest.mark.parametrize("overrides", [{}, {"action_type": "discrete", "capability_info": "noisy"}])
def test_inert_lever_fields_give_identical_episodes(overrides):
    plain = trace(race_v0.parallel_env(**overrides), seed=3)
    inert = trace(race_v0.parallel_env(**overrides, **INERT), seed=3)
    assert np.array_equal(plain, inert)


def test_levers_off_keep_the_spaces_and_the_info_keys_are_constant():
    for overrides, space in [({}, spaces.Box(0, 1, (3,))), ({"action_type": "discrete"}, spaces.Discrete(7))]:
        env = race_v0.parallel_env(**overrides, **INERT)
        assert env.action_space("lab_0") == space and env.observation_space("lab_0").shape == (13,)
    keys = None
    for scenario in ("baseline", "all_levers"):
        env = race_v0.parallel_env(scenario=scenario)
        _, infos = env.reset(seed=0)
        for info in infos.values():
            keys = keys or set(info)
            assert set(info) == keys and all(isinstance(v, (int, float)) for v in info.values())
        assert {"audited", "sanction", "committed", "declared", "paused"} <= keys
    _, infos = race_v0.parallel_env().reset(seed=0)
    assert infos["lab_0"]["declared"] == -1


# --------------------------------------------------------------------------------------------
# Each lever, on states built directly
# --------------------------------------------------------------------------------------------


def fresh(config, batch=200, seed=0):
    rng = np.random.default_rng(seed)
    state = reset_batch(config, rng, batch)
    state.capability[:] = 0.3
    state.safety[:] = 0.3
    state.trust[:] = 0.5
    state.trust[:, np.arange(3), np.arange(3)] = config.self_trust
    return state, rng


def profile(*allocations, batch=200):
    return np.tile(np.array(allocations, dtype=np.float64), (batch, 1, 1))


def test_verified_cooperation_raises_the_others_trust():
    config = RaceConfig(audit_probability=1.0, accident_rate=0.0, audit_trust_gain=0.4)
    state, rng = fresh(config)
    allocation = profile(COOP, (0.5, 0.0, 0.5), SAFE)
    step_batch(config, state, allocation, None, rng)
    assert state.audited.all()
    np.testing.assert_allclose(state.trust[:, [1, 2], 0], 0.5 + 0.4 * 1.0 * 0.5)  # c_0 = 1
    np.testing.assert_allclose(state.trust[:, [0, 2], 1], 0.5 + 0.4 * 0.5 * 0.5)  # c_1 = 0.5
    np.testing.assert_allclose(state.trust[:, [0, 1], 2], 0.5)  # no cooperation, no gain
    np.testing.assert_allclose(state.trust[:, np.arange(3), np.arange(3)], config.self_trust)
    np.testing.assert_allclose(state.verified_cooperation, allocation[..., 2])
    obs = observe_batch(config, state)
    slots = race_v0.observation_slots(3, config)
    assert slots[-2:] == ["verified_cooperation_other_1", "verified_cooperation_other_2"]
    np.testing.assert_allclose(obs[:, 1, -2:], [[0.0, 1.0]] * 200)  # lab_1 sees lab_2 (0) then lab_0 (1)
    np.testing.assert_allclose(obs[:, 0, 9], state.trust[:, 0, 1], rtol=1e-6)  # trust slots are refreshed


def test_audits_happen_with_the_audit_probability():
    config = RaceConfig(audit_probability=0.3, accident_rate=0.0)
    state, rng = fresh(config, batch=4000)
    step_batch(config, state, profile(SAFE, SAFE, SAFE, batch=4000), None, rng)
    assert abs(state.audited.mean() - 0.3) < 4 * np.sqrt(0.21 / 12000)
    assert np.all(state.verified_cooperation == 0.0)


def test_a_breached_commitment_is_sanctioned_and_costs_trust():
    config = RaceConfig(commitments=True, audit_probability=1.0, audit_trust_gain=0.0, accident_rate=0.0, sanction=2.5)
    state, rng = fresh(config)
    commit = np.ones((200, 3), dtype=bool)
    commit[:, 2] = False
    # lab_0 commits and races (breach), lab_1 commits and keeps the floor, lab_2 races uncommitted
    result = step_batch(config, state, profile(RACE, (0.5, 0.5, 0.0), RACE), None, rng, commit=commit)
    np.testing.assert_array_equal(state.committed, commit)
    np.testing.assert_allclose(state.trust[:, [1, 2], 0], 0.5 - config.breach_trust_penalty)
    np.testing.assert_allclose(state.trust[:, [0, 2], 1], 0.5)
    np.testing.assert_allclose(state.trust[:, [0, 1], 2], 0.5)
    np.testing.assert_allclose(result.rewards, [[-2.5, 0.0, 0.0]] * 200)
    np.testing.assert_allclose(result.info["sanction"], [[2.5, 0.0, 0.0]] * 200)
    # trust is floored at 0: a second breach from 0.2 goes to 0
    step_batch(config, state, profile(RACE, SAFE, RACE), None, rng, commit=~commit)  # not a decision step
    np.testing.assert_array_equal(state.committed, commit)
    np.testing.assert_allclose(state.trust[:, [1, 2], 0], 0.0)


def test_commitments_are_decided_every_commitment_period_steps():
    config = RaceConfig(commitments=True, commitment_period=3, accident_rate=0.0)
    state, rng = fresh(config, batch=1)
    yes, no = np.ones((1, 3), dtype=bool), np.zeros((1, 3), dtype=bool)
    seen = []
    for commit in (yes, no, no, no, yes, yes, no):
        step_batch(config, state, profile(SAFE, SAFE, SAFE, batch=1), None, rng, commit=commit)
        seen.append(bool(state.committed[0, 0]))
    assert seen == [True, True, True, False, False, False, False]  # decisions at steps 0, 3, 6


def test_each_game_decides_at_its_own_decision_steps_also_past_max_steps():
    config = RaceConfig(commitments=True, commitment_period=4, max_steps=6, accident_rate=0.0)
    state, rng = fresh(config, batch=6)
    state.step[:] = [0, 3, 4, 8, 13, 100_000]  # past max_steps: finished games stepped on
    step_batch(config, state, profile(SAFE, SAFE, SAFE, batch=6), None, rng, commit=np.ones((6, 3), dtype=bool))
    assert state.committed.all(axis=1).tolist() == [True, False, True, True, False, True]
    assert not state.committed.any(axis=1)[[1, 4]].any()


def test_declaring_a_pivotal_act_lowers_the_others_trust_and_declarations_are_public():
    config = RaceConfig(cheap_talk=True, accident_rate=0.0)
    state, rng = fresh(config)
    declare = np.tile([DECLARE_COOPERATE, DECLARE_PIVOTAL, 0], (200, 1))
    step_batch(config, state, profile(SAFE, SAFE, SAFE), None, rng, declare=declare)
    np.testing.assert_allclose(state.trust[:, [0, 2], 1], 0.5 - config.declare_trust_penalty)
    np.testing.assert_allclose(state.trust[:, [1, 2], 0], 0.5)
    obs = observe_batch(config, state)
    assert race_v0.observation_slots(3, config)[-2:] == ["declared_other_1", "declared_other_2"]
    np.testing.assert_allclose(obs[:, 0, -2:], [[1.0, 0.0]] * 200)  # lab_0 sees lab_1 (pivotal), lab_2 (race)
    np.testing.assert_allclose(obs[:, 2, -2:], [[0.5, 1.0]] * 200)  # lab_2 sees lab_0 (cooperate), lab_1
    np.testing.assert_allclose(obs[:, 0, 9], 0.5 - config.declare_trust_penalty, rtol=1e-6)


def test_the_compute_cap_limits_growth_exactly():
    config = RaceConfig(compute_cap=0.02, accident_rate=0.0)
    state, rng = fresh(config)
    before = state.capability.copy()
    step_batch(config, state, profile(RACE, (0.2, 0.8, 0.0), SAFE), None, rng)
    np.testing.assert_allclose(state.capability - before, np.tile([0.02, 0.07 * 0.2, 0.0], (200, 1)), rtol=1e-12, atol=1e-15)
    assert np.all(state.capability[:, 0] == 0.3 + 0.02)  # exactly the cap


def test_a_paused_lab_moves_its_speed_to_safety():
    config = RaceConfig(pause_steps=2, accident_rate=0.0)
    state, rng = fresh(config)
    state.pause_left[:, 0] = 2
    allocation = profile((0.6, 0.1, 0.3), RACE, RACE)
    original = allocation.copy()
    before = state.capability.copy()
    step_batch(config, state, allocation, None, rng)
    np.testing.assert_array_equal(allocation, original)  # the caller's array is untouched
    np.testing.assert_allclose(state.last_allocation[:, 0], [[0.0, 0.7, 0.3]] * 200)
    np.testing.assert_array_equal(state.capability[:, 0], before[:, 0])
    assert np.all(state.pause_left[:, 0] == 1) and np.all(state.pause_left[:, 1:] == 0)
    assert np.all(observe_batch(config, state)[:, 0, 13] == 1.0)  # own paused flag
    step_batch(config, state, allocation, None, rng)
    step_batch(config, state, allocation, None, rng)
    np.testing.assert_allclose(state.last_allocation[:, 0], allocation[:, 0])  # the pause is over
    assert np.all(observe_batch(config, state)[:, 0, 13] == 0.0)


def test_a_licence_violator_pays_the_sanction_and_is_paused():
    config = RaceConfig(audit_probability=1.0, safety_floor=0.3, pause_steps=3, sanction=2.5, accident_rate=0.0)
    state, rng = fresh(config)
    allocation = profile(RACE, (0.7, 0.3, 0.0), (0.5, 0.2, 0.3))
    result = step_batch(config, state, allocation, None, rng)
    np.testing.assert_allclose(result.rewards, [[-2.5, 0.0, -2.5]] * 200)
    np.testing.assert_array_equal(state.pause_left, [[3, 0, 3]] * 200)
    result = step_batch(config, state, allocation, None, rng)  # paused: all speed goes to safety
    np.testing.assert_allclose(state.last_allocation[:, 0], [SAFE] * 200)
    np.testing.assert_allclose(result.rewards, 0.0)  # the paused labs meet the floor now
    np.testing.assert_array_equal(state.pause_left, [[2, 0, 2]] * 200)


def test_no_audit_no_sanction():
    config = RaceConfig(audit_probability=0.5, safety_floor=0.5, commitments=True, accident_rate=0.0)
    state, rng = fresh(config, batch=2000)
    result = step_batch(config, state, profile(RACE, RACE, RACE, batch=2000), None, rng, commit=np.ones((2000, 3), bool))
    np.testing.assert_allclose(result.rewards, -2.0 * state.audited)  # licence and breach add up
    assert 0.4 < state.audited.mean() < 0.6


# --------------------------------------------------------------------------------------------
# Actions: encoding, decoding, checking
# --------------------------------------------------------------------------------------------


def test_action_encoding_of_every_variant():
    cont = RaceConfig(pivotal_act=True, commitments=True, cheap_talk=True)
    action = allocation_to_action(cont, (0.2, 0.3, 0.5), attempt=True, commit=True, declare="cooperate")
    np.testing.assert_allclose(action, [0.2, 0.3, 0.5, 1.0, 1.0, 0.0, 1.0, 0.0])
    assert race_v0.RaceGame(cont).action_space == spaces.Box(0, 1, (8,))
    allocation, attempt, commit, declare = decode_actions(cont, action[None, None].astype(np.float64))
    np.testing.assert_allclose(allocation[0, 0], [0.2, 0.3, 0.5], rtol=1e-6)
    assert attempt[0, 0] and commit[0, 0] and declare[0, 0] == DECLARE_COOPERATE

    disc = RaceConfig(action_type="discrete", commitments=True, cheap_talk=True)
    assert race_v0.RaceGame(disc).action_space == spaces.MultiDiscrete([7, 2, 3])
    action = allocation_to_action(disc, RACE, commit=True, declare=2)
    assert action.tolist() == [0, 1, 2]
    allocation, attempt, commit, declare = decode_actions(disc, np.array([[[0, 1, 2], [5, 0, 1]]]))
    np.testing.assert_allclose(allocation[0], [RACE, COOP])
    assert attempt is None and commit.tolist() == [[True, False]] and declare.tolist() == [[2, 1]]
    assert race_v0.RaceGame(dataclasses.replace(disc, commitments=False)).action_space == spaces.MultiDiscrete([7, 3])
    # where a lever is off, its parts are simply absent
    assert allocation_to_action(RaceConfig(), RACE, commit=True, declare=1).shape == (3,)
    assert allocation_to_action(RaceConfig(action_type="discrete"), RACE, commit=True).shape == ()
    # declare=None declares what the action does
    talk = RaceConfig(cheap_talk=True)
    assert [int(np.argmax(allocation_to_action(talk, a)[3:])) for a in (RACE, COOP, (1 / 3,) * 3)] == [0, 1, 0]
    with pytest.raises(ValueError, match="declare must be one of"):
        allocation_to_action(talk, RACE, declare="bluff")
    assert INTENTIONS == ("race", "cooperate", "pivotal_act")


def test_multidiscrete_bad_actions_name_the_agent():
    env = race_v0.parallel_env(scenario="all_levers", action_type="discrete")
    env.reset(seed=0)
    good = np.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"entries in \[0, 6\], \[0, 1\], \[0, 2\]; got 2 \(game 0, lab_1\)"):
        env.step({"lab_0": good, "lab_1": np.array([0, 2, 0]), "lab_2": good})
    with pytest.raises(ValueError, match=r"action for lab_1 must have shape \(3,\); got shape \(\)"):
        env.step({"lab_0": good, "lab_1": 3, "lab_2": good})
    with pytest.raises(ValueError, match="must be an integer array"):
        env.step({"lab_0": good, "lab_1": np.array([0.5, 1, 1]), "lab_2": good})
    env.step({"lab_0": good, "lab_1": [1, 0, 0], "lab_2": np.array([6.0, 1.0, 1.0])})  # integral values are fine
    gym_env = race_v0.gym_env(scenario="all_levers", action_type="discrete")
    gym_env.reset(seed=0)
    with pytest.raises(ValueError, match=r"race_v0 action for lab_0 must be an integer array.*got 7"):
        gym_env.step(np.array([7, 0, 0]))


def test_make_vec_all_levers_discrete_steps():
    venv = labrace.make_vec("race_v0", num_envs=8, scenario="all_levers", action_type="discrete", seed=0)
    obs = venv.reset()
    assert obs.shape == (24, 21) and venv.action_space == spaces.MultiDiscrete([7, 2, 3])
    venv.action_space.seed(0)
    sanctions, finished = 0.0, 0
    for _ in range(120):
        obs, rewards, dones, infos = venv.step(np.stack([venv.action_space.sample() for _ in range(24)]))
        assert np.all(np.isfinite(rewards)) and obs.shape == (24, 21)
        finished += int(dones.sum())
        sanctions += float(-rewards[rewards < 0].sum())
    assert finished > 0 and sanctions > 0


@pytest.mark.parametrize(
    "overrides", [{"scenario": "all_levers"}, {"scenario": "all_levers", "action_type": "discrete", "capability_info": "noisy"},
                  {"scenario": "all_levers", "pivotal_act": True}]
)  # fmt: skip
def test_batched_core_vec_env_and_pettingzoo_agree_with_levers(overrides):
    seed, steps = 5, 60
    env = race_v0.parallel_env(**overrides)
    game = env.game
    game.action_space.seed(1)
    actions = np.stack([[game.action_space.sample() for _ in range(game.num_agents)] for _ in range(steps)])
    obs, _ = env.reset(seed=seed)
    venv = labrace.make_vec("race_v0", num_envs=1, seed=seed, **overrides)
    vec_obs = venv.reset()
    rng = np.random.default_rng(seed)
    state = game.reset(rng, 1)
    for t in range(steps):
        np.testing.assert_array_equal(np.stack([obs[a] for a in env.possible_agents]), game.observe(state)[0])
        np.testing.assert_array_equal(vec_obs, game.observe(state)[0])
        result = game.step(state, game.check_actions(actions[t][None], 1), rng)
        obs, rewards, _, _, infos = env.step(dict(zip(env.possible_agents, actions[t])))
        vec_obs, vec_rewards, dones, _ = venv.step(actions[t])
        np.testing.assert_array_equal([rewards[a] for a in env.possible_agents], result.rewards[0])
        np.testing.assert_array_equal(vec_rewards, result.rewards[0].astype(np.float32))
        assert [infos[a]["sanction"] for a in env.possible_agents] == result.info["sanction"][0].tolist()
        if not env.agents:
            assert dones.all()
            break


# --------------------------------------------------------------------------------------------
# Scripted baselines for the new actions
# --------------------------------------------------------------------------------------------

NEW_BASELINES = ("commit_and_keep", "commit_and_break", "declare_cooperation", "truthful_declarer")
BASELINE_VARIANTS = [
    {},
    {"action_type": "discrete"},
    {"scenario": "pivotal_act", "action_type": "discrete"},
    {"scenario": "all_levers"},
    {"scenario": "all_levers", "action_type": "discrete"},
    {"scenario": "all_levers", "pivotal_act": True},
    {"scenario": "cheap_talk", "action_type": "discrete"},
]


@pytest.mark.parametrize("overrides", BASELINE_VARIANTS, ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()) or "default")
def test_every_race_baseline_works_in_every_variant(overrides):
    game = labrace.make_game("race_v0", **overrides)
    for name in labrace.agents.baselines.BASELINES["race_v0"]:
        policy = make_baseline(name, game)
        actions = policy.act(np.zeros((5, game.observation_space.shape[0]), dtype=np.float32), np.random.default_rng(0))
        game.check_actions(np.asarray(actions).reshape((5, 1) + game.action_space.shape).repeat(3, axis=1), 5)


def lever_rollout(config, names, episodes=200):
    game = race_v0.RaceGame(config)
    policies = [make_baseline(name, game) for name in names]
    rng = np.random.default_rng(0)
    state = game.reset(rng, episodes)
    sanctions = np.zeros((episodes, 3))
    declared, committed = [], []
    live = np.ones(episodes, dtype=bool)
    while live.any():
        obs = game.observe(state)
        actions = np.stack([p.act(obs[:, i], rng) for i, p in enumerate(policies)], axis=1)
        result = game.step(state, game.check_actions(actions, episodes), rng)
        sanctions += result.info["sanction"] * live[:, None]
        declared.append(state.declared[live].copy())
        committed.append(state.committed[live].copy())
        live &= ~(result.terminated | result.truncated)
    return sanctions, np.concatenate(declared), np.concatenate(committed)


@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_commitment_baselines_keep_and_break(action_type):
    config = dataclasses.replace(race_v0.make_config("all_levers"), action_type=action_type, audit_probability=0.5)
    sanctions, declared, committed = lever_rollout(config, ["commit_and_keep", "commit_and_break", "declare_cooperation"])
    assert committed[:, :2].all() and not committed[:, 2].any()
    assert sanctions[:, 0].sum() == 0.0 and sanctions[:, 2].sum() == 0.0  # balanced meets the 0.3 floor
    assert sanctions[:, 1].mean() > 2 * config.sanction  # licence and breach, at half the steps
    assert np.all(declared[:, 2] == DECLARE_COOPERATE) and np.all(declared[:, 1] == 0)


def test_truthful_declarer_declares_what_it_plays():
    config = race_v0.make_config("cheap_talk")
    game = race_v0.RaceGame(config)
    policy = make_baseline("truthful_declarer", game)
    env = race_v0.parallel_env(config=config)
    obs, _ = env.reset(seed=0)
    first = policy.act(obs["lab_0"][None])[0]
    race = allocation_to_action(config, RACE)
    obs, *_ = env.step({"lab_0": first, "lab_1": race, "lab_2": race})
    assert env.batch_state.declared[0].tolist() == [DECLARE_COOPERATE, 0, 0]
    np.testing.assert_allclose(env.batch_state.last_allocation[0, 0], COOP)
    second = policy.act(obs["lab_0"][None])[0]
    env.step({"lab_0": second, "lab_1": race, "lab_2": race})
    assert env.batch_state.declared[0, 0] == 0
    np.testing.assert_allclose(env.batch_state.last_allocation[0, 0], (0.7, 0.3, 0.0), rtol=1e-6)


# --------------------------------------------------------------------------------------------
# Properties over random lever configs and actions
# --------------------------------------------------------------------------------------------

lever_configs = st.builds(
    RaceConfig,
    num_labs=st.integers(2, 5),
    max_steps=st.integers(1, 40),
    action_type=st.sampled_from(["continuous", "discrete"]),
    capability_info=st.sampled_from(["none", "noisy", "public"]),
    capability_growth=st.floats(0.01, 1.0),
    accident_rate=st.floats(0.0, 1.0),
    pivotal_act=st.booleans(),
    audit_probability=st.sampled_from([0.0, 0.3, 1.0]),
    audit_trust_gain=st.floats(0.0, 1.0),
    safety_floor=st.floats(0.0, 1.0),
    sanction=st.floats(0.0, 100.0),
    pause_steps=st.integers(0, 5),
    compute_cap=st.floats(0.001, 1.0),
    commitments=st.booleans(),
    commitment_floor=st.floats(0.0, 1.0),
    commitment_period=st.integers(1, 12),
    breach_trust_penalty=st.floats(0.0, 1.0),
    cheap_talk=st.booleans(),
    declare_trust_penalty=st.floats(0.0, 1.0),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=lever_configs, seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_for_random_lever_configs_and_actions(config, seed):
    game = race_v0.RaceGame(config)
    rng = np.random.default_rng(seed)
    game.action_space.seed(seed)
    batch = 8
    state = game.reset(rng, batch)
    assert len(game.observation_slots) == game.observation_space.shape[0] == config.observation_size
    for _ in range(config.max_steps):
        before = state.capability.copy()
        actions = np.stack([[game.action_space.sample() for _ in range(config.num_labs)] for _ in range(batch)])
        result = game.step(state, game.check_actions(actions, batch), rng)
        obs = game.observe(state)
        assert np.all(state.capability >= before), "capabilities never fall"
        assert np.all(state.capability - before <= config.compute_cap + 1e-12), "the compute cap binds"
        assert np.all((state.accident_hazard >= 0) & (state.accident_hazard <= 1))
        assert np.all((state.safety_ratio >= 0) & (state.safety_ratio <= 1))
        assert np.all((state.trust >= 0) & (state.trust <= 1)), "trust stays in [0, 1]"
        assert np.all(np.isfinite(result.rewards)) and np.all(np.isfinite(obs))
        assert all(game.observation_space.contains(o) for o in obs.reshape(-1, obs.shape[-1]))
        ended = result.terminated | result.truncated
        assert not np.any(result.terminated & result.truncated), "exactly one kind of ending"
        outcome = result.info["outcome"]
        assert np.all((outcome != 0) == ended), "an outcome exactly when the episode ends"
        np.testing.assert_array_equal(result.rewards[~ended], -result.info["sanction"][~ended])
        assert np.all(result.info["sanction"] >= 0) and (config.audit_probability > 0 or not result.info["sanction"].any())
        assert np.all((result.info["winner"] >= 0) == np.isin(outcome, [WINNER, PIVOTAL_ACT]))
        infos = game.agent_infos(state, result, 0)
        assert all(isinstance(v, (int, float)) for info in infos for v in info.values())
        if ended.any():
            game.reset_where(state, ended, rng)


# --------------------------------------------------------------------------------------------
# API contracts of the MultiDiscrete variant (the Box variant is in test_api.VARIANTS)
# --------------------------------------------------------------------------------------------

DISCRETE_LEVERS = {"scenario": "all_levers", "action_type": "discrete"}


# (PettingZoo's parallel, AEC and seed tests of this variant run in tests/envs/test_api.py's VARIANTS)


@pytest.mark.filterwarnings("error")
def test_multidiscrete_variant_passes_the_gymnasium_and_sb3_checkers():
    import warnings

    import gymnasium
    from gymnasium.utils.env_checker import check_env as gym_check_env
    from stable_baselines3.common.env_checker import check_env

    gym_check_env(gymnasium.make("labrace/Race-v0", **DISCRETE_LEVERS).unwrapped, skip_render_check=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="We recommend you to use a symmetric and normalized Box action space")
        check_env(race_v0.gym_env(**DISCRETE_LEVERS), warn=True)


@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_sb3_ppo_and_supersuit_accept_the_lever_action_spaces(action_type):
    import supersuit as ss
    from stable_baselines3 import PPO

    venv = labrace.make_vec("race_v0", num_envs=2, seed=0, scenario="all_levers", action_type=action_type)
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=16 * venv.num_envs)
    actions, _ = model.predict(venv.reset(), deterministic=True)
    venv.step(actions)
    env = ss.pettingzoo_env_to_vec_env_v1(race_v0.parallel_env(scenario="all_levers", action_type=action_type))
    env = ss.concat_vec_envs_v1(env, 2, num_cpus=0, base_class="stable_baselines3")
    env.reset()
    env.action_space.seed(0)
    for _ in range(30):
        _, rewards, _, _ = env.step(np.stack([env.action_space.sample() for _ in range(env.num_envs)]))
        assert np.all(np.isfinite(rewards))
    env.close()


def test_renders_show_the_lever_state():
    env = race_v0.parallel_env(scenario="all_levers", render_mode="ansi")
    env.reset(seed=3)
    env.step({a: race_v0.allocation_to_action(env.game.config, (1.0, 0.0, 0.0), commit=True, declare="pivotal_act") for a in env.agents})
    text = env.render()
    assert "levers: audits p=0.2" in text and "cheap talk" in text
    for column in ("audited", "verified", "sanction", "paused", "committed", "declared"):
        assert column in text.splitlines()[2]
    assert text.count("pivotal_act") == 3 and text.count("yes") >= 3  # every lab declared and committed
    plain = race_v0.parallel_env(render_mode="ansi")
    plain.reset(seed=3)
    assert "levers:" not in plain.render() and "declared" not in plain.render()
    # one more bar per lab for each lever with a state (verified, committed, paused, declared)
    wide = race_v0.parallel_env(scenario="all_levers", render_mode="rgb_array")
    narrow = race_v0.parallel_env(render_mode="rgb_array")
    wide.reset(seed=3), narrow.reset(seed=3)
    assert wide.render().shape[1] - narrow.render().shape[1] == 3 * 4 * 8


@settings(max_examples=200, deadline=None)
@given(
    gain=st.one_of(st.sampled_from([0.0, 5e-324, 1e-17, 2**-54, 0.1, 0.3, 0.5 - 2**-54, 0.5, 0.7, 1.0 - 2**-53, 1.0]), st.floats(0.0, 1.0)),
    trust=st.sampled_from([0.0, 1e-300, 0.3, 1.0 - 2**-53, 1.0]),
    declare=st.booleans(),
    breach=st.booleans(),
    self_trust=st.sampled_from([1.0, 0.8]),
)
def test_trust_events_keep_trust_in_zero_one_and_self_trust_unchanged(gain, trust, declare, breach, self_trust):
    """The trust rule's events (declared pivotal act, verified cooperation, breach) in their order:
    trust stays in [0, 1], also at the awkward edges of rounding, and a lab's trust in itself never changes."""
    config = RaceConfig(num_labs=3, self_trust=self_trust)
    state = race_v0.reset_batch(config, np.random.default_rng(0), 4)
    off_diagonal = ~np.eye(3, dtype=bool)
    state.trust[:, off_diagonal] = trust
    race_levers.lower_trust(state, np.full((4, 3), config.declare_trust_penalty * declare))
    race_levers.raise_trust(state, np.full((4, 3), gain))
    race_levers.lower_trust(state, np.full((4, 3), config.breach_trust_penalty * breach))
    assert (state.trust[:, off_diagonal] >= 0.0).all() and (state.trust[:, off_diagonal] <= 1.0).all()
    assert (state.trust[:, ~off_diagonal] == config.self_trust).all()
    if not (declare or breach):  # a pure gain never lowers trust, x + g (1 - x) >= x (up to rounding)
        assert (state.trust[:, off_diagonal] >= trust - 1e-15).all()


def test_float32_actions_step_as_their_float64_values():
    """Box actions arrive as float32 from policies and are read as they are (no upcast copy); the
    step must be the one of the same values in float64."""
    game = labrace.make_game("race_v0", "all_levers")
    rng = np.random.default_rng(3)
    actions32 = rng.random((64, 3, game.action_space.shape[0])).astype(np.float32)
    assert game.check_actions(actions32, 64).dtype == np.float32
    states = [game.reset(np.random.default_rng(0), 64) for _ in range(2)]
    rngs = [np.random.default_rng(1), np.random.default_rng(1)]
    for _ in range(5):
        results = [game.step(s, a, r) for s, a, r in zip(states, (actions32, actions32.astype(np.float64)), rngs)]
        np.testing.assert_array_equal(results[0].rewards, results[1].rewards)
    for name in ("capability", "safety", "trust", "last_allocation", "committed", "declared", "pause_left"):
        np.testing.assert_array_equal(getattr(states[0], name), getattr(states[1], name))
