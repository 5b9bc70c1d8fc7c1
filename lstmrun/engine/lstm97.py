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

CRIT_LEGAL = 0  # legal next symbols are the most active outputs at every target step (Exp 1, A12)
CRIT_ABS = 1    # |target - output| < thr for every output at every target step (ABS(beta))
CRIT_NONE = 2   # error statistics only

# step_flags bits
FLAG_TRAIN = 1
FLAG_JUDGE = 2

# metrics columns returned per sequence
M_SSE, M_MAXABS, M_CORRECT, M_NTGT, M_SUMABS = 0, 1, 2, 3, 4
N_METRICS = 5

# ip (integer parameters) layout
IP_NIN, IP_NOUT, IP_B, IP_S, IP_OG, IP_G, IP_H, IP_OUT, IP_ONEHOT = range(9)


@njit(cache=True, inline="always")
def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


@njit(cache=True, inline="always")
def _squash(code, x):
    """Return (value, derivative) of a squashing function (A.1 eqs. 3-5)."""
    if code == SQ_IDENTITY:
        return x, 1.0
    f = 1.0 / (1.0 + np.exp(-x))
    d = f * (1.0 - f)
    if code == SQ_LOGISTIC:
        return f, d
    if code == SQ_TANHLIKE:
        return 2.0 * f - 1.0, 2.0 * d
    return 4.0 * f - 2.0, 4.0 * d  # SQ_G2


