"""Throughput of race_v0: the batched core, the PettingZoo API, and PettingZoo's rps_v2 beside it.

Run:  python benchmarks/env_throughput.py [--seconds 2]

Prints, measured side by side in one run on this machine:
* agent-steps/s of the batched core (``RaceGame.step`` + auto-reset of finished games) at
  B = 1, 64, 4096 games of N = 4 labs, with and without building observations,
* agent-steps/s of a bare numpy kernel of the same array size (a floor for what numpy can do),
* env-steps/s of the PettingZoo parallel API on race_v0 and on PettingZoo's ``rps_v2`` (same loop),
* agent-steps/s of the batched core with every governance lever on (scenario ``all_levers``)
  beside all levers off, at B = 4096, N = 4, with the labs playing the same allocations in both:
  the *stress case* (lab 0 races a little, commits and declares a pivotal act, so that breaches,
  sanctions, pauses and trust penalties happen every step; the others comply) and the *compliant
  case* (every lab keeps its commitment and declares cooperation: audits and trust gains only),
* the ratios. Target: the race_v0 API at 2 labs at least as fast as rps_v2 (ratio >= 1). The core
  and levers figures are information only: nobody waits on the bare core (in training the
  environment is a few percent of the time: benchmarks/ppo_throughput.py).

A shared 2-core machine is noisy: every figure is the rate of the fastest 0.05 s window, over
``--rounds`` interleaved rounds of all the measurements (rps_v2, race_v0, rps_v2, …), so that a
slow spell cannot favour one side of a ratio.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import time

import numpy as np
from pettingzoo.classic import rps_v2

import labrace
from labrace.envs import race_v0


def timed(step, seconds: float, window: float = 0.05) -> float:
    """Calls per second of ``step``: the fastest of the windows of ``window`` seconds in ``seconds``.

    A shared machine has slow spells (other tenants, clock changes) that a mean over seconds
    absorbs at random; the fastest short window is the rate of the code itself, and it is stable
    from run to run.
    """
    for _ in range(3):
        step()
    best, end = 0.0, time.perf_counter() + seconds
    while True:
        calls, start = 0, time.perf_counter()
        while True:
            for _ in range(5):
                step()
            calls += 5
            elapsed = time.perf_counter() - start
            if elapsed >= window:
                break
        best = max(best, calls / elapsed)
        if start + elapsed >= end:
            return best


def best_of(measures: dict[str, Callable[[float], float]], seconds: float, rounds: int) -> dict[str, float]:
    """The best rate of each measure over ``rounds`` interleaved rounds of ``seconds / rounds`` each."""
    best = dict.fromkeys(measures, 0.0)
    for _ in range(rounds):
        for name, measure in measures.items():
            best[name] = max(best[name], measure(seconds / rounds))
    return best


MIXED, RACING = (0.4, 0.4, 0.2), (0.7, 0.2, 0.1)  # a mixed allocation gives episodes of ~30 steps


def core_rate(batch: int, labs: int, observe: bool, levers: bool = False, stress: bool = False):
    """A measure (seconds → agent-steps/s) of the batched core with auto-reset (optionally observing).

    Every lab plays ``MIXED``, except lab 0 in the ``stress`` case, which plays ``RACING``.
    ``levers``: scenario ``all_levers`` (else ``baseline``, every lever off); every lab commits
    and declares cooperation, except lab 0 in the stress case, which declares a pivotal act (so
    it breaches, is sanctioned and paused: every lever event happens every step).
    """
    game = labrace.make_game("race_v0", "all_levers" if levers else "baseline", num_labs=labs)
    config = game.config
    rng = np.random.default_rng(0)
    state = game.reset(rng, batch)
    per_lab = [race_v0.allocation_to_action(config, MIXED, commit=True, declare="cooperate")] * labs
    if stress:
        per_lab[0] = race_v0.allocation_to_action(config, RACING, commit=True, declare="pivotal_act")
    actions = np.tile(np.array(per_lab), (batch, 1, 1))  # float32, as policies (and SB3) give them

    def step() -> None:
        result = game.step(state, actions, rng)
        done = result.terminated | result.truncated
        if done.any():
            game.reset_where(state, done, rng)
        if observe:
            game.observe(state)

    return lambda seconds: timed(step, seconds) * batch * labs


def bare_kernel_rate(batch: int, labs: int):
    """A measure of a bare numpy update of the same size: growth, ratio, hazard and one random draw."""
    rng = np.random.default_rng(0)
    capability, safety = np.full((batch, labs), 0.1), np.full((batch, labs), 0.1)
    speed = np.full((batch, labs), 0.4)

    def step() -> None:
        capability.__iadd__(0.001 * speed)
        safety.__iadd__(0.001 * speed)
        ratio = np.minimum(safety / capability, 1.0)
        hazard = 0.1 * speed * (1.0 - ratio)
        (rng.random((batch, labs)) < hazard).any(axis=1)

    return lambda seconds: timed(step, seconds) * batch * labs


def parallel_api_rate(make_env):
    """A measure of the env-steps/s of a PettingZoo parallel env stepped with fixed actions.

    The actions are drawn once from seeded action spaces, so every run plays the same ones (the
    actions set the episode length, hence how often the loop pays for a reset).
    """
    env = make_env()
    env.reset(seed=0)
    actions = {}
    for index, agent in enumerate(env.possible_agents):
        env.action_space(agent).seed(index)
        actions[agent] = env.action_space(agent).sample()

    def step() -> None:
        if not env.agents:
            env.reset()
        env.step({a: actions[a] for a in env.agents})

    return lambda seconds: timed(step, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measuring time per figure (split over the rounds)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of every measure; each figure is its fastest window")
    args = parser.parse_args()
    labs = 4
    print(f"race_v0 batched core, N = {labs} labs (agent-steps/s, fastest window of {args.rounds} interleaved rounds)")
    measures = {}
    for batch in (1, 64, 4096):
        measures[f"step {batch}"] = core_rate(batch, labs, observe=False)
        measures[f"step+observe {batch}"] = core_rate(batch, labs, observe=True)
    for observe, name in ((False, ""), (True, "+observe")):  # "step 4096" is the compliant case off
        measures[f"compliant on{name}"] = core_rate(4096, labs, observe, levers=True)
        measures[f"stress off{name}"] = core_rate(4096, labs, observe, stress=True)
        measures[f"stress on{name}"] = core_rate(4096, labs, observe, levers=True, stress=True)
    measures["bare"] = bare_kernel_rate(4096, labs)
    core = best_of(measures, 2 * args.seconds, args.rounds)
    for batch in (1, 64, 4096):
        print(f"  B = {batch:>5}: step {core[f'step {batch}']:>14,.0f}   step + observe {core[f'step+observe {batch}']:>14,.0f}")
    print(f"  bare numpy kernel, B = 4096: {core['bare']:>14,.0f}")
    print(f"  ratio core / bare kernel at B = 4096: {core['step 4096'] / core['bare']:.2f}   (information)")
    print("  governance levers, B = 4096: the same allocations with every lever off and on (information)")
    cases = {  # case: (all-off step, all-off step + observe, all-on step, all-on step + observe)
        "stress case (lab 0 races, breaches, is paused, declares a pivotal act)": (
            "stress off", "stress off+observe", "stress on", "stress on+observe"),
        "compliant case (every lab keeps its commitment and declares cooperation)": (
            "step 4096", "step+observe 4096", "compliant on", "compliant on+observe"),
    }
    for case, (off, off_observe, on, on_observe) in cases.items():
        print(f"    {case}:")
        print(f"      all off: step {core[off]:>14,.0f}   step + observe {core[off_observe]:>14,.0f}")
        print(f"      all on:  step {core[on]:>14,.0f}   step + observe {core[on_observe]:>14,.0f}")
        print(f"      ratio all on / all off: step {core[on] / core[off]:.2f}   step + observe {core[on_observe] / core[off_observe]:.2f}")

    print(f"PettingZoo parallel API (env-steps/s, fastest window of {args.rounds} interleaved rounds)")
    api = best_of(
        {
            "rps_v2": parallel_api_rate(lambda: rps_v2.parallel_env(max_cycles=50)),
            "race 2": parallel_api_rate(lambda: race_v0.parallel_env(num_labs=2)),
            "race 3": parallel_api_rate(lambda: race_v0.parallel_env(num_labs=3)),  # the default
            "race 4": parallel_api_rate(lambda: race_v0.parallel_env(num_labs=4)),
        },
        3 * args.seconds,
        args.rounds,
    )
    print(f"  rps_v2 (2 agents):        {api['rps_v2']:>10,.0f}")
    for labs_api in (2, 3, 4):
        race = api[f"race {labs_api}"]
        target = "   (target >= 1.0)" if labs_api == 2 else ""
        print(f"  race_v0 ({labs_api} labs):         {race:>10,.0f}   ratio to rps_v2: {race / api['rps_v2']:.2f}{target}")


if __name__ == "__main__":
    main()
