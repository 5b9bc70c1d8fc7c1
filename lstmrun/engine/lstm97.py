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

- centred gate sources (``IP_GCENTER``; a reading for Exp 2c, not a paper's feature): where
  cells and gates read the gates' previous outputs, they read y - 0.5 (``z`` holds the centred
  values, so the partials and changes of eqs. 22-28 use them too); the weights are the same.
- momentum (``IP_MOMENTUM``, factor ``fp[2]``; GSS02 trains with it): every weight change d
  (a step's, or with per-sequence changes the sequence's sum) becomes v = m v + d, W += v, with
  the velocity v of each weight kept across calls in ``vel``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arch import SQ_G2, SQ_IDENTITY, SQ_LOGISTIC, SQ_TANHLIKE
from .kernel_common import EXP_EXACT_VEC, EXP_FAST, logistic, logistic_block, start_sequence
from .judge import (  # noqa: F401  (re-exported: the kernel's codes live in judge.py)
    CRIT_ABS, CRIT_LEGAL, CRIT_NONE, FLAG_JUDGE, FLAG_TRAIN, M_CORRECT, M_MAXABS, M_NTGT, M_SSE,
    M_SUMABS, N_METRICS, finish_metrics, judge_step,
)


# ip (integer parameters) layout
(IP_NIN, IP_NOUT, IP_B, IP_S, IP_OG, IP_G, IP_H, IP_OUT, IP_ONEHOT, IP_REC, IP_OIN, IP_OBIAS,
 IP_CELLS_OFF, IP_FG, IP_LRDECAY, IP_STOP, IP_PEEP, IP_FASTEXP, IP_MOMENTUM, IP_GCENTER) = range(20)
N_IP = 20
# IP_REC values: hidden units read no previous activations / all hidden units / the cells only
REC_NONE, REC_ALL, REC_CELLS = 0, 1, 2
# IP_FG values
FG_NONE, FG_GATE, FG_DECAY = 0, 1, 2


@njit(inline="always", error_model="numpy")
def _weight_changes(w, oT, oTo, gl, xi, I, K, B, S, NZ, NW, NU, ze, onehot, oin, og, obias, fgm,
                    peep, offs):
    """The weight changes of one step (eqs. 22, 26, 28; forget gates §12.1; peepholes §13.1),
    added to the weights (``oT``/``oTo`` = their offsets in ``w``) or to the summed changes.
    Inlined at two call sites, so that the offsets are constants in each copy (``gl`` = lr_t;
    ``offs``: the other offsets in ``w``, see run_sequences)."""
    ohb, oz, oy, os_, oek, oeout, oes, oPin, oPc, oPf, oPinp, oPfp = offs
    C = B * S
    F0 = C + B + (B if og else 0)
    zb = I
    zr = I + 1
    # output units (eq. 22)
    for k in range(K):
        g = gl * w[oek + k]
        rk = oTo + k * NU
        if oin:
            if onehot:
                w[rk + xi] += g
            else:
                for i in range(I):
                    w[rk + i] += g * w[oz + i]
        w[rk + zb] += g * obias
        for c in range(C):
            w[rk + zr + c] += g * w[oy + c]
    # output gates (eq. 22): their sources at this step are z
    if og:
        for j in range(B):
            row = C + B + j
            g = gl * w[oeout + j]
            rr = oT + row * NW
            if onehot:
                w[rr + xi] += g
            else:
                for m in range(I):
                    w[rr + m] += g * w[oz + m]
            w[rr + zb] += g * w[ohb + row]
            for m in range(zr, ze):
                w[rr + m] += g * w[oz + m]
            if peep:
                for v in range(S):
                    w[rr + NZ + j * S + v] += g * w[os_ + j * S + v]
    # input gates (eq. 26) and cell inputs (eq. 28): every column with a partial
    for j in range(B):
        row = C + j
        rr = oT + row * NW
        for v in range(S):
            c = j * S + v
            rc = oT + c * NW
            pi = oPin + c * NZ
            pc = oPc + c * NZ
            gi = gl * w[oes + c]
            for m in range(I):
                w[rr + m] += gi * w[pi + m]
                w[rc + m] += gi * w[pc + m]
            w[rr + zb] += gi * w[pi + zb] * w[ohb + row]
            w[rc + zb] += gi * w[pc + zb] * w[ohb + c]
            for m in range(zr, ze):
                w[rr + m] += gi * w[pi + m]
                w[rc + m] += gi * w[pc + m]
            if peep:
                for v2 in range(S):
                    w[rr + NZ + j * S + v2] += gi * w[oPinp + c * S + v2]
    # forget gates (PROTOCOLS §12.1): like the input gates, with their own partials
    if fgm == FG_GATE:
        for j in range(B):
            row = F0 + j
            rr = oT + row * NW
            for v in range(S):
                c = j * S + v
                pf = oPf + c * NZ
                gi = gl * w[oes + c]
                for m in range(I):
                    w[rr + m] += gi * w[pf + m]
                w[rr + zb] += gi * w[pf + zb] * w[ohb + row]
                for m in range(zr, ze):
                    w[rr + m] += gi * w[pf + m]
                if peep:
                    for v2 in range(S):
                        w[rr + NZ + j * S + v2] += gi * w[oPfp + c * S + v2]


