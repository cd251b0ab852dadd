"""What a render run does: its options, its jobs, where every output goes.

Pure planning, before anything is read or written: a :class:`RenderRequest`
(the options of ``render``, ``exec`` and ``watch``) becomes a :class:`Plan`
of :class:`Job` records and :class:`Settings`. Usage errors are found here,
before any work. Directory mode never plans a write outside its output
directory; ``--nginx`` mode follows the official nginx image's
``20-envsubst-on-templates.sh``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from hostgw.errors import OutputError, UsageError
from hostgw.formats import FORMATS, by_name
from hostgw.record import Record
from hostgw.templates.expand import expand_bytes
from hostgw.templates.syntax import OWN, OwnValues, Selection, is_name

STDIO = "-"


class Settings(Record):
    """How references are chosen and checked (see :func:`hostgw.templates.expand.expand_bytes`).

    ``format`` is every template's target format (None: told per template
    from ``formats``, else unknown); ``formats`` maps a template's name to the
    format its output or its name says; ``notes`` collects the warnings of a
    run (a list the run owns).
    """

    selection: Selection = Selection()
    strict: bool = False
    no_empty: bool = False
    raw: bool | frozenset[str] = False
    format: str | None = None
    escape: bool = False
    formats: Mapping[str, str | None] = {}
    notes: list[str] | None = None

    @classmethod
    def of(
        cls,
        vars: str | Iterable[str] | None = None,
        filter: str | re.Pattern[str] | None = None,
        strict: bool = False,
        no_empty: bool = False,
        raw: bool | Iterable[str] = False,
        *,
        format: str | None = None,
        escape: bool = False,
    ) -> Settings:
        """From the Python API's options (``vars``/``filter`` as in :meth:`Selection.of`)."""
        raw_names = raw if isinstance(raw, bool) else frozenset(raw)
        return cls(
            Selection.of(vars, filter), strict, no_empty, raw_names, check_format(format), escape
        )

    def format_of(self, path: str | None) -> str | None:
        """The format of the template named ``path``."""
        if self.format is not None:
            return self.format
        return self.formats.get(path or "", by_name(path))

    def expand(
        self,
        data: bytes,
        env: Mapping[str, str],
        own: OwnValues,
        path: str | None,
        sink: Callable[[bytes], object] | None = None,
    ) -> list[bytes]:
        """:func:`hostgw.templates.expand.expand_bytes` with these settings."""
        return expand_bytes(
            data,
            env,
            selection=self.selection,
            strict=self.strict,
            no_empty=self.no_empty,
            raw=self.raw,
            own=own,
            path=path,
            format=self.format_of(path),
            escape=self.escape,
            notes=self.notes,
            sink=sink,
        )


def check_format(fmt: str | None) -> str | None:
    """``--format``: one of :data:`hostgw.formats.FORMATS`, or None."""
    if fmt is None or fmt in FORMATS:
        return fmt
    raise UsageError(
        f"--format {fmt}: not a format hostgw knows", hint=f"one of {', '.join(FORMATS)}"
    )


class Job(Record):
    """One template and where its output goes (``None``: stdout); ``root``: in directory
    mode, the (real) output directory the write must stay inside."""

    template: str
    output: Path | None
    root: Path | None = None


def parse_pair(spec: str) -> Job:
    """``TEMPLATE`` or ``TEMPLATE:OUT`` (``-`` is stdin/stdout)."""
    if spec == STDIO or os.path.exists(spec) or ":" not in spec:
        return Job(spec, None)
    template, _, out = spec.rpartition(":")
    if not template or not out:
        raise UsageError(f"{spec!r}: expected TEMPLATE or TEMPLATE:OUTPUT")
    return Job(template, None if out == STDIO else Path(out))


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
    real_output = Path(os.path.realpath(output))
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
                out = inside(output, rel.with_name(name[: -len(suffix)]))
                jobs.append(Job(str(source), out, real_output))
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


class NginxPlan(Record):
    """What ``--nginx`` renders: http and stream jobs, and where stream outputs go."""

    jobs: tuple[Job, ...]
    stream_dir: Path | None  # set when there are stream templates
    filter: str | None
    notes: tuple[str, ...] = ()  # what was skipped, and why


