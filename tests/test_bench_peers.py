"""The benchmark's peers (``bench/``) compute what they claim.

- ``bench/numpy_rtrl.py`` (the NumPy peer of case (d), exact RTRL) equals the engine's RTRL kernel
  to 1e-10: the Exp 1 net (visible outputs, one-hot inputs), the Exp 2a net (separate outputs) and a
  separate-output net on real-valued inputs with targets at some steps, per-step and per-sequence
  weight changes;
- ``bench/lanes_ablation.py``'s ``factors8`` (slow tier): the lanes kernel's arithmetic, bit for bit;
  its ``f32`` (single precision, issue 19's question): the logistic within float32's rounding of
  the float64 one, and (slow tier) 16 nets trained as float64 ones to float32's precision;
- ``bench/torch_peers.py`` (only with PyTorch installed): the embedding input path is the one-hot
  matmul, and both peers run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from lstmrun.config import load
from lstmrun.engine.frnn import FRNN, FRNNArch
from lstmrun.runner import make_model
from lstmrun.engine.chunk import Chunk, empty_idx
from lstmrun.tasks.registry import build_task

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from numpy_rtrl import rtrl_train  # noqa: E402


def config_case(name: str, n: int):
    cfg = load(ROOT / "configs" / "paper" / name)
    task = build_task(cfg["task"])
    rng = np.random.default_rng(5)
    if cfg["task"]["name"] == "embedded_reber":
        from lstmrun.tasks.grammar import make_train_test

        train, _ = make_train_test(task.grammar, rng, 16, 16)
        chunk = task.chunk(train)
    else:
        chunk = task.sample(rng, n)
    return make_model(cfg, task, rng), chunk, cfg["train"]["lr"]


def real_case(n: int):
    rng = np.random.default_rng(6)
    lens = rng.integers(3, 8, size=n)
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    T = int(offsets[-1])
    has = (rng.uniform(size=T) < 0.5).astype(np.uint8)
    has[offsets[1:] - 1] = 1
    chunk = Chunk(offsets=offsets, x_idx=empty_idx(), x_real=rng.uniform(-1, 1, size=(T, 3)),
                  targets=rng.uniform(size=(T, 2)), has_target=has,
                  legal=np.zeros(T, np.int64), onehot=False, n_in=3, n_out=2)
    arch = FRNNArch(3, 2, 4, outputs="separate", hidden_bias=True, output_bias=True)
    return FRNN.random(arch, 0.5, rng, reset_act=0.1), chunk, 0.3


@pytest.mark.parametrize("per_step", [True, False])
@pytest.mark.parametrize("case", ["exp1_erg_rtrl_h3.yaml", "exp2a_rtrl_p4_lr1.yaml", "real"])
def test_numpy_rtrl_equals_engine(case, per_step):
    net, chunk, lr = real_case(6) if case == "real" else config_case(case, 6)
    order = np.array([0, 1, 2, 1, 3, 0], dtype=np.int64) % chunk.n
    eng = net.copy()
    eng.train(chunk, order, lr=lr, update_per_step=per_step)
    Wh, Wo = rtrl_train(net.arch, net.Wh, net.Wo, chunk, order, lr, per_step, net.reset_act)
    assert np.abs(eng.Wh - net.Wh).max() > 1e-3          # it learned something
    np.testing.assert_allclose(Wh, eng.Wh, rtol=0, atol=1e-10)
    np.testing.assert_allclose(Wo, eng.Wo, rtol=0, atol=1e-10)


def test_torch_embedding_is_onehot_matmul():
    torch = pytest.importorskip("torch")
    from torch_peers import Net

    torch.manual_seed(0)
    emb = Net(20, 3, 2, "logistic", embed=True).double()
    dense = Net(20, 3, 2, "logistic", embed=False).double()
    with torch.no_grad():
        dense.lstm.weight_ih_l0.copy_(emb.embed.weight.T)
        for p in ("weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
            getattr(dense.lstm, p).copy_(getattr(emb.lstm, p))
        dense.out.load_state_dict(emb.out.state_dict())
    idx = torch.randint(0, 20, (9, 4))
    where = torch.ones((9, 4), dtype=torch.bool)
    x = torch.nn.functional.one_hot(idx, 20).double()
    torch.testing.assert_close(emb(idx, where), dense(x, where), rtol=0, atol=1e-12)
    assert emb.n_weights() == dense.n_weights()


def test_torch_peers_run():
    pytest.importorskip("torch")
    import torch_peers

    net, chunk, _ = config_case("exp1_erg_rtrl_h3.yaml", 0)   # any one-hot chunk
    order = np.arange(min(chunk.n, 8))
    fns, desc = torch_peers.make_peers(chunk, order, hidden=3, output_act="logistic", n_online=4,
                                       batch=5)
    assert set(fns) == {"torch-online", "torch-batch5"} == set(desc)
    assert all(fn() > 0 for fn in fns.values())


@pytest.mark.parametrize("const", [False, True], ids=["sizes-at-run-time", "sizes-constant"])
@pytest.mark.parametrize("per_step", [True, False])
@pytest.mark.parametrize("case", ["exp1_erg_3x2_lr05.yaml",
                                  pytest.param("exp1_erg_4x1_lr01.yaml", marks=pytest.mark.slow)])
def test_plain_lstm_kernel_equals_the_engine(case, per_step, const):
    """``bench/plain_lstm.py`` (issue 19's speed reference, with the sizes read at run time or as
    compile-time constants) trains the 1997 LSTM exactly as the engine does on Exp 1's two nets
    (weights to 1e-10, per-sequence SSE)."""
    import plain_lstm

    run_plain = plain_lstm.run_plain_const if const else plain_lstm.run_plain

    net, chunk, lr = config_case(case, 12)
    order = np.random.default_rng(1).integers(0, chunk.n, size=20)
    a = net.copy()
    m = a.train(chunk, order, lr=lr, update_per_step=per_step)
    Wh, Wo = net.Wh.copy(), net.Wo.copy()
    sse = run_plain(Wh, Wo, net.Mh, net.Mo, net.arch.blocks, net.arch.cells_per_block,
                    chunk.x_idx, chunk.x_real, chunk.onehot, chunk.offsets, chunk.targets,
                    chunk.has_target, order, lr, per_step)
    assert np.abs(Wh - net.Wh).max() > 1e-4
    np.testing.assert_allclose(Wh, a.Wh, atol=1e-10, rtol=0)
    np.testing.assert_allclose(Wo, a.Wo, atol=1e-10, rtol=0)
    np.testing.assert_allclose(sse, m[:, 0], atol=1e-9, rtol=0)


@pytest.mark.parametrize("config", ["exp4_adding_t100.yaml", "exp1_erg_3x2_lr01.yaml",
                                    "exp2c_q50_p50.yaml"])
def test_exp_floor_counts_the_logistics_the_reference_computes(config, monkeypatch):
    """``bench/exp_floor.py``'s exps per net-step equal the logistics the NumPy reference
    (tests/reference.py, written apart from the kernel) evaluates per step."""
    import reference
    from cases import case_data
    from exp_floor import exps_per_step

    cfg = load(ROOT / "configs" / "paper" / config)
    task = build_task(cfg["task"])
    rng = np.random.default_rng(0)
    net = make_model(cfg, task, rng)
    chunk, order = case_data(cfg, task, rng, 3)
    seen = []
    real = reference._logistic
    monkeypatch.setattr(reference, "_logistic", lambda x: (seen.append(np.size(x)), real(x))[1])
    reference.ref_forward(net.arch, net.Wh, net.Wo, chunk, int(order[0]), net.reset_act)
    steps = int(chunk.offsets[order[0] + 1] - chunk.offsets[order[0]])
    assert sum(seen) == exps_per_step(net) * steps


def _real_and_variant(name, tmp_path, monkeypatch):
    """The committed kernel factory and ``bench/lanes_ablation.py``'s variant ``name`` (compiled
    into ``tmp_path``, specialised: a variant is a specialised kernel only)."""
    import lanes_ablation

    from lstmrun.engine import codegen

    monkeypatch.setenv("LSTMRUN_KERNEL_CACHE", str(tmp_path / "kc"))
    monkeypatch.setenv("LSTMRUN_SPECIALIZE", "1")
    return codegen.kernel, lanes_ablation.variant_kernel(
        lanes_ablation.variant_module(name, tmp_path))


def _train_lanes_with(kernels, config, lanes, monkeypatch):
    """The nets (seeds 0..lanes-1) of ``config`` before training, and for each kernel factory
    in ``kernels`` the nets after ``model.train_lanes`` on 100 sequences a lane, with its
    metrics rows."""
    from lstmrun.engine import model

    cfg = load(ROOT / "configs" / "paper" / config)
    task = build_task(cfg["task"])
    nets0 = [make_model(cfg, task, np.random.default_rng(s)) for s in range(lanes)]
    chunk = task.sample(np.random.default_rng(2), 100 * lanes)
    parts = np.array_split(np.arange(100 * lanes), lanes)
    out = []
    for kern in kernels:
        monkeypatch.setattr(model.codegen, "kernel", kern)
        nets = [n.copy() for n in nets0]
        ms = model.train_lanes(nets, [chunk] * lanes, parts, lr=cfg["train"]["lr"], lanes=lanes)
        out.append((nets, ms))
    return nets0, out


@pytest.mark.slow
def test_lanes_ablation_factors8_is_the_lanes_kernel_bit_for_bit(tmp_path, monkeypatch):
    """``bench/lanes_ablation.py``'s ``factors8`` (the partials' loop with 8 lanes written out,
    session 19's probe) claims the same arithmetic as ``engine/lanes.py``: same weights and
    metrics after 100 sequences a lane on the adding net (real-valued inputs) and 2c's (one-hot)."""
    kernels = _real_and_variant("factors8", tmp_path, monkeypatch)
    for name in ("exp4_adding_t100.yaml", "exp2c_q50_p50.yaml"):
        nets0, out = _train_lanes_with(kernels, name, 8, monkeypatch)
        (wa, ma), (wb, mb) = [([(n.Wh, n.Wo) for n in nets], ms) for nets, ms in out]
        assert any(not np.array_equal(a[0], n.Wh) for a, n in zip(wa, nets0))  # it trained
        for (ha, oa), (hb, ob) in zip(wa, wb):
            assert np.array_equal(ha, hb) and np.array_equal(oa, ob)
        for a, b in zip(ma, mb):
            assert np.array_equal(np.asarray(a), np.asarray(b))