@njit(inline="always", error_model="numpy")
def _partials(w, learn, fgm, peep, onehot, xi, B, S, C, NZ, m0, ze, poffs):
    """The truncated RTRL partials of one step (eqs. 25, 27; forget gates §12.1; peepholes
    §13.1), in place in ``w`` (``poffs``: their offsets and those of the vectors they read, see
    run_sequences). Inlined at two places of the step, whichever comes first in the kernel's
    code (both after the cell update, whose values they read: the same arithmetic)."""
    oyphi, oPin, oPc, oPf, osp, oz, oy, ogc, odgc, oPinp, oPfp = poffs
    if learn and fgm != FG_NONE:
        # PROTOCOLS §12.1: the old partials decay with the forget gate (every column,
        # also the input columns a one-hot step does not touch)
        for j in range(B):
            phi = w[oyphi + j]
            for v in range(S):
                c = j * S + v
                pi = oPin + c * NZ
                pc = oPc + c * NZ
                for m in range(ze):
                    w[pi + m] *= phi
                    w[pc + m] *= phi
                if fgm == FG_GATE:
                    pf = oPf + c * NZ
                    a_f = w[osp + c] * phi * (1.0 - phi)
                    for m in range(ze):
                        w[pf + m] *= phi
                    if onehot:
                        w[pf + xi] += a_f
                    for m in range(m0, ze):
                        w[pf + m] += a_f * w[oz + m]
    if learn:
        for j in range(B):
            yin = w[oy + C + j]
            fin = yin * (1.0 - yin)
            for v in range(S):
                c = j * S + v
                pi = oPin + c * NZ
                pc = oPc + c * NZ
                a_in = w[ogc + c] * fin
                a_c = w[odgc + c] * yin
                if onehot:
                    w[pi + xi] += a_in
                    w[pc + xi] += a_c
                for m in range(m0, ze):
                    w[pi + m] += a_in * w[oz + m]
                    w[pc + m] += a_c * w[oz + m]
    if learn and peep:
        # peephole partials (§13.1): s(t-1) in the role of z_m; they decay with the
        # forget gate like the others (y_phi = fp[0] = 1.0 without forget gates)
        for j in range(B):
            yin = w[oy + C + j]
            fin = yin * (1.0 - yin)
            phi = w[oyphi + j]
            for v in range(S):
                c = j * S + v
                a_in = w[ogc + c] * fin
                for v2 in range(S):
                    w[oPinp + c * S + v2] = (phi * w[oPinp + c * S + v2]
                                             + a_in * w[osp + j * S + v2])
                if fgm == FG_GATE:
                    a_f = w[osp + c] * phi * (1.0 - phi)
                    for v2 in range(S):
                        w[oPfp + c * S + v2] = (phi * w[oPfp + c * S + v2]
                                                + a_f * w[osp + j * S + v2])


