"""The options the commands share, each defined once, and the CLI's vocabulary.

Each decorator adds a group of options to a click command and hands the
callback one value in their place, built by the library's own record:

- :func:`detection_options`: ``options``, checked
  :class:`~hostgw.detection.Options` (explicit options, then ``HOSTGW_*``);
- :func:`render_options`: ``request``, a
  :class:`~hostgw.templates.jobs.RenderRequest` (and the detection options);
- :func:`watch_options`: ``watch``, a :class:`~hostgw.runtime.notify.WatchSettings`;
- :func:`wait_options` and :func:`exec_wait_options`: ``waits``, a
  :class:`~hostgw.runtime.wait.WaitSettings`;
- :func:`map_option`, :func:`state_dir_option`, :func:`rewrite_option`,
  :func:`json_option`, :func:`quiet_option`: plain values.

The vocabulary: every duration is a :class:`Duration` (``500ms``, ``10s``,
``1m``, plain seconds); every command is a :class:`Command`, which answers
the habits of neighbouring tools (``-template``, one dash) with the right
spelling; an old spelling stays as a hidden alias (:func:`alias`). The
records' modules are imported when a command runs, not when its options are
defined: ``hostgw ip`` pays for none of the others.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from hostgw.detection.table import NAMES
from hostgw.formats import FORMATS

R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., object])


def _apply(options: list[Callable[[Any], Any]], fn: Callable[..., R]) -> Callable[..., R]:
    decorated: Callable[..., R] = fn
    for option in reversed(options):
        decorated = option(decorated)
    return decorated


# -- durations ------------------------------------------------------------------------

# Patterns are compiled on first use (re caches them), not by every import.
_DURATION = r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?\s*"
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration(text: str) -> float:
    """``500ms``, ``10s``, ``1.5m``, ``1h`` or plain seconds (``2.5``), as seconds.

    Raises :class:`ValueError` for anything else (a sign, another unit, blanks inside).
    """
    found = re.fullmatch(_DURATION, text, re.ASCII)
    if found is None:
        raise ValueError(f"{text!r} is not a duration: write 500ms, 10s, 1m or seconds (2.5)")
    return float(found.group(1)) * _UNIT[found.group(2)]


if TYPE_CHECKING:  # generic in click's stubs from 8.2 on, not at run time in 8.1
    _ParamType = click.ParamType[float]
else:
    _ParamType = click.ParamType


class Duration(_ParamType):
    """A duration option: ``500ms``, ``10s``, ``1m``, ``1h`` or plain seconds.

    ``minimum`` is inclusive unless ``open_min``; ``maximum`` is inclusive.
    """

    name = "duration"

    def __init__(
        self, minimum: float = 0.0, *, open_min: bool = False, maximum: float | None = None
    ) -> None:
        self.minimum = minimum
        self.open_min = open_min
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Seconds as a float; a clear message for a bad duration or one out of range."""
        if isinstance(value, int | float):
            seconds = float(value)
        else:
            try:
                seconds = parse_duration(str(value))
            except ValueError as exc:
                self.fail(str(exc), param, ctx)
        low = seconds <= self.minimum if self.open_min else seconds < self.minimum
        if low or (self.maximum is not None and seconds > self.maximum):
            self.fail(f"{value!r} is not in the range {self.describe()}", param, ctx)
        return seconds

    def describe(self) -> str:
        """The range in words, as --help shows it."""
        low = f"more than {self.minimum:g}s" if self.open_min else f"at least {self.minimum:g}s"
        return low if self.maximum is None else f"{low}, at most {self.maximum:g}s"


def _seconds(
    flag: str,
    default: float,
    text: str,
    name: str,
    *,
    kind: Duration | None = None,
    envvar: str | None = None,
) -> Any:
    """An option taking a duration, its default (and variable) shown in --help."""
    return click.option(
        flag,
        name,
        type=kind or Duration(),
        default=f"{default:g}s",
        show_default=True,
        metavar="DURATION",
        envvar=envvar,
        show_envvar=envvar is not None,
        help=text,
    )


# -- old spellings ----------------------------------------------------------------------


def alias(old: str, param: str) -> Callable[[Any], Any]:
    """A hidden option ``old`` that sets ``param`` when ``param`` was not given.

    The command's wrapper calls :func:`take_aliases`; ``--help`` shows only
    the new name.
    """
    return click.option(old, f"alias__{param}", default=None, hidden=True, type=click.UNPROCESSED)


