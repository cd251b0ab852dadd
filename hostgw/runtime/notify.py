"""Ways to tell a server that its config files changed.

Each maker returns a :data:`Notifier`: a no-argument callable that raises
:class:`HostgwError` when the server could not be told.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from hostgw.errors import HostgwError, UsageError
from hostgw.record import Record

#: Tells the server its files changed (what :class:`hostgw.runtime.watcher.Watcher` calls).
Notifier = Callable[[], None]


def parse_signal(name: str | int) -> signal.Signals:
    """``HUP``, ``SIGHUP``, ``hup`` or ``1`` -> ``signal.SIGHUP``."""
    text = str(name).strip().upper()
    try:
        if text.isdigit():
            return signal.Signals(int(text))
        return signal.Signals[text if text.startswith("SIG") else f"SIG{text}"]
    except (KeyError, ValueError):
        raise UsageError(
            f"unknown signal {name!r}", hint="use a name like HUP, USR1, TERM or a number"
        ) from None


def signal_pid_file(sig: signal.Signals, pid_file: str | os.PathLike[str]) -> Notifier:
    """A notifier that sends ``sig`` to the pid written in ``pid_file`` (read each time)."""
    path = Path(pid_file)

    def notify() -> None:
        try:
            text = path.read_text().strip()
            pid = int(text.split()[0])
        except (OSError, ValueError, IndexError) as exc:
            raise HostgwError(
                f"cannot read a pid from {path}: {exc}",
                hint="is the server running, and is --pid-file its pid file?",
            ) from None
        signal_pid(sig, lambda: pid)()

    return notify


# Signals whose default action does not end the process: ignored, or stop/continue.
_HARMLESS = frozenset(
    {signal.SIGCHLD, signal.SIGURG, signal.SIGWINCH, signal.SIGCONT}
    | {signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU}
)
#: How long a notify waits for the process to handle the signal (it may be starting).
HANDLER_WAIT = 3.0


def handles(pid: int, sig: signal.Signals, proc: str = "/proc") -> bool | None:
    """Whether process ``pid`` catches or ignores ``sig`` (its ``SigCgt``/``SigIgn``
    masks in ``/proc/PID/status``); None when that cannot be read."""
    try:
        with open(f"{proc}/{pid}/status", "rb") as handle:
            status = handle.read()
    except OSError:
        return None
    masks = 0
    for line in status.splitlines():
        name, _, value = line.partition(b":")
        if name in (b"SigCgt", b"SigIgn"):
            try:
                masks |= int(value.strip(), 16)
            except ValueError:
                return None
    return bool(masks >> (sig - 1) & 1)


def signal_pid(
    sig: signal.Signals, pid: Callable[[], int | None], *, wait: float = HANDLER_WAIT
) -> Notifier:
    """A notifier that sends ``sig`` to the process ``pid()`` names.

    A signal whose default action ends a process is sent only once the
    process handles it: a server still starting (nginx between exec and its
    handlers) gets it when ready, within ``wait`` seconds; one that never
    handles it is not sent it at all (that would end the server), and the
    notify fails saying so.
    """

    def notify() -> None:
        target = pid()
        if target is None or target <= 0:
            raise HostgwError("no process to signal")
        if sig not in _HARMLESS and not _ready(target, sig, wait):
            raise HostgwError(
                f"pid {target} does not handle {sig.name}: sending it would end the process, "
                "so it was not sent",
                hint="choose a signal the server takes as reload (--signal), or use "
                "--notify 'COMMAND'",
            )
        try:
            os.kill(target, sig)
        except OSError as exc:
            raise HostgwError(f"cannot send {sig.name} to pid {target}: {exc.strerror}") from None

    return notify


def _ready(pid: int, sig: signal.Signals, wait: float) -> bool:
    """True once ``pid`` handles ``sig`` (or that cannot be told), within ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        state = handles(pid, sig)
        if state is None or state:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def run_command(
    command: str, *, timeout: float = 60.0, env: Mapping[str, str] | None = None
) -> Notifier:
    """A notifier that runs ``command`` with ``/bin/sh -c`` and requires exit 0.

    The string is the user's own (like ``nginx -s reload``), so a shell is
    what they expect: ``nginx -t && nginx -s reload`` works.
    """

    def notify() -> None:
        import subprocess  # only a notifying watch pays for it

        try:
            done = subprocess.run(
                ["/bin/sh", "-c", command],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env=None if env is None else dict(env),
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HostgwError(f"--notify {command!r} did not finish in {timeout:g}s") from None
        except OSError as exc:
            raise HostgwError(f"--notify {command!r}: {exc.strerror}") from None
        if done.returncode != 0:
            err = done.stderr.decode(errors="replace").strip().splitlines()
            tail = f": {err[-1]}" if err else ""
            raise HostgwError(f"--notify {command!r} exited with {done.returncode}{tail}")

    return notify


class WatchSettings(Record):
    """The watch options as given: how to notify, how long to wait for quiet."""

    enabled: bool = True
    signal_name: str | None = None
    pid_file: str | None = None
    notify_command: str | None = None
    debounce: float = 0.1


def notifier_for(
    settings: WatchSettings, *, child_pid: Callable[[], int | None] | None = None
) -> Notifier | None:
    """The notifier the options ask for; ``child_pid`` is ``exec --watch``'s command.

    Under ``exec --watch`` with none of them, the command gets SIGHUP (what
    nginx, HAProxy's master-worker mode and Apache httpd take as "reload").
    """
    if settings.notify_command is not None:
        if settings.signal_name or settings.pid_file:
            raise UsageError(
                "--notify cannot be combined with --signal/--pid-file",
                hint="choose one way to tell the server: a command, or a signal",
            )
        return run_command(settings.notify_command)
    sig = parse_signal(settings.signal_name or "HUP")
    if settings.pid_file is not None:
        return signal_pid_file(sig, settings.pid_file)
    if child_pid is not None:
        return signal_pid(sig, child_pid)
    if settings.signal_name is not None:
        raise UsageError(
            "--signal needs --pid-file to know whom to signal",
            hint="add --pid-file /run/nginx.pid, or use --notify 'nginx -s reload'",
        )
    return None
