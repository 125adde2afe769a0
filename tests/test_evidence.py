"""The summary's sentences (`lossbench.analysis.evidence`) on small planted trial tables whose answers are worked out by hand."""

from __future__ import annotations

import math
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from lossbench.analysis import evidence

BCE, CCE = "binary_crossentropy", "categorical_crossentropy"
LN2, LN4 = math.log(2), math.log(4)


def row(loss, act="softmax", seed=0, **values):
    """One trial row with the columns `lossbench.analysis.report` gives every trial; ``values`` override them."""
    return {
        "loss": loss,
        "activation": act,
        "class_weighting": "none",
        "optimizer": "adam",
        "seed": seed,
        "state": "complete",
        "verdict": "converged",
        "audit": "nominal",
        "test/foreground_dice": 0.7,
        "val/loss": 0.1,
    } | {k.replace("__", "/"): v for k, v in values.items()}


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows)


# --- all_background_accuracy ---------------------------------------------------------------------


def test_all_background_accuracy_by_hand():
    # 4 classes, 95 % background: background pixels score 4/4 channels, foreground pixels 2/4
    # -> 0.95 * 1 + 0.05 * 0.5 = 0.975 binary accuracy; arg-max accuracy is the background share.
    got = evidence.all_background_accuracy(0.95, 4)
    assert got["binary"] == pytest.approx(0.975)
    assert got["categorical"] == 0.95
    # two classes: binary and arg-max accuracy are the same number
    assert evidence.all_background_accuracy(0.9, 2) == pytest.approx({"binary": 0.9, "categorical": 0.9})
    # the numbers results/cmr/summary.md quotes: 0.9566 arg-max -> 0.9783 binary
    assert round(evidence.all_background_accuracy(0.9566, 4)["binary"], 4) == 0.9783


@pytest.mark.parametrize(("share", "num_classes"), [(0.95, 4), (0.6, 3), (0.8, 6)])
def test_all_background_accuracy_matches_keras2_binary_accuracy_counted_on_pixels(share, num_classes):
    n = 1000
    labels = np.zeros(n, int)
    rng = np.random.default_rng(0)
    n_fg = round(n * (1 - share))
    labels[:n_fg] = rng.integers(1, num_classes, n_fg)
    truth = np.eye(num_classes)[labels]
    predicted = np.eye(num_classes)[np.zeros(n, int)]  # background everywhere
    binary = float((truth == predicted).mean())  # Keras-2 binary accuracy: per channel, averaged
    argmax = float((labels == 0).mean())
    got = evidence.all_background_accuracy(float((labels == 0).mean()), num_classes)
    assert got["binary"] == pytest.approx(binary)
    assert got["categorical"] == pytest.approx(argmax)


# --- why_binary_looked_better --------------------------------------------------------------------


def why_frame(best="adam") -> pd.DataFrame:
    """Adam: every trial converges; SGD: none does. Unweighted rows carry the loss-scale numbers,
    weighted rows a first-epoch loss of 9 that would move the medians of (a) if (a) read them."""
    other = "sgd" if best == "adam" else "adam"
    rows = []
    for seed, (e1_b, vl_b, acc_b, e1_c, vl_c, acc_c) in enumerate(
        [(0.3, 0.01, 0.98, 0.6, 0.04, 0.95), (0.4, 0.02, 0.99, 0.7, 0.05, 0.96), (0.5, 0.03, 0.97, 0.8, 0.06, 0.97)]
    ):
        for loss, act, e1, vl, acc, chance in (
            (BCE, "sigmoid", e1_b, vl_b, acc_b, LN2),
            (CCE, "softmax", e1_c, vl_c, acc_c, LN4),
        ):
            common = {"train__loss__epoch1": e1, "val__loss": vl, "chance_loss": chance, "optimizer": best}
            rows.append(row(loss, act, seed, test__reported_accuracy=acc, **common))
            rows.append(
                row(
                    loss,
                    act,
                    seed,
                    class_weighting="median_frequency",
                    test__reported_accuracy=0.98 if loss == BCE else 0.96,
                    **(common | {"train__loss__epoch1": 9.0, "val__loss": 9.0}),
                )
            )
            rows.append(
                row(
                    loss,
                    act,
                    seed,
                    optimizer=other,
                    verdict="stalled_at_chance",
                    state="pruned",
                    test__reported_accuracy=0.5,
                    train__loss__epoch1=chance,
                    val__loss=chance,
                    chance_loss=chance,
                )
            )
    # a failed trial (not ran): its accuracy of 0 would pull the binary CE mean down if it were counted
    rows.append(row(BCE, "sigmoid", 3, state="failed", verdict="", test__reported_accuracy=0.0, optimizer=best))
    return frame(rows)


