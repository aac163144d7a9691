"""Model: a Layer that can be trained (see ``trainer.py``), summarized and saved."""

from __future__ import annotations

import io
import os
import sys

import numpy as np

from neuroflow.keras.layers.base import Layer, format_shape
from neuroflow.keras.trainer import Trainer


class Model(Trainer, Layer):
    """Base class of Keras models. ``Sequential`` is the one most users build."""

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs:
            raise NotImplementedError("The functional API (Model(inputs, outputs)) is not "
                                      "available yet; use Sequential or subclass Model.")
        super().__init__(**kwargs)
        self.history = None

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

    # --- saving weights -----------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True) -> None:
        """Write all weights to ``filepath`` atomically (a NumPy ``.npz`` archive)."""
        from neuroflow.keras.callbacks.logging import write_atomically

        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"{path} exists and overwrite=False.")
        buffer = io.BytesIO()
        np.savez(buffer, **{f"{i:04d}:{w.path}": w.numpy() for i, w in enumerate(self.weights)})
        write_atomically(path, buffer.getvalue())

    def load_weights(self, filepath) -> None:
        """Read weights written by ``save_weights``; shapes are checked before any change."""
        with np.load(os.fspath(filepath)) as archive:
            arrays = [archive[key] for key in sorted(archive.files)]
        self.set_weights(arrays)

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
