"""The container environments of docs/environments.md, rebuilt for real in network namespaces.

Each :class:`Case` builds its environment with a :class:`tests.netns.Lab`
(namespaces, a bridge on the "host" side, veth pairs, routes with metrics,
``/etc/netns/NAME/hosts`` and ``resolv.conf``, a real dnsmasq where DNS
matters) and says what the answer must be. Reuse them to check any
implementation against the same expectations::

    from tests.envcases import CASES
    for case in CASES:
        done = case.run(lab, [*hostgw_cmd(), "ip"])   # or ["sh", "hostgw.sh"]
        assert done.stdout.strip() == case.output

``output`` is what ``hostgw ip`` prints (None: nothing, exit 3), and
``strategy`` the strategy that must win; ``in_grace`` marks an answer that DNS
gives within the few ms the route leaves it, which a loaded machine may miss
on one run (:func:`settled` allows three). ``needs`` names what a case relies
on beyond files and environment variables: ``"netlink"`` (the kernel's
route lookup, for policy routing or a hidden /proc) and ``"dns"`` (the
system resolver); a simpler implementation may leave those cases out.

Every address lives in 10.213.0.0/16 or fd5e::/16, inside namespaces.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tests.netns import Lab, Netns, sh
from tests.waiting import until

Build = Callable[[Lab], "tuple[Netns, dict[str, str]]"]


@dataclass(frozen=True)
class Case:
    """One environment: how to build it and what ``hostgw ip`` must answer."""

    name: str
    doc: str
    build: Build
    output: str | None  # the line `hostgw ip ARGS` prints; None: no answer, exit 3
    strategy: str | None  # the winning strategy; None when there is no answer
    args: tuple[str, ...] = ()  # extra arguments after `ip`
    needs: frozenset[str] = field(default_factory=frozenset)
    wrap: tuple[str, ...] = ()  # argv run inside the namespace before the command
    timeout: float = 30.0  # generous bound for the whole subprocess
    # The answer is DNS's within the grace the route leaves it (see settled()).
    in_grace: bool = False

    @property
    def tries(self) -> int:
        """Runs of ``hostgw ip`` allowed for the answer (:func:`settled`)."""
        return GRACE_TRIES if self.in_grace else 1

    @property
    def exit_code(self) -> int:
        """0 with an answer, 3 (no gateway found) without."""
        return 0 if self.output is not None else 3

    @property
    def address(self) -> str | None:
        """The expected address without brackets."""
        return self.output.strip("[]") if self.output else None

    def environ(self, extra: dict[str, str]) -> dict[str, str]:
        """A clean environment: PATH and the case's variables, nothing inherited."""
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **extra}

    def run(self, lab: Lab, argv: Sequence[str], *more: str) -> subprocess.CompletedProcess[str]:
        """Build the case and run ``argv + args + more`` inside it; never raises on exit code."""
        ns, env = self.build(lab)
        return self.exec(ns, env, argv, *more)

    def exec(
        self,
        ns: Netns,
        env: dict[str, str],
        argv: Sequence[str],
        *more: str,
        args: Sequence[str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``argv + args + more`` in a built namespace; ``args`` replaces the case's."""
        args = self.args if args is None else args
        return subprocess.run(
            ["ip", "netns", "exec", ns.name, *self.wrap, *argv, *args, *more],
            env=self.environ(env),
            capture_output=True,
            text=True,
            timeout=self.timeout,
            check=False,
        )


GRACE_TRIES = 3
"""Runs of ``hostgw ip`` that :func:`settled` allows for an answer DNS gives
within its grace (``hostgw.detection.walk.GRACE``, a few ms once the route
has answered): a loaded machine may miss it once; three runs in a row
cannot all be that slow."""

T = TypeVar("T")


def settled(
    run: Callable[[], T],
    answered: Callable[[T], bool],
    excused: Callable[[T], bool] = lambda _: True,
    tries: int = GRACE_TRIES,
) -> T:
    """The first of up to ``tries`` runs that ``answered`` accepts, else the last.

    A run that is neither answered nor ``excused`` (a JSON report whose dns
    attempt says the route answered first) is returned at once, to fail.
    """
    done = run()
    for _ in range(tries - 1):
        if answered(done) or not excused(done):
            break
        done = run()
    return done


def grace_missed(detail: object) -> bool:
    """Whether a dns attempt's ``detail`` says it was cut by the grace."""
    return "by when a lower-ranked strategy had answered" in str(detail)


# --- building blocks ---------------------------------------------------------


def container(lab: Lab, net: int, *, v4: bool = True, v6: bool = False) -> tuple[Netns, Netns, str]:
    """A "host" namespace with a bridge and a "container" namespace on it (eth0).

    The bridge holds 10.213.NET.1/24 (and fd5e:NET::1/64); the container
    10.213.NET.2/24 (and fd5e:NET::2/64). No default route yet. Returns
    ``(host, container, bridge)``.
    """
    host = lab.netns("hgwh")
    box = lab.netns("hgwc")
    bridge = lab.bridge(host)
    outer, _ = lab.veth(host, box, b_name="eth0")
    host.ip("link", "set", outer, "master", bridge)
    if v4:
        host.ip("addr", "add", f"10.213.{net}.1/24", "dev", bridge)
        box.ip("addr", "add", f"10.213.{net}.2/24", "dev", "eth0")
    if v6:
        host.ip("addr", "add", f"fd5e:{net}::1/64", "dev", bridge, "nodad")
        box.ip("addr", "add", f"fd5e:{net}::2/64", "dev", "eth0", "nodad")
    return host, box, bridge


def start_dnsmasq(host: Netns, listen: str, answers: dict[str, str]) -> None:
    """A real dnsmasq in ``host`` on ``listen``:53 answering ``answers`` (name -> IPv4)."""
    dnsmasq = "/usr/sbin/dnsmasq" if os.path.exists("/usr/sbin/dnsmasq") else "dnsmasq"
    host.spawn(
        dnsmasq,
        "--no-daemon",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        f"--listen-address={listen}",
        "--port=53",
        *(f"--address=/{name}/{ip}" for name, ip in answers.items()),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    until(
        f"dnsmasq to listen on {listen}:53 in {host.name}",
        lambda: listening(host, "-Hlun", f"{listen}:53"),
        timeout=15,
        interval=0.05,
    )


def listening(host: Netns, flags: str, where: str) -> bool:
    """Whether a socket in ``host`` listens on ``where`` (``ss FLAGS``: -Hltn TCP, -Hlun UDP)."""
    return bool(sh("ip", "netns", "exec", host.name, "ss", flags, f"src {where}").stdout.strip())


def drop_dns(host: Netns) -> None:
    """nft in ``host``: drop every DNS packet, so a resolver there never answers."""
    rules = (
        "table inet hgwdrop {\n chain input {\n  type filter hook input priority 0;\n"
        "  udp dport 53 drop\n  tcp dport 53 drop\n }\n}\n"
    )
    sh("ip", "netns", "exec", host.name, "nft", "-f", "-", input=rules)


# --- the cases ---------------------------------------------------------------


def _docker_bridge(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 1)
    box.ip("route", "add", "default", "via", "10.213.1.1")
    return box, {}


def _compose_network(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 2)
    box.ip("route", "add", "default", "via", "10.213.2.1")
    return box, {}


def _compose_add_host(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 3)
    box.ip("route", "add", "default", "via", "10.213.3.1")
    box.hosts("10.213.1.1\thost.docker.internal\n")  # --add-host=...:host-gateway
    return box, {}


def _several_defaults(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 4)
    box.ip("route", "add", "default", "via", "10.213.4.1", "metric", "200")
    box.ip("route", "add", "default", "via", "10.213.4.254", "metric", "100")
    return box, {}


def _internal_network(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 5)  # the link route only, as `--internal` leaves it
    return box, {}


def _host_network(lab: Lab) -> tuple[Netns, dict[str, str]]:
    # The "container" is the host's own namespace: docker0 is here, and the
    # default route goes to the LAN router.
    _, box, _ = container(lab, 6)
    box.ip("link", "add", "docker0", "type", "bridge")
    box.ip("addr", "add", "10.213.60.1/24", "dev", "docker0")
    box.ip("route", "add", "default", "via", "10.213.6.1")
    return box, {}


def _docker_desktop_dns(lab: Lab) -> tuple[Netns, dict[str, str]]:
    host, box, _ = container(lab, 7)
    box.ip("route", "add", "default", "via", "10.213.7.1")
    start_dnsmasq(host, "10.213.7.1", {"host.docker.internal": "10.213.7.254"})
    box.resolv("nameserver 10.213.7.1\noptions timeout:1 attempts:1\n")
    return box, {}


def _dns_unreachable(lab: Lab) -> tuple[Netns, dict[str, str]]:
    # A resolver that never answers, and glibc told to wait 10 s x 3 for it:
    # only hostgw's own bound (1 s) lets the command finish in time.
    host, box, bridge = container(lab, 8)
    host.ip("addr", "add", "10.213.8.53/24", "dev", bridge)
    drop_dns(host)
    box.ip("route", "add", "default", "via", "10.213.8.1")
    box.resolv("nameserver 10.213.8.53\noptions timeout:10 attempts:3\n")
    return box, {}


def _podman_rootful(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 9)
    box.ip("route", "add", "default", "via", "10.213.9.254")
    box.hosts("10.213.9.1 host.containers.internal\n")
    return box, {}


def _k8s_host_ip(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 10)
    box.ip("route", "add", "default", "via", "10.213.10.1")
    return box, {"HOST_IP": "10.213.10.100", "KUBERNETES_SERVICE_HOST": "10.213.200.1"}


def _ipv6_only(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 11, v4=False, v6=True)
    box.ip("-6", "route", "add", "default", "via", "fd5e:11::1")
    return box, {}


def _explicit_override(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 12)
    box.ip("route", "add", "default", "via", "10.213.12.1")
    box.hosts("10.213.12.7 host.docker.internal\n")
    return box, {"HOSTGW_IP": "10.1.2.3"}


def _override_hostname(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 21)
    box.ip("route", "add", "default", "via", "10.213.21.1")
    box.hosts("10.213.21.5 frontdoor\n")
    return box, {"HOSTGW_IP": "frontdoor"}


def _ecmp(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 13)
    box.ip(
        "route",
        "add",
        "default",
        "nexthop",
        "via",
        "10.213.13.1",
        "dev",
        "eth0",
        "nexthop",
        "via",
        "10.213.13.254",
        "dev",
        "eth0",
    )
    return box, {}


def _policy_routing(lab: Lab) -> tuple[Netns, dict[str, str]]:
    # The only default is in table 100, chosen by a rule: /proc/net/route
    # (main table only) has none; the kernel's own lookup finds it.
    _, box, _ = container(lab, 14)
    box.ip("route", "add", "default", "via", "10.213.14.1", "table", "100")
    box.ip("rule", "add", "pref", "100", "lookup", "100")
    return box, {}


def _calico(lab: Lab, *, host_ip: bool) -> tuple[Netns, dict[str, str]]:
    # Calico: a /32 on eth0 and a default via 169.254.1.1, answered by proxy
    # ARP on the host side: not the node.
    _, box, _ = container(lab, 15, v4=False)
    box.ip("addr", "add", "10.213.15.5/32", "dev", "eth0")
    box.ip("route", "add", "169.254.1.1", "dev", "eth0", "scope", "link")
    box.ip("route", "add", "default", "via", "169.254.1.1", "dev", "eth0")
    env = {"KUBERNETES_SERVICE_HOST": "10.213.200.1"}
    if host_ip:
        env["HOST_IP"] = "10.213.15.100"
    return box, env


def _ipv6_link_local_gateway(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 16, v4=False, v6=True)
    box.ip("-6", "route", "add", "default", "via", "fe80::1", "dev", "eth0")
    return box, {}


def _dual_stack(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 17, v6=True)
    box.ip("route", "add", "default", "via", "10.213.17.1")
    box.ip("-6", "route", "add", "default", "via", "fd5e:17::1")
    return box, {}


def _onlink_default(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 18)
    box.ip("route", "add", "default", "dev", "eth0")  # no gateway to name
    return box, {}


def _no_proc(lab: Lab) -> tuple[Netns, dict[str, str]]:
    _, box, _ = container(lab, 19)
    box.ip("route", "add", "default", "via", "10.213.19.1")
    return box, {}


# An empty /proc in a private mount namespace: /proc/net/route is gone.
_HIDE_PROC = ("unshare", "--mount", "sh", "-c", 'mount -t tmpfs none /proc && exec "$@"', "sh")

CASES: list[Case] = [
    Case("docker-bridge", "1. Docker default bridge", _docker_bridge, "10.213.1.1", "route"),
    Case("compose-network", "2. user-defined network", _compose_network, "10.213.2.1", "route"),
    Case(
        "compose-add-host",
        "2. --add-host=host.docker.internal:host-gateway wins",
        _compose_add_host,
        "10.213.1.1",
        "hosts",
    ),
    Case(
        "several-defaults",
        "3. two defaults: metric 100 wins over 200",
        _several_defaults,
        "10.213.4.254",
        "route",
    ),
    Case("internal-network", "4. --internal: no default route", _internal_network, None, None),
    Case(
        "host-network",
        "5. --network host: docker0 here",
        _host_network,
        "127.0.0.1",
        "host-network",
    ),
    Case(
        "docker-desktop-dns",
        "6. host.docker.internal from DNS (dnsmasq)",
        _docker_desktop_dns,
        "10.213.7.254",
        "dns",
        needs=frozenset({"dns"}),
        in_grace=True,
    ),
    Case(
        "dns-unreachable",
        "6. a resolver that never answers: bounded, then route",
        _dns_unreachable,
        "10.213.8.1",
        "route",
        needs=frozenset({"dns"}),
        timeout=20.0,
    ),
    Case("podman-rootful", "7. host.containers.internal", _podman_rootful, "10.213.9.1", "hosts"),
    Case("k8s-host-ip", "8. Kubernetes HOST_IP", _k8s_host_ip, "10.213.10.100", "k8s"),
    Case("ipv6-only", "9. IPv6 only", _ipv6_only, "fd5e:11::1", "route"),
    Case("ipv6-only-6", "9. IPv6 only, -6", _ipv6_only, "fd5e:11::1", "route", args=("-6",)),
    Case(
        "ipv6-only-bracket",
        "9. IPv6 only, --bracket",
        _ipv6_only,
        "[fd5e:11::1]",
        "route",
        args=("--bracket",),
    ),
    Case("explicit-override", "10. HOSTGW_IP", _explicit_override, "10.1.2.3", "env"),
    Case(
        "override-hostname",
        "10. HOSTGW_IP=a hostname, resolved (here from /etc/hosts)",
        _override_hostname,
        "10.213.21.5",
        "env",
        needs=frozenset({"dns"}),
    ),
    Case("ecmp", "multipath default: the first next hop", _ecmp, "10.213.13.1", "route"),
    Case(
        "policy-routing",
        "default only in table 100 (ip rule)",
        _policy_routing,
        "10.213.14.1",
        "netlink",
        needs=frozenset({"netlink"}),
    ),
    Case(
        "calico-no-host-ip",
        "Calico 169.254.1.1 is not the node; no HOST_IP",
        lambda lab: _calico(lab, host_ip=False),
        None,
        None,
    ),
    Case(
        "calico-host-ip",
        "Calico with HOST_IP",
        lambda lab: _calico(lab, host_ip=True),
        "10.213.15.100",
        "k8s",
    ),
    Case(
        "ipv6-link-local-gateway",
        "default via fe80::1: scoped to eth0",
        _ipv6_link_local_gateway,
        "fe80::1%eth0",
        "route",
    ),
    Case("dual-stack", "IPv4 and IPv6: IPv4 first", _dual_stack, "10.213.17.1", "route"),
    Case(
        "dual-stack-6",
        "IPv4 and IPv6, -6",
        _dual_stack,
        "fd5e:17::1",
        "route",
        args=("-6",),
    ),
    Case("onlink-default", "default dev eth0, no gateway", _onlink_default, None, None),
    Case(
        "no-proc",
        "no /proc: the kernel's lookup still answers",
        _no_proc,
        "10.213.19.1",
        "netlink",
        needs=frozenset({"netlink"}),
        wrap=_HIDE_PROC,
    ),
]
"""Every case, docs/environments.md E1 to E10 first, then the extras."""

BY_NAME = {case.name: case for case in CASES}
