"""What every study's analysis needs: seed means with t intervals, binomial intervals, basins,
tests of differences, tables, figures, verdicts.

The statistics come from scipy.stats; this module only chooses them and shapes their answers into
small dicts that the studies' tables and verdicts read.

Outcomes across seeds are often bimodal (a cell ends in catastrophe in two seeds and in the
coordinated outcome in the third), so a seed mean alone misleads. Besides the mean, a study can
classify each run into a *basin* (``classify_basin``), count basins per grid point with binomial
intervals (``basin_counts``, ``basin_table``), and compare two cells by exact or permutation tests
(``fisher_basins``, ``permutation_difference``) whose directions feed ``verdict`` (``compare_cells``,
``compare_basins``).

How small seed counts limit the tests: with 3 seeds per cell the smallest two-sided p-value that a
permutation test of means (or Fisher's test of 3 of 3 against 0 of 3) can reach is 2 / C(6, 3) = 0.1,
so nothing is significant at 0.05 however clear the data; 4 seeds per cell reach 2 / C(8, 4) = 0.029,
5 seeds reach 2 / C(10, 5) = 0.008.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

#: the significance level of ``compare_cells`` and ``compare_basins``
ALPHA = 0.05
#: the basins of a run, in table order
BASINS = ("racing", "coordinating", "stalling")
#: race_v0's outcomes (``envs/race_v0.py`` ``OUTCOMES``, less ``ongoing``) grouped by basin: a race
#: decided by one actor (a winner, a catastrophe of any cause, a unilateral pivotal act), the
#: distributed coordinated outcome, or the time limit
BASIN_OUTCOMES: Mapping[str, tuple[str, ...]] = {
    "racing": ("winner", "catastrophe", "pivotal_act"),
    "coordinating": ("coordinated",),
    "stalling": ("timeout",),
}


def is_fraction(metric: str) -> bool:
    """Rates, indices and shares live in [0, 1]; their intervals are clipped to it."""
    return metric.endswith(("_rate", "_index")) or metric.startswith("share_") or metric == "theory"


def _present(values: Sequence[float | None]) -> np.ndarray:
    return np.asarray([v for v in values if v is not None], dtype=np.float64)


def seed_mean(values: Sequence[float], fraction: bool = False, confidence: float = 0.95) -> dict[str, float]:
    """Mean over seeds with a Student-t interval on ``n - 1`` degrees of freedom, for any number of
    seeds (``lo == hi == mean`` for a single seed; ``None`` values are left out).

    Returns ``{"mean", "lo", "hi", "n"}``; with ``fraction`` the interval is clipped to [0, 1].
    """
    values = _present(values)
    n = len(values)
    if n == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0}
    mean = float(values.mean())
    if n > 1:
        quantile = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
        half = quantile * float(values.std(ddof=1)) / math.sqrt(n)
    else:
        half = 0.0
    lo, hi = mean - half, mean + half
    if fraction:
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    return {"mean": mean, "lo": lo, "hi": hi, "n": n}


def binomial_interval(k: int, n: int, method: str = "wilson", confidence: float = 0.95) -> dict[str, float]:
    """The rate ``k / n`` (e.g. seeds ending in a basin) with a binomial confidence interval.

    ``method``: ``"wilson"`` (the Wilson score interval, the default: good coverage and never
    degenerate at 0 or n) or ``"exact"`` (Clopper-Pearson, conservative). Returns
    ``{"rate", "lo", "hi", "n", "k"}``; NaNs for ``n == 0``.
    """
    if method not in ("wilson", "exact"):
        raise ValueError(f"method={method!r}: expected 'wilson' or 'exact'")
    if not 0 <= k <= n:
        raise ValueError(f"k={k}, n={n}: expected 0 <= k <= n")
    if n == 0:
        return {"rate": math.nan, "lo": math.nan, "hi": math.nan, "n": 0, "k": 0}
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method=method)
    return {"rate": k / n, "lo": float(ci.low), "hi": float(ci.high), "n": int(n), "k": int(k)}


def rows_by_point(rows: list[dict[str, Any]], axes: Sequence[str]) -> dict[tuple, list[dict[str, Any]]]:
    """The rows (runs) of every grid point, keyed by the axes' values, in order."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row[a] for a in axes), []).append(row)
    return dict(sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))))


