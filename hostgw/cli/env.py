"""``hostgw env``: the ``HOSTGW_*`` variables, for a shell, an env file or JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from hostgw.cli.options import Command, detection_options, emit_json
from hostgw.detection import Options, walk
from hostgw.envformat import FORMATS
from hostgw.errors import HostgwError


def _format_in(args: Sequence[str]) -> str:
    """The ``--format`` on a command line click could not parse (default ``sh``)."""
    fmt = "json" if "--json" in args else "sh"
    for index, arg in enumerate(args):
        value = arg.partition("=")[2] if arg.startswith("--format=") else None
        if arg == "--format" and index + 1 < len(args):
            value = args[index + 1]
        if value in FORMATS:
            fmt = value
    return fmt


def _failed(fmt: str, failure: dict[str, Any]) -> None:
    """Say on stdout, in ``fmt``, that there is nothing to export.

    sh: ``(exit N)``, so that ``eval "$(hostgw env)"`` fails with N and a
    ``set -e`` script stops there (a subshell's exit: an interactive shell
    that evals it stays open); json: the error object; dotenv: nothing, an env
    file cannot fail.
    """
    if fmt == "sh":
        click.echo(f"(exit {failure['exit']})  # hostgw env: no HOSTGW_IP; why is on stderr")
    elif fmt == "json":
        emit_json(failure)


class _FailClosed(Command):
    """``env``: whatever fails, stdout still says so in the format asked for."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        given = list(args)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.ClickException as exc:
            status = exc.exit_code or 2
            _failed(
                _format_in(given), {"error": exc.format_message(), "hint": None, "exit": status}
            )
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (HostgwError, click.ClickException) as exc:
            from hostgw.cli import error_json

            fmt = "json" if ctx.params.get("as_json") else ctx.params.get("fmt", "sh")
            if isinstance(exc, HostgwError):
                failure = error_json(exc, exc.exit_code)
            else:
                failure = {"error": exc.format_message(), "hint": None, "exit": exc.exit_code}
            _failed(fmt, failure)
            raise


@click.command("env", cls=_FailClosed)
@detection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="sh",
    show_default=True,
    help="sh: export lines for eval; dotenv: NAME=value for --env-file; json: an object.",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def env(options: Options, fmt: str, as_json: bool) -> None:
    """Print HOSTGW_IP, HOSTGW_IP6 (where one exists) and HOSTGW_HOST.

    HOSTGW_IP is the answer of `hostgw ip` (IPv4, else IPv6); HOSTGW_IP6 the
    IPv6 answer where one exists; HOSTGW_HOST is HOSTGW_IP ready for
    host:port (IPv6 in brackets). Without an answer it exits 3 (4 with
    --port) and fails closed: sh prints `(exit 3)`, so that
    `eval "$(hostgw env)"` fails too and a `set -e` script stops; json
    prints {"error", "hint", "exit", "attempts"}; dotenv prints nothing.

    \b
    Examples:
      eval "$(hostgw env)"                      # in an entrypoint (set -e stops on failure)
      eval "$(hostgw env)" || exit              # the same without set -e
      hostgw env --format dotenv > hostgw.env   # for docker run --env-file
    """
    from hostgw.envformat import format_env

    values = walk(options, v6=True).env()
    keys = ("HOSTGW_IP", "HOSTGW_IP6", "HOSTGW_HOST")
    ordered: dict[str, str] = {k: values[k] for k in keys if k in values}
    if as_json or fmt == "json":
        emit_json(ordered, indent=2)
    else:
        click.echo(format_env(ordered, fmt), nl=False)
