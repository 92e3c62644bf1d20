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


# --------------------------------------------------------------------------------------------
# Actions: one rule in every API. Real numbers of the space's kind only: a Box takes finite reals
# in its bounds (ints too), a Discrete / MultiDiscrete integers or integral floats; never a bool, a
# string or a complex number. Each error names the environment, the lab (and the game of a batch)
# and what the space allows, in one short line.
# --------------------------------------------------------------------------------------------

ACTION_VARIANTS = [
    ("race_v0", {}),
    ("race_v0", {"action_type": "discrete"}),
    ("race_v0", {"scenario": "all_levers", "action_type": "discrete"}),
    ("precipice_v0", {}),
    ("dsair_v0", {}),
    ("dsair_v0", {"scenario": "commitments"}),
    ("commons_v0", {}),
]
ACTION_IDS = [f"{name}-{'-'.join(f'{v}' for v in kw.values()) or 'default'}" for name, kw in ACTION_VARIANTS]
NON_NUMBERS = ["1", True, np.True_, 1 + 0j, 0.5 + 0.5j]
NOT_INTEGERS = [np.nan, np.inf, 1.5]
ACTION_APIS = ["parallel_env", "env", "gym_env", "gymnasium.make", "make_vec", "focal VecEnv", "batched core"]


def _good_action(space):
    if isinstance(space, gymnasium.spaces.Box):
        return (space.low + space.high) / 2
    return np.asarray(space.start, dtype=np.int64)  # Discrete: a 0-d array, MultiDiscrete: (k,)


def _with_bad_entry(good, bad):
    """``good`` with its first entry replaced by ``bad`` (an object array: numpy keeps what it is)."""
    action = np.asarray(good, dtype=object).copy()
    action[(0,) * action.ndim] = bad
    return action if action.ndim else bad


def _act_with_lab_1(api, name, kwargs, action):
    """Give ``action`` to lab_1 (of game 1 in a batch), valid actions to every other lab, and step."""
    from labrace.envs.vec_env import GameVecEnv

    module = load(name)
    space = module.make_game(**kwargs).action_space
    good = _good_action(space)
    if api == "parallel_env":
        env = module.parallel_env(**kwargs)
        env.reset(seed=0)
        env.step({a: action if a == "lab_1" else good for a in env.agents})
    elif api == "env":
        env = module.env(**kwargs)
        env.reset(seed=0)
        for agent in list(env.agents):
            env.step(action if agent == "lab_1" else good)
    elif api in ("gym_env", "gymnasium.make"):
        env = module.gym_env(focal_lab=1, **kwargs) if api == "gym_env" else gymnasium.make(ENVIRONMENTS[name].gym_id, focal_lab=1, **kwargs)
        env.reset(seed=0)
        env.step(action)
    else:
        # a numeric array where the action is numeric, else an object array (numpy keeps what each entry is)
        kind = np.asarray(action).dtype
        dtype = np.result_type(kind, good.dtype) if kind.kind in "iuf" else object
        if isinstance(action, np.ndarray) and action.ndim == 0:
            action = action[()]
        game = module.make_game(**kwargs)
        labs = game.num_agents
        if api == "batched core":
            batch = np.empty((2, labs) + space.shape, dtype=dtype)
            batch[...] = good
            batch[1, 1] = action
            game.check_actions(batch, 2)
            return
        venv = labrace.make_vec(name, num_envs=2, seed=0, **kwargs) if api == "make_vec" else GameVecEnv(game, 2, seed=0, focal_lab=1)
        venv.reset()
        rows = np.empty((venv.num_envs,) + space.shape, dtype=dtype)
        rows[...] = good
        rows[labs + 1 if api == "make_vec" else 1] = action  # game 1, lab_1
        venv.step(rows)


def _assert_names_game_and_lab(error, name, space, batch):
    from labrace.envs.core import _space_description

    message = str(error.value)
    assert "\n" not in message and len(message) < 250, message  # one short line, never the whole batch
    assert message.startswith(name) and _space_description(space) in message, message
    assert ("(game 1, lab_1)" if batch else "lab_1") in message, message


@pytest.mark.parametrize("api", ACTION_APIS)
@pytest.mark.parametrize("name,kwargs", ACTION_VARIANTS, ids=ACTION_IDS)
def test_bad_actions_are_rejected_naming_the_game_and_the_lab_in_every_api(name, kwargs, api):
    space = load(name).make_game(**kwargs).action_space
    good = _good_action(space)
    bad_values = NON_NUMBERS + (NOT_INTEGERS if not isinstance(space, gymnasium.spaces.Box) else [np.nan, np.inf, 2.0])
    for bad in bad_values:
        with pytest.raises(ValueError) as error:
            _act_with_lab_1(api, name, kwargs, _with_bad_entry(good, bad))
        _assert_names_game_and_lab(error, name, space, batch=api in ("make_vec", "focal VecEnv", "batched core"))
        assert ("not a real number" in str(error.value)) == (bad in NON_NUMBERS), (bad, str(error.value))
    if api not in ("make_vec", "focal VecEnv", "batched core"):  # a whole action of the wrong kind
        for kind in (str, complex, bool):
            with pytest.raises(ValueError, match=f"lab_1.*not a real number|not a real number.*lab_1|{name} action for lab_1"):
                _act_with_lab_1(api, name, kwargs, np.asarray(good).astype(kind))


@pytest.mark.parametrize("api", ["parallel_env", "env"])
@pytest.mark.parametrize("name", ["dsair_v0", "commons_v0"])
def test_a_bool_is_no_integer_action_whatever_the_other_labs_play(name, api):
    module = load(name)
    for others in (1, False):  # numpy would turn [True, 1, ...] into ints, [True, False, ...] into bools
        env = module.parallel_env() if api == "parallel_env" else module.env()
        env.reset(seed=0)
        with pytest.raises(ValueError, match=rf"{name} action for lab_0 must be an integer in \[0, \d+\]; got True \(bool, not a real number\)"):
            if api == "parallel_env":
                env.step({a: True if a == "lab_0" else others for a in env.agents})
            else:
                for agent in list(env.agents):
                    env.step(True if agent == "lab_0" else others)


@pytest.mark.parametrize("api", ACTION_APIS)
@pytest.mark.parametrize("name,kwargs", ACTION_VARIANTS, ids=ACTION_IDS)
def test_numbers_of_the_space_kind_are_accepted_in_every_api(name, kwargs, api):
    space = load(name).make_game(**kwargs).action_space
    good = _good_action(space)
    # a Box takes ints and Python lists; an integer space integral floats and numpy/Python ints
    variants = [good, good.tolist(), good.astype(np.float32)] + ([] if isinstance(space, gymnasium.spaces.Box) else [good.astype(np.float64)])
    if isinstance(space, gymnasium.spaces.Box):
        variants.append(np.round(good).astype(np.int64))
    for action in variants:
        _act_with_lab_1(api, name, kwargs, action)
