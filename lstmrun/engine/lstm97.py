"""The 1997 LSTM and its truncated RTRL-style learning rule (HS97 Appendix A.1/A.2, PROTOCOLS §9).

One jitted kernel, :func:`run_sequences`, runs a batch of sequences through the network, either
learning on-line (``learn=True``) or with frozen weights, and returns per-sequence error
statistics. It is the unit of work of the runner: many sequences per call, no allocation inside the
time loop, one-hot inputs as indices (so a step costs the same for 7 or 1004 input symbols).

Forward pass, one step (A.1 eqs. 3-9, order of HS97 §5 intro: input -> hidden -> output):

    z(t)      = [x(t), 1, y_hidden(t-1)]                        sources of cells and gates
    y_in_j    = f(Wh[in_j] . z)          y_out_j = f(Wh[out_j] . z)   (1 without output gates)
    s_c(t)    = s_c(t-1) + y_in_j * g(Wh[c] . z)                 CEC, self-weight 1.0
    y_c(t)    = y_out_j * h(s_c(t))
    y_k(t)    = f_k(Wo[k] . [x(t), 1, y_cells(t)])

Learning (truncated; A.1 eqs. 19-28). Errors leaving a cell or gate are cut; only the CEC carries
error back in time, through partials dS_c/dw kept for cell-input and input-gate weights:

    e_k       = f_k'(net_k) (t_k - y_k)                                   eq. 19
    d_c       = sum_k Wo[k, c] e_k                                        (error at cell output)
    e_out_j   = f'(net_out_j) sum_{c in j} h(s_c) d_c                     eq. 21
    e_s_c     = y_out_j h'(s_c) d_c                                       eq. 23
    dS_c/dWh[in_j, m] += g(net_c) f'(net_in_j) z_m                        eq. 25
    dS_c/dWh[c, m]    += g'(net_c) y_in_j z_m                             eq. 27
    dWo[k, m]   = lr e_k u_m ;  dWh[out_j, m] = lr e_out_j z_m            eq. 22
    dWh[in_j,m] = lr sum_{c in j} e_s_c dS_c/dWh[in_j, m]                 eq. 26
    dWh[c, m]   = lr e_s_c dS_c/dWh[c, m]                                 eq. 28

``lr`` multiplies the gradient of 1/2 SSE (A15). Weight changes are applied after every step
(``update_per_step``) or summed over the sequence and applied at its end (A3). State, partials
and activations are reset at every sequence start (HS97 §5: to zero; ``reset_act`` allows the JKU
simulator's 0.5 for activations).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arch import SQ_G2, SQ_IDENTITY, SQ_LOGISTIC, SQ_TANHLIKE
from .judge import (  # noqa: F401  (re-exported: the kernel's codes live in judge.py)
    CRIT_ABS, CRIT_LEGAL, CRIT_NONE, FLAG_JUDGE, FLAG_TRAIN, M_CORRECT, M_MAXABS, M_NTGT, M_SSE,
    M_SUMABS, N_METRICS, finish_metrics, judge_step,
)


# ip (integer parameters) layout
(IP_NIN, IP_NOUT, IP_B, IP_S, IP_OG, IP_G, IP_H, IP_OUT, IP_ONEHOT, IP_REC, IP_OIN, IP_OBIAS,
 IP_CELLS_OFF) = range(13)


@njit(cache=True, error_model="numpy")
def run_sequences(Wh, Wo, hbias, ip, reset_act, x_idx, x_real, offsets, targets, step_flags,
                  legal, clean_targets, order, lr, learn, update_per_step, crit, thr, early_exit,
                  metrics):
    """Run sequences ``order[0], order[1], ...`` of a chunk; learn on-line if ``learn``.

    Wh (H, I+1+H), Wo (K, I+1+C) float64: weights, changed in place when learning.
    hbias f64 (H,): 1.0 where a hidden unit has a bias weight, else 0.0. The rest of the wiring is
    given by ``ip``: whether cells and gates read the previous hidden activations (connectivity "F")
    and whether output units read the inputs and a bias (see ``arch.Arch.masks``). Weights that are
    not connections must be zero; they stay zero.
    ip int64 (13,): n_in, n_out, blocks, cells/block, output_gate, g code, h code, output code,
    onehot, recurrent, input->output, output bias, cells off (the memory cells are not yet part of
    the net: their outputs are 0 and their weights do not learn -- the first phase of HS97's
    sequential construction, §4 remedy 1).
    x_idx int32 (T,) / x_real f64 (T, I): inputs (see tasks.base.Chunk); offsets int64 (n+1,).
    targets f64 (T, K); step_flags uint8 (T,): bit 0 (FLAG_TRAIN) = the step carries an error
    signal for learning, bit 1 (FLAG_JUDGE) = the step counts for the statistics and the criterion
    (Exp 2b trains on every step but is judged at the end only); legal int64 (T,);
    clean_targets f64 (T, K): the targets the criterion and statistics use (Exp 3c's noise-free
    targets; pass ``targets`` itself when there is no noise).
    order int64 (m,): which sequences, in which order.
    metrics f64 (m, N_METRICS): filled per processed sequence (SSE, max |err|, correct, #targets,
    sum |err|). Returns how many sequences were processed (fewer than m only if ``early_exit`` and a
    sequence failed the criterion, which is then the last one processed).
    """
    I = ip[IP_NIN]
    K = ip[IP_NOUT]
    B = ip[IP_B]
    S = ip[IP_S]
    og = ip[IP_OG] != 0
    gcode = ip[IP_G]
    hcode = ip[IP_H]
    ocode = ip[IP_OUT]
    onehot = ip[IP_ONEHOT] != 0
    rec = ip[IP_REC] != 0
    oin = ip[IP_OIN] != 0
    obias = 1.0 if ip[IP_OBIAS] != 0 else 0.0
    cells_on = 0.0 if ip[IP_CELLS_OFF] != 0 else 1.0
    C = B * S
    H = C + B + (B if og else 0)
    NZ = I + 1 + H
    NU = I + 1 + C
    zb = I            # bias column
    zr = I + 1        # first recurrent column
    ze = NZ if rec else zr   # end of the columns a hidden unit reads (after the bias)
    # real inputs: the source vector z is walked whole; one-hot: the input part is one column
    m0 = zb if onehot else 0

    # scratch, allocated once per call (not in the time loop)
    z = np.zeros(NZ)           # [x(t), 1, y_hidden(t-1)]
    z[zb] = 1.0
    ycur = np.empty(H)
    sg = np.empty(H)
    s = np.empty(C)
    hs = np.empty(C)
    dhs = np.empty(C)
    gc = np.empty(C)
    dgc = np.empty(C)
    yo = np.empty(K)
    dyo = np.empty(K)
    ek = np.empty(K)
    dc = np.empty(C)
    es = np.empty(C)
    eout = np.empty(B)
    yout = np.ones(B)
    Pin = np.zeros((C, NZ))    # dS_c / dWh[in_j(c), :]
    Pc = np.zeros((C, NZ))     # dS_c / dWh[c, :]
    dWh = np.zeros((H, NZ))    # summed changes (per-sequence mode)
    dWo = np.zeros((K, NU))
    stats = np.zeros(3)        # sse, sum |err|, max |err| of the sequence (judge.judge_step)

    n_done = 0
    for oi in range(order.shape[0]):
        q = order[oi]
        t0 = offsets[q]
        t1 = offsets[q + 1]
        for h in range(H):
            z[zr + h] = reset_act
        for c in range(C):
            s[c] = 0.0
        if learn:
            Pin[:, :] = 0.0
            Pc[:, :] = 0.0
            if not update_per_step:
                dWh[:, :] = 0.0
                dWo[:, :] = 0.0
        stats[:] = 0.0
        ntgt = 0
        ok = True

        for t in range(t0, t1):
            xi = 0
            if onehot:
                xi = x_idx[t]
            else:
                for i in range(I):
                    z[i] = x_real[t, i]
            # ---- hidden nets (eqs. 7-9) and their logistic f (gates; g and h are built on f)
            for h in range(H):
                acc = Wh[h, xi] if onehot else 0.0
                for m in range(m0, ze):
                    acc += Wh[h, m] * z[m]
                if gcode == SQ_IDENTITY and h < C:
                    sg[h] = acc
                else:
                    sg[h] = 1.0 / (1.0 + np.exp(-acc))
            for j in range(B):
                ycur[C + j] = sg[C + j]
                if og:
                    yout[j] = sg[C + B + j]
                    ycur[C + B + j] = yout[j]
            # ---- cells: CEC s(t) = s(t-1) + y_in g(net_c), y_c = y_out h(s)
            for j in range(B):
                yin = ycur[C + j]
                for v in range(S):
                    c = j * S + v
                    f = sg[c]
                    if gcode == SQ_G2:
                        gc[c] = 4.0 * f - 2.0
                        dgc[c] = 4.0 * f * (1.0 - f)
                    elif gcode == SQ_LOGISTIC:
                        gc[c] = f
                        dgc[c] = f * (1.0 - f)
                    elif gcode == SQ_TANHLIKE:
                        gc[c] = 2.0 * f - 1.0
                        dgc[c] = 2.0 * f * (1.0 - f)
                    else:
                        gc[c] = f
                        dgc[c] = 1.0
                    s[c] += yin * gc[c]
            for c in range(C):
                if hcode == SQ_IDENTITY:
                    hs[c] = s[c]
                    dhs[c] = 1.0
                else:
                    f = 1.0 / (1.0 + np.exp(-s[c]))
                    d = f * (1.0 - f)
                    if hcode == SQ_TANHLIKE:
                        hs[c] = 2.0 * f - 1.0
                        dhs[c] = 2.0 * d
                    elif hcode == SQ_G2:
                        hs[c] = 4.0 * f - 2.0
                        dhs[c] = 4.0 * d
                    else:
                        hs[c] = f
                        dhs[c] = d
            for j in range(B):
                for v in range(S):
                    c = j * S + v
                    ycur[c] = yout[j] * hs[c] * cells_on
            # ---- truncated RTRL partials (eqs. 25, 27), every step
            if learn:
                for j in range(B):
                    yin = ycur[C + j]
                    fin = yin * (1.0 - yin)
                    for v in range(S):
                        c = j * S + v
                        a_in = gc[c] * fin
                        a_c = dgc[c] * yin
                        if onehot:
                            Pin[c, xi] += a_in
                            Pc[c, xi] += a_c
                        for m in range(m0, ze):
                            Pin[c, m] += a_in * z[m]
                            Pc[c, m] += a_c * z[m]
            # ---- output units: u = [x(t), 1, y_cells(t)]
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
                    f = 1.0 / (1.0 + np.exp(-acc))
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
            if learn and (fl & FLAG_TRAIN):
                # ---- backward pass (eqs. 19-28), using the weights before this step's change
                for k in range(K):
                    ek[k] = dyo[k] * (targets[t, k] - yo[k])
                for c in range(C):
                    acc = 0.0
                    for k in range(K):
                        acc += Wo[k, zr + c] * ek[k]
                    dc[c] = acc
                for j in range(B):
                    acc = 0.0
                    for v in range(S):
                        c = j * S + v
                        acc += hs[c] * dc[c]
                        es[c] = yout[j] * dhs[c] * dc[c] * cells_on          # eq. 23
                    eout[j] = yout[j] * (1.0 - yout[j]) * acc * cells_on      # eq. 21
                if update_per_step:
                    Th = Wh
                    To = Wo
                else:
                    Th = dWh
                    To = dWo
                # output units (eq. 22)
                for k in range(K):
                    g = lr * ek[k]
                    if oin:
                        if onehot:
                            To[k, xi] += g
                        else:
                            for i in range(I):
                                To[k, i] += g * z[i]
                    To[k, zb] += g * obias
                    for c in range(C):
                        To[k, zr + c] += g * ycur[c]
                # output gates (eq. 22): their sources at this step are z
                if og:
                    for j in range(B):
                        row = C + B + j
                        g = lr * eout[j]
                        if onehot:
                            Th[row, xi] += g
                        else:
                            for m in range(I):
                                Th[row, m] += g * z[m]
                        Th[row, zb] += g * hbias[row]
                        for m in range(zr, ze):
                            Th[row, m] += g * z[m]
                # input gates (eq. 26) and cell inputs (eq. 28): every column with a partial
                for j in range(B):
                    row = C + j
                    for v in range(S):
                        c = j * S + v
                        gi = lr * es[c]
                        for m in range(I):
                            Th[row, m] += gi * Pin[c, m]
                            Th[c, m] += gi * Pc[c, m]
                        Th[row, zb] += gi * Pin[c, zb] * hbias[row]
                        Th[c, zb] += gi * Pc[c, zb] * hbias[c]
                        for m in range(zr, ze):
                            Th[row, m] += gi * Pin[c, m]
                            Th[c, m] += gi * Pc[c, m]
            # ---- shift activations: y(t) becomes the recurrent part of z
            for h in range(H):
                z[zr + h] = ycur[h]

        if learn and not update_per_step:
            for h in range(H):
                for m in range(NZ):
                    Wh[h, m] += dWh[h, m]
            for k in range(K):
                for m in range(NU):
                    Wo[k, m] += dWo[k, m]

        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if early_exit and not ok:
            break
    return n_done
