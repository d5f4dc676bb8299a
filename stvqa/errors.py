"""Errors that reach a user: one message that names the problem, and one that names the fix."""

from __future__ import annotations


class StvqaError(Exception):
    """A user-facing error. The CLI prints `message` and `hint` and exits non-zero, without a traceback."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"

    def __reduce__(self):  # raised in a worker process, it arrives whole, hint included
        return (type(self), (self.message, self.hint))


class DataError(StvqaError):
    """Input data is missing or malformed."""


class ConfigError(StvqaError):
    """A flag or a config file value is invalid."""


def os_error(exc: OSError) -> StvqaError:
    """An environment fault (a full disk, a read-only or unreadable file) as one message naming the file, and
    what to do. Every stage writes beside its output and swaps only on success, so a re-run resumes."""
    import errno
    import shutil
    from pathlib import Path

    where = exc.filename or ""
    detail = exc.strerror or str(exc)
    resume = "run the same command again: finished stages are kept and the run resumes"
    if exc.errno == errno.ENOSPC:
        free = ""
        probe = Path(where) if where else Path.cwd()
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            free = f", {shutil.disk_usage(probe).free / 1e6:,.0f} MB free there"
        except OSError:
            pass
        return StvqaError(f"no space left on the device while writing {where or 'a file'}{free}",
                          f"Free some space (or pass another --out on a larger disk), then {resume}.")
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        what = "is on a read-only file system" if exc.errno == errno.EROFS else "is not accessible (permission denied)"
        return StvqaError(f"{where or 'a file'} {what}",
                          f"Check its permissions, or choose folders you can read and write (--data-dir, --out); then {resume}.")
    if exc.errno == errno.EISDIR:
        return StvqaError(f"{where} is a folder where a file was expected", "Pass the path of a file, not a folder.")
    if exc.errno == errno.ENOTDIR:
        return StvqaError(f"{where}: a part of this path is a file, not a folder", "Check the path; a folder is needed there.")
    return StvqaError(f"{where + ': ' if where else ''}{detail}", f"Check the file and its folder, then {resume}.")


def as_os_error(exc: Exception, filename: str | None = None) -> OSError | None:
    """The OS fault inside another library's error (Polars reports a full disk as `ComputeError: ... (os error 28)`)."""
    import os
    import re

    if isinstance(exc, OSError):
        return exc
    match = re.search(r"os error (\d+)", str(exc))
    if not match:
        return None
    number = int(match[1])
    return OSError(number, os.strerror(number), filename)


class WaitingForBatches(StvqaError):
    """Every request of a stage went out in provider batches (`--batch`): nothing is wrong, the replies are not
    back yet. The CLI says so and exits with `WAITING` (75, EX_TEMPFAIL), so a script can run the command again later."""
