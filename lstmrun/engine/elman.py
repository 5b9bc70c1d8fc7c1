"""Elman's simple recurrent network (SRN) with Elman's training procedure (HS97 Table 1 baseline).

HS97 Table 1 (PROTOCOLS §2.3) reports "Elman net, Elman training (Cleeremans et al. 1989)", 15
hidden units, ~435 weights, on the embedded Reber grammar. One jitted kernel,
:func:`run_sequences`, with the interface of ``lstm97.run_sequences`` (many sequences per call, no
allocation in the time loop, one-hot inputs as indices, same metrics, step flags and criteria).

Layout (as ``frnn.FRNN`` with separate outputs). ``I`` inputs, ``H`` hidden units, ``K`` outputs,
all logistic f(x)=1/(1+e^-x). The context units hold a copy of the hidden layer at t-1 (fixed copy
weights 1.0; reset to ``reset_act`` = 0 at every sequence start):

    z(t) = [x(t), 1, c(t)],  c(t) = y_h(t-1)        Wh (H, I+1+H)
    y_h(t) = f(Wh z(t))
    u(t) = [x(t), 1, y_h(t)]                         Wo (K, I+1+H); the input columns are
    y_k(t) = f(Wo u(t))                              connections only with outputs_from_inputs

With 7 inputs/outputs, 15 hidden units and no biases this is 15 x 22 + 7 x 15 = 435 weights, the
authors' estimate; with hidden and output biases, 457.

Learning (Elman 1990; Cleeremans, Servan-Schreiber & McClelland 1989): plain one-step back-
propagation at every step with a target, the context treated as extra inputs (no error flows
back through the copy connections):

    e_k(t)   = f'(net_k) (d_k(t) - y_k(t))
    e_h(t)   = f'(net_h) sum_k Wo[k, I+1+h] e_k(t)
    dWo[k,m] = lr e_k u_m(t);   dWh[h, m] = lr e_h z_m(t)

i.e. ``lr`` times minus the gradient of 1/2 SSE of step t with c(t) held fixed. Changes are applied
after every step (Elman's procedure; ``update_per_step=False`` sums them over the sequence).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .arch import Masked, output_mask
from .kernel_common import add_into, load_z, logistic_layer, sources, start_sequence
from .judge import finish_metrics, judge_step
from .lstm97 import FLAG_JUDGE, FLAG_TRAIN
from .kernelmodel import KernelModel


@dataclass(frozen=True)
class ElmanArch(Masked):
    n_in: int
    n_out: int
    n_hidden: int
    hidden_bias: bool = True
    output_bias: bool = True
    outputs_from_inputs: bool = False

    def __post_init__(self):
        if min(self.n_in, self.n_out, self.n_hidden) < 1:
            raise ValueError("n_in, n_out and n_hidden must be at least 1")

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """0/1 connection masks ``(Mh, Mo)`` shaped like ``Wh`` (H, I+1+H) and ``Wo``
        (K, I+1+H)."""
        I, H, K = self.n_in, self.n_hidden, self.n_out
        Mh = np.ones((H, I + 1 + H))
        Mh[:, I] = 1.0 if self.hidden_bias else 0.0
        return Mh, output_mask(K, I, I + 1 + H, self.outputs_from_inputs, self.output_bias)

    def describe(self) -> str:
        return (f"Elman SRN: {self.n_in} inputs (+{self.n_hidden} context) -> {self.n_hidden} "
                f"hidden -> {self.n_out} outputs"
                f"{', hidden bias' if self.hidden_bias else ''}"
                f"{', output bias' if self.output_bias else ''}"
                f"{', input->output' if self.outputs_from_inputs else ''}; "
                f"{self.n_weights()} weights")


@njit(cache=True, error_model="numpy")
def run_sequences(Wh, Wo, Mh, Mo, ip, reset_act, x_idx, x_real, offsets, targets, step_flags,
                  legal, clean_targets, order, lr, learn, update_per_step, crit, thr, early_exit,
                  metrics):
    """Run sequences ``order[0], order[1], ...``; learn with Elman's one-step rule if ``learn``.

    Wh (H, I+1+H), Wo (K, I+1+H) f64: weights, changed in place when learning; Mh, Mo: their 0/1
    connection masks (changes are multiplied by them, so non-connections stay zero).
    ip int64 (4,): n_in, n_out, H, onehot. The other arguments are as in
    ``lstm97.run_sequences``. Returns how many sequences were processed.
    """
    I = ip[0]
    K = ip[1]
    H = ip[2]
    onehot = ip[3] != 0
    NZ = I + 1 + H
    zr = I + 1
    m0 = I if onehot else 0

    z = sources(NZ, I)
    u = sources(NZ, I)
    yh = np.empty(H)
    dyh = np.empty(H)
    yo = np.empty(K)
    dyo = np.empty(K)
    ek = np.empty(K)
    eh = np.empty(H)
    dWh = np.zeros((H, NZ))
    dWo = np.zeros((K, NZ))
    stats = np.zeros(3)

    n_done = 0
    for oi in range(order.shape[0]):
        t0, t1 = start_sequence(order, offsets, oi, z, zr, H, reset_act)    # context
        if learn and not update_per_step:
            dWh[:, :] = 0.0
            dWo[:, :] = 0.0
        stats[:] = 0.0
        ntgt = 0
        ok = True
        xi = 0
        for t in range(t0, t1):
            xi = load_z(z, x_idx, x_real, t, I, onehot, xi)
            logistic_layer(Wh, z, yh, dyh, H, m0, NZ, onehot, xi)
            if not onehot:         # one-hot: the input column is used directly (Wo[k, xi])
                for m in range(I):
                    u[m] = z[m]
            for h in range(H):
                u[zr + h] = yh[h]
            logistic_layer(Wo, u, yo, dyo, K, m0, NZ, onehot, xi)

            fl = step_flags[t]
            if fl & FLAG_JUDGE:
                ntgt += 1
                if not judge_step(yo, clean_targets[t], legal[t], K, crit, thr, stats):
                    ok = False
            if learn and (fl & FLAG_TRAIN):
                for k in range(K):
                    ek[k] = dyo[k] * (targets[t, k] - yo[k])
                for h in range(H):
                    acc = 0.0
                    for k in range(K):
                        acc += Wo[k, zr + h] * ek[k]
                    eh[h] = dyh[h] * acc
                To = Wo if update_per_step else dWo
                Th = Wh if update_per_step else dWh
                for k in range(K):
                    g = lr * ek[k]
                    if onehot:
                        To[k, xi] += g * Mo[k, xi]
                    for m in range(m0, NZ):
                        To[k, m] += g * u[m] * Mo[k, m]
                for h in range(H):
                    g = lr * eh[h]
                    if onehot:
                        Th[h, xi] += g * Mh[h, xi]
                    for m in range(m0, NZ):
                        Th[h, m] += g * z[m] * Mh[h, m]
            # copy the hidden layer into the context units (weights 1.0)
            for h in range(H):
                z[zr + h] = yh[h]
        if onehot:
            z[xi] = 0.0
        if learn and not update_per_step:
            add_into(Wh, dWh)
            add_into(Wo, dWo)
        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if early_exit and not ok:
            break
    return n_done


class Elman(KernelModel):
    """An Elman SRN with weights ``Wh``/``Wo``; same Python interface as ``LSTM97``."""

    def __init__(self, arch: ElmanArch, Wh: np.ndarray, Wo: np.ndarray, reset_act: float = 0.0):
        self._set_weights(arch, Wh, Wo, reset_act)
        self.ip = np.array([arch.n_in, arch.n_out, arch.n_hidden, 0], dtype=np.int64)

    @classmethod
    def random(cls, arch: ElmanArch, init_scale: float, rng: np.random.Generator,
               reset_act: float = 0.0) -> Elman:
        return cls(arch, *cls._draw(arch, init_scale, rng), reset_act)

    def copy(self) -> Elman:
        return Elman(self.arch, self.Wh.copy(), self.Wo.copy(), self.reset_act)

    onehot_slot = 3

    def _kernel(self, ip, chunk, flags, clean, order, lr, learn, update_per_step, crit, thr,
                early_exit, metrics) -> int:
        return run_sequences(self.Wh, self.Wo, self.Mh, self.Mo, ip, self.reset_act,
                             chunk.x_idx, chunk.x_real, chunk.offsets, chunk.targets, flags,
                             chunk.legal, clean, order, lr, learn, update_per_step, crit, thr,
                             early_exit, metrics)
