"""Custom objects: ``register_keras_serializable``, ``custom_object_scope`` and lookups.

These tables are the only place where a saved file's names can meet user code: a class
or function is found here because the program registered it or passed it in
``custom_objects``, never because a file named its module.
"""

from __future__ import annotations

import contextvars
import inspect
from collections.abc import Callable, Mapping
from typing import Any

# "package>name" -> object, and object -> "package>name", as Keras 3 keeps them.
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}

# The objects of the innermost `custom_object_scope`, per thread and task.
_scope_objects: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "neuroflow_custom_object_scope", default=None)


def register_keras_serializable(package: str = "Custom", name: str | None = None
                                ) -> Callable[[Any], Any]:
    """Register a class or function under ``"package>name"`` so saved files can name it.

    >>> @register_keras_serializable(package="demo")
    ... class Scale:
    ...     def get_config(self):
    ...         return {}
    >>> get_registered_object("demo>Scale") is Scale, get_registered_name(Scale)
    (True, 'demo>Scale')
    """
    def decorator(arg):
        key = f"{package}>{name if name is not None else arg.__name__}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() "
                             "method.")
        _GLOBAL_CUSTOM_OBJECTS[key] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = key
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """The ``"package>name"`` ``obj`` was registered under, else its ``__name__``."""
    try:
        return _GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):  # TypeError: an unhashable object cannot be registered
        return obj.__name__


def get_registered_object(name: str, custom_objects: Mapping[str, Any] | None = None,
                          module_objects: Mapping[str, Any] | None = None) -> Any:
    """The object known as ``name``: from the active ``custom_object_scope``, the
    registered objects, ``custom_objects``, then ``module_objects``; else None."""
    for table in (_scope_objects.get() or {}, _GLOBAL_CUSTOM_OBJECTS, custom_objects or {},
                  module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict[str, Any]:
    """The live dictionary of registered objects (a scope's objects are not in it)."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """Make ``custom_objects`` known to loading inside a ``with`` block.

    >>> def twice(x):
    ...     return 2 * x
    >>> with custom_object_scope({"twice": twice}):
    ...     get_registered_object("twice") is twice
    True
    """

    def __init__(self, custom_objects: Mapping[str, Any] | None):
        self.custom_objects = dict(custom_objects or {})
        self._token: contextvars.Token | None = None

    def __enter__(self) -> CustomObjectScope:
        # As in Keras, a scope replaces the outer scope's objects instead of adding to them.
        self._token = _scope_objects.set(dict(self.custom_objects))
        return self

    def __exit__(self, *exc_info) -> None:
        if self._token is not None:
            _scope_objects.reset(self._token)
            self._token = None


custom_object_scope = CustomObjectScope


def loading_objects(custom_objects: Mapping[str, Any] | None) -> dict[str, Any]:
    """Every object a file may name while loading, by the names it may use.

    Registered objects answer to ``"package>name"`` only, so registering ``demo>Dense``
    cannot replace the built-in ``Dense`` of a file; ``custom_objects`` (and the scope's)
    answer to the exact names given, and win, as in Keras.
    """
    return {**_GLOBAL_CUSTOM_OBJECTS, **(_scope_objects.get() or {}),
            **dict(custom_objects or {})}
