"""A hosts or DNS answer that is the container's own address is rejected (issue 11 part 3).

Under pasta a container holds the host's addresses on a tap, and Podman 4.3
names one of them ``host.containers.internal``: that answer reaches only the
container. Under host networking the host's own address is right: where a
runtime's bridge is in our own namespace, and where the address is on a
network card, a bridge or a bond, as under rootless Podman's ``--network
host``. The parsers are checked on the kernel's own
text, in real namespaces (a real tap, veth and bridge), and the sh drop-in
must agree with hostgw there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hostgw.detection import detect
from hostgw.detection.own import Local, OwnAddresses, parse_fib_trie, parse_if_inet6
from tests.envcases import container, start_dnsmasq
from tests.helpers import hostgw_cmd, make_root, r4
from tests.netns import Lab, Netns
from tests.shsnippet import SCRIPT, python_ip, shells, write_link, write_net_dev

FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.0.2.0/24 2 0 2
        +-- 192.0.2.0/30 2 0 2
           |-- 192.0.2.0
              /24 link UNICAST
           |-- 192.0.2.2
              /32 host LOCAL
        |-- 192.0.2.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 192.0.2.0/24 2 0 2
           |-- 192.0.2.2
              /32 host LOCAL
"""

IF_INET6 = """00000000000000000000000000000001 01 80 10 80       lo
fe8000000000000040396efffef246db 03 40 20 80     eth0
fd5e0250000000000000000000000002 03 40 00 82     eth0
"""


def test_fib_trie_local_prefixes() -> None:
    assert parse_fib_trie(FIB_TRIE) == (
        Local("127.0.0.0", 8),
        Local("127.0.0.1", 32),
        Local("192.0.2.2", 32),
    )


def test_if_inet6_addresses() -> None:
    assert parse_if_inet6(IF_INET6) == (
        Local("::1", 128, "lo"),
        Local("fe80::4039:6eff:fef2:46db", 128, "eth0"),
        Local("fd5e:250::2", 128, "eth0"),
    )


def test_holds_by_prefix_and_ignores_zones() -> None:
    own = OwnAddresses(parse_fib_trie(FIB_TRIE) + parse_if_inet6(IF_INET6))
    assert own.holds("127.3.4.5") == Local("127.0.0.0", 8)
    assert own.holds("192.0.2.2") == Local("192.0.2.2", 32)
    assert own.holds("192.0.2.1") is None
    assert own.holds("fe80::4039:6eff:fef2:46db%eth0") is not None
    assert own.holds("fd5e:250::1") is None
    assert own.holds("not an address") is None


def _pasta_root(tmp_path: Path, *, bridge: bool) -> str:
    links = {"lo": False, "eth0": False, **({"podman0": True} if bridge else {})}
    root = make_root(
        tmp_path,
        route=r4("192.0.2.1"),
        hosts="192.0.2.2 host.containers.internal\n",
        links=links,
    )
    (tmp_path / "proc/net/fib_trie").write_text(FIB_TRIE)
    (tmp_path / "proc/net/if_inet6").write_text(IF_INET6)
    return root


def test_own_address_in_hosts_is_rejected_with_the_reason(tmp_path: Path) -> None:
    found = detect(root=_pasta_root(tmp_path, bridge=False), env={})
    assert (found.address, found.strategy) == ("192.0.2.1", "route")
    hosts = found.attempts[1]
    assert hosts.address is None
    (why,) = hosts.rejected
    assert "192.0.2.2 is this container's own address" in why
    assert "fib_trie: 192.0.2.2/32 LOCAL" in why


def test_host_networking_keeps_the_hosts_own_address(tmp_path: Path) -> None:
    found = detect(root=_pasta_root(tmp_path, bridge=True), env={})
    assert (found.address, found.strategy) == ("192.0.2.2", "hosts")


# 192.0.2.0/24 without a gateway, on eth0: the interface of 192.0.2.2.
LINK_ROUTE = "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"


