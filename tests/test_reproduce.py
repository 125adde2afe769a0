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


def test_the_page_says_pairings_in_words_and_the_csv_keeps_their_config_names(tmp_path):
    key = "class of binary_crossentropy+sigmoid | none | sgd_thread2"
    table = reproduce.compare({key: "never"}, {key: "never"})
    page = reproduce.write("cmr", tmp_path, table, reproduce.SETS, "python -m lossbench.reproduce").read_text()
    assert "| class of BCE · sigmoid · unweighted · SGD 1e-4 (thread 2) | never | never | yes |" in page
    assert "binary_crossentropy" not in page
    assert reproduce.read(tmp_path)[key]["agree"] == "yes"
    top = "top-3 set (mean test Dice)"
    sets = "dice+softmax | none | adam, ce+softmax | none | adam"
    table = reproduce.compare({top: sets}, {top: sets})
    page = reproduce.write("cmr", tmp_path, table, reproduce.SETS, "python -m lossbench.reproduce").read_text()
    assert (
        "| soft Dice · softmax · unweighted · Adam 1e-3, ce · softmax · unweighted · Adam 1e-3 |" in page
    )  # the sets too


def test_an_experiment_names_its_seed_sets_and_longer_sets_are_named_by_their_span(tmp_path):
    import pytest

    from lossbench.config import compose
    from lossbench.errors import UserError

    assert reproduce.seed_sets(compose(["+experiment=cmr"])) == ([0, 1, 2], [3, 4, 5])
    sets = reproduce.seed_sets(compose(["+experiment=thread2"]))
    assert sets == (list(range(6)), list(range(6, 12)))  # 6/6 vs 0/6 converged can be decided, 3/3 vs 0/3 not
    assert [reproduce.set_name("thread2", s) for s in sets] == ["thread2-seeds0-5", "thread2-seeds6-11"]
    for bad in ("[[0,1,2],[2,3,4]]", "[[0,1,2]]", "[[],[1]]"):
        with pytest.raises(UserError, match="two disjoint, non-empty seed lists"):
            reproduce.seed_sets(compose(["+experiment=cmr", f"sweep.seed_sets={bad}"]))
    table = reproduce.compare({"k": "higher"}, {"k": "higher"})
    reproduce.write("thread2", tmp_path, table, sets, "python -m lossbench.reproduce +experiment=thread2")
    assert reproduce.read(tmp_path).spans == ("0-5", "6-11")


def test_the_findings_name_the_seed_sets_the_table_was_made_with(tmp_path):
    from lossbench.analysis.report import report_findings

    table = reproduce.compare({"k": "higher", "j": "higher"}, {"k": "higher", "j": "lower"})
    reproduce.write("thread2", tmp_path, table, ([0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]), "reproduce")
    repro = reproduce.read(tmp_path)
    assert report_findings.checked(repro, "k", "a beats b") == "a beats b [seed sets 0-5 / 6-11: higher / higher]"
    assert "(higher with seeds 0-5, lower with seeds 6-11)" in report_findings.checked(repro, "j", "a beats b")
