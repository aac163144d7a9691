"""Values without values: the shapes and dtypes a traced function computes with.

While ``tf.function`` traces, tensors derived from its inputs hold an
:class:`AbstractArray` instead of an array: a shape and a dtype, never a value.
Every primitive declares a shape rule that maps abstract inputs to abstract
outputs (see ``ops/registry.py``), so a trace never runs a forward and no value
can be frozen into the graph. Any attempt to read a value raises
:class:`SymbolicValueError`, naming the user's line and what to do instead.

A dimension that is unknown while tracing (``None`` in a ``TensorSpec``, a batch
of any size, the length of ``tf.range(n)``) is a :class:`Dim`: a polynomial in
named unknown sizes with integer coefficients (``d0``, ``784*d0``, ``d0 + d1``).
Shape rules compute with dims as with ints; a graph is specialised to concrete
sizes by giving each unknown a value (:meth:`Dim.evaluate`), without running the
user's Python again. A question about an unknown size that has no definite
answer (``d0 == 1``) raises :class:`InconclusiveDimension` instead of guessing:
a guess would silently pick one branch of the code for every size.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Iterable, Mapping

import numpy as np

from neuroflow.backend.device import CPU
from neuroflow.errors import OperatorNotAllowedInGraphError

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def user_location() -> str:
    """``file.py:12`` of the innermost frame outside neuroflow (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


class SymbolicValueError(OperatorNotAllowedInGraphError):
    """A traced tensor was used where a concrete Python or NumPy value is needed.

    A ``TypeError``, and ``tf.errors.OperatorNotAllowedInGraphError`` as in TensorFlow.
    """


_ADVICE = {
    "bool": "Python `if`/`while` on a tensor would freeze one branch into the graph. Use "
            "tf.cond(pred, true_fn, false_fn) or tf.while_loop(cond, body, loop_vars), "
            "tf.where(condition, x, y) to choose values, or compute the condition outside "
            "the tf.function",
    "numpy": "`.numpy()` needs a concrete value. Return the tensor from the function and "
             "call .numpy() on the result",
    "array": "NumPy cannot see inside a traced tensor. Use neuroflow ops (tf.math, tf.nn, "
             "...) on it, or return it from the function and convert the result",
    "size": "The size is only known when the compiled function runs. Use tf.shape(x)[i] "
            "(a tensor) instead of x.shape[i], or give the dimension a fixed size in the "
            "input_signature",
}


class ValueNeeded(SymbolicValueError, ValueError):
    """A traced tensor's value is needed while tracing (an axis, a count, a flag).

    ``source`` is the graph value the tensor stands for. When that is an input of the
    function, ``tf.function`` traces again with that input's *value* fixed, as it does for
    a Python number, instead of failing (see ``graph/function.py``).
    """

    def __init__(self, message: str, source=None):
        super().__init__(message)
        self.source = source


def symbolic_value_error(what: str, source=None) -> SymbolicValueError:
    """The error for reading a value (``what``: bool, int, float, numpy, array, ...);
    ``source``: the traced value read, when known."""
    advice = _ADVICE.get(what, "Python needs a concrete value here; keep the computation "
                               "in neuroflow ops")
    message = (f"At {user_location()}: a symbolic tf.Tensor was used as a Python/NumPy {what} "
               f"inside tf.function, but its value is only known when the compiled graph "
               f"runs. {advice}; or debug with tf.config.run_functions_eagerly(True).")
    return SymbolicValueError(message) if source is None else ValueNeeded(message, source)


class InconclusiveDimension(ValueError):
    """A comparison of unknown sizes whose answer depends on the sizes."""


# --- unknown sizes ----------------------------------------------------------------------------

_symbol_ids = itertools.count()


class Symbol:
    """One unknown size. ``rule`` is None for a free one (an input's size, or a size only
    known when an op runs); ``("broadcast", a, b)`` for the size two broadcast dims give."""

    __slots__ = ("name", "rule")

    def __init__(self, name: str, rule: tuple | None = None):
        self.name = name
        self.rule = rule

    def __lt__(self, other: Symbol) -> bool:
        return self.name < other.name

    def __repr__(self) -> str:
        return self.name


class Dim:
    """An unknown size: ``sum(coeff * product(symbols))``, kept in a canonical form.

    >>> b = Dim.fresh("b")
    >>> (b * 784) // 784 == b, b * 784 // b, b - b
    (True, 784, 0)
    """

    __slots__ = ("terms",)

    def __init__(self, terms: Mapping[tuple[Symbol, ...], int]):
        # terms: sorted tuple of symbols -> nonzero integer coefficient
        self.terms = tuple(sorted(((m, c) for m, c in terms.items() if c),
                                  key=lambda term: [s.name for s in term[0]]))

    @staticmethod
    def fresh(prefix: str = "d", rule: tuple | None = None) -> Dim:
        """A new unknown size, named ``prefix`` plus a number unique in the process."""
        return Dim({(Symbol(f"{prefix}{next(_symbol_ids)}", rule),): 1})

    @staticmethod
    def broadcast(a, b) -> Dim | int:
        """The size of an axis where sizes ``a`` and ``b`` broadcast (one may be 1)."""
        if dims_equal(a, b) or dims_equal(b, 1):
            return a
        if dims_equal(a, 1):
            return b
        if is_known(a) and is_known(b):
            raise ValueError(f"sizes {a} and {b} do not broadcast")
        return Dim.fresh("m", ("broadcast", a, b))

    @property
    def symbol(self) -> Symbol | None:
        """The symbol, if this size is exactly one unknown."""
        if len(self.terms) == 1 and self.terms[0][1] == 1 and len(self.terms[0][0]) == 1:
            return self.terms[0][0][0]
        return None

    @property
    def symbols(self) -> set[Symbol]:
        return {s for monomial, _ in self.terms for s in monomial}

    def evaluate(self, env: dict) -> int:
        """The size once every free unknown has a value (``env``: symbol name -> int).

        Derived unknowns (broadcasts) are computed from their rule and added to ``env``;
        a free one missing from ``env`` raises KeyError.
        """
        total = 0
        for monomial, coeff in self.terms:
            product = coeff
            for symbol in monomial:
                product *= _value_of(symbol, env)
            total += product
        return total

    def substitute(self, env: dict) -> Dim | int:
        """This size with the unknowns ``env`` knows replaced (the others stay unknown)."""
        total: Dim | int = 0
        for monomial, coeff in self.terms:
            product: Dim | int = coeff
            for symbol in monomial:
                try:
                    product = product * _value_of(symbol, env)
                except KeyError:
                    product = product * Dim({(symbol,): 1})
            total = total + product
        return total

    # --- arithmetic -------------------------------------------------------------------
    def _as_terms(self) -> dict:
        return dict(self.terms)

    def __add__(self, other) -> Dim | int:
        terms = self._as_terms()
        for monomial, coeff in _terms_of(other).items():
            terms[monomial] = terms.get(monomial, 0) + coeff
        return _simplified(terms)

    __radd__ = __add__

    def __neg__(self) -> Dim | int:
        return _simplified({m: -c for m, c in self.terms})

    def __sub__(self, other) -> Dim | int:
        return self + (-other)

    def __rsub__(self, other) -> Dim | int:
        return (-self) + other

    def __mul__(self, other) -> Dim | int:
        if isinstance(other, (int, np.integer)):
            return _simplified({m: c * int(other) for m, c in self.terms})
        if not isinstance(other, Dim):
            return NotImplemented
        terms: dict = {}
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                monomial = tuple(sorted(m1 + m2))
                terms[monomial] = terms.get(monomial, 0) + c1 * c2
        return _simplified(terms)

    __rmul__ = __mul__

    def __floordiv__(self, other) -> Dim | int:
        quotient = _divide_exactly(self, other)
        if quotient is None:
            raise InconclusiveDimension(
                f"Cannot divide the unknown size {self} by {other} exactly; the result would "
                f"depend on the size. Reshape with -1 instead of computing the size.")
        return quotient

    def __rfloordiv__(self, other) -> Dim | int:
        quotient = _divide_exactly(other, self) if isinstance(other, int) else None
        if quotient is None:
            raise InconclusiveDimension(
                f"Cannot divide {other} by the unknown size {self}: the result would depend on "
                f"the size, which is only known when the graph runs. Give the dimension a fixed "
                f"size (input_signature), or compute with tf.shape(x) instead.")
        return quotient

    def __mod__(self, other) -> int:
        if _divide_exactly(self, other) is not None:
            return 0
        raise InconclusiveDimension(f"{self} % {other} depends on the unknown size.")

    # --- comparisons: answered only when every size gives the same answer -----------------
    def __eq__(self, other) -> bool:
        if not isinstance(other, (Dim, int, np.integer)):
            return NotImplemented
        difference = self - other
        if isinstance(difference, int):
            return difference == 0
        raise InconclusiveDimension(
            f"Whether the unknown size {self} equals {other} depends on the size; neuroflow "
            f"does not guess. Give the dimension a fixed size (input_signature), or use "
            f"ops that work for every size.")

    def __ne__(self, other) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __ge__(self, other) -> bool:
        difference = self - other
        if isinstance(difference, int):
            return difference >= 0
        if all(c >= 0 for _, c in difference.terms):
            return True
        raise InconclusiveDimension(f"{self} >= {other} depends on the unknown size.")

    def __le__(self, other) -> bool:
        difference = other - self
        if isinstance(difference, int):
            return difference >= 0
        if all(c >= 0 for _, c in difference.terms):
            return True
        raise InconclusiveDimension(f"{self} <= {other} depends on the unknown size.")

    def __gt__(self, other) -> bool:
        return not self.__le__(other)

    def __lt__(self, other) -> bool:
        return not self.__ge__(other)

    def __hash__(self) -> int:
        return hash(self.terms)

    def __bool__(self) -> bool:
        raise InconclusiveDimension(f"Whether the unknown size {self} is zero depends on "
                                    f"the size.")

    def __index__(self) -> int:
        raise symbolic_value_error("size")

    __int__ = __index__

    def expression(self, names: Mapping[str, str]) -> str:
        """Python source computing this size, given source text for each unknown
        (``names``: symbol name -> text such as ``v7.shape[0]``)."""
        terms = []
        for monomial, coeff in self.terms:
            factors = [str(coeff)] if coeff != 1 or not monomial else []
            factors += [names[symbol.name] for symbol in monomial]
            terms.append("*".join(factors))
        return "(" + " + ".join(terms) + ")"

    def __repr__(self) -> str:
        parts = []
        for monomial, coeff in reversed(self.terms):
            name = "*".join(s.name for s in monomial)
            if not name:
                parts.append(str(coeff))
            elif coeff == 1:
                parts.append(name)
            else:
                parts.append(f"{coeff}*{name}")
        return " + ".join(parts).replace("+ -", "- ")


def _value_of(symbol: Symbol, env: dict) -> int:
    value = env.get(symbol.name)
    if value is not None:
        return value
    if symbol.rule is None:
        raise KeyError(symbol.name)
    _, a, b = symbol.rule
    a, b = (d.evaluate(env) if isinstance(d, Dim) else d for d in (a, b))
    if a != b and 1 not in (a, b):
        raise ValueError(f"sizes {a} and {b} do not broadcast")
    env[symbol.name] = value = b if a == 1 else a
    return value


def _terms_of(value) -> dict:
    if isinstance(value, Dim):
        return dict(value.terms)
    return {(): int(value)}


def _simplified(terms: dict) -> Dim | int:
    terms = {m: c for m, c in terms.items() if c}
    if not terms:
        return 0
    if list(terms) == [()]:
        return terms[()]
    return Dim(terms)


def _divide_exactly(numerator, denominator) -> Dim | int | None:
    """``numerator / denominator`` when it divides exactly as a polynomial, else None."""
    if isinstance(denominator, (int, np.integer)):
        d = int(denominator)
        if d == 0:
            return None
        terms = _terms_of(numerator)
        if all(c % d == 0 for c in terms.values()):
            return _simplified({m: c // d for m, c in terms.items()})
        return None
    if isinstance(denominator, Dim) and len(denominator.terms) == 1:
        (dm, dc), = denominator.terms
        terms = {}
        for monomial, coeff in _terms_of(numerator).items():
            rest = list(monomial)
            for symbol in dm:
                if symbol not in rest:
                    return None
                rest.remove(symbol)
            if coeff % dc:
                return None
            terms[tuple(rest)] = coeff // dc
        return _simplified(terms)
    if isinstance(denominator, Dim) and _simplified(_terms_of(numerator)) == denominator:
        return 1
    return None


def is_known(dim) -> bool:
    """Whether ``dim`` is a plain integer size."""
    return not isinstance(dim, Dim)


def dims_equal(a, b) -> bool:
    """Whether two sizes are certainly equal (False when it depends on the sizes)."""
    try:
        return bool(a == b)
    except InconclusiveDimension:
        return False


def evaluate_shape(shape: Iterable, env: dict) -> tuple[int, ...]:
    return tuple(d.evaluate(env) if isinstance(d, Dim) else d for d in shape)


def substitute(value, env: dict):
    """``value`` (a size, or tuples, lists and dicts of them) with known unknowns replaced."""
    if isinstance(value, Dim):
        return value.substitute(env)
    if isinstance(value, tuple):
        return tuple(substitute(v, env) for v in value)
    if isinstance(value, list):
        return [substitute(v, env) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, env) for k, v in value.items()}
    if isinstance(value, slice):
        return slice(*(substitute(v, env) for v in (value.start, value.stop, value.step)))
    return value


def contains_dim(value) -> bool:
    """Whether ``value`` (a size, or tuples, lists and dicts of them) holds an unknown."""
    if isinstance(value, Dim):
        return True
    if isinstance(value, (tuple, list)):
        return any(contains_dim(v) for v in value)
    if isinstance(value, dict):
        return any(contains_dim(v) for v in value.values())
    if isinstance(value, slice):
        return any(contains_dim(v) for v in (value.start, value.stop, value.step))
    return False


def public_shape(shape: Iterable) -> tuple:
    """The shape as users see it: ``None`` for each unknown size, as in TensorFlow."""
    return tuple(None if isinstance(d, Dim) else d for d in shape)


def num_elements(shape: Iterable) -> Dim | int:
    total = 1
    for d in shape:
        total = total * d
    return total


# --- abstract arrays --------------------------------------------------------------------------


class AbstractArray:
    """What a traced tensor holds: a shape (ints and :class:`Dim`) and a dtype, no values.

    It answers ``shape``, ``dtype``, ``ndim`` and ``size`` as an ndarray does; every
    route to a value raises :class:`SymbolicValueError`. ``source`` is set by the
    tracer: the graph value this array stands for; ``sizes`` by ``tf.shape``.
    """

    __slots__ = ("shape", "dtype", "source", "sizes")
    # Graphs are compiled for the CPU (device_of reads this).
    neuroflow_device = CPU

    def __init__(self, shape: Iterable, dtype, source=None):
        self.shape = tuple(d if isinstance(d, Dim) else int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.source = source
        # For an integer tensor made from sizes (tf.shape of a traced tensor, indexed or
        # stacked): the sizes it holds, ints and Dims, so shape arguments keep them.
        self.sizes = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> Dim | int:
        return num_elements(self.shape)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __array__(self, dtype=None, copy=None):
        raise symbolic_value_error("array")

    def __bool__(self):
        raise symbolic_value_error("bool")

    def __float__(self):
        raise symbolic_value_error("float")

    def __int__(self):
        raise symbolic_value_error("int")

    def __index__(self):
        raise symbolic_value_error("index")

    def __len__(self):
        raise symbolic_value_error("len")

    def __iter__(self):
        raise symbolic_value_error("iterable")

    def __getitem__(self, key):
        raise symbolic_value_error("array")

    def item(self, *args):
        raise symbolic_value_error("number")

    def tolist(self):
        raise symbolic_value_error("list")

    def astype(self, dtype, copy=True):
        raise symbolic_value_error("array")

    def reshape(self, *shape):
        raise symbolic_value_error("array")

    def copy(self):
        raise symbolic_value_error("array")

    def __repr__(self) -> str:
        dims = ",".join(str(d) for d in self.shape)
        return f"AbstractArray({self.dtype.name}[{dims}])"


def is_abstract(array) -> bool:
    return type(array) is AbstractArray


__all__ = ["AbstractArray", "Dim", "InconclusiveDimension", "SymbolicValueError",
           "dims_equal", "evaluate_shape", "is_abstract", "is_known", "num_elements",
           "public_shape", "symbolic_value_error", "user_location"]
