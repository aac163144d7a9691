"""``.keras`` files holding ``neuroflow.keras_hub`` layers: they name KerasHub's module and
registered name, load without ``custom_objects`` once ``neuroflow.keras_hub`` is imported,
and (where TensorFlow and KerasHub are installed) move both ways between neuroflow and
Keras with KerasHub, predicting the same."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

pytest.importorskip("h5py")

from neuroflow import keras, keras_hub  # noqa: E402
from neuroflow.keras.saving import get_custom_objects, get_registered_object  # noqa: E402

SEQ, VOCAB, DIM = 6, 40, 8
HUB_CLASSES = ["PositionEmbedding", "ReversibleEmbedding", "SinePositionEncoding",
               "TokenAndPositionEmbedding", "TransformerDecoder", "TransformerEncoder"]
MODULES = {"PositionEmbedding": "position_embedding",
           "ReversibleEmbedding": "reversible_embedding",
           "SinePositionEncoding": "sine_position_encoding",
           "TokenAndPositionEmbedding": "token_and_position_embedding",
           "TransformerDecoder": "transformer_decoder",
           "TransformerEncoder": "transformer_encoder"}
TOKENS = np.random.default_rng(5).integers(1, VOCAB, size=(3, SEQ)).astype("int32")


def build(k, hub):
    """The same model from Keras ``k`` and KerasHub ``hub`` (neuroflow's or the real ones):
    every KerasHub layer of neuroflow, ending in logits over the vocabulary."""
    tokens = k.Input((SEQ,), dtype="int32")
    x = hub.layers.TokenAndPositionEmbedding(VOCAB, SEQ, DIM)(tokens)
    x = hub.layers.TransformerEncoder(intermediate_dim=16, num_heads=2)(x)
    x = hub.layers.TransformerDecoder(intermediate_dim=16, num_heads=2)(x)
    x = k.layers.Add()([x, hub.layers.PositionEmbedding(SEQ)(x),
                        hub.layers.SinePositionEncoding()(x)])
    logits = hub.layers.ReversibleEmbedding(VOCAB, DIM, tie_weights=False)(x, reverse=True)
    return k.Model(tokens, logits)


def config_of(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


def rewritten(path, out, change):
    """A copy of the ``.keras`` file ``path`` at ``out`` with ``change(config)`` applied."""
    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    config = json.loads(files["config.json"])
    change(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


def hub_entries(config: dict) -> dict:
    """``{class_name: (module, registered_name)}`` of the model's KerasHub layers."""
    return {entry["class_name"]: (entry.get("module"), entry.get("registered_name"))
            for entry in config["config"]["layers"] if entry["class_name"] in HUB_CLASSES}


def test_registered_under_keras_hub_and_keras_nlp_names():
    for name in HUB_CLASSES:
        cls = getattr(keras_hub.layers, name)
        assert keras.saving.get_registered_name(cls) == f"keras_hub>{name}"
        assert get_registered_object(f"keras_hub>{name}") is cls
        # Files KerasNLP wrote name the same classes under its package.
        assert get_registered_object(f"keras_nlp>{name}") is cls


def test_config_names_keras_hub_module_and_loads_without_custom_objects(tmp_path):
    model = build(keras, keras_hub)
    path = tmp_path / "hub.keras"
    model.save(path)
    assert hub_entries(config_of(path)) == {
        name: (f"keras_hub.src.layers.modeling.{MODULES[name]}", f"keras_hub>{name}")
        for name in HUB_CLASSES}
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_allclose(loaded.predict(TOKENS, verbose=0),
                               model.predict(TOKENS, verbose=0), rtol=1e-6, atol=1e-6)


def test_unregistered_keras_hub_layer_says_to_import_neuroflow_keras_hub(tmp_path,
                                                                        monkeypatch):
    path = tmp_path / "hub.keras"
    build(keras, keras_hub).save(path)
    # As in a program that never imported neuroflow.keras_hub.
    registry = get_custom_objects()
    for key in [key for key in registry if key.split(">")[0] in ("keras_hub", "keras_nlp")]:
        monkeypatch.delitem(registry, key)
    with pytest.raises(ValueError, match=r"import neuroflow\.keras_hub") as info:
        keras.models.load_model(path)
    assert "TokenAndPositionEmbedding" in str(info.value)


# --- both ways with Keras and KerasHub -----------------------------------------------------


@pytest.fixture(scope="module")
def real():
    """Keras 3 and KerasHub (installed without its dependencies where only TensorFlow is)."""
    pytest.importorskip("tensorflow")
    real_keras = pytest.importorskip("keras")
    try:
        import keras_hub as real_hub
    except ImportError as error:  # KerasHub itself, or regex or tokenizers it imports
        pytest.skip(f"KerasHub is not importable ({error}): `pip install --no-deps "
                    f"keras-hub==0.32.* regex tokenizers` to compare files with it")
    return real_keras, real_hub


@pytest.mark.tensorflow
def test_neuroflow_reads_keras_hub_file(real, tmp_path):
    real_keras, real_hub = real
    real_keras.utils.set_random_seed(1)
    original = build(real_keras, real_hub)
    path = tmp_path / "real.keras"
    original.save(path)
    loaded = keras.models.load_model(path)
    assert {type(layer).__name__ for layer in loaded.layers} >= set(HUB_CLASSES)
    assert all(type(layer).__module__.startswith("neuroflow.") for layer in loaded.layers)
    np.testing.assert_allclose(loaded.predict(TOKENS, verbose=0),
                               np.asarray(original.predict(TOKENS, verbose=0)),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.tensorflow
def test_keras_hub_reads_neuroflow_file(real, tmp_path):
    real_keras, real_hub = real
    keras.utils.set_random_seed(2)
    original = build(keras, keras_hub)
    path = tmp_path / "neuroflow.keras"
    original.save(path)
    loaded = real_keras.models.load_model(path)
    assert {type(layer).__module__.split(".")[0] for layer in loaded.layers} == \
        {"keras", "keras_hub"}
    np.testing.assert_allclose(np.asarray(loaded.predict(TOKENS, verbose=0)),
                               original.predict(TOKENS, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.tensorflow
def test_config_names_match_keras_hub(real, tmp_path):
    real_keras, real_hub = real
    build(real_keras, real_hub).save(tmp_path / "real.keras")
    build(keras, keras_hub).save(tmp_path / "neuroflow.keras")
    assert hub_entries(config_of(tmp_path / "neuroflow.keras")) == \
        hub_entries(config_of(tmp_path / "real.keras"))


def test_keras_hub_class_neuroflow_lacks_is_named(tmp_path):
    path = tmp_path / "hub.keras"
    build(keras, keras_hub).save(path)

    def rotary(config):  # one of KerasHub's classes that neuroflow.keras_hub lacks
        entry = next(e for e in config["config"]["layers"]
                     if e["class_name"] == "SinePositionEncoding")
        entry.update(class_name="RotaryEmbedding", registered_name="keras_hub>RotaryEmbedding",
                     module="keras_hub.src.layers.modeling.rotary_embedding")

    odd = rewritten(path, tmp_path / "odd.keras", rotary)
    with pytest.raises(ValueError, match="does not provide this KerasHub class") as info:
        keras.models.load_model(odd)
    assert "RotaryEmbedding" in str(info.value) and "TransformerEncoder" in str(info.value)


def test_files_naming_keras_hub_layers_as_keras_layers_load(tmp_path):
    """Files neuroflow wrote before it named KerasHub's module: ``keras.layers`` and no
    registered name."""
    model = build(keras, keras_hub)
    path = tmp_path / "hub.keras"
    model.save(path)

    def as_keras_layers(config):
        for entry in config["config"]["layers"]:
            if entry["class_name"] in HUB_CLASSES:
                entry.update(module="keras.layers", registered_name=None)

    loaded = keras.models.load_model(rewritten(path, tmp_path / "older.keras",
                                               as_keras_layers))
    np.testing.assert_allclose(loaded.predict(TOKENS, verbose=0),
                               model.predict(TOKENS, verbose=0), rtol=1e-6, atol=1e-6)