def nginx_plan(env: Mapping[str, str]) -> NginxPlan:
    """The nginx image's template settings, read from ``env`` with its defaults.

    No template directory means nothing to do, as in the image.
    """

    def get(name: str) -> str:
        return env.get(name) or NGINX_DEFAULTS[name]

    tdir = Path(get("NGINX_ENVSUBST_TEMPLATE_DIR"))
    filter_ = env.get("NGINX_ENVSUBST_FILTER") or None
    if not tdir.is_dir():
        return NginxPlan((), None, filter_)
    http_dir, suffix = get("NGINX_ENVSUBST_OUTPUT_DIR"), get("NGINX_ENVSUBST_TEMPLATE_SUFFIX")
    if not _writable_dir(http_dir):  # the image: log, render nothing, go on
        note = f"{tdir} exists, but {http_dir} is not a writable directory: nothing rendered"
        return NginxPlan((), None, filter_, (note,))
    jobs = directory_jobs(tdir, http_dir, suffix)
    stream_dir = Path(get("NGINX_ENVSUBST_STREAM_OUTPUT_DIR"))
    stream = directory_jobs(tdir, stream_dir, get("NGINX_ENVSUBST_STREAM_TEMPLATE_SUFFIX"))
    return NginxPlan((*jobs, *stream), stream_dir if stream else None, filter_)


def _writable_dir(path: str | Path) -> bool:
    """The nginx image's ``[ -w DIR ]``: an existing directory this process may write."""
    return os.path.isdir(path) and os.access(path, os.W_OK)


class RenderRequest(Record):
    """The render options as given (by ``render``, ``exec`` and ``watch``)."""

    specs: tuple[str, ...] = ()
    output: str | None = None
    templates_dir: str | None = None
    suffix: str = ".template"
    nginx: bool = False
    nginx_conf: str = "/etc/nginx/nginx.conf"
    vars: tuple[str, ...] = ()
    filter: str | None = None
    strict: bool = False
    no_empty: bool = False
    raw: tuple[str, ...] = ()
    format: str | None = None
    escape: bool = False
    list_vars: bool = False
    check: bool = False
    diff: bool = False
    quiet: bool = False

    @property
    def anything(self) -> bool:
        """True if there is something to render."""
        return bool(self.specs or self.templates_dir or self.nginx)


class Plan(Record):
    """The jobs of one run, their settings, and where nginx stream outputs go."""

    jobs: tuple[Job, ...]
    settings: Settings
    stream_dir: Path | None = None
    directory_mode: bool = False
    nginx_conf: str = "/etc/nginx/nginx.conf"

    @property
    def notes(self) -> list[str]:
        """Warnings for the user: planning's, then (after rendering) the templates'."""
        return self.settings.notes if self.settings.notes is not None else []


def plan(request: RenderRequest, env: Mapping[str, str], *, stdin_default: bool) -> Plan:
    """Turn the options into jobs and settings; usage errors here, before any work.

    ``stdin_default``: with no template given, read stdin (``render``); else
    there is nothing to do (``exec``, ``watch``).
    """
    if request.list_vars and not stdin_default:
        raise UsageError(
            "--list-vars is an option of hostgw render", hint="hostgw render --list-vars"
        )
    if request.nginx and request.templates_dir:
        raise UsageError("--nginx and --templates exclude each other", hint="give one")
    jobs = [parse_pair(spec) for spec in request.specs]
    stream_dir = None
    filter_ = request.filter
    notes: list[str] = []
    if request.templates_dir:
        if not request.output or request.output == STDIO:
            raise UsageError("--templates needs --output DIR", hint="e.g. -o /etc/nginx/conf.d")
        jobs += directory_jobs(request.templates_dir, request.output, request.suffix)
    elif request.output is not None:
        jobs = _with_output(jobs, request)
    if request.nginx:
        nginx = nginx_plan(env)
        jobs += nginx.jobs
        stream_dir = nginx.stream_dir
        filter_ = filter_ if filter_ is not None else nginx.filter
        notes += nginx.notes
    if not jobs and stdin_default and not request.nginx:
        jobs.append(Job(STDIO, None))
    _check_jobs(jobs)
    fmt = check_format(request.format) or ("nginx" if request.nginx else None)
    formats = {_name(job): by_name(str(job.output or ""), job.template) for job in jobs}
    settings = _settings(request, filter_).replace(format=fmt, formats=formats, notes=notes)
    return Plan(
        tuple(jobs),
        settings,
        stream_dir,
        directory_mode=bool(request.templates_dir or request.nginx),
        nginx_conf=request.nginx_conf,
    )


