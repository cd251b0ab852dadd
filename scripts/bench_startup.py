"""Start-up cost of ``hostgw ip`` against ``python -c "import click"``, as a ratio.

Both run with the same interpreter (this venv), alternately, many times; the
figure is the ratio of the medians. The goal is <= 1.15: ``hostgw ip`` may
cost little more than importing click.

As root it builds a throw-away network namespace where the ``route``
strategy answers (a veth eth0 with a default route, ``/etc/netns/NAME``
files, a resolver on 127.0.0.1 that refuses at once) and times the real
default path there, every strategy up to ``route`` included. Without root it
falls back to ``--root`` on a snapshot directory (dns, netlink and netifaces
then do not run).

    sudo /path/to/venv/bin/python scripts/bench_startup.py            # 40 runs each
    sudo /path/to/venv/bin/python scripts/bench_startup.py --runs 100

Byte code is compiled first, so PYTHONDONTWRITEBYTECODE does not skew it.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
GATEWAY = "10.213.250.1"


def hostgw_cmd() -> list[str]:
    script = Path(sys.executable).with_name("hostgw")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hostgw"]


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():  # warm the page cache
        subprocess.run(cmd, check=True, capture_output=True)
    for _ in range(runs):
        for name, cmd in commands.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return times


def inner(runs: int, extra: list[str]) -> None:
    hostgw = [*hostgw_cmd(), "ip", *extra]
    answer = subprocess.run(hostgw, check=True, capture_output=True, text=True).stdout.strip()
    print(f"hostgw ip {' '.join(extra)} -> {answer}")
    anchor = [sys.executable, "-c", "import click"]
    times = measure({"hostgw ip": hostgw, "import click": anchor}, runs)
    for name, values in times.items():
        print(
            f"{name:<14} median {statistics.median(values) * 1e3:6.1f} ms   "
            f"min {min(values) * 1e3:6.1f} ms   ({runs} runs)"
        )
    ratio = statistics.median(times["hostgw ip"]) / statistics.median(times["import click"])
    best = min(times["hostgw ip"]) / min(times["import click"])
    print(
        f"ratio hostgw ip / import click: {ratio:.2f} of medians, {best:.2f} of minimums "
        "(goal <= 1.15)"
    )


def snapshot(directory: Path) -> None:
    (directory / "proc/net").mkdir(parents=True)
    (directory / "etc").mkdir()
    (directory / "sys/class/net/eth0").mkdir(parents=True)
    little = int.from_bytes(bytes(int(x) for x in GATEWAY.split(".")), "little")
    (directory / "proc/net/route").write_text(
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        f"eth0\t00000000\t{little:08X}\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    )
    (directory / "etc/hosts").write_text("127.0.0.1 localhost\n")


def in_netns(runs: int) -> None:
    name = f"hgwbench{os.getpid()}"
    etc = Path("/etc/netns") / name
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:

        def ip(*args: str) -> None:
            subprocess.run(["ip", "-n", name, *args], check=True)

        ip("link", "set", "lo", "up")
        ip("link", "add", "eth0", "type", "veth", "peer", "name", "peer0")  # no dummy module
        ip("link", "set", "peer0", "up")
        ip("addr", "add", "10.213.250.2/24", "dev", "eth0")
        ip("link", "set", "eth0", "up")
        ip("route", "add", "default", "via", GATEWAY)
        etc.mkdir(parents=True)
        (etc / "hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
        (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        print(f"network namespace {name}: default via {GATEWAY}, resolver 127.0.0.1 (refuses)")
        subprocess.run(
            ["ip", "netns", "exec", name, sys.executable, __file__, "--inner", "--runs", str(runs)],
            check=True,
        )
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(etc, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args.runs, ["--root", args.root] if args.root else [])
        return
    compileall.compile_dir(str(HERE.parent / "hostgw"), quiet=1)
    if os.geteuid() == 0 and shutil.which("ip"):
        in_netns(args.runs)
        return
    print("not root: timing `hostgw ip --root SNAPSHOT` instead of a network namespace")
    with tempfile.TemporaryDirectory() as tmp:
        snapshot(Path(tmp))
        inner(args.runs, ["--root", tmp])


if __name__ == "__main__":
    main()
