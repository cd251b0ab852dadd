"""Whether hostgw runs inside a container, from the marks runtimes leave.

``hostgw doctor`` says when it finds none: on a host the default route leads
to the LAN's router, and an answer found there means nothing for containers.

Marks: ``/.dockerenv`` (Docker), ``/run/.containerenv`` (Podman), the
``container`` variable (Podman, systemd-nspawn, LXC), ``KUBERNETES_SERVICE_HOST``,
a runtime's name in ``/proc/1/cgroup`` (cgroup v1 paths name it; v2 shows
``0::/``), and an ``overlay`` root file system. :func:`root_fstype` is pure.
"""

from __future__ import annotations

import os

from hostgw.detection.evidence import Context

_CGROUP_WORDS = ("docker", "kubepods", "libpod", "containerd", "crio", "lxc", "buildkit")


def root_fstype(mountinfo: str) -> str | None:
    """The file system type mounted on ``/`` in ``/proc/*/mountinfo`` text (the last one)."""
    found = None
    for line in mountinfo.split("\n"):
        fields = line.split()
        if len(fields) > 4 and fields[4] == "/" and "-" in fields[6:]:
            tail = fields[fields.index("-", 6) + 1 :]
            found = tail[0] if tail else found
    return found


def container_marks(ctx: Context) -> list[str]:
    """What says this is a container, as evidence; empty when it looks like a host."""
    marks = [
        f"{ctx.path(rel)} exists ({runtime})"
        for rel, runtime in ((".dockerenv", "Docker"), ("run/.containerenv", "Podman"))
        if os.path.exists(ctx.path(rel))
    ]
    marks += [
        f"{var}={ctx.env[var]}"
        for var in ("container", "KUBERNETES_SERVICE_HOST")
        if ctx.env.get(var)
    ]
    cgroup, _ = ctx.read("proc/1/cgroup")
    word = next((w for w in _CGROUP_WORDS if w in (cgroup or "")), None)
    if word is not None:
        marks.append(f"{ctx.path('proc/1/cgroup')} names {word}")
    mounts, _ = ctx.read("proc/self/mountinfo")
    if mounts and root_fstype(mounts) == "overlay":
        marks.append("/ is an overlay file system, as container runtimes mount it")
    return marks
