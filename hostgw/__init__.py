"""hostgw: the container host's address as seen from inside a container.

The public API is small: :func:`detect` and :func:`gateway` find the address,
and every expected failure is a :class:`HostgwError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hostgw.detect import Attempt, Detection, detect, gateway, gateway_env
from hostgw.errors import (
    GatewayNotFound,
    GatewayUnreachable,
    HostgwError,
    OutputError,
    RewriteError,
    TemplateError,
)

if TYPE_CHECKING:
    from hostgw.rendering import render, render_file
    from hostgw.rewriting import RewriteResult, rewrite

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
    # hostgw.rewriting costs ~5 ms to import, which `hostgw ip` never needs.
    if name in ("rewrite", "RewriteResult"):
        from hostgw import rewriting

        return getattr(rewriting, name)
    if name in ("render", "render_file"):  # templates: loaded when first used
        from hostgw import rendering

        return getattr(rendering, name)
    raise AttributeError(f"module 'hostgw' has no attribute {name!r}")
