"""Train (or load) the Fashion-MNIST CNN and export it for the page beside this script.

    python examples/web/build.py                      # train 3 epochs, export
    python examples/web/build.py --model cnn.keras    # export a saved model instead
    python -m http.server -d examples/web 8000        # then open http://127.0.0.1:8000

Writes ``model/`` (TensorFlow.js Layers format: ``model.json`` and weight shards) and
copies TensorFlow.js (``tfjs/tf.min.js``) from the npm package that
``tools/install_js_runtimes.sh`` installs, so the page loads nothing from the network.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import neuroflow as tf
from neuroflow import keras
from neuroflow.keras import layers

HERE = Path(__file__).resolve().parent
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def build_model(filters: tuple[int, int] = (32, 64)) -> keras.Model:
    """The CNN of ``examples/fashion_mnist_cnn.ipynb``: raw 0-255 pixels in, the model
    rescales them, so the page feeds grey levels as they are."""
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.RandomTranslation(0.05, 0.05, fill_mode="constant")(inputs)  # training only
    x = layers.Rescaling(1 / 255)(x)
    x = layers.Conv2D(filters[0], kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Conv2D(filters[1], kernel_size=3, activation="relu")(x)
    x = layers.MaxPooling2D(pool_size=2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10, activation="softmax", name="class")(x)
    return keras.Model(inputs, outputs, name="convnet")


def train(model: keras.Model, data_dir: str | None, samples: int, epochs: int) -> None:
    (x_train, y_train), _ = keras.datasets.fashion_mnist.load_data(data_dir)
    x_train, y_train = x_train[:samples, ..., None].astype("float32"), y_train[:samples]
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=epochs, verbose=2)


def tfjs_bundle() -> Path | None:
    """``tf.min.js`` of the installed ``@tensorflow/tfjs`` npm package, if any."""
    cache = os.environ.get("NEUROFLOW_CI_CACHE") or os.path.expanduser("~/.cache/neuroflow-ci")
    folder = Path(os.environ.get("NEUROFLOW_TFJS_DIR") or os.path.join(cache, "node"))
    bundle = folder / "node_modules" / "@tensorflow" / "tfjs" / "dist" / "tf.min.js"
    return bundle if bundle.is_file() else None


def export(model: keras.Model, out: str | os.PathLike = HERE) -> Path:
    """Writes ``out/model`` and ``out/tfjs/tf.min.js`` (and the page, when ``out`` is
    another folder); returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if out.resolve() != HERE:
        for name in ("index.html", "app.js"):
            shutil.copy(HERE / name, out / name)
    if (out / "model").exists():
        shutil.rmtree(out / "model")
    tf.js.save_keras_model(model, out / "model", metadata={"class_names": CLASS_NAMES})
    bundle = tfjs_bundle()
    if bundle is None:
        print("TensorFlow.js not found: run tools/install_js_runtimes.sh, then build again "
              "(or copy tf.min.js into tfjs/ yourself)", file=sys.stderr)
    else:
        (out / "tfjs").mkdir(exist_ok=True)
        shutil.copy(bundle, out / "tfjs" / "tf.min.js")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="a saved .keras model to export instead of training")
    parser.add_argument("--data", default=os.environ.get("FASHION_MNIST_DIR"),
                        help="folder with the Fashion-MNIST files (default: Keras's lookup)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--out", default=str(HERE), help="folder for the page and model")
    args = parser.parse_args(argv)
    if args.model:
        model = keras.models.load_model(args.model)
    else:
        keras.utils.set_random_seed(0)
        model = build_model()
        train(model, args.data, args.samples, args.epochs)
        _, (x_test, y_test) = keras.datasets.fashion_mnist.load_data(args.data)
        _, accuracy = model.evaluate(x_test[..., None].astype("float32"), y_test, verbose=0)
        print(f"test accuracy: {accuracy:.4f}")
    out = export(model, args.out)
    print(f"exported to {out / 'model'}; serve with: python -m http.server -d {out} 8000")


if __name__ == "__main__":
    main()
