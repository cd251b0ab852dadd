"""``hostgw exec`` as a real process: it becomes the command (same pid), exports HOSTGW_*."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers import Done, hostgw_cmd
from tests.helpers import run as run_hostgw
from tests.waiting import until

# HOSTGW_STRATEGIES=env: the given address only; nothing probes the real network.
BASE = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Done:
    return run_hostgw("exec", *args, env={**BASE, **(env or {})}, cwd=cwd)


def test_the_command_replaces_hostgw() -> None:
    proc = subprocess.Popen(
        [*hostgw_cmd(), "exec", "--", "sh", "-c", "echo $$"],
        env=BASE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert int(out) == proc.pid


def test_signals_reach_the_command_directly() -> None:
    proc = subprocess.Popen([*hostgw_cmd(), "exec", "--", "sleep", "30"], env=BASE)
    try:
        until(
            "hostgw to exec sleep",
            lambda: Path(f"/proc/{proc.pid}/comm").read_text().strip() == "sleep",
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    finally:
        proc.kill()
        proc.wait()


def _ignored(status: str) -> int:
    """The ignored standard signals (1-31) of /proc/PID/status. Signals 32 and 33
    are glibc's own; some Python versions' subprocess leaves them ignored in any child."""
    line = next(x for x in status.splitlines() if x.startswith("SigIgn:"))
    return int(line.split()[1], 16) & 0x7FFFFFFF


def test_the_command_gets_default_signal_dispositions() -> None:
    """Python ignores SIGPIPE and SIGXFSZ; the command must not inherit that."""
    script = "cat /proc/$$/status"
    direct = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    done = run("--", "sh", "-c", script)
    assert done.returncode == 0, done.stderr
    mask = _ignored(done.stdout)
    assert not mask & (1 << (signal.SIGPIPE - 1))
    assert not mask & (1 << (signal.SIGXFSZ - 1))
    assert mask == _ignored(direct.stdout)


IGNORING = 'trap "" INT QUIT TERM; exec "$@"'  # as nohup or a background job leaves them


@pytest.mark.parametrize("watch", [(), ("--watch",)], ids=["exec", "exec-watch"])
def test_signals_ignored_when_hostgw_starts_stay_ignored_for_the_command(
    watch: tuple[str, ...],
) -> None:
    # hostgw handles INT and TERM while it starts (and forwards more with
    # --watch); an exec resets a handled signal to its default, so without
    # care the command would see INT and TERM again where it should not.
    script = "cat /proc/$$/status"
    direct = subprocess.run(
        ["sh", "-c", IGNORING, "sh", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    done = subprocess.run(
        ["sh", "-c", IGNORING, "sh", *hostgw_cmd(), "exec", *watch, "--", "sh", "-c", script],
        env=BASE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    wanted = sum(1 << (s - 1) for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM))
    assert _ignored(direct.stdout) & wanted == wanted
    assert _ignored(done.stdout) == _ignored(direct.stdout)


def test_hostgw_variables_are_exported() -> None:
    done = run("--", "sh", "-c", 'echo "$HOSTGW_IP $HOSTGW_HOST ${HOSTGW_IP6-none}"')
    assert done.stdout == "10.213.0.1 10.213.0.1 none\n", done.stderr
    done = run(
        "--", "sh", "-c", 'echo "$HOSTGW_IP $HOSTGW_HOST $HOSTGW_IP6"', env={"HOSTGW_IP": "fd5e::1"}
    )
    assert done.stdout == "fd5e::1 [fd5e::1] fd5e::1\n", done.stderr


def test_detection_failure_that_no_template_needs_only_warns(tmp_path: Path) -> None:
    done = run(
        "--root",
        str(tmp_path),
        "--strategy",
        "route",
        "--",
        "sh",
        "-c",
        'echo "ran ${HOSTGW_IP:-without}"',
        env={"HOSTGW_IP": ""},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ran without\n"
    assert "warning: HOSTGW_* not exported" in done.stderr


def test_templates_are_rendered_before_the_command(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text("server ${HOSTGW_IP}:${PORT:-80};\n")
    done = run("-t", "a.template:a.conf", "--", "cat", "a.conf", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "server 10.213.0.1:80;\n"


def test_a_render_error_means_no_exec(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text("x ${NEED:?give NEED}\n")
    done = run("-t", "a.template:a.conf", "--", "touch", "ran", cwd=tmp_path)
    assert done.returncode == 5
    assert "a.template:1:3 NEED: give NEED" in done.stderr
    assert not (tmp_path / "ran").exists()
    assert not (tmp_path / "a.conf").exists()


def test_missing_and_unexecutable_commands(tmp_path: Path) -> None:
    done = run("--", "hostgw-no-such-command", "arg")
    assert done.returncode == 127
    assert "command not found: hostgw-no-such-command" in done.stderr
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    done = run("--", str(script))
    assert done.returncode == 126
    assert f"cannot execute {script}" in done.stderr
    assert "Traceback" not in done.stderr


def test_arguments_after_the_command_are_the_commands() -> None:
    done = run("sh", "-c", 'echo "$0 $1"', "--nginx", "-o")
    assert done.stdout == "--nginx -o\n", done.stderr
    done = run("--bogus", "--", "true")
    assert done.returncode == 2
    assert "unknown option --bogus" in done.stderr
    assert run().returncode == 2
    assert run("--check", "--", "true").returncode == 2
