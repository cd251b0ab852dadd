"""``hostgw watch`` as a real process inside a network namespace.

Routes are changed with ``ip`` in the namespace; the watcher sees them as
netlink events (or by polling with HOSTGW_NETLINK=0), re-renders and
notifies. Waits are bounded polls on files; nothing asserts on durations.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd, open_files
from tests.netns import Lab, Netns, sh
from tests.waiting import read, until

pytestmark = pytest.mark.netns

TEMPLATE = "upstream api { server ${HOSTGW_HOST}:8000; }\n"


def rendered(address: str) -> str:
    return f"upstream api {{ server {address}:8000; }}\n"


@dataclass
class Running:
    """One ``hostgw watch`` in a namespace, with its files."""

    ns: Netns
    proc: subprocess.Popen[str]
    out: Path
    template: Path
    notified: Path
    log: Path
    baseline: int = 0

    def notifies(self) -> int:
        """Notifies since start (the first pass writes a new file: one notify)."""
        return len(read(self.notified).splitlines()) - self.baseline

    def fd_count(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=20)


def _netns_with_gateway(lab: Lab, subnet: int) -> Netns:
    """A namespace whose default route goes via 10.213.SUBNET.1 on eth0."""
    return lab.routed("hgww", f"10.213.{subnet}.2/24", f"10.213.{subnet}.1")


@pytest.fixture
def watching(lab: Lab, tmp_path: Path) -> Iterator[Callable[..., Running]]:
    def start(ns: Netns, *extra: str, env: dict[str, str] | None = None) -> Running:
        template = tmp_path / "api.conf.template"
        template.write_text(TEMPLATE)
        out = tmp_path / "api.conf"
        notified = tmp_path / "notified"
        log = tmp_path / "watch.log"
        cmd = [
            *hostgw_cmd(),
            "watch",
            f"{template}:{out}",
            "--notify",
            f"echo reload >> {notified}",
            *extra,
        ]
        with log.open("w") as err:
            proc = ns.spawn(
                *cmd,
                env={**os.environ, **(env or {})},
                stderr=err,
                stdout=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
        running = Running(ns, proc, out, template, notified, log)
        until("the first render", lambda: "watching" in read(log) or proc.poll() is not None)
        assert proc.poll() is None, read(log)
        # The output did not exist: the first pass wrote it, so it notified once.
        until("the first notify", lambda: running.notifies() == 1)
        running.baseline = 1
        return running

    yield start


def test_route_change_rerenders_and_notifies(lab: Lab, watching: Callable[..., Running]) -> None:
    ns = _netns_with_gateway(lab, 60)
    w = watching(ns)
    assert w.out.read_text() == rendered("10.213.60.1")
    assert "watching" in read(w.log) and "netlink" in read(w.log)
    ns.ip("route", "replace", "default", "via", "10.213.60.254")
    until("the new render", lambda: w.notifies() == 1)
    assert w.out.read_text() == rendered("10.213.60.254")
    assert w.stop() == 0


def test_burst_of_100_flaps_gives_one_final_render_and_no_growth(
    lab: Lab, watching: Callable[..., Running], tmp_path: Path
) -> None:
    ns = _netns_with_gateway(lab, 61)
    # A 1 s window (so a 50 ms settle time and a 10 s longest delay): a batch
    # of 100 route changes, made in milliseconds, is one burst, and its first
    # change is not looked at alone, however loaded the machine is.
    w = watching(ns, "--debounce", "1")

    def burst(final: str) -> None:
        lines = [f"route replace default via 10.213.61.{1 + i % 2 * 253}" for i in range(99)]
        lines.append(f"route replace default via {final}")
        batch = tmp_path / "flaps.batch"
        batch.write_text("\n".join(lines) + "\n")
        sh("ip", "-n", ns.name, "-batch", str(batch))

    # One warm-up burst: first-use allocations (imports, buffers) happen here.
    burst("10.213.61.10")
    until("the warm-up render", lambda: w.out.read_text() == rendered("10.213.61.10"))
    until("the warm-up notify", lambda: w.notifies() >= 1)
    fds, rss = w.fd_count(), w.rss_kib()
    before = w.notifies()
    rounds = 5
    for k in range(rounds):
        final = f"10.213.61.{20 + k}"
        seen = w.notifies()
        burst(final)

        def rendered_yet(final: str = final) -> bool:
            return w.out.read_text() == rendered(final)

        def notified_yet(seen: int = seen) -> bool:
            return w.notifies() > seen

        until(f"render of burst {k}", rendered_yet)
        until(f"notify of burst {k}", notified_yet)
    # Each burst of 100 events ends in exactly one render and one notify.
    assert w.notifies() - before == rounds, (w.notifies(), read(w.log))
    # The notify command has written its line before hostgw has reaped it and
    # closed its pipes: wait for those; a leak never gives them back.
    until("the descriptors of the start", lambda: w.fd_count() <= fds, log=w.log)
    assert w.rss_kib() - rss < 1024, f"RSS grew from {rss} KiB to {w.rss_kib()} KiB"
    # Nothing heavy stays resident (pyroute2 alone is ~20 MB): the watcher is
    # within a few MB of a bare `import click` in the same interpreter.
    click = _anchor_rss_kib("import click")
    assert w.rss_kib() < click + 6 * 1024, f"{w.rss_kib()} KiB against {click} KiB for click"
    assert w.stop() == 0


def _anchor_rss_kib(code: str) -> int:
    """VmRSS of ``python -c CODE`` once it has run ``code`` (the tests' interpreter)."""
    script = f"{code}\nimport sys\nprint(flush=True)\nsys.stdin.read()"
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdin is not None
    proc.stdout.readline()
    kib = -1
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            kib = int(line.split()[1])
    proc.stdin.close()
    proc.wait(timeout=30)
    return kib


def test_polling_without_netlink_sees_route_changes(
    lab: Lab, watching: Callable[..., Running]
) -> None:
    ns = _netns_with_gateway(lab, 62)
    w = watching(ns, env={"HOSTGW_NETLINK": "0"})
    assert "route-poll" in read(w.log)
    ns.ip("route", "replace", "default", "via", "10.213.62.9")
    until("the polled render", lambda: w.out.read_text() == rendered("10.213.62.9"))
    until("the notify", lambda: w.notifies() == 1)
    assert w.stop() == 0


def test_netlink_needs_no_pyroute2(
    lab: Lab, watching: Callable[..., Running], tmp_path: Path
) -> None:
    # pyroute2 made unimportable by a package that shadows it on PYTHONPATH:
    # the events and the netlink strategy's route lookup are the standard
    # library's own socket.
    shadow = tmp_path / "shadow" / "pyroute2"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('pyroute2 hidden by the test')\n")
    ns = _netns_with_gateway(lab, 70)
    env = {"PYTHONPATH": str(shadow.parent), "HOSTGW_STRATEGIES": "netlink"}
    w = watching(ns, env=env)
    assert "(netlink); watching netlink" in read(w.log)
    assert "unavailable" not in read(w.log)
    ns.ip("route", "replace", "default", "via", "10.213.70.9")
    until("the new render", lambda: w.out.read_text() == rendered("10.213.70.9"))
    until("the notify", lambda: w.notifies() == 1)
    assert w.stop() == 0


def test_etc_hosts_change_is_seen(lab: Lab, watching: Callable[..., Running]) -> None:
    ns = _netns_with_gateway(lab, 63)
    w = watching(ns)
    ns.hosts("10.213.63.50 host.docker.internal\n")  # rewritten in place: same inode
    until("the hosts render", lambda: w.out.read_text() == rendered("10.213.63.50"))
    until("the notify", lambda: w.notifies() == 1)
    assert "hosts" in read(w.log)
    assert w.stop() == 0


def test_no_route_keeps_files_then_recovers(lab: Lab, watching: Callable[..., Running]) -> None:
    ns = _netns_with_gateway(lab, 64)
    w = watching(ns)
    ns.ip("route", "del", "default")
    until("the no-answer log", lambda: "no host address now" in read(w.log))
    assert w.out.read_text() == rendered("10.213.64.1")
    assert w.proc.poll() is None
    ns.ip("route", "add", "default", "via", "10.213.64.7")
    until("the recovered render", lambda: w.out.read_text() == rendered("10.213.64.7"))
    until("the notify", lambda: w.notifies() == 1)
    assert w.stop() == 0


def test_render_error_keeps_the_old_file(lab: Lab, watching: Callable[..., Running]) -> None:
    ns = _netns_with_gateway(lab, 65)
    w = watching(ns)
    w.template.unlink()
    ns.ip("route", "replace", "default", "via", "10.213.65.8")
    until("the error log", lambda: "files were kept" in read(w.log))
    assert w.out.read_text() == rendered("10.213.65.1")
    assert w.notifies() == 0
    w.template.write_text(TEMPLATE)
    ns.ip("route", "replace", "default", "via", "10.213.65.9")
    until("the render after the fix", lambda: w.out.read_text() == rendered("10.213.65.9"))
    until("the notify", lambda: w.notifies() == 1)
    assert w.stop() == 0


def test_signal_to_pid_file(lab: Lab, tmp_path: Path) -> None:
    ns = _netns_with_gateway(lab, 66)
    # A stand-in server: counts the HUPs it gets (the e2e tests use real nginx).
    hups = tmp_path / "hups"
    server = ns.spawn(
        "sh",
        "-c",
        f"trap 'echo hup >> {hups}' HUP; while :; do sleep 0.05; done",
        stdin=subprocess.DEVNULL,
    )
    pid_file = tmp_path / "server.pid"
    pid_file.write_text(f"{server.pid}\n")
    template = tmp_path / "t"
    template.write_text(TEMPLATE)
    out, log = tmp_path / "o", tmp_path / "log"
    with log.open("w") as err:
        proc = ns.spawn(
            *hostgw_cmd(),
            "watch",
            f"{template}:{out}",
            "--signal",
            "HUP",
            "--pid-file",
            str(pid_file),
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    until("the first render", lambda: "watching" in read(log))
    until("the HUP for the new file", lambda: read(hups).count("hup") == 1)
    ns.ip("route", "replace", "default", "via", "10.213.66.3")
    until("the HUP for the change", lambda: read(hups).count("hup") == 2)
    assert out.read_text() == rendered("10.213.66.3")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


def test_hup_makes_it_look_again(lab: Lab, watching: Callable[..., Running]) -> None:
    ns = _netns_with_gateway(lab, 69)
    w = watching(ns)
    w.template.write_text("# edited\n" + TEMPLATE)  # templates are read on each pass
    w.proc.send_signal(signal.SIGHUP)
    until(
        "the render after HUP", lambda: w.out.read_text() == "# edited\n" + rendered("10.213.69.1")
    )
    until("the notify", lambda: w.notifies() == 1)
    assert w.proc.poll() is None, "HUP must not end the watcher"
    assert w.stop() == 0


def test_literal_override_watches_nothing(lab: Lab, watching: Callable[..., Running]) -> None:
    ns = _netns_with_gateway(lab, 67)
    w = watching(ns, env={"HOSTGW_IP": "10.213.67.40"})
    assert "watching nothing" in read(w.log)
    assert w.out.read_text() == rendered("10.213.67.40")
    ns.ip("route", "replace", "default", "via", "10.213.67.9")
    fd_links = set(open_files(w.proc.pid))
    assert not any("NETLINK" in link or "socket" in link for link in fd_links - _pipes(fd_links))
    # A pass after the route change (forced by HUP, seen by the edited
    # template) still writes the override, not the new route's gateway.
    w.template.write_text("# edited\n" + TEMPLATE)
    w.proc.send_signal(signal.SIGHUP)
    until(
        "the pass after HUP",
        lambda: w.out.read_text() == "# edited\n" + rendered("10.213.67.40"),
        log=w.log,
    )
    assert w.stop() == 0


def _pipes(links: set[str]) -> set[str]:
    return {link for link in links if link.startswith("pipe:")}


def test_up_to_date_files_at_start_notify_nobody(lab: Lab, tmp_path: Path) -> None:
    ns = _netns_with_gateway(lab, 68)
    template, out, log = tmp_path / "t", tmp_path / "o", tmp_path / "log"
    template.write_text(TEMPLATE)
    out.write_text(rendered("10.213.68.1"))
    notified = tmp_path / "notified"
    with log.open("w") as err:
        proc = ns.spawn(
            *hostgw_cmd(),
            "watch",
            f"{template}:{out}",
            "--notify",
            f"echo x >> {notified}",
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
    until("the first pass", lambda: "watching" in read(log))
    ns.ip("route", "replace", "default", "via", "10.213.68.5")
    until("the render", lambda: out.read_text() == rendered("10.213.68.5"))
    until("the notify", lambda: read(notified) != "")
    assert read(notified) == "x\n", "only the change after start notifies"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["watch", "{t}:{o}", "--signal", "HUP"], "--signal needs --pid-file"),
        (["watch"], "nothing to keep in step"),
        (["watch", "{t}:{o}", "--notify", "true", "--signal", "HUP"], "cannot be combined"),
        (["watch", "{t}:{o}", "--signal", "HUPP", "--pid-file", "{o}"], "unknown signal 'HUPP'"),
        (["watch", "{t}:{o}", "--check"], "watch does not take --check"),
        (["exec", "--signal", "HUP", "--", "true"], "need --watch"),
        (
            ["exec", "--watch", "--notify", "x", "--pid-file", "p", "--", "true"],
            "cannot be combined",
        ),
    ],
    ids=[
        "signal-alone",
        "no-outputs",
        "notify-and-signal",
        "bad-signal",
        "check",
        "exec-signal-without-watch",
        "exec-notify-and-pid-file",
    ],
)
def test_usage_errors_exit_2_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    template, out = tmp_path / "t", tmp_path / "o"
    template.write_text(TEMPLATE)
    argv = [a.format(t=template, o=out) for a in args]
    done = subprocess.run(
        [*hostgw_cmd(), *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "HOSTGW_IP": "10.213.0.1"},
        check=False,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists(), "a usage error must come before any file is written"
