"""hostgw: the container host's address as seen from inside a container.

The public API is small: :func:`detect` and :func:`gateway` find the address,
and every expected failure is a :class:`HostgwError`.
"""

from __future__ import annotations

from hostgw.detect import Attempt, Detection, detect, gateway, gateway_env
from hostgw.errors import (
    GatewayNotFound,
    GatewayUnreachable,
    HostgwError,
    OutputError,
    RewriteError,
    TemplateError,
)
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
    "rewrite",
]


def __getattr__(name: str) -> str:
    # importlib.metadata costs ~10 ms: only pay for it when asked.
    if name == "__version__":
        from importlib.metadata import version

        return version("hostgw")
    raise AttributeError(f"module 'hostgw' has no attribute {name!r}")