def test_why_binary_looked_better_quotes_the_medians_and_means_of_the_converging_optimizer():
    claim = SimpleNamespace(sentence="binary CE is lower than categorical CE in test foreground Dice: -0.050")
    out = evidence.why_binary_looked_better(why_frame(), 0.95, 4, [claim])
    assert [s[:6] for s in out] == ["**(a) ", "**(b) ", "**(c) ", "**(d) "]
    a, b, c, _ = out
    # (a): Adam, unweighted only: medians 0.4 / 0.02 (binary) and 0.7 / 0.05 (categorical), ratio 0.40
    assert "binary CE shows 0.4 after the first epoch (chance level 0.693 = ln 2) and ends at 0.02;" in a
    assert "categorical CE shows 0.7 (chance 1.39 = ln 4) and ends at 0.05 (medians" in a
    assert "Binary CE averages 4 yes/no losses per pixel" in a and "are 0.40x the categorical ones" in a
    # (b): Adam rows (weighted and unweighted), complete/pruned only: 0.98 and 0.96; all-background 0.975 / 0.95
    assert "averaged 0.9800 for binary CE trials; categorical CE trials reported 0.9600 (arg-max accuracy)" in b
    assert "already scores 0.9750 binary accuracy and 0.9500 arg-max accuracy" in b
    assert "sits 0.0250 higher" in b
    assert c == f"**(c) Does binary CE learn better?** Matched by seed, per test subject: {claim.sentence}."


def test_why_binary_looked_better_reads_the_optimizer_that_converges_most_often():
    out = evidence.why_binary_looked_better(why_frame(best="sgd"), 0.95, 4)
    # the converging optimizer is SGD here: (a) is about unweighted Adam, so it is left out; no claims, no (c)
    assert [s[:6] for s in out] == ["**(b) ", "**(d) "]
    assert "averaged 0.9800 for binary CE trials; categorical CE trials reported 0.9600" in out[0]


def test_why_binary_looked_better_needs_both_cross_entropies():
    only_bce = why_frame()
    only_bce = only_bce[only_bce["loss"] == BCE]
    assert evidence.why_binary_looked_better(only_bce, 0.95, 4) == [
        "(needs both binary and categorical cross-entropy trials)"
    ]


# --- activation_sentence -------------------------------------------------------------------------


def activation_frame() -> pd.DataFrame:
    rows = []
    # binary CE: same validation loss for softmax and sigmoid at each seed (spread 0); at seed 1 the
    # test Dice still differs by 0.10 (saturated sigmoid ties)
    for seed, (dice_softmax, dice_sigmoid) in enumerate([(0.7, 0.7), (0.6, 0.5)]):
        rows.append(
            row(
                BCE,
                "softmax",
                seed,
                val__loss=0.2 + seed,
                test__foreground_dice=dice_softmax,
                audit="logits_substituted",
            )
        )
        rows.append(row(BCE, "sigmoid", seed, val__loss=0.2 + seed, test__foreground_dice=dice_sigmoid))
    # categorical CE: spreads 0.05 (seed 0) and 0.12 (seed 1): changed, largest 0.12; its Dice differs
    # too, but a different training is no tie
    for seed, (soft, sig) in enumerate([(0.30, 0.35), (0.30, 0.42)]):
        rows.append(row(CCE, "softmax", seed, val__loss=soft, test__foreground_dice=0.6))
        rows.append(row(CCE, "sigmoid", seed, val__loss=sig, test__foreground_dice=0.8, audit="logits_substituted"))
    # dice with one activation only: nothing to compare, not named
    rows.append(row("dice", "softmax", 0, val__loss=0.5))
    return frame(rows)


def test_activation_sentence_sorts_losses_by_the_largest_spread():
    text = evidence.activation_sentence(activation_frame())
    assert (
        "unchanged (largest spread in brackets) for binary_crossentropy (0), and changed it for categorical_crossentropy (0.12)."
        in text
    )
    assert "dice" not in text.replace("Dice", "")
    assert "(audit `logits_substituted`) for binary_crossentropy+softmax, categorical_crossentropy+sigmoid:" in text
    assert (
        "Identical training still gave different test Dice in binary_crossentropy | none | adam | 1 (Dice spread 0.10):"
        in text
    )
    assert "| 0 (" not in text  # seed 0 has equal Dice: no tie to report
    assert "categorical_crossentropy |" not in text


