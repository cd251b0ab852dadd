"""Properties of the own-address parsers (``/proc/net/fib_trie``, ``/proc/net/if_inet6``)
and of the rule built on them, in hostgw and in the sh drop-in.

- Any text parses without raising; a trie written from known leaves gives back
  exactly its LOCAL prefixes; if_inet6 lines give back their addresses.
- ``holds`` agrees with :mod:`ipaddress` (the standard library's reading of
  prefixes, used here as the oracle only).
- ``link_of`` agrees with :mod:`ipaddress` (the most specific covering route).
- The sh drop-in, under dash and busybox sh, rejects and keeps the same hosts
  entries as hostgw for generated local addresses, bridges, routes without a
  gateway, interface kinds (``sys/class/net``) and hosts files.
"""

from __future__ import annotations

import ipaddress
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw.detection.own import (
    Local,
    OwnAddresses,
    link_kind,
    link_of,
    parse_fib_trie,
    parse_if_inet6,
    parse_net_dev,
)
from hostgw.detection.routes import ipv4_to_hex, ipv6_to_hex
from tests.shsnippet import (
    Shell,
    python_answer,
    root_tree,
    sh_answer,
    shells,
    write_link,
    write_net_dev,
)

FAST = settings(max_examples=300, deadline=None)
SHELLS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = ("LOCAL", "UNICAST", "BROADCAST", "MULTICAST", "ANYCAST")
ANY = ipaddress.IPv4Address(0)  # a default route's destination
LOCAL_OFTEN = ("LOCAL", "LOCAL", *TYPES)


@FAST
@given(st.text())
def test_any_text_parses(text: str) -> None:
    for local in parse_fib_trie(text):
        assert 0 <= local.prefix <= 32 and ipaddress.ip_address(local.address).version == 4
    for local in parse_if_inet6(text):
        assert local.prefix == 128 and ipaddress.ip_address(local.address).version == 6


leaves = st.lists(
    st.tuples(
        st.ip_addresses(v=4).map(str),
        st.lists(st.tuples(st.integers(0, 32), st.sampled_from(TYPES)), min_size=1, max_size=3),
    ),
    max_size=8,
)


Leaf = tuple[str, list[tuple[int, str]]]


def _trie(tables: list[list[Leaf]]) -> str:
    """fib_trie text as the kernel prints it: tables, node lines, leaves and their prefixes."""
    out = []
    for name, leaves_ in zip(("Main:", "Local:"), tables, strict=False):
        out.append(name)
        out.append("  +-- 0.0.0.0/0 3 0 5")
        for address, prefixes in leaves_:
            out.append(f"     |-- {address}")
            out += [f"        /{length} host {kind}" for length, kind in prefixes]
            out.append("     +-- 10.0.0.0/8 2 0 2")
    return "\n".join(out) + "\n"


@FAST
@given(leaves, leaves)
def test_trie_gives_back_its_local_prefixes(main: list[Leaf], local: list[Leaf]) -> None:
    expected = list(
        dict.fromkeys(
            (address, length)
            for address, prefixes in main + local
            for length, kind in prefixes
            if kind == "LOCAL"
        )
    )
    got = parse_fib_trie(_trie([main, local]))
    assert [(x.address, x.prefix) for x in got] == expected


@FAST
@given(st.lists(st.tuples(st.ip_addresses(v=6), st.sampled_from(["lo", "eth0", "tap0"]))))
def test_if_inet6_gives_back_its_addresses(rows: list[tuple[ipaddress.IPv6Address, str]]) -> None:
    text = "".join(f"{ipv6_to_hex(str(a))} 02 40 20 80 {name:>8}\n" for a, name in rows)
    got = parse_if_inet6(text)
    assert [(ipaddress.ip_address(x.address), x.prefix, x.iface) for x in got] == [
        (a, 128, name) for a, name in rows
    ]


