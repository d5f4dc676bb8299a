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


class DataError(StvqaError):
    """Input data is missing or malformed."""


class ConfigError(StvqaError):
    """A flag or a config file value is invalid."""
