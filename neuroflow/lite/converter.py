"""``tf.lite.TFLiteConverter``: a Keras model or a concrete function to ``.tflite`` bytes.

The model is traced once with an unknown batch size; ``neuroflow.export.tflite`` lowers
the traced graph to TensorFlow Lite builtin operators and writes the flatbuffer, which
the LiteRT interpreter (and ``tf.lite.Interpreter``) runs. Quantization follows
TensorFlow's switches::

    >>> import numpy as np
    >>> import neuroflow as tf
    >>> model = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(2)])
    >>> converter = tf.lite.TFLiteConverter.from_keras_model(model)
    >>> converter.optimizations = [tf.lite.Optimize.DEFAULT]
    >>> converter.representative_dataset = lambda: ([np.ones((1, 4), "float32")] for _ in range(4))
    >>> flatbuffer = converter.convert()
    >>> flatbuffer[4:8]
    b'TFL3'

* no ``optimizations``: float32;
* ``Optimize.DEFAULT`` without a ``representative_dataset``: dynamic range (int8 weights);
* ``Optimize.DEFAULT`` with one: full integer int8, with float32 inputs and outputs
  unless ``inference_input_type``/``inference_output_type`` are ``tf.int8``.
"""

from __future__ import annotations

import enum
import inspect

import numpy as np

from neuroflow.dtypes import as_dtype


class Optimize(enum.Enum):
    """What to optimize the converted model for; every member but ``EXPERIMENTAL_SPARSITY``
    means quantization, as in TensorFlow (the size and latency members are deprecated
    aliases of ``DEFAULT`` there)."""

    DEFAULT = "DEFAULT"
    OPTIMIZE_FOR_SIZE = "OPTIMIZE_FOR_SIZE"
    OPTIMIZE_FOR_LATENCY = "OPTIMIZE_FOR_LATENCY"
    EXPERIMENTAL_SPARSITY = "EXPERIMENTAL_SPARSITY"

    def __str__(self) -> str:
        return str(self.value)


class OpsSet(enum.Enum):
    """The operator sets a converted model may use."""

    TFLITE_BUILTINS = "TFLITE_BUILTINS"
    SELECT_TF_OPS = "SELECT_TF_OPS"
    TFLITE_BUILTINS_INT8 = "TFLITE_BUILTINS_INT8"
    EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 = \
        "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8"

    def __str__(self) -> str:
        return str(self.value)


class TargetSpec:
    """The target: ``supported_ops`` (a set of ``OpsSet``) and ``supported_types``."""

    def __init__(self, supported_ops=None, supported_types=None,
                 experimental_select_user_tf_ops=None, experimental_supported_backends=None):
        self.supported_ops = set(supported_ops) if supported_ops else {OpsSet.TFLITE_BUILTINS}
        self.supported_types = list(supported_types or [])
        self.experimental_select_user_tf_ops = list(experimental_select_user_tf_ops or [])
        self.experimental_supported_backends = experimental_supported_backends


class RepresentativeDataset:
    """Wraps ``input_gen``, a callable returning an iterable of samples, each a list of
    input arrays (one per model input, with a batch axis) used to calibrate int8."""

    def __init__(self, input_gen):
        self.input_gen = input_gen


