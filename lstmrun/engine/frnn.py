"""Fully recurrent nets (Williams & Zipser 1989) and their exact gradient rules: RTRL and BPTT.

The gradient baselines of HS97 (Table 1 rows "RTRL"; Table 2 rows "RTRL" and "BPTT"; PROTOCOLS
§2.3, §3.1) and the nets of random weight guessing (§10). Two jitted kernels,
:func:`run_rtrl` and :func:`run_bptt`, share the interface of ``lstm97.run_sequences``: many
sequences per call, no allocation inside the time loop, one-hot inputs as indices, the same five
metrics columns, step flags and criteria.

Layout. ``I`` inputs, ``N`` recurrent units, ``K`` output units, all logistic f(x)=1/(1+e^-x).
Recurrent unit ``r`` reads ``z(t) = [x(t), 1, y(t-1)]`` (current input, bias unit, every recurrent
unit's previous activation) through row ``r`` of ``Wh`` (N, I+1+N). Two readings of "output":

- ``outputs="separate"`` (HS97 §5.2, the Table 2 net for Exp 2a): the ``N = n_hidden`` recurrent
  units are hidden; the ``K`` output units are *not* recurrent and read
  ``u(t) = [x(t), 1, y(t)]`` (current input, bias, the hidden units of the same step; the order
  input -> hidden -> output of HS97 §5 intro, A2) through ``Wo`` (K, I+1+N). "Every layer
  connected to all layers below". With ``n_in = n_out = p+1``, one self-recurrent hidden unit and
  no biases this gives HS97's 36 / 144 / 10,404 weights for p = 4 / 10 / 100 (PROTOCOLS §1.3).
- ``outputs="visible"`` (Williams & Zipser's net, as used by Smith & Zipser 1989 on the embedded
  Reber grammar, HS97 Table 1): the output units are among the fully recurrent units. Units
  ``0 .. K-1`` of ``Wh`` are the outputs, ``K .. K+n_hidden-1`` the hidden units; ``N = K +
  n_hidden`` and ``Wo`` has no rows. The output at step t is the activation y_k(t) of that step
  (it reads x(t) and y(t-1)). Without biases, 7 inputs and 7 outputs this gives exactly the
  authors' estimates ~170 (3 hidden: 10 x 17) and ~494 (12 hidden: 19 x 26) weights.

Forward pass, one step (W&Z eqs. 1-2; HS97 A.1 conventions):

    net_r(t) = sum_m Wh[r, m] z_m(t),   y_r(t) = f(net_r(t)),   f' = y (1 - y)
    y_k(t)   = f(sum_m Wo[k, m] u_m(t))                        (separate outputs)

Error E = 1/2 sum_t sum_k (d_k(t) - y_k(t))^2 over the steps with FLAG_TRAIN (HS97 A15: ``lr``
multiplies the gradient of 1/2 SSE). Error injected into recurrent unit r at step t:

    g_r(t) = d_r(t) - y_r(t)                                  (visible, r < K; else 0)
    g_r(t) = sum_k Wo[k, I+1+r] e_k(t),  e_k = f'_k (d_k - y_k) (separate)

RTRL (Williams & Zipser 1989, eqs. 11-14), exact sensitivities p^r_a(t) = dy_r(t)/dw_a for every
existing weight a = Wh[i, j], updated every step in O(N^2 * #Wh):

    p^r_a(t) = f'_r(t) [ sum_l Wh[r, I+1+l] p^l_a(t-1) + delta_{r i} z_j(t) ],   p(t0-1) = 0
    dWh[a]   = lr sum_r g_r(t) p^r_a(t);   dWo[k, m] = lr e_k(t) u_m(t)

applied after every step (``update_per_step``: W&Z's real-time variant, the sensitivities then
run on the changing weights) or summed over the sequence and applied at its end (the exact
gradient of the sequence's 1/2 SSE, identical to BPTT; HS97 §5 intro).

BPTT (Williams & Peng 1990 / Werbos), untruncated, over the whole sequence, weights changed once
at the sequence end (``update_per_step`` is ignored):

    delta_r(t) = f'_r(t) [ g_r(t) + sum_r' Wh[r', I+1+r] delta_r'(t+1) ],   delta(t1) = 0
    dWh[r, m]  = lr sum_t delta_r(t) z_m(t);   dWo[k, m] = lr sum_t e_k(t) u_m(t)

Activations are reset to ``reset_act`` (HS97: 0) at every sequence start. Weights that are not
connections (mask 0) are zero and stay zero: their sensitivities are never seeded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .judge import (  # noqa: F401
    CRIT_ABS, CRIT_LEGAL, FLAG_JUDGE, FLAG_TRAIN, N_METRICS, finish_metrics, judge_err_step,
    judge_step,
)
from .arch import Masked, output_mask
from .fastexp import flogistic
from .kernel_common import load_z, logistic, logistic_layer, sources, start_sequence
from .kernelmodel import KernelModel

OUTPUT_MODES = ("separate", "visible")
RULES = ("rtrl", "bptt")

# ip (integer parameters) layout
IP_NIN, IP_NOUT, IP_N, IP_VISIBLE, IP_ONEHOT, IP_FASTEXP = range(6)


@dataclass(frozen=True)
class FRNNArch(Masked):
    """A fully recurrent net (see the module docstring for the two ``outputs`` readings).

    ``hidden_self_only``: a hidden unit reads only its own previous activation among the hidden
    units (HS97's Exp 2a net has one self-recurrent hidden unit, where both readings coincide). In
    the visible net it also still reads the output units (random guessing's architecture A2,
    PROTOCOLS §10: "each hidden unit sees the input, the output and itself").
    ``hidden_self``: hidden self-connections exist (False: A2 "without hidden self-connections").
    ``output_self``: in the visible net, an output unit reads its own previous activation (A2: the
    output "sees all other units", i.e. False).
    ``outputs_from_inputs``: output units read the current input.
    """

    n_in: int
    n_out: int
    n_hidden: int
    outputs: str = "separate"
    hidden_bias: bool = False
    output_bias: bool = False
    hidden_self_only: bool = False
    outputs_from_inputs: bool = True
    hidden_self: bool = True
    output_self: bool = True

    def __post_init__(self):
        if self.n_in < 1 or self.n_out < 1 or self.n_hidden < 0:
            raise ValueError("need n_in >= 1, n_out >= 1, n_hidden >= 0")
        if self.outputs not in OUTPUT_MODES:
            raise ValueError(f"outputs must be one of {OUTPUT_MODES}")
        if self.outputs == "separate" and self.n_hidden < 1:
            raise ValueError("a net with separate outputs needs at least one hidden unit")

    @property
    def n_rec(self) -> int:
        """Number of recurrent units (rows of ``Wh``)."""
        return self.n_hidden + (self.n_out if self.outputs == "visible" else 0)

    @property
    def hidden0(self) -> int:
        """Index of the first hidden unit among the recurrent units."""
        return self.n_out if self.outputs == "visible" else 0

    def masks(self) -> tuple[np.ndarray, np.ndarray]:
        """0/1 connection masks ``(Mh, Mo)`` shaped like ``Wh`` (N, I+1+N) and ``Wo``
        (K, I+1+N), or (0, I+1+N) for the visible net."""
        I, K, N, h0 = self.n_in, self.n_out, self.n_rec, self.hidden0
        zr = I + 1
        Mh = np.zeros((N, I + 1 + N))
        for r in range(N):
            is_out = r < h0
            if is_out:
                Mh[r, :I] = 1.0 if self.outputs_from_inputs else 0.0
                Mh[r, I] = 1.0 if self.output_bias else 0.0
                Mh[r, zr:] = 1.0
                if not self.output_self:
                    Mh[r, zr + r] = 0.0
            else:
                Mh[r, :I] = 1.0
                Mh[r, I] = 1.0 if self.hidden_bias else 0.0
                if self.hidden_self_only:
                    Mh[r, zr:zr + h0] = 1.0          # the visible outputs (none if separate)
                    Mh[r, zr + r] = 1.0
                else:
                    Mh[r, zr:] = 1.0
                if not self.hidden_self:
                    Mh[r, zr + r] = 0.0
        if self.outputs == "visible":
            Mo = np.zeros((0, I + 1 + N))
        else:
            Mo = output_mask(K, I, I + 1 + N, self.outputs_from_inputs, self.output_bias)
        return Mh, Mo

    def describe(self) -> str:
        return (f"fully recurrent net ({self.outputs} outputs): {self.n_in} inputs, "
                f"{self.n_hidden} hidden, {self.n_out} outputs"
                f"{', hidden self-recurrence only' if self.hidden_self_only else ''}"
                f"{', hidden bias' if self.hidden_bias else ''}"
                f"{', output bias' if self.output_bias else ''}; {self.n_weights()} weights")


def active_list(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns (int64, row-major) of the ones of ``M`` and each row's start in that list
    (``rs``, length rows+1)."""
    rows, cols = np.nonzero(M)
    rs = np.searchsorted(rows, np.arange(M.shape[0] + 1)).astype(np.int64)
    return rows.astype(np.int64), cols.astype(np.int64), rs


# --------------------------------------------------------------------------------------------
# shared step helpers (also used by the Elman kernel)
# --------------------------------------------------------------------------------------------
@njit(inline="always")
def _step_vectors(N, K):
    """A step's vectors: y(t) and f' of the N units; the outputs' y, f' and nets, padded to
    whole 8-lane vectors (the fast exp's loop then has no scalar remainder; the padding lanes
    compute f(0) and nothing reads them); the outputs' errors."""
    KP = (K + 7) // 8 * 8
    return (np.empty(N), np.empty(N), np.zeros(KP), np.zeros(KP), np.zeros(KP), np.zeros(K))


@njit(cache=True, error_model="numpy", inline="always")
def _out_forward(WoT, oc, u, net, yo, dyo, KO, onehot, xi, fast):
    """The separate output units from u = [x(t), 1, y(t)] through the transposed output weights
    ``WoT`` (I+1+N, KO), column by column (``oc``: the existing columns past the one-hot input;
    the one-hot input's column is ``xi``), so that every loop over the outputs is contiguous. Each
    net input is summed in the order of the weight row: the same operations as a row loop."""
    if onehot:
        for k in range(KO):
            net[k] = WoT[xi, k]
    else:
        for k in range(KO):
            net[k] = 0.0
    for i in range(oc.shape[0]):
        m = oc[i]
        um = u[m]
        for k in range(KO):
            net[k] += WoT[m, k] * um
    if fast:   # the vectorisable exp (fastexp.py; IP_FASTEXP): one vector loop over the outputs
        # (over net's length: the kernels pad net/yo/dyo to whole vectors)
        for k in range(net.shape[0]):
            y = flogistic(net[k])
            yo[k] = y
            dyo[k] = y * (1.0 - y)
    else:
        for k in range(KO):
            y = logistic(net[k], False)
            yo[k] = y
            dyo[k] = y * (1.0 - y)


@njit(cache=True, error_model="numpy", inline="always")
def _error_signals(WoT, targets, t, yo, dyo, ek, g, I, N, K, visible, r0):
    """e_k = f'_k (d_k - y_k) (separate outputs) and the error g_r injected into each recurrent
    unit (module docstring); ``WoT`` is the transposed output weight matrix. ``r0`` = 1: e and
    g_0 are done (``judge_err_step``, in the judge's loop)."""
    zr = I + 1
    if visible:
        for r in range(N):
            g[r] = 0.0
        for k in range(K):
            g[k] = targets[t, k] - yo[k]
    else:
        if r0 == 0:
            for k in range(K):
                ek[k] = dyo[k] * (targets[t, k] - yo[k])
        for r in range(r0, N):
            acc = 0.0
            for k in range(K):
                acc += WoT[zr + r, k] * ek[k]
            g[r] = acc


@njit(cache=True, error_model="numpy", inline="always")
def _judge_and_errors(fl, train, yo, clean_targets, legal, targets, t, K, crit, thr, stats,
                      WoT, dyo, ek, g, I, N, visible):
    """The step's judgement (``FLAG_JUDGE``) and error signals (``train``). With both and a
    separate output layer, e and g_0 are summed in the judge's loop (``judge_err_step``: the
    ordered sums overlap; the same bits). Returns False when the judged step fails."""
    ok = True
    r0 = 0
    if fl & FLAG_JUDGE:
        if train and not visible and N > 0:
            ok, g[0] = judge_err_step(yo, clean_targets[t], legal[t], K, crit, thr, stats, True,
                                      targets[t], dyo, ek, WoT[I + 1])
            r0 = 1
        else:
            ok = judge_step(yo, clean_targets[t], legal[t], K, crit, thr, stats)
    if train:
        _error_signals(WoT, targets, t, yo, dyo, ek, g, I, N, K, visible, r0)
    return ok


@njit(cache=True, error_model="numpy")
def _active_index(ha_col, ha_rs, N, I, onehot):
    """Indexes into the list of existing weights of Wh (row-major, sorted by column in a row;
    ``ha_rs`` (N+1,) each row's range, see :func:`active_list`): ``amap`` (N, I) (one-hot
    inputs) where input column i sits in row r's list (-1: no weight); ``a_rec`` (N,) where the
    row's columns past the inputs start; ``runs`` (R, 4) the list cut into runs of consecutive
    columns of one row: (first entry, row, first column, length), so that changes are added to
    Wh a contiguous run at a time."""
    amap = np.full((N, I if onehot else 0), -1, np.int64)
    a_rec = np.empty(N, np.int64)
    buf = np.empty((ha_col.shape[0], 4), np.int64)
    n = 0
    for r in range(N):
        a_rec[r] = ha_rs[r + 1]
        for a in range(ha_rs[r + 1] - 1, ha_rs[r] - 1, -1):
            if ha_col[a] >= I:
                a_rec[r] = a
            elif onehot:
                amap[r, ha_col[a]] = a
        for a in range(ha_rs[r], ha_rs[r + 1]):
            if a > ha_rs[r] and ha_col[a] == buf[n - 1, 2] + buf[n - 1, 3]:
                buf[n - 1, 3] += 1
            else:
                buf[n, 0] = a
                buf[n, 1] = r
                buf[n, 2] = ha_col[a]
                buf[n, 3] = 1
                n += 1
    return amap, a_rec, buf[:n].copy()


@njit(cache=True, error_model="numpy", inline="always")
def _add_active(Wh, runs, scale, v):
    """Wh[ha_row[a], ha_col[a]] += scale * v[a] for every existing weight a, a run at a time
    (contiguous; ``scale`` = 1.0 multiplies exactly)."""
    for i in range(runs.shape[0]):
        a0 = max(runs[i, 0], 0)   # (known >= 0: no wraparound, the loop vectorises)
        r = max(runs[i, 1], 0)
        c0 = max(runs[i, 2], 0)
        for j in range(runs[i, 3]):
            Wh[r, c0 + j] += scale * v[a0 + j]


@njit(cache=True, error_model="numpy", inline="always")
def _apply_out(WoT, dWoT, scale, cols, ncols, KO):
    """WoT[m, :] += scale * dWoT[m, :] for the columns m in ``cols[:ncols]``, whose summed
    changes are then zeroed (``scale`` = 1.0 multiplies exactly).

    Sequence ends pass the columns the sequence touched: with one-hot inputs the inputs seen and
    the other existing columns (``_start_cols``, ``_touch``). The rest hold +0 changes, and
    W + (+0) is W except for W = -0: absent weights drawn as U * 0 can be -0, so the first
    sequence end of a call passes every column (-0 + +0 = +0, as before); after it no weight is
    -0 (a sum is -0 only if both terms are), so leaving the others out gives the same bits."""
    for i in range(ncols):
        m = cols[i]
        for k in range(KO):
            WoT[m, k] += scale * dWoT[m, k]
            dWoT[m, k] = 0.0


@njit(cache=True, error_model="numpy", inline="always")
def _touch(cols, ncols, seen, oi, m):
    """Add column m to the sequence's list ``cols[:ncols]`` (``seen[m]`` = the last sequence that
    listed it). Returns the new length."""
    if seen[m] != oi:
        seen[m] = oi
        cols[ncols] = m
        ncols += 1
    return ncols


@njit(cache=True, error_model="numpy", inline="always")
def _start_cols(cols, seen, oi, oc, NZ, first, onehot):
    """The column list at a sequence start: every column for the call's first sequence and for
    real-valued inputs, else the existing columns past the inputs (``oc``)."""
    n = 0
    if first or not onehot:
        for m in range(NZ):
            n = _touch(cols, n, seen, oi, m)
    else:
        for i in range(oc.shape[0]):
            n = _touch(cols, n, seen, oi, oc[i])
    return n


@njit(cache=True, error_model="numpy", inline="always")
def _out_change(T, MoT, oc, u, gl, KO, onehot, xi):
    """T[m, k] += gl[k] u[m] Mo[k, m] over the existing columns (``T``: the transposed output
    weights or their summed change; the one-hot input's u is 1)."""
    if onehot:
        for k in range(KO):
            T[xi, k] += gl[k] * MoT[xi, k]
    for i in range(oc.shape[0]):
        m = oc[i]
        um = u[m]
        for k in range(KO):
            T[m, k] += gl[k] * um * MoT[m, k]


@njit(cache=True, error_model="numpy")
def _transpose_out(Wo, Mo, I, onehot):
    """Per call: the transposed output weights and mask (contiguous over the outputs) and the
    existing output columns ``oc`` from the first one after the inputs (one-hot) or from 0."""
    KO, NZ = Wo.shape
    WoT = np.empty((NZ, KO))
    MoT = np.empty((NZ, KO))
    for k in range(KO):
        for m in range(NZ):
            WoT[m, k] = Wo[k, m]
            MoT[m, k] = Mo[k, m]
    m0 = I if onehot else 0
    buf = np.empty(NZ, np.int64)
    n = 0
    for m in range(m0, NZ):
        used = False
        for k in range(KO):
            if Mo[k, m] != 0.0:
                used = True
        if used:
            buf[n] = m
            n += 1
    return WoT, MoT, buf[:n].copy()


@njit(cache=True, error_model="numpy")
def _untranspose_out(WoT, Wo):
    KO, NZ = Wo.shape
    for k in range(KO):
        for m in range(NZ):
            Wo[k, m] = WoT[m, k]


@njit(cache=True, error_model="numpy")
def _rows_times(W, c0, L, P, C, R, A):
    """C[k, a] = sum_{l < L} W[k, c0 + l] P[l, a] for k < R, a < A: C is zeroed, then the terms
    are added one at a time in increasing l (a product and a sum, no fused multiply-add: exactly
    the operations of the plain triple loop). Register-blocked 4 rows x 4 terms, so that each
    pass over a row of C loads it once for 16 products; the loop over ``a`` is contiguous and
    vectorised."""
    R4 = R - R % 4
    L4 = L - L % 4
    for k in range(R):
        for a in range(A):
            C[k, a] = 0.0
    for k in range(0, R4, 4):
        for l in range(0, L4, 4):
            w00 = W[k, c0 + l]
            w01 = W[k, c0 + l + 1]
            w02 = W[k, c0 + l + 2]
            w03 = W[k, c0 + l + 3]
            w10 = W[k + 1, c0 + l]
            w11 = W[k + 1, c0 + l + 1]
            w12 = W[k + 1, c0 + l + 2]
            w13 = W[k + 1, c0 + l + 3]
            w20 = W[k + 2, c0 + l]
            w21 = W[k + 2, c0 + l + 1]
            w22 = W[k + 2, c0 + l + 2]
            w23 = W[k + 2, c0 + l + 3]
            w30 = W[k + 3, c0 + l]
            w31 = W[k + 3, c0 + l + 1]
            w32 = W[k + 3, c0 + l + 2]
            w33 = W[k + 3, c0 + l + 3]
            for a in range(A):
                q0 = P[l, a]
                q1 = P[l + 1, a]
                q2 = P[l + 2, a]
                q3 = P[l + 3, a]
                C[k, a] = (((C[k, a] + w00 * q0) + w01 * q1) + w02 * q2) + w03 * q3
                C[k + 1, a] = (((C[k + 1, a] + w10 * q0) + w11 * q1) + w12 * q2) + w13 * q3
                C[k + 2, a] = (((C[k + 2, a] + w20 * q0) + w21 * q1) + w22 * q2) + w23 * q3
                C[k + 3, a] = (((C[k + 3, a] + w30 * q0) + w31 * q1) + w32 * q2) + w33 * q3
        for l in range(L4, L):
            w0 = W[k, c0 + l]
            w1 = W[k + 1, c0 + l]
            w2 = W[k + 2, c0 + l]
            w3 = W[k + 3, c0 + l]
            for a in range(A):
                q = P[l, a]
                C[k, a] = C[k, a] + w0 * q
                C[k + 1, a] = C[k + 1, a] + w1 * q
                C[k + 2, a] = C[k + 2, a] + w2 * q
                C[k + 3, a] = C[k + 3, a] + w3 * q
    for k in range(R4, R):
        for l in range(0, L4, 4):
            w0 = W[k, c0 + l]
            w1 = W[k, c0 + l + 1]
            w2 = W[k, c0 + l + 2]
            w3 = W[k, c0 + l + 3]
            for a in range(A):
                C[k, a] = (((C[k, a] + w0 * P[l, a]) + w1 * P[l + 1, a]) + w2 * P[l + 2, a]) \
                    + w3 * P[l + 3, a]
        for l in range(L4, L):
            w0 = W[k, c0 + l]
            for a in range(A):
                C[k, a] = C[k, a] + w0 * P[l, a]


# --------------------------------------------------------------------------------------------
# RTRL
# --------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def run_rtrl(Wh, Wo, Mo, ha_row, ha_col, ha_rs, ip, reset_act, x_idx, x_real,
             offsets, targets, step_flags, legal, clean_targets, order, lr, learn,
             update_per_step, crit, thr, early_exit, metrics):
    """Run sequences ``order[0], order[1], ...``; learn on-line with exact RTRL if ``learn``.

    Wh (N, I+1+N), Wo (K or 0, I+1+N) f64: weights, changed in place when learning.
    ha_row/ha_col int64 (A,): the existing weights of Wh (row-major; ``ha_rs`` (N+1,) gives
    each row's range): only these carry sensitivities and change. Mo: the 0/1 mask of Wo
    (changes are multiplied by it). ip int64 (6,): n_in, n_out, N recurrent units, visible outputs, onehot,
    fast exp in the output layer (``fastexp``).
    The data arguments, ``lr``, the criterion and ``metrics`` are as in
    ``lstm97.run_sequences``. Returns how many sequences were processed.

    Cost per step: the sensitivities P (N, A) -- A counts only existing weights of Wh, so in the
    Exp 2a net (one hidden unit; the outputs are not recurrent and learn from their own inputs
    directly) A is the hidden unit's weights and P one row -- are updated as P(t) =
    f'(t) (W_rec P(t-1) + S(z(t))): one N x N x A product (:func:`_rows_times`, register-blocked,
    contiguous and vectorised over A), then the A seeds and one scaling pass; the weight changes
    are one product over the units that receive error (the K outputs of the visible net, all N
    otherwise). The separate output layer runs on a transposed copy of Wo (written back at the
    end of the call) so its loops over the K outputs are contiguous; one-hot inputs touch only
    their own column. The first two steps of a sequence use that p(t0-1) = 0 and that p^l(t0)
    is zero outside row l's weights. With one recurrent unit (Exps 2a/2b) the product, seeds and
    scaling are one pass, and so are the weight change and its addition to Wh; the judge's
    ordered sums and the error's sum over the outputs share one loop (``judge_err_step``); Wh
    is changed a run of contiguous columns at a time; with per-sequence changes only the output
    columns the sequence touched are updated at its end (``_apply_out``). Every sum is taken in
    the same order as the plain loops of the module docstring's equations, without fused
    multiply-adds; only exact zeros are left out or added, which leaves a sum unchanged, so the
    results are bit-identical to those loops (``scripts/kernel_identity.py`` checks it against
    an earlier checkout).
    """
    I = ip[IP_NIN]
    K = ip[IP_NOUT]
    N = ip[IP_N]
    visible = ip[IP_VISIBLE] != 0
    fast = ip[IP_FASTEXP] != 0
    onehot = ip[IP_ONEHOT] != 0
    NZ = I + 1 + N
    zr = I + 1
    A = ha_row.shape[0]
    KO = Wo.shape[0]          # separate output units (0 in the visible net)
    nerr = K if visible else N  # units that receive error

    WoT, MoT, oc = _transpose_out(Wo, Mo, I, onehot)
    amap, a_rec, runs = _active_index(ha_col, ha_rs, N, I, onehot)
    z = sources(NZ, I)
    u = sources(NZ, I)
    ycur, dy, yo, dyo, net, ek = _step_vectors(N, K)
    gl = np.zeros(K)
    g2 = np.zeros((1, N))     # the injected errors g as one row (for _rows_times)
    g = g2[0]
    P = np.zeros((N, A))      # p^r_a = dy_r / dWh[a]
    P2 = np.zeros((N, A))
    S = np.zeros(A)           # one unit: the seeds of a step (zero off the seeded entries)
    gacc = np.zeros((1, A))   # sum_r g_r p^r_a
    dWh = np.zeros(A)         # summed changes (per-sequence mode)
    dWoT = np.zeros((NZ, KO))
    cols = np.empty(NZ, np.int64)     # the columns of dWoT a sequence touched (_apply_out)
    seen = np.full(NZ, -1, np.int64)
    ncols = 0
    stats = np.zeros(3)

    n_done = 0
    for oi in range(order.shape[0]):
        t0, t1 = start_sequence(order, offsets, oi, z, zr, N, reset_act)
        if learn and not update_per_step:
            dWh[:] = 0.0
            ncols = _start_cols(cols, seen, oi, oc, NZ, oi == 0, onehot)
        stats[:] = 0.0
        ntgt = 0
        ok = True
        xi = 0
        for t in range(t0, t1):
            xi = load_z(z, x_idx, x_real, t, I, onehot, xi)
            logistic_layer(Wh, z, ycur, dy, N, I if onehot else 0, NZ, onehot, xi)
            if visible:
                for k in range(K):
                    yo[k] = ycur[k]
                    dyo[k] = dy[k]
            else:
                if not onehot:
                    for m in range(I):
                        u[m] = z[m]
                for r in range(N):
                    u[zr + r] = ycur[r]
                _out_forward(WoT, oc, u, net, yo, dyo, KO, onehot, xi, fast)
            if learn:
                # ---- sensitivities p(t) from p(t-1) and the weights before this step's change:
                # P2 = W_rec P; + delta_{r i} z_j (the weights of row r); times f'_r
                if t == t0:       # p(t0-1) = 0
                    for r in range(N):
                        for a in range(A):
                            P2[r, a] = 0.0
                elif t == t0 + 1:
                    # p^l_a(t0) is zero unless a is a weight of row l: one term per sum
                    for r in range(N):
                        for l in range(N):
                            w = Wh[r, zr + l]
                            lo = max(ha_rs[l], 0)   # (known >= 0: the loop vectorises)
                            for i in range(ha_rs[l + 1] - lo):
                                P2[r, lo + i] = 0.0 + w * P[l, lo + i]
                elif N == 1:
                    # one unit (the Exp 2a/2b nets): the three passes below in one, with the
                    # seeds as a vector S (zero off the seeded entries: 0.0 + w p is never -0,
                    # so adding +0 leaves it as it is; the same bits)
                    ax = amap[0, xi] if onehot else -1
                    if ax >= 0:
                        S[ax] = 1.0
                    for a in range(a_rec[0] if onehot else 0, ha_rs[1]):
                        S[a] = z[ha_col[a]]
                    w = Wh[0, zr]
                    d = dy[0]
                    for a in range(A):
                        P2[0, a] = ((0.0 + w * P[0, a]) + S[a]) * d
                    if ax >= 0:
                        S[ax] = 0.0
                else:
                    _rows_times(Wh, zr, N, P, P2, N, A)
                for r in range(N if (t < t0 + 2 or N > 1) else 0):
                    if onehot:
                        # of the input columns only x(t)'s is 1, the others add exact zeros:
                        # left out (the same sums)
                        ax = amap[r, xi]
                        if ax >= 0:
                            P2[r, ax] += 1.0
                        for a in range(a_rec[r], ha_rs[r + 1]):
                            P2[r, a] += z[ha_col[a]]
                    else:
                        for a in range(ha_rs[r], ha_rs[r + 1]):
                            P2[r, a] += z[ha_col[a]]
                    d = dy[r]
                    for a in range(A):
                        P2[r, a] *= d
                P, P2 = P2, P
            fl = step_flags[t]
            train = learn and (fl & FLAG_TRAIN) != 0
            if fl & FLAG_JUDGE:
                ntgt += 1
            if not _judge_and_errors(fl, train, yo, clean_targets, legal, targets, t, K, crit,
                                     thr, stats, WoT, dyo, ek, g, I, N, visible):
                ok = False
            if train:
                if nerr == 1:
                    # one unit receives error: gacc = 0.0 + g_0 p (what _rows_times does), in
                    # the pass that adds it
                    g0 = g[0]
                    if update_per_step:
                        for i in range(runs.shape[0]):
                            a0 = max(runs[i, 0], 0)   # (>= 0: see _add_active)
                            r = max(runs[i, 1], 0)
                            c0 = max(runs[i, 2], 0)
                            for j in range(runs[i, 3]):
                                Wh[r, c0 + j] += lr * (0.0 + g0 * P[0, a0 + j])
                    else:
                        for a in range(A):
                            dWh[a] += lr * (0.0 + g0 * P[0, a])
                else:
                    _rows_times(g2, 0, nerr, P, gacc, 1, A)
                    if update_per_step:
                        _add_active(Wh, runs, lr, gacc[0])
                    else:
                        for a in range(A):
                            dWh[a] += lr * gacc[0, a]
                if KO > 0:
                    for k in range(KO):
                        gl[k] = lr * ek[k]
                    _out_change(WoT if update_per_step else dWoT, MoT, oc, u, gl, KO, onehot,
                                xi)
                    if onehot and not update_per_step:
                        ncols = _touch(cols, ncols, seen, oi, xi)
            for r in range(N):
                z[zr + r] = ycur[r]
        if onehot:
            z[xi] = 0.0
        if learn and not update_per_step:
            _add_active(Wh, runs, 1.0, dWh)
            _apply_out(WoT, dWoT, 1.0, cols, ncols, KO)
        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if early_exit and not ok:
            break
    if learn:
        _untranspose_out(WoT, Wo)
    return n_done


