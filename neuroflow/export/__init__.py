"""Writers of other runtimes' model files from a traced graph (``graph.ir.Graph``).

A model or ``tf.function`` is traced once with an unknown batch size; each writer walks
that graph's nodes (primitives, with the Keras layer each was traced in as its scope) and
emits the runtime's operators. The writers' own libraries (``onnx``, ``flatbuffers``) are
the optional ``export`` extra, imported when a writer runs.
"""
