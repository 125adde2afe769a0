"""lossbench.analysis.stats: exact intervals, classes, Fisher + Holm, hierarchical bootstrap, sentences."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from lossbench.analysis import stats
from lossbench.analysis.stats import (
    CLASS_RULES,
    CLASSES,
    clopper_pearson,
    convergence_class,
    could_decide_dice,
    could_decide_rate,
    decided_dice,
    difference_sentence,
    fisher_p,
    hierarchical_bootstrap,
    holm,
)


def test_constants():
    assert (stats.MIN_SEEDS, stats.ALPHA, stats.N_BOOT) == (3, 0.05, 2000)
    assert set(CLASS_RULES) == set(CLASSES)


def test_clopper_pearson():
    assert clopper_pearson(0, 3) == pytest.approx((0.0, 1 - 0.025 ** (1 / 3)))
    assert clopper_pearson(3, 3) == pytest.approx((0.025 ** (1 / 3), 1.0))
    assert clopper_pearson(5, 10) == pytest.approx((0.18709, 0.81291), abs=1e-4)
    assert all(math.isnan(x) for x in clopper_pearson(0, 0))


@pytest.mark.parametrize(
    "k, n, expected",
    [
        (0, 0, "undecided"),
        (1, 2, "sometimes"),
        (2, 3, "sometimes"),
        (2, 2, "undecided"),
        (0, 2, "undecided"),
        (3, 3, "always"),
        (0, 3, "never"),
        (0, 6, "never"),
    ],
)
def test_convergence_class(k, n, expected):
    assert convergence_class(k, n) == expected


def test_fisher_p():
    assert fisher_p(3, 3, 0, 3) == pytest.approx(0.1)
    assert fisher_p(4, 4, 0, 4) == pytest.approx(2 / 70)
    assert fisher_p(6, 6, 0, 6) == pytest.approx(2 / 924)
    assert fisher_p(3, 3, 0, 0) == 1.0


def test_holm_hand_example():
    # finite m = 4; sorted 0.01, 0.03, 0.04, 0.5 -> x4, x3, x2, x1 = 0.04, 0.09, 0.08, 0.5;
    # cumulative max -> 0.04, 0.09, 0.09, 0.5.
    out = holm([0.01, 0.04, math.nan, 0.03, 0.5])
    assert out[:2] == pytest.approx([0.04, 0.09]) and math.isnan(out[2])
    assert out[3:] == pytest.approx([0.09, 0.5])
    assert holm([0.6, 0.7]) == [1.0, 1.0]
    assert holm([]) == []


def test_bootstrap_constant_groups_have_zero_width():
    groups = [np.full(20, 0.5) for _ in range(4)]
    mean, lo, hi = hierarchical_bootstrap(groups)
    assert lo == hi == mean == 0.5


def test_bootstrap_seeds_are_the_unit_of_replication():
    # Two seeds that disagree (0.1 vs 0.9), 20 subjects each with tiny spread: the subjects
    # of a seed are not independent evidence, so the interval must stay wide.
    rng = np.random.default_rng(1)
    groups = [0.1 + 0.001 * rng.standard_normal(20), 0.9 + 0.001 * rng.standard_normal(20)]
    mean, lo, hi = hierarchical_bootstrap(groups)
    pooled = np.concatenate(groups)
    naive = rng.choice(pooled, size=(2000, pooled.size)).mean(axis=1)
    naive_lo, naive_hi = np.percentile(naive, [2.5, 97.5])
    assert mean == pytest.approx(pooled.mean())
    assert lo < 0.15 and hi > 0.85  # all-one-seed replicates are in the tails
    assert (hi - lo) > 3 * (naive_hi - naive_lo)


def test_bootstrap_edge_cases_and_determinism():
    assert all(math.isnan(x) for x in hierarchical_bootstrap([]))
    assert all(math.isnan(x) for x in hierarchical_bootstrap([np.array([np.nan])]))
    one = [np.array([0.2, 0.4, 0.6, np.nan])]
    mean, lo, hi = hierarchical_bootstrap(one + [np.array([])])
    assert mean == pytest.approx(0.4) and lo < mean < hi  # one seed: subjects still vary
    groups = [np.linspace(0, 1, 7) + i for i in range(3)]
    assert hierarchical_bootstrap(groups, seed=3) == hierarchical_bootstrap(groups, seed=3)
    assert hierarchical_bootstrap(groups, seed=3) != hierarchical_bootstrap(groups, seed=4)


def test_bootstrap_is_fast():
    rng = np.random.default_rng(0)
    groups = [rng.random(20) for _ in range(6)]
    best = math.inf
    for _ in range(3):
        t = time.perf_counter()
        hierarchical_bootstrap(groups)
        best = min(best, time.perf_counter() - t)
    assert best < 0.1


def test_decided_and_could_decide_dice():
    assert decided_dice(0.01, 0.05) and decided_dice(-0.05, -0.01)
    assert not decided_dice(-0.01, 0.05) and not decided_dice(math.nan, 0.05)
    # half-width 0.03, mean 0.02: at 3 -> 12 seeds the half-width becomes 0.015 < 0.02.
    assert could_decide_dice(0.02, -0.01, 0.05, 3, 12)
    assert not could_decide_dice(0.02, -0.01, 0.05, 3, 3)
    assert not could_decide_dice(0.001, -0.03, 0.032, 3, 12)
    assert not could_decide_dice(0.03, 0.01, 0.05, 3, 12)  # already decided
    assert not could_decide_dice(math.nan, -0.01, 0.05, 3, 12)


def test_could_decide_rate():
    assert could_decide_rate(3, 3, 0, 3, 6)  # 6/6 vs 0/6: p = 0.0022
    assert not could_decide_rate(2, 3, 1, 3, 6)  # 4/6 vs 2/6: p = 0.57
    assert not could_decide_rate(3, 3, 3, 3, 6)
    assert not could_decide_rate(3, 3, 0, 3, 3)
    assert not could_decide_rate(6, 6, 0, 6, 12)  # already decided


def test_difference_sentence_both_branches():
    yes = difference_sentence("A", "B", 0.041, 0.012, 0.070, 3)
    assert yes == (
        "A is higher than B in test foreground Dice: +0.041 "
        "(95 % CI +0.012 to +0.070, hierarchical bootstrap over 3 seeds)"
    )
    assert "lower" in difference_sentence("A", "B", -0.041, -0.07, -0.012, 3)
    no = difference_sentence("A", "B", 0.010, -0.020, 0.041, 3)
    assert no == ("A vs B (test foreground Dice): undecided at 3 seeds (+0.010, 95 % CI -0.020 to +0.041)")


def test_spearman_bootstrap_finds_a_planted_ranking_and_no_ranking():
    rng = np.random.default_rng(0)
    side = lambda means: [[rng.normal(m, 0.05, 8) for _ in range(3)] for m in means]  # noqa: E731
    rho, lo, hi = stats.spearman_bootstrap(side(np.linspace(0, 1, 8)), side(np.linspace(0, 1, 8)))
    assert rho == 1.0 and lo > 0.8
    rho, lo, hi = stats.spearman_bootstrap(side(np.linspace(0, 1, 8)), side(np.full(8, 0.5)))
    assert lo < 0 < hi  # no real order on one side: undecided
    reversed_rho = stats.spearman_bootstrap(side(np.linspace(0, 1, 8)), side(np.linspace(1, 0, 8)))[0]
    assert reversed_rho == -1.0
    assert np.isnan(stats.spearman_bootstrap(side([0.1, 0.2]), side([0.1, 0.2]))[0])  # two items: no correlation
    assert stats.spearman([1, 2, 3], [1, 1, 1]) != stats.spearman([1, 2, 3], [1, 1, 1])  # NaN without variance


def test_one_value_has_no_interval():
    """One seed with one test subject (CamVid's test split is one sequence): no interval, nothing decided."""
    mean, lo, hi = stats.hierarchical_bootstrap([np.array([0.07])])
    assert mean == pytest.approx(0.07) and math.isnan(lo) and math.isnan(hi)
    assert not stats.decided_dice(lo, hi)
    mean, lo, hi = stats.hierarchical_bootstrap([np.array([0.07]), np.array([0.05])])  # two seeds: an interval
    assert lo == pytest.approx(0.05) and hi == pytest.approx(0.07)
