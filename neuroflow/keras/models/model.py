"""Model: a Layer that can be trained (see ``trainer.py``), summarized and saved."""

from __future__ import annotations

import io
import os
import sys

import numpy as np

from neuroflow.keras.layers.base import Layer
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
    def _sublayers(self) -> list[Layer]:
        return [v for v in vars(self).values() if isinstance(v, Layer)]

    @property
    def layers(self) -> list[Layer]:
        return self._sublayers()

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self.layers for w in layer.trainable_weights] + \
            list(self._trainable_weights)

    @property
    def non_trainable_weights(self):
        own = [w for layer in self.layers for w in layer.non_trainable_weights]
        if not self.trainable:
            own = [w for layer in self.layers for w in layer.weights]
        return own + list(self._non_trainable_weights)

    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights] + \
            list(self._trainable_weights) + list(self._non_trainable_weights)

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    @property
    def losses(self):
        return [loss for layer in self.layers for loss in layer.losses]

    def get_weights(self) -> list[np.ndarray]:
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights) -> None:
        mine = self.weights
        if len(weights) != len(mine):
            raise ValueError(f"Model {self.name!r} has {len(mine)} weights, but the list given "
                             f"has {len(weights)}.")
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
            if shape is None or not layer.built:
                rows.append((label, "?", None))
            else:
                from neuroflow.keras.layers.base import format_shape

                rows.append((label, format_shape(shape), layer.count_params()))
        return rows

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None) -> None:
        """Print the layers, output shapes and parameter counts, as Keras 3 does."""
        from neuroflow.keras.utils.summary import format_summary

        weights = self.weights if self.built else []
        trainable = sum(int(np.prod(w.shape.as_list())) for w in self.trainable_weights)
        total = sum(int(np.prod(w.shape.as_list())) for w in weights)
        text = format_summary(self.name, self._summary_rows(), total, trainable,
                              total - trainable, line_length=line_length)
        if print_fn is not None:
            print_fn(text)
            return
        if sys.stdout.isatty():
            title, _, rest = text.partition("\n")
            text = f"\x1b[1m{title}\x1b[0m\n{rest}"
        print(text)
