"""The detection options every command shares, defined once.

Decorate a click command with :func:`detection_options`; its callback then
receives one ``detection`` argument, a :class:`DetectionArgs`, instead of the
separate options, and passes ``**detection.kwargs()`` to
:func:`hostgw.detect` or :func:`hostgw.gateway_env`::

    @click.command()
    @detection_options
    def render(detection: DetectionArgs, ...) -> None:
        values = gateway_env(**detection.kwargs())
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hostgw._record import Record
from hostgw.strategies import NAMES

R = TypeVar("R")


class DetectionArgs(Record):
    """The shared detection options as given on the command line.

    ``None`` (or empty) means "not given": the library then falls back to
    ``HOSTGW_STRATEGIES``, ``HOSTGW_NAMES`` and ``HOSTGW_K8S_VAR``.
    """

    __slots__ = (
        "family",
        "k8s_var",
        "names",
        "port",
        "probe_timeout",
        "root",
        "strategies",
        "timeout",
    )
    strategies: tuple[str, ...] | None
    family: int | None
    names: tuple[str, ...] | None
    k8s_var: str | None
    timeout: float
    port: int | None
    probe_timeout: float
    root: str

    def __init__(
        self,
        *,
        strategies: tuple[str, ...] | None = None,
        family: int | None = None,
        names: tuple[str, ...] | None = None,
        k8s_var: str | None = None,
        timeout: float = 1.0,
        port: int | None = None,
        probe_timeout: float = 0.5,
        root: str = "/",
    ) -> None:
        self._init(
            strategies=strategies,
            family=family,
            names=names,
            k8s_var=k8s_var,
            timeout=timeout,
            port=port,
            probe_timeout=probe_timeout,
            root=root,
        )

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :func:`hostgw.detect` / :func:`hostgw.gateway_env`."""
        return self.fields()


def _seconds(
    flag: str, default: float, text: str
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """An option taking a duration: zero or more SECONDS, default shown in --help."""
    return click.option(
        flag,
        type=click.FloatRange(min=0),
        default=default,
        show_default=True,
        metavar="SECONDS",
        help=text,
    )


_OPTIONS = (
    click.option(
        "--strategy",
        "strategy",
        multiple=True,
        metavar="NAME",
        type=click.Choice(NAMES),
        help="Strategy to try; repeat to choose several, in order "
        f"(env: HOSTGW_STRATEGIES=a,b; default: {', '.join(NAMES)}).",
    ),
    click.option(
        "--name",
        "name",
        multiple=True,
        metavar="HOST",
        help="Hostname for the hosts and dns strategies; repeatable "
        "(env: HOSTGW_NAMES=a,b; default: host.docker.internal,host.containers.internal).",
    ),
    click.option("-4", "ipv4", is_flag=True, help="IPv4 only."),
    click.option("-6", "ipv6", is_flag=True, help="IPv6 only (default: IPv4, else IPv6)."),
    _seconds("--timeout", 1.0, "Total time for DNS lookups."),
    click.option(
        "--port",
        type=click.IntRange(1, 65535),
        metavar="PORT",
        help="Probe every candidate with a TCP connect to PORT; the first in order of "
        "trust that accepts wins.",
    ),
    _seconds("--probe-timeout", 0.5, "Time bound of each --port connect (they run concurrently)."),
    click.option(
        "--root",
        default="/",
        show_default=True,
        metavar="DIR",
        type=click.Path(exists=True, file_okay=False),
        help="Read proc/, etc/ and sys/ under DIR (a copied snapshot); dns, netlink "
        "and netifaces then run only if named with --strategy.",
    ),
    click.option(
        "--k8s-var",
        metavar="VAR",
        help="Variable holding the node address (env: HOSTGW_K8S_VAR; default: HOST_IP).",
    ),
)


def detection_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the shared detection options to a click command.

    The callback gets ``detection: DetectionArgs`` in their place.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        ipv4, ipv6 = kwargs.pop("ipv4"), kwargs.pop("ipv6")
        if ipv4 and ipv6:
            raise click.UsageError("-4 and -6 exclude each other; give one, or neither")
        detection = DetectionArgs(
            strategies=tuple(kwargs.pop("strategy")) or None,
            family=4 if ipv4 else 6 if ipv6 else None,
            names=tuple(kwargs.pop("name")) or None,
            k8s_var=kwargs.pop("k8s_var"),
            timeout=kwargs.pop("timeout"),
            port=kwargs.pop("port"),
            probe_timeout=kwargs.pop("probe_timeout"),
            root=kwargs.pop("root"),
        )
        return fn(*args, detection=detection, **kwargs)

    decorated: Callable[..., R] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated
