"""Serving ``.keras`` models over TensorFlow Serving's REST API (``neuroflow serve``).

Needs the ``serve`` extra (Starlette and Uvicorn): ``pip install 'neuroflow[serve]'``.
They are imported only when a server starts.
"""

from neuroflow.serving.server import ModelServer
from neuroflow.serving.status import ServingError
from neuroflow.serving.text_proto import BatchingParameters, ModelConfig

__all__ = ["BatchingParameters", "ModelConfig", "ModelServer", "ServingError"]