# --------------------------------------------------------------------------------------------
# BPTT
# --------------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy")
def run_bptt(Wh, Wo, Mo, ha_row, ha_col, ha_rs, ip, reset_act, x_idx, x_real, offsets,
             targets, step_flags, legal, clean_targets, order, lr, learn, crit, thr,
             early_exit, metrics):
    """Like :func:`run_rtrl`, learning with full back-propagation through time: the forward pass
    stores y(t), f'(t), the injected errors g(t) and e(t) of the whole sequence; the backward
    pass runs from its last step to its first; the summed change is applied at its end. The
    output layer runs on a transposed copy of Wo as in :func:`run_rtrl` (contiguous over the
    outputs, one-hot inputs touching one column; the judge's loop sums the error, only touched
    output columns are updated at the sequence end); with one-hot inputs and a finite delta the
    hidden weights' change adds only the current input's term (the others are exact zeros);
    sums in the order of the plain loops."""
    I = ip[IP_NIN]
    K = ip[IP_NOUT]
    N = ip[IP_N]
    visible = ip[IP_VISIBLE] != 0
    fast = ip[IP_FASTEXP] != 0
    onehot = ip[IP_ONEHOT] != 0
    NZ = I + 1 + N
    zr = I + 1
    A = ha_row.shape[0]
    KO = Wo.shape[0]

    Lmax = 1
    for oi in range(order.shape[0]):
        q = order[oi]
        L = offsets[q + 1] - offsets[q]
        Lmax = max(Lmax, L)
    WoT, MoT, oc = _transpose_out(Wo, Mo, I, onehot)
    amap, a_rec, runs = _active_index(ha_col, ha_rs, N, I, onehot)
    z = sources(NZ, I)
    u = sources(NZ, I)
    ycur, dy, yo, dyo, net, ek = _step_vectors(N, K)
    g = np.zeros(N)
    Y = np.zeros((Lmax + 1, N))   # Y[s] = y(t0 + s - 1): the recurrent part of z at step s
    DY = np.zeros((Lmax, N))
    G = np.zeros((Lmax, N))
    EK = np.zeros((Lmax, K))
    dnext = np.zeros(N)
    dcur = np.zeros(N)
    dWh = np.zeros(A)
    dWoT = np.zeros((NZ, KO))
    cols = np.empty(NZ, np.int64)     # the columns of dWoT a sequence touched (_apply_out)
    seen = np.full(NZ, -1, np.int64)
    stats = np.zeros(3)

    n_done = 0
    for oi in range(order.shape[0]):
        t0, t1 = start_sequence(order, offsets, oi, z, zr, N, reset_act)
        for r in range(N):
            Y[0, r] = reset_act
        stats[:] = 0.0
        ntgt = 0
        ok = True
        xi = 0
        for t in range(t0, t1):
            s = t - t0
            xi = load_z(z, x_idx, x_real, t, I, onehot, xi)
            logistic_layer(Wh, z, ycur, dy, N, I if onehot else 0, NZ, onehot, xi)
            if visible:
                for k in range(K):
                    yo[k] = ycur[k]
                    dyo[k] = dy[k]
            else:
                if not onehot:
                    for m in range(I):
                        u[m] = z[m]
                for r in range(N):
                    u[zr + r] = ycur[r]
                _out_forward(WoT, oc, u, net, yo, dyo, KO, onehot, xi, fast)
            fl = step_flags[t]
            train = learn and (fl & FLAG_TRAIN) != 0
            if fl & FLAG_JUDGE:
                ntgt += 1
            if not _judge_and_errors(fl, train, yo, clean_targets, legal, targets, t, K, crit,
                                     thr, stats, WoT, dyo, ek, g, I, N, visible):
                ok = False
            if learn:
                if train:
                    for r in range(N):
                        G[s, r] = g[r]
                    for k in range(KO):
                        EK[s, k] = ek[k]
                else:
                    for r in range(N):
                        G[s, r] = 0.0
                    for k in range(KO):
                        EK[s, k] = 0.0
                for r in range(N):
                    DY[s, r] = dy[r]
                    Y[s + 1, r] = ycur[r]
            for r in range(N):
                z[zr + r] = ycur[r]
        if onehot:
            z[xi] = 0.0

        if learn:
            dWh[:] = 0.0
            ncols = _start_cols(cols, seen, oi, oc, NZ, oi == 0, onehot)
            dnext[:] = 0.0
            for t in range(t1 - 1, t0 - 1, -1):
                s = t - t0
                # delta(t) = f'(t) [g(t) + W_rec^T delta(t+1)]
                for r in range(N):
                    acc = G[s, r]
                    for r2 in range(N):
                        acc += Wh[r2, zr + r] * dnext[r2]
                    dcur[r] = DY[s, r] * acc
                # z(t) = [x(t), 1, Y[s]]; u(t) = [x(t), 1, Y[s+1]]
                xi = load_z(z, x_idx, x_real, t, I, onehot, xi)
                for r in range(N):
                    z[zr + r] = Y[s, r]
                finite = True
                for r in range(N):
                    if not dcur[r] - dcur[r] == 0.0:
                        finite = False
                if onehot and finite:
                    # of the input columns only x(t)'s is nonzero (1): the others would add
                    # dcur * 0 = +-0 to a sum that started at +0 and so is never -0 (the same
                    # bits); a non-finite dcur takes the full loop (its NaNs spread alike)
                    for r in range(N):
                        d = dcur[r]
                        ax = amap[r, xi]
                        if ax >= 0:
                            dWh[ax] += d * 1.0
                        for a in range(a_rec[r], ha_rs[r + 1]):
                            dWh[a] += d * z[ha_col[a]]
                else:
                    for a in range(A):
                        dWh[a] += dcur[ha_row[a]] * z[ha_col[a]]
                if KO > 0:
                    for r in range(N):
                        z[zr + r] = Y[s + 1, r]
                    _out_change(dWoT, MoT, oc, z, EK[s], KO, onehot, xi)
                    if onehot:
                        ncols = _touch(cols, ncols, seen, oi, xi)
                for r in range(N):
                    dnext[r] = dcur[r]
            if onehot:
                z[xi] = 0.0
            _add_active(Wh, runs, lr, dWh)
            _apply_out(WoT, dWoT, lr, cols, ncols, KO)
        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if early_exit and not ok:
            break
    if learn:
        _untranspose_out(WoT, Wo)
    return n_done


