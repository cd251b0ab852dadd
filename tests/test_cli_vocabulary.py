"""One vocabulary for the CLI, and the habits of neighbouring tools met with the right form.

Each test runs the real ``hostgw`` in a subprocess. Detection never asks the
machine: either ``HOSTGW_IP`` is set or ``--root`` points at a snapshot, and
every port a test waits on is on loopback (a closed one is bound, then freed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostgw.cli import cli
from hostgw.cli.options import parse_duration
from tests.helpers import hostgw_cmd, make_root, ok, r4, run

ENV = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOME": "/nonexistent"}


def env(**extra: str) -> dict[str, str]:
    return {**ENV, "HOSTGW_STATE_DIR": os.environ["HOSTGW_STATE_DIR"], **extra}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def snapshot(tmp_path: Path) -> str:
    return make_root(tmp_path / "root", route=r4("172.17.0.1"))


# --- durations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("500ms", 0.5), ("10s", 10.0), ("1m", 60.0), ("1.5m", 90.0), ("2", 2.0), (".25", 0.25)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "-1", "10x", "1 0s", "s", "1e3", "\u0661\u0660s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@given(st.integers(0, 10**6), st.sampled_from([("ms", 0.001), ("s", 1), ("m", 60), ("", 1)]))
def test_duration_units_scale(number: int, unit: tuple[str, float]) -> None:
    assert parse_duration(f"{number}{unit[0]}") == pytest.approx(number * unit[1])


@pytest.mark.parametrize(
    "argv",
    [
        ["ip", "--dns-timeout", "250ms"],
        ["ip", "--probe-timeout", "1s"],
        ["doctor", "--dns-timeout", "1m"],
        ["env", "--dns-timeout", "2"],
        ["ip", "--timeout", "500ms"],  # the old name of --dns-timeout, hidden
    ],
)
def test_every_duration_option_takes_units(argv: list[str], snapshot: str) -> None:
    ok(run(*argv, "--root", snapshot, env={"PATH": os.environ["PATH"]}))


def test_a_bad_duration_names_the_option_written() -> None:
    done = ok(run("ip", "--dns-timeout", "10x", env=env()), 2)
    assert "'--dns-timeout'" in done.stderr and "write 500ms, 10s, 1m" in done.stderr
    done = ok(run("ip", "--timeout", "10x", env=env()), 2)
    assert "'--timeout'" in done.stderr


def test_old_spellings_are_hidden_and_wait_keeps_its_timeout() -> None:
    ctx = click.Context(cli)
    for name in ("ip", "doctor", "env", "render", "exec", "rewrite", "watch"):
        command = cli.get_command(ctx, name)
        assert command is not None
        text = command.get_help(click.Context(command, info_name=name))
        assert "--dns-timeout" in text and not re.search(r"--timeout\b", text), name
    wait = cli.get_command(ctx, "wait")
    assert wait is not None
    text = wait.get_help(click.Context(wait, info_name="wait"))
    assert "--timeout, --wait-timeout" in text and "--dns-timeout" in text


@pytest.mark.parametrize("spelling", [["--timeout", "2m"], ["--timeout=2m"]])
def test_exec_refuses_timeout_naming_both_meanings(tmp_path: Path, spelling: list[str]) -> None:
    # dockerize's -timeout bounds the wait; --dns-timeout's old name bounds DNS. Either
    # reading would surprise someone, so exec takes neither and runs nothing.
    marker = tmp_path / "ran"
    args = ["exec", "--wait", f"127.0.0.1:{closed_port()}", *spelling, "--", "touch", str(marker)]
    done = ok(run(*args, env=env()), 2)
    assert "exec takes no --timeout: write --wait-timeout 2m for the whole wait" in done.stderr
    assert "or --dns-timeout 2m for detection's DNS lookups" in done.stderr
    assert "gave up" not in done.stderr and not marker.exists()
    # After the command, it is the command's own.
    done = ok(run("exec", "--", "echo", "--timeout", "2m", env=env()), 0)
    assert done.stdout == "--timeout 2m\n"


# --- hints name the option of the command that prints them ------------------------------


def test_exec_wait_timeout_hint_names_wait_timeout() -> None:
    port = closed_port()
    done = ok(
        run(
            "exec",
            "--wait",
            f"127.0.0.1:{port}",
            "--wait-timeout",
            "300ms",
            "--",
            "true",
            env=env(),
        ),
        8,
    )
    assert "gave up after 0.3s" in done.stderr
    assert "raise --wait-timeout" in done.stderr
    done = ok(run("wait", "-q", f"127.0.0.1:{port}", "--timeout", "300ms", env=env()), 8)
    assert "raise --timeout" in done.stderr
    # exec's spelling works for `hostgw wait` too
    ok(run("wait", "-q", f"127.0.0.1:{port}", "--wait-timeout", "200ms", env=env()), 8)


def test_rewrite_hints_name_the_command_whose_option_they_are(tmp_path: Path) -> None:
    conf = tmp_path / "bad.conf"
    conf.write_text("server { location / { proxy_pass http://backend:8000; }\n")
    for argv, option in (
        (["rewrite", "-m", "backend=18000", str(conf)], "hostgw rewrite --format"),
        (["exec", "--rewrite", str(conf), "-m", "backend=18000", "--", "true"], "--rewrite-format"),
    ):
        done = ok(run(*argv, env=env()), 6)
        assert f"hint: fix the nginx syntax there, or name the format: {option}" in (done.stderr), (
            "exec's --format is render's: the hint names exec's own option"
        )


def test_wait_takes_the_detection_options(tmp_path: Path) -> None:
    root = make_root(tmp_path, hosts="127.0.0.1 gw.example\n")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        clean = {"PATH": os.environ["PATH"]}
        done = ok(
            run("wait", "--root", root, "--name", "gw.example", str(port), "--json", env=clean)
        )
        assert json.loads(done.stdout)["targets"] == [f"127.0.0.1:{port}"]
    done = ok(run("wait", "--root", make_root(tmp_path / "none"), "8000", env=clean), 3)
    assert "no IPv4 or IPv6 gateway found" in done.stderr


# --- --json: one shape family, and failures on stdout ------------------------------------


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["ip", "--json", "--port", "70000"], 2),
        (["render", "--json", "-t", "missing.template:out.conf"], 5),
        (["rewrite", "--json", "-m", "18000=backend:8000", "x.conf"], 2),
        (["wait", "--json", "-q", "--timeout", "200ms", "127.0.0.1:{port}"], 8),
    ],
    ids=["usage", "template", "map", "wait"],
)
def test_json_failures_print_the_error_on_stdout(
    argv: list[str], code: int, tmp_path: Path
) -> None:
    args = [a.replace("{port}", str(closed_port())) for a in argv]
    done = ok(run(*args, env=env(), cwd=tmp_path), code)
    found = json.loads(done.stdout)
    assert {"error", "hint", "exit"} <= set(found)
    assert found["exit"] == code and found["error"]
    if code == 8:
        assert found["pending"] and "--timeout" in found["hint"]
    if code == 5:
        assert found["problems"][0]["path"] == "missing.template"


def test_json_not_found_carries_the_attempts(tmp_path: Path) -> None:
    done = ok(
        run("ip", "--json", "--root", make_root(tmp_path), env={"PATH": os.environ["PATH"]}), 3
    )
    found = json.loads(done.stdout)
    assert found["exit"] == 3 and "HOSTGW_IP=" in found["hint"]
    assert [a["strategy"] for a in found["attempts"]][:2] == ["env", "hosts"]


def test_render_json_reports_each_file(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text("port ${PORT:-80};\n")
    args = ["render", "a.template:a.conf", "--json"]
    done = ok(run(*args, "--check", env=env(), cwd=tmp_path), 1)
    assert json.loads(done.stdout)["files"] == [
        {"path": "a.conf", "source": "a.template", "state": "would create"}
    ]
    assert not (tmp_path / "a.conf").exists()
    done = ok(run(*args, "--diff", env=env(), cwd=tmp_path), 1)
    assert "+port 80;" in json.loads(done.stdout)["files"][0]["diff"]
    done = ok(run(*args, env=env(), cwd=tmp_path))
    report = json.loads(done.stdout)
    assert report["files"][0]["state"] == "created" and report["written"] == ["a.conf"]
    assert (tmp_path / "a.conf").read_text() == "port 80;\n"
    done = ok(run(*args, env=env(), cwd=tmp_path))
    assert json.loads(done.stdout)["files"][0]["state"] == "unchanged"
    assert ok(run("render", "a.template", "--json", env=env(), cwd=tmp_path), 2).stdout


def test_rewrite_json_and_diff_exit_like_check(tmp_path: Path) -> None:
    conf = tmp_path / "default.conf"
    conf.write_text("server { location / { proxy_pass http://backend:8000; } }\n")
    args = ["rewrite", "-m", "backend:8000=18000", str(conf)]
    done = ok(run(*args, "--diff", env=env()), 1)
    assert "+server { location / { proxy_pass http://10.213.0.1:18000; } }" in done.stdout
    done = ok(run(*args, "--check", "--json", env=env()), 1)
    (entry,) = json.loads(done.stdout)["files"]
    assert entry["state"] == "would change" and len(entry["changes"]) == 1
    done = ok(run(*args, "--json", env=env()))
    assert json.loads(done.stdout)["files"][0]["state"] == "changed"
    assert ok(run(*args, "--diff", env=env())).stdout == ""  # nothing would change: 0
    ok(run(*args, "--check", env=env()))


# --- every command says what it wrote (-q, HOSTGW_QUIET: none) ---------------------------


def test_every_command_says_what_it_wrote(tmp_path: Path) -> None:
    (tmp_path / "a.template").write_text("x ${HOSTGW_HOST};\n")
    done = ok(run("render", "a.template:a.conf", env=env(), cwd=tmp_path))
    assert done.stderr == "hostgw: wrote a.conf (from a.template)\n"
    (tmp_path / "a.conf").unlink()
    assert ok(run("render", "a.template:a.conf", "-q", env=env(), cwd=tmp_path)).stderr == ""
    (tmp_path / "a.conf").unlink()
    quiet = env(HOSTGW_QUIET="1")
    assert ok(run("render", "a.template:a.conf", env=quiet, cwd=tmp_path)).stderr == ""
    assert ok(run("render", "a.template:a.conf", env=env(), cwd=tmp_path)).stderr == "", (
        "an unchanged file is not written, so not named"
    )
    conf = tmp_path / "n.conf"
    conf.write_text("server { location / { proxy_pass http://backend:8000; } }\n")
    done = ok(run("rewrite", "-m", "backend=18000", str(conf), env=env()))
    assert done.stderr.endswith(f"hostgw: wrote {conf}\n")
    done = ok(run("snippet", "sh", "-o", str(tmp_path / "s.envsh"), env=env()))
    assert f"wrote {tmp_path / 's.envsh'}" in done.stderr
    done = ok(run("exec", "-t", "a.template:b.conf", "--", "true", env=env(), cwd=tmp_path))
    assert "hostgw: wrote b.conf (from a.template)" in done.stderr


def test_exec_says_the_whole_warning_when_nothing_is_exported(tmp_path: Path) -> None:
    root = make_root(tmp_path)
    clean = {"PATH": os.environ["PATH"]}
    done = ok(run("exec", "--root", root, "--strategy", "route", "--", "true", env=clean))
    lines = done.stderr.splitlines()
    assert lines[0].endswith("no IPv4 or IPv6 gateway found; tried, in order of trust:")
    assert lines[1].startswith("hostgw:   route: ") and "no default route" in lines[1]
    assert lines[2].startswith("hint: tell hostgw where the host is: set HOSTGW_IP=")


# --- habits -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message", "hint"),
    [
        (["exec", "-template", "x:y", "--", "true"], "options take two dashes: --template", ""),
        (["exec", "-wait", "tcp://db:5432", "--", "true"], "two dashes: --wait", ""),
        (["exec", "-timeout", "10s", "--", "true"], "two dashes: --wait-timeout", ""),
        (["wait", "-timeout", "10s", "db:1"], "two dashes: --timeout", ""),
        (["ip", "-timeout", "1"], "two dashes: --dns-timeout", ""),
        (["render", "-strict", "a"], "two dashes: --strict", ""),
        (["render", "$A $B"], "envsubst's SHELL-FORMAT", "--vars '$A $B'"),
        (["render", "${A},${B}"], "SHELL-FORMAT", "--vars"),
        (["render", "in.t:out.conf:nginx -s reload"], "TEMPLATE:OUT:COMMAND", "--notify"),
        (
            ["render", "in.t:out/x:y.conf"],
            "TEMPLATE:OUT:COMMAND",
            "hostgw render in.t -o 'out/x:y.conf'",
        ),
        (["watch", "in.t:out.conf:nginx -s reload"], "TEMPLATE:OUT:COMMAND", "--notify"),
        (["exec", "-t", "in.t:o:cmd", "--", "true"], "TEMPLATE:OUT:COMMAND", "--watch"),
        (["render", "templates"], "is a directory", "--templates templates"),
        (["render", "templates:out.conf"], "is a directory", "--templates"),
        (["rewrite", "--map", "18000=backend:8000"], "look reversed", "--map backend:8000=18000"),
        (
            ["rewrite", "-m", "http://backend:8000/api=18000"],
            "not a URL",
            "--map backend:8000=18000",
        ),
        (["rewrite", "-m", "backend=http://10.0.0.5:18000"], "not a URL", "backend=10.0.0.5:18000"),
        (["rendr"], "did you mean 'render'?", "hostgw render --help"),
        (["rewirte"], "did you mean 'rewrite'?", ""),
        (["frobnicate"], "no such command 'frobnicate'", "hostgw --help"),
    ],
)
def test_habits_get_the_right_form(
    argv: list[str], message: str, hint: str, tmp_path: Path
) -> None:
    (tmp_path / "templates").mkdir()
    done = ok(run(*argv, env=env(), cwd=tmp_path), 2)
    assert message in done.stderr
    assert hint in done.stderr
    assert "Traceback" not in done.stderr and "cannot read it" not in done.stderr


def test_values_and_the_command_are_not_habits(tmp_path: Path) -> None:
    (tmp_path / "-strict.template").write_text("ok\n")  # a value, not an option
    done = ok(run("render", "-t", "-strict.template:out", env=env(), cwd=tmp_path))
    assert (tmp_path / "out").read_text() == "ok\n"
    done = ok(run("exec", "--", "sh", "-c", "echo -template", env=env()))
    assert done.stdout == "-template\n"
    done = ok(run("exec", "echo", "-wait", env=env()))
    assert done.stdout == "-wait\n"


# --- environment forms --------------------------------------------------------------------


def test_environment_forms(tmp_path: Path) -> None:
    (tmp_path / "t").write_text("a ${A}; b ${B};\n")
    args = ["render", "t", "--vars", "A B"]
    ok(run(*args, env=env(A="1"), cwd=tmp_path))
    assert "B" in ok(run(*args, env=env(A="1", HOSTGW_STRICT="1"), cwd=tmp_path), 5).stderr
    ok(run(*args, env=env(A="1", B="", HOSTGW_STRICT="1"), cwd=tmp_path))
    ok(run(*args, env=env(A="1", B="", HOSTGW_NO_EMPTY="1"), cwd=tmp_path), 5)
    ok(run(*args, env=env(A="1", B="x;"), cwd=tmp_path), 5)
    done = ok(run(*args, env=env(A="1", B="x;", HOSTGW_RAW="1"), cwd=tmp_path))
    assert done.stdout == "a 1; b x;;\n"
    ok(run(*args, env=env(A="1;", B="x;", HOSTGW_RAW="B"), cwd=tmp_path), 5)
    ok(run(*args, env=env(A="1;", B="x;", HOSTGW_RAW="A,B"), cwd=tmp_path))
    # exec: HOSTGW_WAIT and HOSTGW_WAIT_TIMEOUT, then HOSTGW_WATCH
    port = closed_port()
    done = ok(
        run(
            "exec",
            "--",
            "true",
            env=env(HOSTGW_WAIT=f"127.0.0.1:{port}", HOSTGW_WAIT_TIMEOUT="300ms"),
        ),
        8,
    )
    assert "gave up after 0.3s" in done.stderr
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        up = server.getsockname()[1]
        ok(run("exec", "--", "true", env=env(HOSTGW_WAIT=f"127.0.0.1:{up}, 127.0.0.1:{up}")))
        done = ok(run("wait", "-q", f"127.0.0.1:{port}", env=env(HOSTGW_WAIT_TIMEOUT="200ms")), 8)
        assert "gave up after 0.2s" in done.stderr
    done = ok(run("exec", "--", "sh", "-c", "exit 3", env=env(HOSTGW_WATCH="1")), 3)
    assert "supervising only" in done.stderr
    done = ok(run("exec", "--", "true", env=env(HOSTGW_NOTIFY="nginx -s reload")), 2)
    assert "need --watch" in done.stderr
    done = ok(run("ip", env=env(HOSTGW_DNS_TIMEOUT="soon")), 2)
    assert "HOSTGW_DNS_TIMEOUT" in done.stderr


# --- help and completion ----------------------------------------------------------------


def _commands() -> list[str]:
    return cli.list_commands(click.Context(cli))


@pytest.mark.parametrize("name", _commands())
@pytest.mark.parametrize("width", [80, 100])
def test_help_never_breaks_a_word(name: str, width: int) -> None:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    ctx = command.make_context(name, [], resilient_parsing=True)
    ctx.terminal_width = ctx.max_content_width = width
    text = command.get_help(ctx)
    words = set(text.split())
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden and param.help:
            for word in param.help.split():
                assert word in words, f"hostgw {name} {param.opts[0]}: {word!r} broken"
    options = text.partition("\nOptions:\n")[2].partition("\n\n")[0]
    assert max(map(len, options.splitlines())) <= width, "an option's text overflows"


def test_shell_completion() -> None:
    script = subprocess.run(
        hostgw_cmd(),
        env={**os.environ, "_HOSTGW_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "_hostgw_completion" in script
    bash = shutil.which("bash")
    assert bash is not None
    bindir = Path(hostgw_cmd()[0]).parent  # the completion script runs `hostgw`
    probe = 'eval "$SCRIPT"; COMP_WORDS=(hostgw {words}); COMP_CWORD={cword}; '
    probe += '_hostgw_completion hostgw; printf "%s\\n" "${{COMPREPLY[@]}}"'

    def complete(*words: str) -> list[str]:
        done = subprocess.run(
            [bash, "-c", probe.format(words=" ".join(words), cword=len(words))],
            env={**os.environ, "SCRIPT": script, "PATH": f"{bindir}:{os.environ['PATH']}"},
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()

    assert complete("re") == ["render", "rewrite"]
    assert "--wait-timeout" in complete("exec", "--wait-")
    assert complete("ip", "--strategy", "ro") == ["route"]
