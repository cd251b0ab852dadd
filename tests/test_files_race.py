"""Directory mode cannot be sent outside ``--output`` by a directory swapped for a symlink.

A second process swaps ``OUT/sub`` (a real directory) with a symlink to a
directory outside, atomically (``renameat2(RENAME_EXCHANGE)``), as fast as
it can, while directory mode (``--templates`` and ``--nginx``) renders into
``OUT`` again and again. The path is planned while it is one and written
while it is the other, in any order. Every run either writes inside
``OUT`` or refuses; nothing is ever written outside. Before writes went
through directory descriptors, such runs wrote into the outside directory.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import os
import time
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from hostgw.errors import OutputError
from hostgw.templates.jobs import RenderRequest, plan
from hostgw.templates.outputs import render_plan, write

RUNS = 300
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _swapper(a: str, b: str, count: Synchronized[int], stop: Event) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    swap = libc.renameat2
    while not stop.is_set():
        if swap(_AT_FDCWD, a.encode(), _AT_FDCWD, b.encode(), _RENAME_EXCHANGE) == 0:
            with count.get_lock():
                count.value += 1
        time.sleep(0.0002)  # a steady beat, so that swaps land inside runs


@pytest.mark.parametrize("mode", ["templates", "nginx"])
def test_a_swapped_directory_never_sends_a_write_outside(tmp_path: Path, mode: str) -> None:
    templates, out, outside = tmp_path / "t", tmp_path / "out", tmp_path / "outside"
    (templates / "sub").mkdir(parents=True)
    (templates / "sub" / "a.conf.template").write_text(
        "# run $RUN\n" + "listen $HOSTGW_IP:80;\n" * 2000
    )
    (templates / "top.conf.template").write_text("server_name top;\n")
    (out / "sub").mkdir(parents=True)
    outside.mkdir()
    (out / "lnk").symlink_to(outside)
    env = {"HOSTGW_IP": "10.213.0.1"}
    if mode == "nginx":
        env |= {
            "NGINX_ENVSUBST_TEMPLATE_DIR": str(templates),
            "NGINX_ENVSUBST_OUTPUT_DIR": str(out),
        }
        request = RenderRequest(nginx=True, quiet=True)
    else:
        request = RenderRequest(templates_dir=str(templates), output=str(out), quiet=True)

    ctx = multiprocessing.get_context("fork")
    count = ctx.Value("q", 0)
    stop = ctx.Event()
    proc = ctx.Process(target=_swapper, args=(str(out / "sub"), str(out / "lnk"), count, stop))
    proc.start()
    races = written = refused = 0

    def one_run(run: int) -> int:
        """Files written by one run (its own bytes, so every file changes); -1: refused.

        A race is a run that planned while ``sub`` was a directory inside and
        saw a swap before its write ended.
        """
        nonlocal races
        here = {**env, "RUN": str(run)}
        try:
            planned = plan(request, here, stdin_default=False)
        except (OutputError, OSError):  # realpath itself may trip over the swap
            return -1
        before = count.value
        try:
            return len(write(render_plan(planned, here, here), log=lambda _line: None))
        except OutputError:
            return -1
        finally:
            races += count.value != before

    try:
        for run in range(RUNS):
            done = one_run(run)
            refused += done < 0
            written += max(done, 0)
    finally:
        stop.set()
        proc.join(timeout=10)
    print(
        f"{mode}: {RUNS} runs, {races} raced ({count.value} swaps), {refused} refused, "
        f"{written} files written, {len(os.listdir(outside))} outside"
    )
    assert proc.exitcode == 0
    assert races >= RUNS // 10, "the swapper did not run alongside"
    assert os.listdir(outside) == []  # nothing, ever, outside --output
    assert refused < RUNS  # and the runs did write, inside
    real = out / "sub" if (out / "sub").is_dir() and not (out / "sub").is_symlink() else out / "lnk"
    assert "listen 10.213.0.1:80;\n" in (real / "a.conf").read_text()
    assert (out / "top.conf").read_text() == "server_name top;\n"
