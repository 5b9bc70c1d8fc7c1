"""Tests of the 1997 LSTM engine (PROTOCOLS §1.3, §9).

- weight counts of every HS97 architecture (§1.3);
- the Numba kernel against the independent NumPy reference ``tests/reference.py`` (same truncated
  rule, written from §9.1-9.3) after a few hundred on-line steps, for the option combinations the
  experiments use;
- finite differences: where the truncation drops nothing, the update equals -lr * grad(1/2 SSE);
- masks, early exit and the "legal" / "abs" criteria.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import numeric_grad, ref_forward, ref_sse, ref_train

from lstmrun.engine import lstm97
from lstmrun.engine.arch import Arch, Init, init_weights
from lstmrun.engine.model import LSTM97
from lstmrun.engine.chunk import Chunk, empty_idx, empty_real

M_SSE, M_MAXABS, M_CORRECT, M_NTGT = lstm97.M_SSE, lstm97.M_MAXABS, lstm97.M_CORRECT, lstm97.M_NTGT


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def make_chunk(rng, n, n_in, n_out, *, onehot=True, lengths=(5, 15), target="every",
               real_targets=False, noisy=False) -> Chunk:
    """``n`` random sequences: one-hot random symbols (or U[-1, 1] real inputs), 0/1 (or U[0, 1])
    targets at every step (``target="every"``), only at the last step (``"end"``), or at a random
    half of the steps (``"random"``)."""
    if isinstance(lengths, int):
        lens = np.full(n, lengths)
    else:
        lens = rng.integers(lengths[0], lengths[1] + 1, size=n)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    T = int(offsets[-1])
    if onehot:
        x_idx = rng.integers(0, n_in, size=T).astype(np.int32)
        x_real = empty_real(n_in)
    else:
        x_idx = empty_idx()
        x_real = rng.uniform(-1.0, 1.0, size=(T, n_in))
    if real_targets:
        targets = rng.uniform(0.0, 1.0, size=(T, n_out))
    else:
        targets = rng.integers(0, 2, size=(T, n_out)).astype(np.float64)
    if target == "every":
        has_target = np.ones(T, np.uint8)
    elif target == "end":
        has_target = np.zeros(T, np.uint8)
        has_target[offsets[1:] - 1] = 1
    else:
        has_target = (rng.uniform(size=T) < 0.5).astype(np.uint8)
    clean = None
    if noisy:  # learning sees noisy targets, statistics/criteria the clean ones (Exp 3c)
        clean = targets
        targets = targets + rng.normal(0.0, 0.3, size=targets.shape)
    return Chunk(offsets=offsets, x_idx=x_idx, x_real=x_real, targets=targets,
                 has_target=has_target, legal=np.zeros(T, np.int64), onehot=onehot,
                 n_in=n_in, n_out=n_out, clean_targets=clean)


def random_weights(arch, rng, scale=0.5):
    Mh, Mo = arch.masks()
    return rng.uniform(-scale, scale, Mh.shape) * Mh, rng.uniform(-scale, scale, Mo.shape) * Mo


def assert_specialised_is_generic(monkeypatch, net, train, module=lstm97):
    """Train copies of ``net`` with the specialised kernel (codegen) and with the generic one;
    ``train(copy)`` returns a list of metrics arrays. Weights and metrics must agree to the bit,
    and the specialised kernel must really be a different function."""
    from lstmrun.engine import codegen

    out = []
    for flag in ("1", "0"):
        monkeypatch.setenv("LSTMRUN_SPECIALIZE", flag)
        n = net.copy()
        ms = train(n)
        out.append([n.Wh, n.Wo, *ms])
    monkeypatch.delenv("LSTMRUN_SPECIALIZE")
    assert len(out[0]) == len(out[1])
    for a, b in zip(*out):
        assert np.array_equal(a, b)
    assert codegen.kernel(net.ip, module) is not module.run_sequences


# --------------------------------------------------------------------------------------------
# weight counts (PROTOCOLS §1.3)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("arch, expected", [
    (Arch(7, 7, 4, 1), 264),                                                     # Exp 1, 4x1
    (Arch(7, 7, 3, 2), 276),                                                     # Exp 1, 3x2
    (Arch(101, 101, 1, 1, output_gate=False, connectivity="B", biases="none",
          g="logistic", h="identity"), 10504),                                   # Exp 2a/2b
    (Arch(54, 2, 2, 1, biases="none"), 6 * 50 + 64),                             # Exp 2c, p=50
    (Arch(1004, 2, 2, 1, biases="none"), 6 * 1000 + 64),                         # Exp 2c, p=1000
    (Arch(1, 1, 3, 1, biases="b1"), 102),                                        # Exp 3
    (Arch(2, 1, 2, 2, biases="all"), 93),                                        # Exps 4, 5
    (Arch(8, 4, 2, 2, biases="all"), 156),                                       # Exp 6a
    (Arch(8, 8, 3, 2, biases="all"), 308),                                       # Exp 6b
])
def test_weight_counts(arch, expected):
    assert arch.n_weights() == expected
    Mh, Mo = arch.masks()
    H = arch.n_cells + arch.blocks * (2 if arch.output_gate else 1)
    assert Mh.shape == (H, arch.n_in + 1 + H)
    assert Mo.shape == (arch.n_out, arch.n_in + 1 + arch.n_cells)


def test_exp2c_counts_table():
    # T10: 2c-1..5 (q+4 inputs) and 2c-6..9 (p = 500, 200, 100, 50 distractors with q = 1000)
    for n_in, expected in [(54, 364), (104, 664), (204, 1264), (504, 3064), (1004, 6064)]:
        assert Arch(n_in, 2, 2, 1, biases="none").n_weights() == expected


# --------------------------------------------------------------------------------------------
# kernel vs reference
# --------------------------------------------------------------------------------------------
EXP1_4x1 = (Arch(7, 7, 4, 1), Init(scale=0.2, output_gate_bias=(-1.0, -2.0, -3.0, -4.0)))
EXP1_3x2 = (Arch(7, 7, 3, 2), Init(scale=0.2, output_gate_bias=(-1.0, -2.0, -3.0)))


def reference_case(arch, onehot, seed):
    """12 sequences of 5-25 steps (targets at every step with one-hot inputs, at random steps with
    real inputs and targets) and a random order of 25 of them."""
    rng = np.random.default_rng(seed)
    chunk = make_chunk(rng, 12, arch.n_in, arch.n_out, onehot=onehot, lengths=(5, 25),
                       target="random" if not onehot else "every", real_targets=not onehot)
    return chunk, rng.integers(0, chunk.n, size=25)


def compare_with_reference(arch, init, chunk, order, lr, per_step, reset_act=0.0, seed=0,
                           tol=1e-10, lr_decay=1.0, learns=None):
    """Train the kernel and the NumPy reference (tests/reference.py) from the same weights and
    compare weights, per-sequence SSE and target counts. ``learns(Wh0, Wh_r)`` asserts that the
    weights a test is about really moved (the comparison must not be vacuous)."""
    rng = np.random.default_rng(seed)
    Wh0, Wo0 = init_weights(arch, init, rng)
    model = LSTM97(arch, Wh0.copy(), Wo0.copy(), reset_act=reset_act)
    model.lr_decay = lr_decay
    m = model.train(chunk, order, lr=lr, update_per_step=per_step)
    Wh_r, Wo_r, sse_r = ref_train(arch, Wh0, Wo0, chunk, order, lr, per_step, reset_act,
                                  lr_decay=lr_decay)
    # the run must actually have moved the weights
    assert np.abs(Wh_r - Wh0).max() > 1e-3 and np.abs(Wo_r - Wo0).max() > 1e-3
    if learns is not None:
        learns(Wh0, Wh_r)
    assert np.abs(model.Wh - Wh_r).max() < tol
    assert np.abs(model.Wo - Wo_r).max() < tol
    assert len(m) == len(order)
    np.testing.assert_allclose(m[:, M_SSE], sse_r, rtol=0, atol=1e-9)
    ntgt = [int(chunk.has_target[chunk.offsets[q]:chunk.offsets[q + 1]].sum()) for q in order]
    np.testing.assert_array_equal(m[:, M_NTGT], ntgt)
    return model


@pytest.mark.parametrize("arch_init", [EXP1_4x1, EXP1_3x2], ids=["4x1", "3x2"])
@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_kernel_matches_reference_exp1(arch_init, per_step):
    arch, init = arch_init
    rng = np.random.default_rng(11)
    chunk = make_chunk(rng, 12, 7, 7, onehot=True, lengths=(5, 15))
    order = rng.integers(0, chunk.n, size=30)            # ~300 steps, repeats included
    compare_with_reference(arch, init, chunk, order, 0.5, per_step)


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_kernel_matches_reference_real_inputs_end_targets(per_step):
    # Exp 4-like: 2 real inputs, 2 blocks of 2 cells, 1 output, biases "all", end-only targets
    arch = Arch(2, 1, 2, 2, biases="all")
    init = Init(scale=0.1, input_gate_bias=(-3.0, -6.0))
    rng = np.random.default_rng(12)
    chunk = make_chunk(rng, 15, 2, 1, onehot=False, lengths=(5, 15), target="end",
                       real_targets=True)
    order = rng.integers(0, chunk.n, size=40)
    compare_with_reference(arch, init, chunk, order, 0.5, per_step)


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
@pytest.mark.parametrize("blocks, cells", [(1, 1), (2, 2)])
def test_kernel_matches_reference_no_output_gate(per_step, blocks, cells):
    # Exp 2a-like cell: no output gate, g logistic, h identity, connectivity "B", no biases
    arch = Arch(11, 11, blocks, cells, output_gate=False, connectivity="B", biases="none",
                g="logistic", h="identity")
    rng = np.random.default_rng(13)
    chunk = make_chunk(rng, 12, 11, 11, onehot=True, lengths=(5, 15))
    order = rng.integers(0, chunk.n, size=30)
    compare_with_reference(arch, Init(scale=0.2), chunk, order, 1.0, per_step)


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_kernel_matches_reference_reset_act(per_step):
    arch, init = EXP1_3x2
    rng = np.random.default_rng(14)
    chunk = make_chunk(rng, 10, 7, 7, onehot=True, lengths=(5, 15))
    order = rng.integers(0, chunk.n, size=25)
    compare_with_reference(arch, init, chunk, order, 0.5, per_step, reset_act=0.5)


@pytest.mark.parametrize("per_step", [True, False], ids=["per_step", "per_seq"])
def test_kernel_matches_reference_misc_options(per_step):
    # no output gate with full recurrence and real inputs, identity output units, input->output
    # weights and an output bias, targets at random steps, noisy training targets (clean for stats)
    arch = Arch(3, 2, 2, 2, output_gate=False, connectivity="F", biases="b1",
                output_bias=True, input_to_output=True, output_act="identity")
    rng = np.random.default_rng(15)
    chunk = make_chunk(rng, 10, 3, 2, onehot=False, lengths=(5, 15), target="random",
                       real_targets=True, noisy=True)
    order = rng.integers(0, chunk.n, size=25)
    compare_with_reference(arch, Init(scale=0.2, input_gate_bias=(-1.0, -2.0)), chunk, order, 0.1, per_step)


def test_masked_weights_stay_zero():
    rng = np.random.default_rng(16)
    for arch, init, onehot in [
        (Arch(11, 11, 1, 1, output_gate=False, connectivity="B", biases="none",
              g="logistic", h="identity"), Init(scale=0.2), True),
        (Arch(7, 7, 4, 1), Init(scale=0.2, output_gate_bias=(-1.0, -2.0, -3.0, -4.0)), True),
        (Arch(2, 1, 2, 2, biases="all"), Init(scale=0.1, input_gate_bias=(-3.0, -6.0)), False),
        (Arch(6, 2, 2, 1, biases="none"), Init(scale=0.2), True),
    ]:
        chunk = make_chunk(rng, 10, arch.n_in, arch.n_out, onehot=onehot)
        for per_step in (True, False):
            model = LSTM97.random(arch, init, rng)
            W0h, W0o = model.Wh.copy(), model.Wo.copy()
            model.train(chunk, rng.integers(0, chunk.n, size=20), lr=1.0,
                        update_per_step=per_step)
            assert np.all(model.Wh[model.Mh == 0] == 0.0)
            assert np.all(model.Wo[model.Mo == 0] == 0.0)
            assert np.abs(model.Wh - W0h).max() > 0 and np.abs(model.Wo - W0o).max() > 0


# --------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------
def _half_sse(model, chunk, q):
    return 0.5 * model.evaluate(chunk, np.array([q]), criterion="none")[0, M_SSE]


def _numeric_grad(model, chunk, q, eps=1e-6):
    """Central differences of 1/2 SSE of sequence ``q`` w.r.t. every unmasked weight."""
    return numeric_grad(model, lambda m: _half_sse(m, chunk, q), eps)


def _engine_update(model, chunk, q, lr=1.0):
    """Weight change of one sequence, summed and applied at its end (per-sequence mode)."""
    m2 = model.copy()
    m2.train(chunk, np.array([q]), lr=lr, update_per_step=False)
    return (m2.Wh - model.Wh) / lr, (m2.Wo - model.Wo) / lr


FD_ARCHS = [
    # (arch, onehot)
    (Arch(5, 3, 2, 2), True),                                                    # gates, one-hot
    (Arch(3, 2, 2, 2, biases="all"), False),                                     # gates, real
    (Arch(5, 3, 2, 2, output_gate=False, biases="b1"), True),                    # no out gate
    (Arch(3, 2, 2, 1, output_gate=False, biases="all", g="logistic", h="identity",
          input_to_output=True), False),                                         # no out gate, real
    (Arch(4, 2, 1, 2, biases="b1", output_act="identity"), False),               # linear outputs
]
FD_IDS = ["og-onehot", "og-real", "noog-onehot", "noog-real-g1", "og-linear-out"]


def _check_fd(model, chunk, q):
    dWh, dWo = _engine_update(model, chunk, q)
    Gh, Go = _numeric_grad(model, chunk, q)
    # masked weights never change
    assert np.all(dWh[model.Mh == 0] == 0) and np.all(dWo[model.Mo == 0] == 0)
    np.testing.assert_allclose(dWh[model.Mh == 1], -Gh[model.Mh == 1], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(dWo[model.Mo == 1], -Go[model.Mo == 1], rtol=1e-5, atol=1e-8)
    assert np.abs(Gh).max() > 1e-4 and np.abs(Go).max() > 1e-4     # not a vacuous comparison


def check_fd_length_one(arch, onehot, reset_act, seed):
    """Case A's check (below): three one-step sequences, random weights."""
    rng = np.random.default_rng(seed)
    chunk = make_chunk(rng, 3, arch.n_in, arch.n_out, onehot=onehot, lengths=1,
                       real_targets=True)
    Wh, Wo = random_weights(arch, rng, scale=0.7)
    model = LSTM97(arch, Wh, Wo, reset_act=reset_act)
    for q in range(chunk.n):
        _check_fd(model, chunk, q)


