"""findings.md (`lossbench.analysis.report.report_findings`): decided claims stated, contested ones undecided."""

from __future__ import annotations

import pandas as pd
from test_claims import grid, trial

from lossbench.analysis import claims
from lossbench.analysis.report import report_findings


def test_a_claim_both_seed_sets_confirm_carries_their_verdicts():
    repro = {"k": {"agree": "yes", "seeds A": "higher", "seeds B": "higher"}}
    assert report_findings.checked(repro, "k", "a beats b") == "a beats b [seed sets 0-2 / 3-5: higher / higher]"
    assert report_findings.checked({}, "k", "a beats b") == "a beats b [one seed set]"


def test_a_claim_neither_seed_set_decides_is_not_promoted_whatever_this_run_says():
    """Two "undecided" agree but confirm nothing: the headline must not depend on this run's rounding."""
    repro = {"k": {"agree": "yes", "seeds A": "undecided", "seeds B": "undecided"}}
    assert report_findings.checked(repro, "k", "a beats b") == (
        "**undecided**: neither seed set decides it; this run alone: a beats b"
    )
    assert report_findings.checked(repro, "other", "c beats d").startswith("**undecided**: the seed sets did not test")
    claim = claims.Claim("weighting", "dice", {}, {}, "a", "b", decided=True, direction="higher")
    repro = {claim.key: repro["k"]}
    assert report_findings.one_line_each([claim], repro) == []
    both = {claim.key: repro[claim.key] | {"seeds A": "higher", "seeds B": "higher"}}
    assert "a reaches a higher test Dice than b" in report_findings.one_line_each([claim], both)[0]


def test_a_contested_claim_is_stated_as_undecided():
    repro = {"k": {"agree": "no", "seeds A": "higher", "seeds B": "lower"}}
    text = report_findings.checked(repro, "k", "a beats b")
    assert text.startswith(
        "**undecided**: the two seed sets do not agree (higher with seeds 0-2, lower with seeds 3-5)"
    )
    assert report_findings.checked(repro, "k", "a vs b undecided", decided=False).startswith("a vs b undecided [")


def test_findings_list_the_one_liners_the_classes_and_the_sections():
    trials = grid(dice_verdicts={1: "degenerate"})
    rates, found = claims.rates(trials), claims.claims_for(trials, 6)
    text = report_findings.findings("planted", "a phantom", rates, found, {}, ["intro", "- budget line"], ["extra"])
    lines = text.splitlines()
    assert lines[0] == "On a phantom (`planted`, 3 seeds at most per pairing; rule: [summary.md](summary.md), top):"
    assert lines[2].startswith("**In one line each (one seed set: no second seed set has checked these yet):** ")
    assert "- **Convergence**: always 3; sometimes 1; never 1 pairings." in lines
    assert "  - dice+softmax | none | adam: sometimes (2/3 converged, mean test Dice 0.503)" in lines
    assert lines[-2:] == ["- budget line", "- extra"]


def test_equal_rates_say_nothing():
    trials = grid()
    found = [c for c in claims.claims_for(trials, 6) if c.section == "weighting"]
    assert all(c.counts[0] * c.counts[3] == c.counts[2] * c.counts[1] for c in found if c.kind == "rate")
    assert not any("converges" in line for line in report_findings.claim_lines(found, {}))


def test_use_and_avoid_name_the_classes_both_seed_sets_confirm_and_group_a_failing_option():
    """The practitioner's answer: what always converged (best Dice first), what never did (by shared option)."""
    trials = grid()
    extra = [
        trial("binary_crossentropy", "sigmoid", opt="sgd_seed", seed=s, verdict="stalled_at_chance") for s in range(3)
    ]
    rates = claims.rates(pd.concat([trials, pd.DataFrame(extra)], ignore_index=True))
    sure = {"seeds A": "always", "seeds B": "always", "agree": "yes"}
    repro = {"class of " + p: sure for p in rates.loc[rates["class"] == "always", "pairing"]}
    repro |= {
        "class of " + p: sure | {"seeds A": "never", "seeds B": "never"}
        for p in rates.loc[rates["class"] == "never", "pairing"]
    }
    line = report_findings.use_avoid_line(rates, repro)[0]
    assert line.startswith("**Use / avoid** (classes both seed sets confirm): use (converged in every seed): ")
    assert "categorical_crossentropy+softmax | median_frequency | adam (Dice 0." in line
    assert line.index("median_frequency") < line.index("categorical_crossentropy+softmax | none | adam")
    assert line.endswith("avoid (never converged): every SGD 1e-4 (thread 2) pairing (2).")
    contested = {k: v | {"agree": "no", "seeds B": "sometimes"} for k, v in repro.items()}
    assert report_findings.use_avoid_line(rates, contested) == []  # nothing both seed sets confirm: no line
    assert "(one seed set)" in report_findings.use_avoid_line(rates, {})[0]
    everything = rates.assign(**{"class": "never"})
    nothing = {k: v | {"seeds A": "never", "seeds B": "never"} for k, v in repro.items()}
    nothing |= {"class of " + p: sure | {"seeds A": "never", "seeds B": "never"} for p in everything["pairing"]}
    assert report_findings.use_avoid_line(everything, nothing)[0].endswith(
        "avoid (never converged): every pairing of this run (6)."
    )  # not "every Adam pairing" when Adam is all there is
