"""race_v0 in TorchRL through its PettingZooWrapper: a rollout into a TensorDict.

Needs the `torchrl` extra: pip install "labrace[torchrl]".
Run: python examples/torchrl_rollout.py
"""

from torchrl.envs.libs.pettingzoo import PettingZooWrapper

from labrace.envs import race_v0

env = PettingZooWrapper(env=race_v0.parallel_env(scenario="accident_doves"), use_mask=False, categorical_actions=False, seed=0)
rollout = env.rollout(200, break_when_any_done=False)  # random actions, auto-reset across episodes
group = env.group_map and next(iter(env.group_map))
print("groups:", env.group_map)
print("observations:", tuple(rollout[group, "observation"].shape), "rewards:", tuple(rollout["next", group, "reward"].shape))
outcomes = rollout["next", group, "info", "outcome"][:, 0]
finished = outcomes[outcomes > 0].long().tolist()
print("episodes finished:", len(finished), "outcomes:", sorted({race_v0.OUTCOMES[o] for o in finished}))