@pytest.mark.parametrize("arch, onehot", FD_ARCHS, ids=FD_IDS)
@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_fd_length_one_sequences(arch, onehot, reset_act):
    """Case A: with one step nothing depends on y(t-1) but the constant reset activations, so the
    cut derivatives are zero and the truncated update is the exact gradient, for any weights."""
    check_fd_length_one(arch, onehot, reset_act, seed=21)


def _zero_recurrent(arch, Wh):
    Wh = Wh.copy()
    Wh[:, arch.n_in + 1:] = 0.0
    return Wh


def check_fd_zero_recurrent(arch, onehot, reset_act, seed, zero=None):
    """Case B's check (below): two length-6 sequences with a final real target, random weights
    with every hidden->hidden weight zero; the update must equal minus the numeric gradient.
    ``zero(arch, Wh)`` zeroes them (default: the hidden->hidden block). Returns net and chunk."""
    rng = np.random.default_rng(seed)
    chunk = make_chunk(rng, 2, arch.n_in, arch.n_out, onehot=onehot, lengths=6,
                       target="random", real_targets=True)
    chunk.has_target[chunk.offsets[1:] - 1] = 1
    Wh, Wo = random_weights(arch, rng, scale=0.7)
    model = LSTM97(arch, (zero or _zero_recurrent)(arch, Wh), Wo, reset_act=reset_act)
    for q in range(chunk.n):
        _check_fd(model, chunk, q)
    return model, chunk


