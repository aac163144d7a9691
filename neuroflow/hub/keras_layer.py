"""``hub.load`` and ``hub.KerasLayer``: a published model as a model, or as a layer."""

from __future__ import annotations

import inspect
import json
import os
from typing import Any

from neuroflow.hub.resolver import keras_file, resolve
from neuroflow.keras.layers.base import Layer


def load(handle, tags=None, options=None, *, verify: bool = True):
    """The Keras model ``handle`` names, loaded from its ``.keras`` file.

    ``handle`` is a local ``.keras`` file, a folder holding one, or an ``https://`` URL
    of a ``.keras`` file or of a ``.tar.gz``/``.zip`` archive holding one (downloaded
    once into the cache and checked against its SHA-256: see ``neuroflow.hub``). Unlike
    TF Hub, whose ``load`` returns a SavedModel object with signatures, this returns the
    Keras model itself, not compiled (as a SavedModel has no training configuration):
    call it, read its ``variables``, or compile and train it. Loading is safe
    (``safe_mode=True``); give a custom layer's class with
    ``keras.saving.custom_object_scope``.
    """
    _refuse_saved_model_options(tags=tags, options=options)
    from neuroflow.keras.saving import load_model

    source = os.fspath(handle) if isinstance(handle, (str, os.PathLike)) else handle
    return load_model(keras_file(resolve(handle, verify), str(source)), compile=False)


def _refuse_saved_model_options(**given: Any) -> None:
    used = {name: value for name, value in given.items() if value}
    if used:
        names = ", ".join(f"{name}={value!r}" for name, value in used.items())
        raise NotImplementedError(
            f"{names}: these select parts of a TensorFlow SavedModel, which neuroflow.hub "
            f"does not read; its handles are Keras 3 .keras models, which have one call. "
            f"Remove the argument.")


