"""Mappings: which ``host[:port]`` targets go where (pure).

``backend=18000``                 host ``backend``, any port -> gateway:18000
``backend:8000=18000``            only port 8000            -> gateway:18000
``backend:8000=10.0.0.5:18000``   an explicit target instead of the gateway
``backend=[fd00::5]:18000``       IPv6 targets are bracketed

A rule for one port wins over a rule for any port. Host names match without
regard to case, and only whole names: ``backend`` never matches ``backend2``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hostgw.addr import family_of, host_problem, is_host_syntax, is_hostname, parse_port
from hostgw.errors import UsageError
from hostgw.record import Record

_MAP_HINT = (
    "write HOST=PORT, HOST:PORT=PORT or HOST:PORT=ADDRESS:PORT "
    "(IPv6 in brackets: [fd00::5]:18000), e.g. --map backend:8000=18000"
)


class Rule(Record):
    """One mapping: ``host`` (and ``port``, or None for any) -> target.

    ``to_host`` is None when the target is the detected gateway; otherwise it
    is the explicit address as it goes before ``:port`` (IPv6 bracketed).
    """

    host: str
    port: int | None
    to_host: str | None
    to_port: int
    spec: str

    def target(self, gateway: str) -> str:
        """``host:port`` this rule sends to, given the gateway's ``host`` form."""
        return f"{self.to_host or gateway}:{self.to_port}"


class Mappings:
    """An ordered set of :class:`Rule`, looked up by ``(host, port)``."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = ()
        self._exact: dict[tuple[str, int], Rule] = {}
        self._any: dict[str, Rule] = {}
        for rule in rules:
            self._add(rule)

    def _add(self, rule: Rule) -> None:
        key = rule.host.lower()
        if rule.port is None:
            old = self._any.get(key)
            if old is None:
                self._any[key] = rule
        else:
            old = self._exact.get((key, rule.port))
            if old is None:
                self._exact[(key, rule.port)] = rule
        if old is not None:
            if (old.to_host, old.to_port) != (rule.to_host, rule.to_port):
                raise UsageError(
                    f"conflicting mappings {old.spec!r} and {rule.spec!r}",
                    hint="give each HOST or HOST:PORT one target",
                )
            return
        self.rules = (*self.rules, rule)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __repr__(self) -> str:
        return f"Mappings({[r.spec for r in self.rules]!r})"

    @property
    def hosts(self) -> frozenset[str]:
        """Every mapped host name, lower-cased."""
        return frozenset(r.host.lower() for r in self.rules)

    def lookup(self, host: str, port: int | None) -> Rule | None:
        """The rule for ``host`` on ``port`` (None: port unknown), or None."""
        key = host.lower()
        if port is not None:
            rule = self._exact.get((key, port))
            if rule is not None:
                return rule
        return self._any.get(key)


def parse_rule(spec: str) -> Rule:
    """Parse one ``LHS=RHS`` mapping; :class:`UsageError` names what is wrong.

    Two habits get the right form in the hint: a URL (``http://backend:8000``)
    where a host is meant, and the sides reversed (``18000=backend:8000``, in
    the order of ``docker run -p HOST:CONTAINER``).
    """
    text = spec.strip()
    left, eq, right = text.partition("=")
    if not eq:
        raise _bad(spec, "no '='")
    _habits(spec, left.strip(), right.strip())
    host, port = _split_host_port(spec, left.strip(), "source", port_required=False)
    if host.startswith("["):
        host = host[1:-1]
    right = right.strip()
    if right.isdigit():  # any digits: a port, refused unless ASCII
        return Rule(host, port, None, _port(spec, right), text)
    to_host, to_port = _split_host_port(spec, right, "target", port_required=True)
    return Rule(host, port, to_host, to_port or 0, text)


def parse_mappings(specs: Iterable[str] = (), env_value: str | None = None) -> Mappings:
    """Rules from ``--map`` values, then from ``HOSTGW_MAP`` (comma separated)."""
    items = list(specs)
    if env_value:
        items.extend(part for part in env_value.replace("\n", ",").split(",") if part.strip())
    return Mappings(parse_rule(item) for item in items)


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/?#]*)")


def _habits(spec: str, left: str, right: str) -> None:
    """Refuse a URL-shaped or reversed mapping, naming the form meant."""
    url_left, url_right = _URL.match(left), _URL.match(right)
    if url_left or url_right:
        fixed = "=".join(
            found.group(1) if found else side
            for found, side in ((url_left, left), (url_right, right))
        )
        raise UsageError(
            f"bad mapping {spec!r}: a mapping names HOST[:PORT], not a URL",
            hint=f"drop the scheme and path: --map {fixed}",
        )
    if left.isascii() and left.isdigit() and not right.isdigit():
        raise UsageError(
            f"bad mapping {spec!r}: the source is a bare port, so the sides look reversed "
            "(docker run -p writes HOST:CONTAINER)",
            hint=f"the config's target goes first, the port published on the host last: "
            f"--map {right}={left}",
        )


def _split_host_port(
    spec: str, text: str, side: str, *, port_required: bool
) -> tuple[str, int | None]:
    if not text:
        raise _bad(spec, f"empty {side}")
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise _bad(spec, f"unclosed '[' in {side} {text!r}")
        host, rest = text[: end + 1], text[end + 1 :]
        if family_of(host[1:-1]) != 6:
            raise _bad(spec, f"{host!r} is not an IPv6 address")
        if rest and not rest.startswith(":"):
            raise _bad(spec, f"unexpected {rest!r} after {host!r}")
        port_text = rest[1:] if rest else None
    else:
        if text.count(":") > 1:
            raise _bad(spec, f"{side} {text!r} looks like an IPv6 address: put it in brackets")
        host, colon, port_text_ = text.partition(":")
        port_text = port_text_ if colon else None
        # A source is matched as the config writes it; a target is written, and resolved.
        if side == "source" and family_of(host) is None and not is_host_syntax(host):
            raise _bad(spec, f"{side} host {host!r} is not a host name or address")
        if side == "target" and family_of(host) is None and not is_hostname(host):
            raise _bad(spec, f"{side} host {host!r} is {host_problem(host)}")
    if port_text is None:
        if port_required:
            raise _bad(spec, f"{side} {text!r} has no port")
        return host, None
    return host, _port(spec, port_text)


def _port(spec: str, text: str) -> int:
    port = parse_port(text)
    if port is None:
        raise _bad(spec, f"port {text!r} is not a number from 1 to 65535")
    return port


def _bad(spec: str, why: str) -> UsageError:
    return UsageError(f"bad mapping {spec!r}: {why}", hint=_MAP_HINT)
