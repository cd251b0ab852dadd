"""/etc/hosts parsing and lookup: table-driven, with line numbers as evidence."""

from __future__ import annotations

import pytest

from hostgw.detection.hosts import lookup, parse_hosts

NAMES = ("host.docker.internal", "host.containers.internal")

# (id, hosts text, names, family, expected (name, address, line) or None)
CASES = [
    (
        "docker-add-host",
        "127.0.0.1 localhost\n172.17.0.1\thost.docker.internal\n",
        NAMES,
        4,
        ("host.docker.internal", "172.17.0.1", 2),
    ),
    (
        "podman",
        "10.88.0.1 host.containers.internal host.docker.internal\n",
        NAMES,
        4,
        ("host.docker.internal", "10.88.0.1", 1),
    ),
    (
        "names-order-is-trust-order",
        "10.0.0.2 host.containers.internal\n10.0.0.1 host.docker.internal\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.1", 2),
    ),
    (
        "first-line-wins",
        "10.0.0.1 host.docker.internal\n10.0.0.9 host.docker.internal\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.1", 1),
    ),
    (
        "case-insensitive",
        "10.0.0.1 Host.Docker.Internal\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.1", 1),
    ),
    (
        "alias-position",
        "10.0.0.1 gw gw.local host.docker.internal # comment\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.1", 1),
    ),
    ("commented-out", "# 10.0.0.1 host.docker.internal\n", NAMES, 4, None),
    ("comment-mid-line", "10.0.0.1 gw # host.docker.internal\n", NAMES, 4, None),
    (
        "bad-address-skipped",
        "10.0.0.300 host.docker.internal\n10.0.0.3 host.docker.internal\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.3", 2),
    ),
    (
        "family-v6",
        "172.17.0.1 host.docker.internal\nfd00::1 host.docker.internal\n",
        NAMES,
        6,
        ("host.docker.internal", "fd00::1", 2),
    ),
    (
        "v6-normalised",
        "FD00:0:0::1 host.docker.internal\n",
        NAMES,
        6,
        ("host.docker.internal", "fd00::1", 1),
    ),
    (
        "v6-zone-kept",
        "fe80::1%eth0 host.docker.internal\n",
        NAMES,
        6,
        ("host.docker.internal", "fe80::1%eth0", 1),
    ),
    (
        "custom-names",
        "10.0.0.5 gateway.internal\n",
        ("gateway.internal",),
        4,
        ("gateway.internal", "10.0.0.5", 1),
    ),
    ("no-entry", "127.0.0.1 localhost\n", NAMES, 4, None),
    (
        "crlf-lines",
        "127.0.0.1 localhost\r\n10.0.0.1 host.docker.internal\r\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.1", 2),
    ),
    (
        "address-without-name",
        "10.0.0.1\n10.0.0.2 host.docker.internal\n",
        NAMES,
        4,
        ("host.docker.internal", "10.0.0.2", 2),
    ),
]


@pytest.mark.parametrize(
    ("text", "names", "family", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_lookup(
    text: str, names: tuple[str, ...], family: int, expected: tuple[str, str, int] | None
) -> None:
    hit = lookup(parse_hosts(text), names, family)
    if expected is None:
        assert hit is None
    else:
        assert hit is not None
        name, entry = hit
        assert (name, entry.address, entry.line) == expected


def test_entry_text_drops_the_comment() -> None:
    (entry,) = parse_hosts("10.0.0.1 host.docker.internal   # added by docker\n")
    assert entry.text == "10.0.0.1 host.docker.internal"
    assert entry.names == ("host.docker.internal",)
