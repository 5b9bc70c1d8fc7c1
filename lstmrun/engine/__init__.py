"""Numba kernels: the 1997 LSTM (and later, its baselines and variants)."""

from .arch import Arch, Init, init_weights
from .model import LSTM97

__all__ = ["LSTM97", "Arch", "Init", "init_weights"]
