"""The watch engine without root: real files under a temp root, a clock we drive.

Detection is a stand-in here (a list we change) because the engine's job is
what happens *after* an answer changes; the real detection and the real
netlink socket are exercised in tests/test_watch.py inside network namespaces.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostgw.detection import Answer, Attempt, Detection, detect
from hostgw.detection.evidence import HOSTS, NETLINK
from hostgw.detection.table import ROWS
from hostgw.errors import (
    GatewayNotFound,
    HostgwError,
    InvalidConfig,
    TemplateError,
    UsageError,
)
from hostgw.fileio import write_changed
from hostgw.runtime.notify import parse_signal, run_command, signal_pid_file
from hostgw.runtime.pipeline import LastWarnings, RewriteSettings, rewrite_apply
from hostgw.runtime.watcher import Timing, Watcher
from tests.helpers import require_tool


def _attempt(strategy: str, address: str | None, detail: str) -> Attempt:
    return Attempt(strategy, address, detail, watch=ROWS[strategy].watch)


def _found(address: str, strategy: str = "route") -> Answer:
    """An answer from ``strategy`` after /etc/hosts had nothing (the usual order)."""
    tried = [_attempt("hosts", None, "no host.docker.internal")] if strategy != "hosts" else []
    tried.append(_attempt(strategy, address, "seen"))
    return Answer(Detection(address, 6 if ":" in address else 4, strategy, tuple(tried)))


class Rig:
    """A watcher over files in ``tmp``, with a changeable answer and counters."""

    def __init__(self, tmp: Path, **timing: float) -> None:
        self.tmp = tmp
        (tmp / "proc/net").mkdir(parents=True)
        (tmp / "etc").mkdir()
        for name in ("route", "ipv6_route", "if_inet6"):
            (tmp / "proc/net" / name).write_text("")
        (tmp / "etc/hosts").write_text("127.0.0.1 localhost\n")
        self.answer: Answer | Exception = _found("10.213.0.1")
        self.out = tmp / "site.conf"
        self.static = tmp / "static.conf"
        self.plan_error: Exception | None = None
        self.notify_error: Exception | None = None
        self.notified = 0
        self.logs: list[str] = []
        self.watcher = Watcher(
            detect=self.detect,
            apply=lambda found: write_changed(self.plan(found)),
            notify=self.notify,
            log=self.logs.append,
            timing=Timing(**timing),
            root=str(tmp),
            netlink=False,
        )

    def detect(self) -> Answer:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def plan(self, found: Answer) -> list[tuple[Path, bytes]]:
        if self.plan_error is not None:
            raise self.plan_error
        return [
            (self.out, f"proxy_pass http://{found.detection.host}:8000;\n".encode()),
            (self.static, b"no address here\n"),
        ]

    def notify(self) -> None:
        if self.notify_error is not None:
            raise self.notify_error
        self.notified += 1


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path)
    made.watcher.start()
    yield made
    made.watcher.close()


def test_start_writes_files_without_notifying(rig: Rig) -> None:
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.0.1:8000;\n"
    assert rig.static.read_bytes() == b"no address here\n"
    assert rig.notified == 0


def test_changed_address_rewrites_and_notifies_once(rig: Rig) -> None:
    before = rig.static.stat().st_ino
    rig.answer = _found("10.213.9.1")
    rig.watcher.run_pass()
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.9.1:8000;\n"
    assert rig.static.stat().st_ino == before, "a file whose bytes did not change was rewritten"
    assert rig.notified == 1
    rig.watcher.run_pass()
    assert rig.notified == 1, "the same answer again must not notify"


def test_ipv6_answer_is_bracketed_in_the_file(rig: Rig) -> None:
    rig.answer = _found("fd5e::1")
    rig.watcher.run_pass()
    assert rig.out.read_bytes() == b"proxy_pass http://[fd5e::1]:8000;\n"


def test_same_bytes_for_new_address_do_not_notify(tmp_path: Path) -> None:
    made = Rig(tmp_path)
    made.watcher._apply = lambda _found: write_changed([(made.static, b"fixed\n")])
    made.watcher.start()
    made.answer = _found("10.213.9.1")
    made.watcher.run_pass()
    assert made.notified == 0
    assert any("files unchanged" in line for line in made.logs)
    made.watcher.close()


def test_detection_failure_keeps_files_and_recovers(rig: Rig) -> None:
    rig.answer = GatewayNotFound("no default route", attempts=[Attempt("route", None, "none")])
    rig.watcher.run_pass()
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.0.1:8000;\n"
    assert rig.notified == 0
    assert "no host address now" in rig.logs[-1]
    rig.answer = _found("10.213.7.1")
    rig.watcher.run_pass()
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.7.1:8000;\n"
    assert rig.notified == 1


def test_render_error_keeps_files_and_is_retried(rig: Rig) -> None:
    rig.answer = _found("10.213.5.1")
    rig.plan_error = TemplateError("site.tmpl:3:7: unknown variable FOO")
    rig.watcher.run_pass()
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.0.1:8000;\n"
    assert "site.tmpl:3:7" in rig.logs[-1]
    assert rig.watcher.errors == 1
    rig.plan_error = None
    rig.watcher.run_pass()  # same address as the failed pass: still applied now
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.5.1:8000;\n"
    assert rig.notified == 1


def test_notify_failure_is_logged_and_watch_goes_on(rig: Rig) -> None:
    rig.answer = _found("10.213.5.1")
    rig.notify_error = HostgwError("cannot send SIGHUP to pid 4242: No such process")
    rig.watcher.run_pass()
    assert "notify failed" in rig.logs[-1]
    rig.notify_error = None
    rig.answer = _found("10.213.6.1")
    rig.watcher.run_pass()
    assert rig.notified == 1


def test_a_change_alone_is_looked_at_once_it_settles(rig: Rig) -> None:
    w = rig.watcher
    settle = w.timing.settle
    assert settle < w.timing.debounce
    w.mark(100.0)  # nothing in the window before it: a change alone
    assert not w.step(now=100.0 + settle / 2)
    assert w.timeout(100.0 + settle / 2) == pytest.approx(settle / 2)
    assert w.step(now=100.0 + settle * 1.01)
    assert w.passes == 1
    assert not w.step(now=100.0 + settle * 3), "a pass must clear the pending change"


def test_a_change_soon_after_another_waits_for_quiet(rig: Rig) -> None:
    w = rig.watcher  # a 100 ms window
    w.mark(100.0)
    assert w.step(now=100.0 + w.timing.settle * 1.01)  # alone: looked at once it settled
    w.mark(100.05)  # 50 ms after the last change: a burst goes on
    assert not w.step(now=100.1)
    w.mark(100.13)
    assert not w.step(now=100.2)  # 70 ms after the last event
    assert w.timeout(100.2) == pytest.approx(0.03)
    assert w.step(now=100.231)
    assert w.passes == 2
    assert not w.step(now=101.0), "a pass must clear the pending change"


def test_a_fast_burst_after_quiet_is_one_pass_of_its_end(rig: Rig) -> None:
    # 50 changes, each within the settle time of the last.
    w = rig.watcher
    gap = w.timing.settle / 3
    t = 100.0
    for _ in range(50):
        w.mark(t)
        assert not w.step(now=t + gap / 2)
        t += gap
    last = t - gap
    assert not w.step(now=last + w.timing.settle * 0.9)
    assert w.step(now=last + w.timing.settle * 1.01)
    assert w.passes == 1


def test_steady_stream_still_gets_a_pass_after_max_delay(rig: Rig) -> None:
    w = rig.watcher
    t = 200.0
    ran = []
    while t < 203.0:
        w.mark(t)
        ran.append(w.step(now=t + 0.001))
        t += 0.05
    # 3 s of events every 50 ms with a 1 s cap: about three passes, not sixty, not zero.
    assert 2 <= sum(ran) <= 4


def test_hosts_and_route_files_are_polled(rig: Rig) -> None:
    w = rig.watcher
    assert w.watching == {"route-poll", HOSTS}
    assert w.fds() == []
    now = 1e9  # far past every poll deadline
    assert not w.step(now=now)
    (rig.tmp / "proc/net/route").write_text("eth0\t00000000\t0107D50A\t0003\n")
    w.step(now=now + 10)
    assert w.timeout(now + 10) == pytest.approx(w.timing.settle)  # a change alone
    rig.answer = _found("10.213.7.1")
    assert w.step(now=now + 10 + w.timing.debounce)
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.7.1:8000;\n"
    # /etc/hosts gains the name: it wins, and routes stop mattering.
    (rig.tmp / "etc/hosts").write_text("10.213.3.3 host.docker.internal\n")
    w.step(now=now + 20)
    rig.answer = _found("10.213.3.3", "hosts")
    assert w.step(now=now + 20 + w.timing.debounce)
    assert rig.out.read_bytes() == b"proxy_pass http://10.213.3.3:8000;\n"
    assert w.watching == {HOSTS}
    assert rig.notified == 2


def test_without_netlink_routes_are_polled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A kernel or sandbox without AF_NETLINK (gVisor, a seccomp filter) cannot
    # be made here: the socket's refusal is what they give, so it stands in.
    import errno

    from hostgw.detection import rtnl

    def refused(groups: int = rtnl.CHANGES) -> object:
        raise OSError(errno.EAFNOSUPPORT, "Address family not supported by protocol")

    monkeypatch.setattr(rtnl, "subscribe", refused)
    made = Rig(tmp_path)
    made.watcher._want_netlink = True
    made.watcher.start()
    try:
        assert made.watcher.watching == {"route-poll", HOSTS}
        assert any("netlink unavailable" in line and "polling" in line for line in made.logs)
    finally:
        made.watcher.close()


def test_literal_override_watches_nothing(tmp_path: Path) -> None:
    made = Rig(tmp_path)
    made.answer = Answer(
        Detection("10.213.0.9", 4, "env", (_attempt("env", "10.213.0.9", "HOSTGW_IP"),))
    )
    made.watcher.start()
    assert made.watcher.watching == frozenset()
    assert made.watcher.timeout(0.0) is None, "nothing to wake up for"
    made.watcher.close()


def _snapshot(root: Path) -> None:
    """A --root with a default route, a hosts entry for host.docker.internal and
    docker0 as a bridge: every file-reading strategy has an answer there."""
    (root / "proc/net").mkdir(parents=True)
    (root / "proc/net/route").write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t0100D50A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    )
    (root / "etc").mkdir()
    (root / "etc/hosts").write_text("10.213.0.7 host.docker.internal\n")
    (root / "sys/class/net/docker0/bridge").mkdir(parents=True)


@pytest.mark.parametrize(
    ("order", "env", "expected"),
    [
        (["env"], {"HOSTGW_IP": "10.213.0.9"}, set()),
        (["env"], {"HOSTGW_IP": "fd5e::9"}, set()),
        (["env"], {"HOSTGW_IP": " 10.213.0.9 "}, set()),
        (["env"], {"HOSTGW_IP": "localhost"}, {HOSTS, NETLINK}),
        (["env", "hosts"], {}, {HOSTS}),
        (["env", "k8s"], {"HOST_IP": "10.213.0.2"}, set()),
        (["env", "k8s", "route"], {}, {NETLINK}),
        (["env", "k8s", "hosts", "route"], {}, {HOSTS}),
        (["route"], {}, {NETLINK}),
        (["host-network"], {}, {NETLINK}),
    ],
    ids=[
        "env-v4",
        "env-v6",
        "env-v4-with-blanks",
        "env-hostname",
        "hosts-wins",
        "k8s-wins",
        "route-wins",
        "hosts-before-route",
        "route-only",
        "host-network",
    ],
)
def test_what_an_answer_depends_on(
    tmp_path: Path, order: list[str], env: dict[str, str], expected: set[str]
) -> None:
    # A real walk over a snapshot: each attempt carries its row's watch kinds,
    # and an override that is a hostname depends on whatever resolves it.
    _snapshot(tmp_path)
    found = detect(strategies=order, env=env, root=str(tmp_path))
    assert found.watch == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HUP", signal.SIGHUP),
        ("sighup", signal.SIGHUP),
        ("USR1", signal.SIGUSR1),
        ("15", signal.SIGTERM),
        (" quit ", signal.SIGQUIT),
    ],
)
def test_parse_signal(text: str, expected: signal.Signals) -> None:
    assert parse_signal(text) is expected


@pytest.mark.parametrize("text", ["HUPP", "", "999", "SIG"])
def test_parse_signal_rejects_unknown(text: str) -> None:
    with pytest.raises(UsageError, match="unknown signal"):
        parse_signal(text)


def test_signal_pid_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nginx.pid"
    with pytest.raises(HostgwError, match=str(missing)):
        signal_pid_file(signal.SIGHUP, missing)()
    missing.write_text("not a pid\n")
    with pytest.raises(HostgwError, match="cannot read a pid"):
        signal_pid_file(signal.SIGHUP, missing)()


def test_signal_pid_file_signals_the_pid_it_reads(tmp_path: Path) -> None:
    got: list[int] = []
    old = signal.signal(signal.SIGUSR2, lambda signum, _f: got.append(signum))
    try:
        (tmp_path / "pid").write_text(f"{os.getpid()}\n")
        signal_pid_file(signal.SIGUSR2, tmp_path / "pid")()
    finally:
        signal.signal(signal.SIGUSR2, old)
    assert got == [signal.SIGUSR2]


def test_run_command_success_and_failure(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    run_command(f"echo reloaded > {marker}")()
    assert marker.read_text() == "reloaded\n"
    with pytest.raises(HostgwError, match=r"exited with 3: nginx: \[emerg\] bad"):
        run_command("echo 'nginx: [emerg] bad' >&2; exit 3")()


@pytest.mark.parametrize(
    ("passes", "shown"),
    [
        ([["a", "b"], ["a", "b"], ["b", "a"]], [["a", "b"], [], []]),
        ([["a", "b"], ["a"], ["a", "b"]], [["a", "b"], [], ["b"]]),
        ([["a"], [], ["a"]], [["a"], [], ["a"]]),
        ([["a"], ["c", "a"]], [["a"], ["c"]]),
    ],
    ids=["same-every-pass", "gone-then-back", "gone-a-pass", "a-new-one"],
)
def test_a_warning_is_shown_again_only_after_a_pass_without_it(
    passes: list[list[str]], shown: list[list[str]]
) -> None:
    last = LastWarnings()
    assert [last.new(lines) for lines in passes] == shown


def test_a_rewrite_pass_with_nothing_to_write_runs_no_validator(tmp_path: Path) -> None:
    # The state directory is a file, so the original stays beside the config
    # on every pass; nginx -t rejects the config (an unknown directive), which
    # shows whether a pass ran the validator.
    require_tool("nginx")
    conf = tmp_path / "conf.d" / "default.conf"
    conf.parent.mkdir()
    conf.write_text(
        "server {\n    listen 80;\n    no_such_directive on;\n"
        "    location / { proxy_pass http://backend:8000; }\n}\n"
    )
    state = tmp_path / "state"
    state.write_text("not a directory\n")
    spec = RewriteSettings((str(conf),), ("backend:8000=18000",), str(state))
    logs: list[str] = []
    assert rewrite_apply(spec, logs.append)(_found("10.213.0.1")) == [conf]
    assert conf.with_name(".default.conf.hostgw-orig").exists()
    written = conf.read_bytes()
    checked = rewrite_apply(spec.replace(validate=True), logs.append)
    assert checked(_found("10.213.0.1")) == []  # nothing to write: nginx -t not run
    with pytest.raises(InvalidConfig, match="no_such_directive"):
        checked(_found("10.213.0.2"))  # something to write: nginx -t runs and rejects it
    assert conf.read_bytes() == written


def test_an_original_that_cannot_move_is_not_retried_on_every_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The state directory is a file: the original stays beside the config.
    # Passes that change nothing plan, and run no write once a write could
    # not move the original; a change writes; the warning is said once.
    import hostgw.rewriting.apply as rewriting

    conf = tmp_path / "default.conf"
    conf.write_text("server {\n    location / { proxy_pass http://backend:8000; }\n}\n")
    state = tmp_path / "state"
    state.write_text("not a directory\n")
    writes: list[bool] = []
    real = rewriting.run

    def spied(*args: object, **kwargs: object) -> object:
        writes.append(bool(kwargs.get("write", True)))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(rewriting, "run", spied)
    logs: list[str] = []
    apply = rewrite_apply(
        RewriteSettings((str(conf),), ("backend:8000=18000",), str(state)), logs.append
    )
    assert apply(_found("10.213.0.1")) == [conf]
    assert writes == [False, True]
    inode = conf.stat().st_ino
    del writes[:]
    for _ in range(5):
        assert apply(_found("10.213.0.1")) == []
    # One try to move the original (the first pass only just kept it), then none.
    assert writes.count(True) <= 1 and writes[-3:] == [False] * 3, writes
    assert writes.count(False) == 5
    assert conf.stat().st_ino == inode
    assert apply(_found("10.213.0.2")) == [conf]
    assert writes[-2:] == [False, True]
    assert "10.213.0.2:18000" in conf.read_text()
    beside = [line for line in logs if "kept beside" in line]
    assert len(beside) == 1, logs


def _render_watcher(
    tmp_path: Path, env: dict[str, str], order: tuple[str, ...], logs: list[str]
) -> tuple[Watcher, Path]:
    """The watcher ``hostgw watch TEMPLATE:OUT`` builds, over a --root snapshot."""
    from hostgw.detection import resolve_options
    from hostgw.runtime.notify import WatchSettings
    from hostgw.runtime.pipeline import render_apply, watcher_for
    from hostgw.templates.jobs import RenderRequest

    root = tmp_path / "root"
    _snapshot(root)
    template, out = tmp_path / "site.template", tmp_path / "site.conf"
    template.write_text("proxy_pass http://${HOSTGW_HOST}:8000;\n")
    options = resolve_options(strategies=order, env=env, root=str(root))
    request = RenderRequest(specs=(f"{template}:{out}",))
    apply = render_apply(request, env)
    return watcher_for(options, [apply], WatchSettings(), None, logs.append), out


def test_a_pass_walks_the_table_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The answer a pass logs and compares is the one its outputs are written
    # with: one walk per pass, shared by detection and the render.
    from hostgw.detection.table import ROWS as rows

    calls: list[str] = []
    route = rows["route"]

    def counted(ctx: object) -> object:
        calls.append("route")
        return route.run(ctx)  # type: ignore[arg-type]

    monkeypatch.setitem(rows, "route", route.replace(run=counted))
    logs: list[str] = []
    watcher, out = _render_watcher(tmp_path, {}, ("route",), logs)
    try:
        watcher.start()
        assert len(calls) == 1
        assert out.read_text() == "proxy_pass http://10.213.0.1:8000;\n"
        watcher.run_pass()
        assert len(calls) == 2
    finally:
        watcher.close()


def test_an_override_with_blanks_watches_nothing(tmp_path: Path) -> None:
    # HOSTGW_IP=" 10.213.0.9 " is an address (detection strips it): an answer
    # that cannot change while the process runs, so nothing is opened to watch it.
    logs: list[str] = []
    env = {"HOSTGW_IP": " 10.213.0.9 "}
    watcher, out = _render_watcher(tmp_path, env, ("env", "route"), logs)
    try:
        watcher.start()
        assert out.read_text() == "proxy_pass http://10.213.0.9:8000;\n"
        assert watcher.watching == frozenset()
    finally:
        watcher.close()


_LATE_HANDLER = """
import signal, sys, time
time.sleep(0.3)  # a server still starting: its handler comes later
signal.signal(signal.SIGHUP, lambda *_: (open(sys.argv[1], "a").write("hup\\n"), sys.exit(0)))
print("ready", flush=True)
signal.pause()
"""


def test_a_signal_waits_for_the_handler_of_a_starting_server(tmp_path: Path) -> None:
    # SIGHUP's default action ends a process: sent before the server installs its
    # handler, it would kill the server instead of reloading it.
    import subprocess
    import sys

    from hostgw.runtime.notify import handles, signal_pid

    got = tmp_path / "got"
    proc = subprocess.Popen([sys.executable, "-c", _LATE_HANDLER, str(got)])
    try:
        assert handles(proc.pid, signal.SIGHUP) is False
        signal_pid(signal.SIGHUP, lambda: proc.pid)()  # at once: the child is not ready
        assert proc.wait(timeout=10) == 0, "the HUP ended the process instead of reaching it"
        assert got.read_text() == "hup\n"
    finally:
        proc.kill()
        proc.wait()


def test_a_signal_the_process_never_handles_is_not_sent(tmp_path: Path) -> None:
    import subprocess

    from hostgw.runtime.notify import handles, signal_pid

    proc = subprocess.Popen(["sleep", "30"])
    try:
        assert handles(proc.pid, signal.SIGHUP) is False
        with pytest.raises(HostgwError, match=r"does not handle SIGHUP.*not sent"):
            signal_pid(signal.SIGHUP, lambda: proc.pid, wait=0.2)()
        assert proc.poll() is None, "the process must still be running"
        # A signal whose default does not end a process is sent as asked.
        signal_pid(signal.SIGWINCH, lambda: proc.pid, wait=0.2)()
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
    assert handles(proc.pid, signal.SIGHUP) is None  # gone: nothing to read
