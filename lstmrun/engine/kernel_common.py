"""Small inlined helpers that every kernel uses (the 1997 LSTM, its full gradient, RTRL/BPTT,
Elman), in the manner of pynndescent's ``@njit`` utilities: each is compiled into its caller
(``inline="always"``), so a kernel's arithmetic is the same operations in the same order as when
the code was written out in it.

- :func:`logistic`: f(x) = 1 / (1 + e^-x), with the exact exp (glibc's, inlined), the C library's
  call or the vectorisable fast exp;
- :func:`load_z`: put the input x(t) into a source vector (one-hot: O(1));
- :func:`add_into`: W += dW, row by row (a sequence's summed changes);
- :func:`momentum_into`: v = m v + dW, W += v (GSS02's momentum), row by row;
- :func:`sources`: a zero source vector with the bias entry 1;
- :func:`logistic_layer`: a layer of logistic units and their derivatives from a source vector;
- :func:`start_sequence`: a sequence's step range, its recurrent sources reset (HS97 §5).

``codegen.DEPENDENCIES`` names this file: a change to it recompiles the specialised kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .exactexp import gexp
from .fastexp import flogistic

# which exp the logistic uses (``IP_FASTEXP``; config ``train.exp``)
EXP_EXACT = 0   # glibc's exp, inlined (exactexp.gexp): the C library's bits where that is glibc
EXP_FAST = 1    # fastexp.fexp: vectorisable, within 2 ulp, changes low bits
EXP_LIBM = 2    # a call of the platform's C library exp (what "exact" was before gexp)


@njit(inline="always", error_model="numpy")
def logistic(x, mode):
    """f(x) = 1 / (1 + exp(-x)) with the exp ``mode`` names (EXP_*; a bool ``False`` is
    EXP_EXACT)."""
    if mode == EXP_FAST:
        return flogistic(x)
    if mode == EXP_LIBM:
        return 1.0 / (1.0 + np.exp(-x))
    return 1.0 / (1.0 + gexp(-x))


@njit(cache=True, inline="always")
def load_z(z, x_idx, x_real, t, I, onehot, prev_xi):
    """Put x(t) into z[0:I] (one-hot: clear the previous index, set the current one; O(1)).
    Returns the current one-hot index (0 for real inputs)."""
    if onehot:
        xi = x_idx[t]
        z[prev_xi] = 0.0
        z[xi] = 1.0
        return xi
    for i in range(I):
        z[i] = x_real[t, i]
    return 0


@njit(inline="always")
def add_into(W, dW):
    """W[r, m] += dW[r, m] for every entry, row by row (W and dW of one shape)."""
    for r in range(W.shape[0]):
        for m in range(W.shape[1]):
            W[r, m] += dW[r, m]


@njit(inline="always")
def sources(n, bias):
    """A source vector of ``n`` zeros with the bias entry ``bias`` (= the input count I) 1."""
    z = np.zeros(n)
    z[bias] = 1.0
    return z


@njit(inline="always")
def start_sequence(order, offsets, oi, z, z0, n, reset_act):
    """The steps ``[t0, t1)`` of sequence ``order[oi]``; its ``n`` recurrent sources ``z[z0:z0+n]``
    (the previous activations) reset to ``reset_act`` (HS97 §5: 0; the JKU simulator: 0.5)."""
    q = order[oi]
    for h in range(n):
        z[z0 + h] = reset_act
    return offsets[q], offsets[q + 1]


@njit(inline="always", error_model="numpy")
def logistic_layer(W, z, y, dy, n, m0, NZ, onehot, xi):
    """Units ``r < n`` with weights ``W[r]`` over sources ``z`` (``NZ`` columns): y = f(net),
    dy = f'(net), f logistic. One-hot inputs: the input part of ``z`` is the column ``xi`` and the
    sum starts at ``m0`` = I (0 for real inputs). Each net is summed in column order."""
    for r in range(n):
        acc = W[r, xi] if onehot else 0.0
        for m in range(m0, NZ):
            acc += W[r, m] * z[m]
        f = logistic(acc, False)
        y[r] = f
        dy[r] = f * (1.0 - f)


@njit(inline="always")
def momentum_into(W, dW, vel, off, mval):
    """Momentum (GSS02): v = m v + dW, W += v for every entry of W, row by row; the velocities
    of W are ``vel[off:off + W.size]`` in the same row-major order (``lstm97``'s ``vel`` layout:
    Wh's entries, then Wo's)."""
    n = W.shape[1]
    for r in range(W.shape[0]):
        for m in range(n):
            i = off + r * n + m
            v = mval * vel[i] + dW[r, m]
            vel[i] = v
            W[r, m] += v
