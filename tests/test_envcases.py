"""Every environment of docs/environments.md, rebuilt in real namespaces, against the real CLI.

``hostgw`` runs as a subprocess inside the namespace (``ip netns exec``),
with only PATH and the case's variables in its environment.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.envcases import (
    BY_NAME,
    CASES,
    Case,
    container,
    grace_missed,
    listening,
    settled,
)
from tests.helpers import hostgw_cmd
from tests.netns import Lab, Netns
from tests.waiting import until

pytestmark = pytest.mark.netns

FIXES = ("HOSTGW_IP=", "--add-host=host.docker.internal:host-gateway", "status.hostIP")


def show(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(lab: Lab, case: Case) -> None:
    ns, env = case.build(lab)
    done = settled(
        lambda: case.exec(ns, env, [*hostgw_cmd(), "ip"]),
        lambda d: d.stdout == f"{case.output}\n",
        tries=case.tries,
    )
    assert done.returncode == case.exit_code, show(done)
    if case.output is None:
        assert done.stdout == "", "never print a guess"
        for fix in FIXES:
            assert fix in done.stderr, show(done)
        assert "Traceback" not in done.stderr
        return
    assert done.stdout == f"{case.output}\n", show(done)
    assert done.stderr == ""

    family = [a for a in case.args if a in ("-4", "-6")]
    as_json = settled(
        lambda: case.exec(ns, env, [*hostgw_cmd(), "ip", "--json"], args=family),
        lambda d: d.returncode == 0 and json.loads(d.stdout)["strategy"] == case.strategy,
        lambda d: (
            d.returncode == 0
            and any(
                a["strategy"] == "dns" and grace_missed(a["detail"])
                for a in json.loads(d.stdout)["attempts"]
            )
        ),
        tries=case.tries,
    )
    assert as_json.returncode == 0, show(as_json)
    found = json.loads(as_json.stdout)
    assert (found["address"], found["strategy"]) == (case.address, case.strategy)
    assert found["family"] == (6 if ":" in found["address"] else 4)
    assert found["attempts"][-1]["strategy"] == case.strategy
    assert all(set(a) >= {"strategy", "address", "detail"} for a in found["attempts"])

    report = case.exec(ns, env, [*hostgw_cmd(), "doctor"], args=family)
    assert report.returncode == 0, show(report)
    assert f"* {case.strategy} " in report.stdout
    assert f"answer: {case.address} " in report.stdout


HEAVY = (
    "pyroute2",
    "netifaces",
    "json",
    "subprocess",
    "tempfile",
    "socket",
    "selectors",
    "dataclasses",
    "hostgw.rewriting",
    "hostgw.detection.probe",
    "hostgw.detection.report",
    "hostgw.envformat",
    "locale",  # gettext's first lookup imports it: no click text is looked up on this path
    "hostgw.detection.own",  # only once a hosts or DNS answer needs checking
    "hostgw.detection.place",  # doctor's alone
)


def test_default_path_imports_nothing_heavy(lab: Lab) -> None:
    # The route strategy answers, after env, hosts, k8s, host-network and a DNS lookup.
    case = BY_NAME["docker-bridge"]
    done = case.run(lab, [sys.executable, "-X", "importtime", "-m", "hostgw", "ip"])
    assert done.stdout == "10.213.1.1\n", show(done)
    imported = _imported(done.stderr)
    assert "hostgw.detection.routes" in imported and "hostgw.detection.resolve" in imported
    # What click itself imports (it differs between Pythons) is not ours to save.
    anchor = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import click"],
        capture_output=True,
        text=True,
        check=True,
    )
    ours = imported - _imported(anchor.stderr)
    assert not {m for m in ours if m.split(".")[0] in HEAVY or m in HEAVY}


def _imported(importtime: str) -> set[str]:
    return {line.split("|")[-1].strip() for line in importtime.splitlines() if "|" in line}


def test_explicit_override_probes_nothing_else(lab: Lab) -> None:
    done = BY_NAME["explicit-override"].run(lab, [*hostgw_cmd(), "ip", "--json"])
    found = json.loads(done.stdout)
    assert [a["strategy"] for a in found["attempts"]] == ["env"]
    assert found["attempts"][0]["detail"] == "HOSTGW_IP=10.1.2.3"


def test_unresolvable_override_stops_instead_of_guessing(lab: Lab) -> None:
    case = BY_NAME["override-hostname"]
    ns, env = case.build(lab)
    done = case.exec(ns, {**env, "HOSTGW_IP": "nosuchhost.invalid"}, [*hostgw_cmd(), "ip"])
    assert (done.returncode, done.stdout) == (3, ""), show(done)
    assert "HOSTGW_IP='nosuchhost.invalid' did not resolve" in done.stderr
    assert "or unset it to let hostgw detect the host" in done.stderr


def test_quick_start_doctor_exits_0(lab: Lab) -> None:
    # The README's first command ends with `hostgw doctor`: on a plain machine
    # (a default route, no container runtime) it must answer, not fail.
    done = BY_NAME["docker-bridge"].run(lab, [*hostgw_cmd(), "doctor"])
    assert done.returncode == 0, show(done)
    assert "answer: 10.213.1.1 (IPv4) from route" in done.stdout


def test_internal_network_doctor_names_the_fix(lab: Lab) -> None:
    done = BY_NAME["internal-network"].run(lab, [*hostgw_cmd(), "doctor"])
    assert done.returncode == 3, show(done)
    assert "answer: none" in done.stdout
    assert "no default route" in done.stdout and "internal network" in done.stdout
    assert all(fix in done.stdout for fix in FIXES)
    assert "see the report above" in done.stderr


def test_calico_link_local_gateway_is_rejected_with_reason(lab: Lab) -> None:
    done = BY_NAME["calico-no-host-ip"].run(lab, [*hostgw_cmd(), "ip"])
    assert done.returncode == 3, show(done)
    assert "169.254.1.1 is link-local" in done.stderr
    assert "HOST_IP is not set, in a Kubernetes pod" in done.stderr


def test_unreachable_resolver_is_bounded_and_reported(lab: Lab) -> None:
    case = BY_NAME["dns-unreachable"]
    done = case.run(lab, [*hostgw_cmd(), "doctor", "--json"])
    assert done.returncode == 0, show(done)
    report = json.loads(done.stdout)
    dns = next(a for a in report["attempts"] if a["strategy"] == "dns")
    assert "no answer within 1 s" in dns["detail"]
    assert report["answer"]["strategy"] == "route"


def test_dns_timeout_option_is_the_bound(lab: Lab) -> None:
    case = BY_NAME["dns-unreachable"]
    ns, env = case.build(lab)
    # doctor waits for DNS its whole bound (ip does not, once route has answered).
    done = case.exec(ns, env, [*hostgw_cmd(), "doctor", "--json", "--timeout", "0.2"])
    assert done.returncode == 0, show(done)
    dns = next(a for a in json.loads(done.stdout)["attempts"] if a["strategy"] == "dns")
    assert "no answer within 0.2 s" in dns["detail"]


def test_dual_stack_env_has_both(lab: Lab) -> None:
    case = BY_NAME["dual-stack"]
    ns, env = case.build(lab)
    done = case.exec(ns, env, [*hostgw_cmd(), "env", "--format", "json"])
    assert json.loads(done.stdout) == {
        "HOSTGW_IP": "10.213.17.1",
        "HOSTGW_IP6": "fd5e:17::1",
        "HOSTGW_HOST": "10.213.17.1",
    }
    only4 = case.exec(ns, env, [*hostgw_cmd(), "env", "-4", "--format", "dotenv"])
    assert only4.stdout == "HOSTGW_IP=10.213.17.1\nHOSTGW_HOST=10.213.17.1\n"


@pytest.mark.parametrize("shell", ["dash", "bash"])
def test_env_output_evals_in_a_shell(lab: Lab, shell: str) -> None:
    case = BY_NAME["ipv6-only"]
    ns, env = case.build(lab)
    script = (
        f'eval "$({" ".join(hostgw_cmd())} env)" && printf "%s|%s|%s" '
        '"$HOSTGW_IP" "$HOSTGW_IP6" "$HOSTGW_HOST"'
    )
    done = case.exec(ns, env, [shell, "-c", script])
    assert done.stdout == "fd5e:11::1|fd5e:11::1|[fd5e:11::1]", show(done)


@pytest.mark.parametrize("shell", ["dash", "bash", "busybox"])
def test_env_fails_closed_under_eval(lab: Lab, shell: str) -> None:
    # No host found: `eval "$(hostgw env)"` must stop a set -e script, with env's exit
    # code, and give $? = 3 to one without set -e; the shell itself stays usable.
    case = BY_NAME["internal-network"]
    ns, env = case.build(lab)
    argv = ["busybox", "sh"] if shell == "busybox" else [shell]
    hostgw = " ".join(hostgw_cmd())
    strict = case.exec(ns, env, [*argv, "-c", f'set -e; eval "$({hostgw} env)"; echo went on'])
    assert (strict.returncode, strict.stdout) == (3, ""), show(strict)
    assert "no IPv4 or IPv6 gateway found" in strict.stderr
    lax = case.exec(ns, env, [*argv, "-c", f'eval "$({hostgw} env)"; echo "status $?"'])
    assert (lax.returncode, lax.stdout) == (0, "status 3\n"), show(lax)
    guarded = f'eval "$({hostgw} env)" || {{ echo "stopped $?"; exit 1; }}; echo went on'
    assert case.exec(ns, env, [*argv, "-c", guarded]).stdout == "stopped 3\n"
    dotenv = case.exec(ns, env, [*hostgw_cmd(), "env", "--format", "dotenv"])
    assert (dotenv.returncode, dotenv.stdout) == (3, ""), "an env file cannot fail: nothing"


# --- --port: probe the candidates --------------------------------------------

PORT = 8089


def listen(host: Netns, address: str, port: int) -> None:
    """A TCP listener in ``host`` on ``address:port`` (a real socket, killed by the lab)."""
    code = (
        "import socket, time\n"
        "s = socket.socket()\n"
        "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(({address!r}, {port}))\n"
        "s.listen()\n"
        "time.sleep(3600)\n"
    )
    host.spawn(sys.executable, "-c", code)
    until(
        f"a listener on {address}:{port}",
        lambda: listening(host, "-Hltn", f"{address}:{port}"),
        timeout=15,
        interval=0.05,
    )


def probe_rig(lab: Lab, *, listening: bool) -> tuple[Netns, dict[str, str]]:
    """Three candidates in order of trust: one times out, one refuses, one may accept.

    hosts -> 10.213.20.99 (nobody has it: the connect hangs until the bound),
    k8s -> 10.213.20.7 (the host has it, nothing listens: refused),
    route -> 10.213.20.1 (listening when ``listening``).
    """
    host, box, bridge = container(lab, 20)
    host.ip("addr", "add", "10.213.20.7/24", "dev", bridge)
    box.ip("route", "add", "default", "via", "10.213.20.1")
    box.hosts("10.213.20.99 host.docker.internal\n")
    if listening:
        listen(host, "10.213.20.1", PORT)
    return box, {"HOST_IP": "10.213.20.7"}


def test_port_picks_the_first_candidate_that_accepts(lab: Lab) -> None:
    box, env = probe_rig(lab, listening=True)
    case = Case("probe", "", lambda _: (box, env), "10.213.20.1", "route", timeout=20)
    done = case.exec(box, env, [*hostgw_cmd(), "ip", "--port", str(PORT), "--json"])
    assert done.returncode == 0, show(done)
    found = json.loads(done.stdout)
    assert (found["address"], found["strategy"]) == ("10.213.20.1", "route")
    assert "10.213.20.99 timed out" in found["why"]
    assert "10.213.20.7 refused" in found["why"]


def test_port_nothing_accepts_exit_4_lists_what_was_tried(lab: Lab) -> None:
    box, env = probe_rig(lab, listening=False)
    case = Case("probe", "", lambda _: (box, env), None, None, timeout=20)
    done = case.exec(box, env, [*hostgw_cmd(), "ip", "--port", str(PORT), "--probe-timeout", "0.3"])
    assert done.returncode == 4, show(done)
    assert done.stdout == ""
    for line in (
        "10.213.20.99 (hosts): timed out after 0.3 s",
        "10.213.20.7 (k8s): refused",
        "10.213.20.1 (route): refused",
    ):
        assert line in done.stderr, show(done)
    # The hint names the cases where no address can answer, and their fixes.
    (hint,) = [line for line in done.stderr.splitlines() if line.startswith("hint:")]
    for named in ("--internal", "pasta", "--map-gw", f"docker run -p {PORT}:"):
        assert named in hint, hint
