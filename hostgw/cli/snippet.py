"""``hostgw snippet``: print a drop-in script for an image's entrypoint."""

from __future__ import annotations

import click

from hostgw.cli.options import Command, quiet_option, say
from hostgw.runtime.snippet import KINDS


@click.command("snippet", cls=Command)
@click.argument("kind", type=click.Choice(sorted(KINDS)), default="sh")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE (atomically, mode 0755: the nginx image runs or sources "
    "only executable /docker-entrypoint.d/ files) instead of stdout.",
)
@quiet_option
def snippet(kind: str, output: str | None, quiet: bool) -> None:
    """Print a self-contained script for an image's entrypoint.

    KIND sh: finds the host without Python. POSIX sh + awk (dash, busybox),
    no `ip` binary. It applies the env, hosts, k8s, host-network and route
    strategies in hostgw's order and exports HOSTGW_IP, HOSTGW_HOST and
    HOSTGW_IP6. dns, netlink and netifaces need Python and are skipped.

    KIND nginx-step: for an nginx image with hostgw installed, a step that
    replaces the image's 20-envsubst-on-templates.sh with hostgw render
    --nginx (then hostgw wait $HOSTGW_WAIT), so the image's entrypoint and
    its other /docker-entrypoint.d/ steps keep running.

    \b
    Stock nginx image (its entrypoint sources executable *.envsh):
      hostgw snippet sh -o 15-hostgw.envsh
      COPY --chmod=755 15-hostgw.envsh /docker-entrypoint.d/
    nginx image with hostgw installed, keeping its entrypoint:
      hostgw snippet nginx-step -o 20-envsubst-on-templates.sh
      COPY --chmod=755 20-envsubst-on-templates.sh /docker-entrypoint.d/
    Anywhere else:
      . ./hostgw.sh               # sourced: exports the variables
      sh hostgw.sh ip             # executed: prints the address
    """
    from hostgw.runtime.snippet import write_snippet

    if output is None or output == "-":
        from hostgw.runtime.snippet import snippet as snippet_text

        click.echo(snippet_text(kind), nl=False)
        return
    write_snippet(kind, output)
    if not quiet:
        say(f"wrote {output} (hostgw snippet {kind}, mode 0755)")
