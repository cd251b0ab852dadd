"""``hostgw watch``: keep rendered and rewritten files in step with the host's address."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import click

from hostgw.cli.options import (
    Command,
    map_option,
    render_options,
    rewrite_format_option,
    state_dir_option,
    watch_options,
)

if TYPE_CHECKING:
    from hostgw.detection import Options
    from hostgw.runtime.notify import WatchSettings
    from hostgw.templates.jobs import RenderRequest


def _log(message: str) -> None:
    click.echo(f"hostgw watch {time.strftime('%H:%M:%S')}: {message}", err=True)


@click.command("watch", cls=Command)
@click.argument("templates", nargs=-1, metavar="[TEMPLATE[:OUT]]...")
@render_options
@click.option(
    "--rewrite",
    "rewrite_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also rewrite FILE in place, as hostgw rewrite does; repeatable.",
)
@rewrite_format_option
@map_option
@click.option(
    "--validate",
    is_flag=True,
    help="Run the real proxy's config test on a rewrite before writing it.",
)
@click.option(
    "--follow-includes",
    is_flag=True,
    help="Also rewrite the files a --rewrite FILE includes: nginx include, Apache "
    "Include/IncludeOptional, Caddy import (HAProxy has no includes).",
)
@state_dir_option
@watch_options(for_exec=False)
def watch(
    *,
    request: RenderRequest,
    options: Options,
    rewrite_files: tuple[str, ...],
    rewrite_format: str | None,
    maps: tuple[str, ...],
    validate: bool,
    follow_includes: bool,
    state_dir: str | None,
    watch: WatchSettings,
) -> int:
    """Keep rendered and rewritten files in step with the host's address.

    Takes the outputs of render (templates, --templates, --nginx) and of
    rewrite (--rewrite FILE -m MAP). Renders once, then re-detects after
    route, link, address or /etc/hosts changes (debounced), rewrites only
    files whose bytes change, and then notifies the server. Errors are
    logged and the old files kept; it runs until TERM or INT (exit 0).

    \b
    Examples:
      hostgw watch default.conf.template:/etc/nginx/conf.d/default.conf \\
          --signal HUP --pid-file /run/nginx.pid
      hostgw watch --rewrite /etc/nginx/conf.d/default.conf -m backend:8000=8000 \\
          --validate --notify 'nginx -s reload'
    """
    from hostgw.runtime.pipeline import RewriteSettings, run_watch

    rewrites = RewriteSettings(
        rewrite_files, maps, state_dir, validate, follow_includes, format=rewrite_format
    )
    return run_watch(options=options, request=request, rewrites=rewrites, watch=watch, log=_log)
