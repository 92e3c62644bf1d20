"""Throughput of race_v0: the batched core, the PettingZoo API, and PettingZoo's rps_v2 beside it.

Run:  python benchmarks/env_throughput.py [--seconds 2]

Prints, measured side by side in one run on this machine:
* agent-steps/s of the batched core (``RaceGame.step`` + auto-reset of finished games) at
  B = 1, 64, 4096 games of N = 4 labs, with and without building observations,
* agent-steps/s of a bare numpy kernel of the same array size (a floor for what numpy can do),
* env-steps/s of the PettingZoo parallel API on race_v0 and on PettingZoo's ``rps_v2`` (same loop),
* the ratios. Targets: core >= 20 M agent-steps/s at B = 4096, N = 4; race_v0 API >= 1.5x rps_v2.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from pettingzoo.classic import rps_v2

import labrace
from labrace.envs import race_v0


def timed(step, seconds: float) -> float:
    """Calls per second of ``step`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(3):
        step()
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(10):
            step()
        calls += 10
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls / elapsed


def core_rate(batch: int, labs: int, seconds: float, observe: bool) -> float:
    """Agent-steps/s of the batched core with auto-reset (and optionally observations)."""
    game = labrace.make_game("race_v0", num_labs=labs)
    rng = np.random.default_rng(0)
    state = game.reset(rng, batch)
    actions = np.tile(np.array([0.4, 0.4, 0.2]), (batch, labs, 1))  # a mixed allocation: episodes of ~30 steps

    def step() -> None:
        result = game.step(state, actions, rng)
        done = result.terminated | result.truncated
        if done.any():
            game.reset_where(state, done, rng)
        if observe:
            game.observe(state)

    return timed(step, seconds) * batch * labs


def bare_kernel_rate(batch: int, labs: int, seconds: float) -> float:
    """A bare numpy update of the same size: growth, ratio, hazard and one random draw."""
    rng = np.random.default_rng(0)
    capability, safety = np.full((batch, labs), 0.1), np.full((batch, labs), 0.1)
    speed = np.full((batch, labs), 0.4)

    def step() -> None:
        capability.__iadd__(0.001 * speed)
        safety.__iadd__(0.001 * speed)
        ratio = np.minimum(safety / capability, 1.0)
        hazard = 0.1 * speed * (1.0 - ratio)
        (rng.random((batch, labs)) < hazard).any(axis=1)

    return timed(step, seconds) * batch * labs


def parallel_api_rate(make_env, seconds: float) -> float:
    """Env-steps/s of a PettingZoo parallel env stepped with fixed actions, resetting when done."""
    env = make_env()
    env.reset(seed=0)
    actions = {a: env.action_space(a).sample() for a in env.possible_agents}

    def step() -> None:
        if not env.agents:
            env.reset()
        env.step({a: actions[a] for a in env.agents})

    return timed(step, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure")
    args = parser.parse_args()
    labs = 4
    print(f"race_v0 batched core, N = {labs} labs (agent-steps/s)")
    core = {}
    for batch in (1, 64, 4096):
        core[batch] = core_rate(batch, labs, args.seconds, observe=False)
        with_obs = core_rate(batch, labs, args.seconds, observe=True)
        print(f"  B = {batch:>5}: step {core[batch]:>14,.0f}   step + observe {with_obs:>14,.0f}")
    bare = bare_kernel_rate(4096, labs, args.seconds)
    print(f"  bare numpy kernel, B = 4096: {bare:>14,.0f}")
    print(f"  ratio core / bare kernel at B = 4096: {core[4096] / bare:.2f}   (target: core >= 20 M agent-steps/s)")

    print("PettingZoo parallel API (env-steps/s)")
    rps = parallel_api_rate(lambda: rps_v2.parallel_env(max_cycles=50), args.seconds)
    print(f"  rps_v2 (2 agents):        {rps:>10,.0f}")
    for labs_api in (2, 4):
        race = parallel_api_rate(lambda: race_v0.parallel_env(num_labs=labs_api), args.seconds)
        print(f"  race_v0 ({labs_api} labs):         {race:>10,.0f}   ratio to rps_v2: {race / rps:.2f}   (target >= 1.5)")


if __name__ == "__main__":
    main()
