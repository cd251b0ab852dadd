"""Render templates to files: the I/O edge around :mod:`hostgw.template`.

Everything is rendered in memory first; files are written (atomically, only
those whose bytes change) when every template succeeded. Directory mode
never writes outside its output directory. ``--nginx`` mode follows the
official nginx image's ``20-envsubst-on-templates.sh``.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from hostgw.errors import OutputError, TemplateError, UsageError
from hostgw.template import OwnValues, Selection, combine, expand_bytes

STDIO = "-"


@dataclass(frozen=True)
class Settings:
    """How references are chosen and checked (see :func:`hostgw.template.expand_bytes`)."""

    selection: Selection = field(default_factory=Selection)
    strict: bool = False
    no_empty: bool = False
    raw: bool | frozenset[str] = False

    @classmethod
    def of(
        cls,
        vars: str | Iterable[str] | None = None,
        filter: str | re.Pattern[str] | None = None,
        strict: bool = False,
        no_empty: bool = False,
        raw: bool | Iterable[str] = False,
    ) -> Settings:
        """From the Python API's options (``vars``/``filter`` as in :meth:`Selection.of`)."""
        raw_names = raw if isinstance(raw, bool) else frozenset(raw)
        return cls(Selection.of(vars, filter), strict, no_empty, raw_names)

    def expand(
        self, data: bytes, env: Mapping[str, str], own: OwnValues, path: str | None
    ) -> list[bytes]:
        """:func:`hostgw.template.expand_bytes` with these settings."""
        return expand_bytes(
            data,
            env,
            selection=self.selection,
            strict=self.strict,
            no_empty=self.no_empty,
            raw=self.raw,
            own=own,
            path=path,
        )


@dataclass(frozen=True)
class Job:
    """One template and where its output goes (``None``: stdout)."""

    template: str
    output: Path | None


@dataclass
class Output:
    """A rendered file: where it goes, which template it came from, its bytes."""

    source: str
    path: Path | None  # None: stdout
    chunks: list[bytes]

    def data(self) -> bytes:
        """The whole output as one bytes object."""
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


def parse_pair(spec: str) -> Job:
    """``TEMPLATE`` or ``TEMPLATE:OUT`` (``-`` is stdin/stdout)."""
    if spec == STDIO or os.path.exists(spec) or ":" not in spec:
        return Job(spec, None)
    template, _, out = spec.rpartition(":")
    if not template or not out:
        raise UsageError(f"{spec!r}: expected TEMPLATE or TEMPLATE:OUTPUT")
    return Job(template, None if out == STDIO else Path(out))


def detector(
    env: Mapping[str, str], detection: Mapping[str, Any] | None = None
) -> Callable[[], Mapping[str, str]]:
    """``HOSTGW_*`` from :func:`hostgw.detect.gateway_env`, detected once, on first call."""
    found: list[Mapping[str, str]] = []

    def own() -> Mapping[str, str]:
        if not found:
            from hostgw.detect import gateway_env

            found.append(gateway_env(**{**(detection or {}), "env": env}))
        return found[0]

    return own


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


# -- directory mode -------------------------------------------------------------


def directory_jobs(templates: str | Path, output: str | Path, suffix: str) -> list[Job]:
    """Every ``*SUFFIX`` file under ``templates`` (symlinks followed, like ``find
    -follow``), mapped to the same relative path under ``output`` without the suffix."""
    root = Path(templates)
    if not root.is_dir():
        raise UsageError(f"--templates {root}: not a directory")
    if not suffix:
        raise UsageError("--suffix must not be empty", hint="the default is .template")
    jobs: list[Job] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:  # a symlink loop, or the same directory twice
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in sorted(filenames):
            source = Path(dirpath, name)
            if name.endswith(suffix) and len(name) > len(suffix) and source.is_file():
                rel = source.relative_to(root)
                jobs.append(Job(str(source), inside(output, rel.with_name(name[: -len(suffix)]))))
    return jobs


def inside(directory: str | Path, rel: str | Path) -> Path:
    """``directory/rel``, refused if it leads outside ``directory``.

    ``..`` is refused outright; symlinks (in ``rel``'s directories or the file
    itself) are resolved and must stay inside. Returns the resolved path.
    """
    rel = Path(rel)
    if rel.is_absolute() or ".." in rel.parts:
        raise OutputError(f"refusing to write {rel}: it leads outside {directory}")
    base = os.path.realpath(directory)
    target = os.path.realpath(os.path.join(base, rel))
    if os.path.commonpath([base, target]) != base or target == base:
        raise OutputError(
            f"refusing to write {Path(directory, rel)}: a symlink leads outside {directory} "
            f"(to {target})",
            hint="remove the symlink, or render that file with an explicit TEMPLATE:OUTPUT",
        )
    return Path(target)


# -- nginx image mode ------------------------------------------------------------


NGINX_DEFAULTS = {
    "NGINX_ENVSUBST_TEMPLATE_DIR": "/etc/nginx/templates",
    "NGINX_ENVSUBST_TEMPLATE_SUFFIX": ".template",
    "NGINX_ENVSUBST_OUTPUT_DIR": "/etc/nginx/conf.d",
    "NGINX_ENVSUBST_STREAM_TEMPLATE_SUFFIX": ".stream-template",
    "NGINX_ENVSUBST_STREAM_OUTPUT_DIR": "/etc/nginx/stream-conf.d",
}
NGINX_CONF = "/etc/nginx/nginx.conf"
_STREAM_BLOCK = re.compile(rb"stream\s*\{")


