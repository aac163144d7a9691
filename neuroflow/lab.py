"""The reference lab: Fashion-MNIST with a Sequential MLP, end to end.

Runs the student's lab exactly as written for TensorFlow, with neuroflow in its
place: load the data, look at it, build and train the model, evaluate it, and
save the pictures (the first image, a 4x5 grid of samples, training curves).
``neuroflow lab`` runs it from the command line; ``examples/fashion_mnist_lab.ipynb``
is the same lab as a notebook. ``--framework tensorflow`` runs this very code with
TensorFlow (where it is installed), which ``bench/lab_vs_tensorflow.py`` uses to compare.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib.util
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def load_and_split(path=None, quiet: bool = False):
    """The lab's split: the last 5,000 training images are the validation set; scaled to [0, 1]."""
    from neuroflow.keras.datasets import fashion_mnist

    (x_train_full, y_train_full), (x_test, y_test) = fashion_mnist.load_data(path)
    x_train, y_train = x_train_full[:-5000], y_train_full[:-5000]
    x_valid, y_valid = x_train_full[-5000:], y_train_full[-5000:]
    if not quiet:
        print("X_train.shape:", x_train.shape)
        print("max, min:", (int(np.max(x_train)), int(np.min(x_train))))
    x_train, x_valid, x_test = x_train / 255., x_valid / 255., x_test / 255.
    return (x_train, y_train), (x_valid, y_valid), (x_test, y_test)


