"""The ``serving_default`` signature of a Keras model, and its JSON requests and answers.

Names follow what ``model.export()`` gives a Keras 3 model in TensorFlow, so clients written
for TensorFlow Serving find the same keys: inputs are named after the model's ``Input``
layers; outputs after the keys of a dict output, else ``output_0``, ``output_1``, ...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuroflow.serving.status import invalid

# TensorFlow's DataType enum names, as TensorFlow Serving writes them in metadata.
DTYPE_NAMES = {
    "float16": "DT_HALF", "float32": "DT_FLOAT", "float64": "DT_DOUBLE",
    "int8": "DT_INT8", "int16": "DT_INT16", "int32": "DT_INT32", "int64": "DT_INT64",
    "uint8": "DT_UINT8", "uint16": "DT_UINT16", "uint32": "DT_UINT32", "uint64": "DT_UINT64",
    "bool": "DT_BOOL",
}
# The kinds of JSON values NumPy reads that each input kind accepts: a JSON integer is a
# valid float (TensorFlow Serving reads 1 as 1.0), a float is not a valid integer.
_ACCEPTS = {"f": "fiu", "i": "iu", "u": "iu", "b": "b"}
_KIND_NAMES = {"f": "number with a fraction", "i": "integer", "u": "integer", "b": "boolean",
               "U": "string", "S": "string", "O": "mixed or out-of-range values"}
SIGNATURE_NAME = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"


@dataclass(frozen=True)
class TensorInfo:
    key: str  # the name clients use
    tensor_name: str  # the graph tensor's name, as metadata reports it
    dtype: np.dtype
    shape: tuple  # None for a size known only when the model runs (the batch)

    def metadata(self) -> dict:
        return {"dtype": DTYPE_NAMES.get(self.dtype.name, "DT_INVALID"),
                "tensor_shape": {"dim": [{"size": str(-1 if d is None else d), "name": ""}
                                         for d in self.shape], "unknown_rank": False},
                "name": self.tensor_name}

    def describe(self) -> str:
        return f"{[-1 if d is None else d for d in self.shape]} {self.dtype.name}"


class Signature:
    """A model's inputs and outputs, and the conversions between JSON and arrays."""

    def __init__(self, inputs: list[TensorInfo], outputs: list[TensorInfo], output_kind: str):
        self.inputs = inputs
        self.outputs = outputs
        self.output_kind = output_kind  # "single", "sequence" or "dict": the model's output
        self.input_keys = [info.key for info in inputs]

    def metadata(self) -> dict:
        return {"signature_def": {"signature_def": {SIGNATURE_NAME: {
            "inputs": {i.key: i.metadata() for i in self.inputs},
            "outputs": {o.key: o.metadata() for o in self.outputs},
            "method_name": PREDICT_METHOD, "defaults": {}}}}}

    # --- requests -----------------------------------------------------------------------------
    def decode(self, body) -> tuple[dict, str]:
        """The request's input arrays by key, and its format ("row" or "columnar")."""
        if not isinstance(body, dict):
            raise invalid(f"The request body must be a JSON object with 'instances' or 'inputs'; "
                          f"received a JSON {_json_type(body)}")
        name = body.get("signature_name", SIGNATURE_NAME)
        if not isinstance(name, str):
            raise invalid("'signature_name' key must be a string value.")
        if name != SIGNATURE_NAME:
            raise invalid(f"Serving signature name: \"{name}\" not found in signature def; this "
                          f"model has the one signature \"{SIGNATURE_NAME}\"")
        unknown = sorted(set(body) - {"signature_name", "instances", "inputs"})
        if unknown:
            raise invalid(f"Unexpected key {unknown[0]!r} in the request; a predict request holds "
                          f"'instances' (row format) or 'inputs' (columnar format) and optionally "
                          f"'signature_name'")
        if ("instances" in body) == ("inputs" in body):
            raise invalid("Missing 'inputs' or 'instances' key" if "inputs" not in body else
                          "Not both of 'instances' and 'inputs' can be set: 'instances' is the "
                          "row format, 'inputs' the columnar format; send one")
        if "instances" in body:
            return self._rows(body["instances"]), "row"
        return self._columns(body["inputs"]), "columnar"

    def _rows(self, instances) -> dict:
        if not isinstance(instances, list) or not instances:
            raise invalid(f"'instances' must be a non-empty list of samples; received "
                          f"{_json_type(instances)}")
        if len(self.inputs) > 1 or any(isinstance(i, dict) for i in instances):
            values = {}
            for position, instance in enumerate(instances):
                if not isinstance(instance, dict):
                    raise invalid(f"instances[{position}] must be an object with the inputs "
                                  f"{self.input_keys} (this signature has named inputs); "
                                  f"received a JSON {_json_type(instance)}")
                self._check_names(instance, f"instances[{position}]")
            for key in self.input_keys:
                values[key] = [instance[key] for instance in instances]
        else:
            values = {self.input_keys[0]: instances}
        return {info.key: _array(values[info.key], info, "instances") for info in self.inputs}

    def _columns(self, inputs) -> dict:
        if isinstance(inputs, dict):
            self._check_names(inputs, "'inputs'")
            arrays = {i.key: _array(inputs[i.key], i, f"inputs[{i.key!r}]") for i in self.inputs}
        elif len(self.inputs) > 1:
            raise invalid(f"'inputs' must be an object with the inputs {self.input_keys} (this "
                          f"signature has {len(self.inputs)} inputs); received a JSON "
                          f"{_json_type(inputs)}")
        else:
            arrays = {self.input_keys[0]: _array(inputs, self.inputs[0], "'inputs'")}
        sizes = {key: a.shape[0] for key, a in arrays.items()}
        if len(set(sizes.values())) > 1:
            raise invalid(f"Input tensors must have equal 0th-dimension size; received {sizes}")
        return arrays

    def _check_names(self, value: dict, where: str) -> None:
        missing = [k for k in self.input_keys if k not in value]
        extra = sorted(set(value) - set(self.input_keys))
        if missing or extra:
            problem = f"is missing input {missing[0]!r}" if missing else \
                f"has input {extra[0]!r}, which the signature does not have"
            raise invalid(f"{where} {problem}; the signature's inputs are {self.input_keys}")

    # --- answers ------------------------------------------------------------------------------
    def encode(self, outputs: list, request_format: str) -> dict:
        """The answer to a request in ``request_format``, for the outputs in signature order."""
        if request_format == "row":
            if len(outputs) == 1:
                return {"predictions": outputs[0].tolist()}
            columns = [(info.key, array.tolist()) for info, array in zip(self.outputs, outputs)]
            return {"predictions": [{key: column[i] for key, column in columns}
                                    for i in range(len(outputs[0]))]}
        if len(outputs) == 1:
            return {"outputs": outputs[0].tolist()}
        return {"outputs": {info.key: a.tolist() for info, a in zip(self.outputs, outputs)}}