def test_activation_sentence_says_no_loss_and_no_pairing_when_nothing_qualifies():
    rows = [row(CCE, "softmax", 0, val__loss=0.3), row(CCE, "sigmoid", 0, val__loss=0.5)]
    text = evidence.activation_sentence(frame(rows))
    assert "for no loss, and changed it for categorical_crossentropy (0.2)." in text
    assert "(audit `logits_substituted`) for no pairing:" in text
    assert "Identical training" not in text


def test_activation_sentence_pairs_by_learning_rate_when_it_varies():
    # softmax == sigmoid at each learning rate, but the two rates end at different losses: pairing
    # without the rate would mix them and see a spread of 0.3
    rows = [
        row(BCE, act, 0, learning_rate=lr, val__loss=loss)
        for lr, loss in ((1e-3, 0.1), (3e-3, 0.4))
        for act in ("softmax", "sigmoid")
    ]
    text = evidence.activation_sentence(frame(rows))
    assert "for binary_crossentropy (0), and changed it for no loss." in text


# --- baseline_sentence ---------------------------------------------------------------------------


def baseline_frame() -> pd.DataFrame:
    rows = []
    for seed, (e1, vl, bg, verdict, state) in enumerate(
        [
            (1.3, 0.5, 1.00, "collapsed_to_background", "complete"),
            (1.4, 0.6, 0.99, "collapsed_to_background", "pruned"),
            (1.5, 0.7, 0.98, "stalled_at_chance", "complete"),
        ]
    ):
        rows.append(
            row(
                CCE,
                seed=seed,
                trials="exact",
                state=state,
                verdict=verdict,
                train__loss__epoch1=e1,
                val__loss=vl,
                chance_loss=LN4,
                prior_loss=0.216,
                test__predicted_background_share=bg,
            )
        )
    # a failed run of the exact setting and another trial: neither may move the medians
    big = dict(train__loss__epoch1=100.0, val__loss=100.0, chance_loss=100.0, prior_loss=100.0)
    rows.append(
        row(CCE, seed=3, trials="exact", state="failed", verdict="", test__predicted_background_share=0.0, **big)
    )
    rows.append(row(CCE, seed=0, trials="adam", test__predicted_background_share=0.0, **big))
    return frame(rows)


def test_baseline_sentence_quotes_medians_over_the_seeds_that_ran():
    text = evidence.baseline_sentence(baseline_frame(), "exact")
    assert text == (
        "The exact setting: its loss reads 1.4 after the first epoch and 0.6 at the end, against a chance level of "
        "1.39 (a uniform guess) and a prior level of 0.216 (the class shares); it predicts 99.0% background "
        "(medians over 3 seeds; verdicts: 2 collapsed_to_background, 1 stalled_at_chance)."
    )


def test_baseline_sentence_is_empty_without_the_baseline_or_its_losses():
    trials = baseline_frame()
    assert evidence.baseline_sentence(trials, "not_a_trial") == ""
    trials["val/loss"] = math.nan
    assert evidence.baseline_sentence(trials, "exact") == ""


# --- clipping_sentence ---------------------------------------------------------------------------


def test_clipping_sentence_gives_the_median_per_verdict_of_nominal_trials():
    rows = [
        row(CCE, seed=0, val__clipped_share=0.0),
        row(CCE, seed=1, val__clipped_share=0.0002),
        row(CCE, seed=2, verdict="stalled_at_chance", val__clipped_share=0.05),
        row(CCE, seed=3, verdict="stalled_at_chance", val__clipped_share=0.07),
        row(CCE, seed=4, verdict="stalled_at_chance", val__clipped_share=0.09),
        row(CCE, seed=5, verdict="stalled_at_chance", val__clipped_share=math.nan),  # not measured: not counted
        row(BCE, seed=0, verdict="stalled_at_chance", audit="logits_substituted", val__clipped_share=0.5),
        row(BCE, seed=1, verdict="diverged", audit="logits_substituted", val__clipped_share=0.5),
    ]
    text = evidence.clipping_sentence(frame(rows))
    assert text.startswith("- Pixels whose true-class probability sits at Keras's clip (1e-7")
    assert text.endswith("(audit `nominal`): converged 0.01% (n = 2); stalled_at_chance 7.00% (n = 3).")
    assert "diverged" not in text


