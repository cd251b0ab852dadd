"""``hostgw watch``, and the ``--watch`` half of ``hostgw exec``.

Both keep the outputs of ``render``/``rewrite`` in step with the host's
address (see :mod:`hostgw.watch`); ``exec --watch`` also runs the command
as a child and supervises it (see :mod:`hostgw.supervise`).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from hostgw.detect import Detection
from hostgw.errors import UsageError
from hostgw.watch import Notifier, Planner, Timing, Watcher

F = TypeVar("F", bound=Callable[..., Any])


def notify_options(*, for_exec: bool) -> Callable[[F], F]:
    """``--signal``, ``--pid-file``, ``--notify`` and ``--debounce``."""
    who = "the command (HUP by default)" if for_exec else "the pid in --pid-file"

    def decorate(f: F) -> F:
        for option in reversed(
            [
                click.option(
                    "--signal", "signal_name", metavar="SIG",
                    help=f"After the files changed, send SIG to {who}.",
                ),
                click.option(
                    "--pid-file", type=click.Path(dir_okay=False), metavar="FILE",
                    help="Signal the pid in FILE (read at each change), e.g. /run/nginx.pid.",
                ),
                click.option(
                    "--notify", "notify_command", metavar="COMMAND",
                    help="After the files changed, run COMMAND with sh -c, e.g. "
                    "'nginx -s reload'.",
                ),
                click.option(
                    "--debounce", type=click.FloatRange(0.0, 60.0), default=0.1,
                    show_default=True, metavar="SECONDS",
                    help="Quiet time after the last network event before re-detecting.",
                ),
            ]
        ):
            f = option(f)
        return f

    return decorate


def make_notifier(
    signal_name: str | None,
    pid_file: str | None,
    notify_command: str | None,
    *,
    child_pid: Callable[[], int | None] | None = None,
) -> Notifier | None:
    """The notifier the options ask for; ``child_pid`` is ``exec --watch``'s command.

    Under ``exec --watch`` with none of them, the command gets SIGHUP (what
    nginx, HAProxy's master-worker mode and Apache take as "reload").
    """
    from hostgw.notify import parse_signal, run_command, signal_pid, signal_pid_file

    if notify_command is not None:
        if signal_name or pid_file:
            raise UsageError(
                "--notify cannot be combined with --signal/--pid-file",
                hint="choose one way to tell the server: a command, or a signal",
            )
        return run_command(notify_command)
    sig = parse_signal(signal_name or "HUP")
    if pid_file is not None:
        return signal_pid_file(sig, pid_file)
    if child_pid is not None:
        return signal_pid(sig, child_pid)
    if signal_name is not None:
        raise UsageError(
            "--signal needs --pid-file to know whom to signal",
            hint="add --pid-file /run/nginx.pid, or use --notify 'nginx -s reload'",
        )
    return None


def _log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S")
    click.echo(f"hostgw watch {stamp}: {message}", err=True)


def make_watcher(
    detect: Callable[[], Detection],
    plan: Planner,
    notifier: Notifier | None,
    debounce: float,
    env: Mapping[str, str] | None = None,
) -> Watcher:
    """A :class:`Watcher` that logs to stderr; ``HOSTGW_NETLINK=0`` forces polling."""
    environ = os.environ if env is None else env
    return Watcher(
        detect=detect, plan=plan, notify=notifier, log=_log,
        timing=Timing(debounce=debounce, max_delay=max(1.0, debounce * 10)),
        env=environ, netlink=environ.get("HOSTGW_NETLINK", "1") != "0",
    )


def _describe(watcher: Watcher, found: Detection, written: Sequence[Path]) -> str:
    what = ", ".join(sorted(watcher.watching)) or (
        "nothing (the answer comes from the environment, which cannot change)"
    )
    wrote = f"; wrote {', '.join(map(str, written))}" if written else ""
    return f"host address {found.address} ({found.strategy}); watching {what}{wrote}"


def run_watch(
    detect: Callable[[], Detection], plan: Planner, notifier: Notifier | None, debounce: float
) -> int:
    """``hostgw watch``: first pass, notify if it changed files, then serve until TERM/INT."""
    from hostgw.errors import HostgwError
    from hostgw.watch import serve

    watcher = make_watcher(detect, plan, notifier, debounce)
    try:
        found, written = watcher.start()
        _log(_describe(watcher, found, written))
        if written and notifier is not None:
            try:
                notifier()
            except HostgwError as exc:
                _log(f"notify failed: {exc}")
        serve(watcher)
    finally:
        watcher.close()
    return 0


def exec_watch(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None,
    detect: Callable[[], Detection],
    plan: Planner,
    signal_name: str | None,
    pid_file: str | None,
    notify_command: str | None,
    debounce: float,
) -> int:
    """``hostgw exec --watch``: render, start ARGV as a child, supervise and watch.

    Returns the command's exit code (128+N for a death by signal N).
    """
    from hostgw.supervise import Child, supervise

    child = Child()
    notifier = make_notifier(signal_name, pid_file, notify_command, child_pid=lambda: child.pid)
    watcher = make_watcher(detect, plan, notifier, debounce, env)
    try:
        found, written = watcher.start()
        _log(_describe(watcher, found, written))
        return supervise(argv, env=env, watcher=watcher, child=child)
    finally:
        watcher.close()


# -- scaffolding until render/rewrite options land ---------------------------


def _pairs_planner(pairs: Sequence[str]) -> Planner:
    def plan(found: Detection) -> list[tuple[Path, bytes]]:
        out = []
        for pair in pairs:
            src, _, dest = pair.rpartition(":")
            text = Path(src).read_text()
            text = text.replace("${HOSTGW_IP}", found.address).replace("${HOSTGW_HOST}", found.host)
            out.append((Path(dest), text.encode()))
        return out

    return plan


@click.command(context_settings={"ignore_unknown_options": False})
@click.argument("pairs", nargs=-1)
@notify_options(for_exec=False)
def watch(
    *,
    pairs: tuple[str, ...],
    signal_name: str | None,
    pid_file: str | None,
    notify_command: str | None,
    debounce: float,
) -> int:
    """Keep rendered/rewritten files in step with the host's address.

    Re-detects after route, link, address or /etc/hosts changes (debounced),
    rewrites only files whose bytes change, then notifies the server.
    """
    from hostgw.detect import detect

    notifier = make_notifier(signal_name, pid_file, notify_command)
    return run_watch(functools.partial(detect), _pairs_planner(pairs), notifier, debounce)


@click.command(context_settings={"ignore_unknown_options": True,
                                 "allow_interspersed_args": False})
@click.option("--watch", "watch_", is_flag=True)
@notify_options(for_exec=True)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_(
    *,
    watch_: bool,
    signal_name: str | None,
    pid_file: str | None,
    notify_command: str | None,
    debounce: float,
    argv: tuple[str, ...],
) -> int:
    """Scaffolding exec (replaced by the real one)."""
    from hostgw.detect import detect

    return exec_watch(
        argv, env=None, detect=functools.partial(detect), plan=lambda _f: [],
        signal_name=signal_name, pid_file=pid_file, notify_command=notify_command,
        debounce=debounce,
    )
