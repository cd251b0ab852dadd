"""``hostgw render``: substitute the environment and the host's address into templates."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from hostgw.cli.options import render_options, say
from hostgw.detection import Once

if TYPE_CHECKING:
    from hostgw.detection import Options
    from hostgw.templates.jobs import RenderRequest


@click.command("render")
@click.argument("templates", nargs=-1, metavar="[TEMPLATE[:OUT]]...")
@render_options
def render(request: RenderRequest, options: Options) -> int:
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
    own = Once(options).env
    if request.check or request.diff:
        from hostgw.templates.jobs import plan
        from hostgw.templates.outputs import changes, diff, render_plan

        outputs = render_plan(plan(request, env, stdin_default=True), env, own)
        found = changes(outputs)
        for path, out, how in found:
            if request.diff:
                click.echo(diff(path, out), nl=False)
            else:
                click.echo(f"would {how} {path}")
        return 1 if found else 0
    from hostgw.runtime.pipeline import write_render

    write_render(request, env, own, say, stdin_default=True)
    return 0
