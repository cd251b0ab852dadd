"""``hostgw rewrite``: repoint proxy targets in existing configs."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hostgw.cli.options import (
    Command,
    detection_options,
    emit_json,
    json_option,
    map_option,
    quiet_option,
    state_dir_option,
)
from hostgw.errors import EXIT_ERROR
from hostgw.rewriting import FORMATS

if TYPE_CHECKING:
    from hostgw.detection import Options
    from hostgw.rewriting.files import Plan


def _report(the_plan: Plan, *, quiet: bool, wrote: list[str] | None = None) -> None:
    """The summary on stderr: one line per change, then the warnings, then the files
    written; one write (a large config can have thousands of lines)."""
    from hostgw.runtime.pipeline import rewrite_report

    lines = rewrite_report(the_plan, quiet=quiet)
    lines += [] if quiet else [f"hostgw: wrote {path}" for path in wrote or ()]
    if lines:
        click.echo(
            "\n".join(f"hostgw: {x}" if x.startswith("warning: ") else x for x in lines), err=True
        )


@click.command(
    "rewrite",
    cls=Command,
    epilog="""\b
Examples:
  hostgw rewrite -m backend:8000=18000 /etc/nginx/conf.d/default.conf
  hostgw rewrite -m api=19000 --validate /usr/local/etc/haproxy/haproxy.cfg
  hostgw rewrite -m backend=18000 -o /run/nginx.conf /etc/nginx/nginx.conf
  hostgw rewrite -m backend=18000 --format caddy < Caddyfile > Caddyfile.new

Exit 0 ok, 1 --check or --diff found changes, 2 bad option or --map (or an Apache or
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
    help="Write the result to OUT (atomically; - or /dev/stdout: stdout) and leave FILE alone.",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if something would change.")
@click.option(
    "--diff",
    is_flag=True,
    help="Write nothing; print a unified diff (exit 1 if something would change).",
)
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
@quiet_option
@json_option(
    'Report on stdout as one JSON object: {"files": [{"path", "state", "changes", '
    '"diff"?}], "warnings", "changed"}; not with stdin.'
)
@detection_options
def rewrite(
    *,
    options: Options,
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
    as_json: bool,
) -> int:
    """Point the proxy targets in FILE at gateway:PORT, in place, changing nothing else.

    Rewrites nginx (proxy_pass, grpc_pass, fastcgi/uwsgi/scgi/memcached_pass,
    upstream servers), HAProxy (server, server-template), Apache (ProxyPass,
    ProxyPassReverse, ProxyPassMatch, BalancerMember, RewriteRule [P]) and
    Caddy (reverse_proxy, to). Comments, variables, unix sockets and every
    other byte stay as they were. The first in-place run keeps the original
    under --state-dir (/var/lib/hostgw/pristine/PATH) and later runs start
    from it, so a new gateway address after a restart is picked up. Without
    FILE (or with -), reads stdin and writes stdout. --check and --diff write
    nothing and exit 1 when a file would change; -q drops the summary of
    changes and of files written.
    """
    from hostgw.detection import Once
    from hostgw.rewriting.apply import mappings_from, run, run_text, unified_diff
    from hostgw.rewriting.files import encode, read_stdin

    gateway = Once(options, v6=False).host
    mappings = mappings_from(maps, os.environ)
    if not files or files == ("-",):
        if as_json:
            from hostgw.errors import UsageError

            raise UsageError(
                "--json reports on stdout, where the rewritten config would go",
                hint="give FILE (in place, or with -o OUT), or drop --json",
            )
        text = read_stdin(sys.stdin.buffer)
        the_plan = run_text(
            text, mappings, fmt=fmt, strict=strict, validate=validate, gateway=gateway
        )
        _report(the_plan, quiet=quiet)
        result = the_plan.files[0].result
        if diff:
            click.echo(unified_diff(the_plan), nl=False)
        elif not check:
            sys.stdout.buffer.write(encode(result.text))
            sys.stdout.flush()
        return EXIT_ERROR if (check or diff) and result.text != text else 0
    out = Path(output) if output else None
    the_plan = run(
        [Path(f) for f in files],
        mappings,
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
    write = not (check or diff)
    changed = [f for f in the_plan.files if f.changed]
    if as_json:
        emit_json(_as_json(the_plan, out, with_diff=diff, written=write))
    else:
        _report(the_plan, quiet=quiet, wrote=[str(p) for p in the_plan.written])
        if diff:
            click.echo(unified_diff(the_plan, out), nl=False)
    return EXIT_ERROR if changed and not write else 0


def _as_json(the_plan: Plan, out: Path | None, *, with_diff: bool, written: bool) -> object:
    """The ``--json`` report: each file with its state and changes, then the warnings."""
    from hostgw.fileio import unified_diff

    files = []
    for f in the_plan.files:
        state = "unchanged"
        if f.changed:
            state = "changed" if written else "would change"
        entry: dict[str, object] = {
            "path": str(out or f.path),
            "state": state,
            "changes": [str(c) for c in f.result.changes],
        }
        if with_diff and f.changed:
            entry["diff"] = unified_diff(f.current, f.result.text, str(f.path), str(out or f.path))
        files.append(entry)
    changed = sum(f.changed for f in the_plan.files)
    return {"files": files, "warnings": the_plan.warning_lines(), "changed": changed}
