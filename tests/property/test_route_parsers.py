"""Properties of the route and hosts parsers: total on any input, faithful on valid input."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hostgw.addr import parse_ip
from hostgw.detection.hosts import lookup, parse_hosts
from hostgw.detection.routes import (
    RTF_GATEWAY,
    RTF_REJECT,
    RTF_UP,
    _is_hex,
    best_default,
    hex_to_ipv4,
    hex_to_ipv6,
    ipv4_to_hex,
    ipv6_to_hex,
    parse_ipv4_routes,
    parse_ipv6_routes,
)
from tests.property.strategies import ANY4, garbage_lines, ipv4, ipv6, route4_lines, route6_lines


def _accounted(data: bytes | str, table: Any) -> None:
    """Every non-blank line is a route, a skipped line or the header; numbers are real."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = text.split("\n")
    numbers = [r.line for r in table.routes] + [s.line for s in table.skipped]
    assert len(numbers) == len(set(numbers))
    assert all(1 <= n <= len(lines) and lines[n - 1].strip() for n in numbers)
    blank_or_header = sum(
        1 for line in lines if not line.strip() or line.split()[:2] == ["Iface", "Destination"]
    )
    assert len(numbers) + blank_or_header == len(lines)


@given(st.binary(max_size=2000))
def test_ipv4_parser_never_raises_on_bytes(data: bytes) -> None:
    table = parse_ipv4_routes(data)
    _accounted(data, table)
    best_default(table.routes)


@given(st.binary(max_size=2000))
def test_ipv6_parser_never_raises_on_bytes(data: bytes) -> None:
    table = parse_ipv6_routes(data)
    _accounted(data, table)
    best_default(table.routes)


@given(st.binary(max_size=2000))
def test_hosts_parser_never_raises_on_bytes(data: bytes) -> None:
    for entry in parse_hosts(data):
        assert parse_ip(entry.address) == (entry.address, entry.family)
        assert entry.names


@given(ipv4, st.sampled_from(["little", "big"]))
def test_ipv4_hex_round_trip(address: str, order: str) -> None:
    text = ipv4_to_hex(address, order)
    assert len(text) == 8 and text == text.upper()
    assert hex_to_ipv4(text, order) == address


@given(ipv6)
def test_ipv6_hex_round_trip(address: str) -> None:
    text = ipv6_to_hex(address)
    assert len(text) == 32
    assert hex_to_ipv6(text) == address


@given(st.text(max_size=10), st.integers(min_value=1, max_value=8))
def test_is_hex_is_exactly_hex_digits(text: str, longest: int) -> None:
    assert _is_hex(text, 1, longest) == bool(re.fullmatch(rf"[0-9a-fA-F]{{1,{longest}}}", text))


@given(st.text(alphabet="0123456789abcdefABCDEF", min_size=8, max_size=8))
def test_any_8_hex_digits_round_trip(text: str) -> None:
    assert ipv4_to_hex(hex_to_ipv4(text)) == text.upper()


def _model(rows: list[dict[str, Any]]) -> tuple[object, int] | None:
    """The expected best default: usable, destination and prefix 0, lowest metric, first."""
    best = None
    for index, row in enumerate(rows):
        flags = int(row["flags"])
        default = row["prefix"] == 0 and row["dest"] in (ANY4, "::")
        if default and flags & RTF_UP and not flags & RTF_REJECT:
            key = (int(row["metric"]), index)
            if best is None or key < best[0]:
                best = (key, row)
    if best is None:
        return None
    row = best[1]
    zero = row["gateway"] in (ANY4, "::")
    gateway = None if zero or not int(row["flags"]) & RTF_GATEWAY else row["gateway"]
    return gateway, best[0][1]


@given(st.lists(st.one_of(route4_lines(), garbage_lines.map(lambda g: (g, None))), max_size=12))
def test_ipv4_best_default_matches_the_model(items: list[tuple[str, Any]]) -> None:
    text = "\n".join(line for line, _ in items)
    rows = [fields for _, fields in items if fields is not None]
    table = parse_ipv4_routes(text)
    expected = _model(rows)
    best = best_default(table.routes)
    if expected is None:
        assert best is None
    else:
        assert best is not None
        gateway, index = expected
        assert best.gateway == gateway
        route_lines = [i + 1 for i, (_, f) in enumerate(items) if f is not None]
        assert best.line == route_lines[index]


@given(st.lists(route6_lines(), max_size=10))
def test_ipv6_best_default_matches_the_model(items: list[tuple[str, Any]]) -> None:
    table = parse_ipv6_routes("\n".join(line for line, _ in items))
    expected = _model([fields for _, fields in items])
    best = best_default(table.routes)
    if expected is None:
        assert best is None
    else:
        assert best is not None
        assert (best.gateway, best.line) == (expected[0], expected[1] + 1)


names = st.sampled_from(["host.docker.internal", "host.containers.internal", "gw", "x.y"])


@given(
    st.lists(st.tuples(st.one_of(ipv4, ipv6), st.lists(names, min_size=1, max_size=3)), max_size=8),
    st.lists(names, min_size=1, max_size=3, unique=True),
    st.sampled_from([4, 6]),
)
def test_hosts_lookup_matches_the_model(
    rows: list[tuple[str, list[str]]], wanted: list[str], family: int
) -> None:
    text = "".join(f"{address}\t{' '.join(aliases)}\n" for address, aliases in rows)
    expected = None
    for name in wanted:
        for number, (address, aliases) in enumerate(rows, 1):
            if name in aliases and (":" in address) == (family == 6):
                expected = (name, address, number)
                break
        if expected:
            break
    hit = lookup(parse_hosts(text), wanted, family)
    got = (hit[0], hit[1].address, hit[1].line) if hit else None
    assert got == expected
