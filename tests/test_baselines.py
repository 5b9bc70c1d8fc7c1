"""Tests of the baseline engines: fully recurrent nets with RTRL/BPTT (``engine.frnn``), Elman's
SRN (``engine.elman``) and random weight guessing (``engine.guessing``); PROTOCOLS §1.3, §2.3,
§3.1, §10.

- weight counts (HS97 §1.3: RTRL/BPTT on 2a: 36 / 144 / 10,404; Table 1 estimates 170 / 494 / 435);
- the kernels' forward pass and on-line RTRL / Elman training against independent dense NumPy
  references written here;
- per-sequence RTRL == BPTT (exact gradients) and both == central finite differences of 1/2 SSE;
- Elman's one-step rule == the gradient with the context held fixed (and != the full gradient);
- criteria, early exit and masks as in the LSTM kernel;
- guessing: weight draws uniform in +-range, stops at the first solver, geometric counts.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import numeric_grad

from lstmrun.engine.elman import Elman, ElmanArch
from lstmrun.engine.frnn import FRNN, FRNNArch
from lstmrun.engine.guessing import arch_a1, arch_a2, draw_weights, guess
from lstmrun.engine.lstm97 import M_CORRECT, M_MAXABS, M_NTGT, M_SSE
from lstmrun.engine.chunk import Chunk, empty_idx, empty_real


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def make_chunk(rng, n, n_in, n_out, *, onehot=True, lengths=(4, 9), target="every",
               real_targets=True) -> Chunk:
    """``n`` random sequences (one-hot symbols or U[-1, 1] inputs) with U[0, 1] (or 0/1) targets at
    every step, at the last step only (``"end"``) or at a random half of the steps (``"random"``,
    the last step always included)."""
    lens = np.full(n, lengths) if isinstance(lengths, int) else rng.integers(
        lengths[0], lengths[1] + 1, size=n)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    T = int(offsets[-1])
    if onehot:
        x_idx, x_real = rng.integers(0, n_in, size=T).astype(np.int32), empty_real(n_in)
    else:
        x_idx, x_real = empty_idx(), rng.uniform(-1.0, 1.0, size=(T, n_in))
    targets = (rng.uniform(size=(T, n_out)) if real_targets
               else rng.integers(0, 2, size=(T, n_out)).astype(np.float64))
    if target == "every":
        has = np.ones(T, np.uint8)
    else:
        has = np.zeros(T, np.uint8) if target == "end" else (rng.uniform(size=T) < 0.5).astype(
            np.uint8)
        has[offsets[1:] - 1] = 1
    return Chunk(offsets=offsets, x_idx=x_idx, x_real=x_real, targets=targets, has_target=has,
                 legal=np.zeros(T, np.int64), onehot=onehot, n_in=n_in, n_out=n_out)


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def xvec(chunk, t):
    if chunk.onehot:
        x = np.zeros(chunk.n_in)
        x[chunk.x_idx[t]] = 1.0
        return x
    return chunk.x_real[t].copy()


def _add(Ws, gs):
    """W += g for each pair, in place (a step's change, or a sequence's summed changes)."""
    for W, g in zip(Ws, gs):
        W += g


def ref_frnn(arch: FRNNArch, Wh, Wo, chunk, order, lr=0.0, learn=False, per_step=True,
             reset_act=0.0):
    """Dense NumPy FRNN with exact RTRL (sensitivity tensor P[r, i, j] = dy_r / dWh[i, j]).
    Returns (Wh, Wo, outputs per sequence)."""
    Mh, Mo = arch.masks()
    Wh, Wo = Wh.copy(), Wo.copy()
    I, K, N = arch.n_in, arch.n_out, arch.n_rec
    vis = arch.outputs == "visible"
    outs = []
    for q in order:
        y = np.full(N, reset_act)
        P = np.zeros((N,) + Wh.shape)
        dWh, dWo = np.zeros_like(Wh), np.zeros_like(Wo)
        seq = []
        for t in range(chunk.offsets[q], chunk.offsets[q + 1]):
            x = xvec(chunk, t)
            z = np.concatenate([x, [1.0], y])
            yn = sig(Wh @ z)
            Pn = np.einsum("rl,lij->rij", Wh[:, I + 1:], P)
            for r in range(N):
                Pn[r, r, :] += z * Mh[r]
            P = Pn * (yn * (1 - yn))[:, None, None]
            if vis:
                out = yn[:K]
            else:
                u = np.concatenate([x, [1.0], yn])
                out = sig(Wo @ u)
            seq.append(out)
            if learn and chunk.has_target[t]:
                d = chunk.targets[t] - out
                if vis:
                    g = np.zeros(N)
                    g[:K] = d
                    gWo = np.zeros_like(Wo)
                else:
                    ek = out * (1 - out) * d
                    g = Wo[:, I + 1:].T @ ek
                    gWo = lr * np.outer(ek, u) * Mo
                gWh = lr * np.einsum("r,rij->ij", g, P) * Mh
                _add((Wh, Wo) if per_step else (dWh, dWo), (gWh, gWo))
            y = yn
        if learn and not per_step:
            _add((Wh, Wo), (dWh, dWo))
        outs.append(np.array(seq))
    return Wh, Wo, outs


def ref_elman(arch: ElmanArch, Wh, Wo, chunk, order, lr=0.0, learn=False, per_step=True,
              contexts=None):
    """Dense NumPy Elman net and one-step rule. ``contexts`` (per sequence, per step) replaces the
    copied hidden layer (to hold the context fixed). Returns (Wh, Wo, outputs, contexts used)."""
    Mh, Mo = arch.masks()
    Wh, Wo = Wh.copy(), Wo.copy()
    I = arch.n_in
    outs, ctxs = [], []
    for n, q in enumerate(order):
        c = np.zeros(arch.n_hidden)
        dWh, dWo = np.zeros_like(Wh), np.zeros_like(Wo)
        seq, cs = [], []
        for s, t in enumerate(range(chunk.offsets[q], chunk.offsets[q + 1])):
            if contexts is not None:
                c = contexts[n][s]
            cs.append(c)
            x = xvec(chunk, t)
            z = np.concatenate([x, [1.0], c])
            h = sig(Wh @ z)
            u = np.concatenate([x, [1.0], h])
            o = sig(Wo @ u)
            seq.append(o)
            if learn and chunk.has_target[t]:
                ek = o * (1 - o) * (chunk.targets[t] - o)
                eh = h * (1 - h) * (Wo[:, I + 1:].T @ ek)
                gWo, gWh = lr * np.outer(ek, u) * Mo, lr * np.outer(eh, z) * Mh
                _add((Wh, Wo) if per_step else (dWh, dWo), (gWh, gWo))
            c = h
        if learn and not per_step:
            _add((Wh, Wo), (dWh, dWo))
        outs.append(np.array(seq))
        ctxs.append(cs)
    return Wh, Wo, outs, ctxs


def check_forward_matches(cls, arch, onehot, rng, ref):
    """Frozen weights (U[-1, 1]) on 6 sequences with random targets: the kernel's SSE per
    sequence equals the reference forward pass's. Returns (net, chunk, metrics)."""
    chunk = make_chunk(rng, 6, arch.n_in, arch.n_out, onehot=onehot, target="random")
    net = cls.random(arch, 1.0, rng)
    m = net.evaluate(chunk, criterion="none")
    outs = ref(arch, net.Wh, net.Wo, chunk, range(chunk.n))[2]
    np.testing.assert_allclose(m[:, M_SSE], [2 * half_sse(o, chunk, q) for q, o in
                                             enumerate(outs)], atol=1e-12, rtol=0)
    return net, chunk, m


