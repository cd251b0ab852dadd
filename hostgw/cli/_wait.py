"""``hostgw wait``: block until ports and HTTP endpoints answer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click

from hostgw import wait as _wait


def wait_options(prefix: str = "") -> Callable[[Callable[..., object]], Callable[..., object]]:
    """The timing options of ``wait``, shared with ``exec --wait``.

    ``prefix`` names them differently where they live beside other options
    (``exec --wait-timeout``); the parameter names stay the same.
    """

    def decorate(fn: Callable[..., object]) -> Callable[..., object]:
        for option in reversed(
            [
                click.option(
                    f"--{prefix}timeout",
                    "timeout",
                    type=click.FloatRange(min=0, min_open=True),
                    default=_wait.DEFAULT_TIMEOUT,
                    show_default=True,
                    metavar="SECONDS",
                    help="Total time for all targets together.",
                ),
                click.option(
                    f"--{prefix}interval",
                    "interval",
                    type=click.FloatRange(min=0.01),
                    default=_wait.DEFAULT_INTERVAL,
                    show_default=True,
                    metavar="SECONDS",
                    help="Pause between rounds of checks.",
                ),
                click.option(
                    f"--{prefix}attempt-timeout",
                    "attempt_timeout",
                    type=click.FloatRange(min=0, min_open=True),
                    default=_wait.DEFAULT_ATTEMPT_TIMEOUT,
                    show_default=True,
                    metavar="SECONDS",
                    help="Longest one check may take (also bounded by the time left).",
                ),
                click.option(
                    f"--{prefix}insecure" if prefix else "--insecure",
                    "insecure",
                    is_flag=True,
                    help="https:// targets: accept any certificate.",
                ),
            ]
        ):
            fn = option(fn)
        return fn

    return decorate


def run_wait(
    targets: Sequence[str],
    *,
    timeout: float,
    interval: float,
    attempt_timeout: float,
    insecure: bool,
    quiet: bool,
) -> None:
    """Parse every target first (a bad one is a usage error), then wait for them."""
    parsed = _wait.parse_targets(targets)

    def progress(r: _wait.Round) -> None:
        click.echo(f"hostgw wait: {r.describe()}", err=True)

    _wait.wait_for(
        parsed,
        timeout=timeout,
        interval=interval,
        attempt_timeout=attempt_timeout,
        insecure=insecure,
        progress=None if quiet else progress,
    )


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
def wait(
    *,
    targets: tuple[str, ...],
    timeout: float,
    interval: float,
    attempt_timeout: float,
    insecure: bool,
    quiet: bool,
) -> None:
    """Wait until every TARGET answers: TCP connects, HTTP returns 2xx/3xx.

    Checks run concurrently, in rounds; each round prints one progress line
    on stderr. A target that answered once is not checked again.
    """
    run_wait(
        targets,
        timeout=timeout,
        interval=interval,
        attempt_timeout=attempt_timeout,
        insecure=insecure,
        quiet=quiet,
    )
