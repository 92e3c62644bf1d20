"""Every environment of the registry passes the PettingZoo, Gymnasium, SB3 and SuperSuit contracts."""

from __future__ import annotations

import functools
import warnings
from types import SimpleNamespace

import gymnasium
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, render_test, seed_test

import labrace
from labrace.envs import ENVIRONMENTS, load
from labrace.envs.race_v0 import OUTCOMES

# (env name, config overrides): every env in its default form, plus race_v0's and dsair_v0's lever variants
VARIANTS = [(name, {}) for name in ENVIRONMENTS] + [
    ("race_v0", {"action_type": "discrete"}),
    ("race_v0", {"scenario": "pivotal_act"}),
    ("race_v0", {"scenario": "pivotal_act", "action_type": "discrete"}),
    ("race_v0", {"capability_info": "noisy", "num_labs": 5}),
    ("race_v0", {"capability_info": "none", "num_labs": 2}),
    ("race_v0", {"scenario": "all_levers"}),
    ("race_v0", {"scenario": "all_levers", "action_type": "discrete"}),
    ("dsair_v0", {"scenario": "commitments"}),
    ("dsair_v0", {"scenario": "commitments", "num_labs": 3, "detection_probability": 0.5, "sanction_speed": 0.5}),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}" for name, kw in VARIANTS]

pytestmark = pytest.mark.filterwarnings("error")


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=IDS)
def test_pettingzoo_parallel_api(name, kwargs):
    parallel_api_test(load(name).parallel_env(**kwargs), num_cycles=300)


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=IDS)
def test_pettingzoo_aec_api(name, kwargs):
    # PettingZoo's api_test advises Discrete or Box action spaces; the lever variants with discrete
    # actions are MultiDiscrete by design (a menu item, a commitment, a declared intention)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Action space for each agent probably should be")
        api_test(load(name).env(**kwargs), num_cycles=300)


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=IDS)
def test_pettingzoo_seed(name, kwargs):
    module = load(name)
    parallel_seed_test(lambda: module.parallel_env(**kwargs), num_cycles=200)
    seed_test(lambda: module.env(**kwargs), num_cycles=200)


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_pettingzoo_render(name, capsys):
    module = load(name)
    render_test(lambda render_mode=None: module.env(render_mode=render_mode))


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=IDS)
def test_gymnasium_env_checker(name, kwargs):
    from gymnasium.utils.env_checker import check_env

    # made through gymnasium.make so that the checker also re-makes it in every render mode
    check_env(gymnasium.make(ENVIRONMENTS[name].gym_id, **kwargs).unwrapped, skip_render_check=False)


@pytest.mark.parametrize("name,kwargs", VARIANTS, ids=IDS)
def test_sb3_env_checker(name, kwargs):
    from stable_baselines3.common.env_checker import check_env

    # SB3 recommends a [-1, 1] Box for continuous actions; our Box [0, 1] holds effort shares by
    # design (DESIGN.md: "non-negative, normalised to sum to 1"), so that one advice is allowed.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="We recommend you to use a symmetric and normalized Box action space")
        check_env(load(name).gym_env(**kwargs), warn=True)


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_gymnasium_make_by_id(name):
    entry = ENVIRONMENTS[name]
    env = gymnasium.make(entry.gym_id)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    env.step(env.action_space.sample())
    # the module-prefix form works for code that can only pass an id string
    env = gymnasium.make(f"labrace:{entry.gym_id}")
    env.reset(seed=0)


def test_gymnasium_make_passes_config_and_background():
    env = gymnasium.make("labrace/Race-v0", scenario="cruel_tradeoff", num_labs=4, focal_lab=1, background="cooperate")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (7 + 3 * 3,)
    assert env.unwrapped.config.num_labs == 4 and env.unwrapped.focal_lab == 1


