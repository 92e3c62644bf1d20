"""labrace environments: one module per environment, indexed in ``ENVIRONMENTS``.

Adding an environment is one file (``envs/<name>.py`` exposing ``make_game``, ``parallel_env``,
``env`` and ``gym_env``) plus one line in ``ENVIRONMENTS``; the README table, the Gymnasium
registration and ``train.py`` all read this index.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class EnvEntry:
    """One environment of the suite."""

    name: str  # PettingZoo-style versioned name, e.g. "race_v0"
    gym_id: str  # Gymnasium id of the single-agent view, e.g. "labrace/Race-v0"
    action_types: tuple[str, ...]
    source: str
    summary: str

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"labrace.envs.{self.name}")


ENVIRONMENTS: dict[str, EnvEntry] = {
    e.name: e
    for e in (
        EnvEntry(
            "race_v0",
            "labrace/Race-v0",
            ("continuous", "discrete"),
            "labrace flagship model (DESIGN.md §2)",
            "N labs split effort over speed, safety and cooperation; catastrophe, a winner, a pivotal act or coordination ends the race",
        ),
        EnvEntry("precipice_v0", "labrace/Precipice-v0", ("continuous",), "Armstrong, Bostrom & Shulman (2016), AI & Society 31(2)", "one-shot race: each team picks safety; capability + (1 - safety) decides who finishes first; enmity; three information regimes"),
        EnvEntry("dsair_v0", "labrace/Dsair-v0", ("discrete",), "Han, Pereira, Santos & Lenaerts (2020), JAIR 69; commitments: Han, Lenaerts, Santos & Pereira (2022)", "repeated race of SAFE vs UNSAFE development: speed-up s, disaster risk p_r, W steps to the prize B; optional voluntary commitments with sanctions"),
        EnvEntry("commons_v0", "labrace/Commons-v0", ("discrete",), "Milinski et al. (2008) PNAS; Santos & Pacheco (2011) PNAS", "collective-risk dilemma: labs fund a shared safety effort; missing the threshold risks catastrophe with probability r"),
    )
}


def get_entry(name: str) -> EnvEntry:
    if name not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {name!r}; valid environments are {sorted(ENVIRONMENTS)}")
    return ENVIRONMENTS[name]


def load(name: str) -> ModuleType:
    """The module of environment ``name`` (``race_v0`` → ``labrace.envs.race_v0``)."""
    return get_entry(name).module


def make_game(name: str, scenario: str = "baseline", config: Any = None, **overrides: Any):
    """The batched game of environment ``name`` for a scenario with field overrides."""
    return load(name).make_game(scenario, config, **overrides)


def parallel_env(name: str, **kwargs: Any):
    return load(name).parallel_env(**kwargs)


def env(name: str, **kwargs: Any):
    return load(name).env(**kwargs)


__all__ = ["ENVIRONMENTS", "EnvEntry", "get_entry", "load", "make_game", "parallel_env", "env"]
