"""``hostgw render``: substitute the environment and the host's address into templates."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from hostgw.cli.options import Command, emit_json, json_option, render_options, say
from hostgw.detection import Once

if TYPE_CHECKING:
    from hostgw.detection import Options
    from hostgw.templates.jobs import RenderRequest


@click.command("render", cls=Command)
@click.argument("templates", nargs=-1, metavar="[TEMPLATE[:OUT]]...")
@render_options
@json_option(
    'Report on stdout as one JSON object: {"files": [{"path", "source", "state", "diff"?}], '
    '"changed"}; outputs must be files.'
)
def render(request: RenderRequest, options: Options, as_json: bool) -> int:
    """Substitute environment variables and the host's address into templates.

    $NAME and ${NAME} are replaced for every name set in the environment and
    for HOSTGW_IP, HOSTGW_IP6 and HOSTGW_HOST (detected only if a template
    uses one); anything else, such as nginx's $host or $1, stays as it is.
    ${NAME:-default}, ${NAME-default}, ${NAME:+alt}, ${NAME+alt}, ${NAME:?msg}
    and ${NAME?msg} work as in bash. Errors list every problem as
    file:line:col NAME, and nothing is written. Files are replaced atomically,
    and only when their bytes change; each file written is named on stderr
    (-q: none). --check and --diff write nothing and exit 1 when an output
    would change.

    \b
    Examples:
      hostgw render default.conf.template -o /etc/nginx/conf.d/default.conf
      hostgw render a.template:a.conf b.template:b.conf --strict
      hostgw render --templates /etc/nginx/templates --output /etc/nginx/conf.d
      hostgw render --nginx --check
      envsubst-style:  hostgw render --vars '${BACKEND} $PORT' < in > out
    """
    env = os.environ
    own = Once(options).env
    if request.list_vars:
        from hostgw.templates import list_vars

        for line in list_vars(request, env):
            click.echo(line)
        return 0
    if not (request.check or request.diff or as_json):
        from hostgw.runtime.pipeline import write_render

        write_render(request, env, own, say, stdin_default=True)
        return 0
    from hostgw.errors import UsageError
    from hostgw.templates.jobs import plan
    from hostgw.templates.outputs import changes, diff, render_plan, write

    outputs = render_plan(plan(request, env, stdin_default=True), env, own)
    if as_json and any(out.path is None for out in outputs):
        raise UsageError(
            "--json reports on stdout, so the outputs must be files",
            hint="give TEMPLATE:OUT or -o FILE, or drop --json",
        )
    found = {path: how for path, _, how in changes(outputs)}
    if not as_json:
        for path, out, what in changes(outputs):
            click.echo(diff(path, out) if request.diff else f"would {what} {path}\n", nl=False)
        return 1 if found else 0
    write_now = not (request.check or request.diff)
    written = set(write(outputs)) if write_now else set()
    files = []
    for out in outputs:
        if out.path is None:  # refused above
            continue
        how = found.get(out.path)
        state = "unchanged" if how is None else (f"{how}d" if write_now else f"would {how}")
        entry: dict[str, object] = {"path": str(out.path), "source": out.source, "state": state}
        if request.diff and how is not None:
            entry["diff"] = diff(out.path, out)
        files.append(entry)
    emit_json({"files": files, "changed": len(found), "written": sorted(map(str, written))})
    return 1 if found and not write_now else 0
