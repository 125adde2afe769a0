"""The same experiment twice on disjoint seeds (`lossbench.analysis.reproduce`): names, comparison, files."""

from __future__ import annotations

from lossbench.analysis import reproduce


def test_each_seed_set_is_its_own_study_without_adaptive_seeds_or_pruning():
    assert reproduce.set_name("cmr", [3, 4, 5]) == "cmr-seeds345"
    assert reproduce.set_overrides("cmr", [0, 1, 2]) == [
        "name=cmr-seeds012",
        "sweep.seeds=[0,1,2]",
        "sweep.max_seeds=0",
        "sweep.prune_stalled=false",
        "sweep.budget_check=false",
    ]


def test_the_written_table_is_read_back_by_conclusion(tmp_path):
    table = reproduce.compare({"a": "higher", "b": "always"}, {"a": "lower", "b": "always", "c": "undecided"})
    path = reproduce.write(
        "cmr", tmp_path / "cmr", table, reproduce.SETS, "python -m lossbench.reproduce +experiment=cmr"
    )
    text = path.read_text()
    assert "**1 of 3 conclusions agree**; 1 are contradicted" in text and "| a | higher | lower | no |" in text
    read = reproduce.read(tmp_path / "cmr")
    assert read["c"]["agree"] == "one undecided" and read["b"]["seeds A"] == "always"
    assert reproduce.read(tmp_path / "elsewhere") == {}


def test_a_table_written_before_a_rename_answers_for_the_new_name(tmp_path):
    import pandas as pd

    from lossbench.analysis.reproduce import read

    key = "optimizer: adam (all pairings pooled) vs {} (all pairings pooled) (rate)"
    pd.DataFrame(
        [{"conclusion": key.format("sgd_seed"), "agree": "yes", "seeds A": "higher", "seeds B": "higher"}]
    ).to_csv(tmp_path / "reproducibility.csv", index=False)
    table = read(tmp_path)
    assert table.get(key.format("sgd_thread2"))["seeds A"] == "higher"
    assert key.format("sgd_seed") in table and table[key.format("sgd_thread2")]["agree"] == "yes"
    assert table.get("no such conclusion") is None
