"""labrace agents: one batched policy interface for scripted baselines and learned models.

* :mod:`~labrace.agents.policy`: :class:`Policy` (observation batch → action batch),
  :class:`SB3Policy` (a Stable-Baselines3 model as a Policy), save/load.
* :mod:`~labrace.agents.baselines`: scripted policies per environment.
* :mod:`~labrace.agents.trainers`: shared-parameter training and independent learners.
* :mod:`~labrace.agents.evaluation`: rollouts, DESIGN.md §4 metrics, cross-play.
* :mod:`~labrace.agents.hyperparams`: default hyperparameters per env and algorithm.

Stable-Baselines3 is imported only when a trainer runs or a learned policy loads.

Same seed, same result on any x86 machine: torch's CPU matrix products run in Intel MKL, which
picks its code path by processor; the paths differ in float32's last bits and training amplifies
that (a seed's catastrophe rate 0.29 on one machine, 0.39 on another; a borderline verdict of the
reference study moved). Importing this package therefore sets ``MKL_CBWR=COMPATIBLE``, MKL's
processor-independent path, unless ``MKL_CBWR`` is already set (``MKL_CBWR=AUTO`` chooses speed
over that). MKL reads it at its first call, so it holds wherever labrace trains or evaluates
before torch has multiplied a matrix.
"""

import os

os.environ.setdefault("MKL_CBWR", "COMPATIBLE")


from labrace.agents.baselines import BASELINES, background_policies, make_baseline
from labrace.agents.evaluation import Rollouts, cross_play, evaluate_profiles, rollout, summarize
from labrace.agents.hyperparams import HYPERPARAMS, get_hyperparams
from labrace.agents.policy import CallablePolicy, Policy, SB3Policy, as_policy, load_policy
from labrace.agents.trainers import ALGORITHMS, TRAINERS, TrainResult, check_algorithm, train_independent, train_shared

__all__ = [
    "ALGORITHMS",
    "BASELINES",
    "CallablePolicy",
    "HYPERPARAMS",
    "Policy",
    "Rollouts",
    "SB3Policy",
    "TRAINERS",
    "TrainResult",
    "as_policy",
    "background_policies",
    "check_algorithm",
    "cross_play",
    "evaluate_profiles",
    "get_hyperparams",
    "load_policy",
    "make_baseline",
    "rollout",
    "summarize",
    "train_independent",
    "train_shared",
]
