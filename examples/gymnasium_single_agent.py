"""The Gymnasium single-agent view: one focal lab learns, scripted background labs play the rest.

Run: python examples/gymnasium_single_agent.py
"""

import gymnasium

import labrace  # noqa: F401  (registers labrace/Race-v0 and the other ids)
from labrace.envs import race_v0

env = gymnasium.make("labrace/Race-v0", scenario="misuse_hawks", focal_lab=0, background="conditional_cooperator")
observation, info = env.reset(seed=0)
episode_return, done = 0.0, False
while not done:
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
    episode_return += reward
    done = terminated or truncated
print(f"focal lab return {episode_return:.2f}, outcome: {race_v0.describe_outcome(info)}")

# gymnasium.make_vec runs several copies of the view side by side
vec = gymnasium.make_vec("labrace/Race-v0", num_envs=4, vectorization_mode="sync")
observations, infos = vec.reset(seed=0)
print("vector observations:", observations.shape)
vec.close()