def check_learning_matches(net, chunk, order, ref, lr=0.7):
    """On-line learning, per step and per sequence: the kernel's weights equal the reference's
    (``ref``: ref_frnn or ref_elman) and really moved."""
    for per_step in (True, False):
        a = net.copy()
        a.train(chunk, order, lr=lr, update_per_step=per_step)
        Wh_r, Wo_r = ref(net.arch, net.Wh, net.Wo, chunk, order, lr=lr, learn=True,
                         per_step=per_step)[:2]
        assert np.abs(Wh_r - net.Wh).max() > 1e-3
        np.testing.assert_allclose(a.Wh, Wh_r, atol=1e-10, rtol=0)
        np.testing.assert_allclose(a.Wo, Wo_r, atol=1e-10, rtol=0)


def half_sse(outs, chunk, q):
    a, b = chunk.offsets[q], chunk.offsets[q + 1]
    m = chunk.has_target[a:b] != 0
    return 0.5 * float(((chunk.targets[a:b] - outs)[m] ** 2).sum())


def kernel_half_sse(q, chunk):
    return lambda m: 0.5 * m.evaluate(chunk, np.array([q]), criterion="none")[0, M_SSE]


# architectures: (arch, onehot)
FRNN_ARCHS = [
    (FRNNArch(5, 5, 1, "separate", hidden_self_only=True), True),                 # 2a net, p=4
    (FRNNArch(5, 3, 3, "separate", hidden_bias=True, output_bias=True), True),
    (FRNNArch(3, 2, 3, "separate", hidden_bias=True, outputs_from_inputs=False), False),
    (FRNNArch(4, 2, 3, "separate", hidden_self_only=True, hidden_bias=True), False),
    (FRNNArch(5, 3, 2, "visible"), True),                                          # Smith & Zipser
    (FRNNArch(3, 2, 2, "visible", hidden_bias=True, output_bias=True), False),
    (arch_a1(2), False),
    (arch_a2(3), False),
]
FRNN_IDS = ["2a-p4", "sep-onehot-bias", "sep-real-noin", "sep-selfonly", "vis-onehot",
            "vis-real-bias", "A1", "A2"]


