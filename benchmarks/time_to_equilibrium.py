"""Wall-clock to an equilibrium: training seconds until a learned profile is the Nash equilibrium.

    python benchmarks/time_to_equilibrium.py            # precipice_v0 n=5 e=0.8, no information
    python benchmarks/time_to_equilibrium.py --budget 400000 --check-every 20000
    python benchmarks/time_to_equilibrium.py --game race_v0   # the study's game: default vs the study's and other settings

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

``--game race_v0`` does the same for the study's game (``python train.py``'s default: race_v0
baseline, three labs), where no closed form exists: the target is exploitability <= 0.05 per
episode over the strategy set (a 0.1 grid of fixed allocations and every scripted baseline, 300
paired episodes; labrace.agents.exploitability), for the default shared PPO settings against the
study's small-budget settings (5 epochs of minibatches of 1024), the study's full-budget settings
(the same, with the policy's log-std starting at 1.0 instead of 0: wider exploration noise),
training on the expected-rewards game (``train_overrides``) and the large-batch settings
(256 games, minibatches of 8192, 4 epochs), whose steps per second are higher
(benchmarks/ppo_throughput.py): which is faster to a *validated* result decides the study's settings.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

TARGET = 0.005
NASH_DISASTER = 0.75
DISASTER_TOLERANCE = 0.05


RACE_TARGET = 0.05
RACE_EPISODES = 300


def precipice_check(game, policies, seed: int) -> tuple[float, float, bool]:
    """(exploitability, disaster rate, on target) of a precipice_v0 profile."""
    from labrace.agents import rollout
    from labrace.agents.exploitability import exploitability

    gain = exploitability(game, policies)["exploitability"]
    disaster = rollout(game, policies, 4000, seed=seed + 1).outcome_rate("disaster")
    return gain, disaster, gain <= TARGET and abs(disaster - NASH_DISASTER) <= DISASTER_TOLERANCE


def race_check(game, policies, seed: int) -> tuple[float, float, bool]:
    """(exploitability over the strategy set, catastrophe rate, on target) of a race_v0 profile."""
    from labrace.agents import rollout
    from labrace.agents.exploitability import exploitability

    gain = exploitability(game, policies, episodes=RACE_EPISODES, seed=seed + 2)["exploitability"]
    catastrophe = rollout(game, policies, 1000, seed=seed + 1).outcome_rate("catastrophe")
    return gain, catastrophe, gain <= RACE_TARGET


def measure(name: str, params: dict, budget: int, check_every: int, seed: int, race: bool = False) -> dict:
    import labrace
    from labrace.agents import train_shared
    from labrace.agents.trainers import seed_everything

    game = labrace.make_game("race_v0") if race else labrace.make_game("precipice_v0", num_labs=5, enmity=0.8, information="none")
    check = race_check if race else precipice_check
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
        gain, disaster, on_target = check(game, result.policies, seed)
        history.append((trained, round(seconds, 1), round(gain, 5), round(disaster, 3)))
        if on_target:
            reached = (trained, seconds)
            break
    return {"name": name, "reached": reached, "seconds": seconds, "steps": trained, "exploitability": history[-1][2], "disaster": history[-1][3], "history": history}


def main() -> None:
    from labrace.agents.hyperparams import get_hyperparams

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", choices=("precipice_v0", "race_v0"), default="precipice_v0")
    parser.add_argument("--budget", type=int, default=None, help="agent-steps at most per setting (400k precipice_v0, 2M race_v0)")
    parser.add_argument("--check-every", type=int, default=None, help="agent-steps between checks (10k precipice_v0, 100k race_v0)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    race = args.game == "race_v0"
    budget = args.budget or (2_000_000 if race else 400_000)
    check_every = args.check_every or (100_000 if race else 10_000)
    if race:
        default = get_hyperparams("race_v0", "ppo", "shared")
        large = get_hyperparams("race_v0", "ppo", "shared", {"n_envs": 256, "batch_size": 8192, "n_epochs": 4})
        expected = get_hyperparams("race_v0", "ppo", "shared", {"train_overrides": {"expected_rewards": True}})
        from labrace.agents.studies import FULL_BUDGET_HYPERPARAMS, SMALL_BUDGET_HYPERPARAMS

        study = get_hyperparams("race_v0", "ppo", "shared", dict(SMALL_BUDGET_HYPERPARAMS["race_v0"]))
        wide = get_hyperparams("race_v0", "ppo", "shared", dict(FULL_BUDGET_HYPERPARAMS["race_v0"]))
        settings = {"default": default, "study (small budget)": study, "study (full budget: log-std 1)": wide, "expected rewards": expected, "large batch": large}
    else:
        default = get_hyperparams("precipice_v0", "ppo", "shared")
        before = get_hyperparams("race_v0", "ppo", "shared", {"action_param": "direct", "learning_rate": 3e-4})  # the old shared PPO defaults
        settings = {"default": default, "before issue 15": before}
    rows = [measure(name, params, budget, check_every, args.seed, race) for name, params in settings.items()]
    if race:
        print(f"race_v0 baseline (3 labs): training seconds (one core) until exploitability <= {RACE_TARGET} per episode (strategy set, {RACE_EPISODES} paired episodes)")
        print("| setting | steps to target | seconds to target | final exploitability | catastrophe rate |")
    else:
        print(f"precipice_v0 n=5 e=0.8 none: training seconds (one core) until exploitability <= {TARGET} and disaster within {DISASTER_TOLERANCE} of Nash ({NASH_DISASTER})")
        print("| setting | steps to target | seconds to target | final exploitability | disaster rate |")
    print("|---|---|---|---|---|")
    for row in rows:
        if row["reached"]:
            steps, seconds = f"{row['reached'][0]:,}", f"{row['reached'][1]:.1f}"
        else:
            steps, seconds = f"not reached in {row['steps']:,}", f"> {row['seconds']:.1f}"
        print(f"| {row['name']} | {steps} | {seconds} | {row['exploitability']:.4f} | {row['disaster']:.3f} |")
    reached = sorted((row for row in rows if row["reached"]), key=lambda row: row["reached"][1])
    if reached:
        fast = reached[0]
        for slow in (row for row in rows if row is not fast):
            if slow["reached"]:
                print(f"ratio: {fast['name']} reaches the target {slow['reached'][1] / fast['reached'][1]:.1f}x sooner than {slow['name']}")
            elif slow["seconds"] >= fast["reached"][1]:
                print(f"ratio: {fast['name']} reaches the target at least {slow['seconds'] / fast['reached'][1]:.1f}x sooner than {slow['name']}")
            else:
                print(f"ratio: none against {slow['name']}, which did not reach the target in {slow['steps']:,} steps ({slow['seconds']:.1f} s): raise --budget")
    else:
        print("ratio: no setting reached the target within the budget")
    for row in rows:
        print(f"{row['name']}: (steps, seconds, exploitability, {'catastrophe' if race else 'disaster'}) per check: {row['history']}")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
