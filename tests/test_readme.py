"""The README's first screen, followed as a new user would, in network namespaces.

- **Set up, step 1**: the install line, verbatim but for three paths
  (``/opt/hostgw`` and ``/usr/local/bin`` under the test's directory, and
  the ``apt-get`` part, which is already done here), run in a copy of the
  checkout inside a namespace built like a Docker bridge network; then
  ``hostgw`` is on PATH and ``hostgw doctor`` answers. pip reads the wheels
  ``scripts/test`` keeps in its cache: no package index. The "Without a
  package index" lines then build the wheel and the zipapp, and the zipapp
  runs under Debian's python3.
- **In 30 seconds**: every line of the worked example is run. ``mkdir`` and
  the heredoc run as they are, in the test's directory; ``curl`` runs as it
  is, in the namespace that stands for the Docker host; ``docker`` cannot run
  here (tests/runtime/ runs the image on real Docker), so each ``docker``
  line does what Docker does, with real parts: ``run -p H:C IMAGE CMD`` is a
  new namespace on a bridge of the host, CMD (or the image's ENTRYPOINT and
  CMD, read from the Dockerfile ``build -f`` named) running in it, and an
  nft DNAT of host port H to it (``fib daddr type local``, as
  ``docker run -p`` does); ``-v DIR:/etc/nginx/templates`` is the
  ``NGINX_ENVSUBST_TEMPLATE_DIR`` that ``hostgw exec --nginx`` reads;
  ``rm -f`` kills the container's process, and the next ``run`` gets a new
  namespace with a new address. Debian's nginx stands in for the nginx image,
  its ``/etc/nginx`` a directory of the test's own. A line the test does not
  know fails it: change the README and this model together.
- **Three ways in**: the shell, Python and template blocks run inside the
  frontend's namespace, beside the running example.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd, require_tool
from tests.netns import Lab, Netns, unique
from tests.nginx import main_conf

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
WHEELS = Path(os.environ.get("HOSTGW_TEST_CACHE", "/var/cache/hostgw-tests")) / "wheels"
NET = 60  # 10.213.60.0/24: the frontend's network; .61: the backends'


def blocks(text: str) -> Iterator[tuple[str, str, str]]:
    """``(heading, language, body)`` of every fenced block, in order."""
    heading = ""
    pattern = r"^(#+ [^\n]*)$|^```(\w*)\n(.*?)^```$"
    found = re.finditer(pattern, text, flags=re.MULTILINE | re.DOTALL)
    for match in found:
        if match.group(1):
            heading = match.group(1)
        else:
            yield heading, match.group(2), match.group(3)


def block(heading: str, language: str, index: int = 0) -> str:
    """The ``index``-th block of ``language`` under the README heading starting ``heading``."""
    found = [b for h, lang, b in blocks(README) if h.startswith(heading) and lang == language]
    assert len(found) > index, f"README: no {language} block under {heading!r}"
    return found[index]


def commands(body: str) -> list[str]:
    """Shell commands of a block: comments and blank lines dropped, heredocs kept whole."""
    out: list[str] = []
    lines = iter(body.splitlines())
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        whole = [line]
        heredoc = re.search(r"<<'(\w+)'", line)
        if heredoc:
            for more in lines:
                whole.append(more)
                if more == heredoc.group(1):
                    break
        out.append("\n".join(whole))
    return out


def show(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"


def bin_dir(tmp: Path) -> Path:
    """A directory with ``hostgw`` in it, for PATH."""
    d = tmp / "bin"
    d.mkdir(exist_ok=True)
    (d / "hostgw").symlink_to(hostgw_cmd()[0])
    return d


# --- the Docker host and its containers ------------------------------------------------


class Host:
    """A namespace that plays the Docker host: a bridge for the frontend, one for the
    backends, forwarding between them, and ``-p`` as nft DNAT."""

    def __init__(self, lab: Lab, tmp: Path) -> None:
        self.lab = lab
        self.tmp = tmp
        self.ns = lab.netns("hgwh")
        self.ns.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.ns.exec("sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1")
        self.bridges = {"front": lab.bridge(self.ns), "back": lab.bridge(self.ns)}
        self.nets = {"front": f"10.213.{NET}", "back": f"10.213.{NET + 1}"}
        for side, bridge in self.bridges.items():
            self.ns.ip("addr", "add", f"{self.nets[side]}.1/24", "dev", bridge)
        self.table = unique("hgwp")
        self.ns.exec(
            "nft",
            "-f",
            "-",
            input=f"""
