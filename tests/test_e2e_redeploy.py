"""The redeploy story end to end: real nginx, real kernel DNAT, real namespaces.

A "host" namespace holds two bridges (the frontend's network and the
backend's), forwards between them, and publishes the backend's port 8000 on
every local address with nft DNAT (``fib daddr type local``), as
``docker run -p 8000:8000`` does. The frontend namespace runs real nginx
whose upstream is the gateway (the frontend bridge's address) on 8000.

1. Requests through nginx reach the backend.
2. The backend is redeployed: its process killed, a new namespace with a new
   address, the DNAT retargeted. The same nginx master (same pid, same
   workers: no reload) keeps answering, now from the new backend.
3. The host's address changes: the bridge is re-addressed and the
   frontend's route follows. hostgw re-renders (or re-rewrites) and reloads
   nginx; requests work again.

Variant A renders a template under ``hostgw exec --watch`` (nginx is its
child and gets SIGHUP). Variant B rewrites a config that names
``backend:8000`` with ``hostgw rewrite``, runs nginx on its own, and keeps
it in step with ``hostgw watch --rewrite … --signal HUP --pid-file``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd, require_tool
from tests.netns import Lab, Netns, unique
from tests.nginx import main_conf
from tests.waiting import read, until

pytestmark = pytest.mark.netns

# A backend that answers every GET with its name.
BACKEND = """
import http.server, sys
name = sys.argv[1].encode()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name) + 1))
        self.end_headers()
        self.wfile.write(name + b"\\n")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
