"""The inlined exact exp (``lstmrun/engine/exactexp.py``) and ``train.exp: exact | libm``.

- its table is 2**(j/128) correctly rounded with the rounding remainder (computed independently
  here with ``fractions``), and it is within 0.51 ulp of the true exp (``decimal``, 60 digits):
  checks that hold on every platform;
- it equals the C library's ``exp`` bit for bit on millions of inputs over the whole range and
  every special case, where the C library is glibc >= 2.28 on x86-64 with FMA (glibc then runs
  the FMA build of the same algorithm; elsewhere the test is skipped: the C library is then
  another exp);
- the LSTM kernels (generic, specialised, full gradient, lanes) train to the same bits with it as
  with the C library's call (``train.exp: libm``), there too;
- the config switch.
"""

from __future__ import annotations

import math
import platform
from decimal import Decimal, localcontext
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from numba import njit
from test_engine import EXP1_3x2, make_chunk

from lstmrun.config import ConfigError, load
from lstmrun.engine.arch import Arch, Init, init_weights
from lstmrun.engine.exactexp import _SBITS, _TAIL, exact_impl, libm_is_gexp, set_exact_impl
# the port and the C library's exp over an array (Numba's np.exp: a call of the C library)
from lstmrun.engine.exactexp import _gexp_all
from lstmrun.engine.exactexp import _libm_exp_all as _libm_all
from lstmrun.engine.exactexp import exp_main, exp_main_ok
from lstmrun.engine.kernel_common import (EXP_EXACT, EXP_EXACT_VEC, EXP_FAST, EXP_LIBM, logistic,
                                          logistic_block)
from lstmrun.engine.model import LSTM97, exp_code, train_lanes

ROOT = Path(__file__).resolve().parents[1]


def _glibc_fma() -> bool:
    """The C library's exp is glibc's FMA build of the algorithm exactexp ports."""
    name, version = platform.libc_ver()
    if name != "glibc" or platform.machine() != "x86_64":
        return False
    if tuple(int(v) for v in version.split(".")[:2]) < (2, 28):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "fma" in flags and "avx2" in flags


needs_glibc_fma = pytest.mark.skipif(not _glibc_fma(), reason="the C library's exp is not glibc's "
                                     "FMA build here; exactexp is compared with it only there")


def _both(x):
    a, b = np.empty_like(x), np.empty_like(x)
    _gexp_all(x, a)
    _libm_all(x, b)
    return a, b


def test_table_is_two_to_the_j_over_128_and_its_remainder():
    for j in range(128):
        scale = float(np.int64(_SBITS[j] + (j << 45)).view(np.float64))
        with localcontext() as ctx:
            ctx.prec = 50
            exact = Decimal(2) ** (Decimal(j) / Decimal(128))
            # scale is the double nearest 2**(j/128): within half its ulp
            assert abs(Decimal(scale) - exact) <= Decimal(math.ulp(scale)) / 2
            # (1 + tail) scale is 2**(j/128) to far better than a double
            err = abs(Decimal(scale) * (1 + Decimal(_TAIL[j])) - exact) / exact
            assert err < Decimal(2) ** -100
        # tail is that remainder, relative to scale, correctly rounded (0 for j = 0: 2**0 = 1)
        rem = (Fraction(exact) - Fraction(scale)) / Fraction(scale)
        if j == 0:
            assert _TAIL[0] == 0.0
        else:
            assert abs(Fraction(_TAIL[j]) - rem) <= Fraction(math.ulp(_TAIL[j])) / 2


def test_within_half_an_ulp_and_a_bit_of_the_true_exp():
    x = np.random.default_rng(5).uniform(-700.0, 700.0, 3000)
    x[:1000] /= 700.0
    out = np.empty_like(x)
    _gexp_all(x, out)
    worst = 0.0
    with localcontext() as ctx:
        ctx.prec = 60
        for xi, yi in zip(x, out):
            true = Decimal(float(xi)).exp()
            worst = max(worst, float(abs(Decimal(float(yi)) - true) / Decimal(math.ulp(float(yi)))))
    assert worst < 0.51


def test_special_values():
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e4, -1e4, 709.79, 2.0 ** -60])
    out = np.empty_like(x)
    _gexp_all(x, out)
    assert out[0] == 1.0 and out[1] == 1.0 and out[2] == np.inf and out[3] == 0.0
    assert np.isnan(out[4]) and out[5] == np.inf and out[6] == 0.0 and out[7] == np.inf
    assert out[8] == 1.0
    # the subnormal range: exp(-740) = 4.2e-322 is a subnormal, exp(-746) rounds to 0
    _gexp_all(np.array([-740.0, -746.0]), out[:2])
    assert 0.0 < out[0] < 1e-320 and out[1] == 0.0