def _kind_root(tmp_path: Path, route: str = LINK_ROUTE, *eth0: str, dev: str = "") -> str:
    """The pasta snapshot with ``route`` added, ``eth0``'s entries in sys/class/net, and a
    proc/net/dev that lists its links (``dev``: one more)."""
    root = _pasta_root(tmp_path, bridge=False)
    with open(tmp_path / "proc/net/route", "a") as routes:
        routes.write(route)
    write_link(tmp_path, "eth0", *eth0)
    write_net_dev(tmp_path, ["lo", "eth0", *([dev] if dev else [])])
    return root


def _sh_ips(root: str, tmp_path: Path, *args: str) -> list[str]:
    answers = []
    for shell in shells(tmp_path / "shells"):
        done = shell.run(*args, "ip", env={"HOSTGW_ROOT": root})
        answers.append(done.stdout.strip())
    return answers


@pytest.mark.parametrize(
    ("entry", "kind"),
    [("device", "a network card"), ("bridge", "a bridge"), ("bonding", "a bond")],
)
def test_own_address_on_one_of_the_hosts_interfaces_is_kept(
    tmp_path: Path, entry: str, kind: str
) -> None:
    # Rootless Podman, --network host: the host's LAN address on its network
    # card (or a bridge, a bond), with no runtime bridge in sight.
    root = _kind_root(tmp_path, LINK_ROUTE, entry)
    with open(tmp_path / "etc/hosts", "a") as hosts:
        hosts.write("fd5e:250::2 host.containers.internal\n")
    found = detect(root=root, env={}, family=4)
    assert (found.address, found.strategy) == ("192.0.2.2", "hosts")
    assert found.detail == (
        f"{root}/etc/hosts:2: 192.0.2.2 host.containers.internal; 192.0.2.2 is our own "
        f"address, on eth0, {kind} (sys/class/net/eth0/{entry}), so we share the host's "
        "network and it is the host's"
    )
    assert _sh_ips(root, tmp_path) == ["192.0.2.2", "192.0.2.2"]
    # The IPv6 address is on eth0 too (if_inet6 names it).
    assert python_ip({}, root, 6) == "fd5e:250::2"
    assert _sh_ips(root, tmp_path, "-6") == ["fd5e:250::2", "fd5e:250::2"]


@pytest.mark.parametrize(
    ("eth0", "route", "dev", "on"),
    [
        ((), LINK_ROUTE, "", "on eth0, which is no network card, bridge or bond"),
        (("tun_flags",), LINK_ROUTE, "", "on eth0, which is no network card, bridge or bond"),
        # A /sys that is not ours (the host's, mounted in): it does not list proc/net/dev.
        (("device",), LINK_ROUTE, "wlan0", "sys/class/net does not list the interfaces of"),
        (("device",), "", "", "on no interface a route without a gateway names"),
        # A route through a gateway says nothing of where the address is.
        (("device",), LINK_ROUTE.replace("00000000\t0001", "0100A8C0\t0003"), "", "on no "),
    ],
    ids=["veth", "tap", "foreign-sys", "no-route", "gateway-route"],
)
def test_own_address_elsewhere_is_rejected_saying_where(
    tmp_path: Path, eth0: tuple[str, ...], route: str, dev: str, on: str
) -> None:
    root = _kind_root(tmp_path, route, *eth0, dev=dev)
    found = detect(root=root, env={}, family=4)
    assert (found.address, found.strategy) == ("192.0.2.1", "route")
    (why,) = found.attempts[1].rejected
    assert "192.0.2.2 is this container's own address (" in why
    assert on in why
    assert _sh_ips(root, tmp_path) == ["192.0.2.1", "192.0.2.1"]


def test_a_missing_proc_net_dev_trusts_no_interface(tmp_path: Path) -> None:
    root = _kind_root(tmp_path, LINK_ROUTE, "device")
    (tmp_path / "proc/net/dev").unlink()
    (why,) = detect(root=root, env={}, family=4).attempts[1].rejected
    assert "sys/class/net does not list the interfaces of proc/net/dev" in why
    assert _sh_ips(root, tmp_path) == ["192.0.2.1", "192.0.2.1"]


