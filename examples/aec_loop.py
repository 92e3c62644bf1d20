"""race_v0 through PettingZoo's AEC API (agents act in turn; the step resolves when all have acted).

Run: python examples/aec_loop.py
"""

from labrace.envs import race_v0

env = race_v0.env(scenario="pivotal_act", action_type="discrete", render_mode="ansi")
env.reset(seed=0)
menu = [name for name, _ in env.unwrapped.config.menu]
for agent in env.agent_iter():
    observation, reward, termination, truncation, info = env.last()
    if termination or truncation:
        action = None
    else:
        action = menu.index("careful") if agent != "lab_0" else menu.index("fast")
    env.step(action)
print(env.render())
print("outcome:", race_v0.describe_outcome(info))
env.close()
