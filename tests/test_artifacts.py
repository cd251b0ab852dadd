"""The artifacts a Dockerfile can use without a package index, each run where it will be.

- The wheel, built from a copy of the checkout with pip (setuptools from the
  wheels ``scripts/test`` keeps: no index), installed into a fresh venv
  with only its dependencies' wheels, run from that venv's ``bin/``.
- The zipapp (``scripts/build_zipapp.py``), run under Debian's
  ``/usr/bin/python3 -S``: no venv, no site-packages, so click must come
  from inside the file.

Both run the same commands: ``--version``, ``ip --root SNAPSHOT``, a render
and ``snippet sh``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.helpers import make_root, r4

ROOT = Path(__file__).resolve().parent.parent
WHEELS = Path(os.environ.get("HOSTGW_TEST_CACHE", "/var/cache/hostgw-tests")) / "wheels"
SYSTEM_PYTHON = "/usr/bin/python3"
TEMPLATE = (
    "location / { proxy_pass http://${HOSTGW_HOST}:${PORT:-8000}; proxy_set_header Host $host; }\n"
)
RENDERED = "location / { proxy_pass http://10.213.9.1:8000; proxy_set_header Host $host; }\n"


def version() -> str:
    import re

    found = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert found
    return found.group(1)


def check(argv: Sequence[str], tmp: Path) -> None:
    """The same four commands, through ``argv`` (a console script or python + archive)."""
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(tmp)}

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*argv, *args],
            env={**clean, **env},
            input=TEMPLATE if args[0] == "render" else None,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = run("--version")
    assert (done.returncode, done.stdout) == (0, f"hostgw {version()}\n"), done.stderr
    root = make_root(tmp / "snapshot", route=r4("10.213.9.1"))
    done = run("ip", "--root", root)
    assert (done.returncode, done.stdout) == (0, "10.213.9.1\n"), done.stderr
    done = run("render", HOSTGW_IP="10.213.9.1")
    assert (done.returncode, done.stdout) == (0, RENDERED), done.stderr
    done = run("snippet", "sh")
    assert done.returncode == 0 and done.stdout.startswith("#!/bin/sh\n# hostgw-snippet-sh")
    done = run("ip", "--root", make_root(tmp / "empty"))
    assert done.returncode == 3 and "HOSTGW_IP=" in done.stderr


def test_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    if not list(WHEELS.glob("setuptools-*.whl")) or not list(WHEELS.glob("click-*.whl")):
        pytest.skip(f"needs the wheels scripts/test downloads into {WHEELS}")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "hostgw", src / "hostgw", ignore=shutil.ignore_patterns("__pycache__"))
    offline = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELS)}
    offline["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
        env=offline,
        check=True,
        timeout=300,
    )
    (wheel,) = dist.glob("hostgw-*-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for inside in ("hostgw/py.typed", "hostgw/runtime/snippet.sh", "hostgw/runtime/nginx_step.sh"):
        assert inside in names, f"{wheel.name} lacks {inside}"
    assert not [n for n in names if n.startswith("tests/")]
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    scripts = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "hostgw = hostgw.__main__:start" in scripts, "the start-up that pauses the GC"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin/pip"), "install", "-q", str(wheel)], env=offline, check=True, timeout=300
    )
    check([str(venv / "bin/hostgw")], tmp_path)
    where = subprocess.run(
        [str(venv / "bin/python"), "-c", "import hostgw; print(hostgw.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert where.startswith(str(venv)), "the venv's own copy, not the checkout"


def test_zipapp_under_the_system_python(tmp_path: Path) -> None:
    if not Path(SYSTEM_PYTHON).exists():
        pytest.skip(f"needs {SYSTEM_PYTHON}")
    archive = tmp_path / "hostgw.pyz"
    args = [sys.executable, str(ROOT / "scripts/build_zipapp.py"), "-o", str(archive)]
    subprocess.run(args, check=True, timeout=120)
    assert os.access(archive, os.X_OK)
    names = zipfile.ZipFile(archive).namelist()
    assert "__main__.py" in names and "click/__init__.py" in names
    assert "start()" in zipfile.ZipFile(archive).read("__main__.py").decode()
    assert not any(n.startswith("pyroute2/") for n in names)
    assert "hostgw/runtime/snippet.sh" in names
    bare = subprocess.run(
        [SYSTEM_PYTHON, "-S", "-c", "import click"], capture_output=True, check=False
    )
    assert bare.returncode != 0, "click must not come from the system python's own paths"
    check([SYSTEM_PYTHON, "-S", str(archive)], tmp_path)
