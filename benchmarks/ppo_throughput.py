"""SB3 PPO throughput on the race_v0 VecEnv against a null VecEnv with the same spaces.

Run:  python benchmarks/ppo_throughput.py [--settings default large] [--repeats 2]

Trains PPO with labrace's default shared hyperparameters (agents/hyperparams.py, one torch thread)
on

* the race_v0 batched VecEnv (``labrace.make_vec``, games x 3 labs rows), and
* a null VecEnv with the same number of rows and the same spaces, whose step returns zeros (no
  dynamics at all: what PPO itself costs),

at three settings (``SETTINGS``): ``default`` (16 games, the default hyperparameters, 100k
agent-steps), ``study`` (the study's small budget: 16 games, 5 epochs of minibatches of 1024,
``labrace.agents.studies.SMALL_BUDGET_HYPERPARAMS``) and ``large`` (256 games, minibatches of 8192,
two rollouts of 256 x 3 x 128 agent-steps). Each setting alternates the two envs
``--repeats`` times (the best rate of each counts, which damps noise from other processes) and
prints steps/s of each and the ratio race_v0 / null, per wall-clock second and per CPU second of
this process (the latter is not disturbed by other processes on a busy machine); a last table
puts the settings' ratios side by side, with the environment's own share of PPO's CPU time (the
CPU seconds of the race_v0 VecEnv's ``step_wait``, measured inside the same runs: steadier on a
busy machine than a ratio of two runs). Target: ratio >= 0.9 at both settings, i.e. the
environment costs at most a tenth of a PPO training step.

Last, it trains the study's equilibrium lens (``train_simultaneous``: one PPO model per lab, the
small budget's settings and 60k agent-steps, on H1's cell (0.5, 0.5, 0.2)) with
``torch.distributions``' argument checks on (torch's default) and off (what ``seed_everything``
sets: the same numbers), in turns, and prints the CPU seconds of each (best of ``--repeats``).
"""

from __future__ import annotations

import argparse
import time
from unittest import mock

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import labrace
from labrace.agents import trainers
from labrace.agents.hyperparams import get_hyperparams, split_hyperparams
from labrace.agents.studies import SMALL_BUDGET_HYPERPARAMS
from labrace.agents.studies.h1_cruel_tradeoff import overrides as h1_overrides
from labrace.agents.trainers import keep_logs_out_of_tmp, seed_everything
from labrace.envs import make_game


class NullVecEnv(VecEnv):
    """A VecEnv that does nothing: zero observations and rewards, episodes that never end."""

    def __init__(self, num_envs: int, observation_space, action_space) -> None:
        self.render_mode = None
        super().__init__(num_envs, observation_space, action_space)
        self._obs = np.zeros((num_envs,) + observation_space.shape, dtype=observation_space.dtype)
        self._rewards = np.zeros(num_envs, dtype=np.float32)
        self._dones = np.zeros(num_envs, dtype=bool)
        self._infos = [{} for _ in range(num_envs)]

    def reset(self):
        return self._obs.copy()

    def step_async(self, actions) -> None:
        pass

    def step_wait(self):
        return self._obs.copy(), self._rewards.copy(), self._dones.copy(), [{} for _ in range(self.num_envs)]

    def close(self) -> None:
        pass

    def get_attr(self, attr_name, indices=None):
        return [getattr(self, attr_name) for _ in self._get_indices(indices)]

    def set_attr(self, attr_name, value, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name, *args, indices=None, **kwargs):
        return [getattr(self, method_name)(*args, **kwargs) for _ in self._get_indices(indices)]

    def env_is_wrapped(self, wrapper_class, indices=None):
        return [False for _ in self._get_indices(indices)]


#: setting: (games, PPO overrides of the default shared hyperparameters, agent-steps measured)
SETTINGS = {
    "default": (16, {}, 100_000),
    "study": (16, dict(SMALL_BUDGET_HYPERPARAMS["race_v0"]), 100_000),
    "large": (256, {"batch_size": 8192}, 2 * 256 * 3 * 128),
}


class StepTimer:
    """Counts the CPU seconds of a VecEnv's ``step_wait`` (the environment's own share of training)."""

    def __init__(self, env: VecEnv) -> None:
        self.seconds, self._step_wait = 0.0, env.step_wait
        env.step_wait = self

    def __call__(self):
        start = time.process_time()
        result = self._step_wait()
        self.seconds += time.process_time() - start
        return result


