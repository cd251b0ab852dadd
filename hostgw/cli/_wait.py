"""``hostgw wait``: block until ports and HTTP endpoints answer; ``exec --wait``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import click

from hostgw import wait as _wait

R = TypeVar("R")


def wait_options(prefix: str = "") -> Callable[[Callable[..., R]], Callable[..., R]]:
    """The timing options of ``wait``, shared with ``exec --wait``.

    ``prefix`` names them differently where they live beside other options
    (``exec --wait-timeout``, parameter ``wait_timeout``).
    """

    def name(option: str) -> str:
        return f"{prefix}{option}".replace("-", "_")

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        for option in reversed(
            [
                click.option(
                    f"--{prefix}timeout",
                    name("timeout"),
                    type=click.FloatRange(min=0, min_open=True),
                    default=_wait.DEFAULT_TIMEOUT,
                    show_default=True,
                    metavar="SECONDS",
                    help="Total time for all targets together.",
                ),
                click.option(
                    f"--{prefix}interval",
                    name("interval"),
                    type=click.FloatRange(min=0.01),
                    default=_wait.DEFAULT_INTERVAL,
                    show_default=True,
                    metavar="SECONDS",
                    help="Pause between rounds of checks.",
                ),
                click.option(
                    f"--{prefix}attempt-timeout",
                    name("attempt-timeout"),
                    type=click.FloatRange(min=0, min_open=True),
                    default=_wait.DEFAULT_ATTEMPT_TIMEOUT,
                    show_default=True,
                    metavar="SECONDS",
                    help="Longest one check may take (also bounded by the time left).",
                ),
                click.option(
                    f"--{prefix}insecure",
                    name("insecure"),
                    is_flag=True,
                    help="https:// targets: accept any certificate.",
                ),
            ]
        ):
            fn = option(fn)
        return fn

    return decorate


def _progress(r: _wait.Round) -> None:
    click.echo(f"hostgw wait: {r.describe()}", err=True)


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
    _wait.wait_for(
        parsed,
        timeout=timeout,
        interval=interval,
        attempt_timeout=attempt_timeout,
        insecure=insecure,
        progress=None if quiet else _progress,
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


# --- hostgw exec --wait ------------------------------------------------------


@dataclass(frozen=True)
class WaitArgs:
    """``exec``'s wait options: the targets and the timing, as given."""

    targets: tuple[str, ...] = ()
    timeout: float = _wait.DEFAULT_TIMEOUT
    interval: float = _wait.DEFAULT_INTERVAL
    attempt_timeout: float = _wait.DEFAULT_ATTEMPT_TIMEOUT
    insecure: bool = False


def exec_wait_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add ``--wait TARGET`` (repeatable) and ``--wait-timeout`` etc. to ``exec``.

    The callback gets one ``wait_args: WaitArgs`` in their place.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        wait_args = WaitArgs(
            targets=tuple(kwargs.pop("wait")),
            timeout=kwargs.pop("wait_timeout"),
            interval=kwargs.pop("wait_interval"),
            attempt_timeout=kwargs.pop("wait_attempt_timeout"),
            insecure=kwargs.pop("wait_insecure"),
        )
        return fn(*args, wait_args=wait_args, **kwargs)

    decorated = wait_options(prefix="wait-")(wrapper)
    return click.option(
        "--wait", "wait", multiple=True, metavar="TARGET",
        help="Before the command runs, wait until TARGET answers (as hostgw wait: PORT, "
        "HOST:PORT, tcp://..., http://...); repeatable. PORT is on the detected host.",
    )(decorated)


class _Detected(Protocol):
    """The part of ``exec``'s shared state a wait needs: the one detection."""

    @property
    def own(self) -> Callable[[], Mapping[str, str]]:
        """The ``HOSTGW_*`` values, detected once."""


def wait_step(args: WaitArgs, *, quiet: bool = False) -> Callable[[_Detected], None] | None:
    """The ``exec`` step that waits (None without --wait).

    Targets are parsed now, so a bad one is a usage error before anything
    runs. A bare PORT uses the address the templates got (``HOSTGW_IP``).
    """
    if not args.targets:
        return None
    parsed = _wait.parse_targets(args.targets)

    def step(state: _Detected) -> None:
        _wait.wait_for(
            parsed,
            timeout=args.timeout,
            interval=args.interval,
            attempt_timeout=args.attempt_timeout,
            insecure=args.insecure,
            gateway=lambda: state.own()["HOSTGW_IP"],
            progress=None if quiet else _progress,
        )

    return step
