"""The seed's story on real Docker: nginx proxies to the host's address and a published port.

- A backend (``python3 -m http.server``) publishes its port on the host; nginx
  runs under ``hostgw exec --nginx`` with a template proxying ``/api/`` to
  ``${HOSTGW_HOST}:PORT``. The backend is removed and started again with a
  new address (another container takes the freed one first): the same nginx
  master, with the same workers (no reload), serves the new backend.
- The frontend moves to another network (``docker network connect`` then
  ``disconnect``, so its gateway changes): ``hostgw exec --nginx --watch``
  re-renders and reloads nginx, and requests go on succeeding.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.runtime.docker import DockerScope
from tests.runtime.images import CLIENT
from tests.runtime.scenarios import READY, SERVE

pytestmark = pytest.mark.runtime

TEMPLATE = """\
server {
    listen 80;
    location /api/ {
        proxy_pass http://${HOSTGW_HOST}:%d/;
        proxy_connect_timeout 2s;
    }
}
"""


def backend(docker: DockerScope, port: int, token: str) -> str:
    """A backend on the default bridge publishing PORT; returns its container name."""
    name = docker.run("-p", f"{port}:8000", CLIENT, "sh", "-c", SERVE.format(token=token))
    docker.daemon.cli("exec", name, "sh", "-c", READY + "http://127.0.0.1:8000/whoami")
    return name


def templates(tmp_path: Path, port: int) -> Path:
    """A templates directory for the frontend's /etc/nginx/templates."""
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "default.conf.template").write_text(TEMPLATE % port)
    return directory


def nginx_frontend(docker: DockerScope, network: str, template_dir: Path, *options: str) -> str:
    """nginx under ``hostgw exec --nginx [OPTIONS]`` on NETWORK, with the templates mounted."""
    return docker.run(
        "--network",
        network,
        "-v",
        f"{template_dir}:/etc/nginx/templates:ro",
        CLIENT,
        *("hostgw", "exec", "--nginx", *options, "--", "nginx", "-g", "daemon off;"),
    )


def through_nginx(docker: DockerScope, frontend: str, expected: str, tries: int = 40) -> None:
    """GET /api/whoami from nginx inside the frontend until it gives ``expected``."""
    seen = ""
    for _ in range(tries):
        done = docker.exec(
            frontend, "curl", "-sS", "--max-time", "3", "http://127.0.0.1/api/whoami"
        )
        seen = done.stdout.strip() or done.stderr.strip()
        if seen == expected:
            return
        time.sleep(0.5)
    logs = docker.daemon.cli("logs", "--tail", "30", frontend, check=False)
    raise AssertionError(
        f"nginx in {frontend} answered {seen!r}, not {expected!r}; its log:\n"
        f"{logs.stdout}{logs.stderr}"
    )


def nginx_pids(docker: DockerScope, frontend: str) -> tuple[str, list[str]]:
    """(master pid, sorted worker pids) inside the frontend."""
    master = docker.exec(frontend, "cat", "/run/nginx.pid").stdout.strip()
    assert master, "nginx wrote no pid file"
    workers = docker.exec(frontend, "ps", "-o", "pid=", "--ppid", master).stdout.split()
    assert workers, f"no workers under {master}"
    return master, sorted(workers)


def address(docker: DockerScope, container: str) -> str:
    """The container's address on the default bridge."""
    return docker.inspect(container, "{{.NetworkSettings.IPAddress}}")


def test_backend_redeployed_with_a_new_ip_same_nginx_no_reload(
    docker: DockerScope, tmp_path: Path
) -> None:
    port = 18100
    first = backend(docker, port, "first-backend")
    old_ip = address(docker, first)
    net = docker.network()
    frontend = nginx_frontend(docker, net, templates(tmp_path, port))
    through_nginx(docker, frontend, "first-backend")
    master, workers = nginx_pids(docker, frontend)
    assert master == "1", "hostgw exec became nginx (same pid)"
    host_pid = docker.inspect(frontend, "{{.State.Pid}}")

    docker.daemon.cli("rm", "-f", first)
    # Docker hands a freed address out again: take it, so the backend's changes.
    filler = docker.run(CLIENT)
    assert address(docker, filler) == old_ip, "the filler should take the freed address"
    second = backend(docker, port, "second-backend")
    assert address(docker, second) != old_ip

    through_nginx(docker, frontend, "second-backend")
    assert nginx_pids(docker, frontend) == (master, workers), "no reload, same workers"
    assert docker.inspect(frontend, "{{.State.Pid}}") == host_pid
    conf = docker.exec(frontend, "cat", "/etc/nginx/conf.d/default.conf").stdout
    gateway = docker.inspect(frontend, "{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}")
    assert f"proxy_pass http://{gateway}:{port}/;" in conf


def test_frontend_moved_to_another_network_watch_rerenders_and_reloads(
    docker: DockerScope, tmp_path: Path
) -> None:
    port = 18101
    backend(docker, port, "the-backend")
    first, second = docker.network(), docker.network()
    frontend = nginx_frontend(docker, first, templates(tmp_path, port), "--watch")
    through_nginx(docker, frontend, "the-backend")
    master, workers = nginx_pids(docker, frontend)
    old_gw = docker.inspect(
        frontend, f'{{{{(index .NetworkSettings.Networks "{first}").Gateway}}}}'
    )
    conf_path = "/etc/nginx/conf.d/default.conf"
    assert f"http://{old_gw}:{port}/" in docker.exec(frontend, "cat", conf_path).stdout

    docker.daemon.cli("network", "connect", second, frontend)
    docker.daemon.cli("network", "disconnect", first, frontend)
    new_gw = docker.inspect(
        frontend, f'{{{{(index .NetworkSettings.Networks "{second}").Gateway}}}}'
    )
    assert new_gw != old_gw
    route = docker.exec(frontend, "ip", "route", "show", "default").stdout
    assert f"via {new_gw} " in route, route

    deadline = time.monotonic() + 30
    conf = ""
    while time.monotonic() < deadline:
        conf = docker.exec(frontend, "cat", conf_path).stdout
        if f"http://{new_gw}:{port}/" in conf:
            break
        time.sleep(0.2)
    assert f"http://{new_gw}:{port}/" in conf, conf
    through_nginx(docker, frontend, "the-backend")
    for _ in range(5):
        through_nginx(docker, frontend, "the-backend", tries=1)
    # A reload keeps the master and replaces the workers (old ones finish first).
    for _ in range(50):
        new_master, new_workers = nginx_pids(docker, frontend)
        if set(new_workers).isdisjoint(workers):
            break
        time.sleep(0.2)
    assert new_master == master, "reloaded, not restarted"
    assert set(new_workers).isdisjoint(workers), (workers, new_workers)
