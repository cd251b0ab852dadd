"""Benchmark ``hostgw watch``: reaction to route changes, resident memory, idle CPU.

Run as root from the repository root (it builds network namespaces)::

    sudo .venv-3.11/bin/python scripts/bench_watch.py              # everything
    sudo .venv-3.11/bin/python scripts/bench_watch.py -n 100 --flaps 10000 --idle 60
    sudo .venv-3.11/bin/python scripts/bench_watch.py --only reaction --dir /dev/shm

Reaction: a watcher runs in a namespace with ``--signal USR1 --pid-file``
pointing at this script. One sample is the time from just before ``ip
route replace`` starts to the arrival of the USR1 sent after the file
with the new address was written (it includes ``ip``'s own start, the
quiet window, re-detection, the render, the atomic write and the signal).
Every sample also checks the rendered file.

- a change alone (nothing for a whole debounce window before it): goal
  p95 <= 30 ms;
- the last change of a slow burst (changes a fifth of the window apart: the
  first is looked at alone, the rest wait for the window): from just
  before the last change to the notify of the final state; goal p95 <= 200 ms;
- a fast burst (``ip -batch`` of 100 changes): from just before the batch
  starts to the notify of its final state, and how many notifies it cost.

Anchors: the debounce window, which the same run configures (the floor of a
burst's reaction), the settle time (the floor of a lone change's), and one
durable atomic replace (write, fsync, rename, fsync of the directory) in the
same directory, measured in the same run: every pass that writes pays it.

Memory: ``watch --notify true`` and ``exec --watch --signal WINCH`` (with
``sleep`` as the command), on
netlink and polling (``HOSTGW_NETLINK=0``), each with the answer coming from
the route table (the default order: the netlink strategy is still asked for
IPv6) and with ``HOSTGW_STRATEGIES=netlink``; VmRSS and VmHWM from
``/proc/PID/status`` after the first render and after ``--flaps`` route
flaps (in batches, each batch one or two passes). Goal: <= 20 MB. Anchors
in the same run: ``python -c pass`` and ``python -c "import click"``.

Idle CPU: a netlink watcher and a polling one sit idle side by side for
``--idle`` seconds; utime+stime from /proc/PID/stat. Goal: netlink ~ 0.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers import hostgw_cmd
from tests.netns import Lab, Netns, sh

TEMPLATE = "upstream api { server ${HOSTGW_HOST}:8000; }\n"


def rendered(address: str) -> str:
    return TEMPLATE.replace("${HOSTGW_HOST}", address)


def gateway_netns(lab: Lab, subnet: int) -> Netns:
    """A namespace with a default route via 10.213.SUBNET.1."""
    return lab.routed("hgwb", f"10.213.{subnet}.2/24", f"10.213.{subnet}.1")


def settled(ns: Netns) -> Netns:
    """``ns`` once its IPv6 link-local addresses are out of duplicate address
    detection: their end is an address and a route event, seconds after start."""
    deadline = time.monotonic() + 10
    while ns.ip("-6", "addr", "show", "tentative").stdout.strip():
        if time.monotonic() > deadline:
            raise SystemExit(f"{ns.name}: IPv6 addresses still tentative after 10 s")
        time.sleep(0.1)
    return ns


def cpu_ticks(pid: int) -> int:
    """utime + stime of ``pid`` in clock ticks."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid: int, field: str) -> int:
    """A ``kB`` field (VmRSS, VmHWM) of /proc/PID/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for pid {pid}")


def start(
    ns: Netns,
    work: Path,
    name: str,
    *extra: str,
    env: dict[str, str] | None = None,
    command: Sequence[str] = (),
) -> tuple[subprocess.Popen[str], Path]:
    """``hostgw watch T:O EXTRA`` (or ``exec --watch -t T:O EXTRA -- COMMAND``) in ``ns``,
    once its first pass is done."""
    template, out, log = work / f"{name}.tmpl", work / f"{name}.conf", work / f"{name}.log"
    template.write_text(TEMPLATE)
    if command:
        argv = [*hostgw_cmd(), "exec", "--watch", "-t", f"{template}:{out}", *extra, "--"]
        argv += command
    else:
        argv = [*hostgw_cmd(), "watch", f"{template}:{out}", *extra]
    with log.open("w") as err:
        proc = ns.spawn(
            *argv, env={**os.environ, **(env or {})}, stderr=err, stdin=subprocess.DEVNULL
        )
    deadline = time.monotonic() + 30
    while "watching" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"{name} did not start:\n{log.read_text()}")
        time.sleep(0.02)
    return proc, out


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.2f} ms" if seconds < 0.001 else f"{seconds * 1000:6.1f} ms"


def summary(label: str, samples: list[float], goal: float, anchor: float, name: str) -> None:
    p50, p95 = percentile(samples, 0.5), percentile(samples, 0.95)
    verdict = "met" if p95 <= goal else "NOT met"
    print(f"  {label} ({len(samples)} samples):")
    print(
        f"    min {ms(min(samples))}  p50 {ms(p50)}  p95 {ms(p95)}  max {ms(max(samples))}"
        f"   goal p95 <= {goal * 1000:.0f} ms: {verdict}"
    )
    print(f"    p50 / {name} ({anchor * 1000:.0f} ms) = {p50 / anchor:.2f}")


class Notified:
    """USR1s from the watcher, waited for with sigtimedwait (the signal is blocked)."""

    def __init__(self) -> None:
        # A handler too, never run (the signal is blocked, taken by sigtimedwait):
        # hostgw sends a signal that would end a process only to one that handles it.
        signal.signal(signal.SIGUSR1, lambda *_: None)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})

    def drain(self) -> None:
        while signal.sigtimedwait({signal.SIGUSR1}, 0) is not None:
            pass

    def until(self, out: Path, expected: str, what: str) -> tuple[float, int]:
        """Wait for the notify after which ``out`` holds ``expected``; (time, notifies)."""
        count = 0
        while True:
            if signal.sigtimedwait({signal.SIGUSR1}, 10) is None:
                raise SystemExit(f"{what}: no notify within 10 s ({out.read_text()!r})")
            count += 1
            if out.read_text() == expected:
                return time.perf_counter(), count


def durable_write(work: Path, rounds: int = 30) -> float:
    """Median seconds of one durable atomic replace in ``work`` (write, fsync,
    rename, fsync the directory): the floor of any pass that writes there."""
    samples = []
    for i in range(rounds):
        t0 = time.perf_counter()
        fd = os.open(work / "anchor.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, rendered(f"10.213.0.{i}").encode())
        os.fsync(fd)
        os.close(fd)
        os.rename(work / "anchor.tmp", work / "anchor.conf")
        dfd = os.open(work, os.O_RDONLY)
        os.fsync(dfd)
        os.close(dfd)
        samples.append(time.perf_counter() - t0)
    return percentile(samples, 0.5)


class Reacting:
    """A watcher in a settled namespace that signals this process after each write."""

    def __init__(self, lab: Lab, work: Path, debounce: float) -> None:
        self.ns = settled(gateway_netns(lab, 80))
        self.work = work
        self.quiet = debounce * 1.5  # more than a window since the last event: alone
        pid_file = work / "bench.pid"
        pid_file.write_text(f"{os.getpid()}\n")
        self.notified = Notified()
        args = ("--signal", "USR1", "--pid-file", str(pid_file), "--debounce", str(debounce))
        _proc, self.out = start(self.ns, work, "react", *args)
        time.sleep(0.3)
        self.notified.drain()  # the first render's notify

    def change(self, via: str) -> float:
        """Replace the default route; the time just before ``ip`` started."""
        t0 = time.perf_counter()
        sh("ip", "-n", self.ns.name, "route", "replace", "default", "via", via)
        return t0

    def lone(self, rounds: int) -> tuple[list[float], list[float]]:
        """Changes alone: (from before ``ip``, from ``ip``'s return) to the notify."""
        samples, after_ip = [], []
        for i in range(rounds):
            time.sleep(self.quiet)
            via = f"10.213.80.{10 + i % 200}"
            t0 = self.change(via)
            done = time.perf_counter()
            t1, _ = self.notified.until(self.out, rendered(via), f"lone change {i}")
            samples.append(t1 - t0)
            after_ip.append(t1 - done)
        return samples, after_ip

    def slow(self, rounds: int, spacing: float) -> tuple[list[float], list[int]]:
        """Bursts of 5 changes ``spacing`` apart: last change to notify, and notifies."""
        samples, notifies = [], []
        for i in range(rounds):
            time.sleep(self.quiet)
            vias = [f"10.213.80.{210 + (i * 5 + k) % 40}" for k in range(5)]
            for via in vias:
                t0 = self.change(via)
                time.sleep(max(0.0, spacing - (time.perf_counter() - t0)))
            t1, count = self.notified.until(self.out, rendered(vias[-1]), f"slow burst {i}")
            samples.append(t1 - t0)
            notifies.append(count)
        return samples, notifies

    def fast(self, rounds: int) -> tuple[list[float], list[int]]:
        """``ip -batch`` bursts of 100: batch start to notify, and notifies."""
        samples, notifies = [], []
        batch = self.work / "flaps.batch"
        for i in range(rounds):
            time.sleep(self.quiet)
            final = f"10.213.80.{100 + i % 100}"
            lines = [f"route replace default via 10.213.80.{1 + k % 2 * 253}" for k in range(99)]
            batch.write_text("\n".join([*lines, f"route replace default via {final}"]) + "\n")
            t0 = time.perf_counter()
            sh("ip", "-n", self.ns.name, "-batch", str(batch))
            t1, count = self.notified.until(self.out, rendered(final), f"fast burst {i}")
            time.sleep(self.quiet)
            while signal.sigtimedwait({signal.SIGUSR1}, 0) is not None:
                count += 1  # a late notify of the same burst counts too
            samples.append(t1 - t0)
            notifies.append(count)
        return samples, notifies


def reaction(lab: Lab, work: Path, rounds: int, debounce: float) -> None:
    settle = debounce / 20  # as hostgw's watcher_for sets it
    spacing = debounce / 5
    bench = Reacting(lab, work, debounce)
    lone, after_ip = bench.lone(rounds)
    slow, slow_notifies = bench.slow(max(5, rounds // 4), spacing)
    fast, fast_notifies = bench.fast(max(5, rounds // 4))
    print(
        f"reaction (debounce window {debounce * 1000:.0f} ms, settle {settle * 1000:.0f} ms; "
        "from just before `ip` starts to the notify):"
    )
    durable = durable_write(work)
    print(f"  anchor: one durable atomic replace in {work} (fsync, rename): {ms(durable)}")
    summary("a change alone", lone, 0.030, settle, "settle")
    print(
        f"    of which after `ip` returned: p50 {ms(percentile(after_ip, 0.5))}, "
        f"p95 {ms(percentile(after_ip, 0.95))}"
    )
    slow_label = f"the last change of a slow burst (5 changes {spacing * 1000:.0f} ms apart)"
    summary(slow_label, slow, 0.200, debounce, "window")
    print(f"    notifies per burst: {min(slow_notifies)}..{max(slow_notifies)}")
    fast_label = "a fast burst (ip -batch, 100 changes), from its start"
    summary(fast_label, fast, 0.200, debounce, "window")
    print(f"    notifies per burst: {min(fast_notifies)}..{max(fast_notifies)}")


def anchor_kib(code: str) -> int:
    """VmRSS of ``python -c CODE`` (this interpreter), once it has run ``code``."""
    script = f"{code}\nimport sys\nprint(flush=True)\nsys.stdin.read()"
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    kib = status_kib(proc.pid, "VmRSS")
    proc.stdin.close()
    proc.wait(timeout=10)
    return kib


def flap(ns: Netns, work: Path, subnet: int, flaps: int) -> None:
    """``flaps`` route changes in batches of 50, a little apart: each batch is a pass."""
    batch = work / f"flaps{subnet}.batch"
    lines = [f"route replace default via 10.213.{subnet}.{1 + k % 2 * 253}" for k in range(50)]
    batch.write_text("\n".join(lines) + "\n")
    for _ in range(flaps // 50):
        sh("ip", "-n", ns.name, "-batch", str(batch))
        time.sleep(0.03)
    sh("ip", "-n", ns.name, "route", "replace", "default", "via", f"10.213.{subnet}.1")


def memory(lab: Lab, work: Path, flaps: int) -> None:
    print(f"resident memory (VmRSS, VmHWM peak) after the first render and after {flaps} flaps:")
    pass_kib, click_kib = anchor_kib("pass"), anchor_kib("import click")
    anchors = f"python -c pass {pass_kib / 1024:.1f} MB, import click {click_kib / 1024:.1f} MB"
    print(f"  anchors: {anchors}")
    subnet = 82
    worst = 0
    modes = (  # watch runs a notify command; exec --watch's command ignores WINCH
        ("watch", ("--notify", "true"), ()),
        ("exec --watch", ("--signal", "WINCH"), ("sleep", "3600")),
    )
    for mode, notify, command in modes:
        for events, env in (("netlink", {}), ("polling", {"HOSTGW_NETLINK": "0"})):
            for answer, more in (("route", {}), ("netlink", {"HOSTGW_STRATEGIES": "netlink"})):
                ns = gateway_netns(lab, subnet)
                name = f"mem{subnet}"
                proc, out = start(ns, work, name, *notify, env={**env, **more}, command=command)
                time.sleep(0.5)
                first = status_kib(proc.pid, "VmRSS")
                flap(ns, work, subnet, flaps)
                deadline = time.monotonic() + 10
                while out.read_text() != rendered(f"10.213.{subnet}.1"):
                    if time.monotonic() > deadline:
                        raise SystemExit(f"{name}: the last flap was not rendered")
                    time.sleep(0.05)
                time.sleep(1.5)
                after, peak = status_kib(proc.pid, "VmRSS"), status_kib(proc.pid, "VmHWM")
                worst = max(worst, after, peak)
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=20)
                print(
                    f"  {mode:12s} events {events:7s} answer {answer:7s}: "
                    f"first {first / 1024:5.1f} MB, after {after / 1024:5.1f} MB, "
                    f"peak {peak / 1024:5.1f} MB; "
                    f"{after / click_kib:.2f}x import click"
                )
                subnet += 1
    verdict = "met" if worst <= 20 * 1024 else "NOT met"
    print(f"  worst {worst / 1024:.1f} MB (goal <= 20 MB: {verdict})")


def idle(lab: Lab, work: Path, seconds: float) -> None:
    ns = settled(gateway_netns(lab, 81))
    hz = os.sysconf("SC_CLK_TCK")
    quiet, _ = start(ns, work, "idle-netlink")
    polled, _ = start(ns, work, "idle-poll", env={"HOSTGW_NETLINK": "0"})
    time.sleep(1.0)  # let start-up work finish
    pids = (quiet.pid, polled.pid)
    before = {p: cpu_ticks(p) for p in pids}
    time.sleep(seconds)
    used = {p: (cpu_ticks(p) - before[p]) / hz for p in pids}
    print(f"idle CPU over {seconds:.0f} s (utime+stime, tick {1000 / hz:.0f} ms):")
    print(
        f"  netlink watcher: {used[quiet.pid] * 1000:6.0f} ms "
        f"({used[quiet.pid] / seconds * 100:.3f} % of a CPU)"
    )
    print(
        f"  anchor, polling watcher (HOSTGW_NETLINK=0): {used[polled.pid] * 1000:6.0f} ms "
        f"({used[polled.pid] / seconds * 100:.3f} % of a CPU)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--rounds", type=int, default=60, help="lone changes")
    parser.add_argument("--flaps", type=int, default=10_000, help="route flaps per memory run")
    parser.add_argument("--idle", type=float, default=30.0, help="idle seconds (0: skip)")
    parser.add_argument("--debounce", type=float, default=0.1)
    parser.add_argument("--only", choices=("reaction", "memory", "idle"))
    parser.add_argument(
        "--dir", help="where templates and outputs live (default: a new directory under TMPDIR)"
    )
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark builds network namespaces")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, "
        f"Python {platform.python_version()}"
    )
    lab = Lab()
    try:
        with tempfile.TemporaryDirectory(prefix="hostgw-bench-", dir=args.dir) as tmp:
            if args.only in (None, "reaction"):
                reaction(lab, Path(tmp), args.rounds, args.debounce)
            if args.only in (None, "memory"):
                memory(lab, Path(tmp), args.flaps)
            if args.only in (None, "idle") and args.idle > 0:
                idle(lab, Path(tmp), args.idle)
    finally:
        lab.close()


if __name__ == "__main__":
    main()