def test_clipping_sentence_is_empty_without_the_column_the_audit_or_a_nominal_trial():
    with_share = frame([row(CCE, val__clipped_share=0.1)])
    assert evidence.clipping_sentence(with_share.drop(columns=["val/clipped_share"])) == ""
    assert evidence.clipping_sentence(with_share.drop(columns=["audit"])) == ""
    assert evidence.clipping_sentence(with_share.assign(audit="logits_substituted")) == ""


# --- learning_rate_sentences ---------------------------------------------------------------------


def rate_rows(lr, path, bce_ok, cce_ok, clipped=0.04):
    """Six trials per loss (two activations of ``path`` x seeds 0-2); the first ``*_ok`` converge."""
    acts = evidence.PROBABILITIES if path == "probabilities" else evidence.LOGITS
    rows = []
    for loss, ok in ((BCE, bce_ok), (CCE, cce_ok)):
        for i, (act, seed) in enumerate((a, s) for a in acts for s in range(3)):
            verdict = "converged" if i < ok else "stalled_at_chance"
            rows.append(
                row(
                    loss,
                    act,
                    seed,
                    trials=f"{loss}+{act}@{lr}",
                    learning_rate=lr,
                    verdict=verdict,
                    val__clipped_share=0.0 if verdict == "converged" else clipped,
                )
            )
    return rows


def test_learning_rate_sentences_count_test_and_correct_per_rate_and_path():
    rows = (
        rate_rows(1e-3, "probabilities", 3, 3)
        + rate_rows(1e-3, "logits", 0, 6)
        + rate_rows(3e-3, "probabilities", 6, 0)
    )
    # neither a failed trial nor the reshape-mismatch trials are seeds of a pairing
    rows.append(row(BCE, "softmax_untagged", 9, trials="x", learning_rate=3e-3, state="failed", verdict=""))
    rows.append(row(CCE, "softmax_untagged", 9, trials="cce+reshape_mismatch", learning_rate=3e-3))
    lines = evidence.learning_rate_sentences(frame(rows))
    # Fisher 6/6 vs 0/6: p = 2 / C(12, 6) = 0.00216; Holm over 3 tests: 3 x 0.00216 = 0.00649
    assert lines == [
        "- Adam lr 0.001, loss on the probabilities (softmax_untagged / sigmoid_untagged): binary CE 3/6, "
        "categorical CE 3/6 converged (Fisher p = 1, Holm 1): 'binary CE survives where categorical CE fails' "
        "undecided at 6 seeds; pixels at Keras's clip in the last epoch, median by verdict: "
        "converged 0.00% (n = 6), stalled_at_chance 4.00% (n = 6).",
        "- Adam lr 0.001, loss on the logits (softmax / sigmoid): binary CE 0/6, categorical CE 6/6 converged "
        "(Fisher p = 0.00216, Holm 0.00649): 'binary CE survives where categorical CE fails' **reversed**: "
        "categorical CE converges more often.",
        "- Adam lr 0.003, loss on the probabilities (softmax_untagged / sigmoid_untagged): binary CE 6/6, "
        "categorical CE 0/6 converged (Fisher p = 0.00216, Holm 0.00649): 'binary CE survives where categorical "
        "CE fails' **holds**: binary CE converges more often; pixels at Keras's clip in the last epoch, median by "
        "verdict: converged 0.00% (n = 6), stalled_at_chance 4.00% (n = 6).",
    ]


def test_learning_rate_sentences_decide_on_the_holm_p_not_the_raw_p():
    # 5/6 vs 0/6: Fisher p = 0.0152 < 0.05 alone, but Holm over 4 tests gives 4 x 0.0152 = 0.0606
    rows = (
        rate_rows(1e-3, "probabilities", 3, 3)
        + rate_rows(1e-3, "logits", 3, 3)
        + rate_rows(3e-3, "probabilities", 5, 0)
        + rate_rows(3e-3, "logits", 3, 3)
    )
    lines = evidence.learning_rate_sentences(frame(rows))
    assert len(lines) == 4
    decided = lines[2]
    assert "binary CE 5/6, categorical CE 0/6 converged (Fisher p = 0.0152, Holm 0.0606)" in decided
    assert "fails' undecided at 6 seeds;" in decided and "**holds**" not in decided
    assert all("undecided at 6 seeds" in line for line in lines)