# --------------------------------------------------------------------------------------------
# weight counts
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, expected", [(4, 36), (10, 144), (100, 10404)])
@pytest.mark.parametrize("self_only", [True, False])
def test_weight_counts_2a(p, expected, self_only):
    arch = FRNNArch(p + 1, p + 1, 1, "separate", hidden_self_only=self_only)
    assert arch.n_weights() == expected
    assert FRNN.random(arch, 0.2, np.random.default_rng(0)).n_weights() == expected


def test_weight_counts_table1_and_guessing():
    # HS97 Table 1 estimates: RTRL 3 / 12 hidden units ~170 / ~494; Elman 15 hidden ~435
    assert FRNNArch(7, 7, 3, "visible").n_weights() == 170
    assert FRNNArch(7, 7, 12, "visible").n_weights() == 494
    assert ElmanArch(7, 7, 15, hidden_bias=False, output_bias=False).n_weights() == 435
    assert ElmanArch(7, 7, 15).n_weights() == 435 + 15 + 7
    # guessing A1: output (input + n+1 units), hidden (input + bias + n+1 units)
    for n in (1, 2, 5):
        assert arch_a1(n).n_weights() == (n + 2) + n * (n + 3)
        # A2: output (input, bias, n hidden); hidden (input, bias, output, self)
        assert arch_a2(n).n_weights() == (n + 2) + 4 * n
        assert arch_a2(n, hidden_self=False).n_weights() == (n + 2) + 3 * n
    Mh, Mo = arch_a2(3).masks()
    assert Mh.shape == (4, 1 + 1 + 4) and Mo.shape == (0, 6)
    np.testing.assert_array_equal(Mh[0], [1, 1, 0, 1, 1, 1])      # output: not itself
    np.testing.assert_array_equal(Mh[2], [1, 1, 1, 0, 1, 0])      # hidden 2: output + itself


# --------------------------------------------------------------------------------------------
# kernels vs the NumPy references
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, onehot", FRNN_ARCHS, ids=FRNN_IDS)
def test_frnn_forward_and_online_rtrl_match_reference(arch, onehot):
    rng = np.random.default_rng(1)
    net, chunk, m = check_forward_matches(FRNN, arch, onehot, rng, ref_frnn)
    np.testing.assert_array_equal(m[:, M_NTGT], [chunk.has_target[chunk.offsets[q]:
                                                 chunk.offsets[q + 1]].sum() for q in
                                                 range(chunk.n)])
    # on-line RTRL, per step and per sequence, over ~100 steps
    order = rng.integers(0, chunk.n, size=15)
    check_learning_matches(net, chunk, order, ref_frnn)


