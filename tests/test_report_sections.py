"""summary.md as a list of sections (`lossbench.analysis.report.report_sections`) on planted `Facts`."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from test_claims import grid

from lossbench.analysis import claims
from lossbench.analysis.report import report_sections
from lossbench.analysis.report.gather import Facts
from lossbench.errors import UserError


def facts(trials=None, sections=report_sections.DEFAULT_SECTIONS, **attrs) -> Facts:
    """The facts of a planted grid, as `gather.collect` would give them without the stores."""
    trials = grid() if trials is None else trials
    trials = trials.assign(**{"val/loss": 0.5, "chance_loss": 1.39, "audit": "nominal"})
    found = claims.claims_for(trials, 6, attrs.get("baseline"))
    return Facts(
        info=SimpleNamespace(name="planted", study_name="planted-0", folder="/nowhere"),
        sections=list(sections),
        trials=trials,
        curves={},
        attrs={"command": "python -m lossbench.sweep +experiment=planted"} | attrs,
        rates=claims.rates(trials),
        found=found,
        shown=[c for c in found if c.section in sections],
        repro={},
        background_share=0.95,
        class_names=["background", "a", "b", "c"],
        words=str,
    )


def test_the_parts_follow_the_section_names():
    assert [name for name, _ in report_sections.PARTS] == list(report_sections.SECTION_NAMES)


def test_the_header_says_how_the_study_ran():
    lines = report_sections.header(facts(wall_seconds=600, n_workers=2))
    assert lines[0] == "# lossbench results: `planted`"
    assert "- report: `python -m lossbench.report +experiment=planted` (regenerates this file)" in lines
    assert (
        "- wall time: 10.0 min over the sweep runs that did work (resumes added, overlaps once), 2 worker(s)" in lines
    )
    assert lines[-2].startswith("**How to read this.** A difference is stated only")


def test_summary_shows_only_the_sections_asked_for():
    text = report_sections.summary(facts(sections=["verdicts", "top3"]))
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == ["## How this was run", "## Verdicts", "## Top three"]
    assert "| converged | 12 |" in text and "| stalled_at_chance | 3 |" in text


def test_a_claim_section_is_empty_without_its_claims():
    f = facts(sections=["ranking"])
    assert report_sections.claims_section(f, "binary") == []  # not asked for: its claims are not shown
    assert report_sections.claims_section(f, "ranking")[0] == "## Is the best pairing better than the runner-up?"


def test_sections_that_do_not_apply_say_nothing():
    f = facts()
    assert report_sections.budget_section(f) == []
    assert report_sections.thread1_section(f) == []  # a grid has no named trials
    assert report_sections.plots_section(f) == ["## Plots", ""]
    named = facts(grid().assign(trials="t"))
    assert report_sections.top3_section(named) == []


def test_unknown_sections_are_refused():
    assert report_sections.check_sections(["plots"]) == ["plots"]
    with pytest.raises(UserError, match="no section 'top4'"):
        report_sections.check_sections(["top4"])