@njit(cache=True, error_model="numpy")
def run_sequences(Wh, Wo, Mh, Mo, ip, reset_act, x_idx, x_real, offsets, targets, step_flags,
                  legal, clean_targets, order, lr, learn, update_per_step, crit, thr, early_exit,
                  metrics):
    """Run sequences ``order[0], order[1], ...`` of a chunk; learn on-line if ``learn``.

    Wh (H, I+1+H), Wo (K, I+1+C) float64: weights, changed in place when learning.
    Mh, Mo: 0/1 masks of the same shapes (masked weights never change).
    ip int64 (9,): n_in, n_out, blocks, cells/block, output_gate, g code, h code, output code, onehot.
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
    C = B * S
    H = C + B + (B if og else 0)
    NZ = I + 1 + H
    NU = I + 1 + C
    zb = I            # bias column
    zr = I + 1        # first recurrent column

    # scratch, allocated once per call (not in the time loop)
    yprev = np.empty(H)
    ycur = np.empty(H)
    net = np.empty(H)
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
    Pin = np.zeros((C, NZ))    # dS_c / dWh[in_j(c), :]
    Pc = np.zeros((C, NZ))     # dS_c / dWh[c, :]
    dWh = np.zeros((H, NZ))    # summed changes (per-sequence mode)
    dWo = np.zeros((K, NU))
    xin = np.zeros(max(I, 1))  # real-valued input of the step

    n_done = 0
    for oi in range(order.shape[0]):
        q = order[oi]
        t0 = offsets[q]
        t1 = offsets[q + 1]
        for h in range(H):
            yprev[h] = reset_act
        for c in range(C):
            s[c] = 0.0
        if learn:
            Pin[:, :] = 0.0
            Pc[:, :] = 0.0
            if not update_per_step:
                dWh[:, :] = 0.0
                dWo[:, :] = 0.0
        sse = 0.0
        sumabs = 0.0
        maxabs = 0.0
        ntgt = 0
        ok = True

        for t in range(t0, t1):
            xi = -1
            if onehot:
                xi = x_idx[t]
            else:
                for i in range(I):
                    xin[i] = x_real[t, i]
            # ---- hidden nets (eqs. 7-9): z = [x(t), 1, y(t-1)]
            for h in range(H):
                if onehot:
                    acc = Wh[h, xi]
                else:
                    acc = 0.0
                    for i in range(I):
                        acc += Wh[h, i] * xin[i]
                acc += Wh[h, zb]
                for r in range(H):
                    acc += Wh[h, zr + r] * yprev[r]
                net[h] = acc
            # ---- gates
            for j in range(B):
                ycur[C + j] = _sig(net[C + j])
                if og:
                    ycur[C + B + j] = _sig(net[C + B + j])
            # ---- cells: CEC and cell output
            for c in range(C):
                j = c // S
                yin = ycur[C + j]
                yout = ycur[C + B + j] if og else 1.0
                gv, gd = _squash(gcode, net[c])
                gc[c] = gv
                dgc[c] = gd
                s[c] += yin * gv
                hv, hd = _squash(hcode, s[c])
                hs[c] = hv
                dhs[c] = hd
                ycur[c] = yout * hv
            # ---- truncated RTRL partials (eqs. 25, 27), every step
            if learn:
                for c in range(C):
                    j = c // S
                    yin = ycur[C + j]
                    a_in = gc[c] * yin * (1.0 - yin)
                    a_c = dgc[c] * yin
                    if onehot:
                        Pin[c, xi] += a_in
                        Pc[c, xi] += a_c
                    else:
                        for i in range(I):
                            Pin[c, i] += a_in * xin[i]
                            Pc[c, i] += a_c * xin[i]
                    Pin[c, zb] += a_in
                    Pc[c, zb] += a_c
                    for r in range(H):
                        Pin[c, zr + r] += a_in * yprev[r]
                        Pc[c, zr + r] += a_c * yprev[r]
            # ---- output units: u = [x(t), 1, y_cells(t)]
            for k in range(K):
                if onehot:
                    acc = Wo[k, xi]
                else:
                    acc = 0.0
                    for i in range(I):
                        acc += Wo[k, i] * xin[i]
                acc += Wo[k, zb]
                for c in range(C):
                    acc += Wo[k, zr + c] * ycur[c]
                if ocode == SQ_LOGISTIC:
                    v = _sig(acc)
                    yo[k] = v
                    dyo[k] = v * (1.0 - v)
                else:
                    yo[k] = acc
                    dyo[k] = 1.0

            fl = step_flags[t]
            if fl & FLAG_JUDGE:
                ntgt += 1
                # ---- statistics and criterion (against the noise-free target)
                for k in range(K):
                    d = clean_targets[t, k] - yo[k]
                    ad = abs(d)
                    sse += d * d
                    sumabs += ad
                    if ad > maxabs:
                        maxabs = ad
                    if crit == CRIT_ABS and not ad < thr:
                        ok = False
                if crit == CRIT_LEGAL:
                    lg = legal[t]
                    lo = np.inf
                    hi = -np.inf
                    for k in range(K):
                        if (lg >> k) & 1:
                            if yo[k] < lo:
                                lo = yo[k]
                        elif yo[k] > hi:
                            hi = yo[k]
                    if not lo > hi:
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
                    if og:
                        acc = 0.0
                        for v in range(S):
                            c = j * S + v
                            acc += hs[c] * dc[c]
                        yout = ycur[C + B + j]
                        eout[j] = yout * (1.0 - yout) * acc
                    for v in range(S):
                        c = j * S + v
                        es[c] = (ycur[C + B + j] if og else 1.0) * dhs[c] * dc[c]
                if update_per_step:
                    Th = Wh
                    To = Wo
                else:
                    Th = dWh
                    To = dWo
                # output units (eq. 22)
                for k in range(K):
                    g = lr * ek[k]
                    if onehot:
                        To[k, xi] += g * Mo[k, xi]
                    else:
                        for i in range(I):
                            To[k, i] += g * xin[i] * Mo[k, i]
                    To[k, zb] += g * Mo[k, zb]
                    for c in range(C):
                        To[k, zr + c] += g * ycur[c] * Mo[k, zr + c]
                # output gates (eq. 22)
                if og:
                    for j in range(B):
                        row = C + B + j
                        g = lr * eout[j]
                        if onehot:
                            Th[row, xi] += g * Mh[row, xi]
                        else:
                            for i in range(I):
                                Th[row, i] += g * xin[i] * Mh[row, i]
                        Th[row, zb] += g * Mh[row, zb]
                        for r in range(H):
                            Th[row, zr + r] += g * yprev[r] * Mh[row, zr + r]
                # input gates (eq. 26) and cell inputs (eq. 28): dense over the partials
                for j in range(B):
                    row = C + j
                    for v in range(S):
                        c = j * S + v
                        gi = lr * es[c]
                        for m in range(NZ):
                            Th[row, m] += gi * Pin[c, m] * Mh[row, m]
                            Th[c, m] += gi * Pc[c, m] * Mh[c, m]
            # ---- shift activations
            for h in range(H):
                yprev[h] = ycur[h]

        if learn and not update_per_step:
            for h in range(H):
                for m in range(NZ):
                    Wh[h, m] += dWh[h, m]
            for k in range(K):
                for m in range(NU):
                    Wo[k, m] += dWo[k, m]

        metrics[oi, M_SSE] = sse
        metrics[oi, M_MAXABS] = maxabs
        metrics[oi, M_CORRECT] = 1.0 if ok else 0.0
        metrics[oi, M_NTGT] = ntgt
        metrics[oi, M_SUMABS] = sumabs
        n_done += 1
        if early_exit and not ok:
            break
    return n_done