def test_focal_lab_env_background_policies_act_for_the_other_labs():
    from labrace.envs import race_v0

    env = race_v0.gym_env(background=["race", lambda obs: np.tile([0.0, 0.0, 1.0], (len(obs), 1))])
    env.reset(seed=0)
    env.step(np.array([0.0, 1.0, 0.0], dtype=np.float32))
    allocation = env._state.last_allocation[0]
    np.testing.assert_allclose(allocation, [[0, 1, 0], [1, 0, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="background must list 2 policies"):
        race_v0.gym_env(background=["race"])
    with pytest.raises(ValueError, match="unknown race_v0 baseline 'reckless'"):
        race_v0.gym_env(background="reckless")
    with pytest.raises(ValueError, match=r"focal_lab must be an integer in \[0, 2\]"):
        race_v0.gym_env(focal_lab=3)
    bad = race_v0.gym_env(background=lambda obs: np.full((len(obs), 3), 2.0))
    bad.reset(seed=0)
    with pytest.raises(ValueError, match=r"values in \[0, 1\]; got 2 \(game 0, lab_1\)"):
        bad.step(np.array([0.3, 0.3, 0.4], dtype=np.float32))


# --------------------------------------------------------------------------------------------
# The SB3 VecEnv over the batched core
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_vec_env_contract(name):
    venv = labrace.make_vec(name, num_envs=4, seed=3)
    labs = venv.game.num_agents
    assert venv.num_envs == 4 * labs
    obs = venv.reset()
    assert obs.shape == (venv.num_envs,) + venv.observation_space.shape
    venv.action_space.seed(0)
    finished = 0
    for _ in range(200):
        actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
        obs, rewards, dones, infos = venv.step(actions)
        assert obs.shape[0] == rewards.shape[0] == dones.shape[0] == len(infos) == venv.num_envs
        assert np.all(np.isfinite(rewards)) and np.all(np.isfinite(obs))
        for game in range(4):
            rows = slice(game * labs, (game + 1) * labs)
            assert dones[rows].all() or not dones[rows].any(), "labs of one game finish together"
        for row in np.flatnonzero(dones):
            finished += 1
            assert venv.observation_space.contains(infos[row]["terminal_observation"])
            assert "outcome" in infos[row] and isinstance(infos[row]["TimeLimit.truncated"], bool)
    assert finished > 0
    assert venv.get_attr("num_agents") == [labs] * venv.num_envs
    assert venv.get_attr("render_mode", indices=[0, 1]) == [None, None]
    assert venv.env_is_wrapped(gymnasium.Wrapper) == [False] * venv.num_envs
    assert venv.env_method("observe", venv.batch_state, indices=[0])[0].shape[:2] == (4, labs)
    venv.set_attr("render_mode", "rgb_array")
    assert venv.render_mode == "rgb_array"
    with pytest.raises(ValueError, match="set_attr applies to all rows"):
        venv.set_attr("render_mode", None, indices=[0])


def test_vec_env_seed_makes_the_batch_reproducible():
    def run(seed):
        venv = labrace.make_vec("race_v0", num_envs=8)
        venv.seed(seed)
        out = [venv.reset()]
        for _ in range(40):
            out.append(venv.step(np.full((venv.num_envs, 3), 0.4, dtype=np.float32))[0])
        return np.stack(out)

    assert np.array_equal(run(1), run(1)) and not np.array_equal(run(1), run(2))


def test_vec_env_time_limit_is_flagged_for_bootstrapping():
    venv = labrace.make_vec("race_v0", num_envs=2, seed=0, max_steps=3)
    venv.reset()
    for _ in range(3):
        _, _, dones, infos = venv.step(np.tile([0.0, 1.0, 0.0], (venv.num_envs, 1)))
    assert dones.all() and all(info["TimeLimit.truncated"] and info["outcome"] == OUTCOMES.index("timeout") for info in infos)


def test_vec_env_trains_with_sb3_ppo():
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    venv = VecMonitor(labrace.make_vec("race_v0", num_envs=4, seed=0))
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=2 * 32 * venv.num_envs)
    assert model.num_timesteps >= 2 * 32 * venv.num_envs


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_supersuit_vector_path(name):
    import supersuit as ss

    env = ss.pettingzoo_env_to_vec_env_v1(load(name).parallel_env())
    env = ss.concat_vec_envs_v1(env, 3, num_cpus=0, base_class="stable_baselines3")
    obs = env.reset()
    assert obs.shape[0] == env.num_envs
    space = env.action_space
    space.seed(0)
    for _ in range(60):
        obs, rewards, dones, infos = env.step(np.stack([space.sample() for _ in range(env.num_envs)]))
        assert np.all(np.isfinite(rewards))
    env.close()


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_vec_env_renders_every_game_in_every_mode(name, capsys):
    ansi = labrace.make_vec(name, num_envs=2, seed=0, render_mode="ansi")
    with pytest.raises(RuntimeError, match="call reset"):
        ansi.render()
    ansi.reset()
    text = ansi.render()
    assert text.startswith("game 0\n") and "\n\ngame 1\n" in text and text.count(name) == 2
    rows = ansi.env_method("render")  # each row renders its own game
    assert len(rows) == ansi.num_envs and rows[0] == ansi.game.render_ansi(ansi.batch_state, 0)
    assert rows[-1] == ansi.game.render_ansi(ansi.batch_state, 1)

    human = labrace.make_vec(name, num_envs=1, seed=0, render_mode="human")
    human.reset()
    capsys.readouterr()
    assert human.render() is None
    assert capsys.readouterr().out == human.game.render_ansi(human.batch_state, 0) + "\n"

    rgb = labrace.make_vec(name, num_envs=2, seed=0, render_mode="rgb_array")
    rgb.reset()
    picture = rgb.render()
    assert picture.dtype == np.uint8 and picture.ndim == 3


# --------------------------------------------------------------------------------------------
# Every API object pickles and deep-copies, and the copy continues the episode as the original
# --------------------------------------------------------------------------------------------


def _api_objects(name):
    """(kind, factory) for every API object of environment ``name``."""
    from labrace.envs.vec_env import GameVecEnv

    module, gym_id = load(name), ENVIRONMENTS[name].gym_id
    return [
        ("parallel_env", module.parallel_env),
        ("env", module.env),
        ("gym_env", module.gym_env),
        ("gymnasium.make", lambda: gymnasium.make(gym_id)),
        ("make_vec", lambda: labrace.make_vec(name, num_envs=2, seed=0)),
        ("focal VecEnv", lambda: GameVecEnv(module.make_game(), 2, seed=0, focal_lab=0)),
    ]


def _start_and_step(kind, env):
    """Reset ``env`` (seed 0) and return a function that plays one step with fixed actions and
    returns what the API gives back."""
    if kind == "parallel_env":
        env.reset(seed=0)
        actions = {}
        for i, agent in enumerate(env.agents):
            env.action_space(agent).seed(i)
            actions[agent] = env.action_space(agent).sample()
        return lambda e: e.step(actions)[:2]
    if kind == "env":
        env.reset(seed=0)
        space = env.action_space(env.agent_selection)
        space.seed(0)
        action = space.sample()

        def step(e):
            e.step(action)
            return e.agent_selection, e.last()[0]

        return step
    if kind in ("gym_env", "gymnasium.make"):
        env.reset(seed=0)
        env.action_space.seed(0)
        action = env.action_space.sample()
        return lambda e: e.step(action)[:2]
    env.reset()
    env.action_space.seed(0)
    actions = np.stack([env.action_space.sample() for _ in range(env.num_envs)])
    return lambda e: e.step(actions)[:2]


def _same(a, b):
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_every_api_object_pickles_and_deep_copies(name):
    import copy
    import pickle

    for kind, make in _api_objects(name):
        fresh = make()
        for duplicate in (lambda e: pickle.loads(pickle.dumps(e)), copy.deepcopy):
            duplicate(fresh)  # before reset
            env = make()
            step = _start_and_step(kind, env)
            twin = duplicate(env)  # mid-episode: the copy holds the state and the random stream
            assert _same(step(twin), step(env)), (name, kind)


# --------------------------------------------------------------------------------------------
# PettingZoo's max_cycles: an alias of each env's episode-length field
# --------------------------------------------------------------------------------------------

EPISODE_LENGTH = {"race_v0": "max_steps", "dsair_v0": "max_rounds", "commons_v0": "num_rounds"}


@pytest.mark.parametrize("name", list(EPISODE_LENGTH))
def test_pettingzoo_max_cycles(name):
    from pettingzoo.test import max_cycles_test

    module = load(name)
    if name == "race_v0":  # random effort ends ~1% of race_v0's 4-step episodes in an accident (the test
        # does not seed its episodes, and expects them to last exactly max_cycles): no accidents here
        module = SimpleNamespace(
            parallel_env=functools.partial(module.parallel_env, accident_rate=0.0),
            env=functools.partial(module.env, accident_rate=0.0),
        )
    max_cycles_test(module)


@pytest.mark.parametrize("name", list(EPISODE_LENGTH))
def test_max_cycles_sets_the_episode_length_in_every_api(name):
    field, module = EPISODE_LENGTH[name], load(name)
    assert getattr(module.make_config(max_cycles=7), field) == 7
    for env in (module.parallel_env(max_cycles=7), module.env(max_cycles=7), module.gym_env(max_cycles=7),
                gymnasium.make(ENVIRONMENTS[name].gym_id, max_cycles=7), labrace.make_vec(name, num_envs=1, max_cycles=7)):
        assert getattr(env.unwrapped.config if hasattr(env, "unwrapped") else env.config, field) == 7
    assert getattr(module.make_config(max_cycles=7, **{field: 7}), field) == 7  # the same value twice is fine
    with pytest.raises(ValueError, match=f"max_cycles is an alias of {name}'s {field}: give one of them; got max_cycles=7 and {field}=8"):
        module.parallel_env(max_cycles=7, **{field: 8})
    with pytest.raises(ValueError, match=r"max_cycles \(alias of " + field + r"\) must be an integer in \[1, "):
        module.parallel_env(max_cycles=0)


def test_precipice_is_one_shot_so_max_cycles_can_only_be_1():
    from labrace.envs import precipice_v0

    env = precipice_v0.parallel_env(max_cycles=1)
    env.reset(seed=0)
    _, _, terminations, _, _ = env.step({a: np.array([0.5], dtype=np.float32) for a in env.agents})
    assert all(terminations.values())
    with pytest.raises(ValueError, match=r"precipice_v0 is one-shot \(every episode is 1 step\): max_cycles must be 1; got 4"):
        precipice_v0.parallel_env(max_cycles=4)
