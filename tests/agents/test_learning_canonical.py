"""Learning reaches the canonical models' equilibria with the default trainer settings (issue 15).

``precipice_v0`` has its symmetric Nash equilibrium in closed form (precipice_v0.py, P1-P3). With
the defaults of ``agents/hyperparams.py`` (logits, small initial noise, many small updates,
expected rewards while training) a shared PPO policy must land within 0.05 of the Nash disaster
probability with exploitability at most 0.005 (none / private information), or inside the
equilibrium range with exploitability at most 0.03 (public information). Each case is one seed at
the default budget (200k agent-steps, under a minute); results/canonical/learned.md holds the
same cases over five seeds. ``dsair_v0`` in the paper's game (``switching=False``) must select the
risk-dominant equilibrium of the paper's payoff matrix.
"""

from __future__ import annotations

import pytest

import labrace
from labrace.agents import rollout, train_shared
from labrace.agents.exploitability import exploitability
from labrace.agents.hyperparams import get_hyperparams
from labrace.envs import precipice_v0 as P


def learn(**overrides):
    game = labrace.make_game("precipice_v0", **overrides)
    params = get_hyperparams("precipice_v0", "ppo", "shared")
    result = train_shared(game, "ppo", params["timesteps"], seed=0, hyperparams=params)
    disaster = rollout(game, result.policies, 4000, seed=1).outcome_rate("disaster")
    return game, disaster, exploitability(game, result.policies)["exploitability"]


@pytest.mark.parametrize("information, n, e, mu", [("none", 4, 0.5, 1.0), ("private", 2, 0.7, 1.0)])
def test_shared_ppo_lands_on_the_nash_equilibrium(information, n, e, mu):
    game, disaster, exploitable = learn(num_labs=n, enmity=e, capability_range=mu, information=information)
    nash = P.disaster_probability(information, n, e, mu)
    assert abs(disaster - nash) <= 0.05, (disaster, nash)
    assert exploitable <= 0.005


def test_shared_ppo_lands_in_the_public_information_equilibrium_range():
    game, disaster, exploitable = learn(num_labs=2, enmity=0.5, information="public")
    low, high = P.disaster_probability_range("public", 2, 0.5, 1.0)
    assert low - 0.02 <= disaster <= high, (disaster, low, high)  # 4,000 episodes: s.e. ~0.008
    assert exploitable <= 0.03


@pytest.mark.parametrize("p_r, selects", [(0.9, "SAFE"), (0.6, "UNSAFE")])
def test_shared_ppo_selects_the_risk_dominant_equilibrium_of_the_dsair_race(p_r, selects):
    # the paper's game (a lab's first play binds it for the race): both all-SAFE and all-UNSAFE are
    # equilibria at p_r 0.6 and 0.9; the risk-dominant one is UNSAFE below p_r 0.775, SAFE above
    game = labrace.make_game("dsair_v0", p_r=p_r, switching=False)
    from labrace.envs.dsair_v0 import risk_dominance_threshold

    c = game.config
    assert (p_r > risk_dominance_threshold(c.B, c.W, c.s, c.b, c.c)) == (selects == "SAFE")
    params = get_hyperparams("dsair_v0", "ppo", "shared")
    result = train_shared(game, "ppo", params["timesteps"], seed=0, hyperparams=params)
    unsafe_share = rollout(game, result.policies, 1000, seed=1).racing_index()
    assert unsafe_share == (1.0 if selects == "UNSAFE" else 0.0)
    assert exploitability(game, result.policies, episodes=300)["exploitability"] == 0.0  # an exact equilibrium