class TFLiteConverter:
    """Converts a Keras model or concrete functions to a TensorFlow Lite flatbuffer."""

    def __init__(self, funcs, trackable_obj=None):
        if len(funcs) != 1:
            raise NotImplementedError(
                f"TFLiteConverter converts one concrete function; received {len(funcs)}. "
                f"Convert each function to its own model.")
        self._funcs = list(funcs)
        self._trackable_obj = trackable_obj
        self._input_names: list[str] | None = None
        self.optimizations: list = []
        self.representative_dataset = None
        self.target_spec = TargetSpec()
        self.inference_input_type = as_dtype("float32")
        self.inference_output_type = as_dtype("float32")
        self.allow_custom_ops = False
        self.exclude_conversion_metadata = False
        self.experimental_new_converter = True
        self.experimental_new_quantizer = True

    @classmethod
    def from_keras_model(cls, model) -> TFLiteConverter:
        """A converter for ``model``, traced for any batch size."""
        from neuroflow.graph import TensorSpec, function

        shapes = getattr(model, "input_shape", None) if getattr(model, "built", True) else None
        if shapes is None:
            raise ValueError(
                f"TFLiteConverter.from_keras_model needs a built model with a known input "
                f"shape; {getattr(model, 'name', model)!r} is not built. Start it with "
                f"keras.Input(shape) or call it on data first.")
        several = isinstance(shapes, list)
        shapes = shapes if several else [shapes]
        specs = [TensorSpec((None, *shape[1:]), "float32") for shape in shapes]
        traced = function(model, input_signature=[specs] if several else specs)
        converter = cls([traced.get_concrete_function()], model)
        names = getattr(model, "input_names", None)
        # Keras names a Sequential model's input tensor "keras_tensor", and TensorFlow's
        # converter uses that as the signature's input name.
        converter._input_names = list(names) if names else (
            ["keras_tensor"] if not several else [f"input_{i}" for i in range(len(specs))])
        return converter

    @classmethod
    def from_concrete_functions(cls, funcs, trackable_obj=None) -> TFLiteConverter:
        """A converter for ``funcs`` (one ``ConcreteFunction`` of a ``tf.function``)."""
        converter = cls(funcs, trackable_obj)
        function = getattr(funcs[0], "_function", None)
        python_function = getattr(function, "python_function", None)
        try:
            names = [p for p in inspect.signature(python_function).parameters
                     if p != "self"] if python_function is not None else []
        except (TypeError, ValueError):
            names = []
        count = len(funcs[0].graph.inputs)
        converter._input_names = names if len(names) == count else [
            f"args_{i}" for i in range(count)]
        return converter

    @classmethod
    def from_saved_model(cls, saved_model_dir, signature_keys=None, tags=None):
        raise NotImplementedError(
            "TFLiteConverter.from_saved_model is not supported by neuroflow; load the model "
            "(keras.models.load_model) and use TFLiteConverter.from_keras_model.")

    def convert(self) -> bytes:
        """The converted model: the bytes of a ``.tflite`` flatbuffer."""
        from neuroflow.export.tflite import convert_graph

        mode = self._quantization_mode()
        input_type, output_type = self._edge_types(mode)
        samples = self._samples() if mode == "int8" else None
        return convert_graph(self._funcs[0].graph, self._input_names, quantization=mode,
                             representative_samples=samples, input_type=input_type,
                             output_type=output_type)

    # -- checks of the settings, as TensorFlow's converter makes them ---------------------

    def _quantization_mode(self) -> str | None:
        ops = set(self.target_spec.supported_ops)
        unsupported = ops - {OpsSet.TFLITE_BUILTINS, OpsSet.TFLITE_BUILTINS_INT8}
        if unsupported:
            raise NotImplementedError(
                f"target_spec.supported_ops may hold TFLITE_BUILTINS and TFLITE_BUILTINS_INT8 "
                f"in neuroflow; received {sorted(str(o) for o in unsupported)}. Remove them: "
                f"neuroflow's graphs lower to builtin operators only.")
        optimizations = set(self.optimizations or [])
        if Optimize.EXPERIMENTAL_SPARSITY in optimizations:
            raise NotImplementedError(
                "Optimize.EXPERIMENTAL_SPARSITY is not supported; use Optimize.DEFAULT.")
        types = [as_dtype(t).name for t in self.target_spec.supported_types]
        if optimizations and types and set(types) - {"int8"}:
            raise NotImplementedError(
                f"target_spec.supported_types={types} asks for float16 or other reduced "
                f"types, which neuroflow does not write; leave supported_types empty (int8).")
        full_integer = OpsSet.TFLITE_BUILTINS_INT8 in ops
        if full_integer and self.representative_dataset is None:
            raise ValueError("For full integer quantization, a `representative_dataset` must "
                             "be specified.")
        if not optimizations:
            if full_integer:
                raise ValueError("TFLITE_BUILTINS_INT8 needs converter.optimizations = "
                                 "[tf.lite.Optimize.DEFAULT].")
            return None
        return "int8" if self.representative_dataset is not None else "dynamic_range"

    def _edge_types(self, mode: str | None):
        types = []
        for label, value in (("inference_input_type", self.inference_input_type),
                             ("inference_output_type", self.inference_output_type)):
            name = as_dtype(value).name
            if name not in ("float32", "int8"):
                raise NotImplementedError(
                    f"{label} must be tf.float32 or tf.int8 in neuroflow; received "
                    f"tf.{name}. Quantize and dequantize uint8/int16 data outside the model.")
            if name == "int8" and mode != "int8":
                raise ValueError(
                    f"{label}=tf.int8 needs full integer quantization: set "
                    f"converter.optimizations = [tf.lite.Optimize.DEFAULT] and a "
                    f"representative_dataset; received optimizations={self.optimizations}.")
            types.append(np.int8 if name == "int8" else np.float32)
        return types

    def _samples(self):
        dataset = self.representative_dataset
        generator = dataset.input_gen if isinstance(dataset, RepresentativeDataset) else dataset
        if not callable(generator):
            raise TypeError(f"representative_dataset must be a callable returning an iterable "
                            f"of input lists (or a tf.lite.RepresentativeDataset); received "
                            f"{type(dataset).__name__}.")
        names = self._input_names or []
        for sample in generator():
            if isinstance(sample, dict):
                missing = [n for n in names if n not in sample]
                if missing:
                    raise ValueError(f"representative_dataset sample lacks the inputs "
                                     f"{missing}; it has {sorted(sample)}.")
                sample = [sample[n] for n in names]
            elif not isinstance(sample, (list, tuple)):
                sample = [sample]
            yield [np.asarray(a, np.float32) for a in sample]
