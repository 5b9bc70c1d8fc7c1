"""Full-gradient learning for the LSTM (engine/lstm_full.py; issue 8 part 3, PROTOCOLS §9.2).

- the change of one sequence is -lr * the gradient of its 1/2 SSE: central finite differences of
  the independent NumPy forward pass (tests/reference.py) on random nets of every wiring the
  configs use, sequences of 5-20 steps, to ~1e-6 relative;
- where the truncation loses nothing (length-1 sequences, zero recurrent weights, connectivity B)
  the full and the truncated kernels change the weights the same;
- same forward pass, metrics, flags, stop/early-exit and learning-rate decay as ``lstm97``;
  per-step updates refused unless the last step is each sequence's only target;
- ``train.gradient`` in configs and the CLI.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from reference import numeric_grad, ref_sse
from test_engine import assert_specialised_is_generic, make_chunk, random_weights

from lstmrun.cli import main
from lstmrun.config import ConfigError, load
from lstmrun.engine import lstm97, lstm_full
from lstmrun.engine.arch import Arch
from lstmrun.engine.model import LSTM97, step_flags

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _generic_kernels(monkeypatch):
    """The generic kernels (compiled once) instead of one specialised kernel per wiring: keeps this
    file fast on a fresh checkout; the specialised ones are checked against them below."""
    monkeypatch.setenv("LSTMRUN_SPECIALIZE", "0")

# (arch, one-hot inputs): the wirings of the paper's and GSC00's configs
ARCHS = [
    (Arch(5, 3, 2, 2), True),                                                        # Exp 1 (F, ga)
    (Arch(5, 5, 2, 2, output_bias=True, input_to_output=True), True),               # Exp 1 config
    (Arch(3, 2, 2, 2, biases="all"), False),                                         # Exps 4-6
    (Arch(3, 1, 2, 2, biases="all", output_act="identity"), False),                  # Exp 4 config
    (Arch(2, 2, 3, 1, biases="b1"), False),                                          # Exp 3
    (Arch(6, 2, 2, 1, biases="none"), True),                                         # Exp 2c
    (Arch(5, 5, 1, 1, output_gate=False, connectivity="B", biases="none",
          g="logistic", h="identity"), True),                                        # Exp 2a/2b
    (Arch(3, 2, 2, 1, output_gate=False, biases="all", g="logistic", h="identity",
          input_to_output=True), False),
    (Arch(4, 3, 2, 2, g="h1", h="g2"), False),                                       # other squashes
    (Arch(4, 4, 2, 2, connectivity="C", output_bias=True, input_to_output=True,
          forget_gate=True), True),                                                  # GSC00 CERG
    (Arch(3, 2, 2, 2, biases="all", forget_gate=True), False),                      # forget, F
    (Arch(4, 4, 2, 2, connectivity="C", output_bias=True, input_to_output=True,
          state_decay=0.9), True),                                                   # state decay
]
IDS = ["F-ga-onehot", "F-shortcut", "F-all-real", "F-linear-out", "F-b1", "F-nobias",
       "B-noog", "F-noog-real", "squash-h1-g2", "C-forget", "F-forget-real", "C-decay"]


def _net(arch, rng, scale=0.6, reset_act=0.0, full=True):
    Wh, Wo = random_weights(arch, rng, scale)
    net = LSTM97(arch, Wh, Wo, reset_act=reset_act)
    net.full_gradient = full
    return net


def _change(net, chunk, q, lr=1.0, full=True):
    """(dWh, dWo) of one training call on sequence ``q`` (per-sequence mode), divided by lr."""
    n = net.copy()
    n.full_gradient = full
    n.train(chunk, np.array([q]), lr=lr, update_per_step=False)
    return (n.Wh - net.Wh) / lr, (n.Wo - net.Wo) / lr


def _fd_grad(net, chunk, q, eps=1e-6):
    """Central differences of the sequence's 1/2 SSE (training targets, FLAG_TRAIN steps), with
    the reference forward pass."""
    return numeric_grad(net, lambda n: 0.5 * ref_sse(n.arch, n.Wh, n.Wo, chunk, q, n.reset_act,
                                                     clean=False), eps)


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("arch, onehot", ARCHS, ids=IDS)
def test_full_gradient_equals_finite_differences(arch, onehot):
    rng = np.random.default_rng(zlib.crc32(arch.describe().encode()))
    chunk = make_chunk(rng, 2, arch.n_in, arch.n_out, onehot=onehot, lengths=(5, 20),
                       target="random", real_targets=True)
    chunk.has_target[chunk.offsets[1:] - 1] = 1
    net = _net(arch, rng, scale=0.7, reset_act=0.2)
    for q in range(chunk.n):
        dWh, dWo = _change(net, chunk, q)
        Gh, Go = _fd_grad(net, chunk, q)
        # masked weights stay zero; every existing one moves by -grad
        assert np.all(dWh[net.Mh == 0] == 0) and np.all(dWo[net.Mo == 0] == 0)
        assert _rel(dWh, -Gh) < 1e-6 and _rel(dWo, -Go) < 1e-6
        np.testing.assert_allclose(dWh, -Gh, rtol=1e-5, atol=1e-9 + 1e-8 * np.abs(Gh).max())
        np.testing.assert_allclose(dWo, -Go, rtol=1e-5, atol=1e-9 + 1e-8 * np.abs(Go).max())
        assert np.abs(Gh).max() > 1e-4 and np.abs(Go).max() > 1e-4
        # where there are recurrent weights the truncated rule misses part of this gradient
        if arch.connectivity != "B":
            tWh, _ = _change(net, chunk, q, full=False)
            assert _rel(tWh, -Gh) > 1e-3


@pytest.mark.parametrize("arch, onehot", ARCHS, ids=IDS)
def test_equals_truncated_where_nothing_is_cut(arch, onehot):
    """Length-1 sequences (nothing depends on y(t-1) but the constant reset activations) and zero
    recurrent weights (the cut derivatives d net(t) / d y(t-1) are the zero weights): the
    truncated update is exact there (test_engine), so the two kernels agree."""
    rng = np.random.default_rng(5)
    net = _net(arch, rng, reset_act=0.5)
    one = make_chunk(rng, 3, arch.n_in, arch.n_out, onehot=onehot, lengths=1, real_targets=True)
    zero = net.copy()
    zero.Wh[:, arch.n_in + 1:] = 0.0
    longer = make_chunk(rng, 3, arch.n_in, arch.n_out, onehot=onehot, lengths=(6, 15),
                        target="random", real_targets=True)
    for model, chunk in ((net, one), (zero, longer)):
        for q in range(chunk.n):
            fh, fo = _change(model, chunk, q)
            th, to = _change(model, chunk, q, full=False)
            np.testing.assert_allclose(fh, th, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(fo, to, rtol=1e-10, atol=1e-13)
            assert np.abs(fh).max() > 1e-6


def test_one_call_changes_weights_by_minus_lr_times_gradient():
    rng = np.random.default_rng(8)
    arch = Arch(3, 2, 2, 2, biases="all")
    chunk = make_chunk(rng, 3, 3, 2, onehot=False, lengths=(8, 12), real_targets=True)
    net = _net(arch, rng)
    Gh, Go = _fd_grad(net, chunk, 0)
    lr = 0.37
    n = net.copy()
    m = n.train(chunk, np.array([0]), lr=lr, update_per_step=False)
    assert len(m) == 1
    assert _rel(n.Wh - net.Wh, -lr * Gh) < 1e-6 and _rel(n.Wo - net.Wo, -lr * Go) < 1e-6
    # exactly linear in lr, and a call over several sequences applies each one's change at its end
    h1, o1 = _change(net, chunk, 0, lr=1.0)
    np.testing.assert_allclose(n.Wh - net.Wh, lr * h1, rtol=1e-12, atol=1e-15)
    a = net.copy()
    a.train(chunk, np.array([0, 2]), lr=lr, update_per_step=False)
    b = net.copy()
    b.train(chunk, np.array([0]), lr=lr, update_per_step=False)
    b.train(chunk, np.array([2]), lr=lr, update_per_step=False)
    assert np.array_equal(a.Wh, b.Wh) and np.array_equal(a.Wo, b.Wo)


@pytest.mark.parametrize("arch, onehot", [ARCHS[1], ARCHS[2], ARCHS[9]], ids=[IDS[1], IDS[2],
                                                                                IDS[9]])
def test_same_forward_pass_and_metrics_as_the_truncated_kernel(arch, onehot):
    rng = np.random.default_rng(9)
    chunk = make_chunk(rng, 30, arch.n_in, arch.n_out, onehot=onehot, lengths=(3, 14))
    net = _net(arch, rng, scale=0.3)
    # frozen weights: the full kernel itself (learn=False) gives lstm97's metrics bit for bit
    ms = []
    ip = net.ip.copy()
    ip[lstm97.IP_ONEHOT] = int(onehot)
    for mod in (lstm97, lstm_full):
        metrics = np.empty((chunk.n, lstm97.N_METRICS))
        n = mod.run_sequences(net.Wh.copy(), net.Wo.copy(), net.hbias, ip, net.fp, net.vel, 0.0,
                              chunk.x_idx, chunk.x_real, chunk.offsets, chunk.targets,
                              step_flags(chunk), chunk.legal, chunk.targets,
                              np.arange(chunk.n), 0.0, False, False, lstm97.CRIT_ABS, 0.3,
                              False, metrics)
        ms.append(metrics[:n])
    assert np.array_equal(ms[0], ms[1])
    # learning: the first sequence runs on the same weights in both, so its metrics agree
    a = net.copy()
    b = net.copy()
    b.full_gradient = False
    ma = a.train(chunk, lr=0.1, update_per_step=False, criterion="abs", threshold=0.3)
    mb = b.train(chunk, lr=0.1, update_per_step=False, criterion="abs", threshold=0.3)
    assert np.array_equal(ma[0], mb[0]) and ma.shape == mb.shape
    assert not np.array_equal(a.Wh, b.Wh)


def test_per_step_updates_only_with_final_targets():
    rng = np.random.default_rng(10)
    arch = Arch(3, 2, 2, 2, biases="all")
    net = _net(arch, rng)
    every = make_chunk(rng, 4, 3, 2, onehot=False, lengths=(5, 9))
    with pytest.raises(ValueError, match="update_per_step"):
        net.train(every, lr=0.1, update_per_step=True)
    end = make_chunk(rng, 4, 3, 2, onehot=False, lengths=(5, 9), target="end")
    a, b = net.copy(), net.copy()
    ma = a.train(end, lr=0.1, update_per_step=True)
    mb = b.train(end, lr=0.1, update_per_step=False)
    assert np.array_equal(a.Wh, b.Wh) and np.array_equal(ma, mb)
    assert lstm_full.only_final_targets(end.offsets, end.has_target)
    assert not lstm_full.only_final_targets(every.offsets, every.has_target)
    # with the targets at the end only, the truncated per-step rule changes weights once per
    # sequence too: on a net without recurrent weights it is the same change
    zero = net.copy()
    zero.Wh[:, arch.n_in + 1:] = 0.0
    c, d = zero.copy(), zero.copy()
    d.full_gradient = False
    c.train(end, np.array([1]), lr=0.1, update_per_step=True)
    d.train(end, np.array([1]), lr=0.1, update_per_step=True)
    np.testing.assert_allclose(c.Wh, d.Wh, rtol=1e-12, atol=1e-14)


def test_learning_rate_decay_scales_each_steps_error():
    """With IP_LRDECAY the error injected at the k-th step of the call is scaled by lr_decay**k,
    as the truncated kernel scales that step's change."""
    rng = np.random.default_rng(11)
    arch = Arch(4, 4, 2, 2, connectivity="C", output_bias=True, input_to_output=True,
                forget_gate=True)
    chunk = make_chunk(rng, 1, 4, 4, lengths=9, target="end", real_targets=True)
    net = _net(arch, rng)
    h1, o1 = _change(net, chunk, 0)
    n = net.copy()
    n.lr_decay = 0.9
    n.train(chunk, np.array([0]), lr=1.0, update_per_step=False)
    np.testing.assert_allclose(n.Wh - net.Wh, 0.9 ** 8 * h1, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(n.Wo - net.Wo, 0.9 ** 8 * o1, rtol=1e-12, atol=1e-15)


def test_stop_at_error_learns_the_prefix():
    """IP_STOP: the sequence ends at the first failing judged step and the gradient is that of the
    steps run so far."""
    rng = np.random.default_rng(12)
    arch = Arch(4, 4, 2, 2, connectivity="C", output_bias=True, input_to_output=True,
                forget_gate=True)
    chunk = make_chunk(rng, 2, 4, 4, lengths=10, real_targets=True)
    chunk.has_target[:4] = 0           # the first judged (and failing) step is step 4
    net = _net(arch, rng)
    n = net.copy()
    n.stop_at_error = True
    m = n.train(chunk, lr=1.0, update_per_step=False, criterion="abs", threshold=1e-12)
    assert len(m) == 1 and m[0, lstm97.M_NTGT] == 1 and m[0, lstm97.M_CORRECT] == 0
    prefix = make_chunk(rng, 1, 4, 4, lengths=5)
    prefix.x_idx[:] = chunk.x_idx[:5]
    prefix.targets[:] = chunk.targets[:5]
    prefix.has_target[:] = chunk.has_target[:5]
    h, o = _change(net, prefix, 0)
    np.testing.assert_allclose(n.Wh - net.Wh, h, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(n.Wo - net.Wo, o, rtol=1e-12, atol=1e-15)


def test_cells_off_change_only_the_output_layer():
    rng = np.random.default_rng(13)
    arch = Arch(5, 5, 1, 1, output_gate=False, connectivity="B", biases="none", g="logistic",
                h="identity")
    chunk = make_chunk(rng, 3, 5, 5, lengths=(4, 8))
    net = _net(arch, rng)
    net.enable_cells(False)
    a, b = net.copy(), net.copy()
    b.full_gradient = False
    a.train(chunk, lr=0.5, update_per_step=False)
    b.train(chunk, lr=0.5, update_per_step=False)
    assert np.array_equal(a.Wh, net.Wh)
    np.testing.assert_allclose(a.Wo, b.Wo, rtol=1e-12, atol=1e-15)
    assert not np.array_equal(a.Wo, net.Wo)


@pytest.mark.parametrize("case", [1, pytest.param(3, marks=pytest.mark.slow),
                                  pytest.param(10, marks=pytest.mark.slow)])
def test_specialised_full_kernel_is_bit_identical(monkeypatch, case):
    """One wiring in the fast tier (each specialised compile costs ~10 s on a fresh machine)."""
    arch, onehot = ARCHS[case]
    rng = np.random.default_rng(14)
    chunk = make_chunk(rng, 20, arch.n_in, arch.n_out, onehot=onehot, lengths=(3, 12))
    net = _net(arch, rng, scale=0.3)
    assert_specialised_is_generic(
        monkeypatch, net, lambda n: [n.train(chunk, lr=0.3, update_per_step=False)], lstm_full)


# ---- momentum and the fast exp, shared with the truncated rule (issue 17) ----------------------
@pytest.mark.parametrize("case", [2, 9])
def test_momentum_turns_each_sequences_change_into_a_velocity(case):
    """v = m v + d, W += v after every sequence (also one without a target, d = 0), where d is
    the full-gradient change of that sequence from the current weights (lstm97's rule)."""
    arch, onehot = ARCHS[case]
    rng = np.random.default_rng(31)
    chunk = make_chunk(rng, 5, arch.n_in, arch.n_out, onehot=onehot, lengths=(3, 9))
    chunk.has_target[chunk.offsets[2]:chunk.offsets[3]] = 0        # sequence 2: no target
    net = _net(arch, rng, scale=0.4)
    net.set_momentum(0.7)
    v = np.zeros_like(net.vel)
    for q in range(chunk.n):
        plain = net.copy()
        plain.set_momentum(0.0)
        dh, do = _change(plain, chunk, q, lr=0.3)                    # from the current weights
        d = 0.3 * np.concatenate([dh.ravel(), do.ravel()])
        if q == 2:
            assert not d.any()
        W0 = np.concatenate([net.Wh.ravel(), net.Wo.ravel()])
        net.train(chunk, np.array([q]), lr=0.3, update_per_step=False)
        v = 0.7 * v + d
        np.testing.assert_allclose(net.vel, v, rtol=0, atol=1e-12)
        np.testing.assert_allclose(np.concatenate([net.Wh.ravel(), net.Wo.ravel()]), W0 + v,
                                   rtol=0, atol=1e-12)
    assert np.abs(v).max() > 1e-3


def test_fast_exp_full_gradient_is_the_exact_one_to_rounding():
    """train.exp: fast in the full-gradient kernel: the same changes as the C library's exp to
    within rounding (fastexp is within 2 ulp), not bit for bit; the forward pass equals the
    truncated kernel's fast-exp forward pass (same logistic, same order)."""
    arch, onehot = ARCHS[2]
    rng = np.random.default_rng(32)
    chunk = make_chunk(rng, 6, arch.n_in, arch.n_out, onehot=onehot, lengths=(3, 9))
    net = _net(arch, rng, scale=0.5)
    fast = net.copy()
    fast.fast_exp = True
    order = np.arange(chunk.n)
    m_exact = net.copy().train(chunk, order, lr=0.5, update_per_step=False)
    a = fast.copy()
    m_fast = a.train(chunk, order, lr=0.5, update_per_step=False)
    b = net.copy()
    b.train(chunk, order, lr=0.5, update_per_step=False)
    np.testing.assert_allclose(a.Wh, b.Wh, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(m_fast, m_exact, rtol=1e-12, atol=1e-13)
    assert not np.array_equal(a.Wh, b.Wh)                              # the fast exp ran
    # the first sequence's forward pass runs on the same weights in both kernels
    t = fast.copy()
    t.full_gradient = False
    np.testing.assert_array_equal(fast.copy().train(chunk, order[:1], lr=0.5,
                                                    update_per_step=False),
                                  t.train(chunk, order[:1], lr=0.5, update_per_step=False))


# ---- configs and CLI --------------------------------------------------------------------------
COMPARED = ["exp1_erg_3x2_lr05", "exp4_adding_t100", "exp6a_temporal_order"]


def test_config_key_and_its_checks():
    assert load(ROOT / "configs/paper/exp1_erg_3x2_lr05.yaml")["train"]["gradient"] == "truncated"
    for name in COMPARED:   # Exp 4 and 6a: update step, but the only target is the last step
        cfg = load(ROOT / f"configs/paper/{name}.yaml", ["train.gradient=full"])
        assert cfg["train"]["gradient"] == "full"
    with pytest.raises(ConfigError, match="train.update: step is not available"):
        load(ROOT / "configs/paper/exp2b_p100.yaml", ["train.gradient=full",
                                                      "task.train_steps=all"])    # every step
    load(ROOT / "configs/paper/exp2b_p100.yaml", ["train.gradient=full", "train.update=sequence",
                                                  "task.train_steps=all"])
    with pytest.raises(ConfigError, match="model.kind lstm97"):
        load(ROOT / "configs/paper/exp1_erg_rtrl_h3.yaml", ["train.gradient=full"])
    with pytest.raises(ConfigError, match="train.gradient"):
        load(ROOT / "configs/paper/exp1_erg_3x2_lr05.yaml", ["train.gradient=bptt"])


@pytest.mark.parametrize("name, sets", [
    ("exp1_erg_3x2_lr05", ["protocol.budget=200", "task.n_train=16", "task.n_test=16"]),
    ("exp4_adding_t100", ["protocol.budget=300", "protocol.chunk=100", "protocol.window=50",
                          "protocol.post_test=0", "task.T=20"]),
    ("exp6a_temporal_order", ["protocol.budget=300", "protocol.chunk=100", "protocol.window=50",
                              "protocol.post_test=0"]),
])
def test_cli_trains_with_the_full_gradient(tmp_path, name, sets):
    out = tmp_path / name
    args = ["train", str(ROOT / f"configs/paper/{name}.yaml"), "--trials", "1", "--seed", "3",
            "--out", str(out), "--quiet", "--set", "train.gradient=full"]
    for s in sets:
        args += ["--set", s]
    r = CliRunner().invoke(main, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert (out / "trials.jsonl").read_text().strip()
    assert "gradient: full" in (out / "config.yaml").read_text()
    r = CliRunner().invoke(main, ["train", str(ROOT / "configs/paper/exp2b_p100.yaml"), "--set",
                                  "train.gradient=full", "--set", "task.train_steps=all",
                                  "--out", str(tmp_path / "x")])
    assert r.exit_code == 2 and "train.update" in r.output
