"""What every study's analysis needs: means over seeds with t intervals, tables, figures, verdicts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

#: two-sided 95% Student-t quantiles by degrees of freedom (seeds - 1); 1.96 beyond the table
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def is_fraction(metric: str) -> bool:
    """Rates, indices and shares live in [0, 1]; their intervals are clipped to it."""
    return metric.endswith(("_rate", "_index")) or metric.startswith("share_") or metric == "theory"


def seed_mean(values: Sequence[float], fraction: bool = False) -> dict[str, float]:
    """Mean over seeds with a 95% t interval (``lo == hi == mean`` for a single seed)."""
    values = np.asarray([v for v in values if v is not None], dtype=np.float64)
    n = len(values)
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    mean = float(values.mean())
    half = T95.get(n - 1, 1.96) * float(values.std(ddof=1)) / math.sqrt(n) if n > 1 else 0.0
    lo, hi = mean - half, mean + half
    if fraction:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return {"mean": mean, "lo": lo, "hi": hi, "n": n}


def by_point(rows: list[dict[str, Any]], axes: Sequence[str], metric: str) -> dict[tuple, dict[str, float]]:
    """Seed means of ``metric`` for every grid point (keyed by the axes' values, in order)."""
    groups: dict[tuple, list[float]] = {}
    for row in rows:
        groups.setdefault(tuple(row[a] for a in axes), []).append(row.get(metric))
    fraction = is_fraction(metric)
    return {key: seed_mean(values, fraction) for key, values in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0])))}


def fmt(cell: Mapping[str, float], digits: int = 2) -> str:
    if cell["n"] == 0 or math.isnan(cell["mean"]):
        return "n/a"
    if cell["n"] == 1:
        return f"{cell['mean']:.{digits}f}"
    return f"{cell['mean']:.{digits}f} [{cell['lo']:.{digits}f}, {cell['hi']:.{digits}f}]"


def markdown_table(rows: list[dict[str, Any]], axes: Sequence[str], metrics: Mapping[str, str]) -> str:
    """One line per grid point: the axes, then each metric's seed mean [95% CI]."""
    tables = {name: by_point(rows, axes, key) for name, key in metrics.items()}
    header = "| " + " | ".join(list(axes) + list(metrics)) + " |"
    lines = [header, "|" + "---|" * (len(axes) + len(metrics))]
    for point in next(iter(tables.values())):
        cells = [str(v) for v in point] + [fmt(tables[name][point]) for name in metrics]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def differs(a: Mapping[str, float], b: Mapping[str, float]) -> int:
    """+1 if a's interval lies above b's, -1 if below, 0 if they overlap (no clear difference)."""
    if a["lo"] > b["hi"]:
        return 1
    if a["hi"] < b["lo"]:
        return -1
    return 0


def verdict(signs: Sequence[int], expected: int = 1) -> str:
    """``holds`` if every comparison goes the expected way, ``fails`` if none does, else ``depends``."""
    agree = sum(1 for s in signs if s == expected)
    against = sum(1 for s in signs if s == -expected)
    if signs and agree == len(signs):
        return "holds"
    if agree == 0 and against > 0:
        return "fails (the opposite holds)"
    if agree == 0:
        return "fails (no clear difference)"
    return f"depends ({agree} of {len(signs)} comparisons clear)"


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: Path) -> None:
    """Write a figure atomically (temporary file, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    tmp.replace(path)
    pyplot().close(fig)


def heatmaps(
    rows: list[dict[str, Any]],
    row_axis: str,
    col_axis: str,
    panel_axis: str,
    metrics: Mapping[str, str],
    path: Path,
) -> None:
    """One heatmap per (metric, panel value): seed means, each cell annotated with its 95% CI."""
    plt = pyplot()
    panels = sorted({r[panel_axis] for r in rows})
    fig, axes = plt.subplots(len(metrics), len(panels), figsize=(4.2 * len(panels), 3.4 * len(metrics)), squeeze=False)
    for i, (title, key) in enumerate(metrics.items()):
        for j, panel in enumerate(panels):
            subset = [r for r in rows if r[panel_axis] == panel]
            table = by_point(subset, (row_axis, col_axis), key)
            ys = sorted({k[0] for k in table})
            xs = sorted({k[1] for k in table})
            grid = np.full((len(ys), len(xs)), np.nan)
            ax = axes[i][j]
            for (y, x), cell in table.items():
                grid[ys.index(y), xs.index(x)] = cell["mean"]
                colour = "white" if cell["mean"] > 0.6 else "black"  # readable on the dark end of the map
                ax.text(xs.index(x), ys.index(y), fmt(cell).replace(" [", "\n["), ha="center", va="center", fontsize=7, color=colour)
            image = ax.imshow(grid, origin="lower", cmap="magma_r", vmin=0.0, vmax=1.0, aspect="auto")
            ax.set_xticks(range(len(xs)), [str(x) for x in xs])
            ax.set_yticks(range(len(ys)), [str(y) for y in ys])
            ax.set_xlabel(col_axis)
            ax.set_ylabel(row_axis)
            ax.set_title(f"{title}\n{panel_axis} = {panel}", fontsize=9)
            fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    save(fig, path)


def bars(rows: list[dict[str, Any]], axes: Sequence[str], metrics: Mapping[str, str], path: Path) -> None:
    """Grouped bars with 95% CI error bars: one group per grid point, one bar per metric."""
    plt = pyplot()
    tables = {name: by_point(rows, axes, key) for name, key in metrics.items()}
    points = list(next(iter(tables.values())))
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(points), 3.6))
    width = 0.8 / len(metrics)
    for k, (name, table) in enumerate(tables.items()):
        means = np.array([table[p]["mean"] for p in points])
        errors = np.array([[table[p]["mean"] - table[p]["lo"] for p in points], [table[p]["hi"] - table[p]["mean"] for p in points]])
        ax.bar(np.arange(len(points)) + k * width, means, width, yerr=errors, capsize=3, label=name)
    ax.set_xticks(np.arange(len(points)) + width * (len(metrics) - 1) / 2, ["\n".join(f"{a}={v}" for a, v in zip(axes, p)) for p in points], fontsize=7)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, ncol=len(metrics))
    fig.tight_layout()
    save(fig, path)
