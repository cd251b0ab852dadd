"""``hostgw wait``: block until ports and HTTP endpoints answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hostgw.cli.options import wait_options

if TYPE_CHECKING:
    from hostgw.runtime.wait import WaitSettings


def _progress(message: str) -> None:
    click.echo(f"hostgw wait: {message}", err=True)


@click.command(
    "wait",
    epilog="""\b
Targets:
  8000                    TCP on the detected host address
  backend:8000            TCP on a name or IPv4 address
  [fd00::1]:8000          TCP on an IPv6 address
  tcp://10.0.0.5:8000     the same, spelled out
  http://:8000/health     HTTP GET on the detected host; 2xx or 3xx counts
  https://api.local/ping  HTTPS (certificate checked unless --insecure)

Exit 0 when every target answered, 8 when time ran out (the message names
each target that never answered and why), 2 for a malformed target.""",
)
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@wait_options()
@click.option("-q", "--quiet", is_flag=True, help="No progress lines on stderr.")
def wait(*, targets: tuple[str, ...], waits: WaitSettings, quiet: bool) -> None:
    """Wait until every TARGET answers: TCP connects, HTTP returns 2xx/3xx.

    Checks run concurrently, in rounds; each round prints one progress line
    on stderr. A target that answered once is not checked again.
    """
    from hostgw.runtime.wait import parse_targets, wait_with

    wait_with(parse_targets(targets), waits, progress=None if quiet else _progress)
