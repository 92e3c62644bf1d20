"""The statistics of the studies' analysis: t intervals, binomial intervals, basins and tests of
differences between two cells, each checked against scipy or against known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from labrace.agents.studies.analysis import (
    BASINS,
    basin_counts,
    basin_shares,
    basin_table,
    binomial_interval,
    by_point,
    classify_basin,
    compare_basins,
    compare_cells,
    fisher_basins,
    permutation_difference,
    seed_mean,
    verdict,
)

# -- seed means with t intervals ----------------------------------------------------------------


@pytest.mark.parametrize("n", range(2, 31))
def test_the_t_interval_is_scipys_for_any_number_of_seeds(n):
    values = np.random.default_rng(n).uniform(0, 1, n)
    lo, hi = stats.t.interval(0.95, n - 1, loc=values.mean(), scale=stats.sem(values))
    cell = seed_mean(values)
    assert cell["n"] == n and cell["mean"] == pytest.approx(values.mean())
    assert (cell["lo"], cell["hi"]) == pytest.approx((lo, hi), rel=1e-12)


def test_twenty_seeds_use_t_19_not_the_normal_quantile():
    values = np.tile([0.0, 1.0], 10)  # standard deviation (ddof=1) sqrt(20/76)
    half = 2.093 * math.sqrt(20 / 76) / math.sqrt(20)
    cell = seed_mean(values)
    assert cell["hi"] - cell["mean"] == pytest.approx(half, rel=1e-3)
    assert cell["hi"] - cell["mean"] > 1.96 * math.sqrt(20 / 76) / math.sqrt(20) * 1.05


def test_seed_mean_edge_cases():
    assert seed_mean([0.4]) == {"mean": 0.4, "lo": 0.4, "hi": 0.4, "n": 1}
    assert seed_mean([None, 0.4, None])["n"] == 1  # runs without the metric are left out
    assert seed_mean([])["n"] == 0 and math.isnan(seed_mean([])["mean"])
    clipped = seed_mean([0.0, 0.0, 1.0], fraction=True)
    assert clipped["lo"] == 0.0 and clipped["hi"] == 1.0
    assert seed_mean([0.2, 0.3], confidence=0.99)["hi"] > seed_mean([0.2, 0.3])["hi"]


# -- binomial intervals -------------------------------------------------------------------------


def test_wilson_intervals_of_known_counts():
    none = binomial_interval(0, 10)
    assert none == {"rate": 0.0, "lo": 0.0, "hi": pytest.approx(0.2775, abs=1e-4), "n": 10, "k": 0}
    half = binomial_interval(5, 10)
    assert (half["lo"], half["hi"]) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    three = binomial_interval(3, 3)
    assert three["rate"] == 1.0 and three["hi"] == pytest.approx(1.0) and three["lo"] == pytest.approx(0.4385, abs=1e-4)


def test_the_exact_interval_is_clopper_pearson():
    none = binomial_interval(0, 10, method="exact")
    assert none["lo"] == 0.0 and none["hi"] == pytest.approx(1 - 0.025 ** (1 / 10))  # closed form at k = 0
    two = binomial_interval(2, 10, method="exact")
    assert two["lo"] == pytest.approx(stats.beta.ppf(0.025, 2, 9)) and two["hi"] == pytest.approx(stats.beta.ppf(0.975, 3, 8))
    assert two["hi"] - two["lo"] > binomial_interval(2, 10)["hi"] - binomial_interval(2, 10)["lo"]  # conservative


def test_binomial_interval_rejects_bad_counts():
    assert math.isnan(binomial_interval(0, 0)["rate"])
    with pytest.raises(ValueError, match="k=4, n=3"):
        binomial_interval(4, 3)
    with pytest.raises(ValueError, match="method"):
        binomial_interval(1, 3, method="normal")


# -- basins -------------------------------------------------------------------------------------


def run(catastrophe=0.0, winner=0.0, pivotal_act=0.0, coordinated=0.0, timeout=0.0, **point):
    return {**point, "catastrophe_rate": catastrophe, "winner_rate": winner, "pivotal_act_rate": pivotal_act,
            "coordinated_rate": coordinated, "timeout_rate": timeout, "racing_index": 0.5, "coordination_index": 0.5}  # fmt: skip


@pytest.mark.parametrize(
    "row, basin",
    [
        (run(catastrophe=1.0), "racing"),
        (run(catastrophe=0.3, winner=0.3, coordinated=0.4), "racing"),  # decided races add up
        (run(pivotal_act=0.6, timeout=0.4), "racing"),  # a unilateral act ends the race too
        (run(coordinated=0.5, catastrophe=0.2, timeout=0.3), "coordinating"),  # the threshold is inclusive
        (run(coordinated=1.0), "coordinating"),
        (run(timeout=0.9, catastrophe=0.1), "stalling"),
        (run(catastrophe=0.4, coordinated=0.4, timeout=0.2), "stalling"),  # nothing reaches one half
        (run(catastrophe=0.5, coordinated=0.5), "stalling"),  # a tie: the profile has not settled
    ],
)
def test_the_basin_rule(row, basin):
    assert classify_basin(row) == basin


def test_basins_read_outcomes_not_indices_and_need_the_envs_outcomes():
    assert basin_shares(run(winner=0.2, catastrophe=0.3, coordinated=0.1)) == pytest.approx({"racing": 0.5, "coordinating": 0.1, "stalling": 0.0})
    assert classify_basin({"coordinated_rate": 0.9, "racing_index": 1.0}) == "coordinating"  # missing rates count as 0
    with pytest.raises(ValueError, match="none of the rates"):
        classify_basin({"safe_rate": 0.9, "disaster_rate": 0.1, "racing_index": 0.5})
    dsair = {"racing": ("winner", "disaster"), "coordinating": ("shared_prize",), "stalling": ("timeout",)}
    assert classify_basin({"shared_prize_rate": 0.7, "disaster_rate": 0.3}, outcomes=dsair) == "coordinating"
    assert classify_basin(run(catastrophe=0.7), threshold=0.8) == "stalling"


def test_basin_counts_per_grid_point_with_wilson_intervals():
    rows = [run(catastrophe=1.0, labs=2, seed=0), run(catastrophe=1.0, labs=2, seed=1), run(coordinated=1.0, labs=2, seed=2),
            run(timeout=1.0, labs=5, seed=0)]  # fmt: skip
    counts = basin_counts(rows, ("labs",))
    assert list(counts) == [(2,), (5,)] and all(list(cells) == list(BASINS) for cells in counts.values())
    assert counts[(2,)]["racing"] == binomial_interval(2, 3) and counts[(2,)]["coordinating"]["k"] == 1
    assert counts[(2,)]["stalling"]["k"] == 0 and counts[(5,)]["stalling"] == binomial_interval(1, 1)
    assert basin_counts(rows, ("labs",), method="exact")[(2,)]["racing"] == binomial_interval(2, 3, method="exact")
    # the bimodal cell: its mean catastrophe rate, 0.67, describes none of its seeds
    assert by_point(rows, ("labs",), "catastrophe_rate")[(2,)]["mean"] == pytest.approx(2 / 3)
    table = basin_table(rows, ("labs",)).splitlines()
    assert table[0] == "| labs | racing | coordinating | stalling |"
    assert table[2].startswith("| 2 | 2/3 0.67 [0.21, 0.94] | 1/3 0.33 [0.06, 0.79] | 0/3 0.00 [0.00, 0.56] |")


# -- Fisher's exact test on basin counts ----------------------------------------------------------


def test_fisher_on_a_clear_and_a_null_case():
    clear = fisher_basins({"racing": 10, "coordinating": 0}, {"racing": 0, "coordinating": 10}, "racing")
    assert clear["p"] < 0.001 and clear["p"] == pytest.approx(2 / math.comb(20, 10))
    assert clear["difference"] == 1.0 and clear["odds_ratio"] == math.inf and clear["n_a"] == clear["n_b"] == 10
    null = fisher_basins({"racing": 5, "coordinating": 5}, {"racing": 5, "coordinating": 5}, "racing")
    assert null["p"] == pytest.approx(1.0) and null["difference"] == 0.0


def test_fisher_2x2_is_scipys_and_takes_basin_counts_cells():
    rows = [run(catastrophe=1.0, cell="a", seed=s) for s in range(6)] + [run(coordinated=1.0, cell="b", seed=s) for s in range(5)]
    rows += [run(catastrophe=1.0, cell="b", seed=5), run(timeout=1.0, cell="a", seed=6)]
    counts = basin_counts(rows, ("cell",))
    test = fisher_basins(counts[("a",)], counts[("b",)], "racing")
    expected = stats.fisher_exact([[6, 1], [1, 5]])
    assert test["p"] == pytest.approx(expected.pvalue) and test["odds_ratio"] == pytest.approx(expected.statistic)
    assert test["differences"] == pytest.approx({"racing": 6 / 7 - 1 / 6, "coordinating": -5 / 6, "stalling": 1 / 7})


def test_fisher_on_the_full_basin_table_is_exact():
    # 3 of 3 against 0 of 3: the most extreme of C(6, 3) = 20 equally likely splits, on either side
    assert fisher_basins({"racing": 3}, {"coordinating": 3})["p"] == pytest.approx(0.1)
    # two columns: the same as the 2x2 test
    two = fisher_basins({"racing": 6, "coordinating": 1}, {"racing": 1, "coordinating": 5})
    assert two["p"] == pytest.approx(stats.fisher_exact([[6, 1], [1, 5]]).pvalue) and two["odds_ratio"] is None
    # three columns: scipy's R x C test by Monte Carlo agrees within its sampling error
    a, b = {"racing": 5, "coordinating": 3, "stalling": 2}, {"racing": 2, "coordinating": 3, "stalling": 5}
    sampled = stats.fisher_exact([[5, 3, 2], [2, 3, 5]], method=stats.MonteCarloMethod(n_resamples=20_000, rng=0)).pvalue
    assert fisher_basins(a, b)["p"] == pytest.approx(sampled, abs=0.015)
    assert fisher_basins({"racing": 4}, {"racing": 2})["p"] == 1.0  # one basin in both cells
    with pytest.raises(ValueError, match="both cells need runs"):
        fisher_basins({"racing": 0}, {"racing": 2})


# -- permutation test on seed means ----------------------------------------------------------------


def test_the_permutation_test_is_exact_for_few_seeds():
    test = permutation_difference([0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0])
    assert test["p"] == pytest.approx(2 / math.comb(8, 4)) and test["difference"] == -1.0 and test["cliffs_delta"] == -1.0
    assert permutation_difference([0.0, 0.0, 1.0], [0.0, 1.0, 1.0])["p"] == pytest.approx(1.0)
    single = permutation_difference([0.4, None], [0.5, 0.7])  # one seed in a: no test
    assert single["n_a"] == 1 and math.isnan(single["p"]) and single["difference"] == pytest.approx(-0.2)
    assert math.isnan(permutation_difference([], [0.5, 0.6])["difference"]) and compare_cells([0.4], [0.5, 0.7]) == 0


def test_the_permutation_test_is_deterministic_given_the_seed():
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 1, 12), rng.uniform(0.2, 1, 12)  # C(24, 12) splits: sampled, not enumerated
    first, again = permutation_difference(a, b, seed=3), permutation_difference(a, b, seed=3)
    assert first == again
    assert first["p"] == pytest.approx(permutation_difference(a, b, seed=4)["p"], abs=0.02)
    assert first["cliffs_delta"] == pytest.approx(np.mean(np.sign(a[:, None] - b[None, :])))


# -- directions for verdicts -----------------------------------------------------------------------


def test_compare_cells_gives_the_direction_of_a_significant_difference():
    assert compare_cells([0.9, 1.0, 0.8, 1.0, 0.9], [0.0, 0.1, 0.0, 0.2, 0.1]) == 1
    assert compare_cells([0.0, 0.1, 0.0, 0.2, 0.1], [0.9, 1.0, 0.8, 1.0, 0.9]) == -1
    assert compare_cells([0.0, 1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0, 1.0]) == 0  # bimodal, no difference
    assert compare_cells([1.0, 1.0, 1.0], [0.0, 0.0, 0.0]) == 0  # 3 seeds a cell: p >= 0.1, never significant
    assert compare_cells([0.9, 1.0, 0.8, 1.0, 0.9], [0.0, 0.1, 0.0, 0.2, 0.1], alpha=0.001) == 0
    assert verdict([compare_cells([1.0] * 5, [0.0] * 5), compare_cells([1.0, 0.0] * 3, [0.0, 1.0] * 3)]).startswith("depends")


def test_compare_basins_gives_the_direction_of_a_significant_difference():
    racing, coordinating = {"racing": 10, "coordinating": 0}, {"racing": 1, "coordinating": 9}
    assert compare_basins(racing, coordinating, "racing") == 1 and compare_basins(racing, coordinating, "coordinating") == -1
    assert compare_basins({"racing": 3}, {"coordinating": 3}, "racing") == 0  # 3 of 3 against 0 of 3: p = 0.1
    assert compare_basins(racing, coordinating, "stalling") == 0  # reached by neither cell
    with pytest.raises(ValueError, match="basin='racin'"):
        compare_basins(racing, coordinating, "racin")


def test_a_trend_test_is_spearmans_rho_with_a_permutation_p():
    from scipy import stats

    from labrace.agents.studies.analysis import compare_trends, trend_test

    rng = np.random.default_rng(0)
    grid = [(m * d, list(0.2 + 0.1 * m * d + 0.03 * rng.standard_normal(10))) for m in (0.1, 0.5, 0.9) for d in (0.1, 0.5, 0.9)]
    test = trend_test(grid)  # cells 0.1 x 0.5 and 0.5 x 0.1 share a score: both count
    scores = np.concatenate([[score] * 10 for score, _ in grid])
    assert test["n"] == 90 and test["rho"] == pytest.approx(stats.spearmanr(scores, np.concatenate([v for _, v in grid])).statistic)
    assert test["p"] < 0.001 and trend_test(grid) == test  # seeded: the same p every time
    flat = trend_test([(score, list(0.2 + 0.03 * rng.standard_normal(10))) for score, _ in grid])
    assert flat["p"] > 0.05
    assert math.isnan(trend_test([(1.0, [1.0, 2.0])])["p"])  # one score: nothing to correlate
    rows = [{"m": m, "seed": s, "racing_index": v, "exploitability": 0.01 if m != 0.5 else 0.9} for m, values in ((0.1, [0.1, 0.12, 0.11]), (0.5, [0.2, 0.22, 0.21]), (0.9, [0.3, 0.33, 0.31])) for s, v in enumerate(values)]
    assert compare_trends(rows, ("m",), "racing_index", [[(0.1,), (0.5,), (0.9,)]], lambda p: p[0], False)[:2] == ([1], 0)
    assert compare_trends(rows, ("m",), "racing_index", [[(0.1,), (0.5,)]], lambda p: p[0], True)[:2] == ([], 1)  # one equilibrium cell left


def test_an_exploitability_summary_gives_the_range_of_cell_means_and_the_equilibrium_cells():
    from labrace.agents.studies.analysis import exploitability_summary

    rows = [{"m": m, "seed": s, "exploitability": e} for m, values in ((0.1, [0.01, 0.03]), (0.5, [0.5, 0.7]), (0.9, [None, None])) for s, e in enumerate(values)]
    assert exploitability_summary(rows, ("m",)) == "mean exploitability 0.02-0.60 per episode, an approximate equilibrium in 1 of 2 cells"
    assert exploitability_summary(rows[-2:], ("m",)) == "exploitability not measured"
