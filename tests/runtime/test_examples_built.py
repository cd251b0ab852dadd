"""The examples/ Dockerfiles built with ``docker build`` and run, on real Docker.

No registry can be reached here, so the images the Dockerfiles start from
come in by their ``BASE`` build argument, as stand-ins built locally (and
said so in each test's output):

- ``nginx:1.27-bookworm``: Debian's nginx on the debootstrap base, with the
  nginx image's entrypoint as tests/nginx_image/ models it;
- ``nginx:1.27-alpine``: that stand-in with busybox as ``sh`` and ``awk``;
- ``python:3.12-alpine``: the debootstrap base (it has python3).

hostgw is installed from the checkout (the build context is the repository
root); pip reads wheels of click and setuptools from a folder
served over HTTP inside the Docker host's namespace (``PIP_NO_INDEX=1``,
``PIP_FIND_LINKS``): no package index. The compose example runs with
Debian's docker-compose (v1) against the same daemon.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.netns import unique
from tests.runtime.docker import BRIDGE_IP, Dockerd, DockerScope
from tests.runtime.images import BASE, CLIENT, ROOT
from tests.runtime.lan import stop_pid

pytestmark = pytest.mark.runtime

EXAMPLES = ROOT / "examples"
STANDINS = Path(__file__).resolve().parent / "standins"
NGINX_DEBIAN = "localhost/hostgw-test/nginx-debian-standin"
NGINX_ALPINE = "localhost/hostgw-test/nginx-alpine-standin"
WHEEL_PORT = 18765
BACKEND_PORT = 18110


@pytest.fixture(scope="module")
def standins(dockerd: Dockerd) -> Iterator[dict[str, str]]:
    """The stand-in images, by the image each replaces."""
    build(dockerd, NGINX_DEBIAN, ROOT / "tests/nginx_image", STANDINS / "nginx-debian.Dockerfile")
    build(dockerd, NGINX_ALPINE, STANDINS, STANDINS / "nginx-alpine.Dockerfile", base=NGINX_DEBIAN)
    shell = dockerd.cli(
        "run", "--rm", "--entrypoint", "readlink", NGINX_ALPINE, "-f", "/bin/sh", "/usr/bin/awk"
    )
    assert shell.stdout.split() == ["/usr/bin/busybox"] * 2, "busybox sh and awk, as in Alpine"
    print(f"stand-ins: nginx:1.27-bookworm={NGINX_DEBIAN}, nginx:1.27-alpine={NGINX_ALPINE}")
    print(f"stand-in: python:3.12-alpine={BASE}")
    yield {
        "nginx:1.27-bookworm": NGINX_DEBIAN,
        "nginx:1.27-alpine": NGINX_ALPINE,
        "python:3.12-alpine": BASE,
    }
    dockerd.cli("rmi", "-f", NGINX_ALPINE, NGINX_DEBIAN, check=False)


@pytest.fixture(scope="module")
def wheel_server(dockerd: Dockerd, wheels: Path) -> Iterator[dict[str, str]]:
    """The wheels folder over HTTP on docker0's address; pip's build arguments for it."""
    log = wheels.parent / "wheel-server.log"
    server = dockerd.host.spawn(
        sys.executable,
        "-m",
        "http.server",
        "--bind",
        BRIDGE_IP,
        "--directory",
        str(wheels),
        str(WHEEL_PORT),
        log=log,
    )
    try:
        url = f"http://{BRIDGE_IP}:{WHEEL_PORT}/"
        dockerd.host.run(
            "curl", "-fsS", "--retry", "30", "--retry-connrefused", "-o", "/dev/null", url
        )
        yield {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": url, "PIP_TRUSTED_HOST": BRIDGE_IP}
    finally:
        stop_pid(server, timeout=5)


def build(
    daemon: Dockerd,
    tag: str,
    context: Path,
    dockerfile: Path,
    *,
    base: str = BASE,
    args: dict[str, str] | None = None,
) -> str:
    """``docker build`` (BuildKit) with BASE and ``args`` as build arguments.

    Docker 20.10's BuildKit writes public resolvers into its RUN containers'
    resolv.conf, ignoring the daemon's ``dns``: builds that need no network
    get none, and the one that does (pip, from the wheel server) names it by
    address, so no RUN step asks a resolver; a packet beyond the LAN would end
    at its router, which forwards nothing.
    """
    argv = ["build", "-q", "-t", tag, "-f", str(dockerfile), "--build-arg", f"BASE={base}"]
    if not args:
        argv += ["--network", "none"]
    for key, value in (args or {}).items():
        argv += ["--build-arg", f"{key}={value}"]
    daemon.cli(*argv, str(context), timeout=600)
    return tag


def pip_args(dockerfile: Path, wheel_server: dict[str, str]) -> dict[str, str] | None:
    """The wheel server's build arguments, for a Dockerfile whose pip takes them."""
    return wheel_server if "ARG PIP_FIND_LINKS" in dockerfile.read_text() else None


