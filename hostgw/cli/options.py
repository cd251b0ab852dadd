"""The options the commands share, each defined once.

Each decorator adds a group of options to a click command and hands the
callback one value in their place, built by the library's own record:

- :func:`detection_options`: ``options``, checked
  :class:`~hostgw.detection.Options` (explicit options, then ``HOSTGW_*``);
- :func:`render_options`: ``request``, a
  :class:`~hostgw.templates.jobs.RenderRequest` (and the detection options);
- :func:`watch_options`: ``watch``, a :class:`~hostgw.runtime.notify.WatchSettings`;
- :func:`wait_options` and :func:`exec_wait_options`: ``waits``, a
  :class:`~hostgw.runtime.wait.WaitSettings`;
- :func:`map_option`, :func:`state_dir_option`, :func:`rewrite_option`: plain values.

The records' modules are imported when a command runs, not when its options
are defined: ``hostgw ip`` pays for none of the others.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from hostgw.detection.table import NAMES

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., object])


def _apply(options: list[Callable[[Any], Any]], fn: Callable[..., R]) -> Callable[..., R]:
    decorated: Callable[..., R] = fn
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


def _seconds(flag: str, default: float, text: str, name: str | None = None) -> Any:
    """An option taking a duration: zero or more SECONDS, default shown in --help."""
    decls = [flag] if name is None else [flag, name]
    return click.option(
        *decls,
        type=click.FloatRange(min=0),
        default=default,
        show_default=True,
        metavar="SECONDS",
        help=text,
    )


# -- detection -------------------------------------------------------------------

_DETECTION = [
    click.option(
        "--strategy",
        "strategy",
        multiple=True,
        metavar="NAME",
        type=click.Choice(NAMES),
        help="Strategy to try; repeat to choose several, in order "
        f"(env: HOSTGW_STRATEGIES=a,b; default: {', '.join(NAMES)}).",
    ),
    click.option(
        "--name",
        "name",
        multiple=True,
        metavar="HOST",
        help="Hostname for the hosts and dns strategies; repeatable "
        "(env: HOSTGW_NAMES=a,b; default: host.docker.internal,host.containers.internal).",
    ),
    click.option("-4", "ipv4", is_flag=True, help="IPv4 only."),
    click.option("-6", "ipv6", is_flag=True, help="IPv6 only (default: IPv4, else IPv6)."),
    _seconds("--timeout", 1.0, "Total time for DNS lookups."),
    click.option(
        "--port",
        type=click.IntRange(1, 65535),
        metavar="PORT",
        help="Probe every candidate with a TCP connect to PORT; the first in order of "
        "trust that accepts wins.",
    ),
    _seconds("--probe-timeout", 0.5, "Time bound of each --port connect (they run concurrently)."),
    click.option(
        "--root",
        default="/",
        show_default=True,
        metavar="DIR",
        type=click.Path(exists=True, file_okay=False),
        help="Read proc/, etc/ and sys/ under DIR (a copied snapshot); dns, netlink "
        "and netifaces then run only if named with --strategy.",
    ),
    click.option(
        "--k8s-var",
        metavar="VAR",
        help="Variable holding the node address (env: HOSTGW_K8S_VAR; default: HOST_IP).",
    ),
]


def detection_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the shared detection options; the callback gets ``options: Options``."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        from hostgw.detection import resolve_options

        ipv4, ipv6 = kwargs.pop("ipv4"), kwargs.pop("ipv6")
        if ipv4 and ipv6:
            raise click.UsageError("-4 and -6 exclude each other; give one, or neither")
        options = resolve_options(
            strategies=tuple(kwargs.pop("strategy")) or None,
            family=4 if ipv4 else 6 if ipv6 else None,
            names=tuple(kwargs.pop("name")) or None,
            k8s_var=kwargs.pop("k8s_var"),
            timeout=kwargs.pop("timeout"),
            port=kwargs.pop("port"),
            probe_timeout=kwargs.pop("probe_timeout"),
            root=kwargs.pop("root"),
            env=os.environ,
        )
        return fn(*args, options=options, **kwargs)

    return _apply(_DETECTION, wrapper)


# -- render -----------------------------------------------------------------------


def _render() -> list[Callable[[Any], Any]]:
    """The render options (defined when a rendering command is, not for ``hostgw ip``)."""
    return [
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
        click.option(
            "--strict", is_flag=True, help="A selected reference that is unset is an error."
        ),
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
    ]


# RenderRequest fields and the click parameters they come from.
_RENDER_FIELDS = {
    "specs": "template",
    "output": "output",
    "templates_dir": "templates_dir",
    "suffix": "suffix",
    "nginx": "nginx",
    "nginx_conf": "nginx_conf",
    "vars": "vars",
    "filter": "filter",
    "strict": "strict",
    "no_empty": "no_empty",
    "raw": "raw",
    "check": "check",
    "diff": "diff",
    "quiet": "quiet",
}


def render_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add the render options (and the detection options) to a click command.

    The callback gets ``request: RenderRequest`` and ``options: Options``;
    positional ``templates`` (if the command takes them) come first in
    ``request.specs``.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kw: Any) -> R:
        from hostgw.templates.jobs import RenderRequest

        given = {name: kw.pop(param) for name, param in _RENDER_FIELDS.items()}
        given["specs"] = tuple(kw.pop("templates", ())) + tuple(given["specs"])
        return fn(*args, request=RenderRequest(**given), **kw)

    return _apply(_render(), detection_options(wrapper))


# -- rewrite ------------------------------------------------------------------------


def map_option(fn: F) -> F:
    """``-m/--map`` (repeatable; ``HOSTGW_MAP`` adds more), for rewrite, watch and exec."""
    return click.option(
        "-m",
        "--map",
        "maps",
        multiple=True,
        metavar="HOST[:PORT]=[ADDR:]PORT",
        help="Send HOST (on PORT, or any port) to gateway:PORT, or to ADDR:PORT. "
        "Repeatable; HOSTGW_MAP='a:8000=18000,b=19000' adds more.",
    )(fn)


def state_dir_option(fn: F) -> F:
    """``--state-dir DIR`` (default: ``HOSTGW_STATE_DIR``, else /var/lib/hostgw)."""
    return click.option(
        "--state-dir",
        metavar="DIR",
        type=click.Path(file_okay=False),
        help="Keep the originals of files rewritten in place under DIR/pristine/ "
        "(default: HOSTGW_STATE_DIR, else /var/lib/hostgw). If DIR cannot be written, "
        "nginx and HAProxy originals go beside the file (.FILE.hostgw-orig, with a "
        "warning); Apache and Caddy files are not rewritten in place (exit 2), as httpd "
        "and caddy may load such a copy.",
    )(fn)


def rewrite_option(fn: F) -> F:
    """``--rewrite FILE`` (repeatable), for exec."""
    return click.option(
        "--rewrite",
        "rewrite_files",
        multiple=True,
        metavar="FILE",
        help="Before the command runs, rewrite FILE in place as hostgw rewrite does "
        "(atomically, from its kept original), with the --map rules; repeatable.",
    )(fn)


# -- watch --------------------------------------------------------------------------


def _notify_options(for_exec: bool) -> list[Callable[[Any], Any]]:
    who = "the command (default: HUP)" if for_exec else "the pid in --pid-file"
    return [
        click.option(
            "--signal",
            "signal_name",
            metavar="SIG",
            help=f"After files changed, send SIG to {who}.",
        ),
        click.option(
            "--pid-file",
            type=click.Path(dir_okay=False),
            metavar="FILE",
            help="Signal the pid in FILE (read at each change), e.g. /run/nginx.pid.",
        ),
        click.option(
            "--notify",
            "notify_command",
            metavar="COMMAND",
            help="After files changed, run COMMAND with sh -c, e.g. 'nginx -s reload'.",
        ),
        click.option(
            "--debounce",
            type=click.FloatRange(0.0, 60.0),
            default=0.1,
            show_default=True,
            metavar="SECONDS",
            help="Quiet time after the last network event before re-detecting.",
        ),
    ]


def _watch_flag() -> Callable[[Any], Any]:
    return click.option(
        "--watch",
        "watch_enabled",
        is_flag=True,
        help="Stay as the command's parent: re-render when the host's address "
        "changes and notify the command (see hostgw watch). Forwards signals, "
        "reaps zombies, exits with the command's code.",
    )


def watch_options(*, for_exec: bool) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Add ``--signal``, ``--pid-file``, ``--notify``, ``--debounce`` (and for exec ``--watch``).

    The callback gets one ``watch: WatchSettings`` argument in their place.
    """

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kw: Any) -> R:
            from hostgw.errors import UsageError
            from hostgw.runtime.notify import WatchSettings

            watch = WatchSettings(
                enabled=kw.pop("watch_enabled", True),
                signal_name=kw.pop("signal_name"),
                pid_file=kw.pop("pid_file"),
                notify_command=kw.pop("notify_command"),
                debounce=kw.pop("debounce"),
            )
            if (
                for_exec
                and not watch.enabled
                and (watch.signal_name or watch.pid_file or watch.notify_command)
            ):
                raise UsageError(
                    "--signal, --pid-file and --notify need --watch",
                    hint="hostgw exec --watch --notify '...' -- CMD",
                )
            return fn(*args, watch=watch, **kw)

        options = _notify_options(for_exec)
        return _apply([_watch_flag(), *options] if for_exec else options, wrapper)

    return decorate


