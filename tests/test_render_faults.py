"""Faults while writing: a full disk, a file size limit, a read-only filesystem.

Each leaves the old file byte-identical, no temp file behind, and a clear
error. The disk is a real tiny tmpfs and the read-only filesystem a real
read-only bind mount (root ignores mode bits), both unmounted at the end.
"""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import hostgw_cmd

OLD = b"# the old config, which must survive\nlisten 80;\n"


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        if os.environ.get("HOSTGW_NO_SKIP") == "1":
            raise AssertionError(f"mount {' '.join(args)}: {done.stderr}")
        pytest.skip(f"cannot mount here: {done.stderr.strip()}")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs, unmounted afterwards."""
    where = tmp_path / "disk"
    where.mkdir()
    _mount("-t", "tmpfs", "-o", "size=64k,mode=0755", "hostgw-test", str(where))
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(writable dir, the same dir bind-mounted read-only), unmounted afterwards."""
    rw, ro = tmp_path / "rw", tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    _mount("--bind", str(rw), str(ro))
    try:
        _mount("-o", "remount,bind,ro", str(ro))
        yield rw, ro
    finally:
        subprocess.run(["umount", str(ro)], check=False)


def _render(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # pragma: no cover - runs in the child
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        [*hostgw_cmd(), "render", *args],
        env={
            "PATH": os.environ["PATH"],
            "HOSTGW_IP": "10.213.0.1",
            "HOSTGW_STRATEGIES": "env",
            "BIG": "x" * 1000,
        },
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=60,
        check=False,
    )


def _big_template(tmp_path: Path) -> Path:
    template = tmp_path / "big.template"
    template.write_text("proxy_pass http://${HOSTGW_IP}:80; # $BIG\n" * 200)  # ~200 KB out
    return template


def _no_temp_files(directory: Path) -> None:
    assert not [p.name for p in directory.iterdir() if "hostgw-tmp" in p.name]


def test_full_disk_leaves_the_old_file(tmp_path: Path, tiny_disk: Path) -> None:
    target = tiny_disk / "default.conf"
    target.write_bytes(OLD)
    done = _render(f"{_big_template(tmp_path)}:{target}")
    assert done.returncode == 1, done.stderr
    assert f"cannot write {target}: no space left on device" in done.stderr
    assert "the existing file was left unchanged" in done.stderr
    assert "Traceback" not in done.stderr
    assert target.read_bytes() == OLD
    _no_temp_files(tiny_disk)


def test_full_disk_in_directory_mode_writes_none_of_the_files(
    tmp_path: Path, tiny_disk: Path
) -> None:
    templates = tmp_path / "t"
    templates.mkdir()
    (templates / "a.conf.template").write_text("small $HOSTGW_IP\n")
    (templates / "b.conf.template").write_text(_big_template(tmp_path).read_text())
    (tiny_disk / "a.conf").write_bytes(OLD)
    done = _render("--templates", str(templates), "--output", str(tiny_disk))
    assert done.returncode == 1, done.stderr
    assert "no space left on device" in done.stderr
    assert (tiny_disk / "a.conf").read_bytes() == OLD  # staged first, but never renamed
    assert not (tiny_disk / "b.conf").exists()
    _no_temp_files(tiny_disk)


def test_file_size_limit_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "default.conf"
    target.write_bytes(OLD)
    done = _render(f"{_big_template(tmp_path)}:{target}", fsize=64 * 1024)
    assert done.returncode == 1, done.stderr
    assert "file too large" in done.stderr
    assert target.read_bytes() == OLD
    _no_temp_files(tmp_path)


def test_read_only_filesystem_leaves_the_old_file(
    tmp_path: Path, read_only: tuple[Path, Path]
) -> None:
    rw, ro = read_only
    (rw / "default.conf").write_bytes(OLD)
    template = tmp_path / "a.template"
    template.write_text("listen 81; # $HOSTGW_IP\n")
    done = _render(f"{template}:{ro / 'default.conf'}")
    assert done.returncode == 1, done.stderr
    assert "read-only file system" in done.stderr
    assert (rw / "default.conf").read_bytes() == OLD
    _no_temp_files(rw)
    # Nothing to change is no write at all, so it succeeds even there.
    template.write_bytes(OLD)
    assert _render(f"{template}:{ro / 'default.conf'}").returncode == 0
