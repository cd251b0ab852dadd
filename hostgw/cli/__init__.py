"""The ``hostgw`` command line: a thin click layer over the library.

Each command lives in a module of its own beside this one (its options in
:mod:`hostgw.cli.options`) and is imported only when it runs, so that
``hostgw ip`` pays for nothing else. Library errors become exit codes here,
in one place (:func:`main`). Nothing outside this package imports click.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from hostgw.cli.options import PlainHelp
from hostgw.errors import EXIT_ERROR, EXIT_USAGE, HostgwError, UsageError

# command name -> "module:attribute"; each module imports click and the library.
_COMMANDS: dict[str, str] = {
    "ip": "hostgw.cli.ip:ip",
    "doctor": "hostgw.cli.doctor:doctor",
    "env": "hostgw.cli.env:env",
    "wait": "hostgw.cli.wait:wait",
    "snippet": "hostgw.cli.snippet:snippet",
    "rewrite": "hostgw.cli.rewrite:rewrite",
    "watch": "hostgw.cli.watch:watch",
    "render": "hostgw.cli.render:render",
    "exec": "hostgw.cli.exec:exec_",
}


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from importlib.metadata import version

        click.echo(f"hostgw {version('hostgw')}")
        ctx.exit()


class _LazyGroup(PlainHelp, click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*_COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        if not isinstance(command, click.Command):  # a wiring mistake, not user error
            raise TypeError(f"{target} is not a click command")
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command ``args[0]`` names; a misspelt one gets "did you mean"."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            import difflib

            close = difflib.get_close_matches(name, self.list_commands(ctx), n=1, cutoff=0.6)
            raise UsageError(
                f"no such command {name!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
                hint=f"hostgw {close[0]} --help" if close else "hostgw --help lists the commands",
            )
        return super().resolve_command(ctx, args)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
# Not click.version_option, which asks gettext for its help text (see PlainHelp).
@click.option(
    "--version",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_version,
    help="Show the version and exit.",
)
def cli() -> None:
    """Find the container host's address and write gateway:port into configs.

    Exit codes: 0 ok, 1 other error (or --check found changes), 2 usage,
    3 no gateway found, 4 --port given and nothing reachable, 5 template
    error, 6 rewrite error, 7 proxy rejected the config, 8 wait timed out,
    126 command not executable, 127 command not found.
    """


def main(argv: Sequence[str] | None = None) -> None:
    """Run the CLI and exit with the code that matches the outcome.

    With ``--json``, a failure is also one JSON object on stdout:
    ``{"error", "hint", "exit", ...}`` (see :func:`error_json`).
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    printed = sys.modules.get("hostgw.cli.options")
    if printed is not None:  # an earlier main() in this process printed its own
        printed.JSON_PRINTED.clear()
    try:
        code = cli.main(args=args, prog_name="hostgw", standalone_mode=False)
    except HostgwError as exc:
        _report(exc)
        _json_failure(args, error_json(exc, exc.exit_code))
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("hostgw: aborted", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        status = exc.exit_code if exc.exit_code else EXIT_USAGE
        _json_failure(args, {"error": exc.format_message(), "hint": None, "exit": status})
        sys.exit(status)
    except BrokenPipeError:
        # The reader went away (e.g. `hostgw doctor | head`); not our failure.
        sys.stderr.close()
        sys.exit(EXIT_ERROR)
    sys.exit(code if isinstance(code, int) else 0)


def _wants_json(args: Sequence[str]) -> bool:
    """``--json`` among hostgw's own arguments (those before ``--``)."""
    own = args[: args.index("--")] if "--" in args else args
    return "--json" in own


def _json_failure(args: Sequence[str], value: dict[str, Any]) -> None:
    """Print ``value`` on stdout if ``--json`` was asked and no report was printed."""
    printed = sys.modules.get("hostgw.cli.options")
    if _wants_json(args) and not (printed is not None and printed.JSON_PRINTED):
        import json

        click.echo(json.dumps(value))


def error_json(exc: HostgwError, code: int) -> dict[str, Any]:
    """A failure as ``--json`` prints it: ``error``, ``hint`` (or null), ``exit``, and
    what the error carries: ``attempts`` (detection), ``problems`` (templates),
    ``pending`` (wait), ``path``/``line``/``col`` (a file position)."""
    out: dict[str, Any] = {"error": exc.message, "hint": exc.hint, "exit": code}
    attempts = getattr(exc, "attempts", None)
    if attempts:
        out["attempts"] = [a.as_dict() if hasattr(a, "as_dict") else str(a) for a in attempts]
    problems = getattr(exc, "problems", None)
    if problems:
        keys = ("path", "line", "col", "name", "reason")
        out["problems"] = [dict(zip(keys, row, strict=False)) for row in problems]
    pending = getattr(exc, "pending", None)
    if pending:
        out["pending"] = list(pending)
    for key in ("path", "line", "col"):
        value = getattr(exc, key, None)
        if value is not None:
            out[key] = value
    return out


def _report(exc: HostgwError) -> None:
    """Print an expected failure: the message, then the fix. No traceback."""
    lines = str(exc).splitlines() or [type(exc).__name__]
    for line in lines:
        click.echo(line if line.startswith("hint:") else f"hostgw: {line}", err=True)
