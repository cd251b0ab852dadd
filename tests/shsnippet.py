"""Helpers to run the sh drop-in under real shells and compare it with hostgw.

Shells: ``dash`` with the machine's awk (mawk on Debian, as in the nginx
image), and ``busybox sh`` with a PATH that holds nothing but busybox applet
links (busybox awk, no getent), which stands in for Alpine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import hostgw.runtime

SCRIPT = Path(hostgw.runtime.__file__).with_name("snippet.sh")
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


def busybox_dir(base: Path) -> Path:
    """A directory of links to every busybox applet, for PATH (no getent in it)."""
    busybox = shutil.which("busybox")
    if busybox is None:
        raise RuntimeError("busybox is not installed")
    target = base / "busybox-bin"
    if target.is_dir():
        return target
    target.mkdir(parents=True)
    listing = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True)
    for applet in listing.stdout.split():
        (target / applet).symlink_to(busybox)
    return target


class Shell:
    """One way of running the script: argv prefix and PATH."""

    def __init__(self, name: str, argv: list[str], path: str) -> None:
        self.name = name
        self.argv = argv
        self.path = path

    def __repr__(self) -> str:
        return self.name

    def env(self, extra: Mapping[str, str]) -> dict[str, str]:
        """A clean environment: PATH for this shell plus ``extra``."""
        return {"PATH": self.path, **extra}

    def run(
        self,
        *args: str,
        env: Mapping[str, str],
        script: Path = SCRIPT,
        prefix: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        """Execute the script with ``args`` (``prefix`` e.g. ``ip netns exec NS``)."""
        return subprocess.run(
            [*prefix, *self.argv, str(script), *args],
            env=self.env(env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


def shells(base: Path) -> list[Shell]:
    """dash (+ the system awk) and busybox sh (+ busybox awk, nothing else)."""
    dash = shutil.which("dash") or "/bin/dash"
    bb = busybox_dir(base)
    return [
        Shell("dash", [dash], SYSTEM_PATH),
        Shell("busybox", [str(bb / "sh")], str(bb)),
    ]


def bash() -> Shell:
    """bash with the system's awk: the script must run there too."""
    return Shell("bash", [shutil.which("bash") or "/bin/bash"], SYSTEM_PATH)


def parse_exports(text: str) -> dict[str, str]:
    """``export NAME='value'`` lines (as the script prints them) -> dict."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        assert line.startswith("export "), line
        name, _, value = line[len("export ") :].partition("=")
        assert value.startswith("'") and value.endswith("'"), line
        out[name] = value[1:-1].replace("'\\''", "'")
    return out


def python_answer(env: Mapping[str, str], root: str = "/", family: int | None = None) -> object:
    """What hostgw says in-process: the env dict, or the exception class name."""
    from hostgw.detection import gateway_env
    from hostgw.errors import HostgwError

    try:
        return gateway_env(env=dict(env), root=root, family=family)
    except HostgwError as exc:
        return type(exc).__name__


def python_ip(env: Mapping[str, str], root: str = "/", family: int | None = None) -> object:
    """What ``hostgw ip`` says in-process: the address, or the exception class name."""
    from hostgw.detection import detect
    from hostgw.errors import HostgwError

    try:
        return detect(env=dict(env), root=root, family=family).address
    except HostgwError as exc:
        return type(exc).__name__


def sh_answer(done: subprocess.CompletedProcess[str]) -> object:
    """The script's answer in the same shape as :func:`python_answer`."""
    if done.returncode == 0:
        return parse_exports(done.stdout) if done.stdout.startswith("export ") else done.stdout

    return {2: "UsageError", 3: "GatewayNotFound"}.get(done.returncode, f"rc={done.returncode}")


def root_tree(
    base: Path,
    *,
    route: str | None = "",
    route6: str | None = "",
    hosts: str | None = "",
    links: Mapping[str, bool] | None = None,
) -> Path:
    """A fake root: proc/net/route, proc/net/ipv6_route, etc/hosts, sys/class/net.

    ``None`` leaves a file out; ``links`` maps an interface name to whether
    it is a bridge.
    """
    files = {"proc/net/route": route, "proc/net/ipv6_route": route6, "etc/hosts": hosts}
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is not None:
            path.write_text(text)
    net = base / "sys/class/net"
    net.mkdir(parents=True, exist_ok=True)
    for name, is_bridge in (links or {"lo": False, "eth0": False}).items():
        (net / name).mkdir(exist_ok=True)
        if is_bridge:
            (net / name / "bridge").mkdir(exist_ok=True)
    return base


def write_link(root: Path, name: str, *entries: str) -> None:
    """``sys/class/net/NAME`` under ``root``, with each entry given: ``device`` as a
    symlink (dangling in a snapshot, as its target is not copied), others as directories."""
    link = root / "sys/class/net" / name
    link.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        if entry == "device":
            (link / entry).symlink_to("../../../devices/virtio0")
        else:
            (link / entry).mkdir()


def write_net_dev(root: Path, names: Iterable[str]) -> None:
    """``proc/net/dev`` under ``root``, as the kernel prints it, for ``names``."""
    head = (
        "Inter-|   Receive                            |  Transmit\n"
        " face |bytes    packets errs drop fifo frame|bytes    packets errs drop fifo colls\n"
    )
    rows = "".join(f"{name:>6}: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n" for name in names)
    (root / "proc/net").mkdir(parents=True, exist_ok=True)
    (root / "proc/net/dev").write_text(head + rows)


def environ_without_hostgw() -> dict[str, str]:
    """This process's environment minus every HOSTGW_* and HOST_IP setting."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HOSTGW_") and k not in ("HOST_IP", "KUBERNETES_SERVICE_HOST")
    }