# -- wait -----------------------------------------------------------------------------


def _wait_seconds() -> tuple[tuple[str, str, click.FloatRange, float, str], ...]:
    """``(option, WaitSettings field, type, default, help)`` of the options that take
    seconds (the defaults are the library's; read when a waiting command is defined)."""
    from hostgw.runtime.wait import DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_INTERVAL, DEFAULT_TIMEOUT

    return (
        (
            "timeout",
            "timeout",
            click.FloatRange(min=0, min_open=True),
            DEFAULT_TIMEOUT,
            "Total time for all targets together.",
        ),
        (
            "interval",
            "interval",
            click.FloatRange(min=0.01),
            DEFAULT_INTERVAL,
            "Pause between rounds of checks.",
        ),
        (
            "attempt-timeout",
            "attempt_timeout",
            click.FloatRange(min=0, min_open=True),
            DEFAULT_ATTEMPT_TIMEOUT,
            "Longest one check may take (also bounded by the time left).",
        ),
    )


def wait_options(prefix: str = "") -> Callable[[Callable[..., R]], Callable[..., R]]:
    """The timing options of ``wait``; the callback gets ``waits: WaitSettings``.

    ``prefix`` names them where they live beside other options
    (``exec --wait-timeout``); the targets are left empty.
    """

    def param(option: str) -> str:
        return f"{prefix}{option}".replace("-", "_")

    seconds = _wait_seconds()

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            from hostgw.runtime.wait import WaitSettings

            given = {field: kwargs.pop(param(option)) for option, field, *_ in seconds}
            waits = WaitSettings(insecure=kwargs.pop(param("insecure")), **given)
            return fn(*args, waits=waits, **kwargs)

        options = [
            click.option(
                f"--{prefix}{option}",
                param(option),
                type=kind,
                default=default,
                show_default=True,
                metavar="SECONDS",
                help=text,
            )
            for option, _, kind, default, text in seconds
        ]
        options.append(
            click.option(
                f"--{prefix}insecure",
                param("insecure"),
                is_flag=True,
                help="https:// targets: accept any certificate.",
            )
        )
        return _apply(options, wrapper)

    return decorate


def exec_wait_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add ``--wait TARGET`` (repeatable) and ``--wait-timeout`` etc. to ``exec``.

    The callback gets one ``waits: WaitSettings`` in their place.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        targets = tuple(kwargs.pop("wait"))
        kwargs["waits"] = kwargs["waits"].replace(targets=targets)
        return fn(*args, **kwargs)

    return click.option(
        "--wait",
        "wait",
        multiple=True,
        metavar="TARGET",
        help="Before the command runs, wait until TARGET answers (as hostgw wait: PORT, "
        "HOST:PORT, tcp://..., http://...); repeatable. PORT is on the detected host.",
    )(wait_options(prefix="wait-")(wrapper))


# -- printing -------------------------------------------------------------------------


def say(message: str) -> None:
    """A message of hostgw's own on stderr: ``hostgw: message``."""
    click.echo(f"hostgw: {message}", err=True)