@pytest.mark.parametrize("arch, onehot", FD_ARCHS, ids=FD_IDS)
@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_fd_zero_recurrent_weights(arch, onehot, reset_act):
    """Case B: sequences of length 6 with every hidden->hidden weight equal to zero.

    The truncation (§9.2) sets d net_u(t) / d y_v(t-1) to zero for every hidden unit u and every
    source v. The true value of that derivative is the weight w_{uv}, which is zero here, so the
    cut terms vanish and the truncated update is the exact gradient of 1/2 SSE *for all weights,
    the recurrent ones included*: the gradient w.r.t. w_{uv} is the sum over t of
    (dE/dnet_u(t)) * y_v(t-1) plus terms in which the weight change alters y(t-1) and then acts
    through d net(t)/d y(t-1) = W_rec = 0. The first part is exactly what eqs. 22, 25-28 keep:
    the output error reaches cells and output gates only at the same step (a cell or gate output
    has no other path to later errors when W_rec = 0), and the CEC (self-weight 1, not a weight of
    W_rec) carries the error of s(t) back in time, which the partials dS/dw accumulate exactly.
    The recurrent weights therefore receive a nonzero (and exact) update although they are zero.
    """
    model, chunk = check_fd_zero_recurrent(arch, onehot, reset_act, seed=22)
    if arch.connectivity == "F":
        dWh, _ = _engine_update(model, chunk, 0)
        assert np.abs(dWh[:, arch.n_in + 1:]).max() > 1e-5   # the recurrent weights do learn


