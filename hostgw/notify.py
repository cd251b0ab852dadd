"""Ways to tell a server that its config files changed.

Each maker returns a :data:`Notifier`: a no-argument callable that raises
:class:`HostgwError` when the server could not be told.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping
from pathlib import Path

from hostgw.errors import HostgwError, UsageError

#: Tells the server its files changed (what :class:`hostgw.watch.Watcher` calls).
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


def signal_pid(sig: signal.Signals, pid: Callable[[], int | None]) -> Notifier:
    """A notifier that sends ``sig`` to the process ``pid()`` names."""

    def notify() -> None:
        target = pid()
        if target is None or target <= 0:
            raise HostgwError("no process to signal")
        try:
            os.kill(target, sig)
        except OSError as exc:
            raise HostgwError(f"cannot send {sig.name} to pid {target}: {exc.strerror}") from None

    return notify


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
