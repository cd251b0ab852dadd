"""hostgw inside real Docker and Podman containers: ip, ip --port, doctor --json, the sh snippet.

One backend and one client per scenario (tests/runtime/scenarios.py), shared
by the four checks; each check is judged from inside the client: the backend
must answer at hostgw's address, or hostgw must say that nothing reaches the
host. Checks that current hostgw gets wrong are strict xfails naming the
rule of issue 11 part 3 they wait for.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from tests.runtime.docker import DockerScope
from tests.runtime.podman import PodmanScope
from tests.runtime.scenarios import SCENARIOS, Client, Scenario

pytestmark = pytest.mark.runtime

Case = tuple[Scenario, Client]


def start(request: pytest.FixtureRequest, scenario: Scenario) -> Iterator[Client]:
    """Start the scenario's backend and client; remove them by name afterwards."""
    scope: DockerScope | PodmanScope
    if scenario.runtime == "docker":
        scope = DockerScope(request.getfixturevalue("dockerd"))
    else:
        workdir = request.getfixturevalue("tmp_path_factory").mktemp("pasta")
        scope = PodmanScope(request.getfixturevalue("podman"), workdir)
    try:
        yield scenario.setup(scope)
    finally:
        scope.close()


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda s: s.id)
def case(request: pytest.FixtureRequest) -> Iterator[Case]:
    """A running scenario, shared by its four checks."""
    scenario: Scenario = request.param
    for client in start(request, scenario):
        yield scenario, client


def expect(request: pytest.FixtureRequest, scenario: Scenario, check: str) -> None:
    """From here on, this check is a strict xfail where the scenario says hostgw is still wrong.

    Called after the check's own set-up assertions, so a broken scenario
    still fails instead of passing as the expected failure.
    """
    reason = scenario.xfail.get(check)
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))


def hostgw(client: Client, scenario: Scenario, *args: str) -> subprocess.CompletedProcess[str]:
    """``hostgw ARGS`` in the client, with the scenario's family flag."""
    return client.run("hostgw", *args, *scenario.family)


def route_gateway(client: Client, scenario: Scenario) -> str:
    """The default route's gateway, as ``ip route`` in the client shows it."""
    family = "-6" if "-6" in scenario.family else "-4"
    words = client.run("ip", family, "route", "show", "default").stdout.split()
    assert "via" in words, words
    return words[words.index("via") + 1]


def judge(client: Client, scenario: Scenario, address: str) -> None:
    """Right: the backend answers at ADDRESS; where nothing reaches the host, the gateway."""
    if scenario.unreachable:
        assert address == route_gateway(client, scenario)
        assert not client.reaches(address), "nothing inside should reach the host here"
    else:
        assert client.reaches(address), f"backend does not answer at {address}:{client.port}"


def test_ip(case: Case, request: pytest.FixtureRequest) -> None:
    scenario, client = case
    done = hostgw(client, scenario, "ip")
    assert done.returncode == 0, done.stderr
    address = done.stdout.strip()
    info = json.loads(hostgw(client, scenario, "ip", "--json").stdout)
    assert info["address"] == address
    expect(request, scenario, "ip")
    assert info["strategy"] == scenario.strategy, info
    judge(client, scenario, address)


def test_ip_port(case: Case) -> None:
    scenario, client = case
    done = hostgw(client, scenario, "ip", "--port", str(client.port))
    if scenario.unreachable:
        assert done.returncode == 4, done.stdout + done.stderr
        assert f"nothing accepted a connection on TCP port {client.port}" in done.stderr
        assert done.stdout == ""
    else:
        assert done.returncode == 0, done.stderr
        assert client.reaches(done.stdout.strip())


def test_doctor_json(case: Case, request: pytest.FixtureRequest) -> None:
    scenario, client = case
    done = hostgw(client, scenario, "doctor", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    strategies = [a["strategy"] for a in report["attempts"]]
    assert strategies[:6] == ["env", "hosts", "k8s", "host-network", "dns", "route"]
    answer = report["answer"]
    reached = "reaches" if client.reaches(answer["address"]) else "does not reach"
    print(f"{scenario.id} | {answer['address']} | {answer['strategy']} | {reached} the backend")
    expect(request, scenario, "doctor")
    assert answer["strategy"] == scenario.strategy, answer
    judge(client, scenario, answer["address"])
    if scenario.own_address_in_hosts:
        hosts = next(a for a in report["attempts"] if a["strategy"] == "hosts")
        assert hosts["address"] is None and hosts["rejected"], hosts
    if scenario.unreachable:
        # doctor says that nothing inside can tell, names this case and points to --port
        notes = [n for n in report["notes"] if "nothing inside the container can tell" in n]
        assert len(notes) == 1 and "--port" in notes[0], report["notes"]
        assert scenario.unreachable in notes[0], notes


def test_snippet_under_dash(case: Case, request: pytest.FixtureRequest) -> None:
    scenario, client = case
    script = 'hostgw snippet sh > /tmp/hostgw.sh && exec dash /tmp/hostgw.sh "$@"'
    done = client.run("sh", "-c", script, "sh", *scenario.family, "ip")
    assert done.returncode == 0, done.stderr
    expect(request, scenario, "snippet")
    judge(client, scenario, done.stdout.strip())
