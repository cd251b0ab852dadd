"""A made-up LAN with one namespace per container runtime as its host.

The LAN is a bridge in a namespace of its own holding the "router" address
(10.214.0.1), which forwards nothing. Each runtime's host namespace has an
``eth0`` on that LAN and a default route via the router, as a machine on a
real LAN would. Every address is in 10.214.0.0/16 or fd5f::/16, which the
machine does not use.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.netns import Lab, Netns, sh

ROUTER = "10.214.0.1"
PREFIX = "10.214.0"


class Lan:
    """The LAN namespace, its bridge, and the host namespaces on it."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        self.ns = lab.netns("hgwlan")
        self.bridge = lab.bridge(self.ns, "lan0")
        self.ns.ip("addr", "add", f"{ROUTER}/24", "dev", self.bridge)
        self._next = 2

    def host(self, prefix: str) -> RuntimeHost:
        """A new namespace on the LAN: eth0 with the next free address, default via the router."""
        ns = self.lab.netns(prefix)
        outer, _ = self.lab.veth(self.ns, ns)
        self.ns.ip("link", "set", outer, "master", self.bridge)
        address = f"{PREFIX}.{self._next}"
        self._next += 1
        ns.ip("addr", "add", f"{address}/24", "dev", "eth0")
        ns.ip("route", "add", "default", "via", ROUTER)
        return RuntimeHost(ns, address)


class RuntimeHost:
    """A runtime's host: its namespace, LAN address, and processes started inside."""

    def __init__(self, ns: Netns, address: str) -> None:
        self.ns = ns
        self.address = address
        self.path = f"/run/netns/{ns.name}"

    def nsenter(self, *cmd: str) -> list[str]:
        """``cmd`` run inside this host's network namespace (the mount namespace stays ours)."""
        return ["nsenter", f"--net={self.path}", *cmd]

    def run(
        self, *cmd: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``cmd`` in the host namespace."""
        return sh(*self.nsenter(*cmd), check=check, timeout=timeout)

    def spawn(
        self, *cmd: str, log: Path, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """Start a long-running process here, output to ``log``; killed by pid at the end."""
        with log.open("a") as out:
            proc: subprocess.Popen[str] = subprocess.Popen(
                self.nsenter(*cmd),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
            )
        self.ns.lab.processes.append(proc)
        return proc


def mounts_under(*roots: str) -> list[str]:
    """Mount points at or below ``roots`` (exact paths), deepest first."""
    found: list[str] = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if any(point == root or point.startswith(root.rstrip("/") + "/") for root in roots):
            found.append(point)
    return sorted(set(found), key=lambda p: (-p.count("/"), p))


def unmount_under(*roots: str) -> list[str]:
    """Unmount everything at or below ``roots``; return what could not be unmounted."""
    left: list[str] = []
    for point in mounts_under(*roots):
        if sh("umount", point, check=False).returncode != 0:
            sh("umount", "-l", point, check=False)
        if point in mounts_under(point):
            left.append(point)
    return left


def stop_pid(proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """TERM, then KILL after ``timeout``, one process by pid."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def noting(errors: list[str]) -> Iterator[None]:
    """Run a cleanup step; an error is noted in ``errors`` and the next step still runs."""
    try:
        yield
    except Exception as exc:  # cleanup must go on
        errors.append(repr(exc))


def kill_pidfile(path: Path, timeout: float = 10) -> None:
    """KILL the process whose pid ``path`` holds, and wait until it is gone.

    It is not our child (pasta forks to the background), so it cannot be
    waited for: its /proc entry is watched until it is gone or a zombie, whose
    sockets and ports are already closed.
    """
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, signal.SIGKILL)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.05)
    raise AssertionError(f"pid {pid} ({path}) still runs after SIGKILL")
