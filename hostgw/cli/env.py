"""``hostgw env``: the ``HOSTGW_*`` variables, for a shell, an env file or JSON."""

from __future__ import annotations

import click

from hostgw.cli.options import Command, detection_options
from hostgw.detection import Options, walk


@click.command("env", cls=Command)
@detection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["sh", "dotenv", "json"]),
    default="sh",
    show_default=True,
    help="sh: export lines for eval; dotenv: NAME=value for --env-file; json: an object.",
)
def env(options: Options, fmt: str) -> None:
    """Print HOSTGW_IP, HOSTGW_IP6 (where one exists) and HOSTGW_HOST.

    HOSTGW_IP is the answer of `hostgw ip` (IPv4, else IPv6); HOSTGW_IP6 the
    IPv6 answer where one exists; HOSTGW_HOST is HOSTGW_IP ready for
    host:port (IPv6 in brackets). Nothing is printed when there is no answer.

    \b
    Examples:
      eval "$(hostgw env)"                      # in an entrypoint
      hostgw env --format dotenv > hostgw.env   # for docker run --env-file
    """
    from hostgw.envformat import format_env

    values = walk(options, v6=True).env()
    keys = ("HOSTGW_IP", "HOSTGW_IP6", "HOSTGW_HOST")
    ordered: dict[str, str] = {k: values[k] for k in keys if k in values}
    click.echo(format_env(ordered, fmt), nl=False)
