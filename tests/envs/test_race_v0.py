"""race_v0 as a specification: config, dynamics, outcomes, calibration targets, bad input."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import labrace
from labrace.agents.baselines import FixedAllocation, Opportunist, make_baseline
from labrace.agents.evaluation import rollout
from labrace.envs import race_v0
from labrace.envs.core import _game_axes
from labrace.envs.race_v0 import (
    CATASTROPHE,
    COORDINATED,
    OUTCOMES,
    PIVOTAL_ACT,
    RaceConfig,
    WINNER,
    actions_to_allocation,
    reset_batch,
    step_batch,
)

RACE, SAFE, COOP = (1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)


def play(scenario: str, allocations, episodes: int = 2000, seed: int = 0, **overrides):
    """Roll out one fixed allocation per lab (or one for all) with the batched core."""
    game = labrace.make_game("race_v0", scenario, **overrides)
    if not isinstance(allocations, list):
        allocations = [allocations] * game.num_agents
    return rollout(game, [FixedAllocation(game, a, str(a)) for a in allocations], episodes, seed=seed)


# --------------------------------------------------------------------------------------------
# Config and scenarios
# --------------------------------------------------------------------------------------------

BAD_FIELDS = [
    ("num_labs", 1),
    ("num_labs", 17),
    ("num_labs", 2.5),
    ("max_steps", 0),
    ("action_type", "box"),
    ("capability_info", "private"),
    ("capability_noise", -0.1),
    ("lab_types", ("hawk", "eagle")),
    ("lab_types", ()),
    ("self_trust", 1.5),
    ("initial_capability", (0.0, 0.1)),
    ("initial_capability", (0.3, 0.2)),
    ("initial_capability", (0.1, 1.0)),
    ("initial_safety", (0.1,)),
    ("capability_growth", 0.0),
    ("safety_growth", float("nan")),
    ("cooperation_spillover", -1.0),
    ("coordination_rate", 2.0),
    ("accident_rate", 1.1),
    ("misalignment_risk", -0.5),
    ("frontier_value", -1.0),
    ("winner_bonus", float("inf")),
    ("catastrophe_loss", "ten"),
    ("pivotal_act", "yes"),
    ("pivotal_lead_scale", 0.0),
    ("pivotal_failure_risk", 2.0),
    ("pivotal_trust_penalty", -0.1),
]


@pytest.mark.parametrize("field,value", BAD_FIELDS)
def test_invalid_config_value_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        RaceConfig(**{field: value})


def test_invalid_value_error_states_the_allowed_range():
    with pytest.raises(ValueError, match=r"num_labs must be an integer in \[2, 16\]; got 40"):
        race_v0.parallel_env(num_labs=40)


def test_unknown_field_lists_the_valid_fields():
    with pytest.raises(ValueError, match="unknown RaceConfig field.*'speed_of_light'.*valid fields are.*num_labs"):
        race_v0.parallel_env(speed_of_light=1.0)


def test_unknown_scenario_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown race_v0 scenario 'doves'.*accident_doves.*baseline"):
        race_v0.parallel_env(scenario="doves")


def test_scenarios_are_listable_printable_and_overridable():
    names = race_v0.list_scenarios()
    for required in ("baseline", "misuse_hawks", "accident_doves", "cruel_tradeoff", "pivotal_act", "easy_coordination"):
        assert required in names
    text = str(race_v0.SCENARIOS["cruel_tradeoff"])
    assert "cruel_tradeoff" in text and "lab_types = ('hawk', 'dove')" in text
    env = race_v0.parallel_env(scenario="cruel_tradeoff", num_labs=5)
    assert env.config.num_labs == 5 and env.config.lab_types == ("hawk", "dove")
    assert race_v0.make_config("pivotal_act").pivotal_act is True
    assert race_v0.make_config("easy_coordination").coordination_rate == 2 * RaceConfig().coordination_rate


def test_lab_types_last_entry_fills_the_remaining_labs():
    config = RaceConfig(num_labs=4, lab_types=("hawk", "dove"))
    assert [config.lab_type(i) for i in range(4)] == [race_v0.LAB_TYPES[t] for t in ("hawk", "dove", "dove", "dove")]
    state = reset_batch(config, np.random.default_rng(0), 500)
    assert state.misuse_concern[:, 0].min() >= 0.8 and state.misuse_concern[:, 1:].max() <= 0.2
    assert state.trust[:, 0, 1:].max() <= 0.2 and state.trust[:, 1:, 0].min() >= 0.6
    assert np.all(state.trust[:, np.arange(4), np.arange(4)] == config.self_trust)


def test_lab_types_round_trip_through_json():
    import json

    custom = race_v0.LabType(misuse_concern=(0.9, 0.9), accident_concern=(0.1, 0.2), trust=(0.0, 0.1))
    config = RaceConfig(lab_types=("hawk", custom))
    again = RaceConfig(**json.loads(json.dumps(dataclasses.asdict(config))))
    assert again == config
    with pytest.raises(ValueError, match="needs exactly the keys"):
        RaceConfig(lab_types=({"misuse_concern": (0, 1)},))
    with pytest.raises(ValueError, match=r"LabType.trust\[1\] must be in \[0.0, 1.0\]"):
        RaceConfig(lab_types=({"misuse_concern": (0, 1), "accident_concern": (0, 1), "trust": (0, 2)},))


def test_config_coerces_lists_to_tuples_and_is_hashable():
    config = RaceConfig(lab_types=["hawk"], initial_capability=[0.1, 0.2])
    assert config.lab_types == ("hawk",) and config.initial_capability == (0.1, 0.2)
    hash(config)


# --------------------------------------------------------------------------------------------
# Spaces, observations, rendering
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_labs", [2, 3, 16])
def test_observation_size_and_slots(num_labs):
    env = race_v0.parallel_env(num_labs=num_labs)
    obs, _ = env.reset(seed=0)
    size = 7 + 3 * (num_labs - 1)
    assert env.observation_space("lab_0").shape == (size,)
    assert len(env.game.observation_slots) == size
    assert all(o.shape == (size,) and o.dtype == np.float32 for o in obs.values())


def test_observation_is_egocentric():
    env = race_v0.parallel_env(num_labs=3)
    obs, _ = env.reset(seed=3)
    state = env.batch_state
    c = state.capability[0]
    # lab_1 sees lab_2 first, then lab_0
    np.testing.assert_allclose(obs["lab_1"][[7, 10]], [c[2], c[0]], rtol=1e-6)
    np.testing.assert_allclose(obs["lab_1"][[9, 12]], [state.trust[0, 1, 2], state.trust[0, 1, 0]], rtol=1e-6)
    np.testing.assert_allclose(obs["lab_1"][2:4], [state.misuse_concern[0, 1], state.accident_concern[0, 1]], rtol=1e-6)


def one_game(state: race_v0.RaceState, game: int) -> race_v0.RaceState:
    """Game ``game`` of a batched state, as a state of one game."""
    return race_v0.RaceState(**{
        name: np.take(getattr(state, name), [game], axis=game_axis) for name, game_axis in _game_axes(race_v0.RaceState)
    })


@pytest.mark.parametrize("scenario, overrides", [
    ("all_levers", {"capability_info": "noisy", "num_labs": 4}),
    ("pivotal_act", {"capability_info": "none", "num_labs": 3}),
    ("baseline", {"num_labs": 5}),
])
def test_a_large_batch_observes_each_game_as_it_would_alone(scenario, overrides):
    # a large batch is observed with the same numbers as each of its games alone
    game = labrace.make_game("race_v0", scenario, **overrides)
    rng = np.random.default_rng(0)
    game.action_space.seed(0)
    batch = 1027
    state = game.reset(rng, batch)
    for _ in range(5):
        actions = np.stack([np.stack([game.action_space.sample() for _ in range(game.num_agents)]) for _ in range(batch)])
        game.step(state, actions, rng)
    observations = game.observe(state)
    for index in range(batch):
        np.testing.assert_array_equal(observations[index], game.observe(one_game(state, index))[0])


@pytest.mark.parametrize("regime", ["none", "noisy", "public"])
def test_capability_information_regimes(regime):
    env = race_v0.parallel_env(capability_info=regime, capability_noise=0.2)
    obs, _ = env.reset(seed=1)
    truth = env.batch_state.capability[0, [1, 2]]
    seen = obs["lab_0"][[7, 10]]
    if regime == "none":
        assert np.all(seen == 0.0)
    elif regime == "public":
        np.testing.assert_allclose(seen, truth, rtol=1e-6)
    else:
        assert not np.allclose(seen, truth) and np.all((seen >= 0) & (seen <= 2))


def test_discrete_menu_and_pivotal_item():
    env = race_v0.parallel_env(action_type="discrete")
    assert env.action_space("lab_0").n == len(race_v0.MENU)
    env = race_v0.parallel_env(action_type="discrete", pivotal_act=True)
    assert env.action_space("lab_0").n == len(race_v0.MENU) + 1
    config = env.config
    allocation, attempt = actions_to_allocation(config, np.array([[0, 5, len(race_v0.MENU)]]))
    np.testing.assert_allclose(allocation[0], [RACE, COOP, RACE])
    assert attempt.tolist() == [[False, False, True]]


def test_continuous_allocation_is_normalised_and_zero_means_equal_split():
    config = RaceConfig()
    allocation, attempt = actions_to_allocation(config, np.array([[[2.0, 1.0, 1.0], [0, 0, 0], [0, 0, 0.5]]]) / 2)
    np.testing.assert_allclose(allocation[0], [[0.5, 0.25, 0.25], [1 / 3, 1 / 3, 1 / 3], [0, 0, 1]])
    assert attempt is None


def test_render_modes():
    env = race_v0.parallel_env(render_mode="ansi")
    env.reset(seed=0)
    text = env.render()
    assert "capability" in text and "lab_2" in text and "coordination" in text
    while env.agents:
        env.step({a: np.array([1.0, 0.0, 0.0], dtype=np.float32) for a in env.agents})
    assert "outcome:" in env.render()
    env = race_v0.parallel_env(render_mode="rgb_array")
    env.reset(seed=0)
    image = env.render()
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    with pytest.raises(ValueError, match="render_mode must be None or one of"):
        race_v0.parallel_env(render_mode="video")


def test_human_render_prints_the_table(capsys):
    env = race_v0.parallel_env(render_mode="human")
    env.reset(seed=0)
    assert env.render() is None
    assert "race_v0  step 0/50" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------
# Bad actions
# --------------------------------------------------------------------------------------------


@pytest.fixture
def running_env():
    env = race_v0.parallel_env()
    env.reset(seed=0)
    return env


GOOD = np.array([0.3, 0.3, 0.4], dtype=np.float32)


@pytest.mark.parametrize(
    "bad,message",
    [
        (np.array([0.5, 0.5]), r"must have shape \(1, 3, 3\)|must have shape \(3,\)"),
        (np.array([0.5, -0.1, 0.5]), r"values in \[0, 1\]; got -0.1 \(game 0, lab_1\)"),
        (np.array([0.5, 1.5, 0.5]), r"values in \[0, 1\]; got 1.5"),
        (np.array([np.nan, 0.5, 0.5]), "NaN"),
        ("fast", "must be an array"),
    ],
)
def test_bad_action_raises_a_clear_error(running_env, bad, message):
    actions = {"lab_0": GOOD, "lab_1": bad, "lab_2": GOOD}
    with pytest.raises(ValueError, match=message):
        running_env.step(actions)


def test_unknown_and_missing_agents(running_env):
    with pytest.raises(ValueError, match=r"unknown or finished agents \['lab_7'\]"):
        running_env.step({"lab_0": GOOD, "lab_1": GOOD, "lab_2": GOOD, "lab_7": GOOD})
    with pytest.raises(ValueError, match=r"no action given for agents \['lab_2'\]"):
        running_env.step({"lab_0": GOOD, "lab_1": GOOD})
    with pytest.raises(ValueError, match="unknown agent 'lab_9'"):
        running_env.action_space("lab_9")


def test_discrete_bad_actions():
    env = race_v0.parallel_env(action_type="discrete")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"integer in \[0, 6\]; got 7 \(game 0, lab_2\)"):
        env.step({"lab_0": 0, "lab_1": 1, "lab_2": 7})
    with pytest.raises(ValueError, match="must be an integer"):
        env.step({"lab_0": 0, "lab_1": 1.5, "lab_2": 2})
    env.step({"lab_0": 0, "lab_1": np.int64(1), "lab_2": 2.0})  # integral values are fine


def test_step_after_the_end_raises():
    env = race_v0.parallel_env(max_steps=1)
    env.reset(seed=0)
    env.step({a: GOOD for a in env.agents})
    assert env.agents == []
    with pytest.raises(RuntimeError, match="call reset"):
        env.step({"lab_0": GOOD})


def test_vec_env_bad_actions():
    venv = labrace.make_vec("race_v0", num_envs=2, seed=0)
    venv.reset()
    with pytest.raises(ValueError, match=r"must have shape \(6, 3\)"):
        venv.step(np.zeros((5, 3)))
    actions = np.full((6, 3), 0.3)
    actions[4, 1] = np.nan
    with pytest.raises(ValueError, match=r"NaN.*\(game 1, lab_1\)"):
        venv.step(actions)


# --------------------------------------------------------------------------------------------
# Determinism: same seed, same episode, whichever path drives the core
# --------------------------------------------------------------------------------------------


def episode_trace(env, seed, actions_rng_seed=7):
    rng = np.random.default_rng(actions_rng_seed)
    obs, _ = env.reset(seed=seed)
    trace = [np.concatenate([obs[a] for a in env.possible_agents])]
    while env.agents:
        actions = {a: rng.random(3).astype(np.float32) for a in env.agents}
        obs, rewards, _, _, infos = env.step(actions)
        trace.append(np.concatenate([obs[a] for a in env.possible_agents] + [[rewards[a] for a in env.possible_agents]]))
    return np.concatenate(trace), infos["lab_0"]["outcome"]


def test_same_seed_same_episode():
    a = episode_trace(race_v0.parallel_env(capability_info="noisy"), seed=11)
    b = episode_trace(race_v0.parallel_env(capability_info="noisy"), seed=11)
    c = episode_trace(race_v0.parallel_env(capability_info="noisy"), seed=12)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert not np.array_equal(a[0][: len(c[0])], c[0][: len(a[0])])


@pytest.mark.parametrize("overrides", [{}, {"pivotal_act": True, "capability_info": "noisy"}, {"action_type": "discrete"}])
def test_batched_core_vec_env_and_pettingzoo_agree_exactly(overrides):
    """The batched core (B = 1), the SB3 VecEnv and the PettingZoo env give identical episodes."""
    seed, steps = 5, 60
    env = race_v0.parallel_env(**overrides)
    game = env.game
    action_rng = np.random.default_rng(0)
    actions = np.stack([[game.action_space.sample() for _ in range(game.num_agents)] for _ in range(steps)])
    if overrides.get("pivotal_act"):
        actions[..., 3] = (action_rng.random(actions.shape[:2]) < 0.05).astype(np.float32)

    obs, _ = env.reset(seed=seed)
    venv = labrace.make_vec("race_v0", num_envs=1, seed=seed, **overrides)
    vec_obs = venv.reset()
    rng = np.random.default_rng(seed)
    state = game.reset(rng, 1)
    for t in range(steps):
        np.testing.assert_array_equal(np.stack([obs[a] for a in env.possible_agents]), game.observe(state)[0])
        np.testing.assert_array_equal(vec_obs, game.observe(state)[0])
        result = game.step(state, game.check_actions(actions[t][None], 1), rng)
        obs, rewards, terms, truncs, infos = env.step(dict(zip(env.possible_agents, actions[t])))
        vec_obs, vec_rewards, dones, vec_infos = venv.step(actions[t])
        np.testing.assert_array_equal([rewards[a] for a in env.possible_agents], result.rewards[0])
        np.testing.assert_array_equal(vec_rewards, result.rewards[0].astype(np.float32))
        if not env.agents:
            assert dones.all() and vec_infos[0]["outcome"] == infos["lab_0"]["outcome"]
            np.testing.assert_array_equal(vec_infos[1]["terminal_observation"], obs["lab_1"])
            break
        assert not dones.any()


GOLDEN_SEED = 2024


def test_golden_trajectory():
    """Pins the dynamics: any change to a rule or to the order of random draws shows up here."""
    env = race_v0.parallel_env()
    env.reset(seed=GOLDEN_SEED)
    allocation = {"lab_0": np.array([0.6, 0.4, 0.0]), "lab_1": np.array([0.2, 0.5, 0.3]), "lab_2": np.array([0.0, 0.2, 0.8])}
    steps = 0
    while env.agents:
        obs, rewards, _, _, infos = env.step({a: allocation[a].astype(np.float32) for a in env.agents})
        steps += 1
    assert (steps, infos["lab_0"]["outcome"], infos["lab_0"]["winner"]) == GOLDEN_OUTCOME
    np.testing.assert_allclose([rewards[a] for a in env.possible_agents], GOLDEN_REWARDS, rtol=1e-12)
    np.testing.assert_allclose(float(sum(o.sum() for o in obs.values())), GOLDEN_OBS_SUM, rtol=1e-6)


GOLDEN_OUTCOME = (19, CATASTROPHE, -1)
GOLDEN_REWARDS = [-6.197864387099332, -6.983208395461866, -3.568927261120207]
GOLDEN_OBS_SUM = 17.080459594726562


# --------------------------------------------------------------------------------------------
# Properties over random configs and actions
# --------------------------------------------------------------------------------------------

configs = st.builds(
    RaceConfig,
    num_labs=st.integers(2, 6),
    max_steps=st.integers(1, 60),
    action_type=st.sampled_from(["continuous", "discrete"]),
    capability_info=st.sampled_from(["none", "noisy", "public"]),
    lab_types=st.lists(st.sampled_from(sorted(race_v0.LAB_TYPES)), min_size=1, max_size=2).map(tuple),
    capability_growth=st.floats(0.01, 1.0),
    safety_growth=st.floats(0.01, 1.0),
    coordination_rate=st.floats(0.001, 0.2),
    accident_rate=st.floats(0.0, 1.0),
    misalignment_risk=st.floats(0.0, 1.0),
    pivotal_act=st.booleans(),
    pivotal_failure_risk=st.floats(0.0, 1.0),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs, seed=st.integers(0, 2**31 - 1))
def test_invariants_hold_for_random_configs_and_actions(config, seed):
    game = race_v0.RaceGame(config)
    rng = np.random.default_rng(seed)
    batch = 16
    state = game.reset(rng, batch)
    finished = np.zeros(batch, dtype=bool)
    for _ in range(config.max_steps):
        before = state.capability.copy()
        if config.action_type == "discrete":
            actions = rng.integers(0, game.action_space.n, size=(batch, config.num_labs))
        else:
            actions = rng.random((batch, config.num_labs) + game.action_space.shape)
            actions[rng.random((batch, config.num_labs)) < 0.1] = 0.0  # all-zero effort
        result = game.step(state, game.check_actions(actions, batch), rng)
        obs = game.observe(state)
        live = ~finished
        assert np.all(state.capability >= before), "capabilities never fall"
        assert np.all((state.accident_hazard >= 0) & (state.accident_hazard <= 1)), "hazard is a probability"
        assert np.all((state.safety_ratio >= 0) & (state.safety_ratio <= 1))
        assert np.all(np.isfinite(result.rewards)) and np.all(np.isfinite(obs))
        assert all(game.observation_space.contains(o) for o in obs[live].reshape(-1, obs.shape[-1]))
        ended = result.terminated | result.truncated
        assert not np.any(result.terminated & result.truncated), "exactly one kind of ending"
        outcome = result.info["outcome"]
        assert np.all((outcome != 0) == ended), "an outcome exactly when the episode ends"
        assert np.all(result.rewards[~ended] == 0.0), "rewards only at the end"
        winners = result.info["winner"]
        assert np.all((winners >= 0) == np.isin(outcome, [WINNER, PIVOTAL_ACT]))
        if ended[live].any():
            game.reset_where(state, ended, rng)


def test_episodes_end_by_the_time_limit():
    results = play("baseline", SAFE, episodes=50)
    assert np.all(results.steps == 50) and results.outcome_rate("timeout") == 1.0


# --------------------------------------------------------------------------------------------
# Scripted-policy sanity (DESIGN.md §2) and calibration targets
# --------------------------------------------------------------------------------------------


def test_all_speed_reaches_the_threshold_soonest_and_is_the_most_catastrophic():
    profiles = {name: play("baseline", alloc, episodes=3000) for name, alloc in
                [("race", RACE), ("safe", SAFE), ("cooperate", COOP), ("balanced", (1 / 3,) * 3), ("fast", (0.7, 0.3, 0.0))]}
    steps = {n: r.steps.mean() for n, r in profiles.items()}
    catastrophe = {n: r.outcome_rate("catastrophe") for n, r in profiles.items()}
    assert min(steps, key=steps.get) == "race"
    assert max(catastrophe, key=catastrophe.get) == "race" and catastrophe["race"] > 0.9
    assert catastrophe["safe"] == 0.0 == min(catastrophe.values())
    assert profiles["cooperate"].outcome_rate("coordinated") == 1.0


def test_a_lone_cooperator_cannot_finish_coordination():
    for scenario in ("baseline", "misuse_hawks", "accident_doves", "cruel_tradeoff", "pivotal_act"):
        config = race_v0.make_config(scenario)
        assert config.coordination_rate * config.max_steps < 1.0
        results = play(scenario, [COOP, SAFE, SAFE], episodes=200)
        assert results.outcome_rate("coordinated") == 0.0 and results.outcome_rate("timeout") == 1.0


def speed_deviations(scenario, episodes=4000):
    """Lab 0's return for (s, 1 - s, 0) against two full cooperators, over a grid of speed shares."""
    grid = np.round(np.arange(0.30, 0.81, 0.02), 2)
    returns = [play(scenario, [(s, 1 - s, 0.0), COOP, COOP], episodes, seed=3).returns[:, 0] for s in grid]
    return grid, np.array([r.mean() for r in returns]), np.array([r.std() / np.sqrt(len(r)) for r in returns])


