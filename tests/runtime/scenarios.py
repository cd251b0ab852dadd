"""The runtime scenarios of issue 11: a backend publishes a port, a client asks hostgw.

Each scenario starts a backend that publishes PORT on the runtime's host
(``python3 -m http.server`` serving a token) and a client container in the
network mode under test. Right means the backend answers at hostgw's address
from inside the client. Where nothing inside the client reaches the host
(``unreachable``), and nothing inside can tell (Docker < 25 ``--internal``
networks, pasta without ``--map-gw``), right is: ``ip`` gives the route's
gateway, ``doctor`` says it cannot be known from inside and points to
``--port``, and ``--port`` exits 4 with a hint naming these cases.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from tests.runtime.docker import DockerScope
from tests.runtime.images import CLIENT
from tests.runtime.podman import PodmanScope

PORT = 18080
SERVE = "mkdir -p /srv && echo {token} > /srv/whoami && exec python3 -m http.server -d /srv 8000"
READY = "curl -fsS --retry 50 --retry-connrefused --retry-delay 1 --max-time 60 -o /dev/null "


@dataclass
class Client:
    """A client container, and how to run commands in it."""

    name: str
    run: Callable[..., subprocess.CompletedProcess[str]]
    token: str
    port: int = PORT

    def sh(self, script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``sh -c SCRIPT`` inside the client."""
        return self.run("sh", "-c", script, timeout=timeout)

    def reaches(self, address: str) -> bool:
        """Whether the backend's token comes back from ADDRESS:PORT, seen from the client."""
        host = f"[{address}]" if ":" in address else address
        done = self.sh(f"curl -sS -g --max-time 3 http://{host}:{self.port}/whoami")
        return done.returncode == 0 and done.stdout.strip() == self.token


@dataclass(frozen=True)
class Scenario:
    """One runtime and network mode, with what right looks like there."""

    id: str
    runtime: str
    setup: Callable[..., Client]
    strategy: str
    family: tuple[str, ...] = ()
    unreachable: str | None = None
    own_address_in_hosts: bool = False
    xfail: Mapping[str, str] = field(default_factory=dict)


def _token() -> str:
    return f"backend-{uuid.uuid4().hex[:12]}"


class Scope(Protocol):
    """What a scenario needs of a runtime: DockerScope and PodmanScope both have it."""

    def run(self, *args: str) -> str: ...

    def exec(
        self, container: str, *cmd: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]: ...


def _backend(scope: Scope, *network: str, publish: bool = True) -> str:
    """A backend serving a new token, published on the host as PORT; returns the token."""
    token = _token()
    ports = ["-p", f"{PORT}:8000"] if publish else []
    name = scope.run(*network, *ports, CLIENT, "sh", "-c", SERVE.format(token=token))
    ready = scope.exec(name, "sh", "-c", READY + "http://127.0.0.1:8000/whoami", timeout=90)
    assert ready.returncode == 0, ready.stderr
    return token


def _client(scope: Scope, token: str, *args: str) -> Client:
    """A client container started with ``args``, judged against ``token``."""
    name = scope.run(*args, CLIENT)

    def run(*cmd: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return scope.exec(name, *cmd, timeout=timeout)

    return Client(name, run, token)


# --- Docker ---


def docker_bridge(scope: DockerScope) -> Client:
    return _client(scope, _backend(scope))


def docker_user(scope: DockerScope) -> Client:
    return _client(scope, _backend(scope), "--network", scope.network())


def docker_add_host(scope: DockerScope) -> Client:
    net = scope.network()
    token = _backend(scope)
    return _client(
        scope, token, "--network", net, "--add-host", "host.docker.internal:host-gateway"
    )


def docker_host(scope: DockerScope) -> Client:
    return _client(scope, _backend(scope), "--network", "host")


def docker_internal(scope: DockerScope) -> Client:
    return _client(scope, _backend(scope), "--network", scope.network("--internal"))


def docker_two_networks(scope: DockerScope) -> Client:
    first, second = scope.network(), scope.network()
    client = _client(scope, _backend(scope), "--network", first)
    scope.daemon.cli("network", "connect", second, client.name)
    return client


DUAL = ("--ipv6", "--subnet", "10.214.70.0/24", "--subnet", "fd5f:70::/64")


def docker_dual_stack(scope: DockerScope) -> Client:
    return _client(scope, _backend(scope), "--network", scope.network(*DUAL))


def docker_dns_unanswered(scope: DockerScope) -> Client:
    # 10.214.0.99 is on the LAN but nobody has it: queries go unanswered.
    net = scope.network()
    return _client(scope, _backend(scope), "--network", net, "--dns", "10.214.0.99")


# --- Podman ---


def podman_default(scope: PodmanScope) -> Client:
    return _client(scope, _backend(scope))


def podman_slirp4netns(scope: PodmanScope) -> Client:
    return _client(scope, _backend(scope), "--network", "slirp4netns")


def podman_host(scope: PodmanScope) -> Client:
    return _client(scope, _backend(scope), "--network", "host")


def _pasta(scope: PodmanScope, *, map_gw: bool) -> Client:
    # The backend publishes its port the way Podman >= 4.4 does under pasta (-t),
    # so no podman0 bridge exists on the host, as with rootless Podman.
    bridges = scope.podman.host.run("ip", "-o", "link", "show", "type", "bridge").stdout
    assert "podman0" not in bridges, "with podman0 on the host, Podman names its address instead"
    backend_ns = scope.pasta(tcp=f"{PORT}:8000")
    token = _backend(scope, "--network", f"ns:/run/netns/{backend_ns.name}", publish=False)
    client_ns = scope.pasta(map_gw=map_gw)
    return _client(scope, token, "--network", f"ns:/run/netns/{client_ns.name}")


def podman_pasta(scope: PodmanScope) -> Client:
    return _pasta(scope, map_gw=False)


def podman_pasta_map_gw(scope: PodmanScope) -> Client:
    return _pasta(scope, map_gw=True)


SCENARIOS = [
    Scenario("docker-bridge", "docker", docker_bridge, "route"),
    Scenario("docker-user", "docker", docker_user, "route"),
    Scenario("docker-add-host", "docker", docker_add_host, "hosts"),
    Scenario("docker-host", "docker", docker_host, "host-network"),
    Scenario(
        "docker-internal",
        "docker",
        docker_internal,
        "route",
        unreachable="internal",
    ),
    Scenario("docker-two-networks", "docker", docker_two_networks, "route"),
    Scenario("docker-dual-stack", "docker", docker_dual_stack, "route"),
    Scenario("docker-dual-stack-6", "docker", docker_dual_stack, "route", family=("-6",)),
    Scenario("docker-dns-unanswered", "docker", docker_dns_unanswered, "route"),
    Scenario("podman-default", "podman", podman_default, "hosts"),
    Scenario("podman-slirp4netns", "podman", podman_slirp4netns, "hosts"),
    Scenario(
        "podman-pasta",
        "podman",
        podman_pasta,
        "route",
        unreachable="pasta",
        own_address_in_hosts=True,
    ),
    Scenario(
        "podman-pasta-map-gw",
        "podman",
        podman_pasta_map_gw,
        "route",
        own_address_in_hosts=True,
    ),
    Scenario("podman-host", "podman", podman_host, "hosts"),
]
