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

from hostgw.cli._options import DetectionArgs, detection_options
from hostgw.detect import Detection
from hostgw.errors import UsageError
from hostgw.watch import Apply, Notifier, Timing, Watcher

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
    apply: Apply,
    notifier: Notifier | None,
    debounce: float,
    env: Mapping[str, str] | None = None,
) -> Watcher:
    """A :class:`Watcher` that logs to stderr; ``HOSTGW_NETLINK=0`` forces polling."""
    environ = os.environ if env is None else env
    return Watcher(
        detect=detect, apply=apply, notify=notifier, log=_log,
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
    detect: Callable[[], Detection], apply: Apply, notifier: Notifier | None, debounce: float
) -> int:
    """``hostgw watch``: first pass, notify if it changed files, then serve until TERM/INT."""
    from hostgw.errors import HostgwError
    from hostgw.watch import serve

    watcher = make_watcher(detect, apply, notifier, debounce)
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
    apply: Apply,
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
    watcher = make_watcher(detect, apply, notifier, debounce, env)
    try:
        found, written = watcher.start()
        _log(_describe(watcher, found, written))
        return supervise(argv, env=env, watcher=watcher, child=child)
    finally:
        watcher.close()


def rewrite_apply(
    files: Sequence[str],
    maps: Sequence[str],
    *,
    fmt: str | None = None,
    validate: bool = False,
    follow_includes: bool = False,
    prefix: str | None = None,
) -> Apply:
    """``--rewrite FILE --map …`` as an :data:`Apply`: in place, from the pristine copies.

    Each pass first plans without writing; only when a file would change does
    it run again with ``--validate`` (if asked) and write. The gateway of the
    rewrite is the watcher's answer (passed as ``HOSTGW_IP``: no second walk).
    """
    from hostgw.rewriting.apply import mappings_from, run

    mappings = mappings_from(maps, os.environ)  # a bad --map fails at start
    paths = [Path(f) for f in files]

    def apply(found: Detection) -> list[Path]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTGW_IP")}
        env["HOSTGW_IP"] = found.address
        opts: dict[str, Any] = {"fmt": fmt, "follow_includes": follow_includes,
                                "prefix": prefix, "env": env}
        preview = run(paths, mappings, write=False, **opts)
        changed = [f.path for f in preview.files if f.changed]
        if changed:
            run(paths, mappings, write=True, validate=validate, **opts)
        return changed

    return apply


def all_of(applies: Sequence[Apply]) -> Apply:
    """One :data:`Apply` that runs several in order and joins what they changed."""

    def apply(found: Detection) -> list[Path]:
        return [path for each in applies for path in each(found)]

    return apply


def rewrite_options(f: F) -> F:
    """``--rewrite FILE`` (repeatable), ``-m/--map``, ``--validate``, ``--follow-includes``."""
    from hostgw.cli._rewrite import map_option

    options: list[Callable[[Any], Any]] = [
        click.option(
            "--rewrite", "rewrite_files", multiple=True, metavar="FILE",
            type=click.Path(dir_okay=False),
            help="Also rewrite FILE in place, as `hostgw rewrite` does; repeatable.",
        ),
        map_option,
        click.option("--validate", is_flag=True,
                     help="Run the real proxy's config test before writing a rewrite."),
        click.option("--follow-includes", is_flag=True,
                     help="nginx: also rewrite the files that `include` reaches."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


# -- scaffolding until render lands ------------------------------------------


def _pairs_apply(pairs: Sequence[str]) -> Apply:
    from hostgw.watch import write_changed

    def apply(found: Detection) -> list[Path]:
        out = []
        for pair in pairs:
            src, _, dest = pair.rpartition(":")
            text = Path(src).read_text()
            text = text.replace("${HOSTGW_IP}", found.address).replace("${HOSTGW_HOST}", found.host)
            out.append((Path(dest), text.encode()))
        return write_changed(out)

    return apply


@click.command()
@click.argument("pairs", nargs=-1)
@detection_options
@rewrite_options
@notify_options(for_exec=False)
def watch(
    *,
    pairs: tuple[str, ...],
    detection: DetectionArgs,
    rewrite_files: tuple[str, ...],
    maps: tuple[str, ...],
    validate: bool,
    follow_includes: bool,
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

    applies = [_pairs_apply(pairs)]
    if rewrite_files:
        applies.append(rewrite_apply(rewrite_files, maps, validate=validate,
                                     follow_includes=follow_includes))
    notifier = make_notifier(signal_name, pid_file, notify_command)
    return run_watch(functools.partial(detect, **detection.kwargs()), all_of(applies),
                     notifier, debounce)
