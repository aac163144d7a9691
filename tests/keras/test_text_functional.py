"""A functional model that takes raw strings: ``keras.Input(shape=(1,), dtype="string")``
into TextVectorization, trained end to end, saved and loaded."""

import numpy as np
import pytest

import neuroflow as tf

TOPICS = ("goal match team player coach score".split(),
          "recipe oven flour sugar butter bake".split())
FILLER = "the a and with this that very today".split()


def _corpus(n: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    texts = [" ".join(rng.permutation([*rng.choice(TOPICS[y], 2), *rng.choice(FILLER, 3)]))
             for y in labels]
    return texts, labels.astype(np.float32)


def _model(texts):
    inputs = tf.keras.Input(shape=(1,), dtype="string")
    vectorize = tf.keras.layers.TextVectorization(max_tokens=40, output_sequence_length=6)
    vectorize.adapt(texts)
    x = tf.keras.layers.Embedding(40, 8)(vectorize(inputs))
    x = tf.keras.layers.GlobalAveragePooling1D()(x)
    outputs = tf.keras.layers.Dense(1, activation="sigmoid")(x)
    return tf.keras.Model(inputs, outputs)


def test_string_input_has_the_string_dtype():
    inputs = tf.keras.Input(shape=(1,), dtype="string")
    assert inputs.dtype == "string"
    assert inputs.shape == (None, 1)
    assert tf.keras.Input(shape=(2,), dtype=tf.string).dtype == "string"


@pytest.mark.tensorflow
def test_string_input_matches_keras():
    keras = pytest.importorskip("tensorflow").keras
    ours, theirs = tf.keras.Input(shape=(1,), dtype="string"), \
        keras.Input(shape=(1,), dtype="string")
    assert (ours.dtype, ours.shape) == (theirs.dtype, tuple(theirs.shape))


def test_functional_text_model_learns_from_raw_strings(tmp_path):
    texts, labels = _corpus(200, 0)
    model = _model(texts)
    model.compile(tf.keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=["accuracy"])
    strings = tf.constant([[t] for t in texts])
    history = model.fit(strings, labels, epochs=8, batch_size=20, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    held_out, held_labels = _corpus(60, 1)
    held = tf.constant([[t] for t in held_out])
    assert model.evaluate(held, held_labels, verbose=0)[1] > 0.9
    # The same through a tf.data pipeline of strings.
    dataset = tf.data.Dataset.from_tensor_slices((held, held_labels)).batch(16)
    np.testing.assert_allclose(model.predict(dataset, verbose=0),
                               model.predict(held, verbose=0), rtol=1e-5, atol=1e-6)
    # Eager calls take string tensors too.
    np.testing.assert_allclose(model(held).numpy(), model.predict(held, verbose=0),
                               rtol=1e-5, atol=1e-6)
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)
    assert loaded.inputs[0].dtype == "string"
    np.testing.assert_allclose(loaded.predict(held, verbose=0),
                               model.predict(held, verbose=0), rtol=1e-5, atol=1e-6)


def test_numpy_unicode_arrays_train_evaluate_and_predict_as_string_tensors():
    """NumPy ``'<U'`` arrays (and ``'|S'`` ones) are fed as string tensors, as Keras does."""
    texts, labels = _corpus(120, 2)
    texts[0] = texts[0] + " café naïve"  # non-ASCII text travels as UTF-8 bytes
    unicode = np.array([[t] for t in texts])
    assert unicode.dtype.kind == "U"
    tensors = tf.constant([[t] for t in texts])
    models = []
    for x in (unicode, tensors):
        tf.keras.utils.set_random_seed(4)
        model = _model(texts)
        model.compile(tf.keras.optimizers.Adam(0.05), "binary_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, labels, epochs=2, batch_size=20, shuffle=False,
                            validation_split=0.25, verbose=0).history
        models.append((model, history))
    (ours, history), (reference, expected) = models
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(unicode, labels, verbose=0),
                               reference.evaluate(tensors, labels, verbose=0),
                               rtol=1e-5, atol=1e-6)
    want = reference.predict(tensors, verbose=0)
    # Batched predict, the one-batch path, and bytes arrays.
    np.testing.assert_allclose(ours.predict(unicode, verbose=0), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.predict(unicode[:5], verbose=0), want[:5], rtol=1e-5,
                               atol=1e-6)
    encoded = np.char.encode(unicode, "utf-8")
    assert encoded.dtype.kind == "S"
    np.testing.assert_allclose(ours.predict(encoded[:5], verbose=0), want[:5], rtol=1e-5,
                               atol=1e-6)