def test_lanes_ablation_f32_logistic_is_float32s_logistic():
    """``f32``'s logistic block (a vectorisable expf) gives 1 / (1 + e^-x) to within 2 float32
    epsilons of the float64 value wherever that is above 1e-30, and saturates beyond expf's
    range (x clamped to [-88, 87])."""
    import lanes_ablation
    from numba import njit

    ns = {"np": np, "njit": njit}
    exec(compile(lanes_ablation.BLOCKS_F32, "BLOCKS_F32", "exec"), ns)
    blk = ns["_blk_f32"]

    @njit
    def run(w):
        blk(w, 0, w.size, 0, 0)

    x = np.concatenate([np.linspace(-30, 30, 100_001), [-200.0, -87.5, 0.0, 87.5, 200.0]])
    w = x.astype(np.float32)
    run(w)
    want = 1.0 / (1.0 + np.exp(-x.astype(np.float32).astype(np.float64)))
    assert w.dtype == np.float32
    main = want > 1e-30
    assert np.max(np.abs(w[main] - want[main]) / want[main]) < 2 * np.finfo(np.float32).eps
    assert w[0] < 1e-12 and w[-5] < 1e-37 and w[-1] == 1.0 and w[-3] == 0.5


@pytest.mark.slow
def test_lanes_ablation_f32_trains_as_float64_to_float32s_precision(tmp_path, monkeypatch):
    """``f32`` (the lanes kernel in single precision, 16 lanes) trains the adding net as the
    float64 lanes kernel does, to float32's precision: the weights after 100 sequences a lane
    within 1e-4 of the float64 kernel's, yet not the same bits (it is single precision)."""
    kernels = _real_and_variant("f32", tmp_path, monkeypatch)
    nets0, out = _train_lanes_with(kernels, "exp4_adding_t100.yaml", 16, monkeypatch)
    flat = (lambda nets: np.array([np.concatenate([n.Wh.ravel(), n.Wo.ravel()]) for n in nets]))
    w0 = flat(nets0)
    f64, f32 = (flat(nets) for nets, _ in out)
    assert np.abs(f64 - w0).max() > 0.05                 # it trained
    assert np.abs(f32 - f64).max() < 1e-4
    assert not np.array_equal(f32, f64)