def test_a_misuse_hawk_gains_by_shifting_effort_to_speed_against_cooperators():
    config = race_v0.make_config("misuse_hawks")
    cooperate = play("misuse_hawks", COOP, episodes=100).returns[:, 0].mean()
    assert cooperate == pytest.approx(config.coordination_value)
    grid, means, errors = speed_deviations("misuse_hawks")
    best = np.argmax(means)
    assert means[best] - 3 * errors[best] > cooperate + 0.1, (grid[best], means[best])


def test_an_accident_dove_does_not_gain_by_shifting_effort_to_speed():
    cooperate = race_v0.make_config("accident_doves").coordination_value
    grid, means, errors = speed_deviations("accident_doves")
    assert np.all(means - 3 * errors < cooperate), dict(zip(grid, means))


@pytest.mark.parametrize("scenario", ["baseline", "misuse_hawks", "accident_doves", "cruel_tradeoff"])
def test_coordination_is_worth_more_to_every_lab_than_the_race_when_everyone_races(scenario):
    config = race_v0.make_config(scenario)
    for allocation in (RACE, (0.7, 0.3, 0.0)):
        returns = play(scenario, allocation, episodes=3000).returns
        upper = returns.mean(axis=0) + 3 * returns.std(axis=0) / np.sqrt(len(returns))
        assert np.all(upper < config.coordination_value)


