"""``hostgw exec``: render, rewrite, export HOSTGW_*, wait, then become the command."""

from __future__ import annotations

import functools
import time
from typing import TYPE_CHECKING

import click

from hostgw.cli.options import (
    Command,
    exec_wait_options,
    map_option,
    render_options,
    rewrite_format_option,
    rewrite_option,
    say,
    state_dir_option,
    watch_options,
)

if TYPE_CHECKING:
    from hostgw.detection import Options
    from hostgw.runtime.notify import WatchSettings
    from hostgw.runtime.wait import WaitSettings
    from hostgw.templates.jobs import RenderRequest


def _wait_log(message: str) -> None:
    click.echo(f"hostgw wait: {message}", err=True)


def _watch_log(message: str) -> None:
    click.echo(f"hostgw watch {time.strftime('%H:%M:%S')}: {message}", err=True)


@click.command(
    "exec",
    cls=Command,
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@functools.partial(render_options, dns_alias=False)
@watch_options(for_exec=True)
@exec_wait_options
@rewrite_option
@rewrite_format_option
@map_option
@state_dir_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_(
    command: tuple[str, ...],
    request: RenderRequest,
    options: Options,
    watch: WatchSettings,
    waits: WaitSettings,
    *,
    rewrite_files: tuple[str, ...],
    rewrite_format: str | None,
    maps: tuple[str, ...],
    state_dir: str | None,
) -> int:
    """Render templates, export HOSTGW_*, then become COMMAND (same pid).

    With --watch, hostgw stays as COMMAND's parent instead (see hostgw watch):
    it re-renders when the host's address changes and notifies COMMAND
    (SIGHUP unless --signal/--pid-file/--notify say otherwise), forwards
    TERM, INT, HUP, QUIT, USR1, USR2 and WINCH, reaps zombies (as PID 1) and
    exits with COMMAND's code (128+N if signal N killed it).

    With --wait TARGET (repeatable, as hostgw wait) it first waits, after
    rendering, until every target answers; exit 8 if --wait-timeout runs out.

    With --rewrite FILE -m HOST[:PORT]=PORT (repeatable; HOSTGW_MAP adds
    more) it rewrites FILE in place after rendering, as hostgw rewrite does
    (atomically, from its original kept under --state-dir); a rewrite error means the command
    is not run (exit code of the error). With --watch, rewrites again when
    the address changes.

    Takes the render options (templates with -t TEMPLATE[:OUT], --templates,
    --nginx, ...). A render error means the command is not run (exit code of
    the error); then hostgw execs COMMAND, so it keeps PID 1 and gets
    signals directly. Exit 127: command not found; 126: not executable.
    Variables add behaviour to an ENTRYPOINT without flags: HOSTGW_WAIT,
    HOSTGW_WAIT_TIMEOUT, HOSTGW_WATCH, HOSTGW_STRICT, HOSTGW_RAW, HOSTGW_QUIET
    (each option's help names its own).

    \b
    The nginx image's entrypoint in one line:
      hostgw exec --nginx -- nginx -g 'daemon off;'
    \b
    Other examples:
      hostgw exec -t haproxy.cfg.template:/etc/haproxy/haproxy.cfg -- haproxy -W \\
          -f /etc/haproxy/haproxy.cfg
      hostgw exec -- sh -c 'echo "host is $HOSTGW_IP"'
    """
    from hostgw.runtime.pipeline import RewriteSettings, run_exec

    return run_exec(
        command,
        options=options,
        request=request,
        rewrites=RewriteSettings(rewrite_files, maps, state_dir, format=rewrite_format),
        waits=waits,
        watch=watch,
        log=say,
        wait_log=_wait_log,
        watch_log=_watch_log,
    )
