"""Argument handling and output formats of ``hostgw ip``, ``doctor`` and ``env``.

Runs :func:`hostgw.cli.main` in-process on snapshot roots (``--root``), so no
strategy asks the machine's network; exit codes come from the one mapping in
``main``. The real subprocess in real namespaces is in test_envcases.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hostgw.cli import main
from hostgw.envformat import format_env, sh_quote
from tests.helpers import make_root, r4, r6

CLEAN = (
    "HOSTGW_IP",
    "HOSTGW_IP6",
    "HOSTGW_STRATEGIES",
    "HOSTGW_NAMES",
    "HOSTGW_K8S_VAR",
    "HOST_IP",
    "KUBERNETES_SERVICE_HOST",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEAN:
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def dual(tmp_path: Path) -> str:
    return make_root(tmp_path, route=r4("172.17.0.1"), route6=r6("fd00::1"))


def test_ip(capsys: pytest.CaptureFixture[str], dual: str) -> None:
    assert run(capsys, "ip", "--root", dual) == (0, "172.17.0.1\n", "")
    assert run(capsys, "ip", "--root", dual, "-6") == (0, "fd00::1\n", "")
    assert run(capsys, "ip", "--root", dual, "-6", "--bracket") == (0, "[fd00::1]\n", "")
    assert run(capsys, "ip", "--root", dual, "--bracket") == (0, "172.17.0.1\n", "")


def test_ip_json(capsys: pytest.CaptureFixture[str], dual: str) -> None:
    code, out, _ = run(capsys, "ip", "--root", dual, "--json")
    found = json.loads(out)
    assert code == 0
    assert set(found) == {
        "address",
        "family",
        "host",
        "strategy",
        "detail",
        "why",
        "attempts",
        "probes",
    }
    assert (found["address"], found["family"], found["strategy"]) == ("172.17.0.1", 4, "route")
    assert found["attempts"][0] == {
        "strategy": "env",
        "address": None,
        "family": None,
        "detail": "HOSTGW_IP is not set",
        "findings": [],
        "rejected": [],
        "note": "HOSTGW_IP is not set",
    }
    assert found["probes"] == []


def test_json_shapes_are_one_family(capsys: pytest.CaptureFixture[str], dual: str) -> None:
    # doctor's answer is ip's answer object; their attempts have one shape.
    ip = json.loads(run(capsys, "ip", "--root", dual, "--json")[1])
    doctor = json.loads(run(capsys, "doctor", "--root", dual, "--json")[1])
    assert doctor["answer"] == {k: v for k, v in ip.items() if k not in ("attempts", "probes")}
    # (ip's winner read only what it needed: its IPv4 answer, not route's IPv6 one)
    assert ip["attempts"][:-1] == doctor["attempts"][: len(ip["attempts"]) - 1]
    assert set(ip["attempts"][-1]) == set(doctor["attempts"][0])
    assert "error" not in doctor and isinstance(doctor["notes"], list)
    env = json.loads(run(capsys, "env", "--root", dual, "--json")[1])
    assert env == json.loads(run(capsys, "env", "--root", dual, "--format", "json")[1])
    assert env["HOSTGW_IP"] == ip["address"] and env["HOSTGW_HOST"] == ip["host"]


def test_json_failure_is_the_error_object(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = make_root(tmp_path)
    for argv in (("ip", "--json"), ("env", "--format", "json"), ("env", "--json")):
        code, out, _ = run(capsys, *argv, "--root", root)
        failure = json.loads(out)
        assert code == 3 == failure["exit"], argv
        assert {"error", "hint", "exit", "attempts"} == set(failure), argv
        assert failure["error"].startswith("no IPv4 or IPv6 gateway found")
        assert "HOSTGW_IP=" in failure["hint"]
    code, out, _ = run(capsys, "doctor", "--json", "--root", root)
    report = json.loads(out)
    assert (code, report["exit"], report["answer"]) == (3, 3, None)
    assert {"error", "hint", "exit", "attempts", "notes"} <= set(report)


def test_options_reach_the_library(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_root(tmp_path, route=r4("172.17.0.1"), hosts="10.0.0.5 gw.example\n")
    assert run(capsys, "ip", "--root", root, "--name", "gw.example")[1] == "10.0.0.5\n"
    monkeypatch.setenv("NODE_IP", "10.0.0.6")
    assert run(capsys, "ip", "--root", root, "--k8s-var", "NODE_IP")[1] == "10.0.0.6\n"
    assert (
        run(capsys, "ip", "--root", root, "--strategy", "route", "--k8s-var", "NODE_IP")[1]
        == "172.17.0.1\n"
    )
    monkeypatch.setenv("HOSTGW_STRATEGIES", "route")
    assert run(capsys, "ip", "--root", root, "--k8s-var", "NODE_IP")[1] == "172.17.0.1\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-4", "-6"], "-4 and -6 exclude each other"),
        (["--strategy", "psychic"], "'psychic' is not one of"),
        (["--dns-timeout", "-1"], "--dns-timeout"),
        (["--timeout", "-1"], "'--timeout'"),  # the old spelling, hidden
        (["--port", "70000"], "--port"),
        (["--root", "/nonexistent/dir"], "--root"),
        (["--name", "a b"], "names must be non-empty hostnames"),
    ],
    ids=["both-families", "strategy", "dns-timeout", "old-timeout", "port", "root", "name"],
)
@pytest.mark.parametrize("command", ["ip", "doctor", "env"])
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], dual: str, command: str, argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, command, "--root", dual, *argv)
    assert (code, out) == (
        2,
        "(exit 2)  # hostgw env: no HOSTGW_IP; why is on stderr\n" if command == "env" else "",
    )
    assert message in err
    assert "Traceback" not in err


def test_bad_env_strategies_exit_2_with_the_choices(
    capsys: pytest.CaptureFixture[str], dual: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTGW_STRATEGIES", "route,crystal-ball")
    code, out, err = run(capsys, "ip", "--root", dual)
    assert (code, out) == (2, "")
    assert "HOSTGW_STRATEGIES: unknown strategy 'crystal-ball'" in err
    assert "hint: choose from env, hosts, k8s, host-network, dns, route, netlink, netifaces" in err


def test_not_found_exit_3_prints_nothing_on_stdout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = make_root(tmp_path)
    for command in ("ip", "env"):
        code, out, err = run(capsys, command, "--root", root)
        # env fails closed: its `(exit 3)` makes `eval "$(hostgw env)"` fail too.
        assert (code, out) == (3, "" if command == "ip" else EXIT_3)
        assert err.startswith("hostgw: no IPv4 or IPv6 gateway found; tried, in order of trust:")
        assert "hint: tell hostgw where the host is: set HOSTGW_IP=" in err
    assert run(capsys, "env", "--root", root, "--format", "dotenv")[:2] == (3, "")
    assert run(capsys, "env", "--root", root, "--no-such-option")[:2] == (
        2,
        EXIT_3[:6] + "2" + EXIT_3[7:],
    )


EXIT_3 = "(exit 3)  # hostgw env: no HOSTGW_IP; why is on stderr\n"


def test_env_formats(capsys: pytest.CaptureFixture[str], dual: str) -> None:
    assert run(capsys, "env", "--root", dual)[1] == (
        "export HOSTGW_IP='172.17.0.1'\nexport HOSTGW_IP6='fd00::1'\n"
        "export HOSTGW_HOST='172.17.0.1'\n"
    )
    assert run(capsys, "env", "--root", dual, "--format", "dotenv", "-6")[1] == (
        "HOSTGW_IP=fd00::1\nHOSTGW_IP6=fd00::1\nHOSTGW_HOST=[fd00::1]\n"
    )
    assert json.loads(run(capsys, "env", "--root", dual, "--format", "json")[1]) == {
        "HOSTGW_IP": "172.17.0.1",
        "HOSTGW_IP6": "fd00::1",
        "HOSTGW_HOST": "172.17.0.1",
    }
    assert run(capsys, "env", "--root", dual, "--format", "yaml")[0] == 2


def test_doctor_report(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = make_root(
        tmp_path,
        route=r4("169.254.1.1"),
        route6=r6("fd00::1"),
        hosts="10.0.0.300 host.docker.internal\n",
    )
    code, out, _ = run(capsys, "doctor", "--root", root)
    assert code == 0
    lines = out.splitlines()
    for name in ("env", "hosts", "k8s", "host-network", "dns", "netlink", "netifaces"):
        assert any(line.startswith(f"  {name} ") for line in lines), name
    assert "* route          fd00::1" in lines
    assert any("rejected:" in line and "169.254.1.1 is link-local" in line for line in lines)
    assert f"      IPv6 fd00::1: {root}/proc/net/ipv6_route:1: default via fd00::1" in out
    assert "answer: fd00::1 (IPv6) from route" in out
    assert "for host:port use [fd00::1]" in out


def test_doctor_json_and_failure(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = make_root(tmp_path)
    code, out, err = run(capsys, "doctor", "--root", root, "--json")
    report = json.loads(out)
    assert code == 3 == report["exit"]
    assert report["answer"] is None
    assert [a["strategy"] for a in report["attempts"]] == report["order"]
    assert "HOSTGW_IP=" in report["hint"]
    assert err.startswith("hostgw: no answer; see the report above")
    code, out, _ = run(capsys, "doctor", "--root", root)
    assert code == 3 and "answer: none" in out and "fix: tell hostgw" in out


def test_doctor_stops_on_a_broken_override(
    capsys: pytest.CaptureFixture[str], dual: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTGW_IP", "not valid!")
    code, out, err = run(capsys, "doctor", "--root", dual)
    assert code == 3
    assert "is neither an IP address nor a hostname" in out
    assert "unset it" in err


# --- quoting ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["172.17.0.1", "[fd00::1]", "fe80::1%eth0", "it's", "$HOME", "a b", "`x`", "", "\\", "\n"],
)
@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_sh_output_round_trips_through_a_shell(value: str, shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"needs {shell}")
    script = format_env({"V": value}, "sh") + 'printf "%s" "$V"'
    done = subprocess.run([shell, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout == value


def test_dotenv_plain_and_quoted() -> None:
    assert format_env({"A": "[fd00::1]", "B": "a b"}, "dotenv") == 'A=[fd00::1]\nB="a b"\n'
    assert sh_quote("it's") == "'it'\\''s'"
    with pytest.raises(ValueError, match="unknown format"):
        format_env({}, "xml")


# --- doctor's notes -------------------------------------------------------------------


def test_doctor_says_when_this_looks_like_a_host(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("container", raising=False)
    root = make_root(tmp_path, route=r4("192.168.1.1"))
    report = json.loads(run(capsys, "doctor", "--root", root, "--json")[1])
    assert any(n.startswith("this looks like a host, not a container") for n in report["notes"])
    text = run(capsys, "doctor", "--root", root)[1]
    assert "note: this looks like a host, not a container" in text
    for mark in (".dockerenv", "run/.containerenv"):
        (tmp_path / mark).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / mark).write_text("")
        report = json.loads(run(capsys, "doctor", "--root", root, "--json")[1])
        assert not any("looks like a host" in n for n in report["notes"]), mark
        (tmp_path / mark).unlink()
    (tmp_path / "proc/1").mkdir(parents=True)
    (tmp_path / "proc/1/cgroup").write_text("12:pids:/kubepods/besteffort/pod1/abc\n")
    report = json.loads(run(capsys, "doctor", "--root", root, "--json")[1])
    assert not any("looks like a host" in n for n in report["notes"])
    monkeypatch.setenv("container", "podman")
    (tmp_path / "proc/1/cgroup").write_text("0::/\n")
    report = json.loads(run(capsys, "doctor", "--root", root, "--json")[1])
    assert not any("looks like a host" in n for n in report["notes"])


def test_doctor_says_what_only_port_can_tell_for_a_route_answer(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = make_root(tmp_path, route=r4("172.18.0.1"))
    (tmp_path / ".dockerenv").write_text("")
    notes = json.loads(run(capsys, "doctor", "--root", root, "--json")[1])["notes"]
    (note,) = notes
    assert note.startswith("nothing inside the container can tell whether 172.18.0.1 reaches")
    for case in ("--internal", "pasta", "--map-gw", "--port PORT"):
        assert case in note
    # An answer the user or the runtime named is not a route's guess: no such note.
    hosts = make_root(
        tmp_path / "hosts", route=r4("172.18.0.1"), hosts="10.0.0.5 host.docker.internal\n"
    )
    (tmp_path / "hosts/.dockerenv").write_text("")
    assert json.loads(run(capsys, "doctor", "--root", hosts, "--json")[1])["notes"] == []


def test_root_fstype() -> None:
    from hostgw.detection.place import root_fstype

    mountinfo = (
        "22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw,lowerdir=/l\n"
        "23 22 0:22 / /proc rw - proc proc rw\n"
    )
    assert root_fstype(mountinfo) == "overlay"
    assert root_fstype("27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n") == "ext4"
    assert root_fstype("garbage\n\n") is None
