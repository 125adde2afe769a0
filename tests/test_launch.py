"""A sweep from start to end (`lossbench.sweep.launch`): the dry run, in process, changes nothing; runs: test_sweep."""

from __future__ import annotations

import optuna
from conftest import tiny

from lossbench.config import compose
from lossbench.sweep import launch


def overrides_for(tmp_path, grid: str) -> list[str]:
    """A tiny tracking=none sweep of ``grid`` (a sweep file's text) in ``tmp_path``."""
    space = tmp_path / "space.yaml"
    space.write_text(grid)
    return [*tiny(tmp_path / "results"), f"sweep.space={space}", "name=tiny", "tracking=none", "sweep.report=false"]


def test_a_dry_run_lists_the_points_and_runs_nothing(tmp_path, capsys):
    overrides = overrides_for(tmp_path, "grid:\n  loss: [dice, categorical_crossentropy]\nseeds: [0]\n")
    cfg = compose([*overrides, "sweep.dry_run=true"])
    assert launch.run(cfg, overrides) == (None, 0)
    out = capsys.readouterr().out
    assert "new       loss=dice trainer.seed=0" in out and "adaptive seeds it would add now: none" in out
    assert "nothing is stored yet" in out
    assert not (tmp_path / "results" / "tiny").exists()  # no journal, no records, no folder: nothing created
    assert not list((tmp_path / "results").glob("mlflow.db"))


def test_a_dry_run_of_a_study_begun_reads_it(tmp_path, capsys):
    overrides = overrides_for(tmp_path, "grid:\n  loss: [dice]\nseeds: [0]\n")
    cfg = compose(overrides)
    info = launch.study.StudyInfo.from_config(cfg, launch.space.load_space(str(tmp_path / "space.yaml")))
    journal = tmp_path / "results" / "tiny" / "optuna.journal"
    journal.parent.mkdir(parents=True)
    optuna.create_study(study_name=info.study_name, storage=launch.work.storage(info), direction="maximize")
    assert launch.run(compose([*overrides, "sweep.dry_run=true"]), overrides) == (None, 0)
    assert "1 points; 1 new" in capsys.readouterr().out
    assert journal.exists()
