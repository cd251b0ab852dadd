"""A config handed to a real Docker container as a single-file bind mount.

``docker run -v ./default.conf:/etc/nginx/conf.d/default.conf`` is how many
people give nginx its config. The file inside is a mount point, which no
rename can replace: hostgw writes it in place (after its checks) and says
so, the file on the host gets the new bytes, and nginx accepts them. With
``:ro`` it refuses with the fix, and the host's file is byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.docker import DockerScope
from tests.runtime.images import CLIENT

pytestmark = pytest.mark.runtime

TARGET = "/etc/nginx/conf.d/default.conf"
TEMPLATE = (
    "server {\n    listen 8080;\n    location / { proxy_pass http://${HOSTGW_IP}:8000; }\n}\n"
)
CONF = "server {\n    listen 8080;\n    location / { proxy_pass http://backend:8000; }\n}\n"
NOTE = f"{TARGET}: written in place, not atomically: it is a mount point"


def _container(docker: DockerScope, tmp_path: Path, mode: str) -> tuple[str, Path]:
    """A client container with the host's default.conf mounted on TARGET (``rw``/``ro``)."""
    host = tmp_path / "host"
    host.mkdir()
    conf, template = host / "default.conf", host / "default.conf.template"
    conf.write_text(CONF)
    template.write_text(TEMPLATE)
    box = docker.run(
        "-e", "HOSTGW_IP=10.214.16.1",
        "-v", f"{conf}:{TARGET}:{mode}",
        "-v", f"{template}:/templates/default.conf.template:ro",
        CLIENT,
    )  # fmt: skip
    return box, conf


def test_render_and_rewrite_into_a_bind_mounted_file(docker: DockerScope, tmp_path: Path) -> None:
    box, conf = _container(docker, tmp_path, "rw")
    done = docker.exec(box, "hostgw", "render", f"/templates/default.conf.template:{TARGET}")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(NOTE) == 1, done.stderr
    assert conf.read_text() == TEMPLATE.replace("${HOSTGW_IP}", "10.214.16.1")
    checked = docker.exec(box, "nginx", "-t")
    assert checked.returncode == 0, checked.stderr
    # rewrite in place: the original is kept in the container's state directory.
    conf.write_text(CONF)
    done = docker.exec(box, "hostgw", "rewrite", "-m", "backend:8000=18000", TARGET)
    assert done.returncode == 0, done.stderr
    assert NOTE in done.stderr
    assert "proxy_pass http://10.214.16.1:18000;" in conf.read_text()
    kept = docker.exec(box, "cat", f"/var/lib/hostgw/pristine{TARGET}")
    assert kept.stdout == CONF
    again = docker.exec(box, "hostgw", "rewrite", "-m", "backend:8000=18000", TARGET)
    assert again.returncode == 0 and "changed since" not in again.stderr


def test_a_read_only_bind_mounted_file_is_refused(docker: DockerScope, tmp_path: Path) -> None:
    box, conf = _container(docker, tmp_path, "ro")
    for argv in (
        ("render", f"/templates/default.conf.template:{TARGET}"),
        ("rewrite", "-m", "backend:8000=18000", TARGET),
    ):
        done = docker.exec(box, "hostgw", *argv)
        assert done.returncode == 1, done.stderr
        assert f"cannot write {TARGET}: read-only file system" in done.stderr
        assert "hint: mount its directory rather than the file" in done.stderr
        assert "render to a writable path and point the proxy at it" in done.stderr
        assert conf.read_text() == CONF
