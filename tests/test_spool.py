"""A stream's output is held back in a spool: in memory, then in an unnamed temp file.

The promises: every byte comes back in order, whatever happens to the temp
file (none can be made, the disk fills); past the limit the bytes leave
memory; nothing is left in the temp directory, not even after ``kill -9``;
and ``hostgw render`` to stdout holds a large output on disk, not beside
its template in memory, writing nothing when a template fails late.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostgw.fileio import Spool
from tests.helpers import hostgw_cmd, open_files
from tests.mounts import tmpfs
from tests.test_render_streamed import ENV, launched, rendered, template_of

HOSTGW = hostgw_cmd()


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@settings(max_examples=200, deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=300), max_size=40),
    limit=st.integers(min_value=0, max_value=2000),
)
def test_every_byte_comes_back_in_order(
    tmp_path_factory: pytest.TempPathFactory, chunks: list[bytes], limit: int
) -> None:
    where = tmp_path_factory.mktemp("spool")
    before = _open_fds()
    with Spool(limit, str(where), keep_free=0) as spool:
        for chunk in chunks:
            spool.write(chunk)
        whole = b"".join(chunks)
        assert spool.size == len(whole)
        assert b"".join(spool) == whole
        assert b"".join(spool) == whole  # given out again, the same
        # Past the limit nothing stays in memory; below it nothing has left.
        spilled = len(whole) > limit
        assert spool.in_memory == (0 if spilled else len(whole))
        assert len(_open_fds() - before) == spilled  # one temp file, once spilled
        assert os.listdir(where) == []  # unnamed: nothing to see, nothing to leave
    assert _open_fds() == before  # closing closed the temp file
    assert list(spool) == []


def test_large_reads_come_back_in_pieces(tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    with Spool(1 << 20, str(tmp_path), keep_free=0) as spool:
        for i in range(0, len(data), 100_000):
            spool.write(data[i : i + 100_000])
        pieces = list(spool)
    assert b"".join(pieces) == data
    assert max(map(len, pieces)) <= 1 << 20  # read back a MiB at a time, never whole


def test_no_temp_directory_keeps_the_bytes_in_memory(tmp_path: Path) -> None:
    with Spool(10, str(tmp_path / "missing")) as spool:
        for _ in range(100):
            spool.write(b"0123456789")
        assert spool.in_memory == spool.size == 1000
        assert b"".join(spool) == b"0123456789" * 100


def test_a_spool_leaves_room_on_the_temp_disk(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    before = _open_fds()
    with Spool(10, str(tmp_path), keep_free=free) as spool:  # no room to spare
        spool.write(b"x" * 100)
        assert spool.in_memory == 100
        assert _open_fds() == before


@pytest.mark.netns  # needs root: mounts a tmpfs
@pytest.mark.parametrize(
    ("limit", "keep_free", "total"),
    [
        (16_000, 0, 1 << 20),  # spilled, then the 64 KiB disk fills
        (200_000, 0, 1 << 20),  # the spill itself does not fit
        (1_000, 40_000, 50_000),  # would fit, but leaves less than 40 KiB free
    ],
    ids=["fills-later", "spill-fails", "keeps-room"],
)
def test_a_full_temp_disk_brings_the_bytes_back_to_memory(
    tmp_path: Path, limit: int, keep_free: int, total: int
) -> None:
    data = os.urandom(total)
    before = _open_fds()
    with tmpfs(tmp_path / "disk", "64k") as disk:
        with Spool(limit, str(disk), keep_free=keep_free) as spool:
            for i in range(0, len(data), 10_000):
                spool.write(data[i : i + 10_000])
            assert spool.in_memory == spool.size == len(data)
            assert _open_fds() == before  # the temp file is closed, and its space free
            assert shutil.disk_usage(disk).used == 0
            assert b"".join(spool) == data
        assert os.listdir(disk) == []


def test_an_interrupted_spill_closes_its_temp_file(tmp_path: Path) -> None:
    class Interrupt(BaseException):
        pass

    def interrupt(_fd: int) -> os.statvfs_result:
        raise Interrupt

    before = _open_fds()
    spool = Spool(10, str(tmp_path), keep_free=0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fstatvfs", interrupt)  # the first step once the file is open
        with pytest.raises(Interrupt):
            spool.write(b"x" * 100)
    assert _open_fds() == before
    assert b"".join(spool) == b"x" * 100  # still held


# -- hostgw render to stdout -------------------------------------------------------------


def _render_to_stdout(template: Path, spool_dir: Path) -> tuple[bytes, int]:
    """What ``hostgw render`` of ``template`` writes to stdout, and its peak RSS in KiB."""
    out = launched([], template, {"TMPDIR": str(spool_dir)})
    rendered_out, _, peak = out[:-1].rpartition(b"\n")  # the peak comes last, on its own line
    return rendered_out + b"\n", int(peak)


def test_a_large_stdout_output_is_held_on_disk(tmp_path: Path) -> None:
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    large = template_of(tmp_path, 60)
    out, peak = _render_to_stdout(large, spool_dir)
    assert out == rendered(large)
    assert os.listdir(spool_dir) == []
    _, small = _render_to_stdout(template_of(tmp_path, 4), spool_dir)
    grown = (peak - small) * 1024
    # 56 MB more input. Held in memory, the output adds as much again (112 MB);
    # spooled, at most 16 MiB of it is in memory at once (and a few chunks).
    assert grown < 81_000_000, f"peak grew by {grown / 1e6:.1f} MB"


def test_a_late_error_writes_nothing_to_stdout(tmp_path: Path) -> None:
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    template = template_of(tmp_path, 30, tail=b"listen ${MISSING_PORT};\n")
    with template.open("rb") as stdin:
        done = subprocess.run(
            [*HOSTGW, "render", "--strict", "-"],
            env={**ENV, "TMPDIR": str(spool_dir)},
            stdin=stdin,
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 5, done.stderr
    assert done.stdout == b""
    assert b"MISSING_PORT" in done.stderr
    assert os.listdir(spool_dir) == []


class _Blocked:
    """``hostgw render`` of a template to a pipe nobody reads yet: once rendered, the run
    blocks writing its output, with its spool (if any) open."""

    def __init__(self, template: Path, env: dict[str, str], cwd: Path) -> None:
        self.read_end, write_end = os.pipe()
        with template.open("rb") as stdin:
            self.proc = subprocess.Popen(
                [*HOSTGW, "render", "-q", "-"],
                env={**ENV, **env},
                stdin=stdin,
                stdout=write_end,
                stderr=subprocess.DEVNULL,
                cwd=cwd,
            )
        os.close(write_end)

    def wait_until(self, ready: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 60
        while not ready():
            assert self.proc.poll() is None, "the run ended before it was seen"
            assert time.monotonic() < deadline, "the run was never seen ready"
            time.sleep(0.01)

    def blocked_writing(self) -> bool:
        """Whether the run is blocked writing to the full pipe (its output is rendered)."""
        wchan = Path(f"/proc/{self.proc.pid}/wchan").read_text()
        return "pipe_write" in wchan or "wait_woken" in wchan

    def drain(self) -> bytes:
        with os.fdopen(self.read_end, "rb") as pipe:
            self.read_end = -1
            out = pipe.read()
        assert self.proc.wait(timeout=60) == 0
        return out

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        if self.read_end >= 0:
            os.close(self.read_end)


@pytest.mark.parametrize("megabytes", [0, 20], ids=["held", "spooled"])
def test_a_later_template_that_fails_keeps_stdout_empty(tmp_path: Path, megabytes: int) -> None:
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    first = template_of(tmp_path, megabytes, tail=b"first ${HOSTGW_IP};\n")
    bad = tmp_path / "bad.template"
    bad.write_bytes(b"listen ${MISSING_PORT};\n")
    done = subprocess.run(
        [*HOSTGW, "render", "--strict", f"{first}:-", f"{bad}:-", f"{first}:/dev/stderr"],
        env={**ENV, "TMPDIR": str(spool_dir)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 5, done.stderr
    assert done.stdout == b""
    assert done.stderr.startswith(b"hostgw: template not rendered"), done.stderr[:200]
    assert os.listdir(spool_dir) == []


@pytest.mark.netns  # needs root: mounts a tmpfs
def test_a_spool_does_not_take_the_space_a_file_output_needs(tmp_path: Path) -> None:
    big = template_of(tmp_path, 20)  # spooled: more than 16 MiB
    small = template_of(tmp_path, 7)
    with tmpfs(tmp_path / "disk", "24m") as disk:
        done = subprocess.run(
            [*HOSTGW, "render", "-q", f"{big}:-", f"{small}:{disk / 'small.conf'}"],
            env={**ENV, "TMPDIR": str(disk)},
            capture_output=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert (disk / "small.conf").read_bytes() == rendered(small)
        assert os.listdir(disk) == ["small.conf"]
    assert done.stdout == rendered(big)


def test_kill_9_while_spooled_leaves_nothing(tmp_path: Path) -> None:
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    run = _Blocked(template_of(tmp_path, 40), {"TMPDIR": str(spool_dir)}, tmp_path)
    try:
        run.wait_until(lambda: _holds_a_file_in(run.proc.pid, spool_dir))
        assert _unnamed_files(run.proc.pid)  # what the other test looks for
    finally:
        run.kill()
    assert os.listdir(spool_dir) == []


def test_without_a_temp_directory_the_output_stays_in_memory(tmp_path: Path) -> None:
    work = tmp_path / "work"  # the working directory: no temp file may go there
    work.mkdir()
    template = template_of(tmp_path, 20)
    run = _Blocked(template, {"TMPDIR": str(tmp_path / "missing")}, work)
    try:
        run.wait_until(run.blocked_writing)
        assert not _holds_a_file_in(run.proc.pid, work)
        assert not _unnamed_files(run.proc.pid)  # no spool anywhere else either
        out = run.drain()
    finally:
        run.kill()
    assert out == rendered(template)
    assert os.listdir(work) == []


def _holds_a_file_in(pid: int, directory: Path) -> bool:
    """Whether process ``pid`` has a file in ``directory`` open (an unnamed one counts)."""
    return any(link.startswith(f"{directory}/") for link in open_files(pid))


def _unnamed_files(pid: int) -> list[str]:
    """The files process ``pid`` holds open that have no name (O_TMPFILE or unlinked)."""
    return [f for f in open_files(pid) if f.startswith("/") and f.endswith(" (deleted)")]
