"""Inputs and outputs at the edges: a size cap, outputs that are not files, one convention.

- Endless inputs (``/dev/zero``) as a template, a config or stdin end in a
  clear error naming ``HOSTGW_MAX_INPUT``, never a MemoryError; the cap can
  be raised.
- An output that is not a regular file (a FIFO, a device) is refused before
  it is opened: nothing blocks.
- ``-``, ``/dev/stdout`` and ``/dev/stderr`` are streams for ``render`` and
  ``rewrite`` alike.
- A missing directory for an output file is refused, with the fix, by
  every command; directory mode makes its output directory, with a note.
"""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from hostgw.errors import UsageError
from hostgw.fileio import read_input
from hostgw.fileio.reading import DEFAULT_MAX_INPUT, input_limit
from tests.helpers import Done, hostgw_cmd, ok
from tests.rewrite_cli import CONF
from tests.rewrite_cli import run as rewrite

BASE = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}
BASE.update({k: v for k, v in os.environ.items() if k == "PYTHONPATH"})


def hostgw(*args: str, stdin: str | None = None, timeout: float = 30, **env: str) -> Done:
    """The real hostgw with a small known environment and a deadline (nothing may hang)."""
    state = os.environ.get("HOSTGW_STATE_DIR", "")
    return subprocess.run(
        [*hostgw_cmd(), *args],
        env={**BASE, "HOSTGW_STATE_DIR": state, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- the input cap -------------------------------------------------------------------


def test_the_cap_and_its_setting() -> None:
    assert input_limit({}) == DEFAULT_MAX_INPUT == 64 << 20
    assert input_limit({"HOSTGW_MAX_INPUT": "256M"}) == 256 << 20
    assert input_limit({"HOSTGW_MAX_INPUT": "1g"}) == 1 << 30
    assert input_limit({"HOSTGW_MAX_INPUT": "4096"}) == 4096
    assert input_limit({"HOSTGW_MAX_INPUT": "2KiB"}) == 2048
    for bad in ("x", "-1", "0", "1T", "1.5M"):
        with pytest.raises(UsageError, match="HOSTGW_MAX_INPUT"):
            input_limit({"HOSTGW_MAX_INPUT": bad})


def test_read_input_stops_at_the_cap(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * 5000)
    assert read_input(big, limit=5000) == b"x" * 5000
    with pytest.raises(OSError, match="larger than the input limit of 4999 bytes"):
        read_input(big, limit=4999)
    with pytest.raises(OSError, match="HOSTGW_MAX_INPUT"):
        read_input("/dev/zero", limit=1 << 20)


def _from_dev_zero(*args: str) -> Done:
    """``hostgw ARGS`` with /dev/zero as stdin and an 8 MiB cap."""
    with open("/dev/zero", "rb") as zero:
        return subprocess.run(
            [*hostgw_cmd(), *args],
            env={**BASE, "HOSTGW_MAX_INPUT": "8M"},
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )


@pytest.mark.parametrize(
    "how", ["template", "template-stdin", "config", "config-stdin", "directory-mode"]
)
def test_an_endless_input_is_a_clear_error(tmp_path: Path, how: str) -> None:
    out = tmp_path / "out.conf"
    if how == "template":
        done = hostgw("render", "/dev/zero:" + str(out), HOSTGW_MAX_INPUT="8M")
    elif how == "template-stdin":
        done = _from_dev_zero("render", "-o", str(out))
    elif how == "config":
        done = hostgw("rewrite", "-m", "a=1", "--format", "nginx", "-o", str(out), "/dev/zero")
    elif how == "config-stdin":
        done = _from_dev_zero("rewrite", "-m", "a=1", "--format", "nginx")
    else:
        templates = tmp_path / "t"
        templates.mkdir()
        (templates / "a.conf.template").write_bytes(b"#" * (9 << 20))
        args = ("--templates", str(templates), "-o", str(tmp_path / "o"))
        done = hostgw("render", *args, HOSTGW_MAX_INPUT="8M")
    assert done.returncode in (5, 6), done.stderr
    assert "larger than the input limit" in done.stderr
    assert "HOSTGW_MAX_INPUT" in done.stderr
    assert "MemoryError" not in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_the_cap_can_be_raised(tmp_path: Path) -> None:
    template = tmp_path / "big.template"
    template.write_text("# " + "x" * (3 << 20) + "\nlisten $HOSTGW_IP;\n")
    out = tmp_path / "big.conf"
    done = hostgw("render", f"{template}:{out}", HOSTGW_MAX_INPUT="1M")
    assert done.returncode == 5 and "input limit of 1 MiB" in done.stderr
    ok(hostgw("render", f"{template}:{out}", HOSTGW_MAX_INPUT="4M"))
    assert out.read_text().endswith("listen 10.213.0.1;\n")


# -- outputs that are not files ------------------------------------------------------


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("command", ["render", "rewrite"])
def test_an_output_that_is_not_a_file_is_refused_unopened(
    tmp_path: Path, kind: str, command: str
) -> None:
    if kind == "fifo":
        target = tmp_path / "fifo"
        os.mkfifo(target)
        what = "a FIFO (named pipe)"
    else:
        target = Path("/dev/null")
        what = "a character device"
    conf = tmp_path / "default.conf"
    conf.write_text(CONF)
    if command == "render":
        done = hostgw("render", "-o", str(target), stdin="listen $HOSTGW_IP;\n", timeout=20)
    else:
        done = hostgw("rewrite", "-m", "backend=1", "-o", str(target), str(conf), timeout=20)
    assert done.returncode == 1, done.stderr
    assert f"refusing to write {target}: it is {what}, not a regular file" in done.stderr
    assert "--check" in done.stderr  # the hint: how to render without writing
    assert conf.read_text() == CONF


# -- one convention for streams ------------------------------------------------------


@pytest.mark.parametrize("where", ["-", "/dev/stdout", "/dev/stderr"])
def test_streams_for_render_and_rewrite(tmp_path: Path, where: str) -> None:
    conf = tmp_path / "default.conf"
    conf.write_text(CONF)
    rendered = hostgw("render", "-o", where, stdin="listen $HOSTGW_IP;\n")
    rewritten = rewrite("-m", "backend:8000=18000", "-o", where, str(conf))
    for done, needle in ((rendered, "listen 10.213.0.1;\n"), (rewritten, "10.213.0.1:18000")):
        assert done.returncode == 0, done.stderr
        stream = done.stderr if where == "/dev/stderr" else done.stdout
        assert needle in stream
        assert "/proc/" not in done.stderr and "pipe:" not in done.stderr
    assert conf.read_text() == CONF  # -o leaves the source alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["default.conf"]  # no file "-"


def test_dev_stdout_redirected_to_a_file_writes_that_file(tmp_path: Path) -> None:
    out = tmp_path / "redirected"
    with out.open("wb") as handle:
        done = subprocess.run(
            [*hostgw_cmd(), "render", "-o", "/dev/stdout"],
            env=BASE,
            input=b"listen $HOSTGW_IP;\n",
            stdout=handle,
            stderr=subprocess.PIPE,
            timeout=30,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == b"listen 10.213.0.1;\n"


# -- a missing output directory, the same everywhere ---------------------------------


@pytest.mark.parametrize("command", ["render-o", "render-pair", "rewrite-o"])
def test_a_missing_directory_for_an_output_file_is_refused(tmp_path: Path, command: str) -> None:
    conf = tmp_path / "default.conf"
    conf.write_text(CONF)
    template = tmp_path / "a.template"
    template.write_text("listen $HOSTGW_IP;\n")
    missing = tmp_path / "nowhere" / "deeper"
    out = missing / "out.conf"
    if command == "render-o":
        done = hostgw("render", str(template), "-o", str(out))
    elif command == "render-pair":
        done = hostgw("render", f"{template}:{out}")
    else:
        done = rewrite("-m", "backend=1", "-o", str(out), str(conf))
    assert done.returncode == 1, done.stderr
    assert f"cannot write {out}: directory {missing} does not exist" in done.stderr
    assert f"hint: create it first (mkdir -p {missing})" in done.stderr
    assert not (tmp_path / "nowhere").exists()


def test_directory_mode_makes_its_output_directory_with_a_note(tmp_path: Path) -> None:
    templates = tmp_path / "t"
    (templates / "sub").mkdir(parents=True)
    (templates / "sub" / "a.conf.template").write_text("listen $HOSTGW_IP;\n")
    out = tmp_path / "made" / "conf.d"
    done = ok(hostgw("render", "--templates", str(templates), "-o", str(out)))
    assert f"made the output directory {out} (it did not exist)" in done.stderr
    assert (out / "sub" / "a.conf").read_text() == "listen 10.213.0.1;\n"
    again = ok(hostgw("render", "--templates", str(templates), "-o", str(out)))
    assert "made the output directory" not in again.stderr


# -- every cause has its hint ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "what", "mounted", "message", "hint"),
    [
        (errno.ENOSPC, "data", False, "no space left on device", "free space on the filesystem"),
        (errno.EDQUOT, "data", False, "disk quota exceeded", "free space on the filesystem"),
        (errno.EFBIG, "data", False, "file too large", "ulimit -f"),
        (errno.EROFS, "dir", False, "read-only file system (/d)", "mount the directory read-write"),
        (errno.EROFS, "file", True, "mounted read-only on its own", "mount its directory rather"),
        (errno.EACCES, "owner", False, "it belongs to uid 7 (gid 8)", "run as root or as uid 7"),
        (errno.EACCES, "file", True, "may not write the file (it belongs to uid 7)", "writable"),
        (errno.EACCES, "dir", False, "permission denied in /d", "needs write access there"),
        (errno.EBUSY, "dir", False, "device or resource busy (a mount point?)", "mount its dir"),
        (errno.ENOENT, "dir", False, "directory /d does not exist", "mkdir -p /d"),
        (errno.ENOTDIR, "dir", False, "/d is not a directory", "fix the path"),
    ],
)
def test_each_cause_has_its_hint(
    code: int, what: str, mounted: bool, message: str, hint: str
) -> None:
    from hostgw.fileio.writing import _fail

    st = os.stat_result((0o100644, 1, 1, 1, 7, 8, 0, 0, 0, 0))
    found = _fail(
        OSError(code, os.strerror(code)), Path("/d/f"), Path("/d"), what, mounted=mounted, st=st
    )
    assert found.message.startswith("cannot write /d/f: ") and message in found.message
    assert found.hint is not None and hint in found.hint
    assert found.errno == code and found.exit_code == 1
