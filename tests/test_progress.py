"""What a person watches (`lossbench.sweep.progress`): the dry run's listing and the bar, on a journal study."""

from __future__ import annotations

import optuna
from omegaconf import OmegaConf

from lossbench.sweep import progress, work
from lossbench.sweep.study import StudyInfo

SPACE = OmegaConf.create({"grid": {"loss": ["dice", "focal"]}, "seeds": [0, 1]})


def study_of(tmp_path):
    info = StudyInfo(
        name="p", study_name="p", storage=str(tmp_path / "optuna.journal"), folder=str(tmp_path), tracking_uri="none",
        total=4,
    )  # fmt: skip
    study = optuna.create_study(study_name="p", storage=work.storage(info), direction="maximize")
    work.sync_queue(study, [{"loss": "dice", "seed": 0}, {"loss": "dice", "seed": 1}])
    trial = work.take_waiting(study)
    trial.set_user_attr("seconds", 60.0)
    trial.set_user_attr("state", "complete")
    study.tell(trial, 0.5)
    return info, study


def test_describe_lists_every_point_with_its_status_and_the_time_left(tmp_path):
    info, study = study_of(tmp_path)
    text = progress.describe(info, SPACE, study)
    assert f"study p in {info.storage}" in text
    assert "complete  loss=dice trainer.seed=0" in text and "waiting   loss=dice trainer.seed=1" in text
    assert "new       loss=focal trainer.seed=1" in text
    assert "4 points; 1 complete, 2 new, 1 waiting" in text and "about 3.0 min of one worker" in text
    assert progress.describe(info, SPACE) == text  # the same, the study loaded by itself


def test_the_bar_counts_finished_points(tmp_path, capsys):
    info, study = study_of(tmp_path)
    with progress.bar(info, study) as watch:
        trial = work.take_waiting(study)
        study.tell(trial, 0.5)
        watch.refresh()
    assert "2/4" in capsys.readouterr().err
