"""``exec``'s pipeline and ``watch``'s passes: detection joined to templates and rewrites.

``hostgw exec`` runs a list of steps before it becomes the command (render,
rewrite, export ``HOSTGW_*``, wait), all sharing one lazily-detected answer
(a :class:`~hostgw.detection.Once`), then ``os.execvpe``: same pid, signals
go straight to the command. With ``--watch`` it stays as the command's
parent instead, and a :class:`~hostgw.runtime.watcher.Watcher` re-applies
the same outputs whenever the answer may have changed; ``hostgw watch`` is
that watcher without a command.

An :data:`~hostgw.runtime.watcher.Apply` gets the answer of the pass's one
walk: the values it writes are those the watcher logs and compares.
Messages go to the ``log`` callables the caller passes; nothing here prints.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hostgw.detection import Answer, Once, Options
from hostgw.errors import EXIT_SIGNAL_BASE, GatewayNotFound, RewriteError, UsageError
from hostgw.record import Record
from hostgw.templates.jobs import RenderRequest

if TYPE_CHECKING:
    from hostgw.rewriting.files import Plan as RewritePlan
    from hostgw.rewriting.mapping import Mappings
    from hostgw.runtime.loop import Handler
    from hostgw.runtime.notify import Notifier, WatchSettings
    from hostgw.runtime.supervise import Child
    from hostgw.runtime.wait import WaitSettings
    from hostgw.runtime.watcher import Apply, Watcher

Log = Callable[[str], None]


class RewriteSettings(Record):
    """The rewrite options of ``exec`` and ``watch``: files in place, with mappings."""

    files: tuple[str, ...] = ()
    maps: tuple[str, ...] = ()
    state_dir: str | None = None
    validate: bool = False
    follow_includes: bool = False
    format: str | None = None  # of every file (--rewrite-format); None: each one's own

    def given(self) -> bool:
        """Whether there is something to rewrite; ``--map`` or ``--state-dir`` alone
        is an error."""
        if self.files:
            return True
        for given, name in ((self.maps, "--map"), (self.state_dir, "--state-dir")):
            if given:
                raise UsageError(
                    f"{name} needs --rewrite FILE",
                    hint="e.g. --rewrite nginx.conf -m backend:8000=18000",
                )
        return False


class LastWarnings:
    """The warnings of the last pass, so that a watcher does not repeat them each pass.

    :meth:`new` keeps only the lines the last call did not have; a warning
    that goes away for a pass and comes back is shown again. Each line names
    its file (``--map … matched nothing`` is about the whole set).
    """

    def __init__(self) -> None:
        self._last: frozenset[str] = frozenset()

    def new(self, lines: Sequence[str]) -> list[str]:
        """The ``lines`` not in the last call's; ``lines`` become the last."""
        fresh = [line for line in lines if line not in self._last]
        self._last = frozenset(lines)
        return fresh


def rewrite_report(
    the_plan: RewritePlan, *, quiet: bool = False, last: LastWarnings | None = None
) -> list[str]:
    """The summary lines of a rewrite: one per change (unless ``quiet``), then the
    warnings (with ``last``, only those it has not seen in the last pass)."""
    lines = [] if quiet else the_plan.change_lines()
    found = the_plan.warning_lines()
    lines += [f"warning: {w}" for w in (found if last is None else last.new(found))]
    return lines


# -- render --------------------------------------------------------------------


def write_render(
    request: RenderRequest,
    env: Mapping[str, str],
    own: Callable[[], Mapping[str, str]],
    log: Log,
    *,
    stdin_default: bool = False,
) -> list[Path]:
    """Plan, render and write; log each file written (unless quiet)."""
    from hostgw.templates.jobs import plan
    from hostgw.templates.outputs import render_write

    the_plan = plan(request, env, stdin_default=stdin_default)
    try:
        written = render_write(the_plan, env, own)
    finally:
        for note in the_plan.notes:
            log(f"warning: {note}")
    quiet = request.quiet or (request.nginx and bool(env.get("NGINX_ENTRYPOINT_QUIET_LOGS")))
    if not quiet:
        for out in written:
            log(f"wrote {out.path} (from {out.source})")
        if the_plan.directory_mode and not the_plan.jobs and not the_plan.notes:
            log("no templates to render")  # (a note has said why, if there is one)
    return [out.path for out in written if out.path is not None]