def test_learning_rate_sentences_need_two_rates():
    assert evidence.learning_rate_sentences(frame(rate_rows(1e-3, "probabilities", 6, 0))) == []
    assert evidence.learning_rate_sentences(frame([row(BCE), row(CCE)])) == []  # no learning_rate column


# --- thread1_sentences ---------------------------------------------------------------------------


def thread1_frame() -> pd.DataFrame:
    rows = []

    def add(loss, act, verdicts, dices, name=None, **values):
        for seed, (verdict, dice) in enumerate(zip(verdicts, dices, strict=True)):
            rows.append(
                row(
                    loss,
                    act,
                    seed,
                    trials=name or f"{loss}+{act}",
                    verdict=verdict,
                    test__foreground_dice=dice,
                    **{k: v[seed] if isinstance(v, list) else v for k, v in values.items()},
                )
            )

    add(
        BCE,
        "depth_softmax_thread1",
        ["degenerate", "degenerate", "inconclusive"],
        [0.1, 0.2, 0.3],
        val__clipped_share=0.02,
    )
    add(BCE, "depth_softmax_fixed", ["converged"] * 3, [0.4, 0.5, 0.6])
    add(CCE, "depth_softmax_fixed", ["converged", "converged", ""], [0.6, 0.7, math.nan])
    # categorical CE: the permuted softmax trains differently (val/loss 0.36 vs 0.31 at seed 1) and is
    # 0.1 better in Dice at every seed
    add(CCE, "softmax", ["converged"] * 3, [0.6, 0.7, 0.8], val__loss=[0.30, 0.31, 0.32])
    add(CCE, "permute_reshape_softmax", ["converged"] * 3, [0.7, 0.8, 0.9], val__loss=[0.30, 0.36, 0.32])
    # binary CE: the same training, the same Dice
    for act, audit in (("softmax", "logits_substituted"), ("permute_reshape_softmax", "nominal")):
        add(
            BCE,
            act,
            ["converged"] * 3,
            [0.5, 0.6, 0.7],
            val__loss=[0.1, 0.2, 0.3],
            train__loss=[0.02, 0.03, 0.04],
            audit=audit,
        )
    # the reshape mismatch: its own verdict, so that it shows where it is (wrongly) counted
    add(
        BCE,
        "permute_reshape_softmax",
        ["diverged"] * 3,
        [0.04, 0.05, 0.06],
        name="bce+permute_reshape_softmax+reshape_mismatch",
        val__loss=[9.0, 9.0, 9.0],
        train__loss=[0.09, 0.1, 0.11],
        val__clipped_share=0.5,
    )
    return frame(rows)


def test_thread1_sentences_answer_each_question_from_the_planted_numbers():
    lines = evidence.thread1_sentences(thread1_frame())
    assert len(lines) == 7
    clipping, *depth, permute_cce, permute_bce, mismatch = lines
    # clipping: nominal trials with a measured share, the mismatch excluded
    assert clipping.endswith("(audit `nominal`): degenerate 2.00% (n = 2); inconclusive 2.00% (n = 1).")
    assert depth == [
        "- Answer 1's depth_softmax (sum over axis 0, the batch) with binary_crossentropy: does **not** train "
        "(2 degenerate, 1 inconclusive; mean test foreground Dice 0.200).",
        "- Answer 2's fixed depth_softmax (sum over channels) with binary_crossentropy: trains "
        "(3 converged; mean test foreground Dice 0.500).",
        "- Answer 2's fixed depth_softmax (sum over channels) with categorical_crossentropy: trains in some seeds "
        "(2 converged, 1 failed; mean test foreground Dice 0.650).",
    ]
    assert permute_cce.startswith(
        "- Permute+Reshape+softmax vs a per-pixel Keras softmax with categorical_crossentropy:"
    )
    assert (
        "the runs show a different training (largest |difference| of the last validation loss 0.05; audit nominal vs nominal)"
        in permute_cce
    )
    assert permute_cce.endswith(
        "Permute+Reshape+softmax is higher than the Keras softmax in test foreground Dice: +0.100 "
        "(95 % CI +0.100 to +0.100, hierarchical bootstrap over 3 seeds)."
    )
    assert (
        "the runs show the same training (largest |difference| of the last validation loss 0; audit logits_substituted vs nominal)"
        in permute_bce
    )
    assert permute_bce.endswith(
        "Permute+Reshape+softmax vs the Keras softmax (test foreground Dice): undecided at 3 seeds "
        "(+0.000, 95 % CI +0.000 to +0.000)."
    )
    assert mismatch.startswith(
        "- Labels flattened column-major against outputs flattened row-major (binary_crossentropy): 3 diverged; "
        "mean test foreground Dice 0.050; the training loss still fell to 0.1 (matching orders: 0.03):"
    )
    # paired differences -0.46, -0.55, -0.64: mean -0.550, the interval inside their range
    found = re.search(
        r"mismatched orders is lower than matching orders in test foreground Dice: -0\.550 "
        r"\(95 % CI (-0\.\d+) to (-0\.\d+), hierarchical bootstrap over 3 seeds\)\.$",
        mismatch,
    )
    assert found, mismatch
    assert -0.64 <= float(found.group(1)) <= float(found.group(2)) <= -0.46


