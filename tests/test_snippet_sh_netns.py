"""The sh drop-in in every environment of tests/envcases.py, against the real hostgw.

Each case is built once in real namespaces. Inside it run ``hostgw ip`` and
``hostgw env`` (Python) and the script under dash (with the system's mawk and
getent) and under busybox sh with a PATH of busybox applets only (busybox
awk, no getent: Alpine's minimal userland). Where the case's answer comes
from a strategy the script does not have (``needs``: dns, netlink), the
script's own documented answer is checked instead (:data:`SH_ANSWERS`).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.envcases import CASES, Case
from tests.helpers import hostgw_cmd
from tests.netns import Lab, Netns
from tests.shsnippet import SCRIPT, Shell, parse_exports, shells

pytestmark = pytest.mark.netns
IP = shutil.which("ip") or "/usr/sbin/ip"  # not busybox's ip from the shell's PATH

# What the script answers where hostgw needs Python (case name -> shell -> output).
SH_ANSWERS: dict[str, dict[str, str | None]] = {
    # No dns strategy: the route table answers (the Docker VM's bridge gateway,
    # where ports published by other containers do answer).
    "docker-desktop-dns": {"dash": "10.213.7.1", "busybox": "10.213.7.1"},
    # The script never asks the resolver: the route, as hostgw after its bound.
    "dns-unreachable": {"dash": "10.213.8.1", "busybox": "10.213.8.1"},
    # HOSTGW_IP=name: dash's Debian userland has getent; busybox has not, and the
    # script looks the name up in /etc/hosts (where this case lists it).
    "override-hostname": {"dash": "10.213.21.5", "busybox": "10.213.21.5"},
    # /proc/net/route shows the main table only; the netlink lookup is Python's.
    "policy-routing": {"dash": None, "busybox": None},
    "no-proc": {"dash": None, "busybox": None},
}


@pytest.fixture(scope="module")
def all_shells(tmp_path_factory: pytest.TempPathFactory) -> list[Shell]:
    """dash and busybox sh."""
    return shells(tmp_path_factory.mktemp("shells"))


def sh_args(case: Case) -> tuple[list[str], str]:
    """The script's arguments for the case's `hostgw ip` arguments, and the mode."""
    family = [a for a in case.args if a in ("-4", "-6")]
    return family, "host" if "--bracket" in case.args else "ip"


def run_sh(
    case: Case, ns: Netns, env: dict[str, str], shell: Shell, *args: str, script: Path = SCRIPT
) -> subprocess.CompletedProcess[str]:
    """The script, executed inside the case's namespace (and wrapper)."""
    return subprocess.run(
        [IP, "netns", "exec", ns.name, *case.wrap, *shell.argv, str(script), *args],
        env=shell.env(env),
        capture_output=True,
        text=True,
        timeout=case.timeout,
        check=False,
    )


def show(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(lab: Lab, case: Case, all_shells: list[Shell]) -> None:
    ns, env = case.build(lab)
    family, mode = sh_args(case)
    python = case.exec(ns, env, [*hostgw_cmd(), "ip"])
    assert python.returncode == case.exit_code, show(python)
    python_env = case.exec(ns, env, [*hostgw_cmd(), "env"], args=family)
    for shell in all_shells:
        done = run_sh(case, ns, env, shell, *family, mode)
        if case.name in SH_ANSWERS:
            expected = SH_ANSWERS[case.name][shell.name]
        else:
            assert not case.needs, f"{case.name} needs {case.needs}: say what the script does"
            expected = python.stdout.strip() or None
        if expected is None:
            assert (done.returncode, done.stdout) == (3, ""), (shell, show(done))
            assert "hint:" in done.stderr
            continue
        assert (done.returncode, done.stdout) == (0, f"{expected}\n"), (shell, show(done))
        exported = run_sh(case, ns, env, shell, *family, "export")
        if case.name not in SH_ANSWERS:
            assert parse_exports(exported.stdout) == parse_exports(python_env.stdout), shell


def test_differences_are_only_where_python_is_needed() -> None:
    assert set(SH_ANSWERS) <= {c.name for c in CASES}
    needs = {c.name for c in CASES if c.needs}
    assert needs <= set(SH_ANSWERS), "every case that needs dns or netlink has an sh answer"


def test_hostname_override_is_bounded_when_the_resolver_never_answers(
    lab: Lab, all_shells: list[Shell]
) -> None:
    # glibc is told to wait 10 s x 3 for a resolver that drops everything;
    # `timeout 1 getent` gives up after a second, and the error says so.
    from tests.envcases import container, drop_dns

    host, box, bridge = container(lab, 81)
    host.ip("addr", "add", "10.213.81.53/24", "dev", bridge)
    drop_dns(host)
    box.ip("route", "add", "default", "via", "10.213.81.1")
    box.resolv("nameserver 10.213.81.53\noptions timeout:10 attempts:3\n")
    dash = next(s for s in all_shells if s.name == "dash")
    done = subprocess.run(
        [IP, "netns", "exec", box.name, *dash.argv, str(SCRIPT), "ip"],
        env=dash.env({"HOSTGW_IP": "backend.example"}),
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert (done.returncode, done.stdout) == (3, ""), show(done)
    assert "HOSTGW_IP='backend.example' did not resolve within 1 s" in done.stderr