# -- exec's steps -------------------------------------------------------------------


class Session:
    """What exec's steps share: the command's environment, and one detection."""

    def __init__(self, env: dict[str, str], once: Once) -> None:
        self.env = env
        self.once = once


Step = Callable[[Session], None]


def render_step(request: RenderRequest, log: Log) -> Step | None:
    """Render and write the templates (None if there are none)."""
    if request.check or request.diff:
        raise UsageError("exec does not take --check or --diff", hint="use hostgw render --check")
    if not request.anything:
        if request.output is not None:
            raise UsageError("-o/--output needs a template (-t TEMPLATE) or --templates")
        return None

    def step(session: Session) -> None:
        write_render(request, session.env, session.once.env, log)

    return step


def rewrite_step(
    settings: RewriteSettings, log: Log, *, quiet: bool = False, last: LastWarnings | None = None
) -> Step | None:
    """``exec --rewrite FILE --map ...`` as a step (None: nothing to do).

    The mappings are checked now, before any step runs; the step rewrites
    with the gateway of the session's one detection. A rewrite error
    propagates, so the command does not run. ``last`` (under ``--watch``)
    records the warnings shown, so the watcher's first pass does not show
    them again.
    """
    if not settings.given():
        return None
    from hostgw.rewriting.apply import mappings_from

    mappings = mappings_from(settings.maps, os.environ)
    paths = [Path(f) for f in settings.files]

    def step(session: Session) -> None:
        the_plan = _rewrite_files(settings, paths, mappings, gateway=session.once.host)
        for line in rewrite_report(the_plan, quiet=quiet, last=last):
            log(line)

    return step


def _rewrite_files(
    settings: RewriteSettings, paths: list[Path], mappings: Mappings, **run_args: Any
) -> RewritePlan:
    """``hostgw.rewriting.apply.run`` for exec's and watch's files, in their format; an
    error's hint names their ``--rewrite-format``, not rewrite's ``--format``."""
    from hostgw.rewriting.apply import run
    from hostgw.rewriting.engine import FORMAT_OPTION

    try:
        return run(paths, mappings, fmt=settings.format, state_dir=settings.state_dir, **run_args)
    except RewriteError as exc:
        exc.hint = exc.hint and exc.hint.replace(FORMAT_OPTION, "--rewrite-format")
        raise


def export_step(log: Log) -> Step:
    """Put HOSTGW_IP, HOSTGW_HOST (and HOSTGW_IP6) into the command's environment.

    Detection has already run if a template needed it; if it fails here no
    template needed it, so the command still runs, without them.
    """

    def step(session: Session) -> None:
        try:
            session.env.update(session.once.env())
        except GatewayNotFound as exc:  # the whole message: every strategy's reason, the fix
            lines = str(exc).splitlines() or [type(exc).__name__]
            log(f"warning: HOSTGW_* not exported: {lines[0]}")
            for line in lines[1:]:
                log(line)

    return step


def wait_step(settings: WaitSettings, progress: Log | None) -> Step | None:
    """The step that waits (None without targets).

    Targets are parsed now, so a bad one is a usage error before anything
    runs. A bare PORT uses the address the templates got (``HOSTGW_IP``).
    """
    if not settings.targets:
        return None
    from hostgw.runtime import wait

    parsed = wait.parse_targets(settings.targets)

    def step(session: Session) -> None:
        wait.wait_with(parsed, settings, progress=progress, gateway=session.once.address)

    return step


# -- watch's passes --------------------------------------------------------------------


def render_apply(request: RenderRequest, env: Mapping[str, str]) -> Apply:
    """The render options as an :data:`Apply`: the outputs ``render`` writes, with
    the pass's answer as ``HOSTGW_*``."""
    from hostgw.templates.jobs import plan
    from hostgw.templates.outputs import render_plan, write

    if request.check or request.diff:
        raise UsageError("watch does not take --check or --diff", hint="use hostgw render --check")

    def apply(answer: Answer) -> list[Path]:
        the_plan = plan(request, env, stdin_default=False)
        outputs = render_plan(the_plan, env, answer.env)
        return write([out for out in outputs if out.path is not None])  # directory mode: fds

    return apply


