"""Multi-agent PPO in RLlib on race_v0: one policy per lab (or one shared), a few iterations.

Needs the `rllib` extra: pip install "labrace[rllib]".
Run: python examples/rllib_ppo.py [--shared] [--iterations 3]
"""

import argparse

import ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.env.wrappers.pettingzoo_env import ParallelPettingZooEnv
from ray.tune.registry import register_env

from labrace.envs import race_v0

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--shared", action="store_true", help="one policy shared by every lab")
parser.add_argument("--iterations", type=int, default=3)
parser.add_argument("--scenario", default="cruel_tradeoff")
args = parser.parse_args()

register_env("race_v0", lambda config: ParallelPettingZooEnv(race_v0.parallel_env(**config)))
labs = race_v0.parallel_env(scenario=args.scenario).possible_agents
policies = {"shared"} if args.shared else set(labs)
config = (
    PPOConfig()
    .environment("race_v0", env_config={"scenario": args.scenario})
    .multi_agent(policies=policies, policy_mapping_fn=(lambda agent_id, *_, **__: "shared") if args.shared else (lambda agent_id, *_, **__: agent_id))
    .env_runners(num_env_runners=0)
    .training(train_batch_size=1000, minibatch_size=250, num_epochs=2)
    .debugging(seed=0)
)
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
algo = config.build_algo()
for iteration in range(args.iterations):
    result = algo.train()
    returns = result["env_runners"].get("agent_episode_returns_mean", {})  # per lab
    print(f"iteration {iteration + 1}: mean return per lab", {lab: round(float(v), 2) for lab, v in sorted(returns.items())})
algo.stop()
ray.shutdown()