def take_aliases(kwargs: dict[str, Any], ctx: click.Context | None = None) -> None:
    """Fold every hidden alias in ``kwargs`` into the option it stands for.

    The new spelling wins when both are on the command line; an alias beats
    the default and the environment. Its value is converted by the new
    option's own type.
    """
    ctx = ctx or click.get_current_context()
    for key in [k for k in kwargs if k.startswith("alias__")]:
        value = kwargs.pop(key)
        param = key.removeprefix("alias__")
        if value is None:
            continue
        if ctx.get_parameter_source(param) == ParameterSource.COMMANDLINE:
            continue
        option = next(p for p in ctx.command.params if p.name == param)
        old = next(p for p in ctx.command.params if p.name == key)
        try:
            kwargs[param] = option.type_cast_value(ctx, value)
        except click.BadParameter as exc:  # name the spelling the user wrote
            exc.param, exc.param_hint = None, repr(old.opts[0])
            raise


# -- habits of neighbouring tools -----------------------------------------------------------

# (command, what a one-dash word means there) -> the option to suggest, where the
# neighbouring tool's meaning differs from ours (dockerize's -timeout bounds its -wait).
_HABITS: dict[tuple[str, str], str] = {("exec", "timeout"): "--wait-timeout"}
_ONE_DASH = r"-([a-z][a-z0-9-]+)(=.*)?"


class _Formatter(click.HelpFormatter):
    """click's help, with option texts wrapped only at blanks: never inside a word
    such as ``20-envsubst-on-templates.sh`` or a default value."""

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """As click's, with each text wrapped here first (and kept as wrapped)."""
        import textwrap

        rows = list(rows)
        first = min(max((len(click.unstyle(term)) for term, _ in rows), default=0), col_max)
        width = max(self.width - first - col_spacing - 2, 10)

        def unbroken(text: str) -> str:
            lines = textwrap.wrap(text, width, break_on_hyphens=False, break_long_words=False)
            return "\b\n" + "\n".join(lines) if lines else text

        super().write_dl([(term, unbroken(text)) for term, text in rows], col_max, col_spacing)


class _Context(click.Context):
    formatter_class = _Formatter


