"""A plain Numba kernel of the 1997 LSTM and its truncated rule: the speed reference of issue 19.

What a careful programmer writes first, without the engine's tuning: 2-D weight arrays, dense
partials ``P_in``/``P_c`` (C x NZ), loops over every source, the C library's ``exp``, no
per-architecture specialisation, no flat buffer, no SLP. The rule is the engine's (HS97 A.1 eqs.
19-28, PROTOCOLS §9.2-9.3; ``tests/reference.py`` in NumPy): 1997 memory blocks (input and
output gates, CEC with self-weight 1, no forget gate, no peepholes), g in [-2, 2], h in [-1, 1],
logistic gates and output units (the Exp 1 nets; no linear output), weight changes of the 1/2-SSE
gradient times ``lr`` applied every step (``per_step``) or summed per sequence.
``tests/test_bench_peers.py`` checks it against the engine on Exp 1's two nets.

    run_plain(Wh, Wo, Mh, Mo, B, S, x_idx, x_real, onehot, offsets, targets, has_target, order,
              lr, per_step) -> per-sequence SSE (weights changed in place)

Layout as ``lstmrun.engine.arch``: hidden units = C cells, B input gates, B output gates;
``Wh`` (H, I+1+H) reads ``z = [x, 1, y_hidden(t-1)]``, ``Wo`` (K, I+1+C) reads ``u = [x, 1, y_c]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _f(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True)
def run_plain(Wh, Wo, Mh, Mo, B, S, x_idx, x_real, onehot, offsets, targets, has_target, order,
              lr, per_step):
    H, NZ = Wh.shape
    K, NU = Wo.shape
    C = B * S
    I = NZ - 1 - H
    z, u, net, y = np.zeros(NZ), np.zeros(NU), np.zeros(H), np.zeros(H)
    s, gv, gd, hv, hd = np.zeros(C), np.zeros(C), np.zeros(C), np.zeros(C), np.zeros(C)
    back, es, eo, yk, ek = np.zeros(C), np.zeros(C), np.zeros(B), np.zeros(K), np.zeros(K)
    Pin = np.zeros((C, NZ))
    Pc = np.zeros((C, NZ))
    dWh = np.zeros((H, NZ))
    dWo = np.zeros((K, NU))
    sse = np.zeros(order.shape[0])
    for n in range(order.shape[0]):
        q = order[n]
        z[:] = 0.0
        z[I] = 1.0
        u[:] = 0.0
        u[I] = 1.0
        s[:] = 0.0
        Pin[:, :] = 0.0
        Pc[:, :] = 0.0
        dWh[:, :] = 0.0
        dWo[:, :] = 0.0
        for t in range(offsets[q], offsets[q + 1]):
            for i in range(I):
                z[i] = 0.0
            if onehot:
                z[x_idx[t]] = 1.0
            else:
                for i in range(I):
                    z[i] = x_real[t, i]
            # forward: nets of cells and gates, then the gates, the CEC, the cell outputs
            for h in range(H):
                acc = 0.0
                for m in range(NZ):
                    acc += Wh[h, m] * z[m]
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
            # truncated partials (eqs. 25, 27)
            for c in range(C):
                j = c // S
                yin = y[C + j]
                din = gv[c] * yin * (1.0 - yin)
                dc = gd[c] * yin
                for m in range(NZ):
                    Pin[c, m] += din * z[m]
                    Pc[c, m] += dc * z[m]
            # outputs
            for i in range(I):
                u[i] = z[i]
            for c in range(C):
                u[I + 1 + c] = y[c]
            if has_target[t]:
                for k in range(K):
                    acc = 0.0
                    for m in range(NU):
                        acc += Wo[k, m] * u[m]
                    yk[k] = _f(acc)
                    d = targets[t, k] - yk[k]
                    sse[n] += d * d
                    ek[k] = yk[k] * (1.0 - yk[k]) * d                   # eq. 19
                for c in range(C):
                    acc = 0.0
                    for k in range(K):
                        acc += Wo[k, I + 1 + c] * ek[k]
                    back[c] = acc
                    es[c] = y[C + B + c // S] * hd[c] * back[c]          # eq. 23
                for j in range(B):
                    acc = 0.0
                    for v in range(S):
                        acc += hv[j * S + v] * back[j * S + v]
                    yo = y[C + B + j]
                    eo[j] = yo * (1.0 - yo) * acc                        # eq. 21
                # weight changes (eqs. 22, 26, 28), masked
                for k in range(K):
                    for m in range(NU):
                        dWo[k, m] += lr * ek[k] * u[m] * Mo[k, m]
                for j in range(B):
                    for m in range(NZ):
                        dWh[C + B + j, m] += lr * eo[j] * z[m] * Mh[C + B + j, m]
                for c in range(C):
                    j = c // S
                    for m in range(NZ):
                        dWh[C + j, m] += lr * es[c] * Pin[c, m] * Mh[C + j, m]
                        dWh[c, m] += lr * es[c] * Pc[c, m] * Mh[c, m]
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
                z[I + 1 + h] = y[h]
        if not per_step:
            for h in range(H):
                for m in range(NZ):
                    Wh[h, m] += dWh[h, m]
            for k in range(K):
                for m in range(NU):
                    Wo[k, m] += dWo[k, m]
    return sse
