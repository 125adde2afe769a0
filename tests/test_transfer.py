"""The phantom-to-real-hearts transfer table (lossbench.analysis.transfer) on planted trial tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_claims import trial

from lossbench.analysis import claims, transfer


def merged_frame():
    rows = []
    for seed in (0, 1, 2):
        for name, loss, act, dice in (
            ("ce", "categorical_crossentropy", "softmax", 0.8),
            ("bce", "binary_crossentropy", "sigmoid", 0.7),
        ):
            rows.append(trial(loss, act, seed=seed, dice=dice) | {"trials": name})
    return pd.DataFrame(rows)


def test_merged_pairings_read_their_representatives_trials():
    frame = transfer.expand(merged_frame(), {"ce": [("sparse_categorical_crossentropy", "sigmoid")], "bce": []})
    assert "trials" not in frame and len(frame) == 9 and frame["merged"].sum() == 3
    alias = claims.select(frame, {"loss": "sparse_categorical_crossentropy", "activation": "sigmoid"})
    assert list(alias["trained_as"]) == ["ce"] * 3
    rates = claims.rates(frame)
    rows = transfer.pairing_rows(frame, {"real": rates})
    assert list(rows["stands for"]) == ["sparse_categorical_crossentropy+sigmoid", "-"]
    assert rows["real class"].iat[0] == "always (3/3)"


def test_transfer_words():
    assert transfer.transfer_word("higher", "higher") == "holds"
    assert transfer.transfer_word("higher", "lower") == "**reversed**"
    assert transfer.transfer_word("always", "never") == "**reversed**"
    assert transfer.transfer_word("always", "sometimes").startswith("differs")
    assert transfer.transfer_word("lower", "undecided") == "undecided on real hearts"
    assert transfer.transfer_word("undecided", "lower").startswith("decided on real hearts only")
    assert transfer.transfer_word("lower", None) == "not run on real hearts"


def test_a_phantom_claim_is_retested_with_the_same_sides_on_real_hearts():
    phantom = pd.DataFrame(
        [trial("binary_crossentropy", "sigmoid", seed=s, dice=0.6) for s in (0, 1, 2)]
        + [trial("categorical_crossentropy", "softmax", seed=s, dice=0.8) for s in (0, 1, 2)]
    )
    real = pd.DataFrame(
        [trial("binary_crossentropy", "sigmoid", seed=s, dice=0.9) for s in (0, 1, 2)]
        + [trial("categorical_crossentropy", "softmax", seed=s, dice=0.7) for s in (0, 1, 2)]
    )
    found = [c for c in claims.claims_for(phantom, 6) if c.section == "binary"]
    again = transfer.retest(found, real, real, 6)
    assert found[0].direction == "lower" and again[0].direction == "higher"
    assert transfer.transfer_word(found[0].direction, again[0].direction) == "**reversed**"


def test_image_stats_on_a_hand_made_pair():
    labels = np.zeros((2, 8, 8), np.uint8)
    labels[0, 2:6, 2:6] = 2
    labels[0, 3:5, 3:5] = 3
    images = np.where(labels == 3, 0.9, np.where(labels == 2, 0.3, 0.1)).astype(np.float32)[..., None]
    got = transfer.image_stats(images, labels)
    assert got["slices without heart"] == 0.5 and got["slices without rv"] == 1.0
    assert got["lv share"] == 4 / 128 and got["myocardium pixels on an edge"] == 1.0
    assert abs(got["blood / myocardium intensity"] - 3.0) < 1e-6 and got["background brighter than blood q25"] == 0.0


def test_learning_rate_sentences_decide_per_rate_with_holm():
    from lossbench.analysis import evidence

    rows = []
    for lr, bce_ok, cce_ok in ((0.001, 6, 6), (0.003, 6, 0)):
        for loss, ok in (("binary_crossentropy", bce_ok), ("categorical_crossentropy", cce_ok)):
            for act in ("softmax_untagged", "sigmoid_untagged"):
                for seed in range(3):
                    verdict = (
                        "converged" if seed + (3 if act == "sigmoid_untagged" else 0) < ok else "stalled_at_chance"
                    )
                    rows.append(
                        trial(loss, act, seed=seed, verdict=verdict)
                        | {
                            "trials": f"{loss}+{act}@{lr}",
                            "learning_rate": lr,
                            "val/clipped_share": 0.09 if verdict != "converged" else 0.0,
                        }
                    )
    lines = evidence.learning_rate_sentences(pd.DataFrame(rows))
    assert len(lines) == 2
    assert "lr 0.001" in lines[0] and "undecided at 6 seeds" in lines[0]
    assert "lr 0.003" in lines[1] and "**holds**" in lines[1] and "stalled_at_chance 9.00% (n = 6)" in lines[1]


def test_weighting_rows_give_the_paired_difference_per_dataset():
    def frame(gain):
        rows = []
        for seed in (0, 1, 2):
            for weighting, dice in (("none", 0.6), ("median_frequency", 0.6 + gain)):
                rows.append(trial("categorical_crossentropy", "softmax", weighting, seed=seed, dice=dice))
        return pd.DataFrame(rows)

    table = transfer.weighting_rows({"short budget": frame(0.1), "long budget": frame(0.0)})
    ce = table.iloc[0]
    assert ce["short budget"].startswith("higher: +0.100")
    assert ce["long budget"].startswith("undecided")
    assert table.iloc[1]["short budget"] == "not run"  # no binary CE trials planted


def test_reading_a_study_that_was_never_run_is_one_line_and_creates_nothing(tmp_path):
    import pytest

    from lossbench.errors import UserError

    with pytest.raises(UserError, match="no study store .*cmr_long/optuna.journal - run python -m lossbench.sweep"):
        transfer.load_role("cmr_long", str(tmp_path))
    assert not (tmp_path / "cmr_long").exists()
