"""``tf.distribute.experimental``: the options of the collectives."""

from neuroflow.distribute.strategy import CommunicationImplementation, CommunicationOptions

__all__ = ["CommunicationImplementation", "CommunicationOptions"]
