"""A slow, plain NumPy reference of the 1997 LSTM and its truncated learning rule.

Written from PROTOCOLS §9.1-9.3 (HS97 Appendix A.1), independently of the Numba kernel in
``lstmrun/engine/lstm97.py``: every step is a handful of vector / matrix operations
(``net = Wh @ z``, per-block gates broadcast to their cells, the RTRL partials as (C, NZ) arrays
grown with ``np.outer``). It is meant to be obviously correct, not fast.

Layout (same as ``lstmrun.engine.arch``):

- hidden units, in order: C cells (cell c in block c // S), B input gates, B output gates (if any);
- ``Wh`` (H, I+1+H) reads ``z(t) = [x(t), 1, y_hidden(t-1)]``;
- ``Wo`` (K, I+1+C) reads ``u(t) = [x(t), 1, y_cells(t)]``;
- masks ``Mh``, ``Mo`` from ``Arch.masks()``: masked weights never change.

Learning rate convention (A15): ``dW = lr * (minus the truncated gradient of 1/2 SSE)``.

Forget gates (GSC00, PROTOCOLS §12.1; ``arch.forget_gate``): B more hidden units after the output
gates, ``s(t) = y_phi s(t-1) + y_in g(net_c)``; every partial is multiplied by y_phi each step and
the forget-gate weights have partials ``dS/dw_phi = y_phi dS/dw_phi + s(t-1) f'(net_phi) z``. A
constant ``arch.state_decay`` d is the same with y_phi = d and no gate units. ``lr_decay`` scales
the rate by ``lr_decay**k`` at the k-th step of the call (GSC00's sequential alpha decay).

Peepholes (GSS02 §3, PROTOCOLS §13.1; ``arch.peepholes``): ``Wh`` has C more columns, the weights
from the cell states to the gates (``Arch.masks()`` keeps each gate's own block). With
``Wp = Wh[:, NZ:]``: ``net += Wp @ s(t-1)`` for the input and forget gates, ``net_out += Wp @
s(t)`` for the output gates. The partials treat s(t-1) as three more sources of the input and
forget gates (``zs = [z, s(t-1)]``), the output-gate change is ``e_out * [z, s(t)]``; no error
passes through a peephole into the CEC.
"""

from __future__ import annotations

import numpy as np


