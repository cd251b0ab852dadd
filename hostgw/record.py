"""Immutable value objects whose fields are written once, as annotations.

Every value object in hostgw is a :class:`Record`::

    class Finding(Record):
        address: str
        family: int
        detail: str = ""

The annotations are the fields, in order; a class attribute is a field's
default. A record gets ``__slots__``, an ``__init__`` taking the fields
(positionally or by name), equality, hashing, ``repr``, :meth:`fields` and
:meth:`replace`, and refuses assignment. Type checkers see it as a frozen
dataclass (:func:`typing.dataclass_transform`).

Why not dataclasses: ``import dataclasses`` alone costs ~8 ms (it imports
``inspect``), and a frozen slotted dataclass ~0.7 ms to define, on the
start-up path of every ``hostgw ip``. Defining a record costs ~20 µs; its
first records bind their arguments generically, and a class that makes
many compiles an ``__init__`` that costs what a hand-written one does.

The one exception is the nginx reader's hot loop: its tokens and
statements (``rewriting.nginx_lex``) and the rewrite engine's notes are
``NamedTuple``s, made tens of thousands of times for a large config, where
a tuple is made in half the time of a record.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

if sys.version_info >= (3, 12):
    from typing import dataclass_transform
elif TYPE_CHECKING:
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_kwargs: object) -> Any:
        return lambda cls: cls


R = TypeVar("R", bound="Record")


class _RecordType(type):
    """Turns a class body's annotations into slots, field order and defaults."""

    def __new__(mcs, name: str, bases: tuple[type, ...], ns: dict[str, Any]) -> _RecordType:
        own = tuple(
            field
            for field, kind in ns.get("__annotations__", {}).items()
            if not str(kind).startswith(("ClassVar", "typing.ClassVar"))
        )
        fields: tuple[str, ...] = ()
        defaults: dict[str, Any] = {}
        for base in bases:
            fields += getattr(base, "_fields", ())
            defaults.update(getattr(base, "_defaults", {}))
        for field in own:
            if field in ns:
                defaults[field] = ns.pop(field)
            elif defaults:
                raise TypeError(f"{name}.{field}: a field without a default follows one with")
        ns["__slots__"] = own
        ns["_fields"] = fields + own
        ns["_defaults"] = defaults
        ns.setdefault("__init__", _first_init)
        ns["_made"] = 0
        return super().__new__(mcs, name, bases, ns)


#: A record class compiles its own ``__init__`` once it has made this many records.
_COMPILE_AFTER = 64
_MISSING = object()


def _first_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """The ``__init__`` of a record class that has made few records yet.

    It binds the arguments itself; compiling an ``__init__`` costs ~0.1 ms,
    more than a start-up's few records are worth. Once the class has made
    :data:`_COMPILE_AFTER` records, its compiled ``__init__`` takes over.
    """
    cls = type(self)
    cls._made += 1
    if cls._made >= _COMPILE_AFTER:
        cls.__init__ = _compiled_init(cls)
        cls.__init__(self, *args, **kwargs)
        return
    fields = cls._fields
    if len(args) > len(fields):
        raise TypeError(f"{cls.__name__}() takes {len(fields)} arguments, not {len(args)}")
    values = dict(zip(fields, args, strict=False))  # fewer args than fields: defaults
    for name, value in kwargs.items():
        if name not in fields:
            raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
        if name in values:
            raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
        values[name] = value
    for name in fields:
        value = values.get(name, _MISSING)
        if value is _MISSING:
            value = cls._defaults.get(name, _MISSING)
            if value is _MISSING:
                raise TypeError(f"{cls.__name__}() missing required argument: {name!r}")
        object.__setattr__(self, name, value)


def _compiled_init(cls: Any) -> Any:
    """A plain ``__init__`` for ``cls``'s fields, as dataclasses would write it."""
    names = cls._fields
    params = ", ".join(f"{n}=_default_{n}" if n in cls._defaults else n for n in names)
    body = "".join(f"\n    _set(self, {n!r}, {n})" for n in names) or "\n    pass"
    scope: dict[str, Any] = {"_set": object.__setattr__}
    scope.update({f"_default_{n}": v for n, v in cls._defaults.items()})
    exec(f"def __init__(self, {params}):{body}", scope)  # noqa: S102 - our own field names
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init


@dataclass_transform(frozen_default=True, eq_default=True)
class Record(metaclass=_RecordType):
    """Base of every value object: fields from annotations, immutable, compared by value."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]]
    _defaults: ClassVar[dict[str, Any]]
    _made: ClassVar[int]

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"{type(self).__name__}({fields})"

    def fields(self) -> dict[str, Any]:
        """The fields as a dict, in declaration order."""
        return {name: getattr(self, name) for name in self._fields}

    def replace(self: R, **changes: Any) -> R:
        """A copy with some fields changed."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no field {sorted(unknown)[0]!r}")
        return type(self)(**{**self.fields(), **changes})
