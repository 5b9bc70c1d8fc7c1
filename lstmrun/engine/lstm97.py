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

Later variants, switched by ``ip`` (the 1997 path is unchanged without them; codegen removes the
switches from a specialised kernel):

- forget gates (``IP_FG`` = 1; GSC00 §3, PROTOCOLS §12.1): a gate phi_j per block, hidden units
  after the output gates, ``s_c(t) = y_phi_j s_c(t-1) + y_in_j g(net_c)``. Every partial decays
  with the gate, and the forget-gate weights get partials of their own:

    dS_c/dWh[in_j|c, m] = y_phi_j dS_c/dWh[in_j|c, m] + (eq. 25 | eq. 27 term)
    dS_c/dWh[phi_j, m]  = y_phi_j dS_c/dWh[phi_j, m] + s_c(t-1) f'(net_phi_j) z_m
    dWh[phi_j, m]       = lr sum_{c in j} e_s_c dS_c/dWh[phi_j, m]

- a constant state decay (``IP_FG`` = 2, factor ``fp[0]``): the same with y_phi_j = fp[0] and no
  gate units (GSC00 Table 2, "state decay 0.9"); ``fp[0]`` = 1.0 is the 1997 CEC exactly;
- learning-rate decay (``IP_LRDECAY``): the rate used at a step is ``lr * fp[1]**k``, k = steps
  since the start of the call (GSC00's "sequential alpha decay", reset with every training stream:
  one stream per call);
