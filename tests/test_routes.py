"""Route table parsers: sample /proc/net/route and /proc/net/ipv6_route files, one per case."""

from __future__ import annotations

import pytest

from hostgw.detection.routes import (
    best_default,
    default_routes,
    hex_to_ipv4,
    hex_to_ipv6,
    ipv4_to_hex,
    ipv6_to_hex,
    parse_ipv4_routes,
    parse_ipv6_routes,
)

H4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"


def v4(*lines: str) -> str:
    """A /proc/net/route file: the header, then lines (padded as the kernel pads them)."""
    return "\n".join([H4 + " " * 40, *(line + " " * 30 for line in lines)]) + "\n"


LINK = "eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0"

# (id, file text, expected (gateway, iface, metric, line) of the best default, or None)
V4_CASES = [
    (
        "docker-bridge",
        v4("eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0", LINK),
        ("172.17.0.1", "eth0", 0, 2),
    ),
    (
        "compose-network",
        v4("eth0\t00000000\t010012AC\t0003\t0\t0\t0\t00000000\t0\t0\t0"),
        ("172.18.0.1", "eth0", 0, 2),
    ),
    (
        "several-defaults-lower-metric-later",
        v4(
            "eth0\t00000000\t010011AC\t0003\t0\t0\t200\t00000000\t0\t0\t0",
            "eth0\t00000000\tFE0011AC\t0003\t0\t0\t100\t00000000\t0\t0\t0",
        ),
        ("172.17.0.254", "eth0", 100, 3),
    ),
    (
        "several-defaults-lower-metric-first",
        v4(
            "eth0\t00000000\tFE0011AC\t0003\t0\t0\t100\t00000000\t0\t0\t0",
            "eth0\t00000000\t010011AC\t0003\t0\t0\t200\t00000000\t0\t0\t0",
        ),
        ("172.17.0.254", "eth0", 100, 2),
    ),
    (
        "equal-metrics-file-order-wins",
        v4(
            "eth1\t00000000\t010012AC\t0003\t0\t0\t5\t00000000\t0\t0\t0",
            "eth0\t00000000\t010011AC\t0003\t0\t0\t5\t00000000\t0\t0\t0",
        ),
        ("172.18.0.1", "eth1", 5, 2),
    ),
    ("internal-network-link-route-only", v4(LINK), None),
    ("empty-file", "", None),
    ("header-only", v4(), None),
    (
        "no-header",
        "eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
        ("172.17.0.1", "eth0", 0, 1),
    ),
    (
        "ecmp-first-nexthop-as-proc-shows-it",
        v4(
            "eth0\t00000000\t01FAD50A\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "eth0\t00FAD50A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0",
        ),
        ("10.213.250.1", "eth0", 0, 2),
    ),
    (
        "down-route-ignored",
        v4(
            "eth9\t00000000\t0100A8C0\t0002\t0\t0\t0\t00000000\t0\t0\t0",
            "eth0\t00000000\t010011AC\t0003\t0\t0\t10\t00000000\t0\t0\t0",
        ),
        ("172.17.0.1", "eth0", 10, 3),
    ),
    (
        "reject-route-ignored",
        v4(
            "*\t00000000\t00000000\t0201\t0\t0\t0\t00000000\t0\t0\t0",
            "eth0\t00000000\t010011AC\t0003\t0\t0\t10\t00000000\t0\t0\t0",
        ),
        ("172.17.0.1", "eth0", 10, 3),
    ),
    (
        "half-default-is-not-default",  # 0.0.0.0/1, as VPNs install
        v4(
            "tun0\t00000000\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0",
            "eth0\t00000000\t010011AC\t0003\t0\t0\t50\t00000000\t0\t0\t0",
        ),
        ("172.17.0.1", "eth0", 50, 3),
    ),
    (
        "garbage-lines-around",
        "Iface\tDestination\n\x00\x01\xff junk\neth0 zz 010011AC 0003 0 0 0 00000000\n"
        "eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\nshort line\n",
        ("172.17.0.1", "eth0", 0, 4),
    ),
    (
        "calico-link-local-gateway-is-parsed-as-is",
        v4(
            "eth0\t00000000\t0101FEA9\t0003\t0\t0\t0\t00000000\t0\t0\t0",
            "eth0\t0101FEA9\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0",
        ),
        ("169.254.1.1", "eth0", 0, 2),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in V4_CASES], ids=[c[0] for c in V4_CASES]
)
def test_ipv4_best_default(text: str, expected: tuple[str, str, int, int] | None) -> None:
    best = best_default(parse_ipv4_routes(text).routes)
    if expected is None:
        assert best is None
    else:
        assert best is not None
        assert (best.gateway, best.iface, best.metric, best.line) == expected


def test_default_without_gateway_flag_has_no_gateway() -> None:
    table = parse_ipv4_routes(v4("eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0"))
    best = best_default(table.routes)
    assert best is not None and best.gateway is None and best.iface == "eth0"


def test_gateway_flag_with_zero_gateway_has_no_gateway() -> None:
    # An IPv4 route via an IPv6 next hop (RFC 5549) prints gateway 0 with RTF_GATEWAY.
    table = parse_ipv4_routes(v4("eth0\t00000000\t00000000\t0003\t0\t0\t0\t00000000\t0\t0\t0"))
    assert table.routes[0].gateway is None


def test_skipped_lines_are_counted_with_reasons() -> None:
    text = next(c[1] for c in V4_CASES if c[0] == "garbage-lines-around")
    table = parse_ipv4_routes(text)
    assert [s.line for s in table.skipped] == [2, 3, 5]
    assert all(s.reason for s in table.skipped)
    assert len(table.routes) == 1


