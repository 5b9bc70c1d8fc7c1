"""lstmrun: reproduce Hochreiter & Schmidhuber (1997) "Long Short-Term Memory", exactly and fast."""

__version__ = "0.1.0"