def rewrite_apply(
    settings: RewriteSettings, log: Log, *, last: LastWarnings | None = None
) -> Apply:
    """The rewrite options as an :data:`Apply`: in place, from the kept originals.

    Each pass first plans without writing; only when a file would change (or
    an original kept beside a file is to move into the state directory) does
    it run again and write, with ``--validate`` (if asked) only when a file's
    bytes change: a config already on disk needs no new test. The gateway is
    the pass's answer. An original that a write could not move (the state
    directory is still unwritable) is tried again with the next change, not
    on every pass.

    The pass's warnings are logged as ``rewrite`` words them, except those
    the last pass had too (``last`` remembers them; ``exec --watch`` passes
    the one its rewrite before the command filled).
    """
    from hostgw.rewriting.apply import mappings_from
    from hostgw.rewriting.pristine import SUFFIX

    mappings = mappings_from(settings.maps, os.environ)  # a bad --map fails at start
    paths = [Path(f) for f in settings.files]
    shown = LastWarnings() if last is None else last
    stuck: set[Path] = set()  # originals beside their files that the last write left there
    where: list[str] = []  # that write's words about them (a plan alone does not say)

    def once(answer: Answer, *, write: bool, validate: bool = False) -> RewritePlan:
        return _rewrite_files(
            settings,
            paths,
            mappings,
            write=write,
            validate=validate,
            follow_includes=settings.follow_includes,
            gateway=answer.detection.host,
        )

    def beside(plan: RewritePlan) -> set[Path]:
        return {f.kept for f in plan.files if f.kept is not None and f.kept.name.endswith(SUFFIX)}

    def apply(answer: Answer) -> list[Path]:
        nonlocal stuck, where
        planned = the_plan = once(answer, write=False)
        changed = [f.path for f in planned.files if f.changed]
        also = where
        try:
            if changed or beside(planned) - stuck:
                the_plan = once(answer, write=True, validate=settings.validate and bool(changed))
                stuck = beside(the_plan)
                said = set(planned.warning_lines())
                where = [w for w in the_plan.warning_lines() if w not in said]
                also = []
        finally:  # the plan's warnings, even when --validate then rejects it
            for line in shown.new([*the_plan.warning_lines(), *also]):
                log(f"warning: {line}")
        return changed

    return apply


def all_of(applies: Sequence[Apply]) -> Apply:
    """One :data:`Apply` that runs each of ``applies`` with the same answer."""

    def apply(answer: Answer) -> list[Path]:
        return [path for each in applies for path in each(answer)]

    return apply


def watcher_for(
    options: Options,
    applies: Sequence[Apply],
    settings: WatchSettings,
    notifier: Notifier | None,
    log: Log,
) -> Watcher:
    """A :class:`Watcher` on the real machine; ``HOSTGW_NETLINK=0`` forces polling.

    Each pass walks the table once (with the IPv6 answer, for ``HOSTGW_IP6``).
    """
    from hostgw.detection import walk
    from hostgw.runtime.watcher import Timing, Watcher

    return Watcher(
        detect=lambda: walk(options, v6=True),
        apply=all_of(applies),
        notify=notifier,
        log=log,
        timing=Timing(
            debounce=settings.debounce,
            settle=settings.debounce / 20,
            max_delay=max(1.0, settings.debounce * 10),
        ),
        root=options.context.root,
        netlink=os.environ.get("HOSTGW_NETLINK", "1") != "0",
    )


def started(watcher: Watcher, answer: Answer, written: Sequence[Path]) -> str:
    """The line a watcher logs once its first pass is done."""
    found = answer.detection
    what = ", ".join(sorted(watcher.watching)) or (
        "nothing (the answer comes from the environment, which cannot change)"
    )
    wrote = f"; wrote {', '.join(map(str, written))}" if written else ""
    return f"host address {found.address} ({found.strategy}); watching {what}{wrote}"


# -- the commands ----------------------------------------------------------------------


