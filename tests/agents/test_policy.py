"""The one policy interface: scripted and learned policies alike, save/load round trips."""

from __future__ import annotations

import numpy as np
import pytest

import labrace
from labrace.agents import SB3Policy, as_policy, load_policy, make_baseline
from labrace.agents.baselines import BASELINES, FixedAllocation, Opportunist


def test_learned_policy_acts_on_batches(tiny_shared_model):
    game, result = tiny_shared_model
    policy = result.policies[0]
    assert isinstance(policy, SB3Policy) and policy.deterministic
    observations = labrace.make_vec("race_v0", num_envs=5, seed=1).reset()
    actions = policy.act(observations)
    assert actions.shape == (15,) + game.action_space.shape
    assert np.all(actions >= 0.0) and np.all(actions <= 1.0)
    np.testing.assert_array_equal(actions, policy.act(observations))  # deterministic by default


def test_save_load_round_trip_gives_identical_actions(tiny_shared_model, tmp_path):
    game, result = tiny_shared_model
    policy = result.policies[0]
    path = policy.save(tmp_path / "model")
    assert path.name == "model.zip" and (tmp_path / "model.json").exists()
    loaded = load_policy(tmp_path / "model.zip")
    assert isinstance(loaded, SB3Policy) and loaded.deterministic and loaded.name == policy.name
    observations = labrace.make_vec("race_v0", num_envs=64, seed=2).reset()
    np.testing.assert_array_equal(policy.act(observations), loaded.act(observations))
    assert not [f for f in tmp_path.iterdir() if f.name.startswith("tmp-")]  # atomic writes leave nothing behind


def test_scripted_policy_round_trip(tmp_path):
    game = labrace.make_game("race_v0", "cruel_tradeoff")
    for name in BASELINES["race_v0"]:
        make_baseline(name, game).save(tmp_path / name)
        loaded = load_policy(tmp_path / name, game)
        assert loaded.name == name
    with pytest.raises(ValueError, match="needs the game"):
        load_policy(tmp_path / "race")
    with pytest.raises(ValueError, match="no saved policy"):
        load_policy(tmp_path / "missing")


def test_a_fixed_allocation_round_trip_keeps_its_allocation_and_its_commitment(tmp_path):
    # the best responses of exploitability and best-response dynamics are fixed allocations, which
    # are no named baseline: they save the allocation itself
    game = labrace.make_game("race_v0", "baseline", commitments=True)
    observations = np.zeros((4, game.observation_space.shape[0]), dtype=np.float32)
    for policy in [FixedAllocation(game, (0.5, 0.5, 0.0), "fixed (0.50, 0.50, 0.00)"), FixedAllocation(game, (0.3, 0.7, 0.0), "fixed (0.30, 0.70, 0.00) committed", commit=True)]:
        policy.save(tmp_path / "lab_0")
        loaded = load_policy(tmp_path / "lab_0", game)
        assert isinstance(loaded, FixedAllocation) and loaded.name == policy.name and loaded.allocation == policy.allocation
        np.testing.assert_array_equal(loaded.act(observations), policy.act(observations))
    with pytest.raises(ValueError, match="needs the game"):
        load_policy(tmp_path / "lab_0")


def test_an_opportunist_round_trip_keeps_its_allocation_and_its_lead(tmp_path):
    game = labrace.make_game("race_v0", "pivotal_act")
    policy = Opportunist(game, (0.3, 0.7, 0.0), lead=0.2)
    policy.save(tmp_path / "lab_0")
    loaded = load_policy(tmp_path / "lab_0", game)
    assert isinstance(loaded, Opportunist) and (loaded.name, loaded.allocation, loaded.lead) == (policy.name, policy.allocation, policy.lead)
    with pytest.raises(ValueError, match="needs the game"):
        load_policy(tmp_path / "lab_0")


def test_as_policy_wraps_models_and_callables(tiny_shared_model):
    _, result = tiny_shared_model
    assert isinstance(as_policy(result.models[0]), SB3Policy)
    policy = as_policy(lambda obs: np.zeros((len(obs), 3)))
    assert policy.act(np.zeros((4, 13))).shape == (4, 3)
    with pytest.raises(TypeError):
        as_policy(42)
    with pytest.raises(TypeError, match="cannot be saved"):
        policy.save("nowhere")


@pytest.mark.parametrize("algo, overrides", [("ppo", {}), ("sac", {}), ("dqn", {"action_type": "discrete"}), ("a2c", {"action_type": "discrete"})])
def test_deterministic_act_matches_sb3_predict(algo, overrides):
    from labrace.agents import train_shared

    from .conftest import tiny_hyperparams

    game = labrace.make_game("race_v0", **overrides)
    model = train_shared(game, algo, 300, seed=0, hyperparams=tiny_hyperparams(algo)).models[0]
    observations = labrace.make_vec("race_v0", num_envs=50, seed=4, **overrides).reset()
    for rows in (observations, observations[:1]):
        expected, _ = model.predict(rows, deterministic=True)
        np.testing.assert_array_equal(SB3Policy(model).act(rows), expected)
