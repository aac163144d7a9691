"""Model: a Layer that can be trained (see ``trainer.py``), summarized and saved."""

from __future__ import annotations

import errno
import inspect
import io
import os
import sys
import zipfile
import zlib

import numpy as np

from neuroflow.keras.layers.base import Layer, format_shape
from neuroflow.keras.trainer import Trainer


class Model(Trainer, Layer):
    """Base class of Keras models. ``Sequential`` is the one most users build."""

    def __new__(cls, *args, **kwargs):
        # keras.Model(inputs, outputs) builds a functional model, as in Keras.
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from neuroflow.keras.models.functional import Functional

            return super().__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            raise NotImplementedError(
                f"{type(self).__name__}.__init__ received inputs/outputs: a subclass of Model "
                f"built like a functional model is not supported yet. Either build "
                f"keras.Model(inputs, outputs) directly, or define call() in the subclass.")
        self._init_model(**kwargs)

    def _init_model(self, **kwargs) -> None:
        Layer.__init__(self, **kwargs)
        self.history = None

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        """A functional config (``input_layers``/``output_layers``) rebuilds the graph;
        other configs are the model's constructor arguments."""
        if "input_layers" in config and "output_layers" in config:
            from neuroflow.keras.models.functional import Functional, functional_from_config

            return functional_from_config(config, custom_objects,
                                          Functional if cls is Model else cls)
        return cls(**config)

    # --- weights of all sub-layers ----------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return self._sublayers()

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze or unfreeze the model and, as in Keras 3, every layer in it."""
        Layer.trainable.fset(self, value)
        for layer in self.layers:
            layer.trainable = value

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights] + \
            self._trainable_weights + self._non_trainable_weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights] + \
            [w for w in self._trainable_weights if w.trainable]

    @property
    def non_trainable_weights(self):
        if not self._trainable:
            return self.weights
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    @property
    def losses(self):
        own = self._call_losses + [w.regularizer(w) for w in
                                   self._trainable_weights + self._non_trainable_weights
                                   if w.regularizer is not None]
        return own + [loss for layer in self.layers for loss in layer.losses]

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight from a list of arrays (as ``get_weights`` gives), all checked first."""
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"You called `set_weights(weights)` on model {self.name!r} with a "
                             f"weight list of length {len(weights)}, but the model was "
                             f"expecting {len(mine)} weights.")
        for current, new in zip(mine, weights):
            if np.shape(new) != tuple(current.shape):
                raise ValueError(f"Weight {current.path!r} has shape {tuple(current.shape)}, "
                                 f"but the value given has shape {np.shape(new)}.")
        for current, new in zip(mine, weights):
            current.assign(np.asarray(new, dtype=current.dtype.np))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on model '{self.name}', but "
                             f"the model isn't built. Call it on data or build it first.")
        return int(sum(np.prod(w.shape.as_list(), dtype=np.int64) for w in self.weights))

    def compile(self, *args, **kwargs):
        """As :meth:`Trainer.compile`; the arguments are kept for ``save`` (compile_config)."""
        super().compile(*args, **kwargs)
        bound = inspect.signature(Trainer.compile).bind(self, *args, **kwargs)
        bound.apply_defaults()
        self._compile_arguments = {k: v for k, v in bound.arguments.items() if k != "self"}

    # --- saving ---------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, zipped=None, **kwargs) -> None:
        """Save the model (config, weights, optimizer state) as a Keras 3 ``.keras`` file,
        atomically; ``keras.models.load_model`` (neuroflow's or Keras's) reads it back."""
        from neuroflow.keras.saving.keras_file import save_model

        save_model(self, filepath, overwrite=overwrite, zipped=zipped, **kwargs)

    def export(self, filepath, format="tf_saved_model", verbose=None, input_signature=None,
               **kwargs) -> None:
        """Export the inference pass (``model(x, training=False)``) for another runtime, as
        Keras 3's ``Model.export``. neuroflow writes ``format="onnx"`` (keyword argument
        ``opset_version``, default 17), with an unknown batch size; see
        ``neuroflow.export.onnx``."""
        supported = ("onnx",)
        if format not in supported:
            raise ValueError(f"Unsupported export format={format!r}: neuroflow's Model.export "
                             f"writes {list(supported)}. For TensorFlow Lite use "
                             f"tf.lite.TFLiteConverter.from_keras_model(model).")
        opset = kwargs.pop("opset_version", None)
        if kwargs:
            raise TypeError(f"Model.export(format='onnx') received unexpected arguments "
                            f"{sorted(kwargs)}; it takes opset_version.")
        from neuroflow.export.onnx import from_keras

        from_keras(self, input_signature=input_signature, opset=opset, output_path=filepath)
        if verbose is None or verbose:  # Keras prints by default for every format
            print(f"Saved artifact at '{filepath}'.")

    def to_json(self, **kwargs) -> str:
        """The model's config as JSON, as Keras writes it; ``model_from_json`` reads it."""
        from neuroflow.keras.saving.model_config import to_json

        return to_json(self, **kwargs)

    def save_weights(self, filepath, overwrite=True) -> None:
        """Write all weights to ``filepath`` atomically.

        A name ending in ``.weights.h5`` gives Keras 3's HDF5 layout (optimizer state
        included), which Keras reads too. Other names give a NumPy ``.npz`` archive: each
        weight stored under ``INDEX:PATH`` (``"0003:dense_1/bias"``), the index giving its
        place, the path kept for messages. ``.keras`` names are refused (``save`` writes
        those), as are the legacy ``.h5`` and ``.hdf5``.
        """
        from neuroflow.util.files import write_atomically

        path = os.fspath(filepath)
        if path.lower().endswith(".weights.h5"):
            from neuroflow.keras.saving.keras_file import save_weights

            save_weights(self, path, overwrite=overwrite)
            return
        check_weights_filename(path)
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"{path} exists and overwrite=False.")
        buffer = io.BytesIO()
        np.savez(buffer, **{f"{i:04d}:{w.path}": w.numpy() for i, w in enumerate(self.weights)})
        write_atomically(path, buffer.getvalue())

    def load_weights(self, filepath) -> None:
        """Read weights written by ``save_weights``; everything is checked before any change.

        Keras's files (``.weights.h5``, or the weights of a ``.keras`` file) are matched by
        the layout Keras 3 writes, optimizer state included. In a ``.npz`` archive weights
        are matched by position: the file must hold as many layers, with as many weights
        of the same shapes, in the same order. Names may differ, since layer names are
        numbered per process (``dense_3`` here may have been ``dense`` in the run that
        saved the file).
        """
        from neuroflow.keras.saving import keras_file

        path = os.fspath(filepath)
        if keras_file.is_keras_weights_file(path):
            keras_file.load_weights(self, path)
            return
        saved = _read_weights_file(path)
        _check_saved_weights(self, saved, path)
        self.set_weights([array for _, array in saved])

    # --- summary --------------------------------------------------------------------------
    def _summary_rows(self) -> list[tuple]:
        rows = []
        for layer in self.layers:
            shape = getattr(layer, "_output_shape_for_summary", None)
            label = f"{layer.name} ({type(layer).__name__})"
            shape_text = "?" if shape is None else format_shape(shape)
            # Keras shows "0 (unbuilt)" for a layer not built yet (one with weights to make).
            rows.append((label, shape_text, layer.count_params() if layer.built else None))
        return rows

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print the layers, output shapes and parameter counts, as Keras 3 does.

        An unbuilt model (no ``Input`` and never called) shows ``?`` shapes and
        ``0 (unbuilt)`` counts; once the optimizer is built, an "Optimizer params" line
        follows, counted into the total, as in Keras 3.
        """
        from neuroflow.keras.utils.summary import format_summary, readable_memory_size

        groups = [("Trainable params", self.trainable_weights),
                  ("Non-trainable params", self.non_trainable_weights)]
        optimizer = getattr(self, "optimizer", None)
        if self.compiled and optimizer is not None and getattr(optimizer, "built", False):
            groups.append(("Optimizer params", optimizer.variables))
        counts = [(title, _count(ws), _nbytes(ws)) for title, ws in groups]
        table = format_summary(self.name, self._summary_rows(), 0, 0, 0,
                               line_length=line_length)
        # The table comes from format_summary; the totals are written here, since each
        # weight's own dtype sets its size (the optimizer's step counter is an int64).
        lines = table.split("\n")[:-3]
        totals = [("Total params", sum(c for _, c, _ in counts), sum(b for _, _, b in counts)),
                  *counts]
        lines += [f" {title}: {count:,} ({readable_memory_size(size)})"
                  for title, count, size in totals]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
            return
        if sys.stdout.isatty():
            title, _, rest = text.partition("\n")
            text = f"\x1b[1m{title}\x1b[0m\n{rest}"
        print(text)


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape.as_list(), dtype=np.int64)) for w in weights))


def _nbytes(weights) -> int:
    return int(sum(int(np.prod(w.shape.as_list(), dtype=np.int64)) * w.dtype.np.itemsize
                   for w in weights))


# --- weights files -------------------------------------------------------------------------

# How files that are not weights archives begin, and what to call them.
_FOREIGN_SIGNATURES = (
    (b"\x93NUMPY", "a single NumPy array (.npy), not an archive of weights"),
)

_WeightList = list[tuple[str, tuple]]  # (path, shape) of each weight

# What zipfile and np.lib.format raise on a damaged or truncated archive.
_ARCHIVE_ERRORS = (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error)


def check_weights_filename(path: str) -> None:
    """Refuse a name ``save_weights`` cannot write: a ``.keras`` model, or the legacy HDF5
    ``.h5``/``.hdf5`` (writing a ``.npz`` archive under them would mislead Keras, h5py, and
    whoever reads the name). ``.weights.h5`` is Keras 3's weights format, and fine."""
    lowered = path.lower()
    if lowered.endswith(".weights.h5"):
        return
    if lowered.endswith(".keras"):
        raise ValueError(f"The filename must end in `.weights.h5` (or `.npz`). Received: "
                         f"filepath={path}. A .keras file holds a whole model: write it with "
                         f"model.save(path).")
    for suffix in (".h5", ".hdf5"):
        if lowered.endswith(suffix):
            raise NotImplementedError(
                f"Cannot save weights to {path}: the legacy Keras 2 HDF5 format is not "
                f"supported yet. Use Keras 3's format, a name ending in .weights.h5 such as "
                f"{path[: -len(suffix)] + '.weights.h5'!r}, or neuroflow's .npz archive.")


