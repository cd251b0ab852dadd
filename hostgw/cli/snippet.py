"""``hostgw snippet``: print a drop-in script for images without Python."""

from __future__ import annotations

import click

from hostgw.runtime.snippet import KINDS


@click.command("snippet")
@click.argument("kind", type=click.Choice(sorted(KINDS)), default="sh")
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    help="Write to FILE (atomically, mode 0755: the nginx image only sources "
    "executable .envsh files) instead of stdout.",
)
def snippet(kind: str, output: str | None) -> None:
    """Print a self-contained script that finds the host without Python.

    KIND sh: POSIX sh + awk (dash, busybox), no `ip` binary. It applies the
    env, hosts, k8s, host-network and route strategies in hostgw's order and
    exports HOSTGW_IP, HOSTGW_HOST and HOSTGW_IP6. dns, netlink and netifaces
    need Python and are skipped.

    \b
    Stock nginx image (its entrypoint sources executable *.envsh):
      hostgw snippet sh -o 15-hostgw.envsh
      COPY --chmod=755 15-hostgw.envsh /docker-entrypoint.d/
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
