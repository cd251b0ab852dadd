"""``hostgw rewrite``: repoint proxy targets in existing configs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hostgw.cli._options import DetectionArgs, detection_options
from hostgw.cli._rewrite_options import LastWarnings, map_option, state_dir_option
from hostgw.errors import EXIT_ERROR
from hostgw.rewriting import FORMATS

if TYPE_CHECKING:
    from hostgw.rewriting.files import Plan

__all__ = ["map_option", "report", "rewrite", "warning_lines"]


def warning_lines(the_plan: Plan) -> list[str]:
    """The plan's warnings, one line each, worded as every command shows them."""
    lines = [str(note) for note in the_plan.notes]
    lines += [str(n) for f in the_plan.files for n in f.result.notes]
    lines += [f"--map {spec} matched nothing" for spec in the_plan.unused]
    return lines


def report(the_plan: Plan, *, quiet: bool = False, last: LastWarnings | None = None) -> None:
    """The summary on stderr: one line per change, then the warnings.

    With ``last``, only warnings it has not seen in the last pass are shown.
    """
    lines = [] if quiet else [str(c) for f in the_plan.files for c in f.result.changes]
    found = warning_lines(the_plan)
    lines += [f"hostgw: warning: {w}" for w in (found if last is None else last.new(found))]
    if lines:  # one write: a large config can have thousands of lines
        click.echo("\n".join(lines), err=True)


@click.command(
    "rewrite",
    epilog="""\b
Examples:
  hostgw rewrite -m backend:8000=18000 /etc/nginx/conf.d/default.conf
  hostgw rewrite -m api=19000 --validate /usr/local/etc/haproxy/haproxy.cfg
  hostgw rewrite -m backend=18000 -o /run/nginx.conf /etc/nginx/nginx.conf
  hostgw rewrite -m backend=18000 --format caddy < Caddyfile > Caddyfile.new

Exit 0 ok, 1 --check found changes, 2 bad option or --map (or an Apache or
Caddy file in place with no writable --state-dir), 3 no gateway found, 6
config could not be parsed (or --strict and a --map matched nothing), 7
--validate: the proxy rejected the result (nothing written).""",
)
@click.argument(
    "files", nargs=-1, type=click.Path(dir_okay=False, allow_dash=True), metavar="[FILE]..."
)
@map_option
@click.option(
    "-f",
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    help="The config's format (default: from the file name and content).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    metavar="OUT",
    help="Write the result to OUT (atomically) and leave FILE alone.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if something would change.")
@click.option("--diff", is_flag=True, help="Write nothing; print a unified diff.")
@click.option(
    "--validate",
    is_flag=True,
    help="Run the real proxy's config test on the result before writing.",
)
@click.option(
    "--follow-includes",
    is_flag=True,
    help="Also rewrite the files the config includes: nginx include, Apache "
    "Include/IncludeOptional, Caddy import (HAProxy has no includes).",
)
@click.option(
    "--prefix",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="nginx and Apache: directory relative includes are read from (default: "
    "Apache's ServerRoot, else the config's directory; the one above for conf.d/ "
    "and sites-*/). Caddy reads them from the importing file's directory.",
)
@state_dir_option
@click.option("--strict", is_flag=True, help="A --map that matched nothing is an error.")
@click.option("-q", "--quiet", is_flag=True, help="No summary of changes (warnings still).")
@detection_options
def rewrite(
    *,
    detection: DetectionArgs,
    files: tuple[str, ...],
    maps: tuple[str, ...],
    fmt: str | None,
    output: str | None,
    check: bool,
    diff: bool,
    validate: bool,
    follow_includes: bool,
    prefix: str | None,
    state_dir: str | None,
    strict: bool,
    quiet: bool,
) -> int:
    """Point the proxy targets in FILE at gateway:PORT, in place, changing nothing else.

    Rewrites nginx (proxy_pass, grpc_pass, fastcgi/uwsgi/scgi/memcached_pass,
    upstream servers), HAProxy (server, server-template), Apache (ProxyPass,
    ProxyPassReverse, ProxyPassMatch, BalancerMember, RewriteRule [P]) and
    Caddy (reverse_proxy, to). Comments, variables, unix sockets and every
    other byte stay as they were. The first in-place run keeps the original
    under --state-dir (/var/lib/hostgw/pristine/PATH) and later runs start
    from it, so a new gateway address after a restart is picked up. Without
    FILE (or with -), reads stdin and writes stdout.
    """
    from hostgw.rewriting.apply import gateway_from, mappings_from, run, unified_diff

    gateway = gateway_from(os.environ, **detection.kwargs())
    if not files or files == ("-",):
        return _stdin(
            maps,
            fmt=fmt,
            check=check,
            diff=diff,
            validate=validate,
            strict=strict,
            quiet=quiet,
            gateway=gateway,
        )
    out = Path(output) if output else None
    the_plan = run(
        [Path(f) for f in files],
        mappings_from(maps, os.environ),
        fmt=fmt,
        output=out,
        write=not (check or diff),
        validate=validate,
        follow_includes=follow_includes,
        prefix=prefix,
        strict=strict,
        gateway=gateway,
        state_dir=state_dir,
    )
    report(the_plan, quiet=quiet)
    if diff:
        click.echo(unified_diff(the_plan, out), nl=False)
    changed = any(f.changed for f in the_plan.files)
    return EXIT_ERROR if check and changed else 0


def _stdin(
    maps: Sequence[str],
    *,
    fmt: str | None,
    check: bool,
    diff: bool,
    validate: bool,
    strict: bool,
    quiet: bool,
    gateway: Callable[[], str],
) -> int:
    """Rewrite stdin to stdout; the same checks (:func:`check_plan`), no original kept."""
    from hostgw.rewriting import rewrite as rewrite_text
    from hostgw.rewriting.apply import check_plan, mappings_from, unified_diff
    from hostgw.rewriting.files import FileResult, Plan, decode, encode

    text = decode(sys.stdin.buffer.read())
    result = rewrite_text(
        text,
        mappings_from(maps, os.environ),
        format=fmt,
        path="-",
        gateway=gateway,
    )
    the_plan = Plan([FileResult(Path("-"), text, result)], format=result.format)
    check_plan(the_plan, strict=strict, validate=validate, at=Path.cwd() / "stdin")
    report(the_plan, quiet=quiet)
    if diff:
        click.echo(unified_diff(the_plan), nl=False)
    elif not check:
        sys.stdout.buffer.write(encode(result.text))
        sys.stdout.flush()
    return EXIT_ERROR if check and result.text != text else 0
