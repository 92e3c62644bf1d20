"""race_v0's governance levers and its trust rule, one function per lever (DESIGN.md §2).

Each function applies one lever's rule, quoted from race_v0's module docstring ("Governance
levers"), to B games of N labs at once; :func:`labrace.envs.race_v0.step_batch` calls them in the
documented order of a step::

    pauses → commitment decisions → declarations (and their trust penalty)
    → growth with the compute cap → audits (trust gain, licensing, breaches) → outcomes

Every lever is off by default, and ``step_batch`` calls a lever's function only when it is on: with
every lever off, episodes are those of race_v0 without levers (the same random draws).

Shapes: ``allocation`` (B, N, 3) (speed, safety, cooperation); ``state.trust`` (B, N, N), where
``trust[b, j, i]`` is lab j's trust in lab i (``tau_ji``); every other per-lab array is (B, N).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # race_v0 imports this module
    from labrace.envs.race_v0 import RaceConfig, RaceState

#: declared intentions under ``cheap_talk`` (index = code in ``state.declared``)
INTENTIONS = ("race", "cooperate", "pivotal_act")
DECLARE_RACE, DECLARE_COOPERATE, DECLARE_PIVOTAL = range(3)


# --------------------------------------------------------------------------------------------
# The trust rule: events on the others' trust in lab i; floored at 0 and capped at 1 after each.
# A lab's trust in itself (self_trust) never changes.
# --------------------------------------------------------------------------------------------


@cache
def _others(num_labs: int) -> np.ndarray:
    """(N, N) read-only: ``[j, i]`` is True where j != i (the trusters an event on lab i reaches)."""
    others = ~np.eye(num_labs, dtype=bool)
    others.flags.writeable = False
    return others


def lower_trust(state: RaceState, penalty: np.ndarray) -> None:
    """``tau_ji -= penalty_i`` for every lab j != i, floored at 0 (``penalty``: (B, N), 0 for no event)."""
    trust = state.trust
    trust -= penalty[:, None, :] * _others(trust.shape[1])
    np.clip(trust, 0.0, 1.0, out=trust)


def raise_trust(state: RaceState, gain: np.ndarray) -> None:
    """``tau_ji += gain_i * (1 - tau_ji)`` for every lab j != i, capped at 1 (``gain``: (B, N))."""
    trust = state.trust
    trust += gain[:, None, :] * _others(trust.shape[1]) * (1.0 - trust)
    np.clip(trust, 0.0, 1.0, out=trust)


# --------------------------------------------------------------------------------------------
# Before growth
# --------------------------------------------------------------------------------------------


def apply_pauses(state: RaceState, allocation: np.ndarray) -> None:
    """licensing's pause: while paused, a lab's speed share is moved to safety (it cannot race).

    Changes ``allocation`` in place and spends one step of every pause.
    """
    paused = state.pause_left > 0  # (B, N)
    speed, safety = allocation[..., 0], allocation[..., 1]
    safety[paused] += speed[paused]
    speed[paused] = 0.0
    state.pause_left[paused] -= 1


def decide_commitments(config: RaceConfig, state: RaceState, commit: np.ndarray | None) -> None:
    """commitments: at steps 0, K, 2K, … (K = ``commitment_period``) each lab commits, or not, to keep
    its safety share >= ``commitment_floor`` until the next decision; commitments are public.

    ``commit`` (B, N) bool; each game decides at its own step, also past ``max_steps``.
    """
    decide = state.step % config.commitment_period == 0  # (B,)
    state.committed[decide] = False if commit is None else commit[decide]


def declare_intentions(config: RaceConfig, state: RaceState, declare: np.ndarray | None) -> None:
    """cheap talk: every lab declares an intention (``INTENTIONS``), public and not binding.

    Trust rule, event 1: a declared pivotal act costs ``tau_ji -= declare_trust_penalty``.
    """
    state.declared[...] = DECLARE_RACE if declare is None else declare
    lower_trust(state, config.declare_trust_penalty * (state.declared == DECLARE_PIVOTAL))


# --------------------------------------------------------------------------------------------
# Growth
# --------------------------------------------------------------------------------------------


def capability_gain(config: RaceConfig, speed: np.ndarray) -> np.ndarray:
    """compute cap: ``dC_i = min(capability_growth * speed_i, compute_cap)`` (a cap of 1 never binds)."""
    gain = config.capability_growth * speed
    return np.minimum(gain, config.compute_cap) if config.compute_cap < config.capability_growth else gain


# --------------------------------------------------------------------------------------------
# Audits, and what they enforce
# --------------------------------------------------------------------------------------------


def audit(config: RaceConfig, state: RaceState, allocation: np.ndarray, rng: np.random.Generator) -> None:
    """audits: each lab is audited with ``audit_probability``; an audit makes its cooperation share
    of this step verified (public), and enforces licensing and commitments.

    Trust rule, event 2 (verified cooperation c_i): ``tau_ji += audit_trust_gain * c_i * (1 - tau_ji)``.
    Then licence violations and breaches are sanctioned: ``sanction`` each, added up in
    ``state.sanction_paid`` (an immediate negative reward).
    """
    audited = _bernoulli(rng, config.audit_probability, out=state.audited)  # (B, N)
    cooperation, safety_share = allocation[..., 2], allocation[..., 1]
    state.verified_cooperation[audited] = cooperation[audited]
    raise_trust(state, config.audit_trust_gain * cooperation * audited)
    violation = enforce_licence(config, state, safety_share)
    breach = enforce_commitments(config, state, safety_share)
    state.sanction_paid[...] = config.sanction * (violation.astype(np.float64) + breach)


def enforce_licence(config: RaceConfig, state: RaceState, safety_share: np.ndarray) -> np.ndarray:
    """licensing: an audited lab whose safety share this step is below ``safety_floor`` is sanctioned
    and paused for ``pause_steps`` (its next steps' speed goes to safety). Returns the violators."""
    violation = state.audited & (safety_share < config.safety_floor)  # (a floor of 0 is never violated)
    state.pause_left[violation] = config.pause_steps
    return violation


def enforce_commitments(config: RaceConfig, state: RaceState, safety_share: np.ndarray) -> np.ndarray:
    """commitments: a committed lab caught by an audit below ``commitment_floor`` has breached: it is
    sanctioned, and (trust rule, event 3) ``tau_ji -= breach_trust_penalty``. Returns the breaches."""
    breach = state.audited & state.committed & (safety_share < config.commitment_floor)
    lower_trust(state, config.breach_trust_penalty * breach)
    return breach


def _bernoulli(rng: np.random.Generator, probability: float, out: np.ndarray) -> np.ndarray:
    """``out`` (bool) filled with independent Bernoulli(``probability``) draws.

    Drawn as 32-bit uniform integers, two from each raw 64-bit output of the bit generator (at a
    resolution of 2**-32 in ``probability``): this is how audits have always been drawn, so the same
    seed still gives the same audited episodes.
    """
    size = out.size
    bits = rng.bit_generator.random_raw((size + 1) // 2).view(np.uint32)[:size].reshape(out.shape)
    return np.less(bits, round(probability * 2**32), out=out)  # 2**32 (probability 1): always true
