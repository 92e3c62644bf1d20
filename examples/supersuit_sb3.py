"""The SuperSuit path of PettingZoo's SB3 tutorial, on race_v0's parallel_env.

Run: python examples/supersuit_sb3.py
"""

import supersuit as ss
from stable_baselines3 import PPO
from stable_baselines3.common.utils import set_random_seed

from labrace.envs import race_v0

env = race_v0.parallel_env(scenario="baseline")
env = ss.pettingzoo_env_to_vec_env_v1(env)  # one row per lab
env = ss.concat_vec_envs_v1(env, 8, num_cpus=0, base_class="stable_baselines3")  # 8 games
# SuperSuit's ConcatVecEnv has no seed() method, which SB3 calls when given seed=...; seed torch
# and numpy globally instead (labrace's own make_vec takes seed= directly).
set_random_seed(0)
model = PPO("MlpPolicy", env, n_steps=64, batch_size=256, device="cpu", verbose=0)
model.learn(total_timesteps=5_000)
print("trained", model.num_timesteps, "steps through SuperSuit")
env.close()
