"""Automatic differentiation: GradientTape and finite-difference checks."""

from neuroflow.autodiff.tape import GradientTape, UnconnectedGradients

__all__ = ["GradientTape", "UnconnectedGradients"]
