"""Every environment runs in TorchRL through PettingZooWrapper, across episode ends."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
pytest.importorskip("torchrl")
from torchrl.envs.libs.pettingzoo import PettingZooWrapper  # noqa: E402

from labrace.envs import ENVIRONMENTS, load  # noqa: E402


@pytest.mark.parametrize("name", list(ENVIRONMENTS))
def test_pettingzoo_wrapper_rollout(name):
    module = load(name)
    env = PettingZooWrapper(env=module.parallel_env(), use_mask=False, categorical_actions=False, seed=0)
    (group,) = env.group_map
    rollout = env.rollout(150, break_when_any_done=False)  # crosses several episode ends
    assert rollout[group, "observation"].shape[:2] == (150, len(env.group_map[group]))
    done = rollout["next", group, "done"]
    assert done.any(), "the rollout crossed at least one episode end"
    outcome = rollout["next", group, "info", "outcome"]
    assert ((outcome > 0) == done.squeeze(-1)).all(), "an outcome code exactly when an episode ends"