@dataclass(frozen=True)
class NginxPlan:
    """What ``--nginx`` renders: http and stream jobs, and where stream outputs go."""

    jobs: list[Job]
    stream_dir: Path | None  # set when there are stream templates
    filter: str | None


def nginx_plan(env: Mapping[str, str]) -> NginxPlan:
    """The nginx image's template settings, read from ``env`` with its defaults.

    No template directory means nothing to do, as in the image.
    """

    def get(name: str) -> str:
        return env.get(name) or NGINX_DEFAULTS[name]

    tdir = Path(get("NGINX_ENVSUBST_TEMPLATE_DIR"))
    filter_ = env.get("NGINX_ENVSUBST_FILTER") or None
    if not tdir.is_dir():
        return NginxPlan([], None, filter_)
    http_dir, suffix = get("NGINX_ENVSUBST_OUTPUT_DIR"), get("NGINX_ENVSUBST_TEMPLATE_SUFFIX")
    jobs = directory_jobs(tdir, http_dir, suffix)
    stream_dir = Path(get("NGINX_ENVSUBST_STREAM_OUTPUT_DIR"))
    stream = directory_jobs(tdir, stream_dir, get("NGINX_ENVSUBST_STREAM_TEMPLATE_SUFFIX"))
    return NginxPlan(jobs + stream, stream_dir if stream else None, filter_)


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


# -- comparing and writing -------------------------------------------------------


def _same(path: Path, chunks: Iterable[bytes]) -> bool | None:
    """True if ``path`` holds exactly ``chunks``; None if it does not exist."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - read chunk by chunk below
    except FileNotFoundError:
        return None
    except OSError:
        return False
    with handle:
        chunks = list(chunks)
        if os.fstat(handle.fileno()).st_size != sum(map(len, chunks)):
            return False
        return all(handle.read(len(c)) == c for c in chunks)


def changes(outputs: Iterable[Output]) -> list[tuple[Path, Output, str]]:
    """Files that would change: path, output, and ``"create"`` or ``"change"``."""
    found = []
    for out in outputs:
        if out.path is None:
            continue
        same = _same(out.path, out.chunks)
        if not same:
            found.append((out.path, out, "create" if same is None else "change"))
    return found


def unified_diff(path: Path, out: Output) -> str:
    """A unified diff from the file at ``path`` (or nothing) to ``out``."""
    import difflib

    try:
        old = path.read_bytes().decode("utf-8", "surrogateescape")
        before = str(path)
    except FileNotFoundError:
        old, before = "", "/dev/null"
    new = out.data().decode("utf-8", "surrogateescape")
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), before, str(path)
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


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
        from hostgw.atomic import write_many

        write_many(changed)
    stream = stdout or sys.stdout.buffer
    for out in outputs:
        if out.path is None:
            stream.writelines(out.chunks)
    stream.flush()
    return [path for path, _ in changed]


# -- the public Python API ---------------------------------------------------------


def render(
    text: str,
    env: Mapping[str, str] | None = None,
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    path: str | None = None,
    detection: Mapping[str, Any] | None = None,
) -> str:
    """Substitute ``text``'s references from ``env`` (default ``os.environ``).

    ``HOSTGW_IP``, ``HOSTGW_IP6`` and ``HOSTGW_HOST`` come from ``env`` if set,
    else from ``own`` (a mapping or a function), else from detection
    (:func:`hostgw.gateway_env` with ``detection`` as its options), which
    runs only if a selected reference needs one of them. See
    :mod:`hostgw.template` for the syntax, ``vars``, ``filter``, ``strict``,
    ``no_empty`` and ``raw``. Raises :class:`TemplateError` listing every
    problem.
    """
    environ = os.environ if env is None else env
    settings = Settings.of(vars, filter, strict, no_empty, raw)
    data = text.encode("utf-8", "surrogateescape")
    chunks = settings.expand(data, environ, _own_or_detected(environ, own, detection), path)
    return b"".join(chunks).decode("utf-8", "surrogateescape")


def render_file(
    template: str | os.PathLike[str],
    output: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    vars: str | Iterable[str] | None = None,
    filter: str | re.Pattern[str] | None = None,
    strict: bool = False,
    no_empty: bool = False,
    raw: bool | Iterable[str] = False,
    own: OwnValues = None,
    detection: Mapping[str, Any] | None = None,
) -> str:
    """Render the file ``template``; write the result atomically to ``output``
    (if given and different) and return it. Options as in :func:`render`."""
    environ = os.environ if env is None else env
    settings = Settings.of(vars, filter, strict, no_empty, raw)
    job = Job(os.fspath(template), None if output is None else Path(output))
    outputs = render_all([job], environ, settings, _own_or_detected(environ, own, detection))
    if output is not None:
        write(outputs)
    return outputs[0].data().decode("utf-8", "surrogateescape")


def _own_or_detected(
    env: Mapping[str, str], own: OwnValues, detection: Mapping[str, Any] | None
) -> OwnValues:
    """``own`` if given, else :func:`detector` (detection on first need)."""
    return detector(env, detection) if own is None else own