def test_no_pure_allocation_is_dominant_in_the_baseline():
    """For every menu allocation there is an opponent profile against which another does better."""
    menu = [allocation for _, allocation in race_v0.MENU]
    opponents = [RACE, SAFE, COOP, (1 / 3,) * 3]
    value = np.array([[play("baseline", [mine, theirs, theirs], 1500, seed=4).returns[:, 0].mean() for theirs in opponents] for mine in menu])
    best_response = value.argmax(axis=0)
    assert len(set(best_response.tolist())) > 1, value
    for row in range(len(menu)):
        assert np.any(value.max(axis=0) - value[row] > 0.1), (menu[row], value[row])


# --------------------------------------------------------------------------------------------
# Pivotal act
# --------------------------------------------------------------------------------------------


def pivotal_state(config, lead_capability: float, ratio: float = 1.0):
    rng = np.random.default_rng(0)
    state = reset_batch(config, rng, 1000)
    state.capability[:] = 0.3
    state.capability[:, 0] = lead_capability
    state.safety[:] = state.capability * ratio
    state.safety_ratio[:] = ratio
    return state, rng


def test_a_safe_lab_with_a_large_lead_seizes_the_pivot():
    config = RaceConfig(pivotal_act=True, accident_rate=0.0)
    state, rng = pivotal_state(config, lead_capability=0.9)
    attempt = np.zeros((1000, 3), dtype=bool)
    attempt[:, 0] = True
    allocation = np.tile(SAFE, (1000, 3, 1))
    result = step_batch(config, state, allocation, attempt, rng)
    assert np.all(result.info["outcome"] == PIVOTAL_ACT) and np.all(result.info["winner"] == 0)
    # the actor wins the bonus; the others value its win by their (lowered) trust in it
    assert np.all(result.rewards[:, 0] == config.frontier_value + config.winner_bonus)
    assert np.all(state.trust[:, 1:, 0] <= np.maximum(0.7 - config.pivotal_trust_penalty, 0.0) + 1e-12)


