"""The strategy table: one row per strategy, in the default order of trust.

Each row carries every fact about its strategy: the function, what its
answer can change with (for a watcher), whether it asks the live machine
(and so does not run on a ``--root`` snapshot unless named), and whether its
answer ends the search.
"""

from __future__ import annotations

from collections.abc import Callable

from hostgw.detection import strategies as s
from hostgw.detection.evidence import EVERYTHING, HOSTS, NETLINK, Context, Strategy
from hostgw.record import Record


class Row(Record):
    """One strategy and its facts.

    ``asks`` is empty for a strategy that reads only files under the root;
    otherwise it says what it would ask (shown when a snapshot skips it).
    ``final``: its answer is the user's explicit word, and nothing else is
    asked after it. ``start``, for a strategy that waits on others (DNS),
    begins that work in the background: the walk then runs the rows below it
    before ``run`` waits (see :mod:`hostgw.detection.walk`).
    """

    name: str
    run: Strategy
    watch: frozenset[str]
    asks: str = ""
    final: bool = False
    start: Callable[[Context], object] | None = None


_NOTHING: frozenset[str] = frozenset()

TABLE: tuple[Row, ...] = (
    Row("env", s.env, _NOTHING, final=True),
    Row("hosts", s.hosts, frozenset({HOSTS})),
    Row("k8s", s.k8s, _NOTHING),
    Row("host-network", s.host_network, frozenset({NETLINK})),
    Row("dns", s.dns, EVERYTHING, asks="DNS would ask this machine", start=s.dns_lookups),
    Row("route", s.route, frozenset({NETLINK})),
    Row("netlink", s.netlink, frozenset({NETLINK}), asks="netlink would ask this kernel"),
    Row("netifaces", s.netifaces, frozenset({NETLINK}), asks="netifaces would ask this kernel"),
)
"""Every strategy, in the default order of trust."""

ROWS: dict[str, Row] = {row.name: row for row in TABLE}
NAMES: tuple[str, ...] = tuple(ROWS)