@FAST
@given(
    st.lists(st.tuples(st.ip_addresses(v=4), st.integers(0, 32)), max_size=4),
    st.ip_addresses(v=4) | st.ip_addresses(v=6),
)
def test_holds_agrees_with_ipaddress(
    prefixes: list[tuple[ipaddress.IPv4Address, int]],
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    own = OwnAddresses(tuple(Local(str(a), n) for a, n in prefixes))
    oracle = any(address in ipaddress.ip_network(f"{a}/{n}", strict=False) for a, n in prefixes)
    assert (own.holds(str(address)) is not None) == oracle


@FAST
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["eth0", "eth1", "br0"]),
            st.ip_addresses(v=4) | st.ip_addresses(v=6),
            st.integers(0, 32),
        ),
        max_size=5,
    ),
    st.ip_addresses(v=4),
)
def test_link_of_is_the_most_specific_covering_route(
    routes: list[tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address, int]],
    address: ipaddress.IPv4Address,
) -> None:
    rows = [(iface, str(dest), prefix) for iface, dest, prefix in routes]
    covering = [
        (prefix, -i, iface)
        for i, (iface, dest, prefix) in enumerate(routes)
        if prefix > 0
        and dest.version == 4
        and address in ipaddress.ip_network(f"{dest}/{prefix}", strict=False)
    ]
    assert link_of(str(address), rows) == (max(covering)[2] if covering else None)