def test_an_attempt_without_a_lead_fails_and_costs_trust():
    config = RaceConfig(pivotal_act=True, accident_rate=0.0, pivotal_failure_risk=0.5)
    state, rng = pivotal_state(config, lead_capability=0.3)
    trust_before = state.trust.copy()
    attempt = np.zeros((1000, 3), dtype=bool)
    attempt[:, 1] = True
    result = step_batch(config, state, np.tile(SAFE, (1000, 3, 1)), attempt, rng)
    outcome = result.info["outcome"]
    assert not np.any(outcome == PIVOTAL_ACT)
    failed = outcome == CATASTROPHE
    assert abs(failed.mean() - 0.5) < 3 * np.sqrt(0.25 / 1000)
    assert np.all(result.info["cause"][failed] == race_v0.PIVOTAL_FAILURE)
    assert np.all(result.info["catastrophe_lab"][failed] == 1)
    expected = np.maximum(trust_before[:, [0, 2], 1] - config.pivotal_trust_penalty, 0.0)
    np.testing.assert_allclose(state.trust[:, [0, 2], 1], expected)
    np.testing.assert_array_equal(state.trust[:, 1, :], trust_before[:, 1, :])  # the actor's own trust is unchanged
    # lab_0 observes its lowered trust in lab_1 (its first "other" slot)
    np.testing.assert_allclose(race_v0.observe_batch(config, state)[:, 0, 9], state.trust[:, 0, 1], rtol=1e-6)


