"""What many test modules need, in one place (tests import it; never each other).

- :func:`hostgw_cmd` and :func:`run`: the real ``hostgw`` in a subprocess;
  :func:`ok` asserts its exit code and shows stdout and stderr when it fails;
- :func:`require_tool`: a proxy or shell binary, or a skip (a failure in CI);
- :func:`make_root`, :func:`r4`, :func:`r6`: ``--root`` snapshots with route
  tables and hosts files, for detection without a network namespace;
- :func:`peers_dir`: where the peer corpora are (read in place, never copied).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from hostgw.detection.routes import ipv4_to_hex, ipv6_to_hex

Done = subprocess.CompletedProcess[str]
REPO = Path(__file__).resolve().parent.parent
# Where the peer corpora live: beside the checkout, or in the workplace's
# shared folder for a checkout cloned elsewhere.
_PEERS = (REPO.parent / "shared" / "peers", Path("/work/shared/peers"))


def peers_dir() -> Path:
    """``HOSTGW_PEERS``, else ``../shared/peers`` beside the checkout (else the
    workplace's ``/work/shared/peers``): the first that exists."""
    given = os.environ.get("HOSTGW_PEERS")
    if given:
        return Path(given)
    return next((p for p in _PEERS if p.is_dir()), _PEERS[0])


def open_files(pid: int) -> list[str]:
    """What process ``pid`` holds open: its ``/proc/PID/fd`` links (an unnamed temp file
    reads ``/dir/#INODE (deleted)``); none once it is gone."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return []
    links = []
    for fd in fds:
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:  # closed since the listing
            continue
    return links


def hostgw_cmd() -> Sequence[str]:
    """The real ``hostgw`` console script of the interpreter running the tests."""
    script = Path(sys.executable).with_name("hostgw")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "hostgw"]


def run(
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    cwd: Path | str | None = None,
    timeout: float = 60,
    wrap: Sequence[str] = (),
) -> Done:
    """Run ``[WRAP...] hostgw ARGS`` with exactly ``env`` (default: this process's).

    Its output is printed, so that pytest shows it beside any failure.
    """
    done = subprocess.run(
        [*wrap, *hostgw_cmd(), *args],
        env=dict(os.environ if env is None else env),
        input=input,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    print(f"$ hostgw {' '.join(args)}\nexit {done.returncode}")
    print(f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done


def ok(done: Done, code: int = 0) -> Done:
    """``done``, after asserting its exit code (the message shows both streams)."""
    assert done.returncode == code, (
        f"exit {done.returncode}, not {code}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    )
    return done


def require_tool(name: str) -> str:
    """Return the path of ``name`` or skip (a failure under HOSTGW_NO_SKIP=1)."""
    sbin = f"/usr/sbin/{name}"
    path = shutil.which(name) or (sbin if os.path.exists(sbin) else None)
    if path is None:
        pytest.skip(f"needs {name}")
    return path


def require_heredoc_caddy() -> str:
    """A Caddy that reads heredocs (2.7+; Debian 12's is 2.6): the binary
    ``HOSTGW_TEST_CADDY_HEREDOCS`` names (scripts/test fetches it), or skip."""
    path = os.environ.get("HOSTGW_TEST_CADDY_HEREDOCS")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("needs a Caddy with heredocs: HOSTGW_TEST_CADDY_HEREDOCS (see scripts/test)")
    return path


HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"


def r4(gateway: str, metric: int = 0, iface: str = "eth0", flags: int = 3) -> str:
    """A ``/proc/net/route`` default-route line via ``gateway``."""
    return (
        f"{iface}\t00000000\t{ipv4_to_hex(gateway)}\t{flags:04X}\t0\t0\t{metric}\t"
        "00000000\t0\t0\t0\n"
    )


def r6(gateway: str, metric: int = 1024, iface: str = "eth0") -> str:
    """A ``/proc/net/ipv6_route`` default-route line via ``gateway``."""
    return (
        f"{'0' * 32} 00 {'0' * 32} 00 {ipv6_to_hex(gateway)} {metric:08x} 00000001 "
        f"00000000 00000003 {iface:>8}\n"
    )


def make_root(
    base: Path,
    *,
    route: str = "",
    route6: str = "",
    hosts: str = "",
    links: dict[str, bool] | None = None,
) -> str:
    """A snapshot: proc/net/route(6), etc/hosts, sys/class/net/NAME[/bridge]."""
    (base / "proc/net").mkdir(parents=True)
    (base / "etc").mkdir()
    (base / "proc/net/route").write_text(HEADER + route)
    (base / "proc/net/ipv6_route").write_text(route6)
    (base / "etc/hosts").write_text("127.0.0.1 localhost\n" + hosts)
    for name, bridge in (links or {"lo": False, "eth0": False}).items():
        (base / "sys/class/net" / name).mkdir(parents=True)
        if bridge:
            (base / "sys/class/net" / name / "bridge").mkdir()
    return str(base)