"""


def children(pid: int) -> set[int]:
    """Pids whose parent is ``pid`` (nginx's workers under the master)."""
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


class Story:
    """The host, the frontend and the backends of one test, by name."""

    def __init__(self, lab: Lab, tmp: Path, net: int) -> None:
        self.lab = lab
        self.tmp = tmp
        self.front_net = f"10.213.{net}"  # frontend's network: gateway .1
        self.back_net = f"10.213.{net + 1}"  # backends' network
        self.moved_net = f"10.213.{net + 2}"  # the frontend network after the host change
        self.host = lab.netns("hgwh")
        self.host.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
        self.host.exec("sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1")
        self.br_front = lab.bridge(self.host)
        self.br_back = lab.bridge(self.host)
        self.host.ip("addr", "add", f"{self.front_net}.1/24", "dev", self.br_front)
        self.host.ip("addr", "add", f"{self.back_net}.1/24", "dev", self.br_back)
        self.table = unique("hgwp")
        self.host.exec(
            "nft",
            "-f",
            "-",
            input=f"""
table ip {self.table} {{
    chain prerouting {{ type nat hook prerouting priority dstnat; policy accept; jump publish; }}
    chain output {{ type nat hook output priority -100; policy accept; jump publish; }}
    chain publish {{ }}
}}
""",
        )
        lab.on_close(
            lambda: self.host.exec("nft", "delete", "table", "ip", self.table, check=False)
        )
        self.front = self.attach("hgwf", self.br_front, f"{self.front_net}.2", self.front_net)
        self.backend_proc: subprocess.Popen[str] | None = None

    def attach(self, prefix: str, bridge: str, address: str, net: str) -> Netns:
        """A namespace with eth0 on ``bridge``, ``address``/24, default via net.1."""
        ns = self.lab.netns(prefix)
        outer = unique("hv")
        self.lab.veth(self.host, ns, a_name=outer)
        self.host.ip("link", "set", outer, "master", bridge)
        ns.ip("addr", "add", f"{address}/24", "dev", "eth0")
        ns.ip("route", "add", "default", "via", f"{net}.1")
        return ns

    def deploy_backend(self, name: str, last_octet: int) -> None:
        """Start backend ``name`` in a new namespace and point the DNAT at it."""
        address = f"{self.back_net}.{last_octet}"
        ns = self.attach("hgwb", self.br_back, address, self.back_net)
        self.backend_proc = ns.spawn(
            sys.executable, "-c", BACKEND, name, stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.host.exec("nft", "flush", "chain", "ip", self.table, "publish")
        self.host.exec(
            "nft",
            "add",
            "rule",
            "ip",
            self.table,
            "publish",
            "fib",
            "daddr",
            "type",
            "local",
            "tcp",
            "dport",
            "8000",
            "dnat",
            "to",
            f"{address}:8000",
        )
        until(
            f"{name} to listen",
            lambda: (
                self.host.exec(
                    "python3",
                    "-c",
                    f"import socket; socket.create_connection(('{address}', 8000), 1)",
                    check=False,
                ).returncode
                == 0
            ),
        )

    def kill_backend(self) -> None:
        """Kill the running backend process (by pid)."""
        assert self.backend_proc is not None
        self.backend_proc.kill()
        self.backend_proc.wait(timeout=10)

    def move_host(self) -> None:
        """Re-address the frontend bridge, and re-address and re-route the frontend."""
        self.host.ip("addr", "del", f"{self.front_net}.1/24", "dev", self.br_front)
        self.host.ip("addr", "add", f"{self.moved_net}.1/24", "dev", self.br_front)
        self.front.ip("addr", "flush", "dev", "eth0")
        self.front.ip("addr", "add", f"{self.moved_net}.2/24", "dev", "eth0")
        self.front.ip("route", "replace", "default", "via", f"{self.moved_net}.1")

    def get(self) -> str:
        """GET /api/ through nginx, from inside the frontend; '' when it fails."""
        done = self.front.exec(
            "curl", "-sS", "--max-time", "3", "http://127.0.0.1:1600/api/", check=False
        )
        return done.stdout.strip() if done.returncode == 0 else ""

    def nginx_config(self, prefix: Path, target: str) -> str:
        server = (
            "    server {\n        listen 127.0.0.1:1600;\n"
            f"        location /api/ {{ proxy_pass http://{target}/; }}\n    }}\n"
        )
        return main_conf(prefix, http=server, log="notice")


def _nginx_prefix(tmp: Path) -> Path:
    prefix = tmp / "nginx"
    prefix.mkdir()
    # Workers run as nobody: they must be able to reach the temp dirs.
    prefix.chmod(0o755)
    tmp.chmod(0o755)
    return prefix


def _redeploy_keeps_the_same_master(story: Story, master: int) -> None:
    assert story.get() == "backend-1"
    workers = children(master)
    assert workers, "nginx has no workers"
    story.kill_backend()
    story.deploy_backend("backend-2", 3)
    until("the redeployed backend through nginx", lambda: story.get() == "backend-2")
    assert children(master) == workers, "nginx was reloaded: the workers changed"


def test_render_under_exec_watch(lab: Lab, tmp_path: Path) -> None:
    require_tool("nginx")
    story = Story(lab, tmp_path, 90)
    story.deploy_backend("backend-1", 2)
    prefix = _nginx_prefix(tmp_path)
    template = prefix / "nginx.conf.template"
    template.write_text(story.nginx_config(prefix, "${HOSTGW_HOST}:8000"))
    conf = prefix / "nginx.conf"
    log = tmp_path / "hostgw.log"
    with log.open("w") as err:
        sup = story.front.spawn(
            *hostgw_cmd(),
            "exec",
            "--watch",
            "-t",
            f"{template}:{conf}",
            "--",
            require_tool("nginx"),
            "-p",
            str(prefix),
            "-c",
            str(conf),
            "-g",
            "daemon off;",
            stdin=subprocess.DEVNULL,
            stderr=err,
        )
    until("nginx through hostgw", lambda: story.get() == "backend-1", log=log)
    assert f"proxy_pass http://{story.front_net}.1:8000/;" in conf.read_text()
    master = int(read(prefix / "nginx.pid"))
    assert children(sup.pid) == {master}, "nginx's master is hostgw's child"

    _redeploy_keeps_the_same_master(story, master)

    workers = children(master)
    story.move_host()
    until("requests after the host moved", lambda: story.get() == "backend-2", log=log)
    assert f"proxy_pass http://{story.moved_net}.1:8000/;" in conf.read_text()
    assert int(read(prefix / "nginx.pid")) == master, "the master must stay"
    assert children(master) != workers, "nginx was not reloaded"
    assert "rewrote" in read(log)

    sup.send_signal(signal.SIGTERM)  # forwarded: nginx shuts down fast, exit 0
    assert sup.wait(timeout=30) == 0, read(log)
    assert not Path(f"/proc/{master}").exists()


def test_rewrite_under_watch_with_pid_file(lab: Lab, tmp_path: Path) -> None:
    nginx = require_tool("nginx")
    story = Story(lab, tmp_path, 94)
    story.deploy_backend("backend-1", 2)
    prefix = _nginx_prefix(tmp_path)
    conf = prefix / "nginx.conf"
    conf.write_text("daemon off;\n" + story.nginx_config(prefix, "backend:8000"))
    story.front.exec(*hostgw_cmd(), "rewrite", "-m", "backend:8000=8000", str(conf))
    assert f"proxy_pass http://{story.front_net}.1:8000/;" in conf.read_text()
    master_proc = story.front.spawn(
        nginx, "-p", str(prefix), "-c", str(conf), stdin=subprocess.DEVNULL
    )
    until("nginx", lambda: story.get() == "backend-1")
    master = master_proc.pid  # `ip netns exec` execs: the pid is nginx's master
    assert int(read(prefix / "nginx.pid")) == master
    log = tmp_path / "watch.log"
    with log.open("w") as err:
        watch = story.front.spawn(
            *hostgw_cmd(),
            "watch",
            "--rewrite",
            str(conf),
            "-m",
            "backend:8000=8000",
            "--validate",
            "--signal",
            "HUP",
            "--pid-file",
            str(prefix / "nginx.pid"),
            stdin=subprocess.DEVNULL,
            stderr=err,
        )
    until("the watcher", lambda: "watching" in read(log))
    assert "rewrote" not in read(log), "an up-to-date config must not be rewritten"

    _redeploy_keeps_the_same_master(story, master)

    workers = children(master)
    story.move_host()
    until("requests after the host moved", lambda: story.get() == "backend-2", log=log)
    assert f"proxy_pass http://{story.moved_net}.1:8000/;" in conf.read_text()
    assert children(master) != workers, "nginx was not reloaded"
    assert master_proc.poll() is None

    watch.send_signal(signal.SIGTERM)
    assert watch.wait(timeout=30) == 0, read(log)
    master_proc.send_signal(signal.SIGQUIT)
    assert master_proc.wait(timeout=30) == 0