class KerasLayer(Layer):
    """A model from a hub handle (or any callable) as one layer of a Keras model.

    Frozen unless ``trainable=True``: its weights are then trained with the rest of the
    model. While frozen it runs in inference mode (``training=False``: dropout off,
    batch normalization on its moving statistics), as TF Hub's layer does.
    ``arguments`` are extra keyword arguments of every call; ``output_shape`` the
    output's shape without the batch size, checked on every call; ``output_key`` picks
    one output of a model that returns a dict. In a saved model the layer keeps its
    handle (``get_config``), and loading it loads the handle again (from the cache),
    then the saved, perhaps fine-tuned, weights over it.

    >>> import numpy as np
    >>> from neuroflow import keras
    >>> net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> layer = KerasLayer(net)
    >>> layer(np.ones((4, 3), "float32")).shape, len(layer.trainable_weights)
    (TensorShape([4, 2]), 0)
    """

    def __init__(self, handle, trainable: bool = False, arguments: dict | None = None, *,
                 tags=None, signature=None, signature_outputs_as_dict=None,
                 output_key: str | None = None, output_shape=None, load_options=None,
                 force_keras_loading: bool = False, verify: bool = True, **kwargs):
        # force_keras_loading asks TF Hub for a Keras model, which every handle is here.
        del force_keras_loading
        _refuse_saved_model_options(tags=tags, signature=signature,
                                    signature_outputs_as_dict=signature_outputs_as_dict,
                                    load_options=load_options)
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"hub.KerasLayer's arguments must be a dict of keyword arguments; "
                            f"received {type(arguments).__name__}.")
        if isinstance(handle, (str, os.PathLike)):
            handle = os.fspath(handle)
            func = load(handle, verify=verify)
        elif callable(handle):
            func = handle
        else:
            raise TypeError(f"hub.KerasLayer expects a handle (a path or URL string) or a "
                            f"callable; received {type(handle).__name__}.")
        super().__init__(trainable=trainable, **kwargs)
        self._handle = handle
        self._arguments = dict(arguments or {})
        self._output_key = output_key
        self._output_shape = None if output_shape is None else _shapes(output_shape)
        self._func_takes_training = isinstance(func, Layer) or _takes_training(func)
        self._func = func
        if not trainable and isinstance(handle, str):
            # Freeze the loaded model's layers too, so that no layer holding this one
            # counts their weights as trainable; trainable=True keeps what its publisher
            # froze. A callable passed in is the caller's, and left as it is.
            self.trainable = False

    @property
    def resolved_object(self):
        """The model (or callable) the handle resolved to."""
        return self._func

    def call(self, inputs, training=None):
        kwargs = dict(self._arguments)
        if self._func_takes_training:
            # A frozen layer always infers; a trainable one follows the model's mode.
            kwargs["training"] = training if self.trainable else False
        outputs = self._func(inputs, **kwargs)
        if self._output_key is not None:
            if not isinstance(outputs, dict) or self._output_key not in outputs:
                have = sorted(outputs) if isinstance(outputs, dict) else type(outputs).__name__
                raise ValueError(f"hub.KerasLayer {self.name!r}: output_key "
                                 f"{self._output_key!r} is not among the model's outputs "
                                 f"({have}).")
            outputs = outputs[self._output_key]
        if self._output_shape is not None:
            _check_shapes(outputs, self._output_shape, self.name)
        return outputs

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        batch = input_shape
        while isinstance(batch, (list, tuple)) and batch and isinstance(batch[0], (list, tuple)):
            batch = batch[0]
        return _map_shapes(lambda shape: (batch[0], *shape), self._output_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        if not isinstance(self._handle, str):
            raise NotImplementedError(
                f"Can only generate a valid config for `hub.KerasLayer(handle, ...)` that "
                f"uses a string `handle`. Got `type(handle)`: {type(self._handle)}. Save the "
                f"wrapped model as .keras and pass its path (or URL) as the handle.")
        config["handle"] = self._handle
        if self._output_shape is not None:
            config["output_shape"] = self._output_shape
        if self._arguments:
            for key, value in self._arguments.items():
                try:
                    json.dumps(value)
                except TypeError:
                    raise ValueError(f"`hub.KerasLayer(..., arguments)` contains a value that "
                                     f"is not JSON-serializable in key {key!r}: {value!r}."
                                     ) from None
            config["arguments"] = dict(self._arguments)
        if self._output_key is not None:
            config["output_key"] = self._output_key
        return config


def _takes_training(func) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False
    return "training" in parameters


def _is_shape(value) -> bool:
    return isinstance(value, (list, tuple)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def _shapes(value):
    """``output_shape`` as tuples (a shape, or a list/dict of them)."""
    if hasattr(value, "as_list"):  # a TensorShape
        value = value.as_list()
    if isinstance(value, dict):
        return {key: _shapes(item) for key, item in value.items()}
    if _is_shape(value):
        return tuple(value)
    if isinstance(value, (list, tuple)) and value:
        return [_shapes(item) for item in value]
    raise TypeError(f"hub.KerasLayer's output_shape must be a shape without the batch size "
                    f"(a tuple of ints or None), or a list or dict of them; received "
                    f"{value!r}.")


def _map_shapes(function, shapes):
    if isinstance(shapes, dict):
        return {key: _map_shapes(function, item) for key, item in shapes.items()}
    if isinstance(shapes, list):
        return [_map_shapes(function, item) for item in shapes]
    return function(shapes)


def _check_shapes(outputs, shapes, name: str) -> None:
    if isinstance(shapes, dict) or isinstance(shapes, list):
        items = shapes.items() if isinstance(shapes, dict) else enumerate(shapes)
        if not isinstance(outputs, type(shapes)) or len(outputs) != len(shapes):
            raise ValueError(f"hub.KerasLayer {name!r}: output_shape {shapes} does not match "
                             f"the structure of the outputs.")
        for key, shape in items:
            _check_shapes(outputs[key], shape, name)
        return
    actual = tuple(outputs.shape)[1:]
    if len(actual) != len(shapes) or any(
            a is not None and s is not None and a != s for a, s in zip(actual, shapes)):
        raise ValueError(f"hub.KerasLayer {name!r} was given output_shape={shapes} (without "
                         f"the batch size), but the model returns outputs of shape "
                         f"{tuple(outputs.shape)}. Fix output_shape, or leave it out.")
