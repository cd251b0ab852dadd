"""``hostgw exec --watch --rewrite`` and ``hostgw watch --rewrite`` as real processes in a netns.

The namespace's default route is the gateway; it is moved with ``ip route
replace``. hostgw rewrites FILE before the command starts, then again from
the kept original whenever the gateway moves, and sends the command SIGHUP.
The command is a small recorder: on start and on each HUP it notes what
FILE says at that moment. The rewrite's warnings are logged, each once
however many passes find it again. Waits are bounded polls on files.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd
from tests.netns import Lab
from tests.waiting import read, until

pytestmark = pytest.mark.netns

CONF = """\
upstream app { server backend:8000 max_fails=2; }
server {
    listen 8080;
    # proxy_pass http://backend:8000;
    location /api/ { proxy_pass http://backend:8000/api/; }
}
"""

# The command: notes FILE's upstream line at start and at each HUP; exits 0 on TERM.
RECORDER = textwrap.dedent(
    """
    import signal, sys
    conf, seen = sys.argv[1], sys.argv[2]
    def note(why):
        line = next(l for l in open(conf) if "upstream" in l).strip()
        with open(seen, "a") as out:
            out.write(f"{why} {line}\\n")
    signal.signal(signal.SIGHUP, lambda *_: note("hup"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    note("start")
    while True:
        signal.pause()
    """
)


def upstream(gateway: str) -> str:
    return f"upstream app {{ server {gateway}:18000 max_fails=2; }}"


def test_exec_watch_rewrite_follows_the_gateway_and_hups_the_command(
    lab: Lab, tmp_path: Path
) -> None:
    ns = lab.routed("hgwx", "10.213.71.2/24", "10.213.71.1")
    conf, seen, log = tmp_path / "default.conf", tmp_path / "seen", tmp_path / "hostgw.log"
    state = tmp_path / "state"
    conf.write_text(CONF)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTGW_")}
    argv = [
        *hostgw_cmd(), "exec", "--watch", "--rewrite", str(conf), "-m", "backend:8000=18000",
        "--state-dir", str(state), "--", sys.executable, "-c", RECORDER, str(conf), str(seen),
    ]  # fmt: skip
    with log.open("w") as err:
        proc = ns.spawn(*argv, env=env, stdin=subprocess.DEVNULL, stderr=err)
    until("the command's start", lambda: read(seen) != "", log=log)
    until("the watcher", lambda: "watching" in read(log), log=log)
    # Rewritten before the command started; the original kept in the state dir.
    assert read(seen) == f"start {upstream('10.213.71.1')}\n"
    assert "proxy_pass http://10.213.71.1:18000/api/;" in conf.read_text()
    assert "# proxy_pass http://backend:8000;" in conf.read_text()
    copy = state / "pristine" / conf.resolve().relative_to("/")
    assert copy.read_text() == CONF

    moves = ["10.213.71.254", "10.213.71.1"]  # away, and back: each from the original
    for n, gateway in enumerate(moves, start=1):
        ns.ip("route", "replace", "default", "via", gateway)

        def hups(n: int = n) -> bool:
            return read(seen).count("hup") == n

        until(f"HUP {n}, after the move", hups, log=log)
        # The command was told after the file changed: at the HUP it read the new target.
        assert read(seen).splitlines()[-1] == f"hup {upstream(gateway)}"
        assert conf.read_text() == CONF.replace("backend:8000", f"{gateway}:18000").replace(
            f"# proxy_pass http://{gateway}:18000;", "# proxy_pass http://backend:8000;"
        )
    assert copy.read_text() == CONF
    assert not list(tmp_path.glob(".*hostgw-orig"))
    assert proc.poll() is None, read(log)

    proc.send_signal(signal.SIGTERM)  # forwarded; the recorder exits 0
    assert proc.wait(timeout=20) == 0, read(log)
    assert read(seen).count("hup") == len(moves), "one HUP per move, none more"


# Three warnings every pass finds again: a target behind a variable, a --map that
# matches nothing, and (the state directory is below a regular file) the original
# kept beside the file.
WARNED = CONF.replace(
    "    listen 8080;\n",
    ("    listen 8080;\n    set $up backend:8000;\n    location / { proxy_pass http://$up; }\n"),
)
WARNINGS = [
    "default.conf:1:1: original kept beside it as .default.conf.hostgw-orig (cannot write ",
    "default.conf:4:13: not rewritten: 'backend:8000' in 'set'",
    ": warning: --map ghost:9=19 matched nothing\n",
]


@pytest.mark.parametrize(
    ("command", "prefix"),
    [
        # watch logs them as it logs everything: with its name and the time.
        (["watch"], r"hostgw watch \d\d:\d\d:\d\d: warning: "),
        # exec prints them once, as rewrite does, before the command starts;
        # the watcher's passes (the first one too) find nothing new to say.
        (["exec", "--watch"], r"hostgw: warning: "),
    ],
    ids=["watch", "exec-watch"],
)
def test_each_rewrite_warning_is_logged_once_over_many_passes(
    lab: Lab, tmp_path: Path, command: list[str], prefix: str
) -> None:
    ns = lab.routed("hgwx", "10.213.72.2/24", "10.213.72.1")
    conf, seen, log = tmp_path / "default.conf", tmp_path / "seen", tmp_path / "hostgw.log"
    conf.write_text(WARNED)
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file: no state directory can be made below it\n")
    argv = [
        *hostgw_cmd(),
        *command,
        "--rewrite",
        str(conf),
        "-m",
        "backend:8000=18000",
        "-m",
        "ghost:9=19",
        "--state-dir",
        str(blocker / "state"),
    ]
    if command[0] == "exec":
        argv += ["--", sys.executable, "-c", RECORDER, str(conf), str(seen)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTGW_")}
    with log.open("w") as err:
        proc = ns.spawn(*argv, env=env, stdin=subprocess.DEVNULL, stderr=err)
    until("the watcher", lambda: "watching" in read(log), log=log)
    moves = ["10.213.72.254", "10.213.72.1", "10.213.72.254"]
    for n, gateway in enumerate(moves, start=1):
        ns.ip("route", "replace", "default", "via", gateway)

        def passes(n: int = n) -> bool:
            return read(log).count("; rewrote ") == n

        until(f"pass {n}", passes, log=log)
        assert f"proxy_pass http://{gateway}:18000/api/;" in conf.read_text()
    assert (tmp_path / ".default.conf.hostgw-orig").read_text() == WARNED
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0, read(log)

    text = read(log)
    for warning in WARNINGS:
        assert text.count(warning) == 1, f"{warning!r} not once in:\n{text}"
        line = next(line for line in text.splitlines(keepends=True) if warning in line)
        assert re.match(prefix, line), line
    assert text.count("warning:") == len(WARNINGS), text