@pytest.mark.parametrize("arch, onehot", FRNN_ARCHS, ids=FRNN_IDS)
def test_rtrl_per_sequence_equals_bptt(arch, onehot):
    """Offline RTRL and untruncated BPTT compute the same gradient (HS97 §5 intro)."""
    rng = np.random.default_rng(2)
    chunk = make_chunk(rng, 5, arch.n_in, arch.n_out, onehot=onehot, lengths=(3, 12),
                       target="random")
    net = FRNN.random(arch, 1.0, rng)
    order = rng.integers(0, chunk.n, size=12)
    r = net.copy()
    r.train(chunk, order, lr=0.5, update_per_step=False)
    b = FRNN(arch, net.Wh.copy(), net.Wo.copy(), rule="bptt")
    mb = b.train(chunk, order, lr=0.5, update_per_step=True)     # BPTT ignores per-step
    assert np.abs(r.Wh - net.Wh).max() > 1e-3
    np.testing.assert_allclose(b.Wh, r.Wh, atol=1e-10, rtol=0)
    np.testing.assert_allclose(b.Wo, r.Wo, atol=1e-10, rtol=0)
    # same forward statistics as RTRL in the same weight trajectory
    r2 = net.copy()
    np.testing.assert_allclose(mb, r2.train(chunk, order, lr=0.5, update_per_step=False),
                               atol=1e-10, rtol=0)


