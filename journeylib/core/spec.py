"""Analysis specs: an analysis's parameters as one typed, frozen record, checked once.

A spec is a frozen dataclass whose enumerated fields are typed with ``Literal``
(or ``bool``): making one checks every such field and raises a ParameterError
that names the parameter, lists the allowed values and suggests the closest.
Rules across fields go in the subclass's ``__post_init__`` after ``super()``'s.
``Result.params`` is ``spec.params()``, so what a result says it ran with is
what was checked.

Examples
--------
>>> from dataclasses import dataclass
>>> from typing import Literal
>>> @dataclass(frozen=True)
... class Example(Spec):
...     unit: Literal["user", "session"] = "user"
...     collapse: bool = True
>>> Example(unit="session").params()
{'unit': 'session', 'collapse': True}
>>> Example(unit="users")
Traceback (most recent call last):
journeylib.core.errors.ParameterError: Invalid value 'users' for parameter 'unit'. Allowed values: user, session. Did you mean 'user'?
"""

from __future__ import annotations

import types
from dataclasses import dataclass, fields
from datetime import timedelta
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from journeylib.core.errors import ParameterError


@dataclass(frozen=True)
class Spec:
    """The base of every analysis spec: checks its enumerated fields when made."""

    def __post_init__(self) -> None:
        hints = get_type_hints(type(self))
        for field in fields(self):
            check_value(field.name, getattr(self, field.name), hints[field.name])

    def params(self) -> dict[str, Any]:
        """The parameters as plain values (tuples as lists), in field order."""
        return {field.name: _plain(getattr(self, field.name)) for field in fields(self)}


def allowed_values(hint: object) -> tuple[object, ...] | None:
    """The values an enumerated type allows (``Literal``, ``bool``, either or ``None``), else None.

    >>> allowed_values(Literal["day", "week"] | None)
    ('day', 'week', None)
    >>> allowed_values(int) is None
    True
    """
    if hint is bool:
        return (True, False)
    origin = get_origin(hint)
    if origin is Literal:
        return get_args(hint)
    if origin in (Union, types.UnionType):
        values: list[object] = []
        for arg in get_args(hint):
            inner = (None,) if arg is type(None) else allowed_values(arg)
            if inner is None:
                return None
            values.extend(inner)
        return tuple(values)
    return None


def check_value(name: str, value: object, hint: object) -> None:
    """A ParameterError when ``value`` is not one of the values ``hint`` enumerates.

    ``True`` is not ``1`` here: a flag must be a bool.

    >>> check_value("rolling", "yes", bool)
    Traceback (most recent call last):
    journeylib.core.errors.ParameterError: Invalid value 'yes' for parameter 'rolling'. Allowed values: True, False.
    """
    allowed = allowed_values(hint)
    if allowed is None:
        return
    if not any(type(value) is type(option) and value == option for option in allowed):
        raise ParameterError(name, value, allowed=[a for a in allowed if a is not None])


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, timedelta):
        return str(value)
    return value
