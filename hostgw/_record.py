"""A tiny base for immutable value objects, cheap to define at import time.

``typing.NamedTuple`` and frozen dataclasses generate code when the class is
created (0.1 to 1 ms each); ``hostgw ip`` defines a dozen such records on its
start-up path. A subclass here lists its fields in ``__slots__`` and writes
a plain ``__init__`` (assigning through :meth:`_init`); it gets equality,
hashing, ``repr`` and :meth:`replace` from its slots, and refuses later
assignment.
"""

from __future__ import annotations

from typing import Any, TypeVar

R = TypeVar("R", bound="Record")


class Record:
    """Immutable value object whose fields are its ``__slots__``."""

    __slots__: tuple[str, ...] = ()

    def _init(self, **values: Any) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, Record):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def fields(self) -> dict[str, Any]:
        """The fields as a dict, in ``__slots__`` order."""
        return {name: getattr(self, name) for name in self.__slots__}

    def replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed."""
        new = object.__new__(type(self))
        for name in self.__slots__:
            object.__setattr__(new, name, changes.pop(name, getattr(self, name)))
        if changes:
            raise TypeError(f"{type(self).__name__} has no field {next(iter(changes))!r}")
        return new