def _read_weights_file(path: str) -> list[tuple[str, np.ndarray]]:
    """The (name, array) pairs of a file written by ``save_weights``, in the model's order."""
    _check_weights_file_format(path)
    try:
        archive = zipfile.ZipFile(path)
    except _ARCHIVE_ERRORS as error:
        raise _damaged(path, error) from error
    with archive:
        # Read the members directly: np.load's NpzFile looks each key up in a list,
        # which takes seconds for 10,000 weights.
        members = {info.filename.removesuffix(".npy"): info for info in archive.infolist()}
        order = _saved_order(list(members), path)
        try:
            return [(name, _read_array(archive, members[key])) for name, key in order]
        except _ARCHIVE_ERRORS as error:
            raise _damaged(path, error) from error


def _read_array(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> np.ndarray:
    with archive.open(member) as stream:
        return np.lib.format.read_array(stream, allow_pickle=False)


def _check_weights_file_format(path: str) -> None:
    """Fail, naming the file, unless ``path`` exists and starts like a zip (an .npz) archive."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(8)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, "No such weights file (model.save_weights(path) writes one)", path
        ) from None
    for signature, what in _FOREIGN_SIGNATURES:
        if start.startswith(signature):
            raise ValueError(f"Cannot load weights from {path}: it is {what}. load_weights "
                             f"reads the .npz archives that save_weights writes.")
    if not start.startswith(b"PK"):  # every zip archive, hence every .npz, starts so
        what = "it is empty" if not start else "it is not a .npz archive"
        raise ValueError(f"Cannot load weights from {path}: {what}. load_weights reads the "
                         f".npz archives that save_weights writes.")


def _damaged(path: str, error: BaseException) -> ValueError:
    return ValueError(f"Cannot load weights from {path}: the archive cannot be read ({error}); "
                      f"is it damaged or truncated, by an interrupted copy for example? Copy it "
                      f"again, or save the weights again with model.save_weights(path).")


def _saved_order(keys: list[str], path: str) -> list[tuple[str, str]]:
    """(name, key) of each saved weight, in the order of its index.

    Indexes are compared as numbers: as strings, "10000:..." would sort before "1001:...".
    """
    numbered = []
    for key in keys:
        index, colon, name = key.partition(":")
        if not (colon and index.isascii() and index.isdigit()):
            what = ("a Keras .keras model archive, whose weights load_weights reads from a "
                    "name ending in .keras"
                    if key in ("config.json", "metadata.json")
                    else f"not a file save_weights wrote (it holds an array named {key!r}, "
                         f"not INDEX:WEIGHT_PATH)")
            raise ValueError(f"Cannot load weights from {path}: it is {what}.")
        numbered.append((int(index), name, key))
    numbered.sort()
    if [index for index, _, _ in numbered] != list(range(len(numbered))):
        raise ValueError(f"Cannot load weights from {path}: its weights are not numbered 0 to "
                         f"{len(numbered) - 1}, as save_weights numbers them (a damaged file?). "
                         f"Save the weights again with model.save_weights(path).")
    return [(name, key) for _, name, key in numbered]


def _check_saved_weights(model, saved: list[tuple[str, np.ndarray]], path: str) -> None:
    """Check that the file's weights fit the model's, layer by layer; name the first misfit."""
    where = f"Cannot load weights from {path} into model {model.name!r}"
    ours = _by_layer([(w.path, tuple(w.shape)) for w in model.weights])
    theirs = _by_layer([(name, array.shape) for name, array in saved])
    for (our_layer, our_weights), (their_layer, their_weights) in zip(ours, theirs):
        if len(our_weights) != len(their_weights):
            raise ValueError(
                f"{where}: layer {our_layer!r} has {_plural(len(our_weights), 'weight')} "
                f"({_listing(our_weights)}), but the file's layer in its place, "
                f"{their_layer!r}, has {len(their_weights)} ({_listing(their_weights)})."
            )
        for (our_name, our_shape), (their_name, their_shape) in zip(our_weights, their_weights):
            if our_shape != their_shape:
                raise ValueError(
                    f"{where}: weight {our_name!r} expects shape {our_shape}, but the file's "
                    f"weight in its place, {their_name!r}, has shape {their_shape}."
                )
    if len(ours) != len(theirs):
        raise ValueError(f"{where}: the model has {_count_weights(ours)}, the file "
                         f"{_count_weights(theirs)}; {_unmatched(ours, theirs)}.")


def _by_layer(weights: _WeightList) -> list[tuple[str, _WeightList]]:
    """Consecutive weights grouped by layer: the part of their path before the last '/'."""
    groups: list[tuple[str, _WeightList]] = []
    for path, shape in weights:
        layer = path.rpartition("/")[0]
        if not groups or groups[-1][0] != layer:
            groups.append((layer, []))
        groups[-1][1].append((path, shape))
    return groups


def _listing(weights: _WeightList, most: int = 4) -> str:
    """``kernel (3, 2), bias (2,)``: the weights' own names and shapes, the first few."""
    shown = [f"{path.rpartition('/')[2]} {shape}" for path, shape in weights[:most]]
    return ", ".join(shown) + (", ..." if len(weights) > most else "")


def _count_weights(layers: list[tuple[str, _WeightList]]) -> str:
    total = sum(len(weights) for _, weights in layers)
    return f"{_plural(total, 'weight')} in {_plural(len(layers), 'layer')}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _unmatched(ours: list, theirs: list, most: int = 3) -> str:
    """Which layers one side has beyond the other's, the first few by name."""
    if len(ours) > len(theirs):
        extra, side, missing = ours[len(theirs):], "the model's", "no weights in the file"
    else:
        extra, side, missing = theirs[len(ours):], "the file's", "no place in the model"
    names = ", ".join(repr(layer) for layer, _ in extra[:most])
    more = f" and {len(extra) - most:,} more" if len(extra) > most else ""
    layers, verb = ("layer", "has") if len(extra) == 1 else ("layers", "have")
    hint = " (the model has no weights yet: build it first, e.g. with an Input)" if not ours else ""
    return f"{side} {layers} {names}{more} {verb} {missing}{hint}"
