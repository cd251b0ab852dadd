"""Real network namespaces for tests, cleaned up by exact name or pid.

A :class:`Lab` records every namespace, link, nft table, file and process it
makes, and :meth:`Lab.close` removes exactly those, in reverse order, even
when the test failed. Names carry the test run's pid, so parallel runs do not
collide. Addresses come from 10.213.0.0/16 and fd5e::/16, which the machine
does not use.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

_counter = itertools.count()
NETNS_ETC = Path("/etc/netns")


def available() -> str | None:
    """Return why netns tests cannot run here, or None when they can."""
    if os.geteuid() != 0:
        return "needs root"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    probe = f"hgwprobe{os.getpid()}"
    made = subprocess.run(
        ["ip", "netns", "add", probe], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], check=False)
    return None


def sh(*cmd: str, check: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run a command, raising with its output on failure."""
    done = subprocess.run(  # type: ignore[call-overload]
        list(cmd), capture_output=True, text=True, check=False, **kw
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} -> {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
        )
    return done  # type: ignore[no-any-return]


def unique(prefix: str) -> str:
    """A short name unique to this process (interface names max 15 chars)."""
    name = f"{prefix}{os.getpid() % 100000}{next(_counter)}"
    assert len(name) <= 15, name
    return name


class Netns:
    """One network namespace; commands run inside it with ``ip netns exec``."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab = lab
        self.name = name

    def exec(
        self,
        *cmd: str,
        env: Mapping[str, str] | None = None,
        check: bool = True,
        timeout: float = 60,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` inside the namespace (with its /etc/netns files mounted)."""
        return sh(
            "ip",
            "netns",
            "exec",
            self.name,
            *cmd,
            check=check,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            input=input,
        )

    def ip(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``ip ARGS`` inside the namespace."""
        return sh("ip", "-n", self.name, *args)

    def spawn(
        self, *cmd: str, env: Mapping[str, str] | None = None, **kw: object
    ) -> subprocess.Popen[str]:
        """Start a long-running process inside the namespace; killed by pid on close."""
        proc: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
            ["ip", "netns", "exec", self.name, *cmd],
            env=dict(env) if env is not None else None,
            text=True,
            **kw,
        )
        self.lab.processes.append(proc)
        return proc

    def write_etc(self, filename: str, text: str) -> Path:
        """Write /etc/netns/NAME/FILENAME, which ``ip netns exec`` mounts on /etc/FILENAME."""
        directory = NETNS_ETC / self.name
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / filename
        path.write_text(text)
        return path

    def hosts(self, text: str) -> Path:
        """Set the namespace's /etc/hosts."""
        return self.write_etc("hosts", "127.0.0.1 localhost\n::1 localhost\n" + text)

    def resolv(self, text: str) -> Path:
        """Set the namespace's /etc/resolv.conf."""
        return self.write_etc("resolv.conf", text)

    def up_lo(self) -> None:
        """Bring the loopback interface up."""
        self.ip("link", "set", "lo", "up")


class Lab:
    """Everything one test builds, removed by name or pid in :meth:`close`."""

    def __init__(self) -> None:
        self.namespaces: list[str] = []
        self.links: list[str] = []
        self.nft_tables: list[tuple[str, str]] = []
        self.processes: list[subprocess.Popen[str]] = []
        self.pids: list[int] = []
        self.cleanups: list[Callable[[], object]] = []

    def netns(self, prefix: str = "hgw") -> Netns:
        """Create a namespace with a resolv.conf that points nowhere reachable."""
        name = unique(prefix)
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        ns = Netns(self, name)
        # Never let a test namespace fall back to the machine's own resolver.
        ns.resolv("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        ns.hosts("")
        ns.up_lo()
        return ns

    def veth(
        self, a: Netns | None, b: Netns, *, a_name: str | None = None, b_name: str = "eth0"
    ) -> tuple[str, str]:
        """A veth pair: one end in ``a`` (None = this namespace), one in ``b`` named ``b_name``."""
        outer = a_name or unique("hv")
        temp = unique("hp")
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", temp)
        if a is None:
            self.links.append(outer)
        sh("ip", "link", "set", temp, "netns", b.name)
        b.ip("link", "set", temp, "name", b_name)
        if a is not None:
            sh("ip", "link", "set", outer, "netns", a.name)
        b.ip("link", "set", b_name, "up")
        if a is not None:
            a.ip("link", "set", outer, "up")
        else:
            sh("ip", "link", "set", outer, "up")
        return outer, b_name

    def routed(self, prefix: str, cidr: str, gateway: str) -> Netns:
        """A namespace whose eth0 has ``cidr`` and a default route via ``gateway``.

        eth0's veth peer (eth1) stays inside: the link has carrier, and
        nothing leaves the namespace. For watching route changes.
        """
        ns = self.netns(prefix)
        ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth1")
        ns.ip("link", "set", "eth1", "up")
        ns.ip("link", "set", "eth0", "up")
        ns.ip("addr", "add", cidr, "dev", "eth0")
        ns.ip("route", "add", "default", "via", gateway)
        return ns

    def bridge(self, ns: Netns | None = None, name: str | None = None) -> str:
        """A bridge in ``ns`` (None = this namespace), up."""
        br = name or unique("hbr")
        if ns is None:
            sh("ip", "link", "add", br, "type", "bridge")
            self.links.append(br)
            sh("ip", "link", "set", br, "up")
        else:
            ns.ip("link", "add", br, "type", "bridge")
            ns.ip("link", "set", br, "up")
        return br

    def nft_table(self, family: str, name: str | None = None) -> str:
        """Create an nft table in this namespace; deleted by name on close."""
        table = name or unique("hgw")
        sh("nft", "add", "table", family, table)
        self.nft_tables.append((family, table))
        return table

    def on_close(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` at close (before namespaces are deleted)."""
        self.cleanups.append(fn)

    def close(self) -> None:
        """Remove exactly what this lab made; report but survive individual failures."""
        errors: list[str] = []
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as exc:  # cleanup must go on
                errors.append(repr(exc))
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                errors.append(f"pid {proc.pid} did not exit")
        for pid in reversed(self.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for family, table in reversed(self.nft_tables):
            sh("nft", "delete", "table", family, table, check=False)
        for link in reversed(self.links):
            sh("ip", "link", "del", link, check=False)
        for name in reversed(self.namespaces):
            # Kill anything still running inside, by pid, then the namespace.
            pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
            for inside in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(inside), signal.SIGKILL)
            sh("ip", "netns", "del", name, check=False)
            shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
        if errors:
            print("lab cleanup problems:", *errors, sep="\n  ", file=sys.stderr)
