"""``hostgw snippet nginx-step``: hostgw as a step of the nginx image's own entrypoint.

The step replaces the image's ``20-envsubst-on-templates.sh``; the stand-in
of the image's ``/docker-entrypoint.sh`` (tests/nginx_image/, under dash as
in the Debian image) runs it between steps of its own, so the test sees that
the image's other steps still run, in order, that what an earlier ``.envsh``
exports reaches the templates, that the real ``nginx -t`` accepts what was
rendered, and that an error stops the entrypoint before nginx.
"""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from hostgw.runtime.snippet import snippet
from tests.helpers import hostgw_cmd, require_tool
from tests.nginx import main_conf

STAND_IN = Path(__file__).resolve().parent / "nginx_image"
TEMPLATE = """\
server {
    listen 8080;
    location / {
        proxy_pass http://${HOSTGW_HOST}:${API_PORT:-8000};
        proxy_set_header Host $host;
    }
}
"""


def image(tmp: Path, template: str = TEMPLATE) -> tuple[Path, dict[str, str]]:
    """/docker-entrypoint.d with steps 10, 15 (.envsh), hostgw's 20 and 30, and the env."""
    steps = tmp / "docker-entrypoint.d"
    steps.mkdir()
    order = tmp / "order"
    for name, body in {
        "10-listen.sh": f"#!/bin/sh\necho 10 >> {order}\n",
        "15-resolvers.envsh": f"echo 15 >> {order}\nexport API_PORT=9000\n",
        "30-tune.sh": f"#!/bin/sh\necho 30 >> {order}\n",
    }.items():
        (steps / name).write_text(body)
        (steps / name).chmod(0o755)
    step = steps / "20-envsubst-on-templates.sh"
    done = subprocess.run(
        [*hostgw_cmd(), "snippet", "nginx-step", "-o", str(step)], check=True, capture_output=True
    )
    assert os.access(step, os.X_OK), done.stderr
    templates = tmp / "templates"
    templates.mkdir()
    (templates / "default.conf.template").write_text(template)
    prefix = tmp / "nginx"
    (prefix / "conf.d").mkdir(parents=True)
    (prefix / "nginx.conf").write_text(main_conf(prefix))
    bindir = tmp / "bin"
    bindir.mkdir()
    (bindir / "hostgw").symlink_to(hostgw_cmd()[0])
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}:/usr/sbin:/sbin",
        "ENTRYPOINT_D": str(steps),
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(templates),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(prefix / "conf.d"),
        "HOSTGW_IP": "10.213.0.1",
    }
    return prefix, env


def entrypoint(tmp: Path, env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("dash"), str(STAND_IN / "docker-entrypoint.sh"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def nginx_t(prefix: Path) -> list[str]:
    require_tool("nginx")  # found on PATH: the entrypoint runs its steps only for "nginx"
    return ["nginx", "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]


@pytest.mark.proxies
def test_the_step_renders_and_the_image_steps_still_run(tmp_path: Path) -> None:
    prefix, env = image(tmp_path)
    done = entrypoint(tmp_path, env, *nginx_t(prefix), "-e", str(prefix / "error.log"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "order").read_text().split() == ["10", "15", "30"]
    assert "Launching" in done.stdout and "20-envsubst-on-templates.sh" in done.stdout
    conf = (prefix / "conf.d/default.conf").read_text()
    assert "proxy_pass http://10.213.0.1:9000;" in conf, "15's export reached the template"
    assert "proxy_set_header Host $host;" in conf
    assert f"hostgw: wrote {prefix}/conf.d/default.conf" in done.stderr
    assert "test is successful" in done.stderr
    quiet = entrypoint(tmp_path, {**env, "NGINX_ENTRYPOINT_QUIET_LOGS": "1"}, "true")
    assert quiet.returncode == 0 and "hostgw" not in quiet.stderr


def test_an_error_stops_the_entrypoint_before_nginx(tmp_path: Path) -> None:
    prefix, env = image(tmp_path, "listen ${PORT:?set PORT to the port to listen on};\n")
    marker = tmp_path / "nginx-ran"
    done = entrypoint(tmp_path, {**env, "ENTRYPOINT_ANY_COMMAND": "1"}, "touch", str(marker))
    assert done.returncode == 5, done.stdout + done.stderr
    assert "set PORT to the port to listen on" in done.stderr
    assert not marker.exists()
    assert "30" not in (tmp_path / "order").read_text().split()
    assert not list((prefix / "conf.d").iterdir())


def test_hostgw_wait_in_the_step(tmp_path: Path) -> None:
    _, env = image(tmp_path)
    env["ENTRYPOINT_ANY_COMMAND"] = "1"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        up = server.getsockname()[1]
        done = entrypoint(
            tmp_path, {**env, "HOSTGW_WAIT": f"127.0.0.1:{up},127.0.0.1:{up}"}, "true"
        )
        assert done.returncode == 0, done.stderr
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = entrypoint(
        tmp_path,
        {**env, "HOSTGW_WAIT": f"127.0.0.1:{port}", "HOSTGW_WAIT_TIMEOUT": "300ms"},
        "true",
    )
    assert done.returncode == 8, done.stderr
    assert "gave up after 0.3s" in done.stderr and "raise --timeout" in done.stderr
    assert "(or HOSTGW_WAIT_TIMEOUT)" in done.stderr, "the variable is what an image step sets"


def test_the_step_is_plain_posix_sh(tmp_path: Path) -> None:
    text = snippet("nginx-step")
    assert text.startswith("#!/bin/sh\n")
    path = tmp_path / "20-envsubst-on-templates.sh"
    path.write_text(text)
    subprocess.run([require_tool("dash"), "-n", str(path)], check=True)
    done = subprocess.run(
        [require_tool("shellcheck"), "-s", "sh", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