@needs_glibc_fma
@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (-40.0, 40.0), (-746.0, 710.0), (-1100.0, 1100.0),
                                    (-746.0, -700.0), (-1024.0, -512.0), (512.0, 1024.0),
                                    (-3e-16, 3e-16)])
def test_equals_the_c_library_bit_for_bit(lo, hi):
    a, b = _both(np.random.default_rng(int(abs(lo)) + 7).uniform(lo, hi, 1_000_000))
    assert np.array_equal(a.view(np.int64), b.view(np.int64))


@needs_glibc_fma
def test_equals_the_c_library_on_special_and_boundary_values():
    tiny = [2.0 ** -54, -(2.0 ** -54), 2.0 ** -55, np.nextafter(2.0 ** -54, 0), 5e-324, -5e-324]
    edges = [512.0, -512.0, np.nextafter(512.0, 0), 1024.0, -1024.0, np.nextafter(1024.0, 0),
             709.782712893384, np.nextafter(709.782712893384, 1000), -708.3964185322641,
             -745.1332191019411, -745.1332191019412, -745.2]
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, *tiny, *edges])
    a, b = _both(x)
    same = (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))
    assert same.all(), x[~same]


@njit(error_model="numpy")
def _main_all(x, ok, out):
    for i in range(x.shape[0]):
        ok[i] = exp_main_ok(x[i])
        out[i] = exp_main(x[i])


def test_the_branch_free_main_path_is_gexp_where_it_applies():
    """``exp_main`` (the lanes kernel's vector exp) returns ``gexp``'s bits wherever
    ``exp_main_ok`` says gexp takes its main path, and ``exp_main_ok`` is exactly that range:
    2**-54 <= |x| < 512 (gexp's own tests of its exponent field)."""
    rng = np.random.default_rng(21)
    x = np.concatenate([rng.uniform(-40.0, 40.0, 200_000), rng.uniform(-600.0, 600.0, 50_000),
                        rng.uniform(-1e-15, 1e-15, 1000),
                        [2.0 ** -54, -(2.0 ** -54), np.nextafter(2.0 ** -54, 0), 512.0, -512.0,
                         np.nextafter(512.0, 0), -np.nextafter(512.0, 0), 0.0, -0.0, np.inf,
                         np.nan, 1e4]])
    ok, got, want = np.empty(x.size, np.bool_), np.empty_like(x), np.empty_like(x)
    _main_all(x, ok, got)
    _gexp_all(x, want)
    a = np.abs(x)
    assert np.array_equal(ok, (a >= 2.0 ** -54) & (a < 512.0))
    assert ok.sum() > 240_000
    assert np.array_equal(got[ok].view(np.int64), want[ok].view(np.int64))


@njit(error_model="numpy")
def _lanes_logistic(w, nl, expm):
    scr = np.empty(nl + w.shape[0])      # the scratch lies after the values, in one array
    scr[nl:] = w
    for b in range(0, w.shape[0], nl):
        logistic_block(scr, nl + b, nl, expm, 0)
    w[:] = scr[nl:]


@pytest.mark.parametrize("nl", [4, 8, 40])
@pytest.mark.parametrize("expm", [EXP_EXACT, EXP_FAST])
def test_lanes_logistic_is_the_logistic_lane_by_lane(nl, expm):
    """The lanes kernel's logistic over a block at once (NL lanes of one unit, or of several:
    40 = 5 units x 8 lanes; vector code where every value takes the exp's main path, ``logistic``
    one by one where one does not: here a value of 0.0, 1e-17, 600 or -600 in some blocks)
    equals ``logistic`` on each value."""
    rng = np.random.default_rng(nl)
    w = rng.normal(0.0, 6.0, 64 * nl)
    w[3 * nl + 1], w[7 * nl], w[9 * nl + nl - 1], w[12 * nl + 2] = 0.0, 1e-17, 600.0, -600.0
    want = np.array([_logistic_one(v, expm) for v in w])
    _lanes_logistic(w, nl, expm)
    assert np.array_equal(w.view(np.int64), want.view(np.int64))


@njit(error_model="numpy")
def _logistic_one(v, expm):
    return logistic(v, expm)