def test_the_winners_misalignment_is_catastrophe_with_probability_one_minus_safety_ratio():
    config = RaceConfig(accident_rate=0.0)
    rng = np.random.default_rng(1)
    state = reset_batch(config, rng, 20000)
    state.capability[:] = 0.5
    state.capability[:, 2] = 0.99
    state.safety[:] = state.capability * 0.6
    result = step_batch(config, state, np.tile(RACE, (20000, 3, 1)), None, rng)
    ratio = state.safety[:, 2] / state.capability[:, 2]
    p = (1 - ratio).mean()
    rate = np.mean(result.info["outcome"] == CATASTROPHE)
    assert abs(rate - p) < 3 * np.sqrt(p * (1 - p) / 20000)
    assert np.all(result.info["outcome"] != COORDINATED)
    assert np.all(np.isin(result.info["outcome"], [CATASTROPHE, WINNER]))
    assert set(OUTCOMES) >= {"catastrophe", "winner", "pivotal_act", "coordinated", "timeout"}


def test_conditional_cooperator_reciprocates():
    game = labrace.make_game("race_v0")
    policy = make_baseline("conditional_cooperator", game)
    env = race_v0.parallel_env()
    obs, _ = env.reset(seed=0)
    first = policy.act(np.stack([obs["lab_0"]]))
    np.testing.assert_allclose(first[0], COOP)
    obs, *_ = env.step({"lab_0": first[0], "lab_1": np.array(RACE, np.float32), "lab_2": np.array(RACE, np.float32)})
    np.testing.assert_allclose(policy.act(np.stack([obs["lab_0"]]))[0], (0.7, 0.3, 0.0), rtol=1e-6)


