"""The stores a sweep will write, checked before it writes them: reachable, readable, undamaged.

`lossbench.sweep.validate` runs them before anything is stored: a tracking server must answer and
a PostgreSQL storage accept a connection (`check_reachable`); an MLflow SQLite file (`check_sqlite`)
and an Optuna journal (`check_journal`) already there must read back whole. A damaged one is named
with how to recover, in one line, and left unwritten.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lossbench.errors import UserError


def check_reachable(tracking_uri: str, storage: str, timeout: float = 5.0) -> None:
    """A tracking server must answer /health and a PostgreSQL storage must accept a connection."""
    import urllib.request

    from lossbench.errors import redact

    if tracking_uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(tracking_uri.rstrip("/") + "/health", timeout=timeout):
                pass
        except OSError as error:
            raise UserError(
                f"tracking.uri={redact(tracking_uri)} does not answer ({type(error).__name__}) - start "
                "mlflow server there or fix the URL"
            ) from None
        check_login(tracking_uri, timeout)
    if storage.startswith("postgresql"):
        import psycopg

        try:
            psycopg.connect(
                storage.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=int(timeout)
            ).close()
        except psycopg.Error as error:
            reason = redact(" ".join(str(error).split()))[:160]
            raise UserError(
                f"sweep.storage={redact(storage)} is not reachable ({reason}) - start PostgreSQL, "
                "create the database, or fix the URL"
            ) from None


def check_login(tracking_uri: str, timeout: float = 5.0) -> None:
    """A server that asks for a login (``mlflow server --app-name basic-auth``) must take the one in
    ``MLFLOW_TRACKING_USERNAME`` / ``MLFLOW_TRACKING_PASSWORD``, before any trial is run."""
    import base64
    import os
    import urllib.error
    import urllib.request

    from lossbench.errors import redact

    request = urllib.request.Request(tracking_uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1")
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if user:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            pass
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            who = f"the login of {user}" if user else "no login"
            raise UserError(
                f"tracking.uri={redact(tracking_uri)} refuses {who} ({error.code}) - set MLFLOW_TRACKING_USERNAME "
                "and MLFLOW_TRACKING_PASSWORD to a login of that server (python -m tools.mlflow_auth add-user)"
            ) from None
    except OSError:
        pass  # /health answered: a slow search is not this check's business


def check_sqlite(path: Path, timeout: float = 10.0) -> None:
    """An MLflow SQLite store that exists must open and pass SQLite's quick check; one held locked by
    another process for ``timeout`` seconds is busy (try again), not damaged."""
    if not path.exists():
        return
    if path.is_dir():
        raise UserError(
            f"tracking.uri=sqlite:///{path} is a folder, not a database file - point it at a file, "
            f"e.g. tracking.uri=sqlite:///{path}/mlflow.db"
        )
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout) as db:
            ok = db.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):  # another process writes it: busy, not damaged
            raise UserError(
                f"MLflow store {path} is busy (another process has held it locked for {timeout:g} s) - wait for it "
                f"and run again (lsof {path} names the process); nothing was changed"
            ) from None
        ok = str(error)
    except sqlite3.DatabaseError as error:
        ok = str(error)
    if ok == "ok":
        check_built(path)  # whole, and built to the end
    else:
        raise UserError(
            f"MLflow store {path} is damaged ({ok}) - move it aside (mv {path} {path}.bad) to start a "
            "new one; the Optuna journal keeps every trial"
        )


def check_built(path: Path) -> None:
    """MLflow stamps its schema's version last: a store without it was left half-built by a killed run."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        stamped = "alembic_version" in tables and db.execute("SELECT count(*) FROM alembic_version").fetchone()[0]
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0] if "runs" in tables else 0
    if stamped:
        return
    if runs:
        raise UserError(
            f"MLflow store {path} holds {runs} runs but no schema version - move it aside (mv {path} {path}.bad) "
            "to start a new one; the Optuna journal keeps every trial"
        )
    raise UserError(
        f"MLflow store {path} was left half-built (a run was killed while MLflow created it) and holds no run - "
        f"remove it (rm {path}) and run again"
    )


def check_journal(path: Path) -> None:
    """Every line of an Optuna journal must be JSON; a damaged one is named and left unwritten."""
    import json

    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                json.loads(line)
            except ValueError:
                raise UserError(
                    f"Optuna journal {path} is damaged at line {number} - remove that line and the "
                    f"ones after it (head -n {number - 1} {path.name} > fixed && mv fixed "
                    f"{path.name}), or move the file aside to start over"
                ) from None