def test_fd_truncation_is_visible_with_recurrent_weights():
    """Negative control: with nonzero recurrent weights the truncated update is *not* the full
    gradient (so the two finite-difference tests above are not vacuous)."""
    arch = Arch(5, 3, 2, 2)
    rng = np.random.default_rng(23)
    chunk = make_chunk(rng, 1, 5, 3, onehot=True, lengths=6, real_targets=True)
    Wh, Wo = random_weights(arch, rng, scale=0.7)
    model = LSTM97(arch, Wh, Wo)
    dWh, dWo = _engine_update(model, chunk, 0)
    Gh, Go = _numeric_grad(model, chunk, 0)
    assert np.abs(dWh + Gh).max() > 1e-4
    np.testing.assert_allclose(dWo, -Go, rtol=1e-5, atol=1e-8)  # output weights: still exact


# --------------------------------------------------------------------------------------------
# evaluation: criteria and early exit
# --------------------------------------------------------------------------------------------
def _legal_ok(y, legal, has_target):
    """Expected "legal" criterion from outputs: at every target step, every legal output is
    strictly above every illegal one."""
    K = y.shape[1]
    for t in range(len(y)):
        if not has_target[t]:
            continue
        bits = np.array([(int(legal[t]) >> k) & 1 for k in range(K)], bool)
        lo = y[t, bits].min() if bits.any() else np.inf
        hi = y[t, ~bits].max() if (~bits).any() else -np.inf
        if not lo > hi:
            return False
    return True