table ip {self.table} {{
    chain prerouting {{ type nat hook prerouting priority dstnat; policy accept; jump publish; }}
    chain output {{ type nat hook output priority -100; policy accept; jump publish; }}
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        ip saddr 127.0.0.0/8 masquerade
    }}
    chain publish {{ }}
}}
""",
        )
        lab.on_close(lambda: self.ns.exec("nft", "delete", "table", "ip", self.table, check=False))
        self.published: dict[str, tuple[str, str, str]] = {}  # name -> (port, address, port)
        self.running: dict[str, subprocess.Popen[str]] = {}
        self.hosts = 1

    def container(self, side: str) -> tuple[Netns, str]:
        """A new namespace with eth0 on ``side``'s bridge: its own new address."""
        self.hosts += 1
        address = f"{self.nets[side]}.{self.hosts}"
        ns = self.lab.netns("hgwc")
        outer, _ = self.lab.veth(self.ns, ns, a_name=unique("hv"))
        self.ns.ip("link", "set", outer, "master", self.bridges[side])
        ns.ip("addr", "add", f"{address}/24", "dev", "eth0")
        ns.ip("route", "add", "default", "via", f"{self.nets[side]}.1")
        return ns, address

    def publish(self) -> None:
        """The DNAT rules of every container that publishes a port (``-p``)."""
        self.ns.exec("nft", "flush", "chain", "ip", self.table, "publish")
        for host_port, address, port in self.published.values():
            self.ns.exec(
                "nft",
                "add",
                "rule",
                "ip",
                self.table,
                "publish",
                *["fib", "daddr", "type", "local", "tcp", "dport"],
                host_port,
                "dnat",
                "to",
                f"{address}:{port}",
            )


