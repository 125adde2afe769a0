"""What the tests of `lossbench.sweep.tracking` share: a tiny config on a SQLite MLflow store in tmp_path."""

from __future__ import annotations

import optuna
import pytest
from conftest import tiny

from lossbench.sweep.study import StudyInfo


def result(state: str = "complete", verdict: str = "converged", dice: float = 0.8):
    """A finished trial's result, as `lossbench.trial.run.run_trial` returns it (two epochs)."""
    from lossbench.trial.run import TrialResult

    return TrialResult(
        state=state,
        verdict=verdict,
        reason="learned" if verdict else "stopped",
        curves={"val/foreground_dice": [0.5, dice], "val/loss": [1.0, 0.5]},
        final={"test/foreground_dice": dice, "test/subject/p1": dice},
        seconds={"fit": 1.5},
        predictions={},
        epochs_trained=2,
    )


def info_for(cfg, tmp_path, experiment_id: str) -> StudyInfo:
    """A journal study named ``cfg.name`` in tmp_path, its `StudyInfo` pointing at the config's store."""
    from lossbench.config import store_uri

    info = StudyInfo(
        name=str(cfg.name),
        study_name=str(cfg.name),
        storage=str(tmp_path / "optuna.journal"),
        folder=str(tmp_path),
        tracking_uri=store_uri(cfg),
        experiment_id=experiment_id,
    )
    from lossbench.sweep import work

    optuna.create_study(study_name=info.study_name, storage=work.storage(info), direction="maximize")
    return info


def tiny_cfg(compose_cfg, folder, *extra: str):
    """The tiny config with its results (and MLflow store) in ``folder``: one store per test module is
    enough (each test names its own experiment), and a new SQLite store costs MLflow seconds to create."""
    return compose_cfg([*tiny(folder / "results"), "name=tiny", *extra])


@pytest.fixture(scope="session", name="store")
def store_folder(tmp_path_factory):
    """One folder for the results and the MLflow store of every tracking test (each names its own experiment)."""
    return tmp_path_factory.mktemp("store")