def _mask_of(ks):
    return int(sum(1 << int(k) for k in ks))


def test_legal_criterion_matches_reference_outputs():
    arch, init = EXP1_4x1
    rng = np.random.default_rng(31)
    model = LSTM97.random(arch, Init(scale=1.0, output_gate_bias=(0.0, 0.0, 0.0, 0.0)), rng)
    chunk = make_chunk(rng, 40, 7, 7, onehot=True, lengths=(3, 8), target="random")
    K = arch.n_out
    expected = []
    for q in range(chunk.n):
        a, b = chunk.offsets[q], chunk.offsets[q + 1]
        y = ref_forward(arch, model.Wh, model.Wo, chunk, q)
        kind = q % 4
        for t in range(a, b):
            rank = np.argsort(-y[t - a])
            r = int(rng.integers(1, K))                          # 1..K-1 legal symbols
            if kind in (0, 1):                                   # legal = the top-r: passes
                chunk.legal[t] = _mask_of(rank[:r])
            elif kind == 2:                                      # top-r with one swapped out
                sel = list(rank[:r])
                sel[int(rng.integers(0, r))] = rank[int(rng.integers(r, K))]
                chunk.legal[t] = _mask_of(sel)
            else:                                                # random masks
                chunk.legal[t] = int(rng.integers(0, 2 ** K))
        # illegal choices on steps without a target must not matter
        expected.append(_legal_ok(y, chunk.legal[a:b], chunk.has_target[a:b]))
    expected = np.array(expected)
    assert expected.any() and not expected.all()
    m = model.evaluate(chunk, criterion="legal")
    np.testing.assert_array_equal(m[:, M_CORRECT].astype(bool), expected)
    # the reference's SSE agrees with the kernel's frozen-weight statistics
    np.testing.assert_allclose(m[:, M_SSE], [ref_sse(arch, model.Wh, model.Wo, chunk, q)
                                             for q in range(chunk.n)], atol=1e-12, rtol=0)


