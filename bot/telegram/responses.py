"""Keep aiogram's `Response[T]` classes alive between calls.

aiogram reads every Bot API answer as the pydantic generic `Response[T]`
(`T` = the method's result type). pydantic caches parametrised generics in
a `WeakValueDictionary` only, so whenever garbage collection drops the
class, the next call builds it again: about 20 ms of schema building, which
profiling a 1000/s broadcast showed happening every few dozen sends (~7% of
the CPU). `keep_response_types()` holds one strong reference per `T`, so
each class is built once per process.
"""
from __future__ import annotations

from typing import Any

from aiogram.methods.base import Response

_KEPT: dict[Any, Any] = {}


def keep_response_types() -> None:
    """Idempotent: wrap `Response.__class_getitem__` with a strong cache."""
    if "__class_getitem__" in Response.__dict__:
        return
    build = Response.__class_getitem__  # bound to Response: pydantic's own parametrisation

    def parametrise(cls: type[Any], params: Any) -> Any:
        if cls is not Response:
            return build.__func__(cls, params)  # type: ignore[attr-defined]
        try:
            return _KEPT[params]
        except KeyError:
            made = _KEPT[params] = build(params)
            return made
        except TypeError:  # unhashable parameters: no cache
            return build(params)

    Response.__class_getitem__ = classmethod(parametrise)  # type: ignore[assignment,method-assign]
