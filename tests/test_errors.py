"""One line, exit code 2, passwords never shown."""

from __future__ import annotations

import pytest

from lossbench.errors import EXIT_USER_ERROR, DataError, InvalidPairing, UserError, exit_with, redact


def test_exit_with_prints_one_line_and_exits_2(capsys):
    with pytest.raises(SystemExit) as stop:
        exit_with(DataError("data.root=/nope: no such folder\n   - point data.root at your images"))
    assert stop.value.code == EXIT_USER_ERROR == 2
    err = capsys.readouterr().err
    assert err == "lossbench: error: data.root=/nope: no such folder - point data.root at your images\n"


def test_every_lossbench_error_is_a_user_error():
    assert issubclass(InvalidPairing, UserError) and issubclass(DataError, UserError)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://me:s3cret@db/optuna", "postgresql://me:***@db/optuna"),
        ("http://user:p%40ss@h:5000 and sqlite:///x.db", "http://user:***@h:5000 and sqlite:///x.db"),
        ("postgresql://me@db/optuna", "postgresql://me@db/optuna"),  # no password: nothing to hide
    ],
)
def test_redact_hides_only_the_password(text, shown):
    assert redact(text) == shown
