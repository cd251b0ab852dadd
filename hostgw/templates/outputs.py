"""Render planned jobs, then write them: the I/O edge of templates.

Everything is rendered first; files are written (atomically, only those
whose bytes change, all or nothing) when every template succeeded.
:func:`render_write` renders each file output straight into its staged
temp file; :func:`render_plan` keeps every output in memory (for
``--check``, ``--diff``, ``--json`` and the Python API).
``HOSTGW_*`` values arrive as an argument (``own``): nothing here detects.
Templates are read with the input cap, outputs written by
:mod:`hostgw.fileio` (directory mode through directory descriptors;
``-``, ``/dev/stdout`` and ``/dev/stderr`` are streams).
"""

from __future__ import annotations

import contextlib
import errno
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from hostgw.errors import OutputError, TemplateError
from hostgw.fileio import (
    FD_LIMIT_FIX,
    Batch,
    Item,
    Log,
    Spool,
    decode,
    read_input,
    same,
    stream_fd,
    unified_diff,
    write_many,
    write_stream,
)
from hostgw.templates.expand import combine
from hostgw.templates.jobs import STDIO, Job, Plan, Settings
from hostgw.templates.syntax import OwnValues

_STREAM_BLOCK = re.compile(rb"stream\s*\{")


class Output:
    """A rendered file: where it goes, which template it came from, its bytes."""

    __slots__ = ("chunks", "path", "root", "source", "spool")

    def __init__(
        self, source: str, path: Path | None, chunks: list[bytes], root: Path | None = None
    ) -> None:
        self.source = source
        self.path = path  # None: stdout
        self.chunks = chunks
        self.root = root  # directory mode: the output directory it stays inside
        self.spool: Spool | None = None  # a stream's bytes, held back by render_write

    def pieces(self) -> Iterable[bytes]:
        """The bytes in chunks: from the spool, for a stream :func:`render_write` held."""
        return self.chunks if self.spool is None else self.spool

    @property
    def is_file(self) -> bool:
        """Whether it goes to a file (not stdout, ``/dev/stdout`` or ``/dev/stderr``)."""
        return self.path is not None and stream_fd(self.path) is None

    def data(self) -> bytes:
        """The whole output as one bytes object."""
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


def load(template: str, stdin: BinaryIO | None = None) -> bytes:
    """A template's bytes (at most the input cap, ``HOSTGW_MAX_INPUT``); ``-`` reads stdin."""
    try:
        return read_input(stdin or sys.stdin.buffer if template == STDIO else template)
    except OSError as exc:
        why = exc.strerror or str(exc)
        if exc.errno in (errno.EMFILE, errno.ENFILE):
            why += f" ({FD_LIMIT_FIX})"
        raise TemplateError(f"cannot read it: {why}", path=template) from None


def render_all(
    jobs: Sequence[Job],
    env: Mapping[str, str],
    settings: Settings,
    own: OwnValues,
    stdin: BinaryIO | None = None,
) -> list[Output]:
    """Render every job in memory; raise one :class:`TemplateError` listing every problem."""
    outputs: list[Output] = []
    errors: list[TemplateError] = []
    for job in jobs:
        try:
            chunks = _render_job(job, env, settings, own, stdin=stdin)
        except TemplateError as exc:
            errors.append(exc)
            continue
        outputs.append(Output(job.template, job.output, chunks, job.root))
    if errors:
        raise combine(errors)
    return outputs


def _render_job(
    job: Job,
    env: Mapping[str, str],
    settings: Settings,
    own: OwnValues,
    *,
    stdin: BinaryIO | None = None,
    sink: Callable[[bytes], object] | None = None,
) -> list[bytes]:
    """One job's output chunks (none if ``sink`` takes them); a :class:`TemplateError`
    with its problems as rows (an unreadable template is one row)."""
    try:
        data = load(job.template, stdin)
        name = "<stdin>" if job.template == STDIO else job.template
        return settings.expand(data, env, own, name, sink)
    except TemplateError as exc:
        raise exc if exc.problems else _as_problem(exc, job.template) from None


def render_write(plan: Plan, env: Mapping[str, str], own: OwnValues) -> list[Output]:
    """:func:`render_plan` then :func:`write`, with each file output rendered straight
    into its staged temp file, never held whole in memory, and each stream's
    held back in a :class:`~hostgw.fileio.Spool` (in memory, then in an
    unnamed temp file past :data:`~hostgw.fileio.SPOOL_LIMIT`); return the
    outputs whose files were written (their chunks are not kept).

    The same promise: no file is replaced and no stream written unless every
    template rendered (a template's problems come before any output's),
    only files whose bytes change are written, and nothing is left behind
    otherwise.
    """
    with contextlib.ExitStack() as held:
        written, streams = _render_staged(plan, env, own, held)
        _write_streams(streams, None)
    return written


