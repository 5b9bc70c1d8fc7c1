"""Full-gradient learning for the LSTM: exact back-propagation through time, no truncation.

HS97 cuts every error that leaves a cell or a gate (PROTOCOLS §9.2): only the CEC carries error
back in time. The authors "tried a few non-truncated runs" and saw no significant difference
(§6; PROTOCOLS §9.2, last item). This kernel computes what the truncation drops: the exact
gradient of the sequence's 1/2 SSE (over the steps with ``FLAG_TRAIN``) with respect to every
weight, back-propagated through the whole sequence (Graves & Schmidhuber 2005 style BPTT) along
every path:

- from the outputs into the cells and output gates (as eq. 21, 23);
- through the CEC, s(t) -> s(t-1), with factor 1 (1997), the forget gate y_phi(t) or the constant
  decay;
- through h, g and all gates into the nets of cells and gates, and from there, through the
  recurrent weights ``Wh[:, I+1:]`` (connectivity "F": cells and gates; "C": cells), into the
  activations of the previous step -- the flows the truncation cuts;
- into the forget gates via s(t-1) (``IP_FG`` = ``FG_GATE``).

Same network, same signature and same metrics as :func:`lstm97.run_sequences` (one-hot and real
inputs, every bias scheme and shortcut, ``ip``/``fp`` layout, step flags, criteria, early exit,
``IP_STOP``, ``IP_CELLS_OFF``, ``IP_LRDECAY``), so every protocol runs unchanged. The forward pass
is the one of ``lstm97`` operation for operation, so the metrics of a sequence and a frozen-weight
run are identical to it.

One sequence at a time: the forward pass stores, for each step, the hidden activations y(t), the
cell states s(t), g, g', h, h' of the cells and the injected output errors; the backward pass runs
from the last step to the first:

    e_k(t)     = lr_t f_k'(net_k) (t_k - y_k)                    (0 where the step has no target)
    ey_c(t)    = sum_k Wo[k, c] e_k(t) + dy_c(t)                  error at the cell output
    ey_out_j   = sum_{c in j} h(s_c) ey_c + dy_out_j(t)
    es_c(t)    = y_out_j h'(s_c) ey_c + y_phi_j(t+1) es_c(t+1)    error at the cell state
    ey_in_j    = sum_{c in j} g(net_c) es_c + dy_in_j(t)
    ey_phi_j   = sum_{c in j} s_c(t-1) es_c + dy_phi_j(t)
    delta_c    = es_c y_in_j g'(net_c);   delta_gate = f'(net_gate) ey_gate
    dWh[h, m] += delta_h(t) z_m(t);  dWo[k, m] += e_k(t) u_m(t)
    dy_u(t-1)  = sum_h Wh[h, I+1+u] delta_h(t)                   the flow the truncation cuts

where dy_u(t) is the error reaching hidden unit u's activation y_u(t) through the recurrent
weights. ``lr_t`` is ``lr`` (times ``fp[1]**k`` with learning-rate decay, as in ``lstm97``):
the change is ``-sum_t lr_t dE_t/dW``, i.e. exactly ``-lr * grad(1/2 SSE)`` without decay.

Weight changes are summed over the sequence and applied at its end; ``update_per_step`` is
ignored. Per-step (real-time) updates do not exist for BPTT: the gradient of an error at step t
is only known once the backward pass from t has run, and by then the weights that produced the
later activations would have changed. For a task whose only target is the last step of each
sequence the two modes are the same, and :class:`lstmrun.engine.model.LSTM97` accepts
``update_per_step`` there; otherwise it refuses (and so does the config, ``train.gradient``).

Scratch: the stored activations are sized for the longest sequence of the call and allocated once
per call; nothing is allocated inside the time loop. Memory per step: (H + 5C + K + 1) float64.
Cost per step about twice the forward pass (the backward pass touches every weight once for the
change and once for the recurrent error).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arch import SQ_G2, SQ_IDENTITY, SQ_LOGISTIC, SQ_TANHLIKE
from .judge import FLAG_JUDGE, FLAG_TRAIN, finish_metrics, judge_step
from .kernel_common import add_into, logistic, momentum_into, sources, start_sequence
from .lstm97 import (
    FG_GATE, FG_NONE, IP_B, IP_CELLS_OFF, IP_FASTEXP, IP_FG, IP_G, IP_H, IP_LRDECAY, IP_MOMENTUM,
    IP_NIN, IP_NOUT, IP_OBIAS, IP_OG, IP_OIN, IP_ONEHOT, IP_OUT, IP_REC, IP_S, IP_STOP, REC_ALL,
    REC_CELLS,
)

GRADIENTS = ("truncated", "full")


def only_final_targets(offsets: np.ndarray, has_target: np.ndarray) -> bool:
    """True when no sequence has a training target before its last step: there the per-step and
    the per-sequence update are the same, with the full gradient as with the truncated one."""
    ends = np.zeros(len(has_target), dtype=bool)
    ends[np.asarray(offsets[1:]) - 1] = True
    return not bool(np.any((np.asarray(has_target) != 0) & ~ends))


@njit(cache=True, error_model="numpy")
def run_sequences(Wh, Wo, hbias, ip, fp, vel, reset_act, x_idx, x_real, offsets, targets,
                  step_flags,
                  legal, clean_targets, order, lr, learn, update_per_step, crit, thr, early_exit,
                  metrics):
    """:func:`lstm97.run_sequences` with the full gradient (BPTT over each whole sequence).

    Arguments, metrics and return value as there. ``update_per_step`` is ignored: the summed
    change of a sequence is applied at its end (see the module docstring); with momentum
    (``IP_MOMENTUM``, ``fp[2]``) through the velocities ``vel`` as there. The exp of
    every logistic is the one ``IP_FASTEXP`` names (exact, fast or libm), as there."""
    I = ip[IP_NIN]
    K = ip[IP_NOUT]
    B = ip[IP_B]
    S = ip[IP_S]
    og = ip[IP_OG] != 0
    gcode = ip[IP_G]
    hcode = ip[IP_H]
    ocode = ip[IP_OUT]
    onehot = ip[IP_ONEHOT] != 0
    recm = ip[IP_REC]
    oin = ip[IP_OIN] != 0
    obias = 1.0 if ip[IP_OBIAS] != 0 else 0.0
    n_on = B - ip[IP_CELLS_OFF]         # blocks 0..n_on-1 on (sequential construction)
    fgm = ip[IP_FG]
    lrdec = ip[IP_LRDECAY] != 0
    stop = ip[IP_STOP] != 0
    expm = ip[IP_FASTEXP]               # which exp (kernel_common.EXP_*)
    mom = ip[IP_MOMENTUM] != 0
    mval = fp[2]
    C = B * S
    O0 = C + B                           # first output gate
    F0 = C + B + (B if og else 0)        # first forget gate (FG_GATE)
    H = F0 + (B if fgm == FG_GATE else 0)
    NZ = I + 1 + H
    NU = I + 1 + C
    zb = I            # bias column
    zr = I + 1        # first recurrent column
    ze = NZ if recm == REC_ALL else (zr + C if recm == REC_CELLS else zr)
    NR = ze - zr      # recurrent sources (hidden units read at t-1)
    m0 = zb if onehot else 0

    # the longest sequence of the call sizes the stored activations
    Lmax = 1
    for oi in range(order.shape[0]):
        q = order[oi]
        L = offsets[q + 1] - offsets[q]
        if L > Lmax:
            Lmax = L

    # scratch, allocated once per call (not in the time loop)
    z = sources(NZ, zb)        # [x(t), 1, y_hidden(t-1)]
    ycur = np.empty(H)
    sg = np.empty(H)
    s = np.empty(C)
    yo = np.empty(K)
    dyo = np.empty(K)
    yout = np.ones(B)
    yphi = np.empty(B)
    for j in range(B):
        yphi[j] = fp[0]
    # per step tau of the sequence: Ys[tau] = y_hidden(tau-1) (Ys[0] = the reset activations),
    # Ss[tau] = s(tau-1) (Ss[0] = 0), the cells' g, g', h, h' and the injected output errors
    Ys = np.empty((Lmax + 1, H))
    Ss = np.empty((Lmax + 1, C))
    Gs = np.empty((Lmax, C))
    DGs = np.empty((Lmax, C))
    Hs = np.empty((Lmax, C))
    DHs = np.empty((Lmax, C))
    Es = np.zeros((Lmax, K))
    Tr = np.zeros(Lmax, dtype=np.uint8)
    # backward pass
    dY = np.zeros(H)           # error at y_hidden(tau) arriving through the recurrent weights
    dS = np.zeros(C)           # error at s(tau) arriving from s(tau+1)
    eyc = np.empty(C)
    delta = np.empty(H)        # error at the nets of cells and gates
    dWh = np.zeros((H, NZ))
    dWo = np.zeros((K, NU))
    stats = np.zeros(3)

    lrt = lr
    n_done = 0
    for oi in range(order.shape[0]):
        t0, t1 = start_sequence(order, offsets, oi, z, zr, H, reset_act)
        for h in range(H):
            Ys[0, h] = reset_act
        for c in range(C):
            s[c] = 0.0
            Ss[0, c] = 0.0
        stats[:] = 0.0
        ntgt = 0
        ok = True
        any_train = False
        L = 0

        # ================= forward pass (lstm97's, storing what the backward pass needs)
        for t in range(t0, t1):
            tau = t - t0
            xi = 0
            if onehot:
                xi = x_idx[t]
            else:
                for i in range(I):
                    z[i] = x_real[t, i]
            for h in range(H):
                acc = Wh[h, xi] if onehot else 0.0
                for m in range(m0, ze):
                    acc += Wh[h, m] * z[m]
                if gcode == SQ_IDENTITY and h < C:
                    sg[h] = acc
                else:
                    sg[h] = logistic(acc, expm)
            for j in range(B):
                ycur[C + j] = sg[C + j]
                if og:
                    yout[j] = sg[O0 + j]
                    ycur[O0 + j] = yout[j]
                if fgm == FG_GATE:
                    yphi[j] = sg[F0 + j]
                    ycur[F0 + j] = yphi[j]
            for j in range(B):
                yin = ycur[C + j]
                for v in range(S):
                    c = j * S + v
                    f = sg[c]
                    if gcode == SQ_G2:
                        gcv = 4.0 * f - 2.0
                        dgv = 4.0 * f * (1.0 - f)
                    elif gcode == SQ_LOGISTIC:
                        gcv = f
                        dgv = f * (1.0 - f)
                    elif gcode == SQ_TANHLIKE:
                        gcv = 2.0 * f - 1.0
                        dgv = 2.0 * f * (1.0 - f)
                    else:
                        gcv = f
                        dgv = 1.0
                    Gs[tau, c] = gcv
                    DGs[tau, c] = dgv
                    if fgm == FG_NONE:
                        s[c] += yin * gcv
                    else:
                        s[c] = yphi[j] * s[c] + yin * gcv
                    Ss[tau + 1, c] = s[c]
            for c in range(C):
                if hcode == SQ_IDENTITY:
                    hv = s[c]
                    dhv = 1.0
                else:
                    f = logistic(s[c], expm)
                    d = f * (1.0 - f)
                    if hcode == SQ_TANHLIKE:
                        hv = 2.0 * f - 1.0
                        dhv = 2.0 * d
                    elif hcode == SQ_G2:
                        hv = 4.0 * f - 2.0
                        dhv = 4.0 * d
                    else:
                        hv = f
                        dhv = d
                Hs[tau, c] = hv
                DHs[tau, c] = dhv
            for j in range(B):
                cells_on = 1.0 if j < n_on else 0.0
                for v in range(S):
                    c = j * S + v
                    ycur[c] = yout[j] * Hs[tau, c] * cells_on
            # output units: u = [x(t), 1, y_cells(t)]
            for k in range(K):
                acc = Wo[k, zb]
                if oin:
                    if onehot:
                        acc += Wo[k, xi]
                    else:
                        for i in range(I):
                            acc += Wo[k, i] * z[i]
                for c in range(C):
                    acc += Wo[k, zr + c] * ycur[c]
                if ocode == SQ_LOGISTIC:
                    f = logistic(acc, expm)
                    yo[k] = f
                    dyo[k] = f * (1.0 - f)
                else:
                    yo[k] = acc
                    dyo[k] = 1.0

            fl = step_flags[t]
            if fl & FLAG_JUDGE:
                ntgt += 1
                if not judge_step(yo, clean_targets[t], legal[t], K, crit, thr, stats):
                    ok = False
            if learn:
                if fl & FLAG_TRAIN:
                    Tr[tau] = 1
                    any_train = True
                    for k in range(K):
                        Es[tau, k] = lrt * dyo[k] * (targets[t, k] - yo[k])    # eq. 19 x lr_t
                else:
                    Tr[tau] = 0
                if lrdec:
                    lrt *= fp[1]
            for h in range(H):
                z[zr + h] = ycur[h]
                Ys[tau + 1, h] = ycur[h]
            L = tau + 1
            if stop and not ok:
                break

        # ================= backward pass through the whole sequence (steps 0 .. L-1)
        if learn and any_train:
            dWh[:, :] = 0.0
            dWo[:, :] = 0.0
            dY[:] = 0.0
            dS[:] = 0.0
            for tau in range(L - 1, -1, -1):
                t = t0 + tau
                xi = 0
                if onehot:
                    xi = x_idx[t]
                # error at the cell outputs: from the outputs (same step) and the next step
                for c in range(C):
                    eyc[c] = dY[c]
                if Tr[tau] != 0:
                    for k in range(K):
                        g = Es[tau, k]
                        if oin:
                            if onehot:
                                dWo[k, xi] += g
                            else:
                                for i in range(I):
                                    dWo[k, i] += g * x_real[t, i]
                        dWo[k, zb] += g * obias
                        for c in range(C):
                            yc = Ys[tau + 1, c]
                            dWo[k, zr + c] += g * yc
                            eyc[c] += Wo[k, zr + c] * g
                # blocks: cell states, cell inputs, gates
                for j in range(B):
                    cells_on = 1.0 if j < n_on else 0.0
                    yin = Ys[tau + 1, C + j]
                    yo_j = Ys[tau + 1, O0 + j] if og else 1.0
                    if fgm == FG_GATE:
                        phi = Ys[tau + 1, F0 + j]
                    elif fgm == FG_NONE:
                        phi = 1.0
                    else:
                        phi = fp[0]
                    a_out = 0.0
                    a_in = 0.0
                    a_phi = 0.0
                    for v in range(S):
                        c = j * S + v
                        a_out += Hs[tau, c] * eyc[c]
                        es = eyc[c] * yo_j * DHs[tau, c] * cells_on + dS[c]
                        a_in += es * Gs[tau, c]
                        delta[c] = es * yin * DGs[tau, c]
                        if fgm == FG_GATE:
                            a_phi += es * Ss[tau, c]
                        dS[c] = es * phi
                    delta[C + j] = yin * (1.0 - yin) * (a_in + dY[C + j])
                    if og:
                        delta[O0 + j] = yo_j * (1.0 - yo_j) * (a_out * cells_on + dY[O0 + j])
                    if fgm == FG_GATE:
                        delta[F0 + j] = phi * (1.0 - phi) * (a_phi + dY[F0 + j])
                # weight changes of cells and gates: their sources z(tau) = [x, 1, y(tau-1)]
                for h in range(H):
                    d = delta[h]
                    if onehot:
                        dWh[h, xi] += d
                    else:
                        for i in range(I):
                            dWh[h, i] += d * x_real[t, i]
                    dWh[h, zb] += d * hbias[h]
                    for m in range(zr, ze):
                        dWh[h, m] += d * Ys[tau, m - zr]
                # the flow the truncation cuts: into y(tau-1) through the recurrent weights
                for u in range(NR):
                    acc = 0.0
                    for h in range(H):
                        acc += Wh[h, zr + u] * delta[h]
                    dY[u] = acc
            if not mom:
                add_into(Wh, dWh)
                add_into(Wo, dWo)
        if learn and mom:
            # GSS02's momentum on the sequence's change, as lstm97 applies it: after every
            # sequence, also one without a training step (its change is 0, v decays)
            if not any_train:
                dWh[:, :] = 0.0
                dWo[:, :] = 0.0
            momentum_into(Wh, dWh, vel, 0, mval)
            momentum_into(Wo, dWo, vel, H * NZ, mval)

        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if (early_exit or stop) and not ok:
            break
    return n_done