def dockerfiles() -> list[Path]:
    return sorted(EXAMPLES.rglob("Dockerfile"))


def context_of(dockerfile: Path) -> Path:
    """The backend builds from its own directory; the rest from the repository root."""
    return dockerfile.parent if dockerfile.parent.name == "backend" else ROOT


def base_of(dockerfile: Path) -> str:
    """The image the Dockerfile starts from: its ``ARG BASE`` default."""
    for line in dockerfile.read_text().splitlines():
        if line.startswith("ARG BASE="):
            return line.split("=", 1)[1]
    raise AssertionError(f"{dockerfile}: no ARG BASE=IMAGE")


def backend(docker: DockerScope) -> str:
    """The examples' own backend image, built and run, publishing BACKEND_PORT."""
    image = build(
        docker.daemon,
        "localhost/hostgw-test/example-backend",
        EXAMPLES / "compose-redeploy/backend",
        EXAMPLES / "compose-redeploy/backend/Dockerfile",
    )
    return docker.run("-p", f"{BACKEND_PORT}:8000", image)


def api_hello(docker: DockerScope, container: str, port: int = 80) -> dict[str, str]:
    """GET /api/hello through the nginx of ``container``, retried while it starts."""
    url = f"http://127.0.0.1:{port}/api/hello"
    done = docker.exec(
        container,
        "curl",
        "-fsS",
        "--retry",
        "40",
        "--retry-connrefused",
        "--retry-all-errors",
        "--retry-delay",
        "1",
        "--max-time",
        "60",
        url,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr + docker.daemon.cli("logs", container).stderr
    body: dict[str, str] = json.loads(done.stdout)
    return body


@pytest.mark.parametrize("dockerfile", dockerfiles(), ids=lambda p: p.parent.name)
def test_dockerfile_builds_from_the_checkout(
    dockerd: Dockerd,
    standins: dict[str, str],
    wheel_server: dict[str, str],
    dockerfile: Path,
) -> None:
    base = standins[base_of(dockerfile)]
    print(f"{dockerfile.relative_to(ROOT)}: BASE={base} stands in for {base_of(dockerfile)}")
    tag = f"localhost/hostgw-test/{dockerfile.parent.name}"
    build(
        dockerd,
        tag,
        context_of(dockerfile),
        dockerfile,
        base=base,
        args=pip_args(dockerfile, wheel_server),
    )
    try:
        if "nginx-debian-pip" in str(dockerfile):
            check = dockerd.cli(
                "run", "--rm", "--entrypoint", "/opt/hostgw/bin/hostgw", tag, "--version"
            )
            assert check.stdout.startswith("hostgw "), check.stdout
            shown = dockerd.cli(
                "run", "--rm", "--entrypoint", "/opt/hostgw/bin/pip", tag, "show", "-f", "hostgw"
            )
            assert "Location: /opt/hostgw/lib/" in shown.stdout
    finally:
        dockerd.cli("rmi", "-f", tag, check=False)


@pytest.mark.parametrize(
    ("example", "base"),
    [
        ("nginx-debian-pip", "nginx:1.27-bookworm"),
        ("nginx-stock", "nginx:1.27-bookworm"),
        ("nginx-alpine", "nginx:1.27-alpine"),
    ],
)
def test_example_image_proxies_api_to_the_published_backend(
    docker: DockerScope,
    standins: dict[str, str],
    wheel_server: dict[str, str],
    example: str,
    base: str,
) -> None:
    image = build(
        docker.daemon,
        f"localhost/hostgw-test/{example}",
        ROOT,
        EXAMPLES / example / "Dockerfile",
        base=standins[base],
        args=pip_args(EXAMPLES / example / "Dockerfile", wheel_server),
    )
    docker.images.append(image)
    serving = backend(docker)
    frontend = docker.run("-e", f"BACKEND_PORT={BACKEND_PORT}", image)
    body = api_hello(docker, frontend)
    assert body["path"] == "/api/hello"
    assert body["served_by"] == docker.inspect(serving, "{{.Config.Hostname}}")
    conf = docker.exec(frontend, "cat", "/etc/nginx/conf.d/default.conf").stdout
    assert f"proxy_pass http://{BRIDGE_IP}:{BACKEND_PORT};" in conf, conf


@pytest.mark.parametrize("example", ["nginx-stock", "nginx-alpine"])
def test_stock_image_stops_when_there_is_no_host(
    docker: DockerScope, standins: dict[str, str], example: str
) -> None:
    base = standins["nginx:1.27-alpine" if example == "nginx-alpine" else "nginx:1.27-bookworm"]
    image = build(
        docker.daemon,
        f"localhost/hostgw-test/{example}",
        ROOT,
        EXAMPLES / example / "Dockerfile",
        base=base,
    )
    docker.images.append(image)
    name = unique("hgwc")
    docker.containers.append(name)
    done = docker.daemon.cli(
        "run", "--name", name, "--network", "none", image, check=False, timeout=60
    )
    assert done.returncode != 0, done.stdout + done.stderr
    assert "hostgw-sh: HOSTGW_REQUIRED=1: stopping" in done.stderr, done.stderr
    assert "--add-host=host.docker.internal:host-gateway" in done.stderr


def test_compose_redeploy_with_docker_compose(
    docker: DockerScope, standins: dict[str, str], wheel_server: dict[str, str]
) -> None:
    daemon = docker.daemon
    project = unique("hgwcp")
    compose_file = str(EXAMPLES / "compose-redeploy/compose.yaml")
    env = daemon.env()

    def compose(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["docker-compose", "-p", project, "-f", compose_file, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    try:
        compose("build", "--build-arg", f"BASE={standins['python:3.12-alpine']}", "backend")
        pip_args = [a for k, v in wheel_server.items() for a in ("--build-arg", f"{k}={v}")]
        compose(
            "build", "--build-arg", f"BASE={standins['nginx:1.27-bookworm']}", *pip_args, "frontend"
        )
        compose("up", "-d")
        frontend, backend_1 = f"{project}_frontend_1", f"{project}_backend_1"
        first = curl_host(daemon, "http://127.0.0.1:1600/api/hello")
        assert first["served_by"] == docker.inspect(backend_1, "{{.Config.Hostname}}")
        master = docker.inspect(frontend, "{{.State.Pid}}")
        workers = daemon.cli("exec", frontend, "ps", "-o", "pid=", "--ppid", "1").stdout.split()
        old_ip = docker.inspect(
            backend_1, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
        )

        # Docker hands a freed address out again: stop the backend and take its
        # address with another container, so the recreated one gets a new one.
        daemon.cli("stop", "-t", "1", backend_1)
        filler = docker.run("--network", f"{project}_default", CLIENT)
        assert (
            docker.inspect(filler, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}")
            == old_ip
        )
        compose("up", "-d", "--no-deps", "--force-recreate", "backend")
        new_ip = docker.inspect(
            backend_1, "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}"
        )
        assert new_ip != old_ip, "the redeployed backend has a new address"
        second = curl_host(daemon, "http://127.0.0.1:1600/api/hello", unlike=first["served_by"])
        assert second["served_by"] == docker.inspect(backend_1, "{{.Config.Hostname}}")
        assert docker.inspect(frontend, "{{.State.Pid}}") == master, "the same nginx master"
        after = daemon.cli("exec", frontend, "ps", "-o", "pid=", "--ppid", "1").stdout.split()
        assert after == workers, "no reload: the same workers"
    finally:
        subprocess.run(
            [
                "docker-compose",
                "-p",
                project,
                "-f",
                compose_file,
                "down",
                "--rmi",
                "local",
                "-t",
                "1",
            ],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        left = daemon.cli("ps", "-aq", "--filter", f"label=com.docker.compose.project={project}")
        assert not left.stdout.split(), f"compose left {left.stdout}"


def curl_host(daemon: Dockerd, url: str, unlike: str | None = None) -> dict[str, str]:
    """GET ``url`` from the Docker host's namespace until it answers (and not ``unlike``)."""
    last = ""
    for _ in range(60):
        done = daemon.host.run("curl", "-sS", "--max-time", "3", url, check=False)
        last = done.stdout + done.stderr
        if done.returncode == 0 and done.stdout.startswith("{"):
            body: dict[str, str] = json.loads(done.stdout)
            if body.get("served_by") != unlike:
                return body
        time.sleep(1)
    raise AssertionError(f"{url} from the Docker host: {last}")
