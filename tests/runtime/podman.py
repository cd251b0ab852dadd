"""Debian's Podman (4.3, rootful, netavark) run inside a namespace of its own.

Every ``podman`` command runs under ``nsenter --net`` with a containers.conf
and storage.conf of ours (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF): its own
storage, run and network-config directories, ``runtime = "runc"`` (crun 1.8
refuses this machine's hybrid cgroup layout), ``cgroupfs``, ulimits within
the hard limits, and ``dns_servers = ["127.0.0.1"]``.

Podman 4.3 has no ``--network pasta`` (4.4 added it). :meth:`PodmanScope.pasta`
does what Podman >= 4.4 does: ``pasta --config-net`` on a namespace, with
``--no-map-gw`` unless asked otherwise, then ``podman run --network ns:PATH``.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
from pathlib import Path

from tests.netns import Lab, Netns, sh, unique
from tests.runtime.lan import RuntimeHost, kill_pidfile, noting, unmount_under

PODMAN = "/usr/bin/podman"
SUBNET = "10.214.88.0/24"
# netavark's IPAM state, /run/containers/networks, is the machine's (Podman 4.3
# has no setting for it) and shared by concurrent runs: it is left in place.


class Podman:
    """Podman's configuration in ``host``; :meth:`close` removes all it made."""

    def __init__(self, host: RuntimeHost, workdir: Path) -> None:
        self.host = host
        name = unique("hgwpd")
        self.run_root = f"/run/{name}"
        self.data_root = f"/var/lib/hostgw-tests/{name}"
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = 1048576 if hard == resource.RLIM_INFINITY else hard
        self.conf = workdir / "containers.conf"
        self.conf.write_text(
            f"""\
[containers]
dns_servers = ["127.0.0.1"]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "{self.run_root}/events.log"
tmp_dir = "{self.run_root}/libpod"

[network]
network_backend = "netavark"
network_config_dir = "{self.data_root}/networks"
default_subnet = "{SUBNET}"
"""
        )
        self.storage = workdir / "storage.conf"
        self.storage.write_text(
            f"""\
[storage]
driver = "overlay"
graphroot = "{self.data_root}/storage"
runroot = "{self.run_root}/storage"
"""
        )
        self.cli("info", timeout=60)

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """Run ``podman ARGS`` in the host namespace, with our configuration."""
        env = {
            **os.environ,
            "CONTAINERS_CONF": str(self.conf),
            "CONTAINERS_STORAGE_CONF": str(self.storage),
        }
        return sh(*self.host.nsenter(PODMAN, *args), check=check, timeout=timeout, env=env)

    def close(self) -> None:
        """All containers and networks of this storage (all ours), its mounts and files."""
        errors: list[str] = []
        with noting(errors):
            self.cli("rm", "-f", "-a", "-t", "0", timeout=120)
        with noting(errors):
            self.cli("network", "prune", "-f", timeout=60)
        left = unmount_under(self.run_root, self.data_root)
        shutil.rmtree(self.run_root, ignore_errors=True)
        shutil.rmtree(self.data_root, ignore_errors=True)
        if left or errors:
            raise AssertionError(f"podman cleanup: still mounted {left}; {errors}")


class PodmanScope:
    """Containers, networks and pasta namespaces of one test, removed by name or pid."""

    def __init__(self, podman: Podman, workdir: Path) -> None:
        self.podman = podman
        self.lab = Lab()
        self.workdir = workdir
        self.containers: list[str] = []
        self.sandboxes: list[str] = []
        self.pidfiles: list[Path] = []

    def run(self, *args: str) -> str:
        """``podman run -d --name NAME ARGS``; the name and its netns are recorded."""
        name = unique("hgwc")
        self.containers.append(name)
        self.podman.cli("run", "-d", "--name", name, *args)
        sandbox = self.inspect(name, "{{.NetworkSettings.SandboxKey}}")
        if sandbox.startswith("/run/netns/netns-"):
            self.sandboxes.append(sandbox)
        return name

    def pasta(self, *, tcp: str = "none", map_gw: bool = False) -> Netns:
        """A namespace wired by pasta as Podman >= 4.4 wires it (``--no-map-gw`` by default)."""
        ns = self.lab.netns("hgwpst")
        pidfile = self.workdir / f"pasta-{ns.name}.pid"
        self.pidfiles.append(pidfile)
        # As root, pasta would drop to "nobody", who cannot open the namespace.
        args = ["--config-net", "--runas", "0:0", "--quiet", "-t", tcp, "-u", "none"]
        args += ["-T", "none", "-U", "none", "--pid", str(pidfile)]
        if not map_gw:
            args.append("--no-map-gw")
        self.podman.host.run("pasta", *args, "--netns", f"/run/netns/{ns.name}")
        return ns

    def exec(
        self, container: str, *cmd: str, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """``podman exec CONTAINER CMD`` (not checked)."""
        return self.podman.cli("exec", container, *cmd, check=False, timeout=timeout)

    def inspect(self, container: str, template: str) -> str:
        """``podman inspect -f TEMPLATE``."""
        return self.podman.cli("inspect", "-f", template, container).stdout.strip()

    def close(self) -> None:
        """Remove this scope's containers, then their leftover netns, then pasta by pid."""
        errors: list[str] = []
        for name in reversed(self.containers):
            with noting(errors):
                self.podman.cli("rm", "-f", "-t", "0", name, check=False)
        for sandbox in self.sandboxes:
            if os.path.exists(sandbox):
                sh("umount", sandbox, check=False)
                Path(sandbox).unlink(missing_ok=True)
        for pidfile in self.pidfiles:
            kill_pidfile(pidfile)
        self.lab.close()
        if errors:
            raise AssertionError(f"podman cleanup: {errors}")
