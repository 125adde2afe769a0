"""The study behind a sweep (`lossbench.sweep.study`): its info, wall time and finish, on a journal study."""

from __future__ import annotations

import optuna

from lossbench.sweep import study, work


def info_in(tmp_path) -> study.StudyInfo:
    info = study.StudyInfo(
        name="s", study_name="s", storage=str(tmp_path / "optuna.journal"), folder=str(tmp_path), tracking_uri="none",
        epochs=4,
    )  # fmt: skip
    optuna.create_study(study_name="s", storage=work.storage(info), direction="maximize")
    return info


def test_info_round_trips_through_a_dict_and_ignores_unknown_keys(tmp_path):
    info = info_in(tmp_path)
    assert study.StudyInfo.from_dict(info.as_dict() | {"added_later": 1}) == info


def test_wall_seconds_count_overlapping_runs_once():
    assert study.wall_seconds([[0, 10, 1], [5, 20, 2], [30, 31, 1]]) == 21.0
    assert study.wall_seconds([]) == 0.0


def test_finish_records_the_run_and_what_pruning_saved(tmp_path, capsys):
    info = info_in(tmp_path)
    optuna_study = work.load(info)
    work.sync_queue(optuna_study, [{"loss": "dice", "seed": 0}, {"loss": "focal", "seed": 0}])
    for trained in (4, 1):
        trial = work.take_waiting(optuna_study)
        trial.set_user_attr("state", "complete" if trained == 4 else "pruned")
        trial.set_user_attr("epochs_trained", trained)
        optuna_study.tell(trial, 0.5)
    study.finish(info, 100.0, 2, "python -m lossbench.sweep sweep.storage=postgresql://me:secret@h/db", False)
    attrs = optuna_study.user_attrs
    assert attrs["n_workers"] == 2 and attrs["epochs_avoided"] == 3 and "secret" not in attrs["command"]
    assert [k for k in attrs if k.startswith("interval:")] and attrs["wall_seconds"] > 0
    assert "pruning avoided 3 of 8 trial-epochs" in capsys.readouterr().out
    assert study.epochs_spent(optuna_study, 4) == (8, 5)