def test_abs_criterion_and_early_exit():
    arch = Arch(2, 1, 2, 2, biases="all")
    rng = np.random.default_rng(32)
    model = LSTM97.random(arch, Init(scale=0.5), rng)
    chunk = make_chunk(rng, 30, 2, 1, onehot=False, lengths=(5, 10), target="end",
                       real_targets=True)
    maxabs = np.array([np.abs(chunk.targets[chunk.offsets[q + 1] - 1]
                              - ref_forward(arch, model.Wh, model.Wo, chunk, q)[-1]).max()
                       for q in range(chunk.n)])
    thr = float(np.quantile(maxabs, 0.7))
    ok = maxabs < thr
    order = rng.permutation(chunk.n)
    first_fail = int(np.argmax(~ok[order]))
    assert not ok[order][first_fail] and first_fail > 0

    full = model.evaluate(chunk, order, criterion="abs", threshold=thr)
    assert len(full) == chunk.n
    np.testing.assert_array_equal(full[:, M_CORRECT].astype(bool), ok[order])
    np.testing.assert_allclose(full[:, M_MAXABS], maxabs[order], atol=1e-12, rtol=0)

    early = model.evaluate(chunk, order, criterion="abs", threshold=thr, early_exit=True)
    assert len(early) == first_fail + 1
    assert early[:-1, M_CORRECT].all() and early[-1, M_CORRECT] == 0.0
    np.testing.assert_array_equal(early, full[:first_fail + 1])
    assert not model.all_correct(chunk, criterion="abs", threshold=thr)
    assert model.all_correct(chunk, criterion="abs", threshold=float(maxabs.max()) + 1e-9)

    # criterion "none" never fails, so early exit never triggers
    assert len(model.evaluate(chunk, order, criterion="none", early_exit=True)) == chunk.n


