"""What a replaced file keeps: owner, mode, user.* attributes and its ACL; and what it cannot.

Tried on the test's own filesystem and on a real tmpfs (both hold user.*
attributes and ACLs on this kernel). SELinux is not enabled here, so its
label (``security.selinux``, copied the same way) cannot be tried. A rename
replaces one name: other hard links keep the old content, and the run says
so in one line.
"""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Done, require_tool
from tests.helpers import run as run_hostgw
from tests.mounts import tmpfs
from tests.rewrite_cli import CONF

ENV = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}
ENV.update({k: v for k, v in os.environ.items() if k in ("PYTHONPATH", "HOSTGW_STATE_DIR")})


def hostgw(*args: str) -> Done:
    return run_hostgw(*args, env=ENV)


@pytest.fixture(params=["here", "tmpfs"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    place = tmp_path / "files"
    place.mkdir()
    if request.param == "here":
        yield place
        return
    with tmpfs(place, "4m"):
        yield place


def _decorate(path: Path) -> None:
    path.chmod(0o640)
    os.chown(path, 1234, 5678)
    os.setxattr(path, "user.origin", b"image build 42")
    os.setxattr(path, "user.empty", b"")
    setfacl = require_tool("setfacl")
    subprocess.run([setfacl, "-m", "u:65534:r", str(path)], check=True)


def _facl(path: Path) -> str:
    getfacl = require_tool("getfacl")
    done = subprocess.run([getfacl, "-cpn", str(path)], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("command", ["render", "rewrite"])
def test_owner_mode_attributes_and_acl_are_kept(where: Path, command: str) -> None:
    target = where / "default.conf"
    target.write_text(CONF)
    _decorate(target)
    acl = _facl(target)
    assert "user:65534:r--" in acl
    inode = target.stat().st_ino
    if command == "render":
        template = where.parent / "t"
        template.write_text("listen ${HOSTGW_IP}:80;\n")
        done = hostgw("render", f"{template}:{target}")
    else:
        done = hostgw("rewrite", "-m", "backend:8000=18000", str(target))
    assert done.returncode == 0, done.stderr
    assert target.stat().st_ino != inode  # replaced, not written in place
    assert "10.213.0.1" in target.read_text()
    st = target.stat()
    assert (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid) == (0o640, 1234, 5678)
    assert os.getxattr(target, "user.origin") == b"image build 42"
    assert os.getxattr(target, "user.empty") == b""
    assert _facl(target) == acl


def test_a_hard_link_keeps_the_old_content_and_the_run_says_so(where: Path) -> None:
    target = where / "default.conf"
    target.write_text("old\n")
    other = where / "also.conf"
    os.link(target, other)
    template = where.parent / "t"
    template.write_text("new ${HOSTGW_IP}\n")
    done = hostgw("render", f"{template}:{target}")
    assert done.returncode == 0, done.stderr
    assert target.read_text() == "new 10.213.0.1\n"
    assert other.read_text() == "old\n"
    assert f"{target}: it had 2 hard links; the other names keep the old content" in done.stderr
    assert target.stat().st_nlink == 1
