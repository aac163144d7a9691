"""``neuroflow.hub``: published Keras models by handle, as ``tensorflow_hub`` offers them.

>>> import neuroflow.hub as hub                                          # doctest: +SKIP
>>> features = hub.KerasLayer("https://example.org/extractor.keras")     # doctest: +SKIP

A handle is a local ``.keras`` file, a folder holding one, or an ``https://`` URL of a
``.keras`` file or of a ``.tar.gz``/``.zip`` archive holding one (``http://`` only from
127.0.0.1). ``hub.load(handle)`` returns the Keras model; ``hub.KerasLayer(handle)``
wraps it as a layer, frozen unless ``trainable=True``; ``hub.resolve(handle)`` gives the
local folder. Where TF Hub's handles are TensorFlow SavedModels, these are Keras 3
``.keras`` files (a SavedModel is refused with an error saying so).

A URL is downloaded once into the cache (``NEUROFLOW_HUB_CACHE``, default
``~/.neuroflow/hub``; see ``resolver.py``) and later calls make no network request.
Unlike TF Hub, which checks no hashes, every download is checked against a SHA-256
before anything is extracted: the one given with the handle (``URL#sha256=<hex>``),
else the one published beside the file (``<URL>.sha256``). When neither exists the
download is refused, unless ``verify=False`` is passed (for sources you trust; the
copy is then marked unverified and checked again the next time ``verify`` is on).
Archives are extracted safely (``archives.py``). Downloads, checks and extraction all
happen in a hidden folder renamed into place at the end: a failed, refused or cut
short download leaves nothing in the cache.

A model saved with a ``KerasLayer`` stores its handle, not the hub model's config;
loading that file (with ``neuroflow.hub`` imported, which registers the class) loads
the handle again, always verified, then the saved weights over it.
"""

from __future__ import annotations

from neuroflow.hub.keras_layer import KerasLayer, load
from neuroflow.hub.resolver import ChecksumError, DownloadError
from neuroflow.hub.resolver import resolve as _resolve
from neuroflow.keras.saving.object_registry import get_custom_objects

__all__ = ["ChecksumError", "DownloadError", "KerasLayer", "load", "resolve"]

# Saved configs name the class "KerasLayer", without a package (as for Keras's own
# layers), so it is registered under that name for load_model to find it.
get_custom_objects()["KerasLayer"] = KerasLayer


def resolve(handle, *, verify: bool = True) -> str:
    """The local path of ``handle``: a local path as given, else the folder of the URL's
    cached (and, if need be, downloaded now) model."""
    return _resolve(handle, verify)
