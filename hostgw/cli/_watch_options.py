"""The options of watching, shared by ``hostgw watch`` and ``hostgw exec --watch``.

Kept apart from :mod:`hostgw.cli._watch` so that ``exec`` can take them
without importing the watcher (nor pyroute2) when it just execs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hostgw.errors import UsageError

if TYPE_CHECKING:
    from hostgw.notify import Notifier

R = TypeVar("R")


@dataclass(frozen=True)
class WatchArgs:
    """The watch options as given: how to notify, how long to wait for quiet."""

    enabled: bool = True
    signal_name: str | None = None
    pid_file: str | None = None
    notify_command: str | None = None
    debounce: float = 0.1


def _notify_options(for_exec: bool) -> list[Callable[[Any], Any]]:
    who = "the command (default: HUP)" if for_exec else "the pid in --pid-file"
    return [
        click.option(
            "--signal",
            "signal_name",
            metavar="SIG",
            help=f"After files changed, send SIG to {who}.",
        ),
        click.option(
            "--pid-file",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Signal the pid in FILE (read at each change), e.g. /run/nginx.pid.",
        ),
        click.option(
            "--notify",
            "notify_command",
            metavar="COMMAND",
            help="After files changed, run COMMAND with sh -c, e.g. 'nginx -s reload'.",
        ),
        click.option(
            "--debounce",
            type=click.FloatRange(0.0, 60.0),
            default=0.1,
            show_default=True,
            metavar="SECONDS",
            help="Quiet time after the last network event before re-detecting.",
        ),
    ]


def watch_options(*, for_exec: bool) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Add ``--signal``, ``--pid-file``, ``--notify``, ``--debounce`` (and for exec ``--watch``).

    The callback gets one ``watch: WatchArgs`` argument in their place.
    """

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> R:
            watch = WatchArgs(
                enabled=kw.pop("watch_enabled", True),
                signal_name=kw.pop("signal_name"),
                pid_file=kw.pop("pid_file"),
                notify_command=kw.pop("notify_command"),
                debounce=kw.pop("debounce"),
            )
            if (
                for_exec
                and not watch.enabled
                and (watch.signal_name or watch.pid_file or watch.notify_command)
            ):
                raise UsageError(
                    "--signal, --pid-file and --notify need --watch",
                    hint="hostgw exec --watch --notify '...' -- CMD",
                )
            return fn(*args, watch=watch, **kw)

        options = _notify_options(for_exec)
        if for_exec:
            options.insert(
                0,
                click.option(
                    "--watch",
                    "watch_enabled",
                    is_flag=True,
                    help="Stay as the command's parent: re-render when the host's address "
                    "changes and notify the command (see hostgw watch). Forwards signals, "
                    "reaps zombies, exits with the command's code.",
                ),
            )
        decorated: Callable[..., R] = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate


def make_notifier(
    watch: WatchArgs, *, child_pid: Callable[[], int | None] | None = None
) -> Notifier | None:
    """The notifier the options ask for; ``child_pid`` is ``exec --watch``'s command.

    Under ``exec --watch`` with none of them, the command gets SIGHUP (what
    nginx, HAProxy's master-worker mode and Apache httpd take as "reload").
    """
    from hostgw.notify import parse_signal, run_command, signal_pid, signal_pid_file

    if watch.notify_command is not None:
        if watch.signal_name or watch.pid_file:
            raise UsageError(
                "--notify cannot be combined with --signal/--pid-file",
                hint="choose one way to tell the server: a command, or a signal",
            )
        return run_command(watch.notify_command)
    sig = parse_signal(watch.signal_name or "HUP")
    if watch.pid_file is not None:
        return signal_pid_file(sig, watch.pid_file)
    if child_pid is not None:
        return signal_pid(sig, child_pid)
    if watch.signal_name is not None:
        raise UsageError(
            "--signal needs --pid-file to know whom to signal",
            hint="add --pid-file /run/nginx.pid, or use --notify 'nginx -s reload'",
        )
    return None
