"""More activation layers (LeakyReLU, PReLU, ELU) and Lambda, with Keras 3's arguments,
defaults, weights and configs.

A Lambda's config names its function; a Python ``lambda`` has no name to look up, and
rebuilding one would mean running code stored in the config, so ``from_config`` refuses
it, as Keras 3's safe mode does.
"""

from __future__ import annotations

import numbers
import warnings

from neuroflow.keras.layers.base import Layer, refuse_unsupported
from neuroflow.ops import elementwise as ew
from neuroflow.ops import nn_ops
from neuroflow.tensor import Tensor


def _floating(inputs: Tensor) -> Tensor:
    return inputs if inputs._value.dtype.kind == "f" else ew.cast(inputs, "float32")


class LeakyReLU(Layer):
    """``x`` where ``x > 0``, else ``negative_slope * x`` (Keras 3's default slope: 0.3)."""

    supports_masking = True

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          UserWarning, stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or isinstance(negative_slope, bool) or \
                not isinstance(negative_slope, numbers.Real) or negative_slope < 0:
            raise ValueError(f"The negative_slope value of a Leaky ReLU layer cannot be None "
                             f"or negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope!r}")
        self.negative_slope = negative_slope
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        return nn_ops.leaky_relu(inputs, alpha=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """A leaky ReLU whose negative slopes ``alpha`` are learned: one per input entry of a
    sample, shared along ``shared_axes`` (sample axes counted from 1)."""

    supports_masking = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        refuse_unsupported("PReLU", alpha_constraint=alpha_constraint)
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = alpha_regularizer
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]
        self.alpha = None

    def build(self, input_shape) -> None:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not isinstance(axis, numbers.Integral) or not 1 <= axis <= len(shape):
                raise ValueError(f"PReLU {self.name!r}: shared_axes={self.shared_axes} must "
                                 f"name sample axes, from 1 to {len(shape)} for inputs of "
                                 f"shape {tuple(input_shape)}.")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"PReLU {self.name!r} needs inputs whose sample sizes are known "
                             f"(or shared with shared_axes); received shape "
                             f"{tuple(input_shape)}.")
        self.alpha = self.add_weight("alpha", tuple(shape), self.alpha_initializer,
                                     self.alpha_regularizer)

    def call(self, inputs: Tensor) -> Tensor:
        inputs = _floating(inputs)
        alpha = self.alpha if self.alpha.dtype == inputs.dtype else \
            ew.cast(self.alpha, inputs.dtype)
        return nn_ops.relu(inputs) - alpha * nn_ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        from neuroflow.keras import initializers, regularizers

        regularizer = (None if self.alpha_regularizer is None
                       else regularizers.serialize(regularizers.get(self.alpha_regularizer)))
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(
                    initializers.get(self.alpha_initializer)),
                "alpha_regularizer": regularizer, "alpha_constraint": None,
                "shared_axes": self.shared_axes}


class ELU(Layer):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""

    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        outputs = nn_ops.elu(_floating(inputs))
        if self.alpha == 1:
            return outputs
        # Keras 3 scales only the negative branch: where(x > 0, elu(x), alpha * elu(x)).
        scaled = outputs * ew.cast(self.alpha, outputs.dtype)
        return ew.where(ew.greater(inputs, ew.cast(0, inputs.dtype)), outputs, scaled)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {**super().get_config(), "alpha": self.alpha}


def _is_python_lambda(function) -> bool:
    return getattr(function, "__name__", None) == "<lambda>"


class Lambda(Layer):
    """Wrap a function of the inputs as a layer: ``Lambda(lambda x: x ** 2)``.

    ``arguments`` are passed to the function as keyword arguments; ``output_shape`` (the
    shape of a sample, or a function of the input shape) answers compute_output_shape
    without running the function.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, received "
                            f"{type(function).__name__} {function!r}.")
        refuse_unsupported("Lambda", mask=mask)
        self.function = function
        self.output_shape = output_shape
        self.arguments = dict(arguments or {})
        self.built = True

    def call(self, inputs, mask=None, training=None):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self.output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self.output_shape):
            return tuple(self.output_shape(input_shape))
        return (input_shape[0], *tuple(self.output_shape))

    def get_config(self) -> dict:
        if _is_python_lambda(self.function):
            # The code of a lambda is not written out: the config only marks it, and
            # from_config refuses to rebuild it.
            function = {"class_name": "__lambda__", "config": {"code": None, "defaults": None,
                                                                "closure": None}}
        else:
            name = self.function.__name__
            function = {"module": "builtins", "class_name": "function", "config": name,
                        "registered_name": "function"}
        config = {**super().get_config(), "function": function}
        if self.output_shape is not None:  # Keras 3 leaves the key out when not given
            config["output_shape"] = self.output_shape
        return {**config, "arguments": self.arguments}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = dict(config)
        function = config.get("function")
        if isinstance(function, dict):
            if function.get("class_name") == "__lambda__":
                raise ValueError(
                    "Requested the deserialization of a `Lambda` layer whose `function` is a "
                    "Python lambda. Rebuilding it would run code stored in the config, which "
                    "neuroflow never does. Define the function with `def`, save the model "
                    "again, and pass it in custom_objects={'name': function}; or rebuild the "
                    "layer in code.")
            name = function.get("config")
            found = (custom_objects or {}).get(name)
            if found is None:
                raise TypeError(f"Could not locate function {name!r}. Pass it in "
                                f"custom_objects={{{name!r}: {name}}} when loading. Full "
                                f"object config: {function}")
            config["function"] = found
        return cls(**config)