def test_thread1_sentences_answer_at_the_main_rate_and_compare_the_rates_first():
    trials = thread1_frame().assign(learning_rate=1e-3)
    # two trials at 3e-3 of a pairing that always trains at 1e-3: they would make it "trains in some seeds"
    extra = [
        row(
            BCE, "depth_softmax_fixed", s, trials="bce+depth_softmax_fixed@3e-3", learning_rate=3e-3, verdict="diverged"
        )
        for s in (0, 1)
    ]
    lines = evidence.thread1_sentences(pd.concat([trials, frame(extra)], ignore_index=True))
    # learning_rate_sentences first: at 1e-3 only the logits path has both losses (softmax)
    assert lines[0].startswith(
        "- Adam lr 0.001, loss on the logits (softmax / sigmoid): binary CE 3/3, categorical CE 3/3"
    )
    assert "undecided at 3 seeds" in lines[0]
    assert not any("lr 0.003" in line for line in lines)
    assert lines[1:] == evidence.thread1_sentences(trials)
    assert any(
        "depth_softmax (sum over channels) with binary_crossentropy: trains (3 converged" in line for line in lines
    )


def test_recommendation_leads_with_the_top_pairing_and_says_what_is_not_separated():
    from lossbench.analysis.claims import Claim

    rates = pd.DataFrame(
        [
            {"pairing": "a", "n": 3, "converged": "3/3", "class": "always", "dice_all": 0.8123, "dice_ci": "0.7-0.9"},
            {"pairing": "b", "n": 3, "converged": "3/3", "class": "always", "dice_all": 0.8, "dice_ci": "0.7-0.9"},
            {"pairing": "c", "n": 3, "converged": "0/3", "class": "never", "dice_all": 0.01, "dice_ci": "0-0.02"},
        ]
    )
    ranking = Claim("ranking", "dice", {}, {}, "a", "b", n=3, sentence="a vs b: undecided at 3 seeds")
    binary = Claim("binary", "dice", {}, {}, "x", "y", n=3, decided=True, direction="lower", sentence="x is lower")
    optimizer = Claim("optimizer", "rate", {}, {}, "adam", "sgd", n=3, decided=True, sentence="adam converges more")
    lines = evidence.recommendation(rates, [ranking, binary, optimizer], pd.DataFrame())
    assert lines[0] == (
        "**Use** a: 3/3 seeds converged, mean test foreground Dice 0.812 (0.7-0.9); "
        "not separated from the runner-up b at 3 seeds."
    )
    assert lines[1] == "**Avoid** the 1 of 3 pairings that never converged (e.g. c); 2 converged in every seed."
    assert lines[2].startswith("**How sure**: 2 of 3 comparisons below are decided at up to 3 seeds")
    assert lines[3] == "**Thread 1** (does binary CE learn better than categorical CE?): x is lower."
    assert lines[4] == "**Thread 2** (why does the net not learn?): adam converges more."
    disagree = {binary.key: {"agree": "no", "seeds A": "lower", "seeds B": "undecided"}}
    again = evidence.recommendation(rates, [ranking, binary, optimizer], pd.DataFrame(), disagree)
    assert "1 of 3 comparisons" in again[2] and "undecided: the two seed sets disagree (lower / undecided)" in again[3]
