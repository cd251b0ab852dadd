"""Where nothing reaches the host, ``hostgw ip --port`` exits 4 with a hint naming the cases.

Only the two scenarios where nothing inside the client can tell whether the
host is reachable (Docker < 25 ``--internal``, pasta without ``--map-gw``);
each starts its own backend and client (a module of its own, so no other
scenario's containers run beside it: under pasta, a podman0 bridge on the
host would change what Podman writes into /etc/hosts).
"""

from __future__ import annotations

import pytest

from tests.runtime.docker import DockerScope
from tests.runtime.podman import PodmanScope
from tests.runtime.scenarios import SCENARIOS, Scenario

pytestmark = pytest.mark.runtime

UNREACHABLE = [s for s in SCENARIOS if s.unreachable]


@pytest.mark.parametrize("scenario", UNREACHABLE, ids=lambda s: s.id)
def test_port_exit_4_hint_names_the_cases(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, scenario: Scenario
) -> None:
    scope: DockerScope | PodmanScope
    if scenario.runtime == "docker":
        scope = DockerScope(request.getfixturevalue("dockerd"))
    else:
        scope = PodmanScope(request.getfixturevalue("podman"), tmp_path_factory.mktemp("pasta"))
    try:
        client = scenario.setup(scope)
        done = client.run("hostgw", "ip", "--port", str(client.port))
        assert done.returncode == 4, done.stderr
        hint = "\n".join(line for line in done.stderr.splitlines() if line.startswith("hint:"))
        assert "--internal" in hint and "pasta" in hint and "--map-gw" in hint, hint
    finally:
        scope.close()