def test_evaluate_does_not_change_weights():
    arch, init = EXP1_3x2
    rng = np.random.default_rng(33)
    model = LSTM97.random(arch, init, rng)
    Wh, Wo = model.Wh.copy(), model.Wo.copy()
    chunk = make_chunk(rng, 5, 7, 7)
    model.evaluate(chunk, criterion="legal")
    assert np.array_equal(model.Wh, Wh) and np.array_equal(model.Wo, Wo)


# ---- specialised kernels (engine/codegen.py) ------------------------------------------------------

@pytest.mark.parametrize("arch, onehot", [
    (Arch(7, 7, 3, 2), True),                                                    # Exp 1, 3x2
    pytest.param(Arch(2, 1, 2, 2, biases="all"), False, marks=pytest.mark.slow),  # Exp 4-like
    pytest.param(Arch(11, 11, 1, 1, output_gate=False, connectivity="B", biases="none",
                      g="logistic", h="identity"), True, marks=pytest.mark.slow),  # Exp 2a-like
], ids=["exp1_3x2", "real_inputs", "no_output_gate"])
def test_specialised_kernel_is_bit_identical_to_the_generic_one(monkeypatch, arch, onehot):
    """codegen substitutes the sizes as literals; the arithmetic must not change by one bit. (One
    architecture in the fast tier, each compile costs ~10 s; `make test-slow` has the others and
    runs every test on the specialised kernels.)"""

    rng = np.random.default_rng(11)
    chunk = _spec_chunk(rng, arch, onehot)
    net = LSTM97.random(arch, Init(0.2), rng)
    assert_specialised_is_generic(monkeypatch, net,
                                  lambda n: [n.train(chunk, lr=0.5, update_per_step=True)])


def _packed_ops(kernel):
    import re

    disp = getattr(kernel, "dispatcher", kernel)   # the SLP wrapper's dispatcher
    asm = disp.inspect_asm(disp.signatures[0])
    return len(re.findall(r"\bv(?:add|sub|mul|div)pd\b", asm))


