"""The C library's ``exp``, inlined: glibc's algorithm (2.28 and later, the build for CPUs with
fused multiply-add) written out in Numba, so that a kernel computes the same bits without a call.

Why: ``train.exp: exact`` (the configs' default) meant a call of the C library's scalar ``exp``
per logistic; on an AVX2 CPU the 12 calls of a 2c/adding step took 125 of its 216 ns
(``bench/exp_floor.py``, docs/speed.md). A call cannot be inlined, scheduled with its neighbours
or vectorised; this function can, and returns what glibc's ``exp`` returns, bit for bit, on
x86-64 Linux with glibc >= 2.28 and FMA hardware (the ``__exp_fma`` variant that glibc selects
there; ``tests/test_exactexp.py`` compares them on millions of inputs and every special case).
On any other platform the C library's ``exp`` may differ in the last bit from this one, so
results become the same on every platform instead of following its C library.

The algorithm (Szabolcs Nagy's, glibc ``sysdeps/ieee754/dbl-64/e_exp.c``, N = 128):

    k = round(x N / ln 2)                 kd = fma(x, N/ln2, 1.5 * 2**52); ki = bits(kd); kd -= shift
    r = x - k ln2/N                       two fmas with ln2/N split into hi and lo
    exp(x) = 2**(k/N) exp(r)             2**(j/N) = scale (1 + tail), j = k mod N, from a table
           ~ scale + scale (tail + r + r^2 (C2 + r C3) + r^4 (C4 + r C5))

Each multiply-add that the FMA build of glibc fuses is an explicit ``fma`` here (LLVM's
``llvm.fma.f64``, never contracted or reassociated otherwise, since Numba's default is strict
IEEE), in the order of its instructions (read from the disassembly of ``__ieee754_exp_fma``,
glibc 2.36). The table is not copied: ``_table()`` computes 2**(j/128) correctly rounded and its
relative remainder, which equals glibc's ``__exp_data.tab`` in all 256 entries (tested). The
four polynomial coefficients and the ln2/N split are glibc's constants, given in hex.
"""

from __future__ import annotations

import functools
import struct
from decimal import Decimal, localcontext

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

from .fastexp import _bits_to_f64, _f64_to_bits

_N = 128
_INVLN2N = float.fromhex("0x1.71547652b82fep7")         # N / ln 2
_NEGLN2HIN = float.fromhex("-0x1.62e42fefa0000p-8")      # -(ln 2 / N), high part
_NEGLN2LON = float.fromhex("-0x1.cf79abc9e3b3ap-47")     # -(ln 2 / N), low part
_C2 = float.fromhex("0x1.ffffffffffdbdp-2")
_C3 = float.fromhex("0x1.555555555543cp-3")
_C4 = float.fromhex("0x1.55555cf172b91p-5")
_C5 = float.fromhex("0x1.1111167a4d017p-7")
_SHIFT = float.fromhex("0x1.8p52")
_TWO_M1022 = float.fromhex("0x1p-1022")
_TWO_P1009 = float.fromhex("0x1p1009")
_M64 = (1 << 64) - 1


