"""Every environment runs in RLlib through its PettingZoo wrappers, without user glue."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.integration
ray = pytest.importorskip("ray")
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv, PettingZooEnv  # noqa: E402

from labrace.envs import ENVIRONMENTS, load  # noqa: E402


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_parallel_wrapper_rollout(name):
    env = ParallelPettingZooEnv(load(name).parallel_env())
    observations, infos = env.reset(seed=0)
    assert set(observations) == set(env.get_agent_ids())
    for _ in range(200):
        actions = {agent: env.action_space[agent].sample() for agent in observations}
        observations, rewards, terminateds, truncateds, infos = env.step(actions)
        assert all(np.isfinite(r) for r in rewards.values())
        if terminateds["__all__"] or truncateds["__all__"]:
            observations, infos = env.reset()


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_aec_wrapper_rollout(name):
    env = PettingZooEnv(load(name).env())
    observations, infos = env.reset(seed=0)
    for _ in range(100):
        agent = next(iter(observations))
        observations, rewards, terminateds, truncateds, infos = env.step({agent: env.action_space[agent].sample()})
        if terminateds["__all__"] or truncateds["__all__"]:
            observations, infos = env.reset()


def test_multi_agent_ppo_trains_one_iteration():
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.tune.registry import register_env

    from labrace.envs import race_v0

    register_env("labrace_race_v0", lambda config: ParallelPettingZooEnv(race_v0.parallel_env(**config)))
    config = (
        PPOConfig()
        .environment("labrace_race_v0", env_config={"scenario": "cruel_tradeoff"})
        .multi_agent(policies={"lab_0", "lab_1", "lab_2"}, policy_mapping_fn=lambda agent_id, *_, **__: agent_id)
        .env_runners(num_env_runners=0)
        .training(train_batch_size=400, minibatch_size=100, num_epochs=1)
        .debugging(seed=0)
    )
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        algo = config.build_algo()
        result = algo.train()
        assert result["training_iteration"] == 1
        assert result["env_runners"]["num_env_steps_sampled_lifetime"] >= 400
        algo.stop()
    finally:
        ray.shutdown()
