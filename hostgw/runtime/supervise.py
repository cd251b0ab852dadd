"""Run a command as a child and stay around: the ``exec --watch`` mode.

``hostgw exec`` normally replaces itself with the command. To keep files in
step while the server runs it must stay, so it behaves like a small init
(as tini does):

- the command runs in its own process group; when stdin is a terminal that
  group is made the foreground one, so Ctrl-C reaches the command once;
- TERM, INT, HUP, QUIT, USR1, USR2 and WINCH sent to hostgw are forwarded to
  the command (its pid only, not its group: nginx's workers must not get the
  master's signals);
- every child that dies is reaped, including orphans re-parented to hostgw
  when it is PID 1;
- hostgw exits with the command's exit code, or 128+N when a signal N
  killed it, as shells do.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from hostgw.runtime.loop import WakePipe, ignore_as_inherited, wait

if TYPE_CHECKING:
    from hostgw.runtime.watcher import Watcher

#: Signals passed on to the command.
FORWARDED: tuple[signal.Signals, ...] = (
    signal.SIGTERM,
    signal.SIGINT,
    signal.SIGHUP,
    signal.SIGQUIT,
    signal.SIGUSR1,
    signal.SIGUSR2,
    signal.SIGWINCH,
)


def exit_code(status: int) -> int:
    """A ``waitpid`` status as a shell reports it: the code, or 128+N for signal N."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


class Child:
    """The supervised command: its pid, and its exit code once reaped."""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.code: int | None = None
        self._pending: list[int] = []

    def forward(self, signum: int, _frame: object = None) -> None:
        """Signal handler: pass ``signum`` on (or hold it until the child exists)."""
        if self.pid is None:
            if self.code is None:
                self._pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def started(self, pid: int) -> None:
        """Record the pid and deliver signals that arrived during the start."""
        self.pid = pid
        pending, self._pending = self._pending, []
        for signum in pending:
            self.forward(signum)

    def reap(self) -> None:
        """Collect every dead child without blocking; note the command's code."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid:
                self.pid = None
                self.code = exit_code(status)


def _child_setup() -> None:  # pragma: no cover - runs in the forked child
    """Own process group; take the terminal when there is one (like tini); the
    signals hostgw found ignored ignored again."""
    ignore_as_inherited()
    os.setpgid(0, 0)
    try:
        if os.isatty(0):
            old = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
            os.tcsetpgrp(0, os.getpgrp())
            signal.signal(signal.SIGTTOU, old)
    except OSError:
        pass


def supervise(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    watcher: Watcher | None = None,
    forward: Sequence[int] = FORWARDED,
    child: Child | None = None,
) -> int:
    """Run ``argv`` as a child, forward signals, reap, step ``watcher``; return the code.

    Raises :class:`~hostgw.errors.CommandNotFound` (127) or
    :class:`~hostgw.errors.CommandNotExecutable` (126) when the command cannot
    start. ``child`` lets a notifier address the command.
    """
    import subprocess  # the plain exec path never pays for it

    child = child or Child()
    handlers = {s: signal.signal(s, child.forward) for s in forward}
    handlers[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda *_: None)
    wake = WakePipe()
    selector = selectors.DefaultSelector()
    selector.register(wake.read_fd, selectors.EVENT_READ)
    registered: set[int] = set()
    try:
        try:
            proc = subprocess.Popen(
                list(argv),
                env=None if env is None else dict(env),
                preexec_fn=_child_setup,  # noqa: PLW1509 - no thread exists yet
            )
        except OSError as exc:
            from hostgw.runtime.execute import exec_error  # the same messages as a plain exec

            path = (env if env is not None else os.environ).get("PATH", os.defpath)
            raise exec_error(argv[0], exc, path) from None
        child.started(proc.pid)
        while True:
            child.reap()
            if child.code is not None:
                proc.returncode = child.code  # reaped here; Popen must not wait again
                return child.code
            wait(watcher, wake, selector, registered)
    finally:
        selector.close()
        wake.close()
        for s, handler in handlers.items():
            signal.signal(s, handler)