def ppo_rate(env: VecEnv, timesteps: int, overrides: dict, seed: int = 0, timer: StepTimer | None = None) -> tuple[float, float, float]:
    """Agent-steps per wall-clock second and per CPU second of this process, of ``PPO.learn`` on
    ``env``, and the fraction of that CPU time spent in the env's ``step_wait`` (with ``timer``)."""
    seed_everything(seed)
    _, kwargs = split_hyperparams(get_hyperparams("race_v0", "ppo", "shared"))
    model = keep_logs_out_of_tmp(PPO("MlpPolicy", VecMonitor(env), seed=seed, device="cpu", **{**kwargs, **overrides}))
    model.learn(min(timesteps, 10_000))  # warm-up (first rollout, torch initialisation)
    start, cpu_start = time.perf_counter(), time.process_time()
    if timer is not None:
        timer.seconds = 0.0
    model.learn(timesteps, reset_num_timesteps=False)
    cpu = time.process_time() - cpu_start
    return timesteps / (time.perf_counter() - start), timesteps / cpu, (timer.seconds / cpu if timer else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", nargs="+", choices=sorted(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--timesteps", type=int, default=None, help="agent-steps per run (default: the setting's)")
    args = parser.parse_args()
    ratios, shares = {}, {}
    for setting in args.settings:
        games, overrides, timesteps = SETTINGS[setting]
        timesteps = args.timesteps or timesteps
        race_rates, null_rates = [], []
        for _ in range(args.repeats):
            race = labrace.make_vec("race_v0", num_envs=games, seed=0)
            race_rates.append(ppo_rate(race, timesteps, overrides, timer=StepTimer(race)))
            null_rates.append(ppo_rate(NullVecEnv(race.num_envs, race.observation_space, race.action_space), timesteps, overrides))
        print(f"setting {setting!r}: {games} games x 3 labs, PPO overrides {overrides or 'none'}, {timesteps:,} agent-steps per run")
        for k, clock in enumerate(("wall-clock", "CPU-time")):
            race_best, null_best = max(r[k] for r in race_rates), max(r[k] for r in null_rates)
            ratios[setting, clock] = race_best / null_best
            print(f"  [{clock}] PPO on race_v0 VecEnv: {race_best:>9,.0f} agent-steps/s  (runs: {', '.join(f'{r[k]:,.0f}' for r in race_rates)})")
            print(f"  [{clock}] PPO on null VecEnv:    {null_best:>9,.0f} agent-steps/s  (runs: {', '.join(f'{r[k]:,.0f}' for r in null_rates)})")
        shares[setting] = min(r[2] for r in race_rates)
    print("ratio race_v0 / null (target >= 0.9 at every setting), and race_v0's own share of PPO's CPU time:")
    for setting in args.settings:
        print(f"  {setting:<8} wall-clock {ratios[setting, 'wall-clock']:.3f}   CPU-time {ratios[setting, 'CPU-time']:.3f}"
              f"   environment (step_wait) {100 * shares[setting]:.1f}% of CPU time (target < 10%)")
    print("(CPU time counts only this process, so it is the figure to trust on a busy machine)")
    seconds = {True: [], False: []}
    for _ in range(args.repeats):
        for checks in (True, False):
            seconds[checks].append(simultaneous_cpu_seconds(checks, args.timesteps or 60_000))
    on, off = min(seconds[True]), min(seconds[False])
    print(f"equilibrium lens (train_simultaneous, study settings, H1 cell (0.5, 0.5, 0.2)), CPU seconds: torch.distributions'"
          f" argument checks on {on:.2f}, off {off:.2f} (labrace's trainers): {on / off:.2f}x faster")


def simultaneous_cpu_seconds(argument_checks: bool, timesteps: int, seed: int = 0) -> float:
    """CPU seconds of ``train_simultaneous`` at the study's small-budget settings on one H1 cell,
    with torch.distributions' argument checks on or off (seed_everything turns them off)."""
    def seed_with_checks(*a, **k) -> None:
        seed_everything(*a, **k)
        torch.distributions.Distribution.set_default_validate_args(argument_checks)

    game = make_game("race_v0", **h1_overrides({"misuse_concern": 0.5, "distrust": 0.5, "accident_concern": 0.2}))
    params = {**get_hyperparams("race_v0", "ppo", "simultaneous"), **SMALL_BUDGET_HYPERPARAMS["race_v0"]}
    with mock.patch.object(trainers, "seed_everything", seed_with_checks):
        start = time.process_time()
        trainers.train_simultaneous(game, timesteps=timesteps, seed=seed, hyperparams=params)
        return time.process_time() - start


if __name__ == "__main__":
    main()
