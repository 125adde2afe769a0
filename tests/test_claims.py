"""Rates, claims, adaptive seeds and the reproducibility/pruning comparisons on planted trial tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lossbench.analysis import claims, pruning, reproduce

SUBJECTS = [f"s{i}" for i in range(6)]


def trial(
    loss,
    act="softmax",
    weighting="none",
    opt="adam",
    seed=0,
    verdict="converged",
    dice=0.8,
    spread=0.01,
    state="complete",
):
    rng = np.random.default_rng(seed * 101 + len(loss))
    subjects = {s: float(dice + spread * rng.standard_normal()) for s in SUBJECTS}
    return {
        "loss": loss,
        "activation": act,
        "class_weighting": weighting,
        "optimizer": opt,
        "seed": seed,
        "state": state,
        "verdict": verdict,
        "test/foreground_dice": float(np.mean(list(subjects.values()))),
        "subject_dice": subjects,
        "pruned_at": 4 if state == "pruned" else 0,
    }


def grid(seeds=(0, 1, 2), bce=0.70, cce=0.76, sgd="stalled_at_chance", dice_verdicts=None):
    rows = []
    for seed in seeds:
        rows.append(trial("binary_crossentropy", "sigmoid", seed=seed, dice=bce))
        rows.append(trial("categorical_crossentropy", "softmax", seed=seed, dice=cce))
        rows.append(trial("categorical_crossentropy", "softmax", "median_frequency", seed=seed, dice=cce + 0.04))
        verdict = (dice_verdicts or {}).get(seed, "converged")
        rows.append(trial("dice", "softmax", seed=seed, verdict=verdict, dice=0.7 if verdict == "converged" else 0.1))
        rows.append(
            trial(
                "categorical_crossentropy", "softmax", opt="sgd_seed", seed=seed, verdict=sgd, dice=0.0, state="pruned"
            )
        )
    return pd.DataFrame(rows)


def test_rates_give_k_of_n_an_exact_interval_and_a_class():
    table = claims.rates(grid(dice_verdicts={1: "degenerate"})).set_index("pairing")
    dice = table.loc["dice+softmax | none | adam"]
    assert (dice["k"], dice["n"], dice["class"]) == (2, 3, "sometimes")
    assert dice["rate_ci"] == "0.09-0.99"
    assert table.loc["categorical_crossentropy+softmax | none | sgd_seed", "class"] == "never"
    assert table.loc["categorical_crossentropy+softmax | none | adam", "class"] == "always"
    assert abs(dice["dice_converged"] - 0.7) < 0.02 and dice["dice_all"] < 0.55  # side by side
    assert (
        claims.rates(grid(seeds=(0, 1)))
        .set_index("pairing")
        .loc["categorical_crossentropy+softmax | none | adam", "class"]
        == "undecided"
    )


def test_a_clear_dice_difference_is_stated_and_a_small_one_is_undecided():
    found = {c.section: c for c in claims.claims_for(grid(bce=0.60, cce=0.76), cap=6)}
    assert found["binary"].direction == "lower" and "lower than" in found["binary"].sentence
    rng = np.random.default_rng(7)
    noisy = grid(bce=0.755, cce=0.76)
    noisy["subject_dice"] = [{s: v + rng.normal(0, 0.2) for s, v in d.items()} for d in noisy["subject_dice"]]
    close = {c.section: c for c in claims.claims_for(noisy, cap=6)}
    assert close["binary"].direction == "undecided" and "undecided at 3 seeds" in close["binary"].sentence


def test_a_perfect_split_at_three_seeds_is_undecided_but_decidable_at_six():
    optimizer = [c for c in claims.claims_for(grid(), cap=6) if c.section == "optimizer"]
    assert optimizer[0].decided  # pooled over pairings: 12/12 vs 0/3
    weighting = claims.claims_for(grid(dice_verdicts={0: "degenerate", 1: "degenerate", 2: "degenerate"}), 6)
    rate = [c for c in weighting if c.section == "weighting" and c.kind == "rate"]
    assert all(c.counts[1] == 3 for c in rate)


def test_adaptive_seeds_go_to_sometimes_pairings_and_decidable_claims_only():
    table = grid(dice_verdicts={1: "degenerate"})
    points, reasons = claims.adaptive_points(table, [0, 1, 2], cap=6)
    added = {(p["loss"], p["optimizer"], p["class_weighting"]) for p in points}
    assert ("dice", "adam", "none") in added
    assert ("categorical_crossentropy", "sgd_seed", "none") not in added  # never: no extra seeds
    assert {p["seed"] for p in points} == {3, 4, 5}
    assert any("sometimes" in r for r in reasons)
    assert claims.adaptive_points(table, [0, 1, 2], cap=3) == ([], [])


def test_adaptive_seeds_stop_once_a_pairing_has_the_cap():
    table = pd.concat(
        [
            grid(dice_verdicts={1: "degenerate"}),
            pd.DataFrame([trial("dice", seed=s, verdict="converged", dice=0.7) for s in (3, 4, 5)]),
        ]
    )
    points, _ = claims.adaptive_points(table, [0, 1, 2], cap=6)
    assert not [p for p in points if p["loss"] == "dice"]


def test_reproducibility_comparison_finds_planted_agreements_and_disagreements():
    a = claims.conclusions(grid(bce=0.60, cce=0.76), 0)
    b = claims.conclusions(grid(seeds=(3, 4, 5), bce=0.90, cce=0.76, dice_verdicts={4: "degenerate"}), 0)
    table = reproduce.compare(a, b).set_index("conclusion")
    assert table.loc["class of categorical_crossentropy+softmax | none | adam", "agree"] == "yes"
    assert table.loc["class of dice+softmax | none | adam", "agree"] == "no"  # always vs sometimes
    binary = [k for k in table.index if k.startswith("binary:")]
    assert table.loc[binary[0], ["seeds A", "seeds B", "agree"]].tolist() == ["lower", "higher", "no"]
    same = reproduce.compare(a, claims.conclusions(grid(seeds=(3, 4, 5), bce=0.60, cce=0.76), 0))
    assert (same["agree"] == "yes").all()
    assert reproduce.compare({"x": "higher"}, {"x": "undecided"})["agree"].tolist() == ["one undecided"]


def test_pruning_comparison_counts_false_prunes_and_savings():
    on = grid().assign(seconds=10.0)
    off = grid(sgd="stalled_at_chance").assign(state="complete", seconds=20.0)
    keys = [*claims.pairing_cols(on), "seed"]
    rows, summary = pruning.compare(on, off, keys)
    assert summary["pruned"] == 3 and summary["false_prunes"] == 0
    assert (summary["epochs_on"], summary["epochs_off"]) == (12 * 8 + 3 * 4, 15 * 8)
    off.loc[off["optimizer"] == "sgd_seed", "verdict"] = "converged"
    _, summary = pruning.compare(on, off, keys)
    assert summary["false_prunes"] == 3 and summary["seconds_off"] == 2 * summary["seconds_on"]


def test_the_learning_rate_names_a_pairing_only_where_it_varies():
    one = grid().assign(learning_rate=0.001)
    assert "learning_rate" not in claims.pairing_cols(one)
    own_rates = one.assign(learning_rate=np.where(one["optimizer"] == "adam", 0.001, 0.0001))
    assert "learning_rate" not in claims.pairing_cols(own_rates)  # each optimizer with its own rate: not a choice
    assert "lr" not in claims.rates(one)["pairing"].iat[0]
    two = pd.concat([one, grid(bce=0.5, cce=0.8).assign(learning_rate=0.003)], ignore_index=True)
    assert "learning_rate" in claims.pairing_cols(two)
    binary = [c for c in claims.claims_for(two, 6) if c.section == "binary"]
    assert [c.a["learning_rate"] for c in binary] == [0.001, 0.003]  # one claim per rate, never pooled
    assert binary[1].direction == "lower" and "lr 0.003" in binary[1].label_a
