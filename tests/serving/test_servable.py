"""A loaded version's compiled predict, called from many threads at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from neuroflow.serving.models import Servable


def test_concurrent_predicts_of_any_batch_size_are_each_right(tmp_path, helpers):
    model = helpers.dense_model(11)
    path = helpers.save_version(tmp_path / "m", 1, model)
    servable = Servable("m", 1, path, None)
    (key,) = servable.signature.input_keys
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((int(n), 4)).astype(np.float32)
              for n in rng.integers(1, 40, 200)]

    def predict(x):
        (out,) = servable.predict_arrays({key: x})
        return out

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(predict, inputs))
    for x, got in zip(inputs, results):
        np.testing.assert_allclose(got, helpers.numpy_forward(model, x), rtol=1e-5, atol=1e-6)
