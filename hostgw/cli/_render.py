"""``hostgw render`` and ``hostgw exec``: substitution into configs, then the command.

``exec`` runs a list of steps before it becomes the command (render now;
rewrite and wait can add theirs in :func:`exec_`), exports ``HOSTGW_*``,
then ``os.execvpe``: same pid, signals go straight to the command.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from hostgw.cli._options import DetectionArgs, detection_options
from hostgw.cli._rewrite_options import (
    LastWarnings,
    map_option,
    rewrite_option,
    rewrite_step,
    state_dir_option,
)
from hostgw.cli._wait import WaitArgs, exec_wait_options, wait_step
from hostgw.cli._watch_options import WatchArgs, watch_options
from hostgw.errors import GatewayNotFound, UsageError
from hostgw.rendering import (
    Job,
    Output,
    Settings,
    changes,
    detector,
    directory_jobs,
    nginx_plan,
    parse_pair,
    render_all,
    stream_block,
    unified_diff,
    write,
)
from hostgw.template import Selection, is_name

R = TypeVar("R")


@dataclass(frozen=True)
class RenderArgs:
    """The render options as given on the command line (shared by render and exec)."""

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
    check: bool = False
    diff: bool = False
    quiet: bool = False
    detection: DetectionArgs = field(default_factory=DetectionArgs)

    @property
    def anything(self) -> bool:
        """True if there is something to render."""
        return bool(self.specs or self.templates_dir or self.nginx)


_RENDER_OPTIONS = (
    click.option(
        "-t",
        "--template",
        "template",
        multiple=True,
        metavar="TEMPLATE[:OUT]",
        help="A template to render, optionally with its output file; repeatable "
        "('-' is stdin/stdout).",
    ),
    click.option(
        "-o",
        "--output",
        metavar="PATH",
        help="Output file of the one template ('-': stdout, the default); with "
        "--templates, the output directory.",
    ),
    click.option(
        "--templates",
        "templates_dir",
        metavar="DIR",
        help="Directory mode: render every *SUFFIX file under DIR into --output DIR, "
        "keeping subdirectories. All or nothing.",
    ),
    click.option(
        "--suffix",
        default=".template",
        show_default=True,
        help="Template suffix in directory mode (removed from the output name).",
    ),
    click.option(
        "--nginx",
        is_flag=True,
        help="Do what the nginx image's 20-envsubst-on-templates.sh does: "
        "NGINX_ENVSUBST_TEMPLATE_DIR (/etc/nginx/templates), _TEMPLATE_SUFFIX (.template), "
        "_OUTPUT_DIR (/etc/nginx/conf.d), _FILTER, and *.stream-template into "
        "NGINX_ENVSUBST_STREAM_OUTPUT_DIR (/etc/nginx/stream-conf.d).",
    ),
    click.option(
        "--nginx-conf",
        default="/etc/nginx/nginx.conf",
        show_default=True,
        metavar="FILE",
        help="With --nginx and stream templates: the nginx.conf that gets a stream block "
        "including them, if it has none.",
    ),
    click.option(
        "--vars",
        multiple=True,
        metavar="NAMES",
        help="Substitute exactly these names: 'A B' or GNU envsubst's '${A} $B'. "
        "Default: every name in the environment, plus HOSTGW_IP, HOSTGW_IP6, HOSTGW_HOST.",
    ),
    click.option(
        "--filter",
        metavar="REGEX",
        help="Substitute $NAME/${NAME} only for names matching REGEX (like "
        "NGINX_ENVSUBST_FILTER); HOSTGW_* and ${NAME:-default} forms still count.",
    ),
    click.option("--strict", is_flag=True, help="A selected reference that is unset is an error."),
    click.option("--no-empty", is_flag=True, help="Like --strict, and empty is an error too."),
    click.option(
        "--raw",
        multiple=True,
        is_flag=False,
        flag_value="*",
        metavar="[NAME]",
        help="Allow values with a newline, NUL, ';', '{' or '}' (refused by default): for "
        "NAME, or for all names when given alone (write it after the templates, or as "
        "--raw=NAME).",
    ),
    click.option(
        "--check",
        is_flag=True,
        help="Write nothing; report errors and which outputs would change (exit 1 if any).",
    ),
    click.option("--diff", is_flag=True, help="Like --check, and show a unified diff."),
    click.option("-q", "--quiet", is_flag=True, help="Do not log the files written."),
)


# RenderArgs fields filled from the options above (click parameter name if it differs).
_RENDER_FIELDS = tuple(f.name for f in dataclasses.fields(RenderArgs) if f.name != "detection")
_PARAMS = {"specs": "template"}


def render_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the render options (and the detection options) to a click command.

    The callback gets one ``render_args: RenderArgs`` argument in their place.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, detection: DetectionArgs, **kw: Any) -> R:
        given = {name: kw.pop(_PARAMS.get(name, name)) for name in _RENDER_FIELDS}
        return fn(*args, render_args=RenderArgs(**given, detection=detection), **kw)

    decorated = detection_options(wrapper)
    for option in reversed(_RENDER_OPTIONS):
        decorated = option(decorated)
    return decorated


@dataclass
class _Plan:
    jobs: list[Job]
    settings: Settings
    stream_dir: Path | None = None
    directory_mode: bool = False


def _plan(args: RenderArgs, env: Mapping[str, str], *, stdin_default: bool) -> _Plan:
    """Turn the options into jobs and settings; usage errors here, before any work."""
    if args.nginx and args.templates_dir:
        raise UsageError("--nginx and --templates exclude each other", hint="give one")
    jobs = [parse_pair(spec) for spec in args.specs]
    stream_dir = None
    filter_ = args.filter
    if args.templates_dir:
        if not args.output or args.output == "-":
            raise UsageError("--templates needs --output DIR", hint="e.g. -o /etc/nginx/conf.d")
        jobs += directory_jobs(args.templates_dir, args.output, args.suffix)
    elif args.output is not None:
        jobs = _with_output(jobs, args)
    if args.nginx:
        nginx = nginx_plan(env)
        jobs += nginx.jobs
        stream_dir = nginx.stream_dir
        filter_ = filter_ if filter_ is not None else nginx.filter
    if not jobs and stdin_default and not args.nginx:
        jobs.append(Job("-", None))
    _check_jobs(jobs)
    directory_mode = bool(args.templates_dir or args.nginx)
    return _Plan(jobs, _settings(args, filter_), stream_dir, directory_mode)


def _with_output(jobs: list[Job], args: RenderArgs) -> list[Job]:
    """``-o``: the output of the one template given without one (stdin if none)."""
    if args.nginx and not jobs:
        raise UsageError(
            "--nginx takes its output directories from NGINX_ENVSUBST_OUTPUT_DIR and "
            "NGINX_ENVSUBST_STREAM_OUTPUT_DIR, not -o",
        )
    jobs = jobs or [Job("-", None)]
    bare = [i for i, job in enumerate(jobs) if job.output is None]
    if len(bare) != 1:
        raise UsageError(
            "-o/--output names the output of exactly one template",
            hint="give several outputs as TEMPLATE:OUTPUT pairs",
        )
    out = None if args.output in (None, "-") else Path(args.output)
    jobs[bare[0]] = Job(jobs[bare[0]].template, out)
    return jobs


def _check_jobs(jobs: list[Job]) -> None:
    if sum(job.template == "-" for job in jobs) > 1:
        raise UsageError("only one template can come from stdin ('-')")
    seen: set[Path] = set()
    for job in jobs:
        if job.output is None:
            continue
        if job.output.resolve() in seen:
            raise UsageError(f"two templates would write {job.output}")
        seen.add(job.output.resolve())


def _settings(args: RenderArgs, filter_: str | None) -> Settings:
    for name in args.raw:
        if name != "*" and not is_name(name):
            raise UsageError(
                f"--raw {name}: not a variable name",
                hint="--raw alone takes the next word as a NAME: put it after the templates, "
                "or write --raw=NAME",
            )
    raw: bool | frozenset[str] = "*" in args.raw or frozenset(args.raw)
    selection = Selection.of(args.vars or None, filter_)
    return Settings(selection, args.strict, args.no_empty, raw)


def _outputs(
    args: RenderArgs,
    env: Mapping[str, str],
    own: Callable[[], Mapping[str, str]],
    *,
    stdin_default: bool,
) -> tuple[_Plan, list[Output]]:
    plan = _plan(args, env, stdin_default=stdin_default)
    outputs = render_all(plan.jobs, env, plan.settings, own)
    if plan.stream_dir is not None:
        block = stream_block(args.nginx_conf, plan.stream_dir)
        if block is not None:
            outputs.append(block)
    return plan, outputs


def _log_quiet(args: RenderArgs, env: Mapping[str, str]) -> bool:
    return args.quiet or (args.nginx and bool(env.get("NGINX_ENTRYPOINT_QUIET_LOGS")))


def _write(args: RenderArgs, plan: _Plan, outputs: list[Output], env: Mapping[str, str]) -> None:
    written = write(outputs)
    if plan.directory_mode and not _log_quiet(args, env):
        sources = {out.path: out.source for out in outputs}
        for path in written:
            click.echo(f"hostgw: wrote {path} (from {sources.get(path, '?')})", err=True)
        if not plan.jobs:
            click.echo("hostgw: no templates to render", err=True)


def _report_changes(args: RenderArgs, outputs: list[Output]) -> int:
    found = changes(outputs)
    for path, out, how in found:
        if args.diff:
            click.echo(unified_diff(path, out), nl=False)
        else:
            click.echo(f"would {how} {path}")
    return 1 if found else 0


@click.command("render")
@click.argument("templates", nargs=-1, metavar="[TEMPLATE[:OUT]]...")
@render_options
def render(templates: tuple[str, ...], render_args: RenderArgs) -> int:
    """Substitute environment variables and the host's address into templates.

    $NAME and ${NAME} are replaced for every name set in the environment and
    for HOSTGW_IP, HOSTGW_IP6 and HOSTGW_HOST (detected only if a template
    uses one); anything else, such as nginx's $host or $1, stays as it is.
    ${NAME:-default}, ${NAME-default}, ${NAME:+alt}, ${NAME+alt}, ${NAME:?msg}
    and ${NAME?msg} work as in bash. Errors list every problem as
    file:line:col NAME, and nothing is written. Files are replaced atomically,
    and only when their bytes change.

    \b
    Examples:
      hostgw render default.conf.template -o /etc/nginx/conf.d/default.conf
      hostgw render a.template:a.conf b.template:b.conf --strict
      hostgw render --templates /etc/nginx/templates --output /etc/nginx/conf.d
      hostgw render --nginx --check
      envsubst-style:  hostgw render --vars '${BACKEND} $PORT' < in > out
    """
    env = os.environ
    args = dataclasses.replace(render_args, specs=templates + render_args.specs)
    own = detector(env, args.detection.kwargs())
    plan, outputs = _outputs(args, env, own, stdin_default=True)
    if args.check or args.diff:
        return _report_changes(args, outputs)
    _write(args, plan, outputs, env)
    return 0


# -- exec -------------------------------------------------------------------------


@dataclass
class ExecState:
    """What the steps before the exec share: the command's environment, one detection."""

    env: dict[str, str]
    own: Callable[[], Mapping[str, str]]