@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_an_opportunist_attempts_the_pivotal_act_once_it_leads_every_rival_by_its_lead(action_type):
    game = labrace.make_game("race_v0", "pivotal_act", action_type=action_type)
    policy = Opportunist(game, (0.4, 0.6, 0.0), lead=0.3)
    slots = game.observation_slots
    observations = np.zeros((3, len(slots)), dtype=np.float32)
    observations[:, slots.index("capability")] = [0.5, 0.5, 0.6]
    observations[:, slots.index("other_1_capability")] = [0.3, 0.1, 0.2]
    observations[:, slots.index("other_2_capability")] = [0.1, 0.25, 0.3]  # leads 0.2, 0.25, 0.3
    actions = policy.act(observations)
    np.testing.assert_array_equal(actions[:2], np.stack([race_v0.allocation_to_action(game.config, (0.4, 0.6, 0.0))] * 2))
    np.testing.assert_array_equal(actions[2], race_v0.allocation_to_action(game.config, (0.4, 0.6, 0.0), attempt=True))
    with pytest.raises(ValueError, match="pivotal_act=True"):
        Opportunist(labrace.make_game("race_v0"), (0.4, 0.6, 0.0), lead=0.3)
    with pytest.raises(ValueError, match=r"lead must be .* \[0, 2\]"):
        Opportunist(game, (0.4, 0.6, 0.0), lead=-0.1)