def seed_values(rows: list[dict[str, Any]], axes: Sequence[str], metric: str) -> dict[tuple, list[float]]:
    """The per-seed values of ``metric`` for every grid point (keyed by the axes' values, in order;
    ``None`` where a run lacks the metric)."""
    return {point: [row.get(metric) for row in group] for point, group in rows_by_point(rows, axes).items()}


def by_point(rows: list[dict[str, Any]], axes: Sequence[str], metric: str) -> dict[tuple, dict[str, float]]:
    """Seed means of ``metric`` for every grid point (keyed by the axes' values, in order)."""
    fraction = is_fraction(metric)
    return {key: seed_mean(values, fraction) for key, values in seed_values(rows, axes, metric).items()}


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


# --------------------------------------------------------------------------------------------
# Basins: where each run's learned profile ends up
# --------------------------------------------------------------------------------------------


def basin_shares(row: Mapping[str, Any], outcomes: Mapping[str, Sequence[str]] = BASIN_OUTCOMES) -> dict[str, float]:
    """The share of the run's evaluation episodes that end in each basin: the sum of the
    ``<outcome>_rate`` of the basin's outcomes (a missing or ``None`` rate counts as 0).

    Raises ``ValueError`` if the row has none of the outcomes' rates (the grouping is not this env's).
    """
    names = [f"{name}_rate" for group in outcomes.values() for name in group]
    if not any(row.get(name) is not None for name in names):
        raise ValueError(f"the row has none of the rates {names}; pass the env's grouping as `outcomes`")
    return {basin: float(sum(row.get(f"{name}_rate") or 0.0 for name in group)) for basin, group in outcomes.items()}


def classify_basin(row: Mapping[str, Any], outcomes: Mapping[str, Sequence[str]] = BASIN_OUTCOMES, threshold: float = 0.5) -> str:
    """The basin of one run (one row of ``sweep.collect``), from how its learned profile's
    evaluation episodes end (``basin_shares``):

    - ``"racing"``: races decided by one actor (winner, catastrophe, pivotal act) make up at least
      ``threshold`` of the episodes and more than either other basin;
    - ``"coordinating"``: the coordinated outcome makes up at least ``threshold`` and more than
      either other basin;
    - ``"stalling"``: otherwise, i.e. time-outs dominate or no kind of ending does (e.g. half
      decided races, half coordinated: the profile has not settled).

    The rule reads outcomes, not the racing and coordination indices: the indices describe how labs
    allocate, the basin says where the game ends.
    """
    shares = basin_shares(row, outcomes)
    best = max(shares, key=shares.get)
    if shares[best] >= threshold and all(shares[best] > v for b, v in shares.items() if b != best):
        return best
    return "stalling"


def basin_counts(
    rows: list[dict[str, Any]],
    axes: Sequence[str],
    method: str = "wilson",
    outcomes: Mapping[str, Sequence[str]] = BASIN_OUTCOMES,
    threshold: float = 0.5,
) -> dict[tuple, dict[str, dict[str, float]]]:
    """For every grid point, each basin's share of the runs (seeds) with a binomial interval:
    ``{point: {basin: {"rate", "lo", "hi", "n", "k"}}}``, every basin of ``BASINS`` present."""
    counts: dict[tuple, dict[str, dict[str, float]]] = {}
    for point, group in rows_by_point(rows, axes).items():
        basins = [classify_basin(row, outcomes, threshold) for row in group]
        counts[point] = {b: binomial_interval(basins.count(b), len(basins), method) for b in dict.fromkeys([*BASINS, *outcomes])}
    return counts


def fmt_rate(cell: Mapping[str, float], digits: int = 2) -> str:
    """``"k/n rate [lo, hi]"`` of a ``binomial_interval``."""
    if cell["n"] == 0:
        return "n/a"
    return f"{cell['k']}/{cell['n']} {cell['rate']:.{digits}f} [{cell['lo']:.{digits}f}, {cell['hi']:.{digits}f}]"


