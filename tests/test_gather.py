"""What a report reads (`lossbench.analysis.report.gather`): the trials table joined with its MLflow runs."""

from __future__ import annotations

import pytest
from test_report import grid_trials, plant, store  # noqa: F401  (store: the module's MLflow store fixture)

from lossbench.analysis.report import gather


def test_the_trials_table_joins_each_trial_with_its_run(tmp_path, store):  # noqa: F811
    info = plant(tmp_path, store)
    table, curves = gather.trials_table(info)
    assert len(table) == len(grid_trials()) == len(curves)
    assert set(gather.FILLED) <= set(table.columns)
    assert table["audit"].eq("logits_substituted").all() and table["seconds"].eq(1.5).all()
    assert curves[0]["val/loss"] == pytest.approx([1.35, 1.15, 0.95]) and curves[0]["val/clipped_share"] == []


def test_the_facts_hold_the_study_attributes_and_the_claims_of_the_sections_asked_for(tmp_path, store):  # noqa: F811
    info = plant(tmp_path, store, attrs={"test_background_share": 0.9})
    table, curves = gather.trials_table(info)
    facts = gather.collect(info, table, curves, ["ranking"])
    assert facts.background_share == 0.9 and facts.class_names == ["background", "rv", "myo", "lv"]
    assert {c.section for c in facts.shown} == {"ranking"} and len(facts.found) > len(facts.shown)
    assert facts.budget == [] and facts.repro == {} and len(facts.ran) == len(table)
    assert facts.words("foreground Dice") == "foreground Dice"  # a data set with a background
