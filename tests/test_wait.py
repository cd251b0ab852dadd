"""``hostgw wait``: target syntax (pure) and real waits (real sockets, real subprocess).

Every wait runs the real ``hostgw`` console script against sockets this test
owns on 127.0.0.1, or inside namespaces it built. A port is reserved by
binding a socket without listening: connects are refused until the test calls
``listen()``, with no race against other processes.
"""

from __future__ import annotations

import http.server
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hostgw.errors import EXIT_USAGE, EXIT_WAIT_TIMEOUT, UsageError, WaitTimeout
from hostgw.runtime.wait import CHECK_THREAD, Round, Target, parse_target, wait_for
from tests.envcases import container
from tests.helpers import Done, hostgw_cmd
from tests.helpers import run as run_hostgw
from tests.netns import Lab
from tests.tls import self_signed

# --- syntax ---

GOOD = [
    ("8000", Target("8000", "tcp", None, 8000)),
    (":8000", Target(":8000", "tcp", None, 8000)),
    ("backend:8000", Target("backend:8000", "tcp", "backend", 8000)),
    ("10.0.0.5:1", Target("10.0.0.5:1", "tcp", "10.0.0.5", 1)),
    ("[fd00::1]:65535", Target("[fd00::1]:65535", "tcp", "fd00::1", 65535)),
    ("[fe80::1%eth0]:80", Target("[fe80::1%eth0]:80", "tcp", "fe80::1%eth0", 80)),
    ("tcp://db:5432", Target("tcp://db:5432", "tcp", "db", 5432)),
    ("tcp://db:5432/", Target("tcp://db:5432/", "tcp", "db", 5432)),
    ("TCP://:5432", Target("TCP://:5432", "tcp", None, 5432)),
    ("http://api", Target("http://api", "http", "api", 80, "/")),
    ("http://api:8000/health", Target("http://api:8000/health", "http", "api", 8000, "/health")),
    ("http://:8000/h?x=1#frag", Target("http://:8000/h?x=1#frag", "http", None, 8000, "/h?x=1")),
    ("http://api?ready", Target("http://api?ready", "http", "api", 80, "/?ready")),
    ("http://[fd00::1]/", Target("http://[fd00::1]/", "http", "fd00::1", 80, "/")),
    ("https://x.example", Target("https://x.example", "https", "x.example", 443, "/")),
]

BAD = [
    ("", "empty"),
    (" 8000", "spaces"),
    ("0", "is not a number from 1 to 65535"),
    ("65536", "is not a number from 1 to 65535"),
    ("backend", "port is missing"),
    ("backend:", "port is missing"),
    ("backend:http", "not a number"),
    ("backend:\uff18\uff10", "not a number"),  # fullwidth digits
    ("fd00::1:8000", "needs brackets"),
    ("[fd00::1:8000", "closing ']'"),
    ("[fd00::1]8000", "':PORT' after ']'"),
    ("[10.0.0.1]:80", "only for IPv6"),
    ("[fd00::zz]:80", "not an IPv6 address"),
    ("tcp://db", "port is missing"),
    ("tcp://db:5432/x", "no path"),
    ("udp://db:53", "unknown scheme 'udp'"),
    ("http://user:pw@api/", "credentials"),
    ("http://api:0/", "is not a number from 1 to 65535"),
    ("http://a b/", "is neither an IP address nor a hostname"),
    ("http://api/a b", "%20"),
    ("back/end:80", "is neither an IP address nor a hostname"),
    ("10.9.8:5432", "'10.9.8' is not an IPv4 address: that is four decimal numbers"),
    ("010.9.8.7:5432", "the resolver would read this as 8.9.8.7"),
]


@pytest.mark.parametrize(("text", "expected"), GOOD, ids=[g[0] for g in GOOD])
def test_parse_good(text: str, expected: Target) -> None:
    assert parse_target(text) == expected


