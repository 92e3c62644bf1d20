"""Wall-clock to an equilibrium: training seconds until a learned profile is the Nash equilibrium.

    python benchmarks/time_to_equilibrium.py            # precipice_v0 n=5 e=0.8, no information
    python benchmarks/time_to_equilibrium.py --budget 400000 --check-every 20000

What a researcher waits for is not steps per second but a *validated* result. This script trains
shared PPO on ``precipice_v0`` (n = 5 teams, enmity 0.8, no information: Nash disaster 0.75) on
one core and measures, every ``--check-every`` agent-steps, the exact exploitability of the
current deterministic policy (labrace.agents.exploitability) and its disaster rate (4,000 games);
neither measurement's time is counted. The target is the issue's: exploitability <= 0.005 *and*
a disaster rate within 0.05 of Nash (payoffs are flat near the equilibrium, so a low
exploitability alone is reached early, and by chance, by profiles that are not Nash play). It
does so, side by side in one run, for

* ``default``: the settings of ``agents/hyperparams.py`` (logits, log_std_init -1, n_steps 16,
  expected rewards while training);
* ``before issue 15``: the previous defaults (a Gaussian on the Box(0, 1) safety, n_steps 128,
  log_std_init 0, drawn rewards),

and prints, for each, the training seconds and steps until the target (or "not reached" within
the budget), the final exploitability and disaster rate, and the ratio of the two times.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

TARGET = 0.005
NASH_DISASTER = 0.75
DISASTER_TOLERANCE = 0.05


def measure(name: str, params: dict, budget: int, check_every: int, seed: int) -> dict:
    import labrace
    from labrace.agents import rollout, train_shared
    from labrace.agents.exploitability import exploitability
    from labrace.agents.trainers import seed_everything

    game = labrace.make_game("precipice_v0", num_labs=5, enmity=0.8, information="none")
    seed_everything(seed, torch_threads=1)
    trained, seconds, reached = 0, 0.0, None
    result = None
    history = []
    while trained < budget:
        start = time.perf_counter()
        if result is None:
            result = train_shared(game, "ppo", check_every, seed=seed, hyperparams=params)
            model = result.models[0]
        else:  # continue the same model (same env, same optimiser state)
            model.learn(check_every, reset_num_timesteps=False)
        seconds += time.perf_counter() - start
        trained = int(model.num_timesteps)
        gain = exploitability(game, result.policies)["exploitability"]
        disaster = rollout(game, result.policies, 4000, seed=seed + 1).outcome_rate("disaster")
        history.append((trained, round(seconds, 1), round(gain, 5), round(disaster, 3)))
        if gain <= TARGET and abs(disaster - NASH_DISASTER) <= DISASTER_TOLERANCE:
            reached = (trained, seconds)
            break
    return {"name": name, "reached": reached, "seconds": seconds, "steps": trained, "exploitability": history[-1][2], "disaster": history[-1][3], "history": history}


def main() -> None:
    from labrace.agents.hyperparams import get_hyperparams

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=400_000, help="agent-steps at most per setting")
    parser.add_argument("--check-every", type=int, default=10_000, help="agent-steps between checks")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    default = get_hyperparams("precipice_v0", "ppo", "shared")
    before = get_hyperparams("race_v0", "ppo", "shared", {"action_param": "direct", "learning_rate": 3e-4})  # the old shared PPO defaults
    settings = {"default": default, "before issue 15": before}
    rows = [measure(name, params, args.budget, args.check_every, args.seed) for name, params in settings.items()]
    print(f"precipice_v0 n=5 e=0.8 none: training seconds (one core) until exploitability <= {TARGET} and disaster within {DISASTER_TOLERANCE} of Nash ({NASH_DISASTER})")
    print("| setting | steps to target | seconds to target | final exploitability | disaster rate |")
    print("|---|---|---|---|---|")
    for row in rows:
        if row["reached"]:
            steps, seconds = f"{row['reached'][0]:,}", f"{row['reached'][1]:.1f}"
        else:
            steps, seconds = f"not reached in {row['steps']:,}", f"> {row['seconds']:.1f}"
        print(f"| {row['name']} | {steps} | {seconds} | {row['exploitability']:.4f} | {row['disaster']:.3f} |")
    fast, slow = rows
    if fast["reached"]:
        slow_seconds = slow["reached"][1] if slow["reached"] else slow["seconds"]
        bound = "" if slow["reached"] else " at least"
        print(f"ratio: the default reaches the target{bound} {slow_seconds / fast['reached'][1]:.1f}x sooner")
    for row in rows:
        print(f"{row['name']}: (steps, seconds, exploitability, disaster) per check: {row['history']}")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
