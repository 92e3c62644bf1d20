"""race_v0 in a plain loop, no RL framework: PettingZoo's parallel API with scripted labs.

Run: python examples/plain_loop.py
"""

import numpy as np

from labrace.envs import race_v0

env = race_v0.parallel_env(scenario="cruel_tradeoff", render_mode="ansi")
outcomes = {}
for episode in range(20):
    observations, infos = env.reset(seed=episode)
    while env.agents:
        # each lab races harder the further it is behind the most capable other lab
        actions = {}
        for agent, obs in observations.items():
            behind = float(np.clip(obs[7::3].max() - obs[0], 0.0, 1.0))
            speed = 0.3 + 0.5 * behind
            actions[agent] = np.array([speed, 1.0 - speed, 0.0], dtype=np.float32)
        observations, rewards, terminations, truncations, infos = env.step(actions)
    outcome = race_v0.OUTCOMES[infos["lab_0"]["outcome"]]
    outcomes[outcome] = outcomes.get(outcome, 0) + 1
print(env.render())
print("outcomes over 20 episodes:", outcomes)
