"""Fixtures of the real-runtime layer: the LAN, both runtimes, their images.

Nothing is installed here: the packages and the dependency wheels come from
``scripts/test``. Where something is missing the tests skip with the reason,
which fails the run under ``HOSTGW_NO_SKIP=1``. Package fixtures start the
daemons once for tests/runtime and stop them when its last test is done, so
nothing of theirs runs beside the rest of the suite; per-test scopes remove
what each test made, pass or fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import netns
from tests.runtime import images
from tests.runtime.docker import DOCKER, DOCKERD, Dockerd, DockerScope
from tests.runtime.lan import Lan
from tests.runtime.podman import PODMAN, Podman, PodmanScope

TOOLS = (
    DOCKER,
    DOCKERD,
    PODMAN,
    "pasta",
    "slirp4netns",
    "/usr/lib/podman/netavark",
    "debootstrap",
    "nsenter",
)


def missing() -> str | None:
    """Why the runtime layer cannot run here, or None."""
    reason = netns.available()
    if reason:
        return reason
    absent = [t for t in TOOLS if not (os.path.exists(t) or shutil.which(t))]
    if absent:
        return f"needs {', '.join(absent)} (scripts/test installs them)"
    try:
        images.dependency_wheels()
    except LookupError as exc:
        return str(exc)
    return None


@pytest.fixture(scope="package")
def lan() -> Iterator[Lan]:
    """The made-up LAN; its namespaces go last, after the daemons on it."""
    reason = missing()
    if reason:
        pytest.skip(f"runtime: {reason}")
    lab = netns.Lab()
    try:
        yield Lan(lab)
    finally:
        lab.close()


@pytest.fixture(scope="package")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """hostgw's wheel built from the checkout, with its dependencies' wheels."""
    return images.wheelhouse(tmp_path_factory.mktemp("wheels"))


@pytest.fixture(scope="package")
def base_tar(lan: Lan) -> Path:
    """The debootstrap tarball (cached between runs on this machine)."""
    return images.base_tarball()


@pytest.fixture(scope="package")
def dockerd(
    lan: Lan, tmp_path_factory: pytest.TempPathFactory, base_tar: Path, wheels: Path
) -> Iterator[Dockerd]:
    """dockerd in its own host namespace, with the base and client images."""
    daemon = Dockerd(lan.host("hgwdh"), tmp_path_factory.mktemp("dockerd"))
    try:
        images.make_images(daemon.cli, base_tar, wheels)
        yield daemon
    finally:
        daemon.close()


@pytest.fixture(scope="package")
def podman(
    lan: Lan, tmp_path_factory: pytest.TempPathFactory, base_tar: Path, wheels: Path
) -> Iterator[Podman]:
    """Podman's configuration in its own host namespace, with the same images."""
    engine = Podman(lan.host("hgwph"), tmp_path_factory.mktemp("podman"))
    try:
        images.make_images(engine.cli, base_tar, wheels)
        yield engine
    finally:
        engine.close()


@pytest.fixture
def docker(dockerd: Dockerd) -> Iterator[DockerScope]:
    """What one test makes in Docker, removed by name when it ends."""
    scope = DockerScope(dockerd)
    try:
        yield scope
    finally:
        scope.close()


@pytest.fixture
def pod(podman: Podman, tmp_path: Path) -> Iterator[PodmanScope]:
    """What one test makes in Podman (and pasta), removed by name or pid when it ends."""
    scope = PodmanScope(podman, tmp_path)
    try:
        yield scope
    finally:
        scope.close()
