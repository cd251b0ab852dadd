"""Debian's Docker Engine, started inside a namespace of its own.

``dockerd`` runs under ``nsenter --net`` with its own socket, exec-root,
data-root and pid file, so docker0, its iptables rules and the published
ports live in that namespace. Debian's ``/usr/bin/docker`` (20.10) is the
client, named by path: a newer client may come first on PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from tests.netns import sh, unique
from tests.runtime.lan import RuntimeHost, noting, stop_pid, unmount_under

DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
BRIDGE_IP = "10.214.16.1"
POOL = "10.214.32.0/19"


class Dockerd:
    """One dockerd in ``host``; :meth:`close` removes all it made, by name, pid and path."""

    def __init__(self, host: RuntimeHost, workdir: Path) -> None:
        self.host = host
        name = unique("hgwdk")
        self.exec_root = f"/run/{name}"
        self.data_root = f"/var/lib/hostgw-tests/{name}"
        self.socket = f"/run/{name}.sock"
        self.pidfile = f"/run/{name}.pid"
        self.log = workdir / "dockerd.log"
        config = workdir / "daemon.json"
        config.write_text(
            json.dumps(
                {
                    "bip": f"{BRIDGE_IP}/24",
                    "default-address-pools": [{"base": POOL, "size": 24}],
                    "dns": ["127.0.0.1"],
                    "storage-driver": "overlay2",
                    "iptables": True,
                    "exec-opts": ["native.cgroupdriver=cgroupfs"],
                }
            )
        )
        self.proc = host.spawn(
            DOCKERD,
            "--config-file",
            str(config),
            "-H",
            f"unix://{self.socket}",
            "--exec-root",
            self.exec_root,
            "--data-root",
            self.data_root,
            "--pidfile",
            self.pidfile,
            log=self.log,
        )
        deadline = time.monotonic() + 60
        while self.cli("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"dockerd did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.3)

    def env(self) -> dict[str, str]:
        """The environment for docker clients (the CLI, compose) talking to this daemon."""
        path = "/usr/bin:/usr/sbin:/bin:/sbin:" + os.environ.get("PATH", "")
        return {
            **os.environ,
            "PATH": path,
            "DOCKER_HOST": f"unix://{self.socket}",
            "DOCKER_BUILDKIT": "1",
        }

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``docker ARGS`` against this daemon."""
        return sh(
            DOCKER,
            "-H",
            f"unix://{self.socket}",
            *args,
            check=check,
            timeout=timeout,
            env=self.env(),
            input=input,
        )

    def close(self) -> None:
        """Every container and network of this daemon (all ours), the daemon, its mounts."""
        errors: list[str] = []
        if self.proc.poll() is None:
            with noting(errors):
                ids = self.cli("ps", "-aq", timeout=60).stdout.split()
                if ids:
                    self.cli("rm", "-f", *ids, timeout=120)
            with noting(errors):
                nets = self.cli("network", "ls", "-q", "--filter", "type=custom", timeout=60)
                if nets.stdout.split():
                    self.cli("network", "rm", *nets.stdout.split(), timeout=60)
        with noting(errors):
            stop_pid(self.proc)
        # dockerd leaves its own namespace's handle mounted under exec-root/netns.
        left = unmount_under(self.exec_root, self.data_root)
        for path in (self.exec_root, self.data_root, self.socket, self.pidfile):
            if os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif os.path.exists(path):
                os.unlink(path)
        if left or errors:
            raise AssertionError(f"dockerd cleanup: still mounted {left}; {errors}")


class DockerScope:
    """The containers, networks and images one test makes, removed by exact name at its end."""

    def __init__(self, daemon: Dockerd) -> None:
        self.daemon = daemon
        self.containers: list[str] = []
        self.networks: list[str] = []
        self.images: list[str] = []

    def name(self, prefix: str) -> str:
        """A container or network name unique to this run."""
        return unique(prefix)

    def run(self, *args: str, name: str | None = None) -> str:
        """``docker run -d --name NAME ARGS``; the name is recorded for removal."""
        name = name or self.name("hgwc")
        self.containers.append(name)
        self.daemon.cli("run", "-d", "--name", name, *args)
        return name

    def network(self, *args: str) -> str:
        """``docker network create ARGS NAME``; recorded for removal."""
        name = self.name("hgwn")
        self.networks.append(name)
        self.daemon.cli("network", "create", *args, name)
        return name

    def exec(
        self, container: str, *cmd: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """``docker exec CONTAINER CMD`` (not checked)."""
        return self.daemon.cli("exec", container, *cmd, check=False, timeout=timeout)

    def inspect(self, container: str, template: str) -> str:
        """``docker inspect -f TEMPLATE``."""
        return self.daemon.cli("inspect", "-f", template, container).stdout.strip()

    def close(self) -> None:
        """Remove what this scope made, containers first."""
        errors: list[str] = []
        for name in reversed(self.containers):
            with noting(errors):
                self.daemon.cli("rm", "-f", name, check=False)
        for name in reversed(self.networks):
            with noting(errors):
                self.daemon.cli("network", "rm", name, check=False)
        for name in reversed(self.images):
            with noting(errors):
                self.daemon.cli("rmi", "-f", name, check=False)
        if errors:
            raise AssertionError(f"docker cleanup: {errors}")
