"""Claims between pairings (`lossbench.analysis.comparisons`): decided only where the rule says so."""

from __future__ import annotations

from test_claims import grid

from lossbench.analysis import comparisons


def test_a_report_makes_its_claims_section_by_section():
    found = comparisons.claims_for(grid(), cap=6)
    assert list(dict.fromkeys(c.section for c in found)) == ["optimizer", "ranking", "binary", "weighting"]
    binary = next(c for c in found if c.section == "binary")
    assert binary.decided and binary.direction == "lower"  # bce 0.70 against cce 0.76, the same seeds
    assert binary.sentence.startswith("binary_crossentropy+sigmoid | none | adam is lower than")


def test_rate_claims_are_decided_by_holm_within_their_section():
    low = grid(seeds=(0, 1, 2))
    pooled = next(c for c in comparisons.claims_for(low, cap=6) if c.section == "optimizer")
    assert pooled.counts == (12, 12, 0, 3) and pooled.p_holm == pooled.p  # one claim: Holm changes nothing
    assert pooled.sentence.startswith("adam (all pairings pooled) converges more often than sgd_seed")


def test_named_trials_are_compared_with_the_baseline():
    frame = grid().assign(trials=lambda f: f["loss"] + "-" + f["optimizer"] + "-" + f["class_weighting"])
    found = comparisons.claims_for(frame, cap=6, baseline="categorical_crossentropy-sgd_seed-none")
    fixes = [c for c in found if c.section == "fixes"]
    assert len(fixes) == 4 and all(c.label_b == "the exact setting" for c in fixes)
    named = {c.label_a for c in fixes}  # each fix says what it changes in the exact setting, in words
    assert named == {
        "switching to Adam 1e-3 (`categorical_crossentropy-adam-none`)",
        "switching to median-freq and Adam 1e-3 (`categorical_crossentropy-adam-median_frequency`)",
        "switching to BCE and sigmoid and Adam 1e-3 (`binary_crossentropy-adam-none`)",
        "switching to soft Dice and Adam 1e-3 (`dice-adam-none`)",
    }


def test_conclusions_are_comparable_strings():
    out = comparisons.conclusions(grid(), cap=6)
    assert out["class of dice+softmax | none | adam"] == "always"
    assert out["top-3 set (mean test Dice)"].count(",") == 2
    assert set(out.values()) <= {"always", "sometimes", "never", "higher", "lower", "undecided"} | {
        out["top-3 set (mean test Dice)"]
    }