def test_loopback_in_hosts_stays_rejected(tmp_path: Path) -> None:
    # 127.0.0.0/8 is LOCAL and no route in proc/net/route names it: still the container's.
    root = _kind_root(tmp_path, LINK_ROUTE, "device")
    (tmp_path / "etc/hosts").write_text("127.0.0.1 localhost host.docker.internal\n")
    found = detect(root=root, env={}, family=4)
    assert (found.address, found.strategy) == ("192.0.2.1", "route")
    (why,) = found.attempts[1].rejected
    assert "127.0.0.1 is this container's own address" in why
    assert _sh_ips(root, tmp_path) == ["192.0.2.1", "192.0.2.1"]


def test_unreadable_files_reject_nothing(tmp_path: Path) -> None:
    root = make_root(tmp_path, route=r4("192.0.2.1"), hosts="192.0.2.2 host.docker.internal\n")
    assert detect(root=root, env={}).address == "192.0.2.2"


# --- real namespaces -----------------------------------------------------------


def _answers(box: Netns, tmp: Path, *args: str) -> tuple[dict[str, Any], list[str]]:
    """hostgw ip --json in ``box``, and the sh drop-in's answer under dash and busybox."""
    done = box.exec(*hostgw_cmd(), "ip", "--json", *args, env={"PATH": "/usr/bin:/bin"})
    found = json.loads(done.stdout)
    sh_answers = []
    for shell in shells(tmp):
        # env -i inside: the namespace is entered with this machine's ip, not busybox's.
        ran = box.exec(
            "env", "-i", f"PATH={shell.path}", *shell.argv, str(SCRIPT), "ip", check=False
        )
        sh_answers.append(ran.stdout.strip())
    return found, sh_answers


def _doctor(box: Netns, *args: str) -> dict[str, Any]:
    """``hostgw doctor --json`` in ``box``: every strategy runs, DNS for its whole
    bound (``hostgw ip`` gives it only a few ms once the route has answered,
    which a loaded machine may miss; these tests are about what DNS answered)."""
    done = box.exec(*hostgw_cmd(), "doctor", "--json", *args, env={"PATH": "/usr/bin:/bin"})
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.mark.netns
def test_own_address_on_a_veth_is_rejected(lab: Lab, tmp_path: Path) -> None:
    # The container holds the address its hosts file names as the host.
    _, box, _ = container(lab, 30, v6=True)
    box.ip("route", "add", "default", "via", "10.213.30.1")
    box.hosts("10.213.30.2 host.containers.internal\nfd5e:30::2 host.docker.internal\n")
    found, sh_answers = _answers(box, tmp_path)
    assert (found["address"], found["strategy"]) == ("10.213.30.1", "route")
    hosts = found["attempts"][1]
    assert hosts["address"] is None
    v4, v6 = sorted(hosts["rejected"], key=lambda why: ":" in why.split()[1])
    assert "10.213.30.2 is this container's own address" in v4
    assert "fib_trie: 10.213.30.2/32 LOCAL" in v4
    assert "fd5e:30::2 is this container's own address" in v6
    assert "if_inet6: fd5e:30::2 on eth0" in v6
    assert "on eth0, which is no network card, bridge or bond" in v4
    assert "on eth0, which is no network card, bridge or bond" in v6
    assert sh_answers == ["10.213.30.1", "10.213.30.1"]


@pytest.mark.netns
def test_pasta_like_namespace_with_a_real_tap(lab: Lab, tmp_path: Path) -> None:
    # As pasta wires it: the host's address on a tap named eth0, the host's routes.
    box = lab.netns("hgwc")
    box.ip("tuntap", "add", "dev", "eth0", "mode", "tap")
    box.ip("addr", "add", "10.213.34.2/24", "dev", "eth0")
    box.ip("link", "set", "eth0", "up")
    box.ip("route", "add", "default", "via", "10.213.34.1", "dev", "eth0", "onlink")
    box.hosts("10.213.34.2 host.containers.internal\n")
    found, sh_answers = _answers(box, tmp_path)
    assert (found["address"], found["strategy"]) == ("10.213.34.1", "route")
    (why,) = found["attempts"][1]["rejected"]
    assert "10.213.34.2 is this container's own address" in why
    assert "on eth0, which is no network card, bridge or bond" in why
    assert sh_answers == ["10.213.34.1", "10.213.34.1"]


