"""The one exception tree of hostgw, and the exit codes the CLI maps it to.

Every expected failure is a :class:`HostgwError`. Each subclass carries what
the user needs to act (file, line, column, variable, strategies tried) and a
``hint`` naming the fix. ``exit_code`` is read once, by the CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Exit codes, documented in the README ("Exit codes"). Keep both in step.
EXIT_OK = 0
EXIT_ERROR = 1  # other error; also "--check: something would change"
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_UNREACHABLE = 4
EXIT_TEMPLATE = 5
EXIT_REWRITE = 6
EXIT_INVALID_CONFIG = 7
EXIT_WAIT_TIMEOUT = 8
EXIT_NOT_EXECUTABLE = 126
EXIT_COMMAND_NOT_FOUND = 127
EXIT_SIGNAL_BASE = 128  # + N: stopped by signal N (TERM: 143, INT: 130)


class HostgwError(Exception):
    """Base of every error hostgw raises on purpose.

    ``message`` says what went wrong, ``hint`` (optional) says how to fix it.
    """

    exit_code: int = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nhint: {self.hint}"
        return self.message


class UsageError(HostgwError, ValueError):
    """An option or argument that cannot work, found by the library."""

    exit_code = EXIT_USAGE


class GatewayNotFound(HostgwError, LookupError):
    """No strategy produced the host's address.

    ``attempts`` holds what every strategy saw (the
    :class:`hostgw.detection.Attempt` records; typed loosely here, since
    this module is below every other).
    """

    exit_code = EXIT_NOT_FOUND

    def __init__(
        self, message: str, *, attempts: Sequence[Any] = (), hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.attempts = tuple(attempts)


class GatewayUnreachable(GatewayNotFound):
    """``--port`` was given and no candidate accepted a TCP connection."""

    exit_code = EXIT_UNREACHABLE


class TemplateError(HostgwError, ValueError):
    """A template could not be rendered.

    ``problems`` lists every ``(path, line, col, name, reason)`` found (the
    first 100 of them: ``total`` counts them all), so all of them can be
    reported at once; the first one also fills ``path``, ``line``, ``col``
    and ``name``.
    """

    exit_code = EXIT_TEMPLATE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        col: int | None = None,
        name: str | None = None,
        problems: Sequence[tuple[str | None, int, int, str, str]] = (),
        hint: str | None = None,
        total: int | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line
        self.col = col
        self.name = name
        self.problems = tuple(problems)
        self.total = max(total or 0, len(self.problems))  # found, listed or not


class RewriteError(HostgwError, ValueError):
    """A proxy config could not be parsed or rewritten."""

    exit_code = EXIT_REWRITE

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.path = path
        self.line = line
        self.col = col


class InvalidConfig(HostgwError):
    """The real proxy rejected a config; the original file was kept."""

    exit_code = EXIT_INVALID_CONFIG


class OutputError(HostgwError, OSError):
    """An output could not be written; the old file is left as it was."""

    exit_code = EXIT_ERROR


class WaitTimeout(HostgwError, TimeoutError):
    """``hostgw wait`` ran out of time; ``pending`` names what never answered."""

    exit_code = EXIT_WAIT_TIMEOUT

    def __init__(
        self, message: str, *, pending: Sequence[str] = (), hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.pending = tuple(pending)


class StoppedBySignal(HostgwError):
    """A stop signal (TERM, INT) ended the work before it was done: exit 128 + N."""

    def __init__(self, message: str, *, signum: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.signum = signum
        self.exit_code = EXIT_SIGNAL_BASE + signum


class CommandNotFound(HostgwError, FileNotFoundError):
    """``hostgw exec`` was given a command that is not on ``PATH``."""

    exit_code = EXIT_COMMAND_NOT_FOUND


class CommandNotExecutable(HostgwError, PermissionError):
    """``hostgw exec`` found the command but may not run it."""

    exit_code = EXIT_NOT_EXECUTABLE