def _render_staged(
    plan: Plan, env: Mapping[str, str], own: OwnValues, held: contextlib.ExitStack
) -> tuple[list[Output], list[Output]]:
    """Render every job (files staged, streams spooled; the spools closed by ``held``)
    and put the files in place; return the outputs written and the streams."""
    errors: list[TemplateError] = []
    failed: OutputError | None = None  # the first output that cannot be written
    streams: list[Output] = []
    written: list[Output] = []
    with Batch() as batch:
        for job in plan.jobs:
            out = Output(job.template, job.output, [], job.root)
            staging = None
            sink: Callable[[bytes], object] = _discard  # after an error: nothing is kept
            drop: Callable[[], None] = _nothing
            if not errors and out.path is not None and out.is_file:
                staging = batch.open(out.path, job.root)
                sink, drop = staging.write, staging.drop
            elif not errors:
                spool = out.spool = held.enter_context(Spool())
                sink, drop = spool.write, spool.close
            try:
                out.chunks = _render_job(job, env, plan.settings, own, sink=sink)
            except TemplateError as exc:
                errors.append(exc)
                drop()
                continue
            if staging is not None:
                # Staged now, so that it holds no more than its temp file while the
                # other templates render; an error waits for theirs.
                try:
                    if staging.finish():
                        written.append(out)
                except OutputError as exc:
                    failed = failed or exc
            elif out.path is None or not out.is_file:
                streams.append(out)
        if errors:
            raise combine(errors)
        if failed is not None:
            raise failed
        if plan.stream_dir is not None:
            block = stream_block(plan.nginx_conf, plan.stream_dir)
            for path, out, _ in changes([] if block is None else [block]):
                batch.add(Item(path, out.chunks))
                written.append(out)
        batch.commit()
    return written, streams


def _discard(chunk: bytes) -> None:
    """A sink for the outputs of a run that will write nothing (a template failed)."""


def _nothing() -> None:
    """Dropping an output that was never kept."""


def _as_problem(exc: TemplateError, template: str) -> TemplateError:
    """A file-level error (unreadable template) as one row (line 0) of the report."""
    return TemplateError(exc.message, problems=[(template, 0, 0, "", exc.message)])


def stream_block(nginx_conf: str | Path, stream_dir: Path) -> Output | None:
    """nginx.conf with a ``stream { include DIR/*.conf; }`` block appended, if it has
    no stream block yet (as the image's script does); None if it has one."""
    conf = Path(nginx_conf)
    try:
        text = read_input(conf)
    except OSError as exc:
        raise OutputError(
            f"cannot read {conf} to include the stream templates: {exc.strerror or exc}",
            hint=f"add 'stream {{ include {stream_dir}/*.conf; }}' to your nginx.conf, "
            "or point --nginx-conf at it",
        ) from None
    if _STREAM_BLOCK.search(text):
        return None
    sep = b"" if not text or text.endswith(b"\n") else b"\n"
    block = (
        f"# added by hostgw: the rendered stream templates\n"
        f"stream {{\n  include {stream_dir}/*.conf;\n}}\n"
    )
    return Output(str(conf), conf, [text, sep, block.encode()])


def render_plan(plan: Plan, env: Mapping[str, str], own: OwnValues) -> list[Output]:
    """Every output of ``plan``, in memory: the rendered jobs, and nginx.conf's
    stream block where one is needed."""
    outputs = render_all(plan.jobs, env, plan.settings, own)
    if plan.stream_dir is not None:
        block = stream_block(plan.nginx_conf, plan.stream_dir)
        if block is not None:
            outputs.append(block)
    return outputs


def changes(outputs: Iterable[Output]) -> list[tuple[Path, Output, str]]:
    """Files that would change: path, output, and ``"create"`` or ``"change"``."""
    found = []
    for out in outputs:
        if out.path is None or not out.is_file:
            continue
        now = same(out.path, out.chunks)
        if not now:
            found.append((out.path, out, "create" if now is None else "change"))
    return found


def diff(path: Path, out: Output) -> str:
    """A unified diff from the file at ``path`` (or nothing) to ``out``."""
    try:
        old = decode(read_input(path))
        before = str(path)
    except FileNotFoundError:
        old, before = "", "/dev/null"
    return unified_diff(old, decode(out.data()), before, str(path))


def write(
    outputs: Sequence[Output], stdout: BinaryIO | None = None, *, log: Log | None = None
) -> list[Path]:
    """Write the files that change (all-or-nothing), then the streams; return the files
    written. A missing output directory is refused (directory mode makes the
    subdirectories below its output directory); ``log`` gets each note on how a
    file was written (see :func:`hostgw.fileio.write_many`)."""
    changed = [Item(path, out.chunks, out.root) for path, out, _ in changes(outputs)]
    written = write_many(changed, log=log) if changed else []
    _write_streams(outputs, stdout)
    return [done.path for done in written]


def _write_streams(outputs: Iterable[Output], stdout: BinaryIO | None) -> None:
    """The outputs that go to stdout, ``/dev/stdout`` or ``/dev/stderr``, in order."""
    stream = stdout or sys.stdout.buffer
    for out in outputs:
        if out.path is None:
            stream.writelines(out.pieces())
        elif not out.is_file:
            stream.flush()
            write_stream(out.path, out.pieces())
    stream.flush()