def _directory(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """An existing directory (click.Path would say so too, but asks gettext: see
    :class:`PlainHelp`)."""
    if not os.path.isdir(value):
        raise click.BadParameter(f"{value!r} is not a directory", ctx, param)
    return value


def _show_help(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(ctx.get_help(), color=ctx.color)
        ctx.exit()


class PlainHelp(click.Command):
    """``-h/--help`` as click makes it, with its text written here.

    click asks gettext for that text on every run, and gettext's first lookup
    imports ``locale`` (about 1.5 ms, a tenth of ``hostgw ip``'s own cost);
    no other text on a run that succeeds is looked up.
    """

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """The help option, made once."""
        names = self.get_help_option_names(ctx)
        if not names or not self.add_help_option:
            return None
        made: click.Option | None = getattr(self, "_help_option", None)
        if made is None:
            made = click.Option(
                names,
                is_flag=True,
                is_eager=True,
                expose_value=False,
                callback=_show_help,
                help="Show this message and exit.",
            )
            self._help_option = made
        return made


class Command(PlainHelp):
    """A hostgw command: before click parses, a long option written with one dash
    (``-template``, as dockerize and Go's flag package write them) is refused
    with the two-dash spelling, instead of being read as ``-t emplate``. Its
    help never breaks a word."""

    context_class = _Context

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Check the habits, then parse as click does."""
        one_dash_habit(self, args, stop_at_argument=not ctx.allow_interspersed_args)
        return super().parse_args(ctx, args)


def _long_options(command: click.Command) -> dict[str, click.Option]:
    found: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in (*param.opts, *param.secondary_opts):
                if opt.startswith("--"):
                    found[opt] = param
    return found


def _takes_value(param: click.Option) -> bool:
    return not param.is_flag and not param.count and not getattr(param, "_flag_needs_value", False)


def one_dash_habit(
    command: click.Command, args: Sequence[str], *, stop_at_argument: bool = False
) -> None:
    """Raise a usage error naming ``--word`` for the first ``-word`` that is a long option.

    Option values are skipped; the scan stops at ``--`` and, where options
    end at the first argument (``exec``), at that argument.
    """
    from hostgw.errors import UsageError

    longs = _long_options(command)
    shorts = {
        opt: param
        for param in command.params
        if isinstance(param, click.Option)
        for opt in param.opts
        if len(opt) == 2
    }
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg == "--":
            return
        if arg.startswith("--"):
            param = longs.get(arg.partition("=")[0])
            skip = param is not None and "=" not in arg and _takes_value(param)
            continue
        if arg in shorts:
            skip = _takes_value(shorts[arg])
            continue
        found = re.fullmatch(_ONE_DASH, arg, re.ASCII)
        if found is not None and f"--{found.group(1)}" in longs:
            word = found.group(1)
            param = longs[f"--{word}"]
            suggest = _HABITS.get((command.name or "", word))
            if suggest is None:
                suggest = f"--{word}" if not param.hidden else _visible_name(command, param)
            short = [o for o in param.opts if len(o) == 2 and not param.hidden]
            raise UsageError(
                f"{arg}: options take two dashes: {suggest}",
                hint="one dash is for one-letter options"
                + (f" ({short[0]} is {suggest})" if short else "")
                + f"; see hostgw {command.name} --help",
            )
        if stop_at_argument and not arg.startswith("-"):
            return


def _visible_name(command: click.Command, hidden: click.Option) -> str:
    """The option a hidden alias stands for."""
    target = (hidden.name or "").removeprefix("alias__")
    for param in command.params:
        if isinstance(param, click.Option) and param.name == target and not param.hidden:
            return next(o for o in param.opts if o.startswith("--"))
    return hidden.opts[0]


# -- environment forms -------------------------------------------------------------------


def env_words(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """``name``'s value split on commas and blanks (empty or unset: nothing)."""
    return tuple(word for word in re.split(r"[,\s]+", env.get(name, "")) if word)


def from_env(given: Iterable[str], env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A repeatable option's values: those given, else those of variable ``name``."""
    values = tuple(given)
    return values if values else env_words(env, name)


def quiet(text: str) -> Callable[[F], F]:
    """``-q/--quiet`` (``HOSTGW_QUIET=1``): do not say what was written or done."""

    def decorate(fn: F) -> F:
        return click.option(
            "-q", "--quiet", is_flag=True, envvar="HOSTGW_QUIET", show_envvar=True, help=text
        )(fn)

    return decorate


quiet_option = quiet("Do not log the files written (warnings still go to stderr).")


# -- detection -------------------------------------------------------------------


def _detection(dns_alias: bool) -> list[Callable[[Any], Any]]:
    options = [
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
            "(env: HOSTGW_NAMES=a,b; default: host.docker.internal and "
            "host.containers.internal).",
        ),
        click.option("-4", "ipv4", is_flag=True, help="IPv4 only."),
        click.option("-6", "ipv6", is_flag=True, help="IPv6 only (default: IPv4, else IPv6)."),
        _seconds(
            "--dns-timeout",
            1.0,
            "Total time for the DNS lookups of the dns strategy (and a HOSTGW_IP hostname).",
            "dns_timeout",
            envvar="HOSTGW_DNS_TIMEOUT",
        ),
        click.option(
            "--port",
            type=click.IntRange(1, 65535),
            metavar="PORT",
            help="Probe every candidate with a TCP connect to PORT; the first in order of "
            "trust that accepts wins. With HOSTGW_IP set, only its address is probed.",
        ),
        _seconds(
            "--probe-timeout",
            0.5,
            "Time bound of each --port connect (they run concurrently).",
            "probe_timeout",
        ),
        click.option(
            "--root",
            default="/",
            show_default=True,
            metavar="DIR",
            callback=_directory,
            help="Read proc/, etc/ and sys/ under DIR (a copied snapshot); dns, netlink "
            "and netifaces then run only if named with --strategy.",
        ),
        click.option(
            "--k8s-var",
            metavar="VAR",
            help="Variable holding the node address (env: HOSTGW_K8S_VAR; default: HOST_IP).",
        ),
    ]
    # The old name of --dns-timeout; `hostgw wait --timeout` is the wait's own.
    return [*options, alias("--timeout", "dns_timeout")] if dns_alias else options


def _resolve(kwargs: dict[str, Any]) -> Any:
    """Pop the detection options from ``kwargs``; checked ``Options``."""
    from hostgw.detection import resolve_options

    ipv4, ipv6 = kwargs.pop("ipv4"), kwargs.pop("ipv6")
    if ipv4 and ipv6:
        raise click.UsageError("-4 and -6 exclude each other; give one, or neither")
    return resolve_options(
        strategies=tuple(kwargs.pop("strategy")) or None,
        family=4 if ipv4 else 6 if ipv6 else None,
        names=tuple(kwargs.pop("name")) or None,
        k8s_var=kwargs.pop("k8s_var"),
        timeout=kwargs.pop("dns_timeout"),
        port=kwargs.pop("port"),
        probe_timeout=kwargs.pop("probe_timeout"),
        root=kwargs.pop("root"),
        env=os.environ,
    )


def detection_options(fn: Callable[..., R], *, dns_alias: bool = True) -> Callable[..., R]:
    """Add the shared detection options; the callback gets ``options: Options``.

    Every hidden alias of the command is folded in here, first.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        take_aliases(kwargs)
        options = _resolve(kwargs)
        return fn(*args, options=options, **kwargs)

    return _apply(_detection(dns_alias), wrapper)


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
            help="Substitute $NAME/${NAME} only for names matching REGEX, a POSIX ERE as "
            "awk reads it ([[:upper:]] works; like NGINX_ENVSUBST_FILTER); HOSTGW_* and "
            "${NAME:-default} forms still count.",
        ),
        click.option(
            "--strict",
            is_flag=True,
            envvar="HOSTGW_STRICT",
            show_envvar=True,
            help="A selected reference that is unset is an error; so is an unset ${NAME} "
            "with no lower-case letter (nginx's $host and ${host} stay).",
        ),
        click.option(
            "--format",
            "format_",
            type=click.Choice(FORMATS),
            envvar="HOSTGW_FORMAT",
            show_envvar=True,
            help="The outputs' config format, for the value-safety rules (default: from each "
            "output's or template's name, nginx with --nginx, else the strictest rules).",
        ),
        click.option(
            "--escape",
            is_flag=True,
            envvar="HOSTGW_ESCAPE",
            show_envvar=True,
            help="A backslash right before a reference keeps it as text: \\$NAME gives $NAME.",
        ),
        click.option(
            "--list-vars",
            is_flag=True,
            help="Render nothing: list the names the templates use, with their forms.",
        ),
        click.option(
            "--no-empty",
            is_flag=True,
            envvar="HOSTGW_NO_EMPTY",
            show_envvar=True,
            help="Like --strict, and empty is an error too.",
        ),
        click.option(
            "--raw",
            multiple=True,
            is_flag=False,
            flag_value="*",
            metavar="[NAME]",
            help="Allow values that could change the config's structure where they land "
            "(refused by default: see docs/templates.md): for "
            "NAME, or for all names when given alone (write it after the templates, or as "
            "--raw=NAME). Env: HOSTGW_RAW=1 for all names, or HOSTGW_RAW='A,B'.",
        ),
        click.option(
            "--check",
            is_flag=True,
            help="Write nothing; report errors and which outputs would change "
            "(exit 1 if any would).",
        ),
        click.option(
            "--diff",
            is_flag=True,
            help="Write nothing; show a unified diff of what would change (exit 1 if any would).",
        ),
        quiet_option,
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
    "format": "format_",
    "escape": "escape",
    "list_vars": "list_vars",
    "check": "check",
    "diff": "diff",
    "quiet": "quiet",
}


def render_options(fn: Callable[..., R], *, dns_alias: bool = True) -> Callable[..., R]:
    """Add the render options (and the detection options) to a click command.

    The callback gets ``request: RenderRequest`` and ``options: Options``;
    positional ``templates`` (if the command takes them) come first in
    ``request.specs``. ``dns_alias``: ``--timeout`` is ``--dns-timeout``.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kw: Any) -> R:
        from hostgw.templates.jobs import RenderRequest

        given = {name: kw.pop(param) for name, param in _RENDER_FIELDS.items()}
        given["specs"] = tuple(kw.pop("templates", ())) + tuple(given["specs"])
        given["raw"] = from_env(given["raw"], os.environ, "HOSTGW_RAW")
        if given["raw"] and set(given["raw"]) <= {"1", "true", "yes", "all", "*"}:
            given["raw"] = ("*",)
        command = click.get_current_context().command.name or "render"
        check_specs(given["specs"], command)
        return fn(*args, request=RenderRequest(**given), **kw)

    return _apply(_render(), detection_options(wrapper, dns_alias=dns_alias))


_SHELL_FORMAT = r"\s*(\$\{?[A-Za-z_][A-Za-z0-9_]*\}?[\s,]*)+"


def check_specs(specs: Sequence[str], command: str) -> None:
    """Refuse, with the right form, a template argument written in another tool's habit.

    A directory (``--templates``), envsubst's SHELL-FORMAT (``'$A $B'``:
    ``--vars``), consul-template's ``IN:OUT:COMMAND`` (``--notify``). A spec
    naming a file that exists is always taken as it is.
    """
    from hostgw.errors import UsageError

    for spec in specs:
        template = spec if os.path.exists(spec) or ":" not in spec else spec.rpartition(":")[0]
        if spec == "-" or (os.path.exists(template) and not os.path.isdir(template)):
            continue
        if os.path.isdir(template):
            raise UsageError(
                f"{template} is a directory, not a template",
                hint=f"render every *.template file under it: hostgw {command} --templates "
                f"{template} --output OUTDIR (or --nginx for the nginx image's layout)",
            )
        if re.fullmatch(_SHELL_FORMAT, spec, re.ASCII):
            raise UsageError(
                f"{spec!r} looks like envsubst's SHELL-FORMAT, not a template file",
                hint=f"name the variables with --vars: hostgw {command} --vars {spec!r}"
                + (" < TEMPLATE > OUTPUT" if command == "render" else " -t TEMPLATE:OUTPUT"),
            )
        if spec.count(":") >= 2:
            source, out, run = spec.split(":", 2)
            notify = {
                "render": f"hostgw render {source}:{out} && {run}, or keep it in step with "
                f"hostgw watch {source}:{out} --notify {run!r}",
                "exec": f"hostgw exec --watch -t {source}:{out} --notify {run!r} -- CMD",
                "watch": f"hostgw watch {source}:{out} --notify {run!r}",
            }
            hint = "run the command with --notify: " + notify.get(command, notify["watch"])
            if command == "render":  # or it is one output path that holds a ':'
                rest = spec.split(":", 1)[1]
                hint += f"; if {rest!r} is one output path, give it with -o: hostgw render "
                hint += f"{source} -o {rest!r}"
            raise UsageError(
                f"{spec!r}: a template is TEMPLATE[:OUT]; consul-template's "
                "TEMPLATE:OUT:COMMAND has no third part here",
                hint=hint,
            )


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


def rewrite_format_option(fn: F) -> F:
    """``--rewrite-format FORMAT``, for exec and watch (their ``--format`` is render's)."""
    return click.option(
        "--rewrite-format",
        "rewrite_format",
        type=click.Choice(FORMATS),
        help="The format of every --rewrite FILE (default: from each file's name and content).",
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
            envvar="HOSTGW_SIGNAL",
            show_envvar=True,
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
            envvar="HOSTGW_NOTIFY",
            show_envvar=True,
            help="After files changed, run COMMAND with sh -c, e.g. 'nginx -s reload'.",
        ),
        _seconds(
            "--debounce",
            0.1,
            "Quiet time after the last network event before re-detecting.",
            "debounce",
            kind=Duration(0.0, maximum=60.0),
        ),
    ]


