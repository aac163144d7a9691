"""The server against TensorFlow: its answers against Keras's predict on the same file, its
metadata against the signature ``model.export()`` writes, its dtype names against TF's."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neuroflow as nf
from neuroflow.serving.models import Servable
from neuroflow.serving.signature import DTYPE_NAMES

pytestmark = pytest.mark.tensorflow


def test_dtype_names_are_tensorflows():
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.framework import types_pb2

    for name, enum_name in DTYPE_NAMES.items():
        assert types_pb2.DataType.Name(tf.as_dtype(name).as_datatype_enum) == enum_name


def _two_input_model():
    a = nf.keras.Input((3,), name="a")
    b = nf.keras.Input((2,), name="b")
    h = nf.keras.layers.Concatenate()([a, nf.keras.layers.Dense(2, activation="tanh")(b)])
    return nf.keras.Model([a, b], {"o1": nf.keras.layers.Dense(4, name="o1")(h),
                                   "o2": nf.keras.layers.Dense(1, name="o2")(h)})


def test_answers_and_signature_match_tensorflow(tmp_path, helpers):
    tf = pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    model = _two_input_model()
    path = helpers.save_version(tmp_path / "m", 1, model)
    # The served version without HTTP (the REST tests cover that part): the TensorFlow
    # environment need not have the server's packages.
    servable = Servable("m", 1, path, None)

    reference = keras.saving.load_model(path)
    rng = np.random.default_rng(0)
    x = {"a": rng.standard_normal((5, 3)).astype(np.float32),
         "b": rng.standard_normal((5, 2)).astype(np.float32)}
    expected = reference.predict(x, verbose=0)
    body = json.loads(json.dumps({"inputs": {k: v.tolist() for k, v in x.items()}}))
    arrays, request_format = servable.signature.decode(body)
    answer = servable.signature.encode(servable.predict_arrays(arrays), request_format)
    for key in ("o1", "o2"):
        np.testing.assert_allclose(answer["outputs"][key], expected[key], rtol=1e-5, atol=1e-5)

    reference.export(str(tmp_path / "saved"), verbose=False)
    signature = tf.saved_model.load(str(tmp_path / "saved")).signatures["serving_default"]
    meta = servable.signature.metadata()["signature_def"]["signature_def"]["serving_default"]

    def dims(entry):
        return [int(d["size"]) for d in entry["tensor_shape"]["dim"]]

    tf_inputs = signature.structured_input_signature[1]
    assert set(meta["inputs"]) == set(tf_inputs)
    for key, spec in tf_inputs.items():
        assert dims(meta["inputs"][key]) == [-1 if d is None else d for d in spec.shape]
    assert set(meta["outputs"]) == set(signature.structured_outputs)
    for key, spec in signature.structured_outputs.items():
        assert dims(meta["outputs"][key]) == [-1 if d is None else d for d in spec.shape]
