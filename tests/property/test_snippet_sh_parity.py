"""Properties: the sh drop-in reads route files, hosts files and variables as hostgw does.

Generated route tables (valid lines, odd flags and metrics, garbage), hosts
files (every spelling of IPv4 and IPv6 addresses, valid or not) and
variables go to the real script under dash and busybox sh, and to
``hostgw.gateway_env`` with the same root; the answers must be equal.
Variables that look like hostnames are left out: resolving them would ask
this machine's resolver.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostgw.addr import is_hostname
from hostgw.detection.routes import ipv4_to_hex, ipv6_to_hex
from tests.shsnippet import Shell, python_answer, root_tree, sh_answer, shells

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SHELLS: list[Shell] = []


@pytest.fixture(scope="module", autouse=True)
def _shells(tmp_path_factory: pytest.TempPathFactory) -> None:
    _SHELLS[:] = shells(tmp_path_factory.mktemp("shells"))


HEX = "0123456789abcdefABCDEF"
ifaces = st.sampled_from(["eth0", "eth1", "net1", "wg0", "lo"])
hexes = st.text(alphabet=HEX, min_size=1, max_size=9)
junk = st.text(alphabet="0123456789ABCDEFabxyz:.-# \t\r\x0b", max_size=30)


@st.composite
def route4_line(draw: st.DrawFn) -> str:
    """A /proc/net/route line: mostly plausible, sometimes broken."""
    if draw(st.integers(0, 9)) == 0:
        return draw(junk)
    # Mostly defaults with few distinct metrics, so that ties and order matter.
    dest = draw(st.sampled_from(["00000000"] * 6 + ["000011AC", "0000000A"]))
    gw = ipv4_to_hex(
        draw(
            st.ip_addresses(v=4).map(str)
            | st.sampled_from(["169.254.1.1", "172.17.0.1", "10.0.0.1"])
        )
    )
    gw = draw(st.sampled_from([gw] * 6 + ["00000000", gw.lower(), gw[:7]]))
    flags = draw(st.sampled_from(["0003"] * 6 + ["0001", "0002", "0203", "0043", "3"]) | hexes)
    metric = draw(
        st.sampled_from(["0", "100", "0100", "64", "010", "4294967295", "x1"])
        | st.integers(0, 10**6).map(str)
    )
    mask = draw(st.sampled_from(["00000000"] * 6 + ["0000FFFF", "zz000000"]))
    fields = [draw(ifaces), dest, gw, flags, "0", "0", metric, mask, "0", "0", "0"]
    cut = draw(st.sampled_from([11, 11, 11, 8, 7]))
    sep = draw(st.sampled_from(["\t", " ", "\t ", "\x0b"]))
    return sep.join(fields[:cut])


@st.composite
def route6_line(draw: st.DrawFn) -> str:
    """A /proc/net/ipv6_route line: mostly plausible, sometimes broken."""
    if draw(st.integers(0, 9)) == 0:
        return draw(junk)
    dest = draw(st.sampled_from(["0" * 32] * 6 + ["fd" + "0" * 30]))
    plen = draw(st.sampled_from(["00"] * 6 + ["40", "80", "ff", "0"]))
    src_len = draw(st.sampled_from(["00"] * 6 + ["40"]))
    gw = draw(
        st.ip_addresses(v=6).map(str)
        | st.sampled_from(["fe80::1"] * 3)
        | st.sampled_from(
            [
                "fe80::1",
                "fe80::ecee:eeff:feee:eeee",
                "::ffff:10.0.0.1",
                "::",
                "::1.2.3.4",
                "fd00::1",
            ]
        )
    )
    metric = draw(st.sampled_from(["00000400", "00000100", "ffffffff", "400", "0100"]) | hexes)
    flags = draw(st.sampled_from(["00000003"] * 6 + ["00000001", "00200200", "3"]) | hexes)
    fields = [
        dest,
        plen,
        "0" * 32,
        src_len,
        ipv6_to_hex(gw),
        metric,
        "00000001",
        "00000000",
        flags,
        draw(ifaces),
    ]
    cut = draw(st.sampled_from([10, 10, 10, 9]))
    return " ".join(fields[:cut])


def _v6_spellings(address: str) -> st.SearchStrategy[str]:
    import ipaddress

    full = ipaddress.IPv6Address(address).exploded
    return st.sampled_from([address, address.upper(), full, full.replace("0000", "0")])


@st.composite
def v4ish(draw: st.DrawFn) -> str:
    """Dotted decimal, often wrong: leading zeros, 3 or 5 parts, big parts."""
    parts = draw(st.lists(st.text(alphabet="0123456789", max_size=4), min_size=3, max_size=5))
    return ".".join(parts)


@st.composite
def v6ish(draw: st.DrawFn) -> str:
    """Colon-hex, often wrong: 0-5 digit groups, '::' anywhere, a dotted tail."""
    groups = draw(
        st.lists(
            st.text(alphabet="0123456789abcdefABCDEF", max_size=5).filter(
                lambda g: len(g) <= 4 or draw(st.booleans())
            ),
            min_size=0,
            max_size=9,
        )
    )
    if draw(st.booleans()):
        groups.insert(draw(st.integers(0, len(groups))), "")
    text = ":".join(groups)
    if draw(st.integers(0, 3)) == 0:
        text += (":" if text and not text.endswith(":") else "") + draw(v4ish())
    return text


address_text = st.one_of(
    v4ish(),
    v6ish(),
    v6ish(),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str).flatmap(_v6_spellings),
    st.sampled_from(
        [
            "010.0.0.1",
            "1.2.3",
            "1.2.3.4.",
            "256.1.1.1",
            "::ffff:1.2.3.4",
            "1::2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1::2::3",
            ":1::",
            "1:::2",
            "::1.2.3",
            "fe80::1%eth0",
            "fe80::1%",
            "10.0.0.1%eth0",
            "12345::",
            "::0.0.0.0",
            "0:0:0:0:0:ffff:0:0",
            "1:0:0:1::",
            "::",
            "a:b:c:d:e:f:1.2.3.4",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "::%x",
            "1.2.3.04",
            "1:2:3:4::5:6:7:8",
            "::1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8::",
            "::ffff:1.2.3.4:1",
        ]
    ),
    st.text(alphabet="0123456789abcdefABCDEF:.%", max_size=20),
)
names = st.sampled_from(
    ["host.docker.internal"] * 4
    + ["HOST.DOCKER.INTERNAL", "host.containers.internal", "other", "gw.local"]
)


@st.composite
def hosts_text(draw: st.DrawFn) -> str:
    """A hosts file with candidate lines, comments and noise."""
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(junk))
            continue
        line = draw(address_text) + draw(st.sampled_from([" ", "\t", "  "]))
        line += " ".join(draw(st.lists(names, min_size=kind > 2, max_size=3)))
        if kind == 1:
            line = "#" + line
        elif kind == 2:
            line += " # comment " + draw(names)
        lines.append(line)
    return "\n".join(lines) + draw(st.sampled_from(["", "\n"]))


@SETTINGS
@given(address_text, st.sampled_from([None, 4, 6]))
def test_address_spellings(text: str, family: int | None) -> None:
    # One candidate line: the answer is hostgw's normal form of the address, or none.
    with tempfile.TemporaryDirectory() as d:
        _compare({}, root_tree(Path(d), hosts=f"{text} host.docker.internal\n"), family)


def _not_a_hostname(value: str) -> bool:
    stripped = value.strip()
    return not stripped or not is_hostname(stripped)


# An environment holds no NUL; non-ASCII blanks (which Python's strip() removes
# and awk keeps) are out of scope for the drop-in, as its header says.
ascii_text = st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=127), max_size=8)
env_value = (address_text | st.just("") | ascii_text).filter(_not_a_hostname)


def _compare(env: dict[str, str], root: Path, family: int | None = None) -> None:
    expected = python_answer(env, str(root), family)
    args = [f"-{family}"] if family else []
    for shell in _SHELLS:
        done = shell.run(*args, "export", env={**env, "HOSTGW_ROOT": str(root)})
        assert sh_answer(done) == expected, (shell, done.stdout, done.stderr)


@SETTINGS
@given(
    st.lists(route4_line(), max_size=6),
    st.lists(route6_line(), max_size=6),
    st.sampled_from([None, 4, 6]),
)
def test_route_tables(lines4: list[str], lines6: list[str], family: int | None) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = root_tree(
            Path(d),
            route="Iface\tDestination\tGateway\n" + "\n".join(lines4),
            route6="\n".join(lines6),
        )
        _compare({}, root, family)


@SETTINGS
@given(
    hosts_text(),
    st.sampled_from([None, 4, 6]),
    st.sampled_from(["", "gw.local", "other,host.docker.internal", " , gw.local ,"]),
)
def test_hosts_files(text: str, family: int | None, names_setting: str) -> None:
    env = {"HOSTGW_NAMES": names_setting} if names_setting else {}
    with tempfile.TemporaryDirectory() as d:
        _compare(env, root_tree(Path(d), hosts=text), family)


@SETTINGS
@given(env_value, env_value, env_value, st.sampled_from([None, 4, 6]))
def test_variables(ip: str, ip6: str, host_ip: str, family: int | None) -> None:
    env = {k: v for k, v in (("HOSTGW_IP", ip), ("HOSTGW_IP6", ip6), ("HOST_IP", host_ip)) if v}
    with tempfile.TemporaryDirectory() as d:
        root = root_tree(
            Path(d), route="Iface\n" + "eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\n"
        )
        _compare(env, root, family)