@FAST
@given(
    st.lists(
        st.text(
            alphabet=st.characters(min_codepoint=33, max_codepoint=126, blacklist_characters=":/|"),
            min_size=1,
            max_size=15,
        ),
        max_size=6,
    )
)
def test_net_dev_gives_back_its_names(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        write_net_dev(Path(d), names)
        assert parse_net_dev((Path(d) / "proc/net/dev").read_text()) == frozenset(names)


@FAST
@given(st.lists(st.sampled_from(["device", "bridge", "bonding", "tun_flags", "ifindex"])))
def test_link_kind_is_the_first_host_entry_present(entries: list[str]) -> None:
    order = {"device": "nic", "bridge": "bridge", "bonding": "bond"}  # first wins
    present = [kind for entry, kind in order.items() if entry in entries]
    assert link_kind(entries) == (present[0] if present else "other")


# --- the sh drop-in agrees ------------------------------------------------------

_SHELLS: list[Shell] = []


@pytest.fixture(scope="module", autouse=True)
def _shells(tmp_path_factory: pytest.TempPathFactory) -> None:
    _SHELLS[:] = shells(tmp_path_factory.mktemp("shells"))


ours4 = st.sampled_from(["10.0.0.2", "192.0.2.2", "127.0.0.1", "10.9.0.1"])
# sys/class/net/NAME files of each kind of interface (None: no such file).
KINDS: dict[str, tuple[str, ...]] = {
    "nic": ("device",),
    "bridge": ("bridge",),
    "bond": ("bonding",),
    "veth": (),
    "tap": ("tun_flags",),
    "nic-bridge": ("bridge", "device"),
}
ours6 = st.sampled_from(["fd00::2", "fe80::1", "::1", "2001:db8::5"])
link_kinds = st.sampled_from(["nic", "nic", *sorted(KINDS)])  # the host's kind, often
# proc/net/dev: the links of sys/class/net ("" ), one more ("wlan0": a /sys not ours), or none.
net_devs = st.sampled_from(["", "", "", "wlan0", "missing"])
# Routes as (interface, destination, prefix, flags): with and without a gateway.
link_routes = st.lists(
    st.tuples(
        st.sampled_from(["eth0", "eth0", "eth1", "lo"]),
        st.sampled_from(["10.0.0.0", "192.0.2.0", "10.9.0.1", "127.0.0.0", str(ANY)]),
        st.sampled_from([8, 8, 24, 24, 32, 0]),
        st.sampled_from(["0001", "0001", "0001", "0003", "0201", "0000"]),
    ),
    max_size=4,
)


@SHELLS
@given(
    st.tuples(
        st.lists(
            st.tuples(ours4, st.sampled_from([32, 32, 24, 8]), st.sampled_from(LOCAL_OFTEN)),
            max_size=4,
        ),
        st.lists(st.tuples(ours6, st.sampled_from(["eth0", "eth0", "eth1", "lo"])), max_size=3),
    ),
    st.lists(
        st.tuples(
            st.one_of(
                ours4, ours4, ours6, st.sampled_from(["fe80::1%eth0", "fd00::2%x;y", "10.0.0.9"])
            ),
            st.sampled_from(["host.docker.internal", "host.containers.internal", "other"]),
        ),
        max_size=4,
    ),
    st.booleans(),
    st.sampled_from([None, 4, 6]),
    st.tuples(
        link_routes,
        st.fixed_dictionaries(
            {"eth0": link_kinds}, optional={"eth1": link_kinds, "lo": link_kinds}
        ),
        net_devs,
    ),
)
def test_sh_rejects_what_hostgw_rejects(
    own: tuple[list[tuple[str, int, str]], list[tuple[str, str]]],
    entries: list[tuple[str, str]],
    bridge: bool,
    family: int | None,
    net: tuple[list[tuple[str, str, int, str]], dict[str, str], str],
) -> None:
    (locals4, locals6), (link_routes, kinds, dev) = own, net
    with tempfile.TemporaryDirectory() as d:
        links = {"lo": False, "eth0": False, **({"docker0": True} if bridge else {})}
        root = root_tree(
            Path(d),
            route="Iface\neth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\n"
            + _route_lines(link_routes),
            hosts="".join(f"{a} {name}\n" for a, name in entries),
            links=links,
        )
        _write_links(root, kinds, dev)
        leaves_ = [(a, [(n, kind)]) for a, n, kind in locals4]
        (root / "proc/net/fib_trie").write_text(_trie([leaves_]))
        (root / "proc/net/if_inet6").write_text(
            "".join(f"{ipv6_to_hex(a)} 02 40 20 80 {iface}\n" for a, iface in locals6)
        )
        _agree(root, family)


def _write_links(root: Path, kinds: dict[str, str], dev: str) -> None:
    """Each link's entries, then proc/net/dev (see :data:`net_devs`)."""
    for iface, kind in kinds.items():
        write_link(root, iface, *KINDS[kind])
    if dev != "missing":
        links = sorted(os.listdir(root / "sys/class/net"))
        write_net_dev(root, [*links, *([dev] if dev else [])])


def _route_lines(routes: list[tuple[str, str, int, str]]) -> str:
    """/proc/net/route lines for (interface, destination, prefix, flags); gateway 10.0.0.1."""
    return "".join(
        f"{iface}\t{ipv4_to_hex(dest)}\t{ipv4_to_hex('10.0.0.1')}\t{flags}\t0\t0\t0\t"
        f"{ipv4_to_hex(str(ipaddress.ip_network(f'{ANY}/{prefix}').netmask))}\n"
        for iface, dest, prefix, flags in routes
    )


def _agree(root: Path, family: int | None) -> None:
    expected = python_answer({}, str(root), family)
    args = [f"-{family}"] if family else []
    for shell in _SHELLS:
        done = shell.run(*args, "export", env={"HOSTGW_ROOT": str(root)})
        assert sh_answer(done) == expected, (shell, done.stdout, done.stderr)


@SHELLS
@given(
    st.sampled_from(["10.1.2.3", "192.0.2.2"]),
    st.lists(
        st.tuples(
            st.sampled_from(["eth0", "eth1"]),
            st.sampled_from([8, 16, 24, 32]),
            st.booleans(),
            st.sampled_from(["0001", "0001", "0003"]),
        ),
        min_size=1,
        max_size=4,
    ),
    st.fixed_dictionaries({"eth0": link_kinds, "eth1": link_kinds}),
    net_devs,
)
def test_sh_finds_the_interface_of_an_own_ipv4_address_as_hostgw_does(
    address: str, routes: list[tuple[str, int, bool, str]], kinds: dict[str, str], dev: str
) -> None:
    # The hosts entry is always our own address; which route covers it, and
    # the kind of that route's interface, decide whether it is kept.
    lines = []
    for iface, prefix, covers, flags in routes:
        net = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        lines.append(
            (
                iface,
                str(net.network_address if covers else net.broadcast_address + 1),
                prefix,
                flags,
            )
        )
    with tempfile.TemporaryDirectory() as d:
        root = root_tree(
            Path(d),
            route="Iface\neth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\n"
            + _route_lines(lines),
            hosts=f"{address} host.containers.internal\n",
            links={"lo": False, "eth0": False, "eth1": False},
        )
        _write_links(root, kinds, dev)
        (root / "proc/net/fib_trie").write_text(_trie([[(address, [(32, "LOCAL")])]]))
        _agree(root, 4)
