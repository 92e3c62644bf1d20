"""Learners act in unbounded logits; the environments keep their Box(0, 1) contract."""

from __future__ import annotations

import numpy as np
import pytest

import labrace
from labrace.agents import load_policy
from labrace.agents.parameterisation import LOGIT_BOUND, LogitActions, default_parameterisation, make_parameterisation
from labrace.agents.trainers import train_shared
from labrace.envs.vec_env import GameVecEnv

from .conftest import tiny_hyperparams


def test_allocations_are_a_softmax_and_levels_a_sigmoid():
    game = labrace.make_game("race_v0", pivotal_act=True)
    transform = make_parameterisation("logits", game)
    logits = np.array([[0.0, 0.0, 0.0, 0.0], [np.log(2.0), 0.0, 0.0, 3.0], [-50.0, 50.0, 0.0, -50.0]])
    actions = transform.to_env(logits)
    np.testing.assert_allclose(actions[0], [1 / 3, 1 / 3, 1 / 3, 0.5], atol=1e-6)
    np.testing.assert_allclose(actions[1], [0.5, 0.25, 0.25, 1 / (1 + np.exp(-3.0))], atol=1e-6)
    np.testing.assert_allclose(actions[2, :3].sum(), 1.0, atol=1e-6)  # clipped to the bound, no overflow
    assert actions.dtype == np.float32 and game.action_space.contains(actions[1])
    assert transform.space.shape == game.action_space.shape and transform.space.high[0] == LOGIT_BOUND


def test_defaults_use_logits_only_for_gaussian_learners_on_box_actions():
    race, dsair = labrace.make_game("race_v0"), labrace.make_game("dsair_v0")
    assert default_parameterisation("ppo", race) == "logits" and default_parameterisation("a2c", race) == "logits"
    assert default_parameterisation("sac", race) == "direct" and default_parameterisation("ppo", dsair) == "direct"
    with pytest.raises(ValueError, match="action_param='logits' needs a Box"):
        make_parameterisation("logits", dsair)
    with pytest.raises(ValueError, match="action_param must be one of"):
        make_parameterisation("tanh", race)


def test_the_vec_env_maps_logits_to_the_game_actions():
    game = labrace.make_game("precipice_v0", num_labs=2)
    transform = make_parameterisation("logits", game)
    venv = GameVecEnv(game, 3, seed=0, action_transform=transform)
    assert venv.action_space == transform.space and venv.observation_space == game.observation_space
    venv.reset()
    _, rewards, dones, infos = venv.step(np.full((6, 1), 50.0, dtype=np.float32))  # sigmoid(10) ~ 1: safe
    assert dones.all() and all(abs(info["safety"] - 1.0) < 1e-4 for info in infos)


def test_a_trained_policy_acts_in_the_env_space_and_saves_its_parameterisation(tmp_path):
    game = labrace.make_game("race_v0")
    result = train_shared(game, "ppo", 600, seed=0, hyperparams=tiny_hyperparams())
    assert result.report["action_param"] == "logits"
    policy = result.policies[0]
    observations = labrace.make_vec("race_v0", num_envs=8, seed=1).reset()
    actions = policy.act(observations)
    assert actions.shape == (24, 3) and np.all(actions >= 0) and np.all(actions <= 1)
    np.testing.assert_allclose(actions.sum(axis=1), 1.0, atol=1e-5)  # a softmax: already an allocation
    policy.save(tmp_path / "model")
    loaded = load_policy(tmp_path / "model")
    assert isinstance(loaded.action_transform, LogitActions) and loaded.action_transform.simplex_groups == ((0, 3),)
    np.testing.assert_array_equal(loaded.act(observations), actions)