def _json_type(value) -> str:
    for kind, name in ((dict, "object"), (list, "array"), (str, "string"), (bool, "boolean"),
                       (int, "number"), (float, "number")):
        if isinstance(value, kind):
            return name
    return "null"


def _array(value, info: TensorInfo, where: str) -> np.ndarray:
    """``value`` (JSON) as an array of the input's dtype and shape, or a clear error."""
    try:
        array = np.asarray(value)
    except (ValueError, OverflowError):
        raise invalid(f"{where} for input {info.key!r} is ragged: every sample must have the "
                      f"same shape, {info.describe()} (-1: any size)") from None
    if array.size == 0:
        raise invalid(f"{where} for input {info.key!r} holds no values; send at least one "
                      f"sample of shape {info.describe()}")
    expected = info.dtype.kind
    if array.dtype.kind not in _ACCEPTS.get(expected, ""):
        found = _KIND_NAMES.get(array.dtype.kind, array.dtype.name)
        raise invalid(f"{where} for input {info.key!r} holds {found}, which is not of expected "
                      f"type: {info.dtype.name}")
    if expected in "iu":
        limits = np.iinfo(info.dtype)
        if array.min() < limits.min or array.max() > limits.max:
            raise invalid(f"{where} for input {info.key!r} holds values outside the range of "
                          f"{info.dtype.name} ({limits.min} to {limits.max})")
    shape = array.shape
    if len(shape) != len(info.shape) or any(
            d is not None and d != s for d, s in zip(info.shape[1:], shape[1:])):
        raise invalid(f"{where} for input {info.key!r} has shape "
                      f"{list(shape)}, but the signature expects {info.describe()} "
                      f"(-1: any size; the first dimension counts the samples)")
    return array.astype(info.dtype, copy=False)
