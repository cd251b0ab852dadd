"""Every piece the examples/ use, run on its own in network namespaces.

- (a) nginx-debian-pip: its template through ``hostgw render`` passes the real
  ``nginx -t``; its ENTRYPOINT + CMD (from the Dockerfile) run inside a
  network namespace built like a Docker bridge network.
- (b) nginx-stock and (c) nginx-alpine: examples/hostgw.envsh is the current
  ``hostgw snippet sh``; a stand-in of the nginx image's entrypoint
  (tests/nginx_image/) sources it under dash (Debian image) and busybox sh
  (Alpine image), the envsubst step renders the template, ``nginx -t`` passes.
- (d) compose-redeploy: the compose file parses (PyYAML, from Debian's
  python3-yaml) and says what the README says; the frontend's entrypoint
  waits for the backend app (examples' own app.py, run here) and real nginx
  then proxies /api/ to it through the host address.

The images themselves are built with ``docker build`` and run, and the
compose file with ``docker-compose``, on real Docker by
tests/runtime/test_examples_built.py.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from hostgw.runtime.snippet import snippet
from tests.envcases import container
from tests.helpers import hostgw_cmd, require_tool
from tests.netns import Lab, Netns
from tests.nginx import main_conf, nginx_args, nginx_t
from tests.shsnippet import Shell, busybox_dir, shells

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
STAND_IN = Path(__file__).resolve().parent / "nginx_image"
IP = shutil.which("ip") or "/usr/sbin/ip"


# --- reading the Dockerfiles and the compose file ---


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        word, _, rest = whole.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def exec_form(dockerfile: Path, word: str) -> list[str]:
    """The JSON (exec) form of ENTRYPOINT or CMD."""
    values = [json.loads(rest) for w, rest in instructions(dockerfile) if w == word]
    assert len(values) == 1, f"{dockerfile}: one {word} expected"
    return list(values[0])


def env_of(dockerfile: Path) -> dict[str, str]:
    """The ENV NAME=value settings."""
    out: dict[str, str] = {}
    for word, rest in instructions(dockerfile):
        if word == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                out[name] = value
    return out


def compose() -> dict[str, object]:
    """examples/compose-redeploy/compose.yaml as parsed by PyYAML (Debian's python3-yaml)."""
    python = "/usr/bin/python3"
    code = "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))"
    path = EXAMPLES / "compose-redeploy/compose.yaml"
    done = subprocess.run(
        [python, "-c", code, str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"needs PyYAML for {python} (apt python3-yaml): {done.stderr.strip()}")
    parsed: dict[str, object] = json.loads(done.stdout)
    return parsed


DOCKERFILES = sorted(EXAMPLES.rglob("Dockerfile"))
BASES = {
    "nginx-debian-pip": "nginx:1.27-bookworm",
    "nginx-stock": "nginx:1.27-bookworm",
    "nginx-alpine": "nginx:1.27-alpine",
    "backend": "python:3.12-alpine",
}


def from_default(dockerfile: Path) -> str:
    """The image each example starts from unless BASE says otherwise."""
    return BASES[dockerfile.parent.name]


def test_every_example_is_here() -> None:
    names = {p.parent.name for p in DOCKERFILES}
    assert {"nginx-debian-pip", "nginx-stock", "nginx-alpine", "backend"} <= names
    assert (EXAMPLES / "compose-redeploy/compose.yaml").is_file()


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfiles_copy_only_what_exists(dockerfile: Path) -> None:
    # Build contexts: the repository root for the images, the backend's own directory for it.
    context = dockerfile.parent if dockerfile.parent.name == "backend" else ROOT
    copies = [rest for word, rest in instructions(dockerfile) if word == "COPY"]
    assert copies
    for rest in copies:
        parts = [p for p in shlex.split(rest) if not p.startswith("--")]
        for source in parts[:-1]:
            assert (context / source).exists(), f"{dockerfile}: COPY {source} is missing"
    assert instructions(dockerfile)[0] == ("ARG", f"BASE={from_default(dockerfile)}")
    assert instructions(dockerfile)[1] == ("FROM", "${BASE}"), "the base comes in by BASE"


def test_dropin_copy_is_the_current_snippet() -> None:
    copy = EXAMPLES / "hostgw.envsh"
    regenerate = "hostgw snippet sh -o examples/hostgw.envsh"
    assert copy.read_text() == snippet("sh"), regenerate
    assert os.access(copy, os.X_OK), "the nginx entrypoint sources only executable .envsh"
    for name in ("nginx-stock", "nginx-alpine"):
        copies = [r for w, r in instructions(EXAMPLES / name / "Dockerfile") if w == "COPY"]
        assert "--chmod=755 examples/hostgw.envsh /docker-entrypoint.d/15-hostgw.envsh" in copies


# --- nginx -t on what the examples produce ---


def nginx_prefix(tmp: Path) -> Path:
    """A directory standing in for /etc/nginx: nginx.conf includes conf.d/*.conf."""
    prefix = tmp / "nginx"
    (prefix / "conf.d").mkdir(parents=True)
    (prefix / "nginx.conf").write_text(main_conf(prefix))
    return prefix


def copy_templates(name: str, tmp: Path) -> Path:
    """A copy of an example's templates directory."""
    target = tmp / f"templates-{name}"
    shutil.copytree(EXAMPLES / name / "templates", target)
    return target


@pytest.mark.proxies
@pytest.mark.parametrize(
    ("address", "host"), [("10.213.70.1", "10.213.70.1"), ("fd5e:70::1", "[fd5e:70::1]")]
)
@pytest.mark.parametrize("listen", [None, "1600"])
def test_debian_pip_template_renders_and_passes_nginx_t(
    tmp_path: Path, address: str, host: str, listen: str | None
) -> None:
    prefix = nginx_prefix(tmp_path)
    env = {"PATH": os.environ["PATH"], "HOSTGW_IP": address}
    if listen:
        env["LISTEN_PORT"] = listen
    template = EXAMPLES / "nginx-debian-pip/templates/default.conf.template"
    done = subprocess.run(
        [*hostgw_cmd(), "render", f"{template}:{prefix}/conf.d/default.conf"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    conf = (prefix / "conf.d/default.conf").read_text()
    assert f"proxy_pass http://{host}:8000;" in conf
    assert f"listen {listen or 80};" in conf
    assert "proxy_set_header Host $host;" in conf, "nginx's own variables stay"
    assert "$proxy_add_x_forwarded_for;" in conf
    checked = nginx_t(prefix)
    assert checked.returncode == 0, checked.stderr


def _bridge_network(lab: Lab, net: int) -> tuple[Netns, Netns]:
    """A host namespace with a bridge at 10.213.NET.1 and a container behind it."""
    host, box, _ = container(lab, net)
    box.ip("route", "add", "default", "via", f"10.213.{net}.1")
    return host, box


def pip_image(tmp: Path) -> tuple[Path, dict[str, str]]:
    """Image (a) as a temp tree: the nginx prefix, and the environment pointing at it.

    The image's defaults are /etc/nginx/templates and /etc/nginx/conf.d; the
    NGINX_ENVSUBST_* variables that `hostgw exec --nginx` reads move them.
    """
    prefix = nginx_prefix(tmp)
    return prefix, {
        "PATH": os.environ["PATH"],
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(copy_templates("nginx-debian-pip", tmp)),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(prefix / "conf.d"),
    }


@pytest.mark.netns
@pytest.mark.proxies
def test_debian_pip_entrypoint_in_a_container(lab: Lab, tmp_path: Path) -> None:
    dockerfile = EXAMPLES / "nginx-debian-pip/Dockerfile"
    entrypoint, cmd = exec_form(dockerfile, "ENTRYPOINT"), exec_form(dockerfile, "CMD")
    assert entrypoint[0] == "/opt/hostgw/bin/hostgw" and cmd[0] == "nginx"
    _, box = _bridge_network(lab, 71)
    prefix, env = pip_image(tmp_path)
    # The Dockerfile's ENTRYPOINT, then nginx -t in place of CMD's daemon.
    argv = [*hostgw_cmd(), *entrypoint[1:], require_tool("nginx"), "-t", *nginx_args(prefix)]
    done = box.exec(*argv, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr
    assert "proxy_pass http://10.213.71.1:8000;" in (prefix / "conf.d/default.conf").read_text()


# --- (b) and (c): the stock images' entrypoint with the drop-in ---


def image_shell(kind: str, tmp: Path) -> Shell:
    """The shell and userland of the image: Debian (dash + mawk) or Alpine (busybox).

    The Alpine stand-in PATH holds busybox applets plus the two programs the
    nginx:alpine image adds: nginx and gettext's envsubst.
    """
    if kind == "debian":
        return next(s for s in shells(tmp) if s.name == "dash")
    bb = busybox_dir(tmp)
    extra = tmp / "alpine-extra"
    extra.mkdir(exist_ok=True)
    for tool in ("nginx", "envsubst"):
        link = extra / tool
        if not link.exists():
            link.symlink_to(require_tool(tool))
    return Shell("busybox", [str(bb / "sh")], f"{bb}:{extra}")


def entrypoint_d(tmp: Path) -> Path:
    """/docker-entrypoint.d as the Dockerfiles of (b) and (c) leave it."""
    d = tmp / "docker-entrypoint.d"
    d.mkdir()
    shutil.copy2(EXAMPLES / "hostgw.envsh", d / "15-hostgw.envsh")
    shutil.copy2(STAND_IN / "20-envsubst-on-templates.sh", d / "20-envsubst-on-templates.sh")
    return d


def run_stock_entrypoint(
    box: Netns,
    shell: Shell,
    tmp: Path,
    example: str,
    command: list[str],
    *,
    env: dict[str, str] | None = None,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The stand-in entrypoint under ``shell`` in ``box``, with the example's ENV."""
    prefix = nginx_prefix(tmp)
    full_env = {
        **env_of(EXAMPLES / example / "Dockerfile"),
        "ENTRYPOINT_D": str(entrypoint_d(tmp)),
        "NGINX_ENVSUBST_TEMPLATE_DIR": str(copy_templates("nginx-stock", tmp)),
        "NGINX_ENVSUBST_OUTPUT_DIR": str(prefix / "conf.d"),
        **(env or {}),
    }
    done = subprocess.run(
        [
            IP,
            "netns",
            "exec",
            box.name,
            *shell.argv,
            str(STAND_IN / "docker-entrypoint.sh"),
            *[a.replace("{prefix}", str(prefix)) for a in command],
        ],
        env=shell.env(full_env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done, prefix


IMAGES = [("nginx-stock", "debian"), ("nginx-alpine", "alpine")]


@pytest.mark.netns
@pytest.mark.proxies
@pytest.mark.parametrize(("example", "kind"), IMAGES, ids=[i[0] for i in IMAGES])
def test_stock_entrypoint_sources_the_dropin(
    lab: Lab, tmp_path: Path, example: str, kind: str
) -> None:
    _, box = _bridge_network(lab, 73)
    shell = image_shell(kind, tmp_path)
    require_tool("nginx")  # found on the shell's PATH: the entrypoint configures only for "nginx"
    done, prefix = run_stock_entrypoint(
        box,
        shell,
        tmp_path,
        example,
        ["nginx", "-t", "-p", "{prefix}", "-c", "{prefix}/nginx.conf", "-e", "{prefix}/error.log"],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Sourcing" in done.stdout and "15-hostgw.envsh" in done.stdout
    assert "hostgw-sh: HOSTGW_IP=10.213.73.1 from route" in done.stderr
    conf = (prefix / "conf.d/default.conf").read_text()
    assert "proxy_pass http://10.213.73.1:8000;" in conf
    assert "proxy_set_header Host $host;" in conf
    assert "test is successful" in done.stderr


@pytest.mark.netns
@pytest.mark.parametrize(("example", "kind"), IMAGES, ids=[i[0] for i in IMAGES])
def test_stock_entrypoint_stops_when_there_is_no_host(
    lab: Lab, tmp_path: Path, example: str, kind: str
) -> None:
    _, box, _ = container(lab, 74)  # an --internal network: no default route
    shell = image_shell(kind, tmp_path)
    marker = tmp_path / "nginx-started"
    assert env_of(EXAMPLES / example / "Dockerfile")["HOSTGW_REQUIRED"] == "1"
    done, _ = run_stock_entrypoint(
        box,
        shell,
        tmp_path / "a",
        example,
        ["nginx", "touch", str(marker)],
        env={"ENTRYPOINT_ANY_COMMAND": "1"},
    )
    assert done.returncode != 0 and not marker.exists()
    assert "no IPv4 or IPv6 gateway found" in done.stderr
    assert "hostgw-sh: HOSTGW_REQUIRED=1: stopping" in done.stderr
    # Without HOSTGW_REQUIRED the entrypoint goes on, and says what it left unset.
    done, prefix = run_stock_entrypoint(
        box,
        shell,
        tmp_path / "b",
        example,
        ["touch", str(marker)],
        env={"HOSTGW_REQUIRED": "", "ENTRYPOINT_ANY_COMMAND": "1"},
    )
    assert done.returncode == 0 and marker.exists(), done.stderr
    assert "HOSTGW_IP left unset" in done.stderr
    assert "${HOSTGW_HOST}" in (prefix / "conf.d/default.conf").read_text()


# --- (d) the compose file and its backend ---


def test_compose_file_says_what_the_readme_says() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    backend, frontend = services["backend"], services["frontend"]
    assert backend["ports"] == ["8000:8000"]
    assert frontend["ports"] == ["1600:1600"]
    assert frontend["environment"] == {"LISTEN_PORT": "1600", "BACKEND_PORT": "8000"}
    assert "depends_on" not in frontend, "the two deploy independently"
    here = EXAMPLES / "compose-redeploy"
    assert (here / backend["build"]["context"] / "Dockerfile").is_file()
    front = here / frontend["build"]["context"]
    assert (front / frontend["build"]["dockerfile"]).is_file()
    image_entrypoint = exec_form(front / frontend["build"]["dockerfile"], "ENTRYPOINT")
    assert frontend["entrypoint"][0] == image_entrypoint[0]
    assert frontend["entrypoint"][-1] == "--"
    assert frontend["command"] == exec_form(front / frontend["build"]["dockerfile"], "CMD")
    assert frontend["extra_hosts"] == ["host.docker.internal:host-gateway"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_backend_app_answers_api_only() -> None:
    port = _free_port()
    app = EXAMPLES / "compose-redeploy/backend/app.py"
    proc = subprocess.Popen(
        [sys.executable, str(app)], env={**os.environ, "PORT": str(port)}, stderr=subprocess.DEVNULL
    )
    try:
        done = subprocess.run(
            [*hostgw_cmd(), "wait", "-q", f"http://127.0.0.1:{port}/api/x"], check=False
        )
        assert done.returncode == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/hello", timeout=10) as r:
            body = json.loads(r.read())
        assert body["path"] == "/api/hello" and body["served_by"] == socket.gethostname()
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert info.value.code == 404
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.netns
@pytest.mark.proxies
def test_compose_frontend_waits_then_proxies_api_through_the_host(lab: Lab, tmp_path: Path) -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    frontend = services["frontend"]
    host, box = _bridge_network(lab, 75)
    prefix, env = pip_image(tmp_path)
    env.update(frontend["environment"])
    # compose's entrypoint and command, hostgw from this checkout, nginx pointed at prefix.
    # (A shorter retry gap than the default 1 s only makes the test quicker.)
    argv = [
        *hostgw_cmd(),
        *frontend["entrypoint"][1:-1],
        "--wait-interval",
        "0.1",
        "--",
        require_tool("nginx"),
        *frontend["command"][1:],
        *nginx_args(prefix),
    ]
    assert argv[-len(nginx_args(prefix)) - 2 : -len(nginx_args(prefix))] == ["-g", "daemon off;"]
    nginx = box.spawn(*argv, env=env, stderr=subprocess.PIPE)
    assert nginx.stderr is not None
    seen = [nginx.stderr.readline() for _ in range(2)]  # "wrote ...", then the first round
    assert "wrote" in seen[0] and "default.conf" in seen[0], seen
    assert "waiting for 10.213.75.1:8000 (refused)" in seen[1], seen
    # The backend comes up on the host side, listening on every address.
    app = EXAMPLES / "compose-redeploy/backend/app.py"
    host.spawn(
        sys.executable,
        str(app),
        env={"PATH": os.environ["PATH"], "PORT": "8000"},
        stderr=subprocess.DEVNULL,
    )
    done = box.exec(
        "curl",
        "-sS",
        "--retry",
        "50",
        "--retry-delay",
        "0",
        "--retry-connrefused",
        "--max-time",
        "30",
        "http://127.0.0.1:1600/api/hello",
        check=False,
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["path"] == "/api/hello"
    assert nginx.poll() is None, "nginx keeps running"
    assert "proxy_pass http://10.213.75.1:8000;" in (prefix / "conf.d/default.conf").read_text()
