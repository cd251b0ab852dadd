"""``hostgw wait``: block until ports and HTTP endpoints answer."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click

from hostgw.cli.options import (
    Command,
    detection_options,
    emit_json,
    json_option,
    quiet,
    wait_options,
)

if TYPE_CHECKING:
    from hostgw.detection import Options
    from hostgw.runtime.wait import WaitSettings


def _progress(message: str) -> None:
    click.echo(f"hostgw wait: {message}", err=True)


@click.command(
    "wait",
    cls=Command,
    epilog="""\b
Targets:
  8000                    TCP on the detected host address
  backend:8000            TCP on a name or IPv4 address
  [fd00::1]:8000          TCP on an IPv6 address
  tcp://10.0.0.5:8000     the same, spelled out
  http://:8000/health     HTTP GET on the detected host; 2xx or 3xx counts
  https://api.local/ping  HTTPS (certificate checked unless --insecure)

Exit 0 when every target answered, 8 when time ran out (the message names
each target that never answered and why), 2 for a malformed target, 3 when a
bare PORT needs the host and detection finds none.""",
)
@click.argument("targets", nargs=-1, required=True, metavar="TARGET...")
@wait_options()
@functools.partial(detection_options, dns_alias=False)
@quiet("No progress lines on stderr.")
@json_option(
    'Report on stdout as one JSON object: {"targets", "elapsed"}; on a timeout, '
    'the error with "pending".'
)
def wait(
    *, targets: tuple[str, ...], waits: WaitSettings, quiet: bool, as_json: bool, options: Options
) -> None:
    """Wait until every TARGET answers: TCP connects, HTTP returns 2xx/3xx.

    Checks run concurrently, in rounds; each round prints one progress line
    on stderr (-q: none). A target that answered once is not checked again.
    A bare PORT is on the host's address, found with the detection options
    (as hostgw ip finds it).
    """
    from hostgw.detection import Once
    from hostgw.runtime.wait import parse_targets, wait_stoppable

    parsed = parse_targets(targets)
    once = Once(options)
    elapsed = wait_stoppable(
        parsed, waits, progress=None if quiet else _progress, gateway=once.address
    )
    if as_json:
        host = once.address() if any(t.host is None for t in parsed) else None
        emit_json({"targets": [t.label(host) for t in parsed], "elapsed": round(elapsed, 3)})