@pytest.mark.slow   # a speed regression test: two compiles of ~10 s
def test_specialised_kernel_is_vectorised_after_a_numba_env_change(monkeypatch, tmp_path):
    """A compile re-reads every NUMBA_* variable when one changed since the last compile; that
    used to reset the SLP switch set around the kernel's compile (a worker that set
    NUMBA_NUM_THREADS then got a kernel 1.4x slower). Compiled in a fresh cache folder after such
    a change, the kernel must hold the packed arithmetic of SLP: several times the count without
    it (LSTMRUN_SLP=0 compiles the same source unvectorised)."""
    from lstmrun.engine import codegen

    rng = np.random.default_rng(12)
    arch = Arch(3, 2, 1, 2)
    chunk = _spec_chunk(rng, arch, True, n=3)
    net = LSTM97.random(arch, Init(0.2), rng)
    monkeypatch.setenv("LSTMRUN_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setenv("LSTMRUN_SPECIALIZE", "1")
    counts = {}
    for slp in ("1", "0"):
        monkeypatch.setenv("LSTMRUN_SLP", slp)
        monkeypatch.setenv("NUMBA_LSTMRUN_TEST_CHANGE", slp)   # a NUMBA_* change
        codegen._loaded.clear()
        net.copy().train(chunk, lr=0.5)
        ip = net.ip.copy()
        ip[lstm97.IP_ONEHOT] = 1
        counts[slp] = _packed_ops(codegen.kernel(ip))
    assert counts["1"] >= 2 * counts["0"] and counts["1"] >= 40, counts


def _spec_chunk(rng, arch, onehot, n=40):
    from lstmrun.engine.chunk import Chunk

    lengths = rng.integers(3, 12, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    T = int(offsets[-1])
    I, K = arch.n_in, arch.n_out
    x_idx = rng.integers(0, I, T).astype(np.int32) if onehot else np.zeros(0, np.int32)
    x_real = np.zeros((0, I)) if onehot else rng.uniform(-1, 1, (T, I))
    targets = (rng.random((T, K)) < 0.5).astype(float)
    return Chunk(offsets, x_idx, x_real, targets, np.ones(T, np.uint8), np.zeros(T, np.int64),
                 onehot, I, K)


# --------------------------------------------------------------------------------------------
# model.gate_sources: centred (a reading for Exp 2c, docs/fidelity/exp2c.md)
# --------------------------------------------------------------------------------------------
CENTRED = Arch(6, 2, 2, 1, biases="none", gate_sources="centred")       # the 2c net, p = 2


@pytest.mark.parametrize("per_step", [True, False])
@pytest.mark.parametrize("reset_act", [0.0, 0.5])
def test_centred_gate_sources_match_reference(per_step, reset_act):
    """Units read the gates' previous outputs as y - 0.5 (also the reset ones): the kernel equals
    the reference, which subtracts 0.5 from those sources, and differs from the raw net."""
    chunk, order = reference_case(CENTRED, True, seed=71)
    init = Init(scale=0.3)
    m = compare_with_reference(CENTRED, init, chunk, order, 0.5, per_step, reset_act, seed=5)
    raw = compare_with_reference(Arch(6, 2, 2, 1, biases="none"), init, chunk, order, 0.5,
                                 per_step, reset_act, seed=5)
    assert np.abs(m.Wh - raw.Wh).max() > 1e-3
    assert m.arch.n_weights() == raw.arch.n_weights() == 6 * 2 + 64


@pytest.mark.slow
def test_centred_gate_sources_specialised_kernel(monkeypatch):
    rng = np.random.default_rng(72)
    chunk, _ = reference_case(CENTRED, True, seed=72)
    net = LSTM97.random(CENTRED, Init(0.3), rng)
    assert_specialised_is_generic(monkeypatch, net,
                                  lambda n: [n.train(chunk, lr=0.5, update_per_step=True)])


def test_centred_gate_sources_config():
    from pathlib import Path

    from lstmrun.config import ConfigError, load

    cfg = Path(__file__).resolve().parents[1] / "configs" / "paper" / "exp2c_q50_p50.yaml"
    assert load(cfg, ["model.gate_sources=centred"])["model"]["gate_sources"] == "centred"
    for bad in (["model.gate_sources=centred", "model.connectivity=C"],
                ["model.gate_sources=centred", "train.gradient=full"],
                ["model.gate_sources=half"]):
        with pytest.raises(ConfigError, match="gate_sources"):
            load(cfg, bad)
    with pytest.raises(ValueError, match="connectivity F"):
        Arch(6, 2, 2, 1, connectivity="C", gate_sources="centred")


def test_centred_gate_sources_inspect_trace():
    from lstmrun.inspect import trace

    rng = np.random.default_rng(73)
    net = LSTM97.random(CENTRED, Init(0.5), rng)
    chunk, _ = reference_case(CENTRED, True, seed=73)
    for q in range(3):
        np.testing.assert_allclose(trace(net, chunk, q)["outputs"],
                                   ref_forward(CENTRED, net.Wh, net.Wo, chunk, q), atol=1e-12)


def test_step_flags_per_step():
    """``kernelmodel.step_flags``: FLAG_TRAIN where a step has a target, FLAG_JUDGE where the
    criterion mask (else the target) says, as uint8; checked against the definition on random
    masks, with and without a criterion mask."""
    from lstmrun.engine import judge
    from lstmrun.engine.kernelmodel import step_flags

    g = np.random.default_rng(4)
    for masked in (False, True):
        T = 1000
        has = (g.random(T) < 0.3).astype(np.uint8)
        chunk = make_chunk(g, 1, 2, 1, lengths=T)
        chunk.has_target = has
        crit = (g.random(T) < 0.5).astype(np.uint8)
        chunk.extra = {"criterion_mask": crit} if masked else {}
        judged = crit if masked else has
        want = np.array([judge.FLAG_TRAIN * (h != 0) + judge.FLAG_JUDGE * (j != 0)
                         for h, j in zip(has, judged)], np.uint8)
        got = step_flags(chunk)
        assert got.dtype == np.uint8 and np.array_equal(got, want)
