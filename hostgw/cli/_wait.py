"""``hostgw wait``: block until ports and HTTP endpoints answer; ``exec --wait``."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import click

from hostgw import wait as _wait

R = TypeVar("R")


@dataclass(frozen=True)
class WaitArgs:
    """The wait options as given: the targets and the timing."""

    targets: tuple[str, ...] = ()
    timeout: float = _wait.DEFAULT_TIMEOUT
    interval: float = _wait.DEFAULT_INTERVAL
    attempt_timeout: float = _wait.DEFAULT_ATTEMPT_TIMEOUT
    insecure: bool = False


# (option, WaitArgs field, type, default, help) of the options that take seconds
_SECONDS = (
    (
        "timeout",
        "timeout",
        click.FloatRange(min=0, min_open=True),
        _wait.DEFAULT_TIMEOUT,
        "Total time for all targets together.",
    ),
    (
        "interval",
        "interval",
        click.FloatRange(min=0.01),
        _wait.DEFAULT_INTERVAL,
        "Pause between rounds of checks.",
    ),
    (
        "attempt-timeout",
        "attempt_timeout",
        click.FloatRange(min=0, min_open=True),
        _wait.DEFAULT_ATTEMPT_TIMEOUT,
        "Longest one check may take (also bounded by the time left).",
    ),
)


def wait_options(prefix: str = "") -> Callable[[Callable[..., R]], Callable[..., R]]:
    """The timing options of ``wait``; the callback gets ``wait_args: WaitArgs``.

    ``prefix`` names them where they live beside other options
    (``exec --wait-timeout``); ``wait_args.targets`` is left empty.
    """

    def param(option: str) -> str:
        return f"{prefix}{option}".replace("-", "_")

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            given = {field: kwargs.pop(param(option)) for option, field, *_ in _SECONDS}
            wait_args = WaitArgs(insecure=kwargs.pop(param("insecure")), **given)
            return fn(*args, wait_args=wait_args, **kwargs)

        options = [
            click.option(
                f"--{prefix}{option}",
                param(option),
                type=kind,
                default=default,
                show_default=True,
                metavar="SECONDS",
                help=text,
            )
            for option, _, kind, default, text in _SECONDS
        ]
        options.append(
            click.option(
                f"--{prefix}insecure",
                param("insecure"),
                is_flag=True,
                help="https:// targets: accept any certificate.",
            )
        )
        decorated: Callable[..., R] = wrapper
        for option in reversed(options):
            decorated = option(decorated)
        return decorated

    return decorate


def _progress(r: _wait.Round) -> None:
    click.echo(f"hostgw wait: {r.describe()}", err=True)


def _wait_for(
    targets: Sequence[_wait.Target],
    args: WaitArgs,
    *,
    quiet: bool,
    gateway: Callable[[], str] | None = None,
) -> None:
    _wait.wait_for(
        targets,
        timeout=args.timeout,
        interval=args.interval,
        attempt_timeout=args.attempt_timeout,
        insecure=args.insecure,
        gateway=gateway,
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
def wait(*, targets: tuple[str, ...], wait_args: WaitArgs, quiet: bool) -> None:
    """Wait until every TARGET answers: TCP connects, HTTP returns 2xx/3xx.

    Checks run concurrently, in rounds; each round prints one progress line
    on stderr. A target that answered once is not checked again.
    """
    _wait_for(_wait.parse_targets(targets), wait_args, quiet=quiet)


# --- hostgw exec --wait ------------------------------------------------------


def exec_wait_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add ``--wait TARGET`` (repeatable) and ``--wait-timeout`` etc. to ``exec``.

    The callback gets one ``wait_args: WaitArgs`` in their place.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        targets = tuple(kwargs.pop("wait"))
        kwargs["wait_args"] = dataclasses.replace(kwargs["wait_args"], targets=targets)
        return fn(*args, **kwargs)

    return click.option(
        "--wait",
        "wait",
        multiple=True,
        metavar="TARGET",
        help="Before the command runs, wait until TARGET answers (as hostgw wait: PORT, "
        "HOST:PORT, tcp://..., http://...); repeatable. PORT is on the detected host.",
    )(wait_options(prefix="wait-")(wrapper))


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
        _wait_for(parsed, args, quiet=quiet, gateway=lambda: state.own()["HOSTGW_IP"])

    return step