def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def squash(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(value, derivative) of the named squashing function (A.1 eqs. 3-5)."""
    if name == "identity":
        return x.copy(), np.ones_like(x)
    f = _logistic(x)
    df = f * (1.0 - f)
    if name == "logistic":
        return f, df
    if name == "h1":                      # 2f - 1 in [-1, 1]
        return 2.0 * f - 1.0, 2.0 * df
    if name == "g2":                      # 4f - 2 in [-2, 2]
        return 4.0 * f - 2.0, 4.0 * df
    raise ValueError(name)


class _Layout:
    """Index helpers derived from the architecture (no reference to the kernel)."""

    def __init__(self, arch):
        self.I = arch.n_in
        self.K = arch.n_out
        self.B = arch.blocks
        self.S = arch.cells_per_block
        self.C = self.B * self.S
        self.og = bool(arch.output_gate)
        self.fg = bool(getattr(arch, "forget_gate", False))
        self.decay = getattr(arch, "state_decay", None)
        self.H = self.C + self.B * (1 + int(self.og) + int(self.fg))
        self.block_of = np.arange(self.C) // self.S            # block of each cell
        # E[j, c] = 1 if cell c belongs to block j: sums per-cell quantities per block
        self.E = (self.block_of[None, :] == np.arange(self.B)[:, None]).astype(float)
        self.cells = slice(0, self.C)
        self.ingates = slice(self.C, self.C + self.B)
        self.outgates = slice(self.C + self.B, self.C + 2 * self.B)
        f0 = self.C + self.B * (2 if self.og else 1)
        self.fgates = slice(f0, f0 + self.B)
        self.g = arch.g
        self.h = arch.h
        self.out = arch.output_act
        self.pp = bool(getattr(arch, "peepholes", False))
        self.NZ = self.I + 1 + self.H
        # Arch.gate_sources "centred": units read the gates' previous outputs as y - 0.5
        self.zoff = np.zeros(self.H)
        if getattr(arch, "gate_sources", "raw") == "centred":
            self.zoff[self.C:] = 0.5


def _inputs(chunk, t: int) -> np.ndarray:
    """The input vector x(t) (one-hot coding expanded to a dense vector)."""
    if chunk.onehot:
        x = np.zeros(chunk.n_in)
        x[int(chunk.x_idx[t])] = 1.0
        return x
    return np.asarray(chunk.x_real[t], dtype=float).copy()


def _step_forward(L: _Layout, Wh, Wo, x, y_prev, s_prev):
    """One forward step. Returns a dict of everything the backward pass needs."""
    z = np.concatenate([x, [1.0], y_prev - L.zoff])          # sources of cells and gates
    net = Wh[:, :L.NZ] @ z
    if L.pp:                                                  # peepholes from s(t-1) (§13.1)
        net_p = Wh[:, L.NZ:] @ s_prev
        net[L.ingates] += net_p[L.ingates]
        net[L.fgates] += net_p[L.fgates]
    y_in = _logistic(net[L.ingates])                          # (B,)
    y_out = _logistic(net[L.outgates]) if L.og else np.ones(L.B)
    if L.fg:
        y_phi = _logistic(net[L.fgates])                      # forget gates (GSC00)
    else:
        y_phi = np.full(L.B, 1.0 if L.decay is None else float(L.decay))
    g_val, g_der = squash(L.g, net[L.cells])                  # (C,)
    y_in_c = y_in[L.block_of]                                 # gate value seen by each cell
    y_out_c = y_out[L.block_of]
    y_phi_c = y_phi[L.block_of]
    if L.fg or L.decay is not None:
        s = y_phi_c * s_prev + y_in_c * g_val                 # CEC with forget gate / decay
    else:
        s = s_prev + y_in_c * g_val                           # CEC, self-weight 1
    if L.pp and L.og:                                         # output gates read s(t)
        y_out = _logistic(net[L.outgates] + (Wh[:, L.NZ:] @ s)[L.outgates])
        y_out_c = y_out[L.block_of]
    h_val, h_der = squash(L.h, s)
    y_c = y_out_c * h_val
    y_hidden = np.concatenate([y_c, y_in] + ([y_out] if L.og else []) + ([y_phi] if L.fg else []))
    u = np.concatenate([x, [1.0], y_c])                       # sources of the output units
    net_k = Wo @ u
    if L.out == "logistic":
        y_k = _logistic(net_k)
        dy_k = y_k * (1.0 - y_k)
    else:
        y_k = net_k.copy()
        dy_k = np.ones_like(net_k)
    return dict(z=z, u=u, y_in=y_in, y_out=y_out, y_in_c=y_in_c, y_out_c=y_out_c,
                y_phi=y_phi, y_phi_c=y_phi_c, s_prev=s_prev,
                g_val=g_val, g_der=g_der, s=s, h_val=h_val, h_der=h_der, y_c=y_c,
                y_hidden=y_hidden, y_k=y_k, dy_k=dy_k)


def ref_forward(arch, Wh, Wo, chunk, seq: int, reset_act: float = 0.0) -> np.ndarray:
    """Outputs y_k(t) of every step of sequence ``seq`` (shape (len, K)), frozen weights."""
    L = _Layout(arch)
    a, b = int(chunk.offsets[seq]), int(chunk.offsets[seq + 1])
    y_prev = np.full(L.H, float(reset_act))
    s = np.zeros(L.C)
    outs = []
    for t in range(a, b):
        f = _step_forward(L, Wh, Wo, _inputs(chunk, t), y_prev, s)
        outs.append(f["y_k"])
        y_prev, s = f["y_hidden"], f["s"]
    return np.array(outs).reshape(b - a, L.K)


def ref_sse(arch, Wh, Wo, chunk, seq: int, reset_act: float = 0.0, clean: bool = True) -> float:
    """Sum of squared errors of sequence ``seq`` over its target steps."""
    a, b = int(chunk.offsets[seq]), int(chunk.offsets[seq + 1])
    y = ref_forward(arch, Wh, Wo, chunk, seq, reset_act)
    tg = chunk.clean_targets if (clean and chunk.clean_targets is not None) else chunk.targets
    m = chunk.has_target[a:b].astype(bool)
    return float(np.sum((tg[a:b][m] - y[m]) ** 2))


def ref_train(arch, Wh, Wo, chunk, order, lr: float, update_per_step: bool,
              reset_act: float = 0.0, lr_decay: float = 1.0, momentum: float = 0.0,
              vel: dict | None = None):
    """Train on-line on sequences ``order`` with the truncated rule (PROTOCOLS §9.2-9.3).

    Returns ``(Wh, Wo, per_seq_sse)`` (new arrays; the inputs are not modified). ``per_seq_sse``
    is measured against the clean targets during training (before each step's weight change).
    ``momentum`` m: each weight change d (one step's, or one sequence's sum) becomes
    v = m v + d, W += v; ``vel`` {"h": vh, "o": vo}, if given, holds v and is updated in place.
    """
    if vel is None:
        vel = {"h": np.zeros(np.shape(Wh)), "o": np.zeros(np.shape(Wo))}

    def apply(W, d, key):
        if momentum:
            vel[key] = momentum * vel[key] + d
            return W + vel[key]
        return W + d

    L = _Layout(arch)
    Mh, Mo = arch.masks()
    Wh = np.array(Wh, dtype=float, copy=True)
    Wo = np.array(Wo, dtype=float, copy=True)
    clean = chunk.clean_targets if chunk.clean_targets is not None else chunk.targets
    sses = []
    k_step = 0                        # steps since the start of the call (lr_decay)
    for q in order:
        a, b = int(chunk.offsets[q]), int(chunk.offsets[q + 1])
        y_prev = np.full(L.H, float(reset_act))
        s = np.zeros(L.C)
        NZ = Wh.shape[1]              # I+1+H, plus C peephole columns
        P_in = np.zeros((L.C, NZ))    # dS_c/dWh[in_gate(c), :]   (eq. 25)
        P_c = np.zeros((L.C, NZ))     # dS_c/dWh[c, :]            (eq. 27)
        P_f = np.zeros((L.C, NZ))     # dS_c/dWh[forget_gate(c), :]  (§12.1)
        acc_h = np.zeros_like(Wh)     # summed changes (per-sequence mode)
        acc_o = np.zeros_like(Wo)
        sse = 0.0
        for t in range(a, b):
            x = _inputs(chunk, t)
            f = _step_forward(L, Wh, Wo, x, y_prev, s)
            z = f["z"]
            zs = np.concatenate([z, f["s_prev"]]) if L.pp else z     # peephole sources: s(t-1)
            # truncated RTRL partials, every step: the direct dependence of net on the weight only
            d_in = f["g_val"] * f["y_in_c"] * (1.0 - f["y_in_c"])     # g(net_c) f'(net_in)
            d_c = f["g_der"] * f["y_in_c"]                            # g'(net_c) y_in
            phi = f["y_phi_c"][:, None]                              # 1 in the 1997 model
            P_in = phi * P_in + np.outer(d_in, zs)
            P_c = phi * P_c + np.outer(d_c, zs)
            if L.fg:
                d_f = f["s_prev"] * f["y_phi_c"] * (1.0 - f["y_phi_c"])  # s(t-1) f'(net_phi)
                P_f = phi * P_f + np.outer(d_f, zs)
            lr_t = lr * lr_decay ** k_step
            k_step += 1
            if chunk.has_target[t]:
                sse += float(np.sum((clean[t] - f["y_k"]) ** 2))
                e_k = f["dy_k"] * (chunk.targets[t] - f["y_k"])              # eq. 19
                back = Wo[:, L.I + 1:].T @ e_k                               # error at cell outputs
                dWo = np.outer(e_k, f["u"])                                  # eq. 22 (outputs)
                dWh = np.zeros_like(Wh)
                if L.og:
                    e_out = f["y_out"] * (1.0 - f["y_out"]) * (L.E @ (f["h_val"] * back))  # eq. 21
                    zo = np.concatenate([z, f["s"]]) if L.pp else z           # peepholes: s(t)
                    dWh[L.outgates] = np.outer(e_out, zo)                    # eq. 22 (out gates)
                e_s = f["y_out_c"] * f["h_der"] * back                       # eq. 23
                dWh[L.ingates] = L.E @ (e_s[:, None] * P_in)                 # eq. 26
                dWh[L.cells] = e_s[:, None] * P_c                            # eq. 28
                if L.fg:
                    dWh[L.fgates] = L.E @ (e_s[:, None] * P_f)               # §12.1
                dWh = lr_t * dWh * Mh
                dWo = lr_t * dWo * Mo
                if update_per_step:
                    Wh = apply(Wh, dWh, "h")
                    Wo = apply(Wo, dWo, "o")
                else:
                    acc_h = acc_h + dWh
                    acc_o = acc_o + dWo
            y_prev, s = f["y_hidden"], f["s"]
        if not update_per_step:
            Wh = apply(Wh, acc_h, "h")
            Wo = apply(Wo, acc_o, "o")
        sses.append(sse)
    return Wh, Wo, np.array(sses)


def numeric_grad(model, f, eps=1e-6):
    """Central differences of ``f(model)`` w.r.t. every connection of ``model`` (its ``Wh``/``Mh``
    and ``Wo``/``Mo``); masked entries stay zero. Returns (G_h, G_o)."""
    grads = []
    for W, M in ((model.Wh, model.Mh), (model.Wo, model.Mo)):
        G = np.zeros_like(W)
        for i, j in zip(*np.nonzero(M)):
            w = W[i, j]
            W[i, j] = w + eps
            lp = f(model)
            W[i, j] = w - eps
            lm = f(model)
            W[i, j] = w
            G[i, j] = (lp - lm) / (2 * eps)
        grads.append(G)
    return grads
