"""The standard-library route netlink (``hostgw.detection.rtnl``), judged by iproute2.

In real namespaces, :func:`route_get` must give the answer ``ip -j route
get`` gives (next hop, device, table) for each routing shape, and the
kernel's refusal when there is no route; :func:`subscribe` must wake up on a
route change. Without root, the readers take arbitrary bytes and raise
nothing but :class:`NetlinkError`.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.detection import rtnl
from tests.netns import Lab, Netns

_PROBE = r"""
import json, sys
from hostgw.detection import rtnl
out = []
for dst in sys.argv[1:]:
    try:
        r = rtnl.route_get(dst)
        out.append({"gateway": r.gateway, "dev": rtnl.interface_name(r.oif), "table": r.table})
    except rtnl.NetlinkError as exc:
        out.append({"errno": exc.errno})
print(json.dumps(out))
"""

_TABLES = {"main": 254, "local": 255, "default": 253}


def _iproute2(ns: Netns, dst: str) -> dict[str, object]:
    """``ip -j route get DST`` in ``ns``, in route_get's terms."""
    done = ns.exec("ip", "-j", "route", "get", dst, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()}
    found = json.loads(done.stdout)[0]
    table = str(found.get("table", "main"))
    return {
        "gateway": found.get("gateway"),
        "dev": found["dev"],
        "table": _TABLES.get(table) or int(table),
    }


def _ours(ns: Netns, *dsts: str) -> list[dict[str, object]]:
    done = ns.exec(sys.executable, "-c", _PROBE, *dsts)
    return list(json.loads(done.stdout))


def _v4_default(ns: Netns) -> None:
    ns.ip("route", "add", "default", "via", "10.213.120.1")


def _v6_link_local(ns: Netns) -> None:
    ns.ip("-6", "addr", "add", "fd5e:120::2/64", "dev", "eth0", "nodad")
    ns.ip("-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")


def _policy(ns: Netns) -> None:
    ns.ip("route", "add", "default", "via", "10.213.120.7", "table", "100")
    ns.ip("rule", "add", "from", "all", "lookup", "100", "pref", "100")


def _on_link(ns: Netns) -> None:
    ns.ip("route", "add", "default", "dev", "eth0")


def _multipath(ns: Netns) -> None:
    ns.ip("route", "add", "default", "nexthop", "via", "10.213.120.1", "nexthop", "via",
          "10.213.120.3")  # fmt: skip


@pytest.mark.netns
@pytest.mark.parametrize(
    ("setup", "dst"),
    [
        (_v4_default, "1.1.1.1"),
        (_v6_link_local, "2606:4700:4700::1111"),
        (_policy, "1.1.1.1"),
        (_on_link, "1.1.1.1"),
        (_multipath, "1.1.1.1"),
        (_v4_default, "2606:4700:4700::1111"),  # no IPv6 route at all
    ],
    ids=["v4-default", "v6-link-local", "policy-table-100", "on-link", "multipath", "no-route"],
)
def test_route_get_answers_as_iproute2_does(
    lab: Lab, setup: Callable[[Netns], None], dst: str
) -> None:
    ns = lab.netns("hgwn")
    ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
    for link in ("eth0", "eth1"):
        ns.ip("link", "set", link, "up")
    ns.ip("addr", "add", "10.213.120.2/24", "dev", "eth0")
    setup(ns)
    theirs = _iproute2(ns, dst)
    (ours,) = _ours(ns, dst)
    if "error" in theirs:
        assert "Network is unreachable" in str(theirs["error"])
        assert ours == {"errno": 101}  # ENETUNREACH
    else:
        assert ours == theirs


@pytest.mark.netns
def test_subscribe_wakes_on_a_route_change(lab: Lab) -> None:
    ns = lab.routed("hgwn", "10.213.121.2/24", "10.213.121.1")
    # The socket must live in the namespace: a child there reports what it saw.
    watcher = r"""
import select, sys
from hostgw.detection import rtnl
sock = rtnl.subscribe()
idle = select.select([sock], [], [], 0.3)[0]
print("ready", "readable" if idle else "quiet", flush=True)
sys.stdin.readline()  # the change is made now
woke = select.select([sock], [], [], 20)[0]
print("woke" if woke else "slept", flush=True)
"""
    proc = ns.spawn(sys.executable, "-c", watcher, stdin=-1, stdout=-1)
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().split() == ["ready", "quiet"], "readable with no change"
    ns.ip("route", "replace", "default", "via", "10.213.121.9")
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "woke"
    assert proc.wait(timeout=20) == 0


def test_request_is_what_the_kernel_reads() -> None:
    # nlmsghdr (16) + rtmsg (12) + RTA_DST (4 + 4) for IPv4
    message = rtnl.request("10.213.0.9", sequence=7)
    length, kind, flags, seq, _port = struct.unpack_from("=IHHII", message)
    assert (length, kind, flags, seq) == (len(message), rtnl.RTM_GETROUTE, rtnl.NLM_F_REQUEST, 7)
    assert message[16] == socket.AF_INET and message[17] == 32  # family, dst_len
    assert message[-4:] == socket.inet_aton("10.213.0.9")
    assert len(rtnl.request("fd5e::9")) == 16 + 12 + 4 + 16


def test_an_error_answer_raises_with_the_kernels_errno() -> None:
    error = struct.pack("=IHHII", 36, rtnl.NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -101)
    error += b"\0" * 16  # the request's header, echoed
    with pytest.raises(rtnl.NetlinkError) as caught:
        rtnl.read_route(error)
    assert caught.value.errno == 101


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_readers_take_any_bytes(data: bytes) -> None:
    # A truncated or hostile answer ends the read; only NetlinkError comes out.
    with contextlib.suppress(rtnl.NetlinkError):
        rtnl.read_route(data)
    list(rtnl.messages(data))
    rtnl.attributes(data, 0)


@settings(max_examples=300, deadline=None)
@given(
    gateway=st.one_of(st.none(), st.ip_addresses(v=4).map(str)),
    oif=st.one_of(st.none(), st.integers(1, 2**32 - 1)),
    table=st.integers(0, 2**32 - 1),
)
def test_a_route_answer_reads_back(gateway: str | None, oif: int | None, table: int) -> None:
    attrs = b""
    for kind, value in (
        (rtnl.RTA_GATEWAY, None if gateway is None else socket.inet_aton(gateway)),
        (rtnl.RTA_OIF, None if oif is None else struct.pack("=I", oif)),
        (rtnl.RTA_TABLE, struct.pack("=I", table)),
    ):
        if value is not None:
            attrs += struct.pack("=HH", 4 + len(value), kind) + value
    body = struct.pack("=BBBBBBBBI", socket.AF_INET, 32, 0, 0, min(table, 255), 0, 0, 1, 0) + attrs
    message = struct.pack("=IHHII", 16 + len(body), rtnl.RTM_NEWROUTE, 0, 1, 0) + body
    assert rtnl.read_route(message) == rtnl.Route(gateway, oif, table)