def test_prefix_comes_from_the_mask() -> None:
    host = "eth0\t0101FEA9\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0"
    table = parse_ipv4_routes(v4(LINK, host))
    assert [(r.destination, r.prefix) for r in table.routes] == [
        ("172.17.0.0", 16),
        ("169.254.1.1", 32),
    ]


def test_big_endian_machine_byte_order() -> None:
    line = "eth0\t00000000\tAC110001\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    best = best_default(parse_ipv4_routes(line, byteorder="big").routes)
    assert best is not None and best.gateway == "172.17.0.1"


def test_bytes_input_is_accepted() -> None:
    text = v4("eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0").encode()
    assert parse_ipv4_routes(text).routes[0].gateway == "172.17.0.1"


def v6line(
    nexthop: str,
    metric: str,
    flags: str,
    dev: str,
    *,
    dest: str = "0" * 32,
    plen: str = "00",
    src_len: str = "00",
) -> str:
    """One /proc/net/ipv6_route line."""
    fields = [dest, plen, "0" * 32, src_len, nexthop, metric, "00000001", "00000000", flags]
    return " ".join(fields) + f" {dev:>8}"


Z = "0" * 32
FD00_1 = "fd00" + "0" * 27 + "1"
FE80_1 = "fe80" + "0" * 27 + "1"
FD5E_254 = "fd5e" + "0" * 26 + "fe"

V6_CASES = [
    (
        "ipv6-only-default",
        [
            v6line(Z, "00000100", "00000001", "eth0", dest="fd00" + "0" * 28, plen="40"),
            v6line(FD00_1, "00000400", "00000003", "eth0"),
        ],
        ("fd00::1", "eth0", 1024, 2),
    ),
    (
        "kernel-reject-default-on-lo-ignored",
        [
            v6line(Z, "ffffffff", "00200200", "lo"),
            v6line(FD00_1, "00000400", "00000003", "eth0"),
        ],
        ("fd00::1", "eth0", 1024, 2),
    ),
    (
        "lowest-metric-wins-hex-metrics",
        [
            v6line(FD00_1, "00000400", "00000003", "eth0"),
            v6line(FD5E_254, "00000064", "00000003", "eth1"),
        ],
        ("fd5e::fe", "eth1", 100, 2),
    ),
    (
        "ecmp-siblings-first-line-wins",
        [
            v6line(FD00_1, "00000400", "00000003", "eth0"),
            v6line(FD5E_254, "00000400", "00000003", "eth0"),
        ],
        ("fd00::1", "eth0", 1024, 1),
    ),
    (
        "link-local-next-hop",
        [
            v6line(FE80_1, "00000400", "00450003", "eth0"),
        ],
        ("fe80::1", "eth0", 1024, 1),
    ),
    (
        "source-specific-default-is-not-default",
        [
            v6line(FD00_1, "00000400", "00000003", "eth0", src_len="40"),
        ],
        None,
    ),
    (
        "no-default",
        [
            v6line(Z, "00000100", "00000001", "eth0", dest="fd00" + "0" * 28, plen="40"),
        ],
        None,
    ),
    (
        "garbage-and-short-lines",
        [
            "garbage",
            "",
            v6line(FD00_1, "00000400", "00000003", "eth0", dest="zz" * 16, plen="00"),
            v6line(FD00_1, "00000400", "00000003", "eth0"),
        ],
        ("fd00::1", "eth0", 1024, 4),
    ),
]


@pytest.mark.parametrize(
    ("lines", "expected"), [c[1:] for c in V6_CASES], ids=[c[0] for c in V6_CASES]
)
def test_ipv6_best_default(lines: list[str], expected: tuple[str, str, int, int] | None) -> None:
    best = best_default(parse_ipv6_routes("\n".join(lines) + "\n").routes)
    if expected is None:
        assert best is None
    else:
        assert best is not None
        assert (best.gateway, best.iface, best.metric, best.line) == expected


def test_default_routes_are_sorted_by_metric_then_line() -> None:
    table = parse_ipv6_routes(
        "\n".join(
            [
                v6line(FD00_1, "00000400", "00000003", "a"),
                v6line(FD5E_254, "00000064", "00000003", "b"),
                v6line(FE80_1, "00000400", "00000003", "c"),
            ]
        )
    )
    assert [r.iface for r in default_routes(table.routes)] == ["b", "a", "c"]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("010011AC", "172.17.0.1"),
        ("00000000", ".".join("0" * 4)),
        ("FFFFFFFF", "255.255.255.255"),
        ("0101FEA9", "169.254.1.1"),
    ],
    ids=["docker0", "zero", "broadcast", "calico"],
)
def test_hex_to_ipv4_little_endian(text: str, address: str) -> None:
    assert hex_to_ipv4(text, "little") == address
    assert ipv4_to_hex(address, "little") == text


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (FD00_1, "fd00::1"),
        (Z, "::"),
        (FE80_1, "fe80::1"),
        ("00000000000000000000ffff0a000001", "::ffff:10.0.0.1"),
    ],
    ids=["ula", "zero", "link-local", "v4-mapped"],
)
def test_hex_to_ipv6(text: str, address: str) -> None:
    assert hex_to_ipv6(text) == address
    assert ipv6_to_hex(address) == text


@pytest.mark.parametrize("bad", ["", "0100", "XYZ00000", "0x010011", "+1000000", "1_000000"])
def test_hex_to_ipv4_rejects(bad: str) -> None:
    with pytest.raises(ValueError, match="hex"):
        hex_to_ipv4(bad)