# --------------------------------------------------------------------------------------------
# the model
# --------------------------------------------------------------------------------------------
class FRNN(KernelModel):
    """A fully recurrent net with weights ``Wh``/``Wo`` learning by ``rule`` ("rtrl" or "bptt").

    Same Python interface as :class:`lstmrun.engine.model.LSTM97`. With ``rule="bptt"`` the
    weights change once per sequence whatever ``update_per_step`` says."""

    def __init__(self, arch: FRNNArch, Wh: np.ndarray, Wo: np.ndarray | None, rule: str = "rtrl",
                 reset_act: float = 0.0):
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}")
        if Wo is None:        # the visible net has no separate output weights
            Wo = np.zeros(arch.masks()[1].shape)
        self._set_weights(arch, Wh, Wo, reset_act)
        self.rule = rule
        self._ha = active_list(self.Mh)
        self.ip = np.array([arch.n_in, arch.n_out, arch.n_rec, int(arch.outputs == "visible"), 0,
                            0],
                           dtype=np.int64)

    @property
    def fast_exp(self) -> bool:
        """The separate output layer's logistic with ``fastexp.fexp`` (vector code over the
        outputs; config ``train.exp: fast``) instead of the exact exp (``exactexp.gexp``)."""
        return bool(self.ip[IP_FASTEXP])

    @fast_exp.setter
    def fast_exp(self, on: bool) -> None:
        self.ip[IP_FASTEXP] = int(on)

    @classmethod
    def random(cls, arch: FRNNArch, init_scale: float, rng: np.random.Generator,
               rule: str = "rtrl", reset_act: float = 0.0) -> FRNN:
        """Every connection U[-init_scale, init_scale] (HS97: 0.2 for Exps 1 and 2)."""
        Wh, Wo = cls._draw(arch, init_scale, rng)
        return cls(arch, Wh, Wo, rule=rule, reset_act=reset_act)

    def copy(self) -> FRNN:
        net = FRNN(self.arch, self.Wh.copy(), self.Wo.copy(), self.rule, self.reset_act)
        net.fast_exp = self.fast_exp
        return net

    onehot_slot = IP_ONEHOT

    def _kernel(self, ip, chunk, flags, clean, order, lr, learn, update_per_step, crit, thr,
                early_exit, metrics) -> int:
        hr, hc, hrs = self._ha
        if self.rule == "rtrl":
            return run_rtrl(self.Wh, self.Wo, self.Mo, hr, hc, hrs, ip, self.reset_act,
                            chunk.x_idx, chunk.x_real, chunk.offsets, chunk.targets, flags,
                            chunk.legal, clean, order, lr, learn, update_per_step, crit, thr,
                            early_exit, metrics)
        return run_bptt(self.Wh, self.Wo, self.Mo, hr, hc, hrs, ip, self.reset_act,
                        chunk.x_idx, chunk.x_real, chunk.offsets, chunk.targets, flags,
                        chunk.legal, clean, order, lr, learn, crit, thr, early_exit, metrics)

    def save(self, path) -> None:
        np.savez(path, Wh=self.Wh, Wo=self.Wo, Mh=self.Mh, Mo=self.Mo, rule=self.rule)
