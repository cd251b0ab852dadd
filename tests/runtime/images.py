"""What goes into the containers: a base image without a registry, and hostgw offline.

The base is ``debootstrap --variant=minbase`` of Debian bookworm with the
packages below, tarred and cached under ``/var/cache/hostgw-tests`` (or
``HOSTGW_TEST_CACHE``) by a key of the suite, mirror and package list, so a
second run on the same machine skips the ~1-2 minutes it takes. hostgw goes
in as a wheel built from the checkout (``HOSTGW_RUNTIME_SOURCE`` names another
tree), with the click and setuptools wheels that ``scripts/test``
downloads into the cache's ``wheels/``; ``pip install --no-index`` then needs
no package index.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.netns import sh

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("HOSTGW_TEST_CACHE", "/var/cache/hostgw-tests"))
WHEELS = CACHE / "wheels"
SUITE = "bookworm"
PACKAGES = (
    "python3,python3-venv,python3-pip,nginx-light,curl,iproute2,busybox,dash,procps,gettext-base"
)
# Bumped when the steps after debootstrap change what the tarball holds.
RECIPE = "2"
NEEDED_WHEELS = ("click", "setuptools")


def mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line sources)."""
    if os.environ.get("HOSTGW_DEBIAN_MIRROR"):
        return os.environ["HOSTGW_DEBIAN_MIRROR"]
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for match in re.finditer(r"^URIs:\s*(\S+)|^deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            uri = match.group(1) or match.group(2)
            if "security" not in uri:
                return uri
    return "http://deb.debian.org/debian"


def base_tarball() -> Path:
    """The cached rootfs tarball, built by debootstrap on first use."""
    source = mirror()
    key = hashlib.sha256(f"{SUITE}\n{source}\n{PACKAGES}\n{RECIPE}".encode()).hexdigest()[:16]
    tarball = CACHE / f"base-{SUITE}-{key}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tarball.exists():
            return tarball
        with tempfile.TemporaryDirectory(dir=CACHE, prefix="debootstrap-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            sh(
                "debootstrap",
                "--variant=minbase",
                f"--include={PACKAGES}",
                SUITE,
                str(rootfs),
                source,
                timeout=900,
            )
            _trim(rootfs)
            partial = tarball.with_suffix(".partial")
            sh("tar", "-C", str(rootfs), "-cf", str(partial), ".", timeout=300)
            partial.rename(tarball)
    return tarball


def _trim(rootfs: Path) -> None:
    """Drop what no test reads (package caches, docs), and point DNS at nothing."""
    for sub in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man"):
        for entry in (rootfs / sub).glob("*"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.name != "lock":
                entry.unlink()
    (rootfs / "etc/resolv.conf").write_text("nameserver 127.0.0.1\n")
    # The official nginx images ship no default site; Debian's would take port 80.
    (rootfs / "etc/nginx/sites-enabled/default").unlink(missing_ok=True)


def dependency_wheels() -> list[Path]:
    """The downloaded wheels of hostgw's dependencies (and setuptools, to build it)."""
    found = []
    missing = []
    for name in NEEDED_WHEELS:
        matches = sorted(WHEELS.glob(f"{name}-*.whl"))
        if matches:
            found.append(matches[-1])
        else:
            missing.append(name)
    if missing:
        raise LookupError(
            f"no {', '.join(missing)} wheel in {WHEELS}: scripts/test downloads them "
            f"(pip download -d {WHEELS} {' '.join(NEEDED_WHEELS)})"
        )
    return found


def source_tree() -> Path:
    """The tree hostgw's wheel is built from: the checkout, or HOSTGW_RUNTIME_SOURCE."""
    return Path(os.environ.get("HOSTGW_RUNTIME_SOURCE", ROOT))


def wheelhouse(dest: Path) -> Path:
    """``dest`` filled with hostgw's wheel, built from the checkout, and its dependencies'.

    The build runs on a copy of the tree, so the checkout gets no build/ or
    egg-info; setuptools comes from the same folder (``--no-index``).
    """
    deps = dependency_wheels()
    dest.mkdir(parents=True, exist_ok=True)
    for wheel in deps:
        shutil.copy2(wheel, dest / wheel.name)
    with tempfile.TemporaryDirectory(prefix="hostgw-src-") as tmp:
        src = Path(tmp)
        tree = source_tree()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(tree / name, src / name)
        shutil.copytree(
            tree / "hostgw", src / "hostgw", ignore=shutil.ignore_patterns("__pycache__")
        )
        sh(
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-index",
            "--find-links",
            str(dest),
            "-w",
            str(dest),
            str(src),
            timeout=300,
        )
    assert list(dest.glob("hostgw-*.whl")), f"no hostgw wheel in {dest}"
    return dest


# Makes the client image: hostgw in a venv, on PATH, from the mounted wheels.
INSTALL = (
    "python3 -m venv /opt/hostgw"
    " && /opt/hostgw/bin/pip install -q --no-index --find-links /wheels hostgw"
    " && ln -s /opt/hostgw/bin/hostgw /usr/local/bin/hostgw"
    " && hostgw --version"
)

BASE = "localhost/hostgw-test/base"
CLIENT = "localhost/hostgw-test/client"


def make_images(
    cli: Callable[..., subprocess.CompletedProcess[str]], tarball: Path, wheels: Path
) -> None:
    """Import the base tarball as BASE, and commit BASE plus hostgw as CLIENT.

    ``cli`` is the runtime's CLI (docker or podman: the same verbs and flags).
    """
    cli("import", str(tarball), BASE, timeout=300)
    maker = "hgw-image-maker"
    cli("rm", "-f", maker, check=False)
    try:
        cli("run", "--name", maker, "-v", f"{wheels}:/wheels:ro", BASE, "sh", "-c", INSTALL)
        cli("commit", "--change", 'CMD ["sleep", "infinity"]', maker, CLIENT)
    finally:
        cli("rm", "-f", maker, check=False)