class Docker:
    """The worked example's ``docker`` lines, done with namespaces and real processes."""

    def __init__(self, host: Host, tmp: Path) -> None:
        self.host = host
        self.tmp = tmp
        self.images: dict[str, Path] = {}  # tag -> Dockerfile
        self.front: Netns | None = None
        self.nginx: subprocess.Popen[str] | None = None
        self.prefix = tmp / "etc-nginx"

    def __call__(self, argv: list[str]) -> None:
        verb, *args = argv
        if verb == "build":
            self.build(args)
        elif verb == "run":
            self.run(args)
        elif verb == "rm" and args[0] == "-f":
            for name in args[1:]:
                proc = self.host.running.pop(name)
                proc.kill()
                proc.wait(timeout=10)
                self.host.published.pop(name, None)
            self.host.publish()
        else:
            raise AssertionError(f"README: this test does not model `docker {verb}`")

    def build(self, args: list[str]) -> None:
        words = iter(args)
        dockerfile, tag = None, None
        for word in words:
            if word == "-f":
                dockerfile = ROOT / next(words)
            elif word == "-t":
                tag = next(words)
            elif word not in ("-q", "."):
                raise AssertionError(f"README: docker build {word}: not modelled here")
        assert dockerfile is not None and dockerfile.is_file() and tag, args
        self.images[tag] = dockerfile

    def run(self, args: list[str]) -> None:
        words = iter(args)
        name, ports, volumes = "", None, {}
        image = ""
        for word in words:
            if word == "-d":
                continue
            if word == "--name":
                name = next(words)
            elif word == "-p":
                ports = next(words).split(":")
            elif word == "-v":
                source, target, *_ = next(words).split(":")
                volumes[target] = source
            elif word.startswith("-"):
                raise AssertionError(f"README: docker run {word}: not modelled here")
            else:
                image = word
                break
        command = list(words)
        assert name and ports and image, args
        if image in self.images:
            address = self.frontend(self.images[image], command, volumes)
        else:
            address = self.backend(name, command)
        self.host.published[name] = (ports[0], address, ports[1])
        self.host.publish()

    def backend(self, name: str, command: list[str]) -> str:
        """A backend image's CMD (``python3 ...``: the tests' own python3) in a new container."""
        assert command[0] == "python3", command
        ns, address = self.host.container("back")
        workdir = self.tmp / f"{name}-{address}"
        workdir.mkdir()
        proc = ns.spawn(
            sys.executable,
            *command[1:],
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.host.running[name] = proc
        return address

    def frontend(self, dockerfile: Path, command: list[str], volumes: dict[str, str]) -> str:
        """The image's ENTRYPOINT and CMD (hostgw from this checkout, nginx pointed at the
        test's own /etc/nginx), with a volume on /etc/nginx/templates."""
        entrypoint, cmd = (
            exec_form(dockerfile, "ENTRYPOINT"),
            command or exec_form(dockerfile, "CMD"),
        )
        assert entrypoint[0] == "/opt/hostgw/bin/hostgw" and cmd[0] == "nginx", (entrypoint, cmd)
        assert set(volumes) <= {"/etc/nginx/templates"}, volumes
        (self.prefix / "conf.d").mkdir(parents=True)
        (self.prefix / "nginx.conf").write_text(main_conf(self.prefix, log="notice"))
        self.prefix.chmod(0o755)
        self.tmp.chmod(0o755)
        env = {
            "PATH": os.environ["PATH"],
            "NGINX_ENVSUBST_TEMPLATE_DIR": volumes.get("/etc/nginx/templates", "/nonexistent"),
            "NGINX_ENVSUBST_OUTPUT_DIR": str(self.prefix / "conf.d"),
        }
        nginx = [require_tool("nginx"), *cmd[1:], "-p", str(self.prefix), "-c"]
        nginx += [str(self.prefix / "nginx.conf"), "-e", str(self.prefix / "error.log")]
        ns, address = self.host.container("front")
        log = (self.tmp / "web.log").open("w")
        self.nginx = ns.spawn(
            *hostgw_cmd(), *entrypoint[1:], *nginx, env=env, stdin=subprocess.DEVNULL, stderr=log
        )
        self.front = ns
        self.host.running["web"] = self.nginx
        return address


def exec_form(dockerfile: Path, word: str) -> list[str]:
    """The JSON (exec) form of the Dockerfile's ENTRYPOINT or CMD."""
    import json

    found = [
        json.loads(line.partition(" ")[2])
        for line in dockerfile.read_text().splitlines()
        if line.startswith(f"{word} ")
    ]
    assert len(found) == 1, f"{dockerfile}: one {word} expected"
    return list(found[0])


def workers(pid: int) -> set[int]:
    """Pids whose parent is ``pid``."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


# --- the tests -------------------------------------------------------------------------


@pytest.mark.proxies
def test_the_worked_example_and_the_three_ways_in(lab: Lab, tmp_path: Path) -> None:
    require_tool("nginx")
    require_tool("curl")
    host = Host(lab, tmp_path)
    docker = Docker(host, tmp_path)
    body = block("## In 30 seconds", "sh")
    curls = 0
    master = None
    for given in commands(body):
        line = given.replace('"$PWD', f'"{tmp_path}')
        argv = shlex.split(line.partition("\n")[0])
        if argv[0] == "docker":
            for part in re.split(r"\s+&&\s+", line):
                docker(shlex.split(part)[1:])
            continue
        if argv[0] == "curl":
            done = host.ns.exec("bash", "-o", "pipefail", "-c", line, check=False, timeout=120)
            assert done.returncode == 0, show(done) + (tmp_path / "web.log").read_text()
            assert done.stdout == "Directory listing for /\n", show(done)
            curls += 1
            assert docker.nginx is not None and docker.nginx.poll() is None
            if master is None:
                master = (docker.nginx.pid, workers(docker.nginx.pid))
            else:
                assert (docker.nginx.pid, workers(docker.nginx.pid)) == master, "nginx was touched"
            continue
        assert argv[0] == "mkdir", f"README: a line this test does not model: {line}"
        subprocess.run(["bash", "-e", "-c", line], cwd=tmp_path, check=True)
    assert curls == 2 and master is not None and master[1], "two requests, through one nginx"
    assert "backend-" not in body
    conf = (docker.prefix / "conf.d/default.conf").read_text()
    assert f"proxy_pass http://10.213.{NET}.1:8000;" in conf, conf

    # Three ways in, from inside the frontend's container.
    assert docker.front is not None
    gateway = f"10.213.{NET}.1"
    path = f"{bin_dir(tmp_path)}:{os.environ['PATH']}"
    shell = block("## Three ways in", "sh", 0)
    done = docker.front.exec("bash", "-e", "-c", shell, env={"PATH": path}, check=False)
    assert done.stdout.split() == [gateway, gateway, gateway], show(done)
    python = block("## Three ways in", "python")
    done = docker.front.exec(sys.executable, "-c", python, env={"PATH": path}, check=False)
    assert done.stdout.split() == [gateway, "route"], show(done)
    templates = commands(block("## Three ways in", "sh", 1))
    assert templates[-1].startswith("hostgw exec --nginx"), "shown above, in the example"
    script = "cd " + shlex.quote(str(tmp_path)) + "\n" + "\n".join(templates[:-1])
    done = docker.front.exec("bash", "-e", "-c", script, env={"PATH": path}, check=False)
    assert done.returncode == 0 and done.stdout == "up to date\n", show(done)
    assert f"proxy_pass http://{gateway}:8000;" in (tmp_path / "default.conf").read_text()


def test_setup_step_one_then_the_artifacts(lab: Lab, tmp_path: Path) -> None:
    if not list(WHEELS.glob("click-*.whl")) or not list(WHEELS.glob("setuptools-*.whl")):
        pytest.skip(f"needs the wheels scripts/test downloads into {WHEELS}")
    step = next(c for c in commands(block("## Set up", "sh")) if "pip install ." in c)
    apt = "apt-get update && apt-get install -y python3-venv && "
    assert step.startswith(apt), step
    opt, usr = tmp_path / "opt", tmp_path / "usr-local-bin"
    usr.mkdir()
    line = step.removeprefix(apt).replace("/opt/hostgw", str(opt / "hostgw"))
    line = line.replace("/usr/local/bin", str(usr))
    assert "/opt/hostgw/bin/pip install ." in step and "/usr/local/bin/hostgw" in step, step
    tree = tmp_path / "checkout"
    tree.mkdir()  # what the install and the artifact lines read, without build output
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, tree / name)
    for name in ("hostgw", "scripts"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    host = Host(lab, tmp_path)
    box, _ = host.container("front")
    env = {
        "PATH": f"{usr}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(WHEELS),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    python3 = shutil.which("python3", path="/usr/bin")
    assert python3 is not None
    done = box.exec(
        "bash",
        "-e",
        "-c",
        f"cd {shlex.quote(str(tree))} && {line}",
        env=env,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, show(done)
    assert f"answer: 10.213.{NET}.1 (IPv4) from route" in done.stdout, show(done)
    found = subprocess.run(
        ["bash", "-c", "command -v hostgw"], env=env, capture_output=True, text=True, check=False
    )
    assert found.stdout.strip() == str(usr / "hostgw")

    # Without a package index: the wheel and the zipapp, from the venv of step 1.
    for given in commands(block("## Without a package index", "sh")):
        artifact = given.replace("/opt/hostgw", str(opt / "hostgw"))
        done = box.exec(
            "bash",
            "-e",
            "-c",
            f"cd {shlex.quote(str(tree))} && {artifact}",
            env=env,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, show(done)
    assert len(list((tree / "dist").glob("hostgw-*-py3-none-any.whl"))) == 1
    done = subprocess.run(
        ["/usr/bin/python3", "-S", str(tree / "dist/hostgw.pyz"), "ip", "--strategy", "env"],
        env={"PATH": "/usr/bin:/bin", "HOSTGW_IP": "10.213.60.9"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, "10.213.60.9\n"), show(done)
