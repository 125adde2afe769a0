"""`lossbench.sweep.stores`: damaged stores named in one line, healthy or absent ones passed."""

from __future__ import annotations

import sqlite3
import sys

import pytest

from lossbench.errors import UserError
from lossbench.sweep.stores import check_journal, check_reachable, check_sqlite
from lossbench.sweep.tracking.runs import create_sqlite


def test_a_damaged_journal_line_is_named(tmp_path):
    path = tmp_path / "optuna.journal"
    path.write_text('{"op": 1}\n{"op": 2\n')
    with pytest.raises(UserError, match="is damaged at line 2 - remove that line") as error:
        check_journal(path)
    assert "\n" not in str(error.value)
    path.write_text('{"op": 1}\n')
    check_journal(path)


def test_an_absent_or_healthy_sqlite_store_passes_and_a_damaged_one_is_named(tmp_path):
    check_sqlite(tmp_path / "absent.db")
    healthy = tmp_path / "mlflow.db"
    create_sqlite(f"sqlite:///{healthy}")  # a real MLflow store
    check_sqlite(healthy)
    damaged = tmp_path / "bad.db"
    damaged.write_bytes(b"not a database" * 100)
    with pytest.raises(UserError, match="is damaged .* move it aside"):
        check_sqlite(damaged)


def test_a_local_store_needs_no_connection():
    check_reachable("sqlite:///tmp/mlflow.db", "")
    check_reachable("none", "")


def test_a_store_another_process_holds_locked_is_busy_not_damaged(tmp_path):
    path = tmp_path / "mlflow.db"
    create_sqlite(f"sqlite:///{path}")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # what a writer in the middle of a long transaction holds
    try:
        with pytest.raises(UserError) as error:
            check_sqlite(path, timeout=0.5)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "is busy" in str(error.value) and "run again" in str(error.value)
    assert "damaged" not in str(error.value) and "move it aside" not in str(error.value)
    check_sqlite(path)  # free again: fine


def test_psycopg2_alone_is_one_line_naming_psycopg_3(compose_cfg, tmp_path, monkeypatch):
    from lossbench.sweep import validate

    monkeypatch.setitem(sys.modules, "psycopg", None)  # psycopg 3 not installed: importing it fails
    cfg = compose_cfg([f"paths.results={tmp_path}", "sweep.storage=postgresql://u:pw@127.0.0.1:1/optuna"])
    with pytest.raises(UserError, match=r"needs psycopg \(version 3; psycopg2 alone is not used\)"):
        validate.check_places(cfg)


def test_a_store_left_half_built_by_a_killed_run_is_named_and_a_new_one_is_built_whole(tmp_path):
    from mlflow.tracking import MlflowClient

    half = tmp_path / "half.db"
    with sqlite3.connect(half) as db:  # tables made, the schema's version never stamped: the kill's moment
        db.execute("CREATE TABLE experiments (experiment_id INTEGER)")
        db.execute("CREATE TABLE spans (id INTEGER)")
    with pytest.raises(UserError, match=r"was left half-built .* holds no run - remove it \(rm "):
        check_sqlite(half)
    whole = tmp_path / "mlflow.db"
    create_sqlite(f"sqlite:///{whole}")
    check_sqlite(whole)  # stamped: fine
    assert [e.name for e in MlflowClient(f"sqlite:///{whole}").search_experiments()] == ["Default"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["half.db", "mlflow.db", "mlflow.db.lock"]  # no tmp left
    create_sqlite(f"sqlite:///{whole}")  # there already: untouched


def test_a_folder_given_as_the_store_is_named_as_a_folder(tmp_path):
    with pytest.raises(UserError, match=r"is a folder, not a database file - point it at a file, e.g. tracking.uri="):
        check_sqlite(tmp_path)
