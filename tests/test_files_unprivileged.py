"""hostgw as a real non-root user (uid 65534, by ``setpriv``), after root has been there.

- A state directory an earlier root run left (0700, root's) cannot be read:
  a rewrite falls back to the copy beside the file, as for one it cannot
  write, and the warning says whose the directory is.
- Each failure to write has the hint of its cause: a root-owned file in a
  writable directory (the owner cannot be kept), a directory this user may
  not write, a bind-mounted file this user may not write.

The files live in a directory made for the test under /tmp, removed at the end.
hostgw runs on this interpreter where uid 65534 can run it; a pyenv Python
under /root (0700) it cannot load, and then the system ``python3`` runs the
checkout (``-m hostgw``, with Debian's click).
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.helpers import Done, hostgw_cmd, require_tool
from tests.rewrite_cli import CONF

NOBODY = 65534
ENV = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}
ENV.update({k: v for k, v in os.environ.items() if k == "PYTHONPATH"})
MAP = "backend:8000=18000"
TEMPLATE = "listen ${HOSTGW_IP}:80;\n"


def as_nobody() -> list[str]:
    setpriv = require_tool("setpriv")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


REPO = Path(__file__).resolve().parent.parent


@functools.cache
def _command() -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The hostgw command uid 65534 can run, and the environment it needs."""
    candidates = [
        (tuple(hostgw_cmd()), ()),
        (("/usr/bin/python3", "-m", "hostgw"), (("PYTHONPATH", str(REPO)),)),
    ]
    for argv, extra in candidates:
        probe = subprocess.run(
            [*as_nobody(), *argv, "--version"],
            env={**ENV, **dict(extra)}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0:
            return argv, extra
    raise AssertionError("no Python that uid 65534 can run hostgw with (python3-click?)")


def hostgw(*args: str, wrap: Sequence[str] | None = None, **env: str) -> Done:
    """``hostgw ARGS`` as uid 65534 (or under ``wrap``, which ends with :func:`as_nobody`)."""
    argv, extra = _command()
    done = subprocess.run(
        [*(as_nobody() if wrap is None else wrap), *argv, *args],
        env={**ENV, **dict(extra), **env}, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    print(f"$ hostgw {' '.join(args)}\nexit {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture
def base() -> Iterator[Path]:
    """A directory under /tmp that uid 65534 can reach (pytest's own is root's, 0700)."""
    made = Path(tempfile.mkdtemp(prefix="hostgw-files-", dir="/tmp"))
    made.chmod(0o755)
    try:
        yield made
    finally:
        shutil.rmtree(made)


def _mine(path: Path, mode: int) -> Path:
    os.chown(path, NOBODY, NOBODY)
    path.chmod(mode)
    return path


def beside(path: Path) -> Path:
    return path.with_name(f".{path.name}.hostgw-orig")


# -- a state directory root left ------------------------------------------------------


@pytest.mark.parametrize("root_kept_this_file", [True, False], ids=["its-copy", "another"])
def test_a_root_owned_state_dir_falls_back_beside(base: Path, root_kept_this_file: bool) -> None:
    conf_d = base / "conf.d"
    conf_d.mkdir()
    _mine(conf_d, 0o755)
    conf = conf_d / "default.conf"
    conf.write_text(CONF)
    state = base / "state"
    # An earlier root run keeps an original there (0700 directories, root's).
    other = base / "other.conf"
    other.write_text(CONF)
    first = conf if root_kept_this_file else other
    done = hostgw("rewrite", "-m", MAP, str(first), wrap=[], HOSTGW_STATE_DIR=str(state))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(state.stat().st_mode) == 0o700 and state.stat().st_uid == 0
    if root_kept_this_file:  # root rewrote it; it is handed to the user as it is
        conf.write_text(CONF)
    _mine(conf, 0o644)
    done = hostgw(
        "rewrite", "-m", MAP, str(conf), HOSTGW_IP="10.213.0.2", HOSTGW_STATE_DIR=str(state)
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "http://10.213.0.2:18000/api/" in conf.read_text()
    assert beside(conf).read_text() == CONF
    assert f"the state directory {state} cannot be read by this user" in done.stderr
    assert f"{state} belongs to uid 0, mode 0700; this is uid {NOBODY}" in done.stderr
    assert "original kept beside it as .default.conf.hostgw-orig" in done.stderr
    st = conf.stat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (NOBODY, 0o644)
    # And again, from the copy beside: twice == once.
    again = hostgw(
        "rewrite", "-m", MAP, str(conf), HOSTGW_IP="10.213.0.2", HOSTGW_STATE_DIR=str(state)
    )
    assert again.returncode == 0, again.stderr
    assert "changed since" not in again.stderr
    assert beside(conf).read_text() == CONF


def test_apache_refuses_and_names_the_owner(base: Path) -> None:
    site = base / "site.conf"
    site.write_text("<VirtualHost *:80>\n    ProxyPass / http://backend:8000/\n</VirtualHost>\n")
    state = base / "state"
    state.mkdir(mode=0o700)  # root's
    _mine(site, 0o644)
    base.chmod(0o777)
    try:
        done = hostgw("rewrite", "-m", MAP, str(site), HOSTGW_STATE_DIR=str(state))
    finally:
        base.chmod(0o755)
    assert done.returncode == 2, done.stderr
    assert "httpd may load a copy kept beside it" in done.stderr
    assert f"{state} belongs to uid 0, mode 0700; this is uid {NOBODY}" in done.stderr
    assert "http://backend:8000/" in site.read_text()


# -- hints by cause --------------------------------------------------------------------


def test_a_root_owned_file_in_a_writable_directory(base: Path) -> None:
    conf_d = base / "conf.d"
    conf_d.mkdir()
    _mine(conf_d, 0o755)
    target = conf_d / "default.conf"
    target.write_text("old\n")  # root's, 0644
    template = base / "t"
    template.write_text(TEMPLATE)
    done = hostgw("render", f"{template}:{target}")
    assert done.returncode == 1, done.stderr
    assert (
        f"cannot write {target}: it belongs to uid 0 (gid 0), and this user (uid {NOBODY}) "
        "cannot give the new file that owner" in done.stderr
    )
    assert f"hint: run as root or as uid 0, or chown the file to uid {NOBODY} first" in done.stderr
    assert target.read_text() == "old\n" and target.stat().st_uid == 0
    assert sorted(os.listdir(conf_d)) == ["default.conf"]
    assert not [n for n in os.listdir(base) if n.startswith(".hostgw-tmp-")]


def test_a_directory_this_user_may_not_write(base: Path) -> None:
    conf_d = base / "conf.d"
    conf_d.mkdir()  # root's, 0755
    (conf_d / "default.conf").touch()
    target = _mine(conf_d / "default.conf", 0o644)
    template = base / "t"
    template.write_text(TEMPLATE)
    done = hostgw("render", f"{template}:{target}")
    assert done.returncode == 1, done.stderr
    assert f"cannot write {target}: permission denied in {conf_d} (uid {NOBODY})" in done.stderr
    assert f"the new file is made in {conf_d} and renamed over the old one" in done.stderr
    assert "write to a writable path with -o" in done.stderr
    assert target.read_text() == ""


def test_a_bind_mounted_file_this_user_may_not_write(base: Path) -> None:
    mine = base / "host.conf"
    mine.write_text("old\n")  # root's, 0644
    conf_d = base / "conf.d"
    conf_d.mkdir()
    _mine(conf_d, 0o755)
    target = conf_d / "default.conf"
    target.write_text("")
    template = base / "t"
    template.write_text(TEMPLATE)
    unshare = require_tool("unshare")
    wrap = [
        unshare, "--mount", "--propagation", "private", "sh", "-ec",
        f"mount --bind '{mine}' '{target}'; exec \"$@\"", "sh", *as_nobody(),
    ]  # fmt: skip
    done = hostgw("render", f"{template}:{target}", wrap=wrap)
    assert done.returncode == 1, done.stderr
    assert (
        f"cannot write {target}: permission denied: this user (uid {NOBODY}) may not write "
        "the file (it belongs to uid 0)" in done.stderr
    )
    assert "hint: run as its owner or root, or make the file writable" in done.stderr
    assert mine.read_text() == "old\n"
