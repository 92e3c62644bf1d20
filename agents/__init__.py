"""labrace agents: one batched policy interface for scripted baselines and learned models."""

from labrace.agents.baselines import BASELINES, background_policies, make_baseline
from labrace.agents.policy import CallablePolicy, Policy, as_policy

__all__ = ["BASELINES", "CallablePolicy", "Policy", "as_policy", "background_policies", "make_baseline"]
