"""Start-up cost of ``hostgw ip`` against ``python -c "import click"``, as ratios.

Both run with the same interpreter and the same venv, alternately, many times.
By default that venv is made for the run: hostgw's wheel built from the
checkout and click's wheel, installed as an image installs them (not
editable: an editable install adds an import hook to every start of either).
``--here`` times this interpreter's own venv instead.

As root it builds a throw-away network namespace like Docker's default bridge
(a veth eth0 with a default route, ``/etc/netns/NAME`` files, a resolver on
127.0.0.1 that refuses at once) and times the real default path there, every
strategy up to ``route`` included. Without root it falls back to ``--root`` on
a snapshot directory (dns, netlink and netifaces then do not run).

It prints the medians, the ratio of the medians, and the ratio of each round
(min / median / max). Wall time on a shared machine is noisy; ``--instructions``
also counts the instructions each command executes under valgrind's callgrind
(``PYTHONHASHSEED=0``; the least of ``--count`` runs each), which is not.

    sudo /path/to/venv/bin/python scripts/bench_startup.py              # 40 rounds
    sudo /path/to/venv/bin/python scripts/bench_startup.py --runs 100 --instructions

The goal is <= 1.10.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GATEWAY = "10.213.250.1"
GOAL = 1.10


def fresh_venv(base: Path) -> Path:
    """A venv under ``base`` with hostgw's and click's wheels; its python."""
    sys.path.insert(0, str(ROOT))
    from tests.runtime import images  # builds hostgw's wheel from the checkout

    wheels = images.wheelhouse(base / "wheels")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    picked = [*wheels.glob("hostgw-*.whl"), *wheels.glob("click-*.whl")]
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    subprocess.run([*pip, "--no-index", "--no-deps", *map(str, picked)], check=True)
    subprocess.run([str(python), "-m", "compileall", "-q", str(venv / "lib")], check=True)
    return python


def commands(python: Path, extra: list[str]) -> dict[str, list[str]]:
    """The two commands to compare, with ``python``'s venv."""
    script = python.with_name("hostgw")
    hostgw = [str(script)] if script.exists() else [str(python), "-m", "hostgw"]
    return {
        "hostgw ip": [*hostgw, "ip", *extra],
        "import click": [str(python), "-c", "import click"],
    }


def wall(cmds: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Seconds of each command, run alternately ``runs`` times (after a warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for cmd in cmds.values():  # warm the page cache
        subprocess.run(cmd, check=True, capture_output=True)
    for _ in range(runs):
        for name, cmd in cmds.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return times


def instructions(cmd: list[str], count: int) -> int:
    """The least number of instructions ``cmd`` executes, over ``count`` runs."""
    found = []
    for _ in range(count):
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=True,
        )
        match = re.search(r"Collected : (\d+)", done.stderr)
        if match is None:
            raise RuntimeError(f"no instruction count from callgrind: {done.stderr[-500:]}")
        found.append(int(match.group(1)))
    return min(found)


def inner(args: argparse.Namespace) -> None:
    python = Path(args.python)
    cmds = commands(python, ["--root", args.root] if args.root else [])
    answer = subprocess.run(cmds["hostgw ip"], check=True, capture_output=True, text=True)
    print(f"hostgw ip -> {answer.stdout.strip()}")
    times = wall(cmds, args.runs)
    for name, values in times.items():
        print(
            f"{name:<14} median {statistics.median(values) * 1e3:6.1f} ms   "
            f"min {min(values) * 1e3:6.1f} ms   max {max(values) * 1e3:6.1f} ms   "
            f"({args.runs} runs)"
        )
    ours, anchor = times["hostgw ip"], times["import click"]
    rounds = sorted(a / b for a, b in zip(ours, anchor, strict=True))
    print(
        f"ratio hostgw ip / import click: {statistics.median(ours) / statistics.median(anchor):.3f}"
        f" of medians, {min(ours) / min(anchor):.3f} of minimums; per round min "
        f"{rounds[0]:.3f} median {statistics.median(rounds):.3f} max {rounds[-1]:.3f} "
        f"(goal <= {GOAL})"
    )
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("instructions: valgrind is not installed")
            return
        counts = {name: instructions(cmd, args.count) for name, cmd in cmds.items()}
        for name, value in counts.items():
            print(f"{name:<14} {value / 1e6:8.2f} M instructions (least of {args.count})")
        ratio = counts["hostgw ip"] / counts["import click"]
        print(f"ratio of instructions: {ratio:.3f} (goal <= {GOAL})")


def in_netns(argv: list[str]) -> None:
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
        subprocess.run(["ip", "netns", "exec", name, sys.executable, __file__, *argv], check=True)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(etc, ignore_errors=True)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="rounds of wall-time runs")
    parser.add_argument("--here", action="store_true", help="time this interpreter's own venv")
    parser.add_argument("--instructions", action="store_true", help="also count instructions")
    parser.add_argument("--count", type=int, default=3, help="callgrind runs of each command")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--python", help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        inner(args)
        return
    with tempfile.TemporaryDirectory(prefix="hostgw-bench-") as tmp:
        if args.here:
            python = Path(sys.executable)
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", str(ROOT / "hostgw")], check=True
            )
            print(f"this venv: {sys.prefix}")
        else:
            python = fresh_venv(Path(tmp))
            print(f"a fresh venv with hostgw's and click's wheels: {python.parent.parent}")
        argv = [
            "--inner",
            "--python",
            str(python),
            "--runs",
            str(args.runs),
            "--count",
            str(args.count),
        ]
        argv += ["--instructions"] if args.instructions else []
        if os.geteuid() == 0 and shutil.which("ip"):
            in_netns(argv)
            return
        print("not root: timing `hostgw ip --root SNAPSHOT` instead of a network namespace")
        snapshot(Path(tmp) / "root")
        subprocess.run(
            [sys.executable, __file__, *argv, "--root", str(Path(tmp) / "root")], check=True
        )


if __name__ == "__main__":
    main()
