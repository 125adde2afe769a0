"""`lossbench.analysis.holds`: the cardiac conclusions read from results/transfer.md, re-tested on another study's trials."""

from __future__ import annotations

from test_claims import grid

from lossbench.analysis import claims, holds


def test_the_committed_transfer_table_parses():
    table = holds.conclusions()
    assert len(table) >= 30 and set(table.columns) >= {"conclusion", "phantom", "real"}
    binary = table[table["conclusion"].str.startswith("binary: ")].iloc[0]
    assert binary["phantom"].startswith(("higher", "lower", "undecided"))
    assert holds.pairing("dice_ce+softmax | median_frequency | adam") == {
        "loss": "dice_ce",
        "activation": "softmax",
        "class_weighting": "median_frequency",
        "optimizer": "adam",
    }
    assert holds.pairing("adam (all pairings pooled)") is None


def test_a_conclusion_is_retested_with_the_same_two_sides():
    trials = grid(bce=0.60, cce=0.76)  # binary CE planted 0.16 below categorical CE, 3 seeds
    rates = claims.rates(trials)
    row = {
        "conclusion": "binary: binary_crossentropy+sigmoid | none | adam vs categorical_crossentropy+softmax | none | adam (dice)"
    }
    here = holds.retest(row, trials, rates, cap=3)
    assert here.startswith("lower: -0.1")
    assert holds.retest({"conclusion": "class of dice+softmax | none | adam"}, trials, rates, 3) == "always (3/3)"
    assert holds.retest({"conclusion": "class of dice+sigmoid | none | adam"}, trials, rates, 3) is None  # not run
    pooled = {"conclusion": "optimizer: adam (all pairings pooled) vs sgd_seed (all pairings pooled) (rate)"}
    assert holds.retest(pooled, trials, rates, 3) is None


def test_the_verdict_words():
    assert holds.word("lower: -0.05", "undecided: -0.01", "lower: -0.1 (x)") == "holds"
    assert holds.word("lower: -0.05", "undecided: -0.01", "higher: +0.1") == "**reversed**"
    assert holds.word("always", "always", "never (0/3)") == "**reversed**"
    assert holds.word("undecided: 0", "undecided: 0", "undecided: +0.01") == "undecided everywhere"
    assert holds.word("higher: +0.04", "undecided: 0", "undecided: +0.01") == "undecided here"
    assert holds.word("undecided: 0", "undecided: 0", "higher: +0.01") == "decided here only (higher)"
    assert holds.word("sometimes", "always", "never (0/3)") == "differs (never here)"