def run_exec(
    command: Sequence[str],
    *,
    options: Options,
    request: RenderRequest,
    rewrites: RewriteSettings,
    waits: WaitSettings,
    watch: WatchSettings,
    log: Log,
    wait_log: Log,
    watch_log: Log,
) -> int:
    """``hostgw exec``: the steps, then become ``command`` (or, with ``watch``,
    supervise it while a watcher keeps the files in step; return its code).

    ``log``, ``wait_log`` and ``watch_log`` take the messages of the steps,
    of the wait's rounds and of the watcher. Signals are handled from the
    start: a TERM or INT before the command runs ends hostgw with 128+N,
    the command never started (see :func:`~hostgw.runtime.loop.starting`).
    """
    from hostgw.runtime.loop import Stopped, starting, stop_asked
    from hostgw.runtime.supervise import FORWARDED, Child, supervise

    if command[0].startswith("-") and command[0] != "-":
        raise UsageError(
            f"unknown option {command[0]} for hostgw exec",
            hint="put the command after --: hostgw exec [OPTIONS] -- CMD ARGS...",
        )
    session = Session(dict(os.environ), Once(options))
    last = LastWarnings()  # with --watch, the watcher's passes do not repeat these
    # The steps before the command, in order; each may raise (then nothing runs).
    steps: list[Step | None] = [
        render_step(request, log),
        rewrite_step(rewrites, log, quiet=request.quiet, last=last),
        export_step(log),
        wait_step(waits, None if request.quiet else wait_log),
    ]
    child = Child()
    held: dict[int, Handler] = dict.fromkeys(FORWARDED, child.forward) if watch.enabled else {}
    watcher = exec_watcher(
        child,
        options=options,
        request=request,
        rewrites=rewrites,
        settings=watch,
        last=last,
        log=watch_log,
    )
    try:
        with starting(held):  # until the command runs, other signals wait for it
            if watcher is not None:
                watcher.listen()  # exec's steps are its first pass: listen before them
            for step in steps:
                if step is not None:
                    step(session)
            stop_asked()  # a stop Python dropped on the way: the command must not run
            if not watch.enabled:
                from hostgw.runtime.execute import exec_command

                exec_command(command, session.env)
            if watcher is not None:
                answer = session.once.answer()
                watcher.adopt(answer)
                watch_log(started(watcher, answer, ()))
            return supervise(command, env=session.env, watcher=watcher, child=child)
    except Stopped as stop:
        log(f"stopped by {stop.name} before the command started")
        return EXIT_SIGNAL_BASE + stop.signum
    finally:
        if watcher is not None:
            watcher.close()


def exec_watcher(
    child: Child,
    *,
    options: Options,
    request: RenderRequest,
    rewrites: RewriteSettings,
    settings: WatchSettings,
    last: LastWarnings,
    log: Log,
) -> Watcher | None:
    """``exec --watch``'s watcher: the passes after exec's steps (None without
    ``--watch``, or with nothing to keep in step: then hostgw only supervises);
    the command gets the notifications."""
    from hostgw.runtime.notify import notifier_for

    if not settings.enabled:
        return None
    applies = [render_apply(request, os.environ)] if request.anything else []
    if rewrites.files:
        applies.append(rewrite_apply(rewrites, log, last=last))
    notifier = notifier_for(settings, child_pid=lambda: child.pid)
    if not applies:
        log("no templates or rewrites: supervising only")
        return None
    return watcher_for(options, applies, settings, notifier, log)


def run_watch(
    *,
    options: Options,
    request: RenderRequest,
    rewrites: RewriteSettings,
    watch: WatchSettings,
    log: Log,
) -> int:
    """``hostgw watch``: keep the outputs in step until TERM or INT; return 0.

    Signals are handled from the start: TERM or INT during the first pass
    ends it there (files written so far stay whole), HUP makes it look again
    once it is done.
    """
    from hostgw.runtime.loop import Stopped, serve, starting, stop_asked
    from hostgw.runtime.notify import notifier_for

    rewrites.given()
    if not request.anything and not rewrites.files:
        raise UsageError(
            "nothing to keep in step",
            hint="give templates (TEMPLATE:OUT, --templates, --nginx) or --rewrite",
        )
    applies = [render_apply(request, os.environ)] if request.anything else []
    if rewrites.files:
        applies.append(rewrite_apply(rewrites, log))
    notifier = notifier_for(watch)
    watcher = watcher_for(options, applies, watch, notifier, log)
    try:
        with starting({signal.SIGHUP: lambda _signum, _frame: watcher.mark()}):
            answer, written = watcher.start()
            stop_asked()  # a stop Python dropped during the pass: do not go on to the loop
            log(started(watcher, answer, written))
            if written and notifier is not None:
                watcher.notify_now()
            serve(watcher)  # its handlers take over from here
    except Stopped as stop:
        log(f"stopped by {stop.name} during the first pass")
    finally:
        watcher.close()
    return 0
