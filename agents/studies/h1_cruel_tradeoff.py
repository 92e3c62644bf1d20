"""H1, the cruel trade-off: learned speed share and catastrophe rate rise with misuse concern x
distrust of the other labs; accident concern pulls the other way.

Grid (race_v0, three identical labs, one shared PPO policy): every lab's misuse concern m and its
distrust d = 1 - trust of each other lab are set to the point's values, at low and at high accident
concern x. Compared: the racing index (mean speed share), the catastrophe rate and the
coordinated-outcome rate of the learned policy, as seed means with 95% t intervals.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labrace.agents.studies import Budget, Study
from labrace.agents.studies.analysis import by_point, differs, heatmaps, markdown_table, verdict

AXES = {"misuse_concern": (0.1, 0.5, 0.9), "distrust": (0.1, 0.5, 0.9), "accident_concern": (0.2, 0.8)}
METRICS = {"racing index": "racing_index", "catastrophe rate": "catastrophe_rate", "coordinated rate": "coordinated_rate", "welfare": "welfare"}


def overrides(point: dict[str, Any]) -> dict[str, Any]:
    m, d, x = point["misuse_concern"], point["distrust"], point["accident_concern"]
    lab = {"misuse_concern": (m, m), "accident_concern": (x, x), "trust": (round(1 - d, 3), round(1 - d, 3))}
    return {"lab_types": (lab,)}


def analyse(rows: list[dict[str, Any]], out: Path) -> str:
    low_x, high_x = min(r["accident_concern"] for r in rows), max(r["accident_concern"] for r in rows)
    lo_m, hi_m = min(r["misuse_concern"] for r in rows), max(r["misuse_concern"] for r in rows)
    lo_d, hi_d = min(r["distrust"] for r in rows), max(r["distrust"] for r in rows)
    axes = ("misuse_concern", "distrust", "accident_concern")
    racing, catastrophe = by_point(rows, axes, "racing_index"), by_point(rows, axes, "catastrophe_rate")
    corner = [(hi_m, hi_d, x) for x in (low_x, high_x)], [(lo_m, lo_d, x) for x in (low_x, high_x)]
    racing_signs = [differs(racing[a], racing[b]) for a, b in zip(*corner)]
    catastrophe_signs = [differs(catastrophe[a], catastrophe[b]) for a, b in zip(*corner)]
    cells = sorted({(p[0], p[1]) for p in racing})
    accident_signs = [differs(racing[(m, d, high_x)], racing[(m, d, low_x)]) for m, d in cells]
    heatmaps(rows, "misuse_concern", "distrust", "accident_concern", {"racing index": "racing_index", "catastrophe rate": "catastrophe_rate", "coordinated rate": "coordinated_rate"}, out / "heatmaps.png")
    return "\n".join(
        [
            f"- racing index higher at (misuse {hi_m}, distrust {hi_d}) than at (misuse {lo_m}, distrust {lo_d}), at each accident concern: **{verdict(racing_signs)}**",
            f"- catastrophe rate higher there too: **{verdict(catastrophe_signs)}**",
            f"- higher accident concern ({high_x} vs {low_x}) lowers the racing index, cell by cell: **{verdict(accident_signs, expected=-1)}**",
            "",
            markdown_table(rows, axes, METRICS),
            "",
            "![H1 heatmaps](studies/h1/heatmaps.png)",
        ]
    )


STUDY = Study(
    name="h1",
    title="H1 — the cruel trade-off (misuse concern x distrust, at low and high accident concern)",
    hypothesis="Learned speed share and the catastrophe rate rise with misuse concern x distrust; accident concern pulls the other way.",
    env=lambda point: ("race_v0", "baseline"),
    axes=AXES,
    overrides=overrides,
    analyse=analyse,
    budgets={
        "small": Budget(timesteps=60_000, eval_episodes=300, axes={"misuse_concern": (0.1, 0.9), "distrust": (0.1, 0.9)}),
        "full": Budget(timesteps=1_000_000, eval_episodes=2000, seeds=(0, 1, 2, 3, 4), trainer="independent"),
    },
)