- stop at the first error (``IP_STOP``, set per call): the sequence ends right after the first
  judged step that fails the criterion (its weight change still applied), and the call ends with
  it (GSC00's continual streams run until the first wrong prediction, §12.2).
- peephole connections (``IP_PEEP``; Gers & Schmidhuber 2000, GSS02 §3, PROTOCOLS §13.1): ``Wh``
  has C more columns, ``Wh[gate, NZ + c]`` (NZ = I+1+H) the weight from cell c's state to a gate
  of c's own block. Input and forget gates read s(t-1), the output gate the updated s(t):

    net_in_j(t)  += sum_{c in j} Wh[in_j, NZ+c] s_c(t-1)        (forget gate alike)
    net_out_j(t) += sum_{c in j} Wh[out_j, NZ+c] s_c(t)          (after the CEC update)

  Learned like the gates' other inputs, with s in the role of z_m; no error flows back through a
  peephole into the CEC (the partials of the other weights are unchanged):

    dS_c/dWh[in_j, NZ+c']  = y_phi_j dS_c/dWh[in_j, NZ+c'] + g(net_c) f'(net_in_j) s_c'(t-1)
    dS_c/dWh[phi_j, NZ+c'] = y_phi_j dS_c/dWh[phi_j, NZ+c'] + s_c(t-1) f'(net_phi_j) s_c'(t-1)
    dWh[out_j, NZ+c']      = lr e_out_j s_c'(t)
    dWh[in_j|phi_j, NZ+c'] = lr sum_{c in j} e_s_c dS_c/dWh[in_j|phi_j, NZ+c']

  (y_phi_j = 1 without forget gates.)
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
 IP_CELLS_OFF, IP_FG, IP_LRDECAY, IP_STOP, IP_PEEP) = range(17)
N_IP = 17
# IP_REC values: hidden units read no previous activations / all hidden units / the cells only
REC_NONE, REC_ALL, REC_CELLS = 0, 1, 2
# IP_FG values
FG_NONE, FG_GATE, FG_DECAY = 0, 1, 2


@njit(cache=True, error_model="numpy")
def run_sequences(Wh, Wo, hbias, ip, fp, reset_act, x_idx, x_real, offsets, targets, step_flags,
                  legal, clean_targets, order, lr, learn, update_per_step, crit, thr, early_exit,
                  metrics):
    """Run sequences ``order[0], order[1], ...`` of a chunk; learn on-line if ``learn``.

    Wh (H, I+1+H) (I+1+H+C with peepholes), Wo (K, I+1+C) float64: weights, changed in place
    when learning.
    hbias f64 (H,): 1.0 where a hidden unit has a bias weight, else 0.0. The rest of the wiring is
    given by ``ip``: whether cells and gates read the previous hidden activations (connectivity "F")
    and whether output units read the inputs and a bias (see ``arch.Arch.masks``). Weights that are
    not connections must be zero; they stay zero.
    ip int64 (N_IP,): n_in, n_out, blocks, cells/block, output_gate, g code, h code, output code,
    onehot, recurrent (REC_*), input->output, output bias, cells off (the memory cells are not yet
    part of the net: their outputs are 0 and their weights do not learn -- the first phase of
    HS97's sequential construction, §4 remedy 1), forget mode (FG_*), learning-rate decay on/off,
    stop at the first failing step, peepholes on/off.
    fp f64 (2,): the constant state decay (FG_DECAY), the per-step learning-rate factor.
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
    recm = ip[IP_REC]
    oin = ip[IP_OIN] != 0
    obias = 1.0 if ip[IP_OBIAS] != 0 else 0.0
    cells_on = 0.0 if ip[IP_CELLS_OFF] != 0 else 1.0
    fgm = ip[IP_FG]
    lrdec = ip[IP_LRDECAY] != 0
    stop = ip[IP_STOP] != 0
    peep = ip[IP_PEEP] != 0
    C = B * S
    F0 = C + B + (B if og else 0)        # first forget gate (FG_GATE)
    H = F0 + (B if fgm == FG_GATE else 0)
    NZ = I + 1 + H
    NW = NZ + (C if peep else 0)         # columns of Wh: the peepholes after z's (IP_PEEP)
    NU = I + 1 + C
    zb = I            # bias column
    zr = I + 1        # first recurrent column
    # end of the columns a hidden unit reads (after the bias)
    ze = NZ if recm == REC_ALL else (zr + C if recm == REC_CELLS else zr)
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
    Pf = np.zeros((C if fgm == FG_GATE else 0, NZ))   # dS_c / dWh[phi_j(c), :]
    yphi = np.empty(B)         # forget gate activations (or the constant decay)
    sprev = np.empty(C)        # s(t-1), for the forget partials
    for j in range(B):
        yphi[j] = fp[0]
    # peepholes: dS_c / dWh[in_j(c) | phi_j(c), NZ + j*S + v], and the output gates' nets
    # before their peephole term (it reads s(t), known only after the CEC update)
    Pinp = np.zeros((C if peep else 0, S))
    Pfp = np.zeros((C if (peep and fgm == FG_GATE) else 0, S))
    onet = np.empty(B)
    dWh = np.zeros((H, NW))    # summed changes (per-sequence mode)
    dWo = np.zeros((K, NU))
    stats = np.zeros(3)        # sse, sum |err|, max |err| of the sequence (judge.judge_step)

    lrt = lr                   # the learning rate of the current step (IP_LRDECAY)
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
            if fgm == FG_GATE:
                Pf[:, :] = 0.0
            if peep:
                Pinp[:, :] = 0.0
                Pfp[:, :] = 0.0
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
            if peep:
                for c in range(C):
                    sprev[c] = s[c]
            # ---- hidden nets (eqs. 7-9) and their logistic f (gates; g and h are built on f)
            for h in range(H):
                acc = Wh[h, xi] if onehot else 0.0
                for m in range(m0, ze):
                    acc += Wh[h, m] * z[m]
                if peep and h >= C:
                    # peepholes (§13.1): input/forget gates read s(t-1) now; the output gate's
                    # term waits for s(t)
                    jb = (h - C) % B
                    if og and h >= C + B and h < C + 2 * B:
                        onet[jb] = acc
                    else:
                        for v in range(S):
                            acc += Wh[h, NZ + jb * S + v] * s[jb * S + v]
                if gcode == SQ_IDENTITY and h < C:
                    sg[h] = acc
                else:
                    sg[h] = 1.0 / (1.0 + np.exp(-acc))
            for j in range(B):
                ycur[C + j] = sg[C + j]
                if og:
                    yout[j] = sg[C + B + j]
                    ycur[C + B + j] = yout[j]
                if fgm == FG_GATE:
                    yphi[j] = sg[F0 + j]
                    ycur[F0 + j] = yphi[j]
            # ---- cells: CEC s(t) = s(t-1) + y_in g(net_c), y_c = y_out h(s)
            #      (forget gate / decay: s(t) = y_phi s(t-1) + y_in g(net_c))
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
                    if fgm == FG_NONE:
                        s[c] += yin * gc[c]
                    else:
                        sprev[c] = s[c]
                        s[c] = yphi[j] * s[c] + yin * gc[c]
            if peep and og:
                # output gates with their peepholes from the updated states s(t)
                for j in range(B):
                    acc = onet[j]
                    for v in range(S):
                        acc += Wh[C + B + j, NZ + j * S + v] * s[j * S + v]
                    f = 1.0 / (1.0 + np.exp(-acc))
                    sg[C + B + j] = f
                    yout[j] = f
                    ycur[C + B + j] = f
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
            if learn and fgm != FG_NONE:
                # PROTOCOLS §12.1: the old partials decay with the forget gate (every column,
                # also the input columns a one-hot step does not touch)
                for j in range(B):
                    phi = yphi[j]
                    for v in range(S):
                        c = j * S + v
                        for m in range(ze):
                            Pin[c, m] *= phi
                            Pc[c, m] *= phi
                        if fgm == FG_GATE:
                            a_f = sprev[c] * phi * (1.0 - phi)
                            for m in range(ze):
                                Pf[c, m] *= phi
                            if onehot:
                                Pf[c, xi] += a_f
                            for m in range(m0, ze):
                                Pf[c, m] += a_f * z[m]
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
            if learn and peep:
                # peephole partials (§13.1): s(t-1) in the role of z_m; they decay with the
                # forget gate like the others (y_phi = fp[0] = 1.0 without forget gates)
                for j in range(B):
                    yin = ycur[C + j]
                    fin = yin * (1.0 - yin)
                    phi = yphi[j]
                    for v in range(S):
                        c = j * S + v
                        a_in = gc[c] * fin
                        for v2 in range(S):
                            Pinp[c, v2] = phi * Pinp[c, v2] + a_in * sprev[j * S + v2]
                        if fgm == FG_GATE:
                            a_f = sprev[c] * phi * (1.0 - phi)
                            for v2 in range(S):
                                Pfp[c, v2] = phi * Pfp[c, v2] + a_f * sprev[j * S + v2]
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
                    g = lrt * ek[k]
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
                        g = lrt * eout[j]
                        if onehot:
                            Th[row, xi] += g
                        else:
                            for m in range(I):
                                Th[row, m] += g * z[m]
                        Th[row, zb] += g * hbias[row]
                        for m in range(zr, ze):
                            Th[row, m] += g * z[m]
                        if peep:
                            for v in range(S):
                                Th[row, NZ + j * S + v] += g * s[j * S + v]
                # input gates (eq. 26) and cell inputs (eq. 28): every column with a partial
                for j in range(B):
                    row = C + j
                    for v in range(S):
                        c = j * S + v
                        gi = lrt * es[c]
                        for m in range(I):
                            Th[row, m] += gi * Pin[c, m]
                            Th[c, m] += gi * Pc[c, m]
                        Th[row, zb] += gi * Pin[c, zb] * hbias[row]
                        Th[c, zb] += gi * Pc[c, zb] * hbias[c]
                        for m in range(zr, ze):
                            Th[row, m] += gi * Pin[c, m]
                            Th[c, m] += gi * Pc[c, m]
                        if peep:
                            for v2 in range(S):
                                Th[row, NZ + j * S + v2] += gi * Pinp[c, v2]
                # forget gates (PROTOCOLS §12.1): like the input gates, with their own partials
                if fgm == FG_GATE:
                    for j in range(B):
                        row = F0 + j
                        for v in range(S):
                            c = j * S + v
                            gi = lrt * es[c]
                            for m in range(I):
                                Th[row, m] += gi * Pf[c, m]
                            Th[row, zb] += gi * Pf[c, zb] * hbias[row]
                            for m in range(zr, ze):
                                Th[row, m] += gi * Pf[c, m]
                            if peep:
                                for v2 in range(S):
                                    Th[row, NZ + j * S + v2] += gi * Pfp[c, v2]
            if learn and lrdec:
                lrt *= fp[1]
            # ---- shift activations: y(t) becomes the recurrent part of z
            for h in range(H):
                z[zr + h] = ycur[h]
            if stop and not ok:
                break

        if learn and not update_per_step:
            for h in range(H):
                for m in range(NW):
                    Wh[h, m] += dWh[h, m]
            for k in range(K):
                for m in range(NU):
                    Wo[k, m] += dWo[k, m]

        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if (early_exit or stop) and not ok:
            break
    return n_done
