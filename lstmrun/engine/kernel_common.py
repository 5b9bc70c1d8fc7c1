"""Small inlined helpers that every kernel uses (the 1997 LSTM, its full gradient, RTRL/BPTT,
Elman), in the manner of pynndescent's ``@njit`` utilities: each is compiled into its caller
(``inline="always"``), so a kernel's arithmetic is the same operations in the same order as when
the code was written out in it.

- :func:`logistic`: f(x) = 1 / (1 + e^-x), with the exact exp (glibc's, inlined), the C library's
  call or the vectorisable fast exp;
- :func:`logistic_block`: the same on a block of values at once, the exact exp as vector code;
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

from .exactexp import exp_main, exp_main_ok, gexp
from .fastexp import flogistic

# which exp the logistic uses (``IP_FASTEXP``; config ``train.exp``)
EXP_EXACT = 0   # glibc's exp, inlined (exactexp.gexp): the C library's bits where that is glibc
EXP_FAST = 1    # fastexp.fexp: vectorisable, within 2 ulp, changes low bits
EXP_LIBM = 2    # a call of the platform's C library exp (what "exact" was before gexp)
EXP_EXACT_VEC = 3  # glibc's exp as EXP_EXACT, and the one-net kernel's blocks of units as vector
                   # code (logistic_block; the same bits): exactexp.exact_impl "vector"


@njit(inline="always", error_model="numpy")
def logistic(x, mode):
    """f(x) = 1 / (1 + exp(-x)) with the exp ``mode`` names (EXP_*; a bool ``False`` is
    EXP_EXACT; EXP_EXACT_VEC is EXP_EXACT here)."""
    if mode == EXP_FAST:
        return flogistic(x)
    if mode == EXP_LIBM:
        return 1.0 / (1.0 + np.exp(-x))
    return 1.0 / (1.0 + gexp(-x))


@njit(inline="always", error_model="numpy")
def logistic_block(w, base, n, expm, scr):
    """w[base + i] = f(w[base + i]) = 1 / (1 + exp(-w[base + i])) for i < n, a block of units (in
    the lanes kernel every lane of each: n = units x NL), the same bits as ``logistic`` on each.
    The exact exp (EXP_EXACT, EXP_EXACT_VEC): one loop over the block without branches, glibc's
    main path (``exactexp.exp_main``: its table lookups become gathers), which LLVM turns into
    vector code whose iterations overlap (the units' logistics are independent chains of a gather
    and a division). The same loop keeps each argument in ``w[scr:scr + n]`` and notes whether
    all lie on that path (``exactexp.exp_main_ok``: 2**-54 <= |x| < 512); where some does not
    (e.g. a state of exactly 0 at a sequence's start) those values are redone by ``logistic``
    after the loop. (One loop, not a test pass before it: the lanes kernel 5-7% faster and the
    adding net's one-net kernel 79 -> 74 ns a step on Zen 4, session 15, docs/speed.md.) Other
    exps: ``logistic`` one by one."""
    if expm == EXP_EXACT or expm == EXP_EXACT_VEC:
        main = True
        for i in range(n):
            x = w[base + i]
            w[scr + i] = x
            main = main & exp_main_ok(-x)
            w[base + i] = 1.0 / (1.0 + exp_main(-x))
        if not main:
            for i in range(n):
                x = w[scr + i]
                if not exp_main_ok(-x):
                    w[base + i] = logistic(x, expm)
        return
    for i in range(n):
        w[base + i] = logistic(w[base + i], expm)


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