def basin_table(rows: list[dict[str, Any]], axes: Sequence[str], method: str = "wilson") -> str:
    """One line per grid point: the axes, then each basin's count of seeds, share and 95% interval."""
    counts = basin_counts(rows, axes, method)
    header = "| " + " | ".join([*axes, *BASINS]) + " |"
    lines = [header, "|" + "---|" * (len(axes) + len(BASINS))]
    for point, cells in counts.items():
        lines.append("| " + " | ".join([*(str(v) for v in point), *(fmt_rate(cells[b]) for b in BASINS)]) + " |")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Tests of differences between two cells
# --------------------------------------------------------------------------------------------


def _count(cell: Mapping[str, float] | int) -> int:
    return int(cell["k"]) if isinstance(cell, Mapping) else int(cell)


def fisher_basins(a: Mapping[str, Any], b: Mapping[str, Any], basin: str | None = None) -> dict[str, Any]:
    """Fisher's exact test of two cells' basin counts (``basin_counts`` cells, or ``{basin: k}``).

    With ``basin``: the 2x2 table (this basin vs any other) x (cell a, cell b), two-sided
    (``scipy.stats.fisher_exact``); ``odds_ratio`` is its sample odds ratio. Without: the full
    2 x basins table, exact, its p-value the probability under independence (fixed margins, the
    multivariate hypergeometric of ``scipy.stats``) of a table no more probable than the observed
    one; ``odds_ratio`` is None. (``fisher_exact`` also takes R x C tables, but only by Monte Carlo or
    permutation resampling, seconds per call and approximate.)

    Returns ``{"p", "basin", "odds_ratio", "difference", "differences", "n_a", "n_b"}``:
    ``differences`` maps each basin to rate in a minus rate in b, ``difference`` is the given
    basin's (None without one).
    """
    names = list(dict.fromkeys([*a, *b, *([basin] if basin in BASINS else [])]))  # a basin neither cell reached counts 0
    ka = np.array([_count(a.get(n, 0)) for n in names])
    kb = np.array([_count(b.get(n, 0)) for n in names])
    n_a, n_b = int(ka.sum()), int(kb.sum())
    if n_a == 0 or n_b == 0:
        raise ValueError(f"both cells need runs: n_a={n_a}, n_b={n_b}")
    differences = {n: float(ka[i] / n_a - kb[i] / n_b) for i, n in enumerate(names)}
    if basin is not None:
        if basin not in names:
            raise ValueError(f"basin={basin!r}: expected one of {names}")
        i = names.index(basin)
        result = stats.fisher_exact([[ka[i], n_a - ka[i]], [kb[i], n_b - kb[i]]])
        p, odds = float(result.pvalue), float(result.statistic)
    else:
        p, odds = _fisher_2xc(ka, kb), None
    difference = differences[basin] if basin is not None else None
    return {"p": p, "basin": basin, "odds_ratio": odds, "difference": difference, "differences": differences, "n_a": n_a, "n_b": n_b}


def _fisher_2xc(ka: np.ndarray, kb: np.ndarray) -> float:
    """Exact two-sided p-value of a 2 x C table with rows ``ka`` and ``kb``: under independence with
    fixed margins, row a is multivariate hypergeometric (column totals, row a's total)."""
    columns = ka + kb
    keep = columns > 0
    ka, columns = ka[keep], columns[keep]
    if len(columns) < 2:
        return 1.0  # one kind of basin in both cells: only one table has these margins
    n_a = int(ka.sum())
    # every first row with these margins: 0 <= x_j <= column_j, sum x_j = n_a
    grids = np.meshgrid(*(np.arange(c + 1) for c in columns[:-1]), indexing="ij")
    heads = np.stack([g.ravel() for g in grids], axis=1)
    last = n_a - heads.sum(axis=1)
    valid = (last >= 0) & (last <= columns[-1])
    tables = np.column_stack([heads[valid], last[valid]])
    pmf = stats.multivariate_hypergeom.pmf(tables, m=columns, n=n_a)
    observed = stats.multivariate_hypergeom.pmf(ka, m=columns, n=n_a)
    return float(min(1.0, pmf[pmf <= observed * (1 + 1e-7)].sum()))


