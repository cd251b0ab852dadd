"""A file output is rendered straight into its staged temp file, never held whole.

The memory promise is judged by the child's own peak RSS, taken by a small
launcher process (a child's ``ru_maxrss`` starts from its parent's at the
fork, so pytest's own size would hide it): rendering n and 5n bytes to a
file, the peak grows by about the input, not the input and the output. The
same staging keeps every write promise: all or nothing, only what changed.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hostgw.errors import OutputError
from hostgw.fileio import Batch
from tests.helpers import hostgw_cmd

ENV = {"PATH": os.environ["PATH"], "HOSTGW_IP": "10.213.0.1", "HOSTGW_STRATEGIES": "env"}
LINE = b"    proxy_pass http://${HOSTGW_IP}:8080; proxy_set_header Host $host;\n"
# Runs hostgw from a fresh, small interpreter and prints the child's peak RSS in KiB.
LAUNCH = (
    "import os, subprocess, sys; "
    "p = subprocess.Popen(sys.argv[1:], stdin=open(os.environ['TEMPLATE'], 'rb')); "
    "_, status, usage = os.wait4(p.pid, 0); "
    "sys.exit(os.waitstatus_to_exitcode(status)) if status else print(usage.ru_maxrss)"
)


def template_of(tmp_path: Path, megabytes: int, tail: bytes = b"") -> Path:
    """A template of about ``megabytes`` MB of :data:`LINE`, then ``tail``."""
    template = tmp_path / f"{megabytes}.template"
    template.write_bytes(LINE * (megabytes * 1_000_000 // len(LINE)) + tail)
    return template


def rendered(template: Path) -> bytes:
    """What ``template`` renders to with :data:`ENV`."""
    return template.read_bytes().replace(b"${HOSTGW_IP}", b"10.213.0.1")


def launched(args: list[str], template: Path, env: dict[str, str] | None = None) -> bytes:
    """``hostgw render -q - ARGS`` of ``template`` (its stdin) through :data:`LAUNCH`: its
    stdout, which ends with the line of the peak RSS in KiB."""
    done = subprocess.run(
        [sys.executable, "-c", LAUNCH, *hostgw_cmd(), "render", "-q", "-", *args],
        env={**ENV, **(env or {}), "TEMPLATE": str(template)},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _peak_kib(tmp_path: Path, megabytes: int) -> int:
    template = template_of(tmp_path, megabytes)
    target = tmp_path / f"{megabytes}.conf"
    peak = int(launched(["-o", str(target)], template))
    assert target.read_bytes() == rendered(template)
    return peak


def test_a_file_output_is_not_held_in_memory(tmp_path: Path) -> None:
    small, large = _peak_kib(tmp_path, 4), _peak_kib(tmp_path, 20)
    grown = (large - small) * 1024
    # Held in memory it grows by the input and the output (2 x 16 MB); streamed, by
    # the input alone (16 MB), plus a few chunks.
    assert grown < 22_000_000, f"peak grew by {grown / 1e6:.1f} MB for 16 MB more"


def test_a_staged_stream_is_put_in_place_only_when_it_changed(tmp_path: Path) -> None:
    target = tmp_path / "a.conf"
    target.write_bytes(b"old\n")
    before = target.stat()
    with Batch() as batch:
        staging = batch.open(target)
        for chunk in (b"ol", b"d", b"\n"):
            staging.write(chunk)
        assert staging.finish() is False  # the same bytes: nothing to write
        assert batch.commit() == []
    after = target.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    with Batch() as batch:
        staging = batch.open(target)
        for chunk in (b"ol", b"d", b"\n", b"more\n"):  # the old bytes, then more
            staging.write(chunk)
        assert staging.finish() is True
        assert target.read_bytes() == b"old\n"  # staged, not yet in place
        assert [w.path for w in batch.commit()] == [target]
    assert target.read_bytes() == b"old\nmore\n"


def test_a_stream_left_unfinished_changes_nothing(tmp_path: Path) -> None:
    """A render that fails after its chunks were staged: nothing is put in place."""
    kept, new = tmp_path / "kept.conf", tmp_path / "new.conf"
    kept.write_bytes(b"old\n")
    with Batch() as batch:
        first = batch.open(kept)
        first.write(b"new\n")
        assert first.finish() is True
        batch.open(new).write(b"half")  # never finished, never committed
    assert kept.read_bytes() == b"old\n"
    assert not new.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.conf"]


def test_a_missing_directory_is_refused_by_finish(tmp_path: Path) -> None:
    """Opening defers the error: the render still runs (so every template's problems
    are found first), and finishing names the cause."""
    with Batch() as batch:
        staging = batch.open(tmp_path / "nope" / "a.conf")
        staging.write(b"x\n")
        with pytest.raises(OutputError, match="does not exist"):
            staging.finish()


@pytest.mark.parametrize("made", [False, True], ids=["no-output-dir", "output-dir-only"])
def test_a_failed_directory_render_makes_no_directory(tmp_path: Path, made: bool) -> None:
    """Outputs are staged as they render, making the directories they need: a template
    failing after them leaves none of those directories."""
    templates, out = tmp_path / "t", tmp_path / "out"
    (templates / "a" / "b").mkdir(parents=True)
    (templates / "a" / "b" / "one.conf.template").write_text("x ${HOSTGW_IP}\n")
    (templates / "top.conf.template").write_text("y ${HOSTGW_IP}\n")
    (templates / "zz").mkdir()  # rendered last
    (templates / "zz" / "zz.conf.template").write_text("z ${MISSING:?is unset}\n")
    if made:
        out.mkdir()
    hostgw = Path(sys.executable).with_name("hostgw")
    argv = [str(hostgw), "render", "--templates", str(templates), "--output", str(out)]
    failed = subprocess.run(argv, env=ENV, capture_output=True, text=True, check=False)
    assert failed.returncode == 5, failed.stderr
    assert "nothing was written" in failed.stderr
    if made:
        assert sorted(out.rglob("*")) == []
    else:
        assert not out.exists()
    (templates / "zz" / "zz.conf.template").unlink()
    done = subprocess.run(argv, env=ENV, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (out / "a" / "b" / "one.conf").read_text() == "x 10.213.0.1\n"
    assert (out / "top.conf").read_text() == "y 10.213.0.1\n"


def _fd_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    return apply


def test_outputs_do_not_hold_descriptors_while_the_others_render(tmp_path: Path) -> None:
    """Each output is staged once rendered: an unchanged one holds nothing, a changed
    one its temp file only. Holding the old file open too until every template had
    rendered ran out of descriptors at half the outputs."""
    templates, out = tmp_path / "t", tmp_path / "out"
    templates.mkdir()
    count = 40
    for i in range(count):
        (templates / f"f{i:02}.conf.template").write_text(f"x ${{HOSTGW_IP}} {i}\n")
    hostgw = Path(sys.executable).with_name("hostgw")
    argv = [str(hostgw), "render", "-q", "--templates", str(templates), "--output", str(out)]
    for address in ("10.213.0.1", "10.213.0.1", "10.213.0.2"):  # new, unchanged, changed
        done = subprocess.run(
            argv,
            env={**ENV, "HOSTGW_IP": address},
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=_fd_limit(count + 24),
        )
        assert done.returncode == 0, done.stderr
        assert (out / "f07.conf").read_text() == f"x {address} 7\n"
    assert len(list(out.iterdir())) == count


@pytest.mark.parametrize("made", [False, True], ids=["no-output-dir", "output-dir"])
def test_too_many_files_for_the_descriptor_limit_names_the_fix(tmp_path: Path, made: bool) -> None:
    """Every changed file stays open until all are put in place: past the limit the run
    fails whole, names the fix, and leaves no file and no directory it made."""
    templates, out = tmp_path / "t", tmp_path / "out"
    (templates / "sub").mkdir(parents=True)
    for i in range(60):
        where = templates / "sub" if i % 2 else templates
        (where / f"f{i:02}.conf.template").write_text(f"x ${{HOSTGW_IP}} {i}\n")
    if made:
        out.mkdir()
    hostgw = Path(sys.executable).with_name("hostgw")
    argv = [str(hostgw), "render", "-q", "--templates", str(templates), "--output", str(out)]
    done = subprocess.run(
        argv, env=ENV, capture_output=True, text=True, check=False, preexec_fn=_fd_limit(40)
    )
    assert done.returncode in (1, 5), done.stderr
    assert "too many open files" in done.stderr.lower()
    assert "ulimit -n" in done.stderr
    if made:
        assert list(out.iterdir()) == []  # nothing written
    else:  # made for the run, then removed with it
        assert not out.exists()
