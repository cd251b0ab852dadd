"""Become the command: ``os.execvpe`` with the signal state a fresh process expects.

After the exec the command has hostgw's pid (PID 1 in a container), so
signals reach it directly and no process stays behind to forward them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from hostgw.errors import CommandNotExecutable, CommandNotFound, HostgwError, UsageError
from hostgw.runtime.loop import ignore_as_inherited

# Python ignores these at startup, and an ignored signal stays ignored across
# exec: nginx or a shell pipeline would then never see SIGPIPE.
_PYTHON_IGNORES = ("SIGPIPE", "SIGXFSZ", "SIGXFZ")


def exec_command(argv: Sequence[str], env: Mapping[str, str]) -> NoReturn:
    """Replace this process with ``argv`` (looked up on ``env``'s PATH).

    Raises :class:`CommandNotFound` (exit 127) or :class:`CommandNotExecutable`
    (exit 126) when the exec fails; on success it does not return.
    """
    if not argv:
        raise UsageError("no command to run", hint="put it after --: hostgw exec ... -- CMD ARGS")
    for name in _PYTHON_IGNORES:
        sig = getattr(signal, name, None)
        if sig is not None:
            signal.signal(sig, signal.SIG_DFL)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # closed or broken: nothing to keep
            stream.flush()
    ignore_as_inherited()
    try:
        os.execvpe(argv[0], list(argv), dict(env))  # noqa: S606 - exec'ing argv is the job
    except OSError as exc:
        raise exec_error(argv[0], exc, env.get("PATH", os.defpath)) from None


def exec_error(command: str, exc: OSError, path: str) -> HostgwError:
    """The error for a command that could not start: not found (127) or not executable (126)."""
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        where = f"{command!r} does not exist" if "/" in command else f"not on PATH={path}"
        return CommandNotFound(
            f"command not found: {command} ({where})", hint="check the name, or give its full path"
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.ENOEXEC, errno.EISDIR):
        return CommandNotExecutable(
            f"cannot execute {command}: {exc.strerror}",
            hint=f"chmod +x {command}, or run it through its interpreter (sh {command} ...)",
        )
    return CommandNotExecutable(f"cannot execute {command}: {exc.strerror or exc}")
