"""Shared hypothesis strategies: addresses and the kernel's route and hosts lines."""

from __future__ import annotations

import ipaddress
import socket

from hypothesis import strategies as st

from hostgw.detection.routes import ipv4_to_hex, ipv6_to_hex

ipv4 = st.ip_addresses(v=4).map(str)
# In the normal form hostgw prints (inet_ntop's, e.g. ::ffff:1.2.3.4).
ipv6 = st.ip_addresses(v=6).map(lambda a: socket.inet_ntop(socket.AF_INET6, a.packed))
# RFC 1123 host names (hostgw.addr.is_hostname): labels of letters, digits and
# inner hyphens.
hostnames = st.from_regex(
    r"[a-z]([a-z0-9-]{0,18}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,8}[a-z0-9])?){0,3}", fullmatch=True
)
ifnames = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)
metrics = st.integers(min_value=0, max_value=2**31 - 1)
# RTF_UP, RTF_GATEWAY, RTF_HOST, RTF_REJECT and some others, in any mix.
flags = st.sets(st.sampled_from([0x1, 0x2, 0x4, 0x10, 0x200])).map(sum)
prefix4 = st.one_of(st.just(0), st.integers(min_value=0, max_value=32))


ANY4 = "0.0.0.0"  # noqa: S104 - the unspecified address, as route files hold it


def _mask(prefix: int) -> str:
    return str(ipaddress.IPv4Network(f"0.0.0.0/{prefix}").netmask)


@st.composite
def route4_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """One /proc/net/route line and what it says."""
    prefix = draw(prefix4)
    dest = ANY4 if prefix == 0 or draw(st.booleans()) else draw(ipv4)
    gateway = draw(st.one_of(st.just(ANY4), ipv4))
    fields = {
        "iface": draw(ifnames),
        "dest": dest,
        "gateway": gateway,
        "flags": draw(flags),
        "metric": draw(metrics),
        "prefix": prefix,
    }
    line = (
        f"{fields['iface']}\t{ipv4_to_hex(dest)}\t{ipv4_to_hex(gateway)}\t{fields['flags']:04X}"
        f"\t0\t0\t{fields['metric']}\t{ipv4_to_hex(_mask(prefix))}\t0\t0\t0"
    )
    return line, fields


@st.composite
def route6_lines(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """One /proc/net/ipv6_route line and what it says."""
    prefix = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=128)))
    dest = "::" if prefix == 0 or draw(st.booleans()) else draw(ipv6)
    gateway = draw(st.one_of(st.just("::"), ipv6))
    fields = {
        "iface": draw(ifnames),
        "dest": dest,
        "gateway": gateway,
        "flags": draw(flags),
        "metric": draw(st.integers(min_value=0, max_value=2**32 - 1)),
        "prefix": prefix,
    }
    line = (
        f"{ipv6_to_hex(dest)} {prefix:02x} {'0' * 32} 00 {ipv6_to_hex(gateway)} "
        f"{fields['metric']:08x} 00000001 00000000 {fields['flags']:08x} {fields['iface']:>8}"
    )
    return line, fields


garbage_lines = st.text(
    alphabet=st.characters(blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"),
    max_size=80,
).filter(lambda s: not s.strip().startswith("Iface"))
