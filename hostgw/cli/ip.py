"""``hostgw ip``: the container host's address, alone on one line."""

from __future__ import annotations

import click

from hostgw.cli.options import Command, detection_options, emit_json
from hostgw.detection import Options, walk


@click.command(cls=Command)
@detection_options
@click.option("--bracket", is_flag=True, help="Print an IPv6 address as [addr], for host:port.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print the answer as JSON: {"address", "family", "host", "strategy", "detail", '
    '"why", "attempts", "probes"}; on failure {"error", "hint", "exit", "attempts"}.',
)
def ip(options: Options, bracket: bool, as_json: bool) -> None:
    """Print the container host's address, alone on one line.

    Strategies are tried in order of trust (env, hosts, k8s, host-network,
    dns, route, netlink, netifaces) and the first answer wins. Exit 3 when no
    strategy finds the host (nothing is printed), 4 when --port is given and
    no candidate accepts.

    \b
    Examples:
      hostgw ip                      # 172.17.0.1
      hostgw ip -6 --bracket         # [fd00::1]
      hostgw ip --port 8080          # the first candidate that accepts on 8080
    """
    found = walk(options).detection
    if as_json:
        emit_json(found.as_dict())
    else:
        click.echo(found.host if bracket else found.address)