def _host_layout(lab: Lab, net: int) -> tuple[Netns, Netns]:
    """A namespace laid out as a host: its LAN address on a bridge, br0, with its
    uplink (eth0) enslaved, default route to the LAN router 10.213.NET.1."""
    host, box, _ = container(lab, net, v6=True)
    box.ip("addr", "flush", "dev", "eth0")
    box.ip("link", "add", "br0", "type", "bridge")
    box.ip("link", "set", "eth0", "master", "br0")
    box.ip("addr", "add", f"10.213.{net}.2/24", "dev", "br0")
    box.ip("addr", "add", f"fd5e:{net}::2/64", "dev", "br0", "nodad")
    box.ip("link", "set", "br0", "up")
    box.ip("route", "add", "default", "via", f"10.213.{net}.1")
    return host, box


@pytest.mark.netns
def test_host_namespace_without_a_runtime_bridge_keeps_its_own_address(
    lab: Lab, tmp_path: Path
) -> None:
    # Rootless Podman, --network host, on a host whose LAN address is on a
    # bridge: no podman0 here, the hosts file names the host's own address,
    # which is right. Also over IPv6.
    _, box = _host_layout(lab, 35)
    box.hosts("10.213.35.2 host.containers.internal\nfd5e:35::2 host.containers.internal\n")
    found, sh_answers = _answers(box, tmp_path)
    assert (found["address"], found["strategy"]) == ("10.213.35.2", "hosts")
    assert (
        "10.213.35.2 is our own address, on br0, a bridge (sys/class/net/br0/bridge)"
        in (found["detail"])
    )
    assert found["attempts"][1]["rejected"] == []
    assert sh_answers == ["10.213.35.2", "10.213.35.2"]
    six, _ = _answers(box, tmp_path, "-6")
    assert (six["address"], six["strategy"]) == ("fd5e:35::2", "hosts")


@pytest.mark.netns
def test_host_network_namespace_keeps_the_hosts_address(lab: Lab, tmp_path: Path) -> None:
    # Podman with --network host: podman0 is here, and the hosts file names the
    # host's own LAN address, which is right.
    _, box, _ = container(lab, 31)
    box.ip("link", "add", "podman0", "type", "bridge")
    box.ip("route", "add", "default", "via", "10.213.31.1")
    box.hosts("10.213.31.2 host.containers.internal\n")
    found, sh_answers = _answers(box, tmp_path)
    assert (found["address"], found["strategy"]) == ("10.213.31.2", "hosts")
    assert sh_answers == ["10.213.31.2", "10.213.31.2"]


@pytest.mark.netns
def test_own_address_from_dns_is_rejected(lab: Lab) -> None:
    host, box, _ = container(lab, 32)
    box.ip("route", "add", "default", "via", "10.213.32.1")
    start_dnsmasq(host, "10.213.32.1", {"host.docker.internal": "10.213.32.2"})
    box.resolv("nameserver 10.213.32.1\noptions timeout:1 attempts:1\n")
    report = _doctor(box, "--strategy", "dns", "--strategy", "route")
    found = report["answer"]
    assert (found["address"], found["strategy"]) == ("10.213.32.1", "route")
    dns = report["attempts"][0]
    assert dns["strategy"] == "dns"
    assert dns["address"] is None
    assert any("10.213.32.2 is this container's own address" in r for r in dns["rejected"])


@pytest.mark.netns
def test_own_address_from_dns_on_a_hosts_bridge_is_kept_with_the_note(lab: Lab) -> None:
    host, box = _host_layout(lab, 36)
    start_dnsmasq(host, "10.213.36.1", {"host.docker.internal": "10.213.36.2"})
    box.resolv("nameserver 10.213.36.1\noptions timeout:1 attempts:1\n")
    found = _doctor(box, "-4", "--strategy", "dns", "--strategy", "route")["answer"]
    assert (found["address"], found["strategy"]) == ("10.213.36.2", "dns")
    assert found["detail"].endswith(
        "; 10.213.36.2 is our own address, on br0, a bridge (sys/class/net/br0/bridge), so we "
        "share the host's network and it is the host's"
    )