def build_model(tf=None):
    """The lab's model, built exactly as the handout does, with neuroflow or another ``tf``."""
    keras = (tf or _framework("neuroflow")).keras
    model = keras.Sequential()
    model.add(keras.layers.InputLayer(shape=[28, 28]))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(100, activation="relu"))
    model.add(keras.layers.Dense(75, activation="relu"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model


def _framework(name: str):
    """The ``tf`` module: neuroflow, or TensorFlow to run the very same lab for comparison."""
    if name not in ("neuroflow", "tensorflow"):
        raise ValueError(f"framework must be 'neuroflow' or 'tensorflow', received {name!r}.")
    return importlib.import_module(name)


def _epoch_timer(tf):
    """A callback recording the wall time of each epoch, validation included."""

    class EpochTimer(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []
            self._start = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def _pyplot():
    """matplotlib's pyplot without a display, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    if not os.environ.get("DISPLAY") and not _in_kernel():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _in_kernel() -> bool:
    """Whether this runs inside a Jupyter kernel (merely importing ipykernel is not enough)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if hasattr(ipython, "get_ipython") else None
    return getattr(shell, "kernel", None) is not None


def save_pictures(x_train, y_train, out: Path) -> list[Path]:
    """The first training image and a 4x5 grid titled with class names, as PNG files."""
    plt = _pyplot()
    if plt is None:
        print("matplotlib is not installed: skipping the pictures "
              "(pip install 'neuroflow[plot]' to get them).")
        return []
    _make_folder(out)
    first = out / "first_image.png"
    plt.figure(figsize=(3, 3))
    plt.imshow(x_train[0], cmap="binary")
    plt.axis("off")
    plt.title(CLASS_NAMES[int(y_train[0])])
    _save_png(plt.gcf(), first, bbox_inches="tight")
    plt.close()
    grid = out / "sample_grid.png"
    rows, cols = 4, 5
    plt.figure(figsize=(cols * 1.4, rows * 1.6))
    for index in range(rows * cols):
        plt.subplot(rows, cols, index + 1)
        plt.imshow(x_train[index], cmap="binary", interpolation="nearest")
        plt.axis("off")
        plt.title(CLASS_NAMES[int(y_train[index])], fontsize=10)
    plt.subplots_adjust(wspace=0.2, hspace=0.5)
    _save_png(plt.gcf(), grid, bbox_inches="tight")
    plt.close()
    return [first, grid]


def save_curves(history: dict, out: Path) -> Path | None:
    """Loss and accuracy per epoch (training and validation), as a PNG file.

    None when there is nothing to draw: matplotlib is missing, or no epoch ran (``--epochs 0``).
    """
    plt = _pyplot()
    if plt is None or not history.get("loss"):
        return None
    _make_folder(out)
    path = out / "training_curves.png"
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, metric in zip(axes, ("loss", "accuracy")):
        axis.plot(epochs, history[metric], "o-", label=f"training {metric}")
        if f"val_{metric}" in history:
            axis.plot(epochs, history[f"val_{metric}"], "s-", label=f"validation {metric}")
        axis.set_xlabel("epoch")
        axis.set_title(metric)
        axis.grid(True)
        axis.legend()
    fig.tight_layout()
    _save_png(fig, path)
    plt.close(fig)
    return path


def _make_folder(out: Path) -> None:
    """Create the pictures' folder; an error says what is wrong with it, naming it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # exist_ok still fails when the name is taken by a file
        raise NotADirectoryError(errno.ENOTDIR, "the folder for the pictures (--out) is a "
                                 "file", str(out)) from None
    except OSError as error:
        raise OSError(error.errno, f"cannot create the folder for the pictures (--out): "
                      f"{error.strerror}", str(out)) from error


def _save_png(figure, path: Path, **options) -> None:
    """Save ``figure`` as a PNG atomically: an interrupted run leaves no half-written picture."""
    from neuroflow.keras.callbacks.logging import write_atomically

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", **options)
    write_atomically(path, buffer.getvalue())


def run(epochs: int = 30, seed: int | None = None, out: str | Path | None = "lab-output",
        data_path=None, verbose="auto", quiet: bool = False,
        framework: str = "neuroflow", tensorboard: str | Path | None = None,
        multi_worker: bool = False) -> dict:
    """Run the whole lab and return what it measured.

    ``out=None`` skips the pictures; ``quiet`` prints only the training progress (as
    ``verbose`` asks); ``framework="tensorflow"`` runs the same code with TensorFlow;
    ``tensorboard`` names a folder for TensorBoard logs of the training (Keras's
    ``TensorBoard`` callback: metrics per epoch, weight histograms, the model's graph).
    The result holds ``history`` (per-epoch logs), ``test_loss``, ``test_accuracy``,
    ``seconds`` (the whole ``fit``), ``epoch_seconds`` (each epoch, validation included),
    ``pictures`` (the PNG files written) and the trained ``model``.
    ``multi_worker`` trains with ``tf.distribute.MultiWorkerMirroredStrategy`` on the
    processes of ``mpirun -n N``: each takes its part of every batch of 32; only worker 0
    prints, draws and writes logs.
    """
    tf = _framework(framework)
    strategy = tf.distribute.MultiWorkerMirroredStrategy() if multi_worker else None
    if strategy is not None and not strategy.extended.should_checkpoint:
        quiet, out, tensorboard, verbose = True, None, None, 0
    say = (lambda *args: None) if quiet else print
    if seed is not None:
        tf.keras.utils.set_random_seed(seed)
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = load_and_split(data_path, quiet)
    pictures = [] if out is None else save_pictures(x_train, y_train, Path(out))
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        model = build_model(tf)
        model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                      metrics=["accuracy"])
    if not quiet:
        model.summary()
    timer = _epoch_timer(tf)
    callbacks = [timer]
    if tensorboard is not None:
        callbacks.append(tf.keras.callbacks.TensorBoard(log_dir=str(tensorboard),
                                                        histogram_freq=1))
    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=epochs, validation_data=(x_valid, y_valid),
                        verbose=verbose, callbacks=callbacks)
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=verbose)
    if out is not None:
        curves = save_curves(history.history, Path(out))
        pictures += [] if curves is None else [curves]
    say(f"test accuracy: {test_accuracy:.4f}, test loss: {test_loss:.4f}")
    say(f"training time: {seconds:.1f} s ({seconds / max(epochs, 1):.2f} s per epoch)")
    for picture in pictures:
        say(f"saved {picture}")
    if tensorboard is not None:
        say(f"TensorBoard logs in {tensorboard}: tensorboard --logdir {tensorboard}")
    return {"history": history.history, "test_loss": float(test_loss),
            "test_accuracy": float(test_accuracy), "seconds": seconds,
            "epoch_seconds": timer.seconds, "pictures": pictures, "model": model}


def _verbosity(text: str):
    """``--verbose``: "auto" or 0, 1, 2, as Keras's ``fit`` takes it."""
    if text == "auto":
        return text
    if text in ("0", "1", "2"):
        return int(text)
    raise argparse.ArgumentTypeError(f"must be 0, 1, 2 or auto, not {text!r}")


def _whole_number(text: str) -> int:
    """``--epochs``: a whole number, 0 or more."""
    if not text.isdecimal():
        raise argparse.ArgumentTypeError(f"must be a whole number (0 or more), not {text!r}; "
                                         f"e.g. --epochs 10")
    return int(text)


def _seed(text: str) -> int:
    """``--seed``: what ``keras.utils.set_random_seed`` takes, a whole number below 2**32."""
    if not text.isdecimal() or int(text) >= 2**32:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**32 - 1, not "
                                         f"{text!r}; e.g. --seed 42")
    return int(text)


def main(argv=None) -> int:
    """``neuroflow lab``: parse the options and run the lab.

    Expected failures (no data, an --out folder that cannot be written) raise OSError,
    which ``neuroflow.cli`` reports in one line.
    """
    parser = argparse.ArgumentParser(prog="neuroflow lab", description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=_whole_number, default=30,
                        help="training epochs (default: 30, as in the handout)")
    parser.add_argument("--seed", type=_seed, default=None, help="make the run reproducible")
    parser.add_argument("--out", default="lab-output", help="folder for the PNG pictures")
    parser.add_argument("--data", default=None,
                        help="folder holding the four Fashion-MNIST .gz files")
    parser.add_argument("--verbose", type=_verbosity, default="auto",
                        help="0, 1, 2 or auto (as in Keras)")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the training progress and the test results")
    parser.add_argument("--framework", default="neuroflow", choices=["neuroflow", "tensorflow"],
                        help="run the same lab with TensorFlow, for comparison")
    parser.add_argument("--tensorboard", metavar="DIR", default=None,
                        help="write TensorBoard logs of the training to DIR")
    parser.add_argument("--multi-worker", action="store_true",
                        help="train on the processes of mpirun -n N "
                             "(tf.distribute.MultiWorkerMirroredStrategy; needs mpi4py)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec(args.framework) is None:
        parser.error(f"--framework {args.framework}: {args.framework} is not installed")
    if args.tensorboard is not None and importlib.util.find_spec("tensorboard") is None:
        parser.error("--tensorboard: the tensorboard package is not installed; "
                     "pip install 'neuroflow[tensorboard]'")
    if args.multi_worker and importlib.util.find_spec("mpi4py") is None:
        parser.error("--multi-worker: the mpi4py package is not installed; "
                     "pip install 'neuroflow[mpi]'")
    result = run(args.epochs, args.seed, args.out, args.data, args.verbose, quiet=args.quiet,
                 framework=args.framework, tensorboard=args.tensorboard,
                 multi_worker=args.multi_worker)
    if args.quiet and (not args.multi_worker or result["model"].distribute_strategy
                       .extended.should_checkpoint):
        print(f"test accuracy: {result['test_accuracy']:.4f}")
    return 0