def _watch_flag() -> Callable[[Any], Any]:
    return click.option(
        "--watch",
        "watch_enabled",
        is_flag=True,
        envvar="HOSTGW_WATCH",
        show_envvar=True,
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


def _wait_seconds() -> tuple[tuple[str, str, Duration, float, str], ...]:
    """``(option, WaitSettings field, type, default, help)`` of the options that take
    a duration (the defaults are the library's; read when a waiting command is defined)."""
    from hostgw.runtime.wait import DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_INTERVAL, DEFAULT_TIMEOUT

    return (
        (
            "timeout",
            "timeout",
            Duration(open_min=True),
            DEFAULT_TIMEOUT,
            "Total time for all targets together.",
        ),
        (
            "interval",
            "interval",
            Duration(0.01),
            DEFAULT_INTERVAL,
            "Pause between rounds of checks.",
        ),
        (
            "attempt-timeout",
            "attempt_timeout",
            Duration(open_min=True),
            DEFAULT_ATTEMPT_TIMEOUT,
            "Longest one check may take (also bounded by the time left).",
        ),
    )


def wait_options(prefix: str = "") -> Callable[[Callable[..., R]], Callable[..., R]]:
    """The timing options of ``wait``; the callback gets ``waits: WaitSettings``.

    ``prefix`` names them where they live beside other options
    (``exec --wait-timeout``); without it (``hostgw wait``) the prefixed
    spellings are accepted too, so a line copied from ``exec`` works. The
    targets are left empty. The whole wait is ``HOSTGW_WAIT_TIMEOUT`` when
    not given.
    """

    def param(option: str) -> str:
        return f"wait_{option}".replace("-", "_")

    seconds = _wait_seconds()

    def decorate(fn: Callable[..., R]) -> Callable[..., R]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> R:
            from hostgw.runtime.wait import WaitSettings

            given = {field: kwargs.pop(param(option)) for option, field, *_ in seconds}
            waits = WaitSettings(
                insecure=kwargs.pop(param("insecure")),
                timeout_option=f"--{prefix}timeout",
                **given,
            )
            return fn(*args, waits=waits, **kwargs)

        def names(option: str) -> list[str]:
            return [f"--{prefix}{option}"] if prefix else [f"--{option}", f"--wait-{option}"]

        options = [
            click.option(
                *names(option),
                param(option),
                type=kind,
                default=f"{default:g}s",
                show_default=True,
                metavar="DURATION",
                envvar="HOSTGW_WAIT_TIMEOUT" if option == "timeout" else None,
                show_envvar=option == "timeout",
                help=text,
            )
            for option, _, kind, default, text in seconds
        ]
        options.append(
            click.option(
                *names("insecure"),
                param("insecure"),
                is_flag=True,
                help="https:// targets: accept any certificate.",
            )
        )
        return _apply(options, wrapper)

    return decorate


def exec_wait_options(fn: Callable[..., R]) -> Callable[..., R]:
    """Add ``--wait TARGET`` (repeatable; ``HOSTGW_WAIT``) and ``--wait-timeout`` etc.
    to ``exec``.

    The callback gets one ``waits: WaitSettings`` in their place.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> R:
        targets = from_env(kwargs.pop("wait"), os.environ, "HOSTGW_WAIT")
        kwargs["waits"] = kwargs["waits"].replace(targets=targets)
        return fn(*args, **kwargs)

    wait = click.option(
        "--wait",
        "wait",
        multiple=True,
        metavar="TARGET",
        help="Before the command runs, wait until TARGET answers (as hostgw wait: PORT, "
        "HOST:PORT, tcp://..., http://...); repeatable. PORT is on the detected host. "
        "Env: HOSTGW_WAIT='8000 db:5432'.",
    )
    # Not --dns-timeout's old name here: dockerize's -timeout is the wait's bound.
    timeout = click.option(
        "--timeout",
        hidden=True,
        expose_value=False,
        help="write --wait-timeout for the whole wait (dockerize's -timeout), or "
        "--dns-timeout for detection's DNS lookups.",
        type=click.UNPROCESSED,
        callback=_ambiguous_timeout,
    )
    return timeout(wait(wait_options(prefix="wait-")(wrapper)))


def _ambiguous_timeout(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    from hostgw.errors import UsageError

    if value is not None:
        raise UsageError(
            f"exec takes no --timeout: write --wait-timeout {value} for the whole wait of "
            f"--wait (dockerize's -timeout), or --dns-timeout {value} for detection's DNS "
            "lookups",
            hint="hostgw exec --help lists them",
        )


# -- reporting --------------------------------------------------------------------------

JSON_PRINTED: list[bool] = []
"""Set once a command has printed its JSON report (so a failure after it adds no
second object); read by :func:`hostgw.cli.main`."""


def json_option(text: str) -> Callable[[F], F]:
    """``--json``: print what the command found or did as one JSON object on stdout."""

    def decorate(fn: F) -> F:
        return click.option("--json", "as_json", is_flag=True, help=text)(fn)

    return decorate


def emit_json(value: object, *, indent: int | None = None) -> None:
    """Print ``value`` as the command's one JSON object on stdout."""
    import json

    click.echo(json.dumps(value, indent=indent))
    JSON_PRINTED.append(True)


# -- printing -------------------------------------------------------------------------


def say(message: str) -> None:
    """A message of hostgw's own on stderr: ``hostgw: message`` (a hint as it is)."""
    click.echo(message if message.startswith("hint: ") else f"hostgw: {message}", err=True)