def test_config_dataclass_fields_are_documented_in_the_module():
    doc = race_v0.__doc__
    for name in ("accident_hazard", "outcome", "winner", "cause", "catastrophe_lab", "Observation space", "Action space", "Rewards"):
        assert name in doc
    assert {f.name for f in dataclasses.fields(RaceConfig)} >= {"num_labs", "max_steps", "pivotal_act"}


# --------------------------------------------------------------------------------------------
# expected_rewards: accidents and misalignment paid in expectation (a training aid)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario, overrides, allocations", [
    ("misuse_hawks", {}, RACE),
    ("misuse_hawks", {}, [(0.7, 0.3, 0.0), COOP, COOP]),
    ("baseline", {}, [(0.5, 0.5, 0.0), (0.3, 0.7, 0.0), RACE]),
    ("baseline", {"audit_probability": 0.3, "safety_floor": 0.5, "pause_steps": 2}, [RACE, (0.4, 0.6, 0.0), COOP]),
])
def test_expected_rewards_keep_every_labs_expected_return(scenario, overrides, allocations):
    drawn = play(scenario, allocations, episodes=20000, seed=4, **overrides).returns
    expected = play(scenario, allocations, episodes=20000, seed=4, expected_rewards=True, **overrides).returns
    difference = expected.mean(axis=0) - drawn.mean(axis=0)
    error = np.sqrt(drawn.var(axis=0) / len(drawn) + expected.var(axis=0) / len(expected))
    assert np.all(np.abs(difference) < 4 * error + 1e-9), (difference, error)


