"""``hostgw exec --watch``: the supervisor, as real processes and real signals.

hostgw runs the command as a child, forwards TERM/INT/HUP/QUIT (and USR1,
USR2, WINCH), reaps every child (it may be PID 1) and exits with the
command's code, or 128+N when signal N killed it.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd
from tests.waiting import until

# The child: reports "ready", then one line per signal; exits 0 on TERM.
_RECORDER = textwrap.dedent(
    """
    import os, signal, sys
    names = {s: s.name for s in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT,
             signal.SIGUSR1, signal.SIGUSR2, signal.SIGWINCH, signal.SIGTERM)}
    def got(signum, _frame):
        print(names[signum], flush=True)
        if signum == signal.SIGTERM:
            sys.exit(0)
    for s in names:
        signal.signal(s, got)
    print("ready", os.getpid(), os.getpgrp(), flush=True)
    while True:
        signal.pause()
    """
)


def supervised(*argv: str, work: Path | None) -> subprocess.Popen[str]:
    """``hostgw exec --watch [-t WORK/t:WORK/o] -- ARGV`` with a fixed answer.

    With a ``work`` directory the watcher is in the loop (it watches nothing:
    the answer is HOSTGW_IP); without, hostgw only supervises.
    """
    env = {**os.environ, "HOSTGW_IP": "10.213.0.1"}
    extra: list[str] = []
    if work is not None:
        (work / "t").write_text("server ${HOSTGW_IP}:8000;\n")
        extra = ["-t", f"{work / 't'}:{work / 'o'}"]
    return subprocess.Popen(
        [*hostgw_cmd(), "exec", "--watch", *extra, "--", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"hostgw did not exit\nstdout: {out}\nstderr: {err}") from None
    return proc.returncode, out, err


@pytest.mark.parametrize("render", [True, False], ids=["watching", "supervising-only"])
@pytest.mark.parametrize("code", [0, 1, 7, 255])
def test_exit_code_is_the_commands(code: int, render: bool, tmp_path: Path) -> None:
    rc, _out, err = _finish(
        supervised("sh", "-c", f"exit {code}", work=tmp_path if render else None)
    )
    assert rc == code, err


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGSEGV])
def test_death_by_signal_is_128_plus_n(sig: signal.Signals, tmp_path: Path) -> None:
    rc, _out, err = _finish(supervised("sh", "-c", f"kill -{sig.name[3:]} $$", work=tmp_path))
    assert rc == 128 + sig, err


def test_signals_are_forwarded_once_each_in_order(tmp_path: Path) -> None:
    proc = supervised(sys.executable, "-c", _RECORDER, work=tmp_path)
    assert proc.stdout is not None
    ready = proc.stdout.readline().split()
    assert ready[0] == "ready", ready
    child_pid, child_pgrp = int(ready[1]), int(ready[2])
    assert child_pid != proc.pid
    assert child_pgrp == child_pid, "the command runs in its own process group"
    sent = [
        signal.SIGHUP,
        signal.SIGQUIT,
        signal.SIGUSR1,
        signal.SIGINT,
        signal.SIGUSR2,
        signal.SIGWINCH,
    ]
    for sig in sent:
        proc.send_signal(sig)
        assert proc.stdout.readline().strip() == sig.name
    proc.send_signal(signal.SIGTERM)
    rc, out, err = _finish(proc)
    assert out.split() == ["SIGTERM"]
    assert rc == 0, err


def test_term_kills_a_command_without_handler_and_reports_143(tmp_path: Path) -> None:
    waits = "import signal; print('up', flush=True); signal.pause()"
    proc = supervised(sys.executable, "-c", waits, work=tmp_path)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "up"
    proc.send_signal(signal.SIGTERM)
    rc, _out, err = _finish(proc)
    assert rc == 128 + signal.SIGTERM, err


def test_command_not_found_is_127_with_a_message() -> None:
    rc, _out, err = _finish(supervised("hostgw-no-such-command", work=None))
    assert rc == 127
    assert "command not found: hostgw-no-such-command" in err
    assert "Traceback" not in err


def test_command_not_executable_is_126(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    rc, _out, err = _finish(supervised(str(script), work=None))
    assert rc == 126
    assert "permission denied" in err.lower()


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"
)
def test_as_pid_1_orphans_are_reaped() -> None:
    # The command leaves an orphan (sleep) that exits soon after; as PID 1 of
    # a new pid namespace hostgw inherits it and must reap it, or it stays a
    # zombie. The command waits (bounded) for the orphan's /proc entry to go.
    script = textwrap.dedent(
        """
        test "$PPID" = 1 || { echo "hostgw is not PID 1 here: $PPID"; exit 90; }
        orphan=$(sh -c 'sleep 0.3 >/dev/null & echo $!')
        i=0
        while [ -e /proc/$orphan ] && [ $i -lt 300 ]; do sleep 0.05; i=$((i+1)); done
        if [ -e /proc/$orphan ]; then
            echo "orphan $orphan still there: $(cat /proc/$orphan/stat)"; exit 91
        fi
        echo reaped
        """
    )
    env = {**os.environ, "HOSTGW_IP": "10.213.0.1"}
    done = subprocess.run(
        [
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            *hostgw_cmd(),
            "exec",
            "--watch",
            "--",
            "sh",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout.strip().endswith("reaped")


def test_each_template_is_read_once_before_the_command_starts(tmp_path: Path) -> None:
    # The template is a FIFO this test writes once and closes: a second read
    # before the command (a watcher's first pass repeating exec's render)
    # would wait for a writer that never comes.
    fifo, out = tmp_path / "t", tmp_path / "o"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [*hostgw_cmd(), "exec", "--watch", "-t", f"{fifo}:{out}", "--", "cat", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HOSTGW_IP": "10.213.0.1"},
    )
    writer: list[int] = []

    def opened() -> bool:
        try:
            writer.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError as exc:
            if exc.errno != errno.ENXIO:  # ENXIO: hostgw has not opened it yet
                raise
        return bool(writer) or proc.poll() is not None

    until("hostgw reading the template", opened)
    assert writer, proc.communicate()
    os.write(writer[0], b"server ${HOSTGW_IP}:8000;\n")
    os.close(writer[0])
    rc, stdout, err = _finish(proc)
    assert rc == 0, err
    assert stdout == "server 10.213.0.1:8000;\n"