Step = Callable[[ExecState], None]


def render_step(args: RenderArgs) -> Step | None:
    """Render and write the templates (None if there are none)."""
    if args.check or args.diff:
        raise UsageError("exec does not take --check or --diff", hint="use hostgw render --check")
    if not args.anything:
        if args.output is not None:
            raise UsageError("-o/--output needs a template (-t TEMPLATE) or --templates")
        return None

    def step(state: ExecState) -> None:
        plan, outputs = _outputs(args, state.env, state.own, stdin_default=False)
        _write(args, plan, outputs, state.env)

    return step


def export_step(state: ExecState) -> None:
    """Put HOSTGW_IP, HOSTGW_HOST (and HOSTGW_IP6) into the command's environment.

    Detection has already run if a template needed it; if it fails here no
    template needed it, so the command still runs, without them.
    """
    try:
        state.env.update(state.own())
    except GatewayNotFound as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        click.echo(f"hostgw: warning: HOSTGW_* not exported: {first}", err=True)


@click.command(
    "exec",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@render_options
@watch_options(for_exec=True)
@exec_wait_options
@rewrite_option
@map_option
@state_dir_option
@click.argument("command", nargs=-1, type=click.UNPROCESSED, required=True)
def exec_(
    command: tuple[str, ...],
    render_args: RenderArgs,
    watch: WatchArgs,
    wait_args: WaitArgs,
    *,
    rewrite_files: tuple[str, ...],
    maps: tuple[str, ...],
    state_dir: str | None,
) -> int:
    """Render templates, export HOSTGW_*, then become COMMAND (same pid).

    With --watch, hostgw stays as COMMAND's parent instead (see hostgw watch):
    it re-renders when the host's address changes and notifies COMMAND
    (SIGHUP unless --signal/--pid-file/--notify say otherwise), forwards
    TERM, INT, HUP, QUIT, USR1, USR2 and WINCH, reaps zombies (as PID 1) and
    exits with COMMAND's code (128+N if signal N killed it).

    With --wait TARGET (repeatable, as hostgw wait) it first waits, after
    rendering, until every target answers; exit 8 if time runs out.

    With --rewrite FILE -m HOST[:PORT]=PORT (repeatable; HOSTGW_MAP adds
    more) it rewrites FILE in place after rendering, as hostgw rewrite does
    (atomically, from its original kept under --state-dir); a rewrite error means the command
    is not run (exit code of the error). With --watch, rewrites again when
    the address changes.

    Takes the render options (templates with -t TEMPLATE[:OUT], --templates,
    --nginx, ...). A render error means the command is not run (exit code of
    the error); then hostgw execs COMMAND, so it keeps PID 1 and gets
    signals directly. Exit 127: command not found; 126: not executable.

    \b
    The nginx image's entrypoint in one line:
      hostgw exec --nginx -- nginx -g 'daemon off;'
    \b
    Other examples:
      hostgw exec -t haproxy.cfg.template:/etc/haproxy/haproxy.cfg -- haproxy -W \
          -f /etc/haproxy/haproxy.cfg
      hostgw exec -- sh -c 'echo "host is $HOSTGW_IP"'
    """
    from hostgw.execute import exec_command

    if command[0].startswith("-") and command[0] != "-":
        raise UsageError(
            f"unknown option {command[0]} for hostgw exec",
            hint="put the command after --: hostgw exec [OPTIONS] -- CMD ARGS...",
        )
    env = dict(os.environ)
    state = ExecState(env, detector(env, render_args.detection.kwargs()))
    last = LastWarnings()  # with --watch, the watcher's passes do not repeat these
    # The steps before the exec, in order; each may raise (then nothing runs).
    steps: list[Step | None] = [
        render_step(render_args),
        rewrite_step(rewrite_files, maps, quiet=render_args.quiet, state_dir=state_dir, last=last),
        export_step,
        wait_step(wait_args, quiet=render_args.quiet),
    ]
    for step in steps:
        if step is not None:
            step(state)
    if watch.enabled:
        from hostgw.cli._watch import exec_watch, rewrite_apply

        extra = (
            [rewrite_apply(rewrite_files, maps, state_dir=state_dir, last=last)]
            if rewrite_files
            else []
        )
        return exec_watch(command, state.env, render_args, watch, extra)
    exec_command(command, state.env)


def outputs_for(
    args: RenderArgs, env: Mapping[str, str], own: Callable[[], Mapping[str, str]]
) -> Sequence[tuple[Path, bytes]]:
    """The files ``args`` would have written for these ``HOSTGW_*`` values (for watchers)."""
    outputs = _outputs(args, env, own, stdin_default=False)[1]
    return [(out.path, out.data()) for out in outputs if out.path is not None]