def test_expected_rewards_cut_the_variance_of_a_race_and_leave_no_drawn_accident():
    hawks = ({"misuse_concern": (0.9, 0.9), "accident_concern": (0.2, 0.2), "trust": (0.1, 0.1)},)  # one type, no spread
    drawn = play("baseline", RACE, episodes=5000, seed=1, lab_types=hawks)
    expected = play("baseline", RACE, episodes=5000, seed=1, lab_types=hawks, expected_rewards=True)
    assert drawn.outcome_rate("catastrophe") > 0.9
    assert expected.outcome_rate("catastrophe") == 0.0  # paid in expectation, never drawn
    assert expected.returns[:, 0].var() < drawn.returns[:, 0].var() / 100


def test_expected_rewards_draw_the_same_random_stream():
    # the games that go on without an accident are the same numbers in both modes
    sampled, expected = RaceConfig(), RaceConfig(expected_rewards=True)
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    a, b = reset_batch(sampled, rng_a, 500), reset_batch(expected, rng_b, 500)
    going = np.ones(500, dtype=bool)
    allocation = np.tile((0.6, 0.3, 0.1), (500, 3, 1))
    for _ in range(8):
        result = step_batch(sampled, a, allocation, None, rng_a)
        step_batch(expected, b, allocation, None, rng_b)
        going &= ~(result.terminated | result.truncated)
        np.testing.assert_array_equal(a.capability[going], b.capability[going])
        np.testing.assert_array_equal(a.safety[going], b.safety[going])
    assert 0 < going.sum() < 500
    assert np.all(b.survival < 1.0) and np.all(a.survival == 1.0)


def test_expected_rewards_must_be_a_bool():
    with pytest.raises(ValueError, match="expected_rewards"):
        RaceConfig(expected_rewards="yes")
