"""``tf.Module``: a container that finds the variables and modules held in its attributes.

As TensorFlow's, it walks the instance's attributes in sorted order, looking inside
lists, tuples and dicts (dict keys sorted): the variables and modules found directly
come first, then those of each module found, in the order found; each object once.
Where TensorFlow 2.21 and good sense disagree, neuroflow also counts the weights of
Keras layers and models held in attributes (TensorFlow's ``tf.Module`` silently skips
Keras 3 layers, so their weights would be missed by an optimizer fed
``module.trainable_variables``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any


def _is_variable(value: Any) -> bool:
    return hasattr(value, "_read_for_op")


def _is_keras_layer(value: Any) -> bool:
    # Keras sits above this module: recognise its layers by what they offer.
    return hasattr(value, "trainable_weights") and hasattr(value, "_sublayers")


def _camel_to_snake(name: str) -> str:
    """``MyModule`` -> ``my_module``, ``HTTPServer`` -> ``http_server`` (TensorFlow's rule)."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _leaves(value: Any) -> Iterator[Any]:
    """The leaves of ``value``, looking inside lists, tuples and dicts (keys sorted)."""
    if isinstance(value, dict):
        for key in sorted(value, key=repr):
            yield from _leaves(value[key])
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    else:
        yield value


class _ScopeName:
    """What ``module.name_scope`` gives: the scope's name (``"dense/"``). neuroflow's graphs
    do not prefix op names with scopes, so entering it changes nothing."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc) -> None:
        return None


class Module:
    """Base class of objects that own variables, as ``tf.Module``.

    >>> import neuroflow as tf
    >>> class Affine(tf.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = tf.Variable([[1.0, 2.0]])
    ...         self.b = tf.Variable([0.5], trainable=False)
    >>> affine = Affine()
    >>> affine.name, [v.shape for v in affine.trainable_variables]
    ('affine', [TensorShape([1, 2])])
    """

    def __init__(self, name: str | None = None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid "
                             f"Python identifiers (e.g. a valid class name).")
        self._name = name
        self._scope_name = f"{name}/"

    @property
    def name(self) -> str:
        return self._name

    @property
    def name_scope(self) -> _ScopeName:
        return _ScopeName(self._scope_name)

    @property
    def variables(self) -> tuple:
        """Every variable in this module and the modules (and Keras layers) it holds."""
        return tuple(self._flatten(_is_variable))

    @property
    def trainable_variables(self) -> tuple:
        return tuple(v for v in self.variables if v.trainable)

    @property
    def non_trainable_variables(self) -> tuple:
        return tuple(v for v in self.variables if not v.trainable)

    @property
    def submodules(self) -> tuple:
        """Every module held in this one's attributes, directly or inside another module."""
        return tuple(self._flatten(lambda value: isinstance(value, Module)))

    def _flatten(self, predicate: Callable[[Any], bool]) -> Iterator[Any]:
        return _walk(self, predicate, {id(self)})

    @classmethod
    def with_name_scope(cls, method: Callable) -> Callable:
        """Decorator for methods that should run in the module's name scope (as in
        TensorFlow; scopes do not change neuroflow's op names, so it returns ``method``)."""
        return method

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}>"


def _walk(module: Module, predicate: Callable[[Any], bool], seen: set[int]) -> Iterator[Any]:
    """The module's own leaves that satisfy ``predicate``, then each submodule's, depth first."""
    submodules = []
    for leaf in _children(module):
        if id(leaf) in seen:
            continue
        seen.add(id(leaf))
        if predicate(leaf):
            yield leaf
        if isinstance(leaf, Module):
            submodules.append(leaf)
    for submodule in submodules:
        yield from _walk(submodule, predicate, seen)


def _children(module: Module) -> Iterator[Any]:
    """What a module holds: its attributes' leaves in sorted attribute order; a Keras layer
    stands for its weights."""
    for key in sorted(vars(module)):
        if key in ("_name", "_scope_name"):
            continue
        for leaf in _leaves(vars(module)[key]):
            if _is_keras_layer(leaf):
                yield from leaf.weights
            else:
                yield leaf


__all__ = ["Module"]
