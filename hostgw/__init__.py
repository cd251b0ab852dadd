"""hostgw: the container host's address as seen from inside a container.

The public API is small: :func:`detect` and :func:`gateway` find the address,
:func:`render` and :func:`rewrite` write it into configs, and every expected
failure is a :class:`HostgwError`.

The package is in wings, each below the next:

- the bottom: :mod:`hostgw.errors`, :mod:`hostgw.addr`, :mod:`hostgw.record`,
  :mod:`hostgw.textpos`, :mod:`hostgw.fileio`, :mod:`hostgw.envformat`;
- :mod:`hostgw.detection` finds the host; :mod:`hostgw.templates` and
  :mod:`hostgw.rewriting` write configs (they take the address as an
  argument and never detect it themselves);
- :mod:`hostgw.runtime` joins them for ``exec``, ``watch`` and ``wait``;
- :mod:`hostgw.cli` parses arguments and prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hostgw.detection import Attempt, Detection, detect, gateway, gateway_env
from hostgw.errors import (
    GatewayNotFound,
    GatewayUnreachable,
    HostgwError,
    OutputError,
    RewriteError,
    TemplateError,
)

if TYPE_CHECKING:
    from hostgw.rewriting import RewriteResult
    from hostgw.runtime.api import render, render_file, rewrite

__all__ = [
    "Attempt",
    "Detection",
    "GatewayNotFound",
    "GatewayUnreachable",
    "HostgwError",
    "OutputError",
    "RewriteError",
    "RewriteResult",
    "TemplateError",
    "__version__",
    "detect",
    "gateway",
    "gateway_env",
    "render",
    "render_file",
    "rewrite",
]


def __getattr__(name: str) -> Any:
    # importlib.metadata costs ~10 ms: only pay for it when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("hostgw")
    # Templates and rewriting cost ~5 ms to import, which `hostgw ip` never needs.
    if name == "RewriteResult":
        from hostgw import rewriting

        return rewriting.RewriteResult
    if name in ("render", "render_file", "rewrite"):
        from hostgw.runtime import api

        return getattr(api, name)
    raise AttributeError(f"module 'hostgw' has no attribute {name!r}")
