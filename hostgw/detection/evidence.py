"""What a strategy is given and what it gives back: the interface of the table.

A strategy reads a :class:`Context` and returns an :class:`Outcome`: its
:class:`Finding` records (address, family, evidence), or none and the reason.
The ``watch`` kinds name what an answer can change with, for a watcher.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from hostgw.record import Record

DEFAULT_NAMES = ("host.docker.internal", "host.containers.internal")
DEFAULT_K8S_VAR = "HOST_IP"

#: Watch kinds: route, link and address changes (netlink events, or polled /proc).
NETLINK = "netlink"
#: Watch kinds: the hosts file.
HOSTS = "hosts"
#: Everything a watcher can watch: what an unknown answer may depend on.
EVERYTHING = frozenset({NETLINK, HOSTS})


class Finding(Record):
    """One answer from a strategy: the address, its family, and the evidence."""

    address: str
    family: int
    detail: str


class Outcome(Record):
    """What a strategy saw.

    ``findings`` are usable answers (at most one per family, best first);
    ``reason`` says why there is none (or adds what else was seen);
    ``rejected`` lists answers known to be wrong, each with why. ``fatal``
    means the user's explicit setting cannot be honoured: detection stops
    with ``reason`` and ``hint`` rather than guess. ``watch``, when not None,
    replaces the row's own watch kinds (an override that is a hostname
    depends on what resolves it).
    """

    findings: tuple[Finding, ...] = ()
    reason: str = ""
    rejected: tuple[str, ...] = ()
    fatal: bool = False
    hint: str | None = None
    watch: frozenset[str] | None = None


class Context(Record):
    """Everything a strategy may read. Built once per walk from the options."""

    env: Mapping[str, str]
    root: str = "/"
    names: tuple[str, ...] = DEFAULT_NAMES
    k8s_var: str = DEFAULT_K8S_VAR
    timeout: float = 1.0
    families: tuple[int, ...] = (4, 6)
    live: bool = True  # may ask this machine (DNS, netlink), not only files under root
    first_only: bool = False  # an answer in the first family that has one is enough
    started: object = None  # what the row's ``start`` began for this run (DNS lookups)
    until: float | None = None  # return by this monotonic time: a lower row has answered

    def path(self, relative: str) -> str:
        """``relative`` (e.g. ``proc/net/route``) under the root directory."""
        return os.path.join(self.root, relative)

    def read(self, relative: str) -> tuple[str | None, str]:
        """``(text or None, why not)`` for a file under the root directory."""
        path = self.path(relative)
        try:
            with open(path, "rb") as handle:
                return handle.read().decode("utf-8", "replace"), ""
        except FileNotFoundError:
            return None, f"{path} does not exist"
        except PermissionError:
            return None, f"{path} is not readable (permission denied)"
        except OSError as exc:
            return None, f"cannot read {path}: {exc.strerror or exc}"


Strategy = Callable[[Context], Outcome]