@njit(cache=True, error_model="numpy")
def run_sequences(Wh, Wo, hbias, ip, fp, vel, reset_act, x_idx, x_real, offsets, targets,
                  step_flags,
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
    onehot, recurrent (REC_*), input->output, output bias, blocks off (how many of the last blocks
    are not yet part of the net: their cells output 0 and learn nothing -- HS97's sequential
    construction, §4 remedy 1; all B before the cells join, B - k with k blocks grown), forget
    mode (FG_*), learning-rate decay on/off, stop at the first failing step, peepholes on/off, the
    exp (kernel_common.EXP_*: exact, fast, libm, exact as vector code), momentum on/off, gate outputs
    read centred on/off.
    fp f64 (3,): the constant state decay (FG_DECAY), the per-step learning-rate factor, the
    momentum. vel f64 (H*NW + K*NU,): with momentum, the velocity of every Wh and Wo entry
    (row-major, Wh first), updated in place when learning (length 0 without momentum).
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

    Memory: the weights are copied into one flat buffer ``w`` with the summed changes, partials
    and every per-step vector, at offsets that are constants in a specialised kernel (codegen),
    and copied back at the end of the call. With one base pointer and constant offsets LLVM can
    tell the arrays apart, and its SLP vectoriser (on for these kernels, see codegen) turns the
    unrolled partial and weight-change loops into vector code. The arithmetic is the same
    operations in the same order as the plain loops of the module docstring.
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
    n_on = B - ip[IP_CELLS_OFF]         # blocks 0..n_on-1 on (sequential construction)
    fgm = ip[IP_FG]
    lrdec = ip[IP_LRDECAY] != 0
    stop = ip[IP_STOP] != 0
    peep = ip[IP_PEEP] != 0
    expm = ip[IP_FASTEXP]               # which exp (kernel_common.EXP_*)
    fast = expm == EXP_FAST
    vexp = expm == EXP_EXACT_VEC        # the exact exp's blocks as vector code (AVX-512)
    mom = ip[IP_MOMENTUM] != 0
    gcen = ip[IP_GCENTER] != 0
    mval = fp[2]
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

    # ---- the flat buffer (allocated once per call, not in the time loop): offsets of
    # Wh (H, NW), Wo (K, NU), their summed changes (per-sequence mode), the partials
    # Pin/Pc/Pf (C, NZ) = dS_c / dWh[in_j(c) | c | phi_j(c), :], the peephole partials
    # Pinp/Pfp (C, S) = dS_c / dWh[in_j(c) | phi_j(c), NZ + j*S + v], and the vectors:
    # z = [x(t), 1, y_hidden(t-1)], y = y_hidden(t), sg = the hidden units' f, s, s(t-1) (for
    # the forget and peephole partials), h(s), h'(s), g(net_c), g'(net_c), d_c, e_s_c, y_k, f'_k,
    # e_k, e_out_j, y_out_j, y_phi_j (forget gates, or the constant decay), the output gates' nets
    # before their peephole term (it reads s(t), known only after the CEC update), hbias
    # with the fast exp the logistic loops run over whole 8-lane vectors: the hidden units', the
    # cells' h and the outputs' vectors get padding lanes (computed, never read). Vectors of 4 or
    # fewer are left as they are (2c's 2 cells: padded to 8 they cost 91 instead of 76 ns a step)
    HP = (H + 7) // 8 * 8 if fast and H > 4 else H
    CP = (C + 7) // 8 * 8 if fast and C > 4 else C
    KP = (K + 7) // 8 * 8 if fast and K > 4 else K
    nPf = C if fgm == FG_GATE else 0
    nPp = C if peep else 0
    nPfp = C if (peep and fgm == FG_GATE) else 0
    oWh = 0
    oWo = oWh + H * NW
    odWh = oWo + K * NU
    odWo = odWh + H * NW
    oPin = odWo + K * NU
    oPc = oPin + C * NZ
    oPf = oPc + C * NZ
    oPinp = oPf + nPf * NZ
    oPfp = oPinp + nPp * S
    oz = oPfp + nPfp * S
    oy = oz + NZ
    osg = oy + H
    os_ = osg + HP
    osp = os_ + C
    ohs = osp + C
    odhs = ohs + CP
    ogc = odhs + CP
    odgc = ogc + C
    odc = odgc + C
    oes = odc + C
    oyo = oes + C
    odyo = oyo + KP
    oek = odyo + KP
    oeout = oek + K
    oyout = oeout + B
    oyphi = oyout + B
    onet = oyphi + B
    ohb = onet + B             # hbias
    oWhT = ohb + H             # Wh transposed (NW, H) and Wo transposed (NU, K): the forward
    oWoT = oWhT + NW * H       # pass reads them, so its loops run over the units (vector code)
    ozp = oWoT + NU * K        # z(t) of a deferred weight change (below)
    ovel = ozp + NZ            # momentum: velocities, laid out like Wh then Wo (= vel)
    NV = H * NW + K * NU if mom else 0
    oscr = ovel + NV           # scratch for logistic_block (the exact exp's blocks)
    w = np.zeros(oscr + max(HP, CP, KP))
    for i in range(NV):
        w[ovel + i] = vel[i]
    for h in range(H):
        w[ohb + h] = hbias[h]
    for h in range(H):
        for m in range(NW):
            w[oWh + h * NW + m] = Wh[h, m]
    for k in range(K):
        for m in range(NU):
            w[oWo + k * NU + m] = Wo[k, m]
    w[oz + zb] = 1.0
    for j in range(B):
        w[oyout + j] = 1.0
        w[oyphi + j] = fp[0]
    offs = (ohb, oz, oy, os_, oek, oeout, oes, oPin, oPc, oPf, oPinp, oPfp)
    poffs = (oyphi, oPin, oPc, oPf, osp, oz, oy, ogc, odgc, oPinp, oPfp)
    # With the fast exp and per-sequence changes, a step's change is summed into dW at the
    # next step, right after that step's hidden exps, so that this throughput-bound work fills
    # their latency. It reads the step's errors, cell outputs y_c, states s and partials, which
    # the code before it leaves as they were, and its z, kept in ``ozp``: the same additions in
    # the same order. The last one is summed at the sequence end.
    defer = fast and learn and not update_per_step
    offs_p = (ohb, ozp, oy, os_, oek, oeout, oes, oPin, oPc, oPf, oPinp, oPfp)
    pending = False
    xi_p = 0
    lr_p = lr
    yo = w[oyo:oyo + K]        # a view, for judge_step
    stats = np.zeros(3)        # sse, sum |err|, max |err| of the sequence (judge.judge_step)

    lrt = lr                   # the learning rate of the current step (IP_LRDECAY)
    stale = True               # WhT/WoT must be copied from Wh/Wo (they changed)
    # The forward pass reads the transposed copies (its loops then run over the units: vector
    # code), refreshed after the weights change -- except in large nets whose weights change at
    # most steps (per-step changes, targets at more than 1 step in 8 of this call's sequences),
    # where copying every weight that often costs more than it saves: they read Wh and Wo
    # directly. Each net is summed in column order either way.
    tr = True
    if learn and update_per_step and H * NW + K * NU > 1024:
        ntrain = 0
        nsteps = 0
        for oi in range(order.shape[0]):
            q = order[oi]
            for t in range(offsets[q], offsets[q + 1]):
                nsteps += 1
                if step_flags[t] & FLAG_TRAIN:
                    ntrain += 1
        tr = ntrain * 8 <= nsteps
    n_done = 0
    for oi in range(order.shape[0]):
        t0, t1 = start_sequence(order, offsets, oi, w, oz + zr, H, reset_act)
        if gcen:      # the gates' outputs enter z centred, y - 0.5 (Arch.gate_sources)
            for h in range(C, H):
                w[oz + zr + h] -= 0.5
        for c in range(C):
            w[os_ + c] = 0.0
        if learn:
            for i in range(oPin, oz):          # every partial
                w[i] = 0.0
            if not update_per_step:
                for i in range(odWh, oPin):    # the summed changes
                    w[i] = 0.0
        stats[:] = 0.0
        ntgt = 0
        ok = True

        for t in range(t0, t1):
            xi = 0
            if onehot:
                xi = x_idx[t]
            else:
                for i in range(I):
                    w[oz + i] = x_real[t, i]
            if peep:
                for c in range(C):
                    w[osp + c] = w[os_ + c]
            if stale and tr:
                for h in range(H):
                    for m in range(NW):
                        w[oWhT + m * H + h] = w[oWh + h * NW + m]
                for k in range(K):
                    for m in range(NU):
                        w[oWoT + m * K + k] = w[oWo + k * NU + m]
                stale = False
            # ---- hidden nets (eqs. 7-9) and their logistic f (gates; g and h are built on f).
            # Each net is summed over its sources in column order, as Wh[h] . z would be; the
            # loops run over the units, reading Wh transposed
            if tr:
                for h in range(H):
                    w[osg + h] = w[oWhT + xi * H + h] if onehot else 0.0
                for m in range(m0, ze):
                    zm = w[oz + m]
                    for h in range(H):
                        w[osg + h] += w[oWhT + m * H + h] * zm
            else:
                for h in range(H):
                    rh = oWh + h * NW
                    acc = w[rh + xi] if onehot else 0.0
                    for m in range(m0, ze):
                        acc += w[rh + m] * w[oz + m]
                    w[osg + h] = acc
            if peep:
                # peepholes (§13.1): input/forget gates read s(t-1) now; the output gate's
                # term waits for s(t)
                for h in range(C, H):
                    jb = (h - C) % B
                    if og and h >= C + B and h < C + 2 * B:
                        w[onet + jb] = w[osg + h]
                    else:
                        for v in range(S):
                            w[osg + h] += w[oWh + h * NW + NZ + jb * S + v] * w[os_ + jb * S + v]
            # f on the nets in a loop of its own; a linear g leaves the cell inputs' nets as
            # they are
            # (exact_impl "vector": the block at once, as vector code, kernel_common.logistic_block)
            h0 = C if gcode == SQ_IDENTITY else 0
            if vexp:
                logistic_block(w, osg + h0, HP - h0, expm, oscr)
            else:
                for h in range(h0, HP):
                    w[osg + h] = logistic(w[osg + h], expm)
            if defer and pending:
                _weight_changes(w, odWh, odWo, lr_p, xi_p, I, K, B, S, NZ, NW, NU, ze, onehot,
                                oin, og, obias, fgm, peep, offs_p)
                pending = False
            for j in range(B):
                w[oy + C + j] = w[osg + C + j]
                if og:
                    w[oyout + j] = w[osg + C + B + j]
                    w[oy + C + B + j] = w[oyout + j]
                if fgm == FG_GATE:
                    w[oyphi + j] = w[osg + F0 + j]
                    w[oy + F0 + j] = w[oyphi + j]
            # ---- cells: CEC s(t) = s(t-1) + y_in g(net_c), y_c = y_out h(s)
            #      (forget gate / decay: s(t) = y_phi s(t-1) + y_in g(net_c))
            for j in range(B):
                yin = w[oy + C + j]
                for v in range(S):
                    c = j * S + v
                    f = w[osg + c]
                    if gcode == SQ_G2:
                        w[ogc + c] = 4.0 * f - 2.0
                        w[odgc + c] = 4.0 * f * (1.0 - f)
                    elif gcode == SQ_LOGISTIC:
                        w[ogc + c] = f
                        w[odgc + c] = f * (1.0 - f)
                    elif gcode == SQ_TANHLIKE:
                        w[ogc + c] = 2.0 * f - 1.0
                        w[odgc + c] = 2.0 * f * (1.0 - f)
                    else:
                        w[ogc + c] = f
                        w[odgc + c] = 1.0
                    if fgm == FG_NONE:
                        w[os_ + c] += yin * w[ogc + c]
                    else:
                        w[osp + c] = w[os_ + c]
                        w[os_ + c] = w[oyphi + j] * w[os_ + c] + yin * w[ogc + c]
            if fast:
                # (the fast exp: the partials' vector code here fills the latency of h(s)'s
                # exps below; measured on the Exp 1 net, with the deferred weight change
                # and the padded vectors, 253 -> 226 ns a step. With the C library's exp
                # (25 calls a step) it measured slower: there they come after the output
                # units, as before)
                _partials(w, learn, fgm, peep, onehot, xi, B, S, C, NZ, m0, ze, poffs)
            if peep and og:
                # output gates with their peepholes from the updated states s(t)
                for j in range(B):
                    acc = w[onet + j]
                    rh = oWh + (C + B + j) * NW
                    for v in range(S):
                        acc += w[rh + NZ + j * S + v] * w[os_ + j * S + v]
                    f = logistic(acc, expm)
                    w[osg + C + B + j] = f
                    w[oyout + j] = f
                    w[oy + C + B + j] = f
            if hcode != SQ_IDENTITY and vexp:
                for c in range(CP):
                    w[ohs + c] = w[os_ + c]
                logistic_block(w, ohs, CP, expm, oscr)
            for c in range(C if hcode == SQ_IDENTITY else CP):
                if hcode == SQ_IDENTITY:
                    w[ohs + c] = w[os_ + c]
                    w[odhs + c] = 1.0
                else:
                    if vexp:
                        f = w[ohs + c]
                    else:
                        f = logistic(w[os_ + c], expm)
                    d = f * (1.0 - f)
                    if hcode == SQ_TANHLIKE:
                        w[ohs + c] = 2.0 * f - 1.0
                        w[odhs + c] = 2.0 * d
                    elif hcode == SQ_G2:
                        w[ohs + c] = 4.0 * f - 2.0
                        w[odhs + c] = 4.0 * d
                    else:
                        w[ohs + c] = f
                        w[odhs + c] = d
            for j in range(B):
                cells_on = 1.0 if j < n_on else 0.0
                for v in range(S):
                    c = j * S + v
                    w[oy + c] = w[oyout + j] * w[ohs + c] * cells_on
            if not fast:
                _partials(w, learn, fgm, peep, onehot, xi, B, S, C, NZ, m0, ze, poffs)
            # ---- output units: u = [x(t), 1, y_cells(t)] (only at steps with a target or a
            # judgement: nothing else reads them)
            fl = step_flags[t]
            if fl != 0:
                # summed in column order (bias, inputs, cells), over Wo transposed or Wo
                if tr:
                    for k in range(K):
                        w[oyo + k] = w[oWoT + zb * K + k]
                    if oin:
                        if onehot:
                            for k in range(K):
                                w[oyo + k] += w[oWoT + xi * K + k]
                        else:
                            for i in range(I):
                                zi = w[oz + i]
                                for k in range(K):
                                    w[oyo + k] += w[oWoT + i * K + k] * zi
                    for c in range(C):
                        yc = w[oy + c]
                        for k in range(K):
                            w[oyo + k] += w[oWoT + (zr + c) * K + k] * yc
                else:
                    for k in range(K):
                        rk = oWo + k * NU
                        acc = w[rk + zb]
                        if oin:
                            if onehot:
                                acc += w[rk + xi]
                            else:
                                for i in range(I):
                                    acc += w[rk + i] * w[oz + i]
                        for c in range(C):
                            acc += w[rk + zr + c] * w[oy + c]
                        w[oyo + k] = acc
                if ocode == SQ_LOGISTIC and vexp:
                    logistic_block(w, oyo, KP, expm, oscr)
                for k in range(KP if ocode == SQ_LOGISTIC else K):
                    if ocode == SQ_LOGISTIC:
                        if vexp:
                            f = w[oyo + k]
                        else:
                            f = logistic(w[oyo + k], expm)
                            w[oyo + k] = f
                        w[odyo + k] = f * (1.0 - f)
                    else:
                        w[odyo + k] = 1.0

            if fl & FLAG_JUDGE:
                ntgt += 1
                if not judge_step(yo, clean_targets[t], legal[t], K, crit, thr, stats):
                    ok = False
            if learn and (fl & FLAG_TRAIN):
                # ---- backward pass (eqs. 19-28), using the weights before this step's change
                for k in range(K):
                    w[oek + k] = w[odyo + k] * (targets[t, k] - w[oyo + k])
                for c in range(C):
                    w[odc + c] = 0.0
                for k in range(K):        # d_c = sum_k Wo[k, c] e_k, summed in k order
                    e = w[oek + k]
                    for c in range(C):
                        w[odc + c] += w[oWo + k * NU + zr + c] * e
                for j in range(B):
                    cells_on = 1.0 if j < n_on else 0.0
                    acc = 0.0
                    for v in range(S):
                        c = j * S + v
                        acc += w[ohs + c] * w[odc + c]
                        w[oes + c] = w[oyout + j] * w[odhs + c] * w[odc + c] * cells_on  # eq. 23
                    w[oeout + j] = (w[oyout + j] * (1.0 - w[oyout + j]) * acc
                                    * cells_on)                                       # eq. 21
                if update_per_step and not mom:
                    _weight_changes(w, oWh, oWo, lrt, xi, I, K, B, S, NZ, NW, NU, ze, onehot, oin,
                                    og, obias, fgm, peep, offs)
                    stale = True
                elif defer:
                    pending = True
                    xi_p = xi
                    lr_p = lrt
                    for m in range(NZ):
                        w[ozp + m] = w[oz + m]
                else:
                    _weight_changes(w, odWh, odWo, lrt, xi, I, K, B, S, NZ, NW, NU, ze, onehot,
                                    oin, og, obias, fgm, peep, offs)
                    if update_per_step:
                        # momentum (GSS02): this step's change d goes through the velocity,
                        # v = m v + d, W += v (Wh and Wo, and their d and v, are contiguous)
                        for i in range(NV):
                            v = mval * w[ovel + i] + w[odWh + i]
                            w[ovel + i] = v
                            w[oWh + i] += v
                            w[odWh + i] = 0.0
                        stale = True
            if learn and lrdec:
                lrt *= fp[1]
            # ---- shift activations: y(t) becomes the recurrent part of z
            for h in range(H):
                w[oz + zr + h] = w[oy + h]
            if gcen:
                for h in range(C, H):
                    w[oz + zr + h] -= 0.5
            if stop and not ok:
                break

        if defer and pending:
            _weight_changes(w, odWh, odWo, lr_p, xi_p, I, K, B, S, NZ, NW, NU, ze, onehot,
                            oin, og, obias, fgm, peep, offs_p)
            pending = False
        if learn and not update_per_step:
            if mom:
                for i in range(NV):
                    v = mval * w[ovel + i] + w[odWh + i]
                    w[ovel + i] = v
                    w[oWh + i] += v
            else:
                for i in range(H * NW):
                    w[oWh + i] += w[odWh + i]
                for i in range(K * NU):
                    w[oWo + i] += w[odWo + i]
            stale = True

        finish_metrics(metrics, oi, stats, ok, ntgt)
        n_done += 1
        if (early_exit or stop) and not ok:
            break
    if learn:
        for h in range(H):
            for m in range(NW):
                Wh[h, m] = w[oWh + h * NW + m]
        for k in range(K):
            for m in range(NU):
                Wo[k, m] = w[oWo + k * NU + m]
        for i in range(NV):
            vel[i] = w[ovel + i]
    return n_done