def _with_output(jobs: list[Job], request: RenderRequest) -> list[Job]:
    """``-o``: the output of the one template given without one (stdin if none)."""
    if request.nginx and not jobs:
        raise UsageError(
            "--nginx takes its output directories from NGINX_ENVSUBST_OUTPUT_DIR and "
            "NGINX_ENVSUBST_STREAM_OUTPUT_DIR, not -o",
        )
    jobs = jobs or [Job(STDIO, None)]
    bare = [i for i, job in enumerate(jobs) if job.output is None]
    if len(bare) != 1:
        raise UsageError(
            "-o/--output names the output of exactly one template",
            hint="give several outputs as TEMPLATE:OUTPUT pairs",
        )
    out = None if request.output in (None, STDIO) else Path(request.output)
    jobs[bare[0]] = Job(jobs[bare[0]].template, out)
    return jobs


def _name(job: Job) -> str:
    """The name a template is rendered under (``<stdin>`` for ``-``)."""
    return "<stdin>" if job.template == STDIO else job.template


def _check_jobs(jobs: list[Job]) -> None:
    if sum(job.template == STDIO for job in jobs) > 1:
        raise UsageError("only one template can come from stdin ('-')")
    seen: set[Path] = set()
    for job in jobs:
        if job.output is None:
            continue
        if job.output.resolve() in seen:
            raise UsageError(f"two templates would write {job.output}")
        seen.add(job.output.resolve())


def _settings(request: RenderRequest, filter_: str | None) -> Settings:
    for name in request.raw:
        if name != "*" and not is_name(name):
            raise UsageError(
                f"--raw {name}: not a variable name",
                hint="--raw alone takes the next word as a NAME: put it after the templates, "
                "or write --raw=NAME",
            )
    raw: bool | frozenset[str] = "*" in request.raw or frozenset(request.raw)
    selection = Selection.of(request.vars or None, filter_)
    return Settings(selection, request.strict, request.no_empty, raw, escape=request.escape)


def listing(found: Mapping[str, set[str]], env: Mapping[str, str], settings: Settings) -> list[str]:
    """``--list-vars``: one line per name the templates use, with its forms and what a
    render does with it (``set``, ``unset``, ``detected``, ``left as text``)."""
    plain = settings.selection.plain(env)
    rows = []
    for name in sorted(found, key=lambda n: (n.lower() == n, n)):
        forms = sorted(found[name], key=lambda f: (len(f), f))
        operator = any(f.startswith("${") and not f.endswith((f"{name}}}", name)) for f in forms)
        if name in env:
            state = "set" if name in plain or operator else "set, not selected: left as text"
        elif name in OWN:
            state = "detected"
        elif name in plain:
            state = "unset: empty"
        elif operator and settings.selection.wants(name):
            state = "unset"
        else:
            state = "unset: left as text"
        odd = [
            f
            for f in forms
            if f.startswith(("${#", "${!"))
            or f[len(name) + 2 : len(name) + 3] in ("=", "#", "%", "/", "^", ",", "@", "[")
            or f.startswith(f"${{{name}:=")
        ]
        if odd and settings.selection.wants(name):
            state = f"{' '.join(odd)}: not supported, an error"
        rows.append((name, " ".join(forms), state))
    width = max((len(r[0]) for r in rows), default=0)
    forms_width = max((len(r[1]) for r in rows), default=0)
    return [f"{n:<{width}}  {f:<{forms_width}}  {st}".rstrip() for n, f, st in rows]