@pytest.mark.parametrize(("text", "why"), BAD, ids=[b[0] or "empty" for b in BAD])
def test_parse_bad_names_the_target_and_the_fix(text: str, why: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_target(text)
    assert repr(text) in info.value.message
    assert why in info.value.message
    assert info.value.hint and "HOST:PORT" in info.value.hint


def test_label_fills_in_the_detected_host() -> None:
    assert parse_target("8000").label("172.17.0.1") == "172.17.0.1:8000"
    assert parse_target("http://:80/h").label("fd00::1") == "http://[fd00::1]:80/h"
    assert parse_target("db:1").label("172.17.0.1") == "db:1"


# --- helpers: sockets and servers owned by the test ---


@pytest.fixture
def reserved() -> Iterator[socket.socket]:
    """A bound, not yet listening socket on 127.0.0.1: connects are refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


class _Handler(http.server.BaseHTTPRequestHandler):
    statuses: list[int]
    seen: list[str]

    def do_GET(self) -> None:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        self.seen.append(self.path)
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


Served = tuple[http.server.ThreadingHTTPServer, type[_Handler]]


@pytest.fixture
def http_server() -> Iterator[tuple[http.server.ThreadingHTTPServer, type[_Handler]]]:
    """An HTTP server on 127.0.0.1 answering with the statuses a test sets, in order."""
    handler = type("H", (_Handler,), {"statuses": [200], "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Done:
    """Run the real ``hostgw`` (its output is shown when an assertion fails)."""
    return run_hostgw(*args, env={**os.environ, **(env or {})}, timeout=timeout)


def port_of(sock: socket.socket | http.server.ThreadingHTTPServer) -> int:
    """The port a socket or server is bound to."""
    address = sock.getsockname() if isinstance(sock, socket.socket) else sock.server_address
    return int(address[1])


def _serve_each(sock: socket.socket, handle: Callable[[socket.socket], None]) -> None:
    """Listen on ``sock`` and hand each connection to ``handle`` in a thread of its
    own, until the socket is closed or shut down."""
    sock.listen()

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()


# --- real waits ---


def test_port_that_opens_late(reserved: socket.socket) -> None:
    target = f"127.0.0.1:{port_of(reserved)}"
    proc = subprocess.Popen(
        [*hostgw_cmd(), "wait", target, "--interval", "0.05", "--timeout", "120"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        # Open the port only after hostgw has seen it refused at least twice.
        while sum("refused" in line for line in lines) < 2:
            line = proc.stderr.readline()
            assert line, f"hostgw ended early: {lines}"
            lines.append(line)
        reserved.listen()
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, [*lines, rest]
    finally:
        if proc.poll() is None:
            proc.kill()
    assert f"waiting for {target} (refused)" in lines[0]
    assert rest.strip().splitlines()[-1].endswith("1/1 ready")


def test_port_that_never_opens(reserved: socket.socket) -> None:
    target = f"127.0.0.1:{port_of(reserved)}"
    done = run("wait", target, "--timeout", "0.5", "--interval", "0.1")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    last = [ln for ln in done.stderr.splitlines() if ln.startswith("hostgw: ")][-1]
    assert "gave up after 0.5s" in last
    assert f"{target}: refused" in last
    assert "hint:" in done.stderr and "--timeout" in done.stderr
    rounds = [ln for ln in done.stderr.splitlines() if ln.startswith("hostgw wait: round")]
    assert len(rounds) >= 2


def test_quiet_prints_only_the_failure(reserved: socket.socket) -> None:
    done = run("wait", "-q", f"127.0.0.1:{port_of(reserved)}", "--timeout", "0.3")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert "round" not in done.stderr
    assert "never answered" in done.stderr


def test_http_500_then_200(http_server: Served) -> None:
    server, handler = http_server
    handler.statuses[:] = [500, 500, 200]
    url = f"http://127.0.0.1:{port_of(server)}/health?deep=1"
    done = run("wait", url, "--interval", "0.05")
    assert done.returncode == 0
    assert f"{url} (HTTP 500 Internal Server Error)" in done.stderr
    assert handler.seen == ["/health?deep=1"] * 3


def test_http_that_stays_500_names_the_status(
    http_server: Served,
) -> None:
    server, handler = http_server
    handler.statuses[:] = [503]
    url = f"http://127.0.0.1:{port_of(server)}/"
    done = run("wait", url, "--timeout", "0.4", "--interval", "0.1")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert f"{url}: HTTP 503 Service Unavailable" in done.stderr


@pytest.mark.parametrize("status", [204, 301, 302, 304, 399])
def test_http_2xx_and_3xx_count(http_server: Served, status: int) -> None:
    server, handler = http_server
    handler.statuses[:] = [status]
    done = run("wait", f"http://127.0.0.1:{port_of(server)}/x", "--timeout", "5")
    assert done.returncode == 0
    assert handler.seen == ["/x"], "redirects are not followed"


@pytest.mark.parametrize("status", [400, 404, 418])
def test_http_4xx_does_not_count(http_server: Served, status: int) -> None:
    server, handler = http_server
    handler.statuses[:] = [status]
    done = run("wait", f"http://127.0.0.1:{port_of(server)}/", "--timeout", "0.3")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert f"HTTP {status}" in done.stderr
    # The server is there: the hint is about the path, not about a backend that is down.
    (hint,) = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    assert f"a server answered (HTTP {status}" in hint and "check the URL's path" in hint
    assert "publishes that port" not in hint and "raise --timeout" in hint


def test_a_refused_and_an_answered_target_get_both_hints(
    http_server: Served, reserved: socket.socket
) -> None:
    server, handler = http_server
    handler.statuses[:] = [404]
    answered = f"http://127.0.0.1:{port_of(server)}/"
    done = run("wait", answered, f"127.0.0.1:{port_of(reserved)}", "--timeout", "0.3")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    (hint,) = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    assert "check the URL's path" in hint and "publishes that port on the host" in hint


def test_http_that_accepts_but_never_answers_is_a_timeout(reserved: socket.socket) -> None:
    reserved.listen()  # the kernel completes the handshake; nobody ever replies
    url = f"http://127.0.0.1:{port_of(reserved)}/"
    done = run("wait", url, "--timeout", "1", "--attempt-timeout", "0.2")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert f"{url}: timeout" in done.stderr


def test_tcp_server_that_is_not_http(reserved: socket.socket) -> None:
    def babble(conn: socket.socket) -> None:
        with conn:
            conn.recv(1000)
            conn.sendall(b"SSH-2.0-OpenSSH\r\n")

    _serve_each(reserved, babble)
    url = f"http://127.0.0.1:{port_of(reserved)}/"
    done = run("wait", url, "--timeout", "0.5", "--interval", "0.1")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert f"{url}: not an HTTP response" in done.stderr


def test_all_targets_must_answer_and_only_the_missing_are_named(
    reserved: socket.socket, http_server: Served
) -> None:
    server, _ = http_server
    up = f"http://127.0.0.1:{port_of(server)}/"
    down = f"tcp://127.0.0.1:{port_of(reserved)}"
    done = run("wait", up, down, "--timeout", "0.3")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    message = next(ln for ln in done.stderr.splitlines() if "never answered" in ln)
    assert "1 of 2" in message and down in message and up not in message
    assert "1/2 ready" in done.stderr


def test_unresolvable_name_is_reported(tmp_path: Path) -> None:
    # A name that /etc/hosts does not hold; ".invalid" is never resolvable (RFC 6761).
    done = run("wait", "nothing.invalid:80", "--timeout", "0.3")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert "cannot resolve 'nothing.invalid'" in done.stderr


def test_bad_target_is_a_usage_error_before_any_wait(reserved: socket.socket) -> None:
    done = run("wait", f"127.0.0.1:{port_of(reserved)}", "backend", "--timeout", "60")
    assert done.returncode == EXIT_USAGE
    assert "bad wait target 'backend'" in done.stderr
    assert "round" not in done.stderr


def test_no_target_is_a_usage_error() -> None:
    assert run("wait").returncode == EXIT_USAGE


def test_port_alone_uses_the_detected_address(reserved: socket.socket) -> None:
    reserved.listen()
    done = run("wait", str(port_of(reserved)), env={"HOSTGW_IP": "127.0.0.1"})
    assert done.returncode == 0
    assert f"127.0.0.1:{port_of(reserved)}" not in done.stderr  # answered in round 1
    assert "1/1 ready" in done.stderr


def test_library_reports_each_round(reserved: socket.socket) -> None:
    target = f"127.0.0.1:{port_of(reserved)}"
    rounds: list[Round] = []
    with pytest.raises(WaitTimeout) as info:
        wait_for([parse_target(target)], timeout=0.25, interval=0.1, progress=rounds.append)
    assert info.value.pending == (target,)
    assert len(rounds) >= 2
    assert [r.number for r in rounds] == list(range(1, len(rounds) + 1))
    assert all(r.ready == 0 and r.failed[0][1] == "refused" for r in rounds)


# --- https ---


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the real openssl."""
    d = tmp_path_factory.mktemp("tls")
    crt, key = d / "c.pem", d / "k.pem"
    self_signed(crt, key, "127.0.0.1", san="IP:127.0.0.1")
    return crt, key


@pytest.fixture
def https_server(cert: tuple[Path, Path]) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 that answers 200; yields its port."""
    handler = type("H", (_Handler,), {"statuses": [200], "seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*cert)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield port_of(server)
    server.shutdown()
    server.server_close()


def test_https_checks_the_certificate(https_server: int) -> None:
    url = f"https://127.0.0.1:{https_server}/"
    done = run("wait", url, "--timeout", "0.5", "--interval", "0.2")
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert "TLS certificate not trusted" in done.stderr and "--insecure" in done.stderr


def test_https_insecure_accepts_any_certificate(https_server: int) -> None:
    assert run("wait", f"https://127.0.0.1:{https_server}/", "--insecure").returncode == 0


def test_https_trusts_what_the_system_trusts(https_server: int, cert: tuple[Path, Path]) -> None:
    # OpenSSL's SSL_CERT_FILE stands in for a CA installed in the image.
    done = run("wait", f"https://127.0.0.1:{https_server}/", env={"SSL_CERT_FILE": str(cert[0])})
    assert done.returncode == 0


# --- a server that keeps a check busy: it must be cut, not left running ---


def _slow_server(
    reserved: socket.socket, cert: tuple[Path, Path], scheme: str, dribble: bool
) -> Iterator[str]:
    """A server that reads the request and answers with nothing, or (dribble)
    with the start of an HTTP response and then one byte every 20 ms, for
    ever; over TLS for https, once the handshake is done. Yields its URL.
    """
    context = None
    if scheme == "https":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*cert)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        try:
            if context is not None:
                conn = context.wrap_socket(conn, server_side=True)
            conn.recv(1000)
            if not dribble:
                stop.wait()
            conn.sendall(b"HTTP/1.1 200 ")
            while not stop.wait(0.02):
                conn.sendall(b"x")
        except OSError:
            pass  # the client shut the connection: what the test wants
        finally:
            conn.close()

    _serve_each(reserved, serve)
    yield f"{scheme}://127.0.0.1:{port_of(reserved)}/"
    stop.set()
    reserved.shutdown(socket.SHUT_RDWR)


@pytest.fixture(params=["https", "http"])
def dribbler(
    request: pytest.FixtureRequest, reserved: socket.socket, cert: tuple[Path, Path]
) -> Iterator[str]:
    """Every read the client makes succeeds within its timeout, so only a cut
    ends the check; over TLS, each of those reads is inside OpenSSL."""
    yield from _slow_server(reserved, cert, request.param, dribble=True)


@pytest.fixture
def silent_tls(reserved: socket.socket, cert: tuple[Path, Path]) -> Iterator[str]:
    """The client waits inside OpenSSL for a response until its timeout."""
    yield from _slow_server(reserved, cert, "https", dribble=False)


def _check_threads() -> list[threading.Thread]:
    """Check threads still running a second after the wait ended.

    A cut check leaves at once, and a thread that has left its check may take
    an instant more to end; one that was never cut reads on for minutes.
    """
    threads = [t for t in threading.enumerate() if t.name == CHECK_THREAD]
    for thread in threads:
        thread.join(1.0)
    return [t for t in threads if t.is_alive()]


def test_a_check_kept_busy_is_cut_before_the_wait_ends(dribbler: str) -> None:
    # Left running, a check inside OpenSSL at exit crashes the process when
    # OpenSSL's exit handlers free what it is using.
    assert not _check_threads()
    with pytest.raises(WaitTimeout) as info:
        wait_for([parse_target(dribbler)], timeout=0.3, interval=0.1, insecure=True)
    assert not _check_threads()
    assert info.value.pending == (dribbler,)
    assert f"never answered: {dribbler}: timeout\n" in str(info.value)


def test_a_round_ended_by_a_signal_cuts_its_checks(dribbler: str) -> None:
    # TERM as PID 1 (exec --wait) or ^C raises in the main thread mid-round;
    # the checks must not be left inside OpenSSL for the exit that follows.
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            wait_for([parse_target(dribbler)], timeout=30, attempt_timeout=10, insecure=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert not _check_threads()


def test_wait_exits_cleanly_with_a_check_inside_tls(silent_tls: str) -> None:
    # A race: before the cut, about 1 exit in 20 here was a SIGSEGV (-11).
    for _ in range(20):
        done = run("wait", silent_tls, "--timeout", "0.3", "--interval", "0.1", "--insecure")
        assert done.returncode == EXIT_WAIT_TIMEOUT
        assert f"{silent_tls}: timeout" in done.stderr


@pytest.mark.netns  # port 443 needs root
def test_the_host_header_names_the_port_only_when_it_is_not_the_default(
    cert: tuple[Path, Path],
) -> None:
    seen: list[str] = []

    class Hosts(_Handler):
        def do_GET(self) -> None:
            seen.append(self.headers["Host"])
            super().do_GET()

    Hosts.statuses, Hosts.seen = [200], []
    servers = []
    for port in (443, 0):
        server = http.server.ThreadingHTTPServer(("127.0.0.73", port), Hosts)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*cert)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    try:
        other = port_of(servers[1])
        urls = ["https://127.0.0.73/", f"https://127.0.0.73:{other}/"]
        wait_for([parse_target(u) for u in urls], timeout=10, insecure=True)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
    assert sorted(seen) == sorted(["127.0.0.73", f"127.0.0.73:{other}"])


# --- in namespaces: the detected host, and a port that drops packets ---


def _listener(address: str, port: int) -> list[str]:
    code = (
        "import socket, sys, time\n"
        f"s = socket.socket(); s.bind(({address!r}, {port})); s.listen()\n"
        "print('ready', flush=True)\n"
        "while True: c, _ = s.accept(); c.close()\n"
    )
    return [sys.executable, "-c", code]


@pytest.mark.netns
def test_port_on_the_route_detected_host(lab: Lab) -> None:
    host, box, _ = container(lab, 50)
    box.ip("route", "add", "default", "via", "10.213.50.1")
    server = host.spawn(*_listener("10.213.50.1", 8000), stdout=subprocess.PIPE)
    assert server.stdout is not None and server.stdout.readline() == "ready\n"
    done = box.exec(
        *hostgw_cmd(),
        "wait",
        "8000",
        "--timeout",
        "10",
        check=False,
        env={"PATH": os.environ["PATH"]},
    )
    assert done.returncode == 0, done.stderr
    # Nothing listens on 8001: the message names the address it was detected at.
    done = box.exec(
        *hostgw_cmd(),
        "wait",
        "8001",
        "--timeout",
        "0.3",
        check=False,
        env={"PATH": os.environ["PATH"]},
    )
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert "10.213.50.1:8001: refused" in done.stderr


@pytest.mark.netns
def test_dropped_syn_is_a_timeout_within_the_total(lab: Lab) -> None:
    _, box, _ = container(lab, 51)
    # The host side would refuse at once; the box drops its own SYNs: only time can tell.
    box.exec(
        "nft",
        "add table inet t; add chain inet t o { type filter hook output priority 0; }; "
        "add rule inet t o tcp dport 9 drop",
    )
    done = box.exec(
        *hostgw_cmd(), "wait", "10.213.51.1:9", "--timeout", "0.6", "--interval", "0.1", check=False
    )
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert "10.213.51.1:9: timeout" in done.stderr


# --- hostgw exec --wait ---


def test_exec_waits_then_runs_the_command(reserved: socket.socket, tmp_path: Path) -> None:
    template = tmp_path / "t.template"
    template.write_text("up ${HOSTGW_HOST}:" + str(port_of(reserved)) + "\n")
    out = tmp_path / "t.conf"
    proc = subprocess.Popen(
        [
            *hostgw_cmd(),
            "exec",
            "-t",
            f"{template}:{out}",
            "--wait",
            str(port_of(reserved)),
            "--wait-interval",
            "0.05",
            "--",
            "sh",
            "-c",
            "echo ran as $$; cat " + str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOSTGW_IP": "127.0.0.1"},
    )
    assert proc.stderr is not None and proc.stdout is not None
    try:
        line = proc.stderr.readline()
        assert line == f"hostgw: wrote {out} (from {template})\n", line
        line = proc.stderr.readline()
        assert f"waiting for 127.0.0.1:{port_of(reserved)} (refused)" in line, line
        assert out.read_text() == f"up 127.0.0.1:{port_of(reserved)}\n", "rendered before waiting"
        reserved.listen()
        assert proc.wait(timeout=60) == 0
        stdout = proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert stdout == f"ran as {proc.pid}\nup 127.0.0.1:{port_of(reserved)}\n", "exec: same pid"


@pytest.mark.parametrize("watch", [[], ["--watch"]], ids=["exec", "exec-watch"])
def test_exec_wait_timeout_runs_nothing(
    reserved: socket.socket, tmp_path: Path, watch: list[str]
) -> None:
    marker = tmp_path / "ran"
    done = run(
        "exec",
        *watch,
        "--wait",
        f"127.0.0.1:{port_of(reserved)}",
        "--wait-timeout",
        "0.3",
        "--",
        "touch",
        str(marker),
    )
    assert done.returncode == EXIT_WAIT_TIMEOUT, done.stderr
    assert f"127.0.0.1:{port_of(reserved)}: refused" in done.stderr
    assert not marker.exists()


def test_exec_bad_wait_target_renders_nothing(tmp_path: Path) -> None:
    template = tmp_path / "t.template"
    template.write_text("x\n")
    out = tmp_path / "t.conf"
    done = run("exec", "-t", f"{template}:{out}", "--wait", "nope", "--", "true")
    assert done.returncode == EXIT_USAGE
    assert "bad wait target 'nope'" in done.stderr
    assert not out.exists()


def test_exec_without_wait_does_not_import_the_checks() -> None:
    code = (
        "import sys\nfrom hostgw.cli import cli\n"
        "cli.main(['exec', '--help'], standalone_mode=False)\n"
        "print(sorted(m for m in ('ssl', 'http.client') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]")


def test_exec_watch_waits_too(reserved: socket.socket, tmp_path: Path) -> None:
    # The timeout without --watch and with it: test_exec_wait_timeout_runs_nothing.
    marker = tmp_path / "ran"
    reserved.listen()
    done = run(
        "exec", "--watch", "--wait", f"127.0.0.1:{port_of(reserved)}", "--", "touch", str(marker)
    )
    assert done.returncode == 0, done.stderr
    assert marker.exists()


def test_ipv6_target() -> None:
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        sock.listen()
        done = run("wait", f"[::1]:{sock.getsockname()[1]}", "--timeout", "10")
    assert done.returncode == 0, done.stderr


@pytest.mark.netns
def test_port_without_a_host_to_find(lab: Lab) -> None:
    _, box, _ = container(lab, 52)  # an internal network: no default route
    done = box.exec(*hostgw_cmd(), "wait", "8000", check=False, env={"PATH": os.environ["PATH"]})
    assert done.returncode == 3
    assert "no IPv4 or IPv6 gateway found" in done.stderr and "round" not in done.stderr


@pytest.mark.netns
def test_a_resolver_that_never_answers_cannot_stretch_the_timeout(lab: Lab) -> None:
    # glibc would wait 10 s x 3 for this resolver; the wait still ends at --timeout.
    from tests.envcases import drop_dns

    host, box, bridge = container(lab, 53)
    host.ip("addr", "add", "10.213.53.53/24", "dev", bridge)
    drop_dns(host)
    box.resolv("nameserver 10.213.53.53\noptions timeout:10 attempts:3\n")
    done = box.exec(
        *hostgw_cmd(),
        "wait",
        "backend.example:80",
        "--timeout",
        "1",
        check=False,
        timeout=20,
        env={"PATH": os.environ["PATH"]},
    )
    assert done.returncode == EXIT_WAIT_TIMEOUT
    assert "backend.example:80: timeout" in done.stderr
