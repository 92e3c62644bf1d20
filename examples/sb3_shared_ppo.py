"""Stable-Baselines3 PPO with one policy shared by every lab, on labrace's batched VecEnv.

Run: python examples/sb3_shared_ppo.py
"""

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

import labrace
from labrace.agents.evaluation import rollout
from labrace.agents.policy import Policy

venv = VecMonitor(labrace.make_vec("race_v0", num_envs=32, seed=0, scenario="accident_doves"))
model = PPO("MlpPolicy", venv, n_steps=64, batch_size=512, seed=0, device="cpu", verbose=0)
model.learn(total_timesteps=30_000)


class Learned(Policy):
    name = "ppo"

    def act(self, observations, rng=None):
        return model.predict(observations, deterministic=True)[0]


game = labrace.make_game("race_v0", "accident_doves")
result = rollout(game, Learned(), num_episodes=500, seed=1)
print("catastrophe rate of the learned labs:", result.outcome_rate("catastrophe"))
print("mean return per lab:", np.round(result.returns.mean(axis=0), 2))