def _mean_difference(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def permutation_difference(a: Sequence[float], b: Sequence[float], seed: int = 0, n_resamples: int = 9999) -> dict[str, float]:
    """Two-sided permutation test of the difference of means between two cells' per-seed values
    (``scipy.stats.permutation_test``, independent samples; exact when there are at most
    ``n_resamples`` distinct splits, otherwise ``n_resamples`` random ones drawn from ``seed``, so the
    same inputs always give the same p). It assumes nothing of the values' distribution, which suits
    bimodal seeds.

    Returns ``{"p", "difference", "mean_a", "mean_b", "cliffs_delta", "n_a", "n_b"}``:
    ``difference`` is mean a minus mean b; ``cliffs_delta`` (in [-1, 1]) is P(a > b) - P(a < b) over
    pairs of seeds, from the Mann-Whitney U statistic. ``p`` is NaN unless each cell has two values
    or more (then ``compare_cells`` says 0).
    """
    x, y = _present(a), _present(b)
    n_a, n_b = len(x), len(y)
    mean_a, mean_b = (float(v.mean()) if len(v) else math.nan for v in (x, y))
    test = {"p": math.nan, "difference": mean_a - mean_b, "mean_a": mean_a, "mean_b": mean_b, "cliffs_delta": math.nan, "n_a": n_a, "n_b": n_b}
    if n_a and n_b:
        test["cliffs_delta"] = float(2 * stats.mannwhitneyu(x, y).statistic / (n_a * n_b) - 1)
    if n_a >= 2 and n_b >= 2:  # scipy's permutation test needs two values a sample
        result = stats.permutation_test((x, y), _mean_difference, vectorized=True, n_resamples=n_resamples, alternative="two-sided", rng=seed)
        test["p"] = float(result.pvalue)
    return test


def compare_cells(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA, seed: int = 0) -> int:
    """+1 if cell a's per-seed values are higher than b's, -1 if lower, 0 if the two-sided
    permutation test (``permutation_difference``) finds no difference at ``alpha``; feeds ``verdict``.
    With 3 seeds a cell it is always 0 (the smallest p is 0.1; see the module docstring)."""
    test = permutation_difference(a, b, seed=seed)
    if not test["p"] < alpha:
        return 0
    return int(np.sign(test["difference"]))


def trend_test(cells: Sequence[tuple[float, Sequence[float]]], seed: int = 0, n_resamples: int = 9999) -> dict[str, float]:
    """Whether per-seed values rise or fall with a cell score across a grid: Spearman's rank
    correlation between each run's cell score and its value (``cells``: (score, the cell's per-seed
    values) per cell; cells may share a score),
    with a two-sided permutation p (``scipy.stats.permutation_test``, values permuted against scores;
    ``n_resamples`` random pairings drawn from ``seed``, so the same inputs give the same p). Uses
    every cell of the grid at once, so it has more power than comparing two corners.

    Returns ``{"rho", "p", "n"}``; ``p`` is NaN with fewer than two distinct scores or values."""
    scores = np.concatenate([np.full(len(_present(v)), score, dtype=float) for score, v in cells]) if cells else np.zeros(0)
    data = np.concatenate([_present(v) for _, v in cells]) if cells else np.zeros(0)
    test = {"rho": math.nan, "p": math.nan, "n": len(data)}
    if len(np.unique(scores)) < 2 or len(np.unique(data)) < 2:
        return test

    # Spearman's rho is Pearson's correlation of the ranks; permuting the values permutes their ranks
    score_ranks = stats.rankdata(scores) - (len(scores) + 1) / 2

    def rho(ranks: np.ndarray, axis: int = -1) -> np.ndarray:  # ranks: (..., n), one row per resample
        centred = ranks - ranks.mean(axis=axis, keepdims=True)
        return (centred * score_ranks).sum(axis=axis) / np.sqrt((centred**2).sum(axis=axis) * (score_ranks**2).sum())

    result = stats.permutation_test((stats.rankdata(data),), rho, permutation_type="pairings", vectorized=True, n_resamples=n_resamples, alternative="two-sided", rng=seed)
    test["rho"], test["p"] = float(result.statistic), float(result.pvalue)
    return test


def fmt_trend(test: Mapping[str, float]) -> str:
    """``rho +0.45, p 0.0002``, or, where every value (or score) is the same and Spearman's rho is
    undefined, ``no variation (every value the same)``."""
    if math.isnan(test["p"]):
        return "no variation (every value the same)"
    return f"rho {test['rho']:+.2f}, p {test['p']:.4f}"


def compare_basins(a: Mapping[str, Any], b: Mapping[str, Any], basin: str, alpha: float = ALPHA) -> int:
    """+1 if ``basin`` is more frequent in cell a than in b, -1 if less, 0 if Fisher's exact test
    (``fisher_basins`` with ``basin``) finds no difference at ``alpha``; feeds ``verdict``."""
    test = fisher_basins(a, b, basin)
    if not test["p"] < alpha:
        return 0
    return int(np.sign(test["difference"]))


# --------------------------------------------------------------------------------------------
# Exploitability: which cells are evidence about equilibrium play
# --------------------------------------------------------------------------------------------

#: the exploitability bound when a run does not record its own (race_v0 and precipice_v0 pay in
#: units of 1; ``labrace.agents.exploitability.EQUILIBRIUM_TOLERANCE``)
TOLERANCE = 0.05


def exploitability_by_point(rows: list[dict[str, Any]], axes: Sequence[str]) -> dict[tuple, dict[str, Any]]:
    """Seed means of the learned profiles' exploitability per grid point, each with its
    ``tolerance`` (the runs' own, else :data:`TOLERANCE`) and ``equilibrium``: True where the mean
    is within it (the cell is an approximate equilibrium on average over seeds)."""
    cells = {}
    for point, group in rows_by_point(rows, axes).items():
        cell = seed_mean([row.get("exploitability") for row in group])
        tolerances = [row["equilibrium_tolerance"] for row in group if row.get("equilibrium_tolerance") is not None]
        cell["tolerance"] = max(tolerances) if tolerances else TOLERANCE
        cell["equilibrium"] = bool(cell["n"] > 0 and cell["mean"] <= cell["tolerance"])
        cells[point] = cell
    return cells


def exploitability_summary(rows: list[dict[str, Any]], axes: Sequence[str]) -> str:
    """What a lens's claims rest on, for its answer: ``mean exploitability 0.41-0.80 per episode,
    an approximate equilibrium in 0 of 8 cells``."""
    cells = [cell for cell in exploitability_by_point(rows, axes).values() if cell["n"] > 0]
    if not cells:
        return "exploitability not measured"
    means = [cell["mean"] for cell in cells]
    equilibria = sum(cell["equilibrium"] for cell in cells)
    return f"mean exploitability {min(means):.2f}-{max(means):.2f} per episode, an approximate equilibrium in {equilibria} of {len(cells)} cells"


def fmt_exploitability(cell: Mapping[str, Any] | None) -> str:
    """``0.012 [0.008, 0.016]``, or with a *not eq.* mark above the tolerance."""
    if cell is None or cell["n"] == 0:
        return "not measured"
    return fmt(cell, 3) + ("" if cell["equilibrium"] else " *not eq.*")


def compare_pairs(
    rows: list[dict[str, Any]],
    axes: Sequence[str],
    metric: str,
    pairs: Sequence[tuple[tuple, tuple]],
    equilibrium_claim: bool,
) -> tuple[list[int], int]:
    """Test each (a, b) pair of grid points on ``metric`` (``compare_cells``: +1 a higher, -1 lower,
    0 no difference). A claim about equilibrium behaviour (``equilibrium_claim``: the equilibrium
    lens) uses only pairs whose cells are both approximate equilibria (``exploitability_by_point``);
    the rest are left out. Pairs with a missing cell are skipped. Returns (signs, pairs left out)."""
    values = seed_values(rows, axes, metric)
    exploit = exploitability_by_point(rows, axes)
    signs, left_out = [], 0
    for a, b in pairs:
        if a not in values or b not in values:
            continue
        if equilibrium_claim and not (exploit[a]["equilibrium"] and exploit[b]["equilibrium"]):
            left_out += 1
            continue
        signs.append(compare_cells(values[a], values[b]))
    return signs, left_out


def compare_trends(
    rows: list[dict[str, Any]],
    axes: Sequence[str],
    metric: str,
    groups: Sequence[Sequence[tuple]],
    score: Callable[[tuple], float],
    equilibrium_claim: bool,
) -> tuple[list[int], int, list[dict[str, float]]]:
    """``trend_test`` of ``metric`` against ``score(point)`` within each group of grid points (e.g. one
    group per accident concern): +1 if it rises, -1 if it falls, 0 if not clear. A claim about
    equilibrium behaviour uses only the approximate-equilibrium points of a group; a group left with
    fewer than two distinct scores is left out. Returns (signs, groups left out, the tests run: each
    ``trend_test``'s dict with ``"group"``, the index of its group in ``groups``)."""
    values = seed_values(rows, axes, metric)
    exploit = exploitability_by_point(rows, axes)
    signs, left_out, tests = [], 0, []
    for index, group in enumerate(groups):
        cells = [(score(point), values[point]) for point in group if point in values and (not equilibrium_claim or exploit[point]["equilibrium"])]
        if len({cell_score for cell_score, _ in cells}) < 2:
            left_out += 1
            continue
        test = {**trend_test(cells), "group": index}
        tests.append(test)
        signs.append(int(np.sign(test["rho"])) if test["p"] < ALPHA else 0)
    return signs, left_out, tests


def lens_verdict(signs: Sequence[int], left_out: int, expected: int = 1) -> str:
    """``verdict`` of the tested pairs, saying how many were left out as not equilibria; with every
    pair left out: ``not tested``; with no pair at all (cells without finished runs): ``not yet
    compared``."""
    if not signs and left_out:
        return f"not tested (all {left_out} comparisons left out: a cell is not an equilibrium)"
    if not signs:  # a sweep in progress: no pair has finished runs in both of its cells yet
        return "not yet compared (runs not finished)"
    text = verdict(signs, expected)
    return text + (f"; {left_out} comparison(s) left out (not an equilibrium)" if left_out else "")


#: how to read a ``learned_table`` (the sentence a study's section ends its tables with)
LEARNED_TABLE_LEGEND = (
    "Per cell: seeds per basin (share, 95% Wilson interval), seed means [95% t interval], mean exploitability "
    f"(*not eq.* above {TOLERANCE})."
)


def learned_table(rows: list[dict[str, Any]], axes: Sequence[str], metrics: Mapping[str, str], basins: bool = True) -> str:
    """One line per grid point: the axes, the seeds per basin (count, share, 95% Wilson interval;
    race_v0 rows), each metric's seed mean [95% t interval] and the mean exploitability [95% t
    interval], marked *not eq.* above the tolerance."""
    tables = {name: by_point(rows, axes, key) for name, key in metrics.items()}
    exploit = exploitability_by_point(rows, axes)
    counts = basin_counts(rows, axes) if basins else {}
    columns = [*axes, *(BASINS if basins else ()), *metrics, "exploitability"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for point in exploit:
        cells = [str(v) for v in point]
        cells += [fmt_rate(counts[point][b]) for b in BASINS] if basins else []
        cells += [fmt(tables[name][point]) for name in metrics]
        lines.append("| " + " | ".join([*cells, fmt_exploitability(exploit[point])]) + " |")
    return "\n".join(lines)


def differs(a: Mapping[str, float], b: Mapping[str, float]) -> int:
    """+1 if a's interval lies above b's, -1 if below, 0 if they overlap (no clear difference).

    Overlapping intervals are a blunt, conservative test; ``compare_cells`` and ``compare_basins``
    test the difference itself."""
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
