"""`lossbench.data.split`: seeded subject splits and the entries of a split file."""

from __future__ import annotations

from pathlib import Path

from lossbench.data.split import read_lines, seeded, subjects_by_stem, to_stem


def test_seeded_splits_keep_every_subject_in_one_split():
    subject_of = {f"img{i}": f"s{i // 2}" for i in range(20)}  # 10 subjects, 2 images each
    cut = seeded(subject_of, (0.6, 0.2, 0.2), 0, "root")
    assert sorted(sum(cut.values(), [])) == sorted(set(subject_of.values()))
    assert cut == seeded(subject_of, (0.6, 0.2, 0.2), 0, "root")  # the seed decides
    assert [len(cut[k]) for k in ("train", "val", "test")] == [6, 2, 2]


def test_a_split_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text("# train\na.png\n\n  b.png\n")
    assert [text for text, _ in read_lines(path)] == ["a.png", "b.png"]
    assert read_lines(path)[0][1].endswith("train.txt line 2")


def test_entries_name_stems_or_paths():
    assert to_stem("a", {"a", "b"}) == "a"
    assert to_stem("images/b.png", {"a", "b"}) == "b"


def test_subjects_come_from_the_pattern_or_the_stem():
    files = {"p1_01": Path("p1_01.png"), "p1_02": Path("p1_02.png"), "p2_01": Path("p2_01.png")}
    assert subjects_by_stem(sorted(files), files, r"(p\d+)_", "root") == {"p1_01": "p1", "p1_02": "p1", "p2_01": "p2"}
    assert subjects_by_stem(["p2_01"], files, None, "root") == {"p2_01": "p2_01"}
