"""Synthetic county generator with planted ground truth (see generator/README.md)."""
from .core import generate

__all__ = ["generate"]
