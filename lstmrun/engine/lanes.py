"""Many trials per kernel call: the 1997 LSTM of :mod:`lstm97` trained on NL nets in lockstep.

The paper's rows run 10-30 independent trials of one architecture. :func:`run_lanes` trains up to
NL of them at once (NL = ``ip[IP_LANES]``, the CPU's vector width in doubles: 4 with AVX2, 8 with
AVX-512): every weight, state, partial and activation is a short vector over the nets, stored
lane-minor (entry ``o`` of net ``l`` at ``w[o * NL + l]``), so that each multiply-add of the
1997 rule (HS97 A.1 eqs. 3-28, as in ``lstm97``'s docstring) serves NL nets in one vector
instruction.

Each lane runs its own sequences (its own trial's data: ``order[lane_start[l]:lane_start[l+1]]``,
indices into one chunk that holds every lane's sequences), one time step per lane per tick. A lane
that reaches the end of a sequence finishes its metrics row and starts its next sequence at the
next tick (reset as in ``lstm97``: recurrent sources to ``reset_act``, states and partials to 0);
a lane with no sequences left idles until the call ends (its values are computed and never read).

**Each lane's arithmetic is that of** ``lstm97.run_sequences`` **alone: the same operations in
the same order**, so weights and metrics are bit-identical to the one-net kernel (tested):

- nets are summed over their sources in column order, as ``Wh[h] . z``; output units in the
  order bias, inputs, cells;
- the partials (eqs. 25, 27) and weight changes (eqs. 22, 26, 28) are the same expressions;
- steps without a training target in a lane: its outputs may be computed (another lane needs
  them) but are read by nothing; its weight changes are not applied (a select on the lane's
  training flag, so that no ``+ 0`` ever meets an infinite partial of a diverging net).

Scope: the configurations of the on-line protocols of Exps 2c-6 (and anything else of that form):
per-step weight changes, no forget gates, no constant decay, no peepholes, no momentum, no
learning-rate decay, no stop at the first error, every block on. ``LSTM97.lanes_ok`` says whether
a net qualifies; ``model.train_lanes`` is the call. The runner uses it only with ``--lanes L``:
on Zen 1 (AVX2) four nets in one call ran at 0.77-0.89x the one-net kernel's throughput (before
the vector exp below); on Zen 4 (AVX-512) eight run at 1.8x it (41 against 74 ns a net-step on
the adding net, 37 against 65 on 2c's; session 15), 1.4x end to end (docs/speed.md, which also
says where the lanes kernel's time goes: ``bench/lanes_ablation.py``).

The exact exp is glibc's algorithm ported (``exactexp``) whatever ``exactexp.exact_impl`` chooses
for the one-net kernels, and vector code over the lanes (``kernel_common.logistic_block``): its
main path without branches, the table lookups gathers; the same bits as the scalar port
(tested).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .arch import SQ_G2, SQ_IDENTITY, SQ_LOGISTIC, SQ_TANHLIKE
from .judge import FLAG_JUDGE, FLAG_TRAIN, finish_metrics, judge_step
from .kernel_common import logistic_block
from .lstm97 import (  # noqa: F401  (the ip layout is lstm97's, plus the lane count)
    IP_B, IP_CELLS_OFF, IP_FASTEXP, IP_FG, IP_G, IP_GCENTER, IP_H, IP_LRDECAY, IP_MOMENTUM,
    IP_NIN, IP_NOUT, IP_OBIAS, IP_OG, IP_OIN, IP_ONEHOT, IP_OUT, IP_PEEP, IP_REC, IP_S, IP_STOP,
    N_IP, REC_ALL, REC_CELLS,
)

IP_LANES = N_IP            # how many nets a call trains side by side (a compile-time constant)
N_IP_LANES = N_IP + 1


@njit(inline="always", error_model="numpy")
def _add_where(w, i, d, on):
    """w[i] += d where ``on`` (the lane trains at this step) is not 0.0; else w[i] unchanged."""
    a = w[i]
    w[i] = a + d if on != 0.0 else a


@njit(inline="always", error_model="numpy")
def _row_change(w, NL, rr, oe, ogl, otm, xi, onehot, inputs, I, oz, zb, bias, dst, src, n):
    """Eq. 22 for the weights of one unit (row offset ``rr``) whose error is ``w[oe]``, in every
    lane that trains at this step (``w[otm]``): lr e x for the input columns (if ``inputs``;
    one-hot: the active one only, as ``lstm97``), lr e ``bias`` for the bias column, and lr e u_m
    for the columns ``dst .. dst+n`` from the sources ``src .. src+n`` (output units: the cells'
    outputs; output gates: the recurrent part of z)."""
    if inputs:
        if onehot:
            for l in range(NL):
                if w[otm * NL + l] != 0.0:
                    w[(rr + xi[l]) * NL + l] += w[ogl * NL + l] * w[oe * NL + l]
        else:
            for i in range(I):
                for l in range(NL):
                    g = w[ogl * NL + l] * w[oe * NL + l]
                    _add_where(w, (rr + i) * NL + l, g * w[(oz + i) * NL + l], w[otm * NL + l])
    for l in range(NL):
        g = w[ogl * NL + l] * w[oe * NL + l]
        _add_where(w, (rr + zb) * NL + l, g * bias, w[otm * NL + l])
    for m in range(n):
        for l in range(NL):
            g = w[ogl * NL + l] * w[oe * NL + l]
            _add_where(w, (rr + dst + m) * NL + l, g * w[(src + m) * NL + l], w[otm * NL + l])


@njit(cache=True, error_model="numpy")
def run_lanes(Wh, Wo, hbias, ip, reset_act, x_idx, x_real, offsets, targets, step_flags, legal,
              clean_targets, order, lane_start, lr, crit, thr, metrics):
    """Train lane ``l``'s net on sequences ``order[lane_start[l]:lane_start[l+1]]``, on-line with
    per-step weight changes, for every lane at once.

    Wh (NL, H, I+1+H), Wo (NL, K, I+1+C) float64: the nets' weights, changed in place.
    hbias f64 (H,), ip int64 (N_IP_LANES,): as ``lstm97.run_sequences`` (the same wiring for all
    lanes), ``ip[IP_LANES]`` = NL. The chunk arrays (``x_idx`` ... ``clean_targets``) hold every
    lane's sequences; ``order`` int64 indexes them. lane_start int64 (NL+1,). lr f64 (NL,).
    metrics f64 (len(order), N_METRICS): row ``i`` for sequence ``order[i]`` (``judge.M_*``).
    """
    NL = ip[IP_LANES]
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
    expm = ip[IP_FASTEXP]               # which exp (kernel_common.EXP_*)
    gcen = ip[IP_GCENTER] != 0
    C = B * S
    H = C + B + (B if og else 0)
    NZ = I + 1 + H
    NW = NZ
    NU = I + 1 + C
    zb = I
    zr = I + 1
    ze = NZ if recm == REC_ALL else (zr + C if recm == REC_CELLS else zr)
    m0 = zb if onehot else 0

    # ---- the flat lane-minor buffer: entry o of lane l at (o) * NL + l
    oWh = 0
    oWo = oWh + H * NW
    oPin = oWo + K * NU
    oPc = oPin + C * NZ
    oz = oPc + C * NZ
    oy = oz + NZ
    osg = oy + H
    os_ = osg + H
    ohs = os_ + C
    odhs = ohs + C
    ogc = odhs + C
    odgc = ogc + C
    odc = odgc + C
    oes = odc + C
    oyo = oes + C
    odyo = oyo + K
    oek = odyo + K
    oeout = oek + K
    oyout = oeout + B
    oain = oyout + B          # the partials' factors a_in, a_c of each cell
    oac = oain + C
    ogl = oac + C             # lr, per lane
    otm = ogl + 1             # 1.0 where the lane trains at this step, else 0.0
    oscr = otm + 1            # scratch for logistic_block: a block of up to max(H, K) units
    n_ent = oscr + max(H, K)
    w = np.zeros(n_ent * NL)
    for l in range(NL):
        for h in range(H):
            for m in range(NW):
                w[(oWh + h * NW + m) * NL + l] = Wh[l, h, m]
        for k in range(K):
            for m in range(NU):
                w[(oWo + k * NU + m) * NL + l] = Wo[l, k, m]
        w[(oz + zb) * NL + l] = 1.0
        for j in range(B):
            w[(oyout + j) * NL + l] = 1.0
        w[ogl * NL + l] = lr[l]

    # ---- per-lane bookkeeping
    cur = np.zeros(NL, np.int64)        # the lane's position in order[]
    t = np.zeros(NL, np.int64)          # its current step (a valid row even when idle)
    t1 = np.zeros(NL, np.int64)
    live = np.zeros(NL, np.bool_)
    ok = np.ones(NL, np.bool_)
    ntgt = np.zeros(NL, np.int64)
    xi = np.zeros(NL, np.int64)
    stats = np.zeros((NL, 3))
    yol = np.zeros(K)                   # one lane's outputs, for judge_step
    n_live = 0
    for l in range(NL):
        cur[l] = lane_start[l]
        if cur[l] < lane_start[l + 1]:
            q = order[cur[l]]
            t[l] = offsets[q]
            t1[l] = offsets[q + 1]
            live[l] = True
            n_live += 1
        # a new sequence: recurrent sources reset (gates centred), states and partials 0
        for h in range(H):
            w[(oz + zr + h) * NL + l] = reset_act
        if gcen:
            for h in range(C, H):
                w[(oz + zr + h) * NL + l] -= 0.5

    while n_live > 0:
        # ---- inputs x(t) of each lane
        for l in range(NL):
            if onehot:
                xi[l] = x_idx[t[l]]
            else:
                for i in range(I):
                    w[(oz + i) * NL + l] = x_real[t[l], i]
        # ---- hidden nets (eqs. 7-9), each summed over its sources in column order
        for h in range(H):
            if onehot:
                for l in range(NL):
                    w[(osg + h) * NL + l] = w[(oWh + h * NW + xi[l]) * NL + l]
            else:
                for l in range(NL):
                    w[(osg + h) * NL + l] = 0.0
        for m in range(m0, ze):
            for h in range(H):
                for l in range(NL):
                    w[(osg + h) * NL + l] += w[(oWh + h * NW + m) * NL + l] * w[(oz + m) * NL + l]
        h0 = C if gcode == SQ_IDENTITY else 0
        logistic_block(w, (osg + h0) * NL, (H - h0) * NL, expm, oscr * NL)
        for j in range(B):
            for l in range(NL):
                w[(oy + C + j) * NL + l] = w[(osg + C + j) * NL + l]
            if og:
                for l in range(NL):
                    w[(oyout + j) * NL + l] = w[(osg + C + B + j) * NL + l]
                    w[(oy + C + B + j) * NL + l] = w[(oyout + j) * NL + l]
        # ---- cells: CEC s(t) = s(t-1) + y_in g(net_c)
        for j in range(B):
            for v in range(S):
                c = j * S + v
                for l in range(NL):
                    f = w[(osg + c) * NL + l]
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
                    w[(ogc + c) * NL + l] = gcv
                    w[(odgc + c) * NL + l] = dgv
                    w[(os_ + c) * NL + l] += w[(oy + C + j) * NL + l] * gcv
        # ---- truncated partials (eqs. 25, 27): z is still z(t). The factors
        # a_in = g(net_c) f'(net_in_j) and a_c = g'(net_c) y_in_j first (as lstm97 forms them)
        for j in range(B):
            for v in range(S):
                c = j * S + v
                for l in range(NL):
                    yin = w[(oy + C + j) * NL + l]
                    fin = yin * (1.0 - yin)
                    w[(oain + c) * NL + l] = w[(ogc + c) * NL + l] * fin
                    w[(oac + c) * NL + l] = w[(odgc + c) * NL + l] * yin
        for c in range(C):
            pi = oPin + c * NZ
            pc = oPc + c * NZ
            if onehot:
                for l in range(NL):
                    w[(pi + xi[l]) * NL + l] += w[(oain + c) * NL + l]
                    w[(pc + xi[l]) * NL + l] += w[(oac + c) * NL + l]
            for m in range(m0, ze):
                for l in range(NL):
                    zm = w[(oz + m) * NL + l]
                    w[(pi + m) * NL + l] += w[(oain + c) * NL + l] * zm
                    w[(pc + m) * NL + l] += w[(oac + c) * NL + l] * zm
        # ---- h(s) and the cell outputs y_c = y_out h(s)
        if hcode != SQ_IDENTITY:
            for i in range(C * NL):
                w[ohs * NL + i] = w[os_ * NL + i]
            logistic_block(w, ohs * NL, C * NL, expm, oscr * NL)
        for c in range(C):
            for l in range(NL):
                sv = w[(os_ + c) * NL + l]
                if hcode == SQ_IDENTITY:
                    w[(ohs + c) * NL + l] = sv
                    w[(odhs + c) * NL + l] = 1.0
                else:
                    f = w[(ohs + c) * NL + l]
                    d = f * (1.0 - f)
                    if hcode == SQ_TANHLIKE:
                        w[(ohs + c) * NL + l] = 2.0 * f - 1.0
                        w[(odhs + c) * NL + l] = 2.0 * d
                    elif hcode == SQ_G2:
                        w[(ohs + c) * NL + l] = 4.0 * f - 2.0
                        w[(odhs + c) * NL + l] = 4.0 * d
                    else:
                        w[(ohs + c) * NL + l] = f
                        w[(odhs + c) * NL + l] = d
        for j in range(B):
            for v in range(S):
                c = j * S + v
                for l in range(NL):
                    w[(oy + c) * NL + l] = w[(oyout + j) * NL + l] * w[(ohs + c) * NL + l]
        # ---- output units, when some lane has a target or a judgement at this step
        anyfl = 0
        anytr = False
        for l in range(NL):
            fl = step_flags[t[l]] if live[l] else 0
            anyfl |= fl
            tr = (fl & FLAG_TRAIN) != 0
            anytr = anytr or tr
            w[otm * NL + l] = 1.0 if tr else 0.0
        if anyfl != 0:
            for k in range(K):
                for l in range(NL):
                    w[(oyo + k) * NL + l] = w[(oWo + k * NU + zb) * NL + l]
                if oin:
                    if onehot:
                        for l in range(NL):
                            w[(oyo + k) * NL + l] += w[(oWo + k * NU + xi[l]) * NL + l]
                    else:
                        for i in range(I):
                            for l in range(NL):
                                w[(oyo + k) * NL + l] += (w[(oWo + k * NU + i) * NL + l]
                                                          * w[(oz + i) * NL + l])
                for c in range(C):
                    for l in range(NL):
                        w[(oyo + k) * NL + l] += (w[(oWo + k * NU + zr + c) * NL + l]
                                                  * w[(oy + c) * NL + l])
            if ocode == SQ_LOGISTIC:
                logistic_block(w, oyo * NL, K * NL, expm, oscr * NL)
            for k in range(K):
                for l in range(NL):
                    if ocode == SQ_LOGISTIC:
                        f = w[(oyo + k) * NL + l]
                        w[(odyo + k) * NL + l] = f * (1.0 - f)
                    else:
                        w[(odyo + k) * NL + l] = 1.0
            for l in range(NL):
                if live[l] and (step_flags[t[l]] & FLAG_JUDGE):
                    ntgt[l] += 1
                    for k in range(K):
                        yol[k] = w[(oyo + k) * NL + l]
                    if not judge_step(yol, clean_targets[t[l]], legal[t[l]], K, crit, thr,
                                      stats[l]):
                        ok[l] = False
        if anytr:
            # ---- backward pass (eqs. 19-28) with the weights before this step's change; a
            # lane without a target gets error 0 and keeps its weights (the selects below)
            for k in range(K):
                for l in range(NL):
                    e = w[(odyo + k) * NL + l] * (targets[t[l], k] - w[(oyo + k) * NL + l])
                    w[(oek + k) * NL + l] = e if w[otm * NL + l] != 0.0 else 0.0
            for c in range(C):
                for l in range(NL):
                    w[(odc + c) * NL + l] = 0.0
            for k in range(K):
                for c in range(C):
                    for l in range(NL):
                        w[(odc + c) * NL + l] += (w[(oWo + k * NU + zr + c) * NL + l]
                                                  * w[(oek + k) * NL + l])
            for j in range(B):
                for l in range(NL):
                    acc = 0.0
                    yo_j = w[(oyout + j) * NL + l]
                    for v in range(S):
                        c = j * S + v
                        dc = w[(odc + c) * NL + l]
                        acc += w[(ohs + c) * NL + l] * dc
                        w[(oes + c) * NL + l] = yo_j * w[(odhs + c) * NL + l] * dc       # eq. 23
                    w[(oeout + j) * NL + l] = yo_j * (1.0 - yo_j) * acc                  # eq. 21
            # ---- weight changes (eqs. 22, 26, 28), applied where the lane trains
            for k in range(K):
                _row_change(w, NL, oWo + k * NU, oek + k, ogl, otm, xi, onehot, oin, I, oz, zb,
                            obias, zr, oy, C)
            if og:
                for j in range(B):
                    row = C + B + j
                    _row_change(w, NL, oWh + row * NW, oeout + j, ogl, otm, xi, onehot, True, I,
                                oz, zb, hbias[row], zr, oz + zr, ze - zr)
            for j in range(B):
                row = C + j
                rr = oWh + row * NW
                for v in range(S):
                    c = j * S + v
                    rc = oWh + c * NW
                    pi = oPin + c * NZ
                    pc = oPc + c * NZ
                    for m in range(I):
                        for l in range(NL):
                            gi = w[ogl * NL + l] * w[(oes + c) * NL + l]
                            _add_where(w, (rr + m) * NL + l,
                                       gi * w[(pi + m) * NL + l], w[otm * NL + l])
                            _add_where(w, (rc + m) * NL + l,
                                       gi * w[(pc + m) * NL + l], w[otm * NL + l])
                    for l in range(NL):
                        gi = w[ogl * NL + l] * w[(oes + c) * NL + l]
                        _add_where(w, (rr + zb) * NL + l,
                                   gi * w[(pi + zb) * NL + l] * hbias[row], w[otm * NL + l])
                        _add_where(w, (rc + zb) * NL + l,
                                   gi * w[(pc + zb) * NL + l] * hbias[c], w[otm * NL + l])
                    for m in range(zr, ze):
                        for l in range(NL):
                            gi = w[ogl * NL + l] * w[(oes + c) * NL + l]
                            _add_where(w, (rr + m) * NL + l,
                                       gi * w[(pi + m) * NL + l], w[otm * NL + l])
                            _add_where(w, (rc + m) * NL + l,
                                       gi * w[(pc + m) * NL + l], w[otm * NL + l])
        # ---- shift activations: y(t) becomes the recurrent part of z
        for h in range(H):
            for l in range(NL):
                w[(oz + zr + h) * NL + l] = w[(oy + h) * NL + l]
        if gcen:
            for h in range(C, H):
                for l in range(NL):
                    w[(oz + zr + h) * NL + l] -= 0.5
        # ---- lanes at a sequence's end: its metrics row; then its next sequence, or idle
        for l in range(NL):
            if not live[l]:
                continue
            t[l] += 1
            if t[l] < t1[l]:
                continue
            finish_metrics(metrics, cur[l], stats[l], ok[l], ntgt[l])
            cur[l] += 1
            if cur[l] == lane_start[l + 1]:
                live[l] = False
                t[l] -= 1
                n_live -= 1
                continue
            q = order[cur[l]]
            t[l] = offsets[q]
            t1[l] = offsets[q + 1]
            stats[l, 0] = 0.0
            stats[l, 1] = 0.0
            stats[l, 2] = 0.0
            ntgt[l] = 0
            ok[l] = True
            for h in range(H):
                w[(oz + zr + h) * NL + l] = reset_act
            if gcen:
                for h in range(C, H):
                    w[(oz + zr + h) * NL + l] -= 0.5
            for c in range(C):
                w[(os_ + c) * NL + l] = 0.0
            for i in range(oPin, oz):
                w[i * NL + l] = 0.0

    for l in range(NL):
        for h in range(H):
            for m in range(NW):
                Wh[l, h, m] = w[(oWh + h * NW + m) * NL + l]
        for k in range(K):
            for m in range(NU):
                Wo[l, k, m] = w[(oWo + k * NU + m) * NL + l]