def _bits(d: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", d))[0]


def _signed(u: int) -> int:
    return u - (1 << 64) if u >= 1 << 63 else u


def _table() -> tuple[np.ndarray, np.ndarray]:
    """``tail[j]`` and ``sbits[j]`` for j < 128: 2**(j/128) = asdouble(sbits[j] + (j << 45)) *
    (1 + tail[j]), the double correctly rounded and the remainder relative to it, rounded."""
    tail = np.empty(_N)
    sbits = np.empty(_N, np.int64)
    with localcontext() as ctx:
        ctx.prec = 60
        for j in range(_N):
            exact = Decimal(2) ** (Decimal(j) / Decimal(_N))
            hi = float(exact)                           # float(Decimal) rounds correctly
            tail[j] = float((exact - Decimal(hi)) / Decimal(hi))
            sbits[j] = _signed((_bits(hi) - (j << 45)) & _M64)
    return tail, sbits


_TAIL, _SBITS = _table()


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (LLVM's ``llvm.fma.f64``: one instruction where the CPU has FMA)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        f64 = ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [f64], ir.FunctionType(f64, [f64, f64, f64]))
        return builder.call(fn, args)

    return sig, codegen


@njit(error_model="numpy")
def _specialcase(tmp, sbits, ki):
    """|x| in [512, 1024): scale's exponent may be out of range (glibc's ``specialcase``). A call,
    not inlined: the kernels never reach it in practice, and inlining it into every logistic made
    the generic kernel's compile 8% longer (55 against 51 s, 2-core VM) for nothing."""
    if (ki & 0x80000000) == 0:          # k > 0
        scale = _bits_to_f64(sbits - (1009 << 52))
        return fma(scale, tmp, scale) * _TWO_P1009
    scale = _bits_to_f64(sbits + (1022 << 52))   # k < 0: care in the subnormal range
    st = tmp * scale
    y = scale + st
    if y < 1.0:
        hi = y + 1.0
        lo = (scale - y) + st
        y = ((((1.0 - hi) + y) + lo) + hi) - 1.0
        if y == 0.0:
            y = 0.0
    return y * _TWO_M1022


@njit(inline="always", error_model="numpy")
def gexp(x):
    """exp(x), bit for bit glibc's (module docstring). Inlined by Numba into each caller: left to
    LLVM's own inliner, the engine measured no faster than with the C library's call (adding_t100
    212 against 207 ns a step, ``bench_engine.py``), inlined 1.1x faster (190 against 207)."""
    ix = _f64_to_bits(x)
    abstop = (ix >> 52) & 0x7FF
    special = False
    if abstop - 0x3C9 < 0:              # |x| < 2**-54 (and 0): 1 + x
        return x + 1.0
    if abstop - 0x3C9 >= 0x3F:          # |x| >= 512, inf, NaN
        if abstop >= 0x409:             # |x| >= 1024
            if ix == -0x10000000000000:  # -inf (bits 0xfff0000000000000)
                return 0.0
            if abstop >= 0x7FF:         # +inf, NaN
                return x + 1.0
            return 0.0 if ix < 0 else np.inf
        special = True                  # 512 <= |x| < 1024: the exponent needs care
    tmp, sbits, ki = _reduce(x)
    if special:
        return _specialcase(tmp, sbits, ki)
    scale = _bits_to_f64(sbits)
    return fma(scale, tmp, scale)


@njit(inline="always", error_model="numpy")
def _reduce(x):
    """exp(x) = scale (1 + tmp): the argument reduction, the table and the polynomial (the
    module docstring), without a branch; ``sbits`` is scale's bits, ``ki`` the rounded k."""
    kd = fma(x, _INVLN2N, _SHIFT)
    ki = _f64_to_bits(kd)
    kd = kd - _SHIFT
    r = fma(kd, _NEGLN2HIN, x)
    r = fma(kd, _NEGLN2LON, r)
    j = ki & 0x7F
    top = ki << 45
    p23 = fma(r, _C3, _C2)
    tr = r + _TAIL[j]
    sbits = _SBITS[j] + top
    r2 = r * r
    p45 = fma(r, _C5, _C4)
    t = fma(p23, r2, tr)
    r4 = r2 * r2
    tmp = fma(r4, p45, t)
    return tmp, sbits, ki


@njit(inline="always", error_model="numpy")
def exp_main_ok(x):
    """Whether :func:`gexp` takes its main path for ``x`` (2**-54 <= |x| < 512): then
    :func:`exp_main` returns the same bits."""
    abstop = (_f64_to_bits(x) >> 52) & 0x7FF
    return (abstop >= 0x3C9) & (abstop < 0x408)


@njit(inline="always", error_model="numpy")
def exp_main(x):
    """:func:`gexp`'s main path alone, without a branch (valid where :func:`exp_main_ok`): the same
    operations in the same order, so a loop of it over independent values becomes vector code
    (the table lookups gathers) with :func:`gexp`'s bits (the lanes kernel, ``lanes.py``)."""
    tmp, sbits, _ = _reduce(x)
    scale = _bits_to_f64(sbits)
    return fma(scale, tmp, scale)


# ---- which code computes ``train.exp: exact`` on this machine: the port inlined value by value,
# the port as vector code over a block of units (``kernel_common.logistic_block``), or the C
# library's call where that gives the same bits. Measured (docs/speed.md): on Zen 1 (AVX2) the
# kernels ran 1.1x faster with the port inlined than with the call; on Zen 4 (AVX-512) the
# inlined port value by value made them 1.24-1.34x slower than the call, and the port as vector
# code makes them 1.09-1.11x faster than the call (session 14). So "vector" is taken where the
# CPU has AVX-512 (not measured on an AVX2 CPU, where gathers are slow), "inline" elsewhere.

_IMPL: str | None = None


@njit(cache=True, error_model="numpy")
def _libm_exp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = np.exp(x[i])       # in Numba: a call of the C library's exp


@njit(cache=True, error_model="numpy")
def _gexp_all(x, out):
    for i in range(x.shape[0]):
        out[i] = gexp(x[i])


@functools.cache
def libm_is_gexp() -> bool:
    """The C library's ``exp`` is glibc's FMA build of this algorithm (glibc >= 2.28, x86-64, a
    CPU with FMA and AVX2, where glibc selects ``__exp_fma``), and agrees with :func:`gexp` on a
    spread of inputs checked here (10,000 values over the range the kernels meet, the special
    cases, and the boundaries of the special paths); tests/test_exactexp.py compares millions."""
    import platform

    name, version = platform.libc_ver()
    if name != "glibc" or platform.machine() != "x86_64":
        return False
    try:
        if tuple(int(v) for v in version.split(".")[:2]) < (2, 28):
            return False
    except ValueError:
        return False
    from llvmlite import binding

    feats = binding.get_host_cpu_features()
    if not (feats.get("fma") and feats.get("avx2")):
        return False
    rng = np.random.default_rng(2026)
    x = np.concatenate([rng.uniform(-40.0, 40.0, 8000), rng.uniform(-745.0, 710.0, 2000),
                        [0.0, -0.0, 1e-300, -1e-300, 2.0 ** -54, 511.9, 512.0, -512.0, -700.0,
                         709.7, 709.8, -745.2, -746.0, np.inf, -np.inf]])
    a, b = np.empty_like(x), np.empty_like(x)
    _gexp_all(x, a)
    _libm_exp_all(x, b)
    return bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def exact_impl() -> str:
    """``"vector"``, ``"inline"`` or ``"call"``: how the kernels compute ``train.exp: exact``
    here (the same bits every way). ``LSTMRUN_EXACT_EXP=vector|inline|call|auto`` (default auto:
    vector where the CPU has AVX-512, else inline; ``call`` where the C library is not this
    algorithm falls back to the port inlined, with the same bits as elsewhere)."""
    global _IMPL
    if _IMPL is None:
        import os

        want = os.environ.get("LSTMRUN_EXACT_EXP", "auto").strip().lower()
        if want not in ("auto", "inline", "call", "vector"):
            raise ValueError(f"LSTMRUN_EXACT_EXP: expected vector, inline, call or auto (got "
                             f"{want!r})")
        impl = want
        if want == "auto":
            from llvmlite import binding

            impl = "vector" if binding.get_host_cpu_features().get("avx512f") else "inline"
        elif want == "call" and not libm_is_gexp():
            impl = "inline"
        _IMPL = impl
    return _IMPL


def set_exact_impl(impl: str | None) -> str | None:
    """Make :func:`exact_impl` return ``impl`` ("vector", "inline" or "call"; None: decide again)
    in this process, for kernels set up after this (the bench's peers, tests); returns the
    previous value. "call" is the caller's promise that :func:`libm_is_gexp` holds."""
    global _IMPL
    if impl not in (None, "inline", "call", "vector"):
        raise ValueError(f"expected vector, inline, call or None (got {impl!r})")
    old, _IMPL = _IMPL, impl
    return old