@pytest.mark.parametrize("rule", ["rtrl", "bptt"])
@pytest.mark.parametrize("arch, onehot", FRNN_ARCHS, ids=FRNN_IDS)
def test_frnn_gradient_matches_finite_differences(arch, onehot, rule):
    rng = np.random.default_rng(3)
    chunk = make_chunk(rng, 2, arch.n_in, arch.n_out, onehot=onehot, lengths=(6, 8),
                       target="random")
    net = FRNN.random(arch, 1.0, rng, rule=rule)
    for q in range(chunk.n):
        m2 = net.copy()
        m2.train(chunk, np.array([q]), lr=1.0, update_per_step=False)
        Gh, Go = numeric_grad(net, kernel_half_sse(q, chunk))
        assert np.all(m2.Wh[net.Mh == 0] == 0) and np.all(m2.Wo[net.Mo == 0] == 0)
        np.testing.assert_allclose(m2.Wh - net.Wh, -Gh, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(m2.Wo - net.Wo, -Go, rtol=1e-5, atol=1e-8)
        assert np.abs(Gh).max() > 1e-4
        # the recurrent weights get gradient too
        assert np.abs(Gh[:, arch.n_in + 1:]).max() > 1e-6


ELMAN_ARCHS = [(ElmanArch(5, 3, 4), True), (ElmanArch(3, 2, 3, hidden_bias=False), False),
               (ElmanArch(4, 2, 2, output_bias=False, outputs_from_inputs=True), True)]
ELMAN_IDS = ["onehot", "real-nohbias", "in2out"]


@pytest.mark.parametrize("arch, onehot", ELMAN_ARCHS, ids=ELMAN_IDS)
def test_elman_matches_reference(arch, onehot):
    rng = np.random.default_rng(4)
    net, chunk, m = check_forward_matches(Elman, arch, onehot, rng, ref_elman)
    order = rng.integers(0, chunk.n, size=15)
    check_learning_matches(net, chunk, order, ref_elman)


@pytest.mark.parametrize("arch, onehot", ELMAN_ARCHS, ids=ELMAN_IDS)
def test_elman_one_step_gradient(arch, onehot):
    """Length-1 sequences: the context is the constant reset, so Elman's rule is the exact
    gradient. Longer sequences: it is the gradient with the context held at its recorded values
    (and not the full gradient through time)."""
    rng = np.random.default_rng(5)
    net = Elman.random(arch, 1.0, rng)
    short = make_chunk(rng, 3, arch.n_in, arch.n_out, onehot=onehot, lengths=1)
    for q in range(short.n):
        m2 = net.copy()
        m2.train(short, np.array([q]), lr=1.0, update_per_step=False)
        Gh, Go = numeric_grad(net, kernel_half_sse(q, short))
        np.testing.assert_allclose(m2.Wh - net.Wh, -Gh, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(m2.Wo - net.Wo, -Go, rtol=1e-5, atol=1e-8)

    chunk = make_chunk(rng, 2, arch.n_in, arch.n_out, onehot=onehot, lengths=7,
                       target="random")
    for q in range(chunk.n):
        _, _, _, ctx = ref_elman(arch, net.Wh, net.Wo, chunk, [q])

        def fixed_ctx_loss(m, q=q, ctx=ctx):
            return half_sse(ref_elman(arch, m.Wh, m.Wo, chunk, [q], contexts=ctx)[2][0],
                            chunk, q)

        m2 = net.copy()
        m2.train(chunk, np.array([q]), lr=1.0, update_per_step=False)
        Gh, Go = numeric_grad(net, fixed_ctx_loss)
        np.testing.assert_allclose(m2.Wh - net.Wh, -Gh, rtol=1e-5, atol=1e-8)
        np.testing.assert_allclose(m2.Wo - net.Wo, -Go, rtol=1e-5, atol=1e-8)
        assert np.abs(Gh[:, arch.n_in + 1:]).max() > 1e-6   # context weights do learn
        # negative control: the full gradient differs in the hidden weights
        Fh, Fo = numeric_grad(net, kernel_half_sse(q, chunk))
        assert np.abs(Fh - Gh).max() > 1e-5
        np.testing.assert_allclose(Fo, Go, rtol=1e-5, atol=1e-8)   # output weights: same


# --------------------------------------------------------------------------------------------
# masks, criteria, early exit
# --------------------------------------------------------------------------------------------
def test_masked_weights_stay_zero():
    rng = np.random.default_rng(6)
    cases = [(FRNN, FRNNArch(6, 6, 3, "separate", hidden_self_only=True), "rtrl"),
             (FRNN, FRNNArch(6, 6, 3, "separate", hidden_self_only=True), "bptt"),
             (FRNN, arch_a2(3, hidden_self=False), "rtrl"),
             (FRNN, arch_a2(3), "bptt"),
             (Elman, ElmanArch(6, 6, 3, hidden_bias=False, output_bias=False), None)]
    for cls, arch, rule in cases:
        net = cls.random(arch, 0.5, rng) if rule is None else cls.random(arch, 0.5, rng, rule)
        assert (net.Mh == 0).any()
        chunk = make_chunk(rng, 8, arch.n_in, arch.n_out, onehot=arch.n_in > 1)
        for per_step in (True, False):
            W0h, W0o = net.Wh.copy(), net.Wo.copy()
            net.train(chunk, rng.integers(0, chunk.n, size=12), lr=1.0,
                      update_per_step=per_step)
            assert np.all(net.Wh[net.Mh == 0] == 0.0) and np.all(net.Wo[net.Mo == 0] == 0.0)
            assert np.abs(net.Wh - W0h).max() > 0
            assert net.Wo.size == 0 or np.abs(net.Wo - W0o).max() > 0
    # weights passed in at non-connections are zeroed by the constructor
    arch = FRNNArch(3, 3, 2, hidden_self_only=True)
    Mh, Mo = arch.masks()
    net = FRNN(arch, np.ones(Mh.shape), np.ones(Mo.shape))
    assert net.Wh.sum() == Mh.sum() and net.Wo.sum() == Mo.sum()


def _mask_of(ks):
    return int(sum(1 << int(k) for k in ks))


@pytest.mark.parametrize("which", ["frnn-vis", "frnn-sep", "elman"])
def test_legal_criterion(which):
    rng = np.random.default_rng(7)
    K = 5
    if which == "elman":
        arch = ElmanArch(K, K, 4)
        net = Elman.random(arch, 2.0, rng)
    else:
        arch = FRNNArch(K, K, 3, "visible" if which == "frnn-vis" else "separate",
                        hidden_bias=True)
        net = FRNN.random(arch, 2.0, rng)
    chunk = make_chunk(rng, 40, K, K, lengths=(3, 6), target="random", real_targets=False)
    expected = []
    for q in range(chunk.n):
        a, b = chunk.offsets[q], chunk.offsets[q + 1]
        y = (ref_elman(arch, net.Wh, net.Wo, chunk, [q])[2][0] if which == "elman"
             else ref_frnn(arch, net.Wh, net.Wo, chunk, [q])[2][0])
        ok = True
        for t in range(a, b):
            rank = np.argsort(-y[t - a])
            r = int(rng.integers(1, K))
            if q % 4 < 2:
                sel = list(rank[:r])                                    # passes
            elif q % 4 == 2:
                sel = list(rank[:r])
                sel[int(rng.integers(0, r))] = rank[int(rng.integers(r, K))]   # fails
            else:
                sel = [k for k in range(K) if rng.uniform() < 0.5]
            chunk.legal[t] = _mask_of(sel)
            if chunk.has_target[t]:
                bits = np.zeros(K, bool)
                bits[sel] = True
                lo = y[t - a, bits].min() if bits.any() else np.inf
                hi = y[t - a, ~bits].max() if (~bits).any() else -np.inf
                ok &= bool(lo > hi)
        expected.append(ok)
    expected = np.array(expected)
    assert expected.any() and not expected.all()
    m = net.evaluate(chunk, criterion="legal")
    np.testing.assert_array_equal(m[:, M_CORRECT].astype(bool), expected)


@pytest.mark.parametrize("which", ["rtrl", "bptt", "elman"])
def test_abs_criterion_and_early_exit(which):
    rng = np.random.default_rng(8)
    if which == "elman":
        arch = ElmanArch(2, 1, 3)
        net = Elman.random(arch, 2.0, rng)
        ref = lambda q: ref_elman(arch, net.Wh, net.Wo, chunk, [q])[2][0]
    else:
        arch = arch_a1(2)
        net = FRNN.random(arch, 2.0, rng, rule=which)
        ref = lambda q: ref_frnn(arch, net.Wh, net.Wo, chunk, [q])[2][0]
    chunk = make_chunk(rng, 30, arch.n_in, 1, onehot=False, target="end")
    maxabs = np.array([abs(chunk.targets[chunk.offsets[q + 1] - 1, 0] - ref(q)[-1, 0])
                       for q in range(chunk.n)])
    thr = float(np.quantile(maxabs, 0.7))
    ok = maxabs < thr
    order = rng.permutation(chunk.n)
    while not ok[order[0]]:
        order = rng.permutation(chunk.n)
    first_fail = int(np.argmax(~ok[order]))
    assert first_fail > 0
    full = net.evaluate(chunk, order, criterion="abs", threshold=thr)
    np.testing.assert_array_equal(full[:, M_CORRECT].astype(bool), ok[order])
    np.testing.assert_allclose(full[:, M_MAXABS], maxabs[order], atol=1e-12, rtol=0)
    early = net.evaluate(chunk, order, criterion="abs", threshold=thr, early_exit=True)
    assert len(early) == first_fail + 1 and early[-1, M_CORRECT] == 0.0
    np.testing.assert_array_equal(early, full[:first_fail + 1])
    assert not net.all_correct(chunk, criterion="abs", threshold=thr)
    assert net.all_correct(chunk, criterion="abs", threshold=float(maxabs.max()) + 1e-9)
    assert len(net.evaluate(chunk, order, criterion="none", early_exit=True)) == chunk.n
    # with learning, early exit stops after the failing sequence too
    W0 = net.Wh.copy()
    m = net.run(chunk, order, learn=True, lr=0.0, criterion="abs", threshold=thr,
                early_exit=True)
    assert len(m) == first_fail + 1 and np.array_equal(net.Wh, W0)


def test_bptt_long_sequence_and_save(tmp_path):
    """BPTT buffers are sized by the longest sequence of the call; save() writes the weights."""
    rng = np.random.default_rng(9)
    arch = FRNNArch(11, 11, 1, "separate", hidden_self_only=True)     # 2a net, p=10
    chunk = make_chunk(rng, 3, 11, 11, lengths=(1, 40), real_targets=False)
    net = FRNN.random(arch, 0.2, rng, rule="bptt")
    r = FRNN(arch, net.Wh.copy(), net.Wo.copy(), rule="rtrl")
    net.train(chunk, np.array([0, 1, 2, 1]), lr=1.0)
    r.train(chunk, np.array([0, 1, 2, 1]), lr=1.0, update_per_step=False)
    np.testing.assert_allclose(net.Wh, r.Wh, atol=1e-10, rtol=0)
    np.testing.assert_allclose(net.Wo, r.Wo, atol=1e-10, rtol=0)
    net.save(tmp_path / "w.npz")
    d = np.load(tmp_path / "w.npz")
    np.testing.assert_array_equal(d["Wh"], net.Wh)


# --------------------------------------------------------------------------------------------
# random weight guessing
# --------------------------------------------------------------------------------------------
def test_draw_weights_uniform_in_range():
    rng = np.random.default_rng(10)
    net = FRNN(arch_a2(4), *[np.zeros(M.shape) for M in arch_a2(4).masks()])
    vals = []
    for _ in range(2000):
        draw_weights(net, rng, 100.0)
        assert np.all(net.Wh[net.Mh == 0] == 0.0)
        vals.append(net.Wh[net.Mh == 1].copy())
    v = np.concatenate(vals)
    assert v.min() >= -100.0 and v.max() <= 100.0
    assert v.min() < -99.5 and v.max() > 99.5
    n = len(v)
    assert abs(v.mean()) < 4 * (100 / np.sqrt(3)) / np.sqrt(n)
    assert abs(v.var() / (100 ** 2 / 3) - 1) < 0.03                  # Var U[-a, a] = a^2/3
    assert abs(np.mean(v ** 4) / (100 ** 4 / 5) - 1) < 0.05          # E x^4 = a^4/5
    hist = np.histogram(v, bins=10, range=(-100, 100))[0] / n
    assert np.abs(hist - 0.1).max() < 0.01
    # every weight of a separate-output net (Wo too) is drawn
    net2 = FRNN.random(FRNNArch(3, 2, 2), 0.1, rng)
    draw_weights(net2, rng, 5.0)
    assert np.abs(net2.Wo[net2.Mo == 1]).max() > 0.5 and np.abs(net2.Wo).max() <= 5.0


def _parity_chunk(rng, n, lengths):
    """Inputs -1/+1; target 1 at the end if the number of +1s is odd (PROTOCOLS §10.1 data)."""
    lens = rng.integers(lengths[0], lengths[1] + 1, size=n)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    T = int(offsets[-1])
    x = rng.choice([-1.0, 1.0], size=(T, 1))
    targets = np.zeros((T, 1))
    has = np.zeros(T, np.uint8)
    for q in range(n):
        a, b = offsets[q], offsets[q + 1]
        targets[b - 1, 0] = float((x[a:b, 0] > 0).sum() % 2)
        has[b - 1] = 1
    return Chunk(offsets=offsets, x_idx=empty_idx(), x_real=x, targets=targets, has_target=has,
                 legal=np.zeros(T, np.int64), onehot=False, n_in=1, n_out=1)


def test_guess_stops_at_first_solver():
    rng = np.random.default_rng(11)
    train = _parity_chunk(rng, 8, (3, 6))
    test = _parity_chunk(rng, 20, (3, 6))
    factory = lambda: FRNN(arch_a1(1), *[np.zeros(M.shape) for M in arch_a1(1).masks()])
    res = guess(factory, train, test, np.random.default_rng(123), 20000, weight_range=100.0,
                criterion="abs", threshold=0.1)
    assert res["solved"] and res["guesses"] > 1
    # replay the same draws: every earlier net fails, the returned one solves
    net = factory()
    rr = np.random.default_rng(123)
    for g in range(1, res["guesses"] + 1):
        draw_weights(net, rr, 100.0)
        ok = net.all_correct(train, criterion="abs", threshold=0.1)
        assert ok == (g == res["guesses"])
    np.testing.assert_array_equal(net.Wh, res["weights"]["Wh"])
    outs = ref_frnn(arch_a1(1), net.Wh, net.Wo, test, range(test.n))[2]
    frac = np.mean([abs(test.targets[test.offsets[q + 1] - 1, 0] - o[-1, 0]) < 0.1
                    for q, o in enumerate(outs)])
    assert res["test_fraction_correct"] == pytest.approx(frac)
    # budget exhausted
    res2 = guess(factory, train, None, np.random.default_rng(5), 3, criterion="abs",
                 threshold=1e-9)
    assert res2 == {"solved": False, "guesses": 3, "test_fraction_correct": None, "weights": None}


def test_guess_count_is_geometric():
    """Two separate outputs, target 1 at the end, threshold 0.5: a guess solves iff both output
    nets are positive; each output's weights are drawn independently and symmetrically, so
    P(solve) = 1/4 exactly and the count is Geometric(1/4): mean 4, P(1) = 1/4."""
    rng = np.random.default_rng(12)
    arch = FRNNArch(1, 2, 2, "separate", hidden_bias=True, output_bias=True)
    train = make_chunk(rng, 1, 1, 2, onehot=False, lengths=5, target="end")
    train.targets[:] = 1.0
    net = FRNN.random(arch, 1.0, rng)
    counts = np.array([guess(net, train, None, rng, 500, weight_range=10.0, criterion="abs",
                             threshold=0.5)["guesses"] for _ in range(600)])
    assert abs(counts.mean() - 4.0) < 0.6                          # sd of the mean ~0.14
    assert abs(np.mean(counts == 1) - 0.25) < 0.06                 # sd ~0.018
    assert abs(np.mean(counts == 2) - 0.1875) < 0.06
