"""A plain Numba kernel of the 1997 LSTM and its truncated rule: the speed reference of issue 19.

What a careful programmer writes without the engine's tuning: 2-D weight arrays, partials
``P_in``/``P_c`` (C x NZ), the one-hot input as an index (one column of the weights and of the
partials per step), the connection pattern of the Exp 1 nets (full recurrence, biases where
``Mh``/``Mo`` have them, the input->output shortcut if ``Mo`` has it) instead of mask
multiplications, the C library's ``exp``; no per-architecture specialisation, no flat buffer, no
SLP. The rule is the engine's (HS97 A.1 eqs.
19-28, PROTOCOLS §9.2-9.3; ``tests/reference.py`` in NumPy): 1997 memory blocks (input and
output gates, CEC with self-weight 1, no forget gate, no peepholes), g in [-2, 2], h in [-1, 1],
logistic gates and output units (the Exp 1 nets; no linear output), weight changes of the 1/2-SSE
gradient times ``lr`` applied every step (``per_step``) or summed per sequence.
``tests/test_bench_peers.py`` checks it against the engine on Exp 1's two nets.

    run_plain(Wh, Wo, Mh, Mo, B, S, x_idx, x_real, onehot, offsets, targets, has_target, order,
              lr, per_step) -> per-sequence SSE (weights changed in place)
    run_plain_const(...)  the same, the sizes compile-time constants (one compile per net)

Layout as ``lstmrun.engine.arch``: hidden units = C cells, B input gates, B output gates;
``Wh`` (H, I+1+H) reads ``z = [x, 1, y_hidden(t-1)]``, ``Wo`` (K, I+1+C) reads ``u = [x, 1, y_c]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _f(x):
    return 1.0 / (1.0 + np.exp(-x))


def _plain(Wh, Wo, hb, I, K, B, S, onehot, oin, ob, x_idx, x_real, offsets, targets, has_target,
           order, lr, per_step):
    """The kernel. ``hb``: 1.0 where a hidden unit has a bias weight; ``oin``: the output units
    read the inputs (Exp 1's shortcut); ``ob``: 1.0 if they have a bias."""
    C = B * S
    H = C + 2 * B
    NZ = I + 1 + H
    NU = I + 1 + C
    R = I + 1                       # first recurrent column
    x = np.zeros(I)
    yp, y, net = np.zeros(H), np.zeros(H), np.zeros(H)
    s, gv, gd, hv, hd = np.zeros(C), np.zeros(C), np.zeros(C), np.zeros(C), np.zeros(C)
    back, es, eo, yk, ek = np.zeros(C), np.zeros(C), np.zeros(B), np.zeros(K), np.zeros(K)
    Pin = np.zeros((C, NZ))
    Pc = np.zeros((C, NZ))
    dWh = np.zeros((H, NZ))
    dWo = np.zeros((K, NU))
    sse = np.zeros(order.shape[0])
    for n in range(order.shape[0]):
        q = order[n]
        yp[:] = 0.0
        s[:] = 0.0
        Pin[:, :] = 0.0
        Pc[:, :] = 0.0
        dWh[:, :] = 0.0
        dWo[:, :] = 0.0
        for t in range(offsets[q], offsets[q + 1]):
            xi = x_idx[t] if onehot else 0
            if not onehot:
                for i in range(I):
                    x[i] = x_real[t, i]
            # forward: nets of cells and gates over [x, 1, y(t-1)], the gates, the CEC, outputs
            for h in range(H):
                if onehot:
                    acc = Wh[h, xi]
                else:
                    acc = 0.0
                    for i in range(I):
                        acc += Wh[h, i] * x[i]
                acc += Wh[h, I] * hb[h]
                for m in range(H):
                    acc += Wh[h, R + m] * yp[m]
                net[h] = acc
            for j in range(B):
                y[C + j] = _f(net[C + j])
                y[C + B + j] = _f(net[C + B + j])
            for c in range(C):
                j = c // S
                f = _f(net[c])
                gv[c] = 4.0 * f - 2.0
                gd[c] = 4.0 * f * (1.0 - f)
                s[c] += y[C + j] * gv[c]
                f = _f(s[c])
                hv[c] = 2.0 * f - 1.0
                hd[c] = 2.0 * f * (1.0 - f)
                y[c] = y[C + B + j] * hv[c]
            # truncated partials (eqs. 25, 27): only the current input's column moves
            for c in range(C):
                yin = y[C + c // S]
                din = gv[c] * yin * (1.0 - yin)
                dc = gd[c] * yin
                if onehot:
                    Pin[c, xi] += din
                    Pc[c, xi] += dc
                else:
                    for i in range(I):
                        Pin[c, i] += din * x[i]
                        Pc[c, i] += dc * x[i]
                Pin[c, I] += din
                Pc[c, I] += dc
                for m in range(H):
                    Pin[c, R + m] += din * yp[m]
                    Pc[c, R + m] += dc * yp[m]
            if has_target[t]:
                for k in range(K):
                    acc = Wo[k, I] * ob
                    if oin:
                        if onehot:
                            acc += Wo[k, xi]
                        else:
                            for i in range(I):
                                acc += Wo[k, i] * x[i]
                    for c in range(C):
                        acc += Wo[k, R + c] * y[c]
                    yk[k] = _f(acc)
                    d = targets[t, k] - yk[k]
                    sse[n] += d * d
                    ek[k] = yk[k] * (1.0 - yk[k]) * d                   # eq. 19
                for c in range(C):
                    acc = 0.0
                    for k in range(K):
                        acc += Wo[k, R + c] * ek[k]
                    back[c] = acc
                    es[c] = y[C + B + c // S] * hd[c] * back[c]          # eq. 23
                for j in range(B):
                    acc = 0.0
                    for v in range(S):
                        acc += hv[j * S + v] * back[j * S + v]
                    yo = y[C + B + j]
                    eo[j] = yo * (1.0 - yo) * acc                        # eq. 21
                # weight changes (eqs. 22, 26, 28)
                for k in range(K):
                    g = lr * ek[k]
                    if oin:
                        if onehot:
                            dWo[k, xi] += g
                        else:
                            for i in range(I):
                                dWo[k, i] += g * x[i]
                    dWo[k, I] += g * ob
                    for c in range(C):
                        dWo[k, R + c] += g * y[c]
                for j in range(B):
                    r = C + B + j
                    g = lr * eo[j]
                    if onehot:
                        dWh[r, xi] += g
                    else:
                        for i in range(I):
                            dWh[r, i] += g * x[i]
                    dWh[r, I] += g * hb[r]
                    for m in range(H):
                        dWh[r, R + m] += g * yp[m]
                for c in range(C):
                    r = C + c // S
                    g = lr * es[c]
                    for m in range(NZ):
                        dWh[r, m] += g * Pin[c, m]
                        dWh[c, m] += g * Pc[c, m]
                    dWh[r, I] *= 1.0 if hb[r] != 0.0 else 0.0
                    dWh[c, I] *= 1.0 if hb[c] != 0.0 else 0.0
                if per_step:
                    for h in range(H):
                        for m in range(NZ):
                            Wh[h, m] += dWh[h, m]
                            dWh[h, m] = 0.0
                    for k in range(K):
                        for m in range(NU):
                            Wo[k, m] += dWo[k, m]
                            dWo[k, m] = 0.0
            for h in range(H):
                yp[h] = y[h]
        if not per_step:
            for h in range(H):
                for m in range(NZ):
                    Wh[h, m] += dWh[h, m]
            for k in range(K):
                for m in range(NU):
                    Wo[k, m] += dWo[k, m]
    return sse


_run = njit(cache=True)(_plain)                     # sizes read at run time
_inlined = njit(inline="always")(_plain)            # compiled into a caller with constant sizes
_CONST: dict = {}


def _wiring(Wo, Mh, Mo, B, S):
    K, NU = Wo.shape
    I = NU - 1 - B * S
    return I, K, Mh[:, I].copy(), Mo[0, 0] != 0.0, float(Mo[0, I])


def run_plain(Wh, Wo, Mh, Mo, B, S, x_idx, x_real, onehot, offsets, targets, has_target, order,
              lr, per_step):
    """Train on sequences ``order`` (weights changed in place); the per-sequence SSE."""
    I, K, hb, oin, ob = _wiring(Wo, Mh, Mo, B, S)
    return _run(Wh, Wo, hb, I, K, B, S, bool(onehot), oin, ob, x_idx, x_real, offsets, targets,
                has_target, order, lr, per_step)


def make_plain_const(I, K, B, S, onehot, oin, ob):
    """The same kernel with the net's sizes and wiring as compile-time constants (closure
    variables; the body inlined by Numba), as a kernel written for one net would have them, so
    that LLVM can unroll its loops. Returns ``run(Wh, Wo, hb, x_idx, x_real, offsets, targets,
    has_target, order, lr, per_step)``."""
    key = (I, K, B, S, bool(onehot), bool(oin), float(ob))
    if key not in _CONST:
        onehot, oin, ob = bool(onehot), bool(oin), float(ob)

        @njit
        def run(Wh, Wo, hb, x_idx, x_real, offsets, targets, has_target, order, lr, per_step):
            return _inlined(Wh, Wo, hb, I, K, B, S, onehot, oin, ob, x_idx, x_real, offsets,
                            targets, has_target, order, lr, per_step)

        _CONST[key] = run
    return _CONST[key]


def run_plain_const(Wh, Wo, Mh, Mo, B, S, x_idx, x_real, onehot, offsets, targets, has_target,
                    order, lr, per_step):
    """:func:`run_plain` through :func:`make_plain_const` (same arguments)."""
    I, K, hb, oin, ob = _wiring(Wo, Mh, Mo, B, S)
    return make_plain_const(I, K, B, S, onehot, oin, ob)(
        Wh, Wo, hb, x_idx, x_real, offsets, targets, has_target, order, lr, per_step)
