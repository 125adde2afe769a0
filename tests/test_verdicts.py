"""One comparison, one verdict (`tools.verdicts`): the findings blocks of README.md and docs/ under today's rule."""

from __future__ import annotations

from pathlib import Path

from tools import readme, verdicts

ROOT = Path(__file__).resolve().parents[1]
A, B = "CE · softmax · median-freq · Adam 1e-3", "CE · softmax · unweighted · Adam 1e-3"
C, D = "BCE · softmax · median-freq · Adam 1e-3", "BCE · softmax · unweighted · Adam 1e-3"
TWO = f"""On the built-in cardiac phantom (`cmr`, 6 seeds at most per pairing):

**In one line each (both seed sets agree on each; their verdicts are in brackets below):** {C} reaches a higher test Dice than {D}. The rest, with figures:

- **Class weighting**:
  - **undecided**: the two seed sets do not agree (higher with seeds 0-2, undecided with seeds 3-5); this run alone: {A} is higher than {B} in test foreground Dice: +0.041 (95 % CI +0.010 to +0.079).
  - {C} is higher than {D} in test foreground Dice: +0.030 (95 % CI +0.002 to +0.053) [seed sets 0-2 / 3-5: higher / higher].
"""
ONE = f"""On the built-in cardiac phantom (`catalogue`, 6 seeds at most per pairing):

**In one line each:** {A} reaches a higher test Dice than {B}; {D} reaches a lower test Dice than {C}. The rest, with figures:

- **Class weighting**:
  - {A} is higher than {B} in test foreground Dice: +0.041 (95 % CI +0.010 to +0.079).
  - {D} is lower than {C} in test foreground Dice: -0.030 (95 % CI -0.053 to -0.002).
"""


def test_a_one_seed_set_block_shows_the_verdict_of_two_seed_sets_on_the_same_data_and_its_one_liner_follows():
    out = verdicts.reconcile({"cmr": TWO, "catalogue": ONE})
    one = out["catalogue"]
    assert (
        f"{A} is higher than {B} in test foreground Dice: +0.041 (95 % CI +0.010 to +0.079) [with both seed sets of `cmr`: undecided]."
        in one
    )
    assert (
        f"{D} is lower than {C} in test foreground Dice: -0.030 (95 % CI -0.053 to -0.002) [confirmed by both seed sets of `cmr`: lower]."
        in one
    )
    assert f"**In one line each (one seed set: no second seed set has checked these yet):** {D} reaches a lower" in one
    assert f"{A} reaches a higher" not in one  # overruled by the two seed sets: not a one-line claim any more
    assert "(each confirmed by both seed sets; their verdicts are in brackets below)" in out["cmr"]
    merged: dict = {}
    for text in out.values():
        for key, found in verdicts.verdicts(text).items():
            merged.setdefault(key, set()).update(found)
    assert all(len(found) == 1 for found in merged.values()), merged


def test_a_claim_neither_seed_set_decided_reads_undecided_and_leaves_the_one_liner():
    old = TWO.replace("[seed sets 0-2 / 3-5: higher / higher]", "[seed sets 0-2 / 3-5: undecided / undecided]")
    out = verdicts.reconcile({"cmr": old})["cmr"]
    assert f"  - **undecided**: neither seed set decides it; this run alone: {C} is higher than {D}" in out
    assert "In one line each" not in out  # its only claim no longer stands


def test_seed_sets_of_another_span_are_read_as_the_default_ones():
    other = TWO.replace("[seed sets 0-2 / 3-5: higher / higher]", "[seed sets 0-5 / 6-11: higher / lower]")
    out = verdicts.reconcile({"cmr": other})["cmr"]
    assert "**undecided**: the two seed sets do not agree (higher with seeds 0-5, lower with seeds 6-11)" in out


def test_a_block_without_seed_sets_marks_its_decided_claims_and_blocks_that_disagree_say_so():
    other = (
        ONE.replace("`catalogue`", "`catalogue-long`")
        .replace("is higher than", "vs")
        .replace("in test foreground Dice: +0.041", "(test foreground Dice): undecided at 3 seeds (+0.041")
    )
    out = verdicts.reconcile({"catalogue": ONE, "catalogue-long": other})
    assert (
        f"{D} is lower than {C} in test foreground Dice: -0.030 (95 % CI -0.053 to -0.002) [one seed set]."
        in out["catalogue"]
    )
    assert "[the runs disagree: `catalogue`: higher, `catalogue-long`: undecided]" in out["catalogue"]
    assert f"{A} reaches a higher" not in out["catalogue"]


def test_no_two_findings_blocks_in_the_readme_or_docs_give_one_comparison_two_verdicts():
    by_data: dict = {}
    for page in readme.pages(ROOT):
        for match in readme.BLOCK.finditer(page.read_text()):
            found = verdicts.DATA.match(match["body"])
            if found is None:
                continue
            for key, said in verdicts.verdicts(match["body"]).items():
                by_data.setdefault((found["data"], key), set()).update(said)
    assert by_data, "no findings block found"
    split = {key: said for key, said in by_data.items() if len(said) > 1}
    assert not split, f"one comparison, two verdicts: {split}"
