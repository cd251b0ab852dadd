"""Drop-in scripts for images without Python, as ``hostgw snippet`` prints them.

``sh``: a POSIX sh + awk script (``snippet.sh`` beside this module) that
finds the host with the ``env``, ``hosts``, ``k8s``, ``host-network`` and
``route`` strategies, in hostgw's order, and exports ``HOSTGW_IP``,
``HOSTGW_HOST`` and ``HOSTGW_IP6``. It is meant for
``/docker-entrypoint.d/15-hostgw.envsh`` in the stock nginx image; its header
says how it behaves when sourced and when executed.

``nginx-step``: a ``/docker-entrypoint.d/`` step (``nginx_step.sh``) that runs
``hostgw render --nginx`` (then ``hostgw wait`` for ``HOSTGW_WAIT``) in place
of the nginx image's ``20-envsubst-on-templates.sh``, for images that have
hostgw installed and keep the image's entrypoint.
"""

from __future__ import annotations

from hostgw.errors import UsageError

KINDS: dict[str, str] = {"sh": "snippet.sh", "nginx-step": "nginx_step.sh"}
"""Snippet kind -> resource file in this package."""

MARKER = "# hostgw-snippet-sh: finds the container host's address without Python"
"""Line 2 of the sh snippet: how the script tells being executed from being sourced."""


def snippet(kind: str = "sh") -> str:
    """The text of the snippet ``kind``; :class:`UsageError` for an unknown kind."""
    resource = KINDS.get(kind)
    if resource is None:
        raise UsageError(
            f"unknown snippet kind {kind!r}", hint=f"choose from {', '.join(sorted(KINDS))}"
        )
    from importlib.resources import files

    return files("hostgw.runtime").joinpath(resource).read_text(encoding="utf-8")


def write_snippet(kind: str, path: str) -> None:
    """Write the snippet ``kind`` to ``path`` atomically, mode 0755 (the nginx image
    runs or sources only executable ``/docker-entrypoint.d/`` files)."""
    import os

    from hostgw.fileio import write_atomic

    write_atomic(path, snippet(kind).encode())
    os.chmod(path, 0o755)  # noqa: S103 - nginx sources only executable .envsh files
