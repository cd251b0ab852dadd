"""``hostgw watch``, and the ``--watch`` half of ``hostgw exec``.

Both keep the outputs of ``render``/``rewrite`` in step with the host's
address (see :mod:`hostgw.watch`); ``exec --watch`` also runs the command
as a child and supervises it (see :mod:`hostgw.supervise`). The library
modules are imported inside the functions: plain ``exec`` pays for none.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hostgw.cli._render import RenderArgs, render_options
from hostgw.cli._rewrite import map_option
from hostgw.cli._rewrite_options import LastWarnings, check_rewrite_options, state_dir_option
from hostgw.cli._watch_options import WatchArgs, make_notifier, watch_options
from hostgw.errors import UsageError

if TYPE_CHECKING:
    from hostgw.detect import Detection
    from hostgw.notify import Notifier
    from hostgw.watch import Apply, Watcher


def _log(message: str) -> None:
    click.echo(f"hostgw watch {time.strftime('%H:%M:%S')}: {message}", err=True)


# -- what a pass re-runs --------------------------------------------------------


def render_apply(args: RenderArgs, env: Mapping[str, str]) -> Apply:
    """The render options as an :data:`Apply`: the same outputs ``render`` writes.

    The values come from a fresh :func:`hostgw.detect.gateway_env` each pass
    (only if a template uses them), exactly as ``render`` gets them.
    """
    from hostgw.cli._render import outputs_for
    from hostgw.rendering import detector
    from hostgw.watch import write_changed

    if args.check or args.diff:
        raise UsageError("watch does not take --check or --diff", hint="use hostgw render --check")
    kwargs = args.detection.kwargs()

    def apply(_found: Detection) -> list[Path]:
        return write_changed(outputs_for(args, env, detector(env, kwargs)))

    return apply


def rewrite_apply(
    files: Sequence[str],
    maps: Sequence[str],
    *,
    validate: bool = False,
    follow_includes: bool = False,
    state_dir: str | None = None,
    last: LastWarnings | None = None,
) -> Apply:
    """``--rewrite FILE --map …`` as an :data:`Apply`: in place, from the kept originals.

    Each pass first plans without writing; only when a file would change (or
    an original kept beside a file is to move into the state directory) does
    it run again and write, with ``--validate`` (if asked) only when a file's
    bytes change: a config already on disk needs no new test. The rewrite's
    gateway is the watcher's answer (passed as ``HOSTGW_IP``: no second walk).
    ``state_dir`` is ``--state-dir`` (see :mod:`hostgw.rewriting.pristine`).

    The pass's warnings are logged as ``rewrite`` words them, except those
    the last pass had too (``last`` remembers them; ``exec --watch`` passes
    the one its rewrite before the command filled).
    """
    from hostgw.cli._rewrite import warning_lines
    from hostgw.rewriting.apply import mappings_from, run
    from hostgw.rewriting.pristine import SUFFIX

    mappings = mappings_from(maps, os.environ)  # a bad --map fails at start
    paths = [Path(f) for f in files]
    shown = LastWarnings() if last is None else last

    def apply(found: Detection) -> list[Path]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTGW_IP")}
        env["HOSTGW_IP"] = found.address
        opts: dict[str, Any] = {
            "follow_includes": follow_includes,
            "env": env,
            "state_dir": state_dir,
        }
        the_plan = run(paths, mappings, write=False, **opts)
        changed = [f.path for f in the_plan.files if f.changed]
        beside = any(f.kept is not None and f.kept.name.endswith(SUFFIX) for f in the_plan.files)
        try:
            if changed or beside:  # this run's warnings also say where originals went
                check = validate and bool(changed)
                the_plan = run(paths, mappings, write=True, validate=check, **opts)
        finally:  # the plan's warnings, even when --validate then rejects it
            for line in shown.new(warning_lines(the_plan)):
                _log(f"warning: {line}")
        return changed

    return apply


def _all_of(applies: Sequence[Apply]) -> Apply:
    def apply(found: Detection) -> list[Path]:
        return [path for each in applies for path in each(found)]

    return apply


# -- running --------------------------------------------------------------------


def _watcher(
    args: RenderArgs, applies: Sequence[Apply], watch: WatchArgs, notifier: Notifier | None
) -> Watcher:
    """A :class:`Watcher` on the real environment; ``HOSTGW_NETLINK=0`` forces polling."""
    from hostgw.detect import detect
    from hostgw.watch import Timing, Watcher

    env = os.environ
    return Watcher(
        detect=functools.partial(detect, **{**args.detection.kwargs(), "env": env}),
        apply=_all_of(applies),
        notify=notifier,
        log=_log,
        timing=Timing(debounce=watch.debounce, max_delay=max(1.0, watch.debounce * 10)),
        env=env,
        root=args.detection.root,
        netlink=env.get("HOSTGW_NETLINK", "1") != "0",
    )


def _started(watcher: Watcher, found: Detection, written: Sequence[Path]) -> None:
    what = ", ".join(sorted(watcher.watching)) or (
        "nothing (the answer comes from the environment, which cannot change)"
    )
    wrote = f"; wrote {', '.join(map(str, written))}" if written else ""
    _log(f"host address {found.address} ({found.strategy}); watching {what}{wrote}")


def exec_watch(
    command: Sequence[str],
    env: Mapping[str, str],
    args: RenderArgs,
    watch: WatchArgs,
    extra: Sequence[Apply] = (),
) -> int:
    """``hostgw exec --watch``: start COMMAND as a child, supervise it, keep files in step.

    ``env`` is the command's environment (with ``HOSTGW_*`` exported once, at
    start); re-detection uses hostgw's own environment, never those exports.
    Returns the command's exit code (128+N for a death by signal N).
    """
    from hostgw.supervise import Child, supervise

    child = Child()
    notifier = make_notifier(watch, child_pid=lambda: child.pid)
    applies = [render_apply(args, os.environ), *extra] if args.anything else list(extra)
    if not applies:  # nothing to keep in step: an init that forwards and reaps
        _log("no templates or rewrites: supervising only")
        return supervise(command, env=env, child=child)
    watcher = _watcher(args, applies, watch, notifier)
    try:
        found, written = watcher.start()
        _started(watcher, found, written)
        return supervise(command, env=env, watcher=watcher, child=child)
    finally:
        watcher.close()


@click.command("watch")
@click.argument("templates", nargs=-1, metavar="[TEMPLATE[:OUT]]...")
@render_options
@click.option(
    "--rewrite",
    "rewrite_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Also rewrite FILE in place, as hostgw rewrite does; repeatable.",
)
@map_option
@click.option(
    "--validate",
    is_flag=True,
    help="Run the real proxy's config test on a rewrite before writing it.",
)
@click.option(
    "--follow-includes",
    is_flag=True,
    help="Also rewrite the files a --rewrite FILE includes: nginx include, Apache "
    "Include/IncludeOptional, Caddy import (HAProxy has no includes).",
)
@state_dir_option
@watch_options(for_exec=False)
def watch(
    *,
    templates: tuple[str, ...],
    render_args: RenderArgs,
    rewrite_files: tuple[str, ...],
    maps: tuple[str, ...],
    validate: bool,
    follow_includes: bool,
    state_dir: str | None,
    watch: WatchArgs,
) -> int:
    """Keep rendered and rewritten files in step with the host's address.

    Takes the outputs of render (templates, --templates, --nginx) and of
    rewrite (--rewrite FILE -m MAP). Renders once, then re-detects after
    route, link, address or /etc/hosts changes (debounced), rewrites only
    files whose bytes change, and then notifies the server. Errors are
    logged and the old files kept; it runs until TERM or INT (exit 0).

    \b
    Examples:
      hostgw watch default.conf.template:/etc/nginx/conf.d/default.conf \\
          --signal HUP --pid-file /run/nginx.pid
      hostgw watch --rewrite /etc/nginx/conf.d/default.conf -m backend:8000=8000 \\
          --validate --notify 'nginx -s reload'
    """
    from hostgw.watch import serve

    args = dataclasses.replace(render_args, specs=templates + render_args.specs)
    check_rewrite_options(rewrite_files, maps, state_dir)
    if not args.anything and not rewrite_files:
        raise UsageError(
            "nothing to keep in step",
            hint="give templates (TEMPLATE:OUT, --templates, --nginx) or --rewrite",
        )
    applies = [render_apply(args, os.environ)] if args.anything else []
    if rewrite_files:
        applies.append(
            rewrite_apply(
                rewrite_files,
                maps,
                validate=validate,
                follow_includes=follow_includes,
                state_dir=state_dir,
            )
        )
    notifier = make_notifier(watch)
    watcher = _watcher(args, applies, watch, notifier)
    try:
        found, written = watcher.start()
        _started(watcher, found, written)
        if written and notifier is not None:
            watcher.notify_now()
        serve(watcher)
    finally:
        watcher.close()
    return 0
