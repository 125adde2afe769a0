"""The one-line user errors of lossbench and the exit code they map to.

A `UserError` is a problem with the user's input (a config, a data folder, a
pairing that cannot run). Entry points catch it, print one line
``lossbench: error: <what> - <fix>`` on stderr and exit with `EXIT_USER_ERROR`,
without a traceback and before any store is touched.
"""

from __future__ import annotations

import sys

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Bad input: the message names the problem and the fix, in one line."""


class InvalidPairing(UserError):
    """A loss/activation/label pairing that cannot run (FACTS #4)."""


class DataError(UserError):
    """A data folder or file that cannot be read or does not make sense."""


def exit_with(error: UserError) -> None:
    """Print ``error`` as one line on stderr and exit with code 2."""
    message = " ".join(str(error).split())
    print(f"lossbench: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USER_ERROR)


def redact(text: str) -> str:
    """A URL's password replaced by ``***`` (``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db``).

    >>> redact("sweep.storage=postgresql://me:s3cret@db:5432/optuna tracking.uri=http://h:5000")
    'sweep.storage=postgresql://me:***@db:5432/optuna tracking.uri=http://h:5000'
    """
    import re

    return re.sub(r"(://[^:/@\s]+):[^@\s]+@", r"\1:***@", str(text))


def out_of_space(error: BaseException) -> bool:
    """``error`` says the disk is full: the OS's ENOSPC / EDQUOT, or SQLite's "database or disk is full"."""
    import errno

    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if "database or disk is full" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def disk_full(error: BaseException, where: str, again: str) -> UserError:
    """The one line for a full disk: where it filled up and what to run once there is room."""
    name = getattr(error, "filename", None) or where
    return UserError(
        f"the disk is full (writing {name}) - free some space, then run {again}: the trials stored so far stay, "
        "and a report cut short is rebuilt"
    )
