"""Files where users keep them: bind-mounted files, read-only mounts, a full disk.

Real mounts only: each run happens in a private mount namespace (``unshare
-m``) where the mounts are made, so they vanish with it and never reach the
machine; the tiny tmpfs is mounted here and unmounted by its path.

- A file bind-mounted on its own (``docker run -v ./default.conf:/etc/nginx/
  conf.d/default.conf``) cannot be renamed over (EBUSY): it is written in
  place, after every check (``--validate`` included), with one line saying
  why; the file behind the mount gets the new bytes.
- A read-only target (a ``:ro`` file mount, a read-only directory) is
  refused with the fix for its case, and is left byte-identical.
- A full disk names the filesystem to free.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Done, require_tool
from tests.helpers import run as run_hostgw
from tests.mounts import tmpfs
from tests.rewrite_cli import CONF

ENV = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}
ENV.update({k: v for k, v in os.environ.items() if k == "PYTHONPATH"})
TEMPLATE = "upstream app { server ${HOSTGW_IP}:8080; }\n"
RENDERED = "upstream app { server 10.213.0.1:8080; }\n"
NOTE = "written in place, not atomically: it is a mount point"


def in_namespace(setup: str) -> list[str]:
    """A wrapper running the command after ``setup`` in a private mount namespace."""
    unshare = require_tool("unshare")
    return [
        unshare,
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-ec",
        f'{setup}; exec "$@"',
        "sh",
    ]


def bind(source: Path, target: Path, *, ro: bool = False) -> str:
    """Shell for a bind mount of ``source`` on ``target`` (read-only with ``ro``)."""
    s, t = f"'{source}'", f"'{target}'"
    return f"mount --bind {s} {t}" + (f"; mount -o remount,ro,bind {t}" if ro else "")


def hostgw(*args: str, wrap: list[str], state: Path | None = None) -> Done:
    env = {**ENV, "HOSTGW_STATE_DIR": str(state)} if state else ENV
    return run_hostgw(*args, env=env, wrap=wrap)


@pytest.fixture
def site(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(the user's file, the config directory, the path the file is mounted on)."""
    mine = tmp_path / "host" / "default.conf"
    mine.parent.mkdir()
    conf_d = tmp_path / "etc" / "nginx" / "conf.d"
    conf_d.mkdir(parents=True)
    target = conf_d / "default.conf"
    target.write_text("# the image's own file, under the mount\n")
    return mine, conf_d, target


# -- a file bind-mounted on its own ----------------------------------------------------


def test_render_into_a_bind_mounted_file_writes_in_place(
    tmp_path: Path, site: tuple[Path, Path, Path]
) -> None:
    mine, conf_d, target = site
    mine.write_text("old\n")
    mine.chmod(0o640)
    inode = mine.stat().st_ino
    template = tmp_path / "default.conf.template"
    template.write_text(TEMPLATE)
    done = hostgw("render", f"{template}:{target}", wrap=in_namespace(bind(mine, target)))
    assert done.returncode == 0, done.stderr
    assert mine.read_text() == RENDERED  # through the mount, into the user's file
    assert (mine.stat().st_ino, mine.stat().st_mode & 0o777) == (inode, 0o640)
    assert target.read_text() == "# the image's own file, under the mount\n"
    assert done.stderr.count(NOTE) == 1
    assert f"{target}: {NOTE}" in done.stderr
    assert "a file bind-mounted on its own cannot be replaced by a rename" in done.stderr
    assert sorted(os.listdir(conf_d)) == ["default.conf"]
    # Unchanged bytes: no write, no note.
    again = hostgw("render", f"{template}:{target}", wrap=in_namespace(bind(mine, target)))
    assert again.returncode == 0 and NOTE not in again.stderr


def test_a_shorter_and_a_longer_content_in_place(
    tmp_path: Path, site: tuple[Path, Path, Path]
) -> None:
    mine, _, target = site
    template = tmp_path / "t"
    for text in ("x" * 100_000 + "\n", "short $HOSTGW_IP\n", "y" * 300_000 + "\n"):
        mine.write_text("z" * 5000)
        template.write_text(text)
        done = hostgw("render", f"{template}:{target}", wrap=in_namespace(bind(mine, target)))
        assert done.returncode == 0, done.stderr
        assert mine.read_text() == text.replace("$HOSTGW_IP", "10.213.0.1")


