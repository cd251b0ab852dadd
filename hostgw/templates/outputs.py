"""Render planned jobs to bytes in memory, then write them: the I/O edge of templates.

Everything is rendered first; files are written (atomically, only those
whose bytes change, all or nothing) when every template succeeded.
``HOSTGW_*`` values arrive as an argument (``own``): nothing here detects.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from hostgw.errors import OutputError, TemplateError
from hostgw.fileio import decode, same, unified_diff, write_many
from hostgw.templates.expand import combine
from hostgw.templates.jobs import STDIO, Job, Plan, Settings
from hostgw.templates.syntax import OwnValues

_STREAM_BLOCK = re.compile(rb"stream\s*\{")


class Output:
    """A rendered file: where it goes, which template it came from, its bytes."""

    __slots__ = ("chunks", "path", "source")

    def __init__(self, source: str, path: Path | None, chunks: list[bytes]) -> None:
        self.source = source
        self.path = path  # None: stdout
        self.chunks = chunks

    def data(self) -> bytes:
        """The whole output as one bytes object."""
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


def load(template: str, stdin: BinaryIO | None = None) -> bytes:
    """A template's bytes; ``-`` reads stdin."""
    if template == STDIO:
        return (stdin or sys.stdin.buffer).read()
    try:
        return Path(template).read_bytes()
    except OSError as exc:
        raise TemplateError(f"cannot read it: {exc.strerror or exc}", path=template) from None


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
            data = load(job.template, stdin)
            name = "<stdin>" if job.template == STDIO else job.template
            chunks = settings.expand(data, env, own, name)
        except TemplateError as exc:
            errors.append(exc if exc.problems else _as_problem(exc, job.template))
            continue
        outputs.append(Output(job.template, job.output, chunks))
    if errors:
        raise combine(errors)
    return outputs


def _as_problem(exc: TemplateError, template: str) -> TemplateError:
    """A file-level error (unreadable template) as one row (line 0) of the report."""
    return TemplateError(exc.message, problems=[(template, 0, 0, "", exc.message)])


def stream_block(nginx_conf: str | Path, stream_dir: Path) -> Output | None:
    """nginx.conf with a ``stream { include DIR/*.conf; }`` block appended, if it has
    no stream block yet (as the image's script does); None if it has one."""
    conf = Path(nginx_conf)
    try:
        text = conf.read_bytes()
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
        if out.path is None:
            continue
        now = same(out.path, out.chunks)
        if not now:
            found.append((out.path, out, "create" if now is None else "change"))
    return found


def diff(path: Path, out: Output) -> str:
    """A unified diff from the file at ``path`` (or nothing) to ``out``."""
    try:
        old = decode(path.read_bytes())
        before = str(path)
    except FileNotFoundError:
        old, before = "", "/dev/null"
    return unified_diff(old, decode(out.data()), before, str(path))


def write(outputs: Sequence[Output], stdout: BinaryIO | None = None) -> list[Path]:
    """Write the files that change (all-or-nothing), then stdout's; return paths written."""
    changed = [(path, out.chunks) for path, out, _ in changes(outputs)]
    for path, _ in changed:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(
                f"cannot create directory {path.parent}: {exc.strerror or exc}",
                hint="nothing was written; make the output directory writable",
            ) from None
    if changed:
        write_many(changed)
    stream = stdout or sys.stdout.buffer
    for out in outputs:
        if out.path is None:
            stream.writelines(out.chunks)
    stream.flush()
    return [path for path, _ in changed]
