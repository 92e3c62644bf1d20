"""Trainers: reproducibility, algorithm choice, independent learners, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import labrace
from labrace.agents import check_algorithm, train_independent, train_shared
from labrace.agents.trainers import latest_checkpoint

from .conftest import tiny_hyperparams


def parameters(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.policy.state_dict().items()}


def test_same_seed_gives_identical_parameters():
    game = labrace.make_game("race_v0")
    first = parameters(train_shared(game, "ppo", 1_536, seed=7, hyperparams=tiny_hyperparams()).models[0])
    second = parameters(train_shared(game, "ppo", 1_536, seed=7, hyperparams=tiny_hyperparams()).models[0])
    other = parameters(train_shared(game, "ppo", 1_536, seed=8, hyperparams=tiny_hyperparams()).models[0])
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)


@pytest.mark.parametrize(
    "algo, overrides",
    [("a2c", {}), ("sac", {}), ("dqn", {"action_type": "discrete"}), ("ppo", {"action_type": "discrete"})],
)
def test_every_algorithm_trains_where_the_action_space_allows(algo, overrides):
    game = labrace.make_game("race_v0", **overrides)
    result = train_shared(game, algo, 600, seed=0, hyperparams=tiny_hyperparams(algo))
    assert result.timesteps >= 600
    actions = result.policies[0].act(game.observe(game.reset(np.random.default_rng(0), 2)).reshape(6, -1))
    game.check_actions(actions.reshape((2, 3) + game.action_space.shape), 2)


def test_algorithm_errors_say_what_to_change():
    with pytest.raises(ValueError, match="action_type=discrete"):
        check_algorithm("dqn", labrace.make_game("race_v0"))
    with pytest.raises(ValueError, match="sac needs continuous"):
        check_algorithm("sac", labrace.make_game("race_v0", action_type="discrete"))
    with pytest.raises(ValueError, match="unknown algorithm"):
        check_algorithm("trpo", labrace.make_game("race_v0"))


@pytest.mark.parametrize("focal_env", ["batched", "gymnasium"])
def test_independent_learners_report_rounds_and_convergence(tmp_path, focal_env):
    game = labrace.make_game("race_v0", num_labs=2)
    hp = tiny_hyperparams("ppo", "independent", focal_env=focal_env)
    result = train_independent(game, "ppo", 512, seed=0, hyperparams=hp, run_dir=tmp_path, eval_episodes=50)
    assert len(result.models) == 2 and result.policies[0] is not result.policies[1]
    assert result.policies[0].model is result.models[0]
    report = result.report
    assert [h["round"] for h in report["history"]] == [1, 2]
    check = report["convergence"]
    assert [lab["lab"] for lab in check["labs"]] == [0, 1]
    for lab in check["labs"]:
        assert lab["gain"]["ci95"][0] <= lab["gain"]["mean"] <= lab["gain"]["ci95"][1]
    assert isinstance(check["converged"], bool)
    assert (tmp_path / "models" / "lab_1.zip").exists() and (tmp_path / "progress.json").exists()


def test_shared_training_resumes_from_its_last_checkpoint(tmp_path):
    game = labrace.make_game("race_v0")
    hp = tiny_hyperparams()  # 4 games x 3 labs x 64 steps = 768 agent-steps per rollout
    train_shared(game, "ppo", 1_536, seed=0, hyperparams=hp, run_dir=tmp_path, checkpoint_every=768)
    assert latest_checkpoint(tmp_path / "checkpoints").name == "model_1536_steps.zip"
    (tmp_path / "checkpoints" / "model_2304_steps.zip").write_bytes(b"PK\x03\x04 cut short")  # interrupted mid-write
    resumed = train_shared(game, "ppo", 2_304, seed=0, hyperparams=hp, run_dir=tmp_path, checkpoint_every=768, resume=True)
    assert resumed.report["resumed_at_step"] == 1_536 and resumed.report["resumed_exactly"]
    assert resumed.timesteps == 2_304


def test_independent_learners_are_reproducible_and_resume(tmp_path):
    game = labrace.make_game("race_v0", num_labs=2)
    hp = tiny_hyperparams("ppo", "independent", n_envs=1, n_steps=64, batch_size=64)
    first = train_independent(game, "ppo", 128, seed=3, hyperparams=hp, run_dir=tmp_path, eval_episodes=20)
    second = train_independent(game, "ppo", 128, seed=3, hyperparams=hp, eval_episodes=20)
    for a, b in zip(first.models, second.models):
        pa, pb = parameters(a), parameters(b)
        assert all(torch.equal(pa[k], pb[k]) for k in pa)
    # an interruption after the first turn (lab_0, round 1): resume trains the remaining three turns only
    import json

    progress = json.loads((tmp_path / "progress.json").read_text())
    assert progress["next_turn"] == 4
    progress["next_turn"], progress["history"] = 1, []
    (tmp_path / "progress.json").write_text(json.dumps(progress))
    resumed = train_independent(game, "ppo", 128, seed=3, hyperparams=hp, run_dir=tmp_path, eval_episodes=20, resume=True)
    assert [h["round"] for h in resumed.report["history"]] == [1, 2]
    assert resumed.models[0].num_timesteps == first.models[0].num_timesteps + 64  # lab_0 trained once more


def test_batched_focal_env_plays_the_same_episodes_as_the_gymnasium_view():
    """The focal GameVecEnv with one game == a FocalLabEnv in a DummyVecEnv, same seed, same actions."""
    from labrace.agents import make_baseline
    from labrace.agents.trainers import focal_vec_env

    game = labrace.make_game("race_v0", "cruel_tradeoff")
    background = [make_baseline("random", game), make_baseline("conditional_cooperator", game)]
    batched = focal_vec_env(game, 1, background, 1, seed=5, batched=True)
    gymnasium_view = focal_vec_env(game, 1, background, 1, seed=5, batched=False)
    batched.seed(5)
    np.testing.assert_array_equal(batched.reset(), gymnasium_view.reset())
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(300):
        action = rng.dirichlet(np.ones(3), size=1).astype(np.float32)
        obs_a, reward_a, done_a, info_a = batched.step(action)
        obs_b, reward_b, done_b, info_b = gymnasium_view.step(action)
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_array_equal(reward_a, reward_b)
        np.testing.assert_array_equal(done_a, done_b)
        if done_a[0]:
            episodes += 1
            np.testing.assert_array_equal(info_a[0]["terminal_observation"], info_b[0]["terminal_observation"])
            assert info_a[0]["outcome"] == info_b[0]["outcome"]
            assert info_a[0]["TimeLimit.truncated"] == info_b[0]["TimeLimit.truncated"]
    assert episodes >= 5


def test_simultaneous_learners_train_one_model_per_lab_reproducibly(tmp_path):
    from labrace.agents.trainers import train_simultaneous

    game = labrace.make_game("race_v0", num_labs=2)
    hp = tiny_hyperparams(n_envs=4, n_steps=64, batch_size=128, n_epochs=2)
    first = train_simultaneous(game, "ppo", 1024, seed=0, hyperparams=hp, run_dir=tmp_path)
    assert first.trainer == "simultaneous" and len(first.models) == 2 and first.models[0] is not first.models[1]
    assert [m.num_timesteps for m in first.models] == [512, 512] and first.timesteps == 1024
    assert (tmp_path / "models" / "lab_1.zip").exists() and (tmp_path / "monitor.csv").exists()
    again = train_simultaneous(game, "ppo", 1024, seed=0, hyperparams=hp)
    observations = labrace.make_vec("race_v0", num_envs=4, seed=3, num_labs=2).reset()
    for a, b in zip(first.policies, again.policies):
        np.testing.assert_array_equal(a.act(observations), b.act(observations))  # same seed, same result
    with pytest.raises(ValueError, match="on-policy"):
        train_simultaneous(game, "sac", 64, hyperparams=hp)


def test_independent_learners_resumed_after_an_interruption_end_as_if_uninterrupted(tmp_path, monkeypatch):
    """Cut off during lab_1's first turn, resumed from the end of lab_0's: the same final models."""
    import labrace.agents.trainers as trainers
    from stable_baselines3.common.callbacks import BaseCallback

    game = labrace.make_game("race_v0", num_labs=2)
    hp = tiny_hyperparams("ppo", "independent", n_envs=2, n_steps=32, batch_size=64, rounds=2)
    whole = train_independent(game, "ppo", 256, seed=4, hyperparams=hp, run_dir=tmp_path / "whole", eval_episodes=10)

    class CtrlC(BaseCallback):  # only lab_1's model reaches 64 steps in its first turn while lab_0 waits
        def _on_step(self) -> bool:
            if self.model is not None and self.model.seed == 5 and self.num_timesteps >= 64:
                raise KeyboardInterrupt
            return True

    original = trainers.training_callbacks
    with monkeypatch.context() as patch:
        patch.setattr(trainers, "training_callbacks", lambda s, t: original(s, t) + [CtrlC()])
        with pytest.raises(KeyboardInterrupt):
            train_independent(game, "ppo", 256, seed=4, hyperparams=hp, run_dir=tmp_path / "cut", eval_episodes=10)
    resumed = train_independent(game, "ppo", 256, seed=4, hyperparams=hp, run_dir=tmp_path / "cut", eval_episodes=10, resume=True)
    assert resumed.report["resumed_at_step"] == 128 and resumed.report["resumed_exactly"]
    for a, b in zip(whole.models, resumed.models):
        pa, pb = parameters(a), parameters(b)
        assert all(torch.equal(pa[k], pb[k]) for k in pa)
    assert resumed.report["history"] == whole.report["history"]
    assert (tmp_path / "cut" / "lab_0.monitor.csv").exists() and (tmp_path / "cut" / "resumed-model_128_steps.lab_0.monitor.csv").exists()


def test_reward_scale_trains_on_the_same_game_in_other_units():
    import copy
    import pickle

    from gymnasium.utils import seeding

    from labrace.agents.trainers import training_game

    game = labrace.make_game("dsair_v0", p_r=0.6)
    scaled = training_game(game, {"reward_scale": 1e-4, "train_overrides": {"expected_rewards": True}})
    assert scaled.config.expected_rewards and scaled.num_agents == game.num_agents and scaled.name == "dsair_v0"
    expected = training_game(game, {"train_overrides": {"expected_rewards": True}})
    for copy_ in (scaled, pickle.loads(pickle.dumps(scaled)), copy.deepcopy(scaled)):
        rng_a, _ = seeding.np_random(3)
        rng_b, _ = seeding.np_random(3)
        state_a, state_b = copy_.reset(rng_a, 4), expected.reset(rng_b, 4)
        for _ in range(70):  # through the end of an all-UNSAFE race (67 rounds)
            actions = np.ones((4, 2), dtype=np.int64)
            np.testing.assert_allclose(copy_.step(state_a, actions, rng_a).rewards, 1e-4 * expected.step(state_b, actions, rng_b).rewards)
    assert training_game(game, {}) is game


def test_team_reward_pays_every_lab_the_mean_reward_of_its_game():
    from gymnasium.utils import seeding

    from labrace.agents.trainers import training_game

    game = labrace.make_game("race_v0", scenario="cruel_tradeoff")  # labs of different types: different rewards
    team = training_game(game, {"team_reward": True, "reward_scale": 0.5})
    rng_a, _ = seeding.np_random(5)
    rng_b, _ = seeding.np_random(5)
    state_a, state_b = team.reset(rng_a, 64), game.reset(rng_b, 64)
    actions = seeding.np_random(6)[0].dirichlet(np.ones(3), size=(64, game.num_agents))
    paid = 0
    for _ in range(game.config.max_steps):
        own = game.step(state_b, actions, rng_b).rewards  # (B, N)
        shared = team.step(state_a, actions, rng_a).rewards
        np.testing.assert_allclose(shared, 0.5 * np.repeat(own.mean(axis=1, keepdims=True), game.num_agents, axis=1))
        paid += np.count_nonzero(np.ptp(own, axis=1))
    assert paid > 0  # some step paid the labs differently, and the team reward evened it out
    assert training_game(game, {"team_reward": False}) is game


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), "big"])
def test_bad_reward_scale_is_refused_naming_it(value):
    from labrace.agents.hyperparams import check_hyperparams

    with pytest.raises(ValueError, match="reward_scale"):
        check_hyperparams("ppo", {"reward_scale": value})


@pytest.mark.parametrize("value", [1, "yes", None])
def test_team_reward_must_be_a_bool_naming_it(value):
    from labrace.agents.hyperparams import check_hyperparams

    with pytest.raises(ValueError, match="team_reward"):
        check_hyperparams("ppo", {"team_reward": value})


@pytest.mark.parametrize("trainer", ["shared", "independent", "simultaneous"])
def test_an_interrupted_run_closes_its_monitor_files(tmp_path, monkeypatch, trainer):
    import gc
    import warnings

    import labrace.agents.trainers as trainers
    from stable_baselines3.common.callbacks import BaseCallback

    class CtrlC(BaseCallback):
        def _on_step(self) -> bool:
            raise KeyboardInterrupt

    game = labrace.make_game("race_v0", num_labs=2)
    train = {"shared": train_shared, "independent": train_independent, "simultaneous": trainers.train_simultaneous}[trainer]
    hp = tiny_hyperparams("ppo", "shared" if trainer != "independent" else "independent", n_envs=2, n_steps=32, batch_size=64)
    original = trainers.training_callbacks
    monkeypatch.setattr(trainers, "training_callbacks", lambda s, t: original(s, t) + [CtrlC()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with pytest.raises(KeyboardInterrupt):
            train(game, "ppo", 256, seed=0, hyperparams=hp, run_dir=tmp_path / trainer)
        gc.collect()
    leaks = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning) and "monitor" in str(w.message)]
    assert leaks == []


@pytest.mark.parametrize("trainer", ["shared", "independent", "simultaneous", "best_response"])
def test_training_without_a_run_folder_writes_no_log_folder(tmp_path, monkeypatch, trainer):
    import tempfile

    import labrace.agents.trainers as trainers
    from labrace.agents.baselines import make_baseline

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where SB3 would make SB3-<date-time>
    game = labrace.make_game("race_v0", num_labs=2)
    hp = tiny_hyperparams("ppo", "shared" if trainer in ("shared", "simultaneous") else "independent", n_envs=2, n_steps=32, batch_size=64)
    if trainer == "best_response":
        trainers.train_focal(game, 0, [make_baseline("cooperate", game)], 128, seed=0, hyperparams=hp)
    else:
        train = {"shared": train_shared, "independent": train_independent, "simultaneous": trainers.train_simultaneous}[trainer]
        train(game, "ppo", 256, seed=0, hyperparams=hp)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_skipping_torch_distributions_argument_checks_changes_no_parameter(monkeypatch, algo):
    """seed_everything turns torch.distributions' argument checks off (SB3 builds a distribution at
    every step; the checks cost the simultaneous trainer 4-9% of its time): training with them
    on ends with the very same parameters."""
    from labrace.agents import trainers

    seed_everything = trainers.seed_everything

    def with_checks(*args, **kwargs):
        seed_everything(*args, **kwargs)
        torch.distributions.Distribution.set_default_validate_args(True)

    monkeypatch.setattr(torch.distributions.Distribution, "_validate_args", torch.distributions.Distribution._validate_args)
    game = labrace.make_game("race_v0")
    fast = parameters(train_shared(game, algo, 600, seed=3, hyperparams=tiny_hyperparams(algo)).models[0])
    assert torch.distributions.Distribution._validate_args is False
    monkeypatch.setattr(trainers, "seed_everything", with_checks)
    checked = parameters(train_shared(game, algo, 600, seed=3, hyperparams=tiny_hyperparams(algo)).models[0])
    assert torch.distributions.Distribution._validate_args is True
    assert all(torch.equal(fast[k], checked[k]) for k in fast)