def test_rewrite_a_bind_mounted_file_validated_and_kept(
    tmp_path: Path, site: tuple[Path, Path, Path]
) -> None:
    require_tool("nginx")
    mine, _, target = site
    mine.write_text(CONF)
    state = tmp_path / "state"
    wrap = in_namespace(bind(mine, target))
    args = ("rewrite", "-m", "backend:8000=18000", "--validate", str(target))
    done = hostgw(*args, wrap=wrap, state=state)
    assert done.returncode == 0, done.stderr
    assert "http://10.213.0.1:18000/api/" in mine.read_text()
    assert f"{target}: {NOTE}" in done.stderr
    kept = state / "pristine" / str(target).lstrip("/")
    assert kept.read_text() == CONF  # the original, kept as usual
    # Twice == once, from the kept original.
    again = hostgw(*args, wrap=wrap, state=state)
    assert again.returncode == 0, again.stderr
    assert NOTE not in again.stderr and kept.read_text() == CONF


def test_validate_failing_leaves_the_bind_mounted_file(
    tmp_path: Path, site: tuple[Path, Path, Path]
) -> None:
    require_tool("nginx")
    mine, _, target = site
    # nginx rejects two upstream servers with the same address and weight? No: an
    # unknown directive after the rewrite is the config's own; keep it invalid.
    broken = CONF + "no_such_directive on;\n"
    mine.write_text(broken)
    done = hostgw(
        "rewrite", "-m", "backend:8000=18000", "--validate", str(target),
        wrap=in_namespace(bind(mine, target)), state=tmp_path / "state",
    )  # fmt: skip
    assert done.returncode == 7, done.stderr
    assert mine.read_text() == broken and NOTE not in done.stderr


# -- read-only targets ---------------------------------------------------------------


@pytest.mark.parametrize("command", ["render", "rewrite"])
def test_a_read_only_file_mount_is_refused_with_its_fix(
    tmp_path: Path, site: tuple[Path, Path, Path], command: str
) -> None:
    mine, _, target = site
    mine.write_text(CONF)
    before = mine.read_bytes()
    wrap = in_namespace(bind(mine, target, ro=True))
    if command == "render":
        (tmp_path / "t").write_text(TEMPLATE)
        done = hostgw("render", f"{tmp_path / 't'}:{target}", wrap=wrap)
    else:
        done = hostgw("rewrite", "-m", "backend:8000=18000", str(target), wrap=wrap,
                      state=tmp_path / "state")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"cannot write {target}: read-only file system" in done.stderr
    assert "(it is mounted read-only on its own: a :ro bind mount?)" in done.stderr
    assert "hint: mount its directory rather than the file" in done.stderr
    assert "render to a writable path and point the proxy at it" in done.stderr
    assert "the existing file was left unchanged" in done.stderr
    assert mine.read_bytes() == before
    assert not (tmp_path / "state").exists() or not any((tmp_path / "state").rglob("*.conf"))


def test_a_read_only_directory_is_refused_with_its_fix(tmp_path: Path) -> None:
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    target = conf_d / "default.conf"
    target.write_text("old\n")
    (tmp_path / "t").write_text(TEMPLATE)
    wrap = in_namespace(bind(conf_d, conf_d, ro=True))
    done = hostgw("render", f"{tmp_path / 't'}:{target}", wrap=wrap)
    assert done.returncode == 1, done.stderr
    assert f"cannot write {target}: read-only file system ({conf_d})" in done.stderr
    assert "hint: render to a writable path (e.g. -o /tmp/NAME) and point the proxy at it" in (
        done.stderr
    )
    assert "mount the directory read-write" in done.stderr
    assert target.read_text() == "old\n"


# -- a full disk ---------------------------------------------------------------------


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, unmounted afterwards by its path."""
    with tmpfs(tmp_path / "disk", "64k") as where:
        yield where


@pytest.mark.parametrize("command", ["render", "rewrite"])
def test_a_full_disk_names_the_filesystem_to_free(
    tmp_path: Path, tiny_disk: Path, command: str
) -> None:
    target = tiny_disk / "default.conf"
    target.write_text(CONF)
    if command == "render":
        (tmp_path / "t").write_text("# $HOSTGW_IP " + "x" * 200_000 + "\n")
        done = hostgw("render", f"{tmp_path / 't'}:{target}", wrap=[])
    else:
        target.write_text(CONF + ("# " + "x" * 38 + "\n") * 1000)
        done = hostgw("rewrite", "-m", "backend:8000=18000", str(target), wrap=[],
                      state=tmp_path / "state")  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert f"cannot write {target}: no space left on device" in done.stderr
    assert f"hint: free space on the filesystem of {tiny_disk} (df -h {tiny_disk})" in done.stderr
    assert "backend:8000" in target.read_text()
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["default.conf"]
