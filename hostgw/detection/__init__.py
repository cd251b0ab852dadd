"""Detection: the container host's address as seen from inside the container.

:func:`detect` returns a :class:`Detection` (the address, its family, the
strategy that found it, why it won, and what every strategy saw);
:func:`gateway` returns just the address; :func:`gateway_env` the
``HOSTGW_*`` variables. All take the keywords of :func:`resolve_options`,
walk the strategy table once, and raise
:class:`~hostgw.errors.GatewayNotFound` (exit 3) when no strategy can say
where the host is: they never guess.

:class:`Once` is one lazily-detected answer for a whole command or watch
pass: nothing is detected until a value is needed, and then only once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from hostgw.detection.evidence import Finding
from hostgw.detection.options import Options, resolve_options
from hostgw.detection.walk import Answer, Attempt, Detection, walk
from hostgw.errors import HostgwError

__all__ = [
    "Answer",
    "Attempt",
    "Detection",
    "Finding",
    "Once",
    "Options",
    "detect",
    "gateway",
    "gateway_env",
    "resolve_options",
    "walk",
]

P = ParamSpec("P")
T = TypeVar("T")


def _options_of(source: Callable[P, Any]) -> Callable[[Callable[..., T]], Callable[P, T]]:
    """Give the decorated function ``source``'s keywords (for editors, checkers, help())."""

    def decorate(fn: Callable[..., T]) -> Callable[P, T]:
        fn.__wrapped__ = source  # type: ignore[attr-defined]  # inspect.signature follows it
        return fn

    return decorate


@_options_of(resolve_options)
def detect(**options: Any) -> Detection:
    """Find the host's address as seen from this container.

    Takes the keywords of :func:`resolve_options`. Raises
    :class:`~hostgw.errors.GatewayNotFound`,
    :class:`~hostgw.errors.GatewayUnreachable` (with ``port``) or
    :class:`~hostgw.errors.UsageError`.
    """
    return walk(resolve_options(**options)).detection


@_options_of(resolve_options)
def gateway(**options: Any) -> str:
    """The host's address as a string; see :func:`detect` for the options."""
    return walk(resolve_options(**options)).detection.address


@_options_of(resolve_options)
def gateway_env(**options: Any) -> dict[str, str]:
    """The ``HOSTGW_*`` variables, for an environment or an env file.

    - ``HOSTGW_IP``: the default answer of :func:`detect` (IPv4, else IPv6;
      or the family asked for).
    - ``HOSTGW_HOST``: ``HOSTGW_IP`` as it goes before ``:port`` (IPv6 in
      brackets).
    - ``HOSTGW_IP6``: the IPv6 answer, where one exists (the first strategy
      in the order of trust with one); left out otherwise, and with
      ``family=4``.

    Takes the options of :func:`detect`; raises as it does.
    """
    return walk(resolve_options(**options), v6=True).env()


class Once:
    """One answer, detected on first need and then kept, for a command or a watch pass.

    ``v6`` also finds the IPv6 answer (for ``HOSTGW_IP6``); without it a
    walk may stop at the first IPv4 answer. A failure is kept too: asking
    again raises the same error without walking again.
    """

    def __init__(self, options: Options, *, v6: bool = True) -> None:
        self.options = options
        self._v6 = v6
        self._answer: Answer | None = None
        self._error: HostgwError | None = None

    @property
    def done(self) -> bool:
        """Whether the walk has run (with an answer or an error)."""
        return self._answer is not None or self._error is not None

    def answer(self) -> Answer:
        """The answer (detected now if not yet); raises as :func:`walk` does."""
        if self._error is not None:
            raise self._error
        if self._answer is None:
            try:
                self._answer = walk(self.options, v6=self._v6)
            except HostgwError as exc:
                self._error = exc
                raise
        return self._answer

    def env(self) -> dict[str, str]:
        """The ``HOSTGW_*`` values (see :func:`gateway_env`)."""
        return self.answer().env()

    def host(self) -> str:
        """The address as it goes before ``:port``."""
        return self.answer().detection.host

    def address(self) -> str:
        """The address."""
        return self.answer().detection.address
