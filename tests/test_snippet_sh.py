"""The sh drop-in against hostgw, on fake roots (HOSTGW_ROOT), under dash, busybox and bash.

Each case writes proc/net/route, proc/net/ipv6_route, etc/hosts and
sys/class/net under a temp directory, runs the real script under each shell,
and requires the same answer as ``hostgw.gateway_env`` with the same root and
environment (a root other than / leaves out dns, netlink and netifaces there
too), and that answer to be the one the case expects.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hostgw.detection.routes import ipv4_to_hex, ipv6_to_hex
from hostgw.runtime.snippet import MARKER, snippet
from tests.shsnippet import (
    SCRIPT,
    Shell,
    bash,
    parse_exports,
    python_answer,
    python_ip,
    root_tree,
    sh_answer,
    shells,
)

ANY4 = ".".join("0" * 4)  # the unspecified address, as route files hold it
HEADER4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


def r4(
    gw: str = ANY4,
    *,
    dest: str = ANY4,
    mask: str = ANY4,
    flags: int = 3,
    metric: int = 0,
    iface: str = "eth0",
) -> str:
    """One /proc/net/route line, as the kernel prints it on this machine."""
    return (
        f"{iface}\t{ipv4_to_hex(dest)}\t{ipv4_to_hex(gw)}\t{flags:04X}\t0\t0\t{metric}\t"
        f"{ipv4_to_hex(mask)}\t0\t0\t0\n"
    )


def r6(
    gw: str = "::",
    *,
    dest: str = "::",
    plen: int = 0,
    flags: int = 3,
    metric: int = 1024,
    iface: str = "eth0",
    src_len: int = 0,
) -> str:
    """One /proc/net/ipv6_route line."""
    return (
        f"{ipv6_to_hex(dest)} {plen:02x} {'0' * 32} {src_len:02x} {ipv6_to_hex(gw)} "
        f"{metric:08x} 00000001 00000000 {flags:08x} {iface:>8}\n"
    )


LINK4 = r4(dest="172.17.0.0", mask="255.255.0.0", flags=1)


@dataclass
class Case:
    """A fake root, an environment and the answer hostgw must give."""

    id: str
    expected: dict[str, str] | str  # the HOSTGW_* variables, or the error class name
    route: str | None = HEADER4
    route6: str | None = ""
    hosts: str | None = "127.0.0.1 localhost\n"
    links: dict[str, bool] = field(default_factory=lambda: {"lo": False, "eth0": False})
    env: dict[str, str] = field(default_factory=dict)
    family: int | None = None


def v4(address: str, v6: str | None = None) -> dict[str, str]:
    """The expected variables for an IPv4 answer."""
    out = {"HOSTGW_IP": address, "HOSTGW_HOST": address}
    if v6:
        out["HOSTGW_IP6"] = v6
    return out


def v6only(address: str) -> dict[str, str]:
    """The expected variables for an IPv6 answer."""
    return {"HOSTGW_IP": address, "HOSTGW_HOST": f"[{address}]", "HOSTGW_IP6": address}


CASES = [
    # docs/environments.md E1: the default bridge.
    Case("docker-bridge", v4("172.17.0.1"), route=HEADER4 + r4("172.17.0.1") + LINK4),
    # 2: a compose network; with --add-host the hosts entry wins.
    Case("compose-network", v4("172.18.0.1"), route=HEADER4 + r4("172.18.0.1")),
    Case(
        "add-host-wins",
        v4("172.17.0.1"),
        route=HEADER4 + r4("172.18.0.1"),
        hosts="127.0.0.1 localhost\n172.17.0.1\thost.docker.internal\n",
    ),
    Case(
        "hosts-case-insensitive-and-comment",
        v4("172.17.0.9"),
        route=HEADER4,
        hosts="#172.17.0.8 host.docker.internal\n172.17.0.9 other HOST.Docker.Internal # x\n",
    ),
    Case(
        "hosts-name-order-beats-file-order",
        v4("10.88.0.1"),
        hosts="10.88.0.2 host.containers.internal\n10.88.0.1 host.docker.internal\n",
    ),
    Case(
        "hosts-unspecified-rejected",
        v4("10.88.0.4"),
        hosts=f"{ANY4} host.docker.internal\n:: host.docker.internal\n"
        "10.88.0.4 host.containers.internal\n",
    ),
    Case(
        "hosts-bad-address-skipped",
        v4("10.88.0.3"),
        hosts="010.88.0.1 host.docker.internal\n10.88.0.256 host.docker.internal\n"
        "10.88.0.3 host.docker.internal\n",
    ),
    # 3: several defaults: the lowest metric, whichever comes first; ties by order.
    Case(
        "metrics",
        v4("172.19.0.254"),
        route=HEADER4 + r4("172.19.0.1", metric=200) + r4("172.19.0.254", metric=100),
    ),
    Case(
        "metric-tie-first-wins",
        v4("172.19.0.1"),
        route=HEADER4 + r4("172.19.0.1", metric=5) + r4("172.19.0.2", metric=5),
    ),
    Case(
        "metric-leading-zeros-decimal",
        v4("172.19.0.2"),
        route=HEADER4
        + r4("172.19.0.1", metric=20).replace("\t20\t", "\t0100\t")
        + r4("172.19.0.2", metric=99),
    ),
    Case(
        "down-and-reject-ignored",
        v4("172.19.0.3"),
        route=HEADER4
        + r4("172.19.0.1", flags=2)
        + r4("172.19.0.2", flags=0x203)
        + r4("172.19.0.3", metric=9),
    ),
    Case(
        "garbage-lines",
        v4("172.19.0.4"),
        route=HEADER4
        + "eth0 zz\n\n  \nnonsense 00000000 010013AC 0003 0 0 x 00000000\n"
        + "eth0\t00000000\t0100GGAC\t0003\t0\t0\t0\t00000000\n"
        + r4("172.19.0.4", metric=7),
    ),
    # 4: an internal network: only the link route.
    Case("internal-network", "GatewayNotFound", route=HEADER4 + LINK4),
    Case("on-link-default-is-no-answer", "GatewayNotFound", route=HEADER4 + r4(ANY4, flags=1)),
    Case("no-proc-files", "GatewayNotFound", route=None, route6=None, hosts=None),
    # 5: host network: a docker0 bridge in our namespace means loopback.
    Case(
        "host-network",
        v4("127.0.0.1", "::1"),
        route=HEADER4 + r4("192.168.1.1"),
        links={"lo": False, "eth0": False, "docker0": True},
    ),
    Case(
        "docker0-not-a-bridge",
        v4("192.168.1.1"),
        route=HEADER4 + r4("192.168.1.1"),
        links={"lo": False, "docker0": False},
    ),
    Case(
        "podman-bridge",
        v4("127.0.0.1", "::1"),
        links={"lo": False, "podman0": True, "br-0123456789ab": False},
    ),
    Case(
        "user-network-bridge", v4("127.0.0.1", "::1"), links={"lo": False, "br-0123456789ab": True}
    ),
    Case(
        "cni0-is-not-a-runtime-bridge",
        v4("10.244.0.1"),
        route=HEADER4 + r4("10.244.0.1"),
        links={"lo": False, "cni0": True, "podmanX": True, "br-short": True},
    ),
    # 7: Podman rootful.
    Case(
        "podman-hosts",
        v4("10.88.0.1"),
        route=HEADER4 + r4("10.88.0.1"),
        hosts="10.88.0.1 host.containers.internal\n",
    ),
    # 8: Kubernetes.
    Case(
        "k8s-host-ip",
        v4("192.168.49.2"),
        route=HEADER4 + r4("169.254.1.1"),
        env={"HOST_IP": "192.168.49.2", "KUBERNETES_SERVICE_HOST": "10.96.0.1"},
    ),
    Case(
        "k8s-dual-stack",
        v4("192.168.49.2", "fd00:49::2"),
        env={"HOST_IP": " fd00:49::2 , junk, 192.168.49.2 ,192.168.49.3"},
    ),
    Case(
        "k8s-var-renamed",
        v4("192.168.49.7"),
        env={"NODE_IP": "192.168.49.7", "HOSTGW_K8S_VAR": "NODE_IP", "HOST_IP": "1.2.3.4"},
    ),
    Case(
        "calico-link-local-rejected",
        "GatewayNotFound",
        route=HEADER4 + r4("169.254.1.1"),
        env={"KUBERNETES_SERVICE_HOST": "10.96.0.1"},
    ),
    Case(
        "calico-link-local-then-v6",
        v6only("fd00:9::1"),
        route=HEADER4 + r4("169.254.1.1"),
        route6=r6("fd00:9::1"),
    ),
    # 9: IPv6 only.
    Case(
        "ipv6-only",
        v6only("fd00::1"),
        route=HEADER4,
        route6=r6(dest="fd00::", plen=64, flags=1, metric=256) + r6("fd00::1"),
    ),
    Case(
        "ipv6-metric-and-unreachable",
        v6only("fd00::2"),
        route6=r6("fd00::1", metric=2048)
        + r6("fd00::2", metric=1024)
        + r6(flags=0x00200200, metric=0xFFFFFFFF, iface="lo"),
    ),
    Case("ipv6-link-local-gets-zone", v6only("fe80::1%eth1"), route6=r6("fe80::1", iface="eth1")),
    Case("ipv6-calico-rejected", "GatewayNotFound", route6=r6("fe80::ecee:eeff:feee:eeee")),
    Case("ipv6-source-specific-not-default", "GatewayNotFound", route6=r6("fd00::1", src_len=64)),
    Case("ipv6-v4-mapped-form", v6only("::ffff:10.0.0.1"), route6=r6("::ffff:10.0.0.1")),
    Case(
        "both-families",
        v4("172.17.0.1", "fd00::1"),
        route=HEADER4 + r4("172.17.0.1"),
        route6=r6("fd00::1"),
    ),
    Case(
        "only-v4-asked",
        v4("172.17.0.1"),
        route=HEADER4 + r4("172.17.0.1"),
        route6=r6("fd00::1"),
        family=4,
    ),
    Case(
        "only-v6-asked",
        v6only("fd00::1"),
        route=HEADER4 + r4("172.17.0.1"),
        route6=r6("fd00::1"),
        family=6,
    ),
    # 10: the explicit override.
    Case(
        "override", v4("10.1.2.3"), route=HEADER4 + r4("172.17.0.1"), env={"HOSTGW_IP": "10.1.2.3"}
    ),
    Case(
        "override-ends-the-search",
        v4("10.1.2.3"),
        route6=r6("fd00::1"),
        hosts="fd00::7 host.docker.internal\n",
        env={"HOSTGW_IP": "10.1.2.3"},
    ),
    Case("override-v6-normalised", v6only("fd00::5"), env={"HOSTGW_IP": " FD00:0:0::5\t"}),
    Case(
        "override-ip6-too",
        v4("10.1.2.3", "fd00::7"),
        env={"HOSTGW_IP": "10.1.2.3", "HOSTGW_IP6": "fd00::7"},
    ),
    Case(
        "override-garbage-is-fatal",
        "GatewayNotFound",
        route=HEADER4 + r4("172.17.0.1"),
        env={"HOSTGW_IP": "not an address!"},
    ),
    Case(
        "override-ip6-with-v4-is-fatal",
        "GatewayNotFound",
        route=HEADER4 + r4("172.17.0.1"),
        env={"HOSTGW_IP6": "10.0.0.1"},
    ),
    Case(
        "override-wrong-family-is-a-note",
        v4("172.17.0.1"),
        route=HEADER4 + r4("172.17.0.1"),
        env={"HOSTGW_IP": "fd00::9"},
        family=4,
    ),
    # The order and names are the user's.
    Case(
        "strategies-reordered",
        v4("172.17.0.1"),
        route=HEADER4 + r4("172.17.0.1"),
        hosts="10.0.0.9 host.docker.internal\n",
        env={"HOSTGW_STRATEGIES": " route , hosts"},
    ),
    Case("strategies-unknown", "UsageError", env={"HOSTGW_STRATEGIES": "hosts,bogus"}),
    Case(
        "names",
        v4("10.0.0.2"),
        hosts="10.0.0.1 host.docker.internal\n10.0.0.2 gw.local\n",
        env={"HOSTGW_NAMES": ",gw.local,"},
    ),
    Case("names-with-blank", "UsageError", env={"HOSTGW_NAMES": "a b"}),
    # `hostgw env` goes on for IPv6 and meets the bad override; `hostgw ip` stops first.
    Case(
        "bad-override-after-the-answer",
        "GatewayNotFound",
        route=HEADER4 + r4("172.17.0.1"),
        env={"HOSTGW_STRATEGIES": "route,env", "HOSTGW_IP": "not an address!"},
    ),
]


@pytest.fixture(scope="module")
def all_shells(tmp_path_factory: pytest.TempPathFactory) -> list[Shell]:
    """dash, busybox sh and bash."""
    return [*shells(tmp_path_factory.mktemp("shells")), bash()]


def run_case(
    case: Case, shell: Shell, root: Path, mode: str = "export"
) -> subprocess.CompletedProcess[str]:
    """Run the script for a case, executed, in ``mode`` (export lines or the address)."""
    args = [f"-{case.family}"] if case.family else []
    return shell.run(*args, mode, env={**case.env, "HOSTGW_ROOT": str(root)})


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_answer_as_hostgw(case: Case, tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(
        tmp_path, route=case.route, route6=case.route6, hosts=case.hosts, links=case.links
    )
    expected = python_answer(case.env, str(root), case.family)
    assert expected == case.expected, "the case does not mean what it says"
    address = python_ip(case.env, str(root), case.family)
    for shell in all_shells:
        done = run_case(case, shell, root)
        assert sh_answer(done) == expected, (shell, done.stdout, done.stderr)
        if done.returncode:
            assert done.stdout == ""
            assert "hint:" in done.stderr
        # The address alone, as `hostgw ip` finds it (it looks no further for IPv6).
        done = run_case(case, shell, root, "ip")
        wanted = address if address in ("UsageError", "GatewayNotFound") else f"{address}\n"
        assert sh_answer(done) == wanted, (shell, done.stdout, done.stderr)


def test_not_found_message_lists_every_strategy(tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path, route=HEADER4 + LINK4)
    for shell in all_shells:
        done = shell.run("ip", env={"HOSTGW_ROOT": str(root)})
        assert done.returncode == 3
        lines = done.stderr.splitlines()
        assert lines[0] == "hostgw-sh: no IPv4 or IPv6 gateway found; tried, in order of trust:"
        tried = [ln.split(":")[1].strip() for ln in lines[1:-1]]
        assert tried == [
            "env",
            "hosts",
            "k8s",
            "host-network",
            "dns",
            "route",
            "netlink",
            "netifaces",
        ]
        assert "dns: not in the sh drop-in" in done.stderr
        assert "no default route" in done.stderr and "internal network" in done.stderr
        assert "HOSTGW_IP=" in lines[-1] and "--add-host" in lines[-1]


@pytest.mark.parametrize("only", ["dns", "netlink", "netifaces"])
def test_python_only_strategies_are_skipped_and_said_so(
    only: str, tmp_path: Path, all_shells: list[Shell]
) -> None:
    root = root_tree(tmp_path, route=HEADER4 + r4("172.17.0.1"))
    for shell in all_shells:
        done = shell.run("ip", env={"HOSTGW_ROOT": str(root), "HOSTGW_STRATEGIES": only})
        assert done.returncode == 3 and done.stdout == ""
        assert f"  {only}: not in the sh drop-in (needs Python hostgw)" in done.stderr
        done = shell.run("ip", env={"HOSTGW_ROOT": str(root), "HOSTGW_STRATEGIES": f"{only},route"})
        assert done.stdout == "172.17.0.1\n"


def test_modes_ip_host_export(tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path, route6=r6("fd00::1"))
    env = {"HOSTGW_ROOT": str(root)}
    for shell in all_shells:
        assert shell.run("ip", env=env).stdout == "fd00::1\n"
        assert shell.run("host", env=env).stdout == "[fd00::1]\n"
        assert shell.run(env=env).stdout == shell.run("export", env=env).stdout
        done = shell.run("-4", "ip", env=env)
        assert (done.returncode, done.stdout) == (3, "")
        bad = shell.run("--bogus", env=env)
        assert bad.returncode == 2 and "unknown argument '--bogus'" in bad.stderr
        helped = shell.run("--help", env=env)
        assert helped.returncode == 0 and "HOSTGW_REQUIRED=1" in helped.stdout


def test_export_lines_are_evaluable(tmp_path: Path, all_shells: list[Shell]) -> None:
    root = root_tree(tmp_path, route6=r6("fe80::1", iface="eth-0.1_a"))
    for shell in all_shells:
        done = shell.run(env={"HOSTGW_ROOT": str(root)})
        assert parse_exports(done.stdout)["HOSTGW_IP"] == "fe80::1%eth-0.1_a"
        evaluated = subprocess.run(
            [*shell.argv, "-c", f'{done.stdout}\nprintf \'%s|%s\' "$HOSTGW_IP" "$HOSTGW_HOST"'],
            env=shell.env({}),
            capture_output=True,
            text=True,
            check=True,
        )
        assert evaluated.stdout == "fe80::1%eth-0.1_a|[fe80::1%eth-0.1_a]"


def test_an_interface_name_that_cannot_be_a_zone_is_refused(
    tmp_path: Path, all_shells: list[Shell]
) -> None:
    # Linux allows a quote or ';' in an interface name; none reaches the output.
    root = root_tree(tmp_path, route6=r6("fe80::1", iface="it's;}"))
    for shell in all_shells:
        done = shell.run(env={"HOSTGW_ROOT": str(root)})
        assert (done.returncode, done.stdout) == (3, ""), (shell, done.stderr)
        assert "'it's;}' cannot be a zone" in done.stderr


def test_big_endian_machines(tmp_path: Path, all_shells: list[Shell]) -> None:
    # No big-endian CPU here: a `uname` that says s390x stands in for one.
    from hostgw.detection.routes import parse_ipv4_routes

    line = "eth0\t00000000\tAC110001\t0003\t0\t0\t0\t00000000\n"
    assert parse_ipv4_routes(HEADER4 + line, "big").routes[0].gateway == "172.17.0.1"
    root = root_tree(tmp_path / "root", route=HEADER4 + line)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uname").write_text("#!/bin/sh\necho s390x\n")
    (fake / "uname").chmod(0o755)
    for shell in all_shells:
        big = Shell(shell.name, shell.argv, f"{fake}:{shell.path}")
        assert big.run("ip", env={"HOSTGW_ROOT": str(root)}).stdout == "172.17.0.1\n"
        assert shell.run("ip", env={"HOSTGW_ROOT": str(root)}).stdout == "1.0.17.172\n"


def test_cli_prints_the_script_verbatim(tmp_path: Path) -> None:
    from tests.helpers import hostgw_cmd

    done = subprocess.run([*hostgw_cmd(), "snippet", "sh"], capture_output=True, check=True)
    assert done.stdout == SCRIPT.read_bytes() == snippet("sh").encode()
    assert done.stdout.decode().splitlines()[1] == MARKER
    out = tmp_path / "15-hostgw.envsh"
    subprocess.run([*hostgw_cmd(), "snippet", "sh", "-o", str(out)], check=True)
    assert out.read_bytes() == done.stdout
    assert out.stat().st_mode & 0o777 == 0o755


def test_script_uses_no_bashisms_or_ip() -> None:
    import re

    text = SCRIPT.read_text()
    shell_part = text[: text.index("    awk -v fam=")] + text[text.index("_hostgw_bigendian() {") :]
    code = [ln for ln in shell_part.splitlines() if not ln.lstrip().startswith("#")]
    banned = [
        r"\[\[",
        r"^\s*local\s",
        r"^\s*function\s",
        r"\$'",
        r"^\s*source\s",
        r"echo -[en]",
        r"\bip (route|addr|-)",
        r"pipefail",
        r"\bdeclare\b",
        r"<<<",
        r"\$\{[A-Za-z_]+:[0-9]",
        r"\$\{[A-Za-z_]+/",
        r"\$\(\(",
        r"\bsed\b",
        r"&>",
    ]
    for pattern in banned:
        hits = [ln for ln in code if re.search(pattern, ln)]
        assert not hits, (pattern, hits)
    # exit only where the script runs as its own process, never where it is sourced
    sourced = "\n".join(
        ln for ln in text[text.index("# Sourced: export") :].splitlines() if not ln.startswith("#")
    )
    assert not re.search(r"\bexit\b", sourced)
    assert not re.search(r"^\s*set -[eu]", text, re.M)


def test_shellcheck_finds_nothing() -> None:
    # ShellCheck in POSIX sh mode: the script and the nginx entrypoint stand-ins.
    from tests.helpers import require_tool

    stand_ins = sorted((Path(__file__).parent / "nginx_image").glob("*.sh"))
    argv = [require_tool("shellcheck"), "-s", "sh", str(SCRIPT), *map(str, stand_ins)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout
