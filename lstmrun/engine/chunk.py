"""The engine's input format, which every task generator fills and every kernel reads.

A :class:`Chunk` holds ``n`` sequences laid end to end (padded arrays are not needed: ``offsets``
gives each sequence's first step). The engine walks step ``t`` of sequence ``i`` at row
``offsets[i] + t``.

Shapes and dtypes (``T`` = total steps over all sequences, ``K`` = output units):

- ``offsets``  int64  (n+1,)   sequence i spans rows ``offsets[i]:offsets[i+1]``
- ``x_idx``    int32  (T,)     one-hot coding: the index of the active input unit (``onehot``)
- ``x_real``   f64    (T, I)   real-valued coding (``not onehot``)
- ``targets``  f64    (T, K)   the target vector at each step (ignored where ``has_target`` is 0)
- ``has_target`` uint8 (T,)    1 where the step carries an error signal (HS97: every step in
                               Exps 1/2a/2b, only the last step in Exps 2c-6)
- ``legal``    int64  (T,)     bit k set where symbol k is a legal next symbol (grammar tasks:
                               the success criterion of Exp 1, A12); zeros elsewhere
- ``symbols``  optional list of per-sequence symbol-name lists (for ``lstmrun sample``)

Only one of ``x_idx`` / ``x_real`` is used; the other is an empty array of the right dtype, so a
kernel has one signature per coding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Chunk:
    offsets: np.ndarray
    x_idx: np.ndarray
    x_real: np.ndarray
    targets: np.ndarray
    has_target: np.ndarray
    legal: np.ndarray
    onehot: bool
    n_in: int
    n_out: int
    symbols: list | None = None
    clean_targets: np.ndarray | None = None  # noise-free targets (Exp 3c); None = same as targets
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.offsets) - 1

    @property
    def total_steps(self) -> int:
        return int(self.offsets[-1])

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sequence(self, i: int) -> dict:
        """One sequence as plain Python data (the JSON-lines format of ``lstmrun sample``)."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        if self.onehot:
            inputs = []
            for t in range(a, b):
                v = [0.0] * self.n_in
                v[int(self.x_idx[t])] = 1.0
                inputs.append(v)
        else:
            inputs = self.x_real[a:b].tolist()
        targets = [self.targets[t].tolist() if self.has_target[t] else None for t in range(a, b)]
        out = {"inputs": inputs, "targets": targets}
        if self.symbols is not None:
            out["symbols"] = list(self.symbols[i])
        return out


def empty_real(n_in: int) -> np.ndarray:
    return np.zeros((0, n_in), np.float64)


def empty_idx() -> np.ndarray:
    return np.zeros(0, np.int32)
