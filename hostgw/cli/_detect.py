"""``hostgw ip``, ``hostgw doctor`` and ``hostgw env``: detection on the command line."""

from __future__ import annotations

import click

from hostgw.cli._options import DetectionArgs, detection_options
from hostgw.detect import detect, gateway_env
from hostgw.errors import GatewayNotFound


@click.command()
@detection_options
@click.option("--bracket", is_flag=True, help="Print an IPv6 address as [addr], for host:port.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print {"address", "family", "strategy", "attempts": [...]} as JSON.',
)
def ip(detection: DetectionArgs, bracket: bool, as_json: bool) -> None:
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
    found = detect(**detection.kwargs())
    if as_json:
        import json

        click.echo(json.dumps(found.as_dict()))
    else:
        click.echo(found.host if bracket else found.address)


@click.command()
@detection_options
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def doctor(detection: DetectionArgs, as_json: bool) -> None:
    """Explain the detection: every strategy, what it saw, the winner and why.

    Runs every strategy (even after one answered) and shows the evidence:
    files and lines, routes, variables, and answers rejected as known wrong.
    Exits like `hostgw ip`: 3 when there is no answer.
    """
    from hostgw.detect import resolve_options
    from hostgw.report import doctor_dict, doctor_text

    opts = resolve_options(**detection.kwargs())
    error: GatewayNotFound | None = None
    try:
        found = detect(**detection.kwargs(), exhaustive=True)
        attempts = found.attempts
    except GatewayNotFound as exc:
        found, error, attempts = None, exc, exc.attempts
    if as_json:
        import json

        report = doctor_dict(opts.order, opts.family, attempts, found, error)
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(doctor_text(opts.order, opts.family, attempts, found, error), nl=False)
    if error is not None:
        # The report above already lists every attempt: keep stderr short.
        raise type(error)(
            "no answer; see the report above", attempts=error.attempts, hint=error.hint
        )


@click.command("env")
@detection_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["sh", "dotenv", "json"]),
    default="sh",
    show_default=True,
    help="sh: export lines for eval; dotenv: NAME=value for --env-file; json: an object.",
)
def env(detection: DetectionArgs, fmt: str) -> None:
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

    values = gateway_env(**detection.kwargs())
    keys = ("HOSTGW_IP", "HOSTGW_IP6", "HOSTGW_HOST")
    ordered: dict[str, str] = {k: values[k] for k in keys if k in values}
    click.echo(format_env(ordered, fmt), nl=False)