def _train(exp_mode, name, seed, kind):
    """Weights and metrics after training one net (three in one lanes call) with ``exp_mode``."""
    rng = np.random.default_rng(seed)
    if name == "exp1":   # Exp 1's net: one-hot inputs, targets at every step, output-gate biases
        arch, init = EXP1_3x2
        onehot, target = True, "every"
    else:                # 2c's net: 2 blocks of 1 cell, real inputs, no biases, target at the end
        arch, init = Arch(4, 2, 2, 1, biases="none"), Init(scale=0.2)
        onehot, target = False, "end"
    nets, chunks, orders = [], [], []
    for _ in range(3 if kind == "lanes" else 1):
        Wh, Wo = init_weights(arch, init, rng)
        net = LSTM97(arch, Wh, Wo)
        net.exp_mode = exp_mode
        net.full_gradient = kind == "full"
        nets.append(net)
        ch = make_chunk(rng, 8, arch.n_in, arch.n_out, onehot=onehot, lengths=(4, 30),
                        target=target, real_targets=not onehot)
        chunks.append(ch)
        orders.append(rng.integers(0, ch.n, size=12))
    if kind == "lanes":
        ms = train_lanes(nets, chunks, orders, lr=0.5)
    else:
        ms = [nets[0].run(chunks[0], orders[0], learn=True, lr=0.5,
                          update_per_step=kind == "step")]
    return np.concatenate([np.concatenate([n.Wh.ravel(), n.Wo.ravel(), m.ravel()])
                           for n, m in zip(nets, ms)])


@needs_glibc_fma
@pytest.mark.parametrize("impl", ["inline", "vector"])
@pytest.mark.parametrize("specialise", ["0", pytest.param("1", marks=pytest.mark.slow)])
@pytest.mark.parametrize("name", ["exp1", "2c"])
@pytest.mark.parametrize("kind", ["step", "sequence", "full", "lanes"])
def test_kernels_train_to_the_c_library_bits(name, kind, specialise, impl, monkeypatch):
    """Weight changes every step, summed over each sequence, the full gradient, three nets in one
    lanes call; the generic kernels here, the specialised ones (compiled per architecture, SLP
    on, where LLVM may vectorise the inlined exp) in the slow tier."""
    monkeypatch.setenv("LSTMRUN_SPECIALIZE", specialise)
    old = set_exact_impl(impl)     # "exact" by the port (inlined, or vector code), not the call
    try:
        a = _train("exact", name, 11, kind)
    finally:
        set_exact_impl(old)
    b = _train("libm", name, 11, kind)
    assert np.array_equal(a.view(np.int64), b.view(np.int64))


@pytest.fixture
def impl_restored():
    old = set_exact_impl(None)
    yield
    set_exact_impl(old)


def test_exp_code_follows_the_implementation(impl_restored):
    set_exact_impl("inline")
    assert exp_code("exact") == EXP_EXACT
    set_exact_impl("vector")
    assert exp_code("exact") == EXP_EXACT_VEC
    set_exact_impl("call")
    assert exp_code("exact") == EXP_LIBM
    assert exp_code("fast") == EXP_FAST and exp_code("libm") == EXP_LIBM
    with pytest.raises(ValueError, match="expected vector, inline, call or None"):
        set_exact_impl("fast")


def test_exact_impl_choice(impl_restored, monkeypatch):
    """auto: vector code with AVX-512, else the port inlined; inline and vector always honoured;
    call only where the C library is this algorithm; anything else refused."""
    from llvmlite import binding

    avx512 = bool(binding.get_host_cpu_features().get("avx512f"))
    same = libm_is_gexp()
    assert same == _glibc_fma()
    for env, want in (("inline", "inline"), ("call", "call" if same else "inline"),
                      ("vector", "vector"), ("auto", "vector" if avx512 else "inline"),
                      ("", "vector" if avx512 else "inline")):
        set_exact_impl(None)
        if env:
            monkeypatch.setenv("LSTMRUN_EXACT_EXP", env)
        else:
            monkeypatch.delenv("LSTMRUN_EXACT_EXP", raising=False)
        assert exact_impl() == want, env
    set_exact_impl(None)
    monkeypatch.setenv("LSTMRUN_EXACT_EXP", "libm")
    with pytest.raises(ValueError, match="LSTMRUN_EXACT_EXP"):
        exact_impl()


@pytest.mark.parametrize("name", ["exp1", "2c"])
@pytest.mark.parametrize("kind", ["step", "sequence", "full"])
def test_exact_trains_to_the_same_bits_every_way(name, kind, impl_restored):
    """train.exp: exact by the port inlined value by value and as vector code over blocks of
    units (what exact_impl picks on an AVX-512 CPU), on every platform, and by the C library's
    call where it is glibc's FMA build: the same weights and metrics."""
    set_exact_impl("inline")
    a = _train("exact", name, 5, kind)
    set_exact_impl("vector")
    b = _train("exact", name, 5, kind)
    assert np.array_equal(a.view(np.int64), b.view(np.int64))
    if _glibc_fma():
        set_exact_impl("call")
        c = _train("exact", name, 5, kind)
        assert np.array_equal(a.view(np.int64), c.view(np.int64))


def test_config_switch():
    cfg = load(ROOT / "configs/paper/exp2c_q50_p50.yaml", ["train.exp=libm"])
    assert cfg["train"]["exp"] == "libm"
    with pytest.raises(ConfigError, match="libm is for model.kind lstm97"):
        load(ROOT / "configs/paper/exp2a_rtrl_p10.yaml", ["train.exp=libm"])
