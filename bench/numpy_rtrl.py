"""A vectorised NumPy implementation of exact RTRL for the fully recurrent net (benchmark peer).

Written for ``make bench`` (case ``rtrl_h12``) from the equations in the docstring of
``lstmrun/engine/frnn.py`` (Williams & Zipser 1989, eqs. 11-14), not from the kernel's loops: the
sensitivities of every existing weight of ``Wh`` are one (N, A) array updated per step with one
matrix product,

    P(t) = f'(t)[:, None] * (W_rec @ P(t-1) + S(z(t))),   S[r, a] = z_j(t) if a = Wh[r, j] else 0,
    dWh[a] = lr * sum_r g_r(t) P[r, a],   dWo = lr * outer(e(t), u(t)) * Mo,

with the weight change applied after every step (``update_per_step``) or summed over the sequence
and applied at its end. ``tests/test_bench_peers.py`` checks it equal to the engine to 1e-10.
"""

from __future__ import annotations

import numpy as np


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def rtrl_train(arch, Wh, Wo, chunk, order, lr: float, update_per_step: bool,
               reset_act: float = 0.0):
    """Train the net ``arch`` (an ``FRNNArch``) on-line with exact RTRL on sequences ``order`` of
    ``chunk``. Returns new ``(Wh, Wo)``; the inputs are not modified."""
    Mh, Mo = arch.masks()
    rows, cols = np.nonzero(Mh)                  # the existing weights of Wh, row-major
    A = rows.size
    ar = np.arange(A)
    I, K, N = arch.n_in, arch.n_out, arch.n_rec
    visible = arch.outputs == "visible"
    zr = I + 1
    Wh = np.array(Wh, dtype=float, copy=True)
    Wo = np.array(Wo, dtype=float, copy=True)
    flat = Wh.reshape(-1)                        # a view: flat[idx] += ... changes Wh
    idx = rows * Wh.shape[1] + cols
    z = np.zeros(I + 1 + N)
    u = np.zeros(I + 1 + N)
    for q in order:
        a, b = int(chunk.offsets[q]), int(chunk.offsets[q + 1])
        z[:] = 0.0
        z[I] = 1.0
        z[zr:] = reset_act
        P = np.zeros((N, A))
        dWh = np.zeros(A)
        dWo = np.zeros_like(Wo)
        for t in range(a, b):
            z[:I] = 0.0
            if chunk.onehot:
                z[int(chunk.x_idx[t])] = 1.0
            else:
                z[:I] = chunk.x_real[t]
            y = _sig(Wh @ z)
            dy = y * (1.0 - y)
            Pn = Wh[:, zr:] @ P
            Pn[rows, ar] += z[cols]
            P = dy[:, None] * Pn
            if visible:
                yo = y[:K]
            else:
                u[:] = z
                u[zr:] = y
                yo = _sig(Wo @ u)
            if chunk.has_target[t]:
                d = chunk.targets[t]
                if visible:
                    g = np.zeros(N)
                    g[:K] = d - yo
                else:
                    ek = yo * (1.0 - yo) * (d - yo)
                    g = Wo[:, zr:].T @ ek
                dw = lr * (g @ P)
                if update_per_step:
                    flat[idx] += dw
                    if not visible:
                        Wo += lr * np.outer(ek, u) * Mo
                else:
                    dWh += dw
                    if not visible:
                        dWo += lr * np.outer(ek, u) * Mo
            z[zr:] = y
        if not update_per_step:
            flat[idx] += dWh
            Wo += dWo
    return Wh, Wo
